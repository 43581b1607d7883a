/* program.c: building, verifying, saving and loading compiled programs.
 * The .otc layout (all integers little-endian):
 *
 *   "OTC\x1a"  u32 version  u8[32] source sha256
 *   u32 len + JSON header (name, description, source path, n_regs,
 *                          phases, steps, vars)
 *   u32 n_code, then n_code x (u32 insn, u32 line, u32 column)
 *   u32 n_k, then n_k x (u32 len + compact JSON)
 *   u32 len + the source text
 *   u8[32] sha256 of every byte before it
 *
 * Loading checks the magic, the version, every length against what is
 * left, the trailing digest, and then runs prog_verify: a truncated,
 * corrupted or foreign file is an error, never a crash. */
#include "program.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "hash.h"
#include "opcodes.h"
#include "predicates.h"
#include "strbuf.h"

const struct opcode_info opcode_info[_OP_MAX] = {
#define OPCODE_INFO(name, fmt, flags, doc) { #name, fmt, flags, doc },
        OPCODE_LIST(OPCODE_INFO)
#undef OPCODE_INFO
};

static const unsigned char otc_magic[4] = { 'O', 'T', 'C', 0x1a };

#define OTC_MAX_FILE (64u * 1024u * 1024u)

const char *on_failure_name(enum on_failure f)
{
        static const char *const n[_ONFAIL_MAX] = { "Abort", "Continue", "Ignore" };
        return f < _ONFAIL_MAX ? n[f] : "?";
}

