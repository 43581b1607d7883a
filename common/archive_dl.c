/* archive_dl.c: resolves the libarchive functions opentoe uses, once,
 * through the one loader (dlsyms.h).  Only ExtractArchive and `opentoe vm`
 * call this; see archive_dl.h for why it is not linked. */
#include "archive_dl.h"

#include <stdbool.h>

#include "dlsyms.h"

#define DL_TABLE struct archive_api
static const struct dl_sym syms[] = { ARCHIVE_API_FUNCTIONS(DL_ROW, DL_ROW_OPTIONAL) };

static struct archive_api api;
static bool loaded;

const struct archive_api *archive_api_get(char **reterr_msg)
{
        static const char *const names[] = { "libarchive.so.13", "libarchive.so" };
        struct archive_api a;
        void *h;

        /* A failure is not remembered: the next call tries again and
         * words it again, so no message outlives its call. */
        if (!loaded && dl_load(names, sizeof names / sizeof names[0], syms, sizeof syms / sizeof syms[0], &a,
                               "libarchive", "libarchive13", &h, reterr_msg) == 0) {
                api = a; /* the library stays loaded for the life of the process */
                loaded = true;
        }
        return loaded ? &api : NULL;
}
