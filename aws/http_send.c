/* http_send.c: the request loop of the one HTTP transport, a job on an
 * sd-event loop: checking a request, building its URL from the endpoint,
 * signing every attempt with aws/sigv4 (credentials from a source the
 * caller gives), retrying with jittered exponential backoff (the pause a
 * timer source), clock-skew correction and one retry with fresh
 * credentials on an expired token, and filling the response.  The
 * blocking aws_http_send() is the same job driven on the client's own
 * loop.  The rules are in http.h; libcurl is in http_transport.c, the
 * multi handle in http_multi.c. */
#include "http_send.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "awstime.h"
#include "cleanup.h"
#include "endpoint.h"
#include "errmsg.h"
#include "hash.h"
#include "http_error.h"
#include "http_transport.h"
#include "sdevent_dl.h"
#include "strbuf.h"

/* Headers a caller may give (the signer adds up to five more). */
#define MAX_REQUEST_HEADERS 48
/* A server Date this far from the signing time makes a skew error a
 * clock problem rather than a bad signature. */
#define SKEW_MIN_S 60
#define HASH_CHUNK (256 * 1024)

static bool header_value_ok(const char *v)
{
        for (; *v; v++)
                if (*v == '\r' || *v == '\n' || *v == '\0')
                        return false;
        return true;
}

static bool token_ok(const char *s, size_t max)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > max)
                return false;
        for (; *s; s++)
                if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", *s))
                        return false;
        return true;
}

static long jitter(long d)
{
        unsigned v;

        if (d <= 1)
                return d;
        if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v)
                v = (unsigned)rand();
        return d / 2 + (long)(v % (unsigned long)(d / 2 + 1));
}

/* Everything of a request that stays the same between attempts. */
struct prepared {
        struct endpoint ep;
        char *url;
        char *sign_path;
        char payload_hash[65];
        bool has_payload_hash;
        bool hash_fd;                   /* the fd body's hash is to be computed (http_send_start()) */
        bool signed_;
        int max_attempts;
};


static void response_fill(struct aws_http_response *ret, struct http_xfer *x, int attempts, char *code, char *msg)
{
        bool streamed = x->to_fd && http_status_ok(x->status);
        size_t len = x->body.len;

        *ret = (struct aws_http_response){
                .status = x->status,
                .body = streamed ? NULL : sb_take(&x->body),
                .body_len = streamed ? 0 : len,
                .bytes_streamed = streamed ? x->streamed : 0,
                .error_code = code,
                .error_message = msg,
                .attempts = attempts,
        };
        ret->headers = xcalloc(x->n_hdrs ? x->n_hdrs : 1, sizeof *ret->headers);
        for (size_t i = 0; i < x->n_hdrs; i++)
                ret->headers[i] = x->hdrs[i];
        ret->n_headers = x->n_hdrs;
        x->n_hdrs = 0; /* moved */
        const char *rid = aws_http_response_header(ret, "x-amz-request-id");
        if (!rid)
                rid = aws_http_response_header(ret, "x-amzn-RequestId");
        if (rid)
                ret->request_id = http_clean_text(rid, strlen(rid), 256);
}

