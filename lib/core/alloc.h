/* Internal: allocation through a pincurl_allocator (NULL means the C library's). */
#ifndef PINCURL_CORE_ALLOC_H
#define PINCURL_CORE_ALLOC_H

#include "pincurl/common.h"

/* Fills *dst from src, or with the C library's functions when src is NULL. */
void pc_allocator_init(pincurl_allocator *dst, const pincurl_allocator *src);
void *pc_malloc(const pincurl_allocator *a, size_t size);
void *pc_calloc(const pincurl_allocator *a, size_t count, size_t size); /* overflow-checked */
void *pc_realloc(const pincurl_allocator *a, void *ptr, size_t size);
void pc_free(const pincurl_allocator *a, void *ptr);
/* Copies n bytes of s and a NUL. */
char *pc_strndup(const pincurl_allocator *a, const char *s, size_t n);

#endif
