/* yamldoc.c: libyaml events to a yamldoc node tree.  This is the only file
 * that includes <yaml.h>.  It owns the loading limits (size, depth, alias
 * expansion), duplicate-key detection, `<<` merge keys, and the mapping
 * from positions inside scalar values back to source lines and columns. */
#include "yamldoc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "cleanup.h"
#include "hindex.h"
#include "strbuf.h"
#include "textlines.h"

const struct ydoc_limits ydoc_default_limits = {
        .max_bytes = YDOC_DEFAULT_MAX_BYTES,
        .max_depth = YDOC_DEFAULT_MAX_DEPTH,
        .max_alias_nodes = YDOC_DEFAULT_MAX_ALIAS_NODES,
};

#define TAG_STR "tag:yaml.org,2002:str"
#define TAG_INT "tag:yaml.org,2002:int"
#define TAG_FLOAT "tag:yaml.org,2002:float"
#define TAG_BOOL "tag:yaml.org,2002:bool"
#define TAG_NULL "tag:yaml.org,2002:null"
#define TAG_MERGE "tag:yaml.org,2002:merge"

struct anchor {
        char *name;
        struct ynode *node;
        uint32_t weight;           /* nodes below it, aliases expanded (saturating) */
};

/* An open collection: its node, the nodes below it so far (aliases
 * expanded, saturating: the alias limit's count) and its anchor (an index
 * into the anchors + 1, or 0). */
struct frame {
        struct ynode *node;
        uint32_t weight;
        uint32_t anchor;
};

/* A short mapping key, stored once, and the last short value it had: an
 * equal value after the same key shares that text too (every step's
 * "action: ExecuteBash"). */
struct interned {
        char *text;
        char *value;               /* NULL until the key has had a short scalar value */
        size_t value_len;
};

struct builder {
        struct ydoc *doc;
        const struct ydoc_limits *lim;
        struct diag_list *diags;
        struct frame *stack;       /* open collections */
        unsigned depth;
        struct anchor *anchors;    /* one per name: a later anchor replaces the node */
        size_t n_anchors, cap_anchors;
        struct hindex anchor_index;
        size_t alias_nodes;        /* nodes reached through aliases so far */
        unsigned n_documents;
        /* The children of the open collections, in order (a mapping's keys
         * and values alternately), each collection's from kid_start[its
         * depth]: copied into the arena at its end, at their exact size. */
        struct ynode **kids;
        size_t n_kids, cap_kids;
        size_t kid_start[YDOC_DEFAULT_MAX_DEPTH + 2];
        /* Mapping keys are few and repeat (every step's "name", "action",
         * "inputs"): each short one is stored once and shared. */
        struct interned *keys;
        size_t n_keys, cap_keys;
        size_t last_key;           /* the keys[] of the last key read, if it was interned */
        struct hindex key_index;
        /* set_end()'s place: the last end mark and its byte offset. */
        unsigned end_line, end_column;
        size_t end_offset;
};

#define KEY_INTERN_MAX 32

/* ---- the arena ---------------------------------------------------------- */

struct yarena {
        struct yarena *next;
        size_t used, cap;
        max_align_t data[];
};

#define ARENA_CHUNK (64u * 1024u - 64u)

/* n bytes, aligned for any of the tree's types, owned by the document. */
static void *arena_alloc(struct ydoc *d, size_t n)
{
        n = (n + 7) & ~(size_t)7;
        struct yarena *a = d->arena;
        if (!a || a->cap - a->used < n) {
                size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
                a = xmalloc(sizeof *a + cap);
                a->used = 0;
                a->cap = cap;
                if (d->arena && cap > ARENA_CHUNK) {
                        /* A big block of its own: the current chunk stays in use. */
                        a->next = d->arena->next;
                        d->arena->next = a;
                } else {
                        a->next = d->arena;
                        d->arena = a;
                }
        }
        void *p = (char *)a->data + a->used;
        a->used += n;
        return p;
}

static char *arena_strndup(struct ydoc *d, const char *s, size_t len)
{
        char *p = arena_alloc(d, len + 1);
        memcpy(p, s, len);
        p[len] = 0;
        return p;
}

static size_t source_offset(const struct ydoc *d, unsigned line, unsigned column);
static size_t advance_columns(const struct ydoc *d, size_t i, unsigned n);
static void offset_to_position(const struct ydoc *d, size_t off, unsigned *line, unsigned *col);

