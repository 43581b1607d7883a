/* check_imagebuilder.c: unit tests of aws/imagebuilder.c's ARNs: a
 * component build version ARN parsed into its parts (indexed by enum
 * ib_arn_part), ib_arn_done() leaving every part NULL, and a refused ARN
 * leaving the struct untouched. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "imagebuilder.h"

START_TEST(parts_in_order)
{
        struct ib_arn a = { 0 };
        char *err = NULL;

        ck_assert_int_eq(ib_arn_parse("arn:aws-cn:imagebuilder:cn-north-1:123456789012:component/my-comp_1/2021.12.02/17",
                                      &a, &err),
                         0);
        ck_assert_ptr_null(err);
        ck_assert_str_eq(a.part[IB_ARN_PARTITION], "aws-cn");
        ck_assert_str_eq(a.part[IB_ARN_REGION], "cn-north-1");
        ck_assert_str_eq(a.part[IB_ARN_ACCOUNT], "123456789012");
        ck_assert_str_eq(a.part[IB_ARN_NAME], "my-comp_1");
        ck_assert_str_eq(a.part[IB_ARN_VERSION], "2021.12.02");
        ck_assert_str_eq(a.part[IB_ARN_BUILD], "17");
        ib_arn_done(&a);
        for (size_t i = 0; i < IB_ARN_N_PARTS; i++)
                ck_assert_ptr_null(a.part[i]);
        ib_arn_done(&a); /* again: nothing left to free */
        ib_arn_done(NULL);
}
END_TEST

START_TEST(amazon_managed)
{
        struct ib_arn a = { 0 };

        ck_assert_int_eq(ib_arn_parse("arn:aws:imagebuilder:eu-central-1:aws:component/update-linux/1.0.2/1", &a,
                                      NULL),
                         0);
        ck_assert_str_eq(a.part[IB_ARN_ACCOUNT], "aws");
        ck_assert_str_eq(a.part[IB_ARN_NAME], "update-linux");
        ck_assert_str_eq(a.part[IB_ARN_BUILD], "1");
        ib_arn_done(&a);
}
END_TEST

START_TEST(refused_leaves_nothing)
{
        struct ib_arn a = { 0 };
        char *err = NULL;

        ck_assert_int_eq(ib_arn_parse("arn:aws:imagebuilder:us-west-2:123456789012:component/c/1.0.0", &a, &err),
                         -EINVAL);
        ck_assert_ptr_nonnull(err);
        free(err);
        for (size_t i = 0; i < IB_ARN_N_PARTS; i++)
                ck_assert_ptr_null(a.part[i]);
}
END_TEST

#include "check_main.h"

CHECK_MAIN_TESTS("imagebuilder", "arn", 0,
                 parts_in_order,
                 amazon_managed,
                 refused_leaves_nothing)
