/* The updater against real loopback TLS servers: requests from several threads while
 * updates apply (then pins that no longer match: PIN_MISMATCH for every request that
 * starts afterwards), and the fetcher against bundle_server.py: pinned fetch, ETag and 304,
 * backoff on 500, refused bundles, size cap, prompt stop. */
#include "servers.h"
#include "support.h"
#include "update_support.h"

#include "pincurl/policy.h"
#include "pincurl/update.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pincurl_policy *load(const char *json)
{
    pincurl_policy *p = NULL;
    pincurl_diag d;
    cr_assert_eq(pincurl_policy_load_json(json, strlen(json), NULL, &p, &d), PINCURL_OK, "%s",
                 d.message);
    return p;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- concurrent requests during updates ---------------------------------------------- */

#define THREADS 4

typedef struct worker {
    pthread_t thread;
    pincurl_client *client;
    char url[128];
    atomic_int *stop;
    atomic_int *bad_applied;
    int ok, mismatched, unexpected, after_ok;
    pincurl_status unexpected_status;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    while (!atomic_load(w->stop)) {
        int after = atomic_load(w->bad_applied);
        pincurl_request *r = pincurl_request_new("GET", w->url);
        pincurl_response *resp = NULL;
        if (r == NULL) {
            w->unexpected++;
            break;
        }
        pincurl_status st = pincurl_client_perform(w->client, r, &resp);
        if (st == PINCURL_OK && pincurl_response_code(resp) == 200) {
            w->ok++;
            if (after)
                w->after_ok++;
        } else if (st == PINCURL_PIN_MISMATCH) {
            w->mismatched++;
        } else {
            w->unexpected++;
            w->unexpected_status = st;
        }
        pincurl_response_free(resp);
        pincurl_request_free(r);
    }
    pt_thread_end();
    return NULL;
}

Test(live, concurrent_requests_while_updates_apply)
{
    pt_server srv;
    pt_server_opts so;
    ut_events ev;
    memset(&so, 0, sizeof so);
    so.chain = "leaf-ec-chain.pem";
    so.key = "leaf-ec.key";
    pt_server_start(&srv, &so);

    char *base_json = ut_policy_json("inter", "leaf-backup");
    char *good_a = ut_policy_json("leaf-ec", "leaf-backup");
    char *good_b = ut_policy_json("root", "leaf-backup");
    char *bad = ut_policy_json("leaf-backup", "rogue-root");
    pincurl_policy *base = load(base_json);
    ut_events_init(&ev);
    pincurl_client *c = ut_client(base, &ev);
    ut_key key = ut_key_new("live");
    pincurl_update_key pk = ut_key_public(&key);
    pincurl_updater *u = NULL;
    cr_assert_eq(pincurl_updater_new(c, &pk, 1, pt_tmpdir("live-state"), &u), PINCURL_OK);

    atomic_int stop = 0, bad_applied = 0;
    worker w[THREADS];
    memset(w, 0, sizeof w);
    for (int i = 0; i < THREADS; i++) {
        w[i].client = c;
        snprintf(w[i].url, sizeof w[i].url, "https://localhost:%d/", srv.port);
        w[i].stop = &stop;
        w[i].bad_applied = &bad_applied;
        cr_assert_eq(pthread_create(&w[i].thread, NULL, work, &w[i]), 0);
    }

    /* updates to pins that still match, while the threads perform */
    for (uint64_t seq = 1; seq <= 6; seq++) {
        size_t len = 0;
        unsigned char *b = ut_sign_now(&key, seq % 2 ? good_a : good_b, seq, &len);
        ut_sleep_ms(150);
        cr_assert_eq(pincurl_updater_apply(u, b, len), PINCURL_OK);
        pincurl_update_buffer_free(b);
    }
    ut_sleep_ms(200);
    cr_assert_eq(pincurl_client_generation(c), 7);

    /* then pins that do not match the server */
    size_t len = 0;
    unsigned char *b = ut_sign_now(&key, bad, 7, &len);
    cr_assert_eq(pincurl_updater_apply(u, b, len), PINCURL_OK);
    atomic_store(&bad_applied, 1);
    pincurl_update_buffer_free(b);
    ut_sleep_ms(500);
    atomic_store(&stop, 1);
    int ok = 0, mismatched = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(w[i].thread, NULL);
        cr_assert_eq(w[i].unexpected, 0, "thread %d: %d unexpected outcomes (last %s)", i,
                     w[i].unexpected, pincurl_status_name(w[i].unexpected_status));
        cr_assert_eq(w[i].after_ok, 0, "thread %d: a request after the update succeeded", i);
        ok += w[i].ok;
        mismatched += w[i].mismatched;
    }
    cr_assert_gt(ok, 12, "requests succeeded while good updates applied (%d)", ok);
    cr_assert_gt(mismatched, 0, "requests after the bad update were refused (%d)", mismatched);
    cr_assert_eq(ut_events_count(&ev, PINCURL_EVENT_UPDATE_APPLIED), 7);

    /* and one more request, from the main thread, for the exact status */
    pincurl_request *r = pincurl_request_new("GET", w[0].url);
    pincurl_response *resp = NULL;
    cr_assert_eq(pincurl_client_perform(c, r, &resp), PINCURL_PIN_MISMATCH);
    pincurl_response_free(resp);
    pincurl_request_free(r);

    pincurl_updater_free(u);
    pincurl_client_free(c);
    pincurl_policy_unref(base);
    free(base_json);
    free(good_a);
    free(good_b);
    free(bad);
    pt_server_stop(&srv);
}

