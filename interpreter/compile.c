/* compile.c: code generation.  The checker has already accepted the
 * document, so this file walks the tree trusting its shape, resolves
 * names to indexes, and emits the instructions of opcodes.h.  Each
 * construct is one gen_* function whose comment shows what it emits.
 * Forward jumps are emitted with a zero offset and patched when their
 * target is known. */
#include "compile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "hash.h"
#include "hindex.h"
#include "opcodes.h"
#include "predicates.h"
#include "strbuf.h"
#include "template.h"

/* Fixed register layout of a step (conditions use the ones above). */
enum {
        REG_STATUS = 0,   /* the step's (or iteration's) result */
        REG_INPUTS = 1,   /* rendered inputs */
        REG_LOOP = 2,     /* iterator; +1 index, +2 value, +3 any item? */
        REG_LOOP_INDEX = 3,
        REG_LOOP_VALUE = 4,
        REG_LOOP_ANY = 5,
        REG_TEMP = 6,     /* first register for conditions */
};

struct comp {
        const struct ydoc *doc;
        struct program *p;
        /* The step being compiled, for loop references. */
        const char *loop_name;
        bool in_loop;
        unsigned next_reg;
        int error;
        /* Names resolved in one probe (hindex.h): V[] by name, S[] by
         * phase and name. */
        struct hindex var_index, step_index;
};

static uint64_t step_hash(const char *phase, const char *step)
{
        return hindex_hash_str(hindex_hash_str(HINDEX_SEED, phase), step);
}

static struct srcloc loc_of(const struct ynode *n)
{
        return n ? (struct srcloc){ n->line, n->column } : (struct srcloc){ 0, 0 };
}

static uint32_t emit(struct comp *c, uint32_t insn, const struct ynode *at)
{
        return prog_emit(c->p, insn, loc_of(at));
}

/* Points the jump at `from` to the next instruction to be emitted. */
static void patch_here(struct comp *c, uint32_t from)
{
        struct program *p = c->p;
        uint32_t insn = p->code[from];
        int off = (int)p->n_code - (int)from - 1;
        enum opcode op = op_get(insn);
        if (opcode_info[op].format == FMT_SJ)
                p->code[from] = op_sj(op, off);
        else
                p->code[from] = op_asbx(op, op_a(insn), off);
        if (off > OP_MAXARG_SBX && opcode_info[op].format != FMT_SJ)
                c->error = -E2BIG;
}

static int back_offset(struct comp *c, uint32_t target)
{
        return (int)target - (int)c->p->n_code - 1;
}

static unsigned alloc_regs(struct comp *c, unsigned n)
{
        unsigned r = c->next_reg;
        c->next_reg += n;
        if (c->next_reg > c->p->n_regs)
                c->p->n_regs = c->next_reg;
        if (c->next_reg > OP_MAXARG_A)
                c->error = -E2BIG;
        return r;
}

/* ---- templates and values ---------------------------------------------- */

/* A reference as a template segment; false if it names nothing (checked
 * documents have none such). */
