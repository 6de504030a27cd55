/*
 * The pin hooks on an easy handle, shared by the client and attach.
 *
 * CURLOPT_SSL_CTX_FUNCTION runs for every new TLS connection: it takes the host and port
 * of the hop being connected from CURLINFO_EFFECTIVE_URL (so redirects and proxies are
 * decided per connection) and lets the backend hook the handshake.
 * CURLOPT_PREREQFUNCTION runs before every request, on new and reused connections: for a
 * pinned host it refuses cleartext and requires the ALLOW record this client's backend
 * left on the connection.
 */
#include "http/http.h"

#include "config/file.h"
#include "core/detail.h"
#include "core/policy_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pincurl_status url_parse(const char *url, char *scheme, char *host, unsigned *port)
{
    CURLU *u;
    char *s = NULL, *h = NULL, *p = NULL;
    pincurl_status st = PINCURL_BAD_URL;

    host[0] = '\0';
    scheme[0] = '\0';
    *port = 0;
    if (url == NULL)
        return PINCURL_BAD_URL;
    u = curl_url();
    if (u == NULL)
        return PINCURL_OUT_OF_MEMORY;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &s, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK &&
        strlen(s) < 16) {
        char *end = NULL;
        unsigned long n = strtoul(p, &end, 10);
        if (end != p && *end == '\0' && n > 0 && n <= 65535) {
            snprintf(scheme, 16, "%s", s);
            *port = (unsigned)n;
            st = pincurl_host_normalize(h, strlen(h), host, PINCURL_HOST_MAX + 1);
            if (st == PINCURL_BUFFER_TOO_SMALL)
                st = PINCURL_HOST_INVALID;
        }
    }
    curl_free(s);
    curl_free(h);
    curl_free(p);
    curl_url_cleanup(u);
    if (st != PINCURL_OK)
        host[0] = '\0';
    return st;
}

/* The last URL this thread parsed and its parse: a pure function of the string, compared
 * exactly, so a thread's requests to one URL parse it once. Fixed buffers, nothing to free
 * when the thread ends; a longer URL is parsed every time. */
#define PC_URL_MEMO_MAX 512
static _Thread_local struct {
    int valid;
    char url[PC_URL_MEMO_MAX];
    char scheme[16];
    char host[PINCURL_HOST_MAX + 1];
    unsigned port;
} url_memo;

pincurl_status pc_url_target(const char *url, char *scheme, char *host, unsigned *port)
{
    pincurl_status st;
    size_t n;

    if (url != NULL && url_memo.valid && strcmp(url, url_memo.url) == 0) {
        memcpy(scheme, url_memo.scheme, sizeof(url_memo.scheme));
        memcpy(host, url_memo.host, sizeof(url_memo.host));
        *port = url_memo.port;
        return PINCURL_OK;
    }
    st = url_parse(url, scheme, host, port);
    if (st == PINCURL_OK && (n = strlen(url)) < sizeof(url_memo.url)) {
        memcpy(url_memo.url, url, n + 1);
        memcpy(url_memo.scheme, scheme, sizeof(url_memo.scheme));
        memcpy(url_memo.host, host, sizeof(url_memo.host));
        url_memo.port = *port;
        url_memo.valid = 1;
    }
    return st;
}

int pc_host_pinned(const pincurl_policy *policy, const char *host)
{
    const pincurl_domain *d;
    if (policy == NULL || host == NULL || host[0] == '\0')
        return 0;
    d = pincurl_policy_lookup(policy, host, strlen(host));
    return d != NULL && !(pincurl_domain_flags(d) & PINCURL_DOMAIN_EXCLUDE);
}

/* pc_url_target for the hooks: the caller's own parse while url is the request's URL
 * (client), else pc_url_target (which remembers this thread's last parse). */
static pincurl_status target_of(pc_pin_state *s, const char *url, char *scheme, char *host,
                                unsigned *port)
{
    if (s->known_url != NULL && strcmp(url, s->known_url) == 0) {
        memcpy(scheme, s->known_scheme, sizeof(s->known_scheme));
        memcpy(host, s->known_host, sizeof(s->known_host));
        *port = s->known_port;
        return PINCURL_OK;
    }
    return pc_url_target(url, scheme, host, port);
}

/* pc_host_pinned(s->policy, s->host), remembered for the generation (a policy never
 * changes; a new one comes with a new generation). */
static int host_pinned(pc_pin_state *s)
{
    size_t n = strlen(s->host);
    if (s->pinned_known && s->pinned_gen == s->generation && strcmp(s->pinned_host, s->host) == 0)
        return s->pinned;
    s->pinned = pc_host_pinned(s->policy, s->host);
    s->pinned_known = n < sizeof(s->pinned_host);
    if (s->pinned_known) {
        memcpy(s->pinned_host, s->host, n + 1);
        s->pinned_gen = s->generation;
    }
    return s->pinned;
}

