/* imagebuilder.h: EC2 Image Builder for opentoe: component build version
 * ARNs, and component documents fetched through GetComponent into a
 * private temporary file, so that an ARN can stand wherever AWSTOE takes
 * a document (run --documents, --config's documents, validate
 * --documents, ExecuteDocument's document).
 *
 * An ARN names one build of one component version:
 *   arn:PARTITION:imagebuilder:REGION:ACCOUNT:component/NAME/X.Y.Z/BUILD
 * PARTITION is aws, aws-cn, aws-us-gov, ...; ACCOUNT is a 12-digit
 * account ID, or "aws" (Amazon-managed components), "aws-marketplace" and
 * the like, or "third-party"; NAME holds lower-case letters, digits, '-'
 * and '_'.  A version ARN without BUILD, or with 'x' wildcards, is
 * refused: AWSTOE runs build versions.
 *
 * GetComponent is a REST-JSON call: GET /GetComponent with the query
 * componentBuildVersionArn=<the ARN, percent-encoded>, signed with SigV4
 * as service "imagebuilder" in the ARN's region, with the default
 * credential chain (aws/credentials.h).  The answer's component.data is
 * the YAML document.  Transport, signing and retries are aws/http's.
 *
 * The endpoint is the first of:
 *   AWSTOE_IMAGEBUILDER_ENDPOINT (AWSTOE's own variable, as Image
 *     Builder's scripts set it: https://imagebuilder.<REGION>.amazonaws.com);
 *   AWS_ENDPOINT_URL_IMAGEBUILDER;
 *   the run's --endpoint-url (aws_endpoint_set_default());
 *   AWS_ENDPOINT_URL;
 *   https://imagebuilder.<REGION>.amazonaws.com (".amazonaws.com.cn" for
 *     cn-* regions), REGION being the ARN's.
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true drops only the two
 * AWS_ENDPOINT_URL* variables (aws_endpoint_resolve()).
 *
 * Functions return >= 0 or a negative errno with a message (to free) in
 * *reterr_msg; messages do not repeat the ARN, which callers show:
 *   -EINVAL   a malformed ARN (nothing was sent), or a bad endpoint
 *   -ENOENT   no such component build version (ResourceNotFoundException)
 *   -EACCES   the request was refused (ForbiddenException, a bad
 *             signature, an unknown access key)
 *   -ENODATA  the component's answer holds no document (obfuscated)
 *   -EBADMSG  the answer is not the JSON GetComponent gives
 *   others    as aws_http_request() and the file system give them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define IB_MAX_ARN_LEN 1024
#define IB_MAX_ANSWER_BYTES (8u * 1024u * 1024u) /* a GetComponent answer kept in memory */

/* The parts of an ARN, in the order they stand in it. */
enum ib_arn_part {
        IB_ARN_PARTITION,       /* "aws" */
        IB_ARN_REGION,          /* "us-west-2" */
        IB_ARN_ACCOUNT,         /* "123456789012", or "aws" for Amazon's components */
        IB_ARN_NAME,            /* "my-example-component" */
        IB_ARN_VERSION,         /* "2021.12.02" */
        IB_ARN_BUILD,           /* "1" */
        IB_ARN_N_PARTS,
};

struct ib_arn {
        char *part[IB_ARN_N_PARTS];     /* indexed by enum ib_arn_part */
};

/* True when s starts with "arn:": a document named by an ARN (which
 * ib_arn_parse() then checks), not a local path. */
bool ib_is_arn(const char *s);
/* Parses a component build version ARN into its parts; -EINVAL with a
 * message saying which part is wrong and what the shape is. */
int ib_arn_parse(const char *s, struct ib_arn *ret, char **reterr_msg);
void ib_arn_done(struct ib_arn *a);

/* The endpoint GetComponent goes to for a region (see above); free
 * *ret_url. */
int ib_endpoint(const char *region, char **ret_url, char **reterr_msg);

/* GetComponent: the document (component.data) of the component build
 * version arn, NUL-terminated, in *ret_data (to free); its length in
 * *ret_len (may be NULL).  The ARN is checked before any request. */
int ib_get_component(const char *arn, char **ret_data, size_t *ret_len, char **reterr_msg);

/* Fetches the document of arn into a new private folder (mode 0700)
 * under $TMPDIR (or /tmp), as NAME.yaml (mode 0600), and returns its
 * path.  Remove both with ib_temp_remove().  For documents: the caller
 * keeps showing the ARN, never the temporary path. */
int ib_fetch_component_temp(const char *arn, char **ret_path, char **reterr_msg);
/* Removes a file from ib_fetch_component_temp() and its folder, and
 * frees path.  Accepts NULL. */
void ib_temp_remove(char *path);
