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

int s3_list(struct s3 *c, const char *bucket, const char *prefix, const char *owner, size_t max_objects,
            struct s3_object **ret, size_t *ret_n, char **reterr_msg)
{
        _cleanup_free_ char *token = NULL, *enc_prefix = sigv4_uri_encode(prefix, strlen(prefix), false);
        struct s3_object *v = NULL;
        size_t n = 0, cap = 0;
        size_t limit = max_objects ? max_objects : c->max_objects;
        int r = 0;

        for (unsigned page = 0;; page++) {
                _cleanup_free_ char *enc_token = token ? sigv4_uri_encode(token, strlen(token), false) : NULL;
                _cleanup_free_ char *query = NULL, *truncated = NULL, *enctype = NULL;
                struct aws_http_response a = { 0 };
                const char *p, *end;
                size_t want = limit - n + 1; /* one more than allowed tells there are too many */

                query = xasprintf("%s%s%sencoding-type=url&list-type=2&max-keys=%zu&prefix=%s",
                                  enc_token ? "continuation-token=" : "", enc_token ? enc_token : "",
                                  enc_token ? "&" : "", want < 1000 ? want : 1000, enc_prefix);
                struct s3_req q = {
                        .op = "ListObjectsV2", .method = "GET", .bucket = bucket, .key = NULL, .query = query,
                        .owner = owner, .max_body = S3_LIST_MAX_BODY,
                };
                r = s3_call(c, &q, prefix, &a, reterr_msg);
                if (r < 0)
                        break;
                p = a.body;
                end = a.body + a.body_len;
                enctype = s3_xml_get(p, end, "EncodingType", NULL);
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
                        if (!key) {
                                free(size);
                                continue;
                        }
                        if (enctype && !strcmp(enctype, "url") && !s3_url_decode(key)) {
                                free(key);
                                free(size);
                                continue;
                        }
                        if (n == cap) {
                                cap = cap ? cap * 2 : 64;
                                v = xrealloc(v, cap * sizeof *v);
                        }
                        v[n++] = (struct s3_object){ .key = key, .size = size ? strtoull(size, NULL, 10) : 0 };
                        free(size);
                }
                truncated = s3_xml_get(a.body, end, "IsTruncated", NULL);
                free(token);
                token = s3_xml_get(a.body, end, "NextContinuationToken", NULL);
                aws_http_response_done(&a);
                if (n > limit) {
                        r = errmsg_set(reterr_msg, -E2BIG,
                                       "ListObjectsV2 s3://%s/%s*: more than %zu objects match; AWSTOE "
                                       "downloads at most %d from a prefix (OPENTOE_S3_MAX_OBJECTS raises the "
                                       "limit), so nothing was downloaded",
                                       bucket, prefix, limit, S3_DEFAULT_MAX_OBJECTS);
                        break;
                }
                if (!truncated || strcmp(truncated, "true"))
                        break;
                if (!token || !*token) {
                        r = errmsg_set(reterr_msg, -EIO,
                                       "ListObjectsV2 s3://%s/%s*: the listing is truncated but has no "
                                       "continuation token", bucket, prefix);
                        break;
                }
        }
        if (r < 0) {
                s3_objects_free(v, n);
                return r;
        }
        *ret = v ? v : xcalloc(1, sizeof *v);
        *ret_n = n;
        return 0;
}

