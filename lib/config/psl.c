/*
 * The full build's public-suffix check: a policy builder whose hook asks libpsl. Lives in
 * lib/config because the core does not depend on libpsl.
 *
 * Each builder loads its own libpsl context (the newest of the distribution's list and
 * libpsl's built-in one) and frees it with the builder: no state shared between builders.
 * Rules: ICANN and private sections ("github.io"), without the implicit "*" rule, so an
 * unknown top-level name is not a suffix by itself (single-label names are refused by the
 * core anyway).
 */
#include <libpsl.h>

#include "core/policy_internal.h"

static int psl_hook(const char *normalized_host, void *ctx)
{
    const psl_ctx_t *psl = ctx;
    return psl_is_public_suffix2(psl, normalized_host, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
}

static void psl_ctx_release(void *ctx)
{
    psl_free(ctx); /* a no-op for libpsl's built-in context */
}

/* Owned by the caller: pincurl_policy_builder_free(). NULL on OOM, or when no public suffix
 * list can be loaded (the check would be impossible, so no builder is made). */
pincurl_policy_builder *pincurl_policy_builder_new(const pincurl_allocator *alloc)
{
    psl_ctx_t *psl = psl_latest(NULL);
    if (psl == NULL)
        psl = (psl_ctx_t *)psl_builtin();
    if (psl == NULL)
        return NULL;
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(alloc, psl_hook, psl);
    if (b == NULL) {
        psl_free(psl);
        return NULL;
    }
    pc_policy_builder_set_ctx_free(b, psl_ctx_release);
    return b;
}
