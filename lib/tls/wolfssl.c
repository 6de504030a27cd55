/*
 * The wolfSSL backend.
 *
 * curl's wolfSSL backend creates one WOLFSSL_CTX per connection and hands it to
 * CURLOPT_SSL_CTX_FUNCTION, where install() sets a verify callback. wolfSSL calls it once
 * per certificate the server sent, top first, the leaf (depth 0) last. The callback keeps a
 * copy of each sent certificate (the served chain). At depth 0, when validation succeeded,
 * it builds the validated path by walking issuers from the leaf through the trust store
 * (wolfSSL_X509_STORE_CTX_get1_issuer) up to a self-signed certificate: the sent chain is
 * never pinned against, so a chain padded with genuine certificates cannot pass. The path
 * goes to pincurl_evaluate(); the callback returns preverify && ALLOW.
 *
 * An ALLOW is recorded on the WOLFSSL object as ex data: a token derived from the deciding
 * client, the host and the port. It holds no memory (wolfSSL 5.5 calls no ex data free
 * hooks), and a WOLFSSL object allocated later at the same address starts with zeroed ex
 * data, so a record can neither leak nor outlive its connection.
 *
 * wolfSSL_X509_STORE_CTX_get_chain() is never called: in 5.5.4 it makes get1_issuer()
 * return the certificate itself.
 */
#include "tls/tls.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include <curl/curl.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Longest certificate accepted into the scratch, and most certificates per chain. */
#define WS_MAX_CERT_BYTES (64u * 1024u)
#define WS_MAX_SENT 32u

static pthread_once_t ws_once = PTHREAD_ONCE_INIT;
static int ws_record_index = -1;

static void ws_init_once(void)
{
    /* Index 0 is the application data slot (wolfSSL_set_app_data), which libcurl uses for
     * its own pointer without allocating it: never share it. */
    int idx = wolfSSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    if (idx == 0)
        idx = wolfSSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    ws_record_index = idx > 0 ? idx : -1;
}

static int ws_global_init(void)
{
    pthread_once(&ws_once, ws_init_once);
    return ws_record_index >= 0 ? 0 : -1;
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

static int ws_record_sent(pc_tls_conn *conn, WOLFSSL_X509 *cert)
{
    int len = 0;
    const unsigned char *der = cert != NULL ? wolfSSL_X509_get_der(cert, &len) : NULL;
    unsigned char *copy;

    if (der == NULL || len <= 0 || (unsigned)len > WS_MAX_CERT_BYTES)
        return -1;
    if (conn->sent_count == conn->sent_cap) {
        size_t cap = conn->sent_cap ? conn->sent_cap * 2 : 4;
        unsigned char **d;
        size_t *l;
        if (cap > WS_MAX_SENT)
            return -1;
        d = realloc(conn->sent_der, cap * sizeof(*d));
        if (d == NULL)
            return -1;
        conn->sent_der = d;
        l = realloc(conn->sent_len, cap * sizeof(*l));
        if (l == NULL)
            return -1;
        conn->sent_len = l;
        conn->sent_cap = cap;
    }
    copy = malloc((size_t)len);
    if (copy == NULL)
        return -1;
    memcpy(copy, der, (size_t)len);
    conn->sent_der[conn->sent_count] = copy;
    conn->sent_len[conn->sent_count] = (size_t)len;
    conn->sent_count++;
    return 0;
}

static int ws_self_signed(WOLFSSL_X509 *x)
{
    WOLFSSL_X509_NAME *subject = wolfSSL_X509_get_subject_name(x);
    WOLFSSL_X509_NAME *issuer = wolfSSL_X509_get_issuer_name(x);
    return subject != NULL && issuer != NULL && wolfSSL_X509_NAME_cmp(subject, issuer) == 0;
}

/* The validated path from leaf up to the trust anchor: DER copies into path[] (caller
 * frees each). Returns the count, or 0 if the walk failed. */
static size_t ws_walk(WOLFSSL_X509_STORE_CTX *store, WOLFSSL_X509 *leaf,
                      unsigned char **der, size_t *len)
{
    WOLFSSL_X509 *cur = leaf; /* borrowed for the leaf, owned afterwards */
    size_t n = 0;
    int ok = 0;

    for (;;) {
        int l = 0;
        const unsigned char *d = wolfSSL_X509_get_der(cur, &l);
        WOLFSSL_X509 *issuer = NULL;

        if (d == NULL || l <= 0 || n >= PINCURL_MAX_PATH)
            break;
        /* A certificate the store returns as its own issuer ends the walk. */
        if (n > 0 && (size_t)l == len[n - 1] && memcmp(d, der[n - 1], (size_t)l) == 0) {
            ok = 1;
            break;
        }
        der[n] = malloc((size_t)l);
        if (der[n] == NULL)
            break;
        memcpy(der[n], d, (size_t)l);
        len[n] = (size_t)l;
        n++;
        if (ws_self_signed(cur)) {
            ok = 1;
            break;
        }
        if (wolfSSL_X509_STORE_CTX_get1_issuer(&issuer, store, cur) != WOLFSSL_SUCCESS ||
            issuer == NULL) {
            /* A certificate that came from the trust store without an issuer there is a
             * trust anchor; the leaf itself never is. */
            ok = n > 1;
            break;
        }
        if (cur != leaf)
            wolfSSL_X509_free(cur);
        cur = issuer;
    }
    if (cur != leaf)
        wolfSSL_X509_free(cur);
    if (!ok) {
        for (size_t i = 0; i < n; i++)
            free(der[i]);
        return 0;
    }
    return n;
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
        size_t n = conn->sent_count;
        for (size_t i = 0; i < n; i++) {
            served[i].der = conn->sent_der[n - 1 - i];
            served[i].len = conn->sent_len[n - 1 - i];
        }
        (void)pincurl_evaluate(conn->policy, conn->host, conn->port, NULL, 0, served, n,
                               (int64_t)time(NULL), &conn->verdict);
        conn->verdict.decision = PINCURL_DECISION_BLOCK;
        conn->evaluated = 1;
        if (conn->on_verdict != NULL)
            conn->on_verdict(conn, &conn->verdict, NULL, 0, served, n);
    }
}

