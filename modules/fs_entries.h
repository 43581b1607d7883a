/* fs_entries.h: the entry driver of the file-system actions (AppendFile
 * ... SetFolderPermissions, ListFiles): running a list action's entries
 * in order, stopping at the first failure and wording which entry it was,
 * reading an entry's inputs, and answering the helpers' "should I stop?"
 * with the runner's action_stop_reason().  The file-system work itself
 * is in common/fs*.h. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "fsjob.h"
#include "module.h"

/* Bounds on what a document controls. */
#define FS_MAX_READ (16u * 1024u * 1024u)     /* bytes ReadFile reads */
#define FS_MAX_LISTING (16u * 1024u * 1024u)  /* bytes of ListFiles output */

/* Runs `fn` for each entry of a list action's `inputs` (an array of
 * objects), in order, and stops at the first failure.  `key` names the
 * input shown in failure messages ("entry 2 (./x): ...").  `fn` returns
 * 0 and may fill `out` (the entry's outputs object), or a negative errno
 * with job->err set.  ret->outputs holds one object per entry that
 * succeeded.  The step's deadline ends an entry with ACTION_TIMED_OUT, an
 * interrupt with ACTION_FAILED.  Returns 0 (the result says how the
 * action went). */
typedef int (*fs_entry_fn)(struct fs_job *j, const json_t *entry, json_t *out);
int fs_run_entries(const struct action_ctx *ctx, const json_t *inputs, const char *key, fs_entry_fn fn,
                   struct action_result *ret);
/* The step an entry run by fs_run_entries() belongs to. */
const struct action_ctx *fs_entry_ctx(const struct fs_job *j);

/* An entry's string input, or "" when missing. */
const char *fs_entry_str(const json_t *entry, const char *name);
/* An entry's boolean input, read by the one reader, action_input_bool()
 * (true/false, or "true"/"false" in any case; `dflt` when absent, null
 * or ""); anything else fails the entry ("<name> must be true or
 * false"). */
int fs_entry_flag(struct fs_job *j, const json_t *entry, const char *name, bool dflt, bool *ret);
