/* awstime.h: the clocks and time formats of the AWS layer: the monotonic
 * clock every deadline is on, and the two ways AWS writes a time. */
#pragma once

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in milliseconds, the clock of every deadline. */
int64_t aws_now_ms(void);

/* Parses an ISO 8601 UTC time ("2026-01-02T03:04:05Z", fractions and a
 * "+00:00" offset allowed) or an HTTP date ("Fri, 02 Jan 2026 03:04:05
 * GMT").  0 or -EINVAL. */
int aws_time_parse(const char *s, time_t *ret);
