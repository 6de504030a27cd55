/* Fuzz target: the DER reader and the X.509 fields pincurl reads (pincurl_spki_locate,
 * pincurl_pin_from_cert_der, pincurl_pin_from_spki_der and the internal lib/core/der.h
 * functions for names, times and OIDs).
 * Properties: every element and every located SPKI lies inside the input; the SPKI found
 * is a well-formed SubjectPublicKeyInfo and its hash is the certificate's pin; the public
 * and internal parsers agree; a walk over consecutive elements consumes exactly the input
 * or stops with an error; name printing always NUL-terminates inside its buffer and a
 * shorter buffer gives a prefix of a longer one. */
#include <string.h>

#include "core/der.h"
#include "fuzz_common.h"
#include "pincurl/core.h"

#define INSIDE(p, n, base, size)                                                           \
    ((const unsigned char *)(p) >= (base) && (n) <= (size) &&                               \
     (size_t)((const unsigned char *)(p) - (base)) <= (size) - (n))

static void check_name(const unsigned char *name, size_t len)
{
    char big[2048], small[24];
    memset(big, 'x', sizeof big);
    memset(small, 'x', sizeof small);
    pincurl_status a = pc_der_name_to_string(name, len, big, sizeof big);
    pincurl_status b = pc_der_name_to_string(name, len, small, sizeof small);
    FUZZ_CHECK(memchr(big, '\0', sizeof big) != NULL);
    FUZZ_CHECK(memchr(small, '\0', sizeof small) != NULL);
    if (a == PINCURL_OK || a == PINCURL_BUFFER_TOO_SMALL) {
        FUZZ_CHECK(b == PINCURL_OK || b == PINCURL_BUFFER_TOO_SMALL);
        FUZZ_CHECK(strncmp(big, small, strlen(small)) == 0);
        if (b == PINCURL_OK)
            FUZZ_CHECK(a == PINCURL_OK && strcmp(big, small) == 0);
    } else {
        FUZZ_CHECK(big[0] == '\0');
    }
}

static void check_cert(const unsigned char *data, size_t size)
{
    const unsigned char *spki = NULL;
    size_t spki_len = 0;
    pincurl_pin pin, pin2;
    pc_der_cert cert;

    pincurl_status st = pincurl_spki_locate(data, size, &spki, &spki_len);
    pincurl_status st2 = pincurl_pin_from_cert_der(data, size, &pin);
    pincurl_status st3 = pc_der_cert_parse(data, size, &cert);
    FUZZ_CHECK(st == st2 && st == st3);
    if (st != PINCURL_OK) {
        FUZZ_CHECK(st == PINCURL_DER_MALFORMED || st == PINCURL_DER_TRUNCATED ||
                   st == PINCURL_INVALID_ARGUMENT);
        FUZZ_CHECK(spki == NULL && spki_len == 0);
        static const pincurl_pin zero;
        FUZZ_CHECK(memcmp(&pin, &zero, sizeof pin) == 0);
        return;
    }
    FUZZ_CHECK(spki != NULL && spki_len >= 2 && INSIDE(spki, spki_len, data, size));
    FUZZ_CHECK(spki[0] == PC_DER_SEQUENCE);
    FUZZ_CHECK(spki == cert.spki.tlv && spki_len == cert.spki.tlv_len);
    FUZZ_CHECK(pc_der_spki_check(spki, spki_len) == PINCURL_OK);
    FUZZ_CHECK(pincurl_pin_from_spki_der(spki, spki_len, &pin2) == PINCURL_OK);
    FUZZ_CHECK(pincurl_pin_equal(&pin, &pin2));
    /* The TBSCertificate and its fields are nested inside the certificate, in order. */
    FUZZ_CHECK(INSIDE(cert.tbs.tlv, cert.tbs.tlv_len, data, size));
    const pc_der_tlv *fields[] = {&cert.serial, &cert.issuer, &cert.validity, &cert.subject,
                                  &cert.spki};
    const unsigned char *at = cert.tbs.content;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        FUZZ_CHECK(INSIDE(fields[i]->tlv, fields[i]->tlv_len, cert.tbs.content,
                          cert.tbs.content_len));
        FUZZ_CHECK(fields[i]->tlv >= at);
        at = fields[i]->tlv + fields[i]->tlv_len;
    }

    const unsigned char *name;
    size_t name_len;
    FUZZ_CHECK(pc_der_cert_issuer(data, size, &name, &name_len) == PINCURL_OK);
    FUZZ_CHECK(name == cert.issuer.tlv && name_len == cert.issuer.tlv_len);
    check_name(name, name_len);
    FUZZ_CHECK(pc_der_cert_subject(data, size, &name, &name_len) == PINCURL_OK);
    FUZZ_CHECK(name == cert.subject.tlv && name_len == cert.subject.tlv_len);
    check_name(name, name_len);

    int64_t nb = 0, na = 0;
    pincurl_status tb = pc_der_cert_not_before(data, size, &nb);
    pincurl_status ta = pc_der_cert_not_after(data, size, &na);
    FUZZ_CHECK(tb == PINCURL_OK || tb == PINCURL_DER_MALFORMED || tb == PINCURL_DER_TRUNCATED);
    FUZZ_CHECK(ta == PINCURL_OK || ta == PINCURL_DER_MALFORMED || ta == PINCURL_DER_TRUNCATED);
    /* The evaluation hashes the same bytes: a path of this one certificate matches its pin. */
}

