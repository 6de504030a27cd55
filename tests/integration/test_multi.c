/*
 * Non-blocking calls on a multi against a real HTTP/2 server (nginx from Debian, its own
 * configuration, on loopback): many streams on one connection decided once, refused
 * connections that carry no stream, policy generations, hosts never coalesced, cancellation
 * (queued and in-flight calls, checked on the server's access log), freeing the client,
 * the event-loop interface, calls added from other threads, and every misuse the API
 * refuses.
 */
#include "servers.h"
#include "support.h"

#include <criterion/criterion.h>
#include <pincurl/pincurl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

TestSuite(multi, .init = setup, .fini = teardown, .timeout = 240);

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ---- the client and its events ---------------------------------------------------- */

typedef struct events {
    atomic_long validations;
    atomic_long allowed;
    atomic_long refused;
    atomic_ulong generation; /* of the last validation */
} events;

static void on_event(const pincurl_event *ev, void *user)
{
    events *e = user;
    if (pincurl_event_get_kind(ev) != PINCURL_EVENT_VALIDATION)
        return;
    atomic_fetch_add(&e->validations, 1);
    if (pincurl_event_decision(ev) == PINCURL_DECISION_ALLOW)
        atomic_fetch_add(&e->allowed, 1);
    else
        atomic_fetch_add(&e->refused, 1);
    atomic_store(&e->generation, pincurl_event_generation(ev));
}

/* A client trusting ca (a PKI file name), localhost resolved to 127.0.0.1, HTTP/2 asked. */
static pincurl_client *client_for(pincurl_policy *policy, const char *ca, events *ev,
                                  pincurl_http_version version)
{
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c = NULL;
    char resolve[64];

    cr_assert_not_null(o);
    cr_assert_eq(pincurl_options_set_ca_file(o, pt_pki(ca)), PINCURL_OK);
    snprintf(resolve, sizeof resolve, "localhost:%d:127.0.0.1", nginx.port);
    cr_assert_eq(pincurl_options_add_resolve(o, resolve), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_http_version(o, version), PINCURL_OK);
    if (ev != NULL)
        cr_assert_eq(pincurl_options_set_event_callback(o, on_event, ev), PINCURL_OK);
    cr_assert_eq(pincurl_client_new(policy, o, &c), PINCURL_OK);
    pincurl_options_free(o);
    return c;
}

static pincurl_policy *genuine_policy(void)
{
    return pt_policy_exact("localhost", "inter", "leaf-backup");
}

/* Pins nothing the genuine chain has. */
static pincurl_policy *mismatching_policy(void)
{
    return pt_policy_exact("localhost", "rogue-root", "rogue-leaf");
}

/* ---- calls and their outcomes ------------------------------------------------------- */

typedef struct outcome {
    int done;
    pincurl_status status;
    long code;
    size_t body_len;
    long http_version;
    long num_connects;
    int64_t done_us;
    atomic_long body_seen; /* bytes the write callback received (streamed calls) */
    int64_t first_body_us;
} outcome;

typedef struct batch {
    size_t n;
    pincurl_request **req;
    pincurl_call **call;
    outcome *out;
    size_t done;
} batch;

static void on_done(pincurl_call *call, pincurl_status st, pincurl_response *resp, void *user);

static size_t count_body(const void *data, size_t len, void *user)
{
    outcome *o = user;
    (void)data;
    if (atomic_fetch_add(&o->body_seen, (long)len) == 0)
        o->first_body_us = now_us();
    return len;
}

/* n requests of path (with "n=INDEX" appended as the query) on host. */
static void batch_init(batch *b, size_t n, const char *host, const char *path, int stream)
{
    memset(b, 0, sizeof *b);
    b->n = n;
    b->req = calloc(n, sizeof *b->req);
    b->call = calloc(n, sizeof *b->call);
    b->out = calloc(n, sizeof *b->out);
    cr_assert(b->req != NULL && b->call != NULL && b->out != NULL);
    for (size_t i = 0; i < n; i++) {
        char url[256];
        snprintf(url, sizeof url, "https://%s:%d%s?n=%zu", host, nginx.port, path, i);
        b->req[i] = pincurl_request_new("GET", url);
        cr_assert_not_null(b->req[i]);
        if (stream)
            cr_assert_eq(pincurl_request_set_write_callback(b->req[i], count_body, &b->out[i]),
                         PINCURL_OK);
    }
}

static void batch_free(batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        pincurl_call_free(b->call[i]);
        pincurl_request_free(b->req[i]);
    }
    free(b->req);
    free(b->call);
    free(b->out);
}

typedef struct done_ctx {
    batch *b;
    size_t i;
} done_ctx;

static done_ctx *ctx_of(batch *b, size_t i)
{
    static done_ctx ring[4096];
    static size_t next;
    done_ctx *d = &ring[next++ % 4096];
    d->b = b;
    d->i = i;
    return d;
}

static void on_done(pincurl_call *call, pincurl_status st, pincurl_response *resp, void *user)
{
    done_ctx *d = user;
    outcome *o = &d->b->out[d->i];
    const pincurl_transfer_info *info = pincurl_response_info(resp);
    size_t len = 0;

    cr_assert_eq(call, d->b->call[d->i], "the callback receives its own call");
    cr_assert_eq(o->done, 0, "a completion callback runs once per call");
    o->done = 1;
    o->status = st;
    o->code = pincurl_response_code(resp);
    cr_assert_eq(pincurl_response_status(resp), st);
    (void)pincurl_response_body(resp, &len);
    o->body_len = len;
    o->http_version = info->http_version;
    o->num_connects = info->num_connects;
    o->done_us = now_us();
    d->b->done++;
    pincurl_response_free(resp);
}

static void batch_add(batch *b, pincurl_client *c, pincurl_multi *m, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        cr_assert_eq(pincurl_call_new(c, b->req[i], &b->call[i]), PINCURL_OK);
        cr_assert_eq(pincurl_multi_add(m, b->call[i], on_done, ctx_of(b, i)), PINCURL_OK);
    }
}

