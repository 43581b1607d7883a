/* s3_internal.h: what the files of the S3 client (aws/s3_*.c) share and
 * nothing else sees: the client's state, one request before addressing,
 * sending it, and the helpers of more than one of them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "http.h"
#include "http_async.h"
#include "s3.h"

#define S3_MAX_BUCKET_LEN 255
#define S3_LIST_MAX_BODY (16u * 1024u * 1024u)  /* one ListObjectsV2 page, kept in memory */
#define S3_SMALL_BODY (1024u * 1024u)           /* other answers kept in memory */
#define S3_MAX_REGIONS 16                       /* buckets whose region was learnt */
#define S3_MAX_TREE_DEPTH 256
#define S3_DEFAULT_REGION "us-east-1"

struct s3_region_entry {
        char *bucket;
        char *region;
};

struct s3 {
        struct aws_http *http;
        struct aws_cred_provider *creds;
        char *region;                   /* resolved at the first request */
        int64_t deadline_ms;
        void (*notice)(void *userdata, const char *msg);
        void *userdata;
        uint64_t threshold;
        uint64_t part_size;
        size_t max_objects;
        size_t concurrency;
        bool force_path_style;
        struct s3_region_entry regions[S3_MAX_REGIONS];
        size_t n_regions;
};

/* One request, before addressing. */
struct s3_req {
        const char *op;                 /* "GetObject", for messages */
        const char *method;
        const char *bucket;
        const char *key;                /* raw; NULL for the bucket itself */
        const char *query;              /* wire form, or NULL */
        const char *owner;
        const char *content_type;
        const void *body;
        size_t body_len;
        bool body_from_fd;
        int body_fd;
        off_t body_offset;
        bool body_to_fd;
        int out_fd;
        size_t max_body;
        int64_t deadline_ms;            /* 0: the client's */
};

/* Every asynchronous S3 operation starts with this (s3_job_cancel()). */
struct s3_job {
        void (*cancel)(struct s3_job *j);
};

/* What every S3 operation on a loop holds: the client and the loop,
 * copies of the object it names (for a listing, key is the prefix), and
 * its end. */
struct s3_op {
        struct s3_job job;
        struct s3 *c;
        sd_event *ev;
        char *bucket, *key, *owner, *what;
        s3_done_fn done;
        void *userdata;
        struct s3_call *call;           /* its request in flight */
        /* For s3_op_answered(): what a 2xx answer means (0: the
         * operation is done, 1: it sent its next request, -errno with
         * *msg), and freeing the operation once done was called. */
        int (*answered)(struct s3_op *op, struct aws_http_response *resp, char **msg);
        void (*free)(struct s3_op *op);
};
/* s3_client.c: fills op (the strings copied; s3_op_done() frees them),
 * with s3_op_cancel() as its cancel. */
void s3_op_init(struct s3_op *op, struct s3 *c, sd_event *ev, const char *bucket, const char *key, const char *owner,
                int (*answered)(struct s3_op *op, struct aws_http_response *resp, char **msg),
                void (*free)(struct s3_op *op), s3_done_fn done, void *userdata);
void s3_op_done(struct s3_op *op);
/* s3_client.c: cancels op->call. */
void s3_op_cancel(struct s3_job *job);
/* s3_client.c: the end of op's request (an s3_call_done_fn; userdata is
 * op): op->answered() for a 2xx answer, then done and op->free(), unless
 * another request went out. */
void s3_op_answered(void *userdata, int r, struct aws_http_response *resp, char **msg);
/* s3_client.c: the end of an operation's start: r < 0 frees op (nothing
 * started); otherwise *ret_job (may be NULL) is set.  Returns r, or 0. */
int s3_op_started(struct s3_op *op, int r, struct s3_job **ret_job);

/* s3_client.c: one request on a loop, as s3_send() (check false) or
 * s3_call() (check true, naming `key`) do it.  done gets what they
 * return: 0 with *resp (the callee may take it), or -errno with *msg (the
 * callee may take it).  The request's strings stay valid until done. */
struct s3_call;
typedef void (*s3_call_done_fn)(void *userdata, int r, struct aws_http_response *resp, char **msg);
int s3_call_start(struct s3 *c, sd_event *ev, const struct s3_req *q, bool check, const char *key,
                  s3_call_done_fn done, void *userdata, struct s3_call **ret, char **reterr_msg);
void s3_call_cancel(struct s3_call *call);

/* s3_client.c: a blocking caller's wait for one operation on the client's
 * own loop: s3_wait_begin() gives the loop (NULL: w says why), the
 * operation is started on it with s3_wait_done and w as its end, and
 * s3_wait_end() (r: what the start returned) drives the loop until the
 * end came and returns its result, the message in *reterr_msg. */
struct s3_wait {
        bool over;
        int r;
        char *msg;
};
void s3_wait_done(void *userdata, int r, char **msg);
sd_event *s3_wait_begin(struct s3 *c, struct s3_wait *w);
int s3_wait_end(struct s3_wait *w, sd_event *ev, int r, char **reterr_msg);


/* s3_client.c: sends one request (addressed, in the bucket's own region
 * when S3 says it is elsewhere).  0 with *ret whatever the status, or
 * -errno with a message naming the operation and object. */
int s3_send(struct s3 *c, const struct s3_req *q, struct aws_http_response *ret, char **reterr_msg);
/* s3_client.c: words a non-2xx answer (which bucket and key, then S3's
 * own code, message and request id); returns its -errno. */
int s3_answer_error(const struct aws_http_response *a, const char *op, const char *bucket, const char *key,
                    const char *owner, char **reterr_msg);
/* s3_client.c: s3_send(), with a non-2xx answer worded by
 * s3_answer_error() (naming `key`, which a listing sets to its prefix)
 * and freed: 0 with *ret a 2xx answer, or -errno. */
int s3_call(struct s3 *c, const struct s3_req *q, const char *key, struct aws_http_response *ret, char **reterr_msg);
/* s3_client.c: the chain's region, or us-east-1 when it has none. */
const char *s3_client_region(struct s3 *c);
/* s3_client.c: remembers the region a bucket answered from. */
void s3_bucket_region_set(struct s3 *c, const char *bucket, const char *region);
/* s3_client.c: "s3://bucket/key", for messages. */
char *s3_uri_text(const char *bucket, const char *key);
/* s3_uri.c: whether a bucket name can be a host name label. */
bool s3_bucket_dns_compatible(const char *b);
/* s3_xml.c: the text between <tag> and </tag> in [p, end), entities
 * decoded, or NULL; *ret_after is set past the closing tag. */
char *s3_xml_get(const char *p, const char *end, const char *tag, const char **ret_after);
/* s3_xml.c: percent-decoding in place ('+' is a space); false when the
 * result would hold a NUL. */
bool s3_url_decode(char *s);
/* s3_get.c: the last element of a path. */
const char *s3_path_basename(const char *path);
