/* s3_upload.c: the S3Upload action.  This file owns (past the entry loop
 * and the inputs every S3 entry has, in s3_entries.c) checking each entry's
 * inputs, deciding which local files go to which keys (one file, the
 * matches of a `*` wildcard, or a whole folder with recurse), and wording
 * failures so they name the entry.  The transfers are aws/s3's jobs on the
 * runner's loop: each file is streamed from disk (never held in memory),
 * in one PutObject or, above the multipart threshold, in parts sent side
 * by side.  What an entry sends is known (and skipped things told) before
 * its first upload.
 *
 * Rules, per entry (inputs are a list; every entry is checked before any
 * is uploaded; entries run in order and the first failure ends the step;
 * nothing already uploaded is removed, as AWSTOE documents):
 *   - destination is an S3 URI.  For one file it is the key to write, or,
 *     when it ends with '/' or names only the bucket, the prefix that
 *     receives the file under its own name.  For several files it is
 *     always a prefix ('/' is added when missing).
 *   - source is a local path.  A `*` wildcard in its last element selects
 *     the matching entries of that folder (none is an error): files are
 *     uploaded to prefix + name; matching folders only with recurse, to
 *     prefix + name + '/' + their own tree; without recurse they are
 *     skipped, as AWSTOE copies "only files, not sub-folders".
 *   - A folder without a wildcard needs recurse: true; its contents go
 *     below the prefix, each file at its path relative to the folder.
 *   - Symbolic links to files are followed; links to folders met inside a
 *     tree, and anything that is not a file or folder, are skipped with a
 *     notice.  Empty folders upload nothing (S3 has no folders).
 *   - recurse is a boolean, or the strings "true"/"false" (the docs call
 *     it a string).  expectedBucketOwner (string or YAML integer) is sent
 *     as x-amz-expected-bucket-owner on every request.
 *   - The step deadline bounds every request and retry pause. */
#include <errno.h>
#include <fcntl.h>
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
#include "fsglob.h"
#include "http.h"
#include "module.h"
#include "s3.h"
#include "s3_entries.h"
#include "strbuf.h"
#include "strv.h"

/* One file to upload, in the order of the entry's plan.  A folder that
 * cannot be walked is an item too, failing the entry when its turn
 * comes (after the files before it were uploaded). */
struct s3u_item {
        char *path;
        char *key;
        bool tree;                      /* found in a folder (its failures say how many went before) */
        int r;                          /* < 0: the walk of a folder failed here, with msg */
        char *msg;
};

/* The entry in flight. */
struct s3u_state {
        struct s3u_item *items;
        size_t n, cap, i;
        size_t files;                   /* uploaded by the entry so far */
        enum { NOTE_NONE, NOTE_MATCHES, NOTE_FOLDER } empty_note; /* said when no file was uploaded */
        int fd;                         /* the file being uploaded */
        uint64_t size;
};

static void tree_uploaded(struct s3_entry_run *run, const char *path, const char *key, uint64_t size)
{
        struct s3u_state *st = run->state;

        st->files++;
        action_notice(run->ctx, STREAM_STDOUT, "S3Upload entry %zu: uploaded %s to s3://%s/%s (%" PRIu64 " bytes)",
                      run->e->no, path, run->e->uri.bucket, key, size);
}

static void tree_skipped(void *userdata, const char *path, const char *why)
{
        struct s3_entry_run *run = userdata;

        action_notice(run->ctx, STREAM_STDOUT, "S3Upload entry %zu: skipped %s: %s", run->e->no, path, why);
}

/* ---- the plan -------------------------------------------------------------------- */

static struct s3u_item *item_add(struct s3u_state *st)
{
        if (st->n == st->cap) {
                st->cap = st->cap ? st->cap * 2 : 16;
                st->items = xrealloc(st->items, st->cap * sizeof *st->items);
        }
        st->items[st->n] = (struct s3u_item){ 0 };
        return &st->items[st->n++];
}

static const char *base_name(const char *path)
{
        size_t n = strlen(path);
        const char *s;

        while (n > 1 && path[n - 1] == '/')
                n--;
        for (s = path + n; s > path && s[-1] != '/'; s--)
                ;
        return s;
}

/* The destination as a prefix: "" or ending with '/'. */
static char *dest_prefix(const struct s3_entry *e)
{
        size_t n = strlen(e->uri.key);

        return n == 0 || e->uri.key[n - 1] == '/' ? xstrdup(e->uri.key) : xasprintf("%s/", e->uri.key);
}

