/*
 * The client: a policy reference, options, and a pool of idle easy handles.
 *
 * libcurl is initialised once per process, on the first pincurl_client_new(), through
 * pthread_once(): curl_global_init() is not thread-safe by itself, and pthread_once makes
 * concurrent first calls safe. pincurl never calls curl_global_cleanup(); an application
 * that does must do so after freeing every client.
 *
 * pincurl_client_perform() may run on any number of threads at once: each call takes an
 * easy handle from the pool (or makes one), resets it, sets every option, performs and
 * puts it back. An idle handle keeps its kept-alive connections, so the next request to
 * the same host reuses one; CURLOPT_PREREQFUNCTION re-checks it before every request.
 */
#include "http/http.h"

#include "core/alloc.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_result = CURLE_FAILED_INIT;
static atomic_uint_fast64_t client_ids = 1;

static void global_init_once(void)
{
    global_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int pc_http_global_init(void)
{
    pthread_once(&global_once, global_init_once);
    return global_result == CURLE_OK ? 0 : -1;
}

pincurl_status pincurl_client_new(pincurl_policy *policy, const pincurl_options *opts,
                                  pincurl_client **out)
{
    pincurl_allocator alloc;
    pincurl_client *c;
    const pc_tls_backend *backend;

    if (out != NULL)
        *out = NULL;
    if (policy == NULL || out == NULL)
        return PINCURL_INVALID_ARGUMENT;
    if (pc_http_global_init() != 0)
        return PINCURL_INTERNAL;
    /* Only the backend this library was built for: never a weaker one (pincurl_runtime) */
    backend = pc_tls_backend_in_use();
    if (backend == NULL)
        return PINCURL_BACKEND_UNSUPPORTED;
    if (backend->global_init() != 0)
        return PINCURL_INTERNAL;
    if (!(backend->caps & PC_TLS_CAP_PATH)) {
        pincurl_status st;
        if (opts != NULL && opts->ca_path != NULL)
            return PINCURL_BACKEND_UNSUPPORTED; /* root pins in a directory: unchecked */
        st = pc_leaf_policy_ok(policy, opts != NULL ? opts->ca_file : NULL);
        if (st != PINCURL_OK)
            return st;
    }

    pc_allocator_init(&alloc, opts != NULL && opts->alloc.malloc_fn != NULL ? &opts->alloc
                                                                             : NULL);
    c = pc_calloc(&alloc, 1, sizeof(*c));
    if (c == NULL)
        return PINCURL_OUT_OF_MEMORY;
    c->alloc = alloc;
    if (opts != NULL) {
        if (pc_options_copy(&c->opts, opts) != 0) {
            pc_free(&alloc, c);
            return PINCURL_OUT_OF_MEMORY;
        }
    } else {
        pc_options_defaults(&c->opts);
    }
    c->cache = pc_path_cache_new(PC_PATH_CACHE_ENTRIES);
    c->anchors = pc_anchor_registry_new();
    c->monitor = pc_monitor_new(&alloc);
    if (c->cache == NULL || c->anchors == NULL || c->monitor == NULL) {
        pc_path_cache_free(c->cache);
        pc_anchor_registry_free(c->anchors);
        pc_monitor_free(c->monitor);
        pc_options_clear(&c->opts);
        pc_free(&alloc, c);
        return PINCURL_OUT_OF_MEMORY;
    }
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        pc_path_cache_free(c->cache);
        pc_anchor_registry_free(c->anchors);
        pc_monitor_free(c->monitor);
        pc_options_clear(&c->opts);
        pc_free(&alloc, c);
        return PINCURL_INTERNAL;
    }
    c->backend = backend;
    {
        pincurl_status st = pc_route_parse(c->opts.proxy, &c->route, NULL, 0);
        if (st != PINCURL_OK) {
            pthread_mutex_destroy(&c->lock);
            pc_path_cache_free(c->cache);
            pc_anchor_registry_free(c->anchors);
            pc_monitor_free(c->monitor);
            pc_options_clear(&c->opts);
            pc_free(&alloc, c);
            return st;
        }
    }
    c->id = atomic_fetch_add(&client_ids, 1);
    c->policy = pincurl_policy_ref(policy);
    c->generation = 1;
    {
        pincurl_status st = pc_cookies_open(c);
        if (st == PINCURL_OK)
            st = pc_reports_open(c);
        if (st != PINCURL_OK) {
            pincurl_client_free(c);
            return st;
        }
    }
    *out = c;
    return PINCURL_OK;
}

