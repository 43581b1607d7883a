/* console.c: the console sink: each line a step prints goes to
 * console.log and opentoe's standard output, marked with its stream. */
#include "console.h"

#include "module.h"

void console_sink_line(struct logdir *log, int stream, const char *line, size_t len)
{
        log_console_n(log, stream == STREAM_STDERR ? "Stderr: " : "Stdout: ", line, len);
}
