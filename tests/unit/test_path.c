/*
 * pincurl_path_build on the generated PKIs (tests/pki/make-pki.sh, make-adversary.sh):
 * exact paths, exact refusals, bounds, callback failures and malformed input. The trust
 * store is a PEM file of the PKI; signatures are verified with wolfCrypt (the wolfSSL
 * backend's function), itself checked against `openssl verify` below.
 */
#include "support.h"

#include "core/der.h"
#include "tls/tls.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- a trust store from a PKI file ------------------------------------------------- */

typedef struct store {
    pincurl_cert_list *list;
    int fail;          /* anchors_by_subject returns an error */
    size_t repeat;     /* each match is returned this many times (distinct copies) */
    unsigned char *copies[64];
    size_t ncopies;
} store;

static size_t store_by_subject(void *ctx, const unsigned char *name, size_t name_len,
                               pincurl_cert_ref *out, size_t max)
{
    store *s = ctx;
    size_t n = 0;
    if (s->fail)
        return (size_t)-1;
    for (size_t i = 0; i < pincurl_cert_list_count(s->list); i++) {
        size_t len = 0;
        const unsigned char *der = pincurl_cert_list_der(s->list, i, &len);
        const unsigned char *subj;
        size_t subj_len;
        cr_assert_eq(pc_der_cert_subject(der, len, &subj, &subj_len), PINCURL_OK);
        if (subj_len != name_len || memcmp(subj, name, name_len) != 0)
            continue;
        for (size_t r = 0; r < (s->repeat ? s->repeat : 1); r++) {
            const unsigned char *p = der;
            if (r > 0) {
                if (s->ncopies < 64) {
                    s->copies[s->ncopies] = malloc(len);
                    memcpy(s->copies[s->ncopies], der, len);
                    p = s->copies[s->ncopies++];
                }
            }
            if (n < max) {
                out[n].der = p;
                out[n].len = len;
            }
            n++;
        }
    }
    return n;
}

typedef struct verifier {
    int calls;
    int mode; /* 0: wolfCrypt; 1: error; 2: only the leaf verifies (under anything) */
    const unsigned char *leaf;
} verifier;

static verifier *g_verifier;

static int verify_sig(void *ctx, const unsigned char *cert, size_t cert_len,
                      const unsigned char *spki, size_t spki_len)
{
    (void)ctx;
    g_verifier->calls++;
    if (g_verifier->mode == 1)
        return -1;
    if (g_verifier->mode == 2)
        return cert == g_verifier->leaf ? 1 : 0;
    return pc_tls_wolfssl_verify_signature(cert, cert_len, spki, spki_len);
}

static void store_open(store *s, const char *pem)
{
    size_t len;
    unsigned char *data = pt_read_file(pt_pki(pem), &len);
    memset(s, 0, sizeof *s);
    cr_assert_eq(pincurl_cert_list_load(data, len, NULL, &s->list), PINCURL_OK, "%s", pem);
    free(data);
}

static void store_close(store *s)
{
    pincurl_cert_list_free(s->list);
    for (size_t i = 0; i < s->ncopies; i++)
        free(s->copies[i]);
}

typedef struct chain {
    pincurl_cert_list *list;
    pincurl_cert_ref refs[PINCURL_MAX_SERVED];
    size_t count;
} chain;

static void chain_open(chain *c, const char *pem)
{
    size_t len;
    unsigned char *data = pt_read_file(pt_pki(pem), &len);
    cr_assert_eq(pincurl_cert_list_load(data, len, NULL, &c->list), PINCURL_OK, "%s", pem);
    free(data);
    c->count = pincurl_cert_list_count(c->list);
    for (size_t i = 0; i < c->count; i++)
        c->refs[i].der = pincurl_cert_list_der(c->list, i, &c->refs[i].len);
}

static int64_t now(void)
{
    return (int64_t)time(NULL);
}

/* Builds served (a PKI chain file) against anchors (a PKI PEM file). */
static pincurl_status build(const char *served, const char *anchors, int64_t at,
                            pincurl_cert_ref *path, size_t max, size_t *path_len,
                            chain *c, store *s, verifier *v)
{
    chain_open(c, served);
    store_open(s, anchors);
    memset(v, 0, sizeof *v);
    g_verifier = v;
    pincurl_trust trust = {store_by_subject, verify_sig, s};
    return pincurl_path_build(c->refs, c->count, &trust, at, path, max, path_len);
}

