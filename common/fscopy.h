/* fscopy.h: copying for the file-system actions: file contents
 * (copy_file_range, then sendfile, then read/write), a file through a
 * temporary renamed into place, a folder tree built beside its target or
 * merged into an existing folder, and keeping owners, modes and times. */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fsjob.h"

/* Copies the contents of one file to another, from the current offsets.
 * `size` is the source's size from fstat (0: read until the end).  Asks
 * the job whether to stop between chunks.  Returns 0 or a negative errno,
 * not worded unless j->stopped. */
int fs_copy_data(struct fs_job *j, int in, int out, off_t size, char **reterr_msg);

enum fs_copy_flags {
        FS_COPY_PRESERVE = 1 << 0,   /* owner, group, all mode bits and times (for moves) */
        FS_COPY_REPLACE = 1 << 1,    /* an existing target file is replaced */
};
/* Copies the file open as `srcfd` (whose stat is `st`) to `target`,
 * through a temporary file renamed into place.  Without FS_COPY_REPLACE
 * an existing target fails with -EEXIST. */
int fs_copy_file_fd(struct fs_job *j, int srcfd, const struct stat *st, const char *target, unsigned flags,
                    char **reterr_msg);
/* Copies the folder open as `srcfd` to `target`, which must not exist:
 * built in a temporary folder beside it and renamed into place, so a
 * failure leaves nothing behind. */
int fs_copy_tree_new(struct fs_job *j, int srcfd, const char *src, const char *target, unsigned flags,
                     char **reterr_msg);
/* Copies the contents of the folder open as `srcfd` into the existing
 * folder `target`: files replaced one by one (each atomically), folders
 * merged, a folder/non-folder clash fails. */
int fs_copy_tree_merge(struct fs_job *j, int srcfd, const char *src, const char *target, unsigned flags,
                       char **reterr_msg);
/* The same into the folder open as `dstfd`. */
int fs_copy_tree_into(struct fs_job *j, int srcfd, const char *src, int dstfd, unsigned flags, char **reterr_msg);

/* Gives the entry `name` in `dirfd` (a symbolic link is not followed) the
 * owner, group, mode and times of `st`; `display` names it in messages. */
int fs_preserve_at(int dirfd, const char *name, const struct stat *st, const char *display, char **reterr_msg);
