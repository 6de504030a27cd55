/* Failure reports end to end: a pinned request fails, its report is in the spool before
 * the request returns, and the sample collector (HTTPS, SQLite) receives it with every
 * field right; across a SIGKILL; deduplicated; never sent where the policy says nothing;
 * never looping when the collector's own pins fail. */
#include "servers.h"
#include "support.h"

#include "pincurl/client.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* localhost pinned (enforcing, or report-only) to pins the genuine chain does not carry;
 * report URIs to the collector on 127.0.0.1 (collector_pins: pin that host too, to pins
 * that do not match it either). */
static pincurl_policy *failing_policy(int collector_port, int enforce, int collector_pins)
{
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    pincurl_policy *p = NULL;
    pincurl_pin backup, rogue;
    size_t idx = 0;
    char uri[128];

    cr_assert_not_null(b);
    pt_pki_pin("leaf-backup", &backup);
    pt_pki_pin("rogue-root", &rogue);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "localhost",
                                                   enforce ? PINCURL_DOMAIN_ENFORCE : 0, &idx),
                 PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &backup), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &rogue), PINCURL_OK);
    if (collector_pins) {
        cr_assert_eq(pincurl_policy_builder_add_domain(b, "127.0.0.1", PINCURL_DOMAIN_ENFORCE,
                                                       &idx),
                     PINCURL_OK);
        cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &backup), PINCURL_OK);
        cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &rogue), PINCURL_OK);
    }
    if (collector_port > 0) {
        snprintf(uri, sizeof(uri), "https://127.0.0.1:%d/report", collector_port);
        cr_assert_eq(pincurl_policy_builder_add_report_uri(b, uri), PINCURL_OK);
    }
    cr_assert_eq(pincurl_policy_builder_finish(b, &p, NULL), PINCURL_OK);
    pincurl_policy_builder_free(b);
    return p;
}

static pincurl_client *client_for(pincurl_policy *p, const char *spool)
{
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c = NULL;
    cr_assert_not_null(o);
    cr_assert_eq(pincurl_options_set_ca_file(o, pt_pki("root.pem")), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_app_info(o, "org.example.app", "2.1", "vendor-42", "linux",
                                              "debian-12"),
                 PINCURL_OK);
    if (spool != NULL)
        cr_assert_eq(pincurl_options_set_spool_dir(o, spool), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_report_timing(o, 2000, 5000, 50), PINCURL_OK);
    cr_assert_eq(pincurl_client_new(p, o, &c), PINCURL_OK);
    pincurl_options_free(o);
    return c;
}

static pincurl_status get(pincurl_client *c, int port)
{
    char url[128];
    pincurl_request *r;
    pincurl_response *resp = NULL;
    pincurl_status st;
    snprintf(url, sizeof(url), "https://localhost:%d/", port);
    r = pincurl_request_new("GET", url);
    cr_assert_not_null(r);
    st = pincurl_client_perform(c, r, &resp);
    pincurl_response_free(resp);
    pincurl_request_free(r);
    return st;
}

static pt_server start(void)
{
    pt_server s;
    pt_server_opts o;
    memset(&o, 0, sizeof(o));
    o.chain = "leaf-ec-chain.pem";
    o.key = "leaf-ec.key";
    pt_server_start(&s, &o);
    return s;
}

static int json_has_string(const cJSON *array, const char *text)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, array) {
        if (cJSON_IsString(it) && strcmp(it->valuestring, text) == 0)
            return 1;
    }
    return 0;
}

