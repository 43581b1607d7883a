/* sdevent_dl.c: resolves the libsystemd functions opentoe uses (sd-event,
 * sd_journal_sendv), once: the one dlopen of libsystemd. */
#include "sdevent_dl.h"

#include "dlsyms.h"

#define DL_TABLE struct sdev_api
static const struct dl_sym syms[] = { SDEV_API_FUNCTIONS(DL_ROW, DL_ROW_OPTIONAL) };

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
