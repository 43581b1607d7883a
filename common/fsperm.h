/* fsperm.h: owners and modes for the file-system actions: users and
 * groups by name or number, octal mode strings, the process's umask. */
#pragma once

#include <sys/types.h>

#include "fsjob.h"

/* The process's umask (read once). */
mode_t fs_umask(void);
/* A user by name, or by numeric id when no user has that name.
 * *ret_gid is the user's primary group, or (gid_t)-1 when unknown. */
int fs_lookup_user(const char *name, uid_t *ret_uid, gid_t *ret_gid, char **reterr_msg);
/* A group by name, or by numeric id when no group has that name. */
int fs_lookup_group(const char *name, gid_t *ret_gid, char **reterr_msg);
/* An octal mode string: 1 to 4 octal digits, optionally after one extra
 * leading 0 ("644", "0644", "4755", "00755"); at most 07777. */
int fs_parse_mode(const char *s, mode_t *ret, char **reterr_msg);
