/*
 * The client: a policy reference, options, a pool of idle handles, and the transfer of
 * one request (shared by blocking calls and calls on a multi).
 *
 * libcurl is initialised once per process, on the first pincurl_client_new(), through
 * pthread_once(): curl_global_init() is not thread-safe by itself, and pthread_once makes
 * concurrent first calls safe. pincurl never calls curl_global_cleanup(); an application
 * that does must do so after freeing every client.
 *
 * Blocking calls (pincurl_client_perform, pincurl_call_execute) may run on any number of
 * threads at once: each takes a slot from the pool (a multi handle with the one easy handle
 * it runs, or a new pair), sets every option, drives the multi until the transfer ended or
 * the call was cancelled, and puts the slot back. An idle slot keeps its kept-alive
 * connections and TLS sessions, so the next request to the same host reuses one;
 * CURLOPT_PREREQFUNCTION re-checks it before every request. The pair is driven with
 * curl_multi_poll() rather than curl_easy_perform() so that pincurl_call_cancel() can wake
 * it (curl_multi_wakeup) from another thread.
 *
 * The client is reference-counted: the application's handle, every call and every multi
 * hold one. pincurl_client_free() cancels what runs, waits for blocking calls and drives in
 * progress on other threads, closes the reports and drops the application's reference.
 */
#include "http/call.h"

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
    pincurl_status st;

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
    /* Each failure unwinds what was set up before it, in reverse order. */
    st = PINCURL_OUT_OF_MEMORY;
    if (c->cache == NULL || c->anchors == NULL || c->monitor == NULL)
        goto fail_parts;
    st = PINCURL_INTERNAL;
    if (pthread_mutex_init(&c->lock, NULL) != 0)
        goto fail_parts;
    if (pthread_mutex_init(&c->calls_lock, NULL) != 0)
        goto fail_lock;
    if (pthread_cond_init(&c->calls_cond, NULL) != 0)
        goto fail_calls_lock;
    atomic_init(&c->refs, 1);
    c->backend = backend;
    st = pc_route_parse(c->opts.proxy, &c->route, NULL, 0);
    if (st != PINCURL_OK)
        goto fail_calls_cond;
    c->id = atomic_fetch_add(&client_ids, 1);
    c->policy = pincurl_policy_ref(policy);
    c->generation = 1;
    st = pc_cookies_open(c);
    if (st == PINCURL_OK)
        st = pc_reports_open(c);
    if (st != PINCURL_OK) {
        pincurl_client_free(c);
        return st;
    }
    *out = c;
    return PINCURL_OK;

fail_calls_cond:
    pthread_cond_destroy(&c->calls_cond);
fail_calls_lock:
    pthread_mutex_destroy(&c->calls_lock);
fail_lock:
    pthread_mutex_destroy(&c->lock);
fail_parts:
    pc_path_cache_free(c->cache);
    pc_anchor_registry_free(c->anchors);
    pc_monitor_free(c->monitor);
    pc_options_clear(&c->opts);
    pc_free(&alloc, c);
    return st;
}

static void slot_free(struct pc_slot *slot)
{
    if (slot->easy != NULL)
        curl_easy_cleanup(slot->easy);
    if (slot->multi != NULL)
        curl_multi_cleanup(slot->multi);
    slot->easy = NULL;
    slot->multi = NULL;
}

