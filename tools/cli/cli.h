/* The pincurl command-line tool: declarations shared by its subcommands. */
#ifndef PINCURL_CLI_H
#define PINCURL_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "pincurl/cert.h"
#include "pincurl/pincurl.h"

/* Exit codes. curl's numbers where curl has the condition; pincurl's own from 110 on.
 * docs/cli.md lists them; keep it in step. */
enum {
    CLI_OK = 0,
    CLI_WARNINGS = 1,         /* policy check / import / export: warnings only */
    CLI_USAGE = 2,            /* bad command line (curl: 2) */
    CLI_BAD_URL = 3,          /* curl: URL malformed */
    CLI_LINT_ERRORS = 4,      /* policy check: lint errors; pin, import: unusable input */
    CLI_DNS = 6,              /* curl: could not resolve host */
    CLI_CONNECT = 7,          /* curl: failed to connect */
    CLI_HTTP_ERROR = 22,      /* curl -f: HTTP code >= 400 */
    CLI_WRITE_ERROR = 23,     /* curl: write error (output file) */
    CLI_READ_ERROR = 26,      /* curl: read error (a file named on the command line) */
    CLI_OUT_OF_MEMORY = 27,
    CLI_TIMEOUT = 28,
    CLI_TLS = 35,
    CLI_ABORTED = 42,
    CLI_TOO_MANY_REDIRECTS = 47,
    CLI_TRANSFER = 56,        /* curl: failure receiving network data */
    CLI_CERT_INVALID = 60,    /* certificate invalid or not for this host */
    CLI_TOO_LARGE = 63,       /* curl: maximum file size exceeded */
    CLI_PIN_MISMATCH = 90,    /* curl: SSL public key does not match pinned public key */
    CLI_PROXY = 97,
    CLI_BAD_POLICY = 110,     /* the policy document (or pins given) is not valid */
    CLI_CLEARTEXT = 111,      /* http:// to a pinned host refused */
    CLI_POLICY_EXPIRED = 112, /* policy expired and on_expiry is block */
    CLI_PIN_CHECK = 113,      /* the pin decision could not be made (backend) */
    CLI_INTERNAL = 114
};

/* The exit code for a perform status. */
int cli_exit_code(pincurl_status st);

/* Subcommands: argv[0] is the subcommand's own name. Each returns the exit code. */
int cli_request_main(int argc, char **argv);
int cli_pin_main(int argc, char **argv);
int cli_policy_check_main(int argc, char **argv);
int cli_policy_import_main(int argc, char **argv);
int cli_policy_export_main(int argc, char **argv);

/* Messages: "pincurl: ..." on stderr; none while cli_silent is set (-s without -S). */
extern int cli_silent;
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads a whole file (at most max bytes; "-" is stdin) into a NUL-terminated malloc'd
 * buffer; on failure prints "pincurl: FILE: reason" and returns NULL. */
unsigned char *cli_read_file(const char *path, size_t max, size_t *len);

/* Option parsing: if argv[*i] is the option (short or long, "--long=value" too) that takes
 * a value, stores it in *value, advances *i and returns 1; 0 if not this option; -1 (after
 * printing the usage error) when the value is missing. */
int cli_opt_value(int argc, char **argv, int *i, const char *shortname, const char *longname,
                  const char **value);
/* 1 if argv[i] is the flag. */
int cli_opt_flag(const char *arg, const char *shortname, const char *longname);
/* Seconds ("2", "0.5") to milliseconds; -1 if not a non-negative number. */
long cli_seconds_to_ms(const char *text);

/* Time as RFC 3339 UTC ("2027-06-30T00:00:00Z") into buf (>= 21 bytes). */
void cli_format_time(int64_t t, char *buf, size_t size);

/* Prints the facts of one certificate, two-space indented, on stdout (fields that could
 * not be read say so, with the reason; the pin is always printed) and a note for a key
 * whose encoding other tools re-encode. */
void cli_print_cert_info(const pincurl_cert_info *c);

/* The names of the fields in unread ("subject, not after"), into buf. */
void cli_unread_fields(unsigned unread, char *buf, size_t size);
void cli_format_pin(const pincurl_pin *pin, char *buf); /* buf: PINCURL_PIN_TEXT_SIZE */

/* Connection options shared by the request, pin and policy check subcommands. */
#define CLI_MAX_RESOLVE 16
typedef struct cli_conn_opts {
    const char *cacert;
    const char *proxy;
    const char *resolve[CLI_MAX_RESOLVE];
    size_t resolve_count;
    long connect_timeout_ms;
    long timeout_ms;
} cli_conn_opts;

/* Parses --cacert, --resolve, -x/--proxy, --connect-timeout, -m/--max-time at argv[*i]:
 * 1 consumed, 0 not one of them, -1 usage error (printed). */
int cli_conn_opt(int argc, char **argv, int *i, cli_conn_opts *o);
/* Applies them to options. */
pincurl_status cli_conn_apply(const cli_conn_opts *c, pincurl_options *o);

/* The validated path of one handshake, as the VALIDATION event told it. */
typedef struct cli_path {
    int seen;                 /* a VALIDATION event arrived */
    pincurl_result result;
    pincurl_decision decision;
    int matched_depth;        /* -1: none */
    pincurl_pin matched_pin;
    size_t count;
    pincurl_cert_info certs[PINCURL_MAX_PATH]; /* pincurl_cert_info_read: unread fields
                                                   are flagged in each certs[i].unread */
    int info_ok[PINCURL_MAX_PATH]; /* 0: not even the key was located (the pin is the one
                                      the validation reported) */
} cli_path;

/* An event callback that records the last VALIDATION into a cli_path (user). */
void cli_path_event_cb(const pincurl_event *ev, void *user);

/* The total and connect timeouts of cli_probe when -m / --connect-timeout are not given:
 * a server that accepts and never answers ends the probe (exit 28). */
#define CLI_PROBE_TIMEOUT_MS 15000L
#define CLI_PROBE_CONNECT_TIMEOUT_MS 10000L

/* Connects to https://host:port/ (HEAD) with a throwaway report-only policy for host, and
 * fills *path with the validated path. Without timeouts in conn, the defaults above apply.
 * Returns the perform status; the failure detail is copied into detail (may be NULL). */
pincurl_status cli_probe(const char *host, unsigned port, const cli_conn_opts *conn,
                         cli_path *path, char *detail, size_t detail_size);

/* Splits "HOST[:PORT]" / "[v6]:PORT" into host (no brackets) and port (default 443).
 * 0 on success, -1 on a malformed argument. */
int cli_split_host_port(const char *arg, char *host, size_t host_size, unsigned *port);

#endif
