/* create_symlink.c: the CreateSymlink action.  (Not implemented yet: every run fails
 * with a clear message.) */
#include "module.h"
#include "strbuf.h"

static int create_symlink_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        (void)ctx;
        (void)inputs;
        *ret = (struct action_result){
                .status = ACTION_FAILED,
                .exit_code = -1,
                .message = xstrdup("CreateSymlink is not implemented by this build of opentoe yet"),
                .outputs = json_array(),
        };
        return 0;
}

const struct action_module create_symlink_module = {
        .name = "CreateSymlink",
        .run = create_symlink_run,
};
