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
        OPTION_ARGS,        /* no flag: what the positional arguments are (help and completion only) */
};
struct option_list {
        const char **v;
        size_t n, max;
};
/* What a flag's value (or a positional argument) is, for completion. */
enum option_value {
        OPTION_VALUE_ANY,   /* free text: nothing to offer */
        OPTION_VALUE_FILE,  /* a file name (a comma-separated list of them for --documents) */
        OPTION_VALUE_DIR,   /* a folder */
        OPTION_VALUE_ONE_OF,  /* one of `choices` */
        OPTION_VALUE_LIST_OF, /* a comma-separated list of `choices` */
};
/* One flag: how option_parse() stores it and how --help and `opentoe
 * completion` show it, from the same entry.  Write entries with the
 * macros below and name the rest: OPTION_STR("phases", 'p', &phases,
 * .arg = "P,Q", .help = "phases to run", .value = OPTION_VALUE_LIST_OF,
 * .choices = "build validate test", .awstoe = true). */
struct option_def {
        const char *name;   /* long name without dashes; NULL ends the table */
        char short_name;    /* 0 if none */
        enum option_kind kind;
        void *dest;
        long min, max;      /* OPTION_LONG */
        bool *given;        /* when not NULL, set when the flag is given */
        const char *arg;    /* the value's name in --help ("FILE"); NULL: VALUE (N for numbers) */
        const char *help;   /* its --help text; '\n' starts a continuation line */
        enum option_value value;
        const char *choices; /* OPTION_VALUE_ONE_OF / _LIST_OF: the words, separated by spaces */
        bool awstoe;        /* one of AWSTOE's own flags: `awstoe` completes it Go-style (-name) */
};
#define OPTION_STR(n_, s_, d_, ...) { .name = n_, .short_name = s_, .kind = OPTION_STRING, .dest = d_, __VA_ARGS__ }
#define OPTION_BOOL(n_, s_, d_, ...) { .name = n_, .short_name = s_, .kind = OPTION_FLAG, .dest = d_, __VA_ARGS__ }
#define OPTION_BOOL_GIVEN(n_, s_, d_, g_, ...) \
        { .name = n_, .short_name = s_, .kind = OPTION_FLAG, .dest = d_, .given = g_, __VA_ARGS__ }
#define OPTION_NUM(n_, d_, lo_, hi_, ...) \
        { .name = n_, .kind = OPTION_LONG, .dest = d_, .min = lo_, .max = hi_, __VA_ARGS__ }
#define OPTION_EACH(n_, s_, d_, ...) { .name = n_, .short_name = s_, .kind = OPTION_LIST, .dest = d_, __VA_ARGS__ }
/* The positional arguments: OPTION_POSITIONAL("FILE", OPTION_VALUE_FILE). */
#define OPTION_POSITIONAL(a_, v_, ...) { .name = "", .kind = OPTION_ARGS, .arg = a_, .value = v_, __VA_ARGS__ }

/* Prints the table's flags as --help shows them ("  -d, --documents A,B  help"),
 * the implicit -h, --help last. */
void option_help(FILE *f, const struct option_def *defs);

/* The parser's table for option_next() from `defs`: entry i gets id i + 1
 * (OPTION_ARGS entries are left out but keep their number), then
 * "help"/'h' with the id after the last entry.  Owned by the caller. */
struct option_spec *option_specs(const struct option_def *defs, int *ret_help_id);

/* Parses argv[1...] against `defs` (option_next's conventions), storing
 * each value where its definition points, and up to `max_args`
 * positional arguments into `args` (*ret_n_args of them).  -h and --help
 * are the command's own: `usage` prints its help (option_help() prints
 * the table's part).  0; 1 when the help was printed on standard output
 * (the command is done), or when a describer took the table (below); or
 * -1 after printing why on standard error, as "PROG CMD: unknown option
 * '--x'" (with "Try 'PROG CMD --help'."), "PROG CMD: bad number 'x'",
 * "PROG CMD: unexpected argument 'x'", "PROG CMD: --x is given too many
 * times". */
int option_parse(const char *prog, const char *cmd, const struct option_def *defs, int argc, char **argv,
                 const char **args, size_t max_args, size_t *ret_n_args,
                 void (*usage)(FILE *f, const char *prog, const struct option_def *defs));
/* option_parse() as a command's first step: true when the command ends
 * there, *ret_status its exit status (0 after the help or a describer,
 * EXIT_USAGE after the error option_parse() printed); false to go on. */
bool option_parse_done(const char *prog, const char *cmd, const struct option_def *defs, int argc, char **argv,
                       const char **args, size_t max_args, size_t *ret_n_args,
                       void (*usage)(FILE *f, const char *prog, const struct option_def *defs), int *ret_status);

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
/* "  NAME  SUMMARY" for each, the summaries in one column two spaces to
 * the right of the longest name. */
void subcommand_list(FILE *f, const struct subcommand *t, size_t n);
/* True for the ways of asking for help in place of a subcommand: --help,
 * -help, -h, help. */
bool option_is_help(const char *arg);

/* A command whose first argument names one of its subcommands: the
 * binary (`command` NULL) or `opentoe debug`, `opentoe vm`. */
struct subcommand_table {
        const char *command;    /* "debug"; NULL: the binary's own */
        const struct subcommand *t;
        size_t n;
        /* A command's usage: "Usage: PROG COMMAND SUBCOMMAND [OPTIONS]", the
         * list (subcommand_list), no options of its own, and the line
         * naming `SUBCOMMAND --help`, ending with `see` (may be "")... */
        const char *see;
        /* ...or, when set, this one (the binary's). */
        void (*usage)(FILE *f, const char *prog);
};
/* The table's usage on f. */
void subcommand_usage(const struct subcommand_table *st, FILE *f, const char *prog);
/* Runs the subcommand argv[1] names with argv[1..]; help for --help;
 * otherwise (none named, or an unknown one) the usage on standard error.
 * A describer takes a command's table instead (option_describe_subcommands).
 * Returns the exit status. */
int subcommand_run(const struct subcommand_table *st, const struct invocation *inv, int argc, char **argv);

/* Describing the commands instead of running them (`opentoe completion`):
 * while a describer is set, option_parse() and option_describe() hand it
 * the command's table and the command ends at once with status 0, as
 * after --help; a command with subcommands hands its table to
 * option_describe_subcommands() and ends the same way.  The tables are
 * the commands' locals: the describer reads them before it returns. */
struct option_describer {
        void (*options)(void *userdata, const struct option_def *defs);
        void (*subcommands)(void *userdata, const struct subcommand *t, size_t n);
        void *userdata;
};
/* Sets (or, with NULL, clears) the process's describer. */
void option_describe_with(const struct option_describer *d);
/* True when a describer took `defs` (the command must end, status 0). */
bool option_describe(const struct option_def *defs);
bool option_describe_subcommands(const struct subcommand *t, size_t n);
