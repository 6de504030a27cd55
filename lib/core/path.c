/*
 * The validated path: from the served leaf to a trust anchor, every link a verified
 * signature (pincurl_path_build in pincurl/core.h states the rules).
 *
 * Search: iterative deepening over path lengths 1..limit, each a depth-first search that
 * tries, at every certificate, the anchors named by its issuer first and then the served
 * certificates with that subject, in the order sent. The first path found is therefore the
 * shortest, ties broken by that order. Signature results are remembered per (child,
 * parent) pair, so deeper rounds repeat no verification; the total is bounded.
 * No allocation: everything lives in one state structure on the stack.
 */
#include <string.h>

#include "core/der.h"
#include "pincurl/core.h"

/* What the search needs of a certificate, parsed once. */
typedef struct cand {
    const unsigned char *der;
    size_t len;
    const unsigned char *issuer;
    size_t issuer_len;
    const unsigned char *subject;
    size_t subject_len;
    const unsigned char *spki;
    size_t spki_len;
    int may_sign;      /* CA rules met (as a non-anchor) */
    int anchor_v1;     /* v1 without extensions (may sign as an anchor) */
    int valid_now;     /* within its validity at now */
    long path_len;     /* pathLenConstraint, -1 none */
} cand;

typedef struct memo {
    const unsigned char *child;
    const unsigned char *parent;
    size_t parent_len;
    int result;
} memo;

typedef struct state {
    const pincurl_trust *trust;
    int64_t now;
    cand served[PINCURL_MAX_SERVED];
    size_t served_len;
    memo memo[PINCURL_MAX_PATH_SIGNATURES];
    size_t memo_len;
    size_t limit;                            /* longest path allowed */
    const cand *chain[PINCURL_MAX_PATH];     /* current path, leaf first */
    cand anchor;                             /* the anchor that ended the path */
    pincurl_status error;                    /* a failure that ends the whole search */
} state;

