/* outbox.h: orchestrator signals that survive an outage, a crash and a
 * reboot.  A finished job's summary is queued as one file per target in
 * the outbox folder (root's, 0700; each entry written whole, atomically)
 * and delivered from there, retried with backoff until the target takes
 * it, and removed once it has: every attempt of one signal carries the
 * same idempotency key, so a signal sent again after a crash between
 * "delivered" and "removed" is one signal to a receiver that checks the
 * key.  The targets' shapes are signal_send.h's (opentoe(1), SIGNALS). */
#pragma once

#include <stdint.h>

#include <jansson.h>

#define OUTBOX_DEFAULT_DIR "/var/lib/opentoe/outbox"

/* Queues the summary of a finished job for every target in `targets` (the job's "signals" key, a JSON array; NULL or empty: nothing). */
int outbox_enqueue(const char *outbox_dir, const char *execution_id, const json_t *targets, const json_t *summary, char **reterr_msg);
/* Tries every pending signal whose time has come; returns the number still pending (>= 0) and *ret_next_ms (CLOCK_MONOTONIC ms of the next retry, -1 none), or -errno with a message. Bounded by deadline_ms. */
int outbox_deliver(const char *outbox_dir, int64_t deadline_ms, int64_t *ret_next_ms, char **reterr_msg);
/* The number of signals pending (>= 0) and *ret_next_ms (as above), from
 * the entries alone: no attempt, no lock, no network; -errno with a
 * message. */
int outbox_pending(const char *outbox_dir, int64_t *ret_next_ms, char **reterr_msg);

/* Checks a "signals" array (each target's shape): 0 or -EINVAL with a
 * message. */
int outbox_targets_check(const json_t *targets, char **reterr_msg);

/* A signal configuration file (`run --signal-config`, `signal --test
 * --config`): {"signals": [targets], "outbox": "/dir"} ("outbox"
 * optional; at most 1 MiB; unknown keys refused).  *ret_targets (a new
 * reference) and *ret_outbox (allocated, NULL when not given). */
int outbox_config_load(const char *path, json_t **ret_targets, char **ret_outbox, char **reterr_msg);
