/*
 * pincurl events: what a client tells the application about pin validations, certificate
 * changes, approaching expiry, policy changes and failure reports.
 *
 * An event is an opaque object passed to the application's callback
 * (pincurl_options_set_event_callback). It is borrowed: every accessor's result is valid
 * only until the callback returns; copy what must outlive it. The accessors are thread-safe
 * on the event (it is immutable) and accept NULL (returning 0, NULL or a zero value).
 *
 * The callback runs on the thread that raised the event: for validations, the thread
 * performing the request, inside the TLS handshake. It must not block, and must not call
 * back into the client that raised it (no perform, no set_policy, no free).
 */
#ifndef PINCURL_EVENTS_H
#define PINCURL_EVENTS_H

#include "pincurl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pincurl_event pincurl_event;

/* Kinds of event. Numbers are stable; new kinds are appended. */
typedef enum pincurl_event_kind {
    /* A host the policy names (pinned, report-only or excluded) was validated: one event
     * per TLS handshake, after the decision. */
    PINCURL_EVENT_VALIDATION = 0,
    /* The leaf of host:port differs from the one this client saw there last:
     * pincurl_event_old_pin() is the old leaf's pin, path pin 0 the new one. */
    PINCURL_EVENT_CERT_CHANGED = 1,
    /* The pins of the host expire within 30 days (or have expired): the governing domain
     * entry's own expires when it comes first, else the policy's (pincurl_event_expires,
     * the verdict's effective_expires; the message says which). At most once per host per
     * day per client. */
    PINCURL_EVENT_POLICY_EXPIRING = 2,
    /* The leaf of the validated path expires within 14 days (pincurl_event_expires); at
     * most once per host per day per client. */
    PINCURL_EVENT_LEAF_EXPIRING = 3,
    /* pincurl_client_set_policy() put a new policy generation in force. */
    PINCURL_EVENT_POLICY_CHANGED = 4,
    /* A failure report was written to the spool (pincurl_event_status: OK), or could not be
     * written (the status says why). */
    PINCURL_EVENT_REPORT_QUEUED = 5,
    /* The spool was full: its oldest report was dropped to make room. */
    PINCURL_EVENT_REPORT_DROPPED = 6,
    /* A collector acknowledged a report (2xx) and it left the spool. */
    PINCURL_EVENT_REPORT_SENT = 7,
    /* A signed policy update was verified and applied (a new generation is in force). */
    PINCURL_EVENT_UPDATE_APPLIED = 8,
    /* A signed policy update was rejected (pincurl_event_status says why); the policy in
     * force is unchanged. */
    PINCURL_EVENT_UPDATE_REJECTED = 9,
    /* The stored update was damaged or expired: the base policy is back in force. */
    PINCURL_EVENT_UPDATE_BASE_RESTORED = 10,
    /* A file in the report spool could not be read and was set aside. */
    PINCURL_EVENT_REPORT_SET_ASIDE = 11
} pincurl_event_kind;

/* The application's event callback; user is passed through untouched. */
typedef void (*pincurl_event_cb)(const pincurl_event *event, void *user);

PINCURL_API pincurl_event_kind pincurl_event_get_kind(const pincurl_event *ev);
/* Static name of a kind ("VALIDATION", ...), or "UNKNOWN". */
PINCURL_API const char *pincurl_event_kind_name(pincurl_event_kind kind);

/* The host (normalised) and port the event is about; "" and 0 when none. */
PINCURL_API const char *pincurl_event_host(const pincurl_event *ev);
PINCURL_API unsigned pincurl_event_port(const pincurl_event *ev);

/* The verdict of a VALIDATION (also of CERT_CHANGED and *_EXPIRING, which follow one);
 * NULL for other kinds. Result, decision and the matched pin are in it. */
PINCURL_API const pincurl_verdict *pincurl_event_verdict(const pincurl_event *ev);
PINCURL_API pincurl_result pincurl_event_result(const pincurl_event *ev);
PINCURL_API pincurl_decision pincurl_event_decision(const pincurl_event *ev);
/* The pin that matched, or NULL when none did. */
PINCURL_API const pincurl_pin *pincurl_event_matched_pin(const pincurl_event *ev);

/* The validated path, leaf first, ending at the trust anchor (count 0 when validation
 * built none), and the chain the server sent, leaf first. DER bytes, borrowed. */
PINCURL_API size_t pincurl_event_path_count(const pincurl_event *ev);
PINCURL_API const unsigned char *pincurl_event_path_cert(const pincurl_event *ev, size_t i,
                                                         size_t *len);
/* The pin of path certificate i, or NULL. */
PINCURL_API const pincurl_pin *pincurl_event_path_pin(const pincurl_event *ev, size_t i);
PINCURL_API size_t pincurl_event_served_count(const pincurl_event *ev);
PINCURL_API const unsigned char *pincurl_event_served_cert(const pincurl_event *ev, size_t i,
                                                           size_t *len);

/* CERT_CHANGED: the pin of the leaf seen before; NULL for other kinds. */
PINCURL_API const pincurl_pin *pincurl_event_old_pin(const pincurl_event *ev);
/* *_EXPIRING: when the host's pins (POLICY_EXPIRING: the domain entry's own expiry or the
 * policy's, whichever comes first) or the leaf expire (seconds since the epoch, UTC), else
 * 0. */
PINCURL_API int64_t pincurl_event_expires(const pincurl_event *ev);
/* Microseconds the validation took (VALIDATION), else 0. */
PINCURL_API uint64_t pincurl_event_duration_us(const pincurl_event *ev);
/* The policy generation the event belongs to (1 for the client's first policy). */
PINCURL_API uint64_t pincurl_event_generation(const pincurl_event *ev);
/* REPORT_*: the outcome (OK, or why the report could not be written or sent). */
PINCURL_API pincurl_status pincurl_event_status(const pincurl_event *ev);
/* A sentence for a person; for a refused validation the failure detail of
 * pincurl_response_detail(). Never NULL. */
PINCURL_API const char *pincurl_event_message(const pincurl_event *ev);

#ifdef __cplusplus
}
#endif

#endif /* PINCURL_EVENTS_H */
