/* constants.c: the constant pool's structs (constants.h): freeing them,
 * their byte form (what a .otc file holds, and the key by which the
 * compiler finds an equal constant), reading that form back with every
 * byte checked, and checking a constant's indexes against a program.
 *
 * The form, little-endian (wire.h):
 *   constant  u8 kind, then STRING, TEMPLATE, INPUTS, LOOP_EACH: node;
 *             LOOP_FOR: u64 start, u64 end, u64 by;
 *             LOOP_SPLIT: node, blob delimiter
 *   node      u8 kind, then BOOL: u8; INT: u64; REAL: u64 (IEEE 754 bits);
 *             STRING: blob; TEMPLATE: u32 n, n x segment;
 *             LIST: u32 n, n x node; MAP: u32 n, n x (blob key, node)
 *   segment   u8 kind, then TEXT: blob; VAR, REG: u32 index;
 *             OUTPUT, INPUT: u32 step, u64 entry, blob key;
 *             SSM: u8 resolve, blob name
 *   blob      u32 length, then the bytes */
#include "constants.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

const char *kconst_kind_name(enum kconst_kind kind)
{
        static const char *const n[_K_MAX] = { "str", "tmpl", "inputs", "loop", "loop", "loop" };
        return kind < _K_MAX ? n[kind] : "?";
}

/* ---- freeing ----------------------------------------------------------- */

void knode_free(struct knode *n)
{
        switch (n->kind) {
        case KN_STRING:
                free(n->str.s);
                break;
        case KN_TEMPLATE:
                for (size_t i = 0; i < n->tmpl.n_segs; i++)
                        free(n->tmpl.segs[i].text);
                free(n->tmpl.segs);
                break;
        case KN_LIST:
        case KN_MAP:
                for (size_t i = 0; i < n->list.n; i++) {
                        knode_free(&n->list.items[i]);
                        if (n->list.keys)
                                free(n->list.keys[i]);
                }
                free(n->list.items);
                free(n->list.keys);
                break;
        default:
                break;
        }
        *n = (struct knode){ .kind = KN_NULL };
}

void kconst_free(struct kconst *k)
{
        knode_free(&k->node);
        free(k->delimiter);
        *k = (struct kconst){ .kind = K_STRING, .node = { .kind = KN_NULL } };
}

/* ---- the byte form ----------------------------------------------------- */

static void put_str(struct strbuf *b, const char *s, size_t len)
{
        wire_put_blob(b, s ? s : "", s ? len : 0);
}

static void encode_node(const struct knode *n, struct strbuf *b)
{
        uint64_t bits;
        wire_put_le(b, n->kind, 1);
        switch (n->kind) {
        case KN_BOOL:
                wire_put_le(b, n->b, 1);
                break;
        case KN_INT:
                wire_put_le(b, (uint64_t)n->i, 8);
                break;
        case KN_REAL:
                memcpy(&bits, &n->f, sizeof bits);
                wire_put_le(b, bits, 8);
                break;
        case KN_STRING:
                put_str(b, n->str.s, n->str.len);
                break;
        case KN_TEMPLATE:
                wire_put_u32(b, (uint32_t)n->tmpl.n_segs);
                for (size_t i = 0; i < n->tmpl.n_segs; i++) {
                        const struct kseg *g = &n->tmpl.segs[i];
                        wire_put_le(b, g->kind, 1);
                        switch (g->kind) {
                        case KSEG_VAR:
                        case KSEG_REG:
                                wire_put_u32(b, g->index);
                                break;
                        case KSEG_OUTPUT:
                        case KSEG_INPUT:
                                wire_put_u32(b, g->index);
                                wire_put_le(b, (uint64_t)g->entry, 8);
                                put_str(b, g->text, g->len);
                                break;
                        case KSEG_SSM:
                                wire_put_le(b, g->resolve, 1);
                                put_str(b, g->text, g->len);
                                break;
                        default:
                                put_str(b, g->text, g->len);
                                break;
                        }
                }
                break;
        case KN_LIST:
        case KN_MAP:
                wire_put_u32(b, (uint32_t)n->list.n);
                for (size_t i = 0; i < n->list.n; i++) {
                        if (n->kind == KN_MAP)
                                put_str(b, n->list.keys[i], strlen(n->list.keys[i]));
                        encode_node(&n->list.items[i], b);
                }
                break;
        default:
                break;
        }
}

