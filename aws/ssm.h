/* ssm.h: Systems Manager Parameter Store, the one call AWSTOE's
 * {{ aws:ssm:NAME }} references need: GetParameter (AWS JSON 1.1, target
 * AmazonSSM.GetParameter, WithDecryption true), signed with SigV4 as
 * "ssm" through aws_http_request() with the default credential chain.
 *
 * NAME is what GetParameter takes: a name, a full ARN, either with
 * ":VERSION" or ":LABEL".  The region is the ARN's, else the chain's
 * (AWS_REGION, AWS_DEFAULT_REGION, the profile, IMDS); the endpoint is
 * aws_endpoint_resolve("ssm", ...) (AWS_ENDPOINT_URL_SSM, --endpoint-url,
 * AWS_ENDPOINT_URL, https://ssm.REGION.amazonaws.com).
 *
 * Values are kept in memory for the client's life, so a loop asks once
 * per name (a resumed run is a new client: it asks again).  Nothing
 * here logs or writes a value anywhere. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Parameter Store's bounds: a value is at most 8 KiB (advanced tier);
 * an answer is refused beyond SSM_MAX_ANSWER_BYTES. */
#define SSM_MAX_VALUE_BYTES (8 * 1024)
#define SSM_MAX_ANSWER_BYTES (64 * 1024)

struct ssm_client;

/* Nothing is loaded or looked up before the first ssm_get_parameter(). */
struct ssm_client *ssm_client_new(void);
/* Accepts NULL; returns NULL.  Cached values are wiped before they are
 * freed. */
struct ssm_client *ssm_client_free(struct ssm_client *c);

/* The value of `name` (allocated, NUL-terminated; *ret_secure tells a
 * SecureString).  deadline_ms is CLOCK_MONOTONIC ms (aws_now_ms()), -1
 * for none.  On failure a negative errno and a message in AWS's words:
 * "ParameterNotFound: ..." (the service's error code and message, -ENOENT
 * for ParameterNotFound and ParameterVersionNotFound, -EACCES for
 * AccessDenied*, -EINVAL for ValidationException and other 4xx, -EIO
 * otherwise), or the transport's or credential chain's reason. */
int ssm_get_parameter(struct ssm_client *c, const char *name, int64_t deadline_ms, char **ret_value,
                      bool *ret_secure, char **reterr_msg);
