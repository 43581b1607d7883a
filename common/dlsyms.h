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

/* A library's table is written once, as a list macro of
 * FN(field, function) and FN_OPTIONAL(field, function) lines (see
 * archive_dl.h).  In the struct, DL_FIELD makes each field a pointer of
 * the type of the library header's own declaration, so that a call
 * through the table is checked as a direct call would be and no
 * prototype is copied by hand; in the .c file the same list makes the
 * DL_SYM rows, so that no field can lack its symbol.  __typeof__ names no
 * symbol: the library is still never linked. */
#define DL_FIELD(field, fn) __typeof__(fn) *field;
/* The rows, for a .c file that has defined DL_TABLE as its struct:
 *     static const struct dl_sym syms[] = { LIST(DL_ROW, DL_ROW_OPTIONAL) }; */
#define DL_ROW(field, fn) DL_SYM(DL_TABLE, field, #fn),
#define DL_ROW_OPTIONAL(field, fn) DL_SYM_OPTIONAL(DL_TABLE, field, #fn),

/* Opens the first of `names` that loads and resolves every symbol into
 * the table at `api` (a struct of function pointers; an optional one
 * that is missing is NULL).  0, or -ENOSYS with
 * a message (to free) in the words "cannot load <what> (<why>); install
 * the Debian package <package>" or "<what> lacks <symbol>; install a
 * newer <package>"; nothing stays loaded then (and the table may hold
 * some of the symbols: load into a copy). */
int dl_load(const char *const *names, size_t n_names, const struct dl_sym *syms, size_t n_syms, void *api,
            const char *what, const char *package, void **ret_handle, char **reterr_msg);
