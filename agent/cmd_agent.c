/* cmd_agent.c: `opentoe agent`, the daemon (opentoe-agent(8)): one
 * sd-event loop that speaks systemd's notify protocol (READY, STATUS,
 * WATCHDOG, STOPPING), watches the spool (inotify on jobs/), runs one
 * job at a time as a child `opentoe run` whose progress comes back on a
 * pipe (OPENTOE_PROGRESS_FD, runner.c), writes each job's status.json
 * (jobstatus.c), resumes interrupted jobs at start, moves refused ones
 * aside, hands finished jobs to the outbox (outbox.h) and drives its
 * deliveries from a timer.  SIGHUP reloads the configuration; SIGTERM
 * stops the job's runner as a crash would, so that it resumes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "cleanup.h"
#include "commands.h"
#include "credentials.h"
#include "errmsg.h"
#include "interrupt.h"
#include "jobs.h"
#include "jobstatus.h"
#include "options.h"
#include "outbox.h"
#include "reboot.h"
#include "sdevent_dl.h"
#include "state.h"
#include "strbuf.h"
#include "strv.h"
#include "trust.h"
#include "tunables.h"
#include "uuid.h"

#define DEFAULT_CONFIG "/etc/opentoe/agent.json"
#define CRASH_LIMIT 3           /* a job's runner dying this often (agent alive) fails it */
#define PROGRESS_LINE_MAX 4096

struct agent {
        const char *program;
        sd_event *e;
        struct jobroot jr;
        char *config_path;
        bool config_given;
        char *drop_folder;      /* from the configuration, or NULL */
        bool user_data;         /* look for a job in the instance's user data */
        int notify_fd;
        struct sockaddr_un notify_addr;
        socklen_t notify_len;
        uint64_t watchdog_usec;
        int inotify_fd;
        sd_event_source *inotify_src, *watchdog_src, *outbox_src, *next_src;
        sd_event_source *sig_term, *sig_int, *sig_hup;
        /* The job running now. */
        char *id;
        int job_fd;
        struct child_watch child;       /* its `opentoe run` */
        sd_event_source *progress_src;
        int progress_fd;
        struct strbuf line;
        char *refusal;          /* the runner refused the job's state */
        int crashes;
        bool stopping, reboot_wait;
        bool has_log_dir;       /* the job names its log directory */
        bool no_journal;        /* logDestinations.journal false */
        char *report;           /* logDestinations.report: the run's --report file, or NULL */
        int exit_code;
        /* The delivery in flight: a child `opentoe signal --deliver`. */
        struct child_watch deliver;
        sd_event_source *deliver_limit_src;
        bool deliver_killed;    /* it outlived OPENTOE_AGENT_DELIVERY_LIMIT_MS */
};

/* systemd's notify protocol, without libsystemd's sd_notify. */
static void notify(struct agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void notify(struct agent *a, const char *fmt, ...)
{
        if (a->notify_fd < 0)
                return;
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n >= sizeof buf)
                n = sizeof buf - 1;
        /* Never blocks: a listener that does not read loses messages,
         * the loop goes on. */
        (void)sendto(a->notify_fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&a->notify_addr,
                     a->notify_len);
}

static void notify_open(struct agent *a)
{
        const char *s = getenv("NOTIFY_SOCKET");
        a->notify_fd = -1;
        if (!s || !*s || (s[0] != '/' && s[0] != '@') || strlen(s) >= sizeof a->notify_addr.sun_path)
                return;
        a->notify_addr.sun_family = AF_UNIX;
        memcpy(a->notify_addr.sun_path, s, strlen(s));
        if (s[0] == '@')
                a->notify_addr.sun_path[0] = 0;
        a->notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(s));
        a->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        /* The children must not talk to systemd in the agent's name. */
        unsetenv("NOTIFY_SOCKET");
}

