/* Certificate facts for people choosing pins (pincurl/cert.h): names, validity, key type
 * and size from DER, and the SubjectPublicKeyInfo of keys and signing requests. */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/ed448.h>

#include <string.h>

#include "core/alloc.h"
#include "core/der.h"
#include "core/pem.h"
#include "pincurl/cert.h"

/* ---- Algorithm identifiers -------------------------------------------------------------- */

static const unsigned char OID_RSA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
static const unsigned char OID_RSA_PSS[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a};
static const unsigned char OID_EC[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const unsigned char OID_ED25519[] = {0x2b, 0x65, 0x70};
static const unsigned char OID_ED448[] = {0x2b, 0x65, 0x71};
static const unsigned char OID_X25519[] = {0x2b, 0x65, 0x6e};
static const unsigned char OID_X448[] = {0x2b, 0x65, 0x6f};

static const struct {
    unsigned char oid[9];
    size_t len;
    unsigned bits;
} CURVES[] = {
    {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}, 8, 256}, /* P-256 */
    {{0x2b, 0x81, 0x04, 0x00, 0x22}, 5, 384},                   /* P-384 */
    {{0x2b, 0x81, 0x04, 0x00, 0x23}, 5, 521},                   /* P-521 */
    {{0x2b, 0x81, 0x04, 0x00, 0x0a}, 5, 256},                   /* secp256k1 */
    {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x01}, 8, 192}, /* P-192 */
    {{0x2b, 0x81, 0x04, 0x00, 0x21}, 5, 224},                   /* P-224 */
};

static int oid_is(const pc_der_tlv *oid, const unsigned char *want, size_t want_len)
{
    return oid->tag == PC_DER_OID && oid->content_len == want_len &&
           memcmp(oid->content, want, want_len) == 0;
}

static void copy_name(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Bits of a DER INTEGER's magnitude (leading zero octets ignored). */
static unsigned integer_bits(const pc_der_tlv *i)
{
    const unsigned char *p = i->content;
    size_t n = i->content_len;
    while (n > 0 && p[0] == 0) {
        p++;
        n--;
    }
    if (n == 0 || n > 0xffffffu / 8)
        return 0;
    unsigned bits = (unsigned)(n * 8);
    for (unsigned char top = p[0]; (top & 0x80u) == 0; top = (unsigned char)(top << 1))
        bits--;
    return bits;
}

/* The modulus length of an RSA key from the BIT STRING of its SPKI. */
static pincurl_status rsa_bits(const pc_der_tlv *key, unsigned *bits)
{
    pc_der_tlv seq, n;
    pincurl_status st = pc_der_read(key->content + 1, key->content_len - 1, &seq);
    if (st != PINCURL_OK)
        return st;
    if (seq.tag != PC_DER_SEQUENCE || seq.tlv_len != key->content_len - 1)
        return PINCURL_DER_MALFORMED;
    pc_der_cursor c;
    pc_der_cursor_init(&c, seq.content, seq.content_len);
    if ((st = pc_der_expect(&c, PC_DER_INTEGER, &n)) != PINCURL_OK)
        return st;
    *bits = integer_bits(&n);
    return PINCURL_OK;
}

pincurl_status pincurl_spki_key_type(const unsigned char *spki, size_t len, char *type,
                                     size_t type_size, unsigned *bits)
{
    pc_der_tlv seq, alg, oid, key;
    pc_der_cursor c, a;
    unsigned b = 0;
    const char *name = NULL;
    char dotted[PINCURL_KEY_TYPE_MAX];

    if (bits != NULL)
        *bits = 0;
    if (type == NULL || type_size == 0 || (spki == NULL && len != 0))
        return PINCURL_INVALID_ARGUMENT;
    type[0] = '\0';
    pincurl_status st = pc_der_spki_check(spki, len);
    if (st != PINCURL_OK)
        return st;
    /* The structure was checked above: these reads cannot fail. */
    if (pc_der_read(spki, len, &seq) != PINCURL_OK)
        return PINCURL_DER_MALFORMED;
    pc_der_cursor_init(&c, seq.content, seq.content_len);
    if (pc_der_expect(&c, PC_DER_SEQUENCE, &alg) != PINCURL_OK ||
        pc_der_expect(&c, PC_DER_BIT_STRING, &key) != PINCURL_OK)
        return PINCURL_DER_MALFORMED;
    pc_der_cursor_init(&a, alg.content, alg.content_len);
    if ((st = pc_der_expect(&a, PC_DER_OID, &oid)) != PINCURL_OK)
        return st;

    if (oid_is(&oid, OID_RSA, sizeof OID_RSA) || oid_is(&oid, OID_RSA_PSS, sizeof OID_RSA_PSS)) {
        name = oid_is(&oid, OID_RSA, sizeof OID_RSA) ? "RSA" : "RSASSA-PSS";
        if ((st = rsa_bits(&key, &b)) != PINCURL_OK)
            return st;
    } else if (oid_is(&oid, OID_EC, sizeof OID_EC)) {
        pc_der_tlv curve;
        name = "EC";
        if (pc_der_peek_tag(&a) == (int)PC_DER_OID && pc_der_next(&a, &curve) == PINCURL_OK) {
            for (size_t i = 0; i < sizeof CURVES / sizeof CURVES[0]; i++)
                if (oid_is(&curve, CURVES[i].oid, CURVES[i].len))
                    b = CURVES[i].bits;
        }
        if (b == 0 && key.content_len > 2 && key.content[1] == 0x04)
            b = (unsigned)((key.content_len - 2) / 2 * 8); /* uncompressed point: 2 * field */
    } else if (oid_is(&oid, OID_ED25519, sizeof OID_ED25519)) {
        name = "Ed25519";
        b = 256;
    } else if (oid_is(&oid, OID_ED448, sizeof OID_ED448)) {
        name = "Ed448";
        b = 456;
    } else if (oid_is(&oid, OID_X25519, sizeof OID_X25519)) {
        name = "X25519";
        b = 256;
    } else if (oid_is(&oid, OID_X448, sizeof OID_X448)) {
        name = "X448";
        b = 448;
    } else {
        if ((st = pc_der_oid_to_string(oid.content, oid.content_len, dotted, sizeof dotted)) !=
            PINCURL_OK)
            return st;
        name = dotted;
    }
    if (strlen(name) >= type_size)
        return PINCURL_BUFFER_TOO_SMALL;
    copy_name(type, type_size, name);
    if (bits != NULL)
        *bits = b;
    return PINCURL_OK;
}

/* ---- Encodings other tools re-encode ----------------------------------------------------- */

/* 1 if the INTEGER's content is the minimal two's complement form of a positive number. */
static int integer_minimal_positive(const pc_der_tlv *i)
{
    const unsigned char *p = i->content;
    size_t n = i->content_len;
    if (n == 0 || (p[0] & 0x80u) != 0)
        return 0; /* empty, or negative */
    if (n > 1 && p[0] == 0 && (p[1] & 0x80u) == 0)
        return 0; /* a leading zero octet that is not needed */
    return 1;
}

/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }, exactly filling
 * the BIT STRING (no unused bits), both minimal and positive. */
