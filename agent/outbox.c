/* outbox.c: the on-disk outbox of orchestrator signals (outbox.h): its
 * folder and lock, the entries' format, enqueueing, and the delivery
 * pass with its backoff.  One attempt at a target is signal_send.c's.
 *
 * An entry is sig-<hash>-<n>.json (hash: of the execution id; n: the
 * target's index), holding {"version":1, "key", "executionId", "target",
 * "summary", "attempts", "nextAttemptMs" (wall clock, so a reboot does
 * not reset it), "lastError"}.  A signal given up on is renamed
 * <name>.failed and no longer pending. */
#include "outbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "errmsg.h"
#include "hash.h"
#include "signal_send.h"
#include "strbuf.h"
#include "tunables.h"
#include "trust.h"

#define OUTBOX_MAX_TARGETS 16
#define OUTBOX_MAX_ID 256
#define OUTBOX_MAX_ENTRIES 10000   /* looked at in one pass */
#define OUTBOX_MAX_ENTRY (SIGNAL_MAX_BODY + 64 * 1024)
#define OUTBOX_ATTEMPT_MS 30000    /* one attempt, at most */

static int64_t wall_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int outbox_targets_check(const json_t *targets, char **reterr_msg)
{
        if (!targets || json_is_null(targets))
                return 0;
        if (!json_is_array(targets))
                return errmsg_set(reterr_msg, -EINVAL, "\"signals\" must be an array of targets");
        if (json_array_size(targets) > OUTBOX_MAX_TARGETS)
                return errmsg_set(reterr_msg, -EINVAL, "at most %d signals", OUTBOX_MAX_TARGETS);
        size_t i;
        json_t *t;
        json_array_foreach(targets, i, t)
        {
                char *err = NULL;
                int r = signal_target_check(t, &err);
                if (r < 0) {
                        errmsg_set(reterr_msg, r, "signal %zu: %s", i + 1, err);
                        free(err);
                        return r;
                }
        }
        return 0;
}

/* The folder, made when missing (0700), every parent checked, itself
 * private; with `lock`, locked (flock) until the descriptor is closed,
 * waiting up to deadline_ms (-1: without a bound).  The lock is the
 * delivery pass's: enqueueing and reading the entries need none (every
 * entry is written whole under a name of its own), so a delivery that
 * waits on a slow target never holds up a job's end. */
static int outbox_open(const char *dir, bool lock, int64_t deadline_ms, char **reterr_msg)
{
        char *err = NULL;
        int fd = trust_open_dir(dir, 0700, "the outbox", &err);
        if (fd < 0) {
                errmsg_set(reterr_msg, fd, "%s", err);
                free(err);
                return fd;
        }
        int r = trust_check_private(fd, S_IFDIR, 077, dir, &err);
        if (r < 0) {
                errmsg_set(reterr_msg, r, "%s; the outbox must be 0700 and its owner's", err);
                free(err);
                close(fd);
                return r;
        }
        while (lock && flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK || (deadline_ms >= 0 && monotonic_ms() >= deadline_ms)) {
                        r = errmsg_set(reterr_msg, -EBUSY, "the outbox %s is busy (another delivery holds it)", dir);
                        close(fd);
                        return r;
                }
                usleep(20000);
        }
        return fd;
}

static char *entry_name(const char *execution_id, size_t index)
{
        unsigned char d[HASH_MAX_LEN];
        size_t n = 0;
        char hex[2 * HASH_MAX_LEN + 1];
        if (hash_buffer(HASH_SHA256, execution_id, strlen(execution_id), d, &n, NULL) < 0)
                return NULL;
        hash_hex(d, 12, hex);
        return xasprintf("sig-%s-%zu.json", hex, index);
}

static int entry_write(int dirfd, const char *name, const json_t *e)
{
        _cleanup_free_ char *text = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!text)
                return -ENOMEM;
        return write_file_atomic_at(dirfd, name, text, strlen(text), 0600);
}

static int fsync_dir(int dirfd)
{
        return fsync(dirfd) < 0 ? -errno : 0;
}

