/*
 * Threads that come and go: an application (or a binding) that runs each request on a new
 * thread, with a new connection, must not grow. The bundled wolfSSL is built without
 * per-thread caches; nothing here calls pincurl_thread_cleanup(), so the test fails on a
 * TLS library that keeps per-thread state (Debian's own wolfSSL grew by 3 MB a thread).
 */
#include "servers.h"
#include "support.h"

#include <criterion/criterion.h>
#include <pincurl/pincurl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADS 200
#define WARM_UP 10
#define MAX_GROWTH_BYTES (10L * 1024 * 1024)

static pt_server server;

static void teardown(void)
{
    pt_server_stop(&server);
}

TestSuite(threads, .fini = teardown, .timeout = 600);

typedef struct job {
    pincurl_policy *policy;
    char url[128];
    pincurl_status st;
    long code;
} job;

static long rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    cr_assert_not_null(f);
    cr_assert_eq(fscanf(f, "%ld %ld", &pages, &resident), 2);
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

/* One request on a client of its own: a new connection, a full handshake. */
static void *one_request(void *arg)
{
    job *j = arg;
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c = NULL;
    pincurl_request *r = pincurl_request_new("GET", j->url);
    pincurl_response *resp = NULL;

    j->st = PINCURL_INTERNAL;
    if (o != NULL && r != NULL && pincurl_options_set_ca_file(o, pt_pki("root.pem")) == PINCURL_OK &&
        pincurl_client_new(j->policy, o, &c) == PINCURL_OK) {
        j->st = pincurl_client_perform(c, r, &resp);
        j->code = pincurl_response_code(resp);
    }
    pincurl_response_free(resp);
    pincurl_request_free(r);
    pincurl_client_free(c);
    pincurl_options_free(o);
    return NULL;
}

Test(threads, a_new_thread_per_request_keeps_memory_flat)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    cr_skip_test("the sanitizers' allocators keep freed memory (quarantine)");
#endif
    if (getenv("PINCURL_TEST_EMULATED") != NULL)
        cr_skip_test("under qemu-user the process's size is the emulator's (its translated "
                     "code grows with every new thread)");
    pt_server_opts so = {.chain = "leaf-ec-chain.pem", .key = "leaf-ec.key", .name = "t"};
    pt_server_start(&server, &so);
    job j;
    memset(&j, 0, sizeof j);
    j.policy = pt_policy_exact("localhost", "inter", "leaf-backup");
    snprintf(j.url, sizeof j.url, "https://localhost:%d/", server.port);

    long after_warm_up = 0, peak = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_t t;
        cr_assert_eq(pthread_create(&t, NULL, one_request, &j), 0);
        cr_assert_eq(pthread_join(t, NULL), 0);
        cr_assert_eq(j.st, PINCURL_OK, "request %d: %s", i, pincurl_status_name(j.st));
        cr_assert_eq(j.code, 200);
        long now = rss_bytes();
        if (i + 1 == WARM_UP)
            after_warm_up = now;
        if (now > peak)
            peak = now;
    }
    long full = 0, resumed = 0;
    pt_server_handshakes(&server, &full, &resumed);
    cr_assert_eq(full, THREADS, "every request made a new connection with a full handshake");
    cr_log_info("RSS after %d threads: %ld KiB; peak after all %d: %ld KiB (growth %ld KiB)",
                WARM_UP, after_warm_up / 1024, THREADS, peak / 1024,
                (peak - after_warm_up) / 1024);
    cr_assert_leq(peak - after_warm_up, MAX_GROWTH_BYTES,
                  "the process grew by %ld KiB over %d threads after the first %d",
                  (peak - after_warm_up) / 1024, THREADS - WARM_UP, WARM_UP);
    pincurl_policy_unref(j.policy);
}