static int rsa_key_canonical(const pc_der_tlv *key)
{
    pc_der_tlv seq, n, e;
    pc_der_cursor c;
    if (key->content_len < 2 || key->content[0] != 0)
        return 0;
    if (pc_der_read(key->content + 1, key->content_len - 1, &seq) != PINCURL_OK ||
        seq.tag != PC_DER_SEQUENCE || seq.tlv_len != key->content_len - 1)
        return 0;
    pc_der_cursor_init(&c, seq.content, seq.content_len);
    if (pc_der_expect(&c, PC_DER_INTEGER, &n) != PINCURL_OK ||
        pc_der_expect(&c, PC_DER_INTEGER, &e) != PINCURL_OK || !pc_der_cursor_done(&c))
        return 0;
    return integer_minimal_positive(&n) && integer_minimal_positive(&e);
}

static const unsigned char OID_SHA1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};
static const unsigned char OID_MGF1[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08};

/* A hash AlgorithmIdentifier as re-encoders write it: SEQUENCE { OID, NULL }. Gives the
 * OID; 0 when it is written otherwise (no NULL, another parameter). */
static int hash_alg_canonical(const unsigned char *p, size_t len, pc_der_tlv *oid)
{
    pc_der_tlv seq, null;
    pc_der_cursor c;
    if (pc_der_read(p, len, &seq) != PINCURL_OK || seq.tag != PC_DER_SEQUENCE ||
        seq.tlv_len != len)
        return 0;
    pc_der_cursor_init(&c, seq.content, seq.content_len);
    if (pc_der_expect(&c, PC_DER_OID, oid) != PINCURL_OK)
        return 0;
    return pc_der_expect(&c, PC_DER_NULL, &null) == PINCURL_OK && null.content_len == 0 &&
           pc_der_cursor_done(&c);
}

/* RSASSA-PSS-params ::= SEQUENCE { [0] hash DEFAULT sha1, [1] mgf DEFAULT mgf1SHA1,
 * [2] saltLength DEFAULT 20, [3] trailerField DEFAULT 1 }, as re-encoders write it: each
 * field only when it differs from its default, hash algorithms with a NULL parameter, no
 * trailerField (always 1). */
