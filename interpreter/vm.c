/* vm.c: the interpreter loop, loop iterators, output consolidation, step
 * and phase results, and saving and restoring the whole state as JSON.
 * The values of constants (references, input trees, defaults) are
 * render.c's. */
#include "vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "errmsg.h"
#include "hash.h"
#include "opcodes.h"
#include "strbuf.h"

#define NONE UINT32_MAX
#define NO_LOOP 255u
#define STATE_VERSION 1

const char *step_state_name(enum step_state s)
{
        static const char *const n[_STEP_STATE_MAX] = {
                "notrun", "running", "success", "failed", "ignoredfailure", "skipped",
        };
        return s < _STEP_STATE_MAX ? n[s] : "?";
}

const char *phase_state_name(enum phase_state s)
{
        static const char *const n[_PHASE_STATE_MAX] = { "notrun", "running", "success", "failed", "success" };
        return s < _PHASE_STATE_MAX ? n[s] : "?";
}

static enum vm_status fail(struct vm *vm, const char *msg)
{
        free(vm->error);
        errmsg_set(&vm->error, -EINVAL, "%s", msg);
        return VM_ERROR;
}

static void set_reg(struct vm *vm, unsigned r, json_t *v)
{
        json_decref(vm->regs[r]);
        vm->regs[r] = v;
}

static bool truthy(const json_t *v)
{
        return json_is_true(v);
}

/* The inputs as detailedoutput.json records them: always an array. */
static json_t *as_entries(json_t *inputs)
{
        if (json_is_array(inputs))
                return json_incref(inputs);
        json_t *a = json_array();
        json_array_append(a, inputs);
        return a;
}

/* ---- loops ------------------------------------------------------------- */

/* Iterator register: {"items": [...]} or {"for": [start, end, by]}, with "pos". */
static json_t *make_iterator(struct vm *vm, const struct kconst *loop)
{
        if (loop->kind == K_LOOP_FOR)
                return json_pack("{s:[I,I,I], s:i}", "for", (json_int_t)loop->start, (json_int_t)loop->end,
                                 (json_int_t)loop->by, "pos", 0);
        json_t *items = json_array();
        if (loop->kind == K_LOOP_EACH) {
                for (size_t i = 0; i < loop->node.list.n; i++)
                        json_array_append_new(items, vm_render_node(vm, &loop->node.list.items[i]));
        } else if (loop->kind == K_LOOP_SPLIT) {
                json_t *s = vm_render_node(vm, &loop->node);
                const char *d = loop->delimiter;
                char delim = d && *d ? d[0] : ',';
                const char *p = json_string_value(s) ? json_string_value(s) : "";
                size_t len = json_string_length(s);
                /* Items are split on every delimiter; an empty list has none. */
                if (len) {
                        const char *start = p, *end = p + len;
                        for (const char *q = p; q <= end; q++)
                                if (q == end || *q == delim) {
                                        json_array_append_new(items, json_stringn(start, (size_t)(q - start)));
                                        start = q + 1;
                                }
                }
                json_decref(s);
        }
        return json_pack("{s:o, s:i}", "items", items, "pos", 0);
}

/* The item at the iterator's position; false when exhausted. */
static bool iterator_item(const json_t *it, json_int_t *ret_index, json_t **ret_value)
{
        json_int_t pos = json_integer_value(json_object_get(it, "pos"));
        json_t *f = json_object_get(it, "for");
        if (f) {
                json_int_t s = json_integer_value(json_array_get(f, 0));
                json_int_t e = json_integer_value(json_array_get(f, 1));
                json_int_t by = json_integer_value(json_array_get(f, 2));
                /* Exhausted past the last index, as the checker and the
                 * verifier count it; the value start + pos * by is exact
                 * even where pos * by alone would overflow (loopfor.h). */
                uint64_t last;
                if (pos < 0 || !loop_for_last(s, e, by, &last) || (uint64_t)pos > last)
                        return false;
                *ret_index = pos;
                *ret_value = json_integer(loop_for_value(s, by, (uint64_t)pos));
                return true;
        }
        json_t *items = json_object_get(it, "items");
        if (pos < 0 || (size_t)pos >= json_array_size(items))
                return false;
        *ret_index = pos;
        *ret_value = json_incref(json_array_get(items, (size_t)pos));
        return true;
}

