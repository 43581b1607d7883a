/* web_download_room.c: a WebDownload body's way into its temporary file:
 * gathered into WD_BUFFER_SIZE writes, and never written past what the
 * last measure of the free space (statvfs f_bavail) left above the
 * reserve; the words for a body it stopped. */
#include "web_download_room.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/statvfs.h>

#include "atomicfile.h"

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
