/* runner.c: the loop between the VM and the action modules, the
 * per-run records (times, statuses), the reports AWSTOE writes, dry runs,
 * and checkpoints for reboots. */
#include "runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "compile.h"
#include "interrupt.h"
#include "uuid.h"
#include "cwlogs.h"
#include "http.h"
#include "disasm.h"
#include "hash.h"
#include "logdir.h"
#include "module.h"
#include "predicates.h"
#include "imagebuilder.h"
#include "s3.h"
#include "strbuf.h"
#include "vm.h"
#include "tunables.h"

#define NONE UINT32_MAX

struct span {
        struct timespec start, end;     /* CLOCK_REALTIME, for reports */
        struct timespec mono_start;     /* CLOCK_MONOTONIC, for durations */
        bool started, ended;
};

/* Everything the runner tracks about one document being run. */
struct doc_run {
        struct run_document *d;
        struct span span;
        struct span *phases;
        struct span *steps;
        char **stderr_tails;            /* per step: the last failure's stderr */
        json_t **details;               /* per step: detailedOutput (ExecuteDocument) */
        int *exit_codes;                /* per step: the last exit code, or -1 */
        bool failed, ignored, aborted, rebooting, ran;
};

struct runner {
        const struct run_options *o;
        struct logdir log;
        struct doc_run *runs;
        size_t n_runs;
        struct doc_run *cur;
        int64_t attempt_start_ms;       /* monotonic, of the current attempt */
        unsigned current_step;
        bool disable_logging;
        bool first_failure_reported;
        /* The documents being run, outermost first, for ExecuteDocument's
         * depth and cycle checks (canonical paths). */
        char *chain[8];
        const char *chain_shown[8];     /* the same paths as written */
        size_t depth;
        struct cwlogs *cw;              /* CloudWatch Logs shipper, or NULL */
        int64_t cw_last_pump_ms;
        char *cw_failure;               /* why logs could not be (or were not all) delivered */
};

#define MAX_NESTING 3  /* ExecuteDocument levels below the top document */
#define CW_PUMP_INTERVAL_MS 1000  
static void span_start(struct span *s)
{
        clock_gettime(CLOCK_REALTIME, &s->start);
        clock_gettime(CLOCK_MONOTONIC, &s->mono_start);
        s->started = true;
        s->ended = false;
}

static void span_end(struct span *s)
{
        clock_gettime(CLOCK_REALTIME, &s->end);
        s->ended = true;
}

static double span_seconds(const struct span *s)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double)(now.tv_sec - s->mono_start.tv_sec) + (double)(now.tv_nsec - s->mono_start.tv_nsec) / 1e9;
}

static json_t *time_json(const struct span *s, bool end)
{
        char buf[64];
        if (!s->started || (end && !s->ended))
                return json_string("");
        format_rfc3339(end ? &s->end : &s->start, buf, sizeof buf);
        return json_string(buf);
}

/* ---- CloudWatch Logs ---------------------------------------------------- */

static void cw_tee(void *userdata, const char *line, size_t len)
{
        struct runner *r = userdata;
        if (r->cw && cwlogs_append(r->cw, -1, line, len) < 0 && !r->cw_failure)
                r->cw_failure = xasprintf("cannot spool log lines: %s", cwlogs_last_error(r->cw));
}

/* Ships what is spooled, briefly; `force` between steps, else at most
 * once a second (from inside a running step). */
static void cw_pump(struct runner *r, bool force)
{
        if (!r->cw)
                return;
        int64_t now = aws_now_ms();
        if (!force && now - r->cw_last_pump_ms < CW_PUMP_INTERVAL_MS)
                return;
        r->cw_last_pump_ms = now;
        cwlogs_pump(r->cw, now + (force ? 2000 : 300));
}

static void cw_notice(void *userdata, const char *msg)
{
        struct runner *r = userdata;
        log_app(&r->log, "Warning", "CloudWatch Logs: %s", msg);
}

static void cw_open(struct runner *r)
{
        const struct run_options *o = r->o;
        if (!o->cw_group || !o->cw_stream)
                return;
        _cleanup_free_ char *spool = xasprintf("%s/cwlogs", o->state_directory);
        char *err = NULL;
        mkdir_parents(o->state_directory, 0700);
        int e = cwlogs_open(o->cw_group, o->cw_stream, o->cw_region, spool, 0, &r->cw, &err);
        if (e < 0) {
                r->cw = NULL;
                r->cw_failure = xasprintf("cannot stream to CloudWatch Logs group %s stream %s: %s", o->cw_group,
                                          o->cw_stream, err ? err : strerror(-e));
                fprintf(stderr, "%s run: %s%s\n", o->program_name, r->cw_failure,
                        o->cw_ignore_failures ? " (ignored: --cw-ignore-failures)" : "");
                free(err);
                return;
        }
        cwlogs_set_notice(r->cw, cw_notice, r);
        r->log.tee = cw_tee;
        r->log.tee_userdata = r;
}

/* Flushes and closes the shipper; returns false if lines were left
 * undelivered (they stay in the spool for the next run). */
static void cw_close(struct runner *r, int64_t wait_ms)
{
        if (!r->cw)
                return;
        r->log.tee = NULL;
        struct cwlogs_report rep;
        int e = cwlogs_close(r->cw, aws_now_ms() + wait_ms, &rep);
        r->cw = NULL;
        char *line = cwlogs_report_summary(&rep);
        log_app(&r->log, e < 0 ? "Error" : "Info", "CloudWatch Logs: %s", line);
        if ((e < 0 || rep.pending || rep.lost || rep.rejected) && !r->cw_failure)
                r->cw_failure = xasprintf("CloudWatch Logs delivery incomplete: %s", line);
        free(line);
        cwlogs_report_done(&rep);
}

/* ---- the VM's host ------------------------------------------------------ */

