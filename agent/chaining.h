/* chaining.h: chaining.json, the log folder's record of how each
 * chaining expression ({{ phase.step.inputs|outputs[N].key }}) of the
 * run's documents was resolved.  AWS names the file ("optimizations that
 * AWSTOE applied to resolve chaining expressions") but not its form;
 * opentoe(1) describes this one.  opentoe binds every expression when it
 * compiles the document, to the producing step's slot in the document's
 * step table (stepIndex), its entry and key: nothing is looked up by
 * name while the run goes on.  The file lists those bindings, where each
 * is used, and, from the run's state, whether it had a value.  It holds
 * no values: they are in detailedoutput.json, masked where they must be. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "logdir.h"
#include "records.h"
#include "vm.h"

/* A document's records: its own, then those of the documents its
 * ExecuteDocument steps ran (dr->chains), in order; every record is
 * {name, filePath, calledBy, expressions}.  `vm` NULL: the document never
 * started (every expression "unused").  `caller` and `caller_step` name
 * the ExecuteDocument step that ran it, or NULL. */
json_t *chaining_document(const struct doc_run *dr, const struct vm *vm, const struct doc_run *caller,
                          size_t caller_step);

/* Writes chaining.json: the records of every document of the run, in
 * order (a finished one's saved records, else made from its VM).  A
 * failure to write is logged. */
void chaining_write(struct logdir *log, const char *execution_id, const struct doc_run *runs,
                    struct vm *const *vms, size_t n);