/* Depth 0 of a named host with a valid chain: path, evaluation, record. 1 to continue. */
static int ws_decide(pc_tls_conn *conn, WOLFSSL_X509_STORE_CTX *store, WOLFSSL_X509 *leaf)
{
    pincurl_cert_ref served[WS_MAX_SENT];
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    unsigned char *walk_der[PINCURL_MAX_PATH];
    size_t walk_len[PINCURL_MAX_PATH];
    size_t served_len = conn->sent_count, path_len = 0, walked = 0;
    unsigned char key[32];
    int have_key;
    const pc_path_entry *cached = NULL;
    pincurl_verdict verdict;
    pincurl_status st;
    WOLFSSL *ssl;
    int allow;
    uint64_t started = pc_tls_now_us();

    /* The served chain, leaf first (the callback saw it top first). */
    for (size_t i = 0; i < served_len; i++) {
        served[i].der = conn->sent_der[served_len - 1 - i];
        served[i].len = conn->sent_len[served_len - 1 - i];
    }
    have_key = served_len > 0 && pc_path_cache_key(served, served_len, key) == 0;
    if (have_key)
        cached = pc_path_cache_get(conn->cache, key);
    if (cached != NULL) {
        path_len = cached->count;
        memcpy(path, cached->certs, path_len * sizeof(path[0]));
    } else {
        walked = ws_walk(store, leaf, walk_der, walk_len);
        for (size_t i = 0; i < walked; i++) {
            path[i].der = walk_der[i];
            path[i].len = walk_len[i];
        }
        path_len = walked;
        if (walked > 0 && have_key)
            (void)pc_path_cache_put(conn->cache, key, path, path_len);
    }

    /* path_len 0 (the walk failed) evaluates to INVALID_CHAIN: refused. */
    st = pincurl_evaluate(conn->policy, conn->host, conn->port, path, path_len, served,
                          served_len, (int64_t)time(NULL), &verdict);
    if (st != PINCURL_OK)
        verdict.decision = PINCURL_DECISION_BLOCK;
    conn->verdict = verdict;
    conn->evaluated = 1;
    conn->duration_us = pc_tls_now_us() - started;
    allow = st == PINCURL_OK && verdict.decision == PINCURL_DECISION_ALLOW;

    if (conn->on_verdict != NULL)
        conn->on_verdict(conn, &verdict, path, path_len, served, served_len);

    pc_path_cache_release(conn->cache, cached);
    for (size_t i = 0; i < walked; i++)
        free(walk_der[i]);

    ssl = wolfSSL_X509_STORE_CTX_get_ex_data(store, wolfSSL_get_ex_data_X509_STORE_CTX_idx());
    if (allow) {
        uint64_t token =
            pc_tls_record_token(conn->owner, conn->generation, conn->host, conn->port);
        if (ssl == NULL || token == 0 || ws_record_index < 0 ||
            wolfSSL_set_ex_data(ssl, ws_record_index, (void *)(uintptr_t)token) !=
                WOLFSSL_SUCCESS) {
            conn->refusal = PINCURL_PIN_CHECK_FAILED;
            return 0;
        }
        return 1;
    }
    if (ssl != NULL && ws_record_index >= 0)
        (void)wolfSSL_set_ex_data(ssl, ws_record_index, NULL);
    if (st != PINCURL_OK)
        conn->refusal = PINCURL_PIN_CHECK_FAILED;
    else if (verdict.result == PINCURL_RESULT_POLICY_EXPIRED)
        conn->refusal = PINCURL_POLICY_EXPIRED;
    else if (verdict.result == PINCURL_RESULT_PIN_MISMATCH)
        conn->refusal = PINCURL_PIN_MISMATCH;
    else
        conn->refusal = PINCURL_PIN_CHECK_FAILED;
    return 0;
}

