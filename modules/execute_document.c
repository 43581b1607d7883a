/* execute_document.c: the ExecuteDocument action: runs another component
 * document (its phases and parameters as given) through the runner, and
 * reports the nested run's summary as its output entry and the nested
 * run's details as an element of the step's detailedOutput (in a loop,
 * one of each per iteration: AWS's "one summary object per executed
 * document").  Nesting depth and cycles are
 * checked by the runner, which knows the chain of documents.  An S3
 * document is fetched by the runner, with this step's
 * document-s3-bucket-owner or else the run's; an Image Builder component
 * build version ARN is checked here and fetched by the runner
 * (GetComponent), and document-s3-bucket-owner does not apply to it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "imagebuilder.h"
#include "module.h"
#include "s3.h"
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
        if (ib_is_arn(path)) {
                /* Checked here too, so a malformed ARN fails before the
                 * runner is asked for anything. */
                struct ib_arn a = { 0 };
                char *aerr = NULL;
                if (ib_arn_parse(path, &a, &aerr) < 0) {
                        ret->message = xasprintf("document %s: %s", path, aerr);
                        free(aerr);
                        return 0;
                }
                ib_arn_done(&a);
        }
        if (!ctx->run_document) {
                ret->message = xstrdup("ExecuteDocument cannot run here (no runner)");
                return 0;
        }
        _cleanup_free_ char *owner = NULL;
        if (s3_is_uri(path)) {
                const json_t *ov = json_object_get(inputs, "document-s3-bucket-owner");
                char *oerr = NULL, num[32];
                const char *os = json_string_value(ov);
                if (json_is_integer(ov) && json_integer_value(ov) >= 0) {
                        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(ov));
                        os = num;
                }
                if ((ov && !json_is_null(ov) && !os) || s3_owner_normalize(os, &owner, &oerr) < 0) {
                        ret->message = xasprintf("document %s: document-s3-bucket-owner: %s", path,
                                                 oerr ? oerr : "must be an AWS account ID (12 digits)");
                        free(oerr);
                        return 0;
                }
                /* None given (owner NULL): the run's --document-s3-bucket-owner applies. */
        }
        json_t *summary = NULL, *detail = NULL;
        char *err = NULL;
        int r = ctx->run_document(ctx->userdata, path, owner, phases, json_is_array(params) ? params : NULL,
                                  &summary, &detail, &err);
        if (r < 0) {
                ret->message = err ? err : xasprintf("document %s could not run", path);
                return 0;
        }
        free(err);
        if (r == 1) {
                /* A step of the nested run asked for a reboot: this step
                 * runs again after it, and the nested run resumes. */
                ret->status = ACTION_REBOOT;
                return 0;
        }
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
        .spec = ACTION_SPEC(ExecuteDocument),
        .run = execute_document_run,
};
