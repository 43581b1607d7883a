/* http_transport.c: the libcurl side of the one HTTP transport: the client
 * (one easy handle, reached through common/curl_dl.h, and the tunables),
 * the callbacks that bound what a response may bring, the options every
 * transfer is sent with, and preparing and finishing plain transfers
 * (run on the loop by http_async.c, for WebDownload).  The request loop above it is http_send.c. */
#define CURL_DISABLE_DEPRECATION 1 /* CURLOPT_PROTOCOLS, for libcurl < 7.85 */

#include "http_transport.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "errmsg.h"
#include "http_error.h"
#include "tunables.h"

/* ---- the client ----------------------------------------------------------- */

struct aws_http *aws_http_new(char **reterr_msg)
{
        const struct curl_api *api = curl_api_get(reterr_msg);

        if (!api)
                return NULL;
        CURL *c = api->easy_init();
        if (!c) {
                errmsg_set(reterr_msg, -ENOMEM, "libcurl cannot create a handle");
                return NULL;
        }
        struct aws_http *h = xcalloc(1, sizeof *h);
        h->api = api;
        h->idle[h->n_idle++] = c;
        h->max_attempts = (int)env_long("OPENTOE_AWS_MAX_ATTEMPTS", 5, 1, 20);
        h->backoff_ms = env_long("OPENTOE_AWS_BACKOFF_MS", 100, 0, 60000);
        h->backoff_cap_ms = env_long("OPENTOE_AWS_BACKOFF_CAP_MS", 20000, 0, 600000);
        h->connect_timeout_ms = env_long("OPENTOE_AWS_CONNECT_TIMEOUT_MS", 10000, 1, 600000);
        h->low_speed_time_s = env_long("OPENTOE_AWS_LOW_SPEED_TIME", 30, 1, 3600);
        h->low_speed_limit = env_long("OPENTOE_AWS_LOW_SPEED_LIMIT", 1, 1, LONG_MAX);
        h->web_connect_timeout_s = env_long("OPENTOE_HTTP_CONNECT_TIMEOUT", 30, 1, 3600);
        h->web_low_speed_time_s = env_long("OPENTOE_HTTP_LOW_SPEED_TIME", 60, 1, 3600);
        h->web_low_speed_limit = env_long("OPENTOE_HTTP_LOW_SPEED_LIMIT", 1024, 1, LONG_MAX);
        h->web_max_redirs = env_long("OPENTOE_HTTP_MAX_REDIRS", 10, 0, 100);
        const char *ca = getenv("AWS_CA_BUNDLE");
        if (ca && *ca)
                h->ca_bundle = xstrdup(ca);
        return h;
}

struct aws_http *aws_http_free(struct aws_http *h)
{
        if (!h)
                return NULL;
        http_multi_done(h);
        free(h->ca_bundle);
        free(h);
        return NULL;
}

long aws_http_clock_offset(const struct aws_http *h)
{
        return h ? h->clock_offset : 0;
}


void http_headers_free(struct aws_http_header *h, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free((char *)h[i].name);
                free((char *)h[i].value);
        }
}

void http_xfer_reset_headers(struct http_xfer *x)
{
        http_headers_free(x->hdrs, x->n_hdrs);
        x->n_hdrs = 0;
        x->hdr_bytes = 0;
}

void http_xfer_done(struct http_xfer *x)
{
        http_xfer_reset_headers(x);
        sb_free(&x->body);
}

static int stream_accept(struct http_xfer *x);
static void stream_content_length(struct http_xfer *x, const char *buf, size_t len);

