/* A bounds-checked DER reader and the few X.509 fields pincurl needs. */
#include "core/der.h"

#include <string.h>

pincurl_status pc_der_read(const unsigned char *buf, size_t len, pc_der_tlv *out)
{
    memset(out, 0, sizeof *out);
    if (buf == NULL || len == 0)
        return PINCURL_DER_TRUNCATED;
    unsigned tag = buf[0];
    if ((tag & 0x1fu) == 0x1fu)
        return PINCURL_DER_MALFORMED; /* high tag numbers: not used by X.509 */
    if (len < 2)
        return PINCURL_DER_TRUNCATED;
    size_t pos = 2;
    size_t clen = buf[1];
    if (clen == 0x80)
        return PINCURL_DER_MALFORMED; /* indefinite length is BER, not DER */
    if (clen > 0x80) {
        size_t n = clen & 0x7fu;
        if (n > 4)
            return PINCURL_DER_MALFORMED;
        if (len - 2 < n)
            return PINCURL_DER_TRUNCATED;
        if (buf[2] == 0)
            return PINCURL_DER_MALFORMED; /* leading zero: not minimal */
        clen = 0;
        for (size_t i = 0; i < n; i++)
            clen = (clen << 8) | buf[2 + i];
        if (clen < 0x80)
            return PINCURL_DER_MALFORMED; /* fits the short form: not minimal */
        pos += n;
    }
    if (clen > len - pos)
        return PINCURL_DER_TRUNCATED;
    out->tag = tag;
    out->tlv = buf;
    out->tlv_len = pos + clen;
    out->content = buf + pos;
    out->content_len = clen;
    return PINCURL_OK;
}

void pc_der_cursor_init(pc_der_cursor *c, const unsigned char *buf, size_t len)
{
    c->p = buf;
    c->left = buf == NULL ? 0 : len;
}

int pc_der_cursor_done(const pc_der_cursor *c)
{
    return c->left == 0;
}

pincurl_status pc_der_next(pc_der_cursor *c, pc_der_tlv *out)
{
    if (c->left == 0) {
        memset(out, 0, sizeof *out);
        return PINCURL_DER_MALFORMED; /* a required element is missing */
    }
    pincurl_status st = pc_der_read(c->p, c->left, out);
    if (st != PINCURL_OK)
        return st;
    c->p += out->tlv_len;
    c->left -= out->tlv_len;
    return PINCURL_OK;
}

pincurl_status pc_der_expect(pc_der_cursor *c, unsigned tag, pc_der_tlv *out)
{
    if (c->left == 0) {
        memset(out, 0, sizeof *out);
        return PINCURL_DER_MALFORMED;
    }
    pincurl_status st = pc_der_read(c->p, c->left, out);
    if (st != PINCURL_OK)
        return st;
    if (out->tag != tag) {
        memset(out, 0, sizeof *out);
        return PINCURL_DER_MALFORMED;
    }
    c->p += out->tlv_len;
    c->left -= out->tlv_len;
    return PINCURL_OK;
}

int pc_der_peek_tag(const pc_der_cursor *c)
{
    return c->left == 0 ? -1 : (int)c->p[0];
}

/* Reads exactly one element of the given tag filling buf[0..len). */
static pincurl_status read_exact(const unsigned char *buf, size_t len, unsigned tag,
                                 pc_der_tlv *out)
{
    pincurl_status st = pc_der_read(buf, len, out);
    if (st != PINCURL_OK)
        return st;
    if (out->tag != tag || out->tlv_len != len)
        return PINCURL_DER_MALFORMED;
    return PINCURL_OK;
}

pincurl_status pc_der_spki_check(const unsigned char *spki, size_t len)
{
    pc_der_tlv seq, alg, key;
    pincurl_status st = read_exact(spki, len, PC_DER_SEQUENCE, &seq);
    if (st != PINCURL_OK)
        return st;
    pc_der_cursor c;
    pc_der_cursor_init(&c, seq.content, seq.content_len);
    if ((st = pc_der_expect(&c, PC_DER_SEQUENCE, &alg)) != PINCURL_OK)
        return st;
    if (alg.content_len == 0)
        return PINCURL_DER_MALFORMED; /* the algorithm OID is mandatory */
    if ((st = pc_der_expect(&c, PC_DER_BIT_STRING, &key)) != PINCURL_OK)
        return st;
    if (!pc_der_cursor_done(&c))
        return PINCURL_DER_MALFORMED;
    if (key.content_len < 2 || key.content[0] > 7)
        return PINCURL_DER_MALFORMED; /* unused-bits octet and at least one key byte */
    return PINCURL_OK;
}

