/* create_symlink.c: the CreateSymlink action: creates a symbolic link at
 * `path` pointing to `target`, creating missing parent folders.  Relative
 * paths are taken from the current folder, and a relative target is
 * stored made absolute, so the link points where the document meant
 * wherever the link lies.
 * The target must exist.  An existing link is an error unless `force` is
 * true; then the new link (made under a temporary name beside it) is
 * renamed over the old one, atomically.  Anything that is not a link is
 * never replaced. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "fs_entries.h"
#include "fspath.h"
#include "fsreplace.h"
#include "module.h"
#include "strbuf.h"

static int create_symlink_entry(struct fs_job *j, const json_t *entry, json_t *out, char **reterr_msg)
{
        const char *target = fs_entry_str(entry, "target");
        const char *path;
        bool force;
        _cleanup_free_ char *dest = NULL;
        struct fs_tmp t = FS_TMP_INIT;
        struct stat st;
        int r;

        if ((r = fs_entry_flag(entry, "force", false, &force, reterr_msg)) < 0 ||
            (r = fs_entry_path(entry, &path, reterr_msg)) < 0)
                return r;
        if (!*target)
                return fs_fail(reterr_msg, -EINVAL, "target is empty");
        dest = target[0] == '/' ? xstrdup(target) : fs_absolute(target);
        if (stat(dest, &st) < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return fs_fail(reterr_msg, -ENOENT, "the target %s does not exist", target);
                return fs_fail_errno(reterr_msg, -errno, "cannot examine the target %s", target);
        }
        if (lstat(path, &st) == 0) {
                if (!S_ISLNK(st.st_mode))
                        return fs_fail(reterr_msg, -EEXIST, "a file of that name exists and is not a symbolic link");
                if (!force)
                        return fs_fail(reterr_msg, -EEXIST, "the link already exists and force is false");
        }
        r = fs_mkdir_parent(path, reterr_msg);
        if (r < 0)
                return r;
        r = fs_tmp_symlink(dest, path, &t, reterr_msg);
        return fs_tmp_finish(&t, r, force, path, "the link already exists and force is false", reterr_msg);
}

FS_ENTRIES_ACTION(CreateSymlink, create_symlink_module, "path", create_symlink_entry);
