/* The client's curl-style options end to end against the loopback servers (HTTPS with the
 * test PKI, and cleartext): raw header lines, transfer info, redirect limits, forms,
 * uploads, credentials, referers, cookies (and the cleartext rule for pinned hosts), decoding,
 * connect-to and IP versions (the pin decision stays with the URL's host), TLS and HTTP
 * versions, a CA directory, and what the libcurl in use can do. */
#include "servers.h"
#include "support.h"

#include "pincurl/client.h"
#include "pincurl/policy.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------------------- */

static pt_server tls_server(const char *chain, const char *key, const char *host, int tls_max)
{
    pt_server s;
    pt_server_opts o;
    memset(&o, 0, sizeof(o));
    o.chain = chain;
    o.key = key;
    o.host = host;
    o.tls_max = tls_max;
    o.name = "opt";
    pt_server_start(&s, &o);
    return s;
}

static pt_server plain_server(void)
{
    pt_server s;
    pt_server_opts o;
    memset(&o, 0, sizeof(o));
    o.plain = 1;
    o.name = "plain";
    pt_server_start(&s, &o);
    return s;
}

/* A policy pinning host (enforcing) to the intermediate and the backup key. */
static pincurl_policy *policy_for(const char *host)
{
    return pt_policy_exact(host, "inter", "leaf-backup");
}

/* A client from o (taken: freed here) trusting ca (a PKI name; NULL: root.pem). */
static pincurl_client *client(pincurl_policy *p, pincurl_options *o, const char *ca)
{
    pincurl_client *c = NULL;
    if (o == NULL)
        o = pincurl_options_new();
    cr_assert_not_null(o);
    cr_assert_eq(pincurl_options_set_ca_file(o, pt_pki(ca != NULL ? ca : "root.pem")),
                 PINCURL_OK);
    cr_assert_eq(pincurl_client_new(p, o, &c), PINCURL_OK);
    pincurl_options_free(o);
    return c;
}

static char *body_text(const pincurl_response *resp)
{
    size_t len = 0;
    const unsigned char *b = pincurl_response_body(resp, &len);
    char *copy = malloc(len + 1);
    cr_assert_not_null(copy);
    if (len > 0)
        memcpy(copy, b, len);
    copy[len] = '\0';
    return copy;
}

static int body_has(const pincurl_response *resp, const char *needle)
{
    char *t = body_text(resp);
    int found = strstr(t, needle) != NULL;
    free(t);
    return found;
}

static pincurl_status perform(pincurl_client *c, pincurl_request *r, pincurl_response **resp)
{
    pincurl_status st = pincurl_client_perform(c, r, resp);
    pincurl_request_free(r);
    return st;
}

