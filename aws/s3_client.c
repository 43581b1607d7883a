/* s3_client.c: the S3 client itself: its settings, which endpoint, region
 * and addressing style (virtual-hosted or path) each request uses, the
 * bucket regions learnt from redirects, sending a request through aws/http
 * and turning S3's answers into messages that name the bucket and key. */
#include "s3.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "tunables.h"
#include "errmsg.h"
#include "credentials.h"
#include "http.h"
#include "s3_internal.h"
#include "sigv4.h"
#include "strbuf.h"


char *s3_uri_text(const char *bucket, const char *key)
{
        return xasprintf("s3://%s/%s", bucket, key ? key : "");
}

/* ---- the client ------------------------------------------------------------ */

struct s3 *s3_new(char **reterr_msg)
{
        struct aws_http *h = aws_http_new(reterr_msg);
        struct s3 *c;

        if (!h)
                return NULL;
        c = xcalloc(1, sizeof *c);
        c->http = h;
        c->creds = aws_cred_provider_new();
        c->deadline_ms = -1;
        c->threshold = env_u64_in("OPENTOE_S3_MULTIPART_THRESHOLD", S3_DEFAULT_MULTIPART_THRESHOLD, S3_MIN_PART_SIZE,
                               UINT64_MAX / 2);
        c->part_size = env_u64_in("OPENTOE_S3_PART_SIZE", S3_DEFAULT_PART_SIZE, S3_MIN_PART_SIZE, S3_MAX_PART_SIZE);
        c->max_objects = (size_t)env_u64_in("OPENTOE_S3_MAX_OBJECTS", S3_DEFAULT_MAX_OBJECTS, 1, 10000000);
        c->concurrency = (size_t)env_u64_in("OPENTOE_S3_CONCURRENCY", S3_DEFAULT_CONCURRENCY, 1, 16);
        c->force_path_style = env_true("AWS_S3_FORCE_PATH_STYLE");
        return c;
}

struct s3 *s3_free(struct s3 *c)
{
        if (!c)
                return NULL;
        aws_http_free(c->http);
        aws_cred_provider_free(c->creds);
        for (size_t i = 0; i < c->n_regions; i++) {
                free(c->regions[i].bucket);
                free(c->regions[i].region);
        }
        free(c->region);
        free(c);
        return NULL;
}

void s3_set_deadline(struct s3 *c, int64_t deadline_ms)
{
        c->deadline_ms = deadline_ms;
}

void s3_set_notice(struct s3 *c, void (*notice)(void *userdata, const char *msg), void *userdata)
{
        c->notice = notice;
        c->userdata = userdata;
}

/* The chain's region, or us-east-1 when it has none: a bucket elsewhere
 * then answers with its own region. */
const char *s3_client_region(struct s3 *c)
{
        const char *r = NULL;
        char *err = NULL;

        if (c->region)
                return c->region;
        if (aws_region_resolve(c->creds, c->deadline_ms, &r, NULL, &err) >= 0 && r && *r)
                c->region = xstrdup(r);
        else
                c->region = xstrdup(S3_DEFAULT_REGION);
        free(err);
        return c->region;
}

static const char *bucket_region(struct s3 *c, const char *bucket)
{
        for (size_t i = 0; i < c->n_regions; i++)
                if (!strcmp(c->regions[i].bucket, bucket))
                        return c->regions[i].region;
        return s3_client_region(c);
}

void s3_bucket_region_set(struct s3 *c, const char *bucket, const char *region)
{
        for (size_t i = 0; i < c->n_regions; i++)
                if (!strcmp(c->regions[i].bucket, bucket)) {
                        free(c->regions[i].region);
                        c->regions[i].region = xstrdup(region);
                        return;
                }
        if (c->n_regions == S3_MAX_REGIONS) {
                free(c->regions[0].bucket);
                free(c->regions[0].region);
                memmove(&c->regions[0], &c->regions[1], (S3_MAX_REGIONS - 1) * sizeof c->regions[0]);
                c->n_regions--;
        }
        c->regions[c->n_regions].bucket = xstrdup(bucket);
        c->regions[c->n_regions++].region = xstrdup(region);
}

/* The endpoint and path of a request: virtual-hosted for AWS's own
 * endpoint and a DNS-compatible bucket, path style otherwise. */
