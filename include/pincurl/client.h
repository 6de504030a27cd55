/*
 * pincurl client: pinned HTTPS requests on libcurl.
 *
 * A client holds a policy, options and a connection pool. It is thread-safe: any number
 * of threads may call pincurl_client_perform() on one client at once. Requests and
 * responses are single-owner values: one thread at a time.
 *
 * The pin decision is made inside the TLS handshake: a refused connection is aborted
 * before a single request byte is sent.
 */
#ifndef PINCURL_CLIENT_H
#define PINCURL_CLIENT_H

#include "pincurl/core.h"
#include "pincurl/events.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pincurl_options pincurl_options;
typedef struct pincurl_client pincurl_client;
typedef struct pincurl_request pincurl_request;
typedef struct pincurl_response pincurl_response;
typedef struct pincurl_attachment pincurl_attachment;

/* ------------------------------------------------------------------------------------ */
/* What the library is built with and runs on                                           */

/* Versions and the TLS backend. Every string is static storage, never NULL ("" when not
 * applicable). Thread-safe; the same object on every call. */
typedef struct pincurl_runtime_info {
    const char *version;          /* pincurl's, "0.1.0" */
    const char *flavour;          /* how it was built: "bundled" (libcurl, wolfSSL and
                                     nghttp2 inside the library), "system" (the
                                     distribution's libcurl on OpenSSL), "gnutls" */
    const char *libcurl_version;  /* the libcurl in use, "8.14.1" */
    const char *tls_library;      /* the TLS library that libcurl uses, "wolfSSL/5.7.2" */
    const char *nghttp2_version;  /* "1.64.0" when libcurl speaks HTTP/2, else "" */
    int http2;                    /* 1 when libcurl speaks HTTP/2 */
    const char *backend;          /* the pin backend for that TLS library: "wolfssl",
                                     "openssl", "pinnedpubkey" (leaf-only), "" for none */
    const char *backend_expected; /* the backend this library was built for */
    int backend_ok;               /* 1 when backend == backend_expected; otherwise every
                                     pincurl_client_new() fails with BACKEND_UNSUPPORTED */
    const char *bundled_wolfssl;  /* Debian source package versions built in ("" if none) */
    const char *bundled_curl;
    const char *bundled_nghttp2;
} pincurl_runtime_info;

PINCURL_API const pincurl_runtime_info *pincurl_runtime(void);

/* Frees what the TLS library keeps for the calling thread (OpenSSL's error queue and
 * random state in the "system" flavour; a wolfSSL built with per-thread ECC caches).
 * Call it on a thread that made requests, just before the thread ends; pincurl's own
 * threads and the bindings do. Safe to call on any thread, any number of times, also when
 * there is nothing to free (the bundled wolfSSL keeps no per-thread state). */
PINCURL_API void pincurl_thread_cleanup(void);

/* ------------------------------------------------------------------------------------ */
/* Options (copied by pincurl_client_new; the options object may be freed afterwards).   */
/* Not thread-safe: build them on one thread.                                            */

PINCURL_API pincurl_options *pincurl_options_new(void);   /* NULL on OOM; caller frees */
PINCURL_API void pincurl_options_free(pincurl_options *o);

/* PEM file of trusted roots (default: the system bundle libcurl was built with). */
PINCURL_API pincurl_status pincurl_options_set_ca_file(pincurl_options *o, const char *path);
/* Milliseconds; 0 means libcurl's default (connect) or no limit (total). */
PINCURL_API pincurl_status pincurl_options_set_connect_timeout_ms(pincurl_options *o, long ms);
PINCURL_API pincurl_status pincurl_options_set_timeout_ms(pincurl_options *o, long ms);
PINCURL_API pincurl_status pincurl_options_set_user_agent(pincurl_options *o, const char *ua);
/* A proxy URL in libcurl's syntax ("http://127.0.0.1:8080"); NULL for none. */
PINCURL_API pincurl_status pincurl_options_set_proxy(pincurl_options *o, const char *proxy);
/* "HOST:PORT:ADDRESS" as CURLOPT_RESOLVE; may be called repeatedly. The pin decision
 * uses HOST, never the address. */
