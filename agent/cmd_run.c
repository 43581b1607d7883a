/* cmd_run.c: `opentoe run` / `awstoe run`: AWSTOE's flags and --config
 * file with their precedence rules, parameters, loading and compiling the
 * documents (local files, or S3 objects and Image Builder components
 * fetched into private temporary files), the S3 log-upload and
 * document-owner settings, the endpoint flag, then handing the documents
 * to the runner. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "checker.h"
#include "cleanup.h"
#include "cmd_aws.h"
#include "commands.h"
#include "compile.h"
#include "diag.h"
#include "docsource.h"
#include "http.h"
#include "imagebuilder.h"
#include "options.h"
#include "outbox.h"
#include "program.h"
#include "reboot.h"
#include "runner.h"
#include "s3.h"
#include "strbuf.h"
#include "uuid.h"
#include "yamldoc.h"

#define MAX_DOCUMENTS 100
#define MAX_PHASES 64

/* Times --parameters and --os-platforms may each be given. */
#define MAX_REPEATS 64

static void usage(FILE *f, const char *prog, const struct option_def *defs)
{
        fprintf(f,
                "Usage: %s run (--documents A,B | --config FILE) [OPTIONS]\n"
                "Run component documents (YAML or compiled .otc; local paths, s3:// URIs or\n"
                "Image Builder component build version ARNs).\n"
                "\n",
                prog);
        option_help(f, defs);
        fprintf(f,
                "\n"
                "Exit status: 0 success (ignored failures included), 1 failure, 2 usage error,\n"
                "194 a step asked for a reboot (the state is saved; run again to resume),\n"
                "128 + N stopped by signal N.\n");
}

/* "a=1,b=x\,y" into an object; values may hold '=' (the first one splits)
 * and, escaped with a backslash, ',' and '\'. */
static int parse_parameters(const char *s, json_t *into, const char **reterr)
{
        struct strbuf name = STRBUF_INIT, value = STRBUF_INIT;
        bool in_value = false;
        int r = 0;
        for (const char *p = s;; p++) {
                if (*p == '\\' && (p[1] == ',' || p[1] == '\\' || p[1] == '=')) {
                        sb_putc(in_value ? &value : &name, p[1]);
                        p++;
                        continue;
                }
                if (*p == ',' || *p == 0) {
                        if (!name.len && !in_value && *p == 0 && p == s)
                                break;
                        if (!in_value || !name.len || !value.len) {
                                *reterr = "each parameter needs a name and a value: --parameters name1=value1,name2=value2";
                                r = -EINVAL;
                                break;
                        }
                        json_object_set_new(into, sb_str(&name), json_stringn(value.s, value.len));
                        sb_free(&name);
                        sb_free(&value);
                        in_value = false;
                        if (*p == 0)
                                break;
                        continue;
                }
                if (*p == '=' && !in_value) {
                        in_value = true;
                        continue;
                }
                sb_putc(in_value ? &value : &name, *p);
        }
        sb_free(&name);
        sb_free(&value);
        return r;
}


static char *default_state_directory(void)
{
        if (geteuid() == 0)
                return xstrdup("/var/lib/opentoe/state");
        const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
        if (xdg && *xdg)
                return xasprintf("%s/opentoe", xdg);
        return xasprintf("%s/.local/state/opentoe", home && *home ? home : "/tmp");
}

struct settings {
        const char *documents, *parameters, *phases, *execution_id, *log_directory, *state_directory;
        const char *document_owner, *log_bucket, *log_prefix, *log_owner;
        const char *cw_group, *cw_stream, *cw_region, *blocked;
        bool trace, dry_run, trace_set, cw_ignore, cw_ignore_set;
};

/* Reads --config (a local file, or an S3 object fetched with the
 * document bucket owner given on the command line) into settings the
 * command line did not give. */
