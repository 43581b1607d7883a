/* check_vm.c: the VM's state round trip and the .otc loader, over every
 * program of tests/cases/compile.
 *
 * Round trip: each program runs once without interruption against a
 * deterministic fake host (actions fail or succeed by a hash of step,
 * iteration and attempt), recording every yield and event.  Then, for
 * every instruction count k, a fresh VM runs k instructions, saves its
 * state as JSON text, is freed, is restored from the text, and runs to
 * the end: the record and the final state must equal the baseline's.
 *
 * Loader: a serialised program loads back to the same bytes; every
 * truncation and every single-byte change is rejected.
 *
 * Verifier and loops: hand-made programs that would not terminate are
 * refused, and `for` loops at the ends of the 64-bit range run exactly
 * the iterations the checker counts, up to exactly its limit; constants
 * a hostile .otc file may hold are refused when it loads. */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "opcodes.h"
#include "program.h"
#include "strbuf.h"
#include "strv.h"
#include "predicates.h"
#include "vm.h"

struct sim {
        struct strbuf log;
};

static const char *srcdir(void)
{
        const char *d = getenv("top_srcdir");
        return d && *d ? d : ".";
}

static void on_event(void *userdata, struct vm *vm, enum vm_event ev, uint32_t index)
{
        struct sim *s = userdata;
        sb_printf(&s->log, "ev %d %u pc %u\n", (int)ev, index, vm->pc);
}

static int on_pred(void *userdata, const struct predicate *p, const char *operand, const char *value, bool *ret,
                   char **err)
{
        (void)userdata;
        return pred_eval(p, operand, value, ret, err);
}

static unsigned fnv(const char *s, unsigned h)
{
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 16777619u;
        return h;
}

/* Completes the pending action the way the fake host decides. */
static void simulate(struct sim *s, struct vm *vm)
{
        const struct vm_pending *pd = &vm->pending;
        const char *name = vm->prog->steps[pd->step].name;
        unsigned attempt = vm->steps[pd->step].attempts;
        unsigned h = fnv(name, 2166136261u) ^ (unsigned)(pd->iteration + 7) * 31u ^ attempt * 131u;
        bool ok = h % 3 != 0;
        char *in = json_dumps(pd->inputs, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        sb_printf(&s->log, "act %s it %ld att %u -> %d inputs %s\n", name, pd->iteration, attempt, ok, in);
        free(in);
        json_t *outs = json_array();
        size_t entries = json_is_array(pd->inputs) ? json_array_size(pd->inputs) : 1;
        for (size_t e = 0; e < entries; e++) {
                char *v = xasprintf("%s#%ld#%u#%zu", name, pd->iteration, attempt, e);
                json_array_append_new(outs, json_pack("{s:s}", "stdout", v));
                free(v);
        }
        ck_assert_int_eq(vm_complete(vm, ok, outs, ok ? NULL : "simulated failure"), 0);
}

/* Runs until the end (or until the budget pauses it). */
static enum vm_status drive(struct sim *s, struct vm *vm)
{
        enum vm_status st;
        while ((st = vm_run(vm)) == VM_YIELD)
                simulate(s, vm);
        return st;
}

static char *state_text(const struct vm *vm)
{
        json_t *j = vm_save(vm);
        char *t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(j);
        return t;
}

static struct program *compile_case(const char *dir)
{
        char *path = xasprintf("%s/tests/cases/compile/%s/input.yml", srcdir(), dir);
        struct diag_list diags = { 0 };
        struct program *p = NULL;
        struct check_options opts = { .platforms = PLAT_LINUX };
        int r = comp_load(path, &opts, &p, &diags, NULL);
        ck_assert_msg(r == 0, "%s does not compile (%zu diagnostics)", path, diags.n);
        diag_list_free(&diags);
        free(path);
        return p;
}

static size_t list_cases(char ***ret)
{
        char *root = xasprintf("%s/tests/cases/compile", srcdir());
        DIR *d = opendir(root);
        ck_assert_msg(d != NULL, "cannot open %s", root);
        char **names = NULL;
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.' || !strcmp(e->d_name, "default-args"))
                        continue;
                names = xrealloc(names, (n + 1) * sizeof *names);
                names[n++] = xstrdup(e->d_name);
        }
        closedir(d);
        free(root);
        ck_assert_uint_gt(n, 3);
        *ret = names;
        return n;
}



