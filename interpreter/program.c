/* program.c: building, verifying, saving and loading compiled programs.
 * The .otc layout (all integers little-endian):
 *
 *   "OTC\x1a"  u32 version  u8[32] source sha256
 *   u32 len + JSON header (name, description, source path, n_regs,
 *                          phases, steps, vars, actions)
 *   u32 n_code, then n_code x (u32 insn, u32 line, u32 column)
 *   u32 n_k, then n_k x (u32 len + the constant, as constants.c writes it)
 *   u32 len + the source text
 *   u8[32] sha256 of every byte before it
 *
 * ACT's C operand is this build's enum action_id, a number that changes
 * when an action is added; in a file it is an index into the header's
 * "actions", the names of the actions the program runs, and loading turns
 * each name back into this build's number.
 *
 * Loading checks the magic, the version, every length against what is
 * left, the trailing digest, and then runs prog_verify: a truncated,
 * corrupted or foreign file is an error, never a crash. */
#include "program.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "errmsg.h"
#include "hash.h"
#include "opcodes.h"
#include "predicates.h"
#include "strbuf.h"
#include "wire.h"

const struct opcode_info opcode_info[_OP_MAX] = {
#define OPCODE_INFO(name, fmt, flags, doc) { #name, fmt, flags, doc },
        OPCODE_LIST(OPCODE_INFO)
#undef OPCODE_INFO
};

static const unsigned char otc_magic[4] = { 'O', 'T', 'C', 0x1a };

_Static_assert(_ACTION_ID_MAX <= 256, "ACT's C operand has 8 bits");

#define OTC_MAX_FILE (64u * 1024u * 1024u)

const char *on_failure_name(enum on_failure f)
{
        static const char *const n[_ONFAIL_MAX] = { "Abort", "Continue", "Ignore" };
        return f < _ONFAIL_MAX ? n[f] : "?";
}

struct program *prog_new(void)
{
        struct program *p = xcalloc(1, sizeof *p);
        p->k_index = kconst_index_new();
        p->name = xstrdup("");
        p->description = xstrdup("");
        p->source_path = xstrdup("");
        p->source = xstrdup("");
        return p;
}

struct program *prog_free(struct program *p)
{
        if (!p)
                return NULL;
        free(p->code);
        free(p->loc);
        for (size_t i = 0; i < p->n_k; i++)
                kconst_free(&p->k[i]);
        free(p->k);
        kconst_index_free(p->k_index);
        for (size_t i = 0; i < p->n_phases; i++)
                free(p->phases[i].name);
        free(p->phases);
        for (size_t i = 0; i < p->n_steps; i++) {
                free(p->steps[i].name);
                free(p->steps[i].action);
                json_decref(p->steps[i].loop);
        }
        free(p->steps);
        for (size_t i = 0; i < p->n_vars; i++) {
                free(p->vars[i].name);
                free(p->vars[i].value);
        }
        free_many(p->vars, p->name, p->description, p->source_path, p->source, p);
        return NULL;
}

uint32_t prog_emit(struct program *p, uint32_t insn, struct srcloc loc)
{
        if (p->n_code == p->cap_code) {
                p->cap_code = p->cap_code ? p->cap_code * 2 : 64;
                p->code = xrealloc(p->code, p->cap_code * sizeof *p->code);
                p->loc = xrealloc(p->loc, p->cap_code * sizeof *p->loc);
        }
        p->code[p->n_code] = insn;
        p->loc[p->n_code] = loc;
        return (uint32_t)p->n_code++;
}

uint32_t prog_constant(struct program *p, struct kconst *k)
{
        uint32_t i = (uint32_t)p->n_k;
        if (p->k_index) {
                struct strbuf enc = STRBUF_INIT;
                kconst_encode(k, &enc);
                i = kconst_index_get(p->k_index, enc.s, enc.len, i);
                sb_free(&enc);
        }
        if (i < p->n_k) {
                kconst_free(k);
                return i;
        }
        if (p->n_k == p->cap_k) {
                p->cap_k = p->cap_k ? p->cap_k * 2 : 32;
                p->k = xrealloc(p->k, p->cap_k * sizeof *p->k);
        }
        p->k[p->n_k] = *k;
        *k = (struct kconst){ .kind = K_STRING, .node = { .kind = KN_NULL } };
        return (uint32_t)p->n_k++;
}

