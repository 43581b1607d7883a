/* cmd_report.c: `opentoe report TOE_FOLDER [--format html|text|json]
 * [-o FILE]`: its flags and their checks; the work is report_out.c's. */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "options.h"
#include "report_out.h"

static void usage(FILE *f, const char *prog, const struct option_def *defs)
{
        fprintf(f,
                "Usage: %s report TOE_FOLDER [--format html|text|json] [-o FILE]\n"
                "\n"
                "Reads a run's log folder (detailedoutput.json, console.log, chaining.json)\n"
                "and writes its report: a table of every step and iteration, slowest first,\n"
                "with the failures (text, the default on standard output), the same as JSON,\n"
                "or one self-contained HTML file with a timeline of the run (the default\n"
                "when -o names a file that does not end in .txt or .json).\n"
                "\n"
                "Options:\n",
                prog);
        option_help(f, defs);
        fprintf(f, "\nExit status: 0 written, 1 the folder cannot be read, 2 usage error.\n");
}

int cmd_report(const struct invocation *inv, int argc, char **argv)
{
        const char *format = NULL, *out = NULL, *args[1];
        size_t n = 0;
        const struct option_def defs[] = {
                OPTION_STR("format", 'f', &format, .arg = "F", .help = "html, text or json",
                           .value = OPTION_VALUE_ONE_OF, .choices = "html text json"),
                OPTION_STR("output", 'o', &out, .arg = "F",
                           .help = "write to file F (replaced whole) instead of standard output",
                           .value = OPTION_VALUE_FILE),
                OPTION_POSITIONAL("TOE_FOLDER", OPTION_VALUE_DIR),
                { 0 },
        };
        int r = option_parse(inv->program, "report", defs, argc, argv, args, 1, &n, usage);
        if (r != 0)
                return r > 0 ? 0 : EXIT_USAGE;
        if (n != 1) {
                fprintf(stderr, "%s report: which log folder? (TOE_... folder of a run)\n", inv->program);
                return EXIT_USAGE;
        }
        enum report_format fmt = out ? report_format_for(out) : REPORT_TEXT;
        if (format && report_format_parse(format, &fmt) < 0) {
                fprintf(stderr, "%s report: unknown format '%s' (html, text or json)\n", inv->program, format);
                return EXIT_USAGE;
        }
        char *err = NULL;
        if (report_write(args[0], fmt, out, &err) < 0) {
                fprintf(stderr, "%s report: %s\n", inv->program, err);
                free(err);
                return 1;
        }
        return 0;
}
