/*
 * The wolfSSL backend.
 *
 * curl's wolfSSL backend creates one WOLFSSL_CTX per connection, gives it the trust store
 * (one store shared by a handle's connections while its CA cache holds it, libcurl 8.14)
 * and then hands it to CURLOPT_SSL_CTX_FUNCTION, where install() takes the trust anchors
 * and sets a verify callback. During a handshake wolfSSL adds the intermediates it verified
 * to the store (WOLFSSL_CHAIN_CA); they are no anchors, so install() unloads them first
 * (wolfSSL_CertManagerUnloadIntermediateCerts). The anchors are copied once per store
 * (wolfSSL_CertManagerGetCerts) into a shared, immutable set in a process-wide registry
 * (tls.c); the store keeps only the set's registry key as ex data.
 * wolfSSL calls it for the leaf (depth 0, WOLFSSL_ALWAYS_VERIFY_CB) and for every
 * certificate in which it found an error, top first, the leaf last. Every call comes with
 * the whole chain the server sent, as the DER buffers of the Certificate message being
 * processed (the store context's certs and totalCerts): nothing is copied. At depth 0,
 * when wolfSSL's own validation succeeded, the core builds the validated path from the
 * served chain, those anchors and wolfCrypt's signature verification (pincurl_path_build),
 * or takes it from the path cache, where an entry is found only for the very same bytes
 * and trust store and keeps the path's pins; then checks the host
 * (pincurl_cert_matches_host) and evaluates; the callback returns preverify && ALLOW. Nothing here looks an issuer up by name or key identifier: wolfSSL's
 * lookups (by AKID, by the leaf's own SKID, by a name hash) may find another certificate
 * than the one that verified.
 *
 * wolfSSL compares an address host with the certificate's names as strings, so it refuses
 * an IPv6 (or IPv4-mapped) literal whose iPAddress entry matches (DOMAIN_NAME_MISMATCH).
 * For exactly that error at depth 0, and only when wolfSSL recorded no other certificate
 * error (wolfSSL_get_verify_result; wolfSSL reports the leaf's own verification failure
 * under the domain error) and the core built a signature-verified path of the served chain
 * to the store's anchors and the core's host check matches, the callback continues: for
 * named and unnamed hosts alike.
 *
 * An ALLOW is recorded on the WOLFSSL object as ex data: a token derived from the deciding
 * client, the host and the port. It holds no memory (wolfSSL 5.5 calls no ex data free
 * hooks), and a WOLFSSL object allocated later at the same address starts with zeroed ex
 * data, so a record can neither leak nor outlive its connection. The trust store's identity
 * is recorded the same way on the WOLFSSL_CTX (a number, no memory), for re-deciding a
 * resumed session from the path cache. Both use ex data indexes of pincurl's own (never 0,
 * which curl uses).
 */
#include "tls/tls.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "core/der.h"
#include "core/policy_internal.h"

#include <curl/curl.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Longest certificate accepted into the scratch, and most certificates per chain. */
#define WS_MAX_CERT_BYTES (64u * 1024u)
#define WS_MAX_SENT 32u

static pthread_once_t ws_once = PTHREAD_ONCE_INIT;
static int ws_record_index = -1; /* WOLFSSL: the ALLOW token */
static int ws_trust_index = -1;  /* WOLFSSL_CTX: the trust store's identity */
static int ws_store_index = -1;  /* WOLFSSL_X509_STORE: its anchor set's registry key */
static int ws_hook_index = -1;   /* WOLFSSL_CTX: a reference to its handshake's hook */
static int ws_chain_index = -1;  /* WOLFSSL: how many certificates its handshake received */