static void on_event(void *userdata, struct vm *vm, enum vm_event ev, uint32_t index)
{
        struct runner *r = userdata;
        struct doc_run *dr = r->cur;
        const struct program *p = vm->prog;
        switch (ev) {
        case VM_EV_PHASE_START:
                span_start(&dr->phases[index]);
                log_console(&r->log, "Phase %s", p->phases[index].name);
                log_app(&r->log, "Debug", "phase %s started", p->phases[index].name);
                break;
        case VM_EV_PHASE_END:
                span_end(&dr->phases[index]);
                log_app(&r->log, "Debug", "phase %s ended: %s", p->phases[index].name,
                        phase_state_name(vm->phases[index]));
                break;
        case VM_EV_STEP_START:
                span_start(&dr->steps[index]);
                r->current_step = index;
                r->disable_logging = p->steps[index].disable_logging;
                log_console(&r->log, "Step %s", p->steps[index].name);
                log_app(&r->log, "Debug", "step %s.%s (%s) started", p->phases[p->steps[index].phase].name,
                        p->steps[index].name, p->steps[index].action);
                break;
        case VM_EV_ATTEMPT:
                r->attempt_start_ms = monotonic_ms();
                if (vm->steps[index].attempts > 1)
                        log_console(&r->log, "Step %s: attempt %u of %u", p->steps[index].name,
                                    vm->steps[index].attempts, p->steps[index].max_attempts);
                break;
        case VM_EV_STEP_END: {
                const struct vm_step *s = &vm->steps[index];
                span_end(&dr->steps[index]);
                r->disable_logging = false;
                log_app(&r->log, "Debug", "step %s ended: %s%s%s", p->steps[index].name, step_state_name(s->state),
                        s->failure ? ": " : "", s->failure ? s->failure : "");
                if (s->state == STEP_SKIPPED)
                        log_console(&r->log, "Step %s skipped: its condition chose Skip", p->steps[index].name);
                if (r->o->live) {
                        const char *mark = s->state == STEP_SUCCESS   ? "ok  "
                                           : s->state == STEP_SKIPPED ? "skip"
                                           : s->state == STEP_IGNORED ? "ign "
                                                                      : "FAIL";
                        fprintf(stderr, "[%s] %s/%s  %s  attempt %u/%u  %.2fs\n", mark,
                                p->phases[p->steps[index].phase].name, p->steps[index].name, step_state_name(s->state),
                                s->attempts, p->steps[index].max_attempts, span_seconds(&dr->steps[index]));
                        if ((s->state == STEP_FAILED || s->state == STEP_IGNORED) && dr->stderr_tails[index]) {
                                const char *t = dr->stderr_tails[index];
                                size_t len = strlen(t);
                                /* The last lines, at most about 2 KiB. */
                                const char *from = len > 2048 ? t + len - 2048 : t;
                                fprintf(stderr, "       stderr (last lines):\n");
                                for (const char *q = from; *q;) {
                                        const char *nl = strchr(q, '\n');
                                        size_t n = nl ? (size_t)(nl - q) : strlen(q);
                                        fprintf(stderr, "       | %.*s\n", (int)n, q);
                                        q += n + (nl ? 1 : 0);
                                }
                        }
                }
                break;
        }
        case _VM_EV_MAX:
                break;
        }
}

static int on_pred(void *userdata, const struct predicate *p, const char *operand, const char *value, bool *ret,
                   char **err)
{
        (void)userdata;
        return pred_eval(p, operand, value, ret, err);
}

/* In a dry run, a condition whose operands are still unknown, or that
 * looks at files, is decided at run time: the plan assumes true. */
static int on_pred_dry(void *userdata, const struct predicate *p, const char *operand, const char *value, bool *ret,
                       char **err)
{
        (void)userdata;
        if (strstr(operand, "{{") || strstr(value, "{{") || p->operand == PO_PATH || p->operand == PO_HASH) {
                printf("      condition %s: decided at run time (the plan assumes true)\n", p->name);
                *ret = true;
                return 0;
        }
        return pred_eval(p, operand, value, ret, err);
}

static void on_line(void *userdata, int stream, const char *line, size_t len)
{
        struct runner *r = userdata;
        if (r->disable_logging)
                return;
        log_console_n(&r->log, stream == STREAM_STDERR ? "Stderr: " : "Stdout: ", line, len);
        cw_pump(r, false);
}

static void on_trace(void *userdata, const struct vm *vm, uint32_t pc)
{
        (void)userdata;
        fputs("trace: ", stderr);
        disasm_insn(stderr, vm->prog, pc);
}

/* ---- one action ---------------------------------------------------------- */

static int nested_run(void *userdata, const char *path, const char *s3_owner, const char *phases,
                      const json_t *parameters, json_t **ret_summary, json_t **ret_detail, char **reterr);