/* What is left once nothing refers to the client any more. */
static void client_destroy(pincurl_client *c)
{
    pc_reports_close(c); /* closed by pincurl_client_free already, unless it failed early */
    for (size_t i = 0; i < c->pool_len; i++)
        slot_free(&c->pool[i]);
    pc_cookies_close(c); /* after every handle that used the store */
    pthread_cond_destroy(&c->calls_cond);
    pthread_mutex_destroy(&c->calls_lock);
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

void pc_client_ref(pincurl_client *c)
{
    atomic_fetch_add(&c->refs, 1);
}

void pc_client_unref(pincurl_client *c)
{
    if (c != NULL && atomic_fetch_sub(&c->refs, 1) == 1)
        client_destroy(c);
}

void pincurl_client_free(pincurl_client *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->calls_lock);
    c->closing = 1;
    /* Blocking calls on other threads: cancelled, woken, and waited for (they end within
     * milliseconds). */
    for (pincurl_call *call = c->executing; call != NULL; call = call->exec_next) {
        atomic_store(&call->cancelled, 1);
        if (call->wake != NULL)
            curl_multi_wakeup(call->wake);
    }
    while (c->executing_count > 0)
        pthread_cond_wait(&c->calls_cond, &c->calls_lock);
    /* Calls on multis: cancelled; they complete when their multi is next driven, before
     * libcurl runs again. A drive in progress on another thread is waited for. */
    pc_multis_cancel_all(c);
    pc_multis_wait_idle(c);
    pthread_mutex_unlock(&c->calls_lock);
    /* The report sender stops now: no event after this returns. */
    pc_reports_close(c);
    pc_client_unref(c);
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
    struct pc_slot retired[PC_POOL_MAX];
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
        slot_free(&retired[i]);
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

/* An idle slot whose connections belong to generation, or a new one (fresh: always a new
 * one, with no connection or session at all). 0 on success, -1 on OOM. */
static int pool_take(pincurl_client *c, uint64_t generation, int fresh, struct pc_slot *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&c->lock);
    while (!fresh && c->pool_len > 0 && out->multi == NULL) {
        struct pc_slot slot = c->pool[--c->pool_len];
        if (slot.generation == generation) {
            *out = slot;
        } else {
            /* an older generation's connections are never reused */
            pthread_mutex_unlock(&c->lock);
            slot_free(&slot);
            pthread_mutex_lock(&c->lock);
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (out->multi != NULL)
        return 0;
    out->generation = generation;
    out->multi = curl_multi_init();
    out->easy = out->multi != NULL ? curl_easy_init() : NULL;
    if (out->easy == NULL) {
        slot_free(out);
        return -1;
    }
    return 0;
}

/* Returns a slot taken for generation (its easy handle out of its multi). A slot whose
 * connection or session was refused (retire) is freed with its caches, as is one of an
 * older generation. */
static void pool_put(pincurl_client *c, struct pc_slot *slot, int retire)
{
    pthread_mutex_lock(&c->lock);
    if (!retire && c->pool_len < PC_POOL_MAX && slot->generation == c->generation) {
        c->pool[c->pool_len++] = *slot;
        slot->multi = NULL;
        slot->easy = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    slot_free(slot);
}

/* ------------------------------------------------------------------------------------ */
/* One transfer                                                                          */

/* 1 when the call was cancelled: every libcurl callback of the transfer then stops it. */
static int stopped(pc_xfer *t)
{
    if (atomic_load(t->cancelled) != 0 || (t->req->cancel != NULL && atomic_load(t->req->cancel) != 0)) {
        t->cancel_seen = 1;
        return 1;
    }
    return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    pc_xfer *t = userp;
    size_t len = size * nmemb;
    const pincurl_request *r = t->req;

    if (stopped(t))
        return 0;
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
    pc_xfer *t = userp;
    size_t len = size * nmemb;
    if (stopped(t))
        return 0;
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
    pc_xfer *t = userp;
    size_t n;
    if (stopped(t))
        return CURL_READFUNC_ABORT; /* not a byte more of the body */
    n = t->req->read_cb(buf, size * nmemb, t->req->read_user);
    if (stopped(t))
        return CURL_READFUNC_ABORT; /* cancelled while the callback ran: not sent */
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
    pc_xfer *t = userp;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    /* libcurl calls this between the steps of a transfer, also just before the request
     * check and the request itself: a cancelled call goes no further */
    return stopped(t);
}

#define SET(opt, val)                                                                     \
    do {                                                                                  \
        if (curl_easy_setopt(e, opt, val) != CURLE_OK)                                   \
            return PINCURL_INTERNAL;                                                      \
    } while (0)

/* The request's form as a libcurl MIME structure (t->mime). */
static pincurl_status set_form(pc_xfer *t, CURL *e)
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

/* What a handle can keep between calls: the client's options, set for one kind of plain
 * request (GET, no body, no credentials, cookie, referer or encoding of its own, the first
 * attempt) with the same protocols and multiplexing; 0 for any other request, whose handle
 * is reset after it. */
static unsigned plain_kind(const pincurl_client *c, const pincurl_request *r, int multiplex,
                           int sessions)
{
    const pincurl_options *o = &c->opts;
    if (!sessions || r->form_count > 0 || r->upload || r->has_body || r->cookie != NULL ||
        r->user != NULL || r->referer != NULL || r->auto_referer ||
        r->accept_encoding != NULL || strcmp(r->method, "GET") != 0 ||
        c->cookie_share != NULL || o->resolve_count > 0 || o->connect_to_count > 0 ||
        !(c->backend->caps & PC_TLS_CAP_PATH))
        return 0;
    return 1u | (r->https_only ? 2u : 0u) | (multiplex ? 4u : 0u);
}

/* The options of this call alone (set on every call, a kept handle included): the URL, the
 * timeouts, the request's headers and every pointer into the call. */
static pincurl_status set_call_options(pincurl_client *c, pc_xfer *t, CURL *e, int sessions)
{
    const pincurl_options *o = &c->opts;
    const pincurl_request *r = t->req;
    struct curl_slist **headers = &t->headers;

    SET(CURLOPT_URL, r->url);
    SET(CURLOPT_ERRORBUFFER, t->errbuf);
    SET(CURLOPT_CONNECTTIMEOUT_MS,
        r->connect_timeout_ms > 0 ? r->connect_timeout_ms : o->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, r->timeout_ms > 0 ? r->timeout_ms : o->timeout_ms);
    SET(CURLOPT_XFERINFODATA, t);
    for (size_t i = 0; i < r->header_count; i++) {
        struct curl_slist *n = curl_slist_append(*headers, r->headers[i]);
        if (n == NULL)
            return PINCURL_OUT_OF_MEMORY;
        *headers = n;
    }
    SET(CURLOPT_HTTPHEADER, *headers);
    SET(CURLOPT_WRITEDATA, t);
    SET(CURLOPT_HEADERDATA, t);
    if (!(c->backend->caps & PC_TLS_CAP_PATH))
        return pc_leaf_install(&t->pin, r->url);
    return pc_pin_install(&t->pin, sessions);
}

/* Every option of the call, on a reset or new handle. */
static pincurl_status set_options(pincurl_client *c, pc_xfer *t, CURL *e, int multiplex,
                                  int sessions)
{
    struct curl_slist **resolve = &t->resolve, **connect_to = &t->connect_to;
    const pincurl_options *o = &c->opts;
    const pincurl_request *r = t->req;

    SET(CURLOPT_NOSIGNAL, 1L);
    /* A report or an update goes over https only, every redirect hop included: a hop to
     * another scheme is refused by libcurl before it connects. */
    SET(CURLOPT_PROTOCOLS_STR, r->https_only ? "https" : "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, r->https_only ? "https" : "http,https");
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    /* cancellation: checked between every step of the transfer */
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
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
    if (multiplex && o->http_version != PINCURL_HTTP_VERSION_1_0 &&
        o->http_version != PINCURL_HTTP_VERSION_1_1)
        SET(CURLOPT_PIPEWAIT, 1L); /* wait for an HTTP/2 connection being set up */
    if (!sessions)
        SET(CURLOPT_FRESH_CONNECT, 1L); /* a retry: a new connection, a full handshake */
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
    SET(CURLOPT_HEADERFUNCTION, on_header);
    return set_call_options(c, t, e, sessions);
}

#undef SET

/* The final status of a transfer and its detail (malloc'd or NULL). */
static pincurl_status outcome(pc_xfer *t, CURLcode code, char **detail)
{
    pincurl_status st;
    const pc_tls_conn *conn = &t->pin.conn;

    *detail = NULL;
    if (code == CURLE_OK)
        return PINCURL_OK;
    if (t->cancel_seen)
        return PINCURL_CANCELLED;
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

pincurl_status pc_xfer_begin(pincurl_call *call, CURL *e, unsigned held, int multiplex,
                             char **detail)
{
    unsigned kind;
    pincurl_client *c = call->client;
    pc_xfer *t = &call->x;
    const pincurl_request *r = call->req;
    pincurl_status st;

    *detail = NULL;
    /* The pin state first (zeroed by its init, also when that fails: pc_xfer_release may
     * run on it), then the rest of the attempt's state. The generation first, then a
     * handle whose connections belong to it (the caller's choice). */
    st = pc_pin_state_init(&t->pin, c, e, &c->route);
    t->req = r;
    t->resp = call->resp;
    t->cancelled = &call->cancelled;
    t->max_body = c->opts.max_body_bytes;
    t->file = NULL;
    t->too_large = t->app_aborted = t->io_failed = t->oom = t->cancel_seen = 0;
    t->setup_code = CURLE_OK;
    t->mime = NULL;
    t->headers = t->resolve = t->connect_to = NULL;
    t->configured = held;
    t->errbuf[0] = '\0';
    call->easy = e;
    if (st != PINCURL_OK)
        return st;
    if (call->attempt == 0) {
        /* The URL is checked before anything connects (pincurl_request_new parsed it): a
         * pinned host never sees cleartext. */
        st = r->url_status;
        memcpy(call->scheme, r->url_scheme, sizeof(call->scheme));
        memcpy(call->host, r->url_host, sizeof(call->host));
        call->port = r->url_port;
        if (st == PINCURL_OK && strcmp(call->scheme, "http") != 0 &&
            strcmp(call->scheme, "https") != 0)
            st = PINCURL_BAD_URL;
        if (st != PINCURL_OK) {
            if (st != PINCURL_OUT_OF_MEMORY)
                st = PINCURL_BAD_URL;
            *detail = pc_failure_line(call->host, call->port, st, r->url);
            return st;
        }
        (void)pc_response_set_url(call->resp, r->url);
    }
    t->pin.known_url = r->url; /* parsed above: scheme, host, port */
    memcpy(t->pin.known_scheme, call->scheme, sizeof(t->pin.known_scheme));
    memcpy(t->pin.known_host, call->host, sizeof(t->pin.known_host));
    t->pin.known_port = call->port;
    if (strcmp(call->scheme, "http") == 0 && pc_host_pinned(t->pin.policy, call->host)) {
        st = PINCURL_CLEARTEXT_PINNED;
        *detail = pc_failure_line(call->host, call->port, st,
                                  "a pinned host is only contacted over https");
        return st;
    }
    /* A handle kept from a plain request of the same kind needs only this call's options;
     * any other is reset first (nothing of an earlier request may carry over). */
    kind = plain_kind(c, r, multiplex, call->attempt == 0);
    if ((kind == 0 || held != kind) && held != 0) {
        t->configured = 0;
        curl_easy_reset(e);
    }
    if (curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)call) != CURLE_OK)
        return PINCURL_INTERNAL;
    if (kind != 0 && held == kind)
        st = set_call_options(c, t, e, 1);
    else
        st = set_options(c, t, e, multiplex, call->attempt == 0);
    t->configured = st == PINCURL_OK ? kind : 0;
    if (st != PINCURL_OK) {
        if (t->setup_code != CURLE_OK) {
            (void)pc_response_fill_info(call->resp, e, t->setup_code, NULL);
            *detail = pc_failure_line(call->host, call->port, st,
                                      curl_easy_strerror(t->setup_code));
        }
    }
    return st;
}

pincurl_status pc_xfer_end(pincurl_call *call, CURLcode code, int *retry, int *retire,
                           char **detail)
{
    pc_xfer *t = &call->x;
    pincurl_response *resp = call->resp;
    CURL *e = call->easy;
    pincurl_status st;
    long http_code = 0;
    char *url = NULL;

    *retry = 0;
    *detail = NULL;
    if (code == CURLE_OK && t->req->output_file != NULL && t->file == NULL) {
        /* an empty body still produces the (empty) file */
        t->file = fopen(t->req->output_file, "wb");
        if (t->file == NULL)
            t->io_failed = 1;
    }
    if (t->file != NULL) {
        if (fclose(t->file) != 0)
            t->io_failed = 1;
        t->file = NULL;
    }
    st = outcome(t, code, detail);
    if (st == PINCURL_PIN_CHECK_FAILED && t->pin.retry_fresh && t->pin.passed == 0 &&
        call->attempt == 0 && !pc_call_cancelled(call)) {
        /* A resumed session whose validated path this client no longer knows was refused
         * before any request byte was sent: the caller makes the request once more on a
         * new connection with a full handshake, decided in the handshake. */
        free(*detail);
        *detail = NULL;
        *retry = 1;
        *retire = 1;
        return st;
    }
    if (st == PINCURL_OK && t->io_failed)
        st = PINCURL_IO;
    if (curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &http_code) == CURLE_OK)
        resp->code = http_code;
    if (curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url != NULL)
        (void)pc_response_set_url(resp, url);
    if (pc_response_fill_info(resp, e, code, t->errbuf) != 0 && st == PINCURL_OK)
        st = PINCURL_OUT_OF_MEMORY;
    if (t->pin.have_verdict) {
        resp->have_verdict = 1;
        resp->verdict = t->pin.verdict;
        pincurl_policy_unref(resp->policy);
        resp->policy = pincurl_policy_ref(t->pin.verdict_policy);
    }
    if (st != PINCURL_OK) {
        /* a failed transfer keeps no partial body */
        resp->body_len = 0;
    }
    if (st == PINCURL_CANCELLED && *detail == NULL)
        *detail = pc_call_cancel_detail(call);
    /* A failed transfer may leave a TLS session libcurl should not offer again (wolfSSL
     * 5.5 resumed sessions of aborted transfers with a bad PSK binder): its caches are not
     * kept. */
    *retire = t->pin.retire || st != PINCURL_OK;
    return st;
}

unsigned pc_xfer_park(pincurl_call *call, CURL *e)
{
    pc_xfer *t = &call->x;

    if (t->configured != 0)
        pc_pin_uninstall(e);
    if (t->configured == 0 || curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)NULL) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, (char *)NULL) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_XFERINFODATA, (void *)NULL) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)NULL) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)NULL) != CURLE_OK) {
        /* No pointer into the call may survive in the handle. */
        pc_cookies_detach(call->client, e);
        curl_easy_reset(e);
        t->configured = 0;
    }
    return t->configured;
}

