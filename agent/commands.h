/* commands.h: the subcommands of the opentoe binary.  Each returns the
 * process exit status. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* How the binary was invoked: as `opentoe`, or under AWSTOE's name. */
struct subcommand;
struct option_def;
struct invocation {
        const char *program;  /* "opentoe" or "awstoe" */
        bool awstoe;
        /* The binary's commands and its own flags (for `completion`). */
        const struct subcommand *commands;
        size_t n_commands;
        const struct option_def *options;
};

#define EXIT_USAGE 2

/* cmd_<name>() for every line of commands.list. */
#define COMMAND(name, help) int cmd_##name(const struct invocation *inv, int argc, char **argv);
#include "commands.list"
#undef COMMAND

struct check_options;
struct program;
/* Loads a document or .otc and prints its diagnostics; NULL on failure. */
struct program *load_program_or_report(const char *prog_name, const char *path, const struct check_options *opts);
/* The same for a document from docsource_open(): diagnostics and the
 * program name its reference (the URI or ARN of a fetched document). */
struct docsource;
struct program *load_program_from(const char *prog_name, const struct docsource *d, const struct check_options *opts);
