/* http_transport.h: the libcurl side of the one HTTP transport, shared by
 * the request loop (http_send.c), plain transfers (http_async.c) and the
 * client's multi handle on an event loop (http_multi.c), and nothing
 * outside aws/http*.c: the client, the state of one attempt, and the
 * options of a request. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "curl_dl.h"
#include "http.h"
#include "strbuf.h"

/* Easy handles kept for the next attempts (their connections stay in the
 * multi handle's cache either way). */
#define HTTP_MAX_IDLE_EASY 17
/* Sockets libcurl may watch at once on one client. */
#define HTTP_MAX_SOCKETS 64

struct http_socket {
        curl_socket_t fd;
        sd_event_source *src;
};

struct aws_http {
        const struct curl_api *api;
        /* http_multi.c: the one multi handle, bound to the loop of the
         * transfers running on it (the client's own for blocking callers) */
        CURLM *multi;
        sd_event *ev;
        sd_event *own_ev;
        sd_event_source *timer;
        struct http_socket socks[HTTP_MAX_SOCKETS];
        size_t n_socks;
        unsigned active;                /* easy handles on the multi handle */
        CURL *idle[HTTP_MAX_IDLE_EASY];
        size_t n_idle;
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
        bool plain_busy;   /* a plain transfer (http_async.c) runs: one at a time */
};

/* http_multi.c: one transfer on the client's multi handle. */
struct http_running {
        CURL *easy;
        /* libcurl ended the transfer with c (the handle is off the multi
         * handle again); called from the loop, outside libcurl. */
        void (*done)(struct http_running *t, CURLcode c);
        bool added;
};

/* An easy handle for one attempt (reset by the options): an idle one or a
 * new one; NULL when libcurl cannot make one. */
CURL *http_easy_take(struct aws_http *h);
/* Hands an easy handle back (kept idle, or freed). */
void http_easy_give(struct aws_http *h, CURL *e);
/* Adds t->easy to h's multi handle on ev (binding the multi handle to ev
 * when nothing runs on it): 0, -EBUSY (transfers of another loop run),
 * -ENOSYS (no libsystemd) or -ENOMEM, with a message. */
int http_multi_add(struct aws_http *h, sd_event *ev, struct http_running *t, char **reterr_msg);
/* Takes t off the multi handle before libcurl ended it (done is not called). */
void http_multi_remove(struct aws_http *h, struct http_running *t);
/* Frees the multi handle, its sources, the idle handles and the own loop. */
void http_multi_done(struct aws_http *h);


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
        CURL *easy;             /* the handle the attempt runs on */
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

/* Frees the names and values of n headers (not the array). */
void http_headers_free(struct aws_http_header *h, size_t n);
void http_xfer_reset_headers(struct http_xfer *x);
void http_xfer_done(struct http_xfer *x);
/* The first header of the attempt's response called name, or NULL. */
const char *http_xfer_header(const struct http_xfer *x, const char *name);

/* Sets every option of one attempt of req at url on h's handle: 0,
 * -EPROTONOSUPPORT (libcurl cannot be limited to http and https) or
 * -EINVAL (it refuses the URL). */
int http_set_request_options(struct aws_http *h, CURL *c, const struct aws_http_request *req, const char *url,
                             struct http_xfer *x, struct curl_slist *hl, long timeout_ms, char *errbuf);

/* A plain transfer in two halves, for whoever performs it (the multi
 * handle on an event loop: http_async.c): the options of t on the easy
 * handle c (0, -EPROTONOSUPPORT or -EINVAL), then, once libcurl ended
 * it with c, the result (errbuf as set by the first half). */
int http_transfer_prepare(struct aws_http *h, CURL *c, const struct aws_http_transfer *t, struct http_xfer *x,
                          char *errbuf);
void http_transfer_finish(struct aws_http *h, const struct http_xfer *x, CURLcode c, const char *errbuf,
                          struct aws_http_transfer_result *ret);