static int run_action(struct runner *r, struct vm *vm, bool *ret_reboot)
{
        const struct program *p = vm->prog;
        const struct vm_pending *pd = &vm->pending;
        const struct prog_step *ps = &p->steps[pd->step];
        struct doc_run *dr = r->cur;
        const struct action_module *m = module_find(ps->action);
        *ret_reboot = false;
        if (interrupt_signal) {
                /* Stopping: the remaining steps fail without running. */
                return vm_complete(vm, false, NULL, "not run: opentoe was stopped by a signal");
        }
        for (size_t i = 0; r->o->blocked && r->o->blocked[i]; i++)
                if (!strcmp(r->o->blocked[i], ps->action)) {
                        log_console(&r->log, "%s is blocked by --blocked-action-modules; the step fails", ps->action);
                        return vm_complete(vm, false, NULL, "the action is blocked by --blocked-action-modules");
                }
        if (!m) {
                log_console(&r->log, "%s: this action is not supported by this build of opentoe", ps->action);
                return vm_complete(vm, false, NULL, "action is not supported by this build of opentoe");
        }
        _cleanup_free_ char *work = xasprintf("%s/scripts", r->log.path);
        struct action_ctx ctx = {
                .work_dir = work,
                .step_name = ps->name,
                .iteration = pd->iteration,
                .deadline_ms = ps->timeout_seconds < 0 ? -1 : r->attempt_start_ms + ps->timeout_seconds * 1000,
                .kill_grace_ms = r->o->kill_grace_ms,
                .stdout_cap = ACTION_STDOUT_CAP,
                .on_line = on_line,
                .userdata = r,
                .run_document = nested_run,
        };
        if (pd->iteration >= 0)
                log_app(&r->log, "Debug", "step %s: iteration %ld", ps->name, pd->iteration);
        struct action_result res = { 0 };
        int e = m->run(&ctx, pd->inputs, &res);
        if (e < 0) {
                log_app(&r->log, "Error", "step %s: %s could not run: %s", ps->name, ps->action, strerror(-e));
                return vm_complete(vm, false, NULL, strerror(-e));
        }
        if (res.stdout_truncated)
                log_console(&r->log, "Stdout of step %s exceeded %u bytes; outputs.stdout keeps the first %u bytes",
                            ps->name, ACTION_STDOUT_CAP, ACTION_STDOUT_CAP);
        if (res.exit_code >= 0)
                dr->exit_codes[pd->step] = res.exit_code;
        if (res.status == ACTION_SUCCESS) {
                if (ps->spec->flags & ACT_SPAWNS)
                        log_console(&r->log, "Command execution completed successfully");
        } else if (res.message)
                log_console(&r->log, "%s", res.message);
        if (res.exit_code >= 0)
                log_console(&r->log, "ExitCode %d", res.exit_code);
        if (res.detail) {
                json_decref(dr->details[pd->step]);
                dr->details[pd->step] = json_incref(res.detail);
        }
        if (res.status != ACTION_SUCCESS && res.stderr_tail) {
                free(dr->stderr_tails[pd->step]);
                dr->stderr_tails[pd->step] = xstrdup(res.stderr_tail);
        }
        if (res.status == ACTION_REBOOT) {
                log_console(&r->log, "Getting reboot signal");
                *ret_reboot = true;
                action_result_clear(&res);
                return 0;
        }
        int c = vm_complete(vm, res.status == ACTION_SUCCESS, json_incref(res.outputs), res.message);
        action_result_clear(&res);
        cw_pump(r, true);
        return c;
}

/* Runs a VM until it ends or a step asks for a reboot. */
static void run_vm(struct runner *r, struct vm *vm, bool *ret_reboot)
{
        enum vm_status st;
        *ret_reboot = false;
        while ((st = vm_run(vm)) == VM_YIELD) {
                if (run_action(r, vm, ret_reboot) < 0) {
                        st = VM_ERROR;
                        break;
                }
                if (*ret_reboot)
                        break;
        }
        if (st == VM_ERROR) {
                log_app(&r->log, "Error", "internal error: %s", vm->error);
                fprintf(stderr, "%s: internal error: %s\n", r->o->program_name, vm->error);
                vm->failed = true;
        }
}

/* ---- reports ----------------------------------------------------------- */

static char *encode(const json_t *v)
{
        return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER) : xstrdup("null");
}

static json_t *doc_json(struct doc_run *dr, const struct vm *vm)
{
        const struct program *p = dr->d->prog;
        json_t *phases = json_array();
        for (size_t i = 0; i < p->n_phases; i++) {
                if (!vm || vm->phases[i] == PHASE_NOT_RUN)
                        continue;
                json_t *steps = json_array();
                char *phase_failure = NULL;
                for (size_t k = 0; k < p->n_steps; k++) {
                        const struct prog_step *ps = &p->steps[k];
                        const struct vm_step *s = &vm->steps[k];
                        if (ps->phase != i || s->state == STEP_NOT_RUN)
                                continue;
                        if (s->state == STEP_FAILED && !phase_failure)
                                phase_failure = xasprintf("Step %s failed", ps->name);
                        char *in = encode(s->inputs), *out = encode(s->outputs);
                        json_array_append_new(
                                steps, json_pack("{s:s, s:s, s:s, s:I, s:s, s:i, s:s, s:o, s:o, s:s, s:s, s:O?, s:n}",
                                                 "name", ps->name, "status", step_state_name(s->state),
                                                 "failureMessage", s->state == STEP_FAILED || s->state == STEP_IGNORED
                                                                           ? (s->failure ? s->failure : "")
                                                                           : "",
                                                 "timeoutSeconds", (json_int_t)ps->timeout_seconds, "onFailure",
                                                 on_failure_name(ps->on_failure), "maxAttempts",
                                                 (int)ps->max_attempts, "action", ps->action, "startTime",
                                                 time_json(&dr->steps[k], false), "endTime",
                                                 time_json(&dr->steps[k], true), "inputs", in, "outputs", out, "loop",
                                                 ps->loop, "detailedOutput"));
                        if (dr->details && dr->details[k])
                                json_object_set(json_array_get(steps, json_array_size(steps) - 1), "detailedOutput",
                                                dr->details[k]);
                        free(in);
                        free(out);
                }
                json_array_append_new(phases, json_pack("{s:s, s:s, s:o, s:o, s:s, s:o}", "name", p->phases[i].name,
                                                        "status", phase_state_name(vm->phases[i]), "startTime",
                                                        time_json(&dr->phases[i], false), "endTime",
                                                        time_json(&dr->phases[i], true), "failureMessage",
                                                        phase_failure ? phase_failure : "", "steps", steps));
                free(phase_failure);
        }
        char *failure = dr->failed ? xasprintf("Document %s failed!", dr->d->path) : xstrdup("");
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:o}", "name", p->name, "filePath", dr->d->path,
                              "status", dr->failed ? "failed" : "success", "description", p->description, "startTime",
                              time_json(&dr->span, false), "endTime", time_json(&dr->span, true), "failureMessage",
                              failure, "phases", phases);
        free(failure);
        return o;
}