static int prepare(const struct aws_http_request *req, struct aws_http *h, struct prepared *p, char **reterr_msg)
{
        int r;

        if (!req->method || !token_ok(req->method, 16))
                return errmsg_set(reterr_msg, -EINVAL, "the method must be an HTTP token");
        if (req->path && req->path[0] != '/')
                return errmsg_set(reterr_msg, -EINVAL, "the path must start with '/'");
        if ((req->path && !header_value_ok(req->path)) || (req->path && strpbrk(req->path, " ?#")) ||
            (req->query && (!header_value_ok(req->query) || strpbrk(req->query, " #"))))
                return errmsg_set(reterr_msg, -EINVAL, "the path or query holds a space, '?', '#' or a line break");
        if (req->n_headers > MAX_REQUEST_HEADERS || (req->n_headers && !req->headers))
                return errmsg_set(reterr_msg, -EINVAL, "at most %d request headers", MAX_REQUEST_HEADERS);
        for (size_t i = 0; i < req->n_headers; i++) {
                if (!token_ok(req->headers[i].name, 128) || !req->headers[i].value ||
                    !header_value_ok(req->headers[i].value))
                        return errmsg_set(reterr_msg, -EINVAL, "request header %zu is malformed", i + 1);
                if (!strcasecmp(req->headers[i].name, "host"))
                        return errmsg_set(reterr_msg, -EINVAL, "the Host header comes from the endpoint");
        }
        if (req->body_len > 0 && !req->body && !req->body_from_fd)
                return errmsg_set(reterr_msg, -EINVAL, "a body length without a body");
        if (req->body_from_fd && (req->body_fd < 0 || req->body_offset < 0))
                return errmsg_set(reterr_msg, -EINVAL, "a bad body file descriptor or offset");
        if (req->body_to_fd && req->out_fd < 0)
                return errmsg_set(reterr_msg, -EINVAL, "a bad output file descriptor");
        p->signed_ = req->service != NULL;
        if (p->signed_ && (!req->creds || !req->region))
                return errmsg_set(reterr_msg, -EINVAL, "a signed request needs credentials and a region");

        r = endpoint_parse(req->endpoint, &p->ep, reterr_msg);
        if (r < 0)
                return r;
        const char *path = req->path && *req->path ? req->path : "/";
        p->sign_path = xasprintf("%s%s", p->ep.base, path);
        p->url = xasprintf("%s://%s%s%s%s", p->ep.scheme, p->ep.authority, p->sign_path,
                           req->query && *req->query ? "?" : "", req->query && *req->query ? req->query : "");
        p->max_attempts = req->max_attempts > 0 ? req->max_attempts : h->max_attempts;

        if (req->payload_hash) {
                snprintf(p->payload_hash, sizeof p->payload_hash, "%s", req->payload_hash);
                p->has_payload_hash = true;
        } else if (p->signed_ && !(req->sigv4_flags & SIGV4_UNSIGNED)) {
                if (req->body_from_fd) {
                        p->hash_fd = true;
                        return 0;
                } else {
                        unsigned char d[HASH_MAX_LEN];
                        size_t n;

                        _cleanup_free_ char *why = NULL;

                        r = hash_buffer(HASH_SHA256, req->body ? req->body : "", req->body_len, d, &n, &why);
                        if (r < 0)
                                return errmsg_set(reterr_msg, r, "cannot hash the body: %s", why);
                        hash_hex(d, n, p->payload_hash);
                }
                p->has_payload_hash = true;
        }
        return 0;
}

static void prepared_done(struct prepared *p)
{
        endpoint_done(&p->ep);
        free(p->url);
        free(p->sign_path);
}

/* Signs one attempt and builds its header list.  *ret_signed_at is the
 * (corrected) time in the signature. */
static int build_headers(struct aws_http *h, const struct aws_http_request *req, const struct prepared *p,
                         const struct sigv4_credentials *cred, struct curl_slist **ret_list, time_t *ret_signed_at,
                         char **reterr_msg)
{
        const struct curl_api *a = h->api;
        struct curl_slist *l = NULL;
        struct sigv4_result res = { 0 };
        bool have_ct = false;
        int r;

        for (size_t i = 0; i < req->n_headers; i++)
                if (!strcasecmp(req->headers[i].name, "content-type"))
                        have_ct = true;
        if (p->signed_) {
                struct sigv4_header hs[MAX_REQUEST_HEADERS];
                time_t t = time(NULL) + h->clock_offset;
                struct tm tm;
                char date[20];

                gmtime_r(&t, &tm);
                strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
                for (size_t i = 0; i < req->n_headers; i++)
                        hs[i] = (struct sigv4_header){ req->headers[i].name, req->headers[i].value };
                struct sigv4_request sr = {
                        .method = req->method,
                        .path = p->sign_path,
                        .query = req->query,
                        .headers = hs,
                        .n_headers = req->n_headers,
                        .host = p->ep.authority,
                        .payload_hash = p->has_payload_hash ? p->payload_hash : NULL,
                };
                struct sigv4_params sp = {
                        .region = req->region, .service = req->service, .amz_date = date, .flags = req->sigv4_flags,
                };
                char *err = NULL;
                r = sigv4_sign(&sr, cred, &sp, &res, &err);
                if (r < 0) {
                        errmsg_set(reterr_msg, r, "cannot sign the request: %s", err ? err : strerror(-r));
                        free(err);
                        return r;
                }
                *ret_signed_at = t;
        }
        for (size_t i = 0; i < req->n_headers + res.n_added; i++) {
                const char *n = i < req->n_headers ? req->headers[i].name : res.added[i - req->n_headers].name;
                const char *v = i < req->n_headers ? req->headers[i].value : res.added[i - req->n_headers].value;
                _cleanup_free_ char *line = *v ? xasprintf("%s: %s", n, v) : xasprintf("%s;", n);
                struct curl_slist *nl = a->slist_append(l, line);

                if (!nl) {
                        a->slist_free_all(l);
                        sigv4_result_done(&res);
                        return errmsg_set(reterr_msg, -ENOMEM, "out of memory");
                }
                l = nl;
        }
        sigv4_result_done(&res);
        struct curl_slist *nl = a->slist_append(l, "Expect:");
        if (nl && !have_ct && (req->body_len > 0 || !strcmp(req->method, "POST")))
                nl = a->slist_append(nl, "Content-Type:");
        if (!nl) {
                a->slist_free_all(l);
                return errmsg_set(reterr_msg, -ENOMEM, "out of memory");
        }
        *ret_list = nl;
        return 0;
}

