/* The policy model: builder rules and statuses, host lookup, reference counting, memory. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pincurl/pincurl.h"

/* ------------------------------------------------------------------------------------ */
/* Helpers                                                                               */

static pincurl_pin pin_of(unsigned char seed)
{
    pincurl_pin p;
    for (size_t i = 0; i < sizeof p.sha256; i++)
        p.sha256[i] = (unsigned char)(seed + i * 7u);
    return p;
}

static size_t add_domain(pincurl_policy_builder *b, const char *host, unsigned flags,
                         size_t npins, unsigned char seed)
{
    size_t idx = SIZE_MAX;
    pincurl_status st = pincurl_policy_builder_add_domain(b, host, flags, &idx);
    cr_assert_eq(st, PINCURL_OK, "add_domain %s: %s", host, pincurl_status_name(st));
    cr_assert_neq(idx, SIZE_MAX);
    for (size_t i = 0; i < npins; i++) {
        pincurl_pin p = pin_of((unsigned char)(seed + i));
        st = pincurl_policy_builder_add_pin(b, idx, &p);
        cr_assert_eq(st, PINCURL_OK, "add_pin %s: %s", host, pincurl_status_name(st));
    }
    return idx;
}

static pincurl_policy *finish_ok(pincurl_policy_builder *b)
{
    pincurl_policy *p = NULL;
    size_t bad = 0;
    pincurl_status st = pincurl_policy_builder_finish(b, &p, &bad);
    cr_assert_eq(st, PINCURL_OK, "finish: %s (domain %zu)", pincurl_status_name(st), bad);
    cr_assert_not_null(p);
    return p;
}

#define INC PINCURL_DOMAIN_INCLUDE_SUBDOMAINS
#define ENF PINCURL_DOMAIN_ENFORCE
#define EXC PINCURL_DOMAIN_EXCLUDE

/* The policy most lookup tests use. */
static pincurl_policy *lookup_policy(void)
{
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    cr_assert_not_null(b);
    add_domain(b, "example.com", INC | ENF, 2, 10);
    add_domain(b, "a.example.com", INC, 1, 20);
    add_domain(b, "exact.example.com", ENF, 2, 30);
    add_domain(b, "legacy.example.com", EXC, 0, 0);
    add_domain(b, "noinc.org", 0, 1, 40);
    add_domain(b, "127.0.0.1", ENF, 2, 50);
    add_domain(b, "::1", ENF, 2, 60);
    pincurl_policy *p = finish_ok(b);
    pincurl_policy_builder_free(b);
    return p;
}

static const char *lookup_host(const pincurl_policy *p, const char *host)
{
    const pincurl_domain *d = pincurl_policy_lookup(p, host, strlen(host));
    return d == NULL ? NULL : pincurl_domain_host(d);
}

#define ASSERT_LOOKUP(p, host, expected)                                                  \
    do {                                                                                  \
        const char *got_ = lookup_host(p, host);                                          \
        if ((expected) == NULL)                                                           \
            cr_assert_null(got_, "%s matched %s", host, got_);                            \
        else {                                                                            \
            cr_assert_not_null(got_, "%s matched nothing", host);                         \
            cr_assert_str_eq(got_, (const char *)(expected), "%s", host);                 \
        }                                                                                 \
    } while (0)

/* ------------------------------------------------------------------------------------ */
/* Lookup                                                                                */

Test(lookup, exact_beats_parent)
{
    pincurl_policy *p = lookup_policy();
    ASSERT_LOOKUP(p, "a.example.com", "a.example.com");
    ASSERT_LOOKUP(p, "example.com", "example.com");
    ASSERT_LOOKUP(p, "exact.example.com", "exact.example.com");
    pincurl_policy_unref(p);
}

Test(lookup, most_specific_include_subdomains_parent_wins)
{
    pincurl_policy *p = lookup_policy();
    ASSERT_LOOKUP(p, "x.a.example.com", "a.example.com");
    ASSERT_LOOKUP(p, "x.y.a.example.com", "a.example.com");
    ASSERT_LOOKUP(p, "b.example.com", "example.com");
    ASSERT_LOOKUP(p, "x.b.example.com", "example.com");
    pincurl_policy_unref(p);
}

Test(lookup, parent_without_include_subdomains_does_not_cover_children)
{
    pincurl_policy *p = lookup_policy();
    ASSERT_LOOKUP(p, "x.noinc.org", NULL);
    ASSERT_LOOKUP(p, "noinc.org", "noinc.org");
    /* exact.example.com has no include_subdomains: its children fall to example.com */
    ASSERT_LOOKUP(p, "x.exact.example.com", "example.com");
    pincurl_policy_unref(p);
}

Test(lookup, label_boundaries_only)
{
    pincurl_policy *p = lookup_policy();
    ASSERT_LOOKUP(p, "notexample.com", NULL);
    ASSERT_LOOKUP(p, "x.notexample.com", NULL);
    ASSERT_LOOKUP(p, "xa.example.com", "example.com");
    ASSERT_LOOKUP(p, "example.com.evil.net", NULL);
    ASSERT_LOOKUP(p, "com", NULL);
    ASSERT_LOOKUP(p, "org", NULL);
    pincurl_policy_unref(p);
}

