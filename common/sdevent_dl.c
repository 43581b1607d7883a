/* sdevent_dl.c: resolves the libsystemd functions opentoe uses (sd-event,
 * sd_journal_sendv), once: the one dlopen of libsystemd. */
#include "sdevent_dl.h"

#include "dlsyms.h"

#define SYM(field, name) DL_SYM(struct sdev_api, field, name)

static const struct dl_sym syms[] = {
        SYM(event_new, "sd_event_new"),
        SYM(event_unref, "sd_event_unref"),
        SYM(event_run, "sd_event_run"),
        SYM(event_loop, "sd_event_loop"),
        SYM(event_exit, "sd_event_exit"),
        SYM(now, "sd_event_now"),
        SYM(add_io, "sd_event_add_io"),
        SYM(add_time, "sd_event_add_time"),
        SYM(add_signal, "sd_event_add_signal"),
        SYM(add_defer, "sd_event_add_defer"),
        SYM(source_unref, "sd_event_source_unref"),
        SYM(source_disable_unref, "sd_event_source_disable_unref"),
        SYM(source_set_io_events, "sd_event_source_set_io_events"),
        SYM(source_set_time, "sd_event_source_set_time"),
        SYM(source_set_enabled, "sd_event_source_set_enabled"),
        SYM(source_set_priority, "sd_event_source_set_priority"),
        SYM(source_set_floating, "sd_event_source_set_floating"),
        SYM(journal_sendv, "sd_journal_sendv"),
};

const struct sdev_api *sdev;
static struct sdev_api api;

int sdev_load(char **reterr_msg)
{
        static const char *const names[] = { "libsystemd.so.0" };
        void *h;
        int r;

        if (sdev)
                return 0;
        r = dl_load(names, 1, syms, sizeof syms / sizeof syms[0], &api, "libsystemd", "libsystemd0", &h, reterr_msg);
        if (r < 0)
                return r;
        sdev = &api; /* the library stays loaded for the life of the process */
        return 0;
}
