/* Policy documents: the JSON loader, its error paths and messages, dates, files, and the
 * agreement between docs/policy.md's error table and what the loader really does. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pincurl/pincurl.h"
#include "support.h"

/* base64(SHA-256("one")), ("two"), ("three"), ("four"): well-formed pins. */
#define PIN1 "sha256/dpLDrTVAu4A8Ags67mbNiIcSMjTqDG5xQ8Ct1z/0Me0="
#define PIN2 "sha256/P8TM/nRYcOLA2Z9x8w/wZWyN7dQcwdfT03aw2+aF4vM="
#define PIN3 "sha256/i1udsME9skJWyCmqNkqpDG0uujGLkjKkq5MTuVTTVV8="
#define PIN4 "sha256/BO+vCA9aPnThwp0cpqSFaTgsu80yTo1Z0rg+8hwDnwA="
/* 31 bytes, valid base64. */
#define PIN_SHORT "sha256/LXEWQrcmsEQBYnyp+6wy9chTD7GQPMTbAiWHF5IaSA=="

#define Q(s) "\"" s "\""
#define PINS2 "[" Q(PIN1) ", " Q(PIN2) "]"
#define DOM(host, body) Q(host) ": {" body "}"
#define OKDOM DOM("ok.example.com", "\"pins\": " PINS2)
#define DOC(domains) "{\"pincurl_policy\": 1, \"domains\": {" domains "}}"
#define DOCX(top, domains) "{\"pincurl_policy\": 1, " top ", \"domains\": {" domains "}}"

static const char full_doc[] =
    "{\n"
    "  \"pincurl_policy\": 1,\n"
    "  \"expires\": \"2027-06-30\",\n"
    "  \"on_expiry\": \"block\",\n"
    "  \"report_uris\": [\"https://collector.example.com/pin-report\",\n"
    "                  \"https://backup.example.net/r?x=1\"],\n"
    "  \"domains\": {\n"
    "    \"api.example.com\": {\n"
    "      \"include_subdomains\": true,\n"
    "      \"enforce\": true,\n"
    "      \"pins\": [" Q(PIN1) ", " Q(PIN2) "]\n"
    "    },\n"
    "    \"legacy.api.example.com\": { \"exclude\": true },\n"
    "    \"Report.Example.ORG.\": { \"enforce\": false, \"pins\": [" Q(PIN3) "] },\n"
    "    \"192.0.2.10\": { \"pins\": [" Q(PIN1) ", " Q(PIN4) "], \"exclude\": false }\n"
    "  }\n"
    "}\n";

static pincurl_policy *load_ok(const char *json)
{
    pincurl_policy *p = NULL;
    pincurl_diag d;
    pincurl_status st = pincurl_policy_load_json(json, strlen(json), NULL, &p, &d);
    cr_assert_eq(st, PINCURL_OK, "load failed: %s (%s)", d.message,
                 pincurl_status_name(st) ? pincurl_status_name(st) : "?");
    cr_assert_not_null(p);
    cr_assert_eq(d.status, PINCURL_OK);
    cr_assert_str_empty(d.path);
    cr_assert_str_empty(d.message);
    return p;
}

static void assert_pins(const pincurl_domain *dom, const char *const *want, size_t n)
{
    cr_assert_eq(pincurl_domain_pin_count(dom), n);
    for (size_t i = 0; i < n; i++) {
        char text[PINCURL_PIN_TEXT_SIZE];
        cr_assert_eq(pincurl_pin_format(pincurl_domain_pin(dom, i), text, sizeof text),
                     PINCURL_OK);
        cr_assert_str_eq(text, want[i], "pin %zu of %s", i, pincurl_domain_host(dom));
    }
}

Test(policy_json, full_document_loads_with_every_field)
{
    pincurl_policy *p = load_ok(full_doc);

    cr_assert_eq(pincurl_policy_expires(p), 1814313600); /* date -u -d 2027-06-30 +%s */
    cr_assert_eq(pincurl_policy_on_expiry(p), PINCURL_ON_EXPIRY_BLOCK);
    cr_assert_eq(pincurl_policy_report_uri_count(p), 2);
    cr_assert_str_eq(pincurl_policy_report_uri(p, 0), "https://collector.example.com/pin-report");
    cr_assert_str_eq(pincurl_policy_report_uri(p, 1), "https://backup.example.net/r?x=1");
    cr_assert_eq(pincurl_policy_domain_count(p), 4);

    /* Every entry, by its normalised host. */
    static const char *const hosts[] = {"api.example.com", "legacy.api.example.com",
                                        "report.example.org", "192.0.2.10"};
    for (size_t h = 0; h < 4; h++) {
        int seen = 0;
        for (size_t i = 0; i < pincurl_policy_domain_count(p); i++)
            seen += strcmp(pincurl_domain_host(pincurl_policy_domain(p, i)), hosts[h]) == 0;
        cr_assert_eq(seen, 1, "host %s appears %d times", hosts[h], seen);
    }

    const pincurl_domain *api = pincurl_policy_lookup(p, "api.example.com", 15);
    cr_assert_not_null(api);
    cr_assert_str_eq(pincurl_domain_host(api), "api.example.com");
    cr_assert_eq(pincurl_domain_flags(api),
                 PINCURL_DOMAIN_INCLUDE_SUBDOMAINS | PINCURL_DOMAIN_ENFORCE);
    assert_pins(api, (const char *const[]){PIN1, PIN2}, 2);

    /* include_subdomains reaches below api.example.com ... */
    cr_assert_eq(pincurl_policy_lookup(p, "v2.api.example.com", 18), api);
    /* ... except where excluded. */
    const pincurl_domain *legacy = pincurl_policy_lookup(p, "legacy.api.example.com", 22);
    cr_assert_not_null(legacy);
    cr_assert_eq(pincurl_domain_flags(legacy), PINCURL_DOMAIN_EXCLUDE);
    cr_assert_eq(pincurl_domain_pin_count(legacy), 0);

    const pincurl_domain *rep = pincurl_policy_lookup(p, "report.example.org", 18);
    cr_assert_not_null(rep);
    cr_assert_eq(pincurl_domain_flags(rep), 0u); /* report-only, exact host only */
    assert_pins(rep, (const char *const[]){PIN3}, 1);
    cr_assert_null(pincurl_policy_lookup(p, "www.report.example.org", 22));

    const pincurl_domain *ip = pincurl_policy_lookup(p, "192.0.2.10", 10);
    cr_assert_not_null(ip);
    cr_assert_eq(pincurl_domain_flags(ip), PINCURL_DOMAIN_ENFORCE); /* enforce by default */
    assert_pins(ip, (const char *const[]){PIN1, PIN4}, 2);

    pincurl_policy_unref(p);
}

