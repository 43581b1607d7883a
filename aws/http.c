/* http.c: owns the AWS layer's HTTP transport: building URLs from
 * endpoints, one libcurl easy handle per client (through common/curl_dl.h,
 * never linked), signing every attempt with aws/sigv4, retrying with
 * jittered exponential backoff, clock-skew correction, and turning error
 * bodies (S3 XML, AWS JSON) into a code and a message.  The rules are in
 * http.h. */
#define CURL_DISABLE_DEPRECATION 1 /* CURLOPT_PROTOCOLS, for libcurl < 7.85 */

#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "credentials.h"
#include "curl_dl.h"
#include "hash.h"
#include "sigv4.h"
#include "strbuf.h"
#include "tunables.h"

/* Headers a caller may give (the signer adds up to five more). */
#define MAX_REQUEST_HEADERS 48
#define MAX_CODE_LEN 128
#define MAX_MESSAGE_LEN 1024
/* A server Date this far from the signing time makes a skew error a
 * clock problem rather than a bad signature. */
#define SKEW_MIN_S 60
#define HASH_CHUNK (256 * 1024)

struct aws_http {
        const struct curl_api *api;
        CURL *curl;
        int max_attempts;
        long backoff_ms;
        long backoff_cap_ms;
        long connect_timeout_ms;
        long low_speed_time_s;
        long low_speed_limit;
        long clock_offset; /* seconds: server minus local */
        char *ca_bundle;   /* AWS_CA_BUNDLE, or NULL for the system's */
};

/* The parts of an endpoint URL. */
struct endpoint {
        char *scheme;    /* "http" or "https" */
        char *authority; /* "host[:port]" */
        char *base;      /* "" or "/prefix", no trailing '/' */
};

/* State of one attempt, shared with libcurl's callbacks. */
struct xfer {
        /* request body */
        const char *mem;
        bool from_fd;
        int in_fd;
        off_t in_off;
        size_t in_len, in_pos;
        int read_err;
        /* response */
        long status;
        struct aws_http_header hdrs[AWS_HTTP_MAX_HEADERS];
        size_t n_hdrs, hdr_bytes;
        struct strbuf body;
        size_t body_max;
        bool too_big;
        bool to_fd;
        int out_fd;
        bool out_seekable;
        off_t out_start;
        uint64_t streamed;
        int write_err;
};

static const char *const throttle_codes[] = {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
        "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException", NULL,
};
static const char *const transient_codes[] = {
        "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "ServiceUnavailable",
        "IDPCommunicationError", NULL,
};
static const char *const skew_codes[] = {
        "RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture", "InvalidSignatureException",
        "SignatureDoesNotMatch", "AuthFailure", NULL,
};
static const char *const expired_token_codes[] = {
        "ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired", NULL,
};

int64_t aws_now_ms(void)
{
        return monotonic_ms();
}

static int fail(char **reterr_msg, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char **reterr_msg, int r, const char *fmt, ...)
{
        if (reterr_msg) {
                struct strbuf b = STRBUF_INIT;
                va_list ap;

                va_start(ap, fmt);
                sb_vprintf(&b, fmt, ap);
                va_end(ap);
                *reterr_msg = sb_take(&b);
        }
        return r;
}

static bool code_in(const char *code, const char *const *list)
{
        if (!code)
                return false;
        for (; *list; list++)
                if (!strcmp(code, *list))
                        return true;
        return false;
}

/* ---- time ----------------------------------------------------------------- */

