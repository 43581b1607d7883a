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

int fs_sources(struct fs_job *j, const char *source, const char *destination, enum fs_kind kind, char ***ret,
               size_t *ret_n, bool *ret_wildcard)
{
        int r = fs_check_wildcard(j, source);

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
                return fs_fail(j, -EINVAL,
                               "a source with a * wildcard needs a destination folder, ending with /");
        r = fs_glob(j, source, kind, ret, ret_n);
        if (r < 0)
                return r;
        if (*ret_n == 0) {
                fs_strv_free(*ret);
                *ret = NULL;
                return fs_fail(j, -ENOENT, "nothing matches the source");
        }
        return 0;
}

char *fs_target(const char *src, const char *destination)
{
        _cleanup_free_ char *base = NULL;

        if (!fs_ends_with_sep(destination))
                return xstrdup(destination);
        base = fs_basename(src);
        return fs_join(destination, base);
}

/* The checks on the target of a copy or move of the non-folder `st`
 * (`old` is what is there, when `exists`), then its missing folders. */
static int file_target(struct fs_job *j, const struct stat *st, const struct stat *old, bool exists, const char *target,
                       bool overwrite)
{
        if (exists) {
                if (old->st_dev == st->st_dev && old->st_ino == st->st_ino)
                        return fs_fail(j, -EINVAL, "the source and the destination are the same file");
                if (S_ISDIR(old->st_mode))
                        return fs_fail(j, -EISDIR, "the destination %s is a folder", target);
                if (!overwrite)
                        return fs_fail(j, -EEXIST, "the destination %s already exists and overwrite is false",
                                       target);
        }
        return fs_mkdir_parent(j, target);
}

int fs_copy_file_to(struct fs_job *j, int srcfd, const struct stat *st, const char *target, bool overwrite)
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
        r = file_target(j, st, &old, exists, target, overwrite);
        if (r >= 0)
                r = fs_reword(j, fs_copy_file_fd(j, srcfd, st, target, overwrite ? FS_COPY_REPLACE : 0), -EEXIST,
                              "the destination %s already exists and overwrite is false", target);
        return r;
}

int fs_move_file_to(struct fs_job *j, const char *src, const char *target, bool overwrite)
{
        struct stat st, old;
        int r;

        if (lstat(src, &st) < 0)
                return fs_fail_errno(j, -errno, "cannot examine %s", src);
        r = file_target(j, &st, &old, lstat(target, &old) == 0, target, overwrite);
        if (r >= 0)
                r = fs_reword(j, fs_move(j, src, target, overwrite), -EEXIST,
                              "the destination %s already exists and overwrite is false", target);
        return r;
}

char *fs_source_name(const char *src, bool wildcard)
{
        return wildcard ? xasprintf("the source %s", src) : xstrdup("the source");
}

/* "<what> does not exist" for a source that is not there, else the
 * failure of `verb`ing it. */
static int source_failed(struct fs_job *j, int e, const char *verb, const char *what)
{
        if (e == ENOENT || e == ENOTDIR)
                return fs_fail(j, -ENOENT, "%s does not exist", what);
        return fs_fail_errno(j, -e, "cannot %s %s", verb, what);
}

int fs_open_source(struct fs_job *j, const char *src, const char *what, struct stat *ret_st)
{
        int fd = open(src, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

        if (fd < 0)
                return source_failed(j, errno, "open", what);
        if (fstat(fd, ret_st) < 0) {
                int r = fs_fail_errno(j, -errno, "cannot examine %s", what);

                close(fd);
                return r;
        }
        return fd;
}

int fs_stat_source(struct fs_job *j, const char *src, const char *what, struct stat *ret_st)
{
        if (lstat(src, ret_st) < 0)
                return source_failed(j, errno, "examine", what);
        return 0;
}

int fs_file_into_folder(struct fs_job *j, const char *src, const char *destination, bool overwrite, char **target)
{
        _cleanup_free_ char *base = NULL;
        struct stat st;

        if (fs_ends_with_sep(destination) || stat(*target, &st) < 0 || !S_ISDIR(st.st_mode))
                return 0;
        if (!overwrite)
                return fs_fail(j, -EEXIST, "a folder named %s exists and overwrite is false", *target);
        base = fs_basename(src);
        free(*target);
        *target = fs_join(destination, base);
        return 0;
}

int fs_not_into_itself(struct fs_job *j, const char *src, const char *target, const char *verb)
{
        _cleanup_free_ char *rsrc = fs_resolve(src), *rtarget = fs_resolve(target);

        if (rsrc && rtarget && fs_path_within(rtarget, rsrc))
                return fs_fail(j, -EINVAL, "cannot %s a folder into itself (%s is in %s)", verb, target, src);
        return 0;
}

int fs_folder_target(struct fs_job *j, const char *target, bool overwrite, bool links_count)
{
        struct stat st;

        if ((links_count ? lstat(target, &st) : stat(target, &st)) < 0)
                return 0;
        if (stat(target, &st) < 0 || !S_ISDIR(st.st_mode))
                return fs_fail(j, -ENOTDIR, "the destination %s exists and is not a folder", target);
        if (!overwrite)
                return fs_fail(j, -EEXIST, "the destination folder %s already exists and overwrite is false", target);
        return 1;
}

int fs_copy_move_entry(struct fs_job *j, const json_t *entry, enum fs_kind kind, fs_one_fn one)
{
        const char *source = fs_entry_str(entry, "source");
        const char *destination = fs_entry_str(entry, "destination");
        bool overwrite;
        char **sources = NULL;
        bool wildcard;
        size_t n;
        int r;

        if ((r = fs_entry_flag(j, entry, "overwrite", true, &overwrite)) < 0)
                return r;
        if (!*source)
                return fs_fail(j, -EINVAL, "source is empty");
        if (!*destination)
                return fs_fail(j, -EINVAL, "destination is empty");
        r = fs_sources(j, source, destination, kind, &sources, &n, &wildcard);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = one(j, sources[i], destination, overwrite, wildcard);
        fs_strv_free(sources);
        return r;
}
