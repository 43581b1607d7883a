/* vm_disks.c: the disks `opentoe vm` hands the guest and reads back
 * (packaging/vm/CONTRACT.md).  in.tar (vdb): a plain tar written with
 * libarchive (common/archive_dl.h) holding job.json, documents/, and
 * extra/ and repo/ when given.  out.tar (vdc): 256 MiB of zeros the
 * guest writes a tar stream over; read back with libarchive as hostile
 * input: bounded in entries and sizes, only folders and regular files,
 * only the names the contract knows, no absolute paths and no "..", and
 * made with folder descriptors and O_NOFOLLOW | O_EXCL in the output
 * folder, never over what is there. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive_dl.h"
#include "atomicfile.h"
#include "cleanup.h"
#include "errmsg.h"
#include "fswalk.h"
#include "strbuf.h"
#include "vmhost.h"

#define DOCUMENT_MAX (64LL << 20)   /* a document put in */
#define OUT_ENTRIES_MAX 100000
#define OUT_PATH_MAX 1024
#define OUT_DEPTH_MAX 64
#define SUMMARY_MAX (1 << 20)
#define STATUS_MAX 32
#define ERROR_MAX 4096
#define TOE_DIRS_MAX 16
#define BLOCK 10240
#define IN_DISK_ROUND (1 << 20)

/* ---- in.tar ---- */

struct tar_out {
        const struct archive_api *a;
        struct archive *ar;
        char **reterr_msg;
};

static int tar_fail(struct tar_out *t, const char *what)
{
        return errmsg_set(t->reterr_msg, -EIO, "in.tar: cannot write %s: %s", what,
                          t->a->error_string(t->ar) ? t->a->error_string(t->ar) : "unknown error");
}

static int tar_header(struct tar_out *t, const char *path, unsigned type, mode_t perm, int64_t size)
{
        struct archive_entry *e = t->a->entry_new();
        if (!e)
                return errmsg_set(t->reterr_msg, -ENOMEM, "in.tar: out of memory");
        t->a->entry_set_pathname(e, path);
        t->a->entry_set_filetype(e, type);
        t->a->entry_set_perm(e, perm);
        t->a->entry_set_size(e, type == AE_IFREG ? size : 0);
        t->a->entry_set_mtime(e, time(NULL), 0);
        int r = t->a->write_header(t->ar, e);
        t->a->entry_free(e);
        return r == ARCHIVE_OK ? 0 : tar_fail(t, path);
}

static int tar_data(struct tar_out *t, const char *path, const void *data, size_t len)
{
        const char *p = data;
        while (len > 0) {
                la_ssize_t k = t->a->write_data(t->ar, p, len);
                if (k <= 0)
                        return tar_fail(t, path);
                p += k;
                len -= (size_t)k;
        }
        return 0;
}

static int tar_bytes(struct tar_out *t, const char *path, const void *data, size_t len)
{
        int r = tar_header(t, path, AE_IFREG, 0644, (int64_t)len);
        return r < 0 ? r : tar_data(t, path, data, len);
}

/* A file open as `fd` (a regular file, as fstat says) as `path`. */
static int tar_file_fd(struct tar_out *t, const char *path, int fd, const char *display, int64_t max)
{
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return errmsg_set(t->reterr_msg, -EINVAL, "%s is not a regular file", display);
        if (max > 0 && st.st_size > max)
                return errmsg_set(t->reterr_msg, -EFBIG, "%s has %lld bytes (at most %lld)", display,
                                  (long long)st.st_size, (long long)max);
        int r = tar_header(t, path, AE_IFREG, (st.st_mode & 0111) ? 0755 : 0644, st.st_size);
        if (r < 0)
                return r;
        char buf[65536];
        int64_t left = st.st_size;
        while (left > 0) {
                ssize_t k = read(fd, buf, left < (int64_t)sizeof buf ? (size_t)left : sizeof buf);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return errmsg_set(t->reterr_msg, k < 0 ? -errno : -EIO, "cannot read %s: %s", display,
                                          k < 0 ? strerror(errno) : "it shrank while read");
                if ((r = tar_data(t, path, buf, (size_t)k)) < 0)
                        return r;
                left -= k;
        }
        return 0;
}

