/* cmd_validate.c: `opentoe validate` and `awstoe validate`.  Loads every
 * document given, checks all of them (never stopping at the first bad
 * one), and reports in one of three forms: GNU-style text with source
 * lines and carets, JSON diagnostics, or AWSTOE's validationStatus JSON.
 * Documents given as s3:// URIs (with --document-s3-bucket-owner) or as
 * Image Builder component build version ARNs are fetched into private
 * temporary files and reported under their URIs and ARNs; --endpoint-url
 * sets the AWS endpoint as for `run`. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action_spec.h"
#include "checker.h"
#include "cleanup.h"
#include "cmd_aws.h"
#include "commands.h"
#include "docsource.h"
#include "options.h"
#include "strbuf.h"
#include "yamldoc.h"

#define MAX_SHOWN 20
#define MAX_DOCUMENTS 1000

/* The flags, in the order of `defs` (each id is its place + 1). */
enum {
        OPT_DOCUMENTS = 1,
        OPT_FORMAT,
        OPT_PLATFORMS,
        OPT_STRICT,
        OPT_STRICT_AWSTOE,
        OPT_OWNER,
        OPT_ENDPOINT_URL,
        OPT_TRACE,
        OPT_VERSION,
        OPT_FILES,
};

/* Read by hand below (the loop keeps the order flags come in); the
 * table is what --help and `opentoe completion` show. */
static const struct option_def defs[] = {
        OPTION_STR("documents", 'd', NULL, .arg = "A,B", .help = "documents to check (as well as FILE arguments)",
                   .value = OPTION_VALUE_FILE, .awstoe = true),
        OPTION_STR("format", 0, NULL, .arg = "FORMAT", .help = "text (default), json, or awstoe",
                   .value = OPTION_VALUE_ONE_OF, .choices = "text json awstoe"),
        OPTION_STR("os-platforms", 0, NULL, .arg = "LIST",
                   .help = "platforms the documents must run on:\nlinux, windows, darwin (default: this host's)",
                   .value = OPTION_VALUE_LIST_OF, .choices = "linux windows darwin", .awstoe = true),
        OPTION_BOOL("strict", 0, NULL, .help = "treat warnings as errors"),
        OPTION_BOOL("strict-awstoe", 0, NULL, .help = "reject opentoe-only extensions"),
        OPTION_STR("document-s3-bucket-owner", 0, NULL, .arg = "ID",
                   .help = "account that must own the buckets of s3:// documents", .awstoe = true),
        OPTION_STR("endpoint-url", 0, NULL, .arg = "URL",
                   .help = "endpoint of every AWS service (as AWS_ENDPOINT_URL;\n"
                           "AWS_ENDPOINT_URL_<SERVICE> and\n"
                           "AWSTOE_IMAGEBUILDER_ENDPOINT still win)"),
        OPTION_BOOL("trace", 't', NULL, .help = "accepted for AWSTOE compatibility", .awstoe = true),
        OPTION_BOOL("version", 'v', NULL, .help = "show the version", .awstoe = true),
        OPTION_POSITIONAL("FILE", OPTION_VALUE_FILE),
        { NULL },
};

enum format { FORMAT_TEXT, FORMAT_JSON, FORMAT_AWSTOE };

struct doc_result {
        const char *path;
        struct ydoc *doc;      /* NULL if it could not be read */
        size_t first, end;     /* its diagnostics in the shared list */
        size_t errors, warnings;
};

static void usage(FILE *f, const char *prog)
{
        fprintf(f,
                "Usage: %s validate [OPTIONS] [FILE...]\n"
                "Check component documents without running them (local paths, s3:// URIs or\n"
                "Image Builder component build version ARNs).\n"
                "\n",
                prog);
        option_help(f, defs);
        fprintf(f, "\nExit status: 0 all valid, 1 some document invalid, 2 usage error.\n");
}

static void split_into(char *list, const char **docs, size_t *n)
{
        for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ","))
                if (*tok && *n < MAX_DOCUMENTS)
                        docs[(*n)++] = tok;
}

static void print_text(struct doc_result *r, size_t n, struct diag_list *diags)
{
        if (diags->n > MAX_SHOWN)
                printf("(%zu more diagnostics not shown; use --format json to see all)\n", diags->n - MAX_SHOWN);
        for (size_t i = 0; i < n; i++) {
                if (r[i].errors)
                        printf("%s: invalid (%zu error%s, %zu warning%s)\n", r[i].path, r[i].errors,
                               r[i].errors == 1 ? "" : "s", r[i].warnings, r[i].warnings == 1 ? "" : "s");
                else if (r[i].warnings)
                        printf("%s: valid (%zu warning%s)\n", r[i].path, r[i].warnings, r[i].warnings == 1 ? "" : "s");
                else
                        printf("%s: valid\n", r[i].path);
        }
}

