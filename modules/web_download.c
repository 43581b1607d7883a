/* web_download.c: the WebDownload action.  This file owns what becomes of
 * each entry's http or https URL: it is fetched through the one HTTP
 * transport (aws_http_transfer() in aws/http.h, unsigned, which owns
 * libcurl, redirects, the Content-Length rules and the OPENTOE_HTTP_*
 * transfer settings), the body is streamed into a temporary file beside
 * the destination (".<name>.opentoe-XXXXXX") while hashing it, transient
 * failures are retried with exponential backoff inside one step attempt,
 * the checksum is verified, and only then (after fsync) is the file
 * renamed into place.  How the body is written without filling the disk
 * is web_download_room.c's.  Nothing of a failed download is left
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
 *   - overwrite false: an existing destination fails the entry.  overwrite
 *     true with checksum and algorithm: an existing file whose hash already
 *     matches is kept and no request is made.  A replaced file keeps its
 *     permissions; a new one gets 0666 less the umask, as with curl -o.
 *   - The time the runner leaves the step (action_time_left_ms()) bounds
 *     every transfer and every backoff pause.
 *   - The disk is never filled.  The measure is the free space that
 *     unprivileged users may fill (statvfs f_bavail * f_frsize) on the file
 *     system of the temporary file: opentoe runs as root and could also
 *     fill the blocks reserved for root, but those are the system's last
 *     resort and are never counted.  A reserve is kept free on top of that:
 *     the larger of WD_RESERVE_MIN (64 MiB) and 1% of the file system's
 *     size, or OPENTOE_HTTP_DISK_RESERVE_BYTES.  A body whose declared
 *     length (Content-Length) does not fit above the reserve is refused
 *     before anything is written; while writing, the free space is measured
 *     again at least every WD_SPACE_CHECK_BYTES, and never more is written
 *     between two measures than the last one left above the reserve, so a
 *     server that sends no length, or lies about it, is stopped too.  Both
 *     fail the entry without a retry (a full disk is not transient).  A
 *     file being replaced is not counted as free: it is only removed by the
 *     rename, after the download.
 *   - Nothing past a Content-Length is written.  Without Transfer-Encoding
 *     libcurl frames the body by Content-Length: it reads no more than
 *     that from the socket (bytes past it that came in with the headers
 *     it drops, with a note for CURLOPT_VERBOSE), so they never reach
 *     the stream and no client can tell them from the start of the next
 *     response; they stay on the connection, which is therefore never
 *     reused (the transport forbids it), or the next entry would read them as
 *     its response.  With Transfer-Encoding libcurl ignores Content-Length
 *     (RFC 9112 6.3) and frames the body by its chunks, so the transport holds
 *     it to the header itself (it keeps it): more bytes, or fewer,
 *     fail the entry without a retry, as a message with both framings
 *     "ought to be handled as an error".  The transport enforces the declared
 *     length whatever the framing.  A body shorter than its Content-Length
 *     without Transfer-Encoding is libcurl's CURLE_PARTIAL_FILE, retried.
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
 *   OPENTOE_HTTP_DISK_RESERVE_BYTES bytes kept free on the destination's
 *                                   file system, 0 to INT64_MAX (0: none
 *                                   but root's); unset, the larger of
 *                                   64 MiB and 1% of the file system.
 *                                   Anything else is ignored with a
 *                                   warning on the console.
 *
 * The proxy variables libcurl knows (http_proxy, https_proxy, no_proxy)
 * apply as they do for curl. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "hexdigit.h"
#include "hash.h"
#include "http.h"
#include "module.h"
#include "mkdirs.h"
#include "strbuf.h"
#include "web_download_room.h"
#include "tunables.h"

/* Attempts per download, as AWSTOE documents. */
#define WD_ATTEMPTS 5
#define WD_BACKOFF_CAP_MS 30000
/* Bytes of the destination's name kept in the temporary file's name. */
#define WD_TMP_NAME_MAX 200
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

