/* ssm.c: Parameter Store's GetParameter (ssm.h): the request, the answer
 * read within bounds, the error in the service's words, and the values
 * a run has read, kept in memory only. */
#include "ssm.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "awsjson.h"
#include "cleanup.h"
#include "credentials.h"
#include "errmsg.h"
#include "http.h"
#include "strbuf.h"

struct ssm_cached {
        struct ssm_cached *next;
        char *name;
        char *value;
        bool secure;
};

struct ssm_client {
        struct aws_http *http;
        struct aws_cred_provider *creds;
        struct ssm_cached *cache;
};

struct ssm_client *ssm_client_new(void)
{
        return xcalloc(1, sizeof(struct ssm_client));
}

static void wipe_free(char *s)
{
        if (!s)
                return;
        explicit_bzero(s, strlen(s));
        free(s);
}

struct ssm_client *ssm_client_free(struct ssm_client *c)
{
        if (!c)
                return NULL;
        for (struct ssm_cached *e = c->cache, *next; e; e = next) {
                next = e->next;
                free(e->name);
                wipe_free(e->value);
                free(e);
        }
        aws_http_free(c->http);
        aws_cred_provider_free(c->creds);
        free(c);
        return NULL;
}

/* The region of arn:PARTITION:ssm:REGION:..., or NULL for a plain name. */
static char *arn_region(const char *name)
{
        if (strncmp(name, "arn:", 4) != 0)
                return NULL;
        const char *p = strchr(name + 4, ':'); /* after the partition */
        if (!p || !(p = strchr(p + 1, ':')))   /* after the service */
                return NULL;
        const char *end = strchr(p + 1, ':');
        return end && end > p + 1 ? xstrndup(p + 1, (size_t)(end - p - 1)) : NULL;
}

static int code_errno(const char *code, long status)
{
        if (!code)
                return status >= 500 ? -EIO : -EINVAL;
        if (!strcmp(code, "ParameterNotFound") || !strcmp(code, "ParameterVersionNotFound"))
                return -ENOENT;
        if (!strncmp(code, "AccessDenied", 12) || !strcmp(code, "UnrecognizedClientException") ||
            !strcmp(code, "InvalidSignatureException") || !strcmp(code, "InvalidKeyId"))
                return -EACCES;
        return status >= 500 ? -EIO : -EINVAL;
}

/* A 2xx answer: {"Parameter": {"Type": ..., "Value": ...}}. */
static int read_answer(const struct aws_http_response *resp, char **ret_value, bool *ret_secure,
                       char **reterr_msg)
{
        json_error_t je;
        json_t *j = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, &je);
        json_t *prm = json_object_get(j, "Parameter");
        json_t *val = json_object_get(prm, "Value");
        const char *type = json_string_value(json_object_get(prm, "Type"));
        int r = 0;
        if (!j)
                r = errmsg_set(reterr_msg, -EBADMSG, "the GetParameter answer is not JSON: %s", je.text);
        else if (!json_is_string(val) || !type)
                r = errmsg_set(reterr_msg, -EBADMSG, "the GetParameter answer holds no Parameter.Value and Type");
        else if (json_string_length(val) > SSM_MAX_VALUE_BYTES)
                r = errmsg_set(reterr_msg, -EFBIG, "the parameter's value is %zu bytes; Parameter Store's limit is %u",
                               json_string_length(val), SSM_MAX_VALUE_BYTES);
        else if (memchr(json_string_value(val), '\0', json_string_length(val)))
                r = errmsg_set(reterr_msg, -EBADMSG, "the parameter's value holds a NUL byte");
        else if (strcmp(type, "String") && strcmp(type, "StringList") && strcmp(type, "SecureString"))
                r = errmsg_set(reterr_msg, -EBADMSG, "the parameter has an unknown Type '%.40s'", type);
        else {
                *ret_value = xstrndup(json_string_value(val), json_string_length(val));
                *ret_secure = !strcmp(type, "SecureString");
        }
        if (j && json_is_string(val))
                /* jansson's copy of a secret: wiped before it is freed. */
                explicit_bzero((char *)json_string_value(val), json_string_length(val));
        json_decref(j);
        return r;
}

static int get_parameter(struct ssm_client *c, const char *name, int64_t deadline_ms, char **ret_value,
                         bool *ret_secure, char **reterr_msg)
{
        _cleanup_free_ char *region_arn = arn_region(name), *endpoint = NULL, *body = NULL, *err = NULL;
        const char *region = region_arn;
        int r;
        if (!c->http) {
                c->http = aws_http_new(reterr_msg);
                if (!c->http)
                        return -ENOSYS;
        }
        if (!c->creds)
                c->creds = aws_cred_provider_new();
        if (!region) {
                r = aws_region_resolve(c->creds, deadline_ms, &region, NULL, &err);
                if (r < 0)
                        return errmsg_set(reterr_msg, r, "no region for Systems Manager: %s", err ? err : strerror(-r));
        }
        r = aws_endpoint_resolve("ssm", region, NULL, &endpoint, reterr_msg);
        if (r < 0)
                return r;
        json_t *req_json = json_pack("{s:s, s:b}", "Name", name, "WithDecryption", 1);
        body = json_dumps(req_json, JSON_COMPACT);
        json_decref(req_json);
        if (!body)
                return errmsg_set(reterr_msg, -EINVAL, "the parameter name is not valid UTF-8");
        const struct aws_json_service svc = {
                .http = c->http,
                .service = "ssm",
                .endpoint = endpoint,
                .region = region,
                .creds = c->creds,
        };
        struct aws_http_response resp = { 0 };
        r = aws_json_request(&svc, "AmazonSSM.GetParameter", body, strlen(body), SSM_MAX_ANSWER_BYTES, deadline_ms,
                             &resp, reterr_msg);
        if (r < 0)
                return r;
        if (resp.status / 100 == 2)
                r = read_answer(&resp, ret_value, ret_secure, reterr_msg);
        else if (resp.error_code)
                r = errmsg_set(reterr_msg, code_errno(resp.error_code, resp.status), "%s: %s", resp.error_code,
                               resp.error_message && *resp.error_message ? resp.error_message
                                                                         : "(the service gave no message)");
        else
                r = aws_http_status_error(&resp, reterr_msg);
        if (resp.body)
                explicit_bzero(resp.body, resp.body_len);
        aws_http_response_done(&resp);
        return r;
}

int ssm_get_parameter(struct ssm_client *c, const char *name, int64_t deadline_ms, char **ret_value,
                      bool *ret_secure, char **reterr_msg)
{
        for (struct ssm_cached *e = c->cache; e; e = e->next)
                if (!strcmp(e->name, name)) {
                        *ret_value = xstrdup(e->value);
                        *ret_secure = e->secure;
                        return 0;
                }
        char *value = NULL;
        bool secure = false;
        int r = get_parameter(c, name, deadline_ms, &value, &secure, reterr_msg);
        if (r < 0)
                return r;
        struct ssm_cached *e = xcalloc(1, sizeof *e);
        *e = (struct ssm_cached){ c->cache, xstrdup(name), xstrdup(value), secure };
        c->cache = e;
        *ret_value = value;
        *ret_secure = secure;
        return 0;
}