char *pc_failure_line(const char *host, unsigned port, pincurl_status st, const char *reason)
{
    const char *name = pincurl_status_name(st);
    int ipv6 = host != NULL && strchr(host, ':') != NULL;
    int n = snprintf(NULL, 0, "pincurl: %s%s%s:%u: %s: %s%s%s", ipv6 ? "[" : "",
                     host != NULL ? host : "?", ipv6 ? "]" : "", port, name ? name : "?",
                     pincurl_strerror(st), reason != NULL ? ": " : "",
                     reason != NULL ? reason : "");
    char *line;
    if (n < 0)
        return NULL;
    line = malloc((size_t)n + 1);
    if (line != NULL)
        snprintf(line, (size_t)n + 1, "pincurl: %s%s%s:%u: %s: %s%s%s", ipv6 ? "[" : "",
                 host != NULL ? host : "?", ipv6 ? "]" : "", port, name ? name : "?",
                 pincurl_strerror(st), reason != NULL ? ": " : "",
                 reason != NULL ? reason : "");
    return line;
}

static void set_detail(pc_pin_state *s, char *detail)
{
    free(s->detail);
    s->detail = detail;
}

/* A request passed its check: what earlier handshakes or requests refused is over. */
static void pass(pc_pin_state *s)
{
    s->passed++;
    s->refusal = PINCURL_OK;
    s->conn.refusal = PINCURL_OK;
    s->conn.cert_error = 0;
    set_detail(s, NULL);
}

static void refuse(pc_pin_state *s, pincurl_status st, const char *reason)
{
    s->refusal = st;
    set_detail(s, pc_failure_line(s->host, s->port, st, reason));
}

/* Inside the handshake, after every evaluation: keep the verdict, format the detail of a
 * refusal and tell the application. */
static void on_verdict(pc_tls_conn *conn, const pincurl_verdict *verdict,
                       const pincurl_cert_ref *path, size_t path_len,
                       const pincurl_cert_ref *served, size_t served_len)
{
    pc_pin_state *s = conn->user;
    char *detail = NULL;
    pincurl_event ev;

    s->have_verdict = 1;
    s->verdict = *verdict;
    if (s->verdict_policy != s->policy) {
        pincurl_policy_unref(s->verdict_policy);
        s->verdict_policy = pincurl_policy_ref(s->policy);
    }
    if (verdict->decision != PINCURL_DECISION_ALLOW) {
        if (path_len == 0 && conn->cert_error != 0) {
            char reason[200];
            pincurl_status st = conn->refusal != PINCURL_OK ? conn->refusal
                                                            : PINCURL_CERT_INVALID;
            snprintf(reason, sizeof(reason), "%s error %d: %s", s->client->backend->name,
                     conn->cert_error, s->client->backend->error_text(conn->cert_error));
            detail = pc_failure_line(conn->host, conn->port, st, reason);
        } else if (pc_detail_pin_failure(NULL, s->policy, verdict, conn->host, conn->port,
                                         path, path_len, served, served_len,
                                         &detail) != PINCURL_OK) {
            detail = NULL;
        }
        set_detail(s, detail);
    }
    memset(&ev, 0, sizeof(ev));
    ev.kind = PINCURL_EVENT_VALIDATION;
    ev.host = conn->host;
    ev.port = conn->port;
    ev.verdict = verdict;
    ev.path_len = path_len;
    ev.path = path;
    ev.served_len = served_len;
    ev.served = served;
    ev.duration_us = conn->duration_us;
    ev.generation = s->generation;
    ev.message = verdict->decision == PINCURL_DECISION_ALLOW || s->detail == NULL
                     ? ""
                     : s->detail;
    pc_client_emit(s->client, &ev);
    if (path_len > 0 && verdict->pinned)
        pc_monitor_observe(s->client, &ev, pc_client_now(s->client));
    /* on disk before the request returns */
    pc_reports_submit(s->client, s->policy, &ev);
}

/* Every new connection and every request decides with the policy in force at that moment:
 * after pincurl_client_set_policy(), take the new generation. */
static void refresh_policy(pc_pin_state *s)
{
    uint64_t gen = pincurl_client_generation(s->client);
    pincurl_policy *p;

    if (gen == s->generation && s->policy != NULL)
        return;
    p = pc_client_snapshot(s->client, &gen);
    pincurl_policy_unref(s->policy);
    s->policy = p;
    s->generation = gen;
}

/* A hook for the handshake about to start on ssl_ctx: the context and this transfer hold
 * it; the transfer detaches it when it ends (pc_pin_state_cleanup). */
static pincurl_status hook_handshake(pc_pin_state *s, void *ssl_ctx)
{
    pc_tls_hook *hook;
    pincurl_status st;

    if (s->hook_count == s->hook_cap) {
        /* hooks only this state still holds belong to contexts already freed */
        size_t kept = 0;
        for (size_t i = 0; i < s->hook_count; i++) {
            if (atomic_load(&s->hooks[i]->refs) == 1)
                pc_tls_hook_unref(s->hooks[i]);
            else
                s->hooks[kept++] = s->hooks[i];
        }
        s->hook_count = kept;
    }
    if (s->hook_count == s->hook_cap) {
        size_t cap = s->hook_cap ? s->hook_cap * 2 : 4;
        pc_tls_hook **grown = realloc(s->hooks, cap * sizeof(*grown));
        if (grown == NULL)
            return PINCURL_OUT_OF_MEMORY;
        s->hooks = grown;
        s->hook_cap = cap;
    }
    hook = pc_tls_hook_new(&s->conn);
    if (hook == NULL)
        return PINCURL_OUT_OF_MEMORY;
    s->hooks[s->hook_count++] = hook;
    st = s->client->backend->install(ssl_ctx, hook);
    return st;
}