/* A folder tree put in under `prefix` (extra/, repo/): folders and
 * regular files; a link or anything else is refused, not followed. */
struct tree_put {
        struct tar_out *t;
        const char *prefix;
        size_t root_len;
};

static int tree_visit(struct fs_walk *w, enum fs_visit v, int dirfd, const char *name, int type, int fd,
                      unsigned depth, char **reterr_msg)
{
        struct tree_put *tp = w->userdata;
        (void)fd, (void)depth;
        const char *full = fs_walk_path(w);
        _cleanup_free_ char *path = xasprintf("%s/%s", tp->prefix, full + tp->root_len + 1);
        if (v == FS_VISIT_DIR_POST)
                return 0;
        if (v == FS_VISIT_DIR_PRE)
                return tar_header(tp->t, path, AE_IFDIR, 0755, 0);
        if (type != DT_REG)
                return errmsg_set(reterr_msg, -EINVAL, "%s is not a regular file or a folder (links are not "
                                                       "followed)", full);
        _cleanup_close_ int f = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (f < 0)
                return errmsg_set(reterr_msg, -errno, "cannot open %s: %s", full, strerror(errno));
        return tar_file_fd(tp->t, path, f, full, 0);
}

static int tar_tree(struct tar_out *t, const char *prefix, const char *dir)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errmsg_set(t->reterr_msg, -errno, "cannot open the folder %s: %s", dir, strerror(errno));
        int r = tar_header(t, prefix, AE_IFDIR, 0755, 0);
        if (r < 0)
                return r;
        struct fs_job job = { 0 };
        struct tree_put tp = { t, prefix, strlen(dir) };
        return fs_walk_tree(&job, fd, dir, tree_visit, &tp, t->reterr_msg);
}

static const char *base_name(const char *p)
{
        const char *s = strrchr(p, '/');
        return s && s[1] ? s + 1 : p;
}

char **vm_document_names(const struct vm_job *job)
{
        char **names = xcalloc(job->n_documents + 1, sizeof *names);
        for (size_t i = 0; i < job->n_documents; i++) {
                const char *b = base_name(job->documents[i]);
                bool taken = false;
                for (size_t k = 0; k < i && !taken; k++)
                        taken = !strcmp(names[k] + strlen("documents/"), b);
                names[i] = taken ? xasprintf("documents/%zu-%s", i + 1, b) : xasprintf("documents/%s", b);
        }
        return names;
}

static char *job_json(const struct vm_job *job, char *const *names)
{
        json_t *j = json_object(), *docs = json_array(), *params = json_array();
        for (size_t i = 0; i < job->n_documents; i++)
                json_array_append_new(docs, json_string(names[i]));
        for (size_t i = 0; i < job->n_parameters; i++)
                json_array_append_new(params, json_string(job->parameters[i]));
        json_object_set_new(j, "documents", docs);
        json_object_set_new(j, "phases", job->phases ? json_string(job->phases) : json_null());
        json_object_set_new(j, "parameters", params);
        json_object_set_new(j, "executionId", json_string(job->execution_id));
        json_object_set_new(j, "timeoutSeconds", json_integer(job->timeout_seconds));
        char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(j);
        return s;
}

