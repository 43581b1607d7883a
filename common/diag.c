/* diag.c: collecting, sorting and printing document diagnostics. */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "strbuf.h"
#include "textlines.h"

const char *diag_severity_name(enum diag_severity s)
{
        return s == DIAG_ERROR ? "error" : "warning";
}

void diag_add(struct diag_list *l, enum diag_severity sev, const char *code,
              const char *file, unsigned line, unsigned column, unsigned span,
              const char *help, const char *fmt, ...)
{
        if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 16;
                l->v = xrealloc(l->v, l->cap * sizeof *l->v);
        }
        if (sev == DIAG_WARNING && l->warnings_are_errors)
                sev = DIAG_ERROR;
        struct strbuf b = STRBUF_INIT;
        va_list ap;
        va_start(ap, fmt);
        sb_vprintf(&b, fmt, ap);
        va_end(ap);
        l->v[l->n] = (struct diag){
                .file = xstrdup(file ? file : ""),
                .line = line,
                .column = column,
                .span = span ? span : 1,
                .severity = sev,
                .code = code,
                .message = sb_take(&b),
                .help = help ? xstrdup(help) : NULL,
                .seq = l->n,
        };
        l->n++;
        if (sev == DIAG_ERROR)
                l->n_errors++;
        else
                l->n_warnings++;
}

static int cmp_pos(const void *a, const void *b)
{
        const struct diag *x = a, *y = b;
        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        if (x->column != y->column)
                return x->column < y->column ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void diag_sort(struct diag_list *l, size_t from)
{
        if (from < l->n)
                qsort(l->v + from, l->n - from, sizeof *l->v, cmp_pos);
}

/* Finds line `line` (1-based) of src, lines ending as libyaml ends them;
 * returns its start and length. */
static const char *find_line_bytes(const char *src, size_t len, unsigned line, size_t *ret_len)
{
        const char *p = src, *end = src + len;
        unsigned n = 1;
        const char *start = p;
        while (p < end) {
                size_t k = text_may_break((unsigned char)*p) ? text_line_break(p, end) : 0;
                if (!k) {
                        p++;
                        continue;
                }
                if (n == line) {
                        *ret_len = (size_t)(p - start);
                        return start;
                }
                p += k;
                start = p;
                n++;
        }
        if (n != line)
                return NULL;
        *ret_len = (size_t)(end - start);
        return start;
}

/* The same, without a byte order mark that starts the document: libyaml
 * does not count it as a column, and it is not shown. */
static const char *find_line(const char *src, size_t len, unsigned line, size_t *ret_len)
{
        const char *start = find_line_bytes(src, len, line, ret_len);
        if (start == src && *ret_len >= 3 && !memcmp(start, "\xEF\xBB\xBF", 3)) {
                start += 3;
                *ret_len -= 3;
        }
        return start;
}

/* Byte offset of character column `col` (1-based) in a UTF-8 line. */
static size_t column_to_byte(const char *s, size_t n, unsigned col)
{
        size_t i = 0;
        for (unsigned c = 1; c < col && i < n; c++) {
                i++;
                while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
                        i++;
        }
        return i;
}

/* The length in bytes of the character at s[i] (n bytes in all), and
 * whether it can be shown as it is.  Bytes that are not UTF-8, and control
 * characters other than tab (an escape sequence would drive the terminal),
 * are not: they are shown as \xHH, one escape per byte. */
static size_t char_at(const char *s, size_t n, size_t i, bool *ret_shown)
{
        const unsigned char *u = (const unsigned char *)s + i;
        size_t left = n - i;
        *ret_shown = false;
        if (u[0] < 0x80) {
                *ret_shown = u[0] == '\t' || (u[0] >= 0x20 && u[0] != 0x7F);
                return 1;
        }
        size_t k = u[0] >= 0xC2 && u[0] <= 0xDF ? 2 : u[0] >= 0xE0 && u[0] <= 0xEF ? 3 : u[0] >= 0xF0 && u[0] <= 0xF4 ? 4 : 0;
        if (k == 0 || left < k)
                return 1;
        for (size_t j = 1; j < k; j++)
                if ((u[j] & 0xC0) != 0x80)
                        return 1;
        /* No overlong forms, surrogates or code points past U+10FFFF. */
        if ((u[0] == 0xE0 && u[1] < 0xA0) || (u[0] == 0xED && u[1] >= 0xA0) || (u[0] == 0xF0 && u[1] < 0x90) ||
            (u[0] == 0xF4 && u[1] >= 0x90))
                return 1;
        /* C1 controls (U+0080 to U+009F) are escaped too. */
        *ret_shown = !(u[0] == 0xC2 && u[1] < 0xA0);
        return k;
}

/* Prints a source line, escaping what char_at says cannot be shown. */
static void print_source_line(FILE *f, const char *line, size_t n)
{
        for (size_t i = 0; i < n;) {
                bool shown;
                size_t k = char_at(line, n, i, &shown);
                if (shown)
                        fwrite(line + i, 1, k, f);
                else
                        for (size_t j = 0; j < k; j++)
                                fprintf(f, "\\x%02X", (unsigned char)line[i + j]);
                i += k;
        }
}

static void print_one(FILE *f, const struct diag *d, const char *src, size_t src_len)
{
        if (d->line)
                fprintf(f, "%s:%u:%u: %s: %s [%s]\n", d->file, d->line, d->column,
                        diag_severity_name(d->severity), d->message, d->code);
        else
                fprintf(f, "%s: %s: %s [%s]\n", d->file,
                        diag_severity_name(d->severity), d->message, d->code);
        size_t n;
        const char *line = (src && d->line) ? find_line(src, src_len, d->line, &n) : NULL;
        if (line) {
                char num[16];
                int w = snprintf(num, sizeof num, "%u", d->line);
                fprintf(f, " %s | ", num);
                print_source_line(f, line, n);
                fprintf(f, "\n %*s | ", w, "");
                /* Pad with the line's own tabs, and as wide as the escapes
                 * printed, so the caret lines up. */
                size_t upto = column_to_byte(line, n, d->column);
                for (size_t i = 0; i < upto;) {
                        bool shown;
                        size_t k = char_at(line, n, i, &shown);
                        if (line[i] == '\t')
                                fputc('\t', f);
                        else
                                fprintf(f, "%*s", shown ? 1 : 4 * (int)k, "");
                        i += k;
                }
                fputc('^', f);
                for (unsigned i = 1; i < d->span && upto + i < n + 1; i++)
                        fputc('~', f);
                fputc('\n', f);
        }
        if (d->help)
                fprintf(f, " = help: %s\n", d->help);
}

void diag_print_text(FILE *f, const struct diag_list *l, size_t from, size_t to,
                     const char *src, size_t src_len, size_t *budget)
{
        for (size_t i = from; i < to && i < l->n && *budget > 0; i++, (*budget)--)
                print_one(f, &l->v[i], src, src_len);
}

void diag_list_free(struct diag_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                free_many(l->v[i].file, l->v[i].message, l->v[i].help);
        free(l->v);
        *l = (struct diag_list){ 0 };
}
