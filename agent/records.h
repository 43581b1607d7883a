/* records.h: what the runner keeps about each document it runs, beyond
 * the VM's own state: wall-clock and monotonic times of the document, its
 * phases and steps, the last failure's stderr, nested documents' detailed
 * output and chaining records, exit codes; and, for a document that
 * finished (in this run or in the run this one resumed), its
 * detailedoutput.json and chaining.json records and step counts.  All of it is saved in checkpoints (records.c turns it into
 * JSON and back). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "runner.h"

struct span {
        struct timespec start, end;     /* CLOCK_REALTIME, for reports */
        struct timespec mono_start;     /* CLOCK_MONOTONIC, for durations */
        bool started, ended;
};

struct counts {
        size_t executed, failed, ignored;
};

struct doc_run {
        struct run_doc *d;
        struct span span;
        struct span *phases;
        struct span *steps;
        char **stderr_tails;            /* per step: the last failure's stderr */
        json_t **details;               /* per step: detailedOutput, an array of the nested runs
                                         * (ExecuteDocument, one per iteration), or NULL */
        json_t **chains;                /* per step: the nested runs' chaining.json records, or NULL */
        int *exit_codes;                /* per step: the last exit code, or -1 */
        json_t **iterations;            /* per step: each loop iteration run, every attempt
                                         * ({"index","attempt","status","startMs","endMs"}), or NULL */
        bool failed, ignored, aborted, rebooting, ran;
        bool finished;                  /* report and counts are final */
        json_t *report;                 /* its detailedoutput.json record, once finished */
        json_t *chaining;               /* its chaining.json records (chaining.h), once finished */
        struct counts counts;           /* once finished */
};

void span_start(struct span *s);
void span_end(struct span *s);
double span_seconds(const struct span *s);
/* RFC 3339 of the start or end, "" when there is none. */
json_t *time_json(const struct span *s, bool end);
json_t *span_save(const struct span *s);
void span_restore(struct span *s, const json_t *j);

/* Allocates the per-phase and per-step records of `d`. */
void doc_run_init(struct doc_run *dr, struct run_doc *d);
void doc_run_free(struct doc_run *dr);

/* ExecuteDocument's nested runs of step `k`: forgotten when an attempt
 * begins again from its first iteration, then each run's detailed
 * output and chaining records appended (borrowed; NULL adds nothing). */
void doc_run_nested_clear(struct doc_run *dr, size_t k);
void doc_run_add_detail(struct doc_run *dr, size_t k, json_t *detail);
void doc_run_add_chaining(struct doc_run *dr, size_t k, const json_t *records);
/* One loop iteration of step `k` has run (`start_ms`, `end_ms`: the
 * wall clock, milliseconds since the epoch); at most
 * DOC_RUN_MAX_ITERATIONS are kept per step (each checkpoint of a loop
 * step writes them all). */
#define DOC_RUN_MAX_ITERATIONS 256
void doc_run_add_iteration(struct doc_run *dr, size_t k, long index, unsigned attempt, const char *status,
                           int64_t start_ms, int64_t end_ms);
/* The wall clock, in milliseconds since the epoch. */
int64_t wall_clock_ms(void);
/* Milliseconds since the epoch of a span's start or end (0: none). */
int64_t span_epoch_ms(const struct span *s, bool end);

/* The per-step records as JSON (steps whose values must stay private,
 * disableLogging, are saved without their stderr or details), and back;
 * restoring checks sizes and returns -EINVAL on a mismatch. */
json_t *doc_run_save(const struct doc_run *dr);
/* The same as a patch (state.h) that changes only the records of the
 * `n` steps listed (and the document's and phases' times). */
json_t *doc_run_save_patch(const struct doc_run *dr, const size_t *steps, size_t n);

/* A finished document's report and counts, and back (-EINVAL when it
 * is not such a record). */
json_t *doc_run_save_finished(const struct doc_run *dr);
int doc_run_restore_finished(struct doc_run *dr, const json_t *j);
int doc_run_restore(struct doc_run *dr, const json_t *j);
