/* Internal: the client's objects and the pin hooks shared by the client and attach. */
#ifndef PINCURL_HTTP_HTTP_H
#define PINCURL_HTTP_HTTP_H

#include "pincurl/client.h"
#include "tls/tls.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

/* Default cap on a response body kept in memory. */
#define PC_DEFAULT_MAX_BODY ((size_t)64 * 1024 * 1024)
/* Most redirects a request may follow. */
#define PC_MAX_REDIRECTS 50
#ifndef PINCURL_FIRMWARE
/* Idle easy handles a client keeps (each with its kept-alive connections). */
#define PC_POOL_MAX 16
/* Validated paths a client caches. */
#define PC_PATH_CACHE_ENTRIES 64
#else /* firmware (docs/embedded.md): a device talks to a few hosts */
#define PC_POOL_MAX 4
#define PC_PATH_CACHE_ENTRIES 8
#endif

struct pincurl_options {
    char *ca_file;
    long connect_timeout_ms;
    long timeout_ms;
    char *user_agent;
    char *proxy;
    char *pinned_public_key;
    char **resolve;
    size_t resolve_count;
    char *ca_path;
    char **connect_to;
    size_t connect_to_count;
    pincurl_ip_version ip_version;
    pincurl_http_version http_version;
    pincurl_tls_version tls_min_version;
    int follow_redirects; /* 1: follow up to max_redirects (0 makes a redirect an error) */
    long max_redirects;
    int cookies;          /* the cookie engine is on */
    char *cookie_load_file;
    char *cookie_save_file;
    size_t max_body_bytes;
    pincurl_event_cb event_cb;
    void *event_user;
    /* failure reports */
    char *app_bundle_id;
    char *app_version;
    char *app_vendor_id;
    char *app_platform;
    char *app_platform_version;
    char *spool_dir;
    size_t spool_max_reports;
    size_t spool_max_bytes;
    long report_connect_timeout_ms;
    long report_timeout_ms;
    long report_first_retry_ms;
    /* firmware: the clock (NULL: time()) and the client's allocator (NULL fns: malloc) */
    pincurl_clock_fn clock_fn;
    void *clock_ctx;
    pincurl_allocator alloc;
};

/* The route of a client's requests (route.c): no proxy, or one proxy of a kind pincurl
 * knows, with the canonical string libcurl is given. */
typedef enum pc_proxy_kind {
    PC_PROXY_NONE = 0,
    PC_PROXY_HTTP,
    PC_PROXY_HTTPS,
    PC_PROXY_SOCKS4,
    PC_PROXY_SOCKS4A,
    PC_PROXY_SOCKS5,
    PC_PROXY_SOCKS5H
} pc_proxy_kind;

typedef struct pc_route {
    pc_proxy_kind kind;
    long curl_type;                  /* CURLPROXY_* of kind */
    char *url;                       /* for CURLOPT_PROXY (malloc); NULL without a proxy */
    char host[PINCURL_HOST_MAX + 1]; /* the proxy's host, normalised */
    unsigned port;
} pc_route;

/* Reads a proxy string as libcurl reads CURLOPT_PROXY (proxy NULL: no proxy). Statuses:
 * OK, PROXY (why says what is wrong, when why_len > 0), OUT_OF_MEMORY. */
pincurl_status pc_route_parse(const char *proxy, pc_route *out, char *why, size_t why_len);
void pc_route_clear(pc_route *r);

/* Defaults of the report options (client.h documents them). */
#define PC_SPOOL_MAX_REPORTS 256
#define PC_SPOOL_MAX_BYTES ((size_t)4 * 1024 * 1024)
#define PC_REPORT_CONNECT_TIMEOUT_MS 5000L
#define PC_REPORT_TIMEOUT_MS 15000L
#define PC_REPORT_FIRST_RETRY_MS 1000L

/* An event as the callback sees it (pincurl/events.h); every pointer borrowed. */
struct pincurl_event {
    pincurl_event_kind kind;
    const char *host;
    unsigned port;
    const pincurl_verdict *verdict;
    const pincurl_cert_ref *path;
    size_t path_len;
    const pincurl_cert_ref *served;
    size_t served_len;
    const pincurl_pin *old_pin;
    int64_t expires;
    uint64_t duration_us;
    uint64_t generation;
    pincurl_status status;
    const char *message;
};

/* Deep copy of src into dst (zeroed first). 0 on success; on failure dst is empty. */
int pc_options_copy(pincurl_options *dst, const pincurl_options *src);
/* Frees what dst holds (not dst itself). */
void pc_options_clear(pincurl_options *dst);
/* Defaults into a zeroed o. */
void pc_options_defaults(pincurl_options *o);

