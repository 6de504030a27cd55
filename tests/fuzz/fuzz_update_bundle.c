/* Fuzz target: signed policy update bundles (pincurl_update_bundle_parse,
 * pincurl_update_bundle_verify, pincurl_update_bundle_sign).
 * Properties: a refusal is one of the parser's statuses and leaves the output zeroed; an
 * accepted bundle is exactly header + key id + policy + signature bytes long, its fields
 * satisfy the format's rules and every pointer lies inside the input; re-signing its fields
 * with any key reproduces the input's signed part byte for byte, and that signature
 * verifies while the input's own signature (made by another key, or random) does not
 * verify under this key unless it is the same signature. */
#include <string.h>

#include "fuzz_common.h"
#include "pincurl/update.h"

/* A fixed private key (the fuzzer only needs some key). */
static const unsigned char PRIV[32] = {
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pincurl_update_bundle b;
    static const pincurl_update_bundle zero;

    memset(&b, 0xa5, sizeof b);
    pincurl_status st = pincurl_update_bundle_parse(data, size, &b);
    if (st != PINCURL_OK) {
        FUZZ_CHECK(st == PINCURL_UPDATE_MALFORMED || st == PINCURL_UPDATE_TOO_LARGE ||
                   st == PINCURL_UPDATE_UNSUPPORTED || (st == PINCURL_INVALID_ARGUMENT &&
                                                        data == NULL));
        FUZZ_CHECK(memcmp(&b, &zero, sizeof b) == 0);
        return 0;
    }

    size_t klen = strlen(b.key_id);
    FUZZ_CHECK(klen >= 1 && klen <= PINCURL_UPDATE_KEY_ID_MAX);
    FUZZ_CHECK(klen == data[10]);
    FUZZ_CHECK(b.sequence >= 1);
    FUZZ_CHECK(b.not_before < b.expires);
    FUZZ_CHECK(b.policy_len >= 1 && b.policy_len <= 1024u * 1024u);
    FUZZ_CHECK(size == PINCURL_UPDATE_HEADER_SIZE + klen + b.policy_len +
                           PINCURL_UPDATE_SIGNATURE_SIZE);
    FUZZ_CHECK(b.signed_part == data);
    FUZZ_CHECK(b.signed_len == size - PINCURL_UPDATE_SIGNATURE_SIZE);
    FUZZ_CHECK(b.policy == data + PINCURL_UPDATE_HEADER_SIZE + klen);
    FUZZ_CHECK(b.signature == data + b.signed_len);
    FUZZ_CHECK(memcmp(b.key_id, data + PINCURL_UPDATE_HEADER_SIZE, klen) == 0);

    unsigned char pub[32];
    FUZZ_CHECK(pincurl_update_public_key(PRIV, pub) == PINCURL_OK);
    unsigned char *again = NULL;
    size_t again_len = 0;
    FUZZ_CHECK(pincurl_update_bundle_sign(b.policy, b.policy_len, b.key_id, b.sequence,
                                          b.not_before, b.expires, PRIV, &again,
                                          &again_len) == PINCURL_OK);
    FUZZ_CHECK(again_len == size);
    FUZZ_CHECK(memcmp(again, data, b.signed_len) == 0);
    pincurl_update_bundle c;
    FUZZ_CHECK(pincurl_update_bundle_parse(again, again_len, &c) == PINCURL_OK);
    FUZZ_CHECK(pincurl_update_bundle_verify(&c, pub) == PINCURL_OK);
    int same_sig = memcmp(again + b.signed_len, b.signature, PINCURL_UPDATE_SIGNATURE_SIZE) == 0;
    st = pincurl_update_bundle_verify(&b, pub);
    FUZZ_CHECK(st == (same_sig ? PINCURL_OK : PINCURL_UPDATE_BAD_SIGNATURE));
    pincurl_update_buffer_free(again);
    return 0;
}
