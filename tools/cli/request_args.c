/* pincurl [options] URL: the command line, parsed as curl parses it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "request.h"

/* Options curl has that pincurl leaves out on purpose, and why. */
static const struct refused {
    const char *shortname, *longname, *why;
} REFUSED[] = {
    {"-k", "--insecure",
     "pincurl never skips certificate validation; use --cacert to trust a private root"},
    {NULL, "--proxy-insecure", "pincurl never skips certificate validation of a proxy either"},
    {NULL, "--http2-prior-knowledge",
     "pincurl speaks HTTP/2 over TLS only (negotiated with ALPN; see --http2)"},
    {NULL, "--http3", "the libcurl pincurl is built on has no HTTP/3"},
    {NULL, "--http3-only", "the libcurl pincurl is built on has no HTTP/3"},
    {NULL, "--tlsv1.0", "TLS 1.0 and 1.1 are never offered: the lowest version is 1.2"},
    {NULL, "--tlsv1.1", "TLS 1.0 and 1.1 are never offered: the lowest version is 1.2"},
    {NULL, "--tls-max", "libcurl's wolfSSL backend cannot cap the TLS version"},
    {"-K", "--config", "pincurl reads no configuration file: every option is on the command line"},
    {"-n", "--netrc", "pincurl reads no credentials from .netrc; give them with -u"},
    {NULL, "--netrc-optional", "pincurl reads no credentials from .netrc; give them with -u"},
    {NULL, "--netrc-file", "pincurl reads no credentials from .netrc; give them with -u"},
    {"-E", "--cert", "client certificates are not offered"},
    {NULL, "--key", "client certificates are not offered"},
    {NULL, "--ciphers", "pincurl keeps the TLS library's cipher choice"},
    {NULL, "--doh-url", "name lookups over DNS-over-HTTPS would not be pinned"},
    {NULL, "--unix-socket", "the pin decision needs a TCP connection to the URL's host"},
    {NULL, "--abstract-unix-socket", "the pin decision needs a TCP connection to the URL's host"},
    {"-Z", "--parallel", "pincurl makes one request per command"},
    {"-:", "--next", "pincurl makes one request per command"},
    {NULL, "--libcurl", "pincurl writes no libcurl source code"},
    {NULL, "--anyauth", "only HTTP Basic credentials (-u) are offered"},
    {NULL, "--digest", "only HTTP Basic credentials (-u) are offered"},
    {NULL, "--ntlm", "only HTTP Basic credentials (-u) are offered"},
    {NULL, "--negotiate", "only HTTP Basic credentials (-u) are offered"},
    {NULL, "--location-trusted", "credentials never follow a redirect to another host"},
    {NULL, "--proto", "pincurl speaks http and https only"},
    {NULL, "--proto-redir", "pincurl speaks http and https only"},
    {"-C", "--continue-at", "resuming a transfer is not offered"},
    {NULL, NULL, NULL}};

static const char *KIND_NAME[] = {"", "GET (-G, --get)", "HEAD (-I, --head)",
                                  "multipart formpost (-F, --form)", "POST (-d, --data)",
                                  "PUT (-T, --upload-file)"};

/* curl's SetHTTPrequest: one kind per command. */
static int set_kind(req_args *a, req_kind kind)
{
    if (a->kind == REQ_UNSPEC || a->kind == kind) {
        a->kind = kind;
        return CLI_OK;
    }
    cli_error("You can only select one HTTP request method! You asked for both %s and %s.",
              KIND_NAME[kind], KIND_NAME[a->kind]);
    return CLI_USAGE;
}

static int add_to_list(const char **list, size_t *count, const char *value, const char *opt)
{
    if (*count >= REQ_MAX_LIST) {
        cli_error("option %s: at most %d times", opt, REQ_MAX_LIST);
        return CLI_USAGE;
    }
    list[(*count)++] = value;
    return CLI_OK;
}

/* Appends len bytes to the data, after a '&' when sep and data is already there. */
static int append_data(req_args *a, const char *bytes, size_t len, int sep)
{
    size_t extra = a->have_data && sep ? 1 : 0;
    if (a->data_len + extra + len > REQ_MAX_DATA) {
        cli_error("the request data is larger than %u bytes", REQ_MAX_DATA);
        return CLI_USAGE;
    }
    char *grown = realloc(a->data, a->data_len + extra + len + 1);
    if (grown == NULL)
        return CLI_OUT_OF_MEMORY;
    a->data = grown;
    if (extra)
        a->data[a->data_len++] = '&';
    memcpy(a->data + a->data_len, bytes, len);
    a->data_len += len;
    a->data[a->data_len] = '\0';
    a->have_data = 1;
    return CLI_OK;
}

