/* uuid.h: random (version 4) UUIDs for execution ids. */
#pragma once

/* Writes "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" and a NUL into out.
 * Returns 0, or -errno when no randomness could be read (then out holds
 * a UUID made from the time and the process id, still unique enough for
 * a log folder's name). */
int uuid_v4(char out[37]);
