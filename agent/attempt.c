/* attempt.c: the runner's event loop, and one step attempt on it: the
 * stopping signals, the deadline timer, cancelling a started job,
 * stopping its process group (SIGTERM, the grace period, SIGKILL), and
 * the answer to a synchronous module's action_stop_reason(). */
#include "attempt.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sdevent_dl.h"

#include "errmsg.h"
#include "interrupt.h"
#include "process.h"
#include "tunables.h"

struct attempt {
        struct attempt *outer;          /* the attempt this one runs inside (ExecuteDocument) */
        struct supervisor *s;
        const struct action_module *m;
        struct action_job *job;         /* until done */
        int64_t deadline_ms;
        sd_event_source *deadline_src;
        sd_event_source *grace_src;
        pid_t pgid;                     /* the group it started, until released */
        bool term_sent, kill_sent;
        int cancelled;                  /* enum action_cancel_reason, or -1 */
        bool done;
        struct action_result res;
};

static int on_grace(sd_event_source *src, uint64_t usec, void *userdata)
{
        struct attempt *a = userdata;

        (void)src;
        (void)usec;
        if (a->pgid > 0 && !a->kill_sent) {
                (void)kill(-a->pgid, SIGKILL);
                a->kill_sent = true;
        }
        return 0;
}

/* Cancels the job and stops its group; the first reason is the one
 * kept. */
static void attempt_stop(struct attempt *a, enum action_cancel_reason why)
{
        if (a->done || !a->job || a->cancelled >= 0)
                return;
        a->cancelled = (int)why;
        a->deadline_src = sdev->source_disable_unref(a->deadline_src);
        a->m->cancel(a->job, why);
        if (a->pgid <= 0 || proc_exited(a->pgid))
                return;
        (void)kill(-a->pgid, SIGTERM);
        a->term_sent = true;
        int64_t grace = a->s->kill_grace_ms > 0 ? a->s->kill_grace_ms : 0;
        if (sdev->add_time(a->s->event, &a->grace_src, CLOCK_MONOTONIC, (uint64_t)(monotonic_ms() + grace) * 1000,
                              1, on_grace, a) < 0) {
                /* No timer: no grace either. */
                (void)kill(-a->pgid, SIGKILL);
                a->kill_sent = true;
        }
}

static int on_deadline(sd_event_source *src, uint64_t usec, void *userdata)
{
        (void)src;
        (void)usec;
        attempt_stop(userdata, ACTION_CANCEL_DEADLINE);
        return 0;
}

static int on_signal(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
        struct supervisor *s = userdata;

        (void)src;
        interrupt_note((int)si->ssi_signo);
        for (struct attempt *a = s->cur; a; a = a->outer)
                attempt_stop(a, ACTION_CANCEL_INTERRUPT);
        return 0;
}

static void on_done(void *userdata, struct action_result *res)
{
        struct attempt *a = userdata;

        a->res = *res;
        *res = (struct action_result){ 0 };
        a->done = true;
        a->job = NULL;
        a->deadline_src = sdev->source_disable_unref(a->deadline_src);
}

int supervisor_init(struct supervisor *s, int64_t kill_grace_ms, char **reterr_msg)
{
        static const int sigs[] = INTERRUPT_SIGNALS;
        int r;

        *s = (struct supervisor){ .kill_grace_ms = kill_grace_ms };
        interrupt_install();
        r = sdev_load(reterr_msg);
        if (r < 0)
                return r;
        r = sdev->event_new(&s->event);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "cannot make the event loop: %s", strerror(-r));
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
                sd_event_source *src = NULL;

                r = sdev->add_signal(s->event, &src, sigs[i], on_signal, s);
                if (r >= 0)
                        r = sdev->source_set_priority(src, SD_EVENT_PRIORITY_IMPORTANT);
                if (r >= 0)
                        r = sdev->source_set_floating(src, 1);
                sdev->source_unref(src);
                if (r < 0) {
                        s->event = sdev->event_unref(s->event);
                        return errmsg_set(reterr_msg, r, "cannot watch signal %d: %s", sigs[i], strerror(-r));
                }
        }
        return 0;
}

