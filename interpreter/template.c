/* template.c: finding and classifying `{{ }}` references.  Rendering them
 * at run time belongs to the VM; this file only knows their syntax. */
#include "template.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
        t->segs[t->n++] = (struct tmpl_seg){ kind, off, len, text, NULL };
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

/* The one scanner: text, and each "{{ ... }}" as a reference or, when
 * it cannot be one (no "}}", empty, too long, or by_shape and not shaped
 * like a reference), as TSEG_OTHER with a note. */
static void split(const char *s, size_t len, struct tmpl *ret, bool by_shape)
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
                if (i > lit)
                        push(&t, TSEG_TEXT, lit, i - lit, xstrndup(s + lit, i - lit));
                if (j + 1 >= len) {
                        /* No "}}": the rest is text, as written. */
                        push(&t, TSEG_OTHER, i, len - i, xstrndup(s + i, len - i));
                        t.segs[t.n - 1].note = "'{{' has no closing '}}'";
                        i = lit = len;
                        break;
                }
                size_t a = i + 2, b = j;
                while (a < b && is_space(s[a]))
                        a++;
                while (b > a && is_space(s[b - 1]))
                        b--;
                char *expr = xstrndup(s + a, b - a);
                const char *note = NULL;
                if (a == b)
                        note = "empty '{{ }}'";
                else if (b - a > MAX_EXPR_LEN)
                        note = "longer than 4096 bytes";
                else if (by_shape && !ref_shaped(expr))
                        note = "a reference is a parameter or constant name, phase.step.outputs.name, "
                               "loop.value or aws:ssm:name";
                push(&t, note ? TSEG_OTHER : TSEG_REF, i, j + 2 - i, expr);
                t.segs[t.n - 1].note = note;
                i = lit = j + 2;
        }
        if (lit < len)
                push(&t, TSEG_TEXT, lit, len - lit, xstrndup(s + lit, len - lit));
        *ret = t;
}

int tmpl_scan(const char *s, size_t len, struct tmpl *ret, size_t *reterr_offset,
              const char **reterr_msg)
{
        struct tmpl t;
        split(s, len, &t, false);
        for (size_t i = 0; i < t.n; i++)
                if (t.segs[i].kind == TSEG_OTHER) {
                        *reterr_offset = t.segs[i].offset;
                        *reterr_msg = t.segs[i].note;
                        tmpl_free(&t);
                        return -EINVAL;
                }
        *ret = t;
        return 0;
}

