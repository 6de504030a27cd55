/* pincurl [options] URL: a pinned request with curl's options, exit codes and output. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "request.h"

/* Longest message kept for %{errormsg} (libcurl's CURL_ERROR_SIZE). */
#define CURL_ERROR_SIZE_CLI 256
/* curl's retry backoff: from 1 s, doubling, at most 10 minutes. */
#define RETRY_SLEEP_DEFAULT_MS 1000L
#define RETRY_SLEEP_MAX_MS 600000L

/* Where the body (and with -i, the headers) go: stdout, or a file created when the first
 * byte arrives (as curl: a failed request leaves no file behind). */
typedef struct req_out {
    const char *filename; /* NULL: stdout */
    FILE *f;
    uint64_t bytes;       /* written this attempt */
    int failed;           /* a write failed */
} req_out;

typedef struct req_ctx {
    const req_args *a;
    cli_path path;
    int observer;         /* the policy is only there to see the path */
    req_out out;
    int discard_body;     /* --result-json without -o: the body is not shown */
    FILE *dump;           /* -D */
    int progress;         /* draw a progress bar on stderr */
    long status_code;     /* of the header block being received */
    long num_headers;     /* header lines of the last response (curl's %{num_headers}) */
    int block_ended;      /* the last header line was the empty one */
    int fail_abort;       /* -f stopped the transfer at an HTTP error */
    long fail_code;
    FILE *upload;         /* -T FILE (or stdin) */
} req_ctx;

/* The host of an absolute URL, brackets removed; 0 on success. */
static int url_host(const char *url, char *host, size_t size, int *https)
{
    const char *p = strstr(url, "://");
    if (p == NULL)
        return -1;
    *https = (size_t)(p - url) == 5 && strncasecmp(url, "https", 5) == 0;
    p += 3;
    size_t auth = strcspn(p, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < auth; i++)
        if (p[i] == '@')
            at = p + i;
    if (at != NULL) {
        auth -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    size_t n;
    if (p[0] == '[') {
        const char *end = memchr(p, ']', auth);
        if (end == NULL)
            return -1;
        p++;
        n = (size_t)(end - p);
    } else {
        n = strcspn(p, ":/?#");
        if (n > auth)
            n = auth;
    }
    if (n == 0 || n >= size)
        return -1;
    memcpy(host, p, n);
    host[n] = '\0';
    return 0;
}

/* The parts of "scheme://authority/path?query#fragment" as offsets: authority ends at
 * path_at, the path at query_at (its '?' or the fragment or the end), the query at frag_at. */
typedef struct url_parts {
    size_t path_at, query_at, frag_at, len;
} url_parts;

static int url_split(const char *url, url_parts *u)
{
    const char *p = strstr(url, "://");
    if (p == NULL)
        return -1;
    u->len = strlen(url);
    u->path_at = (size_t)(p + 3 - url) + strcspn(p + 3, "/?#");
    u->frag_at = u->path_at + strcspn(url + u->path_at, "#");
    u->query_at = u->path_at + strcspn(url + u->path_at, "?#");
    return 0;
}

/* A new URL: url with its path replaced by path (if not NULL) and query appended to its
 * query (curl's -G, CURLU_APPENDQUERY) (if not NULL). An empty path becomes "/". */
static char *url_rebuild(const char *url, const char *path, const char *query)
{
    url_parts u;
    if (url_split(url, &u) != 0)
        return NULL;
    const char *old_path = url + u.path_at;
    size_t old_path_len = u.query_at - u.path_at;
    const char *old_query = u.query_at < u.frag_at ? url + u.query_at + 1 : NULL;
    size_t old_query_len = old_query != NULL ? u.frag_at - u.query_at - 1 : 0;
    const char *frag = url + u.frag_at;
    size_t need = u.len + (path != NULL ? strlen(path) : 1) + (query != NULL ? strlen(query) : 0) +
                  4;
    char *out = malloc(need), *w = out;
    if (out == NULL)
        return NULL;
    memcpy(w, url, u.path_at);
    w += u.path_at;
    if (path != NULL) {
        w += sprintf(w, "%s", path);
    } else if (old_path_len > 0) {
        memcpy(w, old_path, old_path_len);
        w += old_path_len;
    } else {
        *w++ = '/';
    }
    if (old_query != NULL || query != NULL)
        *w++ = '?';
    if (old_query != NULL) {
        memcpy(w, old_query, old_query_len);
        w += old_query_len;
    }
    if (query != NULL) {
        if (old_query != NULL && old_query_len > 0)
            *w++ = '&';
        w += sprintf(w, "%s", query);
    }
    strcpy(w, frag);
    return out;
}

/* Percent-encodes a file name for a URL path (curl_easy_escape's set). */
static char *path_escape(const char *name)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(name);
    char *out = malloc(n * 3 + 1), *w = out;
    if (out == NULL)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            *w++ = (char)*p;
        } else {
            *w++ = '%';
            *w++ = hex[*p >> 4];
            *w++ = hex[*p & 15];
        }
    }
    *w = '\0';
    return out;
}

/* -T FILE to a URL whose path ends in '/' (or has none): the file's name is appended. */
static char *url_for_upload(const char *url, const char *file)
{
    url_parts u;
    if (url_split(url, &u) != 0)
        return NULL;
    const char *path = url + u.path_at;
    size_t path_len = u.query_at - u.path_at;
    if (path_len > 0 && path[path_len - 1] != '/')
        return strdup(url);
    const char *base = strrchr(file, '/');
    base = base != NULL ? base + 1 : file;
    char *enc = path_escape(base);
    char *new_path = enc != NULL ? malloc(path_len + strlen(enc) + 2) : NULL;
    char *out = NULL;
    if (new_path != NULL) {
        sprintf(new_path, "%.*s%s%s", (int)path_len, path, path_len > 0 ? "" : "/", enc);
        out = url_rebuild(url, new_path, NULL);
    }
    free(enc);
    free(new_path);
    return out;
}

