/* outbox.h: the signals of finished jobs (the signals/journal issue's
 * agent/outbox.c owns them; these are the two calls the agent makes). */
#pragma once

#include <jansson.h>
#include <stdint.h>

/* Queues the summary of a finished job for every target in `targets` (the job's "signals" key, a JSON array; NULL or empty: nothing). */
int outbox_enqueue(const char *outbox_dir, const char *execution_id, const json_t *targets, const json_t *summary, char **reterr_msg);
/* Tries every pending signal whose time has come; returns the number still pending (>= 0) and *ret_next_ms (CLOCK_MONOTONIC ms of the next retry, -1 none), or -errno with a message. Bounded by deadline_ms. */
int outbox_deliver(const char *outbox_dir, int64_t deadline_ms, int64_t *ret_next_ms, char **reterr_msg);
