/*
 * bench_requests: the cost of pinning per HTTPS request, in one process, one run.
 *
 * Arms (alternated request by request, or in small batches, so drift hits all alike):
 *   A  plain libcurl: certificate verification, no pinning, TLS session cache off
 *   B  libcurl with CURLOPT_PINNEDPUBLICKEY set to the leaf's pin
 *   C  pincurl, with a policy pinning the intermediate plus a backup pin
 *   D  (kept-alive only, informational) pincurl_attach on a reused easy handle
 * Scenarios:
 *   full    a new TCP connection and a full TLS handshake for every request
 *   cold    as full, but arm C's path cache is emptied before every request: the path is
 *           built and its signatures verified each time (a first connection to a new chain)
 *   keep    one kept-alive connection per arm, reused by every request
 *   resume  every request on a new connection that resumes the TLS session of the one
 *           before (the server closes each connection: "Connection: close"; --resume-url
 *           names a server with session tickets on); arm D is an attached handle
 *   threads kept-alive throughput of 1 and of --threads N threads sharing one client (and,
 *           for comparison, N threads of plain libcurl, one handle each)
 *
 * Prints per arm the median, 90th percentile, mean and minimum wall time per request and the
 * median process CPU time; then the ratios to arm A (of the medians, of the p90s, the median
 * of per-round paired ratios, of the CPU medians). The targets are on instruction counts
 * (bench/run.sh, callgrind); wall-time ratios are printed for information, except the
 * threads scenario's throughput ratio, whose target (at least 1.8) is checked here. Every
 * response is checked (HTTP 200, same body length; pincurl statuses OK) and so is each
 * scenario's connection count. Exit status: 0 when the run completed, 1 on a failed request,
 * 2 on bad arguments; a missed target is reported, not an error.
 * Under callgrind, pass --toggle-collect=measured_batch to count only measured requests.
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pincurl/client.h"
#include "pincurl/core.h"

#include "http/http.h" /* pc_path_cache_clear on the client's cache (scenario cold) */

#define TARGET_THREADS 1.8
#define MAX_PINS 8

enum { ARM_A, ARM_B, ARM_C, ARM_D, ARM_COUNT };
enum { SC_FULL, SC_COLD, SC_KEEP, SC_RESUME, SC_COUNT };

static const char arm_letters[ARM_COUNT] = {'A', 'B', 'C', 'D'};
static const char *const arm_names[SC_COUNT][ARM_COUNT] = {
    {"A libcurl", "B libcurl + PINNEDPUBLICKEY (leaf)",
     "C pincurl (pincurl_attach, fresh connections)", "D (not run)"},
    {"A libcurl", "B (not run)", "C pincurl (attach, fresh, path cache emptied)",
     "D (not run)"},
    {"A libcurl", "B libcurl + PINNEDPUBLICKEY (leaf)", "C pincurl (pincurl_client_perform)",
     "D pincurl (pincurl_attach, reused handle)"},
    {"A libcurl (session cache on)", "B (not run)", "C pincurl (pincurl_client_perform)",
     "D pincurl (pincurl_attach: sessions off)"}};
static const char *const scenario_names[SC_COUNT] = {
    "full handshake per request (new TCP + TLS connection each time)",
    "first connection to a new chain (full handshake, path built and verified each time)",
    "kept-alive (one connection per arm, reused)",
    "resumed TLS session per request (new TCP connection, server closes each one)"};
static const char *const scenario_keys[SC_COUNT] = {"full", "cold", "keep", "resume"};

struct config {
    const char *url;
    const char *ca_file;
    const char *leaf_pin;
    const char *pins[MAX_PINS];
    size_t pin_count;
    size_t requests;
    size_t rounds;
    size_t warmup;
    int scenarios[SC_COUNT];
    int arms[ARM_COUNT];
    int check_handshakes;
    const char *resume_url; /* a server with session resumption on (scenario resume) */
    size_t threads;         /* scenario threads: this many threads against one */
    int run_threads;
};

struct sink {
    unsigned char *data;
    size_t len;
    size_t cap;
};

struct arm_state {
    CURL *easy;
    pincurl_attachment *att;
    struct sink sink;
    double *samples;           /* wall time per measured request, in measurement order */
    double *cpu;               /* process CPU time per measured request */
    double *round_sum;         /* wall time per round, for the paired ratios */
    size_t count;
    long new_connections;      /* CURLINFO_NUM_CONNECTS summed over measured requests */
    unsigned long handshakes;  /* validations seen by the callback (--check-handshakes) */
};

