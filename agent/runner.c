/* runner.c: the loop between the VM and the action modules: each action
 * run as a step attempt (attempt.c: the event loop, its deadline,
 * stopping it), results handed back, a checkpoint after every completed
 * step (and before a reboot), the guard that stops a dead run's step,
 * and the order of a run from its start (new or resumed) to its end.
 * Reading a checkpoint back is resume.c's; nested documents' runs
 * runner_nested.c's; the run's side of a reboot runner_reboot.c's; what
 * is recorded per document records.c's; the reports report.c's; where
 * lines go sinks/'s; the S3 upload logupload.c's; a dry run dryrun.c's;
 * the state folder's files state.c's. */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attempt.h"
#include "chaining.h"
#include "checkpoint.h"
#include "cleanup.h"
#include "disasm.h"
#include "dryrun.h"
#include "guardian.h"
#include "inflight.h"
#include "interrupt.h"
#include "logdir.h"
#include "logupload.h"
#include "module.h"
#include "nested.h"
#include "predicates.h"
#include "reboot.h"
#include "records.h"
#include "report.h"
#include "report_out.h"
#include "s3.h"
#include "sinks/live.h"
#include "sinks/sinks.h"
#include "outbox.h"
#include "ssm.h"
#include "state.h"
#include "strbuf.h"
#include "tunables.h"
#include "vm.h"
#include "atomicfile.h"
#include "runner_internal.h"



/* ---- the VM's host ------------------------------------------------------ */

static void on_event(void *userdata, struct vm *vm, enum vm_event ev, uint32_t index)
{
        struct runner *r = userdata;
        struct doc_run *dr = r->cur;
        const struct program *p = vm->prog;
        switch (ev) {
        case VM_EV_PHASE_START:
                span_start(&dr->phases[index]);
                sinks_set(&r->sinks, JOURNAL_PHASE, p->phases[index].name);
                log_console(&r->log, "Phase %s", p->phases[index].name);
                log_app(&r->log, "Debug", "phase %s started", p->phases[index].name);
                break;
        case VM_EV_PHASE_END:
                span_end(&dr->phases[index]);
                log_app(&r->log, "Debug", "phase %s ended: %s", p->phases[index].name,
                        phase_state_name(vm->phases[index]));
                break;
        case VM_EV_STEP_START:
                checkpoint_step_begun(&r->ck, vm, index);
                span_start(&dr->steps[index]);
                r->current_step = index;
                r->disable_logging = p->steps[index].disable_logging || r->hide_all;
                /* The phase too: a resumed run starts inside its phase,
                 * with no phase start before the step. */
                sinks_set(&r->sinks, JOURNAL_PHASE, p->phases[p->steps[index].phase].name);
                sinks_set(&r->sinks, JOURNAL_STEP, p->steps[index].name);
                sinks_set(&r->sinks, JOURNAL_ACTION, p->steps[index].action);
                sinks_set(&r->sinks, JOURNAL_STATUS, "running");
                log_console(&r->log, "Step %s", p->steps[index].name);
                live_step_begin(&r->sinks.live, vm, index);
                log_app(&r->log, "Debug", "step %s.%s (%s) started", p->phases[p->steps[index].phase].name,
                        p->steps[index].name, p->steps[index].action);
                break;
        case VM_EV_ATTEMPT:
                r->attempt_start_ms = monotonic_ms();
                live_step_begin(&r->sinks.live, vm, index);
                if (vm->steps[index].attempts > 1)
                        log_console(&r->log, "Step %s: attempt %u of %u", p->steps[index].name,
                                    vm->steps[index].attempts, p->steps[index].max_attempts);
                break;
        case VM_EV_INPUT_ERROR:
                log_console(&r->log, "Step %s cannot run: %s", p->steps[index].name,
                            vm->steps[index].failure ? vm->steps[index].failure : "its inputs cannot be rendered");
                break;
        case VM_EV_STEP_END: {
                const struct vm_step *s = &vm->steps[index];
                span_end(&dr->steps[index]);
                sinks_set(&r->sinks, JOURNAL_STATUS, step_state_name(s->state));
                r->disable_logging = r->hide_all;
                log_app(&r->log, "Debug", "step %s ended: %s%s%s", p->steps[index].name, step_state_name(s->state),
                        s->failure ? ": " : "", s->failure ? s->failure : "");
                if (s->state == STEP_SKIPPED)
                        log_console(&r->log, "Step %s skipped: its condition chose Skip", p->steps[index].name);
                live_step_ended(&r->sinks.live, vm, index, span_seconds(&dr->steps[index]), dr->stderr_tails[index]);
                break;
        }
        case _VM_EV_MAX:
                break;
        }
}

/* Conditions of the top-level document are recorded until the next
 * checkpoint, so a resumed run hands back the same results (conditions
 * that look at files could read differently after the step in flight
 * touched them): the run resumes at the very instruction. */
