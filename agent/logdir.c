/* logdir.c: creating and reopening the TOE_* folder through descriptors
 * (common/trust.c decides what may be trusted) and writing its line logs;
 * whole files go through common/atomicfile.c. */
#include "logdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "strbuf.h"
#include "trust.h"

#define FOLDER_WRITES (S_IWGRP | S_IWOTH)
/* console.log's buffer: a chatty step's lines leave in writes of this
 * size, not one write each. */
#define CONSOLE_BUFFER (64 * 1024)

/* Opens (or creates) one of the line logs of an opened folder: fully
 * buffered in `buffer` (CONSOLE_BUFFER bytes, the caller's), or
 * line-buffered when it is NULL. */
static FILE *open_log(struct logdir *l, const char *name, bool create, char *buffer, char **reterr)
{
        _cleanup_free_ char *shown = xasprintf("%s/%s", l->path, name);
        int fd = create ? -ENOENT
                        : trust_openat(l->dirfd, name, O_WRONLY | O_APPEND, 0, S_IFREG, FOLDER_WRITES, shown, reterr);
        if (fd == -ENOENT)
                fd = trust_openat(l->dirfd, name, O_WRONLY | O_APPEND | O_CREAT, LOGFILE_MODE, S_IFREG,
                                  FOLDER_WRITES, shown, reterr);
        if (fd < 0)
                return NULL;
        /* A line a crash cut short is ended before new ones follow. */
        struct stat st;
        char last = '\n';
        if (!create && fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) == 1 &&
            last != '\n' && write(fd, "\n", 1) != 1) {
                *reterr = xasprintf("cannot write to %s: %s", shown, strerror(errno));
                close(fd);
                return NULL;
        }
        FILE *f = fdopen(fd, "a");
        if (!f) {
                *reterr = xasprintf("cannot open %s: %s", shown, strerror(errno));
                close(fd);
                return NULL;
        }
        /* application.log: lines reach the file as they are written, so a
         * crash keeps them.  console.log: its owner flushes it when the
         * step's output pauses, at every checkpoint and at the end, so a
         * crash loses no line a checkpoint counted.  The buffer is given:
         * glibc ignores the size of one it allocates itself (st_blksize,
         * 4 KiB, instead). */
        setvbuf(f, buffer, buffer ? _IOFBF : _IOLBF, buffer ? CONSOLE_BUFFER : 0);
        return f;
}

static int open_logs(struct logdir *l, bool create, char **reterr)
{
        struct stat st;
        if (fstat(l->dirfd, &st) < 0)
                return -errno;
        l->ino = (uint64_t)st.st_ino;
        l->scripts_path = xasprintf("%s/scripts", l->path);
        l->console_buf = xmalloc(CONSOLE_BUFFER);
        l->console = open_log(l, "console.log", create, l->console_buf, reterr);
        if (!l->console)
                return -EPERM;
        l->app = open_log(l, "application.log", create, NULL, reterr);
        return l->app ? 0 : -EPERM;
}

