/* cmd_submit.c: `opentoe submit`: builds a job (AWSTOE's --config JSON,
 * or --documents/--parameters as `run` takes them, plus opentoe's own
 * keys), checks what the agent will rely on, places it in the spool
 * (jobs.c) and prints its execution id. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "errmsg.h"
#include "jobs.h"
#include "options.h"
#include "outbox.h"
#include "reboot.h"
#include "strbuf.h"
#include "uuid.h"

#define MAX_PARAMS 256

static void usage(FILE *f, const char *prog, const struct option_def *defs)
{
        fprintf(f,
                "Usage: %s submit (--config FILE | --documents A,B [--parameters K=V,...]) [OPTIONS]\n"
                "\nPlaces a job in the agent's spool and prints its execution id.\n\n"
                "Options:\n",
                prog);
        option_help(f, defs);
        fprintf(f, "\nSee opentoe(1) and opentoe-agent(8).\n");
}

/* A local document path as the agent (another folder) must see it. */
static json_t *abs_path(const char *p)
{
        if (p[0] == '/' || strstr(p, "://") || !strncmp(p, "arn:", 4))
                return json_string(p);
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
                return json_string(p);
        _cleanup_free_ char *a = xasprintf("%s/%s", cwd, p);
        return json_string(a);
}

static int load_config(const char *prog, const char *path, json_t **ret)
{
        json_error_t je;
        FILE *f = fopen(path, "re");
        if (!f) {
                fprintf(stderr, "%s submit: cannot read the config file %s: %s\n", prog, path, strerror(errno));
                return -errno;
        }
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        rewind(f);
        if (size > JOB_FILE_MAX) {
                fclose(f);
                fprintf(stderr, "%s submit: the config file %s has %ld bytes (at most %d)\n", prog, path, size,
                        JOB_FILE_MAX);
                return -EFBIG;
        }
        json_t *j = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
        fclose(f);
        if (!j || !json_is_object(j)) {
                fprintf(stderr, "%s submit: the config file %s must hold a JSON object%s%s\n", prog, path,
                        j ? "" : ": ", j ? "" : je.text);
                json_decref(j);
                return -EINVAL;
        }
        *ret = j;
        return 0;
}

/* What the agent relies on: documents to run, and opentoe's keys of
 * the right types. */
static int check_job(const char *prog, json_t *job)
{
        json_t *docs = json_object_get(job, "documents"), *d, *sig = json_object_get(job, "signals");
        json_t *rm = json_object_get(job, "rebootMode");
        size_t i;
        enum reboot_mode m;
        if (!json_is_array(docs) || json_array_size(docs) == 0) {
                fprintf(stderr, "%s submit: the job needs 'documents', a list of {\"path\": ...}\n", prog);
                return -EINVAL;
        }
        json_array_foreach(docs, i, d)
        {
                json_t *p = json_object_get(d, "path");
                if (!json_is_string(p)) {
                        fprintf(stderr, "%s submit: each document needs a 'path'\n", prog);
                        return -EINVAL;
                }
                json_object_set_new(d, "path", abs_path(json_string_value(p)));
        }
        if (sig && !json_is_array(sig)) {
                fprintf(stderr, "%s submit: 'signals' must be a list of targets\n", prog);
                return -EINVAL;
        }
        json_t *ld = json_object_get(job, "logDestinations"), *v;
        const char *k;
        if (ld && !json_is_object(ld)) {
                fprintf(stderr, "%s submit: 'logDestinations' must be an object\n", prog);
                return -EINVAL;
        }
        json_object_foreach(ld, k, v)
        {
                if ((!strcmp(k, "journal") && json_is_boolean(v)) ||
                    (!strcmp(k, "report") && json_is_string(v) && json_string_value(v)[0] == '/' &&
                     strlen(json_string_value(v)) < PATH_MAX))
                        continue;
                fprintf(stderr, "%s submit: 'logDestinations' knows \"journal\" (true or false) and \"report\" (an "
                                "absolute path), not '%s' as given\n", prog, k);
                return -EINVAL;
        }
        /* The outbox's own rules, now rather than when the job has run. */
        _cleanup_free_ char *why = NULL;
        if (sig && outbox_targets_check(sig, &why) < 0) {
                fprintf(stderr, "%s submit: 'signals': %s\n", prog, why);
                return -EINVAL;
        }
        if (rm && (!json_is_string(rm) || reboot_mode_parse(json_string_value(rm), &m) < 0)) {
                fprintf(stderr, "%s submit: 'rebootMode' is one of auto, ssm, self, exit\n", prog);
                return -EINVAL;
        }
        return 0;
}

