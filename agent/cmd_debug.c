/* cmd_debug.c: owns `opentoe debug ...`, tools for checking opentoe's
 * pieces from outside: the table of subcommands (debug_*.c), which both
 * the help and the dispatch read, so that neither can miss one. */
#include <stdio.h>

#include "cleanup.h"
#include "commands.h"
#include "debug.h"
#include "options.h"

static const struct subcommand debug_commands[] = {
        { "sigv4", cmd_debug_sigv4, "sign a raw HTTP request and print each SigV4 stage" },
        { "credentials", cmd_debug_credentials, "show where the AWS credentials come from (never the secret)" },
        { "aws-request", cmd_debug_aws_request, "send one signed AWS JSON 1.1 request, with retries" },
        { "state", cmd_debug_state, "print the state a run saved (to see what a resume would do)" },
        { "cwlogs-ship", cmd_debug_cwlogs_ship, "append lines to a CloudWatch Logs spool and ship them" },
};

static void debug_usage(FILE *f, const char *prog)
{
        fprintf(f, "Usage: %s debug SUBCOMMAND [OPTIONS]\n\nSubcommands:\n", prog);
        subcommand_list(f, debug_commands, ELEMENTSOF(debug_commands), 12);
        fprintf(f, "\nOptions:\n");
        option_help(f, (const struct option_def[]){ { NULL } });
        fprintf(f, "\nRun '%s debug SUBCOMMAND --help' for its options.\n", prog);
}

int cmd_debug(const struct invocation *inv, int argc, char **argv)
{
        const struct subcommand *c;

        if (option_describe_subcommands(debug_commands, ELEMENTSOF(debug_commands)))
                return 0;
        if (argc >= 2 && option_is_help(argv[1])) {
                debug_usage(stdout, inv->program);
                return 0;
        }
        if (argc >= 2 && (c = subcommand_find(debug_commands, ELEMENTSOF(debug_commands), argv[1])))
                return c->run(inv, argc - 1, argv + 1);
        if (argc >= 2)
                fprintf(stderr, "%s debug: unknown subcommand '%s'\n\n", inv->program, argv[1]);
        debug_usage(stderr, inv->program);
        return EXIT_USAGE;
}
