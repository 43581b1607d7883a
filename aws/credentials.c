/* credentials.c: owns finding AWS credentials and the region: the
 * environment, the shared credentials and config files (a small INI
 * reader for them), and the IMDSv2 client (token, role discovery, role
 * credentials, placement region), with caching and refresh before
 * expiry.  The chain and its rules are in credentials.h.  Secrets never
 * reach a message, and are wiped from memory when dropped. */
#include "credentials.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cleanup.h"
#include "errmsg.h"
#include "http_send.h"
#include "sigv4.h"
#include "strbuf.h"
#include "tunables.h"

#define IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
#define IMDS_IPV6_ENDPOINT "http://[fd00:ec2::254]"
#define IMDS_TOKEN_TTL_MAX 21600
#define IMDS_MAX_BODY (64 * 1024)
#define INI_MAX_BYTES (1024 * 1024)
#define MAX_PROFILE_LEN 256

struct aws_cred_provider {
        bool is_static;
        bool have;
        struct aws_credentials cur;
        /* region */
        char *region;
        char *region_source;
        /* IMDS */
        struct aws_http *http;
        char *imds_endpoint;
        char *token;
        int64_t token_renew_ms; /* CLOCK_MONOTONIC: fetch a new token from then on */
        bool v1;                /* tokenless: OPENTOE_IMDS_V1=1 and the token PUT was refused */
        char *role;
};

static const char *const source_names[_AWS_CRED_SOURCE_MAX] = {
        [AWS_CRED_STATIC] = "static",
        [AWS_CRED_ENV] = "environment",
        [AWS_CRED_PROFILE] = "profile",
        [AWS_CRED_IMDS] = "imds",
};

const char *aws_cred_source_to_string(enum aws_cred_source s)
{
        return s >= 0 && s < _AWS_CRED_SOURCE_MAX ? source_names[s] : NULL;
}

static const char *env_nonempty(const char *name)
{
        const char *v = getenv(name);

        return v && *v ? v : NULL;
}

static void free_secret(char *s)
{
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}

static void credentials_done(struct aws_credentials *c)
{
        free(c->access_key_id);
        free_secret(c->secret_access_key);
        free_secret(c->session_token);
        free(c->source_detail);
        *c = (struct aws_credentials){ 0 };
}

/* Printable ASCII without spaces: what a key id or token may hold. */
static bool visible(const char *s, size_t max)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > max)
                return false;
        for (; *s; s++)
                if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
                        return false;
        return true;
}

/* A copy of s without leading and trailing white space. */
static char *ini_trimmed(const char *s, size_t len)
{
        while (len > 0 && isspace((unsigned char)*s)) {
                s++;
                len--;
        }
        while (len > 0 && isspace((unsigned char)s[len - 1]))
                len--;
        return xstrndup(s, len);
}

/* ---- provider --------------------------------------------------------- */

struct aws_cred_provider *aws_cred_provider_new(void)
{
        return xcalloc(1, sizeof(struct aws_cred_provider));
}

struct aws_cred_provider *aws_cred_provider_new_static(const char *access_key_id, const char *secret_access_key,
                                                       const char *session_token)
{
        if (!access_key_id || !secret_access_key)
                return NULL;
        struct aws_cred_provider *p = aws_cred_provider_new();
        p->is_static = true;
        p->have = true;
        p->cur = (struct aws_credentials){
                .access_key_id = xstrdup(access_key_id),
                .secret_access_key = xstrdup(secret_access_key),
                .session_token = session_token && *session_token ? xstrdup(session_token) : NULL,
                .source = AWS_CRED_STATIC,
                .source_detail = xstrdup("given by the program"),
        };
        return p;
}

struct aws_cred_provider *aws_cred_provider_free(struct aws_cred_provider *p)
{
        if (!p)
                return NULL;
        credentials_done(&p->cur);
        free(p->region);
        free(p->region_source);
        aws_http_free(p->http);
        free(p->imds_endpoint);
        free_secret(p->token);
        free(p->role);
        free(p);
        return NULL;
}

