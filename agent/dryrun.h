/* dryrun.h: `opentoe run --dry-run`: the plan of each document (phases,
 * steps, inputs rendered as far as they are known, loops expanded,
 * conditions decided when they can be), printed on standard output;
 * nothing is run or written. */
#pragma once

#include <stddef.h>

#include "runner.h"

/* Prints the plan; returns 0. */
int dry_run(const struct run_options *o, struct run_doc *docs, size_t n);