/* -O: the last segment of the URL's path ("" when it ends in '/'). */
static char *remote_file_name(const char *url)
{
    url_parts u;
    if (url_split(url, &u) != 0)
        return NULL;
    const char *path = url + u.path_at, *end = url + u.query_at, *last = path;
    for (const char *p = path; p < end; p++)
        if (*p == '/')
            last = p + 1;
    size_t n = (size_t)(end - last);
    char *name = malloc(n + 1);
    if (name != NULL) {
        memcpy(name, last, n);
        name[n] = '\0';
    }
    return name;
}

static void print_builder_error(const char *what, pincurl_status st)
{
    if (st == PINCURL_POLICY_TOO_FEW_PINS)
        cli_error("%s: an enforcing pin set needs at least two pins, one of them a backup; "
                  "give --pin twice, or add --report-only", what);
    else
        cli_error("%s: %s", what, pincurl_strerror(st));
}

/* A policy for host from --pin values. */
static int policy_from_pins(const req_args *a, const char *host, pincurl_policy **out)
{
    pincurl_policy_builder *b = pincurl_policy_builder_new(NULL);
    size_t index;
    pincurl_status st;
    if (b == NULL)
        return CLI_OUT_OF_MEMORY;
    st = pincurl_policy_builder_add_domain(b, host, a->report_only ? 0 : PINCURL_DOMAIN_ENFORCE,
                                           &index);
    if (st != PINCURL_OK) {
        cli_error("--pin: host '%s': %s", host, pincurl_strerror(st));
        pincurl_policy_builder_free(b);
        return CLI_BAD_POLICY;
    }
    for (size_t i = 0; i < a->pin_count; i++) {
        pincurl_pin pin;
        st = pincurl_pin_parse(a->pins[i], strlen(a->pins[i]), &pin);
        if (st == PINCURL_OK)
            st = pincurl_policy_builder_add_pin(b, index, &pin);
        if (st != PINCURL_OK) {
            cli_error("--pin '%s': %s", a->pins[i], pincurl_strerror(st));
            pincurl_policy_builder_free(b);
            return CLI_BAD_POLICY;
        }
    }
    st = a->report_uri != NULL ? pincurl_policy_builder_add_report_uri(b, a->report_uri)
                               : PINCURL_OK;
    if (st != PINCURL_OK) {
        cli_error("--report-uri '%s': %s", a->report_uri, pincurl_strerror(st));
        pincurl_policy_builder_free(b);
        return CLI_BAD_POLICY;
    }
    st = pincurl_policy_builder_finish(b, out, NULL);
    pincurl_policy_builder_free(b);
    if (st != PINCURL_OK) {
        print_builder_error("--pin", st);
        return CLI_BAD_POLICY;
    }
    return CLI_OK;
}

/* A copy of a loaded policy with --report-only and --report-uri applied. */
static int policy_adjust(const req_args *a, pincurl_policy **policy)
{
    const pincurl_policy *p = *policy;
    pincurl_policy_builder *b = pincurl_policy_builder_new(NULL);
    pincurl_policy *copy = NULL;
    pincurl_status st = b == NULL ? PINCURL_OUT_OF_MEMORY : PINCURL_OK;
    if (st == PINCURL_OK)
        st = pincurl_policy_builder_set_expiry(b, pincurl_policy_expires(p),
                                               pincurl_policy_on_expiry(p));
    for (size_t i = 0; st == PINCURL_OK && i < pincurl_policy_report_uri_count(p); i++)
        st = pincurl_policy_builder_add_report_uri(b, pincurl_policy_report_uri(p, i));
    if (st == PINCURL_OK && a->report_uri != NULL)
        st = pincurl_policy_builder_add_report_uri(b, a->report_uri);
    for (size_t i = 0; st == PINCURL_OK && i < pincurl_policy_domain_count(p); i++) {
        const pincurl_domain *d = pincurl_policy_domain(p, i);
        unsigned flags = pincurl_domain_flags(d);
        size_t index;
        if (a->report_only)
            flags &= ~PINCURL_DOMAIN_ENFORCE;
        st = pincurl_policy_builder_add_domain(b, pincurl_domain_host(d), flags, &index);
        for (size_t k = 0; st == PINCURL_OK && k < pincurl_domain_pin_count(d); k++)
            st = pincurl_policy_builder_add_pin(b, index, pincurl_domain_pin(d, k));
    }
    if (st == PINCURL_OK)
        st = pincurl_policy_builder_finish(b, &copy, NULL);
    pincurl_policy_builder_free(b);
    if (st != PINCURL_OK) {
        cli_error("--policy %s: %s", a->policy_file, pincurl_strerror(st));
        return st == PINCURL_OUT_OF_MEMORY ? CLI_OUT_OF_MEMORY : CLI_BAD_POLICY;
    }
    pincurl_policy_unref(*policy);
    *policy = copy;
    return CLI_OK;
}

/* A policy that pins nothing real: a report-only entry with a zero pin, for host when the
 * path should be observed, else for a name that never resolves. */
static int policy_observer(const char *host, pincurl_policy **out)
{
    pincurl_policy_builder *b = pincurl_policy_builder_new(NULL);
    pincurl_pin zero;
    size_t index;
    memset(&zero, 0, sizeof zero);
    pincurl_status st = b == NULL ? PINCURL_OUT_OF_MEMORY : PINCURL_OK;
    if (st == PINCURL_OK)
        st = pincurl_policy_builder_add_domain(b, host, 0, &index);
    if (st == PINCURL_OK)
        st = pincurl_policy_builder_add_pin(b, index, &zero);
    if (st == PINCURL_OK)
        st = pincurl_policy_builder_finish(b, out, NULL);
    pincurl_policy_builder_free(b);
    return st == PINCURL_OK ? CLI_OK : -1;
}