static size_t header_cb(char *buf, size_t size, size_t n, void *userdata)
{
        struct http_xfer *x = userdata;
        size_t len = size * n;

        if (x->stream) {
                if (len >= 5 && !memcmp(buf, "HTTP/", 5))
                        x->header_length = -1;
                else if ((len == 2 && buf[0] == '\r' && buf[1] == '\n') || (len == 1 && buf[0] == '\n'))
                        /* Trailers end with a blank line too, after the body. */
                        return x->started || stream_accept(x) >= 0 ? len : 0;
                else
                        stream_content_length(x, buf, len);
        }
        if (len >= 5 && !memcmp(buf, "HTTP/", 5)) {
                /* A new response (after a 100 or a redirect): start over. */
                _cleanup_free_ char *line = xstrndup(buf, len);
                char *sp = strchr(line, ' ');

                http_xfer_reset_headers(x);
                x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
                return len;
        }
        const char *colon = memchr(buf, ':', len);
        if (!colon)
                return len; /* the empty line ending the headers */
        size_t nlen = (size_t)(colon - buf);
        const char *v = colon + 1, *end = buf + len;
        while (v < end && (*v == ' ' || *v == '\t'))
                v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
                end--;
        if (nlen == 0 || x->n_hdrs >= AWS_HTTP_MAX_HEADERS || x->hdr_bytes + len > AWS_HTTP_MAX_HEADER_BYTES)
                return len; /* dropped: memory stays bounded */
        x->hdrs[x->n_hdrs].name = xstrndup(buf, nlen);
        x->hdrs[x->n_hdrs].value = xstrndup(v, (size_t)(end - v));
        x->n_hdrs++;
        x->hdr_bytes += len;
        return len;
}


static size_t write_cb(char *buf, size_t size, size_t n, void *userdata)
{
        struct http_xfer *x = userdata;
        size_t len = size * n;

        if (x->stream) {
                if (!x->started) {
                        int a = stream_accept(x);

                        if (a == 0)
                                x->refused_status = x->status;
                        if (a <= 0)
                                return 0;
                }
                if (x->declared >= 0 && len > (uint64_t)x->declared - x->bytes) {
                        x->excess = true;
                        return 0;
                }
                if (x->stream->on_body(x->stream->userdata, buf, len) < 0)
                        return 0;
                x->bytes += len;
                return len;
        }
        if (http_status_ok(x->status) && x->to_fd) {
                int r = x->out_seekable ? pwrite_all(x->out_fd, buf, len, x->out_start + (off_t)x->streamed)
                                        : write_all(x->out_fd, buf, len);
                if (r < 0) {
                        x->write_err = -r;
                        return 0;
                }
                x->streamed += len;
                return len;
        }
        size_t cap = http_status_ok(x->status) ? x->body_max : AWS_HTTP_ERROR_BODY_MAX;
        if (x->body.len + len > cap) {
                if (http_status_ok(x->status)) {
                        x->too_big = true;
                        return 0;
                }
                sb_append(&x->body, buf, cap - x->body.len);
                return len; /* the rest of an error body is dropped */
        }
        sb_append(&x->body, buf, len);
        return len;
}

static size_t read_cb(char *buf, size_t size, size_t n, void *userdata)
{
        struct http_xfer *x = userdata;
        size_t want = size * n;

        if (want > x->in_len - x->in_pos)
                want = x->in_len - x->in_pos;
        if (want == 0)
                return 0;
        if (!x->from_fd) {
                memcpy(buf, x->mem + x->in_pos, want);
                x->in_pos += want;
                return want;
        }
        for (;;) {
                ssize_t r = pread(x->in_fd, buf, want, x->in_off + (off_t)x->in_pos);

                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0) {
                        x->read_err = r < 0 ? errno : ENODATA; /* the file is shorter than the range */
                        return CURL_READFUNC_ABORT;
                }
                x->in_pos += (size_t)r;
                return (size_t)r;
        }
}

static int seek_cb(void *userdata, curl_off_t offset, int origin)
{
        struct http_xfer *x = userdata;

        if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > x->in_len)
                return CURL_SEEKFUNC_CANTSEEK;
        x->in_pos = (size_t)offset;
        return CURL_SEEKFUNC_OK;
}