static int pss_params_canonical(const pc_der_cursor *params)
{
    pc_der_cursor a = *params, p;
    pc_der_tlv seq, el, oid, mgf_oid, inner;
    int last = -1;
    if (pc_der_cursor_done(&a))
        return 1; /* no parameters: nothing to re-encode */
    if (pc_der_expect(&a, PC_DER_SEQUENCE, &seq) != PINCURL_OK || !pc_der_cursor_done(&a))
        return 0;
    pc_der_cursor_init(&p, seq.content, seq.content_len);
    while (!pc_der_cursor_done(&p)) {
        if (pc_der_next(&p, &el) != PINCURL_OK || (el.tag & 0xe0u) != 0xa0u)
            return 0;
        int field = (int)(el.tag & 0x1fu);
        if (field <= last || field > 2) /* out of order, or a trailerField */
            return 0;
        last = field;
        if (field == 0) {
            if (!hash_alg_canonical(el.content, el.content_len, &oid) ||
                oid_is(&oid, OID_SHA1, sizeof OID_SHA1))
                return 0;
        } else if (field == 1) {
            pc_der_cursor m;
            pc_der_tlv mseq;
            if (pc_der_read(el.content, el.content_len, &mseq) != PINCURL_OK ||
                mseq.tag != PC_DER_SEQUENCE || mseq.tlv_len != el.content_len)
                return 0;
            pc_der_cursor_init(&m, mseq.content, mseq.content_len);
            if (pc_der_expect(&m, PC_DER_OID, &mgf_oid) != PINCURL_OK ||
                !oid_is(&mgf_oid, OID_MGF1, sizeof OID_MGF1) ||
                pc_der_next(&m, &inner) != PINCURL_OK || !pc_der_cursor_done(&m) ||
                !hash_alg_canonical(inner.tlv, inner.tlv_len, &oid) ||
                oid_is(&oid, OID_SHA1, sizeof OID_SHA1))
                return 0;
        } else {
            pc_der_tlv salt;
            if (pc_der_read(el.content, el.content_len, &salt) != PINCURL_OK ||
                salt.tag != PC_DER_INTEGER || salt.tlv_len != el.content_len ||
                !integer_minimal_positive(&salt) ||
                (salt.content_len == 1 && salt.content[0] == 20))
                return 0;
        }
    }
    return 1;
}

pincurl_status pincurl_spki_encoding_notes(const unsigned char *spki, size_t len,
                                           unsigned *notes)
{
    pc_der_tlv seq, alg, oid, key, param;
    pc_der_cursor c, a;
    if (notes == NULL)
        return PINCURL_INVALID_ARGUMENT;
    *notes = 0;
    if (spki == NULL && len != 0)
        return PINCURL_INVALID_ARGUMENT;
    pincurl_status st = pc_der_spki_check(spki, len);
    if (st != PINCURL_OK)
        return st;
    if (pc_der_read(spki, len, &seq) != PINCURL_OK)
        return PINCURL_DER_MALFORMED;
    pc_der_cursor_init(&c, seq.content, seq.content_len);
    if (pc_der_expect(&c, PC_DER_SEQUENCE, &alg) != PINCURL_OK ||
        pc_der_expect(&c, PC_DER_BIT_STRING, &key) != PINCURL_OK)
        return PINCURL_DER_MALFORMED;
    pc_der_cursor_init(&a, alg.content, alg.content_len);
    if (pc_der_expect(&a, PC_DER_OID, &oid) != PINCURL_OK)
        return PINCURL_OK; /* not an algorithm anyone re-encodes */
    if (oid_is(&oid, OID_RSA, sizeof OID_RSA)) {
        pc_der_cursor rest = a;
        int null_param = pc_der_next(&rest, &param) == PINCURL_OK &&
                         param.tag == PC_DER_NULL && param.content_len == 0 &&
                         pc_der_cursor_done(&rest);
        if (!null_param)
            *notes |= PINCURL_SPKI_NOTE_RSA_PARAMETERS;
        if (!rsa_key_canonical(&key))
            *notes |= PINCURL_SPKI_NOTE_RSA_INTEGERS;
    } else if (oid_is(&oid, OID_RSA_PSS, sizeof OID_RSA_PSS)) {
        if (!pss_params_canonical(&a))
            *notes |= PINCURL_SPKI_NOTE_PSS_PARAMETERS;
        if (!rsa_key_canonical(&key))
            *notes |= PINCURL_SPKI_NOTE_RSA_INTEGERS;
    }
    return PINCURL_OK;
}

/* ---- Reading a certificate -------------------------------------------------------------- */