/* The library's calls, with their message copied into the test's buffer
 * (the tests read it and free nothing). */
static int deserialize(const unsigned char *buf, size_t len, struct program **ret, char *err, size_t n)
{
        char *msg = NULL;
        int r = prog_deserialize(buf, len, ret, &msg);
        snprintf(err, n, "%s", msg ? msg : "");
        free(msg);
        return r;
}

static struct vm *restore(const struct program *p, const struct vm_host *host, json_t *st, char *err, size_t n)
{
        char *msg = NULL;
        struct vm *vm = vm_restore(p, host, st, &msg);
        snprintf(err, n, "%s", msg ? msg : "");
        free(msg);
        return vm;
}

static int verify(const struct program *p, char *err, size_t n)
{
        char *msg = NULL;
        int r = prog_verify(p, &msg);
        snprintf(err, n, "%s", msg ? msg : "");
        free(msg);
        return r;
}

START_TEST(test_state_round_trip_at_every_instruction)
{
        char **cases;
        size_t n = list_cases(&cases);
        for (size_t c = 0; c < n; c++) {
                struct program *p = compile_case(cases[c]);
                struct sim base = { STRBUF_INIT };
                struct vm_host host = { .userdata = &base, .event = on_event, .pred = on_pred };
                struct vm *vm = vm_new(p, &host, NULL, NULL);
                ck_assert_int_eq(drive(&base, vm), VM_DONE);
                uint64_t total = vm->instructions;
                char *final = state_text(vm);
                vm_free(vm);
                ck_assert_uint_gt(total, 5);
                for (uint64_t k = 1; k < total; k++) {
                        struct sim s = { STRBUF_INIT };
                        host.userdata = &s;
                        vm = vm_new(p, &host, NULL, NULL);
                        vm->budget = k;
                        enum vm_status st = drive(&s, vm);
                        ck_assert_msg(st == VM_PAUSED, "%s: no pause after %llu instructions", cases[c],
                                      (unsigned long long)k);
                        char *saved = state_text(vm);
                        vm_free(vm);
                        json_t *j = json_loads(saved, JSON_ALLOW_NUL, NULL);
                        char err[256] = "";
                        vm = restore(p, &host, j, err, sizeof err);
                        ck_assert_msg(vm != NULL, "%s: restore after %llu failed: %s", cases[c],
                                      (unsigned long long)k, err);
                        json_decref(j);
                        free(saved);
                        ck_assert_int_eq(drive(&s, vm), VM_DONE);
                        char *end = state_text(vm);
                        ck_assert_msg(!strcmp(end, final), "%s: final state differs after a round trip at %llu",
                                      cases[c], (unsigned long long)k);
                        ck_assert_msg(!strcmp(sb_str(&s.log), sb_str(&base.log)),
                                      "%s: the run differs after a round trip at %llu:\n%s\n---\n%s", cases[c],
                                      (unsigned long long)k, sb_str(&s.log), sb_str(&base.log));
                        free(end);
                        vm_free(vm);
                        sb_free(&s.log);
                }
                free(final);
                sb_free(&base.log);
                prog_free(p);
        }
        strv_free_n(cases, n);
}
END_TEST

START_TEST(test_restore_rejects_foreign_state)
{
        char **cases;
        size_t n = list_cases(&cases);
        struct program *a = compile_case(cases[0]), *b = compile_case(cases[1]);
        struct vm_host host = { .pred = on_pred };
        struct vm *vm = vm_new(a, &host, NULL, NULL);
        json_t *st = vm_save(vm);
        char err[256];
        ck_assert_ptr_null(restore(b, &host, st, err, sizeof err));
        ck_assert_ptr_nonnull(strstr(err, "different document"));
        /* A bad pc is caught even with the right digest. */
        json_object_set_new(st, "pc", json_integer(1000000));
        ck_assert_ptr_null(restore(a, &host, st, err, sizeof err));
        json_decref(st);
        vm_free(vm);
        prog_free(a);
        prog_free(b);
        strv_free_n(cases, n);
}
END_TEST

