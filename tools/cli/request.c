/* pincurl [options] URL: a pinned request with curl's option names. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

#define MAX_LIST 64
#define MAX_DATA (64u * 1024u * 1024u)

typedef struct req_args {
    const char *url;
    const char *method;
    const char *output;
    const char *policy_file;
    const char *report_uri;
    const char *spool;
    const char *pinnedpubkey;
    const char *user_agent;
    const char *headers[MAX_LIST];
    size_t header_count;
    const char *pins[MAX_LIST];
    size_t pin_count;
    char *data;
    size_t data_len;
    int have_data;
    int silent, show_error, verbose, include, location, fail, head, progress, report_only, json;
    long max_redirs;
    cli_conn_opts conn;
} req_args;

typedef struct req_ctx {
    cli_path path;
    int verbose;
    int observer;          /* the policy is only there to see the path */
    FILE *out;             /* where the streamed body goes, or NULL to discard it */
    uint64_t written;
    int write_failed;
    int progress;          /* draw a progress bar on stderr */
} req_ctx;

/* Appends a -d/--data-binary value (curl joins several with '&'). */
static int add_data(req_args *a, const char *value, int strip_newlines)
{
    const unsigned char *bytes = (const unsigned char *)value;
    unsigned char *file = NULL;
    size_t len = strlen(value);
    if (value[0] == '@') {
        if ((file = cli_read_file(value + 1, MAX_DATA, &len)) == NULL)
            return CLI_READ_ERROR;
        bytes = file;
    }
    size_t sep = a->have_data ? 1 : 0;
    char *grown = realloc(a->data, a->data_len + sep + len + 1);
    if (grown == NULL) {
        free(file);
        return CLI_OUT_OF_MEMORY;
    }
    a->data = grown;
    if (sep)
        a->data[a->data_len++] = '&';
    for (size_t i = 0; i < len; i++)
        if (!strip_newlines || file == NULL || (bytes[i] != '\r' && bytes[i] != '\n'))
            a->data[a->data_len++] = (char)bytes[i];
    a->data[a->data_len] = '\0';
    a->have_data = 1;
    free(file);
    return CLI_OK;
}

static int add_to_list(const char **list, size_t *count, const char *value, const char *opt)
{
    if (*count >= MAX_LIST) {
        cli_error("option %s: at most %d times", opt, MAX_LIST);
        return CLI_USAGE;
    }
    list[(*count)++] = value;
    return CLI_OK;
}

