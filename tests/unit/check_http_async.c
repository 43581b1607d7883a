/* check_http_async.c: unit tests of aws/http_async.c, the plain transfer
 * on an sd-event loop, against servers on 127.0.0.1 forked by the test:
 * a body arrives through the stream callbacks with the blocking call's
 * result, done comes once and never from within start, a refused
 * connection ends on the loop, cancel ends a transfer that would hang,
 * and a client with a job running refuses a blocking transfer. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "http.h"
#include "http_async.h"
#include "sdevent_dl.h"
#include "strbuf.h"

struct server {
        pid_t pid;
        int port;
};

/* Forks a server that answers one connection with `answer` (NULL: reads
 * the request and then says nothing for 30 s). */
static struct server server_start(const char *answer)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct server s;

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
        ck_assert_int_eq(listen(fd, 4), 0);
        ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
        s.port = ntohs(a.sin_port);
        s.pid = fork();
        ck_assert_int_ge(s.pid, 0);
        if (s.pid == 0) {
                int c = accept(fd, NULL, NULL);
                char buf[4096];
                size_t got = 0;

                while (c >= 0 && got < sizeof buf - 1) {
                        ssize_t n = read(c, buf + got, sizeof buf - 1 - got);
                        if (n <= 0)
                                break;
                        got += (size_t)n;
                        buf[got] = '\0';
                        if (strstr(buf, "\r\n\r\n"))
                                break;
                }
                if (answer)
                        (void)!write(c, answer, strlen(answer));
                else
                        sleep(30);
                _exit(0);
        }
        close(fd);
        return s;
}

static void server_stop(struct server *s)
{
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
}

struct run {
        const struct sdev_api *sd;
        sd_event *ev;
        struct strbuf body;
        int dones;
        bool in_start;
        bool done_in_start;
        bool cancelled;
        struct aws_http_transfer_result res;
        struct aws_http_job *job;
};

static int accept_200(void *userdata, long status, int64_t declared)
{
        (void)userdata;
        (void)declared;
        return status == 200;
}

static int take(void *userdata, const char *p, size_t n)
{
        struct run *r = userdata;

        sb_append(&r->body, p, n);
        return 0;
}

static void on_done(void *userdata, struct aws_http_transfer_result *res, bool cancelled)
{
        struct run *r = userdata;

        r->dones++;
        r->done_in_start = r->in_start;
        r->cancelled = cancelled;
        r->res = *res;
        r->job = NULL;
        r->sd->event_exit(r->ev, 0);
}

static int cancel_later(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct run *r = userdata;

        (void)s;
        (void)usec;
        aws_http_job_cancel(r->job);
        return 0;
}

/* Runs one transfer of url on a loop of its own; cancel_after_ms > 0
 * cancels it then. */
static void run_one(struct run *r, const char *url, long cancel_after_ms)
{
        char *err = NULL;
        struct aws_http *h = aws_http_new(&err);
        sd_event_source *t = NULL;

        ck_assert_msg(h, "%s", err ? err : "");
        *r = (struct run){ .body = STRBUF_INIT };
        ck_assert_msg(sdev_load(&err) == 0, "%s", err ? err : "");
        r->sd = sdev;
        ck_assert_int_ge(r->sd->event_new(&r->ev), 0);
        struct aws_http_transfer tr = {
                .url = url,
                .timeout_ms = 20000,
                .stream = { .on_headers = accept_200, .on_body = take, .userdata = r },
        };
        r->in_start = true;
        ck_assert_int_eq(aws_http_transfer_start(h, r->ev, &tr, on_done, r, &r->job, &err), 0);
        r->in_start = false;
        if (cancel_after_ms > 0) {
                uint64_t now = 0;

                r->sd->now(r->ev, CLOCK_MONOTONIC, &now);
                ck_assert_int_ge(r->sd->add_time(r->ev, &t, CLOCK_MONOTONIC, now + (uint64_t)cancel_after_ms * 1000,
                                                 0, cancel_later, r), 0);
        } else {
                struct aws_http_job *second = NULL;
                char *busy = NULL;

                /* The client is the job's until done. */
                ck_assert_int_eq(aws_http_transfer_start(h, r->ev, &tr, on_done, r, &second, &busy), -EBUSY);
                ck_assert_ptr_null(second);
                free(busy);
        }
        ck_assert_int_ge(r->sd->event_loop(r->ev), 0);
        if (t)
                r->sd->source_unref(t);
        r->sd->event_unref(r->ev);
        aws_http_free(h);
}

START_TEST(test_body_arrives)
{
        struct server s = server_start("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
        _cleanup_free_ char *url = xasprintf("http://127.0.0.1:%d/file", s.port);
        struct run r;

        run_one(&r, url, 0);
        server_stop(&s);
        ck_assert_int_eq(r.dones, 1);
        ck_assert(!r.done_in_start);
        ck_assert(!r.cancelled);
        ck_assert(!r.res.failed);
        ck_assert_int_eq(r.res.status, 200);
        ck_assert_int_eq(r.res.declared, 5);
        ck_assert_int_eq(r.res.bytes, 5);
        ck_assert_str_eq(sb_str(&r.body), "hello");
        aws_http_transfer_result_done(&r.res);
        sb_free(&r.body);
}
END_TEST

START_TEST(test_excess_is_reported)
{
        struct server s = server_start("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n"
                                       "Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        _cleanup_free_ char *url = xasprintf("http://127.0.0.1:%d/x", s.port);
        struct run r;

        run_one(&r, url, 0);
        server_stop(&s);
        ck_assert_int_eq(r.dones, 1);
        ck_assert(r.res.excess);
        ck_assert(r.res.failed);
        ck_assert_int_eq(r.res.bytes, 0);
        aws_http_transfer_result_done(&r.res);
        sb_free(&r.body);
}
END_TEST

START_TEST(test_refused_connection_ends_on_the_loop)
{
        struct server s = server_start("");
        _cleanup_free_ char *url = xasprintf("http://127.0.0.1:%d/", s.port);
        struct run r;

        server_stop(&s); /* nobody listens there any more */
        run_one(&r, url, 0);
        ck_assert_int_eq(r.dones, 1);
        ck_assert(!r.done_in_start);
        ck_assert(r.res.failed);
        ck_assert(r.res.transient);
        ck_assert_ptr_nonnull(r.res.reason);
        aws_http_transfer_result_done(&r.res);
        sb_free(&r.body);
}
END_TEST

START_TEST(test_cancel_ends_a_hanging_transfer)
{
        struct server s = server_start(NULL);
        _cleanup_free_ char *url = xasprintf("http://127.0.0.1:%d/slow", s.port);
        struct run r;

        run_one(&r, url, 200);
        server_stop(&s);
        ck_assert_int_eq(r.dones, 1);
        ck_assert(r.cancelled);
        ck_assert(r.res.failed);
        ck_assert_str_eq(r.res.reason, "the transfer was cancelled");
        aws_http_transfer_result_done(&r.res);
        sb_free(&r.body);
}
END_TEST

static Suite *http_async_suite(void)
{
        Suite *s = suite_create("http_async");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_body_arrives);
        tcase_add_test(tc, test_excess_is_reported);
        tcase_add_test(tc, test_refused_connection_ends_on_the_loop);
        tcase_add_test(tc, test_cancel_ends_a_hanging_transfer);
        suite_add_tcase(s, tc);
        return s;
}

#include "check_main.h"
CHECK_MAIN(http_async_suite)
