/* check_process.c: unit tests of modules/process.c: exit statuses and
 * their results, capture and line splitting of both streams, the stdout
 * cap and the stderr tail, the child's environment (process group, stdin,
 * descriptors, signals, NOTIFY_SOCKET), the deadline with SIGTERM then
 * SIGKILL, a grandchild that keeps the pipes open, spawn failures, and
 * reaping. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attempt.h"
#include "module.h"
#include "process.h"

struct line {
        int stream;
        char *text;
        size_t len;
};

struct sink {
        struct line *v;
        size_t n, cap;
        bool keep;          /* store the lines, not only count them */
        size_t lines[3];    /* per stream */
        size_t bytes[3];
        size_t longest;
        bool bad_nul;       /* a line was not NUL-terminated at line[len] */
};

static void sink_line(void *userdata, int stream, const char *line, size_t len)
{
        struct sink *s = userdata;

        ck_assert(stream == STREAM_STDOUT || stream == STREAM_STDERR);
        s->lines[stream]++;
        s->bytes[stream] += len;
        if (len > s->longest)
                s->longest = len;
        if (line[len] != '\0')
                s->bad_nul = true;
        if (!s->keep)
                return;
        if (s->n == s->cap) {
                s->cap = s->cap ? 2 * s->cap : 16;
                s->v = realloc(s->v, s->cap * sizeof *s->v);
                ck_assert_ptr_nonnull(s->v);
        }
        s->v[s->n].stream = stream;
        s->v[s->n].text = strndup(line, len);
        s->v[s->n].len = len;
        ck_assert_ptr_nonnull(s->v[s->n].text);
        s->n++;
}

static void sink_free(struct sink *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->v[i].text);
        free(s->v);
        memset(s, 0, sizeof *s);
}

/* The i-th line printed on `stream`, or NULL. */
static const char *nth_line(const struct sink *s, int stream, size_t i)
{
        for (size_t k = 0; k < s->n; k++)
                if (s->v[k].stream == stream && i-- == 0)
                        return s->v[k].text;
        return NULL;
}