struct bench {
    struct config cfg;
    pincurl_client *client;
    pincurl_request *request;
    pincurl_request *resume_request; /* resume_url?arm=C, "Connection: close" */
    size_t body_len;           /* length of the first body seen; every later one must match */
    unsigned long validations; /* validation callback count */
    struct arm_state arms[ARM_COUNT];
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_requests --url URL --ca-file PEM --leaf-pin PIN --pin PIN --pin PIN\n"
            "         [--requests N] [--rounds R] [--warmup W] [--scenario full|keep|both]\n"
            "         [--arms ABCD] [--check-handshakes] [--resume-url URL] [--threads N]\n"
            "  --url         https URL of a server on loopback (keep-alive, small body)\n"
            "  --ca-file     PEM of the root that issued the server's chain\n"
            "  --leaf-pin    sha256/... of the server's leaf (arm B, CURLOPT_PINNEDPUBLICKEY)\n"
            "  --pin         sha256/... pinned by pincurl's policy (arms C, D); two or more\n"
            "  --requests    measured requests per arm per scenario (default 300)\n"
            "  --rounds      rounds the arms alternate in (default: as many as requests)\n"
            "  --warmup      unmeasured requests per arm per scenario first (default 20)\n"
            "  --scenario    full, cold, keep, resume, threads or a comma-separated list\n"
            "                (default full,keep; resume needs --resume-url)\n"
            "  --resume-url  https URL of a server that resumes TLS sessions (scenario resume)\n"
            "  --threads     threads of the threads scenario, against one (default 8)\n"
            "  --arms        which arms to run (default ABCD; D runs only kept-alive)\n"
            "  --check-handshakes  count pincurl validations with a validation callback:\n"
            "                one per request (full), none (kept-alive); adds a callback\n");
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

static int parse_args(int argc, char **argv, struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->requests = 300;
    cfg->warmup = 20;
    cfg->scenarios[SC_FULL] = cfg->scenarios[SC_KEEP] = 1;
    cfg->threads = 8;
    for (int a = 0; a < ARM_COUNT; a++)
        cfg->arms[a] = 1;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(opt, "--check-handshakes") == 0) {
            cfg->check_handshakes = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_requests: %s needs a value\n", opt);
            return -1;
        }
        const char *val = argv[++i];
        if (strcmp(opt, "--url") == 0) {
            cfg->url = val;
        } else if (strcmp(opt, "--ca-file") == 0) {
            cfg->ca_file = val;
        } else if (strcmp(opt, "--leaf-pin") == 0) {
            cfg->leaf_pin = val;
        } else if (strcmp(opt, "--pin") == 0) {
            if (cfg->pin_count == MAX_PINS) {
                fprintf(stderr, "bench_requests: at most %d --pin\n", MAX_PINS);
                return -1;
            }
            cfg->pins[cfg->pin_count++] = val;
        } else if (strcmp(opt, "--requests") == 0) {
            if (parse_size(val, &cfg->requests) != 0 || cfg->requests == 0)
                goto bad_value;
        } else if (strcmp(opt, "--rounds") == 0) {
            if (parse_size(val, &cfg->rounds) != 0 || cfg->rounds == 0)
                goto bad_value;
        } else if (strcmp(opt, "--warmup") == 0) {
            if (parse_size(val, &cfg->warmup) != 0)
                goto bad_value;
        } else if (strcmp(opt, "--scenario") == 0) {
            char list[128];
            int any = 0;
            snprintf(list, sizeof(list), "%s", val);
            for (int sc = 0; sc < SC_COUNT; sc++)
                cfg->scenarios[sc] = 0;
            cfg->run_threads = 0;
            for (char *save = NULL, *w = strtok_r(list, ",", &save); w != NULL;
                 w = strtok_r(NULL, ",", &save)) {
                int known = 0;
                if (strcmp(w, "both") == 0) {
                    cfg->scenarios[SC_FULL] = cfg->scenarios[SC_KEEP] = 1;
                    known = 1;
                }
                if (strcmp(w, "threads") == 0)
                    cfg->run_threads = known = 1;
                for (int sc = 0; sc < SC_COUNT; sc++)
                    if (strcmp(w, scenario_keys[sc]) == 0)
                        cfg->scenarios[sc] = known = 1;
                if (!known)
                    goto bad_value;
                any = 1;
            }
            if (!any)
                goto bad_value;
        } else if (strcmp(opt, "--resume-url") == 0) {
            cfg->resume_url = val;
        } else if (strcmp(opt, "--threads") == 0) {
            if (parse_size(val, &cfg->threads) != 0 || cfg->threads < 2 || cfg->threads > 64)
                goto bad_value;
        } else if (strcmp(opt, "--arms") == 0) {
            for (int a = 0; a < ARM_COUNT; a++)
                cfg->arms[a] = strchr(val, arm_letters[a]) != NULL;
            for (const char *p = val; *p; p++)
                if (strchr("ABCD", *p) == NULL)
                    goto bad_value;
        } else {
            fprintf(stderr, "bench_requests: unknown option %s\n", opt);
            usage(stderr);
            return -1;
        }
        continue;
    bad_value:
        fprintf(stderr, "bench_requests: bad value for %s: %s\n", opt, val);
        return -1;
    }
    if (cfg->url == NULL || cfg->ca_file == NULL) {
        fprintf(stderr, "bench_requests: --url and --ca-file are required\n");
        usage(stderr);
        return -1;
    }
    if (cfg->arms[ARM_B] && cfg->leaf_pin == NULL) {
        fprintf(stderr, "bench_requests: arm B needs --leaf-pin\n");
        return -1;
    }
    if ((cfg->arms[ARM_C] || cfg->arms[ARM_D]) && cfg->pin_count < 2) {
        fprintf(stderr, "bench_requests: arms C and D need two --pin (a pin and a backup)\n");
        return -1;
    }
    if (cfg->scenarios[SC_RESUME] && cfg->resume_url == NULL) {
        fprintf(stderr, "bench_requests: scenario resume needs --resume-url\n");
        return -1;
    }
    if (cfg->rounds == 0 || cfg->rounds > cfg->requests)
        cfg->rounds = cfg->requests;
    return 0;
}

