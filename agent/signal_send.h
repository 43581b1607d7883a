/* signal_send.h: one delivery attempt of a finished job's summary to one
 * orchestrator target (the shapes are opentoe(1)'s SIGNALS):
 *   {"type":"cfn-wait-condition","url":"https://...presigned..."}
 *       PUT of cfn-signal's JSON: {"Status":"SUCCESS"|"FAILURE",
 *       "Reason":..., "UniqueId":<execution id>, "Data":<the summary as a
 *       JSON string>};
 *   {"type":"webhook","url":"https://...","keyFile":"/etc/opentoe/hook.key"}
 *       POST of the summary, with X-Opentoe-Timestamp (Unix seconds),
 *       X-Opentoe-Signature "sha256=" + hex HMAC-SHA256 under the key
 *       file's bytes of "<timestamp>.<body>", and Idempotency-Key;
 *   {"type":"s3","uri":"s3://bucket/key"[,"expectedBucketOwner":ID]}
 *       PutObject of the summary;
 *   {"type":"file","path":"/abs/path"}
 *       the summary as one JSON line, appended to a regular file of root
 *       (once: a resent signal whose line is the file's last is not
 *       written again) or written to a character device (a virtio-serial
 *       port; /dev/virtio-ports/NAME, udev's link to it, is followed). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#define SIGNAL_MAX_URL 8192
#define SIGNAL_MAX_BODY (256 * 1024)
#define SIGNAL_MAX_KEY_FILE 4096
#define SIGNAL_MAX_PATH 4096

/* What one attempt came to. */
struct signal_answer {
        long http_status;       /* the final HTTP status, 0 for none */
        bool permanent;         /* not worth another attempt (a 4xx, a bad key file) */
};

/* Checks a target's shape (type, its keys and their bounds): 0 or
 * -EINVAL with a message. */
int signal_target_check(const json_t *target, char **reterr_msg);

/* One attempt, bounded by deadline_ms (CLOCK_MONOTONIC).  `key` is the
 * idempotency key (the same on every attempt of one signal).  0 when the
 * target took it (2xx), else -errno with a message (never holding a
 * webhook key) and *ret saying whether to try again. */
int signal_send(const json_t *target, const char *key, const char *execution_id, const json_t *summary,
                int64_t deadline_ms, struct signal_answer *ret, char **reterr_msg);
