/* curl_dl.c: resolves the libcurl functions opentoe uses, once. */
#include "curl_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>

#include "errmsg.h"

static struct curl_api api;
static bool loaded;

#define RESOLVE(field, sym)                                                  \
        do {                                                                 \
                *(void **)&a.field = dlsym(h, sym);                          \
                if (!a.field) {                                              \
                        dlclose(h);                                          \
                        return errmsg_set(reterr_msg, -ENOSYS,               \
                                          "libcurl lacks %s; install a newer libcurl4", sym); \
                }                                                            \
        } while (0)

static int load(char **reterr_msg)
{
        static const char *const names[] = { "libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so" };
        struct curl_api a;
        void *h = NULL;

        for (size_t i = 0; i < sizeof names / sizeof names[0] && !h; i++)
                h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return errmsg_set(reterr_msg, -ENOSYS,
                                  "cannot load libcurl (%s); install the Debian package libcurl4", dlerror());
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
        RESOLVE(multi_init, "curl_multi_init");
        RESOLVE(multi_cleanup, "curl_multi_cleanup");
        RESOLVE(multi_add_handle, "curl_multi_add_handle");
        RESOLVE(multi_remove_handle, "curl_multi_remove_handle");
        RESOLVE(multi_setopt, "curl_multi_setopt");
        RESOLVE(multi_socket_action, "curl_multi_socket_action");
        RESOLVE(multi_info_read, "curl_multi_info_read");
        RESOLVE(multi_assign, "curl_multi_assign");
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