static double clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double now_us(void)
{
    return clock_us(CLOCK_MONOTONIC);
}

static size_t sink_write(char *data, size_t size, size_t nmemb, void *user)
{
    struct sink *s = user;
    size_t n = size * nmemb;
    if (n > s->cap - s->len) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap - s->len < n)
            cap *= 2;
        unsigned char *p = realloc(s->data, cap);
        if (p == NULL)
            return 0;
        s->data = p;
        s->cap = cap;
    }
    memcpy(s->data + s->len, data, n);
    s->len += n;
    return n;
}

static void on_validation(const pincurl_event *event, void *user)
{
    struct bench *b = user;
    if (pincurl_event_get_kind(event) == PINCURL_EVENT_VALIDATION)
        b->validations++;
}

/* The server's host from the URL, for the policy entry. */
static char *url_host(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL;
    char *copy = NULL;
    if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
        copy = strdup(host);
    curl_free(host);
    curl_url_cleanup(u);
    return copy;
}

static int make_client(struct bench *b)
{
    const struct config *cfg = &b->cfg;
    pincurl_policy_builder *builder = NULL;
    pincurl_policy *policy = NULL;
    pincurl_options *opts = NULL;
    char *host = url_host(cfg->url);
    pincurl_status st = PINCURL_INTERNAL;
    const char *what = "url";
    size_t index = 0;

    if (host == NULL)
        goto fail;
    what = "policy";
    builder = pincurl_policy_builder_new(NULL);
    if (builder == NULL)
        goto fail;
    st = pincurl_policy_builder_add_domain(builder, host, PINCURL_DOMAIN_ENFORCE, &index);
    if (st != PINCURL_OK)
        goto fail;
    for (size_t i = 0; i < cfg->pin_count; i++) {
        pincurl_pin pin;
        what = cfg->pins[i];
        st = pincurl_pin_parse(cfg->pins[i], strlen(cfg->pins[i]), &pin);
        if (st == PINCURL_OK)
            st = pincurl_policy_builder_add_pin(builder, index, &pin);
        if (st != PINCURL_OK)
            goto fail;
    }
    what = "policy";
    st = pincurl_policy_builder_finish(builder, &policy, NULL);
    if (st != PINCURL_OK)
        goto fail;
    what = "options";
    st = PINCURL_OUT_OF_MEMORY;
    opts = pincurl_options_new();
    if (opts == NULL)
        goto fail;
    st = pincurl_options_set_ca_file(opts, cfg->ca_file);
    if (st == PINCURL_OK && cfg->check_handshakes)
        st = pincurl_options_set_event_callback(opts, on_validation, b);
    if (st != PINCURL_OK)
        goto fail;
    what = "client";
    st = pincurl_client_new(policy, opts, &b->client);
    if (st != PINCURL_OK)
        goto fail;
    what = "request";
    st = PINCURL_OUT_OF_MEMORY;
    b->request = pincurl_request_new("GET", cfg->url);
    if (b->request == NULL)
        goto fail;
    if (cfg->resume_url != NULL) {
        char url[1024];
        snprintf(url, sizeof(url), "%s?arm=C", cfg->resume_url);
        b->resume_request = pincurl_request_new("GET", url);
        if (b->resume_request == NULL)
            goto fail;
        st = pincurl_request_add_header(b->resume_request, "Connection: close");
        if (st != PINCURL_OK)
            goto fail;
    }
    pincurl_options_free(opts);
    pincurl_policy_unref(policy);
    pincurl_policy_builder_free(builder);
    free(host);
    return 0;
fail:
    fprintf(stderr, "bench_requests: setting up pincurl (%s): %s\n", what,
            pincurl_strerror(st));
    pincurl_options_free(opts);
    pincurl_policy_unref(policy);
    pincurl_policy_builder_free(builder);
    free(host);
    return -1;
}

