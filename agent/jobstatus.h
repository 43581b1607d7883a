/* jobstatus.h: a job's status.json (opentoe-agent(8), STATUS FILES):
 * what the agent says of a job, written atomically at every change so
 * that `opentoe status --wait` reads files, never the daemon's memory.
 * Keys: executionId, status (queued, running, pending-reboot, success,
 * failed, refused), seq (submission time, ns), document, phase, step
 * (while running), exitCode, reason, updated (Unix seconds). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

/* Sets `status` (static string) and merges `extra` (stolen; NULL:
 * nothing; a key with a null value is removed) into the job's status.
 * 0 or a negative errno with *reterr. */
int jobstatus_set(int job_dirfd, const char *status, json_t *extra, char **reterr);

/* True for a status that no longer changes (success, failed, refused). */
bool jobstatus_final(const char *status);

/* `opentoe status`'s exit code for a status (opentoe(1), STATUS): 0
 * success, 1 failed, 3 not done yet, 4 refused. */
int jobstatus_exit_code(const char *status);
