/* The client end to end against the loopback HTTPS server: pinned requests, refusals and
 * their details, connection reuse, cleartext refusal, request and response options, and
 * the attach path on a raw libcurl handle. */
#include "servers.h"
#include "support.h"

#include "pincurl/client.h"
#include "pincurl/policy.h"

#include "http/http.h" /* the client's path cache, to see it used */

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- helpers -------------------------------------------------------------------------- */

/* The pin of a PKI certificate as pins.txt (openssl) has it. */
static pincurl_pin pki_pin(const char *name)
{
    size_t len = 0;
    unsigned char *text = pt_read_file(pt_pki("pins.txt"), &len);
    char *line = (char *)text;
    pincurl_pin pin;
    size_t nlen = strlen(name);
    int found = 0;

    memset(&pin, 0, sizeof(pin));
    while (line < (char *)text + len) {
        char *nl = memchr(line, '\n', (size_t)((char *)text + len - line));
        size_t l = nl != NULL ? (size_t)(nl - line) : (size_t)((char *)text + len - line);
        if (l > nlen + 1 && memcmp(line, name, nlen) == 0 && line[nlen] == ' ') {
            cr_assert_eq(pincurl_pin_parse(line + nlen + 1, l - nlen - 1, &pin), PINCURL_OK);
            found = 1;
            break;
        }
        line += l + 1;
    }
    free(text);
    cr_assert(found, "no pin for %s in pins.txt", name);
    return pin;
}

static void pin_text(const pincurl_pin *pin, char out[PINCURL_PIN_TEXT_SIZE])
{
    cr_assert_eq(pincurl_pin_format(pin, out, PINCURL_PIN_TEXT_SIZE), PINCURL_OK);
}

/* A policy pinning host (enforcing, exact) to the two named PKI certificates. */
static pincurl_policy *policy_for(const char *host, const char *pin1, const char *pin2)
{
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    pincurl_policy *p = NULL;
    size_t idx = 0;
    pincurl_pin a = pki_pin(pin1), c = pki_pin(pin2);

    cr_assert_not_null(b);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, host, PINCURL_DOMAIN_ENFORCE, &idx),
                 PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &a), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &c), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_finish(b, &p, NULL), PINCURL_OK);
    pincurl_policy_builder_free(b);
    return p;
}

static pincurl_policy *good_policy(void)
{
    return policy_for("localhost", "inter", "leaf-backup");
}

static pincurl_policy *bad_policy(void)
{
    return policy_for("localhost", "leaf-backup", "rogue-root");
}

typedef struct events {
    int count;
    pincurl_result result;
    pincurl_decision decision;
    size_t path_len;
    size_t served_len;
    unsigned port;
    char host[64];
    char detail[4096];
} events;

static void on_event(const pincurl_event *ev, void *user)
{
    events *e = user;
    if (pincurl_event_get_kind(ev) != PINCURL_EVENT_VALIDATION)
        return;
    e->count++;
    e->result = pincurl_event_result(ev);
    e->decision = pincurl_event_decision(ev);
    e->path_len = pincurl_event_path_count(ev);
    e->served_len = pincurl_event_served_count(ev);
    e->port = pincurl_event_port(ev);
    snprintf(e->host, sizeof(e->host), "%s", pincurl_event_host(ev));
    snprintf(e->detail, sizeof(e->detail), "%s", pincurl_event_message(ev));
}

/* A client trusting the test root, with the resolve pin for localhost. */
static pincurl_client *client_with(pincurl_policy *p, pincurl_options *o)
{
    pincurl_client *c = NULL;
    int own = o == NULL;
    if (own)
        o = pincurl_options_new();
    cr_assert_not_null(o);
    cr_assert_eq(pincurl_options_set_ca_file(o, pt_pki("root.pem")), PINCURL_OK);
    cr_assert_eq(pincurl_client_new(p, o, &c), PINCURL_OK);
    if (own)
        pincurl_options_free(o);
    return c;
}

static pt_server start_server(const char *chain, const char *key, const char *name)
{
    pt_server s;
    pt_server_opts o;
    memset(&o, 0, sizeof(o));
    o.chain = chain;
    o.key = key;
    o.name = name;
    pt_server_start(&s, &o);
    return s;
}

static pincurl_status get(pincurl_client *c, const char *url, pincurl_response **resp)
{
    pincurl_request *r = pincurl_request_new("GET", url);
    pincurl_status st;
    cr_assert_not_null(r);
    st = pincurl_client_perform(c, r, resp);
    pincurl_request_free(r);
    return st;
}

static void body_is(const pincurl_response *resp, const char *expected)
{
    size_t len = 0;
    const unsigned char *b = pincurl_response_body(resp, &len);
    cr_assert_eq(len, strlen(expected), "body length %zu, expected %zu", len, strlen(expected));
    cr_assert(memcmp(b, expected, len) == 0);
}

static int body_contains(const pincurl_response *resp, const char *needle)
{
    size_t len = 0;
    const unsigned char *b = pincurl_response_body(resp, &len);
    char *copy = malloc(len + 1);
    int found;
    cr_assert_not_null(copy);
    if (len > 0)
        memcpy(copy, b, len);
    copy[len] = '\0';
    found = strstr(copy, needle) != NULL;
    free(copy);
    return found;
}

/* Waits (at most 3 s) until the server logged n accepted connections. */
/* ---- pinned requests ------------------------------------------------------------------ */

