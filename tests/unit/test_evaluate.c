/* The pin decision against real certificates from the test PKI; policy pins come from
 * openssl, path pins from our own SPKI code, so a match means both agree. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pincurl/pincurl.h"
#include "support.h"

/* ------------------------------------------------------------------------------------ */
/* Certificates of the test PKI, loaded once per test process                            */

#define MAX_FILES 16

static struct loaded {
    char name[32];
    unsigned char *data;
    pincurl_cert_list *list;
} files[MAX_FILES];
static size_t nfiles;

static void unload_all(void)
{
    for (size_t i = 0; i < nfiles; i++) {
        pincurl_cert_list_free(files[i].list);
        free(files[i].data);
    }
    nfiles = 0;
}

/* The (only) certificate of PKI file "<name>.pem", loaded on first use. */
static pincurl_cert_ref load(const char *name)
{
    char file[64];
    snprintf(file, sizeof file, "%s.pem", name);
    struct loaded *f = NULL;
    for (size_t i = 0; i < nfiles; i++)
        if (strcmp(files[i].name, name) == 0)
            f = &files[i];
    if (f == NULL) {
        cr_assert_lt(nfiles, MAX_FILES);
        f = &files[nfiles];
        snprintf(f->name, sizeof f->name, "%s", name);
        size_t len;
        f->data = pt_read_file(pt_pki(file), &len);
        pincurl_status st = pincurl_cert_list_load(f->data, len, NULL, &f->list);
        cr_assert_eq(st, PINCURL_OK, "%s: %s", file, pincurl_status_name(st));
        cr_assert_eq(pincurl_cert_list_count(f->list), 1);
        nfiles++;
    }
    pincurl_cert_ref r;
    r.der = pincurl_cert_list_der(f->list, 0, &r.len);
    cr_assert_not_null(r.der);
    return r;
}

/* The pin openssl computes for PKI file "<name>.pem". */
static pincurl_pin openssl_pin(const char *name)
{
    char file[64], text[128];
    snprintf(file, sizeof file, "%s.pem", name);
    pt_openssl_cert_pin(pt_pki(file), text, sizeof text);
    pincurl_pin p;
    cr_assert_eq(pincurl_pin_parse(text, strlen(text), &p), PINCURL_OK, "%s", text);
    return p;
}

TestSuite(evaluate, .fini = unload_all);

/* ------------------------------------------------------------------------------------ */
/* Policies                                                                              */

#define INC PINCURL_DOMAIN_INCLUDE_SUBDOMAINS
#define ENF PINCURL_DOMAIN_ENFORCE

/* One domain with the openssl pins of the named PKI files (NULL-terminated list). */
static pincurl_policy *policy_for(const char *host, unsigned flags, int64_t expires,
                                  pincurl_on_expiry on_expiry, const char *const *pin_files)
{
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    cr_assert_not_null(b);
    cr_assert_eq(pincurl_policy_builder_set_expiry(b, expires, on_expiry), PINCURL_OK);
    size_t idx;
    cr_assert_eq(pincurl_policy_builder_add_domain(b, host, flags, &idx), PINCURL_OK);
    for (size_t i = 0; pin_files[i] != NULL; i++) {
        pincurl_pin p = openssl_pin(pin_files[i]);
        cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &p), PINCURL_OK);
    }
    pincurl_policy *policy = NULL;
    cr_assert_eq(pincurl_policy_builder_finish(b, &policy, NULL), PINCURL_OK);
    pincurl_policy_builder_free(b);
    return policy;
}

static pincurl_policy *enforcing(const char *const *pin_files)
{
    return policy_for("localhost", ENF, 0, PINCURL_ON_EXPIRY_REPORT_AND_ALLOW, pin_files);
}

/* The genuine path: leaf-ec, inter, root. */
static size_t genuine_path(pincurl_cert_ref path[3])
{
    path[0] = load("leaf-ec");
    path[1] = load("inter");
    path[2] = load("root");
    return 3;
}