static int address(struct s3 *c, const char *bucket, const char *key, const char *region, char **ret_endpoint,
                   char **ret_path, char **reterr_msg)
{
        _cleanup_free_ char *url = NULL, *def = NULL, *enc = NULL;
        char *err = NULL;
        bool path_style;
        int r;

        r = aws_endpoint_resolve("s3", region, NULL, &url, &err);
        if (r < 0) {
                errmsg_set(reterr_msg, r, "cannot find the S3 endpoint: %s", err ? err : strerror(-r));
                free(err);
                return r;
        }
        def = xasprintf("https://s3.%s.amazonaws.com%s", region, !strncmp(region, "cn-", 3) ? ".cn" : "");
        path_style = strcmp(url, def) != 0 || c->force_path_style || !s3_bucket_dns_compatible(bucket);
        enc = key ? sigv4_uri_encode(key, strlen(key), true) : xstrdup("");
        if (path_style) {
                *ret_endpoint = TAKE_PTR(url);
                *ret_path = key ? xasprintf("/%s/%s", bucket, enc) : xasprintf("/%s", bucket);
        } else {
                const char *rest = strstr(url, "://") + 3;

                *ret_endpoint = xasprintf("https://%s.%s", bucket, rest);
                *ret_path = xasprintf("/%s", enc);
        }
        return 0;
}

/* The region a redirect or a malformed-authorization answer names, if it
 * differs from the one used. */
static char *answer_region(const struct aws_http_response *a, const char *used)
{
        const char *h = aws_http_response_header(a, "x-amz-bucket-region");
        char *r = NULL;

        if (a->status != 301 && a->status != 307 && a->status != 400)
                return NULL;
        if (a->status == 400 && (!a->error_code || (strcmp(a->error_code, "AuthorizationHeaderMalformed") &&
                                                    strcmp(a->error_code, "IllegalLocationConstraintException"))))
                return NULL;
        if (h && *h)
                r = xstrdup(h);
        else if (a->body) {
                const char *p = strstr(a->body, "<Region>"), *q;

                if (p && (q = strstr(p + 8, "</Region>")) && q - p - 8 > 0 && q - p - 8 < 64)
                        r = xstrndup(p + 8, (size_t)(q - p - 8));
        }
        if (r) {
                for (const char *c = r; *c; c++)
                        if (!(isalnum((unsigned char)*c) || *c == '-')) {
                                free(r);
                                return NULL;
                        }
                if (!*r || !strcmp(r, used)) {
                        free(r);
                        return NULL;
                }
        }
        return r;
}

static bool endpoint_is_https(const char *endpoint)
{
        return !strncasecmp(endpoint, "https://", 8);
}

/* One request in flight: addressed in the bucket's region, and sent once
 * more in the bucket's own region when S3 names another one. */
struct s3_call {
        struct s3 *c;
        sd_event *ev;
        struct s3_req q;
        const char *key;                /* named by a non-2xx answer's message */
        bool check;                     /* a non-2xx answer is a failure */
        int round;
        char *what, *endpoint, *path, *region;
        struct aws_http_header hdrs[2];
        struct aws_http_request rq;
        struct aws_http_call *http;
        s3_call_done_fn done;
        void *userdata;
};

static void call_free(struct s3_call *j)
{
        free_many(j->what, j->endpoint, j->path, j->region, j);
}

static void on_answer(void *userdata, int r, struct aws_http_response *resp, char **msg);

/* Sends the request of this round. */
static int call_send(struct s3_call *j, char **reterr_msg)
{
        const struct s3_req *q = &j->q;
        struct s3 *c = j->c;
        bool has_body = q->body_len > 0 || q->body_from_fd;
        size_t nh = 0;
        char *err = NULL;
        int r;

        free_many(j->endpoint, j->path, j->region);
        j->endpoint = j->path = NULL;
        j->region = xstrdup(bucket_region(c, q->bucket));
        r = address(c, q->bucket, q->key, j->region, &j->endpoint, &j->path, reterr_msg);
        if (r < 0)
                return r;
        if (q->owner)
                j->hdrs[nh++] = (struct aws_http_header){ "x-amz-expected-bucket-owner", q->owner };
        if (q->content_type)
                j->hdrs[nh++] = (struct aws_http_header){ "Content-Type", q->content_type };
        j->rq = (struct aws_http_request){
                .method = q->method,
                .endpoint = j->endpoint,
                .path = j->path,
                .query = q->query,
                .headers = j->hdrs,
                .n_headers = nh,
                .body = q->body,
                .body_len = q->body_len,
                .body_from_fd = q->body_from_fd,
                .body_fd = q->body_fd,
                .body_offset = q->body_offset,
                .payload_hash = has_body && endpoint_is_https(j->endpoint) ? SIGV4_UNSIGNED_PAYLOAD : NULL,
                .service = "s3",
                .region = j->region,
                .sigv4_flags = SIGV4_S3,
                .creds = c->creds,
                .max_body = q->max_body ? q->max_body : S3_SMALL_BODY,
                .body_to_fd = q->body_to_fd,
                .out_fd = q->out_fd,
                .deadline_ms = q->deadline_ms ? q->deadline_ms : c->deadline_ms,
                .notice = c->notice,
                .userdata = c->userdata,
        };
        r = aws_http_request_start(c->http, j->ev, &j->rq, on_answer, j, &j->http, &err);
        if (r < 0) {
                errmsg_set(reterr_msg, r, "%s %s: %s", q->op, j->what, err ? err : strerror(-r));
                free(err);
        }
        return r;
}

