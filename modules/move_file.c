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
#include <sys/stat.h>

#include "fs_copymove.h"
#include "module.h"

static int move_one(struct fs_job *j, struct fs_source *s, char **reterr_msg)
{
        int r;

        if (S_ISDIR(s->st.st_mode))
                return fs_fail(reterr_msg, -EISDIR, "%s is a folder; use MoveFolder to move folders", s->what);
        if ((r = fs_file_into_folder(s, reterr_msg)) < 0)
                return r;
        return fs_move_file_to(j, s->path, s->target, s->overwrite, reterr_msg);
}

FS_COPY_MOVE_ACTION(MoveFile, move_file_module, FS_NOT_FOLDERS, FS_OP_MOVE, move_one);
