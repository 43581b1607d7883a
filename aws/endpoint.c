/* endpoint.c: resolving a service's endpoint URL (flags, AWS_ENDPOINT_URL*,
 * the default endpoint, the regional default) and checking endpoint URLs. */
#include "endpoint.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "tunables.h"
#include "errmsg.h"
#include "strbuf.h"

/* aws_endpoint_set_default()'s URL, normalised; NULL for none. */
static char *default_endpoint;

void endpoint_done(struct endpoint *e)
{
        free_many(e->scheme, e->authority, e->base);
        *e = (struct endpoint){ 0 };
}

int endpoint_parse(const char *url, struct endpoint *ret, char **reterr_msg)
{
        const char *sep = url ? strstr(url, "://") : NULL;

        if (!url || !*url)
                return errmsg_set(reterr_msg, -EINVAL, "empty endpoint URL");
        if (strlen(url) > 2048)
                return errmsg_set(reterr_msg, -EINVAL, "the endpoint URL is longer than 2048 bytes");
        for (const char *c = url; *c; c++)
                if ((unsigned char)*c <= ' ' || *c == 0x7f)
                        return errmsg_set(reterr_msg, -EINVAL,
                                          "the endpoint URL '%s' holds a space or control character", url);
        if (!sep)
                return errmsg_set(reterr_msg, -EINVAL, "the endpoint '%s' is not a URL (it needs http:// or https://)",
                                  url);
        size_t slen = (size_t)(sep - url);
        char *scheme;
        if (slen == 4 && !strncasecmp(url, "http", 4))
                scheme = xstrdup("http");
        else if (slen == 5 && !strncasecmp(url, "https", 5))
                scheme = xstrdup("https");
        else
                return errmsg_set(reterr_msg, -EINVAL, "the endpoint '%s' must use http or https", url);
        const char *auth = sep + 3;
        size_t alen = strcspn(auth, "/?#");
        const char *rest = auth + alen;
        if (alen == 0 || memchr(auth, '@', alen) || strcspn(rest, "?#") != strlen(rest)) {
                free(scheme);
                return errmsg_set(reterr_msg, -EINVAL,
                                  "the endpoint '%s' must be scheme://host[:port][/path], without user, query or "
                                  "fragment", url);
        }
        size_t blen = strlen(rest);
        while (blen > 0 && rest[blen - 1] == '/')
                blen--;
        ret->scheme = scheme;
        ret->authority = xstrndup(auth, alen);
        ret->base = xstrndup(rest, blen);
        return 0;
}

static bool host_label_ok(const char *s, size_t max)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > max)
                return false;
        for (; *s; s++)
                if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.'))
                        return false;
        return true;
}

int aws_endpoint_resolve(const char *service, const char *region, const char *override, char **ret_url,
                         char **reterr_msg)
{
        _cleanup_free_ char *env_name = NULL, *alias = NULL;
        const char *url = NULL, *origin = NULL;
        struct endpoint e = { 0 };
        int r;

        if (!host_label_ok(service, 64))
                return errmsg_set(reterr_msg, -EINVAL,
                                  "the service name must be 1 to 64 letters, digits, '-', '_' or '.'");
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
                        errmsg_set(reterr_msg, r, "%s: %s", origin, err);
                        free(err);
                        return r;
                }
                *ret_url = xasprintf("%s://%s%s", e.scheme, e.authority, e.base);
                endpoint_done(&e);
                return 0;
        }
        if (!host_label_ok(region, 64))
                return errmsg_set(reterr_msg, -EINVAL, "no region to build the %s endpoint from", service);
        *ret_url = xasprintf("https://%s.%s.amazonaws.com%s", service, region, !strncmp(region, "cn-", 3) ? ".cn" : "");
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
