/* check_hash.c: unit tests of common/hash.c: published digests of MD5,
 * SHA-1, SHA-256 and SHA-512 (RFC 1321, FIPS 180-2 examples), whole and
 * fed in pieces; SHA-256's direct path and its EVP path giving the same
 * digest at every length around the block size and at every split; and
 * hash_file agreeing with hash_buffer. */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"

static void digest_hex(enum hash_algo algo, const void *data, size_t len, char *out)
{
        unsigned char d[HASH_MAX_LEN];
        char *err = NULL;
        size_t n = 0;

        ck_assert_int_eq(hash_buffer(algo, data, len, d, &n, &err), 0);
        ck_assert_ptr_null(err);
        ck_assert_uint_eq(n, hash_length(algo));
        hash_hex(d, n, out);
}

/* 1,000,000 times 'a', in pieces of 1 to 997 bytes. */
static void million_a_hex(enum hash_algo algo, char *out)
{
        static char a[997];
        unsigned char d[HASH_MAX_LEN];
        struct hash_ctx *h;
        size_t left = 1000000, piece = 1, n = 0;

        memset(a, 'a', sizeof a);
        ck_assert_int_eq(hash_begin(algo, &h, NULL), 0);
        while (left) {
                size_t k = piece < left ? piece : left;
                ck_assert_int_eq(hash_update(h, a, k), 0);
                left -= k;
                piece = piece % sizeof a + 1;
        }
        ck_assert_int_eq(hash_end(h, d, &n), 0);
        hash_hex(d, n, out);
}

static const struct {
        enum hash_algo algo;
        const char *empty, *abc, *million_a;
} published[] = {
        { HASH_MD5, "d41d8cd98f00b204e9800998ecf8427e", "900150983cd24fb0d6963f7d28e17f72",
          "7707d6ae4e027c70eea2a935c2296f21" },
        { HASH_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", "a9993e364706816aba3e25717850c26c9cd0d89d",
          "34aa973cd4c4daa4f61eeb2bdbad27316534016f" },
        { HASH_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
        { HASH_SHA512,
          "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
          "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
          "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b" },
};

START_TEST(published_digests)
{
        char hex[2 * HASH_MAX_LEN + 1];

        for (int evp = 0; evp < 2; evp++) {
                hash_sha256_direct(!evp);
                for (size_t i = 0; i < sizeof published / sizeof published[0]; i++) {
                        digest_hex(published[i].algo, "", 0, hex);
                        ck_assert_str_eq(hex, published[i].empty);
                        digest_hex(published[i].algo, "abc", 3, hex);
                        ck_assert_str_eq(hex, published[i].abc);
                        million_a_hex(published[i].algo, hex);
                        ck_assert_str_eq(hex, published[i].million_a);
                }
        }
        hash_sha256_direct(true);
}
END_TEST

START_TEST(sha256_paths_agree)
{
        unsigned char buf[300];
        char direct[65], evp[65];

        srand(7);
        for (size_t i = 0; i < sizeof buf; i++)
                buf[i] = (unsigned char)rand();
        /* Every length from 0 to 299: each side of the 55/56/64-byte padding edges. */
        for (size_t len = 0; len < sizeof buf; len++) {
                hash_sha256_direct(true);
                digest_hex(HASH_SHA256, buf, len, direct);
                hash_sha256_direct(false);
                digest_hex(HASH_SHA256, buf, len, evp);
                ck_assert_msg(strcmp(direct, evp) == 0, "length %zu: direct %s, EVP %s", len, direct, evp);
        }
        /* 130 bytes split at every place, direct, against EVP in one piece. */
        hash_sha256_direct(false);
        digest_hex(HASH_SHA256, buf, 130, evp);
        hash_sha256_direct(true);
        for (size_t cut = 0; cut <= 130; cut++) {
                unsigned char d[HASH_MAX_LEN];
                struct hash_ctx *h;
                size_t n = 0;

                ck_assert_int_eq(hash_begin(HASH_SHA256, &h, NULL), 0);
                ck_assert_int_eq(hash_update(h, buf, cut), 0);
                ck_assert_int_eq(hash_update(h, buf + cut, 130 - cut), 0);
                ck_assert_int_eq(hash_end(h, d, &n), 0);
                hash_hex(d, n, direct);
                ck_assert_msg(strcmp(direct, evp) == 0, "cut at %zu", cut);
        }
        /* Abandoned contexts of both kinds are released (ASan would say). */
        for (int k = 0; k < 2; k++) {
                struct hash_ctx *h;
                hash_sha256_direct(k);
                ck_assert_int_eq(hash_begin(HASH_SHA256, &h, NULL), 0);
                ck_assert_int_eq(hash_update(h, buf, 10), 0);
                hash_abort(h);
        }
        hash_abort(NULL);
        hash_sha256_direct(true);
}
END_TEST

START_TEST(file_equals_buffer)
{
        char path[] = "/tmp/opentoe-check-hash.XXXXXX";
        static unsigned char buf[200000];
        unsigned char d[HASH_MAX_LEN];
        char want[2 * HASH_MAX_LEN + 1], got[2 * HASH_MAX_LEN + 1];
        size_t n = 0;
        int fd = mkstemp(path);

        ck_assert_int_ge(fd, 0);
        for (size_t i = 0; i < sizeof buf; i++)
                buf[i] = (unsigned char)(i * 7 + (i >> 9));
        ck_assert_int_eq(write(fd, buf, sizeof buf), (ssize_t)sizeof buf);
        close(fd);
        for (int algo = 0; algo < _HASH_ALGO_MAX; algo++) {
                digest_hex(algo, buf, sizeof buf, want);
                ck_assert_int_eq(hash_file(algo, path, d, &n, NULL), 0);
                hash_hex(d, n, got);
                ck_assert_str_eq(got, want);
        }
        unlink(path);
}
END_TEST

#include "check_main.h"

CHECK_MAIN_TESTS("hash", "digests", 0,
                 published_digests,
                 sha256_paths_agree,
                 file_equals_buffer)