START_TEST(test_otc_round_trip_and_corruption)
{
        char **cases;
        size_t n = list_cases(&cases);
        for (size_t c = 0; c < n; c++) {
                struct program *p = compile_case(cases[c]);
                unsigned char *buf, *again;
                size_t len, len2;
                ck_assert_int_eq(prog_serialize(p, &buf, &len), 0);
                struct program *q = NULL;
                char err[256];
                ck_assert_msg(deserialize(buf, len, &q, err, sizeof err) == 0, "%s: %s", cases[c], err);
                ck_assert_int_eq(prog_serialize(q, &again, &len2), 0);
                ck_assert_uint_eq(len, len2);
                ck_assert_int_eq(memcmp(buf, again, len), 0);
                free(again);
                prog_free(q);
                for (size_t cut = 0; cut < len; cut += 1 + cut / 64) {
                        struct program *t = NULL;
                        ck_assert_msg(deserialize(buf, cut, &t, err, sizeof err) < 0, "%s: truncated at %zu loads",
                                      cases[c], cut);
                }
                for (size_t i = 0; i < len; i += 1 + i / 128) {
                        buf[i] ^= 0x20;
                        struct program *t = NULL;
                        ck_assert_msg(deserialize(buf, len, &t, err, sizeof err) < 0,
                                      "%s: byte %zu changed and it still loads", cases[c], i);
                        buf[i] ^= 0x20;
                }
                free(buf);
                prog_free(p);
        }
        strv_free_n(cases, n);
}
END_TEST

START_TEST(test_otc_wrong_version)
{
        char **cases;
        size_t n = list_cases(&cases);
        struct program *p = compile_case(cases[0]);
        unsigned char *buf;
        size_t len;
        ck_assert_int_eq(prog_serialize(p, &buf, &len), 0);
        buf[4] = 99;
        struct program *t = NULL;
        char err[256];
        ck_assert_int_lt(deserialize(buf, len, &t, err, sizeof err), 0);
        ck_assert_ptr_nonnull(strstr(err, "version 99"));
        /* A file of an older opentoe is refused with what to do about it. */
        buf[4] = 1;
        ck_assert_int_lt(deserialize(buf, len, &t, err, sizeof err), 0);
        ck_assert_msg(strstr(err, "version 1 ") && strstr(err, "compile the document again"), "%s", err);
        ck_assert_int_lt(deserialize((const unsigned char *)"NOPE", 4, &t, err, sizeof err), 0);
        ck_assert_ptr_nonnull(strstr(err, "magic"));
        free(buf);
        prog_free(p);
        strv_free_n(cases, n);
}
END_TEST

/* Finds the first instruction with opcode op at or after pc. */
static size_t find_op(const struct program *p, size_t pc, enum opcode op)
{
        while (pc < p->n_code && op_get(p->code[pc]) != op)
                pc++;
        ck_assert_uint_lt(pc, p->n_code);
        return pc;
}

static bool verifies(const struct program *p)
{
        char err[256];
        return verify(p, err, sizeof err) == 0;
}

/* Hand-made programs that would not terminate, or would grow without
 * bound, are refused by the verifier (a .otc file may be hostile). */