Test(lookup, exclude_removes_subdomain_and_its_children)
{
    pincurl_policy *p = lookup_policy();
    const pincurl_domain *d = pincurl_policy_lookup(p, "legacy.example.com", 18);
    cr_assert_not_null(d);
    cr_assert_str_eq(pincurl_domain_host(d), "legacy.example.com");
    cr_assert_eq(pincurl_domain_flags(d), PINCURL_DOMAIN_EXCLUDE);
    ASSERT_LOOKUP(p, "x.legacy.example.com", "legacy.example.com");
    ASSERT_LOOKUP(p, "y.x.legacy.example.com", "legacy.example.com");
    ASSERT_LOOKUP(p, "notlegacy.example.com", "example.com");
    pincurl_policy_unref(p);
}

Test(lookup, ip_literals_match_exactly)
{
    pincurl_policy *p = lookup_policy();
    ASSERT_LOOKUP(p, "127.0.0.1", "127.0.0.1");
    ASSERT_LOOKUP(p, "127.0.0.2", NULL);
    ASSERT_LOOKUP(p, "::1", "::1");
    ASSERT_LOOKUP(p, "[::1]", "::1");
    ASSERT_LOOKUP(p, "0:0:0:0:0:0:0:1", "::1");
    ASSERT_LOOKUP(p, "::2", NULL);
    /* an IPv4-mapped spelling is the IPv4 host: decided by its entry */
    ASSERT_LOOKUP(p, "::ffff:127.0.0.1", "127.0.0.1");
    ASSERT_LOOKUP(p, "[::FFFF:7f00:1]", "127.0.0.1");
    ASSERT_LOOKUP(p, "0:0:0:0:0:ffff:127.0.0.1", "127.0.0.1");
    ASSERT_LOOKUP(p, "::ffff:127.0.0.2", NULL);
    ASSERT_LOOKUP(p, "::127.0.0.1", NULL); /* IPv4-compatible (deprecated): not mapped */
    ASSERT_LOOKUP(p, "64:ff9b::127.0.0.1", NULL); /* NAT64: another address */
    pincurl_policy_unref(p);
}

Test(lookup, case_and_trailing_dot_insensitive)
{
    pincurl_policy *p = lookup_policy();
    ASSERT_LOOKUP(p, "EXAMPLE.COM.", "example.com");
    ASSERT_LOOKUP(p, "A.Example.Com", "a.example.com");
    ASSERT_LOOKUP(p, "X.LEGACY.example.com.", "legacy.example.com");
    pincurl_policy_unref(p);
}

Test(lookup, invalid_hosts_match_nothing)
{
    pincurl_policy *p = lookup_policy();
    ASSERT_LOOKUP(p, "", NULL);
    ASSERT_LOOKUP(p, "exa mple.com", NULL);
    ASSERT_LOOKUP(p, "b\xc3\xbc.example.com", NULL);
    cr_assert_null(pincurl_policy_lookup(p, NULL, 0));
    cr_assert_null(pincurl_policy_lookup(NULL, "example.com", 11));
    /* only len bytes are read */
    cr_assert_str_eq(pincurl_domain_host(pincurl_policy_lookup(p, "example.comX", 11)),
                     "example.com");
    pincurl_policy_unref(p);
}

/* A HOST_ONLY exclusion removes its host alone: the names below it stay under the parent's
 * pins (TrustKit's exclusion and Android's includeSubdomains="false" entry without pins);
 * a subtree exclusion above a more specific pinned entry leaves that entry in force. */
Test(lookup, host_only_exclusion_covers_its_host_alone)
{
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    add_domain(b, "example.com", INC | ENF, 2, 10);
    add_domain(b, "unsecured.example.com", EXC | PINCURL_DOMAIN_HOST_ONLY, 0, 0);
    add_domain(b, "open.example.com", EXC, 0, 0);
    add_domain(b, "api.open.example.com", INC | ENF, 2, 20);
    pincurl_policy *p = finish_ok(b);
    pincurl_policy_builder_free(b);

    const pincurl_domain *d = pincurl_policy_lookup(p, "unsecured.example.com", 21);
    cr_assert_not_null(d);
    cr_assert_eq(pincurl_domain_flags(d), EXC | PINCURL_DOMAIN_HOST_ONLY);
    ASSERT_LOOKUP(p, "x.unsecured.example.com", "example.com");
    ASSERT_LOOKUP(p, "y.x.unsecured.example.com", "example.com");
    ASSERT_LOOKUP(p, "x.open.example.com", "open.example.com");
    ASSERT_LOOKUP(p, "v1.api.open.example.com", "api.open.example.com");
    ASSERT_LOOKUP(p, "api.open.example.com", "api.open.example.com");
    pincurl_policy_unref(p);
}

/* ------------------------------------------------------------------------------------ */
/* Accessors                                                                             */

