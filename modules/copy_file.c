/* copy_file.c: the CopyFile action: copies a file, or with a `*` wildcard
 * in the last path element every matching non-folder (folders are
 * skipped), like cp.  A destination ending with a separator is a folder
 * that receives the source under its own name; otherwise it is the new
 * file's path, except that an existing folder there receives the file as
 * cp does (and with `overwrite: false` is the documented error).  Missing
 * folders are created.  The copy is written beside the target and renamed
 * over it (atomic), keeps the source's permission and sticky bits (not
 * set-id bits, not owner or times), and follows a symbolic link at the
 * source and at the target. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_copymove.h"
#include "fs_entries.h"
#include "fsglob.h"
#include "fspath.h"
#include "module.h"
#include "strbuf.h"

static int copy_one(struct fs_job *j, const char *src, const char *destination, bool overwrite, bool wildcard)
{
        _cleanup_free_ char *target = fs_target(src, destination);
        _cleanup_free_ char *what = wildcard ? xasprintf("the source %s", src) : xstrdup("the source");
        _cleanup_close_ int fd = -1;
        struct stat st, dst;

        fd = open(src, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return fs_fail(j, -ENOENT, "%s does not exist", what);
                return fs_fail_errno(j, -errno, "cannot open %s", what);
        }
        if (fstat(fd, &st) < 0)
                return fs_fail_errno(j, -errno, "cannot examine %s", what);
        if (S_ISDIR(st.st_mode))
                return fs_fail(j, -EISDIR, "%s is a folder; use CopyFolder to copy folders", what);
        if (!S_ISREG(st.st_mode))
                return fs_fail(j, -EINVAL, "%s is not a regular file", what);
        if (!fs_ends_with_sep(destination) && stat(target, &dst) == 0 && S_ISDIR(dst.st_mode)) {
                _cleanup_free_ char *base = fs_basename(src);

                if (!overwrite)
                        return fs_fail(j, -EEXIST, "a folder named %s exists and overwrite is false", target);
                free(target);
                target = fs_join(destination, base);
        }
        return fs_copy_file_to(j, fd, &st, target, overwrite);
}

static int copy_file_entry(struct fs_job *j, const json_t *entry, json_t *out)
{
        (void)out;
        return fs_copy_move_entry(j, entry, FS_NOT_FOLDERS, copy_one);
}

static int copy_file_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        return fs_run_entries(ctx, inputs, "source", copy_file_entry, ret);
}

const struct action_module copy_file_module = {
        .name = "CopyFile",
        .run = copy_file_run,
};