static pincurl_verdict run(const pincurl_policy *p, const char *host,
                           const pincurl_cert_ref *path, size_t n, int64_t now)
{
    pincurl_verdict v;
    memset(&v, 0xa5, sizeof v);
    pincurl_status st = pincurl_evaluate(p, host, 443, path, n, NULL, 0, now, &v);
    cr_assert_eq(st, PINCURL_OK, "evaluate: %s", pincurl_status_name(st));
    return v;
}

static void assert_pin_eq(const pincurl_pin *a, const pincurl_pin *b)
{
    cr_assert_eq(memcmp(a->sha256, b->sha256, sizeof a->sha256), 0);
}

#define NOW 1700000000

/* ------------------------------------------------------------------------------------ */
/* Matching at each depth                                                                */

Test(evaluate, leaf_pin_matches)
{
    pincurl_policy *p = enforcing((const char *const[]){"leaf-ec", "p256", NULL});
    pincurl_cert_ref path[3];
    pincurl_verdict v = run(p, "localhost", path, genuine_path(path), NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_SUCCESS);
    cr_assert_eq(v.decision, PINCURL_DECISION_ALLOW);
    cr_assert_eq(v.matched_depth, 0);
    pincurl_pin want = openssl_pin("leaf-ec");
    assert_pin_eq(&v.matched_pin, &want);
    cr_assert_eq(v.pinned, 1);
    cr_assert_eq(v.enforce, 1);
    cr_assert_eq(v.include_subdomains, 0);
    cr_assert_eq(v.expiry, PINCURL_EXPIRY_NONE);
    cr_assert_eq(v.expires, 0);
    cr_assert_eq(v.served_differs, 0);
    cr_assert_eq(v.domain, pincurl_policy_domain(p, 0));
    cr_assert_str_eq(v.noted_host, "localhost");
    pincurl_policy_unref(p);
}

Test(evaluate, intermediate_pin_matches)
{
    pincurl_policy *p = enforcing((const char *const[]){"p384", "inter", NULL});
    pincurl_cert_ref path[3];
    pincurl_verdict v = run(p, "localhost", path, genuine_path(path), NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_SUCCESS);
    cr_assert_eq(v.decision, PINCURL_DECISION_ALLOW);
    cr_assert_eq(v.matched_depth, 1);
    pincurl_pin want = openssl_pin("inter");
    assert_pin_eq(&v.matched_pin, &want);
    pincurl_policy_unref(p);
}

Test(evaluate, root_pin_matches)
{
    pincurl_policy *p = enforcing((const char *const[]){"root", "p521", NULL});
    pincurl_cert_ref path[3];
    pincurl_verdict v = run(p, "localhost", path, genuine_path(path), NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_SUCCESS);
    cr_assert_eq(v.decision, PINCURL_DECISION_ALLOW);
    cr_assert_eq(v.matched_depth, 2);
    pincurl_pin want = openssl_pin("root");
    assert_pin_eq(&v.matched_pin, &want);
    pincurl_policy_unref(p);
}

Test(evaluate, shallowest_match_is_reported)
{
    pincurl_policy *p = enforcing((const char *const[]){"root", "inter", NULL});
    pincurl_cert_ref path[3];
    pincurl_verdict v = run(p, "localhost", path, genuine_path(path), NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_SUCCESS);
    cr_assert_eq(v.matched_depth, 1);
    pincurl_policy_unref(p);
}

Test(evaluate, backup_pin_after_rotation)
{
    /* The policy pins the current leaf key and a backup key; the server rotated to the
     * backup. */
    pincurl_policy *p = enforcing((const char *const[]){"leaf-rsa", "leaf-backup", NULL});
    pincurl_cert_ref path[3] = {load("leaf-backup"), load("inter"), load("root")};
    pincurl_verdict v = run(p, "localhost", path, 3, NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_SUCCESS);
    cr_assert_eq(v.decision, PINCURL_DECISION_ALLOW);
    cr_assert_eq(v.matched_depth, 0);
    pincurl_pin want = openssl_pin("leaf-backup");
    assert_pin_eq(&v.matched_pin, &want);

    /* and the same policy refuses the other leaf */
    genuine_path(path);
    v = run(p, "localhost", path, 3, NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_PIN_MISMATCH);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    pincurl_policy_unref(p);
}

