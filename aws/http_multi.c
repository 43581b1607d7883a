/* http_multi.c: the client's one libcurl multi handle on an sd-event loop:
 * CURLMOPT_SOCKETFUNCTION mapped to one io source per socket,
 * CURLMOPT_TIMERFUNCTION to one time source, the end of each transfer
 * handed to its owner (the request loop, plain transfers), the easy
 * handles kept between attempts, and the client's own loop on which
 * blocking callers drive the same transfers.  Every transfer of a client
 * runs on this multi handle, so they share its connections and run
 * side by side (the parts of a multipart upload). */
#include "http_transport.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "http_async.h"
#include "errmsg.h"
#include "sdevent_dl.h"

CURL *http_easy_take(struct aws_http *h)
{
        if (h->n_idle > 0)
                return h->idle[--h->n_idle];
        return h->api->easy_init();
}

void http_easy_give(struct aws_http *h, CURL *e)
{
        if (!e)
                return;
        if (h->n_idle < HTTP_MAX_IDLE_EASY)
                h->idle[h->n_idle++] = e;
        else
                h->api->easy_cleanup(e);
}

/* Hands every finished transfer to its owner. */
static void multi_check(struct aws_http *h)
{
        CURLMsg *m;
        int left;

        while (h->multi && (m = h->api->multi_info_read(h->multi, &left))) {
                struct http_running *t = NULL;

                if (m->msg != CURLMSG_DONE)
                        continue;
                CURLcode c = m->data.result;
                h->api->easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
                h->api->multi_remove_handle(h->multi, m->easy_handle);
                h->active--;
                if (t) {
                        t->added = false;
                        t->done(t, c);
                }
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct aws_http *h = userdata;
        int flags = 0, running;

        (void)s;
        if (revents & EPOLLIN)
                flags |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                flags |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                flags |= CURL_CSELECT_ERR;
        h->api->multi_socket_action(h->multi, fd, flags, &running);
        multi_check(h);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct aws_http *h = userdata;
        int running;

        (void)s;
        (void)usec;
        h->api->multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        multi_check(h);
        return 0;
}

static struct http_socket *socket_find(struct aws_http *h, curl_socket_t fd)
{
        for (size_t i = 0; i < h->n_socks; i++)
                if (h->socks[i].fd == fd)
                        return &h->socks[i];
        return NULL;
}

static void socket_drop(struct aws_http *h, struct http_socket *k)
{
        sdev->source_disable_unref(k->src);
        *k = h->socks[--h->n_socks];
}

/* CURLMOPT_SOCKETFUNCTION: what libcurl wants to hear about a socket. */
static int socket_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
        struct aws_http *h = userp;
        struct http_socket *k = socket_find(h, fd);
        uint32_t events = 0;

        (void)e;
        (void)socketp;
        if (what == CURL_POLL_REMOVE) {
                if (k)
                        socket_drop(h, k);
                return 0;
        }
        if (what & CURL_POLL_IN)
                events |= EPOLLIN;
        if (what & CURL_POLL_OUT)
                events |= EPOLLOUT;
        if (k)
                return sdev->source_set_io_events(k->src, events) < 0 ? -1 : 0;
        if (h->n_socks == HTTP_MAX_SOCKETS)
                return -1;
        k = &h->socks[h->n_socks];
        if (sdev->add_io(h->ev, &k->src, fd, events, on_io, h) < 0)
                return -1;
        k->fd = fd;
        h->n_socks++;
        return 0;
}

/* CURLMOPT_TIMERFUNCTION: one timer, re-armed or disarmed. */
static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
        struct aws_http *h = userp;
        uint64_t now = 0;

        (void)m;
        if (timeout_ms < 0)
                return sdev->source_set_enabled(h->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        if (sdev->now(h->ev, CLOCK_MONOTONIC, &now) < 0)
                return -1;
        if (sdev->source_set_time(h->timer, now + (uint64_t)timeout_ms * 1000) < 0)
                return -1;
        return sdev->source_set_enabled(h->timer, SD_EVENT_ONESHOT) < 0 ? -1 : 0;
}

/* The multi handle and its sources, with nothing on it. */
static void multi_unbind(struct aws_http *h)
{
        if (h->multi)
                h->api->multi_cleanup(h->multi); /* closes the cached connections */
        h->multi = NULL;
        while (h->n_socks > 0)
                socket_drop(h, &h->socks[h->n_socks - 1]);
        if (h->timer)
                h->timer = sdev->source_disable_unref(h->timer);
        h->ev = NULL;
}

static int multi_bind(struct aws_http *h, sd_event *ev, char **reterr_msg)
{
        const struct curl_api *a = h->api;
        int r = sdev_load(reterr_msg);

        if (r < 0)
                return r;
        if (h->multi && h->ev == ev)
                return 0;
        if (h->multi && h->active > 0)
                return errmsg_set(reterr_msg, -EBUSY, "the HTTP client is running transfers on another loop");
        multi_unbind(h);
        h->multi = a->multi_init();
        if (!h->multi)
                return errmsg_set(reterr_msg, -ENOMEM, "libcurl cannot create a multi handle");
        h->ev = ev;
        if (sdev->add_time(ev, &h->timer, CLOCK_MONOTONIC, UINT64_MAX, 1, on_timer, h) < 0 ||
            sdev->source_set_enabled(h->timer, SD_EVENT_OFF) < 0) {
                multi_unbind(h);
                return errmsg_set(reterr_msg, -ENOMEM, "cannot add event sources for HTTP transfers");
        }
        a->multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
        a->multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
        a->multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
        a->multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
        return 0;
}

int http_multi_add(struct aws_http *h, sd_event *ev, struct http_running *t, char **reterr_msg)
{
        int r = multi_bind(h, ev, reterr_msg);

        if (r < 0)
                return r;
        h->api->easy_setopt(t->easy, CURLOPT_PRIVATE, (void *)t);
        if (h->api->multi_add_handle(h->multi, t->easy) != CURLM_OK)
                return errmsg_set(reterr_msg, -ENOMEM, "libcurl cannot start the transfer");
        h->active++;
        t->added = true;
        return 0;
}

void http_multi_remove(struct aws_http *h, struct http_running *t)
{
        if (!t->added)
                return;
        h->api->multi_remove_handle(h->multi, t->easy);
        h->active--;
        t->added = false;
}

int aws_http_own_loop(struct aws_http *h, sd_event **ret, char **reterr_msg)
{
        int r = sdev_load(reterr_msg);

        if (r < 0)
                return r;
        if (!h->own_ev) {
                r = sdev->event_new(&h->own_ev);
                if (r < 0)
                        return errmsg_set(reterr_msg, r, "cannot make an event loop: %s", strerror(-r));
        }
        *ret = h->own_ev;
        return 0;
}

int aws_http_run_until(sd_event *ev, const bool *flag)
{
        while (!*flag) {
                int r = sdev->event_run(ev, UINT64_MAX);

                if (r < 0)
                        return r;
        }
        return 0;
}

void http_multi_done(struct aws_http *h)
{
        if (sdev)
                multi_unbind(h);
        while (h->n_idle > 0)
                h->api->easy_cleanup(h->idle[--h->n_idle]);
        if (h->own_ev)
                h->own_ev = sdev->event_unref(h->own_ev);
}
