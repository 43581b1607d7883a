/* errmsg.h: opentoe's one error channel.  A function that can fail
 * returns a negative errno and, when its caller passed a place for it,
 * a message (allocated; the caller frees it) written in the caller's
 * terms: "cannot open /etc/x: Permission denied".  No global buffers, no
 * per-module error structs. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

/* Stores the formatted message in *reterr_msg (when reterr_msg is not
 * NULL) and returns err, so that a failing path is one statement:
 *     return errmsg_set(reterr_msg, -EINVAL, "bad size %zu", n); */
int errmsg_set(char **reterr_msg, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int errmsg_vset(char **reterr_msg, int err, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
/* The text of an errno value (either sign) as Go words a syscall error:
 * strerror's words with the first letter lower-case ("no such file or
 * directory"), in buf; returns buf. */
const char *go_strerror(int err, char *buf, size_t n);
