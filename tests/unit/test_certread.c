/* Reading certificates for people (pincurl_cert_info_read, pincurl_spki_encoding_notes,
 * pincurl_cert_list_load_ex and its labels): every time form X.680 allows, names with
 * empty or many RDNs, fields read one by one, keys other tools re-encode, and bundles with
 * bad blocks. `date` and openssl are the references for times and re-encoded keys. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/der.h"
#include "pincurl/cert.h"
#include "pincurl/pincurl.h"
#include "support.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a small DER writer ------------------------------------------------------------------ */

typedef struct buf {
    unsigned char p[8192];
    size_t n;
} buf;

static void put(buf *b, const void *data, size_t len)
{
    cr_assert_leq(b->n + len, sizeof b->p);
    memcpy(b->p + b->n, data, len);
    b->n += len;
}

/* tag, length, content */
static void tlv(buf *b, unsigned tag, const void *content, size_t len)
{
    unsigned char h[4] = {(unsigned char)tag};
    size_t hn = 2;
    if (len < 0x80) {
        h[1] = (unsigned char)len;
    } else if (len < 0x100) {
        h[1] = 0x81;
        h[2] = (unsigned char)len;
        hn = 3;
    } else {
        h[1] = 0x82;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        hn = 4;
    }
    put(b, h, hn);
    put(b, content, len);
}

static void wrap(buf *b, unsigned tag, const buf *inner)
{
    tlv(b, tag, inner->p, inner->n);
}

static const unsigned char OID_CN[] = {0x06, 0x03, 0x55, 0x04, 0x03};

/* Name: count RDNs of CN=<letter>, with an empty RDN at position empty_at (or none). */
static void make_name(buf *out, size_t count, size_t empty_at)
{
    buf rdns = {.n = 0};
    for (size_t i = 0; i < count; i++) {
        buf atv = {.n = 0}, set = {.n = 0};
        if (i != empty_at) {
            char v = (char)('a' + i % 26);
            put(&atv, OID_CN, sizeof OID_CN);
            tlv(&atv, 0x0c, &v, 1);
            wrap(&set, 0x30, &atv);
        }
        wrap(&rdns, 0x31, &set);
    }
    wrap(out, 0x30, &rdns);
}

static const unsigned char EC_SPKI[] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 1, 2, 3, 4, 5, 6,
    7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
    30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64};

/* A certificate: version 3, serial 1, ecdsa-with-SHA256, issuer, validity of the two given
 * time elements (tag and text), subject, spki, then `after` (extensions or garbage) and a
 * signature. The signature does not verify: only reading is tested here. */
static void make_cert(buf *out, const buf *issuer, unsigned nb_tag, const char *nb,
                      unsigned na_tag, const char *na, const buf *subject,
                      const unsigned char *spki, size_t spki_len, const buf *after)
{
    static const unsigned char version[] = {0xa0, 0x03, 0x02, 0x01, 0x02};
    static const unsigned char serial[] = {0x02, 0x01, 0x01};
    static const unsigned char alg[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                        0xce, 0x3d, 0x04, 0x03, 0x02};
    static const unsigned char sig[] = {0x03, 0x03, 0x00, 0x01, 0x02};
    buf tbs = {.n = 0}, validity = {.n = 0}, cert = {.n = 0};
    put(&tbs, version, sizeof version);
    put(&tbs, serial, sizeof serial);
    put(&tbs, alg, sizeof alg);
    put(&tbs, issuer->p, issuer->n);
    tlv(&validity, nb_tag, nb, strlen(nb));
    tlv(&validity, na_tag, na, strlen(na));
    wrap(&tbs, 0x30, &validity);
    put(&tbs, subject->p, subject->n);
    put(&tbs, spki, spki_len);
    if (after != NULL)
        put(&tbs, after->p, after->n);
    wrap(&cert, 0x30, &tbs);
    put(&cert, alg, sizeof alg);
    put(&cert, sig, sizeof sig);
    out->n = 0;
    wrap(out, 0x30, &cert);
}

/* seconds since the epoch of a UTC date-time, by date(1) */
static int64_t date_of(const char *when)
{
    char cmd[256], out[64];
    snprintf(cmd, sizeof cmd, "date -u -d '%s' +%%s", when);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    cr_assert_not_null(fgets(out, sizeof out, p));
    cr_assert_eq(pclose(p), 0, "%s", cmd);
    return strtoll(out, NULL, 10);
}

