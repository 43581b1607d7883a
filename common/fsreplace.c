/* fsreplace.c: mkdir -p worded, and temporaries renamed over their
 * targets (fsreplace.h). */
#include "fsreplace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fspath.h"
#include "fswalk.h"
#include "mkdirs.h"
#include "strbuf.h"
#include "tunables.h"

int fs_mkdir_p(const char *path, mode_t mode, char **reterr_msg)
{
        _cleanup_free_ char *failed = NULL;
        int r = mkdir_parents_report(path, mode, &failed);

        if (r == -EEXIST)
                return fs_fail(reterr_msg, -ENOTDIR, "cannot create the folder %s: a file of that name exists", failed);
        if (r < 0)
                return fs_fail_errno(reterr_msg, r, "cannot create the folder %s", failed);
        return 0;
}

int fs_mkdir_parent(const char *path, char **reterr_msg)
{
        _cleanup_free_ char *dir = fs_dirname(path);

        return fs_mkdir_p(dir, 0777, reterr_msg);
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

int fs_tmp_open_dir(const char *target, struct fs_tmp *t, char **reterr_msg)
{
        _cleanup_free_ char *dir = fs_dirname(target);
        _cleanup_free_ char *base = fs_basename(target);

        if (!strcmp(base, "/") || !strcmp(base, ".") || !strcmp(base, ".."))
                return fs_fail(reterr_msg, -EINVAL, "%s does not name a file", target);
        t->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (t->dirfd < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot open the folder %s", dir);
        t->target = TAKE_PTR(base);
        return 0;
}

enum tmp_kind { TMP_FILE, TMP_DIR, TMP_SYMLINK };

/* Makes the temporary of `kind` (a link to `dest`) beside `target` under
 * fresh names until one is free. */
static int tmp_create(const char *target, struct fs_tmp *t, enum tmp_kind kind, const char *dest, char **reterr_msg)
{
        int r = fs_tmp_open_dir(target, t, reterr_msg);

        if (r < 0)
                return r;
        t->is_dir = kind == TMP_DIR;
        for (int tries = 0; tries < 100; tries++) {
                fs_tmp_name(t->name, sizeof t->name, t->target);
                if (kind == TMP_FILE)
                        r = t->fd = openat(t->dirfd, t->name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                else if (kind == TMP_DIR)
                        r = mkdirat(t->dirfd, t->name, 0700);
                else
                        r = symlinkat(dest, t->dirfd, t->name);
                if (r >= 0 && kind == TMP_DIR) {
                        t->fd = openat(t->dirfd, t->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (t->fd < 0)
                                return fs_fail_errno(reterr_msg, -errno, "cannot open the new folder %s", target);
                }
                if (r >= 0)
                        return 0;
                if (errno != EEXIST)
                        break;
        }
        r = -errno;
        t->name[0] = '\0';
        return fs_fail_errno(reterr_msg, r, "cannot create %s", target);
}

int fs_tmp_file(const char *target, struct fs_tmp *t, char **reterr_msg)
{
        return tmp_create(target, t, TMP_FILE, NULL, reterr_msg);
}

int fs_tmp_dir(const char *target, struct fs_tmp *t, char **reterr_msg)
{
        return tmp_create(target, t, TMP_DIR, NULL, reterr_msg);
}

int fs_tmp_symlink(const char *dest, const char *target, struct fs_tmp *t, char **reterr_msg)
{
        return tmp_create(target, t, TMP_SYMLINK, dest, reterr_msg);
}

int fs_rename_noreplace(int olddir, const char *oldname, int newdir, const char *newname)
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

int fs_tmp_commit(struct fs_tmp *t, bool replace, const char *display, char **reterr_msg)
{
        int r;

        if (t->fd >= 0) {
                r = close(t->fd);
                t->fd = -1;
                if (r < 0)
                        return fs_fail_errno(reterr_msg, -errno, "cannot write %s", display);
        }
        if (replace)
                r = renameat(t->dirfd, t->name, t->dirfd, t->target) < 0 ? -errno : 0;
        else
                r = fs_rename_noreplace(t->dirfd, t->name, t->dirfd, t->target);
        if (r == -EEXIST || r == -ENOTEMPTY)
                return fs_fail(reterr_msg, -EEXIST, "%s already exists", display);
        if (r < 0)
                return fs_fail_errno(reterr_msg, r, "cannot put %s in place", display);
        t->name[0] = '\0';
        return 0;
}

void fs_tmp_done(struct fs_tmp *t)
{
        t->fd = safe_close(t->fd);
        if (t->name[0] && t->dirfd >= 0) {
                if (t->is_dir) {
                        struct fs_job j = { 0 };

                        /* Clearing up after a failure already worded. */
                        (void)fs_remove_tree(&j, t->dirfd, t->name, t->name, NULL);
                } else
                        (void)unlinkat(t->dirfd, t->name, 0);
        }
        t->name[0] = '\0';
        t->dirfd = safe_close(t->dirfd);
        free(t->target);
        t->target = NULL;
}

int fs_tmp_finish(struct fs_tmp *t, int r, bool replace, const char *display, const char *exists, char **reterr_msg)
{
        if (r >= 0) {
                r = fs_tmp_commit(t, replace, display, reterr_msg);
                if (exists)
                        r = fs_reword(reterr_msg, r, -EEXIST, "%s", exists);
        }
        fs_tmp_done(t);
        return r;
}
