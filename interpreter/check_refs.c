/* check_refs.c: `{{ }}` references.  Every reference must name something
 * declared: a parameter or constant, an input or output of an earlier step
 * of the same document (its action must really have that output), a loop
 * variable of the step's own loop, or a Systems Manager parameter whose
 * name (or ARN, version or label) has the shape Parameter Store allows;
 * SSM is never asked here.  Braces that are not shaped like a reference
 * (a Go template in a script) and loop variables outside a loop are
 * passed on as written, with a warning. */
#include <stdio.h>
#include <string.h>

#include "chk_state.h"
#include "cleanup.h"
#include "strbuf.h"
#include "suggest.h"
#include "template.h"

static void at_ref(struct checker *c, const struct ynode *n, size_t offset, unsigned *line, unsigned *col)
{
        ydoc_locate_in_scalar(c->doc, n, offset, line, col);
}

static const struct chk_step *find_step(struct checker *c, const char *phase, const char *step)
{
        long i = chk_find_step(c, phase, step);
        return i >= 0 ? &c->steps[i] : NULL;
}

/* The names a misspelled `phase.step` might have meant. */
static char *suggest_step(struct checker *c, const char *phase, const char *step)
{
        char want[512];
        snprintf(want, sizeof want, "%s.%s", phase, step);
        if (!c->step_labels) {
                /* NULL-terminated, as suggest_closest takes them. */
                c->step_labels = xcalloc(c->n_steps + 1, sizeof *c->step_labels);
                for (size_t i = 0; i < c->n_steps; i++)
                        if (chk_step_phase(c, &c->steps[i]) && chk_step_name(&c->steps[i]))
                                c->step_labels[c->n_step_labels++] =
                                        xasprintf("%s.%s", chk_step_phase(c, &c->steps[i]),
                                                  chk_step_name(&c->steps[i]));
        }
        const char *best = suggest_closest(want, (const char *const *)c->step_labels);
        return best ? xasprintf("did you mean '%s'?", best) : NULL;
}

/* Number of entries of a step's inputs: list length, or 1 for a map. */
static size_t n_entries(const struct chk_step *s)
{
        const struct ynode *inputs = chk_step_inputs(s);
        if (!inputs)
                return 0;
        if (inputs->kind == YN_SEQ)
                return inputs->n;
        return 1;
}

static void check_chain(struct checker *c, const struct ynode *n, size_t off, unsigned span, const struct ref *r,
                        const struct chk_ctx *ctx, const char *expr)
{
        /* Positions are worked out only for a diagnostic. */
        unsigned line = 0, col = 0;
        const struct chk_step *t = find_step(c, r->phase, r->step);
        if (!t) {
                _cleanup_free_ char *help = suggest_step(c, r->phase, r->step);
                at_ref(c, n, off, &line, &col), chk_diag_at(c, DIAG_ERROR, "ref-undeclared", line, col, span, help,
                            "'{{ %s }}' refers to step '%s' of phase '%s', which this document does not define", expr,
                            r->step, r->phase);
                return;
        }
        if (ctx->step && t >= ctx->step) {
                at_ref(c, n, off, &line, &col), chk_diag_at(c, DIAG_ERROR, "ref-chain-order", line, col, span, NULL,
                            t == ctx->step ? "'{{ %s }}' refers to its own step; a step can only use inputs and outputs "
                                             "of steps that ran before it"
                                           : "'{{ %s }}' refers to step '%s.%s', which runs later (line %u); a step can "
                                             "only use steps that ran before it",
                            expr, chk_step_phase(c, t), chk_step_name(t), t->node->line);
                return;
        }
        const struct action_spec *ta = chk_step_action(t);
        if (!ta)
                return; /* its action is unknown, already reported */
        size_t entries = r->outputs ? (ta->shape == SHAPE_LIST ? n_entries(t) : 1) : n_entries(t);
        /* A loop of ExecuteDocument has one output per document it ran. */
        bool per_run = r->outputs && t->has_loop && ta->id == ACTION_ID_ExecuteDocument;
        if (r->index >= 0 && !per_run && (size_t)r->index >= entries) {
                at_ref(c, n, off, &line, &col), chk_diag_at(c, DIAG_ERROR, r->outputs ? "ref-chain-output" : "ref-chain-input", line, col, span, NULL,
                            "'{{ %s }}' uses index %ld, but step '%s' has %zu %s entr%s (indexes start at 0)", expr,
                            r->index, chk_step_name(t), entries, r->outputs ? "output" : "input", entries == 1 ? "y" : "ies");
                return;
        }
        if (r->outputs) {
                if (action_spec_has_output(ta, r->key))
                        return;
                struct strbuf outs = STRBUF_INIT;
                for (size_t i = 0; ta->outputs && ta->outputs[i]; i++)
                        sb_printf(&outs, "%s%s", i ? ", " : "", ta->outputs[i]);
                const char *sug = suggest_closest(r->key, ta->outputs);
                char help[128];
                if (sug)
                        snprintf(help, sizeof help, "did you mean '%s'?", sug);
                if (outs.len)
                        at_ref(c, n, off, &line, &col), chk_diag_at(c, DIAG_ERROR, "ref-chain-output", line, col, span, sug ? help : NULL,
                                    "'{{ %s }}': %s has no output '%s'; its outputs are: %s", expr, ta->name, r->key,
                                    sb_str(&outs));
                else
                        at_ref(c, n, off, &line, &col), chk_diag_at(c, DIAG_ERROR, "ref-chain-output", line, col, span, NULL,
                                    "'{{ %s }}': %s produces no outputs", expr, ta->name);
                sb_free(&outs);
                return;
        }
        /* An input: present in that entry, or an input with a default. */
        const struct ynode *entry = NULL, *inputs = chk_step_inputs(t);
        if (inputs && inputs->kind == YN_SEQ && inputs->n)
                entry = inputs->items[r->index >= 0 ? r->index : 0];
        else if (inputs && inputs->kind == YN_MAP)
                entry = inputs;
        if (entry && entry->kind == YN_MAP && yn_pair(entry, r->key))
                return;
        const struct input_field *f = action_spec_field(ta, r->key);
        if (f && f->default_json)
                return;
        const char *names[64];
        size_t k = 0;
        if (entry && entry->kind == YN_MAP)
                for (size_t i = 0; i < entry->n && k < 63; i++)
                        names[k++] = entry->pairs[i].key->str;
        names[k] = NULL;
        const char *sug = suggest_closest(r->key, names);
        char help[128];
        if (sug)
                snprintf(help, sizeof help, "did you mean '%s'?", sug);
        at_ref(c, n, off, &line, &col), chk_diag_at(c, DIAG_ERROR, "ref-chain-input", line, col, span, sug ? help : NULL,
                    "'{{ %s }}': step '%s' has no input '%s'%s", expr, chk_step_name(t), r->key,
                    f ? " (it is optional and was not given)" : "");
}

