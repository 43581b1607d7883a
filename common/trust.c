/* trust.c: walking a path from "/" with a check at every folder, and the
 * ownership and mode checks of private folders and files (see trust.h). */
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "strbuf.h"

#define MAX_SYMLINKS 40
#define MAX_DEPTH 256

/* "uid 65534 (nobody)" */
static void describe_uid(uid_t uid, char *buf, size_t size)
{
        struct passwd pw, *res = NULL;
        char tmp[1024];
        if (getpwuid_r(uid, &pw, tmp, sizeof tmp, &res) == 0 && res)
                snprintf(buf, size, "uid %u (%s)", (unsigned)uid, res->pw_name);
        else
                snprintf(buf, size, "uid %u", (unsigned)uid);
}

/* Whether a folder on the way may be passed through. */
static int check_passable(const struct stat *st, const char *what, const char *target, const char *where,
                          char **reterr)
{
        uid_t me = geteuid();
        char owner[128];
        if (st->st_uid != 0 && st->st_uid != me) {
                describe_uid(st->st_uid, owner, sizeof owner);
                *reterr = xasprintf("%s %s is unsafe: %s is owned by %s, who could replace what opentoe puts in it; "
                                    "use a folder owned by root%s, or change its owner (chown)",
                                    what, target, where, owner, me == 0 ? "" : " or by you");
                return -EPERM;
        }
        if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX)) {
                *reterr = xasprintf("%s %s is unsafe: %s can be written by %s (mode %04o) and has no sticky bit, so "
                                    "another user could replace what opentoe puts in it; fix it with "
                                    "'chmod go-w %s' (or 'chmod +t %s'), or use another folder",
                                    what, target, where, (st->st_mode & S_IWOTH) ? "others" : "its group",
                                    (unsigned)(st->st_mode & 07777), where, where);
                return -EPERM;
        }
        return 0;
}

static void path_join(struct strbuf *b, const char *name)
{
        if (b->len == 0 || b->s[b->len - 1] != '/')
                sb_putc(b, '/');
        sb_puts(b, name);
}

static void path_up(struct strbuf *b)
{
        while (b->len > 1 && b->s[b->len - 1] != '/')
                b->len--;
        if (b->len > 1)
                b->len--;
        b->s[b->len] = '\0';
}

struct walk {
        int fd[MAX_DEPTH];
        size_t n;
};

static void walk_close(struct walk *w)
{
        while (w->n > 0)
                close(w->fd[--w->n]);
}

static int walk_root(struct walk *w, const char *what, const char *target, struct strbuf *where, char **reterr)
{
        walk_close(w);
        int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                int e = errno;
                safe_close(fd);
                *reterr = xasprintf("cannot open /: %s", strerror(e));
                return -e;
        }
        w->fd[w->n++] = fd;
        sb_free(where);
        sb_puts(where, "/");
        return check_passable(&st, what, target, "/", reterr);
}

