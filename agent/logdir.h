/* logdir.h: the AWSTOE log folder of one run,
 * TOE_<YYYY-MM-DD_HH-MM-SS>_UTC-0_<executionId>/, and its line logs:
 * console.log (what a person watching the run sees, `<date> <time.ms>
 * Info <message>`) and application.log (opentoe's own debug log).  Other
 * files (detailedoutput.json, document.yaml) are written whole and
 * atomically.
 *
 * The folder is made with mkdir (never reused unless a resumed run's
 * state names it and it is still opentoe's own), under a log directory
 * whose every parent is checked (common/trust.h); it is opened once, and
 * every file in it, scripts/ included, is reached relative to that
 * descriptor without following links.  Modes: the folder 0750, logs and
 * reports 0640, scripts/ 0700 and scripts 0600, each less the umask. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "atomicfile.h"
#include "mkdirs.h"
#include "strbuf.h"

#define LOGDIR_MODE 0750
#define LOGFILE_MODE 0640

struct logdir {
        char *path;          /* the TOE_* folder */
        int dirfd;           /* the TOE_* folder, or -1 */
        uint64_t ino;        /* its inode, recorded in checkpoints */
        char *scripts_path;  /* path/scripts */
        int scripts_fd;      /* scripts/, or -1 until first needed */
        FILE *console;       /* console.log */
        char *console_buf;   /* its stdio buffer (freed after it is closed) */
        FILE *app;           /* application.log */
        bool trace;          /* echo application.log to stderr */
        bool muted;          /* write nothing (a resumed run going again over lines already written) */
        /* Called with every console.log line as written (CloudWatch). */
        void (*tee)(void *userdata, const char *line, size_t len);
        void *tee_userdata;
        /* console.log is fully buffered: called once after a line lands
         * in an empty buffer, so the owner can arrange the flush (the
         * sinks do it when the loop is idle); NULL: flushed at each
         * checkpoint and at close only. */
        void (*unflushed)(void *userdata);
        void *unflushed_userdata;
        bool dirty;          /* console.log has lines not yet flushed */
        /* The line being built (reused), and the time stamp's date and
         * time, formatted once a second. */
        struct strbuf line;
        time_t stamp_sec;
        char stamp_text[24];
};

/* The folder's name, TOE_<date>_UTC-0_<id>, or NULL with *reterr when
 * the id cannot be part of a name. */
char *logdir_name(const char *execution_id, time_t start, char **reterr);
/* Whether `path` is absolute, plain (no "." or ".." parts) and ends in a
 * name logdir_name() gives for `execution_id`. */
bool logdir_is_own_path(const char *path, const char *execution_id);
/* Creates a new log folder for a run under `parent` (created with its
 * parents when missing). */
int logdir_create(const char *parent, const char *execution_id, time_t start, struct logdir *ret, char **reterr);
/* Opens the log folder a resumed run's state names.  It must be a
 * folder of the effective user that group and others cannot write, with
 * the inode the state recorded; the logs are appended to (after a
 * newline, when a crash cut the last line short).  A folder that is gone
 * (a file system emptied at boot) is made again, and *ret_recreated
 * says so.  With `ino` 0 (the state was saved before the folder was
 * made) any folder of ours by that name is taken. */
int logdir_reopen(const char *path, uint64_t ino, struct logdir *ret, bool *ret_recreated, char **reterr);
void logdir_close(struct logdir *l);

/* The scripts/ folder, made on first use: a descriptor, or a negative
 * errno with *reterr set. */
int logdir_scripts(struct logdir *l, char **reterr);
/* Removes scripts/ and what a run left in it (unless
 * OPENTOE_KEEP_SCRIPTS is set). */
void logdir_drop_scripts(struct logdir *l);

void log_console(struct logdir *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A console line with a length (child output may hold any bytes). */
void log_console_n(struct logdir *l, const char *prefix, const char *text, size_t len);
/* A console line without the date and level (the failure block). */
void log_console_raw(struct logdir *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_app(struct logdir *l, const char *level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Flushes both logs; returns console.log's size after the flush, or -1. */
long long logdir_flush(struct logdir *l);
/* Hands console.log's buffered lines to the kernel (no fstat). */
void logdir_flush_lines(struct logdir *l);
/* Cuts console.log back to `size` bytes (a resumed run that had already
 * written its final lines writes them again). */
int logdir_truncate_console(struct logdir *l, long long size);  /* never lengthens it */

/* Writes a whole file into the folder: temp file, fsync, rename, fsync
 * of the folder; mode LOGFILE_MODE less the umask. */
int logdir_write(struct logdir *l, const char *name, const char *data, size_t len);


/* `path` made absolute by joining it to the current directory (nothing
 * normalised: it is compared with the path a resumed run recorded). */
char *logdir_absolute(const char *path);

/* "2021-08-26T17:20:31-07:00" (RFC 3339 in local time; "Z" for UTC). */
void format_rfc3339(const struct timespec *ts, char *buf, size_t size);
