/*
 * The client's cookie engine: libcurl's own, with one store for every handle of the client
 * in a share (CURL_LOCK_DATA_COOKIE) guarded by a mutex, so that pooled handles and threads
 * see the same cookies.
 *
 * The store is loaded once when the client is made (a throwaway handle with the load file
 * and CURLOPT_COOKIELIST "RELOAD") and written on request (a throwaway handle with the save
 * file and "FLUSH"): libcurl reads and writes its own file format, exactly as curl's -b and
 * -c do.
 *
 * Cleartext and pinned hosts: a pinned host is never contacted over http:// (the request
 * check refuses it), so a cookie is never sent to it in cleartext. A cookie set for a
 * domain (Domain=example.com) also goes to every host below it; pc_cookies_leak_pinned
 * finds, for a cleartext request, a cookie of the store that could be sent there and whose
 * domain covers a host the policy pins, and the request check refuses that request.
 */
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef PINCURL_FIRMWARE
/* The firmware profile has no file system and no cookie engine. */
pincurl_status pc_cookies_open(pincurl_client *c)
{
    return c->opts.cookies ? PINCURL_UNSUPPORTED : PINCURL_OK;
}

void pc_cookies_close(pincurl_client *c)
{
    (void)c;
}

pincurl_status pc_cookies_attach(pincurl_client *c, CURL *easy)
{
    (void)c;
    (void)easy;
    return PINCURL_OK;
}

void pc_cookies_detach(pincurl_client *c, CURL *easy)
{
    (void)c;
    (void)easy;
}

int pc_cookies_leak_pinned(CURL *easy, const pincurl_policy *policy, const char *host,
                           char *why, size_t why_size)
{
    (void)easy;
    (void)policy;
    (void)host;
    (void)why;
    (void)why_size;
    return 0;
}

pincurl_status pincurl_client_save_cookies(pincurl_client *c)
{
    return c == NULL ? PINCURL_INVALID_ARGUMENT : PINCURL_OK;
}

#else

static void share_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *user)
{
    pincurl_client *c = user;
    (void)handle;
    (void)access;
    if (data == CURL_LOCK_DATA_COOKIE || data == CURL_LOCK_DATA_SHARE)
        pthread_mutex_lock(&c->cookie_lock);
}

static void share_unlock(CURL *handle, curl_lock_data data, void *user)
{
    pincurl_client *c = user;
    (void)handle;
    if (data == CURL_LOCK_DATA_COOKIE || data == CURL_LOCK_DATA_SHARE)
        pthread_mutex_unlock(&c->cookie_lock);
}

pincurl_status pc_cookies_open(pincurl_client *c)
{
    CURLSH *sh;
    CURLSHcode sc;

    if (!c->opts.cookies)
        return PINCURL_OK;
    /* One lock, apart from the client's own, for the share's bookkeeping and its cookies;
     * recursive, so that libcurl taking one while holding the other cannot deadlock. */
    {
        pthread_mutexattr_t attr;
        int rc = pthread_mutexattr_init(&attr);
        if (rc == 0) {
            rc = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
            if (rc == 0)
                rc = pthread_mutex_init(&c->cookie_lock, &attr);
            pthread_mutexattr_destroy(&attr);
        }
        if (rc != 0)
            return PINCURL_INTERNAL;
    }
    sh = curl_share_init();
    if (sh == NULL) {
        pthread_mutex_destroy(&c->cookie_lock);
        return PINCURL_OUT_OF_MEMORY;
    }
    if (curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
        curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
        curl_share_setopt(sh, CURLSHOPT_USERDATA, c) != CURLSHE_OK) {
        curl_share_cleanup(sh);
        pthread_mutex_destroy(&c->cookie_lock);
        return PINCURL_INTERNAL;
    }
    sc = curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
    if (sc != CURLSHE_OK) {
        curl_share_cleanup(sh);
        pthread_mutex_destroy(&c->cookie_lock);
        return sc == CURLSHE_NOMEM         ? PINCURL_OUT_OF_MEMORY
               : sc == CURLSHE_NOT_BUILT_IN ? PINCURL_UNSUPPORTED
                                            : PINCURL_INTERNAL;
    }
    c->cookie_share = sh;
    if (c->opts.cookie_load_file != NULL) {
        CURL *e = curl_easy_init();
        pincurl_status st = PINCURL_OK;
        if (e == NULL)
            st = PINCURL_OUT_OF_MEMORY;
        else if (curl_easy_setopt(e, CURLOPT_SHARE, sh) != CURLE_OK ||
                 curl_easy_setopt(e, CURLOPT_COOKIEFILE, c->opts.cookie_load_file) !=
                     CURLE_OK ||
                 curl_easy_setopt(e, CURLOPT_COOKIELIST, "RELOAD") != CURLE_OK)
            st = PINCURL_INTERNAL;
        curl_easy_cleanup(e);
        if (st != PINCURL_OK) {
            pc_cookies_close(c);
            return st;
        }
    }
    return PINCURL_OK;
}

void pc_cookies_close(pincurl_client *c)
{
    if (c->cookie_share == NULL)
        return;
    curl_share_cleanup(c->cookie_share);
    c->cookie_share = NULL;
    pthread_mutex_destroy(&c->cookie_lock);
}