/* Drives m until want calls of b are done (at most 60 s). */
static void drive_until(pincurl_multi *m, batch *b, size_t want)
{
    int64_t end = now_us() + 60 * 1000000LL;
    while (b->done < want) {
        cr_assert(now_us() < end, "only %zu of %zu calls done after 60 s", b->done, want);
        cr_assert_eq(pincurl_multi_poll(m, 100, NULL), PINCURL_OK);
    }
}

static size_t count_uri(const pt_nginx_request *r, size_t n, const char *prefix)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += strncmp(r[i].uri, prefix, strlen(prefix)) == 0;
    return k;
}

/* 1 if the access log has a request for exactly uri. */
static int logged(const pt_nginx_request *r, size_t n, const char *uri)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(r[i].uri, uri) == 0)
            return 1;
    return 0;
}

/* ---- HTTP/2 ----------------------------------------------------------------------- */

/* 100 requests at once over one HTTP/2 connection: one handshake, one decision, every
 * stream allowed. */
Test(multi, h2_hundred_streams_one_handshake)
{
    pt_nginx_opts no = {.chain = "leaf-ec-chain.pem", .key = "leaf-ec.key"};
    pt_nginx_start(&nginx, &no);
    events ev;
    memset(&ev, 0, sizeof ev);
    pincurl_policy *policy = genuine_policy();
    pincurl_client *c = client_for(policy, "root.pem", &ev, PINCURL_HTTP_VERSION_2);
    pincurl_multi *m = NULL;
    cr_assert_eq(pincurl_multi_new(c, &m), PINCURL_OK);

    batch b;
    batch_init(&b, 100, "localhost", "/", 0);
    batch_add(&b, c, m, 0, 100);
    drive_until(m, &b, 100);

    long connects = 0;
    for (size_t i = 0; i < 100; i++) {
        cr_assert_eq(b.out[i].status, PINCURL_OK, "call %zu: %s", i,
                     pincurl_status_name(b.out[i].status));
        cr_assert_eq(b.out[i].code, 200);
        cr_assert_eq(b.out[i].body_len, strlen("hello from nginx\n"));
        cr_assert_eq(b.out[i].http_version, 20, "call %zu spoke HTTP/%ld", i,
                     b.out[i].http_version);
        connects += b.out[i].num_connects;
    }
    cr_assert_eq(connects, 1, "one connection for 100 calls, not %ld", connects);
    cr_assert_eq(atomic_load(&ev.validations), 1, "one decision for the connection, not %ld",
                 atomic_load(&ev.validations));
    cr_assert_eq(atomic_load(&ev.allowed), 1);

    /* the server saw 100 HTTP/2 requests on one connection, streams overlapping */
    pt_nginx_request *r = NULL;
    pt_nginx_stop(&nginx); /* the access log is final */
    size_t n = pt_nginx_requests(&nginx, &r);
    cr_assert_eq(n, 100, "the server logged %zu requests", n);
    long most = 0;
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(r[i].protocol, "HTTP/2.0");
        cr_assert_eq(r[i].connection, r[0].connection, "request %zu on another connection", i);
        cr_assert_eq(r[i].status, 200);
        if (r[i].number > most)
            most = r[i].number;
    }
    cr_assert_eq(most, 100, "100 requests on that connection");
    pt_nginx_stop(&nginx); /* the access log is final */
    cr_assert_eq(pt_nginx_connections(&nginx), 1);
    free(r);

    batch_free(&b);
    pincurl_multi_free(m);
    pincurl_client_free(c);
    pincurl_policy_unref(policy);
}

/* The same against a chain the pins do not name (its CA trusted): every call refused in
 * the handshake, no stream ever reaches the server. */
Test(multi, h2_rogue_chain_refused_without_a_stream)
{
    pt_nginx_opts no = {.chain = "rogue-leaf.pem", .key = "rogue-leaf.key"};
    pt_nginx_start(&nginx, &no);
    events ev;
    memset(&ev, 0, sizeof ev);
    pincurl_policy *policy = genuine_policy();
    pincurl_client *c = client_for(policy, "cas.pem", &ev, PINCURL_HTTP_VERSION_2);
    pincurl_multi *m = NULL;
    cr_assert_eq(pincurl_multi_new(c, &m), PINCURL_OK);

    batch b;
    batch_init(&b, 100, "localhost", "/", 0);
    batch_add(&b, c, m, 0, 100);
    drive_until(m, &b, 100);
    for (size_t i = 0; i < 100; i++) {
        cr_assert_eq(b.out[i].status, PINCURL_PIN_MISMATCH, "call %zu: %s", i,
                     pincurl_status_name(b.out[i].status));
        cr_assert_eq(b.out[i].code, 0);
    }
    cr_assert(atomic_load(&ev.refused) >= 1);
    cr_assert_eq(atomic_load(&ev.allowed), 0);
    pincurl_multi_free(m);
    pincurl_client_free(c);

    /* nginx logged every refused handshake and not a single request */
    pt_nginx_request *r = NULL;
    pt_nginx_stop(&nginx); /* the access log is final */
    cr_assert_eq(pt_nginx_requests(&nginx, &r), 0, "a stream reached the server");
    free(r);
    /* wolfSSL aborts with a bad_certificate alert, OpenSSL with handshake_failure or by
     * closing: nginx logs each as a handshake that failed */
    cr_assert(pt_nginx_error_lines(&nginx, "while SSL handshaking") >= 1,
              "nginx saw no refused handshake");
    batch_free(&b);
    pincurl_policy_unref(policy);
}

/* A policy change while streams run: the streams that passed their check go on to the
 * end on their connection; calls started afterwards never use it (a new connection,
 * decided under the new generation), and under a policy that refuses the server they are
 * refused without a stream. */
