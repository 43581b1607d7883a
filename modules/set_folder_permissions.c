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

#include "fs_entries.h"
#include "fsperm.h"
#include "fswalk.h"
#include "module.h"

static int chmod_visit(struct fs_walk *w, enum fs_visit v, int dirfd, const char *name, int type, int fd,
                       unsigned depth, char **reterr_msg)
{
        mode_t mode = *(const mode_t *)w->userdata;

        if (v == FS_VISIT_DIR_PRE || type == DT_LNK)
                return 0;
        if (v == FS_VISIT_DIR_POST ? fchmod(fd, mode) < 0 : fchmodat(dirfd, name, mode, 0) < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot set the mode of %s", fs_walk_path(w));
        return 0;
}

static int set_folder_permissions_entry(struct fs_job *j, const json_t *entry, json_t *out, char **reterr_msg)
{
        const char *path;
        bool recursive;
        mode_t mode;
        int r;

        if ((r = fs_entry_flag(entry, "recursive", true, &recursive, reterr_msg)) < 0 ||
            (r = fs_entry_path(entry, &path, reterr_msg)) < 0 ||
            (r = fs_parse_mode(fs_entry_str(entry, "permissions"), &mode, reterr_msg)) < 0)
                return r;
        if ((r = fs_walk_folder(j, path, recursive, "SetFilePermissions", chmod_visit, &mode, reterr_msg)) < 0)
                return r;
        if (chmod(path, mode) < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot set the mode");
        return 0;
}

FS_ENTRIES_ACTION(SetFolderPermissions, set_folder_permissions_module, "path", set_folder_permissions_entry);
