/* s3_get.c: GetObject into files: a destination, streamed into a
 * temporary file beside it and renamed into place, and documents fetched
 * into private temporary files. */
#include "s3.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "hexdigit.h"
#include "errmsg.h"
#include "mkdirs.h"
#include "credentials.h"
#include "http.h"
#include "s3_internal.h"
#include "sigv4.h"
#include "strbuf.h"

/* ---- downloading ------------------------------------------------------------- */

static mode_t process_umask(void)
{
        static mode_t m = (mode_t)-1;

        if (m == (mode_t)-1) {
                m = umask(022);
                umask(m);
        }
        return m;
}

static char *path_dirname(const char *path)
{
        const char *s = strrchr(path, '/');

        if (!s)
                return xstrdup(".");
        while (s > path && s[-1] == '/')
                s--;
        return s == path ? xstrdup("/") : xstrndup(path, (size_t)(s - path));
}

const char *s3_path_basename(const char *path)
{
        const char *s = strrchr(path, '/');

        return s ? s + 1 : path;
}

static int rename_noreplace(int dirfd, const char *from, const char *to)
{
        if (renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE) == 0)
                return 0;
        if (errno != EINVAL && errno != ENOSYS)
                return -errno;
        if (linkat(dirfd, from, dirfd, to, 0) < 0)
                return -errno;
        (void)unlinkat(dirfd, from, 0);
        return 0;
}

/* A temporary file beside a target, removed unless renamed into place. */
struct tmpfile {
        int dirfd;
        int fd;
        char name[128];
};

static void tmpfile_done(struct tmpfile *t)
{
        t->fd = safe_close(t->fd);
        if (t->name[0] && t->dirfd >= 0)
                (void)unlinkat(t->dirfd, t->name, 0);
        t->dirfd = safe_close(t->dirfd);
        *t = (struct tmpfile){ .dirfd = -1, .fd = -1 };
}

static int tmpfile_open(const char *dir, const char *base, struct tmpfile *t)
{
        static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

        t->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (t->dirfd < 0)
                return -errno;
        for (int tries = 0; tries < 100; tries++) {
                unsigned char rnd[6];
                char x[7];

                if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
                        for (size_t i = 0; i < sizeof rnd; i++)
                                rnd[i] = (unsigned char)(rand() + tries);
                for (size_t i = 0; i < 6; i++)
                        x[i] = letters[rnd[i] % (sizeof letters - 1)];
                x[6] = '\0';
                snprintf(t->name, sizeof t->name, ".%.40s.opentoe-%s", base, x);
                t->fd = openat(t->dirfd, t->name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (t->fd >= 0)
                        return 0;
                if (errno != EEXIST)
                        break;
        }
        t->name[0] = '\0';
        return -errno;
}

/* One GetObject into a temporary file beside its destination. */
struct s3_get {
        struct s3_op op;
        struct tmpfile t;
        char *dest, *dir;
        const char *base;
        bool replace;
        mode_t mode;
        uint64_t *ret_size;
};

static void get_free(struct s3_op *op)
{
        struct s3_get *g = (struct s3_get *)op;

        tmpfile_done(&g->t); /* a temporary file not renamed into place is removed */
        s3_op_done(&g->op);
        free_many(g->dest, g->dir, g);
}

/* The body is in the temporary file: checked, then put in place. */
static int get_finish(struct s3_op *op, struct aws_http_response *a, char **reterr_msg)
{
        struct s3_get *g = (struct s3_get *)op;
        const char *len = aws_http_response_header(a, "Content-Length");
        const char *what = g->op.what, *dest = g->dest;
        int r;

        if (len && strtoull(len, NULL, 10) != a->bytes_streamed)
                return errmsg_set(reterr_msg, -EIO,
                                  "GetObject %s: the answer was cut short: %" PRIu64 " of %s bytes arrived", what,
                                  a->bytes_streamed, len);
        if (g->ret_size)
                *g->ret_size = a->bytes_streamed;
        if (fchmod(g->t.fd, g->mode) < 0 || fsync(g->t.fd) < 0) {
                r = -errno;
                return errmsg_set(reterr_msg, r, "GetObject %s: cannot write %s: %s", what, dest, strerror(-r));
        }
        r = close(g->t.fd) < 0 ? -errno : 0;
        g->t.fd = -1;
        if (r < 0)
                return errmsg_set(reterr_msg, r, "GetObject %s: cannot write %s: %s", what, dest, strerror(-r));
        if (g->replace)
                r = renameat(g->t.dirfd, g->t.name, g->t.dirfd, g->base) < 0 ? -errno : 0;
        else
                r = rename_noreplace(g->t.dirfd, g->t.name, g->base);
        if (r == -EEXIST)
                return errmsg_set(reterr_msg, -EEXIST, "GetObject %s: the destination %s appeared during the download",
                                  what, dest);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "GetObject %s: cannot put %s in place: %s", what, dest, strerror(-r));
        g->t.name[0] = '\0';
        (void)fsync(g->t.dirfd);
        return 0;
}

/* Where the download goes: dest must name a file; its folders are made
 * and the temporary file opened beside it. */
