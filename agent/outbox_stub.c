/* outbox_stub.c: weak stand-ins for agent/outbox.c (the signals issue)
 * so that the agent links before it lands; the real definitions replace
 * these, and this file goes with them.  Nothing is queued. */
#include "outbox.h"

__attribute__((weak)) int outbox_enqueue(const char *outbox_dir, const char *execution_id, const json_t *targets,
                                         const json_t *summary, char **reterr_msg)
{
        (void)outbox_dir, (void)execution_id, (void)targets, (void)summary, (void)reterr_msg;
        return 0;
}

__attribute__((weak)) int outbox_deliver(const char *outbox_dir, int64_t deadline_ms, int64_t *ret_next_ms,
                                         char **reterr_msg)
{
        (void)outbox_dir, (void)deadline_ms, (void)reterr_msg;
        *ret_next_ms = -1;
        return 0;
}
