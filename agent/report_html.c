/* report_html.c: the HTML format of `opentoe report` (see report_html.h):
 * escaping, the SVG timeline (axis, one bar per step and iteration, tiny
 * bars aggregated in large runs), the tables. */
#include "report_html.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "strbuf.h"

#define LABEL_W 300
#define CHART_W 760
#define STEP_H 18
#define ITER_H 12
#define GAP 4
#define LABEL_CHARS 44  /* of 11px monospace in LABEL_W */

/* Text of the log folder, escaped for an element or an attribute; control
 * characters but newline and tab become U+FFFD's look-alike "?". */
static void esc(FILE *f, const char *s)
{
        for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
                switch (*p) {
                case '&': fputs("&amp;", f); break;
                case '<': fputs("&lt;", f); break;
                case '>': fputs("&gt;", f); break;
                case '"': fputs("&quot;", f); break;
                case '\'': fputs("&#39;", f); break;
                default:
                        if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
                                fputc('?', f);
                        else
                                fputc(*p, f);
                }
        }
}

/* A status as a class name: only the known ones, else "other". */
static const char *status_class(const char *s)
{
        static const char *const known[] = { "success", "failed", "ignored", "skipped", "timedOut", "notrun",
                                             "reboot", "pending", NULL };
        for (size_t i = 0; known[i]; i++)
                if (!strcmp(s, known[i]))
                        return known[i];
        return "other";
}

static bool is_failed(const char *s)
{
        return !strcmp(s, "failed") || !strcmp(s, "timedOut");
}

/* A duration as the report words it ("1.250s", "3m07.5s"), in buf. */
#define DUR_TEXT_MAX 32
static const char *dur_text(char buf[static DUR_TEXT_MAX], int64_t ms)
{
        if (ms >= 60000)
                snprintf(buf, DUR_TEXT_MAX, "%" PRId64 "m%02" PRId64 ".%01" PRId64 "s", ms / 60000, ms / 1000 % 60,
                         ms % 1000 / 100);
        else
                snprintf(buf, DUR_TEXT_MAX, "%" PRId64 ".%03" PRId64 "s", ms / 1000, ms % 1000);
        return buf;
}

/* Writes fmt as fprintf would, except that every %s is escaped (esc()).
 * Every formatted write of this file goes through here (the rest are
 * literals and the style sheet), so no string of the folder is written
 * unescaped.  The conversions are printf's, so -Wformat checks each
 * call's arguments.  It knows %s (no flag, width or precision), %d and %u
 * (the flag 0 and a width; the modifiers l, ll and z), %f (the flag 0, a
 * width and a precision) and %%; anything else aborts rather than print
 * other than printf would: a call site's mistake, never the data's. */
