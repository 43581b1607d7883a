/* cmd_completion.c: `opentoe completion bash` (and `awstoe completion
 * bash`): prints a bash completion script for every command, subcommand
 * and flag, built from the same tables that --help prints.  Each command
 * is run with a describer set (options.h), which hands over its table
 * instead of parsing; a command without a table is an error, so a new
 * command cannot be left out.  Under AWSTOE's name, AWSTOE's own flags
 * are offered the way its users type them (-documents) and opentoe's
 * extensions with two dashes; both forms parse under either name. */
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "options.h"
#include "strbuf.h"

#define MAX_DEPTH 4

struct gen {
        const struct invocation *inv;
        const char *fn;             /* the script's prefix: "_opentoe" or "_awstoe" */
        struct strbuf cmds, values; /* the bodies of FN_cmd and FN_value */
        const char *path[MAX_DEPTH];
        size_t depth;
        unsigned described;         /* tables handed over so far */
        const char *bad;            /* a name the script cannot hold */
};

/* Names and choices go into single-quoted shell words and case patterns. */
static bool safe_word(const char *s)
{
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._- ") == strlen(s);
}

static void put_path(struct gen *g, struct strbuf *b)
{
        for (size_t i = 0; i < g->depth; i++)
                sb_printf(b, "%s%s", i ? " " : "", g->path[i]);
}

static const char *value_kind(enum option_value v)
{
        switch (v) {
        case OPTION_VALUE_FILE:
                return "file";
        case OPTION_VALUE_DIR:
                return "dir";
        case OPTION_VALUE_ONE_OF:
                return "one";
        case OPTION_VALUE_LIST_OF:
                return "list";
        case OPTION_VALUE_ANY:
                break;
        }
        return "any";
}

/* The dashes a flag is offered with: AWSTOE's under its name, one. */
static const char *dashes(const struct gen *g, bool awstoe_flag)
{
        return g->inv->awstoe && awstoe_flag ? "-" : "--";
}

static void check_safe(struct gen *g, const char *s)
{
        if (s && !safe_word(s) && !g->bad)
                g->bad = s;
}

static void describe_options(void *userdata, const struct option_def *defs)
{
        struct gen *g = userdata;
        struct strbuf flags = STRBUF_INIT;
        const struct option_def *args = NULL;

        g->described++;
        for (const struct option_def *d = defs; d->name; d++) {
                check_safe(g, d->name);
                check_safe(g, d->choices);
                if (d->kind == OPTION_ARGS) {
                        args = d;
                        continue;
                }
                if (d->short_name)
                        sb_printf(&flags, "-%c ", d->short_name);
                sb_printf(&flags, "%s%s ", dashes(g, d->awstoe), d->name);
                if (d->kind == OPTION_FLAG)
                        continue;
                /* Its value, whichever way the flag is typed. */
                sb_puts(&g->values, "        ");
                if (d->short_name) {
                        sb_putc(&g->values, '\'');
                        put_path(g, &g->values);
                        sb_printf(&g->values, " -%c'|", d->short_name);
                }
                sb_putc(&g->values, '\'');
                put_path(g, &g->values);
                sb_printf(&g->values, " -%s'|'", d->name);
                put_path(g, &g->values);
                sb_printf(&g->values, " --%s') %s_kind=%s; %s_choices='%s' ;;\n", d->name, g->fn,
                          value_kind(d->value), g->fn, d->choices ? d->choices : "");
        }
        sb_printf(&flags, "-h %shelp", dashes(g, true));
        sb_puts(&g->cmds, "        '");
        put_path(g, &g->cmds);
        sb_printf(&g->cmds, "') %s_subs=''; %s_flags='%s'; %s_args=%s; %s_argchoices='%s' ;;\n", g->fn, g->fn,
                  sb_str(&flags), g->fn, args ? value_kind(args->value) : "none", g->fn,
                  args && args->choices ? args->choices : "");
        sb_free(&flags);
}

static void describe_subcommands(void *userdata, const struct subcommand *t, size_t n);

