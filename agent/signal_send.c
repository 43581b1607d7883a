/* signal_send.c: one delivery attempt to one orchestrator target
 * (signal_send.h): the targets' shapes, the plain HTTP request the wait
 * condition and the webhook share, the cfn-signal body, the webhook's
 * signature, the S3 object, the line appended to a file or written to a
 * character device (a virtio-serial port).  Retries, backoff and
 * durability are the outbox's (outbox.c). */
#include "signal_send.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "errmsg.h"
#include "hash.h"
#include "http.h"
#include "s3.h"
#include "strbuf.h"
#include "system.h"
#include "tunables.h"

/* ---- shapes --------------------------------------------------------------- */

static int signal_url_check(const char *url, const char *what, char **reterr_msg)
{
        if (!url)
                return errmsg_set(reterr_msg, -EINVAL, "%s: a URL is needed", what);
        if (strlen(url) > SIGNAL_MAX_URL)
                return errmsg_set(reterr_msg, -EINVAL, "%s: the URL is longer than %d bytes", what, SIGNAL_MAX_URL);
        const char *rest = !strncmp(url, "https://", 8) ? url + 8 : !strncmp(url, "http://", 7) ? url + 7 : NULL;
        if (!rest)
                return errmsg_set(reterr_msg, -EINVAL, "%s: the URL must start with https:// or http://", what);
        size_t auth = strcspn(rest, "/?");
        if (auth == 0)
                return errmsg_set(reterr_msg, -EINVAL, "%s: the URL has no host", what);
        if (memchr(rest, '@', auth))
                return errmsg_set(reterr_msg, -EINVAL, "%s: the URL may not hold a user name", what);
        for (const char *p = url; *p; p++)
                if (*p == '#' || (unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
                        return errmsg_set(reterr_msg, -EINVAL,
                                          "%s: the URL holds a fragment, a space or a byte that is not encoded", what);
        return 0;
}

/* A file target's path: absolute, bounded, no empty, "." or ".."
 * component, no control byte. */
static int signal_path_check(const char *path, char **reterr_msg)
{
        if (!path || path[0] != '/')
                return errmsg_set(reterr_msg, -EINVAL, "a file signal needs a \"path\" (an absolute path)");
        size_t len = strlen(path);
        if (len > SIGNAL_MAX_PATH)
                return errmsg_set(reterr_msg, -EINVAL, "a file signal's path is longer than %d bytes", SIGNAL_MAX_PATH);
        if (path[len - 1] == '/')
                return errmsg_set(reterr_msg, -EINVAL, "a file signal's path %s names a folder", path);
        for (const char *p = path; *p; p++)
                if ((unsigned char)*p < ' ' || *p == 0x7f)
                        return errmsg_set(reterr_msg, -EINVAL, "a file signal's path holds a control byte");
        for (const char *c = path + 1; *c;) {
                size_t n = strcspn(c, "/");
                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return errmsg_set(reterr_msg, -EINVAL,
                                          "a file signal's path %s has an empty, \".\" or \"..\" component", path);
                c += n + (c[n] == '/');
        }
        return 0;
}

static const char *str_of(const json_t *o, const char *key)
{
        return json_string_value(json_object_get(o, key));
}

static int keys_only(const json_t *t, const char *const *keys, const char *type, char **reterr_msg)
{
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)t, k, v)
        {
                bool known = false;
                for (size_t i = 0; keys[i]; i++)
                        known |= !strcmp(k, keys[i]);
                if (!known)
                        return errmsg_set(reterr_msg, -EINVAL, "a %s signal has no key '%s'", type, k);
                if (!json_is_string(v))
                        return errmsg_set(reterr_msg, -EINVAL, "a %s signal's '%s' must be a string", type, k);
        }
        return 0;
}

