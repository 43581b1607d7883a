/* check_names.c: finding the checker's names by hash (common/hindex.h):
 * a parameter or constant, a step by its phase and name, a loop by its
 * name; each index holds the first of its name, as check.c adds them.
 * With check_diag.c the lowest of the checker's files: it calls none of
 * the others. */
#include <string.h>

#include "chk_state.h"

uint64_t chk_step_hash(const char *phase, const char *step)
{
        return hindex_hash_str(hindex_hash_str(HINDEX_SEED, phase), step);
}

long chk_find_var(const struct checker *c, const char *name)
{
        size_t pos = 0, i;
        while (hindex_next(&c->var_index, hindex_hash_str(HINDEX_SEED, name), &pos, &i))
                if (!strcmp(c->vars[i].name, name))
                        return (long)i;
        return -1;
}

long chk_find_step(const struct checker *c, const char *phase, const char *step)
{
        size_t pos = 0, i;
        while (hindex_next(&c->step_index, chk_step_hash(phase, step), &pos, &i))
                if (!strcmp(chk_step_phase(c, &c->steps[i]), phase) && !strcmp(chk_step_name(&c->steps[i]), step))
                        return (long)i;
        return -1;
}

long chk_find_loop(const struct checker *c, const char *name)
{
        size_t pos = 0, i;
        while (hindex_next(&c->loop_index, hindex_hash_str(HINDEX_SEED, name), &pos, &i))
                if (!strcmp(chk_step_loop_name(&c->steps[i]), name))
                        return (long)i;
        return -1;
}
