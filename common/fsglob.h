/* fsglob.h: the `*` wildcard of the file-system actions: only in a path's
 * last element, only `*` special, matched against one folder's entries. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "fsjob.h"

/* True when the last element of `path` holds a `*`. */
bool fs_has_wildcard(const char *path);
/* 0 when `path` has no `*` or only in its last element; -EINVAL (and the
 * failure worded) when a `*` comes before the last separator. */
int fs_check_wildcard(const char *path, char **reterr_msg);
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
int fs_glob(const char *path, enum fs_kind kind, char ***ret, size_t *ret_n, char **reterr_msg);