static CURLcode ssl_ctx_hook(CURL *easy, void *ssl_ctx, void *userptr)
{
    pc_pin_state *s = userptr;
    char *url = NULL;
    char scheme[16];
    pincurl_status st;
    const pincurl_domain *domain = NULL;

    if (s == NULL || s->client == NULL)
        return CURLE_SSL_CONNECT_ERROR;
    if (easy != s->easy) {
        /* Another handle with our hooks: one libcurl derived from ours (DNS-over-HTTPS
         * copies this callback), or the application's copy of an attached handle
         * (curl_easy_duphandle), maybe on another thread while the attached handle runs on
         * its own: nothing of s but its client is read, nothing but the atomic count
         * written. It gets ordinary validation, and a host the policy names is refused:
         * nothing was attached to it. */
        char host[PINCURL_HOST_MAX + 1];
        unsigned port = 0;
        uint64_t generation = 0;
        pincurl_policy *policy = pc_client_snapshot(s->client, &generation);
        int named = 1;
        if (policy != NULL && curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK &&
            url != NULL && pc_url_target(url, scheme, host, &port) == PINCURL_OK)
            named = pincurl_policy_lookup(policy, host, strlen(host)) != NULL;
        pincurl_policy_unref(policy);
        if (named) {
            atomic_fetch_add(&s->copies_refused, 1u);
            return CURLE_SSL_CONNECT_ERROR;
        }
        return CURLE_OK;
    }
    /* a new connection: what an earlier transfer on this handle recorded is over */
    refresh_policy(s);
    s->refusal = PINCURL_OK;
    set_detail(s, NULL);

    /* The hop's origin, from libcurl's own idea of this hop; the proxy, from the route
     * pincurl configured. Which of the two this handshake is with, the backend reads from
     * the connection object in the handshake (pc_tls_conn_identify). */
    if (curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || url == NULL ||
        target_of(s, url, scheme, s->host, &s->port) != PINCURL_OK) {
        /* Without the host nothing can be decided: refuse. */
        (void)pc_tls_conn_begin(&s->conn, NULL, 0, 0, PC_TLS_MODE_EVALUATE);
        refuse(s, PINCURL_PIN_CHECK_FAILED, "the connection's host is not known");
        return CURLE_SSL_CONNECT_ERROR;
    }
    if (s->policy != NULL)
        domain = pincurl_policy_lookup(s->policy, s->host, strlen(s->host));
    st = pc_tls_conn_begin(&s->conn, s->host, strlen(s->host), s->port,
                           domain != NULL ? PC_TLS_MODE_EVALUATE : PC_TLS_MODE_OBSERVE);
    s->conn.policy = s->policy;
    s->conn.owner = s->client->id;
    s->conn.generation = s->generation;
    s->conn.cache = s->client->cache;
    s->conn.registry = s->client->anchors;
    s->conn.on_verdict = on_verdict;
    s->conn.user = s;
    memset(&s->conn.origin, 0, sizeof(s->conn.origin));
    memset(&s->conn.proxy, 0, sizeof(s->conn.proxy));
    /* an attached handle's proxy is the application's: read from the connection */
    s->conn.proxy_unknown = s->route == NULL;
    if (st == PINCURL_OK) {
        s->conn.origin.known = 1;
        memcpy(s->conn.origin.host, s->conn.host, sizeof(s->conn.origin.host));
        s->conn.origin.port = s->conn.port;
        s->conn.origin.mode = s->conn.mode;
        if (s->route != NULL && s->route->kind == PC_PROXY_HTTPS) {
            pc_tls_peer *p = &s->conn.proxy;
            p->known = 1;
            memcpy(p->host, s->route->host, sizeof(p->host));
            p->port = s->route->port;
            p->mode = s->policy != NULL &&
                              pincurl_policy_lookup(s->policy, p->host, strlen(p->host)) != NULL
                          ? PC_TLS_MODE_EVALUATE
                          : PC_TLS_MODE_OBSERVE;
            if (p->mode == PC_TLS_MODE_EVALUATE)
                s->conn.mode = PC_TLS_MODE_EVALUATE; /* either may be the one */
        }
        st = hook_handshake(s, ssl_ctx);
    }
    if (st != PINCURL_OK) {
        refuse(s, PINCURL_PIN_CHECK_FAILED, "the handshake could not be hooked");
        return CURLE_SSL_CONNECT_ERROR;
    }
    return CURLE_OK;
}

/* Re-decides a connection from the chain it remembers: a resumed session (the verify
 * callback does not run then), or a connection kept from an earlier generation or from a
 * time the host was not named. Only a handshake the TLS library completed is decided
 * (never one it failed); the validated path is the one this client built for that chain and
 * trust store (the path cache), or, when it has none, built now from the chain and the
 * connection's trust store; the host is checked by pincurl. 1 to continue. */
