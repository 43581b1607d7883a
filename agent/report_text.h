/* report_text.h: a log folder's report as text (a table, slowest first,
 * and the failures) and as JSON (the same rows, for programs). */
#pragma once

#include <stdio.h>

#include "report_read.h"

void report_text(FILE *f, const struct report_data *d);
void report_json(FILE *f, const struct report_data *d);