static void ws_init_once(void)
{
    /* Index 0 is the application data slot (wolfSSL_set_app_data), which libcurl uses
     * for its own pointer without allocating it: never share it. */
    for (int i = 0; i < 3 && ws_record_index <= 0; i++)
        ws_record_index = wolfSSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    for (int i = 0; i < 3 && ws_trust_index <= 0; i++)
        ws_trust_index = wolfSSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    for (int i = 0; i < 3 && ws_hook_index <= 0; i++)
        ws_hook_index = wolfSSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    for (int i = 0; i < 3 && ws_chain_index <= 0; i++)
        ws_chain_index = wolfSSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    /* wolfSSL allocates no ex data indexes for stores (wolfssl_get_ex_new_index: "not
     * supported") and libcurl uses none there: pincurl takes the last slot */
    ws_store_index = MAX_EX_DATA - 1;
}

static int ws_global_init(void)
{
    pthread_once(&ws_once, ws_init_once);
    return ws_record_index > 0 && ws_trust_index > 0 && ws_hook_index > 0 &&
                   ws_chain_index > 0 &&
                   ws_store_index >= 0
               ? 0
               : -1;
}

/* The store reports OpenSSL-style X509_V_ERR_* codes (positive) for most certificate
 * problems and wolfSSL's own negative codes for others (DOMAIN_NAME_MISMATCH). */
static const char *ws_error_text(int err)
{
    if (err == 0)
        return "no error";
    if (err > 0)
        return wolfSSL_X509_verify_cert_error_string(err);
    if (err <= -300) /* wolfSSL's TLS-level errors */
        return wolfSSL_ERR_reason_error_string((unsigned long)err);
    return wc_GetErrorString(err);
}

static int ws_is_host_error(int err)
{
    return err == DOMAIN_NAME_MISMATCH;
}

/* pincurl_trust.verify_signature with wolfCrypt: the issuer key in the encoding
 * wc_CheckCertSigPubKey's decoders take (asn.c ConfirmSignature): RSA as PKCS#1
 * RSAPublicKey, ECDSA as the whole SubjectPublicKeyInfo, Ed25519/Ed448 as the raw key. */
