/* report_read.h: a log folder (TOE_*) read back for `opentoe report`:
 * detailedoutput.json's documents, phases, steps and loop iterations
 * with their times, the failed steps' stderr tails (opentoe's "timing"
 * records, else console.log's Stderr lines), chaining.json's count of expressions.  The
 * folder may be another user's: every file is bounded in size, opened
 * without following links, and nothing in it is trusted. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPORT_MAX_FILE (64u << 20)     /* detailedoutput.json, console.log (its end) */
#define REPORT_MAX_ROWS 200000          /* steps and iterations together */
#define REPORT_TAIL_MAX 2048            /* bytes of a stderr tail kept */

/* One bar of the timeline: a step, or one iteration of a loop step. */
struct report_row {
        const char *document, *phase, *step, *action;   /* borrowed from the report's strings */
        const char *status;                             /* "success", "failed", ... */
        const char *failure;                            /* failureMessage, "" when none */
        char *value;                                    /* an iteration's loop value, or NULL */
        char *stderr_tail;                              /* a failed step's, or NULL */
        long iteration;                                 /* -1: the step itself */
        long iterations;                                /* a step's iteration count (0: no loop) */
        unsigned attempts, max_attempts;                /* attempts: this iteration's, or the step's */
        int64_t start_ms, end_ms;                       /* 0: unknown */
        bool ms_precise;                                /* from opentoe's timing, not whole seconds */
};

struct report_data {
        char *folder;
        char *execution_id, *status, *failure;          /* the run's */
        int64_t start_ms, end_ms;
        struct report_row *rows;
        size_t n_rows;
        size_t n_steps;                                 /* rows that are steps */
        size_t n_chaining;                              /* chaining.json records */
        bool truncated;                                 /* more rows than REPORT_MAX_ROWS */
        void *json;                                     /* the parsed detailedoutput.json (owns the strings) */
};

/* Reads `folder`.  Returns 0, or a negative errno with *reterr_msg. */
int report_read(const char *folder, struct report_data *ret, char **reterr_msg);
void report_data_free(struct report_data *d);
/* A row's duration in milliseconds (0 when unknown). */
int64_t report_row_ms(const struct report_row *r);
