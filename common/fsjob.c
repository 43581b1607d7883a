/* fsjob.c: wording a file-system operation's failure and asking whether
 * to stop (fsjob.h). */
#include "fsjob.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/* Units of work between questions to j->stop. */
#define TICKS_PER_CHECK 64u

const char *fs_strerror(int r, char *buf, size_t n)
{
        const char *s = strerror_r(r < 0 ? -r : r, buf, n);

        if (s != buf)
                snprintf(buf, n, "%s", s);
        if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
                buf[0] = (char)(buf[0] - 'A' + 'a');
        return buf;
}

static int fail_v(struct fs_job *j, int r, bool with_errno, const char *fmt, va_list ap)
{
        if (r >= 0)
                r = -EIO;
        if (!j->err) {
                struct strbuf b = STRBUF_INIT;
                char text[128];

                sb_vprintf(&b, fmt, ap);
                if (with_errno)
                        sb_printf(&b, ": %s", fs_strerror(r, text, sizeof text));
                j->err = sb_take(&b);
        }
        return r;
}

int fs_fail(struct fs_job *j, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        r = fail_v(j, r, false, fmt, ap);
        va_end(ap);
        return r;
}

int fs_fail_errno(struct fs_job *j, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        r = fail_v(j, r, true, fmt, ap);
        va_end(ap);
        return r;
}

void fs_clear(struct fs_job *j)
{
        free(j->err);
        j->err = NULL;
}

int fs_reword(struct fs_job *j, int r, int which, const char *fmt, ...)
{
        va_list ap;

        if (r != which)
                return r;
        fs_clear(j);
        va_start(ap, fmt);
        r = fail_v(j, which, false, fmt, ap);
        va_end(ap);
        return r;
}

int fs_tick_now(struct fs_job *j)
{
        int r;

        j->ticks = 0;
        if (!j->stop)
                return 0;
        r = j->stop(j);
        if (r < 0)
                j->stopped = true;
        return r < 0 ? r : 0;
}

int fs_tick(struct fs_job *j)
{
        if (!j->stop || ++j->ticks < TICKS_PER_CHECK)
                return 0;
        return fs_tick_now(j);
}
