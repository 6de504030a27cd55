/*
 * The pin decision against an adversary who controls a root the device trusts (an
 * interception root) and knows every genuine certificate and public key: the certificates
 * come from tests/pki/make-adversary.sh. Each attack runs against a real TLS server on
 * loopback; where the connection must be refused, the server's log proves that no request
 * byte arrived. Every connection these tests see allowed is checked against OpenSSL's
 * verifier: the path pincurl matched must verify with `openssl verify` and the same CA
 * file, link by link, and end at a certificate of that file.
 */
#include "servers.h"
#include "support.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pincurl/pincurl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SERVERS 4
#define PATH_MAX_CERTS 16
#define CERT_MAX 8192

static pt_server servers[MAX_SERVERS];
static int server_count;

static void teardown(void)
{
    for (int i = 0; i < server_count; i++)
        pt_server_stop(&servers[i]);
    server_count = 0;
}

TestSuite(adversary, .fini = teardown, .timeout = 180);

static pt_server *start(const char *chain, const char *key, const char *host)
{
    cr_assert(server_count < MAX_SERVERS);
    pt_server *s = &servers[server_count++];
    pt_server_opts o = {.chain = chain, .key = key, .host = host, .name = "adversary"};
    pt_server_start(s, &o);
    return s;
}

/* ---- what the client saw ------------------------------------------------------------ */

typedef struct seen_path {
    size_t count;
    size_t len[PATH_MAX_CERTS];
    unsigned char der[PATH_MAX_CERTS][CERT_MAX];
} seen_path;

typedef struct seen {
    int allowed;      /* validation events that allowed */
    int refused;      /* validation events that refused */
    seen_path last_allowed;
    char ca_file[1024];
} seen;

static void on_event(const pincurl_event *ev, void *user)
{
    seen *s = user;
    if (pincurl_event_get_kind(ev) != PINCURL_EVENT_VALIDATION)
        return;
    if (pincurl_event_decision(ev) != PINCURL_DECISION_ALLOW) {
        s->refused++;
        return;
    }
    s->allowed++;
    s->last_allowed.count = 0;
    for (size_t i = 0; i < pincurl_event_path_count(ev) && i < PATH_MAX_CERTS; i++) {
        size_t len = 0;
        const unsigned char *der = pincurl_event_path_cert(ev, i, &len);
        if (der == NULL || len > CERT_MAX)
            return;
        memcpy(s->last_allowed.der[i], der, len);
        s->last_allowed.len[i] = len;
        s->last_allowed.count = i + 1;
    }
}

/* The differential check: the path pincurl matched is one OpenSSL's verifier accepts with
 * the same CA file (the whole path, then each link on its own), and its last certificate
 * is one of that file's certificates, byte for byte. */
static void expect_openssl_accepts(const seen *s)
{
    const seen_path *p = &s->last_allowed;
    const char *dir = pt_tmpdir("adversary-diff");
    char der_path[PATH_MAX_CERTS][1100], pem_path[PATH_MAX_CERTS][1100], untrusted[1100];

    cr_assert_gt(p->count, 0, "an allowed connection left no path");
    for (size_t i = 0; i < p->count; i++) {
        snprintf(der_path[i], sizeof der_path[i], "%s/%zu.der", dir, i);
        snprintf(pem_path[i], sizeof pem_path[i], "%s/%zu.pem", dir, i);
        pt_write_file(der_path[i], p->der[i], p->len[i]);
        cr_assert_eq(pt_system("openssl x509 -inform der -in '%s' -out '%s'", der_path[i],
                               pem_path[i]),
                     0);
    }
    snprintf(untrusted, sizeof untrusted, "%s/untrusted.pem", dir);
    pt_write_file(untrusted, "", 0);
    for (size_t i = 1; i + 1 < p->count; i++)
        cr_assert_eq(pt_system("cat '%s' >> '%s'", pem_path[i], untrusted), 0);
    cr_assert_eq(pt_system("openssl verify -CAfile '%s' -untrusted '%s' '%s' >/dev/null",
                           s->ca_file, untrusted, pem_path[0]),
                 0, "openssl verify refuses the path pincurl matched");
    for (size_t i = 0; i + 1 < p->count; i++)
        cr_assert_eq(pt_system("openssl verify -partial_chain -CAfile '%s' '%s' >/dev/null",
                               pem_path[i + 1], pem_path[i]),
                     0, "link %zu -> %zu of the matched path does not verify", i, i + 1);
    /* the anchor is a certificate of the CA file */
    cr_assert_eq(pt_system("python3 -c \"import ssl,sys;"
                           "t=open(sys.argv[1]).read().split('-----END CERTIFICATE-----');"
                           "cas=[ssl.PEM_cert_to_DER_cert(b.strip()+'\\n-----END CERTIFICATE-----')"
                           " for b in t if 'BEGIN CERTIFICATE' in b];"
                           "sys.exit(0 if open(sys.argv[2],'rb').read() in cas else 1)\" "
                           "'%s' '%s'",
                           s->ca_file, der_path[p->count - 1]),
                 0, "the path does not end at a certificate of the CA file");
}

