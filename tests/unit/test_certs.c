/* Certificate lists from PEM bundles and DER, the PEM scanner, and the DER helpers for
 * names and validity used in failure messages; openssl is the reference throughout. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/der.h"
#include "core/pem.h"
#include "pincurl/pincurl.h"
#include "support.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void capture(const char *cmd, char *out, size_t size)
{
    FILE *p = popen(cmd, "r");
    cr_assert(p != NULL);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0, "command failed: %s", cmd);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
}

/* A growing text buffer for building bundles. */
typedef struct text {
    char *p;
    size_t n;
} text;

static void append(text *t, const void *data, size_t len)
{
    t->p = realloc(t->p, t->n + len + 1);
    cr_assert_not_null(t->p);
    memcpy(t->p + t->n, data, len);
    t->n += len;
    t->p[t->n] = '\0';
}

static void append_str(text *t, const char *s)
{
    append(t, s, strlen(s));
}

static void append_file(text *t, const char *name)
{
    size_t len;
    unsigned char *data = pt_read_file(pt_pki(name), &len);
    append(t, data, len);
    free(data);
}

static pincurl_status load_text(const text *t, pincurl_cert_list **list)
{
    return pincurl_cert_list_load((const unsigned char *)t->p, t->n, NULL, list);
}

/* Asserts that certificate i of list is byte for byte what openssl writes for pem_name. */
static void assert_same_der(const pincurl_cert_list *list, size_t i, const char *pem_name)
{
    const char *dir = pt_tmpdir("certs-der");
    char path[1100];
    size_t ref_len, len;
    snprintf(path, sizeof path, "%s/ref.der", dir);
    cr_assert_eq(pt_system("openssl x509 -in '%s' -outform der -out '%s'", pt_pki(pem_name), path),
                 0);
    unsigned char *ref = pt_read_file(path, &ref_len);
    const unsigned char *der = pincurl_cert_list_der(list, i, &len);
    cr_assert_not_null(der);
    cr_assert_eq(len, ref_len, "certificate %zu (%s): %zu bytes, openssl %zu", i, pem_name, len,
                 ref_len);
    cr_assert(memcmp(der, ref, len) == 0, "certificate %zu differs from %s", i, pem_name);
    free(ref);
}

/* ---- Bundles ---------------------------------------------------------------------------- */

Test(certs, cas_bundle_has_two)
{
    text t = {0};
    pincurl_cert_list *list = NULL;
    append_file(&t, "cas.pem");
    cr_assert_eq(load_text(&t, &list), PINCURL_OK);
    cr_assert_eq(pincurl_cert_list_count(list), 2);
    assert_same_der(list, 0, "root.pem");
    assert_same_der(list, 1, "rogue-root.pem");
    pincurl_cert_list_free(list);
    free(t.p);
}

Test(certs, fullchain_in_order)
{
    text t = {0};
    pincurl_cert_list *list = NULL;
    append_file(&t, "leaf-ec-fullchain.pem");
    cr_assert_eq(load_text(&t, &list), PINCURL_OK);
    cr_assert_eq(pincurl_cert_list_count(list), 3);
    assert_same_der(list, 0, "leaf-ec.pem");
    assert_same_der(list, 1, "inter.pem");
    assert_same_der(list, 2, "root.pem");
    pincurl_cert_list_free(list);
    free(t.p);
}

Test(certs, der_input_gives_one)
{
    static const char *names[] = {"leaf-ec", "root", "ed448", "rsa4096"};
    for (size_t i = 0; i < COUNT(names); i++) {
        char der_name[64], pem_name[64];
        snprintf(der_name, sizeof der_name, "%s.der", names[i]);
        snprintf(pem_name, sizeof pem_name, "%s.pem", names[i]);
        text t = {0};
        pincurl_cert_list *list = NULL;
        append_file(&t, der_name);
        cr_assert_eq(load_text(&t, &list), PINCURL_OK, "%s", der_name);
        cr_assert_eq(pincurl_cert_list_count(list), 1);
        assert_same_der(list, 0, pem_name);
        pincurl_cert_list_free(list);
        free(t.p);
    }
}