/* One request on the loop: its attempts, their pauses, its end. */
struct aws_http_call {
        struct aws_http *h;
        sd_event *ev;
        const struct aws_http_request *req;
        struct aws_http_cred_source creds;
        bool has_creds;
        struct prepared p;
        struct http_xfer x;
        struct http_running run;        /* the attempt in flight */
        struct curl_slist *hl;          /* its headers */
        char errbuf[CURL_ERROR_SIZE];
        int attempt;
        bool token_retried;
        int last_errno;
        char *last;                     /* why the last attempt failed */
        time_t signed_at;
        off_t out_start;
        bool out_seekable, out_regular;
        sd_event_source *pause;         /* the backoff before the next attempt */
        sd_event_source *end;           /* defer: hands the result over */
        bool ended;
        int r;                          /* the result */
        char *msg;
        struct aws_http_response resp;
        aws_http_call_done_fn done;
        void *userdata;
        /* a plain transfer with a retry policy (aws_http_fetch_start()) */
        const struct aws_http_fetch *fetch;
        struct aws_http_transfer tx;    /* this attempt's */
        long delay;                     /* the next pause, before its random part */
        enum aws_fetch_end fend;
        int outcome;
        struct aws_http_transfer_result *stopped; /* of the attempt a cancel stopped */
        aws_http_fetch_done_fn fetch_done;
        /* hashing an fd body before the first attempt, a piece at a time */
        sd_event_source *hashing;
        struct hash_ctx *hc;
        size_t hashed;
        char *hbuf;
};

/* The request's end: r and a message, or (r = 0) the response filled. */
static void call_end(struct aws_http_call *c, int r, char *msg)
{
        if (c->ended) {
                free(msg);
                return;
        }
        c->ended = true;
        c->r = r;
        c->msg = msg;
        sdev->source_set_enabled(c->end, SD_EVENT_ONESHOT);
}

/* call_end() with a formatted message. */
static void __attribute__((format(printf, 3, 4))) call_fail(struct aws_http_call *c, int r, const char *fmt, ...)
{
        struct strbuf b = STRBUF_INIT;
        va_list ap;

        va_start(ap, fmt);
        sb_vprintf(&b, fmt, ap);
        va_end(ap);
        call_end(c, r, sb_take(&b));
}

static void call_fail_msg(struct aws_http_call *c, int r, char *err)
{
        call_end(c, r, err ? err : xstrdup(strerror(-r)));
}

static void attempt_done(struct http_running *t, CURLcode cc);

