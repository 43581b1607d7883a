/* jobs.c: the agent's spool on disk: the root and its private folders,
 * execution ids as folder names, submitting a job atomically, listing,
 * reading and writing a job's files, moving a refused job aside (see
 * jobs.h).  What a status says is jobstatus.c's. */
#include "jobs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "errmsg.h"
#include "strbuf.h"
#include "strv.h"
#include "trust.h"

#define PRIVATE_DIR (S_IRWXG | S_IRWXO)

char *jobroot_default(const char *given)
{
        const char *env = getenv("OPENTOE_AGENT_ROOT");
        if (given && *given)
                return xstrdup(given);
        if (env && *env)
                return xstrdup(env);
        return xstrdup("/var/lib/opentoe");
}

/* The folder `name` below `parent`, opened without following a link and
 * trusted only when it is private (`shown` names it in messages): its
 * descriptor, or -ENOENT (no message) when it does not exist, or another
 * negative errno with a message. */
static int open_private_dir(int parent, const char *name, const char *shown, char **reterr)
{
        int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return -ENOENT;
        if (fd < 0)
                return errmsg_set(reterr, -errno, "cannot open %s: %s", shown, strerror(errno));
        int e = trust_check_private(fd, S_IFDIR, PRIVATE_DIR, shown, reterr);
        if (e < 0) {
                close(fd);
                return e;
        }
        return fd;
}

static int open_sub(int parent, const char *root, const char *name, char **reterr)
{
        _cleanup_free_ char *shown = xasprintf("%s/%s", root, name);
        if (mkdirat(parent, name, 0700) < 0 && errno != EEXIST)
                return errmsg_set(reterr, -errno, "cannot make %s: %s", shown, strerror(errno));
        int fd = open_private_dir(parent, name, shown, reterr);
        if (fd == -ENOENT)
                return errmsg_set(reterr, -ENOENT, "cannot open %s: it went as it was made", shown);
        return fd;
}

int jobroot_open(const char *path, struct jobroot *ret, char **reterr)
{
        *ret = (struct jobroot){ .fd = -1, .jobs_fd = -1, .refused_fd = -1 };
        if (path[0] != '/')
                return errmsg_set(reterr, -EINVAL, "the agent's root %s must be an absolute path", path);
        ret->path = xstrdup(path);
        ret->fd = trust_open_dir(path, 0700, "the agent's root folder", reterr);
        if (ret->fd < 0)
                goto fail;
        ret->jobs_fd = open_sub(ret->fd, path, "jobs", reterr);
        if (ret->jobs_fd < 0)
                goto fail;
        ret->refused_fd = open_sub(ret->fd, path, "refused", reterr);
        if (ret->refused_fd < 0)
                goto fail;
        return 0;
fail:;
        int e = ret->fd < 0 ? ret->fd : ret->jobs_fd < 0 ? ret->jobs_fd : ret->refused_fd;
        jobroot_close(ret);
        return e;
}

void jobroot_close(struct jobroot *jr)
{
        jr->fd = safe_close(jr->fd);
        jr->jobs_fd = safe_close(jr->jobs_fd);
        jr->refused_fd = safe_close(jr->refused_fd);
        free(jr->path);
        *jr = (struct jobroot){ .fd = -1, .jobs_fd = -1, .refused_fd = -1 };
}

int job_id_check(const char *id, char **reterr)
{
        size_t n = strlen(id);
        if (n == 0 || n > JOB_ID_MAX)
                return errmsg_set(reterr, -EINVAL, "an execution id has 1 to %d characters (this one has %zu)",
                                  JOB_ID_MAX, n);
        if (id[0] == '.')
                return errmsg_set(reterr, -EINVAL, "an execution id cannot start with '.'");
        for (size_t i = 0; i < n; i++) {
                char c = id[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || c == '.'))
                        return errmsg_set(reterr, -EINVAL, "an execution id holds only letters, digits, '.', '_' "
                                                           "and '-'");
        }
        return 0;
}

static int read_json(int dirfd, const char *name, json_t **ret, char **reterr)
{
        char *buf = NULL;
        int e;
        _cleanup_close_ int fd = trust_openat(dirfd, name, O_RDONLY, 0, S_IFREG, 077, name, reterr);
        if (fd < 0)
                return fd;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return errmsg_set(reterr, -errno, "cannot read %s: %s", name, strerror(errno));
        if (st.st_size > JOB_FILE_MAX)
                return errmsg_set(reterr, -EFBIG, "%s has %lld bytes (at most %d)", name, (long long)st.st_size,
                                  JOB_FILE_MAX);
        size_t len = (size_t)st.st_size, got = 0;
        buf = xmalloc(len + 1);
        while (got < len) {
                ssize_t k = read(fd, buf + got, len - got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        e = errmsg_set(reterr, k < 0 ? -errno : -EIO, "cannot read %s: %s", name,
                                       k < 0 ? strerror(errno) : "it shrank");
                        goto out;
                }
                got += (size_t)k;
        }
        json_error_t je;
        json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
        if (!j || !json_is_object(j)) {
                json_decref(j);
                e = errmsg_set(reterr, -EBADMSG, "%s is not a JSON object: %s", name, j ? "" : je.text);
                goto out;
        }
        *ret = j;
        e = 0;
out:
        free(buf);
        return e;
}

int job_read_json(int dirfd, const char *name, json_t **ret, char **reterr)
{
        char *err = NULL;
        int e = read_json(dirfd, name, ret, reterr ? reterr : &err);
        free(err);
        return e;
}

