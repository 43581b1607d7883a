/* s3_upload.c: the S3Upload action.  (Not implemented yet: every run fails
 * with a clear message.) */
#include "module.h"
#include "strbuf.h"

static int s3_upload_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        (void)ctx;
        (void)inputs;
        *ret = (struct action_result){
                .status = ACTION_FAILED,
                .exit_code = -1,
                .message = xstrdup("S3Upload is not implemented by this build of opentoe yet"),
                .outputs = json_array(),
        };
        return 0;
}

const struct action_module s3_upload_module = {
        .name = "S3Upload",
        .run = s3_upload_run,
};
