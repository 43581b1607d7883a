/* utf8.c: UTF-8 as Go reads it (utf8.h). */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

size_t utf8_seq_len(const unsigned char *p, size_t n)
{
        unsigned char c = p[0];

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
        if (c >= 0xe0 && c <= 0xef) {
                unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;

                return n >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
        }
        if (c >= 0xf0 && c <= 0xf4) {
                unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;

                return n >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80
                               ? 4
                               : 0;
        }
        return 0;
}

void utf8_sanitize(struct strbuf *b, const char *data, size_t len)
{
        const unsigned char *p = (const unsigned char *)data;
        size_t i = 0, start = 0;

        while (i < len) {
                size_t k = utf8_seq_len(p + i, len - i);

                if (k) {
                        i += k;
                        continue;
                }
                sb_append(b, data + start, i - start);
                sb_append(b, "\xef\xbf\xbd", 3);
                i++;
                start = i;
        }
        sb_append(b, data + start, len - start);
}

bool utf8_valid(const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *)s;

        size_t i = 0;

        while (i < n) {
                /* Eight ASCII bytes at a time: log lines are mostly ASCII. */
                if (n - i >= 8) {
                        uint64_t v;

                        memcpy(&v, p + i, 8);
                        if (!(v & 0x8080808080808080ull)) {
                                i += 8;
                                continue;
                        }
                }
                size_t k = utf8_seq_len(p + i, n - i);

                if (!k)
                        return false;
                i += k;
        }
        return true;
}
