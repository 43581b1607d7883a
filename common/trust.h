/* trust.h: deciding whether a folder or a file that opentoe (often root)
 * is about to use could have been touched by another user.
 *
 * A folder is *safe to pass through* when its owner is root or the
 * effective user and either nobody else may write it or it has the
 * sticky bit (as /tmp does: then others cannot rename or remove what we
 * put there).  Paths are walked from "/" one component at a time, every
 * folder is checked as it is opened, and the caller gets a descriptor of
 * the very folder that was checked, so nothing can be swapped between
 * the check and the use.  A symbolic link on the way is followed only
 * when root or the effective user owns it (in a sticky folder anyone may
 * create one).
 *
 * A folder or file is *private* when the effective user owns it and
 * neither group nor others may write it: the state folder, the TOE_*
 * folder and everything in them must be.
 *
 * Every refusal comes with a message that names the path, says what is
 * wrong and how to fix it. */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Opens the folder `path` (relative paths start at the current
 * directory, whose own path is checked too) for reading, after checking
 * every folder from "/" down to it, itself included, as described above.
 * Missing folders are created with `create_mode` (0: do not create).
 * `what` names the folder in messages ("the log directory").  Returns a
 * descriptor (O_RDONLY | O_DIRECTORY, close-on-exec) or a negative errno
 * with *reterr set. */
int trust_open_dir(const char *path, mode_t create_mode, const char *what, char **reterr);

/* Checks an open folder or file: owned by the effective user, of the
 * expected type (S_IFDIR or S_IFREG), a file with exactly one link, and
 * no permission bit of `forbidden` set (S_IWGRP | S_IWOTH for folders;
 * 077 for state files).  `shown` is the path for messages.  Returns 0 or
 * -EPERM with *reterr set (-errno if fstat fails). */
int trust_check_private(int fd, mode_t type, mode_t forbidden, const char *shown, char **reterr);

/* Opens (or, with O_CREAT in `flags`, creates: then O_EXCL is added and
 * the mode is `mode` less the umask) the entry `name` of a trusted
 * folder without following a symbolic link, and checks it is private as
 * trust_check_private does with `type` and `forbidden`.  Returns a
 * descriptor or a negative errno with *reterr set (-ENOENT without a
 * message when it does not exist and O_CREAT was not given). */
int trust_openat(int dirfd, const char *name, int flags, mode_t mode, mode_t type, mode_t forbidden,
                 const char *shown, char **reterr);
