/* curl_dl.h: libcurl, loaded with dlopen on first use.  libcurl pulls in
 * about 34 shared libraries (~16 ms of start-up), so only the features
 * that talk to the network (WebDownload, the AWS layer) load it; the rest
 * of opentoe never pays for it.  <curl/curl.h> is included for its types,
 * constants and declarations (whose types the table's fields take) only;
 * every call goes through struct curl_api. */
#pragma once

#include <curl/curl.h>

#include "dlsyms.h"

/* Every function opentoe calls: FN(field, the library's name). */
#define CURL_API_FUNCTIONS(FN, FN_OPTIONAL) \
        FN(global_init, curl_global_init) \
        FN(easy_init, curl_easy_init) \
        FN(easy_setopt, curl_easy_setopt) \
        FN(easy_perform, curl_easy_perform) \
        FN(easy_getinfo, curl_easy_getinfo) \
        FN(easy_cleanup, curl_easy_cleanup) \
        FN(easy_reset, curl_easy_reset) \
        FN(easy_strerror, curl_easy_strerror) \
        FN(easy_escape, curl_easy_escape) \
        FN(free, curl_free) \
        FN(slist_append, curl_slist_append) \
        FN(slist_free_all, curl_slist_free_all) \
        FN(version_info, curl_version_info) \
        /* the multi interface, for transfers driven by an event loop */ \
        FN(multi_init, curl_multi_init) \
        FN(multi_cleanup, curl_multi_cleanup) \
        FN(multi_add_handle, curl_multi_add_handle) \
        FN(multi_remove_handle, curl_multi_remove_handle) \
        FN(multi_setopt, curl_multi_setopt) \
        FN(multi_socket_action, curl_multi_socket_action) \
        FN(multi_info_read, curl_multi_info_read) \
        FN(multi_assign, curl_multi_assign)

struct curl_api {
        CURL_API_FUNCTIONS(DL_FIELD, DL_FIELD)
};

/* Loads and initialises libcurl once.  Returns NULL when it cannot be
 * loaded (a later call tries again), with a message in *reterr_msg (to
 * free; when reterr_msg is not NULL) that names the Debian package to
 * install. */
const struct curl_api *curl_api_get(char **reterr_msg);
