/* vm_run.c: one `opentoe vm run` from its valid documents to its exit
 * status: the accelerator and the image (built when the cache has none),
 * a private work folder (the disks, the qcow2 overlay, the sockets, the
 * serial and qemu logs), qemu on an sd-event loop with the console and
 * signal ports, the time limit and SIGINT/SIGTERM/SIGHUP (each kills
 * qemu's process group), then out.tar read into the output folder, the
 * summary printed and the run's status returned.  The work folder goes
 * at the end unless --keep. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomicfile.h"
#include "child.h"
#include "cleanup.h"
#include "errmsg.h"
#include "fswalk.h"
#include "interrupt.h"
#include "mkdirs.h"
#include "sdevent_dl.h"
#include "strbuf.h"
#include "strv.h"
#include "tunables.h"
#include "vmhost.h"

#define EXIT_TIMEOUT 124
#define TAIL_LINES 20
/* From the guest's signal to its poweroff: writing out.tar and shutting
 * down take seconds, even under TCG; a guest that is still up after
 * this is stopped and its out.tar read as it is
 * (OPENTOE_VM_POWEROFF_GRACE_S). */
#define POWEROFF_GRACE_S 300

struct port {
        int listen_fd, fd;
        sd_event_source *listen_src, *src;
};

struct vm_session {
        const struct vm_run_options *o;
        enum vm_accel accel;
        sd_event *e;
        char *work;
        int work_fd;
        struct child_watch qemu;
        int wait_status;
        bool exited;
        sd_event_source *limit_src, *tick_src, *grace_src, *sig_src[3];
        struct port console, signal;
        struct vm_console con;
        struct vm_lines signal_lines;
        char *signal_line;      /* the first line of the signal port */
        int stopped_by;         /* the signal that stopped us, or 0 */
        bool timed_out;
        bool no_poweroff;       /* killed POWEROFF_GRACE_S after its signal */
        int64_t start_ms;
};

static void say(struct vm_session *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct vm_session *v, const char *fmt, ...)
{
        va_list ap;
        vm_console_clear(&v->con);
        fprintf(stderr, "%s vm: ", v->o->program);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

/* ---- the ports ---- */

static int listen_at(struct vm_session *v, const char *name, int *ret_fd, char **reterr_msg)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_free_ char *path = xasprintf("%s/%s", v->work, name);
        if (strlen(path) >= sizeof sa.sun_path)
                return errmsg_set(reterr_msg, -ENAMETOOLONG,
                                  "the work folder's path is too long for a socket (%s); set TMPDIR to a shorter one",
                                  path);
        memcpy(sa.sun_path, path, strlen(path));
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1) < 0) {
                int e = errno;
                safe_close(fd);
                return errmsg_set(reterr_msg, -e, "cannot listen on %s: %s", path, strerror(e));
        }
        *ret_fd = fd;
        return 0;
}

static long grace_s(void)
{
        return env_long("OPENTOE_VM_POWEROFF_GRACE_S", POWEROFF_GRACE_S, 1, 3600);
}

static int on_grace(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct vm_session *v = userdata;
        (void)s, (void)usec;
        v->no_poweroff = true;
        vm_qemu_kill(v->qemu.pid);
        return 0;
}

static void on_signal_line(void *userdata, char *s, size_t len, bool cut)
{
        struct vm_session *v = userdata;
        (void)len;
        if (v->signal_line || cut)
                return;
        v->signal_line = xstrdup(s);
        json_t *j = json_loads(s, 0, NULL);
        const char *st = json_string_value(json_object_get(j, "status"));
        bool plain = st && strlen(st) < 64;
        for (const char *c = st; plain && *c; c++)
                plain = (unsigned char)*c >= 0x20 && *c != 0x7f;
        vm_console_say(&v->con, "%s vm: the guest signalled the end of the run (%s)", v->o->program,
                       plain ? st : "no status");
        json_decref(j);
        uint64_t now;
        if (v->e && !v->exited && sdev->now(v->e, CLOCK_MONOTONIC, &now) >= 0)
                sdev->add_time(v->e, &v->grace_src, CLOCK_MONOTONIC, now + (uint64_t)grace_s() * 1000000ULL,
                               100000, on_grace, v);
}