static void call_end(struct s3_call *j, int r, struct aws_http_response *resp, char *msg)
{
        j->done(j->userdata, r, resp, &msg);
        free(msg);
        call_free(j);
}

static void on_answer(void *userdata, int r, struct aws_http_response *resp, char **msg)
{
        struct s3_call *j = userdata;
        const struct s3_req *q = &j->q;
        struct aws_http_response none = { 0 };
        char *m = NULL, *other;

        j->http = NULL;
        if (r < 0) {
                errmsg_set(&m, r, "%s %s: %s", q->op, j->what, *msg ? *msg : strerror(-r));
                call_end(j, r, &none, m);
                return;
        }
        if (j->round == 0 && (other = answer_region(resp, j->region))) {
                s3_bucket_region_set(j->c, q->bucket, other);
                if (j->c->notice) {
                        _cleanup_free_ char *n = xasprintf("%s %s: the bucket is in %s, not %s; sending there",
                                                           q->op, j->what, other, j->region);
                        j->c->notice(j->c->userdata, n);
                }
                free(other);
                j->round++;
                r = call_send(j, &m);
                if (r < 0)
                        call_end(j, r, &none, m);
                return;
        }
        if (j->check && !(resp->status >= 200 && resp->status <= 299)) {
                r = s3_answer_error(resp, q->op, q->bucket, j->key, q->owner, &m);
                call_end(j, r, &none, m);
                return;
        }
        call_end(j, 0, resp, NULL);
}

int s3_call_start(struct s3 *c, sd_event *ev, const struct s3_req *q, bool check, const char *key,
                  s3_call_done_fn done, void *userdata, struct s3_call **ret, char **reterr_msg)
{
        struct s3_call *j = xcalloc(1, sizeof *j);
        int r;

        *j = (struct s3_call){
                .c = c, .ev = ev, .q = *q, .key = key, .check = check, .what = s3_uri_text(q->bucket, q->key),
                .done = done, .userdata = userdata,
        };
        r = call_send(j, reterr_msg);
        if (r < 0)
                call_free(j);
        else if (ret)
                *ret = j;
        return r;
}

void s3_call_cancel(struct s3_call *j)
{
        if (j && j->http)
                aws_http_call_cancel(j->http);
}

/* ---- blocking callers ------------------------------------------------------ */

void s3_wait_done(void *userdata, int r, char **msg)
{
        struct s3_wait *w = userdata;

        w->over = true;
        w->r = r;
        w->msg = TAKE_PTR(*msg);
}

sd_event *s3_wait_begin(struct s3 *c, struct s3_wait *w)
{
        sd_event *ev = NULL;

        *w = (struct s3_wait){ 0 };
        w->r = aws_http_own_loop(c->http, &ev, &w->msg);
        return w->r < 0 ? NULL : ev;
}

int s3_wait_end(struct s3_wait *w, sd_event *ev, int r, char **reterr_msg)
{
        if (ev && r >= 0) {
                r = aws_http_run_until(ev, &w->over);
                if (r < 0) {
                        free(w->msg);
                        return errmsg_set(reterr_msg, r, "the S3 client's event loop failed: %s", strerror(-r));
                }
                r = w->r;
        } else if (!ev) {
                r = w->r;
        }
        if (w->msg && reterr_msg && r < 0)
                *reterr_msg = TAKE_PTR(w->msg);
        free(w->msg);
        return r;
}

void s3_op_init(struct s3_op *op, struct s3 *c, sd_event *ev, const char *bucket, const char *key, const char *owner,
                int (*answered)(struct s3_op *op, struct aws_http_response *resp, char **msg),
                void (*free)(struct s3_op *op), s3_done_fn done, void *userdata)
{
        *op = (struct s3_op){
                .job = { .cancel = s3_op_cancel },
                .c = c, .ev = ev, .bucket = xstrdup(bucket), .key = xstrdup(key),
                .owner = owner ? xstrdup(owner) : NULL, .what = s3_uri_text(bucket, key),
                .done = done, .userdata = userdata, .answered = answered, .free = free,
        };
}