/* ---- the fetcher --------------------------------------------------------------------- */

typedef struct fetch_fixture {
    ut_bundle_server srv;
    ut_events ev;
    pincurl_policy *base;
    pincurl_client *client;
    ut_key key;
    pincurl_updater *u;
    char url[128];
} fetch_fixture;

static void fetch_setup(fetch_fixture *f, const char *pin1, const char *pin2)
{
    char *json = ut_policy_json(pin1, pin2);
    ut_bundle_server_start(&f->srv, "leaf-ec-chain.pem", "leaf-ec.key");
    ut_events_init(&f->ev);
    f->base = load(json);
    free(json);
    f->client = ut_client(f->base, &f->ev);
    f->key = ut_key_new("fetch");
    pincurl_update_key pk = ut_key_public(&f->key);
    cr_assert_eq(pincurl_updater_new(f->client, &pk, 1, pt_tmpdir("fetch-state"), &f->u),
                 PINCURL_OK);
    snprintf(f->url, sizeof f->url, "https://localhost:%d/bundle", f->srv.port);
}

static void fetch_teardown(fetch_fixture *f)
{
    pincurl_updater_free(f->u);
    pincurl_client_free(f->client);
    pincurl_policy_unref(f->base);
    ut_bundle_server_stop(&f->srv);
}

/* Writes a signed bundle with a policy that still pins the server, as the served file. */
static void serve(fetch_fixture *f, uint64_t seq)
{
    char *json = ut_policy_json(seq % 2 ? "leaf-ec" : "inter", "leaf-backup");
    size_t len = 0;
    unsigned char *b = ut_sign_now(&f->key, json, seq, &len);
    pt_write_file(f->srv.file, b, len);
    pincurl_update_buffer_free(b);
    free(json);
}

static void set_failing(fetch_fixture *f, int on)
{
    char path[1200];
    snprintf(path, sizeof path, "%s.fail", f->srv.file);
    if (on)
        pt_write_file(path, "", 0);
    else
        cr_assert_eq(unlink(path), 0);
}

static pincurl_update_fetch_stats stats(fetch_fixture *f)
{
    pincurl_update_fetch_stats s;
    cr_assert_eq(pincurl_updater_fetch_stats(f->u, &s), PINCURL_OK);
    return s;
}

