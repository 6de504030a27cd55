/* Failure details: pure formatting of a verdict, its path and the served chain. */
#include "core/detail.h"

#include "core/alloc.h"
#include "core/der.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A growing string through an allocator; a failed append marks it failed. */
typedef struct sbuf {
    const pincurl_allocator *alloc;
    char *p;
    size_t len;
    size_t cap;
    int failed;
} sbuf;

static void sb_append(sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        char *grown;
        while (cap < b->len + n + 1)
            cap *= 2;
        grown = pc_realloc(b->alloc, b->p, cap);
        if (grown == NULL) {
            b->failed = 1;
            return;
        }
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_append(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[600];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    sb_append(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era, yoe, doy, mp;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    {
        int64_t doe = z - era * 146097;
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    }
    mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

void pc_detail_format_time(int64_t t, char out[21])
{
    int64_t days = t / 86400, secs = t % 86400, y;
    unsigned m, d;

    if (secs < 0) {
        secs += 86400;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        snprintf(out, 21, "%s", "(out of range)");
        return;
    }
    snprintf(out, 21, "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)y, m, d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60));
}

static void put_cert(sbuf *b, const pincurl_cert_ref *cert, const pincurl_pin *known)
{
    pincurl_pin pin;
    char pin_text[PINCURL_PIN_TEXT_SIZE];
    char subject[512];
    const unsigned char *name = NULL;
    size_t name_len = 0;

    if (known != NULL)
        pin = *known;
    if ((known == NULL && pincurl_pin_from_cert_der(cert->der, cert->len, &pin) != PINCURL_OK) ||
        pincurl_pin_format(&pin, pin_text, sizeof(pin_text)) != PINCURL_OK) {
        sb_puts(b, "    (certificate without a readable public key)\n");
        return;
    }
    if (pc_der_cert_subject(cert->der, cert->len, &name, &name_len) != PINCURL_OK) {
        sb_printf(b, "    %s: (unreadable subject)\n", pin_text);
        return;
    }
    (void)pc_der_name_to_string(name, name_len, subject, sizeof(subject));
    sb_printf(b, "    %s: %s\n", pin_text, subject[0] != '\0' ? subject : "(empty subject)");
}

static const char *result_sentence(pincurl_result r)
{
    switch (r) {
    case PINCURL_RESULT_PIN_MISMATCH:
        return "no pin of the policy matches the validated certificate path";
    case PINCURL_RESULT_INVALID_CHAIN:
        return "certificate validation built no trusted path";
    case PINCURL_RESULT_POLICY_EXPIRED:
        return "the policy expired and its on_expiry is block";
    case PINCURL_RESULT_SPKI_ERROR:
        return "a certificate's public key could not be hashed";
    case PINCURL_RESULT_INVALID_PARAMETERS:
        return "the evaluation received invalid input";
    case PINCURL_RESULT_NOT_PINNED:
        return "the host is not pinned";
    case PINCURL_RESULT_SUCCESS:
        return "a pin matched";
    }
    return "unknown result";
}

pincurl_status pc_detail_pin_failure(const pincurl_allocator *alloc,
                                     const pincurl_policy *policy,
                                     const pincurl_verdict *verdict, const char *host,
                                     unsigned port, const pincurl_cert_ref *path,
                                     size_t path_len, const pincurl_cert_ref *served,
                                     size_t served_len, char **out)
{
    pincurl_allocator a;
    sbuf b;
    const pincurl_domain *domain;
    const char *result_name;

    if (out != NULL)
        *out = NULL;
    if (verdict == NULL || host == NULL || out == NULL || (path == NULL && path_len > 0) ||
        (served == NULL && served_len > 0))
        return PINCURL_INVALID_ARGUMENT;
    pc_allocator_init(&a, alloc);
    memset(&b, 0, sizeof(b));
    b.alloc = &a;

    result_name = pincurl_result_name(verdict->result);
    if (strchr(host, ':') != NULL)
        sb_printf(&b, "pincurl: [%s]:%u refused: %s (%s)\n", host, port,
                  result_name != NULL ? result_name : "?", result_sentence(verdict->result));
    else
        sb_printf(&b, "pincurl: %s:%u refused: %s (%s)\n", host, port,
                  result_name != NULL ? result_name : "?", result_sentence(verdict->result));
    sb_puts(&b, "Certificate pinning failure!\n");

    sb_puts(&b, "  Peer certificate chain (validated path):\n");
    if (path_len == 0)
        sb_puts(&b, "    (none: the certificate did not validate)\n");
    for (size_t i = 0; i < path_len; i++)
        put_cert(&b, &path[i], i < verdict->path_len ? &verdict->path_pins[i] : NULL);

    domain = verdict->domain;
    if (domain == NULL && policy != NULL)
        domain = pincurl_policy_lookup(policy, host, strlen(host));
    if (domain != NULL) {
        size_t n = pincurl_domain_pin_count(domain);
        const char *noted = verdict->noted_host != NULL ? verdict->noted_host
                                                        : pincurl_domain_host(domain);
        sb_printf(&b, "  Pinned certificates for %s:\n", noted != NULL ? noted : host);
        for (size_t i = 0; i < n; i++) {
            char text[PINCURL_PIN_TEXT_SIZE];
            const pincurl_pin *pin = pincurl_domain_pin(domain, i);
            if (pin != NULL && pincurl_pin_format(pin, text, sizeof(text)) == PINCURL_OK)
                sb_printf(&b, "    %s\n", text);
        }
    }
    if (verdict->result == PINCURL_RESULT_POLICY_EXPIRED || verdict->expiry == PINCURL_EXPIRY_EXPIRED) {
        char when[21];
        pc_detail_format_time(verdict->expires, when);
        sb_printf(&b, "  Policy expired at %s\n", when);
    }
    if (served_len > 0 && (verdict->served_differs || path_len == 0)) {
        sb_puts(&b, path_len == 0 ? "  Served chain:\n"
                                  : "  Served chain (differs from the validated path):\n");
        for (size_t i = 0; i < served_len; i++)
            put_cert(&b, &served[i], NULL);
    }
    if (b.failed || b.p == NULL) {
        pc_free(&a, b.p);
        return PINCURL_OUT_OF_MEMORY;
    }
    /* drop the final newline */
    if (b.len > 0 && b.p[b.len - 1] == '\n')
        b.p[--b.len] = '\0';
    *out = b.p;
    return PINCURL_OK;
}
