/* report.c: building detailedoutput.json's records, writing the file,
 * the summary, and the console's failure block (see report.h). */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "imagebuilder.h"
#include "jsondump.h"
#include "strbuf.h"

static char *encode(const json_t *v)
{
        return v ? json_dump_fast(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER) : xstrdup("null");
}

json_t *report_mask(const json_t *entries)
{
        if (!entries)
                return NULL;
        if (json_is_object(entries)) {
                json_t *o = json_object();
                const char *k;
                json_t *v;
                json_object_foreach((json_t *)entries, k, v) json_object_set_new(o, k, json_string("***"));
                return o;
        }
        if (json_is_array(entries)) {
                json_t *a = json_array(), *e;
                size_t i;
                json_array_foreach(entries, i, e) json_array_append_new(a, report_mask(e));
                return a;
        }
        return json_string("***");
}

/* A step's inputs or outputs, encoded, masked when they are private. */
static char *step_values(bool private, const json_t *v)
{
        if (!private || !v)
                return encode(v);
        json_t *m = report_mask(v);
        char *s = encode(m);
        json_decref(m);
        return s;
}

static json_t *step_json(const struct doc_run *dr, const struct vm *vm, size_t k, const char *why_not_run)
{
        const struct program *p = dr->d->prog;
        const struct prog_step *ps = &p->steps[k];
        const struct vm_step *s = &vm->steps[k];
        bool notrun = s->state == STEP_NOT_RUN;
        const char *failure = notrun ? why_not_run
                              : s->state == STEP_FAILED || s->state == STEP_IGNORED ? (s->failure ? s->failure : "")
                                                                                      : "";
        bool private = vm_step_private(vm, k);
        char *in = step_values(private, s->inputs), *out = step_values(private, s->outputs);
        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:i, s:s, s:o, s:o, s:s, s:s, s:O?, s:n}", "name", ps->name,
                              "status", step_state_name(s->state), "failureMessage", failure, "timeoutSeconds",
                              (json_int_t)ps->timeout_seconds, "onFailure", on_failure_name(ps->on_failure),
                              "maxAttempts", (int)ps->max_attempts, "action", ps->action, "startTime",
                              time_json(&dr->steps[k], false), "endTime", time_json(&dr->steps[k], true), "inputs",
                              in, "outputs", out, "loop", ps->loop, "detailedOutput");
        if (dr->details && dr->details[k] && !private)
                json_object_set(o, "detailedOutput", dr->details[k]);
        /* opentoe's addition (opentoe(1), "detailedoutput.json"): times
         * to the millisecond, each loop iteration's, the failure's stderr
         * tail; AWSTOE's readers ignore a key they do not know. */
        json_t *t = json_pack("{s:I, s:I, s:I}", "startMs", (json_int_t)span_epoch_ms(&dr->steps[k], false), "endMs",
                              (json_int_t)span_epoch_ms(&dr->steps[k], true), "attempts", (json_int_t)s->attempts);
        if (dr->iterations && dr->iterations[k])
                json_object_set(t, "iterations", dr->iterations[k]);
        if (!private && !notrun && dr->stderr_tails[k] && (s->state == STEP_FAILED || s->state == STEP_IGNORED))
                json_object_set_new(t, "stderrTail", json_string(dr->stderr_tails[k]));
        json_object_set_new(o, "timing", t);
        free(in);
        free(out);
        return o;
}

