/* sigv4.h: AWS Signature Version 4 for requests sent in one piece (the
 * Authorization header form, not presigned URLs or aws-chunked uploads).
 *
 * The request model takes the path and query exactly as they go on the
 * wire (percent-encoded, as in the request line).  From it sigv4_sign()
 * builds every stage AWS defines, so each can be compared with the test
 * suite: the canonical request, the string to sign, the signature and the
 * Authorization header.
 *
 * Two sets of rules:
 *   - default (every service but S3): the path is normalised (`.`, `..`
 *     and empty segments removed) and encoded again, so `%` becomes `%25`
 *     ("encoded twice" relative to the unencoded name);
 *   - SIGV4_S3: the path is not normalised and is encoded exactly once:
 *     `%XX` sequences are kept (upper-cased), anything else outside the
 *     unreserved set is encoded.  x-amz-content-sha256 is added and signed.
 *
 * Every input is bounded (SIGV4_MAX_*); anything malformed or over a bound
 * makes the functions return -EINVAL with a message, never crash. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define SIGV4_MAX_HEADERS 64        /* header lines, with continuation lines joined */
#define SIGV4_MAX_NAME_LEN 128      /* header name */
#define SIGV4_MAX_VALUE_LEN 16384   /* header value, continuation lines included */
#define SIGV4_MAX_PATH_LEN 16384    /* path as on the wire */
#define SIGV4_MAX_QUERY_LEN 16384   /* query string as on the wire */
#define SIGV4_MAX_QUERY_PARAMS 256
#define SIGV4_MAX_REQUEST_LEN (1024 * 1024) /* whole text given to sigv4_parse_request() */

/* "UNSIGNED-PAYLOAD": the payload hash for a body that is not hashed. */
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

struct sigv4_header {
        const char *name;  /* any case */
        const char *value; /* may hold folded lines ("a\n  b"); repeated names are allowed */
};

struct sigv4_request {
        const char *method;      /* "GET", "PUT", ... */
        const char *path;        /* wire form, starts with '/'; NULL or "" means "/" */
        const char *query;       /* wire form, without '?'; NULL or "" for none */
        const struct sigv4_header *headers;
        size_t n_headers;
        const char *host;        /* added as `host` when no Host header is given */
        const void *payload;     /* the body; hashed unless a hash is known */
        size_t payload_len;
        const char *payload_hash; /* hex SHA-256 of the body, or SIGV4_UNSIGNED_PAYLOAD; NULL to hash payload */
};

struct sigv4_credentials {
        const char *access_key;
        const char *secret_key;
        const char *session_token; /* NULL for long-term keys */
};

enum {
        /* S3's rules: path encoded once, not normalised; x-amz-content-sha256. */
        SIGV4_S3 = 1 << 0,
        /* The payload is not hashed: its hash is UNSIGNED-PAYLOAD. */
        SIGV4_UNSIGNED = 1 << 1,
        /* Add x-amz-content-sha256 outside S3 too. */
        SIGV4_CONTENT_SHA256 = 1 << 2,
        /* The session token header is added after signing and not signed
         * (the suite's post-sts-header-after); by default it is signed
         * (post-sts-header-before), which every service accepts. */
        SIGV4_TOKEN_AFTER = 1 << 3,
};

struct sigv4_params {
        const char *region;   /* "us-east-1" */
        const char *service;  /* "s3", "logs", ... */
        const char *amz_date; /* "YYYYMMDDTHHMMSSZ" (UTC) */
        unsigned flags;       /* SIGV4_* */
};

/* A header the caller must add to the request it sends. */
struct sigv4_added_header {
        const char *name; /* static: "Host", "X-Amz-Date", ... */
        char *value;
};

struct sigv4_result {
        char *canonical_request;
        char *string_to_sign;
        char *signed_headers;  /* "host;x-amz-date" */
        char *authorization;   /* the Authorization header's value */
        char signature[65];    /* lower-case hex */
        /* Headers the request lacked, in the order to send them: Host,
         * X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token, then
         * Authorization last. */
        struct sigv4_added_header added[5];
        size_t n_added;
};

/* Signs req.  On success fills *ret (free with sigv4_result_done()) and
 * returns 0.  On failure returns -EINVAL (bad input), -ENOSYS (no
 * libcrypto) or -EIO, leaves *ret untouched and, when reterr_msg is not
 * NULL, stores a message there for the caller to free. */
int sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *cred,
               const struct sigv4_params *params, struct sigv4_result *ret, char **reterr_msg);
void sigv4_result_done(struct sigv4_result *r);
/* The checks sigv4_sign() makes on credentials and parameters alone
 * (the part of a failure that is the caller's, not the request's). */
int sigv4_check_params(const struct sigv4_credentials *cred, const struct sigv4_params *params, char **reterr_msg);

/* The pieces, for tests and for callers that build URLs. */

/* The canonical URI of a wire-form path under the default or the S3
 * rules. */
int sigv4_canonical_uri(const char *path, bool s3, char **ret, char **reterr_msg);
/* The canonical query string of a wire-form query string: parameters
 * encoded once (existing %XX kept, `+` taken literally as %2B), a missing
 * value becomes empty, sorted by key and then value. */
int sigv4_canonical_query(const char *query, char **ret, char **reterr_msg);
/* RFC 3986 encoding of raw bytes (an S3 key, a query value): everything
 * but A-Z a-z 0-9 - . _ ~ becomes %XX, and '/' too unless keep_slash.
 * The result is the wire form to put in a URL and to give sigv4_sign(). */
char *sigv4_uri_encode(const char *s, size_t len, bool keep_slash);
/* The signing key: the HMAC-SHA256 chain over date (YYYYMMDD), region,
 * service and "aws4_request", starting from "AWS4" + secret. */
int sigv4_signing_key(const char *secret_key, const char *date, const char *region, const char *service,
                      unsigned char ret_key[32]);

/* A raw HTTP/1.x request as text (the suite's .req files): request line,
 * header lines (continuation lines starting with a space or tab fold into
 * the previous header), an empty line, and the body.  Lines end in LF or
 * CRLF; the last one may lack its end. */
struct sigv4_parsed_request {
        struct sigv4_request req; /* points into buf and headers */
        struct sigv4_header *headers;
        char *buf;
};

int sigv4_parse_request(const char *text, size_t len, struct sigv4_parsed_request *ret, char **reterr_msg);
void sigv4_parsed_request_done(struct sigv4_parsed_request *p);