static void html(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void html(FILE *f, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        for (const char *p = fmt; *p;) {
                size_t lit = strcspn(p, "%");
                fwrite(p, 1, lit, f);
                p += lit;
                if (!*p)
                        break;
                p++;
                bool zero = *p == '0';
                p += zero;
                int width = 0, prec = 6, longs = 0;
                while (*p >= '0' && *p <= '9')
                        width = width * 10 + (*p++ - '0');
                bool has_prec = *p == '.';
                if (has_prec)
                        for (prec = 0, p++; *p >= '0' && *p <= '9';)
                                prec = prec * 10 + (*p++ - '0');
                bool size = *p == 'z';
                p += size;
                while (*p == 'l')
                        longs++, p++;
                char conv = *p++;
                bool plain = !zero && !width && !has_prec && !size && !longs;
                if ((conv == 's' || conv == '%') && !plain)
                        abort();
                if ((conv == 'd' || conv == 'u') && has_prec)
                        abort();
                if (conv == 'f' && (size || longs))
                        abort();
                switch (conv) {
                case 's':
                        esc(f, va_arg(ap, const char *));
                        break;
                case 'd': {
                        long long v = size ? (long long)va_arg(ap, ssize_t)
                                : longs == 2 ? va_arg(ap, long long)
                                : longs == 1 ? va_arg(ap, long)
                                : va_arg(ap, int);
                        fprintf(f, zero ? "%0*lld" : "%*lld", width, v);
                        break;
                }
                case 'u': {
                        unsigned long long v = size ? va_arg(ap, size_t)
                                : longs == 2 ? va_arg(ap, unsigned long long)
                                : longs == 1 ? va_arg(ap, unsigned long)
                                : va_arg(ap, unsigned);
                        fprintf(f, zero ? "%0*llu" : "%*llu", width, v);
                        break;
                }
                case 'f':
                        fprintf(f, zero ? "%0*.*f" : "%*.*f", width, prec, va_arg(ap, double));
                        break;
                case '%':
                        fputc('%', f);
                        break;
                default:
                        abort();
                }
        }
        va_end(ap);
}

/* One bar to draw: a row, or `n` consecutive short rows drawn as one. */
struct bar {
        size_t first, n;
        int64_t start, end;
        bool failed;
};

/* Rows to bars: every row its bar, unless there are more than
 * REPORT_HTML_MAX_BARS; then consecutive rows shorter than a few pixels'
 * worth of time that did not fail share one, each group spanning about
 * that much. */
static struct bar *make_bars(const struct report_data *d, int64_t total, size_t *ret_n, size_t *ret_merged)
{
        struct bar *b = xmalloc((d->n_rows + 1) * sizeof *b);
        size_t n = 0, merged = 0;
        bool aggregate = d->n_rows > REPORT_HTML_MAX_BARS;
        int64_t tiny = total / CHART_W * 4;
        for (size_t k = 0; k < d->n_rows; k++) {
                const struct report_row *r = &d->rows[k];
                bool failed = is_failed(r->status);
                bool small = aggregate && !failed && report_row_ms(r) <= tiny;
                /* A group grows until it spans a few pixels' worth. */
                if (small && n > 0 && !b[n - 1].failed && b[n - 1].end - b[n - 1].start < tiny &&
                    (b[n - 1].n > 1 || report_row_ms(&d->rows[b[n - 1].first]) <= tiny)) {
                        struct bar *l = &b[n - 1];
                        l->n++;
                        if (r->start_ms && (!l->start || r->start_ms < l->start))
                                l->start = r->start_ms;
                        if (r->end_ms > l->end)
                                l->end = r->end_ms;
                        merged++;
                        continue;
                }
                b[n++] = (struct bar){ .first = k, .n = 1, .start = r->start_ms, .end = r->end_ms, .failed = failed };
        }
        *ret_n = n;
        *ret_merged = merged;
        return b;
}

static int64_t tick_step(int64_t total)
{
        static const int64_t mult[] = { 1, 2, 5 };
        for (int64_t p = 1;; p *= 10)
                for (size_t i = 0; i < 3; i++)
                        if (total / (mult[i] * p) <= 10 || p > INT64_MAX / 100)
                                return mult[i] * p;
}

/* A bar's name, as text (escaped when written), cut to `max`
 * characters (0: whole) with "..." at the cut. */
static char *bar_name(const struct report_data *d, const struct bar *b, size_t max)
{
        const struct report_row *r = &d->rows[b->first];
        char *t;
        if (b->n > 1)
                t = xasprintf("%zu short ones from %s/%s", b->n, r->phase, r->step);
        else if (r->iteration >= 0)
                t = xasprintf("  #%ld%s%s", r->iteration + 1, r->value ? " " : "", r->value ? r->value : "");
        else
                t = xasprintf("%s/%s", r->phase, r->step);
        size_t chars = 0;
        char *cut = t;
        /* Counting characters (UTF-8 lead bytes: jansson read valid
         * UTF-8), never cutting one. */
        for (char *p = t; max >= 3 && *p; p++) {
                if (((unsigned char)*p & 0xc0) == 0x80)
                        continue;
                if (++chars == max - 2)
                        cut = p;
                if (chars > max) {
                        strcpy(cut, "...");
                        break;
                }
        }
        return t;
}

static void bar_label(FILE *f, const struct report_data *d, const struct bar *b, size_t max)
{
        char *t = bar_name(d, b, max);
        html(f, "%s", t);
        free(t);
}

static void timeline(FILE *f, const struct report_data *d, int64_t total)
{
        size_t nb, merged;
        struct bar *bars = make_bars(d, total, &nb, &merged);
        int64_t span = total > 0 ? total : 1;
        int height = 30;
        for (size_t k = 0; k < nb; k++)
                height += (bars[k].n == 1 && d->rows[bars[k].first].iteration >= 0 ? ITER_H : STEP_H) + GAP;
        html(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"timeline\" width=\"%d\" height=\"%d\" "
                "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"timeline of the run\">\n",
             LABEL_W + CHART_W + 40, height + 10, LABEL_W + CHART_W + 40, height + 10);
        /* The axis: ticks at 1, 2 or 5 times a power of ten. */
        int64_t step = tick_step(span);
        for (int64_t t = 0; t <= span; t += step) {
                double x = LABEL_W + (double)t * CHART_W / (double)span;
                char at[DUR_TEXT_MAX];
                html(f, "<line class=\"tick\" x1=\"%.1f\" y1=\"20\" x2=\"%.1f\" y2=\"%d\"/>"
                        "<text class=\"axis\" x=\"%.1f\" y=\"14\" text-anchor=\"middle\">%s</text>\n",
                     x, x, height, x, dur_text(at, t));
        }
        int y = 26;
        for (size_t k = 0; k < nb; k++) {
                const struct bar *b = &bars[k];
                const struct report_row *r = &d->rows[b->first];
                bool iter = b->n == 1 && r->iteration >= 0;
                int h = iter ? ITER_H : STEP_H;
                int64_t s = b->start ? b->start - d->start_ms : 0, e = b->end > b->start ? b->end - d->start_ms : s;
                if (s < 0)
                        s = 0;
                if (e < s)
                        e = s;
                double x = LABEL_W + (double)s * CHART_W / (double)span;
                double w = (double)(e - s) * CHART_W / (double)span;
                /* A failure stays visible however short. */
                if (w < (b->failed ? 3 : 1))
                        w = b->failed ? 3 : 1;
                const char *cls = b->n > 1 ? "aggregate" : status_class(r->status);
                char took[DUR_TEXT_MAX];
                dur_text(took, e - s);
                html(f, "<g class=\"row%s%s\"><text class=\"label%s\" x=\"%d\" y=\"%d\">%s",
                     iter ? " iter" : b->n > 1 ? " agg" : " step", b->failed ? " failed" : "",
                     b->failed ? " bad" : "", iter ? 24 : 4, y + h - 4, b->failed ? "\u2716 " : "");
                bar_label(f, d, b, LABEL_CHARS - (b->failed ? 2 : 0));
                html(f, "</text><rect class=\"bar %s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\"><title>",
                     cls, x, y, w, h);
                bar_label(f, d, b, 0);
                if (b->n == 1)
                        html(f, " \u2014 %s, attempt %u/%u, %s%s%s", r->status, r->attempts, r->max_attempts, took,
                             r->failure[0] ? ": " : "", r->failure);
                else
                        html(f, ", %s in all", took);
                fputs("</title></rect></g>\n", f);
                y += h + GAP;
        }
        fputs("</svg>\n", f);
        if (merged)
                html(f, "<p class=\"note\">This run has %zu steps and iterations: %zu short ones that did not "
                        "fail are drawn together as grey bars (hover for their count).</p>\n",
                     d->n_rows, merged + 0);
        free(bars);
}

static const struct report_data *sort_data;

static int by_duration(const void *a, const void *b)
{
        int64_t x = report_row_ms(&sort_data->rows[*(const size_t *)a]),
                y = report_row_ms(&sort_data->rows[*(const size_t *)b]);
        if (x != y)
                return x < y ? 1 : -1;
        return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

#define TABLE_MAX 200

static void slowest(FILE *f, const struct report_data *d, int64_t total)
{
        size_t *idx = xmalloc((d->n_steps + 1) * sizeof *idx), n = 0;
        for (size_t k = 0; k < d->n_rows; k++)
                if (d->rows[k].iteration < 0)
                        idx[n++] = k;
        sort_data = d;
        qsort(idx, n, sizeof *idx, by_duration);
        sort_data = NULL;
        fputs("<h2>Steps, slowest first</h2>\n<table><tr><th>step</th><th>document</th><th>action</th><th>status</th>"
              "<th>attempts</th><th>duration</th><th>share</th></tr>\n",
              f);
        for (size_t k = 0; k < n && k < TABLE_MAX; k++) {
                const struct report_row *r = &d->rows[idx[k]];
                int64_t ms = report_row_ms(r);
                char took[DUR_TEXT_MAX];
                html(f, "<tr><td>%s/%s", r->phase, r->step);
                if (r->iterations > 0)
                        html(f, " (%ld iterations)", r->iterations);
                html(f, "</td><td>%s</td><td>%s</td><td class=\"st %s\">%s</td><td>%u/%u</td><td>%s</td>"
                        "<td>%.1f%%</td></tr>\n",
                     r->document, r->action, status_class(r->status), r->status, r->attempts, r->max_attempts,
                     dur_text(took, ms), total > 0 ? 100.0 * (double)ms / (double)total : 0.0);
        }
        fputs("</table>\n", f);
        if (n > TABLE_MAX)
                html(f, "<p class=\"note\">%zu more steps are not listed.</p>\n", n - TABLE_MAX);
        free(idx);
}

static void failures(FILE *f, const struct report_data *d)
{
        bool any = false;
        for (size_t k = 0; k < d->n_rows; k++) {
                const struct report_row *r = &d->rows[k];
                if (r->iteration >= 0 || !(is_failed(r->status) || !strcmp(r->status, "ignored")))
                        continue;
                if (!any)
                        fputs("<h2>Failures</h2>\n<table id=\"failures\"><tr><th>step</th><th>status</th>"
                              "<th>message</th><th>stderr (last lines)</th></tr>\n",
                              f);
                any = true;
                html(f, "<tr class=\"failed\"><td>%s/%s<br><small>%s</small></td><td>%s</td><td>%s</td>"
                        "<td><pre>%s</pre></td></tr>\n",
                     r->phase, r->step, r->document, r->status, r->failure, r->stderr_tail);
        }
        if (any)
                fputs("</table>\n", f);
}

static const char style[] =
        "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n"
        "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}\n"
        ".summary span{margin-right:1.5em}\n"
        "svg text{font:11px monospace;fill:#222}svg text.axis{fill:#666}svg text.bad{fill:#b71c1c;font-weight:bold}\n"
        "line.tick{stroke:#ddd}\n"
        "rect.success{fill:#2e7d32}rect.failed,rect.timedOut{fill:#c62828;stroke:#000;stroke-width:1}\n"
        "rect.ignored{fill:#ef6c00}rect.skipped,rect.notrun{fill:#9e9e9e}rect.reboot{fill:#1565c0}\n"
        "rect.aggregate,rect.other,rect.pending{fill:#78909c}\n"
        "g.iter rect{opacity:.8}\n"
        "table{border-collapse:collapse;margin-top:.5em}th,td{border:1px solid #ccc;padding:2px 6px;"
        "text-align:left;vertical-align:top}\n"
        "td.failed,td.timedOut{color:#b71c1c;font-weight:bold}td.ignored{color:#e65100}\n"
        "pre{margin:0;white-space:pre-wrap;max-width:60em;font-size:12px}\n"
        ".note{color:#555;font-style:italic}\n"
        ".legend span{display:inline-block;margin-right:1em}.legend i{display:inline-block;width:1em;height:1em;"
        "vertical-align:middle;margin-right:.3em}\n"
        "@media print{body{margin:0}*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
        "svg{max-width:100%;height:auto}tr{break-inside:avoid}}\n";

void report_html(FILE *f, const struct report_data *d)
{
        int64_t total = d->end_ms > d->start_ms ? d->end_ms - d->start_ms : 0;
        size_t failed = 0;
        for (size_t k = 0; k < d->n_rows; k++)
                failed += d->rows[k].iteration < 0 && is_failed(d->rows[k].status);
        fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
              "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
              "<title>opentoe report ",
              f);
        /* The style sheet is this file's own text, the one piece not
         * escaped. */
        html(f, "%s</title>\n<style>\n", d->execution_id);
        fputs(style, f);
        char took[DUR_TEXT_MAX];
        html(f, "</style></head><body>\n<h1>Run %s</h1>\n<p class=\"summary\"><span>status: <b class=\"st %s\">%s"
                "</b></span><span>%zu steps</span><span>%zu failed</span><span>duration: %s</span></p>\n",
             d->execution_id, status_class(d->status), d->status, d->n_steps, failed, dur_text(took, total));
        if (d->failure && d->failure[0])
                html(f, "<p>%s</p>\n", d->failure);
        fputs("<p class=\"legend\"><span><i style=\"background:#2e7d32\"></i>success</span>"
              "<span><i style=\"background:#c62828\"></i>failed</span>"
              "<span><i style=\"background:#ef6c00\"></i>failure ignored</span>"
              "<span><i style=\"background:#9e9e9e\"></i>skipped</span>"
              "<span><i style=\"background:#1565c0\"></i>reboot</span></p>\n",
              f);
        timeline(f, d, total);
        if (d->truncated)
                html(f, "<p class=\"note\">More than %u steps and iterations: the rest are not shown.</p>\n",
                     REPORT_MAX_ROWS);
        failures(f, d);
        slowest(f, d, total);
        html(f, "<p class=\"note\">Written by opentoe report from %s.</p>\n</body></html>\n", d->folder);
}
