/* The pincurl tool: messages, files, option parsing, exit codes and the path probe. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_silent;

void cli_error(const char *fmt, ...)
{
    va_list ap;
    if (cli_silent)
        return;
    va_start(ap, fmt);
    fputs("pincurl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    if (cli_silent)
        return;
    va_start(ap, fmt);
    fputs("pincurl: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_exit_code(pincurl_status st)
{
    switch (st) {
    case PINCURL_OK: return CLI_OK;
    case PINCURL_DNS: return CLI_DNS;
    case PINCURL_CONNECT: return CLI_CONNECT;
    case PINCURL_TIMEOUT: return CLI_TIMEOUT;
    case PINCURL_TLS: return CLI_TLS;
    case PINCURL_CERT_INVALID:
    case PINCURL_HOST_MISMATCH: return CLI_CERT_INVALID;
    case PINCURL_PIN_MISMATCH: return CLI_PIN_MISMATCH;
    case PINCURL_BAD_URL: return CLI_BAD_URL;
    case PINCURL_TOO_MANY_REDIRECTS: return CLI_TOO_MANY_REDIRECTS;
    case PINCURL_RESPONSE_TOO_LARGE: return CLI_TOO_LARGE;
    case PINCURL_TRANSFER: return CLI_TRANSFER;
    case PINCURL_ABORTED_BY_CALLBACK: return CLI_ABORTED;
    case PINCURL_PROXY: return CLI_PROXY;
    case PINCURL_CLEARTEXT_PINNED: return CLI_CLEARTEXT;
    case PINCURL_POLICY_EXPIRED: return CLI_POLICY_EXPIRED;
    case PINCURL_BACKEND_UNSUPPORTED:
    case PINCURL_PIN_CHECK_FAILED: return CLI_PIN_CHECK;
    case PINCURL_OUT_OF_MEMORY: return CLI_OUT_OF_MEMORY;
    case PINCURL_IO: return CLI_WRITE_ERROR;
    default: return CLI_INTERNAL;
    }
}

unsigned char *cli_read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t cap = 4096, n = 0;
    unsigned char *buf;
    *len = 0;
    if (f == NULL) {
        cli_error("%s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(cap);
    while (buf != NULL) {
        if (n + 1 >= cap) {
            unsigned char *bigger = cap > max ? NULL : realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int failed = buf == NULL || ferror(f);
    int saved = errno;
    if (f != stdin)
        fclose(f);
    if (failed || n > max) {
        cli_error("%s: %s", path, buf == NULL || n > max ? "file too large" : strerror(saved));
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int cli_opt_flag(const char *arg, const char *shortname, const char *longname)
{
    return (shortname != NULL && strcmp(arg, shortname) == 0) ||
           (longname != NULL && strcmp(arg, longname) == 0);
}

int cli_opt_value(int argc, char **argv, int *i, const char *shortname, const char *longname,
                  const char **value)
{
    const char *arg = argv[*i];
    if (longname != NULL) {
        size_t n = strlen(longname);
        if (strncmp(arg, longname, n) == 0 && arg[n] == '=') {
            *value = arg + n + 1;
            return 1;
        }
    }
    if (!cli_opt_flag(arg, shortname, longname))
        return 0;
    if (*i + 1 >= argc) {
        cli_error("option %s: requires an argument", arg);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

long cli_seconds_to_ms(const char *text)
{
    char *end;
    errno = 0;
    double s = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(s >= 0) || s > 86400.0 * 365)
        return -1;
    long ms = (long)(s * 1000.0 + 0.5);
    return ms == 0 && s > 0 ? 1 : ms;
}

void cli_format_time(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    /* four digits for every year a certificate can name (0000-9999) */
    if (gmtime_r(&tt, &tm) == NULL ||
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec) >= (int)size)
        snprintf(buf, size, "%lld", (long long)t);
}

void cli_unread_fields(unsigned unread, char *buf, size_t size)
{
    static const struct {
        unsigned bit;
        const char *name;
    } fields[] = {{PINCURL_CERT_SUBJECT, "subject"},       {PINCURL_CERT_ISSUER, "issuer"},
                  {PINCURL_CERT_NOT_BEFORE, "not before"}, {PINCURL_CERT_NOT_AFTER, "not after"},
                  {PINCURL_CERT_KEY_TYPE, "key type"}};
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (!(unread & fields[i].bit))
            continue;
        int w = snprintf(buf + n, size - n, "%s%s", n > 0 ? ", " : "", fields[i].name);
        if (w < 0 || (size_t)w >= size - n)
            return;
        n += (size_t)w;
    }
}

static void print_name(const char *label, const char *name, unsigned unread, unsigned bit,
                       pincurl_status st)
{
    if (!(unread & bit))
        printf("  %-10s %s\n", label, name);
    else if (st == PINCURL_BUFFER_TOO_SMALL)
        printf("  %-10s %s... (cut: longer than %d characters)\n", label, name,
               PINCURL_CERT_NAME_MAX - 1);
    else
        printf("  %-10s (could not be read: %s)\n", label, pincurl_strerror(st));
}

