/* s3_put.c: PutObject and multipart uploads, streamed from a file, as
 * jobs on an event loop: the parts of a multipart upload run side by side
 * on the client's one multi handle. */
#include "s3.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "awstime.h"
#include "cleanup.h"
#include "hexdigit.h"
#include "errmsg.h"
#include "mkdirs.h"
#include "credentials.h"
#include "http.h"
#include "s3_internal.h"
#include "sigv4.h"
#include "strbuf.h"
#include "strv.h"

/* ---- uploading ----------------------------------------------------------------- */

/* A Content-Type from the key's extension, so that logs and documents
 * open as text in a browser; anything else is octet-stream. */
static const char *content_type(const char *key)
{
        static const struct {
                const char *ext, *type;
        } types[] = {
                { ".log", "text/plain; charset=utf-8" },  { ".txt", "text/plain; charset=utf-8" },
                { ".yaml", "text/yaml; charset=utf-8" },  { ".yml", "text/yaml; charset=utf-8" },
                { ".json", "application/json" },          { ".sh", "text/x-shellscript; charset=utf-8" },
                { ".ps1", "text/plain; charset=utf-8" },  { ".zip", "application/zip" },
                { ".gz", "application/gzip" },
        };
        const char *dot = strrchr(key, '.'), *slash = strrchr(key, '/');

        if (dot && (!slash || dot > slash))
                for (size_t i = 0; i < ELEMENTSOF(types); i++)
                        if (!strcasecmp(dot, types[i].ext))
                                return types[i].type;
        return "application/octet-stream";
}

/* How long an AbortMultipartUpload may take once the upload was cancelled. */
#define S3_ABORT_AFTER_CANCEL_MS 3000

struct s3_put;

/* One part in flight. */
struct part_slot {
        struct s3_put *p;
        size_t i;                       /* the part, 0-based */
        char *query;
        struct s3_call *call;
};

/* One upload: a PutObject, or a multipart upload (create, the parts side
 * by side, complete; abort on any failure). */
struct s3_put {
        struct s3_op op;
        int fd;
        uint64_t size, part;
        size_t nparts, next, running;
        char *id;                       /* the upload's */
        char *query;                    /* "uploadId=<id>", encoded: of the parts, the completion, the abort */
        char **etags;                   /* filled in by part index */
        struct part_slot *slots;        /* c->concurrency of them */
        size_t n_slots;
        struct strbuf body;             /* CompleteMultipartUpload's */
        struct s3_call *call;           /* the request of the upload itself */
        int r;                          /* the first failure */
        char *err;
        bool cancelled, aborting;
};

static void put_free(struct s3_op *op)
{
        struct s3_put *p = (struct s3_put *)op;

        for (size_t i = 0; i < p->n_slots; i++)
                free(p->slots[i].query);
        free(p->slots);
        strv_free_n(p->etags, p->nparts);
        sb_free(&p->body);
        s3_op_done(&p->op);
        free_many(p->id, p->query, p->err, p);
}

static void put_end(struct s3_put *p)
{
        p->op.done(p->op.userdata, p->r, &p->err);
        put_free(&p->op);
}

/* Keeps the first failure (a cancel's is the cancel). */
static void put_failed(struct s3_put *p, int r, char **msg)
{
        if (p->r < 0)
                return;
        p->r = r;
        p->err = msg && *msg ? TAKE_PTR(*msg) : xstrdup(strerror(-r));
}

static int start_call(struct s3_put *p, const struct s3_req *q, bool check, s3_call_done_fn done, void *userdata,
                      struct s3_call **ret)
{
        char *m = NULL;
        int r = s3_call_start(p->op.c, p->op.ev, q, check, p->op.key, done, userdata, ret, &m);

        if (r < 0) {
                put_failed(p, r, &m);
                free(m);
        }
        return r;
}