Test(policy, accessors_and_sorted_order)
{
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    cr_assert_eq(pincurl_policy_builder_set_expiry(b, 1800000000, PINCURL_ON_EXPIRY_BLOCK),
                 PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_report_uri(b, "https://collector.example.com/r"),
                 PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_report_uri(b, "https://[::1]:8443/r?x=1"),
                 PINCURL_OK);
    cr_assert_eq(add_domain(b, "Zeta.Example.com", ENF, 3, 1), 0);
    cr_assert_eq(add_domain(b, "alpha.example.com", INC, 1, 9), 1);
    cr_assert_eq(add_domain(b, "mid.example.com", 0, 2, 20), 2);
    pincurl_policy *p = finish_ok(b);
    pincurl_policy_builder_free(b);

    cr_assert_eq(pincurl_policy_expires(p), 1800000000);
    cr_assert_eq(pincurl_policy_on_expiry(p), PINCURL_ON_EXPIRY_BLOCK);
    cr_assert_eq(pincurl_policy_report_uri_count(p), 2);
    cr_assert_str_eq(pincurl_policy_report_uri(p, 0), "https://collector.example.com/r");
    cr_assert_str_eq(pincurl_policy_report_uri(p, 1), "https://[::1]:8443/r?x=1");
    cr_assert_null(pincurl_policy_report_uri(p, 2));

    cr_assert_eq(pincurl_policy_domain_count(p), 3);
    const char *order[] = {"alpha.example.com", "mid.example.com", "zeta.example.com"};
    const unsigned flags[] = {INC, 0, ENF};
    const size_t pins[] = {1, 2, 3};
    for (size_t i = 0; i < 3; i++) {
        const pincurl_domain *d = pincurl_policy_domain(p, i);
        cr_assert_not_null(d);
        cr_assert_str_eq(pincurl_domain_host(d), order[i]);
        cr_assert_eq(pincurl_domain_flags(d), flags[i]);
        cr_assert_eq(pincurl_domain_pin_count(d), pins[i]);
        cr_assert_null(pincurl_domain_pin(d, pins[i]));
    }
    cr_assert_null(pincurl_policy_domain(p, 3));
    const pincurl_domain *zeta = pincurl_policy_domain(p, 2);
    for (size_t i = 0; i < 3; i++) {
        pincurl_pin want = pin_of((unsigned char)(1 + i));
        cr_assert_arr_eq(pincurl_domain_pin(zeta, i)->sha256, want.sha256, 32);
    }
    pincurl_policy_unref(p);
}

Test(policy, defaults_and_null_accessors)
{
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    add_domain(b, "example.com", 0, 1, 1);
    pincurl_policy *p = finish_ok(b);
    pincurl_policy_builder_free(b);
    cr_assert_eq(pincurl_policy_expires(p), 0);
    cr_assert_eq(pincurl_policy_on_expiry(p), PINCURL_ON_EXPIRY_REPORT_AND_ALLOW);
    cr_assert_eq(pincurl_policy_report_uri_count(p), 0);
    pincurl_policy_unref(p);

    cr_assert_eq(pincurl_policy_domain_count(NULL), 0);
    cr_assert_null(pincurl_policy_domain(NULL, 0));
    cr_assert_null(pincurl_domain_host(NULL));
    cr_assert_eq(pincurl_domain_pin_count(NULL), 0);
    pincurl_policy_unref(NULL);
    pincurl_policy_builder_free(NULL);
    cr_assert_null(pincurl_policy_ref(NULL));
}

/* ------------------------------------------------------------------------------------ */
/* Builder statuses                                                                      */

static pincurl_policy_builder *custom(void)
{
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    cr_assert_not_null(b);
    return b;
}

static void expect_finish(pincurl_policy_builder *b, pincurl_status want, size_t want_bad)
{
    pincurl_policy *p = (pincurl_policy *)&p; /* must be reset to NULL */
    size_t bad = 12345;
    pincurl_status st = pincurl_policy_builder_finish(b, &p, &bad);
    cr_assert_eq(st, want, "finish: got %s, want %s", pincurl_status_name(st),
                 pincurl_status_name(want));
    cr_assert_null(p);
    cr_assert_eq(bad, want_bad, "bad_domain %zu, want %zu", bad, want_bad);
}

Test(builder, duplicate_domain)
{
    pincurl_policy_builder *b = custom();
    add_domain(b, "example.com", ENF, 2, 1);
    size_t idx = 7;
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "example.com", ENF, &idx),
                 PINCURL_POLICY_DUPLICATE_DOMAIN);
    cr_assert_eq(idx, SIZE_MAX);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "EXAMPLE.com.", 0, NULL),
                 PINCURL_POLICY_DUPLICATE_DOMAIN);
    add_domain(b, "[::1]", 0, 1, 5);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "0:0::1", ENF, NULL),
                 PINCURL_POLICY_DUPLICATE_DOMAIN);
    pincurl_policy_builder_free(b);
}

