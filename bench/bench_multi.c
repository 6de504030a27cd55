/*
 * bench_multi: many requests in flight on one thread, pincurl's multi against plain
 * libcurl's multi interface, in one process, one run.
 *
 * Arms (each keeps --parallel requests in flight on one thread until --requests measured
 * requests have completed, after --warmup unmeasured ones on the same connections):
 *   A  plain libcurl, driven like pincurl's multi drives its own: curl_multi_socket_action
 *      with poll() over the sockets libcurl reports; one easy handle per request in flight,
 *      reset and reused; the body kept in memory; certificate verification, no pinning
 *   B  plain libcurl, the simplest loop: curl_multi_perform and curl_multi_poll (the rest
 *      as A)
 *   C  pincurl: pincurl_multi_add and pincurl_multi_poll, a policy pinning the intermediate
 *      plus a backup key, one request object for every call, each response freed in the
 *      completion callback
 * Modes: h2 (HTTP/2: the requests are streams of one connection), h1 (HTTP/1.1: one
 * connection per request in flight, kept alive).
 *
 * Every response is checked (HTTP 200, the same body length; pincurl status OK; the HTTP
 * version of the mode), and so is the number of connections (h2: one per arm; h1: at most
 * --parallel). Prints per arm and mode the wall time per request (median over --rounds
 * runs), the connections made, and the ratios to A and B. Under callgrind, pass
 * --toggle-collect=measured_run to count only the measured requests.
 * Exit status: 0 when every request succeeded, 1 otherwise, 2 on bad arguments.
 */
#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pincurl/client.h"
#include "pincurl/core.h"

#define MAX_PINS 8
#define MAX_PARALLEL 256

enum { ARM_A, ARM_B, ARM_C, ARM_COUNT };
enum { MODE_H2, MODE_H1, MODE_COUNT };
static const char arm_letters[ARM_COUNT] = {'A', 'B', 'C'};
static const char *const arm_names[ARM_COUNT] = {
    "A libcurl (socket_action + poll)", "B libcurl (multi_perform + multi_poll)",
    "C pincurl (pincurl_multi_poll)"};
static const char *const mode_names[MODE_COUNT] = {"HTTP/2", "HTTP/1.1"};
static const char *const mode_keys[MODE_COUNT] = {"h2", "h1"};

struct config {
    const char *url;
    const char *ca_file;
    const char *pins[MAX_PINS];
    size_t pin_count;
    size_t requests;
    size_t parallel;
    size_t warmup;
    size_t rounds;
    int arms[ARM_COUNT];
    int modes[MODE_COUNT];
};

static struct config cfg;
static long expected_body = -1; /* the first body's length; every later one must match */
static int failures;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check_body(long len, const char *what)
{
    if (expected_body < 0)
        expected_body = len;
    if (len != expected_body) {
        fprintf(stderr, "bench_multi: %s: body of %ld bytes, expected %ld\n", what, len,
                expected_body);
        failures++;
    }
}

/* ---- one arm's state --------------------------------------------------------------- */

struct sink {
    char *data;
    size_t len, cap;
};

struct slot {
    CURL *easy;
    struct sink body;
    int busy;
};

struct run {
    int arm, mode;
    size_t started, completed;
    size_t target;      /* completions to reach before returning */
    size_t limit;       /* requests to start in all */
    long connects;      /* CURLINFO_NUM_CONNECTS summed / new connections */
    /* A, B */
    CURLM *multi;
    struct slot slots[MAX_PARALLEL];
    struct pollfd pfd[MAX_PARALLEL + 8];
    int fds[MAX_PARALLEL + 8];
    short events[MAX_PARALLEL + 8];
    size_t nfds;
    long timeout_ms; /* libcurl's timer, -1 none */
    double timer_set;
    /* C */
    pincurl_client *client;
    pincurl_multi *pm;
    pincurl_request *request;
    unsigned long validations;
};

