/* Internal: the policy model's representation, shared by the core and the loaders. */
#ifndef PINCURL_CORE_POLICY_INTERNAL_H
#define PINCURL_CORE_POLICY_INTERNAL_H

#include <stdatomic.h>

#include "pincurl/core.h"

/* One domain entry: its normalised host, PINCURL_DOMAIN_* flags, distinct pins and its own
 * expiry (0: none). on_expiry is resolved when the policy is finished: the entry's own if
 * it set one (own_on_expiry), else the policy's. */
struct pincurl_domain {
    char *host;
    size_t host_len;
    unsigned flags;
    pincurl_pin *pins;
    size_t pin_count;
    size_t pin_capacity;
    int64_t expires;
    pincurl_on_expiry on_expiry;
    int own_on_expiry;
};

/* An immutable policy; domains sorted byte-wise by host for binary search. */
struct pincurl_policy {
    atomic_size_t refs;
    pincurl_allocator alloc;
    int64_t expires;
    pincurl_on_expiry on_expiry;
    char **report_uris;
    size_t report_uri_count;
    struct pincurl_domain *domains;
    size_t domain_count;
};

/* Called with the public-suffix hook's ctx when the builder is freed. */
typedef void (*pc_builder_ctx_free_fn)(void *ctx);

/* Makes the builder call free_ctx(ctx) (its hook's ctx) when it is freed. */
void pc_policy_builder_set_ctx_free(pincurl_policy_builder *b, pc_builder_ctx_free_fn free_ctx);

/* pincurl_evaluate with the SPKI pins of the path already computed: pins (NULL: hash them
 * here) holds pincurl_pin_from_cert_der of every path certificate, in order, as computed
 * from these very bytes (a path cache entry keeps them next to its certificates). */
pincurl_status pc_evaluate_pinned(const pincurl_policy *policy, const char *host, unsigned port,
                                  const pincurl_cert_ref *path, size_t path_len,
                                  const pincurl_pin *pins, const pincurl_cert_ref *served,
                                  size_t served_len, int64_t now, pincurl_verdict *out);

/* The exact entry for an already normalised host, or NULL (binary search). */
const pincurl_domain *pc_policy_find_exact(const pincurl_policy *policy, const char *host,
                                           size_t len);

/* pincurl_policy_lookup for a host already normalised (NUL-terminated, n = strlen). */
const pincurl_domain *pc_policy_lookup_normalized(const pincurl_policy *policy, const char *name,
                                                  size_t n);

#endif