void pc_xfer_release(pincurl_call *call)
{
    pc_xfer *t = &call->x;

    if (t->file != NULL) {
        fclose(t->file);
        t->file = NULL;
    }
    pc_pin_state_cleanup(&t->pin);
    curl_slist_free_all(t->headers);
    curl_slist_free_all(t->resolve);
    curl_slist_free_all(t->connect_to);
    t->headers = t->resolve = t->connect_to = NULL;
    curl_mime_free(t->mime); /* the handle was reset or cleaned up first */
    t->mime = NULL;
    call->easy = NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Blocking calls                                                                        */

/* Drives slot's multi until its transfer ended or the call was cancelled; the CURLcode. */
static CURLcode drive_blocking(pincurl_call *call, struct pc_slot *slot)
{
    CURLM *m = slot->multi;
    CURLcode code = CURLE_ABORTED_BY_CALLBACK;
    int done = 0;

    if (curl_multi_add_handle(m, slot->easy) != CURLM_OK)
        return CURLE_OUT_OF_MEMORY;
    for (;;) {
        int running = 0, msgs = 0;
        CURLMsg *msg;
        if (pc_call_cancelled(call)) {
            call->x.cancel_seen = 1;
            break;
        }
        if (curl_multi_perform(m, &running) != CURLM_OK) {
            code = CURLE_OUT_OF_MEMORY;
            break;
        }
        while ((msg = curl_multi_info_read(m, &msgs)) != NULL) {
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == slot->easy) {
                code = msg->data.result;
                done = 1;
            }
        }
        if (done || running == 0)
            break;
        /* woken at once by pincurl_call_cancel (curl_multi_wakeup) */
        if (curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK) {
            code = CURLE_OUT_OF_MEMORY;
            break;
        }
    }
    (void)curl_multi_remove_handle(m, slot->easy);
    if (!done && call->x.cancel_seen)
        code = CURLE_ABORTED_BY_CALLBACK;
    return code;
}

