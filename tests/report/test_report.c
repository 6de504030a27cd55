/* The report document: every field of docs/reports.md, time formatting, the dedup key. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report_support.h"
#include "support.h"

static cJSON *build(const pc_report_input *in)
{
    char *json = NULL;
    size_t len = 0;
    cr_assert_eq(pc_report_build(in, &json, &len), PINCURL_OK);
    cr_assert_not_null(json);
    cr_assert_eq(len, strlen(json));
    cJSON *doc = cJSON_Parse(json);
    cr_assert_not_null(doc, "not JSON: %s", json);
    free(json);
    return doc;
}

static const char *str_field(const cJSON *doc, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);
    cr_assert(cJSON_IsString(v), "%s is not a string", name);
    return v->valuestring;
}

/* Decodes a PEM string with openssl (independent of pincurl's own PEM code) and compares the
 * DER with the expected bytes. */
static void check_pem(const char *pem, const pincurl_cert_ref *want, const char *tag)
{
    cr_assert(strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
    size_t n = strlen(pem);
    cr_assert(n > 26 && strcmp(pem + n - 26, "-----END CERTIFICATE-----\n") == 0);
    const char *dir = pt_tmpdir(tag);
    char in[1200], out[1200];
    snprintf(in, sizeof in, "%s/c.pem", dir);
    snprintf(out, sizeof out, "%s/c.der", dir);
    pt_write_file(in, pem, n);
    cr_assert_eq(pt_system("openssl x509 -in '%s' -outform der -out '%s'", in, out), 0);
    size_t len;
    unsigned char *der = pt_read_file(out, &len);
    cr_assert_eq(len, want->len);
    cr_assert(memcmp(der, want->der, len) == 0);
    free(der);
}

static void check_chain(const cJSON *doc, const char *name, const pincurl_cert_ref *want,
                        size_t n)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, name);
    cr_assert(cJSON_IsArray(arr), "%s is not an array", name);
    cr_assert_eq((size_t)cJSON_GetArraySize(arr), n);
    for (size_t i = 0; i < n; i++) {
        const cJSON *s = cJSON_GetArrayItem(arr, (int)i);
        cr_assert(cJSON_IsString(s));
        check_pem(s->valuestring, &want[i], name);
    }
}

