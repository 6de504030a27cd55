/* The TLS layer's shared parts: the validated-path cache, connection record tokens and
 * backend selection. */
#include "tls/tls.h"
#include "core/der.h"

#include "support.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pincurl_cert_ref chain_of(const char *text)
{
    pincurl_cert_ref ref = {(const unsigned char *)text, strlen(text)};
    return ref;
}

/* Certificates of the test PKI (DER, the caller frees .der): a path's certificates must be
 * real, since an entry is found only within their validity. */
static pincurl_cert_ref pki_cert(const char *name)
{
    char file[64];
    pincurl_cert_ref ref;
    size_t len = 0;
    snprintf(file, sizeof file, "%s.der", name);
    ref.der = pt_read_file(pt_pki(file), &len);
    ref.len = len;
    cr_assert(ref.der != NULL && len > 0, "%s", file);
    return ref;
}

static void free_cert(pincurl_cert_ref *r)
{
    free((void *)(uintptr_t)r->der);
    r->der = NULL;
}

static int same_bytes(const pincurl_cert_ref *a, const pincurl_cert_ref *b)
{
    return a->len == b->len && memcmp(a->der, b->der, a->len) == 0;
}

/* now: the test PKI's certificates were made minutes ago and last years */
#define NOW ((int64_t)time(NULL))

Test(tls_cache, stores_copies_and_evicts_the_oldest)
{
    pc_path_cache *c = pc_path_cache_new(2);
    pincurl_cert_ref k1 = chain_of("chain one"), k2 = chain_of("chain two"),
                     k3 = chain_of("chain three");
    pincurl_cert_ref leaf = pki_cert("leaf-ec"), inter = pki_cert("inter");
    unsigned char *copy = malloc(leaf.len);
    pincurl_cert_ref path[2];
    const pc_path_entry *e;
    unsigned long hits, misses;

    cr_assert_not_null(c);
    cr_assert_not_null(copy);
    memcpy(copy, leaf.der, leaf.len);
    path[0].der = copy;
    path[0].len = leaf.len;
    path[1] = inter;
    cr_assert_null(pc_path_cache_get(c, &k1, 1, 42, NOW));
    cr_assert_eq(pc_path_cache_put(c, &k1, 1, 42, path, 2, NULL), 0);
    copy[leaf.len - 1] ^= 0xff; /* the cache holds its own copy */
    e = pc_path_cache_get(c, &k1, 1, 42, NOW);
    cr_assert_not_null(e);
    cr_assert_eq(e->count, 2);
    cr_assert(same_bytes(&e->certs[0], &leaf));
    cr_assert(same_bytes(&e->certs[1], &inter));
    cr_assert_eq(e->pinned, 1);

    /* fill and overflow: k1 is the oldest and goes, but the reference taken stays valid */
    copy[leaf.len - 1] ^= 0xff;
    cr_assert_eq(pc_path_cache_put(c, &k2, 1, 42, path, 1, NULL), 0);
    cr_assert_eq(pc_path_cache_put(c, &k3, 1, 42, path, 1, NULL), 0);
    cr_assert_null(pc_path_cache_get(c, &k1, 1, 42, NOW));
    cr_assert(same_bytes(&e->certs[1], &inter));
    pc_path_cache_release(c, e);
    e = pc_path_cache_get(c, &k3, 1, 42, NOW);
    cr_assert_not_null(e);
    cr_assert_eq(e->count, 1);
    pc_path_cache_release(c, e);

    pc_path_cache_stats(c, &hits, &misses);
    cr_assert_eq(hits, 2);
    cr_assert_eq(misses, 2);

    /* refused inputs */
    cr_assert_eq(pc_path_cache_put(c, &k1, 1, 42, path, 0, NULL), -1);
    cr_assert_eq(pc_path_cache_put(c, &k1, 1, 42, path, PINCURL_MAX_PATH + 1, NULL), -1);
    cr_assert_eq(pc_path_cache_put(c, &k1, 0, 42, path, 1, NULL), -1);
    cr_assert_eq(pc_path_cache_put(c, &k1, PINCURL_MAX_SERVED + 1, 42, path, 1, NULL), -1);
    pc_path_cache_free(c);
    pc_path_cache_free(NULL);
    free(copy);
    free_cert(&leaf);
    free_cert(&inter);
}

