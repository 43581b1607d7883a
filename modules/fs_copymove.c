/* fs_copymove.c: the shared rules of the copy and move actions
 * (fs_copymove.h). */
#include "fs_copymove.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_entries.h"
#include "fscopy.h"
#include "fsmove.h"
#include "fspath.h"
#include "fsreplace.h"
#include "strbuf.h"
#include "strv.h"

/* The sources of an entry: the sorted matches of a `*` wildcard in
 * `source` (of `kind`; none is an error), which needs a `destination`
 * ending with a separator, or `source` itself.  *ret is NULL-terminated;
 * *ret_wildcard says which. */
static int sources(const char *source, const char *destination, enum fs_kind kind, char ***ret,
                   size_t *ret_n, bool *ret_wildcard, char **reterr_msg)
{
        int r = fs_check_wildcard(source, reterr_msg);

        if (r < 0)
                return r;
        *ret_wildcard = fs_has_wildcard(source);
        if (!*ret_wildcard) {
                char **v = xcalloc(2, sizeof(char *));

                v[0] = xstrdup(source);
                *ret = v;
                *ret_n = 1;
                return 0;
        }
        if (!fs_ends_with_sep(destination))
                return fs_fail(reterr_msg, -EINVAL,
                               "a source with a * wildcard needs a destination folder, ending with /");
        r = fs_glob(source, kind, ret, ret_n, reterr_msg);
        if (r < 0)
                return r;
        if (*ret_n == 0) {
                strv_free(*ret);
                *ret = NULL;
                return fs_fail(reterr_msg, -ENOENT, "nothing matches the source");
        }
        return 0;
}

/* Where `src` goes: `destination` joined with the source's name when it
 * ends with a separator, else `destination` itself. */
static char *target_of(const char *src, const char *destination)
{
        _cleanup_free_ char *base = NULL;

        if (!fs_ends_with_sep(destination))
                return xstrdup(destination);
        base = fs_basename(src);
        return fs_join(destination, base);
}

/* The checks on the target of a copy or move of the non-folder `st`
 * (`old` is what is there, when `exists`), then its missing folders. */
static int file_target(const struct stat *st, const struct stat *old, bool exists, const char *target,
                       bool overwrite, char **reterr_msg)
{
        if (exists) {
                if (old->st_dev == st->st_dev && old->st_ino == st->st_ino)
                        return fs_fail(reterr_msg, -EINVAL, "the source and the destination are the same file");
                if (S_ISDIR(old->st_mode))
                        return fs_fail(reterr_msg, -EISDIR, "the destination %s is a folder", target);
                if (!overwrite)
                        return fs_fail(reterr_msg, -EEXIST, "the destination %s already exists and overwrite is false",
                                       target);
        }
        return fs_mkdir_parent(target, reterr_msg);
}

int fs_copy_file_to(struct fs_job *j, int srcfd, const struct stat *st, const char *target, bool overwrite,
                    char **reterr_msg)
{
        _cleanup_free_ char *real = NULL;
        struct stat old;
        bool exists = lstat(target, &old) == 0;
        int r;

        if (exists && S_ISLNK(old.st_mode)) {
                real = realpath(target, NULL);
                if (real && stat(real, &old) == 0)
                        target = real;
        }
        r = file_target(st, &old, exists, target, overwrite, reterr_msg);
        if (r >= 0)
                r = fs_reword(reterr_msg,
                              fs_copy_file_fd(j, srcfd, st, target, overwrite ? FS_COPY_REPLACE : 0, reterr_msg),
                              -EEXIST, "the destination %s already exists and overwrite is false", target);
        return r;
}