static int apply_config(const char *prog, const char *path, struct settings *s, json_t **ret_docs,
                        json_t **ret_params, json_t **ret_cfg)
{
        json_error_t je;
        char *local = NULL;
        if (s3_is_uri(path)) {
                char *owner = NULL, *err = NULL;
                int e = s3_owner_normalize(s->document_owner, &owner, &err);
                if (e >= 0)
                        e = s3_fetch_temp(path, owner, &local, &err);
                free(owner);
                if (e < 0) {
                        fprintf(stderr, "%s run: cannot read the config file %s: %s\n", prog, path, err);
                        free(err);
                        return -EINVAL;
                }
        }
        json_t *cfg = json_load_file(local ? local : path, JSON_REJECT_DUPLICATES, &je);
        s3_temp_remove(local);
        if (!cfg) {
                fprintf(stderr, "%s run: cannot read the config file %s: %s (line %d)\n", prog, path, je.text, je.line);
                return -EINVAL;
        }
        *ret_cfg = cfg;
        if (!json_is_object(cfg)) {
                fprintf(stderr, "%s run: the config file %s must hold a JSON object\n", prog, path);
                return -EINVAL;
        }
        static const char *const known[] = { "cwIgnoreFailures", "cwLogGroup", "cwLogRegion", "cwLogStream",
                                             "documentS3BucketOwner", "documents", "executionId", "logDirectory",
                                             "logS3BucketName", "logS3BucketOwner", "logS3KeyPrefix", "parameters",
                                             "phases", "stateDirectory", "trace", NULL };
        const char *key;
        json_t *v;
        json_object_foreach(cfg, key, v)
        {
                bool ok = false;
                for (size_t i = 0; known[i]; i++)
                        ok |= !strcmp(known[i], key);
                if (!ok)
                        fprintf(stderr, "%s run: warning: unknown key '%s' in %s is ignored\n", prog, key, path);
        }
        json_t *docs = json_object_get(cfg, "documents");
        if (!json_is_array(docs) || json_array_size(docs) == 0) {
                fprintf(stderr, "%s run: the config file needs 'documents', a list of {\"path\": ...}\n", prog);
                return -EINVAL;
        }
        *ret_docs = docs;
        *ret_params = json_object_get(cfg, "parameters");
#define STR_SETTING(field, name)                                                      \
        if (!s->field && json_is_string(json_object_get(cfg, name)))                  \
                s->field = json_string_value(json_object_get(cfg, name));
        STR_SETTING(phases, "phases")
        STR_SETTING(execution_id, "executionId")
        STR_SETTING(log_directory, "logDirectory")
        STR_SETTING(state_directory, "stateDirectory")
        STR_SETTING(document_owner, "documentS3BucketOwner")
        STR_SETTING(log_bucket, "logS3BucketName")
        STR_SETTING(log_prefix, "logS3KeyPrefix")
        STR_SETTING(log_owner, "logS3BucketOwner")
        STR_SETTING(cw_group, "cwLogGroup")
        STR_SETTING(cw_stream, "cwLogStream")
        STR_SETTING(cw_region, "cwLogRegion")
#undef STR_SETTING
        if (!s->trace_set && json_is_true(json_object_get(cfg, "trace")))
                s->trace = true;
        if (!s->cw_ignore_set && json_is_true(json_object_get(cfg, "cwIgnoreFailures")))
                s->cw_ignore = true;
        return 0;
}

/* Loads one document wherever it lives (docsource.h), printing what goes
 * wrong; NULL on failure. */
static struct program *load_document(const char *prog_name, const char *ref, const char *owner,
                                     const struct check_options *opts)
{
        struct docsource d;
        char *err = NULL;
        if (docsource_open(ref, owner, &d, &err) < 0) {
                fprintf(stderr, "%s run: cannot fetch the document %s: %s\n", prog_name, ref, err);
                free(err);
                return NULL;
        }
        struct program *p = load_program_from(prog_name, &d, opts);
        docsource_done(&d);
        return p;
}

/* {name, value} list into an object. */
static int add_name_values(const char *prog, json_t *list, json_t *into, const char *where)
{
        size_t i;
        json_t *it;
        if (!list)
                return 0;
        if (!json_is_array(list)) {
                fprintf(stderr, "%s run: %s must be a list of {\"name\": ..., \"value\": ...}\n", prog, where);
                return -EINVAL;
        }
        json_array_foreach(list, i, it)
        {
                json_t *n = json_object_get(it, "name"), *v = json_object_get(it, "value");
                if (!json_is_string(n) || !json_is_string(v)) {
                        fprintf(stderr, "%s run: each item of %s needs a string 'name' and 'value'\n", prog, where);
                        return -EINVAL;
                }
                json_object_set(into, json_string_value(n), v);
        }
        return 0;
}

