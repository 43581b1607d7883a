/* check_template.c: unit tests of interpreter/template.c: tmpl_scan
 * splitting strings into literal text and `{{ }}` references (offsets,
 * lengths, trimmed expressions, errors for unterminated and empty
 * references), tmpl_has_refs, and ref_parse classifying one reference as a
 * variable, a loop variable, an input/output chain or a Systems Manager
 * parameter, with the malformed forms rejected. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

/* Scans a NUL-terminated string that must scan without error. */
static struct tmpl scan_ok(const char *s)
{
        struct tmpl t = { 0 };
        size_t off = (size_t)-1;
        const char *msg = NULL;
        int r = tmpl_scan(s, strlen(s), &t, &off, &msg);

        ck_assert_msg(r == 0, "tmpl_scan(\"%s\") = %d (%s at %zu)", s, r, msg ? msg : "?", off);
        return t;
}

static void check_seg(const struct tmpl *t, size_t i, enum tmpl_seg_kind kind, size_t offset,
                      size_t len, const char *text)
{
        ck_assert_uint_lt(i, t->n);
        ck_assert_int_eq(t->segs[i].kind, kind);
        ck_assert_uint_eq(t->segs[i].offset, offset);
        ck_assert_uint_eq(t->segs[i].len, len);
        ck_assert_str_eq(t->segs[i].text, text);
}

/* Every byte of the string belongs to exactly one segment, in order. */
static void check_tiling(const struct tmpl *t, size_t len)
{
        size_t at = 0;

        for (size_t i = 0; i < t->n; i++) {
                ck_assert_uint_eq(t->segs[i].offset, at);
                ck_assert_uint_gt(t->segs[i].len, 0);
                at += t->segs[i].len;
        }
        ck_assert_uint_eq(at, len);
}

/* Strings that scan, with their segments in order. */
static const struct scan_case {
        const char *s;
        size_t n, n_refs;
        struct {
                enum tmpl_seg_kind kind;
                size_t offset, len;
                const char *text;
        } segs[4];
} scan_cases[] = {
        { "a {{ x }} b {{y}}", 4, 2,
          { { TSEG_TEXT, 0, 2, "a " }, { TSEG_REF, 2, 7, "x" }, { TSEG_TEXT, 9, 3, " b " }, { TSEG_REF, 12, 5, "y" } } },
        /* The expression is trimmed; the reference spans its braces. */
        { "{{ \t build.Step.outputs.stdout \n}}!", 2, 1,
          { { TSEG_REF, 0, 34, "build.Step.outputs.stdout" }, { TSEG_TEXT, 34, 1, "!" } } },
        { "plain text with { single } braces }}", 1, 0,
          { { TSEG_TEXT, 0, 36, "plain text with { single } braces }}" } } },
        { "", 0, 0, { { 0 } } },
        { "{{a}}{{ b }}{{c}}", 3, 3, { { TSEG_REF, 0, 5, "a" }, { TSEG_REF, 5, 7, "b" }, { TSEG_REF, 12, 5, "c" } } },
};

START_TEST(test_scan_forms)
{
        const struct scan_case *c = &scan_cases[_i];
        struct tmpl t = scan_ok(c->s);

        ck_assert_uint_eq(t.n, c->n);
        ck_assert_uint_eq(t.n_refs, c->n_refs);
        for (size_t i = 0; i < c->n; i++)
                check_seg(&t, i, c->segs[i].kind, c->segs[i].offset, c->segs[i].len, c->segs[i].text);
        check_tiling(&t, strlen(c->s));
        tmpl_free(&t);
        ck_assert_ptr_null(t.segs);
        ck_assert_uint_eq(t.n, 0);
        ck_assert_uint_eq(t.n_refs, 0);
}
END_TEST

START_TEST(test_has_refs)
{
        ck_assert(!tmpl_has_refs("a { b } c", 9));
        ck_assert(!tmpl_has_refs("{", 1));
        ck_assert(!tmpl_has_refs("", 0));
        ck_assert(tmpl_has_refs("x{{", 3));
        /* Only the first `len` bytes count. */
        ck_assert(!tmpl_has_refs("x{{", 2));
}
END_TEST

START_TEST(test_scan_many_segments)
{
        /* Enough segments to make the array grow several times. */
        char s[400];
        size_t len = 0;

        for (int i = 0; i < 20; i++)
                len += (size_t)snprintf(s + len, sizeof s - len, "t%d{{v%d}}", i, i);
        struct tmpl t = scan_ok(s);

        ck_assert_uint_eq(t.n, 40);
        ck_assert_uint_eq(t.n_refs, 20);
        check_tiling(&t, len);
        for (int i = 0; i < 20; i++) {
                char want[16];

                snprintf(want, sizeof want, "t%d", i);
                ck_assert_int_eq(t.segs[2 * i].kind, TSEG_TEXT);
                ck_assert_str_eq(t.segs[2 * i].text, want);
                snprintf(want, sizeof want, "v%d", i);
                ck_assert_int_eq(t.segs[2 * i + 1].kind, TSEG_REF);
                ck_assert_str_eq(t.segs[2 * i + 1].text, want);
        }
        tmpl_free(&t);
}
END_TEST

