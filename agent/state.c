/* state.c: the state folder (checks, lock) and its files' formats: the
 * checkpoint log (records chained by digests, patches applied in order)
 * and running.json (a header with a digest binding the body to the
 * programs, written atomically); both read back only when every check
 * passes (see state.h). */
#include "state.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "hash.h"
#include "jsondump.h"
#include "strbuf.h"
#include "trust.h"

#define STATE_FORMAT "opentoe-state"
#define STATE_FORMAT_VERSION 3
/* A state holds every step's outputs (each up to 1 MiB); more than this
 * is not a state opentoe wrote. */
#define STATE_MAX_BYTES (1024u * 1024u * 1024u)

int state_dir_open(const char *path, unsigned flags, struct state_dir *ret, char **reterr)
{
        *ret = (struct state_dir){ .fd = -1, .lock_fd = -1 };
        *reterr = NULL;
        int fd = trust_open_dir(path, (flags & STATE_DIR_CREATE) ? 0700 : 0, "the state directory", reterr);
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
        if (!(flags & STATE_DIR_LOCK))
                return 0;
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

static int chain(const char *a, const char *b, size_t b_len, char out[2 * PROG_SHA256_LEN + 1], char **reterr_msg);

/* The programs' SHA-256 as the headers list them. */
static json_t *binding_hexes(const struct state_binding *b)
{
        json_t *docs = json_array();
        char hex[2 * PROG_SHA256_LEN + 1];
        for (size_t i = 0; i < b->n; i++) {
                binding_hex(b, i, hex);
                json_array_append_new(docs, json_string(hex));
        }
        return docs;
}

/* The digest of running.json: over the format, each program's SHA-256
 * (hex strings in `hexes`) and the body, each line ended by a newline. */
static int digest(const json_t *hexes, const char *body, size_t len, char out[2 * PROG_SHA256_LEN + 1],
                  char **reterr_msg)
{
        struct strbuf head = STRBUF_INIT;
        sb_printf(&head, "%s %d", STATE_FORMAT, STATE_FORMAT_VERSION);
        for (size_t i = 0; i < json_array_size(hexes); i++) {
                const char *x = json_string_value(json_array_get(hexes, i));
                sb_printf(&head, "\n%s", x ? x : "");
        }
        /* chain() puts the last newline between the two. */
        int r = chain(sb_str(&head), body, len, out, reterr_msg);
        sb_free(&head);
        return r;
}

/* running.json's text: the header with its digest, then the body. */
static int running_text(const json_t *body, const struct state_binding *b, struct strbuf *all, char **reterr)
{
        char *text = json_dump_fast(body, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text)
                return -ENOMEM;
        char dg[2 * PROG_SHA256_LEN + 1];
        json_t *docs = binding_hexes(b);
        char *why = NULL;
        int r = digest(docs, text, strlen(text), dg, &why);
        if (r < 0) {
                *reterr = xasprintf("cannot compute the state's digest: %s", why);
                free(why);
                free(text);
                json_decref(docs);
                return r;
        }
        json_t *header = json_pack("{s:s, s:i, s:o, s:s}", "format", STATE_FORMAT, "version", STATE_FORMAT_VERSION,
                                   "documents", docs, "digest", dg);
        char *htext = json_dump_fast(header, JSON_COMPACT);
        json_decref(header);
        sb_puts(all, htext);
        sb_putc(all, '\n');
        sb_puts(all, text);
        sb_putc(all, '\n');
        free(htext);
        free(text);
        return 0;
}


int state_running_write(struct state_dir *sd, int *fd, const json_t *body, const struct state_binding *b,
                        char **reterr)
{
        *reterr = NULL;
        _cleanup_free_ char *shown = xasprintf("%s/%s", sd->path, RUNNING_FILE);
        if (*fd < 0) {
                /* A new file of ours, whatever was there. */
                (void)unlinkat(sd->fd, RUNNING_FILE, 0);
                *fd = trust_openat(sd->fd, RUNNING_FILE, O_RDWR | O_CREAT, 0600, S_IFREG, 077, shown, reterr);
                if (*fd < 0)
                        return *fd;
        }
        struct strbuf all = STRBUF_INIT;
        int r = running_text(body, b, &all, reterr);
        if (r >= 0) {
                /* No truncation: what follows the body's line is not read. */
                ssize_t n = pwrite(*fd, all.s, all.len, 0);
                if (n != (ssize_t)all.len) {
                        r = n < 0 ? -errno : -EIO;
                        *reterr = xasprintf("cannot write %s: %s", shown, strerror(-r));
                }
        }
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

/* The first line of a state file: its format and version, and the
 * programs it is for (when `b` is given).  Sets *ret_nl to the end of
 * the line and *ret_docs to its documents (borrowed from *ret_header). */
static int check_header(const struct strbuf *text, const struct state_binding *b, const char *shown,
                        json_t **ret_header, const char **ret_nl, json_t **ret_docs, char **reterr)
{
        json_error_t je;
        if (text->len == 0)
                return refuse(reterr, -EINVAL, "%s is empty: it is damaged", shown);
        const char *nl = memchr(text->s, '\n', text->len);
        json_t *header = nl ? json_loadb(text->s, (size_t)(nl - text->s), JSON_REJECT_DUPLICATES, &je) : NULL;
        *ret_header = header;
        const char *format = json_string_value(json_object_get(header, "format"));
        if (!header || !format || strcmp(format, STATE_FORMAT) != 0)
                return refuse(reterr, -EINVAL, "%s is damaged or is not an opentoe state (its first line is not an "
                                               "opentoe-state header)", shown);
        json_int_t version = json_integer_value(json_object_get(header, "version"));
        if (version != STATE_FORMAT_VERSION)
                return refuse(reterr, -EINVAL, "%s has state format version %lld; this opentoe reads version %d",
                              shown, (long long)version, STATE_FORMAT_VERSION);
        json_t *docs = json_object_get(header, "documents");
        bool same = json_is_array(docs) && (!b || json_array_size(docs) == b->n);
        for (size_t i = 0; same && b && i < b->n; i++) {
                char hex[2 * PROG_SHA256_LEN + 1];
                binding_hex(b, i, hex);
                const char *h = json_string_value(json_array_get(docs, i));
                same = h && !strcmp(h, hex);
        }
        if (!same)
                return refuse(reterr, -ESTALE, "%s belongs to other documents (or other versions of them): %zu "
                                               "document(s) whose SHA-256 differ from the ones given", shown,
                              json_array_size(docs));
        *ret_nl = nl;
        *ret_docs = docs;
        return 0;
}

/* A state file's text, read whole, with its header line checked against
 * `b`: *ret_nl points at the header's newline in text. */
static int read_checked(int fd, const struct state_binding *b, const char *shown, struct strbuf *text,
                        json_t **ret_header, const char **ret_nl, json_t **ret_docs, char **reterr)
{
        int r = read_all(fd, text, shown, reterr);
        if (r < 0)
                return r;
        return check_header(text, b, shown, ret_header, ret_nl, ret_docs, reterr);
}

/* A state file open and read, its header checked (state_text_read). */
struct state_text {
        char *shown;            /* its path, for messages */
        int fd;
        struct strbuf text;
        json_t *header, *docs;
        const char *nl;         /* the header's newline in text */
};

static void state_text_done(struct state_text *t)
{
        if (t->fd >= 0)
                close(t->fd);
        free(t->shown);
        json_decref(t->header);
        sb_free(&t->text);
}

/* Opens `name` in the state folder with `flags` and reads it whole with
 * its header checked against `b`: 1, 0 when there is no such file, or a
 * negative errno with the message in *reterr. */
static int state_text_read(struct state_dir *sd, const char *name, int flags, const struct state_binding *b,
                           struct state_text *t, char **reterr)
{
        int fd;

        t->shown = xasprintf("%s/%s", sd->path, name);
        fd = trust_openat(sd->fd, name, flags, 0, S_IFREG, 077, t->shown, reterr);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return fd;
        t->fd = fd;
        fd = read_checked(t->fd, b, t->shown, &t->text, &t->header, &t->nl, &t->docs, reterr);
        return fd < 0 ? fd : 1;
}

int state_read(struct state_dir *sd, const char *name, const struct state_binding *b, json_t **ret_body,
               char **reterr)
{
        _cleanup_(state_text_done) struct state_text t = { .fd = -1, .text = STRBUF_INIT };
        json_t *body;
        json_error_t je;
        int r;

        *ret_body = NULL;
        *reterr = NULL;
        r = state_text_read(sd, name, O_RDONLY, b, &t, reterr);
        if (r <= 0)
                return r;
        const char *want = json_string_value(json_object_get(t.header, "digest"));
        const char *bstart = t.nl + 1;
        /* The body is one line; anything after it (an older, longer
         * record rewritten in place) is not part of it. */
        const char *bend = memchr(bstart, '\n', t.text.len - (size_t)(bstart - t.text.s));
        if (!bend)
                return refuse(reterr, -EINVAL, "%s is truncated: it is damaged", t.shown);
        size_t blen = (size_t)(bend - bstart);
        char got[2 * PROG_SHA256_LEN + 1];
        char *why = NULL;
        r = digest(t.docs, bstart, blen, got, &why);
        if (r < 0) {
                r = refuse(reterr, r, "cannot check %s: %s", t.shown, why);
                free(why);
                return r;
        }
        if (!want || strcmp(want, got) != 0)
                return refuse(reterr, -EINVAL, "%s is damaged or was changed by hand: its digest does not match its "
                                               "contents", t.shown);
        body = json_loadb(bstart, blen, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
        if (!json_is_object(body)) {
                r = refuse(reterr, -EINVAL, "%s is damaged: %s", t.shown,
                           body ? "its body is not an object" : je.text);
                json_decref(body);
                return r;
        }
        *ret_body = body;
        return 1;
}

/* ---- the checkpoint log ------------------------------------------------ */

static char *log_header(const struct state_binding *b)
{
        json_t *h = json_pack("{s:s, s:i, s:o}", "format", STATE_FORMAT, "version", STATE_FORMAT_VERSION, "documents",
                              binding_hexes(b));
        char *text = json_dump_fast(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(h);
        return text;
}

/* SHA-256 of `a`, "\n" and `b` (b_len bytes), in hex. */
static int chain(const char *a, const char *b, size_t b_len, char out[2 * PROG_SHA256_LEN + 1], char **reterr_msg)
{
        struct hash_ctx *h;
        unsigned char d[HASH_MAX_LEN];
        size_t dl = 0;
        int r = hash_begin(HASH_SHA256, &h, reterr_msg);
        if (r < 0)
                return r;
        hash_update(h, a, strlen(a));
        hash_update(h, "\n", 1);
        hash_update(h, b, b_len);
        r = hash_end(h, d, &dl);
        if (r >= 0)
                hash_hex(d, dl, out);
        return r;
}

/* Where the log's chain starts: the format and its header line. */
static int header_digest(const char *header, size_t len, char out[2 * PROG_SHA256_LEN + 1], char **reterr_msg)
{
        char head[32];
        snprintf(head, sizeof head, "%s %d", STATE_FORMAT, STATE_FORMAT_VERSION);
        return chain(head, header, len, out, reterr_msg);
}

/* The log's first record (its header and first patch) as a new file,
 * whole or not at all: written and synced under a temporary name, then
 * renamed into place, so that a crash can never leave an empty or
 * half-written state.jsonl that a resume would refuse as damaged (a
 * leftover temporary is not a state and is removed by the next run).
 * Returns the log's descriptor (O_APPEND) or a negative errno. */
static int log_create(struct state_dir *sd, const struct strbuf *line, const char *shown, char **reterr)
{
        static const char tmp[] = STATE_FILE ".new";
        int r;

        if (unlinkat(sd->fd, tmp, 0) < 0 && errno != ENOENT)
                return refuse(reterr, -errno, "cannot remove %s/%s: %s", sd->path, tmp, strerror(errno));
        int fd = trust_openat(sd->fd, tmp, O_RDWR | O_APPEND | O_CREAT | O_EXCL, 0600, S_IFREG, 077, shown, reterr);
        if (fd < 0)
                return fd;
        r = write_all(fd, line->s, line->len);
        if (r == 0 && fdatasync(fd) < 0)
                r = -errno;
        if (r == 0 && renameat2(sd->fd, tmp, sd->fd, STATE_FILE, RENAME_NOREPLACE) < 0)
                r = -errno;
        if (r == 0 && fsync(sd->fd) < 0 && errno != EINVAL)
                r = -errno;
        if (r < 0) {
                close(fd);
                (void)unlinkat(sd->fd, tmp, 0);
                return refuse(reterr, r, "cannot write %s: %s", shown, strerror(-r));
        }
        return fd;
}

int state_log_append(struct state_dir *sd, struct state_log *log, const json_t *patch,
                     const struct state_binding *b, char **reterr)
{
        *reterr = NULL;
        struct strbuf line = STRBUF_INIT;
        _cleanup_free_ char *shown = xasprintf("%s/%s", sd->path, STATE_FILE);
        char prev[2 * PROG_SHA256_LEN + 1], next[2 * PROG_SHA256_LEN + 1];
        unsigned long long records = log->records;
        _cleanup_free_ char *why = NULL;
        int r;
        if (log->broken) {
                *reterr = xasprintf("%s could not be repaired after a failed write; no more checkpoints are saved",
                                    shown);
                return -EIO;
        }
        /* No log yet: the first record makes it (log_create()). */
        bool create = log->fd < 0;
        if (create)
                log->size = 0;
        bool fresh = log->size == 0;
        memcpy(prev, log->prev, sizeof prev);
        if (fresh) {
                char *header = log_header(b);
                sb_puts(&line, header);
                sb_putc(&line, '\n');
                r = header_digest(header, strlen(header), prev, &why);
                free(header);
                records = 0;
                if (r < 0)
                        goto digest_failed;
        }
        char *text = json_dump_fast(patch, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text) {
                sb_free(&line);
                return -ENOMEM;
        }
        r = chain(prev, text, strlen(text), next, &why);
        if (r < 0) {
                free(text);
                goto digest_failed;
        }
        /* The patch is appended as it is: a %s of a large patch costs
         * vsnprintf more than the dump that made it. */
        sb_printf(&line, "{\"n\":%llu,\"digest\":\"%s\",\"patch\":", records + 1, next);
        sb_puts(&line, text);
        sb_puts(&line, "}\n");
        free(text);
        if ((unsigned long long)log->size + line.len > STATE_MAX_BYTES) {
                *reterr = xasprintf("%s would grow past %u bytes (the outputs the run keeps are that large); no "
                                    "more checkpoints are saved", shown, STATE_MAX_BYTES);
                sb_free(&line);
                return -EFBIG;
        }
        if (create) {
                int fd = log_create(sd, &line, shown, reterr);
                if (fd < 0) {
                        sb_free(&line);
                        return fd;
                }
                log->fd = fd;
                r = 0;
        } else {
                /* One write: a crash leaves the record whole or cut
                 * short, and a record cut short is not a checkpoint. */
                r = write_all(log->fd, line.s, line.len);
                if (r == 0 && fdatasync(log->fd) < 0)
                        r = -errno;
                if (r == 0 && fresh && fsync(sd->fd) < 0 && errno != EINVAL)
                        r = -errno;
        }
        if (r < 0) {
                /* What a failed write left (disk full, I/O error) is cut,
                 * so the records that follow start on a clean line. */
                if (ftruncate(log->fd, (off_t)log->size) < 0)
                        log->broken = true;
                *reterr = xasprintf("cannot write %s: %s", shown, strerror(-r));
                sb_free(&line);
                return r;
        }
        log->size += (off_t)line.len;
        memcpy(log->prev, next, sizeof next);
        log->records = records + 1;
        sb_free(&line);
        return 0;
digest_failed:
        sb_free(&line);
        *reterr = xasprintf("cannot compute the digest of %s: %s", shown, why);
        return r;
}

void state_log_close(struct state_log *log)
{
        if (log->fd >= 0)
                close(log->fd);
        *log = (struct state_log)STATE_LOG_INIT;
}

/* Whether a value may be changed in place: nobody else holds it (so
 * applying a long log stays linear). */
static bool sole_owner(const json_t *v)
{
        return v && v->refcount == 1;
}

/* The first `keep` elements of `base` (reference taken), changed in
 * place when nobody else holds it. */
static json_t *array_prefix(json_t *base, size_t keep)
{
        json_t *out;
        if (sole_owner(base) && json_is_array(base)) {
                out = json_incref(base);
                while (json_array_size(out) > keep)
                        json_array_remove(out, json_array_size(out) - 1);
        } else {
                out = json_array();
                for (size_t k = 0; k < keep && k < json_array_size(base); k++)
                        json_array_append(out, json_array_get(base, k));
        }
        json_decref(base);
        return out;
}

static json_t *patch_array_index(json_t *base, const json_t *patch)
{
        json_int_t len = json_integer_value(json_object_get(patch, "@len"));
        json_t *e;
        size_t i;
        if (len < 0)
                len = 0;
        json_t *out = array_prefix(base, (size_t)len);
        while (json_array_size(out) < (size_t)len)
                json_array_append_new(out, json_null());
        json_array_foreach(json_object_get(patch, "@patch"), i, e)
        {
                json_int_t at = json_integer_value(json_array_get(e, 0));
                if (at < 0 || at >= len)
                        continue;
                json_t *old = json_incref(json_array_get(out, (size_t)at));
                json_array_set_new(out, (size_t)at, json_null());
                json_array_set_new(out, (size_t)at, state_patch_apply(old, json_array_get(e, 1)));
        }
        return out;
}

/* Whether a patch can be applied within bounds (a state is trusted only
 * as far as it is checked: a huge "@len" must not make opentoe spin). */
#define PATCH_MAX_LEN (16u * 1024u * 1024u)
#define PATCH_MAX_DEPTH 64

static bool patch_sane(const json_t *p, unsigned depth)
{
        if (depth > PATCH_MAX_DEPTH)
                return false;
        if (!json_is_object(p))
                return true;
        json_t *len = json_object_get(p, "@len"), *from = json_object_get(p, "@from");
        if (len && (!json_is_integer(len) || json_integer_value(len) < 0 ||
                    json_integer_value(len) > (json_int_t)PATCH_MAX_LEN || !json_is_array(json_object_get(p, "@patch"))))
                return false;
        if (from && (!json_is_integer(from) || json_integer_value(from) < 0 ||
                     json_integer_value(from) > (json_int_t)PATCH_MAX_LEN || !json_is_array(json_object_get(p, "@add"))))
                return false;
        if (len) {
                size_t i;
                json_t *e;
                json_array_foreach(json_object_get(p, "@patch"), i, e)
                {
                        if (!json_is_array(e) || json_array_size(e) != 2 || !json_is_integer(json_array_get(e, 0)) ||
                            !patch_sane(json_array_get(e, 1), depth + 1))
                                return false;
                }
                return true;
        }
        if (json_is_true(json_object_get(p, "@merge"))) {
                const char *k;
                json_t *v;
                json_object_foreach((json_t *)p, k, v) if (!patch_sane(v, depth + 1)) return false;
        }
        return true;
}

json_t *state_patch_apply(json_t *base, const json_t *patch)
{
        if (!json_is_object(patch)) {
                json_decref(base);
                return json_incref((json_t *)patch);
        }
        if (json_object_get(patch, "@patch"))
                return patch_array_index(base, patch);
        if (json_object_get(patch, "@from")) {
                json_int_t from = json_integer_value(json_object_get(patch, "@from"));
                json_t *out = array_prefix(base, from < 0 ? 0 : (size_t)from), *e;
                size_t i;
                json_array_foreach(json_object_get(patch, "@add"), i, e) json_array_append(out, e);
                return out;
        }
        if (!json_is_true(json_object_get(patch, "@merge"))) {
                json_decref(base);
                return json_incref((json_t *)patch);
        }
        json_t *out = sole_owner(base) && json_is_object(base) ? json_incref(base)
                      : json_is_object(base)                  ? json_copy(base)
                                                              : json_object();
        json_decref(base);
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)patch, k, v)
        {
                if (!strcmp(k, "@merge"))
                        continue;
                /* Taken out first, so that it may be patched in place. */
                json_t *old = json_object_get(out, k);
                if (old)
                        json_incref(old);
                json_object_del(out, k);
                json_object_set_new(out, k, state_patch_apply(old, v));
        }
        return out;
}

/* A record line: {"n":N,"digest":"<64 hex>","patch":...}; returns the
 * patch's bytes. */
static bool parse_record(const char *line, size_t len, unsigned long long *ret_n, char digest[65],
                         const char **ret_patch, size_t *ret_patch_len)
{
        static const char pre[] = "{\"n\":", mid[] = ",\"digest\":\"", post[] = "\",\"patch\":";
        size_t p = sizeof pre - 1;
        if (len < p || memcmp(line, pre, p) != 0)
                return false;
        unsigned long long n = 0;
        size_t digits = 0;
        while (p < len && line[p] >= '0' && line[p] <= '9' && digits < 19) {
                n = n * 10 + (unsigned)(line[p++] - '0');
                digits++;
        }
        if (!digits || len - p < sizeof mid - 1 + 64 + sizeof post - 1 + 1 ||
            memcmp(line + p, mid, sizeof mid - 1) != 0)
                return false;
        p += sizeof mid - 1;
        memcpy(digest, line + p, 64);
        digest[64] = '\0';
        p += 64;
        if (memcmp(line + p, post, sizeof post - 1) != 0 || line[len - 1] != '}')
                return false;
        p += sizeof post - 1;
        *ret_n = n;
        *ret_patch = line + p;
        *ret_patch_len = len - 1 - p;
        return true;
}

int state_log_read(struct state_dir *sd, struct state_log *log, const struct state_binding *b, json_t **ret_body,
                   bool *ret_torn, char **reterr)
{
        _cleanup_(state_text_done) struct state_text t = { .fd = -1, .text = STRBUF_INIT };
        json_t *body = NULL;
        json_error_t je;
        int r;

        *ret_body = NULL;
        *ret_torn = false;
        *reterr = NULL;
        r = state_text_read(sd, STATE_FILE, log ? O_RDWR | O_APPEND : O_RDONLY, b, &t, reterr);
        if (r <= 0)
                return r;
        char prev[2 * PROG_SHA256_LEN + 1];
        char *why = NULL;
        r = header_digest(t.text.s, (size_t)(t.nl - t.text.s), prev, &why);
        if (r < 0) {
                r = refuse(reterr, r, "cannot check %s: %s", t.shown, why);
                free(why);
                goto out;
        }
        unsigned long long records = 0;
        size_t pos = (size_t)(t.nl - t.text.s) + 1, whole = pos;
        while (pos < t.text.len) {
                const char *line = t.text.s + pos, *end = memchr(line, '\n', t.text.len - pos);
                if (!end) {
                        /* Cut short by a crash while it was appended. */
                        *ret_torn = true;
                        break;
                }
                size_t len = (size_t)(end - line);
                unsigned long long n;
                char want[65], got[2 * PROG_SHA256_LEN + 1];
                const char *ptext;
                size_t plen;
                if (!parse_record(line, len, &n, want, &ptext, &plen) || n != records + 1) {
                        r = refuse(reterr, -EINVAL, "%s is damaged: record %llu is not a checkpoint record", t.shown,
                                   records + 1);
                        goto out;
                }
                r = chain(prev, ptext, plen, got, NULL);
                if (r < 0 || strcmp(got, want) != 0) {
                        r = refuse(reterr, -EINVAL, "%s is damaged or was changed by hand: the digest of record "
                                                    "%llu does not match its contents", t.shown, n);
                        goto out;
                }
                json_t *patch = json_loadb(ptext, plen, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
                if (json_is_object(patch) && !patch_sane(patch, 0)) {
                        json_decref(patch);
                        r = refuse(reterr, -EINVAL, "%s is damaged: record %llu is out of bounds", t.shown, n);
                        goto out;
                }
                if (!json_is_object(patch)) {
                        json_decref(patch);
                        r = refuse(reterr, -EINVAL, "%s is damaged: record %llu: %s", t.shown, n, je.text);
                        goto out;
                }
                body = state_patch_apply(body, patch);
                json_decref(patch);
                memcpy(prev, got, sizeof got);
                records = n;
                pos += len + 1;
                whole = pos;
        }
        if (!records) {
                r = refuse(reterr, -EINVAL, "%s is damaged: it holds no whole checkpoint", t.shown);
                goto out;
        }
        if (log && *ret_torn && ftruncate(t.fd, (off_t)whole) < 0) {
                r = refuse(reterr, -errno, "cannot cut the last, partial record from %s: %s", t.shown, strerror(errno));
                goto out;
        }
        if (log) {
                log->fd = t.fd;
                t.fd = -1;
                memcpy(log->prev, prev, sizeof prev);
                log->records = records;
                log->size = (off_t)whole;
        }
        *ret_body = TAKE_PTR(body);
        r = 1;
out:
        json_decref(body);
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
                (void)unlinkat(sd->fd, STATE_FILE ".new", 0);
                (void)unlinkat(sd->fd, RUNNING_FILE, 0);
        }
        (void)fsync(sd->fd);
}
