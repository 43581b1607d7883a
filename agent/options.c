/* options.c: the small flag parser shared by every subcommand, its
 * table-driven form (option_parse: each flag stored where its definition
 * points), the flags' part of --help printed from the same table, the
 * describer that hands the tables to `opentoe completion`, and the
 * tables of subcommands. */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "commands.h"
#include "config.h"
#include "strbuf.h"

bool option_bool(const char *arg, bool *ret)
{
        if (!arg || !strcasecmp(arg, "true") || !strcmp(arg, "1")) {
                *ret = true;
                return true;
        }
        if (!strcasecmp(arg, "false") || !strcmp(arg, "0")) {
                *ret = false;
                return true;
        }
        return false;
}

bool option_bool_flag(const char *prog, const char *cmd, const char *flag, const char *arg, bool *ret)
{
        if (option_bool(arg, ret))
                return true;
        fprintf(stderr, "%s %s: %s takes true or false\n", prog, cmd, flag);
        return false;
}

void option_print_version(const char *prog)
{
        printf("%s %s\n", prog, PACKAGE_VERSION);
}

bool option_version(const char *prog, const char *cmd, const char *arg, int *ret_status)
{
        bool on;

        if (!option_bool_flag(prog, cmd, "--version", arg, &on)) {
                *ret_status = 2;
                return true;
        }
        if (on) {
                option_print_version(prog);
                *ret_status = 0;
        }
        return on;
}

bool option_long(const char *arg, long min, long max, long *ret)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(arg, &end, 10);
        if (errno || !*arg || *end || v < min || v > max)
                return false;
        *ret = v;
        return true;
}

static const struct option_spec *find_long(const struct option_spec *s, const char *name, size_t n)
{
        for (; s->name; s++)
                if (strlen(s->name) == n && !strncmp(s->name, name, n))
                        return s;
        return NULL;
}

static const struct option_spec *find_short(const struct option_spec *s, char c)
{
        for (; s->name; s++)
                if (s->short_name && s->short_name == c)
                        return s;
        return NULL;
}

