/* imagebuilder.c: owns opentoe's EC2 Image Builder client: checking
 * component build version ARNs part by part, choosing the GetComponent
 * endpoint (AWSTOE_IMAGEBUILDER_ENDPOINT first), sending GetComponent
 * signed for the ARN's region, turning its answers into messages, reading
 * component.data out of the JSON, and writing the document into a private
 * temporary file for the callers that load documents from paths.
 * Transport, signing and retries are aws/http's; the rules are in
 * imagebuilder.h. */
#include "imagebuilder.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "errmsg.h"
#include "credentials.h"
#include "http.h"
#include "sigv4.h"
#include "strbuf.h"

#define IB_SERVICE "imagebuilder"
#define IB_SHAPE "arn:PARTITION:imagebuilder:REGION:ACCOUNT:component/NAME/X.Y.Z/BUILD"
#define IB_MAX_NAME_LEN 128
#define IB_MAX_NUMBER_LEN 9 /* digits of a version part or a build number */

/* A malformed ARN: the shape, then what is wrong with it. */
static int bad_arn(char **reterr_msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad_arn(char **reterr_msg, const char *fmt, ...)
{
        if (reterr_msg) {
                struct strbuf b = STRBUF_INIT;
                va_list ap;

                sb_puts(&b, "not an Image Builder component build version ARN (" IB_SHAPE "): ");
                va_start(ap, fmt);
                sb_vprintf(&b, fmt, ap);
                va_end(ap);
                *reterr_msg = sb_take(&b);
        }
        return -EINVAL;
}

/* ---- ARNs ------------------------------------------------------------------------ */

bool ib_is_arn(const char *s)
{
        return s && !strncmp(s, "arn:", 4);
}

void ib_arn_done(struct ib_arn *a)
{
        if (!a)
                return;
        for (size_t i = 0; i < IB_ARN_N_PARTS; i++)
                free(a->part[i]);
        *a = (struct ib_arn){ 0 };
}

/* Every byte of s[0..n) is in the set, and there is at least one. */
static bool all_in(const char *s, size_t n, const char *set)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!s[i] || !strchr(set, s[i]))
                        return false;
        return true;
}

#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"

static bool number_ok(const char *s, size_t n)
{
        return n <= IB_MAX_NUMBER_LEN && all_in(s, n, "0123456789");
}

/* aws, aws-cn, aws-us-gov, aws-iso-b, ... (the API's "aws[^:]*"). */
static bool partition_ok(const char *s, size_t n)
{
        return n >= 3 && n <= 32 && !strncmp(s, "aws", 3) && (n == 3 || all_in(s + 3, n - 3, "-" LOWER_DIGITS));
}

/* us-west-2, cn-north-1, us-gov-west-1: it goes into a host name and the
 * credential scope. */
static bool region_ok(const char *s, size_t n)
{
        return n <= 64 && all_in(s, n, "-" LOWER_DIGITS) && s[0] != '-' && s[n - 1] != '-';
}

/* A 12-digit account ID, "aws" or "aws-<something>" (Amazon-managed and
 * Marketplace components), or "third-party". */
static bool account_ok(const char *s, size_t n)
{
        if (n == 12 && all_in(s, n, "0123456789"))
                return true;
        if (n == 11 && !strncmp(s, "third-party", 11))
                return true;
        if (n == 3 && !strncmp(s, "aws", 3))
                return true;
        return n > 4 && n <= 64 && !strncmp(s, "aws-", 4) && all_in(s + 4, n - 4, "-abcdefghijklmnopqrstuvwxyz");
}

/* X.Y.Z with decimal parts; *ret_wild tells a version ARN's "1.0.x". */
static bool version_ok(const char *s, size_t n, bool *ret_wild)
{
        size_t part = 0, parts = 0;
        bool wild = false;

        for (size_t i = 0; i <= n; i++) {
                if (i == n || s[i] == '.') {
                        size_t len = i - part;

                        if (len == 1 && s[part] == 'x')
                                wild = true;
                        else if (!number_ok(s + part, len))
                                return false;
                        parts++;
                        part = i + 1;
                }
        }
        *ret_wild = wild;
        return parts == 3;
}

