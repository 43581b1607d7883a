/* dlsyms.h: loading a shared library with dlopen and filling a table of
 * its functions, for the libraries only some features need (libcurl,
 * libsystemd, libarchive, libcrypto), so that the commands that never
 * use them never load them.  The one dlopen loop of opentoe. */
#pragma once

#include <stddef.h>

#include <stdbool.h>

struct dl_sym {
        const char *name;       /* "curl_easy_init" */
        size_t offset;          /* of its function pointer in the table */
        bool optional;          /* a library without it still loads (NULL) */
};

#define DL_SYM(type, field, name) { name, offsetof(type, field), false }
#define DL_SYM_OPTIONAL(type, field, name) { name, offsetof(type, field), true }

/* Opens the first of `names` that loads and resolves every symbol into
 * the table at `api` (a struct of function pointers; an optional one
 * that is missing is NULL).  0, or -ENOSYS with
 * a message (to free) in the words "cannot load <what> (<why>); install
 * the Debian package <package>" or "<what> lacks <symbol>; install a
 * newer <package>"; nothing stays loaded then (and the table may hold
 * some of the symbols: load into a copy). */
int dl_load(const char *const *names, size_t n_names, const struct dl_sym *syms, size_t n_syms, void *api,
            const char *what, const char *package, void **ret_handle, char **reterr_msg);