int outbox_enqueue(const char *outbox_dir, const char *execution_id, const json_t *targets, const json_t *summary,
                   char **reterr_msg)
{
        if (!targets || !json_array_size(targets))
                return 0;
        if (!execution_id || !*execution_id || strlen(execution_id) > OUTBOX_MAX_ID)
                return errmsg_set(reterr_msg, -EINVAL, "a signal needs an execution id of 1 to %d bytes",
                                  OUTBOX_MAX_ID);
        /* It becomes a header's value (Idempotency-Key) and a JSON string. */
        for (const char *p = execution_id; *p; p++)
                if ((unsigned char)*p < ' ' || *p == 0x7f)
                        return errmsg_set(reterr_msg, -EINVAL, "the execution id holds a control character");
        int r = outbox_targets_check(targets, reterr_msg);
        if (r < 0)
                return r;
        _cleanup_free_ char *text = json_dumps(summary, JSON_COMPACT);
        if (!text || strlen(text) > SIGNAL_MAX_BODY)
                return errmsg_set(reterr_msg, -EFBIG, "the summary is longer than %d bytes", SIGNAL_MAX_BODY);
        _cleanup_close_ int dfd = outbox_open(outbox_dir, false, -1, reterr_msg);
        if (dfd < 0)
                return dfd;
        size_t i;
        json_t *t;
        json_array_foreach(targets, i, t)
        {
                _cleanup_free_ char *name = entry_name(execution_id, i);
                if (!name)
                        return errmsg_set(reterr_msg, -ENOSYS, "cannot hash the execution id (libcrypto)");
                struct stat st;
                /* Queued already (a job finished twice after a crash): the
                 * entry there is the signal; a .failed one stays given up. */
                _cleanup_free_ char *failed = xasprintf("%s.failed", name);
                if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
                    fstatat(dfd, failed, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        continue;
                _cleanup_free_ char *key = xasprintf("%s-%zu", execution_id, i);
                json_t *e = json_pack("{s:i, s:s, s:s, s:O, s:O, s:i, s:I, s:I}", "version", 1, "key", key,
                                      "executionId", execution_id, "target", t, "summary", summary, "attempts", 0,
                                      "nextAttemptMs", (json_int_t)wall_ms(), "enqueuedMs", (json_int_t)wall_ms());
                r = entry_write(dfd, name, e);
                json_decref(e);
                if (r < 0)
                        return errmsg_set(reterr_msg, r, "cannot write %s/%s: %s", outbox_dir, name, strerror(-r));
        }
        return 0;
}

static json_t *entry_read(int dirfd, const char *dir, const char *name, char **reterr_msg)
{
        char *err = NULL;
        _cleanup_close_ int fd = trust_openat(dirfd, name, O_RDONLY, 0, S_IFREG, 077, name, &err);
        if (fd < 0) {
                errmsg_set(reterr_msg, fd, "%s/%s: %s", dir, name, err ? err : strerror(-fd));
                free(err);
                return NULL;
        }
        json_error_t je;
        _cleanup_fclose_ FILE *f = fdopen(fd, "r");
        if (!f)
                return NULL;
        fd = -1;
        struct stat st;
        if (fstat(fileno(f), &st) < 0 || st.st_size > OUTBOX_MAX_ENTRY) {
                errmsg_set(reterr_msg, -EFBIG, "%s/%s is too large to be an outbox entry", dir, name);
                return NULL;
        }
        json_t *e = json_loadf(f, 0, &je);
        if (!e || !json_is_object(e) || json_integer_value(json_object_get(e, "version")) != 1 ||
            !json_is_string(json_object_get(e, "key")) || !json_is_string(json_object_get(e, "executionId")) ||
            !json_is_object(json_object_get(e, "target")) || !json_is_object(json_object_get(e, "summary"))) {
                errmsg_set(reterr_msg, -EINVAL, "%s/%s is not an outbox entry%s%s", dir, name, e ? "" : ": ",
                           e ? "" : je.text);
                json_decref(e);
                return NULL;
        }
        return e;
}

/* The pause after `attempts` failed attempts: OPENTOE_SIGNAL_BACKOFF_MS
 * doubled per attempt up to OPENTOE_SIGNAL_BACKOFF_CAP_MS, a random
 * value between half of it and all of it. */
static int64_t backoff_ms(long attempts)
{
        int64_t first = env_long("OPENTOE_SIGNAL_BACKOFF_MS", 2000, 1, 3600000);
        int64_t cap = env_long("OPENTOE_SIGNAL_BACKOFF_CAP_MS", 300000, 1, 86400000);
        int64_t p = first;
        for (long k = 1; k < attempts && p < cap; k++)
                p *= 2;
        if (p > cap)
                p = cap;
        uint64_t x = 0;
        if (getrandom(&x, sizeof x, GRND_NONBLOCK) != sizeof x)
                x = (uint64_t)wall_ms() * 6364136223846793005ULL ^ (uint64_t)getpid();
        return p / 2 + (int64_t)(x % (uint64_t)(p / 2 + 1));
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries' names, sorted (oldest execution first is not promised:
 * the order is the names'). */
static int list_entries(int dirfd, char ***ret, size_t *ret_n)
{
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        if (!d) {
                int e = -errno;
                safe_close(fd);
                return e;
        }
        char **v = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)) && n < OUTBOX_MAX_ENTRIES) {
                size_t l = strlen(de->d_name);
                if (strncmp(de->d_name, "sig-", 4) || l < 9 || strcmp(de->d_name + l - 5, ".json"))
                        continue;
                v = realloc(v, (n + 1) * sizeof *v);
                if (!v)
                        abort();
                v[n++] = xstrdup(de->d_name);
        }
        closedir(d);
        if (n)
                qsort(v, n, sizeof *v, cmp_names);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* One entry whose time has come: an attempt, then the entry removed
 * (delivered), given up (.failed) or rewritten with its next time.
 * Returns 1 when it is still pending, 0 when not, -errno when the outbox
 * itself cannot be written. */
