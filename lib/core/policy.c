/*
 * The policy model: a builder that validates domains, pins and report URIs, and the
 * immutable, reference-counted policy it produces.
 *
 * Domain order: a finished policy keeps its domains sorted byte-wise (strcmp order) by their
 * normalised host; pincurl_policy_domain(policy, i) walks that order, and lookups are binary
 * searches. Builder indices (add_domain, *bad_domain) are in the order domains were added.
 *
 * Lookup: the exact entry first; otherwise the parents of the host on label boundaries, most
 * specific first, and the first that has include_subdomains or is a subtree EXCLUDE entry
 * (EXCLUDE without HOST_ONLY) governs. A subtree exclusion therefore removes its own host and
 * all of its subdomains (unless a more specific entry names them); a HOST_ONLY exclusion
 * removes its host alone. IP literals match exact entries only.
 *
 * Memory: everything through the allocator given to the builder; the policy keeps a copy.
 */
#include "core/policy_internal.h"

#include <string.h>

#include "core/alloc.h"

struct pincurl_policy_builder {
    pincurl_allocator alloc;
    pincurl_public_suffix_fn is_public_suffix;
    void *ctx;
    pc_builder_ctx_free_fn ctx_free;
    int64_t expires;
    pincurl_on_expiry on_expiry;
    char *report_uris[PINCURL_MAX_REPORT_URIS];
    size_t report_uri_count;
    struct pincurl_domain *domains; /* in the order added */
    size_t *sorted;                 /* indices into domains, sorted by host */
    size_t domain_count;
    size_t domain_capacity;
    int finished;
};

/* ------------------------------------------------------------------------------------ */
/* Helpers                                                                               */

static int host_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = memcmp(a, b, n);
    if (c != 0)
        return c;
    return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

