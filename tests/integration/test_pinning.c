/*
 * Pinning against real TLS peers on loopback: tests/servers/tls_server.py serving the test
 * PKI's chains, and mitmproxy intercepting. Every request goes through the public client
 * API with a policy loaded from JSON; every pin is computed by openssl at test time.
 */
#include "servers.h"
#include "support.h"

#include <criterion/criterion.h>
#include <pincurl/pincurl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SERVERS 4
#define PIN_BUF 64

static pt_server servers[MAX_SERVERS];
static int server_count;
static pt_mitm mitm;

static void teardown(void)
{
    for (int i = 0; i < server_count; i++)
        pt_server_stop(&servers[i]);
    server_count = 0;
    pt_mitm_stop(&mitm);
}

TestSuite(pinning, .fini = teardown, .timeout = 180);

/* ---- helpers ------------------------------------------------------------------------ */

static pt_server *start_server(const char *chain, const char *key, const char *name)
{
    cr_assert(server_count < MAX_SERVERS);
    pt_server *s = &servers[server_count++];
    pt_server_opts o = { .chain = chain, .key = key, .name = name };
    pt_server_start(s, &o);
    return s;
}

/* The openssl pin of a PKI certificate file. */
static void pin_of(const char *pki_name, char out[PIN_BUF])
{
    pt_openssl_cert_pin(pt_pki(pki_name), out, PIN_BUF);
}

static pincurl_pin parsed_pin(const char *text)
{
    pincurl_pin pin;
    cr_assert_eq(pincurl_pin_parse(text, strlen(text), &pin), PINCURL_OK, "bad pin %s", text);
    return pin;
}

static pincurl_policy *load_policy(const char *json)
{
    pincurl_policy *p = NULL;
    pincurl_diag diag;
    pincurl_status st = pincurl_policy_load_json(json, strlen(json), NULL, &p, &diag);
    cr_assert_eq(st, PINCURL_OK, "policy refused (%s): %s\n%s", pincurl_status_name(st),
                 diag.message, json);
    cr_assert_not_null(p);
    return p;
}

/* A policy with one domain: enforcing with pins a and b, or report-only with pin a. */
static pincurl_policy *pin_policy(const char *host, int enforce, const char *a, const char *b)
{
    char json[2048];
    char pins[512];
    if (b != NULL)
        snprintf(pins, sizeof pins, "\"%s\", \"%s\"", a, b);
    else
        snprintf(pins, sizeof pins, "\"%s\"", a);
    int n = snprintf(json, sizeof json,
                     "{\n"
                     "  \"pincurl_policy\": 1,\n"
                     "  \"expires\": \"2099-12-31\",\n"
                     "  \"on_expiry\": \"block\",\n"
                     "  \"domains\": {\n"
                     "    \"%s\": { \"enforce\": %s, \"pins\": [%s] }\n"
                     "  }\n"
                     "}\n",
                     host, enforce ? "true" : "false", pins);
    cr_assert(n > 0 && (size_t)n < sizeof json);
    return load_policy(json);
}

/* A policy pinning localhost to two keys that no test certificate carries. */
static pincurl_policy *foreign_pins_policy(const char *host)
{
    char a[PIN_BUF], b[PIN_BUF];
    pin_of("p256.pem", a);
    pin_of("p384.pem", b);
    return pin_policy(host, 1, a, b);
}

typedef struct client_setup {
    const char *ca_file;       /* absolute path */
    const char *proxy;         /* or NULL */
    int resolve_port;          /* map localhost:PORT to 127.0.0.1 when > 0 */
    pincurl_event_cb cb;
    void *user;
} client_setup;

