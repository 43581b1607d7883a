/* action_result.c: the life of a struct action_result, the data a module
 * hands back for one step attempt.  This file owns only releasing one
 * (which leaves it all zeroes, ready to be filled again). */
#include "module.h"

#include <stdlib.h>

void action_result_clear(struct action_result *r)
{
        if (!r)
                return;
        free(r->message);
        json_decref(r->outputs);
        free(r->stderr_tail);
        json_decref(r->detail);
        free(r->app_note);
        *r = (struct action_result){ 0 };
}
