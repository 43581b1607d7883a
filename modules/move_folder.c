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
#include <sys/stat.h>

#include "fs_copymove.h"
#include "fsmove.h"
#include "fsreplace.h"
#include "module.h"

static int move_folder_one(struct fs_job *j, struct fs_source *s, char **reterr_msg)
{
        int r;

        if (S_ISLNK(s->st.st_mode) && stat(s->path, &s->st) < 0)
                s->st.st_mode = S_IFLNK;
        if (!S_ISDIR(s->st.st_mode)) {
                if (!s->wildcard)
                        return fs_fail(reterr_msg, -ENOTDIR, "the source is not a folder; use MoveFile to move files");
                return fs_move_file_to(j, s->path, s->target, s->overwrite, reterr_msg);
        }
        if ((r = fs_not_into_itself(s->path, s->target, "move", reterr_msg)) < 0 ||
            (r = fs_folder_target(s->target, s->overwrite, true, reterr_msg)) < 0)
                return r;
        if (r > 0)
                return fs_move_merge(j, s->path, s->target, reterr_msg);
        if ((r = fs_mkdir_parent(s->target, reterr_msg)) < 0)
                return r;
        return fs_reword(reterr_msg, fs_move(j, s->path, s->target, false, reterr_msg), -EEXIST,
                         "the destination folder %s already exists and overwrite is false", s->target);
}

FS_COPY_MOVE_ACTION(MoveFolder, move_folder_module, FS_ANY, FS_OP_MOVE, move_folder_one);
