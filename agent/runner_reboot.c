/* runner_reboot.c: a run's side of the reboot protocol (reboot.c has the
 * modes, the boot trigger and the reboot itself): whether a reboot may
 * happen now, the nested documents' VMs kept for it, persisting the run
 * before it, and the end of a run that waits for it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "runner_internal.h"
#include "report.h"

/* Why a reboot asked for now cannot happen, or NULL. */
char *runner_reboot_refusal(const struct runner *r)
{
        long limit = reboot_limit();
        if (r->reboots >= limit)
                return xasprintf("the step asked for a reboot, but this execution has already rebooted %ld times, "
                                 "the bound (OPENTOE_REBOOT_LIMIT, default %d); it fails instead of rebooting again",
                                 r->reboots, REBOOT_LIMIT_DEFAULT);
        if (r->sd.fd < 0)
                return xstrdup("the step asked for a reboot, but there is no state directory to resume from");
        return NULL;
}

/* The saved state of the nested document at this depth when a resumed
 * run finds one for `path` and `prog` (taken: it is used once), or NULL. */
json_t *runner_nested_take(struct runner *r, const char *path, const struct program *prog)
{
        char key[16], hex[2 * PROG_SHA256_LEN + 1];
        snprintf(key, sizeof key, "%zu", r->chain.depth);
        json_t *saved = json_incref(json_object_get(r->nested_restore, key));
        if (!saved)
                return NULL;
        json_object_del(r->nested_restore, key);
        for (size_t k = 0; k < PROG_SHA256_LEN; k++)
                snprintf(hex + 2 * k, 3, "%02x", prog->sha256[k]);
        const char *sp = json_string_value(json_object_get(saved, "path"));
        const char *sh = json_string_value(json_object_get(saved, "sha256"));
        if (!sp || !sh || strcmp(sp, path) || strcmp(sh, hex)) {
                log_console(&r->log, "The saved state of nested document %s does not match it; it starts over", path);
                json_decref(saved);
                return NULL;
        }
        return saved;
}

/* Keeps a nested document's VM and records for the reboot's checkpoint. */
void runner_nested_keep(struct runner *r, const char *path, const struct doc_run *dr, const struct vm *vm)
{
        char key[16], hex[2 * PROG_SHA256_LEN + 1];
        snprintf(key, sizeof key, "%zu", r->chain.depth);
        for (size_t k = 0; k < PROG_SHA256_LEN; k++)
                snprintf(hex + 2 * k, 3, "%02x", vm->prog->sha256[k]);
        if (!r->nested_save)
                r->nested_save = json_object();
        json_object_set_new(r->nested_save, key,
                            json_pack("{s:s, s:s, s:o, s:o}", "path", path, "sha256", hex, "vm", vm_save(vm), "records",
                                      doc_run_save(dr)));
}

/* Before the reboot's checkpoint: in the self mode, the record of how to
 * run the execution again (a crash after it resumes from the checkpoint
 * there is).  A self mode that cannot reboot this machine becomes the
 * exit mode, saying so. */
void runner_reboot_prepare(struct runner *r)
{
        if (r->reboot_mode == REBOOT_MODE_SELF) {
                char *why = NULL;
                int e = reboot_possible(&why);
                if (e >= 0)
                        e = reboot_pending_write(r->o->program_name, r->o->execution_id, r->o->state_directory, r->o->argv,
                                                 &why);
                if (e < 0) {
                        log_console(&r->log, "Cannot arrange the reboot on this machine (%s); opentoe exits with 194 "
                                             "for its caller to reboot instead", why);
                        log_app(&r->log, "Error", "reboot mode self: %s", why);
                        free(why);
                        r->reboot_mode = REBOOT_MODE_EXIT;
                }
        }
        log_app(&r->log, "Info", "reboot %ld of at most %ld requested; mode %s (%s)", r->reboots, reboot_limit(),
                reboot_mode_name(r->reboot_mode), r->reboot_mode_why);
}

/* The reboot's checkpoint failed: there is no state to resume from, so
 * nothing may run at boot. */
void runner_reboot_abandon(struct runner *r)
{
        if (r->reboot_mode == REBOOT_MODE_SELF)
                reboot_pending_remove(r->o->execution_id);
}

/* The run is over (its state removed, or saved for a reboot): a claim
 * `run --resume` keeps for the execution is done (whatever this run's
 * mode: the resume may run it with another). */
void runner_reboot_over(struct runner *r)
{
        if (r->o->execution_id)
                reboot_claim_remove(r->o->execution_id);
}

/* The end of a run that waits for a reboot, once its state is saved:
 * console.log says what happens, the boot trigger (self mode), the
 * summary, every sink flushed, then the reboot (self mode) or the exit
 * with 194. */
void runner_reboot_end(struct runner *r, const struct counts *c)
{
        const char *how = NULL;
        char *err = NULL;
        log_app(&r->log, "Info", "reboot requested; state saved in %s", r->o->state_directory);
        /* The state is saved for the reboot: a claim `run --resume` kept
         * for this execution is done (in the self mode its new pending
         * record, written before the checkpoint, takes over). */
        runner_reboot_over(r);
        switch (r->reboot_mode) {
        case REBOOT_MODE_SSM:
                log_console(&r->log, "Rebooting the system now: opentoe exits with 194, SSM Agent reboots the "
                                     "instance and runs this command again, which resumes execution %s",
                            r->o->execution_id);
                break;
        case REBOOT_MODE_SELF:
                if (reboot_trigger_arm(&how, &err) < 0) {
                        log_console(&r->log, "Warning: cannot arrange the resume at boot (%s): %s; after the reboot, "
                                             "run 'opentoe run --resume'", how, err);
                        free(err);
                        err = NULL;
                }
                log_console(&r->log, "Rebooting the system now%s: execution %s resumes at boot (%s)",
                            r->reboot_delay_s > 0 ? " (after the delay)" : "", r->o->execution_id, how);
                break;
        case REBOOT_MODE_EXIT:
        case REBOOT_MODE_AUTO:
                log_console(&r->log, "Reboot pending: opentoe exits with 194; reboot the machine and run the same "
                                     "command again to resume execution %s", r->o->execution_id);
                break;
        }
        reboot_summary(stdout, r->o->execution_id, c, r->log.path);
        /* Undelivered lines stay spooled; the resumed run ships them. */
        sinks_close(&r->sinks, 5000);
        logdir_flush(&r->log);
        if (r->reboot_mode != REBOOT_MODE_SELF)
                return;
        char *cmd = NULL;
        if (reboot_now(r->reboot_delay_s, &cmd, &err) < 0) {
                log_console(&r->log, "Cannot reboot: %s; reboot the machine to resume", err);
                free(err);
        } else
                log_app(&r->log, "Info", "%s in %ld s, once opentoe has exited", cmd, r->reboot_delay_s);
        logdir_flush(&r->log);
        free(cmd);
}