int signal_target_check(const json_t *t, char **reterr_msg)
{
        if (!json_is_object(t))
                return errmsg_set(reterr_msg, -EINVAL, "a signal must be an object with a \"type\"");
        const char *type = str_of(t, "type");
        if (!type)
                return errmsg_set(reterr_msg, -EINVAL, "a signal needs a \"type\" (cfn-wait-condition, webhook, s3, file)");
        if (!strcmp(type, "cfn-wait-condition")) {
                static const char *const keys[] = { "type", "url", NULL };
                int r = keys_only(t, keys, type, reterr_msg);
                return r < 0 ? r : signal_url_check(str_of(t, "url"), "a cfn-wait-condition signal", reterr_msg);
        }
        if (!strcmp(type, "webhook")) {
                static const char *const keys[] = { "type", "url", "keyFile", NULL };
                int r = keys_only(t, keys, type, reterr_msg);
                if (r < 0)
                        return r;
                const char *kf = str_of(t, "keyFile");
                if (!kf || kf[0] != '/')
                        return errmsg_set(reterr_msg, -EINVAL, "a webhook signal needs a \"keyFile\" (an absolute path)");
                return signal_url_check(str_of(t, "url"), "a webhook signal", reterr_msg);
        }
        if (!strcmp(type, "s3")) {
                static const char *const keys[] = { "type", "uri", "expectedBucketOwner", NULL };
                int r = keys_only(t, keys, type, reterr_msg);
                if (r < 0)
                        return r;
                struct s3_uri u = { 0 };
                char *err = NULL;
                const char *uri = str_of(t, "uri");
                r = uri ? s3_uri_parse(uri, false, &u, &err) : -EINVAL;
                if (r >= 0 && !*u.key)
                        r = -EINVAL;
                s3_uri_done(&u);
                if (r < 0) {
                        errmsg_set(reterr_msg, -EINVAL, "an s3 signal needs a \"uri\" s3://bucket/key%s%s",
                                   err ? ": " : "", err ? err : "");
                        free(err);
                        return -EINVAL;
                }
                _cleanup_free_ char *owner = NULL;
                return s3_owner_normalize(str_of(t, "expectedBucketOwner"), &owner, reterr_msg);
        }
        if (!strcmp(type, "file")) {
                static const char *const keys[] = { "type", "path", NULL };
                int r = keys_only(t, keys, type, reterr_msg);
                return r < 0 ? r : signal_path_check(str_of(t, "path"), reterr_msg);
        }
        return errmsg_set(reterr_msg, -EINVAL, "unknown signal type '%s' (cfn-wait-condition, webhook, s3, file)", type);
}

/* ---- plain HTTP ------------------------------------------------------------- */

static int http_once(const char *method, const char *url, const struct aws_http_header *hdrs, size_t n_hdrs,
                     const char *body, size_t len, int64_t deadline_ms, struct signal_answer *ret, char **reterr_msg)
{
        int r = signal_url_check(url, "the signal", reterr_msg);
        if (r < 0) {
                ret->permanent = true;
                return r;
        }
        const char *rest = strstr(url, "://") + 3;
        size_t auth = strcspn(rest, "/?");
        _cleanup_free_ char *endpoint = xasprintf("%.*s", (int)((size_t)(rest - url) + auth), url);
        const char *after = rest + auth;
        size_t plen = strcspn(after, "?");
        _cleanup_free_ char *path = plen ? xasprintf("%.*s", (int)plen, after) : xstrdup("/");
        const char *query = after[plen] == '?' ? after + plen + 1 : NULL;
        char *err = NULL;
        struct aws_http *h = aws_http_new(&err);
        if (!h) {
                r = errmsg_set(reterr_msg, -ENOSYS, "%s", err ? err : "cannot load libcurl");
                free(err);
                return r;
        }
        struct aws_http_request req = {
                .method = method,
                .endpoint = endpoint,
                .path = path,
                .query = query,
                .headers = hdrs,
                .n_headers = n_hdrs,
                .body = body,
                .body_len = len,
                .max_body = 64 * 1024,
                .deadline_ms = deadline_ms,
                .max_attempts = 1, /* the outbox owns the retries */
        };
        struct aws_http_response resp = { 0 };
        r = aws_http_request(h, &req, &resp, &err);
        if (r < 0) {
                /* The URL may be presigned: its query is a credential. */
                errmsg_set(reterr_msg, r, "%s %s%s: %s", method, endpoint, path, err ? err : strerror(-r));
                free(err);
                aws_http_free(h);
                return r;
        }
        ret->http_status = resp.status;
        if (resp.status < 200 || resp.status > 299) {
                ret->permanent = resp.status >= 400 && resp.status < 500 && resp.status != 408 && resp.status != 429;
                r = aws_http_status_error(&resp, &err);
                errmsg_set(reterr_msg, r < 0 ? r : -EIO, "%s %s%s: %s", method, endpoint, path,
                           err ? err : "refused");
                free(err);
                if (r >= 0)
                        r = -EIO;
        }
        aws_http_response_done(&resp);
        aws_http_free(h);
        return r;
}

