/* hindex.h: a small open-addressing hash index.  It maps 64-bit hashes
 * to values (indexes into the caller's own array); the caller keeps the
 * keys and compares them, so one index serves any kind of key (a name,
 * a phase and a step name).  Lookups visit every value added under the
 * same hash; a caller that wants one value per key adds a key only after
 * its lookup found nothing.  A slot keeps 32 bits of the hash, so a lookup
 * may also visit a value whose hash differs in the other 32: the caller's
 * key comparison (every caller has one) settles it.  Eight bytes a slot,
 * at most three quarters full; grows by doubling, so it is bounded by
 * what is added (aborts on out-of-memory as strbuf.h's allocators do, and
 * on a value past UINT32_MAX - 1). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hindex_slot {
        uint32_t hash;    /* the hash, folded to 32 bits */
        uint32_t value;   /* value + 1; 0 marks an empty slot */
};

struct hindex {
        struct hindex_slot *slots;
        size_t cap, n;
};

#define HINDEX_INIT { 0 }

void hindex_free(struct hindex *h);
void hindex_add(struct hindex *h, uint64_t hash, size_t value);
/* Room for `more` values after those there are, at one size: a caller
 * that knows how many it will add grows the index once, not by doublings. */
void hindex_reserve(struct hindex *h, size_t more);

/* Visits the values added under `hash`: start with *pos = 0, call until it
 * returns false. */
bool hindex_next(const struct hindex *h, uint64_t hash, size_t *pos, size_t *ret_value);

/* FNV-1a over a NUL-terminated string, continuing from `seed` (start with
 * HINDEX_SEED; hash a second string after the first for a pair). */
#define HINDEX_SEED 14695981039346656037ull
uint64_t hindex_hash_str(uint64_t seed, const char *s);