Test(client, pinned_get_succeeds_with_path_verdict)
{
    pt_server s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "pinned");
    pincurl_policy *p = good_policy();
    pincurl_client *c = client_with(p, NULL);
    pincurl_response *resp = NULL;
    char url[128];
    const pincurl_verdict *v;
    pincurl_pin inter = pki_pin("inter"), root = pki_pin("root"), leaf = pki_pin("leaf-ec");

    /* the backend for the libcurl in use: wolfSSL's, or OpenSSL's for the system build */
    cr_assert(strcmp(pincurl_client_tls_backend(c), "wolfssl") == 0 ||
                  strcmp(pincurl_client_tls_backend(c), "openssl") == 0,
              "%s", pincurl_client_tls_backend(c));
    snprintf(url, sizeof(url), "https://localhost:%d/", s.port);
    cr_assert_eq(get(c, url, &resp), PINCURL_OK, "%s", pincurl_response_detail(resp));
    cr_assert_eq(pincurl_response_status(resp), PINCURL_OK);
    cr_assert_eq(pincurl_response_code(resp), 200);
    body_is(resp, "hello from pinned");
    cr_assert_str_eq(pincurl_response_detail(resp), "");
    cr_assert_str_eq(pincurl_response_effective_url(resp), url);
    cr_assert_str_eq(pincurl_response_header(resp, "server"), "pincurl-test/pinned");

    v = pincurl_response_verdict(resp);
    cr_assert_not_null(v);
    cr_assert_eq(v->result, PINCURL_RESULT_SUCCESS);
    cr_assert_eq(v->decision, PINCURL_DECISION_ALLOW);
    /* leaf, intermediate and the root the server did not send */
    cr_assert_eq(v->path_len, 3);
    cr_assert_eq(v->matched_depth, 1);
    cr_assert(pincurl_pin_equal(&v->matched_pin, &inter));
    cr_assert(pincurl_pin_equal(&v->path_pins[0], &leaf));
    cr_assert(pincurl_pin_equal(&v->path_pins[2], &root));
    /* the served chain (leaf, intermediate) is a prefix of the path */
    cr_assert_eq(v->served_differs, 0);

    pincurl_response_free(resp);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(client, mismatch_refused_before_any_request_byte)
{
    pt_server s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "pinned");
    pincurl_policy *p = bad_policy();
    pincurl_client *c = client_with(p, NULL);
    pincurl_response *resp = NULL;
    char url[128], text[PINCURL_PIN_TEXT_SIZE];
    const char *detail;
    const pincurl_verdict *v;
    const char *path_certs[] = {"leaf-ec", "inter", "root"};
    const char *policy_pins[] = {"leaf-backup", "rogue-root"};

    snprintf(url, sizeof(url), "https://localhost:%d/", s.port);
    cr_assert_eq(get(c, url, &resp), PINCURL_PIN_MISMATCH);
    cr_assert_eq(pincurl_response_status(resp), PINCURL_PIN_MISMATCH);
    cr_assert_eq(pincurl_response_code(resp), 0);
    v = pincurl_response_verdict(resp);
    cr_assert_not_null(v);
    cr_assert_eq(v->result, PINCURL_RESULT_PIN_MISMATCH);
    cr_assert_eq(v->decision, PINCURL_DECISION_BLOCK);
    cr_assert_eq(v->path_len, 3);

    detail = pincurl_response_detail(resp);
    cr_assert(strstr(detail, "Certificate pinning failure!") != NULL, "%s", detail);
    cr_assert(strstr(detail, "localhost:") != NULL, "%s", detail);
    cr_assert(strstr(detail, "PIN_MISMATCH") != NULL, "%s", detail);
    cr_assert(strstr(detail, "Pinned certificates for localhost:") != NULL, "%s", detail);
    cr_assert(strstr(detail, "CN=localhost") != NULL, "%s", detail);
    for (size_t i = 0; i < 3; i++) {
        pincurl_pin pin = pki_pin(path_certs[i]);
        pin_text(&pin, text);
        cr_assert(strstr(detail, text) != NULL, "%s not in %s", text, detail);
    }
    for (size_t i = 0; i < 2; i++) {
        pincurl_pin pin = pki_pin(policy_pins[i]);
        pin_text(&pin, text);
        cr_assert(strstr(detail, text) != NULL, "%s not in %s", text, detail);
    }

    cr_assert(pt_server_wait_closed(&s, 5000));
    cr_assert_eq(pt_server_connections(&s), 1);
    cr_assert_eq(pt_server_request_bytes(&s), 0);

    pincurl_response_free(resp);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(client, kept_alive_connection_is_reused_and_rechecked)
{
    pt_server s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "pinned");
    pincurl_policy *p = good_policy();
    events ev;
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c;
    pincurl_response *resp = NULL;
    char url[128];

    memset(&ev, 0, sizeof(ev));
    cr_assert_eq(pincurl_options_set_event_callback(o, on_event, &ev), PINCURL_OK);
    c = client_with(p, o);
    pincurl_options_free(o);
    snprintf(url, sizeof(url), "https://localhost:%d/", s.port);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(get(c, url, &resp), PINCURL_OK, "%s", pincurl_response_detail(resp));
        body_is(resp, "hello from pinned");
        pincurl_response_free(resp);
        resp = NULL;
    }
    /* one TLS connection, one evaluation, three requests */
    cr_assert_eq(pt_server_connections(&s), 1);
    cr_assert_eq(ev.count, 1);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(client, new_connection_reuses_cached_path_and_still_evaluates)
{
    pt_server s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "pinned");
    pincurl_policy *p = good_policy();
    events ev;
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c;
    pincurl_response *resp = NULL;
    pincurl_request *r;
    char url[128];
    unsigned long hits = 0, misses = 0;

    memset(&ev, 0, sizeof(ev));
    cr_assert_eq(pincurl_options_set_event_callback(o, on_event, &ev), PINCURL_OK);
    c = client_with(p, o);
    pincurl_options_free(o);
    snprintf(url, sizeof(url), "https://localhost:%d/", s.port);
    r = pincurl_request_new("GET", url);
    cr_assert_eq(pincurl_request_add_header(r, "Connection: close"), PINCURL_OK);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(pincurl_client_perform(c, r, &resp), PINCURL_OK);
        cr_assert_eq(pincurl_response_verdict(resp)->path_len, 3);
        pincurl_response_free(resp);
    }
    pincurl_request_free(r);
    cr_assert_eq(pt_server_connections(&s), 3);
    cr_assert_eq(ev.count, 3); /* every handshake evaluated */
    pc_path_cache_stats(c->cache, &hits, &misses);
    cr_assert_eq(misses, 1);
    cr_assert_eq(hits, 2);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(client, cleartext_to_pinned_host_never_connects)
{
    pt_server s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "pinned");
    pincurl_policy *p = good_policy();
    pincurl_client *c = client_with(p, NULL);
    pincurl_response *resp = NULL;
    char url[128];

    snprintf(url, sizeof(url), "http://localhost:%d/", s.port);
    cr_assert_eq(get(c, url, &resp), PINCURL_CLEARTEXT_PINNED);
    cr_assert(strstr(pincurl_response_detail(resp), "CLEARTEXT_PINNED") != NULL);
    pincurl_response_free(resp);
    /* also through the IPv4 literal when that is what the policy names */
    cr_assert_eq(pt_server_connections(&s), 0);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(client, redirect_to_cleartext_pinned_host_is_refused)
{
    pt_server s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "pinned");
    pincurl_policy *p = good_policy();
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c;
    pincurl_response *resp = NULL;
    char url[256];
    long first_bytes;

    cr_assert_eq(pincurl_options_set_max_redirects(o, 3), PINCURL_OK);
    c = client_with(p, o);
    pincurl_options_free(o);
    snprintf(url, sizeof(url), "https://localhost:%d/redirect?to=http://localhost:%d/", s.port,
             s.port);
    cr_assert_eq(get(c, url, &resp), PINCURL_CLEARTEXT_PINNED, "%s",
                 pincurl_response_detail(resp));
    first_bytes = pt_server_request_bytes(&s);
    cr_assert_gt(first_bytes, 0);
    pincurl_response_free(resp);
    /* The redirect itself was fetched over TLS; the http:// hop sent nothing. Whether it
     * opened a connection of its own (libcurl 7.88) or was handed the kept-alive TLS one
     * to the same host and port (libcurl 8.14 matches connections on host and port for
     * http:// too), the request check refused it before a byte went out. */
    {
        struct timespec settle = {0, 200 * 1000 * 1000};
        nanosleep(&settle, NULL);
    }
    long conns = pt_server_connections(&s);
    cr_assert(conns == 1 || conns == 2, "%ld connections", conns);
    cr_assert_eq(pt_server_request_bytes(&s), first_bytes);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(client, redirects_followed_and_bounded)
{
    pt_server s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "pinned");
    pincurl_policy *p = good_policy();
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c;
    pincurl_response *resp = NULL;
    char url[256], target[128];

    cr_assert_eq(pincurl_options_set_max_redirects(o, 2), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_max_redirects(o, 51), PINCURL_INVALID_ARGUMENT);
    c = client_with(p, o);
    pincurl_options_free(o);
    snprintf(target, sizeof(target), "https://localhost:%d/", s.port);
    snprintf(url, sizeof(url), "https://localhost:%d/redirect?to=%s", s.port, target);
    cr_assert_eq(get(c, url, &resp), PINCURL_OK, "%s", pincurl_response_detail(resp));
    body_is(resp, "hello from pinned");
    cr_assert_str_eq(pincurl_response_effective_url(resp), target);
    /* only the last response's headers */
    cr_assert_null(pincurl_response_header(resp, "Location"));
    pincurl_response_free(resp);

    snprintf(url, sizeof(url),
             "https://localhost:%d/redirect?to=/redirect%%3Fto%%3D/redirect%%253Fto%%253D/",
             s.port);
    cr_assert_eq(get(c, url, &resp), PINCURL_TOO_MANY_REDIRECTS, "%s",
                 pincurl_response_detail(resp));
    pincurl_response_free(resp);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(client, untrusted_and_wrong_host_certificates)
{
    pt_server rogue = start_server("rogue-leaf.pem", "rogue-leaf.key", "rogue");
    pt_server other = start_server("leaf-otherhost-chain.pem", "leaf-otherhost.key", "other");
    pincurl_policy *p = good_policy();
    events ev;
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c;
    pincurl_response *resp = NULL;
    char url[128];

    memset(&ev, 0, sizeof(ev));
    cr_assert_eq(pincurl_options_set_event_callback(o, on_event, &ev), PINCURL_OK);
    c = client_with(p, o);
    pincurl_options_free(o);

    snprintf(url, sizeof(url), "https://localhost:%d/", rogue.port);
    cr_assert_eq(get(c, url, &resp), PINCURL_CERT_INVALID, "%s", pincurl_response_detail(resp));
    {
        /* the detail names the TLS library's own error */
        char want[64];
        snprintf(want, sizeof(want), "%s error", pincurl_client_tls_backend(c));
        cr_assert(strstr(pincurl_response_detail(resp), want) != NULL, "%s",
                  pincurl_response_detail(resp));
    }
    cr_assert_eq(ev.count, 1);
    cr_assert_eq(ev.result, PINCURL_RESULT_INVALID_CHAIN);
    cr_assert_eq(ev.decision, PINCURL_DECISION_BLOCK);
    pincurl_response_free(resp);

    snprintf(url, sizeof(url), "https://localhost:%d/", other.port);
    cr_assert_eq(get(c, url, &resp), PINCURL_HOST_MISMATCH, "%s",
                 pincurl_response_detail(resp));
    /* wolfSSL's DOMAIN_NAME_MISMATCH, or OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH */
    cr_assert(strstr(pincurl_response_detail(resp),
                     strcmp(pincurl_client_tls_backend(c), "wolfssl") == 0 ? "-322"
                                                                            : "error 62") != NULL,
              "%s", pincurl_response_detail(resp));
    pincurl_response_free(resp);

    cr_assert(pt_server_wait_closed(&rogue, 5000));
    cr_assert(pt_server_wait_closed(&other, 5000));
    cr_assert_eq(pt_server_request_bytes(&rogue), 0);
    cr_assert_eq(pt_server_request_bytes(&other), 0);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&rogue);
    pt_server_stop(&other);
}

