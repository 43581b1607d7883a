/* mkdirs.c: creating a folder together with its missing parents. */
#include "mkdirs.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "strbuf.h"

/* One mkdir per element, from the top; with `strict`, an element that
 * exists must be a folder.  *ret_failed, when wanted, names the element
 * that failed. */
static int make_parents(const char *path, mode_t mode, bool strict, char **ret_failed)
{
        _cleanup_free_ char *p = xstrdup(path);
        size_t len = strlen(p);
        struct stat st;
        int r = 0;

        while (len > 1 && p[len - 1] == '/')
                p[--len] = '\0';
        if (strict && stat(p, &st) == 0) {
                if (S_ISDIR(st.st_mode))
                        return 0;
                r = -EEXIST;
                goto out;
        }
        for (char *s = p + 1;; s++) {
                bool last = *s == '\0';

                if (*s != '/' && !last)
                        continue;
                if (s[-1] != '/') {
                        *s = '\0';
                        if (mkdir(p, mode) < 0) {
                                if (errno != EEXIST) {
                                        r = -errno;
                                        goto out;
                                }
                                if (strict && (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))) {
                                        r = -EEXIST;
                                        goto out;
                                }
                        }
                }
                if (last)
                        break;
                *s = '/';
        }
        return 0;
out:
        if (ret_failed)
                *ret_failed = TAKE_PTR(p);
        return r;
}

int mkdir_parents(const char *path, mode_t mode)
{
        if (!path || !*path)
                return -EINVAL;
        return make_parents(path, mode, false, NULL);
}

int mkdir_parents_report(const char *path, mode_t mode, char **ret_failed)
{
        if (!*path)
                return 0;
        return make_parents(path, mode, true, ret_failed);
}
