/* The pincurl command-line tool: dispatch to the subcommands, --help and --version. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#ifdef PINCURL_CLI_HAVE_UPDATE
#include "cli_update.h"
#endif

int cli_policy_compile_main(int argc, char **argv); /* policy_compile.c */

static const char HELP[] =
    "Usage: pincurl [options] URL            a pinned HTTPS request (curl's options)\n"
    "       pincurl pin HOST[:PORT] | --cert FILE | --key FILE | --csr FILE\n"
    "       pincurl policy check FILE [--live [--port N]]\n"
    "       pincurl policy import --from trustkit|android [--single-pin CHOICE] FILE\n"
    "       pincurl policy export --to trustkit|android [--json] FILE\n"
    "       pincurl policy compile FILE [-o OUT.c] [--name SYMBOL]   (C source for firmware)\n"
    "       pincurl policy keygen|sign|verify|show ...   (signed policy updates)\n"
    "\n"
    "Request options (as curl; short options group: -fsSL; -k is refused):\n"
    "  -X, --request METHOD      request method\n"
    "  -H, --header 'Name: value'  add a request header (repeatable)\n"
    "  -d, --data DATA|@FILE     POST data (as curl: @FILE strips CR and LF)\n"
    "      --data-binary DATA|@FILE  POST data, bytes as they are\n"
    "  -A, --user-agent NAME     User-Agent header\n"
    "  -I, --head                HEAD request, print the headers\n"
    "  -o, --output FILE         write the body to FILE\n"
    "  -s, --silent              no progress and no error messages\n"
    "  -S, --show-error          with -s, still print errors\n"
    "  -v, --verbose             print the request, the response headers and pin decisions\n"
    "  -i, --include             print the response headers before the body\n"
    "  -f, --fail                exit 22 on HTTP 400 and above, no body\n"
    "  -L, --location            follow redirects (up to --max-redirs, default 50)\n"
    "      --max-redirs N        most redirects followed with -L\n"
    "      --cacert FILE         PEM file of trusted roots\n"
    "      --resolve HOST:PORT:ADDR  use ADDR for HOST:PORT (repeatable)\n"
    "  -x, --proxy URL           proxy\n"
    "      --connect-timeout SECONDS  connect timeout (fractions allowed)\n"
    "  -m, --max-time SECONDS    total time limit (fractions allowed)\n"
    "      --pinnedpubkey PINS|FILE  curl's leaf pinning: sha256//B64[;sha256//B64] or a key\n"
    "  -#, --progress-bar        progress bar when saving to a file on a terminal\n"
    "pincurl's own:\n"
    "      --policy FILE         pin with a policy document (docs/policy.md)\n"
    "      --pin sha256/B64      a pin for the URL's host, matched anywhere on the validated\n"
    "                            path (repeatable; enforcing needs two, one needs\n"
    "                            --report-only)\n"
    "      --report-only         report mismatches but let connections proceed\n"
    "      --report-uri URL      where failure reports go (with --spool)\n"
    "      --spool DIR           report spool directory\n"
    "      --json                print one JSON object describing the outcome\n"
    "  -h, --help                this help;  -V, --version  the version\n"
    "\n"
    "Exit codes: 0 ok, 2 usage, 3 bad URL, 6 DNS, 7 connect, 22 HTTP error (-f),\n"
    "  23 write error, 26 read error (a file named on the command line), 27 out of memory,\n"
    "  28 timeout, 35 TLS handshake, 42 aborted, 47 too many redirects, 56 transfer,\n"
    "  60 certificate invalid or not for the host, 63 response too large, 90 pin mismatch,\n"
    "  97 proxy, 110 invalid policy or pins, 111 http:// to a pinned host refused,\n"
    "  112 policy expired (on_expiry block), 113 pin decision impossible, 114 internal.\n"
    "  pin: 4 the file holds no certificate, key or CSR.\n"
    "  policy check: 0 clean, 1 warnings, 4 errors, 110 the document is refused.\n"
    "  policy import/export: 0 faithful, 1 imported with changes (each named on stderr),\n"
    "  4 input malformed, 110 import refused (the element and the reason on stderr);\n"
    "  --single-pin refuse|report-only|enforce: what a one-pin pin set becomes.\n"
    "See pincurl(1) and docs/cli.md.\n";

static int policy_main(int argc, char **argv)
{
    if (argc < 2) {
        cli_error("policy: expected check, import, export, compile, keygen, sign, verify or show");
        return CLI_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "check") == 0)
        return cli_policy_check_main(argc - 1, argv + 1);
    if (strcmp(sub, "import") == 0)
        return cli_policy_import_main(argc - 1, argv + 1);
    if (strcmp(sub, "export") == 0)
        return cli_policy_export_main(argc - 1, argv + 1);
    if (strcmp(sub, "compile") == 0)
        return cli_policy_compile_main(argc - 1, argv + 1);
    if (strcmp(sub, "keygen") == 0 || strcmp(sub, "sign") == 0 || strcmp(sub, "verify") == 0 ||
        strcmp(sub, "show") == 0) {
#ifdef PINCURL_CLI_HAVE_UPDATE
        return pincurl_cli_policy_update(sub, argc - 1, argv + 1);
#else
        cli_error("policy %s: not built into this pincurl", sub);
        return CLI_USAGE;
#endif
    }
    cli_error("policy: unknown subcommand '%s' (try 'pincurl --help')", sub);
    return CLI_USAGE;
}

/* curl's first line, then what pins are decided with. */
static int print_version(void)
{
    const pincurl_runtime_info *ri = pincurl_runtime();
    printf("pincurl %s (library %s) libcurl/%s %s%s%s\n", PINCURL_VERSION_STRING,
           pincurl_version(), ri->libcurl_version, ri->tls_library,
           ri->http2 ? " nghttp2/" : "", ri->http2 ? ri->nghttp2_version : "");
    printf("Backend: %s (built for %s, %s flavour)%s\n", ri->backend[0] ? ri->backend : "none",
           ri->backend_expected, ri->flavour,
           ri->backend_ok ? "" : ": this libcurl is not the one pincurl was built for; "
                                 "every request is refused (BACKEND_UNSUPPORTED)");
    if (ri->bundled_curl[0] != '\0')
        printf("Bundled: curl %s, wolfssl %s, nghttp2 %s (Debian source packages)\n",
               ri->bundled_curl, ri->bundled_wolfssl, ri->bundled_nghttp2);
    else if (ri->bundled_wolfssl[0] != '\0')
        printf("Bundled: wolfssl %s (Debian source package)\n", ri->bundled_wolfssl);
    printf("Features:%s%s\n", ri->http2 ? " HTTP2" : "",
           strcmp(ri->backend, "pinnedpubkey") == 0 ? " leaf-pins" : " path-pins");
    return CLI_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(HELP, stderr);
        return CLI_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (cli_opt_flag(argv[i], "-h", "--help")) {
            fputs(HELP, stdout);
            return CLI_OK;
        }
        if (cli_opt_flag(argv[i], "-V", "--version"))
            return print_version();
    }
    if (strcmp(argv[1], "pin") == 0)
        return cli_pin_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "policy") == 0)
        return policy_main(argc - 1, argv + 1);
    return cli_request_main(argc, argv);
}
