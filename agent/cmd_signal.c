/* cmd_signal.c: `opentoe signal`: --test sends a test signal to every
 * target of a signal configuration and says what each answered;
 * --deliver sends what the outbox holds (outbox.c), for the signals a
 * run or the agent could not deliver yet. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cleanup.h"
#include "commands.h"
#include "options.h"
#include "outbox.h"
#include "signal_send.h"
#include "strbuf.h"
#include "tunables.h"

static void usage(FILE *f, const char *prog, const struct option_def *defs)
{
        fprintf(f,
                "Usage: %s signal --test --config FILE\n"
                "       %s signal --deliver [--outbox DIR] [--wait SECONDS]\n"
                "\n",
                prog, prog);
        option_help(f, defs);
}

/* Where a target is, for a person: never a URL's query (a presigned
 * URL's credentials) and never a key. */
static char *target_shown(const json_t *t)
{
        const char *type = json_string_value(json_object_get(t, "type"));
        const char *where = json_string_value(json_object_get(t, "url"));
        if (!where)
                where = json_string_value(json_object_get(t, "uri"));
        size_t n = where ? strcspn(where, "?") : 0;
        return xasprintf("%s %.*s", type ? type : "?", (int)n, where ? where : "");
}

static int signal_test(const char *prog, json_t *targets)
{
        if (!json_array_size(targets)) {
                fprintf(stderr, "%s signal: the configuration names no signals\n", prog);
                return 1;
        }
        char id[64];
        snprintf(id, sizeof id, "opentoe-signal-test-%lld", (long long)time(NULL));
        json_t *summary = json_pack("{s:s, s:s, s:i, s:i, s:i, s:s, s:s}", "executionId", id, "status", "success",
                                    "failedStepCount", 0, "executedStepCount", 0, "ignoredFailedStepCount", 0,
                                    "failureMessage", "", "logUrl", "");
        int failed = 0;
        size_t i;
        json_t *t;
        json_array_foreach(targets, i, t)
        {
                _cleanup_free_ char *shown = target_shown(t);
                _cleanup_free_ char *key = xasprintf("%s-%zu", id, i);
                struct signal_answer ans;
                char *err = NULL;
                int r = signal_send(t, key, id, summary, monotonic_ms() + 30000, &ans, &err);
                if (r >= 0)
                        printf("signal %zu (%s): delivered%s", i + 1, shown, ans.http_status ? "" : "\n");
                else
                        printf("signal %zu (%s): failed: %s%s", i + 1, shown, err ? err : strerror(-r),
                               ans.http_status ? "" : "\n");
                if (ans.http_status)
                        printf(" (HTTP %ld)\n", ans.http_status);
                failed += r < 0;
                free(err);
        }
        json_decref(summary);
        return failed ? 1 : 0;
}

static int signal_deliver(const char *prog, const char *outbox, long wait_s)
{
        int64_t end = monotonic_ms() + (wait_s > 0 ? wait_s * 1000 : 60000);
        for (;;) {
                int64_t next = -1;
                char *err = NULL;
                int n = outbox_deliver(outbox, end, &next, &err);
                if (n < 0) {
                        fprintf(stderr, "%s signal: %s\n", prog, err ? err : strerror(-n));
                        free(err);
                        return 1;
                }
                if (n == 0) {
                        printf("the outbox is empty: every signal was delivered (or given up: *.failed)\n");
                        return 0;
                }
                int64_t now = monotonic_ms();
                if (wait_s <= 0 || next < 0 || next >= end || now >= end) {
                        printf("%d signal(s) still pending%s\n", n, next >= 0 ? "; run again later" : "");
                        return 75; /* EX_TEMPFAIL */
                }
                if (next > now)
                        usleep((useconds_t)((next - now) * 1000 > 1000000 ? 1000000 : (next - now) * 1000));
        }
}

int cmd_signal(const struct invocation *inv, int argc, char **argv)
{
        const char *config = NULL, *outbox = NULL;
        bool test = false, deliver = false;
        long wait_s = 0;
        const struct option_def defs[] = {
                OPTION_STR("config", 'c', &config, .arg = "FILE",
                           .help = "the signal configuration ({\"signals\": [...]}, opentoe(1) SIGNALS)",
                           .value = OPTION_VALUE_FILE),
                OPTION_BOOL("test", 0, &test, .help = "send a test summary to each target and say what it answered"),
                OPTION_BOOL("deliver", 0, &deliver,
                            .help = "send the signals waiting in the outbox whose time has come"),
                OPTION_STR("outbox", 0, &outbox, .arg = "DIR",
                           .help = "the outbox (default: the configuration's, else " OUTBOX_DEFAULT_DIR ")",
                           .value = OPTION_VALUE_DIR),
                OPTION_NUM("wait", &wait_s, 0, 86400, .arg = "SECONDS",
                           .help = "keep trying until the outbox is empty or this long has passed"),
                { NULL },
        };
        size_t n_stray = 0;
        const char *stray[1];
        int r = option_parse(inv->program, "signal", defs, argc, argv, stray, 1, &n_stray, usage);
        if (r > 0)
                return 0;
        if (r != 0)
                return EXIT_USAGE;
        if (n_stray || test == deliver || (test && !config)) {
                usage(stderr, inv->program, defs);
                return EXIT_USAGE;
        }
        json_t *targets = NULL;
        _cleanup_free_ char *cfg_outbox = NULL;
        if (config) {
                char *err = NULL;
                if (outbox_config_load(config, &targets, &cfg_outbox, &err) < 0) {
                        fprintf(stderr, "%s signal: %s\n", inv->program, err);
                        free(err);
                        return 1;
                }
        }
        int status = test ? signal_test(inv->program, targets)
                          : signal_deliver(inv->program, outbox ? outbox : cfg_outbox ? cfg_outbox : OUTBOX_DEFAULT_DIR,
                                           wait_s);
        json_decref(targets);
        return status;
}
