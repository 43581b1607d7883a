/* console.h: the console sink: a step's output on the console. */
#pragma once

#include <stddef.h>

#include "logdir.h"

/* One line a step printed, to console.log and standard output as AWSTOE
 * writes it: "Stdout: <line>" or "Stderr: <line>". */
void console_sink_line(struct logdir *log, int stream, const char *line, size_t len);