int job_write_json(int dirfd, const char *name, const json_t *j, char **reterr)
{
        _cleanup_free_ char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        if (!text)
                return errmsg_set(reterr, -EINVAL, "cannot write %s (not valid UTF-8)", name);
        size_t n = strlen(text);
        if (n > JOB_FILE_MAX)
                return errmsg_set(reterr, -EFBIG, "%s would have %zu bytes (at most %d)", name, n, JOB_FILE_MAX);
        int e = write_file_atomic_at(dirfd, name, text, n, 0600);
        if (e < 0)
                return errmsg_set(reterr, e, "cannot write %s: %s", name, strerror(-e));
        return 0;
}

static int64_t realtime_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int job_submit(struct jobroot *jr, const json_t *job, const char *id, char **reterr)
{
        int e = job_id_check(id, reterr);
        if (e < 0)
                return e;
        if (faccessat(jr->jobs_fd, id, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
            faccessat(jr->refused_fd, id, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return errmsg_set(reterr, -EEXIST, "a job with the execution id %s already exists", id);
        char **ids = NULL;
        int n = job_list(jr, false, &ids, reterr);
        strv_free(ids);
        if (n < 0)
                return n;
        if (n >= JOBS_MAX)
                return errmsg_set(reterr, -ENOSPC, "the spool %s/jobs holds %d jobs already (at most %d)", jr->path,
                                  n, JOBS_MAX);
        _cleanup_free_ char *tmp = xasprintf(".new-%s", id);
        if (mkdirat(jr->jobs_fd, tmp, 0700) < 0)
                return errmsg_set(reterr, -errno, "cannot make %s/jobs/%s: %s", jr->path, tmp, strerror(errno));
        _cleanup_close_ int dfd = openat(jr->jobs_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0) {
                e = errmsg_set(reterr, -errno, "cannot open %s/jobs/%s: %s", jr->path, tmp, strerror(errno));
                goto fail;
        }
        e = job_write_json(dfd, "job.json", job, reterr);
        if (e < 0)
                goto fail;
        json_t *st = json_pack("{s:s, s:s, s:I}", "executionId", id, "status", "queued", "seq",
                               (json_int_t)realtime_ns());
        e = job_write_json(dfd, "status.json", st, reterr);
        json_decref(st);
        if (e < 0)
                goto fail;
        /* The job appears whole or not at all; a taken name fails. */
        if (renameat2(jr->jobs_fd, tmp, jr->jobs_fd, id, RENAME_NOREPLACE) < 0) {
                e = errmsg_set(reterr, errno == EEXIST ? -EEXIST : -errno, "cannot place the job %s/jobs/%s: %s",
                               jr->path, id, strerror(errno));
                goto fail;
        }
        fsync(jr->jobs_fd);
        return 0;
fail:
        unlinkat(dfd, "job.json", 0);
        unlinkat(dfd, "status.json", 0);
        unlinkat(jr->jobs_fd, tmp, AT_REMOVEDIR);
        return e;
}

static int open_job(struct jobroot *jr, const char *id, bool *ret_refused, char **reterr)
{
        if (job_id_check(id, reterr) < 0)
                return -EINVAL;
        for (int k = 0; k < 2; k++) {
                int parent = k ? jr->refused_fd : jr->jobs_fd;
                _cleanup_free_ char *shown = xasprintf("%s/%s/%s", jr->path, k ? "refused" : "jobs", id);
                int fd = open_private_dir(parent, id, shown, reterr);
                if (fd == -ENOENT)
                        continue;
                if (fd < 0)
                        return fd;
                if (ret_refused)
                        *ret_refused = k == 1;
                return fd;
        }
        return -ENOENT;
}

int job_open(struct jobroot *jr, const char *id, bool *ret_refused, char **reterr)
{
        char *err = NULL;
        int e = open_job(jr, id, ret_refused, reterr ? reterr : &err);
        free(err);
        return e;
}

struct entry {
        int64_t seq;
        char *id;
};

static int by_seq(const void *a, const void *b)
{
        const struct entry *x = a, *y = b;
        if (x->seq != y->seq)
                return x->seq < y->seq ? -1 : 1;
        return strcmp(x->id, y->id);
}

int job_list(struct jobroot *jr, bool refused, char ***ret, char **reterr)
{
        int parent = refused ? jr->refused_fd : jr->jobs_fd;
        int dfd = fcntl(parent, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return errmsg_set(reterr, -errno, "cannot list %s: %s", jr->path, strerror(errno));
        DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return errmsg_set(reterr, -errno, "cannot list %s: %s", jr->path, strerror(errno));
        }
        rewinddir(d);
        struct entry *v = xcalloc(JOBS_MAX, sizeof *v);
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)) && n < JOBS_MAX) {
                if (de->d_name[0] == '.' || job_id_check(de->d_name, NULL) < 0)
                        continue;
                int fd = openat(parent, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        continue;
                json_t *st = NULL;
                int64_t seq = INT64_MAX;
                if (job_read_json(fd, "status.json", &st, NULL) == 0 &&
                    json_is_integer(json_object_get(st, "seq")))
                        seq = json_integer_value(json_object_get(st, "seq"));
                json_decref(st);
                close(fd);
                v[n].seq = seq;
                v[n].id = xstrdup(de->d_name);
                n++;
        }
        closedir(d);
        qsort(v, n, sizeof *v, by_seq);
        char **ids = xcalloc(n + 1, sizeof *ids);
        for (size_t i = 0; i < n; i++)
                ids[i] = v[i].id;
        free(v);
        *ret = ids;
        return (int)n;
}

int job_move_aside(struct jobroot *jr, const char *id, char **reterr)
{
        if (renameat2(jr->jobs_fd, id, jr->refused_fd, id, RENAME_NOREPLACE) < 0)
                return errmsg_set(reterr, -errno, "cannot move the job %s to %s/refused: %s", id, jr->path,
                                  strerror(errno));
        fsync(jr->refused_fd);
        fsync(jr->jobs_fd);
        return 0;
}