/* A client owning policy (the caller's reference is handed over). */
static pincurl_client *make_client(pincurl_policy *policy, const client_setup *cs)
{
    pincurl_options *o = pincurl_options_new();
    cr_assert_not_null(o);
    cr_assert_eq(pincurl_options_set_ca_file(o, cs->ca_file), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_connect_timeout_ms(o, 5000), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_timeout_ms(o, 20000), PINCURL_OK);
    if (cs->proxy != NULL)
        cr_assert_eq(pincurl_options_set_proxy(o, cs->proxy), PINCURL_OK);
    if (cs->resolve_port > 0) {
        char entry[128];
        snprintf(entry, sizeof entry, "localhost:%d:127.0.0.1", cs->resolve_port);
        cr_assert_eq(pincurl_options_add_resolve(o, entry), PINCURL_OK);
    }
    if (cs->cb != NULL)
        cr_assert_eq(pincurl_options_set_event_callback(o, cs->cb, cs->user), PINCURL_OK);
    pincurl_client *c = NULL;
    pincurl_status st = pincurl_client_new(policy, o, &c);
    pincurl_options_free(o);
    pincurl_policy_unref(policy);
    cr_assert_eq(st, PINCURL_OK, "client_new: %s", pincurl_status_name(st));
    cr_assert_not_null(c);
    return c;
}

/* A simple client: CA file from the PKI, localhost mapped to 127.0.0.1 for port. */
static pincurl_client *simple_client(pincurl_policy *policy, const char *ca_name, int port)
{
    client_setup cs = { .ca_file = pt_pki(ca_name), .resolve_port = port };
    return make_client(policy, &cs);
}

/* GET https://localhost:PORT<path>; *out always receives a response. */
static pincurl_status get(pincurl_client *c, int port, const char *path,
                          pincurl_response **out)
{
    char url[256];
    snprintf(url, sizeof url, "https://localhost:%d%s", port, path);
    pincurl_request *r = pincurl_request_new("GET", url);
    cr_assert_not_null(r);
    *out = NULL;
    pincurl_status st = pincurl_client_perform(c, r, out);
    pincurl_request_free(r);
    cr_assert_not_null(*out, "no response object for %s", url);
    cr_assert_eq(pincurl_response_status(*out), st);
    return st;
}

static int body_is(const pincurl_response *resp, const char *text)
{
    size_t len = 0;
    const unsigned char *body = pincurl_response_body(resp, &len);
    return body != NULL && len == strlen(text) && memcmp(body, text, len) == 0;
}

/* A successful pinned GET of "/" that matched `pin` at `depth`. */
static void expect_pinned_success(pincurl_client *c, int port, const char *name,
                                  const char *pin, int depth)
{
    pincurl_response *resp;
    pincurl_status st = get(c, port, "/", &resp);
    cr_assert_eq(st, PINCURL_OK, "status %s: %s", pincurl_status_name(st),
                 pincurl_response_detail(resp));
    cr_assert_eq(pincurl_response_code(resp), 200);
    char expect[128];
    snprintf(expect, sizeof expect, "hello from %s", name);
    cr_assert(body_is(resp, expect), "unexpected body");
    cr_assert_str_eq(pincurl_response_detail(resp), "");
    const pincurl_verdict *v = pincurl_response_verdict(resp);
    cr_assert_not_null(v, "a pinned host must leave a verdict");
    cr_assert_eq(v->result, PINCURL_RESULT_SUCCESS);
    cr_assert_eq(v->decision, PINCURL_DECISION_ALLOW);
    cr_assert_eq(v->pinned, 1);
    cr_assert_eq(v->matched_depth, depth);
    pincurl_pin want = parsed_pin(pin);
    cr_assert(pincurl_pin_equal(&v->matched_pin, &want), "matched pin is not %s", pin);
    cr_assert(v->path_len > (size_t)depth);
    cr_assert(pincurl_pin_equal(&v->path_pins[depth], &want));
    pincurl_response_free(resp);
}

/* The server saw a connection (the handshake reached it) and not one request byte. */
static void expect_zero_request_bytes(const pt_server *s)
{
    cr_assert(pt_server_wait_closed(s, 5000), "server still has an open connection");
    cr_assert_geq(pt_server_connections(s), 1, "the client never reached the server");
    cr_assert_eq(pt_server_request_bytes(s), 0, "request bytes reached the server");
}

