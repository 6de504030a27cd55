/*
 * The firmware profile's core tests as a plain C program (no Criterion: it runs where
 * Criterion does not, such as a 32-bit ARM target under qemu-user). It exercises the core
 * the firmware links: SHA-256 (FIPS 180-4 test vectors), pins, base64, host names, the
 * builder without libpsl, compiled policies, lookup and the pin decision over the test
 * PKI's certificates (PINCURL_TEST_PKI), whose pins openssl computed (pins.txt).
 * Prints one line per failed check and closes with "N passed, N failed".
 * With PC_FW_WOLFCRYPT_REFERENCE (a host build), the core's SHA-256 is also compared with
 * wolfCrypt's over many lengths.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/pin_hash.h"
#include "pincurl/core.h"
#include "pincurl/static_policy.h"

#ifdef PC_FW_WOLFCRYPT_REFERENCE
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sha256.h>
#endif

static unsigned passed, failed;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (cond) {                                                                     \
            passed++;                                                                   \
        } else {                                                                        \
            failed++;                                                                   \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                      \
        }                                                                               \
    } while (0)

static void hex(const unsigned char *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static int digest_is(const unsigned char *msg, size_t len, const char *want)
{
    pincurl_pin p;
    char got[65];
    if (pc_pin_hash_parts(msg, len, NULL, 0, &p) != PINCURL_OK)
        return 0;
    hex(p.sha256, 32, got);
    return strcmp(got, want) == 0;
}

static void test_sha256(void)
{
    static const char two_block[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    unsigned char *million = malloc(1000000);
    pincurl_pin a, b;

    CHECK(digest_is((const unsigned char *)"", 0,
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    CHECK(digest_is((const unsigned char *)"abc", 3,
                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    CHECK(digest_is((const unsigned char *)two_block, strlen(two_block),
                    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    CHECK(million != NULL);
    if (million != NULL) {
        memset(million, 'a', 1000000);
        CHECK(digest_is(million, 1000000,
                        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
        free(million);
    }
    /* two parts hash as their concatenation */
    CHECK(pc_pin_hash_parts((const unsigned char *)"ab", 2, (const unsigned char *)"c", 1,
                            &a) == PINCURL_OK);
    CHECK(pc_pin_hash_parts((const unsigned char *)"abc", 3, NULL, 0, &b) == PINCURL_OK);
    CHECK(pincurl_pin_equal(&a, &b));
#ifdef PC_FW_WOLFCRYPT_REFERENCE
    {
        unsigned char buf[300], ref[32];
        int same = 1;
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (unsigned char)(i * 131u + 7u);
        for (size_t n = 0; n <= sizeof buf; n++) {
            wc_Sha256 sha;
            pincurl_pin p;
            if (wc_InitSha256(&sha) != 0 || wc_Sha256Update(&sha, buf, (word32)n) != 0 ||
                wc_Sha256Final(&sha, ref) != 0 ||
                pc_pin_hash_parts(buf, n, NULL, 0, &p) != PINCURL_OK ||
                memcmp(ref, p.sha256, 32) != 0)
                same = 0;
            wc_Sha256Free(&sha);
        }
        CHECK(same);
    }
#endif
}

