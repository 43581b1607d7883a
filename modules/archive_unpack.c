/* archive_unpack.c: unpacking one archive for ExtractArchive (the action
 * itself, its inputs and its result, is extract_archive.c).  This file
 * owns reading tar (plain, gzip, bzip2, xz, zstd) and zip archives with
 * libarchive, reached through common/archive_dl.h and never linked, and
 * the policy that keeps a hostile archive inside its destination folder.
 * libarchive only parses: every file, folder and link is created here,
 * relative to a descriptor of the destination, so that the rules below
 * hold for every member.
 *
 * Rules, per archive (one entry of the inputs):
 *   - source must be a regular file (a fifo could block the step for
 *     ever).  The destination, with its parents, is created when missing,
 *     once the archive has proved readable; symbolic links in the
 *     destination's own path are the author's and are followed.
 *   - A member whose name is absolute or has a '..' element is refused, as
 *     is a device node, a fifo or a socket.  stripComponents then removes
 *     leading elements as tar's --strip-components does ('.' counts); a
 *     member left with no name is skipped.
 *   - Nothing is written through a symbolic link, whether the archive made
 *     it or it was already in the destination: folders are walked one
 *     element at a time with openat(O_NOFOLLOW) and mkdirat from the
 *     destination's descriptor, and a symbolic link met on the way fails
 *     the entry.  Files are never opened for writing where they are found
 *     (see below), so no existing inode, link or not, is ever written to.
 *   - A symbolic link member is refused when its target is absolute or
 *     climbs above the destination.  '..' is accepted only at the start of
 *     a target: after a name, '..' could climb out through another link
 *     ("a" -> ".", then "b" -> "a/.."), which a reading of the text alone
 *     cannot rule out.
 *   - A hard link member must name, by the same rules, a regular file
 *     already in the destination, reached without following links.
 *   - Bounds, per archive, each with an environment variable to lower (or
 *     raise) it; a value that is missing or not a positive whole number
 *     gives the default:
 *       OPENTOE_EXTRACT_MAX_BYTES    uncompressed bytes, holes of sparse
 *                                    files included (4 GiB)
 *       OPENTOE_EXTRACT_MAX_ENTRIES  members (100000)
 *       OPENTOE_EXTRACT_MAX_PATH     bytes of a member's name or link
 *                                    target (4095)
 *     The tests lower them to build small archive bombs.
 *   - Whether to stop (the step's deadline, an interrupt: the runner's
 *     action_stop_reason()) is asked before each member and each block
 *     of data.
 *
 * Placement.  Members are extracted one by one, each made complete under a
 * temporary name (".opentoe-<pid>-<n>") in its final folder and renamed
 * into place, so a file is never seen half-written and a failure leaves
 * only whole members behind.  Extracting everything into a temporary
 * folder beside the destination and renaming it into place was not
 * chosen: the destination may already exist and hold other files (so a
 * merge would still be needed, with the same care, file by file), its
 * parent may not be writable, and it may be a mount point, which a rename
 * cannot cross.  With overwrite false the rename is renameat2's
 * RENAME_NOREPLACE (or link and unlink where that is not supported), so an
 * existing file is never replaced, even one created meanwhile.  Folders
 * are merged: an existing folder is not an error.
 *
 * Modes, times and owners.  Files, links and folders get the archive's
 * modification time; files and folders its permission bits, without
 * setuid and setgid, and without applying the umask.  Folders are created
 * private (0700) and get their mode and time once every member is in (or
 * the extraction failed), so that a read-only folder can still be filled;
 * folders the archive does not name get 0755 less the umask.  A folder
 * that already existed gets them only when overwrite is true, as tar
 * does, and a failure to set them is then ignored.  Ownership
 * in the archive is never applied, even when running as root: archive
 * owners are numbers (or names) from the machine that made it, and
 * handing files to whichever account holds that number on the image is a
 * risk; SetFileOwner and SetFolderOwner say it explicitly. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive_unpack.h"

#include "atomicfile.h"
#include "cleanup.h"
#include "mkdirs.h"
#include "strbuf.h"
#include "tunables.h"

#define XA_DEFAULT_MAX_BYTES (UINT64_C(4) << 30)
#define XA_DEFAULT_MAX_ENTRIES UINT64_C(100000)
#define XA_DEFAULT_MAX_PATH UINT64_C(4095)
/* Bytes of a member's name quoted in a message. */
#define XA_QUOTE_MAX 256
/* Temporary names tried before giving up. */
#define XA_TMP_TRIES 100
/* Bytes libarchive reads from the archive at a time. */
#define XA_READ_BLOCK 65536

struct xa_limits {
        uint64_t max_bytes, max_entries, max_path;
};