static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay != '\0'; hay++) {
        size_t i = 0;
        while (i < n && hay[i] != '\0') {
            char a = hay[i], b = needle[i];
            if (a >= 'A' && a <= 'Z')
                a = (char)(a - 'A' + 'a');
            if (b >= 'A' && b <= 'Z')
                b = (char)(b - 'A' + 'a');
            if (a != b)
                break;
            i++;
        }
        if (i == n)
            return 1;
    }
    return 0;
}

/* ---- which certificate a pin matches ---------------------------------------------- */

Test(pinning, leaf_pin_matches_at_depth_0)
{
    pt_server *s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "genuine");
    char leaf[PIN_BUF], unrelated[PIN_BUF];
    pin_of("leaf-ec.pem", leaf);
    pin_of("p256.pem", unrelated);
    pincurl_client *c = simple_client(pin_policy("localhost", 1, unrelated, leaf), "root.pem",
                                      s->port);
    expect_pinned_success(c, s->port, "genuine", leaf, 0);
    pincurl_client_free(c);
}

Test(pinning, intermediate_pin_matches_at_depth_1)
{
    pt_server *s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "genuine");
    char inter[PIN_BUF], unrelated[PIN_BUF];
    pin_of("inter.pem", inter);
    pin_of("p256.pem", unrelated);
    pincurl_client *c = simple_client(pin_policy("localhost", 1, inter, unrelated), "root.pem",
                                      s->port);
    expect_pinned_success(c, s->port, "genuine", inter, 1);
    pincurl_client_free(c);
}

Test(pinning, root_pin_matches_at_depth_2_when_root_is_not_sent)
{
    /* leaf-ec-chain.pem is leaf + intermediate: the root comes from the CA file only. */
    pt_server *s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "genuine");
    char root[PIN_BUF], unrelated[PIN_BUF];
    pin_of("root.pem", root);
    pin_of("p256.pem", unrelated);
    pincurl_client *c = simple_client(pin_policy("localhost", 1, root, unrelated), "root.pem",
                                      s->port);
    expect_pinned_success(c, s->port, "genuine", root, 2);
    pincurl_client_free(c);
}

Test(pinning, backup_pin_takes_over_after_key_rotation)
{
    char leaf[PIN_BUF], backup[PIN_BUF];
    pin_of("leaf-ec.pem", leaf);
    pin_of("leaf-backup.pem", backup);

    /* Before the rotation the primary key matches. */
    pt_server *before = start_server("leaf-ec-chain.pem", "leaf-ec.key", "before");
    pincurl_client *c = simple_client(pin_policy("localhost", 1, leaf, backup), "root.pem",
                                      before->port);
    expect_pinned_success(c, before->port, "before", leaf, 0);
    pincurl_client_free(c);

    /* After it, only the backup pin can match. */
    pt_server *after = start_server("leaf-backup-chain.pem", "leaf-backup.key", "after");
    c = simple_client(pin_policy("localhost", 1, leaf, backup), "root.pem", after->port);
    expect_pinned_success(c, after->port, "after", backup, 0);
    pincurl_client_free(c);
}

Test(pinning, rsa_leaf_pin_matches)
{
    pt_server *s = start_server("leaf-rsa-chain.pem", "leaf-rsa.key", "rsa");
    char leaf[PIN_BUF], unrelated[PIN_BUF];
    pin_of("leaf-rsa.pem", leaf);
    pin_of("p256.pem", unrelated);
    pincurl_client *c = simple_client(pin_policy("localhost", 1, leaf, unrelated), "root.pem",
                                      s->port);
    expect_pinned_success(c, s->port, "rsa", leaf, 0);
    pincurl_client_free(c);
}

/* ---- refusals ----------------------------------------------------------------------- */