/* The temporary file of one entry; removed unless renamed into place. */
struct wd_tmp {
        char *path;
        int fd;
};

/* State of one transfer, shared with the transport's stream callbacks. */
struct wd_xfer {
        struct aws_http *http;          /* the transport, made for the first download of the step */
        struct wd_room room;            /* where the body goes */
        struct hash_ctx *hash;
        bool hash_failed;
};

enum wd_outcome {
        WD_DONE,
        WD_RETRY,
        WD_FAIL,
        WD_TIMEOUT,
        WD_REFUSED,                     /* the transport would not send the request */
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

static void tmp_removep(struct wd_tmp *t)
{
        if (t->fd >= 0)
                close(t->fd);
        t->fd = -1;
        if (t->path)
                (void)unlink(t->path);
        free(t->path);
        t->path = NULL;
}

static void xfer_donep(struct wd_xfer *x)
{
        hash_abort(x->hash);
        x->hash = NULL;
        free(x->room.buf);
        x->room.buf = NULL;
        x->http = aws_http_free(x->http);
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

/* The folder part of a path ("." when there is none), without trailing
 * slashes except for "/" itself. */
static char *path_parent(const char *path)
{
        const char *slash = strrchr(path, '/');
        size_t n;

        if (!slash)
                return xstrdup(".");
        n = (size_t)(slash - path);
        while (n > 0 && path[n - 1] == '/')
                n--;
        if (n == 0)
                return xstrdup("/");
        return xstrndup(path, n);
}

/* Creates "<folder>/.<name>.opentoe-XXXXXX" beside the destination. */
static int tmp_create(const char *dest, struct wd_tmp *t)
{
        _cleanup_free_ char *dir = path_parent(dest);
        const char *base = strrchr(dest, '/');

        base = base ? base + 1 : dest;
        t->path = xasprintf("%s/.%.*s.opentoe-XXXXXX", dir, WD_TMP_NAME_MAX, base);
        t->fd = mkostemp(t->path, O_CLOEXEC);
        if (t->fd < 0) {
                int r = -errno;

                free(t->path);
                t->path = NULL;
                return r;
        }
        return 0;
}

static mode_t file_mode(void)
{
        mode_t m = umask(0);

        umask(m);
        return 0666 & ~m;
}

static void fsync_dir(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return;
        (void)fsync(fd);
        close(fd);
}

/* Flushes the temporary file and renames it to the destination; with
 * overwrite false an existing destination is never replaced, even one
 * that appeared while downloading.  A file that is replaced passes its
 * permissions on; a new one gets `mode`.  Returns 0 or -errno (-EEXIST:
 * the destination exists). */
static int tmp_commit(struct wd_tmp *t, const struct wd_entry *e, mode_t mode)
{
        _cleanup_free_ char *dir = NULL;
        struct stat st;
        int r;

        if (stat(e->dest, &st) == 0 && S_ISREG(st.st_mode))
                mode = st.st_mode & 07777;
        if (fchmod(t->fd, mode) < 0 || fsync(t->fd) < 0)
                return -errno;
        r = close(t->fd);
        t->fd = -1;
        if (r < 0)
                return -errno;
        if (e->overwrite) {
                if (rename(t->path, e->dest) < 0)
                        return -errno;
        } else if (renameat2(AT_FDCWD, t->path, AT_FDCWD, e->dest, RENAME_NOREPLACE) < 0) {
                if (errno != EINVAL && errno != ENOSYS)
                        return -errno;
                /* No RENAME_NOREPLACE on this file system: link fails on EEXIST too. */
                if (link(t->path, e->dest) < 0)
                        return -errno;
                (void)unlink(t->path);
        }
        free(t->path);
        t->path = NULL;
        dir = path_parent(e->dest);
        fsync_dir(dir);
        return 0;
}

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

/* The transport's question at the end of each response's headers: only
 * a 200 body is taken; the body of any other response ends the transfer
 * (at its first piece), which is then reported by its status. */
static int wd_accept(void *userdata, long status, int64_t declared)
{
        struct wd_xfer *x = userdata;

        if (status != 200)
                return 0;
        return wd_room_start(&x->room, declared) < 0 ? -1 : 1;
}

/* A piece of the 200 body, within its declared length. */
static int wd_data(void *userdata, const char *data, size_t n)
{
        struct wd_xfer *x = userdata;

        if (wd_room_put(&x->room, data, n) < 0)
                return -1;
        if (x->hash && hash_update(x->hash, data, n) < 0) {
                x->hash_failed = true;
                return -1;
        }
        return 0;
}

static bool http_status_transient(long status)
{
        return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

/* One attempt: the body goes into the temporary file from its start.
 * A short reason for anything but WD_DONE is appended to *why. */
static enum wd_outcome xfer_attempt(struct wd_xfer *x, const struct wd_entry *e, const struct action_ctx *ctx,
                                    struct wd_tmp *tmp, struct strbuf *why)
{
        _cleanup_(aws_http_transfer_result_done) struct aws_http_transfer_result res = { .declared = -1 };
        unsigned char d[HASH_MAX_LEN];
        char got[2 * HASH_MAX_LEN + 1];
        _cleanup_free_ char *redirected = NULL;
        int64_t left = action_time_left_ms(ctx);
        long status, timeout_ms = 0;
        size_t n;
        int r;

        if (left == 0) {
                sb_puts(why, "the step's deadline passed");
                return WD_TIMEOUT;
        }
        if (left > 0)
                timeout_ms = left > LONG_MAX ? LONG_MAX : (long)left;

        if (ftruncate(tmp->fd, 0) < 0 || lseek(tmp->fd, 0, SEEK_SET) < 0) {
                sb_printf(why, "cannot reset %s: %s", tmp->path, strerror(errno));
                return WD_FAIL;
        }
        wd_room_reset(&x->room, tmp->fd);
        x->hash_failed = false;
        hash_abort(x->hash);
        x->hash = NULL;
        if (e->verify) {
                _cleanup_free_ char *herr = NULL;

                r = hash_begin(e->algo, &x->hash, &herr);
                if (r < 0) {
                        sb_printf(why, "cannot compute %s: %s", algo_names[e->algo], herr);
                        return WD_FAIL;
                }
        }

        const struct aws_http_transfer t = {
                .url = e->source,
                .insecure = e->insecure,
                .buffer_size = WD_BUFFER_SIZE,
                .timeout_ms = timeout_ms,
                .stream = { .on_headers = wd_accept, .on_body = wd_data, .userdata = x },
        };
        if (aws_http_transfer(x->http, &t, &res) < 0)
                return WD_REFUSED;
        if (!res.failed && x->room.buf_len > 0)
                (void)wd_room_flush(&x->room); /* a failure is in room.stop or room.write_err */
        status = res.status;
        /* A refused redirect is not counted, but is the effective URL. */
        if (res.effective_url && (res.redirects > 0 || !http_scheme_len(res.effective_url)))
                redirected = url_redact(res.effective_url);

        if (res.refused_status)
                status = res.refused_status;
        if (res.excess)
                x->room.stop = WD_ROOM_EXCESS;
        /* Not retried: a full disk or a lying server is not transient. */
        if (x->room.stop != WD_ROOM_NONE) {
                wd_room_stop_text(&x->room, why);
                return WD_FAIL;
        }
        if (x->room.write_err) {
                sb_printf(why, "cannot write %s: %s", tmp->path, strerror(x->room.write_err));
                return WD_FAIL;
        }
        if (x->hash_failed) {
                sb_printf(why, "computing %s failed", algo_names[e->algo]);
                return WD_FAIL;
        }
        if (res.failed && !res.refused_status) {
                left = action_time_left_ms(ctx);
                bool timed_out = res.timed_out && left >= 0 && left <= 50;

                if (res.protocol_refused && redirected) {
                        sb_printf(why, "the redirect to %s was refused: only http and https are "
                                       "followed", redirected);
                        return WD_FAIL;
                }
                sb_puts(why, res.reason);
                if (redirected)
                        sb_printf(why, " (redirected to %s)", redirected);
                if (timed_out)
                        return WD_TIMEOUT;
                return res.transient ? WD_RETRY : WD_FAIL;
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
        if (res.declared >= 0 && res.bytes < (uint64_t)res.declared) {
                sb_printf(why, "the body ended after %" PRIu64 " bytes, but its Content-Length declared %" PRId64,
                          res.bytes, res.declared);
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
                                  algo_names[e->algo], e->want, got, res.bytes);
                        return WD_FAIL;
                }
        }
        return WD_DONE;
}

/* Random milliseconds in [0, n]. */
static long jitter(long n)
{
        uint32_t v;

        if (n <= 0)
                return 0;
        if (getrandom(&v, sizeof v, GRND_NONBLOCK) != sizeof v)
                v = (uint32_t)monotonic_ms() * 2654435761u;
        return (long)(v % ((uint32_t)n + 1));
}

static void sleep_ms(int64_t ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
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

/* Downloads one entry: every attempt, the backoff between them, and the
 * rename into place.  The failure message goes to *msg. */
static enum wd_outcome entry_download(const struct action_ctx *ctx, struct wd_xfer *x, const struct wd_entry *e,
                                      const struct wd_tunables *t, mode_t mode, struct strbuf *msg)
{
        _cleanup_(tmp_removep) struct wd_tmp tmp = { .fd = -1 };
        _cleanup_free_ char *dir = path_parent(e->dest);
        _cleanup_free_ char *history = NULL;
        struct strbuf why = STRBUF_INIT;
        char *reasons[WD_ATTEMPTS] = { NULL };
        enum wd_outcome o = WD_FAIL;
        long delay = t->retry_delay_ms;
        int failed = 0, r;

        r = mkdir_parents(dir, 0755);
        if (r < 0) {
                sb_printf(msg, "WebDownload entry %zu (%s): cannot create the folder %s: %s", e->no, e->shown,
                          dir, strerror(-r));
                return WD_FAIL;
        }
        r = tmp_create(e->dest, &tmp);
        if (r < 0) {
                sb_printf(msg, "WebDownload entry %zu (%s): cannot create a temporary file in %s: %s", e->no,
                          e->shown, dir, strerror(-r));
                return WD_FAIL;
        }
        x->room.dir = dir;
        x->room.reserve_set = t->reserve_set;
        x->room.reserve_value = t->reserve;

        for (int attempt = 1; attempt <= WD_ATTEMPTS; attempt++) {
                long d;

                sb_free(&why);
                o = xfer_attempt(x, e, ctx, &tmp, &why);
                if (o != WD_RETRY || attempt == WD_ATTEMPTS)
                        break;
                reasons[failed++] = xstrdup(sb_str(&why));
                d = delay - jitter(delay / 2);
                int64_t left = action_time_left_ms(ctx);
                if (left >= 0 && d >= left) {
                        o = WD_TIMEOUT;
                        sb_free(&why);
                        sb_printf(&why, "its deadline leaves no time for attempt %d", attempt + 1);
                        break;
                }
                action_notice(ctx, STREAM_STDERR, "WebDownload entry %zu (%s): attempt %d of %d failed: %s; retrying in %.1f s",
                       e->no, e->shown, attempt, WD_ATTEMPTS, reasons[failed - 1], (double)d / 1000.0);
                sleep_ms(d);
                delay = delay * 2 > WD_BACKOFF_CAP_MS ? WD_BACKOFF_CAP_MS : delay * 2;
        }
        hash_abort(x->hash);
        x->hash = NULL;
        if (o == WD_RETRY)
                reasons[failed++] = xstrdup(sb_str(&why));
        history = history_text(reasons, failed);
        for (int i = 0; i < failed; i++)
                free(reasons[i]);

        switch (o) {
        case WD_DONE:
                r = tmp_commit(&tmp, e, mode);
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
                          sb_str(&why));
                if (failed)
                        sb_printf(msg, " (%s)", history);
                sb_printf(msg, "; nothing was written to %s", e->dest);
                break;
        case WD_REFUSED:
                sb_printf(msg, "WebDownload entry %zu (%s): libcurl cannot be limited to http and https; "
                               "refusing to download", e->no, e->shown);
                o = WD_FAIL;
                break;
        case WD_FAIL:
                sb_printf(msg, "WebDownload entry %zu (%s): %s; not retried, and nothing was written to %s",
                          e->no, e->shown, sb_str(&why), e->dest);
                if (failed)
                        sb_printf(msg, "; earlier failures: %s", history);
                break;
        }
        sb_free(&why);
        return o;
}

/* ---- the action ---------------------------------------------------------- */

static int wd_result(struct action_result *ret, enum action_status status, char *message, json_t *outputs)
{
        *ret = (struct action_result){
                .status = status,
                .exit_code = -1,
                .message = message,
                .outputs = outputs,
        };
        return 0;
}

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

static int web_download_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        _cleanup_(xfer_donep) struct wd_xfer x = { 0 };
        struct strbuf msg = STRBUF_INIT;
        struct wd_tunables t;
        struct wd_entry *entries;
        json_t *outputs, *o;
        enum action_status status = ACTION_SUCCESS;
        size_t n, i;
        mode_t mode;

        if (!json_is_array(inputs) || json_array_size(inputs) == 0)
                return wd_result(ret, ACTION_FAILED,
                                 xstrdup("WebDownload: inputs must be a list of entries with source and destination"),
                                 json_array());

        /* Every entry is checked before anything is downloaded. */
        n = json_array_size(inputs);
        entries = xcalloc(n, sizeof *entries);
        json_array_foreach(inputs, i, o)
                if (entry_parse(o, i, &entries[i], &msg) < 0) {
                        status = ACTION_FAILED;
                        break;
                }

        tunables_read(ctx, &t);
        mode = file_mode();
        outputs = json_array();
        for (i = 0; i < n && status == ACTION_SUCCESS; i++) {
                const struct wd_entry *e = &entries[i];
                enum wd_outcome r;
                int c;

                if (action_stop_reason(ctx) == ACTION_CANCEL_DEADLINE) {
                        sb_printf(&msg, "WebDownload entry %zu (%s): the step timed out before it started",
                                  e->no, e->shown);
                        status = ACTION_TIMED_OUT;
                        break;
                }
                c = entry_precheck(ctx, e, &msg);
                if (c < 0) {
                        status = ACTION_FAILED;
                        break;
                }
                if (c > 0) {
                        if (!x.http) {
                                char *why = NULL;

                                x.http = aws_http_new(&why);
                                if (!x.http) {
                                        sb_printf(&msg, "WebDownload entry %zu (%s): %s", e->no, e->shown, why);
                                        free(why);
                                        status = ACTION_FAILED;
                                        break;
                                }
                                x.room.buf = xmalloc(WD_BUFFER_SIZE);
                        }
                        r = entry_download(ctx, &x, e, &t, mode, &msg);
                        if (r == WD_TIMEOUT)
                                status = ACTION_TIMED_OUT;
                        else if (r != WD_DONE)
                                status = ACTION_FAILED;
                        if (r != WD_DONE)
                                break;
                }
                json_array_append_new(outputs, json_pack("{s:s}", "destination", e->dest));
        }

        for (i = 0; i < n; i++)
                entry_free(&entries[i]);
        free(entries);
        return wd_result(ret, status, status == ACTION_SUCCESS ? (sb_free(&msg), NULL) : sb_take(&msg), outputs);
}

const struct action_module web_download_module = {
        .name = "WebDownload",
        .spec = ACTION_SPEC(WebDownload),
        .run = web_download_run,
};