/* notBefore or notAfter of Validity ::= SEQUENCE { Time, Time }. */
static pincurl_status validity_time(const pc_der_tlv *validity, int after, int64_t *t)
{
    pc_der_cursor c;
    pc_der_tlv before, notafter;
    pincurl_status st;
    pc_der_cursor_init(&c, validity->content, validity->content_len);
    if ((st = pc_der_next(&c, &before)) != PINCURL_OK ||
        (st = pc_der_next(&c, &notafter)) != PINCURL_OK)
        return st;
    if (!pc_der_cursor_done(&c))
        return PINCURL_DER_MALFORMED;
    return pc_der_time_x680(after ? &notafter : &before, t);
}

pincurl_status pincurl_cert_info_read(const unsigned char *der, size_t len,
                                      pincurl_cert_info *out)
{
    pc_der_cert f;
    if (out == NULL)
        return PINCURL_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (der == NULL)
        return PINCURL_INVALID_ARGUMENT;
    pincurl_status st = pc_der_cert_locate(der, len, &f);
    if (st == PINCURL_OK)
        st = pincurl_pin_from_spki_der(f.spki.tlv, f.spki.tlv_len, &out->pin);
    if (st == PINCURL_OK)
        (void)pincurl_spki_encoding_notes(f.spki.tlv, f.spki.tlv_len, &out->key_notes);
    if (st != PINCURL_OK) {
        memset(out, 0, sizeof *out);
        return st;
    }
    /* Each field on its own: one that cannot be read is reported, never guessed. */
    out->subject_status = pc_der_name_to_string_any(f.subject.tlv, f.subject.tlv_len,
                                                    out->subject, sizeof out->subject);
    if (out->subject_status != PINCURL_OK) {
        out->unread |= PINCURL_CERT_SUBJECT;
        if (out->subject_status != PINCURL_BUFFER_TOO_SMALL)
            out->subject[0] = '\0';
    }
    out->issuer_status = pc_der_name_to_string_any(f.issuer.tlv, f.issuer.tlv_len, out->issuer,
                                                   sizeof out->issuer);
    if (out->issuer_status != PINCURL_OK) {
        out->unread |= PINCURL_CERT_ISSUER;
        if (out->issuer_status != PINCURL_BUFFER_TOO_SMALL)
            out->issuer[0] = '\0';
    }
    out->not_before_status = validity_time(&f.validity, 0, &out->not_before);
    if (out->not_before_status != PINCURL_OK) {
        out->unread |= PINCURL_CERT_NOT_BEFORE;
        out->not_before = 0;
    }
    out->not_after_status = validity_time(&f.validity, 1, &out->not_after);
    if (out->not_after_status != PINCURL_OK) {
        out->unread |= PINCURL_CERT_NOT_AFTER;
        out->not_after = 0;
    }
    out->key_type_status = pincurl_spki_key_type(f.spki.tlv, f.spki.tlv_len, out->key_type,
                                                 sizeof out->key_type, &out->key_bits);
    if (out->key_type_status != PINCURL_OK) {
        out->unread |= PINCURL_CERT_KEY_TYPE;
        out->key_type[0] = '\0';
        out->key_bits = 0;
    }
    return PINCURL_OK;
}

pincurl_status pincurl_cert_info_get(const unsigned char *der, size_t len, pincurl_cert_info *out)
{
    pc_der_cert cert;
    if (out == NULL)
        return PINCURL_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (der == NULL)
        return PINCURL_INVALID_ARGUMENT;
    /* the whole certificate well formed, then every field read */
    pincurl_status st = pc_der_cert_parse(der, len, &cert);
    if (st == PINCURL_OK)
        st = pincurl_cert_info_read(der, len, out);
    if (st == PINCURL_OK && out->unread != 0)
        st = out->subject_status != PINCURL_OK      ? out->subject_status
             : out->issuer_status != PINCURL_OK     ? out->issuer_status
             : out->not_before_status != PINCURL_OK ? out->not_before_status
             : out->not_after_status != PINCURL_OK  ? out->not_after_status
                                                    : out->key_type_status;
    if (st != PINCURL_OK)
        memset(out, 0, sizeof *out);
    return st;
}

/* ---- Writing a SubjectPublicKeyInfo -------------------------------------------------- */

typedef struct writer {
    unsigned char *p;
    size_t cap;
    size_t n;
    int overflow;
} writer;

static void put(writer *w, const void *data, size_t len)
{
    if (w->overflow || len > w->cap - w->n) {
        w->overflow = 1;
        return;
    }
    memcpy(w->p + w->n, data, len);
    w->n += len;
}

static size_t header_len(size_t len)
{
    size_t n = 2;
    for (size_t v = len; len >= 0x80 && v > 0; v >>= 8)
        n++;
    return n;
}