static void expect_pins(const pincurl_cert_ref *path, size_t n, const char *const *names,
                        size_t want)
{
    cr_assert_eq(n, want, "path of %zu, expected %zu", n, want);
    for (size_t i = 0; i < n; i++) {
        pincurl_pin got, expect;
        cr_assert_eq(pincurl_pin_from_cert_der(path[i].der, path[i].len, &got), PINCURL_OK);
        pt_pki_pin(names[i], &expect);
        cr_assert(pincurl_pin_equal(&got, &expect), "path[%zu] is not %s", i, names[i]);
    }
}

/* 1 if ref points into the store's certificates (the path ends at the store's copy). */
static int from_store(const store *s, const pincurl_cert_ref *ref)
{
    for (size_t i = 0; i < pincurl_cert_list_count(s->list); i++) {
        size_t len;
        if (pincurl_cert_list_der(s->list, i, &len) == ref->der)
            return 1;
    }
    return 0;
}

static void done(chain *c, store *s)
{
    pincurl_cert_list_free(c->list);
    store_close(s);
}

/* ---- paths -------------------------------------------------------------------------- */

Test(path, genuine_chain_ends_at_the_stores_root)
{
    chain c;
    store s;
    verifier v;
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    size_t n = 99;
    const char *want[] = {"leaf-ec", "inter", "root"};
    cr_assert_eq(build("leaf-ec-chain.pem", "root.pem", now(), path, PINCURL_MAX_PATH, &n, &c,
                       &s, &v),
                 PINCURL_OK);
    expect_pins(path, n, want, 3);
    cr_assert(from_store(&s, &path[2]));
    cr_assert_eq(path[0].der, c.refs[0].der);
    cr_assert_eq(v.calls, 2);
    done(&c, &s);

    /* the root sent along: the path still ends at the store's certificate */
    cr_assert_eq(build("leaf-ec-fullchain.pem", "root.pem", now(), path, PINCURL_MAX_PATH, &n,
                       &c, &s, &v),
                 PINCURL_OK);
    expect_pins(path, n, want, 3);
    cr_assert(from_store(&s, &path[2]));
    done(&c, &s);
}

Test(path, rsa_leaf)
{
    chain c;
    store s;
    verifier v;
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    size_t n;
    const char *want[] = {"leaf-rsa", "inter", "root"};
    cr_assert_eq(build("leaf-rsa-chain.pem", "root.pem", now(), path, PINCURL_MAX_PATH, &n, &c,
                       &s, &v),
                 PINCURL_OK);
    expect_pins(path, n, want, 3);
    done(&c, &s);
}

Test(path, lookalike_root_without_and_with_akid)
{
    const char *leaves[] = {"adv-lookalike-leaf.pem", "adv-lookalike-leaf-akid.pem"};
    const char *names[] = {"adv-lookalike-leaf", "adv-lookalike-leaf-akid"};
    for (int i = 0; i < 2; i++) {
        chain c;
        store s;
        verifier v;
        pincurl_cert_ref path[PINCURL_MAX_PATH];
        size_t n;
        const char *want[] = {names[i], "adv-lookalike-root"};
        cr_assert_eq(build(leaves[i], "adv-lookalike-cas.pem", now(), path, PINCURL_MAX_PATH,
                           &n, &c, &s, &v),
                     PINCURL_OK);
        expect_pins(path, n, want, 2);
        cr_assert(from_store(&s, &path[1]));
        done(&c, &s);
    }
}

Test(path, lookalike_intermediate_with_the_genuine_one_padded_in)
{
    chain c;
    store s;
    verifier v;
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    size_t n;
    const char *want[] = {"adv-lookalike-inter-leaf", "adv-lookalike-inter-root"};
    cr_assert_eq(build("adv-lookalike-inter-chain.pem", "adv-lookalike-inter-cas.pem", now(),
                       path, PINCURL_MAX_PATH, &n, &c, &s, &v),
                 PINCURL_OK);
    expect_pins(path, n, want, 2);
    done(&c, &s);
}

Test(path, self_issued_certificate_is_no_anchor)
{
    chain c;
    store s;
    verifier v;
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    size_t n;
    const char *want[] = {"adv-lookalike-leaf", "adv-lookalike-root"};
    cr_assert_eq(build("adv-selfissued-chain.pem", "adv-lookalike-only.pem", now(), path,
                       PINCURL_MAX_PATH, &n, &c, &s, &v),
                 PINCURL_OK);
    expect_pins(path, n, want, 2);
    done(&c, &s);

    /* served alone as the "anchor" of a chain: its key is the root's, but R' signed it */
    cr_assert_eq(build("adv-selfissued.pem", "root.pem", now(), path, PINCURL_MAX_PATH, &n, &c,
                       &s, &v),
                 PINCURL_CERT_INVALID);
    cr_assert_eq(n, 0);
    done(&c, &s);
}

