/* http_send.c: the request loop of the one HTTP transport: checking a
 * request, building its URL from the endpoint, signing every attempt with
 * aws/sigv4 (credentials from a source the caller gives), retrying with
 * jittered exponential backoff, clock-skew correction and one retry with
 * fresh credentials on an expired token, and filling the response.  The
 * rules are in http.h; libcurl is in http_transport.c. */
#include "http_send.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

static int hash_fd_range(int fd, off_t off, size_t len, char hex[65], char **reterr_msg)
{
        struct hash_ctx *hc = NULL;
        unsigned char d[HASH_MAX_LEN];
        size_t dlen, done = 0;
        _cleanup_free_ char *why = NULL;
        int r = hash_begin(HASH_SHA256, &hc, &why);

        if (r < 0)
                return errmsg_set(reterr_msg, r, "cannot hash the body: %s", why);
        _cleanup_free_ char *buf = xmalloc(HASH_CHUNK);
        while (done < len) {
                size_t want = len - done < HASH_CHUNK ? len - done : HASH_CHUNK;
                ssize_t n = pread(fd, buf, want, off + (off_t)done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = n < 0 ? -errno : -ENODATA;
                        hash_abort(hc);
                        return errmsg_set(reterr_msg, r, "cannot read the body: %s",
                                          n < 0 ? strerror(-r) : "the file is shorter than the range to send");
                }
                r = hash_update(hc, buf, (size_t)n);
                if (r < 0) {
                        hash_abort(hc);
                        return errmsg_set(reterr_msg, r, "cannot hash the body");
                }
                done += (size_t)n;
        }
        r = hash_end(hc, d, &dlen);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "cannot hash the body");
        hash_hex(d, dlen, hex);
        return 0;
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

