/* disasm.c: prints programs.  Operand shapes come from opcode_info's
 * format and flags, the same table the verifier reads. */
#include "disasm.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "opcodes.h"
#include "predicates.h"
#include "strbuf.h"

#define COMMENT_MAX 72
/* Descriptions stop growing past this: a listing line shows at most a
 * couple of hundred characters, however large the constant. */
#define DESCRIBE_MAX 512

/* A template or input tree in a form a person can read. */
static void describe_template(struct strbuf *b, const struct program *p, const json_t *segs)
{
        size_t i;
        json_t *seg, *x;
        json_array_foreach(segs, i, seg)
        {
                if (b->len > DESCRIBE_MAX)
                        return;
                if (json_is_string(seg)) {
                        sb_append(b, json_string_value(seg), json_string_length(seg));
                } else if ((x = json_object_get(seg, "var"))) {
                        json_int_t v = json_integer_value(x);
                        sb_printf(b, "{{V%lld %s}}", (long long)v,
                                  v >= 0 && (size_t)v < p->n_vars ? p->vars[v].name : "?");
                } else if ((x = json_object_get(seg, "reg"))) {
                        sb_printf(b, "{{r%lld}}", (long long)json_integer_value(x));
                } else if ((x = json_object_get(seg, "out")) || (x = json_object_get(seg, "in"))) {
                        json_int_t s = json_integer_value(json_array_get(x, 0));
                        json_int_t idx = json_integer_value(json_array_get(x, 1));
                        sb_printf(b, "{{S%lld.%s", (long long)s, json_object_get(seg, "out") ? "outputs" : "inputs");
                        if (idx >= 0)
                                sb_printf(b, "[%lld]", (long long)idx);
                        sb_printf(b, ".%s}}", json_string_value(json_array_get(x, 2)));
                } else if ((x = json_object_get(seg, "ssm"))) {
                        sb_printf(b, "{{aws:ssm:%s}}", json_string_value(x));
                }
        }
}

static void describe_node(struct strbuf *b, const struct program *p, const json_t *n)
{
        json_t *x;
        if ((x = json_object_get(n, "s"))) {
                sb_printf(b, "\"%s\"", json_string_value(x));
        } else if ((x = json_object_get(n, "t"))) {
                sb_putc(b, '"');
                describe_template(b, p, x);
                sb_putc(b, '"');
        } else if ((x = json_object_get(n, "list"))) {
                size_t i;
                json_t *it;
                sb_putc(b, '[');
                json_array_foreach(x, i, it)
                {
                        if (b->len > DESCRIBE_MAX)
                                break;
                        if (i)
                                sb_puts(b, ", ");
                        describe_node(b, p, it);
                }
                sb_putc(b, ']');
        } else if ((x = json_object_get(n, "map"))) {
                size_t i;
                json_t *pair;
                sb_putc(b, '{');
                json_array_foreach(x, i, pair)
                {
                        if (b->len > DESCRIBE_MAX)
                                break;
                        sb_printf(b, "%s%s: ", i ? ", " : "", json_string_value(json_array_get(pair, 0)));
                        describe_node(b, p, json_array_get(pair, 1));
                }
                sb_putc(b, '}');
        } else {
                const char *key;
                json_t *v;
                json_object_foreach((json_t *)n, key, v)
                {
                        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                        sb_puts(b, s ? s : "?");
                        free(s);
                }
        }
}

static void describe_constant(struct strbuf *b, const struct program *p, const json_t *k)
{
        json_t *x;
        if ((x = json_object_get(k, "str")))
                sb_printf(b, "\"%s\"", json_string_value(x));
        else if ((x = json_object_get(k, "tmpl"))) {
                sb_putc(b, '"');
                describe_template(b, p, x);
                sb_putc(b, '"');
        } else if ((x = json_object_get(k, "inputs")))
                describe_node(b, p, x);
        else if ((x = json_object_get(k, "loop"))) {
                json_t *y;
                if ((y = json_object_get(x, "for")))
                        sb_printf(b, "for %lld..%lld by %lld", (long long)json_integer_value(json_array_get(y, 0)),
                                  (long long)json_integer_value(json_array_get(y, 1)),
                                  (long long)json_integer_value(json_array_get(y, 2)));
                else if ((y = json_object_get(x, "each"))) {
                        sb_puts(b, "forEach ");
                        json_t *tmp = json_pack("{s:O}", "list", y);
                        describe_node(b, p, tmp);
                        json_decref(tmp);
                } else {
                        sb_puts(b, "forEach split(");
                        describe_node(b, p, json_object_get(x, "list"));
                        char *d = json_dumps(json_object_get(x, "delimiter"), JSON_ENCODE_ANY);
                        sb_printf(b, ", %s)", d ? d : "?");
                        free(d);
                }
        }
}

static void clip(struct strbuf *b, size_t max)
{
        for (size_t i = 0; i < b->len; i++)
                if (b->s[i] == '\n' || b->s[i] == '\t')
                        b->s[i] = ' ';
        if (b->len > max) {
                b->len = max - 3;
                sb_puts(b, "...");
        }
}

