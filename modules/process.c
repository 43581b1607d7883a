/* process.c: one child process for an action module, on the runner's
 * event loop.  This file owns vfork and exec (own process group, stdin from
 * /dev/null, no other descriptors, default signal state, no NOTIFY_SOCKET,
 * SIGTERM when opentoe dies), telling the runner the new group
 * (ctx->on_spawn), the child's pipes and its exit (a pidfd, or a tick
 * without one) as event sources on ctx->event, splitting stdout and
 * stderr into lines for the runner's sink as they arrive, the bounded
 * capture of stdout and of the tail of stderr, and reaping.  Deadlines,
 * interrupts and the signals that stop a group are the runner's: a
 * cancelled job only remembers why, for the result's wording.  The
 * result as an action's is proc_action.c's.
 *
 * Memory is bounded whatever the child prints: two line buffers of
 * PROC_LINE_PIECE bytes, a stderr ring of ACTION_STDERR_TAIL bytes and at
 * most ctx->stdout_cap bytes of stdout, all allocated before the fork. */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "sdevent_dl.h"
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "cleanup.h"
#include "tunables.h"

extern char **environ;

/* Lines longer than this reach the sink in pieces of this size. */
#define PROC_LINE_PIECE (64u * 1024u)
/* How long to keep reading after the child exited, for output still in
 * the pipes; a grandchild holding them open does not hold us longer. */
#define PROC_DRAIN_MS 1000
/* Without a pidfd, how often to look whether the child has exited. */
#define PROC_TICK_MS 100

/* What the child reports through the status pipe when it cannot exec. */
enum child_stage {
        STAGE_SETPGID,
        STAGE_DUP,
        STAGE_CHDIR,
        STAGE_EXEC,
};

struct child_report {
        int stage;
        int err;
};

struct line_buf {
        int fd;               /* read end, or -1 at EOF */
        int stream;           /* STREAM_STDOUT or STREAM_STDERR */
        char *buf;            /* PROC_LINE_PIECE + 1 bytes */
        size_t len;
        bool after_piece;     /* the last delivery was a full piece */
};

struct reader {
        const struct action_ctx *ctx;
        struct line_buf lines[2];
        char *out;            /* stdout_cap + 1 bytes */
        size_t out_len;
        bool out_truncated;
        char *ring;           /* ACTION_STDERR_TAIL + 1 bytes */
        size_t ring_head;     /* where the next byte goes */
        size_t ring_len;
};

static void reader_free(struct reader *r)
{
        free_many(r->lines[0].buf, r->lines[1].buf, r->out, r->ring);
        for (size_t i = 0; i < ELEMENTSOF(r->lines); i++)
                if (r->lines[i].fd >= 0)
                        close(r->lines[i].fd);
}

/* ---- output handling ---------------------------------------------------- */

static void keep_stdout(struct reader *r, const char *p, size_t n)
{
        size_t room = r->ctx->stdout_cap - r->out_len;

        if (r->out_truncated)
                return;
        if (n > room) {
                n = room;
                r->out_truncated = true;
        }
        memcpy(r->out + r->out_len, p, n);
        r->out_len += n;
}

static void keep_stderr(struct reader *r, const char *p, size_t n)
{
        const size_t cap = ACTION_STDERR_TAIL;

        if (n >= cap) {
                memcpy(r->ring, p + n - cap, cap);
                r->ring_head = 0;
                r->ring_len = cap;
                return;
        }
        while (n > 0) {
                size_t chunk = cap - r->ring_head;

                if (chunk > n)
                        chunk = n;
                memcpy(r->ring + r->ring_head, p, chunk);
                r->ring_head = (r->ring_head + chunk) % cap;
                r->ring_len = r->ring_len + chunk > cap ? cap : r->ring_len + chunk;
                p += chunk;
                n -= chunk;
        }
}

static void reverse(char *p, size_t n)
{
        for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
                char c = p[i];

                p[i] = p[j - 1];
                p[j - 1] = c;
        }
}

