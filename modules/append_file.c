/* append_file.c: the AppendFile action: appends an entry's content, in
 * its encoding (no byte-order mark), to the end of an existing file.  The
 * file keeps its inode, owner and mode; a write that fails part-way is
 * undone by truncating the file back to its old length.  A symbolic link
 * is followed. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "fs_entries.h"
#include "fsencoding.h"
#include "module.h"

static int append_entry(struct fs_job *j, const json_t *entry, json_t *out)
{
        const char *path = fs_entry_str(entry, "path");
        const char *encoding = fs_entry_str(entry, "encoding");
        const json_t *content = json_object_get(entry, "content");
        const char *enc = fs_encoding(encoding);
        _cleanup_free_ char *data = NULL;
        _cleanup_close_ int fd = -1;
        size_t len = 0;
        struct stat st;
        int r;

        if (!*path)
                return fs_fail(j, -EINVAL, "path is empty");
        if (!enc)
                return fs_fail(j, -EINVAL, "unknown encoding '%s'", encoding);
        fd = open(path, O_WRONLY | O_APPEND | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return fs_fail(j, -ENOENT, "the file does not exist");
                if (errno == EISDIR)
                        return fs_fail(j, -EISDIR, "the path is a folder, not a file");
                return fs_fail_errno(j, -errno, "cannot open the file");
        }
        if (fstat(fd, &st) < 0)
                return fs_fail_errno(j, -errno, "cannot examine the file");
        if (!S_ISREG(st.st_mode))
                return fs_fail(j, -EINVAL, "the path is not a regular file");
        r = fs_encode(j, enc, json_string_value(content) ? json_string_value(content) : "",
                      json_string_length(content), &data, &len);
        if (r < 0)
                return r;
        r = write_all(fd, data, len);
        if (r < 0) {
                (void)ftruncate(fd, st.st_size);
                return fs_fail_errno(j, r, "cannot append to the file");
        }
        r = close(fd);
        fd = -1;
        if (r < 0)
                return fs_fail_errno(j, -errno, "cannot append to the file");
        return 0;
}

static int append_file_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        return fs_run_entries(ctx, inputs, "path", append_entry, ret);
}

const struct action_module append_file_module = {
        .name = "AppendFile",
        .run = append_file_run,
};
