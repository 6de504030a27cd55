/*
 * Every handshake decided for the peer it is with, as an adversary would test it: proxy
 * strings in every spelling libcurl accepts (pincurl's reading against libcurl's own, seen
 * by a loopback listener), routes from the environment, an interceptor posing as the proxy
 * with a certificate the device trusts, handshakes of one request through a proxy, copied
 * and attached handles, other schemes, and what a TLS context keeps after its transfer.
 * Real peers on loopback: tests/servers/tls_server.py, sniffer.py, tinyproxy and stunnel.
 */
#include "servers.h"
#include "support.h"

#include "http/http.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pincurl/pincurl.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

TestSuite(handshakes, .timeout = 240);

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static pt_server start_tls(const char *chain, const char *key, const char *name)
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

/* One exact enforcing entry per (host, pin, pin) triple; a NULL host ends the list. */
static pincurl_policy *policy_of(const char *h1, const char *a1, const char *b1,
                                 const char *h2, const char *a2, const char *b2)
{
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    pincurl_policy *p = NULL;
    const char *hosts[2] = {h1, h2};
    const char *pins[2][2] = {{a1, b1}, {a2, b2}};
    cr_assert_not_null(b);
    for (int h = 0; h < 2 && hosts[h] != NULL; h++) {
        size_t idx = 0;
        cr_assert_eq(pincurl_policy_builder_add_domain(b, hosts[h], PINCURL_DOMAIN_ENFORCE,
                                                       &idx),
                     PINCURL_OK);
        for (int i = 0; i < 2; i++) {
            pincurl_pin pin;
            pt_pki_pin(pins[h][i], &pin);
            cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &pin), PINCURL_OK);
        }
    }
    cr_assert_eq(pincurl_policy_builder_finish(b, &p, NULL), PINCURL_OK);
    pincurl_policy_builder_free(b);
    return p;
}

typedef struct seen {
    int count;
    char host[16][PINCURL_HOST_MAX + 1];
    unsigned port[16];
    pincurl_pin leaf[16];
    pincurl_decision decision[16];
} seen;

static void on_event(const pincurl_event *ev, void *user)
{
    seen *s = user;
    if (pincurl_event_get_kind(ev) != PINCURL_EVENT_VALIDATION || s->count >= 16)
        return;
    snprintf(s->host[s->count], sizeof s->host[0], "%s", pincurl_event_host(ev));
    s->port[s->count] = pincurl_event_port(ev);
    const pincurl_verdict *v = pincurl_event_verdict(ev);
    s->decision[s->count] = v != NULL ? v->decision : PINCURL_DECISION_BLOCK;
    if (v != NULL && v->path_len > 0)
        s->leaf[s->count] = v->path_pins[0];
    s->count++;
}

static pincurl_client *client_with(pincurl_policy *p, const char *ca, const char *proxy,
                                   long redirects, seen *ev)
{
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c = NULL;
    cr_assert_not_null(o);
    cr_assert_eq(pincurl_options_set_ca_file(o, pt_pki(ca)), PINCURL_OK);
    if (proxy != NULL)
        cr_assert_eq(pincurl_options_set_proxy(o, proxy), PINCURL_OK, "%s", proxy);
    if (redirects > 0)
        cr_assert_eq(pincurl_options_set_max_redirects(o, redirects), PINCURL_OK);
    if (ev != NULL)
        cr_assert_eq(pincurl_options_set_event_callback(o, on_event, ev), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_connect_timeout_ms(o, 3000), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_timeout_ms(o, 10000), PINCURL_OK);
    cr_assert_eq(pincurl_client_new(p, o, &c), PINCURL_OK);
    pincurl_options_free(o);
    return c;
}

static pincurl_status get(pincurl_client *c, const char *url, pincurl_response **resp)
{
    pincurl_request *r = pincurl_request_new("GET", url);
    cr_assert_not_null(r);
    pincurl_status st = pincurl_client_perform(c, r, resp);
    pincurl_request_free(r);
    return st;
}

/* The kind of the sniffer's connection made after `before` connections ("none" if none). */
static void observed_since(const pt_sniffer *sn, long before, char out[16])
{
    char kinds[64][16];
    long n = 0;
    for (int i = 0; i < 100; i++) {
        n = pt_sniffer_connections(sn, kinds, 64);
        if (n > before)
            break;
        sleep_ms(20);
    }
    if (n > before && before < 64)
        snprintf(out, 16, "%s", kinds[before]);
    else
        snprintf(out, 16, "none");
}

/* What libcurl itself does with a proxy string: a plain handle, no pincurl. */
static void libcurl_through(const char *proxy, const char *url)
{
    CURL *e = curl_easy_init();
    cr_assert_not_null(e);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROXY, proxy);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    (void)curl_easy_perform(e);
    curl_easy_cleanup(e);
}

static const char *expected_kind(pincurl_status st, const pc_route *r)
{
    if (st != PINCURL_OK)
        return "none";
    switch (r->kind) {
    case PC_PROXY_HTTP: return "connect";
    case PC_PROXY_HTTPS: return "tls";
    case PC_PROXY_SOCKS4:
    case PC_PROXY_SOCKS4A: return "socks4";
    case PC_PROXY_SOCKS5:
    case PC_PROXY_SOCKS5H: return "socks5";
    default: return "?";
    }
}

/* ---- the route: pincurl's reading of a proxy string is libcurl's ---------------------- */

/* fmt with "PORT" standing for the listener's port */
static void with_port(char *out, size_t size, const char *fmt, int port)
{
    const char *at = strstr(fmt, "PORT");
    cr_assert_not_null(at);
    snprintf(out, size, "%.*s%d%s", (int)(at - fmt), fmt, port, at + 4);
}