pincurl_status pc_der_cert_parse(const unsigned char *der, size_t len, pc_der_cert *out)
{
    pc_der_tlv cert, sigalg, sig, version, tlv;
    pc_der_cursor c, t;
    pincurl_status st;

    memset(out, 0, sizeof *out);
    if ((st = read_exact(der, len, PC_DER_SEQUENCE, &cert)) != PINCURL_OK)
        return st;

    pc_der_cursor_init(&c, cert.content, cert.content_len);
    if ((st = pc_der_expect(&c, PC_DER_SEQUENCE, &out->tbs)) != PINCURL_OK)
        goto fail;
    if ((st = pc_der_expect(&c, PC_DER_SEQUENCE, &sigalg)) != PINCURL_OK)
        goto fail;
    if ((st = pc_der_expect(&c, PC_DER_BIT_STRING, &sig)) != PINCURL_OK)
        goto fail;
    if (!pc_der_cursor_done(&c)) {
        st = PINCURL_DER_MALFORMED;
        goto fail;
    }

    pc_der_cursor_init(&t, out->tbs.content, out->tbs.content_len);
    if (pc_der_peek_tag(&t) == (int)PC_DER_CONTEXT_0) {
        if ((st = pc_der_next(&t, &version)) != PINCURL_OK)
            goto fail;
        if ((st = read_exact(version.content, version.content_len, PC_DER_INTEGER, &tlv)) !=
            PINCURL_OK)
            goto fail;
    }
    if ((st = pc_der_expect(&t, PC_DER_INTEGER, &out->serial)) != PINCURL_OK)
        goto fail;
    if (out->serial.content_len == 0) {
        st = PINCURL_DER_MALFORMED;
        goto fail;
    }
    if ((st = pc_der_expect(&t, PC_DER_SEQUENCE, &tlv)) != PINCURL_OK) /* signature */
        goto fail;
    if ((st = pc_der_expect(&t, PC_DER_SEQUENCE, &out->issuer)) != PINCURL_OK)
        goto fail;
    if ((st = pc_der_expect(&t, PC_DER_SEQUENCE, &out->validity)) != PINCURL_OK)
        goto fail;
    if ((st = pc_der_expect(&t, PC_DER_SEQUENCE, &out->subject)) != PINCURL_OK)
        goto fail;
    if ((st = pc_der_expect(&t, PC_DER_SEQUENCE, &out->spki)) != PINCURL_OK)
        goto fail;
    if ((st = pc_der_spki_check(out->spki.tlv, out->spki.tlv_len)) != PINCURL_OK)
        goto fail;
    /* issuerUniqueID, subjectUniqueID, extensions: only required to be well formed. */
    while (!pc_der_cursor_done(&t)) {
        if ((st = pc_der_next(&t, &tlv)) != PINCURL_OK)
            goto fail;
    }
    return PINCURL_OK;

fail:
    memset(out, 0, sizeof *out);
    return st;
}

/* ---- Certificate fields for path building ----------------------------------------- */

/* OIDs of the extensions pincurl reads (id-ce 2.5.29.x: 55 1d x). */
#define OID_CE(x) {0x55, 0x1d, (x)}
static const unsigned char oid_basic_constraints[3] = OID_CE(19);
static const unsigned char oid_key_usage[3] = OID_CE(15);
static const unsigned char oid_skid[3] = OID_CE(14);
static const unsigned char oid_akid[3] = OID_CE(35);
static const unsigned char oid_san[3] = OID_CE(17);

/* id-ce extensions pincurl does not interpret but knows to be enforced, where they matter,
 * by the TLS library's own verification (a critical one is accepted). */
static const unsigned char known_ce[] = {
    9,  /* subjectDirectoryAttributes */
    18, /* issuerAltName */
    30, /* nameConstraints */
    31, /* cRLDistributionPoints */
    32, /* certificatePolicies */
    33, /* policyMappings */
    36, /* policyConstraints */
    37, /* extKeyUsage */
    46, /* freshestCRL */
    54, /* inhibitAnyPolicy */
};

static int oid_is(const pc_der_tlv *oid, const unsigned char *want, size_t n)
{
    return oid->content_len == n && memcmp(oid->content, want, n) == 0;
}

/* BOOLEAN in DER: one content octet, 0x00 or 0xff. */
static pincurl_status read_bool(const pc_der_tlv *t, int *value)
{
    if (t->tag != PC_DER_BOOLEAN || t->content_len != 1 ||
        (t->content[0] != 0x00 && t->content[0] != 0xff))
        return PINCURL_DER_MALFORMED;
    *value = t->content[0] == 0xff;
    return PINCURL_OK;
}

/* A non-negative INTEGER that fits a long (minimal encoding). */
static pincurl_status read_small_uint(const pc_der_tlv *t, long *value)
{
    const unsigned char *p = t->content;
    size_t n = t->content_len;
    unsigned long v = 0;
    if (t->tag != PC_DER_INTEGER || n == 0 || (p[0] & 0x80u) != 0)
        return PINCURL_DER_MALFORMED;
    if (n > 1 && p[0] == 0 && (p[1] & 0x80u) == 0)
        return PINCURL_DER_MALFORMED; /* not minimal */
    if (p[0] == 0) {
        p++;
        n--;
    }
    if (n > 3)
        return PINCURL_DER_MALFORMED; /* pincurl has no use for larger values */
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    *value = (long)v;
    return PINCURL_OK;
}

static pincurl_status ext_basic_constraints(const pc_der_tlv *v, pc_der_x509 *out)
{
    pc_der_tlv seq, t;
    pc_der_cursor c;
    pincurl_status st = read_exact(v->content, v->content_len, PC_DER_SEQUENCE, &seq);
    if (st != PINCURL_OK)
        return st;
    pc_der_cursor_init(&c, seq.content, seq.content_len);
    out->has_basic_constraints = 1;
    out->is_ca = 0;
    out->path_len = -1;
    if (pc_der_peek_tag(&c) == (int)PC_DER_BOOLEAN) {
        if ((st = pc_der_next(&c, &t)) != PINCURL_OK || (st = read_bool(&t, &out->is_ca)) != PINCURL_OK)
            return st;
        if (!out->is_ca)
            return PINCURL_DER_MALFORMED; /* DEFAULT FALSE is never encoded in DER */
    }
    if (pc_der_peek_tag(&c) == (int)PC_DER_INTEGER) {
        if ((st = pc_der_next(&c, &t)) != PINCURL_OK ||
            (st = read_small_uint(&t, &out->path_len)) != PINCURL_OK)
            return st;
    }
    return pc_der_cursor_done(&c) ? PINCURL_OK : PINCURL_DER_MALFORMED;
}

