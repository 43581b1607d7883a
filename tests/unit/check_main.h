/* check_main.h: the one main() of the Check unit tests.  A test file
 * builds its Suite in a function and ends with CHECK_MAIN(that_function):
 * the suite is run (CK_NORMAL: failures are printed, with their file and
 * line), and the program exits with failure when any test failed. */
#ifndef OPENTOE_CHECK_MAIN_H
#define OPENTOE_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

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

#endif