static int reverify(pc_pin_state *s, void *ssl)
{
    const pc_tls_backend *b = s->client->backend;
    pincurl_cert_ref served[PINCURL_MAX_PATH * 2];
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    unsigned char *built_der[PINCURL_MAX_PATH];
    size_t built_len[PINCURL_MAX_PATH];
    size_t served_len = 0, path_len = 0, built = 0;
    int own = 0;
    uint64_t trust_id = 0;
    const pc_path_entry *entry = NULL;
    pincurl_verdict verdict;
    pincurl_status st;
    uint64_t started = pc_tls_now_us();
    int allow, host_known;

    (void)pc_tls_conn_begin(&s->conn, s->host, strlen(s->host), s->port, PC_TLS_MODE_EVALUATE);
    s->conn.role = PC_TLS_ROLE_ORIGIN;
    s->conn.policy = s->policy;
    s->conn.owner = s->client->id;
    s->conn.generation = s->generation;
    s->conn.cache = s->client->cache;
    s->conn.registry = s->client->anchors;
    s->conn.on_verdict = on_verdict;
    s->conn.user = s;
    if (b->handshake_done == NULL || !b->handshake_done(ssl)) {
        refuse(s, PINCURL_PIN_CHECK_FAILED, "the connection's TLS handshake did not complete");
        s->retire = 1;
        return 0;
    }
    if (b->peer_chain != NULL)
        served_len = b->peer_chain(ssl, served, sizeof(served) / sizeof(served[0]), &own);
    /* the path cached for this chain and this connection's trust store only */
    if (served_len > 0 && b->trust_id != NULL) {
        trust_id = b->trust_id(ssl);
        entry = pc_path_cache_get(s->client->cache, served, served_len, trust_id,
                                  (int64_t)time(NULL));
    }
    if (entry != NULL) {
        path_len = entry->count;
        memcpy(path, entry->certs, path_len * sizeof(path[0]));
    } else if (served_len > 0 && own && b->build_path != NULL) {
        /* the chain this connection's own full handshake received (never a session's,
         * which the TLS library may have mixed with another's) */
        built = b->build_path(ssl, s->client->anchors, served, served_len, built_der,
                              built_len);
        for (size_t i = 0; i < built; i++) {
            path[i].der = built_der[i];
            path[i].len = built_len[i];
        }
        path_len = built;
        if (built > 0)
            (void)pc_path_cache_put(s->client->cache, served, served_len, trust_id, path,
                                    path_len, NULL);
    }
    if (path_len == 0) {
        /* no validated path for the chain the connection remembers (wolfSSL may append a
         * failed resumption's chain to the new session's): refuse, and let the caller
         * decide afresh in a full handshake */
        s->retry_fresh = 1;
        refuse(s, PINCURL_PIN_CHECK_FAILED,
               "the connection's remembered chain has no validated path to a trust anchor of "
               "its trust store");
        s->retire = 1;
        return 0;
    }
    /* the leaf of a cached path may be known valid for this host already */
    host_known = pc_path_cache_host_valid(s->client->cache, entry, s->host);
    if (!host_known &&
        pincurl_cert_matches_host(path[0].der, path[0].len, s->host) != PINCURL_OK) {
        for (size_t i = 0; i < built; i++)
            free(built_der[i]);
        pc_path_cache_release(s->client->cache, entry);
        refuse(s, PINCURL_HOST_MISMATCH, "the connection's certificate is not valid for the host");
        s->conn.refusal = PINCURL_HOST_MISMATCH;
        s->retire = 1;
        return 0;
    }
    if (!host_known)
        pc_path_cache_note_host(s->client->cache, entry, s->host);
    st = pc_evaluate_pinned(s->policy, s->host, s->port, path, path_len,
                            entry != NULL && entry->pinned ? entry->pins : NULL, served,
                            served_len, pc_client_now(s->client), &verdict);
    if (st != PINCURL_OK)
        verdict.decision = PINCURL_DECISION_BLOCK;
    allow = st == PINCURL_OK && verdict.decision == PINCURL_DECISION_ALLOW;
    s->conn.verdict = verdict;
    s->conn.evaluated = 1;
    s->conn.duration_us = pc_tls_now_us() - started;
    on_verdict(&s->conn, &verdict, path, path_len, served, served_len);
    for (size_t i = 0; i < built; i++)
        free(built_der[i]);
    pc_path_cache_release(s->client->cache, entry);
    if (allow) {
        uint64_t token =
            pc_tls_record_token(s->client->id, s->generation, s->host, s->port);
        if (b->set_allow_record == NULL || b->set_allow_record(ssl, token) != 0) {
            refuse(s, PINCURL_PIN_CHECK_FAILED, "the decision could not be recorded");
            s->retire = 1;
            return 0;
        }
        pass(s);
        return 1;
    }
    s->refusal = st != PINCURL_OK ? PINCURL_PIN_CHECK_FAILED
                 : verdict.result == PINCURL_RESULT_POLICY_EXPIRED ? PINCURL_POLICY_EXPIRED
                 : verdict.result == PINCURL_RESULT_PIN_MISMATCH  ? PINCURL_PIN_MISMATCH
                                                                   : PINCURL_PIN_CHECK_FAILED;
    s->conn.refusal = s->refusal;
    if (s->detail == NULL)
        refuse(s, s->refusal, "the connection's remembered path no longer passes the policy");
    s->retire = 1;
    return 0;
}

/* 1 when the request check was called for the handle s belongs to. libcurl passes the
 * calling transfer's own address fields (data->info.primary.remote_ip in libcurl 8.14,
 * data->info.conn_primary_ip in 7.88), the array CURLINFO_PRIMARY_IP points at: compared
 * as pointers, nothing of another handle is read (a copy may run on another thread). */
