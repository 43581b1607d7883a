/* cwlogs.c: owns shipping console.log to CloudWatch Logs: the on-disk
 * spool (segment files of framed, checksummed records and an atomically
 * replaced cursor), resuming a spool left by an earlier process, batching
 * within PutLogEvents' limits (spec E.1), the AWS JSON 1.1 calls
 * PutLogEvents, CreateLogStream and CreateLogGroup (through aws/http), the
 * backoff between failed tries, and the delivery report.  The design and
 * the file formats are described in cwlogs.h. */
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
#include "strbuf.h"
#include "tunables.h"

#define SEG_MAGIC "OTCWSEG1"
#define SEG_HDR 8                               /* bytes of the magic at the start of a segment */
#define REC_HDR 16                              /* u32 length, u32 crc, i64 timestamp */
#define SEG_ROTATE_BYTES (16L * 1024 * 1024)    /* a new segment once one is this large (default) */
#define SYNC_BYTES (1024u * 1024)               /* fdatasync once this much is unsynced */
#define SYNC_MS 1000                            /* ... or the oldest unsynced append is this old */
#define READ_CHUNK (1024u * 1024)               /* spool reads */
#define CURSOR_MAGIC "opentoe-cwlogs-cursor 1"
#define OLD_MARGIN_MS (3600LL * 1000)           /* clamp this far inside the 14-day window */
#define NEW_MARGIN_MS (300LL * 1000)            /* ... and the 2-hour one */
#define MAX_NAME 512

struct seg_pos {
        uint64_t seg;   /* segment number, 0: none */
        uint64_t off;   /* byte offset in it */
};

struct rec {
        int64_t ts;
        const char *msg;        /* borrowed from the read buffer */
        uint32_t len;
        struct seg_pos next;    /* the position after the record */
};

struct event {
        int64_t ts;
        size_t off;             /* in the batch text */
        uint32_t len;
};

struct cwlogs {
        char *group, *stream, *region, *dir, *endpoint;
        unsigned flags;
        int dirfd, lockfd;
        struct aws_cred_provider *creds;
        struct aws_http *http;
        void (*notice)(void *userdata, const char *msg);
        void *notice_data;

        /* Segment numbers present, ascending; the active one is last. */
        uint64_t *segs;
        size_t n_segs, cap_segs;
        uint64_t first_new_seg; /* segments from here on were written by this process */

        /* The writer. */
        uint64_t wseg;
        int wfd;
        uint64_t wend, wsynced;
        int64_t unsynced_since; /* monotonic ms of the oldest unsynced append; 0 none */
        struct strbuf wbuf, clean;

        /* The reader: one segment open at a time, read in chunks. */
        uint64_t rseg;
        int rfd;
        uint64_t rsize;         /* the size of a finished segment */
        bool rsize_stale;       /* opened while active: look at the size again */
        char *rbuf;
        size_t rcap, rlen;
        uint64_t roff;          /* file offset of rbuf[0] */
        struct seg_pos corrupt_mark; /* corrupt data before this was counted */

        /* The cursor as committed, and what it records. */
        struct seg_pos cur, inflight, resend_end;
        uint64_t total_delivered, total_requests, total_resent;

        /* The batch being built and sent. */
        struct event *ev;
        size_t n_ev, cap_ev;
        struct strbuf text, body;
        struct seg_pos batch_end;
        uint64_t batch_resent, batch_resumed, batch_clamped;

        /* Pacing. */
        long backoff_base, backoff_cap, backoff;
        int64_t next_try;       /* monotonic ms; 0: now */
        long flush_ms;
        uint64_t segment_bytes;
        int64_t first_pending;  /* monotonic ms of the oldest unshipped append; 0 none */
        uint64_t pending_events, pending_bytes; /* appended since the last time the spool was drained */
        bool old_pending;       /* an earlier process left events */

        struct cwlogs_report counts;    /* without strings */
        char *last_error;
};

/* ---- small helpers ----------------------------------------------------------- */

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(struct cwlogs *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct cwlogs *s, const char *fmt, ...)
{
        if (!s->notice)
                return;
        struct strbuf b = STRBUF_INIT;
        va_list ap;

        va_start(ap, fmt);
        sb_vprintf(&b, fmt, ap);
        va_end(ap);
        s->notice(s->notice_data, sb_str(&b));
        sb_free(&b);
}