Test(multi, h2_policy_change_while_streams_run)
{
    pt_nginx_opts no = {.chain = "leaf-ec-chain.pem", .key = "leaf-ec.key", .slow_rate = 200000};
    pt_nginx_start(&nginx, &no);
    events ev;
    memset(&ev, 0, sizeof ev);
    pincurl_policy *policy = genuine_policy();
    pincurl_client *c = client_for(policy, "root.pem", &ev, PINCURL_HTTP_VERSION_2);
    pincurl_multi *m = NULL;
    cr_assert_eq(pincurl_multi_new(c, &m), PINCURL_OK);

    /* generation 1: 10 slow streams (about 20 s each at this rate) */
    batch slow;
    batch_init(&slow, 10, "localhost", "/slow/big.bin", 1);
    batch_add(&slow, c, m, 0, 10);
    int64_t end = now_us() + 30 * 1000000LL;
    for (;;) {
        size_t started = 0;
        for (size_t i = 0; i < 10; i++)
            started += atomic_load(&slow.out[i].body_seen) > 0;
        if (started == 10)
            break;
        cr_assert(now_us() < end, "the slow streams did not start");
        cr_assert_eq(pincurl_multi_poll(m, 50, NULL), PINCURL_OK);
    }
    cr_assert_eq(atomic_load(&ev.validations), 1);

    /* generation 2, the same pins: calls now go to a new connection */
    cr_assert_eq(pincurl_client_set_policy(c, policy), PINCURL_OK);
    batch second;
    batch_init(&second, 20, "localhost", "/", 0);
    batch_add(&second, c, m, 0, 20);
    drive_until(m, &second, 20);
    for (size_t i = 0; i < 20; i++)
        cr_assert_eq(second.out[i].status, PINCURL_OK);
    cr_assert_eq(atomic_load(&ev.validations), 2, "the new generation decided a new connection");
    cr_assert_eq(atomic_load(&ev.generation), 2);

    /* generation 3 refuses the server: new calls are refused, nothing sent */
    pincurl_policy *refusing = mismatching_policy();
    cr_assert_eq(pincurl_client_set_policy(c, refusing), PINCURL_OK);
    batch third;
    batch_init(&third, 20, "localhost", "/third", 0);
    batch_add(&third, c, m, 0, 20);
    drive_until(m, &third, 20);
    for (size_t i = 0; i < 20; i++)
        cr_assert_eq(third.out[i].status, PINCURL_PIN_MISMATCH, "call %zu: %s", i,
                     pincurl_status_name(third.out[i].status));

    /* the streams of generation 1 are still running, on their first connection */
    for (size_t i = 0; i < 10; i++)
        cr_assert_eq(slow.out[i].done, 0, "slow stream %zu ended early: %s", i,
                     pincurl_status_name(slow.out[i].status));
    for (size_t i = 0; i < 10; i++)
        pincurl_call_cancel(slow.call[i]);
    drive_until(m, &slow, 10);

    /* nginx logs a stream the client reset once it has read the reset: wait for the ten
     * (at most 5 s) before stopping it */
    pt_nginx_request *r = NULL;
    size_t n = 0;
    for (int i = 0; i < 100; i++) {
        n = pt_nginx_requests(&nginx, &r);
        if (count_uri(r, n, "/slow/") >= 10)
            break;
        free(r);
        r = NULL;
        sleep_ms(50);
    }
    free(r);
    pt_nginx_stop(&nginx); /* the access log is final */
    n = pt_nginx_requests(&nginx, &r);
    cr_assert_eq(count_uri(r, n, "/third"), 0, "a refused call reached the server");
    cr_assert_eq(count_uri(r, n, "/?n="), 20);
    long slow_conn = -1, second_conn = -1;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(r[i].uri, "/slow/", 6) == 0) {
            cr_assert(slow_conn < 0 || slow_conn == r[i].connection);
            slow_conn = r[i].connection;
        } else {
            cr_assert(second_conn < 0 || second_conn == r[i].connection);
            second_conn = r[i].connection;
        }
    }
    cr_assert(slow_conn >= 0 && second_conn >= 0 && slow_conn != second_conn,
              "generation 2 reused generation 1's connection (slow streams on %ld, the "
              "second batch on %ld, %zu requests logged)", slow_conn, second_conn, n);
    free(r);

    batch_free(&slow);
    batch_free(&second);
    batch_free(&third);
    pincurl_multi_free(m);
    pincurl_client_free(c);
    pincurl_policy_unref(policy);
    pincurl_policy_unref(refusing);
}

/* Two names of one server (localhost and 127.0.0.1, both in its certificate): each gets a
 * connection of its own, decided for it; the name the policy refuses never gets a stream,
 * not even on the other name's open HTTP/2 connection. */
Test(multi, h2_hosts_are_never_coalesced)
{
    pt_nginx_opts no = {.chain = "leaf-ec-chain.pem", .key = "leaf-ec.key"};
    pt_nginx_start(&nginx, &no);
    pincurl_policy_builder *pb = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    pincurl_policy *policy = NULL;
    size_t idx = 0;
    pincurl_pin pin;
    cr_assert_not_null(pb);
    cr_assert_eq(pincurl_policy_builder_add_domain(pb, "localhost", PINCURL_DOMAIN_ENFORCE, &idx),
                 PINCURL_OK);
    pt_pki_pin("inter", &pin);
    cr_assert_eq(pincurl_policy_builder_add_pin(pb, idx, &pin), PINCURL_OK);
    pt_pki_pin("leaf-backup", &pin);
    cr_assert_eq(pincurl_policy_builder_add_pin(pb, idx, &pin), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_domain(pb, "127.0.0.1", PINCURL_DOMAIN_ENFORCE, &idx),
                 PINCURL_OK);
    pt_pki_pin("rogue-root", &pin);
    cr_assert_eq(pincurl_policy_builder_add_pin(pb, idx, &pin), PINCURL_OK);
    pt_pki_pin("rogue-leaf", &pin);
    cr_assert_eq(pincurl_policy_builder_add_pin(pb, idx, &pin), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_finish(pb, &policy, NULL), PINCURL_OK);
    pincurl_policy_builder_free(pb);

    events ev;
    memset(&ev, 0, sizeof ev);
    pincurl_client *c = client_for(policy, "root.pem", &ev, PINCURL_HTTP_VERSION_2);
    pincurl_multi *m = NULL;
    cr_assert_eq(pincurl_multi_new(c, &m), PINCURL_OK);

    /* localhost first, its connection open; then both names at once */
    batch first;
    batch_init(&first, 5, "localhost", "/first", 0);
    batch_add(&first, c, m, 0, 5);
    drive_until(m, &first, 5);
    batch mixed;
    batch_init(&mixed, 40, "localhost", "/mixed", 0);
    for (size_t i = 0; i < 40; i += 2) {
        char url[128];
        pincurl_request_free(mixed.req[i]);
        snprintf(url, sizeof url, "https://127.0.0.1:%d/refused?n=%zu", nginx.port, i);
        mixed.req[i] = pincurl_request_new("GET", url);
    }
    batch_add(&mixed, c, m, 0, 40);
    drive_until(m, &mixed, 40);
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(first.out[i].status, PINCURL_OK);
    for (size_t i = 0; i < 40; i++)
        cr_assert_eq(mixed.out[i].status, i % 2 == 0 ? PINCURL_PIN_MISMATCH : PINCURL_OK,
                     "call %zu: %s", i, pincurl_status_name(mixed.out[i].status));

    pt_nginx_request *r = NULL;
    pt_nginx_stop(&nginx); /* the access log is final */
    size_t n = pt_nginx_requests(&nginx, &r);
    cr_assert_eq(n, 25);
    cr_assert_eq(count_uri(r, n, "/refused"), 0, "a stream for the refused name was sent");
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(r[i].host, "localhost");
        cr_assert_eq(r[i].connection, r[0].connection);
    }
    free(r);
    cr_assert_eq(atomic_load(&ev.allowed), 1);
    cr_assert(atomic_load(&ev.refused) >= 1);

    batch_free(&first);
    batch_free(&mixed);
    pincurl_multi_free(m);
    pincurl_client_free(c);
    pincurl_policy_unref(policy);
}

