/* cmd_debug.c: owns `opentoe debug ...`, tools for checking opentoe's
 * pieces from outside: the table of subcommands (debug_*.c), which both
 * the help and the dispatch read, so that neither can miss one. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "debug.h"

struct debug_command {
        const char *name;
        int (*run)(const struct invocation *inv, int argc, char **argv);
        const char *summary;
};

static const struct debug_command debug_commands[] = {
        { "sigv4", cmd_debug_sigv4, "sign a raw HTTP request and print each SigV4 stage" },
        { "credentials", cmd_debug_credentials, "show where the AWS credentials come from (never the secret)" },
        { "aws-request", cmd_debug_aws_request, "send one signed AWS JSON 1.1 request, with retries" },
        { "state", cmd_debug_state, "print the state a run saved (to see what a resume would do)" },
        { "cwlogs-ship", cmd_debug_cwlogs_ship, "append lines to a CloudWatch Logs spool and ship them" },
};

static void debug_usage(FILE *f, const char *prog)
{
        fprintf(f, "Usage: %s debug SUBCOMMAND [OPTIONS]\n\nSubcommands:\n", prog);
        for (size_t i = 0; i < sizeof debug_commands / sizeof debug_commands[0]; i++)
                fprintf(f, "  %-12s %s\n", debug_commands[i].name, debug_commands[i].summary);
        fprintf(f, "\nRun '%s debug SUBCOMMAND --help' for its options.\n", prog);
}

int cmd_debug(const struct invocation *inv, int argc, char **argv)
{
        if (argc < 2) {
                debug_usage(stderr, inv->program);
                return EXIT_USAGE;
        }
        const char *sub = argv[1];
        if (!strcmp(sub, "--help") || !strcmp(sub, "-help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
                debug_usage(stdout, inv->program);
                return 0;
        }
        for (size_t i = 0; i < sizeof debug_commands / sizeof debug_commands[0]; i++)
                if (!strcmp(sub, debug_commands[i].name))
                        return debug_commands[i].run(inv, argc - 1, argv + 1);
        fprintf(stderr, "%s debug: unknown subcommand '%s'\n\n", inv->program, sub);
        debug_usage(stderr, inv->program);
        return EXIT_USAGE;
}