static void compare_spelling(pt_sniffer *sn, const char *fmt)
{
    char proxy[160], why[256], seen_libcurl[16], seen_pincurl[16];
    pc_route r;
    with_port(proxy, sizeof proxy, fmt, sn->port);
    pincurl_status st = pc_route_parse(proxy, &r, why, sizeof why);
    const char *want = expected_kind(st, &r);
    if (st == PINCURL_OK)
        cr_assert_eq(r.port, (unsigned)sn->port, "%s: port %u", proxy, r.port);

    long before = pt_sniffer_connections(sn, NULL, 0);
    libcurl_through(proxy, "https://localhost:9/");
    observed_since(sn, before, seen_libcurl);
    cr_expect_str_eq(seen_libcurl, want, "%s: libcurl spoke %s, pincurl reads it as %s (%s)",
                     proxy, seen_libcurl, want, st == PINCURL_OK ? "" : why);

    /* and a client with that proxy takes the same route, or is refused when made */
    pincurl_options *o = pincurl_options_new();
    pincurl_status set = pincurl_options_set_proxy(o, proxy);
    cr_expect_eq(set, st, "%s: set_proxy %s", proxy, pincurl_status_name(set));
    if (set == PINCURL_OK) {
        pincurl_policy *p = policy_of("other.example", "p256", "p384", NULL, NULL, NULL);
        pincurl_client *c = NULL;
        pincurl_response *resp = NULL;
        cr_assert_eq(pincurl_options_set_connect_timeout_ms(o, 3000), PINCURL_OK);
        cr_assert_eq(pincurl_options_set_timeout_ms(o, 5000), PINCURL_OK);
        cr_assert_eq(pincurl_client_new(p, o, &c), PINCURL_OK);
        before = pt_sniffer_connections(sn, NULL, 0);
        (void)get(c, "https://localhost:9/", &resp);
        observed_since(sn, before, seen_pincurl);
        cr_expect_str_eq(seen_pincurl, want, "%s: through pincurl %s", proxy, seen_pincurl);
        pincurl_response_free(resp);
        pincurl_client_free(c);
        pincurl_policy_unref(p);
    }
    pincurl_options_free(o);
    pc_route_clear(&r);
}

Test(handshakes, every_proxy_spelling_is_read_as_libcurl_reads_it)
{
    pt_sniffer sn, sn6;
    static const char *const v4[] = {
        "http://127.0.0.1:PORT",        "HTTP://127.0.0.1:PORT",         "127.0.0.1:PORT",
        "https://127.0.0.1:PORT",       "HTTPS://127.0.0.1:PORT",        "Https://127.0.0.1:PORT",
        "https:/127.0.0.1:PORT",        "https:127.0.0.1:PORT",          "https:///127.0.0.1:PORT",
        "https://u:pw@127.0.0.1:PORT",  "HTTPS://u%40x:p%3Aw@127.0.0.1:PORT",
        "u:pw@127.0.0.1:PORT",          "socks4://127.0.0.1:PORT",       "socks://127.0.0.1:PORT",
        "SOCKS4A://127.0.0.1:PORT",     "socks5://127.0.0.1:PORT",       "Socks5h://127.0.0.1:PORT",
        "ftp://127.0.0.1:PORT",         "httpx://127.0.0.1:PORT",        "https://127.0.0.1:PORT/path",
    };
    static const char *const v6[] = {"[::1]:PORT", "https://[::1]:PORT", "HTTPS://[0:0::1]:PORT",
                                     "socks5h://[::1]:PORT"};

    pt_sniffer_start(&sn, NULL);
    for (size_t i = 0; i < sizeof v4 / sizeof v4[0]; i++)
        compare_spelling(&sn, v4[i]);
    pt_sniffer_start(&sn6, "::1");
    for (size_t i = 0; i < sizeof v6 / sizeof v6[0]; i++)
        compare_spelling(&sn6, v6[i]);
    pt_sniffer_stop(&sn6);
    pt_sniffer_stop(&sn);
}

/* ---- the route: the environment cannot change it ------------------------------------- */

static const char *const proxy_vars[] = {"https_proxy", "HTTPS_PROXY", "http_proxy",
                                         "ALL_PROXY",   "all_proxy",   NULL};

Test(handshakes, proxy_variables_of_the_environment_are_ignored)
{
    pt_sniffer sn;
    pt_server s = start_tls("leaf-ec-chain.pem", "leaf-ec.key", "direct");
    pincurl_policy *p = policy_of("localhost", "inter", "leaf-backup", NULL, NULL, NULL);
    char proxy[64], url[64], kind[16];
    pincurl_response *resp = NULL;

    pt_sniffer_start(&sn, NULL);
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", sn.port);
    snprintf(url, sizeof url, "https://localhost:%d/", s.port);
    for (int i = 0; proxy_vars[i] != NULL; i++)
        setenv(proxy_vars[i], proxy, 1);

    /* control: libcurl on its own follows the variable in this process */
    {
        CURL *e = curl_easy_init();
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
        (void)curl_easy_perform(e);
        curl_easy_cleanup(e);
        observed_since(&sn, 0, kind);
        cr_assert_str_eq(kind, "connect", "the variable did not reach libcurl (control)");
    }
    /* a client without a proxy goes straight to the origin */
    long before = pt_sniffer_connections(&sn, NULL, 0);
    pincurl_client *c = client_with(p, "root.pem", NULL, 0, NULL);
    cr_assert_eq(get(c, url, &resp), PINCURL_OK, "%s", pincurl_response_detail(resp));
    pincurl_response_free(resp);
    sleep_ms(200);
    cr_assert_eq(pt_sniffer_connections(&sn, NULL, 0), before);
    pincurl_client_free(c);
    for (int i = 0; proxy_vars[i] != NULL; i++)
        unsetenv(proxy_vars[i]);

    pincurl_policy_unref(p);
    pt_sniffer_stop(&sn);
    pt_server_stop(&s);
}

