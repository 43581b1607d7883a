/* proc_action.c: a child process run as an action's job, and its end in
 * AWSTOE's words.  This file owns the job ExecuteBash and ExecuteBinary
 * share (start, cancel, a result known before anything runs, the
 * module's clean-up once the child has ended, the result handed to the
 * runner's done callback on the loop) and the translation of a finished
 * process into an action result with Go's wording ("exit status 1",
 * "signal: killed", "fork/exec ...: no such file or directory"). */
#include "process.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sdevent_dl.h"

#include "cleanup.h"
#include "errmsg.h"
#include "interrupt.h"
#include "strbuf.h"
#include "utf8.h"

/* ---- the job ------------------------------------------------------------ */

struct action_job {
        const struct action_ctx *ctx;
        struct proc_job *proc;          /* the child, until it has ended */
        sd_event_source *now_src;       /* hands over a result known at once */
        struct action_result res;
        void (*cleanup)(void *);
        void *cleanup_data;
        action_done_fn done;
        void *done_userdata;
};

static void job_cleanup(struct action_job *j)
{
        if (j->cleanup)
                j->cleanup(j->cleanup_data);
        j->cleanup = NULL;
}

/* Hands the result over and frees the job. */
static void job_end(struct action_job *j)
{
        struct action_result res = j->res;
        action_done_fn done = j->done;
        void *ud = j->done_userdata;

        job_cleanup(j);
        sdev->source_disable_unref(j->now_src);
        free(j);
        done(ud, &res);
}

static int on_now(sd_event_source *s, void *userdata)
{
        (void)s;
        job_end(userdata);
        return 0;
}

/* Delivers j->res on the loop's next iteration. */
static int end_soon(struct action_job *j)
{
        return sdev->add_defer(j->ctx->event, &j->now_src, on_now, j);
}

static void on_proc_done(void *userdata, struct proc_result *pr)
{
        struct action_job *j = userdata;

        j->proc = NULL;
        if (proc_to_action_result(pr, j->ctx, &j->res) < 0)
                /* Out of memory: a failure, even without its words. */
                j->res = (struct action_result){ .status = ACTION_FAILED, .exit_code = -1 };
        proc_result_free(pr);
        job_end(j);
}

static struct action_job *job_new(const struct action_ctx *ctx, action_done_fn done, void *done_userdata)
{
        struct action_job *j = calloc(1, sizeof *j);

        if (j)
                *j = (struct action_job){ .ctx = ctx, .done = done, .done_userdata = done_userdata };
        return j;
}

static void job_discard(struct action_job *j)
{
        job_cleanup(j);
        action_result_clear(&j->res);
        sdev->source_disable_unref(j->now_src);
        free(j);
}

/* A job whose result is in j->res (when `r` >= 0): handed over on the
 * loop's next iteration. */
static int hand_over(struct action_job *j, int r, struct action_job **ret_job)
{
        if (r >= 0)
                r = end_soon(j);
        if (r < 0) {
                job_discard(j);
                return r;
        }
        *ret_job = j;
        return 0;
}