struct counts {
        size_t executed, failed, ignored;
};

static void count_steps(const struct vm *vm, struct counts *c)
{
        for (size_t k = 0; k < vm->prog->n_steps; k++) {
                const struct vm_step *s = &vm->steps[k];
                if (s->attempts > 0 || s->state == STEP_FAILED)
                        c->executed++;
                c->failed += s->state == STEP_FAILED;
                c->ignored += s->state == STEP_IGNORED;
        }
}

/* The block AWSTOE writes for the first failed step. */
static void failure_block(struct runner *r, struct doc_run *dr, const struct vm *vm)
{
        const struct program *p = vm->prog;
        for (size_t k = 0; k < p->n_steps; k++) {
                const struct vm_step *s = &vm->steps[k];
                if (s->state != STEP_FAILED)
                        continue;
                const struct prog_step *ps = &p->steps[k];
                struct logdir *l = &r->log;
                log_console_raw(l, "  Document: %s", p->name[0] ? p->name : dr->d->path);
                if (ib_is_arn(dr->d->path))
                        log_console_raw(l, "  ComponentArn: %s", dr->d->path);
                log_console_raw(l, "  Phase: %s", p->phases[ps->phase].name);
                log_console_raw(l, "  Step: %s", ps->name);
                log_console_raw(l, "  Action: %s", ps->action);
                if (s->failure)
                        log_console_raw(l, "  ErrorMessage: %s", s->failure);
                if (dr->stderr_tails[k])
                        log_console_raw(l, "  Stderr: %s", dr->stderr_tails[k]);
                return;
        }
}

/* ---- checkpoints ------------------------------------------------------- */

static json_t *span_save(const struct span *s)
{
        return json_pack("{s:b, s:b, s:I, s:I, s:I, s:I}", "started", s->started, "ended", s->ended, "s",
                         (json_int_t)s->start.tv_sec, "sn", (json_int_t)s->start.tv_nsec, "e",
                         (json_int_t)s->end.tv_sec, "en", (json_int_t)s->end.tv_nsec);
}

static void span_restore(struct span *s, const json_t *j)
{
        json_int_t a = 0, b = 0, c = 0, d = 0;
        int st = 0, en = 0;
        if (json_unpack((json_t *)j, "{s:b, s:b, s:I, s:I, s:I, s:I}", "started", &st, "ended", &en, "s", &a, "sn", &b,
                        "e", &c, "en", &d) == 0) {
                *s = (struct span){ .start = { (time_t)a, (long)b }, .end = { (time_t)c, (long)d }, .started = st,
                                    .ended = en };
                clock_gettime(CLOCK_MONOTONIC, &s->mono_start);
        }
}

static char *state_path(const struct run_options *o)
{
        return xasprintf("%s/state.json", o->state_directory);
}

static int save_checkpoint(struct runner *r, size_t doc_index, const struct vm *vm)
{
        struct doc_run *dr = &r->runs[doc_index];
        const struct program *p = vm->prog;
        json_t *docs = json_array(), *phases = json_array(), *steps = json_array();
        for (size_t i = 0; i < r->n_runs; i++) {
                char hex[2 * PROG_SHA256_LEN + 1];
                hash_hex(r->runs[i].d->prog->sha256, PROG_SHA256_LEN, hex);
                json_array_append_new(docs, json_pack("{s:s, s:s, s:b}", "path", r->runs[i].d->path, "sha256", hex,
                                                      "failed", r->runs[i].failed));
        }
        for (size_t i = 0; i < p->n_phases; i++)
                json_array_append_new(phases, span_save(&dr->phases[i]));
        for (size_t i = 0; i < p->n_steps; i++)
                json_array_append_new(steps, span_save(&dr->steps[i]));
        json_t *st = json_pack("{s:i, s:s, s:s, s:o, s:I, s:o, s:o, s:o, s:o}", "version", 1, "executionId",
                               r->o->execution_id, "logFolder", r->log.path, "documents", docs, "current",
                               (json_int_t)doc_index, "vm", vm_save(vm), "document", span_save(&dr->span), "phases",
                               phases, "steps", steps);
        char *text = json_dumps(st, JSON_INDENT(1));
        json_decref(st);
        mkdir_parents(r->o->state_directory, 0700);
        _cleanup_free_ char *path = state_path(r->o);
        int e = text ? write_file_atomic(path, text, strlen(text)) : -ENOMEM;
        free(text);
        return e;
}

/* ---- running ----------------------------------------------------------- */

static void write_reports(struct runner *r, struct vm **vms, size_t upto, const struct span *run_span, bool failed)
{
        json_t *docs = json_array();
        for (size_t i = 0; i < upto; i++)
                if (r->runs[i].ran)
                        json_array_append_new(docs, doc_json(&r->runs[i], vms[i]));
        json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:s, s:o}", "executionId", r->o->execution_id, "status",
                              failed ? "failed" : "success", "startTime", time_json(run_span, false), "endTime",
                              time_json(run_span, true), "failureMessage", "", "documents", docs);
        for (size_t i = 0; i < upto; i++)
                if (r->runs[i].failed) {
                        char *m = xasprintf("Document %s failed!", r->runs[i].d->path);
                        json_object_set_new(o, "failureMessage", json_string(m));
                        free(m);
                        break;
                }
        char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (text && logdir_write(&r->log, "detailedoutput.json", text, strlen(text)) < 0)
                log_app(&r->log, "Error", "cannot write detailedoutput.json: %s", strerror(errno));
        free(text);
}

/* Uploads the log folder when --log-s3-bucket-name asks for it, and
 * returns the summary's logUrl: the S3 location of the uploaded folder,
 * or the local folder (no upload asked, or the upload failed: then the
 * failure goes to stderr and console.log, and the run's status stays
 * what the documents made it). */