Test(handshakes, no_proxy_variables_cannot_take_a_request_around_the_proxy)
{
    pt_server s = start_tls("leaf-ec-chain.pem", "leaf-ec.key", "origin");
    pt_proxy px;
    pincurl_policy *p = policy_of("localhost", "inter", "leaf-backup", "127.0.0.1", "inter",
                                  "leaf-backup");
    char proxy[64], url[64];
    pincurl_response *resp = NULL;
    seen ev;

    memset(&ev, 0, sizeof ev);
    pt_proxy_start(&px, "leaf-ec-chain.pem", "leaf-ec.key");
    snprintf(proxy, sizeof proxy, "https://127.0.0.1:%d", px.port);
    snprintf(url, sizeof url, "https://localhost:%d/", s.port);
    setenv("NO_PROXY", "localhost,127.0.0.1", 1);
    setenv("no_proxy", "*", 1);
    pincurl_client *c = client_with(p, "root.pem", proxy, 0, &ev);
    cr_assert_eq(get(c, url, &resp), PINCURL_OK, "%s", pincurl_response_detail(resp));
    pincurl_response_free(resp);
    unsetenv("NO_PROXY");
    unsetenv("no_proxy");
    cr_assert_eq(pt_proxy_tunnels(&px), 1, "the request went around the proxy");
    /* the proxy's handshake was decided for the proxy, the origin's for the origin */
    cr_assert_eq(ev.count, 2);
    cr_assert_str_eq(ev.host[0], "127.0.0.1");
    cr_assert_eq(ev.port[0], (unsigned)px.port);
    cr_assert_str_eq(ev.host[1], "localhost");
    cr_assert_eq(ev.port[1], (unsigned)s.port);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_proxy_stop(&px);
    pt_server_stop(&s);
}

/* ---- an interceptor posing as the proxy ------------------------------------------------ */

Test(handshakes, an_interceptor_posing_as_the_proxy_gets_nothing_in_any_spelling)
{
    /* the interceptor: a certificate for the proxy's address from a root the device trusts
     * (cas.pem holds the genuine and the rogue root), not matching the proxy's pins */
    pt_server icpt = start_tls("rogue-leaf.pem", "rogue-leaf.key", "interceptor");
    pt_server s = start_tls("leaf-ec-chain.pem", "leaf-ec.key", "origin");
    /* the proxy (127.0.0.1) is pinned; the origin (localhost) is not named */
    pincurl_policy *p = policy_of("127.0.0.1", "inter", "leaf-backup", NULL, NULL, NULL);
    static const char *const spellings[] = {
        "https://user:secret@127.0.0.1:PORT", "HTTPS://user:secret@127.0.0.1:PORT",
        "Https://user:secret@127.0.0.1:PORT", "hTtPs://127.0.0.1:PORT", "https:/127.0.0.1:PORT",
    };
    char url[64];

    snprintf(url, sizeof url, "https://localhost:%d/", s.port);
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        char proxy[128];
        pc_route r;
        seen ev;
        pincurl_response *resp = NULL;
        with_port(proxy, sizeof proxy, spellings[i], icpt.port);
        if (pc_route_parse(proxy, &r, NULL, 0) != PINCURL_OK)
            continue; /* refused when set (the previous test compares that with libcurl) */
        pc_route_clear(&r);
        memset(&ev, 0, sizeof ev);
        pincurl_client *c = client_with(p, "cas.pem", proxy, 0, &ev);
        pincurl_status st = get(c, url, &resp);
        cr_assert_eq(st, PINCURL_PIN_MISMATCH, "%s: %s %s", proxy, pincurl_status_name(st),
                     pincurl_response_detail(resp));
        cr_assert_str_eq(pincurl_response_verdict(resp)->noted_host, "127.0.0.1", "%s", proxy);
        cr_assert(strstr(pincurl_response_detail(resp), "127.0.0.1") != NULL, "%s", proxy);
        cr_assert_eq(ev.count, 1);
        cr_assert_str_eq(ev.host[0], "127.0.0.1");
        cr_assert_eq(ev.port[0], (unsigned)icpt.port);
        pincurl_response_free(resp);
        pincurl_client_free(c);
        cr_assert(pt_server_wait_closed(&icpt, 5000));
        cr_assert_gt(pt_server_connections(&icpt), (long)0, "%s: never reached", proxy);
        cr_assert_eq(pt_server_request_bytes(&icpt), 0,
                     "%s: the interceptor received the CONNECT line", proxy);
    }
    cr_assert_eq(pt_server_request_bytes(&s), 0);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
    pt_server_stop(&icpt);
}

/* ---- every handshake of one request through a proxy --------------------------------- */

