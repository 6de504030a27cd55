/* SubjectPublicKeyInfo location and pins of certificates and public keys, checked against
 * openssl run now on the same files; robustness of the DER reader on broken input. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/der.h"
#include "pincurl/pincurl.h"
#include "support.h"

static const char *all_certs[] = {"root", "inter", "leaf-ec", "leaf-rsa", "leaf-backup",
                                  "leaf-expired", "leaf-otherhost", "rogue-root", "rogue-leaf",
                                  "rsa2048", "rsa3072", "rsa4096", "p256", "p384", "p521",
                                  "ed25519", "ed448"};
static const char *zoo[] = {"rsa2048", "rsa3072", "rsa4096", "p256",
                            "p384",    "p521",    "ed25519", "ed448"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void pin_str(const pincurl_pin *pin, char *out)
{
    cr_assert_eq(pincurl_pin_format(pin, out, PINCURL_PIN_TEXT_SIZE), PINCURL_OK);
}

/* Runs a shell command and returns its first output line (trimmed). */
static void capture(const char *cmd, char *out, size_t size)
{
    FILE *p = popen(cmd, "r");
    cr_assert(p != NULL);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0, "command failed: %s", cmd);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
}

/* Loads a one-certificate PEM file and returns a malloc'd copy of its DER. */
static unsigned char *load_cert_der(const char *name, size_t *len)
{
    char file[64];
    size_t pem_len;
    snprintf(file, sizeof file, "%s.pem", name);
    unsigned char *pem = pt_read_file(pt_pki(file), &pem_len);
    pincurl_cert_list *list = NULL;
    cr_assert_eq(pincurl_cert_list_load(pem, pem_len, NULL, &list), PINCURL_OK, "%s", name);
    cr_assert_eq(pincurl_cert_list_count(list), 1);
    const unsigned char *der = pincurl_cert_list_der(list, 0, len);
    cr_assert_not_null(der);
    unsigned char *copy = malloc(*len);
    cr_assert_not_null(copy);
    memcpy(copy, der, *len);
    pincurl_cert_list_free(list);
    free(pem);
    return copy;
}

/* ---- Agreement with openssl ------------------------------------------------------------- */

Test(spki, every_certificate_pin_matches_openssl)
{
    const char *dir = pt_tmpdir("spki-certs");
    for (size_t i = 0; i < COUNT(all_certs); i++) {
        char file[64], expected[128], got[PINCURL_PIN_TEXT_SIZE], spki_path[1100];
        size_t len, ref_len, spki_len;
        const unsigned char *spki;
        pincurl_pin pin, pin2;

        snprintf(file, sizeof file, "%s.pem", all_certs[i]);
        pt_openssl_cert_pin(pt_pki(file), expected, sizeof expected);
        unsigned char *der = load_cert_der(all_certs[i], &len);

        cr_assert_eq(pincurl_pin_from_cert_der(der, len, &pin), PINCURL_OK, "%s", file);
        pin_str(&pin, got);
        cr_assert_str_eq(got, expected, "%s: core %s, openssl %s", file, got, expected);

        /* The located bytes are exactly the SPKI openssl prints. */
        snprintf(spki_path, sizeof spki_path, "%s/%s.spki.der", dir, all_certs[i]);
        cr_assert_eq(pt_system("openssl x509 -in '%s' -pubkey -noout | openssl pkey -pubin "
                               "-outform der -out '%s'",
                               pt_pki(file), spki_path),
                     0);
        unsigned char *ref = pt_read_file(spki_path, &ref_len);
        cr_assert_eq(pincurl_spki_locate(der, len, &spki, &spki_len), PINCURL_OK);
        cr_assert_eq(spki_len, ref_len, "%s", file);
        cr_assert(memcmp(spki, ref, ref_len) == 0, "%s: SPKI bytes differ", file);
        cr_assert(spki > der && spki + spki_len < der + len, "points into the certificate");

        cr_assert_eq(pincurl_pin_from_spki_der(ref, ref_len, &pin2), PINCURL_OK);
        cr_assert(pincurl_pin_equal(&pin, &pin2));

        /* A PEM certificate given as a "public key" pins its SPKI. */
        size_t pem_len;
        unsigned char *pem = pt_read_file(pt_pki(file), &pem_len);
        cr_assert_eq(pincurl_pin_from_public_key(pem, pem_len, &pin2), PINCURL_OK, "%s", file);
        cr_assert(pincurl_pin_equal(&pin, &pin2), "%s", file);
        cr_assert_eq(pincurl_pin_from_public_key(der, len, &pin2), PINCURL_OK, "%s", file);
        cr_assert(pincurl_pin_equal(&pin, &pin2), "%s", file);
        free(pem);
        free(ref);
        free(der);
    }
}

