/* report_read.c: reading a log folder back (see report_read.h): its
 * files bounded and opened without links, detailedoutput.json's steps
 * and iterations as rows, stderr tails from the timing records or from
 * console.log's Stderr lines. */
#include "report_read.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "errmsg.h"
#include "loopinfo.h"
#include "strbuf.h"

/* Up to `max` bytes of a regular file `name` in `dfd` (its end when
 * `tail`); -ENOENT when it is missing. */
static int read_bounded(int dfd, const char *name, size_t max, bool tail, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        struct stat st;
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((uint64_t)st.st_size > max && !tail)
                return -EFBIG;
        off_t from = (uint64_t)st.st_size > max ? st.st_size - (off_t)max : 0;
        size_t want = (size_t)(st.st_size - from);
        char *buf = xmalloc(want + 1);
        size_t got = 0;
        while (got < want) {
                ssize_t n = pread(fd, buf + got, want - got, from + (off_t)got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int e = -errno;
                        free(buf);
                        return e;
                }
                if (n == 0)
                        break;
                got += (size_t)n;
        }
        buf[got] = 0;
        *ret = buf;
        *ret_len = got;
        return 0;
}

/* "2026-12-02T04:15:48Z" (and fractions) to milliseconds, 0 if not. */
static int64_t rfc3339_ms(const char *s)
{
        struct tm tm = { 0 };
        if (!s || strlen(s) < 20)
                return 0;
        const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!end)
                return 0;
        time_t t = timegm(&tm);
        return t < 0 ? 0 : (int64_t)t * 1000;
}

static const char *str(const json_t *o, const char *key)
{
        const char *v = json_string_value(json_object_get(o, key));
        return v ? v : "";
}

static int64_t num(const json_t *o, const char *key)
{
        json_int_t v = json_integer_value(json_object_get(o, key));
        return v > 0 ? (int64_t)v : 0;
}

static char *cut_tail(const char *s, size_t len)
{
        if (len > REPORT_TAIL_MAX) {
                s += len - REPORT_TAIL_MAX;
                len = REPORT_TAIL_MAX;
        }
        return xstrndup(s, len);
}

static struct report_row *add_row(struct report_data *d, size_t *cap)
{
        if (d->n_rows >= REPORT_MAX_ROWS) {
                d->truncated = true;
                return NULL;
        }
        if (d->n_rows == *cap) {
                *cap = *cap ? *cap * 2 : 64;
                d->rows = xrealloc(d->rows, *cap * sizeof *d->rows);
        }
        struct report_row *r = &d->rows[d->n_rows++];
        *r = (struct report_row){ .iteration = -1 };
        return r;
}

static void add_step(struct report_data *d, size_t *cap, const char *doc, const char *phase, const json_t *st)
{
        const json_t *timing = json_object_get(st, "timing");
        struct report_row *r = add_row(d, cap);
        if (!r)
                return;
        d->n_steps++;
        r->document = doc;
        r->phase = phase;
        r->step = str(st, "name");
        r->action = str(st, "action");
        r->status = str(st, "status");
        r->failure = str(st, "failureMessage");
        json_int_t ma = json_integer_value(json_object_get(st, "maxAttempts"));
        r->max_attempts = ma > 0 && ma < 1000000 ? (unsigned)ma : 1;
        int64_t a = num(timing, "attempts");
        r->attempts = a > 0 && a < 1000000 ? (unsigned)a : strcmp(r->status, "skipped") ? 1 : 0;
        const json_t *loop = json_object_get(st, "loop");
        r->iterations = json_is_object(loop) ? loop_count(loop) : 0;
        r->start_ms = num(timing, "startMs");
        r->end_ms = num(timing, "endMs");
        r->ms_precise = r->start_ms > 0;
        if (!r->ms_precise) {
                r->start_ms = rfc3339_ms(str(st, "startTime"));
                r->end_ms = rfc3339_ms(str(st, "endTime"));
        }
        const char *tail = json_string_value(json_object_get(timing, "stderrTail"));
        if (tail)
                r->stderr_tail = cut_tail(tail, strlen(tail));
        const json_t *iters = json_object_get(timing, "iterations"), *it;
        size_t i;
        json_array_foreach(iters, i, it) {
                json_int_t idx = json_integer_value(json_object_get(it, "index"));
                if (!json_is_object(it) || idx < 0)
                        continue;
                struct report_row *ir = add_row(d, cap);
                if (!ir)
                        return;
                ir->document = doc;
                ir->phase = phase;
                ir->step = str(st, "name");
                ir->action = str(st, "action");
                ir->status = str(it, "status");
                ir->failure = "";
                ir->iteration = (long)idx;
                ir->value = json_is_object(loop) ? loop_value(loop, (long)idx) : NULL;
                int64_t at = num(it, "attempt");
                ir->attempts = at > 0 && at < 1000000 ? (unsigned)at : 1;
                ir->max_attempts = (unsigned)ma > 0 ? (unsigned)ma : 1;
                ir->start_ms = num(it, "startMs");
                ir->end_ms = num(it, "endMs");
                ir->ms_precise = true;
        }
}

static bool failed_status(const char *s)
{
        return !strcmp(s, "failed") || !strcmp(s, "ignored") || !strcmp(s, "timedOut");
}

/* Older folders (or a step whose timing has no tail): the Stderr lines
 * console.log holds after the last "Step NAME" line of a failed step of
 * the document. */
