/* s3.h: Amazon S3 for opentoe: S3 URIs, one client per job (built on
 * aws/http.h and aws/credentials.h), GetObject streamed into a temporary
 * file that is renamed into place, PutObject from a file with multipart
 * upload above a threshold, ListObjectsV2 for key prefixes, a whole
 * folder uploaded under a prefix, and documents fetched from S3 into a
 * private temporary file.
 *
 * Addressing: the endpoint is the one aws_endpoint_resolve("s3", ...)
 * gives (AWS_ENDPOINT_URL_S3, --endpoint-url, AWS_ENDPOINT_URL, else
 * https://s3.<region>.amazonaws.com).  Requests go virtual-hosted
 * (https://<bucket>.s3.<region>.amazonaws.com/<key>) except in path style
 * (https://<endpoint>/<bucket>/<key>), which is used when the endpoint is
 * a custom one (a local store), when the bucket name is not DNS-compatible
 * (dots, capitals, underscores), or when AWS_S3_FORCE_PATH_STYLE=true.
 * The region is the credential chain's (AWS_REGION, ...); without one,
 * us-east-1.  A bucket in another region answers with its region
 * (PermanentRedirect, AuthorizationHeaderMalformed, x-amz-bucket-region):
 * the request is sent again there and the region remembered per bucket.
 *
 * Every request carries x-amz-expected-bucket-owner when an owner is
 * given.  Bodies are never held in memory: downloads stream to a file,
 * uploads stream from one (pread of the part being sent).  Payloads are
 * signed with their SHA-256 over http and sent as UNSIGNED-PAYLOAD over
 * https, where TLS protects them (as the AWS CLI does).
 *
 * Tunables, read from the environment by s3_new() (whole numbers; a value
 * missing or out of range gives the default):
 *   OPENTOE_S3_MULTIPART_THRESHOLD  bytes above which uploads are
 *                                   multipart, 64 MiB (at least 5 MiB)
 *   OPENTOE_S3_PART_SIZE            bytes per part, 16 MiB (5 MiB-5 GiB;
 *                                   raised so that no upload needs more
 *                                   than 10,000 parts)
 *   OPENTOE_S3_MAX_OBJECTS          objects a prefix download may hold,
 *                                   1000 as in AWSTOE (1-10,000,000)
 *   OPENTOE_S3_CONCURRENCY          parts of a multipart upload sent at
 *                                   once, each on its own connection of
 *                                   the one multi handle, 4 (1-16)
 *
 * Functions return >= 0 or a negative errno with a message (to free) in
 * *reterr_msg that names the bucket and key:
 *   -ENOENT   NoSuchKey, NoSuchBucket, NoSuchUpload, HTTP 404
 *   -EACCES   AccessDenied, InvalidAccessKeyId and other 401/403 answers
 *   -EEXIST   the destination exists and may not be replaced
 *   -E2BIG    a prefix holds more objects than the limit
 *   -ETIMEDOUT the deadline passed
 *   others    as aws_http_request() and the file system give them. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#define S3_DEFAULT_MULTIPART_THRESHOLD (64ull << 20)
#define S3_DEFAULT_PART_SIZE (16ull << 20)
#define S3_MIN_PART_SIZE (5ull << 20)
#define S3_MAX_PART_SIZE (5ull << 30)
#define S3_MAX_PARTS 10000
#define S3_DEFAULT_MAX_OBJECTS 1000
#define S3_DEFAULT_CONCURRENCY 4
#define S3_MAX_KEY_LEN 1024

/* ---- URIs ---------------------------------------------------------------- */

struct s3_uri {
        char *bucket;
        char *key;      /* "" for the bucket itself; for a prefix, "" or ending in '/' */
        bool prefix;    /* the URI ended in a slash and '*': everything below key */
};

/* True when s starts with "s3://" (any case). */
bool s3_is_uri(const char *s);
/* Parses "s3://bucket/key", or with allow_prefix a key prefix: the
 * folder's URI with '*' after its final slash ("s3://bucket/folder/" then
 * '*'), or the bucket's.  A '*' anywhere else, an empty bucket, a bucket
 * name S3 cannot have, or a key longer than S3_MAX_KEY_LEN is -EINVAL
 * with a message. */