static bool compile_ref(struct comp *c, const char *expr, struct kseg *ret)
{
        struct ref r;
        const char *why;
        bool found = false;
        if (ref_parse(expr, &r, &why) < 0)
                return false;
        switch (r.kind) {
        case REF_VARIABLE: {
                size_t pos = 0, i;
                /* The checker refused documents that declare a name twice. */
                while (!found && hindex_next(&c->var_index, hindex_hash_str(HINDEX_SEED, r.name), &pos, &i))
                        if (!strcmp(c->p->vars[i].name, r.name)) {
                                *ret = (struct kseg){ .kind = KSEG_VAR, .index = (uint32_t)i };
                                found = true;
                        }
                break;
        }
        case REF_LOOP:
                if (c->in_loop && (!strcmp(r.name, "loop") || (c->loop_name && !strcmp(r.name, c->loop_name)))) {
                        *ret = (struct kseg){ .kind = KSEG_REG, .index = r.loop_index ? REG_LOOP_INDEX : REG_LOOP_VALUE };
                        found = true;
                }
                break;
        case REF_CHAIN: {
                size_t pos = 0, i;
                /* ... nor two steps of one name in a phase, nor two phases of one name. */
                while (!found && hindex_next(&c->step_index, step_hash(r.phase, r.step), &pos, &i)) {
                        const struct prog_step *s = &c->p->steps[i];
                        if (!strcmp(s->name, r.step) && !strcmp(c->p->phases[s->phase].name, r.phase)) {
                                *ret = (struct kseg){ .kind = r.outputs ? KSEG_OUTPUT : KSEG_INPUT,
                                                      .index = (uint32_t)i,
                                                      .entry = r.index,
                                                      .text = xstrdup(r.key),
                                                      .len = strlen(r.key) };
                                found = true;
                        }
                }
                break;
        }
        case REF_SSM:
                *ret = (struct kseg){ .kind = KSEG_SSM, .resolve = r.ssm_resolve, .text = xstrdup(r.ssm),
                                      .len = strlen(r.ssm) };
                found = true;
                break;
        case _REF_KIND_MAX:
                break;
        }
        ref_free(&r);
        return found;
}

/* A string with references becomes a template node, one without a string
 * node. */
static void compile_string(struct comp *c, const char *s, size_t len, struct knode *ret)
{
        struct tmpl t;
        if (!tmpl_has_refs(s, len)) {
                *ret = (struct knode){ .kind = KN_STRING, .str = { xstrndup(s, len), len } };
                return;
        }
        /* Braces that are not references (a Go template in a script)
         * are text, as written, beside the references of the string. */
        tmpl_split(s, len, &t);
        struct kseg *segs = xcalloc(t.n ? t.n : 1, sizeof *segs);
        for (size_t i = 0; i < t.n; i++) {
                /* Text, and references that resolve to nothing (checked
                 * documents have none), stay as written. */
                if (t.segs[i].kind != TSEG_REF || !compile_ref(c, t.segs[i].text, &segs[i]))
                        segs[i] = (struct kseg){ .kind = KSEG_TEXT,
                                                 .text = xstrndup(s + t.segs[i].offset, t.segs[i].len),
                                                 .len = t.segs[i].len };
        }
        *ret = (struct knode){ .kind = KN_TEMPLATE, .tmpl = { segs, t.n } };
        tmpl_free(&t);
}

/* An input value as an input-tree node. */
static void compile_node(struct comp *c, const struct ynode *n, struct knode *ret)
{
        bool b;
        long long i;
        double f;
        *ret = (struct knode){ .kind = KN_NULL };
        if (!n || yn_is_null(n))
                return;
        switch (n->kind) {
        case YN_SCALAR:
                if (yn_as_bool(n, &b))
                        *ret = (struct knode){ .kind = KN_BOOL, .b = b };
                else if (yn_as_int(n, &i))
                        *ret = (struct knode){ .kind = KN_INT, .i = i };
                else if (yn_as_number(n, &f))
                        *ret = (struct knode){ .kind = KN_REAL, .f = f };
                else
                        compile_string(c, n->str, n->len, ret);
                return;
        case YN_SEQ:
        case YN_MAP:
                ret->kind = n->kind == YN_SEQ ? KN_LIST : KN_MAP;
                ret->list.n = n->n;
                ret->list.items = xcalloc(n->n ? n->n : 1, sizeof *ret->list.items);
                if (n->kind == YN_MAP)
                        ret->list.keys = xcalloc(n->n ? n->n : 1, sizeof *ret->list.keys);
                for (size_t k = 0; k < n->n; k++) {
                        if (n->kind == YN_MAP)
                                ret->list.keys[k] = xstrdup(n->pairs[k].key->str);
                        compile_node(c, n->kind == YN_SEQ ? n->items[k] : n->pairs[k].value, &ret->list.items[k]);
                }
                return;
        }
}

/* Emits R[reg] := the scalar's text, rendered ("" when n is NULL; the
 * instruction is then attributed to `at`). */