static void put_header(writer *w, unsigned char tag, size_t len)
{
    unsigned char h[2 + sizeof(size_t)];
    size_t n = 0;
    h[n++] = tag;
    if (len < 0x80) {
        h[n++] = (unsigned char)len;
    } else {
        size_t octets = header_len(len) - 2;
        h[n++] = (unsigned char)(0x80u | octets);
        for (size_t i = octets; i > 0; i--)
            h[n++] = (unsigned char)(len >> (8 * (i - 1)));
    }
    put(w, h, n);
}

/* SEQUENCE { alg, BIT STRING { 0 unused bits, wrap? SEQUENCE { a b } : a } }. */
static pincurl_status write_spki(unsigned char *out, size_t cap, size_t *out_len,
                                 const unsigned char *alg, size_t alg_len,
                                 const unsigned char *a, size_t a_len,
                                 const unsigned char *b, size_t b_len, int wrap)
{
    writer w = {out, cap, 0, 0};
    size_t key_len = wrap ? header_len(a_len + b_len) + a_len + b_len : a_len;
    size_t bits_len = 1 + key_len;
    size_t body = alg_len + header_len(bits_len) + bits_len;
    static const unsigned char zero = 0;

    put_header(&w, PC_DER_SEQUENCE, body);
    put(&w, alg, alg_len);
    put_header(&w, PC_DER_BIT_STRING, bits_len);
    put(&w, &zero, 1);
    if (wrap)
        put_header(&w, PC_DER_SEQUENCE, a_len + b_len);
    put(&w, a, a_len);
    if (wrap)
        put(&w, b, b_len);
    if (w.overflow)
        return PINCURL_BUFFER_TOO_SMALL;
    *out_len = w.n;
    return pc_der_spki_check(out, w.n);
}

static pincurl_status copy_out(const unsigned char *src, size_t len, unsigned char *out,
                               size_t cap, size_t *out_len)
{
    if (len > cap)
        return PINCURL_BUFFER_TOO_SMALL;
    memcpy(out, src, len);
    *out_len = len;
    return PINCURL_OK;
}

static pincurl_status rsa_from_n_e(const pc_der_tlv *n, const pc_der_tlv *e, unsigned char *out,
                                   size_t cap, size_t *out_len)
{
    /* AlgorithmIdentifier { rsaEncryption, NULL }, as OpenSSL writes it. */
    static const unsigned char alg[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                        0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    return write_spki(out, cap, out_len, alg, sizeof alg, n->tlv, n->tlv_len, e->tlv,
                      e->tlv_len, 1);
}

/* RSAPrivateKey ::= SEQUENCE { version 0, n, e, d, p, q, dp, dq, qinv, ... } (content). */
static pincurl_status rsa_private(const pc_der_tlv *seq, unsigned char *out, size_t cap,
                                  size_t *out_len)
{
    pc_der_cursor c;
    pc_der_tlv v, n, e, rest;
    pincurl_status st;
    pc_der_cursor_init(&c, seq->content, seq->content_len);
    if ((st = pc_der_expect(&c, PC_DER_INTEGER, &v)) != PINCURL_OK ||
        (st = pc_der_expect(&c, PC_DER_INTEGER, &n)) != PINCURL_OK ||
        (st = pc_der_expect(&c, PC_DER_INTEGER, &e)) != PINCURL_OK)
        return st;
    if (v.content_len != 1 || v.content[0] > 1 || integer_bits(&n) == 0)
        return PINCURL_DER_MALFORMED;
    for (int i = 0; i < 6; i++)
        if ((st = pc_der_expect(&c, PC_DER_INTEGER, &rest)) != PINCURL_OK)
            return st;
    return rsa_from_n_e(&n, &e, out, cap, out_len);
}

/* The publicKey field of an ECPrivateKey ([1] EXPLICIT BIT STRING) and its [0] curve. */
static pincurl_status ec_private_parts(const unsigned char *der, size_t len, pc_der_tlv *curve,
                                       int *have_curve, pc_der_tlv *point)
{
    pc_der_tlv seq, v, priv, el;
    pc_der_cursor c;
    int have_point = 0;
    pincurl_status st = pc_der_read(der, len, &seq);
    if (st != PINCURL_OK)
        return st;
    if (seq.tag != PC_DER_SEQUENCE || seq.tlv_len != len)
        return PINCURL_DER_MALFORMED;
    pc_der_cursor_init(&c, seq.content, seq.content_len);
    if ((st = pc_der_expect(&c, PC_DER_INTEGER, &v)) != PINCURL_OK ||
        (st = pc_der_expect(&c, PC_DER_OCTET_STRING, &priv)) != PINCURL_OK)
        return st;
    if (v.content_len != 1 || v.content[0] != 1)
        return PINCURL_DER_MALFORMED;
    *have_curve = 0;
    while (!pc_der_cursor_done(&c)) {
        if ((st = pc_der_next(&c, &el)) != PINCURL_OK)
            return st;
        if (el.tag == 0xa0u) {
            if ((st = pc_der_read(el.content, el.content_len, curve)) != PINCURL_OK)
                return st;
            if (curve->tag != PC_DER_OID || curve->tlv_len != el.content_len)
                return PINCURL_DER_MALFORMED;
            *have_curve = 1;
        } else if (el.tag == 0xa1u) {
            if ((st = pc_der_read(el.content, el.content_len, point)) != PINCURL_OK)
                return st;
            if (point->tag != PC_DER_BIT_STRING || point->tlv_len != el.content_len ||
                point->content_len < 2 || point->content[0] != 0)
                return PINCURL_DER_MALFORMED;
            have_point = 1;
        } else {
            return PINCURL_DER_MALFORMED;
        }
    }
    return have_point ? PINCURL_OK : PINCURL_KEY_UNSUPPORTED;
}

/* SEC1 ECPrivateKey with its curve given there. */
static pincurl_status ec_private(const unsigned char *der, size_t len, unsigned char *out,
                                 size_t cap, size_t *out_len)
{
    pc_der_tlv curve, point;
    int have_curve;
    pincurl_status st = ec_private_parts(der, len, &curve, &have_curve, &point);
    if (st != PINCURL_OK)
        return st;
    if (!have_curve)
        return PINCURL_KEY_UNSUPPORTED;
    unsigned char alg[2 + 2 + sizeof OID_EC + 64];
    writer w = {alg, sizeof alg, 0, 0};
    put_header(&w, PC_DER_SEQUENCE, 2 + sizeof OID_EC + curve.tlv_len);
    put_header(&w, PC_DER_OID, sizeof OID_EC);
    put(&w, OID_EC, sizeof OID_EC);
    put(&w, curve.tlv, curve.tlv_len);
    if (w.overflow)
        return PINCURL_KEY_UNSUPPORTED;
    return write_spki(out, cap, out_len, alg, w.n, point.content + 1, point.content_len - 1,
                      NULL, 0, 0);
}

static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n-- > 0)
        *v++ = 0;
}

