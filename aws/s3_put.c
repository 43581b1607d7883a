/* s3_put.c: PutObject and multipart uploads, streamed from a file (parts
 * sent by a few worker threads, each with a clone of the client). */
#include "s3.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int put_object(struct s3 *c, const char *bucket, const char *key, const char *owner, int fd, uint64_t size,
                      char **reterr_msg)
{
        struct aws_http_response a = { 0 };
        struct s3_req q = {
                .op = "PutObject", .method = "PUT", .bucket = bucket, .key = key, .owner = owner,
                .content_type = content_type(key), .body_len = (size_t)size, .body_from_fd = true,
                .body_fd = fd, .body_offset = 0,
        };
        int r = s3_call(c, &q, key, &a, reterr_msg);

        if (r < 0)
                return r;
        aws_http_response_done(&a);
        return 0;
}

/* Best effort: an upload that failed should leave no parts billed. */
static bool abort_upload(struct s3 *c, const char *bucket, const char *key, const char *owner, const char *enc_id)
{
        _cleanup_free_ char *query = xasprintf("uploadId=%s", enc_id);
        struct aws_http_response a = { 0 };
        struct s3_req q = {
                .op = "AbortMultipartUpload", .method = "DELETE", .bucket = bucket, .key = key, .query = query,
                .owner = owner,
        };
        char *err = NULL;
        bool ok;

        if (s3_send(c, &q, &a, &err) < 0) {
                free(err);
                return false;
        }
        ok = (a.status >= 200 && a.status <= 299) || a.status == 404;
        aws_http_response_done(&a);
        return ok;
}

/* The parts of one multipart upload, shared by the threads sending them. */
struct parts {
        const char *bucket, *key, *owner, *enc_id, *what;
        int fd;
        uint64_t size, part;
        size_t nparts;
        char **etags;                   /* filled in by part index */
        pthread_mutex_t lock;           /* guards next, r, err and notices */
        size_t next;                    /* the next part to send */
        int r;                          /* the first failure */
        char *err;
        void (*notice)(void *userdata, const char *msg); /* the caller's */
        void *userdata;
};

struct parts_worker {
        struct parts *job;
        struct s3 *c;                   /* this thread's own client */
        pthread_t thread;
        bool started;
};

static void parts_notice(void *userdata, const char *msg)
{
        struct parts *job = userdata;

        pthread_mutex_lock(&job->lock);
        job->notice(job->userdata, msg);
        pthread_mutex_unlock(&job->lock);
}

static int upload_part(struct s3 *c, struct parts *job, size_t i, char **reterr_msg)
{
        uint64_t off = (uint64_t)i * job->part;
        uint64_t len = job->size - off < job->part ? job->size - off : job->part;
        _cleanup_free_ char *query = xasprintf("partNumber=%zu&uploadId=%s", i + 1, job->enc_id);
        struct aws_http_response a = { 0 };
        struct s3_req pq = {
                .op = "UploadPart", .method = "PUT", .bucket = job->bucket, .key = job->key, .query = query,
                .owner = job->owner, .body_len = (size_t)len, .body_from_fd = true, .body_fd = job->fd,
                .body_offset = (off_t)off,
        };
        const char *etag;
        int r = s3_call(c, &pq, job->key, &a, reterr_msg);

        if (r < 0)
                return r;
        etag = aws_http_response_header(&a, "ETag");
        if (!etag || !*etag)
                r = errmsg_set(reterr_msg, -EIO, "UploadPart %s: part %zu of %zu was answered without an ETag",
                               job->what, i + 1, job->nparts);
        else
                job->etags[i] = xstrdup(etag);
        aws_http_response_done(&a);
        return r;
}

