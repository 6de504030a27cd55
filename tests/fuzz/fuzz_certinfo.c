/* Fuzz target: certificate and key facts (pincurl/cert.h: pincurl_cert_info_get,
 * pincurl_cert_info_read, pincurl_spki_encoding_notes, pincurl_spki_key_type,
 * pincurl_spki_from_key, pincurl_spki_from_csr).
 * Properties: every text result is NUL-terminated inside its buffer; a refusal zeroes the
 * info; the info's pin is the certificate's pin and its key type that of the located SPKI;
 * pincurl_cert_info_read succeeds whenever pincurl_cert_info_get does, with nothing unread
 * and the same facts, and whenever it succeeds its pin is the hash of an SPKI inside the
 * input, an unread field is empty (or the beginning of a long name) with a failure status
 * and a read one has status OK; every SPKI written is one well-formed SubjectPublicKeyInfo
 * that fits the buffer, and a buffer one byte short is refused; a key the pin loader also
 * reads gives the same pin. */
#include <string.h>

#include "core/der.h"
#include "fuzz_common.h"
#include "pincurl/cert.h"
#include "pincurl/core.h"

static int nul_inside(const char *buf, size_t size)
{
    return memchr(buf, '\0', size) != NULL;
}

/* Number of "-----BEGIN " lines (PEM blocks) in the input. */
static size_t pem_blocks(const uint8_t *data, size_t size)
{
    static const char begin[] = "-----BEGIN ";
    size_t n = 0;
    for (size_t i = 0; i + sizeof begin - 1 <= size; i++)
        if ((i == 0 || data[i - 1] == '\n') && memcmp(data + i, begin, sizeof begin - 1) == 0)
            n++;
    return n;
}

static void check_spki_out(const unsigned char *out, size_t len, size_t cap)
{
    FUZZ_CHECK(len > 0 && len <= cap);
    FUZZ_CHECK(pc_der_spki_check(out, len) == PINCURL_OK);
}

/* Runs one SPKI producer with a full buffer and with one exactly one byte too small. */
typedef pincurl_status (*spki_fn)(const unsigned char *, size_t, unsigned char *, size_t,
                                  size_t *);

static pincurl_status produce(spki_fn fn, const uint8_t *data, size_t size,
                              unsigned char out[PINCURL_SPKI_MAX], size_t *len)
{
    *len = 0;
    pincurl_status st = fn(data, size, out, PINCURL_SPKI_MAX, len);
    if (st == PINCURL_OK) {
        check_spki_out(out, *len, PINCURL_SPKI_MAX);
        unsigned char small[PINCURL_SPKI_MAX];
        size_t n2 = 0;
        FUZZ_CHECK(fn(data, size, small, *len - 1, &n2) == PINCURL_BUFFER_TOO_SMALL);
        FUZZ_CHECK(fn(data, size, small, *len, &n2) == PINCURL_OK && n2 == *len &&
                   memcmp(small, out, *len) == 0);
    }
    return st;
}

/* One field of a read info: status OK exactly when its bit is clear. */
static void check_field(unsigned unread, unsigned bit, pincurl_status st)
{
    FUZZ_CHECK(((unread & bit) != 0) == (st != PINCURL_OK));
}

