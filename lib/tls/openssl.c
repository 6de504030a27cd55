/*
 * The OpenSSL backend (the distribution's libcurl).
 *
 * curl's OpenSSL backend creates one SSL_CTX per connection, sets its verify mode and hands
 * it to CURLOPT_SSL_CTX_FUNCTION before it creates the SSL object. install() replaces the
 * certificate verification step of that context (SSL_CTX_set_cert_verify_callback): the
 * callback runs X509_verify_cert() itself, so it sees the end of verification, after every
 * check OpenSSL makes (chain, expiry, name constraints, policies). Only then does the core
 * build the validated path from the chain the server sent (X509_STORE_CTX_get0_untrusted),
 * the store's trust anchors (X509_STORE_CTX_get1_certs by subject) and OpenSSL's signature
 * checks (pincurl_path_build), the same builder the wolfSSL backend uses, and evaluate it;
 * the callback returns "verified && ALLOW". The sent chain is never pinned against, so a
 * chain padded with genuine certificates cannot pass.
 *
 * curl checks the host name only after the handshake (Curl_ossl_verifyhost). For a host the
 * policy names, the callback checks it first with the core's rules
 * (pincurl_cert_matches_host): a leaf that is not valid for the host is refused as a host
 * mismatch and never given an ALLOW.
 *
 * An ALLOW is recorded on the SSL object as ex data: a token derived from the deciding
 * client, its policy generation, the host and the port. It holds no memory, and every
 * verification clears it first, so a record can neither leak nor outlive its connection.
 */
#include "tls/tls.h"

#include "core/policy_internal.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <curl/curl.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Longest certificate accepted, and most certificates a served chain may hold. */
#define OS_MAX_CERT_BYTES (64u * 1024u)
#define OS_MAX_SENT 32u

/* cert_error when verification failed without saying why. */
#define OS_ERR_UNKNOWN (-1)

static pthread_once_t os_once = PTHREAD_ONCE_INIT;
static int os_record_index = -1; /* the ALLOW token */
static int os_peer_index = -1;   /* os_peer_der: DER of the sent chain, for peer_chain() */

/* The sent chain of an SSL object as DER, owned by the SSL object (freed with it). The
 * certificates are referenced so that a changed chain is recognised by identity. */
typedef struct os_peer_der {
    size_t count;
    X509 *certs[OS_MAX_SENT];
    unsigned char *der[OS_MAX_SENT];
    pincurl_cert_ref refs[OS_MAX_SENT];
} os_peer_der;

static void os_peer_der_free(os_peer_der *pd)
{
    if (pd == NULL)
        return;
    for (size_t i = 0; i < pd->count; i++) {
        OPENSSL_free(pd->der[i]);
        X509_free(pd->certs[i]);
    }
    free(pd);
}

static void os_peer_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                            void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    os_peer_der_free(ptr);
}

static int os_hook_index = -1; /* SSL_CTX: a reference to its handshake's hook */

static void os_hook_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                            void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    pc_tls_hook_unref(ptr);
}

static void os_init_once(void)
{
    os_record_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    os_peer_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, os_peer_ex_free);
    os_hook_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, os_hook_ex_free);
}

static int os_global_init(void)
{
    pthread_once(&os_once, os_init_once);
    return os_record_index >= 0 && os_peer_index >= 0 && os_hook_index >= 0 ? 0 : -1;
}

/* cert_error holds X509_V_ERR_* codes (positive), or OS_ERR_UNKNOWN. */
static const char *os_error_text(int err)
{
    if (err == 0)
        return "no error";
    if (err > 0)
        return X509_verify_cert_error_string(err);
    return "certificate verification failed";
}

/* DER copies of a list of certificates, leaf first. */
typedef struct os_der_list {
    pincurl_cert_ref refs[OS_MAX_SENT];
    unsigned char *der[OS_MAX_SENT];
    size_t count;
} os_der_list;