static int get_prepare(struct s3_get *g, char **reterr_msg)
{
        const char *what = g->op.what, *dest = g->dest, *base = g->base;
        struct stat st;
        int r;

        if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
                return errmsg_set(reterr_msg, -EISDIR, "GetObject %s: the destination %s names a folder, not a file",
                                  what, dest);
        if (stat(dest, &st) == 0) {
                if (S_ISDIR(st.st_mode))
                        return errmsg_set(reterr_msg, -EISDIR, "GetObject %s: the destination %s is a folder", what,
                                          dest);
                if (!g->replace)
                        return errmsg_set(reterr_msg, -EEXIST, "GetObject %s: the destination %s already exists", what,
                                          dest);
                g->mode = st.st_mode & 07777;
        } else if (lstat(dest, &st) == 0 && !g->replace) {
                return errmsg_set(reterr_msg, -EEXIST, "GetObject %s: the destination %s already exists", what, dest);
        }
        r = mkdir_parents(g->dir, 0777);
        if (r == 0 && stat(g->dir, &st) < 0)
                r = -errno;
        else if (r == 0 && !S_ISDIR(st.st_mode))
                r = -ENOTDIR;
        if (r < 0)
                return errmsg_set(reterr_msg, r, "GetObject %s: cannot create the folder %s: %s", what, g->dir,
                                  strerror(-r));
        r = tmpfile_open(g->dir, base, &g->t);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "GetObject %s: cannot create a temporary file in %s: %s", what,
                                  g->dir, strerror(-r));
        return 0;
}

int s3_download_file_start(struct s3 *c, sd_event *ev, const char *bucket, const char *key, const char *owner,
                           const char *dest, bool replace, uint64_t *ret_size, s3_done_fn done, void *userdata,
                           struct s3_job **ret_job, char **reterr_msg)
{
        struct s3_get *g = xcalloc(1, sizeof *g);
        int r;

        s3_op_init(&g->op, c, ev, bucket, key, owner, get_finish, get_free, done, userdata);
        g->t = (struct tmpfile){ .dirfd = -1, .fd = -1 };
        g->dest = xstrdup(dest);
        g->dir = path_dirname(dest);
        g->replace = replace;
        g->mode = 0666 & ~process_umask();
        g->ret_size = ret_size;
        g->base = s3_path_basename(g->dest);
        r = get_prepare(g, reterr_msg);
        if (r >= 0) {
                struct s3_req q = {
                        .op = "GetObject", .method = "GET", .bucket = g->op.bucket, .key = g->op.key, .owner = g->op.owner,
                        .body_to_fd = true, .out_fd = g->t.fd,
                };
                r = s3_call_start(c, ev, &q, true, g->op.key, s3_op_answered, &g->op, &g->op.call, reterr_msg);
        }
        return s3_op_started(&g->op, r, ret_job);
}

int s3_download_file(struct s3 *c, const char *bucket, const char *key, const char *owner, const char *dest,
                     bool replace, uint64_t *ret_size, char **reterr_msg)
{
        struct s3_wait w;
        sd_event *ev = s3_wait_begin(c, &w);

        return s3_wait_end(&w, ev, ev ? s3_download_file_start(c, ev, bucket, key, owner, dest, replace, ret_size,
                                                               s3_wait_done, &w, NULL, reterr_msg) : 0, reterr_msg);
}


/* ---- documents ---------------------------------------------------------------------- */

int s3_fetch_temp(const char *uri, const char *owner, char **ret_path, char **reterr_msg)
{
        _cleanup_(s3_uri_done) struct s3_uri u = { 0 };
        _cleanup_free_ char *own = NULL, *dir = NULL, *name = NULL, *path = NULL;
        const char *tmp = getenv("TMPDIR");
        struct s3 *c;
        int r;

        r = s3_uri_parse(uri, false, &u, reterr_msg);
        if (r < 0)
                return r;
        if (!*u.key || u.key[strlen(u.key) - 1] == '/')
                return errmsg_set(reterr_msg, -EINVAL, "%s names a bucket or a folder, not an object", uri);
        r = s3_owner_normalize(owner, &own, reterr_msg);
        if (r < 0)
                return r;
        dir = xasprintf("%s/opentoe-s3-XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
        if (!mkdtemp(dir))
                return errmsg_set(reterr_msg, -errno, "cannot create a temporary folder for %s: %s", uri,
                                  strerror(errno));
        name = xstrdup(s3_path_basename(u.key));
        if (!strcmp(name, ".") || !strcmp(name, "..")) {
                free(name);
                name = xstrdup("document");
        }
        path = xasprintf("%s/%s", dir, name);
        c = s3_new(reterr_msg);
        if (!c) {
                rmdir(dir);
                return -ENOSYS;
        }
        r = s3_download_file(c, u.bucket, u.key, own, path, true, NULL, reterr_msg);
        s3_free(c);
        if (r < 0) {
                rmdir(dir);
                return r;
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

void s3_temp_remove(char *path)
{
        if (!path)
                return;
        _cleanup_free_ char *dir = path_dirname(path);

        (void)unlink(path);
        (void)rmdir(dir);
        free(path);
}