static void test_pins(void)
{
    const char *text = "sha256/ftKbLkqsXekoK0mKVC+79BwHvR+LQLIpdvwMGc1e/BY=";
    pincurl_pin p, q;
    char buf[PINCURL_PIN_TEXT_SIZE];
    size_t n = 0;

    CHECK(pincurl_pin_parse(text, strlen(text), &p) == PINCURL_OK);
    CHECK(pincurl_pin_format(&p, buf, sizeof buf) == PINCURL_OK && strcmp(buf, text) == 0);
    CHECK(pincurl_pin_parse("sha256//ftKbLkqsXekoK0mKVC+79BwHvR+LQLIpdvwMGc1e/BY=", 52, &q) ==
          PINCURL_OK);
    CHECK(pincurl_pin_equal(&p, &q));
    CHECK(pincurl_pin_parse("sha1/ftKbLkqsXekoK0mKVC+79BwHvR+LQLIpdvwMGc1e/BY=", 49, &q) ==
          PINCURL_PIN_BAD_PREFIX);
    CHECK(pincurl_pin_parse("sha256/AAAA", 11, &q) == PINCURL_PIN_BAD_LENGTH);
    CHECK(pincurl_pin_parse("sha256/!!!!", 11, &q) == PINCURL_PIN_BAD_BASE64);
    CHECK(pincurl_pin_format(&p, buf, 10) == PINCURL_BUFFER_TOO_SMALL);
    CHECK(pc_base64_decode("aGVsbG8=", 8, (unsigned char *)buf, sizeof buf, &n) ==
              PINCURL_OK &&
          n == 5 && memcmp(buf, "hello", 5) == 0);
}

static void test_hosts(void)
{
    char out[PINCURL_HOST_MAX + 1];

    CHECK(pincurl_host_normalize("Api.Example.COM.", 16, out, sizeof out) == PINCURL_OK &&
          strcmp(out, "api.example.com") == 0);
    CHECK(pincurl_host_normalize("[0:0::1]", 8, out, sizeof out) == PINCURL_OK &&
          strcmp(out, "::1") == 0 && pincurl_host_is_ip(out));
    CHECK(pincurl_host_normalize("192.0.2.1", 9, out, sizeof out) == PINCURL_OK &&
          pincurl_host_is_ip(out));
    CHECK(pincurl_host_normalize("b\xc3\xa4r.example", 12, out, sizeof out) ==
          PINCURL_HOST_NOT_ASCII);
    CHECK(pincurl_host_normalize("a..b", 4, out, sizeof out) == PINCURL_HOST_INVALID);
}

static int suffix_calls;
static int only_co_example(const char *host, void *ctx)
{
    (void)ctx;
    suffix_calls++;
    return strcmp(host, "co.example") == 0;
}

static void test_builder(void)
{
    pincurl_pin p1, p2;
    pincurl_policy_builder *b;
    pincurl_policy *pol = NULL;
    size_t i, bad = 0;

    memset(&p1, 1, sizeof p1);
    memset(&p2, 2, sizeof p2);
    b = pincurl_policy_builder_new_custom(NULL, only_co_example, NULL);
    CHECK(b != NULL);
    if (b == NULL)
        return;
    CHECK(pincurl_policy_builder_add_domain(b, "co.example", PINCURL_DOMAIN_INCLUDE_SUBDOMAINS,
                                            &i) == PINCURL_POLICY_PUBLIC_SUFFIX);
    CHECK(suffix_calls > 0);
    CHECK(pincurl_policy_builder_add_domain(
              b, "Example.com", PINCURL_DOMAIN_INCLUDE_SUBDOMAINS | PINCURL_DOMAIN_ENFORCE,
              &i) == PINCURL_OK);
    CHECK(pincurl_policy_builder_add_pin(b, i, &p1) == PINCURL_OK);
    CHECK(pincurl_policy_builder_add_pin(b, i, &p1) == PINCURL_POLICY_DUPLICATE_PIN);
    CHECK(pincurl_policy_builder_finish(b, &pol, &bad) == PINCURL_POLICY_TOO_FEW_PINS &&
          pol == NULL && bad == i);
    pincurl_policy_builder_free(b);

    /* no hook at all: single labels still never take include_subdomains */
    b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    CHECK(b != NULL);
    if (b == NULL)
        return;
    CHECK(pincurl_policy_builder_add_domain(b, "local", PINCURL_DOMAIN_INCLUDE_SUBDOMAINS,
                                            &i) != PINCURL_OK);
    CHECK(pincurl_policy_builder_add_domain(
              b, "example.com", PINCURL_DOMAIN_INCLUDE_SUBDOMAINS | PINCURL_DOMAIN_ENFORCE,
              &i) == PINCURL_OK);
    CHECK(pincurl_policy_builder_add_pin(b, i, &p1) == PINCURL_OK);
    CHECK(pincurl_policy_builder_add_pin(b, i, &p2) == PINCURL_OK);
    CHECK(pincurl_policy_builder_add_domain(b, "old.example.com", PINCURL_DOMAIN_EXCLUDE, &i) ==
          PINCURL_OK);
    CHECK(pincurl_policy_builder_finish(b, &pol, NULL) == PINCURL_OK && pol != NULL);
    pincurl_policy_builder_free(b);
    if (pol == NULL)
        return;
    {
        const pincurl_domain *d = pincurl_policy_lookup(pol, "a.b.EXAMPLE.com", 15);
        CHECK(d != NULL && strcmp(pincurl_domain_host(d), "example.com") == 0);
        d = pincurl_policy_lookup(pol, "x.old.example.com", 17);
        CHECK(d != NULL && (pincurl_domain_flags(d) & PINCURL_DOMAIN_EXCLUDE));
        CHECK(pincurl_policy_lookup(pol, "example.org", 11) == NULL);
        CHECK(pincurl_policy_lookup(pol, "badexample.com", 14) == NULL);
    }
    pincurl_policy_unref(pol);
}