/* ---- cancellation ----------------------------------------------------------------- */

/* Calls cancelled before they started (queued on the multi, or cancelled before they were
 * added) complete with CANCELLED and never reach the server; the others are untouched. */
Test(multi, cancelled_queued_calls_never_reach_the_server)
{
    pt_nginx_opts no = {.chain = "leaf-ec-chain.pem", .key = "leaf-ec.key"};
    pt_nginx_start(&nginx, &no);
    pincurl_policy *policy = genuine_policy();
    pincurl_client *c = client_for(policy, "root.pem", NULL, PINCURL_HTTP_VERSION_2);
    pincurl_multi *m = NULL;
    cr_assert_eq(pincurl_multi_new(c, &m), PINCURL_OK);

    batch b;
    batch_init(&b, 30, "localhost", "/", 0);
    /* 0-9 cancelled before being added, 10-29 added and every other one cancelled while
     * queued */
    for (size_t i = 0; i < 10; i++) {
        cr_assert_eq(pincurl_call_new(c, b.req[i], &b.call[i]), PINCURL_OK);
        pincurl_call_cancel(b.call[i]);
        cr_assert_eq(pincurl_call_is_cancelled(b.call[i]), 1);
        cr_assert_eq(pincurl_multi_add(m, b.call[i], on_done, ctx_of(&b, i)), PINCURL_OK);
    }
    batch_add(&b, c, m, 10, 30);
    for (size_t i = 10; i < 30; i += 2)
        pincurl_call_cancel(b.call[i]);
    size_t running = 99;
    cr_assert_eq(pincurl_multi_poll(m, 0, &running), PINCURL_OK);
    cr_assert(running <= 10, "the 20 cancelled calls completed in the first drive (%zu)",
              running);
    cr_assert(b.done >= 20);
    drive_until(m, &b, 30);

    pt_nginx_request *r = NULL;
    pt_nginx_stop(&nginx); /* the access log is final */
    size_t n = pt_nginx_requests(&nginx, &r);
    size_t ok = 0;
    for (size_t i = 0; i < 30; i++) {
        char uri[32];
        int cancelled = i < 10 || i % 2 == 0;
        snprintf(uri, sizeof uri, "/?n=%zu", i);
        if (cancelled) {
            cr_assert_eq(b.out[i].status, PINCURL_CANCELLED, "call %zu: %s", i,
                         pincurl_status_name(b.out[i].status));
            cr_assert_eq(b.out[i].code, 0);
            cr_assert(!logged(r, n, uri), "cancelled call %zu reached the server", i);
        } else {
            cr_assert_eq(b.out[i].status, PINCURL_OK, "call %zu: %s", i,
                         pincurl_status_name(b.out[i].status));
            cr_assert(logged(r, n, uri));
            ok++;
        }
    }
    cr_assert_eq(n, ok);
    free(r);
    batch_free(&b);
    pincurl_multi_free(m);
    pincurl_client_free(c);
    pincurl_policy_unref(policy);
}

