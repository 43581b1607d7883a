/* resume.c: reading a run's checkpoint back: the saved state checked
 * against the documents, the runner's records and the current
 * document's VM restored from it, the record of the step that was in
 * flight, stopping what a dead run's step left running, and the lines a
 * resumed run starts with. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "runner_internal.h"
#include "guardian.h"

void resume_done(struct resume *res)
{
        vm_free(res->vm);
        json_decref(res->state);
        json_decref(res->running);
        *res = (struct resume){ 0 };
}

/* Reads the checkpoint of these documents, if there is one, and
 * restores the runner's records from it.  Returns 1 (resume), 0 (none)
 * or a negative errno with *reterr saying why it is refused. */
int resume_load(struct runner *r, const struct vm_host *host, struct run_doc *docs, size_t n,
                       struct resume *res, char **reterr)
{
        _cleanup_free_ char *shown = xasprintf("%s/%s", r->sd.path, STATE_FILE);
        int e = state_log_read(&r->sd, &r->ck.log, &r->binding, &res->state, &res->torn, reterr);
        if (e <= 0) {
                if (e == 0)
                        state_remove(&r->sd, RUNNING_FILE);
                return e;
        }
        json_t *st = res->state;
        json_int_t seq = json_integer_value(json_object_get(st, "seq"));
        json_int_t cur = json_integer_value(json_object_get(st, "current"));
        const char *reason = json_string_value(json_object_get(st, "reason"));
        const char *id = json_string_value(json_object_get(st, "executionId"));
        json_t *finished = json_object_get(st, "finished");
        if (seq <= 0 || !reason || !id || !*id || strchr(id, '/') ||
            !json_is_string(json_object_get(st, "logFolder")) ||
            !json_is_string(json_object_get(st, "logFolderAbsolute")) ||
            json_array_size(json_object_get(st, "documents")) != n || cur < 0 || (size_t)cur >= n ||
            json_array_size(finished) != (size_t)cur ||
            (strcmp(reason, "begin") && strcmp(reason, "start") && strcmp(reason, "progress") &&
             strcmp(reason, "reboot")) ||
            (!strcmp(reason, "begin") && cur != 0)) {
                *reterr = xasprintf("%s is damaged: its contents are not a run's state", shown);
                return -EINVAL;
        }
        /* The log folder it names must be one opentoe makes. */
        const char *abs = json_string_value(json_object_get(st, "logFolderAbsolute"));
        if (!logdir_is_own_path(abs, id)) {
                *reterr = xasprintf("%s is damaged: the log folder it names (%s) is not one opentoe makes", shown, abs);
                return -EINVAL;
        }
        res->reason = reason;
        res->current = (size_t)cur;
        r->reboots = (long)json_integer_value(json_object_get(st, "reboots"));
        if (!strcmp(reason, "reboot") && json_is_object(json_object_get(st, "nested")))
                r->nested_restore = json_incref(json_object_get(st, "nested"));
        for (size_t i = 0; i < (size_t)cur; i++)
                if (doc_run_restore_finished(&r->runs[i], json_array_get(finished, i)) < 0) {
                        *reterr = xasprintf("%s is damaged: the record of document %zu is not valid", shown, i + 1);
                        return -EINVAL;
                }
        span_restore(&r->run_span, json_object_get(st, "run"));
        if (!strcmp(reason, "begin")) {
                /* Saved before anything ran: nothing to restore but the
                 * run's id, start and folder. */
                checkpoint_resumed(&r->ck, 0, NULL, (uint64_t)seq, 0);
                goto in_flight;
        }
        /* No cleanup attribute here: the "begin" case above jumps past
         * this scope's declarations to in_flight. */
        char *verr = NULL;
        res->vm = vm_restore(docs[cur].prog, host, json_object_get(st, "vm"), &verr);
        if (!res->vm) {
                *reterr = xasprintf("%s is damaged: %s", shown, verr ? verr : "the saved VM state is not valid");
                free(verr);
                return -EINVAL;
        }
        if (doc_run_restore(&r->runs[cur], json_object_get(st, "records")) < 0) {
                *reterr = xasprintf("%s is damaged: its step records do not fit the document", shown);
                return -EINVAL;
        }
        /* Later records patch this one. */
        checkpoint_resumed(&r->ck, (size_t)cur, res->vm, (uint64_t)seq,
                           (uint64_t)json_integer_value(json_object_get(st, "logFolderInode")));
in_flight:;
        /* The step in flight, if the record belongs to this checkpoint. */
        char *err = NULL;
        json_t *run = NULL;
        e = state_read(&r->sd, RUNNING_FILE, &r->binding, &run, &err);
        if (e < 0 && e != -EINVAL && e != -ESTALE) {
                /* Not ours, a link, the wrong mode: nothing is trusted. */
                *reterr = err;
                return e;
        }
        if (e < 0)
                fprintf(stderr, "%s run: warning: ignoring %s (written without fsync, it may not have survived a "
                                "power loss)\n", r->o->program_name, err);
        free(err);
        if (e > 0 && json_integer_value(json_object_get(run, "seq")) == seq &&
            json_integer_value(json_object_get(run, "document")) == cur && json_is_array(json_object_get(run, "conditions")))
                res->running = run;
        else
                json_decref(run);
        if (!res->running)
                state_remove(&r->sd, RUNNING_FILE);
        return 1;
}

/* Stops what the dead run's step left running, before anything else. */
void resume_stop_leftovers(struct runner *r, struct resume *res)
{
        json_t *run = res->running;
        json_int_t pgid = json_integer_value(json_object_get(run, "pgid"));
        if (!run || pgid <= 1 || pgid > INT_MAX)
                return;
        res->stopped = procgroup_stop_leftover(
                (pid_t)pgid, (unsigned long long)json_integer_value(json_object_get(run, "leaderStart")),
                (pid_t)json_integer_value(json_object_get(run, "sid")), json_string_value(json_object_get(run, "bootId")),
                r->o->kill_grace_ms);
}

/* The console lines of a resumed run, before its document goes on. */
void resume_notice(struct runner *r, const struct resume *res, bool recreated)
{
        const char *id = r->o->execution_id;
        if (!strcmp(res->reason, "reboot"))
                log_console(&r->log, "Recovery completed for detailed output.");
        else
                log_console(&r->log, "Resuming execution %s: the previous run stopped before it finished; its state "
                                     "is restored", id);
        log_app(&r->log, "Info", "resuming from %s/%s (checkpoint %llu, %s)", r->sd.path, STATE_FILE,
                (unsigned long long)r->ck.seq, res->reason);
        if (recreated && strcmp(res->reason, "begin") != 0)
                log_console(&r->log, "The log folder %s was gone and was made again; what it held is lost",
                            r->log.path);
        if (res->torn)
                log_console(&r->log, "The last checkpoint record in %s/%s was cut short by the interruption; the "
                                     "one before it is used", r->sd.path, STATE_FILE);
        if (res->stopped)
                log_console(&r->log, "Stopped %d process(es) that the previous run's step %s left running", res->stopped,
                            json_string_value(json_object_get(res->running, "stepName")));
        if (res->running && strcmp(res->reason, "reboot") != 0) {
                json_int_t it = json_integer_value(json_object_get(res->running, "iteration"));
                const char *step = json_string_value(json_object_get(res->running, "stepName"));
                if (it >= 0)
                        log_console(&r->log, "Step %s (iteration %lld) was running when the previous run stopped; it "
                                             "runs again", step, (long long)it);
                else
                        log_console(&r->log, "Step %s was running when the previous run stopped; it runs again", step);
        }
}
