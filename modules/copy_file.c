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
#include "module.h"

static int copy_one(struct fs_job *j, const char *src, const char *destination, bool overwrite, bool wildcard)
{
        _cleanup_free_ char *target = fs_target(src, destination);
        _cleanup_free_ char *what = fs_source_name(src, wildcard);
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        fd = fs_open_source(j, src, what, &st);
        if (fd < 0)
                return fd;
        if (S_ISDIR(st.st_mode))
                return fs_fail(j, -EISDIR, "%s is a folder; use CopyFolder to copy folders", what);
        if (!S_ISREG(st.st_mode))
                return fs_fail(j, -EINVAL, "%s is not a regular file", what);
        if ((r = fs_file_into_folder(j, src, destination, overwrite, &target)) < 0)
                return r;
        return fs_copy_file_to(j, fd, &st, target, overwrite);
}

FS_COPY_MOVE_RUN(copy_file_run, FS_NOT_FOLDERS, copy_one)

const struct action_module copy_file_module = {
        .name = "CopyFile",
        .run = copy_file_run,
};
