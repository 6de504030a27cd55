/* Validation events and monitoring: what the event of a validation carries, a leaf that
 * changed since the client last saw the host, and expiry warnings for the policy and for
 * the leaf, each at most once per host per day. Against the loopback HTTPS server. */
#include "servers.h"
#include "support.h"

#include "pincurl/client.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SEEN 32

typedef struct seen {
    int count;
    pincurl_event_kind kind[MAX_SEEN];
    pincurl_decision decision[MAX_SEEN];
    pincurl_result result[MAX_SEEN];
    pincurl_pin old_pin[MAX_SEEN];
    pincurl_pin leaf_pin[MAX_SEEN];
    pincurl_pin matched[MAX_SEEN];
    int has_matched[MAX_SEEN];
    int64_t expires[MAX_SEEN];
    uint64_t duration_us[MAX_SEEN];
    uint64_t generation[MAX_SEEN];
    size_t path_len[MAX_SEEN];
    size_t served_len[MAX_SEEN];
    unsigned port[MAX_SEEN];
    char host[MAX_SEEN][64];
    char message[MAX_SEEN][512];
} seen;

static void record(const pincurl_event *ev, void *user)
{
    seen *s = user;
    int i = s->count;
    if (i >= MAX_SEEN)
        return;
    s->count++;
    s->kind[i] = pincurl_event_get_kind(ev);
    s->decision[i] = pincurl_event_decision(ev);
    s->result[i] = pincurl_event_result(ev);
    if (pincurl_event_old_pin(ev) != NULL)
        s->old_pin[i] = *pincurl_event_old_pin(ev);
    if (pincurl_event_path_pin(ev, 0) != NULL)
        s->leaf_pin[i] = *pincurl_event_path_pin(ev, 0);
    s->has_matched[i] = pincurl_event_matched_pin(ev) != NULL;
    if (s->has_matched[i])
        s->matched[i] = *pincurl_event_matched_pin(ev);
    s->expires[i] = pincurl_event_expires(ev);
    s->duration_us[i] = pincurl_event_duration_us(ev);
    s->generation[i] = pincurl_event_generation(ev);
    s->path_len[i] = pincurl_event_path_count(ev);
    s->served_len[i] = pincurl_event_served_count(ev);
    s->port[i] = pincurl_event_port(ev);
    snprintf(s->host[i], sizeof(s->host[i]), "%s", pincurl_event_host(ev));
    snprintf(s->message[i], sizeof(s->message[i]), "%s", pincurl_event_message(ev));
}

static int count_kind(const seen *s, pincurl_event_kind k)
{
    int n = 0;
    for (int i = 0; i < s->count; i++)
        n += s->kind[i] == k;
    return n;
}

static int index_of(const seen *s, pincurl_event_kind k)
{
    for (int i = 0; i < s->count; i++)
        if (s->kind[i] == k)
            return i;
    return -1;
}

static pt_server start(const char *chain, const char *key, int port)
{
    pt_server s;
    pt_server_opts o;
    memset(&o, 0, sizeof(o));
    o.chain = chain;
    o.key = key;
    o.port = port;
    pt_server_start(&s, &o);
    return s;
}

/* A policy for localhost pinning the intermediate (every genuine leaf matches) and the
 * backup key; expires: 0 for none. */
static pincurl_policy *policy(int64_t expires, pincurl_on_expiry on_expiry)
{
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    pincurl_policy *p = NULL;
    pincurl_pin inter, backup;
    size_t idx = 0;

    cr_assert_not_null(b);
    pt_pki_pin("inter", &inter);
    pt_pki_pin("leaf-backup", &backup);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "localhost", PINCURL_DOMAIN_ENFORCE, &idx),
                 PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &inter), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &backup), PINCURL_OK);
    if (expires != 0)
        cr_assert_eq(pincurl_policy_builder_set_expiry(b, expires, on_expiry), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_finish(b, &p, NULL), PINCURL_OK);
    pincurl_policy_builder_free(b);
    return p;
}

static pincurl_client *client_for(pincurl_policy *p, seen *s)
{
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c = NULL;
    cr_assert_not_null(o);
    cr_assert_eq(pincurl_options_set_ca_file(o, pt_pki("root.pem")), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_event_callback(o, record, s), PINCURL_OK);
    cr_assert_eq(pincurl_client_new(p, o, &c), PINCURL_OK);
    pincurl_options_free(o);
    return c;
}

/* A GET on a new connection each time ("Connection: close"). */
static pincurl_status get(pincurl_client *c, int port)
{
    char url[128];
    pincurl_request *r;
    pincurl_response *resp = NULL;
    pincurl_status st;
    snprintf(url, sizeof(url), "https://localhost:%d/", port);
    r = pincurl_request_new("GET", url);
    cr_assert_not_null(r);
    cr_assert_eq(pincurl_request_add_header(r, "Connection: close"), PINCURL_OK);
    st = pincurl_client_perform(c, r, &resp);
    pincurl_response_free(resp);
    pincurl_request_free(r);
    return st;
}