Test(certs, other_blocks_are_skipped)
{
    text t = {0};
    pincurl_cert_list *list = NULL;
    append_file(&t, "p256.key"); /* before the first certificate */
    append_file(&t, "leaf-ec.pem");
    append_file(&t, "leaf-ec.key"); /* in between */
    append_file(&t, "p384.pub.pem");
    append_file(&t, "rsa2048.pkcs1.pem");
    append_file(&t, "inter.pem");
    cr_assert_eq(load_text(&t, &list), PINCURL_OK);
    cr_assert_eq(pincurl_cert_list_count(list), 2);
    assert_same_der(list, 0, "leaf-ec.pem");
    assert_same_der(list, 1, "inter.pem");
    pincurl_cert_list_free(list);
    free(t.p);
}

Test(certs, crlf_and_text_between_blocks)
{
    text lf = {0}, crlf = {0}, mixed = {0};
    pincurl_cert_list *list = NULL;
    append_file(&lf, "leaf-ec-fullchain.pem");
    for (size_t i = 0; i < lf.n; i++) {
        if (lf.p[i] == '\n')
            append_str(&crlf, "\r\n");
        else
            append(&crlf, lf.p + i, 1);
    }
    cr_assert_eq(load_text(&crlf, &list), PINCURL_OK);
    cr_assert_eq(pincurl_cert_list_count(list), 3);
    assert_same_der(list, 0, "leaf-ec.pem");
    assert_same_der(list, 2, "root.pem");
    pincurl_cert_list_free(list);

    /* openssl's -text output before a block, comments, blank lines, no final newline */
    char cmd[1200], out[16384];
    snprintf(cmd, sizeof cmd, "openssl x509 -in '%s' -text", pt_pki("leaf-ec.pem"));
    capture(cmd, out, sizeof out);
    cr_assert(strstr(out, "Certificate:") != NULL);
    append_str(&mixed, "# bundle\n\n");
    append_str(&mixed, out);
    append_str(&mixed, "\nsome words -----BEGIN CERTIFICATE----- not at a line start\n\n");
    append_file(&mixed, "inter.pem");
    while (mixed.n > 0 && mixed.p[mixed.n - 1] == '\n')
        mixed.p[--mixed.n] = '\0';
    cr_assert_eq(load_text(&mixed, &list), PINCURL_OK);
    cr_assert_eq(pincurl_cert_list_count(list), 2);
    assert_same_der(list, 0, "leaf-ec.pem");
    assert_same_der(list, 1, "inter.pem");
    pincurl_cert_list_free(list);
    free(lf.p);
    free(crlf.p);
    free(mixed.p);
}

/* Loads a bundle and asserts the status; *out stays NULL on failure. */
static void expect_load(const text *t, pincurl_status want, const char *what)
{
    pincurl_cert_list *list = (pincurl_cert_list *)&list; /* poison */
    pincurl_status st = load_text(t, &list);
    cr_assert_eq(st, want, "%s: got %s", what, pincurl_status_name(st));
    if (want != PINCURL_OK)
        cr_assert_null(list, "%s", what);
    pincurl_cert_list_free(list);
}

Test(certs, unterminated_and_undecodable_blocks)
{
    text full = {0};
    append_file(&full, "leaf-ec-fullchain.pem");

    /* the last END line missing */
    text t = {0};
    char *last_end = NULL;
    for (char *p = strstr(full.p, "-----END"); p != NULL; p = strstr(p + 1, "-----END"))
        last_end = p;
    append(&t, full.p, (size_t)(last_end - full.p));
    expect_load(&t, PINCURL_PEM_MALFORMED, "last block unterminated");
    free(t.p);

    /* the first END line missing, later blocks complete */
    t = (text){0};
    char *first_end = strstr(full.p, "-----END");
    char *after = strchr(first_end, '\n') + 1;
    append(&t, full.p, (size_t)(first_end - full.p));
    append_str(&t, after);
    expect_load(&t, PINCURL_PEM_MALFORMED, "first block unterminated");
    free(t.p);

    /* an unterminated private key after a certificate */
    t = (text){0};
    append_file(&t, "leaf-ec.pem");
    append_str(&t, "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n");
    expect_load(&t, PINCURL_PEM_MALFORMED, "unterminated key block");
    free(t.p);

    /* END label differs */
    t = (text){0};
    append_file(&t, "leaf-ec.pem");
    char *end = strstr(t.p, "-----END CERTIFICATE-----");
    memcpy(end, "-----END CERTIFICATX-----", 25);
    expect_load(&t, PINCURL_PEM_MALFORMED, "END label differs");
    free(t.p);

    /* a character outside base64 in the body */
    t = (text){0};
    append_file(&t, "leaf-ec.pem");
    strchr(t.p, '\n')[10] = '!';
    expect_load(&t, PINCURL_PEM_MALFORMED, "bad base64");
    free(t.p);

    /* a BEGIN line that never closes its dashes */
    t = (text){0};
    append_str(&t, "-----BEGIN CERTIFICATE\nAAAA\n-----END CERTIFICATE-----\n");
    expect_load(&t, PINCURL_PEM_MALFORMED, "bad BEGIN line");
    free(t.p);

    /* a BEGIN line as the very last line */
    t = (text){0};
    append_str(&t, "-----BEGIN CERTIFICATE-----");
    expect_load(&t, PINCURL_PEM_MALFORMED, "BEGIN at end of input");
    free(t.p);
    free(full.p);
}