void aws_cred_provider_invalidate(struct aws_cred_provider *p)
{
        if (!p || p->is_static)
                return;
        credentials_done(&p->cur);
        p->have = false;
}

/* ---- environment -------------------------------------------------------- */

/* The sources below return 1 with *ret filled, 0 when they have nothing
 * (the reason in *ret_why), or -errno for a configuration that must stop
 * the chain (the message in *ret_why). */

static int src_env(struct aws_credentials *ret, char **ret_why)
{
        const char *id = env_nonempty("AWS_ACCESS_KEY_ID"), *secret = env_nonempty("AWS_SECRET_ACCESS_KEY");
        const char *token = env_nonempty("AWS_SESSION_TOKEN");

        if (!id && !secret) {
                *ret_why = xstrdup("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
                return 0;
        }
        if (!id || !secret) {
                *ret_why = xasprintf("%s is set but %s is not", id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                                     id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
                return -EINVAL;
        }
        if (!visible(id, 128)) {
                *ret_why = xstrdup("AWS_ACCESS_KEY_ID holds spaces or control characters");
                return -EINVAL;
        }
        *ret = (struct aws_credentials){
                .access_key_id = xstrdup(id),
                .secret_access_key = xstrdup(secret),
                .session_token = token ? xstrdup(token) : NULL,
                .source = AWS_CRED_ENV,
                .source_detail = xstrdup("environment variables"),
        };
        return 1;
}

/* ---- shared credentials and config files --------------------------------- */

static char *home_dir(void)
{
        const char *h = env_nonempty("HOME");

        if (h)
                return xstrdup(h);
        struct passwd *pw = getpwuid(getuid());
        return xstrdup(pw && pw->pw_dir ? pw->pw_dir : "/");
}

/* The file named by env_name ("~/" expanded), else ~/.aws/<name>. */
static char *aws_file(const char *env_name, const char *name)
{
        const char *v = env_nonempty(env_name);
        _cleanup_free_ char *home = home_dir();

        if (v && v[0] == '~' && (v[1] == '/' || !v[1]))
                return xasprintf("%s%s", home, v + 1);
        if (v)
                return xstrdup(v);
        return xasprintf("%s/.aws/%s", home, name);
}

static const char *profile_name(bool *ret_explicit)
{
        const char *v = env_nonempty("AWS_PROFILE");

        if (!v)
                v = env_nonempty("AWS_DEFAULT_PROFILE");
        *ret_explicit = v != NULL;
        return v ? v : "default";
}

struct ini_profile {
        bool found;
        char *key_id, *secret, *token, *region;
        const char *unsupported; /* a setting of a kind opentoe does not implement */
};

static void ini_profile_done(struct ini_profile *p)
{
        free(p->key_id);
        free_secret(p->secret);
        free_secret(p->token);
        free(p->region);
        *p = (struct ini_profile){ 0 };
}

static bool section_matches(const char *s, size_t len, bool config_file, const char *profile)
{
        _cleanup_free_ char *name = ini_trimmed(s, len);

        if (config_file) {
                if (!strncmp(name, "profile", 7) && (name[7] == ' ' || name[7] == '\t')) {
                        const char *n = name + 8;
                        while (*n == ' ' || *n == '\t')
                                n++;
                        return !strcmp(n, profile);
                }
                return !strcmp(profile, "default") && !strcmp(name, "default");
        }
        return !strcmp(name, profile);
}

/* Reads the section of profile from the INI file at path.  Returns 1
 * when found, 0 when the file has no such section, -errno when the file
 * cannot be read (-ENOENT: it does not exist), -EFBIG over INI_MAX_BYTES. */
static int ini_read(const char *path, bool config_file, const char *profile, struct ini_profile *ret)
{
        static const char *const unsupported[] = {
                "role_arn", "credential_process", "sso_start_url", "sso_session", "web_identity_token_file",
                "credential_source",
        };
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        struct strbuf b = STRBUF_INIT;
        char chunk[8192];
        size_t n;

        if (!f)
                return -errno;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
                if (b.len + n > INI_MAX_BYTES) {
                        sb_free(&b);
                        return -EFBIG;
                }
                sb_append(&b, chunk, n);
        }
        if (ferror(f)) {
                sb_free(&b);
                return -EIO;
        }
        bool in = false;
        struct ini_profile pr = { 0 };
        char *text = sb_take(&b), *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                size_t len = strlen(line);
                if (len && line[len - 1] == '\r')
                        line[--len] = '\0';
                if (line[0] == ' ' || line[0] == '\t')
                        continue; /* a nested or continued value */
                if (line[0] == '#' || line[0] == ';' || line[0] == '\0')
                        continue;
                if (line[0] == '[') {
                        char *close = strrchr(line, ']');
                        in = close && section_matches(line + 1, (size_t)(close - line - 1), config_file, profile);
                        pr.found |= in;
                        continue;
                }
                if (!in)
                        continue;
                size_t klen = strcspn(line, "=:");
                if (!line[klen])
                        continue;
                _cleanup_free_ char *key = ini_trimmed(line, klen);
                for (char *c = key; *c; c++)
                        *c = (char)tolower((unsigned char)*c);
                char *val = ini_trimmed(line + klen + 1, strlen(line + klen + 1));
                char **slot = !strcmp(key, "aws_access_key_id")       ? &pr.key_id
                              : !strcmp(key, "aws_secret_access_key") ? &pr.secret
                              : !strcmp(key, "aws_session_token")     ? &pr.token
                              : !strcmp(key, "region")                ? &pr.region
                                                                      : NULL;
                if (slot && *val) {
                        free_secret(*slot);
                        *slot = val;
                        val = NULL;
                }
                for (size_t i = 0; i < ELEMENTSOF(unsupported); i++)
                        if (!strcmp(key, unsupported[i]))
                                pr.unsupported = unsupported[i];
                free_secret(val);
        }
        explicit_bzero(text, strlen(text));
        free(text);
        *ret = pr;
        return pr.found ? 1 : 0;
}

