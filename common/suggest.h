/* suggest.h: "did you mean" for misspelled names. */
#pragma once

#include <stddef.h>

/* Returns the candidate closest to `word` (case-insensitive edit distance),
 * or NULL if none is close enough to be a plausible misspelling.  The
 * candidate list is NULL-terminated. */
const char *suggest_closest(const char *word, const char *const *candidates);

/* Edit distance (optimal string alignment) ignoring ASCII case. */
size_t suggest_distance(const char *a, const char *b);
