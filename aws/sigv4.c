/* sigv4.c: owns AWS Signature Version 4 signing: the canonical request
 * (URI, query, headers, payload hash) under the default and the S3 rules,
 * the string to sign, the signing key, the Authorization header, and the
 * parser of raw HTTP request text used by `opentoe debug sigv4` and the
 * tests.  Digests and HMAC come from common/hash.c (dlopen'd libcrypto). */
#include "sigv4.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "errmsg.h"
#include "hexdigit.h"
#include "hash.h"
#include "strbuf.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define MAX_METHOD_LEN 32
#define MAX_SCOPE_PART_LEN 63     /* region, service */
#define MAX_ACCESS_KEY_LEN 128
#define MAX_SECRET_KEY_LEN 256
#define MAX_TOKEN_LEN 8192
#define MAX_HOST_LEN 1024

/* Reports a hash.c failure (-ENOSYS: libcrypto missing, as `why` says)
 * the same way. */
static int fail_crypto(char **reterr_msg, int r, const char *why)
{
        if (reterr_msg)
                *reterr_msg = xstrdup(r == -ENOSYS && why ? why : "libcrypto failed to compute a digest");
        return r;
}

static bool is_unreserved(unsigned char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
               c == '_' || c == '~';
}

/* RFC 9110 token characters (method and header names). */
static bool is_tchar(unsigned char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_pct_triplet(const char *s, size_t i, size_t len)
{
        return s[i] == '%' && i + 2 < len && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0;
}

static void put_pct(struct strbuf *b, unsigned char c)
{
        static const char hex[] = "0123456789ABCDEF";
        char t[3] = { '%', hex[c >> 4], hex[c & 15] };
        sb_append(b, t, 3);
}

static void encode_into(struct strbuf *b, const char *s, size_t len, bool keep_slash)
{
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (is_unreserved(c) || (keep_slash && c == '/'))
                        sb_putc(b, (char)c);
                else
                        put_pct(b, c);
        }
}

char *sigv4_uri_encode(const char *s, size_t len, bool keep_slash)
{
        struct strbuf b = STRBUF_INIT;
        if (!s)
                len = 0;
        encode_into(&b, s, len, keep_slash);
        return sb_take(&b);
}

/* Printable ASCII without space: access keys, tokens, hosts. */
static bool is_visible(const char *s, size_t max, const char *also_forbidden)
{
        size_t n = 0;
        for (; s[n]; n++)
                if (n >= max || (unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f ||
                    strchr(also_forbidden, s[n]))
                        return false;
        return n > 0;
}

static bool is_scope_part(const char *s)
{
        if (!s)
                return false;
        size_t n = 0;
        for (; s[n]; n++) {
                unsigned char c = (unsigned char)s[n];
                if (n >= MAX_SCOPE_PART_LEN ||
                    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || c == '.'))
                        return false;
        }
        return n > 0;
}

static bool is_amz_date(const char *s)
{
        if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
                return false;
        for (int i = 0; i < 15; i++)
                if (i != 8 && (s[i] < '0' || s[i] > '9'))
                        return false;
        int month = (s[4] - '0') * 10 + (s[5] - '0'), day = (s[6] - '0') * 10 + (s[7] - '0');
        int hour = (s[9] - '0') * 10 + (s[10] - '0'), min = (s[11] - '0') * 10 + (s[12] - '0');
        int sec = (s[13] - '0') * 10 + (s[14] - '0');
        return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && min <= 59 && sec <= 60;
}

/* A lower-case hex SHA-256, or a literal such as UNSIGNED-PAYLOAD or
 * STREAMING-AWS4-HMAC-SHA256-PAYLOAD. */
static bool is_payload_hash(const char *s)
{
        size_t n = strlen(s);
        if (n == 64 && strspn(s, "0123456789abcdef") == 64)
                return true;
        if (n > 64 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != n)
                return false;
        return !strcmp(s, SIGV4_UNSIGNED_PAYLOAD) || !strncmp(s, "STREAMING-", 10);
}

/* ---- canonical URI ------------------------------------------------------ */

/* Removes `.`, `..` and empty segments (RFC 3986 5.2.4, plus `//`);
 * a trailing slash stays. */