static int digits(const char *s, int n, int *ret)
{
        int v = 0;

        for (int i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return 0;
}

static int make_time(int year, int mon, int day, int hour, int min, int sec, time_t *ret)
{
        if (year < 1970 || year > 9999 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 ||
            sec > 60)
                return -EINVAL;
        struct tm tm = {
                .tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = day,
                .tm_hour = hour, .tm_min = min, .tm_sec = sec,
        };
        time_t t = timegm(&tm);
        if (t == (time_t)-1)
                return -EINVAL;
        *ret = t;
        return 0;
}

int aws_time_parse(const char *s, time_t *ret)
{
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        int year, mon = 0, day, hour, min, sec;

        if (!s)
                return -EINVAL;
        while (*s == ' ')
                s++;
        /* ISO 8601: 2026-01-02T03:04:05[.fff](Z|+00:00) */
        if (strlen(s) >= 19 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == 't') && s[13] == ':' &&
            s[16] == ':') {
                if (digits(s, 4, &year) < 0 || digits(s + 5, 2, &mon) < 0 || digits(s + 8, 2, &day) < 0 ||
                    digits(s + 11, 2, &hour) < 0 || digits(s + 14, 2, &min) < 0 || digits(s + 17, 2, &sec) < 0)
                        return -EINVAL;
                const char *p = s + 19;
                if (*p == '.')
                        for (p++; *p >= '0' && *p <= '9'; p++)
                                ;
                if (strcmp(p, "Z") && strcmp(p, "z") && strcmp(p, "+00:00") && strcmp(p, "-00:00") && *p)
                        return -EINVAL;
                return make_time(year, mon, day, hour, min, sec, ret);
        }
        /* IMF-fixdate: Fri, 02 Jan 2026 03:04:05 GMT */
        const char *comma = strchr(s, ',');
        if (!comma)
                return -EINVAL;
        const char *p = comma + 1;
        while (*p == ' ')
                p++;
        if (strlen(p) < 20 || p[2] != ' ' || p[6] != ' ' || p[11] != ' ' || p[14] != ':' || p[17] != ':')
                return -EINVAL;
        if (digits(p, 2, &day) < 0 || digits(p + 7, 4, &year) < 0 || digits(p + 12, 2, &hour) < 0 ||
            digits(p + 15, 2, &min) < 0 || digits(p + 18, 2, &sec) < 0)
                return -EINVAL;
        for (int i = 0; i < 12; i++)
                if (!strncmp(p + 3, months + 3 * i, 3))
                        mon = i + 1;
        if (!mon || strcmp(p + 20, " GMT"))
                return -EINVAL;
        return make_time(year, mon, day, hour, min, sec, ret);
}

/* ---- endpoints ------------------------------------------------------------ */

/* aws_endpoint_set_default()'s URL, normalised; NULL for none. */
static char *default_endpoint;

static void endpoint_done(struct endpoint *e)
{
        free(e->scheme);
        free(e->authority);
        free(e->base);
        *e = (struct endpoint){ 0 };
}

static int endpoint_parse(const char *url, struct endpoint *ret, char **reterr_msg)
{
        const char *sep = url ? strstr(url, "://") : NULL;

        if (!url || !*url)
                return fail(reterr_msg, -EINVAL, "empty endpoint URL");
        if (strlen(url) > 2048)
                return fail(reterr_msg, -EINVAL, "the endpoint URL is longer than 2048 bytes");
        for (const char *c = url; *c; c++)
                if ((unsigned char)*c <= ' ' || *c == 0x7f)
                        return fail(reterr_msg, -EINVAL, "the endpoint URL '%s' holds a space or control character",
                                    url);
        if (!sep)
                return fail(reterr_msg, -EINVAL, "the endpoint '%s' is not a URL (it needs http:// or https://)", url);
        size_t slen = (size_t)(sep - url);
        char *scheme;
        if (slen == 4 && !strncasecmp(url, "http", 4))
                scheme = xstrdup("http");
        else if (slen == 5 && !strncasecmp(url, "https", 5))
                scheme = xstrdup("https");
        else
                return fail(reterr_msg, -EINVAL, "the endpoint '%s' must use http or https", url);
        const char *auth = sep + 3;
        size_t alen = strcspn(auth, "/?#");
        const char *rest = auth + alen;
        if (alen == 0 || memchr(auth, '@', alen) || strcspn(rest, "?#") != strlen(rest)) {
                free(scheme);
                return fail(reterr_msg, -EINVAL,
                            "the endpoint '%s' must be scheme://host[:port][/path], without user, query or fragment",
                            url);
        }
        size_t blen = strlen(rest);
        while (blen > 0 && rest[blen - 1] == '/')
                blen--;
        ret->scheme = scheme;
        ret->authority = xstrndup(auth, alen);
        ret->base = xstrndup(rest, blen);
        return 0;
}

static bool name_ok(const char *s, size_t max)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > max)
                return false;
        for (; *s; s++)
                if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.'))
                        return false;
        return true;
}

static bool env_true(const char *name)
{
        const char *v = getenv(name);

        return v && !strcasecmp(v, "true");
}

