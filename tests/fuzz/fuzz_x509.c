/* Fuzz target: the certificate fields of a path builder and the host check
 * (pc_der_x509_parse in lib/core/der.h, pincurl_cert_matches_host, pincurl_path_build).
 * The input is one or more DER certificates back to back; the first is the leaf, the last
 * is also the only trust anchor, and a deterministic stand-in decides which signatures
 * "verify". Properties: every field lies inside the input and follows its rules, and a
 * refusal zeroes the fields; the x509 parser accepts nothing the basic parser refuses; the
 * host check answers the parser's status when the certificate does not parse; a built path
 * starts at the leaf, every link has matching names and a signature the stand-in accepted,
 * and it ends at the anchor; the build is deterministic. */
#include <string.h>

#include "core/der.h"
#include "fuzz_common.h"
#include "pincurl/core.h"

static const uint8_t *g_data;
static size_t g_size;

static int inside(const unsigned char *p, size_t len)
{
    return len == 0 || (p >= g_data && p + len <= g_data + g_size);
}

static void check_tlv(const pc_der_tlv *t)
{
    if (t->tag == 0) {
        FUZZ_CHECK(t->tlv == NULL || t->tlv_len == 0 || inside(t->tlv, t->tlv_len));
        return;
    }
    FUZZ_CHECK(inside(t->tlv, t->tlv_len));
    FUZZ_CHECK(t->content >= t->tlv && t->content + t->content_len == t->tlv + t->tlv_len);
}

static void check_x509(const unsigned char *der, size_t len)
{
    pc_der_x509 x;
    pc_der_cert basic;
    pincurl_status st = pc_der_x509_parse(der, len, &x);
    pincurl_status bst = pc_der_cert_parse(der, len, &basic);
    if (st != PINCURL_OK) {
        pc_der_x509 zero;
        memset(&zero, 0, sizeof zero);
        zero.path_len = -1;
        FUZZ_CHECK(memcmp(&x, &zero, sizeof x) == 0);
        FUZZ_CHECK(st == PINCURL_DER_MALFORMED || st == PINCURL_DER_TRUNCATED ||
                   st == PINCURL_LIMIT_EXCEEDED);
        return;
    }
    FUZZ_CHECK(bst == PINCURL_OK);
    FUZZ_CHECK(x.version >= 1 && x.version <= 3);
    FUZZ_CHECK(x.ext_count <= PC_DER_MAX_EXTENSIONS);
    FUZZ_CHECK(x.version == 3 || x.ext_count == 0);
    FUZZ_CHECK(x.key_usage < (1u << 16));
    FUZZ_CHECK(x.has_key_usage || x.key_usage == 0);
    FUZZ_CHECK(x.path_len >= -1);
    FUZZ_CHECK(x.has_basic_constraints || (!x.is_ca && x.path_len == -1));
    FUZZ_CHECK(x.not_before >= -62167219200LL && x.not_after <= 253402300799LL);
    check_tlv(&x.c.tbs);
    check_tlv(&x.c.issuer);
    check_tlv(&x.c.subject);
    check_tlv(&x.c.spki);
    check_tlv(&x.sig_alg);
    check_tlv(&x.tbs_sig_alg);
    check_tlv(&x.sig_value);
    check_tlv(&x.skid);
    check_tlv(&x.akid);
    check_tlv(&x.san);
    FUZZ_CHECK(x.san.tag == 0 || x.san.tag == PC_DER_SEQUENCE);
    FUZZ_CHECK(x.c.subject.tlv_len == basic.subject.tlv_len &&
               x.c.subject.tlv == basic.subject.tlv);
}

static void check_hosts(const unsigned char *der, size_t len)
{
    static const char *hosts[] = {"localhost", "a.example.com", "example.com", "127.0.0.1",
                                  "::1", "xn--bcher-kva.example"};
    pc_der_x509 x;
    pincurl_status parsed = pc_der_x509_parse(der, len, &x);
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        pincurl_status st = pincurl_cert_matches_host(der, len, hosts[i]);
        if (parsed != PINCURL_OK)
            FUZZ_CHECK(st == parsed);
        else
            FUZZ_CHECK(st == PINCURL_OK || st == PINCURL_HOST_MISMATCH);
        if (st == PINCURL_OK)
            FUZZ_CHECK(x.san.tag == PC_DER_SEQUENCE);
    }
}

