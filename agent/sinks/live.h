/* live.h: what a person at a terminal sees of a run, on stderr: a line
 * per ended step (the --live step view), and, while a step runs on a
 * terminal, one line redrawn in place (phase/step, loop iteration and
 * value, attempt, elapsed time, the last line of its output) by a timer
 * on the run's loop at LIVE_HZ, only while a step runs.  --quiet shows
 * nothing (the summary on stdout stays); --verbose every console.log
 * line as written. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm.h"

#define LIVE_HZ 5

struct sd_event;
struct sd_event_source;

enum live_mode {
        LIVE_OFF,       /* nothing (not a terminal, --quiet, awstoe mode, --trace) */
        LIVE_LINES,     /* a line per ended step */
        LIVE_TTY,       /* ... and the line in place while a step runs */
};

struct live {
        enum live_mode mode;
        bool verbose;                   /* every console.log line too */
        bool color;                     /* not NO_COLOR, not TERM=dumb */
        int fd;                         /* stderr */
        struct sd_event *event;         /* the run's loop (borrowed) */
        struct sd_event_source *timer;  /* LIVE_TTY: enabled while a step runs */
        bool running, drawn;
        char *label;                    /* phase/step in flight */
        unsigned attempt, max_attempts;
        long iteration, n_iterations;   /* -1, 0: not a loop */
        char *value;                    /* the loop value, or NULL */
        int64_t start_ms;               /* monotonic, of the step */
        char last[512];                 /* the last line of its output */
};

/* `mode` as asked; LIVE_TTY becomes LIVE_LINES when TERM is dumb or the
 * timer cannot be made on `event`. */
void live_open(struct live *l, enum live_mode mode, bool verbose, struct sd_event *event);
void live_close(struct live *l);

/* A step (or its next attempt) begins / a loop iteration begins. */
void live_step_begin(struct live *l, const struct vm *vm, uint32_t index);
void live_iteration(struct live *l, const struct vm *vm, uint32_t index, long iteration);
/* A line of the step's output (the last one is shown). */
void live_output(struct live *l, const char *line, size_t len);
/* A console.log line as written (shown with --verbose). */
void live_console_line(struct live *l, const char *line, size_t len);

/* One line for a step that has ended ("[ok  ] phase/step  state  attempt
 * 1/1  0.01s"), and for a failed or ignored one the last lines of its
 * stderr (`stderr_tail`, or NULL); the line in place is cleared first. */
void live_step_ended(struct live *l, const struct vm *vm, uint32_t index, double seconds, const char *stderr_tail);
