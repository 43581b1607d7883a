/* s3_uri.c: s3:// URIs and expected bucket owners: parsing and checking
 * them, as documents and action inputs give them. */
#include "s3.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "hexdigit.h"
#include "errmsg.h"
#include "mkdirs.h"
#include "credentials.h"
#include "http.h"
#include "s3_internal.h"
#include "sigv4.h"
#include "strbuf.h"

/* ---- URIs and owners ------------------------------------------------------- */

bool s3_is_uri(const char *s)
{
        return s && !strncasecmp(s, "s3://", 5);
}

static bool bucket_char(char c)
{
        return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

/* Names S3 serves as <bucket>.s3.<region>.amazonaws.com under its TLS
 * certificate: 3-63 lower-case letters, digits and '-', starting and
 * ending with a letter or digit (no dots: the wildcard certificate would
 * not match). */
bool s3_bucket_dns_compatible(const char *b)
{
        size_t n = strlen(b);

        if (n < 3 || n > 63 || !isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
                return false;
        for (const char *c = b; *c; c++)
                if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '-'))
                        return false;
        return true;
}

int s3_uri_parse(const char *s, bool allow_prefix, struct s3_uri *ret, char **reterr_msg)
{
        const char *b, *slash;
        size_t blen, klen;
        char *key;
        bool prefix = false;

        if (!s3_is_uri(s))
                return errmsg_set(reterr_msg, -EINVAL, "'%s' is not an S3 URI (s3://bucket/key)", s ? s : "");
        b = s + 5;
        slash = strchr(b, '/');
        blen = slash ? (size_t)(slash - b) : strlen(b);
        if (blen == 0)
                return errmsg_set(reterr_msg, -EINVAL, "'%s' has no bucket name (s3://bucket/key)", s);
        if (blen > S3_MAX_BUCKET_LEN)
                return errmsg_set(reterr_msg, -EINVAL, "'%s': the bucket name is longer than %d characters", s,
                                  S3_MAX_BUCKET_LEN);
        for (size_t i = 0; i < blen; i++)
                if (!bucket_char(b[i]))
                        return errmsg_set(reterr_msg, -EINVAL, "'%s': '%.*s' is not a valid bucket name (letters, "
                                          "digits, '.', '-' and '_' only)", s, (int)blen, b);
        key = xstrdup(slash ? slash + 1 : "");
        klen = strlen(key);
        if (klen > 0 && key[klen - 1] == '*') {
                if (!allow_prefix) {
                        free(key);
                        return errmsg_set(reterr_msg, -EINVAL,
                                          "'%s': a * wildcard cannot be used here; name an object, "
                                          "or a key prefix ending with /", s);
                }
                if (klen > 1 && key[klen - 2] != '/') {
                        free(key);
                        return errmsg_set(reterr_msg, -EINVAL,
                                          "'%s': a key prefix must end with a forward slash and an "
                                          "asterisk (s3://bucket/folder/*); other wildcards are not supported", s);
                }
                key[--klen] = '\0';
                prefix = true;
        }
        if (klen > S3_MAX_KEY_LEN) {
                free(key);
                return errmsg_set(reterr_msg, -EINVAL, "'%s': the key is longer than %d bytes", s, S3_MAX_KEY_LEN);
        }
        *ret = (struct s3_uri){ .bucket = xstrndup(b, blen), .key = key, .prefix = prefix };
        return 0;
}

void s3_uri_done(struct s3_uri *u)
{
        if (!u)
                return;
        free(u->bucket);
        free(u->key);
        *u = (struct s3_uri){ 0 };
}

int s3_owner_normalize(const char *owner, char **ret, char **reterr_msg)
{
        size_t n;

        if (!owner || !*owner) {
                *ret = NULL;
                return 0;
        }
        n = strlen(owner);
        for (size_t i = 0; i < n; i++)
                if (!isdigit((unsigned char)owner[i]))
                        return errmsg_set(reterr_msg, -EINVAL, "'%s' is not an AWS account ID (12 digits)", owner);
        if (n > 12)
                return errmsg_set(reterr_msg, -EINVAL, "'%s' is not an AWS account ID: it has more than 12 digits",
                                  owner);
        *ret = xasprintf("%.*s%s", (int)(12 - n), "000000000000", owner);
        return 0;
}

/* "s3://bucket/key" for messages. */

/* ---- action inputs ----------------------------------------------------------------- */

/* expectedBucketOwner: a string, or the integer a YAML document makes of
 * an unquoted account ID. */
int s3_owner_from_entry(const json_t *o, char **ret, char **reterr)
{
        const json_t *v = json_object_get(o, "expectedBucketOwner");
        char buf[32];

        if (json_is_integer(v)) {
                if (json_integer_value(v) < 0) {
                        *reterr = xstrdup("expectedBucketOwner must be an AWS account ID (12 digits)");
                        return -EINVAL;
                }
                snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return s3_owner_normalize(buf, ret, reterr);
        }
        if (v && !json_is_null(v) && !json_is_string(v)) {
                *reterr = xstrdup("expectedBucketOwner must be an AWS account ID (12 digits)");
                return -EINVAL;
        }
        return s3_owner_normalize(v ? json_string_value(v) : NULL, ret, reterr);
}

