/* inflight.c: the record of the step in flight (running.json, kept open
 * and rewritten in place) and telling the guard of its group. */
#include "inflight.h"

#include <stdlib.h>
#include <unistd.h>

#include "cleanup.h"
#include "guardian.h"

void inflight_init(struct inflight *f, struct state_dir *sd, const struct state_binding *binding,
                   struct logdir *log)
{
        *f = (struct inflight){ .sd = sd, .binding = binding, .log = log, .running_fd = -1 };
        proc_boot_id(f->boot_id);
}

static void write_running(struct inflight *f)
{
        char *err = NULL;
        if (f->sd->fd < 0 || !f->running)
                return;
        /* A run resumed from this record goes over the lines written before
         * it without writing them again: they must be in console.log. */
        logdir_flush_lines(f->log);
        /* Losing this record loses nothing durable: it only says what to
         * stop and how to resume exactly while the machine stays up. */
        if (state_running_write(f->sd, &f->running_fd, f->running, f->binding, &err) < 0)
                log_app(f->log, "Warning", "%s", err);
        free(err);
}

void inflight_begin(struct inflight *f, uint64_t seq, size_t doc_index, const struct vm *vm, json_t *conditions)
{
        const struct vm_pending *pd = &vm->pending;
        json_decref(f->running);
        f->running = json_pack("{s:I, s:I, s:I, s:s, s:I, s:I, s:O, s:i, s:I, s:s}", "seq", (json_int_t)seq,
                               "document", (json_int_t)doc_index, "step", (json_int_t)pd->step, "stepName",
                               vm->prog->steps[pd->step].name, "iteration", (json_int_t)pd->iteration, "attempt",
                               (json_int_t)vm->steps[pd->step].attempts, "conditions", conditions, "pgid", 0,
                               "leaderStart", (json_int_t)0, "bootId", f->boot_id);
        if (json_array_size(conditions) > 0 || !(vm->prog->steps[pd->step].spec->flags & ACT_SPAWNS))
                write_running(f);
}

static void watch(struct inflight *f, pid_t pgid, unsigned long long start)
{
        if (guardian_watch(pgid, start) < 0 && f->guarded && !f->guard_lost) {
                f->guard_lost = true;
                log_app(f->log, "Warning", "the guard process is gone: a step left running if opentoe dies is "
                                           "stopped only by the next run");
        }
}

void inflight_spawned(struct inflight *f, pid_t pgid)
{
        if (pgid == 0) {
                watch(f, 0, 0);
                return;
        }
        unsigned long long start = proc_start_time(pgid);
        watch(f, pgid, start);
        if (!f->running)
                return;
        json_object_set_new(f->running, "pgid", json_integer(pgid));
        json_object_set_new(f->running, "leaderStart", json_integer((json_int_t)start));
        json_object_set_new(f->running, "sid", json_integer(getsid(0)));
        write_running(f);
}

void inflight_end(struct inflight *f)
{
        /* The guard already heard of each child's release (inflight_spawned). */
        json_decref(f->running);
        f->running = NULL;
}

void inflight_close(struct inflight *f)
{
        f->running_fd = safe_close(f->running_fd);
}

void inflight_done(struct inflight *f)
{
        json_decref(f->running);
        f->running = NULL;
        inflight_close(f);
}
