/* pincurl pin: the pins of a live host's validated path, of certificates, keys and CSRs. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define PIN_MAX_BYTES (16u * 1024u * 1024u)

static void print_cert(size_t depth, const pincurl_cert_info *c, int info_ok, int matched)
{
    char pin[PINCURL_PIN_TEXT_SIZE], when[32];
    cli_format_pin(&c->pin, pin);
    printf("depth %zu%s\n", depth, matched ? " (matched)" : "");
    if (info_ok) {
        cli_format_time(c->not_after, when, sizeof when);
        printf("  subject:   %s\n", c->subject);
        printf("  issuer:    %s\n", c->issuer);
        printf("  not after: %s\n", when);
        printf("  key:       %s %u bits\n", c->key_type, c->key_bits);
    } else {
        printf("  (certificate could not be read)\n");
    }
    printf("  pin:       %s\n", pin);
}

static int pin_live(const char *arg, const cli_conn_opts *conn)
{
    char host[PINCURL_HOST_MAX + 1];
    unsigned port;
    cli_path *path = calloc(1, sizeof *path);
    char *detail = malloc(8192);
    int rc;
    if (path == NULL || detail == NULL) {
        free(path);
        free(detail);
        return CLI_OUT_OF_MEMORY;
    }
    if (cli_split_host_port(arg, host, sizeof host, &port) != 0) {
        cli_error("pin: '%s' is not HOST[:PORT]", arg);
        rc = CLI_USAGE;
    } else {
        pincurl_status st = cli_probe(host, port, conn, path, detail, 8192);
        rc = cli_exit_code(st);
        if (path->seen && path->count > 0) {
            printf("%s:%u: validated path of %zu certificates\n", host, port, path->count);
            for (size_t i = 0; i < path->count; i++)
                print_cert(i, &path->certs[i], path->info_ok[i], 0);
        }
        if (st != PINCURL_OK) {
            cli_error("(%d) %s:%u: %s", rc, host, port, pincurl_strerror(st));
            if (detail[0] != '\0')
                fprintf(stderr, "%s\n", detail);
        } else if (!path->seen || path->count == 0) {
            cli_error("%s:%u: no validated path was reported", host, port);
            rc = CLI_INTERNAL;
        }
    }
    free(path);
    free(detail);
    return rc;
}

static int pin_certs(const char *file)
{
    size_t len;
    unsigned char *data = cli_read_file(file, PIN_MAX_BYTES, &len);
    pincurl_cert_list *list = NULL;
    if (data == NULL)
        return CLI_READ_ERROR;
    pincurl_status st = pincurl_cert_list_load(data, len, NULL, &list);
    free(data);
    if (st != PINCURL_OK) {
        cli_error("%s: %s", file, pincurl_strerror(st));
        return CLI_LINT_ERRORS;
    }
    int rc = CLI_OK;
    printf("%s: %zu certificates\n", file, pincurl_cert_list_count(list));
    for (size_t i = 0; i < pincurl_cert_list_count(list); i++) {
        size_t der_len;
        const unsigned char *der = pincurl_cert_list_der(list, i, &der_len);
        pincurl_cert_info *info = calloc(1, sizeof *info);
        if (info == NULL) {
            rc = CLI_OUT_OF_MEMORY;
            break;
        }
        st = pincurl_cert_info_get(der, der_len, info);
        if (st == PINCURL_OK) {
            print_cert(i, info, 1, 0);
        } else {
            cli_error("%s: certificate %zu: %s", file, i, pincurl_strerror(st));
            rc = CLI_LINT_ERRORS;
        }
        free(info);
    }
    pincurl_cert_list_free(list);
    return rc;
}

static int pin_spki(const char *file, int csr)
{
    size_t len, spki_len;
    unsigned char *data = cli_read_file(file, PIN_MAX_BYTES, &len);
    unsigned char spki[PINCURL_SPKI_MAX];
    char type[PINCURL_KEY_TYPE_MAX], pin_text[PINCURL_PIN_TEXT_SIZE];
    unsigned bits;
    pincurl_pin pin;
    if (data == NULL)
        return CLI_READ_ERROR;
    pincurl_status st = csr ? pincurl_spki_from_csr(data, len, spki, sizeof spki, &spki_len)
                            : pincurl_spki_from_key(data, len, spki, sizeof spki, &spki_len);
    memset(data, 0, len); /* it may have been a private key */
    free(data);
    if (st == PINCURL_OK)
        st = pincurl_spki_key_type(spki, spki_len, type, sizeof type, &bits);
    if (st == PINCURL_OK)
        st = pincurl_pin_from_spki_der(spki, spki_len, &pin);
    if (st != PINCURL_OK) {
        cli_error("%s: %s", file, pincurl_strerror(st));
        return CLI_LINT_ERRORS;
    }
    cli_format_pin(&pin, pin_text);
    printf("%s: %s\n", file, csr ? "public key of the signing request" : "public key");
    printf("  key:       %s %u bits\n", type, bits);
    printf("  pin:       %s\n", pin_text);
    return CLI_OK;
}

static const char USAGE[] =
    "usage: pincurl pin HOST[:PORT] [--cacert FILE] [--resolve HOST:PORT:ADDR] [-x PROXY]\n"
    "                   [--connect-timeout S] [-m S]\n"
    "       pincurl pin --cert FILE | --key FILE | --csr FILE  (repeatable, combinable)\n";

int cli_pin_main(int argc, char **argv)
{
    cli_conn_opts conn;
    const char *target = NULL;
    const char *files[64];
    int kinds[64]; /* 0 cert, 1 key, 2 csr */
    size_t nfiles = 0;
    memset(&conn, 0, sizeof conn);
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r, kind = -1;
        if ((r = cli_conn_opt(argc, argv, &i, &conn)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, NULL, "--cert", &v)) != 0)
            kind = 0;
        else if ((r = cli_opt_value(argc, argv, &i, NULL, "--key", &v)) != 0)
            kind = 1;
        else if ((r = cli_opt_value(argc, argv, &i, NULL, "--csr", &v)) != 0)
            kind = 2;
        if (r < 0)
            return CLI_USAGE;
        if (kind >= 0) {
            if (nfiles == sizeof files / sizeof files[0]) {
                cli_error("pin: too many files");
                return CLI_USAGE;
            }
            files[nfiles] = v;
            kinds[nfiles++] = kind;
        } else if (argv[i][0] == '-') {
            cli_error("pin: option %s: is unknown", argv[i]);
            fputs(USAGE, stderr);
            return CLI_USAGE;
        } else if (target != NULL) {
            cli_error("pin: only one HOST[:PORT]");
            return CLI_USAGE;
        } else {
            target = argv[i];
        }
    }
    if (target == NULL && nfiles == 0) {
        fputs(USAGE, stderr);
        return CLI_USAGE;
    }
    int rc = CLI_OK;
    for (size_t i = 0; i < nfiles; i++) {
        int r = kinds[i] == 0 ? pin_certs(files[i]) : pin_spki(files[i], kinds[i] == 2);
        if (r != CLI_OK && rc == CLI_OK)
            rc = r;
    }
    if (target != NULL) {
        int r = pin_live(target, &conn);
        if (r != CLI_OK && rc == CLI_OK)
            rc = r;
    }
    return rc;
}