int fs_move_file_to(struct fs_job *j, const char *src, const char *target, bool overwrite, char **reterr_msg)
{
        struct stat st, old;
        int r;

        if (lstat(src, &st) < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot examine %s", src);
        r = file_target(&st, &old, lstat(target, &old) == 0, target, overwrite, reterr_msg);
        if (r >= 0)
                r = fs_reword(reterr_msg, fs_move(j, src, target, overwrite, reterr_msg), -EEXIST,
                              "the destination %s already exists and overwrite is false", target);
        return r;
}

/* "<what> does not exist" for a source that is not there, else the
 * failure of `verb`ing it. */
static int source_failed(int e, const char *verb, const char *what, char **reterr_msg)
{
        if (e == ENOENT || e == ENOTDIR)
                return fs_fail(reterr_msg, -ENOENT, "%s does not exist", what);
        return fs_fail_errno(reterr_msg, -e, "cannot %s %s", verb, what);
}

/* Fills `s` for the source `path`: a copy's source opened (links
 * followed) and fstat()ed, a move's lstat()ed. */
static int source_open(struct fs_source *s, const char *path, enum fs_op op, char **reterr_msg)
{
        s->path = path;
        s->target = target_of(path, s->destination);
        s->what = s->wildcard ? xasprintf("the source %s", path) : xstrdup("the source");
        if (op == FS_OP_MOVE)
                return lstat(path, &s->st) < 0 ? source_failed(errno, "examine", s->what, reterr_msg) : 0;
        s->fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (s->fd < 0)
                return source_failed(errno, "open", s->what, reterr_msg);
        if (fstat(s->fd, &s->st) < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot examine %s", s->what);
        return 0;
}

static void source_close(struct fs_source *s)
{
        free(s->target);
        free(s->what);
        if (s->fd >= 0)
                close(s->fd);
        s->target = s->what = NULL;
        s->fd = -1;
}

int fs_file_into_folder(struct fs_source *s, char **reterr_msg)
{
        _cleanup_free_ char *base = NULL;
        struct stat st;

        if (fs_ends_with_sep(s->destination) || stat(s->target, &st) < 0 || !S_ISDIR(st.st_mode))
                return 0;
        if (!s->overwrite)
                return fs_fail(reterr_msg, -EEXIST, "a folder named %s exists and overwrite is false", s->target);
        base = fs_basename(s->path);
        free(s->target);
        s->target = fs_join(s->destination, base);
        return 0;
}

int fs_not_into_itself(const char *src, const char *target, const char *verb, char **reterr_msg)
{
        _cleanup_free_ char *rsrc = fs_resolve(src), *rtarget = fs_resolve(target);

        if (rsrc && rtarget && fs_path_within(rtarget, rsrc))
                return fs_fail(reterr_msg, -EINVAL, "cannot %s a folder into itself (%s is in %s)", verb, target, src);
        return 0;
}

int fs_folder_target(const char *target, bool overwrite, bool links_count, char **reterr_msg)
{
        struct stat st;

        if ((links_count ? lstat(target, &st) : stat(target, &st)) < 0)
                return 0;
        /* A link to a folder counts as the folder. */
        if ((links_count && stat(target, &st) < 0) || !S_ISDIR(st.st_mode))
                return fs_fail(reterr_msg, -ENOTDIR, "the destination %s exists and is not a folder", target);
        if (!overwrite)
                return fs_fail(reterr_msg, -EEXIST, "the destination folder %s already exists and overwrite is false",
                               target);
        return 1;
}

int fs_copy_move_entry(struct fs_job *j, const json_t *entry, enum fs_kind kind, enum fs_op op, fs_one_fn one,
                       char **reterr_msg)
{
        const char *source = fs_entry_str(entry, "source");
        struct fs_source s = { .destination = fs_entry_str(entry, "destination"), .fd = -1 };
        char **paths = NULL;
        size_t n;
        int r;

        if ((r = fs_entry_flag(entry, "overwrite", true, &s.overwrite, reterr_msg)) < 0)
                return r;
        if (!*source)
                return fs_fail(reterr_msg, -EINVAL, "source is empty");
        if (!*s.destination)
                return fs_fail(reterr_msg, -EINVAL, "destination is empty");
        r = sources(source, s.destination, kind, &paths, &n, &s.wildcard, reterr_msg);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = source_open(&s, paths[i], op, reterr_msg);
                if (r >= 0)
                        r = one(j, &s, reterr_msg);
                source_close(&s);
        }
        strv_free(paths);
        return r;
}