static void check_one(struct checker *c, const struct ynode *n, size_t off, unsigned span, const char *expr,
                      const struct chk_ctx *ctx);

/* {{ aws:ssm:NAME }}: NAME's shape.  {{ aws:ssm:resolve(X) }}: X is a
 * parameter or constant (whose value is the name) or an SSM reference
 * (whose value is), checked as such. */
static void check_ssm(struct checker *c, const struct ynode *n, size_t off, unsigned span, const struct ref *r,
                      const struct chk_ctx *ctx, const char *expr)
{
        unsigned line, col;
        const char *why = NULL;
        if (!r->ssm_resolve) {
                if (ssm_name_check(r->ssm, &why) < 0) {
                        at_ref(c, n, off, &line, &col);
                        chk_diag_at(c, DIAG_ERROR, "ref-ssm", line, col, span, NULL,
                                    "'{{ %s }}' does not name a Systems Manager parameter: %s", expr, why);
                }
                return;
        }
        _cleanup_free_ char *inner = xstrdup(r->ssm);
        size_t a = 0, b = strlen(inner);
        while (a < b && (inner[a] == ' ' || inner[a] == '\t'))
                a++;
        while (b > a && (inner[b - 1] == ' ' || inner[b - 1] == '\t'))
                b--;
        inner[b] = 0;
        struct ref ir;
        const char *perr;
        bool ok = ref_shaped(inner + a) && ref_parse(inner + a, &ir, &perr) == 0;
        if (ok) {
                ok = ir.kind == REF_VARIABLE || (ir.kind == REF_SSM && !ir.ssm_resolve);
                ref_free(&ir);
        }
        if (!ok) {
                at_ref(c, n, off, &line, &col);
                chk_diag_at(c, DIAG_ERROR, "ref-ssm", line, col, span, NULL,
                            "'{{ %s }}': resolve() takes the name of a parameter or constant, or an SSM reference "
                            "(aws:ssm:/name), whose value names the parameter to get",
                            expr);
                return;
        }
        check_one(c, n, off, span, inner + a, ctx);
}

