/* mkdirs.h: mkdir -p. */
#pragma once

#include <sys/types.h>

/* Creates `path` and its missing parents with `mode` (less the umask);
 * existing folders are fine.  Returns 0 or a negative errno. */
int mkdir_parents(const char *path, mode_t mode);