START_TEST(test_scan_respects_len)
{
        /* The string is not read past `len`, NUL or no NUL. */
        const char *s = "ab{{ x }}cd";
        struct tmpl t = { 0 };
        size_t off = 0;
        const char *msg = NULL;

        ck_assert_int_eq(tmpl_scan(s, 2, &t, &off, &msg), 0);
        ck_assert_uint_eq(t.n, 1);
        check_seg(&t, 0, TSEG_TEXT, 0, 2, "ab");
        tmpl_free(&t);

        ck_assert_int_eq(tmpl_scan(s, 8, &t, &off, &msg), -EINVAL);
        ck_assert_uint_eq(off, 2);
}
END_TEST

/* tmpl_scan() refuses the first `len` bytes of `s` at offset `off`, with
 * a message holding `word` (when not NULL), and returns nothing. */
static void expect_scan_fails(const char *s, size_t len, size_t off, const char *word)
{
        struct tmpl t = { 0 };
        size_t got = 999;
        const char *msg = NULL;
        int r = tmpl_scan(s, len, &t, &got, &msg);

        ck_assert_msg(r == -EINVAL, "\"%.40s\": %d", s, r);
        ck_assert_uint_eq(got, off);
        ck_assert_ptr_nonnull(msg);
        if (word)
                ck_assert_msg(strstr(msg, word) != NULL, "message \"%s\"", msg);
        /* Nothing is returned on error. */
        ck_assert_ptr_null(t.segs);
        ck_assert_uint_eq(t.n, 0);
}

START_TEST(test_scan_unterminated)
{
        expect_scan_fails("abc {{ x", 8, 4, "}}");
        expect_scan_fails("{{", 2, 0, "}}");
        expect_scan_fails("x {{ y }", 8, 2, "}}");
        expect_scan_fails("{{ a }} and {{ b", 16, 12, "}}");
}
END_TEST

START_TEST(test_scan_empty_ref)
{
        expect_scan_fails("{{  }}", 6, 0, "empty");
        expect_scan_fails("{{}}", 4, 0, "empty");
        expect_scan_fails("x {{ ok }} y {{ \t\n }}", 21, 13, "empty");
}
END_TEST

START_TEST(test_scan_too_long)
{
        size_t n = 5000;
        char *s = malloc(n + 5);

        ck_assert_ptr_nonnull(s);
        memcpy(s, "{{", 2);
        memset(s + 2, 'x', n);
        memcpy(s + 2 + n, "}}", 3);
        expect_scan_fails(s, n + 4, 0, NULL);
        free(s);
}
END_TEST

/* Parses an expression that must be accepted. */
static struct ref parse_ok(const char *expr)
{
        struct ref r;
        const char *msg = NULL;
        int res;

        memset(&r, 0, sizeof r);
        res = ref_parse(expr, &r, &msg);
        ck_assert_msg(res == 0, "ref_parse(\"%s\") = %d: %s", expr, res, msg ? msg : "?");
        return r;
}

static void parse_fails(const char *expr)
{
        struct ref r;
        const char *msg = NULL;
        int res;

        memset(&r, 0, sizeof r);
        res = ref_parse(expr, &r, &msg);
        if (res == 0)
                ref_free(&r);
        ck_assert_msg(res == -EINVAL, "ref_parse(\"%s\") = %d, expected -EINVAL", expr, res);
        ck_assert_msg(msg != NULL && *msg, "ref_parse(\"%s\"): no message", expr);
}

/* Every accepted form, with each field of struct ref that ref_parse must
 * fill in: a field the form does not use is NULL, false or -1 (index),
 * as ref_free leaves them all. */