/* ---- clients ------------------------------------------------------------------------ */

static pincurl_policy *policy_pins(const char *host, const char *pin1, const char *pin2)
{
    return pt_policy_exact(host, pin1, pin2);
}

static pincurl_client *client_for(pincurl_policy *p, const char *ca, int resolve_port,
                                  const char *extra_resolve, seen *s)
{
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c = NULL;
    char entry[128];
    cr_assert_not_null(o);
    snprintf(s->ca_file, sizeof s->ca_file, "%s", pt_pki(ca));
    cr_assert_eq(pincurl_options_set_ca_file(o, s->ca_file), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_connect_timeout_ms(o, 5000), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_timeout_ms(o, 20000), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_max_redirects(o, 3), PINCURL_OK);
    if (resolve_port > 0) {
        snprintf(entry, sizeof entry, "localhost:%d:127.0.0.1", resolve_port);
        cr_assert_eq(pincurl_options_add_resolve(o, entry), PINCURL_OK);
    }
    if (extra_resolve != NULL)
        cr_assert_eq(pincurl_options_add_resolve(o, extra_resolve), PINCURL_OK, "%s",
                     extra_resolve);
    cr_assert_eq(pincurl_options_set_event_callback(o, on_event, s), PINCURL_OK);
    cr_assert_eq(pincurl_client_new(p, o, &c), PINCURL_OK);
    pincurl_options_free(o);
    pincurl_policy_unref(p);
    return c;
}

static pincurl_status get_url(pincurl_client *c, const char *url, pincurl_response **resp)
{
    pincurl_request *r = pincurl_request_new("GET", url);
    cr_assert_not_null(r);
    *resp = NULL;
    pincurl_status st = pincurl_client_perform(c, r, resp);
    pincurl_request_free(r);
    cr_assert_not_null(*resp);
    return st;
}

static pincurl_status get_local(pincurl_client *c, int port, pincurl_response **resp)
{
    char url[128];
    snprintf(url, sizeof url, "https://localhost:%d/", port);
    return get_url(c, url, resp);
}

static void expect_no_request_bytes(const pt_server *s)
{
    cr_assert(pt_server_wait_closed(s, 5000), "server still has an open connection");
    cr_assert_geq(pt_server_connections(s), 1, "the client never reached the server");
    cr_assert_eq(pt_server_request_bytes(s), 0, "request bytes reached the server");
}

/* No request byte arrived after `before` (read once every earlier connection closed). */
static void expect_no_request_bytes_since(const pt_server *s, long before)
{
    cr_assert(pt_server_wait_closed(s, 5000), "server still has an open connection");
    cr_assert_eq(pt_server_request_bytes(s), before, "request bytes reached the server");
}

static void expect_path_pins(const pincurl_verdict *v, const char *const *names, size_t n)
{
    cr_assert_not_null(v);
    cr_assert_eq(v->path_len, n, "path of %zu certificates, expected %zu", v->path_len, n);
    for (size_t i = 0; i < n; i++) {
        pincurl_pin want;
        pt_pki_pin(names[i], &want);
        cr_assert(pincurl_pin_equal(&v->path_pins[i], &want), "path[%zu] is not %s", i,
                  names[i]);
    }
}