static char *summary_text(const json_t *summary)
{
        return json_dumps(summary, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

/* ---- the targets ---------------------------------------------------------- */

/* cfn-signal's body, as CloudFormation documents it for a wait
 * condition's presigned URL: Status, Reason, UniqueId and Data (a
 * string).  UniqueId is the execution id: a signal sent again is the
 * same signal to CloudFormation. */
static int cfn_send(const json_t *t, const char *execution_id, const json_t *summary, int64_t deadline_ms,
                    struct signal_answer *ret, char **reterr_msg)
{
        const char *status = json_string_value(json_object_get(summary, "status"));
        bool ok = status && !strcmp(status, "success");
        const char *fm = json_string_value(json_object_get(summary, "failureMessage"));
        _cleanup_free_ char *data = summary_text(summary);
        _cleanup_free_ char *reason = ok ? xasprintf("opentoe execution %s succeeded", execution_id)
                                         : xasprintf("opentoe execution %s failed%s%s", execution_id,
                                                     fm && *fm ? ": " : "", fm && *fm ? fm : "");
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "Status", ok ? "SUCCESS" : "FAILURE", "Reason", reason,
                              "UniqueId", execution_id, "Data", data ? data : "{}");
        _cleanup_free_ char *body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        /* A presigned URL is signed for no Content-Type: none is sent. */
        return http_once("PUT", str_of(t, "url"), NULL, 0, body, strlen(body), deadline_ms, ret, reterr_msg);
}

/* The key file's bytes, less a final newline: a regular file (no link
 * followed) that others cannot read or write, at most
 * SIGNAL_MAX_KEY_FILE bytes.  Its contents never reach a message. */
static int read_key(const char *path, unsigned char *buf, size_t *ret_len, char **reterr_msg)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        if (fd < 0)
                return errmsg_set(reterr_msg, -errno, "cannot open the webhook key file %s: %s", path,
                                  strerror(errno));
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return errmsg_set(reterr_msg, -EINVAL, "the webhook key file %s is not a regular file", path);
        if (st.st_mode & (S_IRWXO | S_IWGRP))
                return errmsg_set(reterr_msg, -EPERM,
                                  "the webhook key file %s may be read or written by others; chmod 600 it", path);
        if (st.st_uid != 0 && st.st_uid != geteuid())
                return errmsg_set(reterr_msg, -EPERM, "the webhook key file %s is owned by another user", path);
        ssize_t n = read(fd, buf, SIGNAL_MAX_KEY_FILE + 1);
        if (n < 0)
                return errmsg_set(reterr_msg, -errno, "cannot read the webhook key file %s: %s", path,
                                  strerror(errno));
        if (n > SIGNAL_MAX_KEY_FILE)
                return errmsg_set(reterr_msg, -EFBIG, "the webhook key file %s is longer than %d bytes", path,
                                  SIGNAL_MAX_KEY_FILE);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
                n--;
        if (n == 0)
                return errmsg_set(reterr_msg, -EINVAL, "the webhook key file %s is empty", path);
        *ret_len = (size_t)n;
        return 0;
}

static int webhook_send(const json_t *t, const char *key, const json_t *summary, int64_t deadline_ms,
                        struct signal_answer *ret, char **reterr_msg)
{
        unsigned char secret[SIGNAL_MAX_KEY_FILE + 1];
        size_t slen = 0;
        int r = read_key(str_of(t, "keyFile"), secret, &slen, reterr_msg);
        if (r < 0) {
                ret->permanent = false; /* a key put in place later is taken */
                return r;
        }
        _cleanup_free_ char *body = summary_text(summary);
        char ts[32];
        snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
        struct strbuf signed_text = STRBUF_INIT;
        sb_printf(&signed_text, "%s.", ts);
        sb_puts(&signed_text, body);
        unsigned char mac[HMAC_SHA256_LEN];
        r = hmac_sha256(secret, slen, signed_text.s, signed_text.len, mac, reterr_msg);
        explicit_bzero(secret, sizeof secret);
        sb_free(&signed_text);
        if (r < 0)
                return r;
        char hex[2 * HMAC_SHA256_LEN + 1], sig[sizeof hex + 8];
        hash_hex(mac, sizeof mac, hex);
        snprintf(sig, sizeof sig, "sha256=%s", hex);
        const struct aws_http_header h[] = {
                { "Content-Type", "application/json" },
                { "X-Opentoe-Timestamp", ts },
                { "X-Opentoe-Signature", sig },
                { "Idempotency-Key", key },
        };
        return http_once("POST", str_of(t, "url"), h, sizeof h / sizeof h[0], body, strlen(body), deadline_ms, ret,
                         reterr_msg);
}