/* Per-domain expiry, exclusions that say their reach, and the single-pin opt-in. */
Test(policy_json, domain_expiry_exclusion_reach_and_single_pin)
{
    pincurl_policy *p = load_ok(DOCX(
        "\"expires\": \"2031-01-01\", \"on_expiry\": \"block\"",
        DOM("a.example.com", "\"include_subdomains\": true, \"pins\": " PINS2
                             ", \"expires\": \"2030-01-01\"") ", "
        DOM("b.example.com", "\"pins\": " PINS2 ", \"expires\": \"2030-01-01T12:00:00Z\", "
                             "\"on_expiry\": \"report_and_allow\"") ", "
        DOM("c.example.com", "\"pins\": [" Q(PIN3) "], \"allow_single_pin\": true") ", "
        DOM("old.a.example.com", "\"exclude\": true, \"include_subdomains\": false") ", "
        DOM("tree.a.example.com", "\"exclude\": true, \"include_subdomains\": true") ", "
        DOM("dflt.a.example.com", "\"exclude\": true")));
    const pincurl_domain *a = pincurl_policy_lookup(p, "a.example.com", 13);
    cr_assert_eq(pincurl_domain_expires(a), 1893456000); /* date -u -d 2030-01-01 +%s */
    cr_assert_eq(pincurl_domain_on_expiry(a), PINCURL_ON_EXPIRY_BLOCK); /* the policy's */
    const pincurl_domain *b = pincurl_policy_lookup(p, "b.example.com", 13);
    cr_assert_eq(pincurl_domain_expires(b), 1893456000 + 12 * 3600);
    cr_assert_eq(pincurl_domain_on_expiry(b), PINCURL_ON_EXPIRY_REPORT_AND_ALLOW);
    const pincurl_domain *c = pincurl_policy_lookup(p, "c.example.com", 13);
    cr_assert_eq(pincurl_domain_flags(c), PINCURL_DOMAIN_ENFORCE | PINCURL_DOMAIN_ALLOW_SINGLE_PIN);
    cr_assert_eq(pincurl_domain_expires(c), 0);
    const pincurl_domain *old = pincurl_policy_lookup(p, "old.a.example.com", 17);
    cr_assert_eq(pincurl_domain_flags(old), PINCURL_DOMAIN_EXCLUDE | PINCURL_DOMAIN_HOST_ONLY);
    /* a host-only exclusion leaves the names below it under the parent */
    cr_assert_eq(pincurl_policy_lookup(p, "x.old.a.example.com", 19), a);
    /* a subtree exclusion, stated or by default, covers them */
    cr_assert_str_eq(pincurl_domain_host(pincurl_policy_lookup(p, "x.tree.a.example.com", 20)),
                     "tree.a.example.com");
    cr_assert_eq(pincurl_domain_flags(pincurl_policy_lookup(p, "x.dflt.a.example.com", 20)),
                 PINCURL_DOMAIN_EXCLUDE);
    pincurl_policy_unref(p);
}

Test(policy_json, defaults)
{
    /* No expires: never expires; on_expiry defaults to report_and_allow. */
    pincurl_policy *p = load_ok(DOC(OKDOM));
    cr_assert_eq(pincurl_policy_expires(p), 0);
    cr_assert_eq(pincurl_policy_on_expiry(p), PINCURL_ON_EXPIRY_REPORT_AND_ALLOW);
    cr_assert_eq(pincurl_policy_report_uri_count(p), 0);
    const pincurl_domain *d = pincurl_policy_lookup(p, "ok.example.com", 14);
    cr_assert_not_null(d);
    cr_assert_eq(pincurl_domain_flags(d), PINCURL_DOMAIN_ENFORCE);
    pincurl_policy_unref(p);

    p = load_ok(DOCX("\"expires\": \"2030-01-01T00:00:00Z\"", OKDOM));
    cr_assert_eq(pincurl_policy_expires(p), 1893456000); /* date -u -d 2030-01-01 +%s */
    cr_assert_eq(pincurl_policy_on_expiry(p), PINCURL_ON_EXPIRY_REPORT_AND_ALLOW);
    pincurl_policy_unref(p);

    p = load_ok(DOCX("\"expires\": \"2030-01-01\", \"on_expiry\": \"report_and_allow\"", OKDOM));
    cr_assert_eq(pincurl_policy_on_expiry(p), PINCURL_ON_EXPIRY_REPORT_AND_ALLOW);
    pincurl_policy_unref(p);

    /* An empty report_uris array is allowed; a BOM and surrounding whitespace too. */
    p = load_ok("\xEF\xBB\xBF \n" DOCX("\"report_uris\": []", OKDOM) " \n\t");
    cr_assert_eq(pincurl_policy_report_uri_count(p), 0);
    pincurl_policy_unref(p);
}

/* ------------------------------------------------------------------------------------ */
/* Rejections: every one with its exact status and path, many with the exact message.     */

enum case_kind { K_JSON, K_FILE, K_NULL_OUT, K_NO_MEMORY, K_GEN };

typedef struct reject_case {
    const char *name;
    enum case_kind kind;
    const char *json;     /* K_JSON: the document; K_FILE: the file name */
    size_t len;           /* 0: strlen(json) */
    pincurl_status status;
    const char *path;
    const char *message;  /* NULL: not checked here */
    size_t line, column;  /* syntax errors */
    char *(*gen)(size_t *len); /* K_GEN: makes the document (malloc'd) */
} reject_case;

/* Documents too big to write out: one byte over the size limit, one domain, one pin and
 * one URI byte over the count limits. */
static char *gen_too_big(size_t *len)
{
    size_t n = (size_t)PINCURL_POLICY_MAX_BYTES + 1;
    char *doc = malloc(n);
    cr_assert_not_null(doc);
    memset(doc, ' ', n);
    memcpy(doc, DOC(OKDOM), strlen(DOC(OKDOM)));
    *len = n;
    return doc;
}

static char *gen_many_domains(size_t *len)
{
    size_t cap = 1u << 20;
    char *doc = malloc(cap);
    cr_assert_not_null(doc);
    size_t n = (size_t)snprintf(doc, cap, "{\"pincurl_policy\": 1, \"domains\": {");
    for (int i = 0; i <= PINCURL_MAX_DOMAINS; i++)
        n += (size_t)snprintf(doc + n, cap - n, "%s\"h%d.example.com\": {\"pins\": " PINS2 "}",
                              i ? ", " : "", i);
    n += (size_t)snprintf(doc + n, cap - n, "}}");
    cr_assert_lt(n, cap);
    *len = n;
    return doc;
}

static char *gen_many_pins(size_t *len)
{
    size_t cap = 1u << 16;
    char *doc = malloc(cap);
    cr_assert_not_null(doc);
    size_t n = (size_t)snprintf(doc, cap,
                                "{\"pincurl_policy\": 1, \"domains\": {\"a.example.com\": {\"pins\": [");
    for (int i = 0; i <= PINCURL_MAX_PINS_PER_DOMAIN; i++) {
        /* distinct pins: base64 of 32 bytes whose first bytes vary */
        char b64[45];
        memset(b64, 'A', 43);
        b64[0] = (char)('A' + i / 26);
        b64[1] = (char)('A' + i % 26);
        b64[43] = '=';
        b64[44] = '\0';
        n += (size_t)snprintf(doc + n, cap - n, "%s\"sha256/%s\"", i ? ", " : "", b64);
    }
    n += (size_t)snprintf(doc + n, cap - n, "]}}}");
    cr_assert_lt(n, cap);
    *len = n;
    return doc;
}