static const unsigned char static_pins[2][PINCURL_PIN_DIGEST_SIZE] = {{1}, {2}};

static void test_static(void)
{
    pincurl_static_domain doms[2] = {
        {"a.example", PINCURL_DOMAIN_ENFORCE, static_pins, 2, 0,
         PINCURL_ON_EXPIRY_REPORT_AND_ALLOW},
        {"b.example", PINCURL_DOMAIN_ENFORCE | PINCURL_DOMAIN_INCLUDE_SUBDOMAINS, static_pins,
         2, 0, PINCURL_ON_EXPIRY_REPORT_AND_ALLOW},
    };
    static const char *const uris[1] = {"https://collector.example/r"};
    pincurl_static_policy sp = {PINCURL_STATIC_POLICY_FORMAT, 1893456000,
                                PINCURL_ON_EXPIRY_BLOCK, uris, 1, doms, 2};
    pincurl_policy *pol = NULL;

    CHECK(pincurl_policy_from_static(&sp, NULL, &pol) == PINCURL_OK && pol != NULL);
    if (pol != NULL) {
        const pincurl_domain *d = pincurl_policy_lookup(pol, "x.b.example", 11);
        CHECK(pincurl_policy_domain_count(pol) == 2);
        CHECK(pincurl_policy_expires(pol) == 1893456000);
        CHECK(pincurl_policy_on_expiry(pol) == PINCURL_ON_EXPIRY_BLOCK);
        CHECK(pincurl_policy_report_uri_count(pol) == 1 &&
              strcmp(pincurl_policy_report_uri(pol, 0), uris[0]) == 0);
        CHECK(d != NULL && pincurl_domain_pin_count(d) == 2 &&
              memcmp(pincurl_domain_pin(d, 1)->sha256, static_pins[1], 32) == 0);
        pincurl_policy_unref(pol);
    }
    /* out of order, repeated, other format, too few pins: refused */
    doms[0].host = "c.example";
    CHECK(pincurl_policy_from_static(&sp, NULL, &pol) == PINCURL_POLICY_BAD_VALUE && !pol);
    doms[0].host = "b.example";
    CHECK(pincurl_policy_from_static(&sp, NULL, &pol) == PINCURL_POLICY_BAD_VALUE && !pol);
    doms[0].host = "a.example";
    sp.format = PINCURL_STATIC_POLICY_FORMAT + 1;
    CHECK(pincurl_policy_from_static(&sp, NULL, &pol) == PINCURL_INVALID_ARGUMENT && !pol);
    /* a domain's own expiry (format 2); format 1 reads those fields as absent */
    doms[0].expires = 1800000000;
    doms[0].on_expiry = PINCURL_ON_EXPIRY_REPORT_AND_ALLOW;
    sp.format = PINCURL_STATIC_POLICY_FORMAT;
    CHECK(pincurl_policy_from_static(&sp, NULL, &pol) == PINCURL_OK && pol != NULL);
    if (pol != NULL) {
        const pincurl_domain *d = pincurl_policy_lookup(pol, "a.example", 9);
        CHECK(pincurl_domain_expires(d) == 1800000000);
        CHECK(pincurl_domain_on_expiry(d) == PINCURL_ON_EXPIRY_REPORT_AND_ALLOW);
        pincurl_policy_unref(pol);
    }
    sp.format = 1;
    CHECK(pincurl_policy_from_static(&sp, NULL, &pol) == PINCURL_OK && pol != NULL);
    if (pol != NULL) {
        CHECK(pincurl_domain_expires(pincurl_policy_lookup(pol, "a.example", 9)) == 0);
        pincurl_policy_unref(pol);
    }
    sp.format = PINCURL_STATIC_POLICY_FORMAT;
    doms[0].expires = 0;
    doms[0].on_expiry = PINCURL_ON_EXPIRY_BLOCK; /* an action without an expiry */
    CHECK(pincurl_policy_from_static(&sp, NULL, &pol) == PINCURL_POLICY_BAD_VALUE && !pol);
    doms[0].on_expiry = PINCURL_ON_EXPIRY_REPORT_AND_ALLOW;
    doms[1].pin_count = 1;
    CHECK(pincurl_policy_from_static(&sp, NULL, &pol) == PINCURL_POLICY_TOO_FEW_PINS && !pol);
    CHECK(pincurl_policy_from_static(NULL, NULL, &pol) == PINCURL_INVALID_ARGUMENT);
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long n;
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n)) != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf != NULL)
        *len = (size_t)n;
    fclose(f);
    return buf;
}

