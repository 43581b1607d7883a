/* fsutil.h: file-system helpers shared by the file-system action modules
 * (AppendFile ... SetFolderPermissions): running a list of entries and
 * wording their failures, path splitting and `*` wildcards, mkdir -p,
 * atomic replacement through a temporary file beside the target, a
 * recursive walk that never follows symbolic links, copying that keeps
 * modes, moves with a copy-then-delete fallback, text encodings, and
 * owner and mode parsing.
 *
 * Conventions: functions return >= 0 on success and a negative errno on
 * failure.  Functions that take a `struct fs_job` also word the failure
 * into job->err (the entry driver prefixes it with the entry). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "module.h"

/* Bounds on what a document controls. */
#define FS_MAX_DEPTH 256                      /* folder levels below a walk's root */
#define FS_MAX_READ (16u * 1024u * 1024u)     /* bytes ReadFile reads */
#define FS_MAX_LISTING (16u * 1024u * 1024u)  /* bytes of ListFiles output */

/* One entry being run: the step's context and the failure being worded. */
struct fs_job {
        const struct action_ctx *ctx;
        char *err;              /* why the entry failed; NULL while it has not */
        bool timed_out;         /* the step's deadline passed */
        unsigned ticks;         /* work done since the last look at the clock */
};

/* Records why the entry failed and returns `r` (a negative errno; -EIO
 * when `r` is not negative).  The first failure recorded wins. */
