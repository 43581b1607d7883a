/* s3_entries.h: the entry loop S3Download and S3Upload share, a job on
 * the runner's event loop: checking every entry before any runs, one S3
 * client for the step (made for the first entry), the inputs every S3
 * entry has (source, destination, expectedBucketOwner, the S3 URI), the
 * step deadline handed to it, retry notices named after the entry
 * running, cancelling the entry's S3 job when the runner stops the step,
 * and the result (one empty output object per entry done; the first
 * failure ends the step). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "module.h"
#include "s3.h"

/* One entry of S3Download or S3Upload, checked. */
struct s3_entry {
        size_t no;                      /* 1-based, as messages count */
        const char *source;
        const char *dest;
        struct s3_uri uri;              /* the source (S3Download) or the destination (S3Upload) */
        char *owner;                    /* expectedBucketOwner, normalised, or NULL */
        bool overwrite;                 /* S3Download's, default true */
        bool recurse;                   /* S3Upload's, default false */
};

/* The entry in flight, as the driver hands it to the module. */
struct s3_entry_run {
        const struct action_ctx *ctx;
        struct s3 *client;
        sd_event *ev;                   /* the runner's loop */
        const struct s3_entry *e;
        struct s3_job *job;             /* the module's S3 job in flight, or NULL: cancelled by the driver */
        void *state;                    /* the module's, freed by its clear() */
        struct action_job *owner;
};

struct s3_entries {
        const char *action;             /* "S3Download", as messages name it */
        /* true: the source is the S3 URI (a prefix with '*' allowed) and
         * the entry has overwrite; false: the destination is, and the
         * entry has recurse. */
        bool download;
        /* Further checks of a parsed entry, or NULL: -EINVAL with a
         * message. */
        int (*check)(const struct s3_entry *e, char **reterr_msg);
        /* Starts the entry of run: 0, and it ends with s3_entry_end()
         * (which may be called from here), or -errno with a message: the
         * entry failed before it began. */
        int (*start)(struct s3_entry_run *run, char **reterr_msg);
        /* Frees run->state once the entry ended. */
        void (*clear)(struct s3_entry_run *run);
};

/* The end of the entry in flight: r = 0 (done), or -errno with its
 * message (taken): -ETIMEDOUT (or -ECANCELED at the step's deadline)
 * times the step out, anything else fails it. */
void s3_entry_end(struct s3_entry_run *run, int r, char *msg);

/* What a module says for an S3 job's failure r with message err: the
 * reason the runner stopped the step for -ECANCELED, else err. */
const char *s3_entry_why(const struct s3_entry_run *run, int r, const char *err);

/* The start() and cancel() of an S3 module with `ops`. */
int s3_entries_start(const struct s3_entries *ops, const struct action_ctx *ctx, const json_t *inputs,
                     action_done_fn done, void *done_userdata, struct action_job **ret_job);
void s3_entries_cancel(struct action_job *job, enum action_cancel_reason why);

/* Defines `const struct action_module sym`, the S3 action `Action`, a
 * start/cancel job of s3_entries.c with `ops`. */
#define S3_ENTRIES_ACTION(Action, sym, ops)                                                               \
        static int sym##_start(const struct action_ctx *ctx, const json_t *inputs, action_done_fn done,   \
                               void *done_userdata, struct action_job **ret_job)                          \
        {                                                                                                 \
                return s3_entries_start(&(ops), ctx, inputs, done, done_userdata, ret_job);               \
        }                                                                                                 \
        const struct action_module sym = {                                                                \
                .name = #Action,                                                                          \
                .spec = ACTION_SPEC(Action),                                                              \
                .start = sym##_start,                                                                     \
                .cancel = s3_entries_cancel,                                                              \
        }
