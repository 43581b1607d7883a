/* report_html.h: a log folder's report as one self-contained HTML file:
 * a timeline of the steps and iterations (SVG, drawn here), a table of
 * the slowest steps and the failures with their stderr tails.  No
 * script, no network; every string of the folder is escaped. */
#pragma once

#include <stdio.h>

#include "report_read.h"

/* Above this many rows, runs of short bars are drawn as one. */
#define REPORT_HTML_MAX_BARS 1000

void report_html(FILE *f, const struct report_data *d);