static char *normalize_path(const char *path, size_t len)
{
        /* Segment starts and lengths; at most len/2+1 non-empty segments. */
        size_t cap = len / 2 + 2, n = 0;
        _cleanup_free_ size_t *start = xcalloc(cap, sizeof *start);
        _cleanup_free_ size_t *seglen = xcalloc(cap, sizeof *seglen);
        bool trailing = false;
        size_t i = 0;
        while (i < len) {
                while (i < len && path[i] == '/')
                        i++;
                size_t s = i;
                while (i < len && path[i] != '/')
                        i++;
                size_t l = i - s;
                trailing = l == 0 || (l == 1 && path[s] == '.') || (l == 2 && path[s] == '.' && path[s + 1] == '.');
                if (l == 0 || (l == 1 && path[s] == '.'))
                        continue;
                if (l == 2 && path[s] == '.' && path[s + 1] == '.') {
                        if (n > 0)
                                n--;
                        continue;
                }
                start[n] = s;
                seglen[n] = l;
                n++;
        }
        struct strbuf b = STRBUF_INIT;
        sb_putc(&b, '/');
        for (size_t k = 0; k < n; k++) {
                sb_append(&b, path + start[k], seglen[k]);
                if (k + 1 < n || trailing)
                        sb_putc(&b, '/');
        }
        return sb_take(&b);
}

static int check_path(const char *path, char **reterr_msg)
{
        size_t len = strlen(path);
        if (len > SIGV4_MAX_PATH_LEN)
                return errmsg_set(reterr_msg, -EINVAL, "the path is longer than %d bytes", SIGV4_MAX_PATH_LEN);
        if (path[0] != '/')
                return errmsg_set(reterr_msg, -EINVAL, "the path must start with '/'");
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
                        return errmsg_set(reterr_msg, -EINVAL, "the path holds a control character (byte %zu)", i);
        return 0;
}

int sigv4_canonical_uri(const char *path, bool s3, char **ret, char **reterr_msg)
{
        if (!path || !*path)
                path = "/";
        int r = check_path(path, reterr_msg);
        if (r < 0)
                return r;
        size_t len = strlen(path);
        struct strbuf b = STRBUF_INIT;
        if (s3) {
                /* Encoded exactly once: the wire form's %XX stay as they
                 * are (hex upper-cased), everything else is encoded. */
                for (size_t i = 0; i < len; i++) {
                        unsigned char c = (unsigned char)path[i];
                        if (is_pct_triplet(path, i, len)) {
                                put_pct(&b, (unsigned char)(hex_value((unsigned char)path[i + 1]) * 16 +
                                                            hex_value((unsigned char)path[i + 2])));
                                i += 2;
                        } else if (c == '/' || is_unreserved(c)) {
                                sb_putc(&b, (char)c);
                        } else {
                                put_pct(&b, c);
                        }
                }
        } else {
                /* Normalised, then the wire form is encoded again. */
                _cleanup_free_ char *norm = normalize_path(path, len);
                encode_into(&b, norm, strlen(norm), true);
        }
        *ret = sb_take(&b);
        return 0;
}

/* ---- canonical query string -------------------------------------------- */

struct qparam {
        char *key, *value;
};

/* Decodes a wire-form query component (`+` stays a plus) and encodes it
 * again with the unreserved set. */
static char *requote(const char *s, size_t len)
{
        struct strbuf b = STRBUF_INIT;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (is_pct_triplet(s, i, len)) {
                        c = (unsigned char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
                        i += 2;
                }
                if (is_unreserved(c))
                        sb_putc(&b, (char)c);
                else
                        put_pct(&b, c);
        }
        return sb_take(&b);
}

static int qparam_cmp(const void *a, const void *b)
{
        const struct qparam *x = a, *y = b;
        int c = strcmp(x->key, y->key);
        return c ? c : strcmp(x->value, y->value);
}