void pincurl_client_free(pincurl_client *c)
{
    if (c == NULL)
        return;
    pc_reports_close(c);
    for (size_t i = 0; i < c->pool_len; i++)
        curl_easy_cleanup(c->pool[i]);
    pc_cookies_close(c); /* after every handle that used the store */
    pthread_mutex_destroy(&c->lock);
    pc_path_cache_free(c->cache);
    pc_anchor_registry_free(c->anchors);
    pc_route_clear(&c->route);
    pc_monitor_free(c->monitor);
    pc_options_clear(&c->opts);
    pincurl_policy_unref(c->policy);
    {
        pincurl_allocator alloc = c->alloc;
        pc_free(&alloc, c);
    }
}

int64_t pc_client_now(const pincurl_client *c)
{
    if (c != NULL && c->opts.clock_fn != NULL)
        return c->opts.clock_fn(c->opts.clock_ctx);
    return (int64_t)time(NULL);
}

pincurl_policy *pc_client_snapshot(pincurl_client *c, uint64_t *generation)
{
    pincurl_policy *p;
    pthread_mutex_lock(&c->lock);
    p = pincurl_policy_ref(c->policy);
    if (generation != NULL)
        *generation = c->generation;
    pthread_mutex_unlock(&c->lock);
    return p;
}

pincurl_policy *pincurl_client_policy(pincurl_client *c)
{
    return c != NULL ? pc_client_snapshot(c, NULL) : NULL;
}

pincurl_status pincurl_client_set_policy(pincurl_client *c, pincurl_policy *policy)
{
    pincurl_policy *old;
    CURL *retired[PC_POOL_MAX];
    size_t n_retired = 0;
    pincurl_event ev;

    if (c == NULL || policy == NULL)
        return PINCURL_INVALID_ARGUMENT;
    if (!(c->backend->caps & PC_TLS_CAP_PATH)) {
        pincurl_status st = pc_leaf_policy_ok(policy, c->opts.ca_file);
        if (st != PINCURL_OK)
            return st;
    }
    pincurl_policy_ref(policy);
    pthread_mutex_lock(&c->lock);
    old = c->policy;
    c->policy = policy;
    c->generation++;
    /* Idle handles hold connections and sessions of the old generation: retire them.
     * Handles in use are retired when they come back (pool_put sees the generation). */
    for (size_t i = 0; i < c->pool_len; i++)
        retired[n_retired++] = c->pool[i];
    c->pool_len = 0;
    memset(&ev, 0, sizeof(ev));
    ev.kind = PINCURL_EVENT_POLICY_CHANGED;
    ev.generation = c->generation;
    ev.message = "a new policy generation is in force";
    pthread_mutex_unlock(&c->lock);
    for (size_t i = 0; i < n_retired; i++)
        curl_easy_cleanup(retired[i]);
    pincurl_policy_unref(old);
    if (c->reporter != NULL)
        (void)pincurl_client_set_policy(c->reporter, policy);
    pc_client_emit(c, &ev);
    return PINCURL_OK;
}

uint64_t pincurl_client_generation(const pincurl_client *c)
{
    /* the hooks call this for every connection and request: no lock */
    return c != NULL ? atomic_load(&c->generation) : 0;
}

void pc_client_emit(const pincurl_client *c, pincurl_event *ev)
{
    if (c == NULL || ev == NULL || c->opts.event_cb == NULL)
        return;
    c->opts.event_cb(ev, c->opts.event_user);
}

const char *pincurl_client_tls_backend(const pincurl_client *c)
{
    return c != NULL && c->backend != NULL ? c->backend->name : "";
}