Test(fetcher, fetch_applies_then_304_with_etag)
{
    fetch_fixture f;
    fetch_setup(&f, "inter", "leaf-backup");
    serve(&f, 1);

    cr_assert_eq(pincurl_updater_fetch(f.u, f.url), PINCURL_OK);
    cr_assert_eq(pincurl_updater_sequence(f.u), 1);
    cr_assert_eq(ut_events_count(&f.ev, PINCURL_EVENT_UPDATE_APPLIED), 1);
    cr_assert_eq(ut_bundle_server_requests(&f.srv, 200, "-"), 1);

    /* unchanged: a conditional request and 304 */
    cr_assert_eq(pincurl_updater_fetch(f.u, f.url), PINCURL_OK);
    cr_assert_eq(ut_bundle_server_requests(&f.srv, 304, ""), 1);
    cr_assert_eq(pincurl_client_generation(f.client), 2);
    pincurl_update_fetch_stats s = stats(&f);
    cr_assert_eq(s.polls, 2);
    cr_assert_eq(s.applied, 1);
    cr_assert_eq(s.not_modified, 1);
    cr_assert_eq(s.failures, 0);

    /* a new bundle: 200 again, applied */
    serve(&f, 2);
    cr_assert_eq(pincurl_updater_fetch(f.u, f.url), PINCURL_OK);
    cr_assert_eq(pincurl_updater_sequence(f.u), 2);
    cr_assert_eq(ut_bundle_server_requests(&f.srv, 200, ""), 1, "sent If-None-Match, got 200");
    cr_assert_eq(pincurl_client_generation(f.client), 3);
    fetch_teardown(&f);
}

Test(fetcher, fetch_is_pinned_by_the_policy_in_force)
{
    fetch_fixture f;
    fetch_setup(&f, "leaf-backup", "rogue-root");
    serve(&f, 1);
    cr_assert_eq(pincurl_updater_fetch(f.u, f.url), PINCURL_PIN_MISMATCH);
    cr_assert_eq(pincurl_updater_sequence(f.u), 0);
    cr_assert_eq(ut_bundle_server_requests(&f.srv, 0, NULL), 0, "no request reached the server");
    cr_assert_eq(stats(&f).failures, 1);
    cr_assert_eq(pincurl_updater_last_error(f.u, NULL, 0), PINCURL_PIN_MISMATCH);
    fetch_teardown(&f);
}

/* The application's client, following redirects, trusting the PKI file ca, and an updater
 * on it keeping its state in the temporary directory state. */
static void redirecting_updater(fetch_fixture *f, const char *ca, const char *state,
                                pincurl_client **c, pincurl_updater **u)
{
    pincurl_options *o = pincurl_options_new();
    pincurl_update_key pk = ut_key_public(&f->key);
    cr_assert_not_null(o);
    cr_assert_eq(pincurl_options_set_ca_file(o, pt_pki(ca)), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_max_redirects(o, 5), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_timeout_ms(o, 10000), PINCURL_OK);
    cr_assert_eq(pincurl_client_new(f->base, o, c), PINCURL_OK);
    pincurl_options_free(o);
    cr_assert_eq(pincurl_updater_new(*c, &pk, 1, pt_tmpdir(state), u), PINCURL_OK);
}

Test(fetcher, every_hop_of_a_fetch_is_https)
{
    /* the application's client follows redirects; the update server answers 302 to an
     * http:// copy of the bundle (a listener that records what reaches it) */
    fetch_fixture f;
    pt_sniffer sn;
    pincurl_client *c = NULL;
    pincurl_updater *u = NULL;
    char url[256];

    fetch_setup(&f, "inter", "leaf-backup");
    serve(&f, 1);
    pt_sniffer_start(&sn, NULL);
    redirecting_updater(&f, "root.pem", "hop-state", &c, &u);
    {
        /* an ordinary GET first: the client keeps its handle configured for such requests
         * (http and https); the fetch must not inherit that */
        pincurl_request *r = pincurl_request_new("GET", f.url);
        pincurl_response *resp = NULL;
        cr_assert_not_null(r);
        cr_assert_eq(pincurl_client_perform(c, r, &resp), PINCURL_OK, "%s",
                     resp != NULL ? pincurl_response_detail(resp) : "");
        pincurl_response_free(resp);
        pincurl_request_free(r);
    }

    snprintf(url, sizeof url, "https://localhost:%d/redirect?to=http://127.0.0.1:%d/bundle",
             f.srv.port, sn.port);
    cr_assert_neq(pincurl_updater_fetch(u, url), PINCURL_OK);
    cr_assert_eq(pincurl_updater_sequence(u), 0, "a bundle fetched over http was applied");
    cr_assert_eq(pt_sniffer_connections(&sn, NULL, 0), 0, "the http:// hop connected");
    /* an https:// hop is followed */
    snprintf(url, sizeof url, "https://localhost:%d/redirect?to=https://localhost:%d/bundle",
             f.srv.port, f.srv.port);
    cr_assert_eq(pincurl_updater_fetch(u, url), PINCURL_OK);
    cr_assert_eq(pincurl_updater_sequence(u), 1);

    pincurl_updater_free(u);
    pincurl_client_free(c);
    pt_sniffer_stop(&sn);
    fetch_teardown(&f);
}