Test(path, anchor_with_the_name_but_another_key_is_not_the_anchor)
{
    chain c;
    store s;
    verifier v;
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    size_t n = 7;
    cr_assert_eq(build("leaf-ec-fullchain.pem", "adv-samename-cas.pem", now(), path,
                       PINCURL_MAX_PATH, &n, &c, &s, &v),
                 PINCURL_CERT_INVALID);
    cr_assert_eq(n, 0);
    done(&c, &s);
}

Test(path, cross_signed_roots_shortest_path)
{
    chain c;
    store s;
    verifier v;
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    size_t n;
    const char *both[] = {"adv-xleaf", "adv-xinter", "adv-xroot-b"};
    cr_assert_eq(build("adv-xleaf-chain.pem", "adv-xroots.pem", now(), path, PINCURL_MAX_PATH,
                       &n, &c, &s, &v),
                 PINCURL_OK);
    expect_pins(path, n, both, 3);
    cr_assert(from_store(&s, &path[2]));
    done(&c, &s);

    const char *via_a[] = {"adv-xleaf", "adv-xinter", "adv-xroot-b-by-a", "adv-xroot-a"};
    cr_assert_eq(build("adv-xleaf-chain.pem", "adv-xroot-a-only.pem", now(), path,
                       PINCURL_MAX_PATH, &n, &c, &s, &v),
                 PINCURL_OK);
    expect_pins(path, n, via_a, 4);
    cr_assert_eq(path[2].der, c.refs[2].der); /* the served cross certificate */
    done(&c, &s);

    /* a path limit of 3 leaves only the path through B; with A alone there is none */
    cr_assert_eq(build("adv-xleaf-chain.pem", "adv-xroot-a-only.pem", now(), path, 3, &n, &c,
                       &s, &v),
                 PINCURL_CERT_INVALID);
    done(&c, &s);
}

Test(path, issuers_that_may_not_sign)
{
    chain c;
    store s;
    verifier v;
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    size_t n;
    cr_assert_eq(build("adv-under-leaf-chain.pem", "root.pem", now(), path, PINCURL_MAX_PATH,
                       &n, &c, &s, &v),
                 PINCURL_CERT_INVALID);
    done(&c, &s);
    cr_assert_eq(build("adv-ku-leaf-chain.pem", "root.pem", now(), path, PINCURL_MAX_PATH, &n,
                       &c, &s, &v),
                 PINCURL_CERT_INVALID);
    done(&c, &s);
}

Test(path, leaf_is_an_anchor_only_when_byte_identical)
{
    chain c;
    store s;
    verifier v;
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    size_t n;
    cr_assert_eq(build("leaf-ec.pem", "leaf-ec.pem", now(), path, PINCURL_MAX_PATH, &n, &c, &s,
                       &v),
                 PINCURL_OK);
    cr_assert_eq(n, 1);
    cr_assert(from_store(&s, &path[0]));
    cr_assert_eq(v.calls, 0);
    done(&c, &s);
    /* another certificate for localhost does not make the served leaf an anchor */
    cr_assert_eq(build("leaf-ec.pem", "leaf-rsa.pem", now(), path, PINCURL_MAX_PATH, &n, &c,
                       &s, &v),
                 PINCURL_CERT_INVALID);
    done(&c, &s);
}

Test(path, validity_is_checked_at_now)
{
    chain c;
    store s;
    verifier v;
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    size_t n;
    cr_assert_eq(build("leaf-expired-chain.pem", "root.pem", now(), path, PINCURL_MAX_PATH, &n,
                       &c, &s, &v),
                 PINCURL_CERT_INVALID);
    done(&c, &s);
    /* 2020-06-01: within the expired leaf's validity, and within the intermediate's only if
     * it was already valid then (it is not: made today) */
    cr_assert_eq(build("leaf-expired-chain.pem", "root.pem", 1590969600, path, PINCURL_MAX_PATH,
                       &n, &c, &s, &v),
                 PINCURL_CERT_INVALID);
    done(&c, &s);
    cr_assert_eq(build("leaf-ec-chain.pem", "root.pem", now() + 3650LL * 86400, path,
                       PINCURL_MAX_PATH, &n, &c, &s, &v),
                 PINCURL_CERT_INVALID);
    done(&c, &s);
}