Test(spki, zoo_der_files_match_openssl)
{
    for (size_t i = 0; i < COUNT(zoo); i++) {
        char file[64], expected[128], got[PINCURL_PIN_TEXT_SIZE];
        size_t len;
        pincurl_pin pin;
        snprintf(file, sizeof file, "%s.pem", zoo[i]);
        pt_openssl_cert_pin(pt_pki(file), expected, sizeof expected);
        snprintf(file, sizeof file, "%s.der", zoo[i]);
        unsigned char *der = pt_read_file(pt_pki(file), &len);
        cr_assert_eq(pincurl_pin_from_cert_der(der, len, &pin), PINCURL_OK, "%s", file);
        pin_str(&pin, got);
        cr_assert_str_eq(got, expected, "%s", file);
        free(der);
    }
}

Test(spki, public_keys_match_openssl)
{
    static const char *forms[] = {"pub.pem", "pub.der"};
    for (size_t i = 0; i < COUNT(zoo); i++) {
        char file[64], expected[128], got[PINCURL_PIN_TEXT_SIZE];
        snprintf(file, sizeof file, "%s.key", zoo[i]);
        pt_openssl_key_pin(pt_pki(file), expected, sizeof expected);
        for (size_t f = 0; f < COUNT(forms); f++) {
            size_t len;
            pincurl_pin pin;
            snprintf(file, sizeof file, "%s.%s", zoo[i], forms[f]);
            unsigned char *data = pt_read_file(pt_pki(file), &len);
            cr_assert_eq(pincurl_pin_from_public_key(data, len, &pin), PINCURL_OK, "%s", file);
            pin_str(&pin, got);
            cr_assert_str_eq(got, expected, "%s: core %s, openssl %s", file, got, expected);
            free(data);
        }
    }
}

Test(spki, pkcs1_rsa_public_key_is_wrapped_like_openssl)
{
    char expected[128], got[PINCURL_PIN_TEXT_SIZE], path[1100];
    size_t len;
    pincurl_pin pin;
    pt_openssl_key_pin(pt_pki("rsa2048.key"), expected, sizeof expected);

    unsigned char *pem = pt_read_file(pt_pki("rsa2048.pkcs1.pem"), &len);
    cr_assert(strstr((const char *)pem, "BEGIN RSA PUBLIC KEY") != NULL);
    cr_assert_eq(pincurl_pin_from_public_key(pem, len, &pin), PINCURL_OK);
    pin_str(&pin, got);
    cr_assert_str_eq(got, expected);
    free(pem);

    /* The DER form, and large moduli (long-form lengths of other sizes). */
    const char *dir = pt_tmpdir("spki-pkcs1");
    static const char *rsa[] = {"rsa2048", "rsa3072", "rsa4096", "root", "leaf-rsa"};
    for (size_t i = 0; i < COUNT(rsa); i++) {
        char key[64];
        snprintf(key, sizeof key, "%s.key", rsa[i]);
        snprintf(path, sizeof path, "%s/%s.pkcs1.der", dir, rsa[i]);
        cr_assert_eq(pt_system("openssl rsa -in '%s' -RSAPublicKey_out -outform der -out '%s' "
                               "2>/dev/null",
                               pt_pki(key), path),
                     0);
        pt_openssl_key_pin(pt_pki(key), expected, sizeof expected);
        unsigned char *der = pt_read_file(path, &len);
        cr_assert_eq(der[0], 0x30);
        cr_assert_eq(pincurl_pin_from_public_key(der, len, &pin), PINCURL_OK, "%s", rsa[i]);
        pin_str(&pin, got);
        cr_assert_str_eq(got, expected, "%s", rsa[i]);
        free(der);
    }
}

