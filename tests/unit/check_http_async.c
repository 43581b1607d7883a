/* check_http_async.c: unit tests of aws/http_async.c on an sd-event loop,
 * against servers on 127.0.0.1 forked by the test.  The plain transfer:
 * a body arrives through the stream callbacks with the blocking call's
 * result, done comes once and never from within start, a refused
 * connection ends on the loop, cancel ends a transfer that would hang,
 * and a client with a job running refuses a blocking transfer.  The one
 * request loop (aws_http_request_start()): a 503 is retried after a
 * backoff pause waited on the loop; a signed request answered
 * RequestTimeTooSkewed by a server an hour ahead is re-signed with the
 * learnt offset; a cancel during the backoff pause ends the request at
 * once, with no second attempt; requests of one client overlap. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "credentials.h"
#include "http.h"
#include "http_async.h"
#include "sdevent_dl.h"
#include "sigv4.h"
#include "strbuf.h"

struct server {
        pid_t pid;
        int port;
        int log;                        /* read end: one byte per connection accepted */
};

/* What a server answers to connection i (0-based) for `request`: an
 * allocated answer, or NULL to say nothing for 30 s. */
typedef char *(*answer_fn)(int i, const char *request, const void *arg);

/* Forks a server that answers `n` connections, one after another (or,
 * with `fork_each`, each in a child of its own, so that they overlap). */
static struct server server_run(answer_fn answer, const void *arg, int n, bool fork_each)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), p[2];
        struct server s;

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(pipe(p), 0);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
        ck_assert_int_eq(listen(fd, 8), 0);
        ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
        s.port = ntohs(a.sin_port);
        s.pid = fork();
        ck_assert_int_ge(s.pid, 0);
        if (s.pid == 0) {
                close(p[0]);
                for (int i = 0; i < n; i++) {
                        int c = accept(fd, NULL, NULL);
                        char buf[8192];
                        size_t got = 0;

                        if (c < 0)
                                _exit(1);
                        (void)!write(p[1], "c", 1);
                        if (fork_each && fork() > 0) {
                                close(c);
                                continue;
                        }
                        while (got < sizeof buf - 1) {
                                ssize_t k = read(c, buf + got, sizeof buf - 1 - got);
                                if (k <= 0)
                                        break;
                                got += (size_t)k;
                                buf[got] = '\0';
                                if (strstr(buf, "\r\n\r\n"))
                                        break;
                        }
                        buf[got] = '\0';
                        char *ans = answer(i, buf, arg);
                        if (!ans)
                                sleep(30);
                        else
                                (void)!write(c, ans, strlen(ans));
                        free(ans);
                        close(c);
                        if (fork_each)
                                _exit(0);
                }
                sleep(30);
                _exit(0);
        }
        close(p[1]);
        s.log = p[0];
        close(fd);
        return s;
}

static char *answer_fixed(int i, const char *request, const void *arg)
{
        (void)i;
        (void)request;
        return arg ? xstrdup(arg) : NULL;
}

/* A server that answers one connection with `answer` (NULL: reads the
 * request and then says nothing for 30 s). */
static struct server server_start(const char *answer)
{
        return server_run(answer_fixed, answer, 1, false);
}

/* Connections the server accepted so far (after a moment for the last
 * one to be told). */
static int server_connections(struct server *s)
{
        struct timespec ts = { 0, 200 * 1000000L };
        char buf[64];
        int n = 0;
        ssize_t k;

        nanosleep(&ts, NULL);
        ck_assert_int_eq(fcntl(s->log, F_SETFL, O_NONBLOCK), 0);
        while ((k = read(s->log, buf, sizeof buf)) > 0)
                n += (int)k;
        return n;
}

static void server_stop(struct server *s)
{
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        close(s->log);
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

/* A call at a time on the loop: fn(arg). */
struct later {
        void (*fn)(void *arg);
        void *arg;
};

static int run_later(sd_event_source *s, uint64_t usec, void *userdata)
{
        const struct later *l = userdata;

        (void)s;
        (void)usec;
        l->fn(l->arg);
        return 0;
}

static void cancel_job(void *arg)
{
        aws_http_job_cancel(((struct run *)arg)->job);
}

/* Runs one transfer of url on a loop of its own; cancel_after_ms > 0
 * cancels it then. */
static void run_one(struct run *r, const char *url, long cancel_after_ms)
{
        char *err = NULL;
        struct aws_http *h = aws_http_new(&err);
        sd_event_source *t = NULL;
        struct later cancel = { cancel_job, r };

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
                                                 0, run_later, &cancel), 0);
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

/* ---- requests: the one request loop on a loop ---------------------------- */

#define SKEW_S 3600

struct call_run {
        sd_event *ev;
        int dones;
        bool in_start;
        bool done_in_start;
        int r;
        char *msg;
        struct aws_http_response resp;
        struct aws_http_call *call;
        int64_t ended_ms;
};

