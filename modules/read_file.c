/* read_file.c: the ReadFile action.  (Not implemented yet: every run fails
 * with a clear message.) */
#include "module.h"
#include "strbuf.h"

static int read_file_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        (void)ctx;
        (void)inputs;
        *ret = (struct action_result){
                .status = ACTION_FAILED,
                .exit_code = -1,
                .message = xstrdup("ReadFile is not implemented by this build of opentoe yet"),
                .outputs = json_array(),
        };
        return 0;
}

const struct action_module read_file_module = {
        .name = "ReadFile",
        .run = read_file_run,
};