static int same_handle(const pc_pin_state *s, const char *primary_ip)
{
    return primary_ip != NULL && s->own_primary_ip != NULL && primary_ip == s->own_primary_ip;
}

/* An attached handle's own https:// proxy (CURLOPT_PROXY, or the environment's) on the
 * connection this request goes out on. Its handshake was decided when it was made, with
 * the policy then in force; a kept connection may come from an earlier generation, or from
 * before the handle was attached. A proxy the policy in force names passes only when its
 * handshake carries this client's ALLOW record for this generation; a connection whose
 * route cannot be read is refused. 1: go on. */
static int proxy_decided(pc_pin_state *s, struct curl_tlssessioninfo *info)
{
    const pc_tls_backend *b = s->client->backend;
    char host[PINCURL_HOST_MAX + 1], reason[PINCURL_HOST_MAX + 160];
    unsigned port = 0;
    void *proxy_ssl = NULL;
    int found;

    if (info == NULL &&
        (curl_easy_getinfo(s->easy, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || info == NULL))
        found = -1;
    else if (info->internals == NULL)
        return 1; /* no TLS on this connection at all: no https:// proxy */
    else if ((int)info->backend != b->curl_backend || b->app_data == NULL)
        found = -1;
    else
        found = pc_tls_curl_proxy_of(b->app_data(info->internals), (int)info->backend, host,
                                     &port, &proxy_ssl);
    if (found == 0)
        return 1;
    if (found < 0) {
        refuse(s, PINCURL_PIN_CHECK_FAILED,
               "the route of the connection (whether an https:// proxy carries it) cannot be "
               "read with this libcurl");
        s->retire = 1;
        return 0;
    }
    if (pincurl_policy_lookup(s->policy, host, strlen(host)) == NULL)
        return 1; /* a proxy the policy does not name: validated as configured */
    if (b->has_allow_record(proxy_ssl, pc_tls_record_token(s->client->id, s->generation, host,
                                                           port)))
        return 1;
    snprintf(reason, sizeof(reason),
             "the kept connection through the https:// proxy %s:%u was not decided under the "
             "policy in force (a new connection is)",
             host, port);
    refuse(s, PINCURL_PIN_CHECK_FAILED, reason);
    s->retire = 1;
    return 0;
}

static int prereq_hook(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                       int local_port)
{
    pc_pin_state *s = clientp;
    char *url = NULL;
    char scheme[16];
    struct curl_tlssessioninfo *info = NULL;

    if (s == NULL || s->client == NULL)
        return CURL_PREREQFUNC_ABORT;
    /* The check is for the handle it was installed on. A copy (curl_easy_duphandle)
     * inherits this callback and its data, but not the handle: it is refused (same_handle). */
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    if (!same_handle(s, primary_ip)) {
        /* counted only: s is the attached handle's, maybe running on another thread */
        atomic_fetch_add(&s->copies_refused, 1u);
        return CURL_PREREQFUNC_ABORT;
    }
    /* a copy's earlier refusal is not this request's outcome */
    atomic_store(&s->copies_refused, 0u);
    refresh_policy(s);
    if (curl_easy_getinfo(s->easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || url == NULL) {
        refuse(s, PINCURL_PIN_CHECK_FAILED, "the request's host is not known");
        return CURL_PREREQFUNC_ABORT;
    }
    if (target_of(s, url, scheme, s->host, &s->port) != PINCURL_OK) {
        refuse(s, PINCURL_PIN_CHECK_FAILED, "the request's host is not known");
        return CURL_PREREQFUNC_ABORT;
    }
    if (!host_pinned(s)) {
        if (s->route == NULL && !proxy_decided(s, NULL))
            return CURL_PREREQFUNC_ABORT;
        if (strcmp(scheme, "http") == 0) {
            /* a cookie a pinned host may receive is not sent in cleartext to a neighbour */
            char domain[PINCURL_HOST_MAX + 1], reason[PINCURL_HOST_MAX + 100];
            int leak = pc_cookies_leak_pinned(s->easy, s->policy, s->host, domain,
                                              sizeof(domain));
            if (leak != 0) {
                if (leak > 0)
                    snprintf(reason, sizeof(reason),
                             "a cookie for %s, a domain with pinned hosts, would be sent "
                             "over http",
                             domain);
                else
                    snprintf(reason, sizeof(reason), "the cookie store could not be read");
                refuse(s, PINCURL_CLEARTEXT_PINNED, reason);
                return CURL_PREREQFUNC_ABORT;
            }
        }
        pass(s);
        return CURL_PREREQFUNC_OK;
    }
    if (strcmp(scheme, "https") != 0) {
        refuse(s, strcmp(scheme, "http") == 0 ? PINCURL_CLEARTEXT_PINNED
                                              : PINCURL_PIN_CHECK_FAILED,
               "a pinned host is only contacted over https");
        return CURL_PREREQFUNC_ABORT;
    }
    if (s->leaf_mode) {
        /* libcurl checked the leaf against the pins of the host the request started with,
         * under the generation it started with: any other pinned host or generation was
         * not decided by them */
        const pincurl_domain *d = pincurl_policy_lookup(s->policy, s->host, strlen(s->host));
        if (s->leaf_pins == NULL || s->leaf_generation != s->generation || d == NULL ||
            strcmp(pincurl_domain_host(d), s->leaf_host) != 0) {
            refuse(s, PINCURL_PIN_CHECK_FAILED,
                   "with this TLS library a request is decided for the pins of the host it "
                   "started with only (no redirect to another pinned host, no policy change "
                   "during the request)");
            return CURL_PREREQFUNC_ABORT;
        }
        pass(s);
        return CURL_PREREQFUNC_OK;
    }
    if (curl_easy_getinfo(s->easy, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || info == NULL ||
        (int)info->backend != s->client->backend->curl_backend || info->internals == NULL) {
        refuse(s, PINCURL_PIN_CHECK_FAILED, "the connection's TLS state is not available");
        s->retire = 1;
        return CURL_PREREQFUNC_ABORT;
    }
    /* With the client's own clock the handshake's decision (system time) is not enough:
     * decide again below with that clock (pincurl_options_set_clock). */
    if (s->client->opts.clock_fn == NULL &&
        s->client->backend->has_allow_record(
            info->internals,
            pc_tls_record_token(s->client->id, s->generation, s->host, s->port))) {
        pass(s);
        return CURL_PREREQFUNC_OK;
    }
    /* No decision of this client and generation on the connection: a resumed session (the
     * verify callback does not run then), or a connection an attached handle kept from an
     * earlier generation. Decide again, now, with the policy in force (an attached
     * handle's own proxy first). With the record, the connection's handshakes (its proxy's
     * too, which came first) or this check were decided under this generation. */
    if (s->route == NULL && !proxy_decided(s, info))
        return CURL_PREREQFUNC_ABORT;
    return reverify(s, info->internals) ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
}

pincurl_status pc_pin_state_init(pc_pin_state *s, pincurl_client *c, CURL *easy,
                                 const pc_route *route)
{
    memset(s, 0, sizeof(*s));
    s->client = c;
    s->easy = easy;
    s->route = route;
    s->policy = pc_client_snapshot(c, &s->generation);
    s->conn.verdict.matched_depth = -1;
    if (s->policy == NULL)
        return PINCURL_INTERNAL;
    {
        char *ip = NULL;
        if (curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &ip) != CURLE_OK || ip == NULL)
            return PINCURL_INTERNAL;
        s->own_primary_ip = ip;
    }
    return PINCURL_OK;
}

void pc_pin_state_cleanup(pc_pin_state *s)
{
    if (s == NULL)
        return;
    /* No TLS context may reach this state once it is gone (a pooled connection's context
     * outlives the transfer). */
    for (size_t i = 0; i < s->hook_count; i++) {
        pc_tls_hook_detach(s->hooks[i]);
        pc_tls_hook_unref(s->hooks[i]);
    }
    free(s->hooks);
    s->hooks = NULL;
    s->hook_count = 0;
    s->hook_cap = 0;
    pc_tls_conn_release(&s->conn);
    free(s->detail);
    s->detail = NULL;
    pincurl_policy_unref(s->policy);
    s->policy = NULL;
    pincurl_policy_unref(s->verdict_policy);
    s->verdict_policy = NULL;
    free(s->leaf_pins);
    s->leaf_pins = NULL;
}

pincurl_status pc_pin_install(pc_pin_state *s, int sessions)
{
    CURL *e = s->easy;
    if (curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_hook) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, s) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, prereq_hook) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PREREQDATA, s) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, sessions ? 1L : 0L) != CURLE_OK) {
        pc_pin_uninstall(e);
        return PINCURL_INTERNAL;
    }
    return PINCURL_OK;
}

