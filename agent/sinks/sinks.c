/* sinks.c: the fan-out of a run's lines: every console.log line to each
 * shipping sink (CloudWatch Logs, the journal) and to the terminal's
 * --verbose echo, a step's output to the console sink and the live
 * line, the shipping sinks' pumping, and console.log's flush when the
 * loop is idle. */
#include "sinks.h"

#include <stdlib.h>

#include "sdevent_dl.h"

#include "console.h"

/* Every line console.log gets, as it is written. */
static void tee(void *userdata, const char *line, size_t len)
{
        struct sinks *s = userdata;
        cw_sink_line(&s->cw, line, len);
        journal_sink_line(&s->journal, line, len);
        live_console_line(&s->live, line, len);
}

/* The loop is idle: what console.log holds goes to the kernel. */
static int on_idle(sd_event_source *src, void *userdata)
{
        struct sinks *s = userdata;
        (void)src;
        logdir_flush_lines(s->log);
        cw_sink_write_out(&s->cw);
        return 0;
}

static void arm_flush(void *userdata)
{
        struct sinks *s = userdata;
        if (s->flush_src)
                (void)sdev->source_set_enabled(s->flush_src, SD_EVENT_ONESHOT);
}

void sinks_open(struct sinks *s, const struct run_options *o, struct logdir *log, struct sd_event *event)
{
        s->log = log;
        if (event && sdev->add_defer(event, &s->flush_src, on_idle, s) >= 0) {
                (void)sdev->source_set_priority(s->flush_src, SD_EVENT_PRIORITY_IDLE);
                (void)sdev->source_set_enabled(s->flush_src, SD_EVENT_OFF);
                log->unflushed = arm_flush;
                log->unflushed_userdata = s;
        }
        live_open(&s->live, o->live && !o->quiet ? LIVE_TTY : LIVE_OFF, o->verbose, event);
        int cw = cw_sink_open(&s->cw, o, log);
        int jn = o->no_journal ? 0 : journal_sink_open(&s->journal, o->execution_id);
        if (cw > 0 || jn > 0 || o->verbose) {
                log->tee = tee;
                log->tee_userdata = s;
        }
}

void sinks_step_line(struct sinks *s, int stream, const char *line, size_t len)
{
        console_sink_line(s->log, stream, line, len);
        live_output(&s->live, line, len);
        cw_sink_pump(&s->cw, false);
}

void sinks_set(struct sinks *s, enum journal_field f, const char *value)
{
        journal_sink_set(&s->journal, f, value);
}

void sinks_mark_next(struct sinks *s, enum journal_kind k)
{
        journal_sink_mark_next(&s->journal, k);
}

void sinks_step_ended(struct sinks *s)
{
        logdir_flush_lines(s->log);
        cw_sink_pump(&s->cw, true);
}

void sinks_close(struct sinks *s, int64_t wait_ms)
{
        if (s->log && s->log->tee == tee) {
                s->log->tee = NULL;
                s->log->tee_userdata = NULL;
        }
        if (s->log && s->log->unflushed == arm_flush) {
                s->log->unflushed = NULL;
                s->log->unflushed_userdata = NULL;
                logdir_flush_lines(s->log);
        }
        s->flush_src = s->flush_src ? sdev->source_disable_unref(s->flush_src) : NULL;
        cw_sink_close(&s->cw, wait_ms);
        journal_sink_close(&s->journal);
        live_close(&s->live);
}

const char *sinks_failure(const struct sinks *s)
{
        return s->cw.failure;
}

void sinks_done(struct sinks *s)
{
        cw_sink_done(&s->cw);
}