/* --parameters K=V,K2=V2 (repeatable) as the config's list. */
static int add_params(const char *prog, json_t *job, const struct option_list *pl)
{
        json_t *list = json_array();
        json_object_set_new(job, "parameters", list);
        for (size_t i = 0; i < pl->n; i++) {
                _cleanup_free_ char *copy = xstrdup(pl->v[i]);
                char *save = NULL;
                for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
                        char *eq = strchr(kv, '=');
                        if (!eq || eq == kv) {
                                fprintf(stderr, "%s submit: a parameter is NAME=VALUE (got '%s')\n", prog, kv);
                                return -EINVAL;
                        }
                        *eq = 0;
                        json_array_append_new(list, json_pack("{s:s, s:s}", "name", kv, "value", eq + 1));
                }
        }
        return 0;
}

int cmd_submit(const struct invocation *inv, int argc, char **argv)
{
        const char *config = NULL, *documents = NULL, *id = NULL, *root_arg = NULL;
        const char *param_v[MAX_PARAMS];
        struct option_list params = { param_v, 0, MAX_PARAMS };
        const struct option_def defs[] = {
                OPTION_STR("config", 'c', &config, .arg = "FILE",
                           .help = "AWSTOE's JSON configuration, with opentoe's keys\n"
                                   "(signals, rebootMode, logDestinations)",
                           .value = OPTION_VALUE_FILE),
                OPTION_STR("documents", 'd', &documents, .arg = "A,B", .help = "the documents, as for run",
                           .value = OPTION_VALUE_FILE),
                OPTION_EACH("parameters", 0, &params, .arg = "K=V,...", .help = "their parameters (may be repeated)"),
                OPTION_STR("execution-id", 'i', &id, .arg = "ID",
                           .help = "the job's id (default: the config's, else a new UUID)"),
                JOBROOT_OPTION(&root_arg),
                { NULL },
        };
        int status;
        if (option_parse_done(inv->program, "submit", defs, argc, argv, NULL, 0, NULL, usage, &status))
                return status;
        if (!!config == !!documents || (config && params.n)) {
                fprintf(stderr, "%s submit: give either --config, or --documents (with --parameters)\n",
                        inv->program);
                return EXIT_USAGE;
        }
        json_t *job = NULL;
        char *err = NULL;
        char uuid[37];
        struct jobroot jr = { .fd = -1, .jobs_fd = -1, .refused_fd = -1 };
        _cleanup_free_ char *root = jobroot_default(root_arg);
        char *idc = NULL;
        status = 1;
        if (config) {
                if (load_config(inv->program, config, &job) < 0)
                        goto out;
        } else {
                job = json_object();
                json_t *docs = json_array();
                json_object_set_new(job, "documents", docs);
                _cleanup_free_ char *copy = xstrdup(documents);
                char *save = NULL;
                for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
                        json_array_append_new(docs, json_pack("{s:s}", "path", p));
                if (add_params(inv->program, job, &params) < 0)
                        goto out;
        }
        if (check_job(inv->program, job) < 0)
                goto out;
        if (!id && json_is_string(json_object_get(job, "executionId")))
                id = json_string_value(json_object_get(job, "executionId"));
        if (!id) {
                uuid_v4(uuid);
                id = uuid;
        }
        idc = xstrdup(id);
        json_object_set_new(job, "executionId", json_string(idc));
        if (job_id_check(idc, &err) < 0 || jobroot_open(root, &jr, &err) < 0 || job_submit(&jr, job, idc, &err) < 0) {
                fprintf(stderr, "%s submit: %s\n", inv->program, err);
                goto out;
        }
        printf("%s\n", idc);
        status = 0;
out:
        free(idc);
        free(err);
        json_decref(job);
        jobroot_close(&jr);
        return status;
}