int s3_uri_parse(const char *s, bool allow_prefix, struct s3_uri *ret, char **reterr_msg);
void s3_uri_done(struct s3_uri *u);

/* An expected bucket owner as S3 wants it: an account ID of 1 to 12
 * digits (a YAML integer loses leading zeros), left-padded to 12.  ""
 * and NULL give NULL (no owner).  -EINVAL with a message otherwise. */
int s3_owner_normalize(const char *owner, char **ret, char **reterr_msg);

/* ---- the client ------------------------------------------------------------ */

struct s3;

/* A client: an aws_http (libcurl loaded now; -ENOSYS's message names the
 * package when it cannot be) and the default credential chain, looked up
 * at the first request. */
struct s3 *s3_new(char **reterr_msg);
/* Accepts NULL; returns NULL. */
struct s3 *s3_free(struct s3 *c);

/* CLOCK_MONOTONIC ms (aws_now_ms()) bounding every later request, -1 for
 * none. */
void s3_set_deadline(struct s3 *c, int64_t deadline_ms);
/* Called with a one-line reason before each retry pause. */
void s3_set_notice(struct s3 *c, void (*notice)(void *userdata, const char *msg), void *userdata);

/* ---- objects ------------------------------------------------------------- */

struct s3_object {
        char *key;
        uint64_t size;
};

/* Every object whose key starts with prefix, in key order, through
 * ListObjectsV2 pages (continuation tokens).  More than max_objects
 * objects (0: OPENTOE_S3_MAX_OBJECTS) is -E2BIG before anything is
 * returned.  Free with s3_objects_free(). */
int s3_list(struct s3 *c, const char *bucket, const char *prefix, const char *owner, size_t max_objects,
            struct s3_object **ret, size_t *ret_n, char **reterr_msg);
void s3_objects_free(struct s3_object *v, size_t n);

/* GetObject into the file `dest`: streamed into a temporary file beside
 * it (".<name>.opentoe-XXXXXX"), checked against Content-Length, fsync'd
 * and renamed into place, so dest is never half-written and a failure
 * leaves nothing behind.  Missing folders above dest are created.  With
 * !replace an existing dest is -EEXIST (checked before the request and
 * again, atomically, at the rename).  A replaced file keeps its mode; a
 * new one gets 0666 less the umask.  *ret_size (may be NULL) is the size. */
int s3_download_file(struct s3 *c, const char *bucket, const char *key, const char *owner, const char *dest,
                     bool replace, uint64_t *ret_size, char **reterr_msg);

/* PutObject of `size` bytes of fd from offset 0 (read with pread), or a
 * multipart upload when size is above the threshold: each part is its own
 * request (retried by aws/http), up to OPENTOE_S3_CONCURRENCY of them at
 * once on the client's one multi handle, then CompleteMultipartUpload;
 * any failure aborts the upload (AbortMultipartUpload) so no parts are
 * left behind. */
int s3_upload_fd(struct s3 *c, const char *bucket, const char *key, const char *owner, int fd, uint64_t size,
                 char **reterr_msg);
/* The same for the regular file at path (symbolic links followed). */
int s3_upload_file(struct s3 *c, const char *bucket, const char *key, const char *owner, const char *path,
                   char **reterr_msg);

/* Uploads every regular file below the folder `dir` to prefix + its path
 * relative to dir ('/'-separated), in name order, depth first.  Symbolic
 * links to files are followed; links to folders, and anything that is not
 * a file or folder, are skipped (each told through `skipped`, which may be
 * NULL).  `uploaded` (may be NULL) is called after each file.  Stops at
 * the first failure; what was uploaded stays.  *ret_n (may be NULL) counts
 * the files uploaded. */
struct s3_tree_cb {
        void (*uploaded)(void *userdata, const char *path, const char *key, uint64_t size);
        void (*skipped)(void *userdata, const char *path, const char *why);
        void *userdata;
};
int s3_upload_tree(struct s3 *c, const char *dir, const char *bucket, const char *prefix, const char *owner,
                   const struct s3_tree_cb *cb, size_t *ret_n, char **reterr_msg);

