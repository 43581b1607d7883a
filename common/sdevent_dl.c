/* sdevent_dl.c: resolves the sd-event functions opentoe uses, once. */
#include "sdevent_dl.h"

#include <stdbool.h>

#include "dlsyms.h"

#define SYM(field, name) DL_SYM(struct sdevent_api, field, name)

static const struct dl_sym syms[] = {
        SYM(event_new, "sd_event_new"),
        SYM(event_unref, "sd_event_unref"),
        SYM(event_loop, "sd_event_loop"),
        SYM(event_exit, "sd_event_exit"),
        SYM(now, "sd_event_now"),
        SYM(add_io, "sd_event_add_io"),
        SYM(add_time, "sd_event_add_time"),
        SYM(add_defer, "sd_event_add_defer"),
        SYM(source_set_io_events, "sd_event_source_set_io_events"),
        SYM(source_set_time, "sd_event_source_set_time"),
        SYM(source_set_enabled, "sd_event_source_set_enabled"),
        SYM(source_unref, "sd_event_source_unref"),
};

static struct sdevent_api api;
static bool loaded;

const struct sdevent_api *sdevent_api_get(char **reterr_msg)
{
        static const char *const names[] = { "libsystemd.so.0" };
        void *h;

        if (!loaded && dl_load(names, 1, syms, sizeof syms / sizeof syms[0], &api, "libsystemd", "libsystemd0", &h,
                               reterr_msg) < 0)
                return NULL;
        loaded = true; /* the library stays loaded for the life of the process */
        return &api;
}