static pincurl_status ext_key_usage(const pc_der_tlv *v, pc_der_x509 *out)
{
    pc_der_tlv bits;
    pincurl_status st = read_exact(v->content, v->content_len, PC_DER_BIT_STRING, &bits);
    if (st != PINCURL_OK)
        return st;
    /* unused-bits octet, then one or two octets (bits 0..8) */
    if (bits.content_len < 2 || bits.content_len > 3 || bits.content[0] > 7)
        return PINCURL_DER_MALFORMED;
    unsigned ku = 0;
    for (size_t i = 1; i < bits.content_len; i++)
        for (unsigned b = 0; b < 8; b++)
            if (bits.content[i] & (0x80u >> b))
                ku |= 1u << ((i - 1) * 8 + b);
    out->has_key_usage = 1;
    out->key_usage = ku;
    return PINCURL_OK;
}

static pincurl_status ext_skid(const pc_der_tlv *v, pc_der_x509 *out)
{
    pincurl_status st = read_exact(v->content, v->content_len, PC_DER_OCTET_STRING, &out->skid);
    if (st == PINCURL_OK && out->skid.content_len == 0)
        st = PINCURL_DER_MALFORMED;
    return st;
}

static pincurl_status ext_akid(const pc_der_tlv *v, pc_der_x509 *out)
{
    pc_der_tlv seq, t;
    pc_der_cursor c;
    pincurl_status st = read_exact(v->content, v->content_len, PC_DER_SEQUENCE, &seq);
    if (st != PINCURL_OK)
        return st;
    pc_der_cursor_init(&c, seq.content, seq.content_len);
    if (pc_der_peek_tag(&c) == 0x80) { /* [0] IMPLICIT KeyIdentifier */
        if ((st = pc_der_next(&c, &t)) != PINCURL_OK)
            return st;
        out->akid = t;
    }
    if (pc_der_peek_tag(&c) == 0xa1 && (st = pc_der_next(&c, &t)) != PINCURL_OK)
        return st; /* authorityCertIssuer */
    if (pc_der_peek_tag(&c) == 0x82 && (st = pc_der_next(&c, &t)) != PINCURL_OK)
        return st; /* authorityCertSerialNumber */
    return pc_der_cursor_done(&c) ? PINCURL_OK : PINCURL_DER_MALFORMED;
}

static pincurl_status ext_san(const pc_der_tlv *v, pc_der_x509 *out)
{
    pc_der_tlv seq, name;
    pc_der_cursor c;
    pincurl_status st = read_exact(v->content, v->content_len, PC_DER_SEQUENCE, &seq);
    if (st != PINCURL_OK)
        return st;
    if (seq.content_len == 0)
        return PINCURL_DER_MALFORMED; /* GeneralNames has at least one entry */
    pc_der_cursor_init(&c, seq.content, seq.content_len);
    while (!pc_der_cursor_done(&c)) {
        if ((st = pc_der_next(&c, &name)) != PINCURL_OK)
            return st;
        /* GeneralName: context tags [0]..[8], primitive or constructed as each requires */
        unsigned num = name.tag & 0x1fu;
        if ((name.tag & 0xc0u) != 0x80u || num > 8)
            return PINCURL_DER_MALFORMED;
        int constructed = (name.tag & 0x20u) != 0;
        int want_constructed = num == 0 || num == 3 || num == 4 || num == 5;
        if (constructed != want_constructed)
            return PINCURL_DER_MALFORMED;
    }
    out->san = seq;
    return PINCURL_OK;
}

static pincurl_status read_extensions(const pc_der_tlv *wrapper, pc_der_x509 *out)
{
    pc_der_tlv list, ext, oid, t, value;
    pc_der_tlv oids[PC_DER_MAX_EXTENSIONS];
    pc_der_cursor c, e;
    pincurl_status st;

    if ((st = read_exact(wrapper->content, wrapper->content_len, PC_DER_SEQUENCE, &list)) !=
        PINCURL_OK)
        return st;
    if (list.content_len == 0)
        return PINCURL_DER_MALFORMED; /* SIZE (1..MAX) */
    pc_der_cursor_init(&c, list.content, list.content_len);
    while (!pc_der_cursor_done(&c)) {
        int critical = 0;
        if ((st = pc_der_expect(&c, PC_DER_SEQUENCE, &ext)) != PINCURL_OK)
            return st;
        pc_der_cursor_init(&e, ext.content, ext.content_len);
        if ((st = pc_der_expect(&e, PC_DER_OID, &oid)) != PINCURL_OK)
            return st;
        if (oid.content_len == 0)
            return PINCURL_DER_MALFORMED;
        if (pc_der_peek_tag(&e) == (int)PC_DER_BOOLEAN) {
            if ((st = pc_der_next(&e, &t)) != PINCURL_OK || (st = read_bool(&t, &critical)) != PINCURL_OK)
                return st;
            if (!critical)
                return PINCURL_DER_MALFORMED; /* DEFAULT FALSE is never encoded in DER */
        }
        if ((st = pc_der_expect(&e, PC_DER_OCTET_STRING, &value)) != PINCURL_OK)
            return st;
        if (!pc_der_cursor_done(&e))
            return PINCURL_DER_MALFORMED;
        if (out->ext_count == PC_DER_MAX_EXTENSIONS)
            return PINCURL_LIMIT_EXCEEDED;
        for (size_t i = 0; i < out->ext_count; i++)
            if (oids[i].content_len == oid.content_len &&
                memcmp(oids[i].content, oid.content, oid.content_len) == 0)
                return PINCURL_DER_MALFORMED; /* the same extension twice */
        oids[out->ext_count++] = oid;

        if (oid_is(&oid, oid_basic_constraints, 3))
            st = ext_basic_constraints(&value, out);
        else if (oid_is(&oid, oid_key_usage, 3))
            st = ext_key_usage(&value, out);
        else if (oid_is(&oid, oid_skid, 3))
            st = ext_skid(&value, out);
        else if (oid_is(&oid, oid_akid, 3))
            st = ext_akid(&value, out);
        else if (oid_is(&oid, oid_san, 3))
            st = ext_san(&value, out);
        else if (critical) {
            int known = 0;
            if (oid.content_len == 3 && oid.content[0] == 0x55 && oid.content[1] == 0x1d)
                for (size_t i = 0; i < sizeof known_ce; i++)
                    known |= oid.content[2] == known_ce[i];
            st = known ? PINCURL_OK : PINCURL_DER_MALFORMED;
        }
        if (st != PINCURL_OK)
            return st;
    }
    return PINCURL_OK;
}

