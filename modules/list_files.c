/* list_files.c: the ListFiles action: lists the files of a folder, those
 * whose names match `fileNamePattern` (only `*` is special) when given,
 * and with `recursive: true` those of its sub-folders too (never through
 * symbolic links, at most FS_MAX_DEPTH levels).  "Files" are everything
 * that is not a folder; a symbolic link to a folder counts as a folder.
 *
 * Output `files`: the paths (the given folder path joined with each
 * file's path below it), sorted by name in byte order (strcmp), joined by
 * commas as in AWSTOE's one example; "" when there are none.  At most
 * FS_MAX_LISTING bytes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_entries.h"
#include "fsencoding.h"
#include "fsglob.h"
#include "fspath.h"
#include "fswalk.h"
#include "module.h"
#include "strbuf.h"

struct listing {
        const char *pattern;    /* "" for every file */
        bool recursive;
        char **v;
        size_t n, cap, bytes;
};

static void listing_free(struct listing *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
}

/* Adds `path` when `name` (in dirfd, of DT_* `type`) is a file that
 * matches. */
static int consider(struct listing *l, int dirfd, const char *name, int type, const char *path, char **reterr_msg)
{
        if (type == DT_DIR)
                return 0;
        if (type == DT_LNK) {
                struct stat st;

                if (fstatat(dirfd, name, &st, 0) == 0 && S_ISDIR(st.st_mode))
                        return 0;
        }
        if (*l->pattern && !fs_match(l->pattern, name))
                return 0;
        l->bytes += strlen(path) + 1;
        if (l->bytes > FS_MAX_LISTING)
                return fs_fail(reterr_msg, -E2BIG, "the list of files is longer than %u bytes", FS_MAX_LISTING);
        if (l->n == l->cap) {
                l->cap = l->cap ? 2 * l->cap : 64;
                l->v = xrealloc(l->v, l->cap * sizeof(char *));
        }
        l->v[l->n++] = xstrdup(path);
        return 0;
}

static int list_visit(struct fs_walk *w, enum fs_visit v, int dirfd, const char *name, int type, int fd,
                      unsigned depth, char **reterr_msg)
{
        if (v != FS_VISIT_FILE)
                return 0;
        return consider(w->userdata, dirfd, name, type, fs_walk_path(w), reterr_msg);
}

/* The folder's own entries only. */
static int list_flat(struct listing *l, int fd, const char *path, char **reterr_msg)
{
        int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (dup_fd < 0 || !(d = fdopendir(dup_fd))) {
                r = -errno;
                safe_close(dup_fd);
                return fs_fail_errno(reterr_msg, r, "cannot read the folder");
        }
        for (;;) {
                _cleanup_free_ char *p = NULL;
                int type;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno)
                                r = fs_fail_errno(reterr_msg, -errno, "cannot read the folder");
                        break;
                }
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                type = de->d_type;
                if (type == DT_UNKNOWN) {
                        struct stat st;

                        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                continue;
                        type = IFTODT(st.st_mode);
                }
                p = fs_join(path, de->d_name);
                r = consider(l, fd, de->d_name, type, p, reterr_msg);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r;
}

static int cmp_path(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_files_entry(struct fs_job *j, const json_t *entry, json_t *out, char **reterr_msg)
{
        const char *path;
        struct listing l = {
                .pattern = fs_entry_str(entry, "fileNamePattern"),
        };
        struct strbuf b = STRBUF_INIT;
        _cleanup_close_ int fd = -1;
        int r;

        if ((r = fs_entry_flag(entry, "recursive", false, &l.recursive, reterr_msg)) < 0 ||
            (r = fs_entry_path(entry, &path, reterr_msg)) < 0)
                return r;
        fd = fs_open_folder(path, true, NULL, reterr_msg);
        if (fd < 0)
                return fd;
        if (l.recursive)
                r = fs_walk_tree(j, fd, path, list_visit, &l, reterr_msg);
        else
                r = list_flat(&l, fd, path, reterr_msg);
        if (r < 0) {
                listing_free(&l);
                return r;
        }
        if (l.n > 0)
                qsort(l.v, l.n, sizeof(char *), cmp_path);
        for (size_t i = 0; i < l.n; i++) {
                if (i)
                        sb_putc(&b, ',');
                sb_puts(&b, l.v[i]);
        }
        listing_free(&l);
        /* Names that are not UTF-8 get U+FFFD for their bad bytes, as Go
         * shows them in JSON. */
        {
                _cleanup_free_ char *text = NULL;
                size_t len;

                r = fs_decode("UTF-8", b.s ? b.s : "", b.len, &text, &len);
                sb_free(&b);
                if (r < 0)
                        return fs_fail_errno(reterr_msg, r, "cannot record the list");
                json_object_set_new(out, "files", json_stringn(text, len));
        }
        return 0;
}

FS_ENTRIES_ACTION(ListFiles, list_files_module, "path", list_files_entry);