static void on_call_done(void *userdata, int r, struct aws_http_response *resp, char **msg)
{
        struct call_run *run = userdata;

        run->dones++;
        run->done_in_start = run->in_start;
        run->r = r;
        run->msg = TAKE_PTR(*msg);
        run->resp = *resp;
        *resp = (struct aws_http_response){ 0 };
        run->ended_ms = aws_now_ms();
        run->call = NULL;
}

/* Runs the loop until every run is done (or 20 s passed). */
static void loop_until_done(sd_event *ev, struct call_run *runs, int n)
{
        int64_t until = aws_now_ms() + 20000;

        for (;;) {
                int over = 0;

                for (int i = 0; i < n; i++)
                        over += runs[i].dones;
                if (over == n || aws_now_ms() > until)
                        break;
                ck_assert_int_ge(sdev->event_run(ev, 100000), 0);
        }
}

static void call_run_clear(struct call_run *r)
{
        free(r->msg);
        aws_http_response_done(&r->resp);
}

/* A server of `n` connections, a client and a loop. */
struct call_fixture {
        struct server s;
        char *ep;
        struct aws_http *h;
        sd_event *ev;
};

static void fixture_start(struct call_fixture *f, answer_fn answer, int n, bool fork_each)
{
        char *err = NULL;

        f->s = server_run(answer, NULL, n, fork_each);
        f->ep = xasprintf("http://127.0.0.1:%d", f->s.port);
        f->h = aws_http_new(&err);
        ck_assert_msg(f->h, "%s", err ? err : "");
        ck_assert_msg(sdev_load(&err) == 0, "%s", err ? err : "");
        ck_assert_int_ge(sdev->event_new(&f->ev), 0);
}

static void fixture_stop(struct call_fixture *f)
{
        aws_http_free(f->h);
        sdev->event_unref(f->ev);
        server_stop(&f->s);
        free(f->ep);
}

