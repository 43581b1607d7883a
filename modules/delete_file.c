/* delete_file.c: the DeleteFile action: deletes a file, or with a `*`
 * wildcard in the last path element every matching non-folder in that
 * folder.  A symbolic link is deleted itself, never its target.  Deleting
 * is idempotent: a missing file (or no match) is not an error, as with
 * `rm -f`, since steps run again after a reboot.  A folder is an error
 * (that is DeleteFolder's job); folders matched by a wildcard are left
 * alone. */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_entries.h"
#include "fsglob.h"
#include "module.h"
#include "strv.h"

static int delete_one(const char *path, char **reterr_msg)
{
        if (unlink(path) == 0 || errno == ENOENT)
                return 0;
        return fs_fail_errno(reterr_msg, -errno, "cannot delete %s", path);
}

static int delete_file_entry(struct fs_job *j, const json_t *entry, json_t *out, char **reterr_msg)
{
        const char *path;
        struct stat st;
        char **matches;
        size_t n;
        int r;

        if ((r = fs_entry_path(entry, &path, reterr_msg)) < 0 || (r = fs_check_wildcard(path, reterr_msg)) < 0)
                return r;
        if (fs_has_wildcard(path)) {
                r = fs_glob(path, FS_NOT_FOLDERS, &matches, &n, reterr_msg);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n && r >= 0; i++)
                        r = delete_one(matches[i], reterr_msg);
                strv_free(matches);
                return r;
        }
        if (lstat(path, &st) < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return 0;
                return fs_fail_errno(reterr_msg, -errno, "cannot examine the file");
        }
        if (S_ISDIR(st.st_mode))
                return fs_fail(reterr_msg, -EISDIR, "the path is a folder; use DeleteFolder to delete folders");
        return delete_one(path, reterr_msg);
}

FS_ENTRIES_ACTION(DeleteFile, delete_file_module, "path", delete_file_entry);