struct program *prog_new(void)
{
        struct program *p = xcalloc(1, sizeof *p);
        p->k_index = json_object();
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
                json_decref(p->k[i]);
        free(p->k);
        json_decref(p->k_index);
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
        free(p->vars);
        free(p->name);
        free(p->description);
        free(p->source_path);
        free(p->source);
        free(p);
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

uint32_t prog_constant(struct program *p, json_t *k)
{
        char *key = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        json_t *found = key && p->k_index ? json_object_get(p->k_index, key) : NULL;
        if (found) {
                free(key);
                json_decref(k);
                return (uint32_t)json_integer_value(found);
        }
        if (p->n_k == p->cap_k) {
                p->cap_k = p->cap_k ? p->cap_k * 2 : 32;
                p->k = xrealloc(p->k, p->cap_k * sizeof *p->k);
        }
        p->k[p->n_k] = k;
        if (key && p->k_index)
                json_object_set_new(p->k_index, key, json_integer((json_int_t)p->n_k));
        free(key);
        return (uint32_t)p->n_k++;
}

/* ---- verification ------------------------------------------------------ */

/* Loops are bounded as the checker bounds them (loopfor.h). */
#define VERIFY_MAX_LOOP_ITEMS LOOP_MAX_ITERATIONS

/* A template's segments: every index in range; *max_step is raised to the
 * highest step it chains to (the caller then checks that only earlier
 * steps are used, so a step cannot feed on its own inputs and grow). */
static bool verify_template(const struct program *p, const json_t *segs, long *max_step)
{
        size_t i;
        json_t *seg, *x;
        if (!json_is_array(segs))
                return false;
        json_array_foreach(segs, i, seg)
        {
                if (json_is_string(seg))
                        continue;
                if ((x = json_object_get(seg, "var"))) {
                        if (!json_is_integer(x) || json_integer_value(x) < 0 ||
                            (size_t)json_integer_value(x) >= p->n_vars)
                                return false;
                } else if ((x = json_object_get(seg, "reg"))) {
                        if (!json_is_integer(x) || json_integer_value(x) < 0 ||
                            (size_t)json_integer_value(x) >= p->n_regs)
                                return false;
                } else if ((x = json_object_get(seg, "out")) || (x = json_object_get(seg, "in"))) {
                        json_t *s = json_array_get(x, 0), *idx = json_array_get(x, 1), *key = json_array_get(x, 2);
                        if (!json_is_integer(s) || json_integer_value(s) < 0 ||
                            (size_t)json_integer_value(s) >= p->n_steps || !json_is_integer(idx) ||
                            json_integer_value(idx) < -1 || !json_is_string(key))
                                return false;
                        if ((long)json_integer_value(s) > *max_step)
                                *max_step = (long)json_integer_value(s);
                } else if (!json_is_string(json_object_get(seg, "ssm"))) {
                        return false;
                }
        }
        return true;
}

static bool verify_node(const struct program *p, const json_t *n, long *max_step, unsigned depth)
{
        json_t *x;
        size_t i;
        json_t *it;
        if (depth > 64 || !json_is_object(n) || json_object_size(n) != 1)
                return false;
        if ((x = json_object_get(n, "t")))
                return verify_template(p, x, max_step);
        if ((x = json_object_get(n, "list"))) {
                if (!json_is_array(x))
                        return false;
                json_array_foreach(x, i, it) if (!verify_node(p, it, max_step, depth + 1)) return false;
                return true;
        }
        if ((x = json_object_get(n, "map"))) {
                if (!json_is_array(x))
                        return false;
                json_array_foreach(x, i, it)
                {
                        if (!json_is_string(json_array_get(it, 0)) ||
                            !verify_node(p, json_array_get(it, 1), max_step, depth + 1))
                                return false;
                }
                return true;
        }
        return json_object_get(n, "s") || json_object_get(n, "b") || json_object_get(n, "i") ||
               json_object_get(n, "f") || json_object_get(n, "null");
}

/* A constant's shape and indexes, once; *max_step as verify_template. */
static bool verify_constant(const struct program *p, const json_t *k, long *max_step)
{
        json_t *x, *y;
        if ((x = json_object_get(k, "str")))
                return json_is_string(x);
        if ((x = json_object_get(k, "tmpl")))
                return verify_template(p, x, max_step);
        if ((x = json_object_get(k, "inputs")))
                return verify_node(p, x, max_step, 0);
        if (!(x = json_object_get(k, "loop")))
                return false;
        if ((y = json_object_get(x, "for"))) {
                /* Three integers making a loop the checker would accept:
                 * one that ends, within the iteration limit. */
                uint64_t last;
                if (!json_is_array(y) || json_array_size(y) != 3 || !json_is_integer(json_array_get(y, 0)) ||
                    !json_is_integer(json_array_get(y, 1)) || !json_is_integer(json_array_get(y, 2)))
                        return false;
                return loop_for_last(json_integer_value(json_array_get(y, 0)), json_integer_value(json_array_get(y, 1)),
                                     json_integer_value(json_array_get(y, 2)), &last) &&
                       last < VERIFY_MAX_LOOP_ITEMS;
        }
        if ((y = json_object_get(x, "each"))) {
                size_t i;
                json_t *it;
                if (!json_is_array(y) || json_array_size(y) > VERIFY_MAX_LOOP_ITEMS)
                        return false;
                json_array_foreach(y, i, it) if (!verify_node(p, it, max_step, 1)) return false;
                return true;
        }
        return (y = json_object_get(x, "list")) && verify_node(p, y, max_step, 1) &&
               json_is_string(json_object_get(x, "delimiter"));
}

static int verify_code(const struct program *p, const long *k_max, char *err, size_t errsize);

int prog_verify(const struct program *p, char *err, size_t errsize)
{
        if (p->n_code == 0 || op_get(p->code[p->n_code - 1]) != OP_HALT) {
                snprintf(err, errsize, "the program does not end with HALT");
                return -EINVAL;
        }
        if (p->n_regs > OP_MAXARG_A + 1) {
                snprintf(err, errsize, "the program declares %u registers; at most 256 exist", p->n_regs);
                return -EINVAL;
        }
        for (size_t i = 0; i < p->n_steps; i++) {
                if (p->steps[i].phase >= p->n_phases || !p->steps[i].spec || p->steps[i].max_attempts < 1 ||
                    p->steps[i].on_failure >= _ONFAIL_MAX) {
                        snprintf(err, errsize, "step %zu of the step table is inconsistent", i);
                        return -EINVAL;
                }
        }
        for (size_t i = 0; i < p->n_phases; i++)
                if (p->phases[i].end_pc > p->n_code) {
                        snprintf(err, errsize, "phase %zu ends outside the program", i);
                        return -EINVAL;
                }
        /* Each constant is checked once; instructions then only compare
         * the highest step it chains to with the step they are in. */
        long *k_max = xcalloc(p->n_k ? p->n_k : 1, sizeof *k_max);
        for (size_t i = 0; i < p->n_k; i++) {
                k_max[i] = -1;
                if (!verify_constant(p, p->k[i], &k_max[i])) {
                        if (json_object_get(json_object_get(p->k[i], "loop"), "for"))
                                snprintf(err, errsize,
                                         "constant K%zu is a 'for' loop that is not three integers, never ends, "
                                         "or runs more than %u iterations", i, LOOP_MAX_ITERATIONS);
                        else
                                snprintf(err, errsize, "constant K%zu is malformed or refers outside the program", i);
                        free(k_max);
                        return -EINVAL;
                }
        }
        int r = verify_code(p, k_max, err, errsize);
        free(k_max);
        return r;
}

static int verify_code(const struct program *p, const long *k_max, char *err, size_t errsize)
{
        size_t cur_step = p->n_steps; /* outside steps: no chaining allowed */
        for (size_t pc = 0; pc < p->n_code; pc++) {
                uint32_t insn = p->code[pc];
                enum opcode op = op_get(insn);
                if (op == OP_STEP && op_bx(insn) < p->n_steps)
                        cur_step = op_bx(insn);
                if (op >= _OP_MAX) {
                        snprintf(err, errsize, "pc %zu: invalid opcode %u", pc, (unsigned)op);
                        return -EINVAL;
                }
                const struct opcode_info *oi = &opcode_info[op];
                unsigned f = oi->flags;
                unsigned a = op_a(insn);
                if ((f & OPF_A_REG) && a >= p->n_regs) {
                        snprintf(err, errsize, "pc %zu: %s uses register %u of %u", pc, oi->name, a, p->n_regs);
                        return -EINVAL;
                }
                if ((f & OPF_A_REG4) && a + 3 >= p->n_regs) {
                        snprintf(err, errsize, "pc %zu: %s uses registers %u..%u of %u", pc, oi->name, a, a + 3,
                                 p->n_regs);
                        return -EINVAL;
                }
                if ((f & OPF_B_REG) && op_b(insn) + (op == OP_PRED ? 1u : 0u) >= p->n_regs) {
                        snprintf(err, errsize, "pc %zu: %s uses register %u of %u", pc, oi->name, op_b(insn), p->n_regs);
                        return -EINVAL;
                }
                if ((f & OPF_C_PRED) && op_c(insn) >= n_predicates) {
                        snprintf(err, errsize, "pc %zu: unknown predicate %u", pc, op_c(insn));
                        return -EINVAL;
                }
                unsigned bx = op_bx(insn);
                if (((f & OPF_BX_K) && bx >= p->n_k) || ((f & OPF_BX_S) && bx >= p->n_steps) ||
                    ((f & OPF_BX_P) && bx >= p->n_phases)) {
                        snprintf(err, errsize, "pc %zu: %s index %u is out of range", pc, oi->name, bx);
                        return -EINVAL;
                }
                if (f & OPF_JUMP) {
                        long target = (long)pc + 1 + (oi->format == FMT_SJ ? op_sj_get(insn) : op_sbx(insn));
                        if (target < 0 || (size_t)target >= p->n_code) {
                                snprintf(err, errsize, "pc %zu: %s jumps to %ld, outside the program", pc, oi->name,
                                         target);
                                return -EINVAL;
                        }
                }
                if ((f & OPF_BX_K) && (op == OP_LOOPINIT) != (json_object_get(p->k[bx], "loop") != NULL)) {
                        snprintf(err, errsize, "pc %zu: %s refers to a constant of the wrong kind", pc, oi->name);
                        return -EINVAL;
                }
                if ((f & OPF_BX_K) && k_max[bx] >= 0 && (cur_step == p->n_steps || k_max[bx] >= (long)cur_step)) {
                        snprintf(err, errsize, "pc %zu: constant K%u uses a step that does not run before this one",
                                 pc, bx);
                        return -EINVAL;
                }
                /* Only loops and retries jump back, and only in the shapes
                 * the compiler emits, so every program terminates. */
                if (f & OPF_JUMP) {
                        long off = oi->format == FMT_SJ ? op_sj_get(insn) : op_sbx(insn);
                        size_t target = (size_t)((long)pc + 1 + off);
                        if (off < 0 && op != OP_LOOPNEXT && op != OP_RETRY) {
                                snprintf(err, errsize, "pc %zu: %s jumps backwards", pc, oi->name);
                                return -EINVAL;
                        }
                        if (op == OP_RETRY && (op_get(p->code[target]) != OP_ATTEMPT || off >= 0 ||
                                               op_bx(p->code[target]) != cur_step)) {
                                snprintf(err, errsize, "pc %zu: RETRY must jump back to its own step's ATTEMPT", pc);
                                return -EINVAL;
                        }
                        if (op == OP_LOOPNEXT && off >= 0) {
                                snprintf(err, errsize, "pc %zu: LOOPNEXT must jump back", pc);
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
                                        snprintf(err, errsize, "pc %zu: the loop back to %zu contains %s", pc, target,
                                                 opcode_info[o2 < _OP_MAX ? o2 : 0].name);
                                        return -EINVAL;
                                }
                        }
                }
        }
        return 0;
}

