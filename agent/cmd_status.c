/* cmd_status.c: `opentoe status`: a job's status as the agent's files
 * say it (jobstatus.h), one job, the latest, or all of them; --wait
 * polls the files until the job ends, so it survives the agent's
 * restarts and works across a reboot.  Exit codes: jobstatus.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "errmsg.h"
#include "jobs.h"
#include "jobstatus.h"
#include "options.h"
#include "strbuf.h"
#include "strv.h"
#include "tunables.h"

#define EXIT_NO_JOB 5

static void usage(FILE *f, const char *prog, const struct option_def *defs)
{
        fprintf(f,
                "Usage: %s status [EXECUTION_ID] [--wait] [--format text|json] [--all]\n"
                "\nThe status of an agent's job (default: the latest submitted).\n\n"
                "Options:\n",
                prog);
        option_help(f, defs);
        fprintf(f, "\nExit status: 0 succeeded, 1 failed, 2 usage, 3 not done yet (queued, running,\n"
                   "pending-reboot), 4 refused, 5 no such job.  See opentoe(1).\n");
}

/* The status of job `id` (NULL: the latest).  0, -ENOENT, or another
 * negative errno with *reterr. */
static int read_status(struct jobroot *jr, const char *id, json_t **ret, char **reterr)
{
        _cleanup_free_ char *latest = NULL;
        if (!id) {
                char **ids = NULL;
                int64_t best = INT64_MIN;
                for (int k = 0; k < 2; k++) {
                        int n = job_list(jr, k == 1, &ids, reterr);
                        if (n < 0)
                                return n;
                        for (int i = 0; i < n; i++) {
                                bool refused;
                                json_t *st = NULL;
                                int fd = job_open(jr, ids[i], &refused, NULL);
                                if (fd < 0)
                                        continue;
                                if (job_read_json(fd, "status.json", &st, NULL) == 0) {
                                        int64_t seq = json_integer_value(json_object_get(st, "seq"));
                                        if (seq >= best) {
                                                best = seq;
                                                free(latest);
                                                latest = xstrdup(ids[i]);
                                        }
                                }
                                json_decref(st);
                                close(fd);
                        }
                        strv_free(ids);
                        ids = NULL;
                }
                if (!latest)
                        return -ENOENT;
                id = latest;
        }
        int fd = job_open(jr, id, NULL, reterr);
        if (fd < 0)
                return fd;
        int e = job_read_json(fd, "status.json", ret, reterr);
        close(fd);
        return e;
}

static const char *str(const json_t *st, const char *key)
{
        const char *s = json_string_value(json_object_get(st, key));
        return s ? s : "";
}

static void print_text(const json_t *st)
{
        printf("execution id: %s\nstatus: %s\n", str(st, "executionId"), str(st, "status"));
        static const char *const keys[] = { "document", "phase", "step", "reason", NULL };
        for (size_t i = 0; keys[i]; i++)
                if (*str(st, keys[i]))
                        printf("%s: %s\n", keys[i], str(st, keys[i]));
        if (json_is_integer(json_object_get(st, "exitCode")))
                printf("exit code: %lld\n", (long long)json_integer_value(json_object_get(st, "exitCode")));
}

static int list_all(struct jobroot *jr, bool json)
{
        json_t *all = json_array();
        char *err = NULL;
        for (int k = 0; k < 2; k++) {
                char **ids = NULL;
                int n = job_list(jr, k == 1, &ids, &err);
                if (n < 0) {
                        fprintf(stderr, "opentoe status: %s\n", err);
                        free(err);
                        json_decref(all);
                        return 1;
                }
                for (int i = 0; i < n; i++) {
                        json_t *st = NULL;
                        int fd = job_open(jr, ids[i], NULL, NULL);
                        if (fd >= 0 && job_read_json(fd, "status.json", &st, NULL) == 0)
                                json_array_append_new(all, st);
                        safe_close(fd);
                }
                strv_free(ids);
        }
        size_t i;
        json_t *st;
        if (json) {
                json_dumpf(all, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
                putchar('\n');
        } else
                json_array_foreach(all, i, st)
                {
                        printf("%-40s %-15s", str(st, "executionId"), str(st, "status"));
                        if (*str(st, "step"))
                                printf(" %s / %s / %s", str(st, "document"), str(st, "phase"), str(st, "step"));
                        else if (*str(st, "reason"))
                                printf(" %s", str(st, "reason"));
                        putchar('\n');
                }
        json_decref(all);
        return 0;
}

int cmd_status(const struct invocation *inv, int argc, char **argv)
{
        const char *format = "text", *root_arg = NULL, *args[1];
        bool wait = false, all = false;
        const struct option_def defs[] = {
                OPTION_BOOL("wait", 'w', &wait, .help = "return only once the job has ended"),
                OPTION_STR("format", 0, &format, .arg = "FORMAT", .help = "text (default) or json",
                           .value = OPTION_VALUE_ONE_OF, .choices = "text json"),
                OPTION_BOOL("all", 'a', &all, .help = "list every job"),
                JOBROOT_OPTION(&root_arg),
                OPTION_POSITIONAL("EXECUTION_ID", OPTION_VALUE_ANY),
                { NULL },
        };
        size_t n_args = 0;
        int r = option_parse(inv->program, "status", defs, argc, argv, args, 1, &n_args, usage);
        if (r != 0)
                return r > 0 ? 0 : EXIT_USAGE;
        bool json = !strcmp(format, "json");
        if (!json && strcmp(format, "text")) {
                fprintf(stderr, "%s status: --format is text or json\n", inv->program);
                return EXIT_USAGE;
        }
        _cleanup_free_ char *root = jobroot_default(root_arg);
        struct jobroot jr;
        char *err = NULL;
        if (jobroot_open(root, &jr, &err) < 0) {
                fprintf(stderr, "%s status: %s\n", inv->program, err);
                free(err);
                return EXIT_NO_JOB;
        }
        if (all) {
                r = list_all(&jr, json);
                jobroot_close(&jr);
                return r;
        }
        const char *id = n_args ? args[0] : NULL;
        json_t *st = NULL;
        uint64_t poll_ms = env_u64_in("OPENTOE_STATUS_POLL_MS", 250, 10, 60000);
        for (;;) {
                json_decref(st);
                st = NULL;
                int e = read_status(&jr, id, &st, &err);
                if (e == -ENOENT && !wait) {
                        fprintf(stderr, "%s status: %s\n", inv->program,
                                id ? "no such job" : "no job was submitted");
                        jobroot_close(&jr);
                        return EXIT_NO_JOB;
                }
                if (e < 0 && e != -ENOENT) {
                        fprintf(stderr, "%s status: %s\n", inv->program, err);
                        free(err);
                        jobroot_close(&jr);
                        return EXIT_NO_JOB;
                }
                if (!wait || (e == 0 && jobstatus_final(str(st, "status"))))
                        break;
                struct timespec ts = { (time_t)(poll_ms / 1000), (long)(poll_ms % 1000) * 1000000L };
                nanosleep(&ts, NULL);
        }
        jobroot_close(&jr);
        if (json) {
                json_dumpf(st, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
                putchar('\n');
        } else
                print_text(st);
        r = jobstatus_exit_code(str(st, "status"));
        json_decref(st);
        return r;
}