Test(handshakes, a_cleartext_hop_through_the_proxy_leaves_the_next_handshakes_their_peers)
{
    /* the proxy (127.0.0.1) serves leaf-ec, the https origin (localhost) leaf-rsa, both
     * named: each decision shows whose certificate it looked at. The first hop is http://
     * to an unnamed host (::1): a proxy handshake without an origin handshake. */
    pt_proxy px;
    pt_server plain, s = start_tls("leaf-rsa-chain.pem", "leaf-rsa.key", "origin");
    pt_server_opts po;
    pincurl_policy *p = policy_of("127.0.0.1", "inter", "leaf-backup", "localhost", "inter",
                                  "leaf-backup");
    pincurl_pin proxy_leaf, origin_leaf;
    char proxy[64], url[160];
    pincurl_response *resp = NULL;
    int proxy_decisions = 0, origin_decisions = 0;
    seen ev;

    memset(&po, 0, sizeof po);
    po.plain = 1;
    po.name = "plain";
    po.host = "::1";
    pt_server_start(&plain, &po);
    pt_proxy_start(&px, "leaf-ec-chain.pem", "leaf-ec.key");
    pt_pki_pin("leaf-ec", &proxy_leaf);
    pt_pki_pin("leaf-rsa", &origin_leaf);
    memset(&ev, 0, sizeof ev);
    snprintf(proxy, sizeof proxy, "https://127.0.0.1:%d", px.port);
    snprintf(url, sizeof url, "http://[::1]:%d/redirect?to=https://localhost:%d/", plain.port,
             s.port);
    pincurl_client *c = client_with(p, "root.pem", proxy, 3, &ev);
    cr_assert_eq(get(c, url, &resp), PINCURL_OK, "%s", pincurl_response_detail(resp));
    cr_assert_str_eq(pincurl_response_verdict(resp)->noted_host, "localhost");
    pincurl_response_free(resp);
    for (int i = 0; i < ev.count; i++) {
        cr_assert_eq(ev.decision[i], PINCURL_DECISION_ALLOW);
        if (strcmp(ev.host[i], "127.0.0.1") == 0) {
            proxy_decisions++;
            cr_assert_eq(ev.port[i], (unsigned)px.port);
            cr_assert(pincurl_pin_equal(&ev.leaf[i], &proxy_leaf),
                      "decision %d, for the proxy, looked at the origin's certificate", i);
        } else {
            origin_decisions++;
            cr_assert_str_eq(ev.host[i], "localhost");
            cr_assert_eq(ev.port[i], (unsigned)s.port);
            cr_assert(pincurl_pin_equal(&ev.leaf[i], &origin_leaf),
                      "decision %d, for the origin, looked at the proxy's certificate", i);
        }
    }
    cr_assert_geq(proxy_decisions, 1);
    cr_assert_eq(origin_decisions, 1);
    cr_assert_eq(pt_proxy_tunnels(&px), 1);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_proxy_stop(&px);
    pt_server_stop(&plain);
    pt_server_stop(&s);
}

/* ---- attached and copied handles ------------------------------------------------------ */

static size_t discard(char *data, size_t size, size_t nmemb, void *user)
{
    (void)data;
    (void)user;
    return size * nmemb;
}

static CURL *raw_handle(const char *url, const char *ca)
{
    CURL *e = curl_easy_init();
    cr_assert_not_null(e);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CAINFO, pt_pki(ca));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
    return e;
}

static pincurl_client *plain_client(pincurl_policy *p)
{
    return client_with(p, "root.pem", NULL, 0, NULL);
}

/* A handle attached to a client whose policy pins localhost, for the loopback server s
 * (named name) that holds the genuine chain. */
typedef struct attached_fixture {
    pt_server s;
    pincurl_policy *p;
    pincurl_client *c;
    pincurl_attachment *a;
    CURL *e;
} attached_fixture;

static void attached_setup(attached_fixture *t, const char *name)
{
    char url[64];
    t->s = start_tls("leaf-ec-chain.pem", "leaf-ec.key", name);
    t->p = policy_of("localhost", "inter", "leaf-backup", NULL, NULL, NULL);
    t->c = plain_client(t->p);
    t->a = NULL;
    snprintf(url, sizeof url, "https://localhost:%d/", t->s.port);
    t->e = raw_handle(url, "root.pem");
    cr_assert_eq(pincurl_attach(t->c, t->e, &t->a), PINCURL_OK);
}

static void attached_teardown(attached_fixture *t)
{
    pincurl_detach(t->a); /* NULL: detached already */
    curl_easy_cleanup(t->e);
    pincurl_client_free(t->c);
    pincurl_policy_unref(t->p);
    pt_server_stop(&t->s);
}

Test(handshakes, a_copied_attached_handle_is_refused)
{
    attached_fixture t;
    attached_setup(&t, "copy");
    pt_server s = t.s;
    pincurl_attachment *a = t.a;
    CURL *e = t.e;
    cr_assert_eq(curl_easy_perform(e), CURLE_OK);
    cr_assert_eq(pincurl_attachment_status(a, CURLE_OK), PINCURL_OK);
    long before = pt_server_request_bytes(&s);

    /* the copy inherits the hooks and their data, not the handle */
    CURL *copy = curl_easy_duphandle(e);
    cr_assert_not_null(copy);
    CURLcode rc = curl_easy_perform(copy);
    cr_assert_neq(rc, CURLE_OK);
    cr_assert_eq(pincurl_attachment_status(a, (int)rc), PINCURL_PIN_CHECK_FAILED);
    cr_assert(strstr(pincurl_attachment_detail(a), "curl_easy_duphandle") != NULL, "%s",
              pincurl_attachment_detail(a));
    cr_assert(pt_server_wait_closed(&s, 5000) || 1);
    cr_assert_eq(pt_server_request_bytes(&s), before, "the copy's request was sent");

    /* the attached handle itself goes on working */
    cr_assert_eq(curl_easy_perform(e), CURLE_OK);
    curl_easy_cleanup(copy);
    attached_teardown(&t);
}

/* A copy of an attached handle running on another thread while the attached handle runs on
 * its own (a template handle duplicated for a worker, say): the copy is refused every time
 * and the attachment's own state is left alone (its refusals only count; ThreadSanitizer
 * and AddressSanitizer see the two threads never write the same memory). */
struct copy_run {
    CURL *copy;
    int refused;
    char unnamed[64]; /* a host the policy does not name: refused in the request check */
};

