/* fsutil.c: file-system helpers shared by the file-system action modules.
 * This file owns the entry driver (running a list action's entries in
 * order and wording which one failed), path handling, `*` wildcards,
 * mkdir -p, temporary files and folders renamed over their targets, the
 * recursive walk (openat/fstatat, never following symbolic links, at most
 * FS_MAX_DEPTH levels), copying files and trees, moving with a
 * copy-then-delete fallback across file systems, text encodings through
 * iconv, and owner and mode parsing. */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <iconv.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "strbuf.h"
#include "tunables.h"

/* Bytes moved per copy_file_range/sendfile call, between deadline checks. */
#define COPY_CHUNK (64u * 1024u * 1024u)
/* Bytes of the read/write fallback buffer. */
#define COPY_BUF (128u * 1024u)
/* Walk entries between looks at the clock. */
#define TICKS_PER_CLOCK 64u

/* ---- failures ----------------------------------------------------------- */

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

int fs_tick(struct fs_job *j)
{
        if (!j->ctx || j->ctx->deadline_ms < 0)
                return 0;
        if (++j->ticks < TICKS_PER_CLOCK)
                return 0;
        j->ticks = 0;
        if (monotonic_ms() < j->ctx->deadline_ms)
                return 0;
        j->timed_out = true;
        return fs_fail(j, -ETIME, "the step timed out before the entry was done");
}

/* ---- the entry driver ---------------------------------------------------- */

const char *fs_entry_str(const json_t *entry, const char *name)
{
        const char *s = json_string_value(json_object_get(entry, name));

        return s ? s : "";
}

bool fs_entry_bool(const json_t *entry, const char *name, bool dflt)
{
        const json_t *v = json_object_get(entry, name);

        return json_is_boolean(v) ? json_is_true(v) : dflt;
}

int fs_run_entries(const struct action_ctx *ctx, const json_t *inputs, const char *key, fs_entry_fn fn,
                   struct action_result *ret)
{
        json_t *outputs = json_array();
        const json_t *entry;
        size_t i;

        *ret = (struct action_result){ .status = ACTION_SUCCESS, .exit_code = -1 };
        if (!json_is_array(inputs)) {
                ret->status = ACTION_FAILED;
                ret->message = xstrdup("inputs must be a list of entries");
                ret->outputs = outputs;
                return 0;
        }
        json_array_foreach(inputs, i, entry) {
                struct fs_job j = { .ctx = ctx };
                json_t *out;
                int r;

                if (!json_is_object(entry)) {
                        ret->status = ACTION_FAILED;
                        ret->message = xasprintf("entry %zu: is not a map of inputs", i + 1);
                        break;
                }
                out = json_object();
                r = fn(&j, entry, out);
                if (r < 0) {
                        const char *what = fs_entry_str(entry, key);
                        const char *why = j.err ? j.err : "failed";

                        ret->status = j.timed_out ? ACTION_TIMED_OUT : ACTION_FAILED;
                        ret->message = *what ? xasprintf("entry %zu (%s): %s", i + 1, what, why)
                                             : xasprintf("entry %zu: %s", i + 1, why);
                        free(j.err);
                        json_decref(out);
                        break;
                }
                free(j.err);
                json_array_append_new(outputs, out);
        }
        ret->outputs = outputs;
        return 0;
}

/* ---- paths --------------------------------------------------------------- */

bool fs_ends_with_sep(const char *path)
{
        size_t n = strlen(path);

        return n > 0 && path[n - 1] == '/';
}

/* Length of `path` without trailing separators (but "/" stays "/"). */
static size_t trimmed_len(const char *path)
{
        size_t n = strlen(path);

        while (n > 1 && path[n - 1] == '/')
                n--;
        return n;
}

char *fs_basename(const char *path)
{
        size_t n = trimmed_len(path), s = n;

        if (n == 0)
                return xstrdup(".");
        if (n == 1 && path[0] == '/')
                return xstrdup("/");
        while (s > 0 && path[s - 1] != '/')
                s--;
        return xstrndup(path + s, n - s);
}

char *fs_dirname(const char *path)
{
        size_t n = trimmed_len(path);

        if (n == 1 && path[0] == '/')
                return xstrdup("/");
        while (n > 0 && path[n - 1] != '/')
                n--;
        if (n == 0)
                return xstrdup(".");
        while (n > 1 && path[n - 1] == '/')
                n--;
        return xstrndup(path, n);
}

char *fs_join(const char *dir, const char *name)
{
        if (!*dir)
                return xstrdup(name);
        if (fs_ends_with_sep(dir))
                return xasprintf("%s%s", dir, name);
        return xasprintf("%s/%s", dir, name);
}

/* Appends the elements of `rel` to the absolute, normalised `b`. */
static void normalise_into(struct strbuf *b, const char *rel)
{
        const char *p = rel;

        while (*p) {
                const char *e = strchr(p, '/');
                size_t n = e ? (size_t)(e - p) : strlen(p);

                if (n == 0 || (n == 1 && p[0] == '.')) {
                        /* nothing */
                } else if (n == 2 && p[0] == '.' && p[1] == '.') {
                        while (b->len > 1 && b->s[b->len - 1] != '/')
                                b->len--;
                        if (b->len > 1)
                                b->len--;
                        b->s[b->len] = '\0';
                } else {
                        if (b->len > 1)
                                sb_putc(b, '/');
                        sb_append(b, p, n);
                }
                p += n;
                if (*p == '/')
                        p++;
        }
}

char *fs_absolute(const char *path)
{
        struct strbuf b = STRBUF_INIT;

        sb_putc(&b, '/');
        if (path[0] != '/') {
                _cleanup_free_ char *cwd = getcwd(NULL, 0);

                if (cwd)
                        normalise_into(&b, cwd);
        }
        normalise_into(&b, path);
        return sb_take(&b);
}

char *fs_resolve(const char *path)
{
        _cleanup_free_ char *abs = fs_absolute(path);
        size_t n = strlen(abs);

        for (;;) {
                char saved = abs[n];
                char *real;

                abs[n] = '\0';
                real = realpath(n ? abs : "/", NULL);
                abs[n] = saved;
                if (real) {
                        struct strbuf b = STRBUF_INIT;

                        sb_puts(&b, real);
                        free(real);
                        normalise_into(&b, abs + n);
                        return sb_take(&b);
                }
                if (errno != ENOENT && errno != ENOTDIR)
                        return NULL;
                if (n <= 1)
                        return NULL;
                while (n > 0 && abs[n - 1] != '/')
                        n--;
                if (n > 1)
                        n--;
        }
}

bool fs_path_within(const char *inner, const char *outer)
{
        size_t n = strlen(outer);

        if (n == 1 && outer[0] == '/')
                return true;
        return strncmp(inner, outer, n) == 0 && (inner[n] == '\0' || inner[n] == '/');
}

/* ---- wildcards ------------------------------------------------------------- */

