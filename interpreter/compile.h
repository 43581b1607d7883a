/* compile.h: a checked component document to a program.  comp_program
 * runs every check of checker.h first and compiles only a document
 * without errors; every name (action, parameter, constant, step, loop) is
 * resolved here, so the VM never meets an unknown one. */
#pragma once

#include "checker.h"
#include "diag.h"
#include "program.h"
#include "yamldoc.h"

/* Returns 0 and the program, or -EINVAL after adding diagnostics, or
 * another negative errno (libcrypto missing: *ret is NULL and a
 * diagnostic says so). */
int comp_program(const struct ydoc *doc, const struct check_options *opts, struct program **ret,
                 struct diag_list *diags);

/* Loads a document (YAML, JSON, or a compiled .otc) from a path. */
int comp_load(const char *path, const struct check_options *opts, struct program **ret,
              struct diag_list *diags, struct ydoc **ret_doc);