PINCURL_API pincurl_status pincurl_options_add_resolve(pincurl_options *o, const char *entry);
/* Redirects followed per request (default 0: none; at most 50). */
PINCURL_API pincurl_status pincurl_options_set_max_redirects(pincurl_options *o, long n);
/* libcurl's own leaf pinning, as CURLOPT_PINNEDPUBLICKEY and curl's --pinnedpubkey:
 * "sha256//BASE64;sha256//BASE64" or the path of a PEM or DER public key file. Applies to
 * every host of the client, in addition to the policy (both must pass); a mismatch is
 * PIN_MISMATCH. NULL for none. Copied. */
PINCURL_API pincurl_status pincurl_options_set_pinned_public_key(pincurl_options *o,
                                                                 const char *spec);
/* A directory of trusted roots (CURLOPT_CAPATH, as curl's --capath), in addition to the CA
 * file or the default bundle; an https:// proxy is validated with it too. The leaf-only
 * mode (docs/backends.md) cannot check a policy against a directory: pincurl_client_new is
 * then BACKEND_UNSUPPORTED. NULL for none. Copied. Statuses: UNSUPPORTED (the TLS backend
 * of the libcurl in use reads no directory: PINCURL_FEATURE_CA_PATH), INVALID_ARGUMENT. */
PINCURL_API pincurl_status pincurl_options_set_ca_path(pincurl_options *o, const char *dir);
/* Connects somewhere else than the URL says, as CURLOPT_CONNECT_TO and curl's --connect-to:
 * "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT" (an empty HOST or PORT matches any; an empty
 * CONNECT-TO part keeps the URL's). May be called repeatedly. The TLS name check and the pin
 * decision use the URL's host, never the host connected to. Copied.
 * Statuses: INVALID_ARGUMENT (not four colon-separated parts, control characters),
 * LIMIT_EXCEEDED (more than 1024 entries), OUT_OF_MEMORY. */
PINCURL_API pincurl_status pincurl_options_add_connect_to(pincurl_options *o,
                                                          const char *entry);
/* Which addresses a host name resolves to (CURLOPT_IPRESOLVE; curl's -4 and -6). The pin
 * decision is the same whichever address is used. */
typedef enum pincurl_ip_version {
    PINCURL_IP_ANY = 0,
    PINCURL_IP_V4 = 4,
    PINCURL_IP_V6 = 6
} pincurl_ip_version;
PINCURL_API pincurl_status pincurl_options_set_ip_version(pincurl_options *o,
                                                          pincurl_ip_version v);
/* The HTTP version asked for (CURLOPT_HTTP_VERSION; curl's --http1.0, --http1.1, --http2).
 * DEFAULT is libcurl's (HTTP/2 over TLS when libcurl has it, else HTTP/1.1); 2 is HTTP/2,
 * with HTTP/1.1 where the server does not offer it. Statuses: INVALID_ARGUMENT (another
 * value), UNSUPPORTED (HTTP/2 asked and the libcurl in use has none: see
 * pincurl_http_features). Every connection is decided alike whatever its version. */
typedef enum pincurl_http_version {
    PINCURL_HTTP_VERSION_DEFAULT = 0,
    PINCURL_HTTP_VERSION_1_0 = 10,
    PINCURL_HTTP_VERSION_1_1 = 11,
    PINCURL_HTTP_VERSION_2 = 20
} pincurl_http_version;
PINCURL_API pincurl_status pincurl_options_set_http_version(pincurl_options *o,
                                                            pincurl_http_version v);
/* The lowest TLS version accepted (CURLOPT_SSLVERSION; curl's --tlsv1.2, --tlsv1.3). The
 * default is libcurl's (TLS 1.2 with the libcurl pincurl builds). */
typedef enum pincurl_tls_version {
    PINCURL_TLS_VERSION_DEFAULT = 0,
    PINCURL_TLS_VERSION_1_2 = 12,
    PINCURL_TLS_VERSION_1_3 = 13
} pincurl_tls_version;
PINCURL_API pincurl_status pincurl_options_set_tls_min_version(pincurl_options *o,
                                                               pincurl_tls_version v);