/* Puts the ring in order in place, so it can be handed on as a string. */
static void ring_linearise(struct reader *r)
{
        if (r->ring_len == ACTION_STDERR_TAIL && r->ring_head != 0) {
                reverse(r->ring, r->ring_head);
                reverse(r->ring + r->ring_head, ACTION_STDERR_TAIL - r->ring_head);
                reverse(r->ring, ACTION_STDERR_TAIL);
        }
        r->ring[r->ring_len] = '\0';
        r->ring_head = 0;
}

/* Hands one line to the sink.  `p[len]` is writable and becomes a NUL, so
 * the sink may also treat the line as a string. */
static void deliver(struct reader *r, struct line_buf *lb, char *p, size_t len, bool piece)
{
        /* A line that filled whole pieces ends with an empty remainder:
         * that remainder is not a line of its own. */
        if (!piece && len == 0 && lb->after_piece) {
                lb->after_piece = false;
                return;
        }
        lb->after_piece = piece;
        p[len] = '\0';
        if (r->ctx->on_line)
                r->ctx->on_line(r->ctx->userdata, lb->stream, p, len);
}

/* Takes in `n` new bytes already read to lb->buf + lb->len. */
static void take_bytes(struct reader *r, struct line_buf *lb, size_t n)
{
        size_t start = 0, scan = lb->len;
        char *nl;

        if (lb->stream == STREAM_STDOUT)
                keep_stdout(r, lb->buf + lb->len, n);
        else
                keep_stderr(r, lb->buf + lb->len, n);
        lb->len += n;

        while ((nl = memchr(lb->buf + scan, '\n', lb->len - scan)) != NULL) {
                size_t end = (size_t)(nl - lb->buf);

                deliver(r, lb, lb->buf + start, end - start, false);
                start = scan = end + 1;
        }
        if (start > 0) {
                memmove(lb->buf, lb->buf + start, lb->len - start);
                lb->len -= start;
        }
        if (lb->len == PROC_LINE_PIECE) {
                deliver(r, lb, lb->buf, lb->len, true);
                lb->len = 0;
        }
}

static void end_of_stream(struct reader *r, struct line_buf *lb)
{
        if (lb->len > 0)
                deliver(r, lb, lb->buf, lb->len, false);
        lb->len = 0;
        close(lb->fd);
        lb->fd = -1;
}

/* Reads once from a ready pipe: 1 when bytes came (or none yet), 0 at
 * the end of the stream (the caller then calls end_of_stream). */
static int read_ready(struct reader *r, struct line_buf *lb)
{
        ssize_t n = read(lb->fd, lb->buf + lb->len, PROC_LINE_PIECE - lb->len);

        if (n > 0)
                take_bytes(r, lb, (size_t)n);
        return n > 0 || (n < 0 && (errno == EINTR || errno == EAGAIN));
}

/* ---- the child ---------------------------------------------------------- */

static void close_fds_from(int first, int last)
{
        if (first > last)
                return;
#ifdef SYS_close_range
        if (syscall(SYS_close_range, (unsigned)first, (unsigned)last, 0u) == 0)
                return;
#endif
        for (int fd = first; fd <= last; fd++)
                close(fd);
}

static _Noreturn void child_fail(int report_fd, enum child_stage stage)
{
        struct child_report rep = { .stage = stage, .err = errno };
        ssize_t n;

        do
                n = write(report_fd, &rep, sizeof rep);
        while (n < 0 && errno == EINTR);
        _exit(127);
}

/* Runs in the forked child with every signal blocked: only
 * async-signal-safe calls from here to execve. */
