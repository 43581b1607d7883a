/* nested.c: ExecuteDocument's nested documents, apart from running them:
 * the chain's depth and cycle checks, loading a nested document (through
 * docsource.c, the loader run and validate use too), its parameters and
 * phases, and the summary, detailed output and chaining records it hands
 * back.  The runner runs its VM. */
#include "nested.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chaining.h"
#include "cleanup.h"
#include "compile.h"
#include "errmsg.h"
#include "docsource.h"
#include "report.h"
#include "strbuf.h"
#include "uuid.h"

static char *chain_text(const struct doc_chain *c, const char *last)
{
        struct strbuf b = STRBUF_INIT;
        for (size_t i = 0; i < c->depth; i++)
                sb_printf(&b, "%s -> ", c->shown[i]);
        sb_puts(&b, last);
        return sb_take(&b);
}

int nested_check(const struct doc_chain *c, const char *path, char **ret_real, char **reterr)
{
        bool remote = docsource_is_remote(path);
        char *real = remote ? xstrdup(path) : realpath(path, NULL);
        if (!real) {
                int e = errno;
                return errmsg_set(reterr, -e, "document %s: %s", path, strerror(e));
        }
        for (size_t i = 0; i < c->depth; i++)
                if (!strcmp(c->real[i], real)) {
                        _cleanup_free_ char *t = chain_text(c, path);
                        free(real);
                        return errmsg_set(reterr, -ELOOP, "cyclic ExecuteDocument: %s", t);
                }
        if (c->depth > MAX_NESTING) {
                _cleanup_free_ char *t = chain_text(c, path);
                free(real);
                return errmsg_set(reterr, -E2BIG, "ExecuteDocument is nested more than %d levels deep: %s",
                                  MAX_NESTING, t);
        }
        *ret_real = real;
        return 0;
}

int nested_load(const char *path, const char *s3_owner, struct program **ret, char **reterr)
{
        struct docsource d;
        char *err = NULL;
        int e = docsource_open(path, s3_owner, &d, &err);
        if (e < 0) {
                e = errmsg_set(reterr, e, "document %s: %s", path, err ? err : strerror(-e));
                free(err);
                return e;
        }
        struct check_options copts = { .platforms = PLAT_LINUX };
        struct diag_list diags = { 0 };
        struct program *prog = NULL;
        struct ydoc *doc = NULL;
        e = comp_load(d.path, &copts, &prog, &diags, &doc);
        if (e >= 0 && d.kind != DOCSOURCE_LOCAL) {
                free(prog->source_path);
                prog->source_path = xstrdup(path);
        }
        docsource_done(&d);
        if (e < 0) {
                struct strbuf b = STRBUF_INIT;
                sb_printf(&b, "document %s is invalid:", path);
                for (size_t i = 0; i < diags.n && i < 5; i++)
                        sb_printf(&b, " %u:%u: %s;", diags.v[i].line, diags.v[i].column, diags.v[i].message);
                *reterr = sb_take(&b);
        }
        diag_list_free(&diags);
        ydoc_free(doc);
        if (e >= 0)
                *ret = prog;
        return e;
}

void nested_args_init(struct nested_args *a, const json_t *parameters, const char *phases)
{
        *a = (struct nested_args){ .params = json_object() };
        size_t i;
        json_t *it;
        json_array_foreach(parameters, i, it)
        {
                const char *nm = json_string_value(json_object_get(it, "name"));
                json_t *v = json_object_get(it, "value");
                if (nm && json_is_string(v))
                        json_object_set(a->params, nm, v);
        }
        a->phase_copy = phases && *phases ? xstrdup(phases) : NULL;
        for (char *tok = a->phase_copy ? strtok(a->phase_copy, ",") : NULL; tok && a->n_phases < 64;
             tok = strtok(NULL, ","))
                a->phase_list[a->n_phases++] = tok;
}

void nested_args_done(struct nested_args *a)
{
        json_decref(a->params);
        free(a->phase_copy);
        *a = (struct nested_args){ 0 };
}

void nested_results(const struct doc_run *dr, const struct vm *vm, const char *path, const struct doc_run *caller,
                    size_t caller_step, json_t **ret_summary, json_t **ret_detail, json_t **ret_chaining)
{
        char id[37];
        uuid_v4(id);
        struct counts c = { 0 };
        report_count(vm, &c);
        char *failure = dr->failed ? xasprintf("Document %s failed!", path) : xstrdup("");
        *ret_summary = json_pack("{s:I, s:s, s:I, s:s, s:I, s:s, s:s}", "executedStepCount", (json_int_t)c.executed,
                                 "executionId", id, "failedStepCount", (json_int_t)c.failed, "failureMessage", failure,
                                 "ignoredFailedStepCount", (json_int_t)c.ignored, "logUrl", "", "status",
                                 dr->failed ? "failed" : "success");
        json_t *docs = json_array();
        json_array_append_new(docs, report_document(dr, vm, NULL));
        *ret_detail = json_pack("{s:s, s:s, s:o, s:o, s:s, s:o}", "executionId", id, "status",
                                dr->failed ? "failed" : "success", "startTime", time_json(&dr->span, false), "endTime",
                                time_json(&dr->span, true), "failureMessage", failure, "documents", docs);
        *ret_chaining = chaining_document(dr, vm, caller, caller_step);
        free(failure);
}
