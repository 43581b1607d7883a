/* check_yamldoc.c: unit tests of interpreter/yamldoc.c, loading YAML from
 * memory with ydoc_load_buffer: node kinds and their 1-based positions,
 * scalar styles and tags, scalar resolution (yn_is_null, yn_as_bool,
 * yn_as_int, yn_as_number, yn_is_string, yn_describe), JSON input, the
 * loading limits (size, depth, alias expansion), duplicate keys, aliases and
 * `<<` merge keys, the diagnostics for syntax errors, second documents,
 * unquoted `{{` values, NUL bytes, bytes that are not UTF-8 and control
 * characters (at their line and column), ydoc_locate_in_scalar, the
 * yn_get/yn_pair lookups, and ydoc_open_file (the text left on disk) giving
 * what ydoc_load_file gives. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "yamldoc.h"

#define NAME "test.yml"

struct loaded {
        struct ydoc *doc;
        struct diag_list diags;
        int ret;
};

static struct loaded load_n(const char *src, size_t len, const struct ydoc_limits *lim)
{
        struct loaded l;

        memset(&l, 0, sizeof l);
        l.ret = ydoc_load_buffer(NAME, src, len, lim, &l.doc, &l.diags);
        ck_assert_ptr_nonnull(l.doc);
        return l;
}

static struct loaded load_lim(const char *src, const struct ydoc_limits *lim)
{
        return load_n(src, strlen(src), lim);
}

static struct loaded load(const char *src)
{
        return load_n(src, strlen(src), NULL);
}

static void unload(struct loaded *l)
{
        ck_assert_ptr_null(ydoc_free(l->doc));
        diag_list_free(&l->diags);
        l->doc = NULL;
}

/* Loads a document that must load cleanly, with a root. */
static struct loaded load_ok(const char *src)
{
        struct loaded l = load(src);

        ck_assert_msg(l.ret == 0 && l.diags.n == 0, "load: ret %d, %zu diagnostics, first: %s %s",
                      l.ret, l.diags.n, l.diags.n ? l.diags.v[0].code : "-",
                      l.diags.n ? l.diags.v[0].message : "-");
        ck_assert_ptr_nonnull(l.doc->root);
        return l;
}

static size_t count_code(const struct diag_list *dl, const char *code)
{
        size_t n = 0;

        for (size_t i = 0; i < dl->n; i++)
                n += strcmp(dl->v[i].code, code) == 0;
        return n;
}

/* The only diagnostic must be an error with this code, at line:column
 * (0 to skip the check of a coordinate). */
static void expect_one(const struct loaded *l, const char *code, unsigned line, unsigned column)
{
        ck_assert_msg(l->diags.n == 1, "expected one diagnostic %s, got %zu (first: %s %s)", code,
                      l->diags.n, l->diags.n ? l->diags.v[0].code : "-",
                      l->diags.n ? l->diags.v[0].message : "-");
        const struct diag *d = &l->diags.v[0];
        ck_assert_str_eq(d->code, code);
        ck_assert_int_eq(d->severity, DIAG_ERROR);
        ck_assert_uint_eq(l->diags.n_errors, 1);
        ck_assert_ptr_nonnull(d->file);
        ck_assert_str_eq(d->file, NAME);
        ck_assert_ptr_nonnull(d->message);
        if (line)
                ck_assert_msg(d->line == line, "%s: line %u, expected %u (%s)", code, d->line, line,
                              d->message);
        if (column)
                ck_assert_msg(d->column == column, "%s: column %u, expected %u (%s)", code,
                              d->column, column, d->message);
        ck_assert_int_lt(l->ret, 0);
}

/* Loading `src` gives only the error `code` at line:column (expect_one). */
static void expect_only(const char *src, const char *code, unsigned line, unsigned column)
{
        struct loaded l = load(src);

        expect_one(&l, code, line, column);
        unload(&l);
}

static void expect_pos(const struct ynode *n, unsigned line, unsigned column)
{
        ck_assert_ptr_nonnull(n);
        ck_assert_msg(n->line == line && n->column == column, "node at %u:%u, expected %u:%u",
                      n->line, n->column, line, column);
}

static void expect_end(const struct ydoc *doc, const struct ynode *n, unsigned line, unsigned column)
{
        unsigned l, c;
        ydoc_end_position(doc, n, &l, &c);
        ck_assert_msg(l == line && c == column, "node ends at %u:%u, expected %u:%u", l, c, line, column);
}

static const struct ynode *get(const struct ynode *map, const char *key)
{
        const struct ynode *v = yn_get(map, key);

        ck_assert_msg(v != NULL, "no key '%s'", key);
        return v;
}

static void expect_scalar(const struct ynode *n, const char *str, enum yscalar_style style)
{
        ck_assert_ptr_nonnull(n);
        ck_assert_int_eq(n->kind, YN_SCALAR);
        ck_assert_str_eq(n->str, str);
        ck_assert_uint_eq(n->len, strlen(str));
        ck_assert_int_eq(n->style, style);
}

/* ---- structure and positions ---- */

/* Ends are kept as byte offsets and read back as characters: the same
 * positions in a document with multi-byte characters as in an ASCII one,
 * whichever order the nodes end in. */
START_TEST(test_ends_with_utf8)
{
        struct loaded l = load_ok("a: \xc3\xa9\xc3\xa9 b\n"
                                  "\xc3\xa9: [\xc3\xbc, x, {k: \xe2\x82\xac}]\n"
                                  "c: plain\n");
        const struct ynode *root = l.doc->root, *n;
        expect_end(l.doc, get(root, "a"), 1, 8);
        n = root->pairs[1].value;
        ck_assert_int_eq(n->kind, YN_SEQ);
        expect_pos(n, 2, 4);
        expect_end(l.doc, n->items[0], 2, 6);
        expect_end(l.doc, n->items[2], 2, 17);
        expect_end(l.doc, n, 2, 18);
        expect_end(l.doc, get(root, "c"), 3, 9);
        ck_assert(!l.doc->ascii);
        unload(&l);
        l = load_ok("a: [x, {k: v}]\nb: c\n");
        ck_assert(l.doc->ascii);
        expect_end(l.doc, get(l.doc->root, "a"), 1, 15);
        expect_end(l.doc, get(l.doc->root, "b"), 2, 5);
        unload(&l);
}
END_TEST

