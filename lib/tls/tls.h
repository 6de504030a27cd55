/*
 * Internal: the TLS backend interface.
 *
 * Each backend exports one const table (name, capability bits, function pointers), as
 * curl's lib/vtls does. A backend only hooks the handshake and hands the core what it
 * needs: the served chain, the trust anchors of the store in use and a signature-verify
 * function of its crypto library. The core builds the validated path
 * (pincurl_path_build), checks the host (pincurl_cert_matches_host) and decides
 * (pincurl_evaluate); the backend records the outcome and never decides anything itself.
 *
 * The caller (lib/http) owns one pc_tls_conn per transfer, fills its "input" fields before
 * each new connection (pc_tls_conn_begin) and reads its "outcome" fields afterwards. A
 * pc_tls_conn is used by one thread at a time (the thread performing the transfer).
 */
#ifndef PINCURL_TLS_TLS_H
#define PINCURL_TLS_TLS_H

#include "pincurl/core.h"
#include "pincurl/client.h"

#include <stdatomic.h>

/* Capability bits. */
#define PC_TLS_CAP_PATH 0x1u   /* pins may name any certificate of the validated path */
#define PC_TLS_CAP_SERVED 0x2u /* the served chain is reported next to the path */

/* A bounded, thread-safe cache of validated paths: an entry is found again only for the
 * same served chain (every byte compared) verified against the same trust store. */
typedef struct pc_path_cache pc_path_cache;

/* One cached path; immutable, reference-counted (pc_path_cache_release). */
typedef struct pc_path_entry {
    size_t count;
    const pincurl_cert_ref *certs; /* count of them, leaf first; point into the entry */
    int pinned;                    /* 1: pins[] holds every certificate's pin */
    const pincurl_pin *pins;       /* count SPKI pins of certs[], computed once */
} pc_path_entry;

/* The trust anchors of a store a connection verifies against: owned DER copies with their
 * subject Names, and the store's content identity. Immutable once finished and shared by
 * reference (the connections of one store, the anchor registry). */
typedef struct pc_anchor_set {
    _Atomic unsigned long refs;
    size_t count;
    size_t cap;
    unsigned char **der;
    size_t *len;
    const unsigned char **subject; /* into der[i] */
    size_t *subject_len;
    uint64_t id; /* content identity (pc_anchor_set_finish); 0 until then */
} pc_anchor_set;

/* An empty set with one reference; NULL on OOM. */
pc_anchor_set *pc_anchor_set_new(void);
/* Reference counting; thread-safe. unref(NULL) is a no-op; ref returns its argument. */
pc_anchor_set *pc_anchor_set_ref(pc_anchor_set *set);
void pc_anchor_set_unref(pc_anchor_set *set);
/* Adds a copy of a DER certificate (one that does not parse is left out: it cannot be an
 * anchor). 0 on success, -1 on OOM or a limit. Not for a set others hold. */
int pc_anchor_set_add(pc_anchor_set *set, const unsigned char *der, size_t len);
/* Computes the content identity: a hash of the anchors' digests in sorted order, so the
 * same certificates in any order give the same identity, and any other set another one
 * (never 0). 0 on success, -1 on OOM. */
int pc_anchor_set_finish(pc_anchor_set *set);

/* A bounded registry of finished anchor sets, one per client, so that the connections of
 * one trust store share one set instead of each copying the store (a backend keeps a set's
 * key on its store object: a number, no memory). Keys are process-wide unique, never 0 and
 * never reused. put takes a new reference and returns the key (0 on OOM); get returns a
 * new reference, or NULL when the key is unknown here or was evicted (the least recently
 * used go first). Freed with its client. Thread-safe. */
typedef struct pc_anchor_registry pc_anchor_registry;
pc_anchor_registry *pc_anchor_registry_new(void);
void pc_anchor_registry_free(pc_anchor_registry *r);
uint64_t pc_anchor_registry_put(pc_anchor_registry *r, pc_anchor_set *set);
pc_anchor_set *pc_anchor_registry_get(pc_anchor_registry *r, uint64_t key);

/* pincurl_trust.anchors_by_subject over a set (ctx is the pc_anchor_set). */
size_t pc_anchor_set_by_subject(void *ctx, const unsigned char *name, size_t name_len,
                                pincurl_cert_ref *out, size_t max);
/* The identity of a list of anchors, as pc_anchor_set_finish computes it: pointer width
 * (it is kept in pointer-sized slots), never 0; 0 on OOM. */
uint64_t pc_trust_id(const pincurl_cert_ref *certs, size_t count);

/* NULL on OOM. capacity 0 disables caching. Free with pc_path_cache_free (no user left). */
pc_path_cache *pc_path_cache_new(size_t capacity);
void pc_path_cache_free(pc_path_cache *cache);
/* The slot hash of a served chain and a trust store identity: cheap (the lengths and the
 * last bytes of each certificate), so it only picks a slot; lookups compare every byte. */