/* A redirect to another https:// peer holding a certificate from a root the device trusts
 * (an interceptor) whose key matches none of the host's pins: refused in its handshake,
 * nothing applied, no request byte reaches it. */
Test(fetcher, a_hop_to_an_https_peer_failing_the_pins_is_refused)
{
    fetch_fixture f;
    pt_server icpt;
    pt_server_opts so;
    pincurl_client *c = NULL;
    pincurl_updater *u = NULL;
    char url[256];

    fetch_setup(&f, "inter", "leaf-backup");
    serve(&f, 1);
    memset(&so, 0, sizeof so);
    so.chain = "rogue-leaf.pem";
    so.key = "rogue-leaf.key";
    so.name = "interceptor";
    pt_server_start(&icpt, &so);
    redirecting_updater(&f, "cas.pem", "hop-pins-state", &c, &u);

    snprintf(url, sizeof url, "https://localhost:%d/redirect?to=https://localhost:%d/bundle",
             f.srv.port, icpt.port);
    cr_assert_eq(pincurl_updater_fetch(u, url), PINCURL_PIN_MISMATCH);
    cr_assert_eq(pincurl_updater_sequence(u), 0);
    cr_assert(pt_server_wait_closed(&icpt, 5000));
    cr_assert_gt(pt_server_connections(&icpt), (long)0, "the hop was never tried");
    cr_assert_eq(pt_server_request_bytes(&icpt), 0, "the request reached the interceptor");

    pincurl_updater_free(u);
    pincurl_client_free(c);
    pt_server_stop(&icpt);
    fetch_teardown(&f);
}

Test(fetcher, refused_and_oversized_bundles)
{
    fetch_fixture f;
    fetch_setup(&f, "inter", "leaf-backup");
    /* signed by an unknown key: rejected, and its ETag is not kept */
    ut_key other = ut_key_new("other");
    char *json = ut_policy_json("inter", "leaf-backup");
    size_t len = 0;
    unsigned char *b = ut_sign_now(&other, json, 1, &len);
    pt_write_file(f.srv.file, b, len);
    cr_assert_eq(pincurl_updater_fetch(f.u, f.url), PINCURL_UPDATE_UNKNOWN_KEY);
    cr_assert_eq(ut_events_status(&f.ev, PINCURL_EVENT_UPDATE_REJECTED),
                 PINCURL_UPDATE_UNKNOWN_KEY);
    cr_assert_eq(pincurl_updater_fetch(f.u, f.url), PINCURL_UPDATE_UNKNOWN_KEY);
    cr_assert_eq(ut_bundle_server_requests(&f.srv, 200, "-"), 2);
    pincurl_update_buffer_free(b);
    free(json);

    /* larger than any bundle: the download is cut off */
    size_t big = PINCURL_UPDATE_MAX_BYTES + 4096;
    unsigned char *junk = calloc(1, big);
    cr_assert_not_null(junk);
    pt_write_file(f.srv.file, junk, big);
    free(junk);
    cr_assert_eq(pincurl_updater_fetch(f.u, f.url), PINCURL_UPDATE_TOO_LARGE);

    /* a 404 */
    cr_assert_eq(unlink(f.srv.file), 0);
    cr_assert_eq(pincurl_updater_fetch(f.u, f.url), PINCURL_UPDATE_FETCH_FAILED);
    cr_assert_eq(pincurl_client_generation(f.client), 1);
    cr_assert_eq(stats(&f).failures, 4);
    fetch_teardown(&f);
}

