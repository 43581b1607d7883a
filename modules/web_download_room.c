/* web_download_room.c: a WebDownload body's way into its temporary file:
 * the file itself (made beside the destination, renamed into place after
 * fsync, or removed), the body gathered into WD_BUFFER_SIZE writes, and
 * never written past what the last measure of the free space (statvfs
 * f_bavail) left above the reserve, and hashed on the way (the
 * transport's stream callbacks); the words for a body it stopped.
 *
 * The rules (WebDownload's are in web_download.c):
 *   - The disk is never filled.  The measure is the free space that
 *     unprivileged users may fill (statvfs f_bavail * f_frsize) on the file
 *     system of the temporary file: opentoe runs as root and could also
 *     fill the blocks reserved for root, but those are the system's last
 *     resort and are never counted.  A reserve is kept free on top of that:
 *     the larger of WD_RESERVE_MIN (64 MiB) and 1% of the file system's
 *     size, or OPENTOE_HTTP_DISK_RESERVE_BYTES (0 to INT64_MAX bytes; 0:
 *     none but root's).  A body whose declared
 *     length (Content-Length) does not fit above the reserve is refused
 *     before anything is written; while writing, the free space is measured
 *     again at least every WD_SPACE_CHECK_BYTES, and never more is written
 *     between two measures than the last one left above the reserve, so a
 *     server that sends no length, or lies about it, is stopped too.  Both
 *     fail the entry without a retry (a full disk is not transient).  A
 *     file being replaced is not counted as free: it is only removed by the
 *     rename, after the download.
 *   - Nothing past a Content-Length is written.  Without Transfer-Encoding
 *     libcurl frames the body by Content-Length: it reads no more than
 *     that from the socket (bytes past it that came in with the headers
 *     it drops, with a note for CURLOPT_VERBOSE), so they never reach
 *     the stream and no client can tell them from the start of the next
 *     response; they stay on the connection, which is therefore never
 *     reused (the transport forbids it), or the next entry would read them as
 *     its response.  With Transfer-Encoding libcurl ignores Content-Length
 *     (RFC 9112 6.3) and frames the body by its chunks, so the transport holds
 *     it to the header itself (it keeps it): more bytes, or fewer,
 *     fail the entry without a retry, as a message with both framings
 *     "ought to be handled as an error".  The transport enforces the declared
 *     length whatever the framing.  A body shorter than its Content-Length
 *     without Transfer-Encoding is libcurl's CURLE_PARTIAL_FILE, retried. */
#include "web_download_room.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "hash.h"

/* Bytes of the destination's name kept in the temporary file's name. */
#define WD_TMP_NAME_MAX 200

