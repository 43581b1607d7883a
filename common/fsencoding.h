/* fsencoding.h: the text encodings of the file-system actions (utf8,
 * utf16 and utf32 in either byte order): names, converting UTF-8 to them
 * and back through iconv, and checking text is UTF-8 as Go does. */
#pragma once

#include <stddef.h>

#include "fsjob.h"

/* The iconv name of a document's encoding ("utf-16" -> "UTF-16LE"), or
 * NULL when it is not one of the documented values.  "" is utf8. */
const char *fs_encoding(const char *name);
/* Converts UTF-8 text to `enc` (an fs_encoding() result), no BOM. */
int fs_encode(const char *enc, const char *text, size_t len, char **ret, size_t *ret_len, char **reterr_msg);
/* Streams UTF-8 text from `in` to `out` converted to `enc`; with out < 0
 * only checks that the text is UTF-8.  Fails on text that is not UTF-8,
 * naming the byte offset; `display` names the file in messages. */
int fs_recode(struct fs_job *j, int in, int out, const char *enc, const char *display, char **reterr_msg);
/* Converts text in `enc` to UTF-8; bytes that do not decode become U+FFFD
 * (as Go does). */
int fs_decode(const char *enc, const char *data, size_t len, char **ret, size_t *ret_len);
