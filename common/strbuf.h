/* strbuf.h: a growable, always NUL-terminated byte buffer.  Allocation
 * failure aborts: opentoe cannot do anything useful without memory, and a
 * checked NULL on every append would hide the real logic. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
        char *s;
        size_t len, cap;
};

#define STRBUF_INIT { NULL, 0, 0 }

void sb_append(struct strbuf *b, const char *s, size_t n);
void sb_puts(struct strbuf *b, const char *s);
void sb_putc(struct strbuf *b, char c);
void sb_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct strbuf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Returns the string (never NULL) and leaves the buffer empty. */
char *sb_take(struct strbuf *b);
void sb_free(struct strbuf *b);
const char *sb_str(const struct strbuf *b);

/* Allocation helpers that abort on out-of-memory. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