static int s3_send(const json_t *t, const json_t *summary, int64_t deadline_ms, struct signal_answer *ret,
                   char **reterr_msg)
{
        struct s3_uri u = { 0 };
        _cleanup_free_ char *owner = NULL;
        int r = s3_uri_parse(str_of(t, "uri"), false, &u, reterr_msg);
        if (r >= 0)
                r = s3_owner_normalize(str_of(t, "expectedBucketOwner"), &owner, reterr_msg);
        if (r < 0) {
                ret->permanent = true;
                s3_uri_done(&u);
                return r;
        }
        _cleanup_free_ char *body = summary_text(summary);
        size_t len = strlen(body);
        _cleanup_close_ int fd = memfd_create("opentoe-signal", MFD_CLOEXEC);
        if (fd < 0 || write_all(fd, body, len) < 0) {
                s3_uri_done(&u);
                return errmsg_set(reterr_msg, -ENOMEM, "cannot hold the summary in memory");
        }
        struct s3 *c = s3_new(reterr_msg);
        if (!c) {
                s3_uri_done(&u);
                return -ENOSYS;
        }
        s3_set_deadline(c, deadline_ms);
        r = s3_upload_fd(c, u.bucket, u.key, owner, fd, len, reterr_msg);
        ret->permanent = r == -EACCES || r == -ENOENT;
        s3_free(c);
        s3_uri_done(&u);
        return r;
}

/* ---- a file or a character device ---------------------------------------- */

/* udev's folder of named virtio-serial ports: its links (NAME ->
 * ../vportNpM) are the one kind of link a file target follows. */
#define VIRTIO_PORTS_DIR "/dev/virtio-ports"

