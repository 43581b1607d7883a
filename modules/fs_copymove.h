/* fs_copymove.h: the rules CopyFile, CopyFolder, MoveFile and MoveFolder
 * share: an entry's source, destination and overwrite; `*` wildcards in
 * the source; where a source goes; and copying or moving one file to its
 * target with the documented checks and messages. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "fsglob.h"
#include "fsjob.h"

/* The sources of a copy or move entry: the sorted matches of a `*`
 * wildcard in `source` (of `kind`; none is an error), which needs a
 * `destination` ending with a separator, or `source` itself.  *ret is
 * NULL-terminated; *ret_wildcard says which. */
int fs_sources(struct fs_job *j, const char *source, const char *destination, enum fs_kind kind, char ***ret,
               size_t *ret_n, bool *ret_wildcard);

/* One entry of CopyFile, CopyFolder, MoveFile or MoveFolder: reads
 * source, destination and overwrite, expands the sources (of `kind`), and
 * calls `one` for each in order until one fails. */
typedef int (*fs_one_fn)(struct fs_job *j, const char *src, const char *destination, bool overwrite,
                         bool wildcard);
int fs_copy_move_entry(struct fs_job *j, const json_t *entry, enum fs_kind kind, fs_one_fn one);
/* Where `src` goes: `destination` joined with the source's name when it
 * ends with a separator, else `destination` itself. */
char *fs_target(const char *src, const char *destination);
/* Copies the regular file open as `srcfd` (stat `st`) to the
 * file `target`: an existing folder there fails, a link there is written
 * through, the same file fails, an existing file fails unless
 * `overwrite`; missing folders are created. */
int fs_copy_file_to(struct fs_job *j, int srcfd, const struct stat *st, const char *target, bool overwrite);
/* Moves the non-folder `src` to `target` with the same checks. */
int fs_move_file_to(struct fs_job *j, const char *src, const char *target, bool overwrite);
