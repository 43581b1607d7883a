/* inflight.h: the step in flight: running.json (what a resumed run must
 * stop, and the conditions it must hand back) and the guard's knowledge
 * of the step's process group.  The file's format is state.c's. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "logdir.h"
#include "state.h"
#include "vm.h"

struct inflight {
        struct state_dir *sd;                   /* borrowed; fd -1: no state folder */
        const struct state_binding *binding;    /* borrowed */
        struct logdir *log;                     /* borrowed: warnings; flushed before running.json */
        json_t *running;                        /* running.json's body while an action runs, or NULL */
        int running_fd;                         /* running.json, kept open, or -1 */
        char boot_id[64];
        bool guarded, guard_lost;               /* a guard was started; it has died */
};

void inflight_init(struct inflight *f, struct state_dir *sd, const struct state_binding *binding,
                   struct logdir *log);

/* Before an action of the top-level document runs: the step in flight
 * (checkpoint `seq`, the VM's pending action) and `conditions`, those
 * evaluated since the checkpoint.  For an action that starts a child,
 * with no conditions to keep, the record is written when the child is
 * forked (inflight_spawned adds its group): nothing happens in between
 * that a resumed run would need to know of. */
void inflight_begin(struct inflight *f, uint64_t seq, size_t doc_index, const struct vm *vm, json_t *conditions);

/* A child has started (`pgid`), or its group is no longer the step's
 * (0).  The guard is told of every group (nested documents' too); a
 * guard that died is said once. */
void inflight_spawned(struct inflight *f, pid_t pgid);

void inflight_end(struct inflight *f);

/* Closes running.json (the run is over, or the state is gone). */
void inflight_close(struct inflight *f);
void inflight_done(struct inflight *f);
