/* fsglob.c: `*` wildcards in the last path element (fsglob.h). */
#include "fsglob.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "strbuf.h"
#include "strv.h"

bool fs_has_wildcard(const char *path)
{
        const char *last = strrchr(path, '/');

        return strchr(last ? last + 1 : path, '*') != NULL;
}

int fs_check_wildcard(const char *path, char **reterr_msg)
{
        const char *star = strchr(path, '*'), *last = strrchr(path, '/');

        if (star && last && star < last)
                return fs_fail(reterr_msg, -EINVAL, "a * wildcard is accepted only after the last path separator");
        return 0;
}

bool fs_match(const char *pattern, const char *name)
{
        _cleanup_free_ char *pat = xmalloc(2 * strlen(pattern) + 1);
        char *q = pat;

        for (const char *p = pattern; *p; p++) {
                if (*p == '?' || *p == '[' || *p == '\\')
                        *q++ = '\\';
                *q++ = *p;
        }
        *q = '\0';
        return fnmatch(pat, name, 0) == 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int fs_glob(const char *path, enum fs_kind kind, char ***ret, size_t *ret_n, char **reterr_msg)
{
        const char *last = strrchr(path, '/');
        const char *pattern = last ? last + 1 : path;
        _cleanup_free_ char *dir = last ? xstrndup(path, (size_t)(last - path) + 1) : xstrdup("./");
        size_t prefix = last ? (size_t)(last - path) + 1 : 0;
        char **v = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        DIR *d;
        int r = 0;

        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT) {
                        *ret = xcalloc(1, sizeof(char *));
                        *ret_n = 0;
                        return 0;
                }
                return fs_fail_errno(reterr_msg, -errno, "cannot read the folder %s", dir);
        }
        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno)
                                r = fs_fail_errno(reterr_msg, -errno, "cannot read the folder %s", dir);
                        break;
                }
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (!fs_match(pattern, de->d_name))
                        continue;
                if (kind == FS_NOT_FOLDERS) {
                        struct stat st;

                        if (de->d_type == DT_DIR)
                                continue;
                        if ((de->d_type == DT_LNK || de->d_type == DT_UNKNOWN) &&
                            fstatat(dirfd(d), de->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode))
                                continue;
                }
                if (n + 2 > cap) {
                        cap = cap ? 2 * cap : 16;
                        v = xrealloc(v, cap * sizeof(char *));
                }
                v[n++] = xasprintf("%.*s%s", (int)prefix, path, de->d_name);
        }
        closedir(d);
        if (r < 0) {
                if (v) {
                        v[n] = NULL;
                        strv_free(v);
                }
                return r;
        }
        if (!v)
                v = xcalloc(1, sizeof(char *));
        v[n] = NULL;
        qsort(v, n, sizeof(char *), cmp_str);
        *ret = v;
        *ret_n = n;
        return 0;
}
