/*
 * Allocation failure through policy loading, certificate loading and failure messages,
 * and the promise that evaluation allocates nothing.
 *
 * The k-th allocation fails, for every k from 1 until a run needs fewer than k
 * allocations. Allocations are counted through the pluggable allocator of common.h and,
 * for the cJSON parse tree, through cJSON's hooks (the loader never installs its own), so
 * both the library's and the parser's allocations fail in turn. Every failing run must
 * refuse with no policy (OUT_OF_MEMORY when the library's own allocation failed) and
 * return every block; the last run must load the same policy as an unconstrained load.
 */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/detail.h"
#include "pincurl/pincurl.h"
#include "pincurl/policy.h"
#include "support.h"
#ifdef PT_HAVE_FAIL_MALLOC
#include "fail_malloc.h"
#endif

/* ---- a counting allocator shared with cJSON's hooks --------------------------------- */

static struct {
    long calls;       /* allocations attempted since reset */
    long fail_at;     /* 1-based index of the allocation that fails; 0: none */
    int hit;          /* the failure was injected */
    int hit_in_cjson; /* ... in a cJSON allocation */
    long live_lib;    /* blocks live through the pincurl allocator */
    long live_json;   /* blocks live through cJSON's hooks */
} ac;

static void ac_reset(long fail_at)
{
    ac.calls = 0;
    ac.fail_at = fail_at;
    ac.hit = 0;
    ac.hit_in_cjson = 0;
}

static int ac_fail(int cjson)
{
    if (++ac.calls == ac.fail_at) {
        ac.hit = 1;
        ac.hit_in_cjson = cjson;
        return 1;
    }
    return 0;
}

static void *lib_malloc(size_t n, void *ctx)
{
    (void)ctx;
    if (ac_fail(0))
        return NULL;
    void *p = malloc(n);
    if (p != NULL)
        ac.live_lib++;
    return p;
}

static void *lib_realloc(void *ptr, size_t n, void *ctx)
{
    (void)ctx;
    if (ac_fail(0))
        return NULL;
    void *p = realloc(ptr, n);
    if (p != NULL && ptr == NULL)
        ac.live_lib++;
    return p;
}

static void lib_free(void *ptr, void *ctx)
{
    (void)ctx;
    if (ptr != NULL)
        ac.live_lib--;
    free(ptr);
}

static void *json_malloc(size_t n)
{
    if (ac_fail(1))
        return NULL;
    void *p = malloc(n);
    if (p != NULL)
        ac.live_json++;
    return p;
}

static void json_free(void *ptr)
{
    if (ptr != NULL)
        ac.live_json--;
    free(ptr);
}

static const pincurl_allocator counting = {lib_malloc, lib_realloc, lib_free, NULL};

static void install_json_hooks(void)
{
    cJSON_Hooks h = {json_malloc, json_free};
    cJSON_InitHooks(&h);
}

static void remove_json_hooks(void)
{
    cJSON_InitHooks(NULL);
}

TestSuite(alloc, .init = install_json_hooks, .fini = remove_json_hooks, .timeout = 120);

/* ---- documents ---------------------------------------------------------------------- */

/* A policy with every kind of value, pins computed by openssl from the test PKI. */
static char *rich_policy(void)
{
    char leaf[64], inter[64], root[64], p256[64], p384[64];
    pt_openssl_cert_pin(pt_pki("leaf-ec.pem"), leaf, sizeof leaf);
    pt_openssl_cert_pin(pt_pki("inter.pem"), inter, sizeof inter);
    pt_openssl_cert_pin(pt_pki("root.pem"), root, sizeof root);
    pt_openssl_cert_pin(pt_pki("p256.pem"), p256, sizeof p256);
    pt_openssl_cert_pin(pt_pki("p384.pem"), p384, sizeof p384);
    size_t cap = 8192;
    char *doc = malloc(cap);
    cr_assert_not_null(doc);
    int n = snprintf(doc, cap,
        "{\n"
        "  \"pincurl_policy\": 1,\n"
        "  \"expires\": \"2099-06-30T12:00:00Z\",\n"
        "  \"on_expiry\": \"block\",\n"
        "  \"report_uris\": [\"https://collector.example.com/a\", \"https://r.example.net/b\"],\n"
        "  \"domains\": {\n"
        "    \"localhost\": { \"pins\": [\"%s\", \"%s\"] },\n"
        "    \"api.example.com\": { \"include_subdomains\": true, \"pins\": [\"%s\", \"%s\", \"%s\"] },\n"
        "    \"legacy.api.example.com\": { \"exclude\": true },\n"
        "    \"metrics.example.org\": { \"enforce\": false, \"pins\": [\"%s\"] },\n"
        "    \"192.0.2.10\": { \"pins\": [\"%s\", \"%s\"] },\n"
        "    \"[2001:db8::1]\": { \"pins\": [\"%s\", \"%s\"] }\n"
        "  }\n"
        "}\n",
        leaf, p256, inter, root, p384, leaf, root, p256, leaf, inter);
    cr_assert(n > 0 && (size_t)n < cap);
    return doc;
}