/* Reads what the port has: 0 while it stays open, 1 at its end. */
static int port_read(struct vm_session *v, struct port *p)
{
        char buf[16384];
        for (;;) {
                ssize_t k = read(p->fd, buf, sizeof buf);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return 0;
                if (k <= 0)
                        return 1;
                if (p == &v->console)
                        vm_console_feed(&v->con, buf, (size_t)k);
                else
                        vm_lines_feed(&v->signal_lines, buf, (size_t)k, on_signal_line, v);
        }
}

static void port_close(struct port *p)
{
        if (sdev) {
                p->src = sdev->source_disable_unref(p->src);
                p->listen_src = sdev->source_disable_unref(p->listen_src);
        }
        p->fd = safe_close(p->fd);
        p->listen_fd = safe_close(p->listen_fd);
}

static int on_port(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct vm_session *v = userdata;
        struct port *p = fd == v->console.fd ? &v->console : &v->signal;
        (void)s, (void)revents;
        if (port_read(v, p) == 1)
                p->src = sdev->source_disable_unref(p->src);
        return 0;
}

/* qemu connects once; a second connection is not taken. */
static int port_accept(struct vm_session *v, struct port *p)
{
        if (p->fd >= 0 || p->listen_fd < 0)
                return 0;
        int fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
                return 0;
        p->fd = fd;
        p->listen_src = sdev->source_disable_unref(p->listen_src);
        if (sdev->add_io(v->e, &p->src, fd, EPOLLIN, on_port, v) < 0)
                return -ENOMEM;
        return 1;
}

static int on_listen(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct vm_session *v = userdata;
        (void)s, (void)revents;
        port_accept(v, fd == v->console.listen_fd ? &v->console : &v->signal);
        return 0;
}

/* After qemu's end: what its ports still hold. */
static void ports_drain(struct vm_session *v)
{
        struct port *ps[] = { &v->console, &v->signal };
        for (size_t i = 0; i < ELEMENTSOF(ps); i++) {
                port_accept(v, ps[i]);
                if (ps[i]->fd >= 0)
                        port_read(v, ps[i]);
        }
        /* A last line without its newline is still a line. */
        if (v->con.lines.len > 0)
                vm_console_feed(&v->con, "\n", 1);
        if (v->signal_lines.len > 0)
                vm_lines_feed(&v->signal_lines, "\n", 1, on_signal_line, v);
}

/* ---- qemu, the limit, the signals ---- */

static void on_qemu_end(void *userdata, int wait_status)
{
        struct vm_session *v = userdata;
        v->wait_status = wait_status;
        v->exited = true;
        /* Whatever qemu left in its group goes with it. */
        vm_qemu_kill(v->qemu.pid);
        sdev->event_exit(v->e, 0);
}

static int on_limit(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct vm_session *v = userdata;
        (void)s, (void)usec;
        v->timed_out = true;
        vm_qemu_kill(v->qemu.pid);
        return 0;
}

static int on_stop(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct vm_session *v = userdata;
        (void)s;
        if (!v->stopped_by)
                v->stopped_by = (int)si->ssi_signo;
        vm_qemu_kill(v->qemu.pid);
        return 0;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct vm_session *v = userdata;
        vm_console_tick(&v->con, (long)((monotonic_ms() - v->start_ms) / 1000));
        sdev->source_set_time(s, usec + 1000000);
        sdev->source_set_enabled(s, SD_EVENT_ON);
        return 0;
}

/* ---- around the run ---- */