/* Signs and starts attempt c->attempt. */
static void attempt_start(struct aws_http_call *c)
{
        const struct aws_http_request *req = c->req;
        struct aws_http *h = c->h;
        struct sigv4_credentials cred = { 0 };
        int64_t deadline = req->deadline_ms;
        long timeout_ms = req->attempt_timeout_ms > 0 ? req->attempt_timeout_ms : 0;
        char *err = NULL;
        int r;

        if (deadline >= 0) {
                int64_t left = deadline - aws_now_ms();

                if (left <= 0) {
                        if (c->last)
                                call_fail(c, -ETIMEDOUT, "%s %s: the deadline passed after %d attempt%s; the last "
                                          "failed: %s", req->method, c->p.url, c->attempt - 1,
                                          c->attempt == 2 ? "" : "s", c->last);
                        else
                                call_fail(c, -ETIMEDOUT, "%s %s: the deadline passed before the request was sent",
                                          req->method, c->p.url);
                        return;
                }
                if (timeout_ms == 0 || left < timeout_ms)
                        timeout_ms = left > LONG_MAX ? LONG_MAX : (long)left;
        }
        if (c->p.signed_) {
                /* Synchronous: the provider caches, and IMDS is bounded by its own timeouts. */
                r = c->has_creds ? c->creds.get(c->creds.userdata, deadline, &cred, &err) : -ENOKEY;
                if (r < 0) {
                        call_fail_msg(c, r, err);
                        return;
                }
        }
        r = build_headers(h, req, &c->p, c->p.signed_ ? &cred : NULL, &c->hl, &c->signed_at, &err);
        if (r < 0) {
                call_fail_msg(c, r, err);
                return;
        }

        /* Fresh state for this attempt. */
        if (c->x.streamed > 0 && c->out_regular && ftruncate(req->out_fd, c->out_start) < 0) {
                r = -errno;
                call_fail(c, r, "cannot truncate the output file for a retry: %s", strerror(-r));
                return;
        }
        http_xfer_reset_headers(&c->x);
        sb_free(&c->x.body);
        c->x = (struct http_xfer){
                .mem = req->body, .from_fd = req->body_from_fd, .in_fd = req->body_fd,
                .in_off = req->body_offset, .in_len = req->body_len,
                .body_max = req->max_body ? req->max_body : AWS_HTTP_DEFAULT_MAX_BODY,
                .to_fd = req->body_to_fd, .out_fd = req->out_fd, .out_seekable = c->out_seekable,
                .out_start = c->out_start,
        };
        c->errbuf[0] = '\0';
        if (!c->run.easy)
                c->run.easy = http_easy_take(h);
        if (!c->run.easy) {
                call_fail(c, -ENOMEM, "libcurl cannot create a handle");
                return;
        }
        r = http_set_request_options(h, c->run.easy, req, c->p.url, &c->x, c->hl, timeout_ms, c->errbuf);
        if (r < 0) {
                call_fail(c, r, r == -EPROTONOSUPPORT ? "libcurl cannot be limited to http and https; refusing "
                          "to send" : "libcurl refused the URL %s", c->p.url);
                return;
        }
        c->run.done = attempt_done;
        r = http_multi_add(h, c->ev, &c->run, &err);
        if (r < 0)
                call_fail_msg(c, r, err);
}

static int fetch_attempt_start(struct aws_http_call *c, char **reterr_msg);
static void fetch_end(struct aws_http_call *c, enum aws_fetch_end end, int outcome);

static int on_pause(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct aws_http_call *c = userdata;
        char *err = NULL;
        int r;

        (void)s;
        (void)usec;
        c->pause = sdev->source_disable_unref(c->pause);
        c->attempt++;
        if (!c->fetch) {
                attempt_start(c);
                return 0;
        }
        r = fetch_attempt_start(c, &err);
        if (r < 0) {
                c->r = r;
                c->msg = err;
                fetch_end(c, AWS_FETCH_REFUSED, 0);
        }
        return 0;
}

/* The pause of delay ms before the next attempt: 0, or -errno. */
static int pause_start(struct aws_http_call *c, long delay)
{
        uint64_t now = 0;

        if (sdev->now(c->ev, CLOCK_MONOTONIC, &now) < 0 ||
            sdev->add_time(c->ev, &c->pause, CLOCK_MONOTONIC, now + (uint64_t)delay * 1000, 1, on_pause, c) < 0)
                return -ENOMEM;
        return 0;
}

/* The pause before the next attempt: backoff with jitter, or what
 * Retry-After asks (within the cap). */
static long backoff_delay(const struct aws_http *h, const struct http_xfer *x, int attempt)
{
        long d = h->backoff_ms, delay;

        for (int i = 1; i < attempt && d < h->backoff_cap_ms; i++)
                d *= 2;
        if (d > h->backoff_cap_ms)
                d = h->backoff_cap_ms;
        delay = jitter(d);
        const char *ra = http_xfer_header(x, "Retry-After");
        if (ra && x->status) {
                char *end;
                long s = strtol(ra, &end, 10);

                if (!*end && s > 0 && s * 1000 > delay)
                        delay = s * 1000 > h->backoff_cap_ms ? h->backoff_cap_ms : s * 1000;
        }
        return delay;
}

/* What the answer of an attempt means: 1 the request is over (the
 * response filled or a failure given), 0 retry, with retry_now set when
 * at once. */
