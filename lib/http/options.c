/* Client options: plain values copied by pincurl_client_new. */
#include "http/http.h"

#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s)
{
    size_t n;
    char *d;
    if (s == NULL)
        return NULL;
    n = strlen(s);
    d = malloc(n + 1);
    if (d != NULL)
        memcpy(d, s, n + 1);
    return d;
}

static int has_ctl(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    }
    return 0;
}

void pc_options_defaults(pincurl_options *o)
{
    memset(o, 0, sizeof(*o));
    o->max_body_bytes = PC_DEFAULT_MAX_BODY;
    o->spool_max_reports = PC_SPOOL_MAX_REPORTS;
    o->spool_max_bytes = PC_SPOOL_MAX_BYTES;
    o->report_connect_timeout_ms = PC_REPORT_CONNECT_TIMEOUT_MS;
    o->report_timeout_ms = PC_REPORT_TIMEOUT_MS;
    o->report_first_retry_ms = PC_REPORT_FIRST_RETRY_MS;
}

pincurl_options *pincurl_options_new(void)
{
    pincurl_options *o = malloc(sizeof(*o));
    if (o != NULL)
        pc_options_defaults(o);
    return o;
}

void pc_options_clear(pincurl_options *o)
{
    if (o == NULL)
        return;
    free(o->ca_file);
    free(o->user_agent);
    free(o->proxy);
    free(o->pinned_public_key);
    for (size_t i = 0; i < o->resolve_count; i++)
        free(o->resolve[i]);
    free(o->resolve);
    free(o->ca_path);
    for (size_t i = 0; i < o->connect_to_count; i++)
        free(o->connect_to[i]);
    free(o->connect_to);
    free(o->cookie_load_file);
    free(o->cookie_save_file);
    free(o->app_bundle_id);
    free(o->app_version);
    free(o->app_vendor_id);
    free(o->app_platform);
    free(o->app_platform_version);
    free(o->spool_dir);
    pc_options_defaults(o);
}

void pincurl_options_free(pincurl_options *o)
{
    if (o == NULL)
        return;
    pc_options_clear(o);
    free(o);
}

/* A deep copy of a list of strings; 0 on success (on failure *dst holds what was copied). */
static int copy_list(char ***dst, size_t *dst_count, char *const *src, size_t count)
{
    *dst = NULL;
    *dst_count = 0;
    if (count == 0)
        return 0;
    *dst = calloc(count, sizeof(char *));
    if (*dst == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        (*dst)[i] = dup_or_null(src[i]);
        if ((*dst)[i] == NULL)
            return -1;
        *dst_count = i + 1;
    }
    return 0;
}

int pc_options_copy(pincurl_options *dst, const pincurl_options *src)
{
    *dst = *src;
    dst->ca_file = NULL;
    dst->user_agent = NULL;
    dst->proxy = NULL;
    dst->pinned_public_key = NULL;
    dst->resolve = NULL;
    dst->resolve_count = 0;
    dst->ca_path = NULL;
    dst->connect_to = NULL;
    dst->connect_to_count = 0;
    dst->cookie_load_file = dst->cookie_save_file = NULL;
    dst->app_bundle_id = dst->app_version = dst->app_vendor_id = NULL;
    dst->app_platform = dst->app_platform_version = dst->spool_dir = NULL;
#define COPY_STR(f) (src->f != NULL && (dst->f = dup_or_null(src->f)) == NULL)
    if (COPY_STR(ca_file) || COPY_STR(user_agent) || COPY_STR(proxy) ||
        COPY_STR(pinned_public_key) ||
        COPY_STR(app_bundle_id) || COPY_STR(app_version) || COPY_STR(app_vendor_id) ||
        COPY_STR(app_platform) || COPY_STR(app_platform_version) || COPY_STR(spool_dir) ||
        COPY_STR(ca_path) || COPY_STR(cookie_load_file) || COPY_STR(cookie_save_file))
        goto fail;
#undef COPY_STR
    if (copy_list(&dst->resolve, &dst->resolve_count, src->resolve, src->resolve_count) != 0 ||
        copy_list(&dst->connect_to, &dst->connect_to_count, src->connect_to,
                  src->connect_to_count) != 0)
        goto fail;
    return 0;
fail:
    pc_options_clear(dst);
    return -1;
}

