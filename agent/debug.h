/* debug.h: the subcommands of `opentoe debug` (one file each) and the
 * small helpers they share. */
#pragma once

#include <stdbool.h>

struct invocation;

int cmd_debug_sigv4(const struct invocation *inv, int argc, char **argv);
int cmd_debug_credentials(const struct invocation *inv, int argc, char **argv);
int cmd_debug_aws_request(const struct invocation *inv, int argc, char **argv);
int cmd_debug_cwlogs_ship(const struct invocation *inv, int argc, char **argv);
int cmd_debug_state(const struct invocation *inv, int argc, char **argv);

/* A whole number in [min, max]. */
bool debug_parse_count(const char *s, long min, long max, long *ret);
/* Sleeps ms milliseconds, through signals. */
void debug_pause_ms(long ms);
