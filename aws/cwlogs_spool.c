/* cwlogs_spool.c: the CloudWatch Logs spool on disk: segment files of
 * framed, CRC-32C checksummed records, the atomically replaced cursor,
 * appending (with its syncing and rotation), reading records back,
 * marking damage, and pruning what was delivered.  The formats are in
 * cwlogs.h. */
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
#include "utf8.h"

bool cwl_pos_lt(struct seg_pos a, struct seg_pos b)
{
        return a.seg < b.seg || (a.seg == b.seg && a.off < b.off);
}

bool cwl_pos_eq(struct seg_pos a, struct seg_pos b)
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


/* ---- segment list ------------------------------------------------------------- */

void cwl_seg_name(char buf[32], uint64_t seg)
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

int cwl_segs_scan(struct cwlogs *s)
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

int cwl_cursor_write(struct cwlogs *s)
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
                return cwl_set_error(s, r, "cannot write the CloudWatch Logs spool cursor %s/cursor: %s", s->dir,
                                 strerror(-r));
        return 0;
}

void cwl_cursor_file_done(struct cursor_file *c)
{
        free_many(c->group, c->stream, c->region);
}

int cwl_cursor_read(int dirfd, struct cursor_file *ret)
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

int cwl_spool_write(struct cwlogs *s)
{
        if (s->wbuf.len == 0)
                return 0;
        int r = s->wfd < 0 ? -EBADF : pwrite_all(s->wfd, s->wbuf.s, s->wbuf.len, (off_t)s->wend);
        if (r < 0) {
                /* Nothing half-written may stay where the next record goes. */
                if (s->wfd >= 0)
                        (void)ftruncate(s->wfd, (off_t)s->wend);
                if (s->rseg == s->wseg)
                        s->rlen = 0;
                s->counts.lost += s->wparts;
        } else {
                s->wend += s->wbuf.len;
                s->counts.appended += s->wparts;
                s->counts.split += s->wsplit;
                s->pending_events += s->wparts;
                s->pending_bytes += s->wbytes;
        }
        s->wbuf.len = 0;
        s->wparts = s->wsplit = s->wbytes = 0;
        return r < 0 ? cwl_set_error(s, r, "cannot write to the CloudWatch Logs spool %s: %s", s->dir, strerror(-r))
                     : 0;
}

int cwl_spool_sync(struct cwlogs *s)
{
        int w = cwl_spool_write(s);
        if (w < 0)
                return w;
        if (s->wfd < 0 || s->wsynced >= s->wend)
                return 0;
        if (fdatasync(s->wfd) < 0)
                return -errno;
        s->wsynced = s->wend;
        s->unsynced_since = 0;
        return 0;
}

/* Starts segment number seg as the active one. */
int cwl_segment_new(struct cwlogs *s, uint64_t seg)
{
        char name[32];

        int w = cwl_spool_write(s);
        if (w < 0)
                return w;
        cwl_seg_name(name, seg);
        int fd = openat(s->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        int r = pwrite_all(fd, SEG_MAGIC, SEG_HDR, 0);
        if (r < 0) {
                close(fd);
                unlinkat(s->dirfd, name, 0);
                return r;
        }
        (void)fsync(s->dirfd);
        if (s->wfd >= 0) {
                (void)cwl_spool_sync(s);
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
                timestamp_ms = cwl_wall_ms();
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
                /* U+FFFD for each bad byte, which is what the service
                 * would count (spec E.2). */
                s->clean.len = 0;
                sb_append(&s->clean, "", 0);
                utf8_sanitize(&s->clean, msg, n);
                msg = s->clean.s;
                n = s->clean.len;
        }
        if (s->wend + s->wbuf.len >= s->segment_bytes) {
                r = cwl_segment_new(s, s->wseg + 1);
                if (r < 0) {
                        s->counts.lost++;
                        return cwl_set_error(s, r, "cannot start a CloudWatch Logs spool segment in %s: %s", s->dir,
                                         strerror(-r));
                }
        }

        /* Every part of the line in one write, with the lines before it
         * that are still buffered. */
        uint64_t parts = 0;
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
        s->wparts += parts;
        s->wsplit += parts > 1;
        s->wbytes += n + CWLOGS_EVENT_OVERHEAD * parts;
        if (s->wbuf.len >= WRITE_BYTES && (r = cwl_spool_write(s)) < 0)
                return r;

        int64_t now = aws_now_ms();
        if (!s->first_pending)
                s->first_pending = now;
        if (!s->unsynced_since)
                s->unsynced_since = now;
        if (s->wend + s->wbuf.len - s->wsynced >= SYNC_BYTES || now - s->unsynced_since >= SYNC_MS) {
                r = cwl_spool_sync(s);
                if (r < 0)
                        return cwl_set_error(s, r, "cannot sync the CloudWatch Logs spool %s: %s", s->dir,
                                         strerror(-r));
        }
        return 0;
}

/* ---- the reader ----------------------------------------------------------------- */

void cwl_reader_close(struct cwlogs *s)
{
        s->rfd = safe_close(s->rfd);
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
        cwl_reader_close(s);
        cwl_seg_name(name, seg);
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

        if (cwl_pos_lt(pos, s->corrupt_mark))
                return;
        s->corrupt_mark = after;
        s->counts.lost++;
        cwl_set_error(s, -EBADMSG, "CloudWatch Logs spool %s: %" PRIu64 " bytes of segment %016" PRIx64
                  " from offset %" PRIu64 " cannot be read (%s) and are skipped", s->dir, end - pos.off, pos.seg,
                  pos.off, why);
}

/* Reads the record at *pos, first moving *pos past gone segments, the
 * ends of finished ones and data that cannot be read.  1: *ret holds the
 * record (its message valid until the next read); 0: nothing more is
 * spooled; -errno. */
int cwl_spool_peek(struct cwlogs *s, struct seg_pos *pos, struct rec *ret)
{
        /* What is read is what was written: the buffered records first. */
        int w = cwl_spool_write(s);
        if (w < 0)
                return w;
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
                        cwl_reader_close(s);
                        segs_remove(s, seg);
                        continue;
                }
                if (r == -EBADMSG && !active) {
                        spool_corrupt(s, (struct seg_pos){ seg, 0 }, s->rsize, "no segment header");
                        *pos = (struct seg_pos){ seg + 1, 0 };
                        continue;
                }
                if (r < 0)
                        return cwl_set_error(s, r, "cannot read the CloudWatch Logs spool %s: %s", s->dir,
                                         strerror(-r));
                if (!active && s->rsize_stale) {
                        /* Opened while it was the active one: it has grown since. */
                        struct stat st;
                        if (fstat(s->rfd, &st) < 0)
                                return cwl_set_error(s, -errno, "cannot read the CloudWatch Logs spool %s: %s", s->dir,
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
void cwl_spool_prune(struct cwlogs *s, bool all_done)
{
        while (s->n_segs > 0) {
                uint64_t seg = s->segs[0];
                bool consumed = seg < s->cur.seg ||
                                (seg == s->cur.seg && seg == s->wseg && all_done && s->cur.off >= s->wend);
                if (!consumed || (seg == s->wseg && !all_done))
                        break;
                char name[32];
                cwl_seg_name(name, seg);
                if (s->rseg == seg)
                        cwl_reader_close(s);
                if (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT)
                        break;
                segs_remove(s, seg);
        }
}

