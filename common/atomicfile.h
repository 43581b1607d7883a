/* atomicfile.h: replacing a whole file so that a crash leaves either the
 * old contents or the new ones, never a mix: write a temporary file beside
 * it, fsync, rename over it, fsync the folder.  Checkpoints, reports and
 * compiled programs are all written this way. */
#pragma once

#include <stddef.h>

/* Returns 0 or a negative errno (the temporary file is then removed). */
int write_file_atomic(const char *path, const char *data, size_t len);