static int deliver_one(int dfd, const char *dir, const char *name, json_t *e, int64_t deadline_ms,
                       char **reterr_msg)
{
        long attempts = (long)json_integer_value(json_object_get(e, "attempts")) + 1;
        long max_attempts = env_long("OPENTOE_SIGNAL_MAX_ATTEMPTS", 200, 1, 100000);
        /* The attempt is counted, and its pause set, before it is made: a
         * delivery killed in the middle of it (a crash, the agent's time
         * limit) is a failed attempt too, and the next one waits. */
        json_object_set_new(e, "attempts", json_integer(attempts));
        json_object_set_new(e, "nextAttemptMs", json_integer((json_int_t)(wall_ms() + backoff_ms(attempts))));
        int r = entry_write(dfd, name, e);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "cannot write %s/%s: %s", dir, name, strerror(-r));
        int64_t now = monotonic_ms();
        int64_t until = now + OUTBOX_ATTEMPT_MS;
        if (deadline_ms >= 0 && deadline_ms < until)
                until = deadline_ms;
        struct signal_answer ans;
        char *err = NULL;
        r = signal_send(json_object_get(e, "target"), json_string_value(json_object_get(e, "key")),
                        json_string_value(json_object_get(e, "executionId")), json_object_get(e, "summary"), until,
                        &ans, &err);
        if (r >= 0) {
                free(err);
                if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
                        return errmsg_set(reterr_msg, -errno, "cannot remove the delivered %s/%s: %s", dir, name,
                                          strerror(errno));
                fsync_dir(dfd);
                return 0;
        }
        json_object_set_new(e, "lastError", json_string(err ? err : strerror(-r)));
        free(err);
        if (ans.permanent || attempts >= max_attempts) {
                _cleanup_free_ char *failed = xasprintf("%s.failed", name);
                entry_write(dfd, name, e);
                if (renameat(dfd, name, dfd, failed) < 0)
                        return errmsg_set(reterr_msg, -errno, "cannot give up on %s/%s: %s", dir, name,
                                          strerror(errno));
                fsync_dir(dfd);
                return 0;
        }
        json_object_set_new(e, "nextAttemptMs", json_integer((json_int_t)(wall_ms() + backoff_ms(attempts))));
        r = entry_write(dfd, name, e);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "cannot write %s/%s: %s", dir, name, strerror(-r));
        return 1;
}

/* One pass over the entries: with `deliver`, under the lock, an attempt
 * at each whose time has come; without, only the count and the next
 * time (nothing written, nothing said about entries it cannot read). */