static void say(struct agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct agent *a, const char *fmt, ...)
{
        va_list ap;
        fprintf(stderr, "%s agent: ", a->program);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

/* 0 once the status is on disk, or a negative errno (said). */
static int set_status(struct agent *a, const char *id, const char *status, json_t *extra)
{
        char *err = NULL;
        bool refused;
        int e, fd = id == a->id && a->job_fd >= 0 ? a->job_fd : job_open(&a->jr, id, &refused, &err);
        if (fd < 0) {
                e = fd;
                json_decref(extra);
                say(a, "cannot record the status of %s: %s", id, err ? err : strerror(-fd));
        } else if ((e = jobstatus_set(fd, status, extra, &err)) < 0)
                say(a, "cannot record the status of %s: %s", id, err);
        if (fd >= 0 && fd != a->job_fd)
                close(fd);
        free(err);
        return e;
}

/* ---- configuration ---- */

static int load_config(struct agent *a)
{
        json_error_t je;
        free(a->drop_folder);
        a->drop_folder = NULL;
        a->user_data = false;
        if (access(a->config_path, F_OK) < 0 && !a->config_given)
                return 0;
        json_t *c = json_load_file(a->config_path, JSON_REJECT_DUPLICATES, &je);
        if (!c || !json_is_object(c)) {
                say(a, "cannot read the configuration %s: %s", a->config_path, c ? "not a JSON object" : je.text);
                json_decref(c);
                return -EINVAL;
        }
        const char *key;
        json_t *v;
        json_object_foreach(c, key, v)
        {
                if (!strcmp(key, "dropFolder") && json_is_string(v))
                        a->drop_folder = xstrdup(json_string_value(v));
                else if (!strcmp(key, "userData") && json_is_boolean(v))
                        a->user_data = json_is_true(v);
                else
                        say(a, "warning: unknown key '%s' in %s is ignored", key, a->config_path);
        }
        json_decref(c);
        return 0;
}

/* Jobs dropped in the configured folder (at bake time): each *.json
 * file is submitted and renamed *.json.submitted, so it runs once. */
static void pick_up_drops(struct agent *a)
{
        char *err = NULL;
        if (!a->drop_folder)
                return;
        int dfd = trust_open_dir(a->drop_folder, 0, "the agent's drop folder", &err);
        if (dfd < 0) {
                if (dfd != -ENOENT)
                        say(a, "%s", err);
                free(err);
                return;
        }
        DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return;
        }
        struct dirent *de;
        int taken = 0;
        while ((de = readdir(d)) && taken < JOBS_MAX) {
                size_t n = strlen(de->d_name);
                if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 5, ".json"))
                        continue;
                json_t *job = NULL;
                err = NULL;
                if (job_read_json(dirfd(d), de->d_name, &job, &err) == 0) {
                        char uuid[37];
                        const char *id = json_string_value(json_object_get(job, "executionId"));
                        if (!id) {
                                uuid_v4(uuid);
                                id = uuid;
                                json_object_set_new(job, "executionId", json_string(id));
                        }
                        _cleanup_free_ char *idc = xstrdup(id);
                        if (job_submit(&a->jr, job, idc, &err) == 0)
                                say(a, "submitted %s/%s as %s", a->drop_folder, de->d_name, idc);
                }
                if (err)
                        say(a, "%s/%s: %s", a->drop_folder, de->d_name, err);
                json_decref(job);
                free(err);
                err = NULL;
                _cleanup_free_ char *done = xasprintf("%s.submitted", de->d_name);
                renameat(dirfd(d), de->d_name, dirfd(d), done);
                taken++;
        }
        closedir(d);
}

/* The instance's user data (IMDSv2), when configured: a JSON object
 * whose "opentoe" key is a job is submitted once (as its executionId,
 * else "user-data"; an id already taken is left alone).  Anything else
 * (a cloud-init script) is not ours. */
static void pick_up_user_data(struct agent *a)
{
        char *body = NULL, *err = NULL;
        if (!a->user_data)
                return;
        struct aws_cred_provider *p = aws_cred_provider_new();
        int e = aws_imds_get(p, "/latest/user-data", monotonic_ms() + 10000, &body, &err);
        aws_cred_provider_free(p);
        if (e < 0) {
                if (e != -ENOENT)
                        say(a, "cannot read the user data: %s", err ? err : strerror(-e));
                free(err);
                return;
        }
        json_t *all = strlen(body) <= JOB_FILE_MAX ? json_loads(body, JSON_REJECT_DUPLICATES, NULL) : NULL;
        json_t *job = json_object_get(all, "opentoe");
        free(body);
        if (json_is_object(job)) {
                const char *id = json_string_value(json_object_get(job, "executionId"));
                _cleanup_free_ char *idc = xstrdup(id ? id : "user-data");
                json_object_set_new(job, "executionId", json_string(idc));
                e = job_submit(&a->jr, job, idc, &err);
                if (e == 0)
                        say(a, "submitted the user data's job as %s", idc);
                else if (e != -EEXIST)
                        say(a, "the user data's job: %s", err);
                free(err);
        }
        json_decref(all);
}

