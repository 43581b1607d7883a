/* process.h: running a child process for an action: its own process
 * group, stdout and stderr read through pipes line by line (each line goes
 * to the runner's sink as soon as it is complete), stdout kept up to a cap
 * for outputs.stdout, the tail of stderr kept for the failure block, and
 * the deadline enforced by SIGTERM to the whole group, then SIGKILL after
 * a grace period. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "module.h"

struct proc_result {
        int exit_code;          /* exit status, or -1 if killed by a signal */
        int term_signal;        /* the signal that ended it, or 0 */
        bool timed_out;         /* the deadline passed and the group was killed */
        bool interrupted;       /* opentoe was told to stop (interrupt.h); the group was killed */
        char *out;              /* stdout up to ctx->stdout_cap bytes, NUL-terminated */
        size_t out_len;
        bool out_truncated;     /* more stdout was printed than was kept */
        char *err_tail;         /* last ACTION_STDERR_TAIL bytes of stderr */
        size_t err_len;
};

/* Runs argv[0] (a path; no PATH search, no shell) with `argv`, in `cwd`
 * (NULL: the current directory), with stdin from /dev/null.  Returns 0
 * when the child ran (whatever its exit status), or a negative errno when
 * it could not be started; then *reterr_msg says why ("fork/exec" when
 * execve itself failed).  Lines reach ctx->on_line NUL-terminated at
 * line[len]; lines longer than 64 KiB arrive in 64 KiB pieces. */
int proc_run(const struct action_ctx *ctx, char *const argv[], const char *cwd,
             struct proc_result *ret, const char **reterr_msg);

/* The same, with `script_fd` (or -1) open in the child as descriptor 3
 * (so that argv may name /dev/fd/3: a script that is never a file). */
int proc_run_fd(const struct action_ctx *ctx, char *const argv[], const char *cwd, int script_fd,
                struct proc_result *ret, const char **reterr_msg);

void proc_result_free(struct proc_result *r);

/* Fills an action result from a finished process: status (194 is a reboot
 * request), "exit status N" / "signal: killed" / timeout messages, and
 * outputs [{"stdout": ...}] with one trailing newline removed (bytes that
 * are not UTF-8 become U+FFFD there, as in Go).  Returns 0, or -ENOMEM
 * with *ret untouched. */
int proc_to_action_result(const struct proc_result *p, const struct action_ctx *ctx,
                          struct action_result *ret);

/* Fills *ret as an action that failed without running: status FAILED,
 * exit code -1, the formatted message, outputs [{"stdout": ""}].  Returns
 * 0, or -ENOMEM with *ret untouched. */
int proc_fail(struct action_result *ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Turns a proc_run error into a result.  A program that cannot be run (no
 * such file, permission denied, exec format error) is a failed action,
 * worded as Go does: "fork/exec /usr/bin/x: no such file or directory".
 * A lack of resources (-ENOMEM, -EAGAIN, -EMFILE, -ENFILE) is opentoe's
 * own failure: `err` is returned and *ret is untouched.  `errmsg` is
 * what proc_run put in *reterr_msg. */
int proc_start_failure(int err, const char *path, const char *errmsg,
                       struct action_result *ret);