static void gen_string(struct comp *c, unsigned reg, const struct ynode *n, const struct ynode *at)
{
        const char *s = n && n->kind == YN_SCALAR && !yn_is_null(n) ? n->str : "";
        size_t len = n && n->kind == YN_SCALAR && !yn_is_null(n) ? n->len : 0;
        struct kconst k = { 0 };
        compile_string(c, s, len, &k.node);
        bool literal = k.node.kind == KN_STRING;
        k.kind = literal ? K_STRING : K_TEMPLATE;
        uint32_t ki = prog_constant(c->p, &k);
        emit(c, op_abx(literal ? OP_LOADK : OP_RENDER, reg, ki), n ? n : at);
}

/* ---- conditions -------------------------------------------------------- */

static unsigned pred_index(const struct predicate *p)
{
        return (unsigned)(p - predicates);
}

/* Finds the operator key of a condition mapping. */
static const struct ypair *find_operator(const struct ynode *e, const struct predicate **ret)
{
        for (size_t i = 0; e && e->kind == YN_MAP && i < e->n; i++) {
                const struct predicate *p = pred_find(e->pairs[i].key->str);
                if (p) {
                        *ret = p;
                        return &e->pairs[i];
                }
        }
        return NULL;
}

/*
 * gen_cond(e) leaves the truth of e in `dst`:
 *   comparison:  LOADK/RENDER t, operand; LOADK/RENDER t+1, value|path; PRED dst t op
 *   not e:       <e> ; NOT dst dst
 *   and e1..en:  <e1> ; JMPIFNOT dst -> done ; ... ; <en> ; done:
 *   or  e1..en:  <e1> ; JMPIF dst -> done ; ... ; <en> ; done:
 */
static void gen_cond(struct comp *c, const struct ynode *e, unsigned dst)
{
        const struct predicate *p;
        if (e->kind == YN_SEQ && e->n == 1)
                e = e->items[0];
        const struct ypair *op = find_operator(e, &p);
        if (!op) {
                c->error = -EINVAL;
                return;
        }
        const struct ynode *v = op->value;
        switch (p->form) {
        case PF_NOT:
                gen_cond(c, v->kind == YN_SEQ ? v->items[0] : v, dst);
                emit(c, op_abc(OP_NOT, dst, dst, 0), op->key);
                return;
        case PF_AND:
        case PF_OR: {
                uint32_t *jumps = xcalloc(v->n, sizeof *jumps);
                for (size_t i = 0; i < v->n; i++) {
                        gen_cond(c, v->items[i], dst);
                        if (i + 1 < v->n)
                                jumps[i] = emit(c, op_asbx(p->form == PF_AND ? OP_JMPIFNOT : OP_JMPIF, dst, 0), op->key);
                }
                for (size_t i = 0; i + 1 < v->n; i++)
                        patch_here(c, jumps[i]);
                free(jumps);
                return;
        }
        default: {
                unsigned saved = c->next_reg;
                unsigned t = alloc_regs(c, 2);
                gen_string(c, t, v, op->key);
                const struct ynode *other = yn_get(e, p->form == PF_PATH ? "path" : "value");
                gen_string(c, t + 1, other, op->key);
                emit(c, op_abc(OP_PRED, dst, t, pred_index(p)), op->key);
                c->next_reg = saved;
                return;
        }
        }
}

/* ---- steps ------------------------------------------------------------- */

static enum on_failure parse_on_failure(const struct ynode *n)
{
        if (n && n->kind == YN_SCALAR && !strcmp(n->str, "Continue"))
                return ONFAIL_CONTINUE;
        if (n && n->kind == YN_SCALAR && !strcmp(n->str, "Ignore"))
                return ONFAIL_IGNORE;
        return ONFAIL_ABORT;
}

