/* registry.c: the table of action modules, built from modules.list, and
 * finding a module by its action name.
 *
 * A module's `spec` lives in the generated modules/specs.c, where no
 * constant expression can name one entry, so a module is defined with
 * .spec = NULL and this file fills it: the first lookup copies every
 * module into a private table with its spec found by name (as
 * pred_names() fills its table on first use).  Lookups happen on the
 * thread that loads and runs documents, so the fill needs no lock. */
#include "module.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "action_spec.h"
#include "cleanup.h"

#define MODULE(action, sym) extern const struct action_module sym;
#include "modules.list"
#undef MODULE

static const struct action_module *const modules[] = {
#define MODULE(action, sym) &sym,
#include "modules.list"
#undef MODULE
};

static const char *const module_names[] = {
#define MODULE(action, sym) #action,
#include "modules.list"
#undef MODULE
};

static struct action_module table[ELEMENTSOF(modules)];
static bool table_ready;

static void table_fill(void)
{
        for (size_t i = 0; i < ELEMENTSOF(modules); i++) {
                table[i] = *modules[i];
                /* Programmer errors in modules.list or a module. */
                assert(strcmp(table[i].name, module_names[i]) == 0);
                assert(i == 0 || strcmp(module_names[i - 1], module_names[i]) < 0);
                if (!table[i].spec)
                        table[i].spec = action_spec_find(table[i].name);
                assert(table[i].spec != NULL);
                assert((table[i].run != NULL) != (table[i].start != NULL && table[i].cancel != NULL));
        }
        table_ready = true;
}

static int compare_name(const void *key, const void *elem)
{
        const char *const *name = elem;

        return strcmp(key, *name);
}

const struct action_module *module_find(const char *name)
{
        const char *const *hit;

        if (!name)
                return NULL;
        if (!table_ready)
                table_fill();
        hit = bsearch(name, module_names, ELEMENTSOF(module_names), sizeof module_names[0],
                      compare_name);
        return hit ? &table[hit - module_names] : NULL;
}
