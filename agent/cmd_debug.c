/* cmd_debug.c: owns `opentoe debug ...`, tools for checking opentoe's
 * pieces from outside: the dispatch to each subcommand (debug_*.c). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "debug.h"

static void debug_usage(FILE *f, const char *prog)
{
        fprintf(f,
                "Usage: %s debug SUBCOMMAND [OPTIONS]\n"
                "\n"
                "Subcommands:\n"
                "  sigv4        sign a raw HTTP request and print each SigV4 stage\n"
                "  credentials  show where the AWS credentials come from (never the secret)\n"
                "  aws-request  send one signed AWS JSON 1.1 request, with retries\n"
                "  state        print the state a run saved (to see what a resume would do)\n"
                "\n"
                "Run '%s debug SUBCOMMAND --help' for its options.\n",
                prog, prog);
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
        if (!strcmp(sub, "sigv4"))
                return cmd_debug_sigv4(inv, argc - 1, argv + 1);
        if (!strcmp(sub, "credentials"))
                return cmd_debug_credentials(inv, argc - 1, argv + 1);
        if (!strcmp(sub, "aws-request"))
                return cmd_debug_aws_request(inv, argc - 1, argv + 1);
        if (!strcmp(sub, "state"))
                return cmd_debug_state(inv, argc - 1, argv + 1);
        if (!strcmp(sub, "cwlogs-ship"))
                return cmd_debug_cwlogs_ship(inv, argc - 1, argv + 1);
        fprintf(stderr, "%s debug: unknown subcommand '%s'\n\n", inv->program, sub);
        debug_usage(stderr, inv->program);
        return EXIT_USAGE;
}

