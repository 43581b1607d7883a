/* logdir.h: the AWSTOE log folder of one run,
 * TOE_<YYYY-MM-DD_HH-MM-SS>_UTC-0_<executionId>/, and its line logs:
 * console.log (what a person watching the run sees, `<date> <time.ms>
 * Info <message>`) and application.log (opentoe's own debug log).  Other
 * files (detailedoutput.json, document.yaml) are written whole and
 * atomically. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "atomicfile.h"
#include "mkdirs.h"

struct logdir {
        char *path;          /* the TOE_* folder */
        FILE *console;       /* console.log */
        FILE *app;           /* application.log */
        bool trace;          /* echo application.log to stderr */
        /* Called with every console.log line as written (CloudWatch). */
        void (*tee)(void *userdata, const char *line, size_t len);
        void *tee_userdata;
};

int logdir_open(const char *parent, const char *execution_id, time_t start, struct logdir *ret, char **reterr);
void logdir_close(struct logdir *l);

void log_console(struct logdir *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A console line with a length (child output may hold any bytes). */
void log_console_n(struct logdir *l, const char *prefix, const char *text, size_t len);
/* A console line without the date and level (the failure block). */
void log_console_raw(struct logdir *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_app(struct logdir *l, const char *level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Writes a whole file into the folder: temp file, fsync, rename, fsync
 * of the folder. */
int logdir_write(struct logdir *l, const char *name, const char *data, size_t len);


/* "2021-08-26T17:20:31-07:00" (RFC 3339 in local time; "Z" for UTC). */
void format_rfc3339(const struct timespec *ts, char *buf, size_t size);
