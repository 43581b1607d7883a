/* web_download.c: the WebDownload action.  This file owns what becomes of
 * each entry's http or https URL: it is fetched through the one HTTP
 * transport (unsigned, which owns libcurl, redirects, the Content-Length
 * rules and the OPENTOE_HTTP_* transfer settings), on the runner's event
 * loop (a step is a job with start and cancel that walks its entries;
 * each entry is a fetch of the transport's request loop,
 * aws_http_fetch_start() in aws/http_async.h, which runs its attempts
 * and the pauses between them as timers, with this file's retry policy:
 * which failures are worth another attempt), the body is streamed
 * into a temporary file beside the destination (".<name>.opentoe-XXXXXX")
 * while hashing it, transient failures are retried with exponential
 * backoff inside one step attempt, the checksum is verified, and only
 * then (after fsync) is the file renamed into place.  How the body is
 * written without filling the disk, and the temporary file itself, are
 * web_download_room.c's.  Nothing of a failed download is left
 * behind, and no more of the body than one WD_BUFFER_SIZE buffer is ever
 * held in memory.
 *
 * Rules, per entry (inputs are a list; every entry is checked before any
 * is downloaded, then entries run in order and the first failure ends the
 * step, keeping what earlier entries downloaded):
 *   - source must be an http:// or https:// URL; redirects are followed
 *     (at most OPENTOE_HTTP_MAX_REDIRS of them) and only to http or https.
 *   - Only HTTP status 200 is success.  Connection errors, timeouts, 408,
 *     429 and 5xx are retried, up to WD_ATTEMPTS attempts in all, with
 *     exponential backoff and jitter; anything else (404, 403, a refused
 *     redirect, a certificate error, a checksum mismatch) is not.
 *   - checksum and algorithm go together: giving only one of them fails
 *     the entry before anything is downloaded, because a verification the
 *     author asked for must not be skipped silently (an empty checksum
 *     chained from an earlier step would otherwise disable it).
 *   - A destination ending in '/' is a folder; the file is named after the
 *     last segment of the URL's path.
 *   - The step's output is one `destination`: every entry's file, one a
 *     line (AWSTOE's newline-delimited string).
 *   - overwrite false: an existing destination fails the entry.  overwrite
 *     true with checksum and algorithm: an existing file whose hash already
 *     matches is kept and no request is made.  A replaced file keeps its
 *     permissions; a new one gets 0666 less the umask, as with curl -o.
 *   - The time the runner leaves the step (action_time_left_ms()) bounds
 *     every transfer (libcurl's timeout, so a slow body ends in its words
 *     when the runner cancels the step for its deadline) and every backoff
 *     pause.  An interrupt cancels the transfer or the pause at once and
 *     fails the entry ("the run was interrupted").
 *   - The disk is never filled, and nothing past a Content-Length is
 *     written: the rules are web_download_room.c's.
 *
 * Tunables, read from the environment at each run (whole numbers; a value
 * that is missing or not a number in range gives the default).  The
 * transport's OPENTOE_HTTP_CONNECT_TIMEOUT, OPENTOE_HTTP_LOW_SPEED_TIME,
 * OPENTOE_HTTP_LOW_SPEED_LIMIT and OPENTOE_HTTP_MAX_REDIRS (aws/http.h),
 * and this module's:
 *   OPENTOE_HTTP_RETRY_DELAY_MS     first backoff pause in ms, 1000; it
 *                                   doubles after each attempt (capped at
 *                                   WD_BACKOFF_CAP_MS), and a random part
 *                                   of up to half of it is taken off
 *   OPENTOE_HTTP_DISK_RESERVE_BYTES the reserve (web_download_room.c),
 *                                   0 to INT64_MAX; anything else is
 *                                   ignored with a warning on the console.
 *
 * The proxy variables libcurl knows (http_proxy, https_proxy, no_proxy)
 * apply as they do for curl. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "hexdigit.h"
#include "hash.h"
#include "http.h"
#include "http_async.h"
#include "module.h"
#include "mkdirs.h"
#include "sdevent_dl.h"
#include "strbuf.h"
#include "web_download_room.h"
#include "tunables.h"

/* Attempts per download, as AWSTOE documents. */
#define WD_ATTEMPTS 5
#define WD_BACKOFF_CAP_MS 30000
struct wd_tunables {
        long retry_delay_ms;
        bool reserve_set;               /* WD_RESERVE_ENV holds a valid value */
        uint64_t reserve;               /* that value */
};

/* One entry of the inputs, checked. */
struct wd_entry {
        size_t no;                      /* 1-based, as messages count */
        const char *source;
        char *shown;                    /* source with any password hidden */
        char *dest;                     /* the file this entry writes */
        bool overwrite;
        bool insecure;                  /* ignoreCertificateErrors */
        bool verify;                    /* checksum and algorithm given */
        enum hash_algo algo;
        char want[2 * HASH_MAX_LEN + 1]; /* expected digest, lower-case hex */
};