/* ---- bounds and failures ------------------------------------------------------------ */

Test(path, path_length_bound)
{
    chain c;
    store s;
    verifier v;
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    size_t n;
    cr_assert_eq(build("leaf-ec-chain.pem", "root.pem", now(), path, 2, &n, &c, &s, &v),
                 PINCURL_CERT_INVALID);
    cr_assert_eq(n, 0);
    done(&c, &s);
    cr_assert_eq(build("leaf-ec-chain.pem", "root.pem", now(), path, 3, &n, &c, &s, &v),
                 PINCURL_OK);
    cr_assert_eq(n, 3);
    done(&c, &s);
}

Test(path, signature_budget_is_bounded)
{
    /* the leaf, then 31 copies of the intermediate; the store returns 8 copies of a root
     * that verifies nothing: 31 x 8 candidate links exceed the budget */
    chain c;
    store s;
    verifier v;
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    pincurl_cert_ref served[PINCURL_MAX_SERVED];
    unsigned char *copies[PINCURL_MAX_SERVED];
    size_t n = 5;
    chain_open(&c, "leaf-ec-chain.pem");
    store_open(&s, "adv-samename-cas.pem");
    s.repeat = 8;
    served[0] = c.refs[0];
    for (size_t i = 1; i < PINCURL_MAX_SERVED; i++) {
        copies[i] = malloc(c.refs[1].len);
        memcpy(copies[i], c.refs[1].der, c.refs[1].len);
        served[i].der = copies[i];
        served[i].len = c.refs[1].len;
    }
    memset(&v, 0, sizeof v);
    v.mode = 2;
    v.leaf = served[0].der;
    g_verifier = &v;
    pincurl_trust trust = {store_by_subject, verify_sig, &s};
    cr_assert_eq(pincurl_path_build(served, PINCURL_MAX_SERVED, &trust, now(), path,
                                    PINCURL_MAX_PATH, &n),
                 PINCURL_LIMIT_EXCEEDED);
    cr_assert_eq(n, 0);
    cr_assert_eq(v.calls, PINCURL_MAX_PATH_SIGNATURES);
    /* one more served certificate than allowed */
    pincurl_cert_ref many[PINCURL_MAX_SERVED + 1];
    memcpy(many, served, sizeof served);
    many[PINCURL_MAX_SERVED] = served[1];
    cr_assert_eq(pincurl_path_build(many, PINCURL_MAX_SERVED + 1, &trust, now(), path,
                                    PINCURL_MAX_PATH, &n),
                 PINCURL_LIMIT_EXCEEDED);
    for (size_t i = 1; i < PINCURL_MAX_SERVED; i++)
        free(copies[i]);
    done(&c, &s);
}

Test(path, too_many_anchors_with_one_name)
{
    chain c;
    store s;
    verifier v;
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    size_t n;
    chain_open(&c, "leaf-ec-chain.pem");
    store_open(&s, "root.pem");
    s.repeat = PINCURL_MAX_ANCHORS_PER_NAME + 1;
    memset(&v, 0, sizeof v);
    g_verifier = &v;
    pincurl_trust trust = {store_by_subject, verify_sig, &s};
    cr_assert_eq(pincurl_path_build(c.refs, c.count, &trust, now(), path, PINCURL_MAX_PATH, &n),
                 PINCURL_LIMIT_EXCEEDED);
    s.repeat = PINCURL_MAX_ANCHORS_PER_NAME;
    cr_assert_eq(pincurl_path_build(c.refs, c.count, &trust, now(), path, PINCURL_MAX_PATH, &n),
                 PINCURL_OK);
    done(&c, &s);
}

