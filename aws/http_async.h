/* http_async.h: the one HTTP transport driven by an sd-event loop instead
 * of blocking: requests (aws_http_request() as a job: the same request
 * loop, its pauses timer sources) and plain transfers (their rules are in
 * http.h), all on the client's one libcurl multi handle, with its sockets
 * and its timer bridged to sd_event_add_io() and sd_event_add_time()
 * (libsystemd reached through common/sdevent_dl.h; http_multi.c).
 * Several requests of one client may run at once on one loop.
 *
 * S3Download, S3Upload (through aws/s3.h) and WebDownload run here. */
#pragma once

#include <systemd/sd-event.h>

#include "http.h"

struct aws_http_job;

/* The end of a job: called exactly once, on the loop, never from within
 * aws_http_transfer_start().  *res is the transfer's result (free
 * with aws_http_transfer_result_done()); a cancelled job ends failed,
 * with `cancelled` set.  The job is freed after it returns. */
typedef void (*aws_http_job_done_fn)(void *userdata, struct aws_http_transfer_result *res, bool cancelled);

/* Starts one attempt of t on ev, on h's handle (h runs one job at a time
 * and must outlive it; t and its stream's userdata until done).  0 with
 * *ret_job, or -errno with a message and nothing started (done is never
 * called): -EBUSY (h runs a job), -EPROTONOSUPPORT (libcurl cannot be limited to
 * http and https), -EINVAL (libcurl refuses the URL), -ENOSYS (libsystemd
 * missing), -ENOMEM. */
int aws_http_transfer_start(struct aws_http *h, sd_event *ev, const struct aws_http_transfer *t,
                            aws_http_job_done_fn done, void *userdata, struct aws_http_job **ret_job,
                            char **reterr_msg);

/* Stops a started job as soon as it can; done follows, on the loop. */
void aws_http_job_cancel(struct aws_http_job *job);

/* ---- requests ---------------------------------------------------------------- */

struct aws_http_call;

/* The end of a request: called exactly once, on the loop, never from
 * within the start.  r is what aws_http_request() would return: 0 with
 * *resp filled (the callee may take it: copy the struct and zero it), or
 * -errno with a message in *msg (the callee may take it); -ECANCELED for
 * a cancelled request.  What is left is freed after it returns. */
typedef void (*aws_http_call_done_fn)(void *userdata, int r, struct aws_http_response *resp, char **msg);

/* aws_http_request() as a job on ev: the request loop of http_send.c,
 * signed with req->creds' provider.  req, and all it points to, stays
 * valid until done.  0 with *ret_call (may be NULL), or -errno with a
 * message and nothing started (done is never called). */
int aws_http_request_start(struct aws_http *h, sd_event *ev, const struct aws_http_request *req,
                           aws_http_call_done_fn done, void *userdata, struct aws_http_call **ret_call,
                           char **reterr_msg);
/* Stops a started request or fetch as soon as it can (its transfer or
 * its pause); done follows, on the loop (a request's with -ECANCELED). */
void aws_http_call_cancel(struct aws_http_call *call);

/* ---- plain transfers with a retry policy --------------------------------------
 * A plain transfer retried by the request loop (its attempts, the pause
 * between them a timer, the deadline bounding both), for a caller that
 * owns what each attempt's body becomes and so judges each attempt
 * itself (WebDownload: its checksum and placement). */

/* How the attempts go. */
struct aws_http_retry {
        int max_attempts;               /* in all, at least 1 */
        long delay_ms;                  /* the first pause; doubled after each, up to cap_ms; a random part
                                         * of up to half of it is taken off */
        long cap_ms;
};

struct aws_http_fetch {
        struct aws_http_transfer t;     /* its timeout_ms is begin's, per attempt */
        struct aws_http_retry retry;
        int64_t deadline_ms;            /* CLOCK_MONOTONIC ms, -1: none; a pause must end before it */
        /* Before attempt `attempt` (1-based): -1 to send it with
         * *timeout_ms (0: none), or the caller's outcome (>= 0) to end
         * the fetch with (AWS_FETCH_ENDED). */
        int (*begin)(void *userdata, int attempt, long *timeout_ms);
        /* After an attempt that libcurl ended (a cancelled one is not
         * judged; the callee may take *res): the caller's outcome (>= 0);
         * *retry asks for another
         * attempt, made while attempts and the deadline allow. */
        int (*end)(void *userdata, struct aws_http_transfer_result *res, bool *retry);
        /* Before each pause: the attempt that failed and the pause. */
        void (*pausing)(void *userdata, int attempt, long delay_ms);
        void *userdata;
};

enum aws_fetch_end {
        AWS_FETCH_ENDED,                /* outcome is the last begin's or end's */
        AWS_FETCH_NO_TIME,              /* end asked for a retry (outcome) the deadline leaves no time for */
        AWS_FETCH_CANCELLED,            /* aws_http_call_cancel() */
        AWS_FETCH_REFUSED,              /* a later attempt could not be sent: r and msg say why */
};

/* The end of a fetch: called exactly once, on the loop, never from
 * within the start.  last is the result of the attempt in flight when it
 * was cancelled (failed, "the transfer was cancelled"), else NULL; the
 * callee may take it. */
typedef void (*aws_http_fetch_done_fn)(void *userdata, enum aws_fetch_end end, int outcome, int r, const char *msg,
                                       struct aws_http_transfer_result *last);

/* Starts f on ev (f, its stream's userdata and its own userdata stay
 * valid until done).  0 with *ret_call (may be NULL), or -errno with a
 * message and nothing started, done never called: as
 * aws_http_transfer_start() for the first attempt (-EPROTONOSUPPORT,
 * -EINVAL, -ENOSYS, -ENOMEM).  aws_http_call_cancel() stops it. */
int aws_http_fetch_start(struct aws_http *h, sd_event *ev, const struct aws_http_fetch *f,
                         aws_http_fetch_done_fn done, void *userdata, struct aws_http_call **ret_call,
                         char **reterr_msg);

/* ---- blocking callers --------------------------------------------------------- */

/* The client's own loop, on which a blocking caller drives its jobs (so
 * that they are the same jobs): made at the first use, freed with h. */
int aws_http_own_loop(struct aws_http *h, sd_event **ret, char **reterr_msg);
/* Runs ev until *flag is true: 0, or a negative errno of the loop. */
int aws_http_run_until(sd_event *ev, const bool *flag);
