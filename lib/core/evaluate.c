/*
 * The pin decision: one pure function from (policy, host, validated path, served chain, now)
 * to a verdict. No allocation, no global state.
 *
 * Order of the checks for a pinned host: an empty path is INVALID_CHAIN; every path
 * certificate is hashed (any failure is SPKI_ERROR and blocks, report-only included);
 * an expiry that has passed (the policy's or the entry's own) with on_expiry block is
 * POLICY_EXPIRED; then a match allows and a mismatch is PIN_MISMATCH, blocking only when the
 * entry enforces and neither expiry has passed. A host that does not normalise is refused
 * as INVALID_PARAMETERS, never treated as unpinned. An EXCLUDE entry makes the host
 * NOT_PINNED (verdict.domain names it).
 */
#include <string.h>

#include "core/policy_internal.h"

const char *pincurl_result_name(pincurl_result result)
{
    switch (result) {
    case PINCURL_RESULT_SUCCESS:
        return "SUCCESS";
    case PINCURL_RESULT_PIN_MISMATCH:
        return "PIN_MISMATCH";
    case PINCURL_RESULT_INVALID_CHAIN:
        return "INVALID_CHAIN";
    case PINCURL_RESULT_INVALID_PARAMETERS:
        return "INVALID_PARAMETERS";
    case PINCURL_RESULT_SPKI_ERROR:
        return "SPKI_ERROR";
    case PINCURL_RESULT_NOT_PINNED:
        return "NOT_PINNED";
    case PINCURL_RESULT_POLICY_EXPIRED:
        return "POLICY_EXPIRED";
    }
    return "UNKNOWN";
}

static int cert_equal(const pincurl_cert_ref *a, const pincurl_cert_ref *b)
{
    if (a->len != b->len)
        return 0;
    if (a->len == 0)
        return 1;
    if (a->der == NULL || b->der == NULL)
        return 0;
    return memcmp(a->der, b->der, a->len) == 0;
}

/* 1 unless served is a prefix of path (an empty served chain says nothing). */
static int served_differs(const pincurl_cert_ref *path, size_t path_len,
                          const pincurl_cert_ref *served, size_t served_len)
{
    if (served_len > path_len)
        return 1;
    for (size_t i = 0; i < served_len; i++)
        if (!cert_equal(&path[i], &served[i]))
            return 1;
    return 0;
}

static pincurl_expiry_state expiry_state(int64_t expires, int64_t now)
{
    if (expires == 0)
        return PINCURL_EXPIRY_NONE;
    return now >= expires ? PINCURL_EXPIRY_EXPIRED : PINCURL_EXPIRY_VALID;
}

/* The effective expiry of entry d (NULL: the policy's alone) into out's effective fields;
 * returns 1 if a passed expiry blocks. */
static int effective_expiry(const pincurl_policy *policy, const pincurl_domain *d, int64_t now,
                            pincurl_verdict *out)
{
    int64_t p = policy->expires, e = d != NULL ? d->expires : 0;
    pincurl_on_expiry pa = policy->on_expiry;
    pincurl_on_expiry da = d != NULL ? d->on_expiry : PINCURL_ON_EXPIRY_REPORT_AND_ALLOW;
    int p_passed = p != 0 && now >= p, d_passed = e != 0 && now >= e;
    int blocks = (p_passed && pa == PINCURL_ON_EXPIRY_BLOCK) ||
                 (d_passed && da == PINCURL_ON_EXPIRY_BLOCK);

    out->domain_expires = e;
    if (p == 0 || (e != 0 && e < p))
        out->effective_expires = e;
    else
        out->effective_expires = p;
    out->effective_expiry = expiry_state(out->effective_expires, now);
    if (p_passed || d_passed)
        out->effective_on_expiry =
            blocks ? PINCURL_ON_EXPIRY_BLOCK : PINCURL_ON_EXPIRY_REPORT_AND_ALLOW;
    else if (e != 0 && e == p)
        out->effective_on_expiry = (pa == PINCURL_ON_EXPIRY_BLOCK || da == PINCURL_ON_EXPIRY_BLOCK)
                                       ? PINCURL_ON_EXPIRY_BLOCK
                                       : PINCURL_ON_EXPIRY_REPORT_AND_ALLOW;
    else
        out->effective_on_expiry = out->effective_expires == e && e != 0 ? da : pa;
    return blocks;
}