int sigv4_canonical_query(const char *query, char **ret, char **reterr_msg)
{
        if (!query)
                query = "";
        size_t len = strlen(query);
        if (len > SIGV4_MAX_QUERY_LEN)
                return errmsg_set(reterr_msg, -EINVAL, "the query string is longer than %d bytes", SIGV4_MAX_QUERY_LEN);
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)query[i] < 0x20 || query[i] == 0x7f || query[i] == '#')
                        return errmsg_set(reterr_msg, -EINVAL, "the query string holds %s (byte %zu)",
                                          query[i] == '#' ? "a '#'" : "a control character", i);
        size_t n = 0;
        struct qparam *p = NULL;
        int r = 0;
        for (size_t i = 0; i <= len;) {
                const char *amp = memchr(query + i, '&', len - i);
                size_t end = amp ? (size_t)(amp - query) : len;
                if (end > i) {
                        if (n >= SIGV4_MAX_QUERY_PARAMS) {
                                r = errmsg_set(reterr_msg, -EINVAL, "the query string has more than %d parameters",
                                               SIGV4_MAX_QUERY_PARAMS);
                                break;
                        }
                        if (!p)
                                p = xcalloc(SIGV4_MAX_QUERY_PARAMS, sizeof *p);
                        const char *eq = memchr(query + i, '=', end - i);
                        size_t klen = eq ? (size_t)(eq - (query + i)) : end - i;
                        p[n].key = requote(query + i, klen);
                        p[n].value = eq ? requote(eq + 1, (size_t)(query + end - (eq + 1))) : xstrdup("");
                        n++;
                }
                i = end + 1;
        }
        if (r == 0) {
                if (n)
                        qsort(p, n, sizeof *p, qparam_cmp);
                struct strbuf b = STRBUF_INIT;
                sb_puts(&b, "");
                for (size_t k = 0; k < n; k++)
                        sb_printf(&b, "%s%s=%s", k ? "&" : "", p[k].key, p[k].value);
                *ret = sb_take(&b);
        }
        for (size_t k = 0; k < n; k++) {
                free(p[k].key);
                free(p[k].value);
        }
        free(p);
        return r;
}

/* ---- canonical headers ------------------------------------------------- */

struct hdr {
        char *name;   /* lower case */
        char *value;  /* canonical */
        size_t order; /* position among the headers, for repeated names */
        bool unsigned_;
};

static int hdr_cmp(const void *a, const void *b)
{
        const struct hdr *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        if (c)
                return c;
        return x->order < y->order ? -1 : x->order > y->order;
}

/* Trims each line of a (possibly folded) value, collapses runs of spaces
 * and tabs into one space, and joins the non-empty lines with commas, as
 * the suite's get-header-value-multiline expects. */
static int canonical_value(const char *name, const char *v, char **ret, char **reterr_msg)
{
        size_t len = strlen(v);
        if (len > SIGV4_MAX_VALUE_LEN)
                return errmsg_set(reterr_msg, -EINVAL, "header '%s': the value is longer than %d bytes", name,
                                  SIGV4_MAX_VALUE_LEN);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)v[i];
                if ((c < 0x20 && c != '\t' && c != '\n' && !(c == '\r' && v[i + 1] == '\n')) || c == 0x7f)
                        return errmsg_set(reterr_msg, -EINVAL,
                                          "header '%s': the value holds a control character (byte %zu)", name, i);
        }
        struct strbuf b = STRBUF_INIT;
        bool any_line = false;
        for (size_t i = 0; i <= len;) {
                const char *nl = memchr(v + i, '\n', len - i);
                size_t end = nl ? (size_t)(nl - v) : len;
                size_t s = i, e = end;
                while (s < e && (v[s] == ' ' || v[s] == '\t'))
                        s++;
                while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t' || v[e - 1] == '\r'))
                        e--;
                if (e > s) {
                        if (any_line)
                                sb_putc(&b, ',');
                        any_line = true;
                        bool in_space = false;
                        for (size_t k = s; k < e; k++) {
                                if (v[k] == ' ' || v[k] == '\t') {
                                        in_space = true;
                                        continue;
                                }
                                if (in_space)
                                        sb_putc(&b, ' ');
                                in_space = false;
                                sb_putc(&b, v[k]);
                        }
                }
                i = end + 1;
        }
        *ret = sb_take(&b);
        return 0;
}

static void hdrs_free(struct hdr *h, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(h[i].name);
                free(h[i].value);
        }
        free(h);
}

/* The joined canonical value of every header called name, or NULL. */
static char *joined_value(const struct hdr *h, size_t n, const char *name)
{
        struct strbuf b = STRBUF_INIT;
        bool found = false;
        for (size_t i = 0; i < n; i++)
                if (!strcmp(h[i].name, name)) {
                        if (found)
                                sb_putc(&b, ',');
                        sb_puts(&b, h[i].value);
                        found = true;
                }
        if (!found) {
                sb_free(&b);
                return NULL;
        }
        return sb_take(&b);
}

static void add_hdr(struct hdr *h, size_t *n, const char *name, const char *value)
{
        h[*n] = (struct hdr){ .name = xstrdup(name), .value = xstrdup(value), .order = *n };
        (*n)++;
}