START_TEST(test_kinds_and_positions)
{
        struct loaded l = load_ok("name: hello\n"
                                  "list:\n"
                                  "  - one\n"
                                  "  - two\n"
                                  "map:\n"
                                  "  k: v\n"
                                  "flow: [a, {b: c}]\n");
        const struct ynode *root = l.doc->root, *n;

        ck_assert_int_eq(root->kind, YN_MAP);
        ck_assert_int_eq(root->style, YS_NONE);
        ck_assert(!root->flow);
        expect_pos(root, 1, 1);
        ck_assert_uint_eq(root->n, 4);
        ck_assert_str_eq(root->pairs[0].key->str, "name");
        ck_assert_str_eq(root->pairs[1].key->str, "list");
        ck_assert_str_eq(root->pairs[2].key->str, "map");
        ck_assert_str_eq(root->pairs[3].key->str, "flow");
        expect_pos(root->pairs[0].key, 1, 1);
        expect_pos(root->pairs[3].key, 7, 1);

        n = get(root, "name");
        expect_scalar(n, "hello", YS_PLAIN);
        expect_pos(n, 1, 7);
        expect_end(l.doc, n, 1, 12);
        ck_assert_ptr_null(yn_tag(n));

        /* A block sequence starts at its first '-'. */
        n = get(root, "list");
        ck_assert_int_eq(n->kind, YN_SEQ);
        ck_assert(!n->flow);
        expect_pos(n, 3, 3);
        ck_assert_uint_eq(n->n, 2);
        expect_scalar(n->items[0], "one", YS_PLAIN);
        expect_pos(n->items[0], 3, 5);
        expect_pos(n->items[1], 4, 5);

        /* A block mapping starts at its first key. */
        n = get(root, "map");
        ck_assert_int_eq(n->kind, YN_MAP);
        ck_assert(!n->flow);
        expect_pos(n, 6, 3);
        expect_pos(get(n, "k"), 6, 6);

        n = get(root, "flow");
        ck_assert_int_eq(n->kind, YN_SEQ);
        ck_assert(n->flow);
        expect_pos(n, 7, 7);
        expect_end(l.doc, n, 7, 18);
        ck_assert_uint_eq(n->n, 2);
        expect_pos(n->items[0], 7, 8);
        ck_assert_int_eq(n->items[1]->kind, YN_MAP);
        ck_assert(n->items[1]->flow);
        expect_pos(n->items[1], 7, 11);
        expect_end(l.doc, n->items[1], 7, 17);
        expect_pos(get(n->items[1], "b"), 7, 15);
        unload(&l);
}
END_TEST

START_TEST(test_indentless_sequence)
{
        struct loaded l = load_ok("steps:\n- a\n- b: 1\n  c: 2\n");
        const struct ynode *s = get(l.doc->root, "steps");

        ck_assert_int_eq(s->kind, YN_SEQ);
        expect_pos(s, 2, 1);
        ck_assert_uint_eq(s->n, 2);
        expect_pos(s->items[0], 2, 3);
        ck_assert_int_eq(s->items[1]->kind, YN_MAP);
        expect_pos(s->items[1], 3, 3);
        expect_pos(get(s->items[1], "c"), 4, 6);
        unload(&l);
}
END_TEST

START_TEST(test_utf8_columns)
{
        /* Columns count characters, not bytes. */
        struct loaded l = load_ok("\xc3\xa9t\xc3\xa9: [\xe2\x82\xac, x]\n");
        const struct ynode *s = l.doc->root->pairs[0].value;

        ck_assert_int_eq(s->kind, YN_SEQ);
        expect_pos(s, 1, 6);
        expect_pos(s->items[0], 1, 7);
        expect_pos(s->items[1], 1, 10);
        unload(&l);
}
END_TEST

START_TEST(test_json)
{
        struct loaded l = load_ok("{\n"
                                  "  \"name\": \"x\",\n"
                                  "  \"phases\": [{\"name\": \"build\", \"steps\": []}],\n"
                                  "  \"n\": 3,\n"
                                  "  \"ok\": true,\n"
                                  "  \"none\": null\n"
                                  "}\n");
        const struct ynode *root = l.doc->root, *n;
        long long i;
        bool b;

        ck_assert_int_eq(root->kind, YN_MAP);
        ck_assert(root->flow);
        expect_pos(root, 1, 1);
        expect_end(l.doc, root, 7, 2);
        ck_assert_uint_eq(root->n, 5);
        expect_scalar(root->pairs[0].key, "name", YS_DOUBLE_QUOTED);
        expect_pos(root->pairs[0].key, 2, 3);
        n = get(root, "name");
        expect_scalar(n, "x", YS_DOUBLE_QUOTED);
        expect_pos(n, 2, 11);

        n = get(root, "phases");
        ck_assert_int_eq(n->kind, YN_SEQ);
        ck_assert(n->flow);
        expect_pos(n, 3, 13);
        ck_assert_uint_eq(n->n, 1);
        ck_assert_int_eq(n->items[0]->kind, YN_MAP);
        expect_pos(n->items[0], 3, 14);
        expect_scalar(get(n->items[0], "name"), "build", YS_DOUBLE_QUOTED);
        expect_pos(get(n->items[0], "name"), 3, 23);
        n = get(n->items[0], "steps");
        ck_assert_int_eq(n->kind, YN_SEQ);
        ck_assert_uint_eq(n->n, 0);
        expect_pos(n, 3, 41);

        n = get(root, "n");
        expect_pos(n, 4, 8);
        ck_assert(yn_as_int(n, &i));
        ck_assert_int_eq(i, 3);
        ck_assert(yn_as_bool(get(root, "ok"), &b));
        ck_assert(b);
        ck_assert(yn_is_null(get(root, "none")));
        unload(&l);
}
END_TEST

/* ---- scalars ---- */

START_TEST(test_scalar_styles)
{
        struct loaded l = load_ok("plain: some text\n"
                                  "single: 'it''s'\n"
                                  "double: \"a\\tb\\u00e9\"\n"
                                  "literal: |\n"
                                  "  line1\n"
                                  "  line2\n"
                                  "folded: >\n"
                                  "  word1\n"
                                  "  word2\n"
                                  "tagged: !!str 1.0\n"
                                  "local: !custom x\n");
        const struct ynode *root = l.doc->root, *n;
        double d;

        n = get(root, "plain");
        expect_scalar(n, "some text", YS_PLAIN);
        ck_assert(!yn_is_quoted(n));
        n = get(root, "single");
        expect_scalar(n, "it's", YS_SINGLE_QUOTED);
        ck_assert(yn_is_quoted(n));
        n = get(root, "double");
        expect_scalar(n, "a\tb\xc3\xa9", YS_DOUBLE_QUOTED);
        ck_assert(yn_is_quoted(n));
        n = get(root, "literal");
        expect_scalar(n, "line1\nline2\n", YS_LITERAL);
        expect_pos(n, 4, 10);
        ck_assert(yn_is_quoted(n));
        n = get(root, "folded");
        expect_scalar(n, "word1 word2\n", YS_FOLDED);
        ck_assert(yn_is_quoted(n));

        /* An explicit tag is kept, and wins over the plain style. */
        n = get(root, "tagged");
        expect_scalar(n, "1.0", YS_PLAIN);
        ck_assert_ptr_nonnull(yn_tag(n));
        ck_assert_str_eq(yn_tag(n), "tag:yaml.org,2002:str");
        ck_assert(yn_is_string(n));
        ck_assert(!yn_as_number(n, &d));
        ck_assert_str_eq(yn_describe(n), "a string");

        n = get(root, "local");
        ck_assert_ptr_nonnull(yn_tag(n));
        ck_assert_str_eq(yn_tag(n), "!custom");
        ck_assert_str_eq(n->str, "x");

        ck_assert(!yn_is_quoted(root));
        ck_assert(!yn_is_quoted(NULL));
        unload(&l);
}
END_TEST

