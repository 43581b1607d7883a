/* main.c: the opentoe binary's entry point.  Picks the subcommand from a
 * table and notices when it was invoked as `awstoe`, in which case it
 * speaks AWSTOE's command line and output formats. */
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "options.h"

static const struct subcommand commands[] = {
        { "run", cmd_run, "run component documents (AWSTOE's run)" },
        { "validate", cmd_validate, "check component documents without running them" },
        { "compile", cmd_compile, "compile a document to a program file (.otc)" },
        { "disasm", cmd_disasm, "print a document's compiled program" },
        { "signal", cmd_signal, "send orchestrator signals: --test, --deliver (the outbox)" },
        { "report", cmd_report, "a run's report from its log folder (text, JSON, HTML timeline)" },
        { "agent", cmd_agent, "the daemon that runs submitted jobs (opentoe-agent(8))" },
        { "submit", cmd_submit, "place a job in the agent's spool" },
        { "status", cmd_status, "the status of the agent's jobs" },
        { "debug", cmd_debug, "tools to check opentoe's pieces (debug sigv4 ...)" },
        { "completion", cmd_completion, "print the shell completion script (completion bash)" },
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
        subcommand_list(f, commands, ELEMENTSOF(commands), 11);
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
        const struct subcommand *c;

        if (inv.awstoe)
                inv.program = "awstoe";
        if (argc < 2) {
                usage(stderr, inv.program);
                return EXIT_USAGE;
        }
        const char *cmd = argv[1];
        /* Go's flag package accepts one or two dashes. */
        if (!strcmp(cmd, "--version") || !strcmp(cmd, "-version") || !strcmp(cmd, "-v")) {
                option_print_version(inv.program);
                return 0;
        }
        if (option_is_help(cmd)) {
                usage(stdout, inv.program);
                return 0;
        }
        c = subcommand_find(commands, ELEMENTSOF(commands), cmd);
        if (c)
                return c->run(&inv, argc - 1, argv + 1);
        fprintf(stderr, "%s: unknown command '%s'\n\n", inv.program, cmd);
        usage(stderr, inv.program);
        return EXIT_USAGE;
}