static void loop_set(struct vm *vm, unsigned a)
{
        json_int_t idx;
        json_t *val;
        bool any = iterator_item(vm->regs[a], &idx, &val);
        set_reg(vm, a + 1, any ? json_integer(idx) : json_null());
        set_reg(vm, a + 2, any ? val : json_null());
        set_reg(vm, a + 3, json_boolean(any));
}

/* ---- outputs ----------------------------------------------------------- */

/* Joins the string outputs of the successful iterations with "\n" per
 * entry and key; other values keep the last iteration's.  ExecuteDocument
 * is the exception: its outputs are one summary per executed document, so
 * its iterations' entries follow one another. */
static json_t *consolidate(const struct prog_step *ps, const json_t *iterations)
{
        size_t n = json_array_size(iterations);
        if (n == 0)
                return json_array();
        if (n == 1)
                return json_deep_copy(json_array_get(iterations, 0));
        if (ps->spec->id == ACTION_ID_ExecuteDocument) {
                json_t *out = json_array();
                for (size_t i = 0; i < n; i++) {
                        json_t *e, *it = json_array_get(iterations, i);
                        size_t k;
                        json_array_foreach(it, k, e) json_array_append_new(out, json_deep_copy(e));
                }
                return out;
        }
        json_t *out = json_array();
        size_t entries = 0;
        for (size_t i = 0; i < n; i++)
                if (json_array_size(json_array_get(iterations, i)) > entries)
                        entries = json_array_size(json_array_get(iterations, i));
        for (size_t e = 0; e < entries; e++) {
                json_t *merged = json_object();
                for (size_t i = 0; i < n; i++) {
                        json_t *obj = json_array_get(json_array_get(iterations, i), e);
                        const char *key;
                        json_t *v;
                        json_object_foreach(obj, key, v)
                        {
                                json_t *prev = json_object_get(merged, key);
                                if (prev && json_is_string(prev) && json_is_string(v)) {
                                        struct strbuf b = STRBUF_INIT;
                                        sb_append(&b, json_string_value(prev), json_string_length(prev));
                                        sb_putc(&b, '\n');
                                        sb_append(&b, json_string_value(v), json_string_length(v));
                                        json_object_set_new(merged, key, json_stringn(b.s, b.len));
                                        sb_free(&b);
                                } else
                                        json_object_set(merged, key, v);
                        }
                }
                json_array_append_new(out, merged);
        }
        return out;
}

/* ---- events and statuses ----------------------------------------------- */

static void event(struct vm *vm, enum vm_event ev, uint32_t index)
{
        if (vm->host && vm->host->event)
                vm->host->event(vm->host->userdata, vm, ev, index);
}

static void set_failure(struct vm_step *s, const char *msg)
{
        free(s->failure);
        s->failure = msg ? xstrdup(msg) : NULL;
}

/* Registers live within one step: when it ends they are emptied, so
 * nothing of it (rendered inputs, loop items) lingers in the state. */
static void clear_step_values(struct vm *vm)
{
        for (unsigned i = 0; i < vm->prog->n_regs; i++)
                set_reg(vm, i, json_null());
        free(vm->render_error);
        vm->render_error = NULL;
}

/* Step result: applies onFailure.  Returns true if the program must stop. */
static bool end_step(struct vm *vm, uint32_t si, bool ok)
{
        struct vm_step *s = &vm->steps[si];
        const struct prog_step *ps = &vm->prog->steps[si];
        bool stop = false;
        if (vm->render_error) {
                /* A value rendered for no action (an empty loop's items). */
                ok = false;
                set_failure(s, vm->render_error);
        }
        json_decref(s->outputs);
        s->outputs = consolidate(ps, s->iterations);
        if (ok) {
                s->state = STEP_SUCCESS;
                set_failure(s, NULL);
        } else if (ps->on_failure == ONFAIL_IGNORE) {
                s->state = STEP_IGNORED;
                vm->ignored = true;
                if (vm->cur_phase != NONE && vm->phases[vm->cur_phase] == PHASE_RUNNING)
                        vm->phases[vm->cur_phase] = PHASE_IGNORED;
        } else {
                s->state = STEP_FAILED;
                vm->failed = true;
                if (vm->cur_phase != NONE)
                        vm->phases[vm->cur_phase] = PHASE_FAILED;
                stop = ps->on_failure == ONFAIL_ABORT;
                vm->aborted |= stop;
        }
        if (!ok && !s->failure)
                set_failure(s, "step failed");
        /* A loop step's failure names the iterations that failed. */
        if (!ok && json_array_size(s->failed_iterations) && ps->loop && !s->aborted_by_condition) {
                struct strbuf b = STRBUF_INIT;
                size_t i;
                json_t *v;
                sb_printf(&b, "%s (failed iterations:", s->failure);
                json_array_foreach(s->failed_iterations, i, v) sb_printf(&b, " %lld", (long long)json_integer_value(v));
                sb_puts(&b, ")");
                set_failure(s, sb_str(&b));
                sb_free(&b);
        }
        event(vm, VM_EV_STEP_END, si);
        vm->cur_step = NONE;
        vm->loop_reg = NO_LOOP;
        clear_step_values(vm);
        return stop;
}