static size_t sink_write(char *data, size_t size, size_t nmemb, void *user)
{
    struct sink *s = user;
    size_t n = size * nmemb;
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        while (cap < s->len + n)
            cap *= 2;
        char *grown = realloc(s->data, cap);
        if (grown == NULL)
            return 0;
        s->data = grown;
        s->cap = cap;
    }
    memcpy(s->data + s->len, data, n);
    s->len += n;
    return n;
}

/* ---- plain libcurl ----------------------------------------------------------------- */

static int on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct run *r = userp;
    size_t i;
    (void)e;
    (void)socketp;
    for (i = 0; i < r->nfds; i++)
        if (r->fds[i] == (int)fd)
            break;
    if (what == CURL_POLL_REMOVE) {
        if (i < r->nfds) {
            r->fds[i] = r->fds[r->nfds - 1];
            r->events[i] = r->events[r->nfds - 1];
            r->nfds--;
        }
        return 0;
    }
    if (i == r->nfds) {
        if (r->nfds == MAX_PARALLEL + 8)
            return -1;
        r->nfds++;
    }
    r->fds[i] = (int)fd;
    r->events[i] = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) |
                           ((what & CURL_POLL_OUT) ? POLLOUT : 0));
    return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
    struct run *r = userp;
    (void)m;
    r->timeout_ms = timeout_ms;
    r->timer_set = now_s();
    return 0;
}

static void plain_start(struct run *r)
{
    struct slot *s = NULL;
    for (size_t i = 0; i < cfg.parallel; i++) {
        if (!r->slots[i].busy) {
            s = &r->slots[i];
            break;
        }
    }
    if (s == NULL)
        return;
    if (s->easy == NULL)
        s->easy = curl_easy_init();
    else
        curl_easy_reset(s->easy);
    s->body.len = 0;
    s->busy = 1;
    curl_easy_setopt(s->easy, CURLOPT_URL, cfg.url);
    curl_easy_setopt(s->easy, CURLOPT_CAINFO, cfg.ca_file);
    curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, &s->body);
    curl_easy_setopt(s->easy, CURLOPT_PRIVATE, (void *)s);
    if (getenv("BENCH_VERBOSE"))
        curl_easy_setopt(s->easy, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(s->easy, CURLOPT_HTTP_VERSION,
                     r->mode == MODE_H2 ? (long)CURL_HTTP_VERSION_2TLS
                                        : (long)CURL_HTTP_VERSION_1_1);
    if (r->mode == MODE_H2)
        curl_easy_setopt(s->easy, CURLOPT_PIPEWAIT, 1L);
    curl_multi_add_handle(r->multi, s->easy);
    r->started++;
}

static void plain_done(struct run *r)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(r->multi, &left)) != NULL) {
        struct slot *s = NULL;
        long code = 0, version = 0, connects = 0;
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        if (msg->data.result != CURLE_OK) {
            fprintf(stderr, "bench_multi: arm %c: %s\n", arm_letters[r->arm],
                    curl_easy_strerror(msg->data.result));
            failures++;
        }
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_getinfo(msg->easy_handle, CURLINFO_HTTP_VERSION, &version);
        curl_easy_getinfo(msg->easy_handle, CURLINFO_NUM_CONNECTS, &connects);
        if (code != 200 || version != (r->mode == MODE_H2 ? CURL_HTTP_VERSION_2_0
                                                          : CURL_HTTP_VERSION_1_1)) {
            fprintf(stderr, "bench_multi: arm %c: HTTP %ld, version %ld\n", arm_letters[r->arm],
                    code, version);
            failures++;
        }
        check_body((long)s->body.len, "libcurl");
        r->connects += connects;
        curl_multi_remove_handle(r->multi, msg->easy_handle);
        s->busy = 0;
        r->completed++;
    }
}