int vm_write_in_tar(int dirfd, const char *name, const struct vm_job *job, char **reterr_msg)
{
        const struct archive_api *a = archive_api_get(reterr_msg);
        if (!a)
                return -ENOSYS;
        _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return errmsg_set(reterr_msg, -errno, "cannot create %s: %s", name, strerror(errno));
        struct tar_out t = { a, a->write_new(), reterr_msg };
        char **names = vm_document_names(job);
        char *js = job_json(job, names);
        int r;
        /* Blocks of 512 bytes (bytes_in_last_block 1: no padding to
         * 10 KiB; the disk is sized below). */
        if (!t.ar || a->write_set_format_pax_restricted(t.ar) != ARCHIVE_OK ||
            a->write_set_bytes_in_last_block(t.ar, 1) != ARCHIVE_OK || a->write_open_fd(t.ar, fd) != ARCHIVE_OK) {
                r = errmsg_set(reterr_msg, -EIO, "in.tar: cannot start the archive");
                goto out;
        }
        if ((r = tar_bytes(&t, "job.json", js, strlen(js))) < 0 ||
            (r = tar_header(&t, "documents", AE_IFDIR, 0755, 0)) < 0)
                goto out;
        for (size_t i = 0; i < job->n_documents; i++) {
                _cleanup_close_ int df = open(job->documents[i], O_RDONLY | O_CLOEXEC);
                if (df < 0) {
                        r = errmsg_set(reterr_msg, -errno, "cannot open %s: %s", job->documents[i],
                                       strerror(errno));
                        goto out;
                }
                if ((r = tar_file_fd(&t, names[i], df, job->documents[i], DOCUMENT_MAX)) < 0)
                        goto out;
        }
        if ((job->extra_dir && (r = tar_tree(&t, "extra", job->extra_dir)) < 0) ||
            (job->repo_dir && (r = tar_tree(&t, "repo", job->repo_dir)) < 0))
                goto out;
        if (a->write_close(t.ar) != ARCHIVE_OK) {
                r = tar_fail(&t, "its end");
                goto out;
        }
        /* A disk of whole MiBs, zeros after the tar's end: the guest's
         * partition probes read past a small one and complain. */
        struct stat st;
        if (fstat(fd, &st) < 0 || ftruncate(fd, (st.st_size + IN_DISK_ROUND - 1) / IN_DISK_ROUND * IN_DISK_ROUND) < 0) {
                r = errmsg_set(reterr_msg, -errno, "cannot size %s: %s", name, strerror(errno));
                goto out;
        }
        r = 0;
out:
        if (t.ar)
                a->write_free(t.ar);
        free(js);
        for (size_t i = 0; i < job->n_documents; i++)
                free(names[i]);
        free(names);
        return r;
}

int vm_make_out_disk(int dirfd, const char *name, char **reterr_msg)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 || ftruncate(fd, VM_OUT_DISK_SIZE) < 0)
                return errmsg_set(reterr_msg, -errno, "cannot make %s: %s", name, strerror(errno));
        return 0;
}

/* ---- out.tar ---- */

void vm_result_free(struct vm_result *r)
{
        free_many(r->summary, r->toe_dir, r->error);
        r->summary = r->toe_dir = r->error = NULL;
}

enum top { TOP_TOE, TOP_SUMMARY, TOP_JOURNAL, TOP_STATUS, TOP_ERROR, TOP_UNKNOWN };

struct tar_in {
        const struct archive_api *a;
        struct archive *ar;
        int outfd;
        struct vm_result *res;
        char *toe[TOE_DIRS_MAX];        /* the TOE_* folders made by this read */
        size_t n_toe;
        char journal_tmp[64];           /* the journal being written, in outfd */
        char **reterr_msg;
};

/* The path's components, checked: relative, no "..", no empty or "."
 * ones (dropped), bounded in length and depth.  Splits `p` in place. */