/* ---- keys and signature ----------------------------------------------- */

static int signing_key(const char *secret_key, const char *date, const char *region, const char *service,
                       unsigned char ret_key[32], char **reterr_msg)
{
        if (!secret_key || !*secret_key || strlen(secret_key) > MAX_SECRET_KEY_LEN || !date || strlen(date) != 8 ||
            strspn(date, "0123456789") != 8 || !is_scope_part(region) || !is_scope_part(service))
                return -EINVAL;
        unsigned char k[32], next[32];
        char *secret = xasprintf("AWS4%s", secret_key);
        int r = hmac_sha256(secret, strlen(secret), date, 8, k, reterr_msg);
        explicit_bzero(secret, strlen(secret));
        free(secret);
        const char *const parts[] = { region, service, "aws4_request" };
        for (size_t i = 0; r == 0 && i < ELEMENTSOF(parts); i++) {
                r = hmac_sha256(k, sizeof k, parts[i], strlen(parts[i]), next, reterr_msg);
                memcpy(k, next, sizeof k);
        }
        if (r == 0)
                memcpy(ret_key, k, sizeof k);
        explicit_bzero(k, sizeof k);
        explicit_bzero(next, sizeof next);
        return r;
}

int sigv4_signing_key(const char *secret_key, const char *date, const char *region, const char *service,
                      unsigned char ret_key[32])
{
        return signing_key(secret_key, date, region, service, ret_key, NULL);
}

static int check_sign_inputs(const struct sigv4_request *req, const struct sigv4_credentials *cred,
                        const struct sigv4_params *params, char **reterr_msg)
{
        if (!req || !cred || !params)
                return errmsg_set(reterr_msg, -EINVAL, "no request, credentials or parameters");
        if (!req->method || !*req->method || strlen(req->method) > MAX_METHOD_LEN)
                return errmsg_set(reterr_msg, -EINVAL, "the method must be 1 to %d characters", MAX_METHOD_LEN);
        for (const char *c = req->method; *c; c++)
                if (!is_tchar((unsigned char)*c))
                        return errmsg_set(reterr_msg, -EINVAL, "the method holds a character not allowed in a token");
        if (req->n_headers > SIGV4_MAX_HEADERS)
                return errmsg_set(reterr_msg, -EINVAL, "more than %d headers", SIGV4_MAX_HEADERS);
        if (req->n_headers && !req->headers)
                return errmsg_set(reterr_msg, -EINVAL, "%zu headers announced but none given", req->n_headers);
        if (!req->payload && req->payload_len)
                return errmsg_set(reterr_msg, -EINVAL, "a payload length without a payload");
        if (req->host && *req->host && !is_visible(req->host, MAX_HOST_LEN, "/?#@"))
                return errmsg_set(reterr_msg, -EINVAL, "the host is not a host name");
        if (req->payload_hash && !is_payload_hash(req->payload_hash))
                return errmsg_set(reterr_msg, -EINVAL,
                                  "the payload hash is neither a hex SHA-256 nor UNSIGNED-PAYLOAD");
        return sigv4_check_params(cred, params, reterr_msg);
}

int sigv4_check_params(const struct sigv4_credentials *cred, const struct sigv4_params *params, char **reterr_msg)
{
        if (!cred || !params)
                return errmsg_set(reterr_msg, -EINVAL, "no credentials or parameters");
        if (!cred->access_key || !is_visible(cred->access_key, MAX_ACCESS_KEY_LEN, "/,="))
                return errmsg_set(reterr_msg, -EINVAL,
                                  "the access key id is missing, too long or holds '/', ',', '=' or spaces");
        if (!cred->secret_key || !*cred->secret_key || strlen(cred->secret_key) > MAX_SECRET_KEY_LEN)
                return errmsg_set(reterr_msg, -EINVAL, "the secret key is missing or longer than %d bytes",
                                  MAX_SECRET_KEY_LEN);
        if (cred->session_token && !is_visible(cred->session_token, MAX_TOKEN_LEN, ""))
                return errmsg_set(reterr_msg, -EINVAL,
                                  "the session token is empty, longer than %d bytes or holds spaces", MAX_TOKEN_LEN);
        if (!is_scope_part(params->region))
                return errmsg_set(reterr_msg, -EINVAL, "the region must be 1 to %d letters, digits, '-', '_' or '.'",
                                  MAX_SCOPE_PART_LEN);
        if (!is_scope_part(params->service))
                return errmsg_set(reterr_msg, -EINVAL, "the service must be 1 to %d letters, digits, '-', '_' or '.'",
                                  MAX_SCOPE_PART_LEN);
        if (!is_amz_date(params->amz_date))
                return errmsg_set(reterr_msg, -EINVAL, "the date must be YYYYMMDDTHHMMSSZ");
        return 0;
}

