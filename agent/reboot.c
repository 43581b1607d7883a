/* reboot.c: the reboot protocol's modes, the self mode's pending-resume
 * records and boot trigger, the reboot request, the pending-reboot
 * summary and `opentoe run --resume` (see reboot.h).  Every command it
 * runs goes through common/system.h. */
#include "child.h"
#include "reboot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "errmsg.h"
#include "state.h"
#include "strbuf.h"
#include "system.h"
#include "trust.h"
#include "tunables.h"

#define RESUME_DIR "/var/lib/opentoe/resume"
#define RESUME_UNIT "opentoe-resume.service"
#define CRON_MARK "# opentoe-resume"

/* The modes' names, in the order of enum reboot_mode: one table for
 * parsing and naming. */
static const char *const mode_names[] = {
        [REBOOT_MODE_AUTO] = "auto",
        [REBOOT_MODE_SSM] = "ssm",
        [REBOOT_MODE_SELF] = "self",
        [REBOOT_MODE_EXIT] = "exit",
};

int reboot_mode_parse(const char *s, enum reboot_mode *ret)
{
        for (size_t i = 0; s && i < ELEMENTSOF(mode_names); i++)
                if (!strcmp(s, mode_names[i])) {
                        *ret = (enum reboot_mode)i;
                        return 0;
                }
        return -EINVAL;
}

const char *reboot_mode_name(enum reboot_mode m)
{
        return (size_t)m < ELEMENTSOF(mode_names) ? mode_names[m] : "auto";
}

enum reboot_mode reboot_mode_choose(enum reboot_mode given, const char **ret_why)
{
        enum reboot_mode m;
        const char *env = getenv("OPENTOE_REBOOT_MODE"), *id = getenv("AWS_SSM_INSTANCE_ID"),
                   *region = getenv("AWS_SSM_REGION_NAME");
        if (given != REBOOT_MODE_AUTO) {
                *ret_why = "--reboot-mode";
                return given;
        }
        if (env && *env && reboot_mode_parse(env, &m) == 0 && m != REBOOT_MODE_AUTO) {
                *ret_why = "OPENTOE_REBOOT_MODE";
                return m;
        }
        /* What SSM Agent sets for every command it runs
         * (agent/executers/executers.go: AWS_SSM_INSTANCE_ID,
         * AWS_SSM_REGION_NAME). */
        if ((id && *id) || (region && *region)) {
                *ret_why = "running under SSM Agent";
                return REBOOT_MODE_SSM;
        }
        if (geteuid() == 0) {
                *ret_why = "standalone, as root";
                return REBOOT_MODE_SELF;
        }
        *ret_why = "standalone, not root: opentoe cannot reboot the machine";
        return REBOOT_MODE_EXIT;
}

long reboot_limit(void)
{
        return env_long("OPENTOE_REBOOT_LIMIT", REBOOT_LIMIT_DEFAULT, 1, 100);
}

/* The resume folder's `sub` ("pending", "claimed"), checked, and made
 * 0700 when `create`. */
static int resume_dir_open(const char *sub, bool create, char **reterr)
{
        _cleanup_free_ char *rel = xasprintf(RESUME_DIR "/%s", sub);
        _cleanup_free_ char *path = sys_path(rel);
        return trust_open_dir(path, create ? 0700 : 0, "the pending-resume folder", reterr);
}

static int resume_dir(const char *sub, char **reterr)
{
        return resume_dir_open(sub, true, reterr);
}

void reboot_claim_remove(const char *execution_id)
{
        char *err = NULL;
        _cleanup_close_ int dfd = resume_dir_open("claimed", false, &err);
        free(err);
        if (dfd < 0)
                return;
        _cleanup_free_ char *name = xasprintf("%s.json", execution_id);
        (void)unlinkat(dfd, name, 0);
}