/* Replaces *slot with a copy of value (NULL clears). */
static pincurl_status set_string(char **slot, const char *value)
{
    char *copy = NULL;
    if (value != NULL) {
        if (has_ctl(value))
            return PINCURL_INVALID_ARGUMENT;
        copy = dup_or_null(value);
        if (copy == NULL)
            return PINCURL_OUT_OF_MEMORY;
    }
    free(*slot);
    *slot = copy;
    return PINCURL_OK;
}

pincurl_status pincurl_options_set_ca_file(pincurl_options *o, const char *path)
{
    if (o == NULL || (path != NULL && path[0] == '\0'))
        return PINCURL_INVALID_ARGUMENT;
    return set_string(&o->ca_file, path);
}

pincurl_status pincurl_options_set_connect_timeout_ms(pincurl_options *o, long ms)
{
    if (o == NULL || ms < 0)
        return PINCURL_INVALID_ARGUMENT;
    o->connect_timeout_ms = ms;
    return PINCURL_OK;
}

pincurl_status pincurl_options_set_timeout_ms(pincurl_options *o, long ms)
{
    if (o == NULL || ms < 0)
        return PINCURL_INVALID_ARGUMENT;
    o->timeout_ms = ms;
    return PINCURL_OK;
}

pincurl_status pincurl_options_set_user_agent(pincurl_options *o, const char *ua)
{
    if (o == NULL)
        return PINCURL_INVALID_ARGUMENT;
    return set_string(&o->user_agent, ua);
}

pincurl_status pincurl_options_set_proxy(pincurl_options *o, const char *proxy)
{
    pc_route route;
    pincurl_status st;

    if (o == NULL || (proxy != NULL && proxy[0] == '\0'))
        return PINCURL_INVALID_ARGUMENT;
    /* a proxy pincurl cannot classify exactly as libcurl does is refused now (route.c) */
    if (pc_http_global_init() != 0)
        return PINCURL_INTERNAL;
    st = pc_route_parse(proxy, &route, NULL, 0);
    pc_route_clear(&route);
    if (st != PINCURL_OK)
        return st;
    return set_string(&o->proxy, proxy);
}

pincurl_status pincurl_options_add_resolve(pincurl_options *o, const char *entry)
{
    const char *c1, *c2;
    char **grown;
    char *copy;

    if (o == NULL || entry == NULL || has_ctl(entry))
        return PINCURL_INVALID_ARGUMENT;
    /* HOST:PORT:ADDRESS (the address may itself hold colons: IPv6) */
    c1 = strchr(entry, ':');
    c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
    if (c1 == NULL || c2 == NULL || c1 == entry || c2 == c1 + 1 || c2[1] == '\0' ||
        entry[0] == '-' || entry[0] == '+')
        return PINCURL_INVALID_ARGUMENT;
    for (const char *p = c1 + 1; p < c2; p++) {
        if (*p < '0' || *p > '9')
            return PINCURL_INVALID_ARGUMENT;
    }
    if (o->resolve_count >= 1024)
        return PINCURL_LIMIT_EXCEEDED;
    copy = dup_or_null(entry);
    if (copy == NULL)
        return PINCURL_OUT_OF_MEMORY;
    grown = realloc(o->resolve, (o->resolve_count + 1) * sizeof(char *));
    if (grown == NULL) {
        free(copy);
        return PINCURL_OUT_OF_MEMORY;
    }
    o->resolve = grown;
    o->resolve[o->resolve_count++] = copy;
    return PINCURL_OK;
}

pincurl_status pincurl_options_set_max_redirects(pincurl_options *o, long n)
{
    return pincurl_options_set_follow_redirects(o, n > 0, n);
}

pincurl_status pincurl_options_set_follow_redirects(pincurl_options *o, int follow, long max)
{
    if (o == NULL || (follow != 0 && follow != 1))
        return PINCURL_INVALID_ARGUMENT;
    if (!follow)
        max = 0;
    if (max < 0 || max > PC_MAX_REDIRECTS)
        return PINCURL_INVALID_ARGUMENT;
    o->follow_redirects = follow;
    o->max_redirects = max;
    return PINCURL_OK;
}

pincurl_status pincurl_options_set_ca_path(pincurl_options *o, const char *dir)
{
    if (o == NULL || (dir != NULL && dir[0] == '\0'))
        return PINCURL_INVALID_ARGUMENT;
    if (dir != NULL && !(pincurl_http_features() & PINCURL_FEATURE_CA_PATH))
        return PINCURL_UNSUPPORTED;
    return set_string(&o->ca_path, dir);
}