/* Redirects: follow 0, a redirect is the response (max ignored); follow 1, up to max (0 to
 * 50) are followed and one more is TOO_MANY_REDIRECTS (curl's -L --max-redirs N, so max 0
 * makes any redirect an error). pincurl_options_set_max_redirects(o, n) is follow n > 0. */
PINCURL_API pincurl_status pincurl_options_set_follow_redirects(pincurl_options *o, int follow,
                                                                long max);
/* libcurl's cookie engine for every request of the client (curl's -b FILE and -c FILE):
 * enable 1 turns it on, with one cookie store shared by all the client's requests and
 * threads. load_file (NULL: none), a cookie file in Netscape or Set-Cookie header format,
 * is read once by pincurl_client_new (a missing file is an empty store, as libcurl has
 * it); save_file (NULL: none; "-" is stdout) is where pincurl_client_save_cookies writes
 * the store. enable 0 turns it off (the default; the files are then ignored). Copied.
 * A cookie never goes over cleartext to a pinned host (such requests are refused), and a
 * request over http:// to which the store would send a cookie whose domain covers a pinned
 * host is refused too (CLEARTEXT_PINNED), before a byte is sent. */
PINCURL_API pincurl_status pincurl_options_set_cookie_engine(pincurl_options *o, int enable,
                                                             const char *load_file,
                                                             const char *save_file);
/* Cap on a response body kept in memory (default 64 MiB). */
PINCURL_API pincurl_status pincurl_options_set_max_body_bytes(pincurl_options *o, size_t n);
/* Called for every event of the client (pincurl/events.h): each validation of a host the
 * policy names, certificate changes, expiry warnings, policy changes, reports. user is
 * passed through untouched. NULL for none. */
PINCURL_API pincurl_status pincurl_options_set_event_callback(pincurl_options *o,
                                                              pincurl_event_cb cb,
                                                              void *user);

/* Failure reports (docs/reports.md). The application's identity, copied into every report
 * (each may be NULL: the field is then ""). */
PINCURL_API pincurl_status pincurl_options_set_app_info(pincurl_options *o,
                                                        const char *bundle_id,
                                                        const char *version,
                                                        const char *vendor_id,
                                                        const char *platform,
                                                        const char *platform_version);
/* The spool directory (created if missing, mode 0700). Without one, reports are not
 * written and a REPORT_QUEUED event with status UNSUPPORTED says so. pincurl_client_new
 * refuses a directory another user owns or group or others can write (SPOOL_NOT_PRIVATE),
 * and a path whose last component is a symbolic link (SPOOL_SYMLINK). */
PINCURL_API pincurl_status pincurl_options_set_spool_dir(pincurl_options *o, const char *dir);
/* Bounds of the spool: most reports and most bytes kept (defaults 256 and 4 MiB; 0 keeps
 * the default). When full, the oldest report is dropped. */
PINCURL_API pincurl_status pincurl_options_set_spool_limits(pincurl_options *o,
                                                            size_t max_reports,
                                                            size_t max_bytes);
/* Timeouts of a report delivery in milliseconds (defaults 5000 connect, 15000 total), and
 * the first retry delay (default 1000; it doubles per failure up to 1 hour, with jitter). */
PINCURL_API pincurl_status pincurl_options_set_report_timing(pincurl_options *o,
                                                             long connect_timeout_ms,
                                                             long timeout_ms,
                                                             long first_retry_ms);

/* Firmware hooks (docs/embedded.md). */

/* A clock: seconds since the Unix epoch (UTC), for a device whose time() is not set. Must
 * be thread-safe when the client is used from several threads. */
typedef int64_t (*pincurl_clock_fn)(void *ctx);
/* The clock the client decides expiry with (NULL: time()). Wherever the client reads the
 * time itself (expiry monitoring, the re-decision of a reused connection) it uses this
 * clock; and with a clock set, every request to a pinned host is decided again with it
 * just before the request is sent (path-validating backends such as wolfSSL; the
 * leaf-only mode does not), also on a connection the handshake allowed: the TLS
 * library's handshake check keeps reading the system time, so both must pass (a policy
 * expired by either clock with on_expiry block is refused, POLICY_EXPIRED). ctx is passed
 * through untouched. */