void disasm_insn(FILE *f, const struct program *p, uint32_t pc)
{
        uint32_t insn = p->code[pc];
        enum opcode op = op_get(insn);
        char where[32];
        snprintf(where, sizeof where, "[%u:%u]", p->loc[pc].line, p->loc[pc].column);
        if (op >= _OP_MAX) {
                fprintf(f, "%04u %-9s ??? %08x\n", pc, where, insn);
                return;
        }
        const struct opcode_info *oi = &opcode_info[op];
        struct strbuf ops = STRBUF_INIT, com = STRBUF_INIT;
        unsigned a = op_a(insn), bx = op_bx(insn);
        switch (oi->format) {
        case FMT_ABC:
                if (oi->flags & (OPF_A_REG | OPF_A_REG4))
                        sb_printf(&ops, "r%u", a);
                if (op == OP_LOADBOOL)
                        sb_printf(&ops, " %u", op_b(insn));
                if (oi->flags & OPF_B_REG)
                        sb_printf(&ops, " r%u", op_b(insn));
                if (oi->flags & OPF_C_PRED)
                        sb_printf(&ops, " %s", op_c(insn) < n_predicates ? predicates[op_c(insn)].name : "?");
                if (op == OP_ACT)
                        sb_printf(&com, "r%u := run(r%u)", a, op_b(insn));
                break;
        case FMT_ABX:
                if (oi->flags & (OPF_A_REG | OPF_A_REG4))
                        sb_printf(&ops, "r%u ", a);
                if (oi->flags & OPF_BX_K) {
                        sb_printf(&ops, "K%u", bx);
                        if (bx < p->n_k)
                                describe_constant(&com, p, p->k[bx]);
                } else if (oi->flags & OPF_BX_S) {
                        sb_printf(&ops, "S%u", bx);
                        if (bx < p->n_steps) {
                                const struct prog_step *s = &p->steps[bx];
                                sb_printf(&com, "\"%s\"", s->name);
                                if (op == OP_STEP) {
                                        sb_printf(&com, " %s timeout=", s->action);
                                        if (s->timeout_seconds < 0)
                                                sb_puts(&com, "none");
                                        else
                                                sb_printf(&com, "%llds", (long long)s->timeout_seconds);
                                        sb_printf(&com, " attempts=%u onFailure=%s", s->max_attempts,
                                                  on_failure_name(s->on_failure));
                                }
                        }
                } else if (oi->flags & OPF_BX_P) {
                        sb_printf(&ops, "P%u", bx);
                        if (bx < p->n_phases)
                                sb_printf(&com, "\"%s\"", p->phases[bx].name);
                }
                if (op == OP_LOOPINIT)
                        sb_printf(&com, "%sr%u=index r%u=value r%u=any", com.len ? "; " : "", a + 1, a + 2, a + 3);
                break;
        case FMT_ASBX:
                sb_printf(&ops, "r%u -> %04ld", a, (long)pc + 1 + op_sbx(insn));
                break;
        case FMT_SJ:
                sb_printf(&ops, "   -> %04ld", (long)pc + 1 + op_sj_get(insn));
                break;
        }
        clip(&com, COMMENT_MAX);
        if (com.len)
                fprintf(f, "%04u %-9s %-9s %-14s ; %s\n", pc, where, oi->name, sb_str(&ops), sb_str(&com));
        else
                fprintf(f, "%04u %-9s %-9s %s\n", pc, where, oi->name, sb_str(&ops));
        sb_free(&ops);
        sb_free(&com);
}

void disasm_program(FILE *f, const struct program *p)
{
        char hex[2 * PROG_SHA256_LEN + 1];
        hash_hex(p->sha256, PROG_SHA256_LEN, hex);
        fprintf(f, "; %s  sha256=%.16s..  %zu instructions, %zu constants, %zu steps, %u registers\n",
                p->source_path, hex, p->n_code, p->n_k, p->n_steps, p->n_regs);
        for (uint32_t pc = 0; pc < p->n_code; pc++)
                disasm_insn(f, p, pc);
        fputs("constants:\n", f);
        for (size_t i = 0; i < p->n_k; i++) {
                struct strbuf b = STRBUF_INIT;
                const char *kind = "?";
                const char *key;
                json_t *v;
                json_object_foreach(p->k[i], key, v) kind = key;
                describe_constant(&b, p, p->k[i]);
                clip(&b, 200);
                fprintf(f, "  K%-3zu %-6s %s\n", i, kind, sb_str(&b));
                sb_free(&b);
        }
        fputs("steps:\n", f);
        for (size_t i = 0; i < p->n_steps; i++) {
                const struct prog_step *s = &p->steps[i];
                fprintf(f, "  S%-3zu %s.%s %s [%u:%u]\n", i, p->phases[s->phase].name, s->name, s->action, s->loc.line,
                        s->loc.column);
        }
        fputs("phases:\n", f);
        for (size_t i = 0; i < p->n_phases; i++)
                fprintf(f, "  P%-3zu %s end=%04u\n", i, p->phases[i].name, p->phases[i].end_pc);
        if (p->n_vars)
                fputs("variables:\n", f);
        for (size_t i = 0; i < p->n_vars; i++) {
                const struct prog_var *v = &p->vars[i];
                fprintf(f, "  V%-3zu %s %s%s%s%s\n", i, v->constant ? "constant " : "parameter", v->name,
                        v->has_value ? " = \"" : "", v->has_value ? v->value : "", v->has_value ? "\"" : "");
        }
}