/* The loop as detailedoutput.json shows it, and the LOOPINIT constant. */
static void loop_constant(struct comp *c, const struct ynode *loop, struct kconst *ret, json_t **ret_desc)
{
        const struct ynode *f = yn_get(loop, "for"), *fe = yn_get(loop, "forEach"), *name = yn_get(loop, "name");
        json_t *desc = json_object();
        json_object_set_new(desc, "name", json_string(name && name->kind == YN_SCALAR ? name->str : ""));
        *ret = (struct kconst){ 0 };
        if (f) {
                long long s = 0, e = 0, b = 1;
                /* Read as the checker read them, so the loop that runs is
                 * the one validate counted. */
                if (!check_loop_int(yn_get(f, "start"), &s) || !check_loop_int(yn_get(f, "end"), &e) ||
                    !check_loop_int(yn_get(f, "updateBy"), &b))
                        c->error = -EINVAL;
                *ret = (struct kconst){ .kind = K_LOOP_FOR, .start = s, .end = e, .by = b };
                json_object_set_new(desc, "for", json_pack("{s:I,s:I,s:I}", "start", (json_int_t)s, "end",
                                                           (json_int_t)e, "updateBy", (json_int_t)b));
        } else if (fe->kind == YN_SEQ) {
                json_t *plain = json_array();
                ret->kind = K_LOOP_EACH;
                compile_node(c, fe, &ret->node);
                for (size_t i = 0; i < fe->n; i++)
                        json_array_append_new(plain, json_string(fe->items[i]->str));
                json_object_set_new(desc, "forEach", plain);
        } else {
                const struct ynode *l = yn_get(fe, "list"), *d = yn_get(fe, "delimiter");
                const char *delim = d ? d->str : ",";
                if (!strcmp(delim, "\\n"))
                        delim = "\n";
                else if (!strcmp(delim, "\\t"))
                        delim = "\t";
                ret->kind = K_LOOP_SPLIT;
                compile_node(c, l, &ret->node);
                ret->delimiter = xstrdup(delim);
                json_object_set_new(desc, "forEach", json_pack("{s:s, s:s}", "list", l->str, "delimiter", delim));
        }
        *ret_desc = desc;
}

/* Emits the action chosen by `then`/`else` ("Execute", "Skip", "Abort").
 * Returns the pc of a jump to patch to the run, or UINT32_MAX. */
static void gen_if_action(struct comp *c, const char *action, uint32_t step, const struct ynode *at,
                          uint32_t *ret_to_run, uint32_t *ret_to_end, uint32_t *ret_to_endstep)
{
        *ret_to_run = *ret_to_end = *ret_to_endstep = UINT32_MAX;
        if (!strcmp(action, "Skip")) {
                emit(c, op_abx(OP_SKIP, 0, step), at);
                *ret_to_end = emit(c, op_sj(OP_JMP, 0), at);
        } else if (!strcmp(action, "Abort")) {
                emit(c, op_abx(OP_ABORT, 0, step), at);
                emit(c, op_abc(OP_LOADBOOL, REG_STATUS, 0, 0), at);
                *ret_to_endstep = emit(c, op_sj(OP_JMP, 0), at);
        } else {
                *ret_to_run = emit(c, op_sj(OP_JMP, 0), at);
        }
}

/*
 * gen_step emits, for step s:
 *   STEP s
 *   [if]      <cond> -> rc ; JMPIF rc -> then
 *             <else action> ; then: <then action>
 *             (Execute: JMP run; Skip: SKIP s, JMP end;
 *              Abort: ABORT s, LOADBOOL r0 0, JMP endstep)
 *   run:
 *   attempt:  ATTEMPT s
 *   [loop]    LOADBOOL r0 1 ; LOOPINIT r2 K ; JMPIFNOT r5 -> done
 *     body:   RENDER r1 K ; ACT r0 r1 a ; JMPIFNOT r0 -> done ; LOOPNEXT r2 -> body
 *     done:
 *   [else]    RENDER r1 K ; ACT r0 r1 a           (a: the step's action id)
 *             RETRY r0 -> attempt
 *   endstep:  ENDSTEP r0
 *   end:
 */