/* A few words on why a file gave no credentials, for the chain's message. */
static void describe_file(struct strbuf *why, const char *path, int r, const struct ini_profile *pr,
                          const char *profile)
{
        if (why->len)
                sb_puts(why, "; ");
        if (r == -ENOENT)
                sb_printf(why, "%s: no such file", path);
        else if (r == -EFBIG)
                sb_printf(why, "%s: larger than %d bytes, not read", path, INI_MAX_BYTES);
        else if (r < 0)
                sb_printf(why, "%s: cannot read: %s", path, strerror(-r));
        else if (!pr->found)
                sb_printf(why, "%s: no profile '%s'", path, profile);
        else
                sb_printf(why, "%s: profile '%s' has no aws_access_key_id", path, profile);
}

/* Keys of one file's profile: 1 taken, 0 none, -EINVAL half a pair. */
static int take_keys(struct ini_profile *pr, const char *path, const char *profile, struct aws_credentials *ret,
                     char **ret_why)
{
        if (!pr->key_id && !pr->secret)
                return 0;
        if (!pr->key_id || !pr->secret) {
                *ret_why = xasprintf("profile '%s' in %s has %s but no %s", profile, path,
                                     pr->key_id ? "aws_access_key_id" : "aws_secret_access_key",
                                     pr->key_id ? "aws_secret_access_key" : "aws_access_key_id");
                return -EINVAL;
        }
        if (!visible(pr->key_id, 128)) {
                *ret_why = xasprintf("profile '%s' in %s: aws_access_key_id holds spaces or control characters",
                                     profile, path);
                return -EINVAL;
        }
        *ret = (struct aws_credentials){
                .access_key_id = TAKE_PTR(pr->key_id),
                .secret_access_key = TAKE_PTR(pr->secret),
                .session_token = TAKE_PTR(pr->token),
                .source = AWS_CRED_PROFILE,
                .source_detail = xasprintf("profile '%s' in %s", profile, path),
        };
        return 1;
}