static int64_t mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The runner's part, as the runner does it (agent/attempt.c): the loop,
 * the deadline (test_deadline_ms stands for the step's), stopping the
 * group with SIGTERM and, after grace_ms, SIGKILL. */
static struct supervisor sv;
static int64_t grace_ms = 200;
static int64_t test_deadline_ms = -1; /* for the next run only */

struct action_job {
        struct proc_job *proc;
        struct proc_result *ret;
        action_done_fn done;
        void *done_userdata;
};

static struct {
        char *const *argv;
        const char *cwd;
        const char **msg;
        struct proc_result *ret;
} pending;

static void job_done(void *userdata, struct proc_result *res)
{
        struct action_job *j = userdata;
        struct action_result ar = { .status = ACTION_SUCCESS, .exit_code = res->exit_code };
        action_done_fn done = j->done;
        void *ud = j->done_userdata;

        *j->ret = *res;
        free(j);
        done(ud, &ar);
}

static int job_start(const struct action_ctx *ctx, const json_t *inputs, action_done_fn done, void *done_userdata,
                     struct action_job **ret_job)
{
        struct action_job *j = calloc(1, sizeof *j);
        int r;

        (void)inputs;
        ck_assert_ptr_nonnull(j);
        *j = (struct action_job){ .ret = pending.ret, .done = done, .done_userdata = done_userdata };
        r = proc_start(ctx, pending.argv, pending.cwd, -1, job_done, j, &j->proc, pending.msg);
        if (r < 0) {
                free(j);
                return r;
        }
        *ret_job = j;
        return 0;
}

static void job_cancel(struct action_job *j, enum action_cancel_reason why)
{
        proc_cancel(j->proc, why);
}

static const struct action_module proc_module = { .name = "Process", .start = job_start, .cancel = job_cancel };

static void test_on_spawn(void *userdata, pid_t pgid)
{
        (void)userdata;
        supervisor_spawned(&sv, pgid);
}

/* proc_start run to its end, as a step attempt. */
static int proc_run(const struct action_ctx *ctx, char *const argv[], const char *cwd, struct proc_result *ret,
                    const char **reterr_msg)
{
        struct action_ctx c = *ctx;
        struct action_result ar = { 0 };
        char *err = NULL;
        int r;

        if (!sv.event)
                ck_assert_msg(supervisor_init(&sv, grace_ms, &err) == 0, "supervisor_init: %s", err);
        sv.kill_grace_ms = grace_ms;
        c.on_spawn = test_on_spawn;
        pending.argv = argv;
        pending.cwd = cwd;
        pending.msg = reterr_msg;
        pending.ret = ret;
        r = supervisor_run(&sv, &proc_module, &c, NULL, test_deadline_ms, &ar);
        test_deadline_ms = -1;
        action_result_clear(&ar);
        return r;
}

static struct action_ctx make_ctx(struct sink *s)
{
        return (struct action_ctx){
                .work_dir = "/tmp",
                .step_name = "test",
                .iteration = -1,
                .stdout_cap = ACTION_STDOUT_CAP,
                .on_line = s ? sink_line : NULL,
                .userdata = s,
        };
}

/* Runs `sh -c script`; the result must be freed. */
static void run_sh(const struct action_ctx *ctx, const char *script, struct proc_result *ret)
{
        char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
        const char *msg = NULL;
        int r = proc_run(ctx, argv, NULL, ret, &msg);

        ck_assert_msg(r == 0, "proc_run: %d (%s)", r, msg ? msg : "?");
}

/* Runs `sh -c script` with s, emptied, as its sink keeping every line;
 * it must exit 0.  The result and s must be freed. */
static void run_sh_kept(struct sink *s, const char *script, struct proc_result *ret)
{
        struct action_ctx ctx = make_ctx(s);

        *s = (struct sink){ .keep = true };
        run_sh(&ctx, script, ret);
        ck_assert_int_eq(ret->exit_code, 0);
}

static char *outputs_text(const struct action_result *ar)
{
        ck_assert_ptr_nonnull(ar->outputs);
        return json_dumps(ar->outputs, JSON_COMPACT);
}

static void assert_no_children(void)
{
        errno = 0;
        ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
        ck_assert_int_eq(errno, ECHILD);
}

START_TEST(test_exit_codes)
{
        /* An exit status, or a signal (the exit code -1): the result's
         * status and message. */
        static const struct {
                const char *script;
                int code, signal;
                enum action_status status;
                const char *message;
        } cases[] = {
                { "exit 0", 0, 0, ACTION_SUCCESS, NULL },
                { "exit 1", 1, 0, ACTION_FAILED, "exit status 1" },
                { "exit 194", 194, 0, ACTION_REBOOT, NULL },
                { "exit 255", 255, 0, ACTION_FAILED, "exit status 255" },
                { "kill -KILL $$", -1, SIGKILL, ACTION_FAILED, "signal: killed" },
                { "kill -TERM $$", -1, SIGTERM, ACTION_FAILED, "signal: terminated" },
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct action_ctx ctx = make_ctx(NULL);
                struct proc_result pr;
                struct action_result ar = { 0 };

                run_sh(&ctx, cases[i].script, &pr);
                ck_assert_int_eq(pr.exit_code, cases[i].code);
                ck_assert_int_eq(pr.term_signal, cases[i].signal);
                ck_assert(!pr.timed_out);
                ck_assert_int_eq(proc_to_action_result(&pr, &ctx, &ar), 0);
                ck_assert_int_eq(ar.status, cases[i].status);
                ck_assert_int_eq(ar.exit_code, cases[i].code);
                if (cases[i].message)
                        ck_assert_str_eq(ar.message, cases[i].message);
                else
                        ck_assert_ptr_null(ar.message);
                ck_assert_ptr_null(ar.stderr_tail);
                action_result_clear(&ar);
                proc_result_free(&pr);
        }
        assert_no_children();
}
END_TEST

START_TEST(test_stdout_capture_and_trim)
{
        /* A script's stdout as captured, and as the step's outputs. */
        static const struct {
                const char *script, *out;
                size_t out_len;
                const char *outputs;
        } t[] = {
                { "printf 'a\\nb\\n'", "a\nb\n", 4, "[{\"stdout\":\"a\\nb\"}]" },
                /* Exactly one newline goes. */
                { "printf 'x\\n\\n'", "x\n\n", 3, "[{\"stdout\":\"x\\n\"}]" },
                /* No output at all. */
                { "true", "", 0, "[{\"stdout\":\"\"}]" },
                /* Bytes that are not UTF-8 still give a JSON string. */
                { "printf 'a\\377b\\n'", "a\377b\n", 4, "[{\"stdout\":\"a\xEF\xBF\xBD" "b\"}]" },
        };
        struct action_ctx ctx = make_ctx(NULL);

        for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
                struct proc_result pr;
                struct action_result ar = { 0 };
                char *text;

                run_sh(&ctx, t[i].script, &pr);
                ck_assert_ptr_nonnull(pr.out);
                ck_assert_uint_eq(pr.out_len, t[i].out_len);
                ck_assert_str_eq(pr.out, t[i].out);
                ck_assert(!pr.out_truncated);
                ck_assert_int_eq(proc_to_action_result(&pr, &ctx, &ar), 0);
                text = outputs_text(&ar);
                ck_assert_str_eq(text, t[i].outputs);
                free(text);
                action_result_clear(&ar);
                proc_result_free(&pr);
        }
}
END_TEST

