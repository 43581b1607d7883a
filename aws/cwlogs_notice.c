/* cwlogs_notice.c: the CloudWatch Logs shipper's notices (through the
 * callback cwlogs_set_notice() gives), the record of its last error, and
 * the wall clock its events are stamped with. */
#include "cwlogs.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "errmsg.h"
#include "mkdirs.h"
#include "credentials.h"
#include "http.h"
#include "cwl_internal.h"
#include "strbuf.h"
#include "tunables.h"

int64_t cwl_wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cwl_say(struct cwlogs *s, const char *fmt, ...)
{
        if (!s->notice)
                return;
        struct strbuf b = STRBUF_INIT;
        va_list ap;

        va_start(ap, fmt);
        sb_vprintf(&b, fmt, ap);
        va_end(ap);
        s->notice(s->notice_data, sb_str(&b));
        sb_free(&b);
}

/* Records why something failed (and tells the notice callback); returns r. */
int cwl_set_error(struct cwlogs *s, int r, const char *fmt, ...)
{
        struct strbuf b = STRBUF_INIT;
        va_list ap;

        va_start(ap, fmt);
        sb_vprintf(&b, fmt, ap);
        va_end(ap);
        free(s->last_error);
        s->last_error = sb_take(&b);
        if (s->notice)
                s->notice(s->notice_data, s->last_error);
        return r;
}