/* ------------------------------------------------------------------------------------ */
/* Mismatch, report-only and expiry                                                      */

Test(evaluate, no_pin_matches_enforce_blocks)
{
    pincurl_policy *p = enforcing((const char *const[]){"p256", "rogue-root", NULL});
    pincurl_cert_ref path[3];
    pincurl_verdict v = run(p, "localhost", path, genuine_path(path), NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_PIN_MISMATCH);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    cr_assert_eq(v.matched_depth, -1);
    cr_assert_eq(v.pinned, 1);
    cr_assert_eq(v.path_len, 3);
    pincurl_policy_unref(p);
}

Test(evaluate, report_only_mismatch_allows)
{
    pincurl_policy *p = policy_for("localhost", 0, 0, PINCURL_ON_EXPIRY_REPORT_AND_ALLOW,
                                   (const char *const[]){"p256", NULL});
    pincurl_cert_ref path[3];
    pincurl_verdict v = run(p, "localhost", path, genuine_path(path), NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_PIN_MISMATCH);
    cr_assert_eq(v.decision, PINCURL_DECISION_ALLOW);
    cr_assert_eq(v.pinned, 1);
    cr_assert_eq(v.enforce, 0);
    cr_assert_eq(v.matched_depth, -1);
    pincurl_policy_unref(p);
}

Test(evaluate, expired_report_and_allow_mismatch)
{
    pincurl_policy *p = policy_for("localhost", ENF, NOW - 86400,
                                   PINCURL_ON_EXPIRY_REPORT_AND_ALLOW,
                                   (const char *const[]){"p256", "p384", NULL});
    pincurl_cert_ref path[3];
    pincurl_verdict v = run(p, "localhost", path, genuine_path(path), NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_PIN_MISMATCH);
    cr_assert_eq(v.decision, PINCURL_DECISION_ALLOW);
    cr_assert_eq(v.expiry, PINCURL_EXPIRY_EXPIRED);
    cr_assert_eq(v.expires, NOW - 86400);
    cr_assert_eq(v.enforce, 1);
    pincurl_policy_unref(p);
}

Test(evaluate, expired_block_refuses_even_a_match)
{
    pincurl_policy *p = policy_for("localhost", ENF, NOW - 1, PINCURL_ON_EXPIRY_BLOCK,
                                   (const char *const[]){"leaf-ec", "p384", NULL});
    pincurl_cert_ref path[3];
    pincurl_verdict v = run(p, "localhost", path, genuine_path(path), NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_POLICY_EXPIRED);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    cr_assert_eq(v.expiry, PINCURL_EXPIRY_EXPIRED);
    pincurl_policy_unref(p);
}

Test(evaluate, expiry_boundary)
{
    const int64_t expires = NOW;
    pincurl_cert_ref path[3];
    size_t n = genuine_path(path);

    /* report_and_allow, mismatch: enforced one second before, not at the instant */
    pincurl_policy *p = policy_for("localhost", ENF, expires, PINCURL_ON_EXPIRY_REPORT_AND_ALLOW,
                                   (const char *const[]){"p256", "p384", NULL});
    pincurl_verdict v = run(p, "localhost", path, n, expires - 1);
    cr_assert_eq(v.expiry, PINCURL_EXPIRY_VALID);
    cr_assert_eq(v.result, PINCURL_RESULT_PIN_MISMATCH);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    v = run(p, "localhost", path, n, expires);
    cr_assert_eq(v.expiry, PINCURL_EXPIRY_EXPIRED);
    cr_assert_eq(v.result, PINCURL_RESULT_PIN_MISMATCH);
    cr_assert_eq(v.decision, PINCURL_DECISION_ALLOW);
    pincurl_policy_unref(p);

    /* block, match: allowed one second before, refused at the instant */
    p = policy_for("localhost", ENF, expires, PINCURL_ON_EXPIRY_BLOCK,
                   (const char *const[]){"leaf-ec", "p384", NULL});
    v = run(p, "localhost", path, n, expires - 1);
    cr_assert_eq(v.expiry, PINCURL_EXPIRY_VALID);
    cr_assert_eq(v.result, PINCURL_RESULT_SUCCESS);
    cr_assert_eq(v.decision, PINCURL_DECISION_ALLOW);
    v = run(p, "localhost", path, n, expires);
    cr_assert_eq(v.result, PINCURL_RESULT_POLICY_EXPIRED);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    pincurl_policy_unref(p);
}