/* A listening socket that never accepts: connections to it hang in the TLS handshake. */
static int black_hole(int *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(listen(fd, 64), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

typedef struct canceller {
    pincurl_call **calls;
    size_t n;
    long delay_ms;
    int64_t cancelled_us;
} canceller;

static void *cancel_later(void *arg)
{
    canceller *k = arg;
    sleep_ms(k->delay_ms);
    k->cancelled_us = now_us();
    for (size_t i = 0; i < k->n; i++)
        pincurl_call_cancel(k->calls[i]);
    return NULL;
}

/* Streams receiving a slow response are cancelled from another thread: each ends within
 * 100 ms with CANCELLED, its stream is reset (the server logs the response incomplete),
 * no more of it is delivered, and the connection goes on serving the other streams. */
Test(multi, cancelled_streams_end_promptly_and_are_reset)
{
    pt_nginx_opts no = {.chain = "leaf-ec-chain.pem", .key = "leaf-ec.key"};
    pt_nginx_start(&nginx, &no);
    pincurl_policy *policy = genuine_policy();
    pincurl_client *c = client_for(policy, "root.pem", NULL, PINCURL_HTTP_VERSION_2);
    pincurl_multi *m = NULL;
    cr_assert_eq(pincurl_multi_new(c, &m), PINCURL_OK);

    batch slow;
    batch_init(&slow, 5, "localhost", "/slow/big.bin", 1);
    batch_add(&slow, c, m, 0, 5);
    int64_t end = now_us() + 30 * 1000000LL;
    for (;;) {
        size_t started = 0;
        for (size_t i = 0; i < 5; i++)
            started += atomic_load(&slow.out[i].body_seen) > 0;
        if (started == 5)
            break;
        cr_assert(now_us() < end, "the slow streams did not start");
        cr_assert_eq(pincurl_multi_poll(m, 50, NULL), PINCURL_OK);
    }
    /* cancel 3 of the 5 from another thread while this one waits in poll */
    canceller k = {.calls = slow.call, .n = 3, .delay_ms = (long)(100 * pt_time_scale())};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, cancel_later, &k), 0);
    long seen_at_cancel[3];
    while (slow.done < 3) {
        cr_assert(now_us() < end + 10 * 1000000LL);
        cr_assert_eq(pincurl_multi_poll(m, 1000, NULL), PINCURL_OK);
    }
    pthread_join(t, NULL);
    int64_t worst = 0;
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(slow.out[i].status, PINCURL_CANCELLED);
        cr_assert_eq(pincurl_call_is_cancelled(slow.call[i]), 1);
        int64_t latency = slow.out[i].done_us - k.cancelled_us;
        if (latency > worst)
            worst = latency;
        seen_at_cancel[i] = atomic_load(&slow.out[i].body_seen);
    }
    cr_log_info("cancel latency of in-flight HTTP/2 streams: %.3f ms (worst of 3)",
                (double)worst / 1000.0);
    cr_assert(worst < (int64_t)(100000 * pt_time_scale()),
              "cancelled streams took %.1f ms to end", (double)worst / 1000.0);
    for (size_t i = 3; i < 5; i++)
        cr_assert_eq(slow.out[i].done, 0, "an uncancelled stream ended");

    /* the connection serves new streams after the resets */
    batch more;
    batch_init(&more, 5, "localhost", "/after", 0);
    batch_add(&more, c, m, 0, 5);
    drive_until(m, &more, 5);
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(more.out[i].status, PINCURL_OK);
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(atomic_load(&slow.out[i].body_seen), seen_at_cancel[i],
                     "body delivered after the cancellation");
    pincurl_call_cancel(slow.call[3]);
    pincurl_call_cancel(slow.call[4]);
    drive_until(m, &slow, 5);
    pincurl_multi_free(m);
    pincurl_client_free(c);

    /* nginx logged the cancelled responses incomplete, on the connection that then
     * served the later streams */
    sleep_ms(200);
    pt_nginx_request *r = NULL;
    pt_nginx_stop(&nginx); /* the access log is final */
    size_t n = pt_nginx_requests(&nginx, &r);
    size_t slow_logged = 0;
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(r[i].connection, r[0].connection);
        if (strncmp(r[i].uri, "/slow/", 6) == 0) {
            slow_logged++;
            cr_assert_eq(r[i].complete, 0, "a cancelled response was sent in full");
            cr_assert(r[i].bytes_sent < PT_NGINX_BIG_BYTES);
        }
    }
    cr_assert_eq(slow_logged, 5);
    cr_assert_eq(count_uri(r, n, "/after"), 5);
    free(r);
    batch_free(&slow);
    batch_free(&more);
    pincurl_policy_unref(policy);
}

/* Calls whose connection hangs in the TLS handshake (a server that never answers), one
 * of them connecting and the others waiting for that HTTP/2 connection, are cancelled from
 * another thread: all end within 100 ms, CANCELLED. */
Test(multi, calls_waiting_for_a_connection_are_cancelled_promptly)
{
    int port = 0;
    int hole = black_hole(&port);
    pincurl_policy *policy = genuine_policy();
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c = NULL;
    cr_assert_eq(pincurl_options_set_ca_file(o, pt_pki("root.pem")), PINCURL_OK);
    cr_assert_eq(pincurl_client_new(policy, o, &c), PINCURL_OK);
    pincurl_options_free(o);
    pincurl_multi *m = NULL;
    cr_assert_eq(pincurl_multi_new(c, &m), PINCURL_OK);

    batch b;
    memset(&b, 0, sizeof b);
    nginx.port = port; /* batch_init's URLs: the black hole */
    batch_init(&b, 10, "127.0.0.1", "/", 0);
    nginx.port = 0;
    batch_add(&b, c, m, 0, 10);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(pincurl_multi_poll(m, 20, NULL), PINCURL_OK);
    cr_assert_eq(b.done, 0);
    canceller k = {.calls = b.call, .n = 10, .delay_ms = (long)(50 * pt_time_scale())};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, cancel_later, &k), 0);
    int64_t end = now_us() + 5 * 1000000LL;
    while (b.done < 10) {
        cr_assert(now_us() < end);
        cr_assert_eq(pincurl_multi_poll(m, 1000, NULL), PINCURL_OK);
    }
    pthread_join(t, NULL);
    int64_t worst = 0;
    for (size_t i = 0; i < 10; i++) {
        cr_assert_eq(b.out[i].status, PINCURL_CANCELLED, "call %zu: %s", i,
                     pincurl_status_name(b.out[i].status));
        if (b.out[i].done_us - k.cancelled_us > worst)
            worst = b.out[i].done_us - k.cancelled_us;
    }
    cr_log_info("cancel latency of calls waiting for a connection: %.3f ms (worst of 10)",
                (double)worst / 1000.0);
    cr_assert(worst < (int64_t)(100000 * pt_time_scale()),
              "took %.1f ms", (double)worst / 1000.0);
    pincurl_multi_free(m);
    batch_free(&b);
    close(hole);
    pincurl_client_free(c);
    pincurl_policy_unref(policy);
}

/* ---- freeing the client ------------------------------------------------------------ */

typedef struct driver {
    pincurl_multi *m;
    batch *b;
    atomic_int stop;
    pincurl_client *c;
    pincurl_request *req;
    pincurl_status blocking_status;
    int64_t blocking_end_us;
} driver;

static void *drive_thread(void *arg)
{
    driver *d = arg;
    while (!atomic_load(&d->stop))
        cr_assert_eq(pincurl_multi_poll(d->m, 1000, NULL), PINCURL_OK);
    pt_thread_end();
    return NULL;
}

static void *blocking_thread(void *arg)
{
    driver *d = arg;
    pincurl_response *resp = NULL;
    d->blocking_status = pincurl_client_perform(d->c, d->req, &resp);
    d->blocking_end_us = now_us();
    pincurl_response_free(resp);
    pt_thread_end();
    return NULL;
}

/* pincurl_client_free while calls run: a blocking call on another thread returns
 * CANCELLED before free returns; streams on a multi driven by another thread complete
 * with CANCELLED, promptly, and the multi is still usable until it is freed. */
