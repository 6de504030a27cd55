/* pincurl [options] URL: what the option parser hands to the request runner, and the
 * --write-out formatter. Internal to the tool. */
#ifndef PINCURL_CLI_REQUEST_H
#define PINCURL_CLI_REQUEST_H

#include "cli.h"

#define REQ_MAX_LIST 64
#define REQ_MAX_DATA (64u * 1024u * 1024u)

/* How the request carries data; curl's names in its "only one method" message. */
typedef enum req_kind {
    REQ_UNSPEC = 0,
    REQ_GET,    /* -G */
    REQ_HEAD,   /* -I */
    REQ_FORM,   /* -F */
    REQ_POST,   /* -d and friends, --json */
    REQ_PUT     /* -T */
} req_kind;

/* One -F / --form-string part as given. */
typedef struct req_form {
    const char *spec;
    int literal; /* --form-string: no @, < or ;type= processing */
} req_form;

typedef struct req_args {
    const char *url;
    const char *method;        /* -X */
    const char *output;        /* -o; "-" is stdout */
    int remote_name;           /* -O */
    const char *dump_header;   /* -D; "-" is stdout */
    char *write_out;           /* -w (malloc'd: @FILE is read at parse time) */
    const char *policy_file;
    const char *report_uri;
    const char *spool;
    long report_wait_ms;       /* --report-wait */
    const char *pinnedpubkey;
    const char *user_agent;
    const char *headers[REQ_MAX_LIST];
    size_t header_count;
    const char *pins[REQ_MAX_LIST];
    size_t pin_count;
    char *data;                /* -d, --data-*, --json, joined as curl joins them */
    size_t data_len;
    int have_data;
    int json_data;             /* --json was given */
    req_kind kind;             /* what -G, -I, -F, -d, -T asked for (conflicts refused) */
    int get;                   /* -G */
    const char *upload;        /* -T */
    req_form forms[REQ_MAX_LIST];
    size_t form_count;
    const char *userpwd;       /* -u */
    const char *referer;       /* -e (";auto" removed) */
    char *referer_buf;         /* what referer points into when ";auto" was cut off */
    int auto_referer;
    char *cookie;              /* -b NAME=VALUE strings, joined with ';' */
    const char *cookie_file;   /* -b FILE */
    const char *cookie_jar;    /* -c */
    int compressed;
    const char *ca_path;
    const char *connect_to[REQ_MAX_LIST];
    size_t connect_to_count;
    pincurl_ip_version ip_version;
    pincurl_http_version http_version;
    const char *http_version_opt; /* the option that set it, for messages */
    pincurl_tls_version tls_min;
    int silent, show_error, verbose, include, location, fail, fail_with_body, head;
    int progress, report_only, result_json;
    long max_redirs;
    long retry;                /* --retry N */
    long retry_delay_ms;       /* --retry-delay (0: curl's doubling from 1 s) */
    long retry_max_time_ms;    /* --retry-max-time (0: no limit) */
    int retry_connrefused, retry_all_errors;
    cli_conn_opts conn;
} req_args;

/* Parses the command line (argv[0] is the program). Returns CLI_OK or the exit code (the
 * message printed). What a is given must be freed with req_args_free. */
int req_parse(int argc, char **argv, req_args *a);
void req_args_free(req_args *a);

/* What --write-out can show about the finished request. */
typedef struct wo_ctx {
    const pincurl_response *resp;     /* NULL if no request was made */
    int exit_code;
    const char *errormsg;             /* "" when the exit code is 0 */
    const char *input_url;            /* the URL as requested */
    const char *filename;             /* the output file, NULL for stdout */
    long num_headers;                 /* header lines of the last response */
    int pinned;                       /* a policy entry governed the host */
    const cli_path *path;             /* the last validation seen */
} wo_ctx;

/* Writes format (curl's --write-out syntax) for w to stdout (or stderr after %{stderr}). */
void cli_write_out(const char *format, const wo_ctx *w);

#endif