START_TEST(test_lines_in_order)
{
        struct sink s;
        struct proc_result pr;

        run_sh_kept(&s, "echo o1; echo e1 >&2; echo; echo o3; echo e2 >&2; printf 'e3' >&2; printf 'o4'", &pr);
        ck_assert_uint_eq(s.lines[STREAM_STDOUT], 4);
        ck_assert_uint_eq(s.lines[STREAM_STDERR], 3);
        ck_assert_str_eq(nth_line(&s, STREAM_STDOUT, 0), "o1");
        ck_assert_str_eq(nth_line(&s, STREAM_STDOUT, 1), "");
        ck_assert_str_eq(nth_line(&s, STREAM_STDOUT, 2), "o3");
        ck_assert_str_eq(nth_line(&s, STREAM_STDOUT, 3), "o4");
        ck_assert_str_eq(nth_line(&s, STREAM_STDERR, 0), "e1");
        ck_assert_str_eq(nth_line(&s, STREAM_STDERR, 1), "e2");
        ck_assert_str_eq(nth_line(&s, STREAM_STDERR, 2), "e3");
        ck_assert(!s.bad_nul);
        ck_assert_str_eq(pr.out, "o1\n\no3\no4");
        ck_assert_uint_eq(pr.err_len, 8);
        ck_assert_str_eq(pr.err_tail, "e1\ne2\ne3");
        proc_result_free(&pr);
        sink_free(&s);
}
END_TEST

START_TEST(test_long_lines_in_pieces)
{
        struct sink s;
        struct proc_result pr;

        /* 64 KiB exactly, then 150000 bytes, then a short line. */
        run_sh_kept(&s,
                    "head -c 65536 /dev/zero | tr '\\000' a; echo;"
                    "head -c 150000 /dev/zero | tr '\\000' b; echo; echo end",
                    &pr);
        ck_assert_uint_eq(s.n, 5);
        ck_assert_uint_eq(s.v[0].len, 65536);
        ck_assert_uint_eq(s.v[1].len, 65536);
        ck_assert_uint_eq(s.v[2].len, 65536);
        ck_assert_uint_eq(s.v[3].len, 150000 - 2 * 65536);
        ck_assert_int_eq(s.v[1].text[0], 'b');
        ck_assert_str_eq(s.v[4].text, "end");
        ck_assert(!s.bad_nul);
        ck_assert_uint_eq(pr.out_len, 65536 + 1 + 150000 + 1 + 4);
        proc_result_free(&pr);
        sink_free(&s);
}
END_TEST

START_TEST(test_stdout_cap)
{
        struct sink s = { .keep = false };
        struct action_ctx ctx = make_ctx(&s);
        struct proc_result pr;
        struct action_result ar = { 0 };

        ctx.stdout_cap = 1024 * 1024;
        run_sh(&ctx, "head -c 3145728 /dev/zero | tr '\\000' x", &pr);
        ck_assert_int_eq(pr.exit_code, 0);
        ck_assert_uint_eq(pr.out_len, ctx.stdout_cap);
        ck_assert(pr.out_truncated);
        ck_assert_uint_eq(strlen(pr.out), ctx.stdout_cap);
        /* The sink still saw everything, in bounded pieces. */
        ck_assert_uint_eq(s.bytes[STREAM_STDOUT], 3145728);
        ck_assert_uint_le(s.longest, 64 * 1024);
        ck_assert_int_eq(proc_to_action_result(&pr, &ctx, &ar), 0);
        ck_assert(ar.stdout_truncated);
        ck_assert_uint_eq(strlen(json_string_value(
                                  json_object_get(json_array_get(ar.outputs, 0), "stdout"))),
                          ctx.stdout_cap);
        action_result_clear(&ar);
        proc_result_free(&pr);

        /* A cap of zero keeps nothing. */
        ctx.stdout_cap = 0;
        run_sh(&ctx, "echo hello", &pr);
        ck_assert_uint_eq(pr.out_len, 0);
        ck_assert(pr.out_truncated);
        ck_assert_str_eq(pr.out, "");
        proc_result_free(&pr);
}
END_TEST