/* `path` and its subcommands `t` (the binary's own flags `defs`). */
static void walk(struct gen *g, const struct subcommand *t, size_t n, const struct option_def *defs)
{
        struct strbuf subs = STRBUF_INIT, flags = STRBUF_INIT;

        g->described++;
        for (size_t i = 0; i < n; i++) {
                check_safe(g, t[i].name);
                sb_printf(&subs, "%s%s", i ? " " : "", t[i].name);
        }
        for (const struct option_def *d = defs; d && d->name; d++) {
                if (d->short_name)
                        sb_printf(&flags, "-%c ", d->short_name);
                sb_printf(&flags, "%s%s ", dashes(g, d->awstoe), d->name);
        }
        sb_printf(&flags, "-h %shelp", dashes(g, true));
        sb_puts(&g->cmds, "        '");
        put_path(g, &g->cmds);
        sb_printf(&g->cmds, "') %s_subs='%s'; %s_flags='%s'; %s_args=none; %s_argchoices='' ;;\n", g->fn,
                  sb_str(&subs), g->fn, sb_str(&flags), g->fn, g->fn);
        sb_free(&subs);
        sb_free(&flags);
        if (g->depth == MAX_DEPTH) {
                g->bad = "(subcommands nested too deep)";
                return;
        }
        for (size_t i = 0; i < n; i++) {
                char *argv[] = { (char *)t[i].name, NULL };
                unsigned before = g->described;

                g->path[g->depth++] = t[i].name;
                t[i].run(g->inv, 1, argv);
                g->depth--;
                if (g->described == before && !g->bad)
                        g->bad = t[i].name;
        }
}

static void describe_subcommands(void *userdata, const struct subcommand *t, size_t n)
{
        walk(userdata, t, n, NULL);
}

/* The part of the script that reads the tables: the same for every program. */
static void print_driver(FILE *f, const char *fn)
{
        const char *text =
                "# FN_complete KIND CHOICES WORD PREFIX: COMPREPLY for a value of KIND (file, dir,\n"
                "# one of CHOICES, a comma-separated list of CHOICES), each reply led by PREFIX.\n"
                "FN_complete() {\n"
                "    local head=\n"
                "    case $1 in\n"
                "    file|dir|list) [[ $3 == *,* ]] && head=${3%,*}, ;;\n"
                "    esac\n"
                "    case $1 in\n"
                "    file) compopt -o filenames 2>/dev/null\n"
                "        mapfile -t COMPREPLY < <(compgen -P \"$head\" -f -- \"${3##*,}\") ;;\n"
                "    dir) compopt -o filenames 2>/dev/null\n"
                "        mapfile -t COMPREPLY < <(compgen -P \"$head\" -d -- \"${3##*,}\") ;;\n"
                "    one) mapfile -t COMPREPLY < <(compgen -W \"$2\" -- \"$3\") ;;\n"
                "    list) mapfile -t COMPREPLY < <(compgen -P \"$head\" -W \"$2\" -- \"${3##*,}\") ;;\n"
                "    *) COMPREPLY=() ;;\n"
                "    esac\n"
                "    if [[ -n $4 ]]; then COMPREPLY=(\"${COMPREPLY[@]/#/$4}\"); fi\n"
                "    return 0\n"
                "}\n"
                "\n"
                "FN() {\n"
                "    local cur=${COMP_WORDS[COMP_CWORD]-} prev= path= w flag= pre= i=1\n"
                "    local FN_subs FN_flags FN_args FN_argchoices FN_kind FN_choices\n"
                "    COMPREPLY=()\n"
                "    FN_cmd ''\n"
                "    # The words before the cursor: subcommands make the path; flags'\n"
                "    # values (--flag VALUE, --flag=VALUE split at '=') are skipped.\n"
                "    while (( i < COMP_CWORD )); do\n"
                "        w=${COMP_WORDS[i]}\n"
                "        if [[ $w == -* ]]; then\n"
                "            if [[ ${COMP_WORDS[i+1]-} == = ]]; then i=$((i + 3)); continue; fi\n"
                "            if [[ $w != *=* ]] && FN_value \"$path\" \"$w\"; then i=$((i + 2)); continue; fi\n"
                "        elif [[ -n $FN_subs && \" $FN_subs \" == *\" $w \"* ]]; then\n"
                "            path=${path:+$path }$w\n"
                "            FN_cmd \"$path\" || return 0\n"
                "        fi\n"
                "        i=$((i + 1))\n"
                "    done\n"
                "    (( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD-1]}\n"
                "    if [[ $cur == = && $prev == -* ]]; then flag=$prev; cur=\n"
                "    elif [[ $prev == = ]] && (( COMP_CWORD >= 2 )); then flag=${COMP_WORDS[COMP_CWORD-2]}\n"
                "    elif [[ $cur == -*=* ]]; then flag=${cur%%=*}; pre=$flag=; cur=${cur#*=}\n"
                "    elif [[ $prev == -* && $prev != *=* ]]; then flag=$prev\n"
                "    fi\n"
                "    if [[ -n $flag ]] && FN_value \"$path\" \"$flag\"; then\n"
                "        FN_complete \"$FN_kind\" \"$FN_choices\" \"$cur\" \"$pre\"\n"
                "    elif [[ $cur == -* ]]; then\n"
                "        mapfile -t COMPREPLY < <(compgen -W \"$FN_flags\" -- \"$cur\")\n"
                "    elif [[ -n $FN_subs ]]; then\n"
                "        mapfile -t COMPREPLY < <(compgen -W \"$FN_subs\" -- \"$cur\")\n"
                "    else\n"
                "        FN_complete \"$FN_args\" \"$FN_argchoices\" \"$cur\" ''\n"
                "    fi\n"
                "    return 0\n"
                "}\n";
        size_t fn_len = strlen(fn);

        for (const char *p = text; *p;) {
                if (!strncmp(p, "FN", 2)) {
                        fwrite(fn, 1, fn_len, f);
                        p += 2;
                } else
                        fputc(*p++, f);
        }
}