static int on_pred(void *userdata, const struct predicate *p, const char *operand, const char *value, bool *ret,
                   char **err)
{
        struct runner *r = userdata;
        int rc;
        if (runner_at_top(r) && r->replay && r->replay_pos < json_array_size(r->replay)) {
                json_t *e = json_array_get(r->replay, r->replay_pos++);
                const char *m = json_string_value(json_array_get(e, 1));
                *ret = json_is_true(json_array_get(e, 0));
                rc = m ? -EINVAL : 0;
                if (m)
                        *err = xstrdup(m);
        } else
                rc = pred_eval(p, operand, value, ret, err);
        if (runner_at_top(r) && r->pred_log)
                json_array_append_new(r->pred_log, json_pack("[b, s?]", rc < 0 ? 0 : *ret,
                                                             rc < 0 ? (*err ? *err : "error") : NULL));
        return rc;
}

/* {{ aws:ssm:NAME }}: one blocking GetParameter while the step's inputs
 * are rendered, before its action starts, bounded by the attempt's time
 * left (the loop waits meanwhile; no source of this run needs it before
 * the action starts).  The value goes nowhere but the VM: a SecureString
 * makes the step private (vm_step_private()). */
static int on_ssm(void *userdata, const char *name, char **ret, bool *ret_secure, char **reterr_msg)
{
        struct runner *r = userdata;
        const struct program *p = r->cur ? r->cur->d->prog : NULL;
        int64_t deadline = -1;
        if (p && r->current_step < p->n_steps && p->steps[r->current_step].timeout_seconds >= 0)
                deadline = r->attempt_start_ms + p->steps[r->current_step].timeout_seconds * 1000;
        if (!r->ssm)
                r->ssm = ssm_client_new();
        int e = ssm_get_parameter(r->ssm, name, deadline, ret, ret_secure, reterr_msg);
        /* Not the name: resolve() may have it from a SecureString. */
        if (e >= 0)
                log_app(&r->log, "Debug", "a Parameter Store reference resolved%s",
                        *ret_secure ? " to a SecureString: the step's values are kept private" : "");
        return e;
}

/* The VM's host: the callbacks above, for the top-level document and
 * for nested ones. */
struct vm_host runner_host(struct runner *r)
{
        return (struct vm_host){ .userdata = r, .event = on_event, .pred = on_pred, .ssm = on_ssm };
}

static void step_line(void *userdata, int stream, const char *line, size_t len)
{
        struct runner *r = userdata;
        if (r->disable_logging)
                return;
        sinks_step_line(&r->sinks, stream, line, len);
}

static void on_trace(void *userdata, const struct vm *vm, uint32_t pc)
{
        (void)userdata;
        fputs("trace: ", stderr);
        disasm_insn(stderr, vm->prog, pc);
}

/* A child has started (`pgid`), or its group is no longer the step's
 * (0): the attempt may stop it, running.json and the guard know it. */
static void on_spawn(void *userdata, pid_t pgid)
{
        struct runner *r = userdata;
        supervisor_spawned(&r->sv, pgid);
        inflight_spawned(&r->inflight, pgid);
}

/* --signal-config: the summary queued in the outbox, then delivered for
 * up to OPENTOE_SIGNAL_RUN_WAIT_MS (30 s); what is left waits there for
 * `opentoe signal --deliver` or the agent.  Standard output keeps the
 * summary alone. */
static void run_signals(struct runner *r, bool failed, const struct counts *c, const char *failure,
                        const char *log_url)
{
        json_t *sum = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s}", "executionId", r->o->execution_id, "status",
                                failed ? "failed" : "success", "failedStepCount", (json_int_t)c->failed,
                                "executedStepCount", (json_int_t)c->executed, "ignoredFailedStepCount",
                                (json_int_t)c->ignored, "failureMessage", failure ? failure : "", "logUrl",
                                log_url ? log_url : "");
        char *err = NULL;
        int64_t next = -1;
        int n = outbox_enqueue(r->o->signal_outbox, r->o->execution_id, r->o->signals, sum, &err);
        if (n >= 0)
                n = outbox_deliver(r->o->signal_outbox,
                                   monotonic_ms() + env_long("OPENTOE_SIGNAL_RUN_WAIT_MS", 30000, 0, 3600000), &next,
                                   &err);
        if (n < 0)
                fprintf(stderr, "%s run: cannot signal: %s\n", r->o->program_name, err ? err : strerror(-n));
        else if (n > 0)
                fprintf(stderr, "%s run: %d signal(s) not delivered yet; they wait in %s for '%s signal --deliver'\n",
                        r->o->program_name, n, r->o->signal_outbox, r->o->program_name);
        log_app(&r->log, n == 0 ? "Info" : "Warning", "signals: %s", n < 0 ? (err ? err : "failed")
                                                                   : n ? "some wait in the outbox" : "delivered");
        free(err);
        json_decref(sum);
}

/* ---- one action ---------------------------------------------------------- */


/* A disableLogging step's failure message without what a module may
 * have quoted from its inputs. */
static char *private_failure(const struct action_result *res)
{
        if (res->status == ACTION_TIMED_OUT)
                return xstrdup("the step timed out");
        if (res->exit_code >= 0)
                return xasprintf("exit status %d", res->exit_code);
        return xstrdup("the step failed (its message is hidden: disableLogging)");
}

/* A run() module's question, answered from the attempt's deadline and
 * the signals that have arrived. */
