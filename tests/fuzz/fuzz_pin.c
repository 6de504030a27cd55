/* Fuzz target: pin text (pincurl_pin_parse, pincurl_pin_format, pincurl_pin_equal).
 * Properties: a parsed pin formats to text that parses back to the same digest; the
 * canonical 51-character form is the input itself (base64 is strict, so there is one
 * spelling per digest), curl's "sha256//" form differs only by the extra '/'; a refused
 * input leaves the pin zeroed; any 32 bytes round-trip through format and parse. */
#include <string.h>

#include "fuzz_common.h"
#include "pincurl/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    pincurl_pin pin, again;
    char buf[PINCURL_PIN_TEXT_SIZE];
    static const pincurl_pin zero;

    memset(&pin, 0xa5, sizeof pin);
    pincurl_status st = pincurl_pin_parse(text, size, &pin);
    if (st != PINCURL_OK) {
        FUZZ_CHECK(st == PINCURL_PIN_BAD_PREFIX || st == PINCURL_PIN_BAD_BASE64 ||
                   st == PINCURL_PIN_BAD_LENGTH);
        FUZZ_CHECK(memcmp(&pin, &zero, sizeof pin) == 0);
    } else {
        FUZZ_CHECK(size == 51 || size == 52);
        FUZZ_CHECK(pincurl_pin_format(&pin, buf, sizeof buf) == PINCURL_OK);
        FUZZ_CHECK(strlen(buf) == 51);
        if (size == 51) {
            FUZZ_CHECK(memcmp(buf, text, 51) == 0);
        } else {
            FUZZ_CHECK(memcmp(text, "sha256//", 8) == 0);
            FUZZ_CHECK(memcmp(buf + 7, text + 8, 44) == 0);
        }
        FUZZ_CHECK(pincurl_pin_parse(buf, strlen(buf), &again) == PINCURL_OK);
        FUZZ_CHECK(pincurl_pin_equal(&pin, &again));
        /* The NUL-terminated copy and a longer buffer read only len bytes. */
        FUZZ_CHECK(pincurl_pin_format(&pin, buf, sizeof buf - 1) == PINCURL_BUFFER_TOO_SMALL);
    }

    /* Any digest: format, then parse, gives it back; one flipped bit is not equal. */
    if (size >= PINCURL_PIN_DIGEST_SIZE) {
        pincurl_pin raw;
        memcpy(raw.sha256, data, sizeof raw.sha256);
        FUZZ_CHECK(pincurl_pin_format(&raw, buf, sizeof buf) == PINCURL_OK);
        FUZZ_CHECK(pincurl_pin_parse(buf, strlen(buf), &again) == PINCURL_OK);
        FUZZ_CHECK(pincurl_pin_equal(&raw, &again));
        again.sha256[data[0] % PINCURL_PIN_DIGEST_SIZE] ^= (unsigned char)(1u << (data[1] % 8));
        FUZZ_CHECK(!pincurl_pin_equal(&raw, &again));
    }
    return 0;
}