static const struct ref_case {
        const char *expr;
        enum ref_kind kind;
        const char *name, *phase, *step;
        bool outputs;
        long index;
        const char *key;
        bool loop_index;
        const char *ssm;
        bool ssm_resolve;
} ref_cases[] = {
#define VARIABLE(e, n) { .expr = (e), .kind = REF_VARIABLE, .name = (n), .index = -1 }
#define LOOP(e, n, idx) { .expr = (e), .kind = REF_LOOP, .name = (n), .index = -1, .loop_index = (idx) }
#define CHAIN(e, p, s, out, i, k) \
        { .expr = (e), .kind = REF_CHAIN, .phase = (p), .step = (s), .outputs = (out), .index = (i), .key = (k) }
#define SSM(e, path, res) { .expr = (e), .kind = REF_SSM, .index = -1, .ssm = (path), .ssm_resolve = (res) }
        VARIABLE("myParam", "myParam"),
        VARIABLE("some_name-2", "some_name-2"),
        LOOP("loop.index", "loop", true),
        LOOP("loop.value", "loop", false),
        LOOP("myLoop.value", "myLoop", false),
        LOOP("myLoop.index", "myLoop", true),
        /* phase.step.outputs/inputs[index].key: step names may hold
         * spaces, keys dots; no index is -1. */
        CHAIN("build.Step.outputs.stdout", "build", "Step", true, -1, "stdout"),
        CHAIN("phase.step.outputs[0].stdout", "phase", "step", true, 0, "stdout"),
        CHAIN("build.Step.inputs[1].source", "build", "Step", false, 1, "source"),
        CHAIN("validate.Check.inputs[12].path", "validate", "Check", false, 12, "path"),
        CHAIN("build.Step.inputs.source", "build", "Step", false, -1, "source"),
        CHAIN("build.My Step.outputs.stdout", "build", "My Step", true, -1, "stdout"),
        CHAIN("build.Step.outputs.a.b.c", "build", "Step", true, -1, "a.b.c"),
        CHAIN("build.Step.outputs[2].file.name", "build", "Step", true, 2, "file.name"),
        SSM("aws:ssm:/my/param", "/my/param", false),
        /* Dots in a parameter name do not make it a chain. */
        SSM("aws:ssm:/a.b/c.d.e.f", "/a.b/c.d.e.f", false),
        SSM("aws:ssm:resolve(name)", "name", true),
        SSM("aws:ssm:resolve(build.Step.outputs.stdout)", "build.Step.outputs.stdout", true),
#undef VARIABLE
#undef LOOP
#undef CHAIN
#undef SSM
};

START_TEST(test_ref_forms)
{
        const struct ref_case *c = &ref_cases[_i];
        struct ref r = parse_ok(c->expr);

        ck_assert_int_eq(r.kind, c->kind);
        ck_assert_pstr_eq(r.name, c->name);
        ck_assert_pstr_eq(r.phase, c->phase);
        ck_assert_pstr_eq(r.step, c->step);
        ck_assert(r.outputs == c->outputs);
        ck_assert_int_eq(r.index, c->index);
        ck_assert_pstr_eq(r.key, c->key);
        ck_assert(r.loop_index == c->loop_index);
        ck_assert_pstr_eq(r.ssm, c->ssm);
        ck_assert(r.ssm_resolve == c->ssm_resolve);
        ref_free(&r);
        ck_assert_ptr_null(r.name);
        ck_assert_ptr_null(r.phase);
        ck_assert_ptr_null(r.step);
        ck_assert_ptr_null(r.key);
        ck_assert_ptr_null(r.ssm);
        ck_assert_int_eq(r.index, -1);
}
END_TEST

START_TEST(test_ref_errors)
{
        static const char *const bad[] = {
                "a.b.c",                    /* three parts */
                "a..b",                     /* empty part */
                ".a",
                "a.",
                "build.Step.output.stdout", /* "output" for "outputs" */
                "build.Step.outputz.stdout",
                "aws:ssm:",                 /* no parameter name */
                "aws:ssm:resolve()",
                "aws:ssm:resolve(name",
                "build.Step.inputs[x].k",
                "build.Step.inputs[].k",
                "build.Step.inputs[1.k",
                "build.Step.inputs[1]x.k",
                "build.Step.outputs[-1].k",
                "build..outputs.stdout",
                "build.Step.outputs.",
                "loop.idx",
        };

        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
                parse_fails(bad[i]);
}
END_TEST

START_TEST(test_ref_error_leaves_ret_alone)
{
        struct ref r = { .kind = REF_SSM, .index = 7 };
        const char *msg = NULL;

        ck_assert_int_eq(ref_parse("a.b.c", &r, &msg), -EINVAL);
        ck_assert_int_eq(r.kind, REF_SSM);
        ck_assert_int_eq(r.index, 7);
        ck_assert_ptr_null(r.name);
        ck_assert_ptr_nonnull(msg);
        /* The message names the forms that exist. */
        ck_assert_msg(strstr(msg, "outputs") && strstr(msg, "loop.index") && strstr(msg, "aws:ssm"),
                      "message \"%s\"", msg);
}
END_TEST

