/* check.c: the structure of a component document: top-level keys,
 * schemaVersion, parameters and constants, phases, steps and their keys,
 * and loops.  Action inputs, conditions and references are checked by
 * check_inputs.c, check_expr.c and check_refs.c once every step is known,
 * so a reference to a later step can be told apart from a misspelled one;
 * all four report through check_diag.c. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "chk_state.h"
#include "cleanup.h"
#include "loopfor.h"
#include "strbuf.h"
#include "strv.h"
#include "suggest.h"

#define MAX_TIMEOUT_SECONDS 2147483647LL

/* A required scalar string: reports a missing or non-scalar value. */
/* True when `n` is a mapping; else the error "<what> must be a mapping
 * with <keys>, found <what n is>". */
static bool need_mapping(struct checker *c, const struct ynode *n, const char *what, const char *keys)
{
        if (n->kind == YN_MAP)
                return true;
        chk_diag(c, DIAG_ERROR, "not-a-mapping", n, NULL, "%s must be a mapping with %s, found %s", what, keys,
                 yn_describe(n));
        return false;
}

static const char *need_string(struct checker *c, const struct ynode *map, const char *key,
                               const char *where)
{
        const struct ypair *p = yn_pair(map, key);
        if (!p) {
                chk_diag(c, DIAG_ERROR, "missing-key", map, NULL, "%s has no '%s'; it is required",
                         where, key);
                return NULL;
        }
        if (p->value->kind != YN_SCALAR || yn_is_null(p->value)) {
                chk_diag(c, DIAG_ERROR, "wrong-type", p->value, NULL,
                         "'%s' of %s must be a string, found %s", key, where, yn_describe(p->value));
                return NULL;
        }
        return p->value->str;
}

/* ---- schemaVersion ---------------------------------------------------- */

static void check_schema_version(struct checker *c, const struct ynode *root)
{
        const struct ypair *p = yn_pair(root, "schemaVersion");
        if (!p) {
                chk_diag(c, DIAG_ERROR, "missing-key", root, "add 'schemaVersion: 1.0'",
                         "the document has no 'schemaVersion'; it is required");
                return;
        }
        const struct ynode *v = p->value;
        if (v->kind == YN_SCALAR && (!strcmp(v->str, "1.0") || !strcmp(v->str, "1")))
                return;
        char buf[64];
        chk_diag(c, DIAG_ERROR, "schema-version", v, "write 'schemaVersion: 1.0'",
                 "unsupported schemaVersion %s; expected 1.0", chk_show(v, buf, sizeof buf));
}

/* ---- parameters and constants ----------------------------------------- */

static bool valid_var_name(const char *s, size_t len)
{
        if (len < 3 || len > 128)
                return false;
        for (size_t i = 0; i < len; i++) {
                char ch = s[i];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                      ch == '-' || ch == '_'))
                        return false;
        }
        return true;
}

/* ---- names within a phase ------------------------------------------- */

/* The step of this phase's index `idx` (keyed by name,
 * or by loop name) whose key is `name`; -1 if none. */
static long find_in_phase(const struct checker *c, const struct hindex *idx, bool loop, const char *name)
{
        size_t pos = 0, i;
        while (hindex_next(idx, hindex_hash_str(HINDEX_SEED, name), &pos, &i))
                if (!strcmp(loop ? chk_step_loop_name(&c->steps[i]) : chk_step_name(&c->steps[i]), name))
                        return (long)i;
        return -1;
}

static void add_var(struct checker *c, const struct ynode *key, bool constant)
{
        long found = chk_find_var(c, key->str);
        if (found >= 0) {
                const struct chk_var *o = &c->vars[found];
                chk_diag(c, DIAG_ERROR, "var-duplicate", key, NULL,
                         "%s '%s' is already declared as a %s at line %u, column %u; names must be "
                         "unique across parameters and constants",
                         constant ? "constant" : "parameter", key->str, o->constant ? "constant" : "parameter",
                         o->key->line, o->key->column);
                return;
        }
        if (c->n_vars == c->cap_vars) {
                c->cap_vars = c->cap_vars ? c->cap_vars * 2 : 8;
                c->vars = xrealloc(c->vars, c->cap_vars * sizeof *c->vars);
        }
        hindex_add(&c->var_index, hindex_hash_str(HINDEX_SEED, key->str), c->n_vars);
        c->vars[c->n_vars++] = (struct chk_var){ key->str, key, constant };
}

