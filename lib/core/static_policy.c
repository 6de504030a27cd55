/* Compiled policies (pincurl/static_policy.h): constant data through the core builder. */
#include <string.h>

#include "pincurl/static_policy.h"

static pincurl_status add_all(pincurl_policy_builder *b, const pincurl_static_policy *sp)
{
    pincurl_status st = pincurl_policy_builder_set_expiry(b, sp->expires, sp->on_expiry);

    for (size_t i = 0; st == PINCURL_OK && i < sp->report_uri_count; i++)
        st = sp->report_uris[i] == NULL
                 ? PINCURL_POLICY_BAD_VALUE
                 : pincurl_policy_builder_add_report_uri(b, sp->report_uris[i]);
    for (size_t i = 0; st == PINCURL_OK && i < sp->domain_count; i++) {
        const pincurl_static_domain *d = &sp->domains[i];
        size_t index;

        if (d->host == NULL || (d->pin_count > 0 && d->pins == NULL) ||
            (i > 0 && strcmp(sp->domains[i - 1].host, d->host) >= 0))
            return PINCURL_POLICY_BAD_VALUE;
        st = pincurl_policy_builder_add_domain(b, d->host, d->flags, &index);
        for (size_t k = 0; st == PINCURL_OK && k < d->pin_count; k++) {
            pincurl_pin pin;
            memcpy(pin.sha256, d->pins[k], sizeof pin.sha256);
            st = pincurl_policy_builder_add_pin(b, index, &pin);
        }
        /* Format 1 has no per-domain expiry: its fields are read as absent. */
        if (st != PINCURL_OK || sp->format < 2)
            continue;
        if (d->expires == 0) {
            if (d->on_expiry != PINCURL_ON_EXPIRY_REPORT_AND_ALLOW)
                return PINCURL_POLICY_BAD_VALUE;
            continue;
        }
        st = pincurl_policy_builder_set_domain_expiry(b, index, d->expires);
        if (st == PINCURL_OK)
            st = pincurl_policy_builder_set_domain_on_expiry(b, index, d->on_expiry);
    }
    return st;
}

pincurl_status pincurl_policy_from_static(const pincurl_static_policy *sp,
                                          const pincurl_allocator *alloc,
                                          pincurl_policy **out)
{
    pincurl_policy_builder *b;
    pincurl_status st;

    if (out != NULL)
        *out = NULL;
    if (sp == NULL || out == NULL ||
        (sp->format != 1 && sp->format != PINCURL_STATIC_POLICY_FORMAT) ||
        (sp->report_uri_count > 0 && sp->report_uris == NULL) ||
        (sp->domain_count > 0 && sp->domains == NULL))
        return PINCURL_INVALID_ARGUMENT;
    /* The public-suffix check ran when the policy was compiled. */
    b = pincurl_policy_builder_new_custom(alloc, NULL, NULL);
    if (b == NULL)
        return PINCURL_OUT_OF_MEMORY;
    st = add_all(b, sp);
    if (st == PINCURL_OK)
        st = pincurl_policy_builder_finish(b, out, NULL);
    pincurl_policy_builder_free(b);
    if (st != PINCURL_OK)
        *out = NULL;
    return st;
}