/* The attack's chain against a pinned localhost: never allowed, no request byte sent.
 * Unpinned first, with the same server and CA file: where the TLS library validates the
 * chain (it is valid: only pinning stops it), the pinned request is refused with
 * PIN_MISMATCH on the path `names`. wolfSSL 5.7.2 looks the issuer of a leaf without AKID
 * up by the leaf's own SKID, takes the genuine CA of the same name, and rejects the valid
 * chain itself (ASN signature error): then the pinned request is refused by that error too,
 * before any pin is looked at. */
static void expect_refused_then_valid(const char *chain, const char *key, const char *ca,
                                      const char *const *path_names, size_t path_len)
{
    pt_server *s = start(chain, key, NULL);
    seen ev;
    pincurl_response *resp;
    memset(&ev, 0, sizeof ev);
    pincurl_client *c =
        client_for(policy_pins("other.example", "p256", "p384"), ca, s->port, NULL, &ev);
    pincurl_status plain = get_local(c, s->port, &resp);
    cr_assert(plain == PINCURL_OK || plain == PINCURL_CERT_INVALID, "unpinned: %s %s",
              pincurl_status_name(plain), pincurl_response_detail(resp));
    if (plain == PINCURL_CERT_INVALID)
        cr_log_info("the TLS library itself refuses this chain (%s): %s",
                    pincurl_runtime()->tls_library, pincurl_response_detail(resp));
    pincurl_response_free(resp);
    pincurl_client_free(c);
    cr_assert(pt_server_wait_closed(s, 5000), "server still has an open connection");
    long before = pt_server_request_bytes(s);

    memset(&ev, 0, sizeof ev);
    c = client_for(policy_pins("localhost", "root", "inter"), ca, s->port, NULL, &ev);
    pincurl_status st = get_local(c, s->port, &resp);
    cr_assert_eq(ev.allowed, 0);
    if (plain == PINCURL_OK) {
        cr_assert_eq(st, PINCURL_PIN_MISMATCH, "got %s: %s", pincurl_status_name(st),
                     pincurl_response_detail(resp));
        const pincurl_verdict *v = pincurl_response_verdict(resp);
        cr_assert_eq(v->result, PINCURL_RESULT_PIN_MISMATCH);
        expect_path_pins(v, path_names, path_len);
    } else {
        cr_assert_eq(st, PINCURL_CERT_INVALID, "got %s: %s", pincurl_status_name(st),
                     pincurl_response_detail(resp));
    }
    pincurl_response_free(resp);
    pincurl_client_free(c);
    expect_no_request_bytes_since(s, before);
}

/* A pinned GET of url allowed at depth with the pin of `pin_name`; the path is checked
 * with OpenSSL. */
static void expect_allowed(pincurl_client *c, seen *ev, const char *url, const char *pin_name,
                           int depth)
{
    pincurl_response *resp;
    pincurl_status st = get_url(c, url, &resp);
    cr_assert_eq(st, PINCURL_OK, "%s: %s %s", url, pincurl_status_name(st),
                 pincurl_response_detail(resp));
    cr_assert_eq(pincurl_response_code(resp), 200);
    const pincurl_verdict *v = pincurl_response_verdict(resp);
    cr_assert_not_null(v);
    cr_assert_eq(v->result, PINCURL_RESULT_SUCCESS);
    cr_assert_eq(v->matched_depth, depth);
    pincurl_pin want;
    pt_pki_pin(pin_name, &want);
    cr_assert(pincurl_pin_equal(&v->matched_pin, &want), "matched pin is not %s's", pin_name);
    pincurl_response_free(resp);
    cr_assert_gt(ev->allowed, 0);
    expect_openssl_accepts(ev);
}

/* ---- lookalike CAs ------------------------------------------------------------------ */