struct pincurl_request {
    char *method;
    char *url;
    /* url's parse, made once by pincurl_request_new (every call of the request uses it):
     * OK with scheme, normalised host and port, or why the URL cannot be used */
    pincurl_status url_status;
    char url_scheme[16];
    char url_host[PINCURL_HOST_MAX + 1];
    unsigned url_port;
    char **headers;
    size_t header_count;
    unsigned char *body;
    size_t body_len;
    int has_body;
    pincurl_read_cb read_cb;
    void *read_user;
    int64_t read_length;
    pincurl_write_cb write_cb;
    void *write_user;
    pincurl_write_cb header_cb;
    void *header_user;
    char *output_file;
    int upload;           /* read_cb feeds CURLOPT_UPLOAD, not a POST */
    struct pc_form_part *form;
    size_t form_count;
    char *user;           /* Basic credentials (NULL: none) */
    char *password;
    char *referer;
    int auto_referer;
    char *cookie;
    char *accept_encoding;
    /* internal (report delivery): abort when *cancel becomes non-zero; timeouts that
     * replace the client's when non-zero */
    const atomic_int *cancel;
    long connect_timeout_ms;
    long timeout_ms;
    /* internal (report delivery, policy updates): every hop https, redirects included */
    int https_only;
};

/* One part of a multipart/form-data body. */
typedef struct pc_form_part {
    char *name;
    unsigned char *data; /* NULL for a file part */
    size_t len;
    char *path;          /* the file of a file part */
    char *filename;      /* NULL: libcurl's default; "" none */
    int has_filename;
    char *content_type;
} pc_form_part;

struct pincurl_response {
    pincurl_status status;
    long code;
    unsigned char *body;
    size_t body_len;
    size_t body_cap;
    /* The last response's headers: names and values, each NUL-terminated, one after the
     * other in header_arena; header_at[i] holds the offsets of header i. */
    char *header_arena;
    size_t arena_len, arena_cap;
    struct pc_header_at {
        size_t name, value;
    } *header_at;
    size_t header_count;
    size_t header_cap;
    char *effective_url;
    size_t effective_url_cap;
    char *detail;
    int have_verdict;
    pincurl_verdict verdict;
    pincurl_policy *policy; /* keeps verdict.domain and verdict.noted_host valid */
    pincurl_transfer_info info;
    char *info_text;        /* what info's strings point into, one after the other */
    size_t info_text_cap;
};

/* A response with status INTERNAL and nothing else; NULL on OOM. */
pincurl_response *pc_response_new(void);
/* Appends body bytes. 0 on success, -1 on OOM. */
int pc_response_append(pincurl_response *resp, const void *data, size_t len);
/* Takes one raw header line of a response: a status line starts a new header set. 0 on
 * success, -1 on OOM. */
int pc_response_header_line(pincurl_response *resp, const char *line, size_t len);
/* Fills resp->info from a finished transfer on easy: code is what curl_easy_perform
 * returned, errbuf its error buffer. 0 on success, -1 on OOM (info then partly filled). */
int pc_response_fill_info(pincurl_response *resp, CURL *easy, CURLcode code,
                          const char *errbuf);
/* Replaces the detail / effective URL with copies (NULL: empty). 0 on success. */
int pc_response_set_detail(pincurl_response *resp, const char *detail);
int pc_response_set_url(pincurl_response *resp, const char *url);

/* Certificate-change and expiry monitoring (monitor.c). Thread-safe. */
typedef struct pc_monitor pc_monitor;
pc_monitor *pc_monitor_new(const pincurl_allocator *alloc); /* alloc copied */
void pc_monitor_free(pc_monitor *m);

