/* s3.c: owns opentoe's S3 client: parsing s3:// URIs and expected bucket
 * owners, choosing the endpoint, region and addressing style of each
 * request, turning S3's answers into messages that name the bucket and
 * key, GetObject into a temporary file renamed into place, PutObject and
 * multipart uploads streamed from a file, ListObjectsV2 paging, uploading
 * a folder tree, fetching documents into private temporary files, and the
 * run-wide settings for documents and log uploads.  Transport, signing and
 * retries are aws/http's; the rules are in s3.h. */
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
#include "sigv4.h"
#include "strbuf.h"

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
};

static uint64_t env_u64(const char *name, uint64_t def, uint64_t min, uint64_t max)
{
        const char *s = getenv(name);
        char *end;
        unsigned long long v;

        if (!s || !*s || *s == '-')
                return def;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return def;
        return v;
}

static bool env_true(const char *name)
{
        const char *v = getenv(name);

        return v && (!strcasecmp(v, "true") || !strcmp(v, "1"));
}

/* ---- URIs and owners ------------------------------------------------------- */

bool s3_is_uri(const char *s)
{
        return s && !strncasecmp(s, "s3://", 5);
}

static bool bucket_char(char c)
{
        return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

/* Names S3 serves as <bucket>.s3.<region>.amazonaws.com under its TLS
 * certificate: 3-63 lower-case letters, digits and '-', starting and
 * ending with a letter or digit (no dots: the wildcard certificate would
 * not match). */
static bool bucket_dns_compatible(const char *b)
{
        size_t n = strlen(b);

        if (n < 3 || n > 63 || !isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
                return false;
        for (const char *c = b; *c; c++)
                if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '-'))
                        return false;
        return true;
}

int s3_uri_parse(const char *s, bool allow_prefix, struct s3_uri *ret, char **reterr_msg)
{
        const char *b, *slash;
        size_t blen, klen;
        char *key;
        bool prefix = false;

        if (!s3_is_uri(s))
                return errmsg_set(reterr_msg, -EINVAL, "'%s' is not an S3 URI (s3://bucket/key)", s ? s : "");
        b = s + 5;
        slash = strchr(b, '/');
        blen = slash ? (size_t)(slash - b) : strlen(b);
        if (blen == 0)
                return errmsg_set(reterr_msg, -EINVAL, "'%s' has no bucket name (s3://bucket/key)", s);
        if (blen > S3_MAX_BUCKET_LEN)
                return errmsg_set(reterr_msg, -EINVAL, "'%s': the bucket name is longer than %d characters", s,
                            S3_MAX_BUCKET_LEN);
        for (size_t i = 0; i < blen; i++)
                if (!bucket_char(b[i]))
                        return errmsg_set(reterr_msg, -EINVAL, "'%s': '%.*s' is not a valid bucket name (letters, "
                                    "digits, '.', '-' and '_' only)", s, (int)blen, b);
        key = xstrdup(slash ? slash + 1 : "");
        klen = strlen(key);
        if (klen > 0 && key[klen - 1] == '*') {
                if (!allow_prefix) {
                        free(key);
                        return errmsg_set(reterr_msg, -EINVAL, "'%s': a * wildcard cannot be used here; name an object, "
                                    "or a key prefix ending with /", s);
                }
                if (klen > 1 && key[klen - 2] != '/') {
                        free(key);
                        return errmsg_set(reterr_msg, -EINVAL, "'%s': a key prefix must end with a forward slash and an "
                                    "asterisk (s3://bucket/folder/*); other wildcards are not supported", s);
                }
                key[--klen] = '\0';
                prefix = true;
        }
        if (klen > S3_MAX_KEY_LEN) {
                free(key);
                return errmsg_set(reterr_msg, -EINVAL, "'%s': the key is longer than %d bytes", s, S3_MAX_KEY_LEN);
        }
        *ret = (struct s3_uri){ .bucket = xstrndup(b, blen), .key = key, .prefix = prefix };
        return 0;
}

void s3_uri_done(struct s3_uri *u)
{
        if (!u)
                return;
        free(u->bucket);
        free(u->key);
        *u = (struct s3_uri){ 0 };
}

