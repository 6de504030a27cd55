/*
 * Internal: failure reports. The report document (docs/reports.md), its deduplication key,
 * and the durable spool with its background sender.
 *
 * This layer knows nothing of HTTP or TLS: delivery is a function the caller supplies
 * (pc_report_post_fn), so the layer above decides how a collector is reached (and pinned).
 * It uses cJSON for the documents, POSIX files for the spool and one pthread per spool.
 */
#ifndef PINCURL_REPORT_REPORT_H
#define PINCURL_REPORT_REPORT_H

#include <stdatomic.h>

#include "pincurl/core.h"
#include "pincurl/events.h"

/* ------------------------------------------------------------------------------------ */
/* The report document                                                                   */

/* The application's identity, copied into every report. NULL fields (or a NULL pointer to
 * the whole struct) give "". Borrowed: read only during the call it is passed to. */
typedef struct pc_report_app {
    const char *bundle_id, *version, *vendor_id, *platform, *platform_version;
} pc_report_app;

/* Limits pc_report_build enforces (a longer input is INVALID_ARGUMENT: it is not a report
 * pincurl would produce). */
#define PC_REPORT_MAX_SERVED 32
#define PC_REPORT_MAX_CERT_BYTES ((size_t)64 * 1024)

/* What a report is about. Everything is borrowed for the length of the call. */
typedef struct pc_report_input {
    const pc_report_app *app;                           /* NULL: every app field "" */
    const char *host;                                   /* normalised host; required */
    unsigned port;                                      /* the real port, 1-65535 */
    const char *noted_host;                             /* the policy entry that applied */
    int include_subdomains, enforce;                    /* that entry's flags (0 or 1) */
    const pincurl_cert_ref *served; size_t served_len;  /* served chain, leaf first, DER */
    const pincurl_cert_ref *path; size_t path_len;      /* validated path, leaf first, DER */
    const pincurl_pin *known_pins; size_t known_pin_count; /* the entry's pins */
    pincurl_result result;                              /* TrustKit numbers (core.h) */
    int64_t expires;                                    /* effective expiration, 0 = none */
    int64_t now;                                        /* seconds since epoch, UTC */
    const char *const *uris; size_t uri_count;          /* the policy's report URIs */
} pc_report_input;

/* Builds the report document: compact JSON, NUL-terminated, the fields in the order of
 * docs/reports.md. *json is malloc'd and owned by the caller (free()); *len (if not NULL)
 * receives its length without the NUL. The URIs are not part of the document.
 * Statuses: INVALID_ARGUMENT (NULL host or noted host, port 0 or above 65535, a NULL or
 * empty certificate, more than PINCURL_MAX_PATH path or PC_REPORT_MAX_SERVED served
 * certificates, a certificate over PC_REPORT_MAX_CERT_BYTES, NULL arrays with a count),
 * OUT_OF_MEMORY. On failure *json is NULL. Thread-safe (cJSON's allocator hooks must not
 * be changed concurrently). */
pincurl_status pc_report_build(const pc_report_input *in, char **json, size_t *len);

/* The deduplication key: SHA-256 over the length-prefixed noted host, host, port, every DER
 * certificate of the validated path, the known pins and the result. Two reports that
 * differ only in time, served chain, app fields or expiry share a key.
 * Statuses: INVALID_ARGUMENT (as pc_report_build), INTERNAL (hashing failed; key zeroed).
 * Thread-safe. */
pincurl_status pc_report_key(const pc_report_input *in, unsigned char key[32]);

/* RFC 3339 UTC time, "YYYY-MM-DDTHH:MM:SSZ", into out (at least 21 bytes). Years 0-9999.
 * Statuses: INVALID_ARGUMENT (out of range), BUFFER_TOO_SMALL. Thread-safe. */
pincurl_status pc_report_format_time(int64_t t, char *out, size_t size);

/* ------------------------------------------------------------------------------------ */
/* Delivery (supplied by the layer above)                                                */

/*
 * POSTs body (len bytes, Content-Type: application/json) to uri with the given connect and
 * total timeouts. Returns 0 when an HTTP response arrived and sets *http_code to its status;
 * non-zero when none did (connect failure, timeout, pin failure of the collector, cancel).
 * cancel becomes non-zero when the spool is closing: the function must then return (non-zero)
 * promptly; poll it at least every 100 ms while waiting. Called only from the spool's sender
 * thread, never with a spool lock held; it must not call back into the spool.
 */
typedef int (*pc_report_post_fn)(void *ctx, const char *uri, const char *body, size_t len,
                                 long connect_timeout_ms, long timeout_ms,
                                 const atomic_int *cancel, long *http_code);

/*
 * Events the spool raises: REPORT_QUEUED (status OK, or why a submit wrote nothing),
 * REPORT_DROPPED, REPORT_SENT, REPORT_SET_ASIDE (pincurl/events.h). host is the report's
 * host ("" when unknown, e.g. for a damaged file) and message a sentence for a person; both
 * are borrowed for the call. Called from the thread calling pc_spool_open / pc_spool_submit,
 * or from the sender thread; never with a spool lock held. It may call pc_spool_pending,
 * _dropped and _suppressed, but not submit, flush or close.
 */
typedef void (*pc_report_event_fn)(void *ctx, pincurl_event_kind kind, pincurl_status status,
                                   const char *host, unsigned port, const char *message);

/* ------------------------------------------------------------------------------------ */
/* The spool                                                                             */

