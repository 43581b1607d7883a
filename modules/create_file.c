/* create_file.c: the CreateFile action: writes a file with an entry's
 * content in its encoding (no byte-order mark), creating missing parent
 * folders.  The file is written under a temporary name beside the target
 * and renamed over it, so readers see the old file or the whole new one
 * and a failure leaves no partial file; `overwrite: false` keeps an
 * existing file (checked again, race-free, at the rename).  The mode is
 * `permissions` less the umask; owner and group are set when given (by
 * name or numeric id).  A symbolic link at the path is written through to
 * the file it points to. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "fs_entries.h"
#include "fspath.h"
#include "fsreplace.h"
#include "module.h"

static int create_file_entry(struct fs_job *j, const json_t *entry, json_t *out, char **reterr_msg)
{
        const char *path, *encoding, *enc, *target;
        bool overwrite;
        _cleanup_free_ char *data = NULL, *real = NULL;
        struct fs_tmp t = FS_TMP_INIT;
        uid_t uid;
        gid_t gid;
        mode_t mode = 0666;
        struct stat st;
        size_t len = 0;
        int r;

        if ((r = fs_entry_flag(entry, "overwrite", true, &overwrite, reterr_msg)) < 0 ||
            (r = fs_entry_path(entry, &path, reterr_msg)) < 0)
                return r;
        if (fs_ends_with_sep(path))
                return fs_fail(reterr_msg, -EISDIR, "the path ends with a separator, so it names a folder, not a file");
        if ((r = fs_entry_encoding(entry, &encoding, &enc, reterr_msg)) < 0 ||
            (r = fs_entry_access(entry, &mode, &uid, &gid, reterr_msg)) < 0)
                return r;

        target = path;
        if (lstat(path, &st) == 0) {
                if (S_ISLNK(st.st_mode)) {
                        real = realpath(path, NULL);
                        if (real && stat(real, &st) == 0)
                                target = real;
                }
                if (S_ISDIR(st.st_mode))
                        return fs_fail(reterr_msg, -EISDIR, "a folder of that name exists");
                if (!overwrite)
                        return fs_fail(reterr_msg, -EEXIST, "the file already exists and overwrite is false");
        }
        r = fs_mkdir_parent(target, reterr_msg);
        if (r < 0)
                return r;
        r = fs_entry_content(entry, enc, &data, &len, reterr_msg);
        if (r < 0)
                return r;

        r = fs_tmp_file(target, &t, reterr_msg);
        if (r >= 0 && (r = write_all(t.fd, data, len)) < 0)
                fs_fail_errno(reterr_msg, r, "cannot write the file");
        if (r >= 0)
                r = fs_apply_access(t.fd, uid, gid, mode, reterr_msg);
        return fs_tmp_finish(&t, r, overwrite, target, "the file already exists and overwrite is false", reterr_msg);
}

FS_ENTRIES_ACTION(CreateFile, create_file_module, "path", create_file_entry);