static int ws_verify_signature(void *ctx, const unsigned char *cert, size_t cert_len,
                               const unsigned char *spki, size_t spki_len)
{
    static const unsigned char rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
    static const unsigned char rsa_pss[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                            0x0d, 0x01, 0x01, 0x0a};
    static const unsigned char ec[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
    static const unsigned char ed25519[] = {0x2b, 0x65, 0x70};
    static const unsigned char ed448[] = {0x2b, 0x65, 0x71};
    pc_der_tlv oid, params;
    const unsigned char *key = NULL;
    size_t key_len = 0;
    int key_oid;
    int ret;

    (void)ctx;
    if (cert_len > 0xffffffffu || spki_len > 0xffffffffu ||
        pc_der_spki_parts(spki, spki_len, &oid, &params, &key, &key_len) != PINCURL_OK)
        return 0;
#define WS_OID_IS(x) (oid.content_len == sizeof(x) && memcmp(oid.content, x, sizeof(x)) == 0)
    if (WS_OID_IS(rsa)) {
        key_oid = RSAk;
    } else if (WS_OID_IS(rsa_pss)) {
        key_oid = RSAPSSk;
    } else if (WS_OID_IS(ec)) {
        key_oid = ECDSAk;
        key = spki;
        key_len = spki_len;
#ifdef HAVE_ED25519
    } else if (WS_OID_IS(ed25519)) {
        key_oid = ED25519k;
#endif
#ifdef HAVE_ED448
    } else if (WS_OID_IS(ed448)) {
        key_oid = ED448k;
#endif
    } else {
        return 0; /* a key wolfCrypt cannot verify with: not verified */
    }
#undef WS_OID_IS
    (void)ed25519;
    (void)ed448;
    ret = wc_CheckCertSigPubKey(cert, (word32)cert_len, NULL, key, (word32)key_len, key_oid);
    if (ret == 0)
        return 1;
    return ret == MEMORY_E ? -1 : 0;
}

int pc_tls_wolfssl_verify_signature(const unsigned char *cert, size_t cert_len,
                                    const unsigned char *spki, size_t spki_len)
{
    return ws_verify_signature(NULL, cert, cert_len, spki, spki_len);
}

/* The trust anchors of ctx's certificate manager into set, with their identity. 0 on
 * success (an empty store is an empty set), -1 on failure. */
static pc_anchor_set *ws_snapshot(WOLFSSL_CERT_MANAGER *cm)
{
    pc_anchor_set *set = pc_anchor_set_new();
    WOLFSSL_STACK *sk;
    int n, ok = set != NULL;

    sk = ok ? wolfSSL_CertManagerGetCerts(cm) : NULL; /* NULL also for an empty store */
    n = sk != NULL ? wolfSSL_sk_X509_num(sk) : 0;
    for (int i = 0; i < n && ok; i++) {
        int len = 0;
        const unsigned char *der = wolfSSL_X509_get_der(wolfSSL_sk_X509_value(sk, i), &len);
        ok = der != NULL && len > 0 && pc_anchor_set_add(set, der, (size_t)len) == 0;
    }
    if (sk != NULL)
        wolfSSL_sk_X509_pop_free(sk, NULL);
    if (!ok || pc_anchor_set_finish(set) != 0) {
        pc_anchor_set_unref(set);
        return NULL;
    }
    return set;
}

/* The trust anchors of ctx's store, a new reference; NULL on failure. The set is kept in
 * the client's registry under a key the store carries: the connections of one store share
 * it, and a store without a key (new) or with a key this client does not hold gets a set
 * of its own. */
static pc_anchor_set *ws_anchors(WOLFSSL_CTX *ctx, pc_anchor_registry *registry)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    WOLFSSL_X509_STORE *store = wolfSSL_CTX_get_cert_store(ctx);
    WOLFSSL_CERT_MANAGER *cm = wolfSSL_CTX_GetCertManager(ctx);
    pc_anchor_set *set = NULL;
    uint64_t key;

    if (store == NULL || cm == NULL)
        return NULL;
    pthread_mutex_lock(&lock);
    /* Certificates a handshake added from a peer's chain (wolfSSL keeps the intermediates
     * it verified, WOLFSSL_CHAIN_CA) are no trust anchors; libcurl shares one store among
     * the connections of a handle (its CA cache). They go before every handshake, so that
     * wolfSSL, too, validates against the anchors and the chain the server sends. */
    if (wolfSSL_CertManagerUnloadIntermediateCerts(cm) == WOLFSSL_SUCCESS) {
        key = (uint64_t)(uintptr_t)wolfSSL_X509_STORE_get_ex_data(store, ws_store_index);
        set = pc_anchor_registry_get(registry, key);
        if (set == NULL && (set = ws_snapshot(cm)) != NULL) {
            /* the key, a number, is all the store keeps (a store embedded in a context
             * frees no ex data); a new store starts with none */
            key = pc_anchor_registry_put(registry, set);
            /* without a registry (or when it is out of memory) the set serves this
             * connection only */
            if (key != 0 && wolfSSL_X509_STORE_set_ex_data(store, ws_store_index,
                                                           (void *)(uintptr_t)key) !=
                                WOLFSSL_SUCCESS) {
                pc_anchor_set_unref(set);
                set = NULL;
            }
        }
    }
    pthread_mutex_unlock(&lock);
    return set;
}

/* The chain the server sent, leaf first, as wolfSSL hands it to the verify callback: the
 * store context's certs/totalCerts are the DER buffers of the Certificate message being
 * processed (ProcessPeerCerts' args->certs), valid for the length of the callback. Nothing
 * is copied and no certificate object is built. 0 when there is none, or too many. */
