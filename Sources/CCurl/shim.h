// Typed wrappers for libcurl's variadic calls, which Swift cannot call directly.
#ifndef NEPHO_CCURL_SHIM_H
#define NEPHO_CCURL_SHIM_H
#include <curl/curl.h>

typedef size_t (*nepho_curl_data_callback)(char *buffer, size_t size, size_t count, void *context);
typedef int (*nepho_curl_progress_callback)(void *context, curl_off_t dltotal, curl_off_t dlnow,
                                            curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode nepho_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode nepho_curl_setopt_pointer(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode nepho_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode nepho_curl_setopt_data_callback(CURL *handle, CURLoption option,
                                                       nepho_curl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

static inline CURLcode nepho_curl_setopt_progress_callback(CURL *handle, CURLoption option,
                                                           nepho_curl_progress_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

static inline CURLcode nepho_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode nepho_curl_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode nepho_curl_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