static _Noreturn void child_exec(char *const argv[], char *const envp[], const char *cwd,
                                 int null_fd, int out_fd, int err_fd, int report_fd,
                                 int script_fd, int max_fd, pid_t parent)
{
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigset_t none;

        if (setpgid(0, 0) < 0)
                child_fail(report_fd, STAGE_SETPGID);
        /* The child is told to stop when opentoe dies (the runner's guard
         * stops the rest of its group); if opentoe is already gone, stop
         * now. */
        (void)prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
                _exit(127);
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void)sigaction(sig, &dfl, NULL);

        /* Every descriptor here is above 2, so dup2 cannot clobber one
         * that is still to be duplicated. */
        if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
            dup2(err_fd, STDERR_FILENO) < 0)
                child_fail(report_fd, STAGE_DUP);
        if (cwd && chdir(cwd) < 0)
                child_fail(report_fd, STAGE_CHDIR);

        /* A script given as a descriptor is the child's descriptor 3. */
        int first_closed = 3;
        if (script_fd >= 0) {
                if (report_fd == 3) {
                        report_fd = fcntl(report_fd, F_DUPFD_CLOEXEC, 4);
                        if (report_fd < 0)
                                _exit(127);
                }
                if (script_fd == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(script_fd, 3) < 0)
                        child_fail(report_fd, STAGE_DUP);
                first_closed = 4;
        }
        /* report_fd is close-on-exec: its EOF tells the parent exec worked. */
        close_fds_from(first_closed, report_fd - 1);
        close_fds_from(report_fd + 1, max_fd);

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(argv[0], argv, envp);
        child_fail(report_fd, STAGE_EXEC);
}

/* ---- the parent --------------------------------------------------------- */

/* Moves a descriptor above stdin/stdout/stderr (opentoe may have been
 * started with some of them closed), keeping it close-on-exec. */
static int fd_above_stdio(int *fd)
{
        int nfd;

        if (*fd > STDERR_FILENO)
                return 0;
        nfd = fcntl(*fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
        if (nfd < 0)
                return -errno;
        close(*fd);
        *fd = nfd;
        return 0;
}

static int make_pipe(int p[2])
{
        int r;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        r = fd_above_stdio(&p[0]);
        if (r >= 0)
                r = fd_above_stdio(&p[1]);
        return r;
}

static void close_pair(int p[2])
{
        for (int i = 0; i < 2; i++)
                if (p[i] >= 0) {
                        close(p[i]);
                        p[i] = -1;
                }
}

/* The environment less what belongs to opentoe's own supervisor. */
static char **child_environment(void)
{
        size_t n = 0, k = 0;
        char **envp;

        for (char **e = environ; e && *e; e++)
                n++;
        envp = calloc(n + 1, sizeof *envp);
        if (!envp)
                return NULL;
        for (char **e = environ; e && *e; e++)
                if (strncmp(*e, "NOTIFY_SOCKET=", 14) != 0)
                        envp[k++] = *e;
        return envp;
}

/* The highest descriptor the child may have to close when the kernel has
 * no close_range (Linux before 5.9): bounded, so the loop stays short. */
static int highest_fd(void)
{
        const rlim_t bound = 1u << 20; /* Linux's default fs.nr_open */
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
            rl.rlim_cur <= bound)
                return (int)rl.rlim_cur - 1;
        return (int)bound - 1;
}

/* True once the child has exited.  WNOWAIT leaves it a zombie, so its pid,
 * and with it the process group id, cannot be reused while we may still
 * signal the group. */
bool proc_exited(pid_t pid)
{
        siginfo_t si;

        for (;;) {
                memset(&si, 0, sizeof si);
                if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
                        return si.si_pid == pid;
                if (errno != EINTR)
                        return true; /* ECHILD: reaped behind our back */
        }
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
        long fd = syscall(SYS_pidfd_open, pid, 0);

        if (fd >= 0)
                return (int)fd;
#endif
        return -1;
}

/* vfork: the child borrows our memory until it execs (or exits), so a
 * spawn costs the same however much opentoe has mapped (the event loop's
 * libraries included).  child_exec() makes only system calls, on its own
 * stack frames, and never returns.  In a frame of its own, so that
 * nothing of the caller's lives across the vfork. */
static __attribute__((noinline)) pid_t vfork_exec(char *const argv[], char *const envp[], const char *cwd,
                                                  int null_fd, int out_fd, int err_fd, int report_fd,
                                                  int script_fd, int max_fd, pid_t parent)
{
        pid_t pid = vfork();

        if (pid == 0)
                child_exec(argv, envp, cwd, null_fd, out_fd, err_fd, report_fd, script_fd, max_fd, parent);
        return pid;
}

/* Starts the child: returns its pid, or a negative errno with *reterr_msg
 * set.  Once fork has been tried, the child's ends of the pipes are closed
 * (and set to -1); before that, the caller closes them. */
