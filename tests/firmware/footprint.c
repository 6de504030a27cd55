/*
 * The heap pincurl's own code takes in the firmware library: one client, and one pinned
 * request. Linked with a copy of libpincurl_firmware.a in which malloc, calloc, realloc,
 * free, strdup and strndup are renamed to the footprint_* functions below
 * (tests/firmware/CMakeLists.txt), so every allocation made from pincurl's objects is
 * counted (malloc_usable_size) while libcurl's, nghttp2's and wolfSSL's own (their archives
 * call the C library directly) are not; glibc's mallinfo2() gives the whole process for
 * comparison. Prints the numbers docs/embedded.md records and checks them against the
 * target (8 KiB per client).
 */
#include <criterion/criterion.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pincurl/client.h"
#include "pincurl/static_policy.h"
#include "servers.h"
#include "support.h"

void *footprint_malloc(size_t n);
void *footprint_calloc(size_t k, size_t n);
void *footprint_realloc(void *p, size_t n);
void footprint_free(void *p);
char *footprint_strdup(const char *s);
char *footprint_strndup(const char *s, size_t n);

static atomic_long live, peak, calls;

static void *counted(void *p)
{
    if (p != NULL) {
        long now = atomic_fetch_add(&live, (long)malloc_usable_size(p)) +
                   (long)malloc_usable_size(p);
        long old = atomic_load(&peak);
        while (now > old && !atomic_compare_exchange_weak(&peak, &old, now))
            ;
        atomic_fetch_add(&calls, 1);
    }
    return p;
}

static void uncount(void *p)
{
    if (p != NULL)
        atomic_fetch_sub(&live, (long)malloc_usable_size(p));
}

void *footprint_malloc(size_t n) { return counted(malloc(n)); }
void *footprint_calloc(size_t k, size_t n) { return counted(calloc(k, n)); }
char *footprint_strdup(const char *s) { return counted(strdup(s)); }
char *footprint_strndup(const char *s, size_t n) { return counted(strndup(s, n)); }
void footprint_free(void *p)
{
    uncount(p);
    free(p);
}
void *footprint_realloc(void *p, size_t n)
{
    size_t old = p != NULL ? malloc_usable_size(p) : 0;
    void *q = realloc(p, n);
    if (q != NULL || n == 0) {
        atomic_fetch_sub(&live, (long)old);
        counted(q);
    }
    return q;
}

static long process_heap(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (long)mi.uordblks + (long)mi.hblkhd;
}

static pt_server server;

Test(footprint, one_client_and_one_pinned_request, .timeout = 60)
{
    pt_server_opts so = {.chain = "leaf-ec-chain.pem", .key = "leaf-ec.key", .name = "fw"};
    pincurl_policy_builder *b;
    pincurl_policy *p = NULL;
    pincurl_pin leaf, inter;
    pincurl_options *o;
    pincurl_client *c = NULL;
    pincurl_request *r;
    pincurl_response *resp = NULL;
    char entry[64], url[128];
    size_t i;
    long live0, heap0, client_live, client_heap, req_peak, req_retained, req_heap, policy_live;

    pt_server_start(&server, &so);
    pt_pki_pin("leaf-ec", &leaf);
    pt_pki_pin("inter", &inter);
    live0 = atomic_load(&live);
    b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    cr_assert_not_null(b);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "localhost", PINCURL_DOMAIN_ENFORCE, &i),
                 PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, i, &leaf), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, i, &inter), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_finish(b, &p, NULL), PINCURL_OK);
    pincurl_policy_builder_free(b);
    policy_live = atomic_load(&live) - live0;

    o = pincurl_options_new();
    snprintf(entry, sizeof entry, "localhost:%d:127.0.0.1", server.port);
    cr_assert_eq(pincurl_options_add_resolve(o, entry), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_ca_file(o, pt_pki("root.pem")), PINCURL_OK);
    /* libcurl's global state first, so that the client's share is its own */
    cr_assert_eq(pincurl_client_new(p, o, &c), PINCURL_OK);
    pincurl_client_free(c);
    c = NULL;

    live0 = atomic_load(&live);
    heap0 = process_heap();
    cr_assert_eq(pincurl_client_new(p, o, &c), PINCURL_OK);
    client_live = atomic_load(&live) - live0;
    client_heap = process_heap() - heap0;

    snprintf(url, sizeof url, "https://localhost:%d/", server.port);
    r = pincurl_request_new("GET", url);
    cr_assert_not_null(r);
    live0 = atomic_load(&live);
    atomic_store(&peak, live0);
    heap0 = process_heap();
    cr_assert_eq(pincurl_client_perform(c, r, &resp), PINCURL_OK);
    cr_assert_eq(pincurl_response_code(resp), 200);
    req_peak = atomic_load(&peak) - live0;
    pincurl_response_free(resp);
    pincurl_request_free(r);
    req_retained = atomic_load(&live) - live0;
    req_heap = process_heap() - heap0;

    {
        /* also into <build>/tests/firmware/footprint.txt, which tools/firmware.sh prints */
        FILE *outs[2] = {stdout, fopen(PINCURL_BINARY_DIR "/tests/firmware/footprint.txt", "w")};
        for (int k = 0; k < 2; k++) {
            if (outs[k] == NULL)
                continue;
            fprintf(outs[k], "footprint: policy (1 domain, 2 pins) %ld bytes\n", policy_live);
            fprintf(outs[k], "footprint: client %ld bytes from pincurl code (process heap +%ld)\n",
                    client_live, client_heap);
            fprintf(outs[k],
                    "footprint: pinned request peak %ld bytes from pincurl code, %ld kept by "
                    "the client afterwards (process heap +%ld kept, libcurl's connection and "
                    "TLS state included)\n",
                    req_peak, req_retained, req_heap);
            fflush(outs[k]);
        }
        if (outs[1] != NULL)
            fclose(outs[1]);
    }
    pincurl_client_free(c);
    pincurl_options_free(o);
    pincurl_policy_unref(p);
    pt_server_stop(&server);
    cr_expect_gt(client_live, 0);
    cr_expect_gt(req_peak, 0);
    cr_expect_lt(client_live + req_retained, 8192, "over the 8 KiB per client target");
}
