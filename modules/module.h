/* module.h: the interface between the runner and an action module.  A
 * module runs one step attempt (or one loop iteration) of its action with
 * inputs already rendered to JSON, streams child output through the
 * runner's line sink, and reports a result as data.  A module never logs,
 * never exits the process and never touches the console itself.
 *
 * A module either waits on the runner's event loop (`start`: children,
 * the network) or is bounded and synchronous (`run`: the file system,
 * Assert), called from the loop between its events.  Deadlines,
 * interrupts and the signals that stop a process group are the runner's
 * alone: it cancels a started job, and answers a run() module's
 * action_stop_reason(). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "action_spec.h"

enum action_status {
        ACTION_SUCCESS,
        ACTION_FAILED,
        ACTION_TIMED_OUT,
        ACTION_REBOOT,     /* exit code 194: run this step again after a reboot */
        ACTION_REBOOT_DONE, /* the Reboot action: the step is done; reboot, then go on (reboot_delay_s) */
        _ACTION_STATUS_MAX,
};

enum { STREAM_STDOUT = 1, STREAM_STDERR = 2 };

/* Called for every line a child prints (without its newline), in order. */
typedef void (*line_sink_fn)(void *userdata, int stream, const char *line, size_t len);

struct sd_event;

struct action_ctx {
        struct sd_event *event;   /* the runner's loop, for modules with start() */
        const char *work_dir;     /* this execution's folder for scripts (as shown and run) */
        int work_dir_fd;          /* the same folder, opened and checked: scripts are created in it */
        const char *step_name;
        bool private_step;        /* disableLogging: nothing of its inputs may reach a file */
        long iteration;           /* 0-based loop iteration, -1 outside a loop */
        size_t stdout_cap;        /* bytes of stdout kept for outputs.stdout */
        line_sink_fn on_line;
        void *userdata;
        /* Called as soon as a child process is forked, with its process
         * group (the runner records it, so a run that dies cannot leave it
         * behind, and stops it on a deadline or an interrupt), and with 0
         * when it is no longer the step's: the child has ended and is
         * about to be reaped (its number cannot be reused before); may be
         * NULL. */
        void (*on_spawn)(void *userdata, pid_t pgid);
        /* For run() modules: the runner's answers to "should I stop?"
         * (action_stop_reason()) and "how long may a library call take?"
         * (action_time_left_ms()); NULL: nothing stops the action. */
        int (*stop_reason)(void *userdata);
        int64_t (*time_left_ms)(void *userdata);
        /* ExecuteDocument: runs a nested document through the runner, in
         * the same log folder.  Returns 0 with its summary object and its
         * detailed output, or a negative errno with a message (cycle, too
         * deep, cannot load).  Returns 1 when a step of the nested run
         * asked for a reboot: its state is kept by the runner, and this
         * step runs again after the reboot (it resumes the nested run). */
        int (*run_document)(void *userdata, const char *path, const char *s3_owner, const char *phases,
                            const json_t *parameters, json_t **ret_summary, json_t **ret_detail, char **reterr_msg);
        /* For predicates that read files (Assert): none needed beyond the
         * process's own view of the file system. */
};

struct action_result {
        enum action_status status;
        int exit_code;       /* -1 when there is none */
        char *message;       /* "exit status 1" and the like; NULL on success */
        json_t *outputs;     /* array, one object per input entry; never NULL after run */
        char *stderr_tail;   /* last part of stderr, for the failure block; may be NULL */
        json_t *detail;      /* detailedOutput of the step (ExecuteDocument), or NULL */
        bool stdout_truncated;
        long reboot_delay_s; /* ACTION_REBOOT_DONE: seconds before the reboot */
        char *app_note;      /* lines for application.log (UpdateOS: what changed), or NULL */
};

void action_result_clear(struct action_result *r);

/* An asynchronous action's end: called exactly once per started job, on
 * the runner's event loop and never from within start().  `res` is the
 * module's to fill and the runner's to clear.  After it returns the job
 * is gone (the module freed it); the runner must not cancel it again. */
struct action_job;
typedef void (*action_done_fn)(void *done_userdata, struct action_result *res);

/* Why the runner cancels a job: a module reports ACTION_TIMED_OUT, with
 * its own message, for a deadline, and ACTION_FAILED for an interrupt. */
enum action_cancel_reason {
        ACTION_CANCEL_DEADLINE,
        ACTION_CANCEL_INTERRUPT,
};

struct action_module {
        const char *name;                 /* as documents spell it */
        const struct action_spec *spec;   /* inputs and outputs, from schemas/actions */
        /* A bounded, synchronous action (the file system family, Assert).
         * Returns 0 with *ret filled, or a negative errno for a failure of
         * opentoe itself (out of memory, cannot fork); a failure of the
         * action is a result, not an error. */
        int (*run)(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret);
        /* An action that waits (children, the network): start() registers
         * its event sources on ctx->event and returns 0 with *ret_job, or a
         * negative errno (nothing started, done never called).  ctx and
         * inputs stay valid until done.  cancel() asks a started job to
         * stop as soon as it can; done still follows.  A module has run or
         * start, not both. */
        int (*start)(const struct action_ctx *ctx, const json_t *inputs, action_done_fn done, void *done_userdata,
                     struct action_job **ret_job);
        void (*cancel)(struct action_job *job, enum action_cancel_reason why);
};

/* A formatted line to the console (console.log, CloudWatch) through
 * ctx->on_line; nothing when the runner gave no sink. */
void action_notice(const struct action_ctx *ctx, int stream, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* For run() modules, polled between units of work (a file, an archive
 * member, a chunk of a copy): ACTION_CANCEL_DEADLINE once the step's time
 * is up, ACTION_CANCEL_INTERRUPT once the run is being interrupted, or -1
 * to go on.  The runner decides both; a module never reads a clock for
 * its deadline itself. */
int action_stop_reason(const struct action_ctx *ctx);

/* For a run() module that hands a bound to a library (libcurl's
 * timeouts, a pause between attempts): the milliseconds left before the
 * runner stops the step (0 once it has passed), or -1 for no limit. */
int64_t action_time_left_ms(const struct action_ctx *ctx);

/* An entry's string input: "" when absent or null, -EINVAL when it is not
 * a string. */
int action_input_string(const json_t *entry, const char *key, const char **ret);
/* An entry's boolean input: true/false or the strings "true"/"false" (any
 * case, as a chained value gives them); `def` when absent, null or "";
 * -EINVAL otherwise. */
int action_input_bool(const json_t *entry, const char *key, bool def, bool *ret);

/* The registry: modules.list, indexed by enum action_id.  NULL if the
 * action has no module in this build (it may still validate).  The
 * runner takes the id from the ACT instruction (vm->pending.action);
 * module_find() is the same by name, for tests and tools. */
const struct action_module *module_by_id(enum action_id id);
const struct action_module *module_find(const char *name);

/* Bytes of stdout kept for outputs.stdout per execution (1 MiB). */
#define ACTION_STDOUT_CAP (1024u * 1024u)
/* Bytes of stderr kept for the failure block. */
#define ACTION_STDERR_TAIL (64u * 1024u)