static void check_one(struct checker *c, const struct ynode *n, size_t off, unsigned span, const char *expr,
                      const struct chk_ctx *ctx)
{
        struct ref r;
        const char *why;
        unsigned line, col;
        if (ref_parse(expr, &r, &why) < 0) {
                at_ref(c, n, off, &line, &col);
                chk_diag_at(c, DIAG_ERROR, "ref-undeclared", line, col, span, NULL, "'{{ %s }}' is not a reference: %s",
                            expr, why);
                return;
        }
        switch (r.kind) {
        case REF_SSM:
                check_ssm(c, n, off, span, &r, ctx, expr);
                break;
        case REF_VARIABLE: {
                if (chk_find_var(c, r.name) >= 0)
                        break;
                const char **names = xcalloc(c->n_vars + 1, sizeof *names);
                for (size_t i = 0; i < c->n_vars; i++)
                        names[i] = c->vars[i].name;
                const char *sug = suggest_closest(r.name, names);
                char help[200];
                if (sug)
                        snprintf(help, sizeof help, "did you mean '%s'?", sug);
                else
                        snprintf(help, sizeof help, "declare it under 'parameters' or 'constants'");
                at_ref(c, n, off, &line, &col);
                chk_diag_at(c, DIAG_ERROR, "ref-undeclared", line, col, span, help,
                            "'{{ %s }}' names no parameter or constant of this document", expr);
                free(names);
                break;
        }
        case REF_LOOP: {
                const struct chk_step *s = ctx->step;
                const char *loop_name = s ? chk_step_loop_name(s) : NULL;
                bool own = s && ctx->in_loop && (!strcmp(r.name, "loop") || (loop_name && !strcmp(r.name, loop_name)));
                if (own)
                        break;
                at_ref(c, n, off, &line, &col);
                bool is_loop_name = !strcmp(r.name, "loop");
                is_loop_name = is_loop_name || chk_find_loop(c, r.name) >= 0;
                if (!is_loop_name) {
                        chk_diag_at(c, DIAG_ERROR, "ref-undeclared", line, col, span, NULL,
                                    "'{{ %s }}' names no loop; '%s' is not the name of any loop in this document", expr,
                                    r.name);
                        break;
                }
                if (!s || !s->has_loop || !ctx->in_loop)
                        /* AWS: such a reference "appears in the step with
                         * no replacement". */
                        chk_diag_at(c, DIAG_WARNING, "ref-loop-outside", line, col, span, NULL,
                                    "'{{ %s }}' is used outside a loop, so it is passed on as written (no "
                                    "replacement); loop variables exist only in the inputs of a step with a 'loop'",
                                    expr);
                else
                        chk_diag_at(c, DIAG_ERROR, "ref-loop-outside", line, col, span, NULL,
                                    "'{{ %s }}' names another step's loop; this step's loop is %s%s%s", expr,
                                    loop_name ? "'" : "", loop_name ? loop_name : "unnamed (use 'loop')",
                                    loop_name ? "' (or use 'loop')" : "");
                break;
        }
        case REF_CHAIN:
                check_chain(c, n, off, span, &r, ctx, expr);
                break;
        case _REF_KIND_MAX:
                break;
        }
        ref_free(&r);
}

void chk_refs_scalar(struct checker *c, const struct ynode *n, const struct chk_ctx *ctx)
{
        if (n->kind != YN_SCALAR || !tmpl_has_refs(n->str, n->len))
                return;
        struct tmpl t;
        tmpl_split(n->str, n->len, &t);
        const struct tmpl_seg *other = NULL;
        size_t n_other = 0;
        for (size_t i = 0; i < t.n; i++) {
                const struct tmpl_seg *g = &t.segs[i];
                if (g->kind == TSEG_REF)
                        check_one(c, n, g->offset, (unsigned)g->len, g->text, ctx);
                else if (g->kind == TSEG_OTHER && !n_other++)
                        other = g;
        }
        if (other) {
                /* One warning a string: a template of another language
                 * has many braces. */
                unsigned line, col;
                const char *q = n->str + other->offset;
                size_t shown = other->len > 60 ? 60 : other->len;
                const char *nl = memchr(q, '\n', shown);
                if (nl)
                        shown = (size_t)(nl - q);
                at_ref(c, n, other->offset, &line, &col);
                chk_diag_at(c, DIAG_WARNING, "ref-syntax", line, col, 2, NULL,
                            "'%.*s%s' is not a reference (%s), so it is passed on as written%s", (int)shown, q,
                            shown < other->len ? "..." : "", other->note,
                            n_other > 1 ? ", as are the other braces of this string" : "");
        }
        tmpl_free(&t);
}

void chk_refs_in(struct checker *c, const struct ynode *n, const struct chk_ctx *ctx)
{
        switch (n->kind) {
        case YN_SCALAR:
                chk_refs_scalar(c, n, ctx);
                return;
        case YN_SEQ:
                for (size_t i = 0; i < n->n; i++)
                        chk_refs_in(c, n->items[i], ctx);
                return;
        case YN_MAP:
                for (size_t i = 0; i < n->n; i++)
                        chk_refs_in(c, n->pairs[i].value, ctx);
                return;
        }
}