int aws_endpoint_resolve(const char *service, const char *region, const char *override, char **ret_url,
                         char **reterr_msg)
{
        _cleanup_free_ char *env_name = NULL, *alias = NULL;
        const char *url = NULL, *origin = NULL;
        struct endpoint e = { 0 };
        int r;

        if (!name_ok(service, 64))
                return fail(reterr_msg, -EINVAL, "the service name must be 1 to 64 letters, digits, '-', '_' or '.'");
        env_name = xasprintf("AWS_ENDPOINT_URL_%s", service);
        for (char *c = env_name; *c; c++)
                *c = *c == '-' || *c == '.' ? '_' : (char)toupper((unsigned char)*c);
        if (!strcmp(service, "logs"))
                alias = xstrdup("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS");

        if (override && *override) {
                url = override;
                origin = "the endpoint given";
        } else {
                bool use_env = !env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
                const char *v;

                if (use_env && (v = getenv(env_name)) && *v) {
                        url = v;
                        origin = env_name;
                } else if (use_env && alias && (v = getenv(alias)) && *v) {
                        url = v;
                        origin = alias;
                } else if (default_endpoint) {
                        url = default_endpoint;
                        origin = "the default endpoint";
                } else if (use_env && (v = getenv("AWS_ENDPOINT_URL")) && *v) {
                        url = v;
                        origin = "AWS_ENDPOINT_URL";
                }
        }
        if (url) {
                char *err = NULL;

                r = endpoint_parse(url, &e, &err);
                if (r < 0) {
                        fail(reterr_msg, r, "%s: %s", origin, err);
                        free(err);
                        return r;
                }
                *ret_url = xasprintf("%s://%s%s", e.scheme, e.authority, e.base);
                endpoint_done(&e);
                return 0;
        }
        if (!name_ok(region, 64))
                return fail(reterr_msg, -EINVAL, "no region to build the %s endpoint from", service);
        *ret_url = xasprintf("https://%s.%s.amazonaws.com%s", service, region,
                             !strncmp(region, "cn-", 3) ? ".cn" : "");
        return 0;
}

int aws_endpoint_set_default(const char *url, char **reterr_msg)
{
        struct endpoint e = { 0 };
        int r;

        if (!url || !*url) {
                free(default_endpoint);
                default_endpoint = NULL;
                return 0;
        }
        r = endpoint_parse(url, &e, reterr_msg);
        if (r < 0)
                return r;
        free(default_endpoint);
        default_endpoint = xasprintf("%s://%s%s", e.scheme, e.authority, e.base);
        endpoint_done(&e);
        return 0;
}

/* ---- the client ----------------------------------------------------------- */

struct aws_http *aws_http_new(char **reterr_msg)
{
        const char *why = NULL;
        const struct curl_api *api = curl_api_get(&why);

        if (!api) {
                fail(reterr_msg, -ENOSYS, "%s", why ? why : "cannot load libcurl");
                return NULL;
        }
        CURL *c = api->easy_init();
        if (!c) {
                fail(reterr_msg, -ENOMEM, "libcurl cannot create a handle");
                return NULL;
        }
        struct aws_http *h = xcalloc(1, sizeof *h);
        h->api = api;
        h->curl = c;
        h->max_attempts = (int)env_long("OPENTOE_AWS_MAX_ATTEMPTS", 5, 1, 20);
        h->backoff_ms = env_long("OPENTOE_AWS_BACKOFF_MS", 100, 0, 60000);
        h->backoff_cap_ms = env_long("OPENTOE_AWS_BACKOFF_CAP_MS", 20000, 0, 600000);
        h->connect_timeout_ms = env_long("OPENTOE_AWS_CONNECT_TIMEOUT_MS", 10000, 1, 600000);
        h->low_speed_time_s = env_long("OPENTOE_AWS_LOW_SPEED_TIME", 30, 1, 3600);
        h->low_speed_limit = env_long("OPENTOE_AWS_LOW_SPEED_LIMIT", 1, 1, LONG_MAX);
        const char *ca = getenv("AWS_CA_BUNDLE");
        if (ca && *ca)
                h->ca_bundle = xstrdup(ca);
        return h;
}

struct aws_http *aws_http_free(struct aws_http *h)
{
        if (!h)
                return NULL;
        if (h->curl)
                h->api->easy_cleanup(h->curl);
        free(h->ca_bundle);
        free(h);
        return NULL;
}

long aws_http_clock_offset(const struct aws_http *h)
{
        return h ? h->clock_offset : 0;
}

/* ---- libcurl callbacks ---------------------------------------------------- */

static void hdrs_reset(struct xfer *x)
{
        for (size_t i = 0; i < x->n_hdrs; i++) {
                free((char *)x->hdrs[i].name);
                free((char *)x->hdrs[i].value);
        }
        x->n_hdrs = 0;
        x->hdr_bytes = 0;
}

static void xfer_done(struct xfer *x)
{
        hdrs_reset(x);
        sb_free(&x->body);
}

static size_t header_cb(char *buf, size_t size, size_t n, void *userdata)
{
        struct xfer *x = userdata;
        size_t len = size * n;

        if (len >= 5 && !memcmp(buf, "HTTP/", 5)) {
                /* A new response (after a 100 or a redirect): start over. */
                _cleanup_free_ char *line = xstrndup(buf, len);
                char *sp = strchr(line, ' ');

                hdrs_reset(x);
                x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
                return len;
        }
        const char *colon = memchr(buf, ':', len);
        if (!colon)
                return len; /* the empty line ending the headers */
        size_t nlen = (size_t)(colon - buf);
        const char *v = colon + 1, *end = buf + len;
        while (v < end && (*v == ' ' || *v == '\t'))
                v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
                end--;
        if (nlen == 0 || x->n_hdrs >= AWS_HTTP_MAX_HEADERS || x->hdr_bytes + len > AWS_HTTP_MAX_HEADER_BYTES)
                return len; /* dropped: memory stays bounded */
        x->hdrs[x->n_hdrs].name = xstrndup(buf, nlen);
        x->hdrs[x->n_hdrs].value = xstrndup(v, (size_t)(end - v));
        x->n_hdrs++;
        x->hdr_bytes += len;
        return len;
}