Test(spki, private_keys_are_unsupported)
{
    const char *dir = pt_tmpdir("spki-private");
    char path[1100];
    size_t len;
    pincurl_pin pin;

    for (size_t i = 0; i < COUNT(zoo); i++) {
        char file[64];
        snprintf(file, sizeof file, "%s.key", zoo[i]);
        unsigned char *data = pt_read_file(pt_pki(file), &len);
        cr_assert(strstr((const char *)data, "PRIVATE KEY") != NULL);
        cr_assert_eq(pincurl_pin_from_public_key(data, len, &pin), PINCURL_KEY_UNSUPPORTED, "%s",
                     file);
        free(data);
    }

    static const struct {
        const char *name, *cmd;
    } variants[] = {
        {"pkcs8.der", "openssl pkey -in '%s/rsa2048.key' -outform der -out '%s'"},
        {"ec-pkcs8.der", "openssl pkey -in '%s/p256.key' -outform der -out '%s'"},
        {"rsa-traditional.pem", "openssl rsa -in '%s/rsa2048.key' -traditional -out '%s' 2>/dev/null"},
        {"rsa-traditional.der", "openssl rsa -in '%s/rsa2048.key' -traditional -outform der "
                                "-out '%s' 2>/dev/null"},
        {"ec-traditional.pem", "openssl ec -in '%s/p256.key' -out '%s' 2>/dev/null"},
        {"ec-with-params.pem", "cd '%s' && openssl ecparam -name prime256v1 -genkey -out '%s'"},
        {"ec-traditional.der", "openssl ec -in '%s/p256.key' -outform der -out '%s' 2>/dev/null"},
        {"encrypted.pem", "openssl pkey -in '%s/p256.key' -aes128 -passout pass:x -out '%s'"},
        {"encrypted.der", "openssl pkcs8 -topk8 -in '%s/p256.key' -v2 aes128 -passout pass:x "
                          "-outform der -out '%s'"},
    };
    for (size_t i = 0; i < COUNT(variants); i++) {
        snprintf(path, sizeof path, "%s/%s", dir, variants[i].name);
        cr_assert_eq(pt_system(variants[i].cmd, pt_pki_dir(), path), 0, "%s", variants[i].name);
        unsigned char *data = pt_read_file(path, &len);
        cr_assert_eq(pincurl_pin_from_public_key(data, len, &pin), PINCURL_KEY_UNSUPPORTED,
                     "%s", variants[i].name);
        free(data);
    }
}

