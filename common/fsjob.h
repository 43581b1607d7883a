/* fsjob.h: one file-system operation in progress, as the fs*.h helpers
 * see it: the first failure, worded for the person who wrote the
 * document ("cannot open the folder /x: permission denied"), and the
 * question asked between units of work (a file, a chunk of a copy)
 * whether to stop.  Who asks that question (the step's deadline, an
 * interrupt) is the caller's business: modules/fs_entries.c answers it
 * for the file-system actions.
 *
 * Conventions for every fs*.h function that takes a `struct fs_job`:
 * >= 0 on success, a negative errno on failure with job->err set. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct fs_job {
        char *err;              /* why the operation failed; NULL while it has not */
        bool stopped;           /* err says the operation was told to stop */
        bool timed_out;         /* ... because its time was up (set by `stop`) */
        unsigned ticks;         /* units of work since `stop` was last asked */
        /* Asked every few units of work: 0 to go on, or a negative errno
         * with the reason recorded (fs_fail).  NULL: never stop. */
        int (*stop)(struct fs_job *j);
        const void *userdata;   /* the caller's, for `stop` */
};

/* Records why the operation failed and returns `r` (a negative errno;
 * -EIO when `r` is not negative).  The first failure recorded wins. */
int fs_fail(struct fs_job *j, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same with ": <reason for r>" appended ("permission denied"). */
int fs_fail_errno(struct fs_job *j, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Forgets the recorded failure (to word it again). */
void fs_clear(struct fs_job *j);
/* When r is `which`, words the failure again (fs_clear, then fs_fail
 * with `which`); returns r either way.  For the caller's own words on a
 * failure below ("the file already exists and overwrite is false"). */
int fs_reword(struct fs_job *j, int r, int which, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The lowercase text of an errno value, as Go words it ("no such file or
 * directory"). */
const char *fs_strerror(int r, char *buf, size_t n);
/* Asks j->stop every few calls; returns its answer (after which
 * j->stopped is true). */
int fs_tick(struct fs_job *j);
/* Asks j->stop now (after a large unit of work). */
int fs_tick_now(struct fs_job *j);