void cli_print_cert_info(const pincurl_cert_info *c)
{
    char pin[PINCURL_PIN_TEXT_SIZE], when[32];
    print_name("subject:", c->subject, c->unread, PINCURL_CERT_SUBJECT, c->subject_status);
    print_name("issuer:", c->issuer, c->unread, PINCURL_CERT_ISSUER, c->issuer_status);
    if (!(c->unread & PINCURL_CERT_NOT_AFTER)) {
        cli_format_time(c->not_after, when, sizeof when);
        printf("  not after: %s\n", when);
    } else {
        printf("  not after: (could not be read: %s)\n", pincurl_strerror(c->not_after_status));
    }
    if (!(c->unread & PINCURL_CERT_KEY_TYPE))
        printf("  key:       %s %u bits\n", c->key_type, c->key_bits);
    else
        printf("  key:       (could not be read: %s)\n", pincurl_strerror(c->key_type_status));
    cli_format_pin(&c->pin, pin);
    printf("  pin:       %s\n", pin);
    if (c->key_notes & PINCURL_SPKI_NOTE_RSA_PARAMETERS)
        printf("  note:      the key's algorithm identifier lacks the NULL parameter RSA keys "
               "carry (or has another one)\n");
    if (c->key_notes & PINCURL_SPKI_NOTE_RSA_INTEGERS)
        printf("  note:      the key's modulus or exponent is not a minimal positive DER "
               "INTEGER\n");
    if (c->key_notes & PINCURL_SPKI_NOTE_PSS_PARAMETERS)
        printf("  note:      the key's RSASSA-PSS parameters are not in the form re-encoders "
               "write\n");
    if (c->key_notes != 0)
        printf("  note:      tools that re-encode the key (openssl pkey) print another pin; "
               "the pin above is of the bytes the certificate carries, the one pincurl "
               "matches\n");
}

void cli_format_pin(const pincurl_pin *pin, char *buf)
{
    if (pincurl_pin_format(pin, buf, PINCURL_PIN_TEXT_SIZE) != PINCURL_OK)
        buf[0] = '\0';
}

int cli_conn_opt(int argc, char **argv, int *i, cli_conn_opts *o)
{
    const char *v = NULL; /* set by cli_opt_value only when it returns 1 */
    int r;
    if ((r = cli_opt_value(argc, argv, i, NULL, "--cacert", &v)) != 0) {
        o->cacert = v;
        return r;
    }
    if ((r = cli_opt_value(argc, argv, i, "-x", "--proxy", &v)) != 0) {
        o->proxy = v;
        return r;
    }
    if ((r = cli_opt_value(argc, argv, i, NULL, "--resolve", &v)) != 0) {
        if (r < 0)
            return r;
        if (o->resolve_count >= CLI_MAX_RESOLVE) {
            cli_error("option --resolve: at most %d entries", CLI_MAX_RESOLVE);
            return -1;
        }
        o->resolve[o->resolve_count++] = v;
        return 1;
    }
    if ((r = cli_opt_value(argc, argv, i, NULL, "--connect-timeout", &v)) != 0 ||
        (r = cli_opt_value(argc, argv, i, "-m", "--max-time", &v)) != 0) {
        if (r < 0)
            return r;
        long ms = cli_seconds_to_ms(v);
        if (ms < 0) {
            cli_error("option %s: expected a number of seconds, got '%s'", argv[*i - 1], v);
            return -1;
        }
        if (strstr(argv[*i - 1], "connect") != NULL)
            o->connect_timeout_ms = ms;
        else
            o->timeout_ms = ms;
        return 1;
    }
    return 0;
}

pincurl_status cli_conn_apply(const cli_conn_opts *c, pincurl_options *o)
{
    pincurl_status st = PINCURL_OK;
    if (c->cacert != NULL)
        st = pincurl_options_set_ca_file(o, c->cacert);
    if (st == PINCURL_OK && c->proxy != NULL)
        st = pincurl_options_set_proxy(o, c->proxy);
    for (size_t i = 0; st == PINCURL_OK && i < c->resolve_count; i++)
        if ((st = pincurl_options_add_resolve(o, c->resolve[i])) != PINCURL_OK)
            cli_error("--resolve %s: %s", c->resolve[i], pincurl_strerror(st));
    if (st == PINCURL_OK && c->connect_timeout_ms > 0)
        st = pincurl_options_set_connect_timeout_ms(o, c->connect_timeout_ms);
    if (st == PINCURL_OK && c->timeout_ms > 0)
        st = pincurl_options_set_timeout_ms(o, c->timeout_ms);
    return st;
}