static int parse_args(int argc, char **argv, req_args *a)
{
    int only_args = 0;
    a->max_redirs = 50;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v = NULL;
        int r, rc;
        if (only_args || arg[0] != '-' || arg[1] == '\0') {
            if (a->url != NULL) {
                cli_error("only one URL per command (got '%s' and '%s')", a->url, arg);
                return CLI_USAGE;
            }
            a->url = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_args = 1;
            continue;
        }
        if ((r = cli_conn_opt(argc, argv, &i, &a->conn)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
#define VALUE(s, l) ((r = cli_opt_value(argc, argv, &i, s, l, &v)) != 0)
        if (VALUE("-X", "--request"))
            a->method = v;
        else if (VALUE("-H", "--header")) {
            if (r > 0 && (rc = add_to_list(a->headers, &a->header_count, v, "-H")) != 0)
                return rc;
        } else if (VALUE("-d", "--data")) {
            if (r > 0 && (rc = add_data(a, v, 1)) != 0)
                return rc;
        } else if (VALUE(NULL, "--data-binary")) {
            if (r > 0 && (rc = add_data(a, v, 0)) != 0)
                return rc;
        } else if (VALUE("-o", "--output"))
            a->output = v;
        else if (VALUE("-A", "--user-agent"))
            a->user_agent = v;
        else if (VALUE(NULL, "--max-redirs")) {
            char *end;
            if (r > 0) {
                a->max_redirs = strtol(v, &end, 10);
                if (end == v || *end != '\0' || a->max_redirs < 0 || a->max_redirs > 50) {
                    cli_error("option --max-redirs: expected 0 to 50, got '%s'", v);
                    return CLI_USAGE;
                }
            }
        } else if (VALUE(NULL, "--pinnedpubkey"))
            a->pinnedpubkey = v;
        else if (VALUE(NULL, "--policy"))
            a->policy_file = v;
        else if (VALUE(NULL, "--pin")) {
            if (r > 0 && (rc = add_to_list(a->pins, &a->pin_count, v, "--pin")) != 0)
                return rc;
        } else if (VALUE(NULL, "--report-uri"))
            a->report_uri = v;
        else if (VALUE(NULL, "--spool"))
            a->spool = v;
#undef VALUE
        else if (cli_opt_flag(arg, "-s", "--silent"))
            a->silent = 1;
        else if (cli_opt_flag(arg, "-S", "--show-error"))
            a->show_error = 1;
        else if (cli_opt_flag(arg, "-v", "--verbose"))
            a->verbose = 1;
        else if (cli_opt_flag(arg, "-i", "--include"))
            a->include = 1;
        else if (cli_opt_flag(arg, "-I", "--head"))
            a->head = 1;
        else if (cli_opt_flag(arg, "-L", "--location"))
            a->location = 1;
        else if (cli_opt_flag(arg, "-f", "--fail"))
            a->fail = 1;
        else if (cli_opt_flag(arg, "-#", "--progress-bar"))
            a->progress = 1;
        else if (cli_opt_flag(arg, NULL, "--report-only"))
            a->report_only = 1;
        else if (cli_opt_flag(arg, NULL, "--json"))
            a->json = 1;
        else if (cli_opt_flag(arg, "-k", "--insecure")) {
            cli_error("option %s: not supported: pincurl never skips certificate validation; "
                      "use --cacert to trust a private root",
                      arg);
            return CLI_USAGE;
        } else {
            cli_error("option %s: is unknown (try 'pincurl --help')", arg);
            return CLI_USAGE;
        }
        if (r < 0)
            return CLI_USAGE;
    }
    if (a->url == NULL) {
        cli_error("no URL specified (try 'pincurl --help')");
        return CLI_USAGE;
    }
    if (a->policy_file != NULL && a->pin_count > 0) {
        cli_error("--pin and --policy cannot be combined: put the pins in the policy");
        return CLI_USAGE;
    }
    return CLI_OK;
}

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

static void event_cb(const pincurl_event *ev, void *user)
{
    req_ctx *ctx = user;
    pincurl_event_kind kind = pincurl_event_get_kind(ev);
    cli_path_event_cb(ev, &ctx->path);
    if (!ctx->verbose || ctx->observer)
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
    unsigned width = (unsigned)((ctx->written / 65536u) % 40u) + 1;
    if (done)
        width = 40;
    fprintf(stderr, "\r%-40.*s %llu bytes%s", (int)width, bar,
            (unsigned long long)ctx->written, done ? "\n" : "");
}

static size_t write_cb(const void *data, size_t len, void *user)
{
    req_ctx *ctx = user;
    if (ctx->out != NULL && len > 0 && fwrite(data, 1, len, ctx->out) != len) {
        ctx->write_failed = 1;
        return 0;
    }
    ctx->written += len;
    if (ctx->progress)
        draw_progress(ctx, 0);
    return len;
}

static void print_headers(FILE *f, const pincurl_response *resp, const char *prefix)
{
    fprintf(f, "%sHTTP %ld\r\n", prefix, pincurl_response_code(resp));
    for (size_t i = 0; i < pincurl_response_header_count(resp); i++)
        fprintf(f, "%s%s: %s\r\n", prefix, pincurl_response_header_name(resp, i),
                pincurl_response_header_value(resp, i));
    fprintf(f, "%s\r\n", prefix);
}

static void print_json(const req_args *a, const req_ctx *ctx, const pincurl_response *resp,
                       pincurl_status st, int code)
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
     * do (https, no redirects), else an entry for a name that never resolves. */
    *observer = 1;
    rc = -1;
    if (https && !a->location)
        rc = policy_observer(host, policy);
    if (rc != CLI_OK)
        rc = policy_observer("unpinned.invalid", policy);
    return rc == CLI_OK ? CLI_OK : CLI_INTERNAL;
}

static int build_request(const req_args *a, const char *url, pincurl_request **out)
{
    const char *method = a->method;
    int has_type = 0;
    if (method == NULL)
        method = a->head ? "HEAD" : a->have_data ? "POST" : "GET";
    pincurl_request *r = pincurl_request_new(method, url);
    if (r == NULL)
        return CLI_OUT_OF_MEMORY;
    for (size_t i = 0; i < a->header_count; i++) {
        if (strncasecmp(a->headers[i], "content-type:", 13) == 0)
            has_type = 1;
        if (pincurl_request_add_header(r, a->headers[i]) != PINCURL_OK) {
            cli_error("-H '%s': not a 'Name: value' header line", a->headers[i]);
            pincurl_request_free(r);
            return CLI_USAGE;
        }
    }
    if (a->have_data) {
        if (!has_type && pincurl_request_add_header(
                             r, "Content-Type: application/x-www-form-urlencoded") != PINCURL_OK) {
            pincurl_request_free(r);
            return CLI_OUT_OF_MEMORY;
        }
        if (pincurl_request_set_body(r, a->data, a->data_len) != PINCURL_OK) {
            pincurl_request_free(r);
            return CLI_OUT_OF_MEMORY;
        }
    }
    *out = r;
    return CLI_OK;
}