/* a * b, or UINT64_MAX when that does not fit. */
static uint64_t mul_sat(uint64_t a, uint64_t b)
{
        return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* Measures the free space of the temporary file's file system into
 * x->avail, and the reserve to keep there into x->reserve.  f_bavail is
 * what unprivileged users may still fill; root could go on into the
 * blocks reserved for it, which are left alone. */
static int space_measure(struct wd_room *x)
{
        struct statvfs sv;
        uint64_t frsize, pct;

        if (fstatvfs(x->fd, &sv) < 0) {
                x->statvfs_err = errno;
                x->stop = WD_ROOM_STATVFS;
                return -1;
        }
        frsize = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
        x->avail = mul_sat(sv.f_bavail, frsize);
        if (x->reserve_set) {
                x->reserve = x->reserve_value;
        } else {
                pct = mul_sat(sv.f_blocks, frsize) / 100;
                x->reserve = pct > WD_RESERVE_MIN ? pct : WD_RESERVE_MIN;
        }
        return 0;
}

/* Bytes that may be written above the reserve at the last measure. */
static uint64_t space_above_reserve(const struct wd_room *x)
{
        return x->avail > x->reserve ? x->avail - x->reserve : 0;
}

/* Sets how much may be written before the next measure: never more than
 * the last measure left above the reserve. */
static void space_set_room(struct wd_room *x, uint64_t n)
{
        uint64_t left = space_above_reserve(x), step = n > WD_SPACE_CHECK_BYTES ? n : WD_SPACE_CHECK_BYTES;

        x->room = left < step ? left : step;
}

/* Writes n bytes to the temporary file, measuring the free space first
 * when they do not fit in what the last measure allowed.  On failure
 * x->stop or x->write_err says why. */
static int room_write(struct wd_room *x, const char *p, size_t n)
{
        int r;

        if (n > x->room) {
                if (space_measure(x) < 0)
                        return -EIO;
                if (space_above_reserve(x) < n) {
                        x->stop = WD_ROOM_FULL;
                        return -ENOSPC;
                }
                space_set_room(x, n);
        }
        r = write_all(x->fd, p, n);
        if (r < 0) {
                x->write_err = -r;
                return r;
        }
        x->room -= n;
        x->written += n;
        return 0;
}

int wd_room_flush(struct wd_room *x)
{
        int r = room_write(x, x->buf, x->buf_len);

        x->buf_len = 0;
        return r;
}

/* The end of a 200 response's headers, or else the first piece of its
 * body: learns the declared length and refuses a body that would not fit
 * above the reserve, before any of it is read.  Returns 0 to go on. */
int wd_room_start(struct wd_room *x, int64_t declared)
{
        x->declared = declared;
        if (space_measure(x) < 0)
                return -1;
        if (x->declared >= 0 && space_above_reserve(x) < (uint64_t)x->declared) {
                x->stop = WD_ROOM_NO_ROOM;
                return -1;
        }
        space_set_room(x, 0);
        return 0;
}

/* "N bytes (X.Y MiB)" */
static void sb_size(struct strbuf *b, uint64_t n)
{
        static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        double v = (double)n;
        int u = -1;

        sb_printf(b, "%" PRIu64 " bytes", n);
        if (n < 1024)
                return;
        while (v >= 1024 && u < 5) {
                v /= 1024;
                u++;
        }
        sb_printf(b, " (%.1f %s)", v, units[u]);
}

/* The reserve, where it comes from, and how to change it. */
static void sb_reserve(struct strbuf *b, const struct wd_room *x)
{
        sb_size(b, x->reserve);
        if (x->reserve_set)
                sb_printf(b, ", set by %s", WD_RESERVE_ENV);
        else
                sb_printf(b, ", the larger of 64 MiB and 1%% of the file system; set %s (a number of bytes) "
                             "to change it", WD_RESERVE_ENV);
}

/* The space available, `how` it relates to the reserve, the reserve. */
static void sb_avail(struct strbuf *b, const struct wd_room *x, const char *how)
{
        sb_size(b, x->avail);
        sb_puts(b, how);
        sb_reserve(b, x);
}

/* Why the room stopped the body, for the entry's message. */
void wd_room_stop_text(const struct wd_room *x, struct strbuf *why)
{
        switch (x->stop) {
        case WD_ROOM_NONE:
                break;
        case WD_ROOM_NO_ROOM:
                sb_puts(why, "the server declares ");
                sb_size(why, (uint64_t)x->declared);
                sb_printf(why, ", more than the file system of %s can take: it has ", x->dir);
                sb_avail(why, x, " available to unprivileged users (statvfs f_bavail), and WebDownload keeps a "
                                 "reserve free there: ");
                break;
        case WD_ROOM_FULL:
                sb_puts(why, "stopped after writing ");
                sb_size(why, x->written);
                if (x->declared >= 0) {
                        sb_puts(why, " of the ");
                        sb_size(why, (uint64_t)x->declared);
                        sb_puts(why, " declared");
                } else {
                        sb_puts(why, " of a body of no declared length");
                }
                sb_printf(why, ": the file system of %s has ", x->dir);
                sb_avail(why, x, " left available to unprivileged users (statvfs f_bavail), and writing on "
                                 "would cut into the reserve that WebDownload keeps free there: ");
                break;
        case WD_ROOM_EXCESS:
                sb_printf(why, "the server sent more than the %" PRId64 " bytes its Content-Length declared",
                          x->declared);
                break;
        case WD_ROOM_STATVFS:
                sb_printf(why, "cannot measure the free space of the file system of %s: %s", x->dir,
                          strerror(x->statvfs_err));
                break;
        }
}

void wd_room_reset(struct wd_room *x, int fd)
{
        x->fd = fd;
        x->buf_len = 0;
        x->written = 0;
        x->declared = -1;
        x->room = 0;
        x->avail = 0;
        x->reserve = 0;
        x->write_err = 0;
        x->statvfs_err = 0;
        x->stop = WD_ROOM_NONE;
}

int wd_room_put(struct wd_room *x, const char *data, size_t n)
{
        if (x->buf_len + n > (size_t)WD_BUFFER_SIZE && wd_room_flush(x) < 0)
                return -1;
        if (n >= (size_t)WD_BUFFER_SIZE)
                return room_write(x, data, n) < 0 ? -1 : 0;
        memcpy(x->buf + x->buf_len, data, n);
        x->buf_len += n;
        return 0;
}

/* ---- the transport's stream ---------------------------------------- */

int wd_body_accept(void *userdata, long status, int64_t declared)
{
        struct wd_body *x = userdata;

        if (status != 200)
                return 0;
        return wd_room_start(&x->room, declared) < 0 ? -1 : 1;
}

int wd_body_data(void *userdata, const char *data, size_t n)
{
        struct wd_body *x = userdata;

        if (wd_room_put(&x->room, data, n) < 0)
                return -1;
        if (x->hash && hash_update(x->hash, data, n) < 0) {
                x->hash_failed = true;
                return -1;
        }
        return 0;
}

/* ---- the temporary file ---------------------------------------------- */

char *wd_path_parent(const char *path)
{
        const char *slash = strrchr(path, '/');
        size_t n;

        if (!slash)
                return xstrdup(".");
        n = (size_t)(slash - path);
        while (n > 0 && path[n - 1] == '/')
                n--;
        if (n == 0)
                return xstrdup("/");
        return xstrndup(path, n);
}

int wd_tmp_create(const char *dest, struct wd_tmp *t)
{
        _cleanup_free_ char *dir = wd_path_parent(dest);
        const char *base = strrchr(dest, '/');

        base = base ? base + 1 : dest;
        t->path = xasprintf("%s/.%.*s.opentoe-XXXXXX", dir, WD_TMP_NAME_MAX, base);
        t->fd = mkostemp(t->path, O_CLOEXEC);
        if (t->fd < 0) {
                int r = -errno;

                free(t->path);
                t->path = NULL;
                return r;
        }
        return 0;
}

mode_t wd_file_mode(void)
{
        mode_t m = umask(0);

        umask(m);
        return 0666 & ~m;
}

static void fsync_dir(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return;
        (void)fsync(fd);
        close(fd);
}

int wd_tmp_commit(struct wd_tmp *t, const char *dest, bool overwrite, mode_t mode)
{
        _cleanup_free_ char *dir = NULL;
        struct stat st;
        int r;

        if (stat(dest, &st) == 0 && S_ISREG(st.st_mode))
                mode = st.st_mode & 07777;
        if (fchmod(t->fd, mode) < 0 || fsync(t->fd) < 0)
                return -errno;
        r = close(t->fd);
        t->fd = -1;
        if (r < 0)
                return -errno;
        if (overwrite) {
                if (rename(t->path, dest) < 0)
                        return -errno;
        } else if (renameat2(AT_FDCWD, t->path, AT_FDCWD, dest, RENAME_NOREPLACE) < 0) {
                if (errno != EINVAL && errno != ENOSYS)
                        return -errno;
                /* No RENAME_NOREPLACE on this file system: link fails on EEXIST too. */
                if (link(t->path, dest) < 0)
                        return -errno;
                (void)unlink(t->path);
        }
        free(t->path);
        t->path = NULL;
        dir = wd_path_parent(dest);
        fsync_dir(dir);
        return 0;
}

void wd_tmp_remove(struct wd_tmp *t)
{
        t->fd = safe_close(t->fd);
        if (t->path)
                (void)unlink(t->path);
        free(t->path);
        t->path = NULL;
}