static void check_read(const uint8_t *data, size_t size, const pincurl_cert_info *got,
                       pincurl_status get_status, const pincurl_cert_info *full)
{
    static pincurl_cert_info info;
    static const pincurl_cert_info zero_info;
    memset(&info, 0x5a, sizeof info);
    pincurl_status st = pincurl_cert_info_read(data, size, &info);
    if (get_status == PINCURL_OK) {
        /* everything get reads, read reads the same way */
        FUZZ_CHECK(st == PINCURL_OK && info.unread == 0);
        FUZZ_CHECK(strcmp(info.subject, full->subject) == 0 &&
                   strcmp(info.issuer, full->issuer) == 0 &&
                   info.not_before == full->not_before && info.not_after == full->not_after &&
                   strcmp(info.key_type, full->key_type) == 0 &&
                   info.key_bits == full->key_bits && pincurl_pin_equal(&info.pin, &full->pin));
    }
    (void)got;
    if (st != PINCURL_OK) {
        FUZZ_CHECK(memcmp(&info, &zero_info, sizeof info) == 0);
        FUZZ_CHECK(st == PINCURL_DER_MALFORMED || st == PINCURL_DER_TRUNCATED ||
                   st == PINCURL_INVALID_ARGUMENT);
        return;
    }
    FUZZ_CHECK(nul_inside(info.subject, sizeof info.subject));
    FUZZ_CHECK(nul_inside(info.issuer, sizeof info.issuer));
    FUZZ_CHECK(nul_inside(info.key_type, sizeof info.key_type));
    check_field(info.unread, PINCURL_CERT_SUBJECT, info.subject_status);
    check_field(info.unread, PINCURL_CERT_ISSUER, info.issuer_status);
    check_field(info.unread, PINCURL_CERT_NOT_BEFORE, info.not_before_status);
    check_field(info.unread, PINCURL_CERT_NOT_AFTER, info.not_after_status);
    check_field(info.unread, PINCURL_CERT_KEY_TYPE, info.key_type_status);
    FUZZ_CHECK((info.unread & ~0x1fu) == 0);
    if ((info.unread & PINCURL_CERT_SUBJECT) && info.subject_status != PINCURL_BUFFER_TOO_SMALL)
        FUZZ_CHECK(info.subject[0] == '\0');
    if ((info.unread & PINCURL_CERT_ISSUER) && info.issuer_status != PINCURL_BUFFER_TOO_SMALL)
        FUZZ_CHECK(info.issuer[0] == '\0');
    if (info.unread & PINCURL_CERT_NOT_BEFORE)
        FUZZ_CHECK(info.not_before == 0);
    if (info.unread & PINCURL_CERT_NOT_AFTER)
        FUZZ_CHECK(info.not_after == 0);
    if (info.unread & PINCURL_CERT_KEY_TYPE)
        FUZZ_CHECK(info.key_type[0] == '\0' && info.key_bits == 0);
    else
        FUZZ_CHECK(info.key_type[0] != '\0');
    /* the pin is the hash of the SPKI the located certificate holds, inside the input */
    pc_der_cert c;
    FUZZ_CHECK(pc_der_cert_locate(data, size, &c) == PINCURL_OK);
    FUZZ_CHECK(c.spki.tlv >= data && c.spki.tlv + c.spki.tlv_len <= data + size);
    pincurl_pin pin;
    unsigned notes = 99;
    FUZZ_CHECK(pincurl_pin_from_spki_der(c.spki.tlv, c.spki.tlv_len, &pin) == PINCURL_OK);
    FUZZ_CHECK(pincurl_pin_equal(&pin, &info.pin));
    FUZZ_CHECK(pincurl_spki_encoding_notes(c.spki.tlv, c.spki.tlv_len, &notes) == PINCURL_OK);
    FUZZ_CHECK(notes == info.key_notes && (notes & ~0x7u) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pincurl_cert_info info; /* large: kept off the stack */
    static const pincurl_cert_info zero_info;

    memset(&info, 0x5a, sizeof info);
    pincurl_status st = pincurl_cert_info_get(data, size, &info);
    if (st != PINCURL_OK) {
        FUZZ_CHECK(memcmp(&info, &zero_info, sizeof info) == 0);
    } else {
        FUZZ_CHECK(nul_inside(info.subject, sizeof info.subject));
        FUZZ_CHECK(nul_inside(info.issuer, sizeof info.issuer));
        FUZZ_CHECK(nul_inside(info.key_type, sizeof info.key_type) && info.key_type[0] != '\0');
        pincurl_pin pin;
        FUZZ_CHECK(pincurl_pin_from_cert_der(data, size, &pin) == PINCURL_OK);
        FUZZ_CHECK(pincurl_pin_equal(&pin, &info.pin));
        const unsigned char *spki;
        size_t spki_len;
        FUZZ_CHECK(pincurl_spki_locate(data, size, &spki, &spki_len) == PINCURL_OK);
        char type[PINCURL_KEY_TYPE_MAX];
        unsigned bits = 0;
        FUZZ_CHECK(pincurl_spki_key_type(spki, spki_len, type, sizeof type, &bits) == PINCURL_OK);
        FUZZ_CHECK(strcmp(type, info.key_type) == 0 && bits == info.key_bits);
    }
    check_read(data, size, &info, st, &info);

    /* The notes of the input as an SPKI: only for a well-formed one. */
    unsigned notes = 99;
    pincurl_status ns = pincurl_spki_encoding_notes(data, size, &notes);
    FUZZ_CHECK(ns == PINCURL_OK ? (notes & ~0x7u) == 0 : notes == 0);
    FUZZ_CHECK((ns == PINCURL_OK) == (pc_der_spki_check(data, size) == PINCURL_OK) ||
               (data == NULL && size == 0));

    /* The key type of the input as an SPKI; a tiny buffer is refused or holds the name. */
    char type[PINCURL_KEY_TYPE_MAX], tiny[4];
    unsigned bits = 0;
    memset(type, 'x', sizeof type);
    pincurl_status ts = pincurl_spki_key_type(data, size, type, sizeof type, &bits);
    if (ts == PINCURL_OK) {
        FUZZ_CHECK(nul_inside(type, sizeof type) && type[0] != '\0');
        pincurl_status t2 = pincurl_spki_key_type(data, size, tiny, sizeof tiny, NULL);
        FUZZ_CHECK(t2 == PINCURL_OK || t2 == PINCURL_BUFFER_TOO_SMALL);
        if (t2 == PINCURL_OK)
            FUZZ_CHECK(strcmp(tiny, type) == 0);
        FUZZ_CHECK(pc_der_spki_check(data, size) == PINCURL_OK);
    }

    unsigned char out[PINCURL_SPKI_MAX];
    size_t len;
    if (produce(pincurl_spki_from_key, data, size, out, &len) == PINCURL_OK) {
        pincurl_pin a, b;
        FUZZ_CHECK(pincurl_pin_from_spki_der(out, len, &a) == PINCURL_OK);
        /* Only for one key: with several PEM blocks the two loaders pick differently
         * (pincurl_pin_from_public_key skips private keys, pincurl_spki_from_key takes the
         * first key block of any kind; corpus/certinfo/regression-private-key-then-
         * public-key.pem). */
        if (pem_blocks(data, size) <= 1 &&
            pincurl_pin_from_public_key(data, size, &b) == PINCURL_OK)
            FUZZ_CHECK(pincurl_pin_equal(&a, &b));
        /* The SPKI's outer shape is checked, its AlgorithmIdentifier only by the key type
         * (an SPKI given as input is passed through): either names it or refuses it. */
        char t3[PINCURL_KEY_TYPE_MAX];
        pincurl_status k3 = pincurl_spki_key_type(out, len, t3, sizeof t3, NULL);
        FUZZ_CHECK(k3 == PINCURL_OK || k3 == PINCURL_DER_MALFORMED ||
                   k3 == PINCURL_DER_TRUNCATED);
    }
    (void)produce(pincurl_spki_from_csr, data, size, out, &len);
    return 0;
}
