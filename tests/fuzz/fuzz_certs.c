/* Fuzz target: certificate and key loaders, PEM and DER (pincurl_cert_list_load,
 * pincurl_pin_from_public_key).
 * Properties: every loaded certificate lies in the list's own copy and has a locatable
 * SPKI; a single DER input loads as exactly itself and gives the same pin from the key
 * loader; the same bytes wrapped in a PEM CERTIFICATE block load identically; a refusal
 * leaves *out NULL / the pin zeroed; every block allocated through the caller's allocator
 * is returned, including when an allocation fails part way. */
#include <string.h>

#include "core/base64.h"
#include "fuzz_common.h"
#include "pincurl/core.h"

static const pincurl_pin zero_pin;

/* Loads data and checks the list; returns the status. *single is set when the input was
 * taken as one DER certificate (the list holds the input's bytes exactly). */
static pincurl_status load_checked(const unsigned char *data, size_t size, long fail_after,
                                   int *single)
{
    fuzz_counting count;
    pincurl_allocator alloc = fuzz_counting_allocator(&count, fail_after);
    pincurl_cert_list *list = (pincurl_cert_list *)&count; /* must be overwritten */
    pincurl_status st = pincurl_cert_list_load(data, size, &alloc, &list);
    *single = 0;
    if (st != PINCURL_OK) {
        FUZZ_CHECK(list == NULL);
        FUZZ_CHECK(count.live == 0);
        FUZZ_CHECK(pincurl_cert_list_count(list) == 0);
        return st;
    }
    size_t n = pincurl_cert_list_count(list);
    FUZZ_CHECK(n >= 1 && n <= 4096);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        const unsigned char *der = pincurl_cert_list_der(list, i, &len);
        FUZZ_CHECK(der != NULL && len > 0);
        FUZZ_CHECK(der < data || der >= data + size); /* a copy, not borrowed input */
        const unsigned char *spki;
        size_t spki_len;
        FUZZ_CHECK(pincurl_spki_locate(der, len, &spki, &spki_len) == PINCURL_OK);
        if (n == 1 && len == size && memcmp(der, data, size) == 0)
            *single = 1;
    }
    size_t len = 1;
    FUZZ_CHECK(pincurl_cert_list_der(list, n, &len) == NULL && len == 0);
    pincurl_cert_list_free(list);
    FUZZ_CHECK(count.live == 0);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int single = 0;
    pincurl_status st = load_checked(data, size, -1, &single);

    /* Allocation failure at the first and second allocation: refused, nothing leaked. */
    for (long k = 0; k < 2; k++) {
        int s2;
        pincurl_status f = load_checked(data, size, k, &s2);
        FUZZ_CHECK(f != PINCURL_OK); /* a loaded list needs three allocations */
        if (st != PINCURL_OK)
            FUZZ_CHECK(f == st || f == PINCURL_OUT_OF_MEMORY);
    }

    pincurl_pin key_pin;
    memset(&key_pin, 0x5a, sizeof key_pin);
    pincurl_status ks = pincurl_pin_from_public_key(data, size, &key_pin);
    if (ks != PINCURL_OK)
        FUZZ_CHECK(memcmp(&key_pin, &zero_pin, sizeof key_pin) == 0);

    if (single) {
        pincurl_pin cert_pin;
        FUZZ_CHECK(pincurl_pin_from_cert_der(data, size, &cert_pin) == PINCURL_OK);
        FUZZ_CHECK(ks == PINCURL_OK && pincurl_pin_equal(&cert_pin, &key_pin));
    }

    /* The input as the body of a PEM CERTIFICATE block (64-character lines). */
    if (size > 0 && size <= 65536 && data[0] == 0x30) {
        size_t b64_len = pc_base64_encoded_len(size);
        char *b64 = malloc(b64_len + 1);
        char *pem = malloc(b64_len + b64_len / 64 + 64);
        FUZZ_CHECK(b64 != NULL && pem != NULL);
        FUZZ_CHECK(pc_base64_encode(data, size, b64, b64_len + 1, NULL) == PINCURL_OK);
        size_t o = 0;
        o += (size_t)sprintf(pem + o, "-----BEGIN CERTIFICATE-----\n");
        for (size_t i = 0; i < b64_len; i += 64) {
            size_t k = b64_len - i < 64 ? b64_len - i : 64;
            memcpy(pem + o, b64 + i, k);
            o += k;
            pem[o++] = '\n';
        }
        o += (size_t)sprintf(pem + o, "-----END CERTIFICATE-----\n");

        fuzz_counting count;
        pincurl_allocator alloc = fuzz_counting_allocator(&count, -1);
        pincurl_cert_list *list = NULL;
        pincurl_status ps = pincurl_cert_list_load((const unsigned char *)pem, o, &alloc, &list);
        const unsigned char *spki;
        size_t spki_len;
        pincurl_status ls = pincurl_spki_locate(data, size, &spki, &spki_len);
        FUZZ_CHECK((ps == PINCURL_OK) == (ls == PINCURL_OK));
        if (ps == PINCURL_OK) {
            size_t len = 0;
            const unsigned char *der = pincurl_cert_list_der(list, 0, &len);
            FUZZ_CHECK(pincurl_cert_list_count(list) == 1);
            FUZZ_CHECK(len == size && memcmp(der, data, size) == 0);
            pincurl_pin a, b;
            FUZZ_CHECK(pincurl_pin_from_public_key((const unsigned char *)pem, o, &a) ==
                       PINCURL_OK);
            FUZZ_CHECK(pincurl_pin_from_cert_der(data, size, &b) == PINCURL_OK);
            FUZZ_CHECK(pincurl_pin_equal(&a, &b));
        } else {
            FUZZ_CHECK(ps == ls);
        }
        pincurl_cert_list_free(list);
        FUZZ_CHECK(count.live == 0);
        free(b64);
        free(pem);
    }
    return 0;
}
