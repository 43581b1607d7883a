/* constants.h: the constant pool K[] of a program, as C structs.
 *
 * A constant is one of:
 *   K_STRING      a literal string                     (LOADK)
 *   K_TEMPLATE    a string with {{ }} references       (RENDER)
 *   K_INPUTS      a step's inputs, a tree of nodes     (RENDER)
 *   K_LOOP_FOR    a `for` loop: start, end, updateBy   (LOOPINIT)
 *   K_LOOP_EACH   a `forEach` list: a list node
 *   K_LOOP_SPLIT  a `forEach` string split on a delimiter
 * A node is null, a boolean, an integer, a real, a string, a template
 * (segments: literal text, a parameter or constant V[i], a register, an
 * output or input of step S[i], or a Systems Manager parameter), a list of
 * nodes or a map of keys to nodes.
 *
 * The compiler builds them, program.c pools, verifies and stores them
 * (kconst_encode is both the .otc form and the key that finds an equal
 * constant), the VM renders them and disasm.c prints them.  Decoding
 * checks every byte of a constant's form; indexes into the program are
 * checked by kconst_fits, since only the program knows its tables. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

enum kseg_kind {
        KSEG_TEXT,   /* literal text */
        KSEG_VAR,    /* {{ name }}: V[index] */
        KSEG_REG,    /* {{ loop.index }}, {{ loop.value }}: register index */
        KSEG_OUTPUT, /* {{ phase.step.outputs[entry].key }}: step S[index] */
        KSEG_INPUT,  /* {{ phase.step.inputs[entry].key }} */
        KSEG_SSM,    /* {{ aws:ssm:name }}, {{ aws:ssm:resolve(name) }} */
        _KSEG_MAX,
};

struct kseg {
        enum kseg_kind kind;
        uint32_t index;    /* VAR, REG, OUTPUT, INPUT */
        int64_t entry;     /* OUTPUT, INPUT: the [N] written, or -1 */
        bool resolve;      /* SSM: written as resolve(...) */
        char *text;        /* TEXT: the literal; OUTPUT, INPUT: the key; SSM: the name */
        size_t len;        /* bytes of text (TEXT may hold NUL bytes) */
};

enum knode_kind {
        KN_NULL,
        KN_BOOL,
        KN_INT,
        KN_REAL,
        KN_STRING,
        KN_TEMPLATE,
        KN_LIST,
        KN_MAP,
        _KN_MAX,
};

struct knode {
        enum knode_kind kind;
        union {
                bool b;                /* BOOL */
                int64_t i;             /* INT */
                double f;              /* REAL, finite */
                struct {               /* STRING (may hold NUL bytes) */
                        char *s;
                        size_t len;
                } str;
                struct {               /* TEMPLATE */
                        struct kseg *segs;
                        size_t n_segs;
                } tmpl;
                struct {               /* LIST, MAP (keys: MAP only, in document order) */
                        struct knode *items;
                        char **keys;
                        size_t n;
                } list;
        };
};

enum kconst_kind {
        K_STRING,
        K_TEMPLATE,
        K_INPUTS,
        K_LOOP_FOR,
        K_LOOP_EACH,
        K_LOOP_SPLIT,
        _K_MAX,
};

struct kconst {
        enum kconst_kind kind;
        /* STRING: a KN_STRING node; TEMPLATE: a KN_TEMPLATE node; INPUTS:
         * any node; LOOP_EACH: a KN_LIST of the items; LOOP_SPLIT: the node
         * whose text is split. */
        struct knode node;
        int64_t start, end, by; /* LOOP_FOR */
        char *delimiter;        /* LOOP_SPLIT: its first byte splits */
};

/* Nodes nest at most this deep (a deeper tree does not verify or load). */
#define KNODE_MAX_DEPTH 64

void knode_free(struct knode *n);
void kconst_free(struct kconst *k);

/* "str", "tmpl", "inputs" or "loop": the kinds as a listing names them. */
const char *kconst_kind_name(enum kconst_kind kind);

/* Appends the constant's form: a .otc file's bytes, and equal bytes for
 * equal constants. */
void kconst_encode(const struct kconst *k, struct strbuf *b);
/* Reads one constant from exactly `len` bytes.  Returns 0, or -EINVAL if
 * the bytes are not a constant's form (unknown kinds, lengths past the
 * end, strings that are not UTF-8, reals that are not finite, nodes
 * nested too deep, bytes left over). */
int kconst_decode(const unsigned char *buf, size_t len, struct kconst *ret);

/* Whether the constant holds the node its kind says, every index it
 * holds is inside a program of n_vars variables, n_regs registers and
 * n_steps steps, and its nodes nest at most KNODE_MAX_DEPTH deep;
 * *max_step is raised to the highest step it refers to. */
bool kconst_fits(const struct kconst *k, size_t n_vars, unsigned n_regs, size_t n_steps, long *max_step);

/* Finds equal constants while compiling: a hash table of their forms. */
struct kconst_index;
struct kconst_index *kconst_index_new(void);
struct kconst_index *kconst_index_free(struct kconst_index *x);
/* Returns the index of the constant whose form is `enc`, or records it as
 * `next` and returns that. */
uint32_t kconst_index_get(struct kconst_index *x, const char *enc, size_t len, uint32_t next);
