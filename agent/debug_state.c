/* debug_state.c: `opentoe debug state DIR`, which prints a state folder's
 * saved state as a resumed run would read it. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "debug.h"
#include "state.h"
#include "strbuf.h"

/* `debug state DIR`: the saved state as the next run would resume it. */
int cmd_debug_state(const struct invocation *inv, int argc, char **argv)
{
        if (argc != 2 || argv[1][0] == '-') {
                fprintf(argc == 2 ? stdout : stderr,
                        "Usage: %s debug state DIR\n"
                        "Print the state saved in the state directory DIR (the checkpoint log applied, and the\n"
                        "step in flight) as JSON.  The documents it belongs to are not checked; everything else\n"
                        "is, as a resuming run checks it.\n"
                        "Exit status: 0 a state was printed, 1 none or refused, 2 usage error.\n",
                        inv->program);
                return argc == 2 && !strcmp(argv[1], "--help") ? 0 : EXIT_USAGE;
        }
        struct state_dir sd;
        char *err = NULL;
        json_t *state = NULL, *running = NULL;
        bool torn = false;
        int e = state_dir_open(argv[1], 0, &sd, &err);
        if (e >= 0)
                e = state_log_read(&sd, NULL, NULL, &state, &torn, &err);
        if (e == 0)
                err = xasprintf("%s holds no saved state", argv[1]);
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
