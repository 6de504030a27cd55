/* The bundle format and keys: sign and parse round trip, every malformed header field,
 * signatures under the wrong key, key text forms. */
#include "update_support.h"
#include "support.h"

#include "pincurl/policy.h"
#include "pincurl/update.h"

#include <criterion/criterion.h>
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *DOC = "{\"pincurl_policy\": 1}";

static unsigned char *bundle_of(const ut_key *k, uint64_t seq, size_t *len)
{
    return ut_sign(k, DOC, seq, 1000, 2000, len);
}

Test(bundle, sign_parse_round_trip)
{
    ut_key k = ut_key_new("release-2027");
    size_t len = 0;
    unsigned char *b = ut_sign(&k, DOC, 42, -5, 1893456000, &len);
    pincurl_update_bundle v;

    cr_assert_eq(len, PINCURL_UPDATE_HEADER_SIZE + strlen("release-2027") + strlen(DOC) +
                          PINCURL_UPDATE_SIGNATURE_SIZE);
    cr_assert(memcmp(b, "PCUPDATE", 8) == 0);
    cr_assert_eq(b[8], 1);
    cr_assert_eq(b[9], 1);
    cr_assert_eq(pincurl_update_bundle_parse(b, len, &v), PINCURL_OK);
    cr_assert_str_eq(v.key_id, "release-2027");
    cr_assert_eq(v.sequence, 42);
    cr_assert_eq(v.not_before, -5);
    cr_assert_eq(v.expires, 1893456000);
    cr_assert_eq(v.policy_len, strlen(DOC));
    cr_assert(memcmp(v.policy, DOC, strlen(DOC)) == 0);
    cr_assert_eq(v.signed_len, len - 64);
    cr_assert_eq(v.signature, b + len - 64);
    cr_assert_eq(pincurl_update_bundle_verify(&v, k.pub), PINCURL_OK);
    pincurl_update_buffer_free(b);
}