START_TEST(test_scalar_resolution)
{
        struct loaded l = load_ok("int: 42\n"
                                  "neg: -7\n"
                                  "pos: +3\n"
                                  "float: 1.5\n"
                                  "exp: 1e3\n"
                                  "big: 99999999999999999999\n"
                                  "qint: \"42\"\n"
                                  "tint: !!int \"17\"\n"
                                  "tfloat: !!float \"2.5\"\n"
                                  "word: 12abc\n"
                                  "t: true\n"
                                  "f: false\n"
                                  "T: True\n"
                                  "qt: \"true\"\n"
                                  "st: 'false'\n"
                                  "tb: !!bool \"true\"\n"
                                  "yes: yes\n"
                                  "on: on\n");
        const struct ynode *root = l.doc->root, *n;
        long long i;
        double d;
        bool b;

        n = get(root, "int");
        ck_assert(yn_as_int(n, &i));
        ck_assert_int_eq(i, 42);
        ck_assert(yn_as_number(n, &d));
        ck_assert_double_eq(d, 42.0);
        ck_assert(!yn_is_string(n));
        ck_assert(!yn_as_bool(n, &b));
        ck_assert(!yn_is_null(n));
        ck_assert_str_eq(yn_describe(n), "an integer");

        ck_assert(yn_as_int(get(root, "neg"), &i));
        ck_assert_int_eq(i, -7);
        ck_assert(yn_as_int(get(root, "pos"), &i));
        ck_assert_int_eq(i, 3);

        n = get(root, "float");
        ck_assert(!yn_as_int(n, &i));
        ck_assert(yn_as_number(n, &d));
        ck_assert_double_eq(d, 1.5);
        ck_assert(!yn_is_string(n));
        ck_assert_str_eq(yn_describe(n), "a number");

        n = get(root, "exp");
        ck_assert(!yn_as_int(n, &i));
        ck_assert(yn_as_number(n, &d));
        ck_assert_double_eq(d, 1000.0);

        /* Out of range for an integer, still a number. */
        n = get(root, "big");
        ck_assert(!yn_as_int(n, &i));
        ck_assert(yn_as_number(n, &d));
        ck_assert_str_eq(yn_describe(n), "a number");

        n = get(root, "qint");
        ck_assert(!yn_as_int(n, &i));
        ck_assert(!yn_as_number(n, &d));
        ck_assert(yn_is_string(n));
        ck_assert_str_eq(yn_describe(n), "a string");

        n = get(root, "tint");
        ck_assert(yn_as_int(n, &i));
        ck_assert_int_eq(i, 17);
        ck_assert(!yn_is_string(n));
        ck_assert_str_eq(yn_describe(n), "an integer");
        n = get(root, "tfloat");
        ck_assert(!yn_as_int(n, &i));
        ck_assert(yn_as_number(n, &d));
        ck_assert_double_eq(d, 2.5);

        n = get(root, "word");
        ck_assert(!yn_as_int(n, &i));
        ck_assert(!yn_as_number(n, &d));
        ck_assert(yn_is_string(n));

        b = false;
        ck_assert(yn_as_bool(get(root, "t"), &b));
        ck_assert(b);
        ck_assert_str_eq(yn_describe(get(root, "t")), "a boolean");
        ck_assert(!yn_is_string(get(root, "t")));
        b = true;
        ck_assert(yn_as_bool(get(root, "f"), &b));
        ck_assert(!b);
        b = false;
        ck_assert(yn_as_bool(get(root, "T"), &b));
        ck_assert(b);

        /* Quoted true/false are strings. */
        n = get(root, "qt");
        ck_assert(!yn_as_bool(n, &b));
        ck_assert(yn_is_string(n));
        ck_assert_str_eq(yn_describe(n), "a string");
        ck_assert(!yn_as_bool(get(root, "st"), &b));
        /* ... unless tagged. */
        b = false;
        ck_assert(yn_as_bool(get(root, "tb"), &b));
        ck_assert(b);

        /* YAML 1.1 booleans are strings in the core schema. */
        n = get(root, "yes");
        ck_assert(!yn_as_bool(n, &b));
        ck_assert(yn_is_string(n));
        ck_assert(!yn_as_bool(get(root, "on"), &b));

        /* Non-scalars resolve to nothing. */
        ck_assert(!yn_as_int(root, &i));
        ck_assert(!yn_as_number(root, &d));
        ck_assert(!yn_as_bool(root, &b));
        ck_assert(!yn_is_string(root));
        ck_assert(!yn_is_null(root));
        ck_assert(!yn_as_int(NULL, &i));
        ck_assert(!yn_is_string(NULL));
        unload(&l);
}
END_TEST

START_TEST(test_null)
{
        struct loaded l = load_ok("empty:\n"
                                  "tilde: ~\n"
                                  "word: null\n"
                                  "Word: Null\n"
                                  "WORD: NULL\n"
                                  "quoted: \"null\"\n"
                                  "qempty: ''\n"
                                  "tagged: !!null ''\n"
                                  "list: []\n"
                                  "nul: nullx\n");
        const struct ynode *root = l.doc->root, *n;
        static const char *const nulls[] = { "empty", "tilde", "word", "Word", "WORD", "tagged" };

        for (size_t i = 0; i < sizeof nulls / sizeof *nulls; i++) {
                n = get(root, nulls[i]);
                ck_assert_msg(yn_is_null(n), "%s: not null", nulls[i]);
                ck_assert(!yn_is_string(n));
                ck_assert_str_eq(yn_describe(n), "null");
        }
        n = get(root, "empty");
        ck_assert_uint_eq(n->len, 0);
        ck_assert_str_eq(n->str, "");

        n = get(root, "quoted");
        ck_assert(!yn_is_null(n));
        ck_assert(yn_is_string(n));
        n = get(root, "qempty");
        ck_assert(!yn_is_null(n));
        ck_assert(yn_is_string(n));
        ck_assert_str_eq(yn_describe(n), "a string");
        ck_assert(!yn_is_null(get(root, "list")));
        ck_assert(!yn_is_null(get(root, "nul")));

        /* An absent value counts as null. */
        ck_assert(yn_is_null(NULL));
        ck_assert_str_eq(yn_describe(NULL), "nothing");
        ck_assert_str_eq(yn_describe(root), "a mapping");
        ck_assert_str_eq(yn_describe(get(root, "list")), "a list");
        unload(&l);
}
END_TEST

START_TEST(test_schema_version_forms)
{
        struct loaded l = load_ok("a: 1.0\nb: \"1.0\"\nc: 1\nd: '1'\n");
        const struct ynode *root = l.doc->root, *a, *b, *c, *d;
        long long i;
        double x;

        a = get(root, "a");
        b = get(root, "b");
        c = get(root, "c");
        d = get(root, "d");

        expect_scalar(a, "1.0", YS_PLAIN);
        ck_assert(!yn_as_int(a, &i));
        ck_assert(yn_as_number(a, &x));
        ck_assert_double_eq(x, 1.0);
        ck_assert(!yn_is_string(a));
        ck_assert_str_eq(yn_describe(a), "a number");

        expect_scalar(b, "1.0", YS_DOUBLE_QUOTED);
        ck_assert(!yn_as_number(b, &x));
        ck_assert(yn_is_string(b));
        ck_assert_str_eq(yn_describe(b), "a string");

        expect_scalar(c, "1", YS_PLAIN);
        ck_assert(yn_as_int(c, &i));
        ck_assert_int_eq(i, 1);
        ck_assert_str_eq(yn_describe(c), "an integer");

        expect_scalar(d, "1", YS_SINGLE_QUOTED);
        ck_assert(!yn_as_int(d, &i));
        ck_assert(yn_is_string(d));
        unload(&l);
}
END_TEST