Test(adversary, lookalike_root_leaf_without_akid_is_refused)
{
    const char *path[] = {"adv-lookalike-leaf", "adv-lookalike-root"};
    expect_refused_then_valid("adv-lookalike-leaf.pem", "adv-lookalike-leaf.key",
                              "adv-lookalike-cas.pem", path, 2);
}

Test(adversary, lookalike_root_leaf_with_akid_is_refused)
{
    const char *path[] = {"adv-lookalike-leaf-akid", "adv-lookalike-root"};
    expect_refused_then_valid("adv-lookalike-leaf-akid.pem", "adv-lookalike-leaf.key",
                              "adv-lookalike-cas.pem", path, 2);
}

Test(adversary, lookalike_intermediate_with_the_genuine_one_padded_in_is_refused)
{
    const char *path[] = {"adv-lookalike-inter-leaf", "adv-lookalike-inter-root"};
    expect_refused_then_valid("adv-lookalike-inter-chain.pem", "adv-lookalike-inter-leaf.key",
                              "adv-lookalike-inter-cas.pem", path, 2);
}

Test(adversary, lookalike_intermediate_with_akid_is_refused)
{
    const char *path[] = {"adv-lookalike-inter-leaf-akid", "adv-lookalike-inter-root"};
    expect_refused_then_valid("adv-lookalike-inter-akid-chain.pem",
                              "adv-lookalike-inter-leaf.key", "adv-lookalike-inter-cas.pem",
                              path, 2);
}

Test(adversary, self_issued_certificate_with_the_pinned_key_is_not_an_anchor)
{
    /* adv-selfissued carries the genuine root's name and public key, but R' signed it:
     * the only anchor (R') ends the path, and the root's pin is not on it */
    const char *path[] = {"adv-lookalike-leaf", "adv-lookalike-root"};
    expect_refused_then_valid("adv-selfissued-chain.pem", "adv-lookalike-leaf.key",
                              "adv-lookalike-only.pem", path, 2);
}

Test(adversary, anchor_with_the_pinned_name_and_another_key_is_refused)
{
    /* the genuine chain, root included, to a client whose only anchor has the root's name
     * but another key: there is no path, whatever the pins */
    pt_server *s = start("leaf-ec-fullchain.pem", "leaf-ec.key", NULL);
    seen ev;
    memset(&ev, 0, sizeof ev);
    pincurl_client *c = client_for(policy_pins("localhost", "root", "adv-samename-root"),
                                   "adv-samename-cas.pem", s->port, NULL, &ev);
    pincurl_response *resp;
    pincurl_status st = get_local(c, s->port, &resp);
    cr_assert_eq(st, PINCURL_CERT_INVALID, "got %s: %s", pincurl_status_name(st),
                 pincurl_response_detail(resp));
    cr_assert_eq(ev.allowed, 0);
    pincurl_response_free(resp);
    pincurl_client_free(c);
    expect_no_request_bytes(s);
}

/* ---- cross-signed roots: which pins are accepted ------------------------------------ */

Test(adversary, cross_signed_roots_the_shortest_path_to_an_anchor_decides)
{
    pt_server *s = start("adv-xleaf-chain.pem", "adv-xleaf.key", NULL);
    char url[128];
    snprintf(url, sizeof url, "https://localhost:%d/", s->port);
    seen ev;

    /* Both roots trusted: the path ends at B, the anchor the intermediate names; A's key
     * is not on it. */
    memset(&ev, 0, sizeof ev);
    pincurl_client *c = client_for(policy_pins("localhost", "adv-xroot-b", "p256"),
                                   "adv-xroots.pem", s->port, NULL, &ev);
    expect_allowed(c, &ev, url, "adv-xroot-b", 2);
    pincurl_client_free(c);

    memset(&ev, 0, sizeof ev);
    c = client_for(policy_pins("localhost", "adv-xroot-a", "p256"), "adv-xroots.pem", s->port,
                   NULL, &ev);
    pincurl_response *resp;
    pincurl_status st = get_url(c, url, &resp);
    cr_assert_eq(st, PINCURL_PIN_MISMATCH, "got %s", pincurl_status_name(st));
    const char *path3[] = {"adv-xleaf", "adv-xinter", "adv-xroot-b"};
    expect_path_pins(pincurl_response_verdict(resp), path3, 3);
    pincurl_response_free(resp);
    pincurl_client_free(c);

    /* Only A trusted: the path goes through the cross certificate to A, and A's pin (and
     * B's key, carried by the cross certificate) are on it. */
    memset(&ev, 0, sizeof ev);
    c = client_for(policy_pins("localhost", "adv-xroot-a", "p256"), "adv-xroot-a-only.pem",
                   s->port, NULL, &ev);
    expect_allowed(c, &ev, url, "adv-xroot-a", 3);
    pincurl_client_free(c);
}