int reboot_pending_write(const char *program, const char *execution_id, const char *state_dir, char *const *argv,
                         char **reterr)
{
        _cleanup_close_ int dfd = resume_dir("pending", reterr);
        if (dfd < 0)
                return dfd;
        _cleanup_free_ char *cwd = getcwd(NULL, 0);
        if (!cwd)
                return errmsg_set(reterr, -errno, "cannot name the current folder: %s", strerror(errno));
        json_t *args = json_array();
        for (size_t i = 0; argv[i]; i++)
                json_array_append_new(args, json_string(argv[i]));
        json_t *rec = json_pack("{s:s, s:s, s:s, s:o}", "executionId", execution_id, "program", program, "cwd", cwd,
                                "argv", args);
        if (state_dir)
                json_object_set_new(rec, "stateDirectory", json_string(state_dir));
        char *text = json_dumps(rec, JSON_COMPACT);
        json_decref(rec);
        if (!text)
                return errmsg_set(reterr, -EINVAL, "cannot write the pending-resume record (the arguments are not "
                                                   "valid UTF-8)");
        _cleanup_free_ char *name = xasprintf("%s.json", execution_id);
        int e = write_file_atomic_at(dfd, name, text, strlen(text), 0600);
        free(text);
        if (e < 0)
                return errmsg_set(reterr, e, "cannot write the pending-resume record %s/%s: %s", RESUME_DIR "/pending",
                                  name, strerror(-e));
        return 0;
}

void reboot_pending_remove(const char *execution_id)
{
        char *err = NULL;
        _cleanup_close_ int dfd = resume_dir("pending", &err);
        free(err);
        if (dfd < 0)
                return;
        _cleanup_free_ char *name = xasprintf("%s.json", execution_id);
        (void)unlinkat(dfd, name, 0);
}

/* The crontab without opentoe's line (and whether it had one). */
static char *crontab_without(const char *tab, bool *had)
{
        struct strbuf b = STRBUF_INIT;
        *had = false;
        for (const char *p = tab; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                if (memmem(p, len, CRON_MARK, strlen(CRON_MARK)))
                        *had = true;
                else {
                        sb_append(&b, p, len);
                        sb_putc(&b, '\n');
                }
                p += len + (nl ? 1 : 0);
        }
        sb_putc(&b, '\0');
        return sb_take(&b);
}

static int crontab_read(char **ret, char **reterr)
{
        const char *const list[] = { "crontab", "-l", NULL };
        int st = sys_run(list, NULL, ret, reterr);
        if (st < 0)
                return st;
        if (st != 0) {
                /* "no crontab for root" */
                free(*ret);
                *ret = xstrdup("");
        }
        return 0;
}

static int crontab_write(const char *tab, char **reterr)
{
        const char *const install[] = { "crontab", "-", NULL };
        int st = sys_run(install, tab, NULL, reterr);
        if (st > 0)
                return errmsg_set(reterr, -EIO, "crontab - failed (exit status %d)", st);
        return st;
}

int reboot_trigger_arm(const char **ret_how, char **reterr)
{
        if (sys_has_systemd()) {
                *ret_how = RESUME_UNIT;
                const char *const enable[] = { "systemctl", "enable", RESUME_UNIT, NULL };
                int st = sys_run(enable, NULL, NULL, reterr);
                if (st > 0)
                        return errmsg_set(reterr, -EIO, "systemctl enable %s failed (exit status %d)", RESUME_UNIT, st);
                return st;
        }
        *ret_how = "the crontab's @reboot entry";
        _cleanup_free_ char *tab = NULL, *rest = NULL, *exe = realpath("/proc/self/exe", NULL);
        if (!exe)
                return errmsg_set(reterr, -errno, "cannot name opentoe's own program: %s", strerror(errno));
        int e = crontab_read(&tab, reterr);
        if (e < 0)
                return e;
        bool had;
        rest = crontab_without(tab, &had);
        _cleanup_free_ char *next = xasprintf("%s@reboot %s run --resume " CRON_MARK "\n", rest, exe);
        return crontab_write(next, reterr);
}