/* Same shape: domains, flags, pins, URIs, expiry. */
static void expect_same_policy(const pincurl_policy *a, const pincurl_policy *b)
{
    cr_assert_eq(pincurl_policy_expires(a), pincurl_policy_expires(b));
    cr_assert_eq(pincurl_policy_on_expiry(a), pincurl_policy_on_expiry(b));
    cr_assert_eq(pincurl_policy_report_uri_count(a), pincurl_policy_report_uri_count(b));
    for (size_t i = 0; i < pincurl_policy_report_uri_count(a); i++)
        cr_assert_str_eq(pincurl_policy_report_uri(a, i), pincurl_policy_report_uri(b, i));
    cr_assert_eq(pincurl_policy_domain_count(a), pincurl_policy_domain_count(b));
    for (size_t i = 0; i < pincurl_policy_domain_count(a); i++) {
        const pincurl_domain *x = pincurl_policy_domain(a, i), *y = pincurl_policy_domain(b, i);
        cr_assert_str_eq(pincurl_domain_host(x), pincurl_domain_host(y));
        cr_assert_eq(pincurl_domain_flags(x), pincurl_domain_flags(y));
        cr_assert_eq(pincurl_domain_pin_count(x), pincurl_domain_pin_count(y));
        for (size_t j = 0; j < pincurl_domain_pin_count(x); j++)
            cr_assert(pincurl_pin_equal(pincurl_domain_pin(x, j), pincurl_domain_pin(y, j)));
    }
}

typedef pincurl_status (*load_fn)(const char *arg, size_t len, pincurl_policy **out,
                                  pincurl_diag *diag);

static pincurl_status load_mem(const char *doc, size_t len, pincurl_policy **out,
                               pincurl_diag *diag)
{
    return pincurl_policy_load_json(doc, len, &counting, out, diag);
}

static pincurl_status load_path(const char *path, size_t len, pincurl_policy **out,
                                pincurl_diag *diag)
{
    (void)len;
    return pincurl_policy_load_file(path, &counting, out, diag);
}

/* Fails allocation k = 1, 2, ... until a load needs fewer; returns the number of runs. */
static long every_failure(load_fn load, const char *arg, size_t len,
                          const pincurl_policy *reference)
{
    for (long k = 1;; k++) {
        cr_assert_lt(k, 100000, "no end to the allocations");
        pincurl_policy *p = (pincurl_policy *)&ac; /* must be overwritten */
        pincurl_diag diag;
        ac_reset(k);
        pincurl_status st = load(arg, len, &p, &diag);
        if (!ac.hit) {
            cr_assert_eq(st, PINCURL_OK, "run %ld without a failure: %s (%s)", k,
                         pincurl_status_name(st), diag.message);
            cr_assert_eq(ac.calls, k - 1, "allocation count changed between runs");
            expect_same_policy(p, reference);
            pincurl_policy_unref(p);
            cr_assert_eq(ac.live_lib, 0);
            cr_assert_eq(ac.live_json, 0);
            return k;
        }
        cr_assert_neq(st, PINCURL_OK, "allocation %ld failed, yet the load succeeded", k);
        cr_assert_null(p, "allocation %ld failed, yet a policy came back", k);
        cr_assert_eq(diag.status, st);
        if (!ac.hit_in_cjson)
            cr_assert_eq(st, PINCURL_OUT_OF_MEMORY, "allocation %ld: %s (%s)", k,
                         pincurl_status_name(st), diag.message);
        cr_assert_eq(ac.live_lib, 0, "allocation %ld failed: %ld blocks leaked", k, ac.live_lib);
        cr_assert_eq(ac.live_json, 0, "allocation %ld failed: %ld cJSON blocks leaked", k,
                     ac.live_json);
    }
}

