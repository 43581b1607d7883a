/* debug_state.c: `opentoe debug state DIR`, which prints a state folder's
 * saved state as a resumed run would read it. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "debug.h"
#include "options.h"
#include "state.h"
#include "strbuf.h"

static void state_usage(FILE *f, const char *prog, const struct option_def *defs)
{
        fprintf(f,
                "Usage: %s debug state DIR\n"
                "Print the state saved in the state directory DIR (the checkpoint log applied, and the\n"
                "step in flight) as JSON.  The documents it belongs to are not checked; everything else\n"
                "is, as a resuming run checks it.\n"
                "\n",
                prog);
        option_help(f, defs);
        fprintf(f, "\nExit status: 0 a state was printed, 1 none or refused, 2 usage error.\n");
}

/* `debug state DIR`: the saved state as the next run would resume it. */
int cmd_debug_state(const struct invocation *inv, int argc, char **argv)
{
        const struct option_def defs[] = {
                OPTION_POSITIONAL("DIR", OPTION_VALUE_DIR),
                { NULL },
        };
        const char *dir = NULL;
        size_t n_dirs = 0;
        int status;
        if (option_parse_done(inv->program, "debug state", defs, argc, argv, &dir, 1, &n_dirs, state_usage, &status))
                return status;
        if (n_dirs != 1) {
                state_usage(stderr, inv->program, defs);
                return EXIT_USAGE;
        }
        struct state_dir sd;
        char *err = NULL;
        json_t *state = NULL, *running = NULL;
        bool torn = false;
        int e = state_dir_open(dir, 0, &sd, &err);
        if (e >= 0)
                e = state_log_read(&sd, NULL, NULL, &state, &torn, &err);
        if (e == 0)
                err = xasprintf("%s holds no saved state", dir);
        if (e > 0) {
                char *rerr = NULL;
                /* running.json is bound to the same documents as the log. */
                (void)state_read(&sd, RUNNING_FILE, NULL, &running, &rerr);
                free(rerr);
                json_t *out = json_pack("{s:o, s:o, s:b}", "state", state, "running", running ? running : json_null(),
                                        "lastRecordCutShort", torn);
                char *text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                puts(text ? text : "null");
                free(text);
                json_decref(out);
        } else
                fprintf(stderr, "%s debug state: %s\n", inv->program, err ? err : strerror(-e));
        free(err);
        state_dir_close(&sd);
        return e > 0 ? 0 : 1;
}