/* Ed25519 / Ed448: CurvePrivateKey ::= OCTET STRING inside the PKCS#8 privateKey. */
static pincurl_status edwards_private(const pc_der_tlv *alg, int ed448, const pc_der_tlv *priv,
                                      unsigned char *out, size_t cap, size_t *out_len)
{
    pc_der_tlv inner;
    unsigned char pub[ED448_PUB_KEY_SIZE];
    size_t want = ed448 ? ED448_KEY_SIZE : ED25519_KEY_SIZE;
    size_t pub_len = ed448 ? ED448_PUB_KEY_SIZE : ED25519_PUB_KEY_SIZE;
    int rc;
    pincurl_status st = pc_der_read(priv->content, priv->content_len, &inner);
    if (st != PINCURL_OK)
        return st;
    if (inner.tag != PC_DER_OCTET_STRING || inner.tlv_len != priv->content_len ||
        inner.content_len != want)
        return PINCURL_DER_MALFORMED;
    if (ed448) {
        ed448_key k;
        if (wc_ed448_init(&k) != 0)
            return PINCURL_INTERNAL;
        rc = wc_ed448_import_private_only(inner.content, (word32)want, &k);
        if (rc == 0)
            rc = wc_ed448_make_public(&k, pub, (word32)pub_len);
        wc_ed448_free(&k);
    } else {
        ed25519_key k;
        if (wc_ed25519_init(&k) != 0)
            return PINCURL_INTERNAL;
        rc = wc_ed25519_import_private_only(inner.content, (word32)want, &k);
        if (rc == 0)
            rc = wc_ed25519_make_public(&k, pub, (word32)pub_len);
        wc_ed25519_free(&k);
    }
    if (rc != 0)
        return PINCURL_INTERNAL;
    st = write_spki(out, cap, out_len, alg->tlv, alg->tlv_len, pub, pub_len, NULL, 0, 0);
    wipe(pub, sizeof pub);
    return st;
}