Test(pinning, no_matching_pin_is_refused_before_any_request_byte)
{
    pt_server *s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "genuine");
    pincurl_client *c = simple_client(foreign_pins_policy("localhost"), "root.pem", s->port);
    pincurl_response *resp;
    pincurl_status st = get(c, s->port, "/", &resp);
    cr_assert_eq(st, PINCURL_PIN_MISMATCH, "got %s", pincurl_status_name(st));
    cr_assert_eq(pincurl_response_code(resp), 0);
    const pincurl_verdict *v = pincurl_response_verdict(resp);
    cr_assert_not_null(v);
    cr_assert_eq(v->result, PINCURL_RESULT_PIN_MISMATCH);
    cr_assert_eq(v->decision, PINCURL_DECISION_BLOCK);
    cr_assert_eq(v->matched_depth, -1);
    cr_assert_eq(v->path_len, 3);
    char leaf[PIN_BUF];
    pin_of("leaf-ec.pem", leaf);
    pincurl_pin leaf_pin = parsed_pin(leaf);
    cr_assert(pincurl_pin_equal(&v->path_pins[0], &leaf_pin));
    const char *detail = pincurl_response_detail(resp);
    cr_assert(strstr(detail, "localhost") != NULL, "detail does not name the host: %s", detail);
    cr_assert(strstr(detail, leaf) != NULL, "detail lacks the leaf's pin: %s", detail);
    pincurl_response_free(resp);
    pincurl_client_free(c);
    expect_zero_request_bytes(s);

    /* Control: the same request with localhost unpinned reaches the server. */
    c = simple_client(foreign_pins_policy("other.example"), "root.pem", s->port);
    st = get(c, s->port, "/", &resp);
    cr_assert_eq(st, PINCURL_OK, "got %s", pincurl_status_name(st));
    cr_assert_eq(pincurl_response_code(resp), 200);
    cr_assert_null(pincurl_response_verdict(resp));
    pincurl_response_free(resp);
    pincurl_client_free(c);
    cr_assert_gt(pt_server_request_bytes(s), 0);
}

Test(pinning, padded_chain_with_genuine_pins_is_refused)
{
    /* The rogue root is trusted (cas.pem). The server sends the rogue leaf followed by the
     * genuine intermediate and root: pinning the sent chain would match; the validated
     * path (rogue leaf -> rogue root) must not. */
    pt_server *s = start_server("padded-chain.pem", "rogue-leaf.key", "rogue");
    char inter[PIN_BUF], root[PIN_BUF], rogue_root[PIN_BUF], rogue_leaf[PIN_BUF];
    pin_of("inter.pem", inter);
    pin_of("root.pem", root);
    pin_of("rogue-root.pem", rogue_root);
    pin_of("rogue-leaf.pem", rogue_leaf);

    pincurl_client *c = simple_client(pin_policy("localhost", 1, inter, root), "cas.pem",
                                      s->port);
    pincurl_response *resp;
    pincurl_status st = get(c, s->port, "/", &resp);
    cr_assert_eq(st, PINCURL_PIN_MISMATCH, "got %s", pincurl_status_name(st));
    const pincurl_verdict *v = pincurl_response_verdict(resp);
    cr_assert_not_null(v);
    cr_assert_eq(v->result, PINCURL_RESULT_PIN_MISMATCH);
    cr_assert_eq(v->decision, PINCURL_DECISION_BLOCK);
    cr_assert_eq(v->served_differs, 1);
    cr_assert_eq(v->path_len, 2);
    pincurl_pin p0 = parsed_pin(rogue_leaf), p1 = parsed_pin(rogue_root);
    cr_assert(pincurl_pin_equal(&v->path_pins[0], &p0));
    cr_assert(pincurl_pin_equal(&v->path_pins[1], &p1));
    const char *detail = pincurl_response_detail(resp);
    cr_assert(strstr(detail, rogue_root) != NULL, "detail lacks the validated root: %s", detail);
    cr_assert(contains_ci(detail, "served"), "detail does not show the served chain: %s",
              detail);
    pincurl_response_free(resp);
    pincurl_client_free(c);
    expect_zero_request_bytes(s);

    /* Control: without pinning the padded chain validates (the rogue root is trusted). */
    c = simple_client(foreign_pins_policy("other.example"), "cas.pem", s->port);
    st = get(c, s->port, "/", &resp);
    cr_assert_eq(st, PINCURL_OK, "got %s", pincurl_status_name(st));
    cr_assert(body_is(resp, "hello from rogue"));
    pincurl_response_free(resp);
    pincurl_client_free(c);
}

