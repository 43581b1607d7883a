/* console.c: the console sink: each line a step prints goes to
 * console.log, marked with its stream as AWSTOE's newest console marks
 * it ("CmdExecution: Stdout: ", "CmdExecution: Stderr: "). */
#include "console.h"

#include "module.h"

void console_sink_line(struct logdir *log, int stream, const char *line, size_t len)
{
        log_console_n(log, stream == STREAM_STDERR ? "CmdExecution: Stderr: " : "CmdExecution: Stdout: ", line, len);
}
