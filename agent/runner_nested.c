/* runner_nested.c: ExecuteDocument's nested runs: a nested document run
 * on this run's loop and log folder, the outer step's state kept and
 * given back, and a nested run resumed after a reboot asked for inside
 * it.  Loading and the chain's checks are nested.c's. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "runner_internal.h"
#include "report.h"
#include "chaining.h"
#include "s3.h"

/* ExecuteDocument: runs a nested document in this run's log folder, on
 * this run's loop, with its own execution id, and returns its summary
 * and details.  An s3:// document (with the owner ExecuteDocument handed
 * over, else the run's) or an Image Builder component ARN is known by its
 * URI or ARN in the chain, the reports and the messages.  Loading and
 * the chain's checks are nested.c's. */
int runner_nested_run(void *userdata, const char *path, const char *s3_owner, const char *phases,
                      const json_t *parameters, json_t **ret_summary, json_t **ret_detail, char **reterr)
{
        struct runner *r = userdata;
        const char *owner = !s3_is_uri(path) ? NULL : s3_owner ? s3_owner : r->o->document_s3_owner;
        char *real = NULL;
        int e = nested_check(&r->chain, path, &real, reterr);
        if (e < 0)
                return e;
        struct program *prog = NULL;
        e = nested_load(path, owner, &prog, reterr);
        if (e < 0) {
                free(real);
                return e;
        }
        struct nested_args args;
        nested_args_init(&args, parameters, phases);

        struct run_doc rd = { .path = (char *)path, .prog = prog, .params = args.params };
        struct doc_run dr;
        doc_run_init(&dr, &rd);
        dr.ran = true;
        /* The outer step's state, restored when the nested run ends. */
        struct doc_run *outer = r->cur;
        int64_t outer_attempt = r->attempt_start_ms;
        unsigned outer_step = r->current_step;
        bool outer_disable = r->disable_logging, outer_hide = r->hide_all;
        r->hide_all = outer_disable;
        struct vm_host host = runner_host(r);
        r->cur = &dr;
        r->chain.shown[r->chain.depth] = path;
        r->chain.real[r->chain.depth++] = real;
        log_console(&r->log, "Document %s", path);
        span_start(&dr.span);
        /* After a reboot asked for inside it, the nested run resumes. */
        json_t *saved = runner_nested_take(r, path, prog);
        struct vm *vm = NULL;
        if (saved) {
                char *verr = NULL;
                vm = vm_restore(prog, &host, json_object_get(saved, "vm"), &verr);
                if (vm && doc_run_restore(&dr, json_object_get(saved, "records")) < 0) {
                        vm_free(vm);
                        vm = NULL;
                }
                if (vm) {
                        log_console(&r->log, "Executor: System has rebooted successfully");
                        if (vm->cur_step != NONE && vm->steps[vm->cur_step].state == STEP_RUNNING)
                                log_console(&r->log, "Step %s", prog->steps[vm->cur_step].name);
                } else
                        log_console(&r->log, "The saved state of nested document %s cannot be restored (%s); it "
                                             "starts over", path, verr ? verr : "its records do not fit");
                free(verr);
                json_decref(saved);
        }
        if (!vm)
                vm = vm_new(prog, &host, args.params, args.n_phases ? args.phase_list : NULL);
        bool reboot;
        runner_run_vm(r, 0, vm, &reboot);
        if (reboot)
                runner_nested_keep(r, path, &dr, vm);
        else {
                span_end(&dr.span);
                dr.failed = vm->failed;
                if (vm->failed)
                        report_failure_block(&r->log, &dr, vm);
                json_t *chaining = NULL;
                nested_results(&dr, vm, path, outer, outer_step, ret_summary, ret_detail, &chaining);
                if (!outer_disable)
                        doc_run_add_chaining(outer, outer_step, chaining);
                json_decref(chaining);
        }

        r->chain.depth--;
        r->chain.real[r->chain.depth] = NULL;
        r->cur = outer;
        r->attempt_start_ms = outer_attempt;
        r->current_step = outer_step;
        r->disable_logging = outer_disable;
        r->hide_all = outer_hide;
        doc_run_free(&dr);
        vm_free(vm);
        prog_free(prog);
        nested_args_done(&args);
        free(real);
        return reboot ? 1 : 0;
}