static void gen_step(struct comp *c, const struct ynode *m, uint32_t si)
{
        struct program *p = c->p;
        const struct prog_step *s = &p->steps[si];
        const struct ynode *cond = yn_get(m, "if"), *loop = yn_get(m, "loop"), *in = yn_get(m, "inputs");
        unsigned act = s->spec ? (unsigned)s->spec->id : 0;
        uint32_t to_run[2], to_end[2], to_endstep[2];
        for (int i = 0; i < 2; i++)
                to_run[i] = to_end[i] = to_endstep[i] = UINT32_MAX;

        c->next_reg = REG_TEMP;
        alloc_regs(c, 0);
        if (p->n_regs < REG_TEMP)
                p->n_regs = REG_TEMP;
        c->in_loop = false;
        c->loop_name = NULL;
        emit(c, op_abx(OP_STEP, 0, si), m);

        if (cond) {
                const struct ynode *e = cond->kind == YN_SEQ && cond->n == 1 ? cond->items[0] : cond;
                unsigned rc = alloc_regs(c, 1);
                gen_cond(c, e, rc);
                const struct ynode *th = yn_get(e, "then"), *el = yn_get(e, "else");
                uint32_t j = emit(c, op_asbx(OP_JMPIF, rc, 0), cond);
                gen_if_action(c, el ? el->str : "Skip", si, el ? el : cond, &to_run[0], &to_end[0], &to_endstep[0]);
                patch_here(c, j);
                const char *then_action = th ? th->str : "Execute";
                /* Execute as the last branch falls through to the run. */
                if (strcmp(then_action, "Execute") != 0)
                        gen_if_action(c, then_action, si, th ? th : cond, &to_run[1], &to_end[1], &to_endstep[1]);
        }
        for (int i = 0; i < 2; i++)
                if (to_run[i] != UINT32_MAX)
                        patch_here(c, to_run[i]);

        uint32_t attempt = emit(c, op_abx(OP_ATTEMPT, 0, si), m);
        struct kconst inputs_k = { .kind = K_INPUTS, .node = { .kind = KN_NULL } };
        if (loop) {
                c->in_loop = true;
                const struct ynode *ln = yn_get(loop, "name");
                c->loop_name = ln && ln->kind == YN_SCALAR && ln->len ? ln->str : NULL;
        }
        if (in)
                compile_node(c, in, &inputs_k.node);
        uint32_t ki = prog_constant(p, &inputs_k);
        if (loop) {
                json_t *desc;
                struct kconst lk;
                loop_constant(c, loop, &lk, &desc);
                uint32_t kl = prog_constant(p, &lk);
                json_decref(p->steps[si].loop);
                p->steps[si].loop = desc;
                emit(c, op_abc(OP_LOADBOOL, REG_STATUS, 1, 0), loop);
                emit(c, op_abx(OP_LOOPINIT, REG_LOOP, kl), loop);
                uint32_t empty = emit(c, op_asbx(OP_JMPIFNOT, REG_LOOP_ANY, 0), loop);
                uint32_t body = emit(c, op_abx(OP_RENDER, REG_INPUTS, ki), in ? in : m);
                emit(c, op_abc(OP_ACT, REG_STATUS, REG_INPUTS, act), m);
                uint32_t failed = emit(c, op_asbx(OP_JMPIFNOT, REG_STATUS, 0), m);
                emit(c, op_asbx(OP_LOOPNEXT, REG_LOOP, back_offset(c, body)), loop);
                patch_here(c, empty);
                patch_here(c, failed);
        } else {
                emit(c, op_abx(OP_RENDER, REG_INPUTS, ki), in ? in : m);
                emit(c, op_abc(OP_ACT, REG_STATUS, REG_INPUTS, act), m);
        }
        emit(c, op_asbx(OP_RETRY, REG_STATUS, back_offset(c, attempt)), m);
        for (int i = 0; i < 2; i++)
                if (to_endstep[i] != UINT32_MAX)
                        patch_here(c, to_endstep[i]);
        emit(c, op_abc(OP_ENDSTEP, REG_STATUS, 0, 0), m);
        for (int i = 0; i < 2; i++)
                if (to_end[i] != UINT32_MAX)
                        patch_here(c, to_end[i]);
}

