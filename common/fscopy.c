/* fscopy.c: copying files and folder trees (fscopy.h). */
#include "fscopy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "fsperm.h"
#include "fsreplace.h"
#include "fswalk.h"
#include "strbuf.h"

/* Bytes moved per copy_file_range/sendfile call, between questions to
 * the job whether to stop. */
#define COPY_CHUNK (64u * 1024u * 1024u)
/* Bytes of the read/write fallback buffer. */
#define COPY_BUF (128u * 1024u)

static int copy_by_read(struct fs_job *j, int in, int out, char **reterr_msg)
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
                r = write_all(out, buf, (size_t)n);
                if (r < 0)
                        return r;
                r = fs_tick(j, reterr_msg);
                if (r < 0)
                        return r;
        }
}

int fs_copy_data(struct fs_job *j, int in, int out, off_t size, char **reterr_msg)
{
        off_t done = 0;
        int r;

        if (size <= 0)
                return copy_by_read(j, in, out, reterr_msg);
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
                if (done < size && (r = fs_tick_now(j, reterr_msg)) < 0)
                        return r;
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
                if ((r = fs_tick_now(j, reterr_msg)) < 0)
                        return r;
        }
        return copy_by_read(j, in, out, reterr_msg);
}

/* Owner, group, mode and times of `st` onto an open file or folder. */
static int preserve_fd(int fd, const struct stat *st, const char *display, char **reterr_msg)
{
        struct timespec times[2] = { st->st_atim, st->st_mtim };

        if (fchown(fd, st->st_uid, st->st_gid) < 0 && errno != EPERM)
                return fs_fail_errno(reterr_msg, -errno, "cannot set the owner of %s", display);
        if (fchmod(fd, st->st_mode & 07777) < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot set the mode of %s", display);
        if (futimens(fd, times) < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot set the times of %s", display);
        return 0;
}

int fs_preserve_at(int dirfd, const char *name, const struct stat *st, const char *display, char **reterr_msg)
{
        struct timespec times[2] = { st->st_atim, st->st_mtim };

        if (fchownat(dirfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM)
                return fs_fail_errno(reterr_msg, -errno, "cannot set the owner of %s", display);
        if (!S_ISLNK(st->st_mode) && fchmodat(dirfd, name, st->st_mode & 07777, 0) < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot set the mode of %s", display);
        if (utimensat(dirfd, name, times, AT_SYMLINK_NOFOLLOW) < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot set the times of %s", display);
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
        struct fs_dirfds dst;                   /* the folders receiving the copies */
        bool made[FS_MAX_DEPTH + 2];            /* dst.fd[d] was created by this copy */
        struct stat dst_st[FS_MAX_DEPTH + 2];   /* the source folder's stat, for made folders */
};

/* Creates `name` in `dstdir` as the copy of one non-folder entry; in a
 * merge through a temporary name renamed over the old entry. */
static int copy_entry(struct fs_walk *w, struct copy_state *cs, int srcdir, const char *name, int type,
                      int dstdir, char **reterr_msg)
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
                                return fs_fail(reterr_msg, -EISDIR, "cannot replace a folder with the file %s",
                                               display);
                        if (!(cs->flags & FS_COPY_REPLACE))
                                return fs_fail(reterr_msg, -EEXIST, "the copy of %s already exists", display);
                }
                fs_tmp_name(tmp, sizeof tmp, name);
                out_name = tmp;
        }

        if (type == DT_REG) {
                _cleanup_close_ int in = -1, out = -1;
                mode_t mode, made;

                in = openat(srcdir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
                if (in < 0)
                        return fs_fail_errno(reterr_msg, -errno, "cannot open %s", display);
                if (fstat(in, &st) < 0)
                        return fs_fail_errno(reterr_msg, -errno, "cannot examine %s", display);
                mode = copy_mode(&st, cs->flags);
                out = openat(dstdir, out_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                             mode & 0777);
                if (out < 0)
                        return fs_fail_errno(reterr_msg, -errno, "cannot create the copy of %s", display);
                r = fs_copy_data(j, in, out, st.st_size, reterr_msg);
                if (r < 0) {
                        if (!j->stopped)
                                fs_fail_errno(reterr_msg, r, "cannot copy %s", display);
                } else if (cs->flags & FS_COPY_PRESERVE) {
                        r = preserve_fd(out, &st, display, reterr_msg);
                } else {
                        made = mode & 0777 & ~fs_umask();
                        if (made != mode && fchmod(out, mode) < 0)
                                r = fs_fail_errno(reterr_msg, -errno, "cannot set the mode of the copy of %s", display);
                }
                if (r >= 0) {
                        int fd = out;

                        out = -1;
                        if (close(fd) < 0)
                                r = fs_fail_errno(reterr_msg, -errno, "cannot write the copy of %s", display);
                }
        } else if (type == DT_LNK) {
                char target[PATH_MAX + 1];
                ssize_t n = readlinkat(srcdir, name, target, sizeof target - 1);

                if (n < 0)
                        return fs_fail_errno(reterr_msg, -errno, "cannot read the link %s", display);
                target[n] = '\0';
                if (symlinkat(target, dstdir, out_name) < 0)
                        return fs_fail_errno(reterr_msg, -errno, "cannot create the copy of the link %s", display);
                if ((cs->flags & FS_COPY_PRESERVE) && fstatat(srcdir, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        r = fs_preserve_at(dstdir, out_name, &st, display, reterr_msg);
        } else {
                if (fstatat(srcdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return fs_fail_errno(reterr_msg, -errno, "cannot examine %s", display);
                if (mknodat(dstdir, out_name, (st.st_mode & S_IFMT) | copy_mode(&st, cs->flags), st.st_rdev) < 0)
                        return fs_fail_errno(reterr_msg, -errno, "cannot create the copy of %s", display);
                if (cs->flags & FS_COPY_PRESERVE)
                        r = fs_preserve_at(dstdir, out_name, &st, display, reterr_msg);
        }

        if (r >= 0 && cs->merge && renameat(dstdir, out_name, dstdir, name) < 0)
                r = fs_fail_errno(reterr_msg, -errno, "cannot put the copy of %s in place", display);
        if (r < 0)
                (void)unlinkat(dstdir, out_name, 0);
        return r;
}

static int copy_visit(struct fs_walk *w, enum fs_visit v, int dirfd, const char *name, int type, int fd,
                      unsigned depth, char **reterr_msg)
{
        struct copy_state *cs = w->userdata;
        int dstdir = cs->dst.fd[depth - 1];
        struct stat old;

        switch (v) {
        case FS_VISIT_FILE:
                return copy_entry(w, cs, dirfd, name, type, dstdir, reterr_msg);
        case FS_VISIT_DIR_PRE:
                if (fstat(fd, &cs->dst_st[depth]) < 0)
                        return fs_fail_errno(reterr_msg, -errno, "cannot examine %s", fs_walk_path(w));
                cs->made[depth] = true;
                if (cs->merge && fstatat(dstdir, name, &old, AT_SYMLINK_NOFOLLOW) == 0) {
                        if (!S_ISDIR(old.st_mode))
                                return fs_fail(reterr_msg, -ENOTDIR, "cannot replace a file with the folder %s",
                                               fs_walk_path(w));
                        cs->made[depth] = false;
                } else if (mkdirat(dstdir, name, 0700) < 0)
                        return fs_fail_errno(reterr_msg, -errno, "cannot create the copy of %s", fs_walk_path(w));
                cs->dst.fd[depth] = openat(dstdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (cs->dst.fd[depth] < 0)
                        return fs_fail_errno(reterr_msg, -errno, "cannot open the copy of %s", fs_walk_path(w));
                return 0;
        case FS_VISIT_DIR_POST: {
                int out = cs->dst.fd[depth], r = 0;

                cs->dst.fd[depth] = -1;
                if (cs->made[depth]) {
                        if (cs->flags & FS_COPY_PRESERVE)
                                r = preserve_fd(out, &cs->dst_st[depth], fs_walk_path(w), reterr_msg);
                        else if (fchmod(out, copy_mode(&cs->dst_st[depth], cs->flags)) < 0)
                                r = fs_fail_errno(reterr_msg, -errno, "cannot set the mode of the copy of %s",
                                                  fs_walk_path(w));
                }
                close(out);
                return r;
        }
        }
        return 0;
}

static int copy_tree(struct fs_job *j, int srcfd, const char *src, int dstfd, bool merge, unsigned flags,
                     char **reterr_msg)
{
        struct copy_state *cs = xcalloc(1, sizeof *cs);
        int r;

        cs->flags = flags;
        cs->merge = merge;
        fs_dirfds_init(&cs->dst, dstfd);
        r = fs_walk_tree(j, srcfd, src, copy_visit, cs, reterr_msg);
        fs_dirfds_close(&cs->dst);
        free(cs);
        return r;
}

int fs_copy_file_fd(struct fs_job *j, int srcfd, const struct stat *st, const char *target, unsigned flags,
                    char **reterr_msg)
{
        struct fs_tmp t = FS_TMP_INIT;
        struct stat old;
        mode_t mode = copy_mode(st, flags);
        int r;

        if (lstat(target, &old) == 0) {
                if (S_ISDIR(old.st_mode))
                        return fs_fail(reterr_msg, -EISDIR, "%s is a folder", target);
                if (!(flags & FS_COPY_REPLACE))
                        return fs_fail(reterr_msg, -EEXIST, "%s already exists", target);
        }
        r = fs_tmp_file(target, &t, reterr_msg);
        if (r >= 0) {
                r = fs_copy_data(j, srcfd, t.fd, st->st_size, reterr_msg);
                if (r < 0 && !j->stopped)
                        r = fs_fail_errno(reterr_msg, r, "cannot copy to %s", target);
        }
        if (r >= 0) {
                if (flags & FS_COPY_PRESERVE)
                        r = preserve_fd(t.fd, st, target, reterr_msg);
                else if (fchmod(t.fd, mode) < 0)
                        r = fs_fail_errno(reterr_msg, -errno, "cannot set the mode of %s", target);
        }
        return fs_tmp_finish(&t, r, flags & FS_COPY_REPLACE, target, NULL, reterr_msg);
}

int fs_copy_tree_new(struct fs_job *j, int srcfd, const char *src, const char *target, unsigned flags,
                     char **reterr_msg)
{
        struct fs_tmp t = FS_TMP_INIT;
        struct stat st;
        int r;

        if (fstat(srcfd, &st) < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot examine %s", src);
        r = fs_tmp_dir(target, &t, reterr_msg);
        if (r >= 0)
                r = copy_tree(j, srcfd, src, t.fd, false, flags, reterr_msg);
        if (r >= 0) {
                if (flags & FS_COPY_PRESERVE)
                        r = preserve_fd(t.fd, &st, target, reterr_msg);
                else if (fchmod(t.fd, copy_mode(&st, flags)) < 0)
                        r = fs_fail_errno(reterr_msg, -errno, "cannot set the mode of %s", target);
        }
        return fs_tmp_finish(&t, r, false, target, NULL, reterr_msg);
}

int fs_copy_tree_merge(struct fs_job *j, int srcfd, const char *src, const char *target, unsigned flags,
                       char **reterr_msg)
{
        _cleanup_close_ int dstfd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (dstfd < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot open the folder %s", target);
        return fs_copy_tree_into(j, srcfd, src, dstfd, flags, reterr_msg);
}

int fs_copy_tree_into(struct fs_job *j, int srcfd, const char *src, int dstfd, unsigned flags, char **reterr_msg)
{
        return copy_tree(j, srcfd, src, dstfd, true, flags, reterr_msg);
}
