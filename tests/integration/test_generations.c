/* Pins that hold for every request: policy generations against kept-alive connections and
 * resumed TLS 1.2 and 1.3 sessions, on the client and on an attached handle; many threads
 * while the policy changes. Against the loopback HTTPS server, whose log tells full
 * handshakes from resumed ones and counts every decrypted request byte. */
#include "servers.h"
#include "support.h"

#include "pincurl/client.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Pins: "inter" and "root" match the genuine chain, "leaf-backup" is the backup key (not
 * on the path), "rogue-root" matches nothing the genuine server has. */
static pincurl_policy *matching(void)
{
    return pt_policy_exact("localhost", "inter", "leaf-backup");
}

static pincurl_policy *matching_other(void)
{
    return pt_policy_exact("localhost", "root", "leaf-backup");
}

static pincurl_policy *mismatching(void)
{
    return pt_policy_exact("localhost", "leaf-backup", "rogue-root");
}

static pt_server start(int tls_max)
{
    pt_server s;
    pt_server_opts o;
    memset(&o, 0, sizeof(o));
    o.chain = "leaf-ec-chain.pem";
    o.key = "leaf-ec.key";
    o.name = "gen";
    o.tls_max = tls_max;
    pt_server_start(&s, &o);
    return s;
}

static pincurl_client *client_for(pincurl_policy *p, pincurl_event_cb cb, void *user)
{
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c = NULL;
    cr_assert_not_null(o);
    cr_assert_eq(pincurl_options_set_ca_file(o, pt_pki("root.pem")), PINCURL_OK);
    if (cb != NULL)
        cr_assert_eq(pincurl_options_set_event_callback(o, cb, user), PINCURL_OK);
    cr_assert_eq(pincurl_client_new(p, o, &c), PINCURL_OK);
    pincurl_options_free(o);
    return c;
}

/* GET / on the server; close_after asks for "Connection: close", so that the next request
 * needs a new connection (and resumes the session, when there is one). */
static pincurl_status get(pincurl_client *c, const pt_server *s, int close_after,
                          pincurl_response **out)
{
    char url[128];
    pincurl_request *r;
    pincurl_response *resp = NULL;
    pincurl_status st;

    snprintf(url, sizeof(url), "https://localhost:%d/", s->port);
    r = pincurl_request_new("GET", url);
    cr_assert_not_null(r);
    if (close_after)
        cr_assert_eq(pincurl_request_add_header(r, "Connection: close"), PINCURL_OK);
    st = pincurl_client_perform(c, r, &resp);
    pincurl_request_free(r);
    if (out != NULL)
        *out = resp;
    else
        pincurl_response_free(resp);
    return st;
}

static void expect_ok(pincurl_client *c, const pt_server *s, int close_after)
{
    pincurl_response *resp = NULL;
    pincurl_status st = get(c, s, close_after, &resp);
    cr_assert_eq(st, PINCURL_OK, "%s: %s", pincurl_status_name(st),
                 pincurl_response_detail(resp));
    cr_assert_eq(pincurl_response_code(resp), 200);
    pincurl_response_free(resp);
}

/* The request is refused with PIN_MISMATCH and the server got no request byte for it. */
static void expect_refused(pincurl_client *c, pt_server *s)
{
    pincurl_response *resp = NULL;
    long before;
    pincurl_status st;

    before = pt_server_request_bytes(s);
    st = get(c, s, 0, &resp);
    cr_assert_eq(st, PINCURL_PIN_MISMATCH, "%s: %s", pincurl_status_name(st),
                 pincurl_response_detail(resp));
    cr_assert(strstr(pincurl_response_detail(resp), "Certificate pinning failure!") != NULL,
              "%s", pincurl_response_detail(resp));
    pincurl_response_free(resp);
    cr_assert(pt_server_wait_closed(s, 3000), "the server still has open connections");
    cr_assert_eq(pt_server_request_bytes(s), before,
                 "the server received request bytes after the policy change");
}

static void handshakes(const pt_server *s, long *full, long *resumed)
{
    /* the server logs a handshake when it completes; give its thread a moment */
    for (int i = 0; i < 100; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        pt_server_handshakes(s, full, resumed);
        if (*full + *resumed >= pt_server_connections(s))
            return;
        nanosleep(&ts, NULL);
    }
}

/* ---- kept-alive connections --------------------------------------------------------- */