static void os_der_list_free(os_der_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        OPENSSL_free(l->der[i]);
    l->count = 0;
}

/* Appends x's DER encoding. 0 on success, -1 on OOM, an encoding failure or a limit. */
static int os_der_list_add(os_der_list *l, size_t limit, X509 *x)
{
    unsigned char *der = NULL;
    int len;

    if (x == NULL || l->count >= limit || l->count >= OS_MAX_SENT)
        return -1;
    len = i2d_X509(x, &der);
    if (len <= 0 || der == NULL || (unsigned)len > OS_MAX_CERT_BYTES) {
        OPENSSL_free(der);
        return -1;
    }
    l->der[l->count] = der;
    l->refs[l->count].der = der;
    l->refs[l->count].len = (size_t)len;
    l->count++;
    return 0;
}

/* The chain the server sent, leaf first. ssl_verify_cert_chain() passes the whole peer
 * chain as the untrusted set, leaf included; the leaf is added in front only if missing. */
static int os_collect_served(X509_STORE_CTX *store, os_der_list *out)
{
    X509 *leaf = X509_STORE_CTX_get0_cert(store);
    STACK_OF(X509) *sent = X509_STORE_CTX_get0_untrusted(store);
    int n = sent != NULL ? sk_X509_num(sent) : 0;
    int first = 0;

    out->count = 0;
    if (leaf == NULL)
        return -1;
    if (n > 0 && X509_cmp(sk_X509_value(sent, 0), leaf) == 0) {
        if (os_der_list_add(out, OS_MAX_SENT, sk_X509_value(sent, 0)) != 0)
            return -1;
        first = 1;
    } else if (os_der_list_add(out, OS_MAX_SENT, leaf) != 0) {
        return -1;
    }
    for (int i = first; i < n; i++) {
        if (os_der_list_add(out, OS_MAX_SENT, sk_X509_value(sent, i)) != 0)
            return -1;
    }
    return 0;
}

/* 1 if the leaf is valid for the (normalised) host, as curl's later check requires. */
static int os_host_matches(X509 *leaf, const char *host)
{
    if (leaf == NULL || host == NULL || host[0] == '\0')
        return 0;
    if (pincurl_host_is_ip(host))
        return X509_check_ip_asc(leaf, host, 0) == 1;
    return X509_check_host(leaf, host, strlen(host), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
                           NULL) == 1;
}

/* ---- what the core needs: anchors, signatures, the store's identity ------------------ */

/* anchors_by_subject over the store of a verification (X509_STORE_CTX_get1_certs, which
 * also consults lazily loaded CA directories). The DER it hands out is kept here until the
 * build ends. */
typedef struct os_trust_ctx {
    X509_STORE_CTX *store;
    unsigned char *der[PINCURL_MAX_PATH * PINCURL_MAX_ANCHORS_PER_NAME];
    size_t count;
} os_trust_ctx;

static size_t os_anchors_by_subject(void *ctx, const unsigned char *name_der, size_t name_len,
                                    pincurl_cert_ref *out, size_t max)
{
    os_trust_ctx *t = ctx;
    const unsigned char *p = name_der;
    X509_NAME *name;
    STACK_OF(X509) *certs;
    size_t n = 0, total;

    if (name_len > 0x7fffffff)
        return (size_t)-1;
    name = d2i_X509_NAME(NULL, &p, (long)name_len);
    if (name == NULL || p != name_der + name_len) {
        X509_NAME_free(name);
        return (size_t)-1;
    }
    certs = X509_STORE_CTX_get1_certs(t->store, name);
    X509_NAME_free(name);
    if (certs == NULL)
        return 0; /* none with that name */
    total = (size_t)sk_X509_num(certs);
    for (size_t i = 0; i < total && n < max; i++) {
        unsigned char *der = NULL;
        int len = i2d_X509(sk_X509_value(certs, (int)i), &der);
        if (len <= 0 || der == NULL || t->count == sizeof(t->der) / sizeof(t->der[0])) {
            OPENSSL_free(der);
            sk_X509_pop_free(certs, X509_free);
            return (size_t)-1;
        }
        t->der[t->count++] = der;
        out[n].der = der;
        out[n].len = (size_t)len;
        n++;
    }
    sk_X509_pop_free(certs, X509_free);
    return total;
}