static void aborted(void *userdata, int r, struct aws_http_response *resp, char **msg)
{
        struct s3_put *p = userdata;

        (void)msg;
        p->call = NULL;
        if (r < 0 || !((resp->status >= 200 && resp->status <= 299) || resp->status == 404)) {
                char *m = xasprintf("%s; aborting the multipart upload %s failed too, so its parts may remain",
                                    p->err, p->id);
                free(p->err);
                p->err = m;
        }
        put_end(p);
}

/* Best effort: an upload that failed should leave no parts billed. */
static void abort_upload(struct s3_put *p)
{
        int64_t now = aws_now_ms();
        int64_t deadline = p->op.c->deadline_ms;

        p->aborting = true;
        if (p->cancelled && (deadline < 0 || deadline > now + S3_ABORT_AFTER_CANCEL_MS))
                deadline = now + S3_ABORT_AFTER_CANCEL_MS;
        struct s3_req q = {
                .op = "AbortMultipartUpload", .method = "DELETE", .bucket = p->op.bucket, .key = p->op.key,
                .query = p->query, .owner = p->op.owner, .deadline_ms = deadline,
        };
        char *m = NULL;

        if (s3_call_start(p->op.c, p->op.ev, &q, false, p->op.key, aborted, p, &p->call, &m) < 0) {
                struct aws_http_response none = { 0 };

                free(m);
                aborted(p, -EIO, &none, NULL);
        }
}

static void completed(void *userdata, int r, struct aws_http_response *a, char **msg)
{
        struct s3_put *p = userdata;

        p->call = NULL;
        if (r < 0) {
                put_failed(p, r, msg);
        } else if (a->body && strstr(a->body, "<Error>")) {
                /* S3 may answer 200 and put the failure in the body. */
                _cleanup_free_ char *code = s3_xml_get(a->body, a->body + a->body_len, "Code", NULL);
                _cleanup_free_ char *m = s3_xml_get(a->body, a->body + a->body_len, "Message", NULL);
                char *e = xasprintf("CompleteMultipartUpload %s: %s%s%s", p->op.what, code ? code : "InternalError",
                                    m ? ": " : "", m ? m : "");

                put_failed(p, -EIO, &e);
                free(e);
        }
        if (p->r < 0)
                abort_upload(p);
        else
                put_end(p);
}

