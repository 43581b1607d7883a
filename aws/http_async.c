/* http_async.c: a plain transfer on an sd-event loop (http_async.h): ONE
 * attempt, as a fetch of the request loop (http_send.c) with a policy of
 * one attempt, so that done never runs inside libcurl, inside start, or
 * inside cancel, and the client runs one such job at a time. */
#include "http_async.h"

#include <errno.h>
#include <stdlib.h>

#include "errmsg.h"
#include "http_transport.h"

struct aws_http_job {
        struct aws_http *h;
        struct aws_http_fetch f;
        struct aws_http_call *call;
        struct aws_http_transfer_result res;
        aws_http_job_done_fn done;
        void *userdata;
};

static int job_begin(void *userdata, int attempt, long *timeout_ms)
{
        struct aws_http_job *j = userdata;

        (void)attempt;
        *timeout_ms = j->f.t.timeout_ms;
        return -1;
}

static int job_end(void *userdata, struct aws_http_transfer_result *res, bool *retry)
{
        struct aws_http_job *j = userdata;

        j->res = *res;
        *res = (struct aws_http_transfer_result){ .declared = -1 };
        *retry = false;
        return 0;
}

static void job_done(void *userdata, enum aws_fetch_end end, int outcome, int r, const char *msg,
                     struct aws_http_transfer_result *stopped)
{
        struct aws_http_job *j = userdata;
        bool cancelled = end == AWS_FETCH_CANCELLED;
        aws_http_job_done_fn done = j->done;
        void *ud = j->userdata;
        struct aws_http_transfer_result res = j->res;

        (void)outcome;
        (void)r;
        (void)msg;
        if (cancelled && stopped) {
                res = *stopped;
                *stopped = (struct aws_http_transfer_result){ .declared = -1 };
        } else if (cancelled) {
                res = (struct aws_http_transfer_result){
                        .failed = true, .reason = xstrdup("the transfer was cancelled"), .declared = -1,
                };
        }
        j->h->plain_busy = false;
        free(j);
        done(ud, &res, cancelled);
}

int aws_http_transfer_start(struct aws_http *h, sd_event *ev, const struct aws_http_transfer *t,
                            aws_http_job_done_fn done, void *userdata, struct aws_http_job **ret_job,
                            char **reterr_msg)
{
        struct aws_http_job *j;
        int r;

        if (h->plain_busy)
                return errmsg_set(reterr_msg, -EBUSY, "the HTTP client is running a transfer already");
        j = xcalloc(1, sizeof *j);
        *j = (struct aws_http_job){
                .h = h,
                .f = { .t = *t, .retry = { .max_attempts = 1 }, .deadline_ms = -1, .begin = job_begin,
                       .end = job_end, .userdata = j },
                .res = { .declared = -1 },
                .done = done,
                .userdata = userdata,
        };
        r = aws_http_fetch_start(h, ev, &j->f, job_done, j, &j->call, reterr_msg);
        if (r < 0) {
                free(j);
                return r;
        }
        h->plain_busy = true;
        *ret_job = j;
        return 0;
}

void aws_http_job_cancel(struct aws_http_job *job)
{
        if (job)
                aws_http_call_cancel(job->call);
}