/* PKCS#8 PrivateKeyInfo / OneAsymmetricKey (content of the outer SEQUENCE). */
static pincurl_status pkcs8_private(const pc_der_tlv *seq, unsigned char *out, size_t cap,
                                    size_t *out_len)
{
    pc_der_cursor c, a;
    pc_der_tlv v, alg, oid, priv, el, inner;
    pincurl_status st;
    pc_der_cursor_init(&c, seq->content, seq->content_len);
    if ((st = pc_der_expect(&c, PC_DER_INTEGER, &v)) != PINCURL_OK ||
        (st = pc_der_expect(&c, PC_DER_SEQUENCE, &alg)) != PINCURL_OK ||
        (st = pc_der_expect(&c, PC_DER_OCTET_STRING, &priv)) != PINCURL_OK)
        return st;
    if (v.content_len != 1 || v.content[0] > 1)
        return PINCURL_DER_MALFORMED;
    pc_der_cursor_init(&a, alg.content, alg.content_len);
    if ((st = pc_der_expect(&a, PC_DER_OID, &oid)) != PINCURL_OK)
        return st;
    /* A v2 key may carry its public key: [1] IMPLICIT BIT STRING. */
    while (!pc_der_cursor_done(&c)) {
        if ((st = pc_der_next(&c, &el)) != PINCURL_OK)
            return st;
        if (el.tag == 0x81u && el.content_len >= 2 && el.content[0] == 0 &&
            !oid_is(&oid, OID_RSA, sizeof OID_RSA) && !oid_is(&oid, OID_EC, sizeof OID_EC))
            return write_spki(out, cap, out_len, alg.tlv, alg.tlv_len, el.content + 1,
                              el.content_len - 1, NULL, 0, 0);
    }
    if (oid_is(&oid, OID_RSA, sizeof OID_RSA)) {
        if ((st = pc_der_read(priv.content, priv.content_len, &inner)) != PINCURL_OK)
            return st;
        if (inner.tag != PC_DER_SEQUENCE || inner.tlv_len != priv.content_len)
            return PINCURL_DER_MALFORMED;
        return rsa_private(&inner, out, cap, out_len);
    }
    if (oid_is(&oid, OID_EC, sizeof OID_EC)) {
        pc_der_tlv curve, point;
        int have_curve;
        st = ec_private_parts(priv.content, priv.content_len, &curve, &have_curve, &point);
        if (st != PINCURL_OK)
            return st;
        return write_spki(out, cap, out_len, alg.tlv, alg.tlv_len, point.content + 1,
                          point.content_len - 1, NULL, 0, 0);
    }
    if (oid_is(&oid, OID_ED25519, sizeof OID_ED25519))
        return edwards_private(&alg, 0, &priv, out, cap, out_len);
    if (oid_is(&oid, OID_ED448, sizeof OID_ED448))
        return edwards_private(&alg, 1, &priv, out, cap, out_len);
    return PINCURL_KEY_UNSUPPORTED;
}

/* Any of the DER key forms, told apart by their structure. */
static pincurl_status key_from_der(const unsigned char *der, size_t len, unsigned char *out,
                                   size_t cap, size_t *out_len)
{
    pc_der_tlv seq, first, second;
    pc_der_cursor c;
    pincurl_status st = pc_der_read(der, len, &seq);
    if (st != PINCURL_OK)
        return st;
    if (seq.tag != PC_DER_SEQUENCE || seq.tlv_len != len)
        return PINCURL_DER_MALFORMED;
    pc_der_cursor_init(&c, seq.content, seq.content_len);
    if ((st = pc_der_next(&c, &first)) != PINCURL_OK)
        return st;
    if (first.tag == PC_DER_SEQUENCE) { /* SubjectPublicKeyInfo */
        if ((st = pc_der_spki_check(der, len)) != PINCURL_OK)
            return st;
        return copy_out(der, len, out, cap, out_len);
    }
    if (first.tag != PC_DER_INTEGER || (st = pc_der_next(&c, &second)) != PINCURL_OK)
        return first.tag != PC_DER_INTEGER ? PINCURL_DER_MALFORMED : st;
    if (second.tag == PC_DER_SEQUENCE)
        return pkcs8_private(&seq, out, cap, out_len);
    if (second.tag == PC_DER_OCTET_STRING)
        return ec_private(der, len, out, cap, out_len);
    if (second.tag != PC_DER_INTEGER)
        return PINCURL_DER_MALFORMED;
    if (pc_der_cursor_done(&c)) /* RSAPublicKey ::= SEQUENCE { n, e } */
        return rsa_from_n_e(&first, &second, out, cap, out_len);
    return rsa_private(&seq, out, cap, out_len);
}

typedef pincurl_status (*der_fn)(const unsigned char *der, size_t len, unsigned char *out,
                                 size_t cap, size_t *out_len);

/* Runs fn on the DER input, or on the first PEM block whose label is in labels; a block
 * whose label is in refused makes the call KEY_UNSUPPORTED (unless a usable block came
 * first). The decoded block is wiped before it is freed (it may be a private key). */