Test(generations, kept_alive_connection_is_not_reused_under_a_mismatching_policy)
{
    pt_server s = start(13);
    pincurl_policy *good = matching(), *bad = mismatching();
    pincurl_client *c = client_for(good, NULL, NULL);

    cr_assert_eq(pincurl_client_generation(c), 1);
    expect_ok(c, &s, 0);
    expect_ok(c, &s, 0);
    cr_assert_eq(pt_server_connections(&s), 1, "the second request should reuse the first");

    cr_assert_eq(pincurl_client_set_policy(c, bad), PINCURL_OK);
    cr_assert_eq(pincurl_client_generation(c), 2);
    expect_refused(c, &s);
    cr_assert_eq(pt_server_connections(&s), 2, "the kept-alive connection was reused");

    pincurl_client_free(c);
    pincurl_policy_unref(good);
    pincurl_policy_unref(bad);
    pt_server_stop(&s);
}

Test(generations, kept_alive_connection_is_retired_under_a_matching_policy)
{
    pt_server s = start(13);
    pincurl_policy *good = matching(), *other = matching_other();
    pincurl_client *c = client_for(good, NULL, NULL);
    pincurl_response *resp = NULL;
    pincurl_pin root;

    expect_ok(c, &s, 0);
    cr_assert_eq(pincurl_client_set_policy(c, other), PINCURL_OK);
    cr_assert_eq(get(c, &s, 0, &resp), PINCURL_OK, "%s", pincurl_response_detail(resp));
    /* decided by the new generation: it matched the root, which only it pins */
    pt_pki_pin("root", &root);
    cr_assert_eq(pincurl_response_verdict(resp)->matched_depth, 2);
    cr_assert(pincurl_pin_equal(&pincurl_response_verdict(resp)->matched_pin, &root));
    pincurl_response_free(resp);
    cr_assert_eq(pt_server_connections(&s), 2, "a connection of the old generation was reused");
    /* and the new generation's connection is kept alive in turn */
    expect_ok(c, &s, 0);
    cr_assert_eq(pt_server_connections(&s), 2);

    pincurl_client_free(c);
    pincurl_policy_unref(good);
    pincurl_policy_unref(other);
    pt_server_stop(&s);
}

/* ---- resumed sessions --------------------------------------------------------------- */

static void resumption_case(int tls_max)
{
    pt_server s = start(tls_max);
    pincurl_policy *good = matching(), *bad = mismatching(), *other = matching_other();
    pincurl_client *c = client_for(good, NULL, NULL);
    long full = 0, resumed = 0;

    /* a full handshake, then a new connection that resumes its session */
    expect_ok(c, &s, 1);
    expect_ok(c, &s, 1);
    handshakes(&s, &full, &resumed);
    cr_assert_eq(full, 1, "full handshakes: %ld", full);
    cr_assert_eq(resumed, 1, "the session was not resumed (TLS 1.%d)", tls_max - 10);

    /* a policy that no longer matches: no session of the old generation is resumed */
    cr_assert_eq(pincurl_client_set_policy(c, bad), PINCURL_OK);
    expect_refused(c, &s);
    handshakes(&s, &full, &resumed);
    cr_assert_eq(resumed, 1, "a session of the old generation was resumed");

    /* a policy that matches again: requests succeed and resume within the generation */
    cr_assert_eq(pincurl_client_set_policy(c, other), PINCURL_OK);
    expect_ok(c, &s, 1);
    expect_ok(c, &s, 1);
    expect_ok(c, &s, 1);
    handshakes(&s, &full, &resumed);
    cr_assert_eq(resumed, 3, "resumed handshakes: %ld (TLS 1.%d)", resumed, tls_max - 10);

    pincurl_client_free(c);
    pincurl_policy_unref(good);
    pincurl_policy_unref(bad);
    pincurl_policy_unref(other);
    pt_server_stop(&s);
}

Test(generations, resumed_tls13_session_is_refused_after_a_mismatching_change)
{
    resumption_case(13);
}

Test(generations, resumed_tls12_session_is_refused_after_a_mismatching_change)
{
    resumption_case(12);
}

/* A resumed session skips the verify callback; the request check decides it again from the
 * validated path this client recorded, and raises a validation event for it. */
typedef struct counts {
    atomic_int validations;
    atomic_int allowed;
    atomic_int changes;
} counts;

static void count_event(const pincurl_event *ev, void *user)
{
    counts *n = user;
    if (pincurl_event_get_kind(ev) == PINCURL_EVENT_POLICY_CHANGED) {
        atomic_fetch_add(&n->changes, 1);
        return;
    }
    if (pincurl_event_get_kind(ev) != PINCURL_EVENT_VALIDATION)
        return;
    atomic_fetch_add(&n->validations, 1);
    if (pincurl_event_decision(ev) == PINCURL_DECISION_ALLOW)
        atomic_fetch_add(&n->allowed, 1);
    cr_assert_eq(pincurl_event_path_count(ev), 3);
    cr_assert_neq(pincurl_event_generation(ev), 0);
}