/* ---- lookups ---- */

START_TEST(test_lookup)
{
        struct loaded l = load_ok("name: x\n\"quoted key\": 2\nlist: [a]\n");
        const struct ynode *root = l.doc->root;
        const struct ypair *p;

        p = yn_pair(root, "name");
        ck_assert_ptr_nonnull(p);
        ck_assert_ptr_eq(p, &root->pairs[0]);
        ck_assert_str_eq(p->key->str, "name");
        expect_pos(p->key, 1, 1);
        ck_assert_str_eq(p->value->str, "x");
        ck_assert_ptr_eq(yn_get(root, "name"), p->value);

        p = yn_pair(root, "quoted key");
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(p->key->style, YS_DOUBLE_QUOTED);
        ck_assert_str_eq(p->value->str, "2");

        ck_assert_ptr_null(yn_pair(root, "missing"));
        ck_assert_ptr_null(yn_get(root, "missing"));
        ck_assert_ptr_null(yn_get(root, "Name"));
        ck_assert_ptr_null(yn_get(root, "nam"));
        /* Only mappings have keys. */
        ck_assert_ptr_null(yn_get(get(root, "list"), "a"));
        ck_assert_ptr_null(yn_get(get(root, "name"), "x"));
        ck_assert_ptr_null(yn_pair(NULL, "name"));
        ck_assert_ptr_null(yn_get(NULL, "name"));
        unload(&l);
}
END_TEST

/* ---- duplicate keys ---- */

START_TEST(test_duplicate_key)
{
        struct loaded l = load("a: 1\nb: 2\na: 3\n");

        expect_one(&l, "yaml-duplicate-key", 3, 1);
        ck_assert_int_eq(l.ret, -EINVAL);
        /* Loading goes on: the tree is there for later checks. */
        ck_assert_ptr_nonnull(l.doc->root);
        ck_assert_str_eq(get(l.doc->root, "b")->str, "2");
        ck_assert_msg(strstr(l.diags.v[0].message, "'a'") != NULL, "%s", l.diags.v[0].message);
        /* It says where the first one is. */
        ck_assert_msg(strstr(l.diags.v[0].message, "line 1") != NULL, "%s", l.diags.v[0].message);
        unload(&l);

        /* The caret spans the whole key. */
        l = load("name: 1\nname: 2\n");
        expect_one(&l, "yaml-duplicate-key", 2, 1);
        ck_assert_uint_eq(l.diags.v[0].span, 4);
        unload(&l);
}
END_TEST

START_TEST(test_duplicate_key_nested)
{
        struct loaded l = load("top:\n"
                               "  x: 1\n"
                               "  y:\n"
                               "    - k: 1\n"
                               "      other: 2\n"
                               "      k: 3\n");

        expect_one(&l, "yaml-duplicate-key", 6, 7);
        unload(&l);

        expect_only("m: {a: 1, b: 2, a: 3}\n", "yaml-duplicate-key", 1, 17);

        /* Quoting does not make a key different. */
        expect_only("k: 1\n'k': 2\n", "yaml-duplicate-key", 2, 1);

        /* The same key in different mappings is fine. */
        l = load_ok("a:\n  k: 1\nb:\n  k: 2\nc: [{k: 1}, {k: 2}]\n");
        unload(&l);
}
END_TEST

START_TEST(test_duplicate_key_all_reported)
{
        struct loaded l = load("a: 1\nb: 1\na: 2\nb: 2\n");

        ck_assert_uint_eq(count_code(&l.diags, "yaml-duplicate-key"), 2);
        ck_assert_uint_eq(l.diags.n, 2);
        ck_assert_int_lt(l.ret, 0);
        for (size_t i = 0; i < l.diags.n; i++)
                ck_assert_uint_ge(l.diags.v[i].line, 3);
        unload(&l);
}
END_TEST

/* ---- limits ---- */

START_TEST(test_too_large)
{
        struct ydoc_limits lim = ydoc_default_limits;
        char buf[128];
        struct loaded l;

        lim.max_bytes = 100;
        /* 101 bytes of valid YAML. */
        memset(buf, 0, sizeof buf);
        memcpy(buf, "k: ", 3);
        memset(buf + 3, 'x', 97);
        buf[100] = '\n';
        ck_assert_uint_eq(strlen(buf), 101);
        l = load_lim(buf, &lim);
        expect_one(&l, "yaml-too-large", 0, 0);
        ck_assert_ptr_null(l.doc->root);
        ck_assert_int_lt(l.ret, 0);
        unload(&l);

        /* Exactly at the limit is fine. */
        buf[99] = '\n';
        buf[100] = '\0';
        l = load_lim(buf, &lim);
        ck_assert_int_eq(l.ret, 0);
        ck_assert_uint_eq(l.diags.n, 0);
        ck_assert_uint_eq(strlen(get(l.doc->root, "k")->str), 96);
        unload(&l);
}
END_TEST

START_TEST(test_too_deep)
{
        struct ydoc_limits lim = ydoc_default_limits;
        struct loaded l;

        lim.max_depth = 5;
        l = load_lim("[[[[[[x]]]]]]\n", &lim);
        expect_one(&l, "yaml-too-deep", 1, 6);
        ck_assert_ptr_null(l.doc->root);
        unload(&l);

        l = load_lim("[[[[[x]]]]]\n", &lim);
        ck_assert_int_eq(l.ret, 0);
        ck_assert_uint_eq(l.diags.n, 0);
        ck_assert_ptr_nonnull(l.doc->root);
        unload(&l);

        /* Block mappings count too: the sixth is the one at "f". */
        l = load_lim("a:\n b:\n  c:\n   d:\n    e:\n     f: [1]\n", &lim);
        expect_one(&l, "yaml-too-deep", 6, 6);
        unload(&l);

        /* The default limit. */
        char deep[200];
        memset(deep, 0, sizeof deep);
        memset(deep, '[', 65);
        memset(deep + 65, ']', 65);
        expect_only(deep, "yaml-too-deep", 1, 65);
        deep[64] = ']';
        deep[128] = '\0'; /* 64 of each */
        l = load(deep);
        ck_assert_int_eq(l.ret, 0);
        ck_assert_uint_eq(l.diags.n, 0);
        unload(&l);
}
END_TEST