/* The pin openssl computed for a PKI name (pins.txt), or 0. */
static int reference_pin(const char *pki, const char *name, pincurl_pin *out)
{
    char path[1024], line[256];
    FILE *f;
    int found = 0;
    snprintf(path, sizeof path, "%s/pins.txt", pki);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        char *sp = strchr(line, ' ');
        if (sp == NULL || (size_t)(sp - line) != strlen(name) ||
            strncmp(line, name, strlen(name)) != 0)
            continue;
        sp++;
        sp[strcspn(sp, "\r\n")] = '\0';
        found = pincurl_pin_parse(sp, strlen(sp), out) == PINCURL_OK;
    }
    fclose(f);
    return found;
}

static void test_pki(void)
{
    const char *pki = getenv("PINCURL_TEST_PKI");
    char path[1024];
    unsigned char *pem;
    size_t len = 0;
    pincurl_cert_list *list = NULL;
    pincurl_pin leaf, inter, root, ref, other;
    pincurl_cert_ref chain[3];
    pincurl_policy_builder *b;
    pincurl_policy *pol = NULL;
    pincurl_verdict v;
    size_t i;

    CHECK(pki != NULL);
    if (pki == NULL)
        return;
    snprintf(path, sizeof path, "%s/leaf-ec-fullchain.pem", pki);
    pem = read_all(path, &len);
    CHECK(pem != NULL);
    if (pem == NULL)
        return;
    CHECK(pincurl_cert_list_load(pem, len, NULL, &list) == PINCURL_OK &&
          pincurl_cert_list_count(list) == 3);
    free(pem);
    if (list == NULL || pincurl_cert_list_count(list) != 3) {
        pincurl_cert_list_free(list);
        return;
    }
    for (i = 0; i < 3; i++)
        chain[i].der = pincurl_cert_list_der(list, i, &chain[i].len);
    /* our SHA-256 and DER walk against openssl's pins */
    CHECK(pincurl_pin_from_cert_der(chain[0].der, chain[0].len, &leaf) == PINCURL_OK);
    CHECK(reference_pin(pki, "leaf-ec", &ref) && pincurl_pin_equal(&leaf, &ref));
    CHECK(pincurl_pin_from_cert_der(chain[1].der, chain[1].len, &inter) == PINCURL_OK);
    CHECK(reference_pin(pki, "inter", &ref) && pincurl_pin_equal(&inter, &ref));
    CHECK(pincurl_pin_from_cert_der(chain[2].der, chain[2].len, &root) == PINCURL_OK);
    CHECK(reference_pin(pki, "root", &ref) && pincurl_pin_equal(&root, &ref));
    CHECK(reference_pin(pki, "rogue-root", &other));

    b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    CHECK(b != NULL);
    if (b != NULL) {
        CHECK(pincurl_policy_builder_set_expiry(b, 1893456000, PINCURL_ON_EXPIRY_BLOCK) ==
              PINCURL_OK);
        CHECK(pincurl_policy_builder_add_domain(b, "localhost", PINCURL_DOMAIN_ENFORCE, &i) ==
              PINCURL_OK);
        CHECK(pincurl_policy_builder_add_pin(b, i, &root) == PINCURL_OK);
        CHECK(pincurl_policy_builder_add_pin(b, i, &other) == PINCURL_OK);
        CHECK(pincurl_policy_builder_add_domain(b, "other.test", PINCURL_DOMAIN_ENFORCE, &i) ==
              PINCURL_OK);
        CHECK(pincurl_policy_builder_add_pin(b, i, &other) == PINCURL_OK);
        CHECK(pincurl_policy_builder_add_pin(b, i, &inter) ==
              PINCURL_OK);
        CHECK(pincurl_policy_builder_finish(b, &pol, NULL) == PINCURL_OK);
        pincurl_policy_builder_free(b);
    }
    if (pol != NULL) {
        /* the root pin matches at depth 2 */
        CHECK(pincurl_evaluate(pol, "localhost", 443, chain, 3, chain, 2, 1800000000, &v) ==
                  PINCURL_OK &&
              v.decision == PINCURL_DECISION_ALLOW && v.result == PINCURL_RESULT_SUCCESS &&
              v.matched_depth == 2 && v.path_len == 3 && pincurl_pin_equal(&v.path_pins[0], &leaf));
        /* a path without the pinned root: mismatch, refused */
        CHECK(pincurl_evaluate(pol, "localhost", 443, chain, 2, NULL, 0, 1800000000, &v) ==
                  PINCURL_OK &&
              v.decision == PINCURL_DECISION_BLOCK && v.result == PINCURL_RESULT_PIN_MISMATCH);
        /* after the expiry, with on_expiry block: refused as expired */
        CHECK(pincurl_evaluate(pol, "localhost", 443, chain, 3, NULL, 0, 1900000000, &v) ==
                  PINCURL_OK &&
              v.decision == PINCURL_DECISION_BLOCK && v.result == PINCURL_RESULT_POLICY_EXPIRED);
        /* no validated path */
        CHECK(pincurl_evaluate(pol, "localhost", 443, NULL, 0, NULL, 0, 1800000000, &v) ==
                  PINCURL_OK &&
              v.decision == PINCURL_DECISION_BLOCK && v.result == PINCURL_RESULT_INVALID_CHAIN);
        /* a host the policy does not name */
        CHECK(pincurl_evaluate(pol, "example.net", 443, chain, 3, NULL, 0, 1800000000, &v) ==
                  PINCURL_OK &&
              v.decision == PINCURL_DECISION_ALLOW && v.result == PINCURL_RESULT_NOT_PINNED);
        pincurl_policy_unref(pol);
    }
    pincurl_cert_list_free(list);
}

int main(void)
{
    test_sha256();
    test_pins();
    test_hosts();
    test_builder();
    test_static();
    test_pki();
    CHECK(strcmp(pincurl_status_name(PINCURL_PIN_MISMATCH), "PIN_MISMATCH") == 0);
    CHECK(strcmp(pincurl_result_name(PINCURL_RESULT_POLICY_EXPIRED), "POLICY_EXPIRED") == 0);
    printf("%u passed, %u failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
