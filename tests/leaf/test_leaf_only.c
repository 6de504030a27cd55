/* The leaf-only mode on a libcurl whose TLS library pincurl has no backend for (Debian's
 * libcurl on GnuTLS): libcurl's CURLOPT_PINNEDPUBLICKEY checks the leaf in the handshake;
 * a root pin is refused when the client is made; anything else that is not the leaf's pin
 * never matches. Stricter than the path backends, never weaker. */
#include "servers.h"
#include "support.h"

#include "pincurl/client.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static pt_server start(void)
{
    pt_server s;
    pt_server_opts o;
    memset(&o, 0, sizeof(o));
    o.chain = "leaf-ec-chain.pem";
    o.key = "leaf-ec.key";
    o.name = "leaf";
    pt_server_start(&s, &o);
    return s;
}

static pincurl_status make(pincurl_policy *p, long redirects, pincurl_client **c)
{
    pincurl_options *o = pincurl_options_new();
    pincurl_status st;
    cr_assert_not_null(o);
    cr_assert_eq(pincurl_options_set_ca_file(o, pt_pki("root.pem")), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_max_redirects(o, redirects), PINCURL_OK);
    st = pincurl_client_new(p, o, c);
    pincurl_options_free(o);
    return st;
}

static pincurl_status get(pincurl_client *c, const char *url, char *detail, size_t size)
{
    pincurl_request *r = pincurl_request_new("GET", url);
    pincurl_response *resp = NULL;
    pincurl_status st;
    cr_assert_not_null(r);
    st = pincurl_client_perform(c, r, &resp);
    if (detail != NULL)
        snprintf(detail, size, "%s", pincurl_response_detail(resp));
    pincurl_response_free(resp);
    pincurl_request_free(r);
    return st;
}

Test(leaf, the_backend_is_leaf_only)
{
    pincurl_policy *p = pt_policy_exact("localhost", "leaf-ec", "leaf-backup");
    pincurl_client *c = NULL;
    cr_assert_eq(make(p, 0, &c), PINCURL_OK);
    cr_assert_str_eq(pincurl_client_tls_backend(c), "pinnedpubkey");
    pincurl_client_free(c);
    pincurl_policy_unref(p);
}

Test(leaf, leaf_pin_matches_and_mismatch_is_refused_before_any_byte)
{
    pt_server s = start();
    pincurl_policy *good = pt_policy_exact("localhost", "leaf-ec", "leaf-backup");
    pincurl_policy *bad = pt_policy_exact("localhost", "leaf-backup", "leaf-rsa");
    pincurl_client *c = NULL;
    char url[128], detail[2048];
    long before;

    snprintf(url, sizeof(url), "https://localhost:%d/", s.port);
    cr_assert_eq(make(good, 0, &c), PINCURL_OK);
    cr_assert_eq(get(c, url, detail, sizeof(detail)), PINCURL_OK, "%s", detail);
    /* the policy changes: the kept-alive connection (keyed on the pins) is not reused */
    cr_assert_eq(pincurl_client_set_policy(c, bad), PINCURL_OK);
    before = pt_server_request_bytes(&s);
    cr_assert_eq(get(c, url, detail, sizeof(detail)), PINCURL_PIN_MISMATCH, "%s", detail);
    cr_assert(pt_server_wait_closed(&s, 3000));
    cr_assert_eq(pt_server_request_bytes(&s), before);
    cr_assert_eq(pt_server_connections(&s), 2);

    pincurl_client_free(c);
    pincurl_policy_unref(good);
    pincurl_policy_unref(bad);
    pt_server_stop(&s);
}

Test(leaf, a_root_pin_is_refused_when_the_client_is_made)
{
    pincurl_policy *p = pt_policy_exact("localhost", "root", "leaf-backup");
    pincurl_client *c = NULL;
    cr_assert_eq(make(p, 0, &c), PINCURL_BACKEND_UNSUPPORTED);
    cr_assert_null(c);
    /* and set_policy refuses it too */
    {
        pincurl_policy *ok = pt_policy_exact("localhost", "leaf-ec", "leaf-backup");
        cr_assert_eq(make(ok, 0, &c), PINCURL_OK);
        cr_assert_eq(pincurl_client_set_policy(c, p), PINCURL_BACKEND_UNSUPPORTED);
        cr_assert_eq(pincurl_client_generation(c), 1);
        pincurl_client_free(c);
        pincurl_policy_unref(ok);
    }
    pincurl_policy_unref(p);
}

/* A root pin cannot be found in a CA directory beforehand: a directory is refused. */
Test(leaf, a_ca_directory_is_refused_when_the_client_is_made)
{
    pincurl_policy *p = pt_policy_exact("localhost", "leaf-ec", "leaf-backup");
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c = NULL;
    pincurl_status st = pincurl_options_set_ca_path(o, pt_tmpdir("leaf-capath"));
    if (st == PINCURL_OK) {
        cr_assert_eq(pincurl_client_new(p, o, &c), PINCURL_BACKEND_UNSUPPORTED);
        cr_assert_null(c);
    } else {
        /* this libcurl's TLS backend reads no directory at all */
        cr_assert_eq(st, PINCURL_UNSUPPORTED);
        cr_assert(!(pincurl_http_features() & PINCURL_FEATURE_CA_PATH));
    }
    pincurl_options_free(o);
    pincurl_policy_unref(p);
}

