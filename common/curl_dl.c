/* curl_dl.c: resolves the libcurl functions opentoe uses, once. */
#include "curl_dl.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>

static struct curl_api api;
static bool tried, loaded;
static char error_text[256];

#define RESOLVE(field, sym)                                                  \
        do {                                                                 \
                *(void **)&api.field = dlsym(h, sym);                        \
                if (!api.field) {                                            \
                        snprintf(error_text, sizeof error_text,              \
                                 "libcurl lacks %s; install a newer libcurl4", sym); \
                        return false;                                        \
                }                                                            \
        } while (0)

static bool load(void)
{
        static const char *const names[] = { "libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so" };
        void *h = NULL;
        for (size_t i = 0; i < sizeof names / sizeof names[0] && !h; i++)
                h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                snprintf(error_text, sizeof error_text,
                         "cannot load libcurl (%s); install the Debian package libcurl4", dlerror());
                return false;
        }
        RESOLVE(global_init, "curl_global_init");
        RESOLVE(easy_init, "curl_easy_init");
        RESOLVE(easy_setopt, "curl_easy_setopt");
        RESOLVE(easy_perform, "curl_easy_perform");
        RESOLVE(easy_getinfo, "curl_easy_getinfo");
        RESOLVE(easy_cleanup, "curl_easy_cleanup");
        RESOLVE(easy_reset, "curl_easy_reset");
        RESOLVE(easy_strerror, "curl_easy_strerror");
        RESOLVE(easy_escape, "curl_easy_escape");
        RESOLVE(free, "curl_free");
        RESOLVE(slist_append, "curl_slist_append");
        RESOLVE(slist_free_all, "curl_slist_free_all");
        RESOLVE(version_info, "curl_version_info");
        if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                snprintf(error_text, sizeof error_text, "libcurl failed to initialise");
                return false;
        }
        return true;
}

const struct curl_api *curl_api_get(const char **reterr_msg)
{
        if (!tried) {
                tried = true;
                loaded = load();
        }
        if (!loaded) {
                if (reterr_msg)
                        *reterr_msg = error_text;
                return NULL;
        }
        return &api;
}
