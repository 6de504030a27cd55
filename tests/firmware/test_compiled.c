/*
 * The firmware library end to end: policies compiled at test time from the test PKI's pins
 * (make_policies.sh, `pincurl policy compile`), loaded with pincurl_policy_from_static()
 * and enforced on pinned requests to tests/servers/tls_server.py on loopback. Also the
 * firmware hooks: a fake clock makes the compiled policy's expiry take effect, a counting
 * allocator sees the client's allocations, and a due report reaches the event callback only.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pincurl/client.h"
#include "pincurl/static_policy.h"
#include "servers.h"
#include "support.h"

extern const pincurl_static_policy fw_policy_pinned;
extern const pincurl_static_policy fw_policy_other;
extern const pincurl_static_policy fw_policy_domain;

static pt_server server;

static void start(void)
{
    pt_server_opts o = {.chain = "leaf-ec-chain.pem", .key = "leaf-ec.key", .name = "fw"};
    pt_server_start(&server, &o);
}

static void stop(void)
{
    pt_server_stop(&server);
}

typedef struct seen {
    int validations;
    int report_queued;
    pincurl_status report_status;
} seen;

static void on_event(const pincurl_event *ev, void *user)
{
    seen *s = user;
    if (pincurl_event_get_kind(ev) == PINCURL_EVENT_VALIDATION)
        s->validations++;
    if (pincurl_event_get_kind(ev) == PINCURL_EVENT_REPORT_QUEUED) {
        s->report_queued++;
        s->report_status = pincurl_event_status(ev);
    }
}

static int64_t fake_now(void *ctx)
{
    return *(const int64_t *)ctx;
}

typedef struct counting {
    long live;
    long calls;
} counting;

static void *c_malloc(size_t n, void *ctx)
{
    counting *c = ctx;
    size_t *p = malloc(n + sizeof(size_t) * 2);
    if (p == NULL)
        return NULL;
    p[0] = n;
    c->live += (long)n;
    c->calls++;
    return p + 2;
}

static void c_free(void *ptr, void *ctx)
{
    counting *c = ctx;
    if (ptr == NULL)
        return;
    size_t *p = (size_t *)ptr - 2;
    c->live -= (long)p[0];
    free(p);
}

static void *c_realloc(void *ptr, size_t n, void *ctx)
{
    void *q = c_malloc(n, ctx);
    if (q != NULL && ptr != NULL) {
        size_t old = ((size_t *)ptr - 2)[0];
        memcpy(q, ptr, old < n ? old : n);
        c_free(ptr, ctx);
    }
    return q;
}

/* A client for the compiled policy sp; clock and alloc may be NULL. */
static pincurl_client *client_for(const pincurl_static_policy *sp, seen *s, const int64_t *clock,
                                  const pincurl_allocator *alloc)
{
    pincurl_policy *p = NULL;
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c = NULL;
    char entry[64];

    cr_assert_eq(pincurl_policy_from_static(sp, NULL, &p), PINCURL_OK);
    cr_assert_not_null(o);
    snprintf(entry, sizeof entry, "localhost:%d:127.0.0.1", server.port);
    cr_assert_eq(pincurl_options_add_resolve(o, entry), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_ca_file(o, pt_pki("root.pem")), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_timeout_ms(o, 20000), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_event_callback(o, on_event, s), PINCURL_OK);
    if (clock != NULL)
        cr_assert_eq(pincurl_options_set_clock(o, fake_now, (void *)clock), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_allocator(o, alloc), PINCURL_OK);
    cr_assert_eq(pincurl_client_new(p, o, &c), PINCURL_OK);
    pincurl_options_free(o);
    pincurl_policy_unref(p);
    return c;
}

static pincurl_status get(pincurl_client *c, long *code, char *body, size_t size)
{
    char url[128];
    pincurl_request *r;
    pincurl_response *resp = NULL;
    pincurl_status st;
    size_t len = 0;
    const unsigned char *b;

    snprintf(url, sizeof url, "https://localhost:%d/", server.port);
    r = pincurl_request_new("GET", url);
    cr_assert_not_null(r);
    st = pincurl_client_perform(c, r, &resp);
    pincurl_request_free(r);
    cr_assert_not_null(resp);
    *code = pincurl_response_code(resp);
    b = pincurl_response_body(resp, &len);
    snprintf(body, size, "%.*s", (int)len, b != NULL ? (const char *)b : "");
    pincurl_response_free(resp);
    return st;
}

TestSuite(compiled, .init = start, .fini = stop, .timeout = 60);

Test(compiled, the_generated_data_is_the_document)
{
    pincurl_policy *p = NULL;
    pincurl_pin leaf, inter;
    const pincurl_domain *d;

    cr_assert_eq(pincurl_policy_from_static(&fw_policy_pinned, NULL, &p), PINCURL_OK);
    pt_pki_pin("leaf-ec", &leaf);
    pt_pki_pin("inter", &inter);
    cr_assert_eq(pincurl_policy_expires(p), 1893456000); /* 2030-01-01 */
    cr_assert_eq(pincurl_policy_on_expiry(p), PINCURL_ON_EXPIRY_BLOCK);
    cr_assert_eq(pincurl_policy_domain_count(p), 2);
    cr_assert_eq(fw_policy_pinned.domain_count, 2);
    cr_assert_lt(strcmp(fw_policy_pinned.domains[0].host, fw_policy_pinned.domains[1].host), 0);
    d = pincurl_policy_lookup(p, "localhost", 9);
    cr_assert_not_null(d);
    cr_assert_eq(pincurl_domain_pin_count(d), 2);
    cr_assert(pincurl_pin_equal(pincurl_domain_pin(d, 0), &leaf) ||
              pincurl_pin_equal(pincurl_domain_pin(d, 1), &leaf));
    cr_assert(pincurl_pin_equal(pincurl_domain_pin(d, 0), &inter) ||
              pincurl_pin_equal(pincurl_domain_pin(d, 1), &inter));
    pincurl_policy_unref(p);
}