/* ---- the path builder with a stand-in trust store ------------------------------------ */

static pincurl_cert_ref g_anchor;

static size_t anchors(void *ctx, const unsigned char *name, size_t name_len,
                      pincurl_cert_ref *out, size_t max)
{
    const unsigned char *subj;
    size_t subj_len;
    (void)ctx;
    if (pc_der_cert_subject(g_anchor.der, g_anchor.len, &subj, &subj_len) != PINCURL_OK ||
        subj_len != name_len || memcmp(subj, name, name_len) != 0)
        return 0;
    if (max > 0)
        out[0] = g_anchor;
    return 1;
}

/* "Verifies" when the last byte of the certificate and the last byte of the key agree in
 * their low bit: deterministic, and both outcomes are common. */
static int stand_in(const unsigned char *cert, size_t cert_len, const unsigned char *spki,
                    size_t spki_len)
{
    return ((cert[cert_len - 1] ^ spki[spki_len - 1]) & 1u) == 0;
}

static int verify(void *ctx, const unsigned char *cert, size_t cert_len,
                  const unsigned char *spki, size_t spki_len)
{
    (void)ctx;
    return stand_in(cert, cert_len, spki, spki_len);
}

static void check_path(const pincurl_cert_ref *served, size_t n)
{
    pincurl_trust trust = {anchors, verify, NULL};
    pincurl_cert_ref path[PINCURL_MAX_PATH], again[PINCURL_MAX_PATH];
    size_t len = 99, len2 = 99;
    int64_t now = 1800000000;

    g_anchor = served[n - 1];
    pincurl_status st = pincurl_path_build(served, n, &trust, now, path, PINCURL_MAX_PATH, &len);
    pincurl_status st2 =
        pincurl_path_build(served, n, &trust, now, again, PINCURL_MAX_PATH, &len2);
    FUZZ_CHECK(st == st2 && len == len2);
    if (st != PINCURL_OK) {
        FUZZ_CHECK(len == 0);
        return;
    }
    FUZZ_CHECK(len >= 1 && len <= PINCURL_MAX_PATH);
    FUZZ_CHECK(memcmp(path, again, len * sizeof path[0]) == 0);
    FUZZ_CHECK(path[len - 1].der == g_anchor.der && path[len - 1].len == g_anchor.len);
    if (len == 1) {
        FUZZ_CHECK(served[0].len == g_anchor.len &&
                   memcmp(served[0].der, g_anchor.der, g_anchor.len) == 0);
        return;
    }
    FUZZ_CHECK(path[0].der == served[0].der);
    for (size_t i = 0; i + 1 < len; i++) {
        pc_der_x509 child, parent;
        FUZZ_CHECK(pc_der_x509_parse(path[i].der, path[i].len, &child) == PINCURL_OK);
        FUZZ_CHECK(pc_der_x509_parse(path[i + 1].der, path[i + 1].len, &parent) == PINCURL_OK);
        FUZZ_CHECK(child.c.issuer.tlv_len == parent.c.subject.tlv_len &&
                   memcmp(child.c.issuer.tlv, parent.c.subject.tlv,
                          parent.c.subject.tlv_len) == 0);
        FUZZ_CHECK(stand_in(path[i].der, path[i].len, parent.c.spki.tlv,
                            parent.c.spki.tlv_len));
        FUZZ_CHECK(parent.is_ca || (i + 2 == len && parent.version == 1 &&
                                    parent.ext_count == 0));
        if (i + 2 < len)
            FUZZ_CHECK(now >= parent.not_before && now <= parent.not_after);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pincurl_cert_ref served[PINCURL_MAX_SERVED];
    size_t n = 0, pos = 0;

    g_data = data;
    g_size = size;
    check_x509(data, size);
    check_hosts(data, size);

    /* Certificates back to back. */
    while (pos < size && n < PINCURL_MAX_SERVED) {
        pc_der_tlv t;
        if (pc_der_read(data + pos, size - pos, &t) != PINCURL_OK)
            break;
        served[n].der = data + pos;
        served[n].len = t.tlv_len;
        check_x509(served[n].der, served[n].len);
        check_hosts(served[n].der, served[n].len);
        n++;
        pos += t.tlv_len;
    }
    if (n > 0)
        check_path(served, n);
    return 0;
}
