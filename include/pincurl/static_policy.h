/*
 * pincurl compiled policies: a policy as constant data in a C source file, made on the
 * build machine by `pincurl policy compile FILE` (docs/embedded.md) after the document
 * passed the same validation as pincurl_policy_load_json(). A device turns it into a
 * pincurl_policy with no parser: firmware carries no JSON code.
 *
 * The structures are plain constant data; the generated file fills them. Write them by
 * hand only with care: pincurl_policy_from_static() validates them again with the core
 * builder (hosts, flags, pins, limits; domains strictly sorted byte-wise by host) and
 * refuses anything the builder refuses. The public-suffix check ran when the policy was
 * compiled; it is not repeated on the device.
 *
 * Thread-safety: pincurl_policy_from_static() is reentrant; the data is only read.
 */
#ifndef PINCURL_STATIC_POLICY_H
#define PINCURL_STATIC_POLICY_H

#include "pincurl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The layout version a generated file was written for. Format 2 added the per-domain expiry
 * (the last two fields of pincurl_static_domain); a format 1 file, compiled against this
 * header, leaves them zero and is still accepted. */
#define PINCURL_STATIC_POLICY_FORMAT 2u

/* One domain entry: a normalised host, PINCURL_DOMAIN_* flags and its pins (SHA-256 of a
 * DER SubjectPublicKeyInfo each; pin_count 0 and pins NULL for an EXCLUDE entry), then the
 * entry's own expiry (seconds since the Unix epoch, UTC; 0: none) and the action once it has
 * passed (must be REPORT_AND_ALLOW, the zero value, when expires is 0). The generator
 * writes the action resolved: the entry's own, else the policy's. */
typedef struct pincurl_static_domain {
    const char *host;
    unsigned flags;
    const unsigned char (*pins)[PINCURL_PIN_DIGEST_SIZE];
    size_t pin_count;
    int64_t expires;
    pincurl_on_expiry on_expiry;
} pincurl_static_domain;

typedef struct pincurl_static_policy {
    unsigned format;            /* PINCURL_STATIC_POLICY_FORMAT (1 is accepted too) */
    int64_t expires;            /* seconds since the Unix epoch (UTC); 0: never */
    pincurl_on_expiry on_expiry;
    const char *const *report_uris;
    size_t report_uri_count;
    const pincurl_static_domain *domains; /* sorted byte-wise (strcmp) by host, no repeats */
    size_t domain_count;
} pincurl_static_policy;

/* Builds a policy from compiled data (copied: sp may go away afterwards). alloc as
 * everywhere (NULL: the C library's). On success *out has reference count 1 and is owned
 * by the caller (pincurl_policy_unref); on failure *out is NULL.
 * Statuses: INVALID_ARGUMENT (NULL, or another format), POLICY_BAD_VALUE (domains not
 * strictly sorted, a NULL host or pin array, an on_expiry without expires), the builder's
 * statuses (HOST_*, POLICY_*, OUT_OF_MEMORY). */
PINCURL_API pincurl_status pincurl_policy_from_static(const pincurl_static_policy *sp,
                                                      const pincurl_allocator *alloc,
                                                      pincurl_policy **out);

#ifdef __cplusplus
}
#endif

#endif /* PINCURL_STATIC_POLICY_H */