uint64_t pc_path_cache_hash(const pincurl_cert_ref *served, size_t served_len,
                            uint64_t trust_id);
/* A referenced entry for exactly this served chain (same count, lengths and bytes) verified
 * against the trust store of identity trust_id, whose path is still within the validity of
 * every certificate on it below the anchor at now (seconds since the epoch: the clock the path builder is
 * given), or NULL. An entry found outside that window is a miss, as a path build at now
 * would refuse it. trust_id 0 (an unknown store) and an empty chain find nothing.
 * Thread-safe. */
const pc_path_entry *pc_path_cache_get(pc_path_cache *cache, const pincurl_cert_ref *served,
                                       size_t served_len, uint64_t trust_id, int64_t now);
/* Stores copies of path, of the served chain it was built for and of the path's pins,
 * with the window in which every certificate of the path below its anchor is valid, as
 * pincurl_path_build checks them (a certificate whose
 * dates cannot be read leaves an empty window: the entry is never found), for that chain
 * and trust store (replacing an entry for the same, else evicting the
 * oldest when full). 0 on success (and when caching is disabled), -1 on refused input or
 * OOM. stored (may be NULL) receives a reference to the stored entry (release it), or NULL
 * when nothing was stored. Thread-safe. */
int pc_path_cache_put(pc_path_cache *cache, const pincurl_cert_ref *served, size_t served_len,
                      uint64_t trust_id, const pincurl_cert_ref *path, size_t path_len,
                      const pc_path_entry **stored);
/* An entry remembers the last host its leaf (certs[0], the served chain's first
 * certificate) was found valid for by pincurl_cert_matches_host: host_valid is 1 when host
 * (normalised) is that host, note_host records it. A pure function of the leaf's bytes
 * and the host, remembered. Thread-safe. */
int pc_path_cache_host_valid(pc_path_cache *cache, const pc_path_entry *entry,
                             const char *host);
void pc_path_cache_note_host(pc_path_cache *cache, const pc_path_entry *entry,
                             const char *host);
/* Drops every entry (references taken stay valid until released). Thread-safe. */
void pc_path_cache_clear(pc_path_cache *cache);
/* Drops a reference taken by pc_path_cache_get. NULL is a no-op. Thread-safe. */
void pc_path_cache_release(pc_path_cache *cache, const pc_path_entry *entry);
/* Hits and misses so far (for tests and statistics). Thread-safe. */
void pc_path_cache_stats(pc_path_cache *cache, unsigned long *hits, unsigned long *misses);

typedef struct pc_tls_conn pc_tls_conn;


/* Called by the backend after every evaluation, inside the handshake. */
typedef void (*pc_tls_verdict_fn)(pc_tls_conn *conn, const pincurl_verdict *verdict,
                                  const pincurl_cert_ref *path, size_t path_len,
                                  const pincurl_cert_ref *served, size_t served_len);

/* How the hook treats the connection being set up. */
typedef enum pc_tls_mode {
    PC_TLS_MODE_OBSERVE = 0, /* host not named by the policy: record certificate errors only */
    PC_TLS_MODE_EVALUATE = 1 /* host named by the policy (pinned or excluded): evaluate */
} pc_tls_mode;

/* Which peer a handshake is with, as libcurl is connecting it. */
typedef enum pc_tls_role {
    PC_TLS_ROLE_UNKNOWN = 0,
    PC_TLS_ROLE_ORIGIN = 1, /* the request's host (this hop's) */
    PC_TLS_ROLE_PROXY = 2   /* an https:// proxy, before any tunnel through it */
} pc_tls_role;

/* One peer a handshake may be with. */
typedef struct pc_tls_peer {
    int known;                       /* 0: nothing is known of this peer */
    char host[PINCURL_HOST_MAX + 1]; /* normalised */
    unsigned port;
    pc_tls_mode mode; /* EVALUATE when the policy names host */
} pc_tls_peer;

struct pc_tls_conn {
    /* Input, set by the caller for each connection. */
    const pincurl_policy *policy; /* borrowed; must outlive the connection's handshake */
    uint64_t owner;               /* identity of the deciding client, bound into records */
    uint64_t generation;          /* policy generation, bound into records */
    pc_path_cache *cache;         /* may be NULL */
    pc_anchor_registry *registry; /* the client's anchor sets; may be NULL */
    /* The two peers a new connection's handshake may be with. Which one it is, the backend
     * reads from the connection object in the handshake (pc_tls_conn_identify); never
     * from the order of handshakes or a string's spelling. */
    pc_tls_peer origin;
    pc_tls_peer proxy;
    /* 1: the handle may have an https:// proxy pincurl was not told about (an attached
     * handle's own); its handshake is identified from libcurl's filter (host and port),
     * so the backend hooks and validates every handshake of such a handle */
    int proxy_unknown;
    int app_verify; /* 1 when the handle itself asks for the peer to be verified */
    /* The identified peer (pc_tls_conn_identify), or the one the caller decides for */
    pc_tls_role role;
    pc_tls_mode mode;
    char host[PINCURL_HOST_MAX + 1]; /* normalised host of this connection */
    unsigned port;
    pc_tls_verdict_fn on_verdict; /* may be NULL */
    void *user;                   /* for on_verdict */

