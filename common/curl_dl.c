/* curl_dl.c: resolves the libcurl functions opentoe uses, once. */
#include "curl_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>

#include "dlsyms.h"
#include "errmsg.h"

#define DL_TABLE struct curl_api
static const struct dl_sym syms[] = { CURL_API_FUNCTIONS(DL_ROW, DL_ROW_OPTIONAL) };

static struct curl_api api;
static bool loaded;

static int load(char **reterr_msg)
{
        static const char *const names[] = { "libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so" };
        struct curl_api a;
        void *h;
        int r = dl_load(names, sizeof names / sizeof names[0], syms, sizeof syms / sizeof syms[0], &a, "libcurl",
                        "libcurl4", &h, reterr_msg);

        if (r < 0)
                return r;
        if (a.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                dlclose(h);
                return errmsg_set(reterr_msg, -EIO, "libcurl failed to initialise");
        }
        api = a; /* the library stays loaded for the life of the process */
        return 0;
}

const struct curl_api *curl_api_get(char **reterr_msg)
{
        if (!loaded && load(reterr_msg) < 0)
                return NULL;
        loaded = true;
        return &api;
}