static void os_trust_ctx_free(os_trust_ctx *t)
{
    for (size_t i = 0; i < t->count; i++)
        OPENSSL_free(t->der[i]);
    t->count = 0;
}

/* verify_signature with OpenSSL: the certificate's signature under the given key. */
static int os_verify_signature(void *ctx, const unsigned char *cert_der, size_t cert_len,
                               const unsigned char *spki_der, size_t spki_len)
{
    const unsigned char *p = cert_der, *k = spki_der;
    X509 *x;
    EVP_PKEY *key;
    int r;

    (void)ctx;
    if (cert_len > 0x7fffffff || spki_len > 0x7fffffff)
        return -1;
    x = d2i_X509(NULL, &p, (long)cert_len);
    if (x == NULL)
        return -1; /* the core parsed it: an allocation failed */
    key = d2i_PUBKEY(NULL, &k, (long)spki_len);
    if (key == NULL) {
        X509_free(x);
        ERR_clear_error();
        return 0; /* a key OpenSSL cannot use: not verified */
    }
    r = X509_verify(x, key);
    EVP_PKEY_free(key);
    X509_free(x);
    ERR_clear_error();
    return r == 1 ? 1 : 0;
}

/* The identity of a store's trusted certificates (pc_trust_id), 0 on failure. */
static uint64_t os_store_id(X509_STORE *xs)
{
    STACK_OF(X509_OBJECT) *objs;
    pincurl_cert_ref *refs = NULL;
    unsigned char **ders = NULL;
    size_t n = 0, cap;
    uint64_t id = 0;
    int ok = 1;

    if (xs == NULL || X509_STORE_lock(xs) != 1)
        return 0;
    objs = X509_STORE_get0_objects(xs);
    cap = objs != NULL ? (size_t)sk_X509_OBJECT_num(objs) : 0;
    if (cap > 0) {
        refs = calloc(cap, sizeof(*refs));
        ders = calloc(cap, sizeof(*ders));
        ok = refs != NULL && ders != NULL;
    }
    for (size_t i = 0; ok && i < cap; i++) {
        X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, (int)i));
        int len;
        if (x == NULL)
            continue; /* a CRL */
        len = i2d_X509(x, &ders[n]);
        if (len <= 0) {
            ok = 0;
            break;
        }
        refs[n].der = ders[n];
        refs[n].len = (size_t)len;
        n++;
    }
    X509_STORE_unlock(xs);
    if (ok)
        id = pc_trust_id(refs, n);
    for (size_t i = 0; ders != NULL && i < n; i++)
        OPENSSL_free(ders[i]);
    free(ders);
    free(refs);
    return id;
}

/* pincurl's own host check of the leaf (the core's RFC 6125 rules), for named hosts. */
static int os_leaf_matches(X509 *leaf, const char *host)
{
    unsigned char *der = NULL;
    int len, ok;
    if (leaf == NULL || host == NULL || host[0] == '\0')
        return 0;
    len = i2d_X509(leaf, &der);
    ok = len > 0 && der != NULL &&
         pincurl_cert_matches_host(der, (size_t)len, host) == PINCURL_OK;
    OPENSSL_free(der);
    return ok;
}

/* A certificate check failed with err: record it (the first one per connection) and, for a
 * named host, report the evaluation of "no validated path" (INVALID_CHAIN) once. */
