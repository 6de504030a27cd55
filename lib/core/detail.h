/* Internal: failure details in OkHttp's shape, for people reading logs and exceptions. */
#ifndef PINCURL_CORE_DETAIL_H
#define PINCURL_CORE_DETAIL_H

#include "pincurl/core.h"

/*
 * Formats the explanation of a refused pin evaluation:
 *
 *   pincurl: HOST:PORT refused: RESULT (sentence)
 *   Certificate pinning failure!
 *     Peer certificate chain (validated path):
 *       sha256/...=: CN=leaf,O=org
 *     Pinned certificates for NOTED_HOST:
 *       sha256/...=
 *     Served chain (differs from the validated path):
 *       sha256/...=: CN=...
 *
 * The served chain is printed only when it differs from the path (or no path was built).
 * policy may be NULL when verdict->domain is set. *out is a NUL-terminated string from
 * alloc (NULL: the C library's), freed by the caller with the same allocator.
 * Statuses: INVALID_ARGUMENT, OUT_OF_MEMORY. Thread-safe.
 */
pincurl_status pc_detail_pin_failure(const pincurl_allocator *alloc,
                                     const pincurl_policy *policy,
                                     const pincurl_verdict *verdict, const char *host,
                                     unsigned port, const pincurl_cert_ref *path,
                                     size_t path_len, const pincurl_cert_ref *served,
                                     size_t served_len, char **out);

/* Writes "YYYY-MM-DDTHH:MM:SSZ" for t (seconds since the Unix epoch, UTC) into out
 * (at least 21 bytes). */
void pc_detail_format_time(int64_t t, char out[21]);

#endif
