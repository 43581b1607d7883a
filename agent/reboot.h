/* reboot.h: the reboot protocol of a run (see opentoe(1), REBOOTS): which
 * mode applies, the pending-resume records and the boot trigger of the
 * self mode, asking the init system to reboot, the summary of a run that
 * waits for a reboot, and `opentoe run --resume`.  What the runner
 * persists and when is runner.c's; the machine is reached only through
 * common/system.h. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "report.h"

enum reboot_mode {
        REBOOT_MODE_AUTO,
        REBOOT_MODE_SSM,        /* exit 194; SSM Agent reboots and runs the command again */
        REBOOT_MODE_SELF,       /* opentoe arranges the resume and reboots */
        REBOOT_MODE_EXIT,       /* exit 194; the caller reboots and runs the command again */
};

#define REBOOT_LIMIT_DEFAULT 15

/* "ssm", "self", "exit" (or "auto"): 0 with *ret, or -EINVAL. */
int reboot_mode_parse(const char *s, enum reboot_mode *ret);
const char *reboot_mode_name(enum reboot_mode m);

/* The mode of this run: `given` (--reboot-mode) unless AUTO, else
 * OPENTOE_REBOOT_MODE, else ssm under SSM Agent (AWS_SSM_INSTANCE_ID or
 * AWS_SSM_REGION_NAME in the environment), else self for root, else
 * exit.  *ret_why says what chose it (static). */
enum reboot_mode reboot_mode_choose(enum reboot_mode given, const char **ret_why);

/* How many reboots a run may ask for (OPENTOE_REBOOT_LIMIT, 1 to 100,
 * default 15 as SSM Agent's CommandRetryLimit). */
long reboot_limit(void);

/* Self mode, before the state is persisted: records how to run this
 * command again (its arguments, its folder, its state folder: whether a
 * run holds it is how `--resume` tells a live run from a dead one) as
 * /var/lib/opentoe/resume/pending/<execution id>.json.  `argv` ends with
 * NULL; argv[0] is the subcommand ("run"). */
int reboot_pending_write(const char *program, const char *execution_id, const char *state_dir, char *const *argv,
                         char **reterr);

/* Removes this execution's pending record (its reboot did not happen). */
void reboot_pending_remove(const char *execution_id);

/* Removes this execution's claimed record, if there is one: its resumed
 * run has ended, or saved its state for another reboot (`run --resume`
 * keeps a claim until then, so that a run killed before is resumed at
 * the next boot).  Never makes the folder. */
void reboot_claim_remove(const char *execution_id);

/* Self mode, once the state is persisted: the boot trigger: the
 * opentoe-resume.service unit enabled (systemd), else the crontab
 * @reboot entry.  *ret_how says which (static). */
int reboot_trigger_arm(const char **ret_how, char **reterr);

/* Self mode, last: the init system reboots after `delay_s`, once this
 * process has exited (systemctl reboot, else reboot).  *ret_how names the
 * command (allocated). */
int reboot_now(long delay_s, char **ret_how, char **reterr);

/* Self mode, before anything is persisted: can this machine be
 * rebooted by opentoe?  0, or a negative errno with *reterr. */
int reboot_possible(char **reterr);

/* The summary of a run that waits for a reboot: status "pending-reboot"
 * (AWS documents no such status; AWSTOE prints none). */
void reboot_summary(FILE *f, const char *execution_id, const struct counts *c, const char *log_url);

/* `opentoe run --resume`: one at a time (a lock on the claimed/
 * folder), claims every pending record (exactly once: a rename), and
 * runs each claimed command again, with those an earlier boot claimed
 * whose run was killed before it ended (once per boot: the claim keeps
 * the boot's id; at most OPENTOE_REBOOT_LIMIT times; never while a run
 * holds the state's lock).  A claim is removed when its run ends
 * (success, failure, or a new reboot's hand-off); the boot trigger when
 * nothing waits any more.  Returns the exit status. */
int reboot_resume_pending(const char *program);
