/*
 * The client's failure reports: the durable spool of lib/report, delivered through a second
 * client made from the same policy (so a collector can be pinned like any host). That
 * client has no spool: a failure while reporting, to a collector whose pins do not match
 * say, produces no report of its own and so cannot loop.
 *
 * A report is due for a validation of a pinned host whose result is not SUCCESS (a refused
 * or report-only mismatch, an invalid chain) and for any validation under an expired policy.
 * It is written, durably, inside the handshake that produced it: before the failing request
 * returns. No report URI in the policy: nothing is written or sent.
 */
#include "http/http.h"

#ifndef PINCURL_FIRMWARE
#include "report/report.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef PINCURL_FIRMWARE
/*
 * The firmware profile (docs/embedded.md) has no spool, no delivery thread and no file
 * system: a report that is due is not written or sent. The event callback receives
 * REPORT_QUEUED with status UNSUPPORTED and the VALIDATION event's host, port and verdict,
 * which carry everything a report would; the application forwards it as it sees fit.
 * A spool directory set in the options is ignored.
 */
pincurl_status pc_reports_open(pincurl_client *c)
{
    (void)c;
    return PINCURL_OK;
}

void pc_reports_close(pincurl_client *c)
{
    (void)c;
}

int pc_report_due(const pincurl_verdict *v)
{
    if (v == NULL || !v->pinned)
        return 0;
    return v->result != PINCURL_RESULT_SUCCESS || v->expiry == PINCURL_EXPIRY_EXPIRED;
}

void pc_reports_submit(pincurl_client *c, const pincurl_policy *policy,
                       const pincurl_event *validation)
{
    pincurl_event ev;

    if (!pc_report_due(validation->verdict) || policy == NULL ||
        pincurl_policy_report_uri_count(policy) == 0)
        return;
    ev = *validation;
    ev.kind = PINCURL_EVENT_REPORT_QUEUED;
    ev.status = PINCURL_UNSUPPORTED;
    ev.duration_us = 0;
    ev.message = "firmware build: reports go to the event callback only (this event and the "
                 "VALIDATION event before it); no report was written or sent";
    pc_client_emit(c, &ev);
}

uint64_t pincurl_client_reports_dropped(const pincurl_client *c)
{
    (void)c;
    return 0;
}

uint64_t pincurl_client_reports_suppressed(const pincurl_client *c)
{
    (void)c;
    return 0;
}

pincurl_status pincurl_client_flush_reports(pincurl_client *c, long timeout_ms)
{
    if (c == NULL || timeout_ms < 0)
        return PINCURL_INVALID_ARGUMENT;
    return PINCURL_OK;
}

#else /* the full build: the durable spool of lib/report */

static int report_post(void *ctx, const char *uri, const char *body, size_t len,
                       long connect_timeout_ms, long timeout_ms, const atomic_int *cancel,
                       long *http_code)
{
    pincurl_client *c = ctx;
    pincurl_request *r = pincurl_request_new("POST", uri);
    pincurl_response *resp = NULL;
    pincurl_status st;

    *http_code = 0;
    if (r == NULL)
        return -1;
    if (pincurl_request_add_header(r, "Content-Type: application/json") != PINCURL_OK ||
        pincurl_request_set_body(r, body, len) != PINCURL_OK) {
        pincurl_request_free(r);
        return -1;
    }
    r->cancel = cancel;
    r->https_only = 1;
    r->connect_timeout_ms = connect_timeout_ms;
    r->timeout_ms = timeout_ms;
    st = pincurl_client_perform(c->reporter, r, &resp);
    if (st == PINCURL_OK)
        *http_code = pincurl_response_code(resp);
    pincurl_response_free(resp);
    pincurl_request_free(r);
    return st == PINCURL_OK ? 0 : -1;
}

static void report_event(void *ctx, pincurl_event_kind kind, pincurl_status status,
                         const char *host, unsigned port, const char *message)
{
    pincurl_client *c = ctx;
    pincurl_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = kind;
    ev.status = status;
    ev.host = host;
    ev.port = port;
    ev.message = message;
    ev.generation = pincurl_client_generation(c);
    pc_client_emit(c, &ev);
}

static void report_thread_exit(void *ctx)
{
    (void)ctx;
    pincurl_thread_cleanup();
}

