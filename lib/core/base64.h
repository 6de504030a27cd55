/* Internal: strict base64 (RFC 4648 standard alphabet) for pins, and a PEM-body variant. */
#ifndef PINCURL_CORE_BASE64_H
#define PINCURL_CORE_BASE64_H

#include "pincurl/common.h"

/* Length of the encoding of n bytes, without NUL (SIZE_MAX if it would overflow). */
size_t pc_base64_encoded_len(size_t n);

/* Decodes exactly len characters: standard alphabet, '=' padding required, no whitespace,
 * nothing after the padding, unused bits of the last group zero (canonical form).
 * out may be NULL (with outcap 0) to validate and learn the length. *outlen (if not NULL)
 * receives the decoded length when the input is valid. Nothing is written to out unless
 * the whole input is valid and fits. Statuses: PIN_BAD_BASE64, BUFFER_TOO_SMALL,
 * INVALID_ARGUMENT. Thread-safe. */
pincurl_status pc_base64_decode(const char *in, size_t len, unsigned char *out, size_t outcap,
                                size_t *outlen);

/* As pc_base64_decode, but space, tab, CR, LF, VT and FF anywhere are skipped (a PEM
 * body), and unused bits set in the last group are ignored (as OpenSSL and Go read PEM;
 * the decoded bytes are the same). Invalid input gives PEM_MALFORMED. */
pincurl_status pc_base64_decode_pem(const char *in, size_t len, unsigned char *out,
                                    size_t outcap, size_t *outlen);

/* Encodes len bytes with padding and writes a NUL; outcap must be at least
 * pc_base64_encoded_len(len) + 1. *outlen (if not NULL) receives the length without NUL.
 * Statuses: BUFFER_TOO_SMALL, INVALID_ARGUMENT. Thread-safe. */
pincurl_status pc_base64_encode(const unsigned char *in, size_t len, char *out, size_t outcap,
                                size_t *outlen);

#endif
