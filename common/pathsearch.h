/* pathsearch.h: finding a program on $PATH the way Go's exec.LookPath
 * does (AWSTOE is a Go program): ExecuteBinary runs what it finds, and the
 * binaryExists condition asks the same question. */
#pragma once

#include <stdbool.h>

/* True if path names an executable file (not a folder). */
bool path_is_executable(const char *path);

/* Finds `name` (no '/') on $PATH.  Returns 0 with *ret_path, -ENOENT when
 * it is nowhere, -EPERM when it was found only through a relative entry
 * of $PATH (Go refuses those since 1.19), or -ENOMEM. */
int path_search(const char *name, char **ret_path);
