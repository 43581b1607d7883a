/* reboot.c: the Reboot action.  It validates delaySeconds and reports
 * ACTION_REBOOT_DONE: the step is complete, and the runner's reboot
 * protocol (agent/reboot.c) persists the run, reboots the machine after
 * the delay (or hands the reboot to SSM Agent or the caller), and the
 * run goes on with the next step once the machine is back.  The module
 * itself touches nothing. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "strbuf.h"

/* Longer than any reasonable wait before a reboot: a day. */
#define REBOOT_DELAY_MAX 86400

static int reboot_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        (void)ctx;
        *ret = (struct action_result){ .status = ACTION_FAILED, .exit_code = -1, .outputs = json_array() };
        const json_t *d = json_is_object(inputs) ? json_object_get(inputs, "delaySeconds") : NULL;
        json_int_t delay = 0;
        if (d && !json_is_null(d)) {
                if (json_is_integer(d))
                        delay = json_integer_value(d);
                else if (json_is_string(d) && *json_string_value(d)) {
                        char *end;
                        errno = 0;
                        long long v = strtoll(json_string_value(d), &end, 10);
                        if (errno || *end) {
                                ret->message = xasprintf("Reboot: delaySeconds must be a whole number of seconds, "
                                                         "not '%s'", json_string_value(d));
                                return 0;
                        }
                        delay = v;
                } else if (!json_is_string(d)) {
                        ret->message = xstrdup("Reboot: delaySeconds must be a whole number of seconds");
                        return 0;
                }
        }
        if (delay < 0 || delay > REBOOT_DELAY_MAX) {
                ret->message = xasprintf("Reboot: delaySeconds must be between 0 and %d, not %lld", REBOOT_DELAY_MAX,
                                         (long long)delay);
                return 0;
        }
        ret->status = ACTION_REBOOT_DONE;
        ret->reboot_delay_s = (long)delay;
        return 0;
}

const struct action_module reboot_module = {
        .name = "Reboot",
        .spec = ACTION_SPEC(Reboot),
        .run = reboot_run,
};
