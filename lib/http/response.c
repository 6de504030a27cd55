/* Responses: status, code, body, the last response's headers, detail and verdict. */
#include "http/http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Most header lines kept per response. */
#define PC_MAX_HEADERS 1024

pincurl_response *pc_response_new(void)
{
    pincurl_response *resp = calloc(1, sizeof(*resp));
    if (resp != NULL) {
        resp->status = PINCURL_INTERNAL;
        resp->info.curl_error = "";
    }
    return resp;
}

static void clear_headers(pincurl_response *resp)
{
    resp->arena_len = 0;
    resp->header_count = 0;
}

void pincurl_response_free(pincurl_response *resp)
{
    if (resp == NULL)
        return;
    free(resp->header_arena);
    free(resp->header_at);
    free(resp->body);
    free(resp->effective_url);
    free(resp->detail);
    free(resp->info_text);
    pincurl_policy_unref(resp->policy);
    free(resp);
}

int pc_response_append(pincurl_response *resp, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    if (len > SIZE_MAX - resp->body_len)
        return -1;
    if (resp->body_len + len > resp->body_cap) {
        size_t cap = resp->body_cap ? resp->body_cap : 4096;
        unsigned char *grown;
        while (cap < resp->body_len + len)
            cap = cap > SIZE_MAX / 2 ? resp->body_len + len : cap * 2;
        grown = realloc(resp->body, cap);
        if (grown == NULL)
            return -1;
        resp->body = grown;
        resp->body_cap = cap;
    }
    memcpy(resp->body + resp->body_len, data, len);
    resp->body_len += len;
    return 0;
}

/* Room for len more bytes in the arena. 0 on success, -1 on OOM. */
static int arena_reserve(pincurl_response *resp, size_t len)
{
    size_t cap;
    char *grown;
    if (len <= resp->arena_cap - resp->arena_len)
        return 0;
    cap = resp->arena_cap ? resp->arena_cap : 1024;
    while (cap - resp->arena_len < len) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    grown = realloc(resp->header_arena, cap);
    if (grown == NULL)
        return -1;
    resp->header_arena = grown;
    resp->arena_cap = cap;
    return 0;
}

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Appends s[b, e) trimmed of blanks at both ends and a NUL to the arena (room reserved);
 * its offset. */
static size_t arena_put(pincurl_response *resp, const char *s, size_t b, size_t e)
{
    size_t at = resp->arena_len;
    while (b < e && blank(s[b]))
        b++;
    while (e > b && blank(s[e - 1]))
        e--;
    memcpy(resp->header_arena + at, s + b, e - b);
    resp->header_arena[at + (e - b)] = '\0';
    resp->arena_len += e - b + 1;
    return at;
}

int pc_response_header_line(pincurl_response *resp, const char *line, size_t len)
{
    const char *colon;
    struct pc_header_at at;

    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        clear_headers(resp); /* a new response (redirect, 1xx, proxy CONNECT) */
        return 0;
    }
    if (len == 0 || line[0] == '\r' || line[0] == '\n')
        return 0;
    if ((line[0] == ' ' || line[0] == '\t') && resp->header_count > 0) {
        /* obsolete line folding: continue the previous value, the last string in the
         * arena, with a space and this line */
        if (arena_reserve(resp, len + 1) != 0)
            return -1;
        resp->header_arena[resp->arena_len - 1] = ' ';
        (void)arena_put(resp, line, 0, len);
        return 0;
    }
    colon = memchr(line, ':', len);
    if (colon == NULL || colon == line)
        return 0; /* not a header line: ignored */
    if (resp->header_count >= PC_MAX_HEADERS)
        return 0;
    if (resp->header_count == resp->header_cap) {
        size_t cap = resp->header_cap ? resp->header_cap * 2 : 16;
        struct pc_header_at *grown = realloc(resp->header_at, cap * sizeof(*grown));
        if (grown == NULL)
            return -1;
        resp->header_at = grown;
        resp->header_cap = cap;
    }
    /* name and value, one reservation for both ("name\0value\0" at most len + 2) */
    if (arena_reserve(resp, len + 2) != 0)
        return -1;
    at.name = arena_put(resp, line, 0, (size_t)(colon - line));
    at.value = arena_put(resp, line, (size_t)(colon - line) + 1, len);
    resp->header_at[resp->header_count++] = at;
    return 0;
}

static int replace(char **slot, const char *s)
{
    char *copy = NULL;
    if (s != NULL) {
        size_t n = strlen(s);
        copy = malloc(n + 1);
        if (copy == NULL)
            return -1;
        memcpy(copy, s, n + 1);
    }
    free(*slot);
    *slot = copy;
    return 0;
}