START_TEST(test_alias_bomb)
{
        static const char bomb[] = "a: &a [x,x,x,x,x,x,x,x,x]\n"
                                   "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                                   "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                                   "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                                   "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                                   "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                                   "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
                                   "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
                                   "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
        clock_t t0 = clock();
        struct loaded l = load(bomb);
        double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;

        ck_assert_uint_eq(count_code(&l.diags, "yaml-alias-limit"), 1);
        expect_one(&l, "yaml-alias-limit", 0, 0);
        /* 9 + 9*10 + 9*91 + ... passes 100000 in the sixth line. */
        ck_assert_uint_eq(l.diags.v[0].line, 6);
        ck_assert_ptr_null(l.doc->root);
        ck_assert_msg(secs < 1.0, "took %.2f s", secs);
        unload(&l);

        /* A smaller custom limit stops it earlier. */
        struct ydoc_limits lim = ydoc_default_limits;
        lim.max_alias_nodes = 50;
        l = load_lim(bomb, &lim);
        expect_one(&l, "yaml-alias-limit", 2, 0);
        unload(&l);
}
END_TEST

START_TEST(test_recursive_alias)
{
        expect_only("a: &a [1, *a]\n", "yaml-alias-limit", 1, 11);
        expect_only("a: &a\n  b: *a\n", "yaml-alias-limit", 2, 6);
}
END_TEST

START_TEST(test_undefined_alias)
{
        struct loaded l = load("a: 1\nb: *nope\n");

        expect_one(&l, "yaml-syntax", 2, 4);
        ck_assert_msg(strstr(l.diags.v[0].message, "nope") != NULL, "%s", l.diags.v[0].message);
        unload(&l);
}
END_TEST

START_TEST(test_alias_shared)
{
        struct loaded l = load_ok("base: &b\n"
                                  "  k: v\n"
                                  "use: *b\n"
                                  "again: [*b, *b]\n"
                                  "s: &s text\n"
                                  "t: *s\n");
        const struct ynode *root = l.doc->root, *base = get(root, "base");
        const struct ynode *again = get(root, "again");

        ck_assert_int_eq(base->kind, YN_MAP);
        ck_assert_ptr_eq(get(root, "use"), base);
        ck_assert_uint_eq(again->n, 2);
        ck_assert_ptr_eq(again->items[0], base);
        ck_assert_ptr_eq(again->items[1], base);
        ck_assert_ptr_eq(get(root, "t"), get(root, "s"));
        ck_assert_str_eq(get(root, "t")->str, "text");
        /* The alias is the anchored node, with its position (a block
         * mapping with properties starts at them, here the anchor). */
        expect_pos(get(root, "use"), 1, 7);
        unload(&l);

        /* The alias limit counts every node an alias brings: base is 3
         * (the mapping, k, v), so use: and again: bring 9 and t: 1 more. */
        static const char aliases[] = "base: &b\n  k: v\nuse: *b\nagain: [*b, *b]\ns: &s text\nt: *s\n";
        struct ydoc_limits lim = ydoc_default_limits;
        lim.max_alias_nodes = 10;
        l = load_lim(aliases, &lim);
        ck_assert_uint_eq(l.diags.n, 0);
        unload(&l);
        lim.max_alias_nodes = 9;
        l = load_lim(aliases, &lim);
        expect_one(&l, "yaml-alias-limit", 6, 4);
        unload(&l);
        /* A collection's weight counts the aliases inside it: [*b, *b] is
         * 7 nodes, so aliasing it brings 7. */
        lim.max_alias_nodes = 3 + 3 + 7;
        l = load_lim("base: &b {k: v}\nlist: &l [*b, *b]\nuse: *l\n", &lim);
        ck_assert_uint_eq(l.diags.n, 0);
        unload(&l);
        lim.max_alias_nodes = 3 + 3 + 6;
        l = load_lim("base: &b {k: v}\nlist: &l [*b, *b]\nuse: *l\n", &lim);
        expect_one(&l, "yaml-alias-limit", 3, 6);
        unload(&l);

        /* A later anchor of the same name shadows the earlier one. */
        l = load_ok("a: &x 1\nb: &x 2\nc: *x\n");
        ck_assert_str_eq(get(l.doc->root, "c")->str, "2");
        unload(&l);
}
END_TEST

START_TEST(test_merge_key)
{
        struct loaded l = load_ok("base: &base\n"
                                  "  a: 1\n"
                                  "  b: 2\n"
                                  "derived:\n"
                                  "  b: 3\n"
                                  "  <<: *base\n"
                                  "  c: 4\n");
        const struct ynode *root = l.doc->root, *base = get(root, "base");
        const struct ynode *d = get(root, "derived");

        ck_assert_int_eq(d->kind, YN_MAP);
        ck_assert_uint_eq(d->n, 3);
        ck_assert_ptr_null(yn_get(d, "<<"));
        ck_assert_str_eq(get(d, "a")->str, "1");
        ck_assert_ptr_eq(get(d, "a"), get(base, "a"));
        /* The explicit key wins, wherever the merge is written. */
        ck_assert_str_eq(get(d, "b")->str, "3");
        expect_pos(get(d, "b"), 5, 6);
        ck_assert_str_eq(get(d, "c")->str, "4");
        /* The merged mapping itself is untouched. */
        ck_assert_uint_eq(base->n, 2);
        ck_assert_str_eq(get(base, "b")->str, "2");
        unload(&l);
}
END_TEST

START_TEST(test_merge_list)
{
        struct loaded l = load_ok("x: &x {a: 1, b: 1}\n"
                                  "y: &y {b: 2, c: 2}\n"
                                  "z:\n"
                                  "  <<: [*x, *y]\n"
                                  "  d: 3\n");
        const struct ynode *z = get(l.doc->root, "z");

        ck_assert_uint_eq(z->n, 4);
        ck_assert_str_eq(get(z, "a")->str, "1");
        /* Earlier mappings in the list win. */
        ck_assert_str_eq(get(z, "b")->str, "1");
        ck_assert_str_eq(get(z, "c")->str, "2");
        ck_assert_str_eq(get(z, "d")->str, "3");
        unload(&l);

        /* A quoted "<<" is an ordinary key. */
        l = load_ok("x: &x {a: 1}\nz:\n  \"<<\": *x\n");
        z = get(l.doc->root, "z");
        ck_assert_uint_eq(z->n, 1);
        ck_assert_ptr_nonnull(yn_get(z, "<<"));
        ck_assert_ptr_null(yn_get(z, "a"));
        unload(&l);

        /* Merging a scalar is an error. */
        expect_only("s: &s text\nz:\n  <<: *s\n", "wrong-type", 1, 4);

        /* Duplicates among the explicit keys are still found. */
        expect_only("x: &x {a: 1}\nz:\n  <<: *x\n  b: 1\n  b: 2\n", "yaml-duplicate-key", 5, 3);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_syntax_errors)
{
        struct loaded l = load("a: b: c\n");

        expect_one(&l, "yaml-syntax", 1, 5);
        ck_assert_ptr_null(l.doc->root);
        /* The document keeps its source for quoting. */
        ck_assert_ptr_nonnull(l.doc->src);
        ck_assert_str_eq(l.doc->src, "a: b: c\n");
        unload(&l);

        l = load("a: [1, 2\nb: 3\n");
        expect_one(&l, "yaml-syntax", 0, 0);
        ck_assert_uint_ge(l.diags.v[0].line, 1);
        ck_assert_uint_le(l.diags.v[0].line, 3);
        ck_assert_uint_ge(l.diags.v[0].column, 1);
        unload(&l);

        l = load("a: \"unterminated\n");
        expect_one(&l, "yaml-syntax", 0, 0);
        ck_assert_uint_ge(l.diags.v[0].line, 1);
        ck_assert_uint_ge(l.diags.v[0].column, 1);
        unload(&l);

        expect_only("list:\n  - a\n  b: 1\n", "yaml-syntax", 3, 3);

        /* An error after a valid start still gives one diagnostic. */
        expect_only("ok: 1\nfine: [1, 2]\nbad: 'x' y\n", "yaml-syntax", 3, 0);
}
END_TEST

