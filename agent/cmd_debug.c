/* cmd_debug.c: `opentoe debug ...`, tools for checking opentoe's pieces
 * from outside (not implemented yet). */
#include <stdio.h>

#include "commands.h"

int cmd_debug(const struct invocation *inv, int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "%s debug: not implemented yet\n", inv->program);
        return EXIT_USAGE;
}
