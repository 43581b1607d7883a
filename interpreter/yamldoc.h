/* yamldoc.h: a YAML document as a tree of nodes that remember where they
 * came from.  Built from libyaml's events by yamldoc.c, the only file that
 * includes <yaml.h>.  Every node keeps its 1-based line and column; scalars
 * keep their style and explicit tag, because `1.0`, `"1.0"` and `1` differ.
 * Duplicate keys, excessive size, depth and alias expansion are rejected
 * while loading, each with its own diagnostic.  Aliases are shared, not
 * copied: the tree is a DAG without cycles. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

enum ynode_kind {
        YN_SCALAR,
        YN_MAP,
        YN_SEQ,
};

enum yscalar_style {
        YS_PLAIN,
        YS_SINGLE_QUOTED,
        YS_DOUBLE_QUOTED,
        YS_LITERAL,
        YS_FOLDED,
        YS_NONE, /* collections */
};

struct ynode;

struct ypair {
        struct ynode *key;
        struct ynode *value;
};

/* 24 bytes a node: a 10,000-step document has about 105,000 of them.  A
 * node's explicit tag, when it has one, is stored right after it in the
 * arena (yn_tag()).  `len` and `n` share their place: read the one that
 * the node's kind has (every reader checks the kind first). */
struct ynode {
        union {
                char *str;                /* YN_SCALAR: the value, NUL-terminated */
                struct ynode **items;     /* YN_SEQ */
                struct ypair *pairs;      /* YN_MAP */
        };
        union {
                uint32_t len;             /* YN_SCALAR: the value's length in bytes */
                uint32_t n;               /* YN_SEQ, YN_MAP: items or pairs */
        };
        uint32_t line;                    /* 1-based start */
        unsigned column : 24;             /* 1-based start (saturates past 16M characters) */
        enum ynode_kind kind : 2;
        enum yscalar_style style : 3;
        bool flow : 1;                    /* collection written in flow style ([...], {...}) */
        bool open : 1;                    /* still being built (guards recursive aliases) */
        bool has_tag : 1;                 /* yn_tag() is not NULL */
        uint32_t end;                     /* byte offset just past the node in the source */
};

struct ydoc_limits {
        size_t max_bytes;        /* document size */
        unsigned max_depth;      /* nesting of collections (at most 64) */
        size_t max_alias_nodes;  /* nodes reachable through aliases, summed */
};

#define YDOC_DEFAULT_MAX_BYTES (1024u * 1024u)
#define YDOC_DEFAULT_MAX_DEPTH 64u
#define YDOC_DEFAULT_MAX_ALIAS_NODES 100000u

extern const struct ydoc_limits ydoc_default_limits;

struct ydoc {
        char *path;              /* as given, for diagnostics */
        /* The whole text, NUL-terminated; NULL while a document opened by
         * ydoc_open_file() has it only on disk (ydoc_source() reads it). */
        char *src;
        size_t src_len;
        int fd;                  /* the open file behind a NULL src, else -1 */
        struct ynode *root;      /* NULL for an empty document */
        /* Every node, its strings and its arrays live in the document's
         * arena, freed at once: no allocation of its own per node. */
        struct yarena *arena;
        size_t n_nodes;
        size_t *line_start;      /* byte offset of each line */
        size_t n_lines;
        bool ascii;              /* no byte above 0x7F: a column is a byte */
        bool lf_only;            /* every line break is one LF: a line's text ends a byte before the next line */
};

/* Loads and parses a file.  Returns 0 and the document, or a negative errno
 * (-EIO style for read failures, -EINVAL for documents with errors) after
 * adding diagnostics.  On a YAML error the document is still returned (with
 * its source, so diagnostics can quote it) when ret_doc is given; its root
 * is kept when loading could go on past the problem (a duplicate key, an
 * unquoted `{{`), so the rest of the document can still be checked. */
int ydoc_load_file(const char *path, const struct ydoc_limits *lim,
                   struct ydoc **ret_doc, struct diag_list *diags);

/* The same, but a document that is ASCII text with LF line breaks (most
 * of them) is not kept in memory: it is read twice in pieces, once to
 * index its lines and once for libyaml, and read back whole only if
 * something needs its text (ydoc_source(); a diagnostic's position inside
 * a scalar).  Positions, diagnostics and limits are those of
 * ydoc_load_file(); the file stays open until ydoc_free(). */
int ydoc_open_file(const char *path, const struct ydoc_limits *lim,
                   struct ydoc **ret_doc, struct diag_list *diags);

/* The document's text (src_len bytes and a NUL), read back from its file
 * if it is not in memory.  Never NULL; if the file can no longer be read
 * in full, what is missing reads as spaces. */
const char *ydoc_source(const struct ydoc *doc);

/* The same for a buffer in memory; `name` is used in diagnostics. */
int ydoc_load_buffer(const char *name, const char *buf, size_t len,
                     const struct ydoc_limits *lim, struct ydoc **ret_doc,
                     struct diag_list *diags);

struct ydoc *ydoc_free(struct ydoc *doc);

/* Locates byte `offset` of a scalar's value in the source, so a diagnostic
 * can point inside a string (at a `{{`, say).  Falls back to the scalar's
 * start when the text cannot be matched. */
void ydoc_locate_in_scalar(const struct ydoc *doc, const struct ynode *scalar,
                           size_t offset, unsigned *ret_line, unsigned *ret_column);

/* A node's explicit tag ("tag:yaml.org,2002:str"), or NULL. */
static inline const char *yn_tag(const struct ynode *n)
{
        return n->has_tag ? (const char *)(n + 1) : NULL;
}

/* The end of a node, as line and column (1-based, just past its last
 * character). */
void ydoc_end_position(const struct ydoc *doc, const struct ynode *n, unsigned *ret_line, unsigned *ret_column);

/* Map lookup by key text; NULL if absent. */
const struct ypair *yn_pair(const struct ynode *map, const char *key);
const struct ynode *yn_get(const struct ynode *map, const char *key);

/* Scalar resolution, as YAML's core schema (and Go's YAML readers) do it for
 * plain scalars.  Quoted scalars are strings unless explicitly tagged. */
bool yn_is_null(const struct ynode *n);
bool yn_is_string(const struct ynode *n);   /* a scalar that resolves to a string */
bool yn_as_bool(const struct ynode *n, bool *ret);   /* plain true/false only */
bool yn_as_int(const struct ynode *n, long long *ret);
bool yn_as_number(const struct ynode *n, double *ret);
bool yn_is_quoted(const struct ynode *n);

/* "a mapping", "a list", "a string", "an integer", "a number", "a boolean",
 * "null": what the document wrote, for messages. */
const char *yn_describe(const struct ynode *n);
