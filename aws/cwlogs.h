/* cwlogs.h: streaming console.log to CloudWatch Logs (--cw-log-group,
 * --cw-log-stream, --cw-log-region), with an on-disk spool so that a
 * crash, a kill or an outage of the endpoint delays lines but loses none.
 *
 * How the runner uses it:
 *
 *     struct cwlogs *cw = NULL;
 *     char *err = NULL;
 *     r = cwlogs_open(group, stream, region_or_NULL, spool_dir, 0, &cw, &err);
 *         (on failure: report err; with --cw-ignore-failures carry on
 *          without CloudWatch, otherwise fail the run)
 *     for every console.log line:
 *         cwlogs_append(cw, -1, line, len);        (-1: timestamp = now)
 *     between steps, and every second or so from a timer while a step runs:
 *         cwlogs_pump(cw, aws_now_ms() + 2000);
 *     at the end of the run:
 *         struct cwlogs_report rep;
 *         r = cwlogs_close(cw, aws_now_ms() + 30000, &rep);
 *         _cleanup_free_ char *line = cwlogs_report_summary(&rep);
 *         (print line in the summary; r < 0 means some events were not
 *          delivered: without --cw-ignore-failures the run says so)
 *         cwlogs_report_done(&rep);
 *
 * spool_dir belongs to ONE group and stream (for example
 * <state-directory>/cwlogs): open refuses a spool that still holds
 * undelivered events for another target, unless CWLOGS_DISCARD_OTHER.
 * Opening an existing spool resumes it: its undelivered events are
 * shipped first, and a send that a kill interrupted is sent again (its
 * events are counted as "resent": the service may hold them twice).
 *
 * The spool: segment files <16 hex digits>.seg (an 8-byte magic, then
 * records: u32 length, u32 CRC-32C of length, timestamp and message, i64
 * timestamp in ms, the message; little-endian), append-only, a new one
 * per open and every 16 MiB (OPENTOE_CWLOGS_SEGMENT_BYTES).  Each append is one write(2), so a killed
 * process loses nothing it appended.  Data is fdatasync'd once 1 MiB or
 * 1 s of appends is unsynced, before every PutLogEvents that ships it,
 * and at close.  The cursor file (text, replaced atomically: temporary,
 * fsync, rename, fsync of the folder) holds the target, the position of
 * the first undelivered record, totals, and the end of a batch being
 * sent ("inflight"), written before the request and cleared after it.
 * Segments are deleted once every record in them is delivered.
 *
 * Batching (spec E.1): events in timestamp order (a batch is sorted
 * stably when needed); at most 10,000 events and 1,048,576 bytes counted
 * as UTF-8 message bytes + 26 per event; a batch spans less than 24 h;
 * timestamps older than 14 days or more than 2 h ahead are clamped into
 * the accepted window (counted as "clamped").  Messages are made valid
 * UTF-8 (invalid bytes become U+FFFD) before being measured; a line longer
 * than CWLOGS_MAX_EVENT_BYTES is split into several events with the same
 * timestamp (counted in "split"); an empty line is sent as " " (the
 * service refuses empty messages).
 *
 * Delivery: PutLogEvents through aws/http (SigV4, retries of throttling
 * and 5xx, clock skew); on ResourceNotFoundException the group and stream
 * are created (ResourceAlreadyExistsException is fine) and the batch sent
 * again.  When a request fails for good (endpoint down, retries spent,
 * credentials missing), the events stay in the spool and the next try
 * waits a backoff (1 s doubling to 30 s, jittered; tunable through
 * OPENTOE_CWLOGS_BACKOFF_MS and OPENTOE_CWLOGS_BACKOFF_CAP_MS).  Events
 * the service refuses (rejectedLogEventsInfo: too old, too new, expired;
 * or InvalidParameterException for a whole batch) are counted as
 * "rejected" and not sent again.
 *
 * Not thread-safe: one struct cwlogs is used by one thread. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* PutLogEvents limits (spec E.1). */
#define CWLOGS_MAX_BATCH_BYTES 1048576        /* sum of message bytes + 26 per event */
#define CWLOGS_EVENT_OVERHEAD 26
#define CWLOGS_MAX_BATCH_EVENTS 10000
#define CWLOGS_MAX_EVENT_BYTES 262118         /* message bytes of one event: 256 KiB - 26 */
#define CWLOGS_MAX_SPAN_MS (24LL * 3600 * 1000) /* a batch spans less than this */
#define CWLOGS_MAX_AGE_MS (14LL * 24 * 3600 * 1000)
#define CWLOGS_MAX_AHEAD_MS (2LL * 3600 * 1000)

enum {
        /* A spool left for another group, stream or region is deleted
         * (its undelivered events counted as "discarded") instead of
         * refused with -EEXIST. */
        CWLOGS_DISCARD_OTHER = 1 << 0,
};

struct cwlogs;

/* What happened to the events, counted in events (a split line counts
 * once per part). */
