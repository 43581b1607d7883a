/* attempt.h: the runner's event loop and one step attempt on it.  The
 * loop (sd-event) carries the stopping signals (signal sources, see
 * interrupt.h), each started job's own sources, one deadline timer per
 * attempt and the grace timer of a group being stopped.  Only the runner
 * drives it, from its own code and never from inside a callback, so a
 * nested document (ExecuteDocument, a run() module) drives the same loop
 * from further down the stack without re-entering a dispatch. */
#pragma once

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "module.h"

struct sd_event;
struct attempt;

struct supervisor {
        struct sd_event *event;
        int64_t kill_grace_ms;          /* SIGTERM to SIGKILL when a group is stopped */
        struct attempt *cur;            /* the innermost attempt in flight, or NULL */
};

/* Makes the loop and watches the stopping signals (blocking them first).
 * Returns 0, or a negative errno with *reterr_msg. */
int supervisor_init(struct supervisor *s, int64_t kill_grace_ms, char **reterr_msg);
void supervisor_done(struct supervisor *s);

/* Reads stopping signals that have arrived, without waiting; returns
 * interrupt_signal (0: none). */
int supervisor_interrupted(struct supervisor *s);

/* Runs one attempt of module `m` with `inputs` and ctx (its event is set
 * here; the caller sets ctx->stop_reason and ctx->time_left_ms, whose
 * userdata is ctx->userdata, to answer with supervisor_stop_reason() and
 * supervisor_time_left()).  A start() module is
 * driven on the loop until its done: when `deadline_ms` (CLOCK_MONOTONIC,
 * -1: none) passes, or a stopping signal arrives, the job is cancelled
 * and the group it spawned (ctx->on_spawn, passed on with
 * supervisor_spawned()) gets SIGTERM, then SIGKILL after the grace period
 * and in any case when it is released.  A run() module is called at once.
 * Returns 0 with *ret filled, or the module's negative errno (nothing
 * ran). */
int supervisor_run(struct supervisor *s, const struct action_module *m, struct action_ctx *ctx,
                   const json_t *inputs, int64_t deadline_ms, struct action_result *ret);

/* The group the attempt in flight has started, or 0 once it is released
 * (the runner's on_spawn passes it on). */
void supervisor_spawned(struct supervisor *s, pid_t pgid);

/* For run() modules (action_stop_reason): ACTION_CANCEL_DEADLINE once the
 * attempt's deadline has passed, ACTION_CANCEL_INTERRUPT once a stopping
 * signal has arrived, else -1. */
int supervisor_stop_reason(struct supervisor *s);
/* The milliseconds left of the attempt in flight (0: passed), or -1 when
 * it has no deadline: the answer to action_time_left_ms(). */
int64_t supervisor_time_left(struct supervisor *s);
