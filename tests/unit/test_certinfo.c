/* Certificate facts and key extraction (pincurl/cert.h), compared with what openssl says
 * about the same files, computed while the test runs. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pincurl/cert.h"
#include "pincurl/pincurl.h"
#include "support.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void capture(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void capture(char *out, size_t size, const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    cr_assert(p != NULL);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0, "command failed: %s", cmd);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
}

static unsigned char *pem_to_der(const char *pem, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/cert.der", pt_tmpdir("certinfo"));
    cr_assert_eq(pt_system("openssl x509 -in '%s' -outform der -out '%s'", pem, path), 0);
    return pt_read_file(path, len);
}

static const char *const CERTS[] = {"leaf-ec", "leaf-rsa", "inter", "root", "leaf-expired",
                                    "leaf-otherhost", "rogue-root", "rsa2048", "rsa3072",
                                    "rsa4096", "p256", "p384", "p521", "ed25519", "ed448"};

Test(certinfo, facts_match_openssl)
{
    for (size_t i = 0; i < COUNT(CERTS); i++) {
        char name[64], want[2048];
        snprintf(name, sizeof name, "%s.pem", CERTS[i]);
        const char *pem = pt_pki(name);
        size_t len;
        unsigned char *der = pem_to_der(pem, &len);
        pincurl_cert_info info;
        cr_assert_eq(pincurl_cert_info_get(der, len, &info), PINCURL_OK, "%s", name);

        capture(want, sizeof want, "openssl x509 -in '%s' -noout -subject -nameopt RFC2253 | "
                                   "sed 's/^subject=//'", pem);
        cr_expect_str_eq(info.subject, want, "%s subject", name);
        capture(want, sizeof want, "openssl x509 -in '%s' -noout -issuer -nameopt RFC2253 | "
                                   "sed 's/^issuer=//'", pem);
        cr_expect_str_eq(info.issuer, want, "%s issuer", name);
        capture(want, sizeof want, "date -u -d \"$(openssl x509 -in '%s' -noout -enddate | "
                                   "cut -d= -f2)\" +%%s", pem);
        cr_expect_eq(info.not_after, strtoll(want, NULL, 10), "%s notAfter", name);
        capture(want, sizeof want, "date -u -d \"$(openssl x509 -in '%s' -noout -startdate | "
                                   "cut -d= -f2)\" +%%s", pem);
        cr_expect_eq(info.not_before, strtoll(want, NULL, 10), "%s notBefore", name);

        capture(want, sizeof want, "openssl x509 -in '%s' -noout -text | "
                                   "sed -n 's/.*Public Key Algorithm: //p' | head -1", pem);
        const char *type = strcmp(want, "rsaEncryption") == 0     ? "RSA"
                           : strcmp(want, "id-ecPublicKey") == 0 ? "EC"
                           : strcmp(want, "ED25519") == 0        ? "Ed25519"
                           : strcmp(want, "ED448") == 0          ? "Ed448"
                                                                 : want;
        cr_expect_str_eq(info.key_type, type, "%s key type", name);
        capture(want, sizeof want, "openssl x509 -in '%s' -noout -text | "
                                   "sed -n 's/.*Public-Key: (\\([0-9]*\\) bit)/\\1/p'", pem);
        if (want[0] != '\0') /* openssl prints no size for Ed25519 and Ed448 */
            cr_expect_eq(info.key_bits, (unsigned)strtoul(want, NULL, 10), "%s bits", name);
        else
            cr_expect(info.key_bits == 256 || info.key_bits == 456, "%s bits", name);

        char pin[PINCURL_PIN_TEXT_SIZE], want_pin[64];
        cr_assert_eq(pincurl_pin_format(&info.pin, pin, sizeof pin), PINCURL_OK);
        pt_openssl_cert_pin(pem, want_pin, sizeof want_pin);
        cr_expect_str_eq(pin, want_pin, "%s pin", name);
        free(der);
    }
}

Test(certinfo, every_truncation_fails_and_stays_inside)
{
    size_t len;
    unsigned char *der = pem_to_der(pt_pki("leaf-ec.pem"), &len);
    pincurl_cert_info info;
    for (size_t n = 0; n < len; n++) {
        /* An exact-size copy, so ASan catches any read past the end. */
        unsigned char *copy = malloc(n > 0 ? n : 1);
        cr_assert_not_null(copy);
        memcpy(copy, der, n);
        pincurl_status st = pincurl_cert_info_get(copy, n, &info);
        cr_expect(st == PINCURL_DER_TRUNCATED || st == PINCURL_DER_MALFORMED,
                  "prefix %zu: %s", n, pincurl_status_name(st));
        cr_expect_eq(info.subject[0], '\0');
        free(copy);
    }
    cr_expect_eq(pincurl_cert_info_get(NULL, 0, &info), PINCURL_INVALID_ARGUMENT);
    cr_expect_eq(pincurl_cert_info_get(der, len, NULL), PINCURL_INVALID_ARGUMENT);
    free(der);
}