/* A folder named by the archive, given its mode and time at the end. */
struct xa_dirfix {
        char *path;
        mode_t mode;
        bool existed;               /* a failure to set them is then ignored */
        bool has_mtime;
        struct timespec mtime;
};

/* The state of extracting one archive (one entry of the inputs). */
struct xa {
        const struct archive_api *api;
        const struct action_ctx *ctx;
        struct xa_limits lim;
        size_t no;                  /* 1-based entry number, for messages */
        const char *source, *destination;
        bool overwrite;
        long long strip;

        struct archive *ar;
        int src_fd;                 /* the archive, read by libarchive */
        int dest_fd;
        char *cache_path;           /* the last parent folder walked to ... */
        int cache_fd;               /* ... and its descriptor */
        struct xa_dirfix *dirs;
        size_t n_dirs, cap_dirs;
        uint64_t bytes, entries;
        unsigned tmp_seq;

        const char *member;         /* the current member's name, for messages */
        struct strbuf prev_member;  /* the one before, for a broken header */
        char *message;              /* the first failure */
        bool timed_out;
};

/* ---- messages ------------------------------------------------------------ */

/* Appends a member name in single quotes, control bytes as \xNN. */
static void sb_put_quoted(struct strbuf *b, const char *s)
{
        size_t n = 0;

        sb_putc(b, '\'');
        for (; *s && n < XA_QUOTE_MAX; s++, n++) {
                unsigned char c = (unsigned char)*s;

                if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\')
                        sb_printf(b, "\\x%02x", c);
                else
                        sb_putc(b, (char)c);
        }
        sb_putc(b, '\'');
        if (*s)
                sb_puts(b, "...");
}

/* Records the first failure as "ExtractArchive entry N (archive): member
 * 'name': text" and returns err (a negative errno). */
