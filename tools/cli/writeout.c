/* -w / --write-out: curl's format language over the response's transfer info, plus
 * pincurl's own variables about the pin decision. */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "request.h"

typedef enum wo_type { WO_TIME, WO_LONG, WO_CODE, WO_OFFSET, WO_STRING, WO_SPECIAL } wo_type;

/* A value: valid 0 is curl's "nothing" (no output; null in JSON). */
typedef struct wo_value {
    int valid;
    long n;
    int64_t big;
    const char *s;
} wo_value;

typedef void (*wo_get)(const wo_ctx *w, wo_value *v);

#define INFO(w) pincurl_response_info((w)->resp)

/* %{certs}: the validated path pincurl decided on (curl shows the chain the server sent,
 * from its TLS library's certificate info) */
static void get_certs(const wo_ctx *w, wo_value *v)
{
    static char text[PINCURL_MAX_PATH * 1024];
    size_t off = 0;
    text[0] = '\0';
    for (size_t i = 0; w->path->seen && i < w->path->count && off < sizeof text; i++) {
        const pincurl_cert_info *c = &w->path->certs[i];
        char when[32] = "", pin[PINCURL_PIN_TEXT_SIZE];
        if (w->path->info_ok[i])
            cli_format_time(c->not_after, when, sizeof when);
        cli_format_pin(&c->pin, pin);
        int n = snprintf(text + off, sizeof text - off,
                         "Subject:%s\nIssuer:%s\nExpire date:%s\nPin:%s\n", c->subject,
                         c->issuer, when, pin);
        if (n < 0)
            break;
        off += (size_t)n;
    }
    v->valid = 1;
    v->s = text;
}
static void get_num_certs(const wo_ctx *w, wo_value *v)
{
    v->valid = 1;
    v->n = w->path->seen ? (long)w->path->count : 0;
}
static void get_content_type(const wo_ctx *w, wo_value *v)
{
    v->s = w->resp != NULL ? INFO(w)->content_type : NULL;
    v->valid = v->s != NULL;
}
static void get_errormsg(const wo_ctx *w, wo_value *v)
{
    v->valid = w->exit_code != 0;
    v->s = w->errormsg;
}
static void get_exitcode(const wo_ctx *w, wo_value *v)
{
    v->valid = 1;
    v->n = w->exit_code;
}
static void get_filename(const wo_ctx *w, wo_value *v)
{
    v->valid = w->filename != NULL;
    v->s = w->filename;
}
static void get_null(const wo_ctx *w, wo_value *v)
{
    (void)w;
    v->valid = 0;
}
static void get_http_code(const wo_ctx *w, wo_value *v)
{
    v->valid = 1;
    v->n = pincurl_response_code(w->resp);
}
static void get_http_connect(const wo_ctx *w, wo_value *v)
{
    v->valid = 1;
    v->n = w->resp != NULL ? INFO(w)->http_connect_code : 0;
}
static void get_http_version(const wo_ctx *w, wo_value *v)
{
    long ver = w->resp != NULL ? INFO(w)->http_version : 0;
    v->valid = 1;
    v->s = ver == 10 ? "1" : ver == 11 ? "1.1" : ver == 20 ? "2" : ver == 30 ? "3" : "0";
}
static void get_local_ip(const wo_ctx *w, wo_value *v)
{
    v->valid = 1;
    v->s = w->resp != NULL ? INFO(w)->local_ip : "";
}
static void get_local_port(const wo_ctx *w, wo_value *v)
{
    v->valid = 1;
    v->n = w->resp != NULL ? INFO(w)->local_port : 0;
}
static void get_method(const wo_ctx *w, wo_value *v)
{
    v->s = w->resp != NULL ? INFO(w)->effective_method : NULL;
    v->valid = v->s != NULL;
}
static void get_zero(const wo_ctx *w, wo_value *v)
{
    (void)w;
    v->valid = 1;
    v->n = 0;
}
static void get_num_connects(const wo_ctx *w, wo_value *v)
{
    v->valid = 1;
    v->n = w->resp != NULL ? INFO(w)->num_connects : 0;
}
static void get_num_headers(const wo_ctx *w, wo_value *v)
{
    v->valid = 1;
    v->n = w->num_headers;
}
static void get_num_redirects(const wo_ctx *w, wo_value *v)
{
    v->valid = 1;
    v->n = w->resp != NULL ? INFO(w)->num_redirects : 0;
}
static void get_proxy_ssl_verify(const wo_ctx *w, wo_value *v)
{
    v->valid = 1;
    v->n = w->resp != NULL ? INFO(w)->proxy_ssl_verify_result : 0;
}
static void get_redirect_url(const wo_ctx *w, wo_value *v)
{
    v->s = w->resp != NULL ? INFO(w)->redirect_url : NULL;
    v->valid = v->s != NULL;
}
static void get_referer(const wo_ctx *w, wo_value *v)
{
    v->s = w->resp != NULL ? INFO(w)->referer : NULL;
    v->valid = v->s != NULL;
}
static void get_remote_ip(const wo_ctx *w, wo_value *v)
{
    v->valid = 1;
    v->s = w->resp != NULL ? INFO(w)->remote_ip : "";
}
static void get_remote_port(const wo_ctx *w, wo_value *v)
{
    v->valid = 1;
    v->n = w->resp != NULL ? INFO(w)->remote_port : 0;
}
static void get_scheme(const wo_ctx *w, wo_value *v)
{
    v->s = w->resp != NULL ? INFO(w)->scheme : NULL;
    v->valid = v->s != NULL;
}
#define OFFSET_GETTER(fn, field)                                                          \
    static void fn(const wo_ctx *w, wo_value *v)                                          \
    {                                                                                     \
        v->valid = 1;                                                                     \
        v->big = w->resp != NULL ? INFO(w)->field : 0;                                    \
    }
