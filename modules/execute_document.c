/* execute_document.c: the ExecuteDocument action: runs another component
 * document (its phases and parameters as given) through the runner, and
 * reports the nested run's summary as its outputs and the nested run's
 * details as the step's detailedOutput.  Nesting depth and cycles are
 * checked by the runner, which knows the chain of documents. */
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "strbuf.h"

static int execute_document_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        const char *path = json_string_value(json_object_get(inputs, "document"));
        const char *phases = json_string_value(json_object_get(inputs, "phases"));
        const json_t *params = json_object_get(inputs, "parameters");
        *ret = (struct action_result){ .status = ACTION_FAILED, .exit_code = -1, .outputs = json_array() };
        if (!path || !*path) {
                ret->message = xstrdup("ExecuteDocument needs 'document', the path of the document to run");
                return 0;
        }
        if (!strncmp(path, "s3://", 5) || !strncmp(path, "arn:", 4)) {
                ret->message = xasprintf("document %s: documents from S3 or Image Builder ARNs are not supported "
                                         "by this build yet",
                                         path);
                return 0;
        }
        if (!ctx->run_document) {
                ret->message = xstrdup("ExecuteDocument cannot run here (no runner)");
                return 0;
        }
        json_t *summary = NULL, *detail = NULL;
        char *err = NULL;
        int r = ctx->run_document(ctx->userdata, path, phases, json_is_array(params) ? params : NULL, &summary,
                                  &detail, &err);
        if (r < 0) {
                ret->message = err ? err : xasprintf("document %s could not run", path);
                return 0;
        }
        free(err);
        const char *status = json_string_value(json_object_get(summary, "status"));
        bool ok = status && !strcmp(status, "success");
        ret->status = ok ? ACTION_SUCCESS : ACTION_FAILED;
        if (!ok)
                ret->message = xasprintf("Document %s failed!", path);
        json_array_append_new(ret->outputs, summary);
        ret->detail = detail;
        return 0;
}

const struct action_module execute_document_module = {
        .name = "ExecuteDocument",
        .run = execute_document_run,
};