int s3_owner_normalize(const char *owner, char **ret, char **reterr_msg)
{
        size_t n;

        if (!owner || !*owner) {
                *ret = NULL;
                return 0;
        }
        n = strlen(owner);
        for (size_t i = 0; i < n; i++)
                if (!isdigit((unsigned char)owner[i]))
                        return errmsg_set(reterr_msg, -EINVAL, "'%s' is not an AWS account ID (12 digits)", owner);
        if (n > 12)
                return errmsg_set(reterr_msg, -EINVAL, "'%s' is not an AWS account ID: it has more than 12 digits", owner);
        *ret = xasprintf("%.*s%s", (int)(12 - n), "000000000000", owner);
        return 0;
}

/* "s3://bucket/key" for messages. */
static char *uri_text(const char *bucket, const char *key)
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
        c->threshold = env_u64("OPENTOE_S3_MULTIPART_THRESHOLD", S3_DEFAULT_MULTIPART_THRESHOLD, S3_MIN_PART_SIZE,
                               UINT64_MAX / 2);
        c->part_size = env_u64("OPENTOE_S3_PART_SIZE", S3_DEFAULT_PART_SIZE, S3_MIN_PART_SIZE, S3_MAX_PART_SIZE);
        c->max_objects = (size_t)env_u64("OPENTOE_S3_MAX_OBJECTS", S3_DEFAULT_MAX_OBJECTS, 1, 10000000);
        c->concurrency = (size_t)env_u64("OPENTOE_S3_CONCURRENCY", S3_DEFAULT_CONCURRENCY, 1, 16);
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
static const char *client_region(struct s3 *c)
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
        return client_region(c);
}

static void bucket_region_set(struct s3 *c, const char *bucket, const char *region)
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
        path_style = strcmp(url, def) != 0 || c->force_path_style || !bucket_dns_compatible(bucket);
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

/* Sends one request (and once more in the bucket's own region when S3
 * names another one).  0 with *ret filled whatever the status, or -errno
 * with a message naming the operation and object. */
static int s3_send(struct s3 *c, const struct s3_req *q, struct aws_http_response *ret, char **reterr_msg)
{
        _cleanup_free_ char *what = uri_text(q->bucket, q->key);

        for (int round = 0;; round++) {
                _cleanup_free_ char *endpoint = NULL, *path = NULL, *region = xstrdup(bucket_region(c, q->bucket));
                struct aws_http_header hdrs[2];
                size_t nh = 0;
                char *err = NULL, *other;
                bool has_body = q->body_len > 0 || q->body_from_fd;
                int r;

                r = address(c, q->bucket, q->key, region, &endpoint, &path, reterr_msg);
                if (r < 0)
                        return r;
                if (q->owner)
                        hdrs[nh++] = (struct aws_http_header){ "x-amz-expected-bucket-owner", q->owner };
                if (q->content_type)
                        hdrs[nh++] = (struct aws_http_header){ "Content-Type", q->content_type };
                struct aws_http_request rq = {
                        .method = q->method,
                        .endpoint = endpoint,
                        .path = path,
                        .query = q->query,
                        .headers = hdrs,
                        .n_headers = nh,
                        .body = q->body,
                        .body_len = q->body_len,
                        .body_from_fd = q->body_from_fd,
                        .body_fd = q->body_fd,
                        .body_offset = q->body_offset,
                        .payload_hash = has_body && endpoint_is_https(endpoint) ? SIGV4_UNSIGNED_PAYLOAD : NULL,
                        .service = "s3",
                        .region = region,
                        .sigv4_flags = SIGV4_S3,
                        .creds = c->creds,
                        .max_body = q->max_body ? q->max_body : S3_SMALL_BODY,
                        .body_to_fd = q->body_to_fd,
                        .out_fd = q->out_fd,
                        .deadline_ms = c->deadline_ms,
                        .notice = c->notice,
                        .userdata = c->userdata,
                };
                r = aws_http_request(c->http, &rq, ret, &err);
                if (r < 0) {
                        errmsg_set(reterr_msg, r, "%s %s: %s", q->op, what, err ? err : strerror(-r));
                        free(err);
                        return r;
                }
                if (round > 0 || !(other = answer_region(ret, region)))
                        return 0;
                bucket_region_set(c, q->bucket, other);
                if (c->notice) {
                        _cleanup_free_ char *m = xasprintf("%s %s: the bucket is in %s, not %s; sending there",
                                                           q->op, what, other, region);
                        c->notice(c->userdata, m);
                }
                free(other);
                aws_http_response_done(ret);
        }
}

/* Words a non-2xx answer: what went wrong with which bucket and key, then
 * S3's own code, message and request id. */