static pid_t spawn(const struct action_ctx *ctx, char *const argv[], const char *cwd, int script_fd,
                   int out_pipe[2], int err_pipe[2], const char **reterr_msg)
{
        _cleanup_free_ char **envp = NULL;
        _cleanup_close_ int null_fd = -1;
        int report[2] = { -1, -1 };
        struct child_report rep;
        sigset_t all, old;
        int max_fd = highest_fd();
        pid_t pid, self;
        int r;

        envp = child_environment();
        if (!envp) {
                *reterr_msg = "out of memory";
                return -ENOMEM;
        }
        null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        r = null_fd < 0 ? -errno : fd_above_stdio(&null_fd);
        if (r < 0) {
                *reterr_msg = "cannot open /dev/null";
                return r;
        }
        r = make_pipe(report);
        if (r < 0) {
                close_pair(report);
                *reterr_msg = "cannot create a pipe";
                return r;
        }

        /* No handler of ours may run in the child before it resets them. */
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, &old);
        self = getpid();
        pid = vfork_exec(argv, envp, cwd, null_fd, out_pipe[1], err_pipe[1], report[1], script_fd, max_fd, self);
        r = pid < 0 ? -errno : 0;
        sigprocmask(SIG_SETMASK, &old, NULL);

        close(out_pipe[1]);
        close(err_pipe[1]);
        out_pipe[1] = err_pipe[1] = -1;
        close(report[1]);
        report[1] = -1;
        if (pid < 0) {
                close_pair(report);
                *reterr_msg = "cannot fork";
                return r;
        }
        /* Also here, so the group exists before we might signal it. */
        (void)setpgid(pid, pid);
        /* Known from here on, before anything it starts can escape notice. */
        if (ctx->on_spawn)
                ctx->on_spawn(ctx->userdata, pid);

        size_t got = 0;
        while (got < sizeof rep) {
                ssize_t n = read(report[0], (char *)&rep + got, sizeof rep - got);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                got += (size_t)n;
        }
        close_pair(report);
        if (got == 0)
                return pid;

        /* The runner lets go of the group while the child is still a
         * zombie: its number cannot be reused until the reaping. */
        if (ctx->on_spawn)
                ctx->on_spawn(ctx->userdata, 0);
        (void)child_wait(pid, NULL);
        if (got < sizeof rep)
                rep = (struct child_report){ .stage = STAGE_EXEC, .err = EIO };
        switch (rep.stage) {
        case STAGE_SETPGID:
                *reterr_msg = "cannot give the child its own process group";
                break;
        case STAGE_DUP:
                *reterr_msg = "cannot set up the child's standard streams";
                break;
        case STAGE_CHDIR:
                *reterr_msg = "chdir";
                break;
        default:
                *reterr_msg = "fork/exec";
                break;
        }
        return rep.err > 0 ? -rep.err : -EIO;
}

/* ---- the job on the loop ----------------------------------------------- */

struct proc_job {
        const struct action_ctx *ctx;
        struct reader r;
        pid_t pid;
        int pidfd;                      /* -1: no pidfd, the tick looks instead */
        sd_event_source *pipe_src[2];   /* stdout, stderr */
        sd_event_source *exit_src;      /* the pidfd, or the tick */
        sd_event_source *end_src;       /* the end of the drain (or now: cancelled after the exit) */
        bool exited;
        int cancelled;                  /* enum action_cancel_reason before the exit, or -1 */
        proc_done_fn done;
        void *userdata;
};

static void job_free(struct proc_job *j)
{
        for (size_t i = 0; i < ELEMENTSOF(j->pipe_src); i++)
                sdev->source_disable_unref(j->pipe_src[i]);
        sdev->source_disable_unref(j->exit_src);
        sdev->source_disable_unref(j->end_src);
        if (j->pidfd >= 0)
                close(j->pidfd);
        reader_free(&j->r);
        free(j);
}

static bool pipes_open(const struct proc_job *j)
{
        return j->r.lines[0].fd >= 0 || j->r.lines[1].fd >= 0;
}

/* The end: what is left in the pipes delivered, the runner told the
 * group is no longer the step's (while the child is still a zombie, so
 * the runner may still signal the group), the child reaped, the result
 * handed over, the job freed. */