bool fs_has_wildcard(const char *path)
{
        const char *last = strrchr(path, '/');

        return strchr(last ? last + 1 : path, '*') != NULL;
}

int fs_check_wildcard(struct fs_job *j, const char *path)
{
        const char *star = strchr(path, '*'), *last = strrchr(path, '/');

        if (star && last && star < last)
                return fs_fail(j, -EINVAL, "a * wildcard is accepted only after the last path separator");
        return 0;
}

bool fs_match(const char *pattern, const char *name)
{
        _cleanup_free_ char *pat = xmalloc(2 * strlen(pattern) + 1);
        char *q = pat;

        for (const char *p = pattern; *p; p++) {
                if (*p == '?' || *p == '[' || *p == '\\')
                        *q++ = '\\';
                *q++ = *p;
        }
        *q = '\0';
        return fnmatch(pat, name, 0) == 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void fs_strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

int fs_glob(struct fs_job *j, const char *path, enum fs_kind kind, char ***ret, size_t *ret_n)
{
        const char *last = strrchr(path, '/');
        const char *pattern = last ? last + 1 : path;
        _cleanup_free_ char *dir = last ? xstrndup(path, (size_t)(last - path) + 1) : xstrdup("./");
        size_t prefix = last ? (size_t)(last - path) + 1 : 0;
        char **v = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        DIR *d;
        int r = 0;

        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT) {
                        *ret = xcalloc(1, sizeof(char *));
                        *ret_n = 0;
                        return 0;
                }
                return fs_fail_errno(j, -errno, "cannot read the folder %s", dir);
        }
        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno)
                                r = fs_fail_errno(j, -errno, "cannot read the folder %s", dir);
                        break;
                }
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (!fs_match(pattern, de->d_name))
                        continue;
                if (kind == FS_NOT_FOLDERS) {
                        struct stat st;

                        if (de->d_type == DT_DIR)
                                continue;
                        if ((de->d_type == DT_LNK || de->d_type == DT_UNKNOWN) &&
                            fstatat(dirfd(d), de->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode))
                                continue;
                }
                if (n + 2 > cap) {
                        cap = cap ? 2 * cap : 16;
                        v = xrealloc(v, cap * sizeof(char *));
                }
                v[n++] = xasprintf("%.*s%s", (int)prefix, path, de->d_name);
        }
        closedir(d);
        if (r < 0) {
                if (v) {
                        v[n] = NULL;
                        fs_strv_free(v);
                }
                return r;
        }
        if (!v)
                v = xcalloc(1, sizeof(char *));
        v[n] = NULL;
        qsort(v, n, sizeof(char *), cmp_str);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- creating and replacing ------------------------------------------------ */

mode_t fs_umask(void)
{
        static mode_t mask;
        static bool known;

        if (!known) {
                mask = umask(022);
                umask(mask);
                known = true;
        }
        return mask;
}

int fs_mkdir_p(struct fs_job *j, const char *path, mode_t mode)
{
        _cleanup_free_ char *p = xstrndup(path, trimmed_len(path));
        struct stat st;

        if (!*p || stat(p, &st) == 0) {
                if (*p && !S_ISDIR(st.st_mode))
                        return fs_fail(j, -ENOTDIR, "cannot create the folder %s: a file of that name exists", p);
                return 0;
        }
        for (char *s = p + 1;; s++) {
                bool end = *s == '\0';

                if (*s != '/' && !end)
                        continue;
                if (s[-1] != '/') {
                        *s = '\0';
                        if (mkdir(p, mode) < 0) {
                                int e = errno;

                                if (e != EEXIST)
                                        return fs_fail_errno(j, -e, "cannot create the folder %s", p);
                                if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
                                        return fs_fail(j, -ENOTDIR,
                                                       "cannot create the folder %s: a file of that name exists", p);
                        }
                }
                if (end)
                        break;
                *s = '/';
        }
        return 0;
}

int fs_mkdir_parent(struct fs_job *j, const char *path)
{
        _cleanup_free_ char *dir = fs_dirname(path);

        return fs_mkdir_p(j, dir, 0777);
}

void fs_tmp_name(char *buf, size_t n, const char *base)
{
        static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        static unsigned long counter;
        unsigned char rnd[6];
        char x[7];

        if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
                unsigned long v = (unsigned long)monotonic_ms() * 2654435761u ^ (unsigned long)getpid() ^ ++counter * 40503u;

                for (size_t i = 0; i < sizeof rnd; i++, v >>= 5)
                        rnd[i] = (unsigned char)v;
        }
        for (size_t i = 0; i < sizeof rnd; i++)
                x[i] = chars[rnd[i] % (sizeof chars - 1)];
        x[6] = '\0';
        snprintf(buf, n, ".%.40s.opentoe-%s", base, x);
}

static int tmp_open_dir(struct fs_job *j, const char *target, struct fs_tmp *t)
{
        _cleanup_free_ char *dir = fs_dirname(target);
        _cleanup_free_ char *base = fs_basename(target);

        if (!strcmp(base, "/") || !strcmp(base, ".") || !strcmp(base, ".."))
                return fs_fail(j, -EINVAL, "%s does not name a file", target);
        t->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (t->dirfd < 0)
                return fs_fail_errno(j, -errno, "cannot open the folder %s", dir);
        t->target = TAKE_PTR(base);
        return 0;
}

