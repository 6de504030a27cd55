/*
 * pincurl_cert_matches_host against an independent oracle: OpenSSL's X509_check_host /
 * X509_check_ip (`openssl x509 -checkhost / -checkip`) on certificates made now, one
 * subjectAltName each, for a table of adversarial names. Where pincurl's rules are
 * deliberately stricter than that command's defaults (no partial-label wildcards, no
 * common-name fallback) or treat an address as the IPv4 host it maps, the case is asserted
 * on its own.
 */
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dir;

static void setup(void)
{
    dir = pt_tmpdir("hostcheck");
    cr_assert_eq(pt_system("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
                           "-out '%s/k.pem' 2>/dev/null",
                           dir),
                 0);
}

TestSuite(hostcheck, .init = setup, .timeout = 120);

/* A certificate with the given subjectAltName value (or none when san is NULL, then
 * CN=cn); returns its DER (caller frees) and leaves cert_<n>.pem in dir. */
static unsigned char *make_cert(int n, const char *san, const char *cn, size_t *len)
{
    char pem[1200], der[1200];
    snprintf(pem, sizeof pem, "%s/cert_%d.pem", dir, n);
    snprintf(der, sizeof der, "%s/cert_%d.der", dir, n);
    if (san != NULL)
        cr_assert_eq(pt_system("openssl req -x509 -key '%s/k.pem' -subj '/CN=%s' -days 2 "
                               "-addext 'subjectAltName=%s' -out '%s' 2>/dev/null",
                               dir, cn, san, pem),
                     0, "cannot make a certificate for %s", san);
    else
        cr_assert_eq(pt_system("openssl req -x509 -key '%s/k.pem' -subj '/CN=%s' -days 2 "
                               "-out '%s' 2>/dev/null",
                               dir, cn, pem),
                     0);
    cr_assert_eq(pt_system("openssl x509 -in '%s' -outform der -out '%s'", pem, der), 0);
    return pt_read_file(der, len);
}

/* OpenSSL's answer: 1 match, 0 not. */
static int oracle(int n, const char *host, int ip)
{
    char cmd[1500], out[512];
    snprintf(cmd, sizeof cmd, "openssl x509 -in '%s/cert_%d.pem' -noout %s '%s' 2>&1", dir, n,
             ip ? "-checkip" : "-checkhost", host);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t k = fread(out, 1, sizeof out - 1, p);
    out[k] = '\0';
    pclose(p);
    cr_assert(strstr(out, "does match") != NULL || strstr(out, "does NOT match") != NULL,
              "unexpected openssl output: %s", out);
    return strstr(out, "does NOT match") == NULL;
}

static int ours(const unsigned char *der, size_t len, const char *host)
{
    char norm[PINCURL_HOST_MAX + 1];
    cr_assert_eq(pincurl_host_normalize(host, strlen(host), norm, sizeof norm), PINCURL_OK,
                 "%s", host);
    pincurl_status st = pincurl_cert_matches_host(der, len, norm);
    cr_assert(st == PINCURL_OK || st == PINCURL_HOST_MISMATCH, "%s: %s", host,
              pincurl_status_name(st));
    return st == PINCURL_OK;
}

Test(hostcheck, dns_names_agree_with_openssl)
{
    const char *sans[] = {
        "DNS:example.com",       "DNS:EXAMPLE.com",         "DNS:*.example.com",
        "DNS:*.com",             "DNS:*",                   "DNS:*.*.example.com",
        "DNS:a.*.example.com",   "DNS:*.co.uk",             "DNS:xn--bcher-kva.example",
        "DNS:*.xn--bcher-kva.example", "DNS:www.example.com", "DNS:*.Example.COM",
        "DNS:example.com,DNS:*.example.org", "IP:127.0.0.1",
    };
    const char *hosts[] = {
        "example.com",   "www.example.com", "a.b.example.com", "com",
        "co.uk",         "foo.co.uk",       "xn--bcher-kva.example",
        "a.xn--bcher-kva.example", "xn--80ak6aa92e.example.com", "wwwexample.com",
        "example.org",   "x.example.org",   "EXAMPLE.COM",     "127.0.0.1.example.com",
    };
    int checked = 0;
    for (size_t i = 0; i < sizeof sans / sizeof sans[0]; i++) {
        size_t len;
        unsigned char *der = make_cert((int)i, sans[i], "ignored.invalid", &len);
        for (size_t h = 0; h < sizeof hosts / sizeof hosts[0]; h++) {
            int want = oracle((int)i, hosts[h], 0);
            cr_expect_eq(ours(der, len, hosts[h]), want, "%s for host %s: openssl says %d",
                         sans[i], hosts[h], want);
            checked++;
        }
        free(der);
    }
    cr_assert_eq(checked, 14 * 14);
}