/* A policy with two domains: one with its own expiry (and optionally its own on_expiry),
 * one without; the policy's expiry and action as given. Pins p256/p384 (a mismatch on the
 * genuine path) or leaf-ec/p384 (a match). */
static pincurl_policy *two_domains(int64_t policy_expires, pincurl_on_expiry policy_action,
                                   int64_t domain_expires, int domain_action,
                                   const char *const *pin_files)
{
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    cr_assert_eq(pincurl_policy_builder_set_expiry(b, policy_expires, policy_action), PINCURL_OK);
    const char *hosts[] = {"own.example", "plain.example"};
    for (size_t h = 0; h < 2; h++) {
        size_t idx;
        cr_assert_eq(pincurl_policy_builder_add_domain(b, hosts[h], ENF, &idx), PINCURL_OK);
        for (size_t i = 0; pin_files[i] != NULL; i++) {
            pincurl_pin p = openssl_pin(pin_files[i]);
            cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &p), PINCURL_OK);
        }
        if (h == 0) {
            cr_assert_eq(pincurl_policy_builder_set_domain_expiry(b, idx, domain_expires),
                         PINCURL_OK);
            if (domain_action >= 0)
                cr_assert_eq(pincurl_policy_builder_set_domain_on_expiry(
                                 b, idx, (pincurl_on_expiry)domain_action),
                             PINCURL_OK);
        }
    }
    pincurl_policy *policy = NULL;
    cr_assert_eq(pincurl_policy_builder_finish(b, &policy, NULL), PINCURL_OK);
    pincurl_policy_builder_free(b);
    return policy;
}

#define MISMATCH ((const char *const[]){"p256", "p384", NULL})
#define MATCH ((const char *const[]){"leaf-ec", "p384", NULL})

/* One domain's expiry ends its own pinning, not the other domain's (the policy has none). */
Test(evaluate, domain_expiry_is_per_domain)
{
    pincurl_policy *p = two_domains(0, PINCURL_ON_EXPIRY_REPORT_AND_ALLOW, NOW - 86400, -1,
                                    MISMATCH);
    pincurl_cert_ref path[3];
    size_t n = genuine_path(path);
    pincurl_verdict v = run(p, "own.example", path, n, NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_PIN_MISMATCH);
    cr_assert_eq(v.decision, PINCURL_DECISION_ALLOW);
    cr_assert_eq(v.expiry, PINCURL_EXPIRY_NONE); /* the policy's, as before */
    cr_assert_eq(v.expires, 0);
    cr_assert_eq(v.domain_expires, NOW - 86400);
    cr_assert_eq(v.effective_expires, NOW - 86400);
    cr_assert_eq(v.effective_expiry, PINCURL_EXPIRY_EXPIRED);
    cr_assert_eq(v.effective_on_expiry, PINCURL_ON_EXPIRY_REPORT_AND_ALLOW);
    v = run(p, "plain.example", path, n, NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_PIN_MISMATCH);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    cr_assert_eq(v.domain_expires, 0);
    cr_assert_eq(v.effective_expires, 0);
    cr_assert_eq(v.effective_expiry, PINCURL_EXPIRY_NONE);
    /* before its expiry the domain is enforced */
    v = run(p, "own.example", path, n, NOW - 86401);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    cr_assert_eq(v.effective_expiry, PINCURL_EXPIRY_VALID);
    pincurl_policy_unref(p);
}