/* One turn: wait for libcurl's sockets or timer, act, start what the completions freed. */
static void plain_turn(struct run *r)
{
    int running = 0;
    if (r->arm == ARM_B) {
        size_t before = r->started;
        curl_multi_perform(r->multi, &running);
        plain_done(r);
        while (r->started < r->limit && r->started - r->completed < cfg.parallel)
            plain_start(r);
        if (r->started == before) /* nothing new to run: wait */
            curl_multi_poll(r->multi, NULL, 0, 1000, NULL);
        return;
    }
    int wait = 1000;
    if (r->timeout_ms >= 0) {
        double left = (double)r->timeout_ms / 1000.0 - (now_s() - r->timer_set);
        wait = left <= 0 ? 0 : (int)(left * 1000.0) + 1;
        if (wait > 1000)
            wait = 1000;
    }
    size_t n = r->nfds;
    for (size_t i = 0; i < n; i++) {
        r->pfd[i].fd = r->fds[i];
        r->pfd[i].events = r->events[i];
        r->pfd[i].revents = 0;
    }
    int ready = poll(r->pfd, (nfds_t)n, wait);
    if (ready > 0) {
        for (size_t i = 0; i < n; i++) {
            int ev = 0;
            if (r->pfd[i].revents == 0)
                continue;
            if (r->pfd[i].revents & (POLLIN | POLLHUP))
                ev |= CURL_CSELECT_IN;
            if (r->pfd[i].revents & POLLOUT)
                ev |= CURL_CSELECT_OUT;
            if (r->pfd[i].revents & (POLLERR | POLLNVAL))
                ev |= CURL_CSELECT_ERR;
            curl_multi_socket_action(r->multi, r->pfd[i].fd, ev, &running);
        }
    }
    if (r->timeout_ms >= 0 && now_s() - r->timer_set >= (double)r->timeout_ms / 1000.0) {
        r->timeout_ms = -1;
        curl_multi_socket_action(r->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    plain_done(r);
    while (r->started < r->limit && r->started - r->completed < cfg.parallel)
        plain_start(r);
}

/* ---- pincurl ----------------------------------------------------------------------- */

static void on_event(const pincurl_event *ev, void *user)
{
    struct run *r = user;
    if (pincurl_event_get_kind(ev) == PINCURL_EVENT_VALIDATION) {
        r->validations++;
        if (pincurl_event_decision(ev) != PINCURL_DECISION_ALLOW) {
            fprintf(stderr, "bench_multi: a connection was refused: %s\n",
                    pincurl_event_message(ev));
            failures++;
        }
    }
}

static void on_done(pincurl_call *call, pincurl_status st, pincurl_response *resp, void *user)
{
    struct run *r = user;
    size_t len = 0;
    const pincurl_transfer_info *info = pincurl_response_info(resp);
    (void)call;
    if (st != PINCURL_OK || pincurl_response_code(resp) != 200 ||
        info->http_version != (r->mode == MODE_H2 ? 20 : 11)) {
        fprintf(stderr, "bench_multi: arm C: %s, HTTP %ld, version %ld: %s\n",
                pincurl_status_name(st), pincurl_response_code(resp), info->http_version,
                pincurl_response_detail(resp));
        failures++;
    }
    (void)pincurl_response_body(resp, &len);
    check_body((long)len, "pincurl");
    r->connects += info->num_connects;
    pincurl_response_free(resp);
    r->completed++;
}

static void pincurl_start(struct run *r)
{
    pincurl_call *call = NULL;
    if (pincurl_call_new(r->client, r->request, &call) != PINCURL_OK ||
        pincurl_multi_add(r->pm, call, on_done, r) != PINCURL_OK) {
        fprintf(stderr, "bench_multi: arm C: cannot start a call\n");
        failures++;
        exit(1);
    }
    pincurl_call_free(call); /* the multi holds its own reference */
    r->started++;
}

static void pincurl_turn(struct run *r)
{
    while (r->started < r->limit && r->started - r->completed < cfg.parallel)
        pincurl_start(r);
    pincurl_multi_poll(r->pm, 1000, NULL);
}

/* ---- runs -------------------------------------------------------------------------- */

static void run_open(struct run *r, int arm, int mode, size_t total)
{
    memset(r, 0, sizeof(*r));
    r->arm = arm;
    r->mode = mode;
    r->limit = total;
    r->timeout_ms = -1;
    if (arm == ARM_C) {
        pincurl_policy_builder *b = pincurl_policy_builder_new(NULL);
        pincurl_options *o = pincurl_options_new();
        pincurl_policy *policy = NULL;
        size_t idx = 0;
        char scheme[16], host[256];
        /* the URL's host: https://HOST:PORT/ */
        if (sscanf(cfg.url, "%15[^:]://%255[^:/]", scheme, host) != 2 ||
            pincurl_policy_builder_add_domain(b, host, PINCURL_DOMAIN_ENFORCE, &idx) !=
                PINCURL_OK) {
            fprintf(stderr, "bench_multi: cannot pin the URL's host\n");
            exit(2);
        }
        for (size_t i = 0; i < cfg.pin_count; i++) {
            pincurl_pin pin;
            if (pincurl_pin_parse(cfg.pins[i], strlen(cfg.pins[i]), &pin) != PINCURL_OK ||
                pincurl_policy_builder_add_pin(b, idx, &pin) != PINCURL_OK) {
                fprintf(stderr, "bench_multi: bad pin %s\n", cfg.pins[i]);
                exit(2);
            }
        }
        if (pincurl_policy_builder_finish(b, &policy, NULL) != PINCURL_OK ||
            pincurl_options_set_ca_file(o, cfg.ca_file) != PINCURL_OK ||
            pincurl_options_set_http_version(o, mode == MODE_H2 ? PINCURL_HTTP_VERSION_2
                                                                : PINCURL_HTTP_VERSION_1_1) !=
                PINCURL_OK ||
            pincurl_options_set_event_callback(o, on_event, r) != PINCURL_OK ||
            pincurl_client_new(policy, o, &r->client) != PINCURL_OK ||
            pincurl_multi_new(r->client, &r->pm) != PINCURL_OK) {
            fprintf(stderr, "bench_multi: cannot make the client\n");
            exit(1);
        }
        pincurl_policy_builder_free(b);
        pincurl_options_free(o);
        pincurl_policy_unref(policy);
        r->request = pincurl_request_new("GET", cfg.url);
    } else {
        r->multi = curl_multi_init();
        /* the connection cache of pincurl's multi (docs/client.md) */
        curl_multi_setopt(r->multi, CURLMOPT_MAXCONNECTS, 64L);
        if (arm == ARM_A) {
            curl_multi_setopt(r->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
            curl_multi_setopt(r->multi, CURLMOPT_SOCKETDATA, r);
            curl_multi_setopt(r->multi, CURLMOPT_TIMERFUNCTION, on_timer);
            curl_multi_setopt(r->multi, CURLMOPT_TIMERDATA, r);
        }
    }
}

static void run_close(struct run *r)
{
    if (r->arm == ARM_C) {
        pincurl_multi_free(r->pm);
        pincurl_client_free(r->client);
        pincurl_request_free(r->request);
        return;
    }
    for (size_t i = 0; i < cfg.parallel; i++) {
        if (r->slots[i].easy != NULL) {
            curl_multi_remove_handle(r->multi, r->slots[i].easy);
            curl_easy_cleanup(r->slots[i].easy);
        }
        free(r->slots[i].body.data);
    }
    curl_multi_cleanup(r->multi);
}

/* Drives until target completions. */
static void run_until(struct run *r, size_t target)
{
    double end = now_s() + 120;
    while (r->completed < target) {
        if (now_s() > end) {
            fprintf(stderr, "bench_multi: arm %c stalled at %zu of %zu\n", arm_letters[r->arm],
                    r->completed, target);
            exit(1);
        }
        if (r->arm == ARM_C)
            pincurl_turn(r);
        else
            plain_turn(r);
    }
}

/* The part callgrind counts (--toggle-collect=measured_run). */
__attribute__((noinline)) void measured_run(struct run *r, size_t target);
__attribute__((noinline)) void measured_run(struct run *r, size_t target)
{
    run_until(r, target);
}

/* One run of an arm in a mode: warm-up, then the measured requests with the pipeline
 * full; the wall time of the measured part per request, in microseconds. */
static double one_run(int arm, int mode, long *connects, long *warm_connects,
                      unsigned long *validations)
{
    struct run r;
    double t0, t1;
    size_t total = cfg.warmup + cfg.requests + cfg.parallel;
    run_open(&r, arm, mode, total);
    run_until(&r, cfg.warmup);
    *warm_connects = r.connects;
    t0 = now_s();
    measured_run(&r, cfg.warmup + cfg.requests);
    t1 = now_s();
    *connects = r.connects;
    r.limit = r.started; /* start no more; let the ones in flight finish */
    run_until(&r, r.started);
    *validations = r.validations;
    run_close(&r);
    return (t1 - t0) * 1e6 / (double)cfg.requests;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_multi --url URL --ca-file PEM --pin PIN --pin PIN\n"
            "         [--requests N] [--parallel P] [--warmup W] [--rounds R]\n"
            "         [--arms ABC] [--mode h2|h1|both]\n"
            "  --url       https URL of a server on loopback offering HTTP/2 (small body)\n"
            "  --ca-file   PEM of the root that issued the server's chain\n"
            "  --pin       sha256/... pinned by pincurl's policy (arm C); two or more\n"
            "  --requests  measured requests per arm and mode (default 1000)\n"
            "  --parallel  requests in flight (default 50, at most %d)\n"
            "  --warmup    unmeasured requests first, on the same connections (default 100)\n"
            "  --rounds    runs of each arm and mode, alternating (default 3)\n"
            "  --arms      which arms to run (default ABC)\n"
            "  --mode      which HTTP version(s) (default both)\n",
            MAX_PARALLEL);
}

static int parse_size(const char *text, size_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-')
        return -1;
    *out = (size_t)v;
    return 0;
}

static int parse_args(int argc, char **argv)
{
    cfg.requests = 1000;
    cfg.parallel = 50;
    cfg.warmup = 100;
    cfg.rounds = 3;
    for (int a = 0; a < ARM_COUNT; a++)
        cfg.arms[a] = 1;
    cfg.modes[MODE_H2] = cfg.modes[MODE_H1] = 1;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i], *val;
        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_multi: %s needs a value\n", opt);
            return -1;
        }
        val = argv[++i];
        if (strcmp(opt, "--url") == 0) {
            cfg.url = val;
        } else if (strcmp(opt, "--ca-file") == 0) {
            cfg.ca_file = val;
        } else if (strcmp(opt, "--pin") == 0) {
            if (cfg.pin_count == MAX_PINS)
                return -1;
            cfg.pins[cfg.pin_count++] = val;
        } else if (strcmp(opt, "--requests") == 0) {
            if (parse_size(val, &cfg.requests) != 0 || cfg.requests == 0)
                goto bad;
        } else if (strcmp(opt, "--parallel") == 0) {
            if (parse_size(val, &cfg.parallel) != 0 || cfg.parallel == 0 ||
                cfg.parallel > MAX_PARALLEL)
                goto bad;
        } else if (strcmp(opt, "--warmup") == 0) {
            if (parse_size(val, &cfg.warmup) != 0)
                goto bad;
        } else if (strcmp(opt, "--rounds") == 0) {
            if (parse_size(val, &cfg.rounds) != 0 || cfg.rounds == 0)
                goto bad;
        } else if (strcmp(opt, "--arms") == 0) {
            for (const char *p = val; *p; p++)
                if (strchr("ABC", *p) == NULL)
                    goto bad;
            for (int a = 0; a < ARM_COUNT; a++)
                cfg.arms[a] = strchr(val, arm_letters[a]) != NULL;
        } else if (strcmp(opt, "--mode") == 0) {
            cfg.modes[MODE_H2] = strcmp(val, "h2") == 0 || strcmp(val, "both") == 0;
            cfg.modes[MODE_H1] = strcmp(val, "h1") == 0 || strcmp(val, "both") == 0;
            if (!cfg.modes[MODE_H2] && !cfg.modes[MODE_H1])
                goto bad;
        } else {
            fprintf(stderr, "bench_multi: unknown option %s\n", opt);
            usage(stderr);
            return -1;
        }
        continue;
    bad:
        fprintf(stderr, "bench_multi: bad value for %s: %s\n", opt, val);
        return -1;
    }
    if (cfg.url == NULL || cfg.ca_file == NULL) {
        usage(stderr);
        return -1;
    }
    if (cfg.arms[ARM_C] && cfg.pin_count < 2) {
        fprintf(stderr, "bench_multi: arm C needs two --pin (a pin and a backup)\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    double *times[MODE_COUNT][ARM_COUNT];
    long connects[MODE_COUNT][ARM_COUNT], warm[MODE_COUNT][ARM_COUNT];
    unsigned long validations[MODE_COUNT][ARM_COUNT];

    if (parse_args(argc, argv) != 0)
        return 2;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    printf("== bench_multi: %zu measured requests per arm and mode, %zu in flight, %zu warm-up "
           "requests first, %zu rounds; %s\n",
           cfg.requests, cfg.parallel, cfg.warmup, cfg.rounds, curl_version());
    for (int mode = 0; mode < MODE_COUNT; mode++) {
        if (!cfg.modes[mode])
            continue;
        for (int arm = 0; arm < ARM_COUNT; arm++)
            times[mode][arm] = calloc(cfg.rounds, sizeof(double));
        for (size_t round = 0; round < cfg.rounds; round++) {
            for (int arm = 0; arm < ARM_COUNT; arm++) {
                if (!cfg.arms[arm])
                    continue;
                times[mode][arm][round] = one_run(arm, mode, &connects[mode][arm],
                                                  &warm[mode][arm], &validations[mode][arm]);
            }
        }
        printf("\n== %s, %zu in flight (us per request: median of %zu runs, min, max; new "
               "connections in the warm-up / the measured part)\n",
               mode_names[mode], cfg.parallel, cfg.rounds);
        double med[ARM_COUNT] = {0};
        for (int arm = 0; arm < ARM_COUNT; arm++) {
            if (!cfg.arms[arm])
                continue;
            qsort(times[mode][arm], cfg.rounds, sizeof(double), cmp_double);
            med[arm] = times[mode][arm][cfg.rounds / 2];
            printf("  %-40s %9.1f %9.1f %9.1f   connections %ld / %ld",
                   arm_names[arm], med[arm], times[mode][arm][0],
                   times[mode][arm][cfg.rounds - 1], warm[mode][arm],
                   connects[mode][arm] - warm[mode][arm]);
            if (arm == ARM_C)
                printf("   decisions %lu", validations[mode][arm]);
            printf("\n");
            long max_conns = mode == MODE_H2 ? 1 : (long)cfg.parallel;
            if (connects[mode][arm] > max_conns) {
                fprintf(stderr, "bench_multi: arm %c made %ld connections in %s (at most %ld)\n",
                        arm_letters[arm], connects[mode][arm], mode_keys[mode], max_conns);
                failures++;
            }
        }
        if (cfg.arms[ARM_C] && cfg.arms[ARM_A])
            printf("  C/A %.4f", med[ARM_C] / med[ARM_A]);
        if (cfg.arms[ARM_C] && cfg.arms[ARM_B])
            printf("  C/B %.4f", med[ARM_C] / med[ARM_B]);
        if (cfg.arms[ARM_B] && cfg.arms[ARM_A])
            printf("  B/A %.4f", med[ARM_B] / med[ARM_A]);
        printf("\n");
        for (int arm = 0; arm < ARM_COUNT; arm++)
            free(times[mode][arm]);
    }
    if (failures > 0) {
        fprintf(stderr, "bench_multi: %d failures\n", failures);
        return 1;
    }
    return 0;
}