static char *gen_long_uri(size_t *len)
{
    size_t cap = 8192;
    char *doc = malloc(cap);
    cr_assert_not_null(doc);
    char path[PINCURL_MAX_URI_LENGTH];
    memset(path, 'a', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    size_t n = (size_t)snprintf(doc, cap, DOCX("\"report_uris\": [\"https://r.example.com/%s\"]", OKDOM),
                                path);
    cr_assert_lt(n, cap);
    *len = n;
    return doc;
}

#define NUL_DOC "{\"pincurl_policy\": 1,\n\"domains\": {\0}}"

#define J(n, doc, st, p, msg) {n, K_JSON, doc, 0, PINCURL_##st, p, msg, 0, 0, NULL}
#define G(n, fn, st, p, msg) {n, K_GEN, NULL, 0, PINCURL_##st, p, msg, 0, 0, fn}

static const reject_case cases[] = {
    /* structure and keys */
    J("unknown top-level key", DOCX("\"extra\": 1", OKDOM), POLICY_UNKNOWN_KEY, "extra",
      "extra: unknown key"),
    J("unknown top-level key, not an identifier", DOCX("\"a b\": 1", OKDOM),
      POLICY_UNKNOWN_KEY, "[\"a b\"]", NULL),
    J("unknown domain key",
      DOC(DOM("api.example.com", "\"pins\": " PINS2 ", \"enforced\": true")),
      POLICY_UNKNOWN_KEY, "domains[\"api.example.com\"].enforced",
      "domains[\"api.example.com\"].enforced: unknown key"),
    J("missing pincurl_policy", "{\"domains\": {" OKDOM "}}", POLICY_MISSING_KEY,
      "pincurl_policy", "pincurl_policy: required key is missing (this library reads version 1)"),
    J("missing domains", "{\"pincurl_policy\": 1}", POLICY_MISSING_KEY, "domains",
      "domains: required key is missing"),
    J("version 2", "{\"pincurl_policy\": 2, \"domains\": {" OKDOM "}}", POLICY_BAD_VERSION,
      "pincurl_policy", "pincurl_policy: version 2 is not supported; this library reads version 1"),
    J("version 0", "{\"pincurl_policy\": 0, \"domains\": {" OKDOM "}}", POLICY_BAD_VERSION,
      "pincurl_policy", NULL),
    J("version checked before unknown keys", "{\"pincurl_policy\": 2, \"future\": {}}",
      POLICY_BAD_VERSION, "pincurl_policy", NULL),
    J("version 1.5", "{\"pincurl_policy\": 1.5, \"domains\": {" OKDOM "}}", POLICY_WRONG_TYPE,
      "pincurl_policy", "pincurl_policy: must be an integer"),
    J("version as string", "{\"pincurl_policy\": \"1\", \"domains\": {" OKDOM "}}",
      POLICY_WRONG_TYPE, "pincurl_policy", NULL),
    J("top level is an array", "[1, 2]", POLICY_WRONG_TYPE, "",
      "the document must be a JSON object"),
    J("top level is a string", "\"pincurl_policy\"", POLICY_WRONG_TYPE, "", NULL),
    J("duplicate top-level key",
      DOCX("\"expires\": \"2030-01-01\", \"expires\": \"2031-01-01\"", OKDOM), POLICY_BAD_VALUE,
      "expires", "expires: duplicate key: it appears twice in the same object"),
    J("duplicate domain key",
      DOC(DOM("api.example.com", "\"enforce\": true, \"pins\": " PINS2 ", \"enforce\": false")),
      POLICY_BAD_VALUE, "domains[\"api.example.com\"].enforce", NULL),

    /* wrong types, one per field */
    J("expires not a string", DOCX("\"expires\": 20270630", OKDOM), POLICY_WRONG_TYPE,
      "expires", "expires: must be a string"),
    J("on_expiry not a string", DOCX("\"expires\": \"2030-01-01\", \"on_expiry\": true", OKDOM),
      POLICY_WRONG_TYPE, "on_expiry", NULL),
    J("report_uris a string", DOCX("\"report_uris\": \"https://r.example.com/\"", OKDOM),
      POLICY_WRONG_TYPE, "report_uris", NULL),
    J("report URI not a string", DOCX("\"report_uris\": [\"https://r.example.com/\", 7]", OKDOM),
      POLICY_WRONG_TYPE, "report_uris[1]", "report_uris[1]: must be a string"),
    J("domains an array", "{\"pincurl_policy\": 1, \"domains\": [" Q("a.example.com") "]}",
      POLICY_WRONG_TYPE, "domains", NULL),
    J("domain entry not an object", DOC(Q("api.example.com") ": true"), POLICY_WRONG_TYPE,
      "domains[\"api.example.com\"]", "domains[\"api.example.com\"]: must be an object"),
    J("include_subdomains not a bool",
      DOC(DOM("api.example.com", "\"include_subdomains\": 1, \"pins\": " PINS2)),
      POLICY_WRONG_TYPE, "domains[\"api.example.com\"].include_subdomains", NULL),
    J("enforce \"yes\"", DOC(DOM("api.example.com", "\"enforce\": \"yes\", \"pins\": " PINS2)),
      POLICY_WRONG_TYPE, "domains[\"api.example.com\"].enforce",
      "domains[\"api.example.com\"].enforce: must be true or false"),
    J("exclude null", DOC(DOM("api.example.com", "\"exclude\": null")), POLICY_WRONG_TYPE,
      "domains[\"api.example.com\"].exclude", NULL),
    J("pins not an array", DOC(DOM("api.example.com", "\"pins\": " Q(PIN1))),
      POLICY_WRONG_TYPE, "domains[\"api.example.com\"].pins", NULL),
    J("pin not a string", DOC(DOM("api.example.com", "\"pins\": [" Q(PIN1) ", 5]")),
      POLICY_WRONG_TYPE, "domains[\"api.example.com\"].pins[1]", NULL),

    /* pins */
    J("pin without sha256/", DOC(DOM("api.example.com", "\"pins\": [" Q(PIN1) ", "
                                     Q("sha1/dpLDrTVAu4A8Ags67mbNiIcSMjTqDG5xQ8Ct1z/0Me0=") "]")),
      PIN_BAD_PREFIX, "domains[\"api.example.com\"].pins[1]",
      "domains[\"api.example.com\"].pins[1]: does not start with sha256/"),
    J("pin not base64", DOC(DOM("api.example.com", "\"pins\": [" Q(PIN1) ", "
                                Q("sha256/dpLDrTVAu4A8Ags67mbNiIcSMjTqDG5xQ8Ct1z/0Me!") "]")),
      PIN_BAD_BASE64, "domains[\"api.example.com\"].pins[1]",
      "domains[\"api.example.com\"].pins[1]: not valid base64 after sha256/"),
    J("pin of 31 bytes", DOC(DOM("api.example.com", "\"pins\": [" Q(PIN1) ", " Q(PIN_SHORT) "]")),
      PIN_BAD_LENGTH, "domains[\"api.example.com\"].pins[1]",
      "domains[\"api.example.com\"].pins[1]: not 32 bytes after base64 decoding"),
    J("duplicate pin",
      DOC(DOM("api.example.com", "\"pins\": [" Q(PIN1) ", " Q(PIN2) ", " Q(PIN1) "]")),
      POLICY_DUPLICATE_PIN, "domains[\"api.example.com\"].pins[2]",
      "domains[\"api.example.com\"].pins[2]: the same pin as pins[0]"),
    J("too few pins, enforcing", DOC(DOM("api.example.com", "\"pins\": [" Q(PIN1) "]")),
      POLICY_TOO_FEW_PINS, "domains[\"api.example.com\"].pins",
      "domains[\"api.example.com\"].pins: an enforcing domain needs at least two distinct pins "
      "(has 1)"),
    J("too few pins, enforcing, no pins key", DOC(OKDOM ", " DOM("b.example.com", "")),
      POLICY_TOO_FEW_PINS, "domains[\"b.example.com\"].pins",
      "domains[\"b.example.com\"].pins: an enforcing domain needs at least two distinct pins "
      "(has 0)"),
    J("too few pins, report-only",
      DOC(OKDOM ", " DOM("r.example.com", "\"enforce\": false, \"pins\": []")),
      POLICY_TOO_FEW_PINS, "domains[\"r.example.com\"].pins",
      "domains[\"r.example.com\"].pins: a report-only domain needs at least one pin (has 0)"),

    /* domains */
    J("empty domains", "{\"pincurl_policy\": 1, \"domains\": {}}", POLICY_NO_DOMAINS, "domains",
      "domains: pins no domain"),
    J("the same key twice",
      DOC(DOM("a.example.com", "\"pins\": " PINS2) ", " DOM("a.example.com", "\"pins\": " PINS2)),
      POLICY_DUPLICATE_DOMAIN, "domains[\"a.example.com\"]",
      "domains[\"a.example.com\"]: the same host appears twice in domains"),
    J("the same host once normalised",
      DOC(DOM("A.com", "\"pins\": " PINS2) ", " DOM("a.com.", "\"pins\": " PINS2)),
      POLICY_DUPLICATE_DOMAIN, "domains[\"a.com.\"]",
      "domains[\"a.com.\"]: the same host as an earlier entry (hosts compare without case and "
      "trailing dot)"),
    J("exclude with pins", DOC(OKDOM ", " DOM("x.ok.example.com",
                                               "\"exclude\": true, \"pins\": " PINS2)),
      POLICY_EXCLUDE_CONFLICT, "domains[\"x.ok.example.com\"].pins",
      "domains[\"x.ok.example.com\"].pins: an excluded domain takes no other key than "
      "include_subdomains"),
    J("exclude with expires", DOC(DOM("x.ok.example.com",
                                      "\"exclude\": true, \"expires\": \"2030-01-01\"")),
      POLICY_EXCLUDE_CONFLICT, "domains[\"x.ok.example.com\"].expires", NULL),
    J("exclude with enforce", DOC(DOM("x.ok.example.com", "\"enforce\": false, \"exclude\": true")),
      POLICY_EXCLUDE_CONFLICT, "domains[\"x.ok.example.com\"].enforce", NULL),
    J("exclude orphan", DOC(OKDOM ", " DOM("legacy.ok.example.com", "\"exclude\": true")),
      POLICY_EXCLUDE_ORPHAN, "domains[\"legacy.ok.example.com\"]",
      "domains[\"legacy.ok.example.com\"]: excluded, but no include_subdomains domain covers it"),
    J("public suffix with include_subdomains",
      DOC(DOM("co.uk", "\"include_subdomains\": true, \"pins\": " PINS2)),
      POLICY_PUBLIC_SUFFIX, "domains[\"co.uk\"].include_subdomains",
      "domains[\"co.uk\"].include_subdomains: not allowed on a public suffix"),
    J("include_subdomains on an IP address",
      DOC(DOM("192.0.2.1", "\"include_subdomains\": true, \"pins\": " PINS2)),
      POLICY_BAD_VALUE, "domains[\"192.0.2.1\"].include_subdomains",
      "domains[\"192.0.2.1\"].include_subdomains: not allowed on an IP address"),
    J("IPv4-mapped IPv6 host", DOC(DOM("::ffff:192.0.2.1", "\"pins\": " PINS2)),
      POLICY_BAD_VALUE, "domains[\"::ffff:192.0.2.1\"]",
      "domains[\"::ffff:192.0.2.1\"]: an IPv4-mapped IPv6 address is the IPv4 host "
      "192.0.2.1; write \"192.0.2.1\""),
    J("IPv4-mapped IPv6 host in brackets, hex", DOC(DOM("[::FFFF:c000:201]", "\"pins\": " PINS2)),
      POLICY_BAD_VALUE, "domains[\"[::FFFF:c000:201]\"]", NULL),
    J("non-ASCII host", DOC(DOM("b\xc3\xbc" "cher.example", "\"pins\": " PINS2)),
      HOST_NOT_ASCII, "domains[\"b\xc3\xbc" "cher.example\"]",
      "domains[\"b\xc3\xbc" "cher.example\"]: not ASCII; write the host in its A-label "
      "(punycode) form"),
    J("invalid host", DOC(DOM("exa mple.com", "\"pins\": " PINS2)), HOST_INVALID,
      "domains[\"exa mple.com\"]",
      "domains[\"exa mple.com\"]: not a valid host name or IP address"),
    J("host key printed with JSON escapes", DOC(DOM("a\\\"b\\\\c\\n", "\"pins\": " PINS2)),
      HOST_INVALID, "domains[\"a\\\"b\\\\c\\n\"]", NULL),

    /* report URIs */
    J("report URI over http", DOCX("\"report_uris\": [\"http://collector.example.com/r\"]", OKDOM),
      POLICY_BAD_URI, "report_uris[0]",
      "report_uris[0]: not an absolute https:// URL with a host"),
    J("report URI without host",
      DOCX("\"report_uris\": [\"https://collector.example.com/r\", \"https://\"]", OKDOM),
      POLICY_BAD_URI, "report_uris[1]", NULL),
    J("report URI relative", DOCX("\"report_uris\": [\"/pin-report\"]", OKDOM), POLICY_BAD_URI,
      "report_uris[0]", NULL),
    J("nine report URIs",
      DOCX("\"report_uris\": [\"https://a.example.com/1\", \"https://a.example.com/2\", "
           "\"https://a.example.com/3\", \"https://a.example.com/4\", \"https://a.example.com/5\", "
           "\"https://a.example.com/6\", \"https://a.example.com/7\", \"https://a.example.com/8\", "
           "\"https://a.example.com/9\"]",
           OKDOM),
      POLICY_TOO_LARGE, "report_uris[8]", "report_uris[8]: more than 8 report URIs"),

    /* dates and expiry */
    J("30 February", DOCX("\"expires\": \"2027-02-30\"", OKDOM), POLICY_BAD_DATE, "expires",
      "expires: not a valid date: use YYYY-MM-DD or an RFC 3339 time such as "
      "2027-06-30T00:00:00Z"),
    J("29 February in a common year", DOCX("\"expires\": \"2027-02-29\"", OKDOM),
      POLICY_BAD_DATE, "expires", NULL),
    J("month 13", DOCX("\"expires\": \"2027-13-01\"", OKDOM), POLICY_BAD_DATE, "expires", NULL),
    J("tomorrow", DOCX("\"expires\": \"tomorrow\"", OKDOM), POLICY_BAD_DATE, "expires", NULL),
    J("hour 25", DOCX("\"expires\": \"2027-06-30T25:00:00Z\"", OKDOM), POLICY_BAD_DATE,
      "expires", NULL),
    J("time without zone", DOCX("\"expires\": \"2027-06-30T12:00:00\"", OKDOM), POLICY_BAD_DATE,
      "expires", NULL),
    J("before 1970", DOCX("\"expires\": \"1969-12-31\"", OKDOM), POLICY_BAD_DATE, "expires",
      "expires: must be later than 1970-01-01T00:00:00Z"),
    J("on_expiry bad value", DOCX("\"expires\": \"2030-01-01\", \"on_expiry\": \"deny\"", OKDOM),
      POLICY_BAD_VALUE, "on_expiry",
      "on_expiry: must be \"report_and_allow\" or \"block\""),
    J("on_expiry without expires", DOCX("\"on_expiry\": \"block\"", OKDOM), POLICY_BAD_VALUE,
      "on_expiry", "on_expiry: has no effect without \"expires\""),
    J("domain expires not a string",
      DOC(DOM("api.example.com", "\"pins\": " PINS2 ", \"expires\": 2030")), POLICY_WRONG_TYPE,
      "domains[\"api.example.com\"].expires",
      "domains[\"api.example.com\"].expires: must be a string"),
    J("domain expires not a date",
      DOC(DOM("api.example.com", "\"pins\": " PINS2 ", \"expires\": \"2027-02-30\"")),
      POLICY_BAD_DATE, "domains[\"api.example.com\"].expires",
      "domains[\"api.example.com\"].expires: not a valid date: use YYYY-MM-DD or an RFC 3339 "
      "time such as 2027-06-30T00:00:00Z"),
    J("domain expires before 1970",
      DOC(DOM("api.example.com", "\"pins\": " PINS2 ", \"expires\": \"1969-12-31\"")),
      POLICY_BAD_DATE, "domains[\"api.example.com\"].expires", NULL),
    J("domain on_expiry bad value",
      DOC(DOM("api.example.com", "\"pins\": " PINS2 ", \"expires\": \"2030-01-01\", "
                                 "\"on_expiry\": \"allow\"")),
      POLICY_BAD_VALUE, "domains[\"api.example.com\"].on_expiry",
      "domains[\"api.example.com\"].on_expiry: must be \"report_and_allow\" or \"block\""),
    J("domain on_expiry without its own expires",
      DOCX("\"expires\": \"2030-01-01\"",
           DOM("api.example.com", "\"pins\": " PINS2 ", \"on_expiry\": \"block\"")),
      POLICY_BAD_VALUE, "domains[\"api.example.com\"].on_expiry",
      "domains[\"api.example.com\"].on_expiry: has no effect without \"expires\" in the same "
      "domain (the policy's on_expiry applies to the policy's expires)"),
    J("allow_single_pin on a report-only domain",
      DOC(DOM("api.example.com", "\"enforce\": false, \"pins\": [" Q(PIN1) "], "
                                 "\"allow_single_pin\": true")),
      POLICY_BAD_VALUE, "domains[\"api.example.com\"].allow_single_pin",
      "domains[\"api.example.com\"].allow_single_pin: only for an enforcing domain (a "
      "report-only domain needs one pin anyway)"),
    J("allow_single_pin not a bool",
      DOC(DOM("api.example.com", "\"pins\": [" Q(PIN1) "], \"allow_single_pin\": 1")),
      POLICY_WRONG_TYPE, "domains[\"api.example.com\"].allow_single_pin", NULL),
    J("allow_single_pin and no pin",
      DOC(DOM("api.example.com", "\"pins\": [], \"allow_single_pin\": true")),
      POLICY_TOO_FEW_PINS, "domains[\"api.example.com\"].pins",
      "domains[\"api.example.com\"].pins: an enforcing domain needs at least one pin (has 0)"),

    /* syntax and limits */
    {"syntax error", K_JSON, "{\n  \"pincurl_policy\": 1\n  \"domains\": {}\n}", 0,
     PINCURL_POLICY_SYNTAX, "", "line 3, column 3: not valid JSON", 3, 3, NULL},
    {"unterminated document", K_JSON, "{\"pincurl_policy\": 1,\n \"domains\": {", 0,
     PINCURL_POLICY_SYNTAX, "", NULL, 2, 13, NULL},
    {"text after the document", K_JSON, DOC(OKDOM) "\n{}", 0, PINCURL_POLICY_SYNTAX, "",
     "line 2, column 1: unexpected text after the JSON value", 2, 1, NULL},
    {"empty document", K_JSON, "", 0, PINCURL_POLICY_SYNTAX, "",
     "line 1, column 1: the document is empty", 1, 1, NULL},
    {"NUL byte", K_JSON, NUL_DOC, sizeof NUL_DOC - 1, PINCURL_POLICY_SYNTAX,
     "", "line 2, column 13: NUL byte in the document", 2, 13, NULL},
    {"\\u0000 in a string", K_JSON, DOC(DOM("a.example.com\\u0000.evil", "\"pins\": " PINS2)), 0,
     PINCURL_POLICY_SYNTAX, "", "line 1, column 49: \\u0000 is not allowed in a string", 1, 49, NULL},
    {"raw control character in a string", K_JSON, DOC(DOM("a.example.com\t", "\"pins\": " PINS2)),
     0, PINCURL_POLICY_SYNTAX, "", "line 1, column 49: control character inside a string", 1,
     49, NULL},
    J("too deep",
      DOC(DOM("a.example.com", "\"pins\": [[[[[[\"x\"]]]]]]")), POLICY_TOO_LARGE,
      "domains[\"a.example.com\"].pins[0][0][0][0][0]",
      "domains[\"a.example.com\"].pins[0][0][0][0][0]: nesting deeper than 8 levels"),
    J("too deep, second element",
      "{\"pincurl_policy\": 1, \"report_uris\": [1, [2, [[[[[[]]]]]]]]}", POLICY_TOO_LARGE,
      "report_uris[1][1][0][0][0][0][0]", NULL),
    J("eight levels are not too deep", DOC(DOM("a.example.com", "\"pins\": [[[[[\"x\"]]]]]")),
      POLICY_WRONG_TYPE, "domains[\"a.example.com\"].pins[0]", NULL),
    J("brackets inside strings do not nest", DOC(DOM("a.example.com", "\"pins\": [\"[[[[[[[[[[\"]")),
      PIN_BAD_PREFIX, "domains[\"a.example.com\"].pins[0]", NULL),
    G("too large", gen_too_big, POLICY_TOO_LARGE, "", "the document is larger than 1048576 bytes"),
    G("4097 domains", gen_many_domains, POLICY_TOO_LARGE, "domains",
      "domains: more than 4096 domains"),
    G("65 pins", gen_many_pins, POLICY_TOO_LARGE, "domains[\"a.example.com\"].pins[64]",
      "domains[\"a.example.com\"].pins[64]: more than 64 pins"),
    G("report URI too long", gen_long_uri, POLICY_BAD_URI, "report_uris[0]",
      "report_uris[0]: longer than 2048 bytes"),

    /* files and arguments */
    {"missing file", K_FILE, "/nonexistent/pincurl/policy.json", 0, PINCURL_IO, "",
     "cannot open /nonexistent/pincurl/policy.json: No such file or directory", 0, 0, NULL},
    {"a directory", K_FILE, "/", 0, PINCURL_IO, "", "cannot read /: Is a directory", 0, 0, NULL},
    {"no out pointer", K_NULL_OUT, DOC(OKDOM), 0, PINCURL_INVALID_ARGUMENT, "",
     "no place for the policy (out is NULL)", 0, 0, NULL},
    {"allocator that always fails", K_NO_MEMORY, DOC(OKDOM), 0, PINCURL_OUT_OF_MEMORY, "",
     "out of memory", 0, 0, NULL},
};

static void *null_malloc(size_t size, void *ctx)
{
    (void)size;
    (void)ctx;
    return NULL;
}

static void *null_realloc(void *ptr, size_t size, void *ctx)
{
    (void)ptr;
    (void)size;
    (void)ctx;
    return NULL;
}

static void plain_free(void *ptr, void *ctx)
{
    (void)ctx;
    free(ptr);
}

/* Runs one case; returns the status and fills *d. */
static pincurl_status run_case(const reject_case *c, pincurl_diag *d)
{
    pincurl_policy *p = (pincurl_policy *)(uintptr_t)1; /* must be reset to NULL */
    pincurl_status st;
    memset(d, 0xAB, sizeof *d);
    switch (c->kind) {
    case K_FILE:
        st = pincurl_policy_load_file(c->json, NULL, &p, d);
        break;
    case K_NULL_OUT:
        st = pincurl_policy_load_json(c->json, strlen(c->json), NULL, NULL, d);
        p = NULL;
        break;
    case K_NO_MEMORY: {
        const pincurl_allocator none = {null_malloc, null_realloc, plain_free, NULL};
        st = pincurl_policy_load_json(c->json, strlen(c->json), &none, &p, d);
        break;
    }
    case K_GEN: {
        size_t n = 0;
        char *doc = c->gen(&n);
        st = pincurl_policy_load_json(doc, n, NULL, &p, d);
        free(doc);
        break;
    }
    default:
        st = pincurl_policy_load_json(c->json, c->len ? c->len : strlen(c->json), NULL, &p, d);
    }
    cr_expect_null(p, "%s: a refused document left a policy behind", c->name);
    if (p != NULL && p != (pincurl_policy *)(uintptr_t)1)
        pincurl_policy_unref(p);
    return st;
}

Test(policy_json, every_rejection_has_its_status_and_path)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const reject_case *c = &cases[i];
        pincurl_diag d;
        pincurl_status st = run_case(c, &d);
        const char *got = pincurl_status_name(st);
        cr_expect_eq(st, c->status, "%s: status %s, expected %s (%s)", c->name,
                     got ? got : "?", pincurl_status_name(c->status), d.message);
        cr_expect_eq(d.status, st, "%s: diag.status differs from the returned status", c->name);
        cr_expect_str_eq(d.path, c->path, "%s: path [%s], expected [%s]", c->name, d.path,
                         c->path);
        if (c->message != NULL)
            cr_expect_str_eq(d.message, c->message, "%s: message [%s], expected [%s]", c->name,
                             d.message, c->message);
        /* The message always starts with the path. */
        if (c->path[0] != '\0')
            cr_expect(strncmp(d.message, c->path, strlen(c->path)) == 0 &&
                          strncmp(d.message + strlen(c->path), ": ", 2) == 0,
                      "%s: message [%s] does not start with its path", c->name, d.message);
        cr_expect_eq(d.line, c->line, "%s: line %zu, expected %zu", c->name, d.line, c->line);
        cr_expect_eq(d.column, c->column, "%s: column %zu, expected %zu", c->name, d.column,
                     c->column);
    }
}

