/* fsjob.c: wording a file-system operation's failure on the one error
 * channel, the first message winning, and asking whether to stop
 * (fsjob.h). */
#include "fsjob.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "errmsg.h"
#include "strbuf.h"

/* Units of work between questions to j->stop. */
#define TICKS_PER_CHECK 64u

static int fail_v(char **reterr_msg, int r, bool with_errno, const char *fmt, va_list ap)
{
        int saved = errno;

        if (r >= 0)
                r = -EIO;
        if (reterr_msg && !*reterr_msg) {
                struct strbuf b = STRBUF_INIT;
                char text[128];

                sb_vprintf(&b, fmt, ap);
                if (with_errno)
                        sb_printf(&b, ": %s", go_strerror(r, text, sizeof text));
                *reterr_msg = sb_take(&b);
        }
        errno = saved;
        return r;
}

int fs_fail(char **reterr_msg, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        r = fail_v(reterr_msg, r, false, fmt, ap);
        va_end(ap);
        return r;
}

int fs_fail_errno(char **reterr_msg, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        r = fail_v(reterr_msg, r, true, fmt, ap);
        va_end(ap);
        return r;
}

void fs_clear(char **reterr_msg)
{
        if (reterr_msg) {
                free(*reterr_msg);
                *reterr_msg = NULL;
        }
}

int fs_reword(char **reterr_msg, int r, int which, const char *fmt, ...)
{
        va_list ap;

        if (r != which)
                return r;
        fs_clear(reterr_msg);
        va_start(ap, fmt);
        r = fail_v(reterr_msg, which, false, fmt, ap);
        va_end(ap);
        return r;
}

int fs_tick_now(struct fs_job *j, char **reterr_msg)
{
        int r;

        j->ticks = 0;
        if (!j->stop)
                return 0;
        r = j->stop(j, reterr_msg);
        if (r < 0)
                j->stopped = true;
        return r < 0 ? r : 0;
}

int fs_tick(struct fs_job *j, char **reterr_msg)
{
        if (!j->stop || ++j->ticks < TICKS_PER_CHECK)
                return 0;
        return fs_tick_now(j, reterr_msg);
}
