/* hindex.c: the open-addressing hash index of hindex.h (linear probing,
 * no deletion). */
#include "hindex.h"

#include <stdlib.h>

#include "strbuf.h"

void hindex_free(struct hindex *h)
{
        free(h->hashes);
        free(h->values);
        *h = (struct hindex)HINDEX_INIT;
}

static void put(uint64_t *hashes, size_t *values, size_t cap, uint64_t hash, size_t stored)
{
        size_t i = (size_t)hash & (cap - 1);
        while (values[i])
                i = (i + 1) & (cap - 1);
        hashes[i] = hash;
        values[i] = stored;
}

void hindex_add(struct hindex *h, uint64_t hash, size_t value)
{
        if ((h->n + 1) * 2 > h->cap) {
                size_t cap = h->cap ? h->cap * 2 : 16;
                uint64_t *hashes = xcalloc(cap, sizeof *hashes);
                size_t *values = xcalloc(cap, sizeof *values);
                for (size_t i = 0; i < h->cap; i++)
                        if (h->values[i])
                                put(hashes, values, cap, h->hashes[i], h->values[i]);
                free(h->hashes);
                free(h->values);
                h->hashes = hashes;
                h->values = values;
                h->cap = cap;
        }
        put(h->hashes, h->values, h->cap, hash, value + 1);
        h->n++;
}

bool hindex_next(const struct hindex *h, uint64_t hash, size_t *pos, size_t *ret_value)
{
        if (!h->cap)
                return false;
        /* *pos counts the slots already probed from the hash's home. */
        for (size_t i = ((size_t)hash + *pos) & (h->cap - 1); *pos < h->cap && h->values[i];
             i = (i + 1) & (h->cap - 1)) {
                ++*pos;
                if (h->hashes[i] == hash) {
                        *ret_value = h->values[i] - 1;
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
