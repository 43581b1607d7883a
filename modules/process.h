/* process.h: running a child process for an action on the runner's event
 * loop: its own process group, stdout and stderr read through pipes line
 * by line (each line goes to the runner's sink as soon as it is
 * complete), stdout kept up to a cap for outputs.stdout, the tail of
 * stderr kept for the failure block (process.c); and a child run as an
 * action's job, its result in AWSTOE's words (proc_action.c).  The
 * deadline and the signals that stop the group are the runner's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "module.h"

struct proc_result {
        int exit_code;          /* exit status, or -1 if killed by a signal */
        int term_signal;        /* the signal that ended it, or 0 */
        bool timed_out;         /* cancelled for the deadline while it ran */
        bool interrupted;       /* cancelled because opentoe was told to stop (interrupt.h) */
        char *out;              /* stdout up to ctx->stdout_cap bytes, NUL-terminated */
        size_t out_len;
        bool out_truncated;     /* more stdout was printed than was kept */
        char *err_tail;         /* last ACTION_STDERR_TAIL bytes of stderr */
        size_t err_len;
};

/* A started child: its result is handed to proc_done_fn on the loop. */
struct proc_job;
/* Called once, on the loop and never from within proc_start(), when the
 * child has been reaped and its output read (or given up on: a
 * grandchild holding the pipes is waited for PROC_DRAIN_MS).  `res` is
 * the callee's (proc_result_free); the job is gone. */
typedef void (*proc_done_fn)(void *userdata, struct proc_result *res);

/* Starts argv[0] (a path; no PATH search, no shell) with `argv`, in `cwd`
 * (NULL: the current directory), with stdin from /dev/null and
 * `script_fd` (or -1) open in the child as descriptor 3 (so that argv may
 * name /dev/fd/3: a script that is never a file), and watches it on
 * ctx->event.  ctx->on_spawn hears of the group at once, and of 0 when
 * the group is no longer the step's (just before the reaping, so the
 * runner may still signal it).  Returns 0 with *ret_job, or a negative
 * errno when it could not be started; then *reterr_msg says why
 * ("fork/exec" when execve itself failed).  Lines reach ctx->on_line
 * NUL-terminated at line[len]; lines longer than 64 KiB arrive in 64 KiB
 * pieces.  ctx must stay valid until done. */
int proc_start(const struct action_ctx *ctx, char *const argv[], const char *cwd, int script_fd,
               proc_done_fn done, void *userdata, struct proc_job **ret_job, const char **reterr_msg);

/* The runner stops the job (it signals the group itself): remembered for
 * the result (timed_out, interrupted) when the child is still running;
 * for a deadline after the child exited, the wait for its pipes ends. */
void proc_cancel(struct proc_job *job, enum action_cancel_reason why);

void proc_result_free(struct proc_result *r);

/* ---- a child as an action's job (proc_action.c) ---- */

/* Starts argv (as proc_start, in the current directory) as the job of an
 * action: its end becomes an action result (proc_to_action_result) handed
 * to `done`; a program that cannot be run becomes a failed result
 * (proc_start_failure).  `cleanup(cleanup_data)`, when given, runs once
 * the child has ended, before `done` (or at once when nothing started).
 * Returns 0 with *ret_job, or a negative errno for opentoe's own failure
 * (nothing started, done never called).  The job's cancel is
 * proc_action_cancel. */
int proc_action_start(const struct action_ctx *ctx, char *const argv[], int script_fd,
                      void (*cleanup)(void *), void *cleanup_data, action_done_fn done, void *done_userdata,
                      struct action_job **ret_job);

/* A job whose result is known before anything runs (bad inputs): a
 * failed action with the formatted message, handed to `done` on the
 * loop.  Returns 0 with *ret_job, or -ENOMEM. */
int proc_action_fail(const struct action_ctx *ctx, action_done_fn done, void *done_userdata,
                     struct action_job **ret_job, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

void proc_action_cancel(struct action_job *job, enum action_cancel_reason why);

/* The descriptor of an action of this family, whose start_fn ends in
 * proc_action_start(): the job's cancel is then always the family's (as
 * FS_ENTRIES_ACTION and S3_ENTRIES_ACTION do for theirs). */
#define PROC_ACTION(Action, sym, start_fn)           \
        const struct action_module sym = {           \
                .name = #Action,                     \
                .spec = ACTION_SPEC(Action),         \
                .start = start_fn,                   \
                .cancel = proc_action_cancel,        \
        }

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

/* True once our child `pid` has exited (or was reaped elsewhere); the
 * zombie is left for its owner to reap (WNOWAIT). */
bool proc_exited(pid_t pid);

/* Turns a proc_start error into a result.  A program that cannot be run (no
 * such file, permission denied, exec format error) is a failed action,
 * worded as Go does: "fork/exec /usr/bin/x: no such file or directory".
 * A lack of resources (-ENOMEM, -EAGAIN, -EMFILE, -ENFILE) is opentoe's
 * own failure: `err` is returned and *ret is untouched.  `errmsg` is
 * what proc_start put in *reterr_msg. */
int proc_start_failure(int err, const char *path, const char *errmsg,
                       struct action_result *ret);