Test(generations, resumed_session_is_decided_again_and_reported)
{
    pt_server s = start(13);
    pincurl_policy *good = matching();
    counts n;
    pincurl_client *c;
    long full = 0, resumed = 0;

    memset(&n, 0, sizeof(n));
    c = client_for(good, count_event, &n);
    expect_ok(c, &s, 1);
    expect_ok(c, &s, 1);
    handshakes(&s, &full, &resumed);
    cr_assert_eq(resumed, 1);
    cr_assert_eq(atomic_load(&n.validations), 2, "one event per handshake, resumed included");
    cr_assert_eq(atomic_load(&n.allowed), 2);
    pincurl_client_free(c);
    pincurl_policy_unref(good);
    pt_server_stop(&s);
}

/* ---- an attached handle ------------------------------------------------------------- */

Test(generations, attached_kept_alive_connection_is_decided_again_under_a_new_policy)
{
    pt_server s = start(13);
    pincurl_policy *good = matching(), *bad = mismatching(), *other = matching_other();
    pincurl_client *c = client_for(good, NULL, NULL);
    pincurl_attachment *a = NULL;
    char url[128];
    CURL *e = curl_easy_init();
    CURLcode rc;
    long before;

    cr_assert_not_null(e);
    snprintf(url, sizeof(url), "https://localhost:%d/", s.port);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CAINFO, pt_pki("root.pem"));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, (curl_write_callback)NULL);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, stderr);
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    cr_assert_eq(pincurl_attach(c, e, &a), PINCURL_OK);

    rc = curl_easy_perform(e);
    cr_assert_eq(pincurl_attachment_status(a, (int)rc), PINCURL_OK, "%s",
                 pincurl_attachment_detail(a));

    /* the policy changes to one the connection's path does not match: the kept-alive
     * connection is refused before the request is sent */
    cr_assert_eq(pincurl_client_set_policy(c, bad), PINCURL_OK);
    before = pt_server_request_bytes(&s);
    rc = curl_easy_perform(e);
    cr_assert_neq(rc, CURLE_OK);
    cr_assert_eq(pincurl_attachment_status(a, (int)rc), PINCURL_PIN_MISMATCH, "%s",
                 pincurl_attachment_detail(a));
    cr_assert(pt_server_wait_closed(&s, 3000));
    cr_assert_eq(pt_server_request_bytes(&s), before);

    /* and a matching one lets the next request through */
    cr_assert_eq(pincurl_client_set_policy(c, other), PINCURL_OK);
    rc = curl_easy_perform(e);
    cr_assert_eq(pincurl_attachment_status(a, (int)rc), PINCURL_OK, "%s",
                 pincurl_attachment_detail(a));

    pincurl_detach(a);
    curl_easy_cleanup(e);
    pincurl_client_free(c);
    pincurl_policy_unref(good);
    pincurl_policy_unref(bad);
    pincurl_policy_unref(other);
    pt_server_stop(&s);
}

/* ---- threads and swaps -------------------------------------------------------------- */

#define SWAP_THREADS 8
#define SWAP_REQUESTS 40

typedef struct swap_ctx {
    pincurl_client *client;
    const pt_server *server;
    atomic_int ok;
    atomic_int wrong;
    pthread_mutex_t lock;
    char first_failure[1024]; /* status and detail of the first failed request */
} swap_ctx;

static void *swap_worker(void *arg)
{
    swap_ctx *x = arg;
    for (int i = 0; i < SWAP_REQUESTS; i++) {
        pincurl_response *resp = NULL;
        /* every policy swapped in matches: every request must succeed */
        pincurl_status st = get(x->client, x->server, i % 3 == 0, &resp);
        /* (a request on a kept-alive connection validated nothing: no verdict) */
        if (st == PINCURL_OK && pincurl_response_code(resp) == 200 &&
            (pincurl_response_verdict(resp) == NULL ||
             pincurl_response_verdict(resp)->result == PINCURL_RESULT_SUCCESS)) {
            atomic_fetch_add(&x->ok, 1);
        } else {
            atomic_fetch_add(&x->wrong, 1);
            pthread_mutex_lock(&x->lock);
            if (x->first_failure[0] == '\0')
                snprintf(x->first_failure, sizeof(x->first_failure), "%s (HTTP %ld): %s",
                         pincurl_status_name(st), pincurl_response_code(resp),
                         pincurl_response_detail(resp));
            pthread_mutex_unlock(&x->lock);
        }
        pincurl_response_free(resp);
    }
    pt_thread_end();
    return NULL;
}