/* Decides the payload hash from the request's x-amz-content-sha256, the
 * caller's hash, the UNSIGNED flag, or by hashing the payload. */
static int payload_hash(const struct sigv4_request *req, unsigned flags, const char *header, char ret[65],
                        char **reterr_msg)
{
        const char *want = req->payload_hash;
        if (flags & SIGV4_UNSIGNED) {
                if (want && strcmp(want, SIGV4_UNSIGNED_PAYLOAD))
                        return errmsg_set(reterr_msg, -EINVAL, "a payload hash given for an unsigned payload");
                want = SIGV4_UNSIGNED_PAYLOAD;
        }
        if (header) {
                if (!is_payload_hash(header))
                        return errmsg_set(reterr_msg, -EINVAL,
                                          "x-amz-content-sha256 is neither a hex SHA-256 nor UNSIGNED-PAYLOAD");
                if (want && strcmp(want, header))
                        return errmsg_set(reterr_msg, -EINVAL,
                                          "x-amz-content-sha256 is '%s' but the payload hash is '%s'", header, want);
                want = header;
        }
        if (want) {
                snprintf(ret, 65, "%s", want);
                return 0;
        }
        unsigned char d[HASH_MAX_LEN];
        size_t n;
        _cleanup_free_ char *why = NULL;
        int r = hash_buffer(HASH_SHA256, req->payload ? req->payload : "", req->payload_len, d, &n, &why);
        if (r < 0)
                return fail_crypto(reterr_msg, r, why);
        hash_hex(d, n, ret);
        return 0;
}

void sigv4_result_done(struct sigv4_result *r)
{
        if (!r)
                return;
        free_many(r->canonical_request, r->string_to_sign, r->signed_headers, r->authorization);
        for (size_t i = 0; i < r->n_added; i++)
                free(r->added[i].value);
        memset(r, 0, sizeof *r);
}

/* Builds the canonical headers (after the caller-supplied ones, the Host,
 * date, content hash and token headers the request lacks) and the list of
 * headers to add. */