static int ws_verify(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
    pc_tls_conn *conn;
    WOLFSSL_X509 *cert;
    int depth;

    if (store == NULL)
        return 0;
    conn = store->userCtx;
    if (conn == NULL)
        return 0; /* no state: nothing can be decided, refuse */

    if (conn->mode == PC_TLS_MODE_OBSERVE) {
        if (!preverify)
            ws_record_error(conn, store);
        return preverify;
    }

    cert = wolfSSL_X509_STORE_CTX_get_current_cert(store);
    depth = wolfSSL_X509_STORE_CTX_get_error_depth(store);
    if (!conn->scratch_failed && ws_record_sent(conn, cert) != 0)
        conn->scratch_failed = 1;
    if (!preverify) {
        ws_record_error(conn, store);
        return 0;
    }
    if (conn->scratch_failed) {
        if (conn->refusal == PINCURL_OK)
            conn->refusal = PINCURL_PIN_CHECK_FAILED;
        return 0;
    }
    if (depth != 0)
        return 1;
    if (cert == NULL || conn->policy == NULL || conn->host[0] == '\0') {
        conn->refusal = PINCURL_PIN_CHECK_FAILED;
        return 0;
    }
    return ws_decide(conn, store, cert);
}

static pincurl_status ws_install(void *ssl_ctx, pc_tls_conn *conn)
{
    WOLFSSL_CTX *ctx = ssl_ctx;
    int mode;

    if (ctx == NULL || conn == NULL || ws_global_init() != 0)
        return PINCURL_INTERNAL;
    mode = wolfSSL_CTX_get_verify_mode(ctx);
    if (conn->mode == PC_TLS_MODE_OBSERVE) {
        /* Ordinary validation as configured; only watch for errors when it is on. */
        if (!(mode & WOLFSSL_VERIFY_PEER))
            return PINCURL_OK;
        wolfSSL_CTX_set_verify(ctx, mode, ws_verify);
    } else {
        /* A named host is always validated: pins need a validated path. */
        wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, ws_verify);
    }
    wolfSSL_CTX_SetCertCbCtx(ctx, conn);
    return PINCURL_OK;
}

static int ws_has_allow_record(void *ssl, uint64_t owner, uint64_t generation,
                               const char *host, unsigned port)
{
    uint64_t token;
    void *rec;

    if (ssl == NULL || host == NULL || ws_global_init() != 0)
        return 0;
    rec = wolfSSL_get_ex_data((WOLFSSL *)ssl, ws_record_index);
    if (rec == NULL)
        return 0;
    token = pc_tls_record_token(owner, generation, host, port);
    return token != 0 && (uintptr_t)rec == (uintptr_t)token;
}

/* With SESSION_CERTS (Debian's build has it) the WOLFSSL object keeps the sent chain,
 * also on a resumed session, where it comes from the session. */
static size_t ws_peer_chain(void *ssl, pincurl_cert_ref *out, size_t max)
{
    WOLFSSL_X509_CHAIN *chain;
    int count;

    if (ssl == NULL || out == NULL)
        return 0;
    chain = wolfSSL_get_peer_chain((WOLFSSL *)ssl);
    if (chain == NULL)
        return 0;
    count = wolfSSL_get_chain_count(chain);
    if (count <= 0 || (size_t)count > max)
        return 0;
    for (int i = 0; i < count; i++) {
        const unsigned char *der = wolfSSL_get_chain_cert(chain, i);
        int len = wolfSSL_get_chain_length(chain, i);
        if (der == NULL || len <= 0)
            return 0;
        out[i].der = der;
        out[i].len = (size_t)len;
    }
    return (size_t)count;
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

const pc_tls_backend pc_tls_wolfssl = {
    .name = "wolfssl",
    .caps = PC_TLS_CAP_PATH | PC_TLS_CAP_SERVED,
    .curl_backend = CURLSSLBACKEND_WOLFSSL,
    .global_init = ws_global_init,
    .install = ws_install,
    .has_allow_record = ws_has_allow_record,
    .error_text = ws_error_text,
    .peer_chain = ws_peer_chain,
    .set_allow_record = ws_set_allow_record,
};