static int run(req_args *a)
{
    char host[PINCURL_HOST_MAX + 1];
    char *url_buf = NULL;
    const char *url = a->url;
    int https = 0, rc;
    pincurl_policy *policy = NULL;
    pincurl_options *o = NULL;
    pincurl_client *c = NULL;
    pincurl_request *r = NULL;
    pincurl_response *resp = NULL;
    req_ctx *ctx = calloc(1, sizeof *ctx);
    FILE *file = NULL;
    int quiet = a->silent && !a->show_error;

    if (ctx == NULL)
        return CLI_OUT_OF_MEMORY;
    if (strstr(url, "://") == NULL) { /* as curl, a URL without scheme; pincurl assumes https */
        size_t n = strlen(url) + sizeof "https://";
        if ((url_buf = malloc(n)) == NULL) {
            free(ctx);
            return CLI_OUT_OF_MEMORY;
        }
        snprintf(url_buf, n, "https://%s", url);
        url = url_buf;
    }
    if (url_host(url, host, sizeof host, &https) != 0) {
        cli_error("(3) URL '%s' is malformed", a->url);
        rc = CLI_BAD_URL;
        goto done;
    }
    if ((rc = make_policy(a, host, https, &policy, &ctx->observer)) != CLI_OK)
        goto done;
    ctx->verbose = a->verbose;
    rc = CLI_INTERNAL;
    if ((o = pincurl_options_new()) == NULL)
        goto done;
    pincurl_status st = cli_conn_apply(&a->conn, o);
    if (st == PINCURL_OK)
        st = pincurl_options_set_max_redirects(o, a->location ? a->max_redirs : 0);
    if (st == PINCURL_OK && a->pinnedpubkey != NULL)
        st = pincurl_options_set_pinned_public_key(o, a->pinnedpubkey);
    if (st == PINCURL_OK && a->user_agent != NULL)
        st = pincurl_options_set_user_agent(o, a->user_agent);
    if (st == PINCURL_OK && a->spool != NULL)
        st = pincurl_options_set_spool_dir(o, a->spool);
    if (st == PINCURL_OK)
        st = pincurl_options_set_event_callback(o, event_cb, ctx);
    if (st == PINCURL_OK)
        st = pincurl_client_new(policy, o, &c);
    if (st != PINCURL_OK) {
        const pincurl_runtime_info *ri = pincurl_runtime();
        if (st == PINCURL_BACKEND_UNSUPPORTED && !ri->backend_ok)
            cli_error("(%d) %s: %s: pincurl was built for the %s backend, but libcurl %s "
                      "runs on %s",
                      cli_exit_code(st), pincurl_status_name(st), pincurl_strerror(st),
                      ri->backend_expected, ri->libcurl_version, ri->tls_library);
        else
            cli_error("(%d) %s: %s", cli_exit_code(st), pincurl_status_name(st),
                      pincurl_strerror(st));
        rc = st == PINCURL_INVALID_ARGUMENT ? CLI_USAGE : cli_exit_code(st);
        goto done;
    }
    if ((rc = build_request(a, url, &r)) != CLI_OK)
        goto done;

    /* The body streams to -o or stdout unless -i/-f/--json need the response first. */
    int buffered = a->output == NULL && (a->include || a->head || a->fail || a->json);
    if (a->output != NULL) {
        if ((file = fopen(a->output, "wb")) == NULL) {
            cli_error("(23) %s: cannot open for writing", a->output);
            rc = CLI_WRITE_ERROR;
            goto done;
        }
        ctx->out = file;
        ctx->progress = a->progress && !a->silent && isatty(STDERR_FILENO);
    } else {
        ctx->out = a->json ? NULL : stdout;
    }
    if (!buffered && pincurl_request_set_write_callback(r, write_cb, ctx) != PINCURL_OK) {
        rc = CLI_INTERNAL;
        goto done;
    }
    if (a->verbose) {
        fprintf(stderr, "> %s %s\n", a->method != NULL ? a->method
                                      : a->head     ? "HEAD"
                                      : a->have_data ? "POST"
                                                     : "GET",
                url);
        for (size_t i = 0; i < a->header_count; i++)
            fprintf(stderr, "> %s\n", a->headers[i]);
    }

    st = pincurl_client_perform(c, r, &resp);
    if (resp == NULL) {
        cli_error("(27) out of memory");
        rc = CLI_OUT_OF_MEMORY;
        goto done;
    }
    if (ctx->progress)
        draw_progress(ctx, 1);
    rc = cli_exit_code(st);
    if (st == PINCURL_ABORTED_BY_CALLBACK && ctx->write_failed)
        rc = CLI_WRITE_ERROR;
    long code = pincurl_response_code(resp);
    if (st == PINCURL_OK && a->fail && code >= 400)
        rc = CLI_HTTP_ERROR;
    if (st == PINCURL_OK && a->verbose)
        print_headers(stderr, resp, "< ");
    if (st == PINCURL_OK && !a->json && rc == CLI_OK && buffered) {
        size_t len;
        const unsigned char *body = pincurl_response_body(resp, &len);
        if (a->include || a->head)
            print_headers(stdout, resp, "");
        if (!a->head && len > 0 && fwrite(body, 1, len, stdout) != len)
            rc = CLI_WRITE_ERROR;
    } else if (st == PINCURL_OK && a->include && !buffered && file != NULL) {
        print_headers(stdout, resp, "");
    }
    if (rc == CLI_HTTP_ERROR && !quiet)
        cli_error("(22) The requested URL returned error: %ld", code);
    if (st != PINCURL_OK && !quiet) {
        cli_error("(%d) %s", rc, pincurl_strerror(st));
        const char *detail = pincurl_response_detail(resp);
        if (detail != NULL && detail[0] != '\0')
            fprintf(stderr, "%s%s", detail, detail[strlen(detail) - 1] == '\n' ? "" : "\n");
    }
    if (a->json)
        print_json(a, ctx, resp, st, rc);
    if (fflush(stdout) != 0 && rc == CLI_OK)
        rc = CLI_WRITE_ERROR;

done:
    if (file != NULL && fclose(file) != 0 && rc == CLI_OK)
        rc = CLI_WRITE_ERROR;
    pincurl_response_free(resp);
    pincurl_request_free(r);
    pincurl_client_free(c);
    pincurl_options_free(o);
    pincurl_policy_unref(policy);
    free(url_buf);
    free(ctx);
    return rc;
}