static int attempt_judge(struct aws_http_call *c, CURLcode cc, bool *retry_now)
{
        const struct aws_http_request *req = c->req;
        struct aws_http *h = c->h;
        struct http_xfer *x = &c->x;
        int64_t deadline = req->deadline_ms;

        if (x->write_err) {
                call_fail(c, -x->write_err, "%s %s: cannot write the response body: %s", req->method, c->p.url,
                          strerror(x->write_err));
                return 1;
        }
        if (x->read_err) {
                call_fail(c, -x->read_err, "%s %s: cannot read the request body: %s", req->method, c->p.url,
                          x->read_err == ENODATA ? "the file is shorter than the range to send"
                                                 : strerror(x->read_err));
                return 1;
        }
        if (x->too_big) {
                call_fail(c, -EFBIG, "%s %s: the response body is larger than %zu bytes", req->method, c->p.url,
                          x->body_max);
                return 1;
        }
        free(c->last);
        c->last = NULL;
        if (cc != CURLE_OK) {
                const char *why = c->errbuf[0] ? c->errbuf : h->api->easy_strerror(cc);
                size_t wl = strlen(why);

                while (wl > 0 && (why[wl - 1] == '\n' || why[wl - 1] == '.'))
                        wl--;
                c->last = xasprintf("%.*s", (int)wl, why);
                c->last_errno = http_curl_errno(cc);
                if (cc == CURLE_OPERATION_TIMEDOUT && deadline >= 0 && aws_now_ms() + 20 >= deadline) {
                        call_fail(c, -ETIMEDOUT, "%s %s: the deadline passed: %s", req->method, c->p.url, c->last);
                        return 1;
                }
                if (!http_curl_transient(cc)) {
                        call_fail(c, c->last_errno, "%s %s: %s", req->method, c->p.url, c->last);
                        return 1;
                }
                return 0;
        }
        if (http_status_ok(x->status)) {
                if (x->to_fd && c->out_seekable)
                        (void)lseek(req->out_fd, c->out_start + (off_t)x->streamed, SEEK_SET);
                response_fill(&c->resp, x, c->attempt, NULL, NULL);
                call_end(c, 0, NULL);
                return 1;
        }

        char *code = NULL, *msg = NULL;
        time_t server_time = 0;
        const char *date = http_xfer_header(x, "Date");

        http_parse_error(x->body.s, x->body.len, http_xfer_header(x, "x-amzn-ErrorType"), &code, &msg,
                         &server_time);
        if (date)
                (void)aws_time_parse(date, &server_time);
        if (c->p.signed_ && http_code_is_skew(code) && server_time &&
            labs((long)(server_time - c->signed_at)) >= SKEW_MIN_S) {
                long off = (long)(server_time - time(NULL));

                c->last = xasprintf("HTTP %ld %s: the server's clock is %+lds from ours; re-signing with that "
                                    "offset", x->status, code, off);
                h->clock_offset = off;
                *retry_now = true;
        } else if (c->p.signed_ && http_code_is_expired_token(code) && !c->token_retried) {
                c->last = xasprintf("HTTP %ld %s: the credentials expired; fetching new ones", x->status, code);
                c->creds.invalidate(c->creds.userdata);
                c->token_retried = true;
                *retry_now = true;
        } else if (http_status_retryable(x->status, code) && c->attempt < c->p.max_attempts) {
                c->last = xasprintf("HTTP %ld%s%s%s%s", x->status, code ? " " : "", code ? code : "",
                                    msg ? ": " : "", msg ? msg : "");
        } else {
                response_fill(&c->resp, x, c->attempt, code, msg);
                call_end(c, 0, NULL);
                return 1;
        }
        if (c->attempt >= c->p.max_attempts) {
                response_fill(&c->resp, x, c->attempt, code, msg);
                call_end(c, 0, NULL);
                return 1;
        }
        free(code);
        free(msg);
        return 0;
}