Test(multi, freeing_the_client_cancels_what_runs)
{
    pt_nginx_opts no = {.chain = "leaf-ec-chain.pem", .key = "leaf-ec.key"};
    pt_nginx_start(&nginx, &no);
    events ev;
    memset(&ev, 0, sizeof ev);
    pincurl_policy *policy = genuine_policy();
    pincurl_client *c = client_for(policy, "root.pem", &ev, PINCURL_HTTP_VERSION_2);
    pincurl_multi *m = NULL;
    cr_assert_eq(pincurl_multi_new(c, &m), PINCURL_OK);

    batch slow;
    batch_init(&slow, 4, "localhost", "/slow/big.bin", 1);
    batch_add(&slow, c, m, 0, 4);
    driver d;
    memset(&d, 0, sizeof d);
    d.m = m;
    d.b = &slow;
    d.c = c;
    char url[128];
    snprintf(url, sizeof url, "https://localhost:%d/slow/big.bin?blocking", nginx.port);
    d.req = pincurl_request_new("GET", url);
    outcome blocking_out;
    memset(&blocking_out, 0, sizeof blocking_out);
    cr_assert_eq(pincurl_request_set_write_callback(d.req, count_body, &blocking_out), PINCURL_OK);
    pthread_t drv, blk;
    cr_assert_eq(pthread_create(&drv, NULL, drive_thread, &d), 0);
    cr_assert_eq(pthread_create(&blk, NULL, blocking_thread, &d), 0);
    int64_t end = now_us() + 30 * 1000000LL;
    for (;;) {
        size_t started = atomic_load(&blocking_out.body_seen) > 0;
        for (size_t i = 0; i < 4; i++)
            started += atomic_load(&slow.out[i].body_seen) > 0;
        if (started == 5)
            break;
        cr_assert(now_us() < end, "the slow transfers did not start");
        sleep_ms(20);
    }
    long validations = atomic_load(&ev.validations);

    int64_t before = now_us();
    pincurl_client_free(c);
    int64_t after = now_us();
    /* the blocking call ended before free returned (its thread returns from perform
     * just after) */
    pthread_join(blk, NULL);
    cr_assert_eq(d.blocking_status, PINCURL_CANCELLED);
    cr_assert(d.blocking_end_us - before < (int64_t)(100000 * pt_time_scale()),
              "the blocking call took %.1f ms to end",
              (double)(d.blocking_end_us - before) / 1000.0);
    cr_log_info("pincurl_client_free with 5 transfers running: %.3f ms",
                (double)(after - before) / 1000.0);
    cr_assert(after - before < (int64_t)(100000 * pt_time_scale()),
              "free took %.1f ms", (double)(after - before) / 1000.0);
    /* the multi's calls complete with CANCELLED on its driving thread, promptly */
    while (slow.done < 4) {
        cr_assert(now_us() < after + (int64_t)(100000 * pt_time_scale()),
                  "calls on the multi still run 100 ms later");
        sleep_ms(1);
    }
    for (size_t i = 0; i < 4; i++)
        cr_assert_eq(slow.out[i].status, PINCURL_CANCELLED);
    atomic_store(&d.stop, 1);
    pincurl_multi_wakeup(m);
    pthread_join(drv, NULL);
    cr_assert_eq(atomic_load(&ev.validations), validations, "an event after free returned");
    /* the multi refuses new calls (the client is gone) and is freed last */
    cr_assert_eq(pincurl_multi_poll(m, 0, NULL), PINCURL_OK);
    pincurl_multi_free(m);
    pincurl_request_free(d.req);
    batch_free(&slow);
    pincurl_policy_unref(policy);
}

/* ---- the event-loop interface ------------------------------------------------------ */

typedef struct loop {
    int fds[256];
    unsigned what[256];
    size_t count;
    long timer_ms;       /* -1: none */
    int64_t timer_set_us;
    long socket_reports;
    long timer_reports;
    int removed_wakeup;
} loop;

static void loop_socket(int fd, unsigned what, void *user)
{
    loop *l = user;
    size_t i;
    l->socket_reports++;
    for (i = 0; i < l->count; i++)
        if (l->fds[i] == fd)
            break;
    if (what & PINCURL_POLL_REMOVE) {
        cr_assert(i < l->count, "REMOVE for fd %d that was never watched", fd);
        l->fds[i] = l->fds[l->count - 1];
        l->what[i] = l->what[l->count - 1];
        l->count--;
        return;
    }
    cr_assert(what & (PINCURL_POLL_IN | PINCURL_POLL_OUT));
    if (i == l->count) {
        cr_assert(l->count < 256);
        l->count++;
    }
    l->fds[i] = fd;
    l->what[i] = what;
}

static void loop_timer(long ms, void *user)
{
    loop *l = user;
    l->timer_reports++;
    l->timer_ms = ms;
    l->timer_set_us = now_us();
}

/* One turn of the application's own poll() loop. */
static void loop_turn(pincurl_multi *m, loop *l)
{
    struct pollfd p[256];
    size_t n = l->count;
    int wait = 100;
    for (size_t i = 0; i < n; i++) {
        p[i].fd = l->fds[i];
        p[i].events = (short)(((l->what[i] & PINCURL_POLL_IN) ? POLLIN : 0) |
                              ((l->what[i] & PINCURL_POLL_OUT) ? POLLOUT : 0));
        p[i].revents = 0;
    }
    if (l->timer_ms >= 0) {
        int64_t left = l->timer_ms - (now_us() - l->timer_set_us) / 1000;
        wait = left < 0 ? 0 : left < wait ? (int)left : wait;
    }
    int ready = poll(p, (nfds_t)n, wait);
    cr_assert(ready >= 0);
    if (ready > 0) {
        for (size_t i = 0; i < n; i++) {
            unsigned ev = 0;
            if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
                ev |= PINCURL_POLL_IN;
            if (p[i].revents & POLLOUT)
                ev |= PINCURL_POLL_OUT;
            if (ev != 0)
                cr_assert_eq(pincurl_multi_socket_action(m, p[i].fd, ev, NULL), PINCURL_OK);
        }
    }
    if (l->timer_ms >= 0 && (now_us() - l->timer_set_us) / 1000 >= l->timer_ms) {
        l->timer_ms = -1;
        cr_assert_eq(pincurl_multi_socket_action(m, PINCURL_SOCKET_TIMEOUT, 0, NULL),
                     PINCURL_OK);
    }
}