static size_t ws_served(WOLFSSL_X509_STORE_CTX *store, pincurl_cert_ref *served)
{
    int n = store->totalCerts;
    WOLFSSL_X509 *current;
    const unsigned char *der;
    int len = 0;

    if (store->certs == NULL || n <= 0 || (size_t)n > WS_MAX_SENT)
        return 0;
    for (int i = 0; i < n; i++) {
        const WOLFSSL_BUFFER_INFO *c = &store->certs[i];
        if (c->buffer == NULL || c->length == 0 || c->length > WS_MAX_CERT_BYTES)
            return 0;
        served[i].der = c->buffer;
        served[i].len = c->length;
    }
    /* The fields are read from wolfSSL's structure, whose layout depends on how wolfSSL was
     * configured: at the leaf, the first of them must be the certificate wolfSSL is
     * verifying, byte for byte, or nothing is read (and the handshake is refused). */
    if (wolfSSL_X509_STORE_CTX_get_error_depth(store) == 0) {
        current = wolfSSL_X509_STORE_CTX_get_current_cert(store);
        der = current != NULL ? wolfSSL_X509_get_der(current, &len) : NULL;
        if (der == NULL || len <= 0 || (size_t)len != served[0].len ||
            memcmp(der, served[0].der, served[0].len) != 0)
            return 0;
    }
    return (size_t)n;
}

/* The validated path of the served chain against the store's anchors, built now and
 * stored in the path cache. *cached receives the stored entry's reference to release
 * (path then points into it), or NULL. */
static size_t ws_build(pc_tls_conn *conn, const pincurl_cert_ref *served, size_t served_len,
                       pincurl_cert_ref *path, const pc_path_entry **cached)
{
    pincurl_trust trust = {pc_anchor_set_by_subject, ws_verify_signature, conn->anchors};
    size_t path_len = 0;

    *cached = NULL;
    if (conn->anchors == NULL || served_len == 0 || served_len > PINCURL_MAX_SERVED)
        return 0;
    if (pincurl_path_build(served, served_len, &trust, (int64_t)time(NULL), path,
                           PINCURL_MAX_PATH, &path_len) != PINCURL_OK)
        return 0;
    /* the entry stored has the path's pins: take it, so they are hashed once */
    (void)pc_path_cache_put(conn->cache, served, served_len, conn->anchors->id, path, path_len,
                            cached);
    if (*cached != NULL && (*cached)->count == path_len)
        memcpy(path, (*cached)->certs, path_len * sizeof(path[0]));
    return path_len;
}

/* The validated path of the served chain against the store's anchors, through the path cache.
 * *cached receives the cache reference to release (path may point into it). */
static size_t ws_path(pc_tls_conn *conn, const pincurl_cert_ref *served, size_t served_len,
                      pincurl_cert_ref *path, const pc_path_entry **cached)
{
    *cached = NULL;
    if (conn->anchors == NULL || served_len == 0 || served_len > PINCURL_MAX_SERVED)
        return 0;
    *cached = pc_path_cache_get(conn->cache, served, served_len, conn->anchors->id,
                                (int64_t)time(NULL));
    if (*cached != NULL) {
        memcpy(path, (*cached)->certs, (*cached)->count * sizeof(path[0]));
        return (*cached)->count;
    }
    return ws_build(conn, served, served_len, path, cached);
}

/* The stand-in for wolfSSL's string comparison of an address host (see the top). 1 when
 * the chain verified and the leaf is valid for the address. */
static int ws_address_stands_in(pc_tls_conn *conn, WOLFSSL_X509_STORE_CTX *store, int depth)
{
    pincurl_cert_ref served[WS_MAX_SENT], path[PINCURL_MAX_PATH];
    const pc_path_entry *cached = NULL;
    WOLFSSL *ssl;
    size_t n, path_len;
    int ok;

    if (depth != 0 || wolfSSL_X509_STORE_CTX_get_error(store) != DOMAIN_NAME_MISMATCH ||
        !pincurl_host_is_ip(conn->host))
        return 0;
    ssl = wolfSSL_X509_STORE_CTX_get_ex_data(store, wolfSSL_get_ex_data_X509_STORE_CTX_idx());
    if (ssl == NULL || wolfSSL_get_verify_result(ssl) != 0 /* X509_V_OK */)
        return 0;
    n = ws_served(store, served);
    if (n == 0 || pincurl_cert_matches_host(served[0].der, served[0].len, conn->host) !=
                      PINCURL_OK)
        return 0;
    path_len = ws_path(conn, served, n, path, &cached);
    ok = path_len > 0;
    pc_path_cache_release(conn->cache, cached);
    return ok;
}

