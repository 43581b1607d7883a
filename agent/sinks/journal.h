/* journal.h: the journald sink: every console.log line as one journal
 * entry (sd_journal_sendv, libsystemd through common/sdevent_dl.h) with
 * the run's place in fields (OPENTOE_EXECUTION_ID, OPENTOE_DOCUMENT,
 * OPENTOE_PHASE, OPENTOE_STEP, OPENTOE_ACTION, OPENTOE_STATUS), a
 * PRIORITY (3 errors, 4 step failures and warnings, 6 output) and a
 * MESSAGE_ID for the run started, a step failed and the run finished,
 * so `journalctl OPENTOE_EXECUTION_ID=<id>` shows one run. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* MESSAGE_IDs (journalctl MESSAGE_ID=...). */
#define JOURNAL_MID_RUN_STARTED "4953cd97750b4f4da6bc5ab402d1adac"
#define JOURNAL_MID_STEP_FAILED "ee05b99b7ea44464a19f0d77b4a2ca95"
#define JOURNAL_MID_RUN_FINISHED "d033a20250554bfc9b96fb9d40d844bc"

/* What the next line is (sinks_mark_next()); a line left unmarked is
 * classified by its words: "Warning: ..." 4, "Cannot ..." 3, a line of
 * the failure block 4, anything else 6. */
enum journal_kind {
        JOURNAL_OUTPUT,
        JOURNAL_ERROR,
        JOURNAL_STEP_FAILED,
        JOURNAL_RUN_FINISHED_OK,
        JOURNAL_RUN_FINISHED_FAILED,
};

enum journal_field {
        JOURNAL_DOCUMENT,       /* setting one clears the fields after it */
        JOURNAL_PHASE,
        JOURNAL_STEP,
        JOURNAL_ACTION,
        JOURNAL_STATUS,
        _JOURNAL_FIELD_MAX,
};

struct journal_sink {
        bool on;
        char *execution_id;
        char *field[_JOURNAL_FIELD_MAX];
        enum journal_kind next;
};

/* Whether runs write to the journal when not told otherwise: a journal
 * socket exists and OPENTOE_JOURNAL is not 0 (under a test system root
 * only with OPENTOE_JOURNAL=1). */
bool journal_present(void);

/* Opens the sink (libsystemd loaded) and sends the run-started entry.
 * Returns 1 when open, 0 when there is no journal to write to. */
int journal_sink_open(struct journal_sink *j, const char *execution_id);
void journal_sink_set(struct journal_sink *j, enum journal_field f, const char *value);
void journal_sink_mark_next(struct journal_sink *j, enum journal_kind k);
/* One console.log line ("<date> <time> Info <message>", or a raw one). */
void journal_sink_line(struct journal_sink *j, const char *line, size_t len);
void journal_sink_close(struct journal_sink *j);