/* ---- the host name ------------------------------------------------------------------ */

static size_t discard(char *data, size_t size, size_t nmemb, void *user)
{
    (void)data;
    (void)user;
    return size * nmemb;
}

Test(adversary, attached_handle_without_host_check_is_refused_for_another_hosts_leaf)
{
    /* A leaf for other.example under the pinned intermediate; the application's own handle
     * switched host name checking off. The pins match; the host does not. */
    pt_server *s = start("leaf-otherhost-chain.pem", "leaf-otherhost.key", NULL);
    seen ev;
    memset(&ev, 0, sizeof ev);
    pincurl_client *c = client_for(policy_pins("localhost", "root", "inter"), "root.pem", 0,
                                   NULL, &ev);
    CURL *e = curl_easy_init();
    cr_assert_not_null(e);
    char url[128], resolve[128];
    snprintf(url, sizeof url, "https://localhost:%d/", s->port);
    snprintf(resolve, sizeof resolve, "localhost:%d:127.0.0.1", s->port);
    struct curl_slist *r = curl_slist_append(NULL, resolve);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_RESOLVE, r);
    curl_easy_setopt(e, CURLOPT_CAINFO, pt_pki("root.pem"));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    pincurl_attachment *a = NULL;
    cr_assert_eq(pincurl_attach(c, e, &a), PINCURL_OK);
    CURLcode rc = curl_easy_perform(e);
    cr_assert_neq(rc, CURLE_OK);
    cr_assert_eq(pincurl_attachment_status(a, (int)rc), PINCURL_HOST_MISMATCH, "got %s: %s",
                 pincurl_status_name(pincurl_attachment_status(a, (int)rc)),
                 pincurl_attachment_detail(a));
    cr_assert_eq(ev.allowed, 0);
    pincurl_detach(a);
    curl_easy_cleanup(e);
    curl_slist_free_all(r);
    pincurl_client_free(c);
    expect_no_request_bytes(s);
}

Test(adversary, ipv6_literal_with_an_ip_san_is_accepted_pinned_and_unpinned)
{
    pt_server *s = start("leaf-ec-chain.pem", "leaf-ec.key", "::1");
    char url[128];
    seen ev;
    snprintf(url, sizeof url, "https://[::1]:%d/", s->port);

    memset(&ev, 0, sizeof ev);
    pincurl_client *c = client_for(policy_pins("::1", "inter", "p256"), "root.pem", 0, NULL,
                                   &ev);
    expect_allowed(c, &ev, url, "inter", 1);
    pincurl_client_free(c);

    /* unpinned: ordinary validation accepts the IP SAN too */
    memset(&ev, 0, sizeof ev);
    c = client_for(policy_pins("other.example", "p256", "p384"), "root.pem", 0, NULL, &ev);
    pincurl_response *resp;
    pincurl_status st = get_url(c, url, &resp);
    cr_assert_eq(st, PINCURL_OK, "got %s: %s", pincurl_status_name(st),
                 pincurl_response_detail(resp));
    cr_assert_eq(pincurl_response_code(resp), 200);
    pincurl_response_free(resp);
    pincurl_client_free(c);
}

