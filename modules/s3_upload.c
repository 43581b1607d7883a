/* s3_upload.c: the S3Upload action.  This file owns (past the entry loop
 * and the inputs every S3 entry has, in s3_entries.c) checking each entry's
 * inputs, deciding which local files go to which keys (one file, the
 * matches of a `*` wildcard, or a whole folder with recurse), and wording
 * failures so they name the entry.  The transfers are aws/s3's: each file
 * is streamed from disk (never held in memory), in one PutObject or, above
 * the multipart threshold, in parts.
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
#include "fsglob.h"
#include "http.h"
#include "module.h"
#include "s3.h"
#include "s3_entries.h"
#include "strbuf.h"
#include "strv.h"

struct s3u_run {
        const struct action_ctx *ctx;
        struct s3 *client;
        const struct s3_entry *e;
        size_t files;                   /* uploaded by the entry so far */
        uint64_t bytes;
};

static void tree_uploaded(void *userdata, const char *path, const char *key, uint64_t size)
{
        struct s3u_run *run = userdata;

        run->files++;
        run->bytes += size;
        action_notice(run->ctx, STREAM_STDOUT, "S3Upload entry %zu: uploaded %s to s3://%s/%s (%" PRIu64 " bytes)",
               run->e->no, path, run->e->uri.bucket, key, size);
}

static void tree_skipped(void *userdata, const char *path, const char *why)
{
        struct s3u_run *run = userdata;

        action_notice(run->ctx, STREAM_STDOUT, "S3Upload entry %zu: skipped %s: %s", run->e->no, path, why);
}

/* ---- uploading ----------------------------------------------------------------- */

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

static enum action_status status_of(int r)
{
        return r == -ETIMEDOUT ? ACTION_TIMED_OUT : ACTION_FAILED;
}

static enum action_status upload_file(struct s3u_run *run, const char *path, const char *key, struct strbuf *msg)
{
        const struct s3_entry *e = run->e;
        _cleanup_free_ char *err = NULL;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        int r;

        if (fd < 0 || fstat(fd, &st) < 0) {
                sb_printf(msg, "S3Upload entry %zu (%s): cannot read %s: %s", e->no, e->source, path,
                          strerror(errno));
                return ACTION_FAILED;
        }
        if (!S_ISREG(st.st_mode)) {
                sb_printf(msg, "S3Upload entry %zu (%s): %s is not a regular file", e->no, e->source, path);
                return ACTION_FAILED;
        }
        r = s3_upload_fd(run->client, e->uri.bucket, key, e->owner, fd, (uint64_t)st.st_size, &err);
        if (r < 0) {
                sb_printf(msg, "S3Upload entry %zu (%s): %s", e->no, e->source, err);
                return status_of(r);
        }
        tree_uploaded(run, path, key, (uint64_t)st.st_size);
        return ACTION_SUCCESS;
}

static enum action_status upload_tree(struct s3u_run *run, const char *dir, const char *prefix, struct strbuf *msg)
{
        const struct s3_entry *e = run->e;
        const struct s3_tree_cb cb = { .uploaded = tree_uploaded, .skipped = tree_skipped, .userdata = run };
        _cleanup_free_ char *err = NULL;
        int r;

        r = s3_upload_tree(run->client, dir, e->uri.bucket, prefix, e->owner, &cb, NULL, &err);
        if (r < 0) {
                sb_printf(msg, "S3Upload entry %zu (%s): %s; %zu file%s uploaded before it (they are kept)", e->no,
                          e->source, err, run->files, run->files == 1 ? " was" : "s were");
                return status_of(r);
        }
        return ACTION_SUCCESS;
}

static enum action_status upload_entry(struct s3u_run *run, struct strbuf *msg)
{
        const struct s3_entry *e = run->e;
        enum action_status st = ACTION_SUCCESS;
        struct stat sb;