/* libcurl ended an attempt: the request's end, or its next attempt. */
static void attempt_done(struct http_running *t, CURLcode cc)
{
        struct aws_http_call *c = (struct aws_http_call *)((char *)t - offsetof(struct aws_http_call, run));
        const struct aws_http_request *req = c->req;
        bool retry_now = false;

        c->h->api->easy_setopt(c->run.easy, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
        c->h->api->slist_free_all(c->hl);
        c->hl = NULL;
        if (attempt_judge(c, cc, &retry_now))
                return;
        if (c->attempt >= c->p.max_attempts) {
                call_fail(c, c->last_errno, "%s %s: gave up after %d attempt%s: %s", req->method, c->p.url,
                          c->attempt, c->attempt == 1 ? "" : "s", c->last);
                return;
        }
        if (c->x.to_fd && !c->out_seekable && c->x.streamed > 0) {
                call_fail(c, -EIO, "%s %s: %s (not retried: part of the body was already written to a pipe)",
                          req->method, c->p.url, c->last);
                return;
        }
        long delay = retry_now ? 0 : backoff_delay(c->h, &c->x, c->attempt);
        if (req->deadline_ms >= 0 && aws_now_ms() + delay >= req->deadline_ms) {
                call_fail(c, -ETIMEDOUT, "%s %s: attempt %d failed (%s) and the deadline leaves no time for "
                          "another", req->method, c->p.url, c->attempt, c->last);
                return;
        }
        if (req->notice) {
                _cleanup_free_ char *m = xasprintf("%s %s: attempt %d of %d failed: %s; retrying in %.1f s",
                                                   req->method, c->p.url, c->attempt, c->p.max_attempts, c->last,
                                                   (double)delay / 1000.0);
                req->notice(req->userdata, m);
        }
        if (pause_start(c, delay) < 0)
                call_fail(c, -ENOMEM, "%s %s: cannot wait before attempt %d", req->method, c->p.url,
                          c->attempt + 1);
}

/* ---- plain transfers with a retry policy ----------------------------------------- */

static void fetch_end(struct aws_http_call *c, enum aws_fetch_end end, int outcome)
{
        c->fend = end;
        c->outcome = outcome;
        call_end(c, c->r, TAKE_PTR(c->msg));
}

static void fetch_attempt_done(struct http_running *t, CURLcode cc)
{
        struct aws_http_call *c = (struct aws_http_call *)((char *)t - offsetof(struct aws_http_call, run));
        const struct aws_http_fetch *f = c->fetch;
        struct aws_http_transfer_result res;
        bool retry = false;
        int o;

        http_transfer_finish(c->h, &c->x, cc, c->errbuf, &res);
        o = f->end(f->userdata, &res, &retry);
        aws_http_transfer_result_done(&res);
        if (!retry || c->attempt >= f->retry.max_attempts) {
                fetch_end(c, AWS_FETCH_ENDED, o);
                return;
        }
        long d = jitter(c->delay);
        if (f->deadline_ms >= 0 && aws_now_ms() + d >= f->deadline_ms) {
                fetch_end(c, AWS_FETCH_NO_TIME, o);
                return;
        }
        if (f->pausing)
                f->pausing(f->userdata, c->attempt, d);
        c->delay = c->delay > f->retry.cap_ms / 2 ? f->retry.cap_ms : c->delay * 2;
        if (pause_start(c, d) < 0) {
                c->r = -ENOMEM;
                c->msg = xasprintf("cannot wait before attempt %d", c->attempt + 1);
                fetch_end(c, AWS_FETCH_REFUSED, o);
        }
}

/* Sends attempt c->attempt of a fetch: 0 (sent, or the fetch ended), or
 * -errno with a message (nothing sent). */
static int fetch_attempt_start(struct aws_http_call *c, char **reterr_msg)
{
        const struct aws_http_fetch *f = c->fetch;
        long timeout_ms = 0;
        int o = f->begin(f->userdata, c->attempt, &timeout_ms), r;

        if (o >= 0) {
                fetch_end(c, AWS_FETCH_ENDED, o);
                return 0;
        }
        c->tx = f->t;
        c->tx.timeout_ms = timeout_ms;
        http_xfer_done(&c->x);
        if (!c->run.easy)
                c->run.easy = http_easy_take(c->h);
        if (!c->run.easy)
                return errmsg_set(reterr_msg, -ENOMEM, "libcurl cannot create a handle");
        r = http_transfer_prepare(c->h, c->run.easy, &c->tx, &c->x, c->errbuf);
        if (r < 0)
                return errmsg_set(reterr_msg, r, r == -EPROTONOSUPPORT ? "libcurl cannot be limited to http and https"
                                                                     : "libcurl refused the URL");
        c->run.done = fetch_attempt_done;
        return http_multi_add(c->h, c->ev, &c->run, reterr_msg);
}

static void hashing_stop(struct aws_http_call *c)
{
        c->hashing = sdev->source_disable_unref(c->hashing);
        hash_abort(c->hc);
        c->hc = NULL;
        free(c->hbuf);
        c->hbuf = NULL;
}

static void call_free(struct aws_http_call *c)
{
        hashing_stop(c);
        http_multi_remove(c->h, &c->run);
        http_easy_give(c->h, c->run.easy);
        if (c->hl)
                c->h->api->slist_free_all(c->hl);
        c->pause = sdev->source_disable_unref(c->pause);
        c->end = sdev->source_disable_unref(c->end);
        prepared_done(&c->p);
        http_xfer_done(&c->x);
        aws_http_response_done(&c->resp);
        aws_http_transfer_result_done(c->stopped);
        free_many(c->stopped, c->last, c->msg, c);
}

static int on_end(sd_event_source *s, void *userdata)
{
        struct aws_http_call *c = userdata;

        (void)s;
        /* Nothing of the request runs any more (a cancel may end it in flight). */
        http_multi_remove(c->h, &c->run);
        c->pause = sdev->source_disable_unref(c->pause);
        if (c->fetch)
                c->fetch_done(c->userdata, c->fend, c->outcome, c->r, c->msg, c->stopped);
        else
                c->done(c->userdata, c->r, &c->resp, &c->msg);
        call_free(c);
        return 0;
}

/* A piece of the fd body hashed (an idle source, so that the transfers
 * in flight and the runner's signals and timers go first): a part of up
 * to 5 GiB never holds the loop.  The first attempt starts after it. */
static int on_hash(sd_event_source *s, void *userdata)
{
        struct aws_http_call *c = userdata;
        const struct aws_http_request *req = c->req;
        size_t want = req->body_len - c->hashed < HASH_CHUNK ? req->body_len - c->hashed : HASH_CHUNK;
        unsigned char d[HASH_MAX_LEN];
        size_t dlen;
        ssize_t n = 0;

        (void)s;
        if (want > 0) {
                n = pread(req->body_fd, c->hbuf, want, req->body_offset + (off_t)c->hashed);
                if (n < 0 && errno == EINTR)
                        return 0;
                if (n <= 0) {
                        int r = n < 0 ? -errno : -ENODATA;

                        hashing_stop(c);
                        call_fail(c, r, "cannot read the body: %s",
                                  n < 0 ? strerror(-r) : "the file is shorter than the range to send");
                        return 0;
                }
                if (hash_update(c->hc, c->hbuf, (size_t)n) < 0) {
                        hashing_stop(c);
                        call_fail(c, -EIO, "cannot hash the body");
                        return 0;
                }
                c->hashed += (size_t)n;
                if (c->hashed < req->body_len)
                        return 0;
        }
        int r = hash_end(c->hc, d, &dlen);
        c->hc = NULL;
        hashing_stop(c);
        if (r < 0) {
                call_fail(c, r, "cannot hash the body");
                return 0;
        }
        hash_hex(d, dlen, c->p.payload_hash);
        c->p.has_payload_hash = true;
        attempt_start(c);
        return 0;
}

/* Starts hashing the fd body: 0, or -errno with a message. */
static int hashing_start(struct aws_http_call *c, char **reterr_msg)
{
        _cleanup_free_ char *why = NULL;
        int r = hash_begin(HASH_SHA256, &c->hc, &why);

        if (r < 0)
                return errmsg_set(reterr_msg, r, "cannot hash the body: %s", why);
        c->hbuf = xmalloc(HASH_CHUNK);
        if (sdev->add_defer(c->ev, &c->hashing, on_hash, c) < 0 ||
            sdev->source_set_priority(c->hashing, SD_EVENT_PRIORITY_IDLE) < 0 ||
            sdev->source_set_enabled(c->hashing, SD_EVENT_ON) < 0)
                return errmsg_set(reterr_msg, -ENOMEM, "cannot add event sources for the request");
        return 0;
}

int aws_http_send_start(struct aws_http *h, sd_event *ev, const struct aws_http_request *req,
                        const struct aws_http_cred_source *creds, aws_http_call_done_fn done, void *userdata,
                        struct aws_http_call **ret_call, char **reterr_msg)
{
        struct aws_http_call *c;
        int r;

        if (!h || !req || !ev || !done)
                return errmsg_set(reterr_msg, -EINVAL, "no client, request, loop or end");
        r = sdev_load(reterr_msg);
        if (r < 0)
                return r;
        c = xcalloc(1, sizeof *c);
        *c = (struct aws_http_call){
                .h = h, .ev = ev, .req = req, .has_creds = creds != NULL, .attempt = 1, .last_errno = -EIO,
                .done = done, .userdata = userdata,
        };
        if (creds)
                c->creds = *creds;
        r = prepare(req, h, &c->p, reterr_msg);
        if (r >= 0 && (sdev->add_defer(ev, &c->end, on_end, c) < 0 ||
                       sdev->source_set_enabled(c->end, SD_EVENT_OFF) < 0))
                r = errmsg_set(reterr_msg, -ENOMEM, "cannot add event sources for the request");
        if (r < 0) {
                call_free(c);
                return r;
        }
        if (req->body_to_fd) {
                struct stat st;

                c->out_start = lseek(req->out_fd, 0, SEEK_CUR);
                c->out_seekable = c->out_start >= 0;
                if (!c->out_seekable)
                        c->out_start = 0;
                c->out_regular = fstat(req->out_fd, &st) == 0 && S_ISREG(st.st_mode);
        }
        if (c->p.hash_fd) {
                r = hashing_start(c, reterr_msg);
                if (r < 0) {
                        call_free(c);
                        return r;
                }
        } else {
                attempt_start(c);
        }
        if (ret_call)
                *ret_call = c;
        return 0;
}

void aws_http_call_cancel(struct aws_http_call *c)
{
        if (!c || c->ended)
                return;
        c->pause = sdev->source_disable_unref(c->pause);
        hashing_stop(c);
        if (!c->fetch) {
                http_multi_remove(c->h, &c->run);
                call_fail(c, -ECANCELED, "%s %s: cancelled", c->req->method, c->p.url);
                return;
        }
        if (c->run.added) {
                /* What the stopped attempt got so far. */
                http_multi_remove(c->h, &c->run);
                c->stopped = xcalloc(1, sizeof *c->stopped);
                http_transfer_finish(c->h, &c->x, CURLE_ABORTED_BY_CALLBACK, c->errbuf, c->stopped);
                free(c->stopped->reason);
                c->stopped->reason = xstrdup("the transfer was cancelled");
                c->stopped->failed = true;
                c->stopped->transient = false;
                c->stopped->timed_out = false;
        }
        fetch_end(c, AWS_FETCH_CANCELLED, 0);
}

int aws_http_fetch_start(struct aws_http *h, sd_event *ev, const struct aws_http_fetch *f,
                         aws_http_fetch_done_fn done, void *userdata, struct aws_http_call **ret_call,
                         char **reterr_msg)
{
        struct aws_http_call *c;
        int r = sdev_load(reterr_msg);

        if (r < 0)
                return r;
        c = xcalloc(1, sizeof *c);
        *c = (struct aws_http_call){
                .h = h, .ev = ev, .fetch = f, .attempt = 1, .delay = f->retry.delay_ms, .fetch_done = done,
                .userdata = userdata,
        };
        if (sdev->add_defer(ev, &c->end, on_end, c) < 0 || sdev->source_set_enabled(c->end, SD_EVENT_OFF) < 0)
                r = errmsg_set(reterr_msg, -ENOMEM, "cannot add event sources for the transfer");
        else
                r = fetch_attempt_start(c, reterr_msg);
        if (r < 0) {
                call_free(c);
                return r;
        }
        if (ret_call)
                *ret_call = c;
        return 0;
}

/* The blocking request: the same job, driven on the client's own loop. */
struct sync_call {
        bool over;
        int r;
        char *msg;
        struct aws_http_response resp;
};

static void sync_done(void *userdata, int r, struct aws_http_response *resp, char **msg)
{
        struct sync_call *s = userdata;

        s->over = true;
        s->r = r;
        s->msg = TAKE_PTR(*msg);
        s->resp = *resp;
        *resp = (struct aws_http_response){ 0 };
}

int aws_http_send(struct aws_http *h, const struct aws_http_request *req, const struct aws_http_cred_source *creds,
                  struct aws_http_response *ret, char **reterr_msg)
{
        struct sync_call s = { 0 };
        sd_event *ev = NULL;
        int r;

        if (!h || !req || !ret)
                return errmsg_set(reterr_msg, -EINVAL, "no client, request or response");
        r = aws_http_own_loop(h, &ev, reterr_msg);
        if (r < 0)
                return r;
        r = aws_http_send_start(h, ev, req, creds, sync_done, &s, NULL, reterr_msg);
        if (r < 0)
                return r;
        r = aws_http_run_until(ev, &s.over);
        if (r < 0) /* the loop itself failed: nothing can end the request */
                return errmsg_set(reterr_msg, r, "the HTTP client's event loop failed: %s", strerror(-r));
        if (s.r < 0) {
                if (reterr_msg)
                        *reterr_msg = TAKE_PTR(s.msg);
                free(s.msg);
                return s.r;
        }
        *ret = s.resp;
        return 0;
}

void aws_http_response_done(struct aws_http_response *r)
{
        if (!r)
                return;
        free_many(r->body, r->error_code, r->error_message, r->request_id);
        http_headers_free(r->headers, r->n_headers);
        free(r->headers);
        *r = (struct aws_http_response){ 0 };
}

const char *aws_http_response_header(const struct aws_http_response *r, const char *name)
{
        for (size_t i = 0; r && i < r->n_headers; i++)
                if (!strcasecmp(r->headers[i].name, name))
                        return r->headers[i].value;
        return NULL;
}