enum wd_outcome {
        WD_DONE,
        WD_RETRY,
        WD_FAIL,
        WD_TIMEOUT,
        WD_REFUSED,                     /* the transport would not send the request */
        WD_INTERRUPTED,                 /* the run is being stopped */
};

static const char *const algo_names[_HASH_ALGO_MAX] = {
        [HASH_MD5] = "MD5",
        [HASH_SHA1] = "SHA1",
        [HASH_SHA256] = "SHA256",
        [HASH_SHA512] = "SHA512",
};

static void tunables_read(const struct action_ctx *ctx, struct wd_tunables *t)
{
        int r = env_u64(WD_RESERVE_ENV, 0, INT64_MAX, &t->reserve);

        t->reserve_set = r > 0;
        if (r < 0)
                action_notice(ctx, STREAM_STDERR, "WebDownload: warning: ignoring %s=%.64s (expected a whole "
                              "number of bytes); the reserve of free space is the default, the larger of "
                              "64 MiB and 1%% of the file system", WD_RESERVE_ENV, getenv(WD_RESERVE_ENV));
        t->retry_delay_ms = env_long("OPENTOE_HTTP_RETRY_DELAY_MS", 1000, 0, WD_BACKOFF_CAP_MS);
}

static void entry_free(struct wd_entry *e)
{
        free(e->shown);
        free(e->dest);
}


/* ---- URLs ---------------------------------------------------------------- */

/* Length of the scheme and "://" when the URL is http or https, else 0. */
static size_t http_scheme_len(const char *url)
{
        if (strncasecmp(url, "http://", 7) == 0)
                return 7;
        if (strncasecmp(url, "https://", 8) == 0)
                return 8;
        return 0;
}

/* The URL with the password of any user:password@ part replaced by
 * "***", so that messages and logs never carry it. */
static char *url_redact(const char *url)
{
        const char *auth = strstr(url, "://");
        const char *end, *at, *colon;
        struct strbuf b = STRBUF_INIT;

        if (!auth)
                return xstrdup(url);
        auth += 3;
        end = auth + strcspn(auth, "/?#");
        at = NULL;
        for (const char *c = auth; c < end; c++)
                if (*c == '@')
                        at = c;
        if (!at)
                return xstrdup(url);
        colon = memchr(auth, ':', (size_t)(at - auth));
        if (!colon)
                return xstrdup(url);
        sb_append(&b, url, (size_t)(colon + 1 - url));
        sb_puts(&b, "***");
        sb_puts(&b, at);
        return sb_take(&b);
}

/* The last segment of the URL's path, percent-decoded, as a file name;
 * NULL when the path has none that is usable (empty, ends in '/', ".",
 * "..", or decodes to something with '/' or NUL in it). */
static char *url_file_name(const char *url)
{
        const char *p = strstr(url, "://");
        const char *path, *path_end, *seg;
        char *name;
        size_t k = 0;

        if (!p)
                return NULL;
        p += 3;
        path = p + strcspn(p, "/?#");
        if (*path != '/')
                return NULL;
        path_end = path + strcspn(path, "?#");
        seg = path_end;
        while (seg > path && seg[-1] != '/')
                seg--;
        if (seg == path_end)
                return NULL;
        name = xmalloc((size_t)(path_end - seg) + 1);
        for (const char *c = seg; c < path_end; c++) {
                if (*c == '%' && path_end - c >= 3 && hex_value(c[1]) >= 0 && hex_value(c[2]) >= 0) {
                        name[k++] = (char)(hex_value(c[1]) * 16 + hex_value(c[2]));
                        c += 2;
                } else {
                        name[k++] = *c;
                }
        }
        name[k] = '\0';
        if (k == 0 || strlen(name) != k || strchr(name, '/') || strcmp(name, ".") == 0 ||
            strcmp(name, "..") == 0) {
                free(name);
                return NULL;
        }
        return name;
}

/* ---- checking the inputs -------------------------------------------------- */

static int parse_algo(const char *s, enum hash_algo *ret)
{
        for (int i = 0; i < _HASH_ALGO_MAX; i++)
                if (strcasecmp(s, algo_names[i]) == 0) {
                        *ret = (enum hash_algo)i;
                        return 0;
                }
        return -EINVAL;
}

/* Fills *e from inputs[i]; on a document error returns -EINVAL with the
 * message appended to *why. */