START_TEST(test_stderr_tail)
{
        struct action_ctx ctx = make_ctx(NULL);
        struct proc_result pr;
        struct action_result ar = { 0 };

        run_sh(&ctx, "head -c 100000 /dev/zero | tr '\\000' e >&2; echo END >&2; exit 2", &pr);
        ck_assert_int_eq(pr.exit_code, 2);
        ck_assert_uint_eq(pr.err_len, ACTION_STDERR_TAIL);
        ck_assert_uint_eq(strlen(pr.err_tail), ACTION_STDERR_TAIL);
        ck_assert_str_eq(pr.err_tail + ACTION_STDERR_TAIL - 4, "END\n");
        ck_assert_int_eq(pr.err_tail[0], 'e');
        ck_assert_int_eq(proc_to_action_result(&pr, &ctx, &ar), 0);
        ck_assert_str_eq(ar.message, "exit status 2");
        ck_assert_ptr_nonnull(ar.stderr_tail);
        ck_assert_uint_eq(strlen(ar.stderr_tail), ACTION_STDERR_TAIL);
        action_result_clear(&ar);
        proc_result_free(&pr);

        /* Many small writes wrap the ring. */
        run_sh(&ctx, "i=0; while [ $i -lt 10000 ]; do echo \"line $i\" >&2; i=$((i+1)); done", &pr);
        ck_assert_uint_eq(pr.err_len, ACTION_STDERR_TAIL);
        ck_assert_str_eq(pr.err_tail + ACTION_STDERR_TAIL - 10, "line 9999\n");
        ck_assert_ptr_nonnull(strstr(pr.err_tail, "\nline 9998\n"));
        proc_result_free(&pr);
}
END_TEST

START_TEST(test_timeout_sigterm)
{
        struct action_ctx ctx = make_ctx(NULL);
        struct proc_result pr;
        struct action_result ar = { 0 };
        int64_t start = mono_ms();

        test_deadline_ms = start + 300;
        grace_ms = 5000;
        run_sh(&ctx, "exec sleep 30", &pr);
        ck_assert(pr.timed_out);
        ck_assert_int_eq(pr.term_signal, SIGTERM);
        ck_assert_int_lt(mono_ms() - start, 4000);
        ck_assert_int_eq(proc_to_action_result(&pr, &ctx, &ar), 0);
        ck_assert_int_eq(ar.status, ACTION_TIMED_OUT);
        ck_assert_ptr_nonnull(ar.message);
        ck_assert_ptr_nonnull(strstr(ar.message, "timed out"));
        action_result_clear(&ar);
        proc_result_free(&pr);
        assert_no_children();
}
END_TEST

START_TEST(test_timeout_sigkill)
{
        struct sink s = { .keep = true };
        struct action_ctx ctx = make_ctx(&s);
        struct proc_result pr;
        int64_t start = mono_ms(), took;

        test_deadline_ms = start + 300;
        grace_ms = 200;
        run_sh(&ctx, "trap '' TERM; echo started; sleep 30; echo never", &pr);
        took = mono_ms() - start;
        ck_assert(pr.timed_out);
        ck_assert_int_eq(pr.exit_code, -1);
        ck_assert_int_eq(pr.term_signal, SIGKILL);
        ck_assert_int_ge(took, 450);
        ck_assert_int_lt(took, 10000);
        ck_assert_str_eq(pr.out, "started\n");
        proc_result_free(&pr);
        sink_free(&s);
        assert_no_children();
}
END_TEST