int ib_arn_parse(const char *s, struct ib_arn *ret, char **reterr_msg)
{
        const char *field[6];
        size_t len[6], n = 0;
        const char *p;

        if (!s || !*s)
                return bad_arn(reterr_msg, "it is empty");
        if (strlen(s) > IB_MAX_ARN_LEN)
                return bad_arn(reterr_msg, "it is longer than %d bytes", IB_MAX_ARN_LEN);
        for (p = s; *p; p++)
                if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
                        return bad_arn(reterr_msg, "it holds a space, a control character or a non-ASCII byte");
        if (!ib_is_arn(s))
                return bad_arn(reterr_msg, "it does not start with 'arn:'");
        /* Six fields; the last (the resource) runs to the end. */
        p = s;
        for (;;) {
                const char *end = n < 5 ? strchr(p, ':') : NULL;

                if (!end)
                        end = p + strlen(p);
                field[n] = p;
                len[n++] = (size_t)(end - p);
                if (!*end)
                        break;
                p = end + 1;
        }
        if (n != 6)
                return bad_arn(reterr_msg, "it has %zu ':'-separated fields, not 6", n);
        if (!partition_ok(field[1], len[1]))
                return bad_arn(reterr_msg, "'%.*s' is not an AWS partition (aws, aws-cn, aws-us-gov, ...)", (int)len[1],
                               field[1]);
        if (len[2] != strlen(IB_SERVICE) || strncmp(field[2], IB_SERVICE, len[2]))
                return bad_arn(reterr_msg, "the service is '%.*s', not 'imagebuilder'", (int)len[2], field[2]);
        if (!region_ok(field[3], len[3]))
                return bad_arn(reterr_msg, "'%.*s' is not a region name (such as us-west-2)", (int)len[3], field[3]);
        if (!account_ok(field[4], len[4]))
                return bad_arn(reterr_msg,
                               "the account '%.*s' is neither a 12-digit account ID nor 'aws' (Amazon-managed "
                               "components)",
                               (int)len[4], field[4]);

        /* component/NAME/X.Y.Z/BUILD */
        const char *res = field[5], *slash[2];
        size_t res_len = len[5], n_slash = 0;

        if (res_len < 10 || strncmp(res, "component/", 10))
                return bad_arn(reterr_msg, "the resource '%s' is not component/NAME/X.Y.Z/BUILD", res);
        for (const char *c = res + 10; *c; c++)
                if (*c == '/') {
                        if (n_slash == ELEMENTSOF(slash))
                                return bad_arn(reterr_msg, "the resource '%s' has more parts than "
                                                           "component/NAME/X.Y.Z/BUILD", res);
                        slash[n_slash++] = c;
                }
        const char *name = res + 10;
        size_t name_len = n_slash ? (size_t)(slash[0] - name) : strlen(name);

        if (name_len > IB_MAX_NAME_LEN || !all_in(name, name_len, LOWER_DIGITS "-_"))
                return bad_arn(reterr_msg,
                               "the component name '%.*s' must be 1 to %d lower-case letters, digits, '-' and '_'",
                               (int)name_len, name, IB_MAX_NAME_LEN);
        if (n_slash == 0)
                return bad_arn(reterr_msg, "it names a component, not a build version: add /X.Y.Z/BUILD");
        const char *ver = slash[0] + 1;
        size_t ver_len = n_slash > 1 ? (size_t)(slash[1] - ver) : strlen(ver);
        bool wild = false;

        if (!version_ok(ver, ver_len, &wild))
                return bad_arn(reterr_msg, "the version '%.*s' is not X.Y.Z (three whole numbers)", (int)ver_len, ver);
        if (wild)
                return bad_arn(reterr_msg, "the version '%.*s' holds a wildcard; name one build version, such as "
                                           ".../1.0.0/1",
                               (int)ver_len, ver);
        if (n_slash == 1)
                return bad_arn(reterr_msg, "it names a component version, not a build version: add the build "
                                           "number (.../%.*s/1)",
                               (int)ver_len, ver);
        const char *build = slash[1] + 1;
        size_t build_len = strlen(build);

        if (!number_ok(build, build_len))
                return bad_arn(reterr_msg, "the build '%s' is not a whole number", build);

        const struct {
                const char *s;
                size_t n;
        } part[IB_ARN_N_PARTS] = {
                [IB_ARN_PARTITION] = { field[1], len[1] },
                [IB_ARN_REGION] = { field[3], len[3] },
                [IB_ARN_ACCOUNT] = { field[4], len[4] },
                [IB_ARN_NAME] = { name, name_len },
                [IB_ARN_VERSION] = { ver, ver_len },
                [IB_ARN_BUILD] = { build, build_len },
        };
        for (size_t i = 0; i < IB_ARN_N_PARTS; i++)
                ret->part[i] = xstrndup(part[i].s, part[i].n);
        return 0;
}

