/* fsjob.h: one file-system operation in progress, as the fs*.h helpers
 * see it: the question asked between units of work (a file, a chunk of
 * a copy) whether to stop, and the wording of a failure for the person
 * who wrote the document ("cannot open the folder /x: permission
 * denied").  Who asks that question (the step's deadline, an interrupt)
 * is the caller's business: modules/fs_entries.c answers it for the
 * file-system actions.
 *
 * Failures travel on the one error channel (errmsg.h): every fs*.h
 * function that can fail returns >= 0 on success, or a negative errno
 * with its message in *reterr_msg (allocated; the caller frees it).  In
 * this family the first message set wins: a stop reason or a deeper
 * failure says more than the words of the caller that passes it on. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct fs_job {
        bool stopped;           /* the operation was told to stop */
        bool timed_out;         /* ... because its time was up (set by `stop`) */
        unsigned ticks;         /* units of work since `stop` was last asked */
        /* Asked every few units of work: 0 to go on, or a negative errno
         * with the reason in *reterr_msg (fs_fail).  NULL: never stop. */
        int (*stop)(struct fs_job *j, char **reterr_msg);
        const void *userdata;   /* the caller's, for `stop` */
};

/* Sets *reterr_msg (when reterr_msg is not NULL and no message is there
 * yet) and returns `r` (a negative errno; -EIO when `r` is not
 * negative).  errno is left as it was. */
int fs_fail(char **reterr_msg, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same with ": <reason for r>" appended ("permission denied"). */
int fs_fail_errno(char **reterr_msg, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Forgets the message set (to word it again). */
void fs_clear(char **reterr_msg);
/* When r is `which`, words the failure again (fs_clear, then fs_fail
 * with `which`); returns r either way.  For the caller's own words on a
 * failure below ("the file already exists and overwrite is false"). */
int fs_reword(char **reterr_msg, int r, int which, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Asks j->stop every few calls; returns its answer (after which
 * j->stopped is true). */
int fs_tick(struct fs_job *j, char **reterr_msg);
/* Asks j->stop now (after a large unit of work). */
int fs_tick_now(struct fs_job *j, char **reterr_msg);