static pincurl_status x680(unsigned tag, const char *s, int64_t *t)
{
    unsigned char b[64];
    pc_der_tlv e;
    size_t n = strlen(s);
    b[0] = (unsigned char)tag;
    b[1] = (unsigned char)n;
    memcpy(b + 2, s, n);
    cr_assert_eq(pc_der_read(b, n + 2, &e), PINCURL_OK);
    return pc_der_time_x680(&e, t);
}

/* ---- times ----------------------------------------------------------------------------- */

Test(certread, every_time_form_x680_allows)
{
    static const struct {
        unsigned tag;
        const char *s, *when;
    } good[] = {
        {PC_DER_UTC_TIME, "351231235959Z", "2035-12-31 23:59:59"},
        {PC_DER_UTC_TIME, "3512312359Z", "2035-12-31 23:59:00"},
        {PC_DER_UTC_TIME, "351231235959+0130", "2035-12-31 22:29:59"},
        {PC_DER_UTC_TIME, "351231235959-0130", "2036-01-01 01:29:59"},
        {PC_DER_UTC_TIME, "3601010000-2359", "2036-01-01 23:59:00"},
        {PC_DER_UTC_TIME, "500101000000Z", "1950-01-01 00:00:00"},
        {PC_DER_UTC_TIME, "491231235959Z", "2049-12-31 23:59:59"},
        {PC_DER_UTC_TIME, "351231235960Z", "2036-01-01 00:00:00"},
        {PC_DER_GENERALIZED_TIME, "20351231235959Z", "2035-12-31 23:59:59"},
        {PC_DER_GENERALIZED_TIME, "20351231235959.999Z", "2035-12-31 23:59:59"},
        {PC_DER_GENERALIZED_TIME, "20351231235959,5Z", "2035-12-31 23:59:59"},
        {PC_DER_GENERALIZED_TIME, "20351231235959.0000000001Z", "2035-12-31 23:59:59"},
        {PC_DER_GENERALIZED_TIME, "203512312359Z", "2035-12-31 23:59:00"},
        {PC_DER_GENERALIZED_TIME, "203512312359.5Z", "2035-12-31 23:59:30"},
        {PC_DER_GENERALIZED_TIME, "2035123123Z", "2035-12-31 23:00:00"},
        {PC_DER_GENERALIZED_TIME, "2035123123.25Z", "2035-12-31 23:15:00"},
        {PC_DER_GENERALIZED_TIME, "20351231235959+01", "2035-12-31 22:59:59"},
        {PC_DER_GENERALIZED_TIME, "20351231235959.5-0530", "2036-01-01 05:29:59"},
        {PC_DER_GENERALIZED_TIME, "00010101000000Z", "0001-01-01 00:00:00"},
        {PC_DER_GENERALIZED_TIME, "99991231235959Z", "9999-12-31 23:59:59"},
        {PC_DER_GENERALIZED_TIME, "20240229000000Z", "2024-02-29 00:00:00"},
    };
    for (size_t i = 0; i < COUNT(good); i++) {
        int64_t t = 42;
        cr_assert_eq(x680(good[i].tag, good[i].s, &t), PINCURL_OK, "%s", good[i].s);
        cr_assert_eq(t, date_of(good[i].when), "%s: %lld, date says %s", good[i].s,
                     (long long)t, good[i].when);
    }
    /* where RFC 5280's profile applies, the strict reader agrees */
    for (size_t i = 0; i < COUNT(good); i++) {
        size_t n = strlen(good[i].s);
        int profile = good[i].s[n - 1] == 'Z' && strchr(good[i].s, '.') == NULL &&
                      strchr(good[i].s, ',') == NULL &&
                      n == (good[i].tag == PC_DER_UTC_TIME ? 13u : 15u) &&
                      strcmp(good[i].s + n - 3, "60Z") != 0;
        unsigned char b[64];
        pc_der_tlv e;
        int64_t a = 1, s = 2;
        if (!profile)
            continue;
        b[0] = (unsigned char)good[i].tag;
        b[1] = (unsigned char)n;
        memcpy(b + 2, good[i].s, n);
        cr_assert_eq(pc_der_read(b, n + 2, &e), PINCURL_OK);
        cr_assert_eq(pc_der_time(&e, &s), PINCURL_OK, "%s", good[i].s);
        cr_assert_eq(pc_der_time_x680(&e, &a), PINCURL_OK);
        cr_assert_eq(a, s, "%s", good[i].s);
    }

    static const struct {
        unsigned tag;
        const char *s;
    } bad[] = {
        {PC_DER_GENERALIZED_TIME, "20351231235959"},     /* local time: no instant */
        {PC_DER_GENERALIZED_TIME, "20351231235959.5"},   /* local, with a fraction */
        {PC_DER_UTC_TIME, "351231235959"},               /* local */
        {PC_DER_UTC_TIME, "35123123Z"},                  /* UTCTime needs minutes */
        {PC_DER_UTC_TIME, "351231235959.5Z"},            /* no fraction in UTCTime */
        {PC_DER_UTC_TIME, "351231235959+01"},            /* UTCTime offsets have minutes */
        {PC_DER_GENERALIZED_TIME, "20351231235959.Z"},   /* a fraction needs a digit */
        {PC_DER_GENERALIZED_TIME, "20351231235959+2400"}, /* offset hour 24 */
        {PC_DER_GENERALIZED_TIME, "20351231235959+0160"}, /* offset minute 60 */
        {PC_DER_GENERALIZED_TIME, "20351231235959+1"},   /* one-digit offset */
        {PC_DER_GENERALIZED_TIME, "20350230000000Z"},    /* February 30 */
        {PC_DER_GENERALIZED_TIME, "21000229000000Z"},    /* not a leap year */
        {PC_DER_GENERALIZED_TIME, "20351231240000Z"},    /* hour 24 */
        {PC_DER_GENERALIZED_TIME, "20351231236000Z"},    /* minute 60 */
        {PC_DER_GENERALIZED_TIME, "20351231235961Z"},    /* second 61 */
        {PC_DER_GENERALIZED_TIME, "20351331235959Z"},    /* month 13 */
        {PC_DER_GENERALIZED_TIME, "2035123123595Z"},     /* odd digit count */
        {PC_DER_GENERALIZED_TIME, "20351231235959ZZ"},   /* trailing */
        {PC_DER_GENERALIZED_TIME, "0101010I00Z"},        /* a letter */
        {PC_DER_GENERALIZED_TIME, ""},
        {PC_DER_OCTET_STRING, "20351231235959Z"},
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        int64_t t = 42;
        cr_assert_eq(x680(bad[i].tag, bad[i].s, &t), PINCURL_DER_MALFORMED, "%s", bad[i].s);
        cr_assert_eq(t, 0, "%s", bad[i].s);
    }
}