/* ---- the job in flight ---- */

static void schedule_next(struct agent *a);

static void child_cleanup(struct agent *a)
{
        child_watch_stop(&a->child);
        a->progress_src = sdev ? sdev->source_disable_unref(a->progress_src) : NULL;
        a->progress_fd = safe_close(a->progress_fd);
        sb_free(&a->line);
}

static void job_cleanup(struct agent *a)
{
        child_cleanup(a);
        a->job_fd = safe_close(a->job_fd);
        free(a->id);
        a->id = NULL;
        free(a->refusal);
        a->refusal = NULL;
        a->crashes = 0;
}

static void progress_line(struct agent *a, char *line)
{
        char *f[4] = { 0 };
        size_t n = 0;
        for (char *p = line; n < 4;) {
                f[n++] = p;
                p = strchr(p, '\t');
                if (!p)
                        break;
                *p++ = 0;
        }
        if (n == 4 && !strcmp(f[0], "step")) {
                set_status(a, a->id, "running", json_pack("{s:s, s:s, s:s}", "document", f[1], "phase", f[2],
                                                          "step", f[3]));
                notify(a, "STATUS=Running %s: document %s, phase %s, step %s", a->id, f[1], f[2], f[3]);
        } else if (n >= 2 && !strcmp(f[0], "refused")) {
                free(a->refusal);
                a->refusal = xstrdup(f[1]);
        }
}

/* Reads what the pipe holds: true when something was read. */
static bool progress_read(struct agent *a)
{
        char buf[4096];
        if (a->progress_fd < 0)
                return false;
        ssize_t k = read(a->progress_fd, buf, sizeof buf);
        if (k <= 0) {
                if (k == 0)
                        a->progress_src = sdev->source_disable_unref(a->progress_src);
                return false;
        }
        for (ssize_t i = 0; i < k; i++) {
                if (buf[i] != '\n') {
                        if (a->line.len < PROGRESS_LINE_MAX)
                                sb_putc(&a->line, buf[i]);
                        continue;
                }
                char *l = sb_take(&a->line);
                if (l)
                        progress_line(a, l);
                free(l);
        }
        return true;
}

static int on_progress(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        (void)s, (void)fd, (void)revents;
        progress_read(userdata);
        return 0;
}

/* The summary the runner printed (its stdout, summary.out), or null. */
static json_t *read_summary(struct agent *a)
{
        json_t *j = NULL;
        if (job_read_json(a->job_fd, "summary.out", &j, NULL) < 0)
                return json_null();
        return j;
}

static int on_outbox(sd_event_source *s, uint64_t usec, void *userdata);

static void outbox_kick(struct agent *a, int64_t at_ms)
{
        uint64_t now;
        sdev->now(a->e, CLOCK_MONOTONIC, &now);
        uint64_t when = at_ms <= 0 ? now : (uint64_t)at_ms * 1000;
        if (a->outbox_src) {
                sdev->source_set_time(a->outbox_src, when);
                sdev->source_set_enabled(a->outbox_src, SD_EVENT_ONESHOT);
        } else
                sdev->add_time(a->e, &a->outbox_src, CLOCK_MONOTONIC, when, 100000, on_outbox, a);
}

static char *outbox_dir(struct agent *a)
{
        return xasprintf("%s/outbox", a->jr.path);
}

/* Delivery runs in a child, `opentoe signal --deliver` (cmd_signal.c),
 * one at a time, watched by a pidfd on the loop and killed past
 * OPENTOE_AGENT_DELIVERY_LIMIT_MS: a target that takes its time (a
 * receiver that accepts and then stalls, a dead address) holds up only
 * that child, never the watchdog, the jobs or SIGTERM.  signal_send.c's
 * attempts block, so a child is where they may; the outbox's on-disk
 * protocol (an attempt counted and its pause set before it is made, one
 * idempotency key per signal) makes a kill in the middle of one a failed
 * attempt, retried later, and one signal to the receiver. */
static int64_t deliver_limit_ms(void)
{
        return env_long("OPENTOE_AGENT_DELIVERY_LIMIT_MS", 90000, 100, 3600000);
}

static void deliver_cleanup(struct agent *a)
{
        child_watch_stop(&a->deliver);
        a->deliver_limit_src = sdev->source_disable_unref(a->deliver_limit_src);
}