Test(spki, no_key_and_bad_pem)
{
    pincurl_pin pin;
    const char *text = "just some text\n";
    cr_assert_eq(pincurl_pin_from_public_key((const unsigned char *)text, strlen(text), &pin),
                 PINCURL_NO_KEY);
    cr_assert_eq(pincurl_pin_from_public_key((const unsigned char *)"", 0, &pin), PINCURL_NO_KEY);
    cr_assert_eq(pincurl_pin_from_public_key(NULL, 0, &pin), PINCURL_NO_KEY);
    cr_assert_eq(pincurl_pin_from_public_key(NULL, 3, &pin), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_pin_from_public_key((const unsigned char *)text, 3, NULL),
                 PINCURL_INVALID_ARGUMENT);

    const char *params = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
    cr_assert_eq(pincurl_pin_from_public_key((const unsigned char *)params, strlen(params), &pin),
                 PINCURL_NO_KEY);

    /* A PUBLIC KEY block that does not decode, and one never terminated. */
    size_t len;
    unsigned char *pem = pt_read_file(pt_pki("p256.pub.pem"), &len);
    char *copy = malloc(len + 1);
    memcpy(copy, pem, len + 1);
    char *body = strchr(copy, '\n') + 1;
    body[5] = '!';
    cr_assert_eq(pincurl_pin_from_public_key((unsigned char *)copy, len, &pin),
                 PINCURL_PEM_MALFORMED);
    memcpy(copy, pem, len + 1);
    char *end = strstr(copy, "-----END");
    cr_assert_eq(pincurl_pin_from_public_key((unsigned char *)copy, (size_t)(end - copy), &pin),
                 PINCURL_PEM_MALFORMED);
    /* A well-formed PEM block whose DER is not an SPKI. */
    const char *notkey = "-----BEGIN PUBLIC KEY-----\nAgEF\n-----END PUBLIC KEY-----\n";
    cr_assert_eq(pincurl_pin_from_public_key((const unsigned char *)notkey, strlen(notkey), &pin),
                 PINCURL_DER_MALFORMED);
    free(copy);
    free(pem);
}

/* ---- Robustness of the DER reader ------------------------------------------------------- */

static void check_every_truncation(const char *name)
{
    size_t len;
    unsigned char *der = load_cert_der(name, &len);
    for (size_t n = 0; n < len; n++) {
        /* An exact-size copy, so any read past n is caught by the sanitizers. */
        unsigned char *cut = malloc(n == 0 ? 1 : n);
        cr_assert_not_null(cut);
        memcpy(cut, der, n);
        const unsigned char *spki = (const unsigned char *)"x";
        size_t spki_len = 99;
        pincurl_pin pin;
        cr_assert_eq(pincurl_spki_locate(cut, n, &spki, &spki_len), PINCURL_DER_TRUNCATED,
                     "%s cut at %zu of %zu", name, n, len);
        cr_assert_null(spki);
        cr_assert_eq(spki_len, 0);
        cr_assert_eq(pincurl_pin_from_cert_der(cut, n, &pin), PINCURL_DER_TRUNCATED);
        free(cut);
    }
    free(der);
}

Test(spki, every_truncation_is_an_error)
{
    static const char *names[] = {"leaf-ec", "leaf-rsa", "rsa4096", "ed25519", "p521"};
    for (size_t i = 0; i < COUNT(names); i++)
        check_every_truncation(names[i]);
}

Test(spki, trailing_bytes_are_malformed)
{
    size_t len;
    unsigned char *der = load_cert_der("leaf-ec", &len);
    unsigned char *longer = malloc(len + 2);
    memcpy(longer, der, len);
    longer[len] = 0x00;
    longer[len + 1] = 0x00;
    const unsigned char *spki;
    size_t spki_len;
    cr_assert_eq(pincurl_spki_locate(longer, len, &spki, &spki_len), PINCURL_OK);
    cr_assert_eq(pincurl_spki_locate(longer, len + 1, &spki, &spki_len), PINCURL_DER_MALFORMED);
    cr_assert_eq(pincurl_spki_locate(longer, len + 2, &spki, &spki_len), PINCURL_DER_MALFORMED);
    free(longer);
    free(der);
}

/* Mutates each length octet of the element header at off with several masks. */
static void flip_lengths(const unsigned char *der, size_t len, size_t off, const char *what)
{
    static const unsigned char masks[] = {0x01, 0x02, 0x04, 0x10, 0x7f, 0x80, 0xff};
    pc_der_tlv tlv;
    cr_assert_eq(pc_der_read(der + off, len - off, &tlv), PINCURL_OK);
    size_t header = tlv.tlv_len - tlv.content_len;
    cr_assert(header >= 2);
    unsigned char *copy = malloc(len);
    for (size_t i = 1; i < header; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(copy, der, len);
            copy[off + i] ^= masks[m];
            const unsigned char *spki;
            size_t spki_len;
            pincurl_status st = pincurl_spki_locate(copy, len, &spki, &spki_len);
            cr_assert(st == PINCURL_DER_TRUNCATED || st == PINCURL_DER_MALFORMED,
                      "%s length octet %zu ^ 0x%02x gave %s", what, i, masks[m],
                      pincurl_status_name(st));
        }
    }
    free(copy);
}