Test(policy_json, diag_may_be_null)
{
    pincurl_policy *p = NULL;
    const char *bad = DOCX("\"extra\": 1", OKDOM);
    cr_assert_eq(pincurl_policy_load_json(bad, strlen(bad), NULL, &p, NULL),
                 PINCURL_POLICY_UNKNOWN_KEY);
    cr_assert_null(p);
    cr_assert_eq(pincurl_policy_load_json(DOC(OKDOM), strlen(DOC(OKDOM)), NULL, &p, NULL),
                 PINCURL_OK);
    cr_assert_not_null(p);
    pincurl_policy_unref(p);
}

/* The length is honoured: the bytes after len are never read. */
Test(policy_json, length_bounds_the_input)
{
    const char doc[] = DOC(OKDOM) "garbage that must not be read";
    pincurl_policy *p = NULL;
    pincurl_diag d;
    cr_assert_eq(pincurl_policy_load_json(doc, strlen(DOC(OKDOM)), NULL, &p, &d), PINCURL_OK,
                 "%s", d.message);
    pincurl_policy_unref(p);
    /* One byte short: the closing brace is missing. */
    cr_assert_eq(pincurl_policy_load_json(doc, strlen(DOC(OKDOM)) - 1, NULL, &p, &d),
                 PINCURL_POLICY_SYNTAX);
    cr_assert_null(p);
}

