/* live.c: the --live step view: a readable line on stderr per ended
 * step, with the last lines of a failed step's stderr. */
#include "live.h"

#include <stdio.h>
#include <string.h>

void live_step_ended(const struct vm *vm, uint32_t index, double seconds, const char *stderr_tail)
{
        const struct program *p = vm->prog;
        const struct vm_step *s = &vm->steps[index];
        const char *mark = s->state == STEP_SUCCESS   ? "ok  "
                           : s->state == STEP_SKIPPED ? "skip"
                           : s->state == STEP_IGNORED ? "ign "
                                                      : "FAIL";
        fprintf(stderr, "[%s] %s/%s  %s  attempt %u/%u  %.2fs\n", mark, p->phases[p->steps[index].phase].name,
                p->steps[index].name, step_state_name(s->state), s->attempts, p->steps[index].max_attempts, seconds);
        if ((s->state == STEP_FAILED || s->state == STEP_IGNORED) && stderr_tail) {
                size_t len = strlen(stderr_tail);
                /* The last lines, at most about 2 KiB. */
                const char *from = len > 2048 ? stderr_tail + len - 2048 : stderr_tail;
                fprintf(stderr, "       stderr (last lines):\n");
                for (const char *q = from; *q;) {
                        const char *nl = strchr(q, '\n');
                        size_t n = nl ? (size_t)(nl - q) : strlen(q);
                        fprintf(stderr, "       | %.*s\n", (int)n, q);
                        q += n + (nl ? 1 : 0);
                }
        }
}