static void ws_record_error(pc_tls_conn *conn, WOLFSSL_X509_STORE_CTX *store)
{
    int err = wolfSSL_X509_STORE_CTX_get_error(store);
    int first = conn->cert_error == 0;

    if (first)
        conn->cert_error = err != 0 ? err : -1;
    if (conn->refusal == PINCURL_OK)
        conn->refusal = ws_is_host_error(err) ? PINCURL_HOST_MISMATCH : PINCURL_CERT_INVALID;
    /* A named host whose certificate failed validation: the evaluation of "no validated
     * path" (INVALID_CHAIN) is reported like any other, once per connection. */
    if (first && conn->mode == PC_TLS_MODE_EVALUATE && conn->policy != NULL &&
        conn->host[0] != '\0') {
        pincurl_cert_ref served[WS_MAX_SENT];
        size_t n = ws_served(store, served);
        (void)pincurl_evaluate(conn->policy, conn->host, conn->port, NULL, 0, served, n,
                               (int64_t)time(NULL), &conn->verdict);
        conn->verdict.decision = PINCURL_DECISION_BLOCK;
        conn->evaluated = 1;
        if (conn->on_verdict != NULL)
            conn->on_verdict(conn, &conn->verdict, NULL, 0, served, n);
    }
}

/* Depth 0 of a named host with a valid chain: path, host, evaluation, record. 1 to
 * continue. */
static int ws_decide(pc_tls_conn *conn, WOLFSSL_X509_STORE_CTX *store, WOLFSSL *ssl)
{
    pincurl_cert_ref served[WS_MAX_SENT];
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    size_t served_len, path_len;
    const pc_path_entry *cached = NULL;
    pincurl_verdict verdict;
    pincurl_status st;
    int allow, host_ok, host_known;
    uint64_t started = pc_tls_now_us();

    (void)wolfSSL_set_ex_data(ssl, ws_record_index, NULL);
    served_len = ws_served(store, served);

    /* The host, by pincurl, whatever the handle asked wolfSSL to check: remembered by the
     * cached path of these very bytes, else checked on the leaf. */
    if (served_len > 0 && served_len <= PINCURL_MAX_SERVED && conn->anchors != NULL)
        cached = pc_path_cache_get(conn->cache, served, served_len, conn->anchors->id,
                                   (int64_t)time(NULL));
    host_known = pc_path_cache_host_valid(conn->cache, cached, conn->host);
    host_ok = served_len > 0 &&
              (host_known || pincurl_cert_matches_host(served[0].der, served[0].len,
                                                        conn->host) == PINCURL_OK);
    if (!host_ok) {
        pc_path_cache_release(conn->cache, cached);
        wolfSSL_X509_STORE_CTX_set_error(store, DOMAIN_NAME_MISMATCH);
        ws_record_error(conn, store);
        return 0;
    }

    /* path_len 0 (no path to a trust anchor) evaluates to INVALID_CHAIN: refused. The pins
     * of a cached path were hashed from its certificates when it was stored. */
    if (cached != NULL) {
        path_len = cached->count;
        memcpy(path, cached->certs, path_len * sizeof(path[0]));
    } else {
        path_len = ws_build(conn, served, served_len, path, &cached);
    }
    if (cached != NULL && path_len > 0 && !host_known)
        pc_path_cache_note_host(conn->cache, cached, conn->host);
    st = pc_evaluate_pinned(conn->policy, conn->host, conn->port, path, path_len,
                            cached != NULL && cached->pinned && cached->count == path_len
                                ? cached->pins
                                : NULL,
                            served, served_len, (int64_t)time(NULL), &verdict);
    if (st != PINCURL_OK)
        verdict.decision = PINCURL_DECISION_BLOCK;
    conn->verdict = verdict;
    conn->evaluated = 1;
    conn->duration_us = pc_tls_now_us() - started;
    allow = st == PINCURL_OK && verdict.decision == PINCURL_DECISION_ALLOW;

    if (conn->on_verdict != NULL)
        conn->on_verdict(conn, &verdict, path, path_len, served, served_len);
    pc_path_cache_release(conn->cache, cached);

    if (allow) {
        uint64_t token = pc_tls_record_token(conn->owner, conn->generation, conn->host,
                                      conn->port);
        if (token == 0 || wolfSSL_set_ex_data(ssl, ws_record_index, (void *)(uintptr_t)token) !=
                              WOLFSSL_SUCCESS) {
            conn->refusal = PINCURL_PIN_CHECK_FAILED;
            return 0;
        }
        return 1;
    }
    if (st != PINCURL_OK)
        conn->refusal = PINCURL_PIN_CHECK_FAILED;
    else if (verdict.result == PINCURL_RESULT_POLICY_EXPIRED)
        conn->refusal = PINCURL_POLICY_EXPIRED;
    else if (verdict.result == PINCURL_RESULT_PIN_MISMATCH)
        conn->refusal = PINCURL_PIN_MISMATCH;
    else if (verdict.result == PINCURL_RESULT_INVALID_CHAIN)
        conn->refusal = PINCURL_CERT_INVALID;
    else
        conn->refusal = PINCURL_PIN_CHECK_FAILED;
    return 0;
}