static void os_record_error(pc_tls_conn *conn, X509_STORE_CTX *store, int err)
{
    int first = conn->cert_error == 0;
    os_der_list served;

    if (first)
        conn->cert_error = err != X509_V_OK ? err : OS_ERR_UNKNOWN;
    if (conn->refusal == PINCURL_OK)
        conn->refusal = err == X509_V_ERR_HOSTNAME_MISMATCH || err == X509_V_ERR_IP_ADDRESS_MISMATCH
                            ? PINCURL_HOST_MISMATCH
                            : PINCURL_CERT_INVALID;
    if (!first || conn->mode != PC_TLS_MODE_EVALUATE || conn->policy == NULL ||
        conn->host[0] == '\0')
        return;
    /* A served chain that cannot be copied is reported as empty: the verdict is a refusal
     * either way. */
    if (os_collect_served(store, &served) != 0)
        os_der_list_free(&served);
    (void)pincurl_evaluate(conn->policy, conn->host, conn->port, NULL, 0, served.refs,
                           served.count, (int64_t)time(NULL), &conn->verdict);
    conn->verdict.decision = PINCURL_DECISION_BLOCK;
    conn->evaluated = 1;
    if (conn->on_verdict != NULL)
        conn->on_verdict(conn, &conn->verdict, NULL, 0, served.refs, served.count);
    os_der_list_free(&served);
}

/* Refuses the handshake without a certificate error of OpenSSL's: the alert and curl's
 * message say the application refused it. */
static int os_refuse(X509_STORE_CTX *store, pc_tls_conn *conn, pincurl_status why)
{
    if (conn != NULL && conn->refusal == PINCURL_OK)
        conn->refusal = why;
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
}

/* A named host whose chain verified: path (built by the core from the served chain, this
 * store's anchors and OpenSSL's signature checks), evaluation, record. 1 to continue. */
static int os_decide(pc_tls_conn *conn, X509_STORE_CTX *store, SSL *ssl)
{
    os_der_list served;
    os_trust_ctx tctx;
    pincurl_trust trust;
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    size_t path_len = 0;
    const pc_path_entry *cached = NULL;
    pincurl_verdict verdict;
    pincurl_status st;
    uint64_t trust_id;
    int allow;
    uint64_t started = pc_tls_now_us();

    served.count = 0;
    memset(&tctx, 0, sizeof(tctx));
    tctx.store = store;
    trust.anchors_by_subject = os_anchors_by_subject;
    trust.verify_signature = os_verify_signature;
    trust.ctx = &tctx;
    if (os_collect_served(store, &served) != 0) {
        os_der_list_free(&served);
        return os_refuse(store, conn, PINCURL_PIN_CHECK_FAILED);
    }
    trust_id = os_store_id(X509_STORE_CTX_get0_store(store));
    cached = pc_path_cache_get(conn->cache, served.refs, served.count, trust_id,
                               (int64_t)time(NULL));
    if (cached != NULL) {
        path_len = cached->count;
        memcpy(path, cached->certs, path_len * sizeof(path[0]));
    } else if (pincurl_path_build(served.refs, served.count, &trust, (int64_t)time(NULL), path,
                                  PINCURL_MAX_PATH, &path_len) == PINCURL_OK) {
        (void)pc_path_cache_put(conn->cache, served.refs, served.count, trust_id, path,
                                path_len, NULL);
    } else {
        path_len = 0; /* no path: INVALID_CHAIN, refused */
    }
    /* the pins of a cached path were hashed from its certificates when it was stored */
    st = pc_evaluate_pinned(conn->policy, conn->host, conn->port, path, path_len,
                            cached != NULL && cached->pinned ? cached->pins : NULL,
                            served.refs, served.count, (int64_t)time(NULL), &verdict);
    if (st != PINCURL_OK)
        verdict.decision = PINCURL_DECISION_BLOCK;
    conn->verdict = verdict;
    conn->evaluated = 1;
    conn->duration_us = pc_tls_now_us() - started;
    allow = st == PINCURL_OK && verdict.decision == PINCURL_DECISION_ALLOW;

    if (conn->on_verdict != NULL)
        conn->on_verdict(conn, &verdict, path, path_len, served.refs, served.count);
    pc_path_cache_release(conn->cache, cached);
    os_trust_ctx_free(&tctx);
    os_der_list_free(&served);

    if (allow) {
        uint64_t token = pc_tls_record_token(conn->owner, conn->generation, conn->host,
                                      conn->port);
        if (token == 0 || SSL_set_ex_data(ssl, os_record_index, (void *)(uintptr_t)token) != 1)
            return os_refuse(store, conn, PINCURL_PIN_CHECK_FAILED);
        return 1;
    }
    if (st != PINCURL_OK)
        return os_refuse(store, conn, PINCURL_PIN_CHECK_FAILED);
    if (verdict.result == PINCURL_RESULT_POLICY_EXPIRED)
        return os_refuse(store, conn, PINCURL_POLICY_EXPIRED);
    if (verdict.result == PINCURL_RESULT_PIN_MISMATCH)
        return os_refuse(store, conn, PINCURL_PIN_MISMATCH);
    if (verdict.result == PINCURL_RESULT_INVALID_CHAIN)
        return os_refuse(store, conn, PINCURL_CERT_INVALID);
    return os_refuse(store, conn, PINCURL_PIN_CHECK_FAILED);
}