static bool status_ok(long s)
{
        return s >= 200 && s <= 299;
}

static size_t write_cb(char *buf, size_t size, size_t n, void *userdata)
{
        struct xfer *x = userdata;
        size_t len = size * n;

        if (status_ok(x->status) && x->to_fd) {
                size_t done = 0;

                while (done < len) {
                        ssize_t w = x->out_seekable
                                            ? pwrite(x->out_fd, buf + done, len - done,
                                                     x->out_start + (off_t)(x->streamed + done))
                                            : write(x->out_fd, buf + done, len - done);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0) {
                                x->write_err = w < 0 ? errno : EIO;
                                return 0;
                        }
                        done += (size_t)w;
                }
                x->streamed += len;
                return len;
        }
        size_t cap = status_ok(x->status) ? x->body_max : AWS_HTTP_ERROR_BODY_MAX;
        if (x->body.len + len > cap) {
                if (status_ok(x->status)) {
                        x->too_big = true;
                        return 0;
                }
                sb_append(&x->body, buf, cap - x->body.len);
                return len; /* the rest of an error body is dropped */
        }
        sb_append(&x->body, buf, len);
        return len;
}

static size_t read_cb(char *buf, size_t size, size_t n, void *userdata)
{
        struct xfer *x = userdata;
        size_t want = size * n;

        if (want > x->in_len - x->in_pos)
                want = x->in_len - x->in_pos;
        if (want == 0)
                return 0;
        if (!x->from_fd) {
                memcpy(buf, x->mem + x->in_pos, want);
                x->in_pos += want;
                return want;
        }
        for (;;) {
                ssize_t r = pread(x->in_fd, buf, want, x->in_off + (off_t)x->in_pos);

                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0) {
                        x->read_err = r < 0 ? errno : ENODATA; /* the file is shorter than the range */
                        return CURL_READFUNC_ABORT;
                }
                x->in_pos += (size_t)r;
                return (size_t)r;
        }
}

static int seek_cb(void *userdata, curl_off_t offset, int origin)
{
        struct xfer *x = userdata;

        if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > x->in_len)
                return CURL_SEEKFUNC_CANTSEEK;
        x->in_pos = (size_t)offset;
        return CURL_SEEKFUNC_OK;
}

/* ---- error bodies ----------------------------------------------------------- */

static const char *xfer_header(const struct xfer *x, const char *name)
{
        for (size_t i = 0; i < x->n_hdrs; i++)
                if (!strcasecmp(x->hdrs[i].name, name))
                        return x->hdrs[i].value;
        return NULL;
}

/* A copy of at most max bytes of s with control characters made spaces. */
static char *clean_text(const char *s, size_t len, size_t max)
{
        while (len > 0 && isspace((unsigned char)*s)) {
                s++;
                len--;
        }
        while (len > 0 && isspace((unsigned char)s[len - 1]))
                len--;
        if (len > max)
                len = max;
        char *r = xstrndup(s, len);
        for (char *c = r; *c; c++)
                if ((unsigned char)*c < ' ' || *c == 0x7f)
                        *c = ' ';
        return r;
}

/* The text of the first <tag>...</tag>, entities decoded. */
static char *xml_tag(const char *body, const char *tag)
{
        _cleanup_free_ char *open = xasprintf("<%s>", tag), *close = xasprintf("</%s>", tag);
        const char *a = strstr(body, open), *b;

        if (!a)
                return NULL;
        a += strlen(open);
        b = strstr(a, close);
        if (!b)
                return NULL;
        struct strbuf out = STRBUF_INIT;
        for (const char *p = a; p < b;) {
                static const struct { const char *ent; char c; } ents[] = {
                        { "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' }, { "&quot;", '"' }, { "&apos;", '\'' },
                };
                bool done = false;

                if (*p == '&') {
                        for (size_t i = 0; i < ELEMENTSOF(ents); i++) {
                                size_t n = strlen(ents[i].ent);
                                if ((size_t)(b - p) >= n && !strncmp(p, ents[i].ent, n)) {
                                        sb_putc(&out, ents[i].c);
                                        p += n;
                                        done = true;
                                        break;
                                }
                        }
                        if (!done && p[1] == '#') {
                                char *end;
                                long v = p[2] == 'x' ? strtol(p + 3, &end, 16) : strtol(p + 2, &end, 10);
                                if (end < b && *end == ';' && v > 0 && v < 128) {
                                        sb_putc(&out, (char)v);
                                        p = end + 1;
                                        done = true;
                                }
                        }
                }
                if (!done)
                        sb_putc(&out, *p++);
        }
        char *s = sb_take(&out);
        char *r = clean_text(s, strlen(s), MAX_MESSAGE_LEN);
        free(s);
        return r;
}