static void *run_copy(void *arg)
{
    struct copy_run *r = arg;
    for (int i = 0; i < 20; i++) {
        if (i == 10) /* the second half: its handshake passes, its request check refuses */
            curl_easy_setopt(r->copy, CURLOPT_URL, r->unnamed);
        if (curl_easy_perform(r->copy) != CURLE_OK)
            r->refused++;
    }
    return NULL;
}

Test(handshakes, a_copy_on_another_thread_leaves_the_attachment_alone, .timeout = 120)
{
    attached_fixture t;
    struct copy_run r = {NULL, 0, ""};
    pthread_t th;
    long before, per;

    attached_setup(&t, "copythread");
    pt_server s = t.s;
    pincurl_attachment *a = t.a;
    CURL *e = t.e;
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L); /* a handshake on every transfer */
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    r.copy = curl_easy_duphandle(e);
    cr_assert_not_null(r.copy);
    snprintf(r.unnamed, sizeof r.unnamed, "https://127.0.0.1:%d/", s.port);
    before = pt_server_request_bytes(&s);
    cr_assert_eq(curl_easy_perform(e), CURLE_OK); /* what one request of it weighs */
    cr_assert(pt_server_wait_closed(&s, 5000));
    per = pt_server_request_bytes(&s) - before;
    cr_assert_gt(per, 0);
    cr_assert_eq(pthread_create(&th, NULL, run_copy, &r), 0);
    for (int i = 1; i < 20; i++) {
        CURLcode rc = curl_easy_perform(e);
        cr_assert_eq(rc, CURLE_OK, "transfer %d: %s", i, curl_easy_strerror(rc));
        cr_assert_eq(pincurl_attachment_status(a, (int)rc), PINCURL_OK);
    }
    cr_assert_eq(pthread_join(th, NULL), 0);
    cr_assert_eq(r.refused, 20, "the copy got through %d times", 20 - r.refused);
    /* the copy's refusal is reported when asked with its code (the attached handle's own
     * requests forget the copies' earlier ones) */
    CURLcode copy_rc = curl_easy_perform(r.copy);
    cr_assert_neq(copy_rc, CURLE_OK);
    cr_assert_eq(pincurl_attachment_status(a, (int)copy_rc), PINCURL_PIN_CHECK_FAILED);
    cr_assert(strstr(pincurl_attachment_detail(a), "curl_easy_duphandle") != NULL, "%s",
              pincurl_attachment_detail(a));
    /* only the attached handle's twenty requests reached the server */
    cr_assert(pt_server_wait_closed(&s, 5000));
    cr_assert_eq(pt_server_request_bytes(&s) - before, 20 * per, "%ld bytes, %ld a request",
                 pt_server_request_bytes(&s) - before, per);
    curl_easy_cleanup(r.copy);
    attached_teardown(&t);
}

Test(handshakes, an_attached_handle_speaks_http_and_https_only)
{
    pt_sniffer sn;
    pincurl_policy *p = policy_of("localhost", "inter", "leaf-backup", NULL, NULL, NULL);
    pincurl_client *c = plain_client(p);
    pincurl_attachment *a = NULL;
    char url[96];

    pt_sniffer_start(&sn, NULL);
    /* ftp sends USER and PASS while connecting, before any request check could run */
    snprintf(url, sizeof url, "ftp://user:secret@localhost:%d/file", sn.port);
    CURL *e = raw_handle(url, "root.pem");
    cr_assert_eq(pincurl_attach(c, e, &a), PINCURL_OK);
    CURLcode rc = curl_easy_perform(e);
    cr_assert(rc == CURLE_UNSUPPORTED_PROTOCOL, "%d", (int)rc);
    sleep_ms(200);
    cr_assert_eq(pt_sniffer_connections(&sn, NULL, 0), 0, "the ftp:// URL connected");
    pincurl_detach(a);
    curl_easy_cleanup(e);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_sniffer_stop(&sn);
}

Test(handshakes, a_connection_kept_from_before_a_host_was_pinned_is_decided_on_its_pins)
{
    pt_server s = start_tls("leaf-ec-chain.pem", "leaf-ec.key", "kept");
    pincurl_policy *none = policy_of("other.example", "p256", "p384", NULL, NULL, NULL);
    pincurl_policy *good = policy_of("localhost", "inter", "leaf-backup", NULL, NULL, NULL);
    pincurl_policy *bad = policy_of("localhost", "leaf-backup", "rogue-root", NULL, NULL, NULL);
    pincurl_client *c = plain_client(none);
    pincurl_attachment *a = NULL;
    char url[64];
    long connects = -1;

    snprintf(url, sizeof url, "https://localhost:%d/", s.port);
    CURL *e = raw_handle(url, "root.pem");
    cr_assert_eq(pincurl_attach(c, e, &a), PINCURL_OK);
    cr_assert_eq(curl_easy_perform(e), CURLE_OK); /* localhost not named: observed only */

    /* pinned now, with pins that match: the kept connection is decided and used */
    cr_assert_eq(pincurl_client_set_policy(c, good), PINCURL_OK);
    CURLcode rc = curl_easy_perform(e);
    cr_assert_eq(rc, CURLE_OK, "%s", pincurl_attachment_detail(a));
    cr_assert_eq(pincurl_attachment_status(a, (int)rc), PINCURL_OK);
    cr_assert_eq(curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects), CURLE_OK);
    cr_assert_eq(connects, 0, "the kept connection was not used");

    /* pins that do not match: PIN_MISMATCH, nothing sent */
    long before = pt_server_request_bytes(&s);
    cr_assert_eq(pincurl_client_set_policy(c, bad), PINCURL_OK);
    rc = curl_easy_perform(e);
    cr_assert_neq(rc, CURLE_OK);
    cr_assert_eq(pincurl_attachment_status(a, (int)rc), PINCURL_PIN_MISMATCH, "%s",
                 pincurl_attachment_detail(a));
    cr_assert_eq(pt_server_request_bytes(&s), before);

    pincurl_detach(a);
    curl_easy_cleanup(e);
    pincurl_client_free(c);
    pincurl_policy_unref(none);
    pincurl_policy_unref(good);
    pincurl_policy_unref(bad);
    pt_server_stop(&s);
}