Test(certinfo, key_type_of_spki)
{
    size_t len;
    unsigned char *spki = pt_read_file(pt_pki("p384.pub.der"), &len);
    char type[PINCURL_KEY_TYPE_MAX];
    unsigned bits = 0;
    cr_assert_eq(pincurl_spki_key_type(spki, len, type, sizeof type, &bits), PINCURL_OK);
    cr_expect_str_eq(type, "EC");
    cr_expect_eq(bits, 384);
    cr_expect_eq(pincurl_spki_key_type(spki, len, type, 2, &bits), PINCURL_BUFFER_TOO_SMALL);
    cr_expect_eq(pincurl_spki_key_type(spki, len - 1, type, sizeof type, &bits),
                 PINCURL_DER_TRUNCATED);
    free(spki);
}

/* The SPKI derived from a key file equals openssl's -pubout DER, byte for byte. */
static void expect_same_spki(const char *key_path, const char *what)
{
    char pub[1024];
    size_t len, want_len, got_len;
    snprintf(pub, sizeof pub, "%s/want.der", pt_tmpdir("certinfo-key"));
    cr_assert_eq(pt_system("openssl pkey -in '%s' -pubout -outform der -out '%s' 2>/dev/null "
                           "|| openssl pkey -pubin -in '%s' -pubout -outform der -out '%s'",
                           key_path, pub, key_path, pub),
                 0);
    unsigned char *want = pt_read_file(pub, &want_len);
    unsigned char *data = pt_read_file(key_path, &len);
    unsigned char spki[PINCURL_SPKI_MAX];
    pincurl_status st = pincurl_spki_from_key(data, len, spki, sizeof spki, &got_len);
    cr_assert_eq(st, PINCURL_OK, "%s: %s", what, pincurl_status_name(st));
    cr_expect_eq(got_len, want_len, "%s length", what);
    cr_expect(got_len == want_len && memcmp(spki, want, want_len) == 0, "%s bytes", what);
    free(want);
    free(data);
}

static const char *const KEYS[] = {"leaf-ec", "leaf-backup", "rsa2048", "rsa3072", "p256",
                                   "p384",    "p521",        "ed25519", "ed448",   "root"};

Test(certinfo, private_keys_in_every_form)
{
    for (size_t i = 0; i < COUNT(KEYS); i++) {
        char name[64], path[1200], what[128];
        snprintf(name, sizeof name, "%s.key", KEYS[i]);
        const char *key = pt_pki(name);
        char dir[512]; /* pt_tmpdir's buffer is reused by expect_same_spki */
        snprintf(dir, sizeof dir, "%s", pt_tmpdir("certinfo-forms"));

        snprintf(what, sizeof what, "%s PKCS#8 PEM", KEYS[i]);
        expect_same_spki(key, what);

        snprintf(path, sizeof path, "%s/k.p8.der", dir);
        cr_assert_eq(pt_system("openssl pkey -in '%s' -outform der -out '%s'", key, path), 0);
        snprintf(what, sizeof what, "%s PKCS#8 DER", KEYS[i]);
        expect_same_spki(path, what);

        snprintf(path, sizeof path, "%s/k.pub.pem", dir);
        cr_assert_eq(pt_system("openssl pkey -in '%s' -pubout -out '%s'", key, path), 0);
        snprintf(what, sizeof what, "%s public PEM", KEYS[i]);
        expect_same_spki(path, what);

        /* The traditional forms: PKCS#1 for RSA, SEC1 for EC. */
        if (strncmp(KEYS[i], "rsa", 3) == 0 || strcmp(KEYS[i], "root") == 0) {
            snprintf(path, sizeof path, "%s/k.rsa.pem", dir);
            cr_assert_eq(pt_system("openssl rsa -in '%s' -traditional -out '%s' 2>/dev/null",
                                   key, path), 0);
            snprintf(what, sizeof what, "%s PKCS#1 PEM", KEYS[i]);
            expect_same_spki(path, what);
            snprintf(path, sizeof path, "%s/k.rsa.der", dir);
            cr_assert_eq(pt_system("openssl rsa -in '%s' -traditional -outform der -out '%s' "
                                   "2>/dev/null", key, path), 0);
            snprintf(what, sizeof what, "%s PKCS#1 DER", KEYS[i]);
            expect_same_spki(path, what);
        } else if (strncmp(KEYS[i], "ed", 2) != 0) {
            snprintf(path, sizeof path, "%s/k.ec.pem", dir);
            cr_assert_eq(pt_system("openssl ec -in '%s' -out '%s' 2>/dev/null", key, path), 0);
            snprintf(what, sizeof what, "%s SEC1 PEM", KEYS[i]);
            expect_same_spki(path, what);
            snprintf(path, sizeof path, "%s/k.ec.der", dir);
            cr_assert_eq(pt_system("openssl ec -in '%s' -outform der -out '%s' 2>/dev/null",
                                   key, path), 0);
            snprintf(what, sizeof what, "%s SEC1 DER", KEYS[i]);
            expect_same_spki(path, what);
        }
    }
}