Test(spki, corrupted_header_lengths_are_errors)
{
    static const char *names[] = {"leaf-ec", "leaf-rsa", "rsa4096", "ed448", "root"};
    for (size_t i = 0; i < COUNT(names); i++) {
        size_t len, spki_len;
        const unsigned char *spki;
        pc_der_tlv outer;
        unsigned char *der = load_cert_der(names[i], &len);
        cr_assert_eq(pincurl_spki_locate(der, len, &spki, &spki_len), PINCURL_OK);
        cr_assert_eq(pc_der_read(der, len, &outer), PINCURL_OK);
        size_t tbs_off = (size_t)(outer.content - der);
        flip_lengths(der, len, 0, "certificate");
        flip_lengths(der, len, tbs_off, "tbsCertificate");
        flip_lengths(der, len, (size_t)(spki - der), "subjectPublicKeyInfo");
        /* and the tags themselves */
        size_t offs[] = {0, tbs_off, (size_t)(spki - der)};
        for (size_t k = 0; k < COUNT(offs); k++) {
            der[offs[k]] ^= 0x01;
            cr_assert_eq(pincurl_spki_locate(der, len, &spki, &spki_len), PINCURL_DER_MALFORMED);
            der[offs[k]] ^= 0x01;
        }
        free(der);
    }
}

Test(spki, garbage_inputs)
{
    uint64_t state = 12345;
    unsigned char buf[600];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)(iter % 600);
        for (size_t i = 0; i < n; i++) {
            state = state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
            buf[i] = (unsigned char)(state >> 33);
        }
        if (n > 0 && iter % 2 == 0)
            buf[0] = 0x30; /* look like a SEQUENCE */
        if (n > 4 && iter % 4 == 0) {
            buf[1] = 0x82;
            buf[2] = (unsigned char)((n - 4) >> 8);
            buf[3] = (unsigned char)((n - 4) & 0xff);
            buf[4] = 0x30;
        }
        unsigned char *copy = malloc(n == 0 ? 1 : n);
        memcpy(copy, buf, n);
        const unsigned char *spki;
        size_t spki_len;
        pincurl_pin pin;
        pincurl_status st = pincurl_spki_locate(copy, n, &spki, &spki_len);
        cr_assert(st == PINCURL_DER_TRUNCATED || st == PINCURL_DER_MALFORMED, "iteration %d", iter);
        st = pincurl_pin_from_public_key(copy, n, &pin);
        cr_assert_neq(st, PINCURL_OK, "iteration %d", iter);
        free(copy);
    }
    const char *text = "-----BEGIN CERTIFICATE-----\nnot a certificate\n";
    const unsigned char *spki;
    size_t spki_len;
    pincurl_status st = pincurl_spki_locate((const unsigned char *)text, strlen(text), &spki,
                                            &spki_len);
    cr_assert(st == PINCURL_DER_TRUNCATED || st == PINCURL_DER_MALFORMED);
}

