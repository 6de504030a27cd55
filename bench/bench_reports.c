/*
 * Does a collector that hangs slow the application? Two clients take turns request by
 * request against the same HTTPS server on loopback, with the same report-only policy
 * whose pins do not match, so every validation is a mismatch that calls for a report:
 *
 *   A  the policy names no report URI: nothing is spooled or sent;
 *   B  the policy's report URI is a black hole (a socket on 127.0.0.1 that is listening
 *      but never accepts, so every delivery attempt hangs until its timeout), with a
 *      spool directory: the first report is spooled, the rest are duplicates, and the
 *      sender keeps retrying the black hole in the background all along.
 *
 * Every request asks for "Connection: close", so each one makes a new connection and a
 * validation (resumed sessions are decided again, and raise the same report). Prints the
 * medians and the ratio B/A of the medians; target at most 1.05.
 *
 *   bench_reports --url URL --ca-file PEM --pin PIN --pin PIN [--requests N] [--warmup W]
 */
#include <pincurl/pincurl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A socket that listens and never accepts: connections wait in its backlog. */
static int black_hole(int *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

static pincurl_client *make_client(const char *host, const char *pin1, const char *pin2,
                                   const char *ca_file, const char *report_uri,
                                   const char *spool)
{
    char json[1024], uris[256] = "";
    pincurl_policy *p = NULL;
    pincurl_diag diag;
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c = NULL;
    pincurl_status st;

    if (report_uri != NULL)
        snprintf(uris, sizeof(uris), "\"report_uris\": [\"%s\"], ", report_uri);
    snprintf(json, sizeof(json),
             "{\"pincurl_policy\": 1, %s\"domains\": {\"%s\": {\"enforce\": false, "
             "\"pins\": [\"%s\", \"%s\"]}}}",
             uris, host, pin1, pin2);
    if (o == NULL || pincurl_policy_load_json(json, strlen(json), NULL, &p, &diag) != PINCURL_OK) {
        fprintf(stderr, "bench_reports: policy: %s\n", diag.message);
        exit(2);
    }
    st = pincurl_options_set_ca_file(o, ca_file);
    if (st == PINCURL_OK && spool != NULL)
        st = pincurl_options_set_spool_dir(o, spool);
    /* a short first retry: the sender hits the black hole again and again during the run */
    if (st == PINCURL_OK)
        st = pincurl_options_set_report_timing(o, 1000, 2000, 50);
    if (st == PINCURL_OK)
        st = pincurl_client_new(p, o, &c);
    pincurl_options_free(o);
    pincurl_policy_unref(p);
    if (st != PINCURL_OK) {
        fprintf(stderr, "bench_reports: client: %s\n", pincurl_strerror(st));
        exit(2);
    }
    return c;
}

static double timed_request(pincurl_client *c, const pincurl_request *r)
{
    pincurl_response *resp = NULL;
    double t0 = now_us();
    pincurl_status st = pincurl_client_perform(c, r, &resp);
    double dt = now_us() - t0;
    if (st != PINCURL_OK || pincurl_response_code(resp) != 200) {
        fprintf(stderr, "bench_reports: request failed: %s %s\n", pincurl_status_name(st),
                pincurl_response_detail(resp));
        exit(1);
    }
    pincurl_response_free(resp);
    return dt;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *ca = NULL, *pins[2] = {NULL, NULL};
    int npins = 0, requests = 200, warmup = 10, hole_port = 0, hole;
    char host[256] = "", report_uri[128], spool[] = "/tmp/pincurl-bench-spool-XXXXXX";
    pincurl_client *a, *b;
    pincurl_request *r;
    double *ta, *tb, ma, mb;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--url") == 0)
            url = argv[i + 1];
        else if (strcmp(argv[i], "--ca-file") == 0)
            ca = argv[i + 1];
        else if (strcmp(argv[i], "--pin") == 0 && npins < 2)
            pins[npins++] = argv[i + 1];
        else if (strcmp(argv[i], "--requests") == 0)
            requests = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--warmup") == 0)
            warmup = atoi(argv[i + 1]);
    }
    if (url == NULL || ca == NULL || npins != 2 || requests < 1 ||
        sscanf(url, "https://%255[^:/]", host) != 1) {
        fprintf(stderr, "usage: bench_reports --url https://HOST:PORT/ --ca-file PEM "
                        "--pin PIN --pin PIN [--requests N] [--warmup W]\n");
        return 2;
    }
    hole = black_hole(&hole_port);
    if (hole < 0 || mkdtemp(spool) == NULL) {
        perror("bench_reports");
        return 2;
    }
    snprintf(report_uri, sizeof(report_uri), "https://127.0.0.1:%d/pin-report", hole_port);
    a = make_client(host, pins[0], pins[1], ca, NULL, NULL);
    b = make_client(host, pins[0], pins[1], ca, report_uri, spool);
    r = pincurl_request_new("GET", url);
    if (r == NULL || pincurl_request_add_header(r, "Connection: close") != PINCURL_OK)
        return 2;
    ta = calloc((size_t)requests, sizeof(double));
    tb = calloc((size_t)requests, sizeof(double));
    if (ta == NULL || tb == NULL)
        return 2;

    for (int i = 0; i < warmup; i++) {
        (void)timed_request(a, r);
        (void)timed_request(b, r);
    }
    for (int i = 0; i < requests; i++) {
        ta[i] = timed_request(a, r);
        tb[i] = timed_request(b, r);
    }
    ma = median(ta, requests);
    mb = median(tb, requests);
    printf("reports: %d requests per arm, alternating; every validation a report-only "
           "mismatch\n", requests);
    printf("  arm A (no collector)                     median %8.1f us\n", ma);
    printf("  arm B (black-hole collector, spooled)    median %8.1f us\n", mb);
    printf("  spool: %llu suppressed as duplicates, %llu dropped, still pending: %s\n",
           (unsigned long long)pincurl_client_reports_suppressed(b),
           (unsigned long long)pincurl_client_reports_dropped(b),
           pincurl_client_flush_reports(b, 0) == PINCURL_TIMEOUT ? "yes" : "no");
    printf("summary: reports B/A = %.4f  target <= 1.05  %s\n", mb / ma,
           mb / ma <= 1.05 ? "met" : "MISSED");

    pincurl_request_free(r);
    pincurl_client_free(a);
    pincurl_client_free(b);
    close(hole);
    free(ta);
    free(tb);
    {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", spool);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_reports: could not remove %s\n", spool);
    }
    return 0;
}