static int answer_error(const struct aws_http_response *a, const char *op, const char *bucket, const char *key,
                        const char *owner, char **reterr_msg)
{
        _cleanup_free_ char *detail = NULL, *what = uri_text(bucket, key);
        const char *code = a->error_code ? a->error_code : "";
        int e = aws_http_status_error(a, &detail);

        if (!strcmp(code, "NoSuchKey") || (a->status == 404 && key && !*code))
                return errmsg_set(reterr_msg, -ENOENT, "%s %s: the key '%s' does not exist in bucket %s (%s)", op, what,
                            key ? key : "", bucket, detail);
        if (!strcmp(code, "NoSuchBucket"))
                return errmsg_set(reterr_msg, -ENOENT, "%s %s: the bucket %s does not exist (%s)", op, what, bucket, detail);
        if (!strcmp(code, "NoSuchUpload"))
                return errmsg_set(reterr_msg, -ENOENT, "%s %s: the multipart upload is gone (%s)", op, what, detail);
        if (!strcmp(code, "InvalidAccessKeyId"))
                return errmsg_set(reterr_msg, -EACCES, "%s %s: S3 does not know the access key in use (%s)", op, what,
                            detail);
        if (!strcmp(code, "AccessDenied") || a->status == 403) {
                if (owner)
                        return errmsg_set(reterr_msg, -EACCES, "%s %s: access denied; the bucket %s may not belong to the "
                                    "expected owner %s, or the credentials lack the permission (%s)", op, what,
                                    bucket, owner, detail);
                return errmsg_set(reterr_msg, -EACCES, "%s %s: access denied; the credentials lack the permission, or a "
                            "bucket policy refuses it (%s)", op, what, detail);
        }
        return errmsg_set(reterr_msg, e < 0 ? e : -EIO, "%s %s: %s", op, what, detail);
}

/* ---- small XML reading ------------------------------------------------------ */

/* The text between <tag> and </tag> in [p, end), or NULL; *ret_after is
 * set past the closing tag. */
static char *xml_get(const char *p, const char *end, const char *tag, const char **ret_after)
{
        char open[64], close[64];
        const char *a, *b;
        size_t olen, clen;

        snprintf(open, sizeof open, "<%s>", tag);
        snprintf(close, sizeof close, "</%s>", tag);
        olen = strlen(open);
        clen = strlen(close);
        a = memmem(p, (size_t)(end - p), open, olen);
        if (!a)
                return NULL;
        a += olen;
        b = memmem(a, (size_t)(end - a), close, clen);
        if (!b)
                return NULL;
        if (ret_after)
                *ret_after = b + clen;

        struct strbuf out = STRBUF_INIT;
        for (const char *s = a; s < b;) {
                static const struct {
                        const char *ent;
                        char c;
                } ents[] = {
                        { "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' }, { "&quot;", '"' }, { "&apos;", '\'' },
                };
                bool done = false;

                if (*s == '&') {
                        for (size_t i = 0; i < ELEMENTSOF(ents) && !done; i++) {
                                size_t n = strlen(ents[i].ent);

                                if ((size_t)(b - s) >= n && !memcmp(s, ents[i].ent, n)) {
                                        sb_putc(&out, ents[i].c);
                                        s += n;
                                        done = true;
                                }
                        }
                        if (!done && b - s > 2 && s[1] == '#') {
                                char *e;
                                long v = s[2] == 'x' ? strtol(s + 3, &e, 16) : strtol(s + 2, &e, 10);

                                if (e < b && *e == ';' && v > 0 && v < 0x110000) {
                                        /* UTF-8 of the code point. */
                                        if (v < 0x80)
                                                sb_putc(&out, (char)v);
                                        else if (v < 0x800) {
                                                sb_putc(&out, (char)(0xc0 | (v >> 6)));
                                                sb_putc(&out, (char)(0x80 | (v & 0x3f)));
                                        } else if (v < 0x10000) {
                                                sb_putc(&out, (char)(0xe0 | (v >> 12)));
                                                sb_putc(&out, (char)(0x80 | ((v >> 6) & 0x3f)));
                                                sb_putc(&out, (char)(0x80 | (v & 0x3f)));
                                        } else {
                                                sb_putc(&out, (char)(0xf0 | (v >> 18)));
                                                sb_putc(&out, (char)(0x80 | ((v >> 12) & 0x3f)));
                                                sb_putc(&out, (char)(0x80 | ((v >> 6) & 0x3f)));
                                                sb_putc(&out, (char)(0x80 | (v & 0x3f)));
                                        }
                                        s = e + 1;
                                        done = true;
                                }
                        }
                }
                if (!done)
                        sb_putc(&out, *s++);
        }
        return sb_take(&out);
}