/* wolfSSL calls this for the leaf (WOLFSSL_ALWAYS_VERIFY_CB) and for any certificate it
 * found an error in (top first, the leaf last); the chain comes with every call. */
static int ws_verify(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
    pc_tls_conn *conn;
    WOLFSSL *ssl;
    int depth;

    if (store == NULL)
        return 0;
    /* No state (a hook its transfer detached: the context outlived it), no decision */
    conn = pc_tls_hook_conn(store->userCtx);
    if (conn == NULL)
        return 0;
    /* Which peer this handshake is with, from libcurl's filter on the connection object */
    ssl = wolfSSL_X509_STORE_CTX_get_ex_data(store, wolfSSL_get_ex_data_X509_STORE_CTX_idx());
    if (ssl == NULL || pc_tls_conn_identify(conn, wolfSSL_get_app_data(ssl)) != 0)
        return 0;

    depth = wolfSSL_X509_STORE_CTX_get_error_depth(store);
    /* how many certificates this handshake received: the count that tells this
     * connection's own chain from a session's (ws_peer_chain) */
    conn->seen_count = store->totalCerts > 0 ? (size_t)store->totalCerts : 0;
    (void)wolfSSL_set_ex_data(ssl, ws_chain_index, (void *)(uintptr_t)conn->seen_count);
    if (conn->mode == PC_TLS_MODE_OBSERVE) {
        /* The peer the policy does not name, on a handle that turned verification off
         * (pincurl turned it on for the other peer, the named one): as the handle asked */
        if (!conn->app_verify)
            return 1;
        if (!preverify && conn->anchors != NULL && ws_address_stands_in(conn, store, depth)) {
            wolfSSL_X509_STORE_CTX_set_error(store, 0 /* X509_V_OK */);
            return 1;
        }
        if (!preverify)
            ws_record_error(conn, store);
        return preverify;
    }

    if (!preverify && ws_address_stands_in(conn, store, depth))
        preverify = 1;
    if (!preverify) {
        ws_record_error(conn, store);
        return 0;
    }
    if (depth != 0)
        return 1;
    if (conn->policy == NULL || conn->host[0] == '\0') {
        conn->refusal = PINCURL_PIN_CHECK_FAILED;
        return 0;
    }
    return ws_decide(conn, store, ssl);
}

static void ws_hook_cleanup(void *hook)
{
    pc_tls_hook_unref(hook);
}