Test(builder, duplicate_pin)
{
    pincurl_policy_builder *b = custom();
    size_t i = add_domain(b, "example.com", ENF, 2, 1);
    pincurl_pin again = pin_of(2);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, i, &again), PINCURL_POLICY_DUPLICATE_PIN);
    /* the same pin on another domain is fine */
    size_t j = add_domain(b, "example.org", 0, 0, 0);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, j, &again), PINCURL_OK);
    pincurl_policy *p = finish_ok(b);
    cr_assert_eq(pincurl_domain_pin_count(pincurl_policy_lookup(p, "example.com", 11)), 2);
    pincurl_policy_unref(p);
    pincurl_policy_builder_free(b);
}

Test(builder, too_few_pins_enforce)
{
    pincurl_policy_builder *b = custom();
    add_domain(b, "ok.example.com", ENF, 2, 1);
    size_t i = add_domain(b, "one.example.com", ENF, 1, 10);
    expect_finish(b, PINCURL_POLICY_TOO_FEW_PINS, i);
    /* the builder stays usable after a failed finish */
    pincurl_pin backup = pin_of(99);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, i, &backup), PINCURL_OK);
    pincurl_policy *p = finish_ok(b);
    pincurl_policy_unref(p);
    pincurl_policy_builder_free(b);
}

Test(builder, too_few_pins_report_only)
{
    pincurl_policy_builder *b = custom();
    size_t i = add_domain(b, "ro.example.com", 0, 0, 0);
    expect_finish(b, PINCURL_POLICY_TOO_FEW_PINS, i);
    pincurl_policy_builder_free(b);

    b = custom();
    add_domain(b, "ro.example.com", INC, 1, 0); /* one suffices for report-only */
    pincurl_policy *p = finish_ok(b);
    pincurl_policy_unref(p);
    pincurl_policy_builder_free(b);
}

Test(builder, exclude_conflict_and_flags)
{
    pincurl_policy_builder *b = custom();
    add_domain(b, "example.com", INC | ENF, 2, 1);
    size_t x = add_domain(b, "legacy.example.com", EXC, 0, 0);
    pincurl_pin p1 = pin_of(50);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, x, &p1), PINCURL_POLICY_EXCLUDE_CONFLICT);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "a.example.com", EXC | ENF, NULL),
                 PINCURL_POLICY_BAD_VALUE);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "b.example.com", EXC | INC, NULL),
                 PINCURL_POLICY_BAD_VALUE);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "c.example.com", 0x80u, NULL),
                 PINCURL_POLICY_BAD_VALUE);
    pincurl_policy *p = finish_ok(b);
    pincurl_policy_unref(p);
    pincurl_policy_builder_free(b);
}

Test(builder, host_only_and_single_pin_flags)
{
    pincurl_policy_builder *b = custom();
    add_domain(b, "example.com", INC | ENF, 2, 1);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "a.example.com", PINCURL_DOMAIN_HOST_ONLY,
                                                   NULL),
                 PINCURL_POLICY_BAD_VALUE);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "b.example.com",
                                                   ENF | PINCURL_DOMAIN_HOST_ONLY, NULL),
                 PINCURL_POLICY_BAD_VALUE);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "c.example.com",
                                                   EXC | PINCURL_DOMAIN_ALLOW_SINGLE_PIN, NULL),
                 PINCURL_POLICY_BAD_VALUE);
    /* a single pin is allowed only for an enforcing entry that says so */
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "d.example.com",
                                                   PINCURL_DOMAIN_ALLOW_SINGLE_PIN, NULL),
                 PINCURL_POLICY_BAD_VALUE);
    add_domain(b, "one.example.org", ENF | PINCURL_DOMAIN_ALLOW_SINGLE_PIN, 1, 40);
    add_domain(b, "x.example.com", EXC | PINCURL_DOMAIN_HOST_ONLY, 0, 0);
    pincurl_policy *p = finish_ok(b);
    const pincurl_domain *d = pincurl_policy_lookup(p, "one.example.org", 15);
    cr_assert_eq(pincurl_domain_flags(d), ENF | PINCURL_DOMAIN_ALLOW_SINGLE_PIN);
    cr_assert_eq(pincurl_domain_pin_count(d), 1);
    pincurl_policy_unref(p);
    pincurl_policy_builder_free(b);

    /* without the flag one pin is still too few; with it, none is */
    b = custom();
    size_t i = add_domain(b, "one.example.org", ENF, 1, 40);
    expect_finish(b, PINCURL_POLICY_TOO_FEW_PINS, i);
    pincurl_policy_builder_free(b);
    b = custom();
    i = add_domain(b, "one.example.org", ENF | PINCURL_DOMAIN_ALLOW_SINGLE_PIN, 0, 40);
    expect_finish(b, PINCURL_POLICY_TOO_FEW_PINS, i);
    pincurl_policy_builder_free(b);

    /* a HOST_ONLY exclusion needs an include_subdomains parent like any other */
    b = custom();
    add_domain(b, "example.com", ENF, 2, 1);
    i = add_domain(b, "x.example.com", EXC | PINCURL_DOMAIN_HOST_ONLY, 0, 0);
    expect_finish(b, PINCURL_POLICY_EXCLUDE_ORPHAN, i);
    pincurl_policy_builder_free(b);
}