void supervisor_done(struct supervisor *s)
{
        if (s->event)
                s->event = sdev->event_unref(s->event);
}

int supervisor_interrupted(struct supervisor *s)
{
        if (!interrupt_signal && s->event && interrupt_pending())
                while (sdev->event_run(s->event, 0) > 0)
                        ;
        return interrupt_signal;
}

int supervisor_stop_reason(struct supervisor *s)
{
        const struct attempt *a = s->cur;

        if (a && a->deadline_ms >= 0 && monotonic_ms() >= a->deadline_ms)
                return ACTION_CANCEL_DEADLINE;
        if (interrupt_signal || interrupt_pending())
                return ACTION_CANCEL_INTERRUPT;
        return -1;
}

int64_t supervisor_time_left(struct supervisor *s)
{
        const struct attempt *a = s->cur;

        if (!a || a->deadline_ms < 0)
                return -1;
        int64_t left = a->deadline_ms - monotonic_ms();
        return left > 0 ? left : 0;
}

void supervisor_spawned(struct supervisor *s, pid_t pgid)
{
        struct attempt *a = s->cur;

        if (!a)
                return;
        if (pgid > 0) {
                a->pgid = pgid;
                return;
        }
        /* After a stop nothing of the group may outlive the step, even
         * when its leader went at SIGTERM. */
        if (a->pgid > 0 && a->term_sent && !a->kill_sent) {
                (void)kill(-a->pgid, SIGKILL);
                a->kill_sent = true;
        }
        a->grace_src = sdev->source_disable_unref(a->grace_src);
        a->pgid = 0;
}

int supervisor_run(struct supervisor *s, const struct action_module *m, struct action_ctx *ctx,
                   const json_t *inputs, int64_t deadline_ms, struct action_result *ret)
{
        struct attempt a = { .outer = s->cur, .s = s, .m = m, .deadline_ms = deadline_ms, .cancelled = -1 };
        int r;

        ctx->event = s->event;
        s->cur = &a;
        if (m->run) {
                r = m->run(ctx, inputs, ret);
                s->cur = a.outer;
                return r;
        }
        if (!m->start || !m->cancel) {
                s->cur = a.outer;
                return -ENOSYS;
        }
        if (deadline_ms >= 0) {
                r = sdev->add_time(s->event, &a.deadline_src, CLOCK_MONOTONIC,
                                      deadline_ms > 0 ? (uint64_t)deadline_ms * 1000 : 1, 1, on_deadline, &a);
                if (r < 0) {
                        s->cur = a.outer;
                        return r;
                }
        }
        r = m->start(ctx, inputs, on_done, &a, &a.job);
        if (r < 0) {
                a.deadline_src = sdev->source_disable_unref(a.deadline_src);
                s->cur = a.outer;
                return r;
        }
        /* Told to stop before it started: it stops at once. */
        if (interrupt_signal)
                attempt_stop(&a, ACTION_CANCEL_INTERRUPT);
        while (!a.done) {
                r = sdev->event_run(s->event, UINT64_MAX);
                if (r < 0 && r != -EINTR) {
                        /* The loop is broken: nothing can be waited for,
                         * and the job's sources point into this frame. */
                        fprintf(stderr, "opentoe: the event loop failed: %s\n", strerror(-r));
                        if (a.pgid > 0)
                                (void)kill(-a.pgid, SIGKILL);
                        abort();
                }
        }
        if (a.pgid > 0 && a.term_sent && !a.kill_sent)
                (void)kill(-a.pgid, SIGKILL);
        a.deadline_src = sdev->source_disable_unref(a.deadline_src);
        a.grace_src = sdev->source_disable_unref(a.grace_src);
        s->cur = a.outer;
        *ret = a.res;
        return 0;
}