static void end_phase(struct vm *vm, uint32_t pi)
{
        if (vm->phases[pi] == PHASE_RUNNING)
                vm->phases[pi] = PHASE_SUCCESS;
        event(vm, VM_EV_PHASE_END, pi);
        vm->cur_phase = NONE;
}

/* ---- the loop ---------------------------------------------------------- */

#define vmcase(op) case OP_##op:
#define vmbreak break

enum vm_status vm_run(struct vm *vm)
{
        const struct program *p = vm->prog;
        for (;;) {
                if (vm->budget && vm->instructions >= vm->budget)
                        return VM_PAUSED;
                if (vm->pc >= p->n_code)
                        return fail(vm, "pc ran past the end of the program");
                uint32_t insn = p->code[vm->pc];
                if (vm->trace)
                        vm->trace(vm->trace_userdata, vm, vm->pc);
                vm->instructions++;
                unsigned a = op_a(insn), b = op_b(insn), c = op_c(insn), bx = op_bx(insn);
                uint32_t next = vm->pc + 1;
                switch (op_get(insn)) {
                vmcase(PHASE)
                {
                        if (!vm->phase_selected[bx]) {
                                next = p->phases[bx].end_pc;
                                vmbreak;
                        }
                        vm->cur_phase = bx;
                        vm->phases[bx] = PHASE_RUNNING;
                        event(vm, VM_EV_PHASE_START, bx);
                        vmbreak;
                }
                vmcase(ENDPHASE)
                {
                        end_phase(vm, bx);
                        vmbreak;
                }
                vmcase(STEP)
                {
                        struct vm_step *s = &vm->steps[bx];
                        vm->step_pc = vm->pc;
                        vm->cur_step = bx;
                        vm->loop_reg = NO_LOOP;
                        s->state = STEP_RUNNING;
                        s->attempts = 0;
                        s->aborted_by_condition = false;
                        set_failure(s, NULL);
                        event(vm, VM_EV_STEP_START, bx);
                        vmbreak;
                }
                vmcase(SKIP)
                {
                        vm->steps[bx].state = STEP_SKIPPED;
                        event(vm, VM_EV_STEP_END, bx);
                        vm->cur_step = NONE;
                        clear_step_values(vm);
                        if (vm->pause_at_step_end) {
                                vm->pc = next;
                                return VM_STEP_END;
                        }
                        vmbreak;
                }
                vmcase(ABORT)
                {
                        vm->steps[bx].aborted_by_condition = true;
                        set_failure(&vm->steps[bx], "the step's condition chose Abort");
                        vmbreak;
                }
                vmcase(ATTEMPT)
                {
                        struct vm_step *s = &vm->steps[bx];
                        s->attempts++;
                        json_decref(s->iterations);
                        s->iterations = json_array();
                        json_decref(s->failed_iterations);
                        s->failed_iterations = json_array();
                        event(vm, VM_EV_ATTEMPT, bx);
                        vmbreak;
                }
                vmcase(LOADBOOL)
                {
                        set_reg(vm, a, json_boolean(b != 0));
                        vmbreak;
                }
                vmcase(LOADK)
                {
                        set_reg(vm, a, vm_render(vm, &p->k[bx]));
                        vmbreak;
                }
                vmcase(RENDER)
                {
                        set_reg(vm, a, vm_render(vm, &p->k[bx]));
                        vmbreak;
                }
                vmcase(PRED)
                {
                        const struct predicate *pr = &predicates[c];
                        const char *x = json_string_value(vm->regs[b]), *y = json_string_value(vm->regs[b + 1]);
                        bool r = false;
                        char *err = NULL;
                        if (vm->render_error) {
                                /* An operand could not be rendered: the
                                 * condition is false, and that is why. */
                                if (vm->cur_step != NONE)
                                        set_failure(&vm->steps[vm->cur_step], vm->render_error);
                                free(vm->render_error);
                                vm->render_error = NULL;
                        } else if (!vm->host || !vm->host->pred ||
                            vm->host->pred(vm->host->userdata, pr, x ? x : "", y ? y : "", &r, &err) < 0) {
                                r = false;
                                if (err && vm->cur_step != NONE)
                                        set_failure(&vm->steps[vm->cur_step], err);
                        }
                        free(err);
                        set_reg(vm, a, json_boolean(r));
                        vmbreak;
                }
                vmcase(NOT)
                {
                        set_reg(vm, a, json_boolean(!truthy(vm->regs[b])));
                        vmbreak;
                }
                vmcase(JMP)
                {
                        next = (uint32_t)((int64_t)vm->pc + 1 + op_sj_get(insn));
                        vmbreak;
                }
                vmcase(JMPIF)
                {
                        if (truthy(vm->regs[a]))
                                next = (uint32_t)((int64_t)vm->pc + 1 + op_sbx(insn));
                        vmbreak;
                }
                vmcase(JMPIFNOT)
                {
                        if (!truthy(vm->regs[a]))
                                next = (uint32_t)((int64_t)vm->pc + 1 + op_sbx(insn));
                        vmbreak;
                }
                vmcase(LOOPINIT)
                {
                        set_reg(vm, a, make_iterator(vm, &p->k[bx]));
                        vm->loop_reg = a;
                        loop_set(vm, a);
                        vmbreak;
                }
                vmcase(LOOPNEXT)
                {
                        json_t *it = vm->regs[a];
                        if (!json_is_object(it))
                                return fail(vm, "LOOPNEXT on a register without an iterator");
                        /* A restored position at the very end stays there
                         * (exhausted) rather than overflow. */
                        json_int_t pos = json_integer_value(json_object_get(it, "pos"));
                        json_object_set_new(it, "pos", json_integer(pos < INT64_MAX ? pos + 1 : pos));
                        loop_set(vm, a);
                        if (truthy(vm->regs[a + 3]))
                                next = (uint32_t)((int64_t)vm->pc + 1 + op_sbx(insn));
                        vmbreak;
                }
                vmcase(ACT)
                {
                        if (vm->cur_step == NONE)
                                return fail(vm, "ACT outside a step");
                        if (c >= _ACTION_ID_MAX || p->steps[vm->cur_step].spec != &action_specs[c])
                                return fail(vm, "ACT runs another action than its step's");
                        struct vm_step *s = &vm->steps[vm->cur_step];
                        if (vm->render_error) {
                                /* The attempt fails without its action. */
                                set_failure(s, vm->render_error);
                                free(vm->render_error);
                                vm->render_error = NULL;
                                if (vm->loop_reg != NO_LOOP)
                                        json_array_append_new(s->failed_iterations,
                                                              json_integer(json_integer_value(vm->regs[vm->loop_reg + 1])));
                                json_decref(s->inputs);
                                s->inputs = NULL;
                                set_reg(vm, b, json_null());
                                set_reg(vm, a, json_false());
                                event(vm, VM_EV_INPUT_ERROR, vm->cur_step);
                                vmbreak;
                        }
                        json_t *in = vm_materialise(&action_specs[c], vm->regs[b]);
                        set_reg(vm, b, in);
                        json_decref(s->inputs);
                        s->inputs = as_entries(in);
                        vm->pending = (struct vm_pending){
                                .step = vm->cur_step,
                                .action = (enum action_id)c,
                                .iteration = vm->loop_reg != NO_LOOP
                                                     ? (long)json_integer_value(vm->regs[vm->loop_reg + 1])
                                                     : -1,
                                .inputs = in,
                        };
                        vm->awaiting = true;
                        return VM_YIELD; /* pc stays at ACT until vm_complete */
                }
                vmcase(RETRY)
                {
                        if (!truthy(vm->regs[a]) && vm->cur_step != NONE &&
                            vm->steps[vm->cur_step].attempts < p->steps[vm->cur_step].max_attempts &&
                            !vm->steps[vm->cur_step].aborted_by_condition)
                                next = (uint32_t)((int64_t)vm->pc + 1 + op_sbx(insn));
                        vmbreak;
                }
                vmcase(ENDSTEP)
                {
                        if (vm->cur_step == NONE)
                                return fail(vm, "ENDSTEP outside a step");
                        if (end_step(vm, vm->cur_step, truthy(vm->regs[a]))) {
                                /* Abort: close the phase and stop. */
                                if (vm->cur_phase != NONE)
                                        end_phase(vm, vm->cur_phase);
                                next = (uint32_t)p->n_code - 1;
                        }
                        if (vm->pause_at_step_end) {
                                vm->pc = next;
                                return VM_STEP_END;
                        }
                        vmbreak;
                }
                vmcase(HALT)
                {
                        return VM_DONE;
                }
                default:
                        return fail(vm, "invalid instruction");
                }
                vm->pc = next;
        }
}