OFFSET_GETTER(get_size_download, size_download)
OFFSET_GETTER(get_size_header, size_header)
OFFSET_GETTER(get_size_request, size_request)
OFFSET_GETTER(get_size_upload, size_upload)
OFFSET_GETTER(get_speed_download, speed_download)
OFFSET_GETTER(get_speed_upload, speed_upload)
#define TIME_GETTER(fn, field)                                                            \
    static void fn(const wo_ctx *w, wo_value *v)                                          \
    {                                                                                     \
        v->big = w->resp != NULL ? INFO(w)->field : 0;                                    \
        v->valid = v->big >= 0;                                                           \
    }
TIME_GETTER(get_time_appconnect, appconnect_us)
TIME_GETTER(get_time_connect, connect_us)
TIME_GETTER(get_time_namelookup, namelookup_us)
TIME_GETTER(get_time_pretransfer, pretransfer_us)
TIME_GETTER(get_time_redirect, redirect_us)
TIME_GETTER(get_time_starttransfer, starttransfer_us)
TIME_GETTER(get_time_total, total_us)
static void get_ssl_verify(const wo_ctx *w, wo_value *v)
{
    v->valid = 1;
    v->n = w->resp != NULL ? INFO(w)->ssl_verify_result : 0;
}
static void get_url(const wo_ctx *w, wo_value *v)
{
    v->valid = w->input_url != NULL;
    v->s = w->input_url;
}
static void get_url_effective(const wo_ctx *w, wo_value *v)
{
    const char *eff = w->resp != NULL ? pincurl_response_effective_url(w->resp) : NULL;
    v->s = eff != NULL && eff[0] != '\0' ? eff : w->input_url;
    v->valid = v->s != NULL;
}

/* pincurl's own */
static void get_pinned(const wo_ctx *w, wo_value *v)
{
    v->valid = 1;
    v->n = w->pinned;
}
static void get_pin_result(const wo_ctx *w, wo_value *v)
{
    const pincurl_verdict *vd = pincurl_response_verdict(w->resp);
    v->valid = 1;
    if (w->pinned && w->path->seen)
        v->s = pincurl_result_name(w->path->result);
    else if (w->pinned && vd != NULL)
        v->s = pincurl_result_name(vd->result);
    else
        v->s = "NOT_PINNED";
}
static void get_pin_decision(const wo_ctx *w, wo_value *v)
{
    const pincurl_verdict *vd = pincurl_response_verdict(w->resp);
    pincurl_decision d = PINCURL_DECISION_BLOCK;
    v->valid = w->pinned && (w->path->seen || vd != NULL);
    if (w->pinned && w->path->seen)
        d = w->path->decision;
    else if (vd != NULL)
        d = vd->decision;
    v->s = d == PINCURL_DECISION_ALLOW ? "ALLOW" : "BLOCK";
}
static void get_pin_matched(const wo_ctx *w, wo_value *v)
{
    static char text[PINCURL_PIN_TEXT_SIZE];
    v->valid = w->pinned && w->path->seen && w->path->matched_depth >= 0;
    if (v->valid) {
        cli_format_pin(&w->path->matched_pin, text);
        v->s = text;
    }
}
static void get_pin_matched_depth(const wo_ctx *w, wo_value *v)
{
    v->valid = w->pinned && w->path->seen && w->path->matched_depth >= 0;
    v->n = v->valid ? w->path->matched_depth : 0;
}