/* "aws.protocoltests#FooError:http://internal..." -> "FooError" */
static char *short_code(const char *s)
{
        const char *hash = strrchr(s, '#');

        if (hash)
                s = hash + 1;
        return clean_text(s, strcspn(s, ":"), MAX_CODE_LEN);
}

static void parse_error(const struct xfer *x, char **ret_code, char **ret_msg, time_t *ret_server_time)
{
        const char *body = x->body.s ? x->body.s : "";
        const char *p = body, *etype = xfer_header(x, "x-amzn-ErrorType");
        char *code = NULL, *msg = NULL;

        while (isspace((unsigned char)*p))
                p++;
        if (*p == '{') {
                json_t *j = json_loadb(body, x->body.len, 0, NULL);
                const char *v;

                if (json_is_object(j)) {
                        v = json_string_value(json_object_get(j, "__type"));
                        if (!v)
                                v = json_string_value(json_object_get(j, "code"));
                        if (!v)
                                v = json_string_value(json_object_get(j, "Code"));
                        if (v && *v)
                                code = short_code(v);
                        v = json_string_value(json_object_get(j, "message"));
                        if (!v)
                                v = json_string_value(json_object_get(j, "Message"));
                        if (!v)
                                v = json_string_value(json_object_get(j, "errorMessage"));
                        if (v)
                                msg = clean_text(v, strlen(v), MAX_MESSAGE_LEN);
                }
                json_decref(j);
        } else if (*p == '<') {
                code = xml_tag(body, "Code");
                msg = xml_tag(body, "Message");
                _cleanup_free_ char *st = xml_tag(body, "ServerTime");
                if (st)
                        (void)aws_time_parse(st, ret_server_time);
        }
        if (!code && etype && *etype)
                code = short_code(etype);
        if (code && !*code) {
                free(code);
                code = NULL;
        }
        *ret_code = code;
        *ret_msg = msg;
}

/* ---- one request ---------------------------------------------------------- */

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
                return fail(reterr_msg, r, "cannot hash the body: %s", why);
        _cleanup_free_ char *buf = xmalloc(HASH_CHUNK);
        while (done < len) {
                size_t want = len - done < HASH_CHUNK ? len - done : HASH_CHUNK;
                ssize_t n = pread(fd, buf, want, off + (off_t)done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = n < 0 ? -errno : -ENODATA;
                        hash_abort(hc);
                        return fail(reterr_msg, r, "cannot read the body: %s",
                                    n < 0 ? strerror(-r) : "the file is shorter than the range to send");
                }
                r = hash_update(hc, buf, (size_t)n);
                if (r < 0) {
                        hash_abort(hc);
                        return fail(reterr_msg, r, "cannot hash the body");
                }
                done += (size_t)n;
        }
        r = hash_end(hc, d, &dlen);
        if (r < 0)
                return fail(reterr_msg, r, "cannot hash the body");
        hash_hex(d, dlen, hex);
        return 0;
}

static int curl_errno(CURLcode c)
{
        switch (c) {
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        default:
                return -EIO;
        }
}

static bool curl_transient(CURLcode c)
{
        switch (c) {
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_PARTIAL_FILE:
        case CURLE_GOT_NOTHING:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_AGAIN:
                return true;
        default:
                return false;
        }
}