/* The attached handles alive, each under a number of its own. A copy of an attached handle
 * (curl_easy_duphandle) inherits CURLOPT_SSL_CTX_DATA and CURLOPT_PREREQDATA, which
 * pincurl cannot take back from it: the hooks of attached handles carry that number, never
 * a pointer, and find their state by it. A number is not given twice (while a pointer
 * fits 64 bits; on 32-bit platforms after 2^32 attachments a copy may find a newer
 * attachment, whose hooks then refuse it as a handle that is not theirs), so a copy
 * outliving its attachment finds nothing, even when a newer attachment has the old one's
 * memory. A hook marks the state in use before the lock is let go; pc_pin_detach takes the
 * state out of the table and waits until no hook uses it. No lock is held while a hook
 * runs (its events and reports reach the application). */
struct attached_entry {
    uintptr_t id;
    pc_pin_state *s;
};
static pthread_mutex_t attached_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t attached_idle = PTHREAD_COND_INITIALIZER;
static struct attached_entry *attached;
static size_t attached_count, attached_cap;
static uintptr_t attached_next_id = 1;
static unsigned attached_waiting; /* pc_pin_detach calls waiting for a hook to end */

/* The state of the attachment numbered userptr, marked in use, or NULL when it is gone. */
static pc_pin_state *attached_enter(void *userptr)
{
    uintptr_t id = (uintptr_t)userptr;
    pc_pin_state *s = NULL;

    pthread_mutex_lock(&attached_lock);
    for (size_t i = 0; i < attached_count; i++) {
        if (attached[i].id == id) {
            s = attached[i].s;
            s->hook_users++;
            break;
        }
    }
    pthread_mutex_unlock(&attached_lock);
    return s;
}