/* Percent-decoding in place ('+' is a space, as S3's url encoding-type
 * writes it); false when the result would hold a NUL. */
static bool url_decode(char *s)
{
        char *w = s;

        for (char *r = s; *r; r++) {
                if (*r == '%' && hex_value(r[1]) >= 0 && hex_value(r[2]) >= 0) {
                        char c = (char)(hex_value(r[1]) * 16 + hex_value(r[2]));

                        if (!c)
                                return false;
                        *w++ = c;
                        r += 2;
                } else
                        *w++ = *r == '+' ? ' ' : *r;
        }
        *w = '\0';
        return true;
}

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
                r = s3_send(c, &q, &a, reterr_msg);
                if (r < 0)
                        break;
                if (a.status < 200 || a.status > 299) {
                        r = answer_error(&a, "ListObjectsV2", bucket, prefix, owner, reterr_msg);
                        aws_http_response_done(&a);
                        break;
                }
                p = a.body;
                end = a.body + a.body_len;
                enctype = xml_get(p, end, "EncodingType", NULL);
                for (;;) {
                        const char *after = NULL, *cend;
                        const char *cstart = memmem(p, (size_t)(end - p), "<Contents>", 10);
                        char *key, *size;

                        if (!cstart)
                                break;
                        cend = memmem(cstart, (size_t)(end - cstart), "</Contents>", 11);
                        if (!cend)
                                break;
                        key = xml_get(cstart, cend, "Key", &after);
                        size = xml_get(cstart, cend, "Size", NULL);
                        p = cend + 11;
                        if (!key) {
                                free(size);
                                continue;
                        }
                        if (enctype && !strcmp(enctype, "url") && !url_decode(key)) {
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
                truncated = xml_get(a.body, end, "IsTruncated", NULL);
                free(token);
                token = xml_get(a.body, end, "NextContinuationToken", NULL);
                aws_http_response_done(&a);
                if (n > limit) {
                        r = errmsg_set(reterr_msg, -E2BIG, "ListObjectsV2 s3://%s/%s*: more than %zu objects match; AWSTOE "
                                 "downloads at most %d from a prefix (OPENTOE_S3_MAX_OBJECTS raises the limit), so "
                                 "nothing was downloaded", bucket, prefix, limit, S3_DEFAULT_MAX_OBJECTS);
                        break;
                }
                if (!truncated || strcmp(truncated, "true"))
                        break;
                if (!token || !*token) {
                        r = errmsg_set(reterr_msg, -EIO, "ListObjectsV2 s3://%s/%s*: the listing is truncated but has no "
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

/* ---- downloading ------------------------------------------------------------- */

static mode_t process_umask(void)
{
        static mode_t m = (mode_t)-1;

        if (m == (mode_t)-1) {
                m = umask(022);
                umask(m);
        }
        return m;
}

static char *path_dirname(const char *path)
{
        const char *s = strrchr(path, '/');

        if (!s)
                return xstrdup(".");
        while (s > path && s[-1] == '/')
                s--;
        return s == path ? xstrdup("/") : xstrndup(path, (size_t)(s - path));
}

static const char *path_basename(const char *path)
{
        const char *s = strrchr(path, '/');

        return s ? s + 1 : path;
}

static int rename_noreplace(int dirfd, const char *from, const char *to)
{
        if (renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE) == 0)
                return 0;
        if (errno != EINVAL && errno != ENOSYS)
                return -errno;
        if (linkat(dirfd, from, dirfd, to, 0) < 0)
                return -errno;
        (void)unlinkat(dirfd, from, 0);
        return 0;
}

/* A temporary file beside a target, removed unless renamed into place. */
struct tmpfile {
        int dirfd;
        int fd;
        char name[128];
};

static void tmpfile_done(struct tmpfile *t)
{
        if (t->fd >= 0)
                close(t->fd);
        if (t->name[0] && t->dirfd >= 0)
                (void)unlinkat(t->dirfd, t->name, 0);
        if (t->dirfd >= 0)
                close(t->dirfd);
        *t = (struct tmpfile){ .dirfd = -1, .fd = -1 };
}

static int tmpfile_open(const char *dir, const char *base, struct tmpfile *t)
{
        static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

        t->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (t->dirfd < 0)
                return -errno;
        for (int tries = 0; tries < 100; tries++) {
                unsigned char rnd[6];
                char x[7];

                if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
                        for (size_t i = 0; i < sizeof rnd; i++)
                                rnd[i] = (unsigned char)(rand() + tries);
                for (size_t i = 0; i < 6; i++)
                        x[i] = letters[rnd[i] % (sizeof letters - 1)];
                x[6] = '\0';
                snprintf(t->name, sizeof t->name, ".%.40s.opentoe-%s", base, x);
                t->fd = openat(t->dirfd, t->name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (t->fd >= 0)
                        return 0;
                if (errno != EEXIST)
                        break;
        }
        t->name[0] = '\0';
        return -errno;
}

int s3_download_file(struct s3 *c, const char *bucket, const char *key, const char *owner, const char *dest,
                     bool replace, uint64_t *ret_size, char **reterr_msg)
{
        _cleanup_(tmpfile_done) struct tmpfile t = { .dirfd = -1, .fd = -1 };
        _cleanup_free_ char *dir = path_dirname(dest), *what = uri_text(bucket, key);
        const char *base = path_basename(dest), *len;
        struct aws_http_response a = { 0 };
        struct stat st;
        mode_t mode = 0666 & ~process_umask();
        int r;

        if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
                return errmsg_set(reterr_msg, -EISDIR, "GetObject %s: the destination %s names a folder, not a file",
                            what, dest);
        if (stat(dest, &st) == 0) {
                if (S_ISDIR(st.st_mode))
                        return errmsg_set(reterr_msg, -EISDIR, "GetObject %s: the destination %s is a folder", what, dest);
                if (!replace)
                        return errmsg_set(reterr_msg, -EEXIST, "GetObject %s: the destination %s already exists", what,
                                    dest);
                mode = st.st_mode & 07777;
        } else if (lstat(dest, &st) == 0 && !replace) {
                return errmsg_set(reterr_msg, -EEXIST, "GetObject %s: the destination %s already exists", what, dest);
        }
        r = mkdir_parents(dir, 0777);
        if (r == 0 && stat(dir, &st) < 0)
                r = -errno;
        else if (r == 0 && !S_ISDIR(st.st_mode))
                r = -ENOTDIR;
        if (r < 0)
                return errmsg_set(reterr_msg, r, "GetObject %s: cannot create the folder %s: %s", what, dir, strerror(-r));
        r = tmpfile_open(dir, base, &t);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "GetObject %s: cannot create a temporary file in %s: %s", what, dir,
                            strerror(-r));

        struct s3_req q = {
                .op = "GetObject", .method = "GET", .bucket = bucket, .key = key, .owner = owner,
                .body_to_fd = true, .out_fd = t.fd,
        };
        r = s3_send(c, &q, &a, reterr_msg);
        if (r < 0)
                return r;
        if (a.status < 200 || a.status > 299) {
                r = answer_error(&a, "GetObject", bucket, key, owner, reterr_msg);
                aws_http_response_done(&a);
                return r;
        }
        len = aws_http_response_header(&a, "Content-Length");
        if (len && strtoull(len, NULL, 10) != a.bytes_streamed) {
                r = errmsg_set(reterr_msg, -EIO, "GetObject %s: the answer was cut short: %" PRIu64 " of %s bytes arrived",
                         what, a.bytes_streamed, len);
                aws_http_response_done(&a);
                return r;
        }
        if (ret_size)
                *ret_size = a.bytes_streamed;
        aws_http_response_done(&a);

        if (fchmod(t.fd, mode) < 0 || fsync(t.fd) < 0)
                return errmsg_set(reterr_msg, -errno, "GetObject %s: cannot write %s: %s", what, dest, strerror(errno));
        r = close(t.fd);
        t.fd = -1;
        if (r < 0)
                return errmsg_set(reterr_msg, -errno, "GetObject %s: cannot write %s: %s", what, dest, strerror(errno));
        if (replace)
                r = renameat(t.dirfd, t.name, t.dirfd, base) < 0 ? -errno : 0;
        else
                r = rename_noreplace(t.dirfd, t.name, base);
        if (r == -EEXIST)
                return errmsg_set(reterr_msg, -EEXIST, "GetObject %s: the destination %s appeared during the download",
                            what, dest);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "GetObject %s: cannot put %s in place: %s", what, dest, strerror(-r));
        t.name[0] = '\0';
        (void)fsync(t.dirfd);
        return 0;
}

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
        int r = s3_send(c, &q, &a, reterr_msg);

        if (r < 0)
                return r;
        if (a.status < 200 || a.status > 299)
                r = answer_error(&a, "PutObject", bucket, key, owner, reterr_msg);
        aws_http_response_done(&a);
        return r;
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
        int r = s3_send(c, &pq, &a, reterr_msg);

        if (r < 0)
                return r;
        if (a.status < 200 || a.status > 299) {
                r = answer_error(&a, "UploadPart", job->bucket, job->key, job->owner, reterr_msg);
                aws_http_response_done(&a);
                return r;
        }
        etag = aws_http_response_header(&a, "ETag");
        if (!etag || !*etag)
                r = errmsg_set(reterr_msg, -EIO, "UploadPart %s: part %zu of %zu was answered without an ETag", job->what,
                         i + 1, job->nparts);
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
        n->region = xstrdup(client_region(c));
        for (size_t i = 0; i < c->n_regions; i++)
                bucket_region_set(n, c->regions[i].bucket, c->regions[i].region);
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
        _cleanup_free_ char *id = NULL, *enc_id = NULL, *what = uri_text(bucket, key);
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
                return errmsg_set(reterr_msg, -EFBIG, "PutObject %s: %" PRIu64 " bytes is more than S3 can store in one "
                            "object", what, size);
        nparts = (size_t)((size + part - 1) / part);

        struct s3_req cq = {
                .op = "CreateMultipartUpload", .method = "POST", .bucket = bucket, .key = key, .query = "uploads",
                .owner = owner, .content_type = content_type(key),
        };
        r = s3_send(c, &cq, &a, reterr_msg);
        if (r < 0)
                return r;
        if (a.status < 200 || a.status > 299) {
                r = answer_error(&a, "CreateMultipartUpload", bucket, key, owner, reterr_msg);
                aws_http_response_done(&a);
                return r;
        }
        id = xml_get(a.body, a.body + a.body_len, "UploadId", NULL);
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
                r = s3_send(c, &fq, &a, reterr_msg);
                sb_free(&body);
                if (r >= 0) {
                        if (a.status < 200 || a.status > 299)
                                r = answer_error(&a, "CompleteMultipartUpload", bucket, key, owner, reterr_msg);
                        else if (a.body && strstr(a.body, "<Error>")) {
                                /* S3 may answer 200 and put the failure in the body. */
                                _cleanup_free_ char *code = xml_get(a.body, a.body + a.body_len, "Code", NULL);
                                _cleanup_free_ char *msg = xml_get(a.body, a.body + a.body_len, "Message", NULL);

                                r = errmsg_set(reterr_msg, -EIO, "CompleteMultipartUpload %s: %s%s%s", what,
                                         code ? code : "InternalError", msg ? ": " : "", msg ? msg : "");
                        }
                        aws_http_response_done(&a);
                }
        }
        for (size_t i = 0; i < nparts; i++)
                free(etags[i]);
        free(etags);
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
                return errmsg_set(reterr_msg, -EINVAL, "PutObject s3://%s/%s: the key is longer than %d bytes", bucket, key,
                            S3_MAX_KEY_LEN);
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

/* ---- folder trees -------------------------------------------------------------- */

struct tree {
        struct s3 *c;
        const char *bucket;
        const char *owner;
        const struct s3_tree_cb *cb;
        struct strbuf path;             /* the file system path being visited */
        struct strbuf key;              /* the key it goes to */
        size_t n;
        bool no_links;                  /* skip symbolic links (the log folder) */
};

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void skipped(struct tree *t, const char *why)
{
        if (t->cb && t->cb->skipped)
                t->cb->skipped(t->cb->userdata, sb_str(&t->path), why);
}

static int tree_visit(struct tree *t, int dfd, unsigned depth, char **reterr_msg)
{
        DIR *d;
        struct dirent *de;
        char **names = NULL;
        size_t n = 0, cap = 0;
        int r = 0;

        if (depth > S3_MAX_TREE_DEPTH)
                return errmsg_set(reterr_msg, -ELOOP, "%s: more than %d folder levels", sb_str(&t->path),
                            S3_MAX_TREE_DEPTH);
        d = fdopendir(dfd);
        if (!d) {
                r = -errno;
                close(dfd);
                return errmsg_set(reterr_msg, r, "cannot read the folder %s: %s", sb_str(&t->path), strerror(-r));
        }
        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno)
                                r = errmsg_set(reterr_msg, -errno, "cannot read the folder %s: %s", sb_str(&t->path),
                                         strerror(errno));
                        break;
                }
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 32;
                        names = xrealloc(names, cap * sizeof *names);
                }
                names[n++] = xstrdup(de->d_name);
        }
        if (r >= 0 && n > 1)
                qsort(names, n, sizeof *names, name_cmp);
        for (size_t i = 0; i < n && r >= 0; i++) {
                size_t plen = t->path.len, klen = t->key.len;
                struct stat st;

                sb_printf(&t->path, "/%s", names[i]);
                sb_puts(&t->key, names[i]);
                if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = errmsg_set(reterr_msg, -errno, "cannot read %s: %s", sb_str(&t->path), strerror(errno));
                } else if (S_ISDIR(st.st_mode)) {
                        int sub = openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                        if (sub < 0)
                                r = errmsg_set(reterr_msg, -errno, "cannot open the folder %s: %s", sb_str(&t->path),
                                         strerror(errno));
                        else {
                                sb_putc(&t->key, '/');
                                r = tree_visit(t, sub, depth + 1, reterr_msg);
                        }
                } else if (S_ISLNK(st.st_mode) && t->no_links) {
                        skipped(t, "a symbolic link (not followed)");
                } else if (S_ISLNK(st.st_mode) && fstatat(dirfd(d), names[i], &st, 0) < 0) {
                        skipped(t, "a symbolic link to nothing");
                } else if (S_ISDIR(st.st_mode)) {
                        skipped(t, "a symbolic link to a folder (not followed)");
                } else if (!S_ISREG(st.st_mode)) {
                        skipped(t, "not a regular file");
                } else {
                        int fd = openat(dirfd(d), names[i], O_RDONLY | O_CLOEXEC | (t->no_links ? O_NOFOLLOW : 0));

                        if (fd < 0)
                                r = errmsg_set(reterr_msg, -errno, "cannot open %s: %s", sb_str(&t->path), strerror(errno));
                        else {
                                if (fstat(fd, &st) < 0)
                                        r = errmsg_set(reterr_msg, -errno, "cannot read %s: %s", sb_str(&t->path),
                                                 strerror(errno));
                                else if (!S_ISREG(st.st_mode))
                                        skipped(t, "not a regular file");
                                else {
                                        char *err = NULL;

                                        r = s3_upload_fd(t->c, t->bucket, sb_str(&t->key), t->owner, fd,
                                                         (uint64_t)st.st_size, &err);
                                        if (r < 0) {
                                                errmsg_set(reterr_msg, r, "%s: %s", sb_str(&t->path), err ? err : "failed");
                                                free(err);
                                        } else {
                                                t->n++;
                                                if (t->cb && t->cb->uploaded)
                                                        t->cb->uploaded(t->cb->userdata, sb_str(&t->path),
                                                                        sb_str(&t->key), (uint64_t)st.st_size);
                                        }
                                }
                                close(fd);
                        }
                }
                t->path.len = plen;
                t->path.s[plen] = '\0';
                t->key.len = klen;
                if (t->key.s)
                        t->key.s[klen] = '\0';
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        closedir(d);
        return r;
}