static int build_headers(const struct sigv4_request *req, const struct sigv4_credentials *cred,
                         const struct sigv4_params *params, struct strbuf *canon, struct strbuf *signed_list,
                         char ret_hash[65], struct sigv4_result *res, char **reterr_msg)
{
        /* The request's headers plus up to 4 added ones. */
        struct hdr *h = xcalloc(req->n_headers + 4, sizeof *h);
        size_t n = 0;
        int r = 0;
        for (size_t i = 0; i < req->n_headers && r == 0; i++) {
                const char *name = req->headers[i].name, *value = req->headers[i].value;
                size_t nlen = name ? strlen(name) : 0;
                if (nlen == 0 || nlen > SIGV4_MAX_NAME_LEN) {
                        r = errmsg_set(reterr_msg, -EINVAL, "header %zu: the name must be 1 to %d characters", i + 1,
                                       SIGV4_MAX_NAME_LEN);
                        break;
                }
                for (size_t k = 0; k < nlen && r == 0; k++)
                        if (!is_tchar((unsigned char)name[k]))
                                r = errmsg_set(reterr_msg, -EINVAL,
                                               "header %zu: the name holds a character not allowed in a token", i + 1);
                if (r < 0)
                        break;
                if (!value) {
                        r = errmsg_set(reterr_msg, -EINVAL, "header '%s' has no value", name);
                        break;
                }
                char *v = NULL;
                r = canonical_value(name, value, &v, reterr_msg);
                if (r < 0)
                        break;
                char *lower = xstrdup(name);
                for (char *c = lower; *c; c++)
                        if (*c >= 'A' && *c <= 'Z')
                                *c = (char)(*c - 'A' + 'a');
                h[n] = (struct hdr){ .name = lower, .value = v, .order = n };
                n++;
        }
        const char *added_names[5];
        char *added_values[5];
        size_t n_added = 0;
        _cleanup_free_ char *host = NULL, *date = NULL, *sha = NULL, *token = NULL;
        if (r == 0) {
                host = joined_value(h, n, "host");
                date = joined_value(h, n, "x-amz-date");
                sha = joined_value(h, n, "x-amz-content-sha256");
                token = joined_value(h, n, "x-amz-security-token");
                if (!host && !(req->host && *req->host))
                        r = errmsg_set(reterr_msg, -EINVAL, "no Host header and no host given");
                else if (date && strcmp(date, params->amz_date))
                        r = errmsg_set(reterr_msg, -EINVAL,
                                       "the request's X-Amz-Date '%s' differs from the signing time '%s'", date,
                                       params->amz_date);
                else if (token && cred->session_token && strcmp(token, cred->session_token))
                        r = errmsg_set(reterr_msg, -EINVAL,
                                       "the request's X-Amz-Security-Token differs from the session token");
        }
        if (r == 0)
                r = payload_hash(req, params->flags, sha, ret_hash, reterr_msg);
        if (r == 0) {
                if (!host) {
                        add_hdr(h, &n, "host", req->host);
                        added_names[n_added] = "Host";
                        added_values[n_added++] = xstrdup(req->host);
                }
                if (!date) {
                        add_hdr(h, &n, "x-amz-date", params->amz_date);
                        added_names[n_added] = "X-Amz-Date";
                        added_values[n_added++] = xstrdup(params->amz_date);
                }
                if (!sha && (params->flags & (SIGV4_S3 | SIGV4_CONTENT_SHA256))) {
                        add_hdr(h, &n, "x-amz-content-sha256", ret_hash);
                        added_names[n_added] = "X-Amz-Content-Sha256";
                        added_values[n_added++] = xstrdup(ret_hash);
                }
                if (cred->session_token && (params->flags & SIGV4_TOKEN_AFTER)) {
                        /* Sent but not signed, whether the request has it or not. */
                        for (size_t i = 0; i < n; i++)
                                if (!strcmp(h[i].name, "x-amz-security-token"))
                                        h[i].unsigned_ = true;
                }
                if (cred->session_token && !token) {
                        if (!(params->flags & SIGV4_TOKEN_AFTER))
                                add_hdr(h, &n, "x-amz-security-token", cred->session_token);
                        added_names[n_added] = "X-Amz-Security-Token";
                        added_values[n_added++] = xstrdup(cred->session_token);
                }
                qsort(h, n, sizeof *h, hdr_cmp);
                const char *prev = NULL;
                for (size_t i = 0; i < n; i++) {
                        if (h[i].unsigned_)
                                continue;
                        if (prev && !strcmp(prev, h[i].name)) {
                                sb_putc(canon, ',');
                        } else {
                                if (prev) {
                                        sb_putc(canon, '\n');
                                        sb_putc(signed_list, ';');
                                }
                                sb_printf(canon, "%s:", h[i].name);
                                sb_puts(signed_list, h[i].name);
                        }
                        sb_puts(canon, h[i].value);
                        prev = h[i].name;
                }
                sb_putc(canon, '\n');
                for (size_t i = 0; i < n_added; i++)
                        res->added[i] = (struct sigv4_added_header){ .name = added_names[i], .value = added_values[i] };
                res->n_added = n_added;
        }
        hdrs_free(h, n);
        return r;
}

int sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *cred,
               const struct sigv4_params *params, struct sigv4_result *ret, char **reterr_msg)
{
        int r = check_sign_inputs(req, cred, params, reterr_msg);
        if (r < 0)
                return r;
        _cleanup_free_ char *uri = NULL, *query = NULL;
        r = sigv4_canonical_uri(req->path, params->flags & SIGV4_S3, &uri, reterr_msg);
        if (r < 0)
                return r;
        r = sigv4_canonical_query(req->query, &query, reterr_msg);
        if (r < 0)
                return r;

        struct sigv4_result res = { 0 };
        struct strbuf canon = STRBUF_INIT, signed_list = STRBUF_INIT;
        char phash[65];
        r = build_headers(req, cred, params, &canon, &signed_list, phash, &res, reterr_msg);
        if (r < 0) {
                sb_free(&canon);
                sb_free(&signed_list);
                return r;
        }
        res.signed_headers = sb_take(&signed_list);
        char *headers = sb_take(&canon);
        res.canonical_request = xasprintf("%s\n%s\n%s\n%s\n%s\n%s", req->method, uri, query, headers,
                                          res.signed_headers, phash);
        free(headers);

        unsigned char d[HASH_MAX_LEN];
        size_t dlen;
        _cleanup_free_ char *why = NULL;
        r = hash_buffer(HASH_SHA256, res.canonical_request, strlen(res.canonical_request), d, &dlen, &why);
        if (r < 0) {
                sigv4_result_done(&res);
                return fail_crypto(reterr_msg, r, why);
        }
        char creq_hex[2 * HASH_MAX_LEN + 1];
        hash_hex(d, dlen, creq_hex);
        char date[9];
        memcpy(date, params->amz_date, 8);
        date[8] = 0;
        _cleanup_free_ char *scope = xasprintf("%s/%s/%s/aws4_request", date, params->region, params->service);
        res.string_to_sign = xasprintf(ALGORITHM "\n%s\n%s\n%s", params->amz_date, scope, creq_hex);

        unsigned char key[32], sig[HMAC_SHA256_LEN];
        r = signing_key(cred->secret_key, date, params->region, params->service, key, &why);
        if (r == 0)
                r = hmac_sha256(key, sizeof key, res.string_to_sign, strlen(res.string_to_sign), sig, &why);
        explicit_bzero(key, sizeof key);
        if (r < 0) {
                sigv4_result_done(&res);
                return fail_crypto(reterr_msg, r, why);
        }
        hash_hex(sig, sizeof sig, res.signature);
        res.authorization = xasprintf(ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s", cred->access_key,
                                      scope, res.signed_headers, res.signature);
        res.added[res.n_added++] =
                (struct sigv4_added_header){ .name = "Authorization", .value = xstrdup(res.authorization) };
        *ret = res;
        return 0;
}

/* ---- raw HTTP request text --------------------------------------------- */

void sigv4_parsed_request_done(struct sigv4_parsed_request *p)
{
        if (!p)
                return;
        free(p->headers);
        free(p->buf);
        memset(p, 0, sizeof *p);
}

struct span {
        size_t name, colon, value, end;
};

/* Parses the request line in buf[0..e) into method and target. */
static int parse_request_line(char *buf, size_t e, struct sigv4_request *req, char **reterr_msg)
{
        char *sp1 = memchr(buf, ' ', e);
        if (!sp1 || sp1 == buf)
                return errmsg_set(reterr_msg, -EINVAL, "line 1: expected 'METHOD /path HTTP/1.1'");
        size_t m = (size_t)(sp1 - buf);
        if (m > MAX_METHOD_LEN)
                return errmsg_set(reterr_msg, -EINVAL, "line 1: the method is longer than %d characters",
                                  MAX_METHOD_LEN);
        for (size_t i = 0; i < m; i++)
                if (!is_tchar((unsigned char)buf[i]))
                        return errmsg_set(reterr_msg, -EINVAL,
                                          "line 1: the method holds a character not allowed in a token");
        size_t t0 = m + 1, t1 = e;
        /* The version is the last word when it starts with HTTP/; the target
         * may hold spaces (the suite's get-space). */
        for (size_t i = e; i > t0; i--)
                if (buf[i - 1] == ' ') {
                        if (e - i >= 5 && !memcmp(buf + i, "HTTP/", 5)) {
                                const char *v = buf + i + 5;
                                bool ok = (e - i == 6 && v[0] >= '0' && v[0] <= '9') ||
                                          (e - i == 8 && v[0] >= '0' && v[0] <= '9' && v[1] == '.' && v[2] >= '0' &&
                                           v[2] <= '9');
                                if (!ok)
                                        return errmsg_set(reterr_msg, -EINVAL, "line 1: malformed HTTP version");
                                t1 = i - 1;
                        }
                        break;
                }
        if (t1 <= t0 || buf[t0] != '/')
                return errmsg_set(reterr_msg, -EINVAL, "line 1: the request target must start with '/'");
        if (t1 - t0 > SIGV4_MAX_PATH_LEN + SIGV4_MAX_QUERY_LEN)
                return errmsg_set(reterr_msg, -EINVAL, "line 1: the request target is too long");
        buf[m] = 0;
        buf[t1] = 0;
        char *q = memchr(buf + t0, '?', t1 - t0);
        if (q)
                *q = 0;
        req->method = buf;
        req->path = buf + t0;
        req->query = q ? q + 1 : "";
        return 0;
}