void prog_constants_done(struct program *p)
{
        p->k_index = kconst_index_free(p->k_index);
}

/* ---- verification ------------------------------------------------------ */

/* A constant's indexes and bounds, once; *max_step as kconst_fits.
 * Loops are bounded as the checker bounds them (loopfor.h). */
static bool verify_constant(const struct program *p, const struct kconst *k, long *max_step)
{
        uint64_t last;
        if (!kconst_fits(k, p->n_vars, p->n_regs, p->n_steps, max_step))
                return false;
        switch (k->kind) {
        case K_LOOP_FOR:
                /* A loop the checker would accept: one that ends, within
                 * the iteration limit. */
                return loop_for_last(k->start, k->end, k->by, &last) && last < LOOP_MAX_ITERATIONS;
        case K_LOOP_EACH:
                return k->node.list.n <= LOOP_MAX_ITERATIONS;
        default:
                return true;
        }
}

/* The kinds of constant an instruction may load. */
static bool fits_opcode(enum opcode op, enum kconst_kind kind)
{
        switch (op) {
        case OP_LOADK:
                return kind == K_STRING;
        case OP_RENDER:
                return kind == K_STRING || kind == K_TEMPLATE || kind == K_INPUTS;
        case OP_LOOPINIT:
                return kind == K_LOOP_FOR || kind == K_LOOP_EACH || kind == K_LOOP_SPLIT;
        default:
                return false;
        }
}

static int verify_code(const struct program *p, const long *k_max, char **err);

int prog_verify(const struct program *p, char **err)
{
        if (p->n_code == 0 || op_get(p->code[p->n_code - 1]) != OP_HALT) {
                errmsg_set(err, 0, "the program does not end with HALT");
                return -EINVAL;
        }
        if (p->n_regs > OP_MAXARG_A + 1) {
                errmsg_set(err, 0, "the program declares %u registers; at most 256 exist", p->n_regs);
                return -EINVAL;
        }
        for (size_t i = 0; i < p->n_steps; i++) {
                if (p->steps[i].phase >= p->n_phases || !p->steps[i].spec || p->steps[i].max_attempts < 1 ||
                    p->steps[i].on_failure >= _ONFAIL_MAX) {
                        errmsg_set(err, 0, "step %zu of the step table is inconsistent", i);
                        return -EINVAL;
                }
        }
        for (size_t i = 0; i < p->n_phases; i++)
                if (p->phases[i].end_pc > p->n_code) {
                        errmsg_set(err, 0, "phase %zu ends outside the program", i);
                        return -EINVAL;
                }
        /* Each constant is checked once; instructions then only compare
         * the highest step it chains to with the step they are in. */
        long *k_max = xcalloc(p->n_k ? p->n_k : 1, sizeof *k_max);
        for (size_t i = 0; i < p->n_k; i++) {
                k_max[i] = -1;
                if (!verify_constant(p, &p->k[i], &k_max[i])) {
                        if (p->k[i].kind == K_LOOP_FOR)
                                errmsg_set(err, 0,
                                         "constant K%zu is a 'for' loop that is not three integers, never ends, "
                                         "or runs more than %u iterations", i, LOOP_MAX_ITERATIONS);
                        else
                                errmsg_set(err, 0, "constant K%zu is malformed or refers outside the program", i);
                        free(k_max);
                        return -EINVAL;
                }
        }
        int r = verify_code(p, k_max, err);
        free(k_max);
        return r;
}

