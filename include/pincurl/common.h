/*
 * pincurl: status codes, export macros and the pluggable allocator shared by every
 * public header.
 *
 * Thread-safety: everything declared here is safe to call from any thread.
 */
#ifndef PINCURL_COMMON_H
#define PINCURL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(PINCURL_BUILDING_SHARED)
#define PINCURL_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define PINCURL_API __attribute__((visibility("default")))
#else
#define PINCURL_API
#endif

#define PINCURL_VERSION_MAJOR 0
#define PINCURL_VERSION_MINOR 1
#define PINCURL_VERSION_PATCH 0
#define PINCURL_VERSION_STRING "0.1.0"

/* Every fallible pincurl function returns one of these. Numbers are stable. */
typedef enum pincurl_status {
#define PINCURL_STATUS(name, number, message) PINCURL_##name = number,
#include "pincurl/status_list.h"
#undef PINCURL_STATUS
    PINCURL_STATUS_END_ /* not a status; keeps the list's trailing comma legal */
} pincurl_status;

/* A static English sentence for the status, or "unknown status" for a number not in the
 * list. Never NULL; the caller does not free it. */
PINCURL_API const char *pincurl_strerror(pincurl_status status);

/* The status's name without the prefix ("PIN_MISMATCH"), or NULL for a number not in the
 * list. Static storage; the caller does not free it. */
PINCURL_API const char *pincurl_status_name(pincurl_status status);

/* The library version, "MAJOR.MINOR.PATCH". Static storage. */
PINCURL_API const char *pincurl_version(void);

/*
 * An allocator. Every pincurl object that allocates takes one of these (NULL means the C
 * library's malloc/realloc/free), keeps a copy, and frees through it. The functions must
 * behave like their C counterparts: free_fn(NULL) is a no-op, realloc_fn(NULL, n) allocates.
 * They may be called from any thread that uses the object.
 */
typedef struct pincurl_allocator {
    void *(*malloc_fn)(size_t size, void *ctx);
    void *(*realloc_fn)(void *ptr, size_t size, void *ctx);
    void (*free_fn)(void *ptr, void *ctx);
    void *ctx;
} pincurl_allocator;

#ifdef __cplusplus
}
#endif

#endif /* PINCURL_COMMON_H */
