/* atomicfile.c: whole-file replacement that survives crashes. */
#include "atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "strbuf.h"

int write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t k = write(fd, p, len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EIO; /* no progress: never spin */
                p += k;
                len -= (size_t)k;
        }
        return 0;
}

int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t k = pwrite(fd, p, len, off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EIO;
                p += k;
                len -= (size_t)k;
                off += k;
        }
        return 0;
}

/* A new, unguessable temporary name beside `name`, created with O_EXCL. */
static int create_temp(int dirfd, const char *name, mode_t mode, char *tmp, size_t size)
{
        for (int attempt = 0; attempt < 100; attempt++) {
                unsigned long long rnd = 0;
                if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
                        rnd ^= (unsigned long long)getpid() << 20 ^ (unsigned long long)attempt;
                int n = snprintf(tmp, size, ".%.100s.%016llx.tmp", name, rnd);
                if (n < 0 || (size_t)n >= size)
                        return -ENAMETOOLONG;
                int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
                if (fd >= 0 || errno != EEXIST)
                        return fd >= 0 ? fd : -errno;
        }
        return -EEXIST;
}

int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
        char tmp[160];
        int fd = create_temp(dirfd, name, mode, tmp, sizeof tmp);
        if (fd < 0)
                return fd;
        int r = write_all(fd, data, len);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0) {
                unlinkat(dirfd, tmp, 0);
                return r;
        }
        /* The rename is durable only once the folder is synced. */
        if (fsync(dirfd) < 0 && errno != EINVAL)
                return -errno;
        return 0;
}

int write_file_atomic(const char *path, const char *data, size_t len)
{
        _cleanup_free_ char *dir = xstrdup(path), *base = xstrdup(path);
        _cleanup_close_ int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        return write_file_atomic_at(dfd, basename(base), data, len, 0644);
}