static void attached_leave(pc_pin_state *s)
{
    pthread_mutex_lock(&attached_lock);
    if (--s->hook_users == 0 && attached_waiting > 0)
        pthread_cond_broadcast(&attached_idle);
    pthread_mutex_unlock(&attached_lock);
}

static CURLcode attached_ssl_ctx_hook(CURL *easy, void *ssl_ctx, void *userptr)
{
    CURLcode rc = CURLE_SSL_CONNECT_ERROR; /* a copy whose attachment is gone */
    pc_pin_state *s = attached_enter(userptr);
    if (s != NULL) {
        rc = ssl_ctx_hook(easy, ssl_ctx, s);
        attached_leave(s);
    }
    return rc;
}

static int attached_prereq_hook(void *clientp, char *primary_ip, char *local_ip,
                                int primary_port, int local_port)
{
    int rc = CURL_PREREQFUNC_ABORT; /* a copy whose attachment is gone */
    pc_pin_state *s = attached_enter(clientp);
    if (s != NULL) {
        rc = prereq_hook(s, primary_ip, local_ip, primary_port, local_port);
        attached_leave(s);
    }
    return rc;
}

pincurl_status pc_pin_attach(pc_pin_state *s)
{
    CURL *e = s->easy;
    pincurl_status st = PINCURL_OK;
    void *number = NULL;

    pthread_mutex_lock(&attached_lock);
    if (attached_count == attached_cap) {
        size_t cap = attached_cap ? attached_cap * 2 : 8;
        struct attached_entry *grown = realloc(attached, cap * sizeof(*grown));
        if (grown == NULL) {
            st = PINCURL_OUT_OF_MEMORY;
        } else {
            attached = grown;
            attached_cap = cap;
        }
    }
    if (st == PINCURL_OK) {
        if (attached_next_id == 0)
            attached_next_id = 1; /* 0 is no attachment */
        s->attach_id = attached_next_id++;
        s->hook_users = 0;
        attached[attached_count].id = s->attach_id;
        attached[attached_count].s = s;
        attached_count++;
        number = (void *)s->attach_id;
    }
    pthread_mutex_unlock(&attached_lock);
    if (st != PINCURL_OK)
        return st;
    if (curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, attached_ssl_ctx_hook) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, number) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, attached_prereq_hook) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PREREQDATA, number) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L) != CURLE_OK) {
        pc_pin_detach(s);
        return PINCURL_INTERNAL;
    }
    return PINCURL_OK;
}

void pc_pin_detach(pc_pin_state *s)
{
    pc_pin_uninstall(s->easy);
    pthread_mutex_lock(&attached_lock);
    for (size_t i = 0; i < attached_count; i++) {
        if (attached[i].id == s->attach_id && attached[i].s == s) {
            attached[i] = attached[--attached_count];
            break;
        }
    }
    /* a hook of a copy may still be running on another thread */
    while (s->hook_users > 0) {
        attached_waiting++;
        pthread_cond_wait(&attached_idle, &attached_lock);
        attached_waiting--;
    }
    if (attached_count == 0) {
        free(attached);
        attached = NULL;
        attached_cap = 0;
    }
    pthread_mutex_unlock(&attached_lock);
}

void pc_pin_uninstall(CURL *easy)
{
    (void)curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, (curl_ssl_ctx_callback)NULL);
    (void)curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, (void *)NULL);
    (void)curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, (curl_prereq_callback)NULL);
    (void)curl_easy_setopt(easy, CURLOPT_PREREQDATA, (void *)NULL);
    (void)curl_easy_setopt(easy, CURLOPT_SSL_SESSIONID_CACHE, 1L);
}

pincurl_status pc_pin_map(const pc_pin_state *s, CURLcode code)
{
    pincurl_status recorded = s->refusal != PINCURL_OK ? s->refusal : s->conn.refusal;

    switch (code) {
    case CURLE_OK:
        return PINCURL_OK;
    /* What a refused handshake or request can come back as. */
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        if (recorded != PINCURL_OK)
            return recorded;
        break;
    default:
        break;
    }
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
        return PINCURL_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
        return PINCURL_DNS;
    case CURLE_COULDNT_CONNECT:
        return PINCURL_CONNECT;
    case CURLE_TOO_MANY_REDIRECTS:
        return PINCURL_TOO_MANY_REDIRECTS;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return PINCURL_BAD_URL;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_PROXY:
        return PINCURL_PROXY;
    case CURLE_PEER_FAILED_VERIFICATION:
        return PINCURL_CERT_INVALID;
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return PINCURL_PIN_MISMATCH;
    case CURLE_ABORTED_BY_CALLBACK:
        return PINCURL_ABORTED_BY_CALLBACK;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
        return PINCURL_TLS;
    case CURLE_OUT_OF_MEMORY:
        return PINCURL_OUT_OF_MEMORY;
    default:
        return PINCURL_TRANSFER;
    }
}

/* ------------------------------------------------------------------------------------ */
/* Leaf-only backends                                                                    */

/* Largest trust store read to look for root pins. */
#define PC_LEAF_MAX_TRUST_STORE ((size_t)64 * 1024 * 1024)

