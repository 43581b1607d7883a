/* atomicfile.h: replacing a whole file so that a crash leaves either the
 * old contents or the new ones, never a mix: write a temporary file beside
 * it (created new, never through a link), fsync, rename over it, fsync
 * the folder.  Reports and compiled programs are written this way (the
 * checkpoint log is appended to instead: agent/state.c). */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Replaces `name` in the open folder `dirfd` with `data`.  The file gets
 * `mode` less the umask (a stricter umask is honoured; a looser one never
 * widens `mode`).  Returns 0 or a negative errno (the temporary file is
 * then removed). */
int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode);

/* The same for a path, with mode 0644 less the umask. */
int write_file_atomic(const char *path, const char *data, size_t len);

/* Writes all of `buf`, restarting after EINTR: 0 or a negative errno.
 * The one write-everything loop; every writer of whole buffers uses it. */
int write_all(int fd, const void *buf, size_t len);
/* The same at offset `off` (pwrite; the file offset does not move); a
 * write that makes no progress is -EIO. */
int pwrite_all(int fd, const void *buf, size_t len, off_t off);
