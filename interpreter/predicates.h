/* predicates.h: the comparison and logical operators of `if` and Assert,
 * as one table: name, form (which companion keys it takes) and operand
 * type.  New operators are rows here, not new opcodes or new checker code. */
#pragma once

#include <stddef.h>

enum pred_form {
        PF_UNARY,   /* operator: operand                     (stringIsEmpty) */
        PF_VALUE,   /* operator: baseline + value: x          (stringEquals) */
        PF_PATH,    /* operator: hash + path: file            (fileMD5Equals) */
        PF_AND,
        PF_OR,
        PF_NOT,
        _PF_MAX,
};

enum pred_operand {
        PO_STRING,  /* compared as text */
        PO_NUMBER,  /* compared as numbers */
        PO_REGEX,   /* a regular expression (patternMatches) */
        PO_PATH,    /* a file or folder path, or a program name */
        PO_HASH,    /* a hex digest */
        PO_LOGIC,   /* nested expressions */
};

struct predicate {
        const char *name;
        enum pred_form form;
        enum pred_operand operand;
        unsigned hash_hex_len;  /* PO_HASH: expected digits */
        const char *alias_of;   /* a tolerated spelling of another operator */
};

extern const struct predicate predicates[];
extern const size_t n_predicates;

const struct predicate *pred_find(const char *name);
/* NULL-terminated list of every operator name, for suggestions. */
const char *const *pred_names(void);

#define PRED_MAX_LOGIC_DEPTH 4

#include <jansson.h>
#include <stdbool.h>

/* True if `s` is a number in the one form AWSTOE converts,
 * ^[-+]?([0-9]+[.])?[0-9]+$ (the checker and pred_eval agree on it). */
bool pred_is_number(const char *s);

/* Evaluates one comparison: `operand` is the operator's own value, `value`
 * the sibling value (or path for the file-hash operators).  Two-value
 * operators read "value OP operand", as AWS's examples do; string
 * comparisons ignore case and do not trim.  The file operators read the
 * file system.  Returns 0 and *ret, or a negative errno and a message
 * (a number that cannot be parsed is not an error: the result is false). */
int pred_eval(const struct predicate *p, const char *operand, const char *value, bool *ret, char **reterr_msg);

/* Evaluates a whole expression given as JSON (the rendered inputs of an
 * Assert step): one operator per level, and/or/not nesting. */
int pred_eval_json(const json_t *expr, bool *ret, char **reterr_msg);
