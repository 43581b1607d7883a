/* s3_tree.c: uploading a folder tree (walked without following links to
 * folders) and the run's log folder upload. */
#include "s3.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "hexdigit.h"
#include "errmsg.h"
#include "mkdirs.h"
#include "credentials.h"
#include "http.h"
#include "s3_internal.h"
#include "sigv4.h"
#include "strbuf.h"
#include "strv.h"

/* ---- folder trees -------------------------------------------------------------- */

struct tree {
        struct s3 *c;
        const char *bucket;
        const char *owner;
        const struct s3_tree_cb *cb;
        struct strbuf path;             /* the file system path being visited */
        struct strbuf key;              /* the key it goes to */
        size_t n;
        bool no_links;                  /* skip symbolic links (the log folder) */
        /* What becomes of a file (open as fd) at path, for key. */
        int (*file)(struct tree *t, int fd, uint64_t size, char **reterr_msg);
        struct s3_tree_file *files;     /* s3_tree_list()'s */
        size_t cap;
};

static int file_upload(struct tree *t, int fd, uint64_t size, char **reterr_msg)
{
        char *err = NULL;
        int r = s3_upload_fd(t->c, t->bucket, sb_str(&t->key), t->owner, fd, size, &err);

        if (r < 0) {
                errmsg_set(reterr_msg, r, "%s: %s", sb_str(&t->path), err ? err : "failed");
                free(err);
                return r;
        }
        t->n++;
        if (t->cb && t->cb->uploaded)
                t->cb->uploaded(t->cb->userdata, sb_str(&t->path), sb_str(&t->key), size);
        return 0;
}

static int file_list(struct tree *t, int fd, uint64_t size, char **reterr_msg)
{
        (void)fd;
        (void)size;
        (void)reterr_msg;
        if (t->n == t->cap) {
                t->cap = t->cap ? t->cap * 2 : 32;
                t->files = xrealloc(t->files, t->cap * sizeof *t->files);
        }
        t->files[t->n++] = (struct s3_tree_file){ .path = xstrdup(sb_str(&t->path)), .key = xstrdup(sb_str(&t->key)) };
        return 0;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void note_skipped(struct tree *t, const char *why)
{
        if (t->cb && t->cb->skipped)
                t->cb->skipped(t->cb->userdata, sb_str(&t->path), why);
}

static int tree_visit(struct tree *t, int dfd, unsigned depth, char **reterr_msg)
{
        DIR *d;
        struct dirent *de;
        char **names = NULL;
        size_t n = 0, cap = 0;
        int r = 0;

        if (depth > S3_MAX_TREE_DEPTH)
                return errmsg_set(reterr_msg, -ELOOP, "%s: more than %d folder levels", sb_str(&t->path),
                                  S3_MAX_TREE_DEPTH);
        d = fdopendir(dfd);
        if (!d) {
                r = -errno;
                close(dfd);
                return errmsg_set(reterr_msg, r, "cannot read the folder %s: %s", sb_str(&t->path), strerror(-r));
        }
        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno)
                                r = errmsg_set(reterr_msg, -errno, "cannot read the folder %s: %s", sb_str(&t->path),
                                               strerror(errno));
                        break;
                }
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 32;
                        names = xrealloc(names, cap * sizeof *names);
                }
                names[n++] = xstrdup(de->d_name);
        }
        if (r >= 0 && n > 1)
                qsort(names, n, sizeof *names, name_cmp);
        for (size_t i = 0; i < n && r >= 0; i++) {
                size_t plen = t->path.len, klen = t->key.len;
                struct stat st;

                sb_printf(&t->path, "/%s", names[i]);
                sb_puts(&t->key, names[i]);
                if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = errmsg_set(reterr_msg, -errno, "cannot read %s: %s", sb_str(&t->path), strerror(errno));
                } else if (S_ISDIR(st.st_mode)) {
                        int sub = openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                        if (sub < 0)
                                r = errmsg_set(reterr_msg, -errno, "cannot open the folder %s: %s", sb_str(&t->path),
                                               strerror(errno));
                        else {
                                sb_putc(&t->key, '/');
                                r = tree_visit(t, sub, depth + 1, reterr_msg);
                        }
                } else if (S_ISLNK(st.st_mode) && t->no_links) {
                        note_skipped(t, "a symbolic link (not followed)");
                } else if (S_ISLNK(st.st_mode) && fstatat(dirfd(d), names[i], &st, 0) < 0) {
                        note_skipped(t, "a symbolic link to nothing");
                } else if (S_ISDIR(st.st_mode)) {
                        note_skipped(t, "a symbolic link to a folder (not followed)");
                } else if (!S_ISREG(st.st_mode)) {
                        note_skipped(t, "not a regular file");
                } else {
                        int fd = openat(dirfd(d), names[i], O_RDONLY | O_CLOEXEC | (t->no_links ? O_NOFOLLOW : 0));

                        if (fd < 0)
                                r = errmsg_set(reterr_msg, -errno, "cannot open %s: %s", sb_str(&t->path),
                                               strerror(errno));
                        else {
                                if (fstat(fd, &st) < 0)
                                        r = errmsg_set(reterr_msg, -errno, "cannot read %s: %s", sb_str(&t->path),
                                                       strerror(errno));
                                else if (!S_ISREG(st.st_mode))
                                        note_skipped(t, "not a regular file");
                                else
                                        r = t->file(t, fd, (uint64_t)st.st_size, reterr_msg);
                                close(fd);
                        }
                }
                t->path.len = plen;
                t->path.s[plen] = '\0';
                t->key.len = klen;
                if (t->key.s)
                        t->key.s[klen] = '\0';
        }
        strv_free_n(names, n);
        closedir(d);
        return r;
}

