/* s3_download.c: the S3Download action.  This file owns (past the entry
 * loop and the inputs every S3 entry has, in s3_entries.c) checking each
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
#include "mkdirs.h"
#include "module.h"
#include "s3.h"
#include "s3_entries.h"
#include "strbuf.h"
#include "strv.h"

/* AWSTOE's message, word for word. */
#define S3D_EXISTS_MSG                                                                                               \
        "Error: S3Download: File already exists and \"overwrite\" property for \"destination\" file is set to "     \
        "false. Cannot download."

struct s3d_run {
        const struct action_ctx *ctx;
        struct s3 *client;
        const struct s3_entry *e;      /* the entry running */
};

/* ---- inputs ------------------------------------------------------------------ */

/* What S3Download asks of its source beyond an S3 URI: an object, or a
 * prefix. */
static int entry_check(const struct s3_entry *e, struct strbuf *why)
{
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

/* mkdir -p, and what is there must be a folder. */
static int mkdir_p(const char *path)
{
        int r = mkdir_parents(path, 0777);

        return r < 0 ? r : is_dir(path) ? 0 : -ENOTDIR;
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

static enum action_status download_one(struct s3d_run *run, const struct s3_entry *e, struct strbuf *msg)
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

static enum action_status download_prefix(struct s3d_run *run, const struct s3_entry *e, struct strbuf *msg)
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
        strv_free_n(targets, n);
        s3_objects_free(objs, n);
        return st;
}

/* ---- the action ---------------------------------------------------------------- */

static enum action_status entry_run(void *userdata, struct s3 *client, const struct s3_entry *e, struct strbuf *msg)
{
        struct s3d_run *run = userdata;

        run->client = client;
        run->e = e;
        return e->uri.prefix ? download_prefix(run, e, msg) : download_one(run, e, msg);
}

static const struct s3_entries s3d_entries = {
        .action = "S3Download",
        .download = true,
        .check = entry_check,
        .run = entry_run,
};

S3_ENTRIES_ACTION(S3Download, s3_download_module, struct s3d_run, s3d_entries);