START_TEST(test_verifier_refuses_non_terminating_programs)
{
        struct program *p = compile_case("loops-consolidated");
        ck_assert(verifies(p));
        size_t act = find_op(p, 0, OP_ACT);
        uint32_t saved = p->code[act];
        /* A jump back to the start. */
        p->code[act] = op_sj(OP_JMP, -2); /* back to the RENDER before it */
        ck_assert(!verifies(p));
        /* RETRY to something other than ATTEMPT. */
        size_t retry = find_op(p, 0, OP_RETRY);
        uint32_t saved_retry = p->code[retry];
        p->code[act] = saved;
        p->code[retry] = op_asbx(OP_RETRY, op_a(saved_retry), -2);
        ck_assert(!verifies(p));
        p->code[retry] = saved_retry;
        ck_assert(verifies(p));
        /* A LOOPNEXT whose body re-initialises its own loop. */
        size_t init = find_op(p, 0, OP_LOOPINIT), next = find_op(p, init, OP_LOOPNEXT);
        uint32_t saved_next = p->code[next];
        p->code[next] = op_asbx(OP_LOOPNEXT, op_a(saved_next), (int)init - (int)next - 1);
        ck_assert(!verifies(p));
        p->code[next] = saved_next;
        /* A loop body that writes its own iterator register. */
        size_t body_render = find_op(p, init, OP_RENDER);
        uint32_t saved_render = p->code[body_render];
        p->code[body_render] = op_abx(OP_RENDER, op_a(p->code[init]), op_bx(saved_render));
        ck_assert(!verifies(p));
        p->code[body_render] = saved_render;
        /* A RETRY whose ATTEMPT counts another step's attempts. */
        size_t attempt = find_op(p, 0, OP_ATTEMPT);
        uint32_t saved_attempt = p->code[attempt];
        p->code[attempt] = op_abx(OP_ATTEMPT, 0, op_bx(saved_attempt) + 1);
        ck_assert(!verifies(p));
        p->code[attempt] = saved_attempt;
        ck_assert(verifies(p));
        /* An ACT that runs another action than its step's, or one that
         * does not exist. */
        ck_assert_uint_eq(op_c(saved), ACTION_ID_ExecuteBash);
        p->code[act] = op_abc(OP_ACT, op_a(saved), op_b(saved), ACTION_ID_DeleteFolder);
        ck_assert(!verifies(p));
        p->code[act] = op_abc(OP_ACT, op_a(saved), op_b(saved), _ACTION_ID_MAX);
        ck_assert(!verifies(p));
        p->code[act] = saved;
        ck_assert(verifies(p));
        /* A loop of 10^18 iterations. */
        struct kconst *k = &p->k[op_bx(p->code[init])];
        struct kconst old = *k;
        ck_assert_int_eq(k->kind, K_LOOP_FOR);
        *k = (struct kconst){ .kind = K_LOOP_FOR, .start = 0, .end = 1000000000000000000LL, .by = 1 };
        ck_assert(!verifies(p));
        *k = old;
        ck_assert(verifies(p));
        prog_free(p);

        /* A step whose inputs read its own inputs (they would double each time). */
        p = compile_case("chaining-across-phases");
        ck_assert(verifies(p));
        size_t render = find_op(p, find_op(p, 0, OP_STEP) + 1, OP_RENDER);
        struct kseg *seg = xcalloc(1, sizeof *seg);
        *seg = (struct kseg){ .kind = KSEG_INPUT, .index = 0, .entry = 0, .text = xstrdup("commands"), .len = 8 };
        size_t ki = p->n_k;
        p->k = xrealloc(p->k, (p->n_k + 1) * sizeof *p->k);
        p->k[p->n_k++] = (struct kconst){ .kind = K_TEMPLATE, .node = { .kind = KN_TEMPLATE, .tmpl = { seg, 1 } } };
        p->code[render] = op_abx(OP_RENDER, op_a(p->code[render]), (unsigned)ki);
        ck_assert(!verifies(p));
        prog_free(p);
}
END_TEST

/* Replaces the `for` constant of the program's first loop. */
static void set_first_for(struct program *p, int64_t start, int64_t end, int64_t by)
{
        size_t init = find_op(p, 0, OP_LOOPINIT);
        p->k[op_bx(p->code[init])] = (struct kconst){ .kind = K_LOOP_FOR, .start = start, .end = end, .by = by };
}