Test(pinning, mitmproxy_interception_is_refused)
{
    if (!pt_mitm_available())
        cr_skip_test("mitmdump is not installed");
    pt_server *s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "genuine");
    pt_mitm_start(&mitm, "root.pem");

    /* The device trusts the genuine root and the interception CA. */
    const char *dir = pt_tmpdir("mitm-bundle");
    char bundle[1200];
    snprintf(bundle, sizeof bundle, "%s/bundle.pem", dir);
    cr_assert_eq(pt_system("cat '%s' '%s' > '%s'", pt_pki("root.pem"), mitm.ca_pem, bundle), 0);
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", mitm.port);

    char inter[PIN_BUF], root[PIN_BUF];
    pin_of("inter.pem", inter);
    pin_of("root.pem", root);
    client_setup cs = { .ca_file = bundle, .proxy = proxy };
    pincurl_client *c = make_client(pin_policy("localhost", 1, inter, root), &cs);
    pincurl_response *resp;
    pincurl_status st = get(c, s->port, "/", &resp);
    cr_assert_eq(st, PINCURL_PIN_MISMATCH, "got %s: %s", pincurl_status_name(st),
                 pincurl_response_detail(resp));
    const pincurl_verdict *v = pincurl_response_verdict(resp);
    cr_assert_not_null(v);
    cr_assert_eq(v->result, PINCURL_RESULT_PIN_MISMATCH);
    pincurl_response_free(resp);
    pincurl_client_free(c);
    cr_assert_eq(pt_server_request_bytes(s), 0, "a request reached the upstream server");

    /* Control: the interception is real. Unpinned, the proxied request succeeds... */
    c = make_client(foreign_pins_policy("other.example"), &cs);
    st = get(c, s->port, "/", &resp);
    cr_assert_eq(st, PINCURL_OK, "got %s: %s", pincurl_status_name(st),
                 pincurl_response_detail(resp));
    cr_assert_eq(pincurl_response_code(resp), 200);
    cr_assert(body_is(resp, "hello from genuine"));
    pincurl_response_free(resp);
    pincurl_client_free(c);
    cr_assert_gt(pt_server_request_bytes(s), 0);

    /* ...and a client that trusts only the genuine root does not accept the proxy's chain. */
    client_setup genuine_only = { .ca_file = pt_pki("root.pem"), .proxy = proxy };
    c = make_client(foreign_pins_policy("other.example"), &genuine_only);
    st = get(c, s->port, "/", &resp);
    cr_assert_eq(st, PINCURL_CERT_INVALID, "got %s", pincurl_status_name(st));
    pincurl_response_free(resp);
    pincurl_client_free(c);
}

Test(pinning, expired_leaf_is_a_certificate_failure)
{
    pt_server *s = start_server("leaf-expired-chain.pem", "leaf-expired.key", "expired");
    char inter[PIN_BUF], root[PIN_BUF];
    pin_of("inter.pem", inter);
    pin_of("root.pem", root);
    pincurl_client *c = simple_client(pin_policy("localhost", 1, inter, root), "root.pem",
                                      s->port);
    pincurl_response *resp;
    pincurl_status st = get(c, s->port, "/", &resp);
    cr_assert_eq(st, PINCURL_CERT_INVALID, "got %s", pincurl_status_name(st));
    pincurl_response_free(resp);
    pincurl_client_free(c);
    expect_zero_request_bytes(s);
}

Test(pinning, wrong_host_leaf_is_a_host_mismatch)
{
    pt_server *s = start_server("leaf-otherhost-chain.pem", "leaf-otherhost.key", "other");
    char inter[PIN_BUF], root[PIN_BUF];
    pin_of("inter.pem", inter);
    pin_of("root.pem", root);
    pincurl_client *c = simple_client(pin_policy("localhost", 1, inter, root), "root.pem",
                                      s->port);
    pincurl_response *resp;
    pincurl_status st = get(c, s->port, "/", &resp);
    cr_assert_eq(st, PINCURL_HOST_MISMATCH, "got %s", pincurl_status_name(st));
    pincurl_response_free(resp);
    pincurl_client_free(c);
    expect_zero_request_bytes(s);
}