static int stop_reason(void *userdata)
{
        struct runner *r = userdata;
        return supervisor_stop_reason(&r->sv);
}

static int64_t time_left(void *userdata)
{
        struct runner *r = userdata;
        return supervisor_time_left(&r->sv);
}


/* An iteration's status in detailedoutput.json's words. */
static const char *action_status_word(enum action_status s)
{
        return s == ACTION_SUCCESS ? "success" : s == ACTION_TIMED_OUT ? "timedOut"
                : s == ACTION_REBOOT || s == ACTION_REBOOT_DONE ? "reboot" : "failed";
}

/* *ret_reboot: 0, or 1 when the step asked for a reboot and runs again
 * after it (exit 194, a nested run's request), or 2 when the step is
 * done and the run goes on after the reboot (the Reboot action). */
static int run_action(struct runner *r, struct vm *vm, int *ret_reboot)
{
        const struct program *p = vm->prog;
        const struct vm_pending *pd = &vm->pending;
        const struct prog_step *ps = &p->steps[pd->step];
        struct doc_run *dr = r->cur;
        const struct action_module *m = module_by_id(pd->action);
        *ret_reboot = 0;
        for (size_t i = 0; r->o->blocked && r->o->blocked[i]; i++)
                if (!strcmp(r->o->blocked[i], ps->action)) {
                        log_console(&r->log, "%s is blocked by --blocked-action-modules; the step fails", ps->action);
                        return vm_complete(vm, false, NULL, "the action is blocked by --blocked-action-modules");
                }
        if (!m) {
                log_console(&r->log, "%s: this action is not supported by this build of opentoe", ps->action);
                return vm_complete(vm, false, NULL, "action is not supported by this build of opentoe");
        }
        char *err = NULL;
        int wfd = logdir_scripts(&r->log, &err);
        if (wfd < 0 && (ps->spec->flags & ACT_SPAWNS)) {
                _cleanup_free_ char *msg = xasprintf("cannot prepare the scripts folder: %s",
                                                     err ? err : strerror(-wfd));
                free(err);
                sinks_mark_next(&r->sinks, JOURNAL_ERROR);
                log_console(&r->log, "%s", msg);
                return vm_complete(vm, false, NULL, msg);
        }
        free(err);
        int64_t deadline = ps->timeout_seconds < 0 ? -1 : r->attempt_start_ms + ps->timeout_seconds * 1000;
        /* A step that resolved a SecureString is private as if it had
         * disableLogging. */
        bool private = vm_step_private(vm, pd->step) || r->hide_all;
        r->disable_logging |= private;
        struct action_ctx ctx = {
                .work_dir = r->log.scripts_path,
                .work_dir_fd = wfd,
                .step_name = ps->name,
                .private_step = private,
                .iteration = pd->iteration,
                .stdout_cap = ACTION_STDOUT_CAP,
                .on_line = step_line,
                .userdata = r,
                .on_spawn = on_spawn,
                .stop_reason = stop_reason,
                .time_left_ms = time_left,
                .run_document = runner_nested_run,
        };
        if (pd->iteration >= 0) {
                log_app(&r->log, "Debug", "step %s: iteration %ld", ps->name, pd->iteration);
                live_iteration(&r->sinks.live, vm, pd->step, pd->iteration);
        }
        int64_t began_ms = wall_clock_ms();
        struct action_result res = { 0 };
        if (pd->iteration <= 0)
                doc_run_nested_clear(dr, pd->step);  /* an attempt's first run */
        int e = supervisor_run(&r->sv, m, &ctx, pd->inputs, deadline, &res);
        if (pd->iteration >= 0 && runner_at_top(r))
                doc_run_add_iteration(dr, pd->step, pd->iteration, vm->steps[pd->step].attempts,
                                      e < 0 ? "failed" : action_status_word(res.status), began_ms, wall_clock_ms());
        if (e < 0) {
                log_app(&r->log, "Error", "step %s: %s could not run: %s", ps->name, ps->action, strerror(-e));
                return vm_complete(vm, false, NULL, strerror(-e));
        }
        if (private) {
                /* Nothing of a private step's values leaves memory. */
                if (res.status != ACTION_SUCCESS && res.status != ACTION_REBOOT && res.status != ACTION_REBOOT_DONE) {
                        free(res.message);
                        res.message = private_failure(&res);
                }
                free(res.stderr_tail);
                res.stderr_tail = NULL;
                json_decref(res.detail);
                res.detail = NULL;
        }
        if (res.app_note && !private)
                log_app(&r->log, "Info", "step %s: %s", ps->name, res.app_note);
        if (res.stdout_truncated)
                log_console(&r->log, "Stdout of step %s exceeded %u bytes; outputs.stdout keeps the first %u bytes",
                            ps->name, ACTION_STDOUT_CAP, ACTION_STDOUT_CAP);
        if (res.exit_code >= 0)
                dr->exit_codes[pd->step] = res.exit_code;
        /* A command's lines carry the prefixes of AWSTOE's newest console
         * (opentoe(1), "console.log"). */
        if (res.status == ACTION_SUCCESS) {
                if (ps->spec->flags & ACT_SPAWNS)
                        log_console(&r->log, "CmdExecution: Command execution completed successfully");
        } else if (res.message) {
                sinks_mark_next(&r->sinks, JOURNAL_STEP_FAILED);
                log_console(&r->log, "%s", res.message);
        }
        if (res.exit_code >= 0)
                log_console(&r->log, "CmdExecution: ExitCode %d", res.exit_code);
        if ((ps->spec->flags & ACT_SPAWNS) && res.status != ACTION_REBOOT)
                log_console(&r->log, "%s: FINISHED EXECUTION", ps->action);
        doc_run_add_detail(dr, pd->step, res.detail);
        if (res.status != ACTION_SUCCESS && res.stderr_tail) {
                free(dr->stderr_tails[pd->step]);
                dr->stderr_tails[pd->step] = xstrdup(res.stderr_tail);
        }
        if (res.status == ACTION_REBOOT || res.status == ACTION_REBOOT_DONE) {
                bool done = res.status == ACTION_REBOOT_DONE;
                /* A nested run's request comes back up through its
                 * ExecuteDocument step: counted once, where it was made. */
                _cleanup_free_ char *why = r->reboot_asked ? NULL : runner_reboot_refusal(r);
                if (why) {
                        log_console(&r->log, "%s", why);
                        action_result_clear(&res);
                        sinks_step_ended(&r->sinks);
                        return vm_complete(vm, false, NULL, why);
                }
                if (!r->reboot_asked) {
                        log_console(&r->log, "Getting reboot signal");
                        r->reboots++;
                        r->reboot_asked = true;
                        r->reboot_delay_s = done ? res.reboot_delay_s : 0;
                }
                *ret_reboot = done ? 2 : 1;
                int c = done ? vm_complete(vm, true, json_incref(res.outputs), NULL) : 0;
                action_result_clear(&res);
                return c;
        }
        int c = vm_complete(vm, res.status == ACTION_SUCCESS, json_incref(res.outputs), res.message);
        action_result_clear(&res);
        sinks_step_ended(&r->sinks);
        return c;
}