static int src_profile(struct aws_credentials *ret, char **ret_why)
{
        bool explicit_;
        const char *profile = profile_name(&explicit_);
        _cleanup_free_ char *cpath = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
        _cleanup_free_ char *fpath = aws_file("AWS_CONFIG_FILE", "config");
        struct ini_profile a = { 0 }, b = { 0 };
        struct strbuf why = STRBUF_INIT;
        int ra, rb, r;

        if (strlen(profile) > MAX_PROFILE_LEN) {
                *ret_why = xasprintf("the profile name is longer than %d bytes", MAX_PROFILE_LEN);
                return -EINVAL;
        }
        ra = ini_read(cpath, false, profile, &a);
        rb = ini_read(fpath, true, profile, &b);
        r = take_keys(&a, cpath, profile, ret, ret_why);
        if (r == 0)
                r = take_keys(&b, fpath, profile, ret, ret_why);
        if (r == 0 && (a.unsupported || b.unsupported)) {
                *ret_why = xasprintf("profile '%s' in %s uses %s, which opentoe does not support; give it "
                                     "aws_access_key_id and aws_secret_access_key, or use the instance profile",
                                     profile, a.unsupported ? cpath : fpath,
                                     a.unsupported ? a.unsupported : b.unsupported);
                r = -EINVAL;
        }
        if (r == 0 && explicit_ && ra <= 0 && rb <= 0) {
                describe_file(&why, cpath, ra, &a, profile);
                describe_file(&why, fpath, rb, &b, profile);
                *ret_why = xasprintf("the profile '%s' (from %s) is in neither file: %s", profile,
                                     env_nonempty("AWS_PROFILE") ? "AWS_PROFILE" : "AWS_DEFAULT_PROFILE", why.s);
                sb_free(&why);
                r = -EINVAL;
        }
        if (r == 0) {
                describe_file(&why, cpath, ra, &a, profile);
                describe_file(&why, fpath, rb, &b, profile);
                *ret_why = sb_take(&why);
        }
        ini_profile_done(&a);
        ini_profile_done(&b);
        return r;
}

/* The region of the profile in the config file: 1, 0 none (why), <0. */
static int profile_region(char **ret_region, char **ret_source, char **ret_why)
{
        bool explicit_;
        const char *profile = profile_name(&explicit_);
        _cleanup_free_ char *fpath = aws_file("AWS_CONFIG_FILE", "config");
        struct ini_profile b = { 0 };
        struct strbuf why = STRBUF_INIT;
        int r = ini_read(fpath, true, profile, &b);

        if (r > 0 && b.region) {
                *ret_region = TAKE_PTR(b.region);
                *ret_source = xasprintf("profile '%s' in %s", profile, fpath);
                ini_profile_done(&b);
                return 1;
        }
        describe_file(&why, fpath, r, &b, profile);
        if (r > 0) {
                sb_free(&why);
                sb_printf(&why, "%s: profile '%s' has no region", fpath, profile);
        }
        *ret_why = sb_take(&why);
        ini_profile_done(&b);
        return 0;
}

/* ---- IMDS --------------------------------------------------------------- */