static struct curl_slist *connection_close;

/* An easy handle with the options every libcurl arm shares. Scenario resume: the arm's own
 * URL on the resuming server, the session cache on, and "Connection: close". */
static CURL *make_easy(const struct bench *b, struct sink *sink, int fresh, int scenario,
                       int arm)
{
    CURL *e = curl_easy_init();
    char url[1024];
    if (e == NULL)
        return NULL;
    if (scenario == SC_RESUME)
        snprintf(url, sizeof(url), "%s?arm=%c", b->cfg.resume_url, arm_letters[arm]);
    else
        snprintf(url, sizeof(url), "%s", b->cfg.url);
    int ok = curl_easy_setopt(e, CURLOPT_URL, url) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_CAINFO, b->cfg.ca_file) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE,
                              scenario == SC_RESUME ? 1L : 0L) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink_write) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_WRITEDATA, sink) == CURLE_OK;
    if (ok && fresh)
        ok = curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L) == CURLE_OK;
    /* Each new connection ends with the server's close: closing it from the client side
     * would leave a TLS shutdown polled for the server's close_notify as often as timing
     * has it, which varies the instruction counts by tens of thousands between runs. */
    if (ok && (scenario == SC_RESUME || fresh))
        ok = curl_easy_setopt(e, CURLOPT_HTTPHEADER, connection_close) == CURLE_OK;
    if (!ok) {
        curl_easy_cleanup(e);
        return NULL;
    }
    return e;
}

static int arm_setup(struct bench *b, int arm, int scenario)
{
    struct arm_state *s = &b->arms[arm];
    s->count = 0;
    s->new_connections = 0;
    s->handshakes = 0;
    s->samples = calloc(b->cfg.requests, sizeof(double));
    s->cpu = calloc(b->cfg.requests, sizeof(double));
    s->round_sum = calloc(b->cfg.rounds, sizeof(double));
    if (s->samples == NULL || s->cpu == NULL || s->round_sum == NULL)
        return -1;
    if (arm == ARM_C && (scenario == SC_KEEP || scenario == SC_RESUME))
        return 0; /* pincurl_client_perform: the client's own handles */
    s->easy = make_easy(b, &s->sink, scenario == SC_FULL || scenario == SC_COLD, scenario, arm);
    if (s->easy == NULL)
        return -1;
    if (arm == ARM_B) {
        /* libcurl spells a pin "sha256//BASE64"; accept pincurl's "sha256/BASE64" too. */
        char pin[128];
        const char *p = b->cfg.leaf_pin;
        if (strncmp(p, "sha256/", 7) == 0 && p[7] != '/')
            snprintf(pin, sizeof(pin), "sha256//%s", p + 7);
        else
            snprintf(pin, sizeof(pin), "%s", p);
        if (curl_easy_setopt(s->easy, CURLOPT_PINNEDPUBLICKEY, pin) != CURLE_OK) {
            fprintf(stderr, "bench_requests: CURLOPT_PINNEDPUBLICKEY refused\n");
            return -1;
        }
    }
    if (arm == ARM_C || arm == ARM_D) {
        pincurl_status st = pincurl_attach(b->client, s->easy, &s->att);
        if (st != PINCURL_OK) {
            fprintf(stderr, "bench_requests: pincurl_attach: %s\n", pincurl_strerror(st));
            return -1;
        }
    }
    return 0;
}

