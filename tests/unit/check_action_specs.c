/* check_action_specs.c: unit tests of the generated action tables
 * (interpreter/specs.c, interpreter/action_ids.h), of the lookups in
 * interpreter/action_spec.c, and of the module registry's filing by
 * action number.
 *
 * The source tree is taken from $top_srcdir (default "."), to find the
 * schemas/actions/<Action>.json file behind every table entry. */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action_spec.h"
#include "module.h"

static const char *srcdir(void)
{
        const char *d = getenv("top_srcdir");

        return d && *d ? d : ".";
}

START_TEST(test_table_sorted_unique)
{
        ck_assert_uint_gt(n_action_specs, 0);
        for (size_t i = 1; i < n_action_specs; i++)
                ck_assert_msg(strcmp(action_specs[i - 1].name, action_specs[i].name) < 0,
                              "action_specs not strictly sorted at %zu: \"%s\" then \"%s\"", i,
                              action_specs[i - 1].name, action_specs[i].name);
}
END_TEST

START_TEST(test_every_action_has_json)
{
        for (size_t i = 0; i < n_action_specs; i++) {
                char path[4096];
                int n = snprintf(path, sizeof path, "%s/schemas/actions/%s.json", srcdir(),
                                 action_specs[i].name);

                ck_assert(n > 0 && (size_t)n < sizeof path);
                ck_assert_msg(access(path, R_OK) == 0, "%s: not readable", path);
        }
}
END_TEST

START_TEST(test_every_json_is_in_table)
{
        char dir[4096];
        int n = snprintf(dir, sizeof dir, "%s/schemas/actions", srcdir());
        DIR *d;
        struct dirent *e;
        size_t seen = 0;

        ck_assert(n > 0 && (size_t)n < sizeof dir);
        d = opendir(dir);
        ck_assert_msg(d != NULL, "%s: cannot open", dir);
        while ((e = readdir(d)) != NULL) {
                size_t len = strlen(e->d_name);
                char name[256];

                if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0)
                        continue;
                ck_assert(len - 5 < sizeof name);
                memcpy(name, e->d_name, len - 5);
                name[len - 5] = '\0';
                ck_assert_msg(action_spec_find(name) != NULL,
                              "%s/%s has no entry in action_specs; regenerate interpreter/specs.c",
                              dir, e->d_name);
                seen++;
        }
        closedir(d);
        ck_assert_uint_eq(seen, n_action_specs);
}
END_TEST

START_TEST(test_find)
{
        for (size_t i = 0; i < n_action_specs; i++) {
                const struct action_spec *a = action_spec_find(action_specs[i].name);

                ck_assert_ptr_eq(a, &action_specs[i]);
        }
        ck_assert_ptr_null(action_spec_find("executebash"));
        ck_assert_ptr_null(action_spec_find("Nope"));
        ck_assert_ptr_null(action_spec_find(""));
        ck_assert_ptr_null(action_spec_find("Execute"));
        ck_assert_ptr_null(action_spec_find("ExecuteBash "));
        ck_assert_ptr_null(action_spec_find(NULL));
        ck_assert_ptr_nonnull(action_spec_find("ExecuteBash"));
        ck_assert_ptr_nonnull(action_spec_find("Assert"));
        ck_assert_ptr_nonnull(action_spec_find("WebDownload"));
        /* Every entry sits at the index its enum action_id names, and the
         * macro modules use names the same entry. */
        ck_assert_uint_eq(n_action_specs, _ACTION_ID_MAX);
        for (size_t i = 0; i < n_action_specs; i++)
                ck_assert_uint_eq(action_specs[i].id, i);
        ck_assert_str_eq(ACTION_SPEC(ExecuteBash)->name, "ExecuteBash");
        ck_assert_ptr_eq(ACTION_SPEC(ExecuteBash), action_spec_find("ExecuteBash"));
        ck_assert_ptr_eq(ACTION_SPEC(AppendFile), &action_specs[0]);
        ck_assert_ptr_eq(ACTION_SPEC(WebDownload), &action_specs[_ACTION_ID_MAX - 1]);
        /* A module filed under an action's number names that action's
         * spec and name (modules.list and the module's ACTION_SPEC()). */
        size_t built = 0;
        for (size_t i = 0; i < n_action_specs; i++) {
                const struct action_module *m = module_by_id((enum action_id)i);
                if (!m)
                        continue;
                built++;
                ck_assert_msg(m->spec == &action_specs[i] && !strcmp(m->name, action_specs[i].name),
                              "module %s is filed under %s", m->name, action_specs[i].name);
                ck_assert_ptr_eq(module_find(action_specs[i].name), m);
                /* A module either runs (bounded) or starts and can be
                 * cancelled (it waits on the loop), never both. */
                ck_assert_msg((m->run != NULL) != (m->start != NULL && m->cancel != NULL),
                              "module %s must have run() or start()+cancel(), not both", m->name);
        }
        ck_assert_uint_gt(built, 20);
        ck_assert_ptr_null(module_by_id(_ACTION_ID_MAX));
        ck_assert_ptr_null(module_by_id(ACTION_ID_ExecutePowerShell));
}
END_TEST

