/* fspath.h: path strings, without touching the file system except where
 * said: splitting and joining (only '/' separates elements: on Linux '\'
 * is an ordinary character), making absolute, and "is X inside Y". */
#pragma once

#include <stdbool.h>
#include <stddef.h>

bool fs_ends_with_sep(const char *path);
/* The length of `path` without trailing separators ("/" stays "/"). */
size_t fs_trimmed_len(const char *path);
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