static void arm_teardown(struct arm_state *s)
{
    if (s->easy != NULL)
        curl_easy_cleanup(s->easy);
    pincurl_detach(s->att);
    free(s->samples);
    free(s->cpu);
    free(s->round_sum);
    free(s->sink.data);
    s->easy = NULL;
    s->att = NULL;
    s->samples = NULL;
    s->cpu = NULL;
    s->round_sum = NULL;
    s->sink.data = NULL;
    s->sink.len = s->sink.cap = 0;
}

static int check_body(struct bench *b, size_t len, char arm)
{
    if (b->body_len == 0 && len > 0)
        b->body_len = len;
    if (len == 0 || len != b->body_len) {
        fprintf(stderr, "bench_requests: arm %c: body of %zu bytes, expected %zu\n", arm, len,
                b->body_len);
        return -1;
    }
    return 0;
}

/* One request on an arm; *us receives the wall time it took. */
static int run_one_timed(struct bench *b, int arm, int scenario, double *us)
{
    struct arm_state *s = &b->arms[arm];
    char letter = arm_letters[arm];
    unsigned long before = b->validations;

    if (arm == ARM_C && scenario == SC_COLD)
        pc_path_cache_clear(b->client->cache); /* a chain this client has not seen */
    if (arm == ARM_C && (scenario == SC_KEEP || scenario == SC_RESUME)) {
        pincurl_response *resp = NULL;
        const pincurl_request *req = scenario == SC_RESUME ? b->resume_request : b->request;
        double t0 = now_us();
        pincurl_status st = pincurl_client_perform(b->client, req, &resp);
        double t1 = now_us();
        int bad = st != PINCURL_OK || resp == NULL || pincurl_response_code(resp) != 200;
        if (bad) {
            fprintf(stderr, "bench_requests: arm C: %s (HTTP %ld) %s\n", pincurl_strerror(st),
                    resp ? pincurl_response_code(resp) : 0L,
                    resp ? pincurl_response_detail(resp) : "");
        } else {
            size_t len = 0;
            pincurl_response_body(resp, &len);
            bad = check_body(b, len, letter) != 0;
        }
        double t2 = now_us();
        pincurl_response_free(resp);
        double t3 = now_us();
        *us = (t1 - t0) + (t3 - t2);
        s->handshakes += b->validations - before;
        return bad ? -1 : 0;
    }

    s->sink.len = 0;
    double t0 = now_us();
    CURLcode rc = curl_easy_perform(s->easy);
    double t1 = now_us();
    *us = t1 - t0;
    long code = 0, conns = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(s->easy, CURLINFO_NUM_CONNECTS, &conns);
    s->new_connections += conns;
    s->handshakes += b->validations - before;
    if (s->att != NULL) {
        pincurl_status st = pincurl_attachment_status(s->att, (int)rc);
        if (st != PINCURL_OK) {
            fprintf(stderr, "bench_requests: arm %c: %s: %s\n", letter, pincurl_strerror(st),
                    pincurl_attachment_detail(s->att));
            return -1;
        }
    }
    if (rc != CURLE_OK || code != 200) {
        fprintf(stderr, "bench_requests: arm %c: %s (HTTP %ld)\n", letter,
                curl_easy_strerror(rc), code);
        return -1;
    }
    return check_body(b, s->sink.len, letter);
}

/* As run_one_timed; *cpu also receives the process CPU time, read outside the wall-time
 * window. */
static int run_one(struct bench *b, int arm, int scenario, double *us, double *cpu)
{
    double c0 = clock_us(CLOCK_PROCESS_CPUTIME_ID);
    int rc = run_one_timed(b, arm, scenario, us);
    *cpu = clock_us(CLOCK_PROCESS_CPUTIME_ID) - c0;
    return rc;
}

/* The measured requests of one round (callgrind: --toggle-collect=measured_batch). */
__attribute__((noinline)) int measured_batch(struct bench *b, int arm, int scenario,
                                             size_t round, size_t n);
__attribute__((noinline)) int measured_batch(struct bench *b, int arm, int scenario,
                                             size_t round, size_t n)
{
    struct arm_state *s = &b->arms[arm];
    for (size_t i = 0; i < n; i++) {
        double us = 0, cpu = 0;
        if (run_one(b, arm, scenario, &us, &cpu) != 0)
            return -1;
        s->samples[s->count] = us;
        s->cpu[s->count] = cpu;
        s->count++;
        s->round_sum[round] += us;
    }
    return 0;
}

static int arm_runs(const struct bench *b, int arm, int scenario)
{
    if (!b->cfg.arms[arm])
        return 0;
    if (scenario == SC_FULL)
        return arm != ARM_D;
    if (scenario == SC_COLD)
        return arm == ARM_A || arm == ARM_C;
    if (scenario == SC_RESUME)
        return arm != ARM_B;
    return 1;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, c = *(const double *)y;
    return (a > c) - (a < c);
}

