/* copy_folder.c: the CopyFolder action: copies a folder and everything in
 * it (like cp -r), or with a `*` wildcard in the last path element every
 * match (folders as trees, files as files, like cp -r src/(star) dest/).  A
 * destination ending with a separator is a folder that receives the
 * source under its own name; otherwise it is the copy's path.  Missing
 * parent folders are created.
 *
 * A new copy is built in a temporary folder beside its target and renamed
 * into place, so a failure leaves nothing behind.  An existing target
 * folder fails with `overwrite: false`; otherwise the source is merged
 * into it: files replaced one by one (each atomically), other files kept.
 * Copies keep permission and sticky bits, not owners or times; symbolic
 * links inside are copied as links, never followed (the source folder
 * itself may be a link to a folder).  Copying a folder into itself is
 * refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_copymove.h"
#include "fs_entries.h"
#include "fscopy.h"
#include "fsglob.h"
#include "fspath.h"
#include "fsreplace.h"
#include "module.h"
#include "strbuf.h"

static int copy_folder_one(struct fs_job *j, const char *src, const char *destination, bool overwrite,
                           bool wildcard)
{
        _cleanup_free_ char *target = fs_target(src, destination);
        _cleanup_free_ char *what = wildcard ? xasprintf("the source %s", src) : xstrdup("the source");
        _cleanup_free_ char *rsrc = NULL, *rtarget = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st, dst;
        int r;

        fd = open(src, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return fs_fail(j, -ENOENT, "%s does not exist", what);
                return fs_fail_errno(j, -errno, "cannot open %s", what);
        }
        if (fstat(fd, &st) < 0)
                return fs_fail_errno(j, -errno, "cannot examine %s", what);
        if (!S_ISDIR(st.st_mode)) {
                if (!wildcard)
                        return fs_fail(j, -ENOTDIR, "the source is not a folder; use CopyFile to copy files");
                if (!S_ISREG(st.st_mode))
                        return fs_fail(j, -EINVAL, "%s is not a regular file", what);
                return fs_copy_file_to(j, fd, &st, target, overwrite);
        }
        rsrc = fs_resolve(src);
        rtarget = fs_resolve(target);
        if (rsrc && rtarget && fs_path_within(rtarget, rsrc))
                return fs_fail(j, -EINVAL, "cannot copy a folder into itself (%s is in %s)", target, src);
        if (stat(target, &dst) == 0) {
                if (!S_ISDIR(dst.st_mode))
                        return fs_fail(j, -ENOTDIR, "the destination %s exists and is not a folder", target);
                if (!overwrite)
                        return fs_fail(j, -EEXIST, "the destination folder %s already exists and overwrite is false",
                                       target);
                return fs_copy_tree_merge(j, fd, src, target, FS_COPY_REPLACE);
        }
        r = fs_mkdir_parent(j, target);
        if (r < 0)
                return r;
        r = fs_copy_tree_new(j, fd, src, target, 0);
        if (r == -EEXIST) {
                fs_clear(j);
                return fs_fail(j, -EEXIST, "the destination folder %s already exists and overwrite is false", target);
        }
        return r;
}

static int copy_folder_entry(struct fs_job *j, const json_t *entry, json_t *out)
{
        (void)out;
        return fs_copy_move_entry(j, entry, FS_ANY, copy_folder_one);
}

static int copy_folder_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        return fs_run_entries(ctx, inputs, "source", copy_folder_entry, ret);
}

const struct action_module copy_folder_module = {
        .name = "CopyFolder",
        .run = copy_folder_run,
};