    /* Outcome, written by the backend. */
    pincurl_status refusal;  /* OK, or why the backend refused the handshake */
    int cert_error;          /* library error of a failed certificate check, 0 if none */
    int evaluated;           /* 1 once verdict holds an evaluation of this connection */
    uint64_t duration_us;    /* time the decision took (path, evaluation) */
    pincurl_verdict verdict;

    /* Backend scratch */
    size_t seen_count;  /* certificates this handshake received */
    pc_anchor_set *anchors; /* the trust anchors (a reference), when the backend keeps them */
};

/* Clears the outcome and scratch of conn and sets host and port for a new connection.
 * Statuses: HOST_INVALID, HOST_NOT_ASCII (host is not usable). */
pincurl_status pc_tls_conn_begin(pc_tls_conn *conn, const char *host, size_t host_len,
                                 unsigned port, pc_tls_mode mode);

/* The role of a TLS connection object's libcurl filter: libcurl sets the connection
 * filter doing a handshake as the application data of its TLS object (SSL_set_app_data,
 * wolfSSL_set_app_data) before the handshake starts, and that filter's type is libcurl's
 * "SSL" (the origin) or "SSL-PROXY" (an https:// proxy). UNKNOWN for anything else, and on
 * a libcurl whose filter layout pincurl has not read (libcurl 7.87 to 8.14: struct
 * Curl_cfilter begins with its type, struct Curl_cftype with its name). */
pc_tls_role pc_tls_curl_role(const void *curl_filter);

/* Picks the peer of this handshake from the connection object's filter and sets host,
 * port, mode and role from it; the first call decides, later calls return its result.
 * 0 on success; -1 when the peer cannot be identified (refusal set: PIN_CHECK_FAILED).
 * A proxy pincurl was not told about (proxy_unknown: an attached handle's own proxy) is
 * the host and port libcurl's filter connects (its struct ssl_connect_data, read in the
 * sources of libcurl 7.88.1 and 8.14.1 only: on another version such a handshake cannot
 * be identified), EVALUATE when the policy names it. */
int pc_tls_conn_identify(pc_tls_conn *conn, const void *curl_filter);
/* The https:// proxy of a connection, from the filter of its first TLS layer (the
 * application data of the connection object CURLINFO_TLS_SSL_PTR gives): 1 with the
 * proxy's host (normalised), port and connection object (the TLS library's, of the
 * backend curl_backend names); 0 when the connection has no https:// proxy; -1 when it
 * cannot be read (a libcurl or TLS library whose layout was not read: 7.88.1 with OpenSSL
 * or wolfSSL, 8.14.1 with wolfSSL). */
int pc_tls_curl_proxy_of(const void *curl_filter, int curl_backend,
                         char host[PINCURL_HOST_MAX + 1], unsigned *port, void **ssl);

/* The record of a handshake's hook: what a TLS context's verify callback reaches. The TLS
 * context (and with it the hook) may outlive the transfer that made it (a pooled
 * connection); the transfer detaches the hook when it ends, and a detached hook refuses.
 * Reference-counted; the context holds one reference, the transfer another. */
typedef struct pc_tls_hook {
    _Atomic unsigned long refs;
    pc_tls_conn *_Atomic conn; /* NULL once detached */
} pc_tls_hook;

/* A hook for conn with one reference; NULL on OOM. */
pc_tls_hook *pc_tls_hook_new(pc_tls_conn *conn);
pc_tls_hook *pc_tls_hook_ref(pc_tls_hook *hook);
void pc_tls_hook_unref(pc_tls_hook *hook);
/* The connection state the hook reaches, or NULL when detached. */
pc_tls_conn *pc_tls_hook_conn(pc_tls_hook *hook);
void pc_tls_hook_detach(pc_tls_hook *hook);
/* Hooks created and not yet freed, and of those the attached ones (for tests). */
void pc_tls_hook_counts(unsigned long *live, unsigned long *attached);
/* Frees the scratch (the outcome stays). */
void pc_tls_conn_release(pc_tls_conn *conn);

