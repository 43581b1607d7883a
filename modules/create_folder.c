/* create_folder.c: the CreateFolder action: creates a folder and its
 * missing parents (mkdir -p).  A new folder is made under a temporary
 * name beside the target, given its owner, group and mode, and renamed
 * into place, so it never appears half set up.  The mode is
 * `permissions` less the umask; parents get 0777 less the umask.
 *
 * An existing folder keeps its contents (nothing is "truncated"): with
 * `overwrite: false` it is an error, otherwise the owner and group are
 * applied when given, and the mode only when `permissions` is not the
 * default 0777 (so that creating an existing /tmp cannot strip its
 * sticky bit).  A symbolic link to a folder counts as that folder. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_entries.h"
#include "fsperm.h"
#include "fsreplace.h"
#include "module.h"

#define DEFAULT_FOLDER_MODE 0777

static int create_folder_entry(struct fs_job *j, const json_t *entry, json_t *out, char **reterr_msg)
{
        const char *path;
        bool overwrite;
        struct fs_tmp t = FS_TMP_INIT;
        mode_t mode = DEFAULT_FOLDER_MODE;
        uid_t uid;
        gid_t gid;
        bool chown_wanted;
        struct stat st;
        int r;

        if ((r = fs_entry_flag(entry, "overwrite", true, &overwrite, reterr_msg)) < 0 ||
            (r = fs_entry_path(entry, &path, reterr_msg)) < 0 ||
            (r = fs_entry_access(entry, &mode, &uid, &gid, reterr_msg)) < 0)
                return r;
        chown_wanted = uid != (uid_t)-1 || gid != (gid_t)-1;

        if (stat(path, &st) == 0) {
                if (!S_ISDIR(st.st_mode))
                        return fs_fail(reterr_msg, -EEXIST, "a file of that name exists");
                if (!overwrite)
                        return fs_fail(reterr_msg, -EEXIST, "the folder already exists and overwrite is false");
                if (chown_wanted && chown(path, uid, gid) < 0)
                        return fs_fail_errno(reterr_msg, -errno, "cannot set the owner or group");
                if (mode != DEFAULT_FOLDER_MODE && chmod(path, mode & ~fs_umask()) < 0)
                        return fs_fail_errno(reterr_msg, -errno, "cannot set the mode");
                return 0;
        }
        if (errno != ENOENT && errno != ENOTDIR)
                return fs_fail_errno(reterr_msg, -errno, "cannot examine the path");

        r = fs_mkdir_parent(path, reterr_msg);
        if (r < 0)
                return r;
        r = fs_tmp_dir(path, &t, reterr_msg);
        if (r >= 0)
                r = fs_apply_access(t.fd, uid, gid, mode, reterr_msg);
        if (r >= 0) {
                r = fs_tmp_commit(&t, false, path, reterr_msg);
                if (r == -EEXIST && !overwrite) {
                        fs_clear(reterr_msg);
                        r = fs_fail(reterr_msg, -EEXIST, "the folder already exists and overwrite is false");
                } else if (r == -EEXIST) {
                        /* Created by someone else meanwhile: it exists, as asked. */
                        fs_clear(reterr_msg);
                        r = 0;
                }
        }
        fs_tmp_done(&t);
        return r;
}

FS_ENTRIES_ACTION(CreateFolder, create_folder_module, "path", create_folder_entry);
