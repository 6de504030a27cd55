/*
 * The leaf-only backend, for a libcurl on a TLS library pincurl has no backend for
 * (GnuTLS, NSS, ...). It hooks no handshake: the client hands the pins of the request's
 * host to libcurl's own CURLOPT_PINNEDPUBLICKEY, which checks the leaf's key inside the
 * handshake. It cannot see the validated path, so the client refuses, when it is made, a
 * policy that pins a certificate of its trust store (a root), and any pin that is not the
 * leaf's simply never matches: stricter, never weaker (docs/backends.md).
 */
#include "tls/tls.h"

#include <curl/curl.h>

static int leaf_global_init(void)
{
    return 0;
}

static pincurl_status leaf_install(void *ssl_ctx, pc_tls_hook *hook)
{
    (void)ssl_ctx;
    (void)hook;
    return PINCURL_UNSUPPORTED; /* never called: the client installs no handshake hook */
}

static int leaf_has_allow_record(void *ssl, uint64_t token)
{
    (void)ssl;
    (void)token;
    return 0;
}

static const char *leaf_error_text(int err)
{
    (void)err;
    return "certificate verification failed";
}

const pc_tls_backend pc_tls_leaf_only = {
    .name = "pinnedpubkey",
    .caps = 0,
    .curl_backend = CURLSSLBACKEND_NONE,
    .global_init = leaf_global_init,
    .install = leaf_install,
    .has_allow_record = leaf_has_allow_record,
    .error_text = leaf_error_text,
    .peer_chain = NULL,
    .app_data = NULL,
    .set_allow_record = NULL,
    .trust_id = NULL,
};
