/* cwl_internal.h: what the files of the CloudWatch Logs shipper
 * (aws/cwlogs*.c) share and nothing else sees: the spool's constants, the
 * shipper's state, and the functions one file gives the others. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cwlogs.h"
#include "strbuf.h"

#define SEG_MAGIC "OTCWSEG1"
#define SEG_HDR 8                               /* bytes of the magic at the start of a segment */
#define REC_HDR 16                              /* u32 length, u32 crc, i64 timestamp */
#define SEG_ROTATE_BYTES (16L * 1024 * 1024)    /* a new segment once one is this large (default) */
#define WRITE_BYTES (64u * 1024)               /* buffered records are written once this much is held */
#define SYNC_BYTES (1024u * 1024)               /* fdatasync once this much is unsynced */
#define SYNC_MS 1000                            /* ... or the oldest unsynced append is this old */
#define READ_CHUNK (1024u * 1024)               /* spool reads */
#define CURSOR_MAGIC "opentoe-cwlogs-cursor 1"
#define OLD_MARGIN_MS (3600LL * 1000)           /* clamp this far inside the 14-day window */
#define NEW_MARGIN_MS (300LL * 1000)            /* ... and the 2-hour one */
#define MAX_NAME 512

struct seg_pos {
        uint64_t seg;   /* segment number, 0: none */
        uint64_t off;   /* byte offset in it */
};

struct rec {
        int64_t ts;
        const char *msg;        /* borrowed from the read buffer */
        uint32_t len;
        struct seg_pos next;    /* the position after the record */
};

struct event {
        int64_t ts;
        size_t off;             /* in the batch text */
        uint32_t len;
};

struct cwlogs {
        char *group, *stream, *region, *dir, *endpoint;
        unsigned flags;
        int dirfd, lockfd;
        struct aws_cred_provider *creds;
        struct aws_http *http;
        void (*notice)(void *userdata, const char *msg);
        void *notice_data;

        /* Segment numbers present, ascending; the active one is last. */
        uint64_t *segs;
        size_t n_segs, cap_segs;
        uint64_t first_new_seg; /* segments from here on were written by this process */

        /* The writer. */
        uint64_t wseg;
        int wfd;
        uint64_t wend, wsynced;
        int64_t unsynced_since; /* monotonic ms of the oldest unsynced append; 0 none */
        /* Records appended but not yet written (at wend), and what they
         * count once written: a chatty step's lines leave in writes of
         * WRITE_BYTES, not one each. */
        struct strbuf wbuf, clean;
        uint64_t wparts, wsplit, wbytes;

        /* The reader: one segment open at a time, read in chunks. */
        uint64_t rseg;
        int rfd;
        uint64_t rsize;         /* the size of a finished segment */
        bool rsize_stale;       /* opened while active: look at the size again */
        char *rbuf;
        size_t rcap, rlen;
        uint64_t roff;          /* file offset of rbuf[0] */
        struct seg_pos corrupt_mark; /* corrupt data before this was counted */

        /* The cursor as committed, and what it records. */
        struct seg_pos cur, inflight, resend_end;
        uint64_t total_delivered, total_requests, total_resent;

        /* The batch being built and sent. */
        struct event *ev;
        size_t n_ev, cap_ev;
        struct strbuf text, body;
        struct seg_pos batch_end;
        uint64_t batch_resent, batch_resumed, batch_clamped;

        /* Pacing. */
        long backoff_base, backoff_cap, backoff;
        int64_t next_try;       /* monotonic ms; 0: now */
        long flush_ms;
        uint64_t segment_bytes;
        int64_t first_pending;  /* monotonic ms of the oldest unshipped append; 0 none */
        uint64_t pending_events, pending_bytes; /* appended since the last time the spool was drained */
        bool old_pending;       /* an earlier process left events */

        struct cwlogs_report counts;    /* without strings */
        char *last_error;
};

/* What a cursor file says (cwl_cursor_read()). */
struct cursor_file {
        bool present, valid;
        char *group, *stream, *region;
        struct seg_pos pos, inflight;
        uint64_t delivered, requests, resent;
};

/* cwlogs_notice.c: the shipper's notices, its last error, the wall clock. */
void cwl_say(struct cwlogs *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cwl_set_error(struct cwlogs *s, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int64_t cwl_wall_ms(void);
/* cwlogs_api.c: sending the batch built (creating the group or stream when
 * missing), the pause after a failed try. */
void cwl_backoff_start(struct cwlogs *s);
int cwl_batch_send(struct cwlogs *s, int64_t deadline);
/* cwlogs_batch.c: the next batch from the spool; a JSON string. */
int cwl_batch_build(struct cwlogs *s);
void cwl_json_str(struct strbuf *b, const char *s, size_t n);
/* cwlogs_spool.c: the cursor, positions, segments, the reader, syncing,
 * pruning, UTF-8. */
int cwl_cursor_read(int dirfd, struct cursor_file *ret);
int cwl_cursor_write(struct cwlogs *s);
void cwl_cursor_file_done(struct cursor_file *c);
bool cwl_pos_eq(struct seg_pos a, struct seg_pos b);
bool cwl_pos_lt(struct seg_pos a, struct seg_pos b);
void cwl_reader_close(struct cwlogs *s);
void cwl_seg_name(char buf[32], uint64_t seg);
int cwl_segment_new(struct cwlogs *s, uint64_t seg);
int cwl_segs_scan(struct cwlogs *s);
int cwl_spool_peek(struct cwlogs *s, struct seg_pos *pos, struct rec *ret);
void cwl_spool_prune(struct cwlogs *s, bool all_done);
int cwl_spool_sync(struct cwlogs *s);
/* Writes the buffered records at the end of the active segment. */
int cwl_spool_write(struct cwlogs *s);
