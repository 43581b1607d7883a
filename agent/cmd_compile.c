/* cmd_compile.c: `opentoe compile` (document to .otc) and `opentoe disasm`
 * (document or .otc to a listing). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker.h"
#include "cleanup.h"
#include "commands.h"
#include "docsource.h"
#include "compile.h"
#include "disasm.h"
#include "options.h"
#include "strbuf.h"

#define PLATFORMS_FLAG                                                                                 \
        OPTION_STR("os-platforms", 0, NULL, .arg = "LIST",                                             \
                   .help = "platforms the document must run on (default: this host's)",                \
                   .value = OPTION_VALUE_LIST_OF, .choices = "linux windows darwin")

/* Read by parse() below; the tables are what --help and `opentoe
 * completion` show. */
static const struct option_def compile_defs[] = {
        OPTION_STR("output", 'o', NULL, .arg = "FILE", .help = "the program file (default: DOCUMENT's name, .otc)",
                   .value = OPTION_VALUE_FILE),
        PLATFORMS_FLAG,
        OPTION_POSITIONAL("DOCUMENT", OPTION_VALUE_FILE),
        { NULL },
};
static const struct option_def disasm_defs[] = {
        PLATFORMS_FLAG,
        OPTION_POSITIONAL("DOCUMENT", OPTION_VALUE_FILE),
        { NULL },
};

/* Loads one document or .otc, printing diagnostics; NULL on failure.
 * Diagnostics and the program name the reference the user gave (an s3://
 * URI or ARN for a fetched document), not the file read. */
struct program *load_program_from(const char *prog_name, const struct docsource *d, const struct check_options *opts)
{
        struct diag_list diags = { 0 };
        struct program *p = NULL;
        struct ydoc *doc = NULL;
        bool remote = d->kind != DOCSOURCE_LOCAL;
        int r = comp_load(d->path, opts, &p, &diags, &doc);
        docsource_name_diags(d, &diags, 0);
        size_t budget = 20;
        diag_sort(&diags, 0);
        diag_print_text(stderr, &diags, 0, diags.n, doc ? doc->src : NULL, doc ? doc->src_len : 0, &budget);
        if (r < 0 && diags.n == 0)
                fprintf(stderr, "%s: cannot compile %s\n", prog_name, d->ref);
        ydoc_free(doc);
        diag_list_free(&diags);
        if (r < 0)
                return prog_free(p);
        if (remote) {
                free(p->source_path);
                p->source_path = xstrdup(d->ref);
        }
        return p;
}

struct program *load_program_or_report(const char *prog_name, const char *path, const struct check_options *opts)
{
        struct docsource d = { .kind = DOCSOURCE_LOCAL, .ref = path, .path = (char *)path };
        return load_program_from(prog_name, &d, opts);
}

static int parse(const struct invocation *inv, const char *cmd, int argc, char **argv, const char **ret_path,
                 const char **ret_output, struct check_options *opts)
{
        const struct option_def *defs = ret_output ? compile_defs : disasm_defs;
        int help_id;
        if (option_describe(defs))
                return 0;
        _cleanup_free_ struct option_spec *specs = option_specs(defs, &help_id);
        struct option_parser p = { .argc = argc, .argv = argv, .i = 1, .specs = specs };
        const char *arg, *bad;
        int id;
        *ret_path = NULL;
        while ((id = option_next(&p, &arg)) != -2) {
                if (id == -1) {
                        fprintf(stderr, "%s %s: %s\n", inv->program, cmd, p.error);
                        return EXIT_USAGE;
                }
                if (id == help_id) {
                        printf(ret_output ? "Usage: %s compile DOCUMENT [-o FILE.otc] [--os-platforms LIST]\n"
                                            "Check and compile a component document to a program file.\n\n"
                                          : "Usage: %s disasm DOCUMENT|FILE.otc [--os-platforms LIST]\n"
                                            "Print the compiled program of a document, instruction by instruction.\n\n",
                               inv->program);
                        option_help(stdout, defs);
                        return 0;
                }
                if (id == 0) {
                        if (*ret_path) {
                                fprintf(stderr, "%s %s: one document at a time\n", inv->program, cmd);
                                return EXIT_USAGE;
                        }
                        *ret_path = arg;
                } else if (!strcmp(defs[id - 1].name, "output")) {
                        *ret_output = arg;
                } else if (check_parse_platforms(arg, &opts->platforms, &bad) < 0) {
                        fprintf(stderr, "%s %s: unknown platform '%s'\n", inv->program, cmd, bad);
                        return EXIT_USAGE;
                }
        }
        if (!*ret_path) {
                fprintf(stderr, "%s %s: no document given\n", inv->program, cmd);
                return EXIT_USAGE;
        }
        return -1;
}

int cmd_compile(const struct invocation *inv, int argc, char **argv)
{
        const char *path, *output = NULL;
        struct check_options opts = { .platforms = check_host_platform() };
        int r = parse(inv, "compile", argc, argv, &path, &output, &opts);
        if (r >= 0)
                return r;
        struct program *p = load_program_or_report(inv->program, path, &opts);
        if (!p)
                return 1;
        char *def = NULL;
        if (!output) {
                /* doc.yml -> doc.otc beside it */
                const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
                size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
                output = def = xasprintf("%.*s.otc", (int)stem, path);
        }
        char *err = NULL;
        r = prog_save(p, output, &err);
        if (r < 0)
                fprintf(stderr, "%s compile: %s\n", inv->program, err ? err : strerror(-r));
        free(err);
        free(def);
        prog_free(p);
        return r < 0 ? 1 : 0;
}

int cmd_disasm(const struct invocation *inv, int argc, char **argv)
{
        const char *path;
        struct check_options opts = { .platforms = check_host_platform() };
        int r = parse(inv, "disasm", argc, argv, &path, NULL, &opts);
        if (r >= 0)
                return r;
        struct program *p = load_program_or_report(inv->program, path, &opts);
        if (!p)
                return 1;
        disasm_program(stdout, p);
        prog_free(p);
        return 0;
}