static json_t *diag_json(const struct diag *d)
{
        json_t *o = json_object();
        json_object_set_new(o, "file", json_string(d->file));
        json_object_set_new(o, "line", json_integer(d->line));
        json_object_set_new(o, "column", json_integer(d->column));
        json_object_set_new(o, "severity", json_string(diag_severity_name(d->severity)));
        json_object_set_new(o, "code", json_string(d->code));
        json_object_set_new(o, "message", json_string(d->message));
        if (d->help)
                json_object_set_new(o, "help", json_string(d->help));
        return o;
}

static void dump(json_t *o)
{
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s)
                puts(s);
        free(s);
        json_decref(o);
}

static void print_json(struct doc_result *r, size_t n, struct diag_list *diags, bool valid)
{
        json_t *o = json_object(), *docs = json_array(), *list = json_array();
        json_object_set_new(o, "valid", json_boolean(valid));
        for (size_t i = 0; i < n; i++) {
                json_t *d = json_object();
                json_object_set_new(d, "file", json_string(r[i].path));
                json_object_set_new(d, "valid", json_boolean(r[i].errors == 0));
                json_object_set_new(d, "errors", json_integer((json_int_t)r[i].errors));
                json_object_set_new(d, "warnings", json_integer((json_int_t)r[i].warnings));
                json_array_append_new(docs, d);
        }
        for (size_t i = 0; i < n; i++)
                for (size_t k = r[i].first; k < r[i].end; k++)
                        json_array_append_new(list, diag_json(&diags->v[k]));
        json_object_set_new(o, "documents", docs);
        json_object_set_new(o, "diagnostics", list);
        dump(o);
}

/* AWSTOE's shape: {"validationStatus": ..., "message": ...}.  Its success
 * message prints the document list the way Go prints a []string. */
static void print_awstoe(struct doc_result *r, size_t n, struct diag_list *diags, bool valid)
{
        struct strbuf msg = STRBUF_INIT;
        if (valid) {
                sb_puts(&msg, "Document(s) [");
                for (size_t i = 0; i < n; i++)
                        sb_printf(&msg, "%s%s", i ? " " : "", r[i].path);
                sb_puts(&msg, "] is/are valid.");
        } else {
                size_t shown = 0;
                for (size_t i = 0; i < n; i++) {
                        if (!r[i].errors)
                                continue;
                        sb_printf(&msg, "%sDocument %s is invalid:", msg.len ? " " : "", r[i].path);
                        for (size_t k = r[i].first; k < r[i].end && shown < MAX_SHOWN; k++) {
                                const struct diag *d = &diags->v[k];
                                if (d->severity != DIAG_ERROR)
                                        continue;
                                shown++;
                                if (d->line)
                                        sb_printf(&msg, " line %u, column %u: %s;", d->line, d->column, d->message);
                                else
                                        sb_printf(&msg, " %s;", d->message);
                        }
                }
        }
        json_t *o = json_object();
        json_object_set_new(o, "validationStatus", json_string(valid ? "success" : "failed"));
        json_object_set_new(o, "message", json_string(sb_str(&msg)));
        dump(o);
        sb_free(&msg);
}