/* ---- GetComponent ------------------------------------------------------------------ */

int ib_endpoint(const char *region, char **ret_url, char **reterr_msg)
{
        const char *own = getenv("AWSTOE_IMAGEBUILDER_ENDPOINT");
        char *err = NULL;
        int r;

        if (!own || !*own)
                return aws_endpoint_resolve(IB_SERVICE, region, NULL, ret_url, reterr_msg);
        r = aws_endpoint_resolve(IB_SERVICE, region, own, ret_url, &err);
        if (r < 0) {
                errmsg_set(reterr_msg, r, "AWSTOE_IMAGEBUILDER_ENDPOINT is not a usable endpoint: %s",
                           err ? err : strerror(-r));
                free(err);
        }
        return r;
}

/* A non-2xx answer, worded by what it means for the caller. */
static int answer_error(const struct aws_http_response *a, char **reterr_msg)
{
        _cleanup_free_ char *detail = NULL;
        const char *code = a->error_code ? a->error_code : "";
        int r = aws_http_status_error(a, &detail);

        if (!strcmp(code, "ResourceNotFoundException") || a->status == 404)
                return errmsg_set(reterr_msg, -ENOENT, "Image Builder has no such component build version (%s)",
                                  detail);
        if (!strcmp(code, "InvalidSignatureException") || !strcmp(code, "SignatureDoesNotMatch") ||
            !strcmp(code, "IncompleteSignatureException"))
                return errmsg_set(reterr_msg, -EACCES,
                                  "Image Builder refused the request's signature; check the secret access key (%s)",
                                  detail);
        if (!strcmp(code, "UnrecognizedClientException") || !strcmp(code, "InvalidClientTokenId"))
                return errmsg_set(reterr_msg, -EACCES, "Image Builder does not know the access key in use (%s)",
                                  detail);
        if (!strcmp(code, "ForbiddenException") || !strcmp(code, "AccessDeniedException") || r == -EACCES)
                return errmsg_set(reterr_msg, -EACCES,
                                  "access denied; the credentials need imagebuilder:GetComponent on the component, and "
                                  "kms:Decrypt when its document is encrypted (%s)", detail);
        return errmsg_set(reterr_msg, r, "GetComponent failed (%s)", detail);
}

/* component.data out of a 2xx answer. */
static int answer_data(const struct aws_http_response *a, char **ret_data, size_t *ret_len, char **reterr_msg)
{
        json_error_t je;
        json_t *j = json_loadb(a->body, a->body_len, 0, &je);

        if (!j)
                return errmsg_set(reterr_msg, -EBADMSG, "the GetComponent answer is not JSON: %s (line %d)", je.text,
                                  je.line);
        json_t *comp = json_object_get(j, "component");
        json_t *data = json_object_get(comp, "data");
        int r = 0;

        if (!json_is_object(comp))
                r = errmsg_set(reterr_msg, -EBADMSG, "the GetComponent answer holds no 'component' object");
        else if (json_is_string(data)) {
                size_t n = json_string_length(data);

                *ret_data = xstrndup(json_string_value(data), n);
                if (ret_len)
                        *ret_len = n;
        } else if (json_is_true(json_object_get(comp, "obfuscate")))
                r = errmsg_set(reterr_msg, -ENODATA,
                               "the component's document is obfuscated (hidden by its publisher), "
                               "so it cannot be fetched and run here");
        else
                r = errmsg_set(reterr_msg, data ? -EBADMSG : -ENODATA,
                               "the GetComponent answer holds no document (component.data)");
        json_decref(j);
        return r;
}

