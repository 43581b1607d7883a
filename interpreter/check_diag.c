/* check_diag.c: how the checker's files report: a diagnostic at a node
 * or at a line and column, a scalar shown short for a message, unknown
 * keys with a suggestion, and `{{ }}` where nothing is substituted.  The
 * lowest of the checker's files: check.c, check_inputs.c, check_expr.c
 * and check_refs.c call it, and it calls none of them. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "chk_state.h"
#include "strbuf.h"
#include "suggest.h"

void chk_diag_at(struct checker *c, enum diag_severity sev, const char *code, unsigned line,
                 unsigned column, unsigned span, const char *help, const char *fmt, ...)
{
        struct strbuf b = STRBUF_INIT;
        va_list ap;
        va_start(ap, fmt);
        sb_vprintf(&b, fmt, ap);
        va_end(ap);
        diag_add(c->diags, sev, code, c->doc->path, line, column, span, help, "%s", sb_str(&b));
        sb_free(&b);
}

void chk_diag(struct checker *c, enum diag_severity sev, const char *code, const struct ynode *at,
              const char *help, const char *fmt, ...)
{
        struct strbuf b = STRBUF_INIT;
        va_list ap;
        va_start(ap, fmt);
        sb_vprintf(&b, fmt, ap);
        va_end(ap);
        unsigned span = 1;
        if (at && at->kind == YN_SCALAR) {
                unsigned end_line, end_column;
                ydoc_end_position(c->doc, at, &end_line, &end_column);
                if (at->line == end_line && end_column > at->column)
                        span = end_column - at->column;
        }
        diag_add(c->diags, sev, code, c->doc->path, at ? at->line : 0, at ? at->column : 0, span, help,
                 "%s", sb_str(&b));
        sb_free(&b);
}

const char *chk_show(const struct ynode *n, char *buf, size_t size)
{
        if (!n || n->kind != YN_SCALAR) {
                snprintf(buf, size, "%s", yn_describe(n));
                return buf;
        }
        if (n->len > 40)
                snprintf(buf, size, "'%.37s...'", n->str);
        else
                snprintf(buf, size, "'%s'", n->str);
        for (char *p = buf; *p; p++)
                if (*p == '\n' || *p == '\t')
                        *p = ' ';
        return buf;
}

void chk_unknown_keys(struct checker *c, const struct ynode *map, const char *const *known,
                      const char *where)
{
        if (!map || map->kind != YN_MAP)
                return;
        for (size_t i = 0; i < map->n; i++) {
                const struct ynode *k = map->pairs[i].key;
                bool found = false;
                for (size_t j = 0; known[j]; j++)
                        if (strcmp(k->str, known[j]) == 0)
                                found = true;
                if (found)
                        continue;
                const char *s = suggest_closest(k->str, known);
                char help[160];
                if (s)
                        snprintf(help, sizeof help, "did you mean '%s'?", s);
                chk_diag(c, DIAG_WARNING, "unknown-key", k, s ? help : NULL,
                         "unknown key '%s' in %s; it is ignored", k->str, where);
        }
}

void chk_no_refs(struct checker *c, const struct ynode *n, const char *code, enum diag_severity sev,
                 const char *what)
{
        if (!n || n->kind != YN_SCALAR)
                return;
        const char *p = strstr(n->str, "{{");
        if (!p)
                return;
        unsigned line, col;
        ydoc_locate_in_scalar(c->doc, n, (size_t)(p - n->str), &line, &col);
        chk_diag_at(c, sev, code, line, col, 2, NULL,
                    "'{{ }}' references are not substituted in %s; the text is used as written", what);
}