int cmd_validate(const struct invocation *inv, int argc, char **argv)
{
        int help_id;
        _cleanup_free_ struct option_spec *specs = option_specs(defs, &help_id);
        struct option_parser p = { .argc = argc, .argv = argv, .i = 1, .specs = specs };
        enum format format = inv->awstoe ? FORMAT_AWSTOE : FORMAT_TEXT;
        struct check_options copts = { .platforms = check_host_platform() };
        bool strict = false, documents_flag = false;
        const char **docs = calloc(MAX_DOCUMENTS, sizeof *docs);
        char *owned[64];
        size_t n_owned = 0, n = 0;
        int status = EXIT_USAGE, id;
        const char *arg, *bad, *owner_arg = NULL, *endpoint_url = NULL;
        char *owner = NULL;

        if (!docs)
                return 1;
        if (option_describe(defs)) {
                status = 0;
                goto out;
        }
        while ((id = option_next(&p, &arg)) != -2) {
                if (id == help_id) {
                        usage(stdout, inv->program);
                        status = 0;
                        goto out;
                }
                switch (id) {
                case -1:
                        fprintf(stderr, "%s validate: %s\n", inv->program, p.error);
                        fprintf(stderr, "Try '%s validate --help'.\n", inv->program);
                        goto out;
                case 0:
                        if (n < MAX_DOCUMENTS)
                                docs[n++] = arg;
                        break;
                case OPT_DOCUMENTS:
                        documents_flag = true;
                        if (n_owned < 64) {
                                owned[n_owned] = strdup(arg);
                                split_into(owned[n_owned++], docs, &n);
                        }
                        break;
                case OPT_FORMAT:
                        if (!strcmp(arg, "text"))
                                format = FORMAT_TEXT;
                        else if (!strcmp(arg, "json"))
                                format = FORMAT_JSON;
                        else if (!strcmp(arg, "awstoe"))
                                format = FORMAT_AWSTOE;
                        else {
                                fprintf(stderr, "%s validate: unknown format '%s'; expected text, json or awstoe\n",
                                        inv->program, arg);
                                goto out;
                        }
                        break;
                case OPT_PLATFORMS:
                        if (check_parse_platforms(arg, &copts.platforms, &bad) < 0) {
                                fprintf(stderr,
                                        "%s validate: unknown platform '%s' in --os-platforms; expected linux, windows "
                                        "or darwin, separated by commas\n",
                                        inv->program, bad);
                                goto out;
                        }
                        break;
                case OPT_STRICT:
                        strict = true;
                        break;
                case OPT_STRICT_AWSTOE:
                        copts.strict_awstoe = true;
                        break;
                case OPT_OWNER:
                        owner_arg = arg;
                        break;
                case OPT_ENDPOINT_URL:
                        endpoint_url = arg;
                        break;
                case OPT_TRACE:
                        break;
                case OPT_VERSION:
                        if (option_version(inv->program, "validate", arg, &status))
                                goto out;
                        break;
                }
        }
        if (cmd_owner(inv->program, "validate", "--document-s3-bucket-owner", owner_arg, &owner) < 0 ||
            (endpoint_url && cmd_endpoint_url(inv->program, "validate", endpoint_url) < 0))
                goto out;
        /* AWSTOE accepts an empty document list and reports success. */
        if (n == 0 && !(inv->awstoe && documents_flag)) {
                fprintf(stderr, "%s validate: no documents given\n", inv->program);
                usage(stderr, inv->program);
                goto out;
        }

        struct diag_list diags = { .warnings_are_errors = strict };
        size_t budget = MAX_SHOWN;
        struct doc_result *r = calloc(n ? n : 1, sizeof *r);
        bool valid = true;
        for (size_t i = 0; i < n; i++) {
                r[i].path = docs[i];
                r[i].first = diags.n;
                size_t e0 = diags.n_errors, w0 = diags.n_warnings;
                struct docsource d;
                char *err = NULL;
                if (docsource_open(docs[i], owner, &d, &err) < 0) {
                        diag_add(&diags, DIAG_ERROR, "file", docs[i], 0, 0, 1, NULL, "cannot fetch the document: %s",
                                 err);
                        free(err);
                } else {
                        if (ydoc_open_file(d.path, NULL, &r[i].doc, &diags) >= 0 || (r[i].doc && r[i].doc->root))
                                check_document(r[i].doc, &copts, &diags);
                        docsource_name_diags(&d, &diags, r[i].first);
                        docsource_done(&d);
                }
                diag_sort(&diags, r[i].first);
                r[i].end = diags.n;
                r[i].errors = diags.n_errors - e0;
                r[i].warnings = diags.n_warnings - w0;
                valid &= r[i].errors == 0;
                /* Text diagnostics quote the source (read back from the
                 * file only for a document that has some to show): print
                 * them now and free each tree as soon as it is done with. */
                bool quote = r[i].doc && r[i].end > r[i].first && budget > 0;
                if (format == FORMAT_TEXT || format == FORMAT_AWSTOE)
                        diag_print_text(format == FORMAT_TEXT ? stdout : stderr, &diags, r[i].first, r[i].end,
                                        quote ? ydoc_source(r[i].doc) : NULL, quote ? r[i].doc->src_len : 0, &budget);
                r[i].doc = ydoc_free(r[i].doc);
        }
        switch (format) {
        case FORMAT_TEXT:
                print_text(r, n, &diags);
                break;
        case FORMAT_JSON:
                print_json(r, n, &diags, valid);
                break;
        case FORMAT_AWSTOE:
                print_awstoe(r, n, &diags, valid);
                break;
        }
        status = valid ? 0 : 1;
        free(r);
        diag_list_free(&diags);
out:
        free(owner);
        for (size_t i = 0; i < n_owned; i++)
                free(owned[i]);
        free(docs);
        return status;
}
