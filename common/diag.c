/* diag.c: collecting, sorting and printing document diagnostics. */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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
static const char *find_line(const char *src, size_t len, unsigned line, size_t *ret_len)
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
                fprintf(f, " %s | %.*s\n", num, (int)n, line);
                fprintf(f, " %*s | ", w, "");
                /* Pad with the line's own tabs so the caret lines up. */
                size_t upto = column_to_byte(line, n, d->column);
                for (size_t i = 0; i < upto; i++) {
                        if (line[i] == '\t')
                                fputc('\t', f);
                        else if (((unsigned char)line[i] & 0xC0) != 0x80)
                                fputc(' ', f);
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
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].file);
                free(l->v[i].message);
                free(l->v[i].help);
        }
        free(l->v);
        *l = (struct diag_list){ 0 };
}
