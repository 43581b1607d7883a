/* tunables.h: the monotonic clock every deadline is measured on, and
 * numeric settings read from the environment (OPENTOE_* knobs). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds: the clock of every deadline
 * (the runner's step attempts and the AWS layer's). */
int64_t monotonic_ms(void);

/* The integer in environment variable `name`, or `def` when it is unset,
 * empty, not a whole number, or outside [min, max]. */
long env_long(const char *name, long def, long min, long max);

/* The whole number of bytes (or other unsigned quantity) in environment
 * variable `name`: decimal digits only, at most `max`.  Returns 1 with
 * *ret set when the variable holds such a number, 0 with *ret = def when
 * it is unset or empty, and -EINVAL with *ret = def when it holds
 * anything else, so that the caller can warn about the value it ignores. */
int env_u64(const char *name, uint64_t def, uint64_t max, uint64_t *ret);

/* env_u64() for a setting with a range: the number, or `def` when the
 * variable is unset, empty, not a whole number, or outside [min, max]. */
uint64_t env_u64_in(const char *name, uint64_t def, uint64_t min, uint64_t max);

/* The one reader of boolean environment settings (AWS_EC2_METADATA_DISABLED,
 * AWS_S3_FORCE_PATH_STYLE, ...): true when the variable holds "true" in any
 * case (the AWS SDKs' rule) or "1"; anything else, or unset, is false. */
bool env_true(const char *name);
