/* Shared by the fuzz harnesses: property checks that abort (so libFuzzer and the replay
 * program both report them), and an allocator that counts what it hands out. */
#ifndef PINCURL_FUZZ_COMMON_H
#define PINCURL_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "pincurl/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A violated property: print where and abort (libFuzzer saves the input as a crash). */
#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #cond);  \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* Counts live blocks; fails (returns NULL) once `fail_after` further allocations have
 * succeeded when fail_after >= 0. Not thread-safe (the harnesses are single-threaded). */
typedef struct fuzz_counting {
    long live;
    long calls;
    long fail_after; /* -1: never fail */
} fuzz_counting;

static inline void *fuzz_count_malloc(size_t size, void *ctx)
{
    fuzz_counting *c = ctx;
    if (c->fail_after >= 0 && c->calls >= c->fail_after)
        return NULL;
    c->calls++;
    void *p = malloc(size);
    if (p != NULL)
        c->live++;
    return p;
}

static inline void *fuzz_count_realloc(void *ptr, size_t size, void *ctx)
{
    fuzz_counting *c = ctx;
    if (c->fail_after >= 0 && c->calls >= c->fail_after)
        return NULL;
    c->calls++;
    void *p = realloc(ptr, size);
    if (p != NULL && ptr == NULL)
        c->live++;
    return p;
}

static inline void fuzz_count_free(void *ptr, void *ctx)
{
    fuzz_counting *c = ctx;
    if (ptr != NULL)
        c->live--;
    free(ptr);
}

static inline pincurl_allocator fuzz_counting_allocator(fuzz_counting *c, long fail_after)
{
    c->live = 0;
    c->calls = 0;
    c->fail_after = fail_after;
    pincurl_allocator a = {fuzz_count_malloc, fuzz_count_realloc, fuzz_count_free, c};
    return a;
}

#endif
