/* s3_download.c: the S3Download action.  This file owns checking each
 * entry's inputs, deciding where each object goes (one object to a file,
 * or every object below a key prefix into a folder tree), the overwrite
 * rule with AWSTOE's own error message, and wording failures so they name
 * the entry.  The transfers are aws/s3's: each object is streamed into a
 * temporary file beside its destination and renamed into place, so no
 * destination is ever half-written.
 *
 * Rules, per entry (inputs are a list; every entry is checked before any
 * is downloaded, then entries run in order and the first failure ends the
 * step, keeping what earlier entries and objects downloaded, as AWSTOE
 * does not roll back):
 *   - source is s3://bucket/key, or a key prefix written with a trailing
 *     slash and asterisk (s3://bucket/folder/ then '*', or s3://bucket/
 *     then '*' for the whole bucket).  A bucket or folder URI without the
 *     asterisk is refused with a hint.
 *   - One object: destination is the file to write, or, when it ends
 *     with '/' or is an existing folder, the folder that receives the
 *     object under the key's last element.  Missing folders are created.
 *   - A prefix: every object below it (ListObjectsV2, at most
 *     OPENTOE_S3_MAX_OBJECTS, 1000 by default as in AWSTOE; more fails
 *     the entry before anything is downloaded) goes to destination joined
 *     with the rest of its key, recreating the folders; keys ending in '/'
 *     (folder markers) become folders.  A key whose rest holds "." or
 *     ".." elements or empty ones could escape or blur the tree and fails
 *     the entry.
 *   - overwrite false: an existing file fails the entry with AWSTOE's
 *     message, checked for every object before the first download.
 *   - expectedBucketOwner (a string or a YAML integer, 1-12 digits) is
 *     sent as x-amz-expected-bucket-owner on every request.
 *   - The step deadline bounds every request and retry pause. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "http.h"
#include "module.h"
#include "s3.h"
#include "strbuf.h"

/* AWSTOE's message, word for word. */
#define S3D_EXISTS_MSG                                                                                               \
        "Error: S3Download: File already exists and \"overwrite\" property for \"destination\" file is set to "     \
        "false. Cannot download."

struct s3d_entry {
        size_t no;                      /* 1-based, as messages count */
        const char *source;
        const char *dest;
        struct s3_uri uri;
        char *owner;                    /* normalised, or NULL */
        bool overwrite;
};

struct s3d_run {
        const struct action_ctx *ctx;
        struct s3 *client;
        const struct s3d_entry *e;      /* the entry running, for notices */
};


static void retry_notice(void *userdata, const char *msg)
{
        struct s3d_run *run = userdata;

        action_notice(run->ctx, STREAM_STDERR, "S3Download entry %zu (%s): %s", run->e->no, run->e->source, msg);
}

/* ---- inputs ------------------------------------------------------------------ */




static void entry_done(struct s3d_entry *e)
{
        s3_uri_done(&e->uri);
        free(e->owner);
}

static int entry_parse(const json_t *o, size_t i, struct s3d_entry *e, struct strbuf *why)
{
        _cleanup_free_ char *err = NULL;

        *e = (struct s3d_entry){ .no = i + 1, .source = "" };
        if (!json_is_object(o)) {
                sb_printf(why, "S3Download entry %zu: not a map with source and destination", e->no);
                return -EINVAL;
        }
        if (action_input_string(o, "source", &e->source) < 0 || action_input_string(o, "destination", &e->dest) < 0) {
                sb_printf(why, "S3Download entry %zu: source and destination must be strings", e->no);
                return -EINVAL;
        }
        if (!*e->source) {
                sb_printf(why, "S3Download entry %zu: source is empty", e->no);
                return -EINVAL;
        }
        if (action_input_bool(o, "overwrite", true, &e->overwrite) < 0) {
                sb_printf(why, "S3Download entry %zu (%s): overwrite must be true or false", e->no, e->source);
                return -EINVAL;
        }
        if (!*e->dest) {
                sb_printf(why, "S3Download entry %zu (%s): destination is empty", e->no, e->source);
                return -EINVAL;
        }
        if (s3_owner_from_entry(o, &e->owner, &err) < 0) {
                sb_printf(why, "S3Download entry %zu (%s): expectedBucketOwner: %s", e->no, e->source, err);
                return -EINVAL;
        }
        if (s3_uri_parse(e->source, true, &e->uri, &err) < 0) {
                sb_printf(why, "S3Download entry %zu (%s): %s", e->no, e->source, err);
                return -EINVAL;
        }
        if (!e->uri.prefix && !*e->uri.key) {
                sb_printf(why, "S3Download entry %zu (%s): the source names a bucket, not an object; to download "
                               "every object in it, write s3://%s/ followed by *", e->no, e->source, e->uri.bucket);
                return -EINVAL;
        }
        if (!e->uri.prefix && e->uri.key[strlen(e->uri.key) - 1] == '/') {
                sb_printf(why, "S3Download entry %zu (%s): the source names a folder, not an object; to download "
                               "everything below it, add * after the final slash", e->no, e->source);
                return -EINVAL;
        }
        return 0;
}

