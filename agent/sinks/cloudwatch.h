/* cloudwatch.h: the CloudWatch Logs sink (--cw-log-group-name): console
 * lines spooled as they are written, shipped at most once a second while
 * a step prints and between steps, flushed at the end. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logdir.h"
#include "runner.h"

struct cwlogs;

struct cw_sink {
        struct cwlogs *cw;      /* the shipper, or NULL */
        struct logdir *log;     /* for its notices (application.log) */
        int64_t last_pump_ms;
        char *failure;          /* why logs could not be (or were not all) delivered */
};

/* Opens the shipper when the options name a group and a stream: 1 when
 * open, 0 when none is asked for, -1 when it cannot be (then `failure`
 * says why, and it is said on stderr). */
int cw_sink_open(struct cw_sink *c, const struct run_options *o, struct logdir *log);
/* Spools one console line. */
void cw_sink_line(struct cw_sink *c, const char *line, size_t len);
/* Writes the spooled lines still buffered (the loop is idle). */
void cw_sink_write_out(struct cw_sink *c);
/* Ships what is spooled, briefly; `force` between steps, else at most
 * once a second (from inside a running step). */
void cw_sink_pump(struct cw_sink *c, bool force);
/* Flushes (up to `wait_ms`) and closes the shipper; lines left
 * undelivered stay in the spool for the next run, and `failure` says so. */
void cw_sink_close(struct cw_sink *c, int64_t wait_ms);
void cw_sink_done(struct cw_sink *c);