Test(adversary, ipv6_spelled_differently_in_url_and_certificate)
{
    /* the certificate says ::1 (16 bytes); the URL spells it out in full */
    pt_server *s = start("leaf-ec-chain.pem", "leaf-ec.key", "::1");
    char url[128];
    seen ev;
    memset(&ev, 0, sizeof ev);
    snprintf(url, sizeof url, "https://[0:0:0:0:0:0:0:1]:%d/", s->port);
    pincurl_client *c = client_for(policy_pins("::1", "leaf-ec", "p256"), "root.pem", 0, NULL,
                                   &ev);
    expect_allowed(c, &ev, url, "leaf-ec", 0);
    pincurl_client_free(c);
}

Test(adversary, ipv6_literal_not_in_the_certificate_is_a_host_mismatch)
{
    pt_server *s = start("leaf-otherhost-chain.pem", "leaf-otherhost.key", "::1");
    char url[128];
    seen ev;
    snprintf(url, sizeof url, "https://[::1]:%d/", s->port);
    for (int pinned = 0; pinned < 2; pinned++) {
        memset(&ev, 0, sizeof ev);
        pincurl_client *c =
            client_for(pinned ? policy_pins("::1", "root", "inter")
                              : policy_pins("other.example", "p256", "p384"),
                       "root.pem", 0, NULL, &ev);
        pincurl_response *resp;
        pincurl_status st = get_url(c, url, &resp);
        cr_assert_eq(st, PINCURL_HOST_MISMATCH, "pinned=%d: got %s: %s", pinned,
                     pincurl_status_name(st), pincurl_response_detail(resp));
        pincurl_response_free(resp);
        pincurl_client_free(c);
    }
    expect_no_request_bytes(s);
}

/* ---- IPv4-mapped IPv6 --------------------------------------------------------------- */

Test(adversary, ipv4_mapped_url_is_decided_by_the_ipv4_entry)
{
    pt_server *s = start("leaf-ec-chain.pem", "leaf-ec.key", NULL);
    const char *spellings[] = {"[::ffff:127.0.0.1]", "[::FFFF:7f00:1]",
                               "[0:0:0:0:0:ffff:127.0.0.1]"};
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        char url[128];
        seen ev;
        memset(&ev, 0, sizeof ev);
        snprintf(url, sizeof url, "https://%s:%d/", spellings[i], s->port);
        pincurl_client *c = client_for(policy_pins("127.0.0.1", "p256", "p384"), "root.pem", 0,
                                       NULL, &ev);
        pincurl_response *resp;
        pincurl_status st = get_url(c, url, &resp);
        cr_assert_eq(st, PINCURL_PIN_MISMATCH, "%s: got %s: %s", url, pincurl_status_name(st),
                     pincurl_response_detail(resp));
        const pincurl_verdict *v = pincurl_response_verdict(resp);
        cr_assert_not_null(v);
        cr_assert_str_eq(v->noted_host, "127.0.0.1");
        pincurl_response_free(resp);
        pincurl_client_free(c);
    }
    expect_no_request_bytes(s);
}

Test(adversary, ipv4_mapped_url_with_matching_pins_is_allowed)
{
    pt_server *s = start("leaf-ec-chain.pem", "leaf-ec.key", NULL);
    char url[128];
    seen ev;
    memset(&ev, 0, sizeof ev);
    snprintf(url, sizeof url, "https://[::ffff:127.0.0.1]:%d/", s->port);
    pincurl_client *c = client_for(policy_pins("127.0.0.1", "root", "p256"), "root.pem", 0,
                                   NULL, &ev);
    if (strcmp(pincurl_client_tls_backend(c), "openssl") == 0) {
        /* pincurl allows (the 127.0.0.1 entry, its pins); then curl's own host check on
         * OpenSSL (Curl_ossl_verifyhost, after the handshake) compares the 16-byte mapped
         * address with the 4-byte entry and refuses before any request byte */
        pincurl_response *resp;
        pincurl_status st = get_url(c, url, &resp);
        cr_assert_neq(st, PINCURL_OK);
        cr_assert_eq(ev.allowed, 1);
        cr_assert_str_eq(pincurl_response_verdict(resp)->noted_host, "127.0.0.1");
        pincurl_response_free(resp);
        pincurl_client_free(c);
        expect_openssl_accepts(&ev);
        expect_no_request_bytes(s);
        return;
    }
    expect_allowed(c, &ev, url, "root", 2);
    pincurl_client_free(c);
}