static void on_deliver_end(void *userdata, int ws)
{
        struct agent *a = userdata;
        deliver_cleanup(a);
        bool killed = a->deliver_killed;
        a->deliver_killed = false;
        if (a->stopping)
                return; /* killed by on_term */
        bool ok = WIFEXITED(ws) && (WEXITSTATUS(ws) == 0 || WEXITSTATUS(ws) == 75);
        if (killed)
                say(a, "signals: the delivery took longer than %lld ms and was stopped; its signal is retried later",
                    (long long)deliver_limit_ms());
        else if (!ok)
                say(a, "signals: the delivery ended with status %d", WIFEXITED(ws) ? WEXITSTATUS(ws)
                                                                               : 128 + WTERMSIG(ws));
        /* What is left (and what was queued meanwhile) is looked at
         * again; after a delivery that did not end as it should, not
         * sooner than a second from now. */
        outbox_kick(a, ok ? 0 : monotonic_ms() + 1000);
}

static int on_deliver_limit(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct agent *a = userdata;
        (void)s, (void)usec;
        if (a->deliver.pid > 0) {
                a->deliver_killed = true;
                kill(a->deliver.pid, SIGKILL);
        }
        return 0;
}

static void deliver_spawn(struct agent *a, const char *dir)
{
        const char *argv[] = { "opentoe", "signal", "--deliver", "--outbox", dir, NULL };
        int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        pid_t pid = devnull < 0 ? -1 : fork();
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() == 1 || dup2(devnull, 1) < 0)
                        _exit(127);
                execv("/proc/self/exe", (char **)argv);
                _exit(127);
        }
        safe_close(devnull);
        if (pid < 0) {
                say(a, "signals: cannot start a delivery: %s", strerror(errno));
                outbox_kick(a, monotonic_ms() + 1000);
                return;
        }
        uint64_t now;
        sdev->now(a->e, CLOCK_MONOTONIC, &now);
        uint64_t limit_us = (uint64_t)deliver_limit_ms() * 1000;
        if (child_watch_start(&a->deliver, a->e, pid, -1, on_deliver_end, a) < 0 ||
            sdev->add_time(a->e, &a->deliver_limit_src, CLOCK_MONOTONIC, now + limit_us, 10000, on_deliver_limit,
                           a) < 0) {
                say(a, "signals: cannot watch the delivery");
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                deliver_cleanup(a);
                outbox_kick(a, monotonic_ms() + 1000);
        }
}

/* The timer: what the outbox holds is read (no network), and a delivery
 * started when a signal's time has come. */
static int on_outbox(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct agent *a = userdata;
        int64_t next = -1;
        char *err = NULL;
        (void)s, (void)usec;
        if (a->stopping)
                return 0;
        if (a->deliver.pid > 0)
                return 0; /* its end looks again */
        _cleanup_free_ char *dir = outbox_dir(a);
        int n = outbox_pending(dir, &next, &err);
        if (n < 0) {
                say(a, "signals: %s", err ? err : strerror(-n));
                free(err);
                return 0;
        }
        if (n > 0 && next > monotonic_ms())
                outbox_kick(a, next);
        else if (n > 0)
                deliver_spawn(a, dir);
        return 0;
}

/* Hands the job's end to the outbox for the targets of its "signals"
 * key (passed on untouched), and wakes the delivery timer. */
static void job_signal(struct agent *a, const json_t *summary)
{
        json_t *job = NULL;
        char *err = NULL;
        if (job_read_json(a->job_fd, "job.json", &job, NULL) == 0) {
                _cleanup_free_ char *dir = outbox_dir(a);
                json_t *targets = json_object_get(job, "signals");
                if (outbox_enqueue(dir, a->id, targets, summary, &err) < 0)
                        say(a, "job %s: cannot queue its signals: %s", a->id, err);
                else if (json_array_size(targets) > 0)
                        outbox_kick(a, 0);
        }
        free(err);
        json_decref(job);
}

/* Returns whether the end is recorded (status.json says `status`). */
static bool job_finished(struct agent *a, const char *status, int code, const char *reason)
{
        json_t *summary = read_summary(a);
        json_t *extra = json_pack("{s:i, s:n, s:n, s:n}", "exitCode", code, "document", "phase", "step");
        if (reason)
                json_object_set_new(extra, "reason", json_string(reason));
        else if (json_is_string(json_object_get(summary, "failureMessage")) &&
                 *json_string_value(json_object_get(summary, "failureMessage")))
                json_object_set(extra, "reason", json_object_get(summary, "failureMessage"));
        /* The signals are queued before the status says the job ended: a
         * crash between the two runs the (finished) job's end again and
         * queues them again, under the same idempotency key, instead of
         * losing them. */
        job_signal(a, summary);
        bool recorded = set_status(a, a->id, status, extra) == 0;
        say(a, "job %s: %s%s%s", a->id, status, reason ? ": " : "", reason ? reason : "");
        json_decref(summary);
        return recorded;
}