pincurl_status pincurl_options_add_connect_to(pincurl_options *o, const char *entry)
{
    size_t colons = 0;
    char **grown;
    char *copy;

    if (o == NULL || entry == NULL || has_ctl(entry))
        return PINCURL_INVALID_ARGUMENT;
    /* HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT; a host may be a bracketed IPv6 literal */
    for (const char *p = entry; *p != '\0'; p++) {
        if (*p == '[') {
            const char *end = strchr(p, ']');
            if (end == NULL)
                return PINCURL_INVALID_ARGUMENT;
            p = end;
        } else if (*p == ':') {
            colons++;
        }
    }
    if (colons != 3)
        return PINCURL_INVALID_ARGUMENT;
    if (o->connect_to_count >= 1024)
        return PINCURL_LIMIT_EXCEEDED;
    copy = dup_or_null(entry);
    if (copy == NULL)
        return PINCURL_OUT_OF_MEMORY;
    grown = realloc(o->connect_to, (o->connect_to_count + 1) * sizeof(char *));
    if (grown == NULL) {
        free(copy);
        return PINCURL_OUT_OF_MEMORY;
    }
    o->connect_to = grown;
    o->connect_to[o->connect_to_count++] = copy;
    return PINCURL_OK;
}

pincurl_status pincurl_options_set_ip_version(pincurl_options *o, pincurl_ip_version v)
{
    if (o == NULL || (v != PINCURL_IP_ANY && v != PINCURL_IP_V4 && v != PINCURL_IP_V6))
        return PINCURL_INVALID_ARGUMENT;
    o->ip_version = v;
    return PINCURL_OK;
}

pincurl_status pincurl_options_set_http_version(pincurl_options *o, pincurl_http_version v)
{
    if (o == NULL || (v != PINCURL_HTTP_VERSION_DEFAULT && v != PINCURL_HTTP_VERSION_1_0 &&
                      v != PINCURL_HTTP_VERSION_1_1 && v != PINCURL_HTTP_VERSION_2))
        return PINCURL_INVALID_ARGUMENT;
    if (v == PINCURL_HTTP_VERSION_2 && !(pincurl_http_features() & PINCURL_FEATURE_HTTP2))
        return PINCURL_UNSUPPORTED;
    o->http_version = v;
    return PINCURL_OK;
}

pincurl_status pincurl_options_set_tls_min_version(pincurl_options *o, pincurl_tls_version v)
{
    if (o == NULL || (v != PINCURL_TLS_VERSION_DEFAULT && v != PINCURL_TLS_VERSION_1_2 &&
                      v != PINCURL_TLS_VERSION_1_3))
        return PINCURL_INVALID_ARGUMENT;
    o->tls_min_version = v;
    return PINCURL_OK;
}

pincurl_status pincurl_options_set_cookie_engine(pincurl_options *o, int enable,
                                                 const char *load_file, const char *save_file)
{
    char *load = NULL, *save = NULL;
    pincurl_status st;

    if (o == NULL || (enable != 0 && enable != 1) ||
        (load_file != NULL && load_file[0] == '\0') ||
        (save_file != NULL && save_file[0] == '\0'))
        return PINCURL_INVALID_ARGUMENT;
    if (enable) {
        if ((st = set_string(&load, load_file)) != PINCURL_OK)
            return st;
        if ((st = set_string(&save, save_file)) != PINCURL_OK) {
            free(load);
            return st;
        }
    }
    free(o->cookie_load_file);
    free(o->cookie_save_file);
    o->cookie_load_file = load;
    o->cookie_save_file = save;
    o->cookies = enable;
    return PINCURL_OK;
}

pincurl_status pincurl_options_set_max_body_bytes(pincurl_options *o, size_t n)
{
    if (o == NULL)
        return PINCURL_INVALID_ARGUMENT;
    o->max_body_bytes = n;
    return PINCURL_OK;
}

pincurl_status pincurl_options_set_event_callback(pincurl_options *o, pincurl_event_cb cb,
                                                  void *user)
{
    if (o == NULL)
        return PINCURL_INVALID_ARGUMENT;
    o->event_cb = cb;
    o->event_user = user;
    return PINCURL_OK;
}

