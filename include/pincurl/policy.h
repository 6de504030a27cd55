/*
 * pincurl policy documents: the JSON form of a policy (docs/policy.md), loaded into the
 * core policy model of pincurl/core.h.
 *
 * Thread-safety: the functions are reentrant; they share no state between calls.
 */
#ifndef PINCURL_POLICY_H
#define PINCURL_POLICY_H

#include "pincurl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest policy document accepted, in bytes. */
#define PINCURL_POLICY_MAX_BYTES (1024u * 1024u)
/* Deepest JSON nesting accepted. */
#define PINCURL_POLICY_MAX_DEPTH 8

/* Where and why a document was refused. Caller-owned plain value; filled on failure,
 * zeroed (status OK, empty strings) on success. */
typedef struct pincurl_diag {
    pincurl_status status;
    char path[256];     /* JSON path of the offending value, e.g. domains["a.com"].pins[1] */
    char message[512];  /* "<path>: <rule>", the sentence to show a person */
    size_t line;        /* 1-based line of a JSON syntax error, else 0 */
    size_t column;      /* 1-based column of a JSON syntax error, else 0 */
} pincurl_diag;

/* Parses a policy document of len bytes (need not be NUL-terminated) and validates it
 * with the same rules as the core builder. On success *out is a new policy (reference
 * count 1, caller releases with pincurl_policy_unref). diag may be NULL.
 * Statuses: the POLICY_* group, PIN_*, HOST_*, OUT_OF_MEMORY, INVALID_ARGUMENT. */
PINCURL_API pincurl_status pincurl_policy_load_json(const char *json, size_t len,
                                                    const pincurl_allocator *alloc,
                                                    pincurl_policy **out,
                                                    pincurl_diag *diag);

/* Reads a file (at most PINCURL_POLICY_MAX_BYTES) and loads it as above. Extra statuses:
 * IO (diag->message names the file and errno's text). */
PINCURL_API pincurl_status pincurl_policy_load_file(const char *path,
                                                    const pincurl_allocator *alloc,
                                                    pincurl_policy **out,
                                                    pincurl_diag *diag);

/* Parses a date as the policy document writes it: "YYYY-MM-DD" (00:00:00 UTC of that day)
 * or RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" / with a numeric offset. Result in seconds since the
 * Unix epoch. Statuses: POLICY_BAD_DATE. */
PINCURL_API pincurl_status pincurl_parse_date(const char *text, int64_t *out);

#ifdef __cplusplus
}
#endif

#endif /* PINCURL_POLICY_H */