pincurl_status pc_cookies_attach(pincurl_client *c, CURL *easy)
{
    if (c->cookie_share == NULL)
        return PINCURL_OK;
    /* The share holds the store; libcurl reads and sends cookies on a transfer only once a
     * cookie file was named (even an empty name, which loads nothing). */
    if (curl_easy_setopt(easy, CURLOPT_SHARE, c->cookie_share) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_COOKIEFILE, "") != CURLE_OK)
        return PINCURL_INTERNAL;
    return PINCURL_OK;
}

void pc_cookies_detach(pincurl_client *c, CURL *easy)
{
    /* the list of cookie file names is not freed by curl_easy_reset (it would grow with
     * every request of a pooled handle); the shared store is kept */
    if (c->cookie_share != NULL)
        (void)curl_easy_setopt(easy, CURLOPT_COOKIEFILE, (char *)NULL);
}

pincurl_status pincurl_client_save_cookies(pincurl_client *c)
{
    CURL *e;
    pincurl_status st = PINCURL_OK;

    if (c == NULL)
        return PINCURL_INVALID_ARGUMENT;
    if (c->cookie_share == NULL || c->opts.cookie_save_file == NULL)
        return PINCURL_OK;
    if (strcmp(c->opts.cookie_save_file, "-") != 0) {
        /* libcurl only logs a failed write: find out first whether it can succeed */
        FILE *f = fopen(c->opts.cookie_save_file, "a");
        if (f == NULL)
            return PINCURL_IO;
        if (fclose(f) != 0)
            return PINCURL_IO;
    }
    e = curl_easy_init();
    if (e == NULL)
        return PINCURL_OUT_OF_MEMORY;
    if (curl_easy_setopt(e, CURLOPT_SHARE, c->cookie_share) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_COOKIEJAR, c->opts.cookie_save_file) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_COOKIELIST, "FLUSH") != CURLE_OK)
        st = PINCURL_INTERNAL;
    /* the jar option would write the store again when the handle is cleaned up */
    (void)curl_easy_setopt(e, CURLOPT_COOKIEJAR, (char *)NULL);
    curl_easy_cleanup(e);
    return st;
}

/* 1 if host is domain or a name below it (label boundary), case-insensitively. */
static int host_under(const char *host, const char *domain)
{
    size_t h = strlen(host), d = strlen(domain);
    if (d == 0 || h < d)
        return 0;
    if (strcasecmp(host + (h - d), domain) != 0)
        return 0;
    return h == d || host[h - d - 1] == '.';
}

/* 1 if a cookie for domain (tailmatch: also sent below it) could reach a host policy pins. */
static int domain_covers_pinned(const pincurl_policy *policy, const char *domain, int tailmatch)
{
    if (pc_host_pinned(policy, domain))
        return 1;
    if (!tailmatch)
        return 0;
    for (size_t i = 0; i < pincurl_policy_domain_count(policy); i++) {
        const pincurl_domain *d = pincurl_policy_domain(policy, i);
        if (pincurl_domain_flags(d) & PINCURL_DOMAIN_EXCLUDE)
            continue;
        if (host_under(pincurl_domain_host(d), domain))
            return 1;
    }
    return 0;
}

int pc_cookies_leak_pinned(CURL *easy, const pincurl_policy *policy, const char *host,
                           char *why, size_t why_size)
{
    struct curl_slist *list = NULL;
    int found = 0;

    if (policy == NULL || pincurl_policy_domain_count(policy) == 0)
        return 0;
    if (curl_easy_getinfo(easy, CURLINFO_COOKIELIST, &list) != CURLE_OK)
        return -1;
    /* Netscape lines: DOMAIN \t TAILMATCH \t PATH \t SECURE \t EXPIRES \t NAME \t VALUE.
     * Paths and expiry are not looked at, and a Secure cookie counts too (libcurl sends
     * those over http:// to localhost): a superset of what would be sent. */
    for (struct curl_slist *l = list; l != NULL && !found; l = l->next) {
        char domain[PINCURL_HOST_MAX + 2];
        const char *line = l->data, *tab;
        int tailmatch;
        size_t n;

        if (strncmp(line, "#HttpOnly_", 10) == 0)
            line += 10;
        tab = strchr(line, '\t');
        if (tab == NULL)
            continue;
        n = (size_t)(tab - line);
        if (n > 0 && line[0] == '.') {
            line++;
            n--;
        }
        if (n == 0 || n >= sizeof(domain)) {
            found = -1; /* a cookie this check cannot read: refuse */
            break;
        }
        memcpy(domain, line, n);
        domain[n] = '\0';
        tailmatch = strncmp(tab + 1, "TRUE", 4) == 0;
        if (!(tailmatch ? host_under(host, domain) : strcasecmp(host, domain) == 0))
            continue; /* not sent to this host */
        if (domain_covers_pinned(policy, domain, tailmatch)) {
            snprintf(why, why_size, "%s", domain);
            found = 1;
        }
    }
    curl_slist_free_all(list);
    return found;
}

#endif /* PINCURL_FIRMWARE */
