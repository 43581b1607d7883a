/* state.h: the state folder of a run and the files in it.
 *
 *   state.jsonl   the checkpoint log: one record per checkpoint, each a
 *                 patch of the run's state (what changed since the one
 *                 before), appended and fdatasynced, so a checkpoint
 *                 costs the size of what changed, not of the run
 *   running.json  the step in flight: its process group and the
 *                 condition results since the checkpoint; rewritten in
 *                 place without fsync (it matters only while the machine
 *                 stays up)
 *   lock          held (flock) for the whole run: one run per folder
 *
 * The folder is created 0700 and must stay private (owned by the
 * effective user, not writable by group or others; every folder above it
 * is checked as common/trust.h says).  A file is read only if it is
 * private too (0600 at most).  Both files are bound to the SHA-256 of
 * every program they belong to, and carry digests over their contents,
 * so a state that is damaged, edited, or saved for other documents is
 * refused with a message naming the file, never silently ignored.  The
 * one exception is the last record of the log when a crash cut it short
 * (it has no final newline): it was never a checkpoint, and is dropped
 * (the reader says so).
 *
 * state.jsonl: a header line
 *   {"format":"opentoe-state","version":3,"documents":["<sha256>",...]}
 * then one line per record
 *   {"n":<N>,"digest":"<hex>","patch":<patch>}
 * where digest is the SHA-256 of the previous record's digest (for the
 * first, of "opentoe-state 3\n" and the header line), "\n", and the
 * patch's bytes.
 *
 * Patches: a value replaces what was there, except objects with these
 * keys: {"@merge":true, k: v ...} patches the object key by key;
 * {"@len":n, "@patch":[[i, v], ...]} resizes an array to n and patches
 * its elements at i; {"@from":k, "@add":[...]} keeps an array's first k
 * elements and appends the rest.
 *
 * running.json: a header line
 *   {"format":"opentoe-state","version":3,"documents":[...],"digest":"<hex>"}
 * then the body, a JSON object; digest is over "opentoe-state 3\n", each
 * document's sha256 and "\n", then the body's bytes. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "program.h"

#define STATE_FILE "state.jsonl"
#define RUNNING_FILE "running.json"

struct state_dir {
        char *path;     /* as given */
        int fd;         /* the folder, checked */
        int lock_fd;
};

enum {
        STATE_DIR_CREATE = 1u << 0,  /* make it (and its parents) 0700 when missing */
        STATE_DIR_LOCK = 1u << 1,    /* take its lock: for a run */
};

/* Opens and checks the state folder.  Returns 0 or a negative errno with
 * *reterr set (another run holding the lock is -EBUSY). */
int state_dir_open(const char *path, unsigned flags, struct state_dir *ret, char **reterr);
void state_dir_close(struct state_dir *sd);

/* The programs a state belongs to, in document order. */
struct state_binding {
        const unsigned char (*sha256)[PROG_SHA256_LEN];
        size_t n;
};

/* The checkpoint log, open for appending. */
struct state_log {
        int fd;                 /* -1 until the first record */
        off_t size;             /* bytes of whole records (and header) */
        char prev[2 * PROG_SHA256_LEN + 1];
        unsigned long long records;
        bool broken;            /* a failed write could not be undone */
};
#define STATE_LOG_INIT { .fd = -1, .size = 0, .prev = "", .records = 0, .broken = false }

/* Appends a record: the first creates the file (mode 0600) with its
 * header.  Returns 0 once the record is on disk (fdatasync), or a
 * negative errno with *reterr set: then what the write left is cut
 * again, and the log holds what it held before.  The log may not grow
 * past 1 GiB (what a reader accepts). */
int state_log_append(struct state_dir *sd, struct state_log *log, const json_t *patch,
                     const struct state_binding *b, char **reterr);
/* Reads the log: 1 with the state that applying every record in order
 * gives, 0 when there is none, or a negative errno with *reterr saying
 * why it is refused.  A last record a crash cut short is cut from the
 * file (*ret_torn says so).  Leaves `log` ready to append; with `log`
 * NULL the file is only read (nothing is cut).  With `b` NULL the
 * programs are not checked (to show a state). */
int state_log_read(struct state_dir *sd, struct state_log *log, const struct state_binding *b, json_t **ret_body,
                   bool *ret_torn, char **reterr);
void state_log_close(struct state_log *log);

/* Applies a patch (see above) to `base` (reference taken, may be NULL);
 * returns the result (a new reference). */
json_t *state_patch_apply(json_t *base, const json_t *patch);


/* Rewrites running.json in place through `*fd`, kept open between
 * writes (made new on the first): cheaper than a rename, and the record
 * only matters while the machine stays up; a write cut short shows as a
 * digest mismatch, and is then ignored.  No fsync. */
int state_running_write(struct state_dir *sd, int *fd, const json_t *body, const struct state_binding *b,
                        char **reterr);

/* Reads `name` (RUNNING_FILE): 1 with *ret_body, 0 when there is none, or a negative
 * errno with *reterr saying what is wrong with it (not ours, wrong mode,
 * damaged, for other documents).  With `b` NULL the programs are not
 * checked. */
int state_read(struct state_dir *sd, const char *name, const struct state_binding *b, json_t **ret_body,
               char **reterr);

/* Removes one file, or (name NULL) both, and syncs the folder. */
void state_remove(struct state_dir *sd, const char *name);