typedef struct wo_var {
    const char *name;
    wo_type type;
    wo_get get;
} wo_var;

/* In alphabetical order: %{json} writes them in this order, as curl does. */
static const wo_var VARS[] = {
    {"certs", WO_STRING, get_certs},
    {"content_type", WO_STRING, get_content_type},
    {"errormsg", WO_STRING, get_errormsg},
    {"exitcode", WO_LONG, get_exitcode},
    {"filename_effective", WO_STRING, get_filename},
    {"ftp_entry_path", WO_STRING, get_null},
    {"header_json", WO_SPECIAL, NULL},
    {"http_code", WO_CODE, get_http_code},
    {"http_connect", WO_CODE, get_http_connect},
    {"http_version", WO_STRING, get_http_version},
    {"json", WO_SPECIAL, NULL},
    {"local_ip", WO_STRING, get_local_ip},
    {"local_port", WO_LONG, get_local_port},
    {"method", WO_STRING, get_method},
    {"num_certs", WO_LONG, get_num_certs},
    {"num_connects", WO_LONG, get_num_connects},
    {"num_headers", WO_LONG, get_num_headers},
    {"num_redirects", WO_LONG, get_num_redirects},
    {"onerror", WO_SPECIAL, NULL},
    {"pin_decision", WO_STRING, get_pin_decision},
    {"pin_matched", WO_STRING, get_pin_matched},
    {"pin_matched_depth", WO_LONG, get_pin_matched_depth},
    {"pin_result", WO_STRING, get_pin_result},
    {"pinned", WO_LONG, get_pinned},
    {"proxy_ssl_verify_result", WO_LONG, get_proxy_ssl_verify},
    {"redirect_url", WO_STRING, get_redirect_url},
    {"referer", WO_STRING, get_referer},
    {"remote_ip", WO_STRING, get_remote_ip},
    {"remote_port", WO_LONG, get_remote_port},
    {"response_code", WO_CODE, get_http_code},
    {"scheme", WO_STRING, get_scheme},
    {"size_download", WO_OFFSET, get_size_download},
    {"size_header", WO_OFFSET, get_size_header},
    {"size_request", WO_OFFSET, get_size_request},
    {"size_upload", WO_OFFSET, get_size_upload},
    {"speed_download", WO_OFFSET, get_speed_download},
    {"speed_upload", WO_OFFSET, get_speed_upload},
    {"ssl_verify_result", WO_LONG, get_ssl_verify},
    {"stderr", WO_SPECIAL, NULL},
    {"stdout", WO_SPECIAL, NULL},
    {"time_appconnect", WO_TIME, get_time_appconnect},
    {"time_connect", WO_TIME, get_time_connect},
    {"time_namelookup", WO_TIME, get_time_namelookup},
    {"time_pretransfer", WO_TIME, get_time_pretransfer},
    {"time_redirect", WO_TIME, get_time_redirect},
    {"time_starttransfer", WO_TIME, get_time_starttransfer},
    {"time_total", WO_TIME, get_time_total},
    {"url", WO_STRING, get_url},
    {"url_effective", WO_STRING, get_url_effective},
    {"urlnum", WO_LONG, get_zero},
    {NULL, WO_SPECIAL, NULL}};

/* A JSON string: the escapes of RFC 8259, control characters as \u00XX. */
static void json_string(FILE *f, const char *s, int lowercase)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '\\': fputs("\\\\", f); break;
        case '"': fputs("\\\"", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (ch < 0x20)
                fprintf(f, "\\u%04x", ch);
            else
                fputc(lowercase && ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch, f);
        }
    }
    fputc('"', f);
}