/* expectedBucketOwner of an action entry: a string, or the integer YAML
 * makes of an unquoted account id; normalised as s3_owner_normalize()
 * does (NULL when absent). */
int s3_owner_from_entry(const json_t *entry, char **ret, char **reterr_msg);

/* ---- on an event loop -------------------------------------------------------------
 * s3_list(), s3_download_file() and s3_upload_fd() are these jobs, driven
 * on the client's own loop; a module runs them on the runner's (several
 * requests of one client run at once there: the parts of a multipart
 * upload, OPENTOE_S3_CONCURRENCY of them, on one multi handle).  A job
 * ends with done, called exactly once on the loop and never from within
 * its start: r and *msg (the callee may take it) as the blocking call
 * would return them; -ECANCELED after s3_job_cancel().  What the job
 * fills (*ret_size, *ret and *ret_n) and its strings stay the caller's
 * until done.  A start that fails returns -errno with a message and done
 * never comes. */
struct s3_job;
typedef void (*s3_done_fn)(void *userdata, int r, char **msg);

int s3_list_start(struct s3 *c, sd_event *ev, const char *bucket, const char *prefix, const char *owner,
                  size_t max_objects, struct s3_object **ret, size_t *ret_n, s3_done_fn done, void *userdata,
                  struct s3_job **ret_job, char **reterr_msg);
/* A cancelled or failed download leaves no temporary file behind. */
int s3_download_file_start(struct s3 *c, sd_event *ev, const char *bucket, const char *key, const char *owner,
                           const char *dest, bool replace, uint64_t *ret_size, s3_done_fn done, void *userdata,
                           struct s3_job **ret_job, char **reterr_msg);
/* fd stays open until done.  A cancelled multipart upload is aborted
 * (AbortMultipartUpload, bounded to a few seconds) before done. */
int s3_upload_fd_start(struct s3 *c, sd_event *ev, const char *bucket, const char *key, const char *owner, int fd,
                       uint64_t size, s3_done_fn done, void *userdata, struct s3_job **ret_job, char **reterr_msg);
/* Stops a started job as soon as it can; its done follows. */
void s3_job_cancel(struct s3_job *j);

/* The files s3_upload_tree() would upload from dir, listed without
 * uploading them (in the same order, with the same skipped notices). */
struct s3_tree_file {
        char *path;
        char *key;
};
int s3_tree_list(const char *dir, const char *prefix, const struct s3_tree_cb *cb, struct s3_tree_file **ret,
                 size_t *ret_n, char **reterr_msg);
void s3_tree_files_free(struct s3_tree_file *v, size_t n);

/* ---- documents and log folders ---------------------------------------------- */

/* Fetches the object `uri` (s3://bucket/key) into a new private folder
 * (mode 0700) under $TMPDIR (or /tmp), as a file named after the key's
 * last element, and returns its path.  Remove both with s3_temp_remove().
 * For documents and --config files: the caller keeps showing `uri`. */
int s3_fetch_temp(const char *uri, const char *owner, char **ret_path, char **reterr_msg);
/* Removes a file from s3_fetch_temp() and its folder, and frees path.
 * Accepts NULL. */
void s3_temp_remove(char *path);

/* Where `opentoe run` uploads its log folder (--log-s3-bucket-name,
 * --log-s3-key-prefix, --log-s3-bucket-owner and their config keys).  A
 * NULL or empty bucket means no upload. */
struct s3_log_target {
        const char *bucket;
        const char *prefix;   /* slashes at either end are ignored */
        const char *owner;    /* expected bucket owner, or NULL */
};
/* The S3 URL of a log folder: s3://bucket/prefix/<folder name> (no
 * prefix: s3://bucket/<folder name>), or NULL when no bucket is set. */
char *s3_log_url(const struct s3_log_target *t, const char *folder);
/* Uploads every file below the log folder to s3_log_url()/<path>;
 * *ret_n (may be NULL) counts them. */
int s3_log_upload(const struct s3_log_target *t, const char *folder, size_t *ret_n, char **reterr_msg);