/* Records why something failed (and tells the notice callback); returns r. */
static int set_error(struct cwlogs *s, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int set_error(struct cwlogs *s, int r, const char *fmt, ...)
{
        struct strbuf b = STRBUF_INIT;
        va_list ap;

        va_start(ap, fmt);
        sb_vprintf(&b, fmt, ap);
        va_end(ap);
        free(s->last_error);
        s->last_error = sb_take(&b);
        if (s->notice)
                s->notice(s->notice_data, s->last_error);
        return r;
}

static bool pos_lt(struct seg_pos a, struct seg_pos b)
{
        return a.seg < b.seg || (a.seg == b.seg && a.off < b.off);
}

static bool pos_eq(struct seg_pos a, struct seg_pos b)
{
        return a.seg == b.seg && a.off == b.off;
}

static void put_u32(char *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (char)(v >> (8 * i));
}

static void put_u64(char *p, uint64_t v)
{
        for (int i = 0; i < 8; i++)
                p[i] = (char)(v >> (8 * i));
}

static uint32_t get_u32(const char *p)
{
        const unsigned char *u = (const unsigned char *)p;
        return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

static uint64_t get_u64(const char *p)
{
        return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static int write_all_at(int fd, const char *p, size_t n, uint64_t off)
{
        while (n > 0) {
                ssize_t k = pwrite(fd, p, n, (off_t)off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EIO;
                p += k;
                n -= (size_t)k;
                off += (uint64_t)k;
        }
        return 0;
}

/* ---- CRC-32C --------------------------------------------------------------------- */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static bool crc_hw;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_CRC_HW 1
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const unsigned char *p, size_t n)
{
        uint64_t c = crc;

        while (n >= 8) {
                uint64_t v;
                memcpy(&v, p, 8);
                c = __builtin_ia32_crc32di(c, v);
                p += 8;
                n -= 8;
        }
        uint32_t c32 = (uint32_t)c;
        while (n-- > 0)
                c32 = __builtin_ia32_crc32qi(c32, *p++);
        return c32;
}
#endif

static void crc_init(void)
{
        for (unsigned i = 0; i < 256; i++) {
                uint32_t c = i;
                for (int k = 0; k < 8; k++)
                        c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
                crc_table[0][i] = c;
        }
        for (unsigned i = 0; i < 256; i++)
                for (int t = 1; t < 8; t++)
                        crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
#ifdef HAVE_CRC_HW
        __builtin_cpu_init();
        crc_hw = __builtin_cpu_supports("sse4.2");
#endif
}

uint32_t cwlogs_crc32c(uint32_t crc, const void *data, size_t len)
{
        const unsigned char *p = data;
        uint32_t c = ~crc;

        pthread_once(&crc_once, crc_init);
#ifdef HAVE_CRC_HW
        if (crc_hw)
                return ~crc32c_hw(c, p, len);
#endif
        while (len >= 8) {
                uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                                   (uint32_t)p[3] << 24);
                c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^ crc_table[5][(lo >> 16) & 0xff] ^
                    crc_table[4][lo >> 24] ^ crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^
                    crc_table[0][p[7]];
                p += 8;
                len -= 8;
        }
        while (len-- > 0)
                c = (c >> 8) ^ crc_table[0][(c ^ *p++) & 0xff];
        return ~c;
}

/* The checksum of a record: its length and timestamp fields, then the message. */
static uint32_t rec_crc(const char *hdr, const char *msg, size_t len)
{
        char lt[12];

        memcpy(lt, hdr, 4);
        memcpy(lt + 4, hdr + 8, 8);
        return cwlogs_crc32c(cwlogs_crc32c(0, lt, sizeof lt), msg, len);
}

/* ---- UTF-8 -------------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
        unsigned c = p[0];

        if (c < 0x80)
                return 1;
        if (c < 0xC2 || c > 0xF4)
                return 0;
        if (c < 0xE0)
                return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
        if (c < 0xF0) {
                if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
                        return 0;
                if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F))
                        return 0;
                return 3;
        }
        if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
                return 0;
        if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
                return 0;
        return 4;
}

static bool utf8_valid(const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0;

        while (i < n) {
                if (n - i >= 8) {
                        uint64_t v;
                        memcpy(&v, p + i, 8);
                        if (!(v & 0x8080808080808080ull)) {
                                i += 8;
                                continue;
                        }
                }
                size_t k = utf8_seq(p + i, n - i);
                if (!k)
                        return false;
                i += k;
        }
        return true;
}

/* Copies s into b with every byte that does not start a valid sequence
 * replaced by U+FFFD, which is what the service would count (spec E.2). */
static void utf8_sanitize(struct strbuf *b, const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0, run = 0;

        b->len = 0;
        sb_append(b, "", 0);
        while (i < n) {
                size_t k = utf8_seq(p + i, n - i);
                if (k) {
                        i += k;
                        continue;
                }
                sb_append(b, s + run, i - run);
                sb_append(b, "\xEF\xBF\xBD", 3);
                i++;
                run = i;
        }
        sb_append(b, s + run, n - run);
}

/* ---- segment list ------------------------------------------------------------- */

static void seg_name(char buf[32], uint64_t seg)
{
        snprintf(buf, 32, "%016" PRIx64 ".seg", seg);
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static void segs_add(struct cwlogs *s, uint64_t seg)
{
        if (s->n_segs == s->cap_segs) {
                s->cap_segs = s->cap_segs ? 2 * s->cap_segs : 16;
                s->segs = xrealloc(s->segs, s->cap_segs * sizeof *s->segs);
        }
        s->segs[s->n_segs++] = seg;
}

/* The smallest segment number >= seg present, or 0. */
static uint64_t segs_from(const struct cwlogs *s, uint64_t seg)
{
        for (size_t i = 0; i < s->n_segs; i++)
                if (s->segs[i] >= seg)
                        return s->segs[i];
        return 0;
}

static void segs_remove(struct cwlogs *s, uint64_t seg)
{
        for (size_t i = 0; i < s->n_segs; i++)
                if (s->segs[i] == seg) {
                        memmove(s->segs + i, s->segs + i + 1, (s->n_segs - i - 1) * sizeof *s->segs);
                        s->n_segs--;
                        return;
                }
}

static int segs_scan(struct cwlogs *s)
{
        int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                close(fd);
                return r;
        }
        struct dirent *e;
        s->n_segs = 0;
        while ((e = readdir(d))) {
                char *end;
                size_t l = strlen(e->d_name);

                if (l != 20 || strcmp(e->d_name + 16, ".seg"))
                        continue;
                errno = 0;
                uint64_t v = strtoull(e->d_name, &end, 16);
                if (errno || end != e->d_name + 16 || v == 0)
                        continue;
                segs_add(s, v);
        }
        closedir(d);
        if (s->n_segs > 1)
                qsort(s->segs, s->n_segs, sizeof *s->segs, cmp_u64);
        return 0;
}

/* ---- the cursor ---------------------------------------------------------------- */

static void put_field(struct strbuf *b, const char *key, const char *v)
{
        sb_printf(b, "%s ", key);
        for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
                if (*p <= 0x20 || *p >= 0x7f || *p == '%')
                        sb_printf(b, "%%%02X", *p);
                else
                        sb_putc(b, (char)*p);
        }
        sb_putc(b, '\n');
}

static char *unpct(const char *v)
{
        struct strbuf b = STRBUF_INIT;

        sb_append(&b, "", 0);
        for (const char *p = v; *p; p++) {
                unsigned x;
                if (*p == '%' && sscanf(p + 1, "%2x", &x) == 1 && p[1] && p[2]) {
                        sb_putc(&b, (char)x);
                        p += 2;
                } else
                        sb_putc(&b, *p);
        }
        return sb_take(&b);
}

static int cursor_write(struct cwlogs *s)
{
        struct strbuf b = STRBUF_INIT;

        sb_puts(&b, CURSOR_MAGIC "\n");
        put_field(&b, "group", s->group);
        put_field(&b, "stream", s->stream);
        put_field(&b, "region", s->region);
        sb_printf(&b, "segment %" PRIu64 "\noffset %" PRIu64 "\n", s->cur.seg, s->cur.off);
        if (s->inflight.seg)
                sb_printf(&b, "inflight %" PRIu64 " %" PRIu64 "\n", s->inflight.seg, s->inflight.off);
        else
                sb_puts(&b, "inflight -\n");
        sb_printf(&b, "delivered %" PRIu64 "\nrequests %" PRIu64 "\nresent %" PRIu64 "\n", s->total_delivered,
                  s->total_requests, s->total_resent);
        int r = write_file_atomic_at(s->dirfd, "cursor", b.s, b.len, 0600);
        sb_free(&b);
        if (r < 0)
                return set_error(s, r, "cannot write the CloudWatch Logs spool cursor %s/cursor: %s", s->dir,
                                 strerror(-r));
        return 0;
}

struct cursor_file {
        bool present, valid;
        char *group, *stream, *region;
        struct seg_pos pos, inflight;
        uint64_t delivered, requests, resent;
};

static void cursor_file_done(struct cursor_file *c)
{
        free(c->group);
        free(c->stream);
        free(c->region);
}

static int cursor_read(int dirfd, struct cursor_file *ret)
{
        struct cursor_file c = { 0 };
        int fd = openat(dirfd, "cursor", O_RDONLY | O_CLOEXEC);

        if (fd < 0) {
                if (errno == ENOENT) {
                        *ret = c;
                        return 0;
                }
                return -errno;
        }
        c.present = true;
        _cleanup_fclose_ FILE *f = fdopen(fd, "r");
        if (!f) {
                close(fd);
                return -errno;
        }
        char line[4096];
        bool magic = false, have_pos = false;
        while (fgets(line, sizeof line, f)) {
                line[strcspn(line, "\n")] = 0;
                char *sp = strchr(line, ' ');
                const char *v = sp ? sp + 1 : "";
                if (sp)
                        *sp = 0;
                if (!magic) {
                        magic = !strcmp(line, "opentoe-cwlogs-cursor") && !strcmp(v, "1");
                        if (!magic)
                                break;
                } else if (!strcmp(line, "group")) {
                        free(c.group);
                        c.group = unpct(v);
                } else if (!strcmp(line, "stream")) {
                        free(c.stream);
                        c.stream = unpct(v);
                } else if (!strcmp(line, "region")) {
                        free(c.region);
                        c.region = unpct(v);
                } else if (!strcmp(line, "segment")) {
                        have_pos = sscanf(v, "%" SCNu64, &c.pos.seg) == 1;
                } else if (!strcmp(line, "offset")) {
                        have_pos = have_pos && sscanf(v, "%" SCNu64, &c.pos.off) == 1;
                } else if (!strcmp(line, "inflight")) {
                        if (sscanf(v, "%" SCNu64 " %" SCNu64, &c.inflight.seg, &c.inflight.off) != 2)
                                c.inflight = (struct seg_pos){ 0, 0 };
                } else if (!strcmp(line, "delivered")) {
                        (void)sscanf(v, "%" SCNu64, &c.delivered);
                } else if (!strcmp(line, "requests")) {
                        (void)sscanf(v, "%" SCNu64, &c.requests);
                } else if (!strcmp(line, "resent")) {
                        (void)sscanf(v, "%" SCNu64, &c.resent);
                }
        }
        c.valid = magic && have_pos && c.group && c.stream && c.region;
        *ret = c;
        return 0;
}

/* ---- the writer ----------------------------------------------------------------- */

static int spool_sync(struct cwlogs *s)
{
        if (s->wfd < 0 || s->wsynced >= s->wend)
                return 0;
        if (fdatasync(s->wfd) < 0)
                return -errno;
        s->wsynced = s->wend;
        s->unsynced_since = 0;
        return 0;
}

/* Starts segment number seg as the active one. */
static int segment_new(struct cwlogs *s, uint64_t seg)
{
        char name[32];

        seg_name(name, seg);
        int fd = openat(s->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        int r = write_all_at(fd, SEG_MAGIC, SEG_HDR, 0);
        if (r < 0) {
                close(fd);
                unlinkat(s->dirfd, name, 0);
                return r;
        }
        (void)fsync(s->dirfd);
        if (s->wfd >= 0) {
                (void)spool_sync(s);
                close(s->wfd);
        }
        s->wfd = fd;
        s->wseg = seg;
        s->wend = SEG_HDR;
        s->wsynced = 0;
        s->unsynced_since = aws_now_ms();
        segs_add(s, seg);
        return 0;
}

int cwlogs_append(struct cwlogs *s, int64_t timestamp_ms, const char *line, size_t len)
{
        const char *msg = line;
        size_t n = len;
        int r;

        if (!s || (!line && len))
                return -EINVAL;
        if (timestamp_ms < 0)
                timestamp_ms = wall_ms();
        if (n > 0 && msg[n - 1] == '\n') {
                n--;
                if (n > 0 && msg[n - 1] == '\r')
                        n--;
        }
        if (n == 0) {
                msg = " ";
                n = 1;
        }
        if (!utf8_valid(msg, n)) {
                utf8_sanitize(&s->clean, msg, n);
                msg = s->clean.s;
                n = s->clean.len;
        }
        if (s->wend >= s->segment_bytes) {
                r = segment_new(s, s->wseg + 1);
                if (r < 0) {
                        s->counts.lost++;
                        return set_error(s, r, "cannot start a CloudWatch Logs spool segment in %s: %s", s->dir,
                                         strerror(-r));
                }
        }

        /* Every part of the line in one write. */
        uint64_t parts = 0;
        s->wbuf.len = 0;
        for (size_t done = 0; done < n; parts++) {
                size_t k = n - done;
                if (k > CWLOGS_MAX_EVENT_BYTES) {
                        k = CWLOGS_MAX_EVENT_BYTES;
                        while (k > 0 && ((unsigned char)msg[done + k] & 0xC0) == 0x80)
                                k--;
                }
                char hdr[REC_HDR];
                put_u32(hdr, (uint32_t)k);
                put_u64(hdr + 8, (uint64_t)timestamp_ms);
                put_u32(hdr + 4, rec_crc(hdr, msg + done, k));
                sb_append(&s->wbuf, hdr, REC_HDR);
                sb_append(&s->wbuf, msg + done, k);
                done += k;
        }
        r = write_all_at(s->wfd, s->wbuf.s, s->wbuf.len, s->wend);
        if (r < 0) {
                /* Nothing half-written may stay where the next record goes. */
                (void)ftruncate(s->wfd, (off_t)s->wend);
                if (s->rseg == s->wseg)
                        s->rlen = 0;
                s->counts.lost += parts;
                return set_error(s, r, "cannot write to the CloudWatch Logs spool %s: %s", s->dir, strerror(-r));
        }
        s->wend += s->wbuf.len;
        s->counts.appended += parts;
        if (parts > 1)
                s->counts.split++;
        s->pending_events += parts;
        s->pending_bytes += n + CWLOGS_EVENT_OVERHEAD * parts;

        int64_t now = aws_now_ms();
        if (!s->first_pending)
                s->first_pending = now;
        if (!s->unsynced_since)
                s->unsynced_since = now;
        if (s->wend - s->wsynced >= SYNC_BYTES || now - s->unsynced_since >= SYNC_MS) {
                r = spool_sync(s);
                if (r < 0)
                        return set_error(s, r, "cannot sync the CloudWatch Logs spool %s: %s", s->dir,
                                         strerror(-r));
        }
        return 0;
}

/* ---- the reader ----------------------------------------------------------------- */

static void reader_close(struct cwlogs *s)
{
        if (s->rfd >= 0)
                close(s->rfd);
        s->rfd = -1;
        s->rseg = 0;
        s->rlen = 0;
        s->roff = 0;
}

/* Opens segment seg for reading.  -ENOENT when it is gone, -EBADMSG when
 * it does not start with the magic. */
static int reader_open(struct cwlogs *s, uint64_t seg)
{
        char name[32], magic[SEG_HDR];
        struct stat st;

        if (s->rseg == seg)
                return 0;
        reader_close(s);
        seg_name(name, seg);
        int fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        ssize_t k = pread(fd, magic, SEG_HDR, 0);
        s->rfd = fd;
        s->rseg = seg;
        s->rsize = (uint64_t)st.st_size;
        s->rsize_stale = seg == s->wseg;
        if (k != SEG_HDR || memcmp(magic, SEG_MAGIC, SEG_HDR))
                return -EBADMSG;
        return 0;
}

/* Makes [off, off+need) of the open segment available in rbuf; returns a
 * pointer to off, or NULL when the file ends first (errno set). */
static const char *reader_need(struct cwlogs *s, uint64_t off, size_t need)
{
        if (off >= s->roff && off + need <= s->roff + s->rlen)
                return s->rbuf + (off - s->roff);
        size_t want = need > READ_CHUNK ? need : READ_CHUNK;
        if (s->rcap < want) {
                s->rbuf = xrealloc(s->rbuf, want);
                s->rcap = want;
        }
        s->rlen = 0;
        s->roff = off;
        while (s->rlen < want) {
                ssize_t k = pread(s->rfd, s->rbuf + s->rlen, want - s->rlen, (off_t)(off + s->rlen));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return NULL;
                if (k == 0)
                        break;
                s->rlen += (size_t)k;
        }
        if (s->rlen < need) {
                errno = ENODATA;
                return NULL;
        }
        return s->rbuf;
}

/* Data from pos to end of segment pos.seg cannot be read: counted once. */
static void spool_corrupt(struct cwlogs *s, struct seg_pos pos, uint64_t end, const char *why)
{
        struct seg_pos after = { pos.seg, end };

        if (pos_lt(pos, s->corrupt_mark))
                return;
        s->corrupt_mark = after;
        s->counts.lost++;
        set_error(s, -EBADMSG, "CloudWatch Logs spool %s: %" PRIu64 " bytes of segment %016" PRIx64
                  " from offset %" PRIu64 " cannot be read (%s) and are skipped", s->dir, end - pos.off, pos.seg,
                  pos.off, why);
}

/* Reads the record at *pos, first moving *pos past gone segments, the
 * ends of finished ones and data that cannot be read.  1: *ret holds the
 * record (its message valid until the next read); 0: nothing more is
 * spooled; -errno. */
static int spool_peek(struct cwlogs *s, struct seg_pos *pos, struct rec *ret)
{
        for (;;) {
                uint64_t seg = segs_from(s, pos->seg ? pos->seg : 1);
                if (!seg)
                        return 0;
                if (seg != pos->seg)
                        *pos = (struct seg_pos){ seg, SEG_HDR };
                if (pos->off < SEG_HDR)
                        pos->off = SEG_HDR;
                bool active = seg == s->wseg;
                int r = reader_open(s, seg);
                if (r == -ENOENT) {
                        reader_close(s);
                        segs_remove(s, seg);
                        continue;
                }
                if (r == -EBADMSG && !active) {
                        spool_corrupt(s, (struct seg_pos){ seg, 0 }, s->rsize, "no segment header");
                        *pos = (struct seg_pos){ seg + 1, 0 };
                        continue;
                }
                if (r < 0)
                        return set_error(s, r, "cannot read the CloudWatch Logs spool %s: %s", s->dir,
                                         strerror(-r));
                if (!active && s->rsize_stale) {
                        /* Opened while it was the active one: it has grown since. */
                        struct stat st;
                        if (fstat(s->rfd, &st) < 0)
                                return set_error(s, -errno, "cannot read the CloudWatch Logs spool %s: %s", s->dir,
                                                 strerror(errno));
                        s->rsize = (uint64_t)st.st_size;
                        s->rsize_stale = false;
                }
                uint64_t end = active ? s->wend : s->rsize;
                if (pos->off >= end) {
                        if (active)
                                return 0;
                        *pos = (struct seg_pos){ seg + 1, 0 };
                        continue;
                }

                const char *why = "a torn record";
                const char *h = end - pos->off >= REC_HDR ? reader_need(s, pos->off, REC_HDR) : NULL;
                if (h) {
                        uint32_t len = get_u32(h);
                        if (len == 0 || len > CWLOGS_MAX_EVENT_BYTES) {
                                why = "a bad record length";
                        } else if (end - pos->off - REC_HDR >= len &&
                                   (h = reader_need(s, pos->off, REC_HDR + len))) {
                                if (rec_crc(h, h + REC_HDR, len) == get_u32(h + 4)) {
                                        ret->len = len;
                                        ret->ts = (int64_t)get_u64(h + 8);
                                        ret->msg = h + REC_HDR;
                                        ret->next = (struct seg_pos){ seg, pos->off + REC_HDR + len };
                                        return 1;
                                }
                                why = "a checksum mismatch";
                        }
                }
                spool_corrupt(s, *pos, end, why);
                if (active) {
                        /* Our own records: should never happen; skip what is written. */
                        pos->off = end;
                        return 0;
                }
                *pos = (struct seg_pos){ seg + 1, 0 };
        }
}

/* Deletes the segments before the cursor (never the active one), and
 * the active one too when all_done and everything in it is delivered. */
static void spool_prune(struct cwlogs *s, bool all_done)
{
        while (s->n_segs > 0) {
                uint64_t seg = s->segs[0];
                bool consumed = seg < s->cur.seg ||
                                (seg == s->cur.seg && seg == s->wseg && all_done && s->cur.off >= s->wend);
                if (!consumed || (seg == s->wseg && !all_done))
                        break;
                char name[32];
                seg_name(name, seg);
                if (s->rseg == seg)
                        reader_close(s);
                if (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT)
                        break;
                segs_remove(s, seg);
        }
}

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
static void json_str(struct strbuf *b, const char *s, size_t n)
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
static int batch_build(struct cwlogs *s)
{
        struct seg_pos pos = s->cur;
        struct rec rec;
        size_t bytes = 0;
        int64_t lo, hi, tmin = 0, tmax = 0, last = INT64_MIN;
        bool sorted = true;
        int r = 0;

        int64_t now = wall_ms() + (int64_t)aws_http_clock_offset(s->http) * 1000;
        lo = now - CWLOGS_MAX_AGE_MS + OLD_MARGIN_MS;
        hi = now + CWLOGS_MAX_AHEAD_MS - NEW_MARGIN_MS;
        s->n_ev = 0;
        s->text.len = 0;
        s->batch_resent = s->batch_resumed = s->batch_clamped = 0;
        while (s->n_ev < CWLOGS_MAX_BATCH_EVENTS) {
                r = spool_peek(s, &pos, &rec);
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
                if (pos_lt(pos, s->resend_end))
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
        json_str(b, s->group, strlen(s->group));
        sb_puts(b, ",\"logStreamName\":");
        json_str(b, s->stream, strlen(s->stream));
        sb_puts(b, ",\"logEvents\":[");
        for (size_t i = 0; i < s->n_ev; i++) {
                sb_puts(b, i ? ",{\"timestamp\":" : "{\"timestamp\":");
                put_i64(b, s->ev[i].ts);
                sb_puts(b, ",\"message\":");
                json_str(b, s->text.s + s->ev[i].off, s->ev[i].len);
                sb_putc(b, '}');
        }
        sb_puts(b, "]}");
        return (int)s->n_ev;
}

/* ---- requests --------------------------------------------------------------------- */

static void http_notice(void *userdata, const char *msg)
{
        struct cwlogs *s = userdata;

        if (s->notice)
                say(s, "CloudWatch Logs: %s", msg);
}

static int logs_call(struct cwlogs *s, const char *op, const char *body, size_t len, int64_t deadline,
                     struct aws_http_response *resp, char **reterr_msg)
{
        char target[64];

        snprintf(target, sizeof target, "Logs_20140328.%s", op);
        const struct aws_http_header hdrs[] = {
                { "Content-Type", AWS_JSON_CONTENT_TYPE },
                { "X-Amz-Target", target },
        };
        struct aws_http_request req = {
                .method = "POST",
                .endpoint = s->endpoint,
                .path = "/",
                .headers = hdrs,
                .n_headers = ELEMENTSOF(hdrs),
                .body = body,
                .body_len = len,
                .service = "logs",
                .region = s->region,
                .creds = s->creds,
                .deadline_ms = deadline,
                .notice = http_notice,
                .userdata = s,
        };
        return aws_http_request(s->http, &req, resp, reterr_msg);
}

static bool code_is(const struct aws_http_response *r, const char *code)
{
        return r->error_code && !strcmp(r->error_code, code);
}

/* Create{LogStream,LogGroup}: 0 when it exists now. */
static int create_one(struct cwlogs *s, const char *op, bool with_stream, int64_t deadline, bool *ret_no_group)
{
        struct strbuf b = STRBUF_INIT;
        struct aws_http_response resp;
        char *err = NULL;

        sb_puts(&b, "{\"logGroupName\":");
        json_str(&b, s->group, strlen(s->group));
        if (with_stream) {
                sb_puts(&b, ",\"logStreamName\":");
                json_str(&b, s->stream, strlen(s->stream));
        }
        sb_putc(&b, '}');
        int r = logs_call(s, op, b.s, b.len, deadline, &resp, &err);
        sb_free(&b);
        if (r < 0) {
                set_error(s, r, "CloudWatch Logs %s: %s", op, err ? err : strerror(-r));
                free(err);
                return r;
        }
        if (ret_no_group)
                *ret_no_group = code_is(&resp, "ResourceNotFoundException");
        if (resp.status / 100 == 2 || code_is(&resp, "ResourceAlreadyExistsException")) {
                if (resp.status / 100 == 2)
                        say(s, "CloudWatch Logs: %s %s%s%s: created", op, s->group, with_stream ? " " : "",
                            with_stream ? s->stream : "");
                aws_http_response_done(&resp);
                return 0;
        }
        r = aws_http_status_error(&resp, &err);
        if (!(ret_no_group && *ret_no_group))
                set_error(s, r, "CloudWatch Logs %s: %s", op, err ? err : strerror(-r));
        free(err);
        aws_http_response_done(&resp);
        return r;
}

/* The group or the stream is missing: create the stream, and the group
 * first when the stream cannot be created without it. */
static int create_target(struct cwlogs *s, int64_t deadline)
{
        bool no_group = false;
        int r = create_one(s, "CreateLogStream", true, deadline, &no_group);

        if (r == 0 || !no_group)
                return r;
        r = create_one(s, "CreateLogGroup", false, deadline, NULL);
        if (r < 0)
                return r;
        return create_one(s, "CreateLogStream", true, deadline, NULL);
}

/* The events of the batch that the service refused (rejectedLogEventsInfo). */
static uint64_t count_rejected(struct cwlogs *s, const struct aws_http_response *resp)
{
        json_t *j = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, NULL);
        json_t *info = json_object_get(j, "rejectedLogEventsInfo");
        uint64_t n = s->n_ev, old = 0, new_from = n;

        if (json_is_object(info)) {
                json_t *v;
                if ((v = json_object_get(info, "tooOldLogEventEndIndex")) && json_is_integer(v) &&
                    json_integer_value(v) > 0)
                        old = (uint64_t)json_integer_value(v);
                if ((v = json_object_get(info, "expiredLogEventEndIndex")) && json_is_integer(v) &&
                    json_integer_value(v) > 0 && (uint64_t)json_integer_value(v) > old)
                        old = (uint64_t)json_integer_value(v);
                if ((v = json_object_get(info, "tooNewLogEventStartIndex")) && json_is_integer(v) &&
                    json_integer_value(v) >= 0 && (uint64_t)json_integer_value(v) < new_from)
                        new_from = (uint64_t)json_integer_value(v);
        }
        json_decref(j);
        if (old > n)
                old = n;
        if (new_from < old)
                new_from = old;
        uint64_t rej = old + (n - new_from);
        if (rej)
                set_error(s, -EBADMSG, "CloudWatch Logs PutLogEvents: the service rejected %" PRIu64 " of %" PRIu64
                          " events (%" PRIu64 " too old or expired, %" PRIu64 " too new)", rej, n, old,
                          n - new_from);
        return rej;
}

/* The batch is done with: delivered (minus what was rejected). */
static int batch_commit(struct cwlogs *s, uint64_t rejected)
{
        uint64_t n = s->n_ev, delivered = n - rejected;

        s->cur = s->batch_end;
        s->inflight = (struct seg_pos){ 0, 0 };
        s->counts.delivered += delivered;
        s->counts.rejected += rejected;
        s->counts.resent += s->batch_resent;
        s->counts.resumed += s->batch_resumed;
        s->counts.clamped += s->batch_clamped;
        s->counts.requests++;
        s->total_delivered += delivered;
        s->total_requests++;
        s->total_resent += s->batch_resent;
        s->pending_events = s->pending_events > n ? s->pending_events - n : 0;
        uint64_t bytes = s->text.len + CWLOGS_EVENT_OVERHEAD * n;
        s->pending_bytes = s->pending_bytes > bytes ? s->pending_bytes - bytes : 0;
        s->backoff = 0;
        s->next_try = 0;
        int r = cursor_write(s);
        spool_prune(s, false);
        return r;
}

static void backoff_start(struct cwlogs *s)
{
        unsigned v = 0;

        s->counts.failures++;
        s->backoff = s->backoff ? s->backoff * 2 : s->backoff_base;
        if (s->backoff > s->backoff_cap)
                s->backoff = s->backoff_cap;
        if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v)
                v = (unsigned)rand();
        long d = s->backoff / 2 + (long)(v % (unsigned long)(s->backoff / 2 + 1));
        s->next_try = aws_now_ms() + d;
        say(s, "CloudWatch Logs: undelivered events stay in the spool; next try in %.1f s",
            (double)d / 1000.0);
}

/* Sends the built batch.  0: done with (delivered, or refused for good
 * and counted); -errno: not delivered, try again after a backoff. */
static int batch_send(struct cwlogs *s, int64_t deadline)
{
        int r;

        if (s->batch_end.seg == s->wseg && s->batch_end.off > s->wsynced) {
                r = spool_sync(s);
                if (r < 0)
                        return set_error(s, r, "cannot sync the CloudWatch Logs spool %s: %s", s->dir,
                                         strerror(-r));
        }
        if (!pos_eq(s->inflight, s->batch_end)) {
                s->inflight = s->batch_end;
                r = cursor_write(s);
                if (r < 0)
                        return r;
        }
        for (int tries = 0;; tries++) {
                struct aws_http_response resp;
                char *err = NULL;

                r = logs_call(s, "PutLogEvents", s->body.s, s->body.len, deadline, &resp, &err);
                if (r < 0) {
                        /* A request that timed out or broke may have been processed. */
                        if ((r == -ETIMEDOUT || r == -EIO) && pos_lt(s->resend_end, s->batch_end))
                                s->resend_end = s->batch_end;
                        set_error(s, r, "CloudWatch Logs PutLogEvents: %s", err ? err : strerror(-r));
                        free(err);
                        return r;
                }
                if (resp.status / 100 == 2) {
                        uint64_t rej = count_rejected(s, &resp);
                        aws_http_response_done(&resp);
                        return batch_commit(s, rej);
                }
                if (code_is(&resp, "ResourceNotFoundException") && tries == 0) {
                        aws_http_response_done(&resp);
                        r = create_target(s, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = aws_http_status_error(&resp, &err);
                bool bad_batch = code_is(&resp, "InvalidParameterException") ||
                                 code_is(&resp, "SerializationException") || resp.status == 413;
                bool already = code_is(&resp, "DataAlreadyAcceptedException");
                set_error(s, r, "CloudWatch Logs PutLogEvents: %s%s", err ? err : strerror(-r),
                          bad_batch ? "; the batch is dropped" : "");
                free(err);
                aws_http_response_done(&resp);
                if (bad_batch || already)
                        return batch_commit(s, already ? 0 : s->n_ev);
                return r;
        }
}

/* ---- shipping ------------------------------------------------------------------- */

static bool due(const struct cwlogs *s, int64_t now)
{
        return s->old_pending || s->pending_events >= CWLOGS_MAX_BATCH_EVENTS ||
               s->pending_bytes >= CWLOGS_MAX_BATCH_BYTES ||
               (s->first_pending && now - s->first_pending >= s->flush_ms);
}

/* Ships batches until nothing (due) is left, a failure, or the
 * deadline.  Sets *ret_left when events remain spooled. */
static int ship(struct cwlogs *s, int64_t deadline, bool all, bool *ret_left)
{
        int delivered = 0, r;

        *ret_left = true;
        for (;;) {
                int64_t now = aws_now_ms();
                if (now >= deadline || now < s->next_try)
                        return delivered;
                if (!all && !due(s, now))
                        return delivered;
                r = batch_build(s);
                if (r < 0) {
                        backoff_start(s);
                        return r;
                }
                if (r == 0) {
                        /* Drained: the cursor may still move past finished segments. */
                        if (!pos_eq(s->cur, s->batch_end)) {
                                s->cur = s->batch_end;
                                (void)cursor_write(s);
                                spool_prune(s, false);
                        }
                        s->pending_events = s->pending_bytes = 0;
                        s->first_pending = 0;
                        s->old_pending = false;
                        *ret_left = false;
                        return delivered;
                }
                uint64_t before = s->counts.delivered;
                r = batch_send(s, deadline);
                if (r < 0) {
                        backoff_start(s);
                        return delivered > 0 ? delivered : r;
                }
                delivered += (int)(s->counts.delivered - before);
                if (s->cur.seg >= s->first_new_seg)
                        s->old_pending = false;
        }
}

int cwlogs_pump(struct cwlogs *s, int64_t deadline_ms)
{
        bool left;

        if (!s)
                return -EINVAL;
        return ship(s, deadline_ms, false, &left);
}

static void sleep_until(int64_t t)
{
        int64_t d = t - aws_now_ms();

        if (d <= 0)
                return;
        struct timespec ts = { .tv_sec = d / 1000, .tv_nsec = (d % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int cwlogs_flush(struct cwlogs *s, int64_t deadline_ms)
{
        bool left = true;

        if (!s)
                return -EINVAL;
        /* Failures start a backoff; wait them out until the deadline. */
        while (aws_now_ms() < deadline_ms) {
                (void)ship(s, deadline_ms, true, &left);
                if (!left)
                        return 0;
                sleep_until(s->next_try < deadline_ms ? s->next_try : deadline_ms);
        }
        return left ? -ETIMEDOUT : 0;
}

/* ---- report -------------------------------------------------------------------- */

void cwlogs_stats(const struct cwlogs *s, struct cwlogs_report *ret)
{
        *ret = s->counts;
        ret->pending = 0;
        ret->total_delivered = s->total_delivered;
        ret->total_resent = s->total_resent;
        ret->group = xstrdup(s->group);
        ret->stream = xstrdup(s->stream);
        ret->last_error = s->last_error ? xstrdup(s->last_error) : NULL;
}

const char *cwlogs_last_error(const struct cwlogs *s)
{
        return s ? s->last_error : NULL;
}

void cwlogs_set_notice(struct cwlogs *s, void (*fn)(void *userdata, const char *msg), void *userdata)
{
        s->notice = fn;
        s->notice_data = userdata;
}

void cwlogs_report_done(struct cwlogs_report *r)
{
        if (!r)
                return;
        free(r->group);
        free(r->stream);
        free(r->last_error);
        *r = (struct cwlogs_report){ 0 };
}

char *cwlogs_report_summary(const struct cwlogs_report *r)
{
        struct strbuf b = STRBUF_INIT;
        uint64_t missing = r->pending + r->rejected + r->lost;

        sb_printf(&b, "CloudWatch Logs: %" PRIu64 " event%s delivered to log group %s, stream %s", r->delivered,
                  r->delivered == 1 ? "" : "s", r->group ? r->group : "?", r->stream ? r->stream : "?");
        if (r->resumed)
                sb_printf(&b, " (%" PRIu64 " left by an earlier run)", r->resumed);
        if (r->resent)
                sb_printf(&b, "; %" PRIu64 " sent again after an interrupted send (possible duplicates)",
                          r->resent);
        if (missing) {
                sb_printf(&b, "; %" PRIu64 " NOT delivered (", missing);
                const char *sep = "";
                if (r->pending) {
                        sb_printf(&b, "%" PRIu64 " pending in the spool", r->pending);
                        sep = ", ";
                }
                if (r->rejected) {
                        sb_printf(&b, "%s%" PRIu64 " rejected by the service", sep, r->rejected);
                        sep = ", ";
                }
                if (r->lost)
                        sb_printf(&b, "%s%" PRIu64 " lost in the spool", sep, r->lost);
                sb_putc(&b, ')');
        }
        if (r->discarded)
                sb_printf(&b, "; %" PRIu64 " undelivered events of another target discarded", r->discarded);
        if (missing && r->last_error)
                sb_printf(&b, ": %s", r->last_error);
        return sb_take(&b);
}

/* ---- open and close ------------------------------------------------------------- */

static bool group_name_ok(const char *g)
{
        size_t n = strlen(g);

        if (n < 1 || n > MAX_NAME)
                return false;
        for (const char *p = g; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr("._-/#", *p)))
                        return false;
        return true;
}

static bool stream_name_ok(const char *st)
{
        size_t n = strlen(st);

        return n >= 1 && n <= MAX_NAME && !strpbrk(st, ":*") && utf8_valid(st, n);
}

static struct cwlogs *ship_free(struct cwlogs *s)
{
        if (!s)
                return NULL;
        reader_close(s);
        if (s->wfd >= 0)
                close(s->wfd);
        if (s->lockfd >= 0)
                close(s->lockfd);
        if (s->dirfd >= 0)
                close(s->dirfd);
        aws_http_free(s->http);
        aws_cred_provider_free(s->creds);
        free(s->group);
        free(s->stream);
        free(s->region);
        free(s->dir);
        free(s->endpoint);
        free(s->segs);
        free(s->rbuf);
        free(s->ev);
        sb_free(&s->wbuf);
        sb_free(&s->clean);
        sb_free(&s->text);
        sb_free(&s->body);
        free(s->last_error);
        free(s);
        return NULL;
}
DEFINE_CLEANUP_FUNC(struct cwlogs, ship_free)

/* Counts the records from the cursor on (no segment is active yet, or
 * the active one is read up to what was written). */
static int count_from_cursor(struct cwlogs *s, uint64_t *ret)
{
        struct seg_pos pos = s->cur;
        struct rec rec;
        uint64_t n = 0;
        int r;

        while ((r = spool_peek(s, &pos, &rec)) > 0) {
                n++;
                pos = rec.next;
        }
        if (r < 0)
                return r;
        *ret = n;
        return 0;
}

/* Takes over what an earlier process left in the folder. */
static int spool_resume(struct cwlogs *s, char **reterr_msg)
{
        _cleanup_(cursor_file_done) struct cursor_file c = { 0 };
        int r;

        (void)unlinkat(s->dirfd, "cursor.tmp", 0);
        r = cursor_read(s->dirfd, &c);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "cannot read %s/cursor: %s", s->dir, strerror(-r));
        r = segs_scan(s);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "cannot list the CloudWatch Logs spool %s: %s", s->dir, strerror(-r));

        if (c.valid) {
                s->cur = c.pos;
                s->inflight = c.inflight;
                s->total_delivered = c.delivered;
                s->total_requests = c.requests;
                s->total_resent = c.resent;
        } else {
                /* No cursor (or a broken one): whatever is spooled may
                 * have been sent already. */
                s->cur = (struct seg_pos){ 0, 0 };
                if (c.present && s->n_segs)
                        s->inflight = (struct seg_pos){ s->segs[s->n_segs - 1] + 1, 0 };
        }
        s->resend_end = s->inflight;

        if (c.valid && (strcmp(c.group, s->group) || strcmp(c.stream, s->stream) || strcmp(c.region, s->region))) {
                uint64_t left = 0;
                r = count_from_cursor(s, &left);
                if (r < 0)
                        return errmsg_set(reterr_msg, r, "%s", s->last_error ? s->last_error : strerror(-r));
                if (left && !(s->flags & CWLOGS_DISCARD_OTHER))
                        return errmsg_set(reterr_msg, -EEXIST, "the CloudWatch Logs spool %s holds %" PRIu64
                                    " undelivered events for log group %s, stream %s in %s; use another spool "
                                    "folder, or remove it to drop them", s->dir, left, c.group, c.stream,
                                    c.region);
                s->counts.discarded = left;
                reader_close(s);
                for (size_t i = 0; i < s->n_segs; i++) {
                        char name[32];
                        seg_name(name, s->segs[i]);
                        (void)unlinkat(s->dirfd, name, 0);
                }
                s->n_segs = 0;
                s->cur = s->inflight = s->resend_end = (struct seg_pos){ 0, 0 };
                s->total_delivered = s->total_requests = s->total_resent = 0;
        }

        /* Segments before the cursor were delivered. */
        spool_prune(s, false);

        uint64_t next = s->n_segs ? s->segs[s->n_segs - 1] + 1 : 1;
        if (s->cur.seg >= next)
                next = s->cur.seg + 1;
        if (s->inflight.seg >= next)
                next = s->inflight.seg + 1;
        s->first_new_seg = next;

        struct seg_pos pos = s->cur;
        struct rec rec;
        r = spool_peek(s, &pos, &rec);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "%s", s->last_error ? s->last_error : strerror(-r));
        s->old_pending = r > 0;

        r = segment_new(s, next);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "cannot create a CloudWatch Logs spool segment in %s: %s", s->dir,
                            strerror(-r));
        r = cursor_write(s);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "%s", s->last_error);
        if (s->old_pending)
                say(s, "CloudWatch Logs: resuming the spool %s (undelivered events of an earlier run)", s->dir);
        return 0;
}