/* SSL_CTX_set_cert_verify_callback: replaces OpenSSL's call to X509_verify_cert(). */
static int os_verify(X509_STORE_CTX *store, void *arg)
{
    /* No state (a hook its transfer detached: the context outlived it), no decision */
    pc_tls_conn *conn = pc_tls_hook_conn(arg);
    SSL *ssl;
    int ok, err;

    if (store == NULL)
        return 0;
    if (conn == NULL)
        return os_refuse(store, NULL, PINCURL_PIN_CHECK_FAILED); /* nothing can be decided */
    ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    if (ssl == NULL || os_record_index < 0)
        return os_refuse(store, conn, PINCURL_PIN_CHECK_FAILED);
    /* Whatever an earlier handshake on this object recorded is over. */
    if (SSL_set_ex_data(ssl, os_record_index, NULL) != 1)
        return os_refuse(store, conn, PINCURL_PIN_CHECK_FAILED);
    /* Which peer this handshake is with, from libcurl's filter on the connection object */
    if (pc_tls_conn_identify(conn, SSL_get_app_data(ssl)) != 0)
        return os_refuse(store, conn, PINCURL_PIN_CHECK_FAILED);

    ok = X509_verify_cert(store);
    err = X509_STORE_CTX_get_error(store);

    if (conn->mode == PC_TLS_MODE_OBSERVE) {
        /* The peer the policy does not name, on a handle that turned verification off
         * (pincurl turned it on for the other peer, the named one): as the handle asked */
        if (!conn->app_verify)
            return 1;
        /* Ordinary validation: OpenSSL's result is returned unchanged. What would fail
         * curl's later host check is recorded, so the failure reads as a host mismatch. */
        if (ok <= 0 || err != X509_V_OK)
            os_record_error(conn, store, err);
        else if (!os_host_matches(X509_STORE_CTX_get0_cert(store), conn->host))
            os_record_error(conn, store, pincurl_host_is_ip(conn->host)
                                             ? X509_V_ERR_IP_ADDRESS_MISMATCH
                                             : X509_V_ERR_HOSTNAME_MISMATCH);
        return ok;
    }

    /* A named host. An error a verify callback chose to ignore still refuses: pins need a
     * validated path. */
    if (ok <= 0 || err != X509_V_OK) {
        os_record_error(conn, store, err);
        if (err == X509_V_OK)
            X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
        return 0;
    }
    if (conn->policy == NULL || conn->host[0] == '\0')
        return os_refuse(store, conn, PINCURL_PIN_CHECK_FAILED);
    if (!os_leaf_matches(X509_STORE_CTX_get0_cert(store), conn->host)) {
        err = pincurl_host_is_ip(conn->host) ? X509_V_ERR_IP_ADDRESS_MISMATCH
                                             : X509_V_ERR_HOSTNAME_MISMATCH;
        X509_STORE_CTX_set_error(store, err);
        os_record_error(conn, store, err);
        return 0;
    }
    return os_decide(conn, store, ssl);
}