static int make_policy(const req_args *a, const char *host, int https, pincurl_policy **policy,
                       int *observer)
{
    int rc;
    *observer = 0;
    if (a->policy_file != NULL) {
        pincurl_diag diag;
        pincurl_status st = pincurl_policy_load_file(a->policy_file, NULL, policy, &diag);
        if (st != PINCURL_OK) {
            cli_error("--policy %s: %s", a->policy_file, diag.message);
            return st == PINCURL_IO ? CLI_READ_ERROR : CLI_BAD_POLICY;
        }
        if (a->report_only || a->report_uri != NULL)
            return policy_adjust(a, policy);
        return CLI_OK;
    }
    if (a->pin_count > 0)
        return policy_from_pins(a, host, policy);
    if (a->report_only || a->report_uri != NULL) {
        cli_error("--report-only and --report-uri need --pin or --policy");
        return CLI_USAGE;
    }
    /* Nothing pinned. Watch the URL's own host when that cannot refuse anything curl would
     * do (https, no redirects, no other host connected to), else an entry for a name that
     * never resolves. */
    *observer = 1;
    rc = -1;
    if (https && !a->location && a->connect_to_count == 0)
        rc = policy_observer(host, policy);
    if (rc != CLI_OK)
        rc = policy_observer("unpinned.invalid", policy);
    return rc == CLI_OK ? CLI_OK : CLI_INTERNAL;
}

static void event_cb(const pincurl_event *ev, void *user)
{
    req_ctx *ctx = user;
    pincurl_event_kind kind = pincurl_event_get_kind(ev);
    cli_path_event_cb(ev, &ctx->path);
    if (!ctx->a->verbose || ctx->observer)
        return;
    if (kind == PINCURL_EVENT_VALIDATION) {
        char pin[PINCURL_PIN_TEXT_SIZE] = "none";
        const pincurl_pin *m = pincurl_event_matched_pin(ev);
        if (m != NULL)
            cli_format_pin(m, pin);
        fprintf(stderr, "* pin validation %s:%u: %s, %s, matched %s\n", pincurl_event_host(ev),
                pincurl_event_port(ev), pincurl_result_name(pincurl_event_result(ev)),
                pincurl_event_decision(ev) == PINCURL_DECISION_ALLOW ? "allow" : "block", pin);
        for (size_t i = 0; i < ctx->path.count; i++) {
            char p[PINCURL_PIN_TEXT_SIZE];
            cli_format_pin(&ctx->path.certs[i].pin, p);
            const pincurl_cert_info *c = &ctx->path.certs[i];
            fprintf(stderr, "*   %zu %s %s\n", i, p,
                    ctx->path.info_ok[i] && !(c->unread & PINCURL_CERT_SUBJECT)
                        ? c->subject
                        : "(subject could not be read)");
        }
    } else {
        fprintf(stderr, "* event %s: %s\n", pincurl_event_kind_name(kind),
                pincurl_event_message(ev));
    }
}

static void draw_progress(req_ctx *ctx, int done)
{
    static const char bar[] = "########################################";
    unsigned width = (unsigned)((ctx->out.bytes / 65536u) % 40u) + 1;
    if (done)
        width = 40;
    fprintf(stderr, "\r%-40.*s %llu bytes%s", (int)width, bar,
            (unsigned long long)ctx->out.bytes, done ? "\n" : "");
}

/* The output stream, the file created now if need be; NULL after a failure (recorded). */
static FILE *out_stream(req_out *o)
{
    if (o->filename == NULL)
        return stdout;
    if (o->f == NULL && !o->failed) {
        o->f = fopen(o->filename, "wb");
        if (o->f == NULL) {
            cli_error("(23) Failed to open the file %s: %s", o->filename, strerror(errno));
            o->failed = 1;
        }
    }
    return o->f;
}

static int out_write(req_out *o, const void *data, size_t len)
{
    FILE *f = out_stream(o);
    if (f == NULL || (len > 0 && fwrite(data, 1, len, f) != len)) {
        o->failed = 1;
        return -1;
    }
    o->bytes += len;
    return 0;
}

static size_t write_cb(const void *data, size_t len, void *user)
{
    req_ctx *ctx = user;
    if (ctx->discard_body)
        return len;
    if (out_write(&ctx->out, data, len) != 0)
        return 0;
    if (ctx->progress)
        draw_progress(ctx, 0);
    return len;
}

static size_t header_cb(const void *data, size_t len, void *user)
{
    req_ctx *ctx = user;
    const char *line = data;
    const req_args *a = ctx->a;

    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        const char *sp = memchr(line, ' ', len);
        ctx->status_code = sp != NULL ? strtol(sp + 1, NULL, 10) : 0;
    }
    if (ctx->dump != NULL) {
        if (fwrite(data, 1, len, ctx->dump) != len)
            return 0;
        fflush(ctx->dump);
    }
    if (a->verbose)
        fprintf(stderr, "< %.*s", (int)len, line);
    /* %{num_headers}: the header lines of the last header block */
    if (memchr(line, ':', len) != NULL) {
        if (ctx->block_ended)
            ctx->num_headers = 0;
        ctx->block_ended = 0;
        ctx->num_headers++;
    } else if (len > 0 && (line[0] == '\r' || line[0] == '\n')) {
        ctx->block_ended = 1;
    }
    if ((a->include || a->head) && !ctx->discard_body && out_write(&ctx->out, data, len) != 0)
        return 0;
    /* -f: a final response of 400 or more ends the transfer once its headers are in
     * (libcurl's CURLOPT_FAILONERROR does the same) */
    if (a->fail && len > 0 && (line[0] == '\r' || line[0] == '\n') && ctx->status_code >= 400) {
        ctx->fail_abort = 1;
        ctx->fail_code = ctx->status_code;
        return 0;
    }
    return len;
}

static size_t upload_cb(void *buf, size_t size, void *user)
{
    req_ctx *ctx = user;
    size_t n = fread(buf, 1, size, ctx->upload);
    if (n == 0 && ferror(ctx->upload))
        return (size_t)-1;
    return n;
}