Test(client, unpinned_host_gets_ordinary_validation)
{
    pt_server s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "plain");
    pt_server rogue = start_server("rogue-leaf.pem", "rogue-leaf.key", "rogue");
    pincurl_policy *p = policy_for("pinned.example", "inter", "leaf-backup");
    events ev;
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c;
    pincurl_response *resp = NULL;
    char url[128];

    memset(&ev, 0, sizeof(ev));
    cr_assert_eq(pincurl_options_set_event_callback(o, on_event, &ev), PINCURL_OK);
    c = client_with(p, o);
    pincurl_options_free(o);
    snprintf(url, sizeof(url), "https://localhost:%d/", s.port);
    cr_assert_eq(get(c, url, &resp), PINCURL_OK, "%s", pincurl_response_detail(resp));
    body_is(resp, "hello from plain");
    cr_assert_null(pincurl_response_verdict(resp));
    pincurl_response_free(resp);

    snprintf(url, sizeof(url), "https://localhost:%d/", rogue.port);
    cr_assert_eq(get(c, url, &resp), PINCURL_CERT_INVALID, "%s", pincurl_response_detail(resp));
    pincurl_response_free(resp);
    cr_assert_eq(ev.count, 0);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
    pt_server_stop(&rogue);
}

Test(client, validation_callback_sees_each_evaluation)
{
    pt_server s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "pinned");
    pincurl_policy *good = good_policy(), *bad = bad_policy();
    events ev;
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c;
    pincurl_response *resp = NULL;
    char url[128];

    memset(&ev, 0, sizeof(ev));
    cr_assert_eq(pincurl_options_set_event_callback(o, on_event, &ev), PINCURL_OK);
    snprintf(url, sizeof(url), "https://localhost:%d/", s.port);

    c = client_with(good, o);
    cr_assert_eq(get(c, url, &resp), PINCURL_OK);
    pincurl_response_free(resp);
    cr_assert_eq(ev.count, 1);
    cr_assert_eq(ev.result, PINCURL_RESULT_SUCCESS);
    cr_assert_eq(ev.decision, PINCURL_DECISION_ALLOW);
    cr_assert_str_eq(ev.host, "localhost");
    cr_assert_eq(ev.port, (unsigned)s.port);
    cr_assert_eq(ev.path_len, 3);
    cr_assert_eq(ev.served_len, 2);
    cr_assert_str_eq(ev.detail, "");
    pincurl_client_free(c);

    c = client_with(bad, o);
    cr_assert_eq(get(c, url, &resp), PINCURL_PIN_MISMATCH);
    cr_assert_eq(ev.count, 2);
    cr_assert_eq(ev.result, PINCURL_RESULT_PIN_MISMATCH);
    cr_assert_eq(ev.decision, PINCURL_DECISION_BLOCK);
    cr_assert(strstr(ev.detail, "Certificate pinning failure!") != NULL, "%s", ev.detail);
    cr_assert_str_eq(ev.detail, pincurl_response_detail(resp));
    pincurl_response_free(resp);
    pincurl_client_free(c);

    pincurl_options_free(o);
    pincurl_policy_unref(good);
    pincurl_policy_unref(bad);
    pt_server_stop(&s);
}