/* application/x-www-form-urlencoded: every byte but ALPHA DIGIT - . _ ~ as %XX, a space
 * as '+' (curl's --data-urlencode). */
static char *urlencode(const unsigned char *in, size_t len, size_t *out_len)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(len * 3 + 1), *p = out;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = in[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            *p++ = (char)ch;
        } else if (ch == ' ') {
            *p++ = '+';
        } else {
            *p++ = '%';
            *p++ = hex[ch >> 4];
            *p++ = hex[ch & 15];
        }
    }
    *p = '\0';
    *out_len = (size_t)(p - out);
    return out;
}

/* The data options. which: 'd' -d/--data/--data-ascii, 'b' --data-binary, 'r' --data-raw,
 * 'e' --data-urlencode, 'j' --json. */
static int add_data(req_args *a, const char *value, char which)
{
    unsigned char *file = NULL;
    const unsigned char *bytes = (const unsigned char *)value;
    size_t len = strlen(value);
    int rc;

    if (which == 'e') {
        /* [name]=content, [name]@file, or content: only the content is encoded */
        const char *sep = strchr(value, '=');
        size_t name_len = 0;
        if (sep == NULL)
            sep = strchr(value, '@');
        if (sep != NULL) {
            name_len = (size_t)(sep - value);
            bytes = (const unsigned char *)sep + 1;
            len = strlen(sep + 1);
            if (*sep == '@') {
                if ((file = cli_read_file(sep + 1, REQ_MAX_DATA, &len)) == NULL)
                    return CLI_READ_ERROR;
                bytes = file;
            }
        }
        size_t enc_len;
        char *enc = urlencode(bytes, len, &enc_len);
        free(file);
        if (enc == NULL)
            return CLI_OUT_OF_MEMORY;
        rc = CLI_OK;
        if (name_len > 0) {
            if ((rc = append_data(a, value, name_len, 1)) == CLI_OK)
                rc = append_data(a, "=", 1, 0);
            if (rc == CLI_OK)
                rc = append_data(a, enc, enc_len, 0);
        } else {
            rc = append_data(a, enc, enc_len, 1);
        }
        free(enc);
        return rc;
    }
    if (value[0] == '@' && which != 'r') {
        if ((file = cli_read_file(value + 1, REQ_MAX_DATA, &len)) == NULL)
            return CLI_READ_ERROR;
        bytes = file;
        if (which == 'd') { /* as curl: a text file's CR and LF are dropped */
            size_t kept = 0;
            for (size_t i = 0; i < len; i++)
                if (file[i] != '\r' && file[i] != '\n')
                    file[kept++] = file[i];
            len = kept;
        }
    }
    if (which == 'j')
        a->json_data = 1;
    rc = append_data(a, (const char *)bytes, len, which != 'j');
    free(file);
    return rc;
}

/* -b: NAME=VALUE strings are joined with ';'; anything else names a cookie file. */
static int add_cookie(req_args *a, const char *value)
{
    if (value[0] != '@' && strchr(value, '=') != NULL) {
        size_t old = a->cookie != NULL ? strlen(a->cookie) : 0, n = strlen(value);
        char *grown = realloc(a->cookie, old + n + 3);
        if (grown == NULL)
            return CLI_OUT_OF_MEMORY;
        if (old > 0) /* curl joins them with ';' alone */
            grown[old++] = ';';
        memcpy(grown + old, value, n + 1);
        a->cookie = grown;
        return CLI_OK;
    }
    if (value[0] == '@')
        value++;
    if (a->cookie_file != NULL && strcmp(a->cookie_file, value) != 0) {
        cli_error("option -b: one cookie file per command (got '%s' and '%s')", a->cookie_file,
                  value);
        return CLI_USAGE;
    }
    a->cookie_file = value;
    return CLI_OK;
}

static int parse_long(const char *opt, const char *v, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < min || n > max) {
        cli_error("option %s: expected a whole number from %ld to %ld, got '%s'", opt, min, max,
                  v);
        return CLI_USAGE;
    }
    *out = n;
    return CLI_OK;
}

