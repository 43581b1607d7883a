/* dlsyms.h: loading a shared library with dlopen and filling a table of
 * its functions, for the libraries only some features need (libcurl,
 * libsystemd), so that the commands that never use them never load them. */
#pragma once

#include <stddef.h>

struct dl_sym {
        const char *name;       /* "curl_easy_init" */
        size_t offset;          /* of its function pointer in the table */
};

#define DL_SYM(type, field, name) { name, offsetof(type, field) }

/* Opens the first of `names` that loads and resolves every symbol into
 * the table at `api` (a struct of function pointers).  0, or -ENOSYS with
 * a message (to free) in the words "cannot load <what> (<why>); install
 * the Debian package <package>" or "<what> lacks <symbol>; install a
 * newer <package>"; nothing stays loaded then. */
int dl_load(const char *const *names, size_t n_names, const struct dl_sym *syms, size_t n_syms, void *api,
            const char *what, const char *package, void **ret_handle, char **reterr_msg);