Test(compiled, matching_pins_succeed)
{
    seen s = {0};
    long code = 0;
    char body[128];
    pincurl_client *c = client_for(&fw_policy_pinned, &s, NULL, NULL);

    cr_assert_eq(get(c, &code, body, sizeof body), PINCURL_OK);
    cr_assert_eq(code, 200);
    cr_assert(strstr(body, "hello from fw") != NULL, "body: %s", body);
    cr_assert_geq(s.validations, 1);
    cr_assert_eq(s.report_queued, 0);
    pincurl_client_free(c);
}

Test(compiled, other_pins_are_refused_before_the_request)
{
    seen s = {0};
    long code = 0;
    char body[128];
    pincurl_client *c = client_for(&fw_policy_other, &s, NULL, NULL);

    cr_assert_eq(get(c, &code, body, sizeof body), PINCURL_PIN_MISMATCH);
    cr_assert_eq(code, 0);
    pincurl_client_free(c);
    pt_server_wait_closed(&server, 5000);
    cr_assert_eq(pt_server_request_bytes(&server), 0);
}

Test(compiled, a_fake_clock_makes_the_expiry_take_effect)
{
    seen s = {0};
    long code = 0;
    char body[128];
    int64_t now = 1893456000 - 86400; /* the day before the policy expires */
    pincurl_client *c = client_for(&fw_policy_pinned, &s, &now, NULL);

    cr_assert_eq(get(c, &code, body, sizeof body), PINCURL_OK);
    cr_assert_eq(code, 200);
    cr_assert_eq(s.report_queued, 0);
    now = 1893456000 + 86400; /* the day after: on_expiry block */
    cr_assert_eq(get(c, &code, body, sizeof body), PINCURL_POLICY_EXPIRED);
    cr_assert_eq(code, 0);
    /* firmware: the due report goes to the event callback only */
    cr_assert_geq(s.report_queued, 1);
    cr_assert_eq(s.report_status, PINCURL_UNSUPPORTED);
    now = 1893456000 - 86400;
    cr_assert_eq(get(c, &code, body, sizeof body), PINCURL_OK);
    pincurl_client_free(c);
}

/* A compiled domain entry keeps its own expiry and action: the day before it the matching
 * pins pass; the day after (on_expiry block, by the client's clock) the request is refused
 * before a byte is sent; the policy itself has no expiry. */
Test(compiled, a_domain_entry_expires_on_its_own)
{
    seen s = {0};
    long code = 0;
    char body[128];
    int64_t now = 1861920000 - 86400; /* the day before 2029-01-01 */
    pincurl_policy *p = NULL;
    const pincurl_domain *d;
    pincurl_client *c;

    cr_assert_eq(pincurl_policy_from_static(&fw_policy_domain, NULL, &p), PINCURL_OK);
    d = pincurl_policy_lookup(p, "localhost", 9);
    cr_assert_eq(pincurl_policy_expires(p), 0);
    cr_assert_eq(pincurl_domain_expires(d), 1861920000);
    cr_assert_eq(pincurl_domain_on_expiry(d), PINCURL_ON_EXPIRY_BLOCK);
    cr_assert_eq(fw_policy_domain.domains[0].expires, 1861920000);
    pincurl_policy_unref(p);

    c = client_for(&fw_policy_domain, &s, &now, NULL);
    cr_assert_eq(get(c, &code, body, sizeof body), PINCURL_OK);
    cr_assert_eq(code, 200);
    now = 1861920000 + 86400;
    cr_assert_eq(get(c, &code, body, sizeof body), PINCURL_POLICY_EXPIRED);
    cr_assert_eq(code, 0);
    pincurl_client_free(c);
}

Test(compiled, the_client_allocates_through_the_allocator)
{
    seen s = {0};
    long code = 0;
    char body[128];
    counting n = {0, 0};
    pincurl_allocator a = {c_malloc, c_realloc, c_free, &n};
    pincurl_client *c = client_for(&fw_policy_pinned, &s, NULL, &a);

    pincurl_allocator half = {c_malloc, NULL, c_free, &n};
    pincurl_options *o = pincurl_options_new();
    cr_assert_eq(pincurl_options_set_allocator(o, &half), PINCURL_INVALID_ARGUMENT);
    pincurl_options_free(o);
    cr_assert_geq(n.calls, 2); /* the client object and its monitor */
    cr_assert_gt(n.live, 0);
    cr_assert_eq(get(c, &code, body, sizeof body), PINCURL_OK);
    pincurl_client_free(c);
    cr_assert_eq(n.live, 0, "%ld bytes not freed through the allocator", n.live);
}
