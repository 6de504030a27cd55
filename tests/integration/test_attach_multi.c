/*
 * pincurl_attach on an application's own libcurl multi handle, over HTTP/2 against nginx:
 * attached handles of two clients side by side in one CURLM (one refused by its client's
 * pins, one allowed), and the request check running for every stream of a multiplexed
 * connection the application keeps across policy changes.
 *
 * The tests link the static library (the shared bundled libpincurl.so keeps its libcurl
 * hidden and refuses attach: docs/client.md).
 */
#include "servers.h"
#include "support.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pincurl/pincurl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pt_nginx nginx;

static void teardown(void)
{
    pt_nginx_stop(&nginx);
}

static void setup(void)
{
    if (!pt_nginx_available())
        cr_skip_test("nginx is not installed (tools/install-deps.sh installs it)");
}

TestSuite(attach_multi, .init = setup, .fini = teardown, .timeout = 120);

typedef struct events {
    atomic_long allowed;
    atomic_long refused;
} events;

static void on_event(const pincurl_event *ev, void *user)
{
    events *e = user;
    if (pincurl_event_get_kind(ev) != PINCURL_EVENT_VALIDATION)
        return;
    if (pincurl_event_decision(ev) == PINCURL_DECISION_ALLOW)
        atomic_fetch_add(&e->allowed, 1);
    else
        atomic_fetch_add(&e->refused, 1);
}

static pincurl_client *client_with(pincurl_policy *policy, events *ev)
{
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c = NULL;
    cr_assert_eq(pincurl_options_set_event_callback(o, on_event, ev), PINCURL_OK);
    cr_assert_eq(pincurl_client_new(policy, o, &c), PINCURL_OK);
    pincurl_options_free(o);
    return c;
}

static size_t discard(char *data, size_t size, size_t nmemb, void *user)
{
    (void)data;
    (void)user;
    return size * nmemb;
}

/* The application's own handle: its own options, HTTP/2, waiting for a multiplexed
 * connection, the test root trusted, localhost resolved to 127.0.0.1. */
static CURL *app_handle(const char *url, struct curl_slist *resolve)
{
    CURL *e = curl_easy_init();
    cr_assert_not_null(e);
    cr_assert_eq(curl_easy_setopt(e, CURLOPT_URL, url), CURLE_OK);
    cr_assert_eq(curl_easy_setopt(e, CURLOPT_CAINFO, pt_pki("root.pem")), CURLE_OK);
    cr_assert_eq(curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS),
                 CURLE_OK);
    cr_assert_eq(curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L), CURLE_OK);
    cr_assert_eq(curl_easy_setopt(e, CURLOPT_RESOLVE, resolve), CURLE_OK);
    cr_assert_eq(curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard), CURLE_OK);
    cr_assert_eq(curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L), CURLE_OK);
    return e;
}

/* Runs the multi until every handle in it is done; the result of each of handles[n]. */
static void run_all(CURLM *m, CURL **handles, size_t n, CURLcode *results)
{
    int running = 1;
    size_t done = 0;
    time_t end = time(NULL) + 60;
    for (size_t i = 0; i < n; i++)
        results[i] = CURLE_FAILED_INIT;
    while (done < n) {
        CURLMsg *msg;
        int left;
        cr_assert(time(NULL) < end, "transfers did not end");
        cr_assert_eq(curl_multi_perform(m, &running), CURLM_OK);
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            for (size_t i = 0; i < n; i++) {
                if (handles[i] == msg->easy_handle) {
                    results[i] = msg->data.result;
                    done++;
                }
            }
        }
        if (done < n)
            cr_assert_eq(curl_multi_poll(m, NULL, 0, 100, NULL), CURLM_OK);
    }
}

/* Two handles of the application in one CURLM, each attached to a client of its own: the
 * one whose client's pins do not match the server is refused in its handshake (nothing
 * sent), the other is allowed. */
