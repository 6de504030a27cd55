#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

static void *default_malloc(size_t size, void *ctx)
{
    (void)ctx;
    return malloc(size);
}

static void *default_realloc(void *ptr, size_t size, void *ctx)
{
    (void)ctx;
    return realloc(ptr, size);
}

static void default_free(void *ptr, void *ctx)
{
    (void)ctx;
    free(ptr);
}

void pc_allocator_init(pincurl_allocator *dst, const pincurl_allocator *src)
{
    if (src != NULL && src->malloc_fn != NULL && src->realloc_fn != NULL && src->free_fn != NULL) {
        *dst = *src;
        return;
    }
    dst->malloc_fn = default_malloc;
    dst->realloc_fn = default_realloc;
    dst->free_fn = default_free;
    dst->ctx = NULL;
}

void *pc_malloc(const pincurl_allocator *a, size_t size)
{
    return a->malloc_fn(size == 0 ? 1 : size, a->ctx);
}

void *pc_calloc(const pincurl_allocator *a, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *p = pc_malloc(a, count * size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

void *pc_realloc(const pincurl_allocator *a, void *ptr, size_t size)
{
    return a->realloc_fn(ptr, size == 0 ? 1 : size, a->ctx);
}

void pc_free(const pincurl_allocator *a, void *ptr)
{
    if (ptr != NULL)
        a->free_fn(ptr, a->ctx);
}

char *pc_strndup(const pincurl_allocator *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = pc_malloc(a, n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}