pincurl_status pc_der_x509_parse(const unsigned char *der, size_t len, pc_der_x509 *out)
{
    pc_der_tlv cert, tlv, before, after;
    pc_der_cursor c, t;
    pincurl_status st;

    if (out == NULL)
        return PINCURL_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    out->path_len = -1;
    if ((st = pc_der_cert_parse(der, len, &out->c)) != PINCURL_OK)
        goto fail;
    /* pc_der_cert_parse checked the outer structure; read the rest. */
    (void)read_exact(der, len, PC_DER_SEQUENCE, &cert);
    pc_der_cursor_init(&c, cert.content, cert.content_len);
    (void)pc_der_next(&c, &tlv); /* tbs */
    (void)pc_der_next(&c, &out->sig_alg);
    (void)pc_der_next(&c, &out->sig_value);
    if (out->sig_value.content_len < 1 || out->sig_value.content[0] != 0) {
        st = PINCURL_DER_MALFORMED; /* signatures are whole octets */
        goto fail;
    }

    pc_der_cursor_init(&t, out->c.tbs.content, out->c.tbs.content_len);
    out->version = 1;
    if (pc_der_peek_tag(&t) == (int)PC_DER_CONTEXT_0) {
        pc_der_tlv v;
        long n = 0;
        (void)pc_der_next(&t, &v);
        if ((st = read_exact(v.content, v.content_len, PC_DER_INTEGER, &tlv)) != PINCURL_OK ||
            (st = read_small_uint(&tlv, &n)) != PINCURL_OK)
            goto fail;
        if (n > 2) {
            st = PINCURL_DER_MALFORMED;
            goto fail;
        }
        out->version = (unsigned)n + 1;
    }
    (void)pc_der_next(&t, &tlv); /* serial */
    (void)pc_der_next(&t, &out->tbs_sig_alg);
    (void)pc_der_next(&t, &tlv); /* issuer */
    (void)pc_der_next(&t, &tlv); /* validity */
    (void)pc_der_next(&t, &tlv); /* subject */
    (void)pc_der_next(&t, &tlv); /* spki */

    /* Validity: exactly two times that convert. */
    pc_der_cursor_init(&c, out->c.validity.content, out->c.validity.content_len);
    if ((st = pc_der_next(&c, &before)) != PINCURL_OK ||
        (st = pc_der_next(&c, &after)) != PINCURL_OK)
        goto fail;
    if (!pc_der_cursor_done(&c)) {
        st = PINCURL_DER_MALFORMED;
        goto fail;
    }
    if ((st = pc_der_time(&before, &out->not_before)) != PINCURL_OK ||
        (st = pc_der_time(&after, &out->not_after)) != PINCURL_OK)
        goto fail;

    /* [1] issuerUniqueID, [2] subjectUniqueID (v2, v3), [3] extensions (v3), in order. */
    if (pc_der_peek_tag(&t) == 0x81) {
        (void)pc_der_next(&t, &tlv);
        if (out->version < 2) {
            st = PINCURL_DER_MALFORMED;
            goto fail;
        }
    }
    if (pc_der_peek_tag(&t) == 0x82) {
        (void)pc_der_next(&t, &tlv);
        if (out->version < 2) {
            st = PINCURL_DER_MALFORMED;
            goto fail;
        }
    }
    if (pc_der_peek_tag(&t) == (int)PC_DER_CONTEXT_3) {
        (void)pc_der_next(&t, &tlv);
        if (out->version < 3) {
            st = PINCURL_DER_MALFORMED;
            goto fail;
        }
        if ((st = read_extensions(&tlv, out)) != PINCURL_OK)
            goto fail;
    }
    if (!pc_der_cursor_done(&t)) {
        st = PINCURL_DER_MALFORMED;
        goto fail;
    }
    return PINCURL_OK;

fail:
    memset(out, 0, sizeof *out);
    out->path_len = -1;
    return st;
}