Test(report, every_field)
{
    rt_input r;
    rt_input_make(&r, 8443, "https://collector.example/report");
    r.in.include_subdomains = 1;
    cJSON *doc = build(&r.in);

    cr_assert_str_eq(str_field(doc, "app-bundle-id"), "com.example.app");
    cr_assert_str_eq(str_field(doc, "app-version"), "2.4.1");
    cr_assert_str_eq(str_field(doc, "app-vendor-id"), "7F0A1C2E-0000-4000-8000-000000000001");
    cr_assert_str_eq(str_field(doc, "app-platform"), "linux");
    cr_assert_str_eq(str_field(doc, "app-platform-version"), "6.1");
    cr_assert_str_eq(str_field(doc, "pincurl-version"), pincurl_version());
    cr_assert_str_eq(str_field(doc, "date-time"), "2026-12-01T10:00:00Z");
    cr_assert_str_eq(str_field(doc, "hostname"), "127.0.0.1");
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(doc, "port");
    cr_assert(cJSON_IsNumber(port) && port->valuedouble == 8443);
    cr_assert_str_eq(str_field(doc, "noted-hostname"), "127.0.0.1");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "include-subdomains")));
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "enforce-pinning")));
    cr_assert_str_eq(str_field(doc, "effective-expiration-date"), "2027-06-30T12:00:00Z");
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(doc, "validation-result");
    cr_assert(cJSON_IsNumber(result) && result->valuedouble == 1);
    check_chain(doc, "served-certificate-chain", r.served, 2);
    check_chain(doc, "validated-certificate-chain", r.path, 3);

    const cJSON *pins = cJSON_GetObjectItemCaseSensitive(doc, "known-pins");
    cr_assert(cJSON_IsArray(pins) && cJSON_GetArraySize(pins) == 2);
    for (int i = 0; i < 2; i++) {
        char text[PINCURL_PIN_TEXT_SIZE], want[80];
        cr_assert_eq(pincurl_pin_format(&r.pins[i], text, sizeof text), PINCURL_OK);
        snprintf(want, sizeof want, "pin-sha256=\"%s\"", text + strlen("sha256/"));
        cr_assert_str_eq(cJSON_GetArrayItem(pins, i)->valuestring, want);
    }
    /* openssl agrees on the pin of the backup key */
    char ossl[128], text[PINCURL_PIN_TEXT_SIZE], want[160];
    pt_openssl_cert_pin(pt_pki("leaf-backup.pem"), ossl, sizeof ossl);
    cr_assert_eq(pincurl_pin_format(&r.pins[0], text, sizeof text), PINCURL_OK);
    cr_assert_str_eq(text, ossl);
    snprintf(want, sizeof want, "pin-sha256=\"%s\"", ossl + 7);
    cr_assert_str_eq(cJSON_GetArrayItem(pins, 0)->valuestring, want);

    /* exactly the documented fields, in the documented order */
    static const char *order[] = {
        "app-bundle-id", "app-version", "app-vendor-id", "app-platform",
        "app-platform-version", "pincurl-version", "date-time", "hostname", "port",
        "noted-hostname", "include-subdomains", "enforce-pinning", "effective-expiration-date",
        "validation-result", "served-certificate-chain", "validated-certificate-chain",
        "known-pins"};
    size_t i = 0;
    for (const cJSON *f = doc->child; f != NULL; f = f->next, i++) {
        cr_assert(i < sizeof order / sizeof order[0], "unexpected field %s", f->string);
        cr_assert_str_eq(f->string, order[i]);
    }
    cr_assert_eq(i, sizeof order / sizeof order[0]);
    cJSON_Delete(doc);
    rt_input_free(&r);
}

Test(report, defaults_and_null)
{
    rt_input r;
    rt_input_make(&r, 443, NULL);
    r.in.app = NULL;
    r.in.expires = 0;
    r.in.enforce = 0;
    r.in.served_len = 0;
    r.in.path_len = 0;
    r.in.result = PINCURL_RESULT_INVALID_CHAIN;
    cJSON *doc = build(&r.in);
    cr_assert_str_eq(str_field(doc, "app-bundle-id"), "");
    cr_assert_str_eq(str_field(doc, "app-platform-version"), "");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(doc, "effective-expiration-date")));
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(doc, "enforce-pinning")));
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(doc, "include-subdomains")));
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "served-certificate-chain")), 0);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "validated-certificate-chain")), 0);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(doc, "validation-result")->valuedouble, 2);
    cJSON_Delete(doc);

    /* app fields with characters JSON must escape survive the round trip */
    pc_report_app app = {"a\"b\\c", "line\nbreak", "\x01", "caf\xc3\xa9", NULL};
    r.in.app = &app;
    doc = build(&r.in);
    cr_assert_str_eq(str_field(doc, "app-bundle-id"), "a\"b\\c");
    cr_assert_str_eq(str_field(doc, "app-version"), "line\nbreak");
    cr_assert_str_eq(str_field(doc, "app-vendor-id"), "\x01");
    cr_assert_str_eq(str_field(doc, "app-platform"), "caf\xc3\xa9");
    cr_assert_str_eq(str_field(doc, "app-platform-version"), "");
    cJSON_Delete(doc);
    rt_input_free(&r);
}

