/* hindex.c: the open-addressing hash index of hindex.h (linear probing,
 * no deletion). */
#include "hindex.h"

#include <stdlib.h>

#include "strbuf.h"

void hindex_free(struct hindex *h)
{
        free(h->slots);
        *h = (struct hindex)HINDEX_INIT;
}

static uint32_t fold(uint64_t hash)
{
        return (uint32_t)(hash ^ (hash >> 32));
}

static void put(struct hindex_slot *slots, size_t cap, uint32_t hash, uint32_t stored)
{
        size_t i = hash & (cap - 1);
        while (slots[i].value)
                i = (i + 1) & (cap - 1);
        slots[i] = (struct hindex_slot){ hash, stored };
}

/* Grows to the smallest power of two, 16 or more, holding `want` values
 * at most three quarters full. */
static void grow(struct hindex *h, size_t want)
{
        if (want > UINT32_MAX)
                abort();
        if (want * 4 <= h->cap * 3)
                return;
        size_t cap = h->cap ? h->cap : 16;
        while (want * 4 > cap * 3)
                cap *= 2;
        struct hindex_slot *slots = xcalloc(cap, sizeof *slots);
        for (size_t i = 0; i < h->cap; i++)
                if (h->slots[i].value)
                        put(slots, cap, h->slots[i].hash, h->slots[i].value);
        free(h->slots);
        h->slots = slots;
        h->cap = cap;
}

void hindex_reserve(struct hindex *h, size_t more)
{
        grow(h, h->n + more);
}

void hindex_add(struct hindex *h, uint64_t hash, size_t value)
{
        if (value >= UINT32_MAX - 1)
                abort();
        grow(h, h->n + 1);
        put(h->slots, h->cap, fold(hash), (uint32_t)value + 1);
        h->n++;
}

bool hindex_next(const struct hindex *h, uint64_t hash, size_t *pos, size_t *ret_value)
{
        if (!h->cap)
                return false;
        uint32_t f = fold(hash);
        /* *pos counts the slots already probed from the hash's home. */
        for (size_t i = (f + *pos) & (h->cap - 1); *pos < h->cap && h->slots[i].value; i = (i + 1) & (h->cap - 1)) {
                ++*pos;
                if (h->slots[i].hash == f) {
                        *ret_value = h->slots[i].value - 1;
                        return true;
                }
        }
        return false;
}

uint64_t hindex_hash_str(uint64_t seed, const char *s)
{
        uint64_t x = seed;
        for (; *s; s++)
                x = (x ^ (unsigned char)*s) * 1099511628211ull;
        /* The end of the string counts, so ("ab", "c") and ("a", "bc") differ. */
        return (x ^ 0xffu) * 1099511628211ull;
}