static int verify_code(const struct program *p, const long *k_max, char **err)
{
        size_t cur_step = p->n_steps; /* outside steps: no chaining allowed */
        for (size_t pc = 0; pc < p->n_code; pc++) {
                uint32_t insn = p->code[pc];
                enum opcode op = op_get(insn);
                if (op == OP_STEP && op_bx(insn) < p->n_steps)
                        cur_step = op_bx(insn);
                if (op >= _OP_MAX) {
                        errmsg_set(err, 0, "pc %zu: invalid opcode %u", pc, (unsigned)op);
                        return -EINVAL;
                }
                const struct opcode_info *oi = &opcode_info[op];
                unsigned f = oi->flags;
                unsigned a = op_a(insn);
                if ((f & OPF_A_REG) && a >= p->n_regs) {
                        errmsg_set(err, 0, "pc %zu: %s uses register %u of %u", pc, oi->name, a, p->n_regs);
                        return -EINVAL;
                }
                if ((f & OPF_A_REG4) && a + 3 >= p->n_regs) {
                        errmsg_set(err, 0, "pc %zu: %s uses registers %u..%u of %u", pc, oi->name, a, a + 3,
                                 p->n_regs);
                        return -EINVAL;
                }
                if ((f & OPF_B_REG) && op_b(insn) + (op == OP_PRED ? 1u : 0u) >= p->n_regs) {
                        errmsg_set(err, 0, "pc %zu: %s uses register %u of %u", pc, oi->name, op_b(insn), p->n_regs);
                        return -EINVAL;
                }
                if ((f & OPF_C_PRED) && op_c(insn) >= n_predicates) {
                        errmsg_set(err, 0, "pc %zu: unknown predicate %u", pc, op_c(insn));
                        return -EINVAL;
                }
                if ((f & OPF_C_ACTION) && op_c(insn) >= _ACTION_ID_MAX) {
                        errmsg_set(err, 0, "pc %zu: unknown action %u", pc, op_c(insn));
                        return -EINVAL;
                }
                if ((f & OPF_C_ACTION) &&
                    (cur_step == p->n_steps || p->steps[cur_step].spec != &action_specs[op_c(insn)])) {
                        errmsg_set(err, 0, "pc %zu: %s runs %s, which is not the action of the step it is in", pc,
                                 oi->name, action_specs[op_c(insn)].name);
                        return -EINVAL;
                }
                unsigned bx = op_bx(insn);
                if (((f & OPF_BX_K) && bx >= p->n_k) || ((f & OPF_BX_S) && bx >= p->n_steps) ||
                    ((f & OPF_BX_P) && bx >= p->n_phases)) {
                        errmsg_set(err, 0, "pc %zu: %s index %u is out of range", pc, oi->name, bx);
                        return -EINVAL;
                }
                if (f & OPF_JUMP) {
                        long target = (long)pc + 1 + (oi->format == FMT_SJ ? op_sj_get(insn) : op_sbx(insn));
                        if (target < 0 || (size_t)target >= p->n_code) {
                                errmsg_set(err, 0, "pc %zu: %s jumps to %ld, outside the program", pc, oi->name,
                                         target);
                                return -EINVAL;
                        }
                }
                if ((f & OPF_BX_K) && !fits_opcode(op, p->k[bx].kind)) {
                        errmsg_set(err, 0, "pc %zu: %s refers to a constant of the wrong kind", pc, oi->name);
                        return -EINVAL;
                }
                if ((f & OPF_BX_K) && k_max[bx] >= 0 && (cur_step == p->n_steps || k_max[bx] >= (long)cur_step)) {
                        errmsg_set(err, 0, "pc %zu: constant K%u uses a step that does not run before this one",
                                 pc, bx);
                        return -EINVAL;
                }
                /* Only loops and retries jump back, and only in the shapes
                 * the compiler emits, so every program terminates. */
                if (f & OPF_JUMP) {
                        long off = oi->format == FMT_SJ ? op_sj_get(insn) : op_sbx(insn);
                        size_t target = (size_t)((long)pc + 1 + off);
                        if (off < 0 && op != OP_LOOPNEXT && op != OP_RETRY) {
                                errmsg_set(err, 0, "pc %zu: %s jumps backwards", pc, oi->name);
                                return -EINVAL;
                        }
                        if (op == OP_RETRY && (op_get(p->code[target]) != OP_ATTEMPT || off >= 0 ||
                                               op_bx(p->code[target]) != cur_step)) {
                                errmsg_set(err, 0, "pc %zu: RETRY must jump back to its own step's ATTEMPT", pc);
                                return -EINVAL;
                        }
                        if (op == OP_LOOPNEXT && off >= 0) {
                                errmsg_set(err, 0, "pc %zu: LOOPNEXT must jump back", pc);
                                return -EINVAL;
                        }
                        for (size_t q = target; off < 0 && q < pc; q++) {
                                enum opcode o2 = op_get(p->code[q]);
                                /* A retried region may hold one loop but no STEP
                                 * (which would reset the attempts); a loop body
                                 * holds no other loop. */
                                /* Nor may the body write the loop's registers. */
                                unsigned f2 = o2 < _OP_MAX ? opcode_info[o2].flags : 0, a2 = op_a(p->code[q]);
                                bool writes_loop = op == OP_LOOPNEXT && (f2 & (OPF_A_REG | OPF_A_REG4)) &&
                                                   a2 + ((f2 & OPF_A_REG4) ? 3u : 0u) >= a && a2 <= a + 3;
                                if (o2 == OP_STEP || writes_loop ||
                                    (op == OP_LOOPNEXT && (o2 == OP_LOOPINIT || o2 == OP_LOOPNEXT || o2 == OP_ATTEMPT))) {
                                        errmsg_set(err, 0, "pc %zu: the loop back to %zu contains %s", pc, target,
                                                 opcode_info[o2 < _OP_MAX ? o2 : 0].name);
                                        return -EINVAL;
                                }
                        }
                }
        }
        return 0;
}

