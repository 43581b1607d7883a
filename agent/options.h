/* options.h: command-line flags in both conventions opentoe accepts:
 * GNU style (`--documents a.yml`, `--documents=a.yml`, `-d a.yml`) and the
 * Go flag package's style that AWSTOE users type (`-documents a.yml`,
 * `-documents=a.yml`).  Options and positional arguments may mix. */
#pragma once

#include <stdbool.h>

struct option_spec {
        const char *name;   /* long name without dashes */
        char short_name;    /* 0 if none */
        bool has_arg;
        int id;
};

struct option_parser {
        int argc;
        char **argv;
        int i;
        bool only_positional;
        const struct option_spec *specs;
        const char *error;  /* set when option_next returns -1 */
        char errbuf[160];
};

/* Returns the next option's id (and its argument in *ret_arg, or NULL),
 * 0 for a positional argument (in *ret_arg), -1 on an error (message in
 * p->error), or -2 at the end. */
int option_next(struct option_parser *p, const char **ret_arg);

/* Parses "true"/"false"/"1"/"0" for `--flag=value` booleans. */
bool option_bool(const char *arg, bool *ret);
/* The same for flag `flag` of command `cmd`; on a bad value prints
 * "PROG CMD: FLAG takes true or false" and returns false. */
bool option_bool_flag(const char *prog, const char *cmd, const char *flag, const char *arg, bool *ret);
/* A whole number in [min, max] for an option's argument. */
bool option_long(const char *arg, long min, long max, long *ret);
/* Prints "PROG VERSION" on standard output: the answer to `--version`,
 * for the binary and for each subcommand that accepts it. */
void option_print_version(const char *prog);
