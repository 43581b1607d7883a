/* fsreplace.h: putting new files and folders in place for the
 * file-system actions: mkdir -p with its failure worded (on mkdirs.h),
 * and temporaries made beside a target then renamed over it, so that a
 * target is never seen half made. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "fsjob.h"

/* mkdir -p: creates `path` and missing parents with `mode` (the umask
 * applies).  An existing folder (or a symbolic link to one) is fine;
 * anything else in the way is -ENOTDIR. */
int fs_mkdir_p(const char *path, mode_t mode, char **reterr_msg);
/* fs_mkdir_p() for the folder that holds `path`. */
int fs_mkdir_parent(const char *path, char **reterr_msg);

/* A temporary file or folder beside a target, renamed over it when done. */
struct fs_tmp {
        int dirfd;              /* the folder of the target */
        int fd;                 /* the temporary file, or -1 */
        bool is_dir;
        char *target;           /* the target's name within dirfd */
        char name[96];          /* the temporary name within dirfd, "" when none */
};
#define FS_TMP_INIT { .dirfd = -1, .fd = -1 }
/* Opens the folder of `target` into t (no temporary yet). */
int fs_tmp_open_dir(const char *target, struct fs_tmp *t, char **reterr_msg);
/* Creates an empty temporary file (mode 0600) beside `target`. */
int fs_tmp_file(const char *target, struct fs_tmp *t, char **reterr_msg);
/* Creates an empty temporary folder (mode 0700) beside `target`; t->fd is
 * the folder, opened. */
int fs_tmp_dir(const char *target, struct fs_tmp *t, char **reterr_msg);
/* Renames the temporary over the target.  With !replace, an existing
 * target is kept and -EEXIST returned.  `display` names the target in
 * messages. */
int fs_tmp_commit(struct fs_tmp *t, bool replace, const char *display, char **reterr_msg);
/* Creates a symbolic link to `dest` under a temporary name beside
 * `target` (t->fd stays -1). */
int fs_tmp_symlink(const char *dest, const char *target, struct fs_tmp *t, char **reterr_msg);
/* Removes whatever of the temporary is left, and closes. */
void fs_tmp_done(struct fs_tmp *t);
/* The end of a temporary built step by step: when `r` (how the steps
 * went) is not negative, fs_tmp_commit() (its -EEXIST reworded to
 * `exists`, when not NULL); then fs_tmp_done().  Returns r or the
 * commit's result. */
int fs_tmp_finish(struct fs_tmp *t, int r, bool replace, const char *display, const char *exists, char **reterr_msg);
/* Writes a fresh temporary name, ".<base>.opentoe-XXXXXX" (`base`
 * truncated to 40 bytes, X random), into buf. */
void fs_tmp_name(char *buf, size_t n, const char *base);

/* renameat2(RENAME_NOREPLACE), or where the file system lacks it a hard
 * link for files and a checked rename for folders.  0 or a negative
 * errno (-EEXIST: the new name is taken). */
int fs_rename_noreplace(int olddir, const char *oldname, int newdir, const char *newname);