Test(attach_multi, two_attached_handles_one_refused_one_allowed)
{
    pt_nginx_opts no = {.chain = "leaf-ec-chain.pem", .key = "leaf-ec.key"};
    pt_nginx_start(&nginx, &no);
    events eva, evb;
    memset(&eva, 0, sizeof eva);
    memset(&evb, 0, sizeof evb);
    pincurl_policy *allowing = pt_policy_exact("localhost", "inter", "leaf-backup");
    pincurl_policy *refusing = pt_policy_exact("127.0.0.1", "rogue-root", "rogue-leaf");
    pincurl_client *ca = client_with(allowing, &eva), *cb = client_with(refusing, &evb);
    char resolve_entry[64], url_a[128], url_b[128];
    snprintf(resolve_entry, sizeof resolve_entry, "localhost:%d:127.0.0.1", nginx.port);
    struct curl_slist *resolve = curl_slist_append(NULL, resolve_entry);
    snprintf(url_a, sizeof url_a, "https://localhost:%d/allowed", nginx.port);
    snprintf(url_b, sizeof url_b, "https://127.0.0.1:%d/refused", nginx.port);
    CURL *handles[2] = {app_handle(url_a, resolve), app_handle(url_b, resolve)};
    pincurl_attachment *att[2] = {NULL, NULL};
    cr_assert_eq(pincurl_attach(ca, handles[0], &att[0]), PINCURL_OK);
    cr_assert_eq(pincurl_attach(cb, handles[1], &att[1]), PINCURL_OK);

    CURLM *m = curl_multi_init();
    cr_assert_not_null(m);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(curl_multi_add_handle(m, handles[i]), CURLM_OK);
    CURLcode results[2];
    run_all(m, handles, 2, results);

    long code = 0, version = 0;
    cr_assert_eq(results[0], CURLE_OK, "%s", curl_easy_strerror(results[0]));
    cr_assert_eq(pincurl_attachment_status(att[0], results[0]), PINCURL_OK);
    curl_easy_getinfo(handles[0], CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(handles[0], CURLINFO_HTTP_VERSION, &version);
    cr_assert_eq(code, 200);
    cr_assert_eq(version, CURL_HTTP_VERSION_2_0);
    cr_assert_neq(results[1], CURLE_OK);
    cr_assert_eq(pincurl_attachment_status(att[1], results[1]), PINCURL_PIN_MISMATCH, "%s",
                 pincurl_attachment_detail(att[1]));
    cr_assert(strstr(pincurl_attachment_detail(att[1]), "127.0.0.1") != NULL);
    cr_assert_eq(atomic_load(&eva.allowed), 1);
    cr_assert_eq(atomic_load(&evb.refused), 1);
    cr_assert_eq(atomic_load(&evb.allowed), 0);

    for (int i = 0; i < 2; i++) {
        curl_multi_remove_handle(m, handles[i]);
        pincurl_detach(att[i]);
        curl_easy_cleanup(handles[i]);
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(resolve);
    pt_nginx_stop(&nginx); /* the access log is final */
    pt_nginx_request *r = NULL;
    size_t n = pt_nginx_requests(&nginx, &r);
    cr_assert_eq(n, 1, "%zu requests reached the server", n);
    cr_assert_str_eq(r[0].uri, "/allowed");
    cr_assert_str_eq(r[0].protocol, "HTTP/2.0");
    free(r);
    pincurl_client_free(ca);
    pincurl_client_free(cb);
    pincurl_policy_unref(allowing);
    pincurl_policy_unref(refusing);
}

#define STREAMS 10

/* One multiplexed connection the application's CURLM keeps across policy changes: every
 * stream passes the request check (CURLOPT_PREREQFUNCTION runs per transfer, in libcurl's
 * MSTATE_DO, so once per HTTP/2 stream). Under a policy that no longer matches, each
 * stream is refused on its own, on the open connection, before its request is sent; under
 * a matching policy again, the connection is decided again and its streams go on. */
Test(attach_multi, request_check_runs_for_every_stream)
{
    pt_nginx_opts no = {.chain = "leaf-ec-chain.pem", .key = "leaf-ec.key"};
    pt_nginx_start(&nginx, &no);
    events ev;
    memset(&ev, 0, sizeof ev);
    pincurl_policy *allowing = pt_policy_exact("localhost", "inter", "leaf-backup");
    pincurl_policy *refusing = pt_policy_exact("localhost", "rogue-root", "rogue-leaf");
    pincurl_client *c = client_with(allowing, &ev);
    char resolve_entry[64];
    snprintf(resolve_entry, sizeof resolve_entry, "localhost:%d:127.0.0.1", nginx.port);
    struct curl_slist *resolve = curl_slist_append(NULL, resolve_entry);
    CURL *handles[STREAMS];
    pincurl_attachment *att[STREAMS];
    CURLM *m = curl_multi_init();
    cr_assert_not_null(m);
    for (int i = 0; i < STREAMS; i++) {
        handles[i] = app_handle("https://localhost/", resolve);
        cr_assert_eq(pincurl_attach(c, handles[i], &att[i]), PINCURL_OK);
    }

    const char *rounds[3] = {"first", "refused", "again"};
    for (int round = 0; round < 3; round++) {
        CURLcode results[STREAMS];
        long before_allowed = atomic_load(&ev.allowed), before_refused = atomic_load(&ev.refused);
        if (round == 1)
            cr_assert_eq(pincurl_client_set_policy(c, refusing), PINCURL_OK);
        if (round == 2)
            cr_assert_eq(pincurl_client_set_policy(c, allowing), PINCURL_OK);
        for (int i = 0; i < STREAMS; i++) {
            char url[128];
            snprintf(url, sizeof url, "https://localhost:%d/%s?n=%d", nginx.port, rounds[round],
                     i);
            cr_assert_eq(curl_easy_setopt(handles[i], CURLOPT_URL, url), CURLE_OK);
            cr_assert_eq(curl_multi_add_handle(m, handles[i]), CURLM_OK);
        }
        run_all(m, handles, STREAMS, results);
        long connects = 0;
        for (int i = 0; i < STREAMS; i++) {
            long n = 0;
            curl_easy_getinfo(handles[i], CURLINFO_NUM_CONNECTS, &n);
            connects += n;
            pincurl_status st = pincurl_attachment_status(att[i], results[i]);
            if (round == 1)
                cr_assert_eq(st, PINCURL_PIN_MISMATCH, "stream %d of round %d: %s (%s)", i,
                             round, pincurl_status_name(st), pincurl_attachment_detail(att[i]));
            else
                cr_assert_eq(st, PINCURL_OK, "stream %d of round %d: %s (%s)", i, round,
                             pincurl_status_name(st), pincurl_attachment_detail(att[i]));
            cr_assert_eq(curl_multi_remove_handle(m, handles[i]), CURLM_OK);
        }
        long allowed = atomic_load(&ev.allowed) - before_allowed;
        long refused = atomic_load(&ev.refused) - before_refused;
        cr_log_info("round %d: %ld new connections, %ld allowing and %ld refusing decisions",
                    round, connects, allowed, refused);
        if (round == 0) {
            cr_assert_eq(connects, 1, "one HTTP/2 connection for %d streams", STREAMS);
            cr_assert_eq(allowed, 1);
        } else if (round == 1) {
            /* the open connection, re-decided for every stream, each refused */
            cr_assert_eq(connects, 0);
            cr_assert_eq(refused, STREAMS, "not every stream was decided");
            cr_assert_eq(allowed, 0);
        } else {
            /* decided again once; its record then holds for the other streams */
            cr_assert_eq(connects, 0);
            cr_assert(allowed >= 1);
            cr_assert_eq(refused, 0);
        }
    }

    for (int i = 0; i < STREAMS; i++) {
        pincurl_detach(att[i]);
        curl_easy_cleanup(handles[i]);
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(resolve);
    pt_nginx_stop(&nginx); /* the access log is final */
    pt_nginx_request *r = NULL;
    size_t n = pt_nginx_requests(&nginx, &r);
    cr_assert_eq(n, 2 * STREAMS);
    for (size_t i = 0; i < n; i++) {
        cr_assert(strncmp(r[i].uri, "/refused", 8) != 0, "a refused stream reached the server");
        cr_assert_eq(r[i].connection, r[0].connection, "one connection throughout");
        cr_assert_str_eq(r[i].protocol, "HTTP/2.0");
    }
    free(r);
    pincurl_client_free(c);
    pincurl_policy_unref(allowing);
    pincurl_policy_unref(refusing);
}