Test(pinning, unpinned_host_gets_ordinary_validation)
{
    pt_server *genuine = start_server("leaf-ec-chain.pem", "leaf-ec.key", "genuine");
    pt_server *rogue = start_server("rogue-leaf.pem", "rogue-leaf.key", "rogue");

    pincurl_client *c = simple_client(foreign_pins_policy("other.example"), "root.pem",
                                      genuine->port);
    pincurl_response *resp;
    pincurl_status st = get(c, genuine->port, "/", &resp);
    cr_assert_eq(st, PINCURL_OK, "got %s", pincurl_status_name(st));
    cr_assert(body_is(resp, "hello from genuine"));
    cr_assert_null(pincurl_response_verdict(resp));
    pincurl_response_free(resp);
    pincurl_client_free(c);

    c = simple_client(foreign_pins_policy("other.example"), "root.pem", rogue->port);
    st = get(c, rogue->port, "/", &resp);
    cr_assert_eq(st, PINCURL_CERT_INVALID, "got %s", pincurl_status_name(st));
    pincurl_response_free(resp);
    pincurl_client_free(c);
    expect_zero_request_bytes(rogue);
}

/* ---- report-only -------------------------------------------------------------------- */

typedef struct seen_events {
    int count;
    pincurl_result result;
    pincurl_decision decision;
    int pinned;
    int enforce;
    char host[64];
    unsigned port;
} seen_events;

static void record_event(const pincurl_event *ev, void *user)
{
    seen_events *seen = user;
    if (pincurl_event_get_kind(ev) != PINCURL_EVENT_VALIDATION)
        return;
    seen->count++;
    seen->result = pincurl_event_result(ev);
    seen->decision = pincurl_event_decision(ev);
    seen->pinned = pincurl_event_verdict(ev)->pinned;
    seen->enforce = pincurl_event_verdict(ev)->enforce;
    snprintf(seen->host, sizeof seen->host, "%s", pincurl_event_host(ev));
    seen->port = pincurl_event_port(ev);
}

Test(pinning, report_only_mismatch_is_allowed_and_reported)
{
    pt_server *s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "genuine");
    char foreign[PIN_BUF];
    pin_of("p256.pem", foreign);
    seen_events seen;
    memset(&seen, 0, sizeof seen);
    client_setup cs = { .ca_file = pt_pki("root.pem"), .resolve_port = s->port,
                        .cb = record_event, .user = &seen };
    pincurl_client *c = make_client(pin_policy("localhost", 0, foreign, NULL), &cs);
    pincurl_response *resp;
    pincurl_status st = get(c, s->port, "/", &resp);
    cr_assert_eq(st, PINCURL_OK, "got %s", pincurl_status_name(st));
    cr_assert_eq(pincurl_response_code(resp), 200);
    cr_assert(body_is(resp, "hello from genuine"));
    pincurl_response_free(resp);
    pincurl_client_free(c);

    cr_assert_geq(seen.count, 1, "the validation callback was not called");
    cr_assert_eq(seen.result, PINCURL_RESULT_PIN_MISMATCH);
    cr_assert_eq(seen.decision, PINCURL_DECISION_ALLOW);
    cr_assert_eq(seen.pinned, 1);
    cr_assert_eq(seen.enforce, 0);
    cr_assert_str_eq(seen.host, "localhost");
    cr_assert_eq(seen.port, (unsigned)s->port);
}

/* ---- threads ------------------------------------------------------------------------ */

#define THREADS 8
#define REQUESTS_PER_THREAD 200
#define BAD_EVERY 10

typedef struct worker {
    pthread_t tid;
    pincurl_client *client;
    int good_port;
    int bad_port;
    int ok;
    int refused;
    int wrong;
    pincurl_status first_wrong;
} worker;

static void note_wrong(worker *w, pincurl_status st)
{
    if (w->wrong++ == 0)
        w->first_wrong = st;
}

