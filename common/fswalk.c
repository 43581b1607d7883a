/* fswalk.c: the no-follow tree walk and rm -rf (fswalk.h). */
#include "fswalk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strbuf.h"

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

static int walk_children(struct fs_walk *w, DIR *d, unsigned depth, char **reterr_msg);

static int walk_folder(struct fs_walk *w, int dirfd, const char *name, unsigned depth, char **reterr_msg)
{
        unsigned max = w->max_depth ? w->max_depth : FS_MAX_DEPTH;
        int fd, r, r2;
        DIR *d;

        if (depth > max)
                return fs_fail(reterr_msg, -ELOOP, "folders nest more than %u levels deep at %s", max, w->path);
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;     /* gone meanwhile */
                return fs_fail_errno(reterr_msg, -errno, "cannot open the folder %s", w->path);
        }
        r = w->visit(w, FS_VISIT_DIR_PRE, dirfd, name, DT_DIR, fd, depth, reterr_msg);
        if (r < 0) {
                close(fd);
                return r;
        }
        if (r != FS_SKIP) {
                d = fdopendir(fd);
                if (!d) {
                        r = fs_fail_errno(reterr_msg, -errno, "cannot read the folder %s", w->path);
                        close(fd);
                        return r;
                }
                r = walk_children(w, d, depth + 1, reterr_msg);
                if (r < 0) {
                        closedir(d);
                        return r;
                }
                r2 = w->visit(w, FS_VISIT_DIR_POST, dirfd, name, DT_DIR, fd, depth, reterr_msg);
                closedir(d);
                return r2 < 0 ? r2 : 0;
        }
        r2 = w->visit(w, FS_VISIT_DIR_POST, dirfd, name, DT_DIR, fd, depth, reterr_msg);
        close(fd);
        return r2 < 0 ? r2 : 0;
}

static int walk_children(struct fs_walk *w, DIR *d, unsigned depth, char **reterr_msg)
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
                                return fs_fail_errno(reterr_msg, -errno, "cannot read the folder %s", w->path);
                        return 0;
                }
                name = de->d_name;
                if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
                        continue;
                r = fs_tick(w->job, reterr_msg);
                if (r < 0)
                        return r;
                type = de->d_type;
                if (type == DT_UNKNOWN) {
                        struct stat st;

                        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                                if (errno == ENOENT)
                                        continue;
                                return fs_fail_errno(reterr_msg, -errno, "cannot examine %s/%s", w->path, name);
                        }
                        type = IFTODT(st.st_mode);
                }
                old = path_push(w, name);
                if (type == DT_DIR)
                        r = walk_folder(w, dfd, name, depth, reterr_msg);
                else
                        r = w->visit(w, FS_VISIT_FILE, dfd, name, type, -1, depth, reterr_msg);
                path_pop(w, old);
                if (r < 0)
                        return r;
        }
}

int fs_walk(struct fs_walk *w, int rootfd, const char *root, char **reterr_msg)
{
        int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        int e = fd < 0 ? errno : 0; /* path_push may allocate */
        DIR *d;
        int r;

        w->path_len = 0;
        path_push(w, root);
        if (fd < 0)
                return fs_fail_errno(reterr_msg, -e, "cannot read the folder %s", root);
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return fs_fail_errno(reterr_msg, r, "cannot read the folder %s", root);
        }
        r = walk_children(w, d, 1, reterr_msg);
        closedir(d);
        return r;
}

void fs_walk_done(struct fs_walk *w)
{
        free(w->path);
        w->path = NULL;
}

void fs_dirfds_init(struct fs_dirfds *d, int rootfd)
{
        for (size_t i = 0; i < sizeof d->fd / sizeof d->fd[0]; i++)
                d->fd[i] = -1;
        d->fd[0] = rootfd;
}

void fs_dirfds_close(struct fs_dirfds *d)
{
        for (size_t i = 1; i < sizeof d->fd / sizeof d->fd[0]; i++)
                if (d->fd[i] >= 0) {
                        close(d->fd[i]);
                        d->fd[i] = -1;
                }
}

int fs_walk_tree(struct fs_job *j, int rootfd, const char *root, fs_visit_fn visit, void *userdata, char **reterr_msg)
{
        struct fs_walk w = { .job = j, .visit = visit, .userdata = userdata };
        int r = fs_walk(&w, rootfd, root, reterr_msg);

        fs_walk_done(&w);
        return r;
}

static int remove_visit(struct fs_walk *w, enum fs_visit v, int dirfd, const char *name, int type, int fd,
                        unsigned depth, char **reterr_msg)
{
        if (v == FS_VISIT_DIR_PRE)
                return 0;
        if (unlinkat(dirfd, name, v == FS_VISIT_DIR_POST ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
                return fs_fail_errno(reterr_msg, -errno, "cannot delete %s", fs_walk_path(w));
        return 0;
}

int fs_remove_tree(struct fs_job *j, int dirfd, const char *name, const char *display, char **reterr_msg)
{
        int fd, r;

        if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return fs_fail_errno(reterr_msg, -errno, "cannot delete %s", display);
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot delete %s", display);
        r = fs_walk_tree(j, fd, display, remove_visit, NULL, reterr_msg);
        close(fd);
        if (r < 0)
                return r;
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return fs_fail_errno(reterr_msg, -errno, "cannot delete %s", display);
        return 0;
}