START_TEST(test_grandchild_keeps_pipe)
{
        struct action_ctx ctx = make_ctx(NULL);
        struct proc_result pr;
        int64_t start = mono_ms(), took;
        long pid;

        run_sh(&ctx, "sleep 30 & echo $!; exit 0", &pr);
        took = mono_ms() - start;
        ck_assert_int_eq(pr.exit_code, 0);
        ck_assert(!pr.timed_out);
        ck_assert_int_lt(took, 10000);
        pid = strtol(pr.out, NULL, 10);
        ck_assert_int_gt(pid, 1);
        kill((pid_t)pid, SIGKILL);
        proc_result_free(&pr);
        assert_no_children();
}
END_TEST

START_TEST(test_deadline_during_drain)
{
        struct action_ctx ctx = make_ctx(NULL);
        struct proc_result pr;
        int64_t start = mono_ms();
        long pid;

        /* The child exits before the deadline: not a timeout, even though
         * the grandchild holds the pipe past it. */
        test_deadline_ms = start + 300;
        run_sh(&ctx, "sleep 30 & echo $!; exit 0", &pr);
        ck_assert(!pr.timed_out);
        ck_assert_int_eq(pr.exit_code, 0);
        ck_assert_int_lt(mono_ms() - start, 900);
        pid = strtol(pr.out, NULL, 10);
        ck_assert_int_gt(pid, 1);
        kill((pid_t)pid, SIGKILL);
        proc_result_free(&pr);
}
END_TEST

START_TEST(test_spawn_failure)
{
        struct action_ctx ctx = make_ctx(NULL);
        char *argv[] = { "/nonexistent/opentoe-test-prog", NULL };
        char *argv_dir[] = { "/", NULL };
        struct proc_result pr = { 0 };
        struct action_result ar = { 0 };
        const char *msg = NULL;
        int r;

        r = proc_run(&ctx, argv, NULL, &pr, &msg);
        ck_assert_int_eq(r, -ENOENT);
        ck_assert_ptr_nonnull(msg);
        ck_assert_str_eq(msg, "fork/exec");
        ck_assert_ptr_null(pr.out);
        ck_assert_int_eq(proc_start_failure(r, argv[0], msg, &ar), 0);
        ck_assert_int_eq(ar.status, ACTION_FAILED);
        ck_assert_str_eq(ar.message,
                         "fork/exec /nonexistent/opentoe-test-prog: no such file or directory");
        ck_assert_ptr_nonnull(ar.outputs);
        action_result_clear(&ar);

        msg = NULL;
        r = proc_run(&ctx, argv_dir, NULL, &pr, &msg);
        ck_assert_int_eq(r, -EACCES);
        ck_assert_str_eq(msg, "fork/exec");

        msg = NULL;
        r = proc_run(&ctx, (char *[]){ "/bin/true", NULL }, "/nonexistent-dir", &pr, &msg);
        ck_assert_int_eq(r, -ENOENT);
        ck_assert_str_eq(msg, "chdir");

        /* Resource errors are opentoe's own. */
        ck_assert_int_eq(proc_start_failure(-ENOMEM, "x", "cannot fork", &ar), -ENOMEM);
        ck_assert_ptr_null(ar.message);
        assert_no_children();
}
END_TEST

