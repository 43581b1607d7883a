/* curl_dl.c: resolves the libcurl functions opentoe uses, once. */
#include "curl_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>

#include "dlsyms.h"
#include "errmsg.h"

#define SYM(field, name) DL_SYM(struct curl_api, field, name)

static const struct dl_sym syms[] = {
        SYM(global_init, "curl_global_init"),
        SYM(easy_init, "curl_easy_init"),
        SYM(easy_setopt, "curl_easy_setopt"),
        SYM(easy_perform, "curl_easy_perform"),
        SYM(easy_getinfo, "curl_easy_getinfo"),
        SYM(easy_cleanup, "curl_easy_cleanup"),
        SYM(easy_reset, "curl_easy_reset"),
        SYM(easy_strerror, "curl_easy_strerror"),
        SYM(easy_escape, "curl_easy_escape"),
        SYM(free, "curl_free"),
        SYM(slist_append, "curl_slist_append"),
        SYM(slist_free_all, "curl_slist_free_all"),
        SYM(version_info, "curl_version_info"),
        SYM(multi_init, "curl_multi_init"),
        SYM(multi_cleanup, "curl_multi_cleanup"),
        SYM(multi_add_handle, "curl_multi_add_handle"),
        SYM(multi_remove_handle, "curl_multi_remove_handle"),
        SYM(multi_setopt, "curl_multi_setopt"),
        SYM(multi_socket_action, "curl_multi_socket_action"),
        SYM(multi_info_read, "curl_multi_info_read"),
        SYM(multi_assign, "curl_multi_assign"),
};

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