Test(fetcher, thread_backs_off_on_500_then_polls_with_304)
{
    fetch_fixture f;
    fetch_setup(&f, "inter", "leaf-backup");
    set_failing(&f, 1);
    serve(&f, 1);
    cr_assert_eq(pincurl_updater_start(f.u, f.url, 300, 100, 800), PINCURL_OK);
    cr_assert_eq(pincurl_updater_start(f.u, f.url, 300, 100, 800), PINCURL_INVALID_ARGUMENT);

    /* 500s: waits of 100, 200, 400, 800, 800 ms */
    for (int i = 0; i < 600 && ut_bundle_server_requests(&f.srv, 500, NULL) < 6; i++)
        ut_sleep_ms(10);
    cr_assert_geq(ut_bundle_server_requests(&f.srv, 500, NULL), 6);
    double t[7];
    for (int i = 1; i <= 6; i++)
        t[i] = ut_bundle_server_request_time(&f.srv, i);
    static const double expect[] = {0, 0, 0.1, 0.2, 0.4, 0.8, 0.8};
    for (int i = 2; i <= 6; i++) {
        double gap = t[i] - t[i - 1];
        cr_assert_geq(gap, expect[i] * 0.9, "gap %d: %.3f s, expected %.1f", i, gap, expect[i]);
        cr_assert_lt(gap, expect[i] + 1.0, "gap %d: %.3f s, expected %.1f", i, gap, expect[i]);
    }
    pincurl_update_fetch_stats s = stats(&f);
    cr_assert_geq(s.consecutive_failures, 5);
    cr_assert_eq(s.next_delay_ms, 800);
    cr_assert_eq(s.last_status, PINCURL_UPDATE_FETCH_FAILED);
    cr_assert_eq(pincurl_updater_sequence(f.u), 0);

    /* the server recovers: the bundle is applied, then 304s every interval */
    set_failing(&f, 0);
    for (int i = 0; i < 300 && ut_bundle_server_requests(&f.srv, 304, "") < 2; i++)
        ut_sleep_ms(10);
    cr_assert_geq(ut_bundle_server_requests(&f.srv, 304, ""), 2);
    cr_assert_eq(ut_bundle_server_requests(&f.srv, 200, NULL), 1);
    cr_assert_eq(pincurl_updater_sequence(f.u), 1);
    s = stats(&f);
    cr_assert_eq(s.consecutive_failures, 0);
    cr_assert_eq(s.next_delay_ms, 300);
    cr_assert_eq(s.applied, 1);

    double t0 = now_s();
    pincurl_updater_stop(f.u);
    cr_assert_lt(now_s() - t0, 2.0, "stop waited %.3f s", now_s() - t0);
    int n = ut_bundle_server_requests(&f.srv, 0, NULL);
    ut_sleep_ms(700);
    cr_assert_eq(ut_bundle_server_requests(&f.srv, 0, NULL), n, "no poll after stop");
    fetch_teardown(&f);
}

Test(fetcher, stop_is_prompt_during_a_long_interval)
{
    fetch_fixture f;
    fetch_setup(&f, "inter", "leaf-backup");
    serve(&f, 1);
    cr_assert_eq(pincurl_updater_start(f.u, f.url, 3600L * 1000, 1000, 60000), PINCURL_OK);
    for (int i = 0; i < 500 && pincurl_updater_sequence(f.u) == 0; i++)
        ut_sleep_ms(10);
    cr_assert_eq(pincurl_updater_sequence(f.u), 1);
    double t0 = now_s();
    pincurl_updater_stop(f.u);
    cr_assert_lt(now_s() - t0, 0.5, "stop waited %.3f s", now_s() - t0);
    /* and it can start again */
    cr_assert_eq(pincurl_updater_start(f.u, f.url, 3600L * 1000, 1000, 60000), PINCURL_OK);
    fetch_teardown(&f); /* free stops it */
}
