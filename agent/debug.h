/* debug.h: the subcommands of `opentoe debug`, one file each, and their
 * dispatch in cmd_debug.c. */
#pragma once

#include <stdbool.h>

struct invocation;

int cmd_debug_sigv4(const struct invocation *inv, int argc, char **argv);
int cmd_debug_credentials(const struct invocation *inv, int argc, char **argv);
int cmd_debug_aws_request(const struct invocation *inv, int argc, char **argv);
int cmd_debug_cwlogs_ship(const struct invocation *inv, int argc, char **argv);
int cmd_debug_state(const struct invocation *inv, int argc, char **argv);