static int ws_is_ip_peer(const pc_tls_peer *p)
{
    return p->known && pincurl_host_is_ip(p->host);
}

static pincurl_status ws_install(void *ssl_ctx, pc_tls_hook *hook)
{
    WOLFSSL_CTX *ctx = ssl_ctx;
    pc_tls_conn *conn = pc_tls_hook_conn(hook);
    int mode;

    if (ctx == NULL || conn == NULL || ws_global_init() != 0)
        return PINCURL_INTERNAL;
#ifdef HAVE_EXT_CACHE
    /* libcurl keeps the sessions it may resume (its own cache, through the new-session
     * callback). wolfSSL's process-wide internal cache would keep a second copy of every
     * session ticket, shared by all clients of the process: not used, not kept. */
    (void)wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_NO_INTERNAL);
#endif
    mode = wolfSSL_CTX_get_verify_mode(ctx);
    conn->app_verify = (mode & WOLFSSL_VERIFY_PEER) != 0;
    (void)wolfSSL_CTX_set_ex_data(ctx, ws_trust_index, NULL);
    /* conn->mode is EVALUATE when either peer this handshake may be with is named */
    if (conn->mode == PC_TLS_MODE_OBSERVE && !conn->app_verify && !conn->proxy_unknown)
        return PINCURL_OK; /* ordinary (no) validation as configured */
    if (conn->mode == PC_TLS_MODE_EVALUATE || conn->proxy_unknown ||
        ws_is_ip_peer(&conn->origin) || ws_is_ip_peer(&conn->proxy)) {
        pc_anchor_set_unref(conn->anchors);
        conn->anchors = ws_anchors(ctx, conn->registry);
        if (conn->anchors == NULL) {
            if (conn->mode == PC_TLS_MODE_EVALUATE || conn->proxy_unknown)
                return PINCURL_INTERNAL; /* no anchors, no path: refuse */
        } else if (wolfSSL_CTX_set_ex_data(ctx, ws_trust_index,
                                           (void *)(uintptr_t)conn->anchors->id) !=
                   WOLFSSL_SUCCESS) {
            pc_anchor_set_unref(conn->anchors);
            conn->anchors = NULL;
            if (conn->mode == PC_TLS_MODE_EVALUATE || conn->proxy_unknown)
                return PINCURL_INTERNAL;
        }
    }
    /* The context holds its own reference to the hook, dropped when it is freed. */
    if (wolfSSL_CTX_set_ex_data_with_cleanup(ctx, ws_hook_index, pc_tls_hook_ref(hook),
                                             ws_hook_cleanup) != WOLFSSL_SUCCESS) {
        pc_tls_hook_unref(hook);
        return PINCURL_INTERNAL;
    }
    /* A named peer is always validated: pins need a validated path. A proxy the handle
     * names itself is known only in its handshake: it may be named. */
    wolfSSL_CTX_set_verify(ctx,
                           conn->mode == PC_TLS_MODE_EVALUATE || conn->proxy_unknown
                               ? WOLFSSL_VERIFY_PEER
                               : mode,
                           ws_verify);
    wolfSSL_CTX_SetCertCbCtx(ctx, hook);
    return PINCURL_OK;
}

static int ws_has_allow_record(void *ssl, uint64_t token)
{
    if (ssl == NULL || token == 0 || ws_global_init() != 0)
        return 0;
    return (uintptr_t)wolfSSL_get_ex_data((WOLFSSL *)ssl, ws_record_index) == (uintptr_t)token;
}

/* With SESSION_CERTS the WOLFSSL object keeps the sent chain, also on a resumed session,
 * where it comes from the session. wolfSSL 5.7.2 appends what a TLS 1.3 full handshake
 * receives to the chain of a session it failed to resume (DoTls13Certificate does not reset
 * it, DoCertificate of TLS 1.2 does): the chain is this connection's own only as its last
 * `recorded` certificates, the count the verify callback saw (ws_verify). */
