/* fs_copymove.h: the rules CopyFile, CopyFolder, MoveFile and MoveFolder
 * share: an entry's source, destination and overwrite; `*` wildcards in
 * the source; where a source goes; and copying or moving one file to its
 * target with the documented checks and messages. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "fs_entries.h"
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
/* Defines `static int name(ctx, inputs, ret)`, the run() of CopyFile,
 * CopyFolder, MoveFile or MoveFolder: fs_copy_move_entry() with `kind`
 * and `one` for each entry. */
#define FS_COPY_MOVE_RUN(name, kind, one)                                                 \
        static int name##_entry(struct fs_job *j, const json_t *entry, json_t *out)       \
        {                                                                                 \
                (void)out;                                                                \
                return fs_copy_move_entry(j, entry, kind, one);                           \
        }                                                                                 \
        FS_ENTRIES_RUN(name, "source", name##_entry)

/* What a source is called in messages: "the source", or with a wildcard
 * "the source <src>" (allocated). */
char *fs_source_name(const char *src, bool wildcard);
/* Opens the source of a copy (links followed); *ret_st is its stat.
 * Returns the descriptor, or fails: "<what> does not exist". */
int fs_open_source(struct fs_job *j, const char *src, const char *what, struct stat *ret_st);
/* lstat()s the source of a move: "<what> does not exist". */
int fs_stat_source(struct fs_job *j, const char *src, const char *what, struct stat *ret_st);
/* CopyFile and MoveFile: an existing folder at a destination that does
 * not end with a separator receives the file under its own name, as cp
 * and mv do (*target changes); with overwrite false that is an error. */
int fs_file_into_folder(struct fs_job *j, const char *src, const char *destination, bool overwrite, char **target);
/* CopyFolder and MoveFolder: "cannot <verb> a folder into itself". */
int fs_not_into_itself(struct fs_job *j, const char *src, const char *target, const char *verb);
/* CopyFolder and MoveFolder: 1 when the target is an existing folder to
 * merge into, 0 when there is nothing there (with `links_count`, a link
 * leading nowhere is something); fails when it is not a folder, or when
 * overwrite is false. */
int fs_folder_target(struct fs_job *j, const char *target, bool overwrite, bool links_count);

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
