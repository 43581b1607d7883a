/* registry.c: the table of action modules, indexed by enum action_id and
 * built from modules.list when opentoe is compiled.  The compiler puts an
 * action's number in its ACT instruction, so the runner takes the module
 * from there (module_by_id) without a lookup by name; an action that is
 * validated but has no module in this build has a NULL entry.  A module
 * names its own spec (ACTION_SPEC()); tests/unit/check_action_specs.c
 * checks that each one names the entry it is filed under. */
#include "module.h"

#include <stdlib.h>

#include "action_spec.h"

#define MODULE(action, sym) extern const struct action_module sym;
#include "modules.list"
#undef MODULE

/* A line of modules.list written twice does not compile (-Woverride-init). */
static const struct action_module *const modules[_ACTION_ID_MAX] = {
#define MODULE(action, sym) [ACTION_ID_##action] = &sym,
#include "modules.list"
#undef MODULE
};

const struct action_module *module_by_id(enum action_id id)
{
        return (unsigned)id < _ACTION_ID_MAX ? modules[id] : NULL;
}

const struct action_module *module_find(const char *name)
{
        const struct action_spec *a = action_spec_find(name);

        return a ? module_by_id(a->id) : NULL;
}