int vm_complete(struct vm *vm, bool succeeded, json_t *outputs, const char *failure)
{
        if (!vm->awaiting || vm->cur_step == NONE) {
                json_decref(outputs);
                return -EINVAL;
        }
        uint32_t insn = vm->prog->code[vm->pc];
        struct vm_step *s = &vm->steps[vm->cur_step];
        if (succeeded)
                json_array_append_new(s->iterations, outputs ? outputs : json_array());
        else {
                json_decref(outputs);
                set_failure(s, failure ? failure : "the action failed");
                if (vm->pending.iteration >= 0)
                        json_array_append_new(s->failed_iterations, json_integer(vm->pending.iteration));
        }
        set_reg(vm, op_a(insn), json_boolean(succeeded));
        vm->awaiting = false;
        vm->pending = (struct vm_pending){ .step = NONE, .iteration = -1 };
        vm->pc++;
        return 0;
}

/* ---- creation ---------------------------------------------------------- */

static struct vm *alloc_vm(const struct program *prog, const struct vm_host *host)
{
        struct vm *vm = xcalloc(1, sizeof *vm);
        vm->prog = prog;
        vm->host = host;
        vm->regs = xcalloc(prog->n_regs ? prog->n_regs : 1, sizeof *vm->regs);
        for (unsigned i = 0; i < prog->n_regs; i++)
                vm->regs[i] = json_null();
        vm->steps = xcalloc(prog->n_steps ? prog->n_steps : 1, sizeof *vm->steps);
        vm->vars = xcalloc(prog->n_vars ? prog->n_vars : 1, sizeof *vm->vars);
        vm->phase_selected = xcalloc(prog->n_phases ? prog->n_phases : 1, sizeof *vm->phase_selected);
        vm->phases = xcalloc(prog->n_phases ? prog->n_phases : 1, sizeof *vm->phases);
        vm->cur_phase = vm->cur_step = NONE;
        vm->loop_reg = NO_LOOP;
        vm->pending = (struct vm_pending){ .step = NONE, .iteration = -1 };
        return vm;
}