static void sleep_ms(long ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Everything of a request that stays the same between attempts. */
struct prepared {
        struct endpoint ep;
        char *url;
        char *sign_path;
        char payload_hash[65];
        bool has_payload_hash;
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
                        r = hash_fd_range(req->body_fd, req->body_offset, req->body_len, p->payload_hash, reterr_msg);
                        if (r < 0)
                                return r;
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

int aws_http_send(struct aws_http *h, const struct aws_http_request *req, const struct aws_http_cred_source *creds,
                  struct aws_http_response *ret, char **reterr_msg)
{
        _cleanup_(prepared_done) struct prepared p = { 0 };
        _cleanup_(http_xfer_done) struct http_xfer x = { 0 };
        _cleanup_free_ char *last = NULL; /* why the last attempt failed */
        char errbuf[CURL_ERROR_SIZE];
        int64_t deadline = req ? req->deadline_ms : -1;
        bool token_retried = false;
        int last_errno = -EIO, r;
        off_t out_start = 0;
        bool out_seekable = false, out_regular = false;

        if (!h || !req || !ret)
                return errmsg_set(reterr_msg, -EINVAL, "no client, request or response");
        if (h->busy)
                return errmsg_set(reterr_msg, -EBUSY, "the HTTP client is running a transfer already");
        r = prepare(req, h, &p, reterr_msg);
        if (r < 0)
                return r;
        if (req->body_to_fd) {
                struct stat st;

                out_start = lseek(req->out_fd, 0, SEEK_CUR);
                out_seekable = out_start >= 0;
                if (!out_seekable)
                        out_start = 0;
                out_regular = fstat(req->out_fd, &st) == 0 && S_ISREG(st.st_mode);
        }

        for (int attempt = 1;; attempt++) {
                struct sigv4_credentials cred = { 0 };
                struct curl_slist *hl = NULL;
                time_t signed_at = 0, server_time = 0;
                long timeout_ms = req->attempt_timeout_ms > 0 ? req->attempt_timeout_ms : 0;
                bool retry_now = false;

                if (deadline >= 0) {
                        int64_t left = deadline - aws_now_ms();

                        if (left <= 0) {
                                if (last)
                                        return errmsg_set(reterr_msg, -ETIMEDOUT, "%s %s: the deadline passed after %d "
                                                          "attempt%s; the last failed: %s", req->method, p.url,
                                                          attempt - 1, attempt == 2 ? "" : "s", last);
                                return errmsg_set(reterr_msg, -ETIMEDOUT,
                                                  "%s %s: the deadline passed before the request "
                                                  "was sent", req->method, p.url);
                        }
                        if (timeout_ms == 0 || left < timeout_ms)
                                timeout_ms = left > LONG_MAX ? LONG_MAX : (long)left;
                }
                if (p.signed_) {
                        char *err = NULL;

                        r = creds ? creds->get(creds->userdata, deadline, &cred, &err) : -ENOKEY;
                        if (r < 0) {
                                errmsg_set(reterr_msg, r, "%s", err ? err : strerror(-r));
                                free(err);
                                return r;
                        }
                }
                r = build_headers(h, req, &p, p.signed_ ? &cred : NULL, &hl, &signed_at, reterr_msg);
                if (r < 0)
                        return r;

                /* Fresh state for this attempt. */
                if (x.streamed > 0 && out_regular && ftruncate(req->out_fd, out_start) < 0) {
                        r = -errno;
                        h->api->slist_free_all(hl);
                        return errmsg_set(reterr_msg, r, "cannot truncate the output file for a retry: %s",
                                          strerror(-r));
                }
                http_xfer_reset_headers(&x);
                sb_free(&x.body);
                x = (struct http_xfer){
                        .mem = req->body, .from_fd = req->body_from_fd, .in_fd = req->body_fd,
                        .in_off = req->body_offset, .in_len = req->body_len,
                        .body_max = req->max_body ? req->max_body : AWS_HTTP_DEFAULT_MAX_BODY,
                        .to_fd = req->body_to_fd, .out_fd = req->out_fd, .out_seekable = out_seekable,
                        .out_start = out_start,
                };
                errbuf[0] = '\0';
                r = http_set_request_options(h, req, p.url, &x, hl, timeout_ms, errbuf);
                if (r < 0) {
                        h->api->slist_free_all(hl);
                        return errmsg_set(reterr_msg, r, r == -EPROTONOSUPPORT
                                          ? "libcurl cannot be limited to http and https; refusing "
                                          "to send"
                                          : "libcurl refused the URL %s", p.url);
                }
                CURLcode c = h->api->easy_perform(h->curl);
                h->api->easy_setopt(h->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
                h->api->slist_free_all(hl);

                if (x.write_err)
                        return errmsg_set(reterr_msg, -x.write_err, "%s %s: cannot write the response body: %s",
                                          req->method, p.url, strerror(x.write_err));
                if (x.read_err)
                        return errmsg_set(reterr_msg, -x.read_err, "%s %s: cannot read the request body: %s",
                                          req->method,
                                          p.url, x.read_err == ENODATA ? "the file is shorter than the range to send"
                                          : strerror(x.read_err));
                if (x.too_big)
                        return errmsg_set(reterr_msg, -EFBIG, "%s %s: the response body is larger than %zu bytes",
                                          req->method, p.url, x.body_max);

                free(last);
                last = NULL;
                if (c != CURLE_OK) {
                        const char *why = errbuf[0] ? errbuf : h->api->easy_strerror(c);
                        size_t wl = strlen(why);

                        while (wl > 0 && (why[wl - 1] == '\n' || why[wl - 1] == '.'))
                                wl--;
                        last = xasprintf("%.*s", (int)wl, why);
                        last_errno = http_curl_errno(c);
                        if (c == CURLE_OPERATION_TIMEDOUT && deadline >= 0 && aws_now_ms() + 20 >= deadline)
                                return errmsg_set(reterr_msg, -ETIMEDOUT, "%s %s: the deadline passed: %s", req->method,
                                                  p.url, last);
                        if (!http_curl_transient(c))
                                return errmsg_set(reterr_msg, last_errno, "%s %s: %s", req->method, p.url, last);
                } else if (http_status_ok(x.status)) {
                        if (x.to_fd && out_seekable)
                                (void)lseek(req->out_fd, out_start + (off_t)x.streamed, SEEK_SET);
                        response_fill(ret, &x, attempt, NULL, NULL);
                        return 0;
                } else {
                        char *code = NULL, *msg = NULL;
                        const char *date = http_xfer_header(&x, "Date");

                        http_parse_error(x.body.s, x.body.len, http_xfer_header(&x, "x-amzn-ErrorType"), &code, &msg,
                                         &server_time);
                        if (date)
                                (void)aws_time_parse(date, &server_time);
                        if (p.signed_ && http_code_is_skew(code) && server_time &&
                            labs((long)(server_time - signed_at)) >= SKEW_MIN_S) {
                                long off = (long)(server_time - time(NULL));

                                last = xasprintf("HTTP %ld %s: the server's clock is %+lds from ours; re-signing "
                                                 "with that offset", x.status, code, off);
                                h->clock_offset = off;
                                retry_now = true;
                        } else if (p.signed_ && http_code_is_expired_token(code) && !token_retried) {
                                last = xasprintf("HTTP %ld %s: the credentials expired; fetching new ones",
                                                 x.status, code);
                                creds->invalidate(creds->userdata);
                                token_retried = true;
                                retry_now = true;
                        } else if (http_status_retryable(x.status, code) && attempt < p.max_attempts) {
                                last = xasprintf("HTTP %ld%s%s%s%s", x.status, code ? " " : "", code ? code : "",
                                                 msg ? ": " : "", msg ? msg : "");
                        } else {
                                response_fill(ret, &x, attempt, code, msg);
                                return 0;
                        }
                        if (attempt >= p.max_attempts) {
                                response_fill(ret, &x, attempt, code, msg);
                                return 0;
                        }
                        free(code);
                        free(msg);
                }

                if (attempt >= p.max_attempts)
                        return errmsg_set(reterr_msg, last_errno, "%s %s: gave up after %d attempt%s: %s", req->method,
                                          p.url, attempt, attempt == 1 ? "" : "s", last);
                if (x.to_fd && !out_seekable && x.streamed > 0)
                        return errmsg_set(reterr_msg, -EIO, "%s %s: %s (not retried: part of the body was already "
                                          "written to a pipe)", req->method, p.url, last);

                long delay = 0;
                if (!retry_now) {
                        long d = h->backoff_ms;
                        for (int i = 1; i < attempt && d < h->backoff_cap_ms; i++)
                                d *= 2;
                        if (d > h->backoff_cap_ms)
                                d = h->backoff_cap_ms;
                        delay = jitter(d);
                        const char *ra = http_xfer_header(&x, "Retry-After");
                        if (ra && x.status) {
                                char *end;
                                long s = strtol(ra, &end, 10);
                                if (!*end && s > 0 && s * 1000 > delay)
                                        delay = s * 1000 > h->backoff_cap_ms ? h->backoff_cap_ms : s * 1000;
                        }
                }
                if (deadline >= 0 && aws_now_ms() + delay >= deadline)
                        return errmsg_set(reterr_msg, -ETIMEDOUT,
                                          "%s %s: attempt %d failed (%s) and the deadline leaves "
                                          "no time for another", req->method, p.url, attempt, last);
                if (req->notice) {
                        _cleanup_free_ char *m = xasprintf("%s %s: attempt %d of %d failed: %s; retrying in %.1f s",
                                                           req->method, p.url, attempt, p.max_attempts, last,
                                                           (double)delay / 1000.0);
                        req->notice(req->userdata, m);
                }
                if (delay > 0)
                        sleep_ms(delay);
        }
}

void aws_http_response_done(struct aws_http_response *r)
{
        if (!r)
                return;
        free(r->body);
        free(r->error_code);
        free(r->error_message);
        free(r->request_id);
        for (size_t i = 0; i < r->n_headers; i++) {
                free((char *)r->headers[i].name);
                free((char *)r->headers[i].value);
        }
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