static char *answer_503_then_200(int i, const char *request, const void *arg)
{
        (void)arg;
        (void)request;
        if (i == 0)
                return xstrdup("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return xstrdup("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
}

START_TEST(test_503_is_retried_on_the_loop)
{
        struct call_fixture f;
        char *err = NULL;
        struct call_run r = { 0 };

        setenv("OPENTOE_AWS_BACKOFF_MS", "300", 1);
        fixture_start(&f, answer_503_then_200, 2, false);
        struct aws_http_request req = { .method = "GET", .endpoint = f.ep, .path = "/x", .deadline_ms = -1 };
        int64_t t0 = aws_now_ms();

        r.in_start = true;
        ck_assert_int_eq(aws_http_request_start(f.h, f.ev, &req, on_call_done, &r, &r.call, &err), 0);
        r.in_start = false;
        loop_until_done(f.ev, &r, 1);
        ck_assert_int_eq(r.dones, 1);
        ck_assert(!r.done_in_start);
        ck_assert_msg(r.r == 0, "%s", r.msg ? r.msg : "");
        ck_assert_int_eq(r.resp.status, 200);
        ck_assert_int_eq(r.resp.attempts, 2);
        ck_assert_str_eq(r.resp.body, "ok");
        /* The backoff (150-300 ms) was waited on the loop. */
        ck_assert_int_ge(r.ended_ms - t0, 140);
        call_run_clear(&r);
        fixture_stop(&f);
        unsetenv("OPENTOE_AWS_BACKOFF_MS");
}
END_TEST

/* An hour ahead: the first request is refused with the server's Date,
 * the next must be signed within 5 minutes of that clock. */
static char *answer_skewed(int i, const char *request, const void *arg)
{
        (void)arg;
        time_t now = time(NULL) + SKEW_S;
        char date[64], amz[32];
        struct tm tm, st = { 0 };
        const char *d = strstr(request, "X-Amz-Date: ");

        (void)i;
        gmtime_r(&now, &tm);
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        if (!d || sscanf(d + 12, "%31[0-9TZ]", amz) != 1 || !strptime(amz, "%Y%m%dT%H%M%SZ", &st))
                return xasprintf("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        long off = (long)(timegm(&st) - now);
        if (labs(off) > 300) {
                const char *body = "<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the "
                                   "request time and the current time is too large.</Message></Error>";
                return xasprintf("HTTP/1.1 403 Forbidden\r\nDate: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                 date, strlen(body), body);
        }
        return xasprintf("HTTP/1.1 200 OK\r\nDate: %s\r\nContent-Length: 7\r\nConnection: close\r\n\r\nin time", date);
}

START_TEST(test_clock_skew_is_corrected_on_the_loop)
{
        struct call_fixture f;
        char *err = NULL;
        struct aws_cred_provider *creds;
        struct call_run r = { 0 };

        setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
        setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
        setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
        setenv("AWS_CONFIG_FILE", "/dev/null", 1);
        setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
        fixture_start(&f, answer_skewed, 2, false);
        creds = aws_cred_provider_new();
        struct aws_http_request req = {
                .method = "GET", .endpoint = f.ep, .path = "/bkt/k", .service = "s3", .region = "us-east-1",
                .sigv4_flags = SIGV4_S3, .creds = creds, .deadline_ms = -1,
        };

        ck_assert_int_eq(aws_http_request_start(f.h, f.ev, &req, on_call_done, &r, &r.call, &err), 0);
        loop_until_done(f.ev, &r, 1);
        ck_assert_int_eq(r.dones, 1);
        ck_assert_msg(r.r == 0, "%s", r.msg ? r.msg : "");
        ck_assert_int_eq(r.resp.status, 200);
        ck_assert_int_eq(r.resp.attempts, 2);
        ck_assert_str_eq(r.resp.body, "in time");
        ck_assert_int_ge(aws_http_clock_offset(f.h), SKEW_S - 60);
        ck_assert_int_le(aws_http_clock_offset(f.h), SKEW_S + 60);
        call_run_clear(&r);
        aws_cred_provider_free(creds);
        fixture_stop(&f);
}
END_TEST

static void cancel_call(void *arg)
{
        aws_http_call_cancel(((struct call_run *)arg)->call);
}

static char *answer_503(int i, const char *request, const void *arg)
{
        (void)arg;
        (void)i;
        (void)request;
        return xstrdup("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

START_TEST(test_cancel_during_the_backoff_pause)
{
        struct call_fixture f;
        char *err = NULL;
        sd_event_source *t = NULL;
        struct call_run r = { 0 };
        uint64_t now = 0;

        setenv("OPENTOE_AWS_BACKOFF_MS", "20000", 1);
        fixture_start(&f, answer_503, 5, false);
        struct aws_http_request req = { .method = "GET", .endpoint = f.ep, .path = "/x", .deadline_ms = -1 };
        int64_t t0 = aws_now_ms();

        ck_assert_int_eq(aws_http_request_start(f.h, f.ev, &req, on_call_done, &r, &r.call, &err), 0);
        sdev->now(f.ev, CLOCK_MONOTONIC, &now);
        struct later cancel = { cancel_call, &r };

        ck_assert_int_ge(sdev->add_time(f.ev, &t, CLOCK_MONOTONIC, now + 500 * 1000, 0, run_later, &cancel), 0);
        loop_until_done(f.ev, &r, 1);
        ck_assert_int_eq(r.dones, 1);
        ck_assert_int_eq(r.r, -ECANCELED);
        /* At once: not after the pause of 10-20 s. */
        ck_assert_int_lt(r.ended_ms - t0, 3000);
        ck_assert_int_eq(server_connections(&f.s), 1);
        call_run_clear(&r);
        sdev->source_unref(t);
        fixture_stop(&f);
        unsetenv("OPENTOE_AWS_BACKOFF_MS");
}
END_TEST

static char *answer_slowly(int i, const char *request, const void *arg)
{
        (void)arg;
        struct timespec ts = { 0, 400 * 1000000L };

        (void)i;
        (void)request;
        nanosleep(&ts, NULL);
        return xstrdup("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
}

START_TEST(test_requests_run_side_by_side)
{
        struct call_fixture f;
        char *err = NULL;
        struct call_run r[3] = { 0 };

        fixture_start(&f, answer_slowly, 3, true);
        struct aws_http_request req = { .method = "GET", .endpoint = f.ep, .path = "/x", .deadline_ms = -1 };
        int64_t t0 = aws_now_ms();

        for (int i = 0; i < 3; i++)
                ck_assert_int_eq(aws_http_request_start(f.h, f.ev, &req, on_call_done, &r[i], &r[i].call, &err), 0);
        loop_until_done(f.ev, r, 3);
        for (int i = 0; i < 3; i++) {
                ck_assert_msg(r[i].r == 0, "%s", r[i].msg ? r[i].msg : "");
                ck_assert_int_eq(r[i].resp.status, 200);
                ck_assert_int_lt(r[i].ended_ms - t0, 1100); /* one after another: 1.2 s at least */
                call_run_clear(&r[i]);
        }
        fixture_stop(&f);
}
END_TEST

#include "check_main.h"
CHECK_MAIN_TESTS("http_async", "core", 30,
                 test_body_arrives,
                 test_excess_is_reported,
                 test_refused_connection_ends_on_the_loop,
                 test_cancel_ends_a_hanging_transfer,
                 test_503_is_retried_on_the_loop,
                 test_clock_skew_is_corrected_on_the_loop,
                 test_cancel_during_the_backoff_pause,
                 test_requests_run_side_by_side)