/* A run that reports to the agent leaves its state when it ends (see
 * runner.c): until the job's end is in status.json, a crash of the
 * agent must resume it (only its ending is repeated) instead of finding
 * no checkpoint and running the job from its first step.  Once the end
 * is recorded, the state goes.  The runner is reaped, so its lock is
 * free; a state that cannot be opened or locked is left (the job is
 * over, nothing resumes it). */
static void job_drop_state(struct agent *a)
{
        struct state_dir sd;
        char *err = NULL;
        _cleanup_free_ char *path = xasprintf("%s/jobs/%s/state", a->jr.path, a->id);
        int e = state_dir_open(path, STATE_DIR_LOCK, &sd, &err);
        if (e < 0) {
                if (e != -ENOENT)
                        say(a, "job %s: its state is left: %s", a->id, err ? err : "cannot open it");
                free(err);
                return;
        }
        state_remove(&sd, NULL);
        state_dir_close(&sd);
}

/* A job that cannot be trusted or read is moved aside with the reason in
 * its status, never retried blindly. */
static void job_refuse(struct agent *a, const char *id, const char *why)
{
        char *err = NULL;
        set_status(a, id, "refused", json_pack("{s:s, s:n, s:n, s:n}", "reason", why, "document", "phase", "step"));
        if (job_move_aside(&a->jr, id, &err) < 0) {
                say(a, "%s", err);
                free(err);
        }
        say(a, "job %s refused: %s", id, why);
}

static void job_spawn(struct agent *a);

static void on_child(void *userdata, int ws)
{
        struct agent *a = userdata;
        /* The last progress lines are read before the end is judged. */
        while (progress_read(a))
                ;
        child_cleanup(a);
        int code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
        if (a->stopping) {
                /* Left as it was: "running", resumed at the next start. */
                set_status(a, a->id, "running", json_pack("{s:b}", "interrupted", 1));
                job_cleanup(a);
                sdev->event_exit(a->e, 0);
                return;
        }
        if (a->refusal && strstr(a->refusal, "another opentoe run is using")) {
                /* The runner of an agent that died is still ending. */
                free(a->refusal);
                a->refusal = NULL;
                struct timespec ts = { 0, 200 * 1000000L };
                nanosleep(&ts, NULL);
                if (++a->crashes < CRASH_LIMIT * 5) {
                        job_spawn(a);
                        return;
                }
                job_finished(a, "failed", code, "its state folder stayed locked by another run");
                job_cleanup(a);
        } else if (a->refusal) {
                json_t *summary = read_summary(a);
                job_signal(a, summary);
                json_decref(summary);
                _cleanup_free_ char *why = xstrdup(a->refusal);
                _cleanup_free_ char *id = xstrdup(a->id);
                job_cleanup(a);
                job_refuse(a, id, why);
        } else if (WIFEXITED(ws) && (code == 0 || code == 1)) {
                if (job_finished(a, code ? "failed" : "success", code, NULL))
                        job_drop_state(a);
                job_cleanup(a);
        } else if (WIFEXITED(ws) && code == EXIT_REBOOT) {
                json_t *job = NULL;
                enum reboot_mode m = REBOOT_MODE_AUTO;
                const char *why;
                char *how = NULL, *err = NULL;
                if (job_read_json(a->job_fd, "job.json", &job, NULL) == 0)
                        reboot_mode_parse(json_string_value(json_object_get(job, "rebootMode")), &m);
                json_decref(job);
                m = reboot_mode_choose(m, &why);
                set_status(a, a->id, "pending-reboot", json_pack("{s:i, s:s}", "exitCode", code, "rebootMode",
                                                                 reboot_mode_name(m)));
                notify(a, "STATUS=Waiting for a reboot: %s", a->id);
                a->reboot_wait = true;
                if (m == REBOOT_MODE_SELF) {
                        if (reboot_now(1, &how, &err) < 0)
                                say(a, "job %s: cannot reboot: %s", a->id, err);
                        else {
                                /* The reboot waits for this process to
                                 * exit; the job resumes at the next start. */
                                say(a, "job %s: rebooting (%s)", a->id, how);
                                notify(a, "STOPPING=1");
                                sdev->event_exit(a->e, 0);
                        }
                } else
                        say(a, "job %s waits for a reboot (%s mode, %s); it resumes when the agent starts again",
                            a->id, reboot_mode_name(m), why);
                free(how);
                free(err);
                job_cleanup(a);
                return;
        } else if (++a->crashes < CRASH_LIMIT) {
                say(a, "job %s: its runner ended with status %d; resuming it", a->id, code);
                job_spawn(a);
                return;
        } else {
                _cleanup_free_ char *why = xasprintf("its runner ended with status %d %d times", code, a->crashes);
                job_finished(a, "failed", code, why);
                job_cleanup(a);
        }
        notify(a, "STATUS=Idle");
        schedule_next(a);
}