pincurl_status pc_leaf_policy_ok(const pincurl_policy *policy, const char *ca_file)
{
    char *path = NULL;
    unsigned char *data = NULL;
    size_t len = 0;
    pincurl_cert_list *list = NULL;
    pincurl_status st = PINCURL_OK;

    if (ca_file == NULL) {
        /* libcurl's default bundle */
        CURL *e = curl_easy_init();
        char *def = NULL;
        if (e == NULL)
            return PINCURL_OUT_OF_MEMORY;
        if (curl_easy_getinfo(e, CURLINFO_CAINFO, &def) == CURLE_OK && def != NULL)
            path = strdup(def);
        curl_easy_cleanup(e);
        if (path == NULL)
            return PINCURL_BACKEND_UNSUPPORTED; /* no trust store to check against */
        ca_file = path;
    }
    {
        int more = 0, err = 0;
        const char *what = "";
        st = pc_file_read(ca_file, PC_LEAF_MAX_TRUST_STORE, 0, NULL, &data, &len, &more, &err,
                          &what);
        free(path);
        if (st == PINCURL_OK && more)
            st = PINCURL_LIMIT_EXCEEDED;
        if (st != PINCURL_OK)
            return st;
    }
    if (st == PINCURL_OK)
        st = pincurl_cert_list_load(data, len, NULL, &list);
    free(data);
    if (st != PINCURL_OK) {
        pincurl_cert_list_free(list);
        return st == PINCURL_OUT_OF_MEMORY ? st : PINCURL_BACKEND_UNSUPPORTED;
    }
    for (size_t i = 0; i < pincurl_cert_list_count(list) && st == PINCURL_OK; i++) {
        size_t dlen = 0;
        const unsigned char *der = pincurl_cert_list_der(list, i, &dlen);
        pincurl_pin anchor;
        if (pincurl_pin_from_cert_der(der, dlen, &anchor) != PINCURL_OK)
            continue;
        for (size_t d = 0; d < pincurl_policy_domain_count(policy) && st == PINCURL_OK; d++) {
            const pincurl_domain *dom = pincurl_policy_domain(policy, d);
            for (size_t p = 0; p < pincurl_domain_pin_count(dom); p++) {
                if (pincurl_pin_equal(pincurl_domain_pin(dom, p), &anchor)) {
                    st = PINCURL_BACKEND_UNSUPPORTED; /* a root pin: cannot be checked */
                    break;
                }
            }
        }
    }
    pincurl_cert_list_free(list);
    return st;
}

/* The pins of a pinned entry in libcurl's form ("sha256//B64;sha256//B64"), malloc'd. */
static char *leaf_pin_string(const pincurl_domain *d)
{
    size_t n = pincurl_domain_pin_count(d), off = 0;
    char *pins = malloc(n * (PINCURL_PIN_TEXT_SIZE + 2) + 1);
    if (pins == NULL)
        return NULL;
    pins[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char text[PINCURL_PIN_TEXT_SIZE];
        if (pincurl_pin_format(pincurl_domain_pin(d, i), text, sizeof(text)) != PINCURL_OK) {
            free(pins);
            return NULL;
        }
        /* libcurl's form: sha256//BASE64, ';' between pins, no spaces */
        off += (size_t)sprintf(pins + off, "%ssha256/%s", i > 0 ? ";" : "",
                               text + strlen("sha256"));
    }
    return pins;
}

pincurl_status pc_leaf_install(pc_pin_state *s, const char *url)
{
    CURL *e = s->easy;
    char scheme[16];
    const pincurl_domain *d;

    s->leaf_mode = 1;
    s->leaf_generation = s->generation;
    if (pc_url_target(url, scheme, s->host, &s->port) != PINCURL_OK)
        return PINCURL_BAD_URL;
    d = pincurl_policy_lookup(s->policy, s->host, strlen(s->host));
    if (d != NULL && !(pincurl_domain_flags(d) & PINCURL_DOMAIN_EXCLUDE)) {
        s->leaf_pins = leaf_pin_string(d);
        if (s->leaf_pins == NULL)
            return PINCURL_OUT_OF_MEMORY;
        snprintf(s->leaf_host, sizeof(s->leaf_host), "%s", pincurl_domain_host(d));
        if (curl_easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, s->leaf_pins) != CURLE_OK)
            return PINCURL_INTERNAL;
    }
    /* An https:// proxy the policy pins: its leaf through libcurl too, in its own
     * handshake, before the CONNECT line or any credential is sent. */
    if (s->route != NULL && s->route->kind == PC_PROXY_HTTPS) {
        d = pincurl_policy_lookup(s->policy, s->route->host, strlen(s->route->host));
        if (d != NULL && !(pincurl_domain_flags(d) & PINCURL_DOMAIN_EXCLUDE)) {
            char *pins = leaf_pin_string(d);
            CURLcode rc;
            if (pins == NULL)
                return PINCURL_OUT_OF_MEMORY;
            rc = curl_easy_setopt(e, CURLOPT_PROXY_PINNEDPUBLICKEY, pins); /* copied */
            free(pins);
            if (rc != CURLE_OK)
                return PINCURL_INTERNAL;
        }
    }
    if (curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, prereq_hook) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PREREQDATA, s) != CURLE_OK)
        return PINCURL_INTERNAL;
    return PINCURL_OK;
}