int fs_fail(struct fs_job *j, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same with ": <reason for r>" appended ("permission denied"). */
int fs_fail_errno(struct fs_job *j, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Forgets the recorded failure (to word it again). */
void fs_clear(struct fs_job *j);
/* The lowercase text of an errno value, as Go words it ("no such file or
 * directory"). */
const char *fs_strerror(int r, char *buf, size_t n);
/* Returns -ETIME (recording the failure) once the step's deadline has
 * passed; looks at the clock every few calls only. */
int fs_tick(struct fs_job *j);

/* Runs `fn` for each entry of a list action's `inputs` (an array of
 * objects), in order, and stops at the first failure.  `key` names the
 * input shown in failure messages ("entry 2 (./x): ...").  `fn` returns
 * 0 and may fill `out` (the entry's outputs object), or a negative errno
 * with job->err set.  ret->outputs holds one object per entry that
 * succeeded.  Returns 0 (the result says how the action went). */
typedef int (*fs_entry_fn)(struct fs_job *j, const json_t *entry, json_t *out);
int fs_run_entries(const struct action_ctx *ctx, const json_t *inputs, const char *key, fs_entry_fn fn,
                   struct action_result *ret);

/* An entry's string input, or "" when missing; a boolean input, or
 * `dflt` when missing. */
const char *fs_entry_str(const json_t *entry, const char *name);
bool fs_entry_bool(const json_t *entry, const char *name, bool dflt);

/* ---- paths ---------------------------------------------------------------- */

/* Only '/' separates path elements: on Linux '\' is an ordinary character. */
bool fs_ends_with_sep(const char *path);
/* The last element, trailing separators ignored ("a/b/" -> "b"; "/" -> "/"). */
char *fs_basename(const char *path);
/* Everything before the last element ("a/b" -> "a", "b" -> ".", "/b" -> "/"). */
char *fs_dirname(const char *path);
/* dir + "/" + name, without doubling a separator. */
char *fs_join(const char *dir, const char *name);
/* An absolute path for `path`: the current directory joined with it when
 * it is relative; "." and ".." elements and repeated separators removed
 * without looking at the file system. */
char *fs_absolute(const char *path);
/* `path` with its symbolic links resolved as far as it exists, the rest
 * normalised lexically; for "is X inside Y" checks.  NULL on failure. */
char *fs_resolve(const char *path);
/* True when `inner` is `outer` or lies below it (both from fs_resolve). */
bool fs_path_within(const char *inner, const char *outer);

/* ---- wildcards ------------------------------------------------------------- */

/* True when the last element of `path` holds a `*`. */
bool fs_has_wildcard(const char *path);
/* 0 when `path` has no `*` or only in its last element; -EINVAL (and the
 * failure worded) when a `*` comes before the last separator. */
int fs_check_wildcard(struct fs_job *j, const char *path);
/* fnmatch() for a pattern in which only `*` is special (`?`, `[` and `\`
 * match themselves).  `*` matches a leading dot too, as in Go. */
bool fs_match(const char *pattern, const char *name);

enum fs_kind {
        FS_ANY,
        FS_NOT_FOLDERS,    /* files, symbolic links to files and the like */
};
/* The paths in the folder of `path` whose names match its last element,
 * sorted by name (strcmp).  A missing folder gives no matches.  *ret is a
 * NULL-terminated array. */
int fs_glob(struct fs_job *j, const char *path, enum fs_kind kind, char ***ret, size_t *ret_n);
void fs_strv_free(char **v);

/* ---- creating and replacing ------------------------------------------------ */

/* The process's umask (read once). */
mode_t fs_umask(void);
/* mkdir -p: creates `path` and missing parents with `mode` (the umask
 * applies).  An existing folder (or a symbolic link to one) is fine. */
int fs_mkdir_p(struct fs_job *j, const char *path, mode_t mode);
/* fs_mkdir_p() for the folder that holds `path`. */
int fs_mkdir_parent(struct fs_job *j, const char *path);

/* A temporary file or folder beside a target, renamed over it when done. */
struct fs_tmp {
        int dirfd;              /* the folder of the target */
        int fd;                 /* the temporary file, or -1 */
        bool is_dir;
        char *target;           /* the target's name within dirfd */
        char name[96];          /* the temporary name within dirfd, "" when none */
};
#define FS_TMP_INIT { .dirfd = -1, .fd = -1 }
/* Creates an empty temporary file (mode 0600) beside `target`. */
int fs_tmp_file(struct fs_job *j, const char *target, struct fs_tmp *t);
/* Creates an empty temporary folder (mode 0700) beside `target`; t->fd is
 * the folder, opened. */
int fs_tmp_dir(struct fs_job *j, const char *target, struct fs_tmp *t);
/* Renames the temporary over the target.  With !replace, an existing
 * target is kept and -EEXIST returned.  `display` names the target in
 * messages. */
int fs_tmp_commit(struct fs_job *j, struct fs_tmp *t, bool replace, const char *display);
/* Creates a symbolic link to `dest` under a temporary name beside
 * `target` (t->fd stays -1). */
int fs_tmp_symlink(struct fs_job *j, const char *dest, const char *target, struct fs_tmp *t);
/* Removes whatever of the temporary is left, and closes. */
void fs_tmp_done(struct fs_tmp *t);
/* Writes a fresh temporary name, ".<base>.opentoe-XXXXXX" (`base`
 * truncated to 40 bytes, X random), into buf. */
void fs_tmp_name(char *buf, size_t n, const char *base);

/* Writes all of buf. */
int fs_write_all(int fd, const void *buf, size_t n);
/* Copies the contents of one file to another, from the current offsets:
 * copy_file_range, then sendfile, then read/write.  `size` is the
 * source's size from fstat (0: read until the end). */
int fs_copy_data(struct fs_job *j, int in, int out, off_t size);

/* ---- walking ---------------------------------------------------------------- */

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
                           unsigned depth);

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
 * Fails past FS_MAX_DEPTH levels. */
int fs_walk(struct fs_walk *w, int rootfd, const char *root);
/* The path of the entry being visited, root included (valid during the
 * visit). */
const char *fs_walk_path(const struct fs_walk *w);

/* rm -rf of `name` in `dirfd` (a file, link or folder; links are not
 * followed).  Missing is fine. */
int fs_remove_tree(struct fs_job *j, int dirfd, const char *name, const char *display);

/* ---- copying and moving -------------------------------------------------- */

enum fs_copy_flags {
        FS_COPY_PRESERVE = 1 << 0,   /* owner, group, all mode bits and times (for moves) */
        FS_COPY_REPLACE = 1 << 1,    /* an existing target file is replaced */
};
/* Copies the file open as `srcfd` (whose stat is `st`) to `target`,
 * through a temporary file renamed into place.  Without FS_COPY_REPLACE
 * an existing target fails with -EEXIST. */
int fs_copy_file_fd(struct fs_job *j, int srcfd, const struct stat *st, const char *target, unsigned flags);
/* Copies the folder open as `srcfd` to `target`, which must not exist:
 * built in a temporary folder beside it and renamed into place, so a
 * failure leaves nothing behind. */
int fs_copy_tree_new(struct fs_job *j, int srcfd, const char *src, const char *target, unsigned flags);
/* Copies the contents of the folder open as `srcfd` into the existing
 * folder `target`: files replaced one by one (each atomically), folders
 * merged, a folder/non-folder clash fails. */
int fs_copy_tree_merge(struct fs_job *j, int srcfd, const char *src, const char *target, unsigned flags);

/* Moves `src` (anything; links are moved, not followed) to `target`:
 * rename(2), or across file systems a copy that keeps owners, modes and
 * times followed by deleting the source.  With !replace an existing
 * target fails with -EEXIST. */
int fs_move(struct fs_job *j, const char *src, const char *target, bool replace);
/* Moves the contents of folder `src` into the existing folder `target`,
 * merging folders and replacing files, then removes `src`. */
int fs_move_merge(struct fs_job *j, const char *src, const char *target);

/* The sources of a copy or move entry: the sorted matches of a `*`
 * wildcard in `source` (of `kind`; none is an error), which needs a
 * `destination` ending with a separator, or `source` itself.  *ret is
 * NULL-terminated; *ret_wildcard says which. */
int fs_sources(struct fs_job *j, const char *source, const char *destination, enum fs_kind kind, char ***ret,
               size_t *ret_n, bool *ret_wildcard);

/* One entry of CopyFile, CopyFolder, MoveFile or MoveFolder: reads
 * source, destination and overwrite, expands the sources (of `kind`), and
 * calls `one` for each in order until one fails. */
typedef int (*fs_one_fn)(struct fs_job *j, const char *src, const char *destination, bool overwrite,
                         bool wildcard);
int fs_copy_move_entry(struct fs_job *j, const json_t *entry, enum fs_kind kind, fs_one_fn one);
/* Where `src` goes: `destination` joined with the source's name when it
 * ends with a separator, else `destination` itself. */
char *fs_target(const char *src, const char *destination);
/* Copies the regular file open as `srcfd` (stat `st`) to the
 * file `target`: an existing folder there fails, a link there is written
 * through, the same file fails, an existing file fails unless
 * `overwrite`; missing folders are created. */
int fs_copy_file_to(struct fs_job *j, int srcfd, const struct stat *st, const char *target, bool overwrite);
/* Moves the non-folder `src` to `target` with the same checks. */
int fs_move_file_to(struct fs_job *j, const char *src, const char *target, bool overwrite);

/* ---- encodings, owners, modes ------------------------------------------- */

/* The iconv name of a document's encoding ("utf-16" -> "UTF-16LE"), or
 * NULL when it is not one of the documented values.  "" is utf8. */
const char *fs_encoding(const char *name);
/* Converts UTF-8 text to `enc` (an fs_encoding() result), no BOM. */
int fs_encode(struct fs_job *j, const char *enc, const char *text, size_t len, char **ret, size_t *ret_len);
/* Streams UTF-8 text from `in` to `out` converted to `enc`; with out < 0
 * only checks that the text is UTF-8.  Fails on text that is not UTF-8,
 * naming the byte offset; `display` names the file in messages. */
int fs_recode(struct fs_job *j, int in, int out, const char *enc, const char *display);
/* Converts text in `enc` to UTF-8; bytes that do not decode become U+FFFD
 * (as Go does). */
int fs_decode(const char *enc, const char *data, size_t len, char **ret, size_t *ret_len);

/* A user by name, or by numeric id when no user has that name.
 * *ret_gid is the user's primary group, or (gid_t)-1 when unknown. */
int fs_lookup_user(struct fs_job *j, const char *name, uid_t *ret_uid, gid_t *ret_gid);
/* A group by name, or by numeric id when no group has that name. */
int fs_lookup_group(struct fs_job *j, const char *name, gid_t *ret_gid);
/* An octal mode string: 1 to 4 octal digits, optionally after one extra
 * leading 0 ("644", "0644", "4755", "00755"); at most 07777. */
int fs_parse_mode(struct fs_job *j, const char *s, mode_t *ret);