/* Takes parts until none is left or one failed. */
static void *parts_run(void *arg)
{
        struct parts_worker *w = arg;
        struct parts *job = w->job;

        for (;;) {
                char *err = NULL;
                size_t i;
                int r;

                pthread_mutex_lock(&job->lock);
                if (job->r < 0 || job->next >= job->nparts) {
                        pthread_mutex_unlock(&job->lock);
                        return NULL;
                }
                i = job->next++;
                pthread_mutex_unlock(&job->lock);
                r = upload_part(w->c, job, i, &err);
                if (r < 0) {
                        pthread_mutex_lock(&job->lock);
                        if (job->r >= 0) {
                                job->r = r;
                                job->err = TAKE_PTR(err);
                        }
                        pthread_mutex_unlock(&job->lock);
                        free(err);
                        return NULL;
                }
        }
}

/* A client for another thread, with c's settings and what c has learnt. */
static struct s3 *s3_clone(struct s3 *c)
{
        struct s3 *n = s3_new(NULL);

        if (!n)
                return NULL;
        n->deadline_ms = c->deadline_ms;
        n->threshold = c->threshold;
        n->part_size = c->part_size;
        n->max_objects = c->max_objects;
        n->concurrency = 1;
        n->force_path_style = c->force_path_style;
        n->region = xstrdup(s3_client_region(c));
        for (size_t i = 0; i < c->n_regions; i++)
                s3_bucket_region_set(n, c->regions[i].bucket, c->regions[i].region);
        return n;
}

/* Sends every part: with OPENTOE_S3_CONCURRENCY threads, each with its
 * own connection (this one's among them), taking the next part when one
 * is done.  The first failure stops the others after their current part. */
static int upload_parts(struct s3 *c, struct parts *job, char **reterr_msg)
{
        size_t n = c->concurrency < job->nparts ? c->concurrency : job->nparts;
        struct parts_worker *w = xcalloc(n ? n : 1, sizeof *w);
        void (*saved_notice)(void *userdata, const char *msg) = c->notice;
        void *saved_userdata = c->userdata;

        pthread_mutex_init(&job->lock, NULL);
        job->notice = c->notice;
        job->userdata = c->userdata;
        w[0] = (struct parts_worker){ .job = job, .c = c };
        for (size_t i = 1; i < n; i++) {
                w[i] = (struct parts_worker){ .job = job, .c = s3_clone(c) };
                if (!w[i].c)
                        break;
                if (job->notice)
                        s3_set_notice(w[i].c, parts_notice, job);
                w[i].started = pthread_create(&w[i].thread, NULL, parts_run, &w[i]) == 0;
                if (!w[i].started) {
                        w[i].c = s3_free(w[i].c);
                        break;
                }
        }
        if (job->notice && n > 1)
                s3_set_notice(c, parts_notice, job);
        parts_run(&w[0]);
        for (size_t i = 1; i < n; i++) {
                if (w[i].started)
                        pthread_join(w[i].thread, NULL);
                s3_free(w[i].c);
        }
        s3_set_notice(c, saved_notice, saved_userdata);
        pthread_mutex_destroy(&job->lock);
        free(w);
        if (job->r < 0) {
                if (reterr_msg)
                        *reterr_msg = TAKE_PTR(job->err);
                free(job->err);
                return job->r;
        }
        return 0;
}