/* The exit code of a finished attempt, as curl's. */
static int exit_code_for(const req_ctx *ctx, pincurl_status st, const pincurl_response *resp)
{
    const pincurl_transfer_info *info = pincurl_response_info(resp);
    switch (st) {
    case PINCURL_OK:
        if (ctx->out.failed)
            return CLI_WRITE_ERROR;
        if (ctx->a->fail_with_body && pincurl_response_code(resp) >= 400)
            return CLI_HTTP_ERROR;
        return CLI_OK;
    case PINCURL_ABORTED_BY_CALLBACK:
        if (ctx->fail_abort)
            return CLI_HTTP_ERROR;
        if (ctx->out.failed)
            return CLI_WRITE_ERROR;
        return info != NULL && info->curl_code != 0 ? info->curl_code : CLI_ABORTED;
    /* pincurl's own decisions: its own numbers (90, 111-113) or curl's for the condition */
    case PINCURL_PIN_MISMATCH:
    case PINCURL_CLEARTEXT_PINNED:
    case PINCURL_POLICY_EXPIRED:
    case PINCURL_PIN_CHECK_FAILED:
    case PINCURL_BACKEND_UNSUPPORTED:
    case PINCURL_CERT_INVALID:
    case PINCURL_HOST_MISMATCH:
        return cli_exit_code(st);
    default:
        /* libcurl's failure: curl's own exit code for it */
        if (info != NULL && info->curl_code != 0)
            return info->curl_code;
        return cli_exit_code(st);
    }
}

static int is_pin_failure(pincurl_status st)
{
    return st == PINCURL_PIN_MISMATCH || st == PINCURL_CLEARTEXT_PINNED ||
           st == PINCURL_POLICY_EXPIRED || st == PINCURL_PIN_CHECK_FAILED ||
           st == PINCURL_BACKEND_UNSUPPORTED;
}

