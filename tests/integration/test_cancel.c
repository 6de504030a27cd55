/*
 * Cancelling blocking calls (pincurl_call_execute, on their own thread) and HTTP/1.1
 * calls on a multi, against tests/servers/tls_server.py, which logs every decrypted byte it
 * receives: a cancelled call ends within 100 ms with CANCELLED, its connection is closed,
 * and not a byte of its request is sent after pincurl_call_cancel returned.
 */
#include "servers.h"
#include "support.h"

#include <criterion/criterion.h>
#include <pincurl/pincurl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pt_server server;

static void teardown(void)
{
    pt_server_stop(&server);
}

TestSuite(cancel, .fini = teardown, .timeout = 240);

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

static void start_server(void)
{
    pt_server_opts so = {.chain = "leaf-ec-chain.pem", .key = "leaf-ec.key", .name = "c"};
    pt_server_start(&server, &so);
}

/* The server speaks HTTP/1.1 only: asked for it, concurrent calls on a multi do not wait
 * for the first connection to learn whether it multiplexes. */
static pincurl_client *new_client(pincurl_policy **policy)
{
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c = NULL;
    *policy = pt_policy_exact("localhost", "inter", "leaf-backup");
    cr_assert_eq(pincurl_options_set_ca_file(o, pt_pki("root.pem")), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_http_version(o, PINCURL_HTTP_VERSION_1_1), PINCURL_OK);
    cr_assert_eq(pincurl_client_new(*policy, o, &c), PINCURL_OK);
    pincurl_options_free(o);
    return c;
}

typedef struct canceller {
    pincurl_call *call;
    long delay_ms;
    int64_t cancel_us;       /* just before pincurl_call_cancel */
    atomic_int returned;     /* pincurl_call_cancel has returned */
} canceller;

static void *cancel_later(void *arg)
{
    canceller *k = arg;
    sleep_ms(k->delay_ms);
    k->cancel_us = now_us();
    pincurl_call_cancel(k->call);
    atomic_store(&k->returned, 1);
    return NULL;
}

/* A blocking call waiting for an answer that never comes is cancelled from another
 * thread: it returns CANCELLED within 100 ms and its connection is closed. */
Test(cancel, blocking_call_waiting_for_an_answer)
{
    start_server();
    pincurl_policy *policy = NULL;
    pincurl_client *c = new_client(&policy);
    char url[128];
    snprintf(url, sizeof url, "https://localhost:%d/hang", server.port);
    pincurl_request *r = pincurl_request_new("GET", url);
    pincurl_call *call = NULL;
    cr_assert_eq(pincurl_call_new(c, r, &call), PINCURL_OK);
    canceller k = {.call = call, .delay_ms = (long)(300 * pt_time_scale())};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, cancel_later, &k), 0);
    pincurl_response *resp = NULL;
    pincurl_status st = pincurl_call_execute(call, &resp);
    int64_t end = now_us();
    pthread_join(t, NULL);
    cr_assert_eq(st, PINCURL_CANCELLED, "%s", pincurl_status_name(st));
    cr_assert_eq(pincurl_response_status(resp), PINCURL_CANCELLED);
    cr_assert_eq(pincurl_response_code(resp), 0);
    cr_assert(strstr(pincurl_response_detail(resp), "CANCELLED") != NULL, "%s",
              pincurl_response_detail(resp));
    cr_log_info("cancel latency of a blocking call: %.3f ms", (double)(end - k.cancel_us) / 1000.0);
    cr_assert(end - k.cancel_us < (int64_t)(100000 * pt_time_scale()),
              "took %.1f ms", (double)(end - k.cancel_us) / 1000.0);
    cr_assert_eq(pincurl_call_is_cancelled(call), 1);
    /* the server saw its connection closed */
    cr_assert_eq(pt_server_connections(&server), 1);
    cr_assert(pt_server_wait_closed(&server, 5000), "the cancelled connection is still open");
    pincurl_response_free(resp);
    pincurl_call_free(call);

    /* the client goes on: a new call on a new connection */
    snprintf(url, sizeof url, "https://localhost:%d/", server.port);
    pincurl_request *again = pincurl_request_new("GET", url);
    cr_assert_eq(pincurl_client_perform(c, again, &resp), PINCURL_OK);
    cr_assert_eq(pincurl_response_code(resp), 200);
    pincurl_response_free(resp);
    pincurl_request_free(again);
    pincurl_request_free(r);
    pincurl_client_free(c);
    pincurl_policy_unref(policy);
}

typedef struct slow_body {
    canceller *k;
    atomic_long chunks;
    atomic_long started_after_cancel; /* callbacks entered after cancel returned */
    atomic_long bytes;
} slow_body;

/* 1000 bytes a call, 5 ms apart, forever: 'a' until pincurl_call_cancel has returned, 'Z'
 * after (bytes libcurl must never send). */