pincurl_status pincurl_options_set_app_info(pincurl_options *o, const char *bundle_id,
                                            const char *version, const char *vendor_id,
                                            const char *platform, const char *platform_version)
{
    pincurl_options tmp;
    pincurl_status st;

    if (o == NULL)
        return PINCURL_INVALID_ARGUMENT;
    /* all or nothing: build the five copies first */
    memset(&tmp, 0, sizeof(tmp));
    if ((st = set_string(&tmp.app_bundle_id, bundle_id)) != PINCURL_OK ||
        (st = set_string(&tmp.app_version, version)) != PINCURL_OK ||
        (st = set_string(&tmp.app_vendor_id, vendor_id)) != PINCURL_OK ||
        (st = set_string(&tmp.app_platform, platform)) != PINCURL_OK ||
        (st = set_string(&tmp.app_platform_version, platform_version)) != PINCURL_OK) {
        free(tmp.app_bundle_id);
        free(tmp.app_version);
        free(tmp.app_vendor_id);
        free(tmp.app_platform);
        free(tmp.app_platform_version);
        return st;
    }
    free(o->app_bundle_id);
    free(o->app_version);
    free(o->app_vendor_id);
    free(o->app_platform);
    free(o->app_platform_version);
    o->app_bundle_id = tmp.app_bundle_id;
    o->app_version = tmp.app_version;
    o->app_vendor_id = tmp.app_vendor_id;
    o->app_platform = tmp.app_platform;
    o->app_platform_version = tmp.app_platform_version;
    return PINCURL_OK;
}

pincurl_status pincurl_options_set_spool_dir(pincurl_options *o, const char *dir)
{
    if (o == NULL || (dir != NULL && dir[0] == '\0'))
        return PINCURL_INVALID_ARGUMENT;
    return set_string(&o->spool_dir, dir);
}

pincurl_status pincurl_options_set_spool_limits(pincurl_options *o, size_t max_reports,
                                                size_t max_bytes)
{
    if (o == NULL)
        return PINCURL_INVALID_ARGUMENT;
    o->spool_max_reports = max_reports > 0 ? max_reports : PC_SPOOL_MAX_REPORTS;
    o->spool_max_bytes = max_bytes > 0 ? max_bytes : PC_SPOOL_MAX_BYTES;
    return PINCURL_OK;
}

pincurl_status pincurl_options_set_report_timing(pincurl_options *o, long connect_timeout_ms,
                                                 long timeout_ms, long first_retry_ms)
{
    if (o == NULL || connect_timeout_ms < 0 || timeout_ms < 0 || first_retry_ms < 0)
        return PINCURL_INVALID_ARGUMENT;
    o->report_connect_timeout_ms =
        connect_timeout_ms > 0 ? connect_timeout_ms : PC_REPORT_CONNECT_TIMEOUT_MS;
    o->report_timeout_ms = timeout_ms > 0 ? timeout_ms : PC_REPORT_TIMEOUT_MS;
    o->report_first_retry_ms = first_retry_ms > 0 ? first_retry_ms : PC_REPORT_FIRST_RETRY_MS;
    return PINCURL_OK;
}

pincurl_status pincurl_options_set_pinned_public_key(pincurl_options *o, const char *spec)
{
    if (o == NULL || (spec != NULL && spec[0] == '\0'))
        return PINCURL_INVALID_ARGUMENT;
    return set_string(&o->pinned_public_key, spec);
}

pincurl_status pincurl_options_set_clock(pincurl_options *o, pincurl_clock_fn now, void *ctx)
{
    if (o == NULL)
        return PINCURL_INVALID_ARGUMENT;
    o->clock_fn = now;
    o->clock_ctx = now != NULL ? ctx : NULL;
    return PINCURL_OK;
}

pincurl_status pincurl_options_set_allocator(pincurl_options *o, const pincurl_allocator *alloc)
{
    if (o == NULL)
        return PINCURL_INVALID_ARGUMENT;
    if (alloc != NULL && !(alloc->malloc_fn == NULL && alloc->realloc_fn == NULL &&
                           alloc->free_fn == NULL) &&
        (alloc->malloc_fn == NULL || alloc->realloc_fn == NULL || alloc->free_fn == NULL))
        return PINCURL_INVALID_ARGUMENT; /* part of an allocator */
    if (alloc == NULL || alloc->malloc_fn == NULL)
        memset(&o->alloc, 0, sizeof(o->alloc));
    else
        o->alloc = *alloc;
    return PINCURL_OK;
}