START_TEST(test_action_sanity)
{
        for (size_t i = 0; i < n_action_specs; i++) {
                const struct action_spec *a = &action_specs[i];

                ck_assert_msg(a->platforms != 0 && (a->platforms & ~(unsigned)PLAT_ALL) == 0,
                              "%s: bad platforms", a->name);
                ck_assert_msg((unsigned)a->shape < _SHAPE_MAX, "%s: bad shape", a->name);
                ck_assert_msg((a->fields == NULL) == (a->n_fields == 0), "%s: fields/n_fields",
                              a->name);
                if (a->shape == SHAPE_EXPRESSION)
                        ck_assert_msg(a->n_fields == 0, "%s: expression with fields", a->name);
                ck_assert_ptr_nonnull(a->outputs);
                ck_assert_ptr_nonnull(a->exactly_one_of);
                ck_assert_ptr_nonnull(a->description);
                ck_assert_msg(a->description[0] != '\0', "%s: empty description", a->name);
        }
}
END_TEST

START_TEST(test_fields)
{
        for (size_t i = 0; i < n_action_specs; i++) {
                const struct action_spec *a = &action_specs[i];

                for (size_t j = 0; j < a->n_fields; j++) {
                        const struct input_field *f = &a->fields[j];

                        ck_assert_msg((unsigned)f->type < _IN_TYPE_MAX, "%s.%s: bad type",
                                      a->name, f->name);
                        ck_assert_msg((f->platforms & ~a->platforms) == 0,
                                      "%s.%s: platforms outside the action's", a->name, f->name);
                        ck_assert_msg(!((f->flags & INF_REQUIRED) && f->default_json),
                                      "%s.%s: required with a default", a->name, f->name);
                        ck_assert_msg(!(f->flags & INF_ENUM_NOCASE) || f->enum_values,
                                      "%s.%s: ENUM_NOCASE without enum", a->name, f->name);
                        ck_assert_ptr_eq(action_spec_field(a, f->name), f);
                        for (size_t k = 0; k < j; k++)
                                ck_assert_msg(strcmp(a->fields[k].name, f->name) != 0,
                                              "%s: duplicate field %s", a->name, f->name);
                }
                ck_assert_ptr_null(action_spec_field(a, "no-such-input"));
                ck_assert_ptr_null(action_spec_field(a, NULL));
        }
        ck_assert_ptr_null(action_spec_field(NULL, "path"));
}
END_TEST

START_TEST(test_enum_defaults)
{
        size_t checked = 0;

        for (size_t i = 0; i < n_action_specs; i++) {
                const struct action_spec *a = &action_specs[i];

                for (size_t j = 0; j < a->n_fields; j++) {
                        const struct input_field *f = &a->fields[j];
                        const char *d = f->default_json;
                        size_t len;
                        int found = 0;

                        if (!f->enum_values || !d)
                                continue;
                        len = strlen(d);
                        ck_assert_msg(len >= 2 && d[0] == '"' && d[len - 1] == '"' &&
                                              !memchr(d + 1, '\\', len - 2),
                                      "%s.%s: enum default %s is not a plain JSON string",
                                      a->name, f->name, d);
                        for (const char *const *v = f->enum_values; *v; v++)
                                if (strlen(*v) == len - 2 && memcmp(*v, d + 1, len - 2) == 0)
                                        found = 1;
                        ck_assert_msg(found, "%s.%s: default %s is not an enum value", a->name,
                                      f->name, d);
                        checked++;
                }
        }
        ck_assert_uint_gt(checked, 0);
}
END_TEST

START_TEST(test_exactly_one_of_names_fields)
{
        size_t groups = 0;

        for (size_t i = 0; i < n_action_specs; i++) {
                const struct action_spec *a = &action_specs[i];

                for (const char *const *const *g = a->exactly_one_of; *g; g++) {
                        size_t members = 0;

                        for (const char *const *n = *g; *n; n++) {
                                const struct input_field *f = action_spec_field(a, *n);

                                ck_assert_msg(f != NULL, "%s: exactly_one_of names unknown input %s",
                                              a->name, *n);
                                ck_assert_msg(!(f->flags & INF_REQUIRED),
                                              "%s: %s is both required and in exactly_one_of",
                                              a->name, *n);
                                members++;
                        }
                        ck_assert_uint_ge(members, 2);
                        groups++;
                }
        }
        ck_assert_uint_gt(groups, 0);
}
END_TEST

