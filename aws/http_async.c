/* http_async.c: a plain transfer on an sd-event loop (http_async.h): one
 * easy handle on the client's multi handle (http_multi.c), and a defer
 * source that ends the job (so done never runs inside libcurl, inside
 * start, or inside cancel). */
#include "http_async.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "errmsg.h"
#include "http_transport.h"
#include "sdevent_dl.h"

struct aws_http_job {
        struct aws_http *h;
        struct http_running run;
        struct http_xfer x;
        char errbuf[CURL_ERROR_SIZE];
        sd_event_source *end;           /* the defer source that finishes the job */
        aws_http_job_done_fn done;
        void *userdata;
        CURLcode code;
        bool ended;                     /* libcurl is done with the transfer, or it was cancelled */
        bool cancelled;
};

static void job_schedule_end(struct aws_http_job *j)
{
        if (!j->ended) {
                j->ended = true;
                sdev->source_set_enabled(j->end, SD_EVENT_ONESHOT);
        }
}

static void on_transfer_done(struct http_running *t, CURLcode c)
{
        struct aws_http_job *j = (struct aws_http_job *)((char *)t - offsetof(struct aws_http_job, run));

        j->code = c;
        job_schedule_end(j);
}

static void job_free(struct aws_http_job *j)
{
        http_multi_remove(j->h, &j->run);
        http_easy_give(j->h, j->run.easy);
        if (j->end)
                sdev->source_unref(j->end);
        http_xfer_done(&j->x);
        j->h->plain_busy = false;
        free(j);
}

static int on_end(sd_event_source *s, void *userdata)
{
        struct aws_http_job *j = userdata;
        struct aws_http_transfer_result res;

        (void)s;
        /* Off the multi handle first: the result is read from a stopped transfer. */
        http_multi_remove(j->h, &j->run);
        http_transfer_finish(j->h, &j->x, j->cancelled ? CURLE_ABORTED_BY_CALLBACK : j->code, j->errbuf, &res);
        if (j->cancelled) {
                free(res.reason);
                res.reason = xstrdup("the transfer was cancelled");
                res.failed = true;
                res.transient = false;
                res.timed_out = false;
        }
        aws_http_job_done_fn done = j->done;
        void *userdata2 = j->userdata;
        bool cancelled = j->cancelled;
        job_free(j);
        done(userdata2, &res, cancelled);
        return 0;
}

int aws_http_transfer_start(struct aws_http *h, sd_event *ev, const struct aws_http_transfer *t,
                            aws_http_job_done_fn done, void *userdata, struct aws_http_job **ret_job,
                            char **reterr_msg)
{
        struct aws_http_job *j;
        int r = sdev_load(reterr_msg);

        if (r < 0)
                return r;
        if (h->plain_busy)
                return errmsg_set(reterr_msg, -EBUSY, "the HTTP client is running a transfer already");
        j = xcalloc(1, sizeof *j);
        j->h = h;
        j->done = done;
        j->userdata = userdata;
        j->run.done = on_transfer_done;
        j->run.easy = http_easy_take(h);
        if (!j->run.easy) {
                free(j);
                return errmsg_set(reterr_msg, -ENOMEM, "libcurl cannot create a handle");
        }
        r = http_transfer_prepare(h, j->run.easy, t, &j->x, j->errbuf);
        if (r < 0) {
                http_easy_give(h, j->run.easy);
                free(j);
                return errmsg_set(reterr_msg, r, r == -EPROTONOSUPPORT
                                  ? "libcurl cannot be limited to http and https"
                                  : "libcurl refused the URL");
        }
        h->plain_busy = true;
        if (sdev->add_defer(ev, &j->end, on_end, j) < 0 || sdev->source_set_enabled(j->end, SD_EVENT_OFF) < 0) {
                job_free(j);
                return errmsg_set(reterr_msg, -ENOMEM, "cannot add event sources for the transfer");
        }
        r = http_multi_add(h, ev, &j->run, reterr_msg);
        if (r < 0) {
                job_free(j);
                return r;
        }
        *ret_job = j;
        return 0;
}

void aws_http_job_cancel(struct aws_http_job *job)
{
        if (!job || job->ended)
                return;
        job->cancelled = true;
        job_schedule_end(job);
}