/* Median of v (sorted in place). */
static double median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

struct stats {
    double median, p90, mean, min, cpu_median;
};

static struct stats summarize(struct arm_state *s)
{
    struct stats st = {0, 0, 0, 0, 0};
    size_t n = s->count;
    if (n == 0)
        return st;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += s->samples[i];
    st.mean = sum / (double)n;
    st.median = median(s->samples, n);
    st.p90 = s->samples[(n * 9 + 9) / 10 - 1]; /* nearest rank: ceil(0.9 n) */
    st.min = s->samples[0];
    st.cpu_median = median(s->cpu, n);
    return st;
}

/* Median over rounds of (arm's time in the round / arm A's time in the same round). */
static double paired_ratio(const struct bench *b, int arm)
{
    size_t rounds = b->cfg.rounds;
    double *r = calloc(rounds, sizeof(double));
    if (r == NULL)
        return 0;
    for (size_t i = 0; i < rounds; i++)
        r[i] = b->arms[arm].round_sum[i] / b->arms[ARM_A].round_sum[i];
    double m = median(r, rounds);
    free(r);
    return m;
}

static int run_scenario(struct bench *b, int scenario, double ratios[ARM_COUNT])
{
    const struct config *cfg = &b->cfg;
    struct stats st[ARM_COUNT];
    int rc = -1;

    for (int a = 0; a < ARM_COUNT; a++)
        if (arm_runs(b, a, scenario) && arm_setup(b, a, scenario) != 0) {
            fprintf(stderr, "bench_requests: cannot set up arm %c\n", arm_letters[a]);
            goto out;
        }
    for (size_t w = 0; w < cfg->warmup; w++)
        for (int a = 0; a < ARM_COUNT; a++) {
            double us, cpu;
            if (arm_runs(b, a, scenario) && run_one(b, a, scenario, &us, &cpu) != 0)
                goto out;
        }
    for (int a = 0; a < ARM_COUNT; a++) {
        b->arms[a].new_connections = 0;
        b->arms[a].handshakes = 0;
    }
    for (size_t r = 0; r < cfg->rounds; r++) {
        size_t n = cfg->requests / cfg->rounds + (r < cfg->requests % cfg->rounds ? 1 : 0);
        for (int a = 0; a < ARM_COUNT; a++)
            if (arm_runs(b, a, scenario) && measured_batch(b, a, scenario, r, n) != 0)
                goto out;
    }
    /* Paired ratios need the per-round sums, before summarize() sorts the samples. */
    double paired[ARM_COUNT] = {0};
    if (cfg->arms[ARM_A])
        for (int a = ARM_B; a < ARM_COUNT; a++)
            if (arm_runs(b, a, scenario))
                paired[a] = paired_ratio(b, a);

    printf("\nscenario %s: %s\n", scenario_keys[scenario], scenario_names[scenario]);
    printf("  %-48s %10s %10s %10s %10s %10s %9s\n", "arm", "median_us", "p90_us", "mean_us",
           "min_us", "cpu_med_us", "new_conns");
    for (int a = 0; a < ARM_COUNT; a++) {
        if (!arm_runs(b, a, scenario))
            continue;
        struct arm_state *s = &b->arms[a];
        st[a] = summarize(s);
        char conns[32];
        if (s->easy != NULL)
            snprintf(conns, sizeof(conns), "%ld", s->new_connections);
        else
            snprintf(conns, sizeof(conns), "n/a");
        printf("  %-48s %10.1f %10.1f %10.1f %10.1f %10.1f %9s\n", arm_names[scenario][a],
               st[a].median, st[a].p90, st[a].mean, st[a].min, st[a].cpu_median, conns);
    }
    /* Sanity: the scenario is what it claims to be. */
    for (int a = 0; a < ARM_COUNT; a++) {
        if (!arm_runs(b, a, scenario))
            continue;
        const struct arm_state *s = &b->arms[a];
        long want_conns = scenario == SC_KEEP ? 0 : (long)cfg->requests;
        if (s->easy != NULL && s->new_connections != want_conns) {
            fprintf(stderr, "bench_requests: arm %c made %ld new connections, expected %ld\n",
                    arm_letters[a], s->new_connections, want_conns);
            goto out;
        }
        if (cfg->check_handshakes && (a == ARM_C || a == ARM_D)) {
            /* a decision per new connection (in the handshake, or for a resumed session
             * before its first request), none on a reused one */
            unsigned long want = scenario == SC_KEEP ? 0 : (unsigned long)cfg->requests;
            printf("  arm %c: %lu pincurl validations in %zu measured requests\n",
                   arm_letters[a], s->handshakes, cfg->requests);
            if (s->handshakes != want) {
                fprintf(stderr, "bench_requests: arm %c: %lu validations, expected %lu\n",
                        arm_letters[a], s->handshakes, want);
                goto out;
            }
        }
    }
    if (cfg->arms[ARM_A]) {
        printf("  ratios to A: of the medians, of the p90s, median of per-round paired ratios,"
               " of the CPU-time medians (wall time; the targets are on instructions: "
               "bench/run.sh)\n");
        for (int a = ARM_B; a < ARM_COUNT; a++) {
            if (!arm_runs(b, a, scenario))
                continue;
            ratios[a] = st[a].median / st[ARM_A].median;
            printf("  ratio %c/A  median %.4f  p90 %.4f  paired %.4f  cpu %.4f\n",
                   arm_letters[a], ratios[a], st[a].p90 / st[ARM_A].p90, paired[a],
                   st[a].cpu_median / st[ARM_A].cpu_median);
        }
    }
    rc = 0;
out:
    fflush(stdout);
    for (int a = 0; a < ARM_COUNT; a++)
        arm_teardown(&b->arms[a]);
    return rc;
}