Test(bundle, big_endian_fields_as_documented)
{
    ut_key k = ut_key_new("k");
    size_t len = 0;
    unsigned char *b = ut_sign(&k, DOC, 0x0102030405060708ull, 0x1112, 0x212223, &len);
    static const unsigned char seq[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const unsigned char nb[8] = {0, 0, 0, 0, 0, 0, 0x11, 0x12};
    static const unsigned char ex[8] = {0, 0, 0, 0, 0, 0x21, 0x22, 0x23};
    cr_assert_eq(b[10], 1);  /* key id length */
    cr_assert_eq(b[11], 0);  /* reserved */
    cr_assert(memcmp(b + 12, seq, 8) == 0);
    cr_assert(memcmp(b + 20, nb, 8) == 0);
    cr_assert(memcmp(b + 28, ex, 8) == 0);
    cr_assert_eq(b[36], 0);
    cr_assert_eq(b[39], strlen(DOC));
    cr_assert_eq(b[40], 'k');
    cr_assert(memcmp(b + 41, DOC, strlen(DOC)) == 0);
    pincurl_update_buffer_free(b);
}

Test(bundle, verify_fails_under_another_key)
{
    ut_key k = ut_key_new("a"), other = ut_key_new("a");
    size_t len = 0;
    unsigned char *b = bundle_of(&k, 1, &len);
    pincurl_update_bundle v;
    cr_assert_eq(pincurl_update_bundle_parse(b, len, &v), PINCURL_OK);
    cr_assert_eq(pincurl_update_bundle_verify(&v, other.pub), PINCURL_UPDATE_BAD_SIGNATURE);
    pincurl_update_buffer_free(b);
}

/* The signed bytes are domain-separated: the signature is Ed25519 over the context string
 * with its NUL, then the signed part. Recomputed here with wolfCrypt directly: with the
 * context it is the bundle's signature; without it, it is another one, which the
 * verifier refuses. */
Test(bundle, signature_covers_the_context_string)
{
    ut_key k = ut_key_new("a");
    size_t len = 0;
    unsigned char *b = bundle_of(&k, 1, &len);
    pincurl_update_bundle v;
    ed25519_key key;
    unsigned char pub[32], sig[64];
    word32 slen = sizeof sig;
    static const char ctx[] = "pincurl policy update v1";

    cr_assert_eq(pincurl_update_bundle_parse(b, len, &v), PINCURL_OK);
    cr_assert_eq(sizeof ctx, 25);
    unsigned char *msg = malloc(sizeof ctx + v.signed_len);
    cr_assert_not_null(msg);
    memcpy(msg, ctx, sizeof ctx);
    memcpy(msg + sizeof ctx, v.signed_part, v.signed_len);
    memcpy(pub, k.pub, 32);
    cr_assert_eq(wc_ed25519_init(&key), 0);
    cr_assert_eq(wc_ed25519_import_private_key(k.priv, 32, pub, 32, &key), 0);
    cr_assert_eq(wc_ed25519_sign_msg(msg, (word32)(sizeof ctx + v.signed_len), sig, &slen,
                                     &key), 0);
    cr_assert(memcmp(sig, v.signature, 64) == 0, "signature over context || signed part");

    /* the same key signing the signed part alone: refused */
    slen = sizeof sig;
    cr_assert_eq(wc_ed25519_sign_msg(v.signed_part, (word32)v.signed_len, sig, &slen, &key), 0);
    memcpy(b + v.signed_len, sig, 64);
    cr_assert_eq(pincurl_update_bundle_parse(b, len, &v), PINCURL_OK);
    cr_assert_eq(pincurl_update_bundle_verify(&v, k.pub), PINCURL_UPDATE_BAD_SIGNATURE);
    wc_ed25519_free(&key);
    free(msg);
    pincurl_update_buffer_free(b);
}

static pincurl_status parse_patched(size_t off, unsigned char value)
{
    ut_key k = ut_key_new("key-1");
    size_t len = 0;
    unsigned char *b = bundle_of(&k, 7, &len);
    pincurl_update_bundle v;
    b[off] = value;
    pincurl_status st = pincurl_update_bundle_parse(b, len, &v);
    if (st != PINCURL_OK) {
        cr_assert_eq(v.sequence, 0, "output not zeroed on failure");
        cr_assert_null(v.policy);
    }
    pincurl_update_buffer_free(b);
    return st;
}

Test(bundle, malformed_header_fields)
{
    cr_assert_eq(parse_patched(0, 'X'), PINCURL_UPDATE_MALFORMED);     /* magic */
    cr_assert_eq(parse_patched(7, 'e'), PINCURL_UPDATE_MALFORMED);     /* magic, case */
    cr_assert_eq(parse_patched(8, 2), PINCURL_UPDATE_UNSUPPORTED);     /* version */
    cr_assert_eq(parse_patched(8, 0), PINCURL_UPDATE_UNSUPPORTED);
    cr_assert_eq(parse_patched(9, 2), PINCURL_UPDATE_UNSUPPORTED);     /* algorithm */
    cr_assert_eq(parse_patched(10, 0), PINCURL_UPDATE_MALFORMED);      /* key id length */
    cr_assert_eq(parse_patched(10, 65), PINCURL_UPDATE_MALFORMED);
    cr_assert_eq(parse_patched(10, 6), PINCURL_UPDATE_MALFORMED);      /* lengths disagree */
    cr_assert_eq(parse_patched(11, 1), PINCURL_UPDATE_MALFORMED);      /* reserved */
    cr_assert_eq(parse_patched(19, 0), PINCURL_UPDATE_MALFORMED);      /* sequence 0 */
    cr_assert_eq(parse_patched(20, 0x80), PINCURL_OK);                 /* not_before < 0 */
    cr_assert_eq(parse_patched(28, 0x80), PINCURL_UPDATE_MALFORMED);   /* expires < nb */
    cr_assert_eq(parse_patched(36, 1), PINCURL_UPDATE_TOO_LARGE);      /* policy > 1 MiB */
    cr_assert_eq(parse_patched(39, 0), PINCURL_UPDATE_MALFORMED);      /* policy empty */
    cr_assert_eq(parse_patched(39, 22), PINCURL_UPDATE_MALFORMED);     /* lengths disagree */
    cr_assert_eq(parse_patched(40, ' '), PINCURL_UPDATE_MALFORMED);    /* key id character */
    cr_assert_eq(parse_patched(42, 0), PINCURL_UPDATE_MALFORMED);
}

Test(bundle, not_before_may_be_negative_but_must_precede_expiry)
{
    ut_key k = ut_key_new("k");
    size_t len = 0;
    unsigned char *b = ut_sign(&k, DOC, 1, -100, -99, &len);
    pincurl_update_bundle v;
    cr_assert_eq(pincurl_update_bundle_parse(b, len, &v), PINCURL_OK);
    cr_assert_eq(v.not_before, -100);
    cr_assert_eq(v.expires, -99);
    pincurl_update_buffer_free(b);
    unsigned char *out = NULL;
    cr_assert_eq(pincurl_update_bundle_sign(DOC, strlen(DOC), "k", 1, 5, 5, k.priv, &out, &len),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_null(out);
}

Test(bundle, every_truncation_and_extension_is_malformed)
{
    ut_key k = ut_key_new("key-1");
    size_t len = 0;
    unsigned char *b = bundle_of(&k, 7, &len);
    unsigned char *longer = malloc(len + 1);
    pincurl_update_bundle v;
    cr_assert_not_null(longer);
    for (size_t n = 0; n < len; n++)
        cr_assert_eq(pincurl_update_bundle_parse(b, n, &v), PINCURL_UPDATE_MALFORMED,
                     "prefix of %zu bytes", n);
    memcpy(longer, b, len);
    longer[len] = 0;
    cr_assert_eq(pincurl_update_bundle_parse(longer, len + 1, &v), PINCURL_UPDATE_MALFORMED);
    free(longer);
    pincurl_update_buffer_free(b);
}

Test(bundle, size_limits)
{
    ut_key k = ut_key_new("k");
    size_t big = (size_t)1024 * 1024 + 1, len = 0;
    char *doc = malloc(big);
    unsigned char *out = NULL;
    pincurl_update_bundle v;
    cr_assert_not_null(doc);
    memset(doc, ' ', big);
    cr_assert_eq(pincurl_update_bundle_sign(doc, big, "k", 1, 0, 10, k.priv, &out, &len),
                 PINCURL_UPDATE_TOO_LARGE);
    /* exactly the largest policy is fine */
    cr_assert_eq(pincurl_update_bundle_sign(doc, big - 1, "k", 1, 0, 10, k.priv, &out, &len),
                 PINCURL_OK);
    cr_assert_eq(pincurl_update_bundle_parse(out, len, &v), PINCURL_OK);
    cr_assert_eq(pincurl_update_bundle_verify(&v, k.pub), PINCURL_OK);
    pincurl_update_buffer_free(out);
    /* an input longer than the largest bundle is refused before anything is read */
    cr_assert_eq(pincurl_update_bundle_parse(doc, PINCURL_UPDATE_MAX_BYTES + 1, &v),
                 PINCURL_UPDATE_TOO_LARGE);
    free(doc);
}

Test(bundle, sign_checks_its_arguments)
{
    ut_key k = ut_key_new("k");
    unsigned char *out = NULL;
    size_t len = 0;
    char long_id[70];
    memset(long_id, 'a', 65);
    long_id[65] = '\0';
    cr_assert_eq(pincurl_update_bundle_sign(DOC, strlen(DOC), "", 1, 0, 1, k.priv, &out, &len),
                 PINCURL_UPDATE_KEY_INVALID);
    cr_assert_eq(pincurl_update_bundle_sign(DOC, strlen(DOC), "a b", 1, 0, 1, k.priv, &out,
                                            &len), PINCURL_UPDATE_KEY_INVALID);
    cr_assert_eq(pincurl_update_bundle_sign(DOC, strlen(DOC), long_id, 1, 0, 1, k.priv, &out,
                                            &len), PINCURL_UPDATE_KEY_INVALID);
    long_id[64] = '\0';
    cr_assert_eq(pincurl_update_bundle_sign(DOC, strlen(DOC), long_id, 1, 0, 1, k.priv, &out,
                                            &len), PINCURL_OK);
    pincurl_update_buffer_free(out);
    cr_assert_eq(pincurl_update_bundle_sign(DOC, strlen(DOC), "k", 0, 0, 1, k.priv, &out, &len),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_update_bundle_sign(DOC, 0, "k", 1, 0, 1, k.priv, &out, &len),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_update_bundle_sign(NULL, 1, "k", 1, 0, 1, k.priv, &out, &len),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_update_bundle_parse(NULL, 0, NULL), PINCURL_INVALID_ARGUMENT);
    pincurl_update_buffer_free(NULL);
}

Test(bundle, signatures_are_deterministic_and_keys_fresh)
{
    ut_key k = ut_key_new("k"), k2 = ut_key_new("k");
    size_t l1 = 0, l2 = 0;
    unsigned char *a = bundle_of(&k, 3, &l1), *b = bundle_of(&k, 3, &l2);
    unsigned char pub[32];
    cr_assert_eq(l1, l2);
    cr_assert(memcmp(a, b, l1) == 0, "Ed25519 signatures are deterministic");
    cr_assert(memcmp(k.pub, k2.pub, 32) != 0);
    cr_assert_eq(pincurl_update_public_key(k.priv, pub), PINCURL_OK);
    cr_assert(memcmp(pub, k.pub, 32) == 0);
    pincurl_update_buffer_free(a);
    pincurl_update_buffer_free(b);
}

Test(keys, default_id_is_sha256_prefix)
{
    ut_key k = ut_key_new(NULL);
    cr_assert_eq(strlen(k.id), 16);
    for (size_t i = 0; i < 16; i++)
        cr_assert(strchr("0123456789abcdef", k.id[i]) != NULL);
    char path[1200];
    snprintf(path, sizeof path, "%s/pub.bin", pt_tmpdir("keyid"));
    pt_write_file(path, k.pub, 32);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "test \"$(openssl dgst -sha256 -r '%s' | cut -c1-16)\" = %s",
             path, k.id);
    cr_assert_eq(pt_system("%s", cmd), 0, "openssl disagrees with key id %s", k.id);
}

Test(keys, text_form_round_trip)
{
    ut_key k = ut_key_new("ops.2027-01");
    char text[PINCURL_UPDATE_KEY_TEXT_SIZE];
    char id[PINCURL_UPDATE_KEY_ID_MAX + 1];
    unsigned char key[32];
    int is_private = -1;

    cr_assert_eq(pincurl_update_key_format(0, k.id, k.pub, text, sizeof text), PINCURL_OK);
    cr_assert(strncmp(text, "pincurl-ed25519-public ops.2027-01 ", 35) == 0, "%s", text);
    cr_assert_eq(text[strlen(text) - 1], '\n');
    cr_assert_eq(pincurl_update_key_parse(text, strlen(text), &is_private, id, key), PINCURL_OK);
    cr_assert_eq(is_private, 0);
    cr_assert_str_eq(id, "ops.2027-01");
    cr_assert(memcmp(key, k.pub, 32) == 0);

    cr_assert_eq(pincurl_update_key_format(1, k.id, k.priv, text, sizeof text), PINCURL_OK);
    cr_assert(strncmp(text, "pincurl-ed25519-private ", 24) == 0);
    cr_assert_eq(pincurl_update_key_parse(text, strlen(text) - 1, &is_private, id, key),
                 PINCURL_OK);
    cr_assert_eq(is_private, 1);
    cr_assert(memcmp(key, k.priv, 32) == 0);
    cr_assert_eq(pincurl_update_key_format(0, k.id, k.pub, text, 20), PINCURL_BUFFER_TOO_SMALL);
}

Test(keys, text_form_rejects_anything_else)
{
    const char *bad[] = {
        "",
        "pincurl-ed25519-public",
        "pincurl-ed25519-public k",
        "pincurl-ed25519-public  AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pincurl-ed25519-public k AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "pincurl-ed25519-public k AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
        "pincurl-ed25519-public k AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= ",
        "pincurl-ed25519-public k\tAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        " pincurl-ed25519-public k AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pincurl-ed25519-publi k AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pincurl-ed448-public k AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pincurl-ed25519-public k/x AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pincurl-ed25519-public k AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n",
    };
    char id[PINCURL_UPDATE_KEY_ID_MAX + 1];
    unsigned char key[32];
    int is_private;
    const char *good = "pincurl-ed25519-public k AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n";
    cr_assert_eq(pincurl_update_key_parse(good, strlen(good), &is_private, id, key), PINCURL_OK);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(pincurl_update_key_parse(bad[i], strlen(bad[i]), &is_private, id, key),
                     PINCURL_UPDATE_KEY_INVALID, "accepted: \"%s\"", bad[i]);
}

Test(status, update_statuses_have_names)
{
    for (int s = 160; s <= 172; s++) {
        cr_assert_not_null(pincurl_status_name((pincurl_status)s), "status %d", s);
        cr_assert(strncmp(pincurl_status_name((pincurl_status)s), "UPDATE_", 7) == 0);
    }
    cr_assert_str_eq(pincurl_status_name(PINCURL_UPDATE_BAD_SIGNATURE), "UPDATE_BAD_SIGNATURE");
}
