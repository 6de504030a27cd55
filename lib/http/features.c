/* What the libcurl in use can do, read once from curl_version_info(). */
#include "http/http.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_once_t features_once = PTHREAD_ONCE_INIT;
static unsigned features;
static char library[256];

static void read_features(void)
{
    const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
    size_t off = 0;

    if (vi == NULL)
        return;
    if (vi->features & CURL_VERSION_HTTP2)
        features |= PINCURL_FEATURE_HTTP2;
    if (vi->features & CURL_VERSION_IPV6)
        features |= PINCURL_FEATURE_IPV6;
    if (vi->features & CURL_VERSION_LIBZ)
        features |= PINCURL_FEATURE_GZIP;
    if (vi->features & CURL_VERSION_BROTLI)
        features |= PINCURL_FEATURE_BROTLI;
#ifdef CURL_VERSION_ZSTD
    if (vi->features & CURL_VERSION_ZSTD)
        features |= PINCURL_FEATURE_ZSTD;
#endif
    {
        /* a TLS backend capability, not a feature bit: ask a handle */
        CURL *e = curl_easy_init();
        if (e != NULL && curl_easy_setopt(e, CURLOPT_CAPATH, "/") == CURLE_OK)
            features |= PINCURL_FEATURE_CA_PATH;
        curl_easy_cleanup(e);
    }
    /* curl_version() writes into a static buffer on every call (not thread-safe in older
     * libcurl): the same line from the version info, made once */
    off += (size_t)snprintf(library, sizeof(library), "libcurl/%s",
                            vi->version != NULL ? vi->version : "?");
    if (vi->ssl_version != NULL && off < sizeof(library))
        off += (size_t)snprintf(library + off, sizeof(library) - off, " %s", vi->ssl_version);
    if (vi->libz_version != NULL && off < sizeof(library))
        off += (size_t)snprintf(library + off, sizeof(library) - off, " zlib/%s",
                                vi->libz_version);
    if ((vi->features & CURL_VERSION_BROTLI) && vi->brotli_version != NULL &&
        off < sizeof(library))
        off += (size_t)snprintf(library + off, sizeof(library) - off, " brotli/%s",
                                vi->brotli_version);
#ifdef CURL_VERSION_ZSTD
    if ((vi->features & CURL_VERSION_ZSTD) && vi->zstd_version != NULL && off < sizeof(library))
        off += (size_t)snprintf(library + off, sizeof(library) - off, " zstd/%s",
                                vi->zstd_version);
#endif
    if ((vi->features & CURL_VERSION_HTTP2) && vi->nghttp2_version != NULL &&
        off < sizeof(library))
        (void)snprintf(library + off, sizeof(library) - off, " nghttp2/%s",
                       vi->nghttp2_version);
}

unsigned pincurl_http_features(void)
{
    pthread_once(&features_once, read_features);
    return features;
}

const char *pincurl_http_library(void)
{
    pthread_once(&features_once, read_features);
    return library;
}