void kconst_encode(const struct kconst *k, struct strbuf *b)
{
        wire_put_le(b, k->kind, 1);
        switch (k->kind) {
        case K_LOOP_FOR:
                wire_put_le(b, (uint64_t)k->start, 8);
                wire_put_le(b, (uint64_t)k->end, 8);
                wire_put_le(b, (uint64_t)k->by, 8);
                break;
        case K_LOOP_SPLIT:
                encode_node(&k->node, b);
                put_str(b, k->delimiter, k->delimiter ? strlen(k->delimiter) : 0);
                break;
        default:
                encode_node(&k->node, b);
                break;
        }
}

/* ---- reading it back --------------------------------------------------- */

/* Bytes that are text: UTF-8, as every string of a document is (and, for
 * a key or a name, without NUL bytes, as C strings hold them). */
static bool get_text(struct wire_reader *r, bool nul_ok, char **ret, size_t *ret_len)
{
        const unsigned char *s;
        size_t n;
        if (!wire_get_blob(r, &s, &n) || (!nul_ok && memchr(s, '\0', n)))
                return false;
        json_t *utf8 = json_stringn((const char *)s, n);
        if (!utf8)
                return false;
        json_decref(utf8);
        *ret = xstrndup((const char *)s, n);
        if (ret_len)
                *ret_len = n;
        return true;
}

static bool decode_seg(struct wire_reader *r, struct kseg *g)
{
        uint64_t kind, resolve;
        uint64_t entry;
        if (!wire_get_le(r, 1, &kind) || kind >= _KSEG_MAX)
                return false;
        g->kind = (enum kseg_kind)kind;
        switch (g->kind) {
        case KSEG_VAR:
        case KSEG_REG:
                return wire_get_u32(r, &g->index);
        case KSEG_OUTPUT:
        case KSEG_INPUT:
                if (!wire_get_u32(r, &g->index) || !wire_get_le(r, 8, &entry) || (int64_t)entry < -1)
                        return false;
                g->entry = (int64_t)entry;
                return get_text(r, false, &g->text, &g->len);
        case KSEG_SSM:
                if (!wire_get_le(r, 1, &resolve) || resolve > 1)
                        return false;
                g->resolve = resolve;
                return get_text(r, false, &g->text, &g->len);
        default:
                return get_text(r, true, &g->text, &g->len);
        }
}

/* A count of items of at least `min_size` bytes each that fits in what is
 * left, so a corrupted count cannot make a large allocation. */
static bool get_count(struct wire_reader *r, size_t min_size, size_t *ret)
{
        uint32_t n;
        if (!wire_get_u32(r, &n) || n > r->left / min_size)
                return false;
        *ret = n;
        return true;
}