Test(tls_cache, an_entry_is_found_only_within_the_validity_of_its_path)
{
    /* What a path build at that time refuses (a certificate below the anchor expired, or
     * not valid yet: pincurl_path_build's rule) is not handed back by the cache either: a
     * resumed or reused connection is decided on a fresh build then, and refused. */
    pc_path_cache *c = pc_path_cache_new(4);
    pincurl_cert_ref leaf = pki_cert("leaf-ec"), inter = pki_cert("inter"),
                     root = pki_cert("root"), k = chain_of("served");
    pincurl_cert_ref path[3] = {leaf, inter, root};
    int64_t nb[3], na[3], from = INT64_MIN, until = INT64_MAX;
    const pc_path_entry *e;

    for (int i = 0; i < 3; i++) {
        cr_assert_eq(pc_der_cert_not_before(path[i].der, path[i].len, &nb[i]), PINCURL_OK);
        cr_assert_eq(pc_der_cert_not_after(path[i].der, path[i].len, &na[i]), PINCURL_OK);
        if (i == 2)
            break; /* the anchor: pincurl_path_build does not check its dates */
        from = nb[i] > from ? nb[i] : from;
        until = na[i] < until ? na[i] : until;
    }
    cr_assert_lt(na[0], na[2], "the leaf expires before the root");
    cr_assert_eq(pc_path_cache_put(c, &k, 1, 7, path, 3, NULL), 0);
    e = pc_path_cache_get(c, &k, 1, 7, NOW);
    cr_assert_not_null(e);
    pc_path_cache_release(c, e);
    /* the edges, as pincurl_path_build reads them (inclusive) */
    e = pc_path_cache_get(c, &k, 1, 7, from);
    cr_assert_not_null(e);
    pc_path_cache_release(c, e);
    e = pc_path_cache_get(c, &k, 1, 7, until);
    cr_assert_not_null(e);
    pc_path_cache_release(c, e);
    /* the leaf expired (its notAfter is the path's earliest): a miss */
    cr_assert_null(pc_path_cache_get(c, &k, 1, 7, until + 1));
    cr_assert_null(pc_path_cache_get(c, &k, 1, 7, na[0] + 86400));
    cr_assert_null(pc_path_cache_get(c, &k, 1, 7, from - 1));
    /* a certificate whose dates cannot be read: never found */
    {
        unsigned char junk[1] = {1};
        pincurl_cert_ref bad[3] = {leaf, {junk, 1}, root}, k2 = chain_of("other");
        cr_assert_eq(pc_path_cache_put(c, &k2, 1, 7, bad, 3, NULL), 0);
        cr_assert_null(pc_path_cache_get(c, &k2, 1, 7, NOW));
    }
    pc_path_cache_free(c);
    free_cert(&leaf);
    free_cert(&inter);
    free_cert(&root);
}

Test(tls_cache, lookup_covers_boundaries_between_certificates)
{
    const unsigned char ab[] = "ab", c[] = "c", a[] = "a", bc[] = "bc";
    pincurl_cert_ref x[2] = {{ab, 2}, {c, 1}}, y[2] = {{a, 1}, {bc, 2}};
    pincurl_cert_ref path[1] = {pki_cert("leaf-ec")};
    pc_path_cache *cache = pc_path_cache_new(4);
    const pc_path_entry *e;

    cr_assert_eq(pc_path_cache_put(cache, x, 2, 42, path, 1, NULL), 0);
    cr_assert_null(pc_path_cache_get(cache, y, 2, 42, NOW));
    cr_assert_null(pc_path_cache_get(cache, x, 1, 42, NOW)); /* a prefix is another chain */
    e = pc_path_cache_get(cache, x, 2, 42, NOW);
    cr_assert_not_null(e);
    pc_path_cache_release(cache, e);
    pc_path_cache_free(cache);
    free_cert(&path[0]);
}