static void job_finish(struct proc_job *j)
{
        const struct action_ctx *ctx = j->ctx;
        struct proc_result res = { .exit_code = -1 };
        int status = 0;

        for (size_t i = 0; i < ELEMENTSOF(j->r.lines); i++) {
                j->pipe_src[i] = sdev->source_disable_unref(j->pipe_src[i]);
                if (j->r.lines[i].fd >= 0)
                        end_of_stream(&j->r, &j->r.lines[i]);
        }
        /* What the step left running in the background is its own. */
        if (ctx->on_spawn)
                ctx->on_spawn(ctx->userdata, 0);
        /* -ECHILD when it was reaped elsewhere (SIGCHLD set to SIG_IGN),
         * and its status is lost. */
        int reaped = child_wait(j->pid, &status);
        if (reaped < 0) {
                /* Neither exit code nor signal: proc_to_action_result
                 * words it as Go does. */
        } else if (WIFEXITED(status)) {
                res.exit_code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
                res.exit_code = -1;
                res.term_signal = WTERMSIG(status);
        }
        res.timed_out = j->cancelled == ACTION_CANCEL_DEADLINE;
        res.interrupted = j->cancelled == ACTION_CANCEL_INTERRUPT;
        struct reader *r = &j->r;
        r->out[r->out_len] = '\0';
        res.out_len = r->out_len;
        res.out_truncated = r->out_truncated;
        res.out = TAKE_PTR(r->out);
        if (res.out_len + 1 < ctx->stdout_cap / 2) {
                /* Give back what a short output did not use. */
                char *shrunk = realloc(res.out, res.out_len + 1);

                if (shrunk)
                        res.out = shrunk;
        }
        ring_linearise(r);
        res.err_len = r->ring_len;
        res.err_tail = TAKE_PTR(r->ring);
        proc_done_fn done = j->done;
        void *userdata = j->userdata;
        job_free(j);
        done(userdata, &res);
}

static int on_end(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void)s;
        (void)usec;
        job_finish(userdata);
        return 0;
}

/* Ends the job at `usec` (CLOCK_MONOTONIC), or at once for 0. */
static int end_at(struct proc_job *j, uint64_t usec)
{
        if (j->end_src)
                return sdev->source_set_time(j->end_src, usec);
        return sdev->add_time(j->ctx->event, &j->end_src, CLOCK_MONOTONIC, usec, 1, on_end, j);
}

/* The child has exited: output still in the pipes is read for a while
 * (a grandchild holding them open does not hold the step longer). */
static void child_gone(struct proc_job *j)
{
        j->exited = true;
        j->exit_src = sdev->source_disable_unref(j->exit_src);
        if (!pipes_open(j)) {
                job_finish(j);
                return;
        }
        if (end_at(j, (uint64_t)(monotonic_ms() + PROC_DRAIN_MS) * 1000) < 0)
                job_finish(j);
}

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct proc_job *j = userdata;

        (void)s;
        (void)fd;
        (void)revents;
        if (proc_exited(j->pid))
                child_gone(j);
        return 0;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct proc_job *j = userdata;

        if (proc_exited(j->pid)) {
                child_gone(j);
                return 0;
        }
        (void)sdev->source_set_time(s, usec + PROC_TICK_MS * 1000);
        return sdev->source_set_enabled(s, SD_EVENT_ONESHOT);
}

static int on_pipe(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct proc_job *j = userdata;
        size_t i = j->r.lines[0].fd == fd ? 0 : 1;

        (void)revents;
        if (read_ready(&j->r, &j->r.lines[i]))
                return 0;
        /* Out of the loop before the descriptor closes. */
        j->pipe_src[i] = sdev->source_disable_unref(s);
        end_of_stream(&j->r, &j->r.lines[i]);
        if (j->exited && !pipes_open(j))
                job_finish(j);
        return 0;
}