static size_t slow_read(void *buf, size_t size, void *user)
{
    slow_body *b = user;
    size_t n = size < 1000 ? size : 1000;
    if (atomic_load(&b->k->returned))
        atomic_fetch_add(&b->started_after_cancel, 1);
    sleep_ms(5);
    memset(buf, atomic_load(&b->k->returned) ? 'Z' : 'a', n);
    atomic_fetch_add(&b->chunks, 1);
    atomic_fetch_add(&b->bytes, (long)n);
    return n;
}

/* 1 if the server's log holds a received byte run of 16 'Z's. */
static int server_received_z(void)
{
    size_t len = 0;
    unsigned char *log = pt_read_file(server.log_path, &len);
    int found = strstr((char *)log, "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a") != NULL;
    free(log);
    return found;
}

/* An upload cancelled while its body is being sent: the read callback is not called again
 * once the cancel returned, and no byte it produced after that reaches the server. */
Test(cancel, upload_sends_nothing_after_the_cancel)
{
    start_server();
    pincurl_policy *policy = NULL;
    pincurl_client *c = new_client(&policy);
    char url[128];
    snprintf(url, sizeof url, "https://localhost:%d/echo", server.port);
    pincurl_request *r = pincurl_request_new("POST", url);
    canceller k = {.delay_ms = (long)(200 * pt_time_scale())};
    slow_body body = {.k = &k};
    cr_assert_eq(pincurl_request_set_body_callback(r, slow_read, &body, -1), PINCURL_OK);
    pincurl_call *call = NULL;
    cr_assert_eq(pincurl_call_new(c, r, &call), PINCURL_OK);
    k.call = call;
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, cancel_later, &k), 0);
    pincurl_response *resp = NULL;
    pincurl_status st = pincurl_call_execute(call, &resp);
    int64_t end = now_us();
    pthread_join(t, NULL);
    cr_assert_eq(st, PINCURL_CANCELLED, "%s: %s", pincurl_status_name(st),
                 pincurl_response_detail(resp));
    cr_assert(atomic_load(&body.chunks) >= 5, "the upload had not started");
    cr_assert_eq(atomic_load(&body.started_after_cancel), 0,
                 "the body callback ran after the cancel returned");
    cr_assert(end - k.cancel_us < (int64_t)(100000 * pt_time_scale()),
              "took %.1f ms", (double)(end - k.cancel_us) / 1000.0);
    cr_assert(pt_server_wait_closed(&server, 5000));
    cr_assert(pt_server_request_bytes(&server) > 1000, "the server received the body's start");
    cr_assert(!server_received_z(), "bytes produced after the cancel reached the server");
    pincurl_response_free(resp);
    pincurl_call_free(call);
    pincurl_request_free(r);
    pincurl_client_free(c);
    pincurl_policy_unref(policy);
}

/* A call cancelled before it runs never connects. */
Test(cancel, cancelled_before_execute_never_connects)
{
    start_server();
    pincurl_policy *policy = NULL;
    pincurl_client *c = new_client(&policy);
    char url[128];
    snprintf(url, sizeof url, "https://localhost:%d/", server.port);
    pincurl_request *r = pincurl_request_new("GET", url);
    pincurl_call *call = NULL;
    cr_assert_eq(pincurl_call_new(c, r, &call), PINCURL_OK);
    pincurl_call_cancel(call);
    pincurl_call_cancel(call); /* any number of times */
    pincurl_response *resp = NULL;
    cr_assert_eq(pincurl_call_execute(call, &resp), PINCURL_CANCELLED);
    cr_assert_eq(pincurl_response_status(resp), PINCURL_CANCELLED);
    cr_assert(strstr(pincurl_response_detail(resp), "localhost") != NULL);
    pincurl_response_free(resp);
    /* a cancel after the end changes nothing */
    pincurl_call_cancel(call);
    pincurl_call_free(call);
    cr_assert_eq(pt_server_connections(&server), 0);

    /* a call that ended is left as it is */
    cr_assert_eq(pincurl_call_new(c, r, &call), PINCURL_OK);
    cr_assert_eq(pincurl_call_execute(call, &resp), PINCURL_OK);
    pincurl_call_cancel(call);
    cr_assert_eq(pincurl_response_status(resp), PINCURL_OK);
    cr_assert_eq(pincurl_response_code(resp), 200);
    pincurl_response_free(resp);
    pincurl_call_free(call);
    pincurl_request_free(r);
    pincurl_client_free(c);
    pincurl_policy_unref(policy);
}

typedef struct done_box {
    atomic_int done;
    pincurl_status status;
    int64_t at_us;
} done_box;

static void on_done(pincurl_call *call, pincurl_status st, pincurl_response *resp, void *user)
{
    done_box *d = user;
    (void)call;
    d->status = st;
    d->at_us = now_us();
    pincurl_response_free(resp);
    atomic_store(&d->done, 1);
}

/* HTTP/1.1 calls on a multi waiting for answers that never come, cancelled from another
 * thread: each ends within 100 ms, its connection closed. */