static int upload_tree(struct s3 *c, const char *dir, const char *bucket, const char *prefix, const char *owner,
                       const struct s3_tree_cb *cb, bool no_links, size_t *ret_n, char **reterr_msg)
{
        struct tree t = { .c = c, .bucket = bucket, .owner = owner, .cb = cb, .no_links = no_links };
        size_t dlen = strlen(dir);
        int fd, r;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (no_links ? O_NOFOLLOW : 0));
        if (fd < 0)
                return errmsg_set(reterr_msg, -errno, "cannot open the folder %s: %s", dir, strerror(errno));
        while (dlen > 1 && dir[dlen - 1] == '/')
                dlen--;
        sb_append(&t.path, dir, dlen);
        sb_puts(&t.key, prefix ? prefix : "");
        r = tree_visit(&t, fd, 0, reterr_msg);
        sb_free(&t.path);
        sb_free(&t.key);
        if (ret_n)
                *ret_n = t.n;
        return r;
}

int s3_upload_tree(struct s3 *c, const char *dir, const char *bucket, const char *prefix, const char *owner,
                   const struct s3_tree_cb *cb, size_t *ret_n, char **reterr_msg)
{
        return upload_tree(c, dir, bucket, prefix, owner, cb, false, ret_n, reterr_msg);
}

