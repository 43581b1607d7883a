/* fsencoding.c: text encodings through iconv (fsencoding.h). */
#include "fsencoding.h"

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "strbuf.h"
#include "utf8.h"

static const struct {
        const char *name, *iconv;
} encodings[] = {
        { "utf8", "UTF-8" },         { "utf-8", "UTF-8" },         { "utf16", "UTF-16LE" },
        { "utf-16", "UTF-16LE" },    { "utf16-le", "UTF-16LE" },   { "utf-16-le", "UTF-16LE" },
        { "utf16-be", "UTF-16BE" },  { "utf-16-be", "UTF-16BE" },  { "utf32", "UTF-32LE" },
        { "utf-32", "UTF-32LE" },    { "utf32-le", "UTF-32LE" },   { "utf-32-le", "UTF-32LE" },
        { "utf32-be", "UTF-32BE" },  { "utf-32-be", "UTF-32BE" },
};

const char *fs_encoding(const char *name)
{
        if (!*name)
                return "UTF-8";
        for (size_t i = 0; i < ELEMENTSOF(encodings); i++)
                if (!strcasecmp(name, encodings[i].name))
                        return encodings[i].iconv;
        return NULL;
}

/* iconv over a whole buffer; with `unit` > 0, undecodable input becomes
 * U+FFFD (`unit` bytes skipped), else -EILSEQ. */
static int convert(const char *to, const char *from, const char *data, size_t len, size_t unit, struct strbuf *b)
{
        iconv_t cd = iconv_open(to, from);
        char *in = (char *)data;
        size_t left = len;
        char out[8192];

        if (cd == (iconv_t)-1)
                return -errno;
        for (;;) {
                char *o = out;
                size_t room = sizeof out;
                size_t n = iconv(cd, left ? &in : NULL, left ? &left : NULL, &o, &room);
                int e = errno;

                sb_append(b, out, (size_t)(o - out));
                if (n != (size_t)-1) {
                        if (!left) {
                                o = out;
                                room = sizeof out;
                                (void)iconv(cd, NULL, NULL, &o, &room);
                                sb_append(b, out, (size_t)(o - out));
                                break;
                        }
                        continue;
                }
                if (e == E2BIG)
                        continue;
                if ((e == EILSEQ || e == EINVAL) && unit) {
                        size_t skip = left < unit ? left : unit;

                        sb_append(b, "\xef\xbf\xbd", 3);
                        in += skip;
                        left -= skip;
                        continue;
                }
                iconv_close(cd);
                return e == EINVAL ? -EILSEQ : -e;
        }
        iconv_close(cd);
        return 0;
}

/* Bytes read per step of fs_recode(). */
#define RECODE_CHUNK (64u * 1024u)

int fs_recode(struct fs_job *j, int in, int out, const char *enc, const char *display, char **reterr_msg)
{
        _cleanup_free_ char *ibuf = xmalloc(RECODE_CHUNK + 4);
        _cleanup_free_ char *obuf = xmalloc(4 * RECODE_CHUNK + 16);
        bool utf8 = !strcmp(enc, "UTF-8");
        iconv_t cd = (iconv_t)-1;
        size_t have = 0;
        off_t pos = 0;
        int r = 0;

        if (!utf8) {
                cd = iconv_open(enc, "UTF-8");
                if (cd == (iconv_t)-1)
                        return fs_fail_errno(reterr_msg, -errno, "cannot convert to %s", enc);
        }
        for (;;) {
                ssize_t n = read(in, ibuf + have, RECODE_CHUNK);
                const unsigned char *p = (const unsigned char *)ibuf;
                size_t ok = 0;
                bool eof;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = fs_fail_errno(reterr_msg, -errno, "cannot read %s", display);
                        break;
                }
                eof = n == 0;
                have += (size_t)n;
                /* The well-formed prefix; an incomplete sequence at the end
                 * waits for the next read. */
                while (ok < have) {
                        size_t k = utf8_seq_len(p + ok, have - ok);

                        if (k) {
                                ok += k;
                                continue;
                        }
                        if (!eof && have - ok < 4)
                                break;
                        r = fs_fail(reterr_msg, -EILSEQ, "%s is not UTF-8 text (byte %lld)", display,
                                    (long long)(pos + (off_t)ok));
                        break;
                }
                if (r < 0)
                        break;
                if (utf8 && out >= 0)
                        r = write_all(out, ibuf, ok);
                else if (!utf8) {
                        char *ip = ibuf, *op = obuf;
                        size_t ileft = ok, oleft = 4 * RECODE_CHUNK + 16;

                        if (iconv(cd, &ip, &ileft, &op, &oleft) == (size_t)-1)
                                r = -errno;
                        else
                                r = write_all(out, obuf, (size_t)(op - obuf));
                }
                if (r < 0) {
                        r = fs_fail_errno(reterr_msg, r, "cannot convert %s", display);
                        break;
                }
                memmove(ibuf, ibuf + ok, have - ok);
                have -= ok;
                pos += (off_t)ok;
                if (eof)
                        break;
                r = fs_tick(j, reterr_msg);
                if (r < 0)
                        break;
        }
        if (cd != (iconv_t)-1)
                iconv_close(cd);
        return r;
}

int fs_encode(const char *enc, const char *text, size_t len, char **ret, size_t *ret_len, char **reterr_msg)
{
        struct strbuf b = STRBUF_INIT;
        int r;

        if (!strcmp(enc, "UTF-8")) {
                sb_append(&b, text, len);
        } else {
                r = convert(enc, "UTF-8", text, len, 0, &b);
                if (r < 0) {
                        sb_free(&b);
                        return fs_fail_errno(reterr_msg, r, "cannot convert the content to %s", enc);
                }
        }
        *ret_len = b.len;
        *ret = b.s ? sb_take(&b) : xstrdup("");
        return 0;
}

int fs_decode(const char *enc, const char *data, size_t len, char **ret, size_t *ret_len)
{
        struct strbuf b = STRBUF_INIT;
        int r = 0;

        if (!strcmp(enc, "UTF-8"))
                utf8_sanitize(&b, data, len);
        else
                r = convert("UTF-8", enc, data, len, strstr(enc, "32") ? 4 : 2, &b);
        if (r < 0) {
                sb_free(&b);
                return r;
        }
        *ret_len = b.len;
        *ret = b.s ? sb_take(&b) : xstrdup("");
        return 0;
}
