/* http_error.c: what an AWS answer that is not a success means: the
 * throttling, transient, clock-skew and expired-token error codes, reading
 * the code and message out of an error body (S3 XML <Code>/<Message>, AWS
 * JSON __type/message), which statuses and libcurl failures are worth
 * another attempt, and aws_http_status_error(). */
#include "http_error.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "awstime.h"
#include "cleanup.h"
#include "errmsg.h"
#include "http.h"
#include "strbuf.h"

#define MAX_CODE_LEN 128
#define MAX_MESSAGE_LEN 1024

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

static bool code_in(const char *code, const char *const *list)
{
        if (!code)
                return false;
        for (; *list; list++)
                if (!strcmp(code, *list))
                        return true;
        return false;
}

bool http_status_ok(long s)
{
        return s >= 200 && s <= 299;
}

char *http_clean_text(const char *s, size_t len, size_t max)
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
        char *r = http_clean_text(s, strlen(s), MAX_MESSAGE_LEN);
        free(s);
        return r;
}

/* "aws.protocoltests#FooError:http://internal..." -> "FooError" */
static char *short_code(const char *s)
{
        const char *hash = strrchr(s, '#');

        if (hash)
                s = hash + 1;
        return http_clean_text(s, strcspn(s, ":"), MAX_CODE_LEN);
}

void http_parse_error(const char *body, size_t len, const char *etype, char **ret_code, char **ret_msg,
                 time_t *ret_server_time)
{
        const char *p;
        char *code = NULL, *msg = NULL;

        if (!body)
                body = "";
        p = body;
        while (isspace((unsigned char)*p))
                p++;
        if (*p == '{') {
                json_t *j = json_loadb(body, len, 0, NULL);
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
                                msg = http_clean_text(v, strlen(v), MAX_MESSAGE_LEN);
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

int http_curl_errno(CURLcode c)
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

bool http_curl_transient(CURLcode c)
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

bool http_status_retryable(long s, const char *code)
{
        if (s == 429 || (s >= 500 && s <= 599 && s != 501 && s != 505))
                return true;
        return code_in(code, throttle_codes) || code_in(code, transient_codes);
}

bool http_code_is_skew(const char *code)
{
        return code_in(code, skew_codes);
}

bool http_code_is_expired_token(const char *code)
{
        return code_in(code, expired_token_codes);
}

int aws_http_status_error(const struct aws_http_response *r, char **reterr_msg)
{
        int e;

        if (!r)
                return errmsg_set(reterr_msg, -EINVAL, "no response");
        if (http_status_ok(r->status))
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
                sb_printf(&b, http_status_retryable(r->status, r->error_code) ? "; gave up after %d attempts"
                                                                         : "; after %d attempts",
                          r->attempts);
        *reterr_msg = sb_take(&b);
        return e;
}

