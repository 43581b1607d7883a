/* sinks.h: where a run's lines go.  console.log and opentoe's standard
 * output are the log folder's (logdir.c); every line written there is
 * also handed to the fan-out (sinks.c), which passes it to each other
 * sink: CloudWatch Logs (cloudwatch.c) and the journal (journal.c).  A step's output reaches the
 * console through console.c; the --live step view on stderr is live.c's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloudwatch.h"
#include "journal.h"
#include "live.h"
#include "logdir.h"
#include "runner.h"

struct sinks {
        struct logdir *log;     /* borrowed: the run's log folder */
        struct cw_sink cw;
        struct journal_sink journal;
        struct live live;       /* the terminal's view (live.c) */
        /* console.log's flush when the loop is idle: the step's output
         * paused (an idle-priority defer source, armed by a new line). */
        struct sd_event_source *flush_src;
};

/* Opens the sinks the options ask for and hooks them to the log
 * folder's lines.  A sink that cannot be opened says so (sinks_failure).
 * With a loop, console.log's lines are flushed whenever the loop has
 * nothing else to do. */
void sinks_open(struct sinks *s, const struct run_options *o, struct logdir *log, struct sd_event *event);

/* One line of a step's output (the console sink), and a chance for the
 * sinks that ship lines to do so (at most once a second from here). */
void sinks_step_line(struct sinks *s, int stream, const char *line, size_t len);

/* Where the run is, for the journal's fields (a document clears the
 * phase, step, action and status; a phase clears the step...), and what
 * the next console line is (its PRIORITY and MESSAGE_ID). */
void sinks_set(struct sinks *s, enum journal_field f, const char *value);
void sinks_mark_next(struct sinks *s, enum journal_kind k);

/* Between steps: the sinks that ship lines do so now, briefly. */
void sinks_step_ended(struct sinks *s);

/* Ships what is left, waiting up to `wait_ms`, and closes the sinks (the
 * log folder's lines no longer reach them).  Accepts closed sinks. */
void sinks_close(struct sinks *s, int64_t wait_ms);

/* Why lines could not be (or were not all) delivered, or NULL. */
const char *sinks_failure(const struct sinks *s);

/* Frees what sinks_close left (the failure text). */
void sinks_done(struct sinks *s);
