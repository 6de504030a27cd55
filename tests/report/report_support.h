/* Shared by the report tests: the loopback collector (collector.py), a delivery function on
 * libcurl, an event recorder, sample report inputs from the test PKI, spool directory
 * inspection. */
#ifndef PINCURL_TEST_REPORT_SUPPORT_H
#define PINCURL_TEST_REPORT_SUPPORT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "pincurl/pincurl.h"
#include "report/report.h"

/* ---- the collector ------------------------------------------------------------------ */
typedef struct rt_collector {
    pid_t pid;
    int port;
    char dir[1024];
    char uri[128]; /* http://127.0.0.1:PORT/report */
} rt_collector;

/* Starts collector.py in mode ("accept", "fail", "hang") on port (0: a free one) storing
 * into dir (created); waits until it listens. mode "down" only reserves a port (nothing
 * listens afterwards; pid is 0). Fails the test on error. */
void rt_collector_start(rt_collector *c, const char *dir, const char *mode, int port);
/* SIGKILL and reap; safe to call twice. */
void rt_collector_stop(rt_collector *c);
/* Changes the mode of a running collector (effective from its next request). */
void rt_collector_mode(rt_collector *c, const char *mode);
/* Bodies stored so far (accept mode). */
size_t rt_collector_received(const rt_collector *c);
/* Body number i (1-based), NUL-terminated; caller frees. */
char *rt_collector_body(const rt_collector *c, size_t i, size_t *len);
/* Lines in requests.log (every request, whatever the mode). */
size_t rt_collector_requests(const rt_collector *c);

/* ---- delivery and events -------------------------------------------------------------- */
#define RT_MAX_EVENTS 64
typedef struct rt_ctx {
    pthread_mutex_t mu;
    atomic_int posts;
    int counts[16];                 /* per pincurl_event_kind */
    int malformed;                  /* events with a NULL host or an empty message */
    size_t n;
    pincurl_event_kind kinds[RT_MAX_EVENTS];
    pincurl_status statuses[RT_MAX_EVENTS];
    char hosts[RT_MAX_EVENTS][256];
    unsigned ports[RT_MAX_EVENTS];
    char messages[RT_MAX_EVENTS][512];
} rt_ctx;

void rt_ctx_init(rt_ctx *x);
int rt_count(rt_ctx *x, pincurl_event_kind kind);
/* Status of the last event of kind, or -1 when none. */
int rt_last_status(rt_ctx *x, pincurl_event_kind kind);

/* pc_report_post_fn on libcurl (plain HTTP, multi interface, polls cancel every 20 ms). */
int rt_post(void *ctx, const char *uri, const char *body, size_t len, long connect_timeout_ms,
            long timeout_ms, const atomic_int *cancel, long *http_code);
/* pc_report_event_fn recording into an rt_ctx. */
void rt_event(void *ctx, pincurl_event_kind kind, pincurl_status status, const char *host,
              unsigned port, const char *message);

/* A config on dir with rt_post / rt_event / x and short timings. */
pc_spool_config rt_config(const char *dir, rt_ctx *x);

/* ---- sample inputs ----------------------------------------------------------------------- */
typedef struct rt_input {
    pincurl_cert_list *path_list, *served_list;
    pincurl_cert_ref path[8], served[8];
    pincurl_pin pins[2];
    const char *uris[4];
    pc_report_app app;
    pc_report_input in;
} rt_input;

/* A pin-mismatch report for 127.0.0.1:port: path leaf-ec-fullchain.pem, served
 * leaf-ec-chain.pem, pins of leaf-backup and rogue-root, noted host 127.0.0.1, enforce,
 * no include_subdomains, expiry 2027-06-30T12:00:00Z, now 2026-12-01T10:00:00Z, one URI. */
void rt_input_make(rt_input *r, unsigned port, const char *uri);
void rt_input_free(rt_input *r);

/* ---- the spool directory ---------------------------------------------------------------- */
/* Files in dir whose name ends with suffix. */
size_t rt_dir_count(const char *dir, const char *suffix);
/* Sum of the sizes of those files. */
size_t rt_dir_bytes(const char *dir, const char *suffix);
/* Milliseconds since an arbitrary point (monotonic). */
long rt_now_ms(void);

#endif