/* --report FILE: the report of the log folder just written (a failure
 * to write it is said, and fails nothing). */
static void write_report(struct runner *r)
{
        if (!r->o->report_path || !r->log.path)
                return;
        char *err = NULL;
        if (report_write(r->log_abs ? r->log_abs : r->log.path, report_format_for(r->o->report_path),
                         r->o->report_path, &err) < 0) {
                fprintf(stderr, "%s run: --report: %s\n", r->o->program_name, err);
                log_app(&r->log, "Error", "--report: %s", err);
                free(err);
        } else
                log_app(&r->log, "Info", "report written to %s", r->o->report_path);
}

/* Whether an agent started this run (and so owns its ended state). */
static bool progress_attached(void)
{
        const char *e = getenv("OPENTOE_PROGRESS_FD");
        return e && *e;
}

/* The agent's progress pipe: `opentoe agent` starts each job's run with
 * OPENTOE_PROGRESS_FD, and reads a line per step begun ("step", the
 * document, the phase, the step, tab-separated) and the refusal of a
 * state ("refused", why).  Without it, nothing is written. */
static void progress(const char *kind, const char *a, const char *b, const char *c)
{
        static int fd = -2;
        if (fd == -2) {
                const char *e = getenv("OPENTOE_PROGRESS_FD");
                fd = e && *e ? (int)strtol(e, NULL, 10) : -1;
                if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                        fd = -1;
        }
        if (fd < 0)
                return;
        const char *f[3] = { a, b, c };
        struct strbuf sb = STRBUF_INIT;
        sb_puts(&sb, kind);
        for (size_t i = 0; i < 3 && f[i]; i++) {
                sb_putc(&sb, '\t');
                for (const char *p = f[i]; *p; p++)
                        sb_putc(&sb, *p == '\t' || *p == '\n' ? ' ' : *p);
        }
        sb_putc(&sb, '\n');
        if (write_all(fd, sb.s, sb.len) < 0)
                fd = -1;
        sb_free(&sb);
}

/* Runs a VM until it ends or a step asks for a reboot.  For the
 * top-level document: the step in flight recorded before it starts,
 * nothing started once opentoe was told to stop, and a checkpoint after
 * every completed action, taken when the VM next returns: what it ran
 * in between renders and counts but evaluates no condition and runs no
 * action, so the checkpoint is as good as one taken at once, and a step
 * that has just ended is saved once, ended.  A disableLogging step's
 * values may not be saved, so its checkpoint waits until it has ended. */
