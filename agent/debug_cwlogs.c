/* debug_cwlogs.c: `opentoe debug cwlogs-ship`, which appends lines to a
 * CloudWatch Logs spool and ships them (aws/cwlogs.h), so the spool and
 * PutLogEvents can be tested against a local endpoint. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "commands.h"
#include "cwlogs.h"
#include "http.h"
#include "debug.h"
#include "options.h"
#include "strbuf.h"

/* ---- debug cwlogs-ship (aws/cwlogs.h) ---------------------------------- */

static void cwlogs_ship_usage(FILE *f, const char *prog, const struct option_def *defs)
{
        fprintf(f,
                "Usage: %s debug cwlogs-ship --group G --stream S --spool DIR [--region R]\n"
                "           [--lines N [--line-bytes B] [--prefix P] | --timestamps] [--pump-every N]\n"
                "           [--pump-ms MS] [--deadline-ms MS] [--discard-other] [--verbose]\n"
                "\n"
                "Ship lines to CloudWatch Logs the way 'run --cw-log-group' does: every line is\n"
                "appended to the spool in DIR, shipped with PutLogEvents as batches fill up, and\n"
                "the rest flushed at the end.  An existing spool in DIR is resumed first.\n"
                "The lines are standard input's, or with --lines N generated ones, \"P<i>\"\n"
                "(i from 1) padded with '.' to B bytes.  At the end the counts go to standard\n"
                "output as one line of key=value pairs (appended, delivered, resumed, resent,\n"
                "pending, rejected, lost, discarded, clamped, split, requests, failures,\n"
                "total_delivered, total_resent) and the summary to standard error.\n"
                "\n"
                "Options:\n",
                prog);
        option_help(f, defs);
        fprintf(f, "\nExit status: 0 everything delivered, 1 something was not, 2 usage error.\n");
}

static void cwlogs_notice_stderr(void *userdata, const char *msg)
{
        fprintf(stderr, "%s debug cwlogs-ship: %s\n", (const char *)userdata, msg);
}