Test(client, expired_policy_with_block_refuses)
{
    pt_server s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "pinned");
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    pincurl_policy *p = NULL;
    pincurl_client *c;
    pincurl_response *resp = NULL;
    size_t idx;
    pincurl_pin a = pki_pin("inter"), d = pki_pin("leaf-backup");
    char url[128];

    cr_assert_eq(pincurl_policy_builder_set_expiry(b, 1000000000, PINCURL_ON_EXPIRY_BLOCK),
                 PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "localhost", PINCURL_DOMAIN_ENFORCE, &idx),
                 PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &a), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &d), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_finish(b, &p, NULL), PINCURL_OK);
    pincurl_policy_builder_free(b);
    c = client_with(p, NULL);
    snprintf(url, sizeof(url), "https://localhost:%d/", s.port);
    cr_assert_eq(get(c, url, &resp), PINCURL_POLICY_EXPIRED, "%s", pincurl_response_detail(resp));
    cr_assert(strstr(pincurl_response_detail(resp), "POLICY_EXPIRED") != NULL);
    pincurl_response_free(resp);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

/* ---- request and response options ----------------------------------------------------- */

struct reader {
    const char *data;
    size_t len;
    size_t pos;
    int abort;
};

static size_t read_chunks(void *buf, size_t size, void *user)
{
    struct reader *r = user;
    size_t n = r->len - r->pos;
    if (r->abort)
        return (size_t)-1;
    if (n > 7)
        n = 7; /* several calls */
    if (n > size)
        n = size;
    memcpy(buf, r->data + r->pos, n);
    r->pos += n;
    return n;
}