static int outbox_pass(const char *outbox_dir, bool deliver, int64_t deadline_ms, int64_t *ret_next_ms,
                       char **reterr_msg)
{
        *ret_next_ms = -1;
        _cleanup_close_ int dfd = outbox_open(outbox_dir, deliver, deadline_ms, reterr_msg);
        if (dfd < 0)
                return dfd;
        char **names = NULL;
        size_t n = 0;
        int r = list_entries(dfd, &names, &n);
        if (r < 0)
                return errmsg_set(reterr_msg, r, "cannot list the outbox %s: %s", outbox_dir, strerror(-r));
        int pending = 0;
        int64_t next_wall = -1;
        r = 0;
        for (size_t i = 0; i < n; i++) {
                char *err = NULL;
                json_t *e = entry_read(dfd, outbox_dir, names[i], &err);
                if (!e) {
                        /* Not ours to send; left for a person (and said). */
                        if (deliver)
                                fprintf(stderr, "opentoe: outbox: %s\n", err ? err : names[i]);
                        free(err);
                        continue;
                }
                int64_t at = (int64_t)json_integer_value(json_object_get(e, "nextAttemptMs"));
                int d = 1;
                if (deliver && r >= 0 && at <= wall_ms() && (deadline_ms < 0 || monotonic_ms() < deadline_ms)) {
                        d = deliver_one(dfd, outbox_dir, names[i], e, deadline_ms, reterr_msg);
                        if (d < 0)
                                r = d;
                        at = (int64_t)json_integer_value(json_object_get(e, "nextAttemptMs"));
                }
                if (d != 0) {
                        pending++;
                        if (next_wall < 0 || at < next_wall)
                                next_wall = at;
                }
                json_decref(e);
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        if (r < 0)
                return r;
        if (pending) {
                int64_t wait = next_wall - wall_ms();
                *ret_next_ms = monotonic_ms() + (wait > 0 ? wait : 0);
        }
        return pending;
}

int outbox_deliver(const char *outbox_dir, int64_t deadline_ms, int64_t *ret_next_ms, char **reterr_msg)
{
        return outbox_pass(outbox_dir, true, deadline_ms, ret_next_ms, reterr_msg);
}

int outbox_pending(const char *outbox_dir, int64_t *ret_next_ms, char **reterr_msg)
{
        return outbox_pass(outbox_dir, false, -1, ret_next_ms, reterr_msg);
}

int outbox_config_load(const char *path, json_t **ret_targets, char **ret_outbox, char **reterr_msg)
{
        json_error_t je;
        *ret_targets = NULL;
        *ret_outbox = NULL;
        struct stat st;
        if (stat(path, &st) == 0 && st.st_size > 1024 * 1024)
                return errmsg_set(reterr_msg, -EFBIG, "%s is longer than 1 MiB", path);
        json_t *c = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
        if (!c)
                return errmsg_set(reterr_msg, -EINVAL, "cannot read the signal configuration %s: %s", path, je.text);
        int r = 0;
        const char *k;
        json_t *v;
        if (!json_is_object(c))
                r = errmsg_set(reterr_msg, -EINVAL, "%s: the signal configuration must be an object", path);
        else
                json_object_foreach(c, k, v)
                {
                        if (strcmp(k, "signals") && strcmp(k, "outbox")) {
                                r = errmsg_set(reterr_msg, -EINVAL, "%s: unknown key '%s' (signals, outbox)", path, k);
                                break;
                        }
                }
        json_t *outbox = json_object_get(c, "outbox");
        if (r >= 0 && outbox && (!json_is_string(outbox) || json_string_value(outbox)[0] != '/'))
                r = errmsg_set(reterr_msg, -EINVAL, "%s: \"outbox\" must be an absolute path", path);
        char *err = NULL;
        if (r >= 0 && (r = outbox_targets_check(json_object_get(c, "signals"), &err)) < 0) {
                errmsg_set(reterr_msg, r, "%s: %s", path, err);
                free(err);
        }
        if (r >= 0) {
                *ret_targets = json_incref(json_object_get(c, "signals"));
                *ret_outbox = outbox ? xstrdup(json_string_value(outbox)) : NULL;
        }
        json_decref(c);
        return r;
}