static bool decode_node(struct wire_reader *r, struct knode *n, unsigned depth)
{
        uint64_t kind, b;
        uint64_t v;
        size_t count;
        *n = (struct knode){ .kind = KN_NULL };
        if (depth > KNODE_MAX_DEPTH || !wire_get_le(r, 1, &kind) || kind >= _KN_MAX)
                return false;
        switch ((enum knode_kind)kind) {
        case KN_NULL:
                return true;
        case KN_BOOL:
                if (!wire_get_le(r, 1, &b) || b > 1)
                        return false;
                *n = (struct knode){ .kind = KN_BOOL, .b = b };
                return true;
        case KN_INT:
                if (!wire_get_le(r, 8, &v))
                        return false;
                *n = (struct knode){ .kind = KN_INT, .i = (int64_t)v };
                return true;
        case KN_REAL: {
                double f;
                if (!wire_get_le(r, 8, &v))
                        return false;
                memcpy(&f, &v, sizeof f);
                *n = (struct knode){ .kind = KN_REAL, .f = f };
                return isfinite(f);
        }
        case KN_STRING:
                n->kind = KN_STRING;
                return get_text(r, true, &n->str.s, &n->str.len);
        case KN_TEMPLATE:
                n->kind = KN_TEMPLATE;
                if (!get_count(r, 5, &count))
                        return false;
                n->tmpl.segs = xcalloc(count ? count : 1, sizeof *n->tmpl.segs);
                for (; n->tmpl.n_segs < count; n->tmpl.n_segs++)
                        if (!decode_seg(r, &n->tmpl.segs[n->tmpl.n_segs])) {
                                n->tmpl.n_segs++; /* freed with the rest */
                                return false;
                        }
                return true;
        case KN_LIST:
        case KN_MAP:
                n->kind = (enum knode_kind)kind;
                if (!get_count(r, kind == KN_MAP ? 5 : 1, &count))
                        return false;
                n->list.items = xcalloc(count ? count : 1, sizeof *n->list.items);
                if (kind == KN_MAP)
                        n->list.keys = xcalloc(count ? count : 1, sizeof *n->list.keys);
                for (; n->list.n < count; n->list.n++) {
                        size_t i = n->list.n;
                        if ((kind == KN_MAP && !get_text(r, false, &n->list.keys[i], NULL)) ||
                            !decode_node(r, &n->list.items[i], depth + 1)) {
                                n->list.n++;
                                return false;
                        }
                }
                return true;
        default:
                return false;
        }
}

int kconst_decode(const unsigned char *buf, size_t len, struct kconst *ret)
{
        struct wire_reader r = { buf, len };
        struct kconst k = { .node = { .kind = KN_NULL } };
        uint64_t kind, s = 0, e = 0, by = 0;
        bool ok = wire_get_le(&r, 1, &kind) && kind < _K_MAX;
        if (ok)
                k.kind = (enum kconst_kind)kind;
        if (ok && k.kind == K_LOOP_FOR) {
                ok = wire_get_le(&r, 8, &s) && wire_get_le(&r, 8, &e) && wire_get_le(&r, 8, &by);
                k.start = (int64_t)s;
                k.end = (int64_t)e;
                k.by = (int64_t)by;
        } else if (ok) {
                ok = decode_node(&r, &k.node, k.kind == K_LOOP_SPLIT ? 1 : 0);
        }
        if (ok && k.kind == K_LOOP_SPLIT)
                ok = get_text(&r, false, &k.delimiter, NULL);
        /* Each kind holds the node it says. */
        if (ok)
                ok = (k.kind != K_STRING || k.node.kind == KN_STRING) &&
                     (k.kind != K_TEMPLATE || k.node.kind == KN_TEMPLATE) &&
                     (k.kind != K_LOOP_EACH || k.node.kind == KN_LIST) && r.left == 0;
        if (!ok) {
                kconst_free(&k);
                return -EINVAL;
        }
        *ret = k;
        return 0;
}

/* ---- indexes ----------------------------------------------------------- */

struct limits {
        size_t n_vars, n_steps;
        unsigned n_regs;
        long *max_step;
};