/* An idle handle whose connections belong to generation, or a new handle. */
static CURL *pool_take(pincurl_client *c, uint64_t generation)
{
    CURL *e = NULL;
    pthread_mutex_lock(&c->lock);
    while (c->pool_len > 0 && e == NULL) {
        c->pool_len--;
        if (c->pool_gen[c->pool_len] == generation) {
            e = c->pool[c->pool_len];
        } else {
            /* an older generation's connections are never reused */
            CURL *old = c->pool[c->pool_len];
            pthread_mutex_unlock(&c->lock);
            curl_easy_cleanup(old);
            pthread_mutex_lock(&c->lock);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return e != NULL ? e : curl_easy_init();
}

/* Returns a handle taken for generation. A handle whose connection or session was refused
 * (retire) is freed with its caches, as is one of an older generation. */
static void pool_put(pincurl_client *c, CURL *e, uint64_t generation, int retire)
{
    /* No pointer into this perform's stack may survive in the handle. */
    pc_cookies_detach(c, e);
    curl_easy_reset(e);
    pthread_mutex_lock(&c->lock);
    if (!retire && c->pool_len < PC_POOL_MAX && generation == c->generation) {
        c->pool_gen[c->pool_len] = generation;
        c->pool[c->pool_len++] = e;
        e = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    if (e != NULL)
        curl_easy_cleanup(e);
}

/* ------------------------------------------------------------------------------------ */
/* One transfer                                                                          */

typedef struct transfer {
    pc_pin_state pin;
    const pincurl_request *req;
    pincurl_response *resp;
    size_t max_body;
    size_t body_seen;
    FILE *file;
    int too_large;      /* the body cap was exceeded */
    int app_aborted;    /* a read or write callback of the application aborted */
    int io_failed;      /* the output file could not be written */
    int oom;            /* memory ran out while storing the response */
    CURLcode setup_code; /* libcurl refused part of the request before it was sent */
    curl_mime *mime;    /* the form (libcurl links it: freed after the handle is reset) */
    char errbuf[CURL_ERROR_SIZE];
} transfer;

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    transfer *t = userp;
    size_t len = size * nmemb;
    const pincurl_request *r = t->req;

    if (r->write_cb != NULL) {
        if (r->write_cb(data, len, r->write_user) != len) {
            t->app_aborted = 1;
            return 0;
        }
        return len;
    }
    if (r->output_file != NULL) {
        if (t->file == NULL) {
            t->file = fopen(r->output_file, "wb");
            if (t->file == NULL) {
                t->io_failed = 1;
                return 0;
            }
        }
        if (len > 0 && fwrite(data, 1, len, t->file) != len) {
            t->io_failed = 1;
            return 0;
        }
        return len;
    }
    if (len > t->max_body - t->resp->body_len) {
        t->too_large = 1;
        return 0;
    }
    if (pc_response_append(t->resp, data, len) != 0) {
        t->oom = 1;
        return 0;
    }
    return len;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    transfer *t = userp;
    size_t len = size * nmemb;
    if (pc_response_header_line(t->resp, data, len) != 0) {
        t->oom = 1;
        return 0;
    }
    if (t->req->header_cb != NULL && t->req->header_cb(data, len, t->req->header_user) != len) {
        t->app_aborted = 1;
        return 0;
    }
    return len;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *userp)
{
    transfer *t = userp;
    size_t n = t->req->read_cb(buf, size * nmemb, t->req->read_user);
    if (n == (size_t)-1) {
        t->app_aborted = 1;
        return CURL_READFUNC_ABORT;
    }
    if (n > size * nmemb) {
        t->app_aborted = 1;
        return CURL_READFUNC_ABORT;
    }
    return n;
}

static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    transfer *t = userp;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return t->req->cancel != NULL && atomic_load(t->req->cancel) != 0;
}

#define SET(opt, val)                                                                     \
    do {                                                                                  \
        if (curl_easy_setopt(e, opt, val) != CURLE_OK)                                   \
            return PINCURL_INTERNAL;                                                      \
    } while (0)

/* The request's form as a libcurl MIME structure (t->mime). */
static pincurl_status set_form(transfer *t, CURL *e)
{
    const pincurl_request *r = t->req;
    curl_mime *mime = curl_mime_init(e);

    if (mime == NULL)
        return PINCURL_OUT_OF_MEMORY;
    t->mime = mime;
    for (size_t i = 0; i < r->form_count; i++) {
        const pc_form_part *p = &r->form[i];
        curl_mimepart *part = curl_mime_addpart(mime);
        CURLcode rc;
        if (part == NULL)
            return PINCURL_OUT_OF_MEMORY;
        rc = curl_mime_name(part, p->name);
        if (rc == CURLE_OK && p->path != NULL) {
            rc = curl_mime_filedata(part, p->path);
            if (rc == CURLE_READ_ERROR) {
                /* the file cannot be read: nothing is sent (curl's exit code 26) */
                t->setup_code = rc;
                return PINCURL_IO;
            }
        } else if (rc == CURLE_OK) {
            rc = curl_mime_data(part, (const char *)p->data, p->len);
        }
        if (rc == CURLE_OK && p->has_filename)
            rc = curl_mime_filename(part, p->filename[0] != '\0' ? p->filename : NULL);
        if (rc == CURLE_OK && p->content_type != NULL)
            rc = curl_mime_type(part, p->content_type);
        if (rc != CURLE_OK)
            return rc == CURLE_OUT_OF_MEMORY ? PINCURL_OUT_OF_MEMORY : PINCURL_INTERNAL;
    }
    return curl_easy_setopt(e, CURLOPT_MIMEPOST, mime) == CURLE_OK ? PINCURL_OK
                                                                   : PINCURL_INTERNAL;
}

static pincurl_status append_all(struct curl_slist **list, char *const *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct curl_slist *grown = curl_slist_append(*list, items[i]);
        if (grown == NULL)
            return PINCURL_OUT_OF_MEMORY;
        *list = grown;
    }
    return PINCURL_OK;
}