/* The trigger goes once nothing is pending any more. */
static void trigger_disarm(void)
{
        char *err = NULL;
        if (sys_has_systemd()) {
                const char *const disable[] = { "systemctl", "disable", RESUME_UNIT, NULL };
                if (sys_run(disable, NULL, NULL, &err) != 0)
                        fprintf(stderr, "opentoe run --resume: warning: cannot disable %s: %s\n", RESUME_UNIT,
                                err ? err : "systemctl failed");
                free(err);
                return;
        }
        _cleanup_free_ char *tab = NULL, *rest = NULL;
        bool had = false;
        if (crontab_read(&tab, &err) >= 0) {
                rest = crontab_without(tab, &had);
                if (had && crontab_write(rest, &err) < 0)
                        fprintf(stderr, "opentoe run --resume: warning: cannot remove the crontab entry: %s\n", err);
        }
        free(err);
}

int reboot_possible(char **reterr)
{
        _cleanup_free_ char *p = NULL, *cron = NULL;
        if (sys_find(sys_has_systemd() ? "systemctl" : "reboot", &p) < 0)
                return errmsg_set(reterr, -ENOENT, "neither systemctl (with systemd) nor reboot was found");
        if (!sys_has_systemd() && sys_find("crontab", &cron) < 0)
                return errmsg_set(reterr, -ENOENT, "without systemd the resume needs crontab, which was not found");
        return 0;
}

int reboot_now(long delay_s, char **ret_how, char **reterr)
{
        bool systemd = sys_has_systemd();
        _cleanup_free_ char *path = NULL;
        *ret_how = NULL;
        int e = sys_find(systemd ? "systemctl" : "reboot", &path);
        if (e < 0)
                return errmsg_set(reterr, e, "%s was not found", systemd ? "systemctl" : "reboot");
        const char *const with_systemd[] = { path, "reboot", NULL };
        const char *const plain[] = { path, NULL };
        e = sys_spawn_after_exit(systemd ? with_systemd : plain, delay_s, reterr);
        if (e >= 0)
                *ret_how = xstrdup(systemd ? "systemctl reboot" : "reboot");
        return e;
}

void reboot_summary(FILE *f, const char *execution_id, const struct counts *c, const char *log_url)
{
        /* report.c's summary with the status it has no word for. */
        char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        if (!m)
                return;
        report_summary(m, execution_id, false, c, "", log_url);
        fclose(m);
        json_t *o = json_loads(text, 0, NULL);
        free(text);
        if (!o)
                return;
        json_object_set_new(o, "status", json_string("pending-reboot"));
        text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (text)
                fprintf(f, "%s\n", text);
        fflush(f);
        free(text);
}

/* Runs one claimed record's command again and waits for it: its wait
 * status, or -1 when it could not be started. */
static int resume_one(const char *program, const json_t *rec)
{
        const char *cwd = json_string_value(json_object_get(rec, "cwd"));
        const json_t *args = json_object_get(rec, "argv");
        size_t n = json_array_size(args);
        char **argv = xcalloc(n + 2, sizeof *argv);
        argv[0] = (char *)program;
        for (size_t i = 0; i < n; i++)
                argv[i + 1] = (char *)json_string_value(json_array_get(args, i));
        fprintf(stderr, "%s run --resume: resuming execution %s in %s\n", program,
                json_string_value(json_object_get(rec, "executionId")), cwd);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
                if (chdir(cwd) < 0)
                        _exit(1);
                execv("/proc/self/exe", argv);
                _exit(127);
        }
        free(argv);
        int st = 0;
        if (pid < 0)
                return -1;
        if (child_wait(pid, &st) < 0)
                return -1;
        return st;
}

/* A record's command is `run` with arguments, never --resume itself. */
static bool record_valid(const json_t *rec)
{
        const json_t *args = json_object_get(rec, "argv");
        size_t n = json_array_size(args);
        if (!json_is_string(json_object_get(rec, "cwd")) || !json_is_string(json_object_get(rec, "executionId")) ||
            n == 0 || n > 4096 || strcmp(json_string_value(json_array_get(args, 0)) ?: "", "run") != 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                const char *a = json_string_value(json_array_get(args, i));
                if (!a || !strcmp(a, "--resume"))
                        return false;
        }
        return true;
}

static bool is_record(const char *name)
{
        size_t n = strlen(name);
        return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".json");
}