        if (fs_has_wildcard(e->source)) {
                _cleanup_free_ char *prefix = dest_prefix(e), *err = NULL;
                char **matches = NULL;
                size_t n = 0;

                if (fs_check_wildcard(e->source, &err) < 0 || fs_glob(e->source, FS_ANY, &matches, &n, &err) < 0) {
                        sb_printf(msg, "S3Upload entry %zu (%s): %s", e->no, e->source, err ? err : "failed");
                        strv_free(matches);
                        return ACTION_FAILED;
                }
                if (n == 0) {
                        sb_printf(msg, "S3Upload entry %zu (%s): no files match the source", e->no, e->source);
                        strv_free(matches);
                        return ACTION_FAILED;
                }
                for (size_t i = 0; i < n && st == ACTION_SUCCESS; i++) {
                        _cleanup_free_ char *key = NULL;

                        if (stat(matches[i], &sb) < 0) {
                                tree_skipped(run, matches[i], "a symbolic link to nothing");
                        } else if (S_ISDIR(sb.st_mode)) {
                                if (!e->recurse) {
                                        tree_skipped(run, matches[i],
                                                     "a folder (set recurse to true to upload folders)");
                                        continue;
                                }
                                key = xasprintf("%s%s/", prefix, base_name(matches[i]));
                                st = upload_tree(run, matches[i], key, msg);
                        } else if (!S_ISREG(sb.st_mode)) {
                                tree_skipped(run, matches[i], "not a regular file");
                        } else {
                                key = xasprintf("%s%s", prefix, base_name(matches[i]));
                                st = upload_file(run, matches[i], key, msg);
                        }
                }
                strv_free(matches);
                if (st == ACTION_SUCCESS && run->files == 0)
                        action_notice(run->ctx, STREAM_STDOUT, "S3Upload entry %zu: no files among the matches of %s; "
                               "nothing was uploaded", e->no, e->source);
                return st;
        }
        if (stat(e->source, &sb) < 0) {
                sb_printf(msg, "S3Upload entry %zu (%s): %s", e->no, e->source,
                          errno == ENOENT || errno == ENOTDIR ? "the source does not exist" : strerror(errno));
                return ACTION_FAILED;
        }
        if (S_ISDIR(sb.st_mode)) {
                _cleanup_free_ char *prefix = dest_prefix(e);

                if (!e->recurse) {
                        sb_printf(msg, "S3Upload entry %zu (%s): the source is a folder; set recurse to true to upload "
                                       "it with everything below it", e->no, e->source);
                        return ACTION_FAILED;
                }
                st = upload_tree(run, e->source, prefix, msg);
                if (st == ACTION_SUCCESS && run->files == 0)
                        action_notice(run->ctx, STREAM_STDOUT, "S3Upload entry %zu: the folder %s holds no files; nothing "
                               "was uploaded", e->no, e->source);
                return st;
        }
        if (!S_ISREG(sb.st_mode)) {
                sb_printf(msg, "S3Upload entry %zu (%s): the source is not a regular file", e->no, e->source);
                return ACTION_FAILED;
        }
        size_t klen = strlen(e->uri.key);
        _cleanup_free_ char *key = klen == 0 || e->uri.key[klen - 1] == '/'
                                           ? xasprintf("%s%s", e->uri.key, base_name(e->source))
                                           : xstrdup(e->uri.key);
        return upload_file(run, e->source, key, msg);
}

/* ---- the action ---------------------------------------------------------------- */

static enum action_status entry_run(void *userdata, struct s3 *client, const struct s3_entry *e, struct strbuf *msg)
{
        struct s3u_run *run = userdata;

        run->client = client;
        run->e = e;
        run->files = 0;
        run->bytes = 0;
        return upload_entry(run, msg);
}

static const struct s3_entries s3u_entries = {
        .action = "S3Upload",
        .download = false,
        .run = entry_run,
};

S3_ENTRIES_ACTION(S3Upload, s3_upload_module, struct s3u_run, s3u_entries);
