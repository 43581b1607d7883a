/* report.h: AWSTOE's reports of a run: each document's record in
 * detailedoutput.json (phases and steps with statuses, times, and inputs
 * and outputs as JSON-encoded strings; a disableLogging step's values
 * masked), the file itself, the step counts, the summary printed on
 * standard output, and the block the console shows for a failed step. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "logdir.h"
#include "records.h"
#include "vm.h"

/* A document's record.  When the document stopped early (an Abort, a
 * signal) or never started, `why_not_run` is the reason given to every
 * step of a selected phase that never ran: those are listed with status
 * "notrun" (and so are their phases and, if it never started, the
 * document).  With NULL, steps that did not run are left out. */
json_t *report_document(const struct doc_run *dr, const struct vm *vm, const char *why_not_run);

/* Adds a finished VM's steps to the counts: executed (an attempt began:
 * its action ran, or its inputs could not be rendered for it), failed,
 * ignored.  A step its condition aborted is failed, not executed. */
void report_count(const struct vm *vm, struct counts *c);

/* A step's inputs or outputs as detailedoutput.json shows them: every
 * value "***" for a disableLogging step. */
json_t *report_mask(const json_t *entries);

/* The whole detailedoutput.json object; takes the `documents` array. */
json_t *report_run(const char *execution_id, bool failed, const struct span *run, const char *failure,
                   json_t *documents);

/* The summary, as AWSTOE prints it. */
void report_summary(FILE *f, const char *execution_id, bool failed, const struct counts *c, const char *failure,
                    const char *log_url);

/* "Document <path> failed!" for the first document that failed, or NULL. */
char *report_failure_message(const struct doc_run *runs, size_t n);

/* Writes detailedoutput.json: each document that has a record, or that
 * ran (its record as it stands), in order.  A failure to write is logged. */
void report_write_detailed(struct logdir *log, const char *execution_id, bool failed, const struct span *run_span,
                           const struct doc_run *runs, struct vm *const *vms, size_t n);

/* The block AWSTOE writes on the console for a document's first failed
 * step. */
void report_failure_block(struct logdir *l, const struct doc_run *dr, const struct vm *vm);
