/* nested.h: what ExecuteDocument's nested runs need besides running the
 * VM (which is the runner's): the chain of documents being run (depth
 * and cycle checks), loading the nested document, its parameters and
 * phases, and its summary, detailed output and chaining records for the
 * step's outputs and the reports. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "program.h"
#include "records.h"
#include "vm.h"

#define MAX_NESTING 3  /* ExecuteDocument levels below the top document */

/* The documents being run, outermost first. */
struct doc_chain {
        char *real[MAX_NESTING + 2];            /* canonical paths (URIs and ARNs as given); owned */
        const char *shown[MAX_NESTING + 2];     /* the same, as written */
        size_t depth;
};

/* Checks that `path` may run inside the chain (not in it already, not
 * too deep).  Returns 0 with *ret_real (its canonical form, to push on
 * the chain), or a negative errno with *reterr. */
int nested_check(const struct doc_chain *c, const char *path, char **ret_real, char **reterr);

/* Loads and compiles the nested document: a file, an s3:// object (with
 * `s3_owner` the expected bucket owner, or NULL) or an Image Builder
 * component ARN, fetched into a private temporary file.  The program is
 * known by `path` (its source_path).  Returns 0 with *ret, or a negative
 * errno with *reterr.  The one loader of nested documents. */
int nested_load(const char *path, const char *s3_owner, struct program **ret, char **reterr);

/* ExecuteDocument's parameters (a list of {name, value}) as a parameter
 * map, and its comma-separated phases as a NULL-terminated list (NULL:
 * every phase). */
struct nested_args {
        json_t *params;
        char *phase_copy;
        const char *phase_list[65];
        size_t n_phases;
};
void nested_args_init(struct nested_args *a, const json_t *parameters, const char *phases);
void nested_args_done(struct nested_args *a);

/* The nested run's summary (the step's output), detailed output (one
 * element of the step's detailedOutput), both with its own execution id,
 * and its chaining.json records (chaining.h), `caller_step` of `caller`
 * being the ExecuteDocument step that ran it. */
void nested_results(const struct doc_run *dr, const struct vm *vm, const char *path, const struct doc_run *caller,
                    size_t caller_step, json_t **ret_summary, json_t **ret_detail, json_t **ret_chaining);
