/* http.h: the one HTTP client of the AWS layer and of WebDownload.  Every request to an AWS
 * service (S3, CloudWatch Logs, ...) and to IMDS goes through
 * aws_http_request(), which owns transport (libcurl, reached only through
 * common/curl_dl.h), SigV4 signing (aws/sigv4.h), retries and error
 * parsing, so the service code above it only builds requests and reads
 * responses.
 *
 * What one call does:
 *   - builds the URL from an endpoint (see aws_endpoint_resolve()), a path
 *     and a query, all in wire form (percent-encoded);
 *   - signs the request with SigV4 on EVERY attempt, with a fresh date and
 *     credentials fetched from the provider each time (so rotated
 *     credentials are picked up between retries);
 *   - retries, with jittered exponential backoff, connection errors,
 *     timeouts, HTTP 5xx, 429 and the throttling and transient error codes
 *     of AWS JSON and S3 XML (Throttling, ThrottlingException, SlowDown,
 *     RequestLimitExceeded, RequestTimeout, ...);
 *   - corrects clock skew: on RequestTimeTooSkewed, RequestExpired,
 *     InvalidSignatureException ("Signature expired"), SignatureDoesNotMatch
 *     or AuthFailure with a server Date more than a minute away from the
 *     signing time, the offset is remembered in struct aws_http, applied to
 *     this and every later signature, and the request re-signed and retried
 *     at once;
 *   - on ExpiredToken/ExpiredTokenException, drops the provider's cached
 *     credentials and retries once with fresh ones;
 *   - parses error bodies of both shapes (S3 XML <Code>/<Message>, AWS JSON
 *     __type/message) into error_code and error_message.
 *
 * Transport rules, not negotiable by callers: TLS peer and host
 * verification on, protocols limited to http and https (redirects too),
 * redirects not followed unless the request asks, no "Expect:
 * 100-continue".  Memory is bounded: response bodies kept in memory stop at
 * a bound, headers at AWS_HTTP_MAX_HEADERS.
 *
 * Tunables, read from the environment by aws_http_new() (whole numbers; a
 * value missing or out of range gives the default):
 *   OPENTOE_AWS_MAX_ATTEMPTS         attempts per request, 5 (1-20)
 *   OPENTOE_AWS_BACKOFF_MS           first backoff pause, 100 ms; doubles
 *                                    per attempt; the pause is a random
 *                                    value between half of it and all of it
 *   OPENTOE_AWS_BACKOFF_CAP_MS       longest pause, 20000 ms
 *   OPENTOE_AWS_CONNECT_TIMEOUT_MS   TCP and TLS connect, 10000 ms
 *   OPENTOE_AWS_LOW_SPEED_TIME       seconds below the low-speed limit after
 *                                    which an attempt is abandoned, 30
 *   OPENTOE_AWS_LOW_SPEED_LIMIT      bytes per second, 1 (libcurl averages
 *                                    over about 5 s, so a stall right after
 *                                    a small request is noticed after about
 *                                    LOW_SPEED_TIME + 5 s)
 * AWS_CA_BUNDLE (as in the SDKs) names a PEM file of CA certificates to
 * trust instead of the system's, for S3-compatible stores with a private
 * CA; verification itself cannot be turned off.  The proxy variables
 * libcurl knows (https_proxy, no_proxy, ...) apply, except to requests
 * with no_proxy set (IMDS).
 *
 * Not thread-safe: one struct aws_http per thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "awstime.h"   /* aws_now_ms(), aws_time_parse() */
#include "endpoint.h"  /* aws_endpoint_resolve(), aws_endpoint_set_default() */

struct aws_cred_provider;

/* Bounds. */
#define AWS_HTTP_MAX_HEADERS 64              /* response headers kept */
#define AWS_HTTP_MAX_HEADER_BYTES (32 * 1024) /* their total size */
#define AWS_HTTP_DEFAULT_MAX_BODY (1024 * 1024) /* 2xx body kept in memory */
#define AWS_HTTP_ERROR_BODY_MAX (64 * 1024)  /* non-2xx body kept (the rest dropped) */

struct aws_http_header {
        const char *name;
        const char *value;
};

/* The AWS JSON 1.1 content type (E.2). */
#define AWS_JSON_CONTENT_TYPE "application/x-amz-json-1.1"

struct aws_http_request {
        const char *method;             /* "GET", "PUT", "POST", "HEAD", "DELETE" */
        const char *endpoint;           /* "https://host[:port][/base]", from aws_endpoint_resolve() */
        const char *path;               /* wire form, starts with '/'; NULL means "/" */
        const char *query;              /* wire form without '?'; NULL or "" for none */
        const struct aws_http_header *headers; /* sent and (when signed) signed; no Host */
        size_t n_headers;

