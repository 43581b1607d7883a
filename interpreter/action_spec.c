/* action_spec.c: the small hand-written lookups over the generated action
 * tables.  The tables themselves (action_specs[], n_action_specs) live in
 * interpreter/specs.c, generated from the schemas/actions/<Action>.json files;
 * this file owns only finding an action by name, finding one of its input
 * fields, asking whether it has a given output, and spelling an input type
 * for messages.  It keeps no state and allocates nothing. */
#include "action_spec.h"

#include <stdlib.h>
#include <string.h>

static int compare_name_to_spec(const void *key, const void *elem)
{
        const struct action_spec *a = elem;

        return strcmp(key, a->name);
}

const struct action_spec *action_spec_find(const char *name)
{
        if (!name)
                return NULL;
        return bsearch(name, action_specs, n_action_specs, sizeof action_specs[0],
                       compare_name_to_spec);
}

const struct input_field *action_spec_field(const struct action_spec *a, const char *name)
{
        if (!a || !name)
                return NULL;
        for (size_t i = 0; i < a->n_fields; i++)
                if (strcmp(a->fields[i].name, name) == 0)
                        return &a->fields[i];
        return NULL;
}

int action_spec_has_output(const struct action_spec *a, const char *name)
{
        if (!a || !name || !a->outputs)
                return 0;
        for (const char *const *o = a->outputs; *o; o++)
                if (strcmp(*o, name) == 0)
                        return 1;
        return 0;
}

const char *input_type_describe(enum input_type t)
{
        switch (t) {
        case IN_STRING:
                return "a string";
        case IN_BOOL:
                return "a boolean";
        case IN_INT:
                return "an integer";
        case IN_STRING_LIST:
                return "a list of strings";
        case IN_NAME_VALUE_LIST:
                return "a list of {name, value} maps";
        case IN_STRING_MAP:
                return "a map of strings";
        case IN_ANY:
                return "a string or a list";
        case _IN_TYPE_MAX:
                break;
        }
        return "a value";
}
