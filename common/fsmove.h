/* fsmove.h: moving for the file-system actions: rename(2) where it can,
 * across file systems a copy that keeps owners, modes and times followed
 * by deleting the source, and merging a folder into an existing one. */
#pragma once

#include <stdbool.h>

#include "fsjob.h"

/* Moves `src` (anything; links are moved, not followed) to `target`.
 * With !replace an existing target fails with -EEXIST. */
int fs_move(struct fs_job *j, const char *src, const char *target, bool replace, char **reterr_msg);
/* Moves the contents of folder `src` into the existing folder `target`,
 * merging folders and replacing files, then removes `src`. */
int fs_move_merge(struct fs_job *j, const char *src, const char *target, char **reterr_msg);
