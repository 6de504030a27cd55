/*
 * The route a client's requests take: no proxy, or one proxy of a kind pincurl knows.
 *
 * A proxy string is read exactly as libcurl reads CURLOPT_PROXY (lib/url.c, parse_proxy, in
 * libcurl 7.88 and 8.14): curl_url() with CURLU_NON_SUPPORT_SCHEME | CURLU_GUESS_SCHEME,
 * the scheme compared without regard to case ("HTTPS://" and "https:/" are https proxies
 * too), no port meaning 443 for https and 1080 for every other kind. pincurl then hands
 * libcurl a canonical string of its own making ("https://host:port", the credentials kept)
 * with CURLOPT_PROXYTYPE set to match, so the route libcurl takes is the one pincurl
 * decides for by construction; CURLOPT_NOPROXY is set empty, so no environment variable can
 * send a request around the proxy (the client sets CURLOPT_PROXY itself, so none can add
 * one either). A string pincurl cannot classify is refused when the client is made.
 */
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *scheme;
    pc_proxy_kind kind;
    long curl_type;
} kinds[] = {
    {"http", PC_PROXY_HTTP, CURLPROXY_HTTP},
    {"https", PC_PROXY_HTTPS, CURLPROXY_HTTPS},
    {"socks4", PC_PROXY_SOCKS4, CURLPROXY_SOCKS4},
    {"socks", PC_PROXY_SOCKS4, CURLPROXY_SOCKS4},
    {"socks4a", PC_PROXY_SOCKS4A, CURLPROXY_SOCKS4A},
    {"socks5", PC_PROXY_SOCKS5, CURLPROXY_SOCKS5},
    {"socks5h", PC_PROXY_SOCKS5H, CURLPROXY_SOCKS5_HOSTNAME},
};

void pc_route_clear(pc_route *r)
{
    if (r == NULL)
        return;
    free(r->url);
    memset(r, 0, sizeof(*r));
}

static pincurl_status refuse(char *why, size_t why_len, const char *proxy, const char *what)
{
    if (why != NULL && why_len > 0)
        snprintf(why, why_len, "proxy \"%s\": %s", proxy, what);
    return PINCURL_PROXY;
}

pincurl_status pc_route_parse(const char *proxy, pc_route *out, char *why, size_t why_len)
{
    CURLU *u = NULL;
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *pass = NULL;
    pincurl_status st = PINCURL_OK;
    size_t k;

    memset(out, 0, sizeof(*out));
    if (why != NULL && why_len > 0)
        why[0] = '\0';
    if (proxy == NULL)
        return PINCURL_OK; /* no proxy */
    u = curl_url();
    if (u == NULL)
        return PINCURL_OUT_OF_MEMORY;
    if (curl_url_set(u, CURLUPART_URL, proxy, CURLU_NON_SUPPORT_SCHEME | CURLU_GUESS_SCHEME) !=
            CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        st = refuse(why, why_len, proxy, "not a proxy URL libcurl can read");
        goto done;
    }
    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
        if (strcasecmp(scheme, kinds[k].scheme) == 0)
            break;
    if (k == sizeof(kinds) / sizeof(kinds[0])) {
        st = refuse(why, why_len, proxy, "not a proxy scheme (http, https, socks4, socks4a, "
                                         "socks5, socks5h)");
        goto done;
    }
    out->kind = kinds[k].kind;
    out->curl_type = kinds[k].curl_type;
    if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK && port != NULL) {
        char *end = NULL;
        unsigned long n = strtoul(port, &end, 10);
        if (end == port || *end != '\0' || n == 0 || n > 65535) {
            st = refuse(why, why_len, proxy, "the port is not a number from 1 to 65535");
            goto done;
        }
        out->port = (unsigned)n;
    } else {
        out->port = out->kind == PC_PROXY_HTTPS ? 443 : 1080; /* libcurl's defaults */
    }
    st = pincurl_host_normalize(host, strlen(host), out->host, sizeof(out->host));
    if (st != PINCURL_OK) {
        st = refuse(why, why_len, proxy, "the host is not a host name or address");
        goto done;
    }
    (void)curl_url_get(u, CURLUPART_USER, &user, 0);
    (void)curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
    {
        /* the canonical string: lower-case scheme, credentials as given (still
         * URL-encoded), the host as libcurl printed it, the port spelled out */
        const char *ipv6 = strchr(out->host, ':') != NULL && host[0] != '[' ? "[" : "";
        int n = snprintf(NULL, 0, "%s://%s%s%s%s%s%s%s:%u", kinds[k].scheme,
                         user != NULL ? user : "", pass != NULL ? ":" : "",
                         pass != NULL ? pass : "", user != NULL || pass != NULL ? "@" : "",
                         ipv6, host, ipv6[0] != '\0' ? "]" : "", out->port);
        if (n < 0 || (out->url = malloc((size_t)n + 1)) == NULL) {
            st = PINCURL_OUT_OF_MEMORY;
            goto done;
        }
        snprintf(out->url, (size_t)n + 1, "%s://%s%s%s%s%s%s%s:%u", kinds[k].scheme,
                 user != NULL ? user : "", pass != NULL ? ":" : "", pass != NULL ? pass : "",
                 user != NULL || pass != NULL ? "@" : "", ipv6, host,
                 ipv6[0] != '\0' ? "]" : "", out->port);
    }
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_free(pass);
    curl_url_cleanup(u);
    if (st != PINCURL_OK)
        pc_route_clear(out);
    return st;
}
