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
#include "fsmove.h"
#include "fsreplace.h"
#include "module.h"

static int move_folder_one(struct fs_job *j, const char *src, const char *destination, bool overwrite,
                           bool wildcard)
{
        _cleanup_free_ char *target = fs_target(src, destination);
        _cleanup_free_ char *what = fs_source_name(src, wildcard);
        struct stat st;
        int r;

        if ((r = fs_stat_source(j, src, what, &st)) < 0)
                return r;
        if (S_ISLNK(st.st_mode) && stat(src, &st) < 0)
                st.st_mode = S_IFLNK;
        if (!S_ISDIR(st.st_mode)) {
                if (!wildcard)
                        return fs_fail(j, -ENOTDIR, "the source is not a folder; use MoveFile to move files");
                return fs_move_file_to(j, src, target, overwrite);
        }
        if ((r = fs_not_into_itself(j, src, target, "move")) < 0 ||
            (r = fs_folder_target(j, target, overwrite, true)) < 0)
                return r;
        if (r > 0)
                return fs_move_merge(j, src, target);
        if ((r = fs_mkdir_parent(j, target)) < 0)
                return r;
        return fs_reword(j, fs_move(j, src, target, false), -EEXIST,
                         "the destination folder %s already exists and overwrite is false", target);
}

FS_COPY_MOVE_RUN(move_folder_run, FS_ANY, move_folder_one)

const struct action_module move_folder_module = {
        .name = "MoveFolder",
        .run = move_folder_run,
};