START_TEST(test_scan_then_parse)
{
        /* The trimmed expressions from tmpl_scan are what ref_parse takes. */
        const char *s = "echo {{ build.My Step.outputs.stdout }} {{ loop.value }} {{ aws:ssm:/p }}";
        struct tmpl t = scan_ok(s);
        enum ref_kind want[] = { REF_CHAIN, REF_LOOP, REF_SSM };
        size_t k = 0;

        ck_assert_uint_eq(t.n_refs, 3);
        for (size_t i = 0; i < t.n; i++) {
                if (t.segs[i].kind != TSEG_REF)
                        continue;
                struct ref r = parse_ok(t.segs[i].text);

                ck_assert_int_eq(r.kind, want[k++]);
                ref_free(&r);
        }
        ck_assert_uint_eq(k, 3);
        tmpl_free(&t);
}
END_TEST

/* tmpl_split: only reference-shaped braces are references; the rest is
 * kept, as written, as TSEG_OTHER (issue 10, item 8). */
START_TEST(test_split_other_templates)
{
        static const struct {
                const char *s;
                size_t refs, others;
        } t[] = {
                { "docker inspect -f '{{.State.Running}}' c", 0, 1 },
                { "{{ if .Values.x }}{{ .Values.x | quote }}{{ end }}", 0, 3 },
                { "{{- template \"x\" . -}} {{ Name }}", 1, 1 },
                { "echo {{ $x := 1 }} {{ printf \"%s\" .N }}", 0, 2 },
                { "a {{ }} b {{ loop.value }}", 1, 1 },
                { "{{ build.My Step.outputs.stdout }} {{ x", 1, 1 },
                { "{{ aws:ssm:/a/b:3 }}{{aws:ssm:resolve(P)}}", 2, 0 },
                { "{{ loop . value }}", 0, 1 },
        };
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
                struct tmpl m;
                size_t refs = 0, others = 0, bytes = 0;
                tmpl_split(t[i].s, strlen(t[i].s), &m);
                for (size_t k = 0; k < m.n; k++) {
                        refs += m.segs[k].kind == TSEG_REF;
                        if (m.segs[k].kind == TSEG_OTHER) {
                                others++;
                                ck_assert_ptr_nonnull(m.segs[k].note);
                        }
                        ck_assert_uint_eq(m.segs[k].offset, bytes);
                        bytes += m.segs[k].len;
                }
                ck_assert_msg(refs == t[i].refs && others == t[i].others, "\"%s\": %zu refs, %zu others", t[i].s,
                              refs, others);
                ck_assert_uint_eq(bytes, strlen(t[i].s));
                tmpl_free(&m);
        }
}
END_TEST

START_TEST(test_ssm_names)
{
        static const char *const good[] = {
                "/my/param", "MyParam", "/my/param:3", "/my/param:prod-label", "name:label_1",
                "arn:aws:ssm:us-east-2:111122223333:parameter/MyParam",
                "arn:aws:ssm:us-east-2:111122223333:parameter/my/param:7",
                "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
                "/aws/reference/secretsmanager/db+pass@x",
        };
        static const char *const bad[] = {
                "", "my param", "/my/pa$ram", "my/param", "/p:", "/p:aws-label", "/p:1abc", "/p:ssm",
                "arn:aws:ssm:us-east-2:acct:parameter/x", "arn:aws:s3:us-east-2:111122223333:parameter/x",
                "arn:aws:ssm:us-east-2:111122223333:document/x", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q",
        };
        const char *why;
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
                ck_assert_msg(ssm_name_check(good[i], &why) == 0, "%s: %s", good[i], why);
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                why = NULL;
                ck_assert_msg(ssm_name_check(bad[i], &why) == -EINVAL && why, "%s accepted", bad[i]);
        }
        char *longname = calloc(1, 1100);
        memset(longname, 'a', 1012);
        ck_assert_int_eq(ssm_name_check(longname, &why), -EINVAL);
        free(longname);
}
END_TEST

#include "check_main.h"

static Suite *template_suite(void)
{
        const struct check_test scan_tests[] = {
                CHECK_LOOP(test_scan_forms, scan_cases),
                CHECK_TEST(test_has_refs),
                CHECK_TEST(test_scan_many_segments),
                CHECK_TEST(test_scan_respects_len),
                CHECK_TEST(test_scan_unterminated),
                CHECK_TEST(test_scan_empty_ref),
                CHECK_TEST(test_scan_too_long),
        };
        const struct check_test ref_parse_tests[] = {
                CHECK_LOOP(test_ref_forms, ref_cases),
                CHECK_TEST(test_ref_errors),
                CHECK_TEST(test_ref_error_leaves_ret_alone),
                CHECK_TEST(test_scan_then_parse),
        };
        const struct check_test split_tests[] = {
                CHECK_TEST(test_split_other_templates),
                CHECK_TEST(test_ssm_names),
        };
        const struct check_case cases[] = {
                CHECK_CASE("scan", 0, scan_tests),
                CHECK_CASE("ref_parse", 0, ref_parse_tests),
                CHECK_CASE("split", 0, split_tests),
        };

        return CHECK_SUITE("template", cases);
}

CHECK_MAIN(template_suite)