Test(tls_cache, lookup_covers_the_trust_store)
{
    /* the same chain verified against two trust stores: two entries; an unknown store: none */
    const unsigned char leaf[] = "leaf";
    pincurl_cert_ref chain[1] = {{leaf, 4}};
    pincurl_cert_ref p1[1] = {pki_cert("leaf-ec")}, p2[1] = {pki_cert("inter")};
    pc_path_cache *c = pc_path_cache_new(4);
    const pc_path_entry *e;

    cr_assert_neq(pc_path_cache_hash(chain, 1, 1), pc_path_cache_hash(chain, 1, 2));
    cr_assert_eq(pc_path_cache_put(c, chain, 1, 1, p1, 1, NULL), 0);
    cr_assert_null(pc_path_cache_get(c, chain, 1, 2, NOW));
    cr_assert_eq(pc_path_cache_put(c, chain, 1, 2, p2, 1, NULL), 0);
    e = pc_path_cache_get(c, chain, 1, 1, NOW);
    cr_assert_not_null(e);
    cr_assert(same_bytes(&e->certs[0], &p1[0]));
    pc_path_cache_release(c, e);
    e = pc_path_cache_get(c, chain, 1, 2, NOW);
    cr_assert_not_null(e);
    cr_assert(same_bytes(&e->certs[0], &p2[0]));
    pc_path_cache_release(c, e);
    cr_assert_eq(pc_path_cache_put(c, chain, 1, 0, p1, 1, NULL), -1);
    cr_assert_null(pc_path_cache_get(c, chain, 1, 0, NOW));
    pc_path_cache_free(c);
    free_cert(&p1[0]);
    free_cert(&p2[0]);
}

Test(tls_cache, same_slot_hash_other_bytes_is_a_miss)
{
    /* Two chains of the same lengths and the same last bytes share the slot hash (it reads
     * only lengths and tails); the bytes before differ: the entry of one is never handed
     * back for the other. */
    unsigned char x[40], y[40];
    pincurl_cert_ref cx[1] = {{x, sizeof(x)}}, cy[1] = {{y, sizeof(y)}};
    pincurl_cert_ref path[1] = {pki_cert("leaf-ec")};
    pc_path_cache *c = pc_path_cache_new(4);
    const pc_path_entry *e;

    memset(x, 0x11, sizeof(x));
    memcpy(y, x, sizeof(y));
    y[3] ^= 0x80;
    cr_assert_eq(pc_path_cache_hash(cx, 1, 9), pc_path_cache_hash(cy, 1, 9));
    cr_assert_eq(pc_path_cache_put(c, cx, 1, 9, path, 1, NULL), 0);
    cr_assert_null(pc_path_cache_get(c, cy, 1, 9, NOW));
    e = pc_path_cache_get(c, cx, 1, 9, NOW);
    cr_assert_not_null(e);
    pc_path_cache_release(c, e);
    pc_path_cache_free(c);
    free_cert(&path[0]);
}

Test(tls_cache, entries_keep_the_pins_of_their_path)
{
    /* a real certificate: the entry's pin is the one openssl computed for it (pins.txt) */
    size_t len = 0;
    unsigned char *der = pt_read_file(pt_pki("leaf-ec.der"), &len);
    pincurl_pin pin;
    pincurl_cert_ref chain[1], path[1];
    pc_path_cache *c = pc_path_cache_new(2);
    const pc_path_entry *e;

    chain[0].der = der;
    chain[0].len = len;
    path[0] = chain[0];
    pt_pki_pin("leaf-ec", &pin);
    cr_assert_eq(pc_path_cache_put(c, chain, 1, 5, path, 1, &e), 0);
    cr_assert_not_null(e); /* the stored entry, referenced */
    cr_assert_eq(e->pinned, 1);
    cr_assert(pincurl_pin_equal(&e->pins[0], &pin));
    pc_path_cache_release(c, e);
    e = pc_path_cache_get(c, chain, 1, 5, NOW);
    cr_assert_not_null(e);
    cr_assert_eq(e->pinned, 1);
    cr_assert(pincurl_pin_equal(&e->pins[0], &pin));
    pc_path_cache_release(c, e);
    pc_path_cache_free(c);
    free(der);
}