/* Whether p survives being written to .otc bytes and read back. */
static bool loads(const struct program *p)
{
        unsigned char *buf;
        size_t len;
        struct program *q = NULL;
        char err[256];
        ck_assert_int_eq(prog_serialize(p, &buf, &len), 0);
        int r = deserialize(buf, len, &q, err, sizeof err);
        free(buf);
        prog_free(q);
        return r == 0;
}

/* A list nested `depth` levels deep around an empty string. */
static struct knode nested(unsigned depth)
{
        if (depth == 0)
                return (struct knode){ .kind = KN_STRING, .str = { xstrdup(""), 0 } };
        struct knode *item = xmalloc(sizeof *item);
        *item = nested(depth - 1);
        return (struct knode){ .kind = KN_LIST, .list = { item, NULL, 1 } };
}

/* Runs p with every action succeeding; returns the rendered inputs of the
 * first step's iterations, one line each. */
static char *run_first_step(const struct program *p)
{
        struct sim s = { STRBUF_INIT };
        struct strbuf seen = STRBUF_INIT;
        struct vm_host host = { .userdata = &s, .event = on_event, .pred = on_pred };
        struct vm *vm = vm_new(p, &host, NULL, NULL);
        enum vm_status st;
        while ((st = vm_run(vm)) == VM_YIELD) {
                if (vm->pending.step == 0) {
                        char *in = json_dumps(vm->pending.inputs, JSON_COMPACT | JSON_ENCODE_ANY);
                        sb_printf(&seen, "%s\n", in);
                        free(in);
                }
                ck_assert_int_eq(vm_complete(vm, true, json_array(), NULL), 0);
        }
        ck_assert_int_eq(st, VM_DONE);
        vm_free(vm);
        sb_free(&s.log);
        char *r = xstrdup(sb_str(&seen));
        sb_free(&seen);
        return r;
}

/* `for` loops at the ends of the 64-bit range run exactly span/|by| + 1
 * iterations with exact values, and the verifier accepts exactly the
 * loops the checker accepts: integers, a loop that ends, and at most
 * LOOP_MAX_ITERATIONS iterations (a hostile .otc may hold anything). */