struct vm *vm_new(const struct program *prog, const struct vm_host *host, json_t *params, const char *const *phases)
{
        struct vm *vm = alloc_vm(prog, host);
        for (size_t i = 0; i < prog->n_vars; i++) {
                const struct prog_var *v = &prog->vars[i];
                json_t *given = v->constant ? NULL : json_object_get(params, v->name);
                if (given && json_is_string(given))
                        vm->vars[i] = json_incref(given);
                else
                        vm->vars[i] = json_string(v->has_value ? v->value : "");
        }
        for (size_t i = 0; i < prog->n_phases; i++) {
                bool sel = phases == NULL;
                for (size_t k = 0; phases && phases[k]; k++)
                        sel |= !strcmp(phases[k], prog->phases[i].name);
                vm->phase_selected[i] = sel;
        }
        return vm;
}

struct vm *vm_free(struct vm *vm)
{
        if (!vm)
                return NULL;
        for (unsigned i = 0; i < vm->prog->n_regs; i++)
                json_decref(vm->regs[i]);
        free(vm->regs);
        for (size_t i = 0; i < vm->prog->n_steps; i++) {
                struct vm_step *s = &vm->steps[i];
                free(s->failure);
                json_decref(s->inputs);
                json_decref(s->outputs);
                json_decref(s->iterations);
                json_decref(s->failed_iterations);
        }
        free(vm->steps);
        for (size_t i = 0; i < vm->prog->n_vars; i++)
                json_decref(vm->vars[i]);
        free_many(vm->vars, vm->phase_selected, vm->phases, vm->render_error, vm->error, vm);
        return NULL;
}