static void tails_from_console(struct report_data *d, int dfd)
{
        size_t need = 0;
        for (size_t k = 0; k < d->n_rows; k++)
                need += d->rows[k].iteration < 0 && failed_status(d->rows[k].status) && !d->rows[k].stderr_tail;
        if (!need || need > 64)
                return;
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (read_bounded(dfd, "console.log", REPORT_MAX_FILE, true, &text, &len) < 0)
                return;
        const char *doc = NULL;
        struct report_row *cur = NULL;
        struct strbuf tail = STRBUF_INIT;
        for (char *p = text; p < text + len;) {
                char *nl = memchr(p, '\n', (size_t)(text + len - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(text + len - p);
                p[n] = 0;
                /* "YYYY-MM-DD HH:MM:SS.mmm Info " */
                const char *m = n > 29 && !strncmp(p + 23, " Info ", 6) ? p + 29 : NULL;
                if (m && !strncmp(m, "Document ", 9))
                        doc = m + 9;
                else if (m && !strncmp(m, "Step ", 5)) {
                        for (size_t k = 0; k < d->n_rows; k++) {
                                struct report_row *r = &d->rows[k];
                                if (r->iteration < 0 && failed_status(r->status) && !strcmp(r->step, m + 5) &&
                                    doc && !strcmp(r->document, doc)) {
                                        if (cur && tail.len && !cur->stderr_tail)
                                                cur->stderr_tail = cut_tail(tail.s, tail.len);
                                        cur = r;
                                        sb_free(&tail);
                                        tail = (struct strbuf)STRBUF_INIT;
                                        break;
                                }
                        }
                } else if (m && cur && !strncmp(m, "CmdExecution: Stderr: ", 22)) {
                        sb_puts(&tail, m + 22);
                        sb_putc(&tail, '\n');
                        if (tail.len > 4 * REPORT_TAIL_MAX) {
                                char *keep = cut_tail(tail.s, tail.len);
                                sb_free(&tail);
                                tail = (struct strbuf)STRBUF_INIT;
                                sb_puts(&tail, keep);
                                free(keep);
                        }
                } else if (m && cur && (!strncmp(m, "Phase ", 6) || !strncmp(m, "Executor: ", 10))) {
                        if (tail.len && !cur->stderr_tail)
                                cur->stderr_tail = cut_tail(tail.s, tail.len);
                        cur = NULL;
                        sb_free(&tail);
                        tail = (struct strbuf)STRBUF_INIT;
                }
                p += n + 1;
        }
        if (cur && tail.len && !cur->stderr_tail)
                cur->stderr_tail = cut_tail(tail.s, tail.len);
        sb_free(&tail);
}

int report_read(const char *folder, struct report_data *ret, char **reterr_msg)
{
        *ret = (struct report_data){ 0 };
        _cleanup_close_ int dfd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return errmsg_set(reterr_msg, -errno, "cannot open the log folder %s: %s", folder, strerror(errno));
        _cleanup_free_ char *text = NULL;
        size_t len;
        int e = read_bounded(dfd, "detailedoutput.json", REPORT_MAX_FILE, false, &text, &len);
        if (e < 0)
                return errmsg_set(reterr_msg, e, "cannot read %s/detailedoutput.json: %s", folder,
                                  e == -EFBIG ? "larger than 64 MiB" : strerror(-e));
        json_error_t jerr;
        json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(root)) {
                json_decref(root);
                return errmsg_set(reterr_msg, -EINVAL, "%s/detailedoutput.json is not a report: %s", folder,
                                  root ? "not an object" : jerr.text);
        }
        ret->json = root;
        ret->folder = xstrdup(folder);
        ret->execution_id = xstrdup(str(root, "executionId"));
        ret->status = xstrdup(str(root, "status"));
        ret->failure = xstrdup(str(root, "failureMessage"));
        ret->start_ms = rfc3339_ms(str(root, "startTime"));
        ret->end_ms = rfc3339_ms(str(root, "endTime"));
        size_t cap = 0, i, j, k;
        const json_t *doc, *ph, *st;
        json_array_foreach(json_object_get(root, "documents"), i, doc) {
                const char *dname = str(doc, "filePath");
                json_array_foreach(json_object_get(doc, "phases"), j, ph) {
                        json_array_foreach(json_object_get(ph, "steps"), k, st) {
                                if (json_is_object(st))
                                        add_step(ret, &cap, dname, str(ph, "name"), st);
                        }
                }
        }
        /* The timeline's span from its rows, which are more precise. */
        int64_t lo = 0, hi = 0;
        for (k = 0; k < ret->n_rows; k++) {
                const struct report_row *r = &ret->rows[k];
                if (r->start_ms && (!lo || r->start_ms < lo))
                        lo = r->start_ms;
                if (r->end_ms > hi)
                        hi = r->end_ms;
        }
        if (lo) {
                ret->start_ms = lo;
                ret->end_ms = hi > lo ? hi : lo;
        }
        tails_from_console(ret, dfd);
        _cleanup_free_ char *ch = NULL;
        if (read_bounded(dfd, "chaining.json", REPORT_MAX_FILE, false, &ch, &len) == 0) {
                json_t *c = json_loadb(ch, len, 0, NULL);
                const json_t *docs = json_object_get(c, "documents"), *dd;
                json_array_foreach(docs, i, dd) ret->n_chaining += json_array_size(json_object_get(dd, "expressions"));
                json_decref(c);
        }
        return 0;
}

void report_data_free(struct report_data *d)
{
        for (size_t k = 0; k < d->n_rows; k++) {
                free(d->rows[k].value);
                free(d->rows[k].stderr_tail);
        }
        free_many(d->rows, d->folder, d->execution_id, d->status, d->failure);
        json_decref(d->json);
        *d = (struct report_data){ 0 };
}

int64_t report_row_ms(const struct report_row *r)
{
        return r->start_ms && r->end_ms > r->start_ms ? r->end_ms - r->start_ms : 0;
}