struct sink {
    size_t total;
    int calls;
    size_t stop_after;
};

static size_t write_sink(const void *data, size_t len, void *user)
{
    struct sink *s = user;
    (void)data;
    s->calls++;
    s->total += len;
    if (s->stop_after > 0 && s->total >= s->stop_after)
        return 0;
    return len;
}

Test(client, request_options)
{
    pt_server s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "opts");
    pincurl_policy *p = good_policy();
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c;
    pincurl_request *r;
    pincurl_response *resp = NULL;
    char url[128];
    static const char text[] = "a body sent from a callback in pieces";
    struct reader rd = {text, sizeof(text) - 1, 0, 0};

    cr_assert_eq(pincurl_options_set_user_agent(o, "pincurl-test/1"), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_timeout_ms(o, 20000), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_connect_timeout_ms(o, 5000), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_timeout_ms(o, -1), PINCURL_INVALID_ARGUMENT);
    c = client_with(p, o);
    pincurl_options_free(o); /* the client has its own copy */

    /* user agent and custom headers */
    snprintf(url, sizeof(url), "https://localhost:%d/headers", s.port);
    r = pincurl_request_new("GET", url);
    cr_assert_eq(pincurl_request_add_header(r, "X-Pincurl-Test: yes"), PINCURL_OK);
    cr_assert_eq(pincurl_request_add_header(r, "no colon"), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_request_add_header(r, "X-Evil: a\r\nX-Injected: b"),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_client_perform(c, r, &resp), PINCURL_OK);
    cr_assert(body_contains(resp, "User-Agent: pincurl-test/1"));
    cr_assert(body_contains(resp, "X-Pincurl-Test: yes"));
    cr_assert(!body_contains(resp, "X-Injected"));
    cr_assert_eq(pincurl_response_header_count(resp) >= 3, 1);
    cr_assert_str_eq(pincurl_response_header_name(resp, 0), "Server");
    cr_assert_null(pincurl_response_header_name(resp, 1000));
    pincurl_response_free(resp);
    pincurl_request_free(r);

    /* POST from memory */
    snprintf(url, sizeof(url), "https://localhost:%d/echo", s.port);
    r = pincurl_request_new("POST", url);
    cr_assert_eq(pincurl_request_set_body(r, "ping=1", 6), PINCURL_OK);
    cr_assert_eq(pincurl_client_perform(c, r, &resp), PINCURL_OK);
    body_is(resp, "ping=1");
    pincurl_response_free(resp);
    pincurl_request_free(r);

    /* PUT from a callback, length known, then chunked */
    r = pincurl_request_new("PUT", url);
    cr_assert_eq(pincurl_request_set_body_callback(r, read_chunks, &rd, (int64_t)rd.len),
                 PINCURL_OK);
    cr_assert_eq(pincurl_client_perform(c, r, &resp), PINCURL_OK, "%s",
                 pincurl_response_detail(resp));
    body_is(resp, text);
    pincurl_response_free(resp);
    rd.pos = 0;
    cr_assert_eq(pincurl_request_set_body_callback(r, read_chunks, &rd, -1), PINCURL_OK);
    cr_assert_eq(pincurl_client_perform(c, r, &resp), PINCURL_OK);
    body_is(resp, text);
    pincurl_response_free(resp);
    rd.pos = 0;
    rd.abort = 1;
    cr_assert_eq(pincurl_client_perform(c, r, &resp), PINCURL_ABORTED_BY_CALLBACK);
    pincurl_response_free(resp);
    pincurl_request_free(r);

    /* HEAD: headers, no body */
    snprintf(url, sizeof(url), "https://localhost:%d/", s.port);
    r = pincurl_request_new("HEAD", url);
    cr_assert_eq(pincurl_client_perform(c, r, &resp), PINCURL_OK);
    cr_assert_eq(pincurl_response_code(resp), 200);
    cr_assert_null(pincurl_response_body(resp, NULL));
    cr_assert_str_eq(pincurl_response_header(resp, "content-length"), "15");
    pincurl_response_free(resp);
    pincurl_request_free(r);

    /* status codes are not failures */
    snprintf(url, sizeof(url), "https://localhost:%d/status?code=404", s.port);
    cr_assert_eq(get(c, url, &resp), PINCURL_OK);
    cr_assert_eq(pincurl_response_code(resp), 404);
    pincurl_response_free(resp);

    cr_assert_null(pincurl_request_new("GE T", url));
    cr_assert_null(pincurl_request_new("GET", "https://localhost/a b"));

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

/* A handle kept configured between plain requests (only the URL and the call's own options
 * set again) carries nothing of an earlier request into a later one: headers, credentials,
 * cookie, referer, encoding, a body, HEAD. The later requests reuse the connection, so they
 * ran on the kept handle. */
static pincurl_response *run(pincurl_client *c, pincurl_request *r)
{
    pincurl_response *resp = NULL;
    cr_assert_eq(pincurl_client_perform(c, r, &resp), PINCURL_OK, "%s",
                 resp != NULL ? pincurl_response_detail(resp) : "");
    return resp;
}

static void plain_get_carries_nothing(pincurl_client *c, const char *url)
{
    pincurl_request *r = pincurl_request_new("GET", url);
    pincurl_response *resp = run(c, r);
    static const char *const leaked[] = {"X-First", "Authorization", "Cookie", "Referer",
                                         "Accept-Encoding", "Content-Length", "Content-Type"};
    cr_assert_eq(pincurl_response_code(resp), 200);
    for (size_t i = 0; i < sizeof(leaked) / sizeof(leaked[0]); i++)
        cr_assert(!body_contains(resp, leaked[i]), "%s carried over into a plain GET",
                  leaked[i]);
    cr_assert(body_contains(resp, "Host: localhost"));
    cr_assert_eq(pincurl_response_info(resp)->num_connects, 0, "not the kept connection");
    cr_assert_str_eq(pincurl_response_info(resp)->effective_method, "GET");
    pincurl_response_free(resp);
    pincurl_request_free(r);
}

