/* runner_internal.h: what the runner's files share (runner.c: the VM
 * loop and the end of a run; resume.c: reading a checkpoint back;
 * runner_nested.c: ExecuteDocument's nested runs; runner_reboot.c: a
 * run's side of the reboot protocol).  Nothing outside agent/runner*.c
 * and agent/resume.c includes it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "attempt.h"
#include "checkpoint.h"
#include "inflight.h"
#include "logdir.h"
#include "nested.h"
#include "reboot.h"
#include "records.h"
#include "runner.h"
#include "sinks/sinks.h"
#include "state.h"
#include "vm.h"

#define NONE UINT32_MAX

struct runner {
        const struct run_options *o;
        struct logdir log;
        char *log_abs;                  /* the log folder's absolute path, for a resume from elsewhere */
        struct doc_run *runs;
        size_t n_runs;
        struct doc_run *cur;
        struct span run_span;
        int64_t attempt_start_ms;       /* monotonic, of the current attempt */
        unsigned current_step;
        bool disable_logging;
        bool hide_all;                  /* inside a disableLogging step's nested document */
        /* The documents being run, for ExecuteDocument's depth and cycle
         * checks. */
        struct doc_chain chain;
        struct sinks sinks;             /* CloudWatch Logs and the other shipping sinks */
        /* Durability. */
        struct state_dir sd;            /* fd -1: no state folder */
        struct state_binding binding;
        struct checkpointer ck;         /* the checkpoint log and what it holds */
        unsigned char (*hashes)[PROG_SHA256_LEN];
        bool checkpoint_failed;         /* said once */
        json_t *pred_log;               /* condition results since the last checkpoint */
        json_t *replay;                 /* results to hand back after a resume, or NULL */
        size_t replay_pos;
        struct inflight inflight;       /* the step in flight: running.json, the guard */
        char *stop_reason;              /* why later steps did not run (a signal), or NULL */
        struct supervisor sv;           /* the event loop, signals, the attempt in flight */
        struct ssm_client *ssm;         /* Parameter Store, made at the first {{ aws:ssm: }} */
        /* Reboots (reboot.c has the protocol). */
        enum reboot_mode reboot_mode;
        const char *reboot_mode_why;    /* what chose it (static) */
        long reboots;                   /* asked for so far by this execution (saved) */
        bool reboot_asked;              /* a step has asked since the last reboot */
        bool reboot_after;              /* ... the Reboot action: its step is done */
        long reboot_delay_s;
        json_t *nested_save;            /* nested VMs waiting for the reboot, by depth */
        json_t *nested_restore;         /* ... as a resumed run found them */
};

/* True while the top-level document runs (not a nested one). */
static inline bool runner_at_top(const struct runner *r)
{
        return r->chain.depth == 1;
}

/* runner.c */
struct vm_host runner_host(struct runner *r);
void runner_run_vm(struct runner *r, size_t doc_index, struct vm *vm, bool *ret_reboot);
/* A checkpoint of document doc_index with `reason` ("begin", "start",
 * "progress", "reboot"); a failure goes to *reterr when it is asked for,
 * else it is logged once and the run goes on, less durable. */
int runner_checkpoint(struct runner *r, size_t doc_index, const struct vm *vm, const char *reason, char **reterr);

/* resume.c */
struct resume {
        json_t *state;          /* the saved state (the log applied), or NULL: a new run */
        json_t *running;        /* running.json's body when it belongs to it */
        const char *reason;
        size_t current;
        struct vm *vm;          /* the current document, restored */
        int stopped;            /* processes of a dead run's step that were stopped */
        bool torn;              /* the log's last record had been cut short */
};
void resume_done(struct resume *res);
int resume_load(struct runner *r, const struct vm_host *host, struct run_doc *docs, size_t n, struct resume *res,
                char **reterr);
void resume_stop_leftovers(struct runner *r, struct resume *res);
void resume_notice(struct runner *r, const struct resume *res, bool recreated);

/* runner_nested.c: the VM host's run_document (ExecuteDocument). */
int runner_nested_run(void *userdata, const char *path, const char *s3_owner, const char *phases,
                      const json_t *parameters, json_t **ret_summary, json_t **ret_detail, char **reterr);

/* runner_reboot.c */
char *runner_reboot_refusal(const struct runner *r);
json_t *runner_nested_take(struct runner *r, const char *path, const struct program *prog);
void runner_nested_keep(struct runner *r, const char *path, const struct doc_run *dr, const struct vm *vm);
void runner_reboot_prepare(struct runner *r);
void runner_reboot_abandon(struct runner *r);
void runner_reboot_over(struct runner *r);
void runner_reboot_end(struct runner *r, const struct counts *c);