        /* The body: body_len bytes from memory (body), or, with
         * body_from_fd, body_len bytes of body_fd from body_offset, read
         * with pread() (the descriptor's own offset is neither used nor
         * moved): a PUT streams a file region this way. */
        const void *body;
        size_t body_len;
        bool body_from_fd;
        int body_fd;
        off_t body_offset;
        /* Lower-case hex SHA-256 of the body, or SIGV4_UNSIGNED_PAYLOAD;
         * NULL: computed here (for an fd body by reading the range once). */
        const char *payload_hash;

        /* Signing.  service NULL: the request is not signed (IMDS). */
        const char *service;            /* signing name: "s3", "logs" */
        const char *region;
        unsigned sigv4_flags;           /* SIGV4_S3, SIGV4_UNSIGNED, ... (aws/sigv4.h) */
        struct aws_cred_provider *creds; /* required when service is set */

        /* The body of a 2xx answer goes to memory, up to max_body bytes
         * (0: AWS_HTTP_DEFAULT_MAX_BODY; more fails the request with
         * -EFBIG), or, with body_to_fd, to out_fd from its current offset
         * (a download).  A retry rewrites a seekable out_fd from that
         * offset and truncates anything an earlier attempt left beyond
         * the end; a non-seekable one is not retried once bytes were
         * written.  Error bodies always go to memory, capped at
         * AWS_HTTP_ERROR_BODY_MAX. */
        size_t max_body;
        bool body_to_fd;
        int out_fd;

        int64_t deadline_ms;            /* CLOCK_MONOTONIC ms (aws_now_ms()), -1 for none;
                                         * bounds every attempt and every pause */
        /* Per-request overrides of the tunables; 0 keeps the client's. */
        int max_attempts;
        long connect_timeout_ms;
        long attempt_timeout_ms;        /* whole attempt, 0 none (IMDS uses it) */
        bool no_proxy;                  /* never go through a proxy (IMDS) */
        bool follow_redirects;          /* only sensible for unsigned requests */

        /* Called before each pause with a one-line reason ("attempt 1 of 5
         * failed: HTTP 503 SlowDown: ...; retrying in 0.2 s"), so the
         * agent can log it.  May be NULL. */
        void (*notice)(void *userdata, const char *msg);
        void *userdata;
};

struct aws_http_response {
        long status;                    /* of the final attempt */
        char *body;                     /* NUL-terminated (never NULL) unless streamed */
        size_t body_len;
        uint64_t bytes_streamed;        /* 2xx body bytes written to out_fd */
        char *error_code;               /* non-2xx: "NoSuchKey", "ThrottlingException"; or NULL */
        char *error_message;            /* or NULL */
        char *request_id;               /* x-amz-request-id / x-amzn-RequestId, or NULL */
        int attempts;                   /* attempts made, >= 1 */
        struct aws_http_header *headers; /* of the final response, as received */
        size_t n_headers;
};

struct aws_http;

/* A client: one libcurl handle (connections are reused between requests),
 * the tunables read from the environment and the clock offset learnt from
 * skew errors.  Returns NULL with a message (to free) when libcurl cannot
 * be loaded; the message names the package to install. */
struct aws_http *aws_http_new(char **reterr_msg);
/* Accepts NULL; returns NULL. */
struct aws_http *aws_http_free(struct aws_http *h);

/* Sends req.  Returns 0 when a final HTTP response arrived, WHATEVER ITS
 * STATUS (a 404 or a 403 is data; so is a 503 on which retries gave up:
 * ret->attempts tells), and fills *ret (free with aws_http_response_done();
 * aws_http_status_error() turns a non-2xx one into -errno and a message).
 * Returns -errno, *ret untouched and a message in *reterr_msg (to free)
 * when there is no response to give:
 *   -EINVAL    a malformed request or endpoint
 *   -ETIMEDOUT the deadline passed, or every attempt timed out
 *   -ECONNREFUSED, -EHOSTUNREACH, -EIO  transport failures, retries spent
 *   -EFBIG     a 2xx body longer than max_body
 *   -ENOKEY    no credentials (the provider's message says why)
 *   -ENOSYS    libcurl or libcrypto missing
 *   other      -errno of reading body_fd or writing out_fd. */
int aws_http_request(struct aws_http *h, const struct aws_http_request *req, struct aws_http_response *ret,
                     char **reterr_msg);
void aws_http_response_done(struct aws_http_response *r);