int sigv4_parse_request(const char *text, size_t len, struct sigv4_parsed_request *ret, char **reterr_msg)
{
        if (!text || !ret)
                return errmsg_set(reterr_msg, -EINVAL, "no request text");
        if (len > SIGV4_MAX_REQUEST_LEN)
                return errmsg_set(reterr_msg, -EINVAL, "the request is longer than %d bytes", SIGV4_MAX_REQUEST_LEN);
        if (len == 0)
                return errmsg_set(reterr_msg, -EINVAL, "the request is empty");
        _cleanup_free_ char *buf = xmalloc(len + 1);
        memcpy(buf, text, len);
        buf[len] = 0;
        struct span spans[SIGV4_MAX_HEADERS];
        size_t n = 0, pos = 0, line = 0, request_line_end = 0;
        bool have_body = false;
        while (pos < len || line == 0) {
                const char *nl = memchr(buf + pos, '\n', len - pos);
                size_t next = nl ? (size_t)(nl - buf) + 1 : len;
                size_t e = nl ? (size_t)(nl - buf) : len;
                if (e > pos && buf[e - 1] == '\r')
                        e--;
                line++;
                for (size_t i = pos; i < e; i++) {
                        unsigned char c = (unsigned char)buf[i];
                        if ((c < 0x20 && c != '\t') || c == 0x7f)
                                return errmsg_set(reterr_msg, -EINVAL, "line %zu: a control character (byte 0x%02x)",
                                                  line, c);
                }
                if (line == 1) {
                        if (e == pos)
                                return errmsg_set(reterr_msg, -EINVAL, "line 1: the request line is empty");
                        request_line_end = e;
                } else if (e == pos) {
                        pos = next;
                        have_body = true;
                        break;
                } else if (buf[pos] == ' ' || buf[pos] == '\t') {
                        if (n == 0)
                                return errmsg_set(reterr_msg, -EINVAL,
                                                  "line %zu: a continuation line before any header", line);
                        spans[n - 1].end = e;
                        if (e - spans[n - 1].value > SIGV4_MAX_VALUE_LEN)
                                return errmsg_set(reterr_msg, -EINVAL,
                                                  "line %zu: the header value is longer than %d bytes", line,
                                                  SIGV4_MAX_VALUE_LEN);
                } else {
                        const char *colon = memchr(buf + pos, ':', e - pos);
                        if (!colon)
                                return errmsg_set(reterr_msg, -EINVAL, "line %zu: a header without a colon", line);
                        if (n >= SIGV4_MAX_HEADERS)
                                return errmsg_set(reterr_msg, -EINVAL, "line %zu: more than %d headers", line,
                                                  SIGV4_MAX_HEADERS);
                        size_t c = (size_t)(colon - buf);
                        if (c == pos || c - pos > SIGV4_MAX_NAME_LEN)
                                return errmsg_set(reterr_msg, -EINVAL,
                                                  "line %zu: the header name must be 1 to %d characters", line,
                                                  SIGV4_MAX_NAME_LEN);
                        for (size_t i = pos; i < c; i++)
                                if (!is_tchar((unsigned char)buf[i]))
                                        return errmsg_set(reterr_msg, -EINVAL,
                                                          "line %zu: the header name holds a character not "
                                                          "allowed in a token (spaces before the colon included)",
                                                          line);
                        if (e - (c + 1) > SIGV4_MAX_VALUE_LEN)
                                return errmsg_set(reterr_msg, -EINVAL,
                                                  "line %zu: the header value is longer than %d bytes", line,
                                                  SIGV4_MAX_VALUE_LEN);
                        spans[n++] = (struct span){ .name = pos, .colon = c, .value = c + 1, .end = e };
                }
                pos = next;
        }
        struct sigv4_parsed_request p = { 0 };
        /* NUL bytes inside the head were refused above as control characters. */
        int r = parse_request_line(buf, request_line_end, &p.req, reterr_msg);
        if (r < 0)
                return r;
        p.headers = xcalloc(n ? n : 1, sizeof *p.headers);
        for (size_t i = 0; i < n; i++) {
                buf[spans[i].colon] = 0;
                buf[spans[i].end] = 0;
                p.headers[i] = (struct sigv4_header){ .name = buf + spans[i].name, .value = buf + spans[i].value };
        }
        p.req.headers = p.headers;
        p.req.n_headers = n;
        p.req.payload = have_body ? buf + pos : buf + len;
        p.req.payload_len = have_body ? len - pos : 0;
        p.buf = TAKE_PTR(buf);
        *ret = p;
        return 0;
}