int option_next(struct option_parser *p, const char **ret_arg)
{
        if (p->i >= p->argc)
                return -2;
        const char *a = p->argv[p->i++];
        if (p->only_positional || a[0] != '-' || a[1] == 0) {
                *ret_arg = a;
                return 0;
        }
        if (!strcmp(a, "--")) {
                p->only_positional = true;
                return option_next(p, ret_arg);
        }
        const char *name = a + (a[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        const struct option_spec *s = find_long(p->specs, name, n);
        if (!s && n == 1)
                s = find_short(p->specs, name[0]);
        if (!s) {
                size_t shown = (size_t)(name - a) + n;
                snprintf(p->errbuf, sizeof p->errbuf, "unknown option '%.*s'", (int)(shown < 100 ? shown : 100), a);
                p->error = p->errbuf;
                return -1;
        }
        if (!s->has_arg) {
                *ret_arg = eq ? eq + 1 : NULL;
                return s->id;
        }
        if (eq) {
                *ret_arg = eq + 1;
                return s->id;
        }
        if (p->i >= p->argc) {
                snprintf(p->errbuf, sizeof p->errbuf, "option '%s' needs a value", a);
                p->error = p->errbuf;
                return -1;
        }
        *ret_arg = p->argv[p->i++];
        return s->id;
}

const struct subcommand *subcommand_find(const struct subcommand *t, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(t[i].name, name))
                        return &t[i];
        return NULL;
}

void subcommand_list(FILE *f, const struct subcommand *t, size_t n)
{
        int width = 0;

        for (size_t i = 0; i < n; i++) {
                int len = (int)strlen(t[i].name);
                if (len + 1 > width)
                        width = len + 1;
        }
        for (size_t i = 0; i < n; i++)
                fprintf(f, "  %-*s %s\n", width, t[i].name, t[i].summary);
}

bool option_is_help(const char *arg)
{
        return !strcmp(arg, "--help") || !strcmp(arg, "-help") || !strcmp(arg, "-h") || !strcmp(arg, "help");
}

void subcommand_usage(const struct subcommand_table *st, FILE *f, const char *prog)
{
        if (st->usage) {
                st->usage(f, prog);
                return;
        }
        fprintf(f, "Usage: %s %s SUBCOMMAND [OPTIONS]\n\nSubcommands:\n", prog, st->command);
        subcommand_list(f, st->t, st->n);
        fprintf(f, "\nOptions:\n");
        option_help(f, (const struct option_def[]){ { NULL } });
        fprintf(f, "\nRun '%s %s SUBCOMMAND --help' for its options.%s\n", prog, st->command, st->see);
}

int subcommand_run(const struct subcommand_table *st, const struct invocation *inv, int argc, char **argv)
{
        const struct subcommand *c;

        if (st->command && option_describe_subcommands(st->t, st->n))
                return 0;
        if (argc >= 2 && option_is_help(argv[1])) {
                subcommand_usage(st, stdout, inv->program);
                return 0;
        }
        if (argc >= 2 && (c = subcommand_find(st->t, st->n, argv[1])))
                return c->run(inv, argc - 1, argv + 1);
        if (argc >= 2 && st->command)
                fprintf(stderr, "%s %s: unknown subcommand '%s'\n\n", inv->program, st->command, argv[1]);
        else if (argc >= 2)
                fprintf(stderr, "%s: unknown command '%s'\n\n", inv->program, argv[1]);
        subcommand_usage(st, stderr, inv->program);
        return EXIT_USAGE;
}

static const struct option_describer *describer;

void option_describe_with(const struct option_describer *d)
{
        describer = d;
}

bool option_describe(const struct option_def *defs)
{
        if (!describer)
                return false;
        describer->options(describer->userdata, defs);
        return true;
}

bool option_describe_subcommands(const struct subcommand *t, size_t n)
{
        if (!describer)
                return false;
        describer->subcommands(describer->userdata, t, n);
        return true;
}

struct option_spec *option_specs(const struct option_def *defs, int *ret_help_id)
{
        size_t n = 0, k = 0;

        while (defs[n].name)
                n++;
        /* The definitions, then help, then the end of the table. */
        struct option_spec *specs = xcalloc(n + 2, sizeof *specs);
        for (size_t i = 0; i < n; i++)
                if (defs[i].kind != OPTION_ARGS)
                        specs[k++] = (struct option_spec){ defs[i].name, defs[i].short_name,
                                                           defs[i].kind != OPTION_FLAG, (int)i + 1 };
        specs[k] = (struct option_spec){ "help", 'h', false, (int)n + 1 };
        *ret_help_id = (int)n + 1;
        return specs;
}

/* "-d, --documents A,B" or "    --dry-run". */
static void help_left(const struct option_def *d, struct strbuf *b)
{
        if (d->short_name)
                sb_printf(b, "-%c, --%s", d->short_name, d->name);
        else
                sb_printf(b, "    --%s", d->name);
        if (d->kind != OPTION_FLAG)
                sb_printf(b, " %s", d->arg ? d->arg : d->kind == OPTION_LONG ? "N" : "VALUE");
}

/* Flags whose left part is wider than this put their text on the next line. */
#define HELP_LEFT_MAX 28

void option_help(FILE *f, const struct option_def *defs)
{
        static const struct option_def help = { .name = "help", .short_name = 'h', .kind = OPTION_FLAG,
                                                 .help = "show this help" };
        size_t width = strlen("-h, --help");

        for (const struct option_def *d = defs; d->name; d++) {
                struct strbuf b = STRBUF_INIT;

                if (d->kind == OPTION_ARGS)
                        continue;
                help_left(d, &b);
                if (b.len <= HELP_LEFT_MAX && b.len > width)
                        width = b.len;
                sb_free(&b);
        }
        for (const struct option_def *d = defs;; d++) {
                struct strbuf b = STRBUF_INIT;
                const struct option_def *e = d->name ? d : &help;

                if (e->kind == OPTION_ARGS)
                        continue;
                help_left(e, &b);
                const char *text = e->help ? e->help : "";
                size_t line = strcspn(text, "\n");
                if (b.len > width)
                        fprintf(f, "  %s\n  %-*s  %.*s\n", sb_str(&b), (int)width, "", (int)line, text);
                else
                        fprintf(f, "  %-*s  %.*s\n", (int)width, sb_str(&b), (int)line, text);
                for (text += line; *text == '\n'; text += line) {
                        text++;
                        line = strcspn(text, "\n");
                        fprintf(f, "  %-*s  %.*s\n", (int)width, "", (int)line, text);
                }
                sb_free(&b);
                if (e == &help)
                        break;
        }
}

int option_parse(const char *prog, const char *cmd, const struct option_def *defs, int argc, char **argv,
                 const char **args, size_t max_args, size_t *ret_n_args,
                 void (*usage)(FILE *f, const char *prog, const struct option_def *defs))
{
        size_t n_args = 0;
        const char *arg;
        int id, help_id;

        if (option_describe(defs))
                return 1;
        _cleanup_free_ struct option_spec *specs = option_specs(defs, &help_id);
        struct option_parser p = { .argc = argc, .argv = argv, .i = 1, .specs = specs };
        while ((id = option_next(&p, &arg)) != -2) {
                const struct option_def *d = id > 0 && id < help_id ? &defs[id - 1] : NULL;

                if (id == help_id) {
                        usage(stdout, prog, defs);
                        return 1;
                }
                if (id == -1) {
                        fprintf(stderr, "%s %s: %s\nTry '%s %s --help'.\n", prog, cmd, p.error, prog, cmd);
                        return -1;
                }
                if (d && d->given)
                        *d->given = true;
                if (id == 0) {
                        if (n_args == max_args) {
                                fprintf(stderr, "%s %s: unexpected argument '%s'\n", prog, cmd, arg);
                                return -1;
                        }
                        args[n_args++] = arg;
                } else if (d->kind == OPTION_STRING) {
                        *(const char **)d->dest = arg;
                } else if (d->kind == OPTION_FLAG) {
                        _cleanup_free_ char *flag = xasprintf("--%s", d->name);

                        if (!option_bool_flag(prog, cmd, flag, arg, d->dest))
                                return -1;
                } else if (d->kind == OPTION_LIST) {
                        struct option_list *l = d->dest;

                        if (l->n == l->max) {
                                fprintf(stderr, "%s %s: --%s is given too many times\n", prog, cmd, d->name);
                                return -1;
                        }
                        l->v[l->n++] = arg;
                } else if (!option_long(arg, d->min, d->max, d->dest)) {
                        fprintf(stderr, "%s %s: bad number '%s'\n", prog, cmd, arg);
                        return -1;
                }
        }
        if (ret_n_args)
                *ret_n_args = n_args;
        return 0;
}

bool option_parse_done(const char *prog, const char *cmd, const struct option_def *defs, int argc, char **argv,
                       const char **args, size_t max_args, size_t *ret_n_args,
                       void (*usage)(FILE *f, const char *prog, const struct option_def *defs), int *ret_status)
{
        int r = option_parse(prog, cmd, defs, argc, argv, args, max_args, ret_n_args, usage);

        *ret_status = r > 0 ? 0 : EXIT_USAGE;
        return r != 0;
}