Test(reports, report_is_spooled_before_the_request_returns_and_delivered, .timeout = 90)
{
    pt_server s = start();
    int cport = pt_free_port(); /* nothing listens there yet: the collector is down */
    pincurl_policy *p = failing_policy(cport, 1, 0);
    const char *spool = pt_tmpdir("spool");
    pincurl_client *c = client_for(p, spool);
    pt_collector col;
    char *text;
    cJSON *doc;
    char pin1[PINCURL_PIN_TEXT_SIZE], pin2[PINCURL_PIN_TEXT_SIZE], want[80];
    pincurl_pin backup, rogue;

    cr_assert_eq(get(c, s.port), PINCURL_PIN_MISMATCH);
    cr_assert_eq(pt_count_files(spool, ".report"), 1, "the report is not on disk");
    /* the collector is down: it stays */
    cr_assert_eq(pincurl_client_flush_reports(c, 300), PINCURL_TIMEOUT);
    cr_assert_eq(pt_count_files(spool, ".report"), 1);

    pt_collector_start(&col, cport);
    cr_assert_eq(pincurl_client_flush_reports(c, 20000), PINCURL_OK);
    cr_assert_eq(pt_count_files(spool, ".report"), 0);
    cr_assert_eq(pt_collector_count(&col), 1);

    text = pt_collector_report(&col, 1);
    cr_assert_not_null(text);
    doc = cJSON_Parse(text);
    cr_assert_not_null(doc, "%s", text);
    cr_assert_str_eq(cJSON_GetObjectItem(doc, "hostname")->valuestring, "localhost");
    cr_assert_eq(cJSON_GetObjectItem(doc, "port")->valueint, s.port);
    cr_assert_str_eq(cJSON_GetObjectItem(doc, "noted-hostname")->valuestring, "localhost");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(doc, "enforce-pinning")));
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(doc, "include-subdomains")));
    cr_assert_eq(cJSON_GetObjectItem(doc, "validation-result")->valueint, 1);
    cr_assert_str_eq(cJSON_GetObjectItem(doc, "app-bundle-id")->valuestring, "org.example.app");
    cr_assert_str_eq(cJSON_GetObjectItem(doc, "app-version")->valuestring, "2.1");
    cr_assert_str_eq(cJSON_GetObjectItem(doc, "app-vendor-id")->valuestring, "vendor-42");
    cr_assert_str_eq(cJSON_GetObjectItem(doc, "app-platform")->valuestring, "linux");
    cr_assert_str_eq(cJSON_GetObjectItem(doc, "app-platform-version")->valuestring, "debian-12");
    cr_assert_str_eq(cJSON_GetObjectItem(doc, "pincurl-version")->valuestring,
                     pincurl_version());
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "validated-certificate-chain")), 3);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "served-certificate-chain")), 2);
    pt_pki_pin("leaf-backup", &backup);
    pt_pki_pin("rogue-root", &rogue);
    cr_assert_eq(pincurl_pin_format(&backup, pin1, sizeof(pin1)), PINCURL_OK);
    cr_assert_eq(pincurl_pin_format(&rogue, pin2, sizeof(pin2)), PINCURL_OK);
    snprintf(want, sizeof(want), "pin-sha256=\"%s\"", pin1 + strlen("sha256/"));
    cr_assert(json_has_string(cJSON_GetObjectItem(doc, "known-pins"), want), "%s", text);
    snprintf(want, sizeof(want), "pin-sha256=\"%s\"", pin2 + strlen("sha256/"));
    cr_assert(json_has_string(cJSON_GetObjectItem(doc, "known-pins"), want), "%s", text);
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(doc, "date-time")));
    cr_assert_eq(strlen(cJSON_GetObjectItem(doc, "date-time")->valuestring), 20);
    cJSON_Delete(doc);
    free(text);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_collector_stop(&col);
    pt_server_stop(&s);
}

Test(reports, report_only_mismatch_is_let_through_and_reported, .timeout = 60)
{
    pt_server s = start();
    pt_collector col;
    pincurl_policy *p;
    const char *spool = pt_tmpdir("spool");
    pincurl_client *c;
    char *text;

    pt_collector_start(&col, 0);
    p = failing_policy(col.port, 0, 0);
    c = client_for(p, spool);
    cr_assert_eq(get(c, s.port), PINCURL_OK);
    cr_assert_eq(pincurl_client_flush_reports(c, 20000), PINCURL_OK);
    cr_assert_eq(pt_collector_count(&col), 1);
    text = pt_collector_report(&col, 1);
    cr_assert(strstr(text, "\"enforce-pinning\":false") != NULL, "%s", text);
    free(text);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_collector_stop(&col);
    pt_server_stop(&s);
}

/* A domain entry whose own expiry has passed (report_and_allow): the mismatch is let
 * through and reported with that entry's date as the effective expiration date, while the
 * policy's own (far later) date is not what the report says. */
