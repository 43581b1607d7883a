/* sdevent_dl.h: libsystemd (sd-event, and sd-journal's sendv), loaded with dlopen when a run
 * starts.  libsystemd pulls in several shared libraries, so commands that
 * run nothing (validate, compile, --version) never load it
 * (tests/startup-libs.sh).  <systemd/sd-event.h> and <systemd/sd-journal.h>
 * are included for their types, constants and declarations (whose types
 * the table's fields take) only; every call goes through `sdev`, which is
 * NULL until sdev_load() succeeded (a loop exists only after that). */
#pragma once

#include <sys/uio.h>

#include <systemd/sd-event.h>
#include <systemd/sd-journal.h>

#include "dlsyms.h"

/* Every function opentoe calls: FN(field, the library's name). */
#define SDEV_API_FUNCTIONS(FN, FN_OPTIONAL) \
        FN(event_new, sd_event_new) \
        FN(event_unref, sd_event_unref) \
        FN(event_run, sd_event_run) \
        FN(event_loop, sd_event_loop) \
        FN(event_exit, sd_event_exit) \
        FN(now, sd_event_now) \
        FN(add_io, sd_event_add_io) \
        FN(add_time, sd_event_add_time) \
        FN(add_signal, sd_event_add_signal) \
        FN(add_defer, sd_event_add_defer) \
        FN(source_unref, sd_event_source_unref) \
        FN(source_disable_unref, sd_event_source_disable_unref) \
        FN(source_set_io_events, sd_event_source_set_io_events) \
        FN(source_set_time, sd_event_source_set_time) \
        FN(source_set_enabled, sd_event_source_set_enabled) \
        FN(source_set_priority, sd_event_source_set_priority) \
        FN(source_set_floating, sd_event_source_set_floating) \
        /* sd-journal's one call opentoe makes (agent/sinks/journal.c): \
         * one entry of FIELD=value iovecs. */ \
        FN(journal_sendv, sd_journal_sendv)

struct sdev_api {
        SDEV_API_FUNCTIONS(DL_FIELD, DL_FIELD)
};

/* The loaded functions, or NULL before sdev_load(). */
extern const struct sdev_api *sdev;

/* Loads libsystemd once.  Returns 0, or a negative errno with
 * *reterr_msg naming the Debian package to install (a later call tries
 * again). */
int sdev_load(char **reterr_msg);