/* ---- serialisation ----------------------------------------------------- */

static void put_u32(struct strbuf *b, uint32_t v)
{
        unsigned char x[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                               (unsigned char)(v >> 24) };
        sb_append(b, (const char *)x, 4);
}

static void put_blob(struct strbuf *b, const char *s, size_t n)
{
        put_u32(b, (uint32_t)n);
        sb_append(b, s, n);
}

static void put_json(struct strbuf *b, const json_t *j)
{
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        put_blob(b, s ? s : "null", s ? strlen(s) : 4);
        free(s);
}

static json_t *header_json(const struct program *p)
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
        return json_pack("{s:s, s:s, s:s, s:i, s:o, s:o, s:o}", "name", p->name, "description", p->description,
                         "source", p->source_path, "regs", (json_int_t)p->n_regs, "phases", phases, "steps", steps,
                         "vars", vars);
}

/* prog_serialize(), with the hash's failure worded into *reterr_msg. */
static int serialize(const struct program *p, unsigned char **ret_buf, size_t *ret_len, char **reterr_msg)
{
        struct strbuf b = STRBUF_INIT;
        sb_append(&b, (const char *)otc_magic, 4);
        put_u32(&b, OTC_VERSION);
        sb_append(&b, (const char *)p->sha256, PROG_SHA256_LEN);
        json_t *h = header_json(p);
        if (!h) {
                sb_free(&b);
                return -ENOMEM;
        }
        put_json(&b, h);
        json_decref(h);
        put_u32(&b, (uint32_t)p->n_code);
        for (size_t i = 0; i < p->n_code; i++) {
                put_u32(&b, p->code[i]);
                put_u32(&b, p->loc[i].line);
                put_u32(&b, p->loc[i].column);
        }
        put_u32(&b, (uint32_t)p->n_k);
        for (size_t i = 0; i < p->n_k; i++)
                put_json(&b, p->k[i]);
        put_blob(&b, p->source, p->source_len);
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

struct reader {
        const unsigned char *p;
        size_t left;
};

static bool get_u32(struct reader *r, uint32_t *v)
{
        if (r->left < 4)
                return false;
        *v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
        r->p += 4;
        r->left -= 4;
        return true;
}

static bool get_bytes(struct reader *r, size_t n, const unsigned char **ret)
{
        if (r->left < n)
                return false;
        *ret = r->p;
        r->p += n;
        r->left -= n;
        return true;
}

static json_t *get_json(struct reader *r)
{
        uint32_t n;
        const unsigned char *s;
        if (!get_u32(r, &n) || !get_bytes(r, n, &s))
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
        free(p->name);
        free(p->description);
        free(p->source_path);
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

int prog_deserialize(const unsigned char *buf, size_t len, struct program **ret, char *err, size_t errsize)
{
        struct reader r = { buf, len };
        const unsigned char *magic, *sha, *src;
        uint32_t version, n;
        if (!get_bytes(&r, 4, &magic) || memcmp(magic, otc_magic, 4) != 0) {
                snprintf(err, errsize, "not an opentoe program (.otc) file: bad magic number");
                return -EINVAL;
        }
        if (!get_u32(&r, &version)) {
                snprintf(err, errsize, "the .otc file is truncated");
                return -EINVAL;
        }
        if (version != OTC_VERSION) {
                snprintf(err, errsize, ".otc format version %u is not supported (this opentoe reads version %u); "
                         "compile the document again", version, OTC_VERSION);
                return -EINVAL;
        }
        if (len < 4 + 4 + PROG_SHA256_LEN + PROG_SHA256_LEN) {
                snprintf(err, errsize, "the .otc file is truncated");
                return -EINVAL;
        }
        unsigned char d[HASH_MAX_LEN];
        size_t dl;
        _cleanup_free_ char *why = NULL;
        int rr = hash_buffer(HASH_SHA256, buf, len - PROG_SHA256_LEN, d, &dl, &why);
        if (rr < 0) {
                snprintf(err, errsize, "%s", why);
                return rr;
        }
        if (memcmp(d, buf + len - PROG_SHA256_LEN, PROG_SHA256_LEN) != 0) {
                snprintf(err, errsize, "the .otc file is corrupted or truncated: its checksum does not match");
                return -EINVAL;
        }
        r.left -= PROG_SHA256_LEN;
        struct program *p = prog_new();
        json_decref(p->k_index);
        p->k_index = NULL;
        int res = -EINVAL;
        if (!get_bytes(&r, PROG_SHA256_LEN, &sha))
                goto truncated;
        memcpy(p->sha256, sha, PROG_SHA256_LEN);
        json_t *h = get_json(&r);
        bool ok = h && load_header(p, h);
        json_decref(h);
        if (!ok) {
                snprintf(err, errsize, "the .otc file's header is malformed");
                goto out;
        }
        if (!get_u32(&r, &n) || n > r.left / 12)
                goto truncated;
        p->code = xcalloc(n, sizeof *p->code);
        p->loc = xcalloc(n, sizeof *p->loc);
        p->n_code = p->cap_code = n;
        for (uint32_t i = 0; i < n; i++)
                if (!get_u32(&r, &p->code[i]) || !get_u32(&r, &p->loc[i].line) || !get_u32(&r, &p->loc[i].column))
                        goto truncated;
        if (!get_u32(&r, &n) || n > r.left / 4)
                goto truncated;
        p->k = xcalloc(n, sizeof *p->k);
        p->cap_k = n;
        for (uint32_t i = 0; i < n; i++) {
                json_t *k = get_json(&r);
                if (!json_is_object(k) || json_object_size(k) != 1) {
                        json_decref(k);
                        snprintf(err, errsize, "constant %u of the .otc file is malformed", i);
                        goto out;
                }
                p->k[p->n_k++] = k;
        }
        if (!get_u32(&r, &n) || !get_bytes(&r, n, &src))
                goto truncated;
        free(p->source);
        p->source = xstrndup((const char *)src, n);
        p->source_len = n;
        if (r.left != 0) {
                snprintf(err, errsize, "the .otc file has %zu unexpected bytes at its end", r.left);
                goto out;
        }
        if (prog_verify(p, err, errsize) < 0)
                goto out;
        *ret = p;
        return 0;
truncated:
        snprintf(err, errsize, "the .otc file is truncated");
out:
        prog_free(p);
        return res;
}

int prog_save(const struct program *p, const char *path, char *err, size_t errsize)
{
        unsigned char *buf;
        size_t len;
        _cleanup_free_ char *why = NULL;
        int r = serialize(p, &buf, &len, &why);
        if (r < 0) {
                snprintf(err, errsize, "cannot serialise the program: %s", r == -ENOSYS ? why : strerror(-r));
                return r;
        }
        /* Written beside the target and renamed over it: never half a file. */
        r = write_file_atomic(path, (const char *)buf, len);
        free(buf);
        if (r < 0)
                snprintf(err, errsize, "cannot write %s: %s", path, strerror(-r));
        return r;
}

int prog_load(const char *path, struct program **ret, char *err, size_t errsize)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                snprintf(err, errsize, "cannot read %s: %s", path, strerror(errno));
                return -errno;
        }
        if (!S_ISREG(st.st_mode) || st.st_size > OTC_MAX_FILE) {
                snprintf(err, errsize, "%s is not a regular file of at most 64 MiB", path);
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
        return prog_deserialize(buf, off, ret, err, errsize);
}
