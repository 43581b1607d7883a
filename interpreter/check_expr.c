/* check_expr.c: conditions of `if` and the expression of Assert: one
 * operator per level, known operators, companion keys (`value`, `path`),
 * operand types, `and`/`or`/`not` in list and map forms, nesting depth,
 * then/else actions, and that patternMatches holds a regular expression
 * that compiles. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "chk_state.h"
#include "predicates.h"
#include "suggest.h"

static bool has_ref(const struct ynode *n)
{
        return n->kind == YN_SCALAR && strstr(n->str, "{{") != NULL;
}

static void check_regex(struct checker *c, const struct ynode *v)
{
        int err;
        PCRE2_SIZE off;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)v->str, v->len, PCRE2_UTF, &err, &off, NULL);
        if (re) {
                pcre2_code_free(re);
                return;
        }
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(err, msg, sizeof msg);
        chk_diag(c, DIAG_ERROR, "cond-regex", v, NULL, "patternMatches has an invalid regular expression: %s (at offset %zu)",
                 (const char *)msg, (size_t)off);
}

/* An operand or companion value: a scalar, typed by the operator. */
static void check_operand(struct checker *c, const struct predicate *p, const char *key, const struct ynode *v,
                          bool baseline, const struct chk_ctx *ctx)
{
        char buf[64];
        if (v->kind != YN_SCALAR || yn_is_null(v)) {
                chk_diag(c, DIAG_ERROR, "cond-operand", v, NULL, "'%s' of %s must be %s, found %s", key, p->name,
                         p->operand == PO_NUMBER ? "a number" : "a string", yn_describe(v));
                return;
        }
        chk_refs_scalar(c, v, ctx);
        if (has_ref(v))
                return;
        switch (p->operand) {
        case PO_NUMBER:
                if (pred_is_number(v->str))
                        break;
                if (baseline)
                        chk_diag(c, DIAG_ERROR, "cond-operand", v, NULL, "%s compares numbers; %s is not a number",
                                 p->name, chk_show(v, buf, sizeof buf));
                else
                        chk_diag(c, DIAG_WARNING, "cond-operand", v, NULL,
                                 "%s compares numbers; %s is not a number, so the comparison is always false", p->name,
                                 chk_show(v, buf, sizeof buf));
                break;
        case PO_REGEX:
                if (baseline)
                        check_regex(c, v);
                break;
        case PO_HASH:
                if (baseline) {
                        bool hex = v->len == p->hash_hex_len;
                        for (size_t i = 0; hex && i < v->len; i++)
                                hex = strchr("0123456789abcdefABCDEF", v->str[i]) != NULL;
                        if (!hex)
                                chk_diag(c, DIAG_WARNING, "cond-operand", v, NULL,
                                         "%s expects %u hexadecimal digits; %s can never match", p->name,
                                         p->hash_hex_len, chk_show(v, buf, sizeof buf));
                }
                break;
        default:
                break;
        }
}

static void check_level(struct checker *c, const struct ynode *e, const struct chk_ctx *ctx, bool top, unsigned depth);

static void check_logic(struct checker *c, const struct predicate *p, const struct ynode *key, const struct ynode *v,
                        const struct chk_ctx *ctx, unsigned depth)
{
        if (depth > PRED_MAX_LOGIC_DEPTH) {
                chk_diag(c, DIAG_ERROR, "cond-depth", key, NULL,
                         "logical operators are nested %u levels deep; the limit is %d", depth, PRED_MAX_LOGIC_DEPTH);
                return;
        }
        if (p->form == PF_NOT) {
                if (v->kind == YN_MAP) {
                        check_level(c, v, ctx, false, depth);
                        return;
                }
                if (v->kind == YN_SEQ && v->n == 1) {
                        check_level(c, v->items[0], ctx, false, depth);
                        return;
                }
                chk_diag(c, DIAG_ERROR, "cond-arity", v, NULL,
                         "'not' negates exactly one comparison (a mapping, or a list of one); found %s%s",
                         yn_describe(v), v->kind == YN_SEQ ? (v->n ? " of several items" : " with no items") : "");
                return;
        }
        if (v->kind != YN_SEQ || v->n < 2) {
                chk_diag(c, DIAG_ERROR, "cond-arity", v, "write each condition as a list item under it",
                         "'%s' needs a list of at least two conditions, found %s%s", p->name, yn_describe(v),
                         v->kind == YN_SEQ ? " of fewer" : "");
                if (v->kind == YN_SEQ)
                        for (size_t i = 0; i < v->n; i++)
                                check_level(c, v->items[i], ctx, false, depth);
                return;
        }
        for (size_t i = 0; i < v->n; i++)
                check_level(c, v->items[i], ctx, false, depth);
}

