/* The report document (docs/reports.md) and its deduplication key. */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "report/report.h"

/* ---- input checks ------------------------------------------------------------------ */

static int certs_ok(const pincurl_cert_ref *c, size_t n, size_t max)
{
    if (n > max || (n > 0 && c == NULL))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (c[i].der == NULL || c[i].len == 0 || c[i].len > PC_REPORT_MAX_CERT_BYTES)
            return 0;
    return 1;
}

static int input_ok(const pc_report_input *in)
{
    return in != NULL && in->host != NULL && in->noted_host != NULL && in->port > 0 &&
           in->port <= 65535 && certs_ok(in->served, in->served_len, PC_REPORT_MAX_SERVED) &&
           certs_ok(in->path, in->path_len, PINCURL_MAX_PATH) &&
           (in->known_pin_count == 0 || in->known_pins != NULL) &&
           in->known_pin_count <= PINCURL_MAX_PINS_PER_DOMAIN;
}

/* ---- time ---------------------------------------------------------------------------- */

/* Civil date from days since 1970-01-01 (proleptic Gregorian). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

pincurl_status pc_report_format_time(int64_t t, char *out, size_t size)
{
    /* 0000-01-01T00:00:00Z .. 9999-12-31T23:59:59Z */
    if (out == NULL || t < -62167219200LL || t > 253402300799LL)
        return PINCURL_INVALID_ARGUMENT;
    if (size < 21)
        return PINCURL_BUFFER_TOO_SMALL;
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(out, size, "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)y, m, d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60));
    return PINCURL_OK;
}

/* ---- PEM ----------------------------------------------------------------------------- */

/* "-----BEGIN CERTIFICATE-----\n", base64 in lines of 64, "-----END CERTIFICATE-----\n". */
static char *pem_encode(const unsigned char *der, size_t len)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----\n";
    static const char end[] = "-----END CERTIFICATE-----\n";
    size_t b64len = pc_base64_encoded_len(len);
    if (b64len == SIZE_MAX)
        return NULL;
    char *b64 = malloc(b64len + 1);
    if (b64 == NULL)
        return NULL;
    if (pc_base64_encode(der, len, b64, b64len + 1, NULL) != PINCURL_OK) {
        free(b64);
        return NULL;
    }
    size_t lines = (b64len + 63) / 64;
    size_t total = sizeof begin - 1 + b64len + lines + sizeof end - 1 + 1;
    char *pem = malloc(total);
    if (pem != NULL) {
        char *p = pem;
        memcpy(p, begin, sizeof begin - 1);
        p += sizeof begin - 1;
        for (size_t off = 0; off < b64len; off += 64) {
            size_t n = b64len - off < 64 ? b64len - off : 64;
            memcpy(p, b64 + off, n);
            p += n;
            *p++ = '\n';
        }
        memcpy(p, end, sizeof end);
    }
    free(b64);
    return pem;
}

/* ---- the document -------------------------------------------------------------------- */

static int add_string(cJSON *obj, const char *name, const char *value)
{
    return cJSON_AddStringToObject(obj, name, value != NULL ? value : "") != NULL;
}

static int add_chain(cJSON *obj, const char *name, const pincurl_cert_ref *c, size_t n)
{
    cJSON *arr = cJSON_AddArrayToObject(obj, name);
    if (arr == NULL)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char *pem = pem_encode(c[i].der, c[i].len);
        if (pem == NULL)
            return 0;
        cJSON *s = cJSON_CreateString(pem);
        free(pem);
        if (s == NULL || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            return 0;
        }
    }
    return 1;
}

static int add_pins(cJSON *obj, const pincurl_pin *pins, size_t n)
{
    cJSON *arr = cJSON_AddArrayToObject(obj, "known-pins");
    if (arr == NULL)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char text[PINCURL_PIN_TEXT_SIZE];
        char item[PINCURL_PIN_TEXT_SIZE + 16];
        if (pincurl_pin_format(&pins[i], text, sizeof text) != PINCURL_OK)
            return 0;
        /* "sha256/BASE64" -> pin-sha256="BASE64" (RFC 7469 directive form, as TrustKit) */
        snprintf(item, sizeof item, "pin-sha256=\"%s\"", text + 7);
        cJSON *s = cJSON_CreateString(item);
        if (s == NULL || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            return 0;
        }
    }
    return 1;
}