pincurl_status pc_der_spki_parts(const unsigned char *spki, size_t len, pc_der_tlv *alg_oid,
                                 pc_der_tlv *params, const unsigned char **key,
                                 size_t *key_len)
{
    pc_der_tlv seq, alg, bits;
    pc_der_cursor c, a;
    pincurl_status st;

    memset(alg_oid, 0, sizeof *alg_oid);
    memset(params, 0, sizeof *params);
    *key = NULL;
    *key_len = 0;
    if ((st = pc_der_spki_check(spki, len)) != PINCURL_OK)
        return st;
    (void)read_exact(spki, len, PC_DER_SEQUENCE, &seq);
    pc_der_cursor_init(&c, seq.content, seq.content_len);
    (void)pc_der_next(&c, &alg);
    (void)pc_der_next(&c, &bits);
    pc_der_cursor_init(&a, alg.content, alg.content_len);
    if ((st = pc_der_expect(&a, PC_DER_OID, alg_oid)) != PINCURL_OK)
        return st;
    if (!pc_der_cursor_done(&a) && (st = pc_der_next(&a, params)) != PINCURL_OK)
        return st;
    if (!pc_der_cursor_done(&a) || bits.content[0] != 0)
        return PINCURL_DER_MALFORMED;
    *key = bits.content + 1;
    *key_len = bits.content_len - 1;
    return PINCURL_OK;
}

static pincurl_status cert_name(const unsigned char *der, size_t len, int subject,
                                const unsigned char **name, size_t *name_len)
{
    pc_der_cert cert;
    if (name != NULL)
        *name = NULL;
    if (name_len != NULL)
        *name_len = 0;
    if (name == NULL || name_len == NULL)
        return PINCURL_INVALID_ARGUMENT;
    pincurl_status st = pc_der_cert_parse(der, len, &cert);
    if (st != PINCURL_OK)
        return st;
    const pc_der_tlv *n = subject ? &cert.subject : &cert.issuer;
    *name = n->tlv;
    *name_len = n->tlv_len;
    return PINCURL_OK;
}

pincurl_status pc_der_cert_issuer(const unsigned char *der, size_t len,
                                  const unsigned char **name, size_t *name_len)
{
    return cert_name(der, len, 0, name, name_len);
}

pincurl_status pc_der_cert_subject(const unsigned char *der, size_t len,
                                   const unsigned char **name, size_t *name_len)
{
    return cert_name(der, len, 1, name, name_len);
}

/* Days from 1970-01-01 to the given proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (int64_t)d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const unsigned char *s, size_t n, unsigned *value)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *value = v;
    return 0;
}

pincurl_status pc_der_time(const pc_der_tlv *t, int64_t *unix_time)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const unsigned char *s = t->content;
    unsigned year, mon, day, hour, min, sec;
    size_t ylen;

    *unix_time = 0;
    if (t->tag == PC_DER_UTC_TIME && t->content_len == 13)
        ylen = 2;
    else if (t->tag == PC_DER_GENERALIZED_TIME && t->content_len == 15)
        ylen = 4;
    else
        return PINCURL_DER_MALFORMED;
    if (s[t->content_len - 1] != 'Z' || digits(s, ylen, &year) != 0 ||
        digits(s + ylen, 2, &mon) != 0 || digits(s + ylen + 2, 2, &day) != 0 ||
        digits(s + ylen + 4, 2, &hour) != 0 || digits(s + ylen + 6, 2, &min) != 0 ||
        digits(s + ylen + 8, 2, &sec) != 0)
        return PINCURL_DER_MALFORMED;
    if (ylen == 2)
        year += year < 50 ? 2000 : 1900;
    if (mon < 1 || mon > 12 || day < 1 || hour > 23 || min > 59 || sec > 59)
        return PINCURL_DER_MALFORMED;
    unsigned leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > mdays[mon - 1] + (mon == 2 ? leap : 0))
        return PINCURL_DER_MALFORMED;
    *unix_time = days_from_civil(year, mon, day) * 86400 + (int64_t)hour * 3600 +
                 (int64_t)min * 60 + (int64_t)sec;
    return PINCURL_OK;
}

static pincurl_status cert_time(const unsigned char *der, size_t len, int after,
                                int64_t *unix_time)
{
    pc_der_cert cert;
    pc_der_tlv before, notafter;
    pc_der_cursor c;
    pincurl_status st;

    if (unix_time == NULL)
        return PINCURL_INVALID_ARGUMENT;
    *unix_time = 0;
    if ((st = pc_der_cert_parse(der, len, &cert)) != PINCURL_OK)
        return st;
    pc_der_cursor_init(&c, cert.validity.content, cert.validity.content_len);
    if ((st = pc_der_next(&c, &before)) != PINCURL_OK)
        return st;
    if ((st = pc_der_next(&c, &notafter)) != PINCURL_OK)
        return st;
    if (!pc_der_cursor_done(&c))
        return PINCURL_DER_MALFORMED;
    return pc_der_time(after ? &notafter : &before, unix_time);
}

pincurl_status pc_der_cert_not_before(const unsigned char *der, size_t len, int64_t *unix_time)
{
    return cert_time(der, len, 0, unix_time);
}

pincurl_status pc_der_cert_not_after(const unsigned char *der, size_t len, int64_t *unix_time)
{
    return cert_time(der, len, 1, unix_time);
}

/* ---- Text output ---------------------------------------------------------------------- */

