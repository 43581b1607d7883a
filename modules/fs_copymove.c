/* fs_copymove.c: the shared rules of the copy and move actions
 * (fs_copymove.h). */
#include "fs_copymove.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

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

int fs_copy_file_to(struct fs_job *j, int srcfd, const struct stat *st, const char *target, bool overwrite)
{
        _cleanup_free_ char *real = NULL;
        struct stat old;
        int r;

        if (lstat(target, &old) == 0) {
                if (S_ISLNK(old.st_mode)) {
                        real = realpath(target, NULL);
                        if (real && stat(real, &old) == 0)
                                target = real;
                }
                if (old.st_dev == st->st_dev && old.st_ino == st->st_ino)
                        return fs_fail(j, -EINVAL, "the source and the destination are the same file");
                if (S_ISDIR(old.st_mode))
                        return fs_fail(j, -EISDIR, "the destination %s is a folder", target);
                if (!overwrite)
                        return fs_fail(j, -EEXIST, "the destination %s already exists and overwrite is false",
                                       target);
        }
        r = fs_mkdir_parent(j, target);
        if (r < 0)
                return r;
        r = fs_copy_file_fd(j, srcfd, st, target, overwrite ? FS_COPY_REPLACE : 0);
        if (r == -EEXIST) {
                fs_clear(j);
                return fs_fail(j, -EEXIST, "the destination %s already exists and overwrite is false", target);
        }
        return r;
}

int fs_move_file_to(struct fs_job *j, const char *src, const char *target, bool overwrite)
{
        struct stat st, old;
        int r;

        if (lstat(src, &st) < 0)
                return fs_fail_errno(j, -errno, "cannot examine %s", src);
        if (lstat(target, &old) == 0) {
                if (old.st_dev == st.st_dev && old.st_ino == st.st_ino)
                        return fs_fail(j, -EINVAL, "the source and the destination are the same file");
                if (S_ISDIR(old.st_mode))
                        return fs_fail(j, -EISDIR, "the destination %s is a folder", target);
                if (!overwrite)
                        return fs_fail(j, -EEXIST, "the destination %s already exists and overwrite is false",
                                       target);
        }
        r = fs_mkdir_parent(j, target);
        if (r < 0)
                return r;
        r = fs_move(j, src, target, overwrite);
        if (r == -EEXIST) {
                fs_clear(j);
                return fs_fail(j, -EEXIST, "the destination %s already exists and overwrite is false", target);
        }
        return r;
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