/* Binary search over the sorted index; returns 1 if found, and the insertion point. */
static int builder_search(const pincurl_policy_builder *b, const char *host, size_t len,
                          size_t *pos)
{
    size_t lo = 0, hi = b->domain_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct pincurl_domain *d = &b->domains[b->sorted[mid]];
        int c = host_cmp(d->host, d->host_len, host, len);
        if (c == 0) {
            *pos = mid;
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return 0;
}

static const struct pincurl_domain *builder_find(const pincurl_policy_builder *b,
                                                 const char *host, size_t len)
{
    size_t pos;
    return builder_search(b, host, len, &pos) ? &b->domains[b->sorted[pos]] : NULL;
}

static void domain_release(const pincurl_allocator *a, struct pincurl_domain *d)
{
    pc_free(a, d->host);
    pc_free(a, d->pins);
    d->host = NULL;
    d->pins = NULL;
}

static int has_dot(const char *s, size_t len)
{
    return memchr(s, '.', len) != NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Builder                                                                               */

pincurl_policy_builder *pincurl_policy_builder_new_custom(const pincurl_allocator *alloc,
                                                          pincurl_public_suffix_fn is_public_suffix,
                                                          void *ctx)
{
    pincurl_allocator a;
    pc_allocator_init(&a, alloc);
    pincurl_policy_builder *b = pc_calloc(&a, 1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->alloc = a;
    b->is_public_suffix = is_public_suffix;
    b->ctx = ctx;
    b->on_expiry = PINCURL_ON_EXPIRY_REPORT_AND_ALLOW;
    return b;
}

void pc_policy_builder_set_ctx_free(pincurl_policy_builder *b, pc_builder_ctx_free_fn free_ctx)
{
    if (b != NULL)
        b->ctx_free = free_ctx;
}

void pincurl_policy_builder_free(pincurl_policy_builder *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->domain_count; i++)
        domain_release(&b->alloc, &b->domains[i]);
    for (size_t i = 0; i < b->report_uri_count; i++)
        pc_free(&b->alloc, b->report_uris[i]);
    pc_free(&b->alloc, b->domains);
    pc_free(&b->alloc, b->sorted);
    if (b->ctx_free != NULL)
        b->ctx_free(b->ctx);
    pincurl_allocator a = b->alloc;
    pc_free(&a, b);
}

pincurl_status pincurl_policy_builder_set_expiry(pincurl_policy_builder *b, int64_t expires,
                                                 pincurl_on_expiry on_expiry)
{
    if (b == NULL || b->finished)
        return PINCURL_INVALID_ARGUMENT;
    if (expires < 0 ||
        (on_expiry != PINCURL_ON_EXPIRY_REPORT_AND_ALLOW && on_expiry != PINCURL_ON_EXPIRY_BLOCK))
        return PINCURL_POLICY_BAD_VALUE;
    b->expires = expires;
    b->on_expiry = on_expiry;
    return PINCURL_OK;
}

/* "https://" then a non-empty host, printable ASCII without spaces, bounded length. */
static int uri_ok(const char *uri, size_t len)
{
    static const char scheme[] = "https://";
    const size_t scheme_len = sizeof scheme - 1;
    if (len > PINCURL_MAX_URI_LENGTH || len <= scheme_len ||
        memcmp(uri, scheme, scheme_len) != 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)uri[i];
        if (c <= 0x20 || c >= 0x7f)
            return 0;
    }
    /* The authority runs to the first '/', '?' or '#'; its host follows any userinfo. */
    size_t start = scheme_len, end = scheme_len;
    while (end < len && uri[end] != '/' && uri[end] != '?' && uri[end] != '#')
        end++;
    for (size_t i = start; i < end; i++)
        if (uri[i] == '@')
            start = i + 1;
    if (start >= end)
        return 0;
    if (uri[start] == '[') {
        const char *close = memchr(uri + start, ']', end - start);
        return close != NULL && close > uri + start + 1;
    }
    return uri[start] != ':';
}

pincurl_status pincurl_policy_builder_add_report_uri(pincurl_policy_builder *b, const char *uri)
{
    if (b == NULL || b->finished || uri == NULL)
        return PINCURL_INVALID_ARGUMENT;
    size_t len = strnlen(uri, PINCURL_MAX_URI_LENGTH + 1);
    if (!uri_ok(uri, len))
        return PINCURL_POLICY_BAD_URI;
    if (b->report_uri_count >= PINCURL_MAX_REPORT_URIS)
        return PINCURL_POLICY_TOO_LARGE;
    char *copy = pc_strndup(&b->alloc, uri, len);
    if (copy == NULL)
        return PINCURL_OUT_OF_MEMORY;
    b->report_uris[b->report_uri_count++] = copy;
    return PINCURL_OK;
}

static pincurl_status builder_grow(pincurl_policy_builder *b)
{
    if (b->domain_count < b->domain_capacity)
        return PINCURL_OK;
    size_t cap = b->domain_capacity == 0 ? 8 : b->domain_capacity * 2;
    if (cap > PINCURL_MAX_DOMAINS)
        cap = PINCURL_MAX_DOMAINS;
    struct pincurl_domain *domains = pc_realloc(&b->alloc, b->domains, cap * sizeof *domains);
    if (domains == NULL)
        return PINCURL_OUT_OF_MEMORY;
    b->domains = domains;
    size_t *sorted = pc_realloc(&b->alloc, b->sorted, cap * sizeof *sorted);
    if (sorted == NULL)
        return PINCURL_OUT_OF_MEMORY; /* domains grew; capacity stays as before */
    b->sorted = sorted;
    b->domain_capacity = cap;
    return PINCURL_OK;
}

pincurl_status pincurl_policy_builder_add_domain(pincurl_policy_builder *b, const char *host,
                                                 unsigned flags, size_t *index)
{
    if (index != NULL)
        *index = SIZE_MAX;
    if (b == NULL || b->finished || host == NULL)
        return PINCURL_INVALID_ARGUMENT;

    char name[PINCURL_HOST_MAX + 1];
    pincurl_status st = pincurl_host_normalize(host, strlen(host), name, sizeof name);
    if (st != PINCURL_OK)
        return st;
    size_t len = strlen(name);

    const unsigned known = PINCURL_DOMAIN_INCLUDE_SUBDOMAINS | PINCURL_DOMAIN_ENFORCE |
                           PINCURL_DOMAIN_EXCLUDE | PINCURL_DOMAIN_HOST_ONLY |
                           PINCURL_DOMAIN_ALLOW_SINGLE_PIN;
    if ((flags & ~known) != 0)
        return PINCURL_POLICY_BAD_VALUE;
    if ((flags & PINCURL_DOMAIN_EXCLUDE) != 0 &&
        (flags & ~(PINCURL_DOMAIN_EXCLUDE | PINCURL_DOMAIN_HOST_ONLY)) != 0)
        return PINCURL_POLICY_BAD_VALUE;
    if ((flags & PINCURL_DOMAIN_HOST_ONLY) != 0 && (flags & PINCURL_DOMAIN_EXCLUDE) == 0)
        return PINCURL_POLICY_BAD_VALUE;
    if ((flags & PINCURL_DOMAIN_ALLOW_SINGLE_PIN) != 0 && (flags & PINCURL_DOMAIN_ENFORCE) == 0)
        return PINCURL_POLICY_BAD_VALUE;
    if ((flags & PINCURL_DOMAIN_INCLUDE_SUBDOMAINS) != 0) {
        if (pincurl_host_is_ip(name))
            return PINCURL_POLICY_BAD_VALUE;
        if (!has_dot(name, len))
            return PINCURL_POLICY_PUBLIC_SUFFIX;
        if (b->is_public_suffix != NULL && b->is_public_suffix(name, b->ctx) != 0)
            return PINCURL_POLICY_PUBLIC_SUFFIX;
    }

    size_t pos;
    if (builder_search(b, name, len, &pos))
        return PINCURL_POLICY_DUPLICATE_DOMAIN;
    if (b->domain_count >= PINCURL_MAX_DOMAINS)
        return PINCURL_POLICY_TOO_LARGE;
    st = builder_grow(b);
    if (st != PINCURL_OK)
        return st;
    char *copy = pc_strndup(&b->alloc, name, len);
    if (copy == NULL)
        return PINCURL_OUT_OF_MEMORY;

    size_t i = b->domain_count++;
    b->domains[i] = (struct pincurl_domain){.host = copy, .host_len = len, .flags = flags};
    memmove(&b->sorted[pos + 1], &b->sorted[pos], (i - pos) * sizeof b->sorted[0]);
    b->sorted[pos] = i;
    if (index != NULL)
        *index = i;
    return PINCURL_OK;
}

pincurl_status pincurl_policy_builder_add_pin(pincurl_policy_builder *b, size_t domain_index,
                                              const pincurl_pin *pin)
{
    if (b == NULL || b->finished || pin == NULL || domain_index >= b->domain_count)
        return PINCURL_INVALID_ARGUMENT;
    struct pincurl_domain *d = &b->domains[domain_index];
    if ((d->flags & PINCURL_DOMAIN_EXCLUDE) != 0)
        return PINCURL_POLICY_EXCLUDE_CONFLICT;
    for (size_t i = 0; i < d->pin_count; i++)
        if (pincurl_pin_equal(&d->pins[i], pin))
            return PINCURL_POLICY_DUPLICATE_PIN;
    if (d->pin_count >= PINCURL_MAX_PINS_PER_DOMAIN)
        return PINCURL_POLICY_TOO_LARGE;
    if (d->pin_count == d->pin_capacity) {
        size_t cap = d->pin_capacity == 0 ? 2 : d->pin_capacity * 2;
        if (cap > PINCURL_MAX_PINS_PER_DOMAIN)
            cap = PINCURL_MAX_PINS_PER_DOMAIN;
        pincurl_pin *pins = pc_realloc(&b->alloc, d->pins, cap * sizeof *pins);
        if (pins == NULL)
            return PINCURL_OUT_OF_MEMORY;
        d->pins = pins;
        d->pin_capacity = cap;
    }
    d->pins[d->pin_count++] = *pin;
    return PINCURL_OK;
}

pincurl_status pincurl_policy_builder_set_domain_expiry(pincurl_policy_builder *b,
                                                        size_t domain_index, int64_t expires)
{
    if (b == NULL || b->finished || domain_index >= b->domain_count)
        return PINCURL_INVALID_ARGUMENT;
    struct pincurl_domain *d = &b->domains[domain_index];
    if (expires < 0 || (d->flags & PINCURL_DOMAIN_EXCLUDE) != 0)
        return PINCURL_POLICY_BAD_VALUE;
    d->expires = expires;
    return PINCURL_OK;
}

pincurl_status pincurl_policy_builder_set_domain_on_expiry(pincurl_policy_builder *b,
                                                           size_t domain_index,
                                                           pincurl_on_expiry on_expiry)
{
    if (b == NULL || b->finished || domain_index >= b->domain_count)
        return PINCURL_INVALID_ARGUMENT;
    struct pincurl_domain *d = &b->domains[domain_index];
    if ((on_expiry != PINCURL_ON_EXPIRY_REPORT_AND_ALLOW &&
         on_expiry != PINCURL_ON_EXPIRY_BLOCK) ||
        (d->flags & PINCURL_DOMAIN_EXCLUDE) != 0)
        return PINCURL_POLICY_BAD_VALUE;
    d->on_expiry = on_expiry;
    d->own_on_expiry = 1;
    return PINCURL_OK;
}

/* 1 if a strict parent of d (on a label boundary) is an include_subdomains entry. */
static int has_including_ancestor(const pincurl_policy_builder *b, const struct pincurl_domain *d)
{
    const char *h = d->host;
    size_t len = d->host_len;
    for (;;) {
        const char *dot = memchr(h, '.', len);
        if (dot == NULL)
            return 0;
        len -= (size_t)(dot + 1 - h);
        h = dot + 1;
        const struct pincurl_domain *p = builder_find(b, h, len);
        if (p != NULL && (p->flags & PINCURL_DOMAIN_INCLUDE_SUBDOMAINS) != 0)
            return 1;
    }
}

static void policy_free(pincurl_policy *p)
{
    pincurl_allocator a = p->alloc;
    for (size_t i = 0; i < p->domain_count; i++)
        domain_release(&a, &p->domains[i]);
    for (size_t i = 0; i < p->report_uri_count; i++)
        pc_free(&a, p->report_uris[i]);
    pc_free(&a, p->domains);
    pc_free(&a, p->report_uris);
    pc_free(&a, p);
}

pincurl_status pincurl_policy_builder_finish(pincurl_policy_builder *b, pincurl_policy **out,
                                             size_t *bad_domain)
{
    if (out != NULL)
        *out = NULL;
    if (bad_domain != NULL)
        *bad_domain = SIZE_MAX;
    if (b == NULL || out == NULL || b->finished)
        return PINCURL_INVALID_ARGUMENT;

    size_t pinned = 0;
    for (size_t i = 0; i < b->domain_count; i++) {
        const struct pincurl_domain *d = &b->domains[i];
        pincurl_status st = PINCURL_OK;
        if ((d->flags & PINCURL_DOMAIN_EXCLUDE) != 0) {
            if (!has_including_ancestor(b, d))
                st = PINCURL_POLICY_EXCLUDE_ORPHAN;
        } else {
            size_t need = (d->flags & PINCURL_DOMAIN_ENFORCE) != 0 &&
                                  (d->flags & PINCURL_DOMAIN_ALLOW_SINGLE_PIN) == 0
                              ? 2
                              : 1;
            if (d->pin_count < need)
                st = PINCURL_POLICY_TOO_FEW_PINS;
            else if (d->own_on_expiry && d->expires == 0)
                st = PINCURL_POLICY_BAD_VALUE;
            pinned++;
        }
        if (st != PINCURL_OK) {
            if (bad_domain != NULL)
                *bad_domain = i;
            return st;
        }
    }
    if (pinned == 0)
        return PINCURL_POLICY_NO_DOMAINS;

    pincurl_policy *p = pc_calloc(&b->alloc, 1, sizeof *p);
    if (p == NULL)
        return PINCURL_OUT_OF_MEMORY;
    p->alloc = b->alloc;
    p->domains = pc_calloc(&b->alloc, b->domain_count, sizeof *p->domains);
    if (b->report_uri_count > 0)
        p->report_uris = pc_calloc(&b->alloc, b->report_uri_count, sizeof *p->report_uris);
    if (p->domains == NULL || (b->report_uri_count > 0 && p->report_uris == NULL)) {
        policy_free(p);
        return PINCURL_OUT_OF_MEMORY;
    }

    /* Nothing can fail from here: move the builder's contents into the policy. */
    atomic_init(&p->refs, 1);
    p->expires = b->expires;
    p->on_expiry = b->on_expiry;
    for (size_t i = 0; i < b->domain_count; i++) {
        p->domains[i] = b->domains[b->sorted[i]];
        if (!p->domains[i].own_on_expiry)
            p->domains[i].on_expiry = b->on_expiry;
    }
    p->domain_count = b->domain_count;
    for (size_t i = 0; i < b->report_uri_count; i++)
        p->report_uris[i] = b->report_uris[i];
    p->report_uri_count = b->report_uri_count;
    b->domain_count = 0;
    b->report_uri_count = 0;
    b->finished = 1;
    *out = p;
    return PINCURL_OK;
}

/* ------------------------------------------------------------------------------------ */
/* Policy                                                                                */

pincurl_policy *pincurl_policy_ref(pincurl_policy *policy)
{
    if (policy != NULL)
        atomic_fetch_add_explicit(&policy->refs, 1, memory_order_relaxed);
    return policy;
}

void pincurl_policy_unref(pincurl_policy *policy)
{
    if (policy == NULL)
        return;
    if (atomic_fetch_sub_explicit(&policy->refs, 1, memory_order_release) == 1) {
        atomic_thread_fence(memory_order_acquire);
        policy_free(policy);
    }
}

int64_t pincurl_policy_expires(const pincurl_policy *policy)
{
    return policy != NULL ? policy->expires : 0;
}

pincurl_on_expiry pincurl_policy_on_expiry(const pincurl_policy *policy)
{
    return policy != NULL ? policy->on_expiry : PINCURL_ON_EXPIRY_BLOCK;
}

size_t pincurl_policy_report_uri_count(const pincurl_policy *policy)
{
    return policy != NULL ? policy->report_uri_count : 0;
}

const char *pincurl_policy_report_uri(const pincurl_policy *policy, size_t i)
{
    if (policy == NULL || i >= policy->report_uri_count)
        return NULL;
    return policy->report_uris[i];
}

size_t pincurl_policy_domain_count(const pincurl_policy *policy)
{
    return policy != NULL ? policy->domain_count : 0;
}

const pincurl_domain *pincurl_policy_domain(const pincurl_policy *policy, size_t i)
{
    if (policy == NULL || i >= policy->domain_count)
        return NULL;
    return &policy->domains[i];
}

const char *pincurl_domain_host(const pincurl_domain *d)
{
    return d != NULL ? d->host : NULL;
}

unsigned pincurl_domain_flags(const pincurl_domain *d)
{
    return d != NULL ? d->flags : 0;
}

size_t pincurl_domain_pin_count(const pincurl_domain *d)
{
    return d != NULL ? d->pin_count : 0;
}

const pincurl_pin *pincurl_domain_pin(const pincurl_domain *d, size_t i)
{
    if (d == NULL || i >= d->pin_count)
        return NULL;
    return &d->pins[i];
}

int64_t pincurl_domain_expires(const pincurl_domain *d)
{
    return d != NULL ? d->expires : 0;
}

pincurl_on_expiry pincurl_domain_on_expiry(const pincurl_domain *d)
{
    return d != NULL ? d->on_expiry : PINCURL_ON_EXPIRY_REPORT_AND_ALLOW;
}

const pincurl_domain *pc_policy_find_exact(const pincurl_policy *policy, const char *host,
                                           size_t len)
{
    size_t lo = 0, hi = policy->domain_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct pincurl_domain *d = &policy->domains[mid];
        int c = host_cmp(d->host, d->host_len, host, len);
        if (c == 0)
            return d;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const pincurl_domain *pc_policy_lookup_normalized(const pincurl_policy *policy, const char *name,
                                                  size_t n)
{
    const pincurl_domain *d = pc_policy_find_exact(policy, name, n);
    if (d != NULL || pincurl_host_is_ip(name))
        return d;
    const char *h = name;
    for (;;) {
        const char *dot = memchr(h, '.', n);
        if (dot == NULL)
            return NULL;
        n -= (size_t)(dot + 1 - h);
        h = dot + 1;
        d = pc_policy_find_exact(policy, h, n);
        if (d != NULL && ((d->flags & PINCURL_DOMAIN_INCLUDE_SUBDOMAINS) != 0 ||
                          (d->flags & (PINCURL_DOMAIN_EXCLUDE | PINCURL_DOMAIN_HOST_ONLY)) ==
                              PINCURL_DOMAIN_EXCLUDE))
            return d;
    }
}

const pincurl_domain *pincurl_policy_lookup(const pincurl_policy *policy, const char *host,
                                            size_t len)
{
    if (policy == NULL || host == NULL)
        return NULL;
    char name[PINCURL_HOST_MAX + 1];
    if (pincurl_host_normalize(host, len, name, sizeof name) != PINCURL_OK)
        return NULL;
    return pc_policy_lookup_normalized(policy, name, strlen(name));
}
