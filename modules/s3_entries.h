/* s3_entries.h: the entry loop S3Download and S3Upload share: checking
 * every entry before any runs, one S3 client for the step (made for the
 * first entry), the inputs every S3 entry has (source, destination,
 * expectedBucketOwner, the S3 URI), the step deadline handed to it, retry notices named after
 * the entry running, and the result (one empty output object per entry
 * done; the first failure ends the step). */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "module.h"
#include "strbuf.h"

#include <stdbool.h>

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

struct s3_entries {
        const char *action;             /* "S3Download", as messages name it */
        /* true: the source is the S3 URI (a prefix with '*' allowed) and
         * the entry has overwrite; false: the destination is, and the
         * entry has recurse. */
        bool download;
        /* Further checks of a parsed entry, or NULL: -EINVAL with the
         * message appended to *why. */
        int (*check)(const struct s3_entry *e, struct strbuf *why);
        /* Runs one entry with the step's client; a failure's message goes
         * to *msg. */
        enum action_status (*run)(void *userdata, struct s3 *client, const struct s3_entry *e, struct strbuf *msg);
};

/* The run() of an S3 module: 0 with *ret filled (a failure of the action
 * is a result). */
int s3_entries_run(const struct action_ctx *ctx, const json_t *inputs, const struct s3_entries *ops, void *userdata,
                   struct action_result *ret);

/* Defines `const struct action_module sym`, the S3 action `Action`: its
 * run() is s3_entries_run() with `ops` and a zeroed `run_type` (a struct
 * with a `ctx` member) as the entries' userdata. */
#define S3_ENTRIES_ACTION(Action, sym, run_type, ops)                                                     \
        static int sym##_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret) \
        {                                                                                                 \
                run_type run = { .ctx = ctx };                                                            \
                                                                                                          \
                return s3_entries_run(ctx, inputs, &(ops), &run, ret);                                    \
        }                                                                                                 \
        const struct action_module sym = {                                                                \
                .name = #Action,                                                                          \
                .spec = ACTION_SPEC(Action),                                                              \
                .run = sym##_run,                                                                         \
        }
