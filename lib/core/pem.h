/* Internal: PEM (RFC 7468) block scanning and decoding. */
#ifndef PINCURL_CORE_PEM_H
#define PINCURL_CORE_PEM_H

#include "pincurl/common.h"

/* One block, borrowed from the scanned text. */
typedef struct pc_pem_block {
    const char *label; /* "CERTIFICATE", "PUBLIC KEY", ... (not NUL-terminated) */
    size_t label_len;
    const char *body;  /* the lines between the BEGIN and END lines */
    size_t body_len;
} pc_pem_block;

/* Finds the next block in data[*pos..len): a "-----BEGIN LABEL-----" line, then a matching
 * "-----END LABEL-----" line (both at the start of a line; CRLF and text between blocks are
 * tolerated). On OK, *found is 1 and *pos is past the END line, or *found is 0 when no
 * further block exists. PEM_MALFORMED: a BEGIN line that is not well formed, a block with
 * no END line (or another BEGIN first), an END label that differs. Thread-safe. */
pincurl_status pc_pem_next(const char *data, size_t len, size_t *pos, pc_pem_block *block,
                           int *found);

/* 1 if the block's label is exactly label. */
int pc_pem_label_is(const pc_pem_block *block, const char *label);

/* Decodes the block's base64 body (line breaks and other whitespace skipped) into a buffer
 * allocated through alloc (already initialised; freed by the caller with pc_free).
 * Statuses: PEM_MALFORMED, OUT_OF_MEMORY. */
pincurl_status pc_pem_decode(const pc_pem_block *block, const pincurl_allocator *alloc,
                             unsigned char **der, size_t *der_len);

#endif