static int watch_sources(struct proc_job *j)
{
        sd_event *e = j->ctx->event;
        int r = 0;

        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(j->r.lines); i++)
                r = sdev->add_io(e, &j->pipe_src[i], j->r.lines[i].fd, EPOLLIN, on_pipe, j);
        if (r < 0)
                return r;
        j->pidfd = open_pidfd(j->pid);
        if (j->pidfd >= 0)
                return sdev->add_io(e, &j->exit_src, j->pidfd, EPOLLIN, on_pidfd, j);
        return sdev->add_time(e, &j->exit_src, CLOCK_MONOTONIC,
                                 (uint64_t)(monotonic_ms() + PROC_TICK_MS) * 1000, 1, on_tick, j);
}

int proc_start(const struct action_ctx *ctx, char *const argv[], const char *cwd, int script_fd,
               proc_done_fn done, void *userdata, struct proc_job **ret_job, const char **reterr_msg)
{
        int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
        struct proc_job *j;
        pid_t pid;
        int rc;

        if (!argv || !argv[0]) {
                *reterr_msg = "no program to run";
                return -EINVAL;
        }
        if (!ctx->event) {
                *reterr_msg = "no event loop";
                return -EINVAL;
        }
        j = calloc(1, sizeof *j);
        if (!j) {
                *reterr_msg = "out of memory";
                return -ENOMEM;
        }
        *j = (struct proc_job){
                .ctx = ctx,
                .r = { .ctx = ctx,
                       .lines = { { .fd = -1, .stream = STREAM_STDOUT },
                                  { .fd = -1, .stream = STREAM_STDERR } } },
                .pid = -1,
                .pidfd = -1,
                .cancelled = -1,
                .done = done,
                .userdata = userdata,
        };
        j->r.lines[0].buf = malloc(PROC_LINE_PIECE + 1);
        j->r.lines[1].buf = malloc(PROC_LINE_PIECE + 1);
        j->r.out = malloc(ctx->stdout_cap < SIZE_MAX ? ctx->stdout_cap + 1 : SIZE_MAX);
        j->r.ring = malloc(ACTION_STDERR_TAIL + 1);
        if (!j->r.lines[0].buf || !j->r.lines[1].buf || !j->r.out || !j->r.ring) {
                *reterr_msg = "out of memory";
                rc = -ENOMEM;
                goto fail;
        }

        rc = make_pipe(out_pipe);
        if (rc >= 0)
                rc = make_pipe(err_pipe);
        if (rc < 0) {
                *reterr_msg = "cannot create a pipe";
                goto fail;
        }
        j->r.lines[0].fd = out_pipe[0];
        j->r.lines[1].fd = err_pipe[0];
        out_pipe[0] = err_pipe[0] = -1;
        for (size_t i = 0; i < ELEMENTSOF(j->r.lines); i++)
                (void)fcntl(j->r.lines[i].fd, F_SETFL, fcntl(j->r.lines[i].fd, F_GETFL) | O_NONBLOCK);

        pid = spawn(ctx, argv, cwd, script_fd, out_pipe, err_pipe, reterr_msg);
        if (pid < 0) {
                rc = pid;
                goto fail;
        }
        j->pid = pid;
        rc = watch_sources(j);
        if (rc < 0) {
                /* Cannot watch it: end the child rather than leave it
                 * running unsupervised. */
                *reterr_msg = "cannot wait for the child's output";
                (void)kill(-pid, SIGKILL);
                if (ctx->on_spawn)
                        ctx->on_spawn(ctx->userdata, 0);
                (void)child_wait(pid, NULL);
                goto fail;
        }
        *ret_job = j;
        return 0;
fail:
        close_pair(out_pipe);
        close_pair(err_pipe);
        job_free(j);
        return rc;
}

void proc_cancel(struct proc_job *j, enum action_cancel_reason why)
{
        if (j->exited) {
                /* Its time is up while the pipes drain: the step ends
                 * now, not timed out (the child ended on its own). */
                if (why == ACTION_CANCEL_DEADLINE && end_at(j, 0) < 0)
                        job_finish(j);
                return;
        }
        if (j->cancelled < 0)
                j->cancelled = (int)why;
}

void proc_result_free(struct proc_result *r)
{
        if (!r)
                return;
        free(r->out);
        free(r->err_tail);
        *r = (struct proc_result){ .exit_code = -1 };
}
