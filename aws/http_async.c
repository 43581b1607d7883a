/* http_async.c: a plain transfer on an sd-event loop (http_async.h): one
 * multi handle per job holding the client's easy handle, CURLMOPT_
 * SOCKETFUNCTION mapped to one io source per socket, CURLMOPT_
 * TIMERFUNCTION to one time source, and a defer source that ends the job
 * (so done never runs inside libcurl, inside start, or inside cancel). */
#include "http_async.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>

#include "errmsg.h"
#include "http_transport.h"
#include "sdevent_dl.h"

struct aws_http_job {
        struct aws_http *h;
        const struct sdev_api *sd;
        sd_event *ev;
        CURLM *multi;
        struct http_xfer x;
        char errbuf[CURL_ERROR_SIZE];
        sd_event_source *timer;
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
                j->sd->source_set_enabled(j->end, SD_EVENT_ONESHOT);
        }
}

static void job_check(struct aws_http_job *j)
{
        CURLMsg *m;
        int left;

        while ((m = j->h->api->multi_info_read(j->multi, &left)))
                if (m->msg == CURLMSG_DONE) {
                        j->code = m->data.result;
                        job_schedule_end(j);
                }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct aws_http_job *j = userdata;
        int flags = 0, running;

        (void)s;
        if (revents & EPOLLIN)
                flags |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                flags |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                flags |= CURL_CSELECT_ERR;
        if (!j->ended) {
                j->h->api->multi_socket_action(j->multi, fd, flags, &running);
                job_check(j);
        }
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct aws_http_job *j = userdata;
        int running;

        (void)s;
        (void)usec;
        if (!j->ended) {
                j->h->api->multi_socket_action(j->multi, CURL_SOCKET_TIMEOUT, 0, &running);
                job_check(j);
        }
        return 0;
}

/* CURLMOPT_SOCKETFUNCTION: what libcurl wants to hear about a socket. */
static int socket_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
        struct aws_http_job *j = userp;
        sd_event_source *src = socketp;
        uint32_t events = 0;

        (void)e;
        if (what == CURL_POLL_REMOVE) {
                if (src)
                        j->sd->source_unref(src);
                j->h->api->multi_assign(j->multi, fd, NULL);
                return 0;
        }
        if (what & CURL_POLL_IN)
                events |= EPOLLIN;
        if (what & CURL_POLL_OUT)
                events |= EPOLLOUT;
        if (src)
                return j->sd->source_set_io_events(src, events) < 0 ? -1 : 0;
        if (j->sd->add_io(j->ev, &src, fd, events, on_io, j) < 0)
                return -1;
        j->h->api->multi_assign(j->multi, fd, src);
        return 0;
}

/* CURLMOPT_TIMERFUNCTION: one timer, re-armed or disarmed. */
static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
        struct aws_http_job *j = userp;
        uint64_t now = 0;

        (void)m;
        if (timeout_ms < 0)
                return j->sd->source_set_enabled(j->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        if (j->sd->now(j->ev, CLOCK_MONOTONIC, &now) < 0)
                return -1;
        if (j->sd->source_set_time(j->timer, now + (uint64_t)timeout_ms * 1000) < 0)
                return -1;
        return j->sd->source_set_enabled(j->timer, SD_EVENT_ONESHOT) < 0 ? -1 : 0;
}

static void job_free(struct aws_http_job *j)
{
        const struct curl_api *a = j->h->api;

        if (j->multi) {
                a->multi_remove_handle(j->multi, j->h->curl); /* closes its sockets: socket_cb unrefs them */
                a->multi_cleanup(j->multi);
        }
        if (j->timer)
                j->sd->source_unref(j->timer);
        if (j->end)
                j->sd->source_unref(j->end);
        http_xfer_done(&j->x);
        j->h->busy = false;
        free(j);
}

static int on_end(sd_event_source *s, void *userdata)
{
        struct aws_http_job *j = userdata;
        struct aws_http_transfer_result res;

        (void)s;
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
        const struct curl_api *a = h->api;
        struct aws_http_job *j;
        int r = sdev_load(reterr_msg);

        if (r < 0)
                return r;
        const struct sdev_api *sd = sdev;
        if (h->busy)
                return errmsg_set(reterr_msg, -EBUSY, "the HTTP client is running a transfer already");
        j = xcalloc(1, sizeof *j);
        j->h = h;
        j->sd = sd;
        j->ev = ev;
        j->done = done;
        j->userdata = userdata;
        r = http_transfer_prepare(h, t, &j->x, j->errbuf);
        if (r < 0) {
                free(j);
                return errmsg_set(reterr_msg, r, r == -EPROTONOSUPPORT
                                  ? "libcurl cannot be limited to http and https"
                                  : "libcurl refused the URL");
        }
        h->busy = true;
        if (sd->add_time(ev, &j->timer, CLOCK_MONOTONIC, UINT64_MAX, 1, on_timer, j) < 0 ||
            sd->source_set_enabled(j->timer, SD_EVENT_OFF) < 0 ||
            sd->add_defer(ev, &j->end, on_end, j) < 0 || sd->source_set_enabled(j->end, SD_EVENT_OFF) < 0) {
                job_free(j);
                return errmsg_set(reterr_msg, -ENOMEM, "cannot add event sources for the transfer");
        }
        j->multi = a->multi_init();
        if (!j->multi) {
                job_free(j);
                return errmsg_set(reterr_msg, -ENOMEM, "libcurl cannot create a multi handle");
        }
        a->multi_setopt(j->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
        a->multi_setopt(j->multi, CURLMOPT_SOCKETDATA, j);
        a->multi_setopt(j->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
        a->multi_setopt(j->multi, CURLMOPT_TIMERDATA, j);
        if (a->multi_add_handle(j->multi, h->curl) != CURLM_OK) {
                a->multi_cleanup(j->multi);
                j->multi = NULL;
                job_free(j);
                return errmsg_set(reterr_msg, -ENOMEM, "libcurl cannot start the transfer");
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