Test(policy_json, exactly_the_size_limit_is_accepted)
{
    size_t n = PINCURL_POLICY_MAX_BYTES;
    char *doc = malloc(n);
    cr_assert_not_null(doc);
    memset(doc, '\n', n);
    memcpy(doc, DOC(OKDOM), strlen(DOC(OKDOM)));
    pincurl_policy *p = NULL;
    pincurl_diag d;
    cr_assert_eq(pincurl_policy_load_json(doc, n, NULL, &p, &d), PINCURL_OK, "%s", d.message);
    pincurl_policy_unref(p);
    free(doc);
}

/* Exactly at the count limits: accepted. */
Test(policy_json, count_limits_are_inclusive)
{
    size_t cap = 1u << 20;
    char *doc = malloc(cap);
    cr_assert_not_null(doc);
    size_t n = (size_t)snprintf(doc, cap, "{\"pincurl_policy\": 1, \"report_uris\": [");
    for (int i = 0; i < PINCURL_MAX_REPORT_URIS; i++)
        n += (size_t)snprintf(doc + n, cap - n, "%s\"https://r%d.example.com/\"", i ? ", " : "", i);
    n += (size_t)snprintf(doc + n, cap - n, "], \"domains\": {");
    for (int i = 0; i < PINCURL_MAX_DOMAINS; i++)
        n += (size_t)snprintf(doc + n, cap - n, "%s\"h%d.example.com\": {\"pins\": " PINS2 "}",
                              i ? ", " : "", i);
    n += (size_t)snprintf(doc + n, cap - n, "}}");
    cr_assert_lt(n, cap);
    pincurl_policy *p = NULL;
    pincurl_diag d;
    cr_assert_eq(pincurl_policy_load_json(doc, n, NULL, &p, &d), PINCURL_OK, "%s", d.message);
    cr_assert_eq(pincurl_policy_domain_count(p), PINCURL_MAX_DOMAINS);
    cr_assert_eq(pincurl_policy_report_uri_count(p), PINCURL_MAX_REPORT_URIS);
    pincurl_policy_unref(p);
    free(doc);
}

