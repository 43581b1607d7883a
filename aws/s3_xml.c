/* s3_xml.c: the little XML reading S3's answers need (one element's
 * text, entities decoded) and decoding url-encoded keys. */
#include "s3.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "hexdigit.h"
#include "errmsg.h"
#include "mkdirs.h"
#include "credentials.h"
#include "http.h"
#include "s3_internal.h"
#include "sigv4.h"
#include "strbuf.h"

/* ---- small XML reading ------------------------------------------------------ */

/* The text between <tag> and </tag> in [p, end), or NULL; *ret_after is
 * set past the closing tag. */
char *s3_xml_get(const char *p, const char *end, const char *tag, const char **ret_after)
{
        char open[64], close[64];
        const char *a, *b;
        size_t olen, clen;

        snprintf(open, sizeof open, "<%s>", tag);
        snprintf(close, sizeof close, "</%s>", tag);
        olen = strlen(open);
        clen = strlen(close);
        a = memmem(p, (size_t)(end - p), open, olen);
        if (!a)
                return NULL;
        a += olen;
        b = memmem(a, (size_t)(end - a), close, clen);
        if (!b)
                return NULL;
        if (ret_after)
                *ret_after = b + clen;

        struct strbuf out = STRBUF_INIT;
        for (const char *s = a; s < b;) {
                static const struct {
                        const char *ent;
                        char c;
                } ents[] = {
                        { "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' }, { "&quot;", '"' }, { "&apos;", '\'' },
                };
                bool done = false;

                if (*s == '&') {
                        for (size_t i = 0; i < ELEMENTSOF(ents) && !done; i++) {
                                size_t n = strlen(ents[i].ent);

                                if ((size_t)(b - s) >= n && !memcmp(s, ents[i].ent, n)) {
                                        sb_putc(&out, ents[i].c);
                                        s += n;
                                        done = true;
                                }
                        }
                        if (!done && b - s > 2 && s[1] == '#') {
                                char *e;
                                long v = s[2] == 'x' ? strtol(s + 3, &e, 16) : strtol(s + 2, &e, 10);

                                if (e < b && *e == ';' && v > 0 && v < 0x110000) {
                                        /* UTF-8 of the code point. */
                                        if (v < 0x80)
                                                sb_putc(&out, (char)v);
                                        else if (v < 0x800) {
                                                sb_putc(&out, (char)(0xc0 | (v >> 6)));
                                                sb_putc(&out, (char)(0x80 | (v & 0x3f)));
                                        } else if (v < 0x10000) {
                                                sb_putc(&out, (char)(0xe0 | (v >> 12)));
                                                sb_putc(&out, (char)(0x80 | ((v >> 6) & 0x3f)));
                                                sb_putc(&out, (char)(0x80 | (v & 0x3f)));
                                        } else {
                                                sb_putc(&out, (char)(0xf0 | (v >> 18)));
                                                sb_putc(&out, (char)(0x80 | ((v >> 12) & 0x3f)));
                                                sb_putc(&out, (char)(0x80 | ((v >> 6) & 0x3f)));
                                                sb_putc(&out, (char)(0x80 | (v & 0x3f)));
                                        }
                                        s = e + 1;
                                        done = true;
                                }
                        }
                }
                if (!done)
                        sb_putc(&out, *s++);
        }
        return sb_take(&out);
}

/* Percent-decoding in place ('+' is a space, as S3's url encoding-type
 * writes it); false when the result would hold a NUL. */
bool s3_url_decode(char *s)
{
        char *w = s;

        for (char *r = s; *r; r++) {
                if (*r == '%' && hex_value(r[1]) >= 0 && hex_value(r[2]) >= 0) {
                        char c = (char)(hex_value(r[1]) * 16 + hex_value(r[2]));

                        if (!c)
                                return false;
                        *w++ = c;
                        r += 2;
                } else
                        *w++ = *r == '+' ? ' ' : *r;
        }
        *w = '\0';
        return true;
}

