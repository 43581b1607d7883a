/* set_file_owner.c: the SetFileOwner action: sets a file's owner (a user
 * name, or a numeric id when no user has that name) and group (a group
 * name or id; when not given, the owner's primary group, as `chown
 * user:` does, or unchanged for a numeric owner without a user entry).  A
 * symbolic link is followed: its target changes, as documented.  Folders
 * are SetFolderOwner's job. */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_entries.h"
#include "fsperm.h"
#include "module.h"

static int set_file_owner_entry(struct fs_job *j, const json_t *entry, json_t *out)
{
        const char *path = fs_entry_str(entry, "path");
        const char *owner = fs_entry_str(entry, "owner");
        const char *group = fs_entry_str(entry, "group");
        struct stat st;
        uid_t uid;
        gid_t gid;
        int r;

        if (!*path)
                return fs_fail(j, -EINVAL, "path is empty");
        if (!*owner)
                return fs_fail(j, -EINVAL, "owner is empty");
        r = fs_lookup_user(j, owner, &uid, &gid);
        if (r >= 0 && *group)
                r = fs_lookup_group(j, group, &gid);
        if (r < 0)
                return r;
        if (stat(path, &st) < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return fs_fail(j, -ENOENT, "the file does not exist");
                return fs_fail_errno(j, -errno, "cannot examine the file");
        }
        if (S_ISDIR(st.st_mode))
                return fs_fail(j, -EISDIR, "the path is a folder; use SetFolderOwner for folders");
        if (chown(path, uid, gid) < 0)
                return fs_fail_errno(j, -errno, "cannot set the owner");
        return 0;
}

static int set_file_owner_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        return fs_run_entries(ctx, inputs, "path", set_file_owner_entry, ret);
}

const struct action_module set_file_owner_module = {
        .name = "SetFileOwner",
        .run = set_file_owner_run,
};
