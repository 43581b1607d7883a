/* tunables.h: the monotonic clock every deadline is measured on, and
 * numeric settings read from the environment (OPENTOE_* knobs). */
#pragma once

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds: the clock of every deadline
 * (struct action_ctx's deadline_ms and the AWS layer's). */
int64_t monotonic_ms(void);

/* The integer in environment variable `name`, or `def` when it is unset,
 * empty, not a whole number, or outside [min, max]. */
long env_long(const char *name, long def, long min, long max);
