/* cwlogs.c: owns shipping console.log to CloudWatch Logs as a whole:
 * opening (resuming a spool left by an earlier process) and closing the
 * shipper, the pump that decides when a batch is due, flushing, and the
 * delivery report.  The spool on disk is cwlogs_spool.c, building a batch
 * cwlogs_batch.c, the service calls and their backoff cwlogs_api.c, the
 * notices and the last error cwlogs_notice.c.  The
 * design and the file formats are described in cwlogs.h. */
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
        /* The buffered records count from here (due() looks at them). */
        r = cwl_spool_write(s);
        if (r < 0)
                return r;
        for (;;) {
                int64_t now = aws_now_ms();
                if (now >= deadline || now < s->next_try)
                        return delivered;
                if (!all && !due(s, now))
                        return delivered;
                r = cwl_batch_build(s);
                if (r < 0) {
                        cwl_backoff_start(s);
                        return r;
                }
                if (r == 0) {
                        /* Drained: the cursor may still move past finished segments. */
                        if (!cwl_pos_eq(s->cur, s->batch_end)) {
                                s->cur = s->batch_end;
                                (void)cwl_cursor_write(s);
                                cwl_spool_prune(s, false);
                        }
                        s->pending_events = s->pending_bytes = 0;
                        s->first_pending = 0;
                        s->old_pending = false;
                        *ret_left = false;
                        return delivered;
                }
                uint64_t before = s->counts.delivered;
                r = cwl_batch_send(s, deadline);
                if (r < 0) {
                        cwl_backoff_start(s);
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

int cwlogs_write_out(struct cwlogs *s)
{
        return s ? cwl_spool_write(s) : -EINVAL;
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
        free_many(r->group, r->stream, r->last_error);
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
        cwl_reader_close(s);
        (void)cwl_spool_write(s);
        s->wfd = safe_close(s->wfd);
        s->lockfd = safe_close(s->lockfd);
        s->dirfd = safe_close(s->dirfd);
        aws_http_free(s->http);
        aws_cred_provider_free(s->creds);
        free_many(s->group, s->stream, s->region, s->dir, s->endpoint, s->segs, s->rbuf, s->ev);
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

        while ((r = cwl_spool_peek(s, &pos, &rec)) > 0) {
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
        _cleanup_(cwl_cursor_file_done) struct cursor_file c = { 0 };
        int r;

        (void)unlinkat(s->dirfd, "cursor.tmp", 0);
        r = cwl_cursor_read(s->dirfd, &c);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "cannot read %s/cursor: %s", s->dir, strerror(-r));
        r = cwl_segs_scan(s);
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
                cwl_reader_close(s);
                for (size_t i = 0; i < s->n_segs; i++) {
                        char name[32];
                        cwl_seg_name(name, s->segs[i]);
                        (void)unlinkat(s->dirfd, name, 0);
                }
                s->n_segs = 0;
                s->cur = s->inflight = s->resend_end = (struct seg_pos){ 0, 0 };
                s->total_delivered = s->total_requests = s->total_resent = 0;
        }

        /* Segments before the cursor were delivered. */
        cwl_spool_prune(s, false);

        uint64_t next = s->n_segs ? s->segs[s->n_segs - 1] + 1 : 1;
        if (s->cur.seg >= next)
                next = s->cur.seg + 1;
        if (s->inflight.seg >= next)
                next = s->inflight.seg + 1;
        s->first_new_seg = next;

        struct seg_pos pos = s->cur;
        struct rec rec;
        r = cwl_spool_peek(s, &pos, &rec);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "%s", s->last_error ? s->last_error : strerror(-r));
        s->old_pending = r > 0;

        r = cwl_segment_new(s, next);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "cannot create a CloudWatch Logs spool segment in %s: %s", s->dir,
                                  strerror(-r));
        r = cwl_cursor_write(s);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "%s", s->last_error);
        if (s->old_pending)
                cwl_say(s, "CloudWatch Logs: resuming the spool %s (undelivered events of an earlier run)", s->dir);
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
        int rs = cwl_spool_sync(s);
        if (rs < 0)
                cwl_set_error(s, rs, "cannot sync the CloudWatch Logs spool %s: %s", s->dir, strerror(-rs));
        uint64_t pending = 0;
        if (r < 0) {
                int rc = count_from_cursor(s, &pending);
                if (rc < 0)
                        pending = s->pending_events;
        } else {
                cwl_spool_prune(s, true);
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