void cli_path_event_cb(const pincurl_event *ev, void *user)
{
    cli_path *p = user;
    if (pincurl_event_get_kind(ev) != PINCURL_EVENT_VALIDATION)
        return;
    memset(p, 0, sizeof *p);
    p->seen = 1;
    p->result = pincurl_event_result(ev);
    p->decision = pincurl_event_decision(ev);
    p->matched_depth = -1;
    const pincurl_verdict *v = pincurl_event_verdict(ev);
    if (v != NULL && v->matched_depth >= 0) {
        p->matched_depth = v->matched_depth;
        p->matched_pin = v->matched_pin;
    }
    size_t n = pincurl_event_path_count(ev);
    if (n > PINCURL_MAX_PATH)
        n = PINCURL_MAX_PATH;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const unsigned char *der = pincurl_event_path_cert(ev, i, &len);
        p->info_ok[i] = pincurl_cert_info_read(der, len, &p->certs[i]) == PINCURL_OK;
        const pincurl_pin *pin = pincurl_event_path_pin(ev, i);
        if (pin != NULL)
            p->certs[i].pin = *pin;
    }
    p->count = n;
}

int cli_split_host_port(const char *arg, char *host, size_t host_size, unsigned *port)
{
    const char *end, *colon = NULL;
    *port = 443;
    if (arg[0] == '[') {
        end = strchr(arg, ']');
        if (end == NULL)
            return -1;
        if (end[1] == ':')
            colon = end + 1;
        else if (end[1] != '\0')
            return -1;
        arg++;
    } else {
        colon = strrchr(arg, ':');
        if (colon != NULL && strchr(arg, ':') != colon)
            colon = NULL; /* a bare IPv6 address */
        end = colon != NULL ? colon : arg + strlen(arg);
    }
    size_t n = (size_t)(end - arg);
    if (n == 0 || n >= host_size)
        return -1;
    memcpy(host, arg, n);
    host[n] = '\0';
    if (colon != NULL) {
        char *stop;
        errno = 0;
        unsigned long p = strtoul(colon + 1, &stop, 10);
        if (errno != 0 || stop == colon + 1 || *stop != '\0' || p == 0 || p > 65535)
            return -1;
        *port = (unsigned)p;
    }
    return 0;
}

pincurl_status cli_probe(const char *host, unsigned port, const cli_conn_opts *conn,
                         cli_path *path, char *detail, size_t detail_size)
{
    pincurl_policy_builder *b = pincurl_policy_builder_new(NULL);
    pincurl_policy *policy = NULL;
    pincurl_options *o = NULL;
    pincurl_client *c = NULL;
    pincurl_request *r = NULL;
    pincurl_response *resp = NULL;
    pincurl_pin dummy;
    size_t index;
    char url[PINCURL_HOST_MAX + 32];
    pincurl_status st = b == NULL ? PINCURL_OUT_OF_MEMORY : PINCURL_OK;

    memset(path, 0, sizeof *path);
    memset(&dummy, 0, sizeof dummy);
    if (detail != NULL && detail_size > 0)
        detail[0] = '\0';
    /* Report-only: the handshake proceeds whatever the path, and the event shows it. */
    if (st == PINCURL_OK)
        st = pincurl_policy_builder_add_domain(b, host, 0, &index);
    if (st == PINCURL_OK)
        st = pincurl_policy_builder_add_pin(b, index, &dummy);
    if (st == PINCURL_OK)
        st = pincurl_policy_builder_finish(b, &policy, NULL);
    pincurl_policy_builder_free(b);
    if (st == PINCURL_OK && (o = pincurl_options_new()) == NULL)
        st = PINCURL_OUT_OF_MEMORY;
    if (st == PINCURL_OK)
        st = cli_conn_apply(conn, o);
    /* never wait forever on a server that accepts and does not answer */
    if (st == PINCURL_OK && conn->timeout_ms <= 0)
        st = pincurl_options_set_timeout_ms(o, CLI_PROBE_TIMEOUT_MS);
    if (st == PINCURL_OK && conn->connect_timeout_ms <= 0)
        st = pincurl_options_set_connect_timeout_ms(o, CLI_PROBE_CONNECT_TIMEOUT_MS);
    if (st == PINCURL_OK)
        st = pincurl_options_set_event_callback(o, cli_path_event_cb, path);
    if (st == PINCURL_OK)
        st = pincurl_client_new(policy, o, &c);
    if (st == PINCURL_OK) {
        int v6 = strchr(host, ':') != NULL;
        snprintf(url, sizeof url, "https://%s%s%s:%u/", v6 ? "[" : "", host, v6 ? "]" : "",
                 port);
        if ((r = pincurl_request_new("HEAD", url)) == NULL)
            st = PINCURL_OUT_OF_MEMORY;
    }
    if (st == PINCURL_OK) {
        st = pincurl_client_perform(c, r, &resp);
        if (detail != NULL && resp != NULL)
            snprintf(detail, detail_size, "%s", pincurl_response_detail(resp));
    }
    pincurl_response_free(resp);
    pincurl_request_free(r);
    pincurl_client_free(c);
    pincurl_options_free(o);
    pincurl_policy_unref(policy);
    return st;
}