static int xa_fail(struct xa *x, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int xa_fail(struct xa *x, int err, const char *fmt, ...)
{
        struct strbuf b = STRBUF_INIT;
        va_list ap;

        if (x->message)
                return err;
        sb_printf(&b, "ExtractArchive entry %zu (%s): ", x->no, x->source);
        if (x->member) {
                sb_puts(&b, "member ");
                sb_put_quoted(&b, x->member);
                sb_puts(&b, ": ");
        }
        va_start(ap, fmt);
        sb_vprintf(&b, fmt, ap);
        va_end(ap);
        x->message = sb_take(&b);
        return err;
}

/* libarchive's words for its last failure. */
static const char *xa_archive_error(struct xa *x)
{
        const char *why = x->api->error_string(x->ar);

        return why ? why : "unknown error";
}

static const char *quoted(struct strbuf *b, const char *s)
{
        b->len = 0;
        sb_put_quoted(b, s);
        return sb_str(b);
}

/* ---- bounds and stopping -------------------------------------------------- */

static struct xa_limits xa_limits_from_env(void)
{
        return (struct xa_limits){
                .max_bytes = env_u64_in("OPENTOE_EXTRACT_MAX_BYTES", XA_DEFAULT_MAX_BYTES, 1, UINT64_MAX),
                .max_entries = env_u64_in("OPENTOE_EXTRACT_MAX_ENTRIES", XA_DEFAULT_MAX_ENTRIES, 1, UINT64_MAX),
                .max_path = env_u64_in("OPENTOE_EXTRACT_MAX_PATH", XA_DEFAULT_MAX_PATH, 1, UINT64_MAX),
        };
}

/* The runner's answer to "should I stop?" (action_stop_reason()). */
static int xa_check_stop(struct xa *x)
{
        switch (action_stop_reason(x->ctx)) {
        case ACTION_CANCEL_DEADLINE:
                x->timed_out = true;
                return xa_fail(x, -ETIME, "step timed out after the deadline; extraction stopped here");
        case ACTION_CANCEL_INTERRUPT:
                return xa_fail(x, -EINTR, "the run was interrupted; extraction stopped here");
        default:
                return 0;
        }
}

/* Counts bytes against the bound before they are written. */
static int xa_charge(struct xa *x, uint64_t n)
{
        if (n > x->lim.max_bytes || x->bytes > x->lim.max_bytes - n)
                return xa_fail(x, -EFBIG, "the archive holds more than %" PRIu64 " uncompressed bytes "
                               "(the bound set by OPENTOE_EXTRACT_MAX_BYTES); extraction stopped",
                               x->lim.max_bytes);
        x->bytes += n;
        return 0;
}

/* ---- names ---------------------------------------------------------------- */

/* libarchive gives names in the locale's encoding, or NULL when they
 * cannot be converted to it (UTF-8 names in the C locale); then their
 * UTF-8 form is used as is, file names being bytes on Linux. */
static const char *either(const char *name, const char *utf8)
{
        return name ? name : utf8;
}

/* Checks a member's name (or a hard link's target, `what` says which) and
 * turns it into the path it has in the destination: stripComponents
 * applied, '.' and empty elements dropped, elements joined by single
 * slashes.  *ret_path is NULL when stripping leaves nothing (the member is
 * skipped) and "" for the destination folder itself. */
static int xa_member_path(struct xa *x, const char *name, const char *what, char **ret_path)
{
        struct strbuf b = STRBUF_INIT;
        long long skip = x->strip;
        const char *p;
        size_t len;

        if (!name || !*name)
                return xa_fail(x, -EINVAL, "the %s is empty", what);
        len = strlen(name);
        if (len > x->lim.max_path)
                return xa_fail(x, -ENAMETOOLONG, "the %s is %zu bytes long, more than %" PRIu64
                               " (the bound set by OPENTOE_EXTRACT_MAX_PATH)", what, len, x->lim.max_path);
        if (name[0] == '/')
                return xa_fail(x, -EPERM, "the %s is an absolute path; only paths inside "
                               "the destination are extracted", what);
        for (p = name; *p; ) {
                size_t n = strcspn(p, "/");

                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return xa_fail(x, -EPERM, "the %s has a '..' element; only paths inside "
                                       "the destination are extracted", what);
                p += n;
                p += strspn(p, "/");
        }

        for (p = name; *p; ) {
                size_t n = strcspn(p, "/");

                if (skip > 0)
                        skip--;
                else if (!(n == 1 && p[0] == '.')) {
                        if (b.len > 0)
                                sb_putc(&b, '/');
                        sb_append(&b, p, n);
                }
                p += n;
                p += strspn(p, "/");
        }
        if (skip > 0) {
                sb_free(&b);
                *ret_path = NULL;
                return 0;
        }
        *ret_path = sb_take(&b);
        return 0;
}

/* A symbolic link's target must stay inside the destination: not
 * absolute, and '..' only before the first name, no more of them than the
 * link's folder is deep. */
static int xa_check_symlink_target(struct xa *x, const char *path, const char *target)
{
        struct strbuf q = STRBUF_INIT;
        size_t depth = 0, len;
        bool named = false;
        int r = 0;

        if (!target || !*target)
                return xa_fail(x, -EINVAL, "the symbolic link has an empty target");
        len = strlen(target);
        if (len > x->lim.max_path)
                return xa_fail(x, -ENAMETOOLONG, "the symbolic link's target is %zu bytes long, more than %"
                               PRIu64 " (the bound set by OPENTOE_EXTRACT_MAX_PATH)", len, x->lim.max_path);
        if (target[0] == '/') {
                r = xa_fail(x, -EPERM, "the symbolic link points to the absolute path %s; only links "
                            "that stay inside the destination are extracted", quoted(&q, target));
                sb_free(&q);
                return r;
        }
        for (const char *p = path; *p; p++)
                if (*p == '/')
                        depth++;
        for (const char *p = target; *p && r == 0; ) {
                size_t n = strcspn(p, "/");

                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        if (named)
                                r = xa_fail(x, -EPERM, "the symbolic link's target %s has '..' after a "
                                            "name; '..' is accepted only at the start of a target",
                                            quoted(&q, target));
                        else if (depth == 0)
                                r = xa_fail(x, -EPERM, "the symbolic link's target %s leads outside "
                                            "the destination", quoted(&q, target));
                        else
                                depth--;
                } else if (n > 0 && !(n == 1 && p[0] == '.'))
                        named = true;
                p += n;
                p += strspn(p, "/");
        }
        sb_free(&q);
        return r;
}

/* ---- walking the destination ---------------------------------------------- */

/* Opens the folder `dir` (a member path, "" for the destination itself)
 * without following any symbolic link, creating missing folders (mode
 * 0755 less the umask) when `create`.  Returns a new descriptor. */
