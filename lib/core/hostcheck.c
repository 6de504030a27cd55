/*
 * Is a certificate valid for a host: subjectAltName dNSName and iPAddress entries only
 * (the rules are stated at pincurl_cert_matches_host in pincurl/core.h). Pure: no
 * allocation, no global state.
 */
#include <string.h>

#include "core/der.h"
#include "pincurl/core.h"
#include "core/host.h"

#define SAN_DNS 0x82u /* [2] IA5String */
#define SAN_IP 0x87u  /* [7] OCTET STRING */

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static int host_char(unsigned char c)
{
    c = lower(c);
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
}

static int equal_ci(const unsigned char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++)
        if (lower(a[i]) != (unsigned char)b[i])
            return 0;
    return 1;
}

static size_t count_labels(const unsigned char *s, size_t n)
{
    size_t labels = 1;
    for (size_t i = 0; i < n; i++)
        labels += s[i] == '.';
    return labels;
}

/* One dNSName entry against a normalised (lower-case, no trailing dot) host name. */
static int dns_matches(const unsigned char *pat, size_t n, const char *host, size_t hlen)
{
    if (n > 0 && pat[n - 1] == '.')
        n--; /* one trailing dot */
    if (n == 0 || n > PINCURL_HOST_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(host_char(pat[i]) || (i == 0 && pat[i] == '*')))
            return 0; /* not host text (NUL, spaces, a '*' elsewhere): never matches */
    for (size_t i = 0; i + 1 < n; i++)
        if (pat[i] == '.' && pat[i + 1] == '.')
            return 0; /* an empty label */
    if (pat[0] == '.')
        return 0;
    if (pat[0] != '*')
        return equal_ci(pat, n, host, hlen);

    /* "*.rest": the whole left-most label, rest of at least two labels */
    if (n < 3 || pat[1] != '.' || count_labels(pat + 2, n - 2) < 2)
        return 0;
    const char *dot = memchr(host, '.', hlen);
    if (dot == NULL || dot == host)
        return 0; /* the wildcard stands for exactly one non-empty label */
    size_t rest = hlen - (size_t)(dot + 1 - host);
    return equal_ci(pat + 2, n - 2, dot + 1, rest);
}

pincurl_status pincurl_cert_matches_host(const unsigned char *der, size_t len,
                                         const char *normalized_host)
{
    pc_der_x509 x;
    pc_der_cursor c;
    pc_der_tlv name;
    pincurl_status st;
    unsigned char addr[16];
    size_t addr_len = 0;
    size_t hlen;

    if (der == NULL || normalized_host == NULL)
        return PINCURL_INVALID_ARGUMENT;
    hlen = strlen(normalized_host);
    if (hlen == 0 || hlen > PINCURL_HOST_MAX + 1)
        return PINCURL_INVALID_ARGUMENT;
    if (memchr(normalized_host, ':', hlen) != NULL) {
        if (!pc_host_parse_ipv6(normalized_host, hlen, addr))
            return PINCURL_INVALID_ARGUMENT;
        addr_len = 16;
    } else if (pc_host_parse_ipv4(normalized_host, hlen, addr)) {
        addr_len = 4;
    } else {
        /* a name: it must be in normal form (lower case, no trailing dot) */
        for (size_t i = 0; i < hlen; i++) {
            unsigned char ch = (unsigned char)normalized_host[i];
            if (!host_char(ch) || lower(ch) != ch)
                return PINCURL_INVALID_ARGUMENT;
        }
        if (normalized_host[hlen - 1] == '.')
            return PINCURL_INVALID_ARGUMENT;
    }

    if ((st = pc_der_x509_parse(der, len, &x)) != PINCURL_OK)
        return st;
    if (x.san.tag == 0)
        return PINCURL_HOST_MISMATCH; /* no subjectAltName: no common-name fallback */
    pc_der_cursor_init(&c, x.san.content, x.san.content_len);
    while (!pc_der_cursor_done(&c)) {
        if (pc_der_next(&c, &name) != PINCURL_OK)
            return PINCURL_DER_MALFORMED; /* checked by the parser; never here */
        if (addr_len > 0) {
            if (name.tag == SAN_IP && name.content_len == addr_len &&
                memcmp(name.content, addr, addr_len) == 0)
                return PINCURL_OK;
        } else if (name.tag == SAN_DNS) {
            if (dns_matches(name.content, name.content_len, normalized_host, hlen))
                return PINCURL_OK;
        }
    }
    return PINCURL_HOST_MISMATCH;
}
