/* live.h: the --live step view on stderr. */
#pragma once

#include <stdint.h>

#include "vm.h"

/* One line for a step that has ended ("[ok  ] phase/step  state  attempt
 * 1/1  0.01s"), and for a failed or ignored one the last lines of its
 * stderr (`stderr_tail`, or NULL). */
void live_step_ended(const struct vm *vm, uint32_t index, double seconds, const char *stderr_tail);