/* A domain's on_expiry defaults to the policy's; its own overrides it, at the exact instant. */
Test(evaluate, domain_on_expiry_default_and_own)
{
    pincurl_cert_ref path[3];
    size_t n = genuine_path(path);
    pincurl_policy *p = two_domains(0, PINCURL_ON_EXPIRY_BLOCK, NOW, -1, MATCH);
    pincurl_verdict v = run(p, "own.example", path, n, NOW - 1);
    cr_assert_eq(v.result, PINCURL_RESULT_SUCCESS);
    cr_assert_eq(v.effective_on_expiry, PINCURL_ON_EXPIRY_BLOCK);
    v = run(p, "own.example", path, n, NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_POLICY_EXPIRED);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    v = run(p, "plain.example", path, n, NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_SUCCESS);
    pincurl_policy_unref(p);

    p = two_domains(0, PINCURL_ON_EXPIRY_BLOCK, NOW, PINCURL_ON_EXPIRY_REPORT_AND_ALLOW, MATCH);
    v = run(p, "own.example", path, n, NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_SUCCESS);
    cr_assert_eq(v.decision, PINCURL_DECISION_ALLOW);
    cr_assert_eq(v.effective_expiry, PINCURL_EXPIRY_EXPIRED);
    cr_assert_eq(v.effective_on_expiry, PINCURL_ON_EXPIRY_REPORT_AND_ALLOW);
    pincurl_policy_unref(p);
}

/* With both expiries the earlier ends the pinning, and any passed one that blocks blocks. */
Test(evaluate, policy_and_domain_expiry_together)
{
    pincurl_cert_ref path[3];
    size_t n = genuine_path(path);
    /* the domain's (report_and_allow) first, then the policy's (block) */
    pincurl_policy *p = two_domains(NOW + 100, PINCURL_ON_EXPIRY_BLOCK, NOW - 100,
                                    PINCURL_ON_EXPIRY_REPORT_AND_ALLOW, MATCH);
    pincurl_verdict v = run(p, "own.example", path, n, NOW);
    cr_assert_eq(v.effective_expires, NOW - 100);
    cr_assert_eq(v.effective_expiry, PINCURL_EXPIRY_EXPIRED);
    cr_assert_eq(v.expiry, PINCURL_EXPIRY_VALID);
    cr_assert_eq(v.result, PINCURL_RESULT_SUCCESS);
    cr_assert_eq(v.effective_on_expiry, PINCURL_ON_EXPIRY_REPORT_AND_ALLOW);
    v = run(p, "own.example", path, n, NOW + 100);
    cr_assert_eq(v.result, PINCURL_RESULT_POLICY_EXPIRED);
    cr_assert_eq(v.effective_on_expiry, PINCURL_ON_EXPIRY_BLOCK);
    v = run(p, "plain.example", path, n, NOW);
    cr_assert_eq(v.effective_expires, NOW + 100);
    cr_assert_eq(v.effective_expiry, PINCURL_EXPIRY_VALID);
    cr_assert_eq(v.effective_on_expiry, PINCURL_ON_EXPIRY_BLOCK);
    pincurl_policy_unref(p);

    /* the policy's comes first: a later domain expiry does not extend the pinning */
    p = two_domains(NOW - 100, PINCURL_ON_EXPIRY_REPORT_AND_ALLOW, NOW + 100,
                    PINCURL_ON_EXPIRY_BLOCK, MISMATCH);
    v = run(p, "own.example", path, n, NOW);
    cr_assert_eq(v.effective_expires, NOW - 100);
    cr_assert_eq(v.result, PINCURL_RESULT_PIN_MISMATCH);
    cr_assert_eq(v.decision, PINCURL_DECISION_ALLOW);
    v = run(p, "own.example", path, n, NOW - 101);
    cr_assert_eq(v.effective_on_expiry, PINCURL_ON_EXPIRY_REPORT_AND_ALLOW);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    v = run(p, "own.example", path, n, NOW + 100);
    cr_assert_eq(v.result, PINCURL_RESULT_POLICY_EXPIRED);
    pincurl_policy_unref(p);

    /* the same instant: block if either blocks */
    p = two_domains(NOW, PINCURL_ON_EXPIRY_REPORT_AND_ALLOW, NOW, PINCURL_ON_EXPIRY_BLOCK,
                    MATCH);
    v = run(p, "own.example", path, n, NOW - 1);
    cr_assert_eq(v.effective_on_expiry, PINCURL_ON_EXPIRY_BLOCK);
    v = run(p, "own.example", path, n, NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_POLICY_EXPIRED);
    pincurl_policy_unref(p);
}