/* ---- serialisation ----------------------------------------------------- */

static void put_json(struct strbuf *b, const json_t *j)
{
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        wire_put_blob(b, s ? s : "null", s ? strlen(s) : 4);
        free(s);
}

/* The header's "actions": the name of each action an ACT runs, in order
 * of first use; file_index[id] is where action id is in it. */
static json_t *file_actions(const struct program *p, unsigned *file_index)
{
        json_t *names = json_array();
        for (size_t i = 0; i < _ACTION_ID_MAX; i++)
                file_index[i] = UINT_MAX;
        for (size_t pc = 0; pc < p->n_code; pc++) {
                unsigned id = op_c(p->code[pc]);
                if (op_get(p->code[pc]) != OP_ACT || id >= _ACTION_ID_MAX || file_index[id] != UINT_MAX)
                        continue;
                file_index[id] = (unsigned)json_array_size(names);
                json_array_append_new(names, json_string(action_specs[id].name));
        }
        return names;
}

/* An instruction as the file holds it: ACT with its action's index in
 * "actions" (an operand out of range, in a program that was never
 * verified, is written as it is). */
static uint32_t file_insn(uint32_t insn, const unsigned *file_index)
{
        if (op_get(insn) != OP_ACT || op_c(insn) >= _ACTION_ID_MAX)
                return insn;
        return op_abc(OP_ACT, op_a(insn), op_b(insn), file_index[op_c(insn)]);
}

static json_t *header_json(const struct program *p, json_t *actions)
{
        json_t *phases = json_array(), *steps = json_array(), *vars = json_array();
        for (size_t i = 0; i < p->n_phases; i++)
                json_array_append_new(phases, json_pack("{s:s, s:i, s:[i,i]}", "name", p->phases[i].name, "end",
                                                        (json_int_t)p->phases[i].end_pc, "loc",
                                                        (json_int_t)p->phases[i].loc.line,
                                                        (json_int_t)p->phases[i].loc.column));
        for (size_t i = 0; i < p->n_steps; i++) {
                const struct prog_step *s = &p->steps[i];
                json_array_append_new(steps,
                                      json_pack("{s:s, s:i, s:s, s:I, s:i, s:s, s:b, s:O?, s:[i,i]}", "name", s->name,
                                                "phase", (json_int_t)s->phase, "action", s->action, "timeout",
                                                (json_int_t)s->timeout_seconds, "attempts", (json_int_t)s->max_attempts,
                                                "onFailure", on_failure_name(s->on_failure), "disableLogging",
                                                s->disable_logging, "loop", s->loop, "loc", (json_int_t)s->loc.line,
                                                (json_int_t)s->loc.column));
        }
        for (size_t i = 0; i < p->n_vars; i++)
                json_array_append_new(vars, json_pack("{s:s, s:b, s:s?}", "name", p->vars[i].name, "constant",
                                                      p->vars[i].constant, "value",
                                                      p->vars[i].has_value ? p->vars[i].value : NULL));
        return json_pack("{s:s, s:s, s:s, s:i, s:o, s:o, s:o, s:o}", "name", p->name, "description",
                         p->description, "source", p->source_path, "regs", (json_int_t)p->n_regs, "phases", phases,
                         "steps", steps, "vars", vars, "actions", actions);
}