void s3_op_done(struct s3_op *op)
{
        free_many(op->bucket, op->key, op->owner, op->what);
}

void s3_op_cancel(struct s3_job *job)
{
        s3_call_cancel(((struct s3_op *)job)->call);
}

void s3_op_answered(void *userdata, int r, struct aws_http_response *resp, char **msg)
{
        struct s3_op *op = userdata;
        char *m = NULL;

        op->call = NULL;
        if (r >= 0)
                r = op->answered(op, resp, &m);
        if (r > 0)
                return;
        op->done(op->userdata, r, r < 0 && !m ? msg : &m);
        free(m);
        op->free(op);
}

int s3_op_started(struct s3_op *op, int r, struct s3_job **ret_job)
{
        if (r < 0) {
                op->free(op);
                return r;
        }
        if (ret_job)
                *ret_job = &op->job;
        return 0;
}

void s3_job_cancel(struct s3_job *j)
{
        if (j)
                j->cancel(j);
}

/* A blocking request: the same job on the client's own loop. */
struct call_wait {
        struct s3_wait w;
        struct aws_http_response *ret;
};

static void call_wait_done(void *userdata, int r, struct aws_http_response *resp, char **msg)
{
        struct call_wait *cw = userdata;

        *cw->ret = *resp;
        *resp = (struct aws_http_response){ 0 };
        s3_wait_done(&cw->w, r, msg);
}

static int call_blocking(struct s3 *c, const struct s3_req *q, bool check, const char *key,
                         struct aws_http_response *ret, char **reterr_msg)
{
        struct call_wait cw = { .ret = ret };
        sd_event *ev = s3_wait_begin(c, &cw.w);

        *ret = (struct aws_http_response){ 0 };
        return s3_wait_end(&cw.w, ev, ev ? s3_call_start(c, ev, q, check, key, call_wait_done, &cw, NULL, reterr_msg) : 0,
                           reterr_msg);
}

/* Sends one request (and once more in the bucket's own region when S3
 * names another one).  0 with *ret filled whatever the status, or -errno
 * with a message naming the operation and object. */
int s3_send(struct s3 *c, const struct s3_req *q, struct aws_http_response *ret, char **reterr_msg)
{
        return call_blocking(c, q, false, NULL, ret, reterr_msg);
}

/* Words a non-2xx answer: what went wrong with which bucket and key, then
 * S3's own code, message and request id. */
int s3_answer_error(const struct aws_http_response *a, const char *op, const char *bucket, const char *key,
                        const char *owner, char **reterr_msg)
{
        _cleanup_free_ char *detail = NULL, *what = s3_uri_text(bucket, key);
        const char *code = a->error_code ? a->error_code : "";
        int e = aws_http_status_error(a, &detail);

        if (!strcmp(code, "NoSuchKey") || (a->status == 404 && key && !*code))
                return errmsg_set(reterr_msg, -ENOENT, "%s %s: the key '%s' does not exist in bucket %s (%s)", op, what,
                                  key ? key : "", bucket, detail);
        if (!strcmp(code, "NoSuchBucket"))
                return errmsg_set(reterr_msg, -ENOENT, "%s %s: the bucket %s does not exist (%s)", op, what, bucket,
                                  detail);
        if (!strcmp(code, "NoSuchUpload"))
                return errmsg_set(reterr_msg, -ENOENT, "%s %s: the multipart upload is gone (%s)", op, what, detail);
        if (!strcmp(code, "InvalidAccessKeyId"))
                return errmsg_set(reterr_msg, -EACCES, "%s %s: S3 does not know the access key in use (%s)", op, what,
                                  detail);
        if (!strcmp(code, "AccessDenied") || a->status == 403) {
                if (owner)
                        return errmsg_set(reterr_msg, -EACCES,
                                          "%s %s: access denied; the bucket %s may not belong to the "
                                          "expected owner %s, or the credentials lack the permission (%s)", op, what,
                                          bucket, owner, detail);
                return errmsg_set(reterr_msg, -EACCES,
                                  "%s %s: access denied; the credentials lack the permission, or a "
                                  "bucket policy refuses it (%s)", op, what, detail);
        }
        return errmsg_set(reterr_msg, e < 0 ? e : -EIO, "%s %s: %s", op, what, detail);
}

int s3_call(struct s3 *c, const struct s3_req *q, const char *key, struct aws_http_response *ret, char **reterr_msg)
{
        return call_blocking(c, q, true, key, ret, reterr_msg);
}