void vm_stop(struct vm *vm)
{
        if (vm->cur_step != NONE) {
                uint32_t si = vm->cur_step;
                struct vm_step *s = &vm->steps[si];
                bool ran = s->attempts > 1 || json_array_size(s->iterations) > 0 ||
                           json_array_size(s->failed_iterations) > 0;
                vm->awaiting = false;
                vm->pending = (struct vm_pending){ .step = NONE, .iteration = -1 };
                if (ran) {
                        /* Part of it ran: it failed, whatever its onFailure. */
                        json_decref(s->outputs);
                        s->outputs = consolidate(&vm->prog->steps[si], s->iterations);
                        s->state = STEP_FAILED;
                        set_failure(s, "stopped before the step finished");
                        event(vm, VM_EV_STEP_END, si);
                } else {
                        s->state = STEP_NOT_RUN;
                        s->attempts = 0;
                        set_failure(s, NULL);
                        json_decref(s->inputs);
                        s->inputs = NULL;
                }
                vm->cur_step = NONE;
                vm->loop_reg = NO_LOOP;
        }
        if (vm->cur_phase != NONE) {
                vm->phases[vm->cur_phase] = PHASE_FAILED;
                event(vm, VM_EV_PHASE_END, vm->cur_phase);
                vm->cur_phase = NONE;
        }
        clear_step_values(vm);
        vm->failed = vm->aborted = vm->stopped = true;
        vm->pc = (uint32_t)vm->prog->n_code - 1;
}

/* ---- state ------------------------------------------------------------- */

static json_t *or_null(json_t *v)
{
        return v ? json_incref(v) : json_null();
}

/* A private step's values as a saved state keeps them: the same entries
 * and keys, every value "***" (reports show the shape; nothing else). */
static json_t *masked(const json_t *v)
{
        if (!v)
                return json_null();
        if (json_is_array(v)) {
                json_t *a = json_array(), *e;
                size_t i;
                json_array_foreach(v, i, e) json_array_append_new(a, masked(e));
                return a;
        }
        if (json_is_object(v)) {
                json_t *o = json_object(), *e;
                const char *k;
                json_object_foreach((json_t *)v, k, e) json_object_set_new(o, k, json_string("***"));
                return o;
        }
        return json_string("***");
}

bool vm_step_private(const struct vm *vm, size_t i)
{
        return i < vm->prog->n_steps && (vm->prog->steps[i].disable_logging || vm->steps[i].secret);
}

/* Whether a finished step's values must stay out of saved states. */
static bool keeps_values_private(const struct vm *vm, size_t i)
{
        const struct vm_step *s = &vm->steps[i];
        return vm_step_private(vm, i) && (s->inputs || s->outputs || s->iterations || s->redacted);
}

/* Inside a private step, the state is the one at its STEP: a resumed
 * run renders (and resolves its SecureStrings) again. */
static bool saves_rewound(const struct vm *vm)
{
        const struct program *p = vm->prog;
        return vm->cur_step != NONE && vm_step_private(vm, vm->cur_step) && vm->step_pc < p->n_code &&
               op_get(p->code[vm->step_pc]) == OP_STEP && op_bx(p->code[vm->step_pc]) == vm->cur_step;
}

json_t *vm_save_step(const struct vm *vm, size_t i)
{
        const struct vm_step *s = &vm->steps[i];
        if (saves_rewound(vm) && i == vm->cur_step)
                return json_pack("{s:i, s:i, s:n, s:b, s:n, s:n, s:n, s:n}", "state", STEP_NOT_RUN, "attempts", 0,
                                 "failure", "abortedByCondition", 0, "inputs", "outputs", "iterations",
                                 "failedIterations");
        bool private = keeps_values_private(vm, i);
        json_t *o = json_pack("{s:i, s:i, s:s?, s:b, s:o, s:o, s:o, s:o}", "state", s->state, "attempts",
                              (json_int_t)s->attempts, "failure", s->failure, "abortedByCondition",
                              s->aborted_by_condition, "inputs", private ? masked(s->inputs) : or_null(s->inputs),
                              "outputs", private ? masked(s->outputs) : or_null(s->outputs), "iterations",
                              /* Only a running step needs them: once it has
                               * ended they are all in its outputs. */
                              private || s->state != STEP_RUNNING ? json_null() : or_null(s->iterations),
                              "failedIterations", or_null(s->failed_iterations));
        if (private)
                json_object_set_new(o, "redacted", json_true());
        if (s->secret)
                json_object_set_new(o, "secret", json_true());
        return o;
}

