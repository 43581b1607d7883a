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
#include "fsencoding.h"
#include "fspath.h"
#include "fsperm.h"
#include "fsreplace.h"
#include "module.h"

static int create_file_entry(struct fs_job *j, const json_t *entry, json_t *out)
{
        const char *path = fs_entry_str(entry, "path");
        const char *encoding = fs_entry_str(entry, "encoding");
        const char *owner = fs_entry_str(entry, "owner");
        const char *group = fs_entry_str(entry, "group");
        const char *permissions = fs_entry_str(entry, "permissions");
        const json_t *content = json_object_get(entry, "content");
        bool overwrite;
        const char *enc = fs_encoding(encoding);
        _cleanup_free_ char *data = NULL, *real = NULL;
        struct fs_tmp t = FS_TMP_INIT;
        const char *target = path;
        uid_t uid = (uid_t)-1;
        gid_t gid = (gid_t)-1, owner_gid;
        mode_t mode = 0666;
        struct stat st;
        size_t len = 0;
        int r;

        if ((r = fs_entry_flag(j, entry, "overwrite", true, &overwrite)) < 0)
                return r;
        if (!*path)
                return fs_fail(j, -EINVAL, "path is empty");
        if (fs_ends_with_sep(path))
                return fs_fail(j, -EISDIR, "the path ends with a separator, so it names a folder, not a file");
        if (!enc)
                return fs_fail(j, -EINVAL, "unknown encoding '%s'", encoding);
        if (*permissions && (r = fs_parse_mode(j, permissions, &mode)) < 0)
                return r;
        if (*owner && (r = fs_lookup_user(j, owner, &uid, &owner_gid)) < 0)
                return r;
        if (*group && (r = fs_lookup_group(j, group, &gid)) < 0)
                return r;

        if (lstat(path, &st) == 0) {
                if (S_ISLNK(st.st_mode)) {
                        real = realpath(path, NULL);
                        if (real && stat(real, &st) == 0)
                                target = real;
                }
                if (S_ISDIR(st.st_mode))
                        return fs_fail(j, -EISDIR, "a folder of that name exists");
                if (!overwrite)
                        return fs_fail(j, -EEXIST, "the file already exists and overwrite is false");
        }
        r = fs_mkdir_parent(j, target);
        if (r < 0)
                return r;
        r = fs_encode(j, enc, json_string_value(content) ? json_string_value(content) : "",
                      json_string_length(content), &data, &len);
        if (r < 0)
                return r;

        r = fs_tmp_file(j, target, &t);
        if (r >= 0 && (r = write_all(t.fd, data, len)) < 0)
                fs_fail_errno(j, r, "cannot write the file");
        /* chown before chmod: chown clears the set-id bits. */
        if (r >= 0 && (uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(t.fd, uid, gid) < 0)
                r = fs_fail_errno(j, -errno, "cannot set the owner or group");
        if (r >= 0 && fchmod(t.fd, mode & ~fs_umask()) < 0)
                r = fs_fail_errno(j, -errno, "cannot set the mode");
        if (r >= 0) {
                r = fs_tmp_commit(j, &t, overwrite, target);
                if (r == -EEXIST) {
                        fs_clear(j);
                        r = fs_fail(j, -EEXIST, "the file already exists and overwrite is false");
                }
        }
        fs_tmp_done(&t);
        return r;
}

static int create_file_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        return fs_run_entries(ctx, inputs, "path", create_file_entry, ret);
}

const struct action_module create_file_module = {
        .name = "CreateFile",
        .run = create_file_run,
};