Test(cancel, multi_calls_waiting_for_answers)
{
    start_server();
    pincurl_policy *policy = NULL;
    pincurl_client *c = new_client(&policy);
    pincurl_multi *m = NULL;
    cr_assert_eq(pincurl_multi_new(c, &m), PINCURL_OK);
    char url[128];
    snprintf(url, sizeof url, "https://localhost:%d/hang", server.port);
    pincurl_request *r = pincurl_request_new("GET", url);
    pincurl_call *calls[3];
    done_box box[3];
    memset(box, 0, sizeof box);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(pincurl_call_new(c, r, &calls[i]), PINCURL_OK);
        cr_assert_eq(pincurl_multi_add(m, calls[i], on_done, &box[i]), PINCURL_OK);
    }
    /* until the server has all three requests */
    int64_t end = now_us() + 10 * 1000000LL;
    while (pt_server_request_bytes(&server) == 0 || pt_server_connections(&server) < 3) {
        cr_assert(now_us() < end);
        cr_assert_eq(pincurl_multi_poll(m, 20, NULL), PINCURL_OK);
    }
    for (int i = 0; i < 10; i++)
        cr_assert_eq(pincurl_multi_poll(m, 10, NULL), PINCURL_OK);
    canceller k[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        k[i] = (canceller){.call = calls[i], .delay_ms = (long)(20 * pt_time_scale())};
        cr_assert_eq(pthread_create(&t[i], NULL, cancel_later, &k[i]), 0);
    }
    while (!atomic_load(&box[0].done) || !atomic_load(&box[1].done) ||
           !atomic_load(&box[2].done)) {
        cr_assert(now_us() < end);
        cr_assert_eq(pincurl_multi_poll(m, 1000, NULL), PINCURL_OK);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(box[i].status, PINCURL_CANCELLED);
        cr_assert(box[i].at_us - k[i].cancel_us < (int64_t)(100000 * pt_time_scale()),
              "took %.1f ms",
                  (double)(box[i].at_us - k[i].cancel_us) / 1000.0);
        pincurl_call_free(calls[i]);
    }
    cr_assert(pt_server_wait_closed(&server, 5000), "a cancelled connection is still open");
    pincurl_multi_free(m);
    pincurl_request_free(r);
    pincurl_client_free(c);
    pincurl_policy_unref(policy);
}

typedef struct worker {
    pincurl_client *c;
    char url[128];
    int index;
    long ok, cancelled;
    pthread_mutex_t lock; /* guards current */
    pincurl_call *current;
    atomic_int stop;
} worker;

static void *execute_many(void *arg)
{
    worker *w = arg;
    pincurl_request *r = pincurl_request_new("GET", w->url);
    for (int i = 0; i < 30; i++) {
        pincurl_call *call = NULL;
        pincurl_response *resp = NULL;
        pincurl_status st;
        cr_assert_eq(pincurl_call_new(w->c, r, &call), PINCURL_OK);
        pthread_mutex_lock(&w->lock);
        w->current = call;
        pthread_mutex_unlock(&w->lock);
        st = pincurl_call_execute(call, &resp);
        pthread_mutex_lock(&w->lock);
        w->current = NULL;
        pthread_mutex_unlock(&w->lock);
        cr_assert(st == PINCURL_OK || st == PINCURL_CANCELLED, "%s", pincurl_status_name(st));
        cr_assert_eq(pincurl_response_status(resp), st);
        if (st == PINCURL_OK) {
            cr_assert_eq(pincurl_response_code(resp), 200);
            w->ok++;
        } else {
            w->cancelled++;
        }
        pincurl_response_free(resp);
        pincurl_call_free(call);
    }
    pincurl_request_free(r);
    atomic_store(&w->stop, 1);
    pt_thread_end();
    return NULL;
}

/* Four threads execute calls on one client while another cancels whatever runs: every
 * call ends OK or CANCELLED, and nothing else breaks (also a ThreadSanitizer subject). */
Test(cancel, threads_execute_while_another_cancels)
{
    start_server();
    pincurl_policy *policy = NULL;
    pincurl_client *c = new_client(&policy);
    worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].c = c;
        w[i].index = i;
        pthread_mutex_init(&w[i].lock, NULL);
        snprintf(w[i].url, sizeof w[i].url, "https://localhost:%d/bytes?n=200000", server.port);
        cr_assert_eq(pthread_create(&t[i], NULL, execute_many, &w[i]), 0);
    }
    long cancels = 0;
    for (;;) {
        int running = 0;
        for (int i = 0; i < 4; i++) {
            if (!atomic_load(&w[i].stop))
                running = 1;
        }
        if (!running)
            break;
        /* a worker frees its call only after clearing current under its lock */
        for (int i = 0; i < 4; i++) {
            pthread_mutex_lock(&w[i].lock);
            if (w[i].current != NULL && (cancels++ % 3) == 0)
                pincurl_call_cancel(w[i].current);
            pthread_mutex_unlock(&w[i].lock);
        }
        sleep_ms(3);
    }
    long ok = 0, cancelled = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        pthread_mutex_destroy(&w[i].lock);
        ok += w[i].ok;
        cancelled += w[i].cancelled;
    }
    cr_assert_eq(ok + cancelled, 120);
    cr_log_info("120 calls on 4 threads: %ld completed, %ld cancelled", ok, cancelled);
    pincurl_client_free(c);
    pincurl_policy_unref(policy);
}
