/* journal.c: the journald sink (journal.h): one entry per console line,
 * with the run's fields; what decides a line's PRIORITY and MESSAGE_ID. */
#include "journal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cleanup.h"
#include "sdevent_dl.h"
#include "strbuf.h"
#include "system.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define JOURNAL_MAX_LINE (64 * 1024) /* longer lines are cut (journald's own line max is 48 KiB) */

static const char *const field_names[_JOURNAL_FIELD_MAX] = {
        [JOURNAL_DOCUMENT] = "OPENTOE_DOCUMENT=", [JOURNAL_PHASE] = "OPENTOE_PHASE=",
        [JOURNAL_STEP] = "OPENTOE_STEP=",         [JOURNAL_ACTION] = "OPENTOE_ACTION=",
        [JOURNAL_STATUS] = "OPENTOE_STATUS=",
};

bool journal_present(void)
{
        const char *v = getenv("OPENTOE_JOURNAL");
        if (v && !strcmp(v, "0"))
                return false;
        if (sys_test_root() && !(v && !strcmp(v, "1")))
                return false;
        return access(JOURNAL_SOCKET, W_OK) == 0;
}

/* One entry: MESSAGE, PRIORITY, the run's fields that are set and, when
 * given, a MESSAGE_ID.  Values are sent as they are (sd_journal_sendv
 * frames those holding a newline). */
static void send_entry(struct journal_sink *j, const char *msg, size_t len, int priority, const char *mid,
                       const char *status)
{
        struct iovec iov[4 + _JOURNAL_FIELD_MAX + 2];
        struct strbuf b[4 + _JOURNAL_FIELD_MAX + 2];
        int n = 0;
        for (size_t k = 0; k < sizeof b / sizeof b[0]; k++)
                b[k] = (struct strbuf)STRBUF_INIT;
        if (len > JOURNAL_MAX_LINE)
                len = JOURNAL_MAX_LINE;
        sb_puts(&b[n], "MESSAGE=");
        sb_append(&b[n++], msg, len);
        sb_printf(&b[n++], "PRIORITY=%d", priority);
        sb_puts(&b[n++], "SYSLOG_IDENTIFIER=opentoe");
        sb_printf(&b[n++], "OPENTOE_EXECUTION_ID=%s", j->execution_id);
        for (int f = 0; f < _JOURNAL_FIELD_MAX; f++) {
                const char *v = f == JOURNAL_STATUS && status ? status : j->field[f];
                if (v)
                        sb_printf(&b[n++], "%s%s", field_names[f], v);
        }
        if (mid)
                sb_printf(&b[n++], "MESSAGE_ID=%s", mid);
        for (int k = 0; k < n; k++)
                iov[k] = (struct iovec){ .iov_base = b[k].s, .iov_len = b[k].len };
        (void)sdev->journal_sendv(iov, n); /* a journal that went away loses lines, never the run */
        for (size_t k = 0; k < sizeof b / sizeof b[0]; k++)
                sb_free(&b[k]);
}

int journal_sink_open(struct journal_sink *j, const char *execution_id)
{
        *j = (struct journal_sink){ 0 };
        char *err = NULL;
        if (!journal_present())
                return 0;
        if (sdev_load(&err) < 0) {
                free(err);
                return 0;
        }
        j->on = true;
        j->execution_id = xstrdup(execution_id ? execution_id : "");
        _cleanup_free_ char *msg = xasprintf("Execution %s started", j->execution_id);
        send_entry(j, msg, strlen(msg), 6, JOURNAL_MID_RUN_STARTED, NULL);
        return 1;
}

void journal_sink_set(struct journal_sink *j, enum journal_field f, const char *value)
{
        if (!j->on)
                return;
        for (int k = f; k < _JOURNAL_FIELD_MAX; k++) {
                free(j->field[k]);
                j->field[k] = NULL;
        }
        j->field[f] = value ? xstrdup(value) : NULL;
}

void journal_sink_mark_next(struct journal_sink *j, enum journal_kind k)
{
        j->next = k;
}

/* "2026-12-02 04:08:05.123 Info " */
static size_t stamp_length(const char *l, size_t len)
{
        static const char shape[] = "dddd-dd-dd dd:dd:dd.ddd ";
        size_t n = sizeof shape - 1;
        if (len < n + 5)
                return 0;
        for (size_t k = 0; k < n; k++)
                if (shape[k] == 'd' ? !isdigit((unsigned char)l[k]) : l[k] != shape[k])
                        return 0;
        return memcmp(l + n, "Info ", 5) ? 0 : n + 5;
}

static bool starts(const char *s, size_t len, const char *p)
{
        size_t n = strlen(p);
        return len >= n && !memcmp(s, p, n);
}

void journal_sink_line(struct journal_sink *j, const char *line, size_t len)
{
        if (!j->on)
                return;
        size_t skip = stamp_length(line, len);
        const char *msg = line + skip;
        size_t n = len - skip;
        int priority = 6;
        const char *mid = NULL, *status = NULL;
        switch (j->next) {
        case JOURNAL_ERROR:
                priority = 3;
                break;
        case JOURNAL_STEP_FAILED:
                priority = 4;
                mid = JOURNAL_MID_STEP_FAILED;
                status = "failed";
                break;
        case JOURNAL_RUN_FINISHED_OK:
                mid = JOURNAL_MID_RUN_FINISHED;
                status = "success";
                break;
        case JOURNAL_RUN_FINISHED_FAILED:
                priority = 3;
                mid = JOURNAL_MID_RUN_FINISHED;
                status = "failed";
                break;
        case JOURNAL_OUTPUT:
                if (!skip)
                        priority = 4; /* the failure block */
                else if (starts(msg, n, "Warning: "))
                        priority = 4;
                else if (starts(msg, n, "Cannot "))
                        priority = 3;
                break;
        }
        j->next = JOURNAL_OUTPUT;
        if (n == 0)
                return; /* the failure block's blank line */
        send_entry(j, msg, n, priority, mid, status);
}

void journal_sink_close(struct journal_sink *j)
{
        for (int k = 0; k < _JOURNAL_FIELD_MAX; k++) {
                free(j->field[k]);
                j->field[k] = NULL;
        }
        free(j->execution_id);
        j->execution_id = NULL;
        j->on = false;
}
