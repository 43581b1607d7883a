/* system.c: the one door to the machine (see system.h): where system
 * programs are found, how they are run and waited for, and the detached
 * reboot that waits for opentoe to have exited. */
#include "system.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "errmsg.h"
#include "strbuf.h"

const char *sys_test_root(void)
{
        const char *root = getenv("OPENTOE_TEST_SYSTEM_ROOT");
        return root && *root ? root : NULL;
}

char *sys_path(const char *abs)
{
        const char *root = sys_test_root();
        return root ? xasprintf("%s%s", root, abs) : xstrdup(abs);
}

int sys_find(const char *name, char **ret_path)
{
        static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
        const char *root = sys_test_root();
        *ret_path = NULL;
        if (!name || !*name || strchr(name, '/'))
                return -EINVAL;
        if (root) {
                /* Never the host's programs under test. */
                char *p = xasprintf("%s/bin/%s", root, name);
                if (access(p, X_OK) == 0) {
                        *ret_path = p;
                        return 0;
                }
                free(p);
                return -ENOENT;
        }
        for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
                char *p = xasprintf("%s/%s", dirs[i], name);
                struct stat st;
                if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0) {
                        *ret_path = p;
                        return 0;
                }
                free(p);
        }
        return -ENOENT;
}

bool sys_has_systemd(void)
{
        _cleanup_free_ char *p = sys_path("/run/systemd/system");
        struct stat st;
        return lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The child's side of sys_run: stdin, stdout, then exec. */
static void child_exec(const char *path, const char *const argv[], int in_fd, int out_fd)
{
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (dup2(in_fd >= 0 ? in_fd : null, STDIN_FILENO) < 0 || dup2(out_fd >= 0 ? out_fd : null, STDOUT_FILENO) < 0)
                _exit(127);
        signal(SIGPIPE, SIG_DFL);
        execv(path, (char *const *)argv);
        _exit(127);
}

int sys_run(const char *const argv[], const char *input, char **ret_out, char **reterr_msg)
{
        _cleanup_free_ char *path = NULL;
        int in[2] = { -1, -1 }, out[2] = { -1, -1 }, r = 0, status = 0;
        struct strbuf buf = STRBUF_INIT;
        if (ret_out)
                *ret_out = NULL;
        if (sys_find(argv[0], &path) < 0)
                return errmsg_set(reterr_msg, -ENOENT, "%s was not found", argv[0]);
        if ((input && pipe2(in, O_CLOEXEC) < 0) || (ret_out && pipe2(out, O_CLOEXEC) < 0)) {
                r = errmsg_set(reterr_msg, -errno, "cannot run %s: %s", argv[0], strerror(errno));
                goto out;
        }
        pid_t pid = fork();
        if (pid < 0) {
                r = errmsg_set(reterr_msg, -errno, "cannot run %s: %s", argv[0], strerror(errno));
                goto out;
        }
        if (pid == 0)
                child_exec(path, argv, in[0], out[1]);
        if (in[0] >= 0)
                close(in[0]);
        if (out[1] >= 0)
                close(out[1]);
        in[0] = out[1] = -1;
        if (input) {
                /* Small inputs (a crontab): written whole before reading. */
                void (*old)(int) = signal(SIGPIPE, SIG_IGN);
                (void)write_all(in[1], input, strlen(input));
                signal(SIGPIPE, old);
                close(in[1]);
                in[1] = -1;
        }
        if (ret_out) {
                char chunk[4096];
                for (;;) {
                        ssize_t n = read(out[0], chunk, sizeof chunk);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                break;
                        sb_append(&buf, chunk, (size_t)n);
                }
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        r = errmsg_set(reterr_msg, -errno, "cannot wait for %s: %s", argv[0], strerror(errno));
                        goto out;
                }
        if (!WIFEXITED(status)) {
                r = errmsg_set(reterr_msg, -EINTR, "%s was killed by signal %d", argv[0], WTERMSIG(status));
                goto out;
        }
        r = WEXITSTATUS(status);
        if (ret_out)
                *ret_out = sb_take(&buf);
out:
        for (int k = 0; k < 2; k++) {
                if (in[k] >= 0)
                        close(in[k]);
                if (out[k] >= 0)
                        close(out[k]);
        }
        sb_free(&buf);
        return r;
}

/* Under systemd, a process left in a service's cgroup dies with the
 * service: the agent's unit stops when the agent exits after asking for
 * the reboot, opentoe-resume.service when its run exits 194, and their
 * remaining processes are killed.  There the wait-then-exec runs as a
 * transient unit of its own (systemd-run), outside that cgroup; it waits
 * for `parent` by its pid.  Returns whether systemd-run took it (else
 * the detached process below is the fallback). */
static bool spawn_as_unit(const char *systemd_run, pid_t parent, long delay_s, const char *const argv[])
{
        static const char script[] = "i=0; while [ $i -lt 600 ] && kill -0 \"$1\" 2>/dev/null; do "
                                     "sleep 0.1; i=$((i+1)); done; sleep \"$2\"; shift 2; exec \"$@\"";
        char unit[64], pid_s[24], delay_s_s[24];
        snprintf(unit, sizeof unit, "--unit=opentoe-reboot-%ld", (long)parent);
        snprintf(pid_s, sizeof pid_s, "%ld", (long)parent);
        snprintf(delay_s_s, sizeof delay_s_s, "%ld", delay_s > 0 ? delay_s : 0);
        const char *head[] = { systemd_run, "--quiet", "--no-block", "--collect", unit,
                               "--description=opentoe: the reboot once opentoe has exited",
                               "/bin/sh", "-c", script, "sh", pid_s, delay_s_s };
        size_t nh = sizeof head / sizeof head[0], na = 0;
        while (argv[na])
                na++;
        const char **full = calloc(nh + na + 1, sizeof *full);
        if (!full)
                return false;
        memcpy(full, head, sizeof head);
        memcpy(full + nh, argv, na * sizeof *argv);
        pid_t pid = fork();
        if (pid == 0) {
                execv(systemd_run, (char *const *)full);
                _exit(127);
        }
        free(full);
        int st = 0;
        while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        return pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int sys_spawn_after_exit(const char *const argv[], long delay_s, char **reterr_msg)
{
        pid_t parent = getpid();
        /* INVOCATION_ID: systemd runs us as (a process of) a service. */
        const char *inv = getenv("INVOCATION_ID");
        _cleanup_free_ char *systemd_run = NULL;
        /* Taken before this returns: the caller may exit at once. */
        if (inv && *inv && sys_has_systemd() && sys_find("systemd-run", &systemd_run) >= 0 &&
            spawn_as_unit(systemd_run, parent, delay_s, argv))
                return 0;
        pid_t pid = fork();
        if (pid < 0)
                return errmsg_set(reterr_msg, -errno, "cannot fork: %s", strerror(errno));
        if (pid > 0) {
                /* The intermediate child exits at once: the reboot's
                 * process is nobody's child here. */
                int st;
                while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                        ;
                return 0;
        }
        if (setsid() < 0 || fork() != 0)
                _exit(0);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
                dup2(null, STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
        }
        for (int fd = 3; fd < 1024; fd++)
                close(fd);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* The state lock, the logs, the summary: all of them end with
         * opentoe; the reboot waits for that (cloud-init's rule). */
        for (int i = 0; i < 600 && kill(parent, 0) == 0; i++)
                poll(NULL, 0, 100);
        if (delay_s > 0) {
                struct timespec ts = { .tv_sec = delay_s };
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
}
