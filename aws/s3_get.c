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
        if (t->fd >= 0)
                close(t->fd);
        if (t->name[0] && t->dirfd >= 0)
                (void)unlinkat(t->dirfd, t->name, 0);
        if (t->dirfd >= 0)
                close(t->dirfd);
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

int s3_download_file(struct s3 *c, const char *bucket, const char *key, const char *owner, const char *dest,
                     bool replace, uint64_t *ret_size, char **reterr_msg)
{
        _cleanup_(tmpfile_done) struct tmpfile t = { .dirfd = -1, .fd = -1 };
        _cleanup_free_ char *dir = path_dirname(dest), *what = s3_uri_text(bucket, key);
        const char *base = s3_path_basename(dest), *len;
        struct aws_http_response a = { 0 };
        struct stat st;
        mode_t mode = 0666 & ~process_umask();
        int r;

        if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
                return errmsg_set(reterr_msg, -EISDIR, "GetObject %s: the destination %s names a folder, not a file",
                                  what, dest);
        if (stat(dest, &st) == 0) {
                if (S_ISDIR(st.st_mode))
                        return errmsg_set(reterr_msg, -EISDIR, "GetObject %s: the destination %s is a folder", what,
                                          dest);
                if (!replace)
                        return errmsg_set(reterr_msg, -EEXIST, "GetObject %s: the destination %s already exists", what,
                                          dest);
                mode = st.st_mode & 07777;
        } else if (lstat(dest, &st) == 0 && !replace) {
                return errmsg_set(reterr_msg, -EEXIST, "GetObject %s: the destination %s already exists", what, dest);
        }
        r = mkdir_parents(dir, 0777);
        if (r == 0 && stat(dir, &st) < 0)
                r = -errno;
        else if (r == 0 && !S_ISDIR(st.st_mode))
                r = -ENOTDIR;
        if (r < 0)
                return errmsg_set(reterr_msg, r, "GetObject %s: cannot create the folder %s: %s", what, dir,
                                  strerror(-r));
        r = tmpfile_open(dir, base, &t);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "GetObject %s: cannot create a temporary file in %s: %s", what, dir,
                                  strerror(-r));

        struct s3_req q = {
                .op = "GetObject", .method = "GET", .bucket = bucket, .key = key, .owner = owner,
                .body_to_fd = true, .out_fd = t.fd,
        };
        r = s3_call(c, &q, key, &a, reterr_msg);
        if (r < 0)
                return r;
        len = aws_http_response_header(&a, "Content-Length");
        if (len && strtoull(len, NULL, 10) != a.bytes_streamed) {
                r = errmsg_set(reterr_msg, -EIO,
                               "GetObject %s: the answer was cut short: %" PRIu64 " of %s bytes arrived",
                               what, a.bytes_streamed, len);
                aws_http_response_done(&a);
                return r;
        }
        if (ret_size)
                *ret_size = a.bytes_streamed;
        aws_http_response_done(&a);

        if (fchmod(t.fd, mode) < 0 || fsync(t.fd) < 0)
                return errmsg_set(reterr_msg, -errno, "GetObject %s: cannot write %s: %s", what, dest, strerror(errno));
        r = close(t.fd);
        t.fd = -1;
        if (r < 0)
                return errmsg_set(reterr_msg, -errno, "GetObject %s: cannot write %s: %s", what, dest, strerror(errno));
        if (replace)
                r = renameat(t.dirfd, t.name, t.dirfd, base) < 0 ? -errno : 0;
        else
                r = rename_noreplace(t.dirfd, t.name, base);
        if (r == -EEXIST)
                return errmsg_set(reterr_msg, -EEXIST, "GetObject %s: the destination %s appeared during the download",
                                  what, dest);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "GetObject %s: cannot put %s in place: %s", what, dest, strerror(-r));
        t.name[0] = '\0';
        (void)fsync(t.dirfd);
        return 0;
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