static bool status_retryable(long s, const char *code)
{
        if (s == 429 || (s >= 500 && s <= 599 && s != 501 && s != 505))
                return true;
        return code_in(code, throttle_codes) || code_in(code, transient_codes);
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

static int set_options(struct aws_http *h, const struct aws_http_request *req, const struct prepared *p,
                       struct xfer *x, struct curl_slist *hl, long timeout_ms, char *errbuf)
{
        const struct curl_api *a = h->api;
        CURL *c = h->curl;
        CURLcode rc;

        a->easy_reset(c);
        rc = a->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        if (rc == CURLE_UNKNOWN_OPTION)
                rc = a->easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
        if (rc != CURLE_OK)
                return -EPROTONOSUPPORT;
        rc = a->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        if (rc == CURLE_UNKNOWN_OPTION)
                rc = a->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
        if (rc != CURLE_OK)
                return -EPROTONOSUPPORT;
        if (a->easy_setopt(c, CURLOPT_URL, p->url) != CURLE_OK)
                return -EINVAL;
        a->easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        a->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        a->easy_setopt(c, CURLOPT_USERAGENT, "opentoe/" PACKAGE_VERSION);
        a->easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        a->easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
        if (h->ca_bundle)
                a->easy_setopt(c, CURLOPT_CAINFO, h->ca_bundle);
        a->easy_setopt(c, CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
        a->easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
        a->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                       req->connect_timeout_ms > 0 ? req->connect_timeout_ms : h->connect_timeout_ms);
        a->easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->low_speed_time_s);
        a->easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, h->low_speed_limit);
        a->easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
        a->easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
        if (req->no_proxy)
                a->easy_setopt(c, CURLOPT_PROXY, "");
        a->easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
        a->easy_setopt(c, CURLOPT_HEADERDATA, x);
        a->easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
        a->easy_setopt(c, CURLOPT_WRITEDATA, x);
        a->easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
        a->easy_setopt(c, CURLOPT_READDATA, x);
        a->easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_cb);
        a->easy_setopt(c, CURLOPT_SEEKDATA, x);

        const char *m = req->method;
        if (!strcmp(m, "GET")) {
                a->easy_setopt(c, CURLOPT_HTTPGET, 1L);
        } else if (!strcmp(m, "HEAD")) {
                a->easy_setopt(c, CURLOPT_NOBODY, 1L);
        } else if (!strcmp(m, "PUT")) {
                a->easy_setopt(c, CURLOPT_UPLOAD, 1L);
                a->easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->in_len);
        } else if (!strcmp(m, "POST")) {
                a->easy_setopt(c, CURLOPT_POST, 1L);
                a->easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->in_len);
        } else if (x->in_len > 0) {
                a->easy_setopt(c, CURLOPT_UPLOAD, 1L);
                a->easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->in_len);
                a->easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
        } else {
                a->easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
        }
        a->easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        return 0;
}

static void response_fill(struct aws_http_response *ret, struct xfer *x, int attempts, char *code, char *msg)
{
        bool streamed = x->to_fd && status_ok(x->status);
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
                ret->request_id = clean_text(rid, strlen(rid), 256);
}

static int prepare(const struct aws_http_request *req, struct aws_http *h, struct prepared *p, char **reterr_msg)
{
        int r;

        if (!req->method || !token_ok(req->method, 16))
                return fail(reterr_msg, -EINVAL, "the method must be an HTTP token");
        if (req->path && req->path[0] != '/')
                return fail(reterr_msg, -EINVAL, "the path must start with '/'");
        if ((req->path && !header_value_ok(req->path)) || (req->path && strpbrk(req->path, " ?#")) ||
            (req->query && (!header_value_ok(req->query) || strpbrk(req->query, " #"))))
                return fail(reterr_msg, -EINVAL, "the path or query holds a space, '?', '#' or a line break");
        if (req->n_headers > MAX_REQUEST_HEADERS || (req->n_headers && !req->headers))
                return fail(reterr_msg, -EINVAL, "at most %d request headers", MAX_REQUEST_HEADERS);
        for (size_t i = 0; i < req->n_headers; i++) {
                if (!token_ok(req->headers[i].name, 128) || !req->headers[i].value ||
                    !header_value_ok(req->headers[i].value))
                        return fail(reterr_msg, -EINVAL, "request header %zu is malformed", i + 1);
                if (!strcasecmp(req->headers[i].name, "host"))
                        return fail(reterr_msg, -EINVAL, "the Host header comes from the endpoint");
        }
        if (req->body_len > 0 && !req->body && !req->body_from_fd)
                return fail(reterr_msg, -EINVAL, "a body length without a body");
        if (req->body_from_fd && (req->body_fd < 0 || req->body_offset < 0))
                return fail(reterr_msg, -EINVAL, "a bad body file descriptor or offset");
        if (req->body_to_fd && req->out_fd < 0)
                return fail(reterr_msg, -EINVAL, "a bad output file descriptor");
        p->signed_ = req->service != NULL;
        if (p->signed_ && (!req->creds || !req->region))
                return fail(reterr_msg, -EINVAL, "a signed request needs credentials and a region");

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
                                return fail(reterr_msg, r, "cannot hash the body: %s", why);
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
                         const struct aws_credentials *cred, struct curl_slist **ret_list, time_t *ret_signed_at,
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
                struct sigv4_credentials sc = {
                        .access_key = cred->access_key_id,
                        .secret_key = cred->secret_access_key,
                        .session_token = cred->session_token,
                };
                struct sigv4_params sp = {
                        .region = req->region, .service = req->service, .amz_date = date, .flags = req->sigv4_flags,
                };
                char *err = NULL;
                r = sigv4_sign(&sr, &sc, &sp, &res, &err);
                if (r < 0) {
                        fail(reterr_msg, r, "cannot sign the request: %s", err ? err : strerror(-r));
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
                        return fail(reterr_msg, -ENOMEM, "out of memory");
                }
                l = nl;
        }
        sigv4_result_done(&res);
        struct curl_slist *nl = a->slist_append(l, "Expect:");
        if (nl && !have_ct && (req->body_len > 0 || !strcmp(req->method, "POST")))
                nl = a->slist_append(nl, "Content-Type:");
        if (!nl) {
                a->slist_free_all(l);
                return fail(reterr_msg, -ENOMEM, "out of memory");
        }
        *ret_list = nl;
        return 0;
}

