/* assert.c: the Assert action: evaluates its inputs, a comparison or
 * logical expression, and succeeds when it is true. */
#include <stdlib.h>

#include "module.h"
#include "predicates.h"
#include "strbuf.h"

static int assert_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        bool ok = false;
        char *err = NULL;
        int r = pred_eval_json(inputs, &ok, &err);
        *ret = (struct action_result){
                .status = r == 0 && ok ? ACTION_SUCCESS : ACTION_FAILED,
                .exit_code = -1,
                .outputs = json_array(),
        };
        if (r < 0)
                ret->message = err ? err : xstrdup("the assertion could not be evaluated");
        else {
                free(err);
                if (!ok)
                        ret->message = xstrdup("assertion failed: the expression is false");
        }
        (void)ctx;
        return 0;
}

const struct action_module assert_module = {
        .name = "Assert",
        .spec = ACTION_SPEC(Assert),
        .run = assert_run,
};