Test(builder, domain_expiry)
{
    pincurl_policy_builder *b = custom();
    cr_assert_eq(pincurl_policy_builder_set_expiry(b, 5000, PINCURL_ON_EXPIRY_BLOCK), PINCURL_OK);
    size_t a = add_domain(b, "a.example.com", ENF, 2, 1);
    size_t c = add_domain(b, "c.example.com", ENF, 2, 5);
    size_t e = add_domain(b, "e.example.com", 0, 1, 9);
    add_domain(b, "example.com", INC | ENF, 2, 20);
    size_t x = add_domain(b, "x.example.com", EXC, 0, 0);

    cr_assert_eq(pincurl_policy_builder_set_domain_expiry(b, a, 1000), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_set_domain_expiry(b, c, 2000), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_set_domain_on_expiry(b, c,
                                                             PINCURL_ON_EXPIRY_REPORT_AND_ALLOW),
                 PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_set_domain_expiry(b, a, -1), PINCURL_POLICY_BAD_VALUE);
    cr_assert_eq(pincurl_policy_builder_set_domain_expiry(b, x, 1000), PINCURL_POLICY_BAD_VALUE);
    cr_assert_eq(pincurl_policy_builder_set_domain_on_expiry(b, x, PINCURL_ON_EXPIRY_BLOCK),
                 PINCURL_POLICY_BAD_VALUE);
    cr_assert_eq(pincurl_policy_builder_set_domain_on_expiry(b, a, (pincurl_on_expiry)9),
                 PINCURL_POLICY_BAD_VALUE);
    cr_assert_eq(pincurl_policy_builder_set_domain_expiry(b, 99, 1000),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_policy_builder_set_domain_expiry(NULL, a, 1000),
                 PINCURL_INVALID_ARGUMENT);
    pincurl_policy *p = finish_ok(b);
    pincurl_policy_builder_free(b);

    const pincurl_domain *d = pincurl_policy_lookup(p, "a.example.com", 13);
    cr_assert_eq(pincurl_domain_expires(d), 1000);
    cr_assert_eq(pincurl_domain_on_expiry(d), PINCURL_ON_EXPIRY_BLOCK); /* the policy's */
    d = pincurl_policy_lookup(p, "c.example.com", 13);
    cr_assert_eq(pincurl_domain_expires(d), 2000);
    cr_assert_eq(pincurl_domain_on_expiry(d), PINCURL_ON_EXPIRY_REPORT_AND_ALLOW); /* its own */
    d = pincurl_policy_lookup(p, "e.example.com", 13);
    cr_assert_eq(pincurl_domain_expires(d), 0);
    cr_assert_eq(pincurl_policy_expires(p), 5000);
    cr_assert_eq(pincurl_domain_expires(NULL), 0);
    cr_assert_eq(pincurl_domain_on_expiry(NULL), PINCURL_ON_EXPIRY_REPORT_AND_ALLOW);
    (void)e;
    pincurl_policy_unref(p);

    /* an on_expiry without a domain expiry is refused when the policy is finished */
    b = custom();
    a = add_domain(b, "a.example.com", ENF, 2, 1);
    cr_assert_eq(pincurl_policy_builder_set_domain_on_expiry(b, a, PINCURL_ON_EXPIRY_BLOCK),
                 PINCURL_OK);
    expect_finish(b, PINCURL_POLICY_BAD_VALUE, a);
    pincurl_policy_builder_free(b);
}

Test(builder, exclude_orphan)
{
    /* no parent at all */
    pincurl_policy_builder *b = custom();
    add_domain(b, "example.com", ENF, 2, 1);
    size_t x = add_domain(b, "x.example.org", EXC, 0, 0);
    expect_finish(b, PINCURL_POLICY_EXCLUDE_ORPHAN, x);
    pincurl_policy_builder_free(b);

    /* a parent without include_subdomains does not make the exclusion meaningful */
    b = custom();
    add_domain(b, "example.com", ENF, 2, 1);
    x = add_domain(b, "legacy.example.com", EXC, 0, 0);
    expect_finish(b, PINCURL_POLICY_EXCLUDE_ORPHAN, x);
    pincurl_policy_builder_free(b);

    /* a grandparent with include_subdomains does */
    b = custom();
    add_domain(b, "example.com", INC | ENF, 2, 1);
    add_domain(b, "api.example.com", ENF, 2, 10);
    add_domain(b, "old.api.example.com", EXC, 0, 0);
    pincurl_policy *p = finish_ok(b);
    ASSERT_LOOKUP(p, "v1.old.api.example.com", "old.api.example.com");
    pincurl_policy_unref(p);
    pincurl_policy_builder_free(b);
}

