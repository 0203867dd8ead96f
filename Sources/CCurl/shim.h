// libcurl, loaded on first use with dlopen, and typed wrappers for its variadic calls,
// which Swift cannot call directly.
//
// Why dlopen: linking libcurl makes every nepho process load it and its ~30 libraries
// (TLS, Kerberos, LDAP, ...) at start, which cost about 11 ms of CPU and 6 MB here
// (bench/cli-startup, docs/benchmarks.md) — even for commands that never touch the
// network. Only the calls below are used; the types come from the system's curl.h.
#ifndef NEPHO_CCURL_SHIM_H
#define NEPHO_CCURL_SHIM_H
#include <curl/curl.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>

typedef size_t (*nepho_curl_data_callback)(char *buffer, size_t size, size_t count, void *context);
typedef int (*nepho_curl_progress_callback)(void *context, curl_off_t dltotal, curl_off_t dlnow,
                                            curl_off_t ultotal, curl_off_t ulnow);

/// The libcurl entry points nepho uses, resolved once.
typedef struct {
    int ready; // 1 when every entry point was found
    char problem[512];
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    CURLcode (*easy_perform)(CURL *);
    void (*easy_reset)(CURL *);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} nepho_curl_api;

/// Loads libcurl on the first call and returns its entry points; `ready` says whether
/// they can be used, `problem` why not. The table lives in this function (Swift does not
/// emit C globals defined in headers), so callers keep the pointer it returns.
static inline const nepho_curl_api *nepho_curl_api_get(void) {
    static nepho_curl_api api;
    static int loaded;
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&lock);
    if (!loaded) {
        loaded = 1;
        void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
        if (!library) {
            snprintf(api.problem, sizeof api.problem, "cannot load libcurl (install libcurl4): %s", dlerror());
            pthread_mutex_unlock(&lock);
            return &api;
        }
#define NEPHO_CURL_SYMBOL(field, name)                                                                   \
        *(void **)(&api.field) = dlsym(library, name);                                                  \
        if (!api.field) {                                                                                \
            snprintf(api.problem, sizeof api.problem, "libcurl has no %s", name);                        \
            pthread_mutex_unlock(&lock);                                                                 \
            return &api;                                                                                 \
        }
        NEPHO_CURL_SYMBOL(global_init, "curl_global_init")
        NEPHO_CURL_SYMBOL(easy_init, "curl_easy_init")
        NEPHO_CURL_SYMBOL(easy_setopt, "curl_easy_setopt")
        NEPHO_CURL_SYMBOL(easy_getinfo, "curl_easy_getinfo")
        NEPHO_CURL_SYMBOL(easy_perform, "curl_easy_perform")
        NEPHO_CURL_SYMBOL(easy_reset, "curl_easy_reset")
        NEPHO_CURL_SYMBOL(easy_cleanup, "curl_easy_cleanup")
        NEPHO_CURL_SYMBOL(easy_strerror, "curl_easy_strerror")
        NEPHO_CURL_SYMBOL(slist_append, "curl_slist_append")
        NEPHO_CURL_SYMBOL(slist_free_all, "curl_slist_free_all")
#undef NEPHO_CURL_SYMBOL
        if (api.global_init(CURL_GLOBAL_ALL) == CURLE_OK) {
            api.ready = 1;
        } else {
            snprintf(api.problem, sizeof api.problem, "libcurl failed to initialise");
        }
    }
    pthread_mutex_unlock(&lock);
    return &api;
}

// The wrappers below take the table from nepho_curl_api_get(), and only when it is ready.

static inline CURL *nepho_curl_easy_init(const nepho_curl_api *api) { return api->easy_init(); }
static inline CURLcode nepho_curl_easy_perform(const nepho_curl_api *api, CURL *handle) { return api->easy_perform(handle); }
static inline void nepho_curl_easy_reset(const nepho_curl_api *api, CURL *handle) { api->easy_reset(handle); }
static inline void nepho_curl_easy_cleanup(const nepho_curl_api *api, CURL *handle) { api->easy_cleanup(handle); }
static inline const char *nepho_curl_easy_strerror(const nepho_curl_api *api, CURLcode code) { return api->easy_strerror(code); }
static inline struct curl_slist *nepho_curl_slist_append(const nepho_curl_api *api, struct curl_slist *list, const char *text) {
    return api->slist_append(list, text);
}
static inline void nepho_curl_slist_free_all(const nepho_curl_api *api, struct curl_slist *list) { api->slist_free_all(list); }

static inline CURLcode nepho_curl_setopt_long(const nepho_curl_api *api, CURL *handle, CURLoption option, long value) {
    return api->easy_setopt(handle, option, value);
}

static inline CURLcode nepho_curl_setopt_pointer(const nepho_curl_api *api, CURL *handle, CURLoption option, const void *value) {
    return api->easy_setopt(handle, option, value);
}

static inline CURLcode nepho_curl_setopt_off_t(const nepho_curl_api *api, CURL *handle, CURLoption option, curl_off_t value) {
    return api->easy_setopt(handle, option, value);
}

static inline CURLcode nepho_curl_setopt_data_callback(const nepho_curl_api *api, CURL *handle, CURLoption option,
                                                       nepho_curl_data_callback callback) {
    return api->easy_setopt(handle, option, callback);
}

static inline CURLcode nepho_curl_setopt_progress_callback(const nepho_curl_api *api, CURL *handle, CURLoption option,
                                                           nepho_curl_progress_callback callback) {
    return api->easy_setopt(handle, option, callback);
}

/// Marks each socket libcurl opens close-on-exec, so that no program nepho starts (a
/// monitor, vagrant, ssh) inherits a pooled connection.
static inline int nepho_curl_cloexec_socket(void *clientp, curl_socket_t fd, curlsocktype purpose) {
    (void)clientp;
    (void)purpose;
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    return CURL_SOCKOPT_OK;
}

static inline CURLcode nepho_curl_setopt_cloexec_sockets(const nepho_curl_api *api, CURL *handle) {
    return api->easy_setopt(handle, CURLOPT_SOCKOPTFUNCTION, nepho_curl_cloexec_socket);
}

static inline CURLcode nepho_curl_getinfo_long(const nepho_curl_api *api, CURL *handle, CURLINFO info, long *value) {
    return api->easy_getinfo(handle, info, value);
}

static inline CURLcode nepho_curl_getinfo_string(const nepho_curl_api *api, CURL *handle, CURLINFO info, char **value) {
    return api->easy_getinfo(handle, info, value);
}

static inline CURLcode nepho_curl_getinfo_double(const nepho_curl_api *api, CURL *handle, CURLINFO info, double *value) {
    return api->easy_getinfo(handle, info, value);
}

#endif
