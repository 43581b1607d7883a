/* credentials.h: where opentoe's AWS credentials and region come from.
 *
 * The provider walks the SDKs' chain (spec F.8), first hit wins:
 *   1. environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
 *      [+ AWS_SESSION_TOKEN]; one of the pair without the other is an
 *      error, not a reason to look further;
 *   2. shared files: the profile AWS_PROFILE (else AWS_DEFAULT_PROFILE,
 *      else "default") in AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials,
 *      sections "[name]"), then in AWS_CONFIG_FILE (~/.aws/config,
 *      sections "[profile name]", or "[default]"); keys
 *      aws_access_key_id, aws_secret_access_key, aws_session_token.  A
 *      profile named in AWS_PROFILE that exists in neither file is an
 *      error; so is one that only has role_arn, credential_process, sso_*
 *      or web identity settings, which opentoe does not implement;
 *   3. IMDSv2, unless AWS_EC2_METADATA_DISABLED=true: PUT
 *      /latest/api/token (TTL 21600 s, reused until shortly before it
 *      expires, fetched again on a 401), GET
 *      /latest/meta-data/iam/security-credentials/ for the role, then the
 *      role's JSON.  The endpoint is http://169.254.169.254, or
 *      AWS_EC2_METADATA_SERVICE_ENDPOINT (or http://[fd00:ec2::254] with
 *      AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6).  IMDS requests never
 *      use a proxy, connect within 1 s and are tried twice (each attempt
 *      at most 2 s), so off EC2 the chain fails in a few seconds.
 *      IMDSv1 (requests without a token) is NEVER used unless
 *      OPENTOE_IMDS_V1=1 is set; then it is the fallback when the token
 *      PUT is refused with an HTTP error.
 *
 * Credentials are cached.  Expiring ones (IMDS) are refreshed from the
 * same source once less than OPENTOE_AWS_CRED_REFRESH_S seconds (default
 * 300) are left; if the refresh fails, the cached ones are kept while
 * they are still valid.
 *
 * The region: AWS_REGION, AWS_DEFAULT_REGION, the profile's "region" in
 * the config file, then IMDS /latest/meta-data/placement/region.
 *
 * Tunables for tests: OPENTOE_IMDS_TOKEN_TTL (seconds, 1-21600),
 * OPENTOE_IMDS_CONNECT_TIMEOUT_MS (1000), OPENTOE_IMDS_TIMEOUT_MS (2000, a
 * whole attempt), OPENTOE_IMDS_ATTEMPTS (2).
 *
 * Messages never contain a secret key or a token; when the chain fails
 * they name every source tried and why it gave nothing. */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <time.h>

enum aws_cred_source {
        AWS_CRED_STATIC,        /* given by the program: aws_cred_provider_new_static() */
        AWS_CRED_ENV,           /* AWS_ACCESS_KEY_ID, ... */
        AWS_CRED_PROFILE,       /* shared credentials or config file */
        AWS_CRED_IMDS,          /* the instance profile, through IMDS */
        _AWS_CRED_SOURCE_MAX,
        _AWS_CRED_SOURCE_INVALID = -EINVAL,
};

struct aws_credentials {
        char *access_key_id;
        char *secret_access_key;
        char *session_token;    /* NULL for long-term keys */
        time_t expiration;      /* UTC seconds; 0: does not expire */
        enum aws_cred_source source;
        char *source_detail;    /* "profile 'dev' in /root/.aws/credentials", "IMDS role 'r'" */
};

/* "static", "environment", "profile", "imds". */
const char *aws_cred_source_to_string(enum aws_cred_source s);

struct aws_cred_provider;

/* The default chain above; nothing is looked up until first use. */
struct aws_cred_provider *aws_cred_provider_new(void);
/* Fixed credentials (session_token may be NULL); for tests and callers
 * that got keys elsewhere.  Region resolution still follows the chain. */
struct aws_cred_provider *aws_cred_provider_new_static(const char *access_key_id, const char *secret_access_key,
                                                       const char *session_token);
/* Accepts NULL; returns NULL. */
struct aws_cred_provider *aws_cred_provider_free(struct aws_cred_provider *p);

/* The current credentials: cached, or looked up (or refreshed) now.  The
 * pointer is borrowed: valid until the next call on p.  deadline_ms is
 * CLOCK_MONOTONIC ms or -1.  Returns 0, or -ENOKEY when no source gave
 * credentials, -EINVAL for a broken configuration (half-set environment,
 * unsupported profile), -ETIMEDOUT, with a message to free. */
int aws_cred_provider_get(struct aws_cred_provider *p, int64_t deadline_ms, const struct aws_credentials **ret,
                          char **reterr_msg);
/* Drops cached credentials, so the next get looks them up again (after a
 * service answered ExpiredToken). */
void aws_cred_provider_invalidate(struct aws_cred_provider *p);

/* The region (cached after the first success).  *ret_region and
 * *ret_source ("AWS_REGION", "IMDS", "profile 'x' in FILE"; may be NULL)
 * are borrowed from p.  -ENOENT with a message naming what was tried. */
int aws_region_resolve(struct aws_cred_provider *p, int64_t deadline_ms, const char **ret_region,
                       const char **ret_source, char **reterr_msg);

/* GET of an IMDS path ("/latest/meta-data/instance-id") with the
 * provider's token; the body (to free) in *ret_body.  -ENOENT for a 404,
 * -EPERM when IMDS is disabled, other -errno with a message. */
int aws_imds_get(struct aws_cred_provider *p, const char *path, int64_t deadline_ms, char **ret_body,
                 char **reterr_msg);