static size_t sat_add(size_t a, size_t b)
{
        return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static uint32_t sat_add32(uint32_t a, uint32_t b)
{
        return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

_Static_assert(sizeof(struct ynode) == 24, "a node stays 24 bytes: the tree of a big document is mostly nodes");

static uint32_t clamp32(size_t v)
{
        return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* A new node, with its explicit tag (libyaml's text, or NULL) stored
 * right after it, where yn_tag() finds it. */
static struct ynode *new_node(struct builder *b, enum ynode_kind kind, const yaml_mark_t *start,
                              const yaml_char_t *tag)
{
        struct ydoc *d = b->doc;
        bool has_tag = tag && strcmp((const char *)tag, "!") != 0;
        size_t tag_len = has_tag ? strlen((const char *)tag) : 0;
        struct ynode *n = arena_alloc(d, sizeof *n + (has_tag ? tag_len + 1 : 0));
        *n = (struct ynode){ 0 };
        n->kind = kind;
        n->style = YS_NONE;
        n->line = clamp32((size_t)start->line + 1);
        n->column = start->column + 1 < (1u << 24) ? (unsigned)start->column + 1 : (1u << 24) - 1;
        if (has_tag) {
                n->has_tag = true;
                memcpy(n + 1, tag, tag_len + 1);
        }
        d->n_nodes++;
        return n;
}

/* The byte offset of libyaml's mark (line and column count characters).
 * End marks come in document order, so the count goes on from the last
 * one on the same line: every line is walked once, not once a node. */
static void set_end(struct builder *b, struct ynode *n, const yaml_mark_t *end)
{
        unsigned line = (unsigned)end->line + 1, column = (unsigned)end->column + 1;
        if (b->doc->ascii) {
                n->end = clamp32(source_offset(b->doc, line, column));
                return;
        }
        if (line != b->end_line || column < b->end_column || !b->end_line) {
                b->end_line = line;
                b->end_column = 1;
                b->end_offset = source_offset(b->doc, line, 1);
        }
        if (line <= b->doc->n_lines)
                b->end_offset = advance_columns(b->doc, b->end_offset, column - b->end_column);
        b->end_column = column;
        n->end = clamp32(b->end_offset);
}

static void error_at(struct builder *b, const char *code, unsigned line, unsigned column,
                     const char *help, const char *msg)
{
        diag_add(b->diags, DIAG_ERROR, code, b->doc->path, line, column, 1, help, "%s", msg);
}

static struct anchor *anchor_named(struct builder *b, const char *name)
{
        size_t pos = 0, i;
        while (hindex_next(&b->anchor_index, hindex_hash_str(HINDEX_SEED, name), &pos, &i))
                if (strcmp(b->anchors[i].name, name) == 0)
                        return &b->anchors[i];
        return NULL;
}

/* Names node `n` (of weight 1 until its collection ends); returns the
 * anchor's index + 1, or 0 when there is no name. */
static uint32_t register_anchor(struct builder *b, const yaml_char_t *name, struct ynode *n)
{
        if (!name)
                return 0;
        /* A later anchor of the same name shadows the earlier one. */
        struct anchor *a = anchor_named(b, (const char *)name);
        if (a) {
                a->node = n;
                a->weight = 1;
                return (uint32_t)(a - b->anchors) + 1;
        }
        if (b->n_anchors == b->cap_anchors) {
                b->cap_anchors = b->cap_anchors ? b->cap_anchors * 2 : 8;
                b->anchors = xrealloc(b->anchors, b->cap_anchors * sizeof *b->anchors);
        }
        hindex_add(&b->anchor_index, hindex_hash_str(HINDEX_SEED, (const char *)name), b->n_anchors);
        b->anchors[b->n_anchors++] = (struct anchor){ xstrdup((const char *)name), n, 1 };
        return (uint32_t)b->n_anchors;
}

/* The text of a scalar: shared with an equal key before it when it is a
 * short mapping key, or with the last value of the same key when it is
 * an equal short value; else its own copy. */
static char *scalar_text(struct builder *b, const char *s, size_t len)
{
        const struct ynode *top = b->depth ? b->stack[b->depth - 1].node : NULL;
        bool in_map = top && top->kind == YN_MAP;
        bool key = in_map && (b->n_kids - b->kid_start[b->depth - 1]) % 2 == 0;
        if (!key && in_map && len <= KEY_INTERN_MAX && b->last_key < b->n_keys &&
            b->kids[b->n_kids - 1]->kind == YN_SCALAR && b->kids[b->n_kids - 1]->str == b->keys[b->last_key].text) {
                /* The value of the interned key just read. */
                struct interned *k = &b->keys[b->last_key];
                if (!k->value || k->value_len != len || memcmp(k->value, s, len) != 0) {
                        k->value = arena_strndup(b->doc, s, len);
                        k->value_len = len;
                }
                return k->value;
        }
        if (key)
                b->last_key = SIZE_MAX;
        if (!key || len > KEY_INTERN_MAX)
                return arena_strndup(b->doc, s, len);
        char tmp[KEY_INTERN_MAX + 1];
        memcpy(tmp, s, len);
        tmp[len] = 0;
        uint64_t h = hindex_hash_str(HINDEX_SEED, tmp);
        size_t pos = 0, i;
        while (hindex_next(&b->key_index, h, &pos, &i))
                if (!memcmp(b->keys[i].text, s, len + 1)) {
                        b->last_key = i;
                        return b->keys[i].text;
                }
        char *copy = arena_strndup(b->doc, s, len);
        if (b->n_keys == b->cap_keys) {
                b->cap_keys = b->cap_keys ? b->cap_keys * 2 : 32;
                b->keys = xrealloc(b->keys, b->cap_keys * sizeof *b->keys);
        }
        hindex_add(&b->key_index, h, b->n_keys);
        b->last_key = b->n_keys;
        b->keys[b->n_keys++] = (struct interned){ .text = copy };
        return copy;
}

static void kid_push(struct builder *b, struct ynode *n)
{
        if (b->n_kids == b->cap_kids) {
                b->cap_kids = b->cap_kids ? b->cap_kids * 2 : 64;
                b->kids = xrealloc(b->kids, b->cap_kids * sizeof *b->kids);
        }
        b->kids[b->n_kids++] = n;
}

/* Moves the children of the collection closing at b->depth into it. */
static void take_kids(struct builder *b, struct ynode *n)
{
        size_t from = b->kid_start[b->depth], k = b->n_kids - from;
        struct ynode **kids = b->kids + from;
        if (n->kind == YN_SEQ) {
                n->n = k;
                n->items = k ? arena_alloc(b->doc, k * sizeof *n->items) : NULL;
                if (k)
                        memcpy(n->items, kids, k * sizeof *n->items);
        } else {
                /* libyaml gives every key a value (an empty scalar if none). */
                n->n = k / 2;
                n->pairs = n->n ? arena_alloc(b->doc, n->n * sizeof *n->pairs) : NULL;
                for (size_t i = 0; i < n->n; i++)
                        n->pairs[i] = (struct ypair){ kids[2 * i], kids[2 * i + 1] };
        }
        b->n_kids = from;
}

static bool is_merge_key(const struct ynode *k)
{
        if (k->kind != YN_SCALAR)
                return false;
        if (k->has_tag)
                return strcmp(yn_tag(k), TAG_MERGE) == 0;
        return k->style == YS_PLAIN && strcmp(k->str, "<<") == 0;
}

/* Attaches a finished node, `weight` nodes with what is below it, to the
 * open collection on top of the stack. */
static bool attach(struct builder *b, struct ynode *n, uint32_t weight)
{
        if (b->depth == 0) {
                b->doc->root = n;
                return true;
        }
        struct frame *top = &b->stack[b->depth - 1];
        top->weight = sat_add32(top->weight, weight);
        kid_push(b, n);
        return true;
}

static int cmp_pair_key(const void *a, const void *b)
{
        const struct ypair *x = *(const struct ypair *const *)a, *y = *(const struct ypair *const *)b;
        int r = strcmp(x->key->str, y->key->str);
        if (r)
                return r;
        /* Keep source order among equal keys. */
        return x < y ? -1 : x > y;
}

/* Expands `<<` merge keys and rejects duplicate keys and non-scalar keys.
 * Returns false only when loading cannot go on; a duplicate key is
 * reported and loading continues, so later problems are found too. */
static bool finish_map(struct builder *b, struct ynode *map)
{
        /* Non-scalar keys: a `{{ x }}` at the start of a plain value is read by
         * YAML as a flow mapping, which is the usual way to get one. */
        for (size_t i = 0; i < map->n; i++) {
                struct ynode *k = map->pairs[i].key;
                if (k->kind == YN_SCALAR)
                        continue;
                if (k->kind == YN_MAP && k->flow && map->flow && map->n == 1 && yn_is_null(map->pairs[0].value) &&
                    k->n == 1 && yn_is_null(k->pairs[0].value)) {
                        error_at(b, "yaml-unquoted-template", map->line, map->column,
                                 "quote the whole value: '{{ name }}' or \"{{ name }}\"",
                                 "a value that starts with '{{' must be quoted; "
                                 "unquoted, YAML reads it as a nested mapping");
                        /* Go on as if it had been quoted, so the rest of the
                         * document is still checked. */
                        size_t from = source_offset(b->doc, map->line, map->column);
                        size_t to = map->end;
                        if (to < from || to > b->doc->src_len)
                                to = from;
                        map->kind = YN_SCALAR;
                        map->style = YS_PLAIN;
                        map->flow = false;
                        map->str = arena_strndup(b->doc, ydoc_source(b->doc) + from, to - from);
                        map->len = clamp32(to - from);
                        return true;
                }
                error_at(b, "wrong-type", k->line, k->column, NULL,
                         "expected a scalar mapping key, found a collection");
                return false;
        }
        /* Merge keys: copy pairs of the merged mapping(s) that are not
         * already present; explicit keys win. */
        size_t n_merge = 0;
        for (size_t i = 0; i < map->n; i++)
                n_merge += is_merge_key(map->pairs[i].key);
        if (n_merge) {
                /* Built in a buffer of the largest size it can have, then
                 * copied into the arena at its size. */
                struct ypair *old = map->pairs;
                size_t n_old = map->n, cap = n_old;
                for (size_t i = 0; i < n_old; i++) {
                        const struct ynode *v = old[i].value;
                        if (!is_merge_key(old[i].key))
                                continue;
                        if (v->kind == YN_SEQ)
                                for (size_t s = 0; s < v->n; s++)
                                        cap += v->items[s]->kind == YN_MAP ? v->items[s]->n : 0;
                        else if (v->kind == YN_MAP)
                                cap += v->n;
                }
                struct ypair *tmp = xmalloc((cap ? cap : 1) * sizeof *tmp);
                map->pairs = tmp;
                map->n = 0;
                for (size_t i = 0; i < n_old; i++)
                        if (!is_merge_key(old[i].key))
                                tmp[map->n++] = old[i];
                for (size_t i = 0; i < n_old; i++) {
                        if (!is_merge_key(old[i].key))
                                continue;
                        struct ynode *v = old[i].value;
                        struct ynode *single[1] = { v };
                        struct ynode **srcs = v->kind == YN_SEQ ? v->items : single;
                        size_t n_srcs = v->kind == YN_SEQ ? v->n : 1;
                        for (size_t s = 0; s < n_srcs; s++) {
                                if (srcs[s]->kind != YN_MAP) {
                                        error_at(b, "wrong-type", srcs[s]->line, srcs[s]->column, NULL,
                                                 "a '<<' merge key needs a mapping or a list of mappings");
                                        map->pairs = old;
                                        map->n = n_old;
                                        free(tmp);
                                        return false;
                                }
                                for (size_t j = 0; j < srcs[s]->n; j++)
                                        if (!yn_pair(map, srcs[s]->pairs[j].key->str))
                                                tmp[map->n++] = srcs[s]->pairs[j];
                        }
                }
                map->pairs = map->n ? arena_alloc(b->doc, map->n * sizeof *map->pairs) : NULL;
                if (map->n)
                        memcpy(map->pairs, tmp, map->n * sizeof *map->pairs);
                free(tmp);
        }
        if (map->n < 2)
                return true;
        /* Duplicate keys: sort pointers by key, then compare neighbours. */
        struct ypair **sorted = xmalloc(map->n * sizeof *sorted);
        for (size_t i = 0; i < map->n; i++)
                sorted[i] = &map->pairs[i];
        qsort(sorted, map->n, sizeof *sorted, cmp_pair_key);
        size_t run = 0; /* first of the current run of equal keys */
        for (size_t i = 1; i < map->n; i++) {
                if (strcmp(sorted[run]->key->str, sorted[i]->key->str) != 0) {
                        run = i;
                        continue;
                }
                const struct ynode *first = sorted[run]->key, *dup = sorted[i]->key;
                diag_add(b->diags, DIAG_ERROR, "yaml-duplicate-key", b->doc->path, dup->line,
                         dup->column, (unsigned)dup->len, NULL,
                         "duplicate key '%s' in this mapping (first defined at line %u, column %u)",
                         dup->str, first->line, first->column);
        }
        free(sorted);
        return true;
}

static enum yscalar_style style_of(yaml_scalar_style_t s)
{
        switch (s) {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE:
                return YS_SINGLE_QUOTED;
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
                return YS_DOUBLE_QUOTED;
        case YAML_LITERAL_SCALAR_STYLE:
                return YS_LITERAL;
        case YAML_FOLDED_SCALAR_STYLE:
                return YS_FOLDED;
        default:
                return YS_PLAIN;
        }
}

/* Handles one event; returns false to stop (a diagnostic was added). */
static bool on_event(struct builder *b, yaml_event_t *e)
{
        struct ynode *n;
        uint32_t anchor;
        switch (e->type) {
        case YAML_STREAM_START_EVENT:
        case YAML_STREAM_END_EVENT:
        case YAML_NO_EVENT:
                return true;
        case YAML_DOCUMENT_START_EVENT:
                if (++b->n_documents > 1) {
                        error_at(b, "yaml-multi-document", (unsigned)e->start_mark.line + 1,
                                 (unsigned)e->start_mark.column + 1,
                                 "put each component in its own file",
                                 "expected one YAML document, found a second one ('---')");
                        return false;
                }
                return true;
        case YAML_DOCUMENT_END_EVENT:
                return true;
        case YAML_SCALAR_EVENT:
                n = new_node(b, YN_SCALAR, &e->start_mark, e->data.scalar.tag);
                set_end(b, n, &e->end_mark);
                n->style = style_of(e->data.scalar.style);
                n->str = scalar_text(b, (const char *)e->data.scalar.value, e->data.scalar.length);
                n->len = clamp32(e->data.scalar.length);
                register_anchor(b, e->data.scalar.anchor, n);
                return attach(b, n, 1);
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
                if (b->depth >= b->lim->max_depth) {
                        char msg[128];
                        snprintf(msg, sizeof msg,
                                 "nesting is deeper than %u levels of lists and mappings",
                                 b->lim->max_depth);
                        error_at(b, "yaml-too-deep", (unsigned)e->start_mark.line + 1,
                                 (unsigned)e->start_mark.column + 1, NULL, msg);
                        return false;
                }
                if (e->type == YAML_SEQUENCE_START_EVENT) {
                        n = new_node(b, YN_SEQ, &e->start_mark, e->data.sequence_start.tag);
                        n->flow = e->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
                        anchor = register_anchor(b, e->data.sequence_start.anchor, n);
                } else {
                        n = new_node(b, YN_MAP, &e->start_mark, e->data.mapping_start.tag);
                        n->flow = e->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
                        anchor = register_anchor(b, e->data.mapping_start.anchor, n);
                }
                n->open = true;
                b->kid_start[b->depth] = b->n_kids;
                b->stack[b->depth++] = (struct frame){ n, 1, anchor };
                return true;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
                struct frame f = b->stack[--b->depth];
                n = f.node;
                n->open = false;
                set_end(b, n, &e->end_mark);
                take_kids(b, n);
                if (n->kind == YN_MAP && !finish_map(b, n))
                        return false;
                /* (A mapping read back as the quoted text it should have been
                 * is one scalar.) */
                uint32_t weight = n->kind == YN_SCALAR ? 1 : f.weight;
                if (f.anchor && b->anchors[f.anchor - 1].node == n)
                        b->anchors[f.anchor - 1].weight = weight;
                return attach(b, n, weight);
        }
        case YAML_ALIAS_EVENT: {
                const char *name = (const char *)e->data.alias.anchor;
                unsigned line = (unsigned)e->start_mark.line + 1, col = (unsigned)e->start_mark.column + 1;
                const struct anchor *a = anchor_named(b, name);
                n = a ? a->node : NULL;
                if (!n) {
                        char msg[160];
                        snprintf(msg, sizeof msg, "alias '*%.100s' names no anchor defined before it", name);
                        error_at(b, "yaml-syntax", line, col, NULL, msg);
                        return false;
                }
                if (n->open) {
                        error_at(b, "yaml-alias-limit", line, col, NULL,
                                 "an alias refers to a collection that contains it (a recursive structure)");
                        return false;
                }
                b->alias_nodes = sat_add(b->alias_nodes, a->weight);
                if (b->alias_nodes > b->lim->max_alias_nodes) {
                        char msg[160];
                        snprintf(msg, sizeof msg,
                                 "aliases expand to more than %zu nodes; refusing a document "
                                 "that grows this much when expanded",
                                 b->lim->max_alias_nodes);
                        error_at(b, "yaml-alias-limit", line, col, NULL, msg);
                        return false;
                }
                return attach(b, n, a->weight);
        }
        }
        return true;
}

static void index_lines(struct ydoc *d)
{
        /* One pass; the array grows as lines are found. */
        size_t cap = 64 + d->src_len / 32;
        const char *p = d->src, *end = d->src + d->src_len;
        d->line_start = xmalloc(cap * sizeof *d->line_start);
        d->n_lines = 0;
        d->line_start[d->n_lines++] = 0;
        unsigned char seen = 0; /* every byte ORed: is the document ASCII? */
        while (p < end) {
                seen |= (unsigned char)*p;
                if (!text_may_break((unsigned char)*p)) {
                        p++;
                        continue;
                }
                size_t k = text_line_break(p, end);
                if (!k) {
                        p++;
                        continue;
                }
                p += k;
                if (d->n_lines == cap) {
                        cap *= 2;
                        d->line_start = xrealloc(d->line_start, cap * sizeof *d->line_start);
                }
                d->line_start[d->n_lines++] = (size_t)(p - d->src);
        }
        d->ascii = !(seen & 0x80);
        /* The guess above is generous (a line every 32 bytes): give back
         * what the document did not use. */
        if (d->n_lines < cap)
                d->line_start = xrealloc(d->line_start, d->n_lines * sizeof *d->line_start);
}

/* A reader error (bytes that are not UTF-8, a control character) comes
 * with a byte offset and no mark.  It is reported at the character it is
 * about, found from the offset: the column counted in characters, as
 * libyaml counts its marks (everything before the offset is valid UTF-8,
 * or libyaml would have stopped earlier). */
static void reader_error(const struct ydoc *d, const yaml_parser_t *parser, struct diag_list *diags)
{
        const unsigned char *u = (const unsigned char *)ydoc_source(d);
        size_t off = parser->problem_offset < d->src_len ? parser->problem_offset : d->src_len;
        const char *problem = parser->problem ? parser->problem : "";
        unsigned at = off < d->src_len ? u[off] : 0;
        char msg[160], help[96];
        snprintf(help, sizeof help, "save the document as UTF-8 (iconv -f LATIN1 -t UTF-8 converts Latin-1 text)");
        /* libyaml points at the byte that does not continue a sequence;
         * the character it breaks starts at the lead byte before it. */
        size_t lead = off;
        if (strstr(problem, "trailing"))
                while (lead > 0 && off - lead < 4 && (lead == off || (u[lead] & 0xC0) == 0x80))
                        lead--;
        unsigned first = lead < d->src_len ? u[lead] : 0;
        unsigned width = (first & 0xE0) == 0xC0 ? 2 : (first & 0xF0) == 0xE0 ? 3 : (first & 0xF8) == 0xF0 ? 4 : 1;
        /* A sequence cut short: by a byte that does not continue it (libyaml
         * calls that "incomplete" too when it is near the end), or by the end. */
        size_t cut = lead + 1;
        while (cut < d->src_len && cut < lead + width && (u[cut] & 0xC0) == 0x80)
                cut++;
        bool short_seq = strstr(problem, "trailing") || strstr(problem, "incomplete");
        if (strstr(problem, "invalid leading UTF-8 octet"))
                snprintf(msg, sizeof msg, "the document is not UTF-8: byte 0x%02X cannot start a character", at);
        else if (short_seq && cut < d->src_len)
                snprintf(msg, sizeof msg,
                         "the document is not UTF-8: byte 0x%02X starts a %u-byte character, "
                         "but byte 0x%02X does not continue it", first, width, u[cut]);
        else if (short_seq)
                snprintf(msg, sizeof msg,
                         "the document is not UTF-8: it ends inside the %u-byte character that byte 0x%02X starts",
                         width, first);
        else if (strstr(problem, "invalid length of a UTF-8 sequence"))
                snprintf(msg, sizeof msg,
                         "the document is not UTF-8: the %u bytes from 0x%02X are an overlong encoding "
                         "(a character written with more bytes than it needs)", width, first);
        else if (strstr(problem, "invalid Unicode character") && parser->problem_value >= 0)
                snprintf(msg, sizeof msg, "the document is not UTF-8: it encodes U+%04X, which is not a Unicode character",
                         (unsigned)parser->problem_value);
        else if (strstr(problem, "control characters") && parser->problem_value >= 0) {
                unsigned cp = (unsigned)parser->problem_value;
                snprintf(msg, sizeof msg, "%scharacter U+%04X is not allowed in a YAML document",
                         cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) ? "control " : "", cp);
                /* The escape a double-quoted scalar can say it with. */
                snprintf(help, sizeof help, "write it as the escape \"\\%s%0*X\" in a double-quoted string",
                         cp <= 0xFF ? "x" : "u", cp <= 0xFF ? 2 : 4, cp);
        } else
                snprintf(msg, sizeof msg, "YAML syntax: %s", *problem ? problem : "the text cannot be read");
        unsigned line, col;
        offset_to_position(d, lead, &line, &col);
        diag_add(diags, DIAG_ERROR, "yaml-syntax", d->path, line, col, 1, help, "%s", msg);
}

/* libyaml's input when the text is on disk (ydoc_open_file()): the file
 * from its start, never past the length its lines were indexed at. */
struct file_input {
        int fd;
        size_t pos, len;
};

/* Up to n bytes of the file from offset `off`: fewer only at its end.
 * Returns how many, or -1 on a read error. */
static ssize_t read_at(int fd, void *buf, size_t n, size_t off)
{
        size_t got = 0;
        while (got < n) {
                ssize_t k = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -1;
                if (k == 0)
                        break;
                got += (size_t)k;
        }
        return (ssize_t)got;
}

static int read_piece(void *data, unsigned char *buf, size_t size, size_t *ret_read)
{
        struct file_input *in = data;
        ssize_t k = read_at(in->fd, buf, in->len - in->pos < size ? in->len - in->pos : size, in->pos);
        if (k < 0)
                return 0;
        in->pos += (size_t)k;
        *ret_read = (size_t)k;
        return 1;
}

static int parse(struct ydoc *d, const struct ydoc_limits *lim, struct diag_list *diags)
{
        yaml_parser_t parser;
        yaml_event_t event;
        size_t errors_before = diags->n_errors;
        /* Depth is capped at the default: the builder's arrays are sized for it. */
        struct ydoc_limits capped = *lim;
        if (capped.max_depth > YDOC_DEFAULT_MAX_DEPTH)
                capped.max_depth = YDOC_DEFAULT_MAX_DEPTH;
        lim = &capped;
        struct builder b = {
                .doc = d,
                .lim = lim,
                .diags = diags,
                .stack = xcalloc(lim->max_depth + 1, sizeof(struct frame)),
        };
        bool ok = true;


        if (!yaml_parser_initialize(&parser)) {
                free(b.stack);
                return -ENOMEM;
        }
        struct file_input in = { .fd = d->fd, .len = d->src_len };
        if (d->src)
                yaml_parser_set_input_string(&parser, (const unsigned char *)d->src, d->src_len);
        else
                yaml_parser_set_input(&parser, read_piece, &in);
        for (;;) {
                if (!yaml_parser_parse(&parser, &event)) {
                        unsigned line = (unsigned)parser.problem_mark.line + 1;
                        unsigned col = (unsigned)parser.problem_mark.column + 1;
                        if (parser.error == YAML_READER_ERROR)
                                reader_error(d, &parser, diags);
                        else if (parser.context)
                                diag_add(diags, DIAG_ERROR, "yaml-syntax", d->path, line, col, 1, NULL,
                                         "YAML syntax: %s %s (the construct started at line %zu, column %zu)",
                                         parser.problem ? parser.problem : "error", parser.context,
                                         parser.context_mark.line + 1, parser.context_mark.column + 1);
                        else
                                diag_add(diags, DIAG_ERROR, "yaml-syntax", d->path, line, col, 1, NULL,
                                         "YAML syntax: %s", parser.problem ? parser.problem : "error");
                        ok = false;
                        break;
                }
                bool more = event.type != YAML_STREAM_END_EVENT;
                if (!on_event(&b, &event))
                        ok = false;
                yaml_event_delete(&event);
                if (!ok || !more)
                        break;
        }
        yaml_parser_delete(&parser);
        for (size_t i = 0; i < b.n_anchors; i++)
                free(b.anchors[i].name);
        free(b.anchors);
        hindex_free(&b.anchor_index);
        hindex_free(&b.key_index);
        free(b.keys);
        free(b.kids);
        free(b.stack);
        if (!ok) {
                d->root = NULL;
                return -EINVAL;
        }
        return diags->n_errors > errors_before ? -EINVAL : 0;
}

static struct ydoc *new_doc(const char *name)
{
        struct ydoc *d = xcalloc(1, sizeof *d);
        d->path = xstrdup(name);
        d->fd = -1;
        return d;
}

/* A document over the size limit, reported with its real size: `size` is
 * exact, or, when `at_least` is set, a lower bound (a file that grew while
 * it was read). */
static int too_large(struct ydoc *d, const struct ydoc_limits *lim, uintmax_t size, bool at_least,
                     struct diag_list *diags)
{
        diag_add(diags, DIAG_ERROR, "yaml-too-large", d->path, 0, 0, 1, NULL,
                 "document is %s%ju bytes; the limit is %zu bytes", at_least ? "more than " : "", size,
                 lim->max_bytes);
        return -EFBIG;
}

static int load(struct ydoc *d, const struct ydoc_limits *lim, struct diag_list *diags)
{
        index_lines(d);
        if (d->src_len > lim->max_bytes)
                return too_large(d, lim, d->src_len, false, diags);
        const char *nul = memchr(d->src, 0, d->src_len);
        if (nul) {
                unsigned line, col;
                offset_to_position(d, (size_t)(nul - d->src), &line, &col);
                diag_add(diags, DIAG_ERROR, "yaml-syntax", d->path, line, col, 1,
                         "NUL bytes are usual in UTF-16 text: save the document as UTF-8",
                         "document contains a NUL byte; expected UTF-8 text");
                return -EINVAL;
        }
        return parse(d, lim, diags);
}

int ydoc_load_buffer(const char *name, const char *buf, size_t len, const struct ydoc_limits *lim,
                     struct ydoc **ret_doc, struct diag_list *diags)
{
        struct ydoc *d = new_doc(name);
        d->src = xstrndup(buf, len);
        d->src_len = len;
        int r = load(d, lim ? lim : &ydoc_default_limits, diags);
        if (ret_doc)
                *ret_doc = d;
        else
                ydoc_free(d);
        return r;
}

/* The first pass of ydoc_open_file(): the line index of a file that is
 * ASCII text with LF line breaks and no NUL, read in pieces from its
 * start.  False, with nothing kept, for any other file, one that cannot
 * be read, or one that has grown past `max_bytes`: those are read whole. */
static bool index_file(struct ydoc *d, int fd, size_t size_hint, size_t max_bytes)
{
        enum { PIECE = 64 * 1024 };
        _cleanup_free_ unsigned char *buf = xmalloc(PIECE);
        size_t cap = 64 + size_hint / 32, n = 0, off = 0;
        size_t *starts = xmalloc(cap * sizeof *starts);
        starts[n++] = 0;
        for (;;) {
                ssize_t k = read_at(fd, buf, PIECE, off);
                if (k < 0)
                        goto no;
                if (k == 0)
                        break;
                for (size_t j = 0; j < (size_t)k; j++) {
                        unsigned char c = buf[j];
                        if (c - 0x0Eu < 0x72u)
                                continue; /* 0x0E to 0x7F: most of the text */
                        if (c == '\r' || c == 0 || c >= 0x80)
                                goto no;
                        if (c != '\n')
                                continue;
                        if (n == cap) {
                                cap *= 2;
                                starts = xrealloc(starts, cap * sizeof *starts);
                        }
                        starts[n++] = off + j + 1;
                }
                off += (size_t)k;
                if (off > max_bytes)
                        goto no;
        }
        d->line_start = n < cap ? xrealloc(starts, n * sizeof *starts) : starts;
        d->n_lines = n;
        d->src_len = off;
        d->ascii = d->lf_only = true;
        return true;
no:
        free(starts);
        return false;
}

static int load_path(const char *path, const struct ydoc_limits *lim, bool on_disk, struct ydoc **ret_doc,
                     struct diag_list *diags)
{
        if (!lim)
                lim = &ydoc_default_limits;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                int e = errno;
                diag_add(diags, DIAG_ERROR, "file", path, 0, 0, 1, NULL, "cannot read the document: %s",
                         strerror(e));
                return -e;
        }
        if (!S_ISREG(st.st_mode)) {
                diag_add(diags, DIAG_ERROR, "file", path, 0, 0, 1, NULL,
                         "cannot read the document: not a regular file");
                return -EISDIR;
        }
        struct ydoc *d = new_doc(path);
        /* Too big by its size: say how big, without reading any of it. */
        if ((uintmax_t)st.st_size > lim->max_bytes) {
                d->src = xstrdup("");
                index_lines(d);
                int r = too_large(d, lim, (uintmax_t)st.st_size, false, diags);
                if (ret_doc)
                        *ret_doc = d;
                else
                        ydoc_free(d);
                return r;
        }
        if (on_disk && index_file(d, fd, (size_t)st.st_size, lim->max_bytes)) {
                d->fd = fd;
                fd = -1;
                int r = parse(d, lim, diags);
                if (ret_doc)
                        *ret_doc = d;
                else
                        ydoc_free(d);
                return r;
        }
        /* Read at most one byte past the limit: enough to know that a file
         * that grew while being read is too big. */
        size_t cap = (size_t)st.st_size + 1;
        d->src = xmalloc(cap + 1);
        size_t len = 0;
        for (;;) {
                if (len == cap) {
                        if (cap > lim->max_bytes)
                                break;
                        cap = cap * 2 > lim->max_bytes + 1 ? lim->max_bytes + 1 : cap * 2;
                        d->src = xrealloc(d->src, cap + 1);
                }
                ssize_t k = read(fd, d->src + len, cap - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        int e = errno;
                        diag_add(diags, DIAG_ERROR, "file", path, 0, 0, 1, NULL,
                                 "cannot read the document: %s", strerror(e));
                        ydoc_free(d);
                        return -e;
                }
                if (k == 0)
                        break;
                len += (size_t)k;
        }
        d->src[len] = 0;
        d->src_len = len;
        int r;
        if (len > lim->max_bytes) {
                /* It grew past the limit after fstat: its size now, if the
                 * file says, else what was read, as a lower bound. */
                uintmax_t now = fstat(fd, &st) == 0 ? (uintmax_t)st.st_size : 0;
                index_lines(d);
                r = now >= len ? too_large(d, lim, now, false, diags) : too_large(d, lim, lim->max_bytes, true, diags);
        } else {
                r = load(d, lim, diags);
        }
        if (ret_doc)
                *ret_doc = d;
        else
                ydoc_free(d);
        return r;
}

int ydoc_load_file(const char *path, const struct ydoc_limits *lim, struct ydoc **ret_doc,
                   struct diag_list *diags)
{
        return load_path(path, lim, false, ret_doc, diags);
}

int ydoc_open_file(const char *path, const struct ydoc_limits *lim, struct ydoc **ret_doc,
                   struct diag_list *diags)
{
        return load_path(path, lim, true, ret_doc, diags);
}

const char *ydoc_source(const struct ydoc *doc)
{
        if (doc->src)
                return doc->src;
        /* The text is a cache of the file: filling it in leaves the
         * document as it was, so a const one may have it filled. */
        struct ydoc *d = (struct ydoc *)doc;
        char *s = xmalloc(d->src_len + 1);
        ssize_t k = read_at(d->fd, s, d->src_len, 0);
        size_t got = k > 0 ? (size_t)k : 0;
        memset(s + got, ' ', d->src_len - got);
        s[d->src_len] = 0;
        d->src = s;
        return s;
}

struct ydoc *ydoc_free(struct ydoc *d)
{
        if (!d)
                return NULL;
        for (struct yarena *a = d->arena, *next; a; a = next) {
                next = a->next;
                free(a);
        }
        free(d->line_start);
        free(d->src);
        if (d->fd >= 0)
                close(d->fd);
        free(d->path);
        free(d);
        return NULL;
}

/* Where the characters of line `lo` (0-based) start: libyaml does not
 * count a byte order mark at the start of the document as a column. */
static size_t first_column_byte(const struct ydoc *d, size_t lo)
{
        size_t i = d->line_start[lo];
        if (lo == 0 && !d->ascii && d->src_len >= 3 && !memcmp(d->src, "\xEF\xBB\xBF", 3))
                i = 3;
        return i;
}

/* From byte i of a line, `n` characters on (stopping at the line's end). */
static size_t advance_columns(const struct ydoc *d, size_t i, unsigned n)
{
        const unsigned char *u = (const unsigned char *)d->src;
        for (unsigned c = 0; c < n && i < d->src_len; c++) {
                unsigned char ch = u[i];
                if (ch - 0x20u < 0x60u) {
                        /* Printable ASCII, most of any document: one byte. */
                        i++;
                        continue;
                }
                if (text_may_break(ch) && text_line_break(d->src + i, d->src + d->src_len))
                        break;
                i++;
                if (ch < 0x80)
                        continue;
                while (i < d->src_len && ((unsigned char)d->src[i] & 0xC0) == 0x80)
                        i++;
        }
        return i;
}

/* Byte offset in the source of a 1-based (line, character column).  In
 * an ASCII document a character is a byte: no walk along the line. */
static size_t source_offset(const struct ydoc *d, unsigned line, unsigned column)
{
        if (line == 0 || line > d->n_lines)
                return d->src_len;
        size_t i = first_column_byte(d, line - 1), k = column ? column - 1 : 0;
        if (!d->ascii)
                return advance_columns(d, i, (unsigned)k);
        size_t end = line < d->n_lines ? d->line_start[line] : d->src_len;
        if (d->lf_only) {
                /* Its text ends at the LF before the next line (none ends the last one). */
                end -= line < d->n_lines;
        } else {
                if (end > i && d->src[end - 1] == '\n')
                        end--;
                if (end > i && d->src[end - 1] == '\r')
                        end--;
        }
        return k < end - i ? i + k : end;
}

static void offset_to_position(const struct ydoc *d, size_t off, unsigned *line, unsigned *col)
{
        size_t lo = 0, hi = d->n_lines;
        while (hi - lo > 1) {
                size_t mid = (lo + hi) / 2;
                if (d->line_start[mid] <= off)
                        lo = mid;
                else
                        hi = mid;
        }
        *line = (unsigned)lo + 1;
        unsigned c = 1;
        size_t i = first_column_byte(d, lo);
        if (d->ascii)
                c += off > i ? (unsigned)(off - i) : 0; /* a byte a character: no need of the text */
        else
                for (; i < off; i++)
                        if (((unsigned char)d->src[i] & 0xC0) != 0x80)
                                c++;
        *col = c;
}

void ydoc_end_position(const struct ydoc *d, const struct ynode *n, unsigned *ret_line, unsigned *ret_column)
{
        offset_to_position(d, n->end <= d->src_len ? n->end : d->src_len, ret_line, ret_column);
}

static const char *find_bytes(const char *hay, size_t n, const char *needle, size_t k)
{
        for (size_t i = 0; i + k <= n; i++)
                if (memcmp(hay + i, needle, k) == 0)
                        return hay + i;
        return NULL;
}

void ydoc_locate_in_scalar(const struct ydoc *d, const struct ynode *s, size_t offset,
                           unsigned *ret_line, unsigned *ret_column)
{
        *ret_line = s->line;
        *ret_column = s->column;
        if (s->kind != YN_SCALAR || offset > s->len)
                return;
        /* A value and its source differ by quoting, escapes, folding and
         * indentation, but a "{{" survives all of them.  Count which "{{"
         * of the value the offset is at, and find the same one in the source
         * text of the scalar.  Other offsets are matched by the text that
         * follows them, up to 8 bytes. */
        size_t start = source_offset(d, s->line, s->column);
        const char *src = ydoc_source(d);
        size_t end = s->end ? s->end : d->src_len;
        if (end > d->src_len || end < start)
                end = d->src_len;
        const char *needle = s->str + offset;
        size_t k = s->len - offset < 8 ? s->len - offset : 8;
        const char *nl = memchr(needle, '\n', k);
        if (nl)
                k = (size_t)(nl - needle);
        if (k == 0)
                return;
        /* At a reference, match just its "{{": what follows it may be
         * written differently in the source (folding, escapes). */
        if (k >= 2 && needle[0] == '{' && needle[1] == '{')
                k = 2;
        unsigned nth = 0;
        for (const char *p = s->str; (p = find_bytes(p, (size_t)(s->str + offset - p), needle, k)); p++)
                nth++;
        const char *q = src + start;
        for (unsigned i = 0; i <= nth; i++) {
                const char *hit = find_bytes(q, (size_t)(src + end - q), needle, k);
                if (!hit)
                        return;
                if (i == nth) {
                        offset_to_position(d, (size_t)(hit - src), ret_line, ret_column);
                        return;
                }
                q = hit + 1;
        }
}

const struct ypair *yn_pair(const struct ynode *map, const char *key)
{
        if (!map || map->kind != YN_MAP)
                return NULL;
        for (size_t i = 0; i < map->n; i++)
                if (map->pairs[i].key->kind == YN_SCALAR && strcmp(map->pairs[i].key->str, key) == 0)
                        return &map->pairs[i];
        return NULL;
}

const struct ynode *yn_get(const struct ynode *map, const char *key)
{
        const struct ypair *p = yn_pair(map, key);
        return p ? p->value : NULL;
}

bool yn_is_quoted(const struct ynode *n)
{
        return n && n->kind == YN_SCALAR && n->style != YS_PLAIN;
}

static bool tagged(const struct ynode *n, const char *tag)
{
        return n->has_tag && strcmp(yn_tag(n), tag) == 0;
}

bool yn_is_null(const struct ynode *n)
{
        if (!n)
                return true;
        if (n->kind != YN_SCALAR)
                return false;
        if (n->has_tag)
                return tagged(n, TAG_NULL);
        if (n->style != YS_PLAIN)
                return false;
        return n->len == 0 || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
               !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

bool yn_as_bool(const struct ynode *n, bool *ret)
{
        if (!n || n->kind != YN_SCALAR || (n->style != YS_PLAIN && !tagged(n, TAG_BOOL)))
                return false;
        if (n->has_tag && !tagged(n, TAG_BOOL))
                return false;
        static const char *const t[] = { "true", "True", "TRUE" };
        static const char *const f[] = { "false", "False", "FALSE" };
        for (size_t i = 0; i < 3; i++) {
                if (!strcmp(n->str, t[i])) {
                        *ret = true;
                        return true;
                }
                if (!strcmp(n->str, f[i])) {
                        *ret = false;
                        return true;
                }
        }
        return false;
}

/* Parses a whole string as a decimal integer (optional sign). */
static bool parse_int(const char *s, long long *ret)
{
        const char *p = s;
        if (*p == '+' || *p == '-')
                p++;
        if (!*p)
                return false;
        for (const char *q = p; *q; q++)
                if (*q < '0' || *q > '9')
                        return false;
        errno = 0;
        char *end;
        long long v = strtoll(s, &end, 10);
        if (errno || *end)
                return false;
        *ret = v;
        return true;
}

bool yn_as_int(const struct ynode *n, long long *ret)
{
        if (!n || n->kind != YN_SCALAR)
                return false;
        if (n->has_tag && !tagged(n, TAG_INT))
                return false;
        if (n->style != YS_PLAIN && !n->has_tag)
                return false;
        return parse_int(n->str, ret);
}

/* The float forms of YAML's core schema. */
static bool parse_float(const char *s, double *ret)
{
        const char *p = s;
        if (*p == '+' || *p == '-')
                p++;
        bool digits = false, dot = false;
        for (; *p; p++) {
                if (*p >= '0' && *p <= '9')
                        digits = true;
                else if (*p == '.' && !dot)
                        dot = true;
                else
                        break;
        }
        if (!digits)
                return false;
        if (*p == 'e' || *p == 'E') {
                p++;
                if (*p == '+' || *p == '-')
                        p++;
                if (*p < '0' || *p > '9')
                        return false;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        if (*p)
                return false;
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (*end)
                return false;
        *ret = v;
        return true;
}

bool yn_as_number(const struct ynode *n, double *ret)
{
        if (!n || n->kind != YN_SCALAR)
                return false;
        if (n->has_tag && !tagged(n, TAG_INT) && !tagged(n, TAG_FLOAT))
                return false;
        if (n->style != YS_PLAIN && !n->has_tag)
                return false;
        return parse_float(n->str, ret);
}

bool yn_is_string(const struct ynode *n)
{
        if (!n || n->kind != YN_SCALAR)
                return false;
        if (n->has_tag)
                return tagged(n, TAG_STR);
        if (n->style != YS_PLAIN)
                return true;
        bool b;
        double d;
        return !yn_is_null(n) && !yn_as_bool(n, &b) && !yn_as_number(n, &d);
}

const char *yn_describe(const struct ynode *n)
{
        bool b;
        long long i;
        double d;
        if (!n)
                return "nothing";
        if (n->kind == YN_MAP)
                return "a mapping";
        if (n->kind == YN_SEQ)
                return "a list";
        if (yn_is_null(n))
                return "null";
        if (yn_as_bool(n, &b))
                return "a boolean";
        if (yn_as_int(n, &i))
                return "an integer";
        if (yn_as_number(n, &d))
                return "a number";
        return "a string";
}