static char *upload_logs(struct runner *r)
{
        struct s3_log_target t = { r->o->log_s3_bucket, r->o->log_s3_prefix, r->o->log_s3_owner };
        if (!t.bucket)
                return xstrdup(r->log.path);
        char *url = s3_log_url(&t, r->log.path), *err = NULL;
        size_t n = 0;
        log_app(&r->log, "Info", "uploading the log folder to %s", url);
        if (r->log.console)
                fflush(r->log.console);
        if (r->log.app)
                fflush(r->log.app);
        int e = s3_log_upload(&t, r->log.path, &n, &err);
        if (e < 0) {
                fprintf(stderr, "%s run: cannot upload the log folder to %s: %s; the logs stay in %s\n",
                        r->o->program_name, url, err ? err : strerror(-e), r->log.path);
                log_console(&r->log, "Cannot upload the log folder to %s: %s", url, err ? err : strerror(-e));
                log_app(&r->log, "Error", "log upload to %s failed after %zu files: %s", url, n,
                        err ? err : strerror(-e));
                free(err);
                free(url);
                return xstrdup(r->log.path);
        }
        log_app(&r->log, "Info", "uploaded %zu log files to %s", n, url);
        return url;
}

static void print_summary(struct runner *r, bool failed, struct counts *c, const char *failure, const char *log_url)
{
        json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s}", "executionId", r->o->execution_id, "status",
                              failed ? "failed" : "success", "failedStepCount", (json_int_t)c->failed,
                              "executedStepCount", (json_int_t)c->executed, "ignoredFailedStepCount",
                              (json_int_t)c->ignored, "failureMessage", failure, "logUrl", log_url);
        char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text)
                puts(text);
        fflush(stdout);
        free(text);
        json_decref(o);
}

