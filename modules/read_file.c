/* read_file.c: the ReadFile action: reads a text file (following
 * symbolic links) into the `content` output, decoded from the entry's
 * encoding to UTF-8; bytes that do not decode become U+FFFD, as in Go,
 * and a leading byte-order mark is dropped.  The content is otherwise
 * kept exactly, trailing newline included.  With `printFileContent:
 * true` it also goes to the console, line by line.  Only regular files of
 * at most FS_MAX_READ bytes are read. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_entries.h"
#include "fsencoding.h"
#include "module.h"
#include "strbuf.h"

/* Reads all of fd, failing past FS_MAX_READ bytes. */
static int read_all(int fd, off_t size_hint, char **ret, size_t *ret_len, char **reterr_msg)
{
        size_t cap = size_hint > 0 ? (size_t)size_hint + 1 : 4096, len = 0;
        char *buf = xmalloc(cap + 1);

        for (;;) {
                ssize_t n;

                if (len == cap) {
                        if (cap > FS_MAX_READ) {
                                free(buf);
                                return fs_fail(reterr_msg, -EFBIG,
                                               "the file is larger than %u MiB, the most ReadFile reads",
                                               FS_MAX_READ >> 20);
                        }
                        cap = cap * 2 > FS_MAX_READ + 1 ? FS_MAX_READ + 1 : cap * 2;
                        buf = xrealloc(buf, cap + 1);
                }
                n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        n = -errno;
                        free(buf);
                        return fs_fail_errno(reterr_msg, (int)n, "cannot read the file");
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (len > FS_MAX_READ) {
                free(buf);
                return fs_fail(reterr_msg, -EFBIG, "the file is larger than %u MiB, the most ReadFile reads",
                               FS_MAX_READ >> 20);
        }
        buf[len] = '\0';
        *ret = buf;
        *ret_len = len;
        return 0;
}

static void print_lines(const struct action_ctx *ctx, const char *text, size_t len)
{
        size_t start = 0;

        if (!ctx->on_line)
                return;
        while (start < len) {
                const char *nl = memchr(text + start, '\n', len - start);
                size_t end = nl ? (size_t)(nl - text) : len, n = end - start;
                char *line = xstrndup(text + start, n);

                if (n > 0 && line[n - 1] == '\r')
                        line[--n] = '\0';
                ctx->on_line(ctx->userdata, STREAM_STDOUT, line, n);
                free(line);
                start = end + 1;
        }
}

static int read_file_entry(struct fs_job *j, const json_t *entry, json_t *out, char **reterr_msg)
{
        const char *path, *encoding, *enc;
        bool print;
        _cleanup_free_ char *raw = NULL, *text = NULL;
        _cleanup_close_ int fd = -1;
        size_t raw_len = 0, len = 0, skip = 0;
        struct stat st;
        int r;

        if ((r = fs_entry_flag(entry, "printFileContent", false, &print, reterr_msg)) < 0 ||
            (r = fs_entry_path(entry, &path, reterr_msg)) < 0 ||
            (r = fs_entry_encoding(entry, &encoding, &enc, reterr_msg)) < 0)
                return r;
        fd = fs_open_file(path, O_RDONLY, &st, reterr_msg);
        if (fd < 0)
                return fd;
        if (st.st_size > (off_t)FS_MAX_READ)
                return fs_fail(reterr_msg, -EFBIG, "the file is larger than %u MiB, the most ReadFile reads",
                               FS_MAX_READ >> 20);
        r = read_all(fd, st.st_size, &raw, &raw_len, reterr_msg);
        if (r < 0)
                return r;
        r = fs_decode(enc, raw, raw_len, &text, &len);
        if (r < 0)
                return fs_fail_errno(reterr_msg, r, "cannot decode the file as %s", encoding);
        if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
                skip = 3;
        if (print)
                print_lines(fs_entry_ctx(j), text + skip, len - skip);
        json_object_set_new(out, "content", json_stringn(text + skip, len - skip));
        return 0;
}

FS_ENTRIES_ACTION(ReadFile, read_file_module, "path", read_file_entry);
