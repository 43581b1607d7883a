/* report_text.c: the text and JSON formats of `opentoe report` (see
 * report_text.h).  Text is for a terminal: control characters of the
 * log folder's strings are shown escaped. */
#include "report_text.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "strbuf.h"

/* `s` with control characters as \xNN, at most `max` bytes of it. */
static char *plain(const char *s, size_t max)
{
        struct strbuf b = STRBUF_INIT;
        size_t n = 0;
        for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && n < max; p++, n++)
                if (*p < 0x20 || *p == 0x7f)
                        sb_printf(&b, "\\x%02x", *p);
                else
                        sb_putc(&b, (char)*p);
        if (s && strlen(s) > max)
                sb_puts(&b, "...");
        return sb_take(&b);
}

static const struct report_data *sort_data;

static int by_duration(const void *a, const void *b)
{
        const struct report_row *x = &sort_data->rows[*(const size_t *)a], *y = &sort_data->rows[*(const size_t *)b];
        int64_t dx = report_row_ms(x), dy = report_row_ms(y);
        if (dx != dy)
                return dx < dy ? 1 : -1;
        return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* Row indexes, slowest first (ties in run order). */
static size_t *slowest_first(const struct report_data *d)
{
        size_t *idx = xmalloc((d->n_rows + 1) * sizeof *idx);
        for (size_t k = 0; k < d->n_rows; k++)
                idx[k] = k;
        sort_data = d;
        qsort(idx, d->n_rows, sizeof *idx, by_duration);
        sort_data = NULL;
        return idx;
}

static char *row_name(const struct report_row *r)
{
        if (r->iteration < 0)
                return xasprintf("%s/%s", r->phase, r->step);
        char *v = plain(r->value, 40);
        char *s = xasprintf("%s/%s #%ld%s%s%s", r->phase, r->step, r->iteration + 1, r->value ? " (" : "", v,
                            r->value ? ")" : "");
        free(v);
        return s;
}

void report_text(FILE *f, const struct report_data *d)
{
        int64_t total = d->end_ms > d->start_ms ? d->end_ms - d->start_ms : 0;
        char *id = plain(d->execution_id, 80), *st = plain(d->status, 40);
        fprintf(f, "Execution %s: %s, %zu steps, %zu rows, %" PRId64 ".%03" PRId64 "s\n", id, st, d->n_steps,
                d->n_rows, total / 1000, total % 1000);
        free(id);
        free(st);
        fprintf(f, "%-6s  %-10s  %-8s  %10s  %6s  %s\n", "rank", "status", "attempts", "duration", "share",
                "step (document)");
        size_t *idx = slowest_first(d);
        for (size_t k = 0; k < d->n_rows; k++) {
                const struct report_row *r = &d->rows[idx[k]];
                int64_t ms = report_row_ms(r);
                char *name = row_name(r), *pn = plain(name, 200), *doc = plain(r->document, 120),
                     *rs = plain(r->status, 20);
                char att[32];
                snprintf(att, sizeof att, "%u/%u", r->attempts, r->max_attempts);
                double share = total > 0 ? 100.0 * (double)ms / (double)total : 0;
                fprintf(f, "%-6zu  %-10s  %-8s  %6" PRId64 ".%03" PRId64 "s  %5.1f%%  %s%s (%s)\n", k + 1, rs, att,
                        ms / 1000, ms % 1000, share, r->iteration >= 0 ? "  " : "", pn, doc);
                free_many(name, pn, doc, rs);
        }
        free(idx);
        if (d->truncated)
                fprintf(f, "(more than %u steps and iterations: the rest are not shown)\n", REPORT_MAX_ROWS);
        bool any = false;
        for (size_t k = 0; k < d->n_rows; k++) {
                const struct report_row *r = &d->rows[k];
                if (r->iteration >= 0 || !(!strcmp(r->status, "failed") || !strcmp(r->status, "ignored")))
                        continue;
                if (!any)
                        fprintf(f, "\nFailures:\n");
                any = true;
                char *name = row_name(r), *pn = plain(name, 200), *doc = plain(r->document, 120),
                     *msg = plain(r->failure, 1000), *act = plain(r->action, 60), *rs = plain(r->status, 20);
                fprintf(f, "  %s (%s), %s, %s: %s\n", pn, doc, act, rs, msg);
                if (r->stderr_tail) {
                        fprintf(f, "    stderr (last lines):\n");
                        for (const char *q = r->stderr_tail; *q;) {
                                const char *nl = strchr(q, '\n');
                                size_t n = nl ? (size_t)(nl - q) : strlen(q);
                                char *line = xstrndup(q, n), *pl = plain(line, 400);
                                fprintf(f, "    | %s\n", pl);
                                free(line);
                                free(pl);
                                q += n + (nl ? 1 : 0);
                        }
                }
                free_many(name, pn, doc, msg, act, rs);
        }
        if (d->failure && d->failure[0]) {
                char *m = plain(d->failure, 1000);
                fprintf(f, "%sRun: %s\n", any ? "" : "\n", m);
                free(m);
        }
}

void report_json(FILE *f, const struct report_data *d)
{
        int64_t total = d->end_ms > d->start_ms ? d->end_ms - d->start_ms : 0;
        json_t *rows = json_array();
        size_t *idx = slowest_first(d);
        for (size_t k = 0; k < d->n_rows; k++) {
                const struct report_row *r = &d->rows[idx[k]];
                int64_t ms = report_row_ms(r);
                json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:f}", "document", r->document,
                                      "phase", r->phase, "step", r->step, "action", r->action, "status", r->status,
                                      "attempts", (json_int_t)r->attempts, "maxAttempts",
                                      (json_int_t)r->max_attempts, "durationMs", (json_int_t)ms, "share",
                                      total > 0 ? (double)ms / (double)total : 0.0);
                if (!o)
                        continue;       /* a string that is not UTF-8: jansson refuses it */
                if (r->iteration >= 0) {
                        json_object_set_new(o, "iteration", json_integer(r->iteration));
                        if (r->value)
                                json_object_set_new(o, "value", json_string(r->value));
                }
                if (r->failure[0])
                        json_object_set_new(o, "failureMessage", json_string(r->failure));
                if (r->stderr_tail)
                        json_object_set_new(o, "stderrTail", json_string(r->stderr_tail));
                json_array_append_new(rows, o);
        }
        free(idx);
        json_t *root = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:b, s:o}", "executionId", d->execution_id, "status",
                                 d->status, "failureMessage", d->failure, "durationMs", (json_int_t)total, "steps",
                                 (json_int_t)d->n_steps, "chainingRecords", (json_int_t)d->n_chaining, "truncated",
                                 d->truncated, "rows", rows);
        char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(4)) : NULL;
        if (text)
                fprintf(f, "%s\n", text);
        free(text);
        json_decref(root);
}