void runner_run_vm(struct runner *r, size_t doc_index, struct vm *vm, bool *ret_reboot)
{
        enum vm_status st;
        bool top = runner_at_top(r), due = false, after = false;
        *ret_reboot = false;
        /* Nested VMs pause too: a Reboot step's reboot is taken before the
         * next step starts. */
        vm->pause_at_step_end = true;
        for (;;) {
                st = vm_run(vm);
                if (after && st != VM_ERROR) {
                        /* The Reboot step is done: the VM stands at what
                         * comes next, and the reboot's checkpoint saves it
                         * there (its next condition is not evaluated). */
                        *ret_reboot = true;
                        r->reboot_after = true;
                        break;
                }
                bool inside_private = st == VM_YIELD && vm_step_private(vm, vm->pending.step);
                if (due && (st == VM_YIELD || st == VM_STEP_END || st == VM_DONE) && !inside_private) {
                        runner_checkpoint(r, doc_index, vm, "progress", NULL);
                        due = false;
                }
                if (st == VM_STEP_END)
                        continue;
                if (st != VM_YIELD)
                        break;
                if (top && r->log.muted) {
                        /* A resumed run has gone again over what it had
                         * already written; from the step in flight on
                         * (even when a signal stops it there), it writes. */
                        r->log.muted = false;
                }
                if (supervisor_interrupted(&r->sv)) {
                        /* Stopping: nothing more starts. */
                        if (!r->stop_reason)
                                r->stop_reason = xasprintf("not run: opentoe was stopped by signal %d",
                                                           (int)interrupt_signal);
                        vm_stop(vm);
                        continue;
                }
                if (top) {
                        const struct program *pg = vm->prog;
                        progress("step", r->runs[doc_index].d->path,
                                 pg->phases[pg->steps[vm->pending.step].phase].name,
                                 pg->steps[vm->pending.step].name);
                        inflight_begin(&r->inflight, r->ck.seq, doc_index, vm, r->pred_log);
                }
                int kind = 0;
                int e = run_action(r, vm, &kind);
                if (top)
                        inflight_end(&r->inflight);
                if (e < 0) {
                        st = VM_ERROR;
                        break;
                }
                if (kind == 1) {
                        *ret_reboot = true;
                        r->reboot_after = false;
                        break;
                }
                if (kind == 2) {
                        after = true;
                        continue;
                }
                due = top;
        }
        vm->pause_at_step_end = false;
        if (st == VM_ERROR) {
                log_app(&r->log, "Error", "internal error: %s", vm->error);
                fprintf(stderr, "%s: internal error: %s\n", r->o->program_name, vm->error);
                vm->failed = true;
        }
}

/* Why the steps of a document that stopped early did not run, or NULL
 * when it did not stop early. */
static char *why_not_run(const struct runner *r, const struct vm *vm)
{
        if (vm->stopped)
                return xstrdup(r->stop_reason ? r->stop_reason : "not run: opentoe was stopped");
        if (!vm->aborted)
                return NULL;
        const struct program *p = vm->prog;
        for (size_t k = p->n_steps; k-- > 0;)
                if (vm->steps[k].state == STEP_FAILED && p->steps[k].on_failure == ONFAIL_ABORT)
                        return xasprintf("not run: step %s failed and its onFailure is Abort", p->steps[k].name);
        return xstrdup("not run: the document was aborted");
}

/* ---- checkpoints ------------------------------------------------------- */

/* Saves the run's progress (a record of state.jsonl, fdatasynced).  `reason`: "begin"
 * (before the log folder is made, so a run killed at once resumes into
 * it), "start" (a document begins), "progress" (an action completed) or
 * "reboot".  A
 * failure is returned through *reterr when it is asked for, else it is
 * logged once: the run goes on, less durable. */
int runner_checkpoint(struct runner *r, size_t doc_index, const struct vm *vm, const char *reason, char **reterr)
{
        char *err = NULL;
        struct checkpoint_run run = {
                .execution_id = r->o->execution_id,
                .log = &r->log,
                .log_abs = r->log_abs,
                .runs = r->runs,
                .n_runs = r->n_runs,
                .run_span = &r->run_span,
                .reboots = r->reboots,
                .nested = !strcmp(reason, "reboot") ? r->nested_save : NULL,
        };
        int e = checkpoint_write(&r->ck, &run, doc_index, vm, reason, &err);
        if (e < 0) {
                if (reterr)
                        *reterr = TAKE_PTR(err);
                else if (!r->checkpoint_failed) {
                        log_console(&r->log, "Warning: %s; the run goes on, but a crash now would repeat steps", err);
                        log_app(&r->log, "Error", "%s", err);
                        r->checkpoint_failed = true;
                }
                free(err);
                return e;
        }
        /* Conditions recorded so far are now inside the checkpoint. */
        json_array_clear(r->pred_log);
        json_decref(r->replay);
        r->replay = NULL;
        return 0;
}










static void free_runs(struct runner *r)
{
        for (size_t i = 0; i < r->n_runs; i++)
                doc_run_free(&r->runs[i]);
        free(r->runs);
}

/* Documents that never started because the run stopped early are listed
 * too, every step "notrun". */
static void list_unstarted(struct runner *r, struct vm **vms, size_t from, const char *why)
{
        for (size_t i = from; i < r->n_runs; i++) {
                struct doc_run *dr = &r->runs[i];
                if (dr->finished)
                        continue;
                vms[i] = vm_new(dr->d->prog, NULL, dr->d->params, r->o->phases);
                dr->report = report_document(dr, vms[i], why);
                dr->finished = true;
        }
}




