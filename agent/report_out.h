/* report_out.h: a log folder's report written in one of its formats, to
 * a stream or to a file (replaced whole): what `opentoe report` and `run
 * --report` share. */
#pragma once

#include <stdio.h>

enum report_format { REPORT_TEXT, REPORT_HTML, REPORT_JSON };

/* "text", "html", "json" to a format: 0, or -EINVAL. */
int report_format_parse(const char *s, enum report_format *ret);
/* The format a file's name suggests (.txt, .json; else HTML). */
enum report_format report_format_for(const char *path);

/* Reads `folder` and writes its report to `out` (NULL: standard output)
 * in `fmt`.  0, or a negative errno with *reterr_msg. */
int report_write(const char *folder, enum report_format fmt, const char *out, char **reterr_msg);