Test(tls_cache, trust_identity_is_the_content_in_any_order)
{
    const unsigned char a[] = "anchor a", b[] = "anchor b", c[] = "anchor c";
    pincurl_cert_ref ab[2] = {{a, 8}, {b, 8}}, ba[2] = {{b, 8}, {a, 8}}, ac[2] = {{a, 8}, {c, 8}};
    uint64_t id_ab = pc_trust_id(ab, 2), id_ba = pc_trust_id(ba, 2), id_ac = pc_trust_id(ac, 2);
    cr_assert_neq(id_ab, 0);
    cr_assert_eq(id_ab, id_ba);
    cr_assert_neq(id_ab, id_ac);
    cr_assert_neq(pc_trust_id(ab, 1), id_ab);
    cr_assert_neq(pc_trust_id(NULL, 0), 0);
}

Test(tls_cache, an_entry_remembers_the_host_its_leaf_was_valid_for)
{
    pc_path_cache *c = pc_path_cache_new(2);
    pincurl_cert_ref path[1] = {pki_cert("leaf-ec")}, k = chain_of("x");
    const pc_path_entry *e;
    cr_assert_eq(pc_path_cache_put(c, &k, 1, 42, path, 1, &e), 0);
    cr_assert_eq(pc_path_cache_host_valid(c, e, "a.test"), 0);
    pc_path_cache_note_host(c, e, "a.test");
    cr_assert_eq(pc_path_cache_host_valid(c, e, "a.test"), 1);
    cr_assert_eq(pc_path_cache_host_valid(c, e, "b.test"), 0);
    cr_assert_eq(pc_path_cache_host_valid(c, e, "a.tes"), 0);
    cr_assert_eq(pc_path_cache_host_valid(c, e, ""), 0);
    cr_assert_eq(pc_path_cache_host_valid(c, NULL, "a.test"), 0);
    pc_path_cache_note_host(c, e, "b.test");
    cr_assert_eq(pc_path_cache_host_valid(c, e, "a.test"), 0);
    cr_assert_eq(pc_path_cache_host_valid(c, e, "b.test"), 1);
    /* a host longer than the entry remembers: not remembered, checked every time */
    {
        char longer[80];
        memset(longer, 'a', 64);
        memcpy(longer + 64, ".test", 6);
        pc_path_cache_note_host(c, e, longer);
        cr_assert_eq(pc_path_cache_host_valid(c, e, longer), 0);
        longer[63] = '\0';
        cr_assert_eq(pc_path_cache_host_valid(c, e, longer), 0);
        cr_assert_eq(pc_path_cache_host_valid(c, e, "b.test"), 1);
    }
    pc_path_cache_release(c, e);
    pc_path_cache_free(c);
    free_cert(&path[0]);
}

Test(tls_cache, clear_drops_every_entry)
{
    pc_path_cache *c = pc_path_cache_new(4);
    pincurl_cert_ref path[1] = {pki_cert("leaf-ec")}, k = chain_of("x");
    const pc_path_entry *e;
    cr_assert_eq(pc_path_cache_put(c, &k, 1, 42, path, 1, NULL), 0);
    e = pc_path_cache_get(c, &k, 1, 42, NOW);
    cr_assert_not_null(e);
    pc_path_cache_clear(c);
    cr_assert_null(pc_path_cache_get(c, &k, 1, 42, NOW));
    cr_assert(same_bytes(&e->certs[0], &path[0])); /* a reference taken stays valid */
    pc_path_cache_release(c, e);
    pc_path_cache_clear(NULL);
    pc_path_cache_free(c);
    free_cert(&path[0]);
}

Test(tls_cache, disabled_cache_stores_nothing)
{
    pc_path_cache *c = pc_path_cache_new(0);
    unsigned char d[1] = {1};
    pincurl_cert_ref path[1] = {{d, 1}}, k = chain_of("x");
    cr_assert_eq(pc_path_cache_put(c, &k, 1, 42, path, 1, NULL), 0);
    cr_assert_null(pc_path_cache_get(c, &k, 1, 42, NOW));
    pc_path_cache_free(c);
}