Test(alloc, policy_load_json_every_allocation_fails_in_turn)
{
    char *doc = rich_policy();
    pincurl_policy *reference = NULL;
    pincurl_diag diag;
    ac_reset(0);
    cr_assert_eq(pincurl_policy_load_json(doc, strlen(doc), NULL, &reference, &diag), PINCURL_OK,
                 "%s", diag.message);
    long runs = every_failure(load_mem, doc, strlen(doc), reference);
    cr_assert_gt(runs, 10, "suspiciously few allocations (%ld)", runs - 1);
    cr_log_info("policy_load_json: %ld allocations, each failed once", runs - 1);
    pincurl_policy_unref(reference);
    free(doc);
}

Test(alloc, policy_load_file_every_allocation_fails_in_turn)
{
    char *doc = rich_policy();
    char path[1100];
    snprintf(path, sizeof path, "%s/policy.json", pt_tmpdir("alloc-policy-file"));
    pt_write_file(path, doc, strlen(doc));
    pincurl_policy *reference = NULL;
    cr_assert_eq(pincurl_policy_load_json(doc, strlen(doc), NULL, &reference, NULL), PINCURL_OK);
    long runs = every_failure(load_path, path, 0, reference);
    cr_assert_gt(runs, 10);
    pincurl_policy_unref(reference);
    free(doc);
}

Test(alloc, refused_document_under_allocation_failure_stays_refused)
{
    /* A document that is refused anyway: no allocation failure may turn it into a policy,
     * and the status is the document's own or OUT_OF_MEMORY. */
    static const char doc[] = "{\"pincurl_policy\":1,\"domains\":{\"a.example.com\":"
                              "{\"pins\":[\"sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"]}}}";
    for (long k = 1;; k++) {
        pincurl_policy *p = NULL;
        pincurl_diag diag;
        ac_reset(k);
        pincurl_status st = pincurl_policy_load_json(doc, strlen(doc), &counting, &p, &diag);
        cr_assert_null(p);
        cr_assert_eq(ac.live_lib, 0);
        cr_assert_eq(ac.live_json, 0);
        if (!ac.hit) {
            cr_assert_eq(st, PINCURL_POLICY_TOO_FEW_PINS, "%s", pincurl_status_name(st));
            break;
        }
        if (!ac.hit_in_cjson)
            cr_assert(st == PINCURL_OUT_OF_MEMORY || st == PINCURL_POLICY_TOO_FEW_PINS, "%s",
                      pincurl_status_name(st));
        else
            cr_assert_neq(st, PINCURL_OK);
    }
}

Test(alloc, cert_list_load_every_allocation_fails_in_turn)
{
    static const char *const files[] = {"leaf-ec-fullchain.pem", "leaf-ec.der", "cas.pem"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t len;
        unsigned char *data = pt_read_file(pt_pki(files[f]), &len);
        pincurl_cert_list *ref = NULL;
        cr_assert_eq(pincurl_cert_list_load(data, len, NULL, &ref), PINCURL_OK, "%s", files[f]);
        for (long k = 1;; k++) {
            pincurl_cert_list *list = (pincurl_cert_list *)&ac;
            ac_reset(k);
            pincurl_status st = pincurl_cert_list_load(data, len, &counting, &list);
            if (!ac.hit) {
                cr_assert_eq(st, PINCURL_OK);
                cr_assert_eq(pincurl_cert_list_count(list), pincurl_cert_list_count(ref));
                for (size_t i = 0; i < pincurl_cert_list_count(ref); i++) {
                    size_t a, b;
                    const unsigned char *x = pincurl_cert_list_der(list, i, &a);
                    const unsigned char *y = pincurl_cert_list_der(ref, i, &b);
                    cr_assert(a == b && memcmp(x, y, a) == 0);
                }
                pincurl_cert_list_free(list);
                cr_assert_eq(ac.live_lib, 0);
                break;
            }
            cr_assert_eq(st, PINCURL_OUT_OF_MEMORY, "%s, allocation %ld: %s", files[f], k,
                         pincurl_status_name(st));
            cr_assert_null(list);
            cr_assert_eq(ac.live_lib, 0, "%s, allocation %ld: leak", files[f], k);
        }
        pincurl_cert_list_free(ref);
        free(data);
    }
}

