/* records.c: the runner's per-document records (see records.h): times,
 * and saving and restoring them for checkpoints. */
#include "records.h"

#include <errno.h>
#include <stdlib.h>

#include "cleanup.h"
#include "logdir.h"
#include "strbuf.h"

void span_start(struct span *s)
{
        clock_gettime(CLOCK_REALTIME, &s->start);
        clock_gettime(CLOCK_MONOTONIC, &s->mono_start);
        s->started = true;
        s->ended = false;
}

void span_end(struct span *s)
{
        clock_gettime(CLOCK_REALTIME, &s->end);
        s->ended = true;
}

double span_seconds(const struct span *s)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double)(now.tv_sec - s->mono_start.tv_sec) + (double)(now.tv_nsec - s->mono_start.tv_nsec) / 1e9;
}

json_t *time_json(const struct span *s, bool end)
{
        char buf[64];
        if (!s->started || (end && !s->ended))
                return json_string("");
        format_rfc3339(end ? &s->end : &s->start, buf, sizeof buf);
        return json_string(buf);
}

json_t *span_save(const struct span *s)
{
        return json_pack("{s:b, s:b, s:I, s:I, s:I, s:I}", "started", s->started, "ended", s->ended, "s",
                         (json_int_t)s->start.tv_sec, "sn", (json_int_t)s->start.tv_nsec, "e",
                         (json_int_t)s->end.tv_sec, "en", (json_int_t)s->end.tv_nsec);
}

void span_restore(struct span *s, const json_t *j)
{
        json_int_t a = 0, b = 0, c = 0, d = 0;
        int st = 0, en = 0;
        if (json_unpack((json_t *)j, "{s:b, s:b, s:I, s:I, s:I, s:I}", "started", &st, "ended", &en, "s", &a, "sn", &b,
                        "e", &c, "en", &d) == 0 &&
            b >= 0 && b < 1000000000 && d >= 0 && d < 1000000000) {
                *s = (struct span){ .start = { (time_t)a, (long)b }, .end = { (time_t)c, (long)d }, .started = st,
                                    .ended = en };
                clock_gettime(CLOCK_MONOTONIC, &s->mono_start);
        }
}

void doc_run_init(struct doc_run *dr, struct run_doc *d)
{
        *dr = (struct doc_run){ .d = d };
        dr->phases = xcalloc(d->prog->n_phases + 1, sizeof *dr->phases);
        dr->steps = xcalloc(d->prog->n_steps + 1, sizeof *dr->steps);
        dr->stderr_tails = xcalloc(d->prog->n_steps + 1, sizeof *dr->stderr_tails);
        dr->details = xcalloc(d->prog->n_steps + 1, sizeof *dr->details);
        dr->chains = xcalloc(d->prog->n_steps + 1, sizeof *dr->chains);
        dr->iterations = xcalloc(d->prog->n_steps + 1, sizeof *dr->iterations);
        dr->exit_codes = xcalloc(d->prog->n_steps + 1, sizeof *dr->exit_codes);
        for (size_t k = 0; k < d->prog->n_steps; k++)
                dr->exit_codes[k] = -1;
}

void doc_run_free(struct doc_run *dr)
{
        for (size_t k = 0; dr->d && k < dr->d->prog->n_steps; k++) {
                free(dr->stderr_tails[k]);
                json_decref(dr->details[k]);
                json_decref(dr->chains[k]);
                json_decref(dr->iterations[k]);
        }
        free_many(dr->stderr_tails, dr->details, dr->chains, dr->iterations, dr->exit_codes, dr->phases, dr->steps);
        json_decref(dr->report);
        json_decref(dr->chaining);
        *dr = (struct doc_run){ 0 };
}

void doc_run_nested_clear(struct doc_run *dr, size_t k)
{
        json_decref(dr->details[k]);
        json_decref(dr->chains[k]);
        dr->details[k] = dr->chains[k] = NULL;
}

void doc_run_add_detail(struct doc_run *dr, size_t k, json_t *detail)
{
        if (!detail)
                return;
        if (!dr->details[k])
                dr->details[k] = json_array();
        json_array_append(dr->details[k], detail);
}

void doc_run_add_chaining(struct doc_run *dr, size_t k, const json_t *records)
{
        if (!json_is_array(records))
                return;
        if (!dr->chains[k])
                dr->chains[k] = json_array();
        json_array_extend(dr->chains[k], (json_t *)records);
}