START_TEST(test_multi_document)
{
        struct loaded l = load("---\na: 1\n---\nb: 2\n");

        expect_one(&l, "yaml-multi-document", 3, 1);
        ck_assert_ptr_null(l.doc->root);
        unload(&l);

        expect_only("a: 1\n---\nb: 2\n", "yaml-multi-document", 2, 1);

        /* One explicit document, with or without an end marker, is fine. */
        l = load_ok("---\na: 1\n...\n");
        ck_assert_str_eq(get(l.doc->root, "a")->str, "1");
        unload(&l);
}
END_TEST

START_TEST(test_unquoted_template)
{
        struct loaded l = load("steps:\n  - {{ X }}\n");
        const struct ynode *item;

        expect_one(&l, "yaml-unquoted-template", 2, 5);
        ck_assert_ptr_nonnull(l.diags.v[0].help);
        /* Loading goes on as if the value had been quoted. */
        ck_assert_ptr_nonnull(l.doc->root);
        item = get(l.doc->root, "steps")->items[0];
        ck_assert_int_eq(item->kind, YN_SCALAR);
        ck_assert_str_eq(item->str, "{{ X }}");
        ck_assert_uint_eq(item->len, 7);
        expect_pos(item, 2, 5);
        ck_assert(yn_is_string(item));
        unload(&l);

        l = load("value: {{ X }}\n");
        expect_one(&l, "yaml-unquoted-template", 1, 8);
        ck_assert_str_eq(get(l.doc->root, "value")->str, "{{ X }}");
        unload(&l);

        l = load("value: [a, {{ X }}]\n");
        expect_one(&l, "yaml-unquoted-template", 1, 12);
        ck_assert_str_eq(get(l.doc->root, "value")->items[1]->str, "{{ X }}");
        unload(&l);

        /* Every problem is reported, not only the first. */
        l = load("a: {{ X }}\nb: {{ Y }}\na: 1\n");
        ck_assert_uint_eq(l.diags.n, 3);
        ck_assert_uint_eq(count_code(&l.diags, "yaml-unquoted-template"), 2);
        ck_assert_uint_eq(count_code(&l.diags, "yaml-duplicate-key"), 1);
        ck_assert_uint_eq(l.diags.v[1].line, 2);
        ck_assert_uint_eq(l.diags.v[1].column, 4);
        ck_assert_int_eq(l.ret, -EINVAL);
        unload(&l);

        /* Quoted, or not at the start, it is an ordinary string. */
        l = load_ok("steps:\n  - '{{ X }}'\n  - \"{{ X }}\"\n  - echo {{ X }}\n");
        ck_assert_str_eq(get(l.doc->root, "steps")->items[0]->str, "{{ X }}");
        ck_assert_str_eq(get(l.doc->root, "steps")->items[2]->str, "echo {{ X }}");
        unload(&l);

        /* A real nested flow mapping with more than one pair is no template. */
        expect_only("v: {{a: 1}: x, b: 2}\n", "wrong-type", 1, 5);
}
END_TEST

START_TEST(test_collection_key)
{
        expect_only("? [a, b]\n: 1\n", "wrong-type", 1, 3);
}
END_TEST

START_TEST(test_nul_byte)
{
        static const char src[] = "a: 1\nb: \xc3\xa9\0b: 2\n";
        struct loaded l = load_n(src, sizeof src - 1, NULL);

        expect_one(&l, "yaml-syntax", 2, 5);
        ck_assert_msg(strstr(l.diags.v[0].message, "NUL") != NULL, "%s", l.diags.v[0].message);
        ck_assert_ptr_null(l.doc->root);
        unload(&l);
}
END_TEST

/* Bytes that are not UTF-8, and control characters, are reported at the
 * character they are about (libyaml gives only a byte offset for them),
 * with the column counted in characters like every other column. */
