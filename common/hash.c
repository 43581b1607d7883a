/* hash.c: digests and HMAC-SHA256 through a dlopen'd libcrypto.  Only the
 * handful of functions needed are resolved, once, on first use, by the
 * one loader (dlsyms.h).
 *
 * SHA-256, the digest of every run (the document's identity, the
 * checkpoint chain), goes through libcrypto's direct SHA256_Init/Update/
 * Final when the library still has them: the EVP path's first use loads
 * openssl.cnf and builds the provider tables, about 1.4 ms and 5 million
 * instructions, more than a small run's own work.  The same assembly
 * computes both.  EVP stays the path for the other digests, for HMAC,
 * for a libcrypto without the direct functions, and for a kernel in FIPS
 * mode, where the digest must come from the configured provider. */
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "dlsyms.h"
#include "errmsg.h"

typedef void EVP_MD;
typedef void EVP_MD_CTX;

struct crypto_api {
        const EVP_MD *(*md[_HASH_ALGO_MAX])(void);
        EVP_MD_CTX *(*ctx_new)(void);
        void (*ctx_free)(EVP_MD_CTX *);
        int (*init)(EVP_MD_CTX *, const EVP_MD *, void *);
        int (*update)(EVP_MD_CTX *, const void *, size_t);
        int (*final)(EVP_MD_CTX *, unsigned char *, unsigned int *);
        /* Optional: a libcrypto without it still serves the digests. */
        unsigned char *(*hmac)(const EVP_MD *, const void *, int, const unsigned char *, size_t, unsigned char *,
                               unsigned int *);
        /* Optional, deprecated by OpenSSL 3 but exported: SHA-256 without
         * the EVP layer's one-time set-up. */
        int (*sha256_init)(void *);
        int (*sha256_update)(void *, const void *, size_t);
        int (*sha256_final)(unsigned char *, void *);
};

#define SYM(field, name) DL_SYM(struct crypto_api, field, name)

static const struct dl_sym syms[] = {
        SYM(md[HASH_MD5], "EVP_md5"),
        SYM(md[HASH_SHA1], "EVP_sha1"),
        SYM(md[HASH_SHA256], "EVP_sha256"),
        SYM(md[HASH_SHA512], "EVP_sha512"),
        SYM(ctx_new, "EVP_MD_CTX_new"),
        SYM(ctx_free, "EVP_MD_CTX_free"),
        SYM(init, "EVP_DigestInit_ex"),
        SYM(update, "EVP_DigestUpdate"),
        SYM(final, "EVP_DigestFinal_ex"),
        DL_SYM_OPTIONAL(struct crypto_api, hmac, "HMAC"),
        DL_SYM_OPTIONAL(struct crypto_api, sha256_init, "SHA256_Init"),
        DL_SYM_OPTIONAL(struct crypto_api, sha256_update, "SHA256_Update"),
        DL_SYM_OPTIONAL(struct crypto_api, sha256_final, "SHA256_Final"),
};

/* Room for OpenSSL's SHA256_CTX (112 bytes in OpenSSL 1.1 and 3), with a
 * margin: the struct is opaque to us. */
#define SHA256_CTX_ROOM 256

struct hash_ctx {
        EVP_MD_CTX *evp;        /* NULL: the direct SHA-256 below */
        alignas(max_align_t) unsigned char sha256[SHA256_CTX_ROOM];
};

static struct crypto_api crypto;
static bool loaded;
static bool direct_sha256;      /* the three direct functions, and no FIPS mode */
static bool direct_allowed = true;

/* The kernel's FIPS flag, which Red Hat and Ubuntu Pro FIPS images set and
 * OpenSSL's FIPS configuration follows. */
static bool kernel_fips(void)
{
        _cleanup_close_ int fd = open("/proc/sys/crypto/fips_enabled", O_RDONLY | O_CLOEXEC);
        char c = '0';

        if (fd < 0 || read(fd, &c, 1) != 1)
                return false;
        return c == '1';
}

/* Loads libcrypto once, through the one loader (dlsyms.h).  A failure is
 * not remembered: the next call tries again and words it again, so no
 * message outlives its call. */
static int load(char **reterr_msg)
{
        static const char *const names[] = { "libcrypto.so.3", "libcrypto.so" };
        struct crypto_api a;
        void *h;
        int r;

        if (loaded)
                return 0;
        r = dl_load(names, sizeof names / sizeof names[0], syms, sizeof syms / sizeof syms[0], &a, "libcrypto",
                    "libssl3", &h, reterr_msg);
        if (r < 0)
                return r;
        crypto = a; /* the library stays loaded for the life of the process */
        direct_sha256 = a.sha256_init && a.sha256_update && a.sha256_final && !kernel_fips();
        loaded = true;
        return 0;
}