static int split_path(char *p, char **comps, size_t *ret_n, const char *shown, char **reterr_msg)
{
        size_t n = 0;
        if (strlen(p) > OUT_PATH_MAX)
                return errmsg_set(reterr_msg, -EPERM, "out.tar: refusing an entry: its path is longer than %d bytes",
                                  OUT_PATH_MAX);
        /* Names are shown on the terminal: no control characters. */
        for (const char *c = p; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        return errmsg_set(reterr_msg, -EPERM,
                                          "out.tar: refusing an entry: its path holds control characters");
        if (p[0] == '/')
                return errmsg_set(reterr_msg, -EPERM, "out.tar: refusing '%s': an absolute path", shown);
        char *save = NULL;
        for (char *c = strtok_r(p, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (!strcmp(c, "."))
                        continue;
                if (!strcmp(c, ".."))
                        return errmsg_set(reterr_msg, -EPERM, "out.tar: refusing '%s': it holds '..'", shown);
                if (n == OUT_DEPTH_MAX)
                        return errmsg_set(reterr_msg, -EPERM, "out.tar: refusing '%s': deeper than %d levels",
                                          shown, OUT_DEPTH_MAX);
                comps[n++] = c;
        }
        *ret_n = n;
        return 0;
}

/* The top-level name as the contract knows it. */
static enum top top_kind(const char *c)
{
        if (!strncmp(c, "TOE_", 4) && c[4])
                return TOP_TOE;
        if (!strcmp(c, "summary.json"))
                return TOP_SUMMARY;
        if (!strcmp(c, "journal.txt"))
                return TOP_JOURNAL;
        if (!strcmp(c, "status"))
                return TOP_STATUS;
        if (!strcmp(c, "error"))
                return TOP_ERROR;
        return TOP_UNKNOWN;
}

/* The entry's data into memory, at most `max` bytes. */
static int read_small(struct tar_in *t, size_t max, char **ret, const char *what)
{
        struct strbuf b = { 0 };
        const void *buf;
        size_t size, got = 0;
        la_int64_t off;
        int r;
        while ((r = t->a->read_data_block(t->ar, &buf, &size, &off)) == ARCHIVE_OK) {
                if (off < 0 || (uint64_t)off + size > max) {
                        sb_free(&b);
                        return errmsg_set(t->reterr_msg, -EFBIG, "out.tar: %s is larger than %zu bytes", what, max);
                }
                if ((uint64_t)off != got) {
                        sb_free(&b);
                        return errmsg_set(t->reterr_msg, -EINVAL, "out.tar: %s has holes", what);
                }
                sb_append(&b, buf, size);
                got += size;
        }
        if (r != ARCHIVE_EOF) {
                sb_free(&b);
                return errmsg_set(t->reterr_msg, -EIO, "out.tar: cannot read %s: %s", what,
                                  t->a->error_string(t->ar) ? t->a->error_string(t->ar) : "unknown error");
        }
        *ret = sb_take(&b);
        if (!*ret)
                *ret = xstrdup("");
        return 0;
}

/* The entry's data, at most `max` bytes, in place of *slot's. */
static int read_small_into(struct tar_in *t, size_t max, char **slot, const char *what)
{
        char *data = NULL;
        int r = read_small(t, max, &data, what);
        if (r < 0)
                return r;
        free(*slot);
        *slot = data;
        return 0;
}

/* The entry's data into `fd`. */
static int write_data(struct tar_in *t, int fd, const char *shown)
{
        const void *buf;
        size_t size;
        la_int64_t off;
        int r;
        while ((r = t->a->read_data_block(t->ar, &buf, &size, &off)) == ARCHIVE_OK) {
                if (off < 0 || off + (la_int64_t)size > VM_OUT_DISK_SIZE)
                        return errmsg_set(t->reterr_msg, -EFBIG, "out.tar: %s is too large", shown);
                int w = pwrite_all(fd, buf, size, (off_t)off);
                if (w < 0)
                        return errmsg_set(t->reterr_msg, w, "cannot write %s: %s", shown, strerror(-w));
        }
        if (r != ARCHIVE_EOF)
                return errmsg_set(t->reterr_msg, -EIO, "out.tar: cannot read %s: %s", shown,
                                  t->a->error_string(t->ar) ? t->a->error_string(t->ar) : "unknown error");
        return 0;
}

/* Opens (making it when missing) the folder `name` in `dirfd`: a real
 * folder, never a link. */
static int open_dir(int dirfd, const char *name, bool make)
{
        if (make && mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
                return -errno;
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* An entry under TOE_*: its folders made as needed, a file created new. */
static int put_toe(struct tar_in *t, char **comps, size_t n, bool is_dir, mode_t perm, const char *shown)
{
        size_t i;
        for (i = 0; i < t->n_toe && strcmp(t->toe[i], comps[0]); i++)
                ;
        if (i == t->n_toe) {
                /* A TOE_* folder of this run: made now, never one that is
                 * in the output folder already. */
                if (t->n_toe == TOE_DIRS_MAX)
                        return errmsg_set(t->reterr_msg, -EPERM, "out.tar: more than %d TOE_* folders",
                                          TOE_DIRS_MAX);
                if (mkdirat(t->outfd, comps[0], 0755) < 0)
                        return errmsg_set(t->reterr_msg, -errno, "cannot make the folder %s in the output: %s",
                                          comps[0], errno == EEXIST ? "it exists already" : strerror(errno));
                t->toe[t->n_toe++] = xstrdup(comps[0]);
                if (!t->res->toe_dir)
                        t->res->toe_dir = xstrdup(comps[0]);
        }
        int dfd = open_dir(t->outfd, comps[0], false);
        size_t last = is_dir ? n : n - 1;
        for (i = 1; i < last && dfd >= 0; i++) {
                int next = open_dir(dfd, comps[i], true);
                close(dfd);
                dfd = next;
        }
        if (dfd < 0)
                return errmsg_set(t->reterr_msg, dfd, "cannot make the folders of %s in the output: %s", shown,
                                  strerror(-dfd));
        _cleanup_close_ int d = dfd;
        if (is_dir)
                return 0;
        _cleanup_close_ int fd = openat(d, comps[n - 1], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                        (perm & 0100) ? 0755 : 0644);
        if (fd < 0)
                return errmsg_set(t->reterr_msg, -errno, "cannot create %s in the output: %s", shown,
                                  strerror(errno));
        return write_data(t, fd, shown);
}

static int put_journal(struct tar_in *t)
{
        snprintf(t->journal_tmp, sizeof t->journal_tmp, ".journal.txt.%d", (int)getpid());
        _cleanup_close_ int fd = openat(t->outfd, t->journal_tmp,
                                        O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
                t->journal_tmp[0] = 0;
                return errmsg_set(t->reterr_msg, -errno, "cannot create journal.txt in the output: %s",
                                  strerror(errno));
        }
        int r = write_data(t, fd, "journal.txt");
        if (r == 0 && renameat(t->outfd, t->journal_tmp, t->outfd, "journal.txt") < 0)
                r = errmsg_set(t->reterr_msg, -errno, "cannot rename journal.txt into the output: %s",
                               strerror(errno));
        if (r == 0) {
                t->journal_tmp[0] = 0;
                t->res->journal = true;
        }
        return r;
}

static int parse_status(struct tar_in *t, const char *s)
{
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        while (*end == '\n' || *end == ' ' || *end == '\r' || *end == '\t')
                end++;
        if (end == s || *end || errno || v < 0 || v > 255)
                return errmsg_set(t->reterr_msg, -EINVAL, "out.tar: 'status' is not an exit status (0 to 255)");
        t->res->status = (int)v;
        return 0;
}

static int one_entry(struct tar_in *t, struct archive_entry *e)
{
        const char *p = t->a->entry_pathname(e);
        if (!p)
                p = t->a->entry_pathname_utf8(e);
        if (!p)
                return errmsg_set(t->reterr_msg, -EPERM, "out.tar: refusing an entry without a readable path");
        _cleanup_free_ char *shown = xstrndup(p, strnlen(p, OUT_PATH_MAX)), *copy = xstrdup(p);
        char *comps[OUT_DEPTH_MAX];
        size_t n = 0;
        int r = split_path(copy, comps, &n, shown, t->reterr_msg);
        if (r < 0)
                return r;
        mode_t type = t->a->entry_filetype(e);
        if (t->a->entry_hardlink(e) || t->a->entry_hardlink_utf8(e))
                return errmsg_set(t->reterr_msg, -EPERM, "out.tar: refusing '%s': a hard link", shown);
        if (type == AE_IFLNK)
                return errmsg_set(t->reterr_msg, -EPERM, "out.tar: refusing '%s': a symbolic link", shown);
        if (type != AE_IFREG && type != AE_IFDIR)
                return errmsg_set(t->reterr_msg, -EPERM, "out.tar: refusing '%s': not a file or a folder", shown);
        if (n == 0)
                return 0; /* "./" */
        enum top k = top_kind(comps[0]);
        if (k == TOP_UNKNOWN) {
                fprintf(stderr, "opentoe vm: out.tar: '%s' is not one of its names; left out\n", shown);
                return 0;
        }
        if (k == TOP_TOE && n == 1 && type != AE_IFDIR)
                return errmsg_set(t->reterr_msg, -EPERM, "out.tar: refusing '%s': not a folder", shown);
        if (k == TOP_TOE)
                return put_toe(t, comps, n, type == AE_IFDIR, t->a->entry_perm(e), shown);
        if (n != 1 || type != AE_IFREG)
                return errmsg_set(t->reterr_msg, -EPERM, "out.tar: refusing '%s': not a file at the top", shown);
        if (k == TOP_JOURNAL)
                return put_journal(t);
        if (k == TOP_SUMMARY)
                return read_small_into(t, SUMMARY_MAX, &t->res->summary, "summary.json");
        if (k == TOP_ERROR) /* the guest's own failure (opentoe-vm-guest), one line */
                return read_small_into(t, ERROR_MAX, &t->res->error, "error");
        char *data = NULL;
        if ((r = read_small(t, STATUS_MAX, &data, "status")) < 0)
                return r;
        r = parse_status(t, data);
        free(data);
        return r;
}

int vm_read_out_tar(int dirfd, const char *name, int outfd, struct vm_result *res, char **reterr_msg)
{
        const struct archive_api *a = archive_api_get(reterr_msg);
        if (!a)
                return -ENOSYS;
        res->status = -1;
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errmsg_set(reterr_msg, -errno, "cannot open %s: %s", name, strerror(errno));
        struct tar_in t = { .a = a, .ar = a->read_new(), .outfd = outfd, .res = res, .reterr_msg = reterr_msg };
        int r = 0;
        size_t n = 0;
        if (!t.ar || a->read_support_format_tar(t.ar) != ARCHIVE_OK || a->read_open_fd(t.ar, fd, BLOCK) != ARCHIVE_OK) {
                r = errmsg_set(reterr_msg, -EIO, "out.tar: not a tar archive: %s",
                               t.ar && a->error_string(t.ar) ? a->error_string(t.ar) : "unknown error");
                goto out;
        }
        for (;;) {
                struct archive_entry *e;
                int h = a->read_next_header(t.ar, &e);
                if (h == ARCHIVE_EOF)
                        break;
                if (h != ARCHIVE_OK && h != ARCHIVE_WARN) {
                        r = errmsg_set(reterr_msg, -EIO, "out.tar: %s",
                                       a->error_string(t.ar) ? a->error_string(t.ar) : "unreadable");
                        goto out;
                }
                if (++n > OUT_ENTRIES_MAX) {
                        r = errmsg_set(reterr_msg, -EPERM, "out.tar: more than %d entries", OUT_ENTRIES_MAX);
                        goto out;
                }
                if ((r = one_entry(&t, e)) < 0)
                        goto out;
        }
        if (n == 0)
                r = errmsg_set(reterr_msg, -ENODATA, "out.tar is empty: the guest wrote no results");
out:
        if (t.journal_tmp[0])
                unlinkat(outfd, t.journal_tmp, 0);
        for (size_t i = 0; i < t.n_toe; i++)
                free(t.toe[i]);
        if (t.ar)
                a->read_free(t.ar);
        return r;
}