Test(certs, certificate_blocks_must_hold_certificates)
{
    /* One 64-character line (48 bytes) removed: still base64, but a truncated certificate. */
    text t = {0};
    append_file(&t, "leaf-ec.pem");
    char *line2 = strchr(strchr(t.p, '\n') + 1, '\n') + 1;
    char *line3 = strchr(line2, '\n') + 1;
    cr_assert_eq(line3 - line2, 65);
    memmove(line2, line3, strlen(line3) + 1);
    t.n -= 65;
    expect_load(&t, PINCURL_DER_TRUNCATED, "certificate missing 48 bytes");
    free(t.p);

    /* A public key labelled CERTIFICATE. */
    t = (text){0};
    append_file(&t, "p256.pub.pem");
    char *b = strstr(t.p, "BEGIN PUBLIC KEY");
    char *e = strstr(t.p, "END PUBLIC KEY");
    text relabel = {0};
    append(&relabel, t.p, (size_t)(b - t.p));
    append_str(&relabel, "BEGIN CERTIFICATE");
    append(&relabel, b + 16, (size_t)(e - (b + 16)));
    append_str(&relabel, "END CERTIFICATE");
    append_str(&relabel, e + 14);
    expect_load(&relabel, PINCURL_DER_MALFORMED, "SPKI labelled CERTIFICATE");
    free(relabel.p);
    free(t.p);

    /* An empty CERTIFICATE block. */
    t = (text){0};
    append_str(&t, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
    expect_load(&t, PINCURL_DER_TRUNCATED, "empty block");
    free(t.p);
}

Test(certs, broken_der_input)
{
    size_t len;
    unsigned char *der = pt_read_file(pt_pki("leaf-ec.der"), &len);
    text t = {0};
    append(&t, der, len / 2);
    expect_load(&t, PINCURL_DER_TRUNCATED, "half a DER certificate");
    free(t.p);
    t = (text){0};
    append(&t, der, len);
    append_str(&t, "xx");
    expect_load(&t, PINCURL_DER_MALFORMED, "DER with trailing bytes");
    free(t.p);
    free(der);
}

Test(certs, nothing_to_load)
{
    pincurl_cert_list *list = NULL;
    cr_assert_eq(pincurl_cert_list_load((const unsigned char *)"", 0, NULL, &list),
                 PINCURL_NO_CERTIFICATE);
    cr_assert_null(list);
    cr_assert_eq(pincurl_cert_list_load(NULL, 0, NULL, &list), PINCURL_NO_CERTIFICATE);
    text t = {0};
    append_str(&t, "hello\nworld\n");
    expect_load(&t, PINCURL_NO_CERTIFICATE, "plain text");
    free(t.p);
    t = (text){0};
    append_file(&t, "leaf-ec.key");
    append_file(&t, "p256.pub.pem");
    expect_load(&t, PINCURL_NO_CERTIFICATE, "keys only");
    free(t.p);
    cr_assert_eq(pincurl_cert_list_load(NULL, 5, NULL, &list), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_cert_list_load((const unsigned char *)"x", 1, NULL, NULL),
                 PINCURL_INVALID_ARGUMENT);
}

Test(certs, certificate_count_limit)
{
    text one = {0}, t = {0};
    pincurl_cert_list *list = NULL;
    append_file(&one, "p256.pem");
    for (int i = 0; i < 4096; i++)
        append(&t, one.p, one.n);
    cr_assert_eq(load_text(&t, &list), PINCURL_OK);
    cr_assert_eq(pincurl_cert_list_count(list), 4096);
    pincurl_cert_list_free(list);
    append(&t, one.p, one.n);
    expect_load(&t, PINCURL_LIMIT_EXCEEDED, "4097 certificates");
    free(t.p);
    free(one.p);
}

Test(certs, accessors)
{
    text t = {0};
    pincurl_cert_list *list = NULL;
    size_t len = 77;
    append_file(&t, "leaf-ec-chain.pem");
    cr_assert_eq(load_text(&t, &list), PINCURL_OK);
    cr_assert_eq(pincurl_cert_list_count(list), 2);
    cr_assert_not_null(pincurl_cert_list_der(list, 1, &len));
    cr_assert_gt(len, 100);
    cr_assert_not_null(pincurl_cert_list_der(list, 1, NULL));
    cr_assert_null(pincurl_cert_list_der(list, 2, &len));
    cr_assert_eq(len, 0);
    cr_assert_null(pincurl_cert_list_der(NULL, 0, &len));
    cr_assert_eq(pincurl_cert_list_count(NULL), 0);
    pincurl_cert_list_free(NULL);
    pincurl_cert_list_free(list);
    free(t.p);
}

/* ---- The allocator ---------------------------------------------------------------------- */

typedef struct counting {
    long live;
    long calls;
    long fail_at; /* the call number that fails, or -1 */
} counting;

static void *c_malloc(size_t size, void *ctx)
{
    counting *c = ctx;
    if (c->calls++ == c->fail_at)
        return NULL;
    void *p = malloc(size);
    if (p != NULL)
        c->live++;
    return p;
}

static void *c_realloc(void *ptr, size_t size, void *ctx)
{
    counting *c = ctx;
    if (c->calls++ == c->fail_at)
        return NULL;
    void *p = realloc(ptr, size);
    if (p != NULL && ptr == NULL)
        c->live++;
    return p;
}

static void c_free(void *ptr, void *ctx)
{
    counting *c = ctx;
    if (ptr != NULL)
        c->live--;
    free(ptr);
}

Test(certs, allocation_goes_through_the_allocator_and_fails_closed)
{
    text t = {0};
    for (int i = 0; i < 6; i++) /* enough entries to grow the index */
        append_file(&t, "leaf-ec-fullchain.pem");
    counting c = {0, 0, -1};
    pincurl_allocator a = {c_malloc, c_realloc, c_free, &c};
    pincurl_cert_list *list = NULL;
    cr_assert_eq(pincurl_cert_list_load((const unsigned char *)t.p, t.n, &a, &list), PINCURL_OK);
    cr_assert_eq(pincurl_cert_list_count(list), 18);
    cr_assert_gt(c.live, 0, "the list's memory came from the allocator");
    long needed = c.calls;
    pincurl_cert_list_free(list);
    cr_assert_eq(c.live, 0);

    for (long k = 0; k < needed; k++) {
        c = (counting){0, 0, k};
        list = (pincurl_cert_list *)&list;
        cr_assert_eq(pincurl_cert_list_load((const unsigned char *)t.p, t.n, &a, &list),
                     PINCURL_OUT_OF_MEMORY, "allocation %ld failing", k);
        cr_assert_null(list);
        cr_assert_eq(c.live, 0, "leak when allocation %ld fails", k);
    }
    free(t.p);
}

/* ---- PEM scanner ------------------------------------------------------------------------ */

Test(certs, pem_scanner_reports_labels_in_order)
{
    text t = {0};
    append_file(&t, "leaf-ec.pem");
    append_file(&t, "leaf-ec.key");
    append_file(&t, "rsa2048.pkcs1.pem");
    static const char *labels[] = {"CERTIFICATE", "PRIVATE KEY", "RSA PUBLIC KEY"};
    size_t pos = 0;
    for (size_t i = 0; i < COUNT(labels); i++) {
        pc_pem_block b;
        int found = 0;
        cr_assert_eq(pc_pem_next(t.p, t.n, &pos, &b, &found), PINCURL_OK);
        cr_assert_eq(found, 1);
        cr_assert(pc_pem_label_is(&b, labels[i]), "block %zu: %.*s", i, (int)b.label_len, b.label);
        cr_assert_gt(b.body_len, 0);
    }
    pc_pem_block b;
    int found = 1;
    cr_assert_eq(pc_pem_next(t.p, t.n, &pos, &b, &found), PINCURL_OK);
    cr_assert_eq(found, 0);
    free(t.p);
}

/* ---- Names and validity ----------------------------------------------------------------- */

static const char *cert_names[] = {"root", "inter", "leaf-ec", "leaf-rsa", "leaf-expired",
                                   "leaf-otherhost", "rogue-root", "rogue-leaf", "ed25519",
                                   "p521"};

static unsigned char *read_der(const char *name, size_t *len)
{
    char pem[64];
    snprintf(pem, sizeof pem, "%s.pem", name);
    size_t pem_len;
    unsigned char *data = pt_read_file(pt_pki(pem), &pem_len);
    pincurl_cert_list *list = NULL;
    cr_assert_eq(pincurl_cert_list_load(data, pem_len, NULL, &list), PINCURL_OK);
    const unsigned char *der = pincurl_cert_list_der(list, 0, len);
    unsigned char *copy = malloc(*len);
    memcpy(copy, der, *len);
    pincurl_cert_list_free(list);
    free(data);
    return copy;
}

Test(der_names, leaf_subject_and_issuer)
{
    size_t len, name_len;
    const unsigned char *name;
    char text_out[256];
    unsigned char *der = read_der("leaf-ec", &len);
    cr_assert_eq(pc_der_cert_subject(der, len, &name, &name_len), PINCURL_OK);
    cr_assert(name > der && name + name_len <= der + len);
    cr_assert_eq(pc_der_name_to_string(name, name_len, text_out, sizeof text_out), PINCURL_OK);
    cr_assert(strstr(text_out, "CN=localhost") != NULL, "%s", text_out);
    cr_assert(strstr(text_out, "O=pincurl test") != NULL, "%s", text_out);
    cr_assert_str_eq(text_out, "CN=localhost,O=pincurl test");
    cr_assert_eq(pc_der_cert_issuer(der, len, &name, &name_len), PINCURL_OK);
    cr_assert_eq(pc_der_name_to_string(name, name_len, text_out, sizeof text_out), PINCURL_OK);
    cr_assert_str_eq(text_out, "CN=pincurl test intermediate,O=pincurl test");
    free(der);
}

Test(der_names, names_match_openssl_rfc2253)
{
    for (size_t i = 0; i < COUNT(cert_names); i++) {
        size_t len, name_len;
        const unsigned char *name;
        char mine[256], ref[512], cmd[1200], pem[64];
        unsigned char *der = read_der(cert_names[i], &len);
        snprintf(pem, sizeof pem, "%s.pem", cert_names[i]);
        for (int issuer = 0; issuer < 2; issuer++) {
            snprintf(cmd, sizeof cmd, "openssl x509 -in '%s' -noout -%s -nameopt RFC2253",
                     pt_pki(pem), issuer ? "issuer" : "subject");
            capture(cmd, ref, sizeof ref);
            const char *eq = strchr(ref, '=');
            cr_assert_not_null(eq);
            if (issuer)
                cr_assert_eq(pc_der_cert_issuer(der, len, &name, &name_len), PINCURL_OK);
            else
                cr_assert_eq(pc_der_cert_subject(der, len, &name, &name_len), PINCURL_OK);
            cr_assert_eq(pc_der_name_to_string(name, name_len, mine, sizeof mine), PINCURL_OK);
            cr_assert_str_eq(mine, eq + 1, "%s %s", pem, issuer ? "issuer" : "subject");
        }
        free(der);
    }
}

Test(der_names, validity_matches_openssl)
{
    size_t len;
    int64_t t = 0;
    unsigned char *der = read_der("leaf-expired", &len);
    cr_assert_eq(pc_der_cert_not_after(der, len, &t), PINCURL_OK);
    cr_assert_eq(t, 1609459200); /* 2021-01-01T00:00:00Z */
    cr_assert_eq(pc_der_cert_not_before(der, len, &t), PINCURL_OK);
    cr_assert_eq(t, 1577836800); /* 2020-01-01T00:00:00Z */
    free(der);

    for (size_t i = 0; i < COUNT(cert_names); i++) {
        char cmd[1300], ref[64], pem[64];
        snprintf(pem, sizeof pem, "%s.pem", cert_names[i]);
        for (int after = 0; after < 2; after++) {
            snprintf(cmd, sizeof cmd,
                     "date -u -d \"$(openssl x509 -in '%s' -noout -%s | cut -d= -f2)\" +%%s",
                     pt_pki(pem), after ? "enddate" : "startdate");
            capture(cmd, ref, sizeof ref);
            der = read_der(cert_names[i], &len);
            if (after)
                cr_assert_eq(pc_der_cert_not_after(der, len, &t), PINCURL_OK);
            else
                cr_assert_eq(pc_der_cert_not_before(der, len, &t), PINCURL_OK);
            cr_assert_eq(t, strtoll(ref, NULL, 10), "%s %s", pem, after ? "notAfter" : "notBefore");
            free(der);
        }
    }
    der = read_der("leaf-ec", &len);
    cr_assert_eq(pc_der_cert_not_after(der, 10, &t), PINCURL_DER_TRUNCATED);
    cr_assert_eq(t, 0);
    cr_assert_eq(pc_der_cert_not_after(der, len, NULL), PINCURL_INVALID_ARGUMENT);
    free(der);
}

static pincurl_status time_of(unsigned tag, const char *s, int64_t *t)
{
    unsigned char buf[40];
    pc_der_tlv tlv;
    size_t n = strlen(s);
    buf[0] = (unsigned char)tag;
    buf[1] = (unsigned char)n;
    memcpy(buf + 2, s, n);
    cr_assert_eq(pc_der_read(buf, n + 2, &tlv), PINCURL_OK);
    return pc_der_time(&tlv, t);
}

Test(der_names, time_forms)
{
    int64_t t;
    cr_assert_eq(time_of(PC_DER_UTC_TIME, "700101000000Z", &t), PINCURL_OK);
    cr_assert_eq(t, 0);
    cr_assert_eq(time_of(PC_DER_UTC_TIME, "491231235959Z", &t), PINCURL_OK);
    cr_assert_eq(t, 2524607999); /* 2049-12-31T23:59:59Z */
    cr_assert_eq(time_of(PC_DER_UTC_TIME, "500101000000Z", &t), PINCURL_OK);
    cr_assert_eq(t, -631152000); /* 1950-01-01 */
    cr_assert_eq(time_of(PC_DER_GENERALIZED_TIME, "20500101000000Z", &t), PINCURL_OK);
    cr_assert_eq(t, 2524608000);
    cr_assert_eq(time_of(PC_DER_GENERALIZED_TIME, "20240229120000Z", &t), PINCURL_OK);
    cr_assert_eq(t, 1709208000);
    cr_assert_eq(time_of(PC_DER_GENERALIZED_TIME, "99991231235959Z", &t), PINCURL_OK);
    cr_assert_eq(t, 253402300799);

    static const struct {
        unsigned tag;
        const char *s;
    } bad[] = {
        {PC_DER_UTC_TIME, "7001010000Z"},           /* no seconds */
        {PC_DER_UTC_TIME, "700101000000"},          /* no Z */
        {PC_DER_UTC_TIME, "700101000000+0100"},     /* offset */
        {PC_DER_UTC_TIME, "701301000000Z"},         /* month 13 */
        {PC_DER_UTC_TIME, "700100000000Z"},         /* day 0 */
        {PC_DER_UTC_TIME, "700431000000Z"},         /* April 31 */
        {PC_DER_UTC_TIME, "230229000000Z"},         /* not a leap year */
        {PC_DER_UTC_TIME, "700101240000Z"},         /* hour 24 */
        {PC_DER_UTC_TIME, "700101006000Z"},         /* minute 60 */
        {PC_DER_UTC_TIME, "700101000060Z"},         /* second 60 */
        {PC_DER_UTC_TIME, "7O0101000000Z"},         /* letter */
        {PC_DER_UTC_TIME, "20500101000000Z"},       /* generalized length as UTCTime */
        {PC_DER_GENERALIZED_TIME, "21000229000000Z"}, /* 2100 is not a leap year */
        {PC_DER_GENERALIZED_TIME, "20500101000000.5Z"},
        {PC_DER_GENERALIZED_TIME, "500101000000Z"},
        {PC_DER_OCTET_STRING, "700101000000Z"},
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        t = 42;
        cr_assert_eq(time_of(bad[i].tag, bad[i].s, &t), PINCURL_DER_MALFORMED, "%s", bad[i].s);
        cr_assert_eq(t, 0);
    }
}

/* Builds Name ::= SEQUENCE OF SET OF SEQUENCE { OID, value } from raw ATV contents. */
typedef struct atv_spec {
    const unsigned char *oid;
    size_t oid_len;
    unsigned tag;
    const char *value;
    size_t value_len;
    int same_rdn; /* join the previous RDN (multi-valued) */
} atv_spec;

static size_t build_name(unsigned char *out, const atv_spec *specs, size_t count)
{
    unsigned char content[1024];
    size_t n = 0, rdn_start = 0;
    for (size_t i = 0; i < count; i++) {
        unsigned char atv[256];
        size_t a = 0;
        atv[a++] = 0x06;
        atv[a++] = (unsigned char)specs[i].oid_len;
        memcpy(atv + a, specs[i].oid, specs[i].oid_len);
        a += specs[i].oid_len;
        atv[a++] = (unsigned char)specs[i].tag;
        atv[a++] = (unsigned char)specs[i].value_len;
        memcpy(atv + a, specs[i].value, specs[i].value_len);
        a += specs[i].value_len;
        if (specs[i].same_rdn) {
            /* extend the open SET */
            content[rdn_start + 1] = (unsigned char)(content[rdn_start + 1] + 2 + a);
        } else {
            rdn_start = n;
            content[n++] = 0x31;
            content[n++] = (unsigned char)(2 + a);
        }
        content[n++] = 0x30;
        content[n++] = (unsigned char)a;
        memcpy(content + n, atv, a);
        n += a;
    }
    cr_assert_lt(n, 256);
    size_t h = 0;
    out[h++] = 0x30;
    if (n >= 0x80)
        out[h++] = 0x81;
    out[h++] = (unsigned char)n;
    memcpy(out + h, content, n);
    return n + h;
}

static const unsigned char oid_cn[] = {0x55, 0x04, 0x03};
static const unsigned char oid_o[] = {0x55, 0x04, 0x0a};
static const unsigned char oid_c[] = {0x55, 0x04, 0x06};
static const unsigned char oid_ou[] = {0x55, 0x04, 0x0b};
static const unsigned char oid_l[] = {0x55, 0x04, 0x07};
static const unsigned char oid_st[] = {0x55, 0x04, 0x08};
static const unsigned char oid_x[] = {0x2a, 0x03, 0x04};                   /* 1.2.3.4 */
static const unsigned char oid_big[] = {0x88, 0x37, 0x83, 0x80, 0x80, 0x01}; /* 2.999.6291457 */

Test(der_names, attribute_names_escaping_and_oids)
{
    unsigned char name[600];
    char out[512];
    const atv_spec specs[] = {
        {oid_c, 3, PC_DER_PRINTABLE_STRING, "DE", 2, 0},
        {oid_st, 3, PC_DER_UTF8_STRING, "Berlin", 6, 0},
        {oid_l, 3, PC_DER_UTF8_STRING, "M\xc3\xbcnchen", 8, 0},
        {oid_o, 3, PC_DER_UTF8_STRING, "a,b+c\"d\\e<f>g;h", 15, 0},
        {oid_ou, 3, PC_DER_UTF8_STRING, " #lead", 6, 0},
        {oid_ou, 3, PC_DER_UTF8_STRING, "#hash", 5, 1},
        {oid_x, 3, PC_DER_IA5_STRING, "tail \n", 6, 0},
        {oid_big, 6, 0x02 /* INTEGER */, "\x05", 1, 0},
        {oid_cn, 3, PC_DER_UTF8_STRING, "nul\0x ", 6, 0},
    };
    size_t n = build_name(name, specs, COUNT(specs));
    pincurl_status st = pc_der_name_to_string(name, n, out, sizeof out);
    cr_assert_eq(st, PINCURL_OK, "%s", pincurl_status_name(st));
    cr_assert_str_eq(out, "CN=nul\\00x\\ ,2.999.6291457=#020105,1.2.3.4=tail \\0A,"
                          "OU=\\ #lead+OU=\\#hash,O=a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h,"
                          "L=M\\C3\\BCnchen,ST=Berlin,C=DE");

    /* too small: the beginning, NUL-terminated */
    cr_assert_eq(pc_der_name_to_string(name, n, out, 8), PINCURL_BUFFER_TOO_SMALL);
    cr_assert_str_eq(out, "CN=nul\\");
    cr_assert_eq(pc_der_name_to_string(name, n, out, 0), PINCURL_BUFFER_TOO_SMALL);

    /* the empty Name */
    static const unsigned char empty[] = {0x30, 0x00};
    cr_assert_eq(pc_der_name_to_string(empty, sizeof empty, out, sizeof out), PINCURL_OK);
    cr_assert_str_eq(out, "");
}

Test(der_names, malformed_names)
{
    char out[64];
    static const struct {
        const char *what;
        unsigned char bytes[16];
        size_t len;
    } bad[] = {
        {"not a SEQUENCE", {0x31, 0x00}, 2},
        {"RDN not a SET", {0x30, 0x02, 0x30, 0x00}, 4},
        {"empty RDN", {0x30, 0x02, 0x31, 0x00}, 4},
        {"ATV not a SEQUENCE", {0x30, 0x04, 0x31, 0x02, 0x31, 0x00}, 6},
        {"ATV without value", {0x30, 0x07, 0x31, 0x05, 0x30, 0x03, 0x06, 0x01, 0x55}, 9},
        {"type not an OID", {0x30, 0x08, 0x31, 0x06, 0x30, 0x04, 0x04, 0x00, 0x0c, 0x00}, 10},
        {"empty OID", {0x30, 0x08, 0x31, 0x06, 0x30, 0x04, 0x06, 0x00, 0x0c, 0x00}, 10},
        {"OID ends mid sub-identifier",
         {0x30, 0x09, 0x31, 0x07, 0x30, 0x05, 0x06, 0x01, 0x88, 0x0c, 0x00}, 11},
        {"non-minimal OID", {0x30, 0x0a, 0x31, 0x08, 0x30, 0x06, 0x06, 0x02, 0x80, 0x01, 0x0c, 0x00}, 12},
        {"trailing bytes", {0x30, 0x00, 0x00}, 3},
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        strcpy(out, "junk");
        cr_assert_eq(pc_der_name_to_string(bad[i].bytes, bad[i].len, out, sizeof out),
                     PINCURL_DER_MALFORMED, "%s", bad[i].what);
        cr_assert_str_eq(out, "", "%s", bad[i].what);
    }
    static const unsigned char cut[] = {0x30, 0x05, 0x31, 0x03};
    cr_assert_eq(pc_der_name_to_string(cut, sizeof cut, out, sizeof out), PINCURL_DER_TRUNCATED);
}

Test(der_names, oid_to_string)
{
    char out[64];
    static const unsigned char rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
    cr_assert_eq(pc_der_oid_to_string(rsa, sizeof rsa, out, sizeof out), PINCURL_OK);
    cr_assert_str_eq(out, "1.2.840.113549.1.1.1");
    static const unsigned char zero[] = {0x00};
    cr_assert_eq(pc_der_oid_to_string(zero, sizeof zero, out, sizeof out), PINCURL_OK);
    cr_assert_str_eq(out, "0.0");
    cr_assert_eq(pc_der_oid_to_string(oid_big, sizeof oid_big, out, sizeof out), PINCURL_OK);
    cr_assert_str_eq(out, "2.999.6291457");
    cr_assert_eq(pc_der_oid_to_string(rsa, sizeof rsa, out, 5), PINCURL_BUFFER_TOO_SMALL);
    static const unsigned char overflow[] = {0x2a, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80,
                                             0x80, 0x80, 0x80, 0x80, 0x00};
    cr_assert_eq(pc_der_oid_to_string(overflow, sizeof overflow, out, sizeof out),
                 PINCURL_DER_MALFORMED);
    cr_assert_eq(pc_der_oid_to_string(rsa, sizeof rsa - 1, out, sizeof out), PINCURL_OK,
                 "a shorter OID is still an OID");
    static const unsigned char cont[] = {0x2a, 0x86};
    cr_assert_eq(pc_der_oid_to_string(cont, sizeof cont, out, sizeof out), PINCURL_DER_MALFORMED);
    cr_assert_str_eq(out, "");
}