static pincurl_request *request(const char *method, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static pincurl_request *request(const char *method, const char *fmt, ...)
{
    char url[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(url, sizeof(url), fmt, ap);
    va_end(ap);
    pincurl_request *r = pincurl_request_new(method, url);
    cr_assert_not_null(r);
    return r;
}

/* ---- raw header lines and the transfer info ---------------------------------------------- */

typedef struct lines {
    char text[8192];
    size_t len;
    int calls;
    int abort_at; /* abort on this call (1-based), 0 never */
} lines;

static size_t on_line(const void *data, size_t len, void *user)
{
    lines *l = user;
    l->calls++;
    if (l->len + len < sizeof(l->text)) {
        memcpy(l->text + l->len, data, len);
        l->len += len;
        l->text[l->len] = '\0';
    }
    return l->abort_at == l->calls ? 0 : len;
}

Test(curl_options, header_lines_as_received_and_transfer_info)
{
    pt_server s = tls_server("leaf-ec-chain.pem", "leaf-ec.key", NULL, 0);
    pincurl_policy *p = policy_for("localhost");
    pincurl_options *o = pincurl_options_new();
    cr_assert_eq(pincurl_options_set_follow_redirects(o, 1, 5), PINCURL_OK);
    pincurl_client *c = client(p, o, NULL);
    pincurl_response *resp = NULL;
    lines l;
    memset(&l, 0, sizeof l);
    pincurl_request *r = request("GET", "https://localhost:%d/redirect?to=/", s.port);
    cr_assert_eq(pincurl_request_set_header_callback(r, on_line, &l), PINCURL_OK);
    cr_assert_eq(perform(c, r, &resp), PINCURL_OK, "%s", pincurl_response_detail(resp));

    /* both responses, status lines and the empty lines included, CRLF as sent */
    cr_assert(strncmp(l.text, "HTTP/1.1 302 Found\r\n", 20) == 0, "%s", l.text);
    cr_assert_not_null(strstr(l.text, "Location: /\r\n"));
    cr_assert_not_null(strstr(l.text, "\r\n\r\nHTTP/1.1 200 OK\r\nServer: pincurl-test/opt\r\n"),
                       "%s", l.text);
    cr_assert(l.len > 4 && strcmp(l.text + l.len - 4, "\r\n\r\n") == 0);
    /* the parsed list is the last response's */
    cr_assert_str_eq(pincurl_response_header(resp, "content-length"), "14"); /* "hello from opt" */

    const pincurl_transfer_info *in = pincurl_response_info(resp);
    cr_assert_not_null(in);
    cr_assert_eq(in->curl_code, 0);
    cr_assert_str_eq(in->curl_error, "");
    cr_assert_eq(in->http_version, 11);
    cr_assert_eq(in->num_redirects, 1);
    cr_assert_eq(in->size_download, 14);
    cr_assert(in->size_header > 0);
    cr_assert(in->size_request > 0);
    cr_assert_str_eq(in->remote_ip, "127.0.0.1");
    cr_assert_eq(in->remote_port, s.port);
    cr_assert_str_eq(in->local_ip, "127.0.0.1");
    cr_assert(in->local_port > 0);
    cr_assert(strcasecmp(in->scheme, "https") == 0, "%s", in->scheme); /* 7.88: "HTTPS" */
    cr_assert_str_eq(in->content_type, "text/plain");
    cr_assert_str_eq(in->effective_method, "GET");
    cr_assert_null(in->redirect_url);
    /* the times of libcurl's phases, in their order */
    cr_assert(in->namelookup_us >= 0 && in->namelookup_us <= in->connect_us);
    cr_assert(in->connect_us <= in->appconnect_us && in->appconnect_us > 0);
    cr_assert(in->appconnect_us <= in->pretransfer_us);
    cr_assert(in->pretransfer_us <= in->starttransfer_us);
    cr_assert(in->starttransfer_us <= in->total_us && in->total_us > 0);
    cr_assert(in->redirect_us > 0);
    pincurl_response_free(resp);

    /* a header callback that refuses ends the request */
    memset(&l, 0, sizeof l);
    l.abort_at = 1;
    r = request("GET", "https://localhost:%d/", s.port);
    cr_assert_eq(pincurl_request_set_header_callback(r, on_line, &l), PINCURL_OK);
    cr_assert_eq(perform(c, r, &resp), PINCURL_ABORTED_BY_CALLBACK);
    cr_assert_eq(l.calls, 1);
    cr_assert_neq(pincurl_response_info(resp)->curl_code, 0);
    pincurl_response_free(resp);

    cr_assert_null(pincurl_response_info(NULL));
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(curl_options, redirect_limit_zero_is_an_error_and_not_following_returns_it)
{
    pt_server s = tls_server("leaf-ec-chain.pem", "leaf-ec.key", NULL, 0);
    pincurl_policy *p = policy_for("localhost");
    pincurl_options *o = pincurl_options_new();
    pincurl_response *resp = NULL;

    cr_assert_eq(pincurl_options_set_follow_redirects(o, 1, 0), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_follow_redirects(o, 1, 51), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_options_set_follow_redirects(o, 2, 1), PINCURL_INVALID_ARGUMENT);
    pincurl_client *c = client(p, o, NULL);
    cr_assert_eq(perform(c, request("GET", "https://localhost:%d/redirect?to=/", s.port), &resp),
                 PINCURL_TOO_MANY_REDIRECTS);
    cr_assert_eq(pincurl_response_info(resp)->curl_code, CURLE_TOO_MANY_REDIRECTS);
    pincurl_response_free(resp);
    pincurl_client_free(c);

    /* not following: the redirect is the response */
    o = pincurl_options_new();
    cr_assert_eq(pincurl_options_set_follow_redirects(o, 0, 7), PINCURL_OK);
    c = client(p, o, NULL);
    cr_assert_eq(perform(c, request("GET", "https://localhost:%d/redirect?to=/x", s.port), &resp),
                 PINCURL_OK);
    cr_assert_eq(pincurl_response_code(resp), 302);
    cr_assert_not_null(pincurl_response_info(resp)->redirect_url);
    cr_assert_not_null(strstr(pincurl_response_info(resp)->redirect_url, "/x"));
    pincurl_response_free(resp);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

/* ---- bodies: forms and uploads ------------------------------------------------------------ */

typedef struct source {
    const char *data;
    size_t len, off;
} source;

static size_t read_source(void *buf, size_t size, void *user)
{
    source *s = user;
    size_t n = s->len - s->off < size ? s->len - s->off : size;
    memcpy(buf, s->data + s->off, n);
    s->off += n;
    return n;
}

Test(curl_options, forms_and_uploads)
{
    pt_server s = plain_server();
    pincurl_policy *p = policy_for("pinned.example");
    pincurl_client *c = client(p, NULL, NULL);
    pincurl_response *resp = NULL;
    const char *dir = pt_tmpdir("forms");
    char file[1100], missing[1100];
    snprintf(file, sizeof file, "%s/part.txt", dir);
    snprintf(missing, sizeof missing, "%s/absent.txt", dir);
    pt_write_file(file, "file content\n", 13);

    pincurl_request *r = request("POST", "http://127.0.0.1:%d/request", s.port);
    cr_assert_eq(pincurl_request_add_form_data(r, "field", "value", 5, NULL, NULL), PINCURL_OK);
    cr_assert_eq(pincurl_request_add_form_file(r, "upload", file, NULL, "text/plain"),
                 PINCURL_OK);
    cr_assert_eq(pincurl_request_add_form_file(r, "inline", file, "", NULL), PINCURL_OK);
    cr_assert_eq(pincurl_request_add_form_data(r, "named", "x", 1, "n.bin", NULL), PINCURL_OK);
    cr_assert_eq(pincurl_request_add_form_data(r, "", "x", 1, NULL, NULL),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_request_add_form_data(r, "a", "x", 1, "bad\r\nname", NULL),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(perform(c, r, &resp), PINCURL_OK, "%s", pincurl_response_detail(resp));
    cr_assert(body_has(resp, "POST /request HTTP/1.1"));
    cr_assert(body_has(resp, "Content-Type: multipart/form-data; boundary="));
    cr_assert(body_has(resp, "Content-Disposition: form-data; name=\"field\"\r\n\r\nvalue\r\n"));
    cr_assert(body_has(resp, "name=\"upload\"; filename=\"part.txt\"\r\nContent-Type: "
                             "text/plain\r\n\r\nfile content\n"));
    cr_assert(body_has(resp, "name=\"inline\"\r\n\r\nfile content\n"));
    cr_assert(body_has(resp, "name=\"named\"; filename=\"n.bin\""));
    pincurl_response_free(resp);

    /* a file that cannot be read: nothing is sent */
    long before = pt_server_request_bytes(&s);
    r = request("POST", "http://127.0.0.1:%d/request", s.port);
    cr_assert_eq(pincurl_request_add_form_file(r, "f", missing, NULL, NULL), PINCURL_OK);
    cr_assert_eq(perform(c, r, &resp), PINCURL_IO);
    cr_assert_eq(pincurl_response_info(resp)->curl_code, CURLE_READ_ERROR);
    cr_assert_eq(pt_server_request_bytes(&s), before);
    pincurl_response_free(resp);

    /* a body set after the parts replaces them */
    r = request("POST", "http://127.0.0.1:%d/request", s.port);
    cr_assert_eq(pincurl_request_add_form_data(r, "gone", "x", 1, NULL, NULL), PINCURL_OK);
    cr_assert_eq(pincurl_request_set_body(r, "plain=1", 7), PINCURL_OK);
    cr_assert_eq(perform(c, r, &resp), PINCURL_OK);
    cr_assert(body_has(resp, "\r\n\r\nplain=1"));
    cr_assert(!body_has(resp, "gone"));
    pincurl_response_free(resp);

    /* an upload: PUT, the size known, no form Content-Type */
    source src = {"uploaded bytes", 14, 0};
    r = request("PUT", "http://127.0.0.1:%d/request", s.port);
    cr_assert_eq(pincurl_request_set_upload(r, read_source, &src, 14), PINCURL_OK);
    cr_assert_eq(perform(c, r, &resp), PINCURL_OK);
    cr_assert(body_has(resp, "PUT /request HTTP/1.1"));
    cr_assert(body_has(resp, "Content-Length: 14\r\n"));
    cr_assert(!body_has(resp, "Content-Type"));
    cr_assert(body_has(resp, "\r\n\r\nuploaded bytes"));
    cr_assert_eq(pincurl_response_info(resp)->size_upload, 14);
    pincurl_response_free(resp);

    /* of unknown size: chunked; another method than PUT is kept */
    source src2 = {"chunks", 6, 0};
    r = request("POST", "http://127.0.0.1:%d/request", s.port);
    cr_assert_eq(pincurl_request_set_upload(r, read_source, &src2, -1), PINCURL_OK);
    cr_assert_eq(perform(c, r, &resp), PINCURL_OK);
    cr_assert(body_has(resp, "POST /request HTTP/1.1"));
    cr_assert(body_has(resp, "Transfer-Encoding: chunked"));
    cr_assert(body_has(resp, "\r\n\r\nchunks"));
    pincurl_response_free(resp);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

/* ---- credentials, referer, cookies, decoding ---------------------------------------------- */

Test(curl_options, credentials_stay_with_their_host)
{
    pt_server a = plain_server(), b = plain_server();
    pincurl_policy *p = policy_for("pinned.example");
    pincurl_options *o = pincurl_options_new();
    cr_assert_eq(pincurl_options_set_max_redirects(o, 3), PINCURL_OK);
    pincurl_client *c = client(p, o, NULL);
    pincurl_response *resp = NULL;

    pincurl_request *r = request("GET", "http://127.0.0.1:%d/auth?user=u&pass=pw", a.port);
    cr_assert_eq(pincurl_request_set_credentials(r, "u", "pw"), PINCURL_OK);
    cr_assert_eq(perform(c, r, &resp), PINCURL_OK);
    cr_assert_eq(pincurl_response_code(resp), 200);
    pincurl_response_free(resp);

    r = request("GET", "http://127.0.0.1:%d/auth?user=u&pass=pw", a.port);
    cr_assert_eq(pincurl_request_set_credentials(r, "u", "wrong"), PINCURL_OK);
    cr_assert_eq(perform(c, r, &resp), PINCURL_OK);
    cr_assert_eq(pincurl_response_code(resp), 401);
    pincurl_response_free(resp);

    /* a redirect to another host: no Authorization there */
    char url[200];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/redirect?to=http://localhost:%d/request",
             a.port, b.port);
    r = pincurl_request_new("GET", url);
    cr_assert_eq(pincurl_request_set_credentials(r, "u", "pw"), PINCURL_OK);
    cr_assert_eq(pincurl_request_set_referer(r, "http://ref.example/", 1), PINCURL_OK);
    cr_assert_eq(pincurl_request_set_cookie(r, "a=b;c=d"), PINCURL_OK);
    cr_assert_eq(perform(c, r, &resp), PINCURL_OK);
    cr_assert(body_has(resp, "GET /request HTTP/1.1"));
    cr_assert(!body_has(resp, "Authorization"));
    /* the automatic referer names the hop it came from; the cookie string goes along */
    char ref[200];
    snprintf(ref, sizeof ref, "Referer: http://127.0.0.1:%d/redirect?to=", a.port);
    cr_assert(body_has(resp, ref));
    cr_assert(body_has(resp, "Cookie: a=b;c=d"));
    pincurl_response_free(resp);

    r = request("GET", "http://127.0.0.1:%d/", a.port);
    cr_assert_eq(pincurl_request_set_credentials(r, "u\r\n", "x"), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_request_set_referer(r, NULL, 2), PINCURL_INVALID_ARGUMENT);
    pincurl_request_free(r);

    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&a);
    pt_server_stop(&b);
}

Test(curl_options, cookie_engine_shared_loaded_and_saved)
{
    pt_server s = plain_server();
    pincurl_policy *p = policy_for("pinned.example");
    const char *dir = pt_tmpdir("cookies");
    char load[1100], save[1100], bad[1100];
    snprintf(load, sizeof load, "%s/in.txt", dir);
    snprintf(save, sizeof save, "%s/out.txt", dir);
    snprintf(bad, sizeof bad, "%s/no/such/dir/out.txt", dir);
    const char *in = "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tloaded\tyes\n";
    pt_write_file(load, in, strlen(in));

    pincurl_options *o = pincurl_options_new();
    cr_assert_eq(pincurl_options_set_cookie_engine(o, 1, load, save), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_cookie_engine(o, 3, NULL, NULL), PINCURL_INVALID_ARGUMENT);
    pincurl_client *c = client(p, o, NULL);
    pincurl_response *resp = NULL;

    /* the loaded cookie goes out; a cookie set by one request goes with the next */
    cr_assert_eq(perform(c, request("GET", "http://127.0.0.1:%d/setcookie?fresh=1", s.port),
                         &resp),
                 PINCURL_OK);
    pincurl_response_free(resp);
    cr_assert_eq(perform(c, request("GET", "http://127.0.0.1:%d/request", s.port), &resp),
                 PINCURL_OK);
    cr_assert(body_has(resp, "Cookie: "));
    cr_assert(body_has(resp, "loaded=yes"));
    cr_assert(body_has(resp, "fresh=1"));
    pincurl_response_free(resp);

    cr_assert_eq(pincurl_client_save_cookies(c), PINCURL_OK);
    size_t len = 0;
    char *saved = (char *)pt_read_file(save, &len);
    cr_assert_not_null(strstr(saved, "# Netscape HTTP Cookie File"));
    cr_assert_not_null(strstr(saved, "\tfresh\t1"));
    cr_assert_not_null(strstr(saved, "\tloaded\tyes"));
    free(saved);
    pincurl_client_free(c);

    /* a save file that cannot be written */
    o = pincurl_options_new();
    cr_assert_eq(pincurl_options_set_cookie_engine(o, 1, NULL, bad), PINCURL_OK);
    c = client(p, o, NULL);
    cr_assert_eq(pincurl_client_save_cookies(c), PINCURL_IO);
    pincurl_client_free(c);

    /* the engine off: nothing kept between requests */
    c = client(p, NULL, NULL);
    cr_assert_eq(perform(c, request("GET", "http://127.0.0.1:%d/setcookie?x=1", s.port), &resp),
                 PINCURL_OK);
    pincurl_response_free(resp);
    cr_assert_eq(perform(c, request("GET", "http://127.0.0.1:%d/request", s.port), &resp),
                 PINCURL_OK);
    cr_assert(!body_has(resp, "Cookie"));
    pincurl_response_free(resp);
    cr_assert_eq(pincurl_client_save_cookies(c), PINCURL_OK);
    pincurl_client_free(c);

    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

/* A cookie for a domain with a pinned host never goes to a neighbour over http. */
Test(curl_options, cookie_of_a_pinned_domain_is_not_sent_in_cleartext)
{
    pt_server s = plain_server();
    const char *dir = pt_tmpdir("cookie-leak");
    char load[1100], url[200], resolve[100];
    snprintf(load, sizeof load, "%s/in.txt", dir);
    const char *in = "# Netscape HTTP Cookie File\n"
                     ".example.test\tTRUE\t/\tFALSE\t0\tsession\tsecret\n";
    pt_write_file(load, in, strlen(in));
    snprintf(url, sizeof url, "http://www.example.test:%d/request", s.port);
    snprintf(resolve, sizeof resolve, "www.example.test:%d:127.0.0.1", s.port);
    const char *pinned_hosts[] = {"api.example.test", "example.test"};

    for (size_t i = 0; i < 2; i++) {
        pincurl_policy *p = policy_for(pinned_hosts[i]);
        pincurl_options *o = pincurl_options_new();
        cr_assert_eq(pincurl_options_set_cookie_engine(o, 1, load, NULL), PINCURL_OK);
        cr_assert_eq(pincurl_options_add_resolve(o, resolve), PINCURL_OK);
        pincurl_client *c = client(p, o, NULL);
        pincurl_response *resp = NULL;
        long before = pt_server_request_bytes(&s);
        pincurl_request *r = pincurl_request_new("GET", url);
        cr_assert_eq(perform(c, r, &resp), PINCURL_CLEARTEXT_PINNED, "%s: %s", pinned_hosts[i],
                     pincurl_response_detail(resp));
        cr_assert_not_null(strstr(pincurl_response_detail(resp), "example.test"));
        pt_server_wait_closed(&s, 2000);
        cr_assert_eq(pt_server_request_bytes(&s), before, "request bytes were sent");
        pincurl_response_free(resp);
        pincurl_client_free(c);
        pincurl_policy_unref(p);
    }

    /* the same cookie where no pinned host is below its domain: sent, as libcurl would */
    pincurl_policy *p = policy_for("other.test");
    pincurl_options *o = pincurl_options_new();
    cr_assert_eq(pincurl_options_set_cookie_engine(o, 1, load, NULL), PINCURL_OK);
    cr_assert_eq(pincurl_options_add_resolve(o, resolve), PINCURL_OK);
    pincurl_client *c = client(p, o, NULL);
    pincurl_response *resp = NULL;
    cr_assert_eq(perform(c, pincurl_request_new("GET", url), &resp), PINCURL_OK);
    cr_assert(body_has(resp, "Cookie: session=secret"));
    pincurl_response_free(resp);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(curl_options, compressed_responses_are_decoded)
{
    pt_server s = plain_server();
    pincurl_policy *p = policy_for("pinned.example");
    pincurl_client *c = client(p, NULL, NULL);
    pincurl_response *resp = NULL;

    cr_assert(pincurl_http_features() & PINCURL_FEATURE_GZIP, "this libcurl decodes gzip");
    pincurl_request *r = request("GET", "http://127.0.0.1:%d/gzip", s.port);
    cr_assert_eq(pincurl_request_set_accept_encoding(r, ""), PINCURL_OK);
    cr_assert_eq(perform(c, r, &resp), PINCURL_OK);
    cr_assert_str_eq(pincurl_response_header(resp, "content-encoding"), "gzip");
    char *text = body_text(resp);
    cr_assert(strncmp(text, "compressible text from plain\n", 29) == 0, "%.40s", text);
    cr_assert_eq(strlen(text), 29 * 20);
    free(text);
    pincurl_response_free(resp);

    /* without it the server sends the text as it is */
    cr_assert_eq(perform(c, request("GET", "http://127.0.0.1:%d/gzip", s.port), &resp),
                 PINCURL_OK);
    cr_assert_null(pincurl_response_header(resp, "content-encoding"));
    pincurl_response_free(resp);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

/* ---- where to connect: the pin decision stays with the URL's host ---------------------- */

Test(curl_options, connect_to_never_changes_the_decided_host)
{
    pt_server good = tls_server("leaf-ec-chain.pem", "leaf-ec.key", NULL, 0);
    pt_server rogue = tls_server("padded-chain.pem", "rogue-leaf.key", NULL, 0);
    pincurl_policy *p = policy_for("localhost");
    char entry[100];
    pincurl_response *resp = NULL;

    /* localhost:good connects to the rogue server (whose root cas.pem trusts): refused
     * for localhost's pins, nothing sent */
    pincurl_options *o = pincurl_options_new();
    snprintf(entry, sizeof entry, "localhost:%d:127.0.0.1:%d", good.port, rogue.port);
    cr_assert_eq(pincurl_options_add_connect_to(o, entry), PINCURL_OK);
    cr_assert_eq(pincurl_options_add_connect_to(o, "a:b:c"), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_options_add_connect_to(o, "[::1]:1:x:2"), PINCURL_OK);
    pincurl_client *c = client(p, o, "cas.pem");
    cr_assert_eq(perform(c, request("GET", "https://localhost:%d/", good.port), &resp),
                 PINCURL_PIN_MISMATCH, "%s", pincurl_response_detail(resp));
    const pincurl_verdict *v = pincurl_response_verdict(resp);
    cr_assert_not_null(v);
    /* the rogue server was connected to, the good one never */
    pt_server_wait_closed(&rogue, 2000);
    cr_assert_eq(pt_server_connections(&rogue), 1);
    cr_assert_eq(pt_server_connections(&good), 0);
    cr_assert_eq(pt_server_request_bytes(&rogue), 0);
    pincurl_response_free(resp);
    pincurl_client_free(c);

    /* a name the certificate does not carry, connected to the good server: the URL's
     * host is what TLS checks, so it fails; the good server's own name passes */
    o = pincurl_options_new();
    snprintf(entry, sizeof entry, "other.example:443:127.0.0.1:%d", good.port);
    cr_assert_eq(pincurl_options_add_connect_to(o, entry), PINCURL_OK);
    c = client(p, o, NULL);
    cr_assert_eq(perform(c, pincurl_request_new("GET", "https://other.example/"), &resp),
                 PINCURL_HOST_MISMATCH, "%s", pincurl_response_detail(resp));
    pincurl_response_free(resp);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&good);
    pt_server_stop(&rogue);
}

typedef struct seen {
    char host[64];
    int validations;
} seen;

static void on_validation(const pincurl_event *ev, void *user)
{
    seen *s = user;
    if (pincurl_event_get_kind(ev) != PINCURL_EVENT_VALIDATION)
        return;
    s->validations++;
    snprintf(s->host, sizeof s->host, "%s", pincurl_event_host(ev));
}

Test(curl_options, ip_versions_decide_the_same_host)
{
    pt_server six = tls_server("leaf-ec-chain.pem", "leaf-ec.key", "::1", 0);
    pincurl_policy *p = policy_for("localhost");
    pincurl_response *resp = NULL;
    seen sn;
    memset(&sn, 0, sizeof sn);

    pincurl_options *o = pincurl_options_new();
    cr_assert_eq(pincurl_options_set_ip_version(o, PINCURL_IP_V6), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_ip_version(o, (pincurl_ip_version)5),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_options_set_event_callback(o, on_validation, &sn), PINCURL_OK);
    pincurl_client *c = client(p, o, NULL);
    cr_assert_eq(perform(c, request("GET", "https://localhost:%d/", six.port), &resp),
                 PINCURL_OK, "%s", pincurl_response_detail(resp));
    cr_assert_str_eq(pincurl_response_info(resp)->remote_ip, "::1");
    cr_assert_eq(sn.validations, 1);
    cr_assert_str_eq(sn.host, "localhost");
    cr_assert(pincurl_response_verdict(resp)->pinned);
    pincurl_response_free(resp);
    pincurl_client_free(c);

    /* IPv4 only: the IPv6-only server is not reached */
    o = pincurl_options_new();
    cr_assert_eq(pincurl_options_set_ip_version(o, PINCURL_IP_V4), PINCURL_OK);
    c = client(p, o, NULL);
    cr_assert_eq(perform(c, request("GET", "https://localhost:%d/", six.port), &resp),
                 PINCURL_CONNECT);
    cr_assert_eq(pincurl_response_info(resp)->curl_code, CURLE_COULDNT_CONNECT);
    cr_assert_eq(pincurl_response_info(resp)->os_errno, ECONNREFUSED);
    pincurl_response_free(resp);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&six);
}

/* ---- TLS and HTTP versions, a CA directory, the libcurl in use ------------------------ */

Test(curl_options, tls_and_http_versions)
{
    pt_server s12 = tls_server("leaf-ec-chain.pem", "leaf-ec.key", NULL, 12);
    pincurl_policy *p = policy_for("localhost");
    pincurl_response *resp = NULL;

    pincurl_options *o = pincurl_options_new();
    cr_assert_eq(pincurl_options_set_tls_min_version(o, PINCURL_TLS_VERSION_1_3), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_tls_min_version(o, (pincurl_tls_version)11),
                 PINCURL_INVALID_ARGUMENT);
    pincurl_client *c = client(p, o, NULL);
    cr_assert_eq(perform(c, request("GET", "https://localhost:%d/", s12.port), &resp),
                 PINCURL_TLS);
    cr_assert_eq(pincurl_response_info(resp)->curl_code, CURLE_SSL_CONNECT_ERROR);
    pincurl_response_free(resp);
    pincurl_client_free(c);

    o = pincurl_options_new();
    cr_assert_eq(pincurl_options_set_tls_min_version(o, PINCURL_TLS_VERSION_1_2), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_http_version(o, PINCURL_HTTP_VERSION_1_1), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_http_version(o, (pincurl_http_version)3),
                 PINCURL_INVALID_ARGUMENT);
    /* HTTP/2 only where this libcurl has it */
    pincurl_status h2 = pincurl_options_set_http_version(o, PINCURL_HTTP_VERSION_2);
    if (pincurl_http_features() & PINCURL_FEATURE_HTTP2)
        cr_assert_eq(h2, PINCURL_OK);
    else
        cr_assert_eq(h2, PINCURL_UNSUPPORTED);
    c = client(p, o, NULL);
    cr_assert_eq(perform(c, request("GET", "https://localhost:%d/", s12.port), &resp),
                 PINCURL_OK, "%s", pincurl_response_detail(resp));
    /* the server speaks HTTP/1.1 only (ALPN), whatever was asked */
    cr_assert_eq(pincurl_response_info(resp)->http_version, 11);
    pincurl_response_free(resp);
    pincurl_client_free(c);
    pincurl_policy_unref(p);
    pt_server_stop(&s12);
}

Test(curl_options, ca_directory_where_the_tls_backend_reads_one)
{
    pincurl_options *o = pincurl_options_new();
    const char *dir = pt_tmpdir("capath");
    pincurl_status st = pincurl_options_set_ca_path(o, dir);
    if (!(pincurl_http_features() & PINCURL_FEATURE_CA_PATH)) {
        cr_assert_eq(st, PINCURL_UNSUPPORTED);
        pincurl_options_free(o);
        return;
    }
    cr_assert_eq(st, PINCURL_OK);
    pt_server s = tls_server("leaf-ec-chain.pem", "leaf-ec.key", NULL, 0);
    cr_assert_eq(pt_system("cp '%s' '%s/root.pem' && cd '%s' && ln -s root.pem "
                           "\"$(openssl x509 -in root.pem -noout -hash).0\"",
                           pt_pki("root.pem"), dir, dir),
                 0);
    pincurl_policy *p = pt_policy_exact("localhost", "root", "leaf-backup");
    pincurl_client *c = NULL;
    pincurl_response *resp = NULL;
    /* the pinned root comes from the directory alone */
    cr_assert_eq(pincurl_client_new(p, o, &c), PINCURL_OK);
    cr_assert_eq(perform(c, request("GET", "https://localhost:%d/", s.port), &resp), PINCURL_OK,
                 "%s", pincurl_response_detail(resp));
    cr_assert_eq(pincurl_response_verdict(resp)->matched_depth, 2);
    pincurl_response_free(resp);
    pincurl_client_free(c);
    pincurl_options_free(o);
    pincurl_policy_unref(p);
    pt_server_stop(&s);
}

Test(curl_options, features_are_libcurls)
{
    const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
    unsigned f = pincurl_http_features();
    cr_assert_eq(!!(f & PINCURL_FEATURE_HTTP2), !!(vi->features & CURL_VERSION_HTTP2));
    cr_assert_eq(!!(f & PINCURL_FEATURE_IPV6), !!(vi->features & CURL_VERSION_IPV6));
    cr_assert_eq(!!(f & PINCURL_FEATURE_GZIP), !!(vi->features & CURL_VERSION_LIBZ));
    cr_assert_eq(!!(f & PINCURL_FEATURE_BROTLI), !!(vi->features & CURL_VERSION_BROTLI));
    char expected[64];
    snprintf(expected, sizeof expected, "libcurl/%s ", vi->version);
    cr_assert(strncmp(pincurl_http_library(), expected, strlen(expected)) == 0, "%s",
              pincurl_http_library());
    cr_assert_not_null(strstr(pincurl_http_library(), vi->ssl_version));
    /* an encoding request this libcurl cannot decode is refused up front */
    pincurl_request *r = pincurl_request_new("GET", "https://localhost/");
    pincurl_status st = pincurl_request_set_accept_encoding(r, "");
    cr_assert_eq(st, (f & (PINCURL_FEATURE_GZIP | PINCURL_FEATURE_BROTLI | PINCURL_FEATURE_ZSTD))
                         ? PINCURL_OK
                         : PINCURL_UNSUPPORTED);
    cr_assert_eq(pincurl_request_set_accept_encoding(r, NULL), PINCURL_OK);
    pincurl_request_free(r);
}