int cmd_run(const struct invocation *inv, int argc, char **argv)
{
        struct settings s = { 0 };
        struct check_options copts = { .platforms = check_host_platform() };
        const char *config = NULL, *endpoint_url = NULL, *bad, *stray[1];
        const char *param_v[MAX_REPEATS], *platform_v[MAX_REPEATS];
        struct option_list params = { param_v, 0, MAX_REPEATS }, platforms = { platform_v, 0, MAX_REPEATS };
        const char *reboot_mode_arg = NULL;
        bool discard_state = false, version = false, resume = false, no_journal = false;
        const char *signal_config = NULL;
        json_t *signals = NULL;
        _cleanup_free_ char *signal_outbox = NULL;
        bool quiet = false, verbose = false;
        const char *report_path = NULL;
        enum reboot_mode reboot_mode = REBOOT_MODE_AUTO;
        size_t n_stray = 0;
        int r, status = EXIT_USAGE;
        json_t *cfg = NULL, *cli_params = json_object();
        struct run_doc *docs = NULL;
        size_t n_docs = 0;
        char **phase_list = NULL;
        char *state_dir = NULL, *phases_copy = NULL, *doc_owner = NULL, *log_owner = NULL, *blocked_copy = NULL;
        char **blocked_list = NULL;
        char uuid[37];
        const struct option_def defs[] = {
                OPTION_STR("documents", 'd', &s.documents, .arg = "A,B", .help = "documents to run, in order",
                           .value = OPTION_VALUE_FILE, .awstoe = true),
                OPTION_STR("config", 'c', &config, .arg = "FILE", .help = "AWSTOE's JSON input configuration",
                           .value = OPTION_VALUE_FILE, .awstoe = true),
                OPTION_EACH("parameters", 0, &params, .arg = "N=V,...",
                            .help = "parameter values (escape ',' and '\\' in values with '\\')", .awstoe = true),
                OPTION_STR("phases", 'p', &s.phases, .arg = "P,Q", .help = "phases to run (others are skipped)",
                           .value = OPTION_VALUE_LIST_OF, .choices = "build validate test", .awstoe = true),
                OPTION_STR("execution-id", 'i', &s.execution_id, .arg = "ID",
                           .help = "id of this run (default: a new UUID)", .awstoe = true),
                OPTION_STR("log-directory", 'l', &s.log_directory, .arg = "DIR",
                           .help = "where the TOE_* log folder goes (default: .)", .value = OPTION_VALUE_DIR,
                           .awstoe = true),
                OPTION_STR("state-directory", 's', &s.state_directory, .arg = "DIR",
                           .help = "where the run's checkpoint goes (it resumes from it)", .value = OPTION_VALUE_DIR,
                           .awstoe = true),
                OPTION_BOOL("discard-state", 0, &discard_state, .help = "remove a saved state and start over"),
                OPTION_STR("reboot-mode", 0, &reboot_mode_arg, .arg = "MODE",
                           .help = "how a reboot happens: ssm, self or exit (default: chosen;\n"
                                   "see REBOOTS in opentoe(1))",
                           .value = OPTION_VALUE_ONE_OF, .choices = "ssm self exit"),
                OPTION_BOOL("resume", 0, &resume,
                            .help = "resume the executions waiting for this boot (what\n"
                                    "opentoe-resume.service and the crontab entry run)"),
                OPTION_STR("document-s3-bucket-owner", 0, &s.document_owner, .arg = "ID",
                           .help = "account that must own the buckets of s3:// documents", .awstoe = true),
                OPTION_STR("log-s3-bucket-name", 'b', &s.log_bucket, .arg = "B",
                           .help = "upload the log folder to this S3 bucket when the run ends", .awstoe = true),
                OPTION_STR("log-s3-key-prefix", 'k', &s.log_prefix, .arg = "P",
                           .help = "... under this key prefix (s3://B/P/TOE_...)", .awstoe = true),
                OPTION_STR("log-s3-bucket-owner", 0, &s.log_owner, .arg = "ID",
                           .help = "account that must own the log bucket", .awstoe = true),
                OPTION_STR("cw-log-group", 0, &s.cw_group, .arg = "G",
                           .help = "stream console.log to this CloudWatch Logs group ...", .awstoe = true),
                OPTION_STR("cw-log-stream", 0, &s.cw_stream, .arg = "S",
                           .help = "... and stream (default: the execution id)", .awstoe = true),
                OPTION_STR("cw-log-region", 0, &s.cw_region, .arg = "R",
                           .help = "... in this region (default: the usual chain)", .awstoe = true),
                OPTION_BOOL_GIVEN("cw-ignore-failures", 0, &s.cw_ignore, &s.cw_ignore_set,
                                  .help = "undelivered CloudWatch lines do not fail the run", .awstoe = true),
                OPTION_STR("endpoint-url", 0, &endpoint_url, .arg = "URL",
                           .help = "endpoint of every AWS service (as AWS_ENDPOINT_URL;\n"
                                   "AWS_ENDPOINT_URL_<SERVICE> and\n"
                                   "AWSTOE_IMAGEBUILDER_ENDPOINT still win)"),
                OPTION_BOOL_GIVEN("trace", 't', &s.trace, &s.trace_set,
                                  .help = "print the application log and every instruction to stderr",
                                  .awstoe = true),
                OPTION_STR("blocked-action-modules", 0, &s.blocked, .arg = "A,B",
                           .help = "steps of these actions fail instead of running", .awstoe = true),
                OPTION_EACH("os-platforms", 0, &platforms, .arg = "LIST",
                            .help = "platforms the documents must run on (as validate)",
                            .value = OPTION_VALUE_LIST_OF, .choices = "linux windows darwin"),
                OPTION_BOOL("dry-run", 0, &s.dry_run, .help = "print the plan; run and change nothing"),
                OPTION_BOOL("no-journal", 0, &no_journal, .help = "do not write the console lines to the journal"),
                OPTION_STR("signal-config", 0, &signal_config, .arg = "FILE",
                           .help = "signal the orchestrator at the end (opentoe(1) SIGNALS)",
                           .value = OPTION_VALUE_FILE),
                OPTION_BOOL("quiet", 0, &quiet, .help = "on a terminal, show no step lines (the summary only)"),
                OPTION_BOOL("verbose", 0, &verbose, .help = "show every console.log line on stderr as written"),
                OPTION_STR("report", 0, &report_path, .arg = "FILE",
                           .help = "write the HTML report of the run to FILE at the end", .value = OPTION_VALUE_FILE),
                OPTION_BOOL("version", 'v', &version, .help = "show the version", .awstoe = true),
                { NULL },
        };

        r = option_parse(inv->program, "run", defs, argc, argv, stray, 1, &n_stray, usage);
        if (r > 0)
                status = 0;
        if (r != 0)
                goto out;
        if (n_stray) {
                fprintf(stderr, "%s run: unexpected argument '%s'; name documents with --documents\n", inv->program,
                        stray[0]);
                goto out;
        }
        for (size_t i = 0; i < params.n; i++) {
                if (parse_parameters(params.v[i], cli_params, &bad) < 0) {
                        fprintf(stderr, "%s run: invalid --parameters: %s\n", inv->program, bad);
                        goto out;
                }
                s.parameters = params.v[i];
        }
        for (size_t i = 0; i < platforms.n; i++)
                if (check_parse_platforms(platforms.v[i], &copts.platforms, &bad) < 0) {
                        fprintf(stderr, "%s run: unknown platform '%s'\n", inv->program, bad);
                        goto out;
                }
        if (version) {
                option_print_version(inv->program);
                status = 0;
                goto out;
        }
        if (reboot_mode_arg && reboot_mode_parse(reboot_mode_arg, &reboot_mode) < 0) {
                fprintf(stderr, "%s run: --reboot-mode must be ssm, self or exit, not '%s'\n", inv->program,
                        reboot_mode_arg);
                goto out;
        }
        if (resume) {
                if (argc != 2) {
                        fprintf(stderr, "%s run: --resume takes no other option (each execution resumes with its "
                                        "own)\n", inv->program);
                        goto out;
                }
                status = reboot_resume_pending(inv->program);
                goto out;
        }
        if (config && (s.documents || s.parameters)) {
                fprintf(stderr, "%s run: --documents and --parameters cannot be used with --config; put them in "
                                "the config file\n", inv->program);
                goto out;
        }
        if (!config && !s.documents) {
                fprintf(stderr, "%s run: give the documents with --documents or --config\n", inv->program);
                usage(stderr, inv->program, defs);
                goto out;
        }
        if (cmd_owner(inv->program, "run", "--document-s3-bucket-owner", s.document_owner, NULL) < 0)
                goto out;
        /* Before anything (an S3 config file) uses the AWS layer. */
        if (endpoint_url && cmd_endpoint_url(inv->program, "run", endpoint_url) < 0)
                goto out;
        if (signal_config) {
                char *err = NULL;
                if (outbox_config_load(signal_config, &signals, &signal_outbox, &err) < 0) {
                        fprintf(stderr, "%s run: --signal-config: %s\n", inv->program, err);
                        free(err);
                        goto out;
                }
        }
        json_t *cfg_docs = NULL, *cfg_params = NULL;
        if (config && apply_config(inv->program, config, &s, &cfg_docs, &cfg_params, &cfg) < 0)
                goto out;
        if (cmd_owner(inv->program, "run", "the document bucket owner", s.document_owner, &doc_owner) < 0 ||
            cmd_owner(inv->program, "run", "the log bucket owner", s.log_owner, &log_owner) < 0)
                goto out;
        if (s.log_bucket && *s.log_bucket) {
                char *err = NULL;
                struct s3_uri u = { 0 };
                _cleanup_free_ char *probe = xasprintf("s3://%s/", s.log_bucket);
                if (s3_uri_parse(probe, false, &u, &err) < 0 || strchr(s.log_bucket, '/')) {
                        fprintf(stderr, "%s run: --log-s3-bucket-name: '%s' is not a bucket name\n", inv->program,
                                s.log_bucket);
                        free(err);
                        s3_uri_done(&u);
                        goto out;
                }
                s3_uri_done(&u);
        } else if ((s.log_prefix && *s.log_prefix) || log_owner)
                fprintf(stderr, "%s run: warning: --log-s3-key-prefix and --log-s3-bucket-owner do nothing "
                                "without --log-s3-bucket-name\n", inv->program);
        if (!s.cw_group && (s.cw_stream || s.cw_region))
                fprintf(stderr, "%s run: warning: --cw-log-stream and --cw-log-region do nothing "
                                "without --cw-log-group\n", inv->program);
        json_t *global = json_object();
        if (add_name_values(inv->program, cfg_params, global, "'parameters'") < 0) {
                json_decref(global);
                goto out;
        }
        json_object_update(global, cli_params);

        /* The documents, each compiled (or loaded from .otc) before anything runs. */
        docs = xcalloc(MAX_DOCUMENTS, sizeof *docs);
        bool load_failed = false;
        if (cfg_docs) {
                size_t i;
                json_t *d;
                json_array_foreach(cfg_docs, i, d)
                {
                        const char *path = json_string_value(json_object_get(d, "path"));
                        if (!path || n_docs == MAX_DOCUMENTS) {
                                fprintf(stderr, "%s run: each document in the config needs a 'path' (at most %d)\n",
                                        inv->program, MAX_DOCUMENTS);
                                load_failed = true;
                                break;
                        }
                        struct run_doc *rd = &docs[n_docs++];
                        rd->path = xstrdup(path);
                        /* A document's own parameters win over the global ones. */
                        rd->params = json_deep_copy(global);
                        if (add_name_values(inv->program, json_object_get(d, "parameters"), rd->params,
                                            "a document's 'parameters'") < 0)
                                load_failed = true;
                }
        } else {
                char *list = xstrdup(s.documents);
                for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
                        if (n_docs == MAX_DOCUMENTS) {
                                fprintf(stderr, "%s run: more than %d documents; run them in several runs\n",
                                        inv->program, MAX_DOCUMENTS);
                                free(list);
                                json_decref(global);
                                status = EXIT_USAGE;
                                goto out;
                        }
                        docs[n_docs].path = xstrdup(tok);
                        docs[n_docs++].params = json_deep_copy(global);
                }
                free(list);
        }
        json_decref(global);
        status = 1;
        if (load_failed)
                goto out;
        /* Every ARN is checked before any document is fetched. */
        for (size_t i = 0; i < n_docs; i++) {
                struct ib_arn a = { 0 };
                char *err = NULL;
                if (!ib_is_arn(docs[i].path))
                        continue;
                if (ib_arn_parse(docs[i].path, &a, &err) < 0) {
                        fprintf(stderr, "%s run: the document %s: %s\n", inv->program, docs[i].path, err);
                        free(err);
                        load_failed = true;
                }
                ib_arn_done(&a);
        }
        if (load_failed)
                goto out;
        for (size_t i = 0; i < n_docs; i++) {
                docs[i].prog = load_document(inv->program, docs[i].path, doc_owner, &copts);
                load_failed |= docs[i].prog == NULL;
        }
        if (load_failed)
                goto out;

        if (s.phases) {
                phases_copy = xstrdup(s.phases);
                phase_list = xcalloc(MAX_PHASES + 1, sizeof *phase_list);
                size_t k = 0;
                for (char *tok = strtok(phases_copy, ","); tok; tok = strtok(NULL, ",")) {
                        if (k == MAX_PHASES) {
                                fprintf(stderr, "%s run: more than %d phases in --phases\n", inv->program, MAX_PHASES);
                                status = EXIT_USAGE;
                                goto out;
                        }
                        phase_list[k++] = tok;
                }
        }
        if (s.blocked) {
                blocked_copy = xstrdup(s.blocked);
                blocked_list = xcalloc(MAX_PHASES + 1, sizeof *blocked_list);
                size_t k = 0;
                for (char *tok = strtok(blocked_copy, ","); tok && k < MAX_PHASES; tok = strtok(NULL, ","))
                        blocked_list[k++] = tok;
        }
        if (!s.execution_id) {
                uuid_v4(uuid);
                s.execution_id = uuid;
        }
        /* AWSTOE documents the --cw-* flags as independent: a group alone
         * streams to a stream named after the run. */
        if (s.cw_group && !s.cw_stream)
                s.cw_stream = s.execution_id;
        state_dir = s.state_directory ? xstrdup(s.state_directory) : default_state_directory();
        struct run_options ro = {
                .program_name = inv->program,
                .log_directory = s.log_directory ? s.log_directory : ".",
                .state_directory = state_dir,
                .discard_state = discard_state,
                .execution_id = s.execution_id,
                .phases = (const char *const *)phase_list,
                .trace = s.trace,
                .dry_run = s.dry_run,
                .live = !inv->awstoe && !s.trace && isatty(STDERR_FILENO),
                .quiet = quiet,
                .verbose = verbose && !quiet,
                .report_path = report_path,
                .kill_grace_ms = 5000,
                .document_s3_owner = doc_owner,
                .log_s3_bucket = s.log_bucket && *s.log_bucket ? s.log_bucket : NULL,
                .log_s3_prefix = s.log_prefix,
                .log_s3_owner = log_owner,
                .cw_group = s.cw_stream ? s.cw_group : NULL,
                .cw_stream = s.cw_stream,
                .cw_region = s.cw_region,
                .cw_ignore_failures = s.cw_ignore,
        };
        const char *grace = getenv("OPENTOE_KILL_GRACE_MS");
        if (grace && *grace) {
                char *end;
                errno = 0;
                long long v = strtoll(grace, &end, 10);
                if (errno || *end || v < 0 || v > 3600000)
                        fprintf(stderr, "%s run: warning: ignoring OPENTOE_KILL_GRACE_MS=%s (expected 0 to 3600000)\n",
                                inv->program, grace);
                else
                        ro.kill_grace_ms = v;
        }
        ro.blocked = (const char *const *)blocked_list;
        ro.reboot_mode = (int)reboot_mode;
        ro.argv = argv;
        ro.no_journal = no_journal;
        ro.signals = signals;
        ro.signal_outbox = signal_outbox ? signal_outbox : OUTBOX_DEFAULT_DIR;
        status = runner_run(&ro, docs, n_docs);
out:
        for (size_t i = 0; docs && i < n_docs; i++) {
                free(docs[i].path);
                prog_free(docs[i].prog);
                json_decref(docs[i].params);
        }
        free_many(docs, phase_list, phases_copy, blocked_list, blocked_copy, state_dir);
        json_decref(signals);
        json_decref(cfg);
        json_decref(cli_params);
        free(doc_owner);
        free(log_owner);
        return status;
}