json_t *vm_save_core(const struct vm *vm)
{
        const struct program *p = vm->prog;
        char hex[2 * PROG_SHA256_LEN + 1];
        hash_hex(p->sha256, PROG_SHA256_LEN, hex);
        bool rewind = saves_rewound(vm);
        json_t *regs = json_array(), *vars = json_array(), *sel = json_array(), *phases = json_array();
        for (unsigned i = 0; i < p->n_regs; i++)
                json_array_append_new(regs, rewind ? json_null() : json_deep_copy(vm->regs[i]));
        for (size_t i = 0; i < p->n_vars; i++)
                json_array_append(vars, vm->vars[i]);
        for (size_t i = 0; i < p->n_phases; i++) {
                json_array_append_new(sel, json_boolean(vm->phase_selected[i]));
                json_array_append_new(phases, json_integer(vm->phases[i]));
        }
        json_int_t cur_step = rewind || vm->cur_step == NONE ? -1 : (json_int_t)vm->cur_step;
        json_t *st = json_pack("{s:i, s:s, s:I, s:o, s:o, s:o, s:o, s:I, s:I, s:i, s:b, s:b, s:b, s:b, s:I}", "version",
                         STATE_VERSION, "sha256", hex, "pc", (json_int_t)(rewind ? vm->step_pc : vm->pc), "regs",
                         regs, "vars", vars, "phaseSelected", sel, "phases", phases, "currentPhase",
                         (json_int_t)(vm->cur_phase == NONE ? -1 : (json_int_t)vm->cur_phase), "currentStep",
                         cur_step, "loopRegister", rewind ? (int)NO_LOOP : (int)vm->loop_reg, "awaiting",
                         rewind ? 0 : vm->awaiting, "failed", vm->failed, "ignored", vm->ignored, "aborted",
                         vm->aborted, "instructions", (json_int_t)vm->instructions);
        /* Between a RENDER that failed and its ACT, the reason is state
         * too (a failed {{ aws:ssm: }} lookup is not asked again). */
        if (vm->render_error && !rewind)
                json_object_set_new(st, "renderError", json_string(vm->render_error));
        return st;
}

json_t *vm_save(const struct vm *vm)
{
        json_t *st = vm_save_core(vm), *steps = json_array();
        for (size_t i = 0; i < vm->prog->n_steps; i++)
                json_array_append_new(steps, vm_save_step(vm, i));
        json_object_set_new(st, "steps", steps);
        return st;
}

/* A restored loop iterator must be one LOOPINIT could have made: a state
 * is trusted only as far as it is checked. */
static bool iterator_fits(const json_t *it)
{
        json_t *pos = json_object_get(it, "pos"), *f = json_object_get(it, "for");
        if (!json_is_object(it) || !json_is_integer(pos) || json_integer_value(pos) < 0)
                return false;
        if (f) {
                uint64_t last;
                return json_array_size(f) == 3 && json_is_integer(json_array_get(f, 0)) &&
                       json_is_integer(json_array_get(f, 1)) && json_is_integer(json_array_get(f, 2)) &&
                       loop_for_last(json_integer_value(json_array_get(f, 0)), json_integer_value(json_array_get(f, 1)),
                                     json_integer_value(json_array_get(f, 2)), &last) &&
                       last < LOOP_MAX_ITERATIONS;
        }
        json_t *items = json_object_get(it, "items");
        return json_is_array(items) && json_array_size(items) <= LOOP_MAX_ITERATIONS;
}

static json_t *take(json_t *v)
{
        return v && !json_is_null(v) ? json_incref(v) : NULL;
}