Test(builder, bad_uris)
{
    pincurl_policy_builder *b = custom();
    static const char *const bad[] = {
        "http://collector.example.com/r",
        "ftp://collector.example.com/r",
        "https://",
        "https:///path",
        "https://?q",
        "https://user@/r",
        "https://:443/r",
        "https://[]/r",
        "https://collector example.com/r",
        "https://collector.example.com/r\n",
        "https://collector.example.com/\tr",
        "https://collector.example.com/\x7f",
        " https://collector.example.com/r",
        "collector.example.com/r",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(pincurl_policy_builder_add_report_uri(b, bad[i]), PINCURL_POLICY_BAD_URI,
                     "accepted: %s", bad[i]);
    cr_assert_eq(pincurl_policy_builder_add_report_uri(b, NULL), PINCURL_INVALID_ARGUMENT);

    char uri[PINCURL_MAX_URI_LENGTH + 2];
    memset(uri, 'a', sizeof uri);
    memcpy(uri, "https://h/", 10);
    uri[PINCURL_MAX_URI_LENGTH + 1] = '\0'; /* 2049 characters */
    cr_assert_eq(pincurl_policy_builder_add_report_uri(b, uri), PINCURL_POLICY_BAD_URI);
    uri[PINCURL_MAX_URI_LENGTH] = '\0'; /* 2048 characters */
    cr_assert_eq(pincurl_policy_builder_add_report_uri(b, uri), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_report_uri(b, "https://u:p@c.example.com:8443/r"),
                 PINCURL_OK);
    pincurl_policy_builder_free(b);
}

Test(builder, ip_literal_with_include_subdomains)
{
    pincurl_policy_builder *b = custom();
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "127.0.0.1", INC, NULL),
                 PINCURL_POLICY_BAD_VALUE);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "[::1]", INC | ENF, NULL),
                 PINCURL_POLICY_BAD_VALUE);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "127.0.0.1", ENF, NULL), PINCURL_OK);
    pincurl_policy_builder_free(b);
}

Test(builder, no_domains)
{
    pincurl_policy_builder *b = custom();
    expect_finish(b, PINCURL_POLICY_NO_DOMAINS, SIZE_MAX);
    pincurl_policy_builder_free(b);
}

Test(builder, invalid_hosts)
{
    pincurl_policy_builder *b = custom();
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "", 0, NULL), PINCURL_HOST_INVALID);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "*.example.com", 0, NULL),
                 PINCURL_HOST_INVALID);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "127.1", 0, NULL), PINCURL_HOST_INVALID);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "b\xc3\xbc"
                                                      "cher.example",
                                                   0, NULL),
                 PINCURL_HOST_NOT_ASCII);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, NULL, 0, NULL), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_policy_builder_add_domain(NULL, "example.com", 0, NULL),
                 PINCURL_INVALID_ARGUMENT);
    pincurl_pin p = pin_of(1);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, 0, &p), PINCURL_INVALID_ARGUMENT);
    pincurl_policy_builder_free(b);
}

Test(builder, single_label_never_takes_include_subdomains)
{
    pincurl_policy_builder *b = custom();
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "com", INC, NULL),
                 PINCURL_POLICY_PUBLIC_SUFFIX);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "LOCALHOST.", INC | ENF, NULL),
                 PINCURL_POLICY_PUBLIC_SUFFIX);
    /* without a hook nothing else is a suffix; single labels are fine as exact entries */
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "co.uk", INC, NULL), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "localhost", ENF, NULL), PINCURL_OK);
    pincurl_policy_builder_free(b);
}

struct hook_log {
    int calls;
    char last[PINCURL_HOST_MAX + 1];
};

static int hook_example_org(const char *host, void *ctx)
{
    struct hook_log *log = ctx;
    log->calls++;
    snprintf(log->last, sizeof log->last, "%s", host);
    return strcmp(host, "example.org") == 0;
}

Test(builder, custom_public_suffix_hook)
{
    struct hook_log log = {0};
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, hook_example_org, &log);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "Example.ORG.", INC, NULL),
                 PINCURL_POLICY_PUBLIC_SUFFIX);
    cr_assert_eq(log.calls, 1);
    cr_assert_str_eq(log.last, "example.org"); /* the hook sees the normalised host */
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "example.org", ENF, NULL), PINCURL_OK);
    cr_assert_eq(log.calls, 1); /* only asked for include_subdomains */
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "a.example.org", INC, NULL), PINCURL_OK);
    pincurl_policy_builder_free(b);
}

Test(builder, public_suffix_via_libpsl)
{
    pincurl_policy_builder *b = pincurl_policy_builder_new(NULL);
    cr_assert_not_null(b);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "com", INC, NULL),
                 PINCURL_POLICY_PUBLIC_SUFFIX);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "co.uk", INC, NULL),
                 PINCURL_POLICY_PUBLIC_SUFFIX);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "CO.UK.", INC | ENF, NULL),
                 PINCURL_POLICY_PUBLIC_SUFFIX);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "github.io", INC, NULL),
                 PINCURL_POLICY_PUBLIC_SUFFIX);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "example.co.uk", INC, NULL), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "user.github.io", INC, NULL), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "example.com", INC, NULL), PINCURL_OK);
    /* a public suffix may still be pinned exactly */
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "co.uk", ENF, NULL), PINCURL_OK);
    pincurl_policy_builder_free(b);
}