/* ---- documents ---------------------------------------------------------------------- */

int s3_fetch_temp(const char *uri, const char *owner, char **ret_path, char **reterr_msg)
{
        _cleanup_(s3_uri_done) struct s3_uri u = { 0 };
        _cleanup_free_ char *own = NULL, *dir = NULL, *name = NULL, *path = NULL;
        const char *tmp = getenv("TMPDIR");
        struct s3 *c;
        int r;

        r = s3_uri_parse(uri, false, &u, reterr_msg);
        if (r < 0)
                return r;
        if (!*u.key || u.key[strlen(u.key) - 1] == '/')
                return errmsg_set(reterr_msg, -EINVAL, "%s names a bucket or a folder, not an object", uri);
        r = s3_owner_normalize(owner, &own, reterr_msg);
        if (r < 0)
                return r;
        dir = xasprintf("%s/opentoe-s3-XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
        if (!mkdtemp(dir))
                return errmsg_set(reterr_msg, -errno, "cannot create a temporary folder for %s: %s", uri, strerror(errno));
        name = xstrdup(path_basename(u.key));
        if (!strcmp(name, ".") || !strcmp(name, "..")) {
                free(name);
                name = xstrdup("document");
        }
        path = xasprintf("%s/%s", dir, name);
        c = s3_new(reterr_msg);
        if (!c) {
                rmdir(dir);
                return -ENOSYS;
        }
        r = s3_download_file(c, u.bucket, u.key, own, path, true, NULL, reterr_msg);
        s3_free(c);
        if (r < 0) {
                rmdir(dir);
                return r;
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

void s3_temp_remove(char *path)
{
        if (!path)
                return;
        _cleanup_free_ char *dir = path_dirname(path);

        (void)unlink(path);
        (void)rmdir(dir);
        free(path);
}

/* ---- action inputs ----------------------------------------------------------------- */

/* expectedBucketOwner: a string, or the integer a YAML document makes of
 * an unquoted account ID. */
int s3_owner_from_entry(const json_t *o, char **ret, char **reterr)
{
        const json_t *v = json_object_get(o, "expectedBucketOwner");
        char buf[32];

        if (json_is_integer(v)) {
                if (json_integer_value(v) < 0) {
                        *reterr = xstrdup("expectedBucketOwner must be an AWS account ID (12 digits)");
                        return -EINVAL;
                }
                snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return s3_owner_normalize(buf, ret, reterr);
        }
        if (v && !json_is_null(v) && !json_is_string(v)) {
                *reterr = xstrdup("expectedBucketOwner must be an AWS account ID (12 digits)");
                return -EINVAL;
        }
        return s3_owner_normalize(v ? json_string_value(v) : NULL, ret, reterr);
}

/* ---- log folders ------------------------------------------------------------------ */

/* The key prefix without slashes at either end: s3_log_url() adds them. */
static char *trim_prefix(const char *prefix)
{
        size_t a = 0, n;
        if (!prefix)
                return NULL;
        while (prefix[a] == '/')
                a++;
        n = strlen(prefix + a);
        while (n > 0 && prefix[a + n - 1] == '/')
                n--;
        return n ? xstrndup(prefix + a, n) : NULL;
}

char *s3_log_url(const struct s3_log_target *t, const char *folder)
{
        if (!t || !t->bucket || !*t->bucket)
                return NULL;
        _cleanup_free_ char *prefix = trim_prefix(t->prefix);
        return xasprintf("s3://%s/%s%s%s", t->bucket, prefix ? prefix : "", prefix ? "/" : "", path_basename(folder));
}

int s3_log_upload(const struct s3_log_target *t, const char *folder, size_t *ret_n, char **reterr_msg)
{
        if (!t || !t->bucket || !*t->bucket)
                return errmsg_set(reterr_msg, -EINVAL, "no log bucket is set");
        _cleanup_free_ char *trimmed = trim_prefix(t->prefix);
        _cleanup_free_ char *prefix = xasprintf("%s%s%s/", trimmed ? trimmed : "", trimmed ? "/" : "",
                                                path_basename(folder));
        struct s3 *c = s3_new(reterr_msg);
        if (!c)
                return -ENOSYS;
        /* opentoe's own folder: a link in it was not put there by opentoe. */
        int r = upload_tree(c, folder, t->bucket, prefix, t->owner && *t->owner ? t->owner : NULL, NULL, true, ret_n,
                            reterr_msg);
        s3_free(c);
        return r;
}