/* The lenient load keeps its skipped blocks in the list too: every allocation failure is
 * still OUT_OF_MEMORY and leaks nothing. */
Test(alloc, cert_list_load_skip_bad_every_allocation_fails_in_turn)
{
    size_t len;
    unsigned char *chain = pt_read_file(pt_pki("leaf-ec-fullchain.pem"), &len);
    size_t n = len + 200;
    char *data = malloc(n);
    cr_assert_not_null(data);
    /* a bad block first, then three good ones, then one more bad block */
    int w = snprintf(data, n, "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"
                              "%.*s-----BEGIN CERTIFICATE-----\nMIIB\n",
                     (int)len, (const char *)chain);
    cr_assert(w > 0 && (size_t)w < n);
    for (long k = 1;; k++) {
        pincurl_cert_list *list = (pincurl_cert_list *)&ac;
        ac_reset(k);
        pincurl_status st = pincurl_cert_list_load_ex((unsigned char *)data, (size_t)w,
                                                      PINCURL_CERT_LIST_SKIP_BAD, &counting,
                                                      &list);
        if (!ac.hit) {
            cr_assert_eq(st, PINCURL_OK);
            cr_assert_eq(pincurl_cert_list_count(list), 3);
            cr_assert_eq(pincurl_cert_list_skipped_count(list), 2);
            pincurl_cert_list_free(list);
            cr_assert_eq(ac.live_lib, 0);
            break;
        }
        cr_assert_eq(st, PINCURL_OUT_OF_MEMORY, "allocation %ld: %s", k, pincurl_status_name(st));
        cr_assert_null(list);
        cr_assert_eq(ac.live_lib, 0, "allocation %ld: leak", k);
    }
    free(data);
    free(chain);
}

/* ---- evaluation ---------------------------------------------------------------------- */

typedef struct chain {
    unsigned char *data;
    pincurl_cert_list *list;
    pincurl_cert_ref refs[PINCURL_MAX_PATH + 1];
    size_t n;
} chain;

static void chain_load(chain *c, const char *file)
{
    size_t len;
    c->data = pt_read_file(pt_pki(file), &len);
    cr_assert_eq(pincurl_cert_list_load(c->data, len, NULL, &c->list), PINCURL_OK, "%s", file);
    c->n = pincurl_cert_list_count(c->list);
    cr_assert_leq(c->n, PINCURL_MAX_PATH);
    for (size_t i = 0; i < c->n; i++)
        c->refs[i].der = pincurl_cert_list_der(c->list, i, &c->refs[i].len);
}

static void chain_free(chain *c)
{
    pincurl_cert_list_free(c->list);
    free(c->data);
}

