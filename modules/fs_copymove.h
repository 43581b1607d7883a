/* fs_copymove.h: the rules CopyFile, CopyFolder, MoveFile and MoveFolder
 * share: an entry's source, destination and overwrite; `*` wildcards in
 * the source; where a source goes and what messages call it; and copying
 * or moving one file to its target with the documented checks and
 * messages.  Each module keeps only its own rules (its `one`). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "fs_entries.h"
#include "fsglob.h"
#include "fsjob.h"

/* One source of a copy or move entry, looked at before the action's own
 * rules run. */
struct fs_source {
        const char *path;          /* the source, as given or matched */
        const char *destination;   /* the entry's */
        bool overwrite;
        bool wildcard;             /* the entry's source had a `*` */
        char *target;              /* where it goes: `destination` joined with the
                                    * source's name when it ends with a separator,
                                    * else `destination` itself */
        char *what;                /* "the source", with a wildcard "the source <path>" */
        int fd;                    /* a copy's source, open (links followed); -1 for a move */
        struct stat st;            /* its fstat(); for a move, its lstat() */
};

enum fs_op {
        FS_OP_COPY,
        FS_OP_MOVE,
};

/* One entry of CopyFile, CopyFolder, MoveFile or MoveFolder: reads
 * source, destination and overwrite, expands the sources (the sorted
 * matches of a `*` wildcard, of `kind`, which needs a destination ending
 * with a separator; none is an error), and calls `one` for each in order
 * until one fails.  A source that does not exist is "<what> does not
 * exist". */
typedef int (*fs_one_fn)(struct fs_job *j, struct fs_source *s, char **reterr_msg);
int fs_copy_move_entry(struct fs_job *j, const json_t *entry, enum fs_kind kind, enum fs_op op, fs_one_fn one,
                       char **reterr_msg);

/* Defines `const struct action_module sym` for CopyFile, CopyFolder,
 * MoveFile or MoveFolder (`Action`): fs_copy_move_entry() with `kind`,
 * `op` and `one` for each entry. */
#define FS_COPY_MOVE_ACTION(Action, sym, kind, op, one)                                \
        static int sym##_entry(struct fs_job *j, const json_t *entry, json_t *out,              \
                               char **reterr_msg)                                               \
        {                                                                                       \
                (void)out;                                                                      \
                return fs_copy_move_entry(j, entry, kind, op, one, reterr_msg);                 \
        }                                                                                       \
        FS_ENTRIES_ACTION(Action, sym, "source", sym##_entry)

/* CopyFile and MoveFile: an existing folder at a destination that does
 * not end with a separator receives the file under its own name, as cp
 * and mv do (s->target changes); with overwrite false that is an error. */
int fs_file_into_folder(struct fs_source *s, char **reterr_msg);
/* CopyFolder and MoveFolder: "cannot <verb> a folder into itself". */
int fs_not_into_itself(const char *src, const char *target, const char *verb, char **reterr_msg);
/* CopyFolder and MoveFolder: 1 when the target is an existing folder to
 * merge into, 0 when there is nothing there (with `links_count`, a link
 * leading nowhere is something); fails when it is not a folder, or when
 * overwrite is false. */
int fs_folder_target(const char *target, bool overwrite, bool links_count, char **reterr_msg);
/* Copies the regular file open as `srcfd` (stat `st`) to the
 * file `target`: an existing folder there fails, a link there is written
 * through, the same file fails, an existing file fails unless
 * `overwrite`; missing folders are created. */
int fs_copy_file_to(struct fs_job *j, int srcfd, const struct stat *st, const char *target, bool overwrite,
                    char **reterr_msg);
/* Moves the non-folder `src` to `target` with the same checks. */
int fs_move_file_to(struct fs_job *j, const char *src, const char *target, bool overwrite, char **reterr_msg);
