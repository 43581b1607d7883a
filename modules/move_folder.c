/* move_folder.c: the MoveFolder action: moves a folder, or with a `*`
 * wildcard in the last path element every match (folders and files, like
 * mv src/(star) dest/).  A destination ending with a separator is a folder
 * that receives the source under its own name; otherwise it is the new
 * path.  Missing parent folders are created.  A new target is one
 * rename(2) (atomic); across file systems a copy keeping owners, modes
 * and times is built beside the target, renamed into place, and the
 * source deleted.  An existing target folder fails with `overwrite:
 * false`; otherwise the source is merged into it (entries renamed in,
 * files replacing files, folders merged) and the emptied source removed.
 * Moving a folder into itself is refused. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "fs_copymove.h"
#include "fs_entries.h"
#include "fsglob.h"
#include "fsmove.h"
#include "fspath.h"
#include "fsreplace.h"
#include "module.h"
#include "strbuf.h"

static int move_folder_one(struct fs_job *j, const char *src, const char *destination, bool overwrite,
                           bool wildcard)
{
        _cleanup_free_ char *target = fs_target(src, destination);
        _cleanup_free_ char *what = wildcard ? xasprintf("the source %s", src) : xstrdup("the source");
        _cleanup_free_ char *rsrc = NULL, *rtarget = NULL;
        struct stat st, dst;
        int r;

        if (lstat(src, &st) < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return fs_fail(j, -ENOENT, "%s does not exist", what);
                return fs_fail_errno(j, -errno, "cannot examine %s", what);
        }
        if (S_ISLNK(st.st_mode) && stat(src, &st) < 0)
                st.st_mode = S_IFLNK;
        if (!S_ISDIR(st.st_mode)) {
                if (!wildcard)
                        return fs_fail(j, -ENOTDIR, "the source is not a folder; use MoveFile to move files");
                return fs_move_file_to(j, src, target, overwrite);
        }
        rsrc = fs_resolve(src);
        rtarget = fs_resolve(target);
        if (rsrc && rtarget && fs_path_within(rtarget, rsrc))
                return fs_fail(j, -EINVAL, "cannot move a folder into itself (%s is in %s)", target, src);
        if (lstat(target, &dst) == 0) {
                if (stat(target, &dst) < 0 || !S_ISDIR(dst.st_mode))
                        return fs_fail(j, -ENOTDIR, "the destination %s exists and is not a folder", target);
                if (!overwrite)
                        return fs_fail(j, -EEXIST, "the destination folder %s already exists and overwrite is false",
                                       target);
                return fs_move_merge(j, src, target);
        }
        r = fs_mkdir_parent(j, target);
        if (r < 0)
                return r;
        r = fs_move(j, src, target, false);
        if (r == -EEXIST) {
                fs_clear(j);
                return fs_fail(j, -EEXIST, "the destination folder %s already exists and overwrite is false", target);
        }
        return r;
}

static int move_folder_entry(struct fs_job *j, const json_t *entry, json_t *out)
{
        (void)out;
        return fs_copy_move_entry(j, entry, FS_ANY, move_folder_one);
}

static int move_folder_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        return fs_run_entries(ctx, inputs, "source", move_folder_entry, ret);
}

const struct action_module move_folder_module = {
        .name = "MoveFolder",
        .run = move_folder_run,
};