Test(alloc, evaluate_allocates_nothing)
{
    char *doc = rich_policy();
    pincurl_policy *p = NULL;
    ac_reset(0);
    cr_assert_eq(pincurl_policy_load_json(doc, strlen(doc), &counting, &p, NULL), PINCURL_OK);
    free(doc);
    chain good, rogue;
    chain_load(&good, "leaf-ec-fullchain.pem");
    chain_load(&rogue, "rogue-leaf.pem");
    pincurl_cert_ref garbage = {(const unsigned char *)"\x30\x03\x02\x01\x00", 5};
    pincurl_cert_ref sixteen[PINCURL_MAX_PATH + 1];
    for (size_t i = 0; i <= PINCURL_MAX_PATH; i++)
        sixteen[i] = good.refs[0];

    struct {
        const char *host;
        const pincurl_cert_ref *path;
        size_t path_len;
        int64_t now;
        pincurl_result result;
        pincurl_decision decision;
    } cases[] = {
        {"localhost", good.refs, good.n, 1700000000, PINCURL_RESULT_SUCCESS, PINCURL_DECISION_ALLOW},
        {"LOCALHOST.", good.refs, good.n, 1700000000, PINCURL_RESULT_SUCCESS, PINCURL_DECISION_ALLOW},
        {"localhost", rogue.refs, rogue.n, 1700000000, PINCURL_RESULT_PIN_MISMATCH, PINCURL_DECISION_BLOCK},
        {"localhost", NULL, 0, 1700000000, PINCURL_RESULT_INVALID_CHAIN, PINCURL_DECISION_BLOCK},
        {"localhost", &garbage, 1, 1700000000, PINCURL_RESULT_SPKI_ERROR, PINCURL_DECISION_BLOCK},
        {"localhost", good.refs, good.n, 4102444800 + 86400 * 365, PINCURL_RESULT_POLICY_EXPIRED,
         PINCURL_DECISION_BLOCK},
        {"v2.api.example.com", good.refs, good.n, 1700000000, PINCURL_RESULT_SUCCESS,
         PINCURL_DECISION_ALLOW},
        {"x.legacy.api.example.com", rogue.refs, rogue.n, 1700000000, PINCURL_RESULT_NOT_PINNED,
         PINCURL_DECISION_ALLOW},
        {"metrics.example.org", rogue.refs, rogue.n, 1700000000, PINCURL_RESULT_PIN_MISMATCH,
         PINCURL_DECISION_ALLOW},
        {"[2001:DB8:0::1]", rogue.refs, rogue.n, 1700000000, PINCURL_RESULT_PIN_MISMATCH,
         PINCURL_DECISION_BLOCK},
        {"unpinned.example", rogue.refs, rogue.n, 1700000000, PINCURL_RESULT_NOT_PINNED,
         PINCURL_DECISION_ALLOW},
        {"bad host", good.refs, good.n, 1700000000, PINCURL_RESULT_SUCCESS,
         PINCURL_DECISION_BLOCK}, /* refused: INVALID_ARGUMENT */
        {"localhost", sixteen, PINCURL_MAX_PATH, 1700000000, PINCURL_RESULT_SUCCESS,
         PINCURL_DECISION_ALLOW},
        {"localhost", sixteen, PINCURL_MAX_PATH + 1, 1700000000, PINCURL_RESULT_SUCCESS,
         PINCURL_DECISION_BLOCK}, /* refused: INVALID_ARGUMENT */
    };

    long lib_before = ac.calls;
#ifdef PT_HAVE_FAIL_MALLOC
    fm_arm(0); /* count every allocation of the process, failing none */
#endif
    pincurl_verdict v[sizeof cases / sizeof cases[0]];
    pincurl_status st[sizeof cases / sizeof cases[0]];
    for (int round = 0; round < 100; round++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            st[i] = pincurl_evaluate(p, cases[i].host, 443, cases[i].path, cases[i].path_len,
                                     good.refs, good.n, cases[i].now, &v[i]);
#ifdef PT_HAVE_FAIL_MALLOC
    long process_allocs = fm_disarm();
    cr_assert_eq(process_allocs, 0, "pincurl_evaluate allocated %ld blocks", process_allocs);
#endif
    cr_assert_eq(ac.calls, lib_before, "pincurl_evaluate used the policy's allocator");

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(v[i].decision, cases[i].decision, "case %zu (%s)", i, cases[i].host);
        if (st[i] == PINCURL_OK)
            cr_assert_eq(v[i].result, cases[i].result, "case %zu (%s): %s", i, cases[i].host,
                         pincurl_result_name(v[i].result));
        else
            cr_assert_eq(st[i], PINCURL_INVALID_ARGUMENT);
    }
    cr_assert_eq(st[11], PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(st[13], PINCURL_INVALID_ARGUMENT);

    /* The failure message of a refused evaluation: every allocation fails in turn. */
    for (long k = 1;; k++) {
        char *text = (char *)&ac;
        ac_reset(k);
        pincurl_status s = pc_detail_pin_failure(&counting, p, &v[2], "localhost", 443,
                                                 rogue.refs, rogue.n, good.refs, good.n, &text);
        if (!ac.hit) {
            cr_assert_eq(s, PINCURL_OK);
            cr_assert(strstr(text, "Certificate pinning failure!") != NULL, "%s", text);
            counting.free_fn(text, NULL);
            break;
        }
        cr_assert_eq(s, PINCURL_OUT_OF_MEMORY, "allocation %ld: %s", k, pincurl_status_name(s));
        cr_assert_null(text);
    }
    pincurl_policy_unref(p);
    cr_assert_eq(ac.live_lib, 0);
    chain_free(&good);
    chain_free(&rogue);
}
