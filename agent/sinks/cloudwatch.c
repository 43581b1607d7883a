/* cloudwatch.c: the CloudWatch Logs sink: opening the shipper on the
 * run's spool, spooling console lines, pumping, and the delivery report
 * at the end.  The shipping itself is aws/cwlogs.c's. */
#include "cloudwatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cwlogs.h"
#include "http.h"
#include "strbuf.h"

#define CW_PUMP_INTERVAL_MS 1000

static void notice(void *userdata, const char *msg)
{
        struct cw_sink *c = userdata;
        log_app(c->log, "Warning", "CloudWatch Logs: %s", msg);
}

int cw_sink_open(struct cw_sink *c, const struct run_options *o, struct logdir *log)
{
        c->log = log;
        if (!o->cw_group || !o->cw_stream)
                return 0;
        _cleanup_free_ char *spool = xasprintf("%s/cwlogs", o->state_directory);
        char *err = NULL;
        int e = cwlogs_open(o->cw_group, o->cw_stream, o->cw_region, spool, 0, &c->cw, &err);
        if (e < 0) {
                c->cw = NULL;
                c->failure = xasprintf("cannot stream to CloudWatch Logs group %s stream %s: %s", o->cw_group,
                                       o->cw_stream, err ? err : strerror(-e));
                fprintf(stderr, "%s run: %s%s\n", o->program_name, c->failure,
                        o->cw_ignore_failures ? " (ignored: --cw-ignore-failures)" : "");
                free(err);
                return -1;
        }
        cwlogs_set_notice(c->cw, notice, c);
        return 1;
}

void cw_sink_line(struct cw_sink *c, const char *line, size_t len)
{
        if (c->cw && cwlogs_append(c->cw, -1, line, len) < 0 && !c->failure)
                c->failure = xasprintf("cannot spool log lines: %s", cwlogs_last_error(c->cw));
}

void cw_sink_write_out(struct cw_sink *c)
{
        if (c->cw && cwlogs_write_out(c->cw) < 0 && !c->failure)
                c->failure = xasprintf("cannot spool log lines: %s", cwlogs_last_error(c->cw));
}

void cw_sink_pump(struct cw_sink *c, bool force)
{
        if (!c->cw)
                return;
        int64_t now = aws_now_ms();
        if (!force && now - c->last_pump_ms < CW_PUMP_INTERVAL_MS)
                return;
        c->last_pump_ms = now;
        cwlogs_pump(c->cw, now + (force ? 2000 : 300));
}

void cw_sink_close(struct cw_sink *c, int64_t wait_ms)
{
        if (!c->cw)
                return;
        struct cwlogs_report rep;
        int e = cwlogs_close(c->cw, aws_now_ms() + wait_ms, &rep);
        c->cw = NULL;
        char *line = cwlogs_report_summary(&rep);
        log_app(c->log, e < 0 ? "Error" : "Info", "CloudWatch Logs: %s", line);
        if ((e < 0 || rep.pending || rep.lost || rep.rejected) && !c->failure)
                c->failure = xasprintf("CloudWatch Logs delivery incomplete: %s", line);
        free(line);
        cwlogs_report_done(&rep);
}

void cw_sink_done(struct cw_sink *c)
{
        free(c->failure);
        c->failure = NULL;
}