static void check_vars(struct checker *c, const struct ynode *list, bool constant)
{
        const char *what = constant ? "constants" : "parameters";
        const char *one = constant ? "constant" : "parameter";
        static const char *const param_keys[] = { "type", "default", "description", NULL };
        static const char *const const_keys[] = { "type", "value", "description", NULL };
        if (yn_is_null(list))
                return;
        if (list->kind != YN_SEQ) {
                chk_diag(c, DIAG_ERROR, "wrong-type", list, "write each one as '- Name: {type: string, ...}'",
                         "'%s' must be a list, found %s", what, yn_describe(list));
                return;
        }
        for (size_t i = 0; i < list->n; i++) {
                const struct ynode *item = list->items[i];
                if (item->kind != YN_MAP || item->n != 1) {
                        chk_diag(c, DIAG_ERROR, "var-shape", item,
                                 constant ? "write '- Name:' followed by 'type' and 'value' indented below it"
                                          : "write '- Name:' followed by 'type' (and 'default') indented below it",
                                 "each entry of '%s' must be a mapping with exactly one key, the %s's name; "
                                 "found %s%s",
                                 what, one, yn_describe(item),
                                 item->kind == YN_MAP ? (item->n ? " with several keys" : " with no keys") : "");
                        continue;
                }
                const struct ynode *key = item->pairs[0].key, *body = item->pairs[0].value;
                bool name_ok = true;
                if (!yn_is_string(key)) {
                        chk_diag(c, DIAG_ERROR, "var-name", key, "quote the name",
                                 "%s name must be a YAML string, found %s", one, yn_describe(key));
                        name_ok = false;
                } else if (!valid_var_name(key->str, key->len)) {
                        chk_diag(c, DIAG_ERROR, "var-name", key, NULL,
                                 "invalid %s name '%s': expected 3 to 128 characters from A-Z a-z 0-9 - _",
                                 one, key->str);
                        name_ok = false;
                }
                if (name_ok || key->kind == YN_SCALAR)
                        add_var(c, key, constant);
                if (body->kind != YN_MAP) {
                        chk_diag(c, DIAG_ERROR, "wrong-type", yn_is_null(body) ? key : body, NULL,
                                 "%s '%s' must be a mapping with 'type'%s, found %s", one, key->str,
                                 constant ? " and 'value'" : "", yn_describe(body));
                        continue;
                }
                char where[200];
                snprintf(where, sizeof where, "%s '%.100s'", one, key->str);
                chk_unknown_keys(c, body, constant ? const_keys : param_keys, where);
                const char *type = need_string(c, body, "type", where);
                if (type && strcmp(type, "string") != 0 && (constant || strcmp(type, "stringList") != 0)) {
                        char buf[64];
                        chk_diag(c, DIAG_ERROR, "var-type", yn_get(body, "type"), NULL,
                                 "unsupported %s type %s; expected %s", one,
                                 chk_show(yn_get(body, "type"), buf, sizeof buf),
                                 constant ? "'string'" : "'string' or 'stringList'");
                }
                const struct ynode *v = yn_get(body, constant ? "value" : "default");
                if (constant && !yn_pair(body, "value"))
                        chk_diag(c, DIAG_ERROR, "missing-key", body, NULL,
                                 "constant '%s' has no 'value'; it is required", key->str);
                if (v && v->kind == YN_MAP)
                        chk_diag(c, DIAG_ERROR, "wrong-type", v, NULL, "the %s of %s must be a %s, found a mapping",
                                 constant ? "value" : "default", where,
                                 type && !strcmp(type, "stringList") ? "list of strings" : "string");
                else if (v && v->kind == YN_SEQ && !(type && !strcmp(type, "stringList")))
                        chk_diag(c, DIAG_ERROR, "wrong-type", v, NULL, "the %s of %s must be a string, found a list",
                                 constant ? "value" : "default", where);
                const struct ynode *d = yn_get(body, "description");
                if (d && d->kind != YN_SCALAR)
                        chk_diag(c, DIAG_ERROR, "wrong-type", d, NULL,
                                 "the description of %s must be a string, found %s", where, yn_describe(d));
        }
}

/* ---- loops ------------------------------------------------------------ */

/* How a `for` loop's start, end or updateBy reads as an integer.  AWSTOE
 * reads quoted integers too.  Only the forms that YAML 1.1 and 1.2 readers
 * and Go's strconv all read as the same decimal int64 are accepted, so the
 * value validate checks is the value compile and run use (both call
 * check_loop_int); the others are told apart for the message. */
enum loop_int_form {
        LOOP_INT_OK,
        LOOP_INT_NOT_INTEGER,
        LOOP_INT_RANGE,        /* decimal digits, outside int64 */
        LOOP_INT_LEADING_ZERO, /* 010: octal 8 to YAML 1.1 */
        LOOP_INT_BASE,         /* 0x1F, 0o17, 0b101 */
        LOOP_INT_UNDERSCORE,   /* 1_000: YAML 1.1 digit separators */
        LOOP_INT_SPACE,        /* " 5": spaces or line breaks around it */
};