static pincurl_status refuse(pincurl_verdict *out)
{
    out->result = PINCURL_RESULT_INVALID_PARAMETERS;
    out->decision = PINCURL_DECISION_BLOCK;
    return PINCURL_INVALID_ARGUMENT;
}

pincurl_status pincurl_evaluate(const pincurl_policy *policy, const char *host, unsigned port,
                                const pincurl_cert_ref *path, size_t path_len,
                                const pincurl_cert_ref *served, size_t served_len, int64_t now,
                                pincurl_verdict *out)
{
    return pc_evaluate_pinned(policy, host, port, path, path_len, NULL, served, served_len,
                              now, out);
}

pincurl_status pc_evaluate_pinned(const pincurl_policy *policy, const char *host, unsigned port,
                                  const pincurl_cert_ref *path, size_t path_len,
                                  const pincurl_pin *pins, const pincurl_cert_ref *served,
                                  size_t served_len, int64_t now, pincurl_verdict *out)
{
    (void)port; /* part of the connection's identity for callers; the decision ignores it */
    if (out == NULL)
        return PINCURL_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    out->decision = PINCURL_DECISION_BLOCK;
    out->matched_depth = -1;
    if (policy == NULL || host == NULL || (path == NULL && path_len > 0) ||
        (served == NULL && served_len > 0) || path_len > PINCURL_MAX_PATH)
        return refuse(out);

    char name[PINCURL_HOST_MAX + 1];
    if (pincurl_host_normalize(host, strlen(host), name, sizeof name) != PINCURL_OK)
        return refuse(out);

    out->expires = policy->expires;
    out->expiry = expiry_state(policy->expires, now);
    out->served_differs = served_differs(path, path_len, served, served_len);

    const pincurl_domain *d = pc_policy_lookup_normalized(policy, name, strlen(name));
    if (d != NULL) {
        out->domain = d;
        out->noted_host = d->host;
    }
    if (d == NULL || (d->flags & PINCURL_DOMAIN_EXCLUDE) != 0) {
        (void)effective_expiry(policy, NULL, now, out);
        out->result = PINCURL_RESULT_NOT_PINNED;
        out->decision = PINCURL_DECISION_ALLOW;
        return PINCURL_OK;
    }
    int blocks = effective_expiry(policy, d, now, out);
    int expired = out->effective_expiry == PINCURL_EXPIRY_EXPIRED;

    out->pinned = 1;
    out->enforce = (d->flags & PINCURL_DOMAIN_ENFORCE) != 0;
    out->include_subdomains = (d->flags & PINCURL_DOMAIN_INCLUDE_SUBDOMAINS) != 0;

    if (path_len == 0) {
        out->result = PINCURL_RESULT_INVALID_CHAIN;
        return PINCURL_OK;
    }
    for (size_t i = 0; i < path_len; i++) {
        if (pins != NULL) {
            out->path_pins[i] = pins[i]; /* hashed from these very certificates before */
        } else if (pincurl_pin_from_cert_der(path[i].der, path[i].len, &out->path_pins[i]) !=
            PINCURL_OK) {
            /* path_len stays the number hashed before the failing certificate */
            memset(&out->path_pins[i], 0, sizeof out->path_pins[i]);
            out->result = PINCURL_RESULT_SPKI_ERROR;
            return PINCURL_OK;
        }
        out->path_len = i + 1;
    }

    /* Every path pin against every policy pin; the first matching depth wins. */
    for (size_t i = 0; i < path_len; i++) {
        int match = 0;
        for (size_t j = 0; j < d->pin_count; j++)
            match |= pincurl_pin_equal(&out->path_pins[i], &d->pins[j]);
        if (match && out->matched_depth < 0) {
            out->matched_depth = (int)i;
            out->matched_pin = out->path_pins[i];
        }
    }

    if (blocks) {
        out->result = PINCURL_RESULT_POLICY_EXPIRED;
        out->decision = PINCURL_DECISION_BLOCK;
    } else if (out->matched_depth >= 0) {
        out->result = PINCURL_RESULT_SUCCESS;
        out->decision = PINCURL_DECISION_ALLOW;
    } else {
        out->result = PINCURL_RESULT_PIN_MISMATCH;
        out->decision = (out->enforce && !expired) ? PINCURL_DECISION_BLOCK
                                                   : PINCURL_DECISION_ALLOW;
    }
    return PINCURL_OK;
}
