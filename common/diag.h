/* diag.h: diagnostics about documents.  A diagnostic has a location
 * (file, 1-based line and column), a severity, a stable code such as
 * "unknown-action", a message that says what was expected and what was
 * found, and an optional suggestion.  Lists print in the GNU form
 * `file:line:col: error: message`, with the source line and a caret, or as
 * JSON objects. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum diag_severity {
        DIAG_ERROR,
        DIAG_WARNING,
        _DIAG_SEVERITY_MAX,
};

struct diag {
        char *file;             /* a copy: the document may be freed first */
        unsigned line, column;  /* 1-based; 0 when unknown */
        unsigned span;          /* characters to underline, at least 1 */
        enum diag_severity severity;
        const char *code;       /* static string */
        char *message;
        char *help;             /* "did you mean 'X'?" or NULL */
        size_t seq;             /* order of insertion, for stable sorting */
};

struct diag_list {
        struct diag *v;
        size_t n, cap;
        size_t n_errors, n_warnings;
        bool warnings_are_errors;   /* --strict */
};

/* Adds a diagnostic; the message is printf-formatted.  Under
 * warnings_are_errors a warning is recorded as an error. */
void diag_add(struct diag_list *l, enum diag_severity sev, const char *code,
              const char *file, unsigned line, unsigned column, unsigned span,
              const char *help, const char *fmt, ...)
        __attribute__((format(printf, 9, 10)));

/* Sorts one file's diagnostics by position (stable). */
void diag_sort(struct diag_list *l, size_t from);

/* Prints diagnostics [from, to) in text form.  `src` is the text of the
 * file they belong to (for the source line and caret), or NULL.  Prints at
 * most `*budget` diagnostics and decrements it. */
void diag_print_text(FILE *f, const struct diag_list *l, size_t from, size_t to,
                     const char *src, size_t src_len, size_t *budget);

void diag_list_free(struct diag_list *l);

const char *diag_severity_name(enum diag_severity s);