static void usage(FILE *f, const char *prog, const struct option_def *defs)
{
        fprintf(f,
                "Usage: %s completion bash\n"
                "Print a bash completion script for %s: every command, subcommand and flag, and\n"
                "the files, folders and fixed values they take.  The package installs it in\n"
                "bash-completion's folder; to try it: source <(%s completion bash)\n"
                "\n",
                prog, prog, prog);
        option_help(f, defs);
}

int cmd_completion(const struct invocation *inv, int argc, char **argv)
{
        const struct option_def defs[] = {
                OPTION_POSITIONAL("SHELL", OPTION_VALUE_ONE_OF, .choices = "bash"),
                { NULL },
        };
        const char *shell = NULL;
        size_t n = 0;
        int status;
        if (option_parse_done(inv->program, "completion", defs, argc, argv, &shell, 1, &n, usage, &status))
                return status;
        if (n != 1 || strcmp(shell, "bash")) {
                fprintf(stderr, "%s completion: %s; the one shell known is bash\n", inv->program,
                        n ? "unknown shell" : "which shell?");
                return EXIT_USAGE;
        }

        _cleanup_free_ char *fn = xasprintf("_%s", inv->program);
        struct gen g = { .inv = inv, .fn = fn, .cmds = STRBUF_INIT, .values = STRBUF_INIT };
        struct option_describer d = { describe_options, describe_subcommands, &g };

        check_safe(&g, inv->program);
        option_describe_with(&d);
        walk(&g, inv->commands, inv->n_commands, inv->options);
        option_describe_with(NULL);
        if (g.bad) {
                fprintf(stderr, "%s completion: cannot describe '%s'\n", inv->program, g.bad);
                sb_free(&g.cmds);
                sb_free(&g.values);
                return 1;
        }
        printf("# %s: bash completion for every command and flag of %s, printed by\n"
               "# '%s completion bash' from the tables each command's --help prints.\n"
               "# Generated: regenerate it rather than edit it.\n"
               "\n"
               "# %s_cmd PATH: the subcommands, flags and positional arguments of the\n"
               "# command PATH (\"\" for the binary, \"run\", \"debug sigv4\", ...).\n"
               "%s_cmd() {\n"
               "    case $1 in\n"
               "%s"
               "        *) return 1 ;;\n"
               "    esac\n"
               "}\n"
               "\n"
               "# %s_value PATH FLAG: what FLAG takes (%s_kind and %s_choices); false for a\n"
               "# flag that takes no value.\n"
               "%s_value() {\n"
               "    case \"$1 $2\" in\n"
               "%s"
               "        *) return 1 ;;\n"
               "    esac\n"
               "}\n"
               "\n",
               inv->program, inv->program, inv->program, fn, fn, sb_str(&g.cmds), fn, fn, fn, fn,
               sb_str(&g.values));
        print_driver(stdout, fn);
        printf("\ncomplete -F %s %s\n", fn, inv->program);
        sb_free(&g.cmds);
        sb_free(&g.values);
        return fflush(stdout) == 0 ? 0 : 1;
}
