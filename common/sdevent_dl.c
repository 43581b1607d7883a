/* sdevent_dl.c: resolves the sd-event functions opentoe uses, once. */
#include "sdevent_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>

#include "errmsg.h"

static struct sdevent_api api;
static bool loaded;

#define RESOLVE(field, sym)                                                    \
        do {                                                                   \
                *(void **)&a.field = dlsym(h, sym);                            \
                if (!a.field) {                                                \
                        dlclose(h);                                            \
                        return errmsg_set(reterr_msg, -ENOSYS,                 \
                                          "libsystemd lacks %s; install a newer libsystemd0", sym); \
                }                                                              \
        } while (0)

static int load(char **reterr_msg)
{
        struct sdevent_api a;
        void *h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);

        if (!h)
                return errmsg_set(reterr_msg, -ENOSYS,
                                  "cannot load libsystemd (%s); install the Debian package libsystemd0", dlerror());
        RESOLVE(event_new, "sd_event_new");
        RESOLVE(event_unref, "sd_event_unref");
        RESOLVE(event_loop, "sd_event_loop");
        RESOLVE(event_exit, "sd_event_exit");
        RESOLVE(now, "sd_event_now");
        RESOLVE(add_io, "sd_event_add_io");
        RESOLVE(add_time, "sd_event_add_time");
        RESOLVE(add_defer, "sd_event_add_defer");
        RESOLVE(source_set_io_events, "sd_event_source_set_io_events");
        RESOLVE(source_set_time, "sd_event_source_set_time");
        RESOLVE(source_set_enabled, "sd_event_source_set_enabled");
        RESOLVE(source_unref, "sd_event_source_unref");
        api = a; /* the library stays loaded for the life of the process */
        return 0;
}

const struct sdevent_api *sdevent_api_get(char **reterr_msg)
{
        if (!loaded && load(reterr_msg) < 0)
                return NULL;
        loaded = true;
        return &api;
}