/* Registers call as a blocking call running on this thread, waking through m. 0 on
 * success, -1 when the client is closing (the call is then cancelled). */
static int exec_register(pincurl_call *call, CURLM *m)
{
    pincurl_client *c = call->client;
    int ok;
    pthread_mutex_lock(&c->calls_lock);
    ok = !c->closing;
    if (ok) {
        call->wake = m;
        call->exec_prev = NULL;
        call->exec_next = c->executing;
        if (c->executing != NULL)
            c->executing->exec_prev = call;
        c->executing = call;
        c->executing_count++;
    } else {
        atomic_store(&call->cancelled, 1);
    }
    pthread_mutex_unlock(&c->calls_lock);
    return ok ? 0 : -1;
}

static void exec_unregister(pincurl_call *call)
{
    pincurl_client *c = call->client;
    pthread_mutex_lock(&c->calls_lock);
    call->wake = NULL;
    if (call->exec_prev != NULL)
        call->exec_prev->exec_next = call->exec_next;
    else
        c->executing = call->exec_next;
    if (call->exec_next != NULL)
        call->exec_next->exec_prev = call->exec_prev;
    call->exec_prev = call->exec_next = NULL;
    c->executing_count--;
    pthread_cond_broadcast(&c->calls_cond);
    pthread_mutex_unlock(&c->calls_lock);
}