/* ------------------------------------------------------------------------------------ */
/* Hosts the policy does not pin                                                         */

Test(evaluate, host_not_in_policy)
{
    pincurl_policy *p = enforcing((const char *const[]){"p256", "p384", NULL});
    pincurl_cert_ref path[3];
    size_t n = genuine_path(path);
    pincurl_verdict v = run(p, "other.example", path, n, NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_NOT_PINNED);
    cr_assert_eq(v.decision, PINCURL_DECISION_ALLOW);
    cr_assert_eq(v.pinned, 0);
    cr_assert_null(v.domain);
    cr_assert_null(v.noted_host);
    cr_assert_eq(v.matched_depth, -1);
    cr_assert_eq(v.path_len, 0);
    /* ordinary validation decides about a missing path */
    v = run(p, "other.example", NULL, 0, NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_NOT_PINNED);
    cr_assert_eq(v.decision, PINCURL_DECISION_ALLOW);
    pincurl_policy_unref(p);
}

Test(evaluate, excluded_host)
{
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    size_t idx;
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "example.com", INC | ENF, &idx),
                 PINCURL_OK);
    pincurl_pin a = openssl_pin("p256"), c = openssl_pin("p384");
    cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &a), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &c), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "legacy.example.com",
                                                   PINCURL_DOMAIN_EXCLUDE, NULL),
                 PINCURL_OK);
    pincurl_policy *p = NULL;
    cr_assert_eq(pincurl_policy_builder_finish(b, &p, NULL), PINCURL_OK);
    pincurl_policy_builder_free(b);

    pincurl_cert_ref path[3];
    size_t n = genuine_path(path);
    pincurl_verdict v = run(p, "x.legacy.example.com", path, n, NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_NOT_PINNED);
    cr_assert_eq(v.decision, PINCURL_DECISION_ALLOW);
    cr_assert_eq(v.pinned, 0);
    cr_assert_str_eq(v.noted_host, "legacy.example.com");
    /* its parent is still pinned */
    v = run(p, "api.example.com", path, n, NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_PIN_MISMATCH);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    cr_assert_eq(v.include_subdomains, 1);
    cr_assert_str_eq(v.noted_host, "example.com");
    pincurl_policy_unref(p);
}

Test(evaluate, host_forms_are_normalised)
{
    pincurl_policy *p = enforcing((const char *const[]){"leaf-ec", "p256", NULL});
    pincurl_cert_ref path[3];
    size_t n = genuine_path(path);
    pincurl_verdict v = run(p, "LOCALHOST.", path, n, NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_SUCCESS);
    pincurl_policy_unref(p);

    p = policy_for("::1", ENF, 0, PINCURL_ON_EXPIRY_BLOCK,
                   (const char *const[]){"p256", "p384", NULL});
    v = run(p, "[::1]", path, n, NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_PIN_MISMATCH);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    cr_assert_str_eq(v.noted_host, "::1");
    pincurl_policy_unref(p);
}

/* ------------------------------------------------------------------------------------ */
/* Refusals                                                                              */

Test(evaluate, empty_path_for_pinned_host)
{
    pincurl_policy *p = enforcing((const char *const[]){"leaf-ec", "p256", NULL});
    pincurl_verdict v = run(p, "localhost", NULL, 0, NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_INVALID_CHAIN);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    cr_assert_eq(v.pinned, 1);
    cr_assert_eq(v.path_len, 0);
    pincurl_policy_unref(p);
}