/* ---- names ----------------------------------------------------------------------------- */

Test(certread, empty_and_many_rdns)
{
    char out[PINCURL_CERT_NAME_MAX], strict[PINCURL_CERT_NAME_MAX];
    buf n = {.n = 0};

    /* an ordinary name: both printers agree */
    make_name(&n, 3, SIZE_MAX);
    cr_assert_eq(pc_der_name_to_string(n.p, n.n, strict, sizeof strict), PINCURL_OK);
    cr_assert_eq(pc_der_name_to_string_any(n.p, n.n, out, sizeof out), PINCURL_OK);
    cr_assert_str_eq(out, strict);
    cr_assert_str_eq(out, "CN=c,CN=b,CN=a");

    /* an empty RDN in the middle, and a name that is one empty RDN */
    n.n = 0;
    make_name(&n, 3, 1);
    cr_assert_eq(pc_der_name_to_string(n.p, n.n, strict, sizeof strict), PINCURL_DER_MALFORMED);
    cr_assert_eq(pc_der_name_to_string_any(n.p, n.n, out, sizeof out), PINCURL_OK);
    cr_assert_str_eq(out, "CN=c,,CN=a");
    n.n = 0;
    make_name(&n, 1, 0);
    cr_assert_eq(pc_der_name_to_string_any(n.p, n.n, out, sizeof out), PINCURL_OK);
    cr_assert_str_eq(out, "");

    /* more than 128 RDNs: every one, most specific first */
    char want[PINCURL_CERT_NAME_MAX] = "";
    n.n = 0;
    make_name(&n, 200, SIZE_MAX);
    for (size_t i = 200; i-- > 0;) {
        char one[8];
        snprintf(one, sizeof one, "%sCN=%c", i == 199 ? "" : ",", (char)('a' + i % 26));
        strcat(want, one);
    }
    cr_assert_eq(pc_der_name_to_string(n.p, n.n, strict, sizeof strict), PINCURL_LIMIT_EXCEEDED);
    cr_assert_eq(pc_der_name_to_string_any(n.p, n.n, out, sizeof out), PINCURL_OK);
    cr_assert_str_eq(out, want);
    /* a short buffer holds the beginning */
    char small[40];
    cr_assert_eq(pc_der_name_to_string_any(n.p, n.n, small, sizeof small),
                 PINCURL_BUFFER_TOO_SMALL);
    cr_assert(strncmp(small, want, strlen(small)) == 0 && strlen(small) == sizeof small - 1);

    /* still refused: a malformed RDN or attribute */
    static const unsigned char not_set[] = {0x30, 0x02, 0x30, 0x00};
    static const unsigned char bad_atv[] = {0x30, 0x04, 0x31, 0x02, 0x30, 0x00};
    cr_assert_eq(pc_der_name_to_string_any(not_set, sizeof not_set, out, sizeof out),
                 PINCURL_DER_MALFORMED);
    cr_assert_eq(pc_der_name_to_string_any(bad_atv, sizeof bad_atv, out, sizeof out),
                 PINCURL_DER_MALFORMED);
    cr_assert_str_eq(out, "");
}