static bool node_fits(const struct knode *n, const struct limits *l, unsigned depth)
{
        if (depth > KNODE_MAX_DEPTH)
                return false;
        if (n->kind == KN_LIST || n->kind == KN_MAP) {
                for (size_t i = 0; i < n->list.n; i++)
                        if (!node_fits(&n->list.items[i], l, depth + 1))
                                return false;
                return true;
        }
        if (n->kind != KN_TEMPLATE)
                return true;
        for (size_t i = 0; i < n->tmpl.n_segs; i++) {
                const struct kseg *g = &n->tmpl.segs[i];
                switch (g->kind) {
                case KSEG_VAR:
                        if (g->index >= l->n_vars)
                                return false;
                        break;
                case KSEG_REG:
                        if (g->index >= l->n_regs)
                                return false;
                        break;
                case KSEG_OUTPUT:
                case KSEG_INPUT:
                        if (g->index >= l->n_steps || g->entry < -1 || !g->text)
                                return false;
                        if ((long)g->index > *l->max_step)
                                *l->max_step = (long)g->index;
                        break;
                case KSEG_SSM:
                        if (!g->text)
                                return false;
                        break;
                default:
                        break;
                }
        }
        return true;
}

bool kconst_fits(const struct kconst *k, size_t n_vars, unsigned n_regs, size_t n_steps, long *max_step)
{
        struct limits l = { n_vars, n_steps, n_regs, max_step };
        switch (k->kind) {
        case K_LOOP_FOR:
                return true;
        case K_STRING:
                return k->node.kind == KN_STRING;
        case K_TEMPLATE:
        case K_LOOP_EACH:
                if (k->node.kind != (k->kind == K_TEMPLATE ? KN_TEMPLATE : KN_LIST))
                        return false;
                break;
        case K_LOOP_SPLIT:
                if (!k->delimiter)
                        return false;
                break;
        case K_INPUTS:
                break;
        default:
                return false;
        }
        return node_fits(&k->node, &l, k->kind == K_LOOP_SPLIT ? 1 : 0);
}

/* ---- finding equal constants ------------------------------------------- */

struct kconst_entry {
        char *enc;
        size_t len;
        uint64_t hash;
        uint32_t value;
};

struct kconst_index {
        struct kconst_entry *slots;
        size_t cap, n;
};

static uint64_t fnv1a(const char *s, size_t n)
{
        uint64_t h = 14695981039346656037ull;
        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
        return h;
}

struct kconst_index *kconst_index_new(void)
{
        struct kconst_index *x = xcalloc(1, sizeof *x);
        x->cap = 64;
        x->slots = xcalloc(x->cap, sizeof *x->slots);
        return x;
}

struct kconst_index *kconst_index_free(struct kconst_index *x)
{
        if (!x)
                return NULL;
        for (size_t i = 0; i < x->cap; i++)
                free(x->slots[i].enc);
        free(x->slots);
        free(x);
        return NULL;
}

static struct kconst_entry *slot_for(struct kconst_entry *slots, size_t cap, uint64_t hash, const char *enc,
                                     size_t len)
{
        for (size_t i = (size_t)hash & (cap - 1);; i = (i + 1) & (cap - 1)) {
                struct kconst_entry *e = &slots[i];
                if (!e->enc || (e->hash == hash && e->len == len && !memcmp(e->enc, enc, len)))
                        return e;
        }
}

uint32_t kconst_index_get(struct kconst_index *x, const char *enc, size_t len, uint32_t next)
{
        uint64_t hash = fnv1a(enc, len);
        struct kconst_entry *e = slot_for(x->slots, x->cap, hash, enc, len);
        if (e->enc)
                return e->value;
        *e = (struct kconst_entry){ xmalloc(len ? len : 1), len, hash, next };
        memcpy(e->enc, enc, len);
        if (++x->n * 2 > x->cap) {
                /* Kept at most half full, so a probe ends soon. */
                size_t cap = x->cap * 2;
                struct kconst_entry *slots = xcalloc(cap, sizeof *slots);
                for (size_t i = 0; i < x->cap; i++)
                        if (x->slots[i].enc)
                                *slot_for(slots, cap, x->slots[i].hash, x->slots[i].enc, x->slots[i].len) =
                                        x->slots[i];
                free(x->slots);
                x->slots = slots;
                x->cap = cap;
        }
        return next;
}