Test(spki, length_encodings)
{
    pc_der_tlv tlv;
    const unsigned char *spki;
    size_t spki_len;
    static const unsigned char indefinite[] = {0x30, 0x80, 0x02, 0x01, 0x00, 0x00, 0x00};
    cr_assert_eq(pc_der_read(indefinite, sizeof indefinite, &tlv), PINCURL_DER_MALFORMED);
    cr_assert_eq(pincurl_spki_locate(indefinite, sizeof indefinite, &spki, &spki_len),
                 PINCURL_DER_MALFORMED);
    static const unsigned char long_short[] = {0x04, 0x81, 0x05, 1, 2, 3, 4, 5};
    cr_assert_eq(pc_der_read(long_short, sizeof long_short, &tlv), PINCURL_DER_MALFORMED);
    static const unsigned char leading_zero[] = {0x04, 0x82, 0x00, 0x81};
    cr_assert_eq(pc_der_read(leading_zero, sizeof leading_zero, &tlv), PINCURL_DER_MALFORMED);
    static const unsigned char five[] = {0x04, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00};
    cr_assert_eq(pc_der_read(five, sizeof five, &tlv), PINCURL_DER_MALFORMED);
    static const unsigned char reserved[] = {0x04, 0xff, 0x00};
    cr_assert_eq(pc_der_read(reserved, sizeof reserved, &tlv), PINCURL_DER_MALFORMED);
    static const unsigned char high_tag[] = {0x1f, 0x81, 0x01, 0x00};
    cr_assert_eq(pc_der_read(high_tag, sizeof high_tag, &tlv), PINCURL_DER_MALFORMED);
    static const unsigned char huge[] = {0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00};
    cr_assert_eq(pc_der_read(huge, sizeof huge, &tlv), PINCURL_DER_TRUNCATED);
    static const unsigned char cut_len[] = {0x30, 0x82, 0x01};
    cr_assert_eq(pc_der_read(cut_len, sizeof cut_len, &tlv), PINCURL_DER_TRUNCATED);

    /* The accepted forms. */
    static const unsigned char short_form[] = {0x04, 0x02, 0xaa, 0xbb, 0xcc};
    cr_assert_eq(pc_der_read(short_form, sizeof short_form, &tlv), PINCURL_OK);
    cr_assert_eq(tlv.tag, 0x04);
    cr_assert_eq(tlv.tlv_len, 4);
    cr_assert_eq(tlv.content_len, 2);
    cr_assert_eq(tlv.content, short_form + 2);
    unsigned char long_form[3 + 200];
    memset(long_form, 0, sizeof long_form);
    long_form[0] = 0x04;
    long_form[1] = 0x81;
    long_form[2] = 200;
    cr_assert_eq(pc_der_read(long_form, sizeof long_form, &tlv), PINCURL_OK);
    cr_assert_eq(tlv.content_len, 200);
    cr_assert_eq(pc_der_read(long_form, sizeof long_form - 1, &tlv), PINCURL_DER_TRUNCATED);
}

/* ---- Hand-built certificates ------------------------------------------------------------ */

/* Appends tag, minimal length and content to out at *n. */
static void put_tlv(unsigned char *out, size_t *n, unsigned tag, const unsigned char *c,
                    size_t len)
{
    out[(*n)++] = (unsigned char)tag;
    if (len < 0x80) {
        out[(*n)++] = (unsigned char)len;
    } else if (len < 0x100) {
        out[(*n)++] = 0x81;
        out[(*n)++] = (unsigned char)len;
    } else {
        out[(*n)++] = 0x82;
        out[(*n)++] = (unsigned char)(len >> 8);
        out[(*n)++] = (unsigned char)(len & 0xff);
    }
    memcpy(out + *n, c, len);
    *n += len;
}

static void put_raw(unsigned char *out, size_t *n, const unsigned char *c, size_t len)
{
    memcpy(out + *n, c, len);
    *n += len;
}

static const unsigned char alg_1234[] = {0x30, 0x05, 0x06, 0x03, 0x2a, 0x03, 0x04};
static const unsigned char name_hi[] = {0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03,
                                        0x55, 0x04, 0x03, 0x0c, 0x02, 'h',  'i'};
static const unsigned char validity[] = {
    0x30, 0x1e, 0x17, 0x0d, '2', '0', '0', '1', '0', '1', '0', '0', '0', '0', '0', '0', 'Z',
    0x17, 0x0d, '3', '0', '0', '1', '0', '1', '0', '0', '0', '0', '0', '0', 'Z'};