/* prog_serialize(), with the hash's failure worded into *reterr_msg. */
static int serialize(const struct program *p, unsigned char **ret_buf, size_t *ret_len, char **reterr_msg)
{
        struct strbuf b = STRBUF_INIT;
        sb_append(&b, (const char *)otc_magic, 4);
        wire_put_u32(&b, OTC_VERSION);
        sb_append(&b, (const char *)p->sha256, PROG_SHA256_LEN);
        unsigned file_index[_ACTION_ID_MAX];
        json_t *h = header_json(p, file_actions(p, file_index));
        if (!h) {
                sb_free(&b);
                return -ENOMEM;
        }
        put_json(&b, h);
        json_decref(h);
        wire_put_u32(&b, (uint32_t)p->n_code);
        for (size_t i = 0; i < p->n_code; i++) {
                wire_put_u32(&b, file_insn(p->code[i], file_index));
                wire_put_u32(&b, p->loc[i].line);
                wire_put_u32(&b, p->loc[i].column);
        }
        wire_put_u32(&b, (uint32_t)p->n_k);
        struct strbuf k = STRBUF_INIT;
        for (size_t i = 0; i < p->n_k; i++) {
                k.len = 0;
                kconst_encode(&p->k[i], &k);
                wire_put_blob(&b, k.s, k.len);
        }
        sb_free(&k);
        wire_put_blob(&b, p->source, p->source_len);
        unsigned char d[HASH_MAX_LEN];
        size_t dl;
        int r = hash_buffer(HASH_SHA256, b.s, b.len, d, &dl, reterr_msg);
        if (r < 0) {
                sb_free(&b);
                return r;
        }
        sb_append(&b, (const char *)d, dl);
        *ret_len = b.len;
        *ret_buf = (unsigned char *)sb_take(&b);
        return 0;
}

int prog_serialize(const struct program *p, unsigned char **ret_buf, size_t *ret_len)
{
        return serialize(p, ret_buf, ret_len, NULL);
}