/* This boot's id (under the test root, as every system path), or "". */
static void boot_id(char buf[64])
{
        _cleanup_free_ char *path = sys_path("/proc/sys/kernel/random/boot_id");
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        buf[0] = 0;
        if (!f || !fgets(buf, 64, f))
                buf[0] = 0;
        buf[strcspn(buf, "\n")] = 0;
}

/* The records' names in a folder. */
static json_t *records_in(int dfd)
{
        json_t *names = json_array();
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return names;
        }
        struct dirent *de;
        while ((de = readdir(d)))
                if (is_record(de->d_name))
                        json_array_append_new(names, json_string(de->d_name));
        closedir(d);
        return names;
}

/* Is the record's state folder locked by a run alive now? */
static bool state_busy(const json_t *rec)
{
        const char *sd = json_string_value(json_object_get(rec, "stateDirectory"));
        const char *cwd = json_string_value(json_object_get(rec, "cwd"));
        if (!sd || !*sd)
                return false;
        _cleanup_free_ char *path = sd[0] == '/' ? xstrdup(sd) : xasprintf("%s/%s", cwd, sd);
        struct state_dir d = { .fd = -1, .lock_fd = -1 };
        char *err = NULL;
        int e = state_dir_open(path, STATE_DIR_LOCK, &d, &err);
        free(err);
        if (e >= 0)
                state_dir_close(&d);
        return e == -EBUSY;
}

/* One record of claimed/: run, kept for the next boot, or dropped.
 * `fresh`: claimed from pending/ by this --resume.  Returns the exit
 * status it contributes; *ret_kept says whether the record stays. */
static int resume_claimed(const char *program, int cfd, const char *nm, bool fresh, const char *boot,
                          bool *ret_kept)
{
        char *e2 = NULL;
        *ret_kept = false;
        _cleanup_close_ int fd = trust_openat(cfd, nm, O_RDONLY, 0, S_IFREG, 077, nm, &e2);
        json_t *rec = NULL;
        if (fd >= 0) {
                json_error_t je;
                rec = json_loadfd(fd, JSON_REJECT_DUPLICATES, &je);
        }
        if (!rec || !json_is_object(rec) || !record_valid(rec)) {
                fprintf(stderr, "%s run --resume: the pending record %s cannot be read%s%s; it is dropped\n", program,
                        nm, e2 ? ": " : rec ? ": it is not a valid record" : "", e2 ? e2 : "");
                free(e2);
                json_decref(rec);
                (void)unlinkat(cfd, nm, 0);
                return 1;
        }
        free(e2);
        const char *id = json_string_value(json_object_get(rec, "executionId"));
        const char *was = json_string_value(json_object_get(rec, "bootId"));
        long resumes = (long)json_integer_value(json_object_get(rec, "resumes")) + 1;
        int status = 0;
        if (!fresh && *boot && was && !strcmp(was, boot)) {
                /* Once per boot: what was killed at this boot waits for
                 * the next one. */
                fprintf(stderr, "%s run --resume: execution %s was resumed at this boot already and did not finish; "
                                "it resumes at the next boot\n", program, id);
                *ret_kept = true;
        } else if (state_busy(rec)) {
                fprintf(stderr, "%s run --resume: execution %s: another opentoe run holds its state; the record "
                                "stays for it\n", program, id);
                *ret_kept = true;
        } else if (resumes > reboot_limit()) {
                fprintf(stderr, "%s run --resume: execution %s was resumed %ld times without finishing, the bound "
                                "(OPENTOE_REBOOT_LIMIT, default %d); its record is dropped\n",
                        program, id, resumes - 1, REBOOT_LIMIT_DEFAULT);
                (void)unlinkat(cfd, nm, 0);
                status = 1;
        } else {
                /* Marked before it runs: a run killed from here on is
                 * resumed at the next boot, never again at this one. */
                json_object_set_new(rec, "bootId", json_string(boot));
                json_object_set_new(rec, "resumes", json_integer(resumes));
                _cleanup_free_ char *text = json_dumps(rec, JSON_COMPACT);
                int e = text ? write_file_atomic_at(cfd, nm, text, strlen(text), 0600) : -ENOMEM;
                if (e < 0) {
                        fprintf(stderr, "%s run --resume: cannot mark the record %s: %s; it is left for the next "
                                        "boot\n", program, nm, strerror(-e));
                        *ret_kept = true;
                        json_decref(rec);
                        return 1;
                }
                int ws = resume_one(program, rec);
                struct stat st;
                /* The run removes the claim when it ends (success,
                 * failure, or a new reboot's hand-off, whose own record
                 * is in pending/).  Still there: killed before its end,
                 * it resumes at the next boot; else it ended without
                 * taking up the execution (refused, say): dropped. */
                bool still = fstatat(cfd, nm, &st, AT_SYMLINK_NOFOLLOW) == 0;
                int code = ws < 0 ? 1 : WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
                status = code;
                if (still && ws >= 0 && WIFSIGNALED(ws)) {
                        fprintf(stderr, "%s run --resume: the resumed run of execution %s was killed (signal %d) "
                                        "before it ended; it resumes again at the next boot\n",
                                program, id, WTERMSIG(ws));
                        *ret_kept = true;
                } else if (still && state_busy(rec)) {
                        fprintf(stderr, "%s run --resume: execution %s: another opentoe run holds its state; the "
                                        "record stays for it\n", program, id);
                        *ret_kept = true;
                } else if (still) {
                        fprintf(stderr, "%s run --resume: the resumed run of execution %s ended (status %d) without "
                                        "taking it up; its record is dropped\n",
                                program, id, code);
                        (void)unlinkat(cfd, nm, 0);
                        status = code ? code : 1;
                }
        }
        json_decref(rec);
        return status;
}