/* The same 100 streams driven by the application's own poll() loop through the socket
 * and timer callbacks (as curl_multi_socket_action). */
Test(multi, event_loop_interface)
{
    pt_nginx_opts no = {.chain = "leaf-ec-chain.pem", .key = "leaf-ec.key"};
    pt_nginx_start(&nginx, &no);
    events ev;
    memset(&ev, 0, sizeof ev);
    pincurl_policy *policy = genuine_policy();
    pincurl_client *c = client_for(policy, "root.pem", &ev, PINCURL_HTTP_VERSION_2);
    pincurl_multi *m = NULL;
    cr_assert_eq(pincurl_multi_new(c, &m), PINCURL_OK);
    loop l;
    memset(&l, 0, sizeof l);
    l.timer_ms = -1;
    cr_assert_eq(pincurl_multi_set_socket_callbacks(m, loop_socket, NULL, &l),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_multi_set_socket_callbacks(m, loop_socket, loop_timer, &l), PINCURL_OK);
    cr_assert_eq(l.count, 1, "the wakeup descriptor is watched");
    int wake_fd = l.fds[0];
    cr_assert_eq(pincurl_multi_poll(m, 0, NULL), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_multi_socket_action(m, PINCURL_SOCKET_TIMEOUT, 0, NULL), PINCURL_OK);

    batch b;
    batch_init(&b, 100, "localhost", "/", 0);
    batch_add(&b, c, m, 0, 100);
    int64_t end = now_us() + 60 * 1000000LL;
    while (b.done < 100) {
        cr_assert(now_us() < end, "%zu of 100 done", b.done);
        loop_turn(m, &l);
    }
    for (size_t i = 0; i < 100; i++)
        cr_assert_eq(b.out[i].status, PINCURL_OK);
    cr_assert_eq(atomic_load(&ev.validations), 1);
    cr_assert(l.socket_reports >= 2 && l.timer_reports >= 1);
    pt_nginx_stop(&nginx); /* the access log is final */
    cr_assert_eq(pt_nginx_connections(&nginx), 1);
    /* freeing the multi removes every descriptor from the loop, the wakeup one included */
    pincurl_multi_free(m);
    cr_assert_eq(l.count, 0, "%zu descriptors still watched", l.count);
    (void)wake_fd;
    cr_assert_eq(l.timer_ms, -1);
    batch_free(&b);
    pincurl_client_free(c);
    pincurl_policy_unref(policy);
}

/* ---- threads ----------------------------------------------------------------------- */

typedef struct adder {
    pincurl_client *c;
    pincurl_multi *m;
    batch *b;
    size_t from, to;
} adder;

static atomic_size_t threaded_done;

static void on_done_count(pincurl_call *call, pincurl_status st, pincurl_response *resp,
                          void *user)
{
    outcome *o = user;
    (void)call;
    o->status = st;
    o->code = pincurl_response_code(resp);
    o->done = 1;
    pincurl_response_free(resp);
    atomic_fetch_add(&threaded_done, 1);
}

static void *add_from_thread(void *arg)
{
    adder *a = arg;
    for (size_t i = a->from; i < a->to; i++) {
        pincurl_call *call = NULL;
        cr_assert_eq(pincurl_call_new(a->c, a->b->req[i], &call), PINCURL_OK);
        cr_assert_eq(pincurl_multi_add(a->m, call, on_done_count, &a->b->out[i]), PINCURL_OK);
        pincurl_call_free(call); /* the multi keeps its own reference */
        if (i % 7 == 0)
            sleep_ms(2);
    }
    return NULL;
}

/* Calls added from four other threads while the driving thread waits in poll(-1): each
 * addition wakes it; every call completes once. */
Test(multi, calls_added_from_other_threads_wake_the_driver)
{
    pt_nginx_opts no = {.chain = "leaf-ec-chain.pem", .key = "leaf-ec.key"};
    pt_nginx_start(&nginx, &no);
    pincurl_policy *policy = genuine_policy();
    pincurl_client *c = client_for(policy, "root.pem", NULL, PINCURL_HTTP_VERSION_DEFAULT);
    pincurl_multi *m = NULL;
    cr_assert_eq(pincurl_multi_new(c, &m), PINCURL_OK);
    batch b;
    batch_init(&b, 80, "localhost", "/", 0);
    atomic_store(&threaded_done, 0);
    pthread_t t[4];
    adder a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (adder){c, m, &b, (size_t)i * 20, (size_t)i * 20 + 20};
        cr_assert_eq(pthread_create(&t[i], NULL, add_from_thread, &a[i]), 0);
    }
    int64_t end = now_us() + 60 * 1000000LL;
    while (atomic_load(&threaded_done) < 80) {
        cr_assert(now_us() < end);
        cr_assert_eq(pincurl_multi_poll(m, -1, NULL), PINCURL_OK);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    size_t running = 99;
    cr_assert_eq(pincurl_multi_poll(m, 0, &running), PINCURL_OK);
    cr_assert_eq(running, 0);
    for (size_t i = 0; i < 80; i++) {
        cr_assert_eq(b.out[i].status, PINCURL_OK);
        cr_assert_eq(b.out[i].code, 200);
    }
    pt_nginx_stop(&nginx); /* the access log is final */
    cr_assert_eq(pt_nginx_connections(&nginx), 1, "HTTP/2 by default: one connection");
    pincurl_multi_free(m);
    batch_free(&b);
    pincurl_client_free(c);
    pincurl_policy_unref(policy);
}

/* ---- HTTP/1.1 on a multi ---------------------------------------------------------- */

/* Without HTTP/2 concurrent calls get connections of their own, each decided in its
 * handshake, and kept alive for later calls (libcurl keeps up to four idle connections per
 * running transfer: a few may be closed as the first batch ends). */
