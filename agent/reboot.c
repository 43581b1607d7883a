/* reboot.c: the reboot protocol's modes, the self mode's pending-resume
 * records and boot trigger, the reboot request, the pending-reboot
 * summary and `opentoe run --resume` (see reboot.h).  Every command it
 * runs goes through common/system.h. */
#include "reboot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "errmsg.h"
#include "strbuf.h"
#include "system.h"
#include "trust.h"
#include "tunables.h"

#define RESUME_DIR "/var/lib/opentoe/resume"
#define RESUME_UNIT "opentoe-resume.service"
#define CRON_MARK "# opentoe-resume"

int reboot_mode_parse(const char *s, enum reboot_mode *ret)
{
        static const char *const names[] = { "auto", "ssm", "self", "exit" };
        for (size_t i = 0; s && i < sizeof names / sizeof *names; i++)
                if (!strcmp(s, names[i])) {
                        *ret = (enum reboot_mode)i;
                        return 0;
                }
        return -EINVAL;
}

const char *reboot_mode_name(enum reboot_mode m)
{
        switch (m) {
        case REBOOT_MODE_SSM:
                return "ssm";
        case REBOOT_MODE_SELF:
                return "self";
        case REBOOT_MODE_EXIT:
                return "exit";
        case REBOOT_MODE_AUTO:
                break;
        }
        return "auto";
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

/* The resume folder's `sub` ("pending", "claimed"), made 0700 and checked. */
static int resume_dir(const char *sub, char **reterr)
{
        _cleanup_free_ char *rel = xasprintf(RESUME_DIR "/%s", sub);
        _cleanup_free_ char *path = sys_path(rel);
        return trust_open_dir(path, 0700, "the pending-resume folder", reterr);
}

int reboot_pending_write(const char *program, const char *execution_id, char *const *argv, char **reterr)
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

/* Runs one claimed record's command again and waits for it. */
static int resume_one(const char *program, const json_t *rec)
{
        const char *cwd = json_string_value(json_object_get(rec, "cwd"));
        const json_t *args = json_object_get(rec, "argv");
        size_t n = json_array_size(args);
        if (!cwd || n == 0 || n > 4096 || strcmp(json_string_value(json_array_get(args, 0)) ?: "", "run") != 0) {
                fprintf(stderr, "%s run --resume: a pending record is not valid; it is dropped\n", program);
                return 1;
        }
        char **argv = xcalloc(n + 2, sizeof *argv);
        argv[0] = (char *)program;
        for (size_t i = 0; i < n; i++) {
                argv[i + 1] = (char *)json_string_value(json_array_get(args, i));
                if (!argv[i + 1] || !strcmp(argv[i + 1], "--resume")) {
                        fprintf(stderr, "%s run --resume: a pending record is not valid; it is dropped\n", program);
                        free(argv);
                        return 1;
                }
        }
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
                return 1;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return 1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

static bool is_record(const char *name)
{
        size_t n = strlen(name);
        return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".json");
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
        /* Claim everything first: a rename succeeds once. */
        json_t *claimed = json_array();
        _cleanup_close_ int lfd = dup(pfd);
        DIR *d = lfd < 0 ? NULL : fdopendir(lfd);
        if (d) {
                lfd = -1;
                struct dirent *de;
                while ((de = readdir(d)))
                        if (is_record(de->d_name) &&
                            renameat(pfd, de->d_name, cfd, de->d_name) == 0)
                                json_array_append_new(claimed, json_string(de->d_name));
                closedir(d);
        }
        /* Nothing is pending now: the trigger goes before anything runs,
         * so a resumed run that reboots again arms it anew. */
        trigger_disarm();
        int status = 0;
        size_t i;
        json_t *name;
        json_array_foreach(claimed, i, name) {
                const char *nm = json_string_value(name);
                char *e2 = NULL;
                int fd = trust_openat(cfd, nm, O_RDONLY, 0, S_IFREG, 077, nm, &e2);
                json_t *rec = NULL;
                if (fd >= 0) {
                        json_error_t je;
                        rec = json_loadfd(fd, JSON_REJECT_DUPLICATES, &je);
                        close(fd);
                }
                /* Gone before it runs: a crash from here on does not run it twice. */
                (void)unlinkat(cfd, nm, 0);
                if (!rec) {
                        fprintf(stderr, "%s run --resume: the pending record %s cannot be read%s%s; it is dropped\n",
                                program, nm, e2 ? ": " : "", e2 ? e2 : "");
                        status = 1;
                } else {
                        int st = resume_one(program, rec);
                        if (st != 0 && status == 0)
                                status = st;
                }
                free(e2);
                json_decref(rec);
        }
        if (json_array_size(claimed) == 0)
                fprintf(stderr, "%s run --resume: no execution is waiting to resume\n", program);
        json_decref(claimed);
        return status;
}
