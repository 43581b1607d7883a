/* fspath.c: path strings (fspath.h). */
#include "fspath.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "strbuf.h"

bool fs_ends_with_sep(const char *path)
{
        size_t n = strlen(path);

        return n > 0 && path[n - 1] == '/';
}

size_t fs_trimmed_len(const char *path)
{
        size_t n = strlen(path);

        while (n > 1 && path[n - 1] == '/')
                n--;
        return n;
}

char *fs_basename(const char *path)
{
        size_t n = fs_trimmed_len(path), s = n;

        if (n == 0)
                return xstrdup(".");
        if (n == 1 && path[0] == '/')
                return xstrdup("/");
        while (s > 0 && path[s - 1] != '/')
                s--;
        return xstrndup(path + s, n - s);
}

char *fs_dirname(const char *path)
{
        size_t n = fs_trimmed_len(path);

        if (n == 1 && path[0] == '/')
                return xstrdup("/");
        while (n > 0 && path[n - 1] != '/')
                n--;
        if (n == 0)
                return xstrdup(".");
        while (n > 1 && path[n - 1] == '/')
                n--;
        return xstrndup(path, n);
}

char *fs_join(const char *dir, const char *name)
{
        if (!*dir)
                return xstrdup(name);
        if (fs_ends_with_sep(dir))
                return xasprintf("%s%s", dir, name);
        return xasprintf("%s/%s", dir, name);
}

/* Appends the elements of `rel` to the absolute, normalised `b`. */
static void normalise_into(struct strbuf *b, const char *rel)
{
        const char *p = rel;

        while (*p) {
                const char *e = strchr(p, '/');
                size_t n = e ? (size_t)(e - p) : strlen(p);

                if (n == 0 || (n == 1 && p[0] == '.')) {
                        /* nothing */
                } else if (n == 2 && p[0] == '.' && p[1] == '.') {
                        while (b->len > 1 && b->s[b->len - 1] != '/')
                                b->len--;
                        if (b->len > 1)
                                b->len--;
                        b->s[b->len] = '\0';
                } else {
                        if (b->len > 1)
                                sb_putc(b, '/');
                        sb_append(b, p, n);
                }
                p += n;
                if (*p == '/')
                        p++;
        }
}

char *fs_absolute(const char *path)
{
        struct strbuf b = STRBUF_INIT;

        sb_putc(&b, '/');
        if (path[0] != '/') {
                _cleanup_free_ char *cwd = getcwd(NULL, 0);

                if (cwd)
                        normalise_into(&b, cwd);
        }
        normalise_into(&b, path);
        return sb_take(&b);
}

char *fs_resolve(const char *path)
{
        _cleanup_free_ char *abs = fs_absolute(path);
        size_t n = strlen(abs);

        for (;;) {
                char saved = abs[n];
                char *real;

                abs[n] = '\0';
                real = realpath(n ? abs : "/", NULL);
                abs[n] = saved;
                if (real) {
                        struct strbuf b = STRBUF_INIT;

                        sb_puts(&b, real);
                        free(real);
                        normalise_into(&b, abs + n);
                        return sb_take(&b);
                }
                if (errno != ENOENT && errno != ENOTDIR)
                        return NULL;
                if (n <= 1)
                        return NULL;
                while (n > 0 && abs[n - 1] != '/')
                        n--;
                if (n > 1)
                        n--;
        }
}

bool fs_path_within(const char *inner, const char *outer)
{
        size_t n = strlen(outer);

        if (n == 1 && outer[0] == '/')
                return true;
        return strncmp(inner, outer, n) == 0 && (inner[n] == '\0' || inner[n] == '/');
}