START_TEST(test_for_loops_at_the_int64_limits)
{
        const json_int_t min = (json_int_t)INT64_MIN, max = (json_int_t)INT64_MAX;
        struct program *p = compile_case("loops-consolidated");
        char *got;

        /* 4 iterations although 3 * 2^62 alone does not fit. */
        set_first_for(p, min, max, (json_int_t)4611686018427387904LL);
        ck_assert(verifies(p));
        got = run_first_step(p);
        ck_assert_str_eq(got, "{\"commands\":[\"echo 0:-9223372036854775808\"]}\n"
                              "{\"commands\":[\"echo 1:-4611686018427387904\"]}\n"
                              "{\"commands\":[\"echo 2:0\"]}\n"
                              "{\"commands\":[\"echo 3:4611686018427387904\"]}\n");
        free(got);
        /* Down from the largest value by the smallest: 2^63 - 1, then -1. */
        set_first_for(p, max, min, min);
        ck_assert(verifies(p));
        got = run_first_step(p);
        ck_assert_str_eq(got, "{\"commands\":[\"echo 0:9223372036854775807\"]}\n"
                              "{\"commands\":[\"echo 1:-1\"]}\n");
        free(got);
        /* One value when start is end, whatever the direction of by. */
        set_first_for(p, min, min, min);
        ck_assert(verifies(p));
        got = run_first_step(p);
        ck_assert_str_eq(got, "{\"commands\":[\"echo 0:-9223372036854775808\"]}\n");
        free(got);

        /* The limit: exactly LOOP_MAX_ITERATIONS verifies, one more does not. */
        set_first_for(p, (json_int_t)1, (json_int_t)LOOP_MAX_ITERATIONS, (json_int_t)1);
        ck_assert(verifies(p));
        set_first_for(p, (json_int_t)-1, (json_int_t)-(json_int_t)LOOP_MAX_ITERATIONS,
                                   (json_int_t)-1);
        ck_assert(verifies(p));
        set_first_for(p, (json_int_t)0, (json_int_t)LOOP_MAX_ITERATIONS, (json_int_t)1);
        ck_assert(!verifies(p));
        /* 2^64 iterations, which a 64-bit count wraps to 0. */
        set_first_for(p, min, max, (json_int_t)1);
        char err[256];
        ck_assert_int_lt(verify(p, err, sizeof err), 0);
        ck_assert_msg(strstr(err, "'for' loop") && strstr(err, "1000000 iterations"), "%s", err);
        /* ... and a .otc file holding it does not load. */
        unsigned char *buf;
        size_t len;
        struct program *q = NULL;
        ck_assert_int_eq(prog_serialize(p, &buf, &len), 0);
        ck_assert_int_lt(deserialize(buf, len, &q, err, sizeof err), 0);
        ck_assert_ptr_null(q);
        ck_assert_msg(strstr(err, "'for' loop") != NULL, "%s", err);
        free(buf);
        set_first_for(p, max, min, (json_int_t)-1);
        ck_assert(!verifies(p));
        /* Loops that never end. */
        set_first_for(p, (json_int_t)0, (json_int_t)10, (json_int_t)0);
        ck_assert(!verifies(p));
        set_first_for(p, (json_int_t)0, (json_int_t)10, (json_int_t)-1);
        ck_assert(!verifies(p));
        set_first_for(p, (json_int_t)10, (json_int_t)0, max);
        ck_assert(!verifies(p));
        /* A `for` loop is three integers by construction now.  What a
         * hostile .otc file may hold in a constant's bytes instead is
         * refused when it loads: an unknown kind, a kind holding another
         * kind's node (the verifier refuses both in memory too), a real
         * that is not a number, a string that is not UTF-8; and nodes
         * nested deeper than a document may be are refused whether loaded
         * or compiled. */
        set_first_for(p, 0, 10, 2);
        ck_assert(verifies(p) && loads(p));
        size_t ki = op_bx(p->code[find_op(p, 0, OP_RENDER)]);
        struct kconst saved = p->k[ki];
        ck_assert_int_eq(saved.kind, K_INPUTS);
        p->k[ki] = (struct kconst){ .kind = K_INPUTS, .node = { .kind = KN_STRING, .str = { xstrdup("ok"), 2 } } };
        ck_assert(verifies(p) && loads(p));
        kconst_free(&p->k[ki]);
        p->k[ki] = (struct kconst){ .kind = (enum kconst_kind)77, .node = { .kind = KN_NULL } };
        ck_assert(!verifies(p) && !loads(p));
        p->k[ki] = (struct kconst){ .kind = K_STRING, .node = { .kind = KN_INT, .i = 5 } };
        ck_assert(!verifies(p) && !loads(p));
        p->k[ki] = (struct kconst){ .kind = K_INPUTS, .node = { .kind = KN_REAL, .f = NAN } };
        ck_assert(!loads(p));
        p->k[ki] = (struct kconst){ .kind = K_INPUTS, .node = { .kind = KN_STRING, .str = { xstrdup("\xff\xfe"), 2 } } };
        ck_assert(verifies(p) && !loads(p));
        kconst_free(&p->k[ki]);
        p->k[ki] = (struct kconst){ .kind = K_INPUTS, .node = nested(KNODE_MAX_DEPTH) };
        ck_assert(verifies(p) && loads(p));
        kconst_free(&p->k[ki]);
        p->k[ki] = (struct kconst){ .kind = K_INPUTS, .node = nested(KNODE_MAX_DEPTH + 1) };
        ck_assert(!verifies(p) && !loads(p));
        kconst_free(&p->k[ki]);
        p->k[ki] = saved;
        ck_assert(verifies(p) && loads(p));
        prog_free(p);
}
END_TEST

#include "check_main.h"
CHECK_MAIN_TESTS("vm", "vm", 300,
                 test_state_round_trip_at_every_instruction,
                 test_restore_rejects_foreign_state,
                 test_otc_round_trip_and_corruption,
                 test_otc_wrong_version,
                 test_verifier_refuses_non_terminating_programs,
                 test_for_loops_at_the_int64_limits)