static int vfail(struct action_result *ret, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

int proc_action_start(const struct action_ctx *ctx, char *const argv[], int script_fd,
                      void (*cleanup)(void *), void *cleanup_data, action_done_fn done, void *done_userdata,
                      struct action_job **ret_job)
{
        struct action_job *j = job_new(ctx, done, done_userdata);
        const char *errmsg = NULL;
        int r;

        if (!j) {
                if (cleanup)
                        cleanup(cleanup_data);
                return -ENOMEM;
        }
        j->cleanup = cleanup;
        j->cleanup_data = cleanup_data;
        r = proc_start(ctx, argv, NULL, script_fd, on_proc_done, j, &j->proc, &errmsg);
        if (r < 0)
                return hand_over(j, proc_start_failure(r, argv && argv[0] ? argv[0] : "", errmsg, &j->res),
                                 ret_job);
        *ret_job = j;
        return 0;
}

int proc_action_fail(const struct action_ctx *ctx, action_done_fn done, void *done_userdata,
                     struct action_job **ret_job, const char *fmt, ...)
{
        struct action_job *j = job_new(ctx, done, done_userdata);
        va_list ap;
        int r;

        if (!j)
                return -ENOMEM;
        va_start(ap, fmt);
        r = vfail(&j->res, fmt, ap);
        va_end(ap);
        return hand_over(j, r, ret_job);
}

void proc_action_cancel(struct action_job *j, enum action_cancel_reason why)
{
        /* A result known at once is handed over as it is. */
        if (j->proc)
                proc_cancel(j->proc, why);
}

/* ---- results ------------------------------------------------------------ */

/* Go's names for signals (syscall.Signal.String on Linux), which AWSTOE
 * prints after "signal: ". */
static const char *signal_name(int sig)
{
        static const struct {
                int sig;
                const char *name;
        } names[] = {
                { SIGHUP, "hangup" },
                { SIGINT, "interrupt" },
                { SIGQUIT, "quit" },
                { SIGILL, "illegal instruction" },
                { SIGTRAP, "trace/breakpoint trap" },
                { SIGABRT, "aborted" },
                { SIGBUS, "bus error" },
                { SIGFPE, "floating point exception" },
                { SIGKILL, "killed" },
                { SIGUSR1, "user defined signal 1" },
                { SIGSEGV, "segmentation fault" },
                { SIGUSR2, "user defined signal 2" },
                { SIGPIPE, "broken pipe" },
                { SIGALRM, "alarm clock" },
                { SIGTERM, "terminated" },
                { SIGCHLD, "child exited" },
                { SIGCONT, "continued" },
                { SIGSTOP, "stopped (signal)" },
                { SIGTSTP, "stopped" },
                { SIGTTIN, "stopped (tty input)" },
                { SIGTTOU, "stopped (tty output)" },
                { SIGURG, "urgent I/O condition" },
                { SIGXCPU, "CPU time limit exceeded" },
                { SIGXFSZ, "file size limit exceeded" },
                { SIGVTALRM, "virtual timer expired" },
                { SIGPROF, "profiling timer expired" },
                { SIGWINCH, "window changed" },
                { SIGIO, "I/O possible" },
                { SIGSYS, "bad system call" },
#ifdef SIGSTKFLT
                { SIGSTKFLT, "stack fault" },
#endif
#ifdef SIGPWR
                { SIGPWR, "power failure" },
#endif
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (names[i].sig == sig)
                        return names[i].name;
        return NULL;
}

/* A JSON string of arbitrary bytes: each byte that is not part of
 * well-formed UTF-8 becomes U+FFFD, as Go's encoding/json does. */
static json_t *json_string_lossy(const char *s, size_t n)
{
        _cleanup_(sb_free) struct strbuf fixed = STRBUF_INIT;
        json_t *j = json_stringn(s, n);

        if (j)
                return j;
        utf8_sanitize(&fixed, s, n);
        return json_stringn(sb_str(&fixed), fixed.len);
}

static json_t *stdout_outputs(const char *s, size_t n)
{
        json_t *arr = json_array(), *obj = json_object(), *str;

        if (n > 0 && s[n - 1] == '\n')
                n--;
        str = json_string_lossy(s, n);
        if (!arr || !obj || !str || json_object_set_new(obj, "stdout", str) < 0) {
                if (!obj)
                        json_decref(str);
                json_decref(obj);
                json_decref(arr);
                return NULL;
        }
        if (json_array_append_new(arr, obj) < 0) {
                json_decref(arr);
                return NULL;
        }
        return arr;
}

int proc_to_action_result(const struct proc_result *p, const struct action_ctx *ctx,
                          struct action_result *ret)
{
        struct action_result res = { .exit_code = p->exit_code };
        const char *sig;

        if (p->interrupted) {
                res.status = ACTION_FAILED;
                res.message = xasprintf("interrupted: opentoe received signal %d; the process group was stopped",
                                        (int)interrupt_signal);
        } else if (p->timed_out) {
                res.status = ACTION_TIMED_OUT;
                res.message = xstrdup("step timed out after the deadline; the process group was killed");
        } else if (p->term_signal != 0) {
                res.status = ACTION_FAILED;
                sig = signal_name(p->term_signal);
                res.message = sig ? xasprintf("signal: %s", sig) : xasprintf("signal: signal %d", p->term_signal);
        } else if (p->exit_code < 0) {
                /* The status was lost (the child was reaped elsewhere). */
                res.status = ACTION_FAILED;
                res.message = xstrdup("wait: no child processes");
        } else if (p->exit_code == 0) {
                res.status = ACTION_SUCCESS;
        } else if (p->exit_code == 194) {
                res.status = ACTION_REBOOT;
        } else {
                res.status = ACTION_FAILED;
                res.message = xasprintf("exit status %d", p->exit_code);
        }
        res.outputs = stdout_outputs(p->out ? p->out : "", p->out ? p->out_len : 0);
        if (!res.outputs) {
                action_result_clear(&res);
                return -ENOMEM;
        }
        if (p->err_tail && p->err_len > 0)
                res.stderr_tail = xstrndup(p->err_tail, p->err_len);
        res.stdout_truncated = p->out_truncated;
        *ret = res;
        return 0;
}

static int vfail(struct action_result *ret, const char *fmt, va_list ap)
{
        struct action_result res = { .status = ACTION_FAILED, .exit_code = -1 };
        struct strbuf b = STRBUF_INIT;

        res.outputs = stdout_outputs("", 0);
        if (!res.outputs)
                return -ENOMEM;
        sb_vprintf(&b, fmt, ap);
        res.message = sb_take(&b);
        *ret = res;
        return 0;
}

int proc_fail(struct action_result *ret, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vfail(ret, fmt, ap);
        va_end(ap);
        return r;
}

int proc_start_failure(int err, const char *path, const char *errmsg,
                       struct action_result *ret)
{
        char text[256];

        if (err == -ENOMEM || err == -EAGAIN || err == -EMFILE || err == -ENFILE)
                return err;
        go_strerror(err, text, sizeof text);
        if (errmsg && strcmp(errmsg, "fork/exec") == 0)
                return proc_fail(ret, "fork/exec %s: %s", path, text);
        return proc_fail(ret, "%s: %s", errmsg ? errmsg : "cannot start the program", text);
}