static void *work(void *arg)
{
    worker *w = arg;
    char good_url[128], bad_url[128];
    snprintf(good_url, sizeof good_url, "https://localhost:%d/", w->good_port);
    snprintf(bad_url, sizeof bad_url, "https://localhost:%d/", w->bad_port);
    for (int i = 0; i < REQUESTS_PER_THREAD; i++) {
        pincurl_request *r = pincurl_request_new("GET", good_url);
        pincurl_response *resp = NULL;
        pincurl_status st = r != NULL ? pincurl_client_perform(w->client, r, &resp)
                                      : PINCURL_OUT_OF_MEMORY;
        if (st == PINCURL_OK && resp != NULL && pincurl_response_code(resp) == 200
            && body_is(resp, "hello from genuine"))
            w->ok++;
        else
            note_wrong(w, st);
        pincurl_response_free(resp);
        pincurl_request_free(r);

        if (i % BAD_EVERY == 0) {
            r = pincurl_request_new("GET", bad_url);
            resp = NULL;
            st = r != NULL ? pincurl_client_perform(w->client, r, &resp) : PINCURL_OUT_OF_MEMORY;
            if (st == PINCURL_PIN_MISMATCH)
                w->refused++;
            else
                note_wrong(w, st);
            pincurl_response_free(resp);
            pincurl_request_free(r);
        }
    }
    pt_thread_end();
    return NULL;
}

Test(pinning, threads_share_one_client)
{
    /* Both servers are trusted (cas.pem); only the genuine one matches the pins. */
    pt_server *good = start_server("leaf-ec-chain.pem", "leaf-ec.key", "genuine");
    pt_server *bad = start_server("rogue-leaf.pem", "rogue-leaf.key", "rogue");
    char inter[PIN_BUF], root[PIN_BUF];
    pin_of("inter.pem", inter);
    pin_of("root.pem", root);

    pincurl_options *o = pincurl_options_new();
    cr_assert_not_null(o);
    cr_assert_eq(pincurl_options_set_ca_file(o, pt_pki("cas.pem")), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_connect_timeout_ms(o, 5000), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_timeout_ms(o, 30000), PINCURL_OK);
    char entry[128];
    snprintf(entry, sizeof entry, "localhost:%d:127.0.0.1", good->port);
    cr_assert_eq(pincurl_options_add_resolve(o, entry), PINCURL_OK);
    snprintf(entry, sizeof entry, "localhost:%d:127.0.0.1", bad->port);
    cr_assert_eq(pincurl_options_add_resolve(o, entry), PINCURL_OK);
    pincurl_policy *policy = pin_policy("localhost", 1, inter, root);
    pincurl_client *c = NULL;
    cr_assert_eq(pincurl_client_new(policy, o, &c), PINCURL_OK);
    pincurl_options_free(o);
    pincurl_policy_unref(policy);

    worker w[THREADS];
    memset(w, 0, sizeof w);
    for (int i = 0; i < THREADS; i++) {
        w[i].client = c;
        w[i].good_port = good->port;
        w[i].bad_port = bad->port;
        cr_assert_eq(pthread_create(&w[i].tid, NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        cr_assert_eq(pthread_join(w[i].tid, NULL), 0);
    pincurl_client_free(c);

    int bad_per_thread = (REQUESTS_PER_THREAD + BAD_EVERY - 1) / BAD_EVERY;
    for (int i = 0; i < THREADS; i++) {
        cr_expect_eq(w[i].wrong, 0, "thread %d: %d unexpected outcomes, first %s", i,
                     w[i].wrong, pincurl_status_name(w[i].first_wrong));
        cr_expect_eq(w[i].ok, REQUESTS_PER_THREAD, "thread %d: %d of %d succeeded", i,
                     w[i].ok, REQUESTS_PER_THREAD);
        cr_expect_eq(w[i].refused, bad_per_thread, "thread %d: %d of %d refused", i,
                     w[i].refused, bad_per_thread);
    }
    cr_assert_gt(pt_server_request_bytes(good), 0);
    expect_zero_request_bytes(bad);
}
