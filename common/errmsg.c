/* errmsg.c: setting the message of the one error channel, and the one
 * errno-to-text in Go's words (errmsg.h). */
#include "errmsg.h"

#include <stdio.h>
#include <string.h>

#include "strbuf.h"

int errmsg_vset(char **reterr_msg, int err, const char *fmt, va_list ap)
{
        if (reterr_msg) {
                struct strbuf b = STRBUF_INIT;

                sb_vprintf(&b, fmt, ap);
                *reterr_msg = sb_take(&b);
        }
        return err;
}

int errmsg_set(char **reterr_msg, int err, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        errmsg_vset(reterr_msg, err, fmt, ap);
        va_end(ap);
        return err;
}

const char *go_strerror(int err, char *buf, size_t n)
{
        const char *s = strerror_r(err < 0 ? -err : err, buf, n);

        if (s != buf)
                snprintf(buf, n, "%s", s);
        if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
                buf[0] = (char)(buf[0] - 'A' + 'a');
        return buf;
}