int pc_response_set_detail(pincurl_response *resp, const char *detail)
{
    return replace(&resp->detail, detail);
}

int pc_response_set_url(pincurl_response *resp, const char *url)
{
    size_t n;
    if (url == NULL) {
        free(resp->effective_url);
        resp->effective_url = NULL;
        resp->effective_url_cap = 0;
        return 0;
    }
    n = strlen(url) + 1;
    if (n > resp->effective_url_cap) { /* the buffer is kept when the URL fits */
        char *grown = malloc(n);
        if (grown == NULL)
            return -1;
        free(resp->effective_url);
        resp->effective_url = grown;
        resp->effective_url_cap = n;
    }
    memcpy(resp->effective_url, url, n);
    return 0;
}

static int64_t info_time(CURL *e, CURLINFO what)
{
    curl_off_t v = 0;
    return curl_easy_getinfo(e, what, &v) == CURLE_OK ? (int64_t)v : -1;
}

static int64_t info_off(CURL *e, CURLINFO what)
{
    curl_off_t v = 0;
    return curl_easy_getinfo(e, what, &v) == CURLE_OK ? (int64_t)v : 0;
}

static long info_long(CURL *e, CURLINFO what)
{
    long v = 0;
    return curl_easy_getinfo(e, what, &v) == CURLE_OK ? v : 0;
}

/* A string libcurl reports (NULL when it has none). */
static const char *info_str(CURL *e, CURLINFO what)
{
    char *v = NULL;
    return curl_easy_getinfo(e, what, &v) == CURLE_OK ? v : NULL;
}

static void copy_ip(char *dst, size_t size, CURL *e, CURLINFO what)
{
    char *v = NULL;
    dst[0] = '\0';
    if (curl_easy_getinfo(e, what, &v) == CURLE_OK && v != NULL) {
        size_t n = strnlen(v, size - 1);
        memcpy(dst, v, n);
        dst[n] = '\0';
    }
}

/* The transfer's strings, copied one after the other into resp->info_text (one buffer,
 * kept when they fit): the error text, then the five strings of info. -1 on OOM (then
 * every string of info is empty or NULL). */
static int copy_info_strings(pincurl_response *resp, const char *error, const char *const v[5])
{
    pincurl_transfer_info *in = &resp->info;
    const char **out[5] = {&in->scheme, &in->content_type, &in->redirect_url,
                           &in->effective_method, &in->referer};
    size_t len[5], total = strlen(error) + 1, at;

    for (size_t i = 0; i < 5; i++) {
        len[i] = v[i] != NULL ? strlen(v[i]) + 1 : 0;
        total += len[i];
    }
    if (total > resp->info_text_cap) {
        char *grown = malloc(total);
        if (grown == NULL) {
            in->curl_error = "";
            for (size_t i = 0; i < 5; i++)
                *out[i] = NULL;
            return -1;
        }
        free(resp->info_text);
        resp->info_text = grown;
        resp->info_text_cap = total;
    }
    at = strlen(error) + 1;
    memcpy(resp->info_text, error, at);
    in->curl_error = resp->info_text;
    for (size_t i = 0; i < 5; i++) {
        *out[i] = NULL;
        if (v[i] != NULL) {
            memcpy(resp->info_text + at, v[i], len[i]);
            *out[i] = resp->info_text + at;
            at += len[i];
        }
    }
    return 0;
}