Test(tls_cache, record_tokens_bind_owner_generation_host_and_port)
{
    uint64_t t = pc_tls_record_token(1, 1, "localhost", 443);
    cr_assert_neq(t, 0);
    cr_assert_eq(t, pc_tls_record_token(1, 1, "localhost", 443));
    cr_assert_neq(t, pc_tls_record_token(2, 1, "localhost", 443));
    cr_assert_neq(t, pc_tls_record_token(1, 2, "localhost", 443));
    cr_assert_neq(t, pc_tls_record_token(1, 1, "localhost", 444));
    cr_assert_neq(t, pc_tls_record_token(1, 1, "localhosu", 443));
    cr_assert_neq(t, pc_tls_record_token(1, 1, "localhost.", 443));
}

Test(tls_cache, record_tokens_are_computed_again_for_any_other_input)
{
    /* the thread's last token is remembered: alternating inputs never get another's */
    uint64_t t = pc_tls_record_token(1, 1, "localhost", 443);
    uint64_t t2 = pc_tls_record_token(2, 1, "localhost", 443);
    uint64_t t3 = pc_tls_record_token(2, 3, "localhost", 443);
    uint64_t t4 = pc_tls_record_token(2, 3, "localhost", 80);
    uint64_t t5 = pc_tls_record_token(2, 3, "localhos", 80);
    uint64_t all[5] = {t, t2, t3, t4, t5};
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++)
            cr_assert_neq(all[i], all[j]);
    cr_assert_eq(pc_tls_record_token(1, 1, "localhost", 443), t);
    cr_assert_eq(pc_tls_record_token(2, 3, "localhos", 80), t5);
    cr_assert_eq(pc_tls_record_token(2, 3, "localhos", 80), t5);
    cr_assert_eq(pc_tls_record_token(2, 3, "localhost", 80), t4);
    cr_assert_eq(pc_tls_record_token(2, 1, "localhost", 443), t2);
    cr_assert_eq(pc_tls_record_token(1, 1, "localhost", 443), t);
}

Test(tls_cache, siphash_matches_the_reference_vectors)
{
    /* the reference implementation's vectors: key 00..0f, messages 00..(n-1) */
    static const uint64_t want[] = {0x726fdb47dd0e0e31u, 0x74f839c593dc67fdu,
                                    0x0d6c8009d9a94f5au, 0x85676696d7fb7e2du};
    unsigned char key[16], msg[64];
    for (int i = 0; i < 16; i++)
        key[i] = (unsigned char)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (unsigned char)i;
    for (size_t n = 0; n < 4; n++)
        cr_assert_eq(pc_siphash24(key, msg, n), want[n], "length %zu", n);
    cr_assert_eq(pc_siphash24(key, msg, 63), 0x958a324ceb064572u);
}

#include <curl/curl.h> /* CURLSSLBACKEND_* */

#ifdef PINCURL_HAVE_OPENSSL
#include <dlfcn.h>

/* wolfSSL's compatibility layer defines these OpenSSL names too; the bundled archive has
 * them renamed (tools/build-deps.sh), so in a process with both libraries each resolves to
 * OpenSSL's definition (docs/backends.md). This test program links wolfSSL statically:
 * were a definition of wolfSSL's still under one of these names, the program's own would
 * come first in the global scope. */
static void openssl_names_resolve_to_libssl(void)
{
    static const char *const names[] = {
        "SSL_COMP_get_compression_methods", "SSL_CTX_set_tmp_dh_callback",
        "SSL_SESSION_get0_id_context",      "SSL_SESSION_set1_id",
        "SSL_SESSION_set1_id_context",      "ERR_load_SSL_strings",
    };
    void *global = dlopen(NULL, RTLD_LAZY);
    void *libssl = dlopen("libssl.so.3", RTLD_LAZY);

    cr_assert_not_null(global);
    cr_assert_not_null(libssl);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        void *first = dlsym(global, names[i]);
        void *ossl = dlsym(libssl, names[i]);
        cr_assert_not_null(ossl, "%s", names[i]);
        cr_assert_eq(first, ossl, "%s binds to wolfSSL's definition", names[i]);
    }
    dlclose(libssl);
    dlclose(global);
}
#endif