Test(client, nothing_of_one_request_carries_over_to_the_next)
{
    pt_server s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "kept");
    pincurl_policy *p = good_policy();
    pincurl_client *c = client_with(p, NULL);
    pincurl_request *r;
    pincurl_response *resp;
    char url[128], echo[128], root[128];

    snprintf(url, sizeof(url), "https://localhost:%d/headers", s.port);
    snprintf(echo, sizeof(echo), "https://localhost:%d/echo", s.port);
    snprintf(root, sizeof(root), "https://localhost:%d/", s.port);

    r = pincurl_request_new("GET", url); /* a plain GET with a header of its own */
    cr_assert_eq(pincurl_request_add_header(r, "X-First: 1"), PINCURL_OK);
    resp = run(c, r);
    cr_assert(body_contains(resp, "X-First: 1"));
    pincurl_response_free(resp);
    pincurl_request_free(r);
    plain_get_carries_nothing(c, url);

    r = pincurl_request_new("GET", url); /* everything a request can add */
    cr_assert_eq(pincurl_request_set_credentials(r, "alice", "secret"), PINCURL_OK);
    cr_assert_eq(pincurl_request_set_cookie(r, "session=abc"), PINCURL_OK);
    cr_assert_eq(pincurl_request_set_referer(r, "https://referer.test/", 0), PINCURL_OK);
    cr_assert_eq(pincurl_request_set_accept_encoding(r, "identity"), PINCURL_OK);
    resp = run(c, r);
    cr_assert(body_contains(resp, "Authorization: Basic"));
    cr_assert(body_contains(resp, "Cookie: session=abc"));
    cr_assert(body_contains(resp, "Referer: https://referer.test/"));
    pincurl_response_free(resp);
    pincurl_request_free(r);
    plain_get_carries_nothing(c, url);

    r = pincurl_request_new("POST", echo); /* a body */
    cr_assert_eq(pincurl_request_set_body(r, "ping=1", 6), PINCURL_OK);
    resp = run(c, r);
    body_is(resp, "ping=1");
    pincurl_response_free(resp);
    pincurl_request_free(r);
    plain_get_carries_nothing(c, url);

    r = pincurl_request_new("HEAD", root); /* no body asked for */
    resp = run(c, r);
    cr_assert_null(pincurl_response_body(resp, NULL));
    pincurl_response_free(resp);
    pincurl_request_free(r);
    r = pincurl_request_new("GET", root);
    resp = run(c, r);
    body_is(resp, "hello from kept");
    pincurl_response_free(resp);
    pincurl_request_free(r);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

/* The same on a multi, whose idle handles are kept configured too. */
static void on_multi_done(pincurl_call *call, pincurl_status st, pincurl_response *resp,
                          void *user)
{
    (void)call;
    cr_assert_eq(st, PINCURL_OK);
    *(pincurl_response **)user = resp;
}

static pincurl_response *run_on(pincurl_client *c, pincurl_multi *m, pincurl_request *r)
{
    pincurl_call *call = NULL;
    pincurl_response *resp = NULL;
    size_t running = 1;
    cr_assert_eq(pincurl_call_new(c, r, &call), PINCURL_OK);
    cr_assert_eq(pincurl_multi_add(m, call, on_multi_done, &resp), PINCURL_OK);
    pincurl_call_free(call);
    for (int i = 0; i < 200 && resp == NULL; i++)
        cr_assert_eq(pincurl_multi_poll(m, 100, &running), PINCURL_OK);
    cr_assert_not_null(resp, "the call did not end");
    return resp;
}

