/*
 * LD_PRELOAD shim for tests/backend: curl_version_info() as the real libcurl answers it,
 * except that its TLS library reads as PINCURL_FAKE_SSL_VERSION (e.g. "GnuTLS/3.7.9").
 * It stands for a libcurl on another TLS library turning up under the name the library
 * was linked against. Only a libcurl pincurl calls through the dynamic linker can be
 * replaced this way: the bundled one is inside libpincurl and hidden.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

curl_version_info_data *curl_version_info(CURLversion age)
{
    static curl_version_info_data copy;
    curl_version_info_data *(*real)(CURLversion) =
        (curl_version_info_data * (*)(CURLversion)) dlsym(RTLD_NEXT, "curl_version_info");
    curl_version_info_data *info = real != NULL ? real(age) : NULL;
    const char *fake = getenv("PINCURL_FAKE_SSL_VERSION");
    if (info == NULL || fake == NULL)
        return info;
    memcpy(&copy, info, sizeof(copy));
    copy.ssl_version = fake;
    return &copy;
}