static int xa_walk(struct xa *x, const char *dir, bool create, int *ret_fd)
{
        _cleanup_free_ char *copy = xstrdup(dir);
        struct strbuf q = STRBUF_INIT;
        int cur = x->dest_fd;
        char *p = copy;

        while (*p) {
                char *slash = strchr(p, '/');
                struct stat st;
                int fd;

                if (slash)
                        *slash = '\0';
                if (create && mkdirat(cur, p, 0755) < 0 && errno != EEXIST) {
                        int e = errno;

                        if (cur != x->dest_fd)
                                close(cur);
                        xa_fail(x, -e, "cannot create the folder %s: %s", quoted(&q, copy), strerror(e));
                        sb_free(&q);
                        return -e;
                }
                fd = openat(cur, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        int e = errno;

                        if (fstatat(cur, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                                xa_fail(x, -ELOOP, "%s is a symbolic link in the destination; ExtractArchive "
                                        "never writes through symbolic links", quoted(&q, copy));
                        else if (e == ENOTDIR)
                                xa_fail(x, -e, "%s exists in the destination and is not a folder",
                                        quoted(&q, copy));
                        else
                                xa_fail(x, -e, "cannot open the folder %s: %s", quoted(&q, copy),
                                        strerror(e));
                        if (cur != x->dest_fd)
                                close(cur);
                        sb_free(&q);
                        return -e;
                }
                if (cur != x->dest_fd)
                        close(cur);
                cur = fd;
                if (!slash)
                        break;
                *slash = '/';
                p = slash + 1;
        }
        sb_free(&q);
        if (cur == x->dest_fd) {
                cur = fcntl(x->dest_fd, F_DUPFD_CLOEXEC, 3);
                if (cur < 0)
                        return xa_fail(x, -errno, "cannot open the destination: %s", strerror(errno));
        }
        *ret_fd = cur;
        return 0;
}

/* The folder a member goes in, created if missing; the descriptor is
 * borrowed (kept for the next member in the same folder). */
static int xa_parent(struct xa *x, const char *path, int *ret_fd, const char **ret_leaf)
{
        const char *slash = strrchr(path, '/');
        _cleanup_free_ char *dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup("");
        int fd, r;

        *ret_leaf = slash ? slash + 1 : path;
        if (x->cache_path && strcmp(x->cache_path, dir) == 0) {
                *ret_fd = x->cache_fd;
                return 0;
        }
        r = xa_walk(x, dir, true, &fd);
        if (r < 0)
                return r;
        x->cache_fd = safe_close(x->cache_fd);
        free(x->cache_path);
        x->cache_path = TAKE_PTR(dir);
        x->cache_fd = fd;
        *ret_fd = fd;
        return 0;
}

/* ---- placing members ------------------------------------------------------- */

/* Creates a temporary name in `dfd` with make(), which returns 0 or -1
 * with errno set (EEXIST: try another name). */
static int xa_make_tmp(struct xa *x, int dfd, char *name, size_t size,
                       int (*make)(int dfd, const char *name, void *arg), void *arg)
{
        for (int i = 0; i < XA_TMP_TRIES; i++) {
                snprintf(name, size, ".opentoe-%ld-%u", (long)getpid(), x->tmp_seq++);
                if (make(dfd, name, arg) == 0)
                        return 0;
                if (errno != EEXIST)
                        return -errno;
        }
        return -EEXIST;
}

/* Renames the finished temporary into place; removes it on failure. */
static int xa_place(struct xa *x, int dfd, const char *tmp, const char *leaf, const char *kind)
{
        int r, e;

        if (x->overwrite)
                r = renameat(dfd, tmp, dfd, leaf);
        else {
#ifdef RENAME_NOREPLACE
                r = renameat2(dfd, tmp, dfd, leaf, RENAME_NOREPLACE);
                if (r < 0 && (errno == EINVAL || errno == ENOSYS))
#endif
                {
                        r = linkat(dfd, tmp, dfd, leaf, 0);
                        if (r == 0)
                                (void)unlinkat(dfd, tmp, 0);
                }
        }
        if (r == 0)
                return 0;
        e = errno;
        (void)unlinkat(dfd, tmp, 0);
        if (e == EEXIST || e == ENOTEMPTY) {
                if (!x->overwrite)
                        return xa_fail(x, -EEXIST, "it already exists in the destination "
                                       "and overwrite is false");
                return xa_fail(x, -EEXIST, "a folder is in the destination where the archive has a %s", kind);
        }
        if (e == EISDIR)
                return xa_fail(x, -e, "a folder is in the destination where the archive has a %s", kind);
        return xa_fail(x, -e, "cannot move the %s into place: %s", kind, strerror(e));
}

static mode_t xa_perm(struct xa *x, struct archive_entry *e)
{
        return x->api->entry_perm(e) & 07777 & ~(mode_t)(S_ISUID | S_ISGID);
}

static bool xa_mtime(struct xa *x, struct archive_entry *e, struct timespec ts[2])
{
        if (!x->api->entry_mtime_is_set(e))
                return false;
        ts[0] = (struct timespec){ .tv_nsec = UTIME_OMIT };
        ts[1] = (struct timespec){ .tv_sec = x->api->entry_mtime(e),
                                   .tv_nsec = x->api->entry_mtime_nsec(e) };
        if (ts[1].tv_nsec < 0 || ts[1].tv_nsec > 999999999)
                ts[1].tv_nsec = 0;
        return true;
}

static int make_file(int dfd, const char *name, void *arg)
{
        int *fd = arg;

        *fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        return *fd < 0 ? -1 : 0;
}

/* Streams a file's data into a temporary file, then renames it into place. */
static int xa_file_data(struct xa *x, struct archive_entry *e, int fd)
{
        uint64_t end = 0;
        struct timespec ts[2];
        int r;

        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t off;

                r = xa_check_stop(x);
                if (r < 0)
                        return r;
                r = x->api->read_data_block(x->ar, &buf, &size, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return xa_fail(x, -EIO, "cannot read its data: %s",
                                       xa_archive_error(x));
                if (off < 0 || (uint64_t)off > UINT64_MAX - size)
                        return xa_fail(x, -EINVAL, "the archive gives a bad offset for its data");
                if ((uint64_t)off + size > end) {
                        r = xa_charge(x, (uint64_t)off + size - end);
                        if (r < 0)
                                return r;
                        end = (uint64_t)off + size;
                }
                r = pwrite_all(fd, buf, size, (off_t)off);
                if (r < 0)
                        return xa_fail(x, r, "cannot write it: %s", strerror(-r));
        }
        /* A sparse file may end in a hole. */
        if (x->api->entry_size_is_set(e) && x->api->entry_size(e) > 0 &&
            (uint64_t)x->api->entry_size(e) > end) {
                r = xa_charge(x, (uint64_t)x->api->entry_size(e) - end);
                if (r < 0)
                        return r;
                if (ftruncate(fd, (off_t)x->api->entry_size(e)) < 0)
                        return xa_fail(x, -errno, "cannot write it: %s", strerror(errno));
        }
        if (fchmod(fd, xa_perm(x, e)) < 0)
                return xa_fail(x, -errno, "cannot set its mode: %s", strerror(errno));
        if (xa_mtime(x, e, ts) && futimens(fd, ts) < 0)
                return xa_fail(x, -errno, "cannot set its time: %s", strerror(errno));
        return 0;
}

static int xa_file(struct xa *x, struct archive_entry *e, int dfd, const char *leaf)
{
        char tmp[64];
        int fd = -1, r;

        if (x->api->entry_size_is_set(e) && x->api->entry_size(e) > 0 &&
            (uint64_t)x->api->entry_size(e) > x->lim.max_bytes - x->bytes)
                return xa_charge(x, (uint64_t)x->api->entry_size(e));
        r = xa_make_tmp(x, dfd, tmp, sizeof tmp, make_file, &fd);
        if (r < 0)
                return xa_fail(x, r, "cannot create a temporary file beside it: %s", strerror(-r));
        r = xa_file_data(x, e, fd);
        if (close(fd) < 0 && r >= 0)
                r = xa_fail(x, -errno, "cannot write it: %s", strerror(errno));
        if (r < 0) {
                (void)unlinkat(dfd, tmp, 0);
                return r;
        }
        return xa_place(x, dfd, tmp, leaf, "file");
}

struct symlink_arg {
        const char *target;
};

static int make_symlink(int dfd, const char *name, void *arg)
{
        const struct symlink_arg *s = arg;

        return symlinkat(s->target, dfd, name);
}

static int xa_symlink(struct xa *x, struct archive_entry *e, const char *path, int dfd, const char *leaf)
{
        struct symlink_arg s = {
                .target = either(x->api->entry_symlink(e), x->api->entry_symlink_utf8(e)),
        };
        struct timespec ts[2];
        char tmp[64];
        int r;

        r = xa_check_symlink_target(x, path, s.target);
        if (r < 0)
                return r;
        r = xa_make_tmp(x, dfd, tmp, sizeof tmp, make_symlink, &s);
        if (r < 0)
                return xa_fail(x, r, "cannot create the symbolic link: %s", strerror(-r));
        if (xa_mtime(x, e, ts))
                (void)utimensat(dfd, tmp, ts, AT_SYMLINK_NOFOLLOW);
        return xa_place(x, dfd, tmp, leaf, "symbolic link");
}

struct link_arg {
        int fd;
        const char *leaf;
};

static int make_link(int dfd, const char *name, void *arg)
{
        const struct link_arg *l = arg;

        return linkat(l->fd, l->leaf, dfd, name, 0);
}

static int xa_hardlink(struct xa *x, const char *target, int dfd, const char *leaf)
{
        _cleanup_free_ char *tpath = NULL, *tdir = NULL;
        _cleanup_close_ int tfd = -1;
        struct strbuf q = STRBUF_INIT;
        struct link_arg l;
        const char *slash;
        struct stat st;
        char tmp[64];
        int r;

        r = xa_member_path(x, target, "hard link's target", &tpath);
        if (r < 0)
                return r;
        /* Its target was stripped away, so it is too (as in tar). */
        if (!tpath)
                return 0;
        if (!*tpath)
                return xa_fail(x, -EPERM, "the hard link's target is the destination folder");
        slash = strrchr(tpath, '/');
        tdir = slash ? xstrndup(tpath, (size_t)(slash - tpath)) : xstrdup("");
        l.leaf = slash ? slash + 1 : tpath;
        r = xa_walk(x, tdir, false, &tfd);
        if (r < 0)
                return r;
        if (fstatat(tfd, l.leaf, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                int e = errno;

                r = xa_fail(x, -e, "the hard link's target %s is not in the destination: %s",
                            quoted(&q, tpath), strerror(e));
                sb_free(&q);
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                r = xa_fail(x, -EPERM, "the hard link's target %s is not a regular file",
                            quoted(&q, tpath));
                sb_free(&q);
                return r;
        }
        l.fd = tfd;
        r = xa_make_tmp(x, dfd, tmp, sizeof tmp, make_link, &l);
        if (r < 0)
                return xa_fail(x, r, "cannot create the hard link: %s", strerror(-r));
        r = xa_place(x, dfd, tmp, leaf, "hard link");
        /* Renaming a link over another link to the same file does nothing. */
        if (r >= 0)
                (void)unlinkat(dfd, tmp, 0);
        return r;
}

static void xa_defer_dir(struct xa *x, struct archive_entry *e, const char *path, bool existed)
{
        struct xa_dirfix *d;
        struct timespec ts[2];

        if (x->n_dirs == x->cap_dirs) {
                x->cap_dirs = x->cap_dirs ? 2 * x->cap_dirs : 64;
                x->dirs = xrealloc(x->dirs, x->cap_dirs * sizeof *x->dirs);
        }
        d = &x->dirs[x->n_dirs++];
        *d = (struct xa_dirfix){ .path = xstrdup(path), .mode = xa_perm(x, e), .existed = existed };
        if (xa_mtime(x, e, ts)) {
                d->has_mtime = true;
                d->mtime = ts[1];
        }
}

static int xa_dir(struct xa *x, struct archive_entry *e, const char *path, int dfd, const char *leaf)
{
        struct stat st;

        if (mkdirat(dfd, leaf, 0700) == 0) {
                xa_defer_dir(x, e, path, false);
                return 0;
        }
        if (errno != EEXIST)
                return xa_fail(x, -errno, "cannot create the folder: %s", strerror(errno));
        if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return xa_fail(x, -errno, "cannot create the folder: %s", strerror(errno));
        if (S_ISDIR(st.st_mode)) {
                if (x->overwrite)
                        xa_defer_dir(x, e, path, true);
                return 0;
        }
        if (S_ISLNK(st.st_mode))
                return xa_fail(x, -ELOOP, "it is a symbolic link in the destination; "
                               "ExtractArchive never writes through symbolic links");
        if (!x->overwrite)
                return xa_fail(x, -EEXIST, "it already exists in the destination (not as a folder) "
                               "and overwrite is false");
        if (unlinkat(dfd, leaf, 0) < 0 || mkdirat(dfd, leaf, 0700) < 0)
                return xa_fail(x, -errno, "cannot replace the file in the destination with a folder: %s",
                               strerror(errno));
        xa_defer_dir(x, e, path, false);
        return 0;
}

/* Gives one folder its mode and time. */
static int xa_fix_dir(struct xa *x, const struct xa_dirfix *d)
{
        const char *slash = strrchr(d->path, '/');
        _cleanup_free_ char *dir = slash ? xstrndup(d->path, (size_t)(slash - d->path)) : xstrdup("");
        _cleanup_close_ int pfd = -1, fd = -1;
        struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, d->mtime };
        int r;

        r = xa_walk(x, dir, false, &pfd);
        if (r < 0)
                return r;
        fd = openat(pfd, slash ? slash + 1 : d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return xa_fail(x, -errno, "cannot open the folder to set its mode: %s", strerror(errno));
        if (fchmod(fd, d->mode) < 0 && !d->existed)
                return xa_fail(x, -errno, "cannot set the folder's mode: %s", strerror(errno));
        if (d->has_mtime && futimens(fd, ts) < 0 && !d->existed)
                return xa_fail(x, -errno, "cannot set the folder's time: %s", strerror(errno));
        return 0;
}

/* Gives the archive's folders their modes and times, the last named
 * (usually the deepest) first.  Also runs after a failure, so that what
 * was extracted has its modes; the first failure's message stays. */
static int xa_fix_dirs(struct xa *x)
{
        int r = 0;

        while (x->n_dirs > 0) {
                struct xa_dirfix *d = &x->dirs[--x->n_dirs];
                int k;

                x->member = d->path;
                k = xa_fix_dir(x, d);
                if (k < 0 && r == 0)
                        r = k;
                free(d->path);
        }
        x->member = NULL;
        return r;
}

/* ---- one member, one archive ----------------------------------------------- */

static int xa_skip_data(struct xa *x, struct archive_entry *e)
{
        int r;

        if (x->api->entry_size_is_set(e) && x->api->entry_size(e) > 0) {
                r = xa_charge(x, (uint64_t)x->api->entry_size(e));
                if (r < 0)
                        return r;
        }
        r = x->api->read_data_skip(x->ar);
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                return xa_fail(x, -EIO, "cannot read past its data: %s",
                               xa_archive_error(x));
        return 0;
}

static int xa_member(struct xa *x, struct archive_entry *e)
{
        _cleanup_free_ char *path = NULL;
        const char *hardlink = either(x->api->entry_hardlink(e), x->api->entry_hardlink_utf8(e));
        const char *leaf;
        mode_t type = x->api->entry_filetype(e);
        int dfd, r;

        r = xa_member_path(x, x->member, "name", &path);
        if (r < 0)
                return r;
        /* Refused whatever stripComponents makes of their names. */
        if (!hardlink) {
                if (type == AE_IFCHR || type == AE_IFBLK)
                        return xa_fail(x, -EPERM, "it is a device node; "
                                       "ExtractArchive does not create device nodes");
                if (type == AE_IFIFO || type == AE_IFSOCK)
                        return xa_fail(x, -EPERM, "it is a %s; ExtractArchive extracts only files, "
                                       "folders and links", type == AE_IFIFO ? "fifo" : "socket");
                if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
                        return xa_fail(x, -EPERM, "it has an unknown type (mode %#o)", (unsigned)type);
        }
        if (!path)
                return xa_skip_data(x, e);
        if (!*path) {
                if (!hardlink && type == AE_IFDIR)
                        return xa_skip_data(x, e);
                return xa_fail(x, -EPERM, "it names the destination folder itself but is not a folder");
        }

        r = xa_parent(x, path, &dfd, &leaf);
        if (r < 0)
                return r;
        if (hardlink) {
                r = xa_hardlink(x, hardlink, dfd, leaf);
                if (r < 0)
                        return r;
                return xa_skip_data(x, e);
        }
        switch (type) {
        case AE_IFREG:
                return xa_file(x, e, dfd, leaf);
        case AE_IFDIR:
                r = xa_dir(x, e, path, dfd, leaf);
                break;
        default:
                r = xa_symlink(x, e, path, dfd, leaf);
                break;
        }
        if (r < 0)
                return r;
        return xa_skip_data(x, e);
}

/* Opens (creating when missing, with its parents) the destination; its own
 * path is the author's, so symbolic links in it are followed. */
static int xa_open_destination(struct xa *x)
{
        int r = mkdir_parents(x->destination, 0755);

        if (r < 0)
                return xa_fail(x, r, "cannot create the destination %s: %s", x->destination, strerror(-r));
        x->dest_fd = open(x->destination, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (x->dest_fd < 0) {
                int e = errno;

                return xa_fail(x, -e, "cannot open the destination %s: %s", x->destination,
                               e == ENOTDIR ? "it is not a folder" : strerror(e));
        }
        return 0;
}

static int xa_open_archive(struct xa *x)
{
        const struct archive_api *a = x->api;
        _cleanup_close_ int fd = -1;
        struct stat st;

        /* Non-blocking, so that a fifo cannot hang the step before the
         * check below; it makes no difference to a regular file. */
        fd = open(x->source, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return xa_fail(x, -errno, "cannot open the archive: %s", strerror(errno));
        if (fstat(fd, &st) < 0)
                return xa_fail(x, -errno, "cannot open the archive: %s", strerror(errno));
        if (!S_ISREG(st.st_mode))
                return xa_fail(x, -EINVAL, "%s", S_ISDIR(st.st_mode) ? "it is a folder, not an archive file"
                               : "it is not a regular file; only archive files are read");
        x->ar = a->read_new();
        if (!x->ar)
                return -ENOMEM;
        if (a->read_support_format_tar(x->ar) != ARCHIVE_OK ||
            a->read_support_format_zip(x->ar) != ARCHIVE_OK ||
            a->read_support_filter_gzip(x->ar) < ARCHIVE_WARN ||
            a->read_support_filter_bzip2(x->ar) < ARCHIVE_WARN ||
            a->read_support_filter_xz(x->ar) < ARCHIVE_WARN ||
            (a->read_support_filter_zstd && a->read_support_filter_zstd(x->ar) < ARCHIVE_WARN))
                return xa_fail(x, -ENOTSUP, "libarchive cannot read tar and zip: %s",
                               xa_archive_error(x));
        if (a->read_open_fd(x->ar, fd, XA_READ_BLOCK) != ARCHIVE_OK)
                return xa_fail(x, -EIO, "cannot read the archive: %s",
                               xa_archive_error(x));
        x->src_fd = fd;
        fd = -1;
        return 0;
}

/* Reads the next member's header into *ret_entry and checks the bounds
 * on members.  Returns 1, 0 at the end of the archive, or a negative
 * errno. */
static int xa_next_member(struct xa *x, struct archive_entry **ret_entry)
{
        const char *why;
        int r;

        r = xa_check_stop(x);
        if (r < 0)
                return r;
        r = x->api->read_next_header(x->ar, ret_entry);
        if (r == ARCHIVE_EOF)
                return 0;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
                why = x->api->error_string(x->ar);
                if (x->entries == 0)
                        return xa_fail(x, -EIO, "cannot read the archive: %s", why ? why : "unknown error");
                x->member = sb_str(&x->prev_member);
                return xa_fail(x, -EIO, "cannot read the archive after this member (number %" PRIu64 "): %s",
                               x->entries, why ? why : "unknown error");
        }
        x->entries++;
        x->member = either(x->api->entry_pathname(*ret_entry), x->api->entry_pathname_utf8(*ret_entry));
        if (!x->member)
                return xa_fail(x, -EILSEQ, "member number %" PRIu64 " has no name that can be read",
                               x->entries);
        if (x->entries > x->lim.max_entries)
                return xa_fail(x, -E2BIG, "the archive has more than %" PRIu64 " members (the bound "
                               "set by OPENTOE_EXTRACT_MAX_ENTRIES); extraction stopped", x->lim.max_entries);
        return 1;
}

static int xa_extract(struct xa *x)
{
        struct archive_entry *e;
        int r, k;

        r = xa_open_archive(x);
        if (r < 0)
                return r;
        while ((r = xa_next_member(x, &e)) > 0) {
                /* The destination is made only once the archive has proved
                 * readable, so an unreadable one leaves nothing behind. */
                if (x->dest_fd < 0) {
                        const char *member = x->member;

                        x->member = NULL;
                        r = xa_open_destination(x);
                        if (r < 0)
                                break;
                        x->member = member;
                }
                r = xa_member(x, e);
                if (r < 0)
                        break;
                x->prev_member.len = 0;
                sb_puts(&x->prev_member, x->member);
                x->member = NULL;
        }
        x->member = NULL;
        if (r == 0 && x->dest_fd < 0)
                r = xa_open_destination(x);
        k = xa_fix_dirs(x);
        return r < 0 ? r : k;
}

static void xa_done(struct xa *x)
{
        if (x->ar)
                x->api->read_free(x->ar);
        x->src_fd = safe_close(x->src_fd);
        x->cache_fd = safe_close(x->cache_fd);
        x->dest_fd = safe_close(x->dest_fd);
        free(x->cache_path);
        sb_free(&x->prev_member);
        for (size_t i = 0; i < x->n_dirs; i++)
                free(x->dirs[i].path);
        free(x->dirs);
}

/* ---- one archive ------------------------------------------------------------ */

/* libarchive converts names to the locale's encoding and gives up on UTF-8
 * zip names in the C locale opentoe runs in.  Extraction therefore runs
 * with LC_CTYPE set to C.UTF-8 for this thread only (uselocale), so such
 * names come out as their UTF-8 bytes; names without a declared encoding
 * are bytes, and stay as they are.  Returns (locale_t)0 when C.UTF-8 is
 * missing, and the process's locale then applies. */
static locale_t xa_enter_utf8(locale_t *ret_old)
{
        locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);

        if (loc)
                *ret_old = uselocale(loc);
        return loc;
}

static void xa_leave_utf8(locale_t loc, locale_t old)
{
        if (!loc)
                return;
        uselocale(old);
        freelocale(loc);
}

int archive_unpack(const struct archive_api *api, const struct action_ctx *ctx, const struct xa_request *req,
                   bool *ret_timed_out, char **reterr_msg)
{
        struct xa x = {
                .api = api,
                .ctx = ctx,
                .lim = xa_limits_from_env(),
                .no = req->no,
                .source = req->source,
                .destination = req->destination,
                .overwrite = req->overwrite,
                .strip = req->strip,
                .src_fd = -1,
                .dest_fd = -1,
                .cache_fd = -1,
        };
        locale_t loc, old_loc = (locale_t)0;
        int r;

        loc = xa_enter_utf8(&old_loc);
        r = xa_extract(&x);
        xa_done(&x);
        xa_leave_utf8(loc, old_loc);
        if (r < 0 && !x.message)
                x.message = xasprintf("ExtractArchive entry %zu (%s): %s", x.no, x.source, strerror(-r));
        *ret_timed_out = x.timed_out;
        if (!x.message)
                return 0;
        if (reterr_msg)
                *reterr_msg = TAKE_PTR(x.message);
        free(x.message);
        return r < 0 ? r : -EIO;
}