/* The first response header called name (any case), or NULL. */
const char *aws_http_response_header(const struct aws_http_response *r, const char *name);

/* 0 for a 2xx response.  Otherwise a -errno (404 -ENOENT, 401/403 -EACCES,
 * 400 and other 4xx -EINVAL, 429/503 and throttling codes -EBUSY, other
 * -EIO) and a message like "HTTP 404 NoSuchKey: The specified key does
 * not exist. (request id X)", with "; gave up after 5 attempts" when
 * retries were spent. */
int aws_http_status_error(const struct aws_http_response *r, char **reterr_msg);

/* ---- plain transfers --------------------------------------------------------
 * A plain transfer (aws_http_transfer_start() in http_async.h, on an
 * event loop) makes ONE unsigned attempt at a URL exactly as given
 * (any http or https URL, user:password included), on the same libcurl
 * handle as aws_http_request(), for a caller that owns its retry policy
 * and what the body becomes (WebDownload).  Its rules:
 *   - redirects are followed, at most OPENTOE_HTTP_MAX_REDIRS of them, and
 *     only to http or https;
 *   - a connection serves one transfer (each hop of a redirect is one):
 *     libcurl reads a body only up to its Content-Length and leaves what
 *     a server sends past it on the connection, where the next request on
 *     it would take it for its response;
 *   - the body is framed by libcurl (Content-Length, or the chunks of a
 *     Transfer-Encoding) and in addition held to the Content-Length header
 *     of its response: the transport never hands over a byte past the
 *     declared length, and reports the excess instead;
 *   - nothing of a body reaches the caller before it accepted the
 *     response (the stream's on_headers, at the end of each response's
 *     headers: a 100, a followed redirect and the final answer);
 *   - TLS verification is on unless the transfer says `insecure`
 *     (WebDownload's ignoreCertificateErrors); AWS_CA_BUNDLE does not
 *     apply; the proxy variables libcurl knows do.
 * Its tunables, read by aws_http_new() (whole numbers; missing or out of
 * range gives the default):
 *   OPENTOE_HTTP_CONNECT_TIMEOUT    seconds to connect (TCP and TLS), 30
 *   OPENTOE_HTTP_LOW_SPEED_TIME     seconds below the low-speed limit after
 *                                   which a transfer is abandoned, 60
 *   OPENTOE_HTTP_LOW_SPEED_LIMIT    bytes per second, 1024
 *   OPENTOE_HTTP_MAX_REDIRS         redirects followed, 10 (0-100) */

/* Where the body of a plain transfer goes. */
struct aws_http_stream {
        /* The end of a response's headers, while no response was accepted
         * (and, for a body that comes without one, its first piece):
         * `declared` is the length the response declares, -1 for none.
         * 1 accepts this response's body; 0 does not (a piece of its body
         * then ends the transfer, reported as refused_status); -1 ends the
         * transfer (the caller knows why). */
        int (*on_headers)(void *userdata, long status, int64_t declared);
        /* A piece of the accepted body, within the declared length.  0
         * goes on, -1 ends the transfer (the caller knows why). */
        int (*on_body)(void *userdata, const char *p, size_t n);
        void *userdata;
};

struct aws_http_transfer {
        const char *url;
        bool insecure;                  /* no TLS peer and host verification */
        long buffer_size;               /* libcurl's receive buffer; 0: its default */
        long timeout_ms;                /* the whole attempt; 0: none */
        struct aws_http_stream stream;
};

struct aws_http_transfer_result {
        bool failed;                    /* the transfer did not complete: */
        bool transient;                 /*   of a kind worth another attempt */
        bool timed_out;                 /*   libcurl's timeout (timeout_ms, low speed, connect) */
        bool protocol_refused;          /*   a redirect to something other than http or https */
        char *reason;                   /*   libcurl's words, without a final newline */
        long status;                    /* of the last response, 0 for none */
        long refused_status;            /* a response whose body was not accepted, or 0 */
        long redirects;                 /* redirects followed */
        char *effective_url;            /* the URL libcurl ended at (as given, or redirected), or NULL */
        bool excess;                    /* the body ran past its declared length */
        int64_t declared;               /* the accepted (else the last) response's declared length, -1: none */
        uint64_t bytes;                 /* body bytes handed to on_body */
};

/* Frees what a transfer's result holds. */
void aws_http_transfer_result_done(struct aws_http_transfer_result *r);

/* The clock offset (seconds, server minus local) this client learnt from
 * skew errors and applies to signatures; 0 until then. */
long aws_http_clock_offset(const struct aws_http *h);