static void add_vars(struct comp *c, const struct ynode *list, bool constant)
{
        struct program *p = c->p;
        if (!list || list->kind != YN_SEQ)
                return;
        for (size_t i = 0; i < list->n; i++) {
                const struct ynode *item = list->items[i];
                const struct ynode *body = item->pairs[0].value;
                const struct ynode *v = yn_get(body, constant ? "value" : "default");
                p->vars = xrealloc(p->vars, (p->n_vars + 1) * sizeof *p->vars);
                struct prog_var *pv = &p->vars[p->n_vars++];
                *pv = (struct prog_var){ xstrdup(item->pairs[0].key->str), constant, false, NULL };
                hindex_add(&c->var_index, hindex_hash_str(HINDEX_SEED, pv->name), p->n_vars - 1);
                if (v && v->kind == YN_SCALAR && !yn_is_null(v)) {
                        pv->has_value = true;
                        pv->value = xstrdup(v->str);
                } else if (v && v->kind == YN_SEQ) {
                        /* A stringList default: its items joined by commas. */
                        struct strbuf b = STRBUF_INIT;
                        for (size_t k = 0; k < v->n; k++)
                                sb_printf(&b, "%s%s", k ? "," : "", v->items[k]->kind == YN_SCALAR ? v->items[k]->str : "");
                        pv->has_value = true;
                        pv->value = sb_take(&b);
                }
        }
}

static void add_tables(struct comp *c, const struct ynode *root)
{
        struct program *p = c->p;
        const struct ynode *phases = yn_get(root, "phases");
        p->phases = xcalloc(phases->n, sizeof *p->phases);
        size_t n_steps = 0;
        for (size_t i = 0; i < phases->n; i++)
                n_steps += yn_get(phases->items[i], "steps")->n;
        p->steps = xcalloc(n_steps ? n_steps : 1, sizeof *p->steps);
        for (size_t i = 0; i < phases->n; i++) {
                const struct ynode *ph = phases->items[i];
                p->phases[p->n_phases++] = (struct prog_phase){ xstrdup(yn_get(ph, "name")->str), 0, loc_of(ph) };
                const struct ynode *steps = yn_get(ph, "steps");
                for (size_t k = 0; k < steps->n; k++) {
                        const struct ynode *m = steps->items[k];
                        const struct ynode *t = yn_get(m, "timeoutSeconds"), *a = yn_get(m, "maxAttempts"),
                                           *dl = yn_get(m, "disableLogging");
                        long long timeout = 7200, attempts = 1;
                        bool disable = false;
                        if (t)
                                yn_as_int(t, &timeout);
                        if (a)
                                yn_as_int(a, &attempts);
                        if (dl)
                                yn_as_bool(dl, &disable);
                        const char *action = yn_get(m, "action")->str;
                        const struct action_spec *spec = action_spec_find(action);
                        if (!spec)
                                c->error = -EINVAL; /* the checker let an unknown action through */
                        if (spec && (spec->flags & ACT_FORCED_ONCE)) {
                                timeout = -1;
                                attempts = 1;
                        }
                        hindex_add(&c->step_index, step_hash(p->phases[i].name, yn_get(m, "name")->str), p->n_steps);
                        p->steps[p->n_steps++] = (struct prog_step){
                                .name = xstrdup(yn_get(m, "name")->str),
                                .phase = (uint32_t)i,
                                .action = xstrdup(action),
                                .spec = spec,
                                .timeout_seconds = timeout,
                                .max_attempts = (uint32_t)attempts,
                                .on_failure = parse_on_failure(yn_get(m, "onFailure")),
                                .disable_logging = disable,
                                .loc = loc_of(m),
                        };
                }
        }
}