/* The runner's config: the job less opentoe's own keys.  Its
 * logDestinations (checked by submit) become run flags: "journal": false
 * is --no-journal, "report" is --report (the log folder and CloudWatch
 * settings are the AWSTOE config's own keys and stay in it). */
static int write_run_config(struct agent *a, char **reterr)
{
        json_t *job = NULL;
        int e = job_read_json(a->job_fd, "job.json", &job, reterr);
        if (e < 0)
                return e;
        const json_t *ld = json_object_get(job, "logDestinations");
        a->no_journal = json_is_false(json_object_get(ld, "journal"));
        free(a->report);
        a->report = json_is_string(json_object_get(ld, "report")) ?
                            xstrdup(json_string_value(json_object_get(ld, "report"))) : NULL;
        static const char *const ours[] = { "signals", "rebootMode", "logDestinations", "executionId",
                                            "stateDirectory", NULL };
        for (size_t i = 0; ours[i]; i++)
                json_object_del(job, ours[i]);
        a->has_log_dir = json_is_string(json_object_get(job, "logDirectory"));
        e = job_write_json(a->job_fd, "run.json", job, reterr);
        json_decref(job);
        return e;
}

static void job_spawn(struct agent *a)
{
        char *err = NULL;
        int pp[2] = { -1, -1 };
        _cleanup_free_ char *state = xasprintf("%s/jobs/%s/state", a->jr.path, a->id);
        if (write_run_config(a, &err) < 0) {
                _cleanup_free_ char *id = xstrdup(a->id);
                _cleanup_free_ char *why = xstrdup(err ? err : "cannot read job.json");
                free(err);
                job_cleanup(a);
                job_refuse(a, id, why);
                schedule_next(a);
                return;
        }
        int out = openat(a->job_fd, "summary.out", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0 || pipe2(pp, O_CLOEXEC | O_NONBLOCK) < 0) {
                say(a, "job %s: cannot start its runner: %s", a->id, strerror(errno));
                safe_close(out);
                sdev->event_exit(a->e, 1);
                return;
        }
        /* The TOE_* folder goes in the job's folder unless the job says
         * where (logDirectory); the path is absolute, as a resumed run
         * checks it. */
        _cleanup_free_ char *jobdir = xasprintf("%s/jobs/%s", a->jr.path, a->id);
        const char *argv[16] = { "opentoe", "run", "--config", "run.json", "--execution-id", a->id,
                                 "--state-directory", state, "--reboot-mode", "exit" };
        size_t argc = 10;
        if (!a->has_log_dir) {
                argv[argc++] = "--log-directory";
                argv[argc++] = jobdir;
        }
        if (a->no_journal)
                argv[argc++] = "--no-journal";
        if (a->report) {
                argv[argc++] = "--report";
                argv[argc++] = a->report;
        }
        argv[argc] = NULL;
        pid_t pid = fork();
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                /* The agent's death (kill -9) is the runner's too: its
                 * guard then stops the step, and the job resumes. */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() == 1)
                        _exit(127);
                if (fchdir(a->job_fd) < 0 || dup2(out, 1) < 0 || dup2(pp[1], 3) < 0)
                        _exit(127);
                setenv("OPENTOE_PROGRESS_FD", "3", 1);
                execv("/proc/self/exe", (char **)argv);
                _exit(127);
        }
        close(out);
        close(pp[1]);
        if (pid < 0) {
                close(pp[0]);
                say(a, "job %s: cannot fork: %s", a->id, strerror(errno));
                sdev->event_exit(a->e, 1);
                return;
        }
        a->progress_fd = pp[0];
        if (child_watch_start(&a->child, a->e, pid, -1, on_child, a) < 0 ||
            sdev->add_io(a->e, &a->progress_src, a->progress_fd, EPOLLIN, on_progress, a) < 0) {
                say(a, "job %s: cannot watch its runner", a->id);
                kill(pid, SIGKILL);
                sdev->event_exit(a->e, 1);
                return;
        }
        set_status(a, a->id, "running", NULL);
        notify(a, "STATUS=Running %s", a->id);
        say(a, "job %s: started (runner %d)", a->id, (int)pid);
}

