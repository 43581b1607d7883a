/* s3_download.c: the S3Download action.  This file owns (past the entry
 * loop and the inputs every S3 entry has, in s3_entries.c) checking each
 * entry's inputs, deciding where each object goes (one object to a file,
 * or every object below a key prefix into a folder tree), the overwrite
 * rule with AWSTOE's own error message, and wording failures so they name
 * the entry.  The transfers are aws/s3's jobs on the runner's loop: each
 * object is streamed into a temporary file beside its destination and
 * renamed into place, so no destination is ever half-written, and a step
 * the runner stops (its deadline, an interrupt) leaves no partial file.
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
#include "errmsg.h"
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

/* The entry in flight. */
struct s3d_state {
        char *target;                   /* one object: its file */
        uint64_t size;
        struct s3_object *objs;         /* a prefix: its objects, */
        char **targets;                 /* their files (NULL: skipped), */
        size_t n, i, done, plen;        /* how many, the one in flight, those downloaded */
};

/* ---- inputs ------------------------------------------------------------------ */

/* What S3Download asks of its source beyond an S3 URI: an object, or a
 * prefix. */
static int entry_check(const struct s3_entry *e, char **reterr_msg)
{
        if (!e->uri.prefix && !*e->uri.key)
                return errmsg_set(reterr_msg, -EINVAL, "S3Download entry %zu (%s): the source names a bucket, not an "
                                  "object; to download every object in it, write s3://%s/ followed by *", e->no,
                                  e->source, e->uri.bucket);
        if (!e->uri.prefix && e->uri.key[strlen(e->uri.key) - 1] == '/')
                return errmsg_set(reterr_msg, -EINVAL, "S3Download entry %zu (%s): the source names a folder, not an "
                                  "object; to download everything below it, add * after the final slash", e->no,
                                  e->source);
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

static void one_done(void *userdata, int r, char **msg)
{
        struct s3_entry_run *run = userdata;
        const struct s3_entry *e = run->e;
        struct s3d_state *st = run->state;

        run->job = NULL;
        if (r == -EEXIST && !e->overwrite) {
                s3_entry_end(run, r, xasprintf("%s (S3Download entry %zu: %s -> %s)", S3D_EXISTS_MSG, e->no,
                                               e->source, st->target));
                return;
        }
        if (r < 0) {
                s3_entry_end(run, r, xasprintf("S3Download entry %zu (%s): %s; nothing was written to %s", e->no,
                                               e->source, s3_entry_why(run, r, *msg), st->target));
                return;
        }
        action_notice(run->ctx, STREAM_STDOUT, "S3Download entry %zu: downloaded %s to %s (%" PRIu64 " bytes)", e->no,
                      e->source, st->target, st->size);
        s3_entry_end(run, 0, NULL);
}

static void download_one(struct s3_entry_run *run)
{
        const struct s3_entry *e = run->e;
        struct s3d_state *st = run->state;
        const char *key = e->uri.key, *base = strrchr(key, '/');
        char *err = NULL;
        int r;

        base = base ? base + 1 : key;
        if (e->dest[strlen(e->dest) - 1] == '/' || is_dir(e->dest))
                st->target = join(e->dest, base);
        else
                st->target = xstrdup(e->dest);
        if (!e->overwrite && exists(st->target)) {
                s3_entry_end(run, -EEXIST, xasprintf("%s (S3Download entry %zu: %s -> %s)", S3D_EXISTS_MSG, e->no,
                                                     e->source, st->target));
                return;
        }
        r = s3_download_file_start(run->client, run->ev, e->uri.bucket, key, e->owner, st->target, e->overwrite,
                                   &st->size, one_done, run, &run->job, &err);
        if (r < 0) {
                one_done(run, r, &err);
                free(err);
        }
}

static void object_done(void *userdata, int r, char **msg);

/* The prefix's objects from st->i on: folder markers made, the next
 * object's download started, or the entry's end. */
static void prefix_next(struct s3_entry_run *run)
{
        const struct s3_entry *e = run->e;
        struct s3d_state *st = run->state;

        for (; st->i < st->n; st->i++) {
                const char *key = st->objs[st->i].key, *rest = key + st->plen, *target = st->targets[st->i];
                char *err = NULL;
                int r;

                if (!target)
                        continue;
                if (rest[strlen(rest) - 1] == '/') {
                        r = mkdir_p(target);
                        if (r < 0) {
                                s3_entry_end(run, r, xasprintf("S3Download entry %zu (%s): cannot create the folder %s "
                                                               "for the key '%s': %s", e->no, e->source, target, key,
                                                               strerror(-r)));
                                return;
                        }
                        continue;
                }
                r = s3_download_file_start(run->client, run->ev, e->uri.bucket, key, e->owner, target, e->overwrite,
                                           &st->size, object_done, run, &run->job, &err);
                if (r < 0) {
                        object_done(run, r, &err);
                        free(err);
                }
                return;
        }
        if (st->n > 0)
                action_notice(run->ctx, STREAM_STDOUT, "S3Download entry %zu: %zu object%s below %s downloaded to %s",
                              e->no, st->done, st->done == 1 ? "" : "s", e->source, e->dest);
        s3_entry_end(run, 0, NULL);
}

static void object_done(void *userdata, int r, char **msg)
{
        struct s3_entry_run *run = userdata;
        const struct s3_entry *e = run->e;
        struct s3d_state *st = run->state;
        const char *key = st->objs[st->i].key, *target = st->targets[st->i];

        run->job = NULL;
        if (r == -EEXIST && !e->overwrite) {
                s3_entry_end(run, r, xasprintf("%s (S3Download entry %zu: s3://%s/%s -> %s)", S3D_EXISTS_MSG, e->no,
                                               e->uri.bucket, key, target));
                return;
        }
        if (r < 0) {
                s3_entry_end(run, r, xasprintf("S3Download entry %zu (%s): %s; %zu of the prefix's objects were "
                                               "downloaded before it (they are kept)", e->no, e->source,
                                               s3_entry_why(run, r, *msg), st->done));
                return;
        }
        st->done++;
        action_notice(run->ctx, STREAM_STDOUT, "S3Download entry %zu: downloaded s3://%s/%s to %s (%" PRIu64 " bytes)",
                      e->no, e->uri.bucket, key, target, st->size);
        st->i++;
        prefix_next(run);
}

/* Every target of the listing known, and checked, before the first
 * download: 0, or -errno with the entry's message. */
static int prefix_plan(struct s3_entry_run *run, char **reterr_msg)
{
        const struct s3_entry *e = run->e;
        struct s3d_state *st = run->state;
        int r;

        st->targets = xcalloc(st->n + 1, sizeof *st->targets);
        for (size_t i = 0; i < st->n; i++) {
                const char *rest = st->objs[i].key + st->plen;

                if (!*rest)
                        continue; /* the prefix's own folder marker */
                if (!rest_is_safe(rest))
                        return errmsg_set(reterr_msg, -EINVAL, "S3Download entry %zu (%s): the key '%s' cannot be "
                                          "placed below %s: its path has empty, '.' or '..' elements; nothing was "
                                          "downloaded", e->no, e->source, st->objs[i].key, e->dest);
                st->targets[i] = join(e->dest, rest);
                if (rest[strlen(rest) - 1] != '/' && !e->overwrite && exists(st->targets[i]))
                        return errmsg_set(reterr_msg, -EEXIST, "%s (S3Download entry %zu: s3://%s/%s -> %s; nothing "
                                          "was downloaded)", S3D_EXISTS_MSG, e->no, e->uri.bucket, st->objs[i].key,
                                          st->targets[i]);
        }
        if (st->n == 0)
                action_notice(run->ctx, STREAM_STDOUT, "S3Download entry %zu: no objects below %s; nothing to download",
                              e->no, e->source);
        r = mkdir_p(e->dest);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "S3Download entry %zu (%s): cannot create the folder %s: %s", e->no,
                                  e->source, e->dest, strerror(-r));
        return 0;
}