/* Every file below dir, for keys below prefix. */
static void plan_tree(struct s3_entry_run *run, const char *dir, const char *prefix)
{
        struct s3u_state *st = run->state;
        const struct s3_tree_cb cb = { .skipped = tree_skipped, .userdata = run };
        struct s3_tree_file *files = NULL;
        size_t n = 0;
        char *err = NULL;
        int r = s3_tree_list(dir, prefix, &cb, &files, &n, &err);

        for (size_t i = 0; i < n; i++)
                *item_add(st) = (struct s3u_item){ .path = TAKE_PTR(files[i].path), .key = TAKE_PTR(files[i].key),
                                                   .tree = true };
        s3_tree_files_free(files, n);
        if (r < 0)
                *item_add(st) = (struct s3u_item){ .tree = true, .r = r, .msg = err ? err : xstrdup(strerror(-r)) };
}

/* The files of the entry, in order: 0, or -errno with the entry's message. */
static int plan(struct s3_entry_run *run, char **reterr_msg)
{
        const struct s3_entry *e = run->e;
        struct s3u_state *st = run->state;
        struct stat sb;

        if (fs_has_wildcard(e->source)) {
                _cleanup_free_ char *prefix = dest_prefix(e), *err = NULL;
                char **matches = NULL;
                size_t n = 0;
                int r = 0;

                if (fs_check_wildcard(e->source, &err) < 0 || fs_glob(e->source, FS_ANY, &matches, &n, &err) < 0)
                        r = errmsg_set(reterr_msg, -EINVAL, "S3Upload entry %zu (%s): %s", e->no, e->source,
                                       err ? err : "failed");
                else if (n == 0)
                        r = errmsg_set(reterr_msg, -ENOENT, "S3Upload entry %zu (%s): no files match the source",
                                       e->no, e->source);
                for (size_t i = 0; i < n && r >= 0; i++) {
                        if (stat(matches[i], &sb) < 0) {
                                tree_skipped(run, matches[i], "a symbolic link to nothing");
                        } else if (S_ISDIR(sb.st_mode)) {
                                if (!e->recurse) {
                                        tree_skipped(run, matches[i],
                                                     "a folder (set recurse to true to upload folders)");
                                        continue;
                                }
                                _cleanup_free_ char *key = xasprintf("%s%s/", prefix, base_name(matches[i]));
                                plan_tree(run, matches[i], key);
                        } else if (!S_ISREG(sb.st_mode)) {
                                tree_skipped(run, matches[i], "not a regular file");
                        } else {
                                *item_add(st) = (struct s3u_item){
                                        .path = xstrdup(matches[i]),
                                        .key = xasprintf("%s%s", prefix, base_name(matches[i])),
                                };
                        }
                }
                strv_free(matches);
                st->empty_note = NOTE_MATCHES;
                return r;
        }
        if (stat(e->source, &sb) < 0)
                return errmsg_set(reterr_msg, -errno, "S3Upload entry %zu (%s): %s", e->no, e->source,
                                  errno == ENOENT || errno == ENOTDIR ? "the source does not exist" : strerror(errno));
        if (S_ISDIR(sb.st_mode)) {
                _cleanup_free_ char *prefix = dest_prefix(e);

                if (!e->recurse)
                        return errmsg_set(reterr_msg, -EISDIR, "S3Upload entry %zu (%s): the source is a folder; set "
                                          "recurse to true to upload it with everything below it", e->no, e->source);
                plan_tree(run, e->source, prefix);
                st->empty_note = NOTE_FOLDER;
                return 0;
        }
        if (!S_ISREG(sb.st_mode))
                return errmsg_set(reterr_msg, -EINVAL, "S3Upload entry %zu (%s): the source is not a regular file",
                                  e->no, e->source);
        size_t klen = strlen(e->uri.key);
        *item_add(st) = (struct s3u_item){
                .path = xstrdup(e->source),
                .key = klen == 0 || e->uri.key[klen - 1] == '/' ? xasprintf("%s%s", e->uri.key, base_name(e->source))
                                                                : xstrdup(e->uri.key),
        };
        return 0;
}

/* ---- uploading ----------------------------------------------------------------- */

