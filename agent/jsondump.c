/* jsondump.c: json_dumps()'s text without its per-character walk (see
 * jsondump.h).  The layout follows jansson 2.14's dump.c: separators,
 * indentation, the escapes (\" \\ \b \f \n \r \t, other control
 * characters as \u00XX) and insertion order; a real number is handed to
 * json_dumps itself, since its text is jansson's own. */
#include "jsondump.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/* Deeper than jansson's parser accepts: only a value that contains
 * itself gets here, and json_dumps fails on that too. */
#define MAX_DEPTH 4096
#define INDENT_OF(flags) ((unsigned)((flags) & JSON_MAX_INDENT))
/* The flags whose output this file writes itself. */
#define HANDLED (JSON_MAX_INDENT | JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(31))

/* 1: the byte is copied as it is (bytes of 0x80 and above included:
 * jansson checked the string's UTF-8 when it was made). */
static const unsigned char plain[256] = {
        [0x20] = 1, 1, 0 /* " */, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        [0x30] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        [0x40] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        [0x50] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* \ */, 1, 1, 1,
        [0x60] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        [0x70] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        [0x80] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        [0x90] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        [0xa0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        [0xb0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        [0xc0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        [0xd0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        [0xe0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        [0xf0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

static void put_string(struct strbuf *b, const char *s, size_t n)
{
        static const char hex[] = "0123456789ABCDEF";
        const unsigned char *p = (const unsigned char *)s, *end = p + n;
        sb_putc(b, '"');
        while (p < end) {
                const unsigned char *run = p;
                while (p < end && plain[*p])
                        p++;
                if (p > run)
                        sb_append(b, (const char *)run, (size_t)(p - run));
                if (p == end)
                        break;
                char esc[6] = { '\\', 0 };
                size_t k = 2;
                switch (*p) {
                case '"': esc[1] = '"'; break;
                case '\\': esc[1] = '\\'; break;
                case '\b': esc[1] = 'b'; break;
                case '\f': esc[1] = 'f'; break;
                case '\n': esc[1] = 'n'; break;
                case '\r': esc[1] = 'r'; break;
                case '\t': esc[1] = 't'; break;
                default:
                        memcpy(esc + 1, "u00", 3);
                        esc[4] = hex[*p >> 4];
                        esc[5] = hex[*p & 15];
                        k = 6;
                }
                sb_append(b, esc, k);
                p++;
        }
        sb_putc(b, '"');
}

static void put_indent(struct strbuf *b, size_t flags, unsigned depth, bool space)
{
        unsigned n = INDENT_OF(flags) * depth;
        if (INDENT_OF(flags) > 0) {
                sb_putc(b, '\n');
                static const char spaces[] = "                                ";
                while (n > 0) {
                        unsigned k = n < sizeof spaces - 1 ? n : (unsigned)sizeof spaces - 1;
                        sb_append(b, spaces, k);
                        n -= k;
                }
        } else if (space && !(flags & JSON_COMPACT))
                sb_putc(b, ' ');
}

static int put_value(struct strbuf *b, const json_t *v, size_t flags, unsigned depth)
{
        if (depth > MAX_DEPTH)
                return -1;
        switch (json_typeof(v)) {
        case JSON_NULL: sb_append(b, "null", 4); return 0;
        case JSON_TRUE: sb_append(b, "true", 4); return 0;
        case JSON_FALSE: sb_append(b, "false", 5); return 0;
        case JSON_INTEGER: {
                char num[32];
                int k = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                sb_append(b, num, (size_t)k);
                return 0;
        }
        case JSON_REAL: {
                char *t = json_dumps(v, JSON_ENCODE_ANY | (flags & JSON_REAL_PRECISION(31)));
                if (!t)
                        return -1;
                sb_puts(b, t);
                free(t);
                return 0;
        }
        case JSON_STRING:
                put_string(b, json_string_value(v), json_string_length(v));
                return 0;
        case JSON_ARRAY: {
                size_t n = json_array_size(v);
                sb_putc(b, '[');
                if (n == 0) {
                        sb_putc(b, ']');
                        return 0;
                }
                put_indent(b, flags, depth + 1, false);
                for (size_t i = 0; i < n; i++) {
                        if (put_value(b, json_array_get(v, i), flags, depth + 1) < 0)
                                return -1;
                        if (i + 1 < n) {
                                sb_putc(b, ',');
                                put_indent(b, flags, depth + 1, true);
                        } else
                                put_indent(b, flags, depth, false);
                }
                sb_putc(b, ']');
                return 0;
        }
        case JSON_OBJECT: {
                void *it = json_object_iter((json_t *)v);
                sb_putc(b, '{');
                if (!it) {
                        sb_putc(b, '}');
                        return 0;
                }
                put_indent(b, flags, depth + 1, false);
                while (it) {
                        void *next = json_object_iter_next((json_t *)v, it);
                        put_string(b, json_object_iter_key(it), json_object_iter_key_len(it));
                        sb_append(b, ": ", flags & JSON_COMPACT ? 1 : 2);
                        if (put_value(b, json_object_iter_value(it), flags, depth + 1) < 0)
                                return -1;
                        if (next) {
                                sb_putc(b, ',');
                                put_indent(b, flags, depth + 1, true);
                        } else
                                put_indent(b, flags, depth, false);
                        it = next;
                }
                sb_putc(b, '}');
                return 0;
        }
        }
        return -1;
}

char *json_dump_fast(const json_t *v, size_t flags)
{
#if JANSSON_VERSION_HEX < 0x020e00
        /* Before 2.14 an unsorted object was dumped in hash order. */
        if (!(flags & JSON_PRESERVE_ORDER))
                return json_dumps(v, flags);
#endif
        if (!v || (flags & ~(size_t)HANDLED))
                return json_dumps(v, flags);
        if (!(flags & JSON_ENCODE_ANY) && !json_is_array(v) && !json_is_object(v))
                return NULL;
        struct strbuf b = STRBUF_INIT;
        if (put_value(&b, v, flags, 0) < 0) {
                sb_free(&b);
                return NULL;
        }
        return sb_take(&b);
}
