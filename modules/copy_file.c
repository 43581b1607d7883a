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
#include <sys/stat.h>

#include "fs_copymove.h"
#include "module.h"

static int copy_one(struct fs_job *j, struct fs_source *s, char **reterr_msg)
{
        int r;

        if (S_ISDIR(s->st.st_mode))
                return fs_fail(reterr_msg, -EISDIR, "%s is a folder; use CopyFolder to copy folders", s->what);
        if (!S_ISREG(s->st.st_mode))
                return fs_fail(reterr_msg, -EINVAL, "%s is not a regular file", s->what);
        if ((r = fs_file_into_folder(s, reterr_msg)) < 0)
                return r;
        return fs_copy_file_to(j, s->fd, &s->st, s->target, s->overwrite, reterr_msg);
}

FS_COPY_MOVE_ACTION(CopyFile, copy_file_module, FS_NOT_FOLDERS, FS_OP_COPY, copy_one);