Test(hostcheck, addresses_agree_with_openssl)
{
    const char *sans[] = {
        "IP:127.0.0.1", "IP:::1", "IP:2001:db8::1", "DNS:127.0.0.1", "DNS:::1",
        "IP:10.0.0.1,IP:2001:db8::1", "DNS:localhost",
    };
    const char *hosts[] = {"127.0.0.1", "::1", "2001:db8::1", "2001:db8:0:0:0:0:0:1",
                           "0:0:0:0:0:0:0:1", "10.0.0.1", "127.0.0.2"};
    for (size_t i = 0; i < sizeof sans / sizeof sans[0]; i++) {
        size_t len;
        unsigned char *der = make_cert(100 + (int)i, sans[i], "ignored.invalid", &len);
        for (size_t h = 0; h < sizeof hosts / sizeof hosts[0]; h++) {
            int want = oracle(100 + (int)i, hosts[h], 1);
            cr_expect_eq(ours(der, len, hosts[h]), want, "%s for address %s: openssl says %d",
                         sans[i], hosts[h], want);
        }
        free(der);
    }
}

Test(hostcheck, stricter_than_the_openssl_command)
{
    size_t len;
    /* partial-label wildcards: the command allows them by default, pincurl never does */
    unsigned char *der = make_cert(200, "DNS:w*.example.com", "x", &len);
    cr_assert_eq(oracle(200, "www.example.com", 0), 1);
    cr_assert_eq(ours(der, len, "www.example.com"), 0);
    free(der);
    der = make_cert(201, "DNS:*w.example.com", "x", &len);
    cr_assert_eq(ours(der, len, "www.example.com"), 0);
    free(der);
    /* no subjectAltName: the command falls back to the common name, pincurl never does */
    der = make_cert(202, NULL, "example.com", &len);
    cr_assert_eq(oracle(202, "example.com", 0), 1);
    cr_assert_eq(ours(der, len, "example.com"), 0);
    free(der);
    /* a dNSName spelling an address never matches the address */
    der = make_cert(203, "DNS:127.0.0.1", "127.0.0.1", &len);
    cr_assert_eq(ours(der, len, "127.0.0.1"), 0);
    free(der);
}

Test(hostcheck, mapped_addresses_are_the_ipv4_host)
{
    size_t len;
    unsigned char *der = make_cert(300, "IP:127.0.0.1", "x", &len);
    cr_assert_eq(ours(der, len, "::ffff:127.0.0.1"), 1);
    cr_assert_eq(ours(der, len, "[::FFFF:7f00:1]"), 1);
    cr_assert_eq(ours(der, len, "::ffff:127.0.0.2"), 0);
    free(der);
}

Test(hostcheck, trailing_dots_and_case)
{
    size_t len;
    unsigned char *der = make_cert(400, "DNS:Example.COM.", "x", &len);
    cr_assert_eq(ours(der, len, "example.com"), 1);
    cr_assert_eq(ours(der, len, "EXAMPLE.com."), 1);
    cr_assert_eq(ours(der, len, "www.example.com"), 0);
    free(der);
}

Test(hostcheck, invalid_arguments_and_malformed_certificates)
{
    size_t len;
    unsigned char *der = make_cert(500, "DNS:example.com", "x", &len);
    cr_assert_eq(pincurl_cert_matches_host(NULL, 0, "example.com"), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_cert_matches_host(der, len, NULL), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_cert_matches_host(der, len, ""), PINCURL_INVALID_ARGUMENT);
    /* not normalised: upper case, trailing dot, brackets */
    cr_assert_eq(pincurl_cert_matches_host(der, len, "Example.com"), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_cert_matches_host(der, len, "example.com."), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_cert_matches_host(der, len, "[::1]"), PINCURL_INVALID_ARGUMENT);
    for (size_t cut = 0; cut < len; cut++) {
        pincurl_status st = pincurl_cert_matches_host(der, cut, "example.com");
        cr_assert(st != PINCURL_OK && st != PINCURL_HOST_MISMATCH, "cut %zu: %s", cut,
                  pincurl_status_name(st));
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char *m = malloc(len);
        memcpy(m, der, len);
        m[i] ^= 0x20;
        /* a flipped byte may change the name; it never crashes and never answers anything
         * but a status */
        pincurl_status st = pincurl_cert_matches_host(m, len, "example.com");
        cr_assert(st == PINCURL_OK || st == PINCURL_HOST_MISMATCH ||
                  st == PINCURL_DER_MALFORMED || st == PINCURL_DER_TRUNCATED ||
                  st == PINCURL_LIMIT_EXCEEDED);
        free(m);
    }
    free(der);
}
