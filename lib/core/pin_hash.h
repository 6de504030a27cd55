/* Internal: SHA-256 pins over byte strings (wolfCrypt). */
#ifndef PINCURL_CORE_PIN_HASH_H
#define PINCURL_CORE_PIN_HASH_H

#include "pincurl/core.h"

/* out = SHA-256(a || b); b may be NULL with blen 0. Statuses: LIMIT_EXCEEDED (a part over
 * 4 GiB), INTERNAL. Thread-safe. */
pincurl_status pc_pin_hash_parts(const unsigned char *a, size_t alen, const unsigned char *b,
                                 size_t blen, pincurl_pin *out);

#endif
