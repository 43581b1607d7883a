/* state.c: the state folder (checks, lock) and its files' format: a
 * header with a digest binding the body to the programs, written
 * atomically and read back only when every check passes (see state.h). */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "hash.h"
#include "strbuf.h"
#include "trust.h"

#define STATE_FORMAT "opentoe-state"
#define STATE_FORMAT_VERSION 2
/* A state holds every step's outputs (each up to 1 MiB); more than this
 * is not a state opentoe wrote. */
#define STATE_MAX_BYTES (512u * 1024u * 1024u)

int state_dir_open(const char *path, struct state_dir *ret, char **reterr)
{
        *ret = (struct state_dir){ .fd = -1, .lock_fd = -1 };
        *reterr = NULL;
        int fd = trust_open_dir(path, 0700, "the state directory", reterr);
        if (fd < 0)
                return fd;
        int r = trust_check_private(fd, S_IFDIR, S_IWGRP | S_IWOTH, path, reterr);
        if (r < 0) {
                char *why = *reterr;
                *reterr = xasprintf("the state directory %s is not safe to use: %s", path, why);
                free(why);
                close(fd);
                return r;
        }
        ret->fd = fd;
        ret->path = xstrdup(path);
        _cleanup_free_ char *shown = xasprintf("%s/lock", path);
        int lfd = trust_openat(fd, "lock", O_RDWR, 0, S_IFREG, 077, shown, reterr);
        if (lfd == -ENOENT)
                lfd = trust_openat(fd, "lock", O_RDWR | O_CREAT, 0600, S_IFREG, 077, shown, reterr);
        if (lfd == -EEXIST) {
                /* Another run made it just now. */
                free(*reterr);
                lfd = trust_openat(fd, "lock", O_RDWR, 0, S_IFREG, 077, shown, reterr);
        }
        if (lfd < 0) {
                state_dir_close(ret);
                return lfd;
        }
        ret->lock_fd = lfd;
        if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
                r = errno == EWOULDBLOCK ? -EBUSY : -errno;
                *reterr = r == -EBUSY ? xasprintf("another opentoe run is using the state directory %s; give each "
                                                  "run its own --state-directory", path)
                                      : xasprintf("cannot lock %s: %s", shown, strerror(-r));
                state_dir_close(ret);
                return r;
        }
        return 0;
}

void state_dir_close(struct state_dir *sd)
{
        if (sd->lock_fd >= 0)
                close(sd->lock_fd);
        if (sd->fd >= 0)
                close(sd->fd);
        free(sd->path);
        *sd = (struct state_dir){ .fd = -1, .lock_fd = -1 };
}

static void binding_hex(const struct state_binding *b, size_t i, char hex[2 * PROG_SHA256_LEN + 1])
{
        hash_hex(b->sha256[i], PROG_SHA256_LEN, hex);
}

static int digest(const struct state_binding *b, const char *body, size_t len, char out[2 * PROG_SHA256_LEN + 1])
{
        struct hash_ctx *h;
        unsigned char d[HASH_MAX_LEN];
        size_t dl = 0;
        char hex[2 * PROG_SHA256_LEN + 1];
        int r = hash_begin(HASH_SHA256, &h);
        if (r < 0)
                return r;
        char head[32];
        int n = snprintf(head, sizeof head, "%s %d\n", STATE_FORMAT, STATE_FORMAT_VERSION);
        hash_update(h, head, (size_t)n);
        for (size_t i = 0; i < b->n; i++) {
                binding_hex(b, i, hex);
                hash_update(h, hex, strlen(hex));
                hash_update(h, "\n", 1);
        }
        hash_update(h, body, len);
        r = hash_end(h, d, &dl);
        if (r < 0)
                return r;
        hash_hex(d, dl, out);
        return 0;
}

int state_write(struct state_dir *sd, const char *name, const json_t *body, const struct state_binding *b,
                unsigned flags, char **reterr)
{
        *reterr = NULL;
        char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text)
                return -ENOMEM;
        char dg[2 * PROG_SHA256_LEN + 1], hex[2 * PROG_SHA256_LEN + 1];
        int r = digest(b, text, strlen(text), dg);
        if (r < 0) {
                *reterr = xasprintf("cannot compute the state's digest: %s", hash_error());
                free(text);
                return r;
        }
        json_t *docs = json_array();
        for (size_t i = 0; i < b->n; i++) {
                binding_hex(b, i, hex);
                json_array_append_new(docs, json_string(hex));
        }
        json_t *header = json_pack("{s:s, s:i, s:o, s:s}", "format", STATE_FORMAT, "version", STATE_FORMAT_VERSION,
                                   "documents", docs, "digest", dg);
        char *htext = json_dumps(header, JSON_COMPACT);
        json_decref(header);
        struct strbuf all = STRBUF_INIT;
        sb_puts(&all, htext);
        sb_putc(&all, '\n');
        sb_puts(&all, text);
        sb_putc(&all, '\n');
        free(htext);
        free(text);
        r = write_file_atomic_at(sd->fd, name, all.s, all.len, 0600, flags);
        if (r < 0)
                *reterr = xasprintf("cannot write %s/%s: %s", sd->path, name, strerror(-r));
        sb_free(&all);
        return r;
}

