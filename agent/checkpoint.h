/* checkpoint.h: the run's progress as records of the checkpoint log
 * (state.h): the first record of a document holds all of it; later ones
 * hold only what changed since (the VM's core, the steps touched, a
 * loop's new outputs), so a checkpoint costs the size of the change, not
 * of the run.  The runner says when (runner.c); this file knows what. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logdir.h"
#include "records.h"
#include "state.h"
#include "vm.h"

struct checkpointer {
        struct state_dir *sd;
        const struct state_binding *binding;
        struct state_log log;
        uint64_t seq;                   /* of the last record */
        size_t doc;                     /* document of the last record */
        const struct vm *vm;            /* its VM */
        uint32_t cur;                   /* its current step then */
        uint64_t ino;                   /* log folder inode the log holds */
        bool *dirty;                    /* steps begun since the last record */
        size_t *iters;                  /* loop outputs in the log, per step */
        uint32_t *attempts;             /* ... and the attempt they are of */
};

/* What a record says about the run besides the current document. */
struct checkpoint_run {
        const char *execution_id;
        struct logdir *log;             /* its path, inode, console.log size */
        const char *log_abs;
        const struct doc_run *runs;     /* every document: earlier ones finished */
        size_t n_runs;
        const struct span *run_span;
        long reboots;                   /* reboots this execution asked for */
        json_t *nested;                 /* nested VMs waiting for a reboot, or NULL */
};

void checkpointer_init(struct checkpointer *c, struct state_dir *sd, const struct state_binding *b);
void checkpointer_done(struct checkpointer *c);

/* Appends a record for document `doc_index` run by `vm` (fdatasync);
 * `reason` is "begin" (nothing has run; `vm` is not saved), "start",
 * "progress" or "reboot".  Returns 0 or a
 * negative errno with *reterr set. */
int checkpoint_write(struct checkpointer *c, const struct checkpoint_run *run, size_t doc_index,
                     const struct vm *vm, const char *reason, char **reterr);

/* A step of the VM being checkpointed began: its record changes. */
void checkpoint_step_begun(struct checkpointer *c, const struct vm *vm, uint32_t step);

/* After a resume: the log holds `vm`'s state for `doc_index` (seq and
 * inode as read; `vm` NULL: no document had started), and records
 * continue from there. */
void checkpoint_resumed(struct checkpointer *c, size_t doc_index, const struct vm *vm, uint64_t seq,
                        uint64_t ino);