static int imds_client(struct aws_cred_provider *p, char **reterr_msg)
{
        if (!p->imds_endpoint) {
                const char *e = env_nonempty("AWS_EC2_METADATA_SERVICE_ENDPOINT");
                const char *mode = env_nonempty("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
                size_t n;

                if (!e)
                        e = mode && !strcasecmp(mode, "IPv6") ? IMDS_IPV6_ENDPOINT : IMDS_DEFAULT_ENDPOINT;
                n = strlen(e);
                while (n > 0 && e[n - 1] == '/')
                        n--;
                p->imds_endpoint = xstrndup(e, n);
        }
        if (!p->http) {
                p->http = aws_http_new(reterr_msg);
                if (!p->http)
                        return -ENOSYS;
        }
        return 0;
}

/* One unsigned IMDS request with IMDS's short timeouts. */
static int imds_send(struct aws_cred_provider *p, const char *method, const char *path,
                     const struct aws_http_header *hdr, int64_t deadline_ms, struct aws_http_response *ret,
                     char **reterr_msg)
{
        struct aws_http_request req = {
                .method = method,
                .endpoint = p->imds_endpoint,
                .path = path,
                .headers = hdr,
                .n_headers = hdr ? 1 : 0,
                .max_body = IMDS_MAX_BODY,
                .deadline_ms = deadline_ms,
                .max_attempts = (int)env_long("OPENTOE_IMDS_ATTEMPTS", 2, 1, 10),
                .connect_timeout_ms = env_long("OPENTOE_IMDS_CONNECT_TIMEOUT_MS", 1000, 1, 60000),
                .attempt_timeout_ms = env_long("OPENTOE_IMDS_TIMEOUT_MS", 2000, 1, 600000),
                .no_proxy = true,
        };
        return aws_http_send(p->http, &req, NULL, ret, reterr_msg);
}

/* Makes sure a usable token is held (or that tokenless mode was chosen). */
static int imds_token(struct aws_cred_provider *p, int64_t deadline_ms, char **reterr_msg)
{
        long ttl = env_long("OPENTOE_IMDS_TOKEN_TTL", IMDS_TOKEN_TTL_MAX, 1, IMDS_TOKEN_TTL_MAX);
        struct aws_http_response resp;
        char ttl_s[24];
        int r;

        if (p->v1 || (p->token && aws_now_ms() < p->token_renew_ms))
                return 0;
        free_secret(p->token);
        p->token = NULL;
        snprintf(ttl_s, sizeof ttl_s, "%ld", ttl);
        struct aws_http_header h = { "X-aws-ec2-metadata-token-ttl-seconds", ttl_s };
        int64_t asked = aws_now_ms();
        r = imds_send(p, "PUT", "/latest/api/token", &h, deadline_ms, &resp, reterr_msg);
        if (r < 0)
                return r;
        if (resp.status != 200) {
                long st = resp.status;
                aws_http_response_done(&resp);
                if (getenv("OPENTOE_IMDS_V1") && !strcmp(getenv("OPENTOE_IMDS_V1"), "1")) {
                        p->v1 = true;
                        return 0;
                }
                return errmsg_set(reterr_msg, -EACCES,
                                  "the session token request was refused (HTTP %ld); IMDSv1 (requests without a "
                                  "token) is not used unless OPENTOE_IMDS_V1=1", st);
        }
        char *tok = ini_trimmed(resp.body, resp.body_len);
        const char *granted = aws_http_response_header(&resp, "X-aws-ec2-metadata-token-ttl-seconds");
        if (granted) {
                char *end;
                long g = strtol(granted, &end, 10);
                if (!*end && g > 0 && g < ttl)
                        ttl = g;
        }
        aws_http_response_done(&resp);
        if (!visible(tok, 4096)) {
                free_secret(tok);
                return errmsg_set(reterr_msg, -EBADMSG, "an empty or malformed session token");
        }
        /* Renew shortly before it expires: a minute early, or a tenth of a
         * short TTL. */
        int64_t margin = ttl >= 600 ? 60000 : ttl * 100;
        p->token = tok;
        p->token_renew_ms = asked + ttl * 1000 - margin;
        return 0;
}

int aws_imds_get(struct aws_cred_provider *p, const char *path, int64_t deadline_ms, char **ret_body,
                 char **reterr_msg)
{
        int r;

        if (!p || !path || path[0] != '/')
                return errmsg_set(reterr_msg, -EINVAL, "IMDS paths start with '/'");
        if (env_true("AWS_EC2_METADATA_DISABLED"))
                return errmsg_set(reterr_msg, -EPERM, "IMDS disabled by AWS_EC2_METADATA_DISABLED");
        r = imds_client(p, reterr_msg);
        if (r < 0)
                return r;
        for (int pass = 0;; pass++) {
                struct aws_http_response resp;
                struct aws_http_header h = { 0 };
                char *err = NULL;

                r = imds_token(p, deadline_ms, &err);
                if (r < 0) {
                        errmsg_set(reterr_msg, r, "IMDS at %s: %s", p->imds_endpoint, err);
                        free(err);
                        return r;
                }
                if (!p->v1)
                        h = (struct aws_http_header){ "X-aws-ec2-metadata-token", p->token };
                r = imds_send(p, "GET", path, p->v1 ? NULL : &h, deadline_ms, &resp, &err);
                if (r < 0) {
                        errmsg_set(reterr_msg, r, "IMDS at %s: %s", p->imds_endpoint, err);
                        free(err);
                        return r;
                }
                if (resp.status == 200) {
                        *ret_body = TAKE_PTR(resp.body);
                        aws_http_response_done(&resp);
                        return 0;
                }
                long st = resp.status;
                aws_http_response_done(&resp);
                if (st == 401 && !p->v1 && pass == 0) {
                        /* The token expired early or IMDS restarted: a new one. */
                        free_secret(p->token);
                        p->token = NULL;
                        continue;
                }
                if (st == 404)
                        return errmsg_set(reterr_msg, -ENOENT, "IMDS at %s has no %s (HTTP 404)", p->imds_endpoint,
                                          path);
                if (st == 401)
                        return errmsg_set(reterr_msg, -EACCES, "IMDS at %s refused %s (HTTP 401)%s", p->imds_endpoint,
                                          path, p->v1 ? ": it wants a session token" : " with a fresh session token");
                return errmsg_set(reterr_msg, -EIO, "IMDS at %s answered HTTP %ld for %s", p->imds_endpoint, st, path);
        }
}

static int imds_role_credentials(struct aws_cred_provider *p, int64_t deadline_ms, struct aws_credentials *ret,
                                 char **reterr_msg)
{
        static const char base[] = "/latest/meta-data/iam/security-credentials/";
        int r;

        for (int pass = 0;; pass++) {
                _cleanup_free_ char *body = NULL, *path = NULL, *enc = NULL;
                char *err = NULL;

                if (!p->role) {
                        r = aws_imds_get(p, base, deadline_ms, &body, &err);
                        if (r == -ENOENT) {
                                free(err);
                                return errmsg_set(reterr_msg, r, "IMDS at %s: no instance profile (IAM role) is "
                                                  "attached to this instance", p->imds_endpoint);
                        }
                        if (r < 0) {
                                *reterr_msg = err;
                                return r;
                        }
                        size_t n = strcspn(body, "\r\n");
                        _cleanup_free_ char *role = ini_trimmed(body, n);
                        if (!*role || strlen(role) > 512)
                                return errmsg_set(reterr_msg, -EBADMSG, "IMDS at %s listed no usable role name",
                                                  p->imds_endpoint);
                        p->role = TAKE_PTR(role);
                        free(body);
                        body = NULL;
                }
                enc = sigv4_uri_encode(p->role, strlen(p->role), false);
                path = xasprintf("%s%s", base, enc);
                r = aws_imds_get(p, path, deadline_ms, &body, &err);
                if (r == -ENOENT && pass == 0) {
                        /* The instance profile changed: discover the role again. */
                        free(err);
                        free(p->role);
                        p->role = NULL;
                        continue;
                }
                if (r < 0) {
                        *reterr_msg = err;
                        return r;
                }
                json_error_t je;
                json_t *j = json_loads(body, 0, &je);
                explicit_bzero(body, strlen(body));
                if (!json_is_object(j)) {
                        json_decref(j);
                        return errmsg_set(reterr_msg, -EBADMSG,
                                          "IMDS sent credentials for role '%s' that are not a JSON "
                                          "object", p->role);
                }
                const char *code = json_string_value(json_object_get(j, "Code"));
                const char *id = json_string_value(json_object_get(j, "AccessKeyId"));
                const char *secret = json_string_value(json_object_get(j, "SecretAccessKey"));
                const char *token = json_string_value(json_object_get(j, "Token"));
                const char *exp = json_string_value(json_object_get(j, "Expiration"));
                time_t expiration = 0;
                if (code && strcmp(code, "Success")) {
                        r = errmsg_set(reterr_msg, -EIO, "IMDS could not give credentials for role '%s': Code %.64s",
                                       p->role, code);
                } else if (!visible(id, 128) || !secret || !*secret || (token && !*token)) {
                        r = errmsg_set(reterr_msg, -EBADMSG, "IMDS sent credentials for role '%s' without AccessKeyId "
                                       "or SecretAccessKey", p->role);
                } else if (exp && aws_time_parse(exp, &expiration) < 0) {
                        r = errmsg_set(reterr_msg, -EBADMSG, "IMDS sent credentials for role '%s' with an unreadable "
                                       "Expiration '%.64s'", p->role, exp);
                } else {
                        *ret = (struct aws_credentials){
                                .access_key_id = xstrdup(id),
                                .secret_access_key = xstrdup(secret),
                                .session_token = token ? xstrdup(token) : NULL,
                                .expiration = expiration,
                                .source = AWS_CRED_IMDS,
                                .source_detail = xasprintf("IMDS role '%s' at %s%s", p->role, p->imds_endpoint,
                                                           p->v1 ? " (IMDSv1)" : ""),
                        };
                        r = 0;
                }
                /* Wipe the secrets jansson holds before freeing them. */
                json_t *s = json_object_get(j, "SecretAccessKey");
                if (json_is_string(s))
                        explicit_bzero((char *)json_string_value(s), json_string_length(s));
                s = json_object_get(j, "Token");
                if (json_is_string(s))
                        explicit_bzero((char *)json_string_value(s), json_string_length(s));
                json_decref(j);
                return r;
        }
}

static int src_imds(struct aws_cred_provider *p, int64_t deadline_ms, struct aws_credentials *ret, char **ret_why)
{
        char *err = NULL;
        int r;

        if (env_true("AWS_EC2_METADATA_DISABLED")) {
                *ret_why = xstrdup("IMDS disabled by AWS_EC2_METADATA_DISABLED");
                return 0;
        }
        r = imds_role_credentials(p, deadline_ms, ret, &err);
        if (r < 0) {
                *ret_why = err ? err : xstrdup(strerror(-r));
                return 0;
        }
        return 1;
}

/* ---- the chain ------------------------------------------------------------ */

static bool needs_refresh(const struct aws_credentials *c)
{
        long window = env_long("OPENTOE_AWS_CRED_REFRESH_S", 300, 0, 86400);

        return c->expiration != 0 && time(NULL) >= c->expiration - window;
}

int aws_cred_provider_get(struct aws_cred_provider *p, int64_t deadline_ms, const struct aws_credentials **ret,
                          char **reterr_msg)
{
        struct aws_credentials c = { 0 };
        char *why = NULL;
        int r;

        if (!p || !ret)
                return errmsg_set(reterr_msg, -EINVAL, "no credential provider");
        if (p->have && (p->is_static || !needs_refresh(&p->cur))) {
                *ret = &p->cur;
                return 0;
        }
        if (p->have && p->cur.source == AWS_CRED_IMDS) {
                /* Refresh from the source that gave them. */
                r = src_imds(p, deadline_ms, &c, &why);
                if (r > 0) {
                        credentials_done(&p->cur);
                        p->cur = c;
                        *ret = &p->cur;
                        free(why);
                        return 0;
                }
                if (time(NULL) < p->cur.expiration) {
                        /* Still valid: keep them, try again next time. */
                        free(why);
                        *ret = &p->cur;
                        return 0;
                }
                r = errmsg_set(reterr_msg, -ENOKEY, "the AWS credentials from IMDS expired and cannot be refreshed: %s",
                               why);
                free(why);
                return r;
        }

        struct strbuf tried = STRBUF_INIT;
        r = src_env(&c, &why);
        if (r == 0) {
                sb_printf(&tried, "environment (%s)", why);
                free(why);
                why = NULL;
                r = src_profile(&c, &why);
        }
        if (r == 0) {
                sb_printf(&tried, "; shared files (%s)", why);
                free(why);
                why = NULL;
                r = src_imds(p, deadline_ms, &c, &why);
                if (r == 0)
                        sb_printf(&tried, "; %s", why);
        }
        if (r < 0) {
                errmsg_set(reterr_msg, r, "bad AWS credentials configuration: %s", why);
                free(why);
                sb_free(&tried);
                return r;
        }
        free(why);
        if (r == 0) {
                errmsg_set(reterr_msg, -ENOKEY, "no AWS credentials found; tried: %s", tried.s);
                sb_free(&tried);
                return -ENOKEY;
        }
        sb_free(&tried);
        credentials_done(&p->cur);
        p->cur = c;
        p->have = true;
        *ret = &p->cur;
        return 0;
}

/* ---- region ----------------------------------------------------------------- */

static bool region_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 64)
                return false;
        for (; *s; s++)
                if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-'))
                        return false;
        return true;
}