int aws_http_request(struct aws_http *h, const struct aws_http_request *req, struct aws_http_response *ret,
                     char **reterr_msg)
{
        _cleanup_(prepared_done) struct prepared p = { 0 };
        _cleanup_(xfer_done) struct xfer x = { 0 };
        _cleanup_free_ char *last = NULL; /* why the last attempt failed */
        char errbuf[CURL_ERROR_SIZE];
        int64_t deadline = req ? req->deadline_ms : -1;
        bool token_retried = false;
        int last_errno = -EIO, r;
        off_t out_start = 0;
        bool out_seekable = false, out_regular = false;

        if (!h || !req || !ret)
                return fail(reterr_msg, -EINVAL, "no client, request or response");
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
                const struct aws_credentials *cred = NULL;
                struct curl_slist *hl = NULL;
                time_t signed_at = 0, server_time = 0;
                long timeout_ms = req->attempt_timeout_ms > 0 ? req->attempt_timeout_ms : 0;
                bool retry_now = false;

                if (deadline >= 0) {
                        int64_t left = deadline - aws_now_ms();

                        if (left <= 0) {
                                if (last)
                                        return fail(reterr_msg, -ETIMEDOUT, "%s %s: the deadline passed after %d "
                                                    "attempt%s; the last failed: %s", req->method, p.url,
                                                    attempt - 1, attempt == 2 ? "" : "s", last);
                                return fail(reterr_msg, -ETIMEDOUT, "%s %s: the deadline passed before the request "
                                            "was sent", req->method, p.url);
                        }
                        if (timeout_ms == 0 || left < timeout_ms)
                                timeout_ms = left > LONG_MAX ? LONG_MAX : (long)left;
                }
                if (p.signed_) {
                        char *err = NULL;

                        r = aws_cred_provider_get(req->creds, deadline, &cred, &err);
                        if (r < 0) {
                                fail(reterr_msg, r, "%s", err ? err : strerror(-r));
                                free(err);
                                return r;
                        }
                }
                r = build_headers(h, req, &p, cred, &hl, &signed_at, reterr_msg);
                if (r < 0)
                        return r;

                /* Fresh state for this attempt. */
                if (x.streamed > 0 && out_regular && ftruncate(req->out_fd, out_start) < 0) {
                        r = -errno;
                        h->api->slist_free_all(hl);
                        return fail(reterr_msg, r, "cannot truncate the output file for a retry: %s", strerror(-r));
                }
                hdrs_reset(&x);
                sb_free(&x.body);
                x = (struct xfer){
                        .mem = req->body, .from_fd = req->body_from_fd, .in_fd = req->body_fd,
                        .in_off = req->body_offset, .in_len = req->body_len,
                        .body_max = req->max_body ? req->max_body : AWS_HTTP_DEFAULT_MAX_BODY,
                        .to_fd = req->body_to_fd, .out_fd = req->out_fd, .out_seekable = out_seekable,
                        .out_start = out_start,
                };
                errbuf[0] = '\0';
                r = set_options(h, req, &p, &x, hl, timeout_ms, errbuf);
                if (r < 0) {
                        h->api->slist_free_all(hl);
                        return fail(reterr_msg, r, r == -EPROTONOSUPPORT
                                                           ? "libcurl cannot be limited to http and https; refusing "
                                                             "to send"
                                                           : "libcurl refused the URL %s", p.url);
                }
                CURLcode c = h->api->easy_perform(h->curl);
                h->api->easy_setopt(h->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
                h->api->slist_free_all(hl);

                if (x.write_err)
                        return fail(reterr_msg, -x.write_err, "%s %s: cannot write the response body: %s",
                                    req->method, p.url, strerror(x.write_err));
                if (x.read_err)
                        return fail(reterr_msg, -x.read_err, "%s %s: cannot read the request body: %s", req->method,
                                    p.url, x.read_err == ENODATA ? "the file is shorter than the range to send"
                                                                 : strerror(x.read_err));
                if (x.too_big)
                        return fail(reterr_msg, -EFBIG, "%s %s: the response body is larger than %zu bytes",
                                    req->method, p.url, x.body_max);

                free(last);
                last = NULL;
                if (c != CURLE_OK) {
                        const char *why = errbuf[0] ? errbuf : h->api->easy_strerror(c);
                        size_t wl = strlen(why);

                        while (wl > 0 && (why[wl - 1] == '\n' || why[wl - 1] == '.'))
                                wl--;
                        last = xasprintf("%.*s", (int)wl, why);
                        last_errno = curl_errno(c);
                        if (c == CURLE_OPERATION_TIMEDOUT && deadline >= 0 && aws_now_ms() + 20 >= deadline)
                                return fail(reterr_msg, -ETIMEDOUT, "%s %s: the deadline passed: %s", req->method,
                                            p.url, last);
                        if (!curl_transient(c))
                                return fail(reterr_msg, last_errno, "%s %s: %s", req->method, p.url, last);
                } else if (status_ok(x.status)) {
                        if (x.to_fd && out_seekable)
                                (void)lseek(req->out_fd, out_start + (off_t)x.streamed, SEEK_SET);
                        response_fill(ret, &x, attempt, NULL, NULL);
                        return 0;
                } else {
                        char *code = NULL, *msg = NULL;
                        const char *date = xfer_header(&x, "Date");

                        parse_error(&x, &code, &msg, &server_time);
                        if (date)
                                (void)aws_time_parse(date, &server_time);
                        if (p.signed_ && code_in(code, skew_codes) && server_time &&
                            labs((long)(server_time - signed_at)) >= SKEW_MIN_S) {
                                long off = (long)(server_time - time(NULL));

                                last = xasprintf("HTTP %ld %s: the server's clock is %+lds from ours; re-signing "
                                                 "with that offset", x.status, code, off);
                                h->clock_offset = off;
                                retry_now = true;
                        } else if (p.signed_ && code_in(code, expired_token_codes) && !token_retried) {
                                last = xasprintf("HTTP %ld %s: the credentials expired; fetching new ones",
                                                 x.status, code);
                                aws_cred_provider_invalidate(req->creds);
                                token_retried = true;
                                retry_now = true;
                        } else if (status_retryable(x.status, code) && attempt < p.max_attempts) {
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
                        return fail(reterr_msg, last_errno, "%s %s: gave up after %d attempt%s: %s", req->method,
                                    p.url, attempt, attempt == 1 ? "" : "s", last);
                if (x.to_fd && !out_seekable && x.streamed > 0)
                        return fail(reterr_msg, -EIO, "%s %s: %s (not retried: part of the body was already "
                                    "written to a pipe)", req->method, p.url, last);

                long delay = 0;
                if (!retry_now) {
                        long d = h->backoff_ms;
                        for (int i = 1; i < attempt && d < h->backoff_cap_ms; i++)
                                d *= 2;
                        if (d > h->backoff_cap_ms)
                                d = h->backoff_cap_ms;
                        delay = jitter(d);
                        const char *ra = xfer_header(&x, "Retry-After");
                        if (ra && x.status) {
                                char *end;
                                long s = strtol(ra, &end, 10);
                                if (!*end && s > 0 && s * 1000 > delay)
                                        delay = s * 1000 > h->backoff_cap_ms ? h->backoff_cap_ms : s * 1000;
                        }
                }
                if (deadline >= 0 && aws_now_ms() + delay >= deadline)
                        return fail(reterr_msg, -ETIMEDOUT, "%s %s: attempt %d failed (%s) and the deadline leaves "
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

int aws_http_status_error(const struct aws_http_response *r, char **reterr_msg)
{
        int e;

        if (!r)
                return fail(reterr_msg, -EINVAL, "no response");
        if (status_ok(r->status))
                return 0;
        if (r->status == 404)
                e = -ENOENT;
        else if (r->status == 401 || r->status == 403)
                e = -EACCES;
        else if (r->status == 429 || r->status == 503 || code_in(r->error_code, throttle_codes))
                e = -EBUSY;
        else if (r->status >= 400 && r->status <= 499)
                e = -EINVAL;
        else
                e = -EIO;
        if (!reterr_msg)
                return e;
        struct strbuf b = STRBUF_INIT;
        sb_printf(&b, "HTTP %ld", r->status);
        if (r->error_code)
                sb_printf(&b, " %s", r->error_code);
        if (r->error_message)
                sb_printf(&b, ": %s", r->error_message);
        if (r->request_id)
                sb_printf(&b, " (request id %s)", r->request_id);
        if (r->attempts > 1)
                sb_printf(&b, status_retryable(r->status, r->error_code) ? "; gave up after %d attempts"
                                                                         : "; after %d attempts",
                          r->attempts);
        *reterr_msg = sb_take(&b);
        return e;
}