static int bytes_equal(const unsigned char *a, size_t alen, const unsigned char *b,
                       size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static pincurl_status cand_parse(const unsigned char *der, size_t len, int64_t now, cand *out)
{
    pc_der_x509 x;
    pincurl_status st = pc_der_x509_parse(der, len, &x);
    memset(out, 0, sizeof *out);
    if (st != PINCURL_OK)
        return st;
    out->der = der;
    out->len = len;
    out->issuer = x.c.issuer.tlv;
    out->issuer_len = x.c.issuer.tlv_len;
    out->subject = x.c.subject.tlv;
    out->subject_len = x.c.subject.tlv_len;
    out->spki = x.c.spki.tlv;
    out->spki_len = x.c.spki.tlv_len;
    out->may_sign = x.has_basic_constraints && x.is_ca &&
                    (!x.has_key_usage || (x.key_usage & PC_DER_KU_KEY_CERT_SIGN) != 0);
    out->anchor_v1 = x.version == 1 && x.ext_count == 0;
    out->valid_now = now >= x.not_before && now <= x.not_after;
    out->path_len = x.has_basic_constraints ? x.path_len : -1;
    return PINCURL_OK;
}

/* 1 verified, 0 not, -1 error or budget exhausted (s->error set). */
static int verify(state *s, const cand *child, const cand *parent)
{
    for (size_t i = 0; i < s->memo_len; i++) {
        const memo *m = &s->memo[i];
        if (m->child == child->der && m->parent == parent->der &&
            m->parent_len == parent->len)
            return m->result;
    }
    if (s->memo_len == PINCURL_MAX_PATH_SIGNATURES) {
        s->error = PINCURL_LIMIT_EXCEEDED;
        return -1;
    }
    int r = s->trust->verify_signature(s->trust->ctx, child->der, child->len, parent->spki,
                                       parent->spki_len);
    if (r < 0) {
        s->error = PINCURL_INTERNAL;
        return -1;
    }
    memo *m = &s->memo[s->memo_len++];
    m->child = child->der;
    m->parent = parent->der;
    m->parent_len = parent->len;
    m->result = r == 1;
    return m->result;
}

/* pathLenConstraint of an issuer at index `at`: the CA certificates between it and the
 * leaf (indices 1..at-1) may number at most path_len. */
static int path_len_ok(const cand *issuer, size_t at)
{
    return issuer->path_len < 0 || at < 1 || (long)(at - 1) <= issuer->path_len;
}

static int on_chain(const state *s, size_t depth, const cand *c)
{
    for (size_t i = 0; i <= depth; i++)
        if (bytes_equal(s->chain[i]->der, s->chain[i]->len, c->der, c->len))
            return 1;
    return 0;
}

/* Extends the path whose last certificate is chain[depth] so that it has exactly `target`
 * certificates, the last an anchor. 1 found, 0 not, -1 failure (s->error). */
static int extend(state *s, size_t depth, size_t target)
{
    const cand *child = s->chain[depth];
    pincurl_cert_ref refs[PINCURL_MAX_ANCHORS_PER_NAME];

    if (depth + 2 == target) {
        /* The next certificate must be an anchor. */
        size_t n = s->trust->anchors_by_subject(s->trust->ctx, child->issuer,
                                                child->issuer_len, refs,
                                                PINCURL_MAX_ANCHORS_PER_NAME);
        if (n == (size_t)-1) {
            s->error = PINCURL_INTERNAL;
            return -1;
        }
        if (n > PINCURL_MAX_ANCHORS_PER_NAME) {
            s->error = PINCURL_LIMIT_EXCEEDED;
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            cand a;
            pincurl_status st;
            if (refs[i].der == NULL || refs[i].len == 0) {
                s->error = PINCURL_INTERNAL;
                return -1;
            }
            if ((st = cand_parse(refs[i].der, refs[i].len, s->now, &a)) != PINCURL_OK) {
                s->error = st;
                return -1;
            }
            if (!bytes_equal(a.subject, a.subject_len, child->issuer, child->issuer_len))
                continue; /* not what was asked for */
            if (!(a.may_sign || a.anchor_v1) || !path_len_ok(&a, depth + 1))
                continue;
            int r = verify(s, child, &a);
            if (r < 0)
                return -1;
            if (r == 1) {
                s->anchor = a;
                return 1;
            }
        }
        return 0;
    }

    /* An intermediate from the served chain, then onwards. */
    for (size_t i = 1; i < s->served_len; i++) {
        const cand *p = &s->served[i];
        if (!bytes_equal(p->subject, p->subject_len, child->issuer, child->issuer_len))
            continue;
        if (!p->may_sign || !p->valid_now || !path_len_ok(p, depth + 1) ||
            on_chain(s, depth, p))
            continue;
        int r = verify(s, child, p);
        if (r < 0)
            return -1;
        if (r == 0)
            continue;
        s->chain[depth + 1] = p;
        r = extend(s, depth + 1, target);
        if (r != 0)
            return r;
    }
    return 0;
}

pincurl_status pincurl_path_build(const pincurl_cert_ref *served, size_t served_len,
                                  const pincurl_trust *trust, int64_t now,
                                  pincurl_cert_ref *path, size_t max, size_t *path_len)
{
    state s;
    pincurl_status st;
    pincurl_cert_ref refs[PINCURL_MAX_ANCHORS_PER_NAME];

    if (path_len != NULL)
        *path_len = 0;
    if (served == NULL || served_len == 0 || trust == NULL || path == NULL || max == 0 ||
        path_len == NULL || trust->anchors_by_subject == NULL ||
        trust->verify_signature == NULL)
        return PINCURL_INVALID_ARGUMENT;
    if (served_len > PINCURL_MAX_SERVED)
        return PINCURL_LIMIT_EXCEEDED;

    memset(&s, 0, sizeof s);
    s.trust = trust;
    s.now = now;
    s.served_len = served_len;
    for (size_t i = 0; i < served_len; i++) {
        if (served[i].der == NULL || served[i].len == 0)
            return PINCURL_INVALID_ARGUMENT;
        if ((st = cand_parse(served[i].der, served[i].len, now, &s.served[i])) != PINCURL_OK)
            return st;
    }
    s.limit = max < PINCURL_MAX_PATH ? max : PINCURL_MAX_PATH;

    /* The leaf is an anchor only when it is byte-identical to one. */
    {
        const cand *leaf = &s.served[0];
        size_t n = trust->anchors_by_subject(trust->ctx, leaf->subject, leaf->subject_len,
                                             refs, PINCURL_MAX_ANCHORS_PER_NAME);
        if (n == (size_t)-1)
            return PINCURL_INTERNAL;
        if (n > PINCURL_MAX_ANCHORS_PER_NAME)
            return PINCURL_LIMIT_EXCEEDED;
        for (size_t i = 0; i < n; i++) {
            if (refs[i].der != NULL && bytes_equal(refs[i].der, refs[i].len, leaf->der, leaf->len)) {
                path[0] = refs[i];
                *path_len = 1;
                return PINCURL_OK;
            }
        }
        if (!leaf->valid_now)
            return PINCURL_CERT_INVALID;
    }

    s.chain[0] = &s.served[0];
    for (size_t target = 2; target <= s.limit; target++) {
        int r = extend(&s, 0, target);
        if (r < 0)
            return s.error != PINCURL_OK ? s.error : PINCURL_INTERNAL;
        if (r == 1) {
            for (size_t i = 0; i + 1 < target; i++) {
                path[i].der = s.chain[i]->der;
                path[i].len = s.chain[i]->len;
            }
            path[target - 1].der = s.anchor.der;
            path[target - 1].len = s.anchor.len;
            *path_len = target;
            return PINCURL_OK;
        }
    }
    return PINCURL_CERT_INVALID;
}
