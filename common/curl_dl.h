/* curl_dl.h: libcurl, loaded with dlopen on first use.  libcurl pulls in
 * about 34 shared libraries (~16 ms of start-up), so only the features
 * that talk to the network (WebDownload, the AWS layer) load it; the rest
 * of opentoe never pays for it.  <curl/curl.h> is included for its types
 * and constants only; every call goes through struct curl_api. */
#pragma once

#include <curl/curl.h>

struct curl_api {
        CURLcode (*global_init)(long flags);
        CURL *(*easy_init)(void);
        CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
        CURLcode (*easy_perform)(CURL *h);
        CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
        void (*easy_cleanup)(CURL *h);
        void (*easy_reset)(CURL *h);
        const char *(*easy_strerror)(CURLcode code);
        char *(*easy_escape)(CURL *h, const char *s, int len);
        void (*free)(void *p);
        struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
        void (*slist_free_all)(struct curl_slist *list);
        curl_version_info_data *(*version_info)(CURLversion v);
        /* the multi interface, for transfers driven by an event loop */
        CURLM *(*multi_init)(void);
        CURLMcode (*multi_cleanup)(CURLM *m);
        CURLMcode (*multi_add_handle)(CURLM *m, CURL *h);
        CURLMcode (*multi_remove_handle)(CURLM *m, CURL *h);
        CURLMcode (*multi_setopt)(CURLM *m, CURLMoption opt, ...);
        CURLMcode (*multi_socket_action)(CURLM *m, curl_socket_t s, int ev_bitmask, int *running_handles);
        CURLMsg *(*multi_info_read)(CURLM *m, int *msgs_in_queue);
        CURLMcode (*multi_assign)(CURLM *m, curl_socket_t s, void *sockp);
};

/* Loads and initialises libcurl once.  Returns NULL when it cannot be
 * loaded (a later call tries again), with a message in *reterr_msg (to
 * free; when reterr_msg is not NULL) that names the Debian package to
 * install. */
const struct curl_api *curl_api_get(char **reterr_msg);