Test(tls_cache, backend_selection)
{
    cr_assert_eq(pc_tls_select("wolfSSL/5.5.4"), &pc_tls_wolfssl);
    cr_assert_eq(pc_tls_select("wolfSSL/5.7.2"), &pc_tls_wolfssl);
    cr_assert_str_eq(pc_tls_wolfssl.name, "wolfssl");
    cr_assert(pc_tls_wolfssl.caps & PC_TLS_CAP_PATH);
    cr_assert_eq(pc_tls_wolfssl.curl_backend, CURLSSLBACKEND_WOLFSSL);
#ifdef PINCURL_HAVE_OPENSSL
    /* built with OpenSSL 3: a libcurl on OpenSSL 3 gets the OpenSSL backend */
    cr_assert_eq(pc_tls_select("OpenSSL/3.0.11"), &pc_tls_openssl);
    cr_assert_eq(pc_tls_select("OpenSSL/3.1.0"), &pc_tls_openssl);
    cr_assert_str_eq(pc_tls_openssl.name, "openssl");
    cr_assert_eq(pc_tls_openssl.caps, PC_TLS_CAP_PATH | PC_TLS_CAP_SERVED);
    cr_assert_eq(pc_tls_openssl.curl_backend, CURLSSLBACKEND_OPENSSL);
    /* another major version is another library */
    cr_assert_null(pc_tls_select("OpenSSL/1.1.1w"));
    cr_assert_null(pc_tls_select("OpenSSL/30.0.0"));
    openssl_names_resolve_to_libssl();
#else
    cr_assert_null(pc_tls_select("OpenSSL/3.0.11"));
#endif
    /* the backend in use must be the one pincurl hooks: none of these is */
    cr_assert_null(pc_tls_select("OpenSSL"));
    cr_assert_null(pc_tls_select("LibreSSL/3.8.2"));
    cr_assert_null(pc_tls_select("BoringSSL"));
    cr_assert_null(pc_tls_select("GnuTLS/3.7.9"));
    cr_assert_null(pc_tls_select("mbedTLS/2.28.3"));
    cr_assert_null(pc_tls_select("(wolfSSL/5.5.4) OpenSSL/3.0.11"));
    cr_assert_null(pc_tls_select("OpenSSL/3.0.11 (wolfSSL/5.5.4)"));
    cr_assert_null(pc_tls_select("xwolfSSL/5.5.4"));
    cr_assert_null(pc_tls_select(""));
    cr_assert_null(pc_tls_select(NULL));
}

Test(tls_cache, connection_state_normalises_the_host)
{
    pc_tls_conn conn;
    memset(&conn, 0, sizeof(conn));
    cr_assert_eq(pc_tls_conn_begin(&conn, "LocalHost.", 10, 443, PC_TLS_MODE_EVALUATE),
                 PINCURL_OK);
    cr_assert_str_eq(conn.host, "localhost");
    cr_assert_eq(conn.verdict.decision, PINCURL_DECISION_BLOCK);
    cr_assert_eq(pc_tls_conn_begin(&conn, "b\xc3\xa4" "d.example", 12, 443, PC_TLS_MODE_EVALUATE),
                 PINCURL_HOST_NOT_ASCII);
    cr_assert_eq(pc_tls_conn_begin(&conn, NULL, 0, 0, PC_TLS_MODE_EVALUATE),
                 PINCURL_HOST_INVALID);
    pc_tls_conn_release(&conn);
}