static pincurl_status os_install(void *ssl_ctx, pc_tls_hook *hook)
{
    SSL_CTX *ctx = ssl_ctx;
    pc_tls_conn *conn = pc_tls_hook_conn(hook);
    int mode;

    if (ctx == NULL || conn == NULL || os_global_init() != 0)
        return PINCURL_INTERNAL;
    mode = SSL_CTX_get_verify_mode(ctx);
    conn->app_verify = (mode & SSL_VERIFY_PEER) != 0;
    /* conn->mode is EVALUATE when either peer this handshake may be with is named */
    if (conn->mode == PC_TLS_MODE_OBSERVE && !conn->app_verify && !conn->proxy_unknown)
        return PINCURL_OK; /* ordinary (no) validation as configured */
    /* The context holds its own reference to the hook, dropped when it is freed. */
    if (SSL_CTX_set_ex_data(ctx, os_hook_index, pc_tls_hook_ref(hook)) != 1) {
        pc_tls_hook_unref(hook);
        return PINCURL_INTERNAL;
    }
    if (conn->mode == PC_TLS_MODE_EVALUATE || conn->proxy_unknown) {
        /* A named peer is always validated: pins need a validated path (a proxy the
         * handle names itself is known only in its handshake: it may be named). A verify
         * callback already set stays (it can only add refusals, see os_verify). */
        SSL_CTX_set_verify(ctx, mode | SSL_VERIFY_PEER, SSL_CTX_get_verify_callback(ctx));
    }
    SSL_CTX_set_cert_verify_callback(ctx, os_verify, hook);
    return PINCURL_OK;
}

static int os_has_allow_record(void *ssl, uint64_t token)
{
    if (ssl == NULL || token == 0 || os_global_init() != 0)
        return 0;
    return (uintptr_t)SSL_get_ex_data((const SSL *)ssl, os_record_index) == (uintptr_t)token;
}

/* SSL_get_peer_cert_chain() holds the leaf first on a client, also when the session was
 * resumed (it then comes from the session). The DER stays on the SSL object until it is
 * freed, or until its chain changes (a renegotiation). */
static size_t os_peer_chain(void *ssl_ptr, pincurl_cert_ref *out, size_t max, int *own)
{
    SSL *ssl = ssl_ptr;
    STACK_OF(X509) *chain;
    os_peer_der *pd;
    int n;

    if (own != NULL)
        *own = 0;
    if (ssl == NULL || out == NULL || os_global_init() != 0)
        return 0;
    /* OpenSSL keeps a full handshake's chain on its own (a failed resumption's is dropped) */
    if (own != NULL)
        *own = !SSL_session_reused(ssl);
    chain = SSL_get_peer_cert_chain(ssl);
    n = chain != NULL ? sk_X509_num(chain) : 0;
    if (n <= 0 || (size_t)n > max || (size_t)n > OS_MAX_SENT)
        return 0;
    pd = SSL_get_ex_data(ssl, os_peer_index);
    if (pd != NULL) {
        int same = pd->count == (size_t)n;
        for (int i = 0; same && i < n; i++)
            same = pd->certs[i] == sk_X509_value(chain, i);
        if (!same) {
            if (SSL_set_ex_data(ssl, os_peer_index, NULL) != 1)
                return 0;
            os_peer_der_free(pd);
            pd = NULL;
        }
    }
    if (pd == NULL) {
        pd = calloc(1, sizeof(*pd));
        if (pd == NULL)
            return 0;
        for (int i = 0; i < n; i++) {
            X509 *x = sk_X509_value(chain, i);
            unsigned char *der = NULL;
            int len = x != NULL ? i2d_X509(x, &der) : 0;
            if (len <= 0 || der == NULL || (unsigned)len > OS_MAX_CERT_BYTES ||
                X509_up_ref(x) != 1) {
                OPENSSL_free(der);
                os_peer_der_free(pd);
                return 0;
            }
            pd->certs[i] = x;
            pd->der[i] = der;
            pd->refs[i].der = der;
            pd->refs[i].len = (size_t)len;
            pd->count++;
        }
        if (SSL_set_ex_data(ssl, os_peer_index, pd) != 1) {
            os_peer_der_free(pd);
            return 0;
        }
    }
    memcpy(out, pd->refs, pd->count * sizeof(out[0]));
    return pd->count;
}