pincurl_status pc_report_build(const pc_report_input *in, char **json, size_t *len)
{
    if (json != NULL)
        *json = NULL;
    if (len != NULL)
        *len = 0;
    if (json == NULL || !input_ok(in))
        return PINCURL_INVALID_ARGUMENT;
    char now[32], expires[32];
    if (pc_report_format_time(in->now, now, sizeof now) != PINCURL_OK)
        return PINCURL_INVALID_ARGUMENT;
    if (in->expires != 0 &&
        pc_report_format_time(in->expires, expires, sizeof expires) != PINCURL_OK)
        return PINCURL_INVALID_ARGUMENT;

    static const pc_report_app none = {NULL, NULL, NULL, NULL, NULL};
    const pc_report_app *app = in->app != NULL ? in->app : &none;
    cJSON *doc = cJSON_CreateObject();
    int ok = doc != NULL && add_string(doc, "app-bundle-id", app->bundle_id) &&
             add_string(doc, "app-version", app->version) &&
             add_string(doc, "app-vendor-id", app->vendor_id) &&
             add_string(doc, "app-platform", app->platform) &&
             add_string(doc, "app-platform-version", app->platform_version) &&
             add_string(doc, "pincurl-version", pincurl_version()) &&
             add_string(doc, "date-time", now) && add_string(doc, "hostname", in->host) &&
             cJSON_AddNumberToObject(doc, "port", (double)in->port) != NULL &&
             add_string(doc, "noted-hostname", in->noted_host) &&
             cJSON_AddBoolToObject(doc, "include-subdomains", in->include_subdomains != 0) &&
             cJSON_AddBoolToObject(doc, "enforce-pinning", in->enforce != 0) &&
             (in->expires != 0 ? add_string(doc, "effective-expiration-date", expires)
                               : cJSON_AddNullToObject(doc, "effective-expiration-date") != NULL) &&
             cJSON_AddNumberToObject(doc, "validation-result", (double)in->result) != NULL &&
             add_chain(doc, "served-certificate-chain", in->served, in->served_len) &&
             add_chain(doc, "validated-certificate-chain", in->path, in->path_len) &&
             add_pins(doc, in->known_pins, in->known_pin_count);
    char *text = ok ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (text == NULL)
        return PINCURL_OUT_OF_MEMORY;
    *json = text;
    if (len != NULL)
        *len = strlen(text);
    return PINCURL_OK;
}

/* ---- the deduplication key ----------------------------------------------------------- */

static int hash_u32(wc_Sha256 *sha, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    return wc_Sha256Update(sha, b, 4);
}

static int hash_bytes(wc_Sha256 *sha, const void *p, size_t n)
{
    if (n > UINT32_MAX)
        return -1;
    int rc = hash_u32(sha, (uint32_t)n);
    if (rc == 0 && n > 0)
        rc = wc_Sha256Update(sha, p, (word32)n);
    return rc;
}

pincurl_status pc_report_key(const pc_report_input *in, unsigned char key[32])
{
    if (key == NULL)
        return PINCURL_INVALID_ARGUMENT;
    memset(key, 0, 32);
    if (!input_ok(in))
        return PINCURL_INVALID_ARGUMENT;
    wc_Sha256 sha;
    if (wc_InitSha256(&sha) != 0)
        return PINCURL_INTERNAL;
    static const char tag[] = "pincurl report key 1";
    int rc = hash_bytes(&sha, tag, sizeof tag - 1);
    if (rc == 0)
        rc = hash_bytes(&sha, in->noted_host, strlen(in->noted_host));
    if (rc == 0)
        rc = hash_bytes(&sha, in->host, strlen(in->host));
    if (rc == 0)
        rc = hash_u32(&sha, in->port);
    if (rc == 0)
        rc = hash_u32(&sha, (uint32_t)in->path_len);
    for (size_t i = 0; rc == 0 && i < in->path_len; i++)
        rc = hash_bytes(&sha, in->path[i].der, in->path[i].len);
    if (rc == 0)
        rc = hash_u32(&sha, (uint32_t)in->known_pin_count);
    for (size_t i = 0; rc == 0 && i < in->known_pin_count; i++)
        rc = wc_Sha256Update(&sha, in->known_pins[i].sha256, PINCURL_PIN_DIGEST_SIZE);
    if (rc == 0)
        rc = hash_u32(&sha, (uint32_t)in->result);
    if (rc == 0)
        rc = wc_Sha256Final(&sha, key);
    wc_Sha256Free(&sha);
    if (rc != 0) {
        memset(key, 0, 32);
        return PINCURL_INTERNAL;
    }
    return PINCURL_OK;
}
