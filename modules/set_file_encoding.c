/* set_file_encoding.c: the SetFileEncoding action: converts a UTF-8 text
 * file to the entry's encoding (no byte-order mark), streaming through
 * iconv into a temporary file beside it that is renamed over it, so a
 * failure leaves the file as it was.  The file keeps its owner, group and
 * mode; a symbolic link is followed and stays a link.  Text that is not
 * UTF-8 is an error naming the first bad byte.  To utf8 the file is only
 * checked, and left untouched. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_entries.h"
#include "fsencoding.h"
#include "fsreplace.h"
#include "module.h"

static int set_file_encoding_entry(struct fs_job *j, const json_t *entry, json_t *out, char **reterr_msg)
{
        const char *path, *encoding, *enc;
        _cleanup_free_ char *real = NULL;
        _cleanup_close_ int fd = -1;
        struct fs_tmp t = FS_TMP_INIT;
        struct stat st;
        int r;

        if ((r = fs_entry_path(entry, &path, reterr_msg)) < 0 ||
            (r = fs_entry_encoding(entry, &encoding, &enc, reterr_msg)) < 0)
                return r;
        fd = fs_open_file(path, O_RDONLY, &st, reterr_msg);
        if (fd < 0)
                return fd;
        if (!strcmp(enc, "UTF-8"))
                return fs_recode(j, fd, -1, enc, "the file", reterr_msg);

        real = realpath(path, NULL);
        if (!real)
                return fs_fail_errno(reterr_msg, -errno, "cannot resolve the path");
        r = fs_tmp_file(real, &t, reterr_msg);
        if (r >= 0)
                r = fs_recode(j, fd, t.fd, enc, "the file", reterr_msg);
        if (r >= 0 && fchown(t.fd, st.st_uid, st.st_gid) < 0 && errno != EPERM)
                r = fs_fail_errno(reterr_msg, -errno, "cannot keep the owner of the file");
        if (r >= 0 && fchmod(t.fd, st.st_mode & 07777) < 0)
                r = fs_fail_errno(reterr_msg, -errno, "cannot keep the mode of the file");
        return fs_tmp_finish(&t, r, true, path, NULL, reterr_msg);
}

FS_ENTRIES_ACTION(SetFileEncoding, set_file_encoding_module, "path", set_file_encoding_entry);