Test(multi, http11_calls_get_connections_of_their_own)
{
    pt_nginx_opts no = {.chain = "leaf-ec-chain.pem", .key = "leaf-ec.key", .http1_only = 1};
    pt_nginx_start(&nginx, &no);
    events ev;
    memset(&ev, 0, sizeof ev);
    pincurl_policy *policy = genuine_policy();
    pincurl_client *c = client_for(policy, "root.pem", &ev, PINCURL_HTTP_VERSION_1_1);
    pincurl_multi *m = NULL;
    cr_assert_eq(pincurl_multi_new(c, &m), PINCURL_OK);
    batch b;
    batch_init(&b, 16, "localhost", "/", 0);
    batch_add(&b, c, m, 0, 8);
    drive_until(m, &b, 8);
    batch_add(&b, c, m, 8, 16); /* on the kept-alive connections */
    drive_until(m, &b, 16);
    long first = 0, second = 0;
    for (size_t i = 0; i < 16; i++) {
        cr_assert_eq(b.out[i].status, PINCURL_OK);
        cr_assert_eq(b.out[i].http_version, 11);
        if (i < 8)
            first += b.out[i].num_connects;
        else
            second += b.out[i].num_connects;
    }
    cr_assert_eq(first, 8, "8 concurrent calls, 8 connections (%ld)", first);
    cr_assert(second < 8, "the second batch reused no connection");
    pt_nginx_stop(&nginx); /* the access log is final */
    cr_assert_eq(pt_nginx_connections(&nginx), 8 + second);
    /* every new connection decided, allowed */
    cr_assert(atomic_load(&ev.allowed) >= 8);
    cr_assert_eq(atomic_load(&ev.refused), 0);
    pincurl_multi_free(m);
    batch_free(&b);
    pincurl_client_free(c);
    pincurl_policy_unref(policy);
}

/* ---- misuse ----------------------------------------------------------------------- */

static void on_done_never(pincurl_call *call, pincurl_status st, pincurl_response *resp,
                          void *user)
{
    (void)call;
    (void)st;
    (void)user;
    pincurl_response_free(resp);
    cr_assert_fail("a completion callback of a failed add ran");
}

Test(multi, misuse_is_refused)
{
    pincurl_policy *policy = genuine_policy();
    pincurl_client *c = NULL, *other = NULL;
    cr_assert_eq(pincurl_client_new(policy, NULL, &c), PINCURL_OK);
    cr_assert_eq(pincurl_client_new(policy, NULL, &other), PINCURL_OK);
    pincurl_request *r = pincurl_request_new("GET", "https://localhost:1/");
    pincurl_multi *m = NULL;
    pincurl_call *call = NULL, *foreign = NULL;

    cr_assert_eq(pincurl_multi_new(NULL, &m), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_multi_new(c, NULL), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_multi_new(c, &m), PINCURL_OK);
    cr_assert_eq(pincurl_call_new(NULL, r, &call), PINCURL_INVALID_ARGUMENT);
    cr_assert_null(call);
    cr_assert_eq(pincurl_call_new(c, NULL, &call), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_call_new(c, r, NULL), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_call_new(c, r, &call), PINCURL_OK);
    cr_assert_eq(pincurl_call_new(other, r, &foreign), PINCURL_OK);

    cr_assert_eq(pincurl_multi_add(NULL, call, on_done_never, NULL), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_multi_add(m, NULL, on_done_never, NULL), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_multi_add(m, call, NULL, NULL), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_multi_add(m, foreign, on_done_never, NULL), PINCURL_INVALID_ARGUMENT,
                 "a call of another client");
    cr_assert_eq(pincurl_multi_poll(m, -2, NULL), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_multi_poll(NULL, 0, NULL), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_multi_socket_action(m, PINCURL_SOCKET_TIMEOUT, 0, NULL),
                 PINCURL_INVALID_ARGUMENT, "no socket callbacks");
    cr_assert_eq(pincurl_multi_set_socket_callbacks(NULL, NULL, NULL, NULL),
                 PINCURL_INVALID_ARGUMENT);

    /* a call runs once: executed, it cannot be added; added, it cannot be executed */
    pincurl_response *resp = NULL;
    cr_assert_eq(pincurl_call_execute(foreign, &resp), PINCURL_CONNECT);
    pincurl_response_free(resp);
    resp = (pincurl_response *)1;
    cr_assert_eq(pincurl_call_execute(foreign, &resp), PINCURL_INVALID_ARGUMENT);
    cr_assert_null(resp);
    cr_assert_eq(pincurl_call_execute(NULL, NULL), PINCURL_INVALID_ARGUMENT);
    pincurl_call_cancel(NULL);
    cr_assert_eq(pincurl_call_is_cancelled(NULL), 0);
    cr_assert_eq(pincurl_call_is_cancelled(call), 0);

    /* a multi that is freed with a call on it completes the call, cancelled */
    outcome o;
    memset(&o, 0, sizeof o);
    cr_assert_eq(pincurl_multi_add(m, call, on_done_count, &o), PINCURL_OK);
    cr_assert_eq(pincurl_multi_add(m, call, on_done_never, NULL), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_call_execute(call, NULL), PINCURL_INVALID_ARGUMENT);
    pincurl_call_free(call); /* the multi holds its own reference */
    pincurl_multi_free(m);
    cr_assert_eq(o.done, 1);
    cr_assert_eq(o.status, PINCURL_CANCELLED);

    pincurl_call_free(foreign);
    pincurl_multi_free(NULL);
    pincurl_call_free(NULL);
    pincurl_multi_wakeup(NULL);

    /* a client being freed starts nothing: calls and multis made from it are refused */
    pincurl_multi *m2 = NULL;
    cr_assert_eq(pincurl_multi_new(other, &m2), PINCURL_OK);
    pincurl_call *late = NULL;
    cr_assert_eq(pincurl_call_new(other, r, &late), PINCURL_OK);
    pincurl_client_free(other);
    cr_assert_eq(pincurl_multi_add(m2, late, on_done_never, NULL), PINCURL_CANCELLED);
    resp = NULL;
    cr_assert_eq(pincurl_call_execute(late, &resp), PINCURL_CANCELLED);
    cr_assert_eq(pincurl_response_status(resp), PINCURL_CANCELLED);
    cr_assert(strstr(pincurl_response_detail(resp), "CANCELLED") != NULL);
    pincurl_response_free(resp);
    pincurl_call_free(late);
    pincurl_multi_free(m2);

    pincurl_request_free(r);
    pincurl_client_free(c);
    pincurl_policy_unref(policy);
}
