/* mkdirs.c: creating a folder together with its missing parents. */
#include "mkdirs.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "strbuf.h"

int mkdir_parents(const char *path, mode_t mode)
{
        if (!path || !*path)
                return -EINVAL;
        _cleanup_free_ char *p = xstrdup(path);
        size_t len = strlen(p);
        while (len > 1 && p[len - 1] == '/')
                p[--len] = '\0';
        for (char *s = p + 1;; s++) {
                bool last = *s == '\0';
                if (*s != '/' && !last)
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                if (last)
                        break;
                *s = '/';
        }
        return 0;
}