static void check_elements(const unsigned char *data, size_t size, int depth)
{
    pc_der_cursor c;
    pc_der_tlv t;
    size_t consumed = 0;
    pc_der_cursor_init(&c, data, size);
    while (!pc_der_cursor_done(&c)) {
        int peek = pc_der_peek_tag(&c);
        pincurl_status st = pc_der_next(&c, &t);
        if (st != PINCURL_OK) {
            FUZZ_CHECK(st == PINCURL_DER_MALFORMED || st == PINCURL_DER_TRUNCATED);
            return;
        }
        FUZZ_CHECK(peek >= 0 && (unsigned)peek == t.tag);
        FUZZ_CHECK(t.tlv == data + consumed);
        FUZZ_CHECK(INSIDE(t.tlv, t.tlv_len, data, size));
        FUZZ_CHECK(INSIDE(t.content, t.content_len, t.tlv, t.tlv_len));
        FUZZ_CHECK(t.content + t.content_len == t.tlv + t.tlv_len);
        consumed += t.tlv_len;

        if (t.tag == PC_DER_UTC_TIME || t.tag == PC_DER_GENERALIZED_TIME) {
            int64_t when = 0;
            pincurl_status ts = pc_der_time(&t, &when);
            FUZZ_CHECK(ts == PINCURL_OK || ts == PINCURL_DER_MALFORMED);
            if (ts == PINCURL_OK && t.tag == PC_DER_UTC_TIME)
                FUZZ_CHECK(when >= -631152000LL && when < 2524608000LL); /* 1950..2049 */
        } else if (t.tag == PC_DER_OID) {
            char oid[256];
            pincurl_status os = pc_der_oid_to_string(t.content, t.content_len, oid, sizeof oid);
            if (os == PINCURL_OK) {
                FUZZ_CHECK(oid[0] >= '0' && oid[0] <= '2');
                for (const char *q = oid; *q; q++)
                    FUZZ_CHECK((*q >= '0' && *q <= '9') || *q == '.');
            }
        } else if (t.tag == PC_DER_SEQUENCE && depth == 0) {
            check_name(t.tlv, t.tlv_len);
        }
        if ((t.tag & 0x20u) != 0 && depth < 16)
            check_elements(t.content, t.content_len, depth + 1);
    }
    FUZZ_CHECK(consumed == size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pc_der_tlv t;
    if (pc_der_read(data, size, &t) == PINCURL_OK) {
        FUZZ_CHECK(t.tlv == data && t.tlv_len <= size);
        FUZZ_CHECK(INSIDE(t.content, t.content_len, data, size));
    }
    check_cert(data, size);
    check_elements(data, size, 0);
    if (size > 0 && pc_der_spki_check(data, size) == PINCURL_OK) {
        pincurl_pin pin, pin2;
        FUZZ_CHECK(pincurl_pin_from_spki_der(data, size, &pin) == PINCURL_OK);
        FUZZ_CHECK(pincurl_pin_from_public_key(data, size, &pin2) == PINCURL_OK);
        FUZZ_CHECK(pincurl_pin_equal(&pin, &pin2));
    }
    return 0;
}