/* SEQUENCE { SEQUENCE { OID 1.2.3.4 }, BIT STRING { 00 01 02 03 04 } }: an algorithm
 * nobody knows, which must not matter. */
static const unsigned char good_spki[] = {0x30, 0x0e, 0x30, 0x05, 0x06, 0x03, 0x2a, 0x03,
                                          0x04, 0x03, 0x05, 0x00, 0x01, 0x02, 0x03, 0x04};

/* Certificate with the given SPKI element(s) (raw bytes placed after the subject). */
static size_t make_cert(unsigned char *out, const unsigned char *spki, size_t spki_len,
                        int with_version)
{
    static const unsigned char version[] = {0xa0, 0x03, 0x02, 0x01, 0x02};
    static const unsigned char serial[] = {0x02, 0x01, 0x07};
    static const unsigned char ext[] = {0xa3, 0x03, 0x30, 0x01, 0x00};
    static const unsigned char sig[] = {0x03, 0x02, 0x00, 0x00};
    unsigned char tbs[512], body[700];
    size_t t = 0, b = 0, n = 0;
    if (with_version)
        put_raw(tbs, &t, version, sizeof version);
    put_raw(tbs, &t, serial, sizeof serial);
    put_raw(tbs, &t, alg_1234, sizeof alg_1234);
    put_raw(tbs, &t, name_hi, sizeof name_hi);
    put_raw(tbs, &t, validity, sizeof validity);
    put_raw(tbs, &t, name_hi, sizeof name_hi);
    put_raw(tbs, &t, spki, spki_len);
    put_raw(tbs, &t, ext, sizeof ext);
    put_tlv(body, &b, 0x30, tbs, t);
    put_raw(body, &b, alg_1234, sizeof alg_1234);
    put_raw(body, &b, sig, sizeof sig);
    put_tlv(out, &n, 0x30, body, b);
    return n;
}

Test(spki, hand_built_certificate_any_algorithm)
{
    unsigned char cert[800];
    const unsigned char *spki;
    size_t spki_len;
    pincurl_pin pin, pin2;
    for (int v = 0; v < 2; v++) {
        size_t n = make_cert(cert, good_spki, sizeof good_spki, v);
        cr_assert_eq(pincurl_spki_locate(cert, n, &spki, &spki_len), PINCURL_OK);
        cr_assert_eq(spki_len, sizeof good_spki);
        cr_assert(memcmp(spki, good_spki, spki_len) == 0);
        cr_assert_eq(pincurl_pin_from_cert_der(cert, n, &pin), PINCURL_OK);
    }

    /* The pin is plain SHA-256 of those bytes: ask openssl. */
    const char *dir = pt_tmpdir("spki-hand");
    char path[1100], cmd[1300], expected[128], got[PINCURL_PIN_TEXT_SIZE];
    snprintf(path, sizeof path, "%s/spki.der", dir);
    pt_write_file(path, good_spki, sizeof good_spki);
    snprintf(cmd, sizeof cmd, "openssl dgst -sha256 -binary '%s' | base64", path);
    capture(cmd, expected, sizeof expected);
    pin_str(&pin, got);
    cr_assert_str_eq(got + 7, expected);
    cr_assert_eq(pincurl_pin_from_spki_der(good_spki, sizeof good_spki, &pin2), PINCURL_OK);
    cr_assert(pincurl_pin_equal(&pin, &pin2));
    /* ... and as a public key. */
    cr_assert_eq(pincurl_pin_from_public_key(good_spki, sizeof good_spki, &pin2), PINCURL_OK);
    cr_assert(pincurl_pin_equal(&pin, &pin2));
}

