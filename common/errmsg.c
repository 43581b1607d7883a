/* errmsg.c: setting the message of the one error channel (errmsg.h). */
#include "errmsg.h"

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