static size_t ws_peer_chain(void *ssl, pincurl_cert_ref *out, size_t max, int *own)
{
    WOLFSSL_X509_CHAIN *chain;
    int count, start = 0;
    size_t recorded;

    if (own != NULL)
        *own = 0;
    if (ssl == NULL || out == NULL || ws_global_init() != 0)
        return 0;
    chain = wolfSSL_get_peer_chain((WOLFSSL *)ssl);
    if (chain == NULL)
        return 0;
    count = wolfSSL_get_chain_count(chain);
    if (count <= 0)
        return 0;
    recorded = (size_t)(uintptr_t)wolfSSL_get_ex_data((WOLFSSL *)ssl, ws_chain_index);
    if (recorded > 0 && recorded <= (size_t)count && !wolfSSL_session_reused((WOLFSSL *)ssl)) {
        start = count - (int)recorded;
        if (own != NULL)
            *own = 1;
    }
    if ((size_t)(count - start) > max)
        return 0;
    for (int i = start; i < count; i++) {
        const unsigned char *der = wolfSSL_get_chain_cert(chain, i);
        int len = wolfSSL_get_chain_length(chain, i);
        if (der == NULL || len <= 0)
            return 0;
        out[i - start].der = der;
        out[i - start].len = (size_t)len;
    }
    return (size_t)(count - start);
}

static void *ws_app_data(void *ssl)
{
    return ssl != NULL ? wolfSSL_get_app_data((WOLFSSL *)ssl) : NULL;
}

static int ws_set_allow_record(void *ssl, uint64_t token)
{
    if (ssl == NULL || token == 0 || ws_global_init() != 0)
        return -1;
    return wolfSSL_set_ex_data((WOLFSSL *)ssl, ws_record_index, (void *)(uintptr_t)token) ==
                   WOLFSSL_SUCCESS
               ? 0
               : -1;
}

static uint64_t ws_trust_id(void *ssl)
{
    WOLFSSL_CTX *ctx;
    if (ssl == NULL || ws_global_init() != 0)
        return 0;
    ctx = wolfSSL_get_SSL_CTX((WOLFSSL *)ssl);
    return ctx != NULL ? (uint64_t)(uintptr_t)wolfSSL_CTX_get_ex_data(ctx, ws_trust_index) : 0;
}

static int ws_handshake_done(void *ssl)
{
    return ssl != NULL && wolfSSL_is_init_finished((WOLFSSL *)ssl) ? 1 : 0;
}

static size_t ws_build_path(void *ssl, pc_anchor_registry *registry,
                            const pincurl_cert_ref *served, size_t served_len,
                            unsigned char **path_der, size_t *path_len)
{
    WOLFSSL_CTX *ctx = ssl != NULL ? wolfSSL_get_SSL_CTX((WOLFSSL *)ssl) : NULL;
    pc_anchor_set *anchors = ctx != NULL ? ws_anchors(ctx, registry) : NULL;
    pincurl_trust trust = {pc_anchor_set_by_subject, ws_verify_signature, anchors};
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    size_t n = 0, copied = 0;

    if (anchors != NULL && served_len > 0 && served_len <= PINCURL_MAX_SERVED &&
        pincurl_path_build(served, served_len, &trust, (int64_t)time(NULL), path,
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
    pc_anchor_set_unref(anchors);
    return copied;
}

const pc_tls_backend pc_tls_wolfssl = {
    .name = "wolfssl",
    .caps = PC_TLS_CAP_PATH | PC_TLS_CAP_SERVED,
    .curl_backend = CURLSSLBACKEND_WOLFSSL,
    .global_init = ws_global_init,
    .install = ws_install,
    .has_allow_record = ws_has_allow_record,
    .error_text = ws_error_text,
    .peer_chain = ws_peer_chain,
    .app_data = ws_app_data,
    .set_allow_record = ws_set_allow_record,
    .trust_id = ws_trust_id,
    .handshake_done = ws_handshake_done,
    .build_path = ws_build_path,
};