int cwlogs_open(const char *group, const char *stream, const char *region, const char *spool_dir, unsigned flags,
                struct cwlogs **ret, char **reterr_msg)
{
        _cleanup_(ship_freep) struct cwlogs *s = NULL;
        char *err = NULL;
        int r;

        if (!group || !group_name_ok(group))
                return errmsg_set(reterr_msg, -EINVAL, "bad CloudWatch Logs log group name '%s': 1 to %d characters "
                            "of a-z, A-Z, 0-9, '.', '_', '-', '/' and '#'", group ? group : "", MAX_NAME);
        if (!stream || !stream_name_ok(stream))
                return errmsg_set(reterr_msg, -EINVAL, "bad CloudWatch Logs log stream name '%s': 1 to %d characters, "
                            "neither ':' nor '*'", stream ? stream : "", MAX_NAME);
        if (!spool_dir || !*spool_dir)
                return errmsg_set(reterr_msg, -EINVAL, "no CloudWatch Logs spool folder");

        s = xcalloc(1, sizeof *s);
        s->dirfd = s->lockfd = s->wfd = s->rfd = -1;
        s->flags = flags;
        s->group = xstrdup(group);
        s->stream = xstrdup(stream);
        s->dir = xstrdup(spool_dir);
        s->backoff_base = env_long("OPENTOE_CWLOGS_BACKOFF_MS", 1000, 1, 3600000);
        s->backoff_cap = env_long("OPENTOE_CWLOGS_BACKOFF_CAP_MS", 30000, 1, 3600000);
        if (s->backoff_cap < s->backoff_base)
                s->backoff_cap = s->backoff_base;
        s->flush_ms = env_long("OPENTOE_CWLOGS_FLUSH_MS", 1000, 0, 3600000);
        s->segment_bytes = (uint64_t)env_long("OPENTOE_CWLOGS_SEGMENT_BYTES", SEG_ROTATE_BYTES, 4096, 1L << 30);