/* The entry's failure at item it: r and err worded as the item calls for. */
static void item_failed(struct s3_entry_run *run, const struct s3u_item *it, int r, const char *err)
{
        const struct s3_entry *e = run->e;
        struct s3u_state *st = run->state;
        const char *why = s3_entry_why(run, r, err);

        if (it->tree && it->path)
                s3_entry_end(run, r, xasprintf("S3Upload entry %zu (%s): %s: %s; %zu file%s uploaded before it (they "
                                               "are kept)", e->no, e->source, it->path, why, st->files,
                                               st->files == 1 ? " was" : "s were"));
        else if (it->tree)
                s3_entry_end(run, r, xasprintf("S3Upload entry %zu (%s): %s; %zu file%s uploaded before it (they are "
                                               "kept)", e->no, e->source, why, st->files,
                                               st->files == 1 ? " was" : "s were"));
        else
                s3_entry_end(run, r, xasprintf("S3Upload entry %zu (%s): %s", e->no, e->source, why));
}

static void upload_next(struct s3_entry_run *run);

static void file_done(void *userdata, int r, char **msg)
{
        struct s3_entry_run *run = userdata;
        struct s3u_state *st = run->state;
        const struct s3u_item *it = &st->items[st->i];

        run->job = NULL;
        close(st->fd);
        st->fd = -1;
        if (r < 0) {
                item_failed(run, it, r, *msg);
                return;
        }
        tree_uploaded(run, it->path, it->key, st->size);
        st->i++;
        upload_next(run);
}

/* The next item's upload, or the entry's end. */
static void upload_next(struct s3_entry_run *run)
{
        const struct s3_entry *e = run->e;
        struct s3u_state *st = run->state;
        struct stat sb;
        char *err = NULL;
        int r;

        if (st->i == st->n) {
                if (st->files == 0 && st->empty_note == NOTE_MATCHES)
                        action_notice(run->ctx, STREAM_STDOUT, "S3Upload entry %zu: no files among the matches of "
                                      "%s; nothing was uploaded", e->no, e->source);
                else if (st->files == 0 && st->empty_note == NOTE_FOLDER)
                        action_notice(run->ctx, STREAM_STDOUT, "S3Upload entry %zu: the folder %s holds no files; "
                                      "nothing was uploaded", e->no, e->source);
                s3_entry_end(run, 0, NULL);
                return;
        }
        const struct s3u_item *it = &st->items[st->i];
        if (it->r < 0) {
                item_failed(run, it, it->r, it->msg);
                return;
        }
        st->fd = open(it->path, O_RDONLY | O_CLOEXEC);
        if (st->fd < 0 || fstat(st->fd, &sb) < 0) {
                r = -errno;
                s3_entry_end(run, r, xasprintf("S3Upload entry %zu (%s): cannot read %s: %s", e->no, e->source,
                                               it->path, strerror(-r)));
                return;
        }
        if (!S_ISREG(sb.st_mode)) {
                s3_entry_end(run, -EINVAL, xasprintf("S3Upload entry %zu (%s): %s is not a regular file", e->no,
                                                     e->source, it->path));
                return;
        }
        st->size = (uint64_t)sb.st_size;
        r = s3_upload_fd_start(run->client, run->ev, e->uri.bucket, it->key, e->owner, st->fd, st->size, file_done,
                               run, &run->job, &err);
        if (r < 0) {
                file_done(run, r, &err);
                free(err);
        }
}

/* ---- the action ---------------------------------------------------------------- */

static int entry_start(struct s3_entry_run *run, char **reterr_msg)
{
        struct s3u_state *st = xcalloc(1, sizeof *st);
        int r;

        st->fd = -1;
        run->state = st;
        r = plan(run, reterr_msg);
        if (r >= 0)
                upload_next(run);
        return r;
}

static void entry_clear(struct s3_entry_run *run)
{
        struct s3u_state *st = run->state;

        if (!st)
                return;
        for (size_t i = 0; i < st->n; i++)
                free_many(st->items[i].path, st->items[i].key, st->items[i].msg);
        free(st->items);
        st->fd = safe_close(st->fd);
        free(st);
}

static const struct s3_entries s3u_entries = {
        .action = "S3Upload",
        .download = false,
        .start = entry_start,
        .clear = entry_clear,
};

S3_ENTRIES_ACTION(S3Upload, s3_upload_module, s3u_entries);