/* Appends to a NUL-terminated buffer; remembers when something did not fit. */
typedef struct text_out {
    char *buf;
    size_t cap;
    size_t len;
    int overflow;
} text_out;

static void put_char(text_out *o, char ch)
{
    if (o->cap == 0 || o->len + 1 >= o->cap) {
        o->overflow = 1;
        return;
    }
    o->buf[o->len++] = ch;
    o->buf[o->len] = '\0';
}

static void put_str(text_out *o, const char *s)
{
    while (*s != '\0' && !o->overflow)
        put_char(o, *s++);
}

static void put_hex(text_out *o, unsigned char b)
{
    static const char hex[] = "0123456789ABCDEF";
    put_char(o, hex[b >> 4]);
    put_char(o, hex[b & 0x0f]);
}

static void put_u64(text_out *o, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v != 0);
    while (n > 0)
        put_char(o, tmp[--n]);
}

static pincurl_status oid_print(text_out *o, const unsigned char *oid, size_t len)
{
    if (len == 0)
        return PINCURL_DER_MALFORMED;
    int first = 1;
    size_t i = 0;
    while (i < len) {
        uint64_t v = 0;
        if (oid[i] == 0x80)
            return PINCURL_DER_MALFORMED; /* non-minimal sub-identifier */
        for (;;) {
            if (i >= len)
                return PINCURL_DER_MALFORMED; /* last octet has the continuation bit */
            if (v > (UINT64_MAX >> 7))
                return PINCURL_DER_MALFORMED;
            unsigned char b = oid[i++];
            v = (v << 7) | (b & 0x7fu);
            if ((b & 0x80u) == 0)
                break;
        }
        if (first) {
            unsigned arc = v < 40 ? 0 : v < 80 ? 1 : 2;
            put_u64(o, arc);
            put_char(o, '.');
            put_u64(o, v - 40u * arc);
            first = 0;
        } else {
            put_char(o, '.');
            put_u64(o, v);
        }
    }
    return PINCURL_OK;
}

pincurl_status pc_der_oid_to_string(const unsigned char *oid, size_t len, char *out, size_t cap)
{
    text_out o = {out, cap, 0, 0};
    if (out == NULL || cap == 0)
        return PINCURL_BUFFER_TOO_SMALL;
    out[0] = '\0';
    pincurl_status st = oid_print(&o, oid, len);
    if (st != PINCURL_OK) {
        out[0] = '\0';
        return st;
    }
    return o.overflow ? PINCURL_BUFFER_TOO_SMALL : PINCURL_OK;
}

static const struct {
    const char *name;
    unsigned char len;
    unsigned char oid[10];
} attr_names[] = {
    {"CN", 3, {0x55, 0x04, 0x03}},
    {"O", 3, {0x55, 0x04, 0x0a}},
    {"OU", 3, {0x55, 0x04, 0x0b}},
    {"C", 3, {0x55, 0x04, 0x06}},
    {"L", 3, {0x55, 0x04, 0x07}},
    {"ST", 3, {0x55, 0x04, 0x08}},
    {"STREET", 3, {0x55, 0x04, 0x09}},
    {"serialNumber", 3, {0x55, 0x04, 0x05}},
    {"DC", 10, {0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19}},
    {"emailAddress", 9, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01}},
};

static int is_string_type(unsigned tag)
{
    return tag == PC_DER_UTF8_STRING || tag == PC_DER_PRINTABLE_STRING ||
           tag == PC_DER_T61_STRING || tag == PC_DER_IA5_STRING || tag == 0x12u /* Numeric */ ||
           tag == 0x1au /* Visible */;
}

static void print_value(text_out *o, const pc_der_tlv *v)
{
    if (!is_string_type(v->tag)) {
        put_char(o, '#');
        for (size_t i = 0; i < v->tlv_len; i++)
            put_hex(o, v->tlv[i]);
        return;
    }
    for (size_t i = 0; i < v->content_len; i++) {
        unsigned char b = v->content[i];
        int special = b == ',' || b == '+' || b == '"' || b == '\\' || b == '<' || b == '>' ||
                      b == ';' || (i == 0 && (b == '#' || b == ' ')) ||
                      (i + 1 == v->content_len && b == ' ');
        if (b < 0x20 || b >= 0x7f) {
            put_char(o, '\\');
            put_hex(o, b);
        } else if (special) {
            put_char(o, '\\');
            put_char(o, (char)b);
        } else {
            put_char(o, (char)b);
        }
    }
}

/* Checks one AttributeTypeAndValue: SEQUENCE { OID, value }. */
static pincurl_status atv_check(const pc_der_tlv *seq)
{
    pc_der_cursor c;
    pc_der_tlv type, value;
    pincurl_status st;
    if (seq->tag != PC_DER_SEQUENCE)
        return PINCURL_DER_MALFORMED;
    pc_der_cursor_init(&c, seq->content, seq->content_len);
    if ((st = pc_der_expect(&c, PC_DER_OID, &type)) != PINCURL_OK)
        return st;
    if ((st = pc_der_next(&c, &value)) != PINCURL_OK)
        return st;
    if (!pc_der_cursor_done(&c))
        return PINCURL_DER_MALFORMED;
    char scratch[1];
    text_out probe = {scratch, 1, 0, 0}; /* validates the OID encoding without output */
    return oid_print(&probe, type.content, type.content_len);
}

