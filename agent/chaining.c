/* chaining.c: chaining.json (see chaining.h): the chaining expressions
 * of each document, found in its compiled program (the constants each
 * step renders), with the step that uses each, the slot it is bound to
 * and, from the VM's state, whether it had a value; the nested
 * documents' records after their caller's; and writing the file. */
#include "chaining.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "constants.h"
#include "opcodes.h"
#include "program.h"
#include "strbuf.h"

struct finder {
        const struct program *p;
        const struct vm *vm;
        uint32_t step;          /* the step whose code is being read */
        const char *in;         /* "if", "loop" or "inputs" */
        json_t *list;
};

static bool same_use(const json_t *e, const struct finder *f, const struct kseg *g)
{
        const json_t *src = json_object_get(e, "source");
        return json_integer_value(json_object_get(e, "@step")) == (json_int_t)f->step &&
               !strcmp(json_string_value(json_object_get(e, "in")), f->in) &&
               json_integer_value(json_object_get(src, "stepIndex")) == (json_int_t)g->index &&
               json_integer_value(json_object_get(e, "@entry")) == (json_int_t)g->entry &&
               !strcmp(json_string_value(json_object_get(src, "field")), g->kind == KSEG_OUTPUT ? "outputs" : "inputs") &&
               !strcmp(json_string_value(json_object_get(src, "key")), g->text);
}

/* What became of the expression by the end (or so far): "unused" when its
 * step never rendered it, "resolved" when the source had the value,
 * "empty" when it did not (the text became ""), "unavailable" when a
 * resumed run has no values of the source (disableLogging). */
static const char *status_of(const struct finder *f, const struct kseg *g)
{
        if (!f->vm)
                return "unused";
        const struct vm_step *c = &f->vm->steps[f->step];
        bool used = !strcmp(f->in, "if") ? c->state != STEP_NOT_RUN : c->attempts > 0;
        if (!used)
                return "unused";
        const struct vm_step *s = &f->vm->steps[g->index];
        if (s->redacted)
                return "unavailable";
        const json_t *arr = g->kind == KSEG_OUTPUT ? s->outputs : s->inputs;
        const json_t *e = json_array_get(arr, g->entry < 0 ? 0 : (size_t)g->entry);
        return json_object_get(e, g->text) ? "resolved" : "empty";
}

static void add_use(struct finder *f, const struct kseg *g)
{
        if (g->index >= f->p->n_steps || f->step >= f->p->n_steps)
                return;
        size_t i;
        json_t *e;
        json_array_foreach(f->list, i, e) if (same_use(e, f, g)) return;
        const struct prog_step *src = &f->p->steps[g->index], *user = &f->p->steps[f->step];
        const char *field = g->kind == KSEG_OUTPUT ? "outputs" : "inputs";
        char idx[32] = "";
        if (g->entry >= 0)
                snprintf(idx, sizeof idx, "[%lld]", (long long)g->entry);
        char *text = xasprintf("{{ %s.%s.%s%s.%s }}", f->p->phases[src->phase].name, src->name, field, idx, g->text);
        json_array_append_new(
                f->list,
                json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:I, s:s, s:I, s:s}, s:s, s:I, s:I}", "expression", text,
                          "phase", f->p->phases[user->phase].name, "step", user->name, "in", f->in, "source", "phase",
                          f->p->phases[src->phase].name, "step", src->name, "stepIndex", (json_int_t)g->index,
                          "field", field, "entry", (json_int_t)(g->entry < 0 ? 0 : g->entry), "key", g->text,
                          "status", status_of(f, g), "@step", (json_int_t)f->step, "@entry", (json_int_t)g->entry));
        free(text);
}

static void find_in_node(struct finder *f, const struct knode *n)
{
        switch (n->kind) {
        case KN_TEMPLATE:
                for (size_t i = 0; i < n->tmpl.n_segs; i++)
                        if (n->tmpl.segs[i].kind == KSEG_OUTPUT || n->tmpl.segs[i].kind == KSEG_INPUT)
                                add_use(f, &n->tmpl.segs[i]);
                break;
        case KN_LIST:
        case KN_MAP:
                for (size_t i = 0; i < n->list.n; i++)
                        find_in_node(f, &n->list.items[i]);
                break;
        default:
                break;
        }
}

/* A document's own expressions, in the order its code renders them: a
 * step's condition comes before its first attempt, its loop and inputs
 * after it. */
static json_t *expressions(const struct program *p, const struct vm *vm)
{
        struct finder f = { .p = p, .vm = vm, .step = UINT32_MAX, .list = json_array() };
        bool attempted = false;
        for (size_t pc = 0; pc < p->n_code; pc++) {
                uint32_t insn = p->code[pc];
                enum opcode op = op_get(insn);
                unsigned bx = op_bx(insn);
                if (op == OP_STEP) {
                        f.step = bx;
                        attempted = false;
                } else if (op == OP_ATTEMPT)
                        attempted = true;
                else if (op == OP_ENDSTEP)
                        f.step = UINT32_MAX;
                else if ((op == OP_LOADK || op == OP_RENDER || op == OP_LOOPINIT) && f.step != UINT32_MAX &&
                         bx < p->n_k) {
                        const struct kconst *k = &p->k[bx];
                        f.in = op == OP_LOOPINIT ? "loop" : k->kind == K_INPUTS || attempted ? "inputs" : "if";
                        find_in_node(&f, &k->node);
                }
        }
        /* The keys that found duplicates are not part of the file. */
        size_t i;
        json_t *e;
        json_array_foreach(f.list, i, e)
        {
                json_object_del(e, "@step");
                json_object_del(e, "@entry");
        }
        return f.list;
}

json_t *chaining_document(const struct doc_run *dr, const struct vm *vm, const struct doc_run *caller,
                          size_t caller_step)
{
        const struct program *p = dr->d->prog;
        json_t *by = json_null();
        if (caller) {
                const struct program *cp = caller->d->prog;
                by = json_pack("{s:s, s:s, s:s}", "filePath", caller->d->path, "phase",
                               cp->phases[cp->steps[caller_step].phase].name, "step", cp->steps[caller_step].name);
        }
        json_t *out = json_array();
        json_array_append_new(out, json_pack("{s:s, s:s, s:o, s:o}", "name", p->name, "filePath", dr->d->path,
                                             "calledBy", by, "expressions", expressions(p, vm)));
        for (size_t k = 0; k < p->n_steps; k++)
                if (dr->chains[k])
                        json_array_extend(out, dr->chains[k]);
        return out;
}

void chaining_write(struct logdir *log, const char *execution_id, const struct doc_run *runs,
                    struct vm *const *vms, size_t n)
{
        json_t *docs = json_array();
        for (size_t i = 0; i < n; i++) {
                if (runs[i].chaining) {
                        json_array_extend(docs, runs[i].chaining);
                        continue;
                }
                json_t *d = chaining_document(&runs[i], runs[i].ran ? vms[i] : NULL, NULL, 0);
                json_array_extend(docs, d);
                json_decref(d);
        }
        json_t *o = json_pack("{s:s, s:o}", "executionId", execution_id, "documents", docs);
        char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(o);
        int e = text ? logdir_write(log, "chaining.json", text, strlen(text)) : -ENOMEM;
        if (e < 0)
                log_app(log, "Error", "cannot write chaining.json: %s", strerror(-e));
        free(text);
}
