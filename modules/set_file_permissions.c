/* set_file_permissions.c: the SetFilePermissions action: sets a file's
 * mode from an octal string ("0644", "755"; set-id and sticky bits
 * allowed; the umask does not apply).  A symbolic link is followed, as
 * chmod does.  Folders are SetFolderPermissions' job. */
#include <errno.h>
#include <sys/stat.h>

#include "fs_entries.h"
#include "fsperm.h"
#include "module.h"

static int set_file_permissions_entry(struct fs_job *j, const json_t *entry, json_t *out, char **reterr_msg)
{
        const char *path;
        mode_t mode;
        struct stat st;
        int r;

        if ((r = fs_entry_path(entry, &path, reterr_msg)) < 0 ||
            (r = fs_parse_mode(fs_entry_str(entry, "permissions"), &mode, reterr_msg)) < 0 ||
            (r = fs_stat_file(path, &st, "SetFolderPermissions", reterr_msg)) < 0)
                return r;
        if (chmod(path, mode) < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot set the mode");
        return 0;
}

FS_ENTRIES_ACTION(SetFilePermissions, set_file_permissions_module, "path", set_file_permissions_entry);
