/* pathsearch.c: Go's exec.LookPath rules for finding a program. */
#include "pathsearch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

bool path_is_executable(const char *path)
{
        struct stat st;

        if (stat(path, &st) < 0 || S_ISDIR(st.st_mode))
                return false;
        return faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == 0;
}

int path_search(const char *name, char **ret_path)
{
        const char *path = getenv("PATH");

        if (!path || !*path || !*name)
                return -ENOENT;
        for (const char *dir = path;;) {
                const char *end = strchr(dir, ':');
                size_t dlen = end ? (size_t)(end - dir) : strlen(dir);
                _cleanup_free_ char *cand = NULL;

                /* An empty entry means the current directory. */
                if (asprintf(&cand, "%.*s/%s", (int)(dlen ? dlen : 1), dlen ? dir : ".", name) < 0)
                        return -ENOMEM;
                if (path_is_executable(cand)) {
                        if (cand[0] != '/')
                                return -EPERM;
                        *ret_path = TAKE_PTR(cand);
                        return 0;
                }
                if (!end)
                        break;
                dir = end + 1;
        }
        return -ENOENT;
}
