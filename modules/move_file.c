/* move_file.c: the MoveFile action: moves a file, or with a `*` wildcard
 * in the last path element every matching non-folder (folders are
 * skipped), like mv.  Destinations follow CopyFile's rules: a separator
 * at the end names a folder that receives the file under its own name,
 * an existing folder at a destination without one receives it as mv does
 * (an error with `overwrite: false`), missing folders are created.  A
 * symbolic link is moved itself.  rename(2) where it can (atomic); across
 * file systems a copy keeping owner, mode and times, renamed into place,
 * then the source deleted. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "fs_copymove.h"
#include "fs_entries.h"
#include "fsglob.h"
#include "fspath.h"
#include "module.h"
#include "strbuf.h"

static int move_one(struct fs_job *j, const char *src, const char *destination, bool overwrite, bool wildcard)
{
        _cleanup_free_ char *target = fs_target(src, destination);
        _cleanup_free_ char *what = wildcard ? xasprintf("the source %s", src) : xstrdup("the source");
        struct stat st, dst;

        if (lstat(src, &st) < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return fs_fail(j, -ENOENT, "%s does not exist", what);
                return fs_fail_errno(j, -errno, "cannot examine %s", what);
        }
        if (S_ISDIR(st.st_mode))
                return fs_fail(j, -EISDIR, "%s is a folder; use MoveFolder to move folders", what);
        if (!fs_ends_with_sep(destination) && stat(target, &dst) == 0 && S_ISDIR(dst.st_mode)) {
                _cleanup_free_ char *base = fs_basename(src);

                if (!overwrite)
                        return fs_fail(j, -EEXIST, "a folder named %s exists and overwrite is false", target);
                free(target);
                target = fs_join(destination, base);
        }
        return fs_move_file_to(j, src, target, overwrite);
}

static int move_file_entry(struct fs_job *j, const json_t *entry, json_t *out)
{
        (void)out;
        return fs_copy_move_entry(j, entry, FS_NOT_FOLDERS, move_one);
}

static int move_file_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        return fs_run_entries(ctx, inputs, "source", move_file_entry, ret);
}

const struct action_module move_file_module = {
        .name = "MoveFile",
        .run = move_file_run,
};
