/* See fail_malloc.h. Forwards to glibc's exported __libc_* allocator entry points. */
#define _GNU_SOURCE 1
#include "fail_malloc.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <link.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void __libc_free(void *ptr);

void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void *realloc(void *ptr, size_t size);
void free(void *ptr);
void *memalign(size_t align, size_t size);
void *aligned_alloc(size_t align, size_t size);
int posix_memalign(void **out, size_t align, size_t size);

static atomic_int armed;
static atomic_int hit;
static atomic_long fail_at;
static atomic_long seen;
static atomic_int persistent;

/* ---- libraries whose own allocations are spared ---------------------------------------- */

#define MAX_SPARED 16
static struct {
    uintptr_t lo, hi;
    int track; /* remember its blocks for the leak check */
} spared[MAX_SPARED];
static int spared_count;

struct spare_search {
    const char *name;
    int track;
    int found;
};

static int spare_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    struct spare_search *s = data;
    (void)size;
    if (info->dlpi_name == NULL || strstr(info->dlpi_name, s->name) == NULL)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X) || spared_count >= MAX_SPARED)
            continue;
        spared[spared_count].lo = info->dlpi_addr + ph->p_vaddr;
        spared[spared_count].hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
        spared[spared_count].track = s->track;
        spared_count++;
        s->found++;
    }
    return 0;
}

int fm_spare_library(const char *name, int track_blocks)
{
    struct spare_search s = {name, track_blocks, 0};
    dl_iterate_phdr(spare_cb, &s);
    return s.found;
}

/* 0: not spared; 1: spared, blocks tracked; 2: spared, blocks not tracked. */
static int spare_kind(const void *caller)
{
    uintptr_t a = (uintptr_t)caller;
    for (int i = 0; i < spared_count; i++)
        if (a >= spared[i].lo && a < spared[i].hi)
            return spared[i].track ? 1 : 2;
    return 0;
}

/* ---- blocks allocated while armed ----------------------------------------------------- */

#define TRACK_SIZE (1u << 16) /* open addressing; a run allocates a few thousand blocks */
#define TRACE_DEPTH 14
static struct {
    void *ptr;
    const void *caller;
} track[TRACK_SIZE];
static void *trace[TRACK_SIZE][TRACE_DEPTH]; /* with fm_backtraces(1) */
static atomic_int want_traces;
static _Thread_local int in_backtrace;
static void *failed_trace[TRACE_DEPTH]; /* the allocation that was made to fail */
static int failed_frames;
static atomic_flag track_lock = ATOMIC_FLAG_INIT;
static long tracked;

static size_t slot_of(const void *p)
{
    uintptr_t h = (uintptr_t)p;
    h ^= h >> 17;
    h *= 0x9e3779b97f4a7c15u;
    return (size_t)(h >> 7) & (TRACK_SIZE - 1);
}

static void lock(void)
{
    while (atomic_flag_test_and_set_explicit(&track_lock, memory_order_acquire))
        ;
}

static void unlock(void)
{
    atomic_flag_clear_explicit(&track_lock, memory_order_release);
}

static void track_add(void *p, const void *caller)
{
    void *frames[TRACE_DEPTH];
    int nframes = 0;
    if (atomic_load(&want_traces) && !in_backtrace) {
        in_backtrace = 1;
        nframes = backtrace(frames, TRACE_DEPTH);
        in_backtrace = 0;
    }
    lock();
    if (tracked < (long)(TRACK_SIZE / 2)) {
        size_t i = slot_of(p);
        while (track[i].ptr != NULL && track[i].ptr != (void *)1)
            i = (i + 1) & (TRACK_SIZE - 1);
        track[i].ptr = p;
        track[i].caller = caller;
        memset(trace[i], 0, sizeof trace[i]);
        if (nframes > 0)
            memcpy(trace[i], frames, (size_t)nframes * sizeof frames[0]);
        tracked++;
    }
    unlock();
}

static void track_remove(void *p)
{
    lock();
    if (tracked > 0) {
        size_t i = slot_of(p);
        for (size_t step = 0; step < TRACK_SIZE && track[i].ptr != NULL; step++) {
            if (track[i].ptr == p) {
                track[i].ptr = (void *)1; /* tombstone */
                tracked--;
                break;
            }
            i = (i + 1) & (TRACK_SIZE - 1);
        }
    }
    unlock();
}

static void track_clear(void)
{
    lock();
    memset(track, 0, sizeof track);
    tracked = 0;
    unlock();
}

long fm_outstanding(void)
{
    lock();
    long n = tracked;
    unlock();
    return n;
}

