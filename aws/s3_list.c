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
        struct s3_job job;
        struct s3 *c;
        sd_event *ev;
        char *bucket, *prefix, *owner, *enc_prefix, *token, *query;
        size_t limit;
        struct s3_object *v;
        size_t n, cap;
        struct s3_object **ret;
        size_t *ret_n;
        struct s3_call *call;
        s3_done_fn done;
        void *userdata;
};

static void lister_free(struct s3_lister *l)
{
        s3_objects_free(l->v, l->n);
        free(l->bucket);
        free(l->prefix);
        free(l->owner);
        free(l->enc_prefix);
        free(l->token);
        free(l->query);
        free(l);
}

static void lister_cancel(struct s3_job *job)
{
        struct s3_lister *l = (struct s3_lister *)job;

        s3_call_cancel(l->call);
}

static void page_answered(void *userdata, int r, struct aws_http_response *resp, char **msg);

static int page_start(struct s3_lister *l, char **reterr_msg)
{
        _cleanup_free_ char *enc_token = l->token ? sigv4_uri_encode(l->token, strlen(l->token), false) : NULL;
        size_t want = l->limit - l->n + 1; /* one more than allowed tells there are too many */

        free(l->query);
        l->query = xasprintf("%s%s%sencoding-type=url&list-type=2&max-keys=%zu&prefix=%s",
                             enc_token ? "continuation-token=" : "", enc_token ? enc_token : "", enc_token ? "&" : "",
                             want < 1000 ? want : 1000, l->enc_prefix);
        struct s3_req q = {
                .op = "ListObjectsV2", .method = "GET", .bucket = l->bucket, .key = NULL, .query = l->query,
                .owner = l->owner, .max_body = S3_LIST_MAX_BODY,
        };
        return s3_call_start(l->c, l->ev, &q, true, l->prefix, page_answered, l, &l->call, reterr_msg);
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
                                  "downloaded", l->bucket, l->prefix, l->limit, S3_DEFAULT_MAX_OBJECTS);
        if (!truncated || strcmp(truncated, "true"))
                return 0;
        if (!l->token || !*l->token)
                return errmsg_set(reterr_msg, -EIO,
                                  "ListObjectsV2 s3://%s/%s*: the listing is truncated but has no continuation "
                                  "token", l->bucket, l->prefix);
        return 1;
}

static void page_answered(void *userdata, int r, struct aws_http_response *resp, char **msg)
{
        struct s3_lister *l = userdata;
        char *m = NULL;

        l->call = NULL;
        if (r >= 0)
                r = page_next(l, resp, &m);
        if (r > 0) {
                r = page_start(l, &m);
                if (r >= 0)
                        return;
        }
        if (r >= 0) {
                *l->ret = l->v ? l->v : xcalloc(1, sizeof *l->v);
                *l->ret_n = l->n;
                l->v = NULL;
                l->n = 0;
        }
        l->done(l->userdata, r, r < 0 && !m ? msg : &m);
        free(m);
        lister_free(l);
}

int s3_list_start(struct s3 *c, sd_event *ev, const char *bucket, const char *prefix, const char *owner,
                  size_t max_objects, struct s3_object **ret, size_t *ret_n, s3_done_fn done, void *userdata,
                  struct s3_job **ret_job, char **reterr_msg)
{
        struct s3_lister *l = xcalloc(1, sizeof *l);
        int r;

        *l = (struct s3_lister){
                .job = { .cancel = lister_cancel },
                .c = c, .ev = ev, .bucket = xstrdup(bucket), .prefix = xstrdup(prefix),
                .owner = owner ? xstrdup(owner) : NULL, .enc_prefix = sigv4_uri_encode(prefix, strlen(prefix), false),
                .limit = max_objects ? max_objects : c->max_objects, .ret = ret, .ret_n = ret_n,
                .done = done, .userdata = userdata,
        };
        r = page_start(l, reterr_msg);
        if (r < 0) {
                lister_free(l);
                return r;
        }
        if (ret_job)
                *ret_job = &l->job;
        return 0;
}

int s3_list(struct s3 *c, const char *bucket, const char *prefix, const char *owner, size_t max_objects,
            struct s3_object **ret, size_t *ret_n, char **reterr_msg)
{
        struct s3_wait w = { 0 };
        sd_event *ev = NULL;
        int r = s3_own_loop(c, &ev, reterr_msg);

        if (r >= 0)
                r = s3_list_start(c, ev, bucket, prefix, owner, max_objects, ret, ret_n, s3_wait_done, &w, NULL,
                                  reterr_msg);
        return r < 0 ? r : s3_wait(ev, &w, reterr_msg);
}
