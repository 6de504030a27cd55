/*
 * Allocation failure through a pinned request, against real TLS servers on loopback.
 *
 * Every allocation of the process goes through fail_malloc.c. For k = 1, 2, ... the k-th
 * allocation after the start marker fails (or, in the exhausted variant, the k-th and all
 * later ones), while the run builds options and a client, performs
 * GET https://localhost:PORT/ and frees everything; the loop ends with the first run that
 * needs fewer than k allocations. pincurl's, libcurl's and the C library's allocations
 * fail in turn; the TLS library's own are spared (see every_failure for why).
 *  - Against a server whose chain matches a pin, every run either succeeds with a verdict
 *    that names the matching pin, or fails with a non-OK status.
 *  - Against a server with a valid chain that matches no pin, no run ever returns OK, and
 *    the server never receives a request byte.
 *  - No run leaks: every block allocated during a run is freed by its end.
 */
#include <criterion/criterion.h>
#include <execinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include "fail_malloc.h"
#include "pincurl/pincurl.h"
#include "pincurl/policy.h"
#include "servers.h"
#include "support.h"

/* With PINCURL_ALLOC_TRACE set, a crash prints the stack (for reproducing a report). */
static void crash_trace(int sig)
{
    void *frames[64];
    int n = backtrace(frames, 64);
    static const char msg[] = "crash backtrace:\n";
    fm_print_failed(stderr);
    fflush(stderr);
    (void)!write(2, msg, sizeof msg - 1);
    backtrace_symbols_fd(frames, n, 2);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void suite_init(void)
{
    if (getenv("PINCURL_ALLOC_TRACE") != NULL) {
        signal(SIGSEGV, crash_trace);
        signal(SIGABRT, crash_trace);
        signal(SIGBUS, crash_trace);
    }
}

TestSuite(alloc_request, .init = suite_init, .timeout = 600);

typedef struct run_result {
    int setup_failed;        /* options or client could not be made */
    pincurl_status st;       /* perform's status */
    int have_resp;
    long code;
    int verdict_present;
    pincurl_verdict verdict;
    size_t body_len;
    char body[64];
    long allocs;             /* allocations while armed */
    int hit;                 /* the failure was injected */
    long leaked;             /* blocks allocated during the run and not freed */
} run_result;

static void run_once(pincurl_policy *policy, int port, long k, int from_k, run_result *r)
{
    char ca[1024], resolve[128], url[128];
    snprintf(ca, sizeof ca, "%s", pt_pki("root.pem"));
    snprintf(resolve, sizeof resolve, "localhost:%d:127.0.0.1", port);
    snprintf(url, sizeof url, "https://localhost:%d/", port);
    memset(r, 0, sizeof *r);
    r->st = PINCURL_OK;

    if (from_k)
        fm_arm_from(k);
    else
        fm_arm(k);
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c = NULL;
    pincurl_request *req = NULL;
    pincurl_response *resp = NULL;
    if (o == NULL || pincurl_options_set_ca_file(o, ca) != PINCURL_OK ||
        pincurl_options_add_resolve(o, resolve) != PINCURL_OK ||
        pincurl_options_set_connect_timeout_ms(o, 5000) != PINCURL_OK ||
        pincurl_options_set_timeout_ms(o, 15000) != PINCURL_OK ||
        pincurl_client_new(policy, o, &c) != PINCURL_OK ||
        (req = pincurl_request_new("GET", url)) == NULL) {
        r->setup_failed = 1;
    } else {
        r->st = pincurl_client_perform(c, req, &resp);
        if (resp != NULL) {
            r->have_resp = 1;
            r->code = pincurl_response_code(resp);
            const pincurl_verdict *v = pincurl_response_verdict(resp);
            if (v != NULL) {
                r->verdict_present = 1;
                r->verdict = *v;
            }
            size_t len = 0;
            const unsigned char *body = pincurl_response_body(resp, &len);
            r->body_len = len;
            if (body != NULL)
                memcpy(r->body, body, len < sizeof r->body - 1 ? len : sizeof r->body - 1);
        }
    }
    pincurl_response_free(resp);
    pincurl_request_free(req);
    pincurl_client_free(c);
    pincurl_options_free(o);
    /* whatever the TLS library keeps per thread is freed, so a run's blocks are its own */
    pincurl_thread_cleanup();
    r->allocs = fm_disarm();
    r->hit = fm_hit();
    r->leaked = fm_outstanding();
}

static pincurl_policy *policy_for(const char *pin_a, const char *pin_b)
{
    char json[1024];
    snprintf(json, sizeof json,
             "{\"pincurl_policy\":1,\"domains\":{\"localhost\":{\"pins\":[\"%s\",\"%s\"]}}}",
             pin_a, pin_b);
    pincurl_policy *p = NULL;
    pincurl_diag d;
    cr_assert_eq(pincurl_policy_load_json(json, strlen(json), NULL, &p, &d), PINCURL_OK, "%s",
                 d.message);
    return p;
}

/* Runs k = 1.. until a run is not hit; returns the number of allocations of a full run.
 * matching: the server's chain carries pin `leaf`. from_k: allocation k and every later
 * one fail (memory stays exhausted), else only the k-th. */
static long every_failure(pincurl_policy *policy, pt_server *s, int matching,
                          const pincurl_pin *leaf, int from_k)
{
    run_result r;
    long problems = 0, ok_runs = 0, refused_runs = 0;

    /* wolfSSL (linked in statically) and libcurl are not spared: their allocations fail
     * in turn like pincurl's and the C library's. */
    /* With the distribution's libcurl (PINCURL_CURL=system) the TLS library is OpenSSL 3,
     * which keeps per-thread error queues and lazily fetched algorithm caches across
     * connections (freed only at exit), so its blocks cannot be told from leaks; it is
     * spared in the same way, and left out of the leak check (no effect when not loaded). */
    fm_spare_library("libssl.so", 0);
    fm_spare_library("libcrypto.so", 0);

    /* Warm-up, unarmed: one-time initialisation (curl_global_init, wolfSSL) happens here,
     * not inside a counted run. */
    run_once(policy, s->port, 0, 0, &r);
    cr_assert(r.setup_failed == 0, "warm-up could not set up");
    cr_assert_eq(r.st, matching ? PINCURL_OK : PINCURL_PIN_MISMATCH, "warm-up: %s",
                 pincurl_status_name(r.st));

    /* PINCURL_ALLOC_ONLY=k replays one run (to reproduce a report); PINCURL_ALLOC_TRACE=1
     * prints each k before its run, and records stacks: of leaked blocks, and of the
     * failed allocation when the run crashes. */
    const char *only = getenv("PINCURL_ALLOC_ONLY");
    const char *trace = getenv("PINCURL_ALLOC_TRACE");
    long first = only != NULL ? atol(only) : 1;
    if (only != NULL || trace != NULL)
        fm_backtraces(1);
    for (long k = first;; k++) {
        cr_assert_lt(k, 200000, "no end to the allocations");
        if (trace != NULL)
            fprintf(stderr, "run %ld\n", k);
        run_once(policy, s->port, k, from_k, &r);
        int ok = !r.setup_failed && r.st == PINCURL_OK;
        char what[256] = "";
        if (ok && !matching) {
            snprintf(what, sizeof what, "OK for a server whose pins do not match");
        } else if (ok) {
            pincurl_pin got = r.verdict.matched_pin;
            if (!r.verdict_present || r.verdict.result != PINCURL_RESULT_SUCCESS ||
                r.verdict.decision != PINCURL_DECISION_ALLOW || !r.verdict.pinned ||
                r.verdict.matched_depth != 0 || !pincurl_pin_equal(&got, leaf))
                snprintf(what, sizeof what, "OK without a verified pin");
            else if (r.code != 200 || r.body_len != strlen("hello from alloc") ||
                     memcmp(r.body, "hello from alloc", r.body_len) != 0)
                snprintf(what, sizeof what, "OK with code %ld and a wrong body", r.code);
        } else if (!r.setup_failed) {
            if (!r.have_resp && r.st != PINCURL_OUT_OF_MEMORY)
                snprintf(what, sizeof what, "no response object, status %s",
                         pincurl_status_name(r.st));
            else if (r.verdict_present && r.verdict.decision == PINCURL_DECISION_ALLOW &&
                     !matching)
                snprintf(what, sizeof what, "a mismatch verdict that allows");
        }
        if (r.leaked != 0 && what[0] == '\0')
            snprintf(what, sizeof what, "%ld blocks leaked", r.leaked);
        if (what[0] != '\0') {
            problems++;
            if (r.leaked != 0)
                fm_print_outstanding(stderr, 8);
            cr_log_error("%s server, allocation %ld%s of the run failed: %s (status %s)",
                         matching ? "matching" : "mismatching", k, from_k ? " and later" : "",
                         what,
                         r.setup_failed ? "setup" : pincurl_status_name(r.st));
        }
        if (ok)
            ok_runs++;
        else
            refused_runs++;
        if (only != NULL) {
            cr_assert_eq(problems, 0, "run %ld has a problem (see the log above)", k);
            cr_log_info("run %ld: status %s, %ld allocations, %s", k,
                        r.setup_failed ? "setup" : pincurl_status_name(r.st), r.allocs,
                        r.hit ? "failure injected" : "not reached");
            return r.allocs;
        }
        if (!r.hit) {
            /* The complete run: it needed k - 1 allocations and met no failure. */
            cr_assert(!r.setup_failed);
            cr_assert_eq(r.st, matching ? PINCURL_OK : PINCURL_PIN_MISMATCH,
                         "unconstrained run: %s", pincurl_status_name(r.st));
            cr_assert_eq(problems, 0, "%ld problem runs (see the log above)", problems);
            cr_log_info("%s server: %ld runs, %ld allocations in a full run, %ld OK, %ld "
                        "refused", matching ? "matching" : "mismatching", k, r.allocs,
                        ok_runs, refused_runs);
            return r.allocs;
        }
    }
}

static void pin_of(const char *file, char out[64], pincurl_pin *parsed)
{
    pt_openssl_cert_pin(pt_pki(file), out, 64);
    if (parsed != NULL)
        cr_assert_eq(pincurl_pin_parse(out, strlen(out), parsed), PINCURL_OK);
}

static void matching_case(int from_k)
{
    pt_server s;
    pt_server_opts so = {.chain = "leaf-ec-chain.pem", .key = "leaf-ec.key", .name = "alloc"};
    pt_server_start(&s, &so);
    char leaf[64], other[64];
    pincurl_pin leaf_pin;
    pin_of("leaf-ec.pem", leaf, &leaf_pin);
    pin_of("p256.pem", other, NULL);
    pincurl_policy *policy = policy_for(other, leaf);
    long n = every_failure(policy, &s, 1, &leaf_pin, from_k);
    cr_assert_gt(n, 50, "a TLS request with only %ld allocations is implausible", n);
    pincurl_policy_unref(policy);
    pt_server_stop(&s);
}

static void mismatching_case(int from_k)
{
    pt_server s;
    pt_server_opts so = {.chain = "leaf-backup-chain.pem", .key = "leaf-backup.key",
                         .name = "alloc"};
    pt_server_start(&s, &so);
    char leaf[64], other[64];
    pincurl_pin leaf_pin;
    pin_of("leaf-ec.pem", leaf, &leaf_pin); /* not the key this server holds */
    pin_of("p256.pem", other, NULL);
    pincurl_policy *policy = policy_for(leaf, other);
    long n = every_failure(policy, &s, 0, &leaf_pin, from_k);
    cr_assert_gt(n, 50);
    cr_assert(pt_server_wait_closed(&s, 5000));
    cr_assert_gt(pt_server_connections(&s), 0, "the client never reached the server");
    cr_assert_eq(pt_server_request_bytes(&s), 0, "request bytes reached a mismatching server");
    pincurl_policy_unref(policy);
    pt_server_stop(&s);
}

Test(alloc_request, matching_server_every_allocation_fails_in_turn)
{
    matching_case(0);
}

Test(alloc_request, mismatching_server_is_never_allowed)
{
    mismatching_case(0);
}

Test(alloc_request, matching_server_memory_exhausted_from_every_point)
{
    matching_case(1);
}

Test(alloc_request, mismatching_server_memory_exhausted_from_every_point_is_never_allowed)
{
    mismatching_case(1);
}