struct pincurl_client {
    pincurl_policy *policy;
    pincurl_options opts;
    const pc_tls_backend *backend;
    pc_path_cache *cache;
    pc_anchor_registry *anchors; /* the trust anchors of the stores its connections use */
    pc_route route;              /* from opts.proxy */
    uint64_t id; /* process-unique; bound into connection records */
    pthread_mutex_t lock; /* guards policy, generation and the pool */
    /* of policy: 1, plus one per set_policy; written under lock, read without it */
    _Atomic uint64_t generation;
    /* Idle multi handles of blocking calls, each with the one easy handle it runs and its
     * kept-alive connections and TLS sessions, and the generation they belong to. */
    struct pc_slot {
        CURLM *multi;
        CURL *easy;
        uint64_t generation;
        unsigned configured; /* what easy holds (pc_xfer_park) */
    } pool[PC_POOL_MAX];
    size_t pool_len;
    /* Lifetime: the application's handle, every call and every multi hold a reference. */
    _Atomic unsigned long refs;
    pthread_mutex_t calls_lock; /* guards what follows, and calls' wake and multi */
    pthread_cond_t calls_cond;  /* a blocking call ended; a multi's drive ended */
    int closing;                /* pincurl_client_free began: no call starts any more */
    struct pincurl_call *executing; /* blocking calls running now */
    size_t executing_count;
    struct pincurl_multi *multis;   /* the client's multis */
    pc_monitor *monitor;
    struct pc_spool *spool;   /* failure reports (NULL without a spool directory) */
    pincurl_client *reporter; /* delivers them: same policy, no spool */
    CURLSH *cookie_share;     /* the cookie engine's store (NULL: off) */
    pthread_mutex_t cookie_lock; /* libcurl's lock of that share */
    pincurl_allocator alloc;  /* of the client object and its monitor (options' copy) */
};

/* Seconds since the Unix epoch by the client's clock (pincurl_options_set_clock), else
 * time(). */
int64_t pc_client_now(const pincurl_client *c);

/* Failure reports (reports.c). open: with a spool directory, the spool and its delivering
 * client; OK and nothing without one. close frees both. */
pincurl_status pc_reports_open(pincurl_client *c);
void pc_reports_close(pincurl_client *c);
/* 1 if a validation with this verdict produces a report. */
int pc_report_due(const pincurl_verdict *v);
/* Spools the report a VALIDATION event calls for (decided under policy), if one is due. */
void pc_reports_submit(pincurl_client *c, const pincurl_policy *policy,
                       const pincurl_event *validation);

/* After a VALIDATION event with a path: raises CERT_CHANGED, POLICY_EXPIRING and
 * LEAF_EXPIRING as they are due. */
void pc_monitor_observe(const pincurl_client *c, const pincurl_event *validation, int64_t now);

/* The policy in force and its generation, with a new reference (caller unrefs). */
pincurl_policy *pc_client_snapshot(pincurl_client *c, uint64_t *generation);
/* Raises ev on the client's event callback (if any), stamping the generation if unset. */
void pc_client_emit(const pincurl_client *c, pincurl_event *ev);

/* The cookie engine (cookies.c). open: with the engine on, the share holding the store,
 * loaded from the load file; OK and nothing with it off. close frees it (after every handle
 * using it). attach: puts the store on a transfer's handle, detach undoes what attach set
 * that a reset would not free. */
pincurl_status pc_cookies_open(pincurl_client *c);
void pc_cookies_close(pincurl_client *c);
pincurl_status pc_cookies_attach(pincurl_client *c, CURL *easy);
void pc_cookies_detach(pincurl_client *c, CURL *easy); /* before the handle is reset */
/* For a cleartext request to host (not itself pinned) on easy: 1 if the cookie store holds a
 * cookie it could send there whose domain covers a host policy pins; the domain is copied
 * into why. 0 otherwise, -1 when the store could not be read (refuse). */
int pc_cookies_leak_pinned(CURL *easy, const pincurl_policy *policy, const char *host,
                           char *why, size_t why_size);

/* Initialises libcurl once per process (thread-safe). 0 on success. */
int pc_http_global_init(void);