PINCURL_API pincurl_status pincurl_options_set_clock(pincurl_options *o, pincurl_clock_fn now,
                                                     void *ctx);
/* The allocator of the client object and its certificate monitor (copied; NULL, or all
 * three functions NULL: the C library's). The client frees through it, from the thread calling
 * pincurl_client_free. Other allocations (requests, responses, per-transfer state) use
 * the C library's malloc, and libcurl and wolfSSL keep their own process-wide allocators
 * (curl_global_init_mem, wolfSSL_SetAllocators); docs/embedded.md measures each.
 * Statuses: INVALID_ARGUMENT (NULL o, or alloc with some but not all of its three
 * functions). */
PINCURL_API pincurl_status pincurl_options_set_allocator(pincurl_options *o,
                                                         const pincurl_allocator *alloc);

/* ------------------------------------------------------------------------------------ */
/* The client                                                                            */

/* Creates a client. Takes its own reference to policy (the caller keeps theirs).
 * opts may be NULL (defaults). *out is owned by the caller: pincurl_client_free().
 * The first call initialises libcurl (curl_global_init) exactly once, safely from any
 * thread; an application calling curl_global_cleanup() must free every client first.
 * Statuses: INVALID_ARGUMENT, OUT_OF_MEMORY, INTERNAL, BACKEND_UNSUPPORTED: the libcurl in
 * use is not on the TLS library this pincurl was built for (pincurl_runtime() says which
 * is which; a library never falls back to weaker checks), or, in the leaf-only "gnutls"
 * flavour, the policy pins a key of the trust store. */
PINCURL_API pincurl_status pincurl_client_new(pincurl_policy *policy,
                                              const pincurl_options *opts,
                                              pincurl_client **out);

/* Frees the client. No perform may be running on it. Reports not yet delivered stay in
 * the spool for the next client on the same spool directory. NULL is a no-op. */
PINCURL_API void pincurl_client_free(pincurl_client *c);

/* The policy in force now, with a new reference (caller unrefs). Thread-safe. */
PINCURL_API pincurl_policy *pincurl_client_policy(pincurl_client *c);

/* Puts policy in force as a new generation (the client takes its own reference). Requests
 * that start afterwards decide with it; requests already running finish with the policy
 * they started with. A TLS session or pooled connection verified under an older
 * generation is never resumed or reused. Thread-safe, also while requests run.
 * Statuses: INVALID_ARGUMENT, BACKEND_UNSUPPORTED (as pincurl_client_new). */
PINCURL_API pincurl_status pincurl_client_set_policy(pincurl_client *c,
                                                     pincurl_policy *policy);

/* The generation in force: 1 for the policy the client was made with, plus one for every
 * set_policy. Thread-safe. */
PINCURL_API uint64_t pincurl_client_generation(const pincurl_client *c);

/* Reports dropped so far because the spool was full (since the client was made).
 * Thread-safe. */
PINCURL_API uint64_t pincurl_client_reports_dropped(const pincurl_client *c);

/* Reports not written because an identical one (same noted host, host, port, validated
 * path, pins and result) was spooled within the last 24 hours. Thread-safe. */
PINCURL_API uint64_t pincurl_client_reports_suppressed(const pincurl_client *c);

/* Waits until the report spool is empty or timeout_ms passed, whichever comes first.
 * Statuses: OK (empty), TIMEOUT (reports remain; they stay in the spool). Thread-safe. */
PINCURL_API pincurl_status pincurl_client_flush_reports(pincurl_client *c, long timeout_ms);

/* Writes the client's cookie store to the save_file of pincurl_options_set_cookie_engine
 * (libcurl's Netscape cookie file format). Statuses: OK (also when the engine is off or
 * has no save file: nothing to do), IO (the file cannot be opened for writing),
 * INVALID_ARGUMENT, OUT_OF_MEMORY, INTERNAL. Thread-safe. */
PINCURL_API pincurl_status pincurl_client_save_cookies(pincurl_client *c);

