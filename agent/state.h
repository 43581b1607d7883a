/* state.h: the state folder of a run and the files in it.
 *
 *   state.json    the checkpoint: the run's whole progress, written
 *                 atomically and fsynced after every completed step (the
 *                 runner decides when; see runner.c)
 *   running.json  the step in flight: its process group and the
 *                 condition results since the checkpoint; renamed into
 *                 place without fsync (it matters only while the machine
 *                 stays up)
 *   lock          held (flock) for the whole run: one run per folder
 *
 * The folder is created 0700 and must stay private (owned by the
 * effective user, not writable by group or others; every folder above it
 * is checked as common/trust.h says).  A file is read only if it is
 * private too (0600 at most), and it carries a digest over its body and
 * the SHA-256 of every program it belongs to, so a state that is
 * truncated, edited, or saved for other documents is refused with a
 * message naming the file, never silently ignored.
 *
 * File format: one line of JSON header
 *   {"format":"opentoe-state","version":2,"documents":["<sha256>",...],
 *    "digest":"<sha256 of 'opentoe-state 2\n', each document's sha256
 *              and '\n', then the body's bytes>"}
 * then the body, a JSON object. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "program.h"

#define STATE_FILE "state.json"
#define RUNNING_FILE "running.json"

struct state_dir {
        char *path;     /* as given */
        int fd;         /* the folder, checked */
        int lock_fd;
};

/* Opens (creating it and its parents with mode 0700) and checks the
 * state folder, and takes its lock.  Returns 0 or a negative errno with
 * *reterr set (another run holding the lock is -EBUSY). */
int state_dir_open(const char *path, struct state_dir *ret, char **reterr);
void state_dir_close(struct state_dir *sd);

/* The programs a state belongs to, in document order. */
struct state_binding {
        const unsigned char (*sha256)[PROG_SHA256_LEN];
        size_t n;
};

/* Writes `body` as `name` (STATE_FILE, RUNNING_FILE), mode 0600;
 * `flags` as write_file_atomic_at() takes them. */
int state_write(struct state_dir *sd, const char *name, const json_t *body, const struct state_binding *b,
                unsigned flags, char **reterr);

/* Reads `name`: 1 with *ret_body, 0 when there is none, or a negative
 * errno with *reterr saying what is wrong with it (not ours, wrong mode,
 * damaged, for other documents). */
int state_read(struct state_dir *sd, const char *name, const struct state_binding *b, json_t **ret_body,
               char **reterr);

/* Removes one file, or (name NULL) both, and syncs the folder. */
void state_remove(struct state_dir *sd, const char *name);
