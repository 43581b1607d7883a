/* guardian.c: the guard process that stops a dead runner's step, and the
 * resumed run's search for a group a dead run left (see guardian.h). */
#include "guardian.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "cleanup.h"
#include "tunables.h"

/* How often a stop looks whether the group is gone. */
#define POLL_MS 20
/* The message that ends the guard without stopping anything. */
#define GUARD_END (-1)

/* What the runner tells the guard: the group running a step (0: none)
 * and its leader's start time, so a number reused meanwhile is not
 * taken for it. */
struct guard_msg {
        int32_t pgid;
        uint64_t leader_start;
};

static int guard_fd = -1;
static pid_t guard_pid = -1;

static bool read_stat(pid_t pid, pid_t *ret_pgrp, pid_t *ret_sid, unsigned long long *ret_start);
static int stop_leftover(pid_t pgid, unsigned long long leader_start, pid_t sid, int64_t grace_ms);

static void sleep_ms(int64_t ms)
{
        struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static bool group_alive(pid_t pgid);

/* SIGTERM to the group, up to `grace_ms` for it to go, then SIGKILL. */
static void stop_group(pid_t pgid, int64_t grace_ms)
{
        if (kill(-pgid, SIGTERM) < 0)
                return;
        for (int64_t waited = 0; waited < grace_ms; waited += POLL_MS) {
                if (!group_alive(pgid))
                        return;
                sleep_ms(POLL_MS);
        }
        (void)kill(-pgid, SIGKILL);
}

static void close_other_fds(int keep)
{
#ifdef SYS_close_range
        if (keep > 3)
                (void)syscall(SYS_close_range, 3u, (unsigned)keep - 1, 0u);
        if (syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u) == 0)
                return;
#endif
        long max = sysconf(_SC_OPEN_MAX);
        if (max < 0 || max > 65536)
                max = 65536;
        for (int fd = 3; fd < max; fd++)
                if (fd != keep)
                        close(fd);
}

static _Noreturn void guard_main(int rfd, int64_t grace_ms)
{
        /* Out of the way of the standard streams it replaces below (a
         * runner started with them closed may have been given 0 to 2). */
        if (rfd <= STDERR_FILENO) {
                int moved = fcntl(rfd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
                if (moved < 0)
                        _exit(1);
                rfd = moved;
        }
        /* The runner handles stopping signals; the guard outlives them. */
        struct sigaction ign = { .sa_handler = SIG_IGN };
        sigaction(SIGTERM, &ign, NULL);
        sigaction(SIGINT, &ign, NULL);
        sigaction(SIGHUP, &ign, NULL);
        sigaction(SIGPIPE, &ign, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        (void)prctl(PR_SET_NAME, "opentoe-guard");
        int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null_fd >= 0) {
                dup2(null_fd, STDIN_FILENO);
                dup2(null_fd, STDOUT_FILENO);
                dup2(null_fd, STDERR_FILENO);
        }
        close_other_fds(rfd);
        struct guard_msg now = { 0, 0 };
        for (;;) {
                struct guard_msg msg;
                ssize_t n = recv(rfd, &msg, sizeof msg, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n != (ssize_t)sizeof msg)
                        break;
                if (msg.pgid == GUARD_END)
                        _exit(0);
                now = msg;
        }
        /* The runner is gone without saying goodbye: the step it was
         * running is stopped, if it is still that step. */
        if (now.pgid > 0)
                (void)stop_leftover(now.pgid, now.leader_start, getsid(0), grace_ms);
        _exit(0);
}

int guardian_start(int64_t grace_ms)
{
        int p[2];
        /* A socket, not a pipe: a guard that died is an error to send to
         * (MSG_NOSIGNAL), not a SIGPIPE that kills the run. */
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p) < 0)
                return -errno;
        sigset_t all, old;
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, &old);
        pid_t pid = fork();
        if (pid == 0) {
                close(p[1]);
                guard_main(p[0], grace_ms);
        }
        int e = errno;
        sigprocmask(SIG_SETMASK, &old, NULL);
        close(p[0]);
        if (pid < 0) {
                close(p[1]);
                return -e;
        }
        guard_fd = p[1];
        guard_pid = pid;
        return 0;
}

static int guard_send(int32_t pgid, uint64_t leader_start)
{
        struct guard_msg msg = { pgid, leader_start };
        if (guard_fd < 0)
                return -ENOTCONN;
        ssize_t n;
        do
                n = send(guard_fd, &msg, sizeof msg, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n == (ssize_t)sizeof msg)
                return 0;
        /* The guard is gone (killed, say): the run goes on without one. */
        int e = n < 0 ? -errno : -EIO;
        close(guard_fd);
        guard_fd = -1;
        if (guard_pid > 0)
                (void)waitpid(guard_pid, NULL, WNOHANG);
        return e;
}

int guardian_watch(pid_t pgid, unsigned long long leader_start)
{
        return guard_send((int32_t)pgid, leader_start);
}

