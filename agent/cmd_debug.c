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

int cmd_debug(const struct invocation *inv, int argc, char **argv)
{
        const struct subcommand_table table = {
                .command = "debug",
                .t = debug_commands,
                .n = ELEMENTSOF(debug_commands),
                .see = "",
        };
        return subcommand_run(&table, inv, argc, argv);
}