Test(builder, set_expiry_values)
{
    pincurl_policy_builder *b = custom();
    cr_assert_eq(pincurl_policy_builder_set_expiry(b, -1, PINCURL_ON_EXPIRY_BLOCK),
                 PINCURL_POLICY_BAD_VALUE);
    cr_assert_eq(pincurl_policy_builder_set_expiry(b, 10, (pincurl_on_expiry)7),
                 PINCURL_POLICY_BAD_VALUE);
    cr_assert_eq(pincurl_policy_builder_set_expiry(NULL, 10, PINCURL_ON_EXPIRY_BLOCK),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_policy_builder_set_expiry(b, 0, PINCURL_ON_EXPIRY_BLOCK), PINCURL_OK);
    pincurl_policy_builder_free(b);
}

Test(builder, finish_only_once)
{
    pincurl_policy_builder *b = custom();
    add_domain(b, "example.com", ENF, 2, 1);
    pincurl_policy *p = finish_ok(b);
    expect_finish(b, PINCURL_INVALID_ARGUMENT, SIZE_MAX);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "example.org", 0, NULL),
                 PINCURL_INVALID_ARGUMENT);
    pincurl_policy_builder_free(b);
    /* the policy outlives its builder */
    ASSERT_LOOKUP(p, "example.com", "example.com");
    pincurl_policy_unref(p);
}

/* ------------------------------------------------------------------------------------ */
/* Limits                                                                                */

Test(limits, domains)
{
    pincurl_policy_builder *b = custom();
    char host[64];
    for (unsigned i = 0; i < PINCURL_MAX_DOMAINS; i++) {
        snprintf(host, sizeof host, "d%u.example.com", i);
        cr_assert_eq(pincurl_policy_builder_add_domain(b, host, 0, NULL), PINCURL_OK, "%s",
                     host);
    }
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "one-more.example.com", 0, NULL),
                 PINCURL_POLICY_TOO_LARGE);
    pincurl_policy_builder_free(b);
}

Test(limits, pins_per_domain)
{
    pincurl_policy_builder *b = custom();
    size_t i = add_domain(b, "example.com", ENF, PINCURL_MAX_PINS_PER_DOMAIN, 0);
    pincurl_pin extra = pin_of(200);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, i, &extra), PINCURL_POLICY_TOO_LARGE);
    pincurl_policy *p = finish_ok(b);
    cr_assert_eq(pincurl_domain_pin_count(pincurl_policy_domain(p, 0)),
                 PINCURL_MAX_PINS_PER_DOMAIN);
    pincurl_policy_unref(p);
    pincurl_policy_builder_free(b);
}

Test(limits, report_uris)
{
    pincurl_policy_builder *b = custom();
    char uri[64];
    for (int i = 0; i < PINCURL_MAX_REPORT_URIS; i++) {
        snprintf(uri, sizeof uri, "https://c%d.example.com/r", i);
        cr_assert_eq(pincurl_policy_builder_add_report_uri(b, uri), PINCURL_OK);
    }
    cr_assert_eq(pincurl_policy_builder_add_report_uri(b, "https://more.example.com/r"),
                 PINCURL_POLICY_TOO_LARGE);
    pincurl_policy_builder_free(b);
}

/* ------------------------------------------------------------------------------------ */
/* Memory: a tagging allocator that counts, and proves every block went through it       */

#define TAG 0x70696e6375726cULL

struct counting {
    size_t allocs;
    size_t frees;
    size_t live;
    size_t fail_after; /* SIZE_MAX: never fail */
};

static void *tag_block(unsigned char *base, struct counting *c)
{
    uint64_t tag = TAG;
    memcpy(base, &tag, sizeof tag);
    c->allocs++;
    c->live++;
    return base + 16;
}

static void *c_malloc(size_t n, void *ctx)
{
    struct counting *c = ctx;
    if (c->allocs >= c->fail_after)
        return NULL;
    unsigned char *base = malloc(n + 16);
    return base == NULL ? NULL : tag_block(base, c);
}

static unsigned char *check_tag(void *ptr)
{
    unsigned char *base = (unsigned char *)ptr - 16;
    uint64_t tag;
    memcpy(&tag, base, sizeof tag);
    cr_assert_eq(tag, TAG, "a block not from this allocator was given back to it");
    return base;
}

static void c_free(void *ptr, void *ctx)
{
    struct counting *c = ctx;
    if (ptr == NULL)
        return;
    unsigned char *base = check_tag(ptr);
    memset(base, 0, 16);
    c->frees++;
    c->live--;
    free(base);
}

static void *c_realloc(void *ptr, size_t n, void *ctx)
{
    struct counting *c = ctx;
    if (ptr == NULL)
        return c_malloc(n, ctx);
    if (c->allocs >= c->fail_after)
        return NULL;
    unsigned char *base = check_tag(ptr);
    unsigned char *moved = realloc(base, n + 16);
    if (moved == NULL)
        return NULL;
    c->allocs++; /* counted as a new block replacing the old one */
    c->frees++;
    return moved + 16;
}