int cmd_debug_cwlogs_ship(const struct invocation *inv, int argc, char **argv)
{
        const char *group = NULL, *stream = NULL, *region = NULL, *spool = NULL, *prefix = "line ";
        long lines = -1, line_bytes = 0, pump_every = 1000, pump_ms = 5000, deadline = 60000;
        bool timestamps = false, verbose = false, discard_other = false;
        const struct option_def defs[] = {
                OPTION_STR("group", 0, &group, .arg = "G", .help = "log group"),
                OPTION_STR("stream", 0, &stream, .arg = "S", .help = "log stream"),
                OPTION_STR("spool", 0, &spool, .arg = "DIR", .help = "spool folder (created when missing)",
                           .value = OPTION_VALUE_DIR),
                OPTION_STR("region", 0, &region, .arg = "R", .help = "region (default: resolved like the SDKs do)"),
                OPTION_NUM("lines", &lines, 0, 1000000000L,
                           .help = "generate N lines instead of reading standard input (0: none,\n"
                                   "only resume the spool)"),
                OPTION_NUM("line-bytes", &line_bytes, 0, 16777216L, .arg = "B",
                           .help = "pad generated lines to B bytes"),
                OPTION_STR("prefix", 0, &prefix, .arg = "P",
                           .help = "generated lines start with P (default \"line \")"),
                OPTION_BOOL("timestamps", 0, &timestamps,
                            .help = "each input line is TIMESTAMP<TAB>TEXT, TIMESTAMP in ms since\n"
                                    "the epoch, or +MS/-MS from now"),
                OPTION_NUM("pump-every", &pump_every, 0, 86400000L,
                           .help = "ship what is due after every N lines (default 1000; 0: only\n"
                                   "at the end)"),
                OPTION_NUM("pump-ms", &pump_ms, 0, 86400000L, .arg = "MS",
                           .help = "time each of those may take (default 5000)"),
                OPTION_NUM("deadline-ms", &deadline, 0, 86400000L, .arg = "MS",
                           .help = "time the final flush may take (default 60000)"),
                OPTION_BOOL("discard-other", 0, &discard_other,
                            .help = "drop a spool left for another group or stream"),
                OPTION_BOOL("verbose", 'v', &verbose, .help = "print retries and failures on standard error"),
                { NULL },
        };
        unsigned flags;
        int r;

        r = option_parse(inv->program, "debug cwlogs-ship", defs, argc, argv, NULL, 0, NULL, cwlogs_ship_usage);
        if (r != 0)
                return r < 0 ? EXIT_USAGE : 0;
        flags = discard_other ? CWLOGS_DISCARD_OTHER : 0;
        const char *missing = !group ? "--group" : !stream ? "--stream" : !spool ? "--spool" : NULL;
        if (missing) {
                fprintf(stderr, "%s debug cwlogs-ship: %s is required (see --help)\n", inv->program, missing);
                return EXIT_USAGE;
        }
        if (timestamps && lines >= 0) {
                fprintf(stderr, "%s debug cwlogs-ship: --timestamps reads standard input; not with --lines\n",
                        inv->program);
                return EXIT_USAGE;
        }

        struct cwlogs *cw = NULL;
        char *err = NULL;
        r = cwlogs_open(group, stream, region, spool, flags, &cw, &err);
        if (r < 0) {
                fprintf(stderr, "%s debug cwlogs-ship: %s\n", inv->program, err ? err : strerror(-r));
                free(err);
                return 1;
        }
        if (verbose)
                cwlogs_set_notice(cw, cwlogs_notice_stderr, (void *)inv->program);

        struct strbuf b = STRBUF_INIT;
        char *line = NULL;
        size_t cap = 0;
        long n = 0;
        int rc = 0;
        for (;;) {
                int64_t ts = -1;
                const char *text;
                size_t len;

                if (lines >= 0) {
                        if (n >= lines)
                                break;
                        b.len = 0;
                        sb_printf(&b, "%s%ld", prefix, n + 1);
                        while ((long)b.len < line_bytes)
                                sb_putc(&b, b.len % 10 == 0 ? ' ' : '.');
                        text = b.s;
                        len = b.len;
                } else {
                        ssize_t k = getline(&line, &cap, stdin);
                        if (k < 0)
                                break;
                        text = line;
                        len = (size_t)k;
                        if (timestamps) {
                                char *tab = memchr(line, '\t', len), *end;
                                long long v;

                                errno = 0;
                                v = tab ? strtoll(line, &end, 10) : 0;
                                if (!tab || errno || end != tab) {
                                        fprintf(stderr, "%s debug cwlogs-ship: line %ld: no TIMESTAMP<TAB>\n",
                                                inv->program, n + 1);
                                        rc = EXIT_USAGE;
                                        break;
                                }
                                if (line[0] == '+' || line[0] == '-') {
                                        struct timespec now;
                                        clock_gettime(CLOCK_REALTIME, &now);
                                        v += (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
                                }
                                ts = v;
                                text = tab + 1;
                                len -= (size_t)(text - line);
                        }
                }
                r = cwlogs_append(cw, ts, text, len);
                if (r < 0)
                        fprintf(stderr, "%s debug cwlogs-ship: %s\n", inv->program, cwlogs_last_error(cw));
                n++;
                if (pump_every > 0 && n % pump_every == 0)
                        (void)cwlogs_pump(cw, aws_now_ms() + pump_ms);
        }
        free(line);
        sb_free(&b);

        struct cwlogs_report rep;
        r = cwlogs_close(cw, aws_now_ms() + deadline, &rep);
        printf("appended=%" PRIu64 " delivered=%" PRIu64 " resumed=%" PRIu64 " resent=%" PRIu64 " pending=%" PRIu64
               " rejected=%" PRIu64 " lost=%" PRIu64 " discarded=%" PRIu64 " clamped=%" PRIu64 " split=%" PRIu64
               " requests=%" PRIu64 " failures=%" PRIu64 " total_delivered=%" PRIu64 " total_resent=%" PRIu64 "\n",
               rep.appended, rep.delivered, rep.resumed, rep.resent, rep.pending, rep.rejected, rep.lost,
               rep.discarded, rep.clamped, rep.split, rep.requests, rep.failures, rep.total_delivered,
               rep.total_resent);
        fflush(stdout);
        _cleanup_free_ char *summary = cwlogs_report_summary(&rep);
        fprintf(stderr, "%s debug cwlogs-ship: %s\n", inv->program, summary);
        cwlogs_report_done(&rep);
        if (rc)
                return rc;
        return r < 0 ? 1 : 0;
}
