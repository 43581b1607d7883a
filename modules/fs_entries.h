/* fs_entries.h: the entry driver of the file-system actions (AppendFile
 * ... SetFolderPermissions, ListFiles): running a list action's entries
 * in order, stopping at the first failure and wording which entry it was,
 * answering the helpers' "should I stop?" with the runner's
 * action_stop_reason(), and the checks several of these actions make on
 * an entry (its path, encoding, owner and mode inputs; the file or folder
 * it names), each worded once.  The file-system work itself is in
 * common/fs*.h. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fsjob.h"
#include "fswalk.h"
#include "module.h"

/* Bounds on what a document controls. */
#define FS_MAX_READ (16u * 1024u * 1024u)     /* bytes ReadFile reads */
#define FS_MAX_LISTING (16u * 1024u * 1024u)  /* bytes of ListFiles output */

/* Runs `fn` for each entry of a list action's `inputs` (an array of
 * objects), in order, and stops at the first failure.  `key` names the
 * input shown in failure messages ("entry 2 (./x): ...").  `fn` returns
 * 0 and may fill `out` (the entry's outputs object), or a negative errno
 * with its message in *reterr_msg.  ret->outputs holds one object per entry that
 * succeeded.  The step's deadline ends an entry with ACTION_TIMED_OUT, an
 * interrupt with ACTION_FAILED.  Returns 0 (the result says how the
 * action went). */
typedef int (*fs_entry_fn)(struct fs_job *j, const json_t *entry, json_t *out, char **reterr_msg);
int fs_run_entries(const struct action_ctx *ctx, const json_t *inputs, const char *key, fs_entry_fn fn,
                   struct action_result *ret);
/* Defines `const struct action_module sym`, the list action `Action`
 * (as documents spell it): its run() is fs_run_entries() with `key` and
 * `fn`, its spec ACTION_SPEC(Action).  Each file-system action is its
 * `fn` and this one line. */
#define FS_ENTRIES_ACTION(Action, sym, key, fn)                                                           \
        static int sym##_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret) \
        {                                                                                                 \
                return fs_run_entries(ctx, inputs, key, fn, ret);                                         \
        }                                                                                                 \
        const struct action_module sym = {                                                                \
                .name = #Action,                                                                          \
                .spec = ACTION_SPEC(Action),                                                              \
                .run = sym##_run,                                                                         \
        }
/* The step an entry run by fs_run_entries() belongs to. */
const struct action_ctx *fs_entry_ctx(const struct fs_job *j);

/* An entry's string input, or "" when missing. */
const char *fs_entry_str(const json_t *entry, const char *name);
/* An entry's boolean input, read by the one reader, action_input_bool()
 * (true/false, or "true"/"false" in any case; `dflt` when absent, null
 * or ""); anything else fails the entry ("<name> must be true or
 * false"). */
int fs_entry_flag(const json_t *entry, const char *name, bool dflt, bool *ret, char **reterr_msg);
/* The entry's `path`; "path is empty" when it is. */
int fs_entry_path(const json_t *entry, const char **ret, char **reterr_msg);
/* The entry's `encoding` (*ret_name as written, *ret_enc its iconv name,
 * fsencoding.h); "unknown encoding '...'" when it is not one. */
int fs_entry_encoding(const json_t *entry, const char **ret_name, const char **ret_enc, char **reterr_msg);
/* AppendFile and CreateFile: the entry's `content` ("" when absent) in
 * the iconv encoding `enc`, allocated into *ret_data and *ret_len. */
int fs_entry_content(const json_t *entry, const char *enc, char **ret_data, size_t *ret_len, char **reterr_msg);
/* SetFileOwner and SetFolderOwner: the required `owner` (its uid and
 * primary group) and the optional `group`, which replaces that group. */
int fs_entry_owner(const json_t *entry, uid_t *ret_uid, gid_t *ret_gid, char **reterr_msg);
/* CreateFile and CreateFolder: the optional `permissions` (*ret_mode is
 * left alone when absent), `owner` and `group` ((uid_t)-1 and (gid_t)-1
 * when absent). */
int fs_entry_access(const json_t *entry, mode_t *ret_mode, uid_t *ret_uid, gid_t *ret_gid, char **reterr_msg);

/* Gives the new file or folder open as `fd` the owner and group asked
 * for (when either is not -1; chown first, as it clears set-id bits) and
 * `mode` less the umask. */
int fs_apply_access(int fd, uid_t uid, gid_t gid, mode_t mode, char **reterr_msg);

/* Opens the regular file an entry names, with `flags`; *ret_st is its
 * stat.  Returns the descriptor, or fails: "the file does not exist",
 * "the path is a folder, not a file", "the path is not a regular file". */
int fs_open_file(const char *path, int flags, struct stat *ret_st, char **reterr_msg);
/* stat()s the file an entry names, which must not be a folder: "the
 * path is a folder; use <folder_action> for folders". */
int fs_stat_file(const char *path, struct stat *ret_st, const char *folder_action, char **reterr_msg);
/* Opens the folder an entry names: for reading when `readable`, else
 * O_PATH.  Returns the descriptor, or fails: "the folder does not
 * exist", "the path is not a folder" (with "; use <file_action> for
 * files" when file_action is not NULL). */
int fs_open_folder(const char *path, bool readable, const char *file_action, char **reterr_msg);
/* SetFolderOwner and SetFolderPermissions: opens the folder an entry
 * names (fs_open_folder(): readable only when `recursive`, as changing
 * only the folder's own attributes needs no read access) and, when
 * `recursive`, walks everything in it with `visit`.  The folder itself
 * is the caller's to change, after its contents. */
int fs_walk_folder(struct fs_job *j, const char *path, bool recursive, const char *file_action, fs_visit_fn visit,
                   void *userdata, char **reterr_msg);