Test(evaluate, garbage_der_is_spki_error_even_report_only)
{
    pincurl_policy *p = policy_for("localhost", 0, 0, PINCURL_ON_EXPIRY_REPORT_AND_ALLOW,
                                   (const char *const[]){"leaf-ec", NULL});
    static const unsigned char garbage[] = {0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x00, 0xff};
    pincurl_cert_ref path[3] = {load("leaf-ec"), {garbage, sizeof garbage}, load("root")};
    pincurl_verdict v = run(p, "localhost", path, 3, NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_SPKI_ERROR);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    cr_assert_eq(v.matched_depth, -1);

    /* a NULL certificate in the path is refused the same way */
    path[1] = (pincurl_cert_ref){NULL, 0};
    v = run(p, "localhost", path, 3, NOW);
    cr_assert_eq(v.result, PINCURL_RESULT_SPKI_ERROR);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    pincurl_policy_unref(p);
}

Test(evaluate, invalid_arguments)
{
    pincurl_policy *p = enforcing((const char *const[]){"leaf-ec", "p256", NULL});
    pincurl_cert_ref path[PINCURL_MAX_PATH + 1];
    for (size_t i = 0; i < PINCURL_MAX_PATH + 1; i++)
        path[i] = load("leaf-ec");
    pincurl_verdict v;

    memset(&v, 0xa5, sizeof v);
    cr_assert_eq(pincurl_evaluate(p, "localhost", 443, path, PINCURL_MAX_PATH + 1, NULL, 0, NOW,
                                  &v),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(v.result, PINCURL_RESULT_INVALID_PARAMETERS);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    cr_assert_eq(v.matched_depth, -1);
    cr_assert_eq(v.path_len, 0);
    cr_assert_null(v.domain);

    /* the longest path accepted */
    cr_assert_eq(pincurl_evaluate(p, "localhost", 443, path, PINCURL_MAX_PATH, NULL, 0, NOW, &v),
                 PINCURL_OK);
    cr_assert_eq(v.result, PINCURL_RESULT_SUCCESS);
    cr_assert_eq(v.path_len, PINCURL_MAX_PATH);

    cr_assert_eq(pincurl_evaluate(NULL, "localhost", 443, path, 1, NULL, 0, NOW, &v),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(v.result, PINCURL_RESULT_INVALID_PARAMETERS);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    cr_assert_eq(pincurl_evaluate(p, NULL, 443, path, 1, NULL, 0, NOW, &v),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    cr_assert_eq(pincurl_evaluate(p, "localhost", 443, NULL, 2, NULL, 0, NOW, &v),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    cr_assert_eq(pincurl_evaluate(p, "localhost", 443, path, 1, NULL, 2, NOW, &v),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    cr_assert_eq(pincurl_evaluate(p, "localhost", 443, path, 1, NULL, 0, NOW, NULL),
                 PINCURL_INVALID_ARGUMENT);
    /* a host that does not normalise is refused, never treated as unpinned */
    cr_assert_eq(pincurl_evaluate(p, "b\xc3\xbc"
                                     "cher.example",
                                  443, path, 1, NULL, 0, NOW, &v),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(v.result, PINCURL_RESULT_INVALID_PARAMETERS);
    cr_assert_eq(v.decision, PINCURL_DECISION_BLOCK);
    pincurl_policy_unref(p);
}

/* ------------------------------------------------------------------------------------ */
/* What the verdict carries                                                              */

Test(evaluate, path_pins_are_every_path_pin)
{
    pincurl_policy *p = enforcing((const char *const[]){"p256", "p384", NULL});
    pincurl_cert_ref path[3];
    pincurl_verdict v = run(p, "localhost", path, genuine_path(path), NOW);
    cr_assert_eq(v.path_len, 3);
    const char *names[] = {"leaf-ec", "inter", "root"};
    for (size_t i = 0; i < 3; i++) {
        pincurl_pin want = openssl_pin(names[i]);
        cr_assert_eq(memcmp(v.path_pins[i].sha256, want.sha256, 32), 0, "path pin %zu (%s)", i,
                     names[i]);
    }
    pincurl_pin zero;
    memset(&zero, 0, sizeof zero);
    for (size_t i = 3; i < PINCURL_MAX_PATH; i++)
        cr_assert_eq(memcmp(v.path_pins[i].sha256, zero.sha256, 32), 0);
    pincurl_policy_unref(p);
}

Test(evaluate, served_chain_comparison)
{
    pincurl_policy *p = enforcing((const char *const[]){"p256", "rogue-root", NULL});
    pincurl_verdict v;

    /* padded chain: the server sends the genuine inter and root after a rogue leaf, while
     * validation built rogue-leaf -> rogue-root */
    pincurl_cert_ref served[4] = {load("rogue-leaf"), load("inter"), load("root")};
    pincurl_cert_ref path[3] = {load("rogue-leaf"), load("rogue-root")};
    cr_assert_eq(pincurl_evaluate(p, "localhost", 443, path, 2, served, 3, NOW, &v), PINCURL_OK);
    cr_assert_eq(v.served_differs, 1);
    cr_assert_eq(v.result, PINCURL_RESULT_SUCCESS);
    cr_assert_eq(v.matched_depth, 1);

    /* leaf, inter served; leaf, inter, root validated: the root is not sent, no difference */
    genuine_path(path);
    served[0] = load("leaf-ec");
    served[1] = load("inter");
    cr_assert_eq(pincurl_evaluate(p, "localhost", 443, path, 3, served, 2, NOW, &v), PINCURL_OK);
    cr_assert_eq(v.served_differs, 0);
    /* the full chain served is the same */
    served[2] = load("root");
    cr_assert_eq(pincurl_evaluate(p, "localhost", 443, path, 3, served, 3, NOW, &v), PINCURL_OK);
    cr_assert_eq(v.served_differs, 0);
    /* an extra certificate after the root differs */
    served[3] = load("rogue-root");
    cr_assert_eq(pincurl_evaluate(p, "localhost", 443, path, 3, served, 4, NOW, &v), PINCURL_OK);
    cr_assert_eq(v.served_differs, 1);
    /* a different leaf differs */
    served[0] = load("leaf-backup");
    cr_assert_eq(pincurl_evaluate(p, "localhost", 443, path, 3, served, 2, NOW, &v), PINCURL_OK);
    cr_assert_eq(v.served_differs, 1);
    /* nothing served: nothing to compare */
    cr_assert_eq(pincurl_evaluate(p, "localhost", 443, path, 3, NULL, 0, NOW, &v), PINCURL_OK);
    cr_assert_eq(v.served_differs, 0);
    pincurl_policy_unref(p);
}

Test(evaluate, result_names)
{
    cr_assert_str_eq(pincurl_result_name(PINCURL_RESULT_SUCCESS), "SUCCESS");
    cr_assert_str_eq(pincurl_result_name(PINCURL_RESULT_PIN_MISMATCH), "PIN_MISMATCH");
    cr_assert_str_eq(pincurl_result_name(PINCURL_RESULT_INVALID_CHAIN), "INVALID_CHAIN");
    cr_assert_str_eq(pincurl_result_name(PINCURL_RESULT_INVALID_PARAMETERS),
                     "INVALID_PARAMETERS");
    cr_assert_str_eq(pincurl_result_name(PINCURL_RESULT_SPKI_ERROR), "SPKI_ERROR");
    cr_assert_str_eq(pincurl_result_name(PINCURL_RESULT_NOT_PINNED), "NOT_PINNED");
    cr_assert_str_eq(pincurl_result_name(PINCURL_RESULT_POLICY_EXPIRED), "POLICY_EXPIRED");
    cr_assert_str_eq(pincurl_result_name((pincurl_result)4), "UNKNOWN");
    cr_assert_eq(PINCURL_RESULT_PIN_MISMATCH, 1); /* TrustKit's numbers */
    cr_assert_eq(PINCURL_RESULT_SPKI_ERROR, 5);
}
