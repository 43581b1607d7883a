/* sdevent_dl.h: libsystemd (sd-event, and sd-journal's sendv), loaded with dlopen when a run
 * starts.  libsystemd pulls in several shared libraries, so commands that
 * run nothing (validate, compile, --version) never load it
 * (tests/startup-libs.sh).  <systemd/sd-event.h> is included for its
 * types and constants only; every call goes through `sdev`, which is NULL
 * until sdev_load() succeeded (a loop exists only after that). */
#pragma once

#include <sys/uio.h>

#include <systemd/sd-event.h>

struct sdev_api {
        int (*event_new)(sd_event **ret);
        sd_event *(*event_unref)(sd_event *e);
        int (*event_run)(sd_event *e, uint64_t usec);
        int (*event_loop)(sd_event *e);
        int (*event_exit)(sd_event *e, int code);
        int (*now)(sd_event *e, clockid_t clock, uint64_t *usec);
        int (*add_io)(sd_event *e, sd_event_source **s, int fd, uint32_t events, sd_event_io_handler_t cb,
                      void *userdata);
        int (*add_time)(sd_event *e, sd_event_source **s, clockid_t clock, uint64_t usec, uint64_t accuracy,
                        sd_event_time_handler_t cb, void *userdata);
        int (*add_signal)(sd_event *e, sd_event_source **s, int sig, sd_event_signal_handler_t cb, void *userdata);
        int (*add_defer)(sd_event *e, sd_event_source **s, sd_event_handler_t cb, void *userdata);
        sd_event_source *(*source_unref)(sd_event_source *s);
        sd_event_source *(*source_disable_unref)(sd_event_source *s);
        int (*source_set_io_events)(sd_event_source *s, uint32_t events);
        int (*source_set_time)(sd_event_source *s, uint64_t usec);
        int (*source_set_enabled)(sd_event_source *s, int enabled);
        int (*source_set_priority)(sd_event_source *s, int64_t priority);
        int (*source_set_floating)(sd_event_source *s, int b);
        /* sd-journal's one call opentoe makes (agent/sinks/journal.c):
         * one entry of FIELD=value iovecs. */
        int (*journal_sendv)(const struct iovec *iov, int n);
};

/* The loaded functions, or NULL before sdev_load(). */
extern const struct sdev_api *sdev;

/* Loads libsystemd once.  Returns 0, or a negative errno with
 * *reterr_msg naming the Debian package to install (a later call tries
 * again). */
int sdev_load(char **reterr_msg);