char *logdir_name(const char *execution_id, time_t start, char **reterr)
{
        struct tm tm;
        char stamp[32];
        gmtime_r(&start, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%d_%H-%M-%S", &tm);
        char *name = xasprintf("TOE_%s_UTC-0_%s", stamp, execution_id);
        if (!*execution_id || strchr(execution_id, '/') || strlen(name) > 255) {
                *reterr = xasprintf("the execution id '%s' cannot be part of a folder name", execution_id);
                free(name);
                return NULL;
        }
        return name;
}

bool logdir_is_own_path(const char *path, const char *execution_id)
{
        const char *base = path ? strrchr(path, '/') : NULL;
        if (!base || path[0] != '/' || strstr(path, "/../") || strstr(path, "/./"))
                return false;
        base++;
        _cleanup_free_ char *suffix = xasprintf("_UTC-0_%s", execution_id);
        size_t bl = strlen(base), sl = strlen(suffix);
        return strncmp(base, "TOE_", 4) == 0 && bl > sl + 4 && strcmp(base + bl - sl, suffix) == 0;
}

int logdir_create(const char *parent, const char *execution_id, time_t start, struct logdir *ret, char **reterr)
{
        *ret = (struct logdir){ .dirfd = -1, .scripts_fd = -1 };
        *reterr = NULL;
        _cleanup_free_ char *name = logdir_name(execution_id, start, reterr);
        if (!name)
                return -EINVAL;
        _cleanup_close_ int pfd = trust_open_dir(parent, 0755, "the log directory", reterr);
        if (pfd < 0)
                return pfd;
        ret->path = xasprintf("%s/%s", parent, name);
        if (mkdirat(pfd, name, LOGDIR_MODE) < 0) {
                int e = errno;
                if (e == EEXIST)
                        *reterr = xasprintf("the log folder %s already exists; opentoe makes a new folder for each "
                                            "run and does not reuse one that is not its own (choose another "
                                            "--execution-id, or remove it)", ret->path);
                else
                        *reterr = xasprintf("cannot create %s: %s", ret->path, strerror(e));
                logdir_close(ret);
                return -e;
        }
        ret->dirfd = trust_openat(pfd, name, O_RDONLY, 0, S_IFDIR, FOLDER_WRITES, ret->path, reterr);
        int r = ret->dirfd < 0 ? ret->dirfd : open_logs(ret, true, reterr);
        if (r < 0)
                logdir_close(ret);
        return r;
}

/* Removes what a run that died left in scripts/. */
static void remove_stale_scripts(int fd)
{
        int dup_fd = dup(fd);
        DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
        if (!d) {
                if (dup_fd >= 0)
                        close(dup_fd);
                return;
        }
        struct dirent *e;
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                        (void)unlinkat(fd, e->d_name, 0);
        closedir(d);
}

/* A resumed run's first act in its folder: the scripts a dead run left
 * (a disableLogging step's among them) are removed at once. */
static void clean_scripts(struct logdir *l)
{
        char *err = NULL;
        int fd = trust_openat(l->dirfd, "scripts", O_RDONLY, 0, S_IFDIR, 077, l->scripts_path, &err);
        free(err);
        if (fd < 0)
                return;
        remove_stale_scripts(fd);
        l->scripts_fd = fd;
}

int logdir_reopen(const char *path, uint64_t ino, struct logdir *ret, bool *ret_recreated, char **reterr)
{
        *ret = (struct logdir){ .dirfd = -1, .scripts_fd = -1 };
        *ret_recreated = false;
        *reterr = NULL;
        _cleanup_free_ char *pcopy = xstrdup(path), *bcopy = xstrdup(path);
        const char *parent = dirname(pcopy), *base = basename(bcopy);
        _cleanup_close_ int pfd = trust_open_dir(parent, 0755, "the log directory", reterr);
        if (pfd < 0)
                return pfd;
        ret->path = xstrdup(path);
        ret->dirfd = trust_openat(pfd, base, O_RDONLY, 0, S_IFDIR, FOLDER_WRITES, path, reterr);
        if (ret->dirfd == -ENOENT) {
                if (mkdirat(pfd, base, LOGDIR_MODE) < 0) {
                        *reterr = xasprintf("cannot create %s again: %s", path, strerror(errno));
                        logdir_close(ret);
                        return -errno;
                }
                *ret_recreated = true;
                ret->dirfd = trust_openat(pfd, base, O_RDONLY, 0, S_IFDIR, FOLDER_WRITES, path, reterr);
        }
        if (ret->dirfd < 0) {
                int r = ret->dirfd;
                logdir_close(ret);
                return r;
        }
        int r = open_logs(ret, *ret_recreated, reterr);
        if (r >= 0 && !*ret_recreated && ino && ret->ino != ino) {
                *reterr = xasprintf("%s is not the log folder the saved state names (it was replaced: inode %llu, "
                                    "expected %llu); refusing to resume into it",
                                    path, (unsigned long long)ret->ino, (unsigned long long)ino);
                r = -EPERM;
        }
        if (r >= 0)
                clean_scripts(ret);
        if (r < 0)
                logdir_close(ret);
        return r;
}

void logdir_close(struct logdir *l)
{
        if (l->console)
                fclose(l->console);
        if (l->app)
                fclose(l->app);
        if (l->dirfd >= 0)
                close(l->dirfd);
        if (l->scripts_fd >= 0)
                close(l->scripts_fd);
        free_many(l->console_buf, l->path, l->scripts_path);
        sb_free(&l->line);
        *l = (struct logdir){ .dirfd = -1, .scripts_fd = -1 };
}


int logdir_scripts(struct logdir *l, char **reterr)
{
        *reterr = NULL;
        if (l->scripts_fd >= 0)
                return l->scripts_fd;
        if (l->dirfd < 0)
                return -EBADF;
        bool made = mkdirat(l->dirfd, "scripts", 0700) == 0;
        if (!made && errno != EEXIST) {
                *reterr = xasprintf("cannot create %s: %s", l->scripts_path, strerror(errno));
                return -errno;
        }
        l->scripts_fd = trust_openat(l->dirfd, "scripts", O_RDONLY, 0, S_IFDIR, 077, l->scripts_path, reterr);
        if (l->scripts_fd >= 0 && !made)
                remove_stale_scripts(l->scripts_fd);
        return l->scripts_fd;
}

void logdir_drop_scripts(struct logdir *l)
{
        const char *keep = getenv("OPENTOE_KEEP_SCRIPTS");
        if (l->scripts_fd >= 0 && (!keep || !*keep))
                remove_stale_scripts(l->scripts_fd);
        if (l->dirfd >= 0)
                (void)unlinkat(l->dirfd, "scripts", AT_REMOVEDIR);
}

void logdir_flush_lines(struct logdir *l)
{
        if (l->console && l->dirty)
                fflush(l->console);
        l->dirty = false;
}

long long logdir_flush(struct logdir *l)
{
        if (l->app)
                fflush(l->app);
        if (!l->console)
                return -1;
        fflush(l->console);
        l->dirty = false;
        struct stat st;
        return fstat(fileno(l->console), &st) == 0 ? (long long)st.st_size : -1;
}

int logdir_truncate_console(struct logdir *l, long long size)
{
        struct stat st;
        if (!l->console || size < 0)
                return -EINVAL;
        fflush(l->console);
        /* A file shorter than recorded (a power loss lost its end) keeps
         * what it has. */
        if (fstat(fileno(l->console), &st) < 0 || st.st_size <= (off_t)size)
                return 0;
        return ftruncate(fileno(l->console), (off_t)size) < 0 ? -errno : 0;
}
/* Appends `YYYY-MM-DD HH:MM:SS.mmm ` (UTC): the date and time are
 * formatted once a second, the milliseconds on every line. */
static void stamp_buf(struct logdir *l, struct strbuf *b)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        if (ts.tv_sec != l->stamp_sec || !l->stamp_text[0]) {
                struct tm tm;
                gmtime_r(&ts.tv_sec, &tm);
                if (strftime(l->stamp_text, sizeof l->stamp_text, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                        l->stamp_text[0] = '\0';
                l->stamp_sec = ts.tv_sec;
        }
        unsigned ms = (unsigned)(ts.tv_nsec / 1000000);
        const char tail[5] = { '.', (char)('0' + ms / 100), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10), ' ' };
        sb_puts(b, l->stamp_text);
        sb_append(b, tail, sizeof tail);
}

/* The stamp of an application.log (or --trace) line: in a buffer of its
 * own, since a console line may be being built when one is logged. */
static void stamp(struct logdir *l, FILE *f)
{
        struct strbuf b = STRBUF_INIT;
        stamp_buf(l, &b);
        fwrite(b.s, 1, b.len, f);
        sb_free(&b);
}

/* The reused line buffer, emptied. */
static struct strbuf *line_begin(struct logdir *l)
{
        l->line.len = 0;
        return &l->line;
}

/* Writes the built line to console.log and hands it to the tee. */
static void console_line(struct logdir *l)
{
        struct strbuf *b = &l->line;
        sb_putc(b, '\n');
        fwrite(b->s, 1, b->len, l->console);
        b->s[--b->len] = '\0';
        if (!l->dirty) {
                l->dirty = true;
                if (l->unflushed)
                        l->unflushed(l->unflushed_userdata);
        }
        if (l->tee)
                l->tee(l->tee_userdata, b->s, b->len);
}

/* One console line: the stamp and "Info " first when `info`. */
static void console_vprintf(struct logdir *l, bool info, const char *fmt, va_list ap)
{
        if (!l->console || l->muted)
                return;
        struct strbuf *b = line_begin(l);
        if (info) {
                stamp_buf(l, b);
                sb_puts(b, "Info ");
        }
        sb_vprintf(b, fmt, ap);
        console_line(l);
}

void log_console(struct logdir *l, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        console_vprintf(l, true, fmt, ap);
        va_end(ap);
}

void log_console_raw(struct logdir *l, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        console_vprintf(l, false, fmt, ap);
        va_end(ap);
}

void log_console_n(struct logdir *l, const char *prefix, const char *text, size_t len)
{
        if (!l->console || l->muted)
                return;
        struct strbuf *b = line_begin(l);
        stamp_buf(l, b);
        sb_puts(b, "Info ");
        sb_puts(b, prefix);
        sb_append(b, text, len);
        console_line(l);
}

void log_app(struct logdir *l, const char *level, const char *fmt, ...)
{
        va_list ap;
        if (l->muted)
                return;
        if (l->app) {
                stamp(l, l->app);
                fprintf(l->app, "%s ", level);
                va_start(ap, fmt);
                vfprintf(l->app, fmt, ap);
                va_end(ap);
                fputc('\n', l->app);
        }
        if (l->trace) {
                stamp(l, stderr);
                fprintf(stderr, "%s ", level);
                va_start(ap, fmt);
                vfprintf(stderr, fmt, ap);
                va_end(ap);
                fputc('\n', stderr);
        }
}


int logdir_write(struct logdir *l, const char *name, const char *data, size_t len)
{
        if (l->dirfd < 0)
                return -EBADF;
        return write_file_atomic_at(l->dirfd, name, data, len, LOGFILE_MODE);
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

char *logdir_absolute(const char *path)
{
        if (path[0] == '/')
                return xstrdup(path);
        char *cwd = getcwd(NULL, 0);
        char *abs = xasprintf("%s/%s", cwd ? cwd : ".", path);
        free(cwd);
        return abs;
}