Test(adversary, redirect_to_an_ipv4_mapped_url_is_decided_by_the_ipv4_entry)
{
    pt_server *start_srv = start("leaf-ec-chain.pem", "leaf-ec.key", NULL);
    pt_server *target = start("leaf-ec-chain.pem", "leaf-ec.key", NULL);
    char url[256];
    seen ev;
    memset(&ev, 0, sizeof ev);
    snprintf(url, sizeof url,
             "https://localhost:%d/redirect?to=https://%%5B::ffff:127.0.0.1%%5D:%d/",
             start_srv->port, target->port);
    pincurl_client *c = client_for(policy_pins("127.0.0.1", "p256", "p384"), "root.pem",
                                   start_srv->port, NULL, &ev);
    pincurl_response *resp;
    pincurl_status st = get_url(c, url, &resp);
    cr_assert_eq(st, PINCURL_PIN_MISMATCH, "got %s: %s", pincurl_status_name(st),
                 pincurl_response_detail(resp));
    cr_assert_str_eq(pincurl_response_verdict(resp)->noted_host, "127.0.0.1");
    pincurl_response_free(resp);
    pincurl_client_free(c);
    cr_assert_gt(pt_server_request_bytes(start_srv), 0);
    expect_no_request_bytes(target);
}

Test(adversary, a_resolve_entry_to_an_ipv4_mapped_address_decides_on_the_name)
{
    /* --resolve sends a pinned name to ::ffff:127.0.0.1 (the IPv4 server): the name's entry
     * decides, whatever spelling the address has */
    pt_server *s = start("leaf-ec-chain.pem", "leaf-ec.key", NULL);
    char url[128], entry[128];
    seen ev;
    memset(&ev, 0, sizeof ev);
    snprintf(url, sizeof url, "https://localhost:%d/", s->port);
    snprintf(entry, sizeof entry, "localhost:%d:::ffff:127.0.0.1", s->port);
    pincurl_client *c = client_for(policy_pins("localhost", "p256", "p384"), "root.pem", 0,
                                   entry, &ev);
    pincurl_response *resp;
    pincurl_status st = get_url(c, url, &resp);
    cr_assert_eq(st, PINCURL_PIN_MISMATCH, "got %s: %s", pincurl_status_name(st),
                 pincurl_response_detail(resp));
    cr_assert_str_eq(pincurl_response_verdict(resp)->noted_host, "localhost");
    pincurl_response_free(resp);
    pincurl_client_free(c);
    expect_no_request_bytes(s);
}

/* ---- the genuine chain still passes, and OpenSSL agrees ----------------------------- */

Test(adversary, genuine_chains_are_allowed_and_openssl_agrees)
{
    pt_server *s = start("leaf-ec-chain.pem", "leaf-ec.key", NULL);
    pt_server *full = start("leaf-ec-fullchain.pem", "leaf-ec.key", NULL);
    pt_server *rsa = start("leaf-rsa-chain.pem", "leaf-rsa.key", NULL);
    const struct {
        pt_server *srv;
        const char *pin;
        int depth;
        const char *ca;
    } cases[] = {
        {s, "root", 2, "root.pem"},
        {s, "inter", 1, "adv-lookalike-cas.pem"},
        {full, "root", 2, "root.pem"},
        {rsa, "leaf-rsa", 0, "root.pem"},
        {s, "root", 2, "adv-lookalike-inter-cas.pem"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        seen ev;
        char url[128];
        memset(&ev, 0, sizeof ev);
        snprintf(url, sizeof url, "https://localhost:%d/", cases[i].srv->port);
        pincurl_client *c = client_for(policy_pins("localhost", cases[i].pin, "p256"),
                                       cases[i].ca, cases[i].srv->port, NULL, &ev);
        expect_allowed(c, &ev, url, cases[i].pin, cases[i].depth);
        pincurl_client_free(c);
    }
}