static int parse_seconds(const char *opt, const char *v, long *ms)
{
    *ms = cli_seconds_to_ms(v);
    if (*ms < 0) {
        cli_error("option %s: expected a number of seconds, got '%s'", opt, v);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* -w: the format itself, or @FILE / @- to read it. */
static int set_write_out(req_args *a, const char *v)
{
    char *copy;
    free(a->write_out);
    a->write_out = NULL;
    if (v[0] == '@') {
        size_t len;
        unsigned char *text = cli_read_file(v + 1, 1024 * 1024, &len);
        size_t kept = 0;
        if (text == NULL)
            return CLI_READ_ERROR;
        /* as curl reads it: the lines joined, their CR and LF dropped (\n writes one) */
        for (size_t i = 0; i < len; i++)
            if (text[i] != '\r' && text[i] != '\n')
                text[kept++] = text[i];
        text[kept] = '\0';
        a->write_out = (char *)text;
        return CLI_OK;
    }
    if ((copy = strdup(v)) == NULL)
        return CLI_OUT_OF_MEMORY;
    a->write_out = copy;
    return CLI_OK;
}

static int set_url(req_args *a, const char *url)
{
    if (a->url != NULL) {
        cli_error("only one URL per command (got '%s' and '%s')", a->url, url);
        return CLI_USAGE;
    }
    a->url = url;
    return CLI_OK;
}

/* opt: a string literal (it is kept for messages) */
static int set_http_version(req_args *a, const char *opt, pincurl_http_version v)
{
    a->http_version = v;
    a->http_version_opt = opt;
    return CLI_OK;
}

static int parse_one(int argc, char **argv, int *i, req_args *a)
{
    const char *arg = argv[*i], *v = NULL;
    int r, rc = CLI_OK;

    if ((r = cli_conn_opt(argc, argv, i, &a->conn)) != 0)
        return r < 0 ? CLI_USAGE : CLI_OK;
    for (const struct refused *f = REFUSED; f->why != NULL; f++) {
        size_t n = f->longname != NULL ? strlen(f->longname) : 0;
        if (cli_opt_flag(arg, f->shortname, f->longname) ||
            (n > 0 && strncmp(arg, f->longname, n) == 0 && arg[n] == '=')) {
            cli_error("option %s: not supported: %s", arg, f->why);
            return CLI_USAGE;
        }
    }
#define VALUE(s, l) ((r = cli_opt_value(argc, argv, i, s, l, &v)) != 0)
#define FLAG(s, l) cli_opt_flag(arg, s, l)
    if (VALUE("-X", "--request"))
        a->method = v;
    else if (VALUE("-H", "--header"))
        rc = r > 0 ? add_to_list(a->headers, &a->header_count, v, "-H") : CLI_USAGE;
    else if (VALUE("-d", "--data") || VALUE(NULL, "--data-ascii"))
        rc = r > 0 ? add_data(a, v, 'd') : CLI_USAGE;
    else if (VALUE(NULL, "--data-binary"))
        rc = r > 0 ? add_data(a, v, 'b') : CLI_USAGE;
    else if (VALUE(NULL, "--data-raw"))
        rc = r > 0 ? add_data(a, v, 'r') : CLI_USAGE;
    else if (VALUE(NULL, "--data-urlencode"))
        rc = r > 0 ? add_data(a, v, 'e') : CLI_USAGE;
    else if (VALUE(NULL, "--json"))
        rc = r > 0 ? add_data(a, v, 'j') : CLI_USAGE;
    else if (VALUE("-F", "--form")) {
        if (r > 0 && (rc = set_kind(a, REQ_FORM)) == CLI_OK && a->form_count < REQ_MAX_LIST)
            a->forms[a->form_count++] = (req_form){v, 0};
    } else if (VALUE(NULL, "--form-string")) {
        if (r > 0 && (rc = set_kind(a, REQ_FORM)) == CLI_OK && a->form_count < REQ_MAX_LIST)
            a->forms[a->form_count++] = (req_form){v, 1};
    } else if (VALUE("-T", "--upload-file"))
        a->upload = v;
    else if (VALUE("-o", "--output"))
        a->output = v;
    else if (VALUE("-D", "--dump-header"))
        a->dump_header = v;
    else if (VALUE("-w", "--write-out"))
        rc = r > 0 ? set_write_out(a, v) : CLI_USAGE;
    else if (VALUE(NULL, "--url"))
        rc = r > 0 ? set_url(a, v) : CLI_USAGE;
    else if (VALUE("-A", "--user-agent"))
        a->user_agent = v;
    else if (VALUE("-u", "--user"))
        a->userpwd = v;
    else if (VALUE("-e", "--referer")) {
        if (r > 0) {
            const char *semi = strstr(v, ";auto");
            a->auto_referer = semi != NULL;
            a->referer = v;
            if (semi != NULL) {
                /* the referer is the part before ";auto" (none if empty) */
                size_t n = (size_t)(semi - v);
                free(a->referer_buf);
                if ((a->referer_buf = malloc(n + 1)) == NULL)
                    return CLI_OUT_OF_MEMORY;
                memcpy(a->referer_buf, v, n);
                a->referer_buf[n] = '\0';
                a->referer = n > 0 ? a->referer_buf : NULL;
            }
        }
    } else if (VALUE("-b", "--cookie"))
        rc = r > 0 ? add_cookie(a, v) : CLI_USAGE;
    else if (VALUE("-c", "--cookie-jar"))
        a->cookie_jar = v;
    else if (VALUE(NULL, "--capath"))
        a->ca_path = v;
    else if (VALUE(NULL, "--connect-to"))
        rc = r > 0 ? add_to_list(a->connect_to, &a->connect_to_count, v, "--connect-to")
                   : CLI_USAGE;
    else if (VALUE(NULL, "--max-redirs")) {
        if (r > 0 && (rc = parse_long("--max-redirs", v, -1, 50, &a->max_redirs)) == CLI_OK &&
            a->max_redirs < 0)
            a->max_redirs = 50; /* curl's -1, no limit: pincurl's limit is 50 */
    } else if (VALUE(NULL, "--retry"))
        rc = r > 0 ? parse_long("--retry", v, 0, 1000000, &a->retry) : CLI_USAGE;
    else if (VALUE(NULL, "--retry-delay"))
        rc = r > 0 ? parse_seconds("--retry-delay", v, &a->retry_delay_ms) : CLI_USAGE;
    else if (VALUE(NULL, "--retry-max-time"))
        rc = r > 0 ? parse_seconds("--retry-max-time", v, &a->retry_max_time_ms) : CLI_USAGE;
    else if (VALUE(NULL, "--pinnedpubkey"))
        a->pinnedpubkey = v;
    else if (VALUE(NULL, "--policy"))
        a->policy_file = v;
    else if (VALUE(NULL, "--pin"))
        rc = r > 0 ? add_to_list(a->pins, &a->pin_count, v, "--pin") : CLI_USAGE;
    else if (VALUE(NULL, "--report-uri"))
        a->report_uri = v;
    else if (VALUE(NULL, "--spool"))
        a->spool = v;
    else if (VALUE(NULL, "--report-wait"))
        rc = r > 0 ? parse_seconds("--report-wait", v, &a->report_wait_ms) : CLI_USAGE;
#undef VALUE
    else if (FLAG("-s", "--silent"))
        a->silent = 1;
    else if (FLAG("-S", "--show-error"))
        a->show_error = 1;
    else if (FLAG("-v", "--verbose"))
        a->verbose = 1;
    else if (FLAG("-i", "--include"))
        a->include = 1;
    else if (FLAG("-I", "--head")) {
        a->head = 1;
        rc = set_kind(a, REQ_HEAD);
    } else if (FLAG("-G", "--get"))
        a->get = 1;
    else if (FLAG("-O", "--remote-name"))
        a->remote_name = 1;
    else if (FLAG("-L", "--location"))
        a->location = 1;
    else if (FLAG("-f", "--fail"))
        a->fail = 1;
    else if (FLAG(NULL, "--fail-with-body"))
        a->fail_with_body = 1;
    else if (FLAG("-#", "--progress-bar"))
        a->progress = 1;
    else if (FLAG(NULL, "--compressed"))
        a->compressed = 1;
    else if (FLAG("-4", "--ipv4"))
        a->ip_version = PINCURL_IP_V4;
    else if (FLAG("-6", "--ipv6"))
        a->ip_version = PINCURL_IP_V6;
    else if (FLAG("-0", "--http1.0"))
        rc = set_http_version(a, "--http1.0", PINCURL_HTTP_VERSION_1_0);
    else if (FLAG(NULL, "--http1.1"))
        rc = set_http_version(a, "--http1.1", PINCURL_HTTP_VERSION_1_1);
    else if (FLAG(NULL, "--http2"))
        rc = set_http_version(a, "--http2", PINCURL_HTTP_VERSION_2);
    else if (FLAG("-1", "--tlsv1"))
        ; /* TLS 1.x: what pincurl does anyway */
    else if (FLAG(NULL, "--tlsv1.2"))
        a->tls_min = PINCURL_TLS_VERSION_1_2;
    else if (FLAG(NULL, "--tlsv1.3"))
        a->tls_min = PINCURL_TLS_VERSION_1_3;
    else if (FLAG(NULL, "--retry-connrefused"))
        a->retry_connrefused = 1;
    else if (FLAG(NULL, "--retry-all-errors"))
        a->retry_all_errors = 1;
    else if (FLAG("-g", "--globoff") || FLAG("-N", "--no-buffer") ||
             FLAG(NULL, "--no-progress-meter"))
        ; /* pincurl never globs URLs, never buffers the body and shows no progress meter */
    else if (FLAG(NULL, "--report-only"))
        a->report_only = 1;
    else if (FLAG(NULL, "--result-json"))
        a->result_json = 1;
    else {
        cli_error("option %s: is unknown (try 'pincurl --help')", arg);
        return CLI_USAGE;
    }
#undef FLAG
    return rc;
}

/* Short options that group as in curl ("-fsSL"); the value-taking ones end a group and take
 * the rest of it ("-ofile", "-XPOST") or the next argument. */
static const char GROUP_FLAGS[] = "sSviILfkGO46g0N1#";
static const char GROUP_VALUES[] = "XHdoAmxDwFTuebc";

/* One short-option group at argv[*i]. */
static int parse_group(int argc, char **argv, int *i, req_args *a)
{
    const char *arg = argv[*i];
    for (const char *c = arg + 1; *c != '\0' && strchr(GROUP_VALUES, *c) == NULL; c++) {
        if (strchr(GROUP_FLAGS, *c) == NULL) {
            cli_error("option %s: is unknown (try 'pincurl --help')", arg);
            return CLI_USAGE;
        }
    }
    for (const char *c = arg + 1; *c != '\0'; c++) {
        char opt[3] = {'-', *c, '\0'};
        char *sub[3] = {argv[0], opt, NULL};
        int j = 1, rc;
        if (strchr(GROUP_VALUES, *c) != NULL) {
            if (c[1] != '\0')
                sub[2] = (char *)(c + 1);
            else if (*i + 1 < argc)
                sub[2] = argv[++*i];
            rc = parse_one(sub[2] != NULL ? 3 : 2, sub, &j, a);
            return rc;
        }
        if ((rc = parse_one(2, sub, &j, a)) != CLI_OK)
            return rc;
    }
    return CLI_OK;
}

int req_parse(int argc, char **argv, req_args *a)
{
    int rc = CLI_OK, only_args = 0;

    memset(a, 0, sizeof *a);
    a->max_redirs = 50;
    a->report_wait_ms = 3000;
    /* Every value kept points into argv, which outlives the request. */
    for (int i = 1; i < argc && rc == CLI_OK; i++) {
        const char *arg = argv[i];
        if (!only_args && strcmp(arg, "--") == 0)
            only_args = 1;
        else if (only_args || arg[0] != '-' || arg[1] == '\0')
            rc = set_url(a, arg);
        else if (arg[1] != '-' && arg[2] != '\0')
            rc = parse_group(argc, argv, &i, a);
        else
            rc = parse_one(argc, argv, &i, a);
    }
    if (rc != CLI_OK)
        return rc;
    if (a->url == NULL) {
        cli_error("no URL specified (try 'pincurl --help')");
        return CLI_USAGE;
    }
    if (a->policy_file != NULL && a->pin_count > 0) {
        cli_error("--pin and --policy cannot be combined: put the pins in the policy");
        return CLI_USAGE;
    }
    if (a->fail && a->fail_with_body) {
        cli_error("You must select either --fail or --fail-with-body, not both.");
        return CLI_USAGE;
    }
    if (a->remote_name && a->output != NULL) {
        cli_error("-O and -o cannot be combined: one output per command");
        return CLI_USAGE;
    }
    if (a->userpwd != NULL && strchr(a->userpwd, ':') == NULL) {
        cli_error("option -u: give USER:PASSWORD (pincurl does not prompt for a password)");
        return CLI_USAGE;
    }
    /* The kinds curl settles when the transfer is set up: data, then upload. */
    if (a->have_data && (rc = set_kind(a, a->get ? (a->head ? REQ_HEAD : REQ_GET) : REQ_POST)) !=
                            CLI_OK)
        return rc;
    if (a->upload != NULL && (rc = set_kind(a, REQ_PUT)) != CLI_OK)
        return rc;
    return CLI_OK;
}

void req_args_free(req_args *a)
{
    free(a->data);
    free(a->cookie);
    free(a->write_out);
    free(a->referer_buf);
}