/* Runs argv and waits: 0, or why not (its output went to `logfd`). */
static int run_tool(const char *const *argv, int logfd, char **reterr_msg)
{
        pid_t pid = fork();
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                if (dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
                        _exit(127);
                execvp(argv[0], (char **)argv);
                dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        if (pid < 0)
                return errmsg_set(reterr_msg, -errno, "cannot fork: %s", strerror(errno));
        int ws = 0;
        (void)child_wait(pid, &ws);
        if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
                return errmsg_set(reterr_msg, -EIO, "%s failed (see %s)", argv[0], "qemu.log in the work folder");
        return 0;
}

/* The last lines of a log in the work folder, on stderr. */
static void show_tail(struct vm_session *v, const char *name)
{
        _cleanup_close_ int fd = openat(v->work_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0)
                return;
        off_t from = st.st_size > 8192 ? st.st_size - 8192 : 0;
        char buf[8193];
        ssize_t k = pread(fd, buf, sizeof buf - 1, from);
        if (k <= 0)
                return;
        buf[k] = 0;
        char *p = buf + k;
        int lines = 0;
        while (p > buf && lines <= TAIL_LINES)
                if (*--p == '\n' && p + 1 < buf + k)
                        lines++;
        if (lines > TAIL_LINES)
                p++;
        fprintf(stderr, "---- the end of %s/%s ----\n", v->work, name);
        for (; *p; p++)
                if (*p != '\r')
                        fputc(((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f ? '?' : *p, stderr);
        if (k > 0 && buf[k - 1] != '\n')
                fputc('\n', stderr);
        fprintf(stderr, "----\n");
}

static int setup(struct vm_session *v, const struct vm_image *img, char **reterr_msg)
{
        _cleanup_close_ int logfd = -1;
        int r;
        if ((r = vm_write_in_tar(v->work_fd, "in.tar", &v->o->job, reterr_msg)) < 0 ||
            (r = vm_make_out_disk(v->work_fd, "out.tar", reterr_msg)) < 0)
                return r;
        logfd = openat(v->work_fd, "qemu.log", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (logfd < 0)
                return errmsg_set(reterr_msg, -errno, "cannot create qemu.log: %s", strerror(errno));
        const char *qemu_img = getenv("OPENTOE_VM_QEMU_IMG");
        _cleanup_free_ char *overlay = xasprintf("%s/root.qcow2", v->work);
        const char *argv[] = { qemu_img && *qemu_img ? qemu_img : "qemu-img", "create", "-q", "-f", "qcow2",
                               "-F", "raw", "-b", img->root, overlay, NULL };
        if ((r = run_tool(argv, logfd, reterr_msg)) < 0)
                return r;
        if ((r = listen_at(v, "console.sock", &v->console.listen_fd, reterr_msg)) < 0 ||
            (r = listen_at(v, "signal.sock", &v->signal.listen_fd, reterr_msg)) < 0)
                return r;
        static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
        if (sdev->event_new(&v->e) < 0)
                return errmsg_set(reterr_msg, -ENOMEM, "cannot make the event loop");
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                if (sdev->add_signal(v->e, &v->sig_src[i], sigs[i], on_stop, v) < 0)
                        return errmsg_set(reterr_msg, -ENOMEM, "cannot watch the signals");
        if (sdev->add_io(v->e, &v->console.listen_src, v->console.listen_fd, EPOLLIN, on_listen, v) < 0 ||
            sdev->add_io(v->e, &v->signal.listen_src, v->signal.listen_fd, EPOLLIN, on_listen, v) < 0)
                return errmsg_set(reterr_msg, -ENOMEM, "cannot watch the ports");
        char **qargv = vm_qemu_argv(img, v->work, v->accel);
        pid_t pid;
        int pidfd;
        r = vm_qemu_spawn(qargv, logfd, &pid, &pidfd, reterr_msg);
        strv_free(qargv);
        if (r < 0)
                return r;
        uint64_t now;
        sdev->now(v->e, CLOCK_MONOTONIC, &now);
        if (child_watch_start(&v->qemu, v->e, pid, pidfd, on_qemu_end, v) < 0 ||
            sdev->add_time(v->e, &v->limit_src, CLOCK_MONOTONIC, now + (uint64_t)v->o->timeout_seconds * 1000000,
                           100000, on_limit, v) < 0 ||
            (v->con.tty && sdev->add_time(v->e, &v->tick_src, CLOCK_MONOTONIC, now + 1000000, 100000, on_tick,
                                          v) < 0))
                return errmsg_set(reterr_msg, -ENOMEM, "cannot watch qemu");
        return 0;
}

/* The results: out.tar into the output folder, the summary on stdout,
 * the run's status. */
static int results(struct vm_session *v, int outfd)
{
        struct vm_result res = { 0 };
        char *err = NULL;
        int status = 1;
        int r = vm_read_out_tar(v->work_fd, "out.tar", outfd, &res, &err);
        if (r < 0) {
                say(v, "%s", err);
                if (!v->signal_line)
                        show_tail(v, "serial.log");
                goto out;
        }
        if (res.error) {
                /* Shown as the console shows the guest's lines. */
                for (char *c = res.error; *c; c++)
                        if (((unsigned char)*c < 0x20 && *c != '\n') || *c == 0x7f)
                                *c = '?';
                size_t n = strlen(res.error);
                while (n > 0 && res.error[n - 1] == '\n')
                        res.error[--n] = 0;
                say(v, "the guest failed: %s", res.error);
        }
        if (res.summary) {
                size_t n = strlen(res.summary);
                fputs(res.summary, stdout);
                if (n == 0 || res.summary[n - 1] != '\n')
                        fputc('\n', stdout);
                fflush(stdout);
                if (write_file_atomic_at(outfd, "summary.json", res.summary, n, 0644) < 0)
                        say(v, "cannot write summary.json in %s", v->o->output);
        } else
                say(v, "out.tar has no summary.json");
        if (res.toe_dir)
                say(v, "the run's log folder: %s/%s", v->o->output, res.toe_dir);
        if (res.status < 0) {
                say(v, "out.tar has no 'status': the run's end is not known");
                goto out;
        }
        status = res.status;
out:
        free(err);
        vm_result_free(&res);
        return status;
}

int vmhost_run(const struct vm_run_options *o)
{
        struct vm_session v = { .o = o, .work_fd = -1, .qemu = CHILD_WATCH_INIT, .console = { -1, -1, NULL, NULL },
                        .signal = { -1, -1, NULL, NULL } };
        struct vm_image img = { 0 };
        _cleanup_free_ char *why = NULL, *failed = NULL;
        _cleanup_close_ int outfd = -1;
        char *err = NULL;
        int status = 1, r;
        vm_console_init(&v.con, stderr, isatty(2));
        char **doc_tar = vm_document_names(&o->job);
        v.con.doc_tar = doc_tar;
        v.con.doc_host = o->job.documents;
        v.con.n_docs = o->job.n_documents;
        if (sdev_load(&err) < 0 || vm_accel_choose(&v.accel, &why, &err) < 0)
                goto fail;
        say(&v, "accelerator %s: %s", v.accel == VM_ACCEL_KVM ? "KVM" : "TCG", why);
        r = vm_image_load(o->image, &img, &err);
        if (r == -ENOENT) {
                _cleanup_free_ char *dir = vm_image_dir(o->image);
                say(&v, "the image %s is not in the cache (%s): building it", o->image, dir);
                if (vm_image_build(o->program, o->image, false, NULL, &err) < 0 ||
                    vm_image_load(o->image, &img, &err) < 0)
                        goto fail;
        } else if (r < 0)
                goto fail;
        say(&v, "image %s%s%s (%s)", img.name, img.version ? ", opentoe " : "", img.version ? img.version : "",
            img.dir);
        /* The output folder is made before the boot: a run whose results
         * have nowhere to go is not started. */
        if (mkdir_parents_report(o->output, 0755, &failed) < 0) {
                err = xasprintf("cannot make the output folder %s: %s", failed ? failed : o->output,
                                strerror(errno));
                goto fail;
        }
        outfd = open(o->output, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (outfd < 0) {
                err = xasprintf("cannot open the output folder %s: %s", o->output, strerror(errno));
                goto fail;
        }
        const char *tmp = getenv("TMPDIR");
        v.work = xasprintf("%s/opentoe-vm.XXXXXX", tmp && tmp[0] == '/' ? tmp : "/var/tmp");
        /* The stopping signals wait for the loop from here on. */
        interrupt_install();
        if (!mkdtemp(v.work)) {
                err = xasprintf("cannot make the work folder %s: %s", v.work, strerror(errno));
                free(v.work);
                v.work = NULL;
                goto fail;
        }
        v.work_fd = open(v.work, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (v.work_fd < 0) {
                err = xasprintf("cannot open the work folder %s: %s", v.work, strerror(errno));
                goto fail;
        }
        say(&v, "work folder %s", v.work);
        v.start_ms = monotonic_ms();
        if (setup(&v, &img, &err) < 0)
                goto fail;
        vm_console_tick(&v.con, 0);
        r = sdev->event_loop(v.e);
        if (r < 0) {
                err = xasprintf("the event loop failed: %s", strerror(-r));
                goto fail;
        }
        ports_drain(&v);
        vm_console_clear(&v.con);
        if (v.stopped_by) {
                say(&v, "stopped by signal %d: the VM was killed", v.stopped_by);
                status = 128 + v.stopped_by;
        } else if (v.timed_out) {
                say(&v, "the VM ran past --timeout (%ld s) and was killed", o->timeout_seconds);
                show_tail(&v, "serial.log");
                status = EXIT_TIMEOUT;
        } else {
                if (v.no_poweroff)
                        say(&v, "the guest signalled the end of the run but was still up %ld s later: stopped",
                            grace_s());
                else if (!WIFEXITED(v.wait_status) || WEXITSTATUS(v.wait_status) != 0) {
                        say(&v, "qemu ended with %s %d", WIFEXITED(v.wait_status) ? "status" : "signal",
                            WIFEXITED(v.wait_status) ? WEXITSTATUS(v.wait_status) : WTERMSIG(v.wait_status));
                        show_tail(&v, "qemu.log");
                }
                status = results(&v, outfd);
        }
        goto out;
fail:
        vm_console_clear(&v.con);
        if (err)
                say(&v, "%s", err);
        status = 1;
out:
        free(err);
        err = NULL;
        if (v.qemu.pid > 0 && !v.exited) {
                vm_qemu_kill(v.qemu.pid);
                (void)child_wait(v.qemu.pid, NULL);
        }
        port_close(&v.console);
        port_close(&v.signal);
        child_watch_stop(&v.qemu);
        if (sdev) {
                sdev->source_disable_unref(v.limit_src);
                sdev->source_disable_unref(v.tick_src);
                sdev->source_disable_unref(v.grace_src);
                for (size_t i = 0; i < ELEMENTSOF(v.sig_src); i++)
                        sdev->source_disable_unref(v.sig_src[i]);
                if (v.e)
                        sdev->event_unref(v.e);
        }
        v.work_fd = safe_close(v.work_fd);
        if (v.work && o->keep)
                say(&v, "kept the work folder %s", v.work);
        else if (v.work) {
                struct fs_job job = { 0 };
                if (fs_remove_tree(&job, AT_FDCWD, v.work, v.work, &err) < 0)
                        say(&v, "%s", err);
                free(err);
        }
        vm_console_free(&v.con);
        strv_free(doc_tar);
        vm_lines_free(&v.signal_lines);
        free(v.signal_line);
        free(v.work);
        vm_image_free(&img);
        return status;
}