const char *http_xfer_header(const struct http_xfer *x, const char *name)
{
        for (size_t i = 0; i < x->n_hdrs; i++)
                if (!strcasecmp(x->hdrs[i].name, name))
                        return x->hdrs[i].value;
        return NULL;
}


/* What every transfer sets: protocols, the URL, the callbacks. */
static int set_base_options(struct aws_http *h, CURL *c, const char *url, struct http_xfer *x, char *errbuf)
{
        const struct curl_api *a = h->api;
        CURLcode rc;

        a->easy_reset(c);
        rc = a->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        if (rc == CURLE_UNKNOWN_OPTION)
                rc = a->easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
        if (rc != CURLE_OK)
                return -EPROTONOSUPPORT;
        rc = a->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        if (rc == CURLE_UNKNOWN_OPTION)
                rc = a->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
        if (rc != CURLE_OK)
                return -EPROTONOSUPPORT;
        if (a->easy_setopt(c, CURLOPT_URL, url) != CURLE_OK)
                return -EINVAL;
        a->easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        a->easy_setopt(c, CURLOPT_USERAGENT, "opentoe/" PACKAGE_VERSION);
        a->easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
        a->easy_setopt(c, CURLOPT_HEADERDATA, x);
        a->easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
        a->easy_setopt(c, CURLOPT_WRITEDATA, x);
        x->easy = c;
        return 0;
}

int http_set_request_options(struct aws_http *h, CURL *c, const struct aws_http_request *req, const char *url,
                             struct http_xfer *x, struct curl_slist *hl, long timeout_ms, char *errbuf)
{
        const struct curl_api *a = h->api;
        int r = set_base_options(h, c, url, x, errbuf);

        if (r < 0)
                return r;
        a->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        a->easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        a->easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
        if (h->ca_bundle)
                a->easy_setopt(c, CURLOPT_CAINFO, h->ca_bundle);
        a->easy_setopt(c, CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
        a->easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
        a->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                       req->connect_timeout_ms > 0 ? req->connect_timeout_ms : h->connect_timeout_ms);
        a->easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->low_speed_time_s);
        a->easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, h->low_speed_limit);
        a->easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
        a->easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
        if (req->no_proxy)
                a->easy_setopt(c, CURLOPT_PROXY, "");
        a->easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
        a->easy_setopt(c, CURLOPT_READDATA, x);
        a->easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_cb);
        a->easy_setopt(c, CURLOPT_SEEKDATA, x);

        const char *m = req->method;
        if (!strcmp(m, "GET")) {
                a->easy_setopt(c, CURLOPT_HTTPGET, 1L);
        } else if (!strcmp(m, "HEAD")) {
                a->easy_setopt(c, CURLOPT_NOBODY, 1L);
        } else if (!strcmp(m, "PUT")) {
                a->easy_setopt(c, CURLOPT_UPLOAD, 1L);
                a->easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->in_len);
        } else if (!strcmp(m, "POST")) {
                a->easy_setopt(c, CURLOPT_POST, 1L);
                a->easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->in_len);
        } else if (x->in_len > 0) {
                a->easy_setopt(c, CURLOPT_UPLOAD, 1L);
                a->easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->in_len);
                a->easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
        } else {
                a->easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
        }
        a->easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        return 0;
}

/* ---- plain transfers ---------------------------------------------------------- */

/* The length the response declares, -1 when none: libcurl's, the one it
 * frames the body by; it has none with Transfer-Encoding, where the
 * Content-Length header is held to instead. */
static int64_t declared_length(const struct http_xfer *x)
{
        curl_off_t cl = -1;

        if (x->h->api->easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) != CURLE_OK || cl < 0)
                return x->header_length;
        return (int64_t)cl;
}

/* Asks the stream whether it takes the current response's body. */
static int stream_accept(struct http_xfer *x)
{
        long status = 0;
        int a;

        x->h->api->easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
        x->status = status;
        x->declared = declared_length(x);
        a = x->stream->on_headers(x->stream->userdata, status, x->declared);
        if (a != 0)
                x->started = true;
        return a;
}

