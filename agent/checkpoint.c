/* checkpoint.c: building the records of the checkpoint log from the VM
 * and the runner's records, and knowing what the log already holds (see
 * checkpoint.h). */
#include "checkpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "strbuf.h"

void checkpointer_init(struct checkpointer *c, struct state_dir *sd, const struct state_binding *b)
{
        *c = (struct checkpointer){ .sd = sd, .binding = b, .log = STATE_LOG_INIT, .doc = SIZE_MAX };
}

void checkpointer_done(struct checkpointer *c)
{
        state_log_close(&c->log);
        free_many(c->dirty, c->iters, c->attempts);
        c->dirty = NULL;
        c->iters = NULL;
        c->attempts = NULL;
}

/* The log now holds all of `vm`'s state for `doc_index`. */
static void track(struct checkpointer *c, size_t doc_index, const struct vm *vm)
{
        size_t n = vm->prog->n_steps;
        free_many(c->dirty, c->iters, c->attempts);
        c->dirty = xcalloc(n + 1, sizeof *c->dirty);
        c->iters = xcalloc(n + 1, sizeof *c->iters);
        c->attempts = xcalloc(n + 1, sizeof *c->attempts);
        for (size_t k = 0; k < n; k++) {
                c->iters[k] = json_array_size(vm->steps[k].iterations);
                c->attempts[k] = vm->steps[k].attempts;
        }
        c->doc = doc_index;
        c->vm = vm;
        c->cur = vm->cur_step;
}

void checkpoint_resumed(struct checkpointer *c, size_t doc_index, const struct vm *vm, uint64_t seq,
                        uint64_t ino)
{
        if (vm)
                track(c, doc_index, vm);
        c->seq = seq;
        c->ino = ino;
}

void checkpoint_step_begun(struct checkpointer *c, const struct vm *vm, uint32_t step)
{
        if (vm == c->vm && c->dirty && step < vm->prog->n_steps)
                c->dirty[step] = true;
}

/* A step's entry, its loop outputs as an append when they only grew. */
static json_t *step_patch(struct checkpointer *c, const struct vm *vm, size_t k)
{
        json_t *st = vm_save_step(vm, k);
        json_t *it = json_object_get(st, "iterations");
        size_t have = json_array_size(it);
        if (json_is_array(it) && vm->steps[k].attempts == c->attempts[k] && c->iters[k] <= have) {
                json_t *add = json_array();
                for (size_t i = c->iters[k]; i < have; i++)
                        json_array_append(add, json_array_get(it, i));
                json_object_set_new(st, "iterations", json_pack("{s:I, s:o}", "@from", (json_int_t)c->iters[k],
                                                                 "@add", add));
        }
        json_object_set_new(st, "@merge", json_true());
        c->iters[k] = have;
        c->attempts[k] = vm->steps[k].attempts;
        return st;
}

static json_t *finished_documents(const struct checkpoint_run *run, size_t doc_index)
{
        json_t *finished = json_array();
        for (size_t i = 0; i < doc_index && i < run->n_runs; i++)
                json_array_append_new(finished, doc_run_save_finished(&run->runs[i]));
        return finished;
}

/* The record: a patch of the state the log holds (state.h). */
static json_t *record(struct checkpointer *c, const struct checkpoint_run *run, size_t doc_index,
                      const struct vm *vm, const char *reason)
{
        long long size = logdir_flush(run->log);
        json_t *patch = json_pack("{s:b, s:I, s:s, s:I, s:I}", "@merge", 1, "seq", (json_int_t)c->seq,
                                  "reason", reason, "current", (json_int_t)doc_index,
                                  /* What console.log held: lines after this
                                   * point that no action wrote are written
                                   * again by a resumed run, so it cuts them. */
                                  "consoleSize", (json_int_t)(size > 0 ? size : 0));
        /* The reboot counter (its bound) and, at a reboot, the nested
         * documents' VMs, which the ExecuteDocument step run again
         * resumes. */
        json_object_set_new(patch, "reboots", json_integer(run->reboots));
        json_object_set_new(patch, "nested", run->nested ? json_deep_copy(run->nested) : json_null());
        if (c->log.fd < 0 || c->ino != run->log->ino) {
                json_t *docs = json_array();
                for (size_t i = 0; i < run->n_runs; i++)
                        json_array_append_new(docs, json_pack("{s:s}", "path", run->runs[i].d->path));
                json_object_set_new(patch, "documents", docs);
                json_object_set_new(patch, "executionId", json_string(run->execution_id));
                json_object_set_new(patch, "logFolder", json_string(run->log->path));
                json_object_set_new(patch, "logFolderAbsolute", json_string(run->log_abs));
                json_object_set_new(patch, "logFolderInode", json_integer((json_int_t)run->log->ino));
                c->ino = run->log->ino;
        }
        if (!strcmp(reason, "begin")) {
                /* Nothing has run: a resumed run starts again from here. */
                json_object_set_new(patch, "run", span_save(run->run_span));
                json_object_set_new(patch, "finished", json_array());
                return patch;
        }
        if (c->log.fd < 0 || c->doc != doc_index || c->vm != vm) {
                /* The run's start is all a record needs of its times. */
                json_object_set_new(patch, "run", span_save(run->run_span));
                json_object_set_new(patch, "finished", finished_documents(run, doc_index));
                json_object_set_new(patch, "vm", vm_save(vm));
                json_object_set_new(patch, "records", doc_run_save(&run->runs[doc_index]));
                track(c, doc_index, vm);
                return patch;
        }
        /* The steps touched: those begun since, and the one current then
         * and now (steps only ever change while they are current). */
        size_t n = vm->prog->n_steps, *list = xcalloc(n + 1, sizeof *list), count = 0;
        for (size_t k = 0; k < n; k++)
                if (c->dirty[k] || k == c->cur || k == vm->cur_step)
                        list[count++] = k;
        json_t *core = vm_save_core(vm), *steps = json_pack("{s:I, s:[]}", "@len", (json_int_t)n, "@patch");
        /* What cannot change within a document is saved once. */
        json_object_del(core, "vars");
        json_object_del(core, "phaseSelected");
        json_object_del(core, "version");
        json_object_del(core, "sha256");
        json_object_set_new(core, "@merge", json_true());
        for (size_t j = 0; j < count; j++)
                json_array_append_new(json_object_get(steps, "@patch"),
                                      json_pack("[I, o]", (json_int_t)list[j], step_patch(c, vm, list[j])));
        json_object_set_new(core, "steps", steps);
        json_object_set_new(patch, "vm", core);
        json_object_set_new(patch, "records", doc_run_save_patch(&run->runs[doc_index], list, count));
        free(list);
        memset(c->dirty, 0, n * sizeof *c->dirty);
        c->cur = vm->cur_step;
        return patch;
}

int checkpoint_write(struct checkpointer *c, const struct checkpoint_run *run, size_t doc_index,
                     const struct vm *vm, const char *reason, char **reterr)
{
        *reterr = NULL;
        if (!c->sd || c->sd->fd < 0) {
                *reterr = xstrdup("no state directory");
                return -EINVAL;
        }
        c->seq++;
        json_t *patch = record(c, run, doc_index, vm, reason);
        int e = state_log_append(c->sd, &c->log, patch, c->binding, reterr);
        json_decref(patch);
        if (e < 0) {
                /* The log holds what it held: the next record says it all. */
                c->seq--;
                c->vm = NULL;
        }
        return e;
}