void doc_run_add_iteration(struct doc_run *dr, size_t k, long index, unsigned attempt, const char *status,
                           int64_t start_ms, int64_t end_ms)
{
        if (!dr->iterations[k])
                dr->iterations[k] = json_array();
        if (json_array_size(dr->iterations[k]) >= DOC_RUN_MAX_ITERATIONS)
                return;
        json_array_append_new(dr->iterations[k],
                              json_pack("{s:I, s:I, s:s, s:I, s:I}", "index", (json_int_t)index, "attempt",
                                        (json_int_t)attempt, "status", status, "startMs", (json_int_t)start_ms,
                                        "endMs", (json_int_t)end_ms));
}

int64_t wall_clock_ms(void)
{
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int64_t span_epoch_ms(const struct span *s, bool end)
{
        if (!s->started || (end && !s->ended))
                return 0;
        const struct timespec *t = end ? &s->end : &s->start;
        return (int64_t)t->tv_sec * 1000 + t->tv_nsec / 1000000;
}

json_t *doc_run_save(const struct doc_run *dr)
{
        const struct program *p = dr->d->prog;
        json_t *phases = json_array(), *steps = json_array(), *tails = json_array(), *details = json_array(),
               *chains = json_array(), *codes = json_array(), *iters = json_array();
        for (size_t i = 0; i < p->n_phases; i++)
                json_array_append_new(phases, span_save(&dr->phases[i]));
        for (size_t i = 0; i < p->n_steps; i++) {
                bool private = p->steps[i].disable_logging;
                json_array_append_new(iters, dr->iterations[i] ? json_incref(dr->iterations[i]) : json_null());
                json_array_append_new(steps, span_save(&dr->steps[i]));
                json_array_append_new(tails, dr->stderr_tails[i] && !private ? json_string(dr->stderr_tails[i])
                                                                            : json_null());
                json_array_append_new(details, dr->details[i] && !private ? json_incref(dr->details[i])
                                                                         : json_null());
                json_array_append_new(chains, dr->chains[i] && !private ? json_incref(dr->chains[i]) : json_null());
                json_array_append_new(codes, json_integer(dr->exit_codes[i]));
        }
        return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "document", span_save(&dr->span), "phases",
                         phases, "steps", steps, "stderrTails", tails, "details", details, "chains", chains,
                         "exitCodes", codes, "iterations", iters);
}

static json_t *index_patch(size_t len)
{
        return json_pack("{s:I, s:[]}", "@len", (json_int_t)len, "@patch");
}

json_t *doc_run_save_patch(const struct doc_run *dr, const size_t *steps, size_t n)
{
        const struct program *p = dr->d->prog;
        json_t *phases = json_array();
        for (size_t i = 0; i < p->n_phases; i++)
                json_array_append_new(phases, span_save(&dr->phases[i]));
        json_t *sp = index_patch(p->n_steps), *tails = index_patch(p->n_steps), *details = index_patch(p->n_steps),
               *chains = index_patch(p->n_steps), *codes = index_patch(p->n_steps),
               *iters = index_patch(p->n_steps);
        for (size_t j = 0; j < n; j++) {
                size_t i = steps[j];
                bool private = p->steps[i].disable_logging;
                json_array_append_new(json_object_get(sp, "@patch"), json_pack("[I, o]", (json_int_t)i,
                                                                               span_save(&dr->steps[i])));
                /* These are only ever set or replaced, never cleared:
                 * an unset one need not be written. */
                if (dr->stderr_tails[i] && !private)
                        json_array_append_new(json_object_get(tails, "@patch"),
                                              json_pack("[I, s]", (json_int_t)i, dr->stderr_tails[i]));
                /* Nested runs are cleared when an attempt begins again:
                 * written even when there are none. */
                if (!private) {
                        json_array_append_new(json_object_get(details, "@patch"),
                                              json_pack("[I, O?]", (json_int_t)i, dr->details[i]));
                        json_array_append_new(json_object_get(chains, "@patch"),
                                              json_pack("[I, O?]", (json_int_t)i, dr->chains[i]));
                }
                if (dr->iterations[i])
                        json_array_append_new(json_object_get(iters, "@patch"),
                                              json_pack("[I, O]", (json_int_t)i, dr->iterations[i]));
                if (dr->exit_codes[i] >= 0)
                        json_array_append_new(json_object_get(codes, "@patch"),
                                              json_pack("[I, I]", (json_int_t)i, (json_int_t)dr->exit_codes[i]));
        }
        json_t *o = json_pack("{s:b, s:o, s:o, s:o}", "@merge", 1, "document", span_save(&dr->span), "phases",
                              phases, "steps", sp);
        const char *names[] = { "stderrTails", "details", "chains", "exitCodes", "iterations" };
        json_t *parts[] = { tails, details, chains, codes, iters };
        for (size_t k = 0; k < 5; k++)
                if (json_array_size(json_object_get(parts[k], "@patch")))
                        json_object_set_new(o, names[k], parts[k]);
                else
                        json_decref(parts[k]);
        return o;
}