/* Owned by root or by us, and nobody else may write it. */
static bool owner_only(const struct stat *st)
{
        return (st->st_uid == 0 || st->st_uid == geteuid()) && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

static int refuse(struct signal_answer *ret, char **reterr_msg, int r, const char *path, const char *why)
{
        ret->permanent = true; /* unsafe stays unsafe until a person looks */
        return errmsg_set(reterr_msg, r, "the signal file %s: %s", path, why);
}

/* /dev/virtio-ports/NAME: a link of root's in that root-owned folder to
 * a character device directly in /dev (../vportNpM or /dev/vportNpM):
 * one hop, nothing else followed.  (OPENTOE_TEST_SYSTEM_ROOT moves /dev
 * for the tests.) */
static int open_vport(const char *path, const char *name, int *ret_fd, struct signal_answer *ret,
                      char **reterr_msg)
{
        _cleanup_free_ char *devp = sys_path("/dev");
        _cleanup_free_ char *portsp = sys_path(VIRTIO_PORTS_DIR);
        _cleanup_close_ int dev = open(devp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int ports = dev < 0 ? -1 : open(portsp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (ports < 0)
                return errmsg_set(reterr_msg, -errno, "the signal file %s: cannot open %s: %s", path,
                                  dev < 0 ? devp : portsp, strerror(errno));
        if (fstat(ports, &st) < 0 || !owner_only(&st))
                return refuse(ret, reterr_msg, -EPERM, path, "its folder may be written by others");
        if (fstatat(ports, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errmsg_set(reterr_msg, -errno, "the signal file %s: %s", path, strerror(errno));
        if (!S_ISLNK(st.st_mode) || st.st_uid != 0)
                return refuse(ret, reterr_msg, -EPERM, path, "the link is not root's");
        char target[256];
        ssize_t n = readlinkat(ports, name, target, sizeof target);
        if (n < 0 || (size_t)n >= sizeof target)
                return refuse(ret, reterr_msg, n < 0 ? -errno : -ENAMETOOLONG, path, "its link cannot be read");
        target[n] = '\0';
        const char *leaf = !strncmp(target, "../", 3) ? target + 3 : !strncmp(target, "/dev/", 5) ? target + 5 : NULL;
        if (!leaf || !*leaf || strchr(leaf, '/') || !strcmp(leaf, ".") || !strcmp(leaf, ".."))
                return refuse(ret, reterr_msg, -EPERM, path, "the link does not point at a device in /dev");
        _cleanup_close_ int fd = openat(dev, leaf, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return errmsg_set(reterr_msg, -errno, "the signal file %s: cannot open /dev/%s: %s", path, leaf,
                                  strerror(errno));
        if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode))
                return refuse(ret, reterr_msg, -EPERM, path, "the link's target is not a character device");
        *ret_fd = fd;
        fd = -1;
        return 0;
}

/* A new regular file, O_EXCL, in a folder only root (or we) may write. */
static int create_regular(const char *path, int *ret_fd, struct signal_answer *ret, char **reterr_msg)
{
        const char *slash = strrchr(path, '/');
        _cleanup_free_ char *dir = slash == path ? xstrdup("/") : xasprintf("%.*s", (int)(slash - path), path);
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (dfd < 0)
                return errmsg_set(reterr_msg, -errno, "the signal file %s: cannot open its folder: %s", path,
                                  strerror(errno));
        if (fstat(dfd, &st) < 0 || !owner_only(&st))
                return refuse(ret, reterr_msg, -EPERM, path,
                              "it does not exist and its folder may be written by others (a new file is "
                              "made only in a folder of root's that others cannot write)");
        int fd = openat(dfd, slash + 1, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                        0644);
        if (fd < 0)
                return errmsg_set(reterr_msg, -errno, "the signal file %s: cannot create it: %s", path,
                                  strerror(errno));
        *ret_fd = fd;
        return 0;
}

/* Writes all of a line to a non-blocking device by the deadline. */
static int write_device(int fd, const char *path, const char *buf, size_t len, int64_t deadline_ms,
                        char **reterr_msg)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n > 0) {
                        buf += n;
                        len -= (size_t)n;
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno != EAGAIN)
                        return errmsg_set(reterr_msg, -errno, "the signal device %s: %s", path, strerror(errno));
                int64_t left = deadline_ms - monotonic_ms();
                if (left <= 0)
                        return errmsg_set(reterr_msg, -ETIMEDOUT, "the signal device %s takes nothing (is the other "
                                          "end read?)", path);
                struct pollfd p = { .fd = fd, .events = POLLOUT };
                if (poll(&p, 1, left > 1000 ? 1000 : (int)left) < 0 && errno != EINTR)
                        return errmsg_set(reterr_msg, -errno, "the signal device %s: %s", path, strerror(errno));
        }
        return 0;
}

/* Appends the line to a regular file unless it is already the file's
 * last line (a signal sent again after a delivery that wrote it but was
 * killed before the outbox forgot it), durably; a write that fails is
 * taken back.  Under flock, against a delivery beside this one. */
static int append_once(int fd, const char *path, const char *line, size_t len, char **reterr_msg)
{
        /* The target is opened write-only; its last line is read through a
         * second descriptor of the same file (same inode, no link). */
        struct stat wst, rst;
        _cleanup_close_ int rfd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (rfd < 0 || fstat(fd, &wst) < 0 || fstat(rfd, &rst) < 0 || wst.st_dev != rst.st_dev ||
            wst.st_ino != rst.st_ino)
                return errmsg_set(reterr_msg, -EAGAIN, "the signal file %s changed while it was opened", path);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errmsg_set(reterr_msg, -errno, "the signal file %s is locked by another delivery: %s", path,
                                  strerror(errno));
        struct stat st;
        if (fstat(fd, &st) < 0)
                return errmsg_set(reterr_msg, -errno, "the signal file %s: %s", path, strerror(errno));
        off_t size = st.st_size;
        if ((size_t)size >= len) {
                _cleanup_free_ char *tail = xmalloc(len + 1);
                off_t at = size - (off_t)len - (size > (off_t)len ? 1 : 0);
                size_t want = len + (size > (off_t)len ? 1 : 0);
                ssize_t n = pread(rfd, tail, want, at);
                if (n == (ssize_t)want && (want == len || tail[0] == '\n') && !memcmp(tail + (want - len), line, len))
                        return 0; /* already there */
        }
        ssize_t n = write(fd, line, len);
        if (n != (ssize_t)len || fdatasync(fd) < 0) {
                int e = n < 0 || n == (ssize_t)len ? errno : ENOSPC;
                if (ftruncate(fd, size) < 0) {
                        /* the next attempt appends a whole line after the torn one */
                }
                return errmsg_set(reterr_msg, -e, "cannot write to the signal file %s: %s", path, strerror(e));
        }
        return 0;
}

static int file_send(const json_t *t, const json_t *summary, int64_t deadline_ms, struct signal_answer *ret,
                     char **reterr_msg)
{
        const char *path = str_of(t, "path");
        _cleanup_free_ char *text = summary_text(summary);
        _cleanup_free_ char *line = xasprintf("%s\n", text);
        size_t len = strlen(line);
        const char *slash = strrchr(path, '/');
        bool in_ports = (size_t)(slash - path) == strlen(VIRTIO_PORTS_DIR) &&
                        !strncmp(path, VIRTIO_PORTS_DIR, strlen(VIRTIO_PORTS_DIR));
        bool created = false;
        _cleanup_close_ int fd = -1;
        errno = ELOOP; /* the tests' ports folder is moved: look there */
        if (!in_ports || !sys_test_root())
                fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 && errno == ELOOP) {
                if (!in_ports)
                        return refuse(ret, reterr_msg, -ELOOP, path,
                                      "it is a symbolic link (only " VIRTIO_PORTS_DIR "/NAME, udev's link to a "
                                      "virtio-serial port, is followed)");
                int r = open_vport(path, slash + 1, &fd, ret, reterr_msg);
                if (r < 0)
                        return r;
        } else if (fd < 0 && errno == ENOENT && !in_ports) {
                int r = create_regular(path, &fd, ret, reterr_msg);
                if (r < 0)
                        return r;
                created = true;
        } else if (fd < 0)
                return errmsg_set(reterr_msg, -errno, "cannot open the signal file %s: %s", path, strerror(errno));
        struct stat st;
        if (fstat(fd, &st) < 0)
                return errmsg_set(reterr_msg, -errno, "the signal file %s: %s", path, strerror(errno));
        if (S_ISCHR(st.st_mode))
                return write_device(fd, path, line, len, deadline_ms, reterr_msg);
        if (!S_ISREG(st.st_mode))
                return refuse(ret, reterr_msg, -EPERM, path, "it is neither a regular file nor a character device");
        if (!created && !owner_only(&st))
                return refuse(ret, reterr_msg, -EPERM, path, "it is not root's, or others may write it (chmod go-w)");
        if (!created && st.st_nlink != 1)
                return refuse(ret, reterr_msg, -EPERM, path, "it has other hard links");
        return append_once(fd, path, line, len, reterr_msg);
}

int signal_send(const json_t *target, const char *key, const char *execution_id, const json_t *summary,
                int64_t deadline_ms, struct signal_answer *ret, char **reterr_msg)
{
        *ret = (struct signal_answer){ 0 };
        int r = signal_target_check(target, reterr_msg);
        if (r < 0) {
                ret->permanent = true;
                return r;
        }
        _cleanup_free_ char *text = summary_text(summary);
        if (!text || strlen(text) > SIGNAL_MAX_BODY) {
                ret->permanent = true;
                return errmsg_set(reterr_msg, -EFBIG, "the summary is longer than %d bytes", SIGNAL_MAX_BODY);
        }
        const char *type = str_of(target, "type");
        if (!strcmp(type, "cfn-wait-condition"))
                return cfn_send(target, execution_id, summary, deadline_ms, ret, reterr_msg);
        if (!strcmp(type, "webhook"))
                return webhook_send(target, key, summary, deadline_ms, ret, reterr_msg);
        if (!strcmp(type, "file"))
                return file_send(target, summary, deadline_ms, ret, reterr_msg);
        return s3_send(target, summary, deadline_ms, ret, reterr_msg);
}