int reboot_resume_pending(const char *program)
{
        char *err = NULL;
        _cleanup_close_ int pfd = resume_dir("pending", &err);
        _cleanup_close_ int cfd = pfd < 0 ? -1 : resume_dir("claimed", &err);
        if (pfd < 0 || cfd < 0) {
                fprintf(stderr, "%s run --resume: %s\n", program, err);
                free(err);
                return 1;
        }
        /* One resumer at a time (the unit and a person, say): the other
         * leaves everything to it. */
        _cleanup_close_ int lfd = openat(cfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) < 0) {
                fprintf(stderr, "%s run --resume: another 'run --resume' is resuming what waits\n", program);
                return 0;
        }
        char boot[64];
        boot_id(boot);
        /* Claim everything first: a rename succeeds once.  A claim
         * replaces what an earlier boot's claim of the same execution
         * left: the new record is its latest hand-off. */
        json_t *fresh = json_array();
        json_t *pending = records_in(pfd);
        size_t i;
        json_t *name;
        json_array_foreach(pending, i, name)
        {
                const char *nm = json_string_value(name);
                if (renameat(pfd, nm, cfd, nm) == 0)
                        json_array_append_new(fresh, json_string(nm));
        }
        json_decref(pending);
        /* Then every claim there is: this one's, and those whose resumed
         * run was killed (a power loss, SIGKILL) before it ended. */
        json_t *claimed = records_in(cfd);
        int status = 0;
        size_t ran = 0, kept = 0;
        json_array_foreach(claimed, i, name)
        {
                const char *nm = json_string_value(name);
                bool is_fresh = false, k;
                size_t j;
                json_t *f;
                json_array_foreach(fresh, j, f) is_fresh |= !strcmp(json_string_value(f), nm);
                int st = resume_claimed(program, cfd, nm, is_fresh, boot, &k);
                if (st != 0 && status == 0)
                        status = st;
                kept += k;
                ran++;
        }
        json_decref(claimed);
        json_decref(fresh);
        /* The trigger goes once nothing waits: not while a claim is kept
         * for the next boot, nor when a resumed run handed off to another
         * reboot (it armed it anew). */
        json_t *left = records_in(pfd);
        if (!kept && !json_array_size(left))
                trigger_disarm();
        json_decref(left);
        if (ran == 0)
                fprintf(stderr, "%s run --resume: no execution is waiting to resume\n", program);
        return status;
}