static int refuse(char **reterr, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(char **reterr, int err, const char *fmt, ...)
{
        struct strbuf b = STRBUF_INIT;
        va_list ap;
        va_start(ap, fmt);
        sb_vprintf(&b, fmt, ap);
        va_end(ap);
        *reterr = sb_take(&b);
        return err;
}

static int read_all(int fd, struct strbuf *b, const char *shown, char **reterr)
{
        char buf[65536];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return refuse(reterr, -errno, "cannot read %s: %s", shown, strerror(errno));
                if (n == 0)
                        return 0;
                if (b->len + (size_t)n > STATE_MAX_BYTES)
                        return refuse(reterr, -EFBIG, "%s is larger than %u bytes: it is not a state opentoe wrote",
                                      shown, STATE_MAX_BYTES);
                sb_append(b, buf, (size_t)n);
        }
}

int state_read(struct state_dir *sd, const char *name, const struct state_binding *b, json_t **ret_body,
               char **reterr)
{
        *ret_body = NULL;
        *reterr = NULL;
        _cleanup_free_ char *shown = xasprintf("%s/%s", sd->path, name);
        _cleanup_close_ int fd = trust_openat(sd->fd, name, O_RDONLY, 0, S_IFREG, 077, shown, reterr);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return fd;
        struct strbuf text = STRBUF_INIT;
        int r = read_all(fd, &text, shown, reterr);
        json_t *header = NULL, *body = NULL;
        json_error_t je;
        if (r < 0)
                goto out;
        if (text.len == 0) {
                r = refuse(reterr, -EINVAL, "%s is empty: it is damaged", shown);
                goto out;
        }
        const char *nl = memchr(text.s, '\n', text.len);
        header = nl ? json_loadb(text.s, (size_t)(nl - text.s), JSON_REJECT_DUPLICATES, &je) : NULL;
        const char *format = json_string_value(json_object_get(header, "format"));
        if (!header || !format || strcmp(format, STATE_FORMAT) != 0) {
                r = refuse(reterr, -EINVAL, "%s is damaged or is not an opentoe state (its first line is not an "
                                            "opentoe-state header)", shown);
                goto out;
        }
        json_int_t version = json_integer_value(json_object_get(header, "version"));
        if (version != STATE_FORMAT_VERSION) {
                r = refuse(reterr, -EINVAL, "%s has state format version %lld; this opentoe reads version %d",
                           shown, (long long)version, STATE_FORMAT_VERSION);
                goto out;
        }
        json_t *docs = json_object_get(header, "documents");
        bool same = json_array_size(docs) == b->n;
        for (size_t i = 0; same && i < b->n; i++) {
                char hex[2 * PROG_SHA256_LEN + 1];
                binding_hex(b, i, hex);
                const char *h = json_string_value(json_array_get(docs, i));
                same = h && !strcmp(h, hex);
        }
        if (!same) {
                r = refuse(reterr, -ESTALE, "%s belongs to other documents (or other versions of them): %zu "
                                            "document(s) whose SHA-256 differ from the ones given", shown,
                           json_array_size(docs));
                goto out;
        }
        const char *want = json_string_value(json_object_get(header, "digest"));
        const char *bstart = nl + 1;
        size_t blen = text.len - (size_t)(bstart - text.s);
        if (blen == 0 || bstart[blen - 1] != '\n') {
                r = refuse(reterr, -EINVAL, "%s is truncated: it is damaged", shown);
                goto out;
        }
        blen--;
        char got[2 * PROG_SHA256_LEN + 1];
        r = digest(b, bstart, blen, got);
        if (r < 0) {
                r = refuse(reterr, r, "cannot check %s: %s", shown, hash_error());
                goto out;
        }
        if (!want || strcmp(want, got) != 0) {
                r = refuse(reterr, -EINVAL, "%s is damaged or was changed by hand: its digest does not match its "
                                            "contents", shown);
                goto out;
        }
        body = json_loadb(bstart, blen, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
        if (!json_is_object(body)) {
                r = refuse(reterr, -EINVAL, "%s is damaged: %s", shown, body ? "its body is not an object" : je.text);
                json_decref(body);
                body = NULL;
                goto out;
        }
        *ret_body = body;
        r = 1;
out:
        json_decref(header);
        sb_free(&text);
        return r;
}

void state_remove(struct state_dir *sd, const char *name)
{
        if (sd->fd < 0)
                return;
        if (name)
                (void)unlinkat(sd->fd, name, 0);
        else {
                (void)unlinkat(sd->fd, STATE_FILE, 0);
                (void)unlinkat(sd->fd, RUNNING_FILE, 0);
        }
        (void)fsync(sd->fd);
}