Test(reports, expired_domain_entry_reports_its_own_date, .timeout = 60)
{
    pt_server s = start();
    pt_collector col;
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    pincurl_policy *p = NULL;
    pincurl_pin backup, rogue;
    size_t idx = 0;
    char uri[128];
    const char *spool = pt_tmpdir("spool");
    pincurl_client *c;
    char *text;
    cJSON *doc;

    pt_collector_start(&col, 0);
    pt_pki_pin("leaf-backup", &backup);
    pt_pki_pin("rogue-root", &rogue);
    cr_assert_eq(pincurl_policy_builder_set_expiry(b, 4102444800 /* 2100-01-01 */,
                                                   PINCURL_ON_EXPIRY_BLOCK),
                 PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "localhost", PINCURL_DOMAIN_ENFORCE, &idx),
                 PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &backup), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &rogue), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_set_domain_expiry(b, idx, 1420070400 /* 2015-01-01 */),
                 PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_set_domain_on_expiry(b, idx,
                                                             PINCURL_ON_EXPIRY_REPORT_AND_ALLOW),
                 PINCURL_OK);
    snprintf(uri, sizeof(uri), "https://127.0.0.1:%d/report", col.port);
    cr_assert_eq(pincurl_policy_builder_add_report_uri(b, uri), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_finish(b, &p, NULL), PINCURL_OK);
    pincurl_policy_builder_free(b);

    c = client_for(p, spool);
    cr_assert_eq(get(c, s.port), PINCURL_OK, "an expired entry no longer enforces");
    cr_assert_eq(pincurl_client_flush_reports(c, 20000), PINCURL_OK);
    cr_assert_eq(pt_collector_count(&col), 1);
    text = pt_collector_report(&col, 1);
    doc = cJSON_Parse(text);
    cr_assert_not_null(doc, "%s", text);
    cr_assert_str_eq(cJSON_GetObjectItem(doc, "effective-expiration-date")->valuestring,
                     "2015-01-01T00:00:00Z", "%s", text);
    cr_assert_eq(cJSON_GetObjectItem(doc, "validation-result")->valueint, 1);
    cJSON_Delete(doc);
    free(text);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_collector_stop(&col);
    pt_server_stop(&s);
}

Test(reports, a_report_survives_sigkill_right_after_the_request, .timeout = 90)
{
    pt_server s = start();
    int cport = pt_free_port();
    pincurl_policy *p = failing_policy(cport, 1, 0);
    const char *spool = pt_tmpdir("spool");
    pid_t child;
    int status = 0;
    pincurl_client *c;
    pt_collector col;

    fflush(NULL);
    child = fork();
    cr_assert_neq(child, -1);
    if (child == 0) {
        pincurl_client *cc = client_for(p, spool);
        pincurl_status st = get(cc, s.port);
        /* killed the moment the failing request returned: no cleanup, no flush */
        if (st == PINCURL_PIN_MISMATCH)
            raise(SIGKILL);
        _exit(3);
    }
    cr_assert_eq(waitpid(child, &status, 0), child);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %d", status);
    cr_assert_eq(pt_count_files(spool, ".report"), 1);

    pt_collector_start(&col, cport);
    c = client_for(p, spool);
    cr_assert_eq(pincurl_client_flush_reports(c, 20000), PINCURL_OK);
    cr_assert_eq(pt_collector_count(&col), 1);
    cr_assert_eq(pt_count_files(spool, ".report"), 0);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_collector_stop(&col);
    pt_server_stop(&s);
}

Test(reports, identical_failures_are_reported_once, .timeout = 120)
{
    pt_server s = start();
    pt_collector col;
    pincurl_policy *p;
    const char *spool = pt_tmpdir("spool");
    pincurl_client *c;
    const int n = 50;

    pt_collector_start(&col, 0);
    p = failing_policy(col.port, 1, 0);
    c = client_for(p, spool);
    for (int i = 0; i < n; i++)
        cr_assert_eq(get(c, s.port), PINCURL_PIN_MISMATCH);
    cr_assert_eq(pincurl_client_flush_reports(c, 20000), PINCURL_OK);
    cr_assert_eq(pt_collector_count(&col), 1);
    cr_assert_eq(pincurl_client_reports_suppressed(c), (uint64_t)(n - 1));
    cr_assert_eq(pincurl_client_reports_dropped(c), 0);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_collector_stop(&col);
    pt_server_stop(&s);
}

Test(reports, nothing_is_written_without_report_uris)
{
    pt_server s = start();
    pincurl_policy *p = failing_policy(0, 1, 0);
    const char *spool = pt_tmpdir("spool");
    pincurl_client *c = client_for(p, spool);
    cr_assert_eq(get(c, s.port), PINCURL_PIN_MISMATCH);
    cr_assert_eq(pt_count_files(spool, ".report"), 0);
    cr_assert_eq(pincurl_client_flush_reports(c, 100), PINCURL_OK);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(reports, a_collector_whose_pins_fail_gets_nothing_and_causes_no_report, .timeout = 60)
{
    pt_server s = start();
    pt_collector col;
    pincurl_policy *p;
    const char *spool = pt_tmpdir("spool");
    pincurl_client *c;

    pt_collector_start(&col, 0);
    /* the policy pins the collector's host too, to keys it does not have */
    p = failing_policy(col.port, 1, 1);
    c = client_for(p, spool);
    cr_assert_eq(get(c, s.port), PINCURL_PIN_MISMATCH);
    cr_assert_eq(pincurl_client_flush_reports(c, 1500), PINCURL_TIMEOUT);
    cr_assert_eq(pt_collector_count(&col), 0);
    /* still the one report: delivering it produced no report about the collector */
    cr_assert_eq(pt_count_files(spool, ".report"), 1);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_collector_stop(&col);
    pt_server_stop(&s);
}