/* Any other failure, in strerror's words. */
static int errno_msg(char **reterr_msg, int r)
{
        return errmsg_set(reterr_msg, r, "%s", strerror(-r));
}

void hash_sha256_direct(bool allow)
{
        direct_allowed = allow;
}

size_t hash_length(enum hash_algo algo)
{
        static const size_t len[_HASH_ALGO_MAX] = { 16, 20, 32, 64 };
        return algo < _HASH_ALGO_MAX ? len[algo] : 0;
}

int hash_begin(enum hash_algo algo, struct hash_ctx **ret, char **reterr_msg)
{
        if (algo >= _HASH_ALGO_MAX)
                return errno_msg(reterr_msg, -EINVAL);
        int r = load(reterr_msg);
        if (r < 0)
                return r;
        _cleanup_free_ struct hash_ctx *h = malloc(sizeof *h);
        if (!h)
                return errno_msg(reterr_msg, -ENOMEM);
        h->evp = NULL;
        if (algo == HASH_SHA256 && direct_sha256 && direct_allowed) {
                if (crypto.sha256_init(h->sha256) != 1)
                        return errno_msg(reterr_msg, -EIO);
                *ret = TAKE_PTR(h);
                return 0;
        }
        h->evp = crypto.ctx_new();
        if (!h->evp)
                return errno_msg(reterr_msg, -ENOMEM);
        if (crypto.init(h->evp, crypto.md[algo](), NULL) != 1) {
                crypto.ctx_free(h->evp);
                return errno_msg(reterr_msg, -EIO);
        }
        *ret = TAKE_PTR(h);
        return 0;
}

int hash_update(struct hash_ctx *h, const void *data, size_t len)
{
        int ok = h->evp ? crypto.update(h->evp, data, len) : crypto.sha256_update(h->sha256, data, len);
        return ok == 1 ? 0 : -EIO;
}

int hash_end(struct hash_ctx *h, unsigned char *out, size_t *ret_len)
{
        unsigned int n = 0;
        int ok;

        if (h->evp) {
                ok = crypto.final(h->evp, out, &n);
        } else {
                ok = crypto.sha256_final(out, h->sha256);
                n = (unsigned)hash_length(HASH_SHA256);
        }
        hash_abort(h);
        if (ok != 1)
                return -EIO;
        *ret_len = n;
        return 0;
}

void hash_abort(struct hash_ctx *h)
{
        if (!h)
                return;
        if (h->evp)
                crypto.ctx_free(h->evp);
        free(h);
}

int hash_buffer(enum hash_algo algo, const void *data, size_t len, unsigned char *out, size_t *ret_len,
                char **reterr_msg)
{
        struct hash_ctx *h;
        int r = hash_begin(algo, &h, reterr_msg);
        if (r < 0)
                return r;
        r = hash_update(h, data, len);
        if (r < 0) {
                hash_abort(h);
                return errno_msg(reterr_msg, r);
        }
        r = hash_end(h, out, ret_len);
        return r < 0 ? errno_msg(reterr_msg, r) : r;
}

int hash_file(enum hash_algo algo, const char *path, unsigned char *out, size_t *ret_len, char **reterr_msg)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno_msg(reterr_msg, -errno);
        struct hash_ctx *h;
        int r = hash_begin(algo, &h, reterr_msg);
        if (r < 0)
                return r;
        unsigned char buf[65536];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        hash_abort(h);
                        return errno_msg(reterr_msg, r);
                }
                if (n == 0)
                        break;
                hash_update(h, buf, (size_t)n);
        }
        r = hash_end(h, out, ret_len);
        return r < 0 ? errno_msg(reterr_msg, r) : r;
}

void hash_hex(const unsigned char *d, size_t len, char *out)
{
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < len; i++) {
                out[2 * i] = hex[d[i] >> 4];
                out[2 * i + 1] = hex[d[i] & 15];
        }
        out[2 * len] = 0;
}

int hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, unsigned char out[HMAC_SHA256_LEN],
                char **reterr_msg)
{
        static const unsigned char empty[1];
        if (keylen > INT_MAX)
                return errno_msg(reterr_msg, -EINVAL);
        int r = load(reterr_msg);
        if (r < 0)
                return r;
        if (!crypto.hmac)
                return errmsg_set(reterr_msg, -ENOSYS, "libcrypto lacks the HMAC function");
        unsigned int n = 0;
        /* OpenSSL 3 refuses a NULL key even when its length is 0. */
        if (!crypto.hmac(crypto.md[HASH_SHA256](), keylen ? key : empty, (int)keylen, len ? data : empty, len, out,
                         &n) ||
            n != HMAC_SHA256_LEN)
                return errno_msg(reterr_msg, -EIO);
        return 0;
}