int runner_run(const struct run_options *o, struct run_doc *docs, size_t n)
{
        if (o->dry_run)
                return dry_run(o, docs, n);
        struct runner r = { .o = o, .sd = { .fd = -1, .lock_fd = -1 }, .log = { .dirfd = -1, .scripts_fd = -1 } };
        struct vm_host host = runner_host(&r);
        struct resume res = { 0 };
        struct run_options o2 = *o;
        struct vm **vms = xcalloc(n ? n : 1, sizeof *vms);
        char *err = NULL, *refusal = NULL;
        int status = 1;

        span_start(&r.run_span);
        r.runs = xcalloc(n ? n : 1, sizeof *r.runs);
        r.n_runs = n;
        r.hashes = xcalloc(n ? n : 1, sizeof *r.hashes);
        for (size_t i = 0; i < n; i++) {
                doc_run_init(&r.runs[i], &docs[i]);
                memcpy(r.hashes[i], docs[i].prog->sha256, PROG_SHA256_LEN);
        }
        r.binding = (struct state_binding){ .sha256 = (const unsigned char(*)[PROG_SHA256_LEN])r.hashes, .n = n };
        r.pred_log = json_array();
        r.reboot_mode = reboot_mode_choose((enum reboot_mode)o->reboot_mode, &r.reboot_mode_why);
        checkpointer_init(&r.ck, &r.sd, &r.binding);
        inflight_init(&r.inflight, &r.sd, &r.binding, &r.log);
        if (supervisor_init(&r.sv, o->kill_grace_ms, &err) < 0) {
                refusal = TAKE_PTR(err);
                goto refused;
        }

        /* The state folder is opened, checked and locked before anything
         * else; a state that cannot be trusted stops the run here. */
        if (o->state_directory) {
                int e = state_dir_open(o->state_directory, STATE_DIR_CREATE | STATE_DIR_LOCK, &r.sd, &err);
                if (e < 0) {
                        refusal = TAKE_PTR(err);
                        goto refused;
                }
                if (o->discard_state && faccessat(r.sd.fd, STATE_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
                        /* What the discarded run's step left running goes
                         * with it. */
                        char *rerr = NULL;
                        if (state_read(&r.sd, RUNNING_FILE, NULL, &res.running, &rerr) > 0)
                                resume_stop_leftovers(&r, &res);
                        free(rerr);
                        json_decref(res.running);
                        res.running = NULL;
                        fprintf(stderr, "%s run: --discard-state: removed the saved state in %s; starting over\n",
                                o->program_name, r.sd.path);
                        state_remove(&r.sd, NULL);
                }
                e = resume_load(&r, &host, docs, n, &res, &err);
                if (e < 0) {
                        refusal = xasprintf("refusing to resume: %s; to start over instead, run again with "
                                            "--discard-state (or use another --state-directory)", err);
                        free(err);
                        err = NULL;
                        goto refused;
                }
        }
        bool resumed = res.state != NULL;
        /* Saved before anything ran: it starts again, in the same folder. */
        bool begun = resumed && !strcmp(res.reason, "begin");
        if (resumed) {
                o2.execution_id = json_string_value(json_object_get(res.state, "executionId"));
                resume_stop_leftovers(&r, &res);
                json_t *conds = json_object_get(res.running, "conditions");
                if (conds)
                        r.replay = json_incref(conds);
        }
        r.o = &o2;
        /* From here on a step never outlives this process. */
        if (r.sd.fd >= 0)
                r.inflight.guarded = guardian_start(o->kill_grace_ms) >= 0;

        bool recreated = false;
        if (resumed) {
                const char *shown = json_string_value(json_object_get(res.state, "logFolder"));
                const char *abs = json_string_value(json_object_get(res.state, "logFolderAbsolute"));
                uint64_t ino = (uint64_t)json_integer_value(json_object_get(res.state, "logFolderInode"));
                if (logdir_reopen(abs, ino, &r.log, &recreated, &err) < 0) {
                        refusal = xasprintf("refusing to resume: %s; to start over instead, run again with "
                                            "--discard-state (or use another --state-directory)", err);
                        free(err);
                        err = NULL;
                        goto refused;
                }
                r.log_abs = xstrdup(abs);
                free(r.log.path);
                r.log.path = xstrdup(shown);
        } else {
                /* The folder's name is saved before it is made. */
                char *name = logdir_name(o->execution_id, r.run_span.start.tv_sec, &err);
                if (!name) {
                        refusal = TAKE_PTR(err);
                        goto refused;
                }
                r.log.path = xasprintf("%s/%s", o->log_directory, name);
                r.log_abs = logdir_absolute(r.log.path);
                free(name);
                if (r.sd.fd >= 0 && n > 0)
                        runner_checkpoint(&r, 0, NULL, "begin", NULL);
                free(r.log.path);
                r.log.path = NULL;
                if (logdir_create(o->log_directory, o->execution_id, r.run_span.start.tv_sec, &r.log, &err) < 0) {
                        refusal = TAKE_PTR(err);
                        state_remove(&r.sd, NULL);
                        goto refused;
                }
        }
        r.log.trace = o->trace;
        if (resumed) {
                /* When no action had started since the checkpoint, every
                 * line written after it is written again from here (a step
                 * header, a failure block, the final lines): cut them, so
                 * each appears once.  A step's own output is never cut. */
                json_int_t size = json_integer_value(json_object_get(res.state, "consoleSize"));
                if (!recreated && !res.running && strcmp(res.reason, "reboot") != 0 && size >= 0)
                        logdir_truncate_console(&r.log, size);
                if (!begun)
                        resume_notice(&r, &res, recreated);
                /* When a step was in flight, the lines between the
                 * checkpoint and it are in the logs already, followed by its
                 * output: going again over them writes nothing. */
                if (res.running && strcmp(res.reason, "reboot") != 0)
                        r.log.muted = true;
        }
        sinks_open(&r.sinks, r.o, &r.log, r.sv.event);
        if (sinks_failure(&r.sinks) && !o->cw_ignore_failures) {
                /* Nothing runs when its logs could not be shipped, and
                 * nothing is gone over again: the end is written. */
                r.log.muted = false;
                struct counts none = { 0 };
                log_console(&r.log, "TOE has completed execution with failure - Execution failed!");
                report_summary(stdout, r.o->execution_id, true, &none, sinks_failure(&r.sinks), r.log.path);
                status = 1;
                goto out;
        }

        bool failed = false, aborted = false, reboot = false;
        size_t start_index = resumed ? res.current : 0, i;
        for (i = 0; i < start_index; i++) {
                failed |= r.runs[i].failed;
                aborted |= r.runs[i].aborted;
        }
        for (i = start_index; i < n && !aborted && !reboot; i++) {
                struct doc_run *dr = &r.runs[i];
                r.cur = dr;
                dr->ran = true;
                struct vm *vm = i == start_index && res.vm ? TAKE_PTR(res.vm) : NULL;
                vms[i] = vm;
                if (!vm) {
                        span_start(&dr->span);
                        vm = vms[i] = vm_new(docs[i].prog, &host, docs[i].params, r.o->phases);
                        const char *name = i == 0 ? "document.yaml" : NULL;
                        _cleanup_free_ char *other = name ? NULL : xasprintf("document-%zu.yaml", i + 1);
                        logdir_write(&r.log, name ? name : other, docs[i].prog->source, docs[i].prog->source_len);
                        sinks_set(&r.sinks, JOURNAL_DOCUMENT, docs[i].path);
                        log_console(&r.log, "Document %s", docs[i].path);
                        runner_checkpoint(&r, i, vm, "start", NULL);
                } else {
                        sinks_set(&r.sinks, JOURNAL_DOCUMENT, docs[i].path);
                        if (!strcmp(res.reason, "reboot")) {
                                /* AWSTOE's lines after a reboot. */
                                log_console(&r.log, "Document %s", docs[i].path);
                                if (vm->cur_phase != NONE)
                                        log_console(&r.log, "Phase %s", docs[i].prog->phases[vm->cur_phase].name);
                                log_console(&r.log, "Executor: System has rebooted successfully");
                                /* A Reboot step is done: the next step says its own name. */
                                if (vm->cur_step != NONE && vm->steps[vm->cur_step].state == STEP_RUNNING)
                                        log_console(&r.log, "Step %s", docs[i].prog->steps[vm->cur_step].name);
                        }
                        r.attempt_start_ms = monotonic_ms();
                }
                if (o->trace) {
                        vm->trace = on_trace;
                        vm->trace_userdata = &r;
                }
                char *real = realpath(docs[i].path, NULL);
                r.chain.real[0] = real ? real : xstrdup(docs[i].path);
                r.chain.shown[0] = docs[i].path;
                r.chain.depth = 1;
                for (runner_run_vm(&r, i, vm, &reboot); reboot; runner_run_vm(&r, i, vm, &reboot)) {
                        runner_reboot_prepare(&r);
                        int e = runner_checkpoint(&r, i, vm, "reboot", &err);
                        if (e < 0)
                                runner_reboot_abandon(&r);
                        if (e >= 0)
                                break;
                        /* No checkpoint, no reboot: the step fails instead. */
                        _cleanup_free_ char *msg = xasprintf("cannot save the execution state for the reboot in %s: %s",
                                                             o->state_directory ? o->state_directory : "(none)",
                                                             err ? err : strerror(-e));
                        free(err);
                        err = NULL;
                        log_console(&r.log, "%s", msg);
                        r.reboots--;
                        r.reboot_asked = false;
                        json_decref(r.nested_save);
                        r.nested_save = NULL;
                        /* A Reboot step is done already: the run goes on
                         * without the reboot. */
                        if (!r.reboot_after)
                                vm_complete(vm, false, NULL, msg);
                }
                free(r.chain.real[0]);
                r.chain.real[0] = NULL;
                r.chain.depth = 0;
                /* However the document ended (an error before the step in
                 * flight, a signal), what follows is new. */
                r.log.muted = false;
                dr->failed = vm->failed;
                dr->ignored = vm->ignored;
                dr->aborted = vm->aborted;
                failed |= vm->failed;
                aborted |= vm->aborted;
                if (reboot)
                        break;
                span_end(&dr->span);
                if (vm->failed)
                        report_failure_block(&r.log, dr, vm);
                _cleanup_free_ char *why = why_not_run(&r, vm);
                dr->report = report_document(dr, vm, why);
                dr->chaining = chaining_document(dr, vm, NULL, 0);
                report_count(vm, &dr->counts);
                dr->finished = true;
        }
        if (aborted && !reboot) {
                _cleanup_free_ char *why = r.stop_reason ? xstrdup(r.stop_reason)
                                                         : xstrdup("not run: an earlier document was aborted");
                list_unstarted(&r, vms, 0, why);
        }
        struct counts c = { 0 };
        for (size_t k = 0; k < n; k++) {
                if (r.runs[k].finished) {
                        c.executed += r.runs[k].counts.executed;
                        c.failed += r.runs[k].counts.failed;
                        c.ignored += r.runs[k].counts.ignored;
                } else if (vms[k])
                        report_count(vms[k], &c);
        }
        if (reboot) {
                span_end(&r.run_span);
                report_write_detailed(&r.log, r.o->execution_id, failed, &r.run_span, r.runs, vms, r.n_runs);
                chaining_write(&r.log, r.o->execution_id, r.runs, vms, r.n_runs);
                runner_reboot_end(&r, &c);
                status = EXIT_REBOOT;
                goto out;
        }
        /* A crash from here on resumes at the last checkpoint, which ran
         * no action after it: only this ending is repeated. */
        span_end(&r.run_span);
        report_write_detailed(&r.log, r.o->execution_id, failed, &r.run_span, r.runs, vms, r.n_runs);
        chaining_write(&r.log, r.o->execution_id, r.runs, vms, r.n_runs);
        logdir_drop_scripts(&r.log);
        write_report(&r);
        char *fm = report_failure_message(r.runs, r.n_runs);
        const char *failure = fm ? fm : "";
        log_console(&r.log, "Executor: FINISHED EXECUTION OF ALL DOCUMENTS");
        sinks_mark_next(&r.sinks, failed ? JOURNAL_RUN_FINISHED_FAILED : JOURNAL_RUN_FINISHED_OK);
        log_console(&r.log, failed ? "TOE has completed execution with failure - Execution failed!"
                                   : "TOE has completed execution successfully");
        /* Up to 30 s (OPENTOE_CWLOGS_CLOSE_WAIT_MS) for the last lines. */
        const char *wait = getenv("OPENTOE_CWLOGS_CLOSE_WAIT_MS");
        sinks_close(&r.sinks, wait && *wait ? strtoll(wait, NULL, 10) : 30000);
        /* Without --cw-ignore-failures, logs that did not reach CloudWatch
         * fail the run, and the summary says why. */
        const char *cw_failure = sinks_failure(&r.sinks);
        if (cw_failure && !o->cw_ignore_failures) {
                failed = true;
                if (!fm)
                        failure = fm = xstrdup(cw_failure);
        }
        if (cw_failure)
                log_app(&r.log, o->cw_ignore_failures ? "Warning" : "Error", "%s", cw_failure);
        char *log_url = logupload_run(r.o, &r.log, r.log_abs);
        report_summary(stdout, r.o->execution_id, failed, &c, failure, log_url);
        if (r.o->signals)
                run_signals(&r, failed, &c, failure, log_url);
        free(log_url);
        free(fm);
        status = failed ? 1 : 0;
        if (supervisor_interrupted(&r.sv)) {
                log_app(&r.log, "Info", "stopped by signal %d", (int)interrupt_signal);
                status = 128 + interrupt_signal;
        }
        /* The run is over: nothing is left to resume.  A run the agent
         * started (it reports on OPENTOE_PROGRESS_FD) leaves its log to
         * the agent, which removes it once the job's end is recorded: an
         * agent killed before that resumes the job from this last
         * checkpoint (only the ending is repeated), where a removed state
         * would have run the whole job again from its first step. */
        checkpointer_done(&r.ck);
        inflight_close(&r.inflight);
        state_remove(&r.sd, progress_attached() ? RUNNING_FILE : NULL);
        runner_reboot_over(&r);
        goto out;

refused:
        fprintf(stderr, "%s run: %s\n", o->program_name, refusal);
        progress("refused", refusal, NULL, NULL);
        {
                struct counts none = { 0 };
                report_summary(stdout, r.o->execution_id, true, &none, refusal, "");
        }
        status = 1;
out:
        if (r.inflight.guarded)
                guardian_end();
        for (size_t k = 0; k < n; k++)
                vm_free(vms[k]);
        free(vms);
        free(refusal);
        resume_done(&res);
        sinks_close(&r.sinks, 5000);
        r.ssm = ssm_client_free(r.ssm);
        sinks_done(&r.sinks);
        logdir_close(&r.log);
        free(r.log_abs);
        free_runs(&r);
        free(r.hashes);
        json_decref(r.pred_log);
        json_decref(r.replay);
        json_decref(r.nested_save);
        json_decref(r.nested_restore);
        inflight_done(&r.inflight);
        free(r.stop_reason);
        checkpointer_done(&r.ck);
        state_dir_close(&r.sd);
        supervisor_done(&r.sv);
        return status;
}