int ib_get_component(const char *arn, char **ret_data, size_t *ret_len, char **reterr_msg)
{
        _cleanup_(ib_arn_done) struct ib_arn a = { 0 };
        _cleanup_free_ char *endpoint = NULL, *enc = NULL, *query = NULL;
        struct aws_http_response resp = { 0 };
        struct aws_http *http;
        struct aws_cred_provider *creds;
        int r;

        r = ib_arn_parse(arn, &a, reterr_msg);
        if (r < 0)
                return r;
        r = ib_endpoint(a.part[IB_ARN_REGION], &endpoint, reterr_msg);
        if (r < 0)
                return r;
        http = aws_http_new(reterr_msg);
        if (!http)
                return -ENOSYS;
        creds = aws_cred_provider_new();
        enc = sigv4_uri_encode(arn, strlen(arn), false);
        query = xasprintf("componentBuildVersionArn=%s", enc);

        const struct aws_http_header hdrs[] = {
                { "Accept", "application/json" },
        };
        struct aws_http_request req = {
                .method = "GET",
                .endpoint = endpoint,
                .path = "/GetComponent",
                .query = query,
                .headers = hdrs,
                .n_headers = ELEMENTSOF(hdrs),
                .service = IB_SERVICE,
                .region = a.part[IB_ARN_REGION],
                .creds = creds,
                .max_body = IB_MAX_ANSWER_BYTES,
                .deadline_ms = -1,
        };
        r = aws_http_request(http, &req, &resp, reterr_msg);
        if (r >= 0) {
                if (resp.status >= 200 && resp.status <= 299)
                        r = answer_data(&resp, ret_data, ret_len, reterr_msg);
                else
                        r = answer_error(&resp, reterr_msg);
                aws_http_response_done(&resp);
        }
        aws_cred_provider_free(creds);
        aws_http_free(http);
        return r;
}

/* ---- temporary files -------------------------------------------------------------- */

int ib_fetch_component_temp(const char *arn, char **ret_path, char **reterr_msg)
{
        _cleanup_(ib_arn_done) struct ib_arn a = { 0 };
        _cleanup_free_ char *data = NULL, *dir = NULL, *path = NULL;
        _cleanup_close_ int fd = -1;
        const char *tmp = getenv("TMPDIR");
        size_t len = 0;
        int r;

        r = ib_arn_parse(arn, &a, reterr_msg);
        if (r < 0)
                return r;
        r = ib_get_component(arn, &data, &len, reterr_msg);
        if (r < 0)
                return r;
        dir = xasprintf("%s/opentoe-ib-XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
        if (!mkdtemp(dir))
                return errmsg_set(reterr_msg, -errno, "cannot create a temporary folder for the document: %s",
                                  strerror(errno));
        path = xasprintf("%s/%s.yaml", dir, a.part[IB_ARN_NAME]);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                r = -errno;
        else
                r = write_all(fd, data, len);
        if (r >= 0) {
                int cfd = fd;

                fd = -1;
                if (close(cfd) < 0)
                        r = -errno;
        }
        if (r < 0) {
                (void)unlink(path);
                (void)rmdir(dir);
                return errmsg_set(reterr_msg, r, "cannot write the document to %s: %s", path, strerror(-r));
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

void ib_temp_remove(char *path)
{
        if (!path)
                return;
        char *slash = strrchr(path, '/');

        (void)unlink(path);
        if (slash && slash != path) {
                *slash = 0;
                (void)rmdir(path);
        }
        free(path);
}
