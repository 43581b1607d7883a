/* http_send.h: the request loop of the one HTTP transport, below the
 * credential provider: it signs with whatever credentials its source
 * gives, so that the provider's own requests (IMDS, unsigned) can go
 * through it too without a circle.  aws_http_request() (http.h) is this
 * loop with the provider of the request as the source. */
#pragma once

#include <stdint.h>

#include "http.h"
#include "http_async.h"
#include "sigv4.h"

/* Where the loop gets the credentials of a signed request, before every
 * attempt (so rotated ones are picked up between retries). */
struct aws_http_cred_source {
        /* 0 with *ret filled (the strings stay valid until the next call),
         * or -errno with a message (to free). */
        int (*get)(void *userdata, int64_t deadline_ms, struct sigv4_credentials *ret, char **reterr_msg);
        /* Drops cached credentials: the server said they expired. */
        void (*invalidate)(void *userdata);
        void *userdata;
};

/* aws_http_request() with the credentials of `creds` (NULL for an
 * unsigned request: a request with a service then fails with -ENOKEY);
 * req->creds is only checked to be set when req->service is. */
int aws_http_send(struct aws_http *h, const struct aws_http_request *req, const struct aws_http_cred_source *creds,
                  struct aws_http_response *ret, char **reterr_msg);

/* The same loop as a job on ev (http_async.h's rules); creds, when not
 * NULL, is copied. */
int aws_http_send_start(struct aws_http *h, sd_event *ev, const struct aws_http_request *req,
                        const struct aws_http_cred_source *creds, aws_http_call_done_fn done, void *userdata,
                        struct aws_http_call **ret_call, char **reterr_msg);
