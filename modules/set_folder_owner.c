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

#include "cleanup.h"
#include "fs_entries.h"
#include "fsperm.h"
#include "fswalk.h"
#include "module.h"

struct owner {
        uid_t uid;
        gid_t gid;
};

static int chown_visit(struct fs_walk *w, enum fs_visit v, int dirfd, const char *name, int type, int fd,
                       unsigned depth)
{
        const struct owner *o = w->userdata;

        if (v == FS_VISIT_DIR_PRE)
                return 0;
        if (v == FS_VISIT_DIR_POST ? fchown(fd, o->uid, o->gid) < 0
                                   : fchownat(dirfd, name, o->uid, o->gid, AT_SYMLINK_NOFOLLOW) < 0)
                return fs_fail_errno(w->job, -errno, "cannot set the owner of %s", fs_walk_path(w));
        return 0;
}

static int set_folder_owner_entry(struct fs_job *j, const json_t *entry, json_t *out)
{
        const char *path = fs_entry_str(entry, "path");
        const char *owner = fs_entry_str(entry, "owner");
        const char *group = fs_entry_str(entry, "group");
        bool recursive;
        _cleanup_close_ int fd = -1;
        struct owner o;
        int r;

        if ((r = fs_entry_flag(j, entry, "recursive", true, &recursive)) < 0)
                return r;
        if (!*path)
                return fs_fail(j, -EINVAL, "path is empty");
        if (!*owner)
                return fs_fail(j, -EINVAL, "owner is empty");
        r = fs_lookup_user(j, owner, &o.uid, &o.gid);
        if (r >= 0 && *group)
                r = fs_lookup_group(j, group, &o.gid);
        if (r < 0)
                return r;
        fd = open(path, (recursive ? O_RDONLY : O_PATH) | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return fs_fail(j, -ENOENT, "the folder does not exist");
                if (errno == ENOTDIR)
                        return fs_fail(j, -ENOTDIR, "the path is not a folder; use SetFileOwner for files");
                return fs_fail_errno(j, -errno, "cannot open the folder");
        }
        if (recursive) {
                struct fs_walk w = { .job = j, .visit = chown_visit, .userdata = &o };

                r = fs_walk(&w, fd, path);
                fs_walk_done(&w);
                if (r < 0)
                        return r;
        }
        if (chown(path, o.uid, o.gid) < 0)
                return fs_fail_errno(j, -errno, "cannot set the owner");
        return 0;
}

static int set_folder_owner_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        return fs_run_entries(ctx, inputs, "path", set_folder_owner_entry, ret);
}

const struct action_module set_folder_owner_module = {
        .name = "SetFolderOwner",
        .run = set_folder_owner_run,
};