/* ------------------------------------------------------------------------------------ */
/* Allocation: the caller's allocator is used and every failure refuses cleanly.          */

typedef struct counting {
    long live;
    long calls;
    long fail_at; /* fail the n-th allocation (1-based); 0: never */
} counting;

static void *count_malloc(size_t size, void *ctx)
{
    counting *c = ctx;
    if (c->fail_at != 0 && ++c->calls == c->fail_at)
        return NULL;
    void *p = malloc(size);
    if (p != NULL)
        c->live++;
    return p;
}

static void *count_realloc(void *ptr, size_t size, void *ctx)
{
    counting *c = ctx;
    if (c->fail_at != 0 && ++c->calls == c->fail_at)
        return NULL;
    void *p = realloc(ptr, size);
    if (p != NULL && ptr == NULL)
        c->live++;
    return p;
}

static void count_free(void *ptr, void *ctx)
{
    counting *c = ctx;
    if (ptr != NULL)
        c->live--;
    free(ptr);
}

Test(policy_json, uses_the_callers_allocator_and_fails_closed)
{
    counting c = {0, 0, 0};
    const pincurl_allocator a = {count_malloc, count_realloc, count_free, &c};
    pincurl_policy *p = NULL;
    pincurl_diag d;
    cr_assert_eq(pincurl_policy_load_json(full_doc, strlen(full_doc), &a, &p, &d), PINCURL_OK,
                 "%s", d.message);
    cr_assert_gt(c.live, 0, "the policy was not allocated through the caller's allocator");
    pincurl_policy_unref(p);
    cr_assert_eq(c.live, 0, "%ld allocations not freed", c.live);

    /* Fail each allocation in turn: refused with OUT_OF_MEMORY, nothing leaks. */
    int succeeded = 0;
    for (long k = 1; k < 10000 && !succeeded; k++) {
        c = (counting){0, 0, k};
        p = NULL;
        pincurl_status st = pincurl_policy_load_json(full_doc, strlen(full_doc), &a, &p, &d);
        if (st == PINCURL_OK) {
            cr_assert_not_null(p);
            pincurl_policy_unref(p);
            succeeded = 1;
        } else {
            cr_assert_eq(st, PINCURL_OUT_OF_MEMORY, "allocation %ld: %s", k, d.message);
            cr_assert_null(p);
            cr_assert_str_eq(d.message, "out of memory");
        }
        cr_assert_eq(c.live, 0, "allocation %ld failed: %ld allocations leaked", k, c.live);
    }
    cr_assert(succeeded);
}