Test(report, invalid_inputs)
{
    rt_input r;
    rt_input_make(&r, 443, NULL);
    char *json = (char *)"sentinel";
    unsigned char key[32];
    pc_report_input bad;

#define EXPECT_INVALID(mutation)                                                           \
    do {                                                                                   \
        bad = r.in;                                                                        \
        mutation;                                                                          \
        json = (char *)"sentinel";                                                         \
        cr_assert_eq(pc_report_build(&bad, &json, NULL), PINCURL_INVALID_ARGUMENT, #mutation); \
        cr_assert_null(json);                                                              \
        cr_assert_eq(pc_report_key(&bad, key), PINCURL_INVALID_ARGUMENT, #mutation);         \
    } while (0)

    EXPECT_INVALID(bad.host = NULL);
    EXPECT_INVALID(bad.noted_host = NULL);
    EXPECT_INVALID(bad.port = 0);
    EXPECT_INVALID(bad.port = 65536);
    EXPECT_INVALID(bad.path_len = PINCURL_MAX_PATH + 1);
    EXPECT_INVALID(bad.served = NULL);
    EXPECT_INVALID(bad.known_pins = NULL);
    pincurl_cert_ref empty[1] = {{NULL, 0}};
    EXPECT_INVALID(bad.path = empty; bad.path_len = 1);
    cr_assert_eq(pc_report_build(NULL, &json, NULL), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pc_report_build(&r.in, NULL, NULL), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pc_report_key(&r.in, NULL), PINCURL_INVALID_ARGUMENT);
    /* a date outside RFC 3339's years (the key does not cover dates) */
    bad = r.in;
    bad.now = (int64_t)253402300800LL;
    cr_assert_eq(pc_report_build(&bad, &json, NULL), PINCURL_INVALID_ARGUMENT);
    cr_assert_null(json);
    bad = r.in;
    bad.expires = -(int64_t)62167219201LL;
    cr_assert_eq(pc_report_build(&bad, &json, NULL), PINCURL_INVALID_ARGUMENT);
    rt_input_free(&r);
}

Test(report, time_format)
{
    static const struct {
        int64_t t;
        const char *s;
    } v[] = {{0, "1970-01-01T00:00:00Z"},        {951782400, "2000-02-29T00:00:00Z"},
             {-1, "1969-12-31T23:59:59Z"},       {253402300799LL, "9999-12-31T23:59:59Z"},
             {-62167219200LL, "0000-01-01T00:00:00Z"}, {4107542399LL, "2100-02-28T23:59:59Z"}};
    char buf[32];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        cr_assert_eq(pc_report_format_time(v[i].t, buf, sizeof buf), PINCURL_OK);
        cr_assert_str_eq(buf, v[i].s);
    }
    /* against the C library over a spread of times */
    for (int64_t t = -2000000000LL; t < 7000000000LL; t += 12345677) {
        time_t tt = (time_t)t;
        struct tm tm;
        cr_assert_not_null(gmtime_r(&tt, &tm));
        char want[32];
        strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
        cr_assert_eq(pc_report_format_time(t, buf, sizeof buf), PINCURL_OK);
        cr_assert_str_eq(buf, want);
    }
    cr_assert_eq(pc_report_format_time(0, buf, 20), PINCURL_BUFFER_TOO_SMALL);
    cr_assert_eq(pc_report_format_time(253402300800LL, buf, sizeof buf),
                 PINCURL_INVALID_ARGUMENT);
}

Test(report, dedup_key)
{
    rt_input r;
    rt_input_make(&r, 443, "https://c.example/r");
    unsigned char base[32], k[32];
    cr_assert_eq(pc_report_key(&r.in, base), PINCURL_OK);
    pc_report_input v;

    /* what does not identify the failure does not change the key */
    pc_report_app other = {"x", "y", "z", "w", "v"};
    v = r.in; v.now += 3600; v.app = &other; v.expires = 0; v.served_len = 1;
    v.enforce = 0; v.include_subdomains = 1; v.uri_count = 0;
    cr_assert_eq(pc_report_key(&v, k), PINCURL_OK);
    cr_assert(memcmp(k, base, 32) == 0);

    /* each identifying part does */
#define EXPECT_DIFFERENT(mutation)                                                          \
    do {                                                                                    \
        v = r.in;                                                                           \
        mutation;                                                                           \
        cr_assert_eq(pc_report_key(&v, k), PINCURL_OK);                                      \
        cr_assert(memcmp(k, base, 32) != 0, #mutation);                                      \
    } while (0)
    EXPECT_DIFFERENT(v.host = "localhost");
    EXPECT_DIFFERENT(v.noted_host = "example.com");
    EXPECT_DIFFERENT(v.port = 444);
    EXPECT_DIFFERENT(v.path_len = 2);
    EXPECT_DIFFERENT(v.path = r.served; v.path_len = 2);
    EXPECT_DIFFERENT(v.known_pin_count = 1);
    EXPECT_DIFFERENT(v.known_pins = &r.pins[1]; v.known_pin_count = 1);
    EXPECT_DIFFERENT(v.result = PINCURL_RESULT_INVALID_CHAIN);
    /* no ambiguity between host and noted host boundaries */
    v = r.in; v.host = "ab"; v.noted_host = "c";
    cr_assert_eq(pc_report_key(&v, base), PINCURL_OK);
    v.host = "a"; v.noted_host = "bc";
    cr_assert_eq(pc_report_key(&v, k), PINCURL_OK);
    cr_assert(memcmp(k, base, 32) != 0);
    rt_input_free(&r);
}

/* docs/reports.md's example has exactly the fields of a built report, in order, with the
 * same JSON types. */
Test(report, docs_example_matches)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/reports.md", PINCURL_SOURCE_DIR);
    size_t len;
    char *md = (char *)pt_read_file(path, &len);
    const char *mark = strstr(md, "<!-- example-report -->\n```json\n");
    cr_assert_not_null(mark, "docs/reports.md has no example report");
    const char *start = strchr(strchr(mark, '\n') + 1, '\n') + 1;
    const char *end = strstr(start, "\n```");
    cr_assert_not_null(end);
    cJSON *example = cJSON_ParseWithLength(start, (size_t)(end - start));
    cr_assert_not_null(example, "the example is not JSON");

    rt_input r;
    rt_input_make(&r, 443, NULL);
    cJSON *doc = build(&r.in);
    const cJSON *a = example->child, *b = doc->child;
    for (; a != NULL && b != NULL; a = a->next, b = b->next) {
        cr_assert_str_eq(a->string, b->string);
        int ta = cJSON_IsBool(a) ? cJSON_True : a->type & 0xff;
        int tb = cJSON_IsBool(b) ? cJSON_True : b->type & 0xff;
        cr_assert_eq(ta, tb, "%s has another type", a->string);
    }
    cr_assert(a == NULL && b == NULL, "field count differs");
    /* its PEM strings are certificates and its pins are in pin-sha256 form */
    const cJSON *chain = cJSON_GetObjectItemCaseSensitive(example, "validated-certificate-chain");
    const cJSON *pem;
    cJSON_ArrayForEach(pem, chain) {
        pincurl_cert_list *l = NULL;
        cr_assert_eq(pincurl_cert_list_load((const unsigned char *)pem->valuestring,
                                            strlen(pem->valuestring), NULL, &l),
                     PINCURL_OK);
        cr_assert_eq(pincurl_cert_list_count(l), 1);
        pincurl_cert_list_free(l);
    }
    const cJSON *pin;
    cJSON_ArrayForEach(pin, cJSON_GetObjectItemCaseSensitive(example, "known-pins")) {
        const char *t = pin->valuestring;
        cr_assert(strncmp(t, "pin-sha256=\"", 12) == 0 && t[strlen(t) - 1] == '"');
        char text[64];
        snprintf(text, sizeof text, "sha256/%.*s", (int)(strlen(t) - 13), t + 12);
        pincurl_pin p;
        cr_assert_eq(pincurl_pin_parse(text, strlen(text), &p), PINCURL_OK, "%s", text);
    }
    cJSON_Delete(example);
    cJSON_Delete(doc);
    free(md);
    rt_input_free(&r);
}