/* ---- downloading ----------------------------------------------------------------- */

static bool is_dir(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const char *path)
{
        struct stat st;

        return lstat(path, &st) == 0;
}

static char *join(const char *dir, const char *name)
{
        size_t n = strlen(dir);

        return xasprintf("%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
}

static int mkdir_p(const char *path)
{
        _cleanup_free_ char *p = xstrdup(path);

        for (char *s = p + 1;; s++) {
                if (*s && *s != '/')
                        continue;
                char c = *s;

                *s = '\0';
                if (mkdir(p, 0777) < 0 && errno != EEXIST)
                        return -errno;
                if (!is_dir(p))
                        return -ENOTDIR;
                *s = c;
                if (!c)
                        return 0;
        }
}

/* The rest of a key below the prefix, if every element of it is a plain
 * name (no "", "." or ".." elements: they would escape or blur the
 * folder tree).  A trailing '/' (a folder marker) is allowed. */
static bool rest_is_safe(const char *rest)
{
        const char *p = rest;

        if (!*p)
                return false;
        for (;;) {
                size_t n = strcspn(p, "/");

                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                p += n;
                if (!*p)
                        return true;
                p++;
                if (!*p)
                        return true; /* folder marker */
        }
}

static enum action_status status_of(int r)
{
        return r == -ETIMEDOUT ? ACTION_TIMED_OUT : ACTION_FAILED;
}

static enum action_status download_one(struct s3d_run *run, const struct s3d_entry *e, struct strbuf *msg)
{
        _cleanup_free_ char *target = NULL, *err = NULL;
        const char *key = e->uri.key, *base = strrchr(key, '/');
        uint64_t size = 0;
        int r;

        base = base ? base + 1 : key;
        if (e->dest[strlen(e->dest) - 1] == '/' || is_dir(e->dest))
                target = join(e->dest, base);
        else
                target = xstrdup(e->dest);
        if (!e->overwrite && exists(target)) {
                sb_printf(msg, "%s (S3Download entry %zu: %s -> %s)", S3D_EXISTS_MSG, e->no, e->source, target);
                return ACTION_FAILED;
        }
        r = s3_download_file(run->client, e->uri.bucket, key, e->owner, target, e->overwrite, &size, &err);
        if (r == -EEXIST && !e->overwrite) {
                sb_printf(msg, "%s (S3Download entry %zu: %s -> %s)", S3D_EXISTS_MSG, e->no, e->source, target);
                return ACTION_FAILED;
        }
        if (r < 0) {
                sb_printf(msg, "S3Download entry %zu (%s): %s; nothing was written to %s", e->no, e->source, err,
                          target);
                return status_of(r);
        }
        action_notice(run->ctx, STREAM_STDOUT, "S3Download entry %zu: downloaded %s to %s (%" PRIu64 " bytes)", e->no,
               e->source, target, size);
        return ACTION_SUCCESS;
}

static enum action_status download_prefix(struct s3d_run *run, const struct s3d_entry *e, struct strbuf *msg)
{
        _cleanup_free_ char *err = NULL;
        struct s3_object *objs = NULL;
        char **targets;
        size_t n = 0, plen = strlen(e->uri.key), done = 0;
        enum action_status st = ACTION_SUCCESS;
        int r;

        r = s3_list(run->client, e->uri.bucket, e->uri.key, e->owner, 0, &objs, &n, &err);
        if (r < 0) {
                sb_printf(msg, "S3Download entry %zu (%s): %s", e->no, e->source, err);
                return status_of(r);
        }
        targets = xcalloc(n + 1, sizeof *targets);
        /* Every target is known, and checked, before the first download. */
        for (size_t i = 0; i < n && st == ACTION_SUCCESS; i++) {
                const char *rest = objs[i].key + plen;

                if (!*rest)
                        continue; /* the prefix's own folder marker */
                if (!rest_is_safe(rest)) {
                        sb_printf(msg, "S3Download entry %zu (%s): the key '%s' cannot be placed below %s: its path "
                                       "has empty, '.' or '..' elements; nothing was downloaded",
                                  e->no, e->source, objs[i].key, e->dest);
                        st = ACTION_FAILED;
                        break;
                }
                targets[i] = join(e->dest, rest);
                if (rest[strlen(rest) - 1] != '/' && !e->overwrite && exists(targets[i])) {
                        sb_printf(msg, "%s (S3Download entry %zu: s3://%s/%s -> %s; nothing was downloaded)",
                                  S3D_EXISTS_MSG, e->no, e->uri.bucket, objs[i].key, targets[i]);
                        st = ACTION_FAILED;
                }
        }
        if (st == ACTION_SUCCESS && n == 0)
                action_notice(run->ctx, STREAM_STDOUT, "S3Download entry %zu: no objects below %s; nothing to download",
                       e->no, e->source);
        if (st == ACTION_SUCCESS) {
                r = mkdir_p(e->dest);
                if (r < 0) {
                        sb_printf(msg, "S3Download entry %zu (%s): cannot create the folder %s: %s", e->no, e->source,
                                  e->dest, strerror(-r));
                        st = ACTION_FAILED;
                }
        }
        for (size_t i = 0; i < n && st == ACTION_SUCCESS; i++) {
                const char *rest = objs[i].key + plen;
                uint64_t size = 0;

                if (!targets[i])
                        continue;
                if (rest[strlen(rest) - 1] == '/') {
                        r = mkdir_p(targets[i]);
                        if (r < 0) {
                                sb_printf(msg, "S3Download entry %zu (%s): cannot create the folder %s for the key "
                                               "'%s': %s", e->no, e->source, targets[i], objs[i].key, strerror(-r));
                                st = ACTION_FAILED;
                        }
                        continue;
                }
                free(err);
                err = NULL;
                r = s3_download_file(run->client, e->uri.bucket, objs[i].key, e->owner, targets[i], e->overwrite,
                                     &size, &err);
                if (r == -EEXIST && !e->overwrite) {
                        sb_printf(msg, "%s (S3Download entry %zu: s3://%s/%s -> %s)", S3D_EXISTS_MSG, e->no,
                                  e->uri.bucket, objs[i].key, targets[i]);
                        st = ACTION_FAILED;
                } else if (r < 0) {
                        sb_printf(msg, "S3Download entry %zu (%s): %s; %zu of the prefix's objects were downloaded "
                                       "before it (they are kept)", e->no, e->source, err, done);
                        st = status_of(r);
                } else {
                        done++;
                        action_notice(run->ctx, STREAM_STDOUT, "S3Download entry %zu: downloaded s3://%s/%s to %s (%" PRIu64
                               " bytes)", e->no, e->uri.bucket, objs[i].key, targets[i], size);
                }
        }
        if (st == ACTION_SUCCESS && n > 0)
                action_notice(run->ctx, STREAM_STDOUT, "S3Download entry %zu: %zu object%s below %s downloaded to %s", e->no,
                       done, done == 1 ? "" : "s", e->source, e->dest);
        for (size_t i = 0; i < n; i++)
                free(targets[i]);
        free(targets);
        s3_objects_free(objs, n);
        return st;
}

/* ---- the action ---------------------------------------------------------------- */

static int s3_download_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        struct strbuf msg = STRBUF_INIT;
        struct s3d_run run = { .ctx = ctx };
        struct s3d_entry *entries;
        enum action_status status = ACTION_SUCCESS;
        json_t *outputs = json_array(), *o;
        size_t n, i;

        *ret = (struct action_result){ .status = ACTION_FAILED, .exit_code = -1, .outputs = outputs };
        if (!json_is_array(inputs) || json_array_size(inputs) == 0) {
                ret->message = xstrdup("S3Download: inputs must be a list of entries with source and destination");
                return 0;
        }
        n = json_array_size(inputs);
        entries = xcalloc(n, sizeof *entries);
        json_array_foreach(inputs, i, o)
                if (entry_parse(o, i, &entries[i], &msg) < 0) {
                        status = ACTION_FAILED;
                        break;
                }

        for (i = 0; i < n && status == ACTION_SUCCESS; i++) {
                const struct s3d_entry *e = &entries[i];

                if (ctx->deadline_ms >= 0 && aws_now_ms() >= ctx->deadline_ms) {
                        sb_printf(&msg, "S3Download entry %zu (%s): the step timed out before it started", e->no,
                                  e->source);
                        status = ACTION_TIMED_OUT;
                        break;
                }
                if (!run.client) {
                        char *err = NULL;

                        run.client = s3_new(&err);
                        if (!run.client) {
                                sb_printf(&msg, "S3Download entry %zu (%s): %s", e->no, e->source,
                                          err ? err : "cannot start the S3 client");
                                free(err);
                                status = ACTION_FAILED;
                                break;
                        }
                        s3_set_deadline(run.client, ctx->deadline_ms);
                        s3_set_notice(run.client, retry_notice, &run);
                }
                run.e = e;
                status = e->uri.prefix ? download_prefix(&run, e, &msg) : download_one(&run, e, &msg);
                if (status == ACTION_SUCCESS)
                        json_array_append_new(outputs, json_object());
        }

        for (i = 0; i < n; i++)
                entry_done(&entries[i]);
        free(entries);
        s3_free(run.client);
        ret->status = status;
        if (status == ACTION_SUCCESS)
                sb_free(&msg);
        else
                ret->message = sb_take(&msg);
        return 0;
}

const struct action_module s3_download_module = {
        .name = "S3Download",
        .spec = ACTION_SPEC(S3Download),
        .run = s3_download_run,
};
