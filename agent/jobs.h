/* jobs.h: the agent's spool (opentoe-agent(8), JOBS): the root folder
 * (/var/lib/opentoe, or OPENTOE_AGENT_ROOT / --root), its jobs/ folder
 * with one folder per execution id (job.json, status.json, the job's
 * state and TOE_* folders), refused/ for jobs moved aside, outbox/ for
 * the signals.  Every folder is private to its owner (0700, checked with
 * common/trust.c), every file is opened without following links and
 * replaced atomically.  The status file's format is jobstatus.c's. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOB_ID_MAX 128                  /* bytes of an execution id */
#define JOB_FILE_MAX (1024 * 1024)      /* bytes of job.json or status.json */
#define JOBS_MAX 1000                   /* jobs in the spool */

struct jobroot {
        char *path;             /* the root, absolute */
        int fd;                 /* the root */
        int jobs_fd;            /* jobs/ */
        int refused_fd;         /* refused/ */
};

/* The root: `given`, else OPENTOE_AGENT_ROOT, else /var/lib/opentoe.
 * Allocated. */
char *jobroot_default(const char *given);
/* The --root flag of every command that reaches the spool (agent,
 * submit, status), for an option table (agent/options.h): one help text
 * and one default, jobroot_default()'s. */
#define JOBROOT_OPTION(var)                                                                        \
        OPTION_STR("root", 0, (var), .arg = "DIR",                                                 \
                   .help = "the agent's folder (default $OPENTOE_AGENT_ROOT or /var/lib/opentoe)", \
                   .value = OPTION_VALUE_DIR)
/* Opens (creating them 0700 when missing) the root and its folders,
 * checked private.  0, or a negative errno with *reterr. */
int jobroot_open(const char *path, struct jobroot *ret, char **reterr);
void jobroot_close(struct jobroot *jr);

/* An execution id opentoe accepts as a folder name: 1 to JOB_ID_MAX
 * bytes of [A-Za-z0-9._-], not starting with '.'.  0 or -EINVAL with
 * *reterr. */
int job_id_check(const char *id, char **reterr);

/* Places `job` (the whole job: AWSTOE's config plus opentoe's keys; its
 * "executionId" is the id) in the spool as queued: written in a
 * temporary folder, renamed into jobs/ at once.  -EEXIST when the id is
 * taken. */
int job_submit(struct jobroot *jr, const json_t *job, const char *id, char **reterr);

/* Opens the folder of job `id` in jobs/ (or refused/ when *ret_refused is
 * set on return).  -ENOENT without a message when there is none. */
int job_open(struct jobroot *jr, const char *id, bool *ret_refused, char **reterr);

/* The ids in jobs/ (or refused/), oldest submission first.  Returns the
 * count (at most JOBS_MAX) with *ret (a NULL-terminated vector, strv_free). */
int job_list(struct jobroot *jr, bool refused, char ***ret, char **reterr);

/* Reads the private file `name` of a job folder as JSON (an object, at
 * most JOB_FILE_MAX bytes).  -ENOENT without a message when missing. */
int job_read_json(int dirfd, const char *name, json_t **ret, char **reterr);
/* Replaces `name` in a job folder with `j` (0600, atomic). */
int job_write_json(int dirfd, const char *name, const json_t *j, char **reterr);

/* Moves job `id` from jobs/ to refused/ (never retried blindly). */
int job_move_aside(struct jobroot *jr, const char *id, char **reterr);