START_TEST(test_outputs)
{
        const struct action_spec *bash = action_spec_find("ExecuteBash");
        const struct action_spec *doc = action_spec_find("ExecuteDocument");
        const struct action_spec *copy = action_spec_find("CopyFile");

        ck_assert_ptr_nonnull(bash);
        ck_assert_ptr_nonnull(doc);
        ck_assert_ptr_nonnull(copy);
        ck_assert(action_spec_has_output(bash, "stdout"));
        ck_assert(!action_spec_has_output(bash, "stderr"));
        ck_assert(!action_spec_has_output(bash, "Stdout"));
        ck_assert(action_spec_has_output(doc, "executionId"));
        ck_assert(action_spec_has_output(doc, "status"));
        ck_assert(!action_spec_has_output(copy, "stdout"));
        ck_assert(!action_spec_has_output(NULL, "stdout"));
        ck_assert(!action_spec_has_output(bash, NULL));
        for (size_t i = 0; i < n_action_specs; i++)
                for (const char *const *o = action_specs[i].outputs; *o; o++)
                        ck_assert(action_spec_has_output(&action_specs[i], *o));
}
END_TEST

START_TEST(test_spot_checks)
{
        const struct action_spec *a;
        const struct input_field *f;

        a = action_spec_find("ExecutePowerShell");
        ck_assert_ptr_nonnull(a);
        ck_assert_uint_eq(a->platforms, PLAT_WINDOWS);
        ck_assert_ptr_nonnull(a->exactly_one_of[0]);
        ck_assert_str_eq(a->exactly_one_of[0][0], "commands");
        ck_assert_str_eq(a->exactly_one_of[0][1], "file");

        a = action_spec_find("ExecuteDocument");
        ck_assert_ptr_nonnull(a);
        ck_assert(a->flags & ACT_FORCED_ONCE);
        f = action_spec_field(a, "document-s3-bucket-owner");
        ck_assert_ptr_nonnull(f);
        f = action_spec_field(a, "parameters");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(f->type, IN_NAME_VALUE_LIST);

        a = action_spec_find("CreateFile");
        ck_assert_ptr_nonnull(a);
        ck_assert_int_eq(a->shape, SHAPE_LIST);
        f = action_spec_field(a, "owner");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(f->platforms, PLAT_LINUX | PLAT_DARWIN);
        f = action_spec_field(a, "overwrite");
        ck_assert_ptr_nonnull(f);
        ck_assert_str_eq(f->default_json, "true");
        f = action_spec_field(a, "encoding");
        ck_assert_ptr_nonnull(f);
        ck_assert(f->flags & INF_ENUM_NOCASE);
        ck_assert_str_eq(f->default_json, "\"utf8\"");

        a = action_spec_find("Reboot");
        ck_assert_ptr_nonnull(a);
        ck_assert(a->flags & ACT_INPUTS_OPTIONAL);
        ck_assert(a->flags & ACT_NO_TIMEOUT);
        f = action_spec_field(a, "delaySeconds");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(f->type, IN_INT);
        ck_assert_str_eq(f->default_json, "0");

        a = action_spec_find("Assert");
        ck_assert_ptr_nonnull(a);
        ck_assert_int_eq(a->shape, SHAPE_EXPRESSION);

        a = action_spec_find("ExtractArchive");
        ck_assert_ptr_nonnull(a);
        ck_assert(a->flags & ACT_EXTENSION);
        for (size_t i = 0; i < n_action_specs; i++)
                if (strcmp(action_specs[i].name, "ExtractArchive") != 0)
                        ck_assert_msg(!(action_specs[i].flags & ACT_EXTENSION),
                                      "%s is flagged as an extension", action_specs[i].name);
}
END_TEST

START_TEST(test_type_describe)
{
        ck_assert_str_eq(input_type_describe(IN_STRING), "a string");
        ck_assert_str_eq(input_type_describe(IN_BOOL), "a boolean");
        ck_assert_str_eq(input_type_describe(IN_INT), "an integer");
        ck_assert_str_eq(input_type_describe(IN_STRING_LIST), "a list of strings");
        ck_assert_str_eq(input_type_describe(IN_NAME_VALUE_LIST), "a list of {name, value} maps");
        ck_assert_str_eq(input_type_describe(IN_STRING_MAP), "a map of strings");
        ck_assert_str_eq(input_type_describe(IN_ANY), "a string or a list");
        ck_assert_ptr_nonnull(input_type_describe(_IN_TYPE_MAX));
}
END_TEST

#include "check_main.h"
CHECK_MAIN_TESTS("action_specs", "tables", 0,
                 test_table_sorted_unique,
                 test_every_action_has_json,
                 test_every_json_is_in_table,
                 test_find,
                 test_action_sanity,
                 test_fields,
                 test_enum_defaults,
                 test_exactly_one_of_names_fields,
                 test_outputs,
                 test_spot_checks,
                 test_type_describe)