Test(spki, spki_that_is_not_a_sequence)
{
    unsigned char cert[800];
    const unsigned char *spki;
    size_t spki_len;
    static const struct {
        const char *what;
        unsigned char bytes[24];
        size_t len;
    } bad[] = {
        {"OCTET STRING", {0x04, 0x03, 0x01, 0x02, 0x03}, 5},
        {"SET", {0x31, 0x0e, 0x30, 0x05, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x03, 0x05, 0x00, 0x01,
                 0x02, 0x03, 0x04}, 16},
        {"key not a BIT STRING", {0x30, 0x0e, 0x30, 0x05, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x04,
                                  0x05, 0x00, 0x01, 0x02, 0x03, 0x04}, 16},
        {"algorithm not a SEQUENCE", {0x30, 0x0c, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x03, 0x05,
                                      0x00, 0x01, 0x02, 0x03, 0x04}, 14},
        {"empty algorithm", {0x30, 0x09, 0x30, 0x00, 0x03, 0x05, 0x00, 0x01, 0x02, 0x03, 0x04}, 11},
        {"extra element", {0x30, 0x11, 0x30, 0x05, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x03, 0x05,
                           0x00, 0x01, 0x02, 0x03, 0x04, 0x02, 0x01, 0x00}, 19},
        {"no key", {0x30, 0x07, 0x30, 0x05, 0x06, 0x03, 0x2a, 0x03, 0x04}, 9},
        {"empty BIT STRING", {0x30, 0x09, 0x30, 0x05, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x03, 0x00}, 11},
        {"unused bits > 7", {0x30, 0x0b, 0x30, 0x05, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x03, 0x02,
                             0x08, 0x00}, 13},
        {"missing", {0}, 0},
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        size_t n = make_cert(cert, bad[i].bytes, bad[i].len, 1);
        cr_assert_eq(pincurl_spki_locate(cert, n, &spki, &spki_len), PINCURL_DER_MALFORMED, "%s",
                     bad[i].what);
        if (bad[i].len > 0) {
            pincurl_pin pin;
            cr_assert_eq(pincurl_pin_from_spki_der(bad[i].bytes, bad[i].len, &pin),
                         PINCURL_DER_MALFORMED, "%s", bad[i].what);
        }
    }
}

Test(spki, pin_from_spki_der_checks_one_element)
{
    pincurl_pin pin;
    unsigned char buf[sizeof good_spki + 1];
    memcpy(buf, good_spki, sizeof good_spki);
    buf[sizeof good_spki] = 0;
    cr_assert_eq(pincurl_pin_from_spki_der(buf, sizeof buf, &pin), PINCURL_DER_MALFORMED);
    cr_assert_eq(pincurl_pin_from_spki_der(buf, sizeof good_spki - 1, &pin), PINCURL_DER_TRUNCATED);
    cr_assert_eq(pincurl_pin_from_spki_der(buf, 0, &pin), PINCURL_DER_TRUNCATED);
    cr_assert_eq(pincurl_pin_from_spki_der(NULL, 4, &pin), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_pin_from_spki_der(buf, sizeof good_spki, NULL), PINCURL_INVALID_ARGUMENT);
}

Test(spki, argument_checks)
{
    const unsigned char *spki = (const unsigned char *)"x";
    size_t spki_len = 5;
    pincurl_pin pin;
    cr_assert_eq(pincurl_spki_locate(NULL, 10, &spki, &spki_len), PINCURL_INVALID_ARGUMENT);
    cr_assert_null(spki);
    cr_assert_eq(spki_len, 0);
    cr_assert_eq(pincurl_spki_locate(NULL, 0, &spki, &spki_len), PINCURL_DER_TRUNCATED);
    cr_assert_eq(pincurl_spki_locate(good_spki, sizeof good_spki, NULL, &spki_len),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_spki_locate(good_spki, sizeof good_spki, &spki, NULL),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_pin_from_cert_der(good_spki, sizeof good_spki, NULL),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_pin_from_cert_der(NULL, 3, &pin), PINCURL_INVALID_ARGUMENT);
    /* an SPKI is not a certificate */
    cr_assert_eq(pincurl_pin_from_cert_der(good_spki, sizeof good_spki, &pin),
                 PINCURL_DER_MALFORMED);
}
