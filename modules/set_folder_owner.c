/* set_folder_owner.c: the SetFolderOwner action: sets the owner and group
 * of a folder (names or numeric ids; the group defaults to the owner's
 * primary group, as in SetFileOwner) and, with `recursive: true` (the
 * default), of everything in it, as chown -R does: symbolic links inside
 * change themselves and are never followed; the folder itself may be a
 * link to a folder. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_entries.h"
#include "fswalk.h"
#include "module.h"

struct owner {
        uid_t uid;
        gid_t gid;
};

static int chown_visit(struct fs_walk *w, enum fs_visit v, int dirfd, const char *name, int type, int fd,
                       unsigned depth, char **reterr_msg)
{
        const struct owner *o = w->userdata;

        if (v == FS_VISIT_DIR_PRE)
                return 0;
        if (v == FS_VISIT_DIR_POST ? fchown(fd, o->uid, o->gid) < 0
                                   : fchownat(dirfd, name, o->uid, o->gid, AT_SYMLINK_NOFOLLOW) < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot set the owner of %s", fs_walk_path(w));
        return 0;
}

static int set_folder_owner_entry(struct fs_job *j, const json_t *entry, json_t *out, char **reterr_msg)
{
        const char *path;
        bool recursive;
        struct owner o;
        int r;

        if ((r = fs_entry_flag(entry, "recursive", true, &recursive, reterr_msg)) < 0 ||
            (r = fs_entry_path(entry, &path, reterr_msg)) < 0 ||
            (r = fs_entry_owner(entry, &o.uid, &o.gid, reterr_msg)) < 0)
                return r;
        if ((r = fs_walk_folder(j, path, recursive, "SetFileOwner", chown_visit, &o, reterr_msg)) < 0)
                return r;
        if (chown(path, o.uid, o.gid) < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot set the owner");
        return 0;
}

FS_ENTRIES_ACTION(SetFolderOwner, set_folder_owner_module, "path", set_folder_owner_entry);