static void write_var(FILE *f, const wo_var *var, const wo_ctx *w, int json)
{
    wo_value v;
    memset(&v, 0, sizeof v);
    var->get(w, &v);
    if (json)
        fprintf(f, "\"%s\":", var->name);
    if (!v.valid) {
        if (json)
            fputs("null", f);
        return;
    }
    switch (var->type) {
    case WO_TIME:
        fprintf(f, "%" PRId64 ".%06" PRId64, v.big / 1000000, v.big % 1000000);
        break;
    case WO_CODE:
        fprintf(f, json ? "%ld" : "%03ld", v.n);
        break;
    case WO_LONG:
        fprintf(f, "%ld", v.n);
        break;
    case WO_OFFSET:
        fprintf(f, "%" PRId64, v.big);
        break;
    case WO_STRING:
        if (json)
            json_string(f, v.s, 0);
        else
            fputs(v.s, f);
        break;
    case WO_SPECIAL:
        break;
    }
}

static void write_json(FILE *f, const wo_ctx *w)
{
    fputc('{', f);
    for (const wo_var *var = VARS; var->name != NULL; var++) {
        if (var->get == NULL)
            continue;
        write_var(f, var, w, 1);
        fputc(',', f);
    }
    fputs("\"curl_version\":", f);
    json_string(f, pincurl_http_library(), 0);
    fputc('}', f);
}

/* %{header_json}: the last response's headers, names lowercased, each name once with all
 * its values in order. */
static void write_header_json(FILE *f, const wo_ctx *w)
{
    size_t n = pincurl_response_header_count(w->resp);
    int first = 1;
    fputc('{', f);
    for (size_t i = 0; i < n; i++) {
        const char *name = pincurl_response_header_name(w->resp, i);
        int seen = 0;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcasecmp(pincurl_response_header_name(w->resp, k), name) == 0;
        if (seen)
            continue;
        if (!first)
            fputs(",\n", f);
        first = 0;
        json_string(f, name, 1);
        fputs(":[", f);
        int more = 0;
        for (size_t k = i; k < n; k++) {
            if (strcasecmp(pincurl_response_header_name(w->resp, k), name) != 0)
                continue;
            if (more)
                fputc(',', f);
            json_string(f, pincurl_response_header_value(w->resp, k), 0);
            more = 1;
        }
        fputc(']', f);
    }
    fputs("\n}", f);
}

void cli_write_out(const char *format, const wo_ctx *w)
{
    FILE *f = stdout;
    const char *p = format;

    while (*p != '\0') {
        if (p[0] == '%' && p[1] == '%') {
            fputc('%', f);
            p += 2;
        } else if (p[0] == '%' && p[1] == '{') {
            const char *name = p + 2, *end = strchr(name, '}');
            size_t n;
            const wo_var *var;
            if (end == NULL) {
                fputs("%{", f);
                p += 2;
                continue;
            }
            n = (size_t)(end - name);
            for (var = VARS; var->name != NULL; var++)
                if (strlen(var->name) == n && strncasecmp(var->name, name, n) == 0)
                    break;
            p = end + 1;
            if (var->name == NULL) {
                fprintf(stderr, "pincurl: unknown --write-out variable: '%.*s'\n", (int)n, name);
            } else if (strcmp(var->name, "onerror") == 0) {
                if (w->exit_code == 0)
                    break;
            } else if (strcmp(var->name, "stdout") == 0) {
                f = stdout;
            } else if (strcmp(var->name, "stderr") == 0) {
                f = stderr;
            } else if (strcmp(var->name, "json") == 0) {
                write_json(f, w);
            } else if (strcmp(var->name, "header_json") == 0) {
                write_header_json(f, w);
            } else {
                write_var(f, var, w, 0);
            }
        } else if (p[0] == '%' && strncmp(p + 1, "header{", 7) == 0) {
            const char *name = p + 8, *end = strchr(name, '}');
            if (end == NULL) {
                fputs("%header{", f);
                p += 8;
                continue;
            }
            size_t n = (size_t)(end - name);
            char hname[256];
            if (n < sizeof hname) {
                memcpy(hname, name, n);
                hname[n] = '\0';
                const char *value = pincurl_response_header(w->resp, hname);
                if (value != NULL)
                    fputs(value, f);
            }
            p = end + 1;
        } else if (p[0] == '%' && p[1] != '\0') {
            fputc('%', f); /* not a variable: written as it is */
            fputc(p[1], f);
            p += 2;
        } else if (p[0] == '\\' && p[1] != '\0') {
            switch (p[1]) {
            case 'r': fputc('\r', f); break;
            case 'n': fputc('\n', f); break;
            case 't': fputc('\t', f); break;
            default:
                fputc(p[0], f);
                fputc(p[1], f);
                break;
            }
            p += 2;
        } else {
            fputc(*p++, f);
        }
    }
}