pincurl_status pc_call_run_blocking(pincurl_call *call, char **detail)
{
    pincurl_client *c = call->client;
    pincurl_status st;
    struct pc_slot slot;
    uint64_t generation;
    int retry = 0, retire = 0;

    *detail = NULL;
again:
    if (pc_call_cancelled(call)) {
        *detail = pc_call_cancel_detail(call);
        return PINCURL_CANCELLED;
    }
    /* The generation first, then a slot whose connections belong to it (or, on the second
     * attempt, a new slot with no connection or session at all). */
    generation = pincurl_client_generation(c);
    if (pool_take(c, generation, call->attempt > 0, &slot) != 0)
        return PINCURL_OUT_OF_MEMORY;
    if (exec_register(call, slot.multi) != 0) {
        pool_put(c, &slot, 0); /* nothing of the call in the handle yet */
        *detail = pc_call_cancel_detail(call);
        return PINCURL_CANCELLED;
    }
    st = pc_xfer_begin(call, slot.easy, slot.configured, 0, detail);
    if (st == PINCURL_OK) {
        CURLcode code = drive_blocking(call, &slot);
        st = pc_xfer_end(call, code, &retry, &retire, detail);
    } else {
        retire = call->x.pin.retire;
    }
    exec_unregister(call);
    /* the handle is parked before what it points into is freed; the slot stays tagged with
     * the generation it was taken for (a newer one's connections are then not kept) */
    slot.configured = pc_xfer_park(call, slot.easy);
    pool_put(c, &slot, retire);
    pc_xfer_release(call);
    if (retry) {
        call->attempt++;
        goto again;
    }
    return st;
}

pincurl_status pincurl_client_perform(pincurl_client *c, const pincurl_request *r,
                                      pincurl_response **out)
{
    pincurl_call *call = NULL;
    pincurl_status st;

    if (out != NULL)
        *out = NULL;
    if (c == NULL || r == NULL) {
        if (out != NULL) {
            *out = pc_response_new();
            if (*out != NULL)
                (*out)->status = PINCURL_INVALID_ARGUMENT;
        }
        return PINCURL_INVALID_ARGUMENT;
    }
    st = pincurl_call_new(c, r, &call);
    if (st != PINCURL_OK) {
        if (out != NULL) {
            *out = pc_response_new();
            if (*out != NULL)
                (*out)->status = st;
        }
        return st;
    }
    st = pincurl_call_execute(call, out);
    pincurl_call_free(call);
    return st;
}
