/* options.h: command-line flags in both conventions opentoe accepts:
 * GNU style (`--documents a.yml`, `--documents=a.yml`, `-d a.yml`) and the
 * Go flag package's style that AWSTOE users type (`-documents a.yml`,
 * `-documents=a.yml`).  Options and positional arguments may mix. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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

/* A flag that option_parse() stores where it points. */
enum option_kind {
        OPTION_STRING,      /* const char **: the value (the last one given) */
        OPTION_FLAG,        /* bool *: true, or `--flag=BOOL` */
        OPTION_LONG,        /* long *: a whole number in [min, max] */
        OPTION_LIST,        /* struct option_list *: every value, in order */
};
struct option_list {
        const char **v;
        size_t n, max;
};
struct option_def {
        const char *name;   /* long name without dashes; NULL ends the table */
        char short_name;    /* 0 if none */
        enum option_kind kind;
        void *dest;
        long min, max;      /* OPTION_LONG */
        bool *given;        /* when not NULL, set when the flag is given */
};
#define OPTION_STR(name, short_name, dest) { name, short_name, OPTION_STRING, dest, 0, 0, NULL }
#define OPTION_BOOL(name, short_name, dest) { name, short_name, OPTION_FLAG, dest, 0, 0, NULL }
#define OPTION_BOOL_GIVEN(name, short_name, dest, given) { name, short_name, OPTION_FLAG, dest, 0, 0, given }
#define OPTION_NUM(name, dest, min, max) { name, 0, OPTION_LONG, dest, min, max, NULL }
#define OPTION_EACH(name, short_name, dest) { name, short_name, OPTION_LIST, dest, 0, 0, NULL }

/* Parses argv[1...] against `defs` (option_next's conventions), storing
 * each value where its definition points, and up to `max_args`
 * positional arguments into `args` (*ret_n_args of them).  -h and --help
 * are the command's own: `usage` prints its help.  0; 1 when the help
 * was printed on standard output (the command is done); or -1 after
 * printing why on standard error, as "PROG CMD: unknown option '--x'"
 * (with "Try 'PROG CMD --help'."), "PROG CMD: bad number 'x'", "PROG CMD:
 * unexpected argument 'x'", "PROG CMD: --x is given too many times". */
int option_parse(const char *prog, const char *cmd, const struct option_def *defs, int argc, char **argv,
                 const char **args, size_t max_args, size_t *ret_n_args, void (*usage)(FILE *f, const char *prog));

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
/* A subcommand's `--version[=BOOL]` (its argument `arg`): true when the
 * command is done, with *ret_status 0 once the version is printed, or 2
 * (a usage error, worded as option_bool_flag() does) for a value that is
 * not a boolean; false for --version=false, which asks nothing. */
bool option_version(const char *prog, const char *cmd, const char *arg, int *ret_status);

/* A table of subcommands (the binary's, `debug`'s): one list that both
 * the help and the dispatch read. */
struct invocation;
struct subcommand {
        const char *name;
        int (*run)(const struct invocation *inv, int argc, char **argv);
        const char *summary;
};
/* The entry named `name`, or NULL. */
const struct subcommand *subcommand_find(const struct subcommand *t, size_t n, const char *name);
/* "  NAME  SUMMARY" for each, names padded to `width`. */
void subcommand_list(FILE *f, const struct subcommand *t, size_t n, int width);
/* True for the ways of asking for help in place of a subcommand: --help,
 * -help, -h, help. */
bool option_is_help(const char *arg);
