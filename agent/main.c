/* main.c: the opentoe binary's entry point.  Picks the subcommand from the
 * table of commands.list and notices when it was invoked as `awstoe`, in
 * which case it speaks AWSTOE's command line and output formats. */
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "options.h"

static const struct subcommand commands[] = {
#define COMMAND(name, help) { #name, cmd_##name, help },
#include "commands.list"
#undef COMMAND
};

/* The binary's own flags (read by hand in main(); the table is what the
 * help and the completion show). */
static const struct option_def options[] = {
        OPTION_BOOL("version", 'v', NULL, .help = "show the version", .awstoe = true),
        { NULL },
};

static void usage(FILE *f, const char *prog)
{
        fprintf(f, "Usage: %s COMMAND [OPTIONS]\n\nCommands:\n", prog);
        subcommand_list(f, commands, ELEMENTSOF(commands));
        fprintf(f, "\nOptions:\n");
        option_help(f, options);
        fprintf(f, "\nRun '%s COMMAND --help' for a command's options. See opentoe(1).\n", prog);
}

static const char *base_name(const char *p)
{
        const char *s = strrchr(p, '/');
        return s ? s + 1 : p;
}

int main(int argc, char **argv)
{
        const char *self = argc > 0 ? base_name(argv[0]) : "opentoe";
        struct invocation inv = {
                .program = "opentoe",
                .awstoe = strncmp(self, "awstoe", 6) == 0,
                .commands = commands,
                .n_commands = ELEMENTSOF(commands),
                .options = options,
        };
        const struct subcommand_table table = {
                .t = commands,
                .n = ELEMENTSOF(commands),
                .usage = usage,
        };

        if (inv.awstoe)
                inv.program = "awstoe";
        /* Go's flag package accepts one or two dashes. */
        if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-version") || !strcmp(argv[1], "-v"))) {
                option_print_version(inv.program);
                return 0;
        }
        return subcommand_run(&table, &inv, argc, argv);
}