static void check_level(struct checker *c, const struct ynode *e, const struct chk_ctx *ctx, bool top, unsigned depth)
{
        if (e->kind != YN_MAP) {
                chk_diag(c, DIAG_ERROR, "wrong-type", e, NULL,
                         "a condition must be a mapping with one operator (stringEquals, and, ...), found %s",
                         yn_describe(e));
                return;
        }
        const struct predicate *op = NULL;
        const struct ynode *op_key = NULL, *op_val = NULL;
        size_t n_ops = 0, n_known = 0;
        for (size_t i = 0; i < e->n; i++)
                n_known += pred_find(e->pairs[i].key->str) != NULL;
        for (size_t i = 0; i < e->n; i++) {
                const struct ynode *k = e->pairs[i].key;
                const char *name = k->str;
                if (!strcmp(name, "value") || !strcmp(name, "path"))
                        continue;
                if (!strcmp(name, "then") || !strcmp(name, "else")) {
                        if (!top) {
                                chk_diag(c, DIAG_ERROR, "cond-companion", k, NULL,
                                         "'%s' belongs to a step's 'if', not inside %s", name,
                                         depth ? "a nested condition" : "an Assert");
                                continue;
                        }
                        const struct ynode *v = e->pairs[i].value;
                        static const char *const acts[] = { "Execute", "Skip", "Abort", NULL };
                        bool ok = false;
                        for (size_t j = 0; acts[j]; j++)
                                ok |= v->kind == YN_SCALAR && !strcmp(v->str, acts[j]);
                        if (!ok) {
                                char buf[64], help[64];
                                const char *sug = v->kind == YN_SCALAR ? suggest_closest(v->str, acts) : NULL;
                                if (sug)
                                        snprintf(help, sizeof help, "did you mean '%s'?", sug);
                                chk_diag(c, DIAG_ERROR, "cond-action", v, sug ? help : NULL,
                                         "'%s' is %s; expected Execute, Skip or Abort", name,
                                         v->kind == YN_SCALAR ? chk_show(v, buf, sizeof buf) : yn_describe(v));
                        }
                        continue;
                }
                const struct predicate *p = pred_find(name);
                if (!p && n_known) {
                        /* Beside a real operator, an unknown key is extra. */
                        static const char *const extras[] = { "value", "path", "then", "else", NULL };
                        const char *sug = suggest_closest(name, extras);
                        char help[96];
                        if (sug)
                                snprintf(help, sizeof help, "did you mean '%s'?", sug);
                        chk_diag(c, DIAG_WARNING, "unknown-key", k, sug ? help : NULL,
                                 "unknown key '%s' in a condition; it is ignored", name);
                        continue;
                }
                if (!p) {
                        const char *sug = suggest_closest(name, pred_names());
                        char help[96];
                        if (sug)
                                snprintf(help, sizeof help, "did you mean '%s'?", sug);
                        chk_diag(c, DIAG_ERROR, "cond-operator", k, sug ? help : NULL, "unknown operator '%s'", name);
                        n_ops++; /* counted, so no second "no operator" error */
                        continue;
                }
                if (p->alias_of) {
                        char help[96];
                        snprintf(help, sizeof help, "write '%s'", p->alias_of);
                        chk_diag(c, DIAG_WARNING, "cond-operator", k, help,
                                 "'%s' is a nonstandard spelling of %s, accepted because AWS's examples use it", name,
                                 p->alias_of);
                }
                n_ops++;
                if (!op) {
                        op = p;
                        op_key = k;
                        op_val = e->pairs[i].value;
                }
        }
        if (n_ops == 0) {
                chk_diag(c, DIAG_ERROR, "cond-count", e, NULL,
                         "a condition needs one operator (a comparison, or and/or/not); found none");
                return;
        }
        if (n_ops > 1) {
                chk_diag(c, DIAG_ERROR, "cond-count", e, "combine several comparisons with 'and' or 'or'",
                         "a condition holds exactly one operator; found %zu", n_ops);
                return;
        }
        if (!op)
                return; /* the only operator was unknown, already reported */
        const struct ypair *value = yn_pair(e, "value"), *path = yn_pair(e, "path");
        switch (op->form) {
        case PF_AND:
        case PF_OR:
        case PF_NOT:
                if (value || path)
                        chk_diag(c, DIAG_ERROR, "cond-companion", (value ? value : path)->key, NULL,
                                 "'%s' does not take '%s'; put it beside the comparison inside", op->name,
                                 value ? "value" : "path");
                check_logic(c, op, op_key, op_val, ctx, depth + 1);
                return;
        case PF_UNARY:
                if (value || path)
                        chk_diag(c, DIAG_ERROR, "cond-companion", (value ? value : path)->key, NULL,
                                 "%s takes a single operand; '%s' does not belong here", op->name, value ? "value" : "path");
                check_operand(c, op, op->name, op_val, true, ctx);
                return;
        case PF_VALUE:
        case PF_PATH: {
                /* The one companion the operator takes, and the other. */
                bool by_path = op->form == PF_PATH;
                const struct ypair *given = by_path ? path : value, *other = by_path ? value : path;
                if (other)
                        chk_diag(c, DIAG_ERROR, "cond-companion", other->key, NULL,
                                 by_path ? "%s checks the file named by 'path'; 'value' does not belong here"
                                         : "%s compares with 'value'; 'path' does not belong here",
                                 op->name);
                check_operand(c, op, op->name, op_val, true, ctx);
                if (!given)
                        chk_diag(c, DIAG_ERROR, "cond-companion", e, NULL, "%s needs '%s', %s", op->name,
                                 by_path ? "path" : "value", by_path ? "the file to hash" : "the value to compare");
                else if (!by_path)
                        check_operand(c, op, "value", value->value, false, ctx);
                else if (path->value->kind != YN_SCALAR || yn_is_null(path->value))
                        chk_diag(c, DIAG_ERROR, "cond-operand", path->value, NULL, "'path' must be a string, found %s",
                                 yn_describe(path->value));
                else
                        chk_refs_scalar(c, path->value, ctx);
                return;
        }
        case _PF_MAX:
                return;
        }
}

void chk_expression(struct checker *c, const struct ynode *expr, const struct chk_ctx *ctx, bool top)
{
        check_level(c, expr, ctx, top, 0);
}