static int multipart_upload(struct s3 *c, const char *bucket, const char *key, const char *owner, int fd,
                            uint64_t size, char **reterr_msg)
{
        _cleanup_free_ char *id = NULL, *enc_id = NULL, *what = s3_uri_text(bucket, key);
        struct aws_http_response a = { 0 };
        uint64_t part = c->part_size;
        size_t nparts;
        char **etags;
        int r;

        while ((size + part - 1) / part > S3_MAX_PARTS && part < S3_MAX_PART_SIZE)
                part *= 2;
        if (part > S3_MAX_PART_SIZE)
                part = S3_MAX_PART_SIZE;
        if ((size + part - 1) / part > S3_MAX_PARTS)
                return errmsg_set(reterr_msg, -EFBIG,
                                  "PutObject %s: %" PRIu64 " bytes is more than S3 can store in one "
                                  "object", what, size);
        nparts = (size_t)((size + part - 1) / part);

        struct s3_req cq = {
                .op = "CreateMultipartUpload", .method = "POST", .bucket = bucket, .key = key, .query = "uploads",
                .owner = owner, .content_type = content_type(key),
        };
        r = s3_call(c, &cq, key, &a, reterr_msg);
        if (r < 0)
                return r;
        id = s3_xml_get(a.body, a.body + a.body_len, "UploadId", NULL);
        aws_http_response_done(&a);
        if (!id || !*id)
                return errmsg_set(reterr_msg, -EIO, "CreateMultipartUpload %s: the answer has no UploadId", what);
        enc_id = sigv4_uri_encode(id, strlen(id), false);

        etags = xcalloc(nparts, sizeof *etags);
        struct parts job = {
                .bucket = bucket, .key = key, .owner = owner, .enc_id = enc_id, .what = what, .fd = fd,
                .size = size, .part = part, .nparts = nparts, .etags = etags,
        };
        r = upload_parts(c, &job, reterr_msg);
        if (r >= 0) {
                struct strbuf body = STRBUF_INIT;

                sb_puts(&body, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
                for (size_t i = 0; i < nparts; i++) {
                        sb_printf(&body, "<Part><PartNumber>%zu</PartNumber><ETag>", i + 1);
                        for (const char *e = etags[i]; *e; e++)
                                if (*e == '"')
                                        sb_puts(&body, "&quot;");
                                else if (*e == '&')
                                        sb_puts(&body, "&amp;");
                                else if (*e == '<')
                                        sb_puts(&body, "&lt;");
                                else
                                        sb_putc(&body, *e);
                        sb_puts(&body, "</ETag></Part>");
                }
                sb_puts(&body, "</CompleteMultipartUpload>");
                _cleanup_free_ char *query = xasprintf("uploadId=%s", enc_id);
                struct s3_req fq = {
                        .op = "CompleteMultipartUpload", .method = "POST", .bucket = bucket, .key = key,
                        .query = query, .owner = owner, .content_type = "application/xml", .body = body.s,
                        .body_len = body.len,
                };
                r = s3_call(c, &fq, key, &a, reterr_msg);
                sb_free(&body);
                if (r >= 0) {
                        if (a.body && strstr(a.body, "<Error>")) {
                                /* S3 may answer 200 and put the failure in the body. */
                                _cleanup_free_ char *code = s3_xml_get(a.body, a.body + a.body_len, "Code", NULL);
                                _cleanup_free_ char *msg = s3_xml_get(a.body, a.body + a.body_len, "Message", NULL);

                                r = errmsg_set(reterr_msg, -EIO, "CompleteMultipartUpload %s: %s%s%s", what,
                                               code ? code : "InternalError", msg ? ": " : "", msg ? msg : "");
                        }
                        aws_http_response_done(&a);
                }
        }
        strv_free_n(etags, nparts);
        if (r < 0 && !abort_upload(c, bucket, key, owner, enc_id) && reterr_msg && *reterr_msg) {
                char *m = xasprintf("%s; aborting the multipart upload %s failed too, so its parts may remain",
                                    *reterr_msg, id);
                free(*reterr_msg);
                *reterr_msg = m;
        }
        return r;
}

int s3_upload_fd(struct s3 *c, const char *bucket, const char *key, const char *owner, int fd, uint64_t size,
                 char **reterr_msg)
{
        if (!key || !*key)
                return errmsg_set(reterr_msg, -EINVAL, "PutObject s3://%s/: no key to upload to", bucket);
        if (strlen(key) > S3_MAX_KEY_LEN)
                return errmsg_set(reterr_msg, -EINVAL, "PutObject s3://%s/%s: the key is longer than %d bytes", bucket,
                                  key, S3_MAX_KEY_LEN);
        if (size > c->threshold)
                return multipart_upload(c, bucket, key, owner, fd, size, reterr_msg);
        if (size > SIZE_MAX)
                return errmsg_set(reterr_msg, -EFBIG, "PutObject s3://%s/%s: too large", bucket, key);
        return put_object(c, bucket, key, owner, fd, size, reterr_msg);
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