static void complete_upload(struct s3_put *p)
{
        sb_puts(&p->body, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
        for (size_t i = 0; i < p->nparts; i++) {
                sb_printf(&p->body, "<Part><PartNumber>%zu</PartNumber><ETag>", i + 1);
                for (const char *e = p->etags[i]; *e; e++)
                        if (*e == '"')
                                sb_puts(&p->body, "&quot;");
                        else if (*e == '&')
                                sb_puts(&p->body, "&amp;");
                        else if (*e == '<')
                                sb_puts(&p->body, "&lt;");
                        else
                                sb_putc(&p->body, *e);
                sb_puts(&p->body, "</ETag></Part>");
        }
        sb_puts(&p->body, "</CompleteMultipartUpload>");
        struct s3_req q = {
                .op = "CompleteMultipartUpload", .method = "POST", .bucket = p->op.bucket, .key = p->op.key,
                .query = p->query, .owner = p->op.owner, .content_type = "application/xml", .body = p->body.s,
                .body_len = p->body.len,
        };
        if (start_call(p, &q, true, completed, p, &p->call) < 0)
                abort_upload(p);
}

static void part_answered(void *userdata, int r, struct aws_http_response *a, char **msg);

/* Sends the next part in slot s: 0, or -errno (the upload failed). */
static int part_start(struct part_slot *s)
{
        struct s3_put *p = s->p;
        size_t i = p->next++;
        uint64_t off = (uint64_t)i * p->part;
        uint64_t len = p->size - off < p->part ? p->size - off : p->part;

        s->i = i;
        free(s->query);
        s->query = xasprintf("partNumber=%zu&%s", i + 1, p->query);
        struct s3_req q = {
                .op = "UploadPart", .method = "PUT", .bucket = p->op.bucket, .key = p->op.key, .query = s->query,
                .owner = p->op.owner, .body_len = (size_t)len, .body_from_fd = true, .body_fd = p->fd,
                .body_offset = (off_t)off,
        };
        int r = start_call(p, &q, true, part_answered, s, &s->call);

        if (r >= 0)
                p->running++;
        return r;
}

/* Stops the parts in flight: the first failure ends the upload. */
static void parts_stop(struct s3_put *p)
{
        for (size_t k = 0; k < p->n_slots; k++)
                s3_call_cancel(p->slots[k].call);
}

/* After the parts: complete, or abort when one failed. */
static void parts_over(struct s3_put *p)
{
        if (p->r < 0)
                abort_upload(p);
        else
                complete_upload(p);
}

static void part_answered(void *userdata, int r, struct aws_http_response *a, char **msg)
{
        struct part_slot *s = userdata;
        struct s3_put *p = s->p;

        s->call = NULL;
        p->running--;
        if (r >= 0) {
                const char *etag = aws_http_response_header(a, "ETag");

                if (etag && *etag) {
                        p->etags[s->i] = xstrdup(etag);
                } else {
                        char *e = xasprintf("UploadPart %s: part %zu of %zu was answered without an ETag", p->op.what,
                                            s->i + 1, p->nparts);

                        put_failed(p, -EIO, &e);
                        free(e);
                }
        } else {
                put_failed(p, r, msg);
        }
        if (p->r < 0)
                parts_stop(p);
        else if (p->next < p->nparts && part_start(s) < 0)
                parts_stop(p);
        if (p->running == 0)
                parts_over(p);
}

static void created(void *userdata, int r, struct aws_http_response *a, char **msg)
{
        struct s3_put *p = userdata;

        p->call = NULL;
        if (r < 0) {
                put_failed(p, r, msg);
                put_end(p);
                return;
        }
        p->id = s3_xml_get(a->body, a->body + a->body_len, "UploadId", NULL);
        if (!p->id || !*p->id) {
                char *e = xasprintf("CreateMultipartUpload %s: the answer has no UploadId", p->op.what);

                put_failed(p, -EIO, &e);
                free(e);
                put_end(p);
                return;
        }
        _cleanup_free_ char *enc_id = sigv4_uri_encode(p->id, strlen(p->id), false);
        p->query = xasprintf("uploadId=%s", enc_id);
        if (p->cancelled) {
                put_failed(p, -ECANCELED, NULL);
                abort_upload(p);
                return;
        }
        p->etags = xcalloc(p->nparts, sizeof *p->etags);
        p->n_slots = p->op.c->concurrency < p->nparts ? p->op.c->concurrency : p->nparts;
        p->slots = xcalloc(p->n_slots, sizeof *p->slots);
        for (size_t k = 0; k < p->n_slots && p->r >= 0; k++) {
                p->slots[k].p = p;
                if (part_start(&p->slots[k]) < 0)
                        parts_stop(p);
        }
        if (p->running == 0)
                parts_over(p);
}

static void put_answered(void *userdata, int r, struct aws_http_response *a, char **msg)
{
        struct s3_put *p = userdata;

        (void)a;
        p->call = NULL;
        if (r < 0)
                put_failed(p, r, msg);
        put_end(p);
}

static void put_cancel(struct s3_job *job)
{
        struct s3_put *p = (struct s3_put *)job;

        if (p->cancelled)
                return;
        p->cancelled = true;
        if (p->aborting)
                return; /* bounded by S3_ABORT_AFTER_CANCEL_MS at most */
        s3_call_cancel(p->call);
        parts_stop(p);
}

/* The part size: OPENTOE_S3_PART_SIZE, doubled until 10,000 parts hold
 * the object. */
static int part_size(struct s3_put *p, char **reterr_msg)
{
        uint64_t part = p->op.c->part_size, size = p->size;

        while ((size + part - 1) / part > S3_MAX_PARTS && part < S3_MAX_PART_SIZE)
                part *= 2;
        if (part > S3_MAX_PART_SIZE)
                part = S3_MAX_PART_SIZE;
        if ((size + part - 1) / part > S3_MAX_PARTS)
                return errmsg_set(reterr_msg, -EFBIG,
                                  "PutObject %s: %" PRIu64 " bytes is more than S3 can store in one object", p->op.what,
                                  size);
        p->part = part;
        p->nparts = (size_t)((size + part - 1) / part);
        return 0;
}

int s3_upload_fd_start(struct s3 *c, sd_event *ev, const char *bucket, const char *key, const char *owner, int fd,
                       uint64_t size, s3_done_fn done, void *userdata, struct s3_job **ret_job, char **reterr_msg)
{
        struct s3_put *p;
        int r;

        if (!key || !*key)
                return errmsg_set(reterr_msg, -EINVAL, "PutObject s3://%s/: no key to upload to", bucket);
        if (strlen(key) > S3_MAX_KEY_LEN)
                return errmsg_set(reterr_msg, -EINVAL, "PutObject s3://%s/%s: the key is longer than %d bytes", bucket,
                                  key, S3_MAX_KEY_LEN);
        if (size <= c->threshold && size > SIZE_MAX)
                return errmsg_set(reterr_msg, -EFBIG, "PutObject s3://%s/%s: too large", bucket, key);
        p = xcalloc(1, sizeof *p);
        s3_op_init(&p->op, c, ev, bucket, key, owner, NULL, put_free, done, userdata);
        p->op.job.cancel = put_cancel;
        p->fd = fd;
        p->size = size;
        p->body = (struct strbuf)STRBUF_INIT;
        if (size > c->threshold) {
                r = part_size(p, reterr_msg);
                if (r >= 0) {
                        struct s3_req q = {
                                .op = "CreateMultipartUpload", .method = "POST", .bucket = p->op.bucket, .key = p->op.key,
                                .query = "uploads", .owner = p->op.owner, .content_type = content_type(p->op.key),
                        };
                        r = s3_call_start(c, ev, &q, true, p->op.key, created, p, &p->call, reterr_msg);
                }
        } else {
                struct s3_req q = {
                        .op = "PutObject", .method = "PUT", .bucket = p->op.bucket, .key = p->op.key, .owner = p->op.owner,
                        .content_type = content_type(p->op.key), .body_len = (size_t)size, .body_from_fd = true,
                        .body_fd = fd, .body_offset = 0,
                };
                r = s3_call_start(c, ev, &q, true, p->op.key, put_answered, p, &p->call, reterr_msg);
        }
        return s3_op_started(&p->op, r, ret_job);
}

int s3_upload_fd(struct s3 *c, const char *bucket, const char *key, const char *owner, int fd, uint64_t size,
                 char **reterr_msg)
{
        struct s3_wait w;
        sd_event *ev = s3_wait_begin(c, &w);

        return s3_wait_end(&w, ev, ev ? s3_upload_fd_start(c, ev, bucket, key, owner, fd, size, s3_wait_done, &w, NULL,
                                                           reterr_msg) : 0, reterr_msg);
}

int s3_upload_file(struct s3 *c, const char *bucket, const char *key, const char *owner, const char *path,
                   char **reterr_msg)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;

        if (fd < 0)
                return errmsg_set(reterr_msg, -errno, "cannot open %s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0)
                return errmsg_set(reterr_msg, -errno, "cannot read %s: %s", path, strerror(errno));
        if (S_ISDIR(st.st_mode))
                return errmsg_set(reterr_msg, -EISDIR, "%s is a folder", path);
        if (!S_ISREG(st.st_mode))
                return errmsg_set(reterr_msg, -EINVAL, "%s is not a regular file", path);
        return s3_upload_fd(c, bucket, key, owner, fd, (uint64_t)st.st_size, reterr_msg);
}