Test(client, nothing_of_one_call_carries_over_to_the_next_on_a_multi)
{
    pt_server s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "kept");
    pincurl_policy *p = good_policy();
    pincurl_client *c = client_with(p, NULL);
    pincurl_multi *m = NULL;
    pincurl_request *plain, *full;
    pincurl_response *resp;
    char url[128];

    cr_assert_eq(pincurl_multi_new(c, &m), PINCURL_OK);
    snprintf(url, sizeof(url), "https://localhost:%d/headers", s.port);
    plain = pincurl_request_new("GET", url);
    full = pincurl_request_new("GET", url);
    cr_assert_eq(pincurl_request_add_header(full, "X-First: 1"), PINCURL_OK);
    cr_assert_eq(pincurl_request_set_credentials(full, "alice", "secret"), PINCURL_OK);
    cr_assert_eq(pincurl_request_set_cookie(full, "session=abc"), PINCURL_OK);
    for (int round = 0; round < 2; round++) {
        resp = run_on(c, m, plain);
        cr_assert(!body_contains(resp, "X-First"));
        cr_assert(!body_contains(resp, "Authorization"));
        cr_assert(!body_contains(resp, "Cookie"));
        pincurl_response_free(resp);
        resp = run_on(c, m, full);
        cr_assert(body_contains(resp, "X-First: 1"));
        cr_assert(body_contains(resp, "Authorization: Basic"));
        cr_assert(body_contains(resp, "Cookie: session=abc"));
        pincurl_response_free(resp);
    }
    resp = run_on(c, m, plain);
    cr_assert(!body_contains(resp, "X-First"));
    cr_assert(!body_contains(resp, "Authorization"));
    cr_assert(!body_contains(resp, "Cookie"));
    cr_assert_eq(pincurl_response_info(resp)->num_connects, 0, "not the kept connection");
    pincurl_response_free(resp);

    pincurl_request_free(plain);
    pincurl_request_free(full);
    pincurl_multi_free(m);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(client, response_sinks_and_body_cap)
{
    pt_server s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "sinks");
    pincurl_policy *p = good_policy();
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c;
    pincurl_request *r;
    pincurl_response *resp = NULL;
    char url[128];
    struct sink sink = {0, 0, 0};
    const char *dir = pt_tmpdir("client-sinks");
    char out_path[1100];
    unsigned char *file;
    size_t file_len = 0;

    cr_assert_eq(pincurl_options_set_max_body_bytes(o, 1000), PINCURL_OK);
    c = client_with(p, o);
    pincurl_options_free(o);

    snprintf(url, sizeof(url), "https://localhost:%d/bytes?n=1000", s.port);
    cr_assert_eq(get(c, url, &resp), PINCURL_OK);
    pincurl_response_free(resp);

    snprintf(url, sizeof(url), "https://localhost:%d/bytes?n=1001", s.port);
    cr_assert_eq(get(c, url, &resp), PINCURL_RESPONSE_TOO_LARGE);
    cr_assert_null(pincurl_response_body(resp, NULL));
    pincurl_response_free(resp);

    /* streamed bodies are not capped */
    snprintf(url, sizeof(url), "https://localhost:%d/bytes?n=200000", s.port);
    r = pincurl_request_new("GET", url);
    cr_assert_eq(pincurl_request_set_write_callback(r, write_sink, &sink), PINCURL_OK);
    cr_assert_eq(pincurl_client_perform(c, r, &resp), PINCURL_OK);
    cr_assert_eq(sink.total, 200000);
    cr_assert_null(pincurl_response_body(resp, NULL));
    pincurl_response_free(resp);
    sink.total = 0;
    sink.stop_after = 1;
    cr_assert_eq(pincurl_client_perform(c, r, &resp), PINCURL_ABORTED_BY_CALLBACK);
    pincurl_response_free(resp);
    pincurl_request_free(r);

    snprintf(out_path, sizeof(out_path), "%s/body.bin", dir);
    snprintf(url, sizeof(url), "https://localhost:%d/bytes?n=5000", s.port);
    r = pincurl_request_new("GET", url);
    cr_assert_eq(pincurl_request_set_output_file(r, out_path), PINCURL_OK);
    cr_assert_eq(pincurl_client_perform(c, r, &resp), PINCURL_OK);
    pincurl_response_free(resp);
    pincurl_request_free(r);
    file = pt_read_file(out_path, &file_len);
    cr_assert_eq(file_len, 5000);
    cr_assert(memcmp(file, "abcdefghijklmnopqrstuvwxyzabc", 29) == 0);
    free(file);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(client, resolve_override_decides_on_the_host_name)
{
    pt_server s = start_server("leaf-otherhost-chain.pem", "leaf-otherhost.key", "other");
    pincurl_policy *p = policy_for("other.example", "inter", "leaf-backup");
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c;
    pincurl_response *resp = NULL;
    char url[128], entry[128];
    const pincurl_verdict *v;

    snprintf(entry, sizeof(entry), "other.example:%d:127.0.0.1", s.port);
    cr_assert_eq(pincurl_options_add_resolve(o, entry), PINCURL_OK);
    cr_assert_eq(pincurl_options_add_resolve(o, "nonsense"), PINCURL_INVALID_ARGUMENT);
    c = client_with(p, o);
    pincurl_options_free(o);
    snprintf(url, sizeof(url), "https://other.example:%d/", s.port);
    cr_assert_eq(get(c, url, &resp), PINCURL_OK, "%s", pincurl_response_detail(resp));
    body_is(resp, "hello from other");
    v = pincurl_response_verdict(resp);
    cr_assert_not_null(v);
    cr_assert_str_eq(v->noted_host, "other.example");
    pincurl_response_free(resp);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(client, transport_failures)
{
    pt_server s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "hang");
    pincurl_policy *p = good_policy();
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c;
    pincurl_response *resp = NULL;
    char url[128];

    cr_assert_eq(pincurl_options_set_timeout_ms(o, 700), PINCURL_OK);
    c = client_with(p, o);
    pincurl_options_free(o);

    snprintf(url, sizeof(url), "https://localhost:%d/hang", s.port);
    cr_assert_eq(get(c, url, &resp), PINCURL_TIMEOUT, "%s", pincurl_response_detail(resp));
    cr_assert(strstr(pincurl_response_detail(resp), "TIMEOUT") != NULL);
    pincurl_response_free(resp);

    cr_assert_eq(get(c, "https://no-such-host.invalid/", &resp), PINCURL_DNS);
    cr_assert(strstr(pincurl_response_detail(resp), "no-such-host.invalid") != NULL, "%s",
              pincurl_response_detail(resp));
    pincurl_response_free(resp);

    snprintf(url, sizeof(url), "https://127.0.0.1:%d/", pt_free_port());
    cr_assert_eq(get(c, url, &resp), PINCURL_CONNECT, "%s", pincurl_response_detail(resp));
    pincurl_response_free(resp);

    cr_assert_eq(get(c, "ftp://localhost/", &resp), PINCURL_BAD_URL);
    pincurl_response_free(resp);
    cr_assert_eq(get(c, "not-a-url", &resp), PINCURL_BAD_URL);
    pincurl_response_free(resp);
    cr_assert_eq(get(c, "https://", NULL), PINCURL_BAD_URL);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(client, argument_checks)
{
    pincurl_policy *p = good_policy();
    pincurl_client *c = NULL;
    pincurl_response *resp = NULL;

    cr_assert_eq(pincurl_client_new(NULL, NULL, &c), PINCURL_INVALID_ARGUMENT);
    cr_assert_null(c);
    cr_assert_eq(pincurl_client_new(p, NULL, NULL), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_client_new(p, NULL, &c), PINCURL_OK);
    cr_assert_eq(pincurl_client_perform(c, NULL, &resp), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_response_status(resp), PINCURL_INVALID_ARGUMENT);
    pincurl_response_free(resp);
    {
        pincurl_policy *q = pincurl_client_policy(c);
        cr_assert_eq(q, p);
        pincurl_policy_unref(q);
    }
    cr_assert_eq(pincurl_attach(c, NULL, NULL), PINCURL_INVALID_ARGUMENT);
    pincurl_client_free(c);
    pincurl_client_free(NULL);
    pincurl_response_free(NULL);
    pincurl_request_free(NULL);
    pincurl_options_free(NULL);
    pincurl_detach(NULL);
    cr_assert_str_eq(pincurl_response_detail(NULL), "");
    pincurl_policy_unref(p);
}

/* ---- attach ------------------------------------------------------------------------------ */

static size_t discard(char *data, size_t size, size_t nmemb, void *user)
{
    (void)data;
    (void)user;
    return size * nmemb;
}

static char raw_error[CURL_ERROR_SIZE];

static CURL *raw_handle(const char *url)
{
    CURL *e = curl_easy_init();
    cr_assert_not_null(e);
    raw_error[0] = '\0';
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, raw_error);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CAINFO, pt_pki("root.pem"));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    return e;
}