int trust_open_dir(const char *path, mode_t create_mode, const char *what, char **reterr)
{
        struct walk w = { .n = 0 };
        struct strbuf rest = STRBUF_INIT, where = STRBUF_INIT;
        unsigned links = 0;
        int r = 0, result = -EINVAL;
        *reterr = NULL;
        if (!path || !*path) {
                *reterr = xasprintf("%s is empty", what);
                return -EINVAL;
        }
        if (path[0] != '/') {
                char *cwd = getcwd(NULL, 0);
                if (!cwd) {
                        r = -errno;
                        *reterr = xasprintf("cannot find the current directory for %s %s: %s", what, path,
                                            strerror(errno));
                        return r;
                }
                sb_printf(&rest, "%s/%s", cwd, path);
                free(cwd);
        } else
                sb_puts(&rest, path);
        r = walk_root(&w, what, path, &where, reterr);
        size_t pos = 0;
        while (r >= 0) {
                /* The next component of what is left. */
                while (pos < rest.len && rest.s[pos] == '/')
                        pos++;
                if (pos >= rest.len)
                        break;
                size_t end = pos;
                while (end < rest.len && rest.s[end] != '/')
                        end++;
                char name[NAME_MAX + 1];
                if (end - pos > NAME_MAX) {
                        *reterr = xasprintf("%s %s has a component longer than %d bytes", what, path, NAME_MAX);
                        r = -ENAMETOOLONG;
                        break;
                }
                memcpy(name, rest.s + pos, end - pos);
                name[end - pos] = '\0';
                pos = end;
                if (!strcmp(name, "."))
                        continue;
                if (!strcmp(name, "..")) {
                        if (w.n > 1)
                                close(w.fd[--w.n]);
                        path_up(&where);
                        continue;
                }
                int top = w.fd[w.n - 1];
                struct stat st;
                if (fstatat(top, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT && create_mode) {
                                if (mkdirat(top, name, create_mode) < 0 && errno != EEXIST) {
                                        r = -errno;
                                        path_join(&where, name);
                                        *reterr = xasprintf("cannot create %s: %s", sb_str(&where), strerror(errno));
                                        break;
                                }
                                if (fstatat(top, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                                        goto found;
                        }
                        r = -errno;
                        path_join(&where, name);
                        *reterr = xasprintf("%s %s: %s: %s", what, path, sb_str(&where), strerror(errno));
                        break;
                }
found:
                if (S_ISLNK(st.st_mode)) {
                        char owner[128];
                        path_join(&where, name);
                        if (st.st_uid != 0 && st.st_uid != geteuid()) {
                                describe_uid(st.st_uid, owner, sizeof owner);
                                *reterr = xasprintf("%s %s is unsafe: %s is a symbolic link owned by %s; opentoe "
                                                    "follows only links owned by root or by the user it runs as",
                                                    what, path, sb_str(&where), owner);
                                r = -EPERM;
                                break;
                        }
                        if (++links > MAX_SYMLINKS) {
                                *reterr = xasprintf("%s %s: too many symbolic links", what, path);
                                r = -ELOOP;
                                break;
                        }
                        char target[PATH_MAX];
                        ssize_t n = readlinkat(top, name, target, sizeof target - 1);
                        if (n < 0) {
                                r = -errno;
                                *reterr = xasprintf("cannot read the link %s: %s", sb_str(&where), strerror(errno));
                                break;
                        }
                        target[n] = '\0';
                        path_up(&where);
                        /* The link's target takes the place of its name. */
                        struct strbuf next = STRBUF_INIT;
                        sb_puts(&next, target);
                        sb_putc(&next, '/');
                        sb_append(&next, rest.s + pos, rest.len - pos);
                        sb_free(&rest);
                        rest = next;
                        pos = 0;
                        if (target[0] == '/')
                                r = walk_root(&w, what, path, &where, reterr);
                        continue;
                }
                path_join(&where, name);
                if (!S_ISDIR(st.st_mode)) {
                        *reterr = xasprintf("%s %s: %s is not a folder", what, path, sb_str(&where));
                        r = -ENOTDIR;
                        break;
                }
                if (w.n == MAX_DEPTH) {
                        *reterr = xasprintf("%s %s is nested too deeply", what, path);
                        r = -ENAMETOOLONG;
                        break;
                }
                int fd = openat(top, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                struct stat now;
                if (fd < 0 || fstat(fd, &now) < 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
                        r = fd < 0 ? -errno : -EAGAIN;
                        *reterr = xasprintf("%s %s: %s changed while it was being checked%s%s", what, path,
                                            sb_str(&where), fd < 0 ? ": " : "", fd < 0 ? strerror(errno) : "");
                        safe_close(fd);
                        break;
                }
                w.fd[w.n++] = fd;
                r = check_passable(&now, what, path, sb_str(&where), reterr);
        }
        if (r >= 0) {
                result = openat(w.fd[w.n - 1], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (result < 0) {
                        result = -errno;
                        *reterr = xasprintf("cannot open %s %s: %s", what, path, strerror(errno));
                }
        } else
                result = r;
        walk_close(&w);
        sb_free(&rest);
        sb_free(&where);
        return result;
}

int trust_check_private(int fd, mode_t type, mode_t forbidden, const char *shown, char **reterr)
{
        struct stat st;
        uid_t me = geteuid();
        char owner[128], mine[128];
        if (fstat(fd, &st) < 0) {
                int e = errno;
                *reterr = xasprintf("cannot check %s: %s", shown, strerror(e));
                return -e;
        }
        if ((st.st_mode & S_IFMT) != type) {
                *reterr = xasprintf("%s is not a %s; refusing to use it", shown, type == S_IFDIR ? "folder" : "regular file");
                return -EPERM;
        }
        if (st.st_uid != me) {
                describe_uid(st.st_uid, owner, sizeof owner);
                describe_uid(me, mine, sizeof mine);
                *reterr = xasprintf("%s is owned by %s, not by %s who runs opentoe; refusing to trust it", shown, owner,
                                    mine);
                return -EPERM;
        }
        if (type == S_IFREG && st.st_nlink != 1) {
                *reterr = xasprintf("%s has %lu hard links; refusing to trust it", shown, (unsigned long)st.st_nlink);
                return -EPERM;
        }
        if (st.st_mode & forbidden) {
                bool reads = (forbidden & (S_IRGRP | S_IROTH)) != 0;
                *reterr = xasprintf("%s can be %s by group or others (mode %04o); refusing to trust it (fix it with "
                                    "'chmod go-%s %s')",
                                    shown, reads ? "read or written" : "written", (unsigned)(st.st_mode & 07777),
                                    reads ? "rwx" : "w", shown);
                return -EPERM;
        }
        return 0;
}

int trust_openat(int dirfd, const char *name, int flags, mode_t mode, mode_t type, mode_t forbidden,
                 const char *shown, char **reterr)
{
        int f = flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
        *reterr = NULL;
        if (flags & O_CREAT)
                f |= O_EXCL;
        if (type == S_IFDIR)
                f |= O_DIRECTORY;
        int fd = openat(dirfd, name, f, mode);
        if (fd < 0) {
                int e = errno;
                if (e == ENOENT && !(flags & O_CREAT))
                        return -ENOENT;
                if (e == ELOOP)
                        *reterr = xasprintf("%s is a symbolic link; refusing to follow it", shown);
                else if (e == EEXIST)
                        *reterr = xasprintf("%s already exists; refusing to use what may not be opentoe's", shown);
                else
                        *reterr = xasprintf("cannot open %s: %s", shown, strerror(e));
                return -e;
        }
        int r = trust_check_private(fd, type, forbidden, shown, reterr);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}
