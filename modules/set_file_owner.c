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
#include "module.h"

static int set_file_owner_entry(struct fs_job *j, const json_t *entry, json_t *out, char **reterr_msg)
{
        const char *path;
        struct stat st;
        uid_t uid;
        gid_t gid;
        int r;

        if ((r = fs_entry_path(entry, &path, reterr_msg)) < 0 ||
            (r = fs_entry_owner(entry, &uid, &gid, reterr_msg)) < 0 ||
            (r = fs_stat_file(path, &st, "SetFolderOwner", reterr_msg)) < 0)
                return r;
        if (chown(path, uid, gid) < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot set the owner");
        return 0;
}

FS_ENTRIES_ACTION(SetFileOwner, set_file_owner_module, "path", set_file_owner_entry);