static void dry_run_action(struct vm *vm)
{
        const struct vm_pending *pd = &vm->pending;
        const struct program *p = vm->prog;
        const struct prog_step *ps = &p->steps[pd->step];
        char *in = json_dumps(pd->inputs, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
        if (pd->iteration >= 0)
                printf("      iteration %ld: %s\n", pd->iteration, in ? in : "?");
        else
                printf("      inputs: %s\n", in ? in : "?");
        free(in);
        /* Outputs are unknown: later steps show the reference itself. */
        json_t *outs = json_array();
        size_t entries = json_is_array(pd->inputs) ? json_array_size(pd->inputs) : 1;
        for (size_t e = 0; e < entries; e++) {
                json_t *o = json_object();
                for (size_t k = 0; ps->spec->outputs && ps->spec->outputs[k]; k++) {
                        char *ref = xasprintf("{{ %s.%s.outputs.%s }}", p->phases[ps->phase].name, ps->name,
                                              ps->spec->outputs[k]);
                        json_object_set_new(o, ps->spec->outputs[k], json_string(ref));
                        free(ref);
                }
                json_array_append_new(outs, o);
        }
        vm_complete(vm, true, outs, NULL);
}

static void on_event_dry(void *userdata, struct vm *vm, enum vm_event ev, uint32_t index)
{
        const struct program *p = vm->prog;
        (void)userdata;
        switch (ev) {
        case VM_EV_PHASE_START:
                printf("  Phase %s\n", p->phases[index].name);
                break;
        case VM_EV_STEP_START: {
                const struct prog_step *s = &p->steps[index];
                printf("    Step %s (%s", s->name, s->action);
                if (s->timeout_seconds >= 0)
                        printf(", timeout %llds", (long long)s->timeout_seconds);
                printf(", %u attempt%s, onFailure %s)\n", s->max_attempts, s->max_attempts == 1 ? "" : "s",
                       on_failure_name(s->on_failure));
                break;
        }
        case VM_EV_STEP_END:
                if (vm->steps[index].state == STEP_SKIPPED)
                        printf("      skipped by its condition\n");
                else if (vm->steps[index].aborted_by_condition)
                        printf("      aborted by its condition\n");
                break;
        default:
                break;
        }
}

static int dry_run(const struct run_options *o, struct run_document *docs, size_t n)
{
        struct vm_host host = { .event = on_event_dry, .pred = on_pred_dry };
        for (size_t i = 0; i < n; i++) {
                printf("Document %s%s%s%s\n", docs[i].path, docs[i].prog->name[0] ? " (" : "", docs[i].prog->name,
                       docs[i].prog->name[0] ? ")" : "");
                struct vm *vm = vm_new(docs[i].prog, &host, docs[i].params, o->phases);
                enum vm_status st;
                while ((st = vm_run(vm)) == VM_YIELD)
                        dry_run_action(vm);
                if (st == VM_ERROR)
                        fprintf(stderr, "%s: internal error in %s: %s\n", o->program_name, docs[i].path, vm->error);
                vm_free(vm);
        }
        printf("(dry run: nothing was run or changed)\n");
        return 0;
}

static void free_runs(struct runner *r)
{
        for (size_t i = 0; i < r->n_runs; i++) {
                struct doc_run *dr = &r->runs[i];
                for (size_t k = 0; dr->d && k < dr->d->prog->n_steps; k++) {
                        free(dr->stderr_tails[k]);
                        json_decref(dr->details[k]);
                }
                free(dr->stderr_tails);
                free(dr->details);
                free(dr->exit_codes);
                free(dr->phases);
                free(dr->steps);
        }
        free(r->runs);
}

/* Looks for a checkpoint of these documents; returns the VM to resume
 * and its document's index, and fills the runner's records. */
static struct vm *try_resume(struct runner *r, const struct vm_host *host, struct run_document *docs, size_t n,
                             size_t *ret_index, char **ret_log_folder, char **ret_exec_id)
{
        _cleanup_free_ char *path = state_path(r->o);
        json_t *st = json_load_file(path, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
        if (!st)
                return NULL;
        json_t *jdocs = json_object_get(st, "documents");
        json_int_t cur = json_integer_value(json_object_get(st, "current"));
        const char *folder = json_string_value(json_object_get(st, "logFolder"));
        const char *id = json_string_value(json_object_get(st, "executionId"));
        bool same = json_array_size(jdocs) == n && cur >= 0 && (size_t)cur < n && folder && id;
        for (size_t i = 0; same && i < n; i++) {
                char hex[2 * PROG_SHA256_LEN + 1];
                hash_hex(docs[i].prog->sha256, PROG_SHA256_LEN, hex);
                const char *h = json_string_value(json_object_get(json_array_get(jdocs, i), "sha256"));
                same = h && !strcmp(h, hex);
        }
        struct vm *vm = NULL;
        if (same) {
                char err[256];
                vm = vm_restore(docs[cur].prog, host, json_object_get(st, "vm"), err, sizeof err);
                if (!vm)
                        fprintf(stderr, "%s: ignoring the checkpoint in %s: %s\n", r->o->program_name, path, err);
        } else
                fprintf(stderr, "%s: ignoring the checkpoint in %s: it belongs to other documents\n",
                        r->o->program_name, path);
        if (vm) {
                struct doc_run *dr = &r->runs[cur];
                json_t *ph = json_object_get(st, "phases"), *sp = json_object_get(st, "steps");
                for (size_t i = 0; i < docs[cur].prog->n_phases; i++)
                        span_restore(&dr->phases[i], json_array_get(ph, i));
                for (size_t i = 0; i < docs[cur].prog->n_steps; i++)
                        span_restore(&dr->steps[i], json_array_get(sp, i));
                span_restore(&dr->span, json_object_get(st, "document"));
                for (size_t i = 0; i < (size_t)cur; i++) {
                        r->runs[i].ran = false; /* earlier documents' records are not kept */
                        r->runs[i].failed = json_is_true(json_object_get(json_array_get(jdocs, i), "failed"));
                }
                *ret_index = (size_t)cur;
                *ret_log_folder = xstrdup(folder);
                *ret_exec_id = xstrdup(id);
        }
        json_decref(st);
        return vm;
}

static char *chain_text(const struct runner *r, const char *last)
{
        struct strbuf b = STRBUF_INIT;
        for (size_t i = 0; i < r->depth; i++)
                sb_printf(&b, "%s -> ", r->chain_shown[i]);
        sb_puts(&b, last);
        return sb_take(&b);
}

/* ExecuteDocument: compiles and runs a nested document in this run's log
 * folder, with its own execution id, and returns its summary and details.
 * An s3:// document (with the owner ExecuteDocument handed over, else the
 * run's) or an Image Builder component ARN is fetched into a private
 * temporary file and known by its URI or ARN in the chain, the reports
 * and the messages. */
static int nested_run(void *userdata, const char *path, const char *s3_owner, const char *phases,
                      const json_t *parameters, json_t **ret_summary, json_t **ret_detail, char **reterr)
{
        struct runner *r = userdata;
        bool from_s3 = s3_is_uri(path), from_ib = ib_is_arn(path);
        const char *owner = !from_s3 ? NULL : s3_owner ? s3_owner : r->o->document_s3_owner;
        char *local = NULL, *real = from_s3 || from_ib ? xstrdup(path) : realpath(path, NULL);
        if (!real) {
                int e = errno;
                *reterr = xasprintf("document %s: %s", path, strerror(e));
                return -e;
        }
        for (size_t i = 0; i < r->depth; i++)
                if (!strcmp(r->chain[i], real)) {
                        _cleanup_free_ char *c = chain_text(r, path);
                        *reterr = xasprintf("cyclic ExecuteDocument: %s", c);
                        free(real);
                        return -ELOOP;
                }
        if (r->depth > MAX_NESTING) {
                _cleanup_free_ char *c = chain_text(r, path);
                *reterr = xasprintf("ExecuteDocument is nested more than %d levels deep: %s", MAX_NESTING, c);
                free(real);
                return -E2BIG;
        }
        if (from_s3 || from_ib) {
                char *err = NULL;
                int fe = from_ib ? ib_fetch_component_temp(path, &local, &err)
                                 : s3_fetch_temp(path, owner, &local, &err);
                if (fe < 0) {
                        *reterr = xasprintf("document %s: %s", path, err ? err : strerror(-fe));
                        free(err);
                        free(real);
                        return fe;
                }
        }
        struct check_options copts = { .platforms = PLAT_LINUX };
        struct diag_list diags = { 0 };
        struct program *prog = NULL;
        struct ydoc *doc = NULL;
        int e = comp_load(local ? local : path, &copts, &prog, &diags, &doc);
        if (from_ib)
                ib_temp_remove(local);
        else
                s3_temp_remove(local);
        if (e >= 0 && local) {
                free(prog->source_path);
                prog->source_path = xstrdup(path);
        }
        if (e < 0) {
                struct strbuf b = STRBUF_INIT;
                sb_printf(&b, "document %s is invalid:", path);
                for (size_t i = 0; i < diags.n && i < 5; i++)
                        sb_printf(&b, " %u:%u: %s;", diags.v[i].line, diags.v[i].column, diags.v[i].message);
                *reterr = sb_take(&b);
                diag_list_free(&diags);
                ydoc_free(doc);
                free(real);
                return e;
        }
        diag_list_free(&diags);
        ydoc_free(doc);

        json_t *params = json_object();
        size_t i;
        json_t *it;
        json_array_foreach(parameters, i, it)
        {
                const char *nm = json_string_value(json_object_get(it, "name"));
                json_t *v = json_object_get(it, "value");
                if (nm && json_is_string(v))
                        json_object_set(params, nm, v);
        }
        char *phase_copy = phases && *phases ? xstrdup(phases) : NULL;
        const char *phase_list[65] = { 0 };
        size_t np = 0;
        for (char *tok = phase_copy ? strtok(phase_copy, ",") : NULL; tok && np < 64; tok = strtok(NULL, ","))
                phase_list[np++] = tok;

        struct run_document rd = { .path = (char *)path, .prog = prog, .params = params };
        struct doc_run dr = {
                .d = &rd,
                .phases = xcalloc(prog->n_phases + 1, sizeof(struct span)),
                .steps = xcalloc(prog->n_steps + 1, sizeof(struct span)),
                .stderr_tails = xcalloc(prog->n_steps + 1, sizeof(char *)),
                .details = xcalloc(prog->n_steps + 1, sizeof(json_t *)),
                .exit_codes = xcalloc(prog->n_steps + 1, sizeof(int)),
                .ran = true,
        };
        /* The outer step's state, restored when the nested run ends. */
        struct doc_run *outer = r->cur;
        int64_t outer_attempt = r->attempt_start_ms;
        unsigned outer_step = r->current_step;
        bool outer_disable = r->disable_logging;
        struct vm_host host = { .userdata = r, .event = on_event, .pred = on_pred };
        r->cur = &dr;
        r->chain_shown[r->depth] = path;
        r->chain[r->depth++] = real;
        char id[37];
        uuid_v4(id);
        log_console(&r->log, "Document %s", path);
        span_start(&dr.span);
        struct vm *vm = vm_new(prog, &host, params, np ? phase_list : NULL);
        bool reboot;
        for (run_vm(r, vm, &reboot); reboot; run_vm(r, vm, &reboot)) {
                /* Reboots inside nested documents are not resumable yet:
                 * the step that asked fails, and its onFailure applies. */
                log_console(&r->log, "A reboot requested inside nested document %s is not supported; the step fails",
                            path);
                vm_complete(vm, false, NULL, "a reboot requested inside a nested document is not supported");
        }
        span_end(&dr.span);
        dr.failed = vm->failed;
        if (vm->failed)
                failure_block(r, &dr, vm);
        struct counts c = { 0 };
        count_steps(vm, &c);
        char *failure = dr.failed ? xasprintf("Document %s failed!", path) : xstrdup("");
        *ret_summary = json_pack("{s:I, s:s, s:I, s:s, s:I, s:s, s:s}", "executedStepCount", (json_int_t)c.executed,
                                 "executionId", id, "failedStepCount", (json_int_t)c.failed, "failureMessage", failure,
                                 "ignoredFailedStepCount", (json_int_t)c.ignored, "logUrl", "", "status",
                                 dr.failed ? "failed" : "success");
        json_t *docs = json_array();
        json_array_append_new(docs, doc_json(&dr, vm));
        *ret_detail = json_pack("{s:s, s:s, s:o, s:o, s:s, s:o}", "executionId", id, "status",
                                dr.failed ? "failed" : "success", "startTime", time_json(&dr.span, false), "endTime",
                                time_json(&dr.span, true), "failureMessage", failure, "documents", docs);
        free(failure);

        r->depth--;
        r->chain[r->depth] = NULL;
        r->cur = outer;
        r->attempt_start_ms = outer_attempt;
        r->current_step = outer_step;
        r->disable_logging = outer_disable;
        for (size_t k = 0; k < prog->n_steps; k++) {
                free(dr.stderr_tails[k]);
                json_decref(dr.details[k]);
        }
        free(dr.stderr_tails);
        free(dr.details);
        free(dr.exit_codes);
        free(dr.phases);
        free(dr.steps);
        vm_free(vm);
        prog_free(prog);
        json_decref(params);
        free(phase_copy);
        free(real);
        return 0;
}

int runner_run(const struct run_options *o, struct run_document *docs, size_t n)
{
        if (o->dry_run)
                return dry_run(o, docs, n);
        struct runner r = { .o = o };
        struct vm_host host = { .userdata = &r, .event = on_event, .pred = on_pred };
        struct span run_span;
        span_start(&run_span);
        r.runs = xcalloc(n ? n : 1, sizeof *r.runs);
        r.n_runs = n;
        for (size_t i = 0; i < n; i++) {
                struct doc_run *dr = &r.runs[i];
                dr->d = &docs[i];
                dr->phases = xcalloc(docs[i].prog->n_phases + 1, sizeof *dr->phases);
                dr->steps = xcalloc(docs[i].prog->n_steps + 1, sizeof *dr->steps);
                dr->stderr_tails = xcalloc(docs[i].prog->n_steps + 1, sizeof *dr->stderr_tails);
                dr->details = xcalloc(docs[i].prog->n_steps + 1, sizeof *dr->details);
                dr->exit_codes = xcalloc(docs[i].prog->n_steps + 1, sizeof *dr->exit_codes);
        }
        struct vm **vms = xcalloc(n ? n : 1, sizeof *vms);
        size_t start_index = 0;
        char *resume_folder = NULL, *resume_id = NULL;
        struct vm *resumed = o->state_directory ? try_resume(&r, &host, docs, n, &start_index, &resume_folder, &resume_id)
                                                : NULL;
        struct run_options o2 = *o;
        if (resumed)
                o2.execution_id = resume_id;
        r.o = &o2;
        char *err = NULL;
        int status = 1;
        if (resumed) {
                r.log = (struct logdir){ .path = resume_folder, .trace = o->trace };
                _cleanup_free_ char *c = xasprintf("%s/console.log", resume_folder);
                _cleanup_free_ char *a = xasprintf("%s/application.log", resume_folder);
                r.log.console = fopen(c, "ae");
                r.log.app = fopen(a, "ae");
                if (r.log.console)
                        setvbuf(r.log.console, NULL, _IOLBF, 0);
                if (r.log.app)
                        setvbuf(r.log.app, NULL, _IOLBF, 0);
                log_console(&r.log, "Recovery completed for detailed output.");
                resume_folder = NULL;
        } else if (logdir_open(o->log_directory, o->execution_id, run_span.start.tv_sec, &r.log, &err) < 0) {
                fprintf(stderr, "%s run: %s\n", o->program_name, err);
                free(err);
                goto out;
        }
        r.log.trace = o->trace;
        cw_open(&r);
        if (r.cw_failure && !o->cw_ignore_failures) {
                /* Nothing runs when its logs could not be shipped. */
                struct counts none = { 0 };
                log_console(&r.log, "TOE has completed execution with failure - Execution failed!");
                print_summary(&r, true, &none, r.cw_failure, r.log.path);
                status = 1;
                goto out;
        }
        bool failed = false, aborted = false, reboot = false, wrote_checkpoint = false;
        size_t i;
        for (i = 0; i < start_index; i++)
                failed |= r.runs[i].failed;
        for (i = start_index; i < n && !aborted && !reboot; i++) {
                struct doc_run *dr = &r.runs[i];
                r.cur = dr;
                dr->ran = true;
                struct vm *vm = i == start_index && resumed ? resumed : NULL;
                if (!vm) {
                        span_start(&dr->span);
                        vm = vm_new(docs[i].prog, &host, docs[i].params, o->phases);
                        const char *name = i == 0 ? "document.yaml" : NULL;
                        _cleanup_free_ char *other = name ? NULL : xasprintf("document-%zu.yaml", i + 1);
                        logdir_write(&r.log, name ? name : other, docs[i].prog->source, docs[i].prog->source_len);
                        log_console(&r.log, "Document %s", docs[i].path);
                } else {
                        log_console(&r.log, "Document %s", docs[i].path);
                        if (vm->cur_phase != NONE)
                                log_console(&r.log, "Phase %s", docs[i].prog->phases[vm->cur_phase].name);
                        log_console(&r.log, "Executor: System has rebooted successfully");
                        if (vm->cur_step != NONE)
                                log_console(&r.log, "Step %s", docs[i].prog->steps[vm->cur_step].name);
                        r.attempt_start_ms = monotonic_ms();
                }
                vms[i] = vm;
                if (o->trace) {
                        vm->trace = on_trace;
                        vm->trace_userdata = &r;
                }
                char *real = realpath(docs[i].path, NULL);
                r.chain[0] = real ? real : xstrdup(docs[i].path);
                r.chain_shown[0] = docs[i].path;
                r.depth = 1;
                for (run_vm(&r, vm, &reboot); reboot; run_vm(&r, vm, &reboot)) {
                        int e = o->state_directory ? save_checkpoint(&r, i, vm) : -EINVAL;
                        if (e >= 0) {
                                wrote_checkpoint = true;
                                break;
                        }
                        /* No checkpoint, no reboot: the step fails instead. */
                        _cleanup_free_ char *msg = xasprintf("cannot save the execution state for the reboot in %s: %s",
                                                             o->state_directory ? o->state_directory : "(none)",
                                                             strerror(-e));
                        log_console(&r.log, "%s", msg);
                        vm_complete(vm, false, NULL, msg);
                }
                free(r.chain[0]);
                r.chain[0] = NULL;
                r.depth = 0;
                if (!reboot)
                        span_end(&dr->span);
                dr->failed = vm->failed;
                dr->ignored = vm->ignored;
                dr->aborted = vm->aborted;
                failed |= vm->failed;
                aborted |= vm->aborted;
                if (vm->failed)
                        failure_block(&r, dr, vm);
        }
        struct counts c = { 0 };
        for (size_t k = 0; k < n; k++)
                if (vms[k])
                        count_steps(vms[k], &c);
        span_end(&run_span);
        write_reports(&r, vms, n, &run_span, failed);
        if (reboot) {
                log_console(&r.log, "Rebooting the system now");
                log_app(&r.log, "Info", "reboot requested; state saved in %s", o->state_directory);
                /* Undelivered lines stay spooled; the resumed run ships them. */
                cw_close(&r, 5000);
                status = EXIT_REBOOT;
                goto out;
        }
        /* The checkpoint this run resumed is done with; one that belongs
         * to other documents is left for the run it belongs to. */
        if (o->state_directory && (resumed || wrote_checkpoint)) {
                _cleanup_free_ char *sp = state_path(o);
                unlink(sp);
        }
        {
                /* Scripts are removed as they finish; drop their folder if empty. */
                _cleanup_free_ char *scripts = xasprintf("%s/scripts", r.log.path);
                rmdir(scripts);
        }
        const char *failure = "";
        char *fm = NULL;
        for (size_t k = 0; k < n; k++)
                if (r.runs[k].failed) {
                        failure = fm = xasprintf("Document %s failed!", docs[k].path);
                        break;
                }
        log_console(&r.log, failed ? "TOE has completed execution with failure - Execution failed!"
                                   : "TOE has completed execution successfully");
        /* Up to 30 s (OPENTOE_CWLOGS_CLOSE_WAIT_MS) for the last lines. */
        const char *wait = getenv("OPENTOE_CWLOGS_CLOSE_WAIT_MS");
        cw_close(&r, wait && *wait ? strtoll(wait, NULL, 10) : 30000);
        /* Without --cw-ignore-failures, logs that did not reach CloudWatch
         * fail the run, and the summary says why. */
        if (r.cw_failure && !o->cw_ignore_failures) {
                failed = true;
                if (!fm)
                        failure = fm = xstrdup(r.cw_failure);
        }
        if (r.cw_failure)
                log_app(&r.log, o->cw_ignore_failures ? "Warning" : "Error", "%s", r.cw_failure);
        char *log_url = upload_logs(&r);
        print_summary(&r, failed, &c, failure, log_url);
        free(log_url);
        free(fm);
        status = failed ? 1 : 0;
        if (interrupt_signal) {
                log_app(&r.log, "Info", "stopped by signal %d", (int)interrupt_signal);
                status = 128 + interrupt_signal;
        }
out:
        for (size_t k = 0; k < n; k++)
                vm_free(vms[k]);
        free(vms);
        free(resume_folder);
        free(resume_id);
        cw_close(&r, 5000);
        free(r.cw_failure);
        logdir_close(&r.log);
        free_runs(&r);
        return status;
}