Test(events, validation_event_carries_the_decision_and_the_chains)
{
    pt_server s = start("leaf-ec-chain.pem", "leaf-ec.key", 0);
    pincurl_policy *p = policy(0, PINCURL_ON_EXPIRY_REPORT_AND_ALLOW);
    seen ev;
    pincurl_client *c;
    pincurl_pin inter, leaf;
    int i;

    memset(&ev, 0, sizeof(ev));
    c = client_for(p, &ev);
    cr_assert_eq(get(c, s.port), PINCURL_OK);
    i = index_of(&ev, PINCURL_EVENT_VALIDATION);
    cr_assert_geq(i, 0);
    pt_pki_pin("inter", &inter);
    pt_pki_pin("leaf-ec", &leaf);
    cr_assert_str_eq(ev.host[i], "localhost");
    cr_assert_eq(ev.port[i], (unsigned)s.port);
    cr_assert_eq(ev.decision[i], PINCURL_DECISION_ALLOW);
    cr_assert_eq(ev.result[i], PINCURL_RESULT_SUCCESS);
    cr_assert(ev.has_matched[i]);
    cr_assert(pincurl_pin_equal(&ev.matched[i], &inter));
    cr_assert(pincurl_pin_equal(&ev.leaf_pin[i], &leaf));
    cr_assert_eq(ev.path_len[i], 3);   /* leaf, intermediate, root from the CA file */
    cr_assert_eq(ev.served_len[i], 2); /* leaf, intermediate as sent */
    cr_assert_gt(ev.duration_us[i], 0);
    cr_assert_lt(ev.duration_us[i], 5 * 1000 * 1000);
    cr_assert_eq(ev.generation[i], 1);
    cr_assert_str_eq(ev.message[i], "");
    /* nothing to warn about: no expiry, a leaf valid for years, first sight of the host */
    cr_assert_eq(ev.count, 1, "unexpected events: %d", ev.count);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(events, changed_leaf_is_reported_with_old_and_new_pins)
{
    pt_server s = start("leaf-ec-chain.pem", "leaf-ec.key", 0);
    int port = s.port;
    pincurl_policy *p = policy(0, PINCURL_ON_EXPIRY_REPORT_AND_ALLOW);
    seen ev;
    pincurl_client *c;
    pincurl_pin old_leaf, new_leaf;
    int i;

    memset(&ev, 0, sizeof(ev));
    c = client_for(p, &ev);
    cr_assert_eq(get(c, port), PINCURL_OK);
    cr_assert_eq(get(c, port), PINCURL_OK);
    cr_assert_eq(count_kind(&ev, PINCURL_EVENT_CERT_CHANGED), 0);

    /* the server rotates to the backup key on the same port */
    pt_server_stop(&s);
    s = start("leaf-backup-chain.pem", "leaf-backup.key", port);
    {
        pincurl_status st = get(c, port);
        cr_assert_eq(st, PINCURL_OK, "%s", pincurl_status_name(st));
    }
    cr_assert_eq(count_kind(&ev, PINCURL_EVENT_CERT_CHANGED), 1);
    i = index_of(&ev, PINCURL_EVENT_CERT_CHANGED);
    pt_pki_pin("leaf-ec", &old_leaf);
    pt_pki_pin("leaf-backup", &new_leaf);
    cr_assert(pincurl_pin_equal(&ev.old_pin[i], &old_leaf));
    cr_assert(pincurl_pin_equal(&ev.leaf_pin[i], &new_leaf));
    cr_assert_str_eq(ev.host[i], "localhost");
    cr_assert_eq(ev.port[i], (unsigned)port);
    /* it follows the validation it belongs to */
    cr_assert_eq(ev.kind[i - 1], PINCURL_EVENT_VALIDATION);
    /* and the new leaf is the one remembered now */
    {
        pincurl_status st = get(c, port);
        cr_assert_eq(st, PINCURL_OK, "%s", pincurl_status_name(st));
    }
    cr_assert_eq(count_kind(&ev, PINCURL_EVENT_CERT_CHANGED), 1);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(events, policy_expiring_within_30_days_warns_once_a_day)
{
    pt_server s = start("leaf-ec-chain.pem", "leaf-ec.key", 0);
    int64_t expires = (int64_t)time(NULL) + 10 * 86400;
    pincurl_policy *p = policy(expires, PINCURL_ON_EXPIRY_BLOCK);
    pincurl_policy *far = policy((int64_t)time(NULL) + 90 * 86400, PINCURL_ON_EXPIRY_BLOCK);
    seen ev;
    pincurl_client *c;
    int i;

    memset(&ev, 0, sizeof(ev));
    c = client_for(far, &ev);
    cr_assert_eq(get(c, s.port), PINCURL_OK);
    cr_assert_eq(count_kind(&ev, PINCURL_EVENT_POLICY_EXPIRING), 0, "90 days away: no warning");

    cr_assert_eq(pincurl_client_set_policy(c, p), PINCURL_OK);
    cr_assert_eq(get(c, s.port), PINCURL_OK);
    cr_assert_eq(get(c, s.port), PINCURL_OK);
    cr_assert_eq(get(c, s.port), PINCURL_OK);
    cr_assert_eq(count_kind(&ev, PINCURL_EVENT_POLICY_EXPIRING), 1);
    i = index_of(&ev, PINCURL_EVENT_POLICY_EXPIRING);
    cr_assert_eq(ev.expires[i], expires);
    cr_assert_str_eq(ev.host[i], "localhost");
    cr_assert(strstr(ev.message[i], "30 days") != NULL, "%s", ev.message[i]);
    cr_assert_eq(ev.generation[i], 2);
    cr_assert_eq(count_kind(&ev, PINCURL_EVENT_LEAF_EXPIRING), 0);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pincurl_policy_unref(far);
    pt_server_stop(&s);
}

/* A domain entry's own expiry warns for that entry's hosts only, with its own date; the
 * policy-wide date (far away) does not. */
Test(events, domain_expiry_warns_per_domain)
{
    pt_server s = start("leaf-ec-chain.pem", "leaf-ec.key", 0);
    int64_t now = (int64_t)time(NULL);
    int64_t own = now + 5 * 86400;
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    pincurl_policy *p = NULL;
    pincurl_pin inter, backup;
    size_t idx = 0;
    seen ev;
    pincurl_client *c;
    int i;

    pt_pki_pin("inter", &inter);
    pt_pki_pin("leaf-backup", &backup);
    cr_assert_eq(pincurl_policy_builder_set_expiry(b, now + 300 * 86400, PINCURL_ON_EXPIRY_BLOCK),
                 PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "localhost", PINCURL_DOMAIN_ENFORCE, &idx),
                 PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &inter), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &backup), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_set_domain_expiry(b, idx, own), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, "other.example", PINCURL_DOMAIN_ENFORCE,
                                                   &idx),
                 PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &inter), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &backup), PINCURL_OK);
    cr_assert_eq(pincurl_policy_builder_finish(b, &p, NULL), PINCURL_OK);
    pincurl_policy_builder_free(b);

    memset(&ev, 0, sizeof(ev));
    c = client_for(p, &ev);
    cr_assert_eq(get(c, s.port), PINCURL_OK);
    cr_assert_eq(get(c, s.port), PINCURL_OK);
    cr_assert_eq(count_kind(&ev, PINCURL_EVENT_POLICY_EXPIRING), 1);
    i = index_of(&ev, PINCURL_EVENT_POLICY_EXPIRING);
    cr_assert_eq(ev.expires[i], own, "the entry's own date, not the policy's");
    cr_assert_str_eq(ev.host[i], "localhost");
    cr_assert(strstr(ev.message[i], "domain entry") != NULL, "%s", ev.message[i]);
    i = index_of(&ev, PINCURL_EVENT_VALIDATION);
    cr_assert_eq(ev.decision[i], PINCURL_DECISION_ALLOW);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(events, leaf_expiring_within_14_days_warns_once_a_day)
{
    pt_server s = start("leaf-soon-chain.pem", "leaf-soon.key", 0);
    pincurl_policy *p = policy(0, PINCURL_ON_EXPIRY_REPORT_AND_ALLOW);
    seen ev;
    pincurl_client *c;
    int i;
    int64_t now = (int64_t)time(NULL);

    memset(&ev, 0, sizeof(ev));
    c = client_for(p, &ev);
    cr_assert_eq(get(c, s.port), PINCURL_OK);
    cr_assert_eq(get(c, s.port), PINCURL_OK);
    cr_assert_eq(count_kind(&ev, PINCURL_EVENT_LEAF_EXPIRING), 1);
    i = index_of(&ev, PINCURL_EVENT_LEAF_EXPIRING);
    /* leaf-soon is valid for 7 days from when the PKI was made */
    cr_assert_gt(ev.expires[i], now);
    cr_assert_leq(ev.expires[i], now + 8 * 86400);
    cr_assert(strstr(ev.message[i], "14 days") != NULL, "%s", ev.message[i]);
    cr_assert_eq(count_kind(&ev, PINCURL_EVENT_POLICY_EXPIRING), 0);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(events, kinds_have_names_and_null_is_safe)
{
    cr_assert_str_eq(pincurl_event_kind_name(PINCURL_EVENT_VALIDATION), "VALIDATION");
    cr_assert_str_eq(pincurl_event_kind_name(PINCURL_EVENT_CERT_CHANGED), "CERT_CHANGED");
    cr_assert_str_eq(pincurl_event_kind_name(PINCURL_EVENT_REPORT_SET_ASIDE),
                     "REPORT_SET_ASIDE");
    cr_assert_str_eq(pincurl_event_kind_name((pincurl_event_kind)999), "UNKNOWN");
    cr_assert_str_eq(pincurl_event_host(NULL), "");
    cr_assert_str_eq(pincurl_event_message(NULL), "");
    cr_assert_null(pincurl_event_verdict(NULL));
    cr_assert_null(pincurl_event_matched_pin(NULL));
    cr_assert_eq(pincurl_event_decision(NULL), PINCURL_DECISION_BLOCK);
    cr_assert_eq(pincurl_event_path_count(NULL), 0);
    cr_assert_null(pincurl_event_path_cert(NULL, 0, NULL));
}
