/* wire.h: the bytes of a .otc file: little-endian integers and
 * length-prefixed blobs written to a strbuf, and read back from a cursor
 * that never runs past its end.  program.c (the file) and constants.c
 * (the constant pool inside it) share it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

static inline void wire_put_u32(struct strbuf *b, uint32_t v)
{
        unsigned char x[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                               (unsigned char)(v >> 24) };
        sb_append(b, (const char *)x, 4);
}

static inline void wire_put_u64(struct strbuf *b, uint64_t v)
{
        wire_put_u32(b, (uint32_t)v);
        wire_put_u32(b, (uint32_t)(v >> 32));
}

static inline void wire_put_u8(struct strbuf *b, unsigned v)
{
        sb_putc(b, (char)(unsigned char)v);
}

static inline void wire_put_blob(struct strbuf *b, const char *s, size_t n)
{
        wire_put_u32(b, (uint32_t)n);
        sb_append(b, s, n);
}

struct wire_reader {
        const unsigned char *p;
        size_t left;
};

static inline bool wire_get_bytes(struct wire_reader *r, size_t n, const unsigned char **ret)
{
        if (r->left < n)
                return false;
        *ret = r->p;
        r->p += n;
        r->left -= n;
        return true;
}

static inline bool wire_get_u32(struct wire_reader *r, uint32_t *v)
{
        const unsigned char *x;
        if (!wire_get_bytes(r, 4, &x))
                return false;
        *v = (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
        return true;
}

static inline bool wire_get_u64(struct wire_reader *r, uint64_t *v)
{
        uint32_t lo, hi;
        if (!wire_get_u32(r, &lo) || !wire_get_u32(r, &hi))
                return false;
        *v = (uint64_t)hi << 32 | lo;
        return true;
}

static inline bool wire_get_u8(struct wire_reader *r, unsigned *v)
{
        const unsigned char *x;
        if (!wire_get_bytes(r, 1, &x))
                return false;
        *v = x[0];
        return true;
}

/* A blob: its length, then its bytes (pointing into the buffer). */
static inline bool wire_get_blob(struct wire_reader *r, const unsigned char **ret, size_t *ret_len)
{
        uint32_t n;
        if (!wire_get_u32(r, &n) || !wire_get_bytes(r, n, ret))
                return false;
        *ret_len = n;
        return true;
}