static pincurl_status set_options(pincurl_client *c, transfer *t, CURL *e,
                                  struct curl_slist **headers, struct curl_slist **resolve,
                                  struct curl_slist **connect_to)
{
    const pincurl_options *o = &c->opts;
    const pincurl_request *r = t->req;

    SET(CURLOPT_URL, r->url);
    SET(CURLOPT_NOSIGNAL, 1L);
    /* A report or an update goes over https only, every redirect hop included: a hop to
     * another scheme is refused by libcurl before it connects. */
    SET(CURLOPT_PROTOCOLS_STR, r->https_only ? "https" : "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, r->https_only ? "https" : "http,https");
    SET(CURLOPT_ERRORBUFFER, t->errbuf);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (r->connect_timeout_ms > 0)
        SET(CURLOPT_CONNECTTIMEOUT_MS, r->connect_timeout_ms);
    else if (o->connect_timeout_ms > 0)
        SET(CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    if (r->timeout_ms > 0)
        SET(CURLOPT_TIMEOUT_MS, r->timeout_ms);
    else if (o->timeout_ms > 0)
        SET(CURLOPT_TIMEOUT_MS, o->timeout_ms);
    if (r->cancel != NULL) {
        SET(CURLOPT_NOPROGRESS, 0L);
        SET(CURLOPT_XFERINFOFUNCTION, on_progress);
        SET(CURLOPT_XFERINFODATA, t);
    }
    if (o->user_agent != NULL)
        SET(CURLOPT_USERAGENT, o->user_agent);
    /* The whole route, so that the environment cannot change it (route.c): the proxy in
     * pincurl's canonical spelling with its type, or none, and no exceptions. */
    if (c->route.url != NULL) {
        SET(CURLOPT_PROXY, c->route.url);
        SET(CURLOPT_PROXYTYPE, c->route.curl_type);
    } else {
        SET(CURLOPT_PROXY, ""); /* no proxy from the environment either */
    }
    SET(CURLOPT_NOPROXY, "");
    if (o->ca_file != NULL) {
        SET(CURLOPT_CAINFO, o->ca_file);
        SET(CURLOPT_PROXY_CAINFO, o->ca_file); /* an https:// proxy is validated alike */
    }
    if (o->ca_path != NULL) {
        SET(CURLOPT_CAPATH, o->ca_path);
        SET(CURLOPT_PROXY_CAPATH, o->ca_path);
    }
    if (o->pinned_public_key != NULL)
        SET(CURLOPT_PINNEDPUBLICKEY, o->pinned_public_key);
    if (o->follow_redirects) {
        SET(CURLOPT_FOLLOWLOCATION, 1L);
        SET(CURLOPT_MAXREDIRS, o->max_redirects);
    }
    if (append_all(resolve, o->resolve, o->resolve_count) != PINCURL_OK)
        return PINCURL_OUT_OF_MEMORY;
    if (*resolve != NULL)
        SET(CURLOPT_RESOLVE, *resolve);
    /* Where to connect: the pin decision reads the URL's host, never these */
    if (append_all(connect_to, o->connect_to, o->connect_to_count) != PINCURL_OK)
        return PINCURL_OUT_OF_MEMORY;
    if (*connect_to != NULL)
        SET(CURLOPT_CONNECT_TO, *connect_to);
    if (o->ip_version == PINCURL_IP_V4)
        SET(CURLOPT_IPRESOLVE, (long)CURL_IPRESOLVE_V4);
    else if (o->ip_version == PINCURL_IP_V6)
        SET(CURLOPT_IPRESOLVE, (long)CURL_IPRESOLVE_V6);
    switch (o->http_version) {
    case PINCURL_HTTP_VERSION_1_0: SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_0); break;
    case PINCURL_HTTP_VERSION_1_1: SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1); break;
    case PINCURL_HTTP_VERSION_2: SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_0); break;
    default: break;
    }
    if (o->tls_min_version == PINCURL_TLS_VERSION_1_2)
        SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    else if (o->tls_min_version == PINCURL_TLS_VERSION_1_3)
        SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
    if (pc_cookies_attach(c, e) != PINCURL_OK)
        return PINCURL_INTERNAL;
    if (r->cookie != NULL)
        SET(CURLOPT_COOKIE, r->cookie);
    if (r->user != NULL) {
        SET(CURLOPT_USERNAME, r->user);
        SET(CURLOPT_PASSWORD, r->password);
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    }
    if (r->referer != NULL)
        SET(CURLOPT_REFERER, r->referer);
    if (r->auto_referer)
        SET(CURLOPT_AUTOREFERER, 1L);
    if (r->accept_encoding != NULL)
        SET(CURLOPT_ACCEPT_ENCODING, r->accept_encoding);
    for (size_t i = 0; i < r->header_count; i++) {
        struct curl_slist *n = curl_slist_append(*headers, r->headers[i]);
        if (n == NULL)
            return PINCURL_OUT_OF_MEMORY;
        *headers = n;
    }
    if (*headers != NULL)
        SET(CURLOPT_HTTPHEADER, *headers);

    /* Method and body */
    if (r->form_count > 0) {
        pincurl_status st = set_form(t, e);
        if (st != PINCURL_OK)
            return st;
        if (strcmp(r->method, "POST") != 0)
            SET(CURLOPT_CUSTOMREQUEST, r->method);
    } else if (r->upload) {
        SET(CURLOPT_UPLOAD, 1L);
        SET(CURLOPT_READFUNCTION, on_read);
        SET(CURLOPT_READDATA, t);
        SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->read_length);
        if (strcmp(r->method, "PUT") != 0)
            SET(CURLOPT_CUSTOMREQUEST, r->method);
    } else if (strcmp(r->method, "HEAD") == 0 && !r->has_body) {
        SET(CURLOPT_NOBODY, 1L);
    } else if (r->has_body) {
        SET(CURLOPT_POST, 1L);
        if (r->read_cb != NULL) {
            SET(CURLOPT_READFUNCTION, on_read);
            SET(CURLOPT_READDATA, t);
            SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->read_length);
        } else {
            SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
            SET(CURLOPT_POSTFIELDS, r->body != NULL ? (const char *)r->body : "");
        }
        if (strcmp(r->method, "POST") != 0)
            SET(CURLOPT_CUSTOMREQUEST, r->method);
    } else if (strcmp(r->method, "GET") != 0) {
        SET(CURLOPT_CUSTOMREQUEST, r->method);
    }

    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, t);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, t);
    if (!(c->backend->caps & PC_TLS_CAP_PATH))
        return pc_leaf_install(&t->pin, r->url);
    return pc_pin_install(&t->pin, 1);
}