START_TEST(test_reader_errors)
{
        static const struct {
                const char *src;
                unsigned line, column;
                const char *says;
        } cases[] = {
                { "a: 1\nb: 2\nc: x\xffy\n", 3, 5, "byte 0xFF cannot start a character" },
                /* Latin-1: the lead byte is cut short by the next one. */
                { "a: 1\n# caf\xe9 au lait\n", 2, 6, "byte 0xE9 starts a 3-byte character, but byte 0x20" },
                /* After multi-byte characters and a tab: characters, not bytes. */
                { "a: 1\nb: \xc3\xa9\xe2\x82\xac\t\xc3(\n", 2, 7, "byte 0xC3 starts a 2-byte character, but byte 0x28" },
                { "k: \xe2\x82\xac \xe2\x82", 1, 6, "ends inside the 3-byte character" },
                { "k: v\nw: \"\x1b[1m\"\n", 2, 5, "control character U+001B" },
                { "k: \xc0\xaf\n", 1, 4, "overlong" },
                { "k: \xed\xa0\x80\n", 1, 4, "U+D800" },
                /* A byte order mark is not a column, as libyaml counts. */
                { "\xef\xbb\xbfk: a\x80\n", 1, 5, "byte 0x80 cannot start a character" },
                { "\xef\xbb\xbfk: v\nx: \x7f\n", 2, 4, "control character U+007F" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                struct loaded l = load(cases[i].src);
                expect_one(&l, "yaml-syntax", cases[i].line, cases[i].column);
                ck_assert_msg(strstr(l.diags.v[0].message, cases[i].says) != NULL, "case %zu: %s", i,
                              l.diags.v[0].message);
                ck_assert_ptr_nonnull(l.diags.v[0].help);
                unload(&l);
        }
}
END_TEST

START_TEST(test_empty)
{
        struct loaded l = load("");

        ck_assert_int_eq(l.ret, 0);
        ck_assert_uint_eq(l.diags.n, 0);
        ck_assert_ptr_null(l.doc->root);
        ck_assert_uint_eq(l.doc->src_len, 0);
        unload(&l);

        l = load("# only a comment\n\n");
        ck_assert_int_eq(l.ret, 0);
        ck_assert_uint_eq(l.diags.n, 0);
        ck_assert_ptr_null(l.doc->root);
        unload(&l);
}
END_TEST

START_TEST(test_no_ret_doc)
{
        struct diag_list dl;

        memset(&dl, 0, sizeof dl);
        ck_assert_int_eq(ydoc_load_buffer(NAME, "a: 1\n", 5, NULL, NULL, &dl), 0);
        ck_assert_uint_eq(dl.n, 0);
        ck_assert_int_lt(ydoc_load_buffer(NAME, "a: 1\na: 2\n", 10, NULL, NULL, &dl), 0);
        ck_assert_uint_eq(dl.n, 1);
        ck_assert_str_eq(dl.v[0].code, "yaml-duplicate-key");
        diag_list_free(&dl);
        ck_assert_ptr_null(ydoc_free(NULL));
}
END_TEST

START_TEST(test_src_and_lines)
{
        struct loaded l = load_ok("a: 1\nb: 2\n\nc: 3");

        ck_assert_uint_eq(l.doc->src_len, 15);
        ck_assert_str_eq(l.doc->src, "a: 1\nb: 2\n\nc: 3");
        ck_assert_str_eq(l.doc->path, NAME);
        ck_assert_uint_eq(l.doc->n_lines, 4);
        ck_assert_uint_eq(l.doc->line_start[0], 0);
        ck_assert_uint_eq(l.doc->line_start[1], 5);
        ck_assert_uint_eq(l.doc->line_start[2], 10);
        ck_assert_uint_eq(l.doc->line_start[3], 11);
        expect_pos(get(l.doc->root, "c"), 4, 4);
        unload(&l);
}
END_TEST

/* ---- ydoc_open_file: the text left on disk ---- */

/* Every node's position and end under `a` and `b`, which must be the
 * same tree. */
static void expect_same_tree(const struct ydoc *da, const struct ynode *a, const struct ydoc *db,
                             const struct ynode *b)
{
        unsigned la, ca, lb, cb;

        ck_assert_int_eq(a->kind, b->kind);
        ck_assert_uint_eq(a->line, b->line);
        ck_assert_uint_eq(a->column, b->column);
        ck_assert_uint_eq(a->end, b->end);
        ydoc_end_position(da, a, &la, &ca);
        ydoc_end_position(db, b, &lb, &cb);
        ck_assert_uint_eq(la, lb);
        ck_assert_uint_eq(ca, cb);
        if (a->kind == YN_SCALAR) {
                ck_assert_uint_eq(a->len, b->len);
                ck_assert_mem_eq(a->str, b->str, a->len);
                for (size_t off = 0; off < a->len; off++) {
                        ydoc_locate_in_scalar(da, a, off, &la, &ca);
                        ydoc_locate_in_scalar(db, b, off, &lb, &cb);
                        ck_assert_msg(la == lb && ca == cb, "offset %zu of \"%s\": %u:%u on disk, %u:%u in memory",
                                      off, a->str, la, ca, lb, cb);
                }
        } else if (a->kind == YN_SEQ) {
                ck_assert_uint_eq(a->n, b->n);
                for (size_t i = 0; i < a->n; i++)
                        expect_same_tree(da, a->items[i], db, b->items[i]);
        } else {
                ck_assert_uint_eq(a->n, b->n);
                for (size_t i = 0; i < a->n; i++) {
                        expect_same_tree(da, a->pairs[i].key, db, b->pairs[i].key);
                        expect_same_tree(da, a->pairs[i].value, db, b->pairs[i].value);
                }
        }
}

/* Documents loaded with ydoc_open_file() and with ydoc_load_file(): the
 * same result, diagnostics, line index and tree, whether the text stayed
 * on disk (ASCII with LF breaks, `on_disk`) or was read whole. */
static const struct {
        const char *src;
        bool on_disk;
} open_cases[] = {
        { "a: 1\nb: [x, \"{{ y }}\"]\nc:\n  - d: e\n    f: 'g {{ h }}'\n", true },
        { "action: ExecuteBash\nx:\n  action: ExecuteBash\n  action: Reboot\n", true },
        { "", true },
        { "a: 1", true },
        { "a:\n\n\n", true },
        { "a: b\nc: {{ d }}\n", true },         /* the unquoted template reads its text back */
        { "a: \"x\x01y\"\n", true },            /* a control character: libyaml's reader error */
        { "a: [1,\n", true },                    /* a syntax error */
        { "a: 1\r\nb: \"{{ c }}\"\r\n", false },
        { "a: \xC3\xA9t\xC3\xA9\nb: \"{{ c }}\"\n", false },
        { "\xEF\xBB\xBF" "a: 1\n", false },
        { "a: 1\nb\0: 2\n", false },
};

START_TEST(test_open_file)
{
        const char *src = open_cases[_i].src;
        size_t len = _i == 11 ? 11 : strlen(src);
        char path[] = "/tmp/check_yamldoc_XXXXXX";
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, src, len), (ssize_t)len);
        close(fd);

        struct diag_list da, dm;
        struct ydoc *a = NULL, *m = NULL;
        memset(&da, 0, sizeof da);
        memset(&dm, 0, sizeof dm);
        int ra = ydoc_open_file(path, NULL, &a, &da);
        int rm = ydoc_load_file(path, NULL, &m, &dm);
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_nonnull(m);
        ck_assert_int_eq(ra, rm);
        ck_assert_uint_eq(da.n, dm.n);
        for (size_t i = 0; i < da.n; i++) {
                ck_assert_str_eq(da.v[i].code, dm.v[i].code);
                ck_assert_str_eq(da.v[i].message, dm.v[i].message);
                ck_assert_uint_eq(da.v[i].line, dm.v[i].line);
                ck_assert_uint_eq(da.v[i].column, dm.v[i].column);
                ck_assert_uint_eq(da.v[i].span, dm.v[i].span);
        }
        /* Nothing of the text is held unless something needed it. */
        if (open_cases[_i].on_disk && da.n == 0)
                ck_assert_ptr_null(a->src);
        ck_assert_int_eq(a->fd >= 0, open_cases[_i].on_disk);
        ck_assert_uint_eq(a->src_len, m->src_len);
        ck_assert_uint_eq(a->n_lines, m->n_lines);
        ck_assert_mem_eq(a->line_start, m->line_start, m->n_lines * sizeof *m->line_start);
        ck_assert_int_eq(a->ascii, m->ascii);
        ck_assert_int_eq(!a->root, !m->root);
        if (a->root)
                expect_same_tree(a, a->root, m, m->root);
        /* Read back whole, it is the file. */
        ck_assert_mem_eq(ydoc_source(a), src, len);
        ck_assert_int_eq(ydoc_source(a)[len], 0);
        ck_assert_ptr_eq(ydoc_source(a), a->src);
        ck_assert_ptr_eq(ydoc_source(m), m->src);
        ydoc_free(a);
        ydoc_free(m);
        diag_list_free(&da);
        diag_list_free(&dm);
        unlink(path);
}
END_TEST

/* The text read back from a file that lost its end since it was opened:
 * as long as it was, what is missing as spaces. */
START_TEST(test_open_file_shrunk)
{
        char path[] = "/tmp/check_yamldoc_XXXXXX";
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "a: 1\nb: 2\n", 10), 10);

        struct diag_list dl;
        struct ydoc *d = NULL;
        memset(&dl, 0, sizeof dl);
        ck_assert_int_eq(ydoc_open_file(path, NULL, &d, &dl), 0);
        ck_assert_ptr_null(d->src);
        ck_assert_int_eq(ftruncate(fd, 4), 0);
        ck_assert_str_eq(ydoc_source(d), "a: 1      ");
        ydoc_free(d);
        diag_list_free(&dl);
        close(fd);
        unlink(path);
}
END_TEST

