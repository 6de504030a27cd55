/* The parts of the TLS layer every backend shares: selection, per-connection state,
 * connection records and the cache of validated paths. */
#include "tls/tls.h"

/* What CMake says the library was built with (cmake/build_info.h.in); a build that
 * compiles the sources by itself (docs/ios.md) gets the plain defaults. */
#if defined(__has_include)
#if __has_include("pincurl_build_info.h")
#include "pincurl_build_info.h"
#endif
#endif
#ifndef PINCURL_BUILD_VERSION
#include "pincurl/common.h"
#define PINCURL_BUILD_VERSION PINCURL_VERSION_STRING
#define PINCURL_BUILD_FLAVOUR "bundled"
#define PINCURL_BUILD_BACKEND "wolfssl"
#define PINCURL_BUILD_WOLFSSL ""
#define PINCURL_BUILD_CURL ""
#define PINCURL_BUILD_NGHTTP2 ""
#endif

#include "core/der.h"

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>

#include <curl/curl.h>
#ifdef PINCURL_HAVE_OPENSSL
#include <openssl/crypto.h>
#endif

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef PINCURL_HAVE_OPENSSL
#define PC_TLS_STR_(x) #x
#define PC_TLS_STR(x) PC_TLS_STR_(x)
/* PINCURL_HAVE_OPENSSL is the major version of the OpenSSL pincurl is built against; a
 * libcurl on another major version would hand over objects of a different library. */
#define PC_TLS_OPENSSL_PREFIX "OpenSSL/" PC_TLS_STR(PINCURL_HAVE_OPENSSL) "."
#endif

/* ssl_version is curl_version_info()->ssl_version: "wolfSSL/5.5.4", "OpenSSL/3.0.11", or
 * with MultiSSL a list in which the active backend is the one without parentheses. Only a
 * single backend is accepted: with several, which one a connection uses is not known here. */
