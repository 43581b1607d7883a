/* wire.h: the bytes of a .otc file: little-endian integers and
 * length-prefixed blobs written to a strbuf, and read back from a cursor
 * that never runs past its end.  program.c (the file) and constants.c
 * (the constant pool inside it) share it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* The low `n` bytes of v, least significant first. */
static inline void wire_put_le(struct strbuf *b, uint64_t v, size_t n)
{
        unsigned char x[8];
        for (size_t i = 0; i < n; i++)
                x[i] = (unsigned char)(v >> (8 * i));
        sb_append(b, (const char *)x, n);
}

static inline void wire_put_u32(struct strbuf *b, uint32_t v)
{
        wire_put_le(b, v, 4);
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

/* An `n`-byte little-endian integer (n <= 8). */
static inline bool wire_get_le(struct wire_reader *r, size_t n, uint64_t *v)
{
        const unsigned char *x;
        if (!wire_get_bytes(r, n, &x))
                return false;
        *v = 0;
        for (size_t i = n; i-- > 0;)
                *v = *v << 8 | x[i];
        return true;
}

static inline bool wire_get_u32(struct wire_reader *r, uint32_t *v)
{
        uint64_t x = 0;
        bool ok = wire_get_le(r, 4, &x);
        *v = (uint32_t)x;
        return ok;
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