/* Name of the TLS backend pin decisions run on ("wolfssl", ...). Static storage. */
PINCURL_API const char *pincurl_client_tls_backend(const pincurl_client *c);

/* ------------------------------------------------------------------------------------ */
/* Requests                                                                              */

/* A request for method ("GET", "POST", ...) and an absolute http:// or https:// URL; both
 * copied. NULL on OOM or a NULL argument. Owned by the caller: pincurl_request_free(). */
PINCURL_API pincurl_request *pincurl_request_new(const char *method, const char *url);
PINCURL_API void pincurl_request_free(pincurl_request *r);

/* Adds "Name: value" (copied). Statuses: INVALID_ARGUMENT (no colon, CR or LF). */
PINCURL_API pincurl_status pincurl_request_add_header(pincurl_request *r, const char *line);

/* A body from memory (copied). */
PINCURL_API pincurl_status pincurl_request_set_body(pincurl_request *r, const void *data,
                                                    size_t len);

/* A body from a callback: fills buf with up to size bytes, returns the count, 0 at the
 * end, or (size_t)-1 to abort the request (ABORTED_BY_CALLBACK). length is the total size
 * or -1 if unknown (chunked). */
typedef size_t (*pincurl_read_cb)(void *buf, size_t size, void *user);
PINCURL_API pincurl_status pincurl_request_set_body_callback(pincurl_request *r,
                                                             pincurl_read_cb cb, void *user,
                                                             int64_t length);

/* Streams the response body to a callback instead of memory: return len to continue,
 * anything else aborts the request (ABORTED_BY_CALLBACK). */
typedef size_t (*pincurl_write_cb)(const void *data, size_t len, void *user);
PINCURL_API pincurl_status pincurl_request_set_write_callback(pincurl_request *r,
                                                              pincurl_write_cb cb, void *user);

/* Receives every header line libcurl receives, as received (status lines of every response
 * included: 1xx, redirect hops, a proxy's CONNECT answer; each line with its CRLF; the
 * empty line that ends a header block): what curl writes with -D and -i. Return len to
 * continue, anything else aborts the request (ABORTED_BY_CALLBACK). The response's own
 * header list (pincurl_response_header*) is kept as well. NULL for none. */
PINCURL_API pincurl_status pincurl_request_set_header_callback(pincurl_request *r,
                                                               pincurl_write_cb cb,
                                                               void *user);

/* An upload as libcurl's CURLOPT_UPLOAD (curl's -T): the body comes from cb (as
 * pincurl_request_set_body_callback), the method is PUT unless the request's method is
 * another, and no Content-Type is added. length is the size, or -1 if unknown (sent
 * chunked). Replaces any body or form set before. */
PINCURL_API pincurl_status pincurl_request_set_upload(pincurl_request *r, pincurl_read_cb cb,
                                                      void *user, int64_t length);

/* A multipart/form-data body (libcurl's MIME API, curl's -F), one part per call, in order.
 * add_form_data: a part holding len bytes of data (copied); add_form_file: a part whose
 * content is the file at path, read while the request is sent (an unreadable file fails
 * the request: TRANSFER, with CURLE_READ_ERROR in its transfer info). filename: the name
 * sent for the part; NULL for none with form_data, for the file's base name with
 * form_file; "" for none. content_type: NULL for libcurl's choice. All strings copied.
 * The method is POST unless the request's method is another. Replaces a body set before
 * (setting a body later removes the parts). Statuses: INVALID_ARGUMENT (NULL or empty name,
 * CR or LF in a string), LIMIT_EXCEEDED (more than 1024 parts), OUT_OF_MEMORY. */
PINCURL_API pincurl_status pincurl_request_add_form_data(pincurl_request *r, const char *name,
                                                         const void *data, size_t len,
                                                         const char *filename,
                                                         const char *content_type);
PINCURL_API pincurl_status pincurl_request_add_form_file(pincurl_request *r, const char *name,
                                                         const char *path,
                                                         const char *filename,
                                                         const char *content_type);

/* HTTP Basic credentials (curl's -u USER:PASSWORD). libcurl sends them to the URL's host
 * only, never to another host a redirect leads to. NULL user removes them. Copied. */