void guardian_end(void)
{
        if (guard_fd < 0)
                return;
        (void)guard_send(GUARD_END, 0);
        guard_fd = safe_close(guard_fd);
        (void)child_wait(guard_pid, NULL);
        guard_pid = -1;
}

void proc_boot_id(char buf[64])
{
        buf[0] = '\0';
        FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
        if (!f)
                return;
        if (fgets(buf, 64, f))
                buf[strcspn(buf, "\n")] = '\0';
        fclose(f);
}

/* Fields of /proc/PID/stat after the command name: the process group
 * (field 5) and the start time (field 22).  False for a process that is
 * gone or a zombie (it runs nothing any more). */
static bool read_stat(pid_t pid, pid_t *ret_pgrp, pid_t *ret_sid, unsigned long long *ret_start)
{
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        char *p = strrchr(buf, ')');
        if (!p)
                return false;
        p++;
        /* p is at " S ppid pgrp ..." : field 3 onwards. */
        char *save = NULL, *tok;
        int field = 2;
        long long pgrp = -1, sid = -1;
        unsigned long long start = 0;
        for (tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
                field++;
                if (field == 3 && (tok[0] == 'Z' || tok[0] == 'X'))
                        return false;
                if (field == 5)
                        pgrp = strtoll(tok, NULL, 10);
                if (field == 6)
                        sid = strtoll(tok, NULL, 10);
                if (field == 22) {
                        start = strtoull(tok, NULL, 10);
                        break;
                }
        }
        if (field != 22)
                return false;
        if (ret_pgrp)
                *ret_pgrp = (pid_t)pgrp;
        if (ret_sid)
                *ret_sid = (pid_t)sid;
        if (ret_start)
                *ret_start = start;
        return true;
}

unsigned long long proc_start_time(pid_t pid)
{
        unsigned long long start = 0;
        return read_stat(pid, NULL, NULL, &start) ? start : 0;
}

/* The members of `pgid` that may be the dead run's: in its session
 * (`sid`, or any when 0) and started no earlier than its leader did;
 * *ret_foreign counts the others. */
static int scan_group(pid_t pgid, pid_t sid, unsigned long long leader_start, pid_t *pids, int max,
                      int *ret_foreign)
{
        DIR *d = opendir("/proc");
        int n = 0;
        *ret_foreign = 0;
        if (!d)
                return 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                char *end;
                long v = strtol(e->d_name, &end, 10);
                if (*end || v <= 0)
                        continue;
                pid_t pgrp, psid;
                unsigned long long start;
                if (!read_stat((pid_t)v, &pgrp, &psid, &start) || pgrp != pgid)
                        continue;
                if (start < leader_start || (sid > 0 && psid != sid))
                        (*ret_foreign)++;
                else if (n < max)
                        pids[n++] = (pid_t)v;
        }
        closedir(d);
        return n;
}

/* Whether a process of the group still runs (zombies do not count: a
 * parent that does not reap them would otherwise make every stop wait). */
static bool group_alive(pid_t pgid)
{
        int foreign = 0;
        pid_t one[1];
        if (kill(-pgid, 0) < 0 && errno == ESRCH)
                return false;
        return scan_group(pgid, 0, 0, one, 1, &foreign) > 0;
}

/* Stops what is left of a step's group, if it is still that group.  A
 * number is not given again while any process has it as its group, so
 * when a process now has the leader's number but another start time,
 * the step's group had ended and the number belongs to someone else:
 * nothing is touched.  Without a leader, the members are the step's if
 * they are in its session and started after its leader. */
static int stop_leftover(pid_t pgid, unsigned long long leader_start, pid_t sid, int64_t grace_ms)
{
        unsigned long long start;
        if (read_stat(pgid, NULL, NULL, &start)) {
                if (start != leader_start)
                        return 0;
                stop_group(pgid, grace_ms);
                return 1;
        }
        pid_t pids[1024];
        int foreign = 0;
        int found = scan_group(pgid, sid, leader_start, pids, 1024, &foreign);
        if (found == 0)
                return 0;
        if (!foreign) {
                stop_group(pgid, grace_ms);
                return found;
        }
        /* Someone else's processes share the number: stop ours one by one. */
        for (int i = 0; i < found; i++)
                (void)kill(pids[i], SIGTERM);
        for (int64_t waited = 0; waited < grace_ms; waited += POLL_MS) {
                pid_t left[1024];
                if (scan_group(pgid, sid, leader_start, left, 1024, &foreign) == 0)
                        return found;
                sleep_ms(POLL_MS);
        }
        int left = scan_group(pgid, sid, leader_start, pids, 1024, &foreign);
        for (int i = 0; i < left; i++)
                (void)kill(pids[i], SIGKILL);
        return found;
}

int procgroup_stop_leftover(pid_t pgid, unsigned long long leader_start, pid_t sid, const char *boot_id,
                            int64_t grace_ms)
{
        char now[64];
        proc_boot_id(now);
        if (pgid <= 1 || !boot_id || !*boot_id || strcmp(now, boot_id) != 0)
                return 0;
        return stop_leftover(pgid, leader_start, sid, grace_ms);
}