static json_t *get_json(struct wire_reader *r)
{
        const unsigned char *s;
        size_t n;
        if (!wire_get_blob(r, &s, &n))
                return NULL;
        return json_loadb((const char *)s, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
}

static char *dup_str(json_t *j)
{
        return json_is_string(j) ? xstrdup(json_string_value(j)) : NULL;
}

static int parse_on_failure(const char *s)
{
        for (int i = 0; i < _ONFAIL_MAX; i++)
                if (s && !strcmp(s, on_failure_name((enum on_failure)i)))
                        return i;
        return -1;
}

static bool load_header(struct program *p, json_t *h)
{
        json_t *phases = json_object_get(h, "phases"), *steps = json_object_get(h, "steps"),
               *vars = json_object_get(h, "vars");
        json_t *regs = json_object_get(h, "regs");
        if (!json_is_array(phases) || !json_is_array(steps) || !json_is_array(vars) || !json_is_integer(regs))
                return false;
        free_many(p->name, p->description, p->source_path);
        p->name = dup_str(json_object_get(h, "name"));
        p->description = dup_str(json_object_get(h, "description"));
        p->source_path = dup_str(json_object_get(h, "source"));
        if (!p->name || !p->description || !p->source_path)
                return false;
        json_int_t nr = json_integer_value(regs);
        if (nr < 0 || nr > 256)
                return false;
        p->n_regs = (unsigned)nr;
        size_t np = json_array_size(phases), ns = json_array_size(steps), nv = json_array_size(vars);
        p->phases = xcalloc(np, sizeof *p->phases);
        for (size_t i = 0; i < np; i++) {
                json_t *o = json_array_get(phases, i);
                json_int_t end, line, col;
                const char *name;
                if (json_unpack(o, "{s:s, s:I, s:[I,I]}", "name", &name, "end", &end, "loc", &line, &col) ||
                    end < 0 || end > UINT32_MAX || line < 0 || col < 0)
                        return false;
                p->phases[p->n_phases++] = (struct prog_phase){ xstrdup(name), (uint32_t)end,
                                                                { (uint32_t)line, (uint32_t)col } };
        }
        p->steps = xcalloc(ns, sizeof *p->steps);
        for (size_t i = 0; i < ns; i++) {
                json_t *o = json_array_get(steps, i), *loop = NULL;
                json_int_t phase, timeout, attempts, line, col;
                const char *name, *action, *onf;
                int dl;
                if (json_unpack(o, "{s:s, s:I, s:s, s:I, s:I, s:s, s:b, s?o, s:[I,I]}", "name", &name, "phase", &phase,
                                "action", &action, "timeout", &timeout, "attempts", &attempts, "onFailure", &onf,
                                "disableLogging", &dl, "loop", &loop, "loc", &line, &col))
                        return false;
                int of = parse_on_failure(onf);
                if (phase < 0 || (size_t)phase >= np || attempts < 1 || attempts > 1000 || of < 0 || timeout < -1 ||
                    timeout == 0 || timeout > 2147483647 ||
                    line < 0 || col < 0)
                        return false;
                struct prog_step *s = &p->steps[p->n_steps++];
                *s = (struct prog_step){
                        .name = xstrdup(name),
                        .phase = (uint32_t)phase,
                        .action = xstrdup(action),
                        .spec = action_spec_find(action),
                        .timeout_seconds = timeout,
                        .max_attempts = (uint32_t)attempts,
                        .on_failure = (enum on_failure)of,
                        .disable_logging = dl,
                        .loop = loop && !json_is_null(loop) ? json_incref(loop) : NULL,
                        .loc = { (uint32_t)line, (uint32_t)col },
                };
                if (!s->spec)
                        return false;
        }
        p->vars = xcalloc(nv, sizeof *p->vars);
        for (size_t i = 0; i < nv; i++) {
                json_t *o = json_array_get(vars, i), *jv = NULL;
                const char *name, *value = NULL;
                int constant;
                if (json_unpack(o, "{s:s, s:b, s?o}", "name", &name, "constant", &constant, "value", &jv))
                        return false;
                /* A parameter without a default is written as null. */
                if (jv && !json_is_null(jv) && !(value = json_string_value(jv)))
                        return false;
                p->vars[p->n_vars++] = (struct prog_var){ xstrdup(name), constant, value != NULL,
                                                          value ? xstrdup(value) : NULL };
        }
        return true;
}

bool prog_is_otc(const unsigned char *buf, size_t len)
{
        return len >= 4 && !memcmp(buf, otc_magic, 4);
}

int prog_deserialize(const unsigned char *buf, size_t len, struct program **ret, char **err)
{
        struct wire_reader r = { buf, len };
        size_t srclen;
        const unsigned char *magic, *sha, *src;
        uint32_t version, n;
        if (!wire_get_bytes(&r, 4, &magic) || memcmp(magic, otc_magic, 4) != 0) {
                errmsg_set(err, 0, "not an opentoe program (.otc) file: bad magic number");
                return -EINVAL;
        }
        if (!wire_get_u32(&r, &version)) {
                errmsg_set(err, 0, "the .otc file is truncated");
                return -EINVAL;
        }
        if (version != OTC_VERSION) {
                errmsg_set(err, 0, ".otc format version %u is not supported (this opentoe reads version %u); "
                         "compile the document again", version, OTC_VERSION);
                return -EINVAL;
        }
        if (len < 4 + 4 + PROG_SHA256_LEN + PROG_SHA256_LEN) {
                errmsg_set(err, 0, "the .otc file is truncated");
                return -EINVAL;
        }
        unsigned char d[HASH_MAX_LEN];
        size_t dl;
        _cleanup_free_ char *why = NULL;
        int rr = hash_buffer(HASH_SHA256, buf, len - PROG_SHA256_LEN, d, &dl, &why);
        if (rr < 0) {
                errmsg_set(err, 0, "%s", why);
                return rr;
        }
        if (memcmp(d, buf + len - PROG_SHA256_LEN, PROG_SHA256_LEN) != 0) {
                errmsg_set(err, 0, "the .otc file is corrupted or truncated: its checksum does not match");
                return -EINVAL;
        }
        r.left -= PROG_SHA256_LEN;
        struct program *p = prog_new();
        prog_constants_done(p);
        int res = -EINVAL;
        if (!wire_get_bytes(&r, PROG_SHA256_LEN, &sha))
                goto truncated;
        memcpy(p->sha256, sha, PROG_SHA256_LEN);
        json_t *h = get_json(&r);
        bool ok = h && load_header(p, h);
        /* This build's number of each action the file names. */
        json_t *actions = json_object_get(h, "actions"), *name;
        size_t n_actions = json_array_size(actions), ai;
        unsigned ids[_ACTION_ID_MAX];
        ok = ok && json_is_array(actions) && n_actions <= _ACTION_ID_MAX;
        json_array_foreach(ok ? actions : NULL, ai, name)
        {
                const struct action_spec *a = action_spec_find(json_string_value(name));
                if (!a) {
                        errmsg_set(err, 0, "the .otc file runs an action this opentoe does not know: %s",
                                 json_is_string(name) ? json_string_value(name) : "?");
                        json_decref(h);
                        goto out;
                }
                ids[ai] = a->id;
        }
        json_decref(h);
        if (!ok) {
                errmsg_set(err, 0, "the .otc file's header is malformed");
                goto out;
        }
        if (!wire_get_u32(&r, &n) || n > r.left / 12)
                goto truncated;
        p->code = xcalloc(n, sizeof *p->code);
        p->loc = xcalloc(n, sizeof *p->loc);
        p->n_code = p->cap_code = n;
        for (uint32_t i = 0; i < n; i++) {
                uint32_t *w = &p->code[i];
                if (!wire_get_u32(&r, w) || !wire_get_u32(&r, &p->loc[i].line) || !wire_get_u32(&r, &p->loc[i].column))
                        goto truncated;
                if (op_get(*w) != OP_ACT)
                        continue;
                if (op_c(*w) >= n_actions) {
                        errmsg_set(err, 0, "pc %u of the .otc file runs action %u of %zu", i, op_c(*w), n_actions);
                        goto out;
                }
                *w = op_abc(OP_ACT, op_a(*w), op_b(*w), ids[op_c(*w)]);
        }
        if (!wire_get_u32(&r, &n) || n > r.left / 4)
                goto truncated;
        p->k = xcalloc(n ? n : 1, sizeof *p->k);
        p->cap_k = n;
        for (uint32_t i = 0; i < n; i++) {
                const unsigned char *kb;
                size_t kl;
                if (!wire_get_blob(&r, &kb, &kl))
                        goto truncated;
                if (kconst_decode(kb, kl, &p->k[p->n_k]) < 0) {
                        errmsg_set(err, 0, "constant %u of the .otc file is malformed", i);
                        goto out;
                }
                p->n_k++;
        }
        if (!wire_get_blob(&r, &src, &srclen))
                goto truncated;
        free(p->source);
        p->source = xstrndup((const char *)src, srclen);
        p->source_len = srclen;
        if (r.left != 0) {
                errmsg_set(err, 0, "the .otc file has %zu unexpected bytes at its end", r.left);
                goto out;
        }
        if (prog_verify(p, err) < 0)
                goto out;
        *ret = p;
        return 0;
truncated:
        errmsg_set(err, 0, "the .otc file is truncated");
out:
        prog_free(p);
        return res;
}

int prog_save(const struct program *p, const char *path, char **err)
{
        unsigned char *buf;
        size_t len;
        _cleanup_free_ char *why = NULL;
        int r = serialize(p, &buf, &len, &why);
        if (r < 0) {
                errmsg_set(err, 0, "cannot serialise the program: %s", r == -ENOSYS ? why : strerror(-r));
                return r;
        }
        /* Written beside the target and renamed over it: never half a file. */
        r = write_file_atomic(path, (const char *)buf, len);
        free(buf);
        if (r < 0)
                errmsg_set(err, 0, "cannot write %s: %s", path, strerror(-r));
        return r;
}

int prog_load(const char *path, struct program **ret, char **err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                int e = errno;
                return errmsg_set(err, -e, "cannot read %s: %s", path, strerror(e));
        }
        if (!S_ISREG(st.st_mode) || st.st_size > OTC_MAX_FILE) {
                errmsg_set(err, 0, "%s is not a regular file of at most 64 MiB", path);
                return -EINVAL;
        }
        size_t len = (size_t)st.st_size;
        _cleanup_free_ unsigned char *buf = xmalloc(len + 1);
        size_t off = 0;
        while (off < len) {
                ssize_t k = read(fd, buf + off, len - off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                off += (size_t)k;
        }
        return prog_deserialize(buf, off, ret, err);
}
