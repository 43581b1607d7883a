/* textlines.h: where lines end, counted the way libyaml counts them, so
 * that a diagnostic's line number and the source line it quotes agree
 * with the positions libyaml reports.  Line breaks are LF, CR LF, a lone
 * CR, and the Unicode breaks NEL (U+0085), LS (U+2028) and PS (U+2029). */
#pragma once

#include <stddef.h>

/* The length in bytes of the line break at p (0 if there is none). */
static inline size_t text_line_break(const char *p, const char *end)
{
        const unsigned char *u = (const unsigned char *)p;
        if (p >= end)
                return 0;
        if (u[0] == '\n')
                return 1;
        if (u[0] == '\r')
                return (p + 1 < end && u[1] == '\n') ? 2 : 1;
        if (u[0] == 0xC2 && p + 1 < end && u[1] == 0x85)
                return 2;
        if (u[0] == 0xE2 && p + 2 < end && u[1] == 0x80 && (u[2] == 0xA8 || u[2] == 0xA9))
                return 3;
        return 0;
}

/* True for the first byte of any line break (a cheap pre-check). */
static inline int text_may_break(unsigned char c)
{
        return c == '\n' || c == '\r' || c == 0xC2 || c == 0xE2;
}
