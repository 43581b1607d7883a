/* sdevent_dl.c: resolves the sd-event functions opentoe uses, once. */
#include "sdevent_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

#include "errmsg.h"

const struct sdev_api *sdev;
static struct sdev_api api;

int sdev_load(char **reterr_msg)
{
        static const struct {
                size_t offset;
                const char *sym;
        } fns[] = {
#define FN(field, sym) { offsetof(struct sdev_api, field), sym }
                FN(event_new, "sd_event_new"),
                FN(event_unref, "sd_event_unref"),
                FN(event_run, "sd_event_run"),
                FN(add_io, "sd_event_add_io"),
                FN(add_time, "sd_event_add_time"),
                FN(add_signal, "sd_event_add_signal"),
                FN(add_defer, "sd_event_add_defer"),
                FN(source_unref, "sd_event_source_unref"),
                FN(source_disable_unref, "sd_event_source_disable_unref"),
                FN(source_set_time, "sd_event_source_set_time"),
                FN(source_set_enabled, "sd_event_source_set_enabled"),
                FN(source_set_priority, "sd_event_source_set_priority"),
                FN(source_set_floating, "sd_event_source_set_floating"),
#undef FN
        };
        void *h;

        if (sdev)
                return 0;
        h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return errmsg_set(reterr_msg, -ENOENT, "cannot load libsystemd (%s); install the Debian package libsystemd0",
                                  dlerror());
        for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
                void *f = dlsym(h, fns[i].sym);

                if (!f) {
                        dlclose(h);
                        return errmsg_set(reterr_msg, -ENOSYS, "libsystemd lacks %s; install a newer libsystemd0",
                                          fns[i].sym);
                }
                *(void **)((char *)&api + fns[i].offset) = f;
        }
        sdev = &api;
        return 0;
}
