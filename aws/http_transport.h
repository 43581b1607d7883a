/* http_transport.h: the libcurl side of the one HTTP transport, shared by
 * the request loop (http_send.c) and nothing outside aws/http*.c: the
 * client, the state of one attempt, and the options of a request. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "curl_dl.h"
#include "http.h"
#include "strbuf.h"

struct aws_http {
        const struct curl_api *api;
        CURL *curl;
        int max_attempts;
        long backoff_ms;
        long backoff_cap_ms;
        long connect_timeout_ms;
        long low_speed_time_s;
        long low_speed_limit;
        long clock_offset; /* seconds: server minus local */
        char *ca_bundle;   /* AWS_CA_BUNDLE, or NULL for the system's */
        /* plain transfers: OPENTOE_HTTP_* */
        long web_connect_timeout_s;
        long web_low_speed_time_s;
        long web_low_speed_limit;
        long web_max_redirs;
        bool busy;         /* an asynchronous job (http_async.c) holds the handle */
};


/* State of one attempt, shared with libcurl's callbacks. */
struct http_xfer {
        /* request body */
        const char *mem;
        bool from_fd;
        int in_fd;
        off_t in_off;
        size_t in_len, in_pos;
        int read_err;
        /* response */
        long status;
        struct aws_http_header hdrs[AWS_HTTP_MAX_HEADERS];
        size_t n_hdrs, hdr_bytes;
        struct strbuf body;
        size_t body_max;
        bool too_big;
        bool to_fd;
        int out_fd;
        bool out_seekable;
        off_t out_start;
        uint64_t streamed;
        int write_err;
        /* a plain transfer (http_async.c) */
        const struct aws_http_stream *stream;
        const struct aws_http *h;
        int64_t header_length;  /* Content-Length header of the latest response, -1: none */
        int64_t declared;       /* the accepted response's declared length, -1: none */
        uint64_t bytes;         /* body bytes handed to the stream */
        long refused_status;
        bool started;           /* accept answered other than 0 */
        bool excess;
};

void http_xfer_reset_headers(struct http_xfer *x);
void http_xfer_done(struct http_xfer *x);
/* The first header of the attempt's response called name, or NULL. */
const char *http_xfer_header(const struct http_xfer *x, const char *name);

/* Sets every option of one attempt of req at url on h's handle: 0,
 * -EPROTONOSUPPORT (libcurl cannot be limited to http and https) or
 * -EINVAL (it refuses the URL). */
int http_set_request_options(struct aws_http *h, const struct aws_http_request *req, const char *url,
                             struct http_xfer *x, struct curl_slist *hl, long timeout_ms, char *errbuf);

/* A plain transfer in two halves, for whoever performs it (easy_perform,
 * or a multi handle on an event loop: http_async.c): the options of t on
 * h's handle (0, -EPROTONOSUPPORT or -EINVAL), then, once libcurl ended
 * it with c, the result (errbuf as set by the first half). */
int http_transfer_prepare(struct aws_http *h, const struct aws_http_transfer *t, struct http_xfer *x, char *errbuf);
void http_transfer_finish(struct aws_http *h, const struct http_xfer *x, CURLcode c, const char *errbuf,
                          struct aws_http_transfer_result *ret);