/* ---- Scenario threads: kept-alive throughput of N threads against one ---------------- */

struct worker {
    struct bench *b;
    int pincurl;              /* 1: pincurl_client_perform on the shared client */
    size_t requests;
    pthread_barrier_t *start; /* after the warm-up, all threads start together */
    int failed;
};

static int worker_one(struct worker *w, CURL *e, struct sink *sink, pincurl_request *req)
{
    if (w->pincurl) {
        pincurl_response *resp = NULL;
        pincurl_status st = pincurl_client_perform(w->b->client, req, &resp);
        int bad = st != PINCURL_OK || pincurl_response_code(resp) != 200;
        if (bad)
            fprintf(stderr, "bench_requests: threads: %s %s\n", pincurl_strerror(st),
                    resp != NULL ? pincurl_response_detail(resp) : "");
        pincurl_response_free(resp);
        return bad ? -1 : 0;
    }
    long code = 0;
    sink->len = 0;
    CURLcode rc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK || code != 200) {
        fprintf(stderr, "bench_requests: threads: %s (HTTP %ld)\n", curl_easy_strerror(rc),
                code);
        return -1;
    }
    return 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct sink sink = {NULL, 0, 0};
    CURL *e = NULL;
    pincurl_request *req = NULL;

    if (w->pincurl)
        req = pincurl_request_new("GET", w->b->cfg.url);
    else
        e = make_easy(w->b, &sink, 0, SC_KEEP, ARM_A);
    w->failed = (w->pincurl ? req == NULL : e == NULL);
    for (int i = 0; i < 5 && !w->failed; i++) /* warm-up: the connection, the pool */
        w->failed = worker_one(w, e, &sink, req) != 0;
    pthread_barrier_wait(w->start);
    for (size_t i = 0; i < w->requests && !w->failed; i++)
        w->failed = worker_one(w, e, &sink, req) != 0;
    pincurl_request_free(req);
    if (e != NULL)
        curl_easy_cleanup(e);
    free(sink.data);
    return NULL;
}

/* Requests per second of n threads, each making per_thread kept-alive requests; <0 on
 * failure. The clock starts when every thread has warmed up. */
static double throughput(struct bench *b, int pincurl, size_t n, size_t per_thread)
{
    pthread_t tid[64];
    struct worker w[64];
    pthread_barrier_t start;
    double t0, t1;
    int failed = 0;

    if (pthread_barrier_init(&start, NULL, (unsigned)n + 1) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        w[i] = (struct worker){b, pincurl, per_thread, &start, 0};
        if (pthread_create(&tid[i], NULL, worker_main, &w[i]) != 0) {
            fprintf(stderr, "bench_requests: pthread_create failed\n");
            exit(1);
        }
    }
    pthread_barrier_wait(&start);
    t0 = now_us();
    for (size_t i = 0; i < n; i++) {
        pthread_join(tid[i], NULL);
        failed |= w[i].failed;
    }
    t1 = now_us();
    pthread_barrier_destroy(&start);
    return failed ? -1 : (double)(n * per_thread) / ((t1 - t0) / 1e6);
}

static int cmp_rate(const void *x, const void *y)
{
    double a = *(const double *)x, c = *(const double *)y;
    return (a > c) - (a < c);
}