static void print_atv(const pc_der_tlv *seq, text_out *o)
{
    pc_der_cursor c;
    pc_der_tlv type, value;
    pc_der_cursor_init(&c, seq->content, seq->content_len);
    (void)pc_der_expect(&c, PC_DER_OID, &type);
    (void)pc_der_next(&c, &value);
    const char *name = NULL;
    for (size_t i = 0; i < sizeof attr_names / sizeof attr_names[0]; i++) {
        if (type.content_len == attr_names[i].len &&
            memcmp(type.content, attr_names[i].oid, type.content_len) == 0) {
            name = attr_names[i].name;
            break;
        }
    }
    if (name != NULL)
        put_str(o, name);
    else
        (void)oid_print(o, type.content, type.content_len);
    put_char(o, '=');
    print_value(o, &value);
}

#define MAX_RDNS 128

pincurl_status pc_der_name_to_string(const unsigned char *name, size_t len, char *out,
                                     size_t cap)
{
    pc_der_tlv seq, rdn, one;
    pc_der_tlv rdns[MAX_RDNS];
    size_t count = 0;
    pc_der_cursor c, s;
    pincurl_status st;

    if (out == NULL || cap == 0)
        return PINCURL_BUFFER_TOO_SMALL;
    out[0] = '\0';
    if ((st = read_exact(name, len, PC_DER_SEQUENCE, &seq)) != PINCURL_OK)
        return st;
    pc_der_cursor_init(&c, seq.content, seq.content_len);
    while (!pc_der_cursor_done(&c)) {
        if ((st = pc_der_expect(&c, PC_DER_SET, &rdn)) != PINCURL_OK)
            return st;
        if (rdn.content_len == 0)
            return PINCURL_DER_MALFORMED;
        pc_der_cursor_init(&s, rdn.content, rdn.content_len);
        while (!pc_der_cursor_done(&s)) {
            if ((st = pc_der_next(&s, &one)) != PINCURL_OK)
                return st;
            if ((st = atv_check(&one)) != PINCURL_OK)
                return st;
        }
        if (count == MAX_RDNS)
            return PINCURL_LIMIT_EXCEEDED;
        rdns[count++] = rdn;
    }

    text_out o = {out, cap, 0, 0};
    for (size_t i = count; i-- > 0;) {
        if (i + 1 != count)
            put_char(&o, ',');
        pc_der_cursor_init(&s, rdns[i].content, rdns[i].content_len);
        int first = 1;
        while (!pc_der_cursor_done(&s)) {
            (void)pc_der_next(&s, &one);
            if (!first)
                put_char(&o, '+');
            print_atv(&one, &o);
            first = 0;
        }
    }
    return o.overflow ? PINCURL_BUFFER_TOO_SMALL : PINCURL_OK;
}

/* ---- The rarer forms X.680 allows (read by the certificate facts for people) ----------- */

/* n digits at s into *v; 0 when one is not a digit. */
static int digits_n(const unsigned char *s, size_t n, unsigned *v)
{
    return digits(s, n, v) == 0;
}

pincurl_status pc_der_time_x680(const pc_der_tlv *t, int64_t *unix_time)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const unsigned char *s;
    size_t n, i, ylen;
    unsigned year, mon, day, hour, min = 0, sec = 0, units;
    int64_t frac_num = 0, frac_den = 1, offset = 0;

    if (unix_time == NULL || t == NULL)
        return PINCURL_INVALID_ARGUMENT;
    *unix_time = 0;
    s = t->content;
    n = t->content_len;
    if (t->tag == PC_DER_UTC_TIME)
        ylen = 2;
    else if (t->tag == PC_DER_GENERALIZED_TIME)
        ylen = 4;
    else
        return PINCURL_DER_MALFORMED;
    if (s == NULL || n < ylen + 6)
        return PINCURL_DER_MALFORMED;
    if (!digits_n(s, ylen, &year) || !digits_n(s + ylen, 2, &mon) ||
        !digits_n(s + ylen + 2, 2, &day) || !digits_n(s + ylen + 4, 2, &hour))
        return PINCURL_DER_MALFORMED;
    i = ylen + 6;
    units = 1; /* hours given */
    /* UTCTime: minutes always, seconds optional. GeneralizedTime: both optional. */
    if (i + 2 <= n && s[i] >= '0' && s[i] <= '9') {
        if (!digits_n(s + i, 2, &min))
            return PINCURL_DER_MALFORMED;
        i += 2;
        units = 2;
        if (i + 2 <= n && s[i] >= '0' && s[i] <= '9') {
            if (!digits_n(s + i, 2, &sec))
                return PINCURL_DER_MALFORMED;
            i += 2;
            units = 3;
        }
    } else if (ylen == 2) {
        return PINCURL_DER_MALFORMED;
    }
    /* GeneralizedTime: a decimal fraction of the last unit given. */
    if (ylen == 4 && i < n && (s[i] == '.' || s[i] == ',')) {
        size_t start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (frac_den < 1000000000) { /* finer than a nanosecond changes no second */
                frac_num = frac_num * 10 + (s[i] - '0');
                frac_den *= 10;
            }
            i++;
        }
        if (i == start)
            return PINCURL_DER_MALFORMED;
    }
    /* Z, or an offset from UTC: +hhmm / -hhmm (GeneralizedTime also +hh / -hh). Without
     * either, a GeneralizedTime is local time: no instant can be read from it. */
    if (i < n && s[i] == 'Z') {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1;
        unsigned oh, om = 0;
        i++;
        if (i + 2 > n || !digits_n(s + i, 2, &oh))
            return PINCURL_DER_MALFORMED;
        i += 2;
        if (i + 2 <= n) {
            if (!digits_n(s + i, 2, &om))
                return PINCURL_DER_MALFORMED;
            i += 2;
        } else if (ylen == 2) {
            return PINCURL_DER_MALFORMED;
        }
        if (oh > 23 || om > 59)
            return PINCURL_DER_MALFORMED;
        offset = sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
    } else {
        return PINCURL_DER_MALFORMED;
    }
    if (i != n)
        return PINCURL_DER_MALFORMED;
    if (ylen == 2)
        year += year < 50 ? 2000 : 1900;
    /* a leap second (60) is allowed; it reads as the next minute's first second */
    if (mon < 1 || mon > 12 || day < 1 || hour > 23 || min > 59 || sec > 60)
        return PINCURL_DER_MALFORMED;
    unsigned leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > mdays[mon - 1] + (mon == 2 ? leap : 0))
        return PINCURL_DER_MALFORMED;
    int64_t unit = units == 1 ? 3600 : units == 2 ? 60 : 1;
    *unix_time = days_from_civil(year, mon, day) * 86400 + (int64_t)hour * 3600 +
                 (int64_t)min * 60 + (int64_t)sec + frac_num * unit / frac_den - offset;
    return PINCURL_OK;
}