typedef struct pc_tls_backend {
    const char *name; /* "wolfssl" */
    unsigned caps;    /* PC_TLS_CAP_* */
    int curl_backend; /* libcurl's curl_sslbackend value for this library */
    /* Process-wide setup; idempotent and thread-safe. 0 on success. */
    int (*global_init)(void);
    /* Installs the verify hook on the library context curl passes to
     * CURLOPT_SSL_CTX_FUNCTION: the context takes a reference to hook (released when the
     * context is freed), and the verify callback reaches the connection state through it
     * only while it is attached. conn (the hook's) has both candidate peers set; mode is
     * EVALUATE when either is named by the policy. Statuses: OK, INTERNAL. */
    pincurl_status (*install)(void *ssl_ctx, pc_tls_hook *hook);
    /* 1 if the connection object (CURLINFO_TLS_SSL_PTR's internals) carries the ALLOW
     * record token (pc_tls_record_token of the deciding client, generation, host and
     * port), else 0. Thread-safe. */
    int (*has_allow_record)(void *ssl, uint64_t token);
    /* A static text for a library error code recorded in cert_error. */
    const char *(*error_text)(int err);
    /* The chain the server sent, as the connection object remembers it (from its session
     * when the session was resumed), leaf first, into out[max]: borrowed DER, valid while
     * ssl lives. Returns the count; 0 when unknown or longer than max. *own (may be NULL)
     * is 1 when the chain is known to be exactly what this connection's own full
     * handshake received (so a path may be built for it now), 0 when it comes from a
     * session or is not known to be exact (only a path this client cached for exactly
     * these bytes may decide then). NULL: not supported (re-verification then refuses). */
    size_t (*peer_chain)(void *ssl, pincurl_cert_ref *out, size_t max, int *own);
    /* libcurl's connection filter of the connection object (its application data, which
     * libcurl sets), or NULL. */
    void *(*app_data)(void *ssl);
    /* Records an ALLOW token on the connection object. 0 on success. */
    int (*set_allow_record)(void *ssl, uint64_t token);
    /* The identity of the trust store the connection object verified against (as
     * pc_trust_id), 0 when not known (a path cache lookup then finds nothing). */
    uint64_t (*trust_id)(void *ssl);
    /* 1 when the connection object's handshake completed (a session the TLS library has
     * established, full or resumed), else 0. */
    int (*handshake_done)(void *ssl);
    /* The validated path of served (the connection object's remembered chain) against the
     * trust store of the connection object's context, built now (pincurl_path_build), as
     * DER copies into path[] (caller frees each with free()). Returns the count, 0 when
     * there is none. NULL: not supported. */
    size_t (*build_path)(void *ssl, pc_anchor_registry *registry,
                         const pincurl_cert_ref *served, size_t served_len,
                         unsigned char **path_der, size_t *path_len);
} pc_tls_backend;

extern const pc_tls_backend pc_tls_wolfssl;
#ifdef PINCURL_HAVE_OPENSSL
/* For the distribution's libcurl on OpenSSL (the system build). */
extern const pc_tls_backend pc_tls_openssl;
#endif
/* For a libcurl on any other TLS library: no hook, leaf pins via CURLOPT_PINNEDPUBLICKEY. */
extern const pc_tls_backend pc_tls_leaf_only;

/* wolfCrypt's verification of a certificate's signature under a SubjectPublicKeyInfo (RSA
 * PKCS#1 v1.5 and PSS, ECDSA, Ed25519, Ed448), as the wolfSSL backend hands it to
 * pincurl_path_build: 1 verified, 0 not, -1 error. Thread-safe. */
int pc_tls_wolfssl_verify_signature(const unsigned char *cert, size_t cert_len,
                                    const unsigned char *spki, size_t spki_len);

/* The backend for the libcurl in use, from curl_version_info()->ssl_version; NULL when
 * pincurl has none for it. */
const pc_tls_backend *pc_tls_select(const char *ssl_version);

/* The record token bound to owner, generation, host and port: SipHash-2-4 under a key
 * drawn once per process (never 0; 0 when no key could be drawn or host is longer than a
 * host can be, which refuses). Each thread remembers its last token and what it was for
 * (compared exactly), so the requests of one target hash once. Shared by backends.
 * Thread-safe. */
uint64_t pc_tls_record_token(uint64_t owner, uint64_t generation, const char *host,
                             unsigned port);
/* SipHash-2-4 of in under key (test vectors in tests/unit/test_tls_cache.c). */
uint64_t pc_siphash24(const unsigned char key[16], const unsigned char *in, size_t len);
/* The backend for the libcurl in use when it is the one this library was built for (see
 * pincurl_runtime()), else NULL: a library never degrades to another backend. */
const pc_tls_backend *pc_tls_backend_in_use(void);

/* Microseconds on a monotonic clock. */
uint64_t pc_tls_now_us(void);

#endif
