/* Fuzz target: policy documents (pincurl_policy_load_json).
 * Properties: a refusal leaves *out NULL and a diagnostic naming the same status; an
 * accepted policy keeps the builder's limits (domain, pin and URI counts, https report
 * URIs, enforcing entries with a backup pin unless they allow a single pin, excluded entries
 * without pins or an expiry, an entry's on_expiry block only with its own expiry), its hosts are
 * normalised, distinct and sorted, every host looks up to its own entry, and evaluating a
 * pinned host without a validated path blocks; every block allocated through the caller's
 * allocator is returned once the policy is released. */
#include <string.h>

#include "fuzz_common.h"
#include "pincurl/policy.h"

static void check_policy(const pincurl_policy *p)
{
    size_t n = pincurl_policy_domain_count(p);
    FUZZ_CHECK(n >= 1 && n <= PINCURL_MAX_DOMAINS);
    FUZZ_CHECK(pincurl_policy_report_uri_count(p) <= PINCURL_MAX_REPORT_URIS);
    for (size_t i = 0; i < pincurl_policy_report_uri_count(p); i++) {
        const char *u = pincurl_policy_report_uri(p, i);
        FUZZ_CHECK(u != NULL && strncmp(u, "https://", 8) == 0);
        FUZZ_CHECK(strlen(u) <= PINCURL_MAX_URI_LENGTH);
    }
    pincurl_on_expiry oe = pincurl_policy_on_expiry(p);
    FUZZ_CHECK(oe == PINCURL_ON_EXPIRY_REPORT_AND_ALLOW || oe == PINCURL_ON_EXPIRY_BLOCK);
    FUZZ_CHECK(pincurl_policy_expires(p) >= 0);
    if (pincurl_policy_expires(p) == 0)
        FUZZ_CHECK(oe == PINCURL_ON_EXPIRY_REPORT_AND_ALLOW);

    const char *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        const pincurl_domain *d = pincurl_policy_domain(p, i);
        FUZZ_CHECK(d != NULL);
        const char *h = pincurl_domain_host(d);
        unsigned flags = pincurl_domain_flags(d);
        size_t pins = pincurl_domain_pin_count(d);
        char norm[PINCURL_HOST_MAX + 1];

        FUZZ_CHECK(h != NULL && h[0] != '\0');
        FUZZ_CHECK(pincurl_host_normalize(h, strlen(h), norm, sizeof norm) == PINCURL_OK);
        FUZZ_CHECK(strcmp(norm, h) == 0);
        FUZZ_CHECK(prev == NULL || strcmp(prev, h) < 0);
        prev = h;
        FUZZ_CHECK((flags & ~(unsigned)(PINCURL_DOMAIN_INCLUDE_SUBDOMAINS | PINCURL_DOMAIN_ENFORCE |
                                        PINCURL_DOMAIN_EXCLUDE | PINCURL_DOMAIN_HOST_ONLY |
                                        PINCURL_DOMAIN_ALLOW_SINGLE_PIN)) == 0);
        int64_t dexp = pincurl_domain_expires(d);
        FUZZ_CHECK(dexp >= 0);
        if (flags & PINCURL_DOMAIN_EXCLUDE) {
            FUZZ_CHECK((flags & ~(unsigned)PINCURL_DOMAIN_HOST_ONLY) == PINCURL_DOMAIN_EXCLUDE);
            FUZZ_CHECK(pins == 0 && dexp == 0);
        } else {
            FUZZ_CHECK(!(flags & PINCURL_DOMAIN_HOST_ONLY));
            if (flags & PINCURL_DOMAIN_ALLOW_SINGLE_PIN)
                FUZZ_CHECK((flags & PINCURL_DOMAIN_ENFORCE) && pins >= 1);
            else
                FUZZ_CHECK(pins >= ((flags & PINCURL_DOMAIN_ENFORCE) ? 2u : 1u));
            FUZZ_CHECK(pins <= PINCURL_MAX_PINS_PER_DOMAIN);
            if (dexp == 0)
                FUZZ_CHECK(pincurl_domain_on_expiry(d) == oe); /* the policy's */
        }
        if (flags & PINCURL_DOMAIN_INCLUDE_SUBDOMAINS)
            FUZZ_CHECK(!pincurl_host_is_ip(h) && strchr(h, '.') != NULL);
        for (size_t a = 0; a < pins; a++)
            for (size_t b = a + 1; b < pins; b++)
                FUZZ_CHECK(!pincurl_pin_equal(pincurl_domain_pin(d, a), pincurl_domain_pin(d, b)));
        FUZZ_CHECK(pincurl_domain_pin(d, pins) == NULL);

        FUZZ_CHECK(pincurl_policy_lookup(p, h, strlen(h)) == d);

        pincurl_verdict v;
        FUZZ_CHECK(pincurl_evaluate(p, h, 443, NULL, 0, NULL, 0, 0, &v) == PINCURL_OK);
        FUZZ_CHECK(v.domain == d);
        if (flags & PINCURL_DOMAIN_EXCLUDE) {
            FUZZ_CHECK(v.result == PINCURL_RESULT_NOT_PINNED && !v.pinned);
        } else {
            FUZZ_CHECK(v.pinned && v.result == PINCURL_RESULT_INVALID_CHAIN);
            FUZZ_CHECK(v.decision == PINCURL_DECISION_BLOCK);
        }
    }
    FUZZ_CHECK(pincurl_policy_domain(p, n) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_counting count;
    pincurl_allocator alloc = fuzz_counting_allocator(&count, -1);
    pincurl_policy *p = (pincurl_policy *)&count; /* must be overwritten */
    pincurl_diag diag;

    pincurl_status st = pincurl_policy_load_json((const char *)data, size, &alloc, &p, &diag);
    if (st != PINCURL_OK) {
        FUZZ_CHECK(p == NULL);
        FUZZ_CHECK(diag.status == st);
        FUZZ_CHECK(memchr(diag.message, '\0', sizeof diag.message) != NULL);
        FUZZ_CHECK(memchr(diag.path, '\0', sizeof diag.path) != NULL);
        FUZZ_CHECK(diag.message[0] != '\0');
        FUZZ_CHECK(count.live == 0);
        return 0;
    }
    FUZZ_CHECK(p != NULL);
    FUZZ_CHECK(diag.status == PINCURL_OK && diag.message[0] == '\0' && diag.path[0] == '\0');
    check_policy(p);

    /* Loading is deterministic: a second load of the same bytes has the same shape. */
    pincurl_policy *q = NULL;
    FUZZ_CHECK(pincurl_policy_load_json((const char *)data, size, &alloc, &q, NULL) == PINCURL_OK);
    FUZZ_CHECK(pincurl_policy_domain_count(q) == pincurl_policy_domain_count(p));
    FUZZ_CHECK(pincurl_policy_expires(q) == pincurl_policy_expires(p));
    pincurl_policy_unref(q);

    FUZZ_CHECK(pincurl_policy_ref(p) == p);
    pincurl_policy_unref(p);
    FUZZ_CHECK(count.live > 0);
    pincurl_policy_unref(p);
    FUZZ_CHECK(count.live == 0);
    return 0;
}