int comp_program(const struct ydoc *doc, const struct check_options *opts, struct program **ret,
                 struct diag_list *diags)
{
        size_t errors = diags->n_errors;
        if (check_document(doc, opts, diags) < 0 || diags->n_errors > errors)
                return -EINVAL;
        const struct ynode *root = doc->root;
        struct program *p = prog_new();
        struct comp c = { .doc = doc, .p = p };
        const struct ynode *nm = yn_get(root, "name"), *ds = yn_get(root, "description");
        free_many(p->name, p->description, p->source_path, p->source);
        p->name = xstrdup(nm && nm->kind == YN_SCALAR && !yn_is_null(nm) ? nm->str : "");
        p->description = xstrdup(ds && ds->kind == YN_SCALAR && !yn_is_null(ds) ? ds->str : "");
        p->source_path = xstrdup(doc->path);
        p->source = xstrndup(doc->src, doc->src_len);
        p->source_len = doc->src_len;
        size_t dl;
        _cleanup_free_ char *why = NULL;
        int r = hash_buffer(HASH_SHA256, doc->src, doc->src_len, p->sha256, &dl, &why);
        if (r < 0) {
                diag_add(diags, DIAG_ERROR, "internal", doc->path, 0, 0, 1, NULL, "%s", why);
                prog_free(p);
                return r;
        }
        add_vars(&c, yn_get(root, "parameters"), false);
        add_vars(&c, yn_get(root, "constants"), true);
        add_tables(&c, root);
        p->n_regs = REG_TEMP;

        /*
         * Per phase:  PHASE p ; <steps> ; ENDPHASE p   (end_pc: after ENDPHASE)
         * then:       HALT
         */
        const struct ynode *phases = yn_get(root, "phases");
        uint32_t si = 0;
        for (size_t i = 0; i < phases->n; i++) {
                const struct ynode *ph = phases->items[i];
                emit(&c, op_abx(OP_PHASE, 0, (unsigned)i), ph);
                const struct ynode *steps = yn_get(ph, "steps");
                for (size_t k = 0; k < steps->n; k++)
                        gen_step(&c, steps->items[k], si++);
                emit(&c, op_abx(OP_ENDPHASE, 0, (unsigned)i), ph);
                p->phases[i].end_pc = (uint32_t)p->n_code;
        }
        emit(&c, op_abc(OP_HALT, 0, 0, 0), root);
        hindex_free(&c.var_index);
        hindex_free(&c.step_index);
        prog_constants_done(p);
        _cleanup_free_ char *err = NULL;
        if (c.error == -EINVAL) {
                diag_add(diags, DIAG_ERROR, "internal", doc->path, 0, 0, 1, NULL,
                         "the document was accepted by the checker but cannot be compiled (a bug in opentoe)");
                prog_free(p);
                return -EINVAL;
        }
        if (c.error || p->n_steps > OP_MAXARG_BX || p->n_k > OP_MAXARG_BX || p->n_phases > OP_MAXARG_BX) {
                diag_add(diags, DIAG_ERROR, "too-large", doc->path, root->line, root->column, 1, NULL,
                         "the document is too large to compile (more than 65535 steps, constants or phases, "
                         "or jumps over 32767 instructions)");
                prog_free(p);
                return -E2BIG;
        }
        if (prog_verify(p, &err) < 0) {
                diag_add(diags, DIAG_ERROR, "internal", doc->path, 0, 0, 1, NULL,
                         "the compiled program does not verify (a bug in opentoe): %s", err ? err : "?");
                prog_free(p);
                return -EINVAL;
        }
        *ret = p;
        return 0;
}

int comp_load(const char *path, const struct check_options *opts, struct program **ret, struct diag_list *diags,
              struct ydoc **ret_doc)
{
        /* A compiled program is recognised by its magic number. */
        FILE *f = fopen(path, "rb");
        unsigned char magic[4];
        size_t n = f ? fread(magic, 1, 4, f) : 0;
        if (f)
                fclose(f);
        if (prog_is_otc(magic, n)) {
                _cleanup_free_ char *err = NULL;
                int r = prog_load(path, ret, &err);
                if (r < 0)
                        diag_add(diags, DIAG_ERROR, "otc", path, 0, 0, 1, NULL, "%s", err ? err : strerror(-r));
                return r;
        }
        struct ydoc *doc = NULL;
        int r = ydoc_load_file(path, NULL, &doc, diags);
        if (r >= 0 || (doc && doc->root))
                r = comp_program(doc, opts, ret, diags);
        if (ret_doc)
                *ret_doc = doc;
        else
                ydoc_free(doc);
        return r;
}
