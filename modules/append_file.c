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
#include "module.h"

static int append_entry(struct fs_job *j, const json_t *entry, json_t *out, char **reterr_msg)
{
        const char *path, *encoding, *enc;
        _cleanup_free_ char *data = NULL;
        _cleanup_close_ int fd = -1;
        size_t len = 0;
        struct stat st;
        int r;

        if ((r = fs_entry_path(entry, &path, reterr_msg)) < 0 ||
            (r = fs_entry_encoding(entry, &encoding, &enc, reterr_msg)) < 0)
                return r;
        fd = fs_open_file(path, O_WRONLY | O_APPEND, &st, reterr_msg);
        if (fd < 0)
                return fd;
        r = fs_entry_content(entry, enc, &data, &len, reterr_msg);
        if (r < 0)
                return r;
        r = write_all(fd, data, len);
        if (r < 0) {
                (void)ftruncate(fd, st.st_size);
                return fs_fail_errno(reterr_msg, r, "cannot append to the file");
        }
        r = close(fd);
        fd = -1;
        if (r < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot append to the file");
        return 0;
}

FS_ENTRIES_ACTION(AppendFile, append_file_module, "path", append_entry);