/* ------------------------------------------------------------------------------------ */
/* Files                                                                                  */

Test(policy_json, load_file)
{
    const char *dir = pt_tmpdir("policy_json");
    char path[1200];
    snprintf(path, sizeof path, "%s/policy.json", dir);
    pt_write_file(path, full_doc, strlen(full_doc));
    pincurl_policy *p = NULL;
    pincurl_diag d;
    cr_assert_eq(pincurl_policy_load_file(path, NULL, &p, &d), PINCURL_OK, "%s", d.message);
    cr_assert_eq(pincurl_policy_domain_count(p), 4);
    cr_assert_eq(pincurl_policy_on_expiry(p), PINCURL_ON_EXPIRY_BLOCK);
    pincurl_policy_unref(p);

    /* A file's errors are the document's. */
    const char *bad = DOCX("\"extra\": 1", OKDOM);
    pt_write_file(path, bad, strlen(bad));
    cr_assert_eq(pincurl_policy_load_file(path, NULL, &p, &d), PINCURL_POLICY_UNKNOWN_KEY);
    cr_assert_str_eq(d.path, "extra");
    cr_assert_null(p);

    /* Larger than the limit: refused after reading at most one byte more. */
    size_t n = (size_t)PINCURL_POLICY_MAX_BYTES + 1;
    char *big = malloc(n);
    cr_assert_not_null(big);
    memset(big, ' ', n);
    memcpy(big, DOC(OKDOM), strlen(DOC(OKDOM)));
    pt_write_file(path, big, n);
    cr_assert_eq(pincurl_policy_load_file(path, NULL, &p, &d), PINCURL_POLICY_TOO_LARGE);
    cr_assert_str_eq(d.path, "");
    /* Exactly the limit. */
    pt_write_file(path, big, n - 1);
    cr_assert_eq(pincurl_policy_load_file(path, NULL, &p, &d), PINCURL_OK, "%s", d.message);
    pincurl_policy_unref(p);
    free(big);

    /* Unreadable: a file without read permission (unless running as root). */
    if (geteuid() != 0) {
        pt_system("chmod 000 '%s'", path);
        cr_assert_eq(pincurl_policy_load_file(path, NULL, &p, &d), PINCURL_IO);
        cr_assert(strstr(d.message, strerror(EACCES)) != NULL, "%s", d.message);
    }
    cr_assert_eq(pincurl_policy_load_file(NULL, NULL, &p, &d), PINCURL_INVALID_ARGUMENT);
}

/* ------------------------------------------------------------------------------------ */
/* Dates                                                                                  */

/* Seconds since the epoch according to GNU date(1), an independent implementation. */
static long long date_cmd(const char *when)
{
    char cmd[256], out[64];
    snprintf(cmd, sizeof cmd, "date -u -d '%s' +%%s", when);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(out, sizeof out, f), "no output from %s", cmd);
    cr_assert_eq(pclose(f), 0, "%s failed", cmd);
    return strtoll(out, NULL, 10);
}

Test(policy_json, dates_agree_with_date_command)
{
    static const struct {
        const char *text;  /* as the policy writes it */
        const char *gnu;   /* the same instant for date -d */
    } dates[] = {
        {"2027-06-30", "2027-06-30 00:00:00Z"},
        {"2024-02-29", "2024-02-29 00:00:00Z"},
        {"2000-02-29T12:34:56Z", "2000-02-29 12:34:56Z"},
        {"2100-03-01", "2100-03-01 00:00:00Z"},
        {"2400-02-29T23:59:59Z", "2400-02-29 23:59:59Z"},
        {"2027-06-30T23:59:59+05:30", "2027-06-30 23:59:59+05:30"},
        {"2027-01-01T00:15:00-08:00", "2027-01-01 00:15:00-08:00"},
        {"1999-12-31T23:59:59.999Z", "1999-12-31 23:59:59Z"},
        {"2038-01-19T03:14:08z", "2038-01-19 03:14:08Z"},
        {"2027-06-30t12:00:00-00:00", "2027-06-30 12:00:00Z"},
        {"9999-12-31T23:59:59Z", "9999-12-31 23:59:59Z"},
        {"1970-01-01", "1970-01-01 00:00:00Z"},
        {"1969-12-31", "1969-12-31 00:00:00Z"},
    };
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        int64_t got = -1;
        cr_assert_eq(pincurl_parse_date(dates[i].text, &got), PINCURL_OK, "%s", dates[i].text);
        cr_expect_eq(got, date_cmd(dates[i].gnu), "%s: %lld", dates[i].text, (long long)got);
    }
    /* A leap second counts as the first second of the next minute. */
    int64_t leap = 0;
    cr_assert_eq(pincurl_parse_date("2016-12-31T23:59:60Z", &leap), PINCURL_OK);
    cr_assert_eq(leap, date_cmd("2017-01-01 00:00:00Z"));
}

