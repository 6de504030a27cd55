/* Each connection is decided for its own host: redirect hops between pinned and unpinned
 * hosts, host name forms (IPv6 literals, case and trailing dots), and proxies (an HTTP
 * CONNECT proxy, and an https:// proxy whose own certificate the policy pins). Real
 * servers on loopback: tests/servers/tls_server.py, tinyproxy, stunnel. */
#include "servers.h"
#include "support.h"

#include "pincurl/client.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pt_server start_on(const char *host)
{
    pt_server s;
    pt_server_opts o;
    memset(&o, 0, sizeof(o));
    o.chain = "leaf-ec-chain.pem";
    o.key = "leaf-ec.key";
    o.name = "routes";
    o.host = host;
    pt_server_start(&s, &o);
    return s;
}

/* A policy with one exact enforcing entry per host given: host, pin, pin, ... NULL. */
static pincurl_policy *policy_of(const char *host1, const char *a1, const char *b1,
                                 const char *host2, const char *a2, const char *b2)
{
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    pincurl_policy *p = NULL;
    const char *hosts[2] = {host1, host2};
    const char *pins[2][2] = {{a1, b1}, {a2, b2}};

    cr_assert_not_null(b);
    for (int h = 0; h < 2 && hosts[h] != NULL; h++) {
        size_t idx = 0;
        cr_assert_eq(pincurl_policy_builder_add_domain(b, hosts[h], PINCURL_DOMAIN_ENFORCE, &idx),
                     PINCURL_OK, "%s", hosts[h]);
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

static pincurl_client *client_resolving(pincurl_policy *p, const char *proxy, long redirects,
                                        const char *const *resolve)
{
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c = NULL;
    cr_assert_not_null(o);
    for (; resolve != NULL && *resolve != NULL; resolve++)
        cr_assert_eq(pincurl_options_add_resolve(o, *resolve), PINCURL_OK, "%s", *resolve);
    cr_assert_eq(pincurl_options_set_ca_file(o, pt_pki("root.pem")), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_max_redirects(o, redirects), PINCURL_OK);
    if (proxy != NULL)
        cr_assert_eq(pincurl_options_set_proxy(o, proxy), PINCURL_OK);
    cr_assert_eq(pincurl_client_new(p, o, &c), PINCURL_OK);
    pincurl_options_free(o);
    return c;
}

static pincurl_client *client_for(pincurl_policy *p, const char *proxy, long redirects)
{
    return client_resolving(p, proxy, redirects, NULL);
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
    cr_assert_eq(len, strlen(expected));
    cr_assert(memcmp(b, expected, len) == 0);
}

/* ---- redirects ---------------------------------------------------------------------- */

Test(routes, redirect_to_a_pinned_host_with_other_pins_is_refused)
{
    pt_server s = start_on(NULL);
    /* localhost matches; 127.0.0.1 (the same server, another name) pins other keys */
    pincurl_policy *p = policy_of("localhost", "inter", "leaf-backup", "127.0.0.1",
                                  "leaf-backup", "rogue-root");
    pincurl_client *c = client_for(p, NULL, 3);
    pincurl_response *resp = NULL;
    char url[256];
    long before;

    snprintf(url, sizeof(url), "https://localhost:%d/redirect?to=https://127.0.0.1:%d/", s.port,
             s.port);
    before = pt_server_request_bytes(&s);
    cr_assert_eq(get(c, url, &resp), PINCURL_PIN_MISMATCH, "%s", pincurl_response_detail(resp));
    /* the refusal names the hop's host and its pins, not the first host's */
    cr_assert(strstr(pincurl_response_detail(resp), "127.0.0.1") != NULL, "%s",
              pincurl_response_detail(resp));
    cr_assert_str_eq(pincurl_response_verdict(resp)->noted_host, "127.0.0.1");
    pincurl_response_free(resp);
    /* the first hop's request reached the server; the second hop was refused in its
     * handshake: two connections, and no byte on the second (the server logs what it
     * receives as it arrives, and the first hop's response came after its request) */
    cr_assert_gt(pt_server_request_bytes(&s), before);
    cr_assert_eq(pt_server_connections(&s), 2);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(routes, redirect_to_a_host_the_policy_does_not_name_gets_ordinary_validation)
{
    pt_server s = start_on(NULL);
    pincurl_policy *p = policy_of("localhost", "inter", "leaf-backup", NULL, NULL, NULL);
    pincurl_client *c = client_for(p, NULL, 3);
    pincurl_response *resp = NULL;
    char url[256], target[128];

    snprintf(target, sizeof(target), "https://127.0.0.1:%d/", s.port);
    snprintf(url, sizeof(url), "https://localhost:%d/redirect?to=%s", s.port, target);
    cr_assert_eq(get(c, url, &resp), PINCURL_OK, "%s", pincurl_response_detail(resp));
    body_is(resp, "hello from routes");
    cr_assert_str_eq(pincurl_response_effective_url(resp), target);
    /* the last pinned validation was the first hop's */
    cr_assert_str_eq(pincurl_response_verdict(resp)->noted_host, "localhost");
    pincurl_response_free(resp);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(routes, redirect_from_an_unnamed_host_to_a_pinned_one_is_decided)
{
    pt_server s = start_on(NULL);
    pincurl_policy *p = policy_of("localhost", "leaf-backup", "rogue-root", NULL, NULL, NULL);
    pincurl_client *c = client_for(p, NULL, 3);
    pincurl_response *resp = NULL;
    char url[256];

    snprintf(url, sizeof(url), "https://127.0.0.1:%d/redirect?to=https://localhost:%d/", s.port,
             s.port);
    cr_assert_eq(get(c, url, &resp), PINCURL_PIN_MISMATCH, "%s", pincurl_response_detail(resp));
    pincurl_response_free(resp);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

/* ---- host forms --------------------------------------------------------------------- */

Test(routes, ipv6_literal_is_pinned_as_an_exact_entry)
{
    pt_server s = start_on("::1");
    pincurl_policy *good = policy_of("::1", "inter", "leaf-backup", NULL, NULL, NULL);
    pincurl_policy *bad = policy_of("[0:0::1]", "leaf-backup", "rogue-root", NULL, NULL, NULL);
    pincurl_client *c = client_for(good, NULL, 0);
    pincurl_response *resp = NULL;
    char url[128];

    snprintf(url, sizeof(url), "https://[::1]:%d/", s.port);
    cr_assert_eq(get(c, url, &resp), PINCURL_OK, "%s", pincurl_response_detail(resp));
    cr_assert_not_null(pincurl_response_verdict(resp));
    cr_assert_str_eq(pincurl_response_verdict(resp)->noted_host, "::1");
    pincurl_response_free(resp);

    /* another spelling of the same address in the policy is the same entry */
    cr_assert_eq(pincurl_client_set_policy(c, bad), PINCURL_OK);
    cr_assert_eq(get(c, url, &resp), PINCURL_PIN_MISMATCH, "%s", pincurl_response_detail(resp));
    cr_assert(strstr(pincurl_response_detail(resp), "[::1]:") != NULL, "%s",
              pincurl_response_detail(resp));
    pincurl_response_free(resp);

    pincurl_client_free(c);
    pincurl_policy_unref(good);
    pincurl_policy_unref(bad);
    pt_server_stop(&s);
}

Test(routes, upper_case_and_trailing_dot_are_the_same_pinned_host)
{
    pt_server s = start_on(NULL);
    pincurl_policy *bad = policy_of("localhost", "leaf-backup", "rogue-root", NULL, NULL, NULL);
    const char *forms[] = {"LOCALHOST.", "LocalHost", "localhost."};
    char r1[64], r2[64], r3[64];
    const char *resolve[4] = {r1, r2, r3, NULL};
    pincurl_client *c;

    /* the system resolver need not know these spellings: map each to the server */
    snprintf(r1, sizeof(r1), "LOCALHOST.:%d:127.0.0.1", s.port);
    snprintf(r2, sizeof(r2), "LocalHost:%d:127.0.0.1", s.port);
    snprintf(r3, sizeof(r3), "localhost.:%d:127.0.0.1", s.port);
    c = client_resolving(bad, NULL, 0, resolve);

    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        pincurl_response *resp = NULL;
        char url[128];
        pincurl_status st;
        snprintf(url, sizeof(url), "https://%s:%d/", forms[i], s.port);
        st = get(c, url, &resp);
        cr_assert_eq(st, PINCURL_PIN_MISMATCH, "%s: %s %s", forms[i], pincurl_status_name(st),
                     pincurl_response_detail(resp));
        pincurl_response_free(resp);
    }
    /* and cleartext to it is refused before connecting, in any form */
    {
        pincurl_response *resp = NULL;
        char url[128];
        snprintf(url, sizeof(url), "http://LOCALHOST.:%d/", s.port);
        cr_assert_eq(get(c, url, &resp), PINCURL_CLEARTEXT_PINNED);
        pincurl_response_free(resp);
        cr_assert_eq(pt_server_connections(&s), 3);
    }

    pincurl_client_free(c);
    pincurl_policy_unref(bad);
    pt_server_stop(&s);
}

/* ---- proxies ------------------------------------------------------------------------ */

Test(routes, connect_proxy_the_origins_pins_apply, .timeout = 60)
{
    pt_server s = start_on(NULL);
    pt_proxy px;
    pincurl_policy *good = policy_of("localhost", "inter", "leaf-backup", NULL, NULL, NULL);
    pincurl_policy *bad = policy_of("localhost", "leaf-backup", "rogue-root", NULL, NULL, NULL);
    pincurl_client *c;
    pincurl_response *resp = NULL;
    char proxy[64], url[128];
    long before;

    pt_proxy_start(&px, NULL, NULL);
    snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", px.port);
    snprintf(url, sizeof(url), "https://localhost:%d/", s.port);
    c = client_for(good, proxy, 0);
    cr_assert_eq(get(c, url, &resp), PINCURL_OK, "%s", pincurl_response_detail(resp));
    body_is(resp, "hello from routes");
    pincurl_response_free(resp);
    cr_assert_eq(pt_proxy_tunnels(&px), 1, "the request did not go through the proxy");

    cr_assert_eq(pincurl_client_set_policy(c, bad), PINCURL_OK);
    before = pt_server_request_bytes(&s);
    cr_assert_eq(get(c, url, &resp), PINCURL_PIN_MISMATCH, "%s", pincurl_response_detail(resp));
    pincurl_response_free(resp);
    cr_assert_eq(pt_proxy_tunnels(&px), 2);
    cr_assert(pt_server_wait_closed(&s, 3000));
    cr_assert_eq(pt_server_request_bytes(&s), before);

    pincurl_client_free(c);
    pincurl_policy_unref(good);
    pincurl_policy_unref(bad);
    pt_proxy_stop(&px);
    pt_server_stop(&s);
}

Test(routes, https_proxy_is_pinned_separately_from_the_origin, .timeout = 60)
{
    pt_server s = start_on(NULL);
    pt_proxy px;
    /* origin localhost, proxy 127.0.0.1: both serve the genuine chain */
    pincurl_policy *both = policy_of("localhost", "inter", "leaf-backup", "127.0.0.1", "inter",
                                     "leaf-backup");
    pincurl_policy *proxy_bad = policy_of("localhost", "inter", "leaf-backup", "127.0.0.1",
                                          "leaf-backup", "rogue-root");
    pincurl_policy *origin_bad = policy_of("localhost", "leaf-backup", "rogue-root", "127.0.0.1",
                                           "inter", "leaf-backup");
    pincurl_client *c;
    pincurl_response *resp = NULL;
    char proxy[64], url[128];

    pt_proxy_start(&px, "leaf-ec-chain.pem", "leaf-ec.key");
    snprintf(proxy, sizeof(proxy), "https://127.0.0.1:%d", px.port);
    snprintf(url, sizeof(url), "https://localhost:%d/", s.port);
    c = client_for(both, proxy, 0);
    cr_assert_eq(get(c, url, &resp), PINCURL_OK, "%s", pincurl_response_detail(resp));
    body_is(resp, "hello from routes");
    /* the last validation was the origin's */
    cr_assert_str_eq(pincurl_response_verdict(resp)->noted_host, "localhost");
    pincurl_response_free(resp);
    cr_assert_eq(pt_proxy_tunnels(&px), 1);

    /* the proxy's own certificate does not match its pins: refused at the proxy */
    cr_assert_eq(pincurl_client_set_policy(c, proxy_bad), PINCURL_OK);
    cr_assert_eq(get(c, url, &resp), PINCURL_PIN_MISMATCH, "%s", pincurl_response_detail(resp));
    cr_assert_str_eq(pincurl_response_verdict(resp)->noted_host, "127.0.0.1");
    pincurl_response_free(resp);
    cr_assert_eq(pt_proxy_tunnels(&px), 1, "a tunnel was opened through a refused proxy");

    /* the origin does not match: refused inside the tunnel */
    cr_assert_eq(pincurl_client_set_policy(c, origin_bad), PINCURL_OK);
    cr_assert_eq(get(c, url, &resp), PINCURL_PIN_MISMATCH, "%s", pincurl_response_detail(resp));
    cr_assert_str_eq(pincurl_response_verdict(resp)->noted_host, "localhost");
    pincurl_response_free(resp);

    pincurl_client_free(c);
    pincurl_policy_unref(both);
    pincurl_policy_unref(proxy_bad);
    pincurl_policy_unref(origin_bad);
    pt_proxy_stop(&px);
    pt_server_stop(&s);
}
