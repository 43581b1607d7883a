/* checker.h: every static rule of a schemaVersion 1.0 component document.
 * check_document walks a yamldoc tree and reports what is wrong through
 * diagnostics; it never stops at the first problem.  The compiler (a later
 * stage) runs it first and only compiles documents without errors. */
#pragma once

#include <stdbool.h>

#include "diag.h"
#include "yamldoc.h"

struct check_options {
        unsigned platforms;  /* PLAT_* the document must run on */
        bool strict_awstoe;  /* reject opentoe-only extensions */
};

/* Returns 0 if the document has no errors, -EINVAL otherwise. */
int check_document(const struct ydoc *doc, const struct check_options *opts,
                   struct diag_list *diags);

/* The integer a `for` loop's start, end or updateBy node is, read exactly
 * as check_document reads it (the compiler uses this, so the two agree);
 * false for any node check_document rejects. */
bool check_loop_int(const struct ynode *v, long long *ret);

/* Parses "linux,windows" into PLAT_* bits; returns 0 or -EINVAL with the
 * offending word in *reterr_word (static storage or a pointer into `s`). */
int check_parse_platforms(const char *s, unsigned *ret, const char **reterr_word);

/* The platform this binary runs on. */
unsigned check_host_platform(void);