/* curl's --retry rules: the delay before the next attempt in *sleep_ms, or 0 not to retry. */
static int should_retry(const req_args *a, const req_ctx *ctx, pincurl_status st,
                        const pincurl_response *resp, int rc, long retries_left,
                        int64_t elapsed_ms, long *sleep_ms)
{
    const pincurl_transfer_info *info = pincurl_response_info(resp);
    const char *why = NULL;
    int http = 0;

    if (retries_left <= 0 || (a->retry_max_time_ms > 0 && elapsed_ms >= a->retry_max_time_ms))
        return 0;
    if (is_pin_failure(st)) {
        /* a pin failure is not transient: another attempt would meet the same key */
        if (a->retry_all_errors && !a->silent)
            cli_warn("not retrying: %s", pincurl_strerror(st));
        return 0;
    }
    if (rc == 28 || rc == 6 || rc == 5) {
        why = ": timeout";
    } else if (rc == 7 && a->retry_connrefused && info != NULL &&
               info->os_errno == ECONNREFUSED) {
        why = ": connection refused";
    } else if (rc == 0 || (rc == CLI_HTTP_ERROR && (a->fail || a->fail_with_body))) {
        long code = ctx->fail_abort ? ctx->fail_code : pincurl_response_code(resp);
        if (code == 408 || code == 429 || code == 500 || code == 502 || code == 503 ||
            code == 504) {
            why = ": HTTP error";
            http = 1;
        }
    }
    if (why == NULL && rc != 0 && a->retry_all_errors)
        why = "(retrying all errors)";
    if (why == NULL)
        return 0;
    if (http && info != NULL && info->retry_after > 0) {
        if (a->retry_max_time_ms > 0 &&
            elapsed_ms / 1000 + info->retry_after > a->retry_max_time_ms / 1000) {
            if (!a->silent)
                cli_warn("The Retry-After: time would make this command line exceed the "
                         "maximum allowed time for retries.");
            return 0;
        }
        *sleep_ms = info->retry_after > LONG_MAX / 1000 ? LONG_MAX
                                                         : (long)info->retry_after * 1000;
    }
    if (!a->silent)
        cli_warn("Problem %s. Will retry in %ld seconds. %ld retries left.", why,
                 *sleep_ms / 1000, retries_left);
    return 1;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void print_result_json(const req_args *a, const req_ctx *ctx,
                              const pincurl_response *resp, pincurl_status st, int code)
{
    cJSON *o = cJSON_CreateObject(), *path = cJSON_CreateArray();
    char buf[PINCURL_PIN_TEXT_SIZE], when[32];
    const pincurl_verdict *v = pincurl_response_verdict(resp);
    int pinned = !ctx->observer && ((v != NULL && v->pinned) || ctx->path.seen);
    const char *status = pincurl_status_name(st);

    if (o == NULL || path == NULL) {
        cJSON_Delete(o);
        cJSON_Delete(path);
        cli_error("out of memory");
        return;
    }
    cJSON_AddStringToObject(o, "outcome", st == PINCURL_OK ? "ok" : "error");
    cJSON_AddStringToObject(o, "status", status != NULL ? status : "UNKNOWN");
    cJSON_AddNumberToObject(o, "exit_code", code);
    cJSON_AddNumberToObject(o, "http_code", (double)pincurl_response_code(resp));
    const char *eff = pincurl_response_effective_url(resp);
    cJSON_AddStringToObject(o, "url", eff != NULL && eff[0] != '\0' ? eff : a->url);
    cJSON_AddBoolToObject(o, "pinned", pinned);
    if (pinned && ctx->path.seen) {
        cJSON_AddStringToObject(o, "result", pincurl_result_name(ctx->path.result));
        cJSON_AddStringToObject(o, "decision",
                                ctx->path.decision == PINCURL_DECISION_ALLOW ? "ALLOW" : "BLOCK");
    } else if (pinned && v != NULL) {
        cJSON_AddStringToObject(o, "result", pincurl_result_name(v->result));
        cJSON_AddStringToObject(o, "decision",
                                v->decision == PINCURL_DECISION_ALLOW ? "ALLOW" : "BLOCK");
    } else {
        cJSON_AddStringToObject(o, "result", "NOT_PINNED");
        cJSON_AddNullToObject(o, "decision");
    }
    if (pinned && ctx->path.seen && ctx->path.matched_depth >= 0) {
        cli_format_pin(&ctx->path.matched_pin, buf);
        cJSON_AddStringToObject(o, "matched_pin", buf);
        cJSON_AddNumberToObject(o, "matched_depth", ctx->path.matched_depth);
    } else {
        cJSON_AddNullToObject(o, "matched_pin");
        cJSON_AddNullToObject(o, "matched_depth");
    }
    for (size_t i = 0; i < ctx->path.count; i++) {
        const pincurl_cert_info *c = &ctx->path.certs[i];
        cJSON *e = cJSON_CreateObject();
        if (e == NULL)
            break;
        cJSON_AddNumberToObject(e, "depth", (double)i);
        /* a field that could not be read is null, never a guess */
        int ok = ctx->path.info_ok[i];
        if (ok && !(c->unread & PINCURL_CERT_SUBJECT))
            cJSON_AddStringToObject(e, "subject", c->subject);
        else
            cJSON_AddNullToObject(e, "subject");
        if (ok && !(c->unread & PINCURL_CERT_ISSUER))
            cJSON_AddStringToObject(e, "issuer", c->issuer);
        else
            cJSON_AddNullToObject(e, "issuer");
        cli_format_time(c->not_after, when, sizeof when);
        if (ok && !(c->unread & PINCURL_CERT_NOT_AFTER))
            cJSON_AddStringToObject(e, "not_after", when);
        else
            cJSON_AddNullToObject(e, "not_after");
        cli_format_pin(&c->pin, buf);
        cJSON_AddStringToObject(e, "pin", buf);
        cJSON_AddItemToArray(path, e);
    }
    cJSON_AddItemToObject(o, "path", path);
    const char *detail = pincurl_response_detail(resp);
    cJSON_AddStringToObject(o, "detail", detail != NULL ? detail : "");
    char *text = cJSON_Print(o);
    if (text != NULL) {
        fputs(text, stdout);
        fputc('\n', stdout);
    }
    free(text);
    cJSON_Delete(o);
}

/* The client's options from the command line. A failure is printed; returns the exit code. */
static int make_options(const req_args *a, req_ctx *ctx, pincurl_options **out)
{
    pincurl_options *o = pincurl_options_new();
    pincurl_status st;
    char ua[64];

    *out = NULL;
    if (o == NULL)
        return CLI_OUT_OF_MEMORY;
    snprintf(ua, sizeof ua, "pincurl/%s", PINCURL_VERSION_STRING);
    st = cli_conn_apply(&a->conn, o);
    if (st == PINCURL_OK)
        st = pincurl_options_set_follow_redirects(o, a->location, a->location ? a->max_redirs : 0);
    if (st == PINCURL_OK && a->pinnedpubkey != NULL)
        st = pincurl_options_set_pinned_public_key(o, a->pinnedpubkey);
    if (st == PINCURL_OK)
        st = pincurl_options_set_user_agent(o, a->user_agent != NULL ? a->user_agent : ua);
    if (st == PINCURL_OK && a->ca_path != NULL) {
        st = pincurl_options_set_ca_path(o, a->ca_path);
        if (st == PINCURL_UNSUPPORTED) {
            /* curl warns and goes on without it; pincurl does not drop a trust option */
            cli_error("option --capath: the installed libcurl version does not support this");
            pincurl_options_free(o);
            return CLI_USAGE;
        }
    }
    for (size_t i = 0; st == PINCURL_OK && i < a->connect_to_count; i++) {
        st = pincurl_options_add_connect_to(o, a->connect_to[i]);
        if (st == PINCURL_INVALID_ARGUMENT) {
            cli_error("option --connect-to: '%s' is not HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT",
                      a->connect_to[i]);
            pincurl_options_free(o);
            return CLI_USAGE;
        }
    }
    if (st == PINCURL_OK)
        st = pincurl_options_set_ip_version(o, a->ip_version);
    if (st == PINCURL_OK) {
        st = pincurl_options_set_http_version(o, a->http_version);
        if (st == PINCURL_UNSUPPORTED) {
            cli_error("option %s: the installed libcurl version does not support this",
                      a->http_version_opt);
            pincurl_options_free(o);
            return CLI_USAGE;
        }
    }
    if (st == PINCURL_OK)
        st = pincurl_options_set_tls_min_version(o, a->tls_min);
    if (st == PINCURL_OK && (a->cookie_file != NULL || a->cookie_jar != NULL))
        st = pincurl_options_set_cookie_engine(o, 1, a->cookie_file, a->cookie_jar);
    if (st == PINCURL_OK && a->spool != NULL) {
        st = pincurl_options_set_spool_dir(o, a->spool);
        /* a delivery attempt ends (or times out) within the wait at exit, so that the
         * process never leaves while a collector may have taken a report unacknowledged */
        if (st == PINCURL_OK && a->report_wait_ms > 0)
            st = pincurl_options_set_report_timing(
                o, a->report_wait_ms < 5000 ? a->report_wait_ms : 5000, a->report_wait_ms, 0);
    }
    if (st == PINCURL_OK)
        st = pincurl_options_set_event_callback(o, event_cb, ctx);
    if (st != PINCURL_OK) {
        cli_error("(%d) %s", st == PINCURL_INVALID_ARGUMENT ? CLI_USAGE : cli_exit_code(st),
                  pincurl_strerror(st));
        pincurl_options_free(o);
        return st == PINCURL_INVALID_ARGUMENT ? CLI_USAGE : cli_exit_code(st);
    }
    *out = o;
    return CLI_OK;
}

/* -F: "name=value", "name=@file", "name=<file", each with ";type=" and (for files)
 * ";filename="; --form-string takes the value as it is. */
static int add_form(pincurl_request *r, const req_form *form)
{
    const char *eq = strchr(form->spec, '=');
    char *copy, *value, *type = NULL, *filename = NULL;
    int file = 0, contents = 0;
    pincurl_status st;

    if (eq == NULL || eq == form->spec) {
        cli_error("option -F: '%s' is not NAME=CONTENT", form->spec);
        return CLI_USAGE;
    }
    if ((copy = strdup(form->spec)) == NULL)
        return CLI_OUT_OF_MEMORY;
    copy[eq - form->spec] = '\0';
    value = copy + (eq - form->spec) + 1;
    if (!form->literal) {
        if (value[0] == '@' || value[0] == '<') {
            file = value[0] == '@';
            contents = value[0] == '<';
            value++;
        }
        /* ;type= and ;filename= parameters (a quoted filename may hold ';') */
        char *semi = value[0] == '"' ? NULL : strchr(value, ';');
        if (value[0] == '"') {
            char *close = strchr(value + 1, '"');
            if (close != NULL) {
                memmove(value, value + 1, (size_t)(close - value - 1));
                close[-1] = '\0';
                semi = strchr(close + 1, ';');
            }
        }
        while (semi != NULL) {
            *semi = '\0';
            char *param = semi + 1;
            while (*param == ' ')
                param++;
            char *next = strchr(param, ';');
            if (strncasecmp(param, "type=", 5) == 0) {
                type = param + 5;
            } else if (strncasecmp(param, "filename=", 9) == 0) {
                filename = param + 9;
                if (filename[0] == '"') {
                    char *close = strchr(filename + 1, '"');
                    if (close != NULL) {
                        *close = '\0';
                        next = strchr(close + 1, ';');
                    }
                    filename++;
                }
            } else {
                cli_error("option -F: '%s': only ;type= and ;filename= are understood",
                          form->spec);
                free(copy);
                return CLI_USAGE;
            }
            semi = next;
        }
    }
    if (file)
        st = pincurl_request_add_form_file(r, copy, value, filename, type);
    else if (contents)
        st = pincurl_request_add_form_file(r, copy, value, filename != NULL ? filename : "", type);
    else
        st = pincurl_request_add_form_data(r, copy, value, strlen(value), filename, type);
    free(copy);
    if (st == PINCURL_INVALID_ARGUMENT) {
        cli_error("option -F: '%s' is not a usable form field", form->spec);
        return CLI_USAGE;
    }
    return st == PINCURL_OK ? CLI_OK : CLI_OUT_OF_MEMORY;
}

/* The request of one attempt. */
static int build_request(const req_args *a, req_ctx *ctx, const char *url, pincurl_request **out)
{
    const char *method = a->method;
    pincurl_status st = PINCURL_OK;
    int rc;

    *out = NULL;
    if (method == NULL)
        method = a->kind == REQ_HEAD   ? "HEAD"
                 : a->kind == REQ_POST || a->kind == REQ_FORM ? "POST"
                 : a->kind == REQ_PUT  ? "PUT"
                                       : "GET";
    pincurl_request *r = pincurl_request_new(method, url);
    if (r == NULL) {
        cli_error("(3) URL '%s' is malformed", url);
        return CLI_BAD_URL;
    }
    for (size_t i = 0; i < a->header_count; i++) {
        if (pincurl_request_add_header(r, a->headers[i]) != PINCURL_OK) {
            cli_error("-H '%s': not a 'Name: value' header line", a->headers[i]);
            pincurl_request_free(r);
            return CLI_USAGE;
        }
    }
    if (a->json_data) {
        /* as curl's --json: the JSON types unless -H gave them */
        int has_type = 0, has_accept = 0;
        for (size_t i = 0; i < a->header_count; i++) {
            const char *h = a->headers[i];
            has_type |= strncasecmp(h, "Content-Type", 12) == 0 && (h[12] == ':' || h[12] == ';');
            has_accept |= strncasecmp(h, "Accept", 6) == 0 && (h[6] == ':' || h[6] == ';');
        }
        if (!has_type)
            st = pincurl_request_add_header(r, "Content-Type: application/json");
        if (st == PINCURL_OK && !has_accept)
            st = pincurl_request_add_header(r, "Accept: application/json");
    }
    if (st == PINCURL_OK && a->kind == REQ_POST)
        st = pincurl_request_set_body(r, a->data, a->data_len);
    for (size_t i = 0; st == PINCURL_OK && i < a->form_count; i++) {
        if ((rc = add_form(r, &a->forms[i])) != CLI_OK) {
            pincurl_request_free(r);
            return rc;
        }
    }
    if (st == PINCURL_OK && a->upload != NULL) {
        int64_t length = -1;
        if (strcmp(a->upload, "-") == 0 || strcmp(a->upload, ".") == 0) {
            ctx->upload = stdin;
        } else {
            struct stat sb;
            ctx->upload = fopen(a->upload, "rb");
            if (ctx->upload == NULL || fstat(fileno(ctx->upload), &sb) != 0) {
                cli_error("(26) Can't open '%s': %s", a->upload, strerror(errno));
                if (ctx->upload != NULL)
                    fclose(ctx->upload);
                ctx->upload = NULL;
                pincurl_request_free(r);
                return CLI_READ_ERROR;
            }
            if (S_ISREG(sb.st_mode))
                length = (int64_t)sb.st_size;
        }
        st = pincurl_request_set_upload(r, upload_cb, ctx, length);
    }
    if (st == PINCURL_OK && a->userpwd != NULL) {
        const char *colon = strchr(a->userpwd, ':');
        char *user = strndup(a->userpwd, (size_t)(colon - a->userpwd));
        st = user == NULL ? PINCURL_OUT_OF_MEMORY
                          : pincurl_request_set_credentials(r, user, colon + 1);
        free(user);
    }
    if (st == PINCURL_OK && (a->referer != NULL || a->auto_referer))
        st = pincurl_request_set_referer(r, a->referer, a->auto_referer);
    if (st == PINCURL_OK && a->cookie != NULL)
        st = pincurl_request_set_cookie(r, a->cookie);
    if (st == PINCURL_OK && a->compressed) {
        st = pincurl_request_set_accept_encoding(r, "");
        if (st == PINCURL_UNSUPPORTED) {
            cli_error("option --compressed: the installed libcurl version does not support "
                      "this");
            pincurl_request_free(r);
            return CLI_USAGE;
        }
    }
    if (st == PINCURL_OK)
        st = pincurl_request_set_header_callback(r, header_cb, ctx);
    if (st == PINCURL_OK)
        st = pincurl_request_set_write_callback(r, write_cb, ctx);
    if (st != PINCURL_OK) {
        cli_error("(%d) %s", st == PINCURL_INVALID_ARGUMENT ? CLI_USAGE : cli_exit_code(st),
                  pincurl_strerror(st));
        pincurl_request_free(r);
        return st == PINCURL_INVALID_ARGUMENT ? CLI_USAGE : cli_exit_code(st);
    }
    *out = r;
    return CLI_OK;
}

/* The URL as requested: https:// assumed, -G's query, -T's file name. *url_out is malloc'd. */
static int make_url(const req_args *a, char **url_out)
{
    char *url;
    *url_out = NULL;
    if (strstr(a->url, "://") == NULL) { /* as curl, a URL without scheme; pincurl: https */
        size_t n = strlen(a->url) + sizeof "https://";
        if ((url = malloc(n)) == NULL)
            return CLI_OUT_OF_MEMORY;
        snprintf(url, n, "https://%s", a->url);
    } else if ((url = strdup(a->url)) == NULL) {
        return CLI_OUT_OF_MEMORY;
    }
    if (a->get && a->have_data) {
        char *q = strndup(a->data, a->data_len);
        char *with = q != NULL ? url_rebuild(url, NULL, q) : NULL;
        free(q);
        free(url);
        if (with == NULL) {
            cli_error("(3) Could not parse the URL, failed to set query");
            return CLI_BAD_URL;
        }
        url = with;
    }
    if (a->upload != NULL && strcmp(a->upload, "-") != 0 && strcmp(a->upload, ".") != 0) {
        char *with = url_for_upload(url, a->upload);
        free(url);
        if (with == NULL)
            return CLI_BAD_URL;
        url = with;
    }
    *url_out = url;
    return CLI_OK;
}

static int run(const req_args *a)
{
    char host[PINCURL_HOST_MAX + 1];
    char *url = NULL, *remote = NULL;
    int https = 0, rc;
    pincurl_policy *policy = NULL;
    pincurl_options *o = NULL;
    pincurl_client *c = NULL;
    pincurl_request *r = NULL;
    pincurl_response *resp = NULL;
    pincurl_status st = PINCURL_INTERNAL;
    req_ctx *ctx = calloc(1, sizeof *ctx);
    int quiet = a->silent && !a->show_error;
    char errormsg[CURL_ERROR_SIZE_CLI];

    errormsg[0] = '\0';
    if (ctx == NULL)
        return CLI_OUT_OF_MEMORY;
    ctx->a = a;
    if ((rc = make_url(a, &url)) != CLI_OK)
        goto done;
    if (url_host(url, host, sizeof host, &https) != 0) {
        cli_error("(3) URL '%s' is malformed", a->url);
        rc = CLI_BAD_URL;
        goto done;
    }
    if (a->remote_name) {
        remote = remote_file_name(url);
        if (remote == NULL) {
            rc = CLI_OUT_OF_MEMORY;
            goto done;
        }
        if (remote[0] == '\0') {
            cli_error("(23) Remote file name has no length!");
            rc = CLI_WRITE_ERROR;
            goto done;
        }
        ctx->out.filename = remote;
    } else if (a->output != NULL && strcmp(a->output, "-") != 0) {
        ctx->out.filename = a->output;
    }
    ctx->discard_body = a->result_json && ctx->out.filename == NULL;
    ctx->progress = a->progress && !a->silent && ctx->out.filename != NULL &&
                    isatty(STDERR_FILENO);
    if ((rc = make_policy(a, host, https, &policy, &ctx->observer)) != CLI_OK)
        goto done;
    if ((rc = make_options(a, ctx, &o)) != CLI_OK)
        goto done;
    st = pincurl_client_new(policy, o, &c);
    if (st != PINCURL_OK) {
        const pincurl_runtime_info *ri = pincurl_runtime();
        rc = st == PINCURL_INVALID_ARGUMENT ? CLI_USAGE : cli_exit_code(st);
        if (st == PINCURL_BACKEND_UNSUPPORTED && !ri->backend_ok)
            cli_error("(%d) %s: %s: pincurl was built for the %s backend, but libcurl %s "
                      "runs on %s",
                      rc, pincurl_status_name(st), pincurl_strerror(st), ri->backend_expected,
                      ri->libcurl_version, ri->tls_library);
        else
            cli_error("(%d) %s: %s", rc, pincurl_status_name(st), pincurl_strerror(st));
        goto done;
    }
    if (a->dump_header != NULL) {
        if (strcmp(a->dump_header, "-") == 0) {
            ctx->dump = stdout;
        } else if ((ctx->dump = fopen(a->dump_header, "wb")) == NULL) {
            cli_error("(23) Failed to open %s: %s", a->dump_header, strerror(errno));
            rc = CLI_WRITE_ERROR;
            goto done;
        }
    }

    long retries_left = a->retry;
    long retry_sleep = a->retry_delay_ms > 0 ? a->retry_delay_ms : RETRY_SLEEP_DEFAULT_MS;
    int64_t started = now_ms();
    for (;;) {
        if ((rc = build_request(a, ctx, url, &r)) != CLI_OK)
            goto done;
        if (a->verbose) {
            fprintf(stderr, "> %s %s\n", a->method != NULL ? a->method
                                          : a->kind == REQ_HEAD ? "HEAD"
                                          : a->kind == REQ_POST || a->kind == REQ_FORM ? "POST"
                                          : a->kind == REQ_PUT ? "PUT"
                                                               : "GET",
                    url);
            for (size_t i = 0; i < a->header_count; i++)
                fprintf(stderr, "> %s\n", a->headers[i]);
        }
        ctx->fail_abort = 0;
        ctx->status_code = 0;
        ctx->out.bytes = 0;
        st = pincurl_client_perform(c, r, &resp);
        if (ctx->upload != NULL && ctx->upload != stdin)
            fclose(ctx->upload);
        ctx->upload = NULL;
        if (resp == NULL) {
            cli_error("(27) out of memory");
            rc = CLI_OUT_OF_MEMORY;
            goto done;
        }
        rc = exit_code_for(ctx, st, resp);
        long sleep = retry_sleep;
        if (should_retry(a, ctx, st, resp, rc, retries_left, now_ms() - started, &sleep)) {
            retries_left--;
            if (a->retry_delay_ms == 0 && (retry_sleep *= 2) > RETRY_SLEEP_MAX_MS)
                retry_sleep = RETRY_SLEEP_MAX_MS;
            if (ctx->out.f != NULL && ctx->out.bytes > 0) {
                /* what this attempt wrote to the file is thrown away */
                if (!a->silent)
                    fprintf(stderr, "Throwing away %llu bytes\n",
                            (unsigned long long)ctx->out.bytes);
                fflush(ctx->out.f);
                if (ftruncate(fileno(ctx->out.f), 0) != 0 || fseek(ctx->out.f, 0, SEEK_SET) != 0) {
                    cli_error("(23) Failed to truncate file");
                    rc = CLI_WRITE_ERROR;
                    goto done;
                }
            }
            pincurl_response_free(resp);
            resp = NULL;
            pincurl_request_free(r);
            r = NULL;
            sleep_ms(sleep);
            continue;
        }
        break;
    }

    if (ctx->progress)
        draw_progress(ctx, 1);
    /* curl's message for the exit code, and the failure detail */
    if (rc == CLI_HTTP_ERROR) {
        snprintf(errormsg, sizeof errormsg, "The requested URL returned error: %ld",
                 ctx->fail_abort ? ctx->fail_code : pincurl_response_code(resp));
    } else if (rc != CLI_OK && st != PINCURL_OK && !is_pin_failure(st) &&
               pincurl_response_info(resp)->curl_code == rc) {
        snprintf(errormsg, sizeof errormsg, "%s", pincurl_response_info(resp)->curl_error);
    } else if (rc == CLI_WRITE_ERROR) {
        snprintf(errormsg, sizeof errormsg, "Failure writing output to destination");
    } else if (rc != CLI_OK) {
        snprintf(errormsg, sizeof errormsg, "%s", pincurl_strerror(st));
    }
    if (rc != CLI_OK && !quiet) {
        cli_error("(%d) %s", rc, errormsg);
        const char *detail = pincurl_response_detail(resp);
        if (st != PINCURL_OK && rc != CLI_HTTP_ERROR && detail != NULL && detail[0] != '\0')
            fprintf(stderr, "%s%s", detail, detail[strlen(detail) - 1] == '\n' ? "" : "\n");
    }
    if (rc == CLI_OK && ctx->out.filename != NULL && ctx->out.f == NULL && !ctx->out.failed) {
        /* an empty body still makes the (empty) file */
        if (out_stream(&ctx->out) == NULL)
            rc = CLI_WRITE_ERROR;
    }
    if (ctx->out.f != NULL) {
        if (fclose(ctx->out.f) != 0 && rc == CLI_OK)
            rc = CLI_WRITE_ERROR;
        ctx->out.f = NULL;
    }
    if (a->result_json)
        print_result_json(a, ctx, resp, st, rc);
    if (a->write_out != NULL) {
        wo_ctx w;
        memset(&w, 0, sizeof w);
        w.resp = resp;
        w.exit_code = rc;
        w.errormsg = errormsg;
        w.input_url = url;
        w.filename = ctx->out.filename;
        w.num_headers = ctx->num_headers;
        const pincurl_verdict *v = pincurl_response_verdict(resp);
        w.pinned = !ctx->observer && ((v != NULL && v->pinned) || ctx->path.seen);
        w.path = &ctx->path;
        cli_write_out(a->write_out, &w);
    }
    if (pincurl_client_save_cookies(c) != PINCURL_OK && !a->silent)
        cli_warn("failed to save cookies in %s", a->cookie_jar);
    if (fflush(stdout) != 0 && rc == CLI_OK)
        rc = CLI_WRITE_ERROR;

done:
    if (c != NULL && a->spool != NULL && a->report_wait_ms > 0) {
        /* Reports spooled by this request (or left by earlier ones) are delivered, and their
         * acknowledgement is on disk, before the process exits; at most report_wait_ms. */
        if (pincurl_client_flush_reports(c, a->report_wait_ms) != PINCURL_OK && !a->silent)
            cli_warn("failure reports not delivered within %ld ms stay in the spool %s",
                     a->report_wait_ms, a->spool);
    }
    if (ctx->out.f != NULL)
        fclose(ctx->out.f);
    if (ctx->dump != NULL && ctx->dump != stdout && fclose(ctx->dump) != 0 && rc == CLI_OK)
        rc = CLI_WRITE_ERROR;
    if (ctx->upload != NULL && ctx->upload != stdin)
        fclose(ctx->upload);
    pincurl_response_free(resp);
    pincurl_request_free(r);
    pincurl_client_free(c);
    pincurl_options_free(o);
    pincurl_policy_unref(policy);
    free(url);
    free(remote);
    free(ctx);
    return rc;
}

int cli_request_main(int argc, char **argv)
{
    req_args a;
    int rc = req_parse(argc, argv, &a);
    if (rc == CLI_OK) {
        cli_silent = a.silent && !a.show_error; /* as curl: -s hides errors, -S shows them */
        rc = run(&a);
    }
    req_args_free(&a);
    return rc;
}
