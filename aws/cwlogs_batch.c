/* cwlogs_batch.c: one PutLogEvents batch from the spool, within the
 * service's limits (spec E.1): events in time order, clamped into the
 * accepted window, messages made valid UTF-8, the JSON body. */
#include "cwlogs.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "errmsg.h"
#include "mkdirs.h"
#include "credentials.h"
#include "http.h"
#include "cwl_internal.h"
#include "strbuf.h"
#include "tunables.h"


/* ---- batches -------------------------------------------------------------------- */

static int cmp_event(const void *a, const void *b)
{
        const struct event *x = a, *y = b;

        if (x->ts != y->ts)
                return x->ts < y->ts ? -1 : 1;
        return x->off < y->off ? -1 : x->off > y->off;
}

static const char json_esc[256] = {
        ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r', ['"'] = '"', ['\\'] = '\\',
        [0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u', [0x06] = 'u',
        [0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u', [0x0f] = 'u', [0x10] = 'u', [0x11] = 'u', [0x12] = 'u',
        [0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u', [0x17] = 'u', [0x18] = 'u', [0x19] = 'u',
        [0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u', [0x1d] = 'u', [0x1e] = 'u', [0x1f] = 'u',
};

/* A JSON string of valid UTF-8 text; control characters escaped. */
void cwl_json_str(struct strbuf *b, const char *s, size_t n)
{
        static const char hex[] = "0123456789abcdef";
        size_t run = 0;

        sb_putc(b, '"');
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                char e = json_esc[c];
                if (!e)
                        continue;
                sb_append(b, s + run, i - run);
                if (e == 'u') {
                        char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
                        sb_append(b, u, 6);
                } else {
                        char u[2] = { '\\', e };
                        sb_append(b, u, 2);
                }
                run = i + 1;
        }
        sb_append(b, s + run, n - run);
        sb_putc(b, '"');
}

static void put_i64(struct strbuf *b, int64_t v)
{
        char buf[24], *p = buf + sizeof buf;
        uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

        do {
                *--p = (char)('0' + u % 10);
                u /= 10;
        } while (u);
        if (v < 0)
                *--p = '-';
        sb_append(b, p, (size_t)(buf + sizeof buf - p));
}

/* Builds the next batch from the cursor: the events, in time order,
 * within every limit, and the PutLogEvents body.  Returns the number of
 * events, 0 when nothing is spooled (s->batch_end may still have moved
 * past finished segments), or -errno. */
int cwl_batch_build(struct cwlogs *s)
{
        struct seg_pos pos = s->cur;
        struct rec rec;
        size_t bytes = 0;
        int64_t lo, hi, tmin = 0, tmax = 0, last = INT64_MIN;
        bool sorted = true;
        int r = 0;

        int64_t now = cwl_wall_ms() + (int64_t)aws_http_clock_offset(s->http) * 1000;
        lo = now - CWLOGS_MAX_AGE_MS + OLD_MARGIN_MS;
        hi = now + CWLOGS_MAX_AHEAD_MS - NEW_MARGIN_MS;
        s->n_ev = 0;
        s->text.len = 0;
        s->batch_resent = s->batch_resumed = s->batch_clamped = 0;
        while (s->n_ev < CWLOGS_MAX_BATCH_EVENTS) {
                r = cwl_spool_peek(s, &pos, &rec);
                if (r <= 0)
                        break;
                int64_t ts = rec.ts;
                bool clamped = ts < lo || ts > hi;
                if (ts < lo)
                        ts = lo;
                else if (ts > hi)
                        ts = hi;
                if (bytes + rec.len + CWLOGS_EVENT_OVERHEAD > CWLOGS_MAX_BATCH_BYTES)
                        break;
                if (s->n_ev > 0) {
                        int64_t a = ts < tmin ? ts : tmin, z = ts > tmax ? ts : tmax;
                        if (z - a >= CWLOGS_MAX_SPAN_MS)
                                break;
                }
                if (s->n_ev == s->cap_ev) {
                        s->cap_ev = s->cap_ev ? 2 * s->cap_ev : 1024;
                        s->ev = xrealloc(s->ev, s->cap_ev * sizeof *s->ev);
                }
                s->ev[s->n_ev++] = (struct event){ .ts = ts, .off = s->text.len, .len = rec.len };
                sb_append(&s->text, rec.msg, rec.len);
                bytes += rec.len + CWLOGS_EVENT_OVERHEAD;
                if (s->n_ev == 1 || ts < tmin)
                        tmin = ts;
                if (s->n_ev == 1 || ts > tmax)
                        tmax = ts;
                if (ts < last)
                        sorted = false;
                last = ts;
                if (cwl_pos_lt(pos, s->resend_end))
                        s->batch_resent++;
                if (pos.seg < s->first_new_seg)
                        s->batch_resumed++;
                if (clamped)
                        s->batch_clamped++;
                pos = rec.next;
        }
        if (r < 0)
                return r;
        s->batch_end = pos;
        if (s->n_ev == 0)
                return 0;
        if (!sorted)
                qsort(s->ev, s->n_ev, sizeof *s->ev, cmp_event);

        struct strbuf *b = &s->body;
        b->len = 0;
        sb_append(b, "", 0);
        sb_puts(b, "{\"logGroupName\":");
        cwl_json_str(b, s->group, strlen(s->group));
        sb_puts(b, ",\"logStreamName\":");
        cwl_json_str(b, s->stream, strlen(s->stream));
        sb_puts(b, ",\"logEvents\":[");
        for (size_t i = 0; i < s->n_ev; i++) {
                sb_puts(b, i ? ",{\"timestamp\":" : "{\"timestamp\":");
                put_i64(b, s->ev[i].ts);
                sb_puts(b, ",\"message\":");
                cwl_json_str(b, s->text.s + s->ev[i].off, s->ev[i].len);
                sb_putc(b, '}');
        }
        sb_puts(b, "]}");
        return (int)s->n_ev;
}