int fs_tmp_file(struct fs_job *j, const char *target, struct fs_tmp *t)
{
        int r = tmp_open_dir(j, target, t);

        if (r < 0)
                return r;
        for (int tries = 0; tries < 100; tries++) {
                fs_tmp_name(t->name, sizeof t->name, t->target);
                t->fd = openat(t->dirfd, t->name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (t->fd >= 0)
                        return 0;
                if (errno != EEXIST)
                        break;
        }
        r = -errno;
        t->name[0] = '\0';
        return fs_fail_errno(j, r, "cannot create %s", target);
}

int fs_tmp_dir(struct fs_job *j, const char *target, struct fs_tmp *t)
{
        int r = tmp_open_dir(j, target, t);

        if (r < 0)
                return r;
        t->is_dir = true;
        for (int tries = 0; tries < 100; tries++) {
                fs_tmp_name(t->name, sizeof t->name, t->target);
                if (mkdirat(t->dirfd, t->name, 0700) == 0) {
                        t->fd = openat(t->dirfd, t->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (t->fd >= 0)
                                return 0;
                        return fs_fail_errno(j, -errno, "cannot open the new folder %s", target);
                }
                if (errno != EEXIST)
                        break;
        }
        r = -errno;
        t->name[0] = '\0';
        return fs_fail_errno(j, r, "cannot create %s", target);
}

int fs_tmp_symlink(struct fs_job *j, const char *dest, const char *target, struct fs_tmp *t)
{
        int r = tmp_open_dir(j, target, t);

        if (r < 0)
                return r;
        for (int tries = 0; tries < 100; tries++) {
                fs_tmp_name(t->name, sizeof t->name, t->target);
                if (symlinkat(dest, t->dirfd, t->name) == 0)
                        return 0;
                if (errno != EEXIST)
                        break;
        }
        r = -errno;
        t->name[0] = '\0';
        return fs_fail_errno(j, r, "cannot create %s", target);
}

/* rename without replacing; for file systems without RENAME_NOREPLACE, a
 * hard link for files and a checked rename for folders. */
static int rename_noreplace(int olddir, const char *oldname, int newdir, const char *newname)
{
        struct stat st;

        if (renameat2(olddir, oldname, newdir, newname, RENAME_NOREPLACE) == 0)
                return 0;
        if (errno != EINVAL && errno != ENOSYS)
                return -errno;
        if (fstatat(olddir, oldname, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode)) {
                if (linkat(olddir, oldname, newdir, newname, 0) < 0)
                        return -errno;
                (void)unlinkat(olddir, oldname, 0);
                return 0;
        }
        if (fstatat(newdir, newname, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return -EEXIST;
        return renameat(olddir, oldname, newdir, newname) < 0 ? -errno : 0;
}

int fs_tmp_commit(struct fs_job *j, struct fs_tmp *t, bool replace, const char *display)
{
        int r;

        if (t->fd >= 0) {
                r = close(t->fd);
                t->fd = -1;
                if (r < 0)
                        return fs_fail_errno(j, -errno, "cannot write %s", display);
        }
        if (replace)
                r = renameat(t->dirfd, t->name, t->dirfd, t->target) < 0 ? -errno : 0;
        else
                r = rename_noreplace(t->dirfd, t->name, t->dirfd, t->target);
        if (r == -EEXIST || r == -ENOTEMPTY)
                return fs_fail(j, -EEXIST, "%s already exists", display);
        if (r < 0)
                return fs_fail_errno(j, r, "cannot put %s in place", display);
        t->name[0] = '\0';
        return 0;
}

void fs_tmp_done(struct fs_tmp *t)
{
        if (t->fd >= 0)
                close(t->fd);
        t->fd = -1;
        if (t->name[0] && t->dirfd >= 0) {
                if (t->is_dir) {
                        struct fs_job j = { 0 };

                        (void)fs_remove_tree(&j, t->dirfd, t->name, t->name);
                        free(j.err);
                } else
                        (void)unlinkat(t->dirfd, t->name, 0);
        }
        t->name[0] = '\0';
        if (t->dirfd >= 0)
                close(t->dirfd);
        t->dirfd = -1;
        free(t->target);
        t->target = NULL;
}

int fs_write_all(int fd, const void *buf, size_t n)
{
        const char *p = buf;

        while (n > 0) {
                ssize_t w = write(fd, p, n);

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

static int copy_by_read(struct fs_job *j, int in, int out)
{
        static char buf[COPY_BUF];

        for (;;) {
                ssize_t n = read(in, buf, sizeof buf);
                int r;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return 0;
                r = fs_write_all(out, buf, (size_t)n);
                if (r < 0)
                        return r;
                r = fs_tick(j);
                if (r < 0)
                        return r;
        }
}

int fs_copy_data(struct fs_job *j, int in, int out, off_t size)
{
        off_t done = 0;

        if (size <= 0)
                return copy_by_read(j, in, out);
        /* copy_file_range first (in the kernel, reflinks where the file
         * system can), sendfile next, read/write last.  A file that grows
         * while it is copied is copied up to the size it had. */
        while (done < size) {
                size_t want = (size - done) > (off_t)COPY_CHUNK ? COPY_CHUNK : (size_t)(size - done);
                ssize_t n = copy_file_range(in, NULL, out, NULL, want, 0);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (done == 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
                                          errno == EOPNOTSUPP || errno == EBADF || errno == EPERM))
                                break;
                        return -errno;
                }
                if (n == 0) {
                        if (done == 0)
                                break;     /* some pseudo file systems say nothing: read instead */
                        return 0;
                }
                done += n;
                if (j->ctx && j->ctx->deadline_ms >= 0 && done < size) {
                        j->ticks = TICKS_PER_CLOCK;
                        if (fs_tick(j) < 0)
                                return -ETIME;
                }
        }
        if (done >= size)
                return 0;
        for (;;) {
                ssize_t n = sendfile(out, in, NULL, COPY_CHUNK);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EINVAL || errno == ENOSYS)
                                break;
                        return -errno;
                }
                if (n == 0)
                        return 0;
                j->ticks = TICKS_PER_CLOCK;
                if (fs_tick(j) < 0)
                        return -ETIME;
        }
        return copy_by_read(j, in, out);
}

/* ---- walking ---------------------------------------------------------------- */

static size_t path_push(struct fs_walk *w, const char *name)
{
        size_t old = w->path_len, n = strlen(name);
        bool sep = old > 0 && w->path[old - 1] != '/';

        if (old + n + 2 > w->path_cap) {
                w->path_cap = (old + n + 2) * 2;
                w->path = xrealloc(w->path, w->path_cap);
        }
        if (sep)
                w->path[w->path_len++] = '/';
        memcpy(w->path + w->path_len, name, n + 1);
        w->path_len += n;
        return old;
}

static void path_pop(struct fs_walk *w, size_t old)
{
        w->path_len = old;
        w->path[old] = '\0';
}

const char *fs_walk_path(const struct fs_walk *w)
{
        return w->path ? w->path : "";
}

static int walk_children(struct fs_walk *w, DIR *d, unsigned depth);

static int walk_folder(struct fs_walk *w, int dirfd, const char *name, unsigned depth)
{
        unsigned max = w->max_depth ? w->max_depth : FS_MAX_DEPTH;
        int fd, r, r2;
        DIR *d;

        if (depth > max)
                return fs_fail(w->job, -ELOOP, "folders nest more than %u levels deep at %s", max, w->path);
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;     /* gone meanwhile */
                return fs_fail_errno(w->job, -errno, "cannot open the folder %s", w->path);
        }
        r = w->visit(w, FS_VISIT_DIR_PRE, dirfd, name, DT_DIR, fd, depth);
        if (r < 0) {
                close(fd);
                return r;
        }
        if (r != FS_SKIP) {
                d = fdopendir(fd);
                if (!d) {
                        r = fs_fail_errno(w->job, -errno, "cannot read the folder %s", w->path);
                        close(fd);
                        return r;
                }
                r = walk_children(w, d, depth + 1);
                if (r < 0) {
                        closedir(d);
                        return r;
                }
                r2 = w->visit(w, FS_VISIT_DIR_POST, dirfd, name, DT_DIR, fd, depth);
                closedir(d);
                return r2 < 0 ? r2 : 0;
        }
        r2 = w->visit(w, FS_VISIT_DIR_POST, dirfd, name, DT_DIR, fd, depth);
        close(fd);
        return r2 < 0 ? r2 : 0;
}

static int walk_children(struct fs_walk *w, DIR *d, unsigned depth)
{
        int dfd = dirfd(d);

        for (;;) {
                struct dirent *de;
                const char *name;
                size_t old;
                int type, r;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno)
                                return fs_fail_errno(w->job, -errno, "cannot read the folder %s", w->path);
                        return 0;
                }
                name = de->d_name;
                if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
                        continue;
                r = fs_tick(w->job);
                if (r < 0)
                        return r;
                type = de->d_type;
                if (type == DT_UNKNOWN) {
                        struct stat st;

                        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                                if (errno == ENOENT)
                                        continue;
                                return fs_fail_errno(w->job, -errno, "cannot examine %s/%s", w->path, name);
                        }
                        type = IFTODT(st.st_mode);
                }
                old = path_push(w, name);
                if (type == DT_DIR)
                        r = walk_folder(w, dfd, name, depth);
                else
                        r = w->visit(w, FS_VISIT_FILE, dfd, name, type, -1, depth);
                path_pop(w, old);
                if (r < 0)
                        return r;
        }
}