struct cwlogs_report {
        uint64_t appended;      /* events written to the spool by this process */
        uint64_t delivered;     /* accepted by PutLogEvents, by this process */
        uint64_t resumed;       /* of those, events an earlier process had spooled */
        uint64_t resent;        /* events sent again after a send whose outcome was unknown
                                 * (a kill mid-send, a transport failure): possible duplicates */
        uint64_t pending;       /* still in the spool, undelivered (a later open ships them) */
        uint64_t rejected;      /* refused by the service; not retried */
        uint64_t lost;          /* could not be spooled, or spooled records found corrupt */
        uint64_t discarded;     /* undelivered events of another target, deleted (CWLOGS_DISCARD_OTHER) */
        uint64_t clamped;       /* timestamps moved into the accepted window */
        uint64_t split;         /* lines longer than CWLOGS_MAX_EVENT_BYTES */
        uint64_t requests;      /* PutLogEvents requests accepted */
        uint64_t failures;      /* tries that failed (each then retried or given up) */
        uint64_t total_delivered; /* events delivered from this spool by every process */
        uint64_t total_resent;  /* "resent" events of this spool, every process */
        char *group, *stream;   /* the target */
        char *last_error;       /* why the last failure happened; NULL when none */
};

/* Opens (creating it if needed) the spool in spool_dir and prepares the
 * client.  region NULL or "": resolved like the SDKs do (AWS_REGION, ...,
 * IMDS).  The endpoint is AWS_ENDPOINT_URL_LOGS, --endpoint-url,
 * AWS_ENDPOINT_URL or https://logs.<region>.amazonaws.com (see
 * aws_endpoint_resolve()).  No request is sent yet.  Returns
 * 0, or -errno with a message: -EINVAL bad names, -ENOENT no region,
 * -EBUSY the spool is used by another process, -EEXIST the spool holds
 * undelivered events for another target, -ENOSYS libcurl missing, other
 * -errno of the spool. */
int cwlogs_open(const char *group, const char *stream, const char *region, const char *spool_dir, unsigned flags,
                struct cwlogs **ret, char **reterr_msg);

/* Appends one console.log line (a trailing "\n" or "\r\n" is dropped) to
 * the spool.  timestamp_ms: ms since the epoch, or -1 for now.  Does no
 * network I/O.  Lines are buffered and written 64 KiB at a time, and at
 * every cwlogs_write_out(), pump, flush, sync and close.  Returns 0, or
 * -errno when the spool cannot be written (the lines not written are
 * then counted as lost). */
int cwlogs_append(struct cwlogs *s, int64_t timestamp_ms, const char *line, size_t len);

/* Writes the buffered lines to the spool (the caller's output paused). */
int cwlogs_write_out(struct cwlogs *s);

/* Ships what is due: full batches, and everything once the oldest
 * unshipped line has waited OPENTOE_CWLOGS_FLUSH_MS (default 1000 ms) or
 * comes from an earlier process.  Returns without a request while a
 * backoff runs.  Never blocks past deadline_ms (CLOCK_MONOTONIC ms, as
 * aws_now_ms(); give it a couple of seconds: a request cut by the
 * deadline is sent again later).  Returns the number of events delivered
 * (>= 0), or the -errno of a failure (the events stay spooled;
 * cwlogs_last_error() says why). */
int cwlogs_pump(struct cwlogs *s, int64_t deadline_ms);

/* Like cwlogs_pump(), but ships everything spooled now, waiting out
 * backoffs until deadline_ms.  Returns 0 when nothing is left, -ETIMEDOUT
 * when events remain, or another -errno. */
int cwlogs_flush(struct cwlogs *s, int64_t deadline_ms);

/* Counts so far (pending is not computed: 0).  Fills *ret; free it with
 * cwlogs_report_done(). */
void cwlogs_stats(const struct cwlogs *s, struct cwlogs_report *ret);

/* The message of the last failure, or NULL.  Borrowed. */
const char *cwlogs_last_error(const struct cwlogs *s);

/* Called with a one-line message on every retry and failure (for
 * application.log).  fn NULL: silent. */
void cwlogs_set_notice(struct cwlogs *s, void (*fn)(void *userdata, const char *msg), void *userdata);

/* Flushes until deadline_ms, syncs the spool, frees s (accepts NULL).
 * Fills *ret_report when not NULL (free it with cwlogs_report_done()).
 * Returns 0 when every event was delivered, -ETIMEDOUT when some are
 * still pending (they stay in the spool), -EBADMSG when some were
 * rejected or lost. */
int cwlogs_close(struct cwlogs *s, int64_t deadline_ms, struct cwlogs_report *ret_report);

void cwlogs_report_done(struct cwlogs_report *r);

/* One line for a run's summary: "CloudWatch Logs: 120 events delivered to
 * G/S" or "... 7 not delivered (7 pending in the spool): <last error>".
 * To free. */
char *cwlogs_report_summary(const struct cwlogs_report *r);

/* The CRC-32C (Castagnoli) of data, continuing from crc (0 to start). */
uint32_t cwlogs_crc32c(uint32_t crc, const void *data, size_t len);
