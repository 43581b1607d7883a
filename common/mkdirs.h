/* mkdirs.h: mkdir -p, the one in the tree. */
#pragma once

#include <sys/types.h>

/* Creates `path` and its missing parents with `mode` (less the umask);
 * existing folders are fine.  Returns 0 or a negative errno. */
int mkdir_parents(const char *path, mode_t mode);

/* The same, stricter and saying where it failed: anything but a folder
 * (or a symbolic link to one) in the way, `path` itself included, is
 * -EEXIST (mkdir's own failures are passed on).  On failure *ret_failed (when not NULL) is the leading part
 * of `path` that could not be made, allocated.  "" is fine (nothing to
 * make). */
int mkdir_parents_report(const char *path, mode_t mode, char **ret_failed);
