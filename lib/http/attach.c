/*
 * Attaching the client's pin decision to an application's own easy handle.
 *
 * The attachment owns the pin state the hooks use (CURLOPT_SSL_CTX_DATA and
 * CURLOPT_PREREQDATA point at it); CURLOPT_PRIVATE stays the application's. What a
 * transfer recorded is cleared when the next one connects or passes its request check.
 */
#include "http/http.h"

#include <stdlib.h>
#include <string.h>

struct pincurl_attachment {
    pc_pin_state pin;
    char *detail; /* detail of the last status computed, or NULL */
};

/* libcurl's default protocols again: every protocol for requests; for redirects http,
 * https, ftp and ftps, as far as this libcurl has them. (A NULL string resets them only
 * from libcurl 8 on; libcurl 7.88 reads it as "none".) */
static void restore_protocols(CURL *e)
{
    static const char *const redir[] = {"http", "https", "ftp", "ftps"};
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    char list[32] = "";

    (void)curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "all");
    for (size_t i = 0; i < sizeof redir / sizeof redir[0]; i++) {
        int have = 0;
        for (const char *const *p = v != NULL ? v->protocols : NULL; p != NULL && *p != NULL;
             p++)
            have |= strcmp(*p, redir[i]) == 0;
        if (have) {
            if (list[0] != '\0')
                strcat(list, ",");
            strcat(list, redir[i]);
        }
    }
    (void)curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, list);
}

pincurl_status pincurl_attach(pincurl_client *c, void *curl_easy, pincurl_attachment **out)
{
    pincurl_attachment *a;
    pincurl_status st;

    if (out != NULL)
        *out = NULL;
    if (c == NULL || curl_easy == NULL || out == NULL)
        return PINCURL_INVALID_ARGUMENT;
#ifdef PINCURL_CURL_HIDDEN
    /* The libcurl inside this shared library is hidden: an application's handle belongs to
     * another libcurl, whose objects this one must never touch. */
    return PINCURL_BACKEND_UNSUPPORTED;
#endif
    if (!(c->backend->caps & PC_TLS_CAP_PATH))
        return PINCURL_BACKEND_UNSUPPORTED; /* no handshake hook on this TLS library */
    a = calloc(1, sizeof(*a));
    if (a == NULL)
        return PINCURL_OUT_OF_MEMORY;
    st = pc_pin_state_init(&a->pin, c, curl_easy, NULL);
    if (st == PINCURL_OK)
        st = pc_pin_attach(&a->pin);
    /* http and https only, redirects included: another scheme (ftp, with its USER and PASS)
     * would send bytes while connecting, before the request check could refuse a pinned
     * host (docs/client.md) */
    if (st == PINCURL_OK &&
        (curl_easy_setopt(curl_easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
         curl_easy_setopt(curl_easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK)) {
        pc_pin_detach(&a->pin);
        restore_protocols(curl_easy);
        st = PINCURL_INTERNAL;
    }
    if (st != PINCURL_OK) {
        pc_pin_state_cleanup(&a->pin);
        free(a);
        return st;
    }
    *out = a;
    return PINCURL_OK;
}

void pincurl_detach(pincurl_attachment *a)
{
    if (a == NULL)
        return;
    pc_pin_detach(&a->pin); /* a copy's hooks refuse from now on */
    restore_protocols(a->pin.easy);
    pc_pin_state_cleanup(&a->pin);
    free(a->detail);
    free(a);
}

pincurl_status pincurl_attachment_status(const pincurl_attachment *a, int curl_code)
{
    pincurl_attachment *m = (pincurl_attachment *)(uintptr_t)a;
    pincurl_status st;
    const pc_tls_conn *conn;

    if (a == NULL)
        return PINCURL_INVALID_ARGUMENT;
    st = pc_pin_map(&a->pin, (CURLcode)curl_code);
    conn = &a->pin.conn;
    free(m->detail);
    m->detail = NULL;
    if (st == PINCURL_OK)
        return st;
    if (a->pin.refusal == PINCURL_OK && conn->refusal == PINCURL_OK &&
        (curl_code == CURLE_SSL_CONNECT_ERROR || curl_code == CURLE_ABORTED_BY_CALLBACK) &&
        atomic_exchange(&m->pin.copies_refused, 0u) != 0) {
        /* what this handle's hooks refused was a copy of it, not this handle */
        st = PINCURL_PIN_CHECK_FAILED;
        m->detail = pc_failure_line(NULL, 0, st,
                                    "a handle that is not the attached one (a copy made with "
                                    "curl_easy_duphandle: attach the copy itself) was refused");
    } else if (a->pin.detail != NULL && (st == a->pin.refusal || st == conn->refusal)) {
        size_t n = strlen(a->pin.detail);
        m->detail = malloc(n + 1);
        if (m->detail != NULL)
            memcpy(m->detail, a->pin.detail, n + 1);
    } else if ((st == PINCURL_CERT_INVALID || st == PINCURL_HOST_MISMATCH) &&
               conn->cert_error != 0) {
        char reason[200];
        snprintf(reason, sizeof(reason), "%s error %d: %s", a->pin.client->backend->name,
                 conn->cert_error, a->pin.client->backend->error_text(conn->cert_error));
        m->detail = pc_failure_line(conn->host, conn->port, st, reason);
    } else {
        char scheme[16], host[PINCURL_HOST_MAX + 1];
        unsigned port = 0;
        char *url = NULL;
        host[0] = '\0';
        if (curl_easy_getinfo(a->pin.easy, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK &&
            url != NULL)
            (void)pc_url_target(url, scheme, host, &port);
        m->detail = pc_failure_line(host, port, st, curl_easy_strerror((CURLcode)curl_code));
    }
    return st;
}

const char *pincurl_attachment_detail(const pincurl_attachment *a)
{
    if (a == NULL)
        return "";
    if (a->detail != NULL)
        return a->detail;
    return a->pin.detail != NULL ? a->pin.detail : "";
}