static bool is_space(char ch)
{
        return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* The base a 0x, 0o or 0b prefix at t (two bytes) names, or 0. */
static int base_prefix(const char *t)
{
        if (t[0] != '0')
                return 0;
        return t[1] == 'x' || t[1] == 'X' ? 16 : t[1] == 'o' || t[1] == 'O' ? 8 : t[1] == 'b' || t[1] == 'B' ? 2 : 0;
}

static bool is_digit_in(char ch, int base)
{
        if (base == 16 && ((ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')))
                return true;
        return ch >= '0' && ch <= '9' && ch - '0' < base;
}

/* The form of text[0, len), which has no spaces around it. */
static enum loop_int_form int_text_form(const char *t, size_t len, long long *ret)
{
        size_t i = 0;
        bool neg = false;
        if (i < len && (t[i] == '+' || t[i] == '-'))
                neg = t[i++] == '-';
        if (i == len)
                return LOOP_INT_NOT_INTEGER;
        if (len - i > 2 && base_prefix(t + i)) {
                int base = base_prefix(t + i);
                for (size_t j = i + 2; j < len; j++)
                        if (t[j] != '_' && !is_digit_in(t[j], base))
                                return LOOP_INT_NOT_INTEGER;
                return LOOP_INT_BASE;
        }
        if (t[i] < '0' || t[i] > '9')
                return LOOP_INT_NOT_INTEGER;
        bool underscore = false;
        for (size_t j = i; j < len; j++) {
                if (t[j] == '_')
                        underscore = true;
                else if (t[j] < '0' || t[j] > '9')
                        return LOOP_INT_NOT_INTEGER;
        }
        if (underscore)
                return LOOP_INT_UNDERSCORE;
        if (t[i] == '0' && len - i > 1)
                return LOOP_INT_LEADING_ZERO;
        /* Decimal digits: accumulate as a negative number, which reaches
         * INT64_MIN, checking each step. */
        long long v = 0;
        for (size_t j = i; j < len; j++) {
                int dgt = t[j] - '0';
                if (v < (LLONG_MIN + dgt) / 10)
                        return LOOP_INT_RANGE;
                v = v * 10 - dgt;
        }
        if (!neg && v == LLONG_MIN)
                return LOOP_INT_RANGE;
        *ret = neg ? v : -v;
        return LOOP_INT_OK;
}

static enum loop_int_form loop_int_form(const struct ynode *v, long long *ret)
{
        if (!v || v->kind != YN_SCALAR)
                return LOOP_INT_NOT_INTEGER;
        /* Untagged, or tagged as an integer or a string (what quotes mean). */
        if (v->has_tag && strcmp(yn_tag(v), "tag:yaml.org,2002:int") && strcmp(yn_tag(v), "tag:yaml.org,2002:str"))
                return LOOP_INT_NOT_INTEGER;
        const char *t = v->str;
        size_t len = v->len, lead = 0;
        if (strlen(t) != len) /* a "\0" escape */
                return LOOP_INT_NOT_INTEGER;
        while (lead < len && is_space(t[lead]))
                lead++;
        while (len > lead && is_space(t[len - 1]))
                len--;
        enum loop_int_form f = int_text_form(t + lead, len - lead, ret);
        if (f != LOOP_INT_NOT_INTEGER && (lead > 0 || len < v->len))
                return LOOP_INT_SPACE;
        return f;
}

bool check_loop_int(const struct ynode *v, long long *ret)
{
        long long x;
        if (loop_int_form(v, &x) != LOOP_INT_OK)
                return false;
        *ret = x;
        return true;
}

/* The same number written plainly, for a hint: digits without separators
 * or leading zeros, a base prefix read.  False when it is not in range. */
static bool plain_decimal(const char *t, size_t len, char *buf, size_t size)
{
        char digits[96];
        size_t i = 0, n = 0;
        while (i < len && is_space(t[i]))
                i++;
        while (len > i && is_space(t[len - 1]))
                len--;
        bool neg = i < len && t[i] == '-';
        if (i < len && (t[i] == '+' || t[i] == '-'))
                i++;
        int base = 10;
        if (len - i > 2 && base_prefix(t + i)) {
                base = base_prefix(t + i);
                i += 2;
        }
        for (; i < len && n + 1 < sizeof digits; i++) {
                if (t[i] == '_')
                        continue;
                if (!is_digit_in(t[i], base))
                        return false;
                digits[n++] = t[i];
        }
        if (i < len || n == 0)
                return false;
        digits[n] = '\0';
        errno = 0;
        char *end;
        unsigned long long u = strtoull(digits, &end, base);
        if (errno || *end || u > (unsigned long long)LLONG_MAX + (neg ? 1 : 0))
                return false;
        if (neg && u)
                snprintf(buf, size, "-%llu", u);
        else
                snprintf(buf, size, "%llu", u);
        return true;
}

static bool loop_int(struct checker *c, const struct ynode *loop_for, const char *key, long long *ret)
{
        const struct ypair *p = yn_pair(loop_for, key);
        if (!p) {
                chk_diag(c, DIAG_ERROR, "missing-key", loop_for, NULL,
                         "a 'for' loop needs 'start', 'end' and 'updateBy'; '%s' is missing", key);
                return false;
        }
        const struct ynode *v = p->value;
        if (v->kind == YN_SCALAR && strstr(v->str, "{{")) {
                unsigned line, col;
                ydoc_locate_in_scalar(c->doc, v, (size_t)(strstr(v->str, "{{") - v->str), &line, &col);
                chk_diag_at(c, DIAG_ERROR, "loop-template", line, col, 2, NULL,
                            "'%s' of a 'for' loop cannot use '{{ }}' references; write an integer", key);
                return false;
        }
        char buf[64], plain[32], help[96];
        enum loop_int_form f = loop_int_form(v, ret);
        bool has_plain = v->kind == YN_SCALAR && plain_decimal(v->str, v->len, plain, sizeof plain);
        if (has_plain)
                snprintf(help, sizeof help, "write it as %s", plain);
        switch (f) {
        case LOOP_INT_OK:
                return true;
        case LOOP_INT_RANGE:
                chk_diag(c, DIAG_ERROR, "loop-range", v,
                         "a loop counts in 64-bit integers, from -9223372036854775808 to 9223372036854775807",
                         "'%s' of a 'for' loop is %s, outside the range of a 64-bit integer", key,
                         chk_show(v, buf, sizeof buf));
                return false;
        case LOOP_INT_LEADING_ZERO:
                if (has_plain)
                        snprintf(help, sizeof help, "write it without leading zeros: %s", plain);
                chk_diag(c, DIAG_ERROR, "wrong-type", v, has_plain ? help : "write it without leading zeros",
                         "'%s' of a 'for' loop is %s, with a leading zero, which YAML 1.1 reads as octal "
                         "and YAML 1.2 as decimal", key, chk_show(v, buf, sizeof buf));
                return false;
        case LOOP_INT_BASE:
                chk_diag(c, DIAG_ERROR, "wrong-type", v, has_plain ? help : "write it in decimal",
                         "'%s' of a 'for' loop must be a decimal integer, found %s", key,
                         chk_show(v, buf, sizeof buf));
                return false;
        case LOOP_INT_UNDERSCORE:
                chk_diag(c, DIAG_ERROR, "wrong-type", v, has_plain ? help : "write the digits without '_'",
                         "'%s' of a 'for' loop must be an integer without '_' between its digits, found %s", key,
                         chk_show(v, buf, sizeof buf));
                return false;
        case LOOP_INT_SPACE:
                chk_diag(c, DIAG_ERROR, "wrong-type", v, has_plain ? help : NULL,
                         "'%s' of a 'for' loop must be an integer, found %s with spaces around it", key,
                         chk_show(v, buf, sizeof buf));
                return false;
        case LOOP_INT_NOT_INTEGER:
                break;
        }
        if (v->kind == YN_SCALAR && v->has_tag && strncmp(yn_tag(v), "tag:yaml.org,2002:", 18) == 0) {
                chk_diag(c, DIAG_ERROR, "wrong-type", v, "leave the tag out, or write !!int",
                         "'%s' of a 'for' loop must be an integer, found %s tagged !!%s", key,
                         chk_show(v, buf, sizeof buf), yn_tag(v) + 18);
                return false;
        }
        chk_diag(c, DIAG_ERROR, "wrong-type", v, NULL, "'%s' of a 'for' loop must be an integer, found %s", key,
                 v->kind == YN_SCALAR ? chk_show(v, buf, sizeof buf) : yn_describe(v));
        return false;
}

static void check_for(struct checker *c, const struct ynode *f)
{
        static const char *const keys[] = { "start", "end", "updateBy", NULL };
        if (f->kind != YN_MAP) {
                chk_diag(c, DIAG_ERROR, "wrong-type", f, "write 'for:' with 'start', 'end' and 'updateBy' below it",
                         "'for' must be a mapping, found %s", yn_describe(f));
                return;
        }
        chk_unknown_keys(c, f, keys, "a 'for' loop");
        long long start, end, by;
        bool ok = loop_int(c, f, "start", &start);
        ok &= loop_int(c, f, "end", &end);
        ok &= loop_int(c, f, "updateBy", &by);
        if (!ok)
                return;
        const struct ynode *byn = yn_get(f, "updateBy");
        if (by == 0) {
                chk_diag(c, DIAG_ERROR, "loop-update-zero", byn, NULL,
                         "'updateBy' is 0, so the loop would never end; expected a non-zero integer");
                return;
        }
        uint64_t last;
        if (!loop_for_last(start, end, by, &last)) {
                chk_diag(c, DIAG_ERROR, "loop-infinite", byn,
                         start < end ? "use a positive 'updateBy' to count up" : "use a negative 'updateBy' to count down",
                         "the loop runs from %lld to %lld by %lld, so it never reaches its end", start, end, by);
                return;
        }
        /* The verifier refuses the same loops (loopfor.h). */
        if (last >= LOOP_MAX_ITERATIONS) {
                char count[21];
                chk_diag(c, DIAG_ERROR, "loop-limit", byn,
                         "a larger 'updateBy' or a shorter range makes fewer iterations",
                         "the loop runs from %lld to %lld by %lld, which is %s iterations; the limit is %u", start,
                         end, by, loop_for_count_text(last, count), LOOP_MAX_ITERATIONS);
        }
}

static bool allowed_delimiter(const char *s)
{
        static const char *const ok[] = { ".", ",", ";", ":", "\n", "\t", " ", "-", "_", "\\n", "\\t", NULL };
        for (size_t i = 0; ok[i]; i++)
                if (!strcmp(s, ok[i]))
                        return true;
        return false;
}

static void check_for_each(struct checker *c, const struct ynode *fe, const struct chk_step *s)
{
        struct chk_ctx ctx = { .step = s, .in_loop = false };
        if (fe->kind == YN_SEQ) {
                for (size_t i = 0; i < fe->n; i++) {
                        const struct ynode *it = fe->items[i];
                        if (it->kind != YN_SCALAR || yn_is_null(it))
                                chk_diag(c, DIAG_ERROR, "wrong-type", it, NULL,
                                         "each item of a 'forEach' list must be a string, found %s",
                                         yn_describe(it));
                        else
                                chk_refs_scalar(c, it, &ctx);
                }
                return;
        }
        if (fe->kind != YN_MAP) {
                chk_diag(c, DIAG_ERROR, "wrong-type", fe, NULL,
                         "'forEach' must be a list of strings or a mapping with 'list' and 'delimiter', found %s",
                         yn_describe(fe));
                return;
        }
        static const char *const keys[] = { "list", "delimiter", NULL };
        chk_unknown_keys(c, fe, keys, "a 'forEach' loop");
        const struct ypair *l = yn_pair(fe, "list");
        if (!l)
                chk_diag(c, DIAG_ERROR, "missing-key", fe, NULL,
                         "a 'forEach' mapping needs 'list', a string of items joined by the delimiter");
        else if (l->value->kind != YN_SCALAR || yn_is_null(l->value))
                chk_diag(c, DIAG_ERROR, "wrong-type", l->value, NULL,
                         "'list' must be a string of items joined by the delimiter, found %s",
                         yn_describe(l->value));
        else
                chk_refs_scalar(c, l->value, &ctx);
        const struct ynode *d = yn_get(fe, "delimiter");
        if (!d)
                return;
        if (d->kind == YN_SCALAR && strstr(d->str, "{{")) {
                unsigned line, col;
                ydoc_locate_in_scalar(c->doc, d, (size_t)(strstr(d->str, "{{") - d->str), &line, &col);
                chk_diag_at(c, DIAG_ERROR, "loop-template", line, col, 2, NULL,
                            "'delimiter' cannot use '{{ }}' references");
                return;
        }
        if (d->kind != YN_SCALAR || !allowed_delimiter(d->str)) {
                char buf[64];
                chk_diag(c, DIAG_ERROR, "loop-delimiter", d,
                         "use one of \".\" \",\" \";\" \":\" \"\\n\" \"\\t\" \" \" \"-\" \"_\"",
                         "unsupported delimiter %s; expected exactly one of . , ; : newline tab space - _",
                         chk_show(d, buf, sizeof buf));
        }
}

static void check_loop(struct checker *c, struct chk_step *s, const struct ynode *loop)
{
        static const char *const keys[] = { "name", "for", "forEach", NULL };
        if (!need_mapping(c, loop, "'loop'", "'for' or 'forEach'"))
                return;
        chk_unknown_keys(c, loop, keys, "a loop");
        const struct ynode *name = yn_get(loop, "name");
        if (name) {
                if (name->kind != YN_SCALAR || yn_is_null(name))
                        chk_diag(c, DIAG_ERROR, "wrong-type", name, NULL, "a loop's 'name' must be a string, found %s",
                                 yn_describe(name));
                else if (name->len) {
                        s->loop_named = true;
                        chk_no_refs(c, name, "ref-context", DIAG_WARNING, "a loop's name");
                }
        }
        const struct ynode *f = yn_get(loop, "for"), *fe = yn_get(loop, "forEach");
        if ((f != NULL) == (fe != NULL)) {
                chk_diag(c, DIAG_ERROR, "loop-kind", loop, NULL, f ? "a loop has both 'for' and 'forEach'; expected one"
                                                                  : "a loop needs 'for' or 'forEach'; found neither");
                return;
        }
        if (f)
                check_for(c, f);
        else
                check_for_each(c, fe, s);
}

/* ---- steps and phases ------------------------------------------------- */

static const char *const step_keys[] = {
        "name", "action", "timeoutSeconds", "onFailure", "maxAttempts", "inputs", "loop", "if", "disableLogging", NULL,
};

static const char **action_names(void)
{
        static const char *names[128];
        if (!names[0])
                for (size_t i = 0; i < n_action_specs && i < 127; i++)
                        names[i] = action_specs[i].name;
        return names;
}

static const char *platform_list(unsigned p, const char *sep, char *buf, size_t size)
{
        buf[0] = 0;
        static const struct {
                unsigned bit;
                const char *name;
        } names[] = { { PLAT_LINUX, "linux" }, { PLAT_WINDOWS, "windows" }, { PLAT_DARWIN, "darwin" } };
        for (size_t i = 0; i < 3; i++)
                if (p & names[i].bit) {
                        if (buf[0])
                                strncat(buf, sep, size - strlen(buf) - 1);
                        strncat(buf, names[i].name, size - strlen(buf) - 1);
                }
        return buf;
}

static void check_action(struct checker *c, struct chk_step *s, const struct ynode *an)
{
        if (an->kind != YN_SCALAR || yn_is_null(an)) {
                chk_diag(c, DIAG_ERROR, "wrong-type", an, NULL, "'action' must be an action module's name, found %s",
                         yn_describe(an));
                return;
        }
        const struct action_spec *a = action_spec_find(an->str);
        if (!a) {
                const char *sug = suggest_closest(an->str, action_names());
                char help[128];
                if (sug)
                        snprintf(help, sizeof help, "did you mean '%s'?", sug);
                chk_diag(c, DIAG_ERROR, "unknown-action", an, sug ? help : "see opentoe-document(5) for the list",
                         "unknown action '%s'", an->str);
                return;
        }
        s->action = (uint8_t)(a->id + 1);
        unsigned missing = c->opts->platforms & ~a->platforms;
        if (missing) {
                char have[64], want[64], flag[64];
                platform_list(a->platforms, ", ", have, sizeof have);
                platform_list(a->platforms, ",", flag, sizeof flag);
                platform_list(missing, ", ", want, sizeof want);
                char help[256];
                snprintf(help, sizeof help, "%s runs on %s; validate with '--os-platforms %s' for such a document",
                         a->name, have, flag);
                chk_diag(c, DIAG_ERROR, "action-platform", an, help, "action %s is not available on %s", a->name,
                         want);
        }
        if ((a->flags & ACT_EXTENSION) && c->opts->strict_awstoe)
                chk_diag(c, DIAG_ERROR, "extension", an, "AWSTOE does not have this action; drop --strict-awstoe to use it",
                         "action %s is an opentoe extension", a->name);
}

static void check_step_numbers(struct checker *c, const struct chk_step *s)
{
        const struct ynode *m = s->node;
        const struct action_spec *act = chk_step_action(s);
        const struct ynode *t = yn_get(m, "timeoutSeconds");
        long long v;
        char buf[64];
        if (t) {
                if (!yn_as_int(t, &v))
                        chk_diag(c, DIAG_ERROR, "wrong-type", t, NULL,
                                 "'timeoutSeconds' must be an integer (-1 for no timeout, or 1 and more), found %s",
                                 t->kind == YN_SCALAR ? chk_show(t, buf, sizeof buf) : yn_describe(t));
                else if (v == 0 || v < -1)
                        chk_diag(c, DIAG_ERROR, "timeout-value", t, "use -1 for no timeout",
                                 "'timeoutSeconds' is %lld; expected -1 or a number of seconds of at least 1", v);
                else if (v > MAX_TIMEOUT_SECONDS)
                        chk_diag(c, DIAG_ERROR, "timeout-value", t, "use -1 for no timeout",
                                 "'timeoutSeconds' is %lld; the limit is %lld seconds (about 68 years)", v,
                                 MAX_TIMEOUT_SECONDS);
                else if (act && (act->flags & ACT_FORCED_ONCE) && v != -1)
                        chk_diag(c, DIAG_ERROR, "forced-once", t, "remove 'timeoutSeconds' or set it to -1",
                                 "%s steps run without a timeout; 'timeoutSeconds' must be -1, found %lld",
                                 act->name, v);
                else if (act && (act->flags & ACT_NO_TIMEOUT))
                        chk_diag(c, DIAG_WARNING, "timeout-ignored", t, NULL,
                                 "%s does not support 'timeoutSeconds'; it is ignored", act->name);
        }
        const struct ynode *a = yn_get(m, "maxAttempts");
        if (a) {
                if (!yn_as_int(a, &v))
                        chk_diag(c, DIAG_ERROR, "wrong-type", a, NULL, "'maxAttempts' must be an integer of at least 1, found %s",
                                 a->kind == YN_SCALAR ? chk_show(a, buf, sizeof buf) : yn_describe(a));
                else if (v < 1)
                        chk_diag(c, DIAG_ERROR, "max-attempts-value", a, NULL,
                                 "'maxAttempts' is %lld; expected 1 or more (it counts attempts, not retries)", v);
                else if (v > 1000)
                        chk_diag(c, DIAG_ERROR, "max-attempts-value", a, NULL,
                                 "'maxAttempts' is %lld; the limit is 1000", v);
                else if (act && (act->flags & ACT_FORCED_ONCE) && v != 1)
                        chk_diag(c, DIAG_ERROR, "forced-once", a, "remove 'maxAttempts' or set it to 1",
                                 "%s steps run once; 'maxAttempts' must be 1, found %lld", act->name, v);
        }
        const struct ynode *f = yn_get(m, "onFailure");
        if (f) {
                static const char *const ok[] = { "Abort", "Continue", "Ignore", NULL };
                bool good = false;
                for (size_t i = 0; ok[i]; i++)
                        good |= f->kind == YN_SCALAR && !strcmp(f->str, ok[i]);
                if (!good && f->kind != YN_SCALAR) {
                        chk_diag(c, DIAG_ERROR, "wrong-type", f, NULL,
                                 "'onFailure' must be Abort, Continue or Ignore, found %s", yn_describe(f));
                } else if (!good) {
                        const char *sug = suggest_closest(f->str, ok);
                        char help[64];
                        if (sug)
                                snprintf(help, sizeof help, "did you mean '%s'?", sug);
                        chk_diag(c, DIAG_ERROR, "on-failure-value", f, sug ? help : NULL,
                                 "'onFailure' is %s; expected Abort, Continue or Ignore",
                                 f->kind == YN_SCALAR ? chk_show(f, buf, sizeof buf) : yn_describe(f));
                }
        }
        const struct ynode *dl = yn_get(m, "disableLogging");
        bool b;
        if (dl && !yn_as_bool(dl, &b))
                chk_diag(c, DIAG_ERROR, "wrong-type", dl, NULL, "'disableLogging' must be true or false, found %s",
                         dl->kind == YN_SCALAR ? chk_show(dl, buf, sizeof buf) : yn_describe(dl));
}

_Static_assert(sizeof(struct chk_step) <= 24, "a step's record stays 24 bytes: a big document has thousands");
_Static_assert(_ACTION_ID_MAX < UINT8_MAX, "an action's index + 1 fits chk_step.action");

/* Room for `more` steps after those there are: a phase reserves its
 * steps at once, so the array is no bigger than the document's steps. */
static void reserve_steps(struct checker *c, size_t more)
{
        if (c->cap_steps - c->n_steps >= more)
                return;
        c->cap_steps = c->n_steps + more;
        c->steps = xrealloc(c->steps, c->cap_steps * sizeof *c->steps);
}

static struct chk_step *add_step(struct checker *c)
{
        if (c->n_steps == c->cap_steps)
                reserve_steps(c, c->cap_steps ? c->cap_steps : 32);
        struct chk_step *s = &c->steps[c->n_steps++];
        *s = (struct chk_step){ 0 };
        return s;
}

/* The steps of phase `phase_index`; `unique` when it has a name no
 * phase before it has, so that the document's index of steps by phase
 * and name finds this phase's steps only. */
static void check_steps(struct checker *c, const struct ynode *phase, size_t phase_index, bool unique)
{
        const char *phase_name = c->phase_names[phase_index];
        const struct ynode *steps = yn_get(phase, "steps");
        if (!yn_pair(phase, "steps")) {
                chk_diag(c, DIAG_ERROR, "missing-key", phase, NULL, "phase '%s' has no 'steps'; it is required",
                         phase_name ? phase_name : "?");
                return;
        }
        if (steps->kind != YN_SEQ) {
                chk_diag(c, DIAG_ERROR, "wrong-type", yn_is_null(steps) ? yn_pair(phase, "steps")->key : steps,
                         "write each step as a list item: '- name: ...'", "'steps' must be a list, found %s",
                         yn_describe(steps));
                return;
        }
        if (steps->n == 0)
                chk_diag(c, DIAG_WARNING, "empty-steps", steps, NULL, "phase '%s' has no steps", phase_name ? phase_name : "?");
        /* This phase's step names (when the document's index cannot tell
         * them from another phase's of the same name) and loop names so far. */
        struct hindex names = HINDEX_INIT, loops = HINDEX_INIT;
        reserve_steps(c, steps->n);
        hindex_reserve(&c->step_index, steps->n);
        for (size_t i = 0; i < steps->n; i++) {
                const struct ynode *m = steps->items[i];
                if (!need_mapping(c, m, "a step", "'name' and 'action'"))
                        continue;
                struct chk_step *s = add_step(c);
                s->node = m;
                s->phase_index = (uint32_t)phase_index;
                chk_unknown_keys(c, m, step_keys, "a step");
                const char *name = need_string(c, m, "name", "a step");
                if (name) {
                        s->name_node = yn_get(m, "name");
                        chk_no_refs(c, s->name_node, "ref-context", DIAG_WARNING, "a step name");
                        long j = unique ? chk_find_step(c, phase_name, name) : find_in_phase(c, &names, false, name);
                        if (j >= 0)
                                chk_diag(c, DIAG_ERROR, "step-duplicate", s->name_node, NULL,
                                         "phase '%s' already has a step named '%s' (line %u); step names must be "
                                         "unique within a phase",
                                         phase_name ? phase_name : "?", name, c->steps[j].name_node->line);
                        else if (unique)
                                hindex_add(&c->step_index, chk_step_hash(phase_name, name), c->n_steps - 1);
                        else
                                hindex_add(&names, hindex_hash_str(HINDEX_SEED, name), c->n_steps - 1);
                        if (!unique && phase_name && chk_find_step(c, phase_name, name) < 0)
                                hindex_add(&c->step_index, chk_step_hash(phase_name, name), c->n_steps - 1);
                }
                const struct ynode *an = yn_get(m, "action");
                if (!an)
                        chk_diag(c, DIAG_ERROR, "missing-key", m, NULL, "step '%s' has no 'action'; it is required",
                                 name ? name : "?");
                else
                        check_action(c, s, an);
                check_step_numbers(c, s);
                const struct ynode *loop = yn_get(m, "loop");
                s->has_loop = loop != NULL;
                if (loop) {
                        check_loop(c, s, loop);
                        const char *loop_name = chk_step_loop_name(s);
                        long j = loop_name ? find_in_phase(c, &loops, true, loop_name) : -1;
                        if (j >= 0)
                                chk_diag(c, DIAG_ERROR, "loop-name-duplicate", yn_get(loop, "name"), NULL,
                                         "step '%s' (line %u) already has a loop named '%s'; loop names must "
                                         "be unique within a phase",
                                         chk_step_name(&c->steps[j]) ? chk_step_name(&c->steps[j]) : "?",
                                         c->steps[j].node->line, loop_name);
                        else if (loop_name)
                                hindex_add(&loops, hindex_hash_str(HINDEX_SEED, loop_name), c->n_steps - 1);
                        if (loop_name && chk_find_loop(c, loop_name) < 0)
                                hindex_add(&c->loop_index, hindex_hash_str(HINDEX_SEED, loop_name), c->n_steps - 1);
                }
        }
        hindex_free(&names);
        hindex_free(&loops);
}

static void check_phases(struct checker *c, const struct ynode *root)
{
        const struct ypair *pp = yn_pair(root, "phases");
        if (!pp) {
                chk_diag(c, DIAG_ERROR, "missing-key", root, NULL,
                         "the document has no 'phases'; it needs at least one of build, validate or test");
                return;
        }
        const struct ynode *phases = pp->value;
        if (phases->kind != YN_SEQ) {
                chk_diag(c, DIAG_ERROR, "wrong-type", yn_is_null(phases) ? pp->key : phases,
                         "write each phase as a list item: '- name: build'", "'phases' must be a list, found %s",
                         yn_describe(phases));
                return;
        }
        static const char *const phase_keys[] = { "name", "steps", NULL };
        bool has_required = false;
        const char **names = xcalloc(phases->n + 1, sizeof *names);
        c->phase_names = names;
        struct hindex seen = HINDEX_INIT;
        for (size_t i = 0; i < phases->n; i++) {
                const struct ynode *ph = phases->items[i];
                if (!need_mapping(c, ph, "a phase", "'name' and 'steps'"))
                        continue;
                chk_unknown_keys(c, ph, phase_keys, "a phase");
                const char *name = need_string(c, ph, "name", "a phase");
                bool unique = false;
                if (name) {
                        const struct ynode *nn = yn_get(ph, "name");
                        chk_no_refs(c, nn, "ref-context", DIAG_WARNING, "a phase name");
                        if (!strcmp(name, "build") || !strcmp(name, "validate") || !strcmp(name, "test"))
                                has_required = true;
                        uint64_t h = hindex_hash_str(HINDEX_SEED, name);
                        size_t pos = 0, j;
                        bool dup = false;
                        while (!dup && hindex_next(&seen, h, &pos, &j))
                                dup = !strcmp(names[j], name);
                        if (dup)
                                chk_diag(c, DIAG_ERROR, "phase-duplicate", nn, NULL,
                                         "a phase named '%s' is already defined; phase names must be unique", name);
                        else
                                hindex_add(&seen, h, i);
                        names[i] = name;
                        unique = !dup;
                }
                check_steps(c, ph, i, unique);
        }
        hindex_free(&seen);
        if (!has_required)
                chk_diag(c, DIAG_ERROR, "phase-missing-required", phases, "name a phase build, validate or test",
                         "the document has no build, validate or test phase; at least one is required");
}

/* ---- the whole document ---------------------------------------------- */

static void check_steps_content(struct checker *c)
{
        for (size_t i = 0; i < c->n_steps; i++) {
                struct chk_step *s = &c->steps[i];
                struct chk_ctx ctx = { .step = s, .in_loop = s->has_loop };
                const struct ypair *cond = yn_pair(s->node, "if");
                if (cond) {
                        struct chk_ctx cctx = ctx;
                        const struct ynode *e = cond->value;
                        /* The documented list form: one item holding the expression. */
                        if (e->kind == YN_SEQ && e->n == 1)
                                e = e->items[0];
                        chk_expression(c, e, &cctx, true);
                }
                const struct action_spec *a = chk_step_action(s);
                if (!a)
                        continue;
                chk_inputs(c, s);
                const struct ynode *inputs = a->shape != SHAPE_EXPRESSION ? chk_step_inputs(s) : NULL;
                if (inputs)
                        chk_refs_in(c, inputs, &ctx);
        }
}

int check_document(const struct ydoc *doc, const struct check_options *opts, struct diag_list *diags)
{
        struct checker c = { .doc = doc, .diags = diags, .opts = opts };
        size_t errors = diags->n_errors;
        const struct ynode *root = doc->root;
        static const char *const top_keys[] = {
                "name", "description", "schemaVersion", "parameters", "constants", "phases", NULL,
        };
        if (!root || yn_is_null(root)) {
                diag_add(diags, DIAG_ERROR, "not-a-mapping", doc->path, root ? root->line : 1, root ? root->column : 1, 1,
                         NULL, "the document is empty; expected a mapping with schemaVersion and phases");
                return -EINVAL;
        }
        if (!need_mapping(&c, root, "the document", "schemaVersion and phases"))
                return -EINVAL;
        chk_unknown_keys(&c, root, top_keys, "the document");
        check_schema_version(&c, root);
        const struct ynode *nm = yn_get(root, "name"), *ds = yn_get(root, "description");
        if (nm && nm->kind != YN_SCALAR)
                chk_diag(&c, DIAG_ERROR, "wrong-type", nm, NULL, "'name' must be a string, found %s", yn_describe(nm));
        if (ds && ds->kind != YN_SCALAR)
                chk_diag(&c, DIAG_ERROR, "wrong-type", ds, NULL, "'description' must be a string, found %s", yn_describe(ds));
        /* In document order, so a duplicate is reported where it comes second. */
        for (size_t i = 0; i < root->n; i++) {
                const char *k = root->pairs[i].key->str;
                if (!strcmp(k, "parameters") || !strcmp(k, "constants"))
                        check_vars(&c, root->pairs[i].value, !strcmp(k, "constants"));
        }
        check_phases(&c, root);
        check_steps_content(&c);
        free_many(c.steps, c.phase_names, c.vars);
        hindex_free(&c.var_index);
        hindex_free(&c.step_index);
        hindex_free(&c.loop_index);
        strv_free_n(c.step_labels, c.n_step_labels);
        return diags->n_errors > errors ? -EINVAL : 0;
}

int check_parse_platforms(const char *s, unsigned *ret, const char **reterr_word)
{
        unsigned p = 0;
        static char bad[64];
        const char *q = s;
        while (*q) {
                const char *comma = strchr(q, ',');
                size_t n = comma ? (size_t)(comma - q) : strlen(q);
                if (n == 5 && !strncmp(q, "linux", 5))
                        p |= PLAT_LINUX;
                else if (n == 7 && !strncmp(q, "windows", 7))
                        p |= PLAT_WINDOWS;
                else if ((n == 6 && !strncmp(q, "darwin", 6)) || (n == 5 && !strncmp(q, "macos", 5)))
                        p |= PLAT_DARWIN;
                else {
                        snprintf(bad, sizeof bad, "%.*s", (int)(n < 60 ? n : 60), q);
                        *reterr_word = bad;
                        return -EINVAL;
                }
                q += n;
                if (*q == ',')
                        q++;
        }
        if (!p) {
                *reterr_word = "";
                return -EINVAL;
        }
        *ret = p;
        return 0;
}

unsigned check_host_platform(void)
{
#if defined(__APPLE__)
        return PLAT_DARWIN;
#else
        return PLAT_LINUX;
#endif
}
