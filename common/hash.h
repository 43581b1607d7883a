/* hash.h: message digests (MD5, SHA-1, SHA-256, SHA-512) and HMAC-SHA256
 * from OpenSSL's libcrypto, which is loaded with dlopen on first use so
 * that commands that never hash do not pay for loading it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum hash_algo {
        HASH_MD5,
        HASH_SHA1,
        HASH_SHA256,
        HASH_SHA512,
        _HASH_ALGO_MAX,
};

#define HASH_MAX_LEN 64

struct hash_ctx;

/* The functions that can fail take `char **reterr_msg`, the one error
 * channel: on failure, when it is not NULL, *reterr_msg is an allocated
 * message (the caller frees it): for -ENOSYS (libcrypto cannot be
 * loaded) one naming the Debian package to install, otherwise
 * strerror()'s words. */

/* Returns 0, or -ENOSYS when libcrypto cannot be loaded. */
int hash_begin(enum hash_algo algo, struct hash_ctx **ret, char **reterr_msg);
int hash_update(struct hash_ctx *h, const void *data, size_t len);
/* Writes the digest (up to HASH_MAX_LEN bytes), frees the context. */
int hash_end(struct hash_ctx *h, unsigned char *out, size_t *ret_len);
void hash_abort(struct hash_ctx *h);

int hash_buffer(enum hash_algo algo, const void *data, size_t len, unsigned char *out, size_t *ret_len,
                char **reterr_msg);
/* Hashes a file; returns -errno on I/O errors. */
int hash_file(enum hash_algo algo, const char *path, unsigned char *out, size_t *ret_len, char **reterr_msg);
/* Lower-case hex of a digest into out (2*len+1 bytes). */
void hash_hex(const unsigned char *d, size_t len, char *out);

size_t hash_length(enum hash_algo algo);

/* Whether SHA-256 may take libcrypto's direct functions (the default:
 * yes when the library has them and the kernel is not in FIPS mode).
 * false sends it through EVP like the other digests; the digest is the
 * same either way.  For tests, which check that both paths agree. */
void hash_sha256_direct(bool allow);

#define HMAC_SHA256_LEN 32

/* HMAC-SHA256 of data under key (RFC 2104), into out.  Returns 0, -ENOSYS
 * when libcrypto (or its HMAC) cannot be loaded, or -EINVAL for a key
 * longer than libcrypto accepts. */
int hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, unsigned char out[HMAC_SHA256_LEN],
                char **reterr_msg);
