/* fswalk.h: visiting a folder tree without following symbolic links
 * (openat/fstatat from the folder's descriptor, at most FS_MAX_DEPTH
 * levels), and rm -rf built on it. */
#pragma once

#include "fsjob.h"

/* Folder levels below a walk's root. */
#define FS_MAX_DEPTH 256

enum fs_visit {
        FS_VISIT_FILE,          /* anything that is not a folder; fd is -1 */
        FS_VISIT_DIR_PRE,       /* a folder, opened as fd, before its contents */
        FS_VISIT_DIR_POST,      /* the same folder after its contents */
};
/* A pre-visit returning FS_SKIP leaves the folder's contents alone. */
#define FS_SKIP 1

struct fs_walk;
/* `dirfd` holds `name`; `type` is a DT_* value (never DT_UNKNOWN);
 * `depth` is 1 for the root's own entries. */
typedef int (*fs_visit_fn)(struct fs_walk *w, enum fs_visit v, int dirfd, const char *name, int type, int fd,
                           unsigned depth, char **reterr_msg);

struct fs_walk {
        struct fs_job *job;
        fs_visit_fn visit;
        void *userdata;
        unsigned max_depth;     /* 0: FS_MAX_DEPTH */
        char *path;             /* the path being visited, for messages */
        size_t path_len, path_cap;
};
/* Visits everything below the folder open as `rootfd` (whose path is
 * `root`, for messages), without following symbolic links: folders
 * before and after their contents.  Does not visit the root itself.
 * Fails past FS_MAX_DEPTH levels.  fs_tick()s the job once per entry. */
int fs_walk(struct fs_walk *w, int rootfd, const char *root, char **reterr_msg);
/* The path of the entry being visited, root included (valid during the
 * visit). */
const char *fs_walk_path(const struct fs_walk *w);
/* Frees what a walk kept (its path buffer). */
void fs_walk_done(struct fs_walk *w);
/* fs_walk() of the folder open as `rootfd` with `visit`, from start to
 * fs_walk_done(). */
int fs_walk_tree(struct fs_job *j, int rootfd, const char *root, fs_visit_fn visit, void *userdata, char **reterr_msg);

/* The folders a copying or moving walk writes into, one per depth:
 * fd[0] is the destination root (the caller's), fd[d] the folder that
 * receives the entries of depth d + 1, opened by the visits. */
struct fs_dirfds {
        int fd[FS_MAX_DEPTH + 2];
};
void fs_dirfds_init(struct fs_dirfds *d, int rootfd);
/* Closes every folder but the root. */
void fs_dirfds_close(struct fs_dirfds *d);

/* rm -rf of `name` in `dirfd` (a file, link or folder; links are not
 * followed).  Missing is fine. */
int fs_remove_tree(struct fs_job *j, int dirfd, const char *name, const char *display, char **reterr_msg);