pincurl_status pc_reports_open(pincurl_client *c)
{
    pincurl_options o;
    pc_spool_config cfg;
    pincurl_status st;

    if (c->opts.spool_dir == NULL)
        return PINCURL_OK;
    /* The delivering client: the same trust and policy, the report timeouts, no spool. */
    if (pc_options_copy(&o, &c->opts) != 0)
        return PINCURL_OUT_OF_MEMORY;
    free(o.spool_dir);
    o.spool_dir = NULL;
    o.event_cb = NULL;
    o.event_user = NULL;
    o.max_redirects = 0;
    o.follow_redirects = 0;
    o.cookies = 0; /* reports carry no cookies of the application's */
    o.connect_timeout_ms = c->opts.report_connect_timeout_ms;
    o.timeout_ms = c->opts.report_timeout_ms;
    st = pincurl_client_new(c->policy, &o, &c->reporter);
    pc_options_clear(&o);
    if (st != PINCURL_OK)
        return st;

    memset(&cfg, 0, sizeof(cfg));
    cfg.dir = c->opts.spool_dir;
    cfg.max_reports = c->opts.spool_max_reports;
    cfg.max_bytes = c->opts.spool_max_bytes;
    cfg.connect_timeout_ms = c->opts.report_connect_timeout_ms;
    cfg.timeout_ms = c->opts.report_timeout_ms;
    cfg.first_retry_ms = c->opts.report_first_retry_ms;
    cfg.post = report_post;
    cfg.event = report_event;
    cfg.ctx = c;
    cfg.thread_exit = report_thread_exit;
    st = pc_spool_open(&cfg, &c->spool);
    if (st != PINCURL_OK) {
        pincurl_client_free(c->reporter);
        c->reporter = NULL;
    }
    return st;
}

void pc_reports_close(pincurl_client *c)
{
    /* the sender first: it delivers through the reporter */
    pc_spool_close(c->spool);
    c->spool = NULL;
    pincurl_client_free(c->reporter);
    c->reporter = NULL;
}

int pc_report_due(const pincurl_verdict *v)
{
    if (v == NULL || !v->pinned)
        return 0;
    return v->result != PINCURL_RESULT_SUCCESS || v->expiry == PINCURL_EXPIRY_EXPIRED;
}

void pc_reports_submit(pincurl_client *c, const pincurl_policy *policy,
                       const pincurl_event *validation)
{
    const pincurl_verdict *v = validation->verdict;
    const char *uris[PINCURL_MAX_REPORT_URIS];
    pincurl_pin pins[PINCURL_MAX_PINS_PER_DOMAIN];
    size_t n_uris, n_pins = 0;
    pc_report_app app;
    pc_report_input in;
    pincurl_status st;

    if (!pc_report_due(v) || policy == NULL)
        return;
    n_uris = pincurl_policy_report_uri_count(policy);
    if (n_uris == 0)
        return; /* no default collector */
    if (c->spool == NULL) {
        pincurl_event ev = *validation;
        ev.kind = PINCURL_EVENT_REPORT_QUEUED;
        ev.status = PINCURL_UNSUPPORTED;
        ev.duration_us = 0;
        ev.message = "the policy names report URIs but the client has no spool directory: "
                     "no report was written";
        pc_client_emit(c, &ev);
        return;
    }
    if (n_uris > PINCURL_MAX_REPORT_URIS)
        n_uris = PINCURL_MAX_REPORT_URIS;
    for (size_t i = 0; i < n_uris; i++)
        uris[i] = pincurl_policy_report_uri(policy, i);
    if (v->domain != NULL) {
        n_pins = pincurl_domain_pin_count(v->domain);
        if (n_pins > PINCURL_MAX_PINS_PER_DOMAIN)
            n_pins = PINCURL_MAX_PINS_PER_DOMAIN;
        for (size_t i = 0; i < n_pins; i++)
            pins[i] = *pincurl_domain_pin(v->domain, i);
    }
    app.bundle_id = c->opts.app_bundle_id;
    app.version = c->opts.app_version;
    app.vendor_id = c->opts.app_vendor_id;
    app.platform = c->opts.app_platform;
    app.platform_version = c->opts.app_platform_version;

    memset(&in, 0, sizeof(in));
    in.app = &app;
    in.host = validation->host;
    in.port = validation->port;
    in.noted_host = v->noted_host != NULL ? v->noted_host : validation->host;
    in.include_subdomains = v->include_subdomains != 0;
    in.enforce = v->enforce != 0;
    in.served = validation->served;
    in.served_len = validation->served_len;
    in.path = validation->path;
    in.path_len = validation->path_len;
    in.known_pins = pins;
    in.known_pin_count = n_pins;
    in.result = v->result;
    in.expires = v->expires;
    in.now = pc_client_now(c);
    in.uris = uris;
    in.uri_count = n_uris;
    /* The spool raises REPORT_QUEUED with the outcome (or nothing for a duplicate). */
    st = pc_spool_submit(c->spool, &in, NULL);
    (void)st;
}

uint64_t pincurl_client_reports_dropped(const pincurl_client *c)
{
    return c != NULL && c->spool != NULL ? pc_spool_dropped(c->spool) : 0;
}

uint64_t pincurl_client_reports_suppressed(const pincurl_client *c)
{
    return c != NULL && c->spool != NULL ? pc_spool_suppressed(c->spool) : 0;
}

pincurl_status pincurl_client_flush_reports(pincurl_client *c, long timeout_ms)
{
    if (c == NULL || timeout_ms < 0)
        return PINCURL_INVALID_ARGUMENT;
    if (c->spool == NULL)
        return PINCURL_OK;
    return pc_spool_flush(c->spool, timeout_ms);
}

#endif /* PINCURL_FIRMWARE */