/* ---- one certificate, field by field -------------------------------------------------- */

Test(certread, fields_are_read_one_by_one)
{
    buf issuer = {.n = 0}, subject = {.n = 0}, cert = {.n = 0};
    pincurl_cert_info info, strict;
    pincurl_pin pin;
    make_name(&issuer, 2, SIZE_MAX);
    make_name(&subject, 2, SIZE_MAX);
    cr_assert_eq(pincurl_pin_from_spki_der(EC_SPKI, sizeof EC_SPKI, &pin), PINCURL_OK);

    /* everything readable: read and get agree */
    make_cert(&cert, &issuer, PC_DER_UTC_TIME, "260101000000Z", PC_DER_GENERALIZED_TIME,
              "20351231235959Z", &subject, EC_SPKI, sizeof EC_SPKI, NULL);
    cr_assert_eq(pincurl_cert_info_read(cert.p, cert.n, &info), PINCURL_OK);
    cr_assert_eq(info.unread, 0);
    cr_assert_eq(pincurl_cert_info_get(cert.p, cert.n, &strict), PINCURL_OK);
    cr_assert(memcmp(&info, &strict, sizeof info) == 0);
    cr_assert(pincurl_pin_equal(&info.pin, &pin));
    cr_assert_str_eq(info.key_type, "EC");

    /* a not-after of no instant, a subject with an empty RDN and 150 RDNs as issuer */
    buf empty = {.n = 0}, many = {.n = 0};
    make_name(&empty, 3, 1);
    make_name(&many, 150, SIZE_MAX);
    make_cert(&cert, &many, PC_DER_UTC_TIME, "2601010000+0100", PC_DER_GENERALIZED_TIME,
              "20351231235959", &empty, EC_SPKI, sizeof EC_SPKI, NULL);
    cr_assert_eq(pincurl_cert_info_read(cert.p, cert.n, &info), PINCURL_OK);
    cr_assert_eq(info.unread, PINCURL_CERT_NOT_AFTER);
    cr_assert_eq(info.not_after_status, PINCURL_DER_MALFORMED);
    cr_assert_eq(info.not_after, 0);
    cr_assert_eq(info.not_before, date_of("2025-12-31 23:00:00"));
    cr_assert_str_eq(info.subject, "CN=c,,CN=a");
    cr_assert_eq(strlen(info.issuer), 150 * 5 - 1);
    cr_assert(pincurl_pin_equal(&info.pin, &pin));
    cr_assert_eq(pincurl_cert_info_get(cert.p, cert.n, &strict), PINCURL_DER_MALFORMED);

    /* the validity is not a pair of times: neither date; the key and names still read */
    make_cert(&cert, &issuer, PC_DER_INTEGER, "x", PC_DER_INTEGER, "y", &subject, EC_SPKI,
              sizeof EC_SPKI, NULL);
    cr_assert_eq(pincurl_cert_info_read(cert.p, cert.n, &info), PINCURL_OK);
    cr_assert_eq(info.unread, PINCURL_CERT_NOT_BEFORE | PINCURL_CERT_NOT_AFTER);

    /* broken after the key (extensions not well formed): the key is still located */
    buf garbage = {.n = 0};
    static const unsigned char cut[] = {0xa3, 0x10, 0x30};
    put(&garbage, cut, sizeof cut);
    make_cert(&cert, &issuer, PC_DER_UTC_TIME, "260101000000Z", PC_DER_UTC_TIME,
              "351231235959Z", &subject, EC_SPKI, sizeof EC_SPKI, &garbage);
    cr_assert_eq(pincurl_cert_info_read(cert.p, cert.n, &info), PINCURL_OK);
    cr_assert_eq(info.unread, 0);
    cr_assert(pincurl_pin_equal(&info.pin, &pin));
    cr_assert_neq(pincurl_cert_info_get(cert.p, cert.n, &strict), PINCURL_OK);

    /* a key of an unknown algorithm: the pin, the dotted OID as its type */
    static const unsigned char odd_spki[] = {0x30, 0x0b, 0x30, 0x05, 0x06, 0x03, 0x2a,
                                             0x03, 0x04, 0x03, 0x02, 0x00, 0x01};
    make_cert(&cert, &issuer, PC_DER_UTC_TIME, "260101000000Z", PC_DER_UTC_TIME,
              "351231235959Z", &subject, odd_spki, sizeof odd_spki, NULL);
    cr_assert_eq(pincurl_cert_info_read(cert.p, cert.n, &info), PINCURL_OK);
    cr_assert_str_eq(info.key_type, "1.2.3.4");
    cr_assert_eq(pincurl_pin_from_spki_der(odd_spki, sizeof odd_spki, &pin), PINCURL_OK);
    cr_assert(pincurl_pin_equal(&info.pin, &pin));

    /* no key to locate: refused, zeroed */
    static const pincurl_cert_info zero;
    static const unsigned char bad_spki[] = {0x30, 0x03, 0x30, 0x01, 0x00};
    make_cert(&cert, &issuer, PC_DER_UTC_TIME, "260101000000Z", PC_DER_UTC_TIME,
              "351231235959Z", &subject, bad_spki, sizeof bad_spki, NULL);
    memset(&info, 0x5a, sizeof info);
    cr_assert_neq(pincurl_cert_info_read(cert.p, cert.n, &info), PINCURL_OK);
    cr_assert(memcmp(&info, &zero, sizeof info) == 0);
    cr_assert_eq(pincurl_cert_info_read(cert.p, cert.n - 1, &info), PINCURL_DER_TRUNCATED);
    cr_assert_eq(pincurl_cert_info_read(NULL, 0, &info), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_cert_info_read(cert.p, cert.n, NULL), PINCURL_INVALID_ARGUMENT);
}