Test(certinfo, pkcs1_public_key_is_wrapped)
{
    expect_same_spki(pt_pki("rsa2048.pkcs1.pem"), "PKCS#1 RSAPublicKey");
}

Test(certinfo, key_refusals)
{
    const char *dir = pt_tmpdir("certinfo-refuse");
    char path[1024];
    unsigned char spki[PINCURL_SPKI_MAX];
    size_t len, out_len = 99;

    snprintf(path, sizeof path, "%s/enc.pem", dir);
    cr_assert_eq(pt_system("openssl pkey -in '%s' -aes128 -passout pass:secret -out '%s'",
                           pt_pki("p256.key"), path), 0);
    unsigned char *data = pt_read_file(path, &len);
    cr_expect_eq(pincurl_spki_from_key(data, len, spki, sizeof spki, &out_len),
                 PINCURL_KEY_UNSUPPORTED);
    cr_expect_eq(out_len, 0);
    free(data);

    data = pt_read_file(pt_pki("leaf-ec.pem"), &len); /* a certificate is not a key */
    cr_expect_eq(pincurl_spki_from_key(data, len, spki, sizeof spki, &out_len), PINCURL_NO_KEY);
    free(data);

    data = pt_read_file(pt_pki("rsa4096.key"), &len);
    cr_expect_eq(pincurl_spki_from_key(data, len, spki, 100, &out_len),
                 PINCURL_BUFFER_TOO_SMALL);
    free(data);

    data = pt_read_file(pt_pki("p256.pub.der"), &len);
    for (size_t n = 1; n < len; n++) {
        unsigned char *copy = malloc(n);
        memcpy(copy, data, n);
        pincurl_status st = pincurl_spki_from_key(copy, n, spki, sizeof spki, &out_len);
        cr_expect(st == PINCURL_DER_TRUNCATED || st == PINCURL_DER_MALFORMED, "prefix %zu", n);
        free(copy);
    }
    free(data);
    cr_expect_eq(pincurl_spki_from_key(NULL, 0, spki, sizeof spki, &out_len), PINCURL_NO_KEY);
    cr_expect_eq(pincurl_spki_from_key((const unsigned char *)"x", 1, NULL, 0, &out_len),
                 PINCURL_INVALID_ARGUMENT);
}

Test(certinfo, csr_public_key)
{
    const char *dir = pt_tmpdir("certinfo-csr");
    char csr[1024], der[1024], want[64], got[PINCURL_PIN_TEXT_SIZE];
    unsigned char spki[PINCURL_SPKI_MAX];
    size_t len, spki_len;
    pincurl_pin pin;
    const char *keys[] = {"leaf-backup.key", "rsa2048.key", "ed25519.key"};
    for (size_t i = 0; i < COUNT(keys); i++) {
        snprintf(csr, sizeof csr, "%s/req.csr", dir);
        snprintf(der, sizeof der, "%s/req.der", dir);
        cr_assert_eq(pt_system("openssl req -new -key '%s' -subj '/O=pincurl test/CN=backup' "
                               "-out '%s' && openssl req -in '%s' -outform der -out '%s'",
                               pt_pki(keys[i]), csr, csr, der), 0);
        pt_openssl_key_pin(pt_pki(keys[i]), want, sizeof want);
        const char *files[] = {csr, der};
        for (size_t f = 0; f < 2; f++) {
            unsigned char *data = pt_read_file(files[f], &len);
            cr_assert_eq(pincurl_spki_from_csr(data, len, spki, sizeof spki, &spki_len),
                         PINCURL_OK, "%s %s", keys[i], files[f]);
            cr_assert_eq(pincurl_pin_from_spki_der(spki, spki_len, &pin), PINCURL_OK);
            cr_assert_eq(pincurl_pin_format(&pin, got, sizeof got), PINCURL_OK);
            cr_expect_str_eq(got, want, "%s %s", keys[i], files[f]);
            for (size_t n = 1; f == 1 && n < len; n += 7)
                cr_expect(pincurl_spki_from_csr(data, n, spki, sizeof spki, &spki_len) !=
                              PINCURL_OK,
                          "prefix %zu", n);
            free(data);
        }
    }
    unsigned char *cert = pt_read_file(pt_pki("leaf-ec.pem"), &len);
    cr_expect_eq(pincurl_spki_from_csr(cert, len, spki, sizeof spki, &spki_len), PINCURL_NO_KEY);
    free(cert);
}