/* Keeps the Content-Length header of the latest response (a status line
 * starts a new one), for bodies that libcurl frames otherwise: digits
 * between blanks, else none. */
static void stream_content_length(struct http_xfer *x, const char *buf, size_t n)
{
        static const char name[] = "content-length:";
        size_t i = sizeof name - 1, digits = 0;
        int64_t v = 0;

        if (n < i || strncasecmp(buf, name, i) != 0)
                return;
        while (i < n && (buf[i] == ' ' || buf[i] == '\t'))
                i++;
        for (; i < n && buf[i] >= '0' && buf[i] <= '9'; i++, digits++) {
                if (v > (INT64_MAX - (buf[i] - '0')) / 10) {
                        digits = 0;
                        break;
                }
                v = v * 10 + (buf[i] - '0');
        }
        while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
                i++;
        x->header_length = digits > 0 && i == n ? v : -1;
}

static int set_transfer_options(struct aws_http *h, CURL *c, const struct aws_http_transfer *t,
                                struct http_xfer *x, char *errbuf)
{
        const struct curl_api *a = h->api;
        int r = set_base_options(h, c, t->url, x, errbuf);

        if (r < 0)
                return r;
        a->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        a->easy_setopt(c, CURLOPT_MAXREDIRS, h->web_max_redirs);
        a->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->web_connect_timeout_s * 1000L);
        a->easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->web_low_speed_time_s);
        a->easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, h->web_low_speed_limit);
        if (t->buffer_size > 0)
                a->easy_setopt(c, CURLOPT_BUFFERSIZE, t->buffer_size);
        a->easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
        a->easy_setopt(c, CURLOPT_SSL_VERIFYPEER, t->insecure ? 0L : 1L);
        a->easy_setopt(c, CURLOPT_SSL_VERIFYHOST, t->insecure ? 0L : 2L);
        a->easy_setopt(c, CURLOPT_TIMEOUT_MS, t->timeout_ms);
        return 0;
}

int http_transfer_prepare(struct aws_http *h, CURL *c, const struct aws_http_transfer *t, struct http_xfer *x,
                          char *errbuf)
{
        *x = (struct http_xfer){ .stream = &t->stream, .h = h, .header_length = -1, .declared = -1 };
        errbuf[0] = '\0';
        return set_transfer_options(h, c, t, x, errbuf);
}

void http_transfer_finish(struct aws_http *h, const struct http_xfer *x, CURLcode c, const char *errbuf,
                          struct aws_http_transfer_result *ret)
{
        const struct curl_api *a = h->api;
        char *eff = NULL;

        *ret = (struct aws_http_transfer_result){ .declared = -1 };
        a->easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &ret->status);
        a->easy_getinfo(x->easy, CURLINFO_REDIRECT_COUNT, &ret->redirects);
        if (a->easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff)
                ret->effective_url = xstrdup(eff);
        ret->refused_status = x->refused_status;
        ret->excess = x->excess;
        ret->declared = x->started ? x->declared : declared_length(x);
        ret->bytes = x->bytes;
        if (c != CURLE_OK) {
                const char *why = errbuf[0] ? errbuf : a->easy_strerror(c);
                size_t n = strlen(why);

                if (n > 0 && why[n - 1] == '\n')
                        n--;
                ret->failed = true;
                ret->transient = http_curl_transient(c);
                ret->timed_out = c == CURLE_OPERATION_TIMEDOUT;
                ret->protocol_refused = c == CURLE_UNSUPPORTED_PROTOCOL;
                ret->reason = xstrndup(why, n);
        }
}

void aws_http_transfer_result_done(struct aws_http_transfer_result *r)
{
        if (!r)
                return;
        free(r->reason);
        free(r->effective_url);
        *r = (struct aws_http_transfer_result){ .declared = -1 };
}