/* ---- keys other tools re-encode --------------------------------------------------------- */

/* The SPKI openssl prints for the key of spki (DER), into out. */
static size_t openssl_reencode(const unsigned char *spki, size_t len, unsigned char *out,
                               size_t cap)
{
    const char *dir = pt_tmpdir("certread-openssl");
    char in[1100], res[1100];
    snprintf(in, sizeof in, "%s/in.der", dir);
    snprintf(res, sizeof res, "%s/out.der", dir);
    pt_write_file(in, spki, len);
    cr_assert_eq(pt_system("openssl pkey -pubin -inform der -in '%s' -outform der -out '%s'",
                           in, res),
                 0);
    size_t n;
    unsigned char *data = pt_read_file(res, &n);
    cr_assert_leq(n, cap);
    memcpy(out, data, n);
    free(data);
    return n;
}

Test(certread, notes_say_when_openssl_re_encodes)
{
    /* an RSA key from the test PKI, decomposed and put together in other spellings */
    size_t len;
    unsigned char *der = pt_read_file(pt_pki("rsa2048.pub.der"), &len);
    cr_assert_eq(len, 294); /* 30 82 01 22 | alg 15 | 03 82 01 0f 00 | 30 82 01 0a n e */
    const unsigned char *n = der + 24 + 4; /* the modulus INTEGER: 02 82 01 01 00 ... */
    const unsigned char *e = n + 4 + 257; /* 02 03 01 00 01 */
    cr_assert(n[0] == 0x02 && n[4] == 0x00 && e[0] == 0x02 && e[1] == 3);

    struct {
        const char *what;
        unsigned note;
        unsigned char spki[400];
        size_t len;
    } cases[6];
    size_t k = 0;
    static const unsigned char rsa_null[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                             0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    static const unsigned char rsa_absent[] = {0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48,
                                               0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
    static const unsigned char e_padded[] = {0x02, 0x04, 0x00, 0x01, 0x00, 0x01};
    /* RSASSA-PSS { sha256, mgf1(sha256), salt 32 }: hash identifiers without NULL, and
     * with NULL as OpenSSL writes them */
    static const unsigned char oid_pss[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                            0xf7, 0x0d, 0x01, 0x01, 0x0a};
    static const unsigned char oid_mgf1[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                             0xf7, 0x0d, 0x01, 0x01, 0x08};
    static const unsigned char oid_sha256[] = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                               0x65, 0x03, 0x04, 0x02, 0x01};
    static const unsigned char null[] = {0x05, 0x00}, salt[] = {0x02, 0x01, 0x20};
    buf pss_odd = {.n = 0}, pss_canon = {.n = 0};
    for (int with_null = 0; with_null < 2; with_null++) {
        buf hash = {.n = 0}, hash_seq = {.n = 0}, mgf = {.n = 0}, mgf_seq = {.n = 0};
        buf f0 = {.n = 0}, f1 = {.n = 0}, f2 = {.n = 0}, params = {.n = 0}, alg = {.n = 0};
        put(&hash, oid_sha256, sizeof oid_sha256);
        if (with_null)
            put(&hash, null, sizeof null);
        wrap(&hash_seq, 0x30, &hash);
        put(&mgf, oid_mgf1, sizeof oid_mgf1);
        put(&mgf, hash_seq.p, hash_seq.n);
        wrap(&mgf_seq, 0x30, &mgf);
        wrap(&f0, 0xa0, &hash_seq);
        wrap(&f1, 0xa1, &mgf_seq);
        tlv(&f2, 0xa2, salt, sizeof salt);
        put(&params, f0.p, f0.n);
        put(&params, f1.p, f1.n);
        put(&params, f2.p, f2.n);
        put(&alg, oid_pss, sizeof oid_pss);
        tlv(&alg, 0x30, params.p, params.n);
        wrap(with_null ? &pss_canon : &pss_odd, 0x30, &alg);
    }

    /* builds SEQUENCE { alg, BIT STRING { 0, SEQUENCE { modulus, exponent } } } */
#define CASE(label, want_note, alg, alg_len, mod, mod_len, ex, ex_len)                      \
    do {                                                                                   \
        buf key = {.n = 0}, seq = {.n = 0}, bits = {.n = 0}, spki = {.n = 0};              \
        put(&key, mod, mod_len);                                                           \
        put(&key, ex, ex_len);                                                             \
        unsigned char zero = 0;                                                            \
        put(&bits, &zero, 1);                                                              \
        wrap(&bits, 0x30, &key);                                                           \
        put(&seq, alg, alg_len);                                                           \
        tlv(&seq, 0x03, bits.p, bits.n);                                                   \
        wrap(&spki, 0x30, &seq);                                                           \
        cases[k].what = label;                                                             \
        cases[k].note = want_note;                                                         \
        memcpy(cases[k].spki, spki.p, spki.n);                                             \
        cases[k].len = spki.n;                                                             \
        k++;                                                                               \
    } while (0)
    unsigned char negative[300];
    negative[0] = 0x02;
    negative[1] = 0x82;
    negative[2] = 0x01;
    negative[3] = 0x00;
    memcpy(negative + 4, n + 5, 256); /* without the leading zero: negative */
    CASE("canonical", 0, rsa_null, sizeof rsa_null, n, 261, e, 5);
    CASE("no NULL", PINCURL_SPKI_NOTE_RSA_PARAMETERS, rsa_absent, sizeof rsa_absent, n, 261, e,
         5);
    CASE("padded exponent", PINCURL_SPKI_NOTE_RSA_INTEGERS, rsa_null, sizeof rsa_null, n, 261,
         e_padded, sizeof e_padded);
    CASE("negative modulus", PINCURL_SPKI_NOTE_RSA_INTEGERS, rsa_null, sizeof rsa_null, negative,
         260, e, 5);
    CASE("PSS without NULL", PINCURL_SPKI_NOTE_PSS_PARAMETERS, pss_odd.p, pss_odd.n, n, 261, e,
         5);
    CASE("PSS canonical", 0, pss_canon.p, pss_canon.n, n, 261, e, 5);
#undef CASE

    for (size_t i = 0; i < k; i++) {
        unsigned notes = 99;
        unsigned char theirs[600];
        cr_assert_eq(pincurl_spki_encoding_notes(cases[i].spki, cases[i].len, &notes),
                     PINCURL_OK, "%s", cases[i].what);
        cr_assert_eq(notes, cases[i].note, "%s: notes %u", cases[i].what, notes);
        /* the oracle: openssl re-encodes exactly the ones with a note */
        size_t tl = openssl_reencode(cases[i].spki, cases[i].len, theirs, sizeof theirs);
        int same = tl == cases[i].len && memcmp(theirs, cases[i].spki, tl) == 0;
        cr_assert_eq(same, notes == 0, "%s: openssl %s", cases[i].what,
                     same ? "kept the bytes" : "re-encoded");
    }
    /* EC and Ed25519 keys have none; a malformed SPKI is refused */
    unsigned notes = 99;
    cr_assert_eq(pincurl_spki_encoding_notes(EC_SPKI, sizeof EC_SPKI, &notes), PINCURL_OK);
    cr_assert_eq(notes, 0);
    cr_assert_eq(pincurl_spki_encoding_notes(der, len - 1, &notes), PINCURL_DER_TRUNCATED);
    cr_assert_eq(notes, 0);
    cr_assert_eq(pincurl_spki_encoding_notes(der, len, NULL), PINCURL_INVALID_ARGUMENT);
    free(der);
}

/* ---- bundles -------------------------------------------------------------------------- */

static char *pem_block(const unsigned char *der, size_t len, const char *label)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t cap = len * 2 + 200, o = 0;
    char *out = malloc(cap);
    cr_assert_not_null(out);
    o += (size_t)snprintf(out, cap, "-----BEGIN %s-----\n", label);
    for (size_t i = 0, col = 0; i < len; i += 3) {
        unsigned v = (unsigned)der[i] << 16 | (i + 1 < len ? (unsigned)der[i + 1] << 8 : 0) |
                     (i + 2 < len ? der[i + 2] : 0);
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? b64[v & 63] : '=';
        if ((col += 4) == 64 || i + 3 >= len) {
            out[o++] = '\n';
            col = 0;
        }
    }
    snprintf(out + o, cap - o, "-----END %s-----\n", label);
    return out;
}

