/* logdir.c: creating the TOE_* folder and writing its line logs (whole
 * files go through common/atomicfile.c). */
#include "logdir.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "mkdirs.h"
#include "strbuf.h"

int logdir_open(const char *parent, const char *execution_id, time_t start, struct logdir *ret, char **reterr)
{
        struct tm tm;
        char stamp[32];
        gmtime_r(&start, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%d_%H-%M-%S", &tm);
        *ret = (struct logdir){ 0 };
        int r = mkdir_parents(parent, 0755);
        if (r < 0) {
                *reterr = xasprintf("cannot create the log directory %s: %s", parent, strerror(-r));
                return r;
        }
        char *path = xasprintf("%s/TOE_%s_UTC-0_%s", parent, stamp, execution_id);
        if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                r = -errno;
                *reterr = xasprintf("cannot create %s: %s", path, strerror(errno));
                free(path);
                return r;
        }
        ret->path = path;
        _cleanup_free_ char *c = xasprintf("%s/console.log", path);
        _cleanup_free_ char *a = xasprintf("%s/application.log", path);
        ret->console = fopen(c, "ae");
        ret->app = fopen(a, "ae");
        if (!ret->console || !ret->app) {
                r = -errno;
                *reterr = xasprintf("cannot create the logs in %s: %s", path, strerror(errno));
                logdir_close(ret);
                return r;
        }
        /* Lines reach the file as they are written: a crash keeps them. */
        setvbuf(ret->console, NULL, _IOLBF, 0);
        setvbuf(ret->app, NULL, _IOLBF, 0);
        return 0;
}

void logdir_close(struct logdir *l)
{
        if (l->console)
                fclose(l->console);
        if (l->app)
                fclose(l->app);
        free(l->path);
        *l = (struct logdir){ 0 };
}

static void stamp_buf(struct strbuf *b)
{
        struct timespec ts;
        struct tm tm;
        char buf[32];
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
        sb_printf(b, "%s.%03ld ", buf, ts.tv_nsec / 1000000);
}

static void stamp(FILE *f)
{
        struct strbuf b = STRBUF_INIT;
        stamp_buf(&b);
        fputs(sb_str(&b), f);
        sb_free(&b);
}

/* Writes one finished line to console.log and hands it to the tee. */
static void console_line(struct logdir *l, struct strbuf *b)
{
        fwrite(b->s, 1, b->len, l->console);
        fputc('\n', l->console);
        if (l->tee)
                l->tee(l->tee_userdata, b->s, b->len);
}

void log_console(struct logdir *l, const char *fmt, ...)
{
        if (!l->console)
                return;
        struct strbuf b = STRBUF_INIT;
        va_list ap;
        stamp_buf(&b);
        sb_puts(&b, "Info ");
        va_start(ap, fmt);
        sb_vprintf(&b, fmt, ap);
        va_end(ap);
        console_line(l, &b);
        sb_free(&b);
}

void log_console_raw(struct logdir *l, const char *fmt, ...)
{
        if (!l->console)
                return;
        struct strbuf b = STRBUF_INIT;
        va_list ap;
        va_start(ap, fmt);
        sb_vprintf(&b, fmt, ap);
        va_end(ap);
        console_line(l, &b);
        sb_free(&b);
}

void log_console_n(struct logdir *l, const char *prefix, const char *text, size_t len)
{
        if (!l->console)
                return;
        struct strbuf b = STRBUF_INIT;
        stamp_buf(&b);
        sb_printf(&b, "Info %s", prefix);
        sb_append(&b, text, len);
        console_line(l, &b);
        sb_free(&b);
}

void log_app(struct logdir *l, const char *level, const char *fmt, ...)
{
        va_list ap;
        if (l->app) {
                stamp(l->app);
                fprintf(l->app, "%s ", level);
                va_start(ap, fmt);
                vfprintf(l->app, fmt, ap);
                va_end(ap);
                fputc('\n', l->app);
        }
        if (l->trace) {
                stamp(stderr);
                fprintf(stderr, "%s ", level);
                va_start(ap, fmt);
                vfprintf(stderr, fmt, ap);
                va_end(ap);
                fputc('\n', stderr);
        }
}


int logdir_write(struct logdir *l, const char *name, const char *data, size_t len)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", l->path, name);
        return write_file_atomic(p, data, len);
}

void format_rfc3339(const struct timespec *ts, char *buf, size_t size)
{
        struct tm tm;
        localtime_r(&ts->tv_sec, &tm);
        char base[32];
        strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
        long off = tm.tm_gmtoff;
        if (off == 0)
                snprintf(buf, size, "%sZ", base);
        else
                snprintf(buf, size, "%s%c%02ld:%02ld", base, off < 0 ? '-' : '+', labs(off) / 3600, (labs(off) % 3600) / 60);
}
