/* fsmove.c: moves, with a copy-then-delete fallback across file systems
 * (fsmove.h). */
#include "fsmove.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fscopy.h"
#include "fsreplace.h"
#include "fswalk.h"
#include "strbuf.h"

/* A move across file systems: a copy that keeps everything, then the
 * source deleted. */
static int move_by_copy(struct fs_job *j, const char *src, const char *target, bool replace, char **reterr_msg)
{
        struct stat st;
        int r;

        if (lstat(src, &st) < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot examine %s", src);
        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int fd = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                if (fd < 0)
                        return fs_fail_errno(reterr_msg, -errno, "cannot open the folder %s", src);
                r = fs_copy_tree_new(j, fd, src, target, FS_COPY_PRESERVE, reterr_msg);
        } else if (S_ISREG(st.st_mode)) {
                _cleanup_close_ int fd = open(src, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);

                if (fd < 0)
                        return fs_fail_errno(reterr_msg, -errno, "cannot open %s", src);
                r = fs_copy_file_fd(j, fd, &st, target, FS_COPY_PRESERVE | (replace ? FS_COPY_REPLACE : 0), reterr_msg);
        } else {
                /* A link or special file: made under a temporary name. */
                struct fs_tmp t = FS_TMP_INIT;

                r = fs_tmp_open_dir(target, &t, reterr_msg);
                if (r >= 0) {
                        fs_tmp_name(t.name, sizeof t.name, t.target);
                        if (S_ISLNK(st.st_mode)) {
                                char buf[PATH_MAX + 1];
                                ssize_t n = readlink(src, buf, sizeof buf - 1);

                                if (n < 0)
                                        r = fs_fail_errno(reterr_msg, -errno, "cannot read the link %s", src);
                                else {
                                        buf[n] = '\0';
                                        if (symlinkat(buf, t.dirfd, t.name) < 0)
                                                r = fs_fail_errno(reterr_msg, -errno, "cannot create %s", target);
                                }
                        } else if (mknodat(t.dirfd, t.name, st.st_mode, st.st_rdev) < 0)
                                r = fs_fail_errno(reterr_msg, -errno, "cannot create %s", target);
                        if (r < 0)
                                t.name[0] = '\0';
                }
                if (r >= 0)
                        r = fs_preserve_at(t.dirfd, t.name, &st, target, reterr_msg);
                r = fs_tmp_finish(&t, r, replace, target, NULL, reterr_msg);
        }
        if (r < 0)
                return r;
        return fs_remove_tree(j, AT_FDCWD, src, src, reterr_msg);
}

int fs_move(struct fs_job *j, const char *src, const char *target, bool replace, char **reterr_msg)
{
        int r;

        if (replace)
                r = rename(src, target) < 0 ? -errno : 0;
        else
                r = fs_rename_noreplace(AT_FDCWD, src, AT_FDCWD, target);
        if (r == 0)
                return 0;
        if (r == -EXDEV)
                return move_by_copy(j, src, target, replace, reterr_msg);
        if (r == -EEXIST || r == -ENOTEMPTY)
                return fs_fail(reterr_msg, -EEXIST, "%s already exists", target);
        return fs_fail_errno(reterr_msg, r, "cannot move %s to %s", src, target);
}

struct merge_state {
        struct fs_dirfds dst;
        bool moved[FS_MAX_DEPTH + 2];
};

static int merge_visit(struct fs_walk *w, enum fs_visit v, int dirfd, const char *name, int type, int fd,
                       unsigned depth, char **reterr_msg)
{
        struct merge_state *ms = w->userdata;
        int dstdir = ms->dst.fd[depth - 1];
        struct stat old;
        bool exists = v != FS_VISIT_DIR_POST && fstatat(dstdir, name, &old, AT_SYMLINK_NOFOLLOW) == 0;

        switch (v) {
        case FS_VISIT_FILE:
                if (exists && S_ISDIR(old.st_mode))
                        return fs_fail(reterr_msg, -EISDIR, "cannot replace a folder with the file %s",
                                       fs_walk_path(w));
                if (renameat(dirfd, name, dstdir, name) < 0)
                        return fs_fail_errno(reterr_msg, -errno, "cannot move %s", fs_walk_path(w));
                return 0;
        case FS_VISIT_DIR_PRE:
                ms->moved[depth] = false;
                if (!exists) {
                        if (renameat(dirfd, name, dstdir, name) < 0)
                                return fs_fail_errno(reterr_msg, -errno, "cannot move %s", fs_walk_path(w));
                        ms->moved[depth] = true;
                        return FS_SKIP;
                }
                if (!S_ISDIR(old.st_mode))
                        return fs_fail(reterr_msg, -ENOTDIR, "cannot replace a file with the folder %s",
                                       fs_walk_path(w));
                ms->dst.fd[depth] = openat(dstdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (ms->dst.fd[depth] < 0)
                        return fs_fail_errno(reterr_msg, -errno, "cannot open the folder receiving %s",
                                             fs_walk_path(w));
                return 0;
        case FS_VISIT_DIR_POST:
                if (ms->moved[depth])
                        return 0;
                close(ms->dst.fd[depth]);
                ms->dst.fd[depth] = -1;
                if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
                        return fs_fail_errno(reterr_msg, -errno, "cannot delete the moved folder %s", fs_walk_path(w));
                return 0;
        }
        return 0;
}

int fs_move_merge(struct fs_job *j, const char *src, const char *target, char **reterr_msg)
{
        _cleanup_close_ int srcfd = -1, dstfd = -1;
        struct stat s1, s2;
        int r;

        srcfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (srcfd < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot open the folder %s", src);
        dstfd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dstfd < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot open the folder %s", target);
        if (fstat(srcfd, &s1) < 0 || fstat(dstfd, &s2) < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot examine %s", src);
        if (s1.st_dev != s2.st_dev) {
                r = fs_copy_tree_into(j, srcfd, src, dstfd, FS_COPY_PRESERVE | FS_COPY_REPLACE, reterr_msg);
        } else {
                struct merge_state *ms = xcalloc(1, sizeof *ms);

                fs_dirfds_init(&ms->dst, dstfd);
                r = fs_walk_tree(j, srcfd, src, merge_visit, ms, reterr_msg);
                fs_dirfds_close(&ms->dst);
                free(ms);
        }
        if (r < 0)
                return r;
        return fs_remove_tree(j, AT_FDCWD, src, src, reterr_msg);
}