struct vm *vm_restore(const struct program *p, const struct vm_host *host, json_t *st, char **err)
{
        json_int_t version, pc, cur_phase, cur_step, loop_reg, instructions;
        const char *sha;
        json_t *regs, *steps, *vars, *sel, *phases;
        int awaiting, failed, ignored, aborted;
        if (json_unpack(st, "{s:I, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:b, s:b, s:b, s:b, s:I}",
                        "version", &version, "sha256", &sha, "pc", &pc, "regs", &regs, "steps", &steps, "vars", &vars,
                        "phaseSelected", &sel, "phases", &phases, "currentPhase", &cur_phase, "currentStep",
                        &cur_step, "loopRegister", &loop_reg, "awaiting", &awaiting, "failed", &failed, "ignored",
                        &ignored, "aborted", &aborted, "instructions", &instructions)) {
                errmsg_set(err, 0, "the saved state is malformed");
                return NULL;
        }
        char hex[2 * PROG_SHA256_LEN + 1];
        hash_hex(p->sha256, PROG_SHA256_LEN, hex);
        if (version != STATE_VERSION) {
                errmsg_set(err, 0, "the saved state has version %lld; this opentoe reads version %d",
                         (long long)version, STATE_VERSION);
                return NULL;
        }
        if (strcmp(sha, hex) != 0) {
                errmsg_set(err, 0, "the saved state belongs to a different document (sha256 %.16s..., this one "
                         "is %.16s...)", sha, hex);
                return NULL;
        }
        if (pc < 0 || (size_t)pc >= p->n_code || json_array_size(regs) != p->n_regs ||
            json_array_size(steps) != p->n_steps || json_array_size(vars) != p->n_vars ||
            json_array_size(sel) != p->n_phases || json_array_size(phases) != p->n_phases ||
            cur_phase < -1 || cur_phase >= (json_int_t)p->n_phases || cur_step < -1 ||
            cur_step >= (json_int_t)p->n_steps || loop_reg < 0 || loop_reg > 255 ||
            (loop_reg != NO_LOOP && loop_reg + 3 >= (json_int_t)p->n_regs) ||
            (awaiting && (op_get(p->code[pc]) != OP_ACT || cur_step < 0))) {
                errmsg_set(err, 0, "the saved state does not fit this program");
                return NULL;
        }
        if (loop_reg != NO_LOOP && !iterator_fits(json_array_get(regs, (size_t)loop_reg))) {
                errmsg_set(err, 0, "the saved state's loop does not fit this program");
                return NULL;
        }
        struct vm *vm = alloc_vm(p, host);
        vm->pc = (uint32_t)pc;
        for (unsigned i = 0; i < p->n_regs; i++)
                set_reg(vm, i, json_deep_copy(json_array_get(regs, i)));
        for (size_t i = 0; i < p->n_steps; i++) {
                json_t *o = json_array_get(steps, i);
                json_int_t state = json_integer_value(json_object_get(o, "state"));
                json_int_t attempts = json_integer_value(json_object_get(o, "attempts"));
                if (state < 0 || state >= _STEP_STATE_MAX || attempts < 0 || attempts > 1000) {
                        errmsg_set(err, 0, "the saved state of step %zu is malformed", i);
                        return vm_free(vm);
                }
                struct vm_step *s = &vm->steps[i];
                s->state = (enum step_state)state;
                s->attempts = (uint32_t)attempts;
                const char *f = json_string_value(json_object_get(o, "failure"));
                s->failure = f ? xstrdup(f) : NULL;
                s->aborted_by_condition = json_is_true(json_object_get(o, "abortedByCondition"));
                s->inputs = take(json_object_get(o, "inputs"));
                s->outputs = take(json_object_get(o, "outputs"));
                s->iterations = take(json_object_get(o, "iterations"));
                s->failed_iterations = take(json_object_get(o, "failedIterations"));
                s->redacted = json_is_true(json_object_get(o, "redacted"));
                s->secret = json_is_true(json_object_get(o, "secret"));
        }
        for (size_t i = 0; i < p->n_vars; i++) {
                json_t *v = json_array_get(vars, i);
                vm->vars[i] = json_is_string(v) ? json_incref(v) : json_string("");
        }
        for (size_t i = 0; i < p->n_phases; i++) {
                json_int_t ph = json_integer_value(json_array_get(phases, i));
                vm->phase_selected[i] = json_is_true(json_array_get(sel, i));
                vm->phases[i] = ph >= 0 && ph < _PHASE_STATE_MAX ? (enum phase_state)ph : PHASE_NOT_RUN;
        }
        vm->cur_phase = cur_phase < 0 ? NONE : (uint32_t)cur_phase;
        vm->cur_step = cur_step < 0 ? NONE : (uint32_t)cur_step;
        /* The STEP instruction of the step the state is inside. */
        for (uint32_t q = vm->pc + 1; vm->cur_step != NONE && q-- > 0;)
                if (op_get(p->code[q]) == OP_STEP && op_bx(p->code[q]) == vm->cur_step) {
                        vm->step_pc = q;
                        break;
                }
        vm->loop_reg = (unsigned)loop_reg;
        vm->failed = failed;
        vm->ignored = ignored;
        vm->aborted = aborted;
        vm->instructions = (uint64_t)instructions;
        const char *rerr = json_string_value(json_object_get(st, "renderError"));
        if (rerr && cur_step >= 0)
                vm->render_error = xstrdup(rerr);
        /* An action in flight when the state was saved runs again. */
        vm->awaiting = false;
        return vm;
}