/* The next job: one that was running or waited for a reboot (resumed),
 * else the oldest queued one. */
static void pick_next(struct agent *a)
{
        char **ids = NULL, *err = NULL;
        if (a->id || a->stopping || a->reboot_wait)
                return;
        int n = job_list(&a->jr, false, &ids, &err);
        if (n < 0) {
                say(a, "%s", err);
                free(err);
                return;
        }
        const char *pick = NULL;
        for (int pass = 0; pass < 2 && !pick; pass++)
                for (int i = 0; i < n && !pick; i++) {
                        json_t *st = NULL;
                        int fd = job_open(&a->jr, ids[i], NULL, NULL);
                        if (fd < 0)
                                continue;
                        int e = job_read_json(fd, "status.json", &st, &err);
                        const char *s = json_string_value(json_object_get(st, "status"));
                        if (e < 0 && pass == 0) {
                                _cleanup_free_ char *why = xasprintf("its status cannot be trusted: %s", err);
                                close(fd);
                                job_refuse(a, ids[i], why);
                        } else if (e == 0 && s &&
                                   (pass == 0 ? !strcmp(s, "running") || !strcmp(s, "pending-reboot")
                                              : !strcmp(s, "queued")))
                                pick = ids[i];
                        if (pick) {
                                a->job_fd = fd;
                                a->id = xstrdup(pick);
                        } else if (e == 0 || pass != 0)
                                close(fd);
                        free(err);
                        err = NULL;
                        json_decref(st);
                }
        strv_free(ids);
        if (a->id)
                job_spawn(a);
        else
                notify(a, "STATUS=Idle: no job");
}

static int on_next(sd_event_source *s, void *userdata)
{
        struct agent *a = userdata;
        (void)s;
        pick_next(a);
        return 0;
}

