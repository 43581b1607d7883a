/* disasm.c: prints programs.  Operand shapes come from opcode_info's
 * format and flags, the same table the verifier reads.  ACT's action
 * operand is not printed: its STEP line names the action, and the
 * verifier makes the two the same. */
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
static void describe_template(struct strbuf *b, const struct program *p, const struct knode *t)
{
        for (size_t i = 0; i < t->tmpl.n_segs; i++) {
                const struct kseg *g = &t->tmpl.segs[i];
                if (b->len > DESCRIBE_MAX)
                        return;
                switch (g->kind) {
                case KSEG_TEXT:
                        sb_append(b, g->text, g->len);
                        break;
                case KSEG_VAR:
                        sb_printf(b, "{{V%u %s}}", g->index, g->index < p->n_vars ? p->vars[g->index].name : "?");
                        break;
                case KSEG_REG:
                        sb_printf(b, "{{r%u}}", g->index);
                        break;
                case KSEG_OUTPUT:
                case KSEG_INPUT:
                        sb_printf(b, "{{S%u.%s", g->index, g->kind == KSEG_OUTPUT ? "outputs" : "inputs");
                        if (g->entry >= 0)
                                sb_printf(b, "[%lld]", (long long)g->entry);
                        sb_printf(b, ".%s}}", g->text);
                        break;
                case KSEG_SSM:
                        sb_printf(b, "{{aws:ssm:%s}}", g->text);
                        break;
                case _KSEG_MAX:
                        break;
                }
        }
}

/* A value as JSON writes it (true, 5, 1.5). */
static void describe_json(struct strbuf *b, json_t *v)
{
        char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        sb_puts(b, s ? s : "?");
        free(s);
        json_decref(v);
}

static void describe_node(struct strbuf *b, const struct program *p, const struct knode *n)
{
        switch (n->kind) {
        case KN_STRING:
                sb_printf(b, "\"%s\"", n->str.s);
                return;
        case KN_TEMPLATE:
                sb_putc(b, '"');
                describe_template(b, p, n);
                sb_putc(b, '"');
                return;
        case KN_LIST:
        case KN_MAP:
                /* [a, b] or {k: a, l: b} */
                sb_putc(b, n->kind == KN_LIST ? '[' : '{');
                for (size_t i = 0; i < n->list.n && b->len <= DESCRIBE_MAX; i++) {
                        if (i)
                                sb_puts(b, ", ");
                        if (n->kind == KN_MAP)
                                sb_printf(b, "%s: ", n->list.keys[i]);
                        describe_node(b, p, &n->list.items[i]);
                }
                sb_putc(b, n->kind == KN_LIST ? ']' : '}');
                return;
        case KN_BOOL:
                sb_puts(b, n->b ? "true" : "false");
                return;
        case KN_INT:
                sb_printf(b, "%lld", (long long)n->i);
                return;
        case KN_REAL:
                describe_json(b, json_real(n->f));
                return;
        default:
                sb_puts(b, "null");
                return;
        }
}

static void describe_constant(struct strbuf *b, const struct program *p, const struct kconst *k)
{
        switch (k->kind) {
        case K_STRING:
        case K_TEMPLATE:
        case K_INPUTS:
                describe_node(b, p, &k->node);
                break;
        case K_LOOP_FOR:
                sb_printf(b, "for %lld..%lld by %lld", (long long)k->start, (long long)k->end, (long long)k->by);
                break;
        case K_LOOP_EACH:
                sb_puts(b, "forEach ");
                describe_node(b, p, &k->node);
                break;
        case K_LOOP_SPLIT:
                sb_puts(b, "forEach split(");
                describe_node(b, p, &k->node);
                sb_puts(b, ", ");
                describe_json(b, json_string(k->delimiter ? k->delimiter : ""));
                sb_putc(b, ')');
                break;
        case _K_MAX:
                break;
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
                                describe_constant(&com, p, &p->k[bx]);
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
                describe_constant(&b, p, &p->k[i]);
                clip(&b, 200);
                fprintf(f, "  K%-3zu %-6s %s\n", i, kconst_kind_name(p->k[i].kind), sb_str(&b));
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