Test(policy_json, bad_dates)
{
    static const char *const bad[] = {
        "2027-02-29", "2100-02-29", "2027-02-30", "2027-04-31", "2027-13-01", "2027-00-10",
        "2027-06-00", "tomorrow", "", "2027-6-30", "27-06-30", "+2027-06-30", "2027/06/30",
        "2027-06-30Z", "2027-06-30T", "2027-06-30T25:00:00Z", "2027-06-30T12:60:00Z",
        "2027-06-30T12:00:61Z", "2027-06-30T12:00:00", "2027-06-30 12:00:00Z",
        "2027-06-30T12:00Z", "2027-06-30T12:00:00+0530", "2027-06-30T12:00:00+24:00",
        "2027-06-30T12:00:00+05:60", "2027-06-30T12:00:00.Z", "2027-06-30T12:00:00Z ",
        " 2027-06-30", "2027-06-30T12:00:00ZZ", "2027-06-30T1:00:00Z", "２０２７-06-30",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t out = 12345;
        cr_expect_eq(pincurl_parse_date(bad[i], &out), PINCURL_POLICY_BAD_DATE, "[%s]", bad[i]);
        cr_expect_eq(out, 0, "[%s] left %lld", bad[i], (long long)out);
    }
    int64_t out;
    cr_assert_eq(pincurl_parse_date(NULL, &out), PINCURL_POLICY_BAD_DATE);
    cr_assert_eq(pincurl_parse_date("2027-06-30", NULL), PINCURL_POLICY_BAD_DATE);
}

/* ------------------------------------------------------------------------------------ */
/* Concurrency: loads share no state (diagnostics included).                              */

static void *load_many(void *arg)
{
    intptr_t bad = (intptr_t)arg;
    const char *doc = bad ? DOC(DOM("api.example.com", "\"pins\": [" Q(PIN1) ", " Q(PIN_SHORT) "]"))
                          : full_doc;
    for (int i = 0; i < 200; i++) {
        pincurl_policy *p = NULL;
        pincurl_diag d;
        pincurl_status st = pincurl_policy_load_json(doc, strlen(doc), NULL, &p, &d);
        if (bad ? (st != PINCURL_PIN_BAD_LENGTH ||
                   strcmp(d.path, "domains[\"api.example.com\"].pins[1]") != 0)
                : st != PINCURL_OK)
            return (void *)1;
        pincurl_policy_unref(p);
    }
    return NULL;
}

Test(policy_json, concurrent_loads)
{
    pthread_t t[8];
    for (intptr_t i = 0; i < 8; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, load_many, (void *)(i % 2)), 0);
    for (int i = 0; i < 8; i++) {
        void *r = NULL;
        pthread_join(t[i], &r);
        cr_expect_null(r, "thread %d saw a wrong result", i);
    }
}

/* ------------------------------------------------------------------------------------ */
/* docs/policy.md's error table is what the loader does, row by row.                      */

/* Copies the text of a table cell without surrounding spaces and backticks. */
static void cell_text(const char *s, size_t n, char *out, size_t size)
{
    while (n > 0 && (*s == ' ' || *s == '`')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '`'))
        n--;
    if (n >= size)
        n = size - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

static int status_number(const char *name)
{
    for (int i = 0; i < 1000; i++) {
        const char *n = pincurl_status_name((pincurl_status)i);
        if (n != NULL && strcmp(n, name) == 0)
            return i;
    }
    return -1;
}

/* The complete example of docs/policy.md loads, and means what its text says. */
Test(policy_json, docs_example_loads)
{
    const char *src = getenv("PINCURL_SOURCE_DIR");
    cr_assert_not_null(src, "PINCURL_SOURCE_DIR is not set (run through ctest)");
    char file[1024];
    snprintf(file, sizeof file, "%s/docs/policy.md", src);
    size_t len;
    char *md = (char *)pt_read_file(file, &len);
    char *start = strstr(md, "## A complete example");
    cr_assert_not_null(start);
    start = strstr(start, "```json\n");
    cr_assert_not_null(start);
    start += 8;
    char *end = strstr(start, "```");
    cr_assert_not_null(end);
    *end = '\0';
    pincurl_policy *p = load_ok(start);
    const pincurl_domain *api = pincurl_policy_lookup(p, "api.example.com", 15);
    cr_assert_eq(pincurl_policy_lookup(p, "x.status.api.example.com", 24), api);
    cr_assert_eq(pincurl_domain_flags(pincurl_policy_lookup(p, "x.legacy.api.example.com", 24)),
                 PINCURL_DOMAIN_EXCLUDE);
    cr_assert_neq(pincurl_domain_expires(pincurl_policy_lookup(p, "metrics.example.org", 19)), 0);
    pincurl_policy_unref(p);
    free(md);
}

Test(policy_json, docs_error_table_matches_the_loader)
{
    const char *src = getenv("PINCURL_SOURCE_DIR");
    cr_assert_not_null(src, "PINCURL_SOURCE_DIR is not set (run through ctest)");
    char file[1024];
    snprintf(file, sizeof file, "%s/docs/policy.md", src);
    size_t len;
    char *md = (char *)pt_read_file(file, &len);

    /* What every case really produces. */
    size_t ncases = sizeof cases / sizeof cases[0];
    pincurl_diag *got = calloc(ncases, sizeof *got);
    cr_assert_not_null(got);
    for (size_t i = 0; i < ncases; i++)
        got[i].status = run_case(&cases[i], &got[i]);

    /* The table after its header "| Status | No. |": rows
     * | `NAME` | number | `path` or - | `message` | up to the first line that is not a row. */
    char *table = strstr(md, "\n| Status | No. |");
    cr_assert_not_null(table, "docs/policy.md has no error table");
    int rows = 0;
    for (char *line = table + 1; line != NULL && *line == '|';) {
        char *next = strchr(line, '\n');
        size_t n = next ? (size_t)(next - line) : strlen(line);
        if (n > 3 && strncmp(line, "| `", 3) == 0) {
            const char *cells[5];
            size_t lens[5];
            int k = 0;
            const char *c = line + 1;
            while (k < 5 && c < line + n) {
                /* A cell ends at the next '|' outside a code span. */
                const char *e = c;
                int in_code = 0;
                while (e < line + n && (in_code || *e != '|')) {
                    if (*e == '`')
                        in_code = !in_code;
                    e++;
                }
                if (e >= line + n)
                    break;
                cells[k] = c;
                lens[k] = (size_t)(e - c);
                k++;
                c = e + 1;
            }
            cr_assert_eq(k, 4, "malformed error table row: %.*s", (int)n, line);
            char name[64], num[16], path[256], msg[512];
            cell_text(cells[0], lens[0], name, sizeof name);
            cell_text(cells[1], lens[1], num, sizeof num);
            cell_text(cells[2], lens[2], path, sizeof path);
            cell_text(cells[3], lens[3], msg, sizeof msg);
            if (strcmp(path, "-") == 0)
                path[0] = '\0';
            rows++;
            cr_expect_eq(status_number(name), atoi(num), "row %s: number %s is wrong", name, num);
            int proven = 0;
            for (size_t i = 0; i < ncases; i++) {
                const char *cn = pincurl_status_name(got[i].status);
                if (cn != NULL && strcmp(cn, name) == 0 && strcmp(got[i].path, path) == 0 &&
                    strcmp(got[i].message, msg) == 0) {
                    proven = 1;
                }
            }
            cr_expect(proven, "row %s [%s] [%s] is not what the loader does", name, path, msg);
        }
        line = next ? next + 1 : NULL;
    }
    cr_assert_gt(rows, 20);

    /* Every status the cases produce has a row. */
    for (size_t i = 0; i < ncases; i++) {
        const char *cn = pincurl_status_name(cases[i].status);
        char needle[80];
        snprintf(needle, sizeof needle, "| `%s` |", cn);
        cr_expect(strstr(md, needle) != NULL, "status %s (case \"%s\") has no row in the docs",
                  cn, cases[i].name);
    }
    free(got);
    free(md);
}
