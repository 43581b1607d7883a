/* utf8.h: UTF-8 as Go reads it: well-formed sequences (no surrogates, no
 * overlong forms, at most U+10FFFF), and every byte that does not start
 * one shown as U+FFFD.  For file contents (ReadFile, SetFileEncoding,
 * ListFiles) and for anything else that must hand on valid UTF-8 (log
 * events, JSON). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* The length of the well-formed sequence at p (n bytes left), or 0. */
size_t utf8_seq_len(const unsigned char *p, size_t n);
/* True when all n bytes of s are well-formed UTF-8. */
bool utf8_valid(const char *s, size_t n);
/* Appends s to b with every byte that does not start a well-formed
 * sequence replaced by U+FFFD. */
void utf8_sanitize(struct strbuf *b, const char *s, size_t n);