#undef SET

/* The final status of a transfer and its detail (malloc'd or NULL). */
static pincurl_status outcome(transfer *t, CURLcode code, char **detail)
{
    pincurl_status st;
    const pc_tls_conn *conn = &t->pin.conn;

    *detail = NULL;
    if (code == CURLE_OK)
        return PINCURL_OK;
    if (t->too_large)
        st = PINCURL_RESPONSE_TOO_LARGE;
    else if (t->app_aborted)
        st = PINCURL_ABORTED_BY_CALLBACK;
    else if (t->io_failed)
        st = PINCURL_IO;
    else if (t->oom)
        st = PINCURL_OUT_OF_MEMORY;
    else
        st = pc_pin_map(&t->pin, code);

    if (t->pin.detail != NULL && (st == t->pin.refusal || st == conn->refusal)) {
        *detail = t->pin.detail;
        t->pin.detail = NULL;
        return st;
    }
    if ((st == PINCURL_CERT_INVALID || st == PINCURL_HOST_MISMATCH) && conn->cert_error != 0) {
        char reason[200];
        snprintf(reason, sizeof(reason), "%s error %d: %s", t->pin.client->backend->name,
                 conn->cert_error, t->pin.client->backend->error_text(conn->cert_error));
        *detail = pc_failure_line(conn->host, conn->port, st, reason);
        return st;
    }
    {
        char scheme[16], host[PINCURL_HOST_MAX + 1];
        unsigned port = 0;
        char *url = NULL;
        const char *reason = t->errbuf[0] != '\0' ? t->errbuf : curl_easy_strerror(code);
        if (curl_easy_getinfo(t->pin.easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK ||
            url == NULL || pc_url_target(url, scheme, host, &port) != PINCURL_OK)
            (void)pc_url_target(t->req->url, scheme, host, &port);
        *detail = pc_failure_line(host, port, st, reason);
    }
    return st;
}

static pincurl_status finish(pincurl_response *resp, pincurl_status st, char *detail,
                             pincurl_response **out)
{
    if (resp != NULL) {
        resp->status = st;
        if (detail != NULL) {
            free(resp->detail);
            resp->detail = detail;
            detail = NULL;
        }
    }
    free(detail);
    if (out != NULL)
        *out = resp;
    else
        pincurl_response_free(resp);
    return st;
}

/* Frees what one attempt of a transfer holds besides the handle. */
static void transfer_release(transfer *t, struct curl_slist **headers,
                             struct curl_slist **resolve, struct curl_slist **connect_to)
{
    pc_pin_state_cleanup(&t->pin);
    curl_slist_free_all(*headers);
    curl_slist_free_all(*resolve);
    curl_slist_free_all(*connect_to);
    *headers = *resolve = *connect_to = NULL;
    curl_mime_free(t->mime); /* the handle was reset or cleaned up first */
    t->mime = NULL;
}

pincurl_status pincurl_client_perform(pincurl_client *c, const pincurl_request *r,
                                      pincurl_response **out)
{
    pincurl_response *resp = pc_response_new();
    transfer t;
    CURL *e;
    CURLcode code;
    pincurl_status st;
    struct curl_slist *headers = NULL, *resolve = NULL, *connect_to = NULL;
    char scheme[16], host[PINCURL_HOST_MAX + 1];
    unsigned port;
    char *detail = NULL;
    long http_code = 0;
    char *url = NULL;
    uint64_t taken_gen = 0;
    int attempt = 0;

    if (out != NULL)
        *out = NULL;
    if (c == NULL || r == NULL)
        return finish(resp, PINCURL_INVALID_ARGUMENT, NULL, out);
    if (resp == NULL)
        return PINCURL_OUT_OF_MEMORY;

    /* The URL is checked before anything connects: a pinned host never sees cleartext. */
    st = pc_url_target(r->url, scheme, host, &port);
    if (st == PINCURL_OK && strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
        st = PINCURL_BAD_URL;
    if (st != PINCURL_OK) {
        if (st != PINCURL_OUT_OF_MEMORY)
            st = PINCURL_BAD_URL;
        return finish(resp, st, pc_failure_line(host, port, st, r->url), out);
    }
    (void)pc_response_set_url(resp, r->url);

again:
    memset(&t, 0, sizeof(t));
    t.req = r;
    t.resp = resp;
    t.max_body = c->opts.max_body_bytes;
    /* The generation first, then a handle whose connections belong to it (or, on the
     * second attempt, a new handle with no connection or session at all). */
    st = pc_pin_state_init(&t.pin, c, NULL, &c->route);
    taken_gen = t.pin.generation;
    e = st != PINCURL_OK ? NULL : attempt == 0 ? pool_take(c, taken_gen) : curl_easy_init();
    if (e == NULL) {
        pc_pin_state_cleanup(&t.pin);
        return finish(resp, st == PINCURL_OK ? PINCURL_OUT_OF_MEMORY : st, NULL, out);
    }
    t.pin.easy = e;
    t.pin.known_url = r->url; /* parsed above: scheme, host, port */
    memcpy(t.pin.known_scheme, scheme, sizeof(t.pin.known_scheme));
    memcpy(t.pin.known_host, host, sizeof(t.pin.known_host));
    t.pin.known_port = port;
    if (st == PINCURL_OK && strcmp(scheme, "http") == 0 && pc_host_pinned(t.pin.policy, host)) {
        st = PINCURL_CLEARTEXT_PINNED;
        detail = pc_failure_line(host, port, st, "a pinned host is only contacted over https");
    }
    if (st == PINCURL_OK)
        st = set_options(c, &t, e, &headers, &resolve, &connect_to);
    if (st != PINCURL_OK) {
        if (t.setup_code != CURLE_OK)
            (void)pc_response_fill_info(resp, e, t.setup_code, NULL);
        pool_put(c, e, taken_gen, t.pin.retire);
        transfer_release(&t, &headers, &resolve, &connect_to);
        if (detail == NULL && t.setup_code != CURLE_OK)
            detail = pc_failure_line(host, port, st, curl_easy_strerror(t.setup_code));
        return finish(resp, st, detail, out);
    }

    code = curl_easy_perform(e);

    if (code == CURLE_OK && r->output_file != NULL && t.file == NULL) {
        /* an empty body still produces the (empty) file */
        t.file = fopen(r->output_file, "wb");
        if (t.file == NULL)
            t.io_failed = 1;
    }
    if (t.file != NULL) {
        if (fclose(t.file) != 0)
            t.io_failed = 1;
        t.file = NULL;
    }
    st = outcome(&t, code, &detail);
    if (st == PINCURL_PIN_CHECK_FAILED && t.pin.retry_fresh && t.pin.passed == 0 &&
        attempt == 0) {
        /* A resumed session whose validated path this client no longer knows was refused
         * before any request byte was sent: make the request once more on a new
         * connection with a full handshake, decided in the handshake. */
        attempt++;
        free(detail);
        detail = NULL;
        curl_easy_cleanup(e);
        transfer_release(&t, &headers, &resolve, &connect_to);
        goto again;
    }
    if (st == PINCURL_OK && t.io_failed)
        st = PINCURL_IO;
    if (curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &http_code) == CURLE_OK)
        resp->code = http_code;
    if (curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url != NULL)
        (void)pc_response_set_url(resp, url);
    if (pc_response_fill_info(resp, e, code, t.errbuf) != 0 && st == PINCURL_OK)
        st = PINCURL_OUT_OF_MEMORY;
    if (t.pin.have_verdict) {
        resp->have_verdict = 1;
        resp->verdict = t.pin.verdict;
        resp->policy = pincurl_policy_ref(t.pin.verdict_policy);
    }
    if (st != PINCURL_OK) {
        /* a failed transfer keeps no partial body */
        resp->body_len = 0;
    }

    /* A failed transfer may leave a TLS session libcurl should not offer again (wolfSSL
     * 5.5 resumed sessions of aborted transfers with a bad PSK binder): such a handle is
     * not kept. */
    pool_put(c, e, taken_gen, t.pin.retire || st != PINCURL_OK);
    transfer_release(&t, &headers, &resolve, &connect_to);
    return finish(resp, st, detail, out);
}
