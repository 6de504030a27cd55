/* pincurl pin: the pins of a live host's validated path, of certificates, keys and CSRs. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define PIN_MAX_BYTES (16u * 1024u * 1024u)

/* A certificate of a path or a file: its facts, and on stderr what could not be read.
 * Returns 1 when something could not be read. */
static int print_cert(const char *where, const char *heading, const pincurl_cert_info *c,
                      int info_ok)
{
    char pin[PINCURL_PIN_TEXT_SIZE], fields[96];
    printf("%s\n", heading);
    if (info_ok) {
        cli_print_cert_info(c);
    } else { /* a path certificate whose key was not even located: the reported pin */
        cli_format_pin(&c->pin, pin);
        printf("  (certificate could not be read)\n");
        printf("  pin:       %s\n", pin);
        cli_error("%s: %s: could not be read; the pin is the one validation reported", where,
                  heading);
        return 1;
    }
    if (c->unread == 0)
        return 0;
    cli_unread_fields(c->unread, fields, sizeof fields);
    cli_warn("%s: %s: could not read %s; the pin is printed", where, heading, fields);
    return 1;
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
        int partial = 0;
        if (path->seen && path->count > 0) {
            char where[PINCURL_HOST_MAX + 16], heading[32];
            printf("%s:%u: validated path of %zu certificates\n", host, port, path->count);
            snprintf(where, sizeof where, "%s:%u", host, port);
            for (size_t i = 0; i < path->count; i++) {
                snprintf(heading, sizeof heading, "depth %zu", i);
                partial |= print_cert(where, heading, &path->certs[i], path->info_ok[i]);
            }
        }
        if (rc == CLI_OK && partial)
            rc = CLI_WARNINGS;
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
    /* Every block that can be read is shown, whatever is wrong with the others. */
    pincurl_status st = pincurl_cert_list_load_ex(data, len, PINCURL_CERT_LIST_SKIP_BAD, NULL,
                                                  &list);
    free(data);
    if (st != PINCURL_OK) {
        cli_error("%s: %s", file, pincurl_strerror(st));
        return st == PINCURL_OUT_OF_MEMORY ? CLI_OUT_OF_MEMORY : CLI_LINT_ERRORS;
    }
    int rc = CLI_OK;
    size_t count = pincurl_cert_list_count(list), skipped = pincurl_cert_list_skipped_count(list);
    printf("%s: %zu certificates", file, count);
    if (skipped > 0)
        printf(" (%zu more could not be read)", skipped);
    printf("\n");
    for (size_t i = 0, k = 0; i < count || k < skipped;) {
        size_t block = 0, line = 0, sblock = 0, sline = 0;
        pincurl_status why = PINCURL_OK;
        if (i < count)
            pincurl_cert_list_origin(list, i, &block, &line);
        if (k < skipped)
            pincurl_cert_list_skipped(list, k, &sblock, &sline, &why);
        char heading[64];
        if (i >= count || (k < skipped && sblock < block)) { /* in file order */
            if (sline > 0)
                snprintf(heading, sizeof heading, "certificate %zu (line %zu)", sblock, sline);
            else
                snprintf(heading, sizeof heading, "certificate %zu", sblock);
            printf("%s\n  (could not be read: %s)\n", heading, pincurl_strerror(why));
            cli_error("%s: %s: could not be read (%s): no pin", file, heading,
                      pincurl_strerror(why));
            rc = CLI_LINT_ERRORS;
            k++;
            continue;
        }
        if (line > 0)
            snprintf(heading, sizeof heading, "certificate %zu (line %zu)", block, line);
        else
            snprintf(heading, sizeof heading, "certificate %zu", block);
        size_t der_len;
        const unsigned char *der = pincurl_cert_list_der(list, i, &der_len);
        pincurl_cert_info *info = calloc(1, sizeof *info);
        if (info == NULL) {
            rc = CLI_OUT_OF_MEMORY;
            break;
        }
        st = pincurl_cert_info_read(der, der_len, info);
        if (st == PINCURL_OK) {
            if (print_cert(file, heading, info, 1) && rc == CLI_OK)
                rc = CLI_WARNINGS;
        } else { /* the loader located the key, so this does not happen */
            cli_error("%s: %s: %s", file, heading, pincurl_strerror(st));
            rc = CLI_LINT_ERRORS;
        }
        free(info);
        i++;
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
    unsigned notes = 0;
    (void)pincurl_spki_encoding_notes(spki, spki_len, &notes);
    cli_format_pin(&pin, pin_text);
    printf("%s: %s\n", file, csr ? "public key of the signing request" : "public key");
    printf("  key:       %s %u bits\n", type, bits);
    printf("  pin:       %s\n", pin_text);
    if (notes != 0)
        printf("  note:      the key is encoded in a form tools that re-encode it (openssl "
               "pkey) change: they print another pin; the pin above is of these bytes\n");
    return CLI_OK;
}

static const char USAGE[] =
    "usage: pincurl pin HOST[:PORT] [--cacert FILE] [--resolve HOST:PORT:ADDR] [-x PROXY]\n"
    "                   [--connect-timeout S] [-m S]   (defaults: 10 s to connect, 15 s in "
    "all)\n"
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
        if (r != CLI_OK && (rc == CLI_OK || rc == CLI_WARNINGS))
            rc = r; /* the first error, else a warning */
    }
    if (target != NULL) {
        int r = pin_live(target, &conn);
        if (r != CLI_OK && (rc == CLI_OK || rc == CLI_WARNINGS))
            rc = r;
    }
    return rc;
}