int pc_response_fill_info(pincurl_response *resp, CURL *e, CURLcode code, const char *errbuf)
{
    pincurl_transfer_info *in = &resp->info;
    const char *strings[5];

    in->curl_code = (int)code;
    in->os_errno = info_long(e, CURLINFO_OS_ERRNO);
    switch (info_long(e, CURLINFO_HTTP_VERSION)) {
    case CURL_HTTP_VERSION_1_0: in->http_version = 10; break;
    case CURL_HTTP_VERSION_1_1: in->http_version = 11; break;
    case CURL_HTTP_VERSION_2_0: in->http_version = 20; break;
    case CURL_HTTP_VERSION_3: in->http_version = 30; break;
    default: in->http_version = 0; break;
    }
    in->http_connect_code = info_long(e, CURLINFO_HTTP_CONNECTCODE);
    in->num_redirects = info_long(e, CURLINFO_REDIRECT_COUNT);
    in->num_connects = info_long(e, CURLINFO_NUM_CONNECTS);
    in->ssl_verify_result = info_long(e, CURLINFO_SSL_VERIFYRESULT);
    in->proxy_ssl_verify_result = info_long(e, CURLINFO_PROXY_SSL_VERIFYRESULT);
    in->namelookup_us = info_time(e, CURLINFO_NAMELOOKUP_TIME_T);
    in->connect_us = info_time(e, CURLINFO_CONNECT_TIME_T);
    in->appconnect_us = info_time(e, CURLINFO_APPCONNECT_TIME_T);
    in->pretransfer_us = info_time(e, CURLINFO_PRETRANSFER_TIME_T);
    in->starttransfer_us = info_time(e, CURLINFO_STARTTRANSFER_TIME_T);
    in->redirect_us = info_time(e, CURLINFO_REDIRECT_TIME_T);
    in->total_us = info_time(e, CURLINFO_TOTAL_TIME_T);
    in->size_download = info_off(e, CURLINFO_SIZE_DOWNLOAD_T);
    in->size_upload = info_off(e, CURLINFO_SIZE_UPLOAD_T);
    in->size_header = info_long(e, CURLINFO_HEADER_SIZE);
    in->size_request = info_long(e, CURLINFO_REQUEST_SIZE);
    in->speed_download = info_off(e, CURLINFO_SPEED_DOWNLOAD_T);
    in->speed_upload = info_off(e, CURLINFO_SPEED_UPLOAD_T);
    in->retry_after = info_off(e, CURLINFO_RETRY_AFTER);
    copy_ip(in->remote_ip, sizeof(in->remote_ip), e, CURLINFO_PRIMARY_IP);
    in->remote_port = info_long(e, CURLINFO_PRIMARY_PORT);
    copy_ip(in->local_ip, sizeof(in->local_ip), e, CURLINFO_LOCAL_IP);
    in->local_port = info_long(e, CURLINFO_LOCAL_PORT);
    strings[0] = info_str(e, CURLINFO_SCHEME);
    strings[1] = info_str(e, CURLINFO_CONTENT_TYPE);
    strings[2] = info_str(e, CURLINFO_REDIRECT_URL);
    strings[3] = info_str(e, CURLINFO_EFFECTIVE_METHOD);
    strings[4] = info_str(e, CURLINFO_REFERER);
    return copy_info_strings(resp,
                             code == CURLE_OK                        ? ""
                             : errbuf != NULL && errbuf[0] != '\0' ? errbuf
                                                                     : curl_easy_strerror(code),
                             strings);
}

const pincurl_transfer_info *pincurl_response_info(const pincurl_response *resp)
{
    return resp != NULL ? &resp->info : NULL;
}

pincurl_status pincurl_response_status(const pincurl_response *resp)
{
    return resp != NULL ? resp->status : PINCURL_INVALID_ARGUMENT;
}

long pincurl_response_code(const pincurl_response *resp)
{
    return resp != NULL ? resp->code : 0;
}

const unsigned char *pincurl_response_body(const pincurl_response *resp, size_t *len)
{
    if (resp == NULL || resp->body_len == 0) {
        if (len != NULL)
            *len = 0;
        return NULL;
    }
    if (len != NULL)
        *len = resp->body_len;
    return resp->body;
}

size_t pincurl_response_header_count(const pincurl_response *resp)
{
    return resp != NULL ? resp->header_count : 0;
}

const char *pincurl_response_header_name(const pincurl_response *resp, size_t i)
{
    return resp != NULL && i < resp->header_count
               ? resp->header_arena + resp->header_at[i].name
               : NULL;
}

const char *pincurl_response_header_value(const pincurl_response *resp, size_t i)
{
    return resp != NULL && i < resp->header_count
               ? resp->header_arena + resp->header_at[i].value
               : NULL;
}

const char *pincurl_response_header(const pincurl_response *resp, const char *name)
{
    if (resp == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < resp->header_count; i++) {
        if (strcasecmp(resp->header_arena + resp->header_at[i].name, name) == 0)
            return resp->header_arena + resp->header_at[i].value;
    }
    return NULL;
}

const char *pincurl_response_effective_url(const pincurl_response *resp)
{
    if (resp == NULL)
        return NULL;
    return resp->effective_url != NULL ? resp->effective_url : "";
}

const char *pincurl_response_detail(const pincurl_response *resp)
{
    if (resp == NULL || resp->detail == NULL)
        return "";
    return resp->detail;
}

const pincurl_verdict *pincurl_response_verdict(const pincurl_response *resp)
{
    return resp != NULL && resp->have_verdict ? &resp->verdict : NULL;
}