void tmpl_split(const char *s, size_t len, struct tmpl *ret)
{
        split(s, len, ret, true);
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

static bool name_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* n bytes of p: name characters (and, with spaces, inner spaces). */
static bool name_part(const char *p, size_t n, bool spaces)
{
        if (!n || is_space(p[0]) || is_space(p[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!name_char(p[i]) && !(spaces && p[i] == ' '))
                        return false;
        return true;
}

bool ref_shaped(const char *expr)
{
        static const char *const go_words[] = { "end", "else", "break", "continue", "nil", NULL };
        if (strncmp(expr, "aws:ssm:", 8) == 0)
                return true;
        const char *part[4];
        size_t plen[4], n = 0;
        const char *p = expr;
        for (;;) {
                const char *dot = n < 3 ? strchr(p, '.') : NULL;
                part[n] = p;
                plen[n] = dot ? (size_t)(dot - p) : strlen(p);
                n++;
                if (!dot)
                        break;
                p = dot + 1;
        }
        if (n == 1) {
                for (size_t i = 0; go_words[i]; i++)
                        if (!strcmp(expr, go_words[i]))
                                return false;
                return name_part(part[0], plen[0], false);
        }
        if (n < 4) {
                for (size_t i = 0; i < n; i++)
                        if (!name_part(part[i], plen[i], false))
                                return false;
                return true;
        }
        /* phase.step.inputs[N].key: the step may have spaces, the index
         * its brackets, the key its dots. */
        if (!name_part(part[0], plen[0], false) || !name_part(part[1], plen[1], true) || !plen[2] || !plen[3])
                return false;
        for (size_t i = 0; i < plen[2]; i++)
                if (!name_char(part[2][i]) && !strchr("[] ", part[2][i]))
                        return false;
        for (size_t i = 0; i < plen[3]; i++)
                if (!name_char(part[3][i]) && part[3][i] != '.')
                        return false;
        return !is_space(part[2][0]) && part[3][plen[3] - 1] != '.';
}

/* Written out, not free_many(): this runs once per reference, and the
 * calls one by one keep validate's instruction count where it was. */
void ref_free(struct ref *r)
{
        free(r->name);
        free(r->phase);
        free(r->step);
        free(r->key);
        free(r->ssm);
        *r = (struct ref){ .index = -1 };
}

/* ---- Systems Manager parameter names ------------------------------------ */

static bool ssm_char(char c, bool secret_ref)
{
        return name_char(c) || c == '.' || c == '/' || (secret_ref && strchr("+=,@", c));
}

static int ssm_selector(const char *sel, const char **reterr_msg)
{
        size_t n = strlen(sel);
        bool digits = n > 0;
        for (size_t i = 0; i < n; i++)
                digits = digits && sel[i] >= '0' && sel[i] <= '9';
        if (digits)
                return n <= 19 ? 0 : (*reterr_msg = "the version number is too long", -EINVAL);
        if (!n || n > 100) {
                *reterr_msg = "a label has 1 to 100 characters";
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++)
                if (!name_char(sel[i]) && sel[i] != '.') {
                        *reterr_msg = "a version is a number, and a label holds only letters, digits, '.', '-' and '_'";
                        return -EINVAL;
                }
        if ((sel[0] >= '0' && sel[0] <= '9') || !strncasecmp(sel, "aws", 3) || !strncasecmp(sel, "ssm", 3)) {
                *reterr_msg = "a label cannot begin with a digit, 'aws' or 'ssm'";
                return -EINVAL;
        }
        return 0;
}

int ssm_name_check(const char *name, const char **reterr_msg)
{
        size_t len = strlen(name);
        if (!len) {
                *reterr_msg = "the name is empty";
                return -EINVAL;
        }
        if (len > SSM_NAME_MAX) {
                *reterr_msg = "the name is longer than 2048 bytes, GetParameter's limit";
                return -EINVAL;
        }
        const char *p = name;
        if (!strncmp(p, "arn:", 4)) {
                /* arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME */
                const char *f[4];
                p += 4;
                for (size_t i = 0; i < 4; i++) {
                        f[i] = p;
                        const char *colon = strchr(p, ':');
                        if (!colon || colon == p) {
                                *reterr_msg = "an ARN reads arn:aws:ssm:REGION:ACCOUNT:parameter/NAME";
                                return -EINVAL;
                        }
                        p = colon + 1;
                }
                if (strncmp(f[1], "ssm:", 4) != 0 || strncmp(p, "parameter/", 10) != 0 || !p[10]) {
                        *reterr_msg = "an ARN reads arn:aws:ssm:REGION:ACCOUNT:parameter/NAME";
                        return -EINVAL;
                }
                for (const char *a = f[3]; *a != ':'; a++)
                        if (*a < '0' || *a > '9') {
                                *reterr_msg = "the ARN's account is not a number";
                                return -EINVAL;
                        }
                p += 9; /* the name keeps its leading '/' */
        } else if (strchr(p, ' ') || strchr(p, '\t')) {
                *reterr_msg = "a parameter name cannot contain spaces";
                return -EINVAL;
        }
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        bool secret_ref = !strncmp(p, "/aws/reference/secretsmanager/", 30);
        unsigned levels = 0;
        if (!n) {
                *reterr_msg = "the name is empty";
                return -EINVAL;
        }
        if (n > 1011) {
                *reterr_msg = "the name is longer than 1011 bytes";
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++) {
                if (!ssm_char(p[i], secret_ref)) {
                        *reterr_msg = "a parameter name holds only letters, digits, '_', '.', '-' and '/'";
                        return -EINVAL;
                }
                if (p[i] == '/' && i > 0)
                        levels++;
        }
        if (strchr(p, '/') && p[0] != '/' && p == name) {
                *reterr_msg = "a name in a hierarchy begins with '/'";
                return -EINVAL;
        }
        if (levels >= 15) {
                *reterr_msg = "a hierarchy has at most 15 levels";
                return -EINVAL;
        }
        return colon ? ssm_selector(colon + 1, reterr_msg) : 0;
}