        s->creds = aws_cred_provider_new();
        if (region && *region) {
                s->region = xstrdup(region);
        } else {
                const char *reg;
                r = aws_region_resolve(s->creds, aws_now_ms() + 30000, &reg, NULL, &err);
                if (r < 0) {
                        errmsg_set(reterr_msg, r, "no region for CloudWatch Logs (use --cw-log-region): %s",
                             err ? err : strerror(-r));
                        free(err);
                        return r;
                }
                s->region = xstrdup(reg);
        }
        r = aws_endpoint_resolve("logs", s->region, NULL, &s->endpoint, &err);
        if (r < 0) {
                errmsg_set(reterr_msg, r, "CloudWatch Logs endpoint: %s", err ? err : strerror(-r));
                free(err);
                return r;
        }
        s->http = aws_http_new(&err);
        if (!s->http) {
                errmsg_set(reterr_msg, -ENOSYS, "%s", err ? err : "cannot start the HTTP client");
                free(err);
                return -ENOSYS;
        }

        r = mkdir_parents(spool_dir, 0700);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "cannot create the CloudWatch Logs spool %s: %s", spool_dir,
                            strerror(-r));
        s->dirfd = open(spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->dirfd < 0)
                return errmsg_set(reterr_msg, -errno, "cannot open the CloudWatch Logs spool %s: %s", spool_dir,
                            strerror(errno));
        s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (s->lockfd < 0)
                return errmsg_set(reterr_msg, -errno, "cannot open %s/lock: %s", spool_dir, strerror(errno));
        if (flock(s->lockfd, LOCK_EX | LOCK_NB) < 0) {
                if (errno == EWOULDBLOCK)
                        return errmsg_set(reterr_msg, -EBUSY, "the CloudWatch Logs spool %s is in use by another "
                                    "process", spool_dir);
                return errmsg_set(reterr_msg, -errno, "cannot lock %s/lock: %s", spool_dir, strerror(errno));
        }
        r = spool_resume(s, reterr_msg);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int cwlogs_close(struct cwlogs *s, int64_t deadline_ms, struct cwlogs_report *ret_report)
{
        int r;

        if (!s) {
                if (ret_report)
                        *ret_report = (struct cwlogs_report){ 0 };
                return 0;
        }
        r = cwlogs_flush(s, deadline_ms);
        int rs = spool_sync(s);
        if (rs < 0)
                set_error(s, rs, "cannot sync the CloudWatch Logs spool %s: %s", s->dir, strerror(-rs));
        uint64_t pending = 0;
        if (r < 0) {
                int rc = count_from_cursor(s, &pending);
                if (rc < 0)
                        pending = s->pending_events;
        } else {
                spool_prune(s, true);
        }
        if (ret_report) {
                cwlogs_stats(s, ret_report);
                ret_report->pending = pending;
        }
        if (pending)
                r = -ETIMEDOUT;
        else if (s->counts.rejected || s->counts.lost)
                r = -EBADMSG;
        else
                r = 0;
        ship_free(s);
        return r;
}
