/* cmd_vm.c: `opentoe vm`, components tested in a local VM
 * (opentoe-vm(1)): `vm run`'s and `vm image`'s flags, the documents
 * checked by the front end before anything boots (the usual
 * diagnostics), the parameters split as `run` splits them; the run
 * itself is vm_run.c's, the image cache vm_image.c's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action_spec.h"
#include "checker.h"
#include "cleanup.h"
#include "commands.h"
#include "options.h"
#include "program.h"
#include "strbuf.h"
#include "uuid.h"
#include "vmhost.h"

#define MAX_DOCUMENTS 64
#define MAX_PARAMS 256
#define DEFAULT_IMAGE VM_IMAGE_BUILT
#define DEFAULT_OUTPUT "./opentoe-vm-out"
#define DEFAULT_TIMEOUT 1800 /* the --timeout help says it too */

static void usage_run(FILE *f, const char *prog, const struct option_def *defs)
{
        fprintf(f,
                "Usage: %s vm run --documents A.yml[,B.yml] [OPTIONS]\n"
                "\nRuns component documents in a local VM (qemu, no network), with real reboots,\n"
                "and exits with the run's status (opentoe-vm(1)).\n\n"
                "Options:\n",
                prog);
        option_help(f, defs);
}

static void usage_image(FILE *f, const char *prog, const struct option_def *defs)
{
        fprintf(f,
                "Usage: %s vm image [--rebuild] [--image NAME] [--deb FILE.deb]\n"
                "\nBuilds the VM image when the cache has none (--rebuild: again), and says\n"
                "where it is.  The build needs network and root.\n\n"
                "Options:\n",
                prog);
        option_help(f, defs);
}

/* The documents, checked as `run` checks them (for Linux: the guest's
 * platform), every one before the first boot. */
static bool documents_ok(const char *prog, const char *const *docs, size_t n)
{
        struct check_options opts = { .platforms = PLAT_LINUX };
        bool ok = true;
        for (size_t i = 0; i < n; i++) {
                if (strstr(docs[i], "://") || !strncmp(docs[i], "arn:", 4)) {
                        fprintf(stderr, "%s vm run: %s: the VM has no network; give a local file\n", prog,
                                docs[i]);
                        ok = false;
                        continue;
                }
                struct program *p = load_program_or_report(prog, docs[i], &opts);
                if (!p)
                        ok = false;
                prog_free(p);
        }
        return ok;
}

/* --parameters "a=1,b=x\,y" as run reads it, into "a=1", "b=x,y". */
static int split_parameters(const char *prog, const char *s, char **out, size_t *n, size_t max)
{
        struct strbuf kv = STRBUF_INIT;
        bool has_eq = false;
        size_t name_len = 0;
        for (const char *p = s;; p++) {
                if (*p == '\\' && (p[1] == ',' || p[1] == '\\' || p[1] == '=')) {
                        sb_putc(&kv, p[1]);
                        if (!has_eq)
                                name_len++;
                        p++;
                        continue;
                }
                if (*p == ',' || *p == 0) {
                        if (kv.len == 0 && *p == 0 && p == s)
                                break;
                        if (!has_eq || name_len == 0 || kv.len == name_len + 1) {
                                fprintf(stderr, "%s vm run: each parameter needs a name and a value: "
                                                "--parameters name1=value1,name2=value2\n", prog);
                                sb_free(&kv);
                                return -EINVAL;
                        }
                        if (*n == max) {
                                fprintf(stderr, "%s vm run: more than %zu parameters\n", prog, max);
                                sb_free(&kv);
                                return -E2BIG;
                        }
                        out[(*n)++] = sb_take(&kv);
                        has_eq = false;
                        name_len = 0;
                        if (*p == 0)
                                break;
                        continue;
                }
                if (*p == '=' && !has_eq)
                        has_eq = true;
                else if (!has_eq)
                        name_len++;
                sb_putc(&kv, *p);
        }
        sb_free(&kv);
        return 0;
}

