/* runner.h: drives the VM over one or more compiled documents: runs each
 * yielded action through its module with the step's deadline, applies
 * the results, records times, writes the AWSTOE log folder
 * (console.log, application.log, detailedoutput.json, document.yaml),
 * checkpoints after every completed step and before handing a reboot
 * back, resumes from a checkpoint (after a reboot or a crash), and
 * produces the summary and exit status. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "program.h"

struct run_doc {
        char *path;             /* as given on the command line or in --config */
        struct program *prog;   /* owned */
        json_t *params;         /* parameter name -> string value */
};

struct run_options {
        const char *program_name;     /* "opentoe" or "awstoe" */
        const char *log_directory;    /* parent of the TOE_* folder */
        const char *state_directory;  /* checkpoints (state.json), or NULL: none */
        bool discard_state;           /* remove a saved state and start over */
        const char *execution_id;
        const char *const *phases;    /* NULL-terminated, or NULL for every phase */
        bool trace;                   /* instructions and the application log to stderr */
        bool dry_run;                 /* print the plan, run nothing */
        bool no_journal;              /* --no-journal: console lines do not go to the journal */
        const json_t *signals;        /* --signal-config's targets (outbox.h), or NULL */
        const char *signal_outbox;    /* ... and their outbox */
        bool live;                    /* a readable step view on stderr (a terminal) */
        bool quiet;                   /* --quiet: nothing on stderr but errors; the summary stays */
        bool verbose;                 /* --verbose: every console.log line on stderr */
        const char *report_path;      /* --report: the HTML report written here at the end, or NULL */
        int64_t kill_grace_ms;
        const char *document_s3_owner;  /* expected owner of s3:// document buckets, or NULL */
        const char *log_s3_bucket;      /* upload the log folder here at the end, or NULL */
        const char *log_s3_prefix;
        const char *log_s3_owner;
        const char *cw_group;           /* stream console.log to CloudWatch Logs, or NULL */
        const char *cw_stream;
        const char *cw_region;          /* NULL: the usual region chain */
        bool cw_ignore_failures;        /* undelivered logs do not fail the run */
        const char *const *blocked;     /* action modules refused (--blocked-action-modules), or NULL */
        int reboot_mode;                /* enum reboot_mode (reboot.h): --reboot-mode, or auto */
        char *const *argv;              /* the run's arguments ("run", ...), for the self mode's resume */
};

/* Runs the documents in order.  Prints the summary JSON on stdout (or the
 * plan, for a dry run) and returns the exit status: 0 success (ignored
 * failures included), 1 failure, 194 reboot requested. */
int runner_run(const struct run_options *o, struct run_doc *docs, size_t n);

#define EXIT_REBOOT 194