/* curl's grouped short options: "-fsSL" is "-f -s -S -L", "-ofile" is "-o file". Returns
 * a new argument vector (the strings point into argv or into one allocation) or NULL. */
static char **expand_short_options(int argc, char **argv, int *out_argc, char **storage)
{
    static const char flags[] = "sSviILf#k";
    static const char takes_value[] = "XHdoAmx";
    size_t total = 0, count = 0;
    for (int i = 0; i < argc; i++)
        total += strlen(argv[i]) * 3 + 1;
    char **out = calloc((size_t)argc * 2 + total + 1, sizeof *out);
    char *buf = malloc(total * 2 + 1);
    char *p = buf;
    if (out == NULL || buf == NULL) {
        free(out);
        free(buf);
        return NULL;
    }
    int only_args = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0)
            only_args = 1;
        if (only_args || i == 0 || arg[0] != '-' || arg[1] == '-' || arg[1] == '\0' ||
            arg[2] == '\0') {
            out[count++] = argv[i];
            continue;
        }
        /* A group: every letter a flag, except that a value-taking letter ends it. */
        int ok = 1;
        for (const char *c = arg + 1; *c != '\0'; c++) {
            if (strchr(takes_value, *c) != NULL)
                break;
            if (strchr(flags, *c) == NULL) {
                ok = 0;
                break;
            }
        }
        if (!ok) {
            out[count++] = argv[i]; /* reported as unknown by the parser */
            continue;
        }
        for (const char *c = arg + 1; *c != '\0'; c++) {
            p[0] = '-';
            p[1] = *c;
            p[2] = '\0';
            out[count++] = p;
            p += 3;
            if (strchr(takes_value, *c) != NULL) {
                if (c[1] != '\0') {
                    size_t n = strlen(c + 1);
                    memcpy(p, c + 1, n + 1);
                    out[count++] = p;
                    p += n + 1;
                }
                break;
            }
        }
    }
    *out_argc = (int)count;
    *storage = buf;
    return out;
}

int cli_request_main(int argc, char **argv)
{
    req_args a;
    int n;
    char *storage = NULL;
    char **args = expand_short_options(argc, argv, &n, &storage);
    if (args == NULL)
        return CLI_OUT_OF_MEMORY;
    memset(&a, 0, sizeof a);
    int rc = parse_args(n, args, &a);
    if (rc == CLI_OK)
        rc = run(&a);
    free(a.data);
    free(args);
    free(storage);
    return rc;
}