json_t *report_document(const struct doc_run *dr, const struct vm *vm, const char *why_not_run)
{
        const struct program *p = dr->d->prog;
        json_t *phases = json_array();
        for (size_t i = 0; i < p->n_phases; i++) {
                bool listed = vm && (vm->phases[i] != PHASE_NOT_RUN || (why_not_run && vm->phase_selected[i]));
                if (!listed)
                        continue;
                json_t *steps = json_array();
                char *phase_failure = NULL;
                for (size_t k = 0; k < p->n_steps; k++) {
                        const struct vm_step *s = &vm->steps[k];
                        if (p->steps[k].phase != i || (s->state == STEP_NOT_RUN && !why_not_run))
                                continue;
                        if (s->state == STEP_FAILED && !phase_failure)
                                phase_failure = xasprintf("Step %s failed", p->steps[k].name);
                        json_array_append_new(steps, step_json(dr, vm, k, why_not_run));
                }
                json_array_append_new(phases, json_pack("{s:s, s:s, s:o, s:o, s:s, s:o}", "name", p->phases[i].name,
                                                        "status", phase_state_name(vm->phases[i]), "startTime",
                                                        time_json(&dr->phases[i], false), "endTime",
                                                        time_json(&dr->phases[i], true), "failureMessage",
                                                        phase_failure ? phase_failure : "", "steps", steps));
                free(phase_failure);
        }
        char *failure = dr->failed ? xasprintf("Document %s failed!", dr->d->path) : xstrdup("");
        const char *status = dr->failed ? "failed" : dr->span.started ? "success" : "notrun";
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:o}", "name", p->name, "filePath", dr->d->path,
                              "status", status, "description", p->description, "startTime",
                              time_json(&dr->span, false), "endTime", time_json(&dr->span, true), "failureMessage",
                              failure, "phases", phases);
        free(failure);
        return o;
}

void report_count(const struct vm *vm, struct counts *c)
{
        for (size_t k = 0; k < vm->prog->n_steps; k++) {
                const struct vm_step *s = &vm->steps[k];
                /* Its action ran: a step whose condition chose Abort
                 * failed without running, and is not counted here. */
                if (s->attempts > 0)
                        c->executed++;
                c->failed += s->state == STEP_FAILED;
                c->ignored += s->state == STEP_IGNORED;
        }
}

json_t *report_run(const char *execution_id, bool failed, const struct span *run, const char *failure,
                   json_t *documents)
{
        return json_pack("{s:s, s:s, s:o, s:o, s:s, s:o}", "executionId", execution_id, "status",
                         failed ? "failed" : "success", "startTime", time_json(run, false), "endTime",
                         time_json(run, true), "failureMessage", failure ? failure : "", "documents", documents);
}

void report_summary(FILE *f, const char *execution_id, bool failed, const struct counts *c, const char *failure,
                    const char *log_url)
{
        json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s}", "executionId", execution_id, "status",
                              failed ? "failed" : "success", "failedStepCount", (json_int_t)c->failed,
                              "executedStepCount", (json_int_t)c->executed, "ignoredFailedStepCount",
                              (json_int_t)c->ignored, "failureMessage", failure ? failure : "", "logUrl",
                              log_url ? log_url : "");
        char *text = json_dump_fast(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text)
                fprintf(f, "%s\n", text);
        fflush(f);
        free(text);
        json_decref(o);
}

char *report_failure_message(const struct doc_run *runs, size_t n)
{
        for (size_t k = 0; k < n; k++)
                if (runs[k].failed)
                        return xasprintf("Document %s failed!", runs[k].d->path);
        return NULL;
}

void report_write_detailed(struct logdir *log, const char *execution_id, bool failed, const struct span *run_span,
                           const struct doc_run *runs, struct vm *const *vms, size_t n)
{
        json_t *docs = json_array();
        for (size_t i = 0; i < n; i++) {
                const struct doc_run *dr = &runs[i];
                if (dr->report)
                        json_array_append(docs, dr->report);
                else if (vms[i] && dr->ran)
                        json_array_append_new(docs, report_document(dr, vms[i], NULL));
        }
        char *fm = report_failure_message(runs, n);
        json_t *o = report_run(execution_id, failed, run_span, fm, docs);
        char *text = json_dump_fast(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(o);
        free(fm);
        int e = text ? logdir_write(log, "detailedoutput.json", text, strlen(text)) : -ENOMEM;
        if (e < 0)
                log_app(log, "Error", "cannot write detailedoutput.json: %s", strerror(-e));
        free(text);
}

void report_failure_block(struct logdir *l, const struct doc_run *dr, const struct vm *vm)
{
        const struct program *p = vm->prog;
        for (size_t k = 0; k < p->n_steps; k++) {
                const struct vm_step *s = &vm->steps[k];
                if (s->state != STEP_FAILED)
                        continue;
                const struct prog_step *ps = &p->steps[k];
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
