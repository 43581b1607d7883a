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
#include <sys/stat.h>

#include "fs_copymove.h"
#include "fscopy.h"
#include "fsreplace.h"
#include "module.h"

static int copy_folder_one(struct fs_job *j, struct fs_source *s, char **reterr_msg)
{
        int r;

        if (!S_ISDIR(s->st.st_mode)) {
                if (!s->wildcard)
                        return fs_fail(reterr_msg, -ENOTDIR, "the source is not a folder; use CopyFile to copy files");
                if (!S_ISREG(s->st.st_mode))
                        return fs_fail(reterr_msg, -EINVAL, "%s is not a regular file", s->what);
                return fs_copy_file_to(j, s->fd, &s->st, s->target, s->overwrite, reterr_msg);
        }
        if ((r = fs_not_into_itself(s->path, s->target, "copy", reterr_msg)) < 0 ||
            (r = fs_folder_target(s->target, s->overwrite, false, reterr_msg)) < 0)
                return r;
        if (r > 0)
                return fs_copy_tree_merge(j, s->fd, s->path, s->target, FS_COPY_REPLACE, reterr_msg);
        if ((r = fs_mkdir_parent(s->target, reterr_msg)) < 0)
                return r;
        return fs_reword(reterr_msg, fs_copy_tree_new(j, s->fd, s->path, s->target, 0, reterr_msg), -EEXIST,
                         "the destination folder %s already exists and overwrite is false", s->target);
}

FS_COPY_MOVE_ACTION(CopyFolder, copy_folder_module, FS_ANY, FS_OP_COPY, copy_folder_one);
