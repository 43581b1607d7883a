/* strv.h: vectors of allocated strings, and freeing them: counted
 * (char **v with n entries) or NULL-terminated. */
#pragma once

#include <stddef.h>

/* Frees the NULL-terminated vector v and every string in it; v may be NULL. */
void strv_free(char **v);
/* Frees the first n strings of v, then v; v may be NULL when n is 0. */
void strv_free_n(char **v, size_t n);