pincurl_status pc_der_name_to_string_any(const unsigned char *name, size_t len, char *out,
                                         size_t cap)
{
    pc_der_tlv seq, rdn, one;
    pc_der_tlv block[MAX_RDNS];
    size_t count = 0;
    pc_der_cursor c, s;
    pincurl_status st;

    if (out == NULL || cap == 0)
        return PINCURL_BUFFER_TOO_SMALL;
    out[0] = '\0';
    if ((st = read_exact(name, len, PC_DER_SEQUENCE, &seq)) != PINCURL_OK)
        return st;
    /* Every RDN checked first: a malformed name prints nothing. An empty RDN is kept. */
    pc_der_cursor_init(&c, seq.content, seq.content_len);
    while (!pc_der_cursor_done(&c)) {
        if ((st = pc_der_expect(&c, PC_DER_SET, &rdn)) != PINCURL_OK)
            return st;
        pc_der_cursor_init(&s, rdn.content, rdn.content_len);
        while (!pc_der_cursor_done(&s)) {
            if ((st = pc_der_next(&s, &one)) != PINCURL_OK)
                return st;
            if ((st = atv_check(&one)) != PINCURL_OK)
                return st;
        }
        count++;
    }

    /* Most specific first: the RDNs in reverse, MAX_RDNS at a time from the end. The
     * output is bounded, so this stops as soon as it is full. */
    text_out o = {out, cap, 0, 0};
    size_t end = count;
    while (end > 0 && !o.overflow) {
        size_t start = end > MAX_RDNS ? end - MAX_RDNS : 0, k = 0;
        pc_der_cursor_init(&c, seq.content, seq.content_len);
        for (size_t i = 0; i < end; i++) {
            (void)pc_der_next(&c, &rdn);
            if (i >= start)
                block[k++] = rdn;
        }
        for (size_t i = k; i-- > 0 && !o.overflow;) {
            if (start + i + 1 != count)
                put_char(&o, ',');
            pc_der_cursor_init(&s, block[i].content, block[i].content_len);
            int first = 1;
            while (!pc_der_cursor_done(&s)) {
                (void)pc_der_next(&s, &one);
                if (!first)
                    put_char(&o, '+');
                print_atv(&one, &o);
                first = 0;
            }
        }
        end = start;
    }
    return o.overflow ? PINCURL_BUFFER_TOO_SMALL : PINCURL_OK;
}

pincurl_status pc_der_cert_locate(const unsigned char *der, size_t len, pc_der_cert *out)
{
    pc_der_tlv cert, el;
    pc_der_cursor c, t;
    pincurl_status st;
    memset(out, 0, sizeof *out);
    if ((st = read_exact(der, len, PC_DER_SEQUENCE, &cert)) != PINCURL_OK)
        return st;
    pc_der_cursor_init(&c, cert.content, cert.content_len);
    if ((st = pc_der_expect(&c, PC_DER_SEQUENCE, &out->tbs)) != PINCURL_OK)
        goto fail;
    pc_der_cursor_init(&t, out->tbs.content, out->tbs.content_len);
    if (pc_der_peek_tag(&t) == (int)PC_DER_CONTEXT_0 && (st = pc_der_next(&t, &el)) != PINCURL_OK)
        goto fail; /* version: not looked into */
    if ((st = pc_der_expect(&t, PC_DER_INTEGER, &out->serial)) != PINCURL_OK ||
        (st = pc_der_expect(&t, PC_DER_SEQUENCE, &el)) != PINCURL_OK || /* signature */
        (st = pc_der_expect(&t, PC_DER_SEQUENCE, &out->issuer)) != PINCURL_OK ||
        (st = pc_der_expect(&t, PC_DER_SEQUENCE, &out->validity)) != PINCURL_OK ||
        (st = pc_der_expect(&t, PC_DER_SEQUENCE, &out->subject)) != PINCURL_OK ||
        (st = pc_der_expect(&t, PC_DER_SEQUENCE, &out->spki)) != PINCURL_OK ||
        (st = pc_der_spki_check(out->spki.tlv, out->spki.tlv_len)) != PINCURL_OK)
        goto fail;
    return PINCURL_OK;

fail:
    memset(out, 0, sizeof *out);
    return st;
}