Test(tls_cache, runtime_names_the_stack_and_accepts_only_its_own_backend)
{
    const pincurl_runtime_info *ri = pincurl_runtime();
    const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);

    cr_assert_not_null(ri);
    cr_assert_eq(ri, pincurl_runtime());
    cr_assert_str_eq(ri->version, pincurl_version());
    cr_assert_str_eq(ri->libcurl_version, vi->version);
    cr_assert_str_eq(ri->tls_library, vi->ssl_version);
    cr_assert(ri->backend_ok, "built for %s, runs on %s", ri->backend_expected, ri->tls_library);
    cr_assert_str_eq(ri->backend, ri->backend_expected);
    cr_assert_eq(ri->http2, (vi->features & CURL_VERSION_HTTP2) != 0);
    if (strcmp(ri->flavour, "bundled") == 0) {
        /* the stack inside: wolfSSL with HTTP/2, the versions the Debian packages carry */
        cr_assert_str_eq(ri->backend, "wolfssl");
        cr_assert(ri->http2);
        cr_assert_str_not_empty(ri->nghttp2_version);
        cr_assert(strncmp(ri->tls_library, "wolfSSL/", 8) == 0);
        cr_assert(strncmp(ri->bundled_wolfssl, ri->tls_library + 8,
                          strlen(ri->tls_library + 8)) == 0,
                  "%s is not from package %s", ri->tls_library, ri->bundled_wolfssl);
        cr_assert(strncmp(ri->bundled_curl, ri->libcurl_version,
                          strlen(ri->libcurl_version)) == 0);
        cr_assert(strncmp(ri->bundled_nghttp2, ri->nghttp2_version,
                          strlen(ri->nghttp2_version)) == 0);
        cr_assert_eq(pc_tls_backend_in_use(), &pc_tls_wolfssl);
    } else if (strcmp(ri->flavour, "gnutls") == 0) {
        cr_assert_str_eq(ri->backend, "pinnedpubkey");
        cr_assert_eq(pc_tls_backend_in_use(), &pc_tls_leaf_only);
    }
    /* nothing to free on this thread, any number of times */
    pincurl_thread_cleanup();
    pincurl_thread_cleanup();
}

Test(tls_cache, anchor_registry_shares_sets_and_evicts_the_least_recently_used)
{
    pc_anchor_registry *r = pc_anchor_registry_new();
    pc_anchor_set *sets[9];
    uint64_t keys[9];
    size_t der_len = 0;
    unsigned char *der = pt_read_file(pt_pki("root.der"), &der_len);

    cr_assert_not_null(r);
    for (int i = 0; i < 9; i++) {
        sets[i] = pc_anchor_set_new();
        cr_assert_not_null(sets[i]);
        cr_assert_eq(pc_anchor_set_add(sets[i], der, der_len), 0);
        cr_assert_eq(pc_anchor_set_finish(sets[i]), 0);
    }
    /* an unfinished set has no identity and is not taken */
    pc_anchor_set *unfinished = pc_anchor_set_new();
    cr_assert_eq(pc_anchor_registry_put(r, unfinished), 0);
    pc_anchor_set_unref(unfinished);

    for (int i = 0; i < 8; i++) {
        keys[i] = pc_anchor_registry_put(r, sets[i]);
        cr_assert_neq(keys[i], 0);
        for (int j = 0; j < i; j++)
            cr_assert_neq(keys[i], keys[j], "a key was handed out twice");
    }
    /* the same content gives the same identity, whichever set holds it */
    cr_assert_eq(sets[0]->id, sets[8]->id);
    pc_anchor_set *got = pc_anchor_registry_get(r, keys[3]);
    cr_assert_eq(got, sets[3]);
    pc_anchor_set_unref(got);
    cr_assert_null(pc_anchor_registry_get(r, 0));
    cr_assert_null(pc_anchor_registry_get(r, keys[7] + 1000));
    /* touch all but set 1, then a ninth set evicts set 1 */
    for (int i = 0; i < 8; i++) {
        if (i == 1)
            continue;
        pc_anchor_set_unref(pc_anchor_registry_get(r, keys[i]));
    }
    keys[8] = pc_anchor_registry_put(r, sets[8]);
    cr_assert_null(pc_anchor_registry_get(r, keys[1]));
    got = pc_anchor_registry_get(r, keys[8]);
    cr_assert_eq(got, sets[8]);
    pc_anchor_set_unref(got);
    /* the registry's references go with it; the callers' stay valid */
    pc_anchor_registry_free(r);
    for (int i = 0; i < 9; i++) {
        cr_assert_eq(sets[i]->count, 1);
        pc_anchor_set_unref(sets[i]);
    }
    free(der);
}