START_TEST(test_child_environment)
{
        struct action_ctx ctx = make_ctx(NULL);
        struct proc_result pr;
        sigset_t block, old;
        int leak;
        char want[128];

        /* Own process group. */
        run_sh(&ctx, "read -r pid comm state ppid pgrp rest < /proc/self/stat; echo $pid $pgrp; "
                     "echo $$", &pr);
        {
                long pid = 0, pgrp = 0;

                ck_assert_int_eq(sscanf(pr.out, "%ld %ld", &pid, &pgrp), 2);
                ck_assert_int_eq(pid, pgrp);
        }
        proc_result_free(&pr);

        /* stdin is /dev/null. */
        run_sh(&ctx, "cat; readlink /proc/self/fd/0", &pr);
        ck_assert_str_eq(pr.out, "/dev/null\n");
        proc_result_free(&pr);

        /* A descriptor opentoe left inheritable is not passed on. */
        leak = open("/dev/null", O_RDONLY);
        ck_assert_int_ge(leak, 3);
        snprintf(want, sizeof want, "if [ -e /proc/self/fd/%d ]; then echo open; else echo closed; fi",
                 leak);
        run_sh(&ctx, want, &pr);
        ck_assert_str_eq(pr.out, "closed\n");
        proc_result_free(&pr);
        close(leak);

        /* Signal mask and ignored signals are reset. */
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGUSR1);
        sigprocmask(SIG_BLOCK, &block, &old);
        signal(SIGHUP, SIG_IGN);
        {
                char *argv[] = { "/bin/grep", "^Sig[BI]", "/proc/self/status", NULL };
                const char *msg = NULL;

                ck_assert_int_eq(proc_run(&ctx, argv, NULL, &pr, &msg), 0);
        }
        signal(SIGHUP, SIG_DFL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        {
                unsigned long long blk = 1, ign = 1;

                ck_assert_int_eq(sscanf(pr.out, "SigBlk: %llx SigIgn: %llx", &blk, &ign), 2);
                ck_assert_uint_eq(blk, 0);
                /* Signals 32 and up to SIGRTMIN are glibc's own: sigaction
                 * refuses them, and glibc programs install their handlers
                 * anyway, so an inherited SIG_IGN there may stay. */
                for (int sig = 32; sig < SIGRTMIN; sig++)
                        ign &= ~(1ull << (sig - 1));
                ck_assert_msg(ign == 0, "signals still ignored: %llx", ign);
        }
        proc_result_free(&pr);

        /* NOTIFY_SOCKET stays with opentoe; the rest passes. */
        setenv("NOTIFY_SOCKET", "/run/opentoe-test.sock", 1);
        setenv("OPENTOE_TEST_VAR", "kept", 1);
        run_sh(&ctx, "echo ${NOTIFY_SOCKET-unset} $OPENTOE_TEST_VAR", &pr);
        ck_assert_str_eq(pr.out, "unset kept\n");
        proc_result_free(&pr);
        unsetenv("NOTIFY_SOCKET");
        unsetenv("OPENTOE_TEST_VAR");

        /* cwd. */
        {
                char *argv[] = { "/bin/sh", "-c", "pwd", NULL };
                const char *msg = NULL;

                ck_assert_int_eq(proc_run(&ctx, argv, "/", &pr, &msg), 0);
                ck_assert_str_eq(pr.out, "/\n");
                proc_result_free(&pr);
        }
        assert_no_children();
}
END_TEST

START_TEST(test_status_lost)
{
        struct action_ctx ctx = make_ctx(NULL);
        struct proc_result pr;
        struct action_result ar = { 0 };

        /* With SIGCHLD ignored the kernel reaps the child itself: the
         * status is gone, which must not read as success. */
        signal(SIGCHLD, SIG_IGN);
        run_sh(&ctx, "echo hi; exit 3", &pr);
        signal(SIGCHLD, SIG_DFL);
        ck_assert_int_eq(pr.exit_code, -1);
        ck_assert_int_eq(pr.term_signal, 0);
        ck_assert_str_eq(pr.out, "hi\n");
        ck_assert_int_eq(proc_to_action_result(&pr, &ctx, &ar), 0);
        ck_assert_int_eq(ar.status, ACTION_FAILED);
        ck_assert_str_eq(ar.message, "wait: no child processes");
        action_result_clear(&ar);
        proc_result_free(&pr);
}
END_TEST

START_TEST(test_no_sink)
{
        struct action_ctx ctx = make_ctx(NULL);
        struct proc_result pr;

        run_sh(&ctx, "echo out; echo err >&2", &pr);
        ck_assert_str_eq(pr.out, "out\n");
        ck_assert_str_eq(pr.err_tail, "err\n");
        proc_result_free(&pr);
        proc_result_free(&pr);
        proc_result_free(NULL);
}
END_TEST

#include "check_main.h"
CHECK_MAIN_TESTS("process", "run", 60,
                 test_exit_codes,
                 test_stdout_capture_and_trim,
                 test_lines_in_order,
                 test_long_lines_in_pieces,
                 test_stdout_cap,
                 test_stderr_tail,
                 test_timeout_sigterm,
                 test_timeout_sigkill,
                 test_grandchild_keeps_pipe,
                 test_deadline_during_drain,
                 test_spawn_failure,
                 test_child_environment,
                 test_status_lost,
                 test_no_sink)