static void listed(void *userdata, int r, char **msg)
{
        struct s3_entry_run *run = userdata;
        const struct s3_entry *e = run->e;
        char *err = NULL;

        run->job = NULL;
        if (r < 0) {
                s3_entry_end(run, r, xasprintf("S3Download entry %zu (%s): %s", e->no, e->source,
                                               s3_entry_why(run, r, *msg)));
                return;
        }
        r = prefix_plan(run, &err);
        if (r < 0) {
                s3_entry_end(run, r, err);
                return;
        }
        prefix_next(run);
}

static void download_prefix(struct s3_entry_run *run)
{
        const struct s3_entry *e = run->e;
        struct s3d_state *st = run->state;
        char *err = NULL;
        int r;

        st->plen = strlen(e->uri.key);
        r = s3_list_start(run->client, run->ev, e->uri.bucket, e->uri.key, e->owner, 0, &st->objs, &st->n, listed,
                          run, &run->job, &err);
        if (r < 0) {
                listed(run, r, &err);
                free(err);
        }
}

/* ---- the action ---------------------------------------------------------------- */

static int entry_start(struct s3_entry_run *run, char **reterr_msg)
{
        (void)reterr_msg;
        run->state = xcalloc(1, sizeof(struct s3d_state));
        if (run->e->uri.prefix)
                download_prefix(run);
        else
                download_one(run);
        return 0;
}

static void entry_clear(struct s3_entry_run *run)
{
        struct s3d_state *st = run->state;

        if (!st)
                return;
        free(st->target);
        if (st->targets)
                strv_free_n(st->targets, st->n);
        s3_objects_free(st->objs, st->n);
        free(st);
}

static const struct s3_entries s3d_entries = {
        .action = "S3Download",
        .download = true,
        .check = entry_check,
        .start = entry_start,
        .clear = entry_clear,
};

S3_ENTRIES_ACTION(S3Download, s3_download_module, s3d_entries);