/* ---- positions inside scalars ---- */

static void expect_located(const struct ydoc *doc, const struct ynode *s, size_t offset,
                           unsigned line, unsigned column)
{
        unsigned gl = 0, gc = 0;

        ck_assert_int_eq(s->kind, YN_SCALAR);
        ydoc_locate_in_scalar(doc, s, offset, &gl, &gc);
        ck_assert_msg(gl == line && gc == column, "offset %zu of \"%s\": %u:%u, expected %u:%u",
                      offset, s->str, gl, gc, line, column);
}

/* A scalar `key` of a document, its value `str` (NULL: not checked) and
 * where its byte `offset` is found. */
struct located {
        const char *key, *str;
        size_t offset;
        unsigned line, column;
};

static void expect_located_all(const struct ydoc *doc, const struct located *t, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const struct ynode *node = get(doc->root, t[i].key);

                if (t[i].str)
                        ck_assert_str_eq(node->str, t[i].str);
                expect_located(doc, node, t[i].offset, t[i].line, t[i].column);
        }
}

START_TEST(test_locate_in_scalar)
{
        struct loaded l = load_ok("a: run {{ x }}\n"
                                  "b: 'it''s {{ y }}'\n"
                                  "c: \"q\\t{{ z }}\"\n"
                                  "d: |\n"
                                  "  first\n"
                                  "  second {{ w }}\n"
                                  "e: \"{{ x }} {{ x }}\"\n"
                                  "f: \xc3\xa9\xc3\xa9 {{ u }}\n");
        static const struct located t[] = {
                { "a", "run {{ x }}", 4, 1, 8 },
                { "a", NULL, 0, 1, 4 },
                { "b", "it's {{ y }}", 5, 2, 11 },
                { "c", "q\t{{ z }}", 2, 3, 8 },
                { "d", "first\nsecond {{ w }}\n", 13, 6, 10 },
                /* The second of two identical references. */
                { "e", NULL, 0, 7, 5 },
                { "e", NULL, 8, 7, 13 },
                /* Columns count characters. */
                { "f", "\xc3\xa9\xc3\xa9 {{ u }}", 5, 8, 7 },
                /* Out of range: the scalar's start. */
                { "a", NULL, 100, 1, 4 },
        };

        expect_located_all(l.doc, t, sizeof t / sizeof t[0]);
        /* Not a scalar: its start. */
        unsigned gl = 0, gc = 0;
        ydoc_locate_in_scalar(l.doc, l.doc->root, 0, &gl, &gc);
        ck_assert_uint_eq(gl, 1);
        ck_assert_uint_eq(gc, 1);
        unload(&l);
}
END_TEST

/* Values whose text differs from their source right after the "{{ }}":
 * line folding and escapes.  The "{{" itself is still in the source. */
static const struct {
        const char *name, *src;
        struct located at;
} locate_cases[] = {
        { "plain folded", "a: x {{ r }}\n  more\n", { "a", "x {{ r }} more", 2, 1, 6 } },
        { "block folded", "d: >\n  one {{ v }}\n  two\n", { "d", "one {{ v }} two\n", 4, 2, 7 } },
        { "double-quoted escape", "c: \"{{t}}\\tx\"\ne: \"x {{ y }}\n  z\"\n", { "c", "{{t}}\tx", 0, 1, 5 } },
        { "double-quoted folded", "c: \"{{t}}\\tx\"\ne: \"x {{ y }}\n  z\"\n", { "e", "x {{ y }} z", 2, 2, 7 } },
        { "single-quoted doubled", "b: '{{s}}''x'\n", { "b", "{{s}}'x", 0, 1, 5 } },
        /* libyaml does not count a leading byte order mark as a column;
         * neither does ydoc_locate_in_scalar. */
        { "after a BOM", "\xef\xbb\xbf" "a: run {{ x }}\n", { "a", NULL, 4, 1, 8 } },
};

START_TEST(test_locate_case)
{
        struct loaded l = load_ok(locate_cases[_i].src);

        if (strncmp(locate_cases[_i].src, "\xef\xbb\xbf", 3) == 0)
                expect_pos(get(l.doc->root, locate_cases[_i].at.key), 1, 4);
        expect_located_all(l.doc, &locate_cases[_i].at, 1);
        unload(&l);
}
END_TEST

#include "check_main.h"

static Suite *yamldoc_suite(void)
{
        const struct check_test structure_tests[] = {
                CHECK_TEST(test_kinds_and_positions),
                CHECK_TEST(test_ends_with_utf8),
                CHECK_TEST(test_indentless_sequence),
                CHECK_TEST(test_utf8_columns),
                CHECK_TEST(test_json),
                CHECK_TEST(test_lookup),
                CHECK_TEST(test_src_and_lines),
        };
        const struct check_test scalars_tests[] = {
                CHECK_TEST(test_scalar_styles),
                CHECK_TEST(test_scalar_resolution),
                CHECK_TEST(test_null),
                CHECK_TEST(test_schema_version_forms),
        };
        const struct check_test keys_and_aliases_tests[] = {
                CHECK_TEST(test_duplicate_key),
                CHECK_TEST(test_duplicate_key_nested),
                CHECK_TEST(test_duplicate_key_all_reported),
                CHECK_TEST(test_alias_shared),
                CHECK_TEST(test_merge_key),
                CHECK_TEST(test_merge_list),
                CHECK_TEST(test_collection_key),
        };
        const struct check_test limits_tests[] = {
                CHECK_TEST(test_too_large),
                CHECK_TEST(test_too_deep),
                CHECK_TEST(test_alias_bomb),
                CHECK_TEST(test_recursive_alias),
        };
        const struct check_test errors_tests[] = {
                CHECK_TEST(test_syntax_errors),
                CHECK_TEST(test_undefined_alias),
                CHECK_TEST(test_multi_document),
                CHECK_TEST(test_unquoted_template),
                CHECK_TEST(test_nul_byte),
                CHECK_TEST(test_reader_errors),
                CHECK_TEST(test_empty),
                CHECK_TEST(test_no_ret_doc),
                CHECK_LOOP(test_open_file, open_cases),
                CHECK_TEST(test_open_file_shrunk),
        };
        const struct check_test locate_tests[] = {
                CHECK_TEST(test_locate_in_scalar),
                CHECK_LOOP(test_locate_case, locate_cases),
        };
        const struct check_case cases[] = {
                CHECK_CASE("structure", 0, structure_tests),
                CHECK_CASE("scalars", 0, scalars_tests),
                CHECK_CASE("keys and aliases", 0, keys_and_aliases_tests),
                CHECK_CASE("limits", 0, limits_tests),
                CHECK_CASE("errors", 0, errors_tests),
                CHECK_CASE("locate", 0, locate_tests),
        };

        return CHECK_SUITE("yamldoc", cases);
}

CHECK_MAIN(yamldoc_suite)
