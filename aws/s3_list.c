/* s3_list.c: ListObjectsV2, page by page, into a list of objects. */
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

/* ---- listing ---------------------------------------------------------------- */

void s3_objects_free(struct s3_object *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i].key);
        free(v);
}

/* A listing in flight: its pages, one request at a time. */
struct s3_lister {
        struct s3_op op;                /* its key is the prefix */
        char *enc_prefix, *token, *query;
        size_t limit;
        struct s3_object *v;
        size_t n, cap;
        struct s3_object **ret;
        size_t *ret_n;
};

static void lister_free(struct s3_op *op)
{
        struct s3_lister *l = (struct s3_lister *)op;

        s3_objects_free(l->v, l->n);
        s3_op_done(&l->op);
        free_many(l->enc_prefix, l->token, l->query, l);
}

static int page_start(struct s3_lister *l, char **reterr_msg)
{
        _cleanup_free_ char *enc_token = l->token ? sigv4_uri_encode(l->token, strlen(l->token), false) : NULL;
        size_t want = l->limit - l->n + 1; /* one more than allowed tells there are too many */

        free(l->query);
        l->query = xasprintf("%s%s%sencoding-type=url&list-type=2&max-keys=%zu&prefix=%s",
                             enc_token ? "continuation-token=" : "", enc_token ? enc_token : "", enc_token ? "&" : "",
                             want < 1000 ? want : 1000, l->enc_prefix);
        struct s3_req q = {
                .op = "ListObjectsV2", .method = "GET", .bucket = l->op.bucket, .key = NULL, .query = l->query,
                .owner = l->op.owner, .max_body = S3_LIST_MAX_BODY,
        };
        return s3_call_start(l->op.c, l->op.ev, &q, true, l->op.key, s3_op_answered, &l->op, &l->op.call, reterr_msg);
}

/* The objects of one page, appended. */
static void page_parse(struct s3_lister *l, const struct aws_http_response *a)
{
        const char *p = a->body, *end = a->body + a->body_len;
        _cleanup_free_ char *enctype = s3_xml_get(p, end, "EncodingType", NULL);

        for (;;) {
                const char *after = NULL, *cend;
                const char *cstart = memmem(p, (size_t)(end - p), "<Contents>", 10);
                char *key, *size;

                if (!cstart)
                        break;
                cend = memmem(cstart, (size_t)(end - cstart), "</Contents>", 11);
                if (!cend)
                        break;
                key = s3_xml_get(cstart, cend, "Key", &after);
                size = s3_xml_get(cstart, cend, "Size", NULL);
                p = cend + 11;
                if (!key || (enctype && !strcmp(enctype, "url") && !s3_url_decode(key))) {
                        free(key);
                        free(size);
                        continue;
                }
                if (l->n == l->cap) {
                        l->cap = l->cap ? l->cap * 2 : 64;
                        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
                }
                l->v[l->n++] = (struct s3_object){ .key = key, .size = size ? strtoull(size, NULL, 10) : 0 };
                free(size);
        }
}

/* 1 when another page is to be asked for, 0 at the end, or -errno. */
static int page_next(struct s3_lister *l, const struct aws_http_response *a, char **reterr_msg)
{
        const char *end = a->body + a->body_len;
        _cleanup_free_ char *truncated = s3_xml_get(a->body, end, "IsTruncated", NULL);

        page_parse(l, a);
        free(l->token);
        l->token = s3_xml_get(a->body, end, "NextContinuationToken", NULL);
        if (l->n > l->limit)
                return errmsg_set(reterr_msg, -E2BIG,
                                  "ListObjectsV2 s3://%s/%s*: more than %zu objects match; AWSTOE downloads at most "
                                  "%d from a prefix (OPENTOE_S3_MAX_OBJECTS raises the limit), so nothing was "
                                  "downloaded", l->op.bucket, l->op.key, l->limit, S3_DEFAULT_MAX_OBJECTS);
        if (!truncated || strcmp(truncated, "true"))
                return 0;
        if (!l->token || !*l->token)
                return errmsg_set(reterr_msg, -EIO,
                                  "ListObjectsV2 s3://%s/%s*: the listing is truncated but has no continuation "
                                  "token", l->op.bucket, l->op.key);
        return 1;
}

/* A page's answer: the next page asked for (1), or the listing's end. */
static int page_answered(struct s3_op *op, struct aws_http_response *resp, char **reterr_msg)
{
        struct s3_lister *l = (struct s3_lister *)op;
        int r = page_next(l, resp, reterr_msg);

        if (r > 0) {
                r = page_start(l, reterr_msg);
                return r < 0 ? r : 1;
        }
        if (r == 0) {
                *l->ret = l->v ? l->v : xcalloc(1, sizeof *l->v);
                *l->ret_n = l->n;
                l->v = NULL;
                l->n = 0;
        }
        return r;
}

int s3_list_start(struct s3 *c, sd_event *ev, const char *bucket, const char *prefix, const char *owner,
                  size_t max_objects, struct s3_object **ret, size_t *ret_n, s3_done_fn done, void *userdata,
                  struct s3_job **ret_job, char **reterr_msg)
{
        struct s3_lister *l = xcalloc(1, sizeof *l);
        int r;

        s3_op_init(&l->op, c, ev, bucket, prefix, owner, page_answered, lister_free, done, userdata);
        l->enc_prefix = sigv4_uri_encode(prefix, strlen(prefix), false);
        l->limit = max_objects ? max_objects : c->max_objects;
        l->ret = ret;
        l->ret_n = ret_n;
        r = page_start(l, reterr_msg);
        return s3_op_started(&l->op, r, ret_job);
}

int s3_list(struct s3 *c, const char *bucket, const char *prefix, const char *owner, size_t max_objects,
            struct s3_object **ret, size_t *ret_n, char **reterr_msg)
{
        struct s3_wait w;
        sd_event *ev = s3_wait_begin(c, &w);

        return s3_wait_end(&w, ev, ev ? s3_list_start(c, ev, bucket, prefix, owner, max_objects, ret, ret_n,
                                                      s3_wait_done, &w, NULL, reterr_msg) : 0, reterr_msg);
}
