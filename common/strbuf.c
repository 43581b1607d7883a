/* strbuf.c: growable strings and the aborting allocation helpers. */
#include "strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(void)
{
        fputs("opentoe: out of memory\n", stderr);
        abort();
}

void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                oom();
        return p;
}

void *xcalloc(size_t n, size_t size)
{
        void *p = calloc(n ? n : 1, size ? size : 1);
        if (!p)
                oom();
        return p;
}

void *xrealloc(void *p, size_t n)
{
        p = realloc(p, n ? n : 1);
        if (!p)
                oom();
        return p;
}

char *xstrdup(const char *s)
{
        return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
        char *p = xmalloc(n + 1);
        memcpy(p, s, n);
        p[n] = 0;
        return p;
}

char *xasprintf(const char *fmt, ...)
{
        struct strbuf b = STRBUF_INIT;
        va_list ap;
        va_start(ap, fmt);
        sb_vprintf(&b, fmt, ap);
        va_end(ap);
        return sb_take(&b);
}

static void grow(struct strbuf *b, size_t extra)
{
        if (b->len + extra + 1 <= b->cap)
                return;
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + extra + 1) {
                if (cap > SIZE_MAX / 2)
                        oom();
                cap *= 2;
        }
        b->s = xrealloc(b->s, cap);
        b->cap = cap;
}

void sb_append(struct strbuf *b, const char *s, size_t n)
{
        grow(b, n);
        if (n)
                memcpy(b->s + b->len, s, n);
        b->len += n;
        b->s[b->len] = 0;
}

void sb_puts(struct strbuf *b, const char *s)
{
        sb_append(b, s, strlen(s));
}

void sb_putc(struct strbuf *b, char c)
{
        sb_append(b, &c, 1);
}

void sb_vprintf(struct strbuf *b, const char *fmt, va_list ap)
{
        va_list copy;
        va_copy(copy, ap);
        int n = vsnprintf(NULL, 0, fmt, copy);
        va_end(copy);
        if (n < 0)
                return;
        grow(b, (size_t)n);
        vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
        b->len += (size_t)n;
}

void sb_printf(struct strbuf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        sb_vprintf(b, fmt, ap);
        va_end(ap);
}

char *sb_take(struct strbuf *b)
{
        char *s = b->s ? b->s : xstrdup("");
        b->s = NULL;
        b->len = b->cap = 0;
        return s;
}

void sb_free(struct strbuf *b)
{
        free(b->s);
        b->s = NULL;
        b->len = b->cap = 0;
}

const char *sb_str(const struct strbuf *b)
{
        return b->s ? b->s : "";
}