PINCURL_API pincurl_status pincurl_request_set_credentials(pincurl_request *r,
                                                           const char *user,
                                                           const char *password);

/* The Referer header (curl's -e): referer (NULL: none) on the first request; automatic 1
 * also sets it on every redirect hop to the URL it came from (curl's -e ';auto'). Copied. */
PINCURL_API pincurl_status pincurl_request_set_referer(pincurl_request *r, const char *referer,
                                                       int automatic);

/* A Cookie header of this request's own ("name=value; name2=value2"; curl's -b STRING), sent
 * with every request of its redirect chain, after any cookies of the client's cookie engine.
 * NULL for none. Copied. */
PINCURL_API pincurl_status pincurl_request_set_cookie(pincurl_request *r, const char *cookie);

/* Asks for a compressed response and decodes it (curl's --compressed): encodings is an
 * Accept-Encoding value, "" for every encoding the libcurl in use decodes
 * (pincurl_http_features), NULL for none (the default). The body callbacks and the body in
 * memory receive the decoded bytes. Statuses: UNSUPPORTED ("" and this libcurl decodes
 * nothing), INVALID_ARGUMENT, OUT_OF_MEMORY. */
PINCURL_API pincurl_status pincurl_request_set_accept_encoding(pincurl_request *r,
                                                               const char *encodings);

/* Writes the response body to a file (created or truncated; path copied). */
PINCURL_API pincurl_status pincurl_request_set_output_file(pincurl_request *r,
                                                           const char *path);

/* ------------------------------------------------------------------------------------ */
/* Performing                                                                            */

/* Performs the request, blocking. Thread-safe on one client. Returns the outcome status
 * (OK when an HTTP response arrived, whatever its code). *out (may be NULL) receives a
 * response even on failure, so the caller can read the detail and verdict; it is NULL only
 * when no memory was left. Caller frees it. */
PINCURL_API pincurl_status pincurl_client_perform(pincurl_client *c, const pincurl_request *r,
                                                  pincurl_response **out);

PINCURL_API void pincurl_response_free(pincurl_response *resp);
/* The outcome status (same as perform returned). */
PINCURL_API pincurl_status pincurl_response_status(const pincurl_response *resp);
/* HTTP status code of the last response, 0 if none. */
PINCURL_API long pincurl_response_code(const pincurl_response *resp);
/* The body kept in memory (NULL and 0 when streamed or empty). Borrowed. */
PINCURL_API const unsigned char *pincurl_response_body(const pincurl_response *resp,
                                                       size_t *len);
/* Headers of the last response. Borrowed strings. */
PINCURL_API size_t pincurl_response_header_count(const pincurl_response *resp);
PINCURL_API const char *pincurl_response_header_name(const pincurl_response *resp, size_t i);
PINCURL_API const char *pincurl_response_header_value(const pincurl_response *resp, size_t i);
/* First header of that name (case-insensitive), or NULL. */
PINCURL_API const char *pincurl_response_header(const pincurl_response *resp,
                                                const char *name);
/* The URL of the last hop. Borrowed. */
PINCURL_API const char *pincurl_response_effective_url(const pincurl_response *resp);
/* A human-readable explanation of a failure ("" on success): for a pin failure, the host,
 * each certificate of the validated path with its pin and subject, the pins the policy has
 * for the host, and the served chain when it differs. Borrowed. */
PINCURL_API const char *pincurl_response_detail(const pincurl_response *resp);
/* The verdict of the last pinned validation of this request, or NULL if no pinned host was
 * validated. Borrowed. */
PINCURL_API const pincurl_verdict *pincurl_response_verdict(const pincurl_response *resp);

/* What libcurl measured and reported about the transfer (curl's --write-out variables),
 * for the last hop unless said otherwise. Times are microseconds from the start of the
 * request, -1 where libcurl gave none; sizes are bytes; strings are NULL where libcurl
 * gave none. A request that failed before libcurl ran (a bad URL, cleartext to a pinned
 * host) has every number 0 and curl_code 0. */