Test(certread, labels_bad_blocks_and_their_places)
{
    size_t leaf_len, inter_len, root_len;
    unsigned char *leaf = pt_read_file(pt_pki("leaf-ec.der"), &leaf_len);
    unsigned char *inter = pt_read_file(pt_pki("inter.der"), &inter_len);
    unsigned char *root = pt_read_file(pt_pki("root.der"), &root_len);
    /* TRUSTED CERTIFICATE: the certificate, then OpenSSL's trust settings */
    static const unsigned char aux[] = {0x30, 0x0c, 0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06,
                                        0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
    unsigned char *trusted = malloc(root_len + sizeof aux);
    memcpy(trusted, root, root_len);
    memcpy(trusted + root_len, aux, sizeof aux);

    char *b0 = pem_block(leaf, leaf_len, "CERTIFICATE");
    char *b1 = pem_block(inter, inter_len, "X509 CERTIFICATE");
    char *b2 = pem_block(trusted, root_len + sizeof aux, "TRUSTED CERTIFICATE");
    char *b3 = pem_block(inter, inter_len, "CERTIFICATE");
    strchr(b3, '\n')[5] = '*'; /* not base64 */
    static const unsigned char not_cert[] = {0x30, 0x03, 0x02, 0x01, 0x05};
    char *b4 = pem_block(not_cert, sizeof not_cert, "CERTIFICATE");
    char text[16384];
    snprintf(text, sizeof text,
             "intro\n%s-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n%s%s\n%s%s"
             "-----BEGIN CERTIFICATE-----\nMIIB\n",
             b0, b1, b2, b3, b4);

    /* the line of each BEGIN line, counted here */
    size_t lines[8], nl = 0, line = 1;
    for (const char *p = text; *p != '\0'; p++) {
        if ((p == text || p[-1] == '\n') && strncmp(p, "-----BEGIN ", 11) == 0 &&
            strncmp(p, "-----BEGIN PUBLIC", 17) != 0)
            lines[nl++] = line;
        line += *p == '\n';
    }
    cr_assert_eq(nl, 6);

    /* strict: the first bad block fails the whole load */
    pincurl_cert_list *list = NULL;
    cr_assert_eq(pincurl_cert_list_load((unsigned char *)text, strlen(text), NULL, &list),
                 PINCURL_PEM_MALFORMED);
    cr_assert_null(list);

    cr_assert_eq(pincurl_cert_list_load_ex((unsigned char *)text, strlen(text),
                                           PINCURL_CERT_LIST_SKIP_BAD, NULL, &list),
                 PINCURL_OK);
    cr_assert_eq(pincurl_cert_list_count(list), 3);
    cr_assert_eq(pincurl_cert_list_skipped_count(list), 3);
    const unsigned char *want[3] = {leaf, inter, root};
    size_t want_len[3] = {leaf_len, inter_len, root_len};
    for (size_t i = 0; i < 3; i++) {
        size_t len = 0, block = 9, at = 9;
        const unsigned char *der = pincurl_cert_list_der(list, i, &len);
        cr_assert_eq(len, want_len[i], "certificate %zu", i); /* the trust settings dropped */
        cr_assert(memcmp(der, want[i], len) == 0);
        cr_assert_eq(pincurl_cert_list_origin(list, i, &block, &at), PINCURL_OK);
        cr_assert_eq(block, i);
        cr_assert_eq(at, lines[i]);
    }
    static const pincurl_status why[3] = {PINCURL_PEM_MALFORMED, PINCURL_DER_MALFORMED,
                                          PINCURL_PEM_MALFORMED};
    for (size_t i = 0; i < 3; i++) {
        size_t block = 9, at = 9;
        pincurl_status st = PINCURL_OK;
        cr_assert_eq(pincurl_cert_list_skipped(list, i, &block, &at, &st), PINCURL_OK);
        cr_assert_eq(block, 3 + i);
        cr_assert_eq(at, lines[3 + i]);
        cr_assert_eq(st, why[i], "skipped %zu: %s", i, pincurl_status_name(st));
    }
    cr_assert_eq(pincurl_cert_list_origin(list, 3, NULL, NULL), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_cert_list_skipped(list, 3, NULL, NULL, NULL), PINCURL_INVALID_ARGUMENT);
    pincurl_cert_list_free(list);

    /* the labels alone, strictly: the same three certificates */
    snprintf(text, sizeof text, "%s%s%s", b0, b1, b2);
    cr_assert_eq(pincurl_cert_list_load((unsigned char *)text, strlen(text), NULL, &list),
                 PINCURL_OK);
    cr_assert_eq(pincurl_cert_list_count(list), 3);
    pincurl_cert_list_free(list);
    /* and the key loader takes the certificate of a TRUSTED CERTIFICATE */
    pincurl_pin a, b;
    cr_assert_eq(pincurl_pin_from_public_key((unsigned char *)b2, strlen(b2), &a), PINCURL_OK);
    cr_assert_eq(pincurl_pin_from_cert_der(root, root_len, &b), PINCURL_OK);
    cr_assert(pincurl_pin_equal(&a, &b));

    /* only bad blocks: a list with none, and why; nothing at all: NO_CERTIFICATE */
    cr_assert_eq(pincurl_cert_list_load_ex((unsigned char *)b4, strlen(b4),
                                           PINCURL_CERT_LIST_SKIP_BAD, NULL, &list),
                 PINCURL_OK);
    cr_assert_eq(pincurl_cert_list_count(list), 0);
    cr_assert_eq(pincurl_cert_list_skipped_count(list), 1);
    pincurl_cert_list_free(list);
    cr_assert_eq(pincurl_cert_list_load_ex((const unsigned char *)"text\n", 5,
                                           PINCURL_CERT_LIST_SKIP_BAD, NULL, &list),
                 PINCURL_NO_CERTIFICATE);
    cr_assert_eq(pincurl_cert_list_load_ex(leaf, leaf_len, 0x8, NULL, &list),
                 PINCURL_INVALID_ARGUMENT);
    /* a DER input with no key: skipped, at line 0 */
    cr_assert_eq(pincurl_cert_list_load_ex(not_cert, sizeof not_cert, PINCURL_CERT_LIST_SKIP_BAD,
                                           NULL, &list),
                 PINCURL_OK);
    size_t block = 9, at = 9;
    cr_assert_eq(pincurl_cert_list_skipped(list, 0, &block, &at, NULL), PINCURL_OK);
    cr_assert(block == 0 && at == 0);
    pincurl_cert_list_free(list);

    free(b0);
    free(b1);
    free(b2);
    free(b3);
    free(b4);
    free(trusted);
    free(leaf);
    free(inter);
    free(root);
}

Test(certread, pem_base64_with_unused_bits_set)
{
    /* the last group's unused bits set (an editor's change to a certificate's last
     * characters): OpenSSL and Go read it; so does pincurl, to the same bytes */
    buf issuer = {.n = 0}, cert = {.n = 0};
    for (size_t rdns = 1; cert.n % 3 == 0; rdns++) { /* a final group with padding */
        issuer.n = 0;
        make_name(&issuer, rdns, SIZE_MAX);
        make_cert(&cert, &issuer, PC_DER_UTC_TIME, "260101000000Z", PC_DER_UTC_TIME,
                  "351231235959Z", &issuer, EC_SPKI, sizeof EC_SPKI, NULL);
    }
    size_t len = cert.n;
    unsigned char *der = malloc(len);
    cr_assert_not_null(der);
    memcpy(der, cert.p, len);
    char *pem = pem_block(der, len, "CERTIFICATE");
    char *pad = strstr(pem, "=\n-----END");
    cr_assert_not_null(pad);
    char *last = pad - (len % 3 == 1 ? 2 : 1); /* the character that carries unused bits */
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int v = (int)(strchr(b64, *last) - b64);
    *last = b64[v | (len % 3 == 1 ? 0x0f : 0x03)];
    pincurl_cert_list *list = NULL;
    cr_assert_eq(pincurl_cert_list_load((unsigned char *)pem, strlen(pem), NULL, &list),
                 PINCURL_OK);
    size_t got = 0;
    const unsigned char *p = pincurl_cert_list_der(list, 0, &got);
    cr_assert(got == len && memcmp(p, der, len) == 0);
    pincurl_cert_list_free(list);
    free(pem);
    free(der);
}
