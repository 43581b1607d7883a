/* process.c: running one child process for an action module.  This file
 * owns fork and exec (own process group, stdin from /dev/null, no other
 * descriptors, default signal state, no NOTIFY_SOCKET, SIGTERM when opentoe
 * dies), telling the runner the new group (ctx->on_spawn), the poll loop that
 * splits the child's stdout and stderr into lines for the runner's sink,
 * the bounded capture of stdout and of the tail of stderr, the deadline
 * (SIGTERM to the group, SIGKILL after the grace period), reaping, and the
 * translation of a finished process into an action result with Go's
 * wording ("exit status 1", "signal: killed").
 *
 * Memory is bounded whatever the child prints: two line buffers of
 * PROC_LINE_PIECE bytes, a stderr ring of ACTION_STDERR_TAIL bytes and at
 * most ctx->stdout_cap bytes of stdout, all allocated before the fork. */
#include "process.h"

#include "interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
        free(r->lines[0].buf);
        free(r->lines[1].buf);
        free(r->out);
        free(r->ring);
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

/* Reads once from a ready pipe. */
static void read_ready(struct reader *r, struct line_buf *lb)
{
        ssize_t n = read(lb->fd, lb->buf + lb->len, PROC_LINE_PIECE - lb->len);

        if (n > 0)
                take_bytes(r, lb, (size_t)n);
        else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                end_of_stream(r, lb);
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

/* Waits for the child; -ECHILD when it was reaped elsewhere (SIGCHLD set
 * to SIG_IGN), and its status is lost. */
static int reap(pid_t pid, int *ret_status)
{
        int status = 0;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (ret_status)
                *ret_status = status;
        return 0;
}

/* True once the child has exited.  WNOWAIT leaves it a zombie, so its pid,
 * and with it the process group id, cannot be reused while we may still
 * signal the group. */
static bool child_exited(pid_t pid)
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

static int64_t min_wait(int64_t a, int64_t b)
{
        if (a < 0)
                return b;
        if (b < 0)
                return a;
        return a < b ? a : b;
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
        size_t got = 0;
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
        pid = fork();
        if (pid == 0)
                child_exec(argv, envp, cwd, null_fd, out_pipe[1], err_pipe[1], report[1], script_fd,
                           max_fd, self);
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

        (void)reap(pid, NULL);
        if (ctx->on_spawn)
                ctx->on_spawn(ctx->userdata, 0);
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

int proc_run(const struct action_ctx *ctx, char *const argv[], const char *cwd,
             struct proc_result *ret, const char **reterr_msg)
{
        return proc_run_fd(ctx, argv, cwd, -1, ret, reterr_msg);
}

int proc_run_fd(const struct action_ctx *ctx, char *const argv[], const char *cwd, int script_fd,
                struct proc_result *ret, const char **reterr_msg)
{
        struct reader r = {
                .ctx = ctx,
                .lines = { { .fd = -1, .stream = STREAM_STDOUT },
                           { .fd = -1, .stream = STREAM_STDERR } },
        };
        int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
        int64_t deadline = ctx->deadline_ms;
        int64_t grace = ctx->kill_grace_ms > 0 ? ctx->kill_grace_ms : 0;
        int64_t kill_at = -1, drain_until = -1;
        bool exited = false, term_sent = false, kill_sent = false;
        _cleanup_close_ int pidfd = -1;
        struct proc_result res = { .exit_code = -1 };
        int status = 0, rc;
        pid_t pid;

        if (!argv || !argv[0]) {
                *reterr_msg = "no program to run";
                return -EINVAL;
        }

        r.lines[0].buf = malloc(PROC_LINE_PIECE + 1);
        r.lines[1].buf = malloc(PROC_LINE_PIECE + 1);
        r.out = malloc(ctx->stdout_cap < SIZE_MAX ? ctx->stdout_cap + 1 : SIZE_MAX);
        r.ring = malloc(ACTION_STDERR_TAIL + 1);
        if (!r.lines[0].buf || !r.lines[1].buf || !r.out || !r.ring) {
                *reterr_msg = "out of memory";
                rc = -ENOMEM;
                goto out;
        }

        rc = make_pipe(out_pipe);
        if (rc >= 0)
                rc = make_pipe(err_pipe);
        if (rc < 0) {
                *reterr_msg = "cannot create a pipe";
                goto out;
        }
        r.lines[0].fd = out_pipe[0];
        r.lines[1].fd = err_pipe[0];
        out_pipe[0] = err_pipe[0] = -1;
        for (size_t i = 0; i < ELEMENTSOF(r.lines); i++)
                (void)fcntl(r.lines[i].fd, F_SETFL, fcntl(r.lines[i].fd, F_GETFL) | O_NONBLOCK);

        pid = spawn(ctx, argv, cwd, script_fd, out_pipe, err_pipe, reterr_msg);
        if (pid < 0) {
                rc = pid;
                goto out;
        }
        pidfd = open_pidfd(pid);

        for (;;) {
                struct pollfd pfd[3];
                int64_t now = monotonic_ms(), wait = -1;
                bool open_pipes = r.lines[0].fd >= 0 || r.lines[1].fd >= 0;
                int n;

                if (!exited && child_exited(pid)) {
                        exited = true;
                        drain_until = now + PROC_DRAIN_MS;
                        if (!term_sent && deadline >= 0 && deadline < drain_until)
                                drain_until = deadline;
                }
                if (!exited && !term_sent && deadline >= 0 && now >= deadline) {
                        (void)kill(-pid, SIGTERM);
                        term_sent = true;
                        kill_at = now + grace;
                }
                /* opentoe itself is being stopped: so is the step. */
                if (!exited && !term_sent && interrupt_signal) {
                        (void)kill(-pid, SIGTERM);
                        term_sent = true;
                        res.interrupted = true;
                        kill_at = now + grace;
                }
                if (term_sent && !kill_sent && now >= kill_at) {
                        (void)kill(-pid, SIGKILL);
                        kill_sent = true;
                }
                if (exited && (!open_pipes || now >= drain_until))
                        break;

                if (!exited && !term_sent && deadline >= 0)
                        wait = min_wait(wait, deadline - now);
                if (term_sent && !kill_sent)
                        wait = min_wait(wait, kill_at - now);
                if (exited)
                        wait = min_wait(wait, drain_until - now);
                else
                        /* Also bounds the wait for a signal that came just
                         * before poll() started. */
                        wait = min_wait(wait, PROC_TICK_MS);
                if (wait > INT_MAX)
                        wait = INT_MAX;

                pfd[0] = (struct pollfd){ .fd = r.lines[0].fd, .events = POLLIN };
                pfd[1] = (struct pollfd){ .fd = r.lines[1].fd, .events = POLLIN };
                pfd[2] = (struct pollfd){ .fd = exited ? -1 : pidfd, .events = POLLIN };
                n = poll(pfd, ELEMENTSOF(pfd), (int)wait);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        /* Cannot wait any more: end the child rather than
                         * leave it running unsupervised. */
                        rc = -errno;
                        *reterr_msg = "cannot wait for the child's output";
                        (void)kill(-pid, SIGKILL);
                        (void)reap(pid, NULL);
                        if (ctx->on_spawn)
                                ctx->on_spawn(ctx->userdata, 0);
                        goto out;
                }
                for (size_t i = 0; i < ELEMENTSOF(r.lines); i++)
                        if (pfd[i].fd >= 0 &&
                            (pfd[i].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
                                read_ready(&r, &r.lines[i]);
        }

        /* After a timeout nothing of the group may outlive the step, even
         * when the child itself went at SIGTERM. */
        if (term_sent && !kill_sent)
                (void)kill(-pid, SIGKILL);
        for (size_t i = 0; i < ELEMENTSOF(r.lines); i++)
                if (r.lines[i].fd >= 0)
                        end_of_stream(&r, &r.lines[i]);
        int reaped = reap(pid, &status);
        /* What the step left running in the background is its own. */
        if (ctx->on_spawn)
                ctx->on_spawn(ctx->userdata, 0);
        if (reaped < 0) {
                /* Neither exit code nor signal: proc_to_action_result
                 * words it as Go does. */
        } else if (WIFEXITED(status)) {
                res.exit_code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
                res.exit_code = -1;
                res.term_signal = WTERMSIG(status);
        }
        res.timed_out = term_sent && !res.interrupted;
        r.out[r.out_len] = '\0';
        res.out_len = r.out_len;
        res.out_truncated = r.out_truncated;
        res.out = TAKE_PTR(r.out);
        if (res.out_len + 1 < ctx->stdout_cap / 2) {
                /* Give back what a short output did not use. */
                char *shrunk = realloc(res.out, res.out_len + 1);

                if (shrunk)
                        res.out = shrunk;
        }
        ring_linearise(&r);
        res.err_len = r.ring_len;
        res.err_tail = TAKE_PTR(r.ring);
        *ret = res;
        rc = 0;
out:
        close_pair(out_pipe);
        close_pair(err_pipe);
        reader_free(&r);
        return rc;
}

void proc_result_free(struct proc_result *r)
{
        if (!r)
                return;
        free(r->out);
        free(r->err_tail);
        *r = (struct proc_result){ .exit_code = -1 };
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

/* Length of the well-formed UTF-8 sequence at p, or 0 if there is none
 * (overlong forms, surrogates and values past U+10FFFF are not). */
static size_t utf8_seq_len(const unsigned char *p, size_t n)
{
        unsigned char lo = 0x80, hi = 0xBF;
        size_t len;

        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xC2 && p[0] <= 0xDF)
                len = 2;
        else if (p[0] >= 0xE0 && p[0] <= 0xEF)
                len = 3;
        else if (p[0] >= 0xF0 && p[0] <= 0xF4)
                len = 4;
        else
                return 0;
        if (p[0] == 0xE0)
                lo = 0xA0;
        else if (p[0] == 0xED)
                hi = 0x9F;
        else if (p[0] == 0xF0)
                lo = 0x90;
        else if (p[0] == 0xF4)
                hi = 0x8F;
        if (n < len || p[1] < lo || p[1] > hi)
                return 0;
        for (size_t i = 2; i < len; i++)
                if (p[i] < 0x80 || p[i] > 0xBF)
                        return 0;
        return len;
}

/* A JSON string of arbitrary bytes: each byte that is not part of
 * well-formed UTF-8 becomes U+FFFD, as Go's encoding/json does. */
static json_t *json_string_lossy(const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *)s;
        _cleanup_free_ char *fixed = NULL;
        json_t *j = json_stringn(s, n);
        size_t k = 0;

        if (j)
                return j;
        if (n > (SIZE_MAX - 1) / 3)
                return NULL;
        fixed = malloc(3 * n + 1);
        if (!fixed)
                return NULL;
        for (size_t i = 0; i < n;) {
                size_t len = utf8_seq_len(p + i, n - i);

                if (len == 0) {
                        memcpy(fixed + k, "\xEF\xBF\xBD", 3);
                        k += 3;
                        i++;
                } else {
                        memcpy(fixed + k, s + i, len);
                        k += len;
                        i += len;
                }
        }
        return json_stringn(fixed, k);
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

static int vasprintf_msg(char **ret, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));
static int vasprintf_msg(char **ret, const char *fmt, va_list ap)
{
        char *s = NULL;

        if (vasprintf(&s, fmt, ap) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int asprintf_msg(char **ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int asprintf_msg(char **ret, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf_msg(ret, fmt, ap);
        va_end(ap);
        return r;
}

int proc_to_action_result(const struct proc_result *p, const struct action_ctx *ctx,
                          struct action_result *ret)
{
        struct action_result res = { .exit_code = p->exit_code };
        const char *sig;
        int r = 0;

        if (p->interrupted) {
                res.status = ACTION_FAILED;
                r = asprintf_msg(&res.message, "interrupted: opentoe received signal %d; the process group was stopped",
                                 (int)interrupt_signal);
        } else if (p->timed_out) {
                res.status = ACTION_TIMED_OUT;
                res.message = strdup("step timed out after the deadline; "
                                     "the process group was killed");
                r = res.message ? 0 : -ENOMEM;
        } else if (p->term_signal != 0) {
                res.status = ACTION_FAILED;
                sig = signal_name(p->term_signal);
                r = sig ? asprintf_msg(&res.message, "signal: %s", sig)
                        : asprintf_msg(&res.message, "signal: signal %d", p->term_signal);
        } else if (p->exit_code < 0) {
                /* The status was lost (the child was reaped elsewhere). */
                res.status = ACTION_FAILED;
                res.message = strdup("wait: no child processes");
                r = res.message ? 0 : -ENOMEM;
        } else if (p->exit_code == 0) {
                res.status = ACTION_SUCCESS;
        } else if (p->exit_code == 194) {
                res.status = ACTION_REBOOT;
        } else {
                res.status = ACTION_FAILED;
                r = asprintf_msg(&res.message, "exit status %d", p->exit_code);
        }
        if (r >= 0) {
                res.outputs = stdout_outputs(p->out ? p->out : "", p->out ? p->out_len : 0);
                if (!res.outputs)
                        r = -ENOMEM;
        }
        if (r >= 0 && p->err_tail && p->err_len > 0) {
                res.stderr_tail = strndup(p->err_tail, p->err_len);
                if (!res.stderr_tail)
                        r = -ENOMEM;
        }
        if (r < 0) {
                action_result_clear(&res);
                return r;
        }
        res.stdout_truncated = p->out_truncated;
        *ret = res;
        return 0;
}

int proc_fail(struct action_result *ret, const char *fmt, ...)
{
        struct action_result res = { .status = ACTION_FAILED, .exit_code = -1 };
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf_msg(&res.message, fmt, ap);
        va_end(ap);
        if (r >= 0) {
                res.outputs = stdout_outputs("", 0);
                if (!res.outputs)
                        r = -ENOMEM;
        }
        if (r < 0) {
                action_result_clear(&res);
                return r;
        }
        *ret = res;
        return 0;
}

/* strerror as Go spells syscall errors: the same words, lower-case first. */
static void go_strerror(int err, char *buf, size_t size)
{
        snprintf(buf, size, "%s", strerror(err));
        if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
                buf[0] = (char)(buf[0] - 'A' + 'a');
}

int proc_start_failure(int err, const char *path, const char *errmsg,
                       struct action_result *ret)
{
        char text[256];

        if (err == -ENOMEM || err == -EAGAIN || err == -EMFILE || err == -ENFILE)
                return err;
        go_strerror(-err, text, sizeof text);
        if (errmsg && strcmp(errmsg, "fork/exec") == 0)
                return proc_fail(ret, "fork/exec %s: %s", path, text);
        return proc_fail(ret, "%s: %s", errmsg ? errmsg : "cannot start the program", text);
}