typedef struct pincurl_transfer_info {
    int curl_code;               /* the CURLcode the transfer ended with (0: CURLE_OK) */
    const char *curl_error;      /* libcurl's message for it ("" when curl_code is 0) */
    long os_errno;               /* errno of the last failed connect (CURLINFO_OS_ERRNO) */
    long http_version;           /* 10, 11, 20, 30; 0 if no response */
    long http_connect_code;      /* a proxy's CONNECT answer, 0 if none */
    long num_redirects;          /* redirects followed */
    long num_connects;           /* new connections made */
    long ssl_verify_result;      /* libcurl's certificate verification result */
    long proxy_ssl_verify_result;
    int64_t namelookup_us, connect_us, appconnect_us, pretransfer_us, starttransfer_us,
        redirect_us, total_us;
    int64_t size_download, size_upload, size_header, size_request;
    int64_t speed_download, speed_upload; /* bytes per second */
    int64_t retry_after;         /* a Retry-After header in seconds from now, 0 if none */
    char remote_ip[64];          /* the address connected to ("" if none) */
    long remote_port;
    char local_ip[64];
    long local_port;
    const char *scheme;          /* of the last hop, as libcurl reports it */
    const char *content_type;
    const char *redirect_url;    /* where the last response redirects (not followed) */
    const char *effective_method;
    const char *referer;         /* the Referer header sent on the last hop */
} pincurl_transfer_info;

/* The transfer info of a response; NULL only for a NULL response. Borrowed: valid until
 * the response is freed. */
PINCURL_API const pincurl_transfer_info *pincurl_response_info(const pincurl_response *resp);

/* ------------------------------------------------------------------------------------ */
/* What the libcurl in use can do (thread-safe; no client needed)                        */

#define PINCURL_FEATURE_HTTP2 0x01u  /* HTTP/2 */
#define PINCURL_FEATURE_IPV6 0x02u
#define PINCURL_FEATURE_GZIP 0x04u   /* gzip and deflate decoding (zlib) */
#define PINCURL_FEATURE_BROTLI 0x08u /* br decoding */
#define PINCURL_FEATURE_ZSTD 0x10u   /* zstd decoding */
#define PINCURL_FEATURE_CA_PATH 0x20u /* a directory of trusted roots (set_ca_path) */

/* PINCURL_FEATURE_* bits of the libcurl in use. */
PINCURL_API unsigned pincurl_http_features(void);
/* libcurl's version line ("libcurl/7.88.1 wolfSSL/5.5.4 zlib/1.2.13"). Static storage. */
PINCURL_API const char *pincurl_http_library(void);

/* ------------------------------------------------------------------------------------ */
/* Attaching to an application's own libcurl handle                                      */

/* Installs the client's pin decision on an existing CURL easy handle (passed as void * so
 * this header does not need curl.h). The handle must come from the libcurl pincurl runs
 * on: the distribution's libcurl in the "system" flavour, or, in the "bundled" flavour, the
 * libcurl inside the static libpincurl.a the application links; the shared bundled
 * libpincurl.so keeps its libcurl hidden and refuses with BACKEND_UNSUPPORTED. It sets CURLOPT_SSL_CTX_FUNCTION/DATA,
 * CURLOPT_PREREQFUNCTION/DATA and disables the TLS session cache on that handle. The
 * application keeps its own options otherwise. *out is owned by the caller and must
 * outlive every transfer on the handle; pincurl_detach() removes the hooks and frees it.
 * The client must outlive the attachment. Not thread-safe for one handle (as libcurl). */
PINCURL_API pincurl_status pincurl_attach(pincurl_client *c, void *curl_easy,
                                          pincurl_attachment **out);
PINCURL_API void pincurl_detach(pincurl_attachment *a);

/* After curl_easy_perform() returned curl_code on the attached handle: the pincurl status
 * it means (PIN_MISMATCH rather than a generic TLS error, ...). */
PINCURL_API pincurl_status pincurl_attachment_status(const pincurl_attachment *a,
                                                     int curl_code);
/* Failure detail of the last transfer ("" if none). Borrowed until the next transfer. */
PINCURL_API const char *pincurl_attachment_detail(const pincurl_attachment *a);

#ifdef __cplusplus
}
#endif

#endif /* PINCURL_CLIENT_H */