void fm_print_outstanding(FILE *out, int max)
{
    int shown = 0;
    for (size_t i = 0; i < TRACK_SIZE && shown < max; i++) {
        if (track[i].ptr == NULL || track[i].ptr == (void *)1)
            continue;
        Dl_info info;
        memset(&info, 0, sizeof info);
        dladdr(track[i].caller, &info);
        fprintf(out, "  block %p from %s (%s+%#lx)\n", track[i].ptr,
                info.dli_fname ? info.dli_fname : "?", info.dli_sname ? info.dli_sname : "?",
                (unsigned long)((uintptr_t)track[i].caller - (uintptr_t)info.dli_fbase));
        for (int f = 0; f < TRACE_DEPTH && trace[i][f] != NULL; f++) {
            memset(&info, 0, sizeof info);
            dladdr(trace[i][f], &info);
            fprintf(out, "      %s(%s+%#lx)\n", info.dli_fname ? info.dli_fname : "?",
                    info.dli_sname ? info.dli_sname : "",
                    (unsigned long)((uintptr_t)trace[i][f] - (uintptr_t)info.dli_fbase));
        }
        shown++;
    }
}

void fm_print_failed(FILE *out)
{
    fprintf(out, "  the failed allocation:\n");
    for (int f = 0; f < failed_frames; f++) {
        Dl_info info;
        memset(&info, 0, sizeof info);
        dladdr(failed_trace[f], &info);
        fprintf(out, "      %s(%s+%#lx)\n", info.dli_fname ? info.dli_fname : "?",
                info.dli_sname ? info.dli_sname : "",
                (unsigned long)((uintptr_t)failed_trace[f] - (uintptr_t)info.dli_fbase));
    }
}

void fm_backtraces(int on)
{
    if (on) {
        void *warm[2];
        backtrace(warm, 2); /* loads the unwinder before it is needed inside malloc */
    }
    atomic_store(&want_traces, on);
}

/* ---- markers ----------------------------------------------------------------------------- */

void fm_arm_from(long k)
{
    fm_arm(k);
    atomic_store(&persistent, 1);
}

void fm_arm(long k)
{
    track_clear();
    failed_frames = 0;
    atomic_store(&persistent, 0);
    atomic_store(&seen, 0);
    atomic_store(&hit, 0);
    atomic_store(&fail_at, k);
    atomic_store(&armed, 1);
}

long fm_disarm(void)
{
    atomic_store(&armed, 0);
    return atomic_load(&seen);
}

int fm_hit(void)
{
    return atomic_load(&hit);
}

long fm_count(void)
{
    return atomic_load(&seen);
}

/* 1 if this allocation must fail. */
static int must_fail(const void *caller)
{
    if (!atomic_load(&armed) || spare_kind(caller) != 0)
        return 0;
    long n = atomic_fetch_add(&seen, 1) + 1;
    long at = atomic_load(&fail_at);
    if (at > 0 && (n == at || (n > at && atomic_load(&persistent)))) {
        if (n == at && atomic_load(&want_traces) && !in_backtrace) {
            in_backtrace = 1;
            failed_frames = backtrace(failed_trace, TRACE_DEPTH);
            in_backtrace = 0;
        }
        atomic_store(&hit, 1);
        return 1;
    }
    return 0;
}

static void *allocated(void *p, const void *caller)
{
    if (p != NULL && atomic_load(&armed) && spare_kind(caller) != 2)
        track_add(p, caller);
    return p;
}

/* ---- the replaced functions ------------------------------------------------------------ */

void *malloc(size_t size)
{
    const void *caller = __builtin_return_address(0);
    if (must_fail(caller)) {
        errno = ENOMEM;
        return NULL;
    }
    return allocated(__libc_malloc(size), caller);
}

void *calloc(size_t n, size_t size)
{
    const void *caller = __builtin_return_address(0);
    if (must_fail(caller)) {
        errno = ENOMEM;
        return NULL;
    }
    return allocated(__libc_calloc(n, size), caller);
}

void *realloc(void *ptr, size_t size)
{
    const void *caller = __builtin_return_address(0);
    if (ptr != NULL && size == 0) { /* glibc: frees and returns NULL */
        track_remove(ptr);
        return __libc_realloc(ptr, 0);
    }
    if (must_fail(caller)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = __libc_realloc(ptr, size);
    if (p != NULL && ptr != NULL)
        track_remove(ptr);
    return allocated(p, caller);
}

void free(void *ptr)
{
    if (ptr == NULL)
        return;
    track_remove(ptr);
    __libc_free(ptr);
}

static void *aligned(size_t align, size_t size, const void *caller)
{
    if (must_fail(caller)) {
        errno = ENOMEM;
        return NULL;
    }
    return allocated(__libc_memalign(align, size), caller);
}

void *memalign(size_t align, size_t size)
{
    return aligned(align, size, __builtin_return_address(0));
}

void *aligned_alloc(size_t align, size_t size)
{
    return aligned(align, size, __builtin_return_address(0));
}

int posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    void *p = aligned(align, size, __builtin_return_address(0));
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}