/* Builds a representative policy; returns the first failing status. */
static pincurl_status build_all(const pincurl_allocator *a, pincurl_policy **out)
{
    *out = NULL;
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(a, NULL, NULL);
    if (b == NULL)
        return PINCURL_OUT_OF_MEMORY;
    pincurl_status st = pincurl_policy_builder_add_report_uri(b, "https://c.example.com/r");
    char host[64];
    for (unsigned i = 0; i < 20 && st == PINCURL_OK; i++) {
        size_t idx;
        snprintf(host, sizeof host, "h%u.example.com", i);
        st = pincurl_policy_builder_add_domain(b, host, INC | ENF, &idx);
        for (unsigned k = 0; k < 5 && st == PINCURL_OK; k++) {
            pincurl_pin p = pin_of((unsigned char)(i * 5 + k));
            st = pincurl_policy_builder_add_pin(b, idx, &p);
        }
    }
    if (st == PINCURL_OK)
        st = pincurl_policy_builder_add_domain(b, "x.h1.example.com", EXC, NULL);
    if (st == PINCURL_OK)
        st = pincurl_policy_builder_finish(b, out, NULL);
    pincurl_policy_builder_free(b);
    return st;
}

Test(memory, everything_through_the_allocator)
{
    struct counting c = {.fail_after = SIZE_MAX};
    pincurl_allocator a = {c_malloc, c_realloc, c_free, &c};
    pincurl_policy *p = NULL;
    cr_assert_eq(build_all(&a, &p), PINCURL_OK);
    cr_assert_gt(c.allocs, 20);
    cr_assert_gt(c.live, 0); /* the policy holds memory after its builder is gone */
    ASSERT_LOOKUP(p, "a.h3.example.com", "h3.example.com");
    ASSERT_LOOKUP(p, "y.x.h1.example.com", "x.h1.example.com");
    pincurl_policy_unref(p);
    cr_assert_eq(c.live, 0, "%zu blocks leaked", c.live);
    cr_assert_eq(c.allocs, c.frees);
}

Test(memory, libpsl_builder_uses_the_allocator)
{
    struct counting c = {.fail_after = SIZE_MAX};
    pincurl_allocator a = {c_malloc, c_realloc, c_free, &c};
    pincurl_policy_builder *b = pincurl_policy_builder_new(&a);
    cr_assert_not_null(b);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "example.co.uk", INC, NULL), PINCURL_OK);
    cr_assert_gt(c.live, 0);
    pincurl_policy_builder_free(b);
    cr_assert_eq(c.live, 0);
}

Test(memory, out_of_memory_at_every_step_fails_cleanly)
{
    size_t total;
    {
        struct counting c = {.fail_after = SIZE_MAX};
        pincurl_allocator a = {c_malloc, c_realloc, c_free, &c};
        pincurl_policy *p;
        cr_assert_eq(build_all(&a, &p), PINCURL_OK);
        pincurl_policy_unref(p);
        total = c.allocs;
    }
    for (size_t n = 0; n < total; n++) {
        struct counting c = {.fail_after = n};
        pincurl_allocator a = {c_malloc, c_realloc, c_free, &c};
        pincurl_policy *p = NULL;
        pincurl_status st = build_all(&a, &p);
        cr_assert_eq(st, PINCURL_OUT_OF_MEMORY, "allocation %zu failing gave %s", n,
                     pincurl_status_name(st));
        cr_assert_null(p);
        cr_assert_eq(c.live, 0, "allocation %zu failing leaked %zu blocks", n, c.live);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Reference counting                                                                    */

Test(refcount, ref_and_unref)
{
    struct counting c = {.fail_after = SIZE_MAX};
    pincurl_allocator a = {c_malloc, c_realloc, c_free, &c};
    pincurl_policy *p = NULL;
    cr_assert_eq(build_all(&a, &p), PINCURL_OK);
    size_t live = c.live;
    cr_assert_eq(pincurl_policy_ref(p), p);
    cr_assert_eq(pincurl_policy_ref(p), p);
    pincurl_policy_unref(p);
    pincurl_policy_unref(p);
    cr_assert_eq(c.live, live, "freed while still referenced");
    ASSERT_LOOKUP(p, "h0.example.com", "h0.example.com");
    pincurl_policy_unref(p);
    cr_assert_eq(c.live, 0);
}

static void *ref_storm(void *arg)
{
    pincurl_policy *p = arg;
    for (int i = 0; i < 20000; i++) {
        pincurl_policy_ref(p);
        if (pincurl_policy_lookup(p, "a.h7.example.com", 16) == NULL)
            return (void *)1;
        pincurl_policy_unref(p);
    }
    return NULL;
}

Test(refcount, concurrent_ref_unref)
{
    /* ref, unref and lookup never allocate, so the counters need no locking */
    struct counting c = {.fail_after = SIZE_MAX};
    pincurl_allocator a = {c_malloc, c_realloc, c_free, &c};
    pincurl_policy *p = NULL;
    cr_assert_eq(build_all(&a, &p), PINCURL_OK);
    size_t live = c.live;
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, ref_storm, p), 0);
    for (int i = 0; i < 8; i++) {
        void *r;
        cr_assert_eq(pthread_join(t[i], &r), 0);
        cr_assert_null(r);
    }
    cr_assert_eq(c.live, live);
    pincurl_policy_unref(p); /* the last reference */
    cr_assert_eq(c.live, 0);
}
