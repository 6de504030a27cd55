/* A malloc/calloc/realloc/free replacement for the allocation-failure tests: it counts
 * the allocations of the process (libcurl, wolfSSL, cJSON and pincurl alike) and, while
 * armed, makes the k-th one after the start marker fail. Linked into the test program, it
 * takes the place of the C library's functions for every shared library too (ELF symbol
 * interposition, as LD_PRELOAD would); it forwards to glibc's __libc_* entry points.
 * Not built with AddressSanitizer, which replaces the same functions.
 * Blocks allocated while armed are remembered with their caller until freed, so that what
 * a run leaves allocated can be listed. */
#ifndef PINCURL_TEST_FAIL_MALLOC_H
#define PINCURL_TEST_FAIL_MALLOC_H

#include <stdio.h>

/* Allocations made directly by code of a loaded library whose file name contains name are
 * neither counted nor failed (for a dependency whose own out-of-memory paths are known to
 * be broken; see the callers); with track_blocks 0 its blocks are also left out of the
 * leak check (for a library that keeps per-thread caches across calls). Call before
 * fm_arm. Returns the number of code segments found (0: no such library loaded). */
int fm_spare_library(const char *name, int track_blocks);

/* Start marker: from now on count allocations, and fail the k-th (k >= 1; 0: only count). */
void fm_arm(long k);
/* As fm_arm, but the k-th allocation and every one after it fail. */
void fm_arm_from(long k);
/* End marker: stop counting and failing; returns the allocations seen while armed. */
long fm_disarm(void);
/* 1 if the armed failure was injected since the last fm_arm. */
int fm_hit(void);
/* Allocations seen while armed so far (without disarming). */
long fm_count(void);
/* Records a stack for every tracked block (slow; for reproducing one run). */
void fm_backtraces(int on);
/* With fm_backtraces(1): prints the stack of the allocation that was made to fail. */
void fm_print_failed(FILE *out);
/* Blocks allocated during the last armed period and still not freed. */
long fm_outstanding(void);
/* Prints up to max of those blocks, each with the library and symbol of its caller. */
void fm_print_outstanding(FILE *out, int max);

#endif