const pc_tls_backend *pc_tls_select(const char *ssl_version)
{
    if (ssl_version == NULL || strchr(ssl_version, ' ') != NULL ||
        strchr(ssl_version, '(') != NULL)
        return NULL;
    if (strncmp(ssl_version, "wolfSSL/", 8) == 0)
        return &pc_tls_wolfssl;
#ifdef PINCURL_HAVE_OPENSSL
    if (strncmp(ssl_version, PC_TLS_OPENSSL_PREFIX, strlen(PC_TLS_OPENSSL_PREFIX)) == 0)
        return &pc_tls_openssl;
#endif
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Trust anchor snapshots                                                                */

/* Most anchors a snapshot holds (a system bundle has a few hundred). */
#define PC_ANCHORS_MAX 4096u

int pc_anchor_set_add(pc_anchor_set *set, const unsigned char *der, size_t len)
{
    const unsigned char *subject = NULL;
    size_t subject_len = 0;
    unsigned char *copy;

    if (der == NULL || len == 0)
        return -1;
    if (pc_der_cert_subject(der, len, &subject, &subject_len) != PINCURL_OK)
        return 0; /* cannot be an anchor for the path builder */
    if (set->count == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        void *p;
        if (cap > PC_ANCHORS_MAX)
            return -1;
        if ((p = realloc(set->der, cap * sizeof(*set->der))) == NULL)
            return -1;
        set->der = p;
        if ((p = realloc(set->len, cap * sizeof(*set->len))) == NULL)
            return -1;
        set->len = p;
        if ((p = realloc(set->subject, cap * sizeof(*set->subject))) == NULL)
            return -1;
        set->subject = p;
        if ((p = realloc(set->subject_len, cap * sizeof(*set->subject_len))) == NULL)
            return -1;
        set->subject_len = p;
        set->cap = cap;
    }
    if ((copy = malloc(len)) == NULL)
        return -1;
    memcpy(copy, der, len);
    set->der[set->count] = copy;
    set->len[set->count] = len;
    set->subject[set->count] = copy + (subject - der);
    set->subject_len[set->count] = subject_len;
    set->count++;
    return 0;
}

static int digest_cmp(const void *a, const void *b)
{
    return memcmp(a, b, WC_SHA256_DIGEST_SIZE);
}

uint64_t pc_trust_id(const pincurl_cert_ref *certs, size_t count)
{
    static const char label[] = "pincurl trust store";
    unsigned char *digests = NULL;
    unsigned char out[WC_SHA256_DIGEST_SIZE];
    wc_Sha256 sha;
    uint64_t id = 0;
    int ok = 1;

    if (count > 0) {
        digests = malloc(count * WC_SHA256_DIGEST_SIZE);
        if (digests == NULL)
            return 0;
    }
    for (size_t i = 0; i < count && ok; i++)
        ok = certs[i].len <= 0xffffffffu &&
             wc_Sha256Hash(certs[i].der, (word32)certs[i].len,
                           digests + i * WC_SHA256_DIGEST_SIZE) == 0;
    if (ok && count > 1)
        qsort(digests, count, WC_SHA256_DIGEST_SIZE, digest_cmp);
    if (ok && wc_InitSha256(&sha) == 0) {
        ok = wc_Sha256Update(&sha, (const unsigned char *)label, sizeof(label)) == 0;
        for (size_t i = 0; i < count && ok; i++)
            ok = wc_Sha256Update(&sha, digests + i * WC_SHA256_DIGEST_SIZE,
                                 WC_SHA256_DIGEST_SIZE) == 0;
        ok = ok && wc_Sha256Final(&sha, out) == 0;
        wc_Sha256Free(&sha);
    } else {
        ok = 0;
    }
    free(digests);
    if (!ok)
        return 0;
    for (int i = 0; i < 8; i++)
        id = (id << 8) | out[i];
    /* The backends keep the identity in a pointer-sized slot (wolfSSL's ex data): it is
     * pointer width, so that the value read back names the same path cache entries as the
     * one the handshake used (on a 32-bit CPU, the low 32 bits); and never 0. */
    id = (uint64_t)(uintptr_t)id;
    if (id == 0)
        id = 1;
    return id;
}

int pc_anchor_set_finish(pc_anchor_set *set)
{
    pincurl_cert_ref *refs = NULL;
    if (set->count > 0) {
        refs = malloc(set->count * sizeof(*refs));
        if (refs == NULL)
            return -1;
        for (size_t i = 0; i < set->count; i++) {
            refs[i].der = set->der[i];
            refs[i].len = set->len[i];
        }
    }
    set->id = pc_trust_id(refs, set->count);
    free(refs);
    return set->id != 0 ? 0 : -1;
}

pc_anchor_set *pc_anchor_set_new(void)
{
    pc_anchor_set *set = calloc(1, sizeof(*set));
    if (set != NULL)
        atomic_init(&set->refs, 1);
    return set;
}

pc_anchor_set *pc_anchor_set_ref(pc_anchor_set *set)
{
    if (set != NULL)
        atomic_fetch_add(&set->refs, 1);
    return set;
}

void pc_anchor_set_unref(pc_anchor_set *set)
{
    if (set == NULL || atomic_fetch_sub(&set->refs, 1) != 1)
        return;
    for (size_t i = 0; i < set->count; i++)
        free(set->der[i]);
    free(set->der);
    free(set->len);
    free(set->subject);
    free(set->subject_len);
    free(set);
}

/* The registry: a few slots, least recently used evicted. A store of a client's pooled
 * handle, or of an application's multi handle, keeps its key for its lifetime. */
#define PC_ANCHOR_REGISTRY_SLOTS 8

struct pc_anchor_registry {
    pthread_mutex_t lock;
    unsigned long clock;
    struct {
        uint64_t key;
        unsigned long used;
        pc_anchor_set *set;
    } slot[PC_ANCHOR_REGISTRY_SLOTS];
};

static atomic_uint_fast64_t registry_keys = 1;

pc_anchor_registry *pc_anchor_registry_new(void)
{
    pc_anchor_registry *r = calloc(1, sizeof(*r));
    if (r != NULL && pthread_mutex_init(&r->lock, NULL) != 0) {
        free(r);
        r = NULL;
    }
    return r;
}

void pc_anchor_registry_free(pc_anchor_registry *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < PC_ANCHOR_REGISTRY_SLOTS; i++)
        pc_anchor_set_unref(r->slot[i].set);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

uint64_t pc_anchor_registry_put(pc_anchor_registry *r, pc_anchor_set *set)
{
    pc_anchor_set *evicted;
    uint64_t key;
    size_t victim = 0;

    if (r == NULL || set == NULL || set->id == 0)
        return 0;
    key = atomic_fetch_add(&registry_keys, 1);
    pthread_mutex_lock(&r->lock);
    /* an empty slot, else the least recently used */
    for (size_t i = 0; i < PC_ANCHOR_REGISTRY_SLOTS; i++) {
        if (r->slot[i].set == NULL) {
            victim = i;
            break;
        }
        if (r->slot[i].used < r->slot[victim].used)
            victim = i;
    }
    evicted = r->slot[victim].set;
    r->slot[victim].key = key;
    r->slot[victim].used = ++r->clock;
    r->slot[victim].set = pc_anchor_set_ref(set);
    pthread_mutex_unlock(&r->lock);
    pc_anchor_set_unref(evicted);
    return key;
}

pc_anchor_set *pc_anchor_registry_get(pc_anchor_registry *r, uint64_t key)
{
    pc_anchor_set *set = NULL;
    if (r == NULL || key == 0)
        return NULL;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < PC_ANCHOR_REGISTRY_SLOTS; i++) {
        if (r->slot[i].set != NULL && r->slot[i].key == key) {
            r->slot[i].used = ++r->clock;
            set = pc_anchor_set_ref(r->slot[i].set);
            break;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return set;
}

size_t pc_anchor_set_by_subject(void *ctx, const unsigned char *name, size_t name_len,
                                pincurl_cert_ref *out, size_t max)
{
    const pc_anchor_set *set = ctx;
    size_t n = 0;
    if (set == NULL || name == NULL)
        return (size_t)-1;
    for (size_t i = 0; i < set->count; i++) {
        if (set->subject_len[i] != name_len ||
            memcmp(set->subject[i], name, name_len) != 0)
            continue;
        if (n < max) {
            out[n].der = set->der[i];
            out[n].len = set->len[i];
        }
        n++;
    }
    return n;
}

static void conn_free_scratch(pc_tls_conn *conn)
{
    pc_anchor_set_unref(conn->anchors);
    conn->anchors = NULL;
    conn->seen_count = 0;
}

pincurl_status pc_tls_conn_begin(pc_tls_conn *conn, const char *host, size_t host_len,
                                 unsigned port, pc_tls_mode mode)
{
    conn_free_scratch(conn);
    conn->refusal = PINCURL_OK;
    conn->role = PC_TLS_ROLE_UNKNOWN;
    conn->cert_error = 0;
    conn->evaluated = 0;
    memset(&conn->verdict, 0, sizeof(conn->verdict));
    conn->verdict.matched_depth = -1;
    conn->mode = mode;
    conn->port = port;
    conn->host[0] = '\0';
    if (host == NULL)
        return PINCURL_HOST_INVALID;
    return pincurl_host_normalize(host, host_len, conn->host, sizeof(conn->host));
}

/* libcurl's connection filters, as read in its sources (lib/cfilters.h of 7.88.1 and
 * 8.14.1): a filter begins with a pointer to its type, a type with its name. */
struct pc_curl_cftype_head {
    const char *name;
};
struct pc_curl_cfilter_head {
    const struct pc_curl_cftype_head *cft;
    void *next;
    void *ctx; /* an SSL filter's: struct ssl_connect_data */
};
/* struct ssl_connect_data of lib/vtls/vtls_int.h, as far as the backend's data: libcurl
 * 7.88.1 */
struct pc_curl_ssl_7_88 {
    int state;            /* ssl_connection_state */
    int connecting_state; /* ssl_connect_state */
    char *hostname;
    char *dispname;
    int port;
    const void *alpn;
    void *backend; /* struct ssl_backend_data */
};
/* libcurl 8.14.1: the peer (struct ssl_peer of lib/vtls/vtls.h) after the backend, then
 * the backend's data */
struct pc_curl_ssl_8_14 {
    const void *ssl_impl;
    char *hostname;
    char *dispname;
    char *sni;
    char *scache_key;
    int type; /* ssl_peer_type */
    int port;
    int transport;
    const void *alpn;
    void *backend; /* struct wssl_ctx (lib/vtls/wolfssl.h) */
};
/* The backend's data begins with the library's context and connection object: struct
 * ssl_backend_data of lib/vtls/openssl.c and lib/vtls/wolfssl.c in 7.88.1, struct wssl_ctx
 * of lib/vtls/wolfssl.h in 8.14.1. */
struct pc_curl_backend_head {
    void *ssl_ctx;
    void *ssl;
};

static pthread_once_t layout_once = PTHREAD_ONCE_INIT;
static int layout_known;
static unsigned peer_layout; /* 0: not read; 0x0758 (7.88.x) or 0x080e (8.14.x) */

static void layout_init(void)
{
    const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
    /* filters came with 7.87.0; the layout above holds through 8.14 */
    layout_known = vi != NULL && vi->version_num >= 0x075700 && vi->version_num < 0x080f00;
    /* the SSL filter's peer: read in the sources of these two only */
    if (layout_known && (vi->version_num >> 8) == 0x0758)
        peer_layout = 0x0758;
    else if (layout_known && (vi->version_num >> 8) == 0x080e)
        peer_layout = 0x080e;
}

/* The host and port libcurl's SSL filter connects (the peer it verifies the certificate
 * for), normalised into host[PINCURL_HOST_MAX + 1]. 0 on success, -1 when not known. */
static int curl_filter_peer(const void *curl_filter, char *host, unsigned *port)
{
    const struct pc_curl_cfilter_head *cf = curl_filter;
    const char *name = NULL;
    int p = 0;

    pthread_once(&layout_once, layout_init);
    if (cf == NULL || cf->ctx == NULL)
        return -1;
    if (peer_layout == 0x0758) {
        const struct pc_curl_ssl_7_88 *c = cf->ctx;
        name = c->hostname;
        p = c->port;
    } else if (peer_layout == 0x080e) {
        const struct pc_curl_ssl_8_14 *c = cf->ctx;
        name = c->hostname;
        p = c->port;
    }
    if (name == NULL || p <= 0 || p > 65535 ||
        pincurl_host_normalize(name, strlen(name), host, PINCURL_HOST_MAX + 1) != PINCURL_OK)
        return -1;
    *port = (unsigned)p;
    return 0;
}

int pc_tls_curl_proxy_of(const void *curl_filter, int curl_backend,
                         char host[PINCURL_HOST_MAX + 1], unsigned *port, void **ssl)
{
    const struct pc_curl_cfilter_head *cf = curl_filter;
    const struct pc_curl_backend_head *b = NULL;
    pc_tls_role role;
    int depth = 0;

    *ssl = NULL;
    pthread_once(&layout_once, layout_init);
    role = pc_tls_curl_role(cf);
    if (role == PC_TLS_ROLE_UNKNOWN)
        return -1;
    /* the filters below the first TLS one, down to the socket */
    while (cf != NULL && role != PC_TLS_ROLE_PROXY) {
        if (++depth > 16)
            return -1;
        cf = cf->next;
        role = cf != NULL ? pc_tls_curl_role(cf) : PC_TLS_ROLE_UNKNOWN;
    }
    if (cf == NULL)
        return 0; /* no https:// proxy */
    if (cf->ctx == NULL || curl_filter_peer(cf, host, port) != 0)
        return -1;
    /* the backends whose data was read in those sources */
    if (peer_layout == 0x080e && curl_backend == CURLSSLBACKEND_WOLFSSL)
        b = ((const struct pc_curl_ssl_8_14 *)cf->ctx)->backend;
    else if (peer_layout == 0x0758 &&
             (curl_backend == CURLSSLBACKEND_OPENSSL || curl_backend == CURLSSLBACKEND_WOLFSSL))
        b = ((const struct pc_curl_ssl_7_88 *)cf->ctx)->backend;
    if (b == NULL || b->ssl == NULL)
        return -1;
    *ssl = b->ssl;
    return 1;
}

/* The two filter types, once seen (libcurl's are static): compared as pointers after. */
static _Atomic(const void *) cft_origin, cft_proxy;

pc_tls_role pc_tls_curl_role(const void *curl_filter)
{
    const struct pc_curl_cfilter_head *cf = curl_filter;
    const char *name;

    pthread_once(&layout_once, layout_init);
    if (!layout_known || cf == NULL || cf->cft == NULL)
        return PC_TLS_ROLE_UNKNOWN;
    if ((const void *)cf->cft == atomic_load(&cft_origin))
        return PC_TLS_ROLE_ORIGIN;
    if ((const void *)cf->cft == atomic_load(&cft_proxy))
        return PC_TLS_ROLE_PROXY;
    if ((name = cf->cft->name) == NULL)
        return PC_TLS_ROLE_UNKNOWN;
    if (strcmp(name, "SSL") == 0) {
        atomic_store(&cft_origin, (const void *)cf->cft);
        return PC_TLS_ROLE_ORIGIN;
    }
    if (strcmp(name, "SSL-PROXY") == 0) {
        atomic_store(&cft_proxy, (const void *)cf->cft);
        return PC_TLS_ROLE_PROXY;
    }
    return PC_TLS_ROLE_UNKNOWN;
}

int pc_tls_conn_identify(pc_tls_conn *conn, const void *curl_filter)
{
    const pc_tls_peer *peer;
    pc_tls_role role;

    if (conn->role != PC_TLS_ROLE_UNKNOWN)
        return 0;
    if (conn->refusal != PINCURL_OK)
        return -1;
    role = pc_tls_curl_role(curl_filter);
    peer = role == PC_TLS_ROLE_ORIGIN ? &conn->origin
           : role == PC_TLS_ROLE_PROXY ? &conn->proxy
                                       : NULL;
    if (peer == NULL || (role == PC_TLS_ROLE_ORIGIN && !peer->known)) {
        conn->refusal = PINCURL_PIN_CHECK_FAILED;
        return -1;
    }
    if (!peer->known) {
        /* An https:// proxy pincurl did not configure: an attached handle's own
         * (CURLOPT_PROXY, or https_proxy from the environment). Its host and port are the
         * ones libcurl's filter connects; a proxy the policy names is decided like any
         * named host. One pincurl configured no proxy for cannot exist: refused. */
        if (!conn->proxy_unknown || curl_filter_peer(curl_filter, conn->host, &conn->port) != 0) {
            conn->host[0] = '\0';
            conn->refusal = PINCURL_PIN_CHECK_FAILED;
            return -1;
        }
        conn->role = role;
        conn->mode = conn->policy != NULL &&
                             pincurl_policy_lookup(conn->policy, conn->host,
                                                   strlen(conn->host)) != NULL
                         ? PC_TLS_MODE_EVALUATE
                         : PC_TLS_MODE_OBSERVE;
        return 0;
    }
    conn->role = role;
    memcpy(conn->host, peer->host, sizeof(conn->host));
    conn->port = peer->port;
    conn->mode = peer->mode;
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Hooks                                                                                 */

static atomic_ulong hooks_live, hooks_attached;

pc_tls_hook *pc_tls_hook_new(pc_tls_conn *conn)
{
    pc_tls_hook *h = malloc(sizeof(*h));
    if (h == NULL)
        return NULL;
    atomic_init(&h->refs, 1);
    atomic_init(&h->conn, conn);
    atomic_fetch_add(&hooks_live, 1);
    if (conn != NULL)
        atomic_fetch_add(&hooks_attached, 1);
    return h;
}

pc_tls_hook *pc_tls_hook_ref(pc_tls_hook *hook)
{
    if (hook != NULL)
        atomic_fetch_add(&hook->refs, 1);
    return hook;
}

void pc_tls_hook_detach(pc_tls_hook *hook)
{
    if (hook != NULL && atomic_exchange(&hook->conn, NULL) != NULL)
        atomic_fetch_sub(&hooks_attached, 1);
}

void pc_tls_hook_unref(pc_tls_hook *hook)
{
    if (hook == NULL || atomic_fetch_sub(&hook->refs, 1) != 1)
        return;
    pc_tls_hook_detach(hook);
    atomic_fetch_sub(&hooks_live, 1);
    free(hook);
}

pc_tls_conn *pc_tls_hook_conn(pc_tls_hook *hook)
{
    return hook != NULL ? atomic_load(&hook->conn) : NULL;
}

void pc_tls_hook_counts(unsigned long *live, unsigned long *attached)
{
    if (live != NULL)
        *live = atomic_load(&hooks_live);
    if (attached != NULL)
        *attached = atomic_load(&hooks_attached);
}

void pc_tls_conn_release(pc_tls_conn *conn)
{
    if (conn != NULL)
        conn_free_scratch(conn);
}

void pincurl_thread_cleanup(void)
{
#ifdef FP_ECC
    /* a wolfSSL built with FP_ECC (Debian's own) keeps an ECC cache per thread that is not
     * freed when the thread exits; the bundled build has none */
    wc_ecc_fp_free();
#endif
#ifdef PINCURL_HAVE_OPENSSL
    /* OpenSSL's per-thread error queue and random state */
    OPENSSL_thread_stop();
#endif
}

/* ------------------------------------------------------------------------------------ */
/* What the library runs on                                                              */

static pthread_once_t info_once = PTHREAD_ONCE_INIT;
static pincurl_runtime_info info;
static char info_curl[32];
static char info_tls[64];
static char info_nghttp2[32];

static void info_init(void)
{
    const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
    const pc_tls_backend *b = NULL;

    info.version = PINCURL_BUILD_VERSION;
    info.flavour = PINCURL_BUILD_FLAVOUR;
    info.backend_expected = PINCURL_BUILD_BACKEND;
    info.bundled_wolfssl = PINCURL_BUILD_WOLFSSL;
    info.bundled_curl = PINCURL_BUILD_CURL;
    info.bundled_nghttp2 = PINCURL_BUILD_NGHTTP2;
    if (vi != NULL) {
        snprintf(info_curl, sizeof(info_curl), "%s", vi->version != NULL ? vi->version : "");
        snprintf(info_tls, sizeof(info_tls), "%s",
                 vi->ssl_version != NULL ? vi->ssl_version : "");
        if (vi->age >= CURLVERSION_SECOND && vi->nghttp2_version != NULL &&
            (vi->features & CURL_VERSION_HTTP2))
            snprintf(info_nghttp2, sizeof(info_nghttp2), "%s", vi->nghttp2_version);
        info.http2 = (vi->features & CURL_VERSION_HTTP2) != 0;
        b = pc_tls_select(vi->ssl_version);
    }
    if (b == NULL && strcmp(PINCURL_BUILD_BACKEND, pc_tls_leaf_only.name) == 0)
        b = &pc_tls_leaf_only; /* built for a TLS library pincurl has no backend for */
    info.libcurl_version = info_curl;
    info.tls_library = info_tls;
    info.nghttp2_version = info_nghttp2;
    info.backend = b != NULL ? b->name : "";
    info.backend_ok = b != NULL && strcmp(b->name, PINCURL_BUILD_BACKEND) == 0;
}

const pincurl_runtime_info *pincurl_runtime(void)
{
    pthread_once(&info_once, info_init);
    return &info;
}

const pc_tls_backend *pc_tls_backend_in_use(void)
{
    const pincurl_runtime_info *ri = pincurl_runtime();
    if (!ri->backend_ok)
        return NULL;
#ifdef PINCURL_HAVE_OPENSSL
    if (strcmp(ri->backend, pc_tls_openssl.name) == 0)
        return &pc_tls_openssl;
#endif
    if (strcmp(ri->backend, pc_tls_wolfssl.name) == 0)
        return &pc_tls_wolfssl;
    if (strcmp(ri->backend, pc_tls_leaf_only.name) == 0)
        return &pc_tls_leaf_only;
    return NULL;
}

uint64_t pc_tls_now_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* SipHash-2-4 (Aumasson and Bernstein): a keyed 64-bit hash. With a secret key, inputs
 * whose tokens collide cannot be chosen. */
#define PC_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define PC_SIPROUND                                                                          \
    do {                                                                                     \
        v0 += v1;                                                                            \
        v1 = PC_ROTL(v1, 13);                                                                \
        v1 ^= v0;                                                                            \
        v0 = PC_ROTL(v0, 32);                                                                \
        v2 += v3;                                                                            \
        v3 = PC_ROTL(v3, 16);                                                                \
        v3 ^= v2;                                                                            \
        v0 += v3;                                                                            \
        v3 = PC_ROTL(v3, 21);                                                                \
        v3 ^= v0;                                                                            \
        v2 += v1;                                                                            \
        v1 = PC_ROTL(v1, 17);                                                                \
        v1 ^= v2;                                                                            \
        v2 = PC_ROTL(v2, 32);                                                                \
    } while (0)

static uint64_t load64_le(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

uint64_t pc_siphash24(const unsigned char key[16], const unsigned char *in, size_t len)
{
    uint64_t k0 = load64_le(key), k1 = load64_le(key + 8);
    uint64_t v0 = 0x736f6d6570736575u ^ k0, v1 = 0x646f72616e646f6du ^ k1;
    uint64_t v2 = 0x6c7967656e657261u ^ k0, v3 = 0x7465646279746573u ^ k1;
    uint64_t b = (uint64_t)len << 56, m;
    size_t whole = len - len % 8;

    for (size_t i = 0; i < whole; i += 8) {
        m = load64_le(in + i);
        v3 ^= m;
        PC_SIPROUND;
        PC_SIPROUND;
        v0 ^= m;
    }
    for (size_t i = 0; i < len % 8; i++)
        b |= (uint64_t)in[whole + i] << (8 * i);
    v3 ^= b;
    PC_SIPROUND;
    PC_SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    PC_SIPROUND;
    PC_SIPROUND;
    PC_SIPROUND;
    PC_SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static pthread_once_t token_key_once = PTHREAD_ONCE_INIT;
static unsigned char token_key[16];
static int token_key_ok;

static void token_key_init(void)
{
    WC_RNG rng;
    if (wc_InitRng(&rng) != 0)
        return;
    token_key_ok = wc_RNG_GenerateBlock(&rng, token_key, sizeof(token_key)) == 0;
    wc_FreeRng(&rng);
}

/* The last token this thread computed and what for: the requests and handshakes of one
 * target hash once. Fixed buffers, nothing to free when the thread ends. */
static _Thread_local struct {
    uint64_t token; /* 0: none */
    uint64_t owner;
    uint64_t generation;
    unsigned port;
    char host[PINCURL_HOST_MAX + 1];
} token_memo;

uint64_t pc_tls_record_token(uint64_t owner, uint64_t generation, const char *host,
                             unsigned port)
{
    unsigned char msg[20 + PINCURL_HOST_MAX + 1];
    size_t n = host != NULL ? strlen(host) : 0;
    uint64_t token;

    if (host == NULL || n > PINCURL_HOST_MAX)
        return 0;
    if (token_memo.token != 0 && token_memo.owner == owner &&
        token_memo.generation == generation && token_memo.port == port &&
        strcmp(token_memo.host, host) == 0)
        return token_memo.token;
    pthread_once(&token_key_once, token_key_init);
    if (!token_key_ok)
        return 0;
    for (int i = 0; i < 8; i++)
        msg[i] = (unsigned char)(owner >> (56 - 8 * i));
    for (int i = 0; i < 4; i++)
        msg[8 + (size_t)i] = (unsigned char)((uint32_t)port >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        msg[12 + (size_t)i] = (unsigned char)(generation >> (56 - 8 * i));
    memcpy(msg + 20, host, n);
    token = pc_siphash24(token_key, msg, 20 + n);
    /* Zero is what a fresh connection object holds: never a valid token. The value is
     * folded to pointer width by the caller, so also keep the low half non-zero. */
    if ((uintptr_t)token == 0)
        token |= 1;
    token_memo.owner = owner;
    token_memo.generation = generation;
    token_memo.port = port;
    memcpy(token_memo.host, host, n + 1);
    token_memo.token = token;
    return token;
}

/* ------------------------------------------------------------------------------------ */
/* Path cache                                                                            */

/* A slot is picked by a cheap hash; what it holds is found again only for the same bytes. */
struct cache_slot {
    uint64_t hash;        /* pc_path_cache_hash of the entry's served chain and trust store */
    pc_path_entry *entry; /* NULL: empty */
    unsigned long stamp;  /* insertion order, for eviction */
};

/* An entry and its bookkeeping live in one allocation, sized to what it holds (a firmware
 * client keeps one under its heap budget): the block, the path's references and pins, the
 * served chain's references, then the DER bytes: the served chain's, then those of the
 * path's certificates that were not served (its anchor). A path certificate that was
 * served points into the served copy. */
#define PC_VALID_HOST_MAX 63 /* longer hosts are not remembered: checked every time */
typedef struct cache_block {
    pc_path_entry entry; /* first member: a pc_path_entry * is a cache_block * */
    unsigned long refs;
    char valid_host[PC_VALID_HOST_MAX + 1]; /* the leaf was found valid for it; "" none */
    uint64_t trust_id;
    int64_t valid_from;  /* the latest notBefore of the path's certificates */
    int64_t valid_until; /* the earliest notAfter */
    size_t served_count;
    pincurl_cert_ref *served; /* served_count of them */
} cache_block;

struct pc_path_cache {
    pthread_mutex_t lock;
    size_t capacity;
    struct cache_slot *slots;
    unsigned long clock;
    unsigned long hits;
    unsigned long misses;
};

pc_path_cache *pc_path_cache_new(size_t capacity)
{
    pc_path_cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    if (capacity > 0) {
        c->slots = calloc(capacity, sizeof(*c->slots));
        if (c->slots == NULL) {
            free(c);
            return NULL;
        }
    }
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c->slots);
        free(c);
        return NULL;
    }
    c->capacity = capacity;
    return c;
}

static void block_unref_locked(cache_block *b)
{
    if (b != NULL && --b->refs == 0)
        free(b);
}

void pc_path_cache_free(pc_path_cache *cache)
{
    if (cache == NULL)
        return;
    for (size_t i = 0; i < cache->capacity; i++)
        block_unref_locked((cache_block *)cache->slots[i].entry);
    free(cache->slots);
    pthread_mutex_destroy(&cache->lock);
    free(cache);
}

/* FNV-1a, 64 bits, over a few bytes. */
static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3u;
    }
    return h;
}

uint64_t pc_path_cache_hash(const pincurl_cert_ref *served, size_t served_len,
                            uint64_t trust_id)
{
    /* Only picks the slot; a lookup compares every byte. The last bytes of a certificate
     * are its signature: they differ between any two certificates in practice. */
    uint64_t h = 0xcbf29ce484222325u;
    unsigned char word[8];
    for (int k = 0; k < 8; k++)
        word[k] = (unsigned char)(trust_id >> (8 * k));
    h = fnv(h, word, sizeof(word));
    for (size_t i = 0; i < served_len; i++) {
        size_t n = served[i].len, tail = n < 16 ? n : 16;
        for (int k = 0; k < 8; k++)
            word[k] = (unsigned char)((uint64_t)n >> (8 * k));
        h = fnv(h, word, sizeof(word));
        if (served[i].der != NULL)
            h = fnv(h, served[i].der + (n - tail), tail);
    }
    return h;
}

/* 1 when b holds exactly this served chain and trust store. */
static int block_matches(const cache_block *b, const pincurl_cert_ref *served,
                         size_t served_len, uint64_t trust_id)
{
    if (b->trust_id != trust_id || b->served_count != served_len)
        return 0;
    for (size_t i = 0; i < served_len; i++) {
        if (b->served[i].len != served[i].len ||
            memcmp(b->served[i].der, served[i].der, served[i].len) != 0)
            return 0;
    }
    return 1;
}

static int chain_usable(const pincurl_cert_ref *served, size_t served_len, uint64_t trust_id)
{
    if (trust_id == 0 || served == NULL || served_len == 0 || served_len > PINCURL_MAX_SERVED)
        return 0; /* an unknown trust store: nothing may be found or stored */
    for (size_t i = 0; i < served_len; i++)
        if (served[i].der == NULL || served[i].len == 0)
            return 0;
    return 1;
}

const pc_path_entry *pc_path_cache_get(pc_path_cache *cache, const pincurl_cert_ref *served,
                                       size_t served_len, uint64_t trust_id, int64_t now)
{
    const pc_path_entry *found = NULL;
    uint64_t hash;

    if (cache == NULL || cache->capacity == 0 || !chain_usable(served, served_len, trust_id))
        return NULL;
    hash = pc_path_cache_hash(served, served_len, trust_id);
    pthread_mutex_lock(&cache->lock);
    for (size_t i = 0; i < cache->capacity; i++) {
        struct cache_slot *s = &cache->slots[i];
        if (s->entry != NULL && s->hash == hash &&
            block_matches((const cache_block *)s->entry, served, served_len, trust_id)) {
            cache_block *b = (cache_block *)s->entry;
            /* a certificate of the path expired (or is not valid yet): what a path build
             * at now refuses is not found */
            if (now >= b->valid_from && now <= b->valid_until) {
                b->refs++;
                found = s->entry;
            }
            break;
        }
    }
    if (found != NULL)
        cache->hits++;
    else
        cache->misses++;
    pthread_mutex_unlock(&cache->lock);
    return found;
}

int pc_path_cache_put(pc_path_cache *cache, const pincurl_cert_ref *served, size_t served_len,
                      uint64_t trust_id, const pincurl_cert_ref *path, size_t path_len,
                      const pc_path_entry **stored)
{
    size_t total = sizeof(cache_block);
    cache_block *b;
    unsigned char *p;
    struct cache_slot *victim = NULL;
    uint64_t hash;

    if (stored != NULL)
        *stored = NULL;
    if (cache == NULL || cache->capacity == 0)
        return 0;
    if (path == NULL || path_len == 0 || path_len > PINCURL_MAX_PATH ||
        !chain_usable(served, served_len, trust_id))
        return -1;
    /* which served certificate each path certificate is (SIZE_MAX: none) */
    size_t from_served[PINCURL_MAX_PATH];
    pincurl_cert_ref *certs;
    pincurl_pin *pins;

    total += path_len * (sizeof(pincurl_cert_ref) + sizeof(pincurl_pin)) +
             served_len * sizeof(pincurl_cert_ref);
    for (size_t i = 0; i < served_len; i++) {
        if (served[i].len > SIZE_MAX / 4 - total)
            return -1;
        total += served[i].len;
    }
    for (size_t i = 0; i < path_len; i++) {
        if (path[i].der == NULL || path[i].len == 0 || path[i].len > SIZE_MAX / 4 - total)
            return -1;
        from_served[i] = SIZE_MAX;
        for (size_t k = 0; k < served_len && from_served[i] == SIZE_MAX; k++)
            if (served[k].len == path[i].len &&
                memcmp(served[k].der, path[i].der, path[i].len) == 0)
                from_served[i] = k;
        if (from_served[i] == SIZE_MAX)
            total += path[i].len;
    }
    b = malloc(total);
    if (b == NULL)
        return -1;
    memset(b, 0, sizeof(*b));
    b->refs = 1;
    b->trust_id = trust_id;
    /* the arrays, aligned as the block is (their element sizes are multiples of 8 or of
     * the pointer size), then the bytes */
    certs = (pincurl_cert_ref *)(b + 1);
    b->served = certs + path_len;
    pins = (pincurl_pin *)(b->served + served_len);
    p = (unsigned char *)(pins + path_len);
    b->served_count = served_len;
    for (size_t i = 0; i < served_len; i++) {
        memcpy(p, served[i].der, served[i].len);
        b->served[i].der = p;
        b->served[i].len = served[i].len;
        p += served[i].len;
    }
    for (size_t i = 0; i < path_len; i++) {
        if (from_served[i] != SIZE_MAX) {
            certs[i] = b->served[from_served[i]];
            continue;
        }
        memcpy(p, path[i].der, path[i].len);
        certs[i].der = p;
        certs[i].len = path[i].len;
        p += path[i].len;
    }
    b->entry.count = path_len;
    b->entry.certs = certs;
    b->entry.pins = pins;
    /* The window in which every certificate of the path below its anchor (the last) is
     * valid: what pincurl_path_build checks; unreadable dates leave it empty. */
    b->valid_from = INT64_MIN;
    b->valid_until = INT64_MAX;
    for (size_t i = 0; i + 1 < path_len; i++) {
        int64_t nb, na;
        if (pc_der_cert_not_before(b->entry.certs[i].der, b->entry.certs[i].len, &nb) !=
                PINCURL_OK ||
            pc_der_cert_not_after(b->entry.certs[i].der, b->entry.certs[i].len, &na) !=
                PINCURL_OK) {
            b->valid_from = 1;
            b->valid_until = 0;
            break;
        }
        if (nb > b->valid_from)
            b->valid_from = nb;
        if (na < b->valid_until)
            b->valid_until = na;
    }
    /* The pins of the path, so that a hit hashes no SPKI again. A certificate whose SPKI
     * cannot be hashed leaves the entry without pins: evaluation hashes (and refuses). */
    b->entry.pinned = 1;
    for (size_t i = 0; i < path_len && b->entry.pinned; i++)
        b->entry.pinned = pincurl_pin_from_cert_der(certs[i].der, certs[i].len, &pins[i]) ==
                          PINCURL_OK;
    hash = pc_path_cache_hash(served, served_len, trust_id);

    pthread_mutex_lock(&cache->lock);
    for (size_t i = 0; i < cache->capacity && victim == NULL; i++) {
        struct cache_slot *s = &cache->slots[i];
        if (s->entry != NULL && s->hash == hash &&
            block_matches((const cache_block *)s->entry, served, served_len, trust_id))
            victim = s; /* the same chain and store: replace */
    }
    for (size_t i = 0; i < cache->capacity && victim == NULL; i++) {
        if (cache->slots[i].entry == NULL)
            victim = &cache->slots[i];
    }
    if (victim == NULL) {
        victim = &cache->slots[0];
        for (size_t i = 1; i < cache->capacity; i++) {
            if (cache->slots[i].stamp < victim->stamp)
                victim = &cache->slots[i];
        }
    }
    block_unref_locked((cache_block *)victim->entry);
    victim->hash = hash;
    victim->entry = &b->entry;
    victim->stamp = ++cache->clock;
    if (stored != NULL) {
        b->refs++;
        *stored = &b->entry;
    }
    pthread_mutex_unlock(&cache->lock);
    return 0;
}

int pc_path_cache_host_valid(pc_path_cache *cache, const pc_path_entry *entry,
                             const char *host)
{
    int known;
    if (cache == NULL || entry == NULL || host == NULL || host[0] == '\0')
        return 0;
    pthread_mutex_lock(&cache->lock);
    known = strcmp(((const cache_block *)entry)->valid_host, host) == 0;
    pthread_mutex_unlock(&cache->lock);
    return known;
}

void pc_path_cache_note_host(pc_path_cache *cache, const pc_path_entry *entry,
                             const char *host)
{
    size_t n = host != NULL ? strlen(host) : 0;
    if (cache == NULL || entry == NULL || n == 0 || n > PC_VALID_HOST_MAX)
        return; /* not remembered: the host is checked on the leaf every time */
    pthread_mutex_lock(&cache->lock);
    memcpy(((cache_block *)(uintptr_t)entry)->valid_host, host, n + 1);
    pthread_mutex_unlock(&cache->lock);
}

void pc_path_cache_clear(pc_path_cache *cache)
{
    if (cache == NULL)
        return;
    pthread_mutex_lock(&cache->lock);
    for (size_t i = 0; i < cache->capacity; i++) {
        block_unref_locked((cache_block *)cache->slots[i].entry);
        cache->slots[i].entry = NULL;
        cache->slots[i].hash = 0;
        cache->slots[i].stamp = 0;
    }
    pthread_mutex_unlock(&cache->lock);
}

void pc_path_cache_release(pc_path_cache *cache, const pc_path_entry *entry)
{
    if (cache == NULL || entry == NULL)
        return;
    pthread_mutex_lock(&cache->lock);
    block_unref_locked((cache_block *)(uintptr_t)entry);
    pthread_mutex_unlock(&cache->lock);
}

void pc_path_cache_stats(pc_path_cache *cache, unsigned long *hits, unsigned long *misses)
{
    if (cache == NULL) {
        if (hits != NULL)
            *hits = 0;
        if (misses != NULL)
            *misses = 0;
        return;
    }
    pthread_mutex_lock(&cache->lock);
    if (hits != NULL)
        *hits = cache->hits;
    if (misses != NULL)
        *misses = cache->misses;
    pthread_mutex_unlock(&cache->lock);
}
