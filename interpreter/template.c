/* template.c: finding and classifying `{{ }}` references.  Rendering them
 * at run time belongs to the VM; this file only knows their syntax. */
#include "template.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

#define MAX_EXPR_LEN 4096

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void push(struct tmpl *t, enum tmpl_seg_kind kind, size_t off, size_t len, char *text)
{
        if ((t->n & (t->n - 1)) == 0)
                t->segs = xrealloc(t->segs, (t->n ? t->n * 2 : 4) * sizeof *t->segs);
        t->segs[t->n++] = (struct tmpl_seg){ kind, off, len, text };
        if (kind == TSEG_REF)
                t->n_refs++;
}

bool tmpl_has_refs(const char *s, size_t len)
{
        for (size_t i = 0; i + 1 < len; i++)
                if (s[i] == '{' && s[i + 1] == '{')
                        return true;
        return false;
}

int tmpl_scan(const char *s, size_t len, struct tmpl *ret, size_t *reterr_offset,
              const char **reterr_msg)
{
        struct tmpl t = { 0 };
        size_t i = 0, lit = 0;
        while (i + 1 < len) {
                if (s[i] != '{' || s[i + 1] != '{') {
                        i++;
                        continue;
                }
                /* Find the closing braces; a reference never spans a newline
                 * in practice, but YAML folding may put one in, so allow it. */
                size_t j = i + 2;
                while (j + 1 < len && !(s[j] == '}' && s[j + 1] == '}'))
                        j++;
                if (j + 1 >= len) {
                        tmpl_free(&t);
                        *reterr_offset = i;
                        *reterr_msg = "'{{' has no closing '}}'";
                        return -EINVAL;
                }
                size_t a = i + 2, b = j;
                while (a < b && is_space(s[a]))
                        a++;
                while (b > a && is_space(s[b - 1]))
                        b--;
                if (a == b) {
                        tmpl_free(&t);
                        *reterr_offset = i;
                        *reterr_msg = "empty reference '{{ }}'; expected a name inside the braces";
                        return -EINVAL;
                }
                if (b - a > MAX_EXPR_LEN) {
                        tmpl_free(&t);
                        *reterr_offset = i;
                        *reterr_msg = "reference is longer than 4096 bytes";
                        return -EINVAL;
                }
                if (i > lit)
                        push(&t, TSEG_TEXT, lit, i - lit, xstrndup(s + lit, i - lit));
                push(&t, TSEG_REF, i, j + 2 - i, xstrndup(s + a, b - a));
                i = lit = j + 2;
        }
        if (lit < len)
                push(&t, TSEG_TEXT, lit, len - lit, xstrndup(s + lit, len - lit));
        *ret = t;
        return 0;
}

void tmpl_free(struct tmpl *t)
{
        for (size_t i = 0; i < t->n; i++)
                free(t->segs[i].text);
        free(t->segs);
        *t = (struct tmpl){ 0 };
}

/* Splits on '.', keeping empty parts so that "a..b" is seen as wrong. */
static size_t split_dots(const char *s, char **parts, size_t max)
{
        size_t n = 0;
        const char *p = s;
        for (;;) {
                const char *dot = strchr(p, '.');
                size_t k = dot ? (size_t)(dot - p) : strlen(p);
                if (n == max)
                        return max + 1;
                parts[n++] = xstrndup(p, k);
                if (!dot)
                        return n;
                p = dot + 1;
        }
}

/* "outputs", "inputs", "outputs[3]" -> which and index; false otherwise. */
static bool parse_io(const char *s, bool *ret_outputs, long *ret_index)
{
        const char *rest;
        if (strncmp(s, "outputs", 7) == 0) {
                *ret_outputs = true;
                rest = s + 7;
        } else if (strncmp(s, "inputs", 6) == 0) {
                *ret_outputs = false;
                rest = s + 6;
        } else
                return false;
        while (*rest == ' ')
                rest++;
        if (!*rest) {
                *ret_index = -1;
                return true;
        }
        if (*rest != '[')
                return false;
        rest++;
        if (*rest < '0' || *rest > '9')
                return false;
        long v = 0;
        while (*rest >= '0' && *rest <= '9') {
                if (v > 1000000)
                        return false;
                v = v * 10 + (*rest - '0');
                rest++;
        }
        if (*rest != ']' || rest[1])
                return false;
        *ret_index = v;
        return true;
}

static char *trim_dup(const char *s)
{
        size_t n = strlen(s);
        while (n && is_space(s[n - 1]))
                n--;
        while (n && is_space(*s)) {
                s++;
                n--;
        }
        return xstrndup(s, n);
}

int ref_parse(const char *expr, struct ref *ret, const char **reterr_msg)
{
        struct ref r = { .index = -1 };
        if (strncmp(expr, "aws:ssm:", 8) == 0) {
                const char *p = expr + 8;
                r.kind = REF_SSM;
                if (strncmp(p, "resolve(", 8) == 0) {
                        size_t n = strlen(p);
                        if (n < 10 || p[n - 1] != ')') {
                                *reterr_msg = "expected aws:ssm:resolve(name) with a closing ')'";
                                return -EINVAL;
                        }
                        r.ssm_resolve = true;
                        r.ssm = xstrndup(p + 8, n - 9);
                } else
                        r.ssm = xstrdup(p);
                if (!*r.ssm) {
                        free(r.ssm);
                        *reterr_msg = "expected a parameter name after 'aws:ssm:'";
                        return -EINVAL;
                }
                *ret = r;
                return 0;
        }
        char *parts[5];
        size_t n = split_dots(expr, parts, 4);
        if (n > 4) {
                /* phase.step.outputs.key.with.dots: the key keeps its dots. */
                for (size_t i = 0; i < 4; i++)
                        free(parts[i]);
                const char *p = expr;
                for (size_t i = 0; i < 3; i++) {
                        const char *dot = strchr(p, '.');
                        parts[i] = xstrndup(p, (size_t)(dot - p));
                        p = dot + 1;
                }
                parts[3] = xstrdup(p);
                n = 4;
        }
        int res = 0;
        for (size_t i = 0; i < n; i++) {
                char *t = trim_dup(parts[i]);
                free(parts[i]);
                parts[i] = t;
                if (!*t) {
                        *reterr_msg = "a reference has an empty part between dots";
                        res = -EINVAL;
                }
        }
        if (res < 0)
                goto out;
        if (n == 1) {
                r.kind = REF_VARIABLE;
                r.name = parts[0];
                parts[0] = NULL;
        } else if (n == 2 && (!strcmp(parts[1], "index") || !strcmp(parts[1], "value"))) {
                r.kind = REF_LOOP;
                r.name = parts[0];
                parts[0] = NULL;
                r.loop_index = !strcmp(parts[1], "index");
        } else if (n == 4 && parse_io(parts[2], &r.outputs, &r.index)) {
                r.kind = REF_CHAIN;
                r.phase = parts[0];
                r.step = parts[1];
                r.key = parts[3];
                parts[0] = parts[1] = parts[3] = NULL;
        } else {
                *reterr_msg = "expected a parameter or constant name, "
                              "phase.step.outputs.name, phase.step.inputs[N].name, "
                              "loop.index, loop.value, or aws:ssm:/name";
                res = -EINVAL;
        }
out:
        for (size_t i = 0; i < n; i++)
                free(parts[i]);
        if (res == 0)
                *ret = r;
        return res;
}

void ref_free(struct ref *r)
{
        free(r->name);
        free(r->phase);
        free(r->step);
        free(r->key);
        free(r->ssm);
        *r = (struct ref){ .index = -1 };
}
