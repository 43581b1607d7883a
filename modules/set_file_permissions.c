/* set_file_permissions.c: the SetFilePermissions action: sets a file's
 * mode from an octal string ("0644", "755"; set-id and sticky bits
 * allowed; the umask does not apply).  A symbolic link is followed, as
 * chmod does.  Folders are SetFolderPermissions' job. */
#include <errno.h>
#include <sys/stat.h>

#include "fs_entries.h"
#include "fsperm.h"
#include "module.h"

static int set_file_permissions_entry(struct fs_job *j, const json_t *entry, json_t *out)
{
        const char *path = fs_entry_str(entry, "path");
        mode_t mode;
        struct stat st;
        int r;

        if (!*path)
                return fs_fail(j, -EINVAL, "path is empty");
        r = fs_parse_mode(j, fs_entry_str(entry, "permissions"), &mode);
        if (r < 0)
                return r;
        if (stat(path, &st) < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return fs_fail(j, -ENOENT, "the file does not exist");
                return fs_fail_errno(j, -errno, "cannot examine the file");
        }
        if (S_ISDIR(st.st_mode))
                return fs_fail(j, -EISDIR, "the path is a folder; use SetFolderPermissions for folders");
        if (chmod(path, mode) < 0)
                return fs_fail_errno(j, -errno, "cannot set the mode");
        return 0;
}

static int set_file_permissions_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        return fs_run_entries(ctx, inputs, "path", set_file_permissions_entry, ret);
}

const struct action_module set_file_permissions_module = {
        .name = "SetFilePermissions",
        .run = set_file_permissions_run,
};