static int entry_parse(const json_t *o, size_t i, struct wd_entry *e, struct strbuf *why)
{
        const char *src, *dst, *sum, *algo;
        size_t len, slen;
        char *name;

        *e = (struct wd_entry){ .no = i + 1 };
        if (!json_is_object(o)) {
                sb_printf(why, "WebDownload entry %zu: not a map with source and destination", e->no);
                return -EINVAL;
        }
        if (action_input_string(o, "source", &src) < 0 || action_input_string(o, "destination", &dst) < 0 ||
            action_input_string(o, "checksum", &sum) < 0 || action_input_string(o, "algorithm", &algo) < 0) {
                sb_printf(why, "WebDownload entry %zu: source, destination, checksum and "
                               "algorithm must be strings", e->no);
                return -EINVAL;
        }
        e->source = src;
        e->shown = url_redact(src);
        if (action_input_bool(o, "overwrite", true, &e->overwrite) < 0 ||
            action_input_bool(o, "ignoreCertificateErrors", false, &e->insecure) < 0) {
                sb_printf(why, "WebDownload entry %zu (%s): overwrite and ignoreCertificateErrors "
                               "must be true or false", e->no, e->shown);
                return -EINVAL;
        }
        if (!*src) {
                sb_printf(why, "WebDownload entry %zu: source is empty", e->no);
                return -EINVAL;
        }
        if (!http_scheme_len(src)) {
                sb_printf(why, "WebDownload entry %zu (%s): only http:// and https:// URLs can be "
                               "downloaded", e->no, e->shown);
                return -EINVAL;
        }
        if (!*dst) {
                sb_printf(why, "WebDownload entry %zu (%s): destination is empty", e->no, e->shown);
                return -EINVAL;
        }

        if (*sum && !*algo) {
                sb_printf(why, "WebDownload entry %zu (%s): checksum is given without algorithm "
                               "(MD5, SHA1, SHA256 or SHA512); both are needed to verify the file",
                          e->no, e->shown);
                return -EINVAL;
        }
        if (*algo && !*sum) {
                sb_printf(why, "WebDownload entry %zu (%s): algorithm %s is given but checksum is "
                               "empty; both are needed to verify the file",
                          e->no, e->shown, algo);
                return -EINVAL;
        }
        if (*algo) {
                if (parse_algo(algo, &e->algo) < 0) {
                        sb_printf(why, "WebDownload entry %zu (%s): algorithm '%s' is not one of "
                                       "MD5, SHA1, SHA256, SHA512", e->no, e->shown, algo);
                        return -EINVAL;
                }
                while (*sum == ' ' || *sum == '\t' || *sum == '\n' || *sum == '\r')
                        sum++;
                slen = strlen(sum);
                while (slen > 0 && strchr(" \t\r\n", sum[slen - 1]))
                        slen--;
                len = 2 * hash_length(e->algo);
                for (size_t k = 0; k < slen; k++)
                        if (hex_value(sum[k]) < 0) {
                                sb_printf(why, "WebDownload entry %zu (%s): checksum '%.*s' is not "
                                               "hexadecimal", e->no, e->shown, (int)slen, sum);
                                return -EINVAL;
                        }
                if (slen != len) {
                        sb_printf(why, "WebDownload entry %zu (%s): checksum has %zu hex digits; "
                                       "%s needs %zu", e->no, e->shown, slen, algo_names[e->algo], len);
                        return -EINVAL;
                }
                for (size_t k = 0; k < slen; k++)
                        e->want[k] = (char)(sum[k] >= 'A' && sum[k] <= 'F' ? sum[k] - 'A' + 'a' : sum[k]);
                e->want[slen] = '\0';
                e->verify = true;
        }

        len = strlen(dst);
        if (dst[len - 1] == '/') {
                name = url_file_name(src);
                if (!name) {
                        sb_printf(why, "WebDownload entry %zu (%s): destination %s is a folder, but "
                                       "the URL's path has no file name to give the download; "
                                       "name the file in destination", e->no, e->shown, dst);
                        return -EINVAL;
                }
                e->dest = xasprintf("%s%s", dst, name);
                free(name);
        } else {
                e->dest = xstrdup(dst);
        }
        return 0;
}

/* ---- files ------------------------------------------------------------- */

/* Whether an existing destination already has the expected digest. */
static bool dest_matches(const struct wd_entry *e)
{
        unsigned char d[HASH_MAX_LEN];
        char hex[2 * HASH_MAX_LEN + 1];
        size_t n;

        if (hash_file(e->algo, e->dest, d, &n, NULL) < 0)
                return false;
        hash_hex(d, n, hex);
        return strcmp(hex, e->want) == 0;
}

/* ---- one transfer -------------------------------------------------------- */

