/* set_folder_permissions.c: the SetFolderPermissions action: sets the
 * mode of a folder (octal string, the umask does not apply) and, with
 * `recursive: true` (the default), of everything in it, files and folders
 * alike, as chmod -R does.  Symbolic links inside are neither followed
 * nor changed; the folder itself may be a link to a folder.  Folders are
 * changed after their contents, so a mode without read or search bits
 * does not stop the walk. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_entries.h"
#include "fsperm.h"
#include "fswalk.h"
#include "module.h"

static int chmod_visit(struct fs_walk *w, enum fs_visit v, int dirfd, const char *name, int type, int fd,
                       unsigned depth)
{
        mode_t mode = *(const mode_t *)w->userdata;

        if (v == FS_VISIT_DIR_PRE || type == DT_LNK)
                return 0;
        if (v == FS_VISIT_DIR_POST ? fchmod(fd, mode) < 0 : fchmodat(dirfd, name, mode, 0) < 0)
                return fs_fail_errno(w->job, -errno, "cannot set the mode of %s", fs_walk_path(w));
        return 0;
}

static int set_folder_permissions_entry(struct fs_job *j, const json_t *entry, json_t *out)
{
        const char *path = fs_entry_str(entry, "path");
        bool recursive;
        _cleanup_close_ int fd = -1;
        mode_t mode;
        int r;

        if ((r = fs_entry_flag(j, entry, "recursive", true, &recursive)) < 0)
                return r;
        if (!*path)
                return fs_fail(j, -EINVAL, "path is empty");
        r = fs_parse_mode(j, fs_entry_str(entry, "permissions"), &mode);
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && errno == EACCES && !recursive)
                fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return fs_fail(j, -ENOENT, "the folder does not exist");
                if (errno == ENOTDIR)
                        return fs_fail(j, -ENOTDIR, "the path is not a folder; use SetFilePermissions for files");
                return fs_fail_errno(j, -errno, "cannot open the folder");
        }
        if (recursive) {
                struct fs_walk w = { .job = j, .visit = chmod_visit, .userdata = &mode };

                r = fs_walk(&w, fd, path);
                fs_walk_done(&w);
                if (r < 0)
                        return r;
        }
        if (chmod(path, mode) < 0)
                return fs_fail_errno(j, -errno, "cannot set the mode");
        return 0;
}

static int set_folder_permissions_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        return fs_run_entries(ctx, inputs, "path", set_folder_permissions_entry, ret);
}

const struct action_module set_folder_permissions_module = {
        .name = "SetFolderPermissions",
        .run = set_folder_permissions_run,
};
