/* Fuzz target: host names (pincurl_host_normalize, pincurl_host_is_ip,
 * pincurl_policy_lookup, pincurl_policy_builder_add_domain).
 * Properties: normalisation is idempotent and yields lower-case text of at most
 * PINCURL_HOST_MAX bytes without a trailing dot; looking a host up gives the same entry as
 * looking up its normal form; the entry returned is the exact one or an include_subdomains
 * parent on a label boundary; a host accepted by the builder is found as its own entry. */
#include <string.h>

#include "fuzz_common.h"
#include "pincurl/core.h"

static pincurl_policy *fixed_policy(void)
{
    static const char *const hosts[] = {"example.com", "api.example.com", "legacy.api.example.com",
                                        "127.0.0.1",   "::1",             "2001:db8::1",
                                        "xn--bcher-kva.example", "a.b.c.d.e.f"};
    static const unsigned flags[] = {
        PINCURL_DOMAIN_INCLUDE_SUBDOMAINS | PINCURL_DOMAIN_ENFORCE,
        PINCURL_DOMAIN_ENFORCE,
        PINCURL_DOMAIN_EXCLUDE,
        PINCURL_DOMAIN_ENFORCE,
        0,
        PINCURL_DOMAIN_ENFORCE,
        PINCURL_DOMAIN_INCLUDE_SUBDOMAINS,
        PINCURL_DOMAIN_INCLUDE_SUBDOMAINS | PINCURL_DOMAIN_ENFORCE};
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    pincurl_policy *p = NULL;
    FUZZ_CHECK(b != NULL);
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        size_t idx;
        FUZZ_CHECK(pincurl_policy_builder_add_domain(b, hosts[i], flags[i], &idx) == PINCURL_OK);
        for (int k = 0; k < 2 && !(flags[i] & PINCURL_DOMAIN_EXCLUDE); k++) {
            pincurl_pin pin; /* two distinct pins: an enforcing entry needs a backup */
            memset(&pin, (int)(2 * i + (size_t)k + 1), sizeof pin);
            FUZZ_CHECK(pincurl_policy_builder_add_pin(b, idx, &pin) == PINCURL_OK);
        }
    }
    FUZZ_CHECK(pincurl_policy_builder_finish(b, &p, NULL) == PINCURL_OK);
    pincurl_policy_builder_free(b);
    return p;
}

/* The entry lookup must return for normalised host n, computed independently: the exact
 * entry, else the longest parent on a label boundary that is include_subdomains or an
 * exclude entry (an exclude entry also covers the names below it). */
static const pincurl_domain *expected_entry(const pincurl_policy *p, const char *n)
{
    size_t nlen = strlen(n);
    const pincurl_domain *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < pincurl_policy_domain_count(p); i++) {
        const pincurl_domain *d = pincurl_policy_domain(p, i);
        const char *h = pincurl_domain_host(d);
        size_t hlen = strlen(h);
        if (hlen == nlen && memcmp(h, n, nlen) == 0)
            return d;
        if ((pincurl_domain_flags(d) & (PINCURL_DOMAIN_INCLUDE_SUBDOMAINS | PINCURL_DOMAIN_EXCLUDE)) &&
            nlen > hlen + 1 &&
            n[nlen - hlen - 1] == '.' && memcmp(n + nlen - hlen, h, hlen) == 0 &&
            hlen > best_len && !pincurl_host_is_ip(n)) {
            best = d;
            best_len = hlen;
        }
    }
    return best;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pincurl_policy *policy;
    const char *host = (const char *)data;
    char norm[PINCURL_HOST_MAX + 1], again[PINCURL_HOST_MAX + 1];

    if (policy == NULL)
        policy = fixed_policy(); /* kept for the process's lifetime */

    pincurl_status st = pincurl_host_normalize(host, size, norm, sizeof norm);
    const pincurl_domain *found = pincurl_policy_lookup(policy, host, size);
    if (st != PINCURL_OK) {
        FUZZ_CHECK(st == PINCURL_HOST_INVALID || st == PINCURL_HOST_NOT_ASCII ||
                   st == PINCURL_BUFFER_TOO_SMALL);
        FUZZ_CHECK(found == NULL);
        return 0;
    }
    size_t n = strlen(norm);
    FUZZ_CHECK(n > 0 && n <= PINCURL_HOST_MAX);
    FUZZ_CHECK(norm[n - 1] != '.');
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(!(norm[i] >= 'A' && norm[i] <= 'Z') && (unsigned char)norm[i] < 0x80 &&
                   norm[i] != '[' && norm[i] != ']');

    /* Idempotent. */
    FUZZ_CHECK(pincurl_host_normalize(norm, n, again, sizeof again) == PINCURL_OK);
    FUZZ_CHECK(strcmp(norm, again) == 0);
    /* An exact-size buffer suffices; one byte less does not. */
    FUZZ_CHECK(pincurl_host_normalize(host, size, again, n + 1) == PINCURL_OK);
    FUZZ_CHECK(pincurl_host_normalize(host, size, again, n) == PINCURL_BUFFER_TOO_SMALL);

    /* Lookup is a function of the normal form and matches the reference rule. */
    FUZZ_CHECK(pincurl_policy_lookup(policy, norm, n) == found);
    FUZZ_CHECK(found == expected_entry(policy, norm));

    /* The builder accepts the host as an entry (or refuses it with a policy status); once
     * accepted, it governs itself. */
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    FUZZ_CHECK(b != NULL);
    size_t idx = 0;
    unsigned flags = (size > 0 && (data[0] & 1)) ? PINCURL_DOMAIN_INCLUDE_SUBDOMAINS : 0;
    st = pincurl_policy_builder_add_domain(b, norm, flags, &idx);
    if (st == PINCURL_OK) {
        pincurl_pin pin;
        pincurl_policy *p = NULL;
        memset(&pin, 7, sizeof pin);
        FUZZ_CHECK(pincurl_policy_builder_add_pin(b, idx, &pin) == PINCURL_OK);
        FUZZ_CHECK(pincurl_policy_builder_finish(b, &p, NULL) == PINCURL_OK);
        const pincurl_domain *d = pincurl_policy_lookup(p, host, size);
        FUZZ_CHECK(d != NULL && strcmp(pincurl_domain_host(d), norm) == 0);
        FUZZ_CHECK(pincurl_domain_flags(d) == flags);
        pincurl_policy_unref(p);
    } else {
        FUZZ_CHECK(flags != 0 && (st == PINCURL_POLICY_BAD_VALUE ||
                                  st == PINCURL_POLICY_PUBLIC_SUFFIX));
    }
    pincurl_policy_builder_free(b);
    return 0;
}