Test(client, attach_pins_a_raw_handle)
{
    pt_server s = start_server("leaf-ec-chain.pem", "leaf-ec.key", "attach");
    pincurl_policy *good = good_policy(), *bad = bad_policy();
    pincurl_client *cg = client_with(good, NULL), *cb = client_with(bad, NULL);
    pincurl_attachment *a = NULL;
    char url[128];
    CURL *e;
    CURLcode rc;
    long connects = -1;

    snprintf(url, sizeof(url), "https://localhost:%d/", s.port);
    e = raw_handle(url);

    cr_assert_eq(pincurl_attach(cg, e, &a), PINCURL_OK);
    rc = curl_easy_perform(e);
    cr_assert_eq(rc, CURLE_OK, "%d", (int)rc);
    cr_assert_eq(pincurl_attachment_status(a, (int)rc), PINCURL_OK);
    cr_assert_str_eq(pincurl_attachment_detail(a), "");
    /* a second request reuses the kept-alive connection, and is checked again */
    rc = curl_easy_perform(e);
    cr_assert_eq(rc, CURLE_OK);
    cr_assert_eq(curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects), CURLE_OK);
    cr_assert_eq(connects, 0);
    pincurl_detach(a);

    /* The same kept-alive connection under another client: no pin decision of that
     * client was recorded on it, so it is decided again, now, from the chain its own
     * handshake received and the connection's trust store: its pins do not match, and the
     * request is refused before it is sent. */
    cr_assert_eq(pincurl_attach(cb, e, &a), PINCURL_OK);
    {
        long before = pt_server_request_bytes(&s);
        rc = curl_easy_perform(e);
        cr_assert_neq(rc, CURLE_OK);
        cr_assert_eq(pincurl_attachment_status(a, (int)rc), PINCURL_PIN_MISMATCH, "%s",
                     pincurl_attachment_detail(a));
        cr_assert(strstr(pincurl_attachment_detail(a), "PIN_MISMATCH") != NULL);
        cr_assert_eq(pt_server_request_bytes(&s), before);
    }

    /* A fresh connection under the mismatching client: refused in the handshake. */
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    rc = curl_easy_perform(e);
    /* curl reports a refusing verify callback as 35 on wolfSSL, as 60 on OpenSSL; pincurl
     * says PIN_MISMATCH on both */
    cr_assert(rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION, "%d",
              (int)rc);
    cr_assert_eq(pincurl_attachment_status(a, (int)rc), PINCURL_PIN_MISMATCH);
    cr_assert(strstr(pincurl_attachment_detail(a), "Certificate pinning failure!") != NULL);
    /* a later unrelated failure is not confused with it */
    cr_assert_eq(pincurl_attachment_status(a, CURLE_COULDNT_RESOLVE_HOST), PINCURL_DNS);
    pincurl_detach(a);

    /* Detached: plain libcurl again. */
    rc = curl_easy_perform(e);
    cr_assert_eq(rc, CURLE_OK, "%d %s: %s", (int)rc, curl_easy_strerror(rc), raw_error);
    curl_easy_cleanup(e);

    /* Cleartext to the pinned host through an attached handle. */
    snprintf(url, sizeof(url), "http://localhost:%d/", s.port);
    e = raw_handle(url);
    cr_assert_eq(pincurl_attach(cg, e, &a), PINCURL_OK);
    {
        long before = pt_server_request_bytes(&s);
        rc = curl_easy_perform(e);
        cr_assert_eq(rc, CURLE_ABORTED_BY_CALLBACK, "%d", (int)rc);
        cr_assert_eq(pincurl_attachment_status(a, (int)rc), PINCURL_CLEARTEXT_PINNED);
        cr_assert(pt_server_wait_closed(&s, 5000));
        cr_assert_eq(pt_server_request_bytes(&s), before);
    }
    pincurl_detach(a);
    curl_easy_cleanup(e);

    pincurl_client_free(cg);
    pincurl_client_free(cb);
    pincurl_policy_unref(good);
    pincurl_policy_unref(bad);
    pt_server_stop(&s);
}