static void schedule_next(struct agent *a)
{
        if (a->next_src)
                sdev->source_set_enabled(a->next_src, SD_EVENT_ONESHOT);
        else
                sdev->add_defer(a->e, &a->next_src, on_next, a);
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        (void)s, (void)revents;
        while (read(fd, buf, sizeof buf) > 0)
                ;
        schedule_next(userdata);
        return 0;
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct agent *a = userdata;
        notify(a, "WATCHDOG=1");
        sdev->source_set_time(s, usec + a->watchdog_usec / 2);
        sdev->source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

static int on_term(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct agent *a = userdata;
        (void)s;
        if (a->stopping)
                return 0;
        a->stopping = true;
        notify(a, "STOPPING=1");
        say(a, "stopping (signal %u)", si->ssi_signo);
        /* A delivery in flight is one failed attempt (counted already),
         * made again by the next agent. */
        if (a->deliver.pid > 0)
                kill(a->deliver.pid, SIGKILL);
        if (a->child.pid > 0) {
                /* As a crash: the runner's guard stops the step's group
                 * (TERM, grace, KILL) and the job resumes at the next
                 * start from its last checkpoint. */
                notify(a, "STATUS=Stopping: job %s is left to resume", a->id);
                kill(a->child.pid, SIGKILL);
        } else
                sdev->event_exit(a->e, 0);
        return 0;
}

static int on_hup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct agent *a = userdata;
        struct timespec ts;
        (void)s, (void)si;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        notify(a, "RELOADING=1\nMONOTONIC_USEC=%llu",
               (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
        say(a, "reloading %s", a->config_path);
        load_config(a);
        pick_up_drops(a);
        pick_up_user_data(a);
        schedule_next(a);
        notify(a, "READY=1");
        return 0;
}

static void usage(FILE *f, const char *prog, const struct option_def *defs)
{
        fprintf(f,
                "Usage: %s agent [--config FILE] [--root DIR]\n"
                "\nThe opentoe daemon: runs the jobs of its spool one at a time (opentoe-agent(8)).\n\n"
                "Options:\n",
                prog);
        option_help(f, defs);
}

int cmd_agent(const struct invocation *inv, int argc, char **argv)
{
        const char *config = NULL, *root_arg = NULL;
        const struct option_def defs[] = {
                OPTION_STR("config", 'c', &config, .arg = "FILE",
                           .help = "the agent's configuration (default " DEFAULT_CONFIG ")", .value = OPTION_VALUE_FILE),
                JOBROOT_OPTION(&root_arg),
                { NULL },
        };
        int status;
        if (option_parse_done(inv->program, "agent", defs, argc, argv, NULL, 0, NULL, usage, &status))
                return status;
        struct agent a = { .program = inv->program, .job_fd = -1, .child = CHILD_WATCH_INIT, .progress_fd = -1,
                           .inotify_fd = -1, .exit_code = 1, .deliver = CHILD_WATCH_INIT };
        char *err = NULL, *jobs = NULL;
        _cleanup_free_ char *root = jobroot_default(root_arg);
        a.config_path = xstrdup(config ? config : DEFAULT_CONFIG);
        a.config_given = config != NULL;
        notify_open(&a);
        if (load_config(&a) < 0)
                goto out;
        if (jobroot_open(root, &a.jr, &err) < 0 || sdev_load(&err) < 0) {
                say(&a, "%s", err);
                goto out;
        }
        interrupt_install();
        if (sdev->event_new(&a.e) < 0 || sdev->add_signal(a.e, &a.sig_term, SIGTERM, on_term, &a) < 0 ||
            sdev->add_signal(a.e, &a.sig_int, SIGINT, on_term, &a) < 0 ||
            sdev->add_signal(a.e, &a.sig_hup, SIGHUP, on_hup, &a) < 0) {
                say(&a, "cannot make the event loop");
                goto out;
        }
        a.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        jobs = xasprintf("%s/jobs", a.jr.path);
        if (a.inotify_fd < 0 || inotify_add_watch(a.inotify_fd, jobs, IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW) < 0 ||
            sdev->add_io(a.e, &a.inotify_src, a.inotify_fd, EPOLLIN, on_inotify, &a) < 0) {
                say(&a, "cannot watch %s: %s", jobs, strerror(errno));
                goto out;
        }
        const char *wd = getenv("WATCHDOG_USEC"), *wp = getenv("WATCHDOG_PID");
        if (wd && *wd && (!wp || !*wp || strtol(wp, NULL, 10) == getpid())) {
                a.watchdog_usec = strtoull(wd, NULL, 10);
                if (a.watchdog_usec > 0) {
                        uint64_t now;
                        sdev->now(a.e, CLOCK_MONOTONIC, &now);
                        sdev->add_time(a.e, &a.watchdog_src, CLOCK_MONOTONIC, now + a.watchdog_usec / 2,
                                       a.watchdog_usec / 20, on_watchdog, &a);
                }
        }
        unsetenv("WATCHDOG_USEC");
        unsetenv("WATCHDOG_PID");
        pick_up_drops(&a);
        notify(&a, "READY=1\nSTATUS=Idle: no job\nMAINPID=%d", (int)getpid());
        /* After READY=1: IMDS may take its time (10 s at most). */
        pick_up_user_data(&a);
        schedule_next(&a);
        outbox_kick(&a, 0);
        int r = sdev->event_loop(a.e);
        a.exit_code = r < 0 ? 1 : r;
out:
        free(err);
        free(jobs);
        if (a.child.pid > 0) {
                kill(a.child.pid, SIGKILL);
                (void)child_wait(a.child.pid, NULL);
        }
        job_cleanup(&a);
        if (a.deliver.pid > 0) {
                kill(a.deliver.pid, SIGKILL);
                (void)child_wait(a.deliver.pid, NULL);
                deliver_cleanup(&a);
        }
        if (sdev) {
                sdev->source_disable_unref(a.inotify_src);
                sdev->source_disable_unref(a.watchdog_src);
                sdev->source_disable_unref(a.outbox_src);
                sdev->source_disable_unref(a.next_src);
                sdev->source_disable_unref(a.sig_term);
                sdev->source_disable_unref(a.sig_int);
                sdev->source_disable_unref(a.sig_hup);
                if (a.e)
                        sdev->event_unref(a.e);
        }
        a.inotify_fd = safe_close(a.inotify_fd);
        a.notify_fd = safe_close(a.notify_fd);
        jobroot_close(&a.jr);
        free_many(a.config_path, a.report, a.drop_folder);
        return a.exit_code;
}
