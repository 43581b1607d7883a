/* check_hindex.c: unit tests of common/hindex.c: values found by their
 * hash after many additions (growth keeps them), every value of a shared
 * hash visited once, room reserved at one size, hashes equal in their 32-bit fold visited together, absent hashes finding nothing, and the string hash
 * telling pairs of strings apart. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "hindex.h"

/* Reserved room: one table of the size it needs, kept while the values
 * reserved for are added; the values already there kept when it grows. */
START_TEST(reserve_grows_once)
{
        struct hindex h = HINDEX_INIT;
        hindex_add(&h, 7, 0);
        hindex_reserve(&h, 1000);
        ck_assert_uint_eq(h.cap, 2048);  /* 1001 at most three quarters full */
        const struct hindex_slot *slots = h.slots;
        for (size_t i = 1; i <= 1000; i++)
                hindex_add(&h, i * 0x9E3779B97F4A7C15ull, i);
        ck_assert_ptr_eq(h.slots, slots);
        ck_assert_uint_eq(h.n, 1001);
        size_t pos = 0, v;
        ck_assert(hindex_next(&h, 7, &pos, &v));
        ck_assert_uint_eq(v, 0);
        for (size_t i = 1; i <= 1000; i++) {
                bool found = false;
                pos = 0;
                while (hindex_next(&h, i * 0x9E3779B97F4A7C15ull, &pos, &v))
                        found |= v == i;
                ck_assert(found);
        }
        hindex_reserve(&h, 0);
        ck_assert_ptr_eq(h.slots, slots);
        hindex_free(&h);
        hindex_reserve(&h, 1);
        ck_assert_uint_eq(h.cap, 16);
        hindex_free(&h);
}
END_TEST

START_TEST(finds_after_growth)
{
        struct hindex h = HINDEX_INIT;
        char name[32];
        for (size_t i = 0; i < 5000; i++) {
                snprintf(name, sizeof name, "step%zu", i);
                hindex_add(&h, hindex_hash_str(HINDEX_SEED, name), i);
        }
        ck_assert_uint_eq(h.n, 5000);
        ck_assert_uint_le(h.n * 4, h.cap * 3);  /* at most three quarters full */
        for (size_t i = 0; i < 5000; i++) {
                snprintf(name, sizeof name, "step%zu", i);
                size_t pos = 0, v, hits = 0;
                bool mine = false;
                while (hindex_next(&h, hindex_hash_str(HINDEX_SEED, name), &pos, &v)) {
                        hits++;
                        mine |= v == i;
                }
                ck_assert(mine);
                ck_assert_uint_ge(hits, 1);
        }
        size_t pos = 0, v;
        ck_assert(!hindex_next(&h, hindex_hash_str(HINDEX_SEED, "absent"), &pos, &v));
        hindex_free(&h);
        ck_assert_ptr_null(h.slots);
        pos = 0;
        ck_assert(!hindex_next(&h, 1, &pos, &v));
}
END_TEST

/* Two hashes that agree once folded to 32 bits share a slot's tag: a
 * lookup of either visits both values (callers compare their keys), and
 * a lookup of a third hash visits neither. */
START_TEST(folded_collision_visits_both)
{
        struct hindex h = HINDEX_INIT;
        hindex_add(&h, 0x0000000100000000ull, 1);
        hindex_add(&h, 0x0000000000000001ull, 2);
        size_t pos = 0, v, sum = 0, n = 0;
        while (hindex_next(&h, 0x0000000100000000ull, &pos, &v)) {
                sum += v;
                n++;
        }
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(sum, 3);
        pos = 0;
        ck_assert(!hindex_next(&h, 0x0000000200000000ull, &pos, &v));
        hindex_free(&h);
}
END_TEST

START_TEST(shared_hash_visits_each)
{
        struct hindex h = HINDEX_INIT;
        for (size_t i = 0; i < 40; i++)
                hindex_add(&h, 7, i);
        hindex_add(&h, 8, 100);
        size_t pos = 0, v, n = 0, sum = 0;
        while (hindex_next(&h, 7, &pos, &v)) {
                ck_assert_uint_lt(v, 40);
                n++;
                sum += v;
        }
        ck_assert_uint_eq(n, 40);
        ck_assert_uint_eq(sum, 40 * 39 / 2);
        hindex_free(&h);
}
END_TEST

START_TEST(pairs_differ)
{
        uint64_t a = hindex_hash_str(hindex_hash_str(HINDEX_SEED, "ab"), "c");
        uint64_t b = hindex_hash_str(hindex_hash_str(HINDEX_SEED, "a"), "bc");
        ck_assert(a != b);
        ck_assert(hindex_hash_str(HINDEX_SEED, "") != HINDEX_SEED);
}
END_TEST

#include "check_main.h"
CHECK_MAIN_TESTS("hindex", "core", 0,
                 finds_after_growth,
                 reserve_grows_once,
                 shared_hash_visits_each,
                 folded_collision_visits_both,
                 pairs_differ)