static int run_threads(struct bench *b)
{
    size_t n = b->cfg.threads, total = b->cfg.requests * 4;
    enum { RUNS = 3 };
    double at_n[2] = {0, 0};

    printf("\nscenario threads: kept-alive throughput, 1 thread and %zu threads (%zu requests "
           "in all in each run; one shared client, its own handle per thread); %d runs of "
           "each, alternating, medians\n",
           n, total, RUNS);
    for (int pincurl = 1; pincurl >= 0; pincurl--) {
        double r1[RUNS], rn[RUNS], m1, mn;
        if (pincurl && b->client == NULL)
            continue;
        for (int i = 0; i < RUNS; i++) {
            r1[i] = throughput(b, pincurl, 1, total);
            rn[i] = throughput(b, pincurl, n, total / n);
            if (r1[i] < 0 || rn[i] < 0)
                return -1;
        }
        qsort(r1, RUNS, sizeof(double), cmp_rate);
        qsort(rn, RUNS, sizeof(double), cmp_rate);
        m1 = r1[RUNS / 2];
        mn = rn[RUNS / 2];
        at_n[pincurl] = mn;
        printf("  %-34s 1 thread %9.0f req/s   %zu threads %9.0f req/s   ratio %.2f",
               pincurl ? "pincurl (pincurl_client_perform)" : "libcurl (one handle a thread)",
               m1, n, mn, mn / m1);
        if (pincurl)
            printf("   target >= %.1f: %s\n", TARGET_THREADS,
                   mn / m1 >= TARGET_THREADS ? "met" : "MISSED");
        else
            printf("   (for comparison)\n");
    }
    if (at_n[0] > 0 && at_n[1] > 0)
        printf("  %zu threads, pincurl / libcurl throughput: %.2f\n", n, at_n[1] / at_n[0]);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    static struct bench b;
    double ratios[SC_COUNT][ARM_COUNT];
    int rc = 1;

    if (parse_args(argc, argv, &b.cfg) != 0)
        return 2;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "bench_requests: curl_global_init failed\n");
        return 1;
    }
    if ((b.cfg.arms[ARM_C] || b.cfg.arms[ARM_D]) && make_client(&b) != 0)
        goto out;

    printf("bench_requests: %s\n", b.cfg.url);
    printf("  libcurl %s; pincurl %s", curl_version(), pincurl_version());
    if (b.client != NULL)
        printf(" (TLS backend %s)", pincurl_client_tls_backend(b.client));
    printf("\n  %zu measured requests per arm per scenario in %zu rounds (arms alternate "
           "between rounds), %zu warm-up requests per arm first\n",
           b.cfg.requests, b.cfg.rounds, b.cfg.warmup);
    printf("  TLS session cache off in every arm but in scenario resume; bodies kept in memory "
           "in every arm\n");
    printf("  arm C, full handshake: pincurl_attach on a raw easy handle with "
           "CURLOPT_FRESH_CONNECT + CURLOPT_FORBID_REUSE set by the benchmark (the client "
           "has no per-request fresh-connection option)\n");
    printf("  arm C, kept-alive: pincurl_client_perform on one client (its connection pool), "
           "one pincurl_request reused, response freed per request (timed)\n");
    fflush(stdout);
    connection_close = curl_slist_append(NULL, "Connection: close");
    if (connection_close == NULL)
        goto out;

    for (int sc = 0; sc < SC_COUNT; sc++) {
        for (int a = 0; a < ARM_COUNT; a++)
            ratios[sc][a] = 0;
        if (b.cfg.scenarios[sc] && run_scenario(&b, sc, ratios[sc]) != 0)
            goto out;
    }

    if (b.cfg.arms[ARM_A]) {
        printf("\nsummary (ratio of the wall-time medians to plain libcurl)\n");
        for (int sc = 0; sc < SC_COUNT; sc++) {
            if (!b.cfg.scenarios[sc])
                continue;
            for (int a = ARM_B; a < ARM_COUNT; a++)
                if (arm_runs(&b, a, sc))
                    printf("  %-6s %c/A = %.4f\n", scenario_keys[sc], arm_letters[a],
                           ratios[sc][a]);
        }
    }
    if (b.cfg.run_threads && run_threads(&b) != 0)
        goto out;
    rc = 0;
out:
    curl_slist_free_all(connection_close);
    pincurl_request_free(b.request);
    pincurl_request_free(b.resume_request);
    pincurl_client_free(b.client);
    curl_global_cleanup();
    return rc;
}
