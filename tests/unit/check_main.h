/* check_main.h: the one main() of the Check unit tests, and the one way
 * they build their Suite.  A test file whose suite is one test case ends
 * with CHECK_MAIN_TESTS(suite, case, timeout, its tests in order).  One of
 * several cases lists each case's tests in a table (CHECK_TEST, or
 * CHECK_LOOP for a loop test over a table of inputs), its cases in a table
 * of CHECK_CASE(name, timeout, tests), builds the Suite with
 * CHECK_SUITE(name, cases) in a function and ends with
 * CHECK_MAIN(that_function).  Either way the suite is run (CK_NORMAL:
 * failures are printed, with their file and line), and the program exits
 * with failure when any test failed.  A timeout is in seconds; 0 leaves
 * Check's default (or CK_DEFAULT_TIMEOUT).
 *
 * The tables live inside a function: the names START_TEST defines are
 * variables, not constants a file-scope initializer could hold. */
#ifndef OPENTOE_CHECK_MAIN_H
#define OPENTOE_CHECK_MAIN_H

#include <check.h>
#include <stddef.h>
#include <stdlib.h>

#define CHECK_N_OF(table) (sizeof(table) / sizeof((table)[0]))

/* One test of a case: run once (loops 0), or as a loop test with _i from
 * 0 to loops - 1. */
struct check_test {
        const TTest *test;
        int loops;
};
#define CHECK_TEST(t) { (t), 0 }
#define CHECK_LOOP(t, cases) { (t), (int)CHECK_N_OF(cases) }

/* A test case: its name, its timeout and its tests in the order they run. */
struct check_case {
        const char *name;
        double timeout;
        const struct check_test *tests;
        size_t n_tests;
};
#define CHECK_CASE(name, timeout, tests) { (name), (timeout), (tests), CHECK_N_OF(tests) }

static inline TCase *check_tcase_new(Suite *s, const char *name, double timeout)
{
        TCase *tc = tcase_create(name);

        if (timeout > 0)
                tcase_set_timeout(tc, timeout);
        suite_add_tcase(s, tc);
        return tc;
}

static inline Suite *check_suite(const char *name, const struct check_case *cases, size_t n_cases)
{
        Suite *s = suite_create(name);

        for (size_t c = 0; c < n_cases; c++) {
                TCase *tc = check_tcase_new(s, cases[c].name, cases[c].timeout);

                for (size_t t = 0; t < cases[c].n_tests; t++) {
                        const struct check_test *ct = &cases[c].tests[t];

                        if (ct->loops > 0)
                                tcase_add_loop_test(tc, ct->test, 0, ct->loops);
                        else
                                tcase_add_test(tc, ct->test);
                }
        }
        return s;
}
#define CHECK_SUITE(name, cases) check_suite((name), (cases), CHECK_N_OF(cases))

static inline int check_main_run(Suite *suite)
{
        SRunner *sr = srunner_create(suite);
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#define CHECK_MAIN(suite_fn)                          \
        int main(void)                                \
        {                                             \
                return check_main_run(suite_fn());    \
        }

static inline Suite *check_suite_one(const char *name, const char *tcase, double timeout,
                                     const TTest *const *tests, size_t n_tests)
{
        Suite *s = suite_create(name);
        TCase *tc = check_tcase_new(s, tcase, timeout);

        for (size_t t = 0; t < n_tests; t++)
                tcase_add_test(tc, tests[t]);
        return s;
}

#define CHECK_MAIN_TESTS(name, tcase, timeout, ...)                                   \
        int main(void)                                                                \
        {                                                                             \
                const TTest *const tests[] = { __VA_ARGS__ };                         \
                                                                                      \
                return check_main_run(check_suite_one((name), (tcase), (timeout),     \
                                                      tests, CHECK_N_OF(tests)));     \
        }

#endif