/* Walks dir, handing every file to t->file. */
static int tree_walk(struct tree *t, const char *dir, const char *prefix, char **reterr_msg)
{
        size_t dlen = strlen(dir);
        int fd, r;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (t->no_links ? O_NOFOLLOW : 0));
        if (fd < 0)
                return errmsg_set(reterr_msg, -errno, "cannot open the folder %s: %s", dir, strerror(errno));
        while (dlen > 1 && dir[dlen - 1] == '/')
                dlen--;
        sb_append(&t->path, dir, dlen);
        sb_puts(&t->key, prefix ? prefix : "");
        r = tree_visit(t, fd, 0, reterr_msg);
        sb_free(&t->path);
        sb_free(&t->key);
        return r;
}

static int upload_tree(struct s3 *c, const char *dir, const char *bucket, const char *prefix, const char *owner,
                       const struct s3_tree_cb *cb, bool no_links, size_t *ret_n, char **reterr_msg)
{
        struct tree t = {
                .c = c, .bucket = bucket, .owner = owner, .cb = cb, .no_links = no_links, .file = file_upload,
        };
        int r = tree_walk(&t, dir, prefix, reterr_msg);

        if (ret_n)
                *ret_n = t.n;
        return r;
}

void s3_tree_files_free(struct s3_tree_file *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].path);
                free(v[i].key);
        }
        free(v);
}

int s3_tree_list(const char *dir, const char *prefix, const struct s3_tree_cb *cb, struct s3_tree_file **ret,
                 size_t *ret_n, char **reterr_msg)
{
        struct tree t = { .cb = cb, .file = file_list };
        int r = tree_walk(&t, dir, prefix, reterr_msg);

        if (r < 0) {
                s3_tree_files_free(t.files, t.n);
                return r;
        }
        *ret = t.files;
        *ret_n = t.n;
        return 0;
}

int s3_upload_tree(struct s3 *c, const char *dir, const char *bucket, const char *prefix, const char *owner,
                   const struct s3_tree_cb *cb, size_t *ret_n, char **reterr_msg)
{
        return upload_tree(c, dir, bucket, prefix, owner, cb, false, ret_n, reterr_msg);
}


/* ---- log folders ------------------------------------------------------------------ */

/* The key prefix without slashes at either end: s3_log_url() adds them. */
static char *trim_prefix(const char *prefix)
{
        size_t a = 0, n;
        if (!prefix)
                return NULL;
        while (prefix[a] == '/')
                a++;
        n = strlen(prefix + a);
        while (n > 0 && prefix[a + n - 1] == '/')
                n--;
        return n ? xstrndup(prefix + a, n) : NULL;
}

char *s3_log_url(const struct s3_log_target *t, const char *folder)
{
        if (!t || !t->bucket || !*t->bucket)
                return NULL;
        _cleanup_free_ char *prefix = trim_prefix(t->prefix);
        return xasprintf("s3://%s/%s%s%s", t->bucket, prefix ? prefix : "", prefix ? "/" : "",
                         s3_path_basename(folder));
}

int s3_log_upload(const struct s3_log_target *t, const char *folder, size_t *ret_n, char **reterr_msg)
{
        if (!t || !t->bucket || !*t->bucket)
                return errmsg_set(reterr_msg, -EINVAL, "no log bucket is set");
        _cleanup_free_ char *trimmed = trim_prefix(t->prefix);
        _cleanup_free_ char *prefix = xasprintf("%s%s%s/", trimmed ? trimmed : "", trimmed ? "/" : "",
                                                s3_path_basename(folder));
        struct s3 *c = s3_new(reterr_msg);
        if (!c)
                return -ENOSYS;
        /* opentoe's own folder: a link in it was not put there by opentoe. */
        int r = upload_tree(c, folder, t->bucket, prefix, t->owner && *t->owner ? t->owner : NULL, NULL, true, ret_n,
                            reterr_msg);
        s3_free(c);
        return r;
}