/* ---- what a TLS context keeps after its transfer ------------------------------------- */

Test(handshakes, no_pooled_connection_reaches_a_finished_transfer)
{
    pt_server s = start_tls("leaf-ec-chain.pem", "leaf-ec.key", "pool");
    pincurl_policy *p = policy_of("localhost", "inter", "leaf-backup", NULL, NULL, NULL);
    pincurl_client *c = plain_client(p);
    pincurl_response *resp = NULL;
    unsigned long live = 0, attached = 0;
    char url[64];

    snprintf(url, sizeof url, "https://localhost:%d/", s.port);
    cr_assert_eq(get(c, url, &resp), PINCURL_OK);
    pincurl_response_free(resp);
    /* the connection is pooled with its TLS context, which still holds its hook; the
     * transfer that made it has returned and detached it */
    pc_tls_hook_counts(&live, &attached);
    cr_assert_geq(live, 1UL, "the pooled connection's context holds no hook");
    cr_assert_eq(attached, 0UL, "a pooled connection's context still reaches its transfer");
    /* the next request on the kept connection is decided all the same */
    cr_assert_eq(get(c, url, &resp), PINCURL_OK);
    pincurl_response_free(resp);
    pincurl_client_free(c);
    pc_tls_hook_counts(&live, &attached);
    cr_assert_eq(live, 0UL, "freeing the client left a hook behind");
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

/* ---- a peer that closes during the handshake --------------------------------------------- */

static double elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

Test(handshakes, a_peer_closing_mid_handshake_ends_the_request_at_once)
{
    /* The sniffer reads the ClientHello and closes. The request fails at once: the closed
     * connection is not read again and again until the connect timeout (3 s here), as it
     * is when libcurl's wolfSSL I/O cannot clear its read-retry flag. */
    pt_sniffer sn;
    pincurl_policy *p = policy_of("127.0.0.1", "inter", "leaf-backup", NULL, NULL, NULL);
    char url[64], proxy[64];
    pincurl_response *resp = NULL;
    struct timespec t0;

    pt_sniffer_start(&sn, NULL);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/", sn.port);
    snprintf(proxy, sizeof proxy, "https://127.0.0.1:%d", sn.port);

    /* the origin closes */
    pincurl_client *c = client_with(p, "root.pem", NULL, 0, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_neq(get(c, url, &resp), PINCURL_OK);
    cr_assert_lt(elapsed_ms(&t0), 1500.0 * pt_time_scale(),
                 "the origin's close was noticed after %.0f ms",
                 elapsed_ms(&t0));
    pincurl_response_free(resp);
    resp = NULL;
    pincurl_client_free(c);

    /* the HTTPS proxy closes */
    c = client_with(p, "root.pem", proxy, 0, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_neq(get(c, "https://localhost:9/", &resp), PINCURL_OK);
    cr_assert_lt(elapsed_ms(&t0), 1500.0 * pt_time_scale(),
                 "the proxy's close was noticed after %.0f ms",
                 elapsed_ms(&t0));
    pincurl_response_free(resp);
    pincurl_client_free(c);
    cr_assert_geq(pt_sniffer_connections(&sn, NULL, 0), 2);

    pincurl_policy_unref(p);
    pt_sniffer_stop(&sn);
}

/* ---- an attached handle's own route ----------------------------------------------------- */

/* The application configures the proxy of an attached handle itself (CURLOPT_PROXY, or
 * https_proxy from the environment, which libcurl reads for a handle without one). A proxy
 * the policy pins is held to its pins there too: an interceptor posing as it, with a
 * certificate from a root the device trusts, receives nothing. */
static void attached_proxy_interceptor(int from_environment)
{
    pt_server icpt = start_tls("rogue-leaf.pem", "rogue-leaf.key", "interceptor");
    pt_server s = start_tls("leaf-ec-chain.pem", "leaf-ec.key", "origin");
    pincurl_policy *p = policy_of("127.0.0.1", "inter", "leaf-backup", NULL, NULL, NULL);
    pincurl_client *c = client_with(p, "cas.pem", NULL, 0, NULL);
    pincurl_attachment *a = NULL;
    char url[64], proxy[96];

    snprintf(url, sizeof url, "https://localhost:%d/", s.port);
    snprintf(proxy, sizeof proxy, "https://user:secret@127.0.0.1:%d", icpt.port);
    CURL *e = raw_handle(url, "cas.pem");
    curl_easy_setopt(e, CURLOPT_PROXY_CAINFO, pt_pki("cas.pem"));
    if (from_environment)
        setenv("https_proxy", proxy, 1);
    else
        curl_easy_setopt(e, CURLOPT_PROXY, proxy);
    cr_assert_eq(pincurl_attach(c, e, &a), PINCURL_OK);
    CURLcode rc = curl_easy_perform(e);
    if (from_environment)
        unsetenv("https_proxy");
    cr_assert(pt_server_wait_closed(&icpt, 5000));
    cr_assert_gt(pt_server_connections(&icpt), (long)0, "the interceptor was never reached");
    cr_assert_eq(pt_server_request_bytes(&icpt), 0,
                 "the interceptor posing as the pinned proxy received the CONNECT line and "
                 "the credentials (curl code %d)",
                 (int)rc);
    cr_assert_neq(rc, CURLE_OK);
    cr_assert_eq(pincurl_attachment_status(a, (int)rc), PINCURL_PIN_MISMATCH, "%s",
                 pincurl_attachment_detail(a));
    cr_assert(strstr(pincurl_attachment_detail(a), "127.0.0.1") != NULL, "%s",
              pincurl_attachment_detail(a));
    cr_assert_eq(pt_server_request_bytes(&s), 0);
    pincurl_detach(a);
    curl_easy_cleanup(e);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
    pt_server_stop(&icpt);
}

Test(handshakes, an_attached_handles_own_https_proxy_is_held_to_its_pins)
{
    attached_proxy_interceptor(0);
}

/* A connection an attached handle keeps through its own https:// proxy is decided again
 * under a newer policy: once the policy names the proxy, a connection whose proxy handshake
 * was not decided under it carries no request (however it was validated when it was made),
 * and a new connection is decided in its handshake and then kept. */
static long bytes_after_first_request(const pt_server *s)
{
    long bytes = 0;
    for (int i = 0; i < 300 && bytes == 0; i++) {
        bytes = pt_server_request_bytes(s);
        if (bytes == 0) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return bytes;
}

Test(handshakes, a_kept_connection_through_an_attached_handles_proxy_is_decided_under_the_policy_in_force,
     .timeout = 60)
{
    pt_server s = start_tls("leaf-ec-chain.pem", "leaf-ec.key", "origin");
    pt_proxy px;
    /* origin localhost; the proxy 127.0.0.1 serves the genuine chain too */
    pincurl_policy *origin_only = policy_of("localhost", "inter", "leaf-backup", NULL, NULL,
                                            NULL);
    pincurl_policy *proxy_bad = policy_of("localhost", "inter", "leaf-backup", "127.0.0.1",
                                          "leaf-backup", "rogue-root");
    pincurl_policy *both = policy_of("localhost", "inter", "leaf-backup", "127.0.0.1", "inter",
                                     "leaf-backup");
    pincurl_client *c = client_with(origin_only, "root.pem", NULL, 0, NULL);
    pincurl_attachment *a = NULL;
    char url[64], proxy[64];
    long per, connects = -1;
    CURLcode rc;

    pt_proxy_start(&px, "leaf-ec-chain.pem", "leaf-ec.key");
    snprintf(url, sizeof url, "https://localhost:%d/", s.port);
    snprintf(proxy, sizeof proxy, "https://127.0.0.1:%d", px.port);
    CURL *e = raw_handle(url, "root.pem");
    curl_easy_setopt(e, CURLOPT_PROXY, proxy);
    curl_easy_setopt(e, CURLOPT_PROXY_CAINFO, pt_pki("root.pem"));
    cr_assert_eq(pincurl_attach(c, e, &a), PINCURL_OK);

    /* the proxy unnamed: validated as configured, the connection kept */
    cr_assert_eq(curl_easy_perform(e), CURLE_OK);
    cr_assert_eq(pt_proxy_tunnels(&px), 1);
    per = bytes_after_first_request(&s);
    cr_assert_gt(per, 0);

    /* the policy now names the proxy with pins its key does not match: the kept
     * connection's proxy handshake was decided under no such policy */
    cr_assert_eq(pincurl_client_set_policy(c, proxy_bad), PINCURL_OK);
    rc = curl_easy_perform(e);
    cr_assert_neq(rc, CURLE_OK, "a request went out through a proxy the policy now refuses");
    cr_assert_eq(pincurl_attachment_status(a, (int)rc), PINCURL_PIN_CHECK_FAILED, "%s",
                 pincurl_attachment_detail(a));
    cr_assert(strstr(pincurl_attachment_detail(a), "127.0.0.1") != NULL, "%s",
              pincurl_attachment_detail(a));
    /* and a new connection is refused in the proxy's handshake, before any CONNECT */
    rc = curl_easy_perform(e);
    cr_assert_eq(pincurl_attachment_status(a, (int)rc), PINCURL_PIN_MISMATCH, "%s",
                 pincurl_attachment_detail(a));
    cr_assert_eq(pt_proxy_tunnels(&px), 1, "a tunnel was opened through a refused proxy");

    /* pins the proxy matches: a new connection, decided in its handshake, then kept */
    cr_assert_eq(pincurl_client_set_policy(c, both), PINCURL_OK);
    cr_assert_eq(curl_easy_perform(e), CURLE_OK, "%s", pincurl_attachment_detail(a));
    cr_assert_eq(pt_proxy_tunnels(&px), 2);
    cr_assert_eq(curl_easy_perform(e), CURLE_OK, "%s", pincurl_attachment_detail(a));
    cr_assert_eq(curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects), CURLE_OK);
    cr_assert_eq(connects, 0, "the decided connection was not kept");
    cr_assert_eq(pt_proxy_tunnels(&px), 2);

    pincurl_detach(a);
    curl_easy_cleanup(e);
    /* three requests reached the origin, not four */
    cr_assert(pt_server_wait_closed(&s, 5000));
    cr_assert_eq(pt_server_request_bytes(&s), 3 * per, "%ld bytes, %ld a request",
                 pt_server_request_bytes(&s), per);
    pincurl_client_free(c);
    pincurl_policy_unref(origin_only);
    pincurl_policy_unref(proxy_bad);
    pincurl_policy_unref(both);
    pt_proxy_stop(&px);
    pt_server_stop(&s);
}

Test(handshakes, an_attached_handles_https_proxy_from_the_environment_is_held_to_its_pins)
{
    attached_proxy_interceptor(1);
}

/* A copy made while the handle was attached keeps the hooks and their data after the
 * attachment is gone (pincurl_detach frees it): the copy must not reach freed memory,
 * and a host the policy names is still refused on it. */
Test(handshakes, a_copy_outliving_its_attachment_reaches_nothing_freed)
{
    attached_fixture t;
    attached_setup(&t, "copy");
    pt_server s = t.s;
    CURL *e = t.e;
    CURL *copy = curl_easy_duphandle(e);
    cr_assert_not_null(copy);
    pincurl_detach(t.a);
    t.a = NULL;
    /* the attachment's memory is reused by other allocations */
    for (int i = 0; i < 64; i++) {
        void *junk = malloc(sizeof(void *) * 64 + (size_t)i);
        memset(junk, 0x41, sizeof(void *) * 64 + (size_t)i);
        free(junk);
    }
    CURLcode rc = curl_easy_perform(copy);
    cr_assert_neq(rc, CURLE_OK, "a copy of a detached handle connected to a pinned host");
    cr_assert(pt_server_wait_closed(&s, 5000));
    cr_assert_eq(pt_server_request_bytes(&s), 0, "the copy's request was sent");
    /* the detached handle itself is an ordinary libcurl handle again */
    cr_assert_eq(curl_easy_perform(e), CURLE_OK);
    curl_easy_cleanup(copy);
    attached_teardown(&t);
}

/* More spellings than the table above: whitespace, percent-encoding, numeric and short
 * IPv4 forms, mapped IPv6, a trailing dot, upper-case socks schemes, credentials without a
 * password. pincurl's reading still equals the protocol libcurl speaks at the listener. */
Test(handshakes, odd_proxy_spellings_are_read_as_libcurl_reads_them)
{
    pt_sniffer sn;
    static const char *const v4[] = {
        " https://127.0.0.1:PORT",       "https://127.0.0.1:PORT ",      "https://127.0.0.1:PORT\t",
        "https://%31%32%37.0.0.1:PORT",  "https://127.1:PORT",           "https://2130706433:PORT",
        "https://0x7f000001:PORT",     "https://u@127.0.0.1:PORT",
        "https://u:@127.0.0.1:PORT",     "SOCKS5://127.0.0.1:PORT",      "SOCKS5H://127.0.0.1:PORT",
        "SOCKS://127.0.0.1:PORT",        "hTTp://127.0.0.1:PORT",        "https://[::ffff:127.0.0.1]:PORT",
        "https://127.0.0.1:PORT#frag",   "https://127.0.0.1:PORT?q=1",   "http+https://127.0.0.1:PORT",
    };

    pt_sniffer_start(&sn, NULL);
    for (size_t i = 0; i < sizeof v4 / sizeof v4[0]; i++)
        compare_spelling(&sn, v4[i]);
    pt_sniffer_stop(&sn);
}

/* An attached handle's own CURLOPT_CONNECT_TO sends a pinned host to an interceptor with a
 * certificate from a trusted root: decided for the URL's host, refused, nothing sent. A
 * redirect from the pinned host to http:// of itself is refused before it connects. */
Test(handshakes, an_attached_handles_own_connect_to_and_redirects_are_decided_for_the_url)
{
    pt_server icpt = start_tls("rogue-leaf.pem", "rogue-leaf.key", "interceptor");
    pt_server s = start_tls("leaf-ec-chain.pem", "leaf-ec.key", "origin");
    pt_sniffer sn;
    pincurl_policy *p = policy_of("localhost", "inter", "leaf-backup", NULL, NULL, NULL);
    pincurl_client *c = client_with(p, "cas.pem", NULL, 0, NULL);
    pincurl_attachment *a = NULL;
    char url[160], to[96];

    pt_sniffer_start(&sn, NULL);
    snprintf(url, sizeof url, "https://localhost:%d/", s.port);
    snprintf(to, sizeof to, "localhost:%d:127.0.0.1:%d", s.port, icpt.port);
    struct curl_slist *list = curl_slist_append(NULL, to);
    CURL *e = raw_handle(url, "cas.pem");
    curl_easy_setopt(e, CURLOPT_CONNECT_TO, list);
    cr_assert_eq(pincurl_attach(c, e, &a), PINCURL_OK);
    CURLcode rc = curl_easy_perform(e);
    cr_assert_neq(rc, CURLE_OK);
    cr_assert_eq(pincurl_attachment_status(a, (int)rc), PINCURL_PIN_MISMATCH, "%s",
                 pincurl_attachment_detail(a));
    cr_assert(pt_server_wait_closed(&icpt, 5000));
    cr_assert_gt(pt_server_connections(&icpt), (long)0);
    cr_assert_eq(pt_server_request_bytes(&icpt), 0, "the request reached the interceptor");

    /* https -> http on the pinned host, the redirect followed by the application's handle */
    curl_easy_setopt(e, CURLOPT_CONNECT_TO, (struct curl_slist *)NULL);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    snprintf(url, sizeof url, "https://localhost:%d/redirect?to=http://localhost:%d/", s.port,
             sn.port);
    curl_easy_setopt(e, CURLOPT_URL, url);
    rc = curl_easy_perform(e);
    cr_assert_neq(rc, CURLE_OK);
    cr_assert_eq(pincurl_attachment_status(a, (int)rc), PINCURL_CLEARTEXT_PINNED, "%s",
                 pincurl_attachment_detail(a));
    sleep_ms(2500); /* the sniffer logs a silent connection after 2 s */
    char kinds[4][16];
    long n = pt_sniffer_connections(&sn, kinds, 4);
    /* a TCP connection may be made; not one byte of a request goes over it */
    for (long i = 0; i < n && i < 4; i++)
        cr_assert_str_eq(kinds[i], "empty", "the http:// hop sent %s", kinds[i]);

    pincurl_detach(a);
    curl_easy_cleanup(e);
    curl_slist_free_all(list);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_sniffer_stop(&sn);
    pt_server_stop(&s);
    pt_server_stop(&icpt);
}
