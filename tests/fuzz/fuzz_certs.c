/* Fuzz target: certificate and key loaders, PEM and DER (pincurl_cert_list_load,
 * pincurl_cert_list_load_ex, pincurl_pin_from_public_key).
 * Properties: every loaded certificate lies in the list's own copy and has a locatable
 * SPKI; a single DER input loads as exactly itself and gives the same pin from the key
 * loader; the same bytes wrapped in a PEM CERTIFICATE, X509 CERTIFICATE or TRUSTED
 * CERTIFICATE (with trust settings after it) block load identically; with SKIP_BAD,
 * whatever the strict load loads is loaded the same, and the loaded and skipped blocks
 * number the input's certificate blocks 0, 1, 2... in order; a refusal leaves *out NULL /
 * the pin zeroed; every block allocated through the caller's allocator is returned,
 * including when an allocation fails part way. */
#include <string.h>

#include "core/base64.h"
#include "core/der.h"
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

/* The SKIP_BAD load, checked against the strict one (strict_st; strict list given by its
 * DER in order through a second strict load). */
static void load_skip_bad(const unsigned char *data, size_t size, pincurl_status strict_st)
{
    fuzz_counting count;
    pincurl_allocator alloc = fuzz_counting_allocator(&count, -1);
    pincurl_cert_list *list = (pincurl_cert_list *)&count, *strict = NULL;
    pincurl_status st =
        pincurl_cert_list_load_ex(data, size, PINCURL_CERT_LIST_SKIP_BAD, &alloc, &list);
    if (st != PINCURL_OK) {
        FUZZ_CHECK(list == NULL && count.live == 0);
        FUZZ_CHECK(st == PINCURL_NO_CERTIFICATE || st == PINCURL_LIMIT_EXCEEDED ||
                   st == PINCURL_INVALID_ARGUMENT);
        FUZZ_CHECK(strict_st != PINCURL_OK);
        return;
    }
    size_t n = pincurl_cert_list_count(list), k = pincurl_cert_list_skipped_count(list);
    FUZZ_CHECK(n + k >= 1);
    size_t next = 0, i = 0, j = 0, last_line = 0;
    while (i < n || j < k) { /* blocks 0, 1, 2... in order, lines not decreasing */
        size_t b1 = SIZE_MAX, l1 = 0, b2 = SIZE_MAX, l2 = 0;
        pincurl_status why = PINCURL_OK;
        if (i < n)
            FUZZ_CHECK(pincurl_cert_list_origin(list, i, &b1, &l1) == PINCURL_OK);
        if (j < k) {
            FUZZ_CHECK(pincurl_cert_list_skipped(list, j, &b2, &l2, &why) == PINCURL_OK);
            FUZZ_CHECK(why != PINCURL_OK);
        }
        if (b1 < b2) {
            FUZZ_CHECK(b1 == next && l1 >= last_line);
            size_t len = 0;
            const unsigned char *der = pincurl_cert_list_der(list, i, &len);
            pc_der_cert c;
            FUZZ_CHECK(der != NULL && pc_der_cert_locate(der, len, &c) == PINCURL_OK);
            last_line = l1;
            i++;
        } else {
            FUZZ_CHECK(b2 == next && l2 >= last_line);
            last_line = l2;
            j++;
        }
        next++;
    }
    FUZZ_CHECK(pincurl_cert_list_origin(list, n, NULL, NULL) == PINCURL_INVALID_ARGUMENT);
    FUZZ_CHECK(pincurl_cert_list_skipped(list, k, NULL, NULL, NULL) == PINCURL_INVALID_ARGUMENT);
    /* what the strict load takes, the lenient one takes the same way */
    if (strict_st == PINCURL_OK &&
        pincurl_cert_list_load(data, size, NULL, &strict) == PINCURL_OK) {
        FUZZ_CHECK(k == 0 && n == pincurl_cert_list_count(strict));
        for (size_t m = 0; m < n; m++) {
            size_t a = 0, b = 0;
            const unsigned char *da = pincurl_cert_list_der(list, m, &a);
            const unsigned char *db = pincurl_cert_list_der(strict, m, &b);
            FUZZ_CHECK(a == b && memcmp(da, db, a) == 0);
        }
    }
    pincurl_cert_list_free(strict);
    pincurl_cert_list_free(list);
    FUZZ_CHECK(count.live == 0);
}

/* data wrapped in a PEM block of label, with extra bytes appended to the DER first. */
static char *wrap_pem(const unsigned char *data, size_t size, const char *label,
                      const unsigned char *extra, size_t extra_len, size_t *out_len)
{
    size_t total = size + extra_len;
    unsigned char *der = malloc(total);
    size_t b64_len = pc_base64_encoded_len(total);
    char *b64 = malloc(b64_len + 1);
    char *pem = malloc(b64_len + b64_len / 64 + 128);
    FUZZ_CHECK(der != NULL && b64 != NULL && pem != NULL);
    memcpy(der, data, size);
    if (extra_len > 0)
        memcpy(der + size, extra, extra_len);
    FUZZ_CHECK(pc_base64_encode(der, total, b64, b64_len + 1, NULL) == PINCURL_OK);
    size_t o = (size_t)sprintf(pem, "-----BEGIN %s-----\n", label);
    for (size_t i = 0; i < b64_len; i += 64) {
        size_t k = b64_len - i < 64 ? b64_len - i : 64;
        memcpy(pem + o, b64 + i, k);
        o += k;
        pem[o++] = '\n';
    }
    o += (size_t)sprintf(pem + o, "-----END %s-----\n", label);
    free(der);
    free(b64);
    *out_len = o;
    return pem;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int single = 0;
    pincurl_status st = load_checked(data, size, -1, &single);
    load_skip_bad(data, size, st);

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

        /* The other two labels: the same certificate (OpenSSL's trust settings after it
         * in a TRUSTED CERTIFICATE are not part of it). */
        static const unsigned char aux[] = {0x30, 0x0c, 0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06,
                                            0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
        static const char *const labels[] = {"X509 CERTIFICATE", "TRUSTED CERTIFICATE"};
        for (size_t l = 0; l < 2; l++) {
            size_t n = 0;
            char *p = wrap_pem(data, size, labels[l], aux, l == 1 ? sizeof aux : 0, &n);
            pincurl_cert_list *other = NULL;
            pincurl_status os = pincurl_cert_list_load((const unsigned char *)p, n, NULL, &other);
            if (ls == PINCURL_OK) {
                size_t len = 0;
                const unsigned char *der = pincurl_cert_list_der(other, 0, &len);
                FUZZ_CHECK(os == PINCURL_OK && pincurl_cert_list_count(other) == 1);
                FUZZ_CHECK(len == size && memcmp(der, data, size) == 0);
            }
            pincurl_cert_list_free(other);
            free(p);
        }
    }
    return 0;
}