/* The pin state of one easy handle: what its hooks need and what they recorded. */
typedef struct pc_pin_state {
    pincurl_client *client;
    CURL *easy;
    pincurl_policy *policy; /* the reference the transfer decides with */
    uint64_t generation;    /* policy's generation */
    pc_tls_conn conn;
    pincurl_status refusal;       /* a refusal recorded by the hooks, OK if none */
    char *detail;                 /* detail of that refusal (malloc), or NULL */
    int have_verdict;             /* the last evaluation of this transfer */
    pincurl_verdict verdict;
    pincurl_policy *verdict_policy; /* the policy verdict points into (a reference) */
    char host[PINCURL_HOST_MAX + 1]; /* host:port of the last connection the hooks saw */
    unsigned port;
    /* The request's own URL and its parse (client mode; known_url NULL otherwise): the
     * request check reuses it while the effective URL is that very string. */
    const char *known_url;
    char known_scheme[16];
    char known_host[PINCURL_HOST_MAX + 1];
    unsigned known_port;
    /* Whether the policy of generation pinned_gen pins pinned_host (pc_host_pinned), for
     * the request check: the same host under the same generation is looked up once */
    int pinned_known;
    int pinned;
    uint64_t pinned_gen;
    char pinned_host[PINCURL_HOST_MAX + 1];
    int retire; /* a refused connection or session: do not keep this handle's caches */
    int retry_fresh; /* refused for want of a known path: a full handshake may decide */
    int passed;      /* requests that passed the check (and so were sent) */
    /* The route pincurl configured (client mode), or NULL (an attached handle's own) */
    const pc_route *route;
    /* The hooks of the handshakes this transfer started: detached when it ends */
    pc_tls_hook **hooks;
    size_t hook_count;
    size_t hook_cap;
    /* leaf-only backends: the entry whose pins CURLOPT_PINNEDPUBLICKEY holds, and the
     * generation that entry belongs to (NULL: the request's host is not pinned) */
    int leaf_mode;
    char leaf_host[PINCURL_HOST_MAX + 1];
    uint64_t leaf_generation;
    char *leaf_pins; /* "sha256//...;sha256//..." (malloc), or NULL */
    /* Handshakes and requests of another handle with these hooks (a copy of an attached
     * handle, on any thread) that were refused. A copy writes nothing else here: the state
     * is the attached handle's, in use on its own thread meanwhile. */
    atomic_uint copies_refused;
    /* Where libcurl keeps this handle's connection address (CURLINFO_PRIMARY_IP: an array
     * inside the handle, read once on the handle's own thread): the request check is
     * called with that very pointer for this handle's transfers only. */
    const char *own_primary_ip;
    /* An attached handle's number in the table of attachments (its hooks' data), and how
     * many hooks use the state now (under that table's lock) */
    uintptr_t attach_id;
    unsigned hook_users;
} pc_pin_state;

/* Prepares s for easy on client c, taking a policy reference. route: the route pincurl
 * configured for the transfer, or NULL (an attached handle: its proxy, if any, is the
 * application's and is observed only). */
pincurl_status pc_pin_state_init(pc_pin_state *s, pincurl_client *c, CURL *easy,
                                 const pc_route *route);
/* Frees what s holds. */
void pc_pin_state_cleanup(pc_pin_state *s);
/* Sets CURLOPT_SSL_CTX_FUNCTION/DATA, CURLOPT_PREREQFUNCTION/DATA and turns the TLS
 * session cache on (sessions 1: a pooled handle of one generation) or off.
 * Statuses: OK, INTERNAL (libcurl refused an option). */
pincurl_status pc_pin_install(pc_pin_state *s, int sessions);
/* pc_pin_install for an attached handle (sessions off), whose hooks carry the attachment's
 * number and find s by it among the attachments alive: a copy of the handle
 * (curl_easy_duphandle) keeps the hooks' data after pc_pin_detach, and is then refused
 * without reaching freed memory. pc_pin_detach (before pc_pin_state_cleanup) uninstalls
 * the hooks from the handle and waits for any hook still running on a copy (so not from
 * the attachment's own event callback). Statuses: OK, INTERNAL, OUT_OF_MEMORY. */
pincurl_status pc_pin_attach(pc_pin_state *s);
void pc_pin_detach(pc_pin_state *s);
/* Leaf-only backends (no handshake hook). policy_ok: OK unless a pin of policy is the
 * key of a certificate in the trust store (ca_file, or libcurl's default bundle):
 * BACKEND_UNSUPPORTED, as such a pin cannot be checked. install: CURLOPT_PINNEDPUBLICKEY
 * with the pins of url's host (when pinned) and the request check. */
pincurl_status pc_leaf_policy_ok(const pincurl_policy *policy, const char *ca_file);
pincurl_status pc_leaf_install(pc_pin_state *s, const char *url);
/* Restores libcurl's defaults for the options pc_pin_install set. */
void pc_pin_uninstall(CURL *easy);
/* The status a transfer's CURLcode means, given what the hooks recorded. */
pincurl_status pc_pin_map(const pc_pin_state *s, CURLcode code);
/* Host and port of an absolute URL: host normalised into host (PINCURL_HOST_MAX + 1),
 * scheme into scheme (16 bytes). Statuses: OK, BAD_URL, HOST_INVALID, HOST_NOT_ASCII.
 * libcurl's URL parser; the last successful parse of each thread is remembered (the same
 * string, compared exactly, is not parsed again). Thread-safe. */
pincurl_status pc_url_target(const char *url, char *scheme, char *host, unsigned *port);
/* 1 if the normalised host is pinned (an enforcing or report-only entry) by policy. */
int pc_host_pinned(const pincurl_policy *policy, const char *host);
/* A malloc'd one-line explanation of a non-pin failure: host:port, status, reason. */
char *pc_failure_line(const char *host, unsigned port, pincurl_status st, const char *reason);

#endif