static int vm_cmd_run(const struct invocation *inv, int argc, char **argv)
{
        const char *doc_v[MAX_DOCUMENTS], *param_v[MAX_PARAMS];
        struct option_list docs = { doc_v, 0, MAX_DOCUMENTS }, params = { param_v, 0, MAX_PARAMS };
        const char *phases = NULL, *image = DEFAULT_IMAGE, *output = DEFAULT_OUTPUT, *extra = NULL, *repo = NULL;
        long timeout = DEFAULT_TIMEOUT;
        bool keep = false;
        const struct option_def defs[] = {
                OPTION_EACH("documents", 'd', &docs, .arg = "A,B",
                            .help = "the documents (local files; checked before the boot)", .value = OPTION_VALUE_FILE),
                OPTION_STR("phases", 'p', &phases, .arg = "P,Q", .help = "the phases to run"),
                OPTION_EACH("parameters", 0, &params, .arg = "N=V,...",
                            .help = "parameter values, as for run (may be repeated)"),
                OPTION_STR("image", 0, &image, .arg = "NAME",
                           .help = "the image (default " DEFAULT_IMAGE "; built when not cached)"),
                OPTION_NUM("timeout", &timeout, 1, 7 * 24 * 3600, .arg = "SECONDS",
                           .help = "the VM is killed past this (default 1800; exit 124)"),
                OPTION_STR("output", 'o', &output, .arg = "DIR",
                           .help = "where the TOE_* folder goes (default " DEFAULT_OUTPUT ")",
                           .value = OPTION_VALUE_DIR),
                OPTION_STR("extra", 0, &extra, .arg = "DIR", .help = "a folder the guest finds as extra/ of the job",
                           .value = OPTION_VALUE_DIR),
                OPTION_STR("repo", 0, &repo, .arg = "DIR",
                           .help = "a local apt repository the guest finds as repo/", .value = OPTION_VALUE_DIR),
                OPTION_BOOL("keep", 0, &keep, .help = "keep the work folder (disks, logs) and say where"),
                { NULL },
        };
        int status;
        if (option_parse_done(inv->program, "vm run", defs, argc, argv, NULL, 0, NULL, usage_run, &status))
                return status;
        char *list[MAX_DOCUMENTS + 1] = { 0 }, *kv[MAX_PARAMS + 1] = { 0 };
        char *copies[MAX_DOCUMENTS] = { 0 };
        size_t n_docs = 0, n_kv = 0;
        status = EXIT_USAGE;
        char uuid[37];
        for (size_t i = 0; i < docs.n; i++) {
                copies[i] = xstrdup(docs.v[i]);
                char *save = NULL;
                for (char *p = strtok_r(copies[i], ",", &save); p; p = strtok_r(NULL, ",", &save)) {
                        if (n_docs == MAX_DOCUMENTS) {
                                fprintf(stderr, "%s vm run: more than %d documents\n", inv->program, MAX_DOCUMENTS);
                                goto out;
                        }
                        list[n_docs++] = p;
                }
        }
        if (n_docs == 0) {
                fprintf(stderr, "%s vm run: no documents: --documents A.yml[,B.yml]\n", inv->program);
                goto out;
        }
        for (size_t i = 0; i < params.n; i++)
                if (split_parameters(inv->program, params.v[i], kv, &n_kv, MAX_PARAMS) < 0)
                        goto out;
        if (!vm_image_name_ok(image)) {
                fprintf(stderr, "%s vm run: '%s' is not an image name\n", inv->program, image);
                goto out;
        }
        status = 1;
        if (!documents_ok(inv->program, (const char *const *)list, n_docs))
                goto out;
        uuid_v4(uuid);
        struct vm_run_options o = {
                .program = inv->program,
                .image = image,
                .job = {
                        .documents = (const char *const *)list,
                        .n_documents = n_docs,
                        .phases = phases,
                        .parameters = (const char *const *)kv,
                        .n_parameters = n_kv,
                        .execution_id = uuid,
                        .timeout_seconds = timeout,
                        .extra_dir = extra,
                        .repo_dir = repo,
                },
                .output = output,
                .keep = keep,
                .timeout_seconds = timeout,
        };
        status = vmhost_run(&o);
out:
        for (size_t i = 0; i < docs.n; i++)
                free(copies[i]);
        for (size_t i = 0; i < n_kv; i++)
                free(kv[i]);
        return status;
}

static int vm_cmd_image(const struct invocation *inv, int argc, char **argv)
{
        const char *image = DEFAULT_IMAGE, *deb = NULL;
        bool rebuild = false;
        const struct option_def defs[] = {
                OPTION_BOOL("rebuild", 0, &rebuild, .help = "build it even when it is cached"),
                OPTION_STR("image", 0, &image, .arg = "NAME", .help = "the image (default " DEFAULT_IMAGE ")"),
                OPTION_STR("deb", 0, &deb, .arg = "FILE", .help = "the opentoe package to put inside",
                           .value = OPTION_VALUE_FILE),
                { NULL },
        };
        int status;
        if (option_parse_done(inv->program, "vm image", defs, argc, argv, NULL, 0, NULL, usage_image, &status))
                return status;
        if (!vm_image_name_ok(image)) {
                fprintf(stderr, "%s vm image: '%s' is not an image name\n", inv->program, image);
                return EXIT_USAGE;
        }
        struct vm_image img = { 0 };
        char *err = NULL;
        if (!rebuild && vm_image_load(image, &img, NULL) == 0)
                fprintf(stderr, "%s vm: the image %s is cached; --rebuild builds it again\n", inv->program, image);
        else if (vm_image_build(inv->program, image, rebuild, deb, &err) < 0 || vm_image_load(image, &img, &err) < 0) {
                fprintf(stderr, "%s vm image: %s\n", inv->program, err ? err : "the build failed");
                free(err);
                return 1;
        }
        printf("%s\n", img.dir);
        vm_image_free(&img);
        return 0;
}

static const struct subcommand vm_commands[] = {
        { "run", vm_cmd_run, "run documents in a local VM, with real reboots" },
        { "image", vm_cmd_image, "build (or rebuild) the cached VM image" },
};

int cmd_vm(const struct invocation *inv, int argc, char **argv)
{
        const struct subcommand_table table = {
                .command = "vm",
                .t = vm_commands,
                .n = ELEMENTSOF(vm_commands),
                .see = "  See opentoe-vm(1).",
        };
        return subcommand_run(&table, inv, argc, argv);
}