static void *os_app_data(void *ssl)
{
    return ssl != NULL ? SSL_get_app_data((SSL *)ssl) : NULL;
}

static int os_set_allow_record(void *ssl, uint64_t token)
{
    if (ssl == NULL || token == 0 || os_global_init() != 0)
        return -1;
    return SSL_set_ex_data((SSL *)ssl, os_record_index, (void *)(uintptr_t)token) == 1 ? 0
                                                                                       : -1;
}

static uint64_t os_trust_id(void *ssl)
{
    SSL_CTX *ctx = ssl != NULL ? SSL_get_SSL_CTX((SSL *)ssl) : NULL;
    return ctx != NULL ? os_store_id(SSL_CTX_get_cert_store(ctx)) : 0;
}

static int os_handshake_done(void *ssl)
{
    return ssl != NULL && SSL_is_init_finished((SSL *)ssl) ? 1 : 0;
}

static size_t os_build_path(void *ssl_ptr, pc_anchor_registry *registry,
                            const pincurl_cert_ref *served, size_t served_len,
                            unsigned char **path_der, size_t *path_len)
{
    SSL_CTX *ctx = ssl_ptr != NULL ? SSL_get_SSL_CTX((SSL *)ssl_ptr) : NULL;
    X509_STORE *xs = ctx != NULL ? SSL_CTX_get_cert_store(ctx) : NULL;
    X509_STORE_CTX *sc = xs != NULL ? X509_STORE_CTX_new() : NULL;
    os_trust_ctx tctx;
    pincurl_trust trust;
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    size_t n = 0, copied = 0;

    (void)registry; /* OpenSSL looks the anchors up in the store itself */
    memset(&tctx, 0, sizeof(tctx));
    if (sc != NULL && X509_STORE_CTX_init(sc, xs, NULL, NULL) == 1 && served_len > 0 &&
        served_len <= PINCURL_MAX_SERVED) {
        tctx.store = sc;
        trust.anchors_by_subject = os_anchors_by_subject;
        trust.verify_signature = os_verify_signature;
        trust.ctx = &tctx;
        if (pincurl_path_build(served, served_len, &trust, (int64_t)time(NULL), path,
                               PINCURL_MAX_PATH, &n) == PINCURL_OK) {
            for (copied = 0; copied < n; copied++) {
                path_der[copied] = malloc(path[copied].len);
                if (path_der[copied] == NULL)
                    break;
                memcpy(path_der[copied], path[copied].der, path[copied].len);
                path_len[copied] = path[copied].len;
            }
            if (copied < n) {
                while (copied > 0)
                    free(path_der[--copied]);
            }
        }
    }
    os_trust_ctx_free(&tctx);
    X509_STORE_CTX_free(sc);
    return copied;
}

const pc_tls_backend pc_tls_openssl = {
    "openssl",
    PC_TLS_CAP_PATH | PC_TLS_CAP_SERVED,
    CURLSSLBACKEND_OPENSSL,
    os_global_init,
    os_install,
    os_has_allow_record,
    os_error_text,
    os_peer_chain,
    os_app_data,
    os_set_allow_record,
    os_trust_id,
    os_handshake_done,
    os_build_path,
};