static bool http_status_transient(long status)
{
        return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

/* ---- the step on the runner's loop --------------------------------------- */

/* After the step's deadline, how long libcurl's own timeout (set to the
 * time that was left when the attempt began, so due at about the same
 * moment) is given to end the transfer in its words, before the transfer
 * is cancelled. */
#define WD_DEADLINE_GRACE_MS 2000

/* One step: the entries in order, the attempts of the one in flight, the
 * pause between them, then done. */
struct action_job {
        const struct action_ctx *ctx;
        action_done_fn done;
        void *done_userdata;
        struct aws_http *http;          /* the transport, made for the first download of the step */
        struct wd_body x;               /* where the body goes, and its digest */
        struct wd_tunables tun;
        struct wd_entry *entries;
        size_t n, i;                    /* the entries, and the one in flight */
        mode_t mode;
        json_t *outputs;
        struct strbuf dests;            /* the files written or kept, one a line */
        bool any_dest;
        struct strbuf msg;              /* the step's failure */
        enum action_status status;
        int cancelled;                  /* enum action_cancel_reason, or -1 */
        sd_event_source *kick;          /* defer: goes on with the entries */
        sd_event_source *grace;         /* after the deadline: see WD_DEADLINE_GRACE_MS */
        struct aws_http_call *fetch;    /* the entry's transfer and its attempts, in flight */
        struct aws_http_fetch req;      /* its request and retry policy, kept until it ends */
        bool pausing;                   /* between two attempts */
        /* the entry in flight */
        struct wd_tmp tmp;
        char *dir;
        struct strbuf why;              /* the reason of the latest attempt */
        char *reasons[WD_ATTEMPTS];
        int failed;
};

/* The time the runner leaves the step: none once it cancelled it for its
 * deadline. */
static int64_t job_time_left(const struct action_job *j)
{
        if (j->cancelled == ACTION_CANCEL_DEADLINE)
                return 0;
        return action_time_left_ms(j->ctx);
}

/* The end of an attempt stopped by the runner, with its reason. */
static enum wd_outcome stopped(struct action_job *j)
{
        sb_free(&j->why);
        if (j->cancelled == ACTION_CANCEL_INTERRUPT) {
                sb_puts(&j->why, "the run was interrupted");
                return WD_INTERRUPTED;
        }
        sb_puts(&j->why, "the step's deadline passed");
        return WD_TIMEOUT;
}

static void kick(struct action_job *j)
{
        (void)sdev->source_set_enabled(j->kick, SD_EVENT_ONESHOT);
}

/* Before each attempt of the entry in flight (the transport's request
 * loop asks): the body goes into the temporary file from its start.  -1
 * to send it, bounded by the time the runner leaves the step; anything
 * else ends the entry, with a short reason in j->why. */
static int wd_begin(void *userdata, int attempt, long *timeout_ms)
{
        struct action_job *j = userdata;
        struct wd_body *x = &j->x;
        const struct wd_entry *e = &j->entries[j->i];
        int64_t left = job_time_left(j);
        int r;

        (void)attempt;
        j->pausing = false;
        sb_free(&j->why);
        if (j->cancelled >= 0 || left == 0)
                return stopped(j);
        *timeout_ms = left <= 0 ? 0 : left > LONG_MAX ? LONG_MAX : (long)left;
        if (ftruncate(j->tmp.fd, 0) < 0 || lseek(j->tmp.fd, 0, SEEK_SET) < 0) {
                sb_printf(&j->why, "cannot reset %s: %s", j->tmp.path, strerror(errno));
                return WD_FAIL;
        }
        wd_room_reset(&x->room, j->tmp.fd);
        x->hash_failed = false;
        hash_abort(x->hash);
        x->hash = NULL;
        if (e->verify) {
                _cleanup_free_ char *herr = NULL;

                r = hash_begin(e->algo, &x->hash, &herr);
                if (r < 0) {
                        sb_printf(&j->why, "cannot compute %s: %s", algo_names[e->algo], herr);
                        return WD_FAIL;
                }
        }
        return -1;
}

/* The end of an attempt's transfer: what it means for the entry, with a
 * short reason for anything but WD_DONE in j->why. */
static enum wd_outcome attempt_end(struct action_job *j, const struct aws_http_transfer_result *res)
{
        struct wd_body *x = &j->x;
        const struct wd_entry *e = &j->entries[j->i];
        unsigned char d[HASH_MAX_LEN];
        char got[2 * HASH_MAX_LEN + 1];
        _cleanup_free_ char *redirected = NULL;
        struct strbuf *why = &j->why;
        int64_t left;
        long status;
        size_t n;
        int r;

        if (!res->failed && x->room.buf_len > 0)
                (void)wd_room_flush(&x->room); /* a failure is in room.stop or room.write_err */
        status = res->status;
        /* A refused redirect is not counted, but is the effective URL. */
        if (res->effective_url && (res->redirects > 0 || !http_scheme_len(res->effective_url)))
                redirected = url_redact(res->effective_url);

        if (res->refused_status)
                status = res->refused_status;
        if (res->excess)
                x->room.stop = WD_ROOM_EXCESS;
        /* Not retried: a full disk or a lying server is not transient. */
        if (x->room.stop != WD_ROOM_NONE) {
                wd_room_stop_text(&x->room, why);
                return WD_FAIL;
        }
        if (x->room.write_err) {
                sb_printf(why, "cannot write %s: %s", j->tmp.path, strerror(x->room.write_err));
                return WD_FAIL;
        }
        if (x->hash_failed) {
                sb_printf(why, "computing %s failed", algo_names[e->algo]);
                return WD_FAIL;
        }
        if (res->failed && !res->refused_status) {
                left = job_time_left(j);
                bool timed_out = res->timed_out && left >= 0 && left <= 50;

                if (res->protocol_refused && redirected) {
                        sb_printf(why, "the redirect to %s was refused: only http and https are "
                                       "followed", redirected);
                        return WD_FAIL;
                }
                sb_puts(why, res->reason);
                if (redirected)
                        sb_printf(why, " (redirected to %s)", redirected);
                if (timed_out)
                        return WD_TIMEOUT;
                return res->transient ? WD_RETRY : WD_FAIL;
        }
        if (status != 200) {
                sb_printf(why, "HTTP status %ld", status);
                if (redirected)
                        sb_printf(why, " from %s", redirected);
                if (http_status_transient(status))
                        return WD_RETRY;
                sb_puts(why, "; only status 200 is success");
                return WD_FAIL;
        }
        if (res->declared >= 0 && res->bytes < (uint64_t)res->declared) {
                sb_printf(why, "the body ended after %" PRIu64 " bytes, but its Content-Length declared %" PRId64,
                          res->bytes, res->declared);
                return WD_FAIL;
        }
        if (x->hash) {
                r = hash_end(x->hash, d, &n);
                x->hash = NULL;
                if (r < 0) {
                        sb_printf(why, "computing %s failed", algo_names[e->algo]);
                        return WD_FAIL;
                }
                hash_hex(d, n, got);
                if (strcmp(got, e->want) != 0) {
                        sb_printf(why, "%s checksum mismatch: expected %s, got %s (%" PRIu64 " bytes)",
                                  algo_names[e->algo], e->want, got, res->bytes);
                        return WD_FAIL;
                }
        }
        return WD_DONE;
}

/* After each attempt: WebDownload's judgement (its retry policy: which
 * failures are worth another attempt), the reason of a retry kept. */
static int wd_end(void *userdata, struct aws_http_transfer_result *res, bool *retry)
{
        struct action_job *j = userdata;
        enum wd_outcome o = attempt_end(j, res);

        if (o == WD_RETRY && j->failed < WD_ATTEMPTS) {
                j->reasons[j->failed++] = xstrdup(sb_str(&j->why));
                *retry = true;
        }
        return (int)o;
}

/* Before the pause after a failed attempt. */
static void wd_pausing(void *userdata, int attempt, long delay_ms)
{
        struct action_job *j = userdata;
        const struct wd_entry *e = &j->entries[j->i];

        j->pausing = true;
        action_notice(j->ctx, STREAM_STDERR, "WebDownload entry %zu (%s): attempt %d of %d failed: %s; retrying in "
                      "%.1f s", e->no, e->shown, attempt, WD_ATTEMPTS, j->reasons[j->failed - 1],
                      (double)delay_ms / 1000.0);
}

/* The reasons of failed attempts, runs of the same one told once:
 * "attempts 1-4: HTTP status 503; attempt 5: ...". */
static char *history_text(char *const *reasons, int n)
{
        struct strbuf b = STRBUF_INIT;

        for (int i = 0, j; i < n; i = j) {
                for (j = i + 1; j < n && strcmp(reasons[j], reasons[i]) == 0; j++)
                        ;
                if (b.len)
                        sb_puts(&b, "; ");
                if (j - i == 1)
                        sb_printf(&b, "attempt %d: %s", i + 1, reasons[i]);
                else
                        sb_printf(&b, "attempts %d-%d: %s", i + 1, j, reasons[i]);
        }
        return sb_take(&b);
}

/* Forgets the entry in flight (its temporary file is removed unless it
 * was renamed into place). */
static void entry_clear(struct action_job *j)
{
        wd_tmp_remove(&j->tmp);
        free(j->dir);
        j->dir = NULL;
        for (int i = 0; i < j->failed; i++)
                free(j->reasons[i]);
        j->failed = 0;
        sb_free(&j->why);
        hash_abort(j->x.hash);
        j->x.hash = NULL;
}

/* An entry's file, for the step's output. */
static void dest_add(struct action_job *j, const char *path)
{
        if (j->any_dest)
                sb_putc(&j->dests, '\n');
        sb_puts(&j->dests, path);
        j->any_dest = true;
}

/* The end of the entry in flight, as outcome o: the rename into place,
 * or the step's failure in j->msg; then the step goes on (kick). */
static void entry_end(struct action_job *j, enum wd_outcome o)
{
        const struct wd_entry *e = &j->entries[j->i];
        struct strbuf *msg = &j->msg;
        _cleanup_free_ char *history = NULL;
        int r;

        hash_abort(j->x.hash);
        j->x.hash = NULL;
        history = history_text(j->reasons, j->failed);

        switch (o) {
        case WD_DONE:
                r = wd_tmp_commit(&j->tmp, e->dest, e->overwrite, j->mode);
                if (r == -EEXIST)
                        sb_printf(msg, "WebDownload entry %zu (%s): %s appeared during the download and "
                                       "overwrite is false; the download was discarded",
                                  e->no, e->shown, e->dest);
                else if (r < 0)
                        sb_printf(msg, "WebDownload entry %zu (%s): cannot put the file in place at %s: %s",
                                  e->no, e->shown, e->dest, strerror(-r));
                if (r < 0)
                        o = WD_FAIL;
                break;
        case WD_RETRY:
                sb_printf(msg, "WebDownload entry %zu (%s): failed after %d attempts (%s); nothing was "
                               "written to %s", e->no, e->shown, WD_ATTEMPTS, history, e->dest);
                o = WD_FAIL;
                break;
        case WD_TIMEOUT:
                sb_printf(msg, "WebDownload entry %zu (%s): the step timed out: %s", e->no, e->shown,
                          sb_str(&j->why));
                if (j->failed)
                        sb_printf(msg, " (%s)", history);
                sb_printf(msg, "; nothing was written to %s", e->dest);
                break;
        case WD_INTERRUPTED:
                sb_printf(msg, "WebDownload entry %zu (%s): %s; nothing was written to %s", e->no, e->shown,
                          sb_str(&j->why), e->dest);
                if (j->failed)
                        sb_printf(msg, "; earlier failures: %s", history);
                o = WD_FAIL;
                break;
        case WD_REFUSED:
                sb_printf(msg, "WebDownload entry %zu (%s): libcurl cannot be limited to http and https; "
                               "refusing to download", e->no, e->shown);
                o = WD_FAIL;
                break;
        case WD_FAIL:
                sb_printf(msg, "WebDownload entry %zu (%s): %s; not retried, and nothing was written to %s",
                          e->no, e->shown, sb_str(&j->why), e->dest);
                if (j->failed)
                        sb_printf(msg, "; earlier failures: %s", history);
                o = WD_FAIL;
                break;
        }
        entry_clear(j);
        if (o == WD_DONE) {
                dest_add(j, e->dest);
                j->i++;
        } else {
                j->status = o == WD_TIMEOUT ? ACTION_TIMED_OUT : ACTION_FAILED;
        }
        kick(j);
}

/* What a transfer the transport would not send means: libcurl cannot be
 * limited to http and https (-EPROTONOSUPPORT), or it refused the URL
 * (-EINVAL). */
static enum wd_outcome refused(struct action_job *j, int r, const char *msg)
{
        sb_free(&j->why);
        if (r == -EPROTONOSUPPORT)
                return WD_REFUSED;
        sb_puts(&j->why, r == -EINVAL ? "libcurl refused the URL" : msg ? msg : strerror(-r));
        return WD_FAIL;
}

/* The end of the entry's transfer and its attempts. */
static void wd_done(void *userdata, enum aws_fetch_end end, int outcome, int r, const char *msg,
                    struct aws_http_transfer_result *last)
{
        struct action_job *j = userdata;
        enum wd_outcome o = (enum wd_outcome)outcome;

        (void)last;
        j->fetch = NULL;
        j->grace = sdev->source_disable_unref(j->grace);
        switch (end) {
        case AWS_FETCH_ENDED:
                break;
        case AWS_FETCH_NO_TIME:
                sb_free(&j->why);
                sb_printf(&j->why, "its deadline leaves no time for attempt %d", j->failed + 1);
                o = WD_TIMEOUT;
                break;
        case AWS_FETCH_CANCELLED: /* an interrupt, or libcurl's timeout did not come in time */
                o = stopped(j);
                break;
        case AWS_FETCH_REFUSED:
                o = refused(j, r, msg);
                break;
        }
        entry_end(j, o);
}

/* The entry's transfer, its attempts run by the transport's request loop
 * with WebDownload's retry policy. */
static void attempts_start(struct action_job *j)
{
        const struct wd_entry *e = &j->entries[j->i];
        int64_t left = job_time_left(j);
        _cleanup_free_ char *err = NULL;

        j->req = (struct aws_http_fetch){
                .t = {
                        .url = e->source,
                        .insecure = e->insecure,
                        .buffer_size = WD_BUFFER_SIZE,
                        .stream = { .on_headers = wd_body_accept, .on_body = wd_body_data, .userdata = &j->x },
                },
                .retry = { .max_attempts = WD_ATTEMPTS, .delay_ms = j->tun.retry_delay_ms,
                           .cap_ms = WD_BACKOFF_CAP_MS },
                .deadline_ms = left < 0 ? -1 : aws_now_ms() + left,
                .begin = wd_begin,
                .end = wd_end,
                .pausing = wd_pausing,
                .userdata = j,
        };
        int r = aws_http_fetch_start(j->http, j->ctx->event, &j->req, wd_done, j, &j->fetch, &err);
        if (r < 0)
                entry_end(j, refused(j, r, err));
}

/* Starts the entry in flight: its folder, its temporary file, its first
 * attempt. */
static void entry_begin(struct action_job *j)
{
        const struct wd_entry *e = &j->entries[j->i];
        int r;

        j->dir = wd_path_parent(e->dest);
        r = mkdir_parents(j->dir, 0755);
        if (r < 0) {
                sb_printf(&j->msg, "WebDownload entry %zu (%s): cannot create the folder %s: %s", e->no, e->shown,
                          j->dir, strerror(-r));
                goto fail;
        }
        r = wd_tmp_create(e->dest, &j->tmp);
        if (r < 0) {
                sb_printf(&j->msg, "WebDownload entry %zu (%s): cannot create a temporary file in %s: %s", e->no,
                          e->shown, j->dir, strerror(-r));
                goto fail;
        }
        j->x.room.dir = j->dir;
        j->x.room.reserve_set = j->tun.reserve_set;
        j->x.room.reserve_value = j->tun.reserve;

        attempts_start(j);
        return;
fail:
        entry_clear(j);
        j->status = ACTION_FAILED;
        kick(j);
}

/* ---- the action ---------------------------------------------------------- */

/* Checks an entry's destination before downloading.  Returns 1 to
 * download, 0 when the file already matches (skip), or -1 with a message
 * in *msg. */
static int entry_precheck(const struct action_ctx *ctx, const struct wd_entry *e, struct strbuf *msg)
{
        struct stat st;

        if (lstat(e->dest, &st) < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return 1;
                sb_printf(msg, "WebDownload entry %zu (%s): cannot check the destination %s: %s", e->no,
                          e->shown, e->dest, strerror(errno));
                return -1;
        }
        if (S_ISDIR(st.st_mode) || (S_ISLNK(st.st_mode) && stat(e->dest, &st) == 0 && S_ISDIR(st.st_mode))) {
                sb_printf(msg, "WebDownload entry %zu (%s): the destination %s is a folder; end it with '/' "
                               "to download into it", e->no, e->shown, e->dest);
                return -1;
        }
        if (!e->overwrite) {
                sb_printf(msg, "WebDownload entry %zu (%s): the destination %s already exists and overwrite "
                               "is false; nothing was downloaded", e->no, e->shown, e->dest);
                return -1;
        }
        if (e->verify && dest_matches(e)) {
                action_notice(ctx, STREAM_STDOUT, "WebDownload entry %zu (%s): %s already has %s %s; not downloaded",
                       e->no, e->shown, e->dest, algo_names[e->algo], e->want);
                return 0;
        }
        return 1;
}

static void job_free(struct action_job *j)
{
        entry_clear(j);
        j->kick = sdev->source_disable_unref(j->kick);
        j->grace = sdev->source_disable_unref(j->grace);
        hash_abort(j->x.hash);
        free(j->x.room.buf);
        j->http = aws_http_free(j->http);
        for (size_t i = 0; i < j->n; i++)
                entry_free(&j->entries[i]);
        free(j->entries);
        json_decref(j->outputs);
        sb_free(&j->dests);
        sb_free(&j->msg);
        free(j);
}

/* The step's end: its result to the runner.  Its one output, as AWSTOE
 * gives it, is `destination`: every entry's file, one a line. */
static void job_end(struct action_job *j)
{
        if (j->any_dest)
                json_array_append_new(j->outputs, json_pack("{s:s%}", "destination", j->dests.s, j->dests.len));
        struct action_result res = {
                .status = j->status,
                .exit_code = -1,
                .message = j->status == ACTION_SUCCESS ? NULL : sb_take(&j->msg),
                .outputs = j->outputs,
        };
        action_done_fn done = j->done;
        void *ud = j->done_userdata;

        j->outputs = NULL;
        job_free(j);
        done(ud, &res);
}

/* The entries in order, until one is in flight or the step is over. */
static int on_kick(sd_event_source *s, void *userdata)
{
        struct action_job *j = userdata;

        (void)s;
        while (j->i < j->n && j->status == ACTION_SUCCESS) {
                const struct wd_entry *e = &j->entries[j->i];
                int c;

                if (j->cancelled == ACTION_CANCEL_DEADLINE || action_stop_reason(j->ctx) == ACTION_CANCEL_DEADLINE) {
                        sb_printf(&j->msg, "WebDownload entry %zu (%s): the step timed out before it started",
                                  e->no, e->shown);
                        j->status = ACTION_TIMED_OUT;
                        break;
                }
                if (j->cancelled == ACTION_CANCEL_INTERRUPT) {
                        sb_printf(&j->msg, "WebDownload entry %zu (%s): the run was interrupted before it started",
                                  e->no, e->shown);
                        j->status = ACTION_FAILED;
                        break;
                }
                c = entry_precheck(j->ctx, e, &j->msg);
                if (c < 0) {
                        j->status = ACTION_FAILED;
                        break;
                }
                if (c == 0) {
                        dest_add(j, e->dest);
                        j->i++;
                        continue;
                }
                if (!j->http) {
                        char *why = NULL;

                        j->http = aws_http_new(&why);
                        if (!j->http) {
                                sb_printf(&j->msg, "WebDownload entry %zu (%s): %s", e->no, e->shown, why);
                                free(why);
                                j->status = ACTION_FAILED;
                                break;
                        }
                        j->x.room.buf = xmalloc(WD_BUFFER_SIZE);
                }
                entry_begin(j); /* kicks again when the entry has ended */
                return 0;
        }
        job_end(j);
        return 0;
}

static int web_download_start(const struct action_ctx *ctx, const json_t *inputs, action_done_fn done,
                              void *done_userdata, struct action_job **ret_job)
{
        struct action_job *j = xcalloc(1, sizeof *j);
        const json_t *o;
        size_t i;
        int r;

        *j = (struct action_job){
                .ctx = ctx,
                .done = done,
                .done_userdata = done_userdata,
                .status = ACTION_SUCCESS,
                .cancelled = -1,
                .tmp = { .fd = -1 },
                .msg = STRBUF_INIT,
                .why = STRBUF_INIT,
                .dests = STRBUF_INIT,
        };
        r = sdev->add_defer(ctx->event, &j->kick, on_kick, j);
        if (r < 0) {
                free(j);
                return r;
        }
        if (!json_is_array(inputs) || json_array_size(inputs) == 0) {
                sb_puts(&j->msg, "WebDownload: inputs must be a list of entries with source and destination");
                j->status = ACTION_FAILED;
                j->outputs = json_array();
                *ret_job = j;
                return 0;
        }

        /* Every entry is checked before anything is downloaded. */
        j->n = json_array_size(inputs);
        j->entries = xcalloc(j->n, sizeof *j->entries);
        json_array_foreach(inputs, i, o)
                if (entry_parse(o, i, &j->entries[i], &j->msg) < 0) {
                        j->status = ACTION_FAILED;
                        break;
                }
        tunables_read(ctx, &j->tun);
        j->mode = wd_file_mode();
        j->outputs = json_array();
        *ret_job = j;
        return 0;
}

static int on_grace(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct action_job *j = userdata;

        (void)s;
        (void)usec;
        j->grace = sdev->source_disable_unref(j->grace);
        if (j->fetch)
                aws_http_call_cancel(j->fetch);
        return 0;
}

/* The runner stops the step.  An interrupt cancels the transfer at once;
 * at the deadline libcurl's timeout, due now too, ends it in its own
 * words (WD_DEADLINE_GRACE_MS at most).  A pause ends at once. */
static void web_download_cancel(struct action_job *j, enum action_cancel_reason why)
{
        uint64_t now = 0;

        if (j->cancelled >= 0)
                return;
        j->cancelled = (int)why;
        if (!j->fetch)
                return; /* the next kick sees j->cancelled */
        if (why == ACTION_CANCEL_INTERRUPT || j->pausing || sdev->now(j->ctx->event, CLOCK_MONOTONIC, &now) < 0 ||
            sdev->add_time(j->ctx->event, &j->grace, CLOCK_MONOTONIC, now + (uint64_t)WD_DEADLINE_GRACE_MS * 1000, 1,
                           on_grace, j) < 0)
                aws_http_call_cancel(j->fetch);
}

const struct action_module web_download_module = {
        .name = "WebDownload",
        .spec = ACTION_SPEC(WebDownload),
        .start = web_download_start,
        .cancel = web_download_cancel,
};
