/* delete_folder.c: the DeleteFolder action: deletes an empty folder, or
 * with `force: true` a folder and everything in it (never following
 * symbolic links, at most FS_MAX_DEPTH levels deep).  A symbolic link to
 * a folder is deleted itself, not what it points to.  A missing folder is
 * not an error (the step may run again after a reboot).  `/`, `.` and
 * `..` are refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_entries.h"
#include "fspath.h"
#include "fswalk.h"
#include "module.h"

static int delete_folder_entry(struct fs_job *j, const json_t *entry, json_t *out, char **reterr_msg)
{
        const char *path;
        bool force;
        _cleanup_free_ char *base = NULL, *dir = NULL, *abs = NULL, *trimmed = NULL;
        struct stat st;
        int r;

        if ((r = fs_entry_flag(entry, "force", false, &force, reterr_msg)) < 0 ||
            (r = fs_entry_path(entry, &path, reterr_msg)) < 0)
                return r;
        base = fs_basename(path);
        abs = fs_absolute(path);
        if (!strcmp(abs, "/") || !strcmp(base, ".") || !strcmp(base, ".."))
                return fs_fail(reterr_msg, -EPERM, "refusing to delete %s", path);
        /* Without trailing separators, so that a link is seen as a link. */
        dir = fs_dirname(path);
        trimmed = fs_join(dir, base);
        if (lstat(trimmed, &st) < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return 0;
                return fs_fail_errno(reterr_msg, -errno, "cannot examine the folder");
        }
        if (S_ISLNK(st.st_mode)) {
                if (stat(trimmed, &st) < 0 || !S_ISDIR(st.st_mode))
                        return fs_fail(reterr_msg, -ENOTDIR,
                                       "the path is not a folder; use DeleteFile to delete files");
                if (unlink(trimmed) < 0)
                        return fs_fail_errno(reterr_msg, -errno, "cannot delete the link");
                return 0;
        }
        if (!S_ISDIR(st.st_mode))
                return fs_fail(reterr_msg, -ENOTDIR, "the path is not a folder; use DeleteFile to delete files");
        if (rmdir(trimmed) == 0)
                return 0;
        if (errno != ENOTEMPTY && errno != EEXIST)
                return fs_fail_errno(reterr_msg, -errno, "cannot delete the folder");
        if (!force)
                return fs_fail(reterr_msg, -ENOTEMPTY,
                               "the folder is not empty; set force: true to delete it with its contents");
        return fs_remove_tree(j, AT_FDCWD, trimmed, path, reterr_msg);
}

FS_ENTRIES_ACTION(DeleteFolder, delete_folder_module, "path", delete_folder_entry);