Test(path, callback_errors_refuse)
{
    chain c;
    store s;
    verifier v;
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    size_t n = 3;
    chain_open(&c, "leaf-ec-chain.pem");
    store_open(&s, "root.pem");
    memset(&v, 0, sizeof v);
    g_verifier = &v;
    pincurl_trust trust = {store_by_subject, verify_sig, &s};
    v.mode = 1;
    cr_assert_eq(pincurl_path_build(c.refs, c.count, &trust, now(), path, PINCURL_MAX_PATH, &n),
                 PINCURL_INTERNAL);
    cr_assert_eq(n, 0);
    v.mode = 0;
    s.fail = 1;
    cr_assert_eq(pincurl_path_build(c.refs, c.count, &trust, now(), path, PINCURL_MAX_PATH, &n),
                 PINCURL_INTERNAL);
    s.fail = 0;
    pincurl_trust no_cb = {NULL, verify_sig, &s};
    cr_assert_eq(pincurl_path_build(c.refs, c.count, &no_cb, now(), path, PINCURL_MAX_PATH, &n),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_path_build(NULL, 1, &trust, now(), path, PINCURL_MAX_PATH, &n),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_path_build(c.refs, 0, &trust, now(), path, PINCURL_MAX_PATH, &n),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_path_build(c.refs, c.count, &trust, now(), path, 0, &n),
                 PINCURL_INVALID_ARGUMENT);
    done(&c, &s);
}

Test(path, every_truncation_and_flipped_byte_fails_closed)
{
    chain c;
    store s;
    verifier v;
    pincurl_cert_ref path[PINCURL_MAX_PATH];
    size_t n;
    chain_open(&c, "leaf-ec-chain.pem");
    store_open(&s, "root.pem");
    memset(&v, 0, sizeof v);
    g_verifier = &v;
    pincurl_trust trust = {store_by_subject, verify_sig, &s};
    size_t len = c.refs[1].len;
    unsigned char *buf = malloc(len);
    pincurl_cert_ref served[2] = {c.refs[0], {buf, 0}};
    for (size_t cut = 1; cut < len; cut++) {
        memcpy(buf, c.refs[1].der, cut);
        served[1].len = cut;
        cr_assert_neq(pincurl_path_build(served, 2, &trust, now(), path, PINCURL_MAX_PATH, &n),
                      PINCURL_OK, "intermediate cut to %zu bytes", cut);
        cr_assert_eq(n, 0);
    }
    /* every flipped byte of the intermediate: never a path that differs from the genuine */
    served[1].len = len;
    for (size_t i = 0; i < len; i++) {
        memcpy(buf, c.refs[1].der, len);
        buf[i] ^= 0x01;
        pincurl_status st =
            pincurl_path_build(served, 2, &trust, now(), path, PINCURL_MAX_PATH, &n);
        cr_assert_neq(st, PINCURL_OK, "byte %zu flipped still builds a path", i);
    }
    free(buf);
    done(&c, &s);
}

/* ---- the wolfCrypt verifier against openssl ------------------------------------------ */

Test(path, wolfcrypt_signatures_agree_with_openssl)
{
    /* each key-zoo certificate is self-signed: its own key verifies it, another does not */
    const char *zoo[] = {"rsa2048", "rsa3072", "p256", "p384", "p521", "ed25519", "ed448"};
    for (size_t i = 0; i < sizeof zoo / sizeof zoo[0]; i++) {
        char name[64];
        size_t len, olen;
        snprintf(name, sizeof name, "%s.der", zoo[i]);
        unsigned char *der = pt_read_file(pt_pki(name), &len);
        snprintf(name, sizeof name, "%s.der", zoo[(i + 1) % (sizeof zoo / sizeof zoo[0])]);
        unsigned char *other = pt_read_file(pt_pki(name), &olen);
        const unsigned char *spki, *ospki;
        size_t spki_len, ospki_len;
        cr_assert_eq(pincurl_spki_locate(der, len, &spki, &spki_len), PINCURL_OK);
        cr_assert_eq(pincurl_spki_locate(other, olen, &ospki, &ospki_len), PINCURL_OK);
        snprintf(name, sizeof name, "%s.pem", zoo[i]);
        int openssl_ok = pt_system("openssl verify -CAfile '%s' '%s' >/dev/null 2>&1",
                                   pt_pki(name), pt_pki(name)) == 0;
        cr_assert(openssl_ok, "openssl does not verify %s", zoo[i]);
        cr_assert_eq(pc_tls_wolfssl_verify_signature(der, len, spki, spki_len), 1, "%s",
                     zoo[i]);
        cr_assert_eq(pc_tls_wolfssl_verify_signature(der, len, ospki, ospki_len), 0, "%s",
                     zoo[i]);
        der[len - 3] ^= 0x01; /* inside the signature */
        cr_assert_eq(pc_tls_wolfssl_verify_signature(der, len, spki, spki_len), 0, "%s",
                     zoo[i]);
        free(der);
        free(other);
    }
}