Test(generations, threads_share_a_client_while_its_policy_changes, .timeout = 240)
{
    pt_server s = start(13);
    pincurl_policy *a = matching(), *b = matching_other();
    counts n;
    pincurl_client *c;
    pthread_t th[SWAP_THREADS];
    swap_ctx x;
    int swaps = 0;

    memset(&n, 0, sizeof(n));
    c = client_for(a, count_event, &n);
    memset(&x, 0, sizeof(x));
    pthread_mutex_init(&x.lock, NULL);
    x.client = c;
    x.server = &s;
    for (int i = 0; i < SWAP_THREADS; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, swap_worker, &x), 0);
    while (atomic_load(&x.ok) + atomic_load(&x.wrong) < SWAP_THREADS * SWAP_REQUESTS &&
           swaps < 400) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        cr_assert_eq(pincurl_client_set_policy(c, swaps % 2 == 0 ? b : a), PINCURL_OK);
        swaps++;
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < SWAP_THREADS; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(atomic_load(&x.wrong), 0, "%d requests failed; the first: %s",
                 atomic_load(&x.wrong), x.first_failure);
    pthread_mutex_destroy(&x.lock);
    cr_assert_eq(atomic_load(&x.ok), SWAP_THREADS * SWAP_REQUESTS);
    cr_assert_geq(swaps, 2);
    cr_assert_eq(atomic_load(&n.changes), swaps);
    cr_assert_eq(pincurl_client_generation(c), (uint64_t)swaps + 1);

    pincurl_client_free(c);
    /* the client's references are gone: ours are the last */
    pincurl_policy_unref(a);
    pincurl_policy_unref(b);
    pt_server_stop(&s);
}

Test(generations, set_policy_arguments)
{
    pincurl_policy *p = matching();
    pincurl_client *c = client_for(p, NULL, NULL);
    cr_assert_eq(pincurl_client_set_policy(NULL, p), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_client_set_policy(c, NULL), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_client_generation(c), 1);
    cr_assert_eq(pincurl_client_generation(NULL), 0);
    /* setting the same policy again is a new generation all the same */
    cr_assert_eq(pincurl_client_set_policy(c, p), PINCURL_OK);
    cr_assert_eq(pincurl_client_generation(c), 2);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
}

/* ---- sessions after failures -------------------------------------------------------- */

static size_t abort_write(const void *data, size_t len, void *user)
{
    (void)data;
    (void)len;
    (void)user;
    return 0;
}

static size_t abort_read(void *buf, size_t size, void *user)
{
    (void)buf;
    (void)size;
    (void)user;
    return (size_t)-1;
}

/* A failed transfer's handle is not kept: wolfSSL 5.5 then offered the session of an
 * aborted transfer with a bad PSK binder, and the next request failed its handshake. */
Test(generations, aborted_transfers_leave_no_session_behind, .timeout = 120)
{
    pt_server s = start(13);
    pincurl_policy *good = matching();
    pincurl_client *c = client_for(good, NULL, NULL);
    char url[128];

    for (int round = 0; round < 5; round++) {
        pincurl_request *r;
        pincurl_response *resp = NULL;

        snprintf(url, sizeof(url), "https://localhost:%d/bytes?n=100000", s.port);
        r = pincurl_request_new("GET", url);
        cr_assert_eq(pincurl_request_set_write_callback(r, abort_write, NULL), PINCURL_OK);
        cr_assert_eq(pincurl_client_perform(c, r, &resp), PINCURL_ABORTED_BY_CALLBACK);
        pincurl_response_free(resp);
        pincurl_request_free(r);

        snprintf(url, sizeof(url), "https://localhost:%d/echo", s.port);
        r = pincurl_request_new("POST", url);
        cr_assert_eq(pincurl_request_set_body_callback(r, abort_read, NULL, 10), PINCURL_OK);
        cr_assert_eq(pincurl_client_perform(c, r, &resp), PINCURL_ABORTED_BY_CALLBACK);
        pincurl_response_free(resp);
        pincurl_request_free(r);

        expect_ok(c, &s, round % 2);
    }
    pincurl_client_free(c);
    pincurl_policy_unref(good);
    pt_server_stop(&s);
}
