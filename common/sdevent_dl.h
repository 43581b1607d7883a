/* sdevent_dl.h: libsystemd's sd-event, loaded with dlopen on first use,
 * as common/curl_dl.h loads libcurl: validate, compile and the other
 * commands that wait for nothing never load it (tests/startup-libs.sh).
 * <systemd/sd-event.h> is included for its types only; every call goes
 * through struct sdevent_api. */
#pragma once

#include <systemd/sd-event.h>

struct sdevent_api {
        int (*event_new)(sd_event **ret);
        sd_event *(*event_unref)(sd_event *e);
        int (*event_loop)(sd_event *e);
        int (*event_exit)(sd_event *e, int code);
        int (*now)(sd_event *e, clockid_t clock, uint64_t *usec);
        int (*add_io)(sd_event *e, sd_event_source **s, int fd, uint32_t events, sd_event_io_handler_t callback,
                      void *userdata);
        int (*add_time)(sd_event *e, sd_event_source **s, clockid_t clock, uint64_t usec, uint64_t accuracy,
                        sd_event_time_handler_t callback, void *userdata);
        int (*add_defer)(sd_event *e, sd_event_source **s, sd_event_handler_t callback, void *userdata);
        int (*source_set_io_events)(sd_event_source *s, uint32_t events);
        int (*source_set_time)(sd_event_source *s, uint64_t usec);
        int (*source_set_enabled)(sd_event_source *s, int enabled);
        sd_event_source *(*source_unref)(sd_event_source *s);
};

/* Loads libsystemd once.  NULL when it cannot be loaded (a later call
 * tries again), with a message (to free) naming the Debian package. */
const struct sdevent_api *sdevent_api_get(char **reterr_msg);