int aws_region_resolve(struct aws_cred_provider *p, int64_t deadline_ms, const char **ret_region,
                       const char **ret_source, char **reterr_msg)
{
        static const char *const vars[] = { "AWS_REGION", "AWS_DEFAULT_REGION" };
        char *region = NULL, *source = NULL, *why = NULL;
        struct strbuf tried = STRBUF_INIT;
        int r;

        if (!p || !ret_region)
                return errmsg_set(reterr_msg, -EINVAL, "no credential provider");
        if (p->region)
                goto done;
        for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
                const char *v = env_nonempty(vars[i]);
                if (!v)
                        continue;
                if (!region_ok(v)) {
                        sb_free(&tried);
                        return errmsg_set(reterr_msg, -EINVAL, "%s='%.64s' is not a region name", vars[i], v);
                }
                p->region = xstrdup(v);
                p->region_source = xstrdup(vars[i]);
                goto done;
        }
        sb_puts(&tried, "AWS_REGION and AWS_DEFAULT_REGION are not set");
        r = profile_region(&region, &source, &why);
        if (r > 0) {
                if (!region_ok(region)) {
                        r = errmsg_set(reterr_msg, -EINVAL, "%s: region '%.64s' is not a region name", source, region);
                        free(region);
                        free(source);
                        sb_free(&tried);
                        return r;
                }
                p->region = region;
                p->region_source = source;
                goto done;
        }
        sb_printf(&tried, "; %s", why);
        free(why);
        why = NULL;
        r = aws_imds_get(p, "/latest/meta-data/placement/region", deadline_ms, &region, &why);
        if (r == 0) {
                char *t = ini_trimmed(region, strlen(region));
                free(region);
                if (region_ok(t)) {
                        p->region = t;
                        p->region_source = xstrdup("IMDS");
                        goto done;
                }
                free(t);
                why = xasprintf("IMDS at %s sent a malformed region", p->imds_endpoint);
        }
        sb_printf(&tried, "; %s", why);
        free(why);
        r = errmsg_set(reterr_msg, -ENOENT, "no AWS region found: %s", tried.s);
        sb_free(&tried);
        return r;
done:
        sb_free(&tried);
        *ret_region = p->region;
        if (ret_source)
                *ret_source = p->region_source;
        return 0;
}