Test(leaf, an_intermediate_pin_never_matches)
{
    pt_server s = start();
    pincurl_policy *p = pt_policy_exact("localhost", "inter", "leaf-backup");
    pincurl_client *c = NULL;
    char url[128], detail[2048];

    snprintf(url, sizeof(url), "https://localhost:%d/", s.port);
    cr_assert_eq(make(p, 0, &c), PINCURL_OK);
    cr_assert_eq(get(c, url, detail, sizeof(detail)), PINCURL_PIN_MISMATCH, "%s", detail);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(leaf, cleartext_and_redirects_to_other_pinned_hosts_are_refused)
{
    pt_server s = start();
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    pincurl_policy *p = NULL;
    pincurl_client *c = NULL;
    char url[256], detail[2048];
    const char *hosts[2] = {"localhost", "127.0.0.1"};

    for (int h = 0; h < 2; h++) {
        size_t idx;
        pincurl_pin a, z;
        pt_pki_pin("leaf-ec", &a);
        pt_pki_pin("leaf-backup", &z);
        cr_assert_eq(pincurl_policy_builder_add_domain(b, hosts[h], PINCURL_DOMAIN_ENFORCE, &idx),
                     PINCURL_OK);
        cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &a), PINCURL_OK);
        cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &z), PINCURL_OK);
    }
    cr_assert_eq(pincurl_policy_builder_finish(b, &p, NULL), PINCURL_OK);
    pincurl_policy_builder_free(b);
    cr_assert_eq(make(p, 3, &c), PINCURL_OK);

    snprintf(url, sizeof(url), "http://localhost:%d/", s.port);
    cr_assert_eq(get(c, url, NULL, 0), PINCURL_CLEARTEXT_PINNED);
    cr_assert_eq(pt_server_connections(&s), 0);

    /* another pinned host, even one whose pins would match: not decided by the first
     * host's pins, so refused */
    snprintf(url, sizeof(url), "https://localhost:%d/redirect?to=https://127.0.0.1:%d/", s.port,
             s.port);
    cr_assert_eq(get(c, url, detail, sizeof(detail)), PINCURL_PIN_CHECK_FAILED, "%s", detail);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(leaf, attach_is_not_available)
{
    pincurl_policy *p = pt_policy_exact("localhost", "leaf-ec", "leaf-backup");
    pincurl_client *c = NULL;
    pincurl_attachment *a = NULL;
    CURL *e = curl_easy_init();
    cr_assert_eq(make(p, 0, &c), PINCURL_OK);
    cr_assert_eq(pincurl_attach(c, e, &a), PINCURL_BACKEND_UNSUPPORTED);
    cr_assert_null(a);
    curl_easy_cleanup(e);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
}

Test(leaf, an_https_proxys_leaf_is_pinned_too, .timeout = 120)
{
    /* the proxy (127.0.0.1) is pinned to the genuine leaf's keys; an interceptor with a
     * certificate for it from a root the device trusts answers there instead */
    pt_server origin = start();
    pt_server icpt;
    pt_proxy px;
    pt_server_opts o;
    pincurl_policy *p = pt_policy_exact("127.0.0.1", "leaf-ec", "leaf-backup");
    pincurl_options *opts;
    pincurl_client *c = NULL;
    char url[128], proxy[128], detail[2048];

    memset(&o, 0, sizeof o);
    o.chain = "rogue-leaf.pem";
    o.key = "rogue-leaf.key";
    o.name = "interceptor";
    pt_server_start(&icpt, &o);
    snprintf(url, sizeof url, "https://localhost:%d/", origin.port);

    snprintf(proxy, sizeof proxy, "HTTPS://user:secret@127.0.0.1:%d", icpt.port);
    opts = pincurl_options_new();
    cr_assert_eq(pincurl_options_set_ca_file(opts, pt_pki("cas.pem")), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_proxy(opts, proxy), PINCURL_OK);
    cr_assert_eq(pincurl_client_new(p, opts, &c), PINCURL_OK);
    pincurl_options_free(opts);
    cr_assert_eq(get(c, url, detail, sizeof detail), PINCURL_PIN_MISMATCH, "%s", detail);
    pincurl_client_free(c);
    cr_assert(pt_server_wait_closed(&icpt, 3000));
    cr_assert_gt(pt_server_connections(&icpt), 0);
    cr_assert_eq(pt_server_request_bytes(&icpt), 0, "the interceptor received the CONNECT line");

    /* the genuine proxy is let through */
    pt_proxy_start(&px, "leaf-ec-chain.pem", "leaf-ec.key");
    snprintf(proxy, sizeof proxy, "https://127.0.0.1:%d", px.port);
    opts = pincurl_options_new();
    cr_assert_eq(pincurl_options_set_ca_file(opts, pt_pki("root.pem")), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_proxy(opts, proxy), PINCURL_OK);
    cr_assert_eq(pincurl_client_new(p, opts, &c), PINCURL_OK);
    pincurl_options_free(opts);
    cr_assert_eq(get(c, url, detail, sizeof detail), PINCURL_OK, "%s", detail);
    cr_assert_eq(pt_proxy_tunnels(&px), 1);
    pincurl_client_free(c);

    pt_proxy_stop(&px);
    pincurl_policy_unref(p);
    pt_server_stop(&icpt);
    pt_server_stop(&origin);
}