/* Defaults used for a zero field of pc_spool_config. */
#define PC_SPOOL_DEFAULT_MAX_REPORTS 256
#define PC_SPOOL_DEFAULT_MAX_BYTES ((size_t)4 * 1024 * 1024)
#define PC_SPOOL_DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define PC_SPOOL_DEFAULT_TIMEOUT_MS 15000L
#define PC_SPOOL_DEFAULT_FIRST_RETRY_MS 1000L
#define PC_SPOOL_MAX_RETRY_MS (3600L * 1000L)
#define PC_SPOOL_DEFAULT_DEDUP_WINDOW_S ((int64_t)86400)
/* Most damaged files kept aside (NAME.bad); beyond, the first by name is removed. */
#define PC_SPOOL_MAX_SET_ASIDE 16
/* Most deduplication keys remembered (the oldest are forgotten first). */
#define PC_SPOOL_MAX_DEDUP_KEYS 4096

/* Read only during pc_spool_open (dir is copied). post is required; event may be NULL.
 * ctx is passed to both and must outlive the spool. */
typedef struct pc_spool_config {
    const char *dir;                 /* the spool directory; created (0700) if missing */
    size_t max_reports, max_bytes;   /* bounds of the report files (0: defaults) */
    long connect_timeout_ms, timeout_ms; /* per delivery attempt (0: defaults) */
    long first_retry_ms;             /* first backoff; doubles up to 1 h, with jitter */
    int64_t dedup_window_s;          /* 0: 86400; negative: no deduplication */
    pc_report_post_fn post;
    pc_report_event_fn event;
    void *ctx;
    /* Called on the sender thread just before it ends (may be NULL): the layer above
     * frees what its libraries keep per thread there. */
    void (*thread_exit)(void *ctx);
} pc_spool_config;

typedef struct pc_spool pc_spool;

/*
 * Opens the spool in cfg->dir: creates the directory (and missing parents, mode 0700),
 * opens it without following a symbolic link and works relative to that descriptor from
 * then on, touching only regular files of the names it makes (docs/reports.md),
 * takes an exclusive lock on it (one spool per directory, across processes), removes
 * temporary files a crash left behind, loads the deduplication window, indexes the reports
 * (a damaged or unreadable one is renamed to NAME.bad with a SET_ASIDE event; at most
 * PC_SPOOL_MAX_SET_ASIDE are kept), drops the oldest beyond the bounds (DROPPED, counted)
 * and starts the sender thread, which resumes delivery of what is there. Events of open
 * are raised on the calling thread before it returns. *out is owned by the caller:
 * pc_spool_close(). Statuses: INVALID_ARGUMENT, SPOOL_UNAVAILABLE (not a directory, cannot
 * be created or opened), SPOOL_READ_ONLY (cannot be created: read-only or permission),
 * SPOOL_NOT_PRIVATE (another user owns it, or group or others can write it),
 * SPOOL_SYMLINK (the last component of dir is a symbolic link: not followed),
 * SPOOL_BUSY (another spool has it),
 * OUT_OF_MEMORY, INTERNAL (no thread). On failure *out is NULL and no thread runs.
 * A spool on a directory that is read-only opens (what is there can still be delivered);
 * submits then fail with SPOOL_READ_ONLY.
 */
pincurl_status pc_spool_open(const pc_spool_config *cfg, pc_spool **out);

/*
 * Spools a report about in. Durable before it returns: the file (the document, its URIs,
 * which of them acknowledged it) is written to a temporary file, fsync'd, renamed into
 * place and the directory fsync'd. If the same key was spooled within the dedup window,
 * nothing is written, *suppressed is 1 and the suppressed counter grows (no event). To stay
 * within the bounds the oldest reports are removed (REPORT_DROPPED each, counted) after the
 * new one is safely written. Raises REPORT_QUEUED with the outcome (also for a failure)
 * unless suppressed or no URI (or s or in is NULL). suppressed may be NULL.
 * Statuses: OK, REPORT_NO_COLLECTOR (in has no URI: nothing written, no event),
 * INVALID_ARGUMENT, LIMIT_EXCEEDED (this one report is larger than max_bytes),
 * SPOOL_READ_ONLY, SPOOL_NO_SPACE (disk full, quota or file size limit), IO, OUT_OF_MEMORY.
 * A failed submit leaves every file already in the spool as it was. Thread-safe.
 */
pincurl_status pc_spool_submit(pc_spool *s, const pc_report_input *in, int *suppressed);

/* Counters since open: reports dropped to respect the bounds, submits suppressed as
 * duplicates. Thread-safe. */
uint64_t pc_spool_dropped(const pc_spool *s);
uint64_t pc_spool_suppressed(const pc_spool *s);

/* Reports in the spool not yet acknowledged by all their URIs. Thread-safe. */
size_t pc_spool_pending(pc_spool *s);

/* Asks the sender to attempt every pending report now (ignoring backoff, once), then waits
 * until the spool is empty or timeout_ms passed. Statuses: OK (empty), TIMEOUT (reports
 * remain; they stay in the spool), INVALID_ARGUMENT. Thread-safe. */
pincurl_status pc_spool_flush(pc_spool *s, long timeout_ms);

/* Stops the sender (promptly, also mid-backoff or mid-delivery through the post function's
 * cancel flag), releases the directory lock and frees s. Files stay on disk for the next
 * open. No other call on s may be running or follow. NULL is a no-op. */
void pc_spool_close(pc_spool *s);

#endif /* PINCURL_REPORT_REPORT_H */