int fs_walk(struct fs_walk *w, int rootfd, const char *root)
{
        int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        DIR *d;
        int r;

        w->path_len = 0;
        path_push(w, root);
        if (fd < 0)
                return fs_fail_errno(w->job, -errno, "cannot read the folder %s", root);
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return fs_fail_errno(w->job, r, "cannot read the folder %s", root);
        }
        r = walk_children(w, d, 1);
        closedir(d);
        return r;
}

static void walk_free(struct fs_walk *w)
{
        free(w->path);
        w->path = NULL;
}

/* ---- removing ---------------------------------------------------------------- */

static int remove_visit(struct fs_walk *w, enum fs_visit v, int dirfd, const char *name, int type, int fd,
                        unsigned depth)
{
        if (v == FS_VISIT_DIR_PRE)
                return 0;
        if (unlinkat(dirfd, name, v == FS_VISIT_DIR_POST ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
                return fs_fail_errno(w->job, -errno, "cannot delete %s", fs_walk_path(w));
        return 0;
}

int fs_remove_tree(struct fs_job *j, int dirfd, const char *name, const char *display)
{
        struct fs_walk w = { .job = j, .visit = remove_visit };
        int fd, r;

        if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return fs_fail_errno(j, -errno, "cannot delete %s", display);
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return fs_fail_errno(j, -errno, "cannot delete %s", display);
        r = fs_walk(&w, fd, display);
        close(fd);
        walk_free(&w);
        if (r < 0)
                return r;
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return fs_fail_errno(j, -errno, "cannot delete %s", display);
        return 0;
}

/* ---- copying ------------------------------------------------------------------ */

/* Owner, group, mode and times of `st` onto an open file or folder. */
static int preserve_fd(struct fs_job *j, int fd, const struct stat *st, const char *display)
{
        struct timespec times[2] = { st->st_atim, st->st_mtim };

        if (fchown(fd, st->st_uid, st->st_gid) < 0 && errno != EPERM)
                return fs_fail_errno(j, -errno, "cannot set the owner of %s", display);
        if (fchmod(fd, st->st_mode & 07777) < 0)
                return fs_fail_errno(j, -errno, "cannot set the mode of %s", display);
        if (futimens(fd, times) < 0)
                return fs_fail_errno(j, -errno, "cannot set the times of %s", display);
        return 0;
}

/* The same for a name that may be a symbolic link (not followed). */
static int preserve_at(struct fs_job *j, int dirfd, const char *name, const struct stat *st, const char *display)
{
        struct timespec times[2] = { st->st_atim, st->st_mtim };

        if (fchownat(dirfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM)
                return fs_fail_errno(j, -errno, "cannot set the owner of %s", display);
        if (!S_ISLNK(st->st_mode) && fchmodat(dirfd, name, st->st_mode & 07777, 0) < 0)
                return fs_fail_errno(j, -errno, "cannot set the mode of %s", display);
        if (utimensat(dirfd, name, times, AT_SYMLINK_NOFOLLOW) < 0)
                return fs_fail_errno(j, -errno, "cannot set the times of %s", display);
        return 0;
}

/* The mode bits a copy gets: all of them when preserving; otherwise the
 * permission bits and the sticky bit (set-id bits would otherwise move to
 * a file now owned by us). */
static mode_t copy_mode(const struct stat *st, unsigned flags)
{
        return st->st_mode & ((flags & FS_COPY_PRESERVE) ? 07777 : 01777);
}

struct copy_state {
        unsigned flags;
        bool merge;                             /* into an existing tree */
        int dst[FS_MAX_DEPTH + 2];              /* dst[d]: folder receiving entries of depth d + 1 */
        bool made[FS_MAX_DEPTH + 2];            /* dst[d] was created by this copy */
        struct stat dst_st[FS_MAX_DEPTH + 2];   /* the source folder's stat, for made folders */
};

/* Creates `name` in `dstdir` as the copy of one non-folder entry; in a
 * merge through a temporary name renamed over the old entry. */
static int copy_entry(struct fs_walk *w, struct copy_state *cs, int srcdir, const char *name, int type,
                      int dstdir)
{
        struct fs_job *j = w->job;
        const char *display = fs_walk_path(w);
        char tmp[96];
        const char *out_name = name;
        struct stat st, old;
        int r = 0;

        if (cs->merge) {
                if (fstatat(dstdir, name, &old, AT_SYMLINK_NOFOLLOW) == 0) {
                        if (S_ISDIR(old.st_mode))
                                return fs_fail(j, -EISDIR, "cannot replace a folder with the file %s", display);
                        if (!(cs->flags & FS_COPY_REPLACE))
                                return fs_fail(j, -EEXIST, "the copy of %s already exists", display);
                }
                fs_tmp_name(tmp, sizeof tmp, name);
                out_name = tmp;
        }

        if (type == DT_REG) {
                _cleanup_close_ int in = -1, out = -1;
                mode_t mode, made;

                in = openat(srcdir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
                if (in < 0)
                        return fs_fail_errno(j, -errno, "cannot open %s", display);
                if (fstat(in, &st) < 0)
                        return fs_fail_errno(j, -errno, "cannot examine %s", display);
                mode = copy_mode(&st, cs->flags);
                out = openat(dstdir, out_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                             mode & 0777);
                if (out < 0)
                        return fs_fail_errno(j, -errno, "cannot create the copy of %s", display);
                r = fs_copy_data(j, in, out, st.st_size);
                if (r < 0) {
                        if (r != -ETIME)
                                fs_fail_errno(j, r, "cannot copy %s", display);
                } else if (cs->flags & FS_COPY_PRESERVE) {
                        r = preserve_fd(j, out, &st, display);
                } else {
                        made = mode & 0777 & ~fs_umask();
                        if (made != mode && fchmod(out, mode) < 0)
                                r = fs_fail_errno(j, -errno, "cannot set the mode of the copy of %s", display);
                }
                if (r >= 0) {
                        int fd = out;

                        out = -1;
                        if (close(fd) < 0)
                                r = fs_fail_errno(j, -errno, "cannot write the copy of %s", display);
                }
        } else if (type == DT_LNK) {
                char target[PATH_MAX + 1];
                ssize_t n = readlinkat(srcdir, name, target, sizeof target - 1);

                if (n < 0)
                        return fs_fail_errno(j, -errno, "cannot read the link %s", display);
                target[n] = '\0';
                if (symlinkat(target, dstdir, out_name) < 0)
                        return fs_fail_errno(j, -errno, "cannot create the copy of the link %s", display);
                if ((cs->flags & FS_COPY_PRESERVE) && fstatat(srcdir, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        r = preserve_at(j, dstdir, out_name, &st, display);
        } else {
                if (fstatat(srcdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return fs_fail_errno(j, -errno, "cannot examine %s", display);
                if (mknodat(dstdir, out_name, (st.st_mode & S_IFMT) | copy_mode(&st, cs->flags), st.st_rdev) < 0)
                        return fs_fail_errno(j, -errno, "cannot create the copy of %s", display);
                if (cs->flags & FS_COPY_PRESERVE)
                        r = preserve_at(j, dstdir, out_name, &st, display);
        }

        if (r >= 0 && cs->merge && renameat(dstdir, out_name, dstdir, name) < 0)
                r = fs_fail_errno(j, -errno, "cannot put the copy of %s in place", display);
        if (r < 0)
                (void)unlinkat(dstdir, out_name, 0);
        return r;
}

static int copy_visit(struct fs_walk *w, enum fs_visit v, int dirfd, const char *name, int type, int fd,
                      unsigned depth)
{
        struct copy_state *cs = w->userdata;
        struct fs_job *j = w->job;
        int dstdir = cs->dst[depth - 1];
        struct stat old;

        switch (v) {
        case FS_VISIT_FILE:
                return copy_entry(w, cs, dirfd, name, type, dstdir);
        case FS_VISIT_DIR_PRE:
                if (fstat(fd, &cs->dst_st[depth]) < 0)
                        return fs_fail_errno(j, -errno, "cannot examine %s", fs_walk_path(w));
                cs->made[depth] = true;
                if (cs->merge && fstatat(dstdir, name, &old, AT_SYMLINK_NOFOLLOW) == 0) {
                        if (!S_ISDIR(old.st_mode))
                                return fs_fail(j, -ENOTDIR, "cannot replace a file with the folder %s",
                                               fs_walk_path(w));
                        cs->made[depth] = false;
                } else if (mkdirat(dstdir, name, 0700) < 0)
                        return fs_fail_errno(j, -errno, "cannot create the copy of %s", fs_walk_path(w));
                cs->dst[depth] = openat(dstdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (cs->dst[depth] < 0)
                        return fs_fail_errno(j, -errno, "cannot open the copy of %s", fs_walk_path(w));
                return 0;
        case FS_VISIT_DIR_POST: {
                int out = cs->dst[depth], r = 0;

                cs->dst[depth] = -1;
                if (cs->made[depth]) {
                        if (cs->flags & FS_COPY_PRESERVE)
                                r = preserve_fd(j, out, &cs->dst_st[depth], fs_walk_path(w));
                        else if (fchmod(out, copy_mode(&cs->dst_st[depth], cs->flags)) < 0)
                                r = fs_fail_errno(j, -errno, "cannot set the mode of the copy of %s",
                                                  fs_walk_path(w));
                }
                close(out);
                return r;
        }
        }
        return 0;
}

static int copy_tree(struct fs_job *j, int srcfd, const char *src, int dstfd, bool merge, unsigned flags)
{
        struct copy_state *cs = xcalloc(1, sizeof *cs);
        struct fs_walk w = { .job = j, .visit = copy_visit, .userdata = cs };
        int r;

        cs->flags = flags;
        cs->merge = merge;
        for (size_t i = 0; i < ELEMENTSOF(cs->dst); i++)
                cs->dst[i] = -1;
        cs->dst[0] = dstfd;
        r = fs_walk(&w, srcfd, src);
        for (size_t i = 1; i < ELEMENTSOF(cs->dst); i++)
                if (cs->dst[i] >= 0)
                        close(cs->dst[i]);
        walk_free(&w);
        free(cs);
        return r;
}

int fs_copy_file_fd(struct fs_job *j, int srcfd, const struct stat *st, const char *target, unsigned flags)
{
        struct fs_tmp t = FS_TMP_INIT;
        struct stat old;
        mode_t mode = copy_mode(st, flags);
        int r;

        if (lstat(target, &old) == 0) {
                if (S_ISDIR(old.st_mode))
                        return fs_fail(j, -EISDIR, "%s is a folder", target);
                if (!(flags & FS_COPY_REPLACE))
                        return fs_fail(j, -EEXIST, "%s already exists", target);
        }
        r = fs_tmp_file(j, target, &t);
        if (r >= 0) {
                r = fs_copy_data(j, srcfd, t.fd, st->st_size);
                if (r < 0 && r != -ETIME)
                        r = fs_fail_errno(j, r, "cannot copy to %s", target);
        }
        if (r >= 0) {
                if (flags & FS_COPY_PRESERVE)
                        r = preserve_fd(j, t.fd, st, target);
                else if (fchmod(t.fd, mode) < 0)
                        r = fs_fail_errno(j, -errno, "cannot set the mode of %s", target);
        }
        if (r >= 0)
                r = fs_tmp_commit(j, &t, flags & FS_COPY_REPLACE, target);
        fs_tmp_done(&t);
        return r;
}

int fs_copy_tree_new(struct fs_job *j, int srcfd, const char *src, const char *target, unsigned flags)
{
        struct fs_tmp t = FS_TMP_INIT;
        struct stat st;
        int r;

        if (fstat(srcfd, &st) < 0)
                return fs_fail_errno(j, -errno, "cannot examine %s", src);
        r = fs_tmp_dir(j, target, &t);
        if (r >= 0)
                r = copy_tree(j, srcfd, src, t.fd, false, flags);
        if (r >= 0) {
                if (flags & FS_COPY_PRESERVE)
                        r = preserve_fd(j, t.fd, &st, target);
                else if (fchmod(t.fd, copy_mode(&st, flags)) < 0)
                        r = fs_fail_errno(j, -errno, "cannot set the mode of %s", target);
        }
        if (r >= 0)
                r = fs_tmp_commit(j, &t, false, target);
        fs_tmp_done(&t);
        return r;
}

int fs_copy_tree_merge(struct fs_job *j, int srcfd, const char *src, const char *target, unsigned flags)
{
        _cleanup_close_ int dstfd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (dstfd < 0)
                return fs_fail_errno(j, -errno, "cannot open the folder %s", target);
        return copy_tree(j, srcfd, src, dstfd, true, flags);
}

/* ---- moving ---------------------------------------------------------------------- */

/* A move across file systems: a copy that keeps everything, then the
 * source deleted. */
static int move_by_copy(struct fs_job *j, const char *src, const char *target, bool replace)
{
        struct stat st;
        int r;

        if (lstat(src, &st) < 0)
                return fs_fail_errno(j, -errno, "cannot examine %s", src);
        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int fd = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                if (fd < 0)
                        return fs_fail_errno(j, -errno, "cannot open the folder %s", src);
                r = fs_copy_tree_new(j, fd, src, target, FS_COPY_PRESERVE);
        } else if (S_ISREG(st.st_mode)) {
                _cleanup_close_ int fd = open(src, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);

                if (fd < 0)
                        return fs_fail_errno(j, -errno, "cannot open %s", src);
                r = fs_copy_file_fd(j, fd, &st, target, FS_COPY_PRESERVE | (replace ? FS_COPY_REPLACE : 0));
        } else {
                /* A link or special file: made under a temporary name. */
                struct fs_tmp t = FS_TMP_INIT;

                r = tmp_open_dir(j, target, &t);
                if (r >= 0) {
                        fs_tmp_name(t.name, sizeof t.name, t.target);
                        if (S_ISLNK(st.st_mode)) {
                                char buf[PATH_MAX + 1];
                                ssize_t n = readlink(src, buf, sizeof buf - 1);

                                if (n < 0)
                                        r = fs_fail_errno(j, -errno, "cannot read the link %s", src);
                                else {
                                        buf[n] = '\0';
                                        if (symlinkat(buf, t.dirfd, t.name) < 0)
                                                r = fs_fail_errno(j, -errno, "cannot create %s", target);
                                }
                        } else if (mknodat(t.dirfd, t.name, st.st_mode, st.st_rdev) < 0)
                                r = fs_fail_errno(j, -errno, "cannot create %s", target);
                        if (r < 0)
                                t.name[0] = '\0';
                }
                if (r >= 0)
                        r = preserve_at(j, t.dirfd, t.name, &st, target);
                if (r >= 0)
                        r = fs_tmp_commit(j, &t, replace, target);
                fs_tmp_done(&t);
        }
        if (r < 0)
                return r;
        return fs_remove_tree(j, AT_FDCWD, src, src);
}

int fs_move(struct fs_job *j, const char *src, const char *target, bool replace)
{
        int r;

        if (replace)
                r = rename(src, target) < 0 ? -errno : 0;
        else
                r = rename_noreplace(AT_FDCWD, src, AT_FDCWD, target);
        if (r == 0)
                return 0;
        if (r == -EXDEV)
                return move_by_copy(j, src, target, replace);
        if (r == -EEXIST || r == -ENOTEMPTY)
                return fs_fail(j, -EEXIST, "%s already exists", target);
        return fs_fail_errno(j, r, "cannot move %s to %s", src, target);
}

struct merge_state {
        int dst[FS_MAX_DEPTH + 2];
        bool moved[FS_MAX_DEPTH + 2];
};

static int merge_visit(struct fs_walk *w, enum fs_visit v, int dirfd, const char *name, int type, int fd,
                       unsigned depth)
{
        struct merge_state *ms = w->userdata;
        struct fs_job *j = w->job;
        int dstdir = ms->dst[depth - 1];
        struct stat old;
        bool exists = v != FS_VISIT_DIR_POST && fstatat(dstdir, name, &old, AT_SYMLINK_NOFOLLOW) == 0;

        switch (v) {
        case FS_VISIT_FILE:
                if (exists && S_ISDIR(old.st_mode))
                        return fs_fail(j, -EISDIR, "cannot replace a folder with the file %s", fs_walk_path(w));
                if (renameat(dirfd, name, dstdir, name) < 0)
                        return fs_fail_errno(j, -errno, "cannot move %s", fs_walk_path(w));
                return 0;
        case FS_VISIT_DIR_PRE:
                ms->moved[depth] = false;
                if (!exists) {
                        if (renameat(dirfd, name, dstdir, name) < 0)
                                return fs_fail_errno(j, -errno, "cannot move %s", fs_walk_path(w));
                        ms->moved[depth] = true;
                        return FS_SKIP;
                }
                if (!S_ISDIR(old.st_mode))
                        return fs_fail(j, -ENOTDIR, "cannot replace a file with the folder %s", fs_walk_path(w));
                ms->dst[depth] = openat(dstdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (ms->dst[depth] < 0)
                        return fs_fail_errno(j, -errno, "cannot open the folder receiving %s", fs_walk_path(w));
                return 0;
        case FS_VISIT_DIR_POST:
                if (ms->moved[depth])
                        return 0;
                close(ms->dst[depth]);
                ms->dst[depth] = -1;
                if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
                        return fs_fail_errno(j, -errno, "cannot delete the moved folder %s", fs_walk_path(w));
                return 0;
        }
        return 0;
}

int fs_move_merge(struct fs_job *j, const char *src, const char *target)
{
        _cleanup_close_ int srcfd = -1, dstfd = -1;
        struct stat s1, s2;
        int r;

        srcfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (srcfd < 0)
                return fs_fail_errno(j, -errno, "cannot open the folder %s", src);
        dstfd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dstfd < 0)
                return fs_fail_errno(j, -errno, "cannot open the folder %s", target);
        if (fstat(srcfd, &s1) < 0 || fstat(dstfd, &s2) < 0)
                return fs_fail_errno(j, -errno, "cannot examine %s", src);
        if (s1.st_dev != s2.st_dev) {
                r = copy_tree(j, srcfd, src, dstfd, true, FS_COPY_PRESERVE | FS_COPY_REPLACE);
        } else {
                struct merge_state *ms = xcalloc(1, sizeof *ms);
                struct fs_walk w = { .job = j, .visit = merge_visit, .userdata = ms };

                for (size_t i = 0; i < ELEMENTSOF(ms->dst); i++)
                        ms->dst[i] = -1;
                ms->dst[0] = dstfd;
                r = fs_walk(&w, srcfd, src);
                for (size_t i = 1; i < ELEMENTSOF(ms->dst); i++)
                        if (ms->dst[i] >= 0)
                                close(ms->dst[i]);
                walk_free(&w);
                free(ms);
        }
        if (r < 0)
                return r;
        return fs_remove_tree(j, AT_FDCWD, src, src);
}

/* ---- copy and move entries -------------------------------------------------------- */

int fs_sources(struct fs_job *j, const char *source, const char *destination, enum fs_kind kind, char ***ret,
               size_t *ret_n, bool *ret_wildcard)
{
        int r = fs_check_wildcard(j, source);

        if (r < 0)
                return r;
        *ret_wildcard = fs_has_wildcard(source);
        if (!*ret_wildcard) {
                char **v = xcalloc(2, sizeof(char *));

                v[0] = xstrdup(source);
                *ret = v;
                *ret_n = 1;
                return 0;
        }
        if (!fs_ends_with_sep(destination))
                return fs_fail(j, -EINVAL,
                               "a source with a * wildcard needs a destination folder, ending with /");
        r = fs_glob(j, source, kind, ret, ret_n);
        if (r < 0)
                return r;
        if (*ret_n == 0) {
                fs_strv_free(*ret);
                *ret = NULL;
                return fs_fail(j, -ENOENT, "nothing matches the source");
        }
        return 0;
}

char *fs_target(const char *src, const char *destination)
{
        _cleanup_free_ char *base = NULL;

        if (!fs_ends_with_sep(destination))
                return xstrdup(destination);
        base = fs_basename(src);
        return fs_join(destination, base);
}

int fs_copy_file_to(struct fs_job *j, int srcfd, const struct stat *st, const char *target, bool overwrite)
{
        _cleanup_free_ char *real = NULL;
        struct stat old;
        int r;

        if (lstat(target, &old) == 0) {
                if (S_ISLNK(old.st_mode)) {
                        real = realpath(target, NULL);
                        if (real && stat(real, &old) == 0)
                                target = real;
                }
                if (old.st_dev == st->st_dev && old.st_ino == st->st_ino)
                        return fs_fail(j, -EINVAL, "the source and the destination are the same file");
                if (S_ISDIR(old.st_mode))
                        return fs_fail(j, -EISDIR, "the destination %s is a folder", target);
                if (!overwrite)
                        return fs_fail(j, -EEXIST, "the destination %s already exists and overwrite is false",
                                       target);
        }
        r = fs_mkdir_parent(j, target);
        if (r < 0)
                return r;
        r = fs_copy_file_fd(j, srcfd, st, target, overwrite ? FS_COPY_REPLACE : 0);
        if (r == -EEXIST) {
                fs_clear(j);
                return fs_fail(j, -EEXIST, "the destination %s already exists and overwrite is false", target);
        }
        return r;
}

int fs_move_file_to(struct fs_job *j, const char *src, const char *target, bool overwrite)
{
        struct stat st, old;
        int r;

        if (lstat(src, &st) < 0)
                return fs_fail_errno(j, -errno, "cannot examine %s", src);
        if (lstat(target, &old) == 0) {
                if (old.st_dev == st.st_dev && old.st_ino == st.st_ino)
                        return fs_fail(j, -EINVAL, "the source and the destination are the same file");
                if (S_ISDIR(old.st_mode))
                        return fs_fail(j, -EISDIR, "the destination %s is a folder", target);
                if (!overwrite)
                        return fs_fail(j, -EEXIST, "the destination %s already exists and overwrite is false",
                                       target);
        }
        r = fs_mkdir_parent(j, target);
        if (r < 0)
                return r;
        r = fs_move(j, src, target, overwrite);
        if (r == -EEXIST) {
                fs_clear(j);
                return fs_fail(j, -EEXIST, "the destination %s already exists and overwrite is false", target);
        }
        return r;
}

/* ---- encodings ------------------------------------------------------------------ */

static const struct {
        const char *name, *iconv;
} encodings[] = {
        { "utf8", "UTF-8" },         { "utf-8", "UTF-8" },         { "utf16", "UTF-16LE" },
        { "utf-16", "UTF-16LE" },    { "utf16-le", "UTF-16LE" },   { "utf-16-le", "UTF-16LE" },
        { "utf16-be", "UTF-16BE" },  { "utf-16-be", "UTF-16BE" },  { "utf32", "UTF-32LE" },
        { "utf-32", "UTF-32LE" },    { "utf32-le", "UTF-32LE" },   { "utf-32-le", "UTF-32LE" },
        { "utf32-be", "UTF-32BE" },  { "utf-32-be", "UTF-32BE" },
};

const char *fs_encoding(const char *name)
{
        if (!*name)
                return "UTF-8";
        for (size_t i = 0; i < ELEMENTSOF(encodings); i++)
                if (!strcasecmp(name, encodings[i].name))
                        return encodings[i].iconv;
        return NULL;
}

/* Length of the well-formed UTF-8 sequence at p (as Go accepts them: no
 * surrogates, no overlong forms, at most U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
        unsigned char c = p[0];

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
        if (c >= 0xe0 && c <= 0xef) {
                unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;

                return n >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
        }
        if (c >= 0xf0 && c <= 0xf4) {
                unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;

                return n >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80
                               ? 4
                               : 0;
        }
        return 0;
}

static void sanitise_utf8(const char *data, size_t len, struct strbuf *b)
{
        const unsigned char *p = (const unsigned char *)data;
        size_t i = 0, start = 0;

        while (i < len) {
                size_t k = utf8_len(p + i, len - i);

                if (k) {
                        i += k;
                        continue;
                }
                sb_append(b, data + start, i - start);
                sb_append(b, "\xef\xbf\xbd", 3);
                i++;
                start = i;
        }
        sb_append(b, data + start, len - start);
}

/* iconv over a whole buffer; with `unit` > 0, undecodable input becomes
 * U+FFFD (`unit` bytes skipped), else -EILSEQ. */
static int convert(const char *to, const char *from, const char *data, size_t len, size_t unit, struct strbuf *b)
{
        iconv_t cd = iconv_open(to, from);
        char *in = (char *)data;
        size_t left = len;
        char out[8192];

        if (cd == (iconv_t)-1)
                return -errno;
        for (;;) {
                char *o = out;
                size_t room = sizeof out;
                size_t n = iconv(cd, left ? &in : NULL, left ? &left : NULL, &o, &room);
                int e = errno;

                sb_append(b, out, (size_t)(o - out));
                if (n != (size_t)-1) {
                        if (!left) {
                                o = out;
                                room = sizeof out;
                                (void)iconv(cd, NULL, NULL, &o, &room);
                                sb_append(b, out, (size_t)(o - out));
                                break;
                        }
                        continue;
                }
                if (e == E2BIG)
                        continue;
                if ((e == EILSEQ || e == EINVAL) && unit) {
                        size_t skip = left < unit ? left : unit;

                        sb_append(b, "\xef\xbf\xbd", 3);
                        in += skip;
                        left -= skip;
                        continue;
                }
                iconv_close(cd);
                return e == EINVAL ? -EILSEQ : -e;
        }
        iconv_close(cd);
        return 0;
}

/* Bytes read per step of fs_recode(). */
#define RECODE_CHUNK (64u * 1024u)

int fs_recode(struct fs_job *j, int in, int out, const char *enc, const char *display)
{
        _cleanup_free_ char *ibuf = xmalloc(RECODE_CHUNK + 4);
        _cleanup_free_ char *obuf = xmalloc(4 * RECODE_CHUNK + 16);
        bool utf8 = !strcmp(enc, "UTF-8");
        iconv_t cd = (iconv_t)-1;
        size_t have = 0;
        off_t pos = 0;
        int r = 0;

        if (!utf8) {
                cd = iconv_open(enc, "UTF-8");
                if (cd == (iconv_t)-1)
                        return fs_fail_errno(j, -errno, "cannot convert to %s", enc);
        }
        for (;;) {
                ssize_t n = read(in, ibuf + have, RECODE_CHUNK);
                const unsigned char *p = (const unsigned char *)ibuf;
                size_t ok = 0;
                bool eof;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = fs_fail_errno(j, -errno, "cannot read %s", display);
                        break;
                }
                eof = n == 0;
                have += (size_t)n;
                /* The well-formed prefix; an incomplete sequence at the end
                 * waits for the next read. */
                while (ok < have) {
                        size_t k = utf8_len(p + ok, have - ok);

                        if (k) {
                                ok += k;
                                continue;
                        }
                        if (!eof && have - ok < 4)
                                break;
                        r = fs_fail(j, -EILSEQ, "%s is not UTF-8 text (byte %lld)", display,
                                    (long long)(pos + (off_t)ok));
                        break;
                }
                if (r < 0)
                        break;
                if (utf8 && out >= 0)
                        r = fs_write_all(out, ibuf, ok);
                else if (!utf8) {
                        char *ip = ibuf, *op = obuf;
                        size_t ileft = ok, oleft = 4 * RECODE_CHUNK + 16;

                        if (iconv(cd, &ip, &ileft, &op, &oleft) == (size_t)-1)
                                r = -errno;
                        else
                                r = fs_write_all(out, obuf, (size_t)(op - obuf));
                }
                if (r < 0) {
                        r = fs_fail_errno(j, r, "cannot convert %s", display);
                        break;
                }
                memmove(ibuf, ibuf + ok, have - ok);
                have -= ok;
                pos += (off_t)ok;
                if (eof)
                        break;
                r = fs_tick(j);
                if (r < 0)
                        break;
        }
        if (cd != (iconv_t)-1)
                iconv_close(cd);
        return r;
}

int fs_encode(struct fs_job *j, const char *enc, const char *text, size_t len, char **ret, size_t *ret_len)
{
        struct strbuf b = STRBUF_INIT;
        int r;

        if (!strcmp(enc, "UTF-8")) {
                sb_append(&b, text, len);
        } else {
                r = convert(enc, "UTF-8", text, len, 0, &b);
                if (r < 0) {
                        sb_free(&b);
                        return fs_fail_errno(j, r, "cannot convert the content to %s", enc);
                }
        }
        *ret_len = b.len;
        *ret = b.s ? sb_take(&b) : xstrdup("");
        return 0;
}

int fs_decode(const char *enc, const char *data, size_t len, char **ret, size_t *ret_len)
{
        struct strbuf b = STRBUF_INIT;
        int r = 0;

        if (!strcmp(enc, "UTF-8"))
                sanitise_utf8(data, len, &b);
        else
                r = convert("UTF-8", enc, data, len, strstr(enc, "32") ? 4 : 2, &b);
        if (r < 0) {
                sb_free(&b);
                return r;
        }
        *ret_len = b.len;
        *ret = b.s ? sb_take(&b) : xstrdup("");
        return 0;
}

/* ---- owners and modes ----------------------------------------------------------- */

static bool all_digits(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

static size_t pw_bufsize(int which)
{
        long n = sysconf(which);

        return n > 0 ? (size_t)n : 16384;
}

int fs_lookup_user(struct fs_job *j, const char *name, uid_t *ret_uid, gid_t *ret_gid)
{
        size_t size = pw_bufsize(_SC_GETPW_R_SIZE_MAX);
        bool numeric = all_digits(name);

        for (;;) {
                _cleanup_free_ char *buf = xmalloc(size);
                struct passwd pw, *res = NULL;
                int e = getpwnam_r(name, &pw, buf, size, &res);

                if (e == ERANGE && size < (1u << 20)) {
                        size *= 2;
                        continue;
                }
                if (res) {
                        *ret_uid = pw.pw_uid;
                        *ret_gid = pw.pw_gid;
                        return 0;
                }
                if (!numeric)
                        return fs_fail(j, -ENOENT, "unknown user '%s'", name);
                break;
        }
        {
                unsigned long id = strtoul(name, NULL, 10);
                _cleanup_free_ char *buf = NULL;
                struct passwd pw, *res = NULL;

                if (id >= (unsigned long)(uid_t)-1 || strlen(name) > 10)
                        return fs_fail(j, -ERANGE, "user id %s is out of range", name);
                *ret_uid = (uid_t)id;
                *ret_gid = (gid_t)-1;
                buf = xmalloc(size);
                if (getpwuid_r((uid_t)id, &pw, buf, size, &res) == 0 && res)
                        *ret_gid = pw.pw_gid;
        }
        return 0;
}

int fs_lookup_group(struct fs_job *j, const char *name, gid_t *ret_gid)
{
        size_t size = pw_bufsize(_SC_GETGR_R_SIZE_MAX);

        for (;;) {
                _cleanup_free_ char *buf = xmalloc(size);
                struct group gr, *res = NULL;
                int e = getgrnam_r(name, &gr, buf, size, &res);

                if (e == ERANGE && size < (1u << 24)) {
                        size *= 2;
                        continue;
                }
                if (res) {
                        *ret_gid = gr.gr_gid;
                        return 0;
                }
                break;
        }
        if (!all_digits(name))
                return fs_fail(j, -ENOENT, "unknown group '%s'", name);
        {
                unsigned long id = strtoul(name, NULL, 10);

                if (id >= (unsigned long)(gid_t)-1 || strlen(name) > 10)
                        return fs_fail(j, -ERANGE, "group id %s is out of range", name);
                *ret_gid = (gid_t)id;
        }
        return 0;
}

int fs_parse_mode(struct fs_job *j, const char *s, mode_t *ret)
{
        size_t n = strlen(s);
        mode_t m = 0;

        if (n == 0 || n > 5 || (n == 5 && s[0] != '0'))
                goto bad;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '7')
                        goto bad;
                m = m * 8 + (mode_t)(*p - '0');
        }
        if (m > 07777)
                goto bad;
        *ret = m;
        return 0;
bad:
        return fs_fail(j, -EINVAL, "permissions '%s' are not an octal mode such as 0644 or 755", s);
}

int fs_copy_move_entry(struct fs_job *j, const json_t *entry, enum fs_kind kind, fs_one_fn one)
{
        const char *source = fs_entry_str(entry, "source");
        const char *destination = fs_entry_str(entry, "destination");
        bool overwrite = fs_entry_bool(entry, "overwrite", true);
        char **sources = NULL;
        bool wildcard;
        size_t n;
        int r;

        if (!*source)
                return fs_fail(j, -EINVAL, "source is empty");
        if (!*destination)
                return fs_fail(j, -EINVAL, "destination is empty");
        r = fs_sources(j, source, destination, kind, &sources, &n, &wildcard);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = one(j, sources[i], destination, overwrite, wildcard);
        fs_strv_free(sources);
        return r;
}