static pincurl_status from_pem_or_der(const unsigned char *data, size_t len,
                                      const char *const *labels, const char *const *refused,
                                      der_fn fn, unsigned char *out, size_t cap,
                                      size_t *out_len)
{
    pincurl_allocator a;
    size_t pos = 0;
    int saw_refused = 0;

    if (out_len != NULL)
        *out_len = 0;
    if ((data == NULL && len != 0) || out == NULL || out_len == NULL)
        return PINCURL_INVALID_ARGUMENT;
    if (len == 0)
        return PINCURL_NO_KEY;
    if (data[0] == PC_DER_SEQUENCE)
        return fn(data, len, out, cap, out_len);
    pc_allocator_init(&a, NULL);
    for (;;) {
        pc_pem_block block;
        int found, usable = 0;
        pincurl_status st = pc_pem_next((const char *)data, len, &pos, &block, &found);
        if (st != PINCURL_OK)
            return st;
        if (!found)
            break;
        for (size_t i = 0; labels[i] != NULL; i++)
            usable |= pc_pem_label_is(&block, labels[i]);
        for (size_t i = 0; refused[i] != NULL; i++)
            saw_refused |= pc_pem_label_is(&block, refused[i]);
        if (!usable)
            continue;
        unsigned char *der;
        size_t der_len;
        if ((st = pc_pem_decode(&block, &a, &der, &der_len)) != PINCURL_OK)
            return st;
        st = fn(der, der_len, out, cap, out_len);
        wipe(der, der_len);
        pc_free(&a, der);
        if (st != PINCURL_OK)
            *out_len = 0;
        return st;
    }
    return saw_refused ? PINCURL_KEY_UNSUPPORTED : PINCURL_NO_KEY;
}

pincurl_status pincurl_spki_from_key(const unsigned char *data, size_t len, unsigned char *out,
                                     size_t cap, size_t *out_len)
{
    static const char *const labels[] = {"PUBLIC KEY",      "RSA PUBLIC KEY", "PRIVATE KEY",
                                         "RSA PRIVATE KEY", "EC PRIVATE KEY", NULL};
    static const char *const refused[] = {"ENCRYPTED PRIVATE KEY", NULL};
    return from_pem_or_der(data, len, labels, refused, key_from_der, out, cap, out_len);
}

/* CertificationRequest ::= SEQUENCE { CertificationRequestInfo ::= SEQUENCE { version,
 * subject Name, subjectPKInfo, [0] attributes }, signatureAlgorithm, signature }. */
static pincurl_status csr_from_der(const unsigned char *der, size_t len, unsigned char *out,
                                   size_t cap, size_t *out_len)
{
    pc_der_tlv req, info, v, name, spki, attrs, alg, sig;
    pc_der_cursor c, i;
    pincurl_status st = pc_der_read(der, len, &req);
    if (st != PINCURL_OK)
        return st;
    if (req.tag != PC_DER_SEQUENCE || req.tlv_len != len)
        return PINCURL_DER_MALFORMED;
    pc_der_cursor_init(&c, req.content, req.content_len);
    if ((st = pc_der_expect(&c, PC_DER_SEQUENCE, &info)) != PINCURL_OK ||
        (st = pc_der_expect(&c, PC_DER_SEQUENCE, &alg)) != PINCURL_OK ||
        (st = pc_der_expect(&c, PC_DER_BIT_STRING, &sig)) != PINCURL_OK)
        return st;
    if (!pc_der_cursor_done(&c))
        return PINCURL_DER_MALFORMED;
    pc_der_cursor_init(&i, info.content, info.content_len);
    if ((st = pc_der_expect(&i, PC_DER_INTEGER, &v)) != PINCURL_OK ||
        (st = pc_der_expect(&i, PC_DER_SEQUENCE, &name)) != PINCURL_OK ||
        (st = pc_der_expect(&i, PC_DER_SEQUENCE, &spki)) != PINCURL_OK ||
        (st = pc_der_expect(&i, PC_DER_CONTEXT_0, &attrs)) != PINCURL_OK)
        return st;
    if (!pc_der_cursor_done(&i) || v.content_len != 1 || v.content[0] != 0)
        return PINCURL_DER_MALFORMED;
    if ((st = pc_der_spki_check(spki.tlv, spki.tlv_len)) != PINCURL_OK)
        return st;
    return copy_out(spki.tlv, spki.tlv_len, out, cap, out_len);
}

pincurl_status pincurl_spki_from_csr(const unsigned char *data, size_t len, unsigned char *out,
                                     size_t cap, size_t *out_len)
{
    static const char *const labels[] = {"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST",
                                         NULL};
    static const char *const refused[] = {NULL};
    return from_pem_or_der(data, len, labels, refused, csr_from_der, out, cap, out_len);
}