json_t *doc_run_save_finished(const struct doc_run *dr)
{
        return json_pack("{s:O?, s:O?, s:I, s:I, s:I, s:b, s:b, s:b}", "report", dr->report, "chaining",
                         dr->chaining, "executed",
                         (json_int_t)dr->counts.executed, "failed", (json_int_t)dr->counts.failed, "ignored",
                         (json_int_t)dr->counts.ignored, "documentFailed", dr->failed, "aborted", dr->aborted, "ran",
                         dr->ran);
}

int doc_run_restore_finished(struct doc_run *dr, const json_t *j)
{
        json_t *rep = json_object_get(j, "report"), *ch = json_object_get(j, "chaining");
        if (!json_is_object(j) || (rep && !json_is_object(rep) && !json_is_null(rep)) ||
            (ch && !json_is_array(ch) && !json_is_null(ch)))
                return -EINVAL;
        json_decref(dr->report);
        dr->report = json_is_object(rep) ? json_incref(rep) : NULL;
        json_decref(dr->chaining);
        dr->chaining = json_is_array(ch) ? json_incref(ch) : NULL;
        dr->counts.executed = (size_t)json_integer_value(json_object_get(j, "executed"));
        dr->counts.failed = (size_t)json_integer_value(json_object_get(j, "failed"));
        dr->counts.ignored = (size_t)json_integer_value(json_object_get(j, "ignored"));
        dr->failed = json_is_true(json_object_get(j, "documentFailed"));
        dr->aborted = json_is_true(json_object_get(j, "aborted"));
        dr->ran = json_is_true(json_object_get(j, "ran"));
        dr->finished = true;
        return 0;
}

int doc_run_restore(struct doc_run *dr, const json_t *j)
{
        const struct program *p = dr->d->prog;
        json_t *ph = json_object_get(j, "phases"), *sp = json_object_get(j, "steps");
        json_t *tails = json_object_get(j, "stderrTails"), *details = json_object_get(j, "details");
        json_t *chains = json_object_get(j, "chains"), *codes = json_object_get(j, "exitCodes");
        /* Optional: states written before iterations were recorded. */
        json_t *iters = json_object_get(j, "iterations");
        if (json_array_size(ph) != p->n_phases || json_array_size(sp) != p->n_steps ||
            json_array_size(tails) != p->n_steps || json_array_size(details) != p->n_steps ||
            (chains && json_array_size(chains) != p->n_steps) || json_array_size(codes) != p->n_steps ||
            (iters && json_array_size(iters) != p->n_steps))
                return -EINVAL;
        span_restore(&dr->span, json_object_get(j, "document"));
        for (size_t i = 0; i < p->n_phases; i++)
                span_restore(&dr->phases[i], json_array_get(ph, i));
        for (size_t i = 0; i < p->n_steps; i++) {
                span_restore(&dr->steps[i], json_array_get(sp, i));
                const char *t = json_string_value(json_array_get(tails, i));
                free(dr->stderr_tails[i]);
                dr->stderr_tails[i] = t ? xstrdup(t) : NULL;
                json_t *d = json_array_get(details, i);
                json_decref(dr->details[i]);
                /* An array of nested runs (an older state's single run
                 * becomes one). */
                dr->details[i] = json_is_array(d) ? json_incref(d)
                                 : json_is_object(d) ? json_pack("[O]", d)
                                                     : NULL;
                json_t *ch = json_array_get(chains, i);
                json_decref(dr->chains[i]);
                dr->chains[i] = json_is_array(ch) ? json_incref(ch) : NULL;
                json_t *it = json_array_get(iters, i);
                json_decref(dr->iterations[i]);
                dr->iterations[i] = json_is_array(it) ? json_incref(it) : NULL;
                json_int_t c = json_integer_value(json_array_get(codes, i));
                dr->exit_codes[i] = c >= -1 && c <= 255 ? (int)c : -1;
        }
        return 0;
}
