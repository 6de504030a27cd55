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
    "       pincurl policy import --from trustkit|android FILE\n"
    "       pincurl policy export --to trustkit|android [--json] FILE\n"
    "       pincurl policy compile FILE [-o OUT.c] [--name SYMBOL]   (C source for firmware)\n"
    "       pincurl policy keygen|sign|verify|show ...   (signed policy updates)\n"
    "\n"
    "Request options, as curl's (short options group: -fsSL; -k is refused):\n"
    "  -X, --request METHOD      request method\n"
    "  -H, --header 'Name: value'  add a request header (repeatable)\n"
    "  -d, --data DATA|@FILE     POST data (@FILE: CR and LF dropped); repeats join with &\n"
    "      --data-binary DATA|@FILE  POST data, bytes as they are\n"
    "      --data-raw DATA       POST data, a leading @ is data too\n"
    "      --data-urlencode [NAME]=TEXT|[NAME]@FILE  POST data, URL-encoded\n"
    "      --json DATA|@FILE     JSON POST data with JSON Content-Type and Accept\n"
    "  -F, --form NAME=VALUE|@FILE|<FILE[;type=T][;filename=F]  multipart form part\n"
    "      --form-string NAME=VALUE  a form part taken as it is\n"
    "  -G, --get                 send the -d data as the URL's query, with GET\n"
    "  -T, --upload-file FILE    upload FILE (PUT; '-' is stdin)\n"
    "  -u, --user USER:PASSWORD  HTTP Basic credentials (never sent to another host)\n"
    "  -e, --referer URL[;auto]  Referer header (;auto: also on redirects)\n"
    "  -b, --cookie NAME=VALUE|FILE  send cookies / read a cookie file\n"
    "  -c, --cookie-jar FILE     write the cookies to FILE at the end\n"
    "  -A, --user-agent NAME     User-Agent header (default pincurl/VERSION)\n"
    "      --compressed          ask for a compressed response and decode it\n"
    "  -I, --head                HEAD request, print the headers\n"
    "  -i, --include             print the response headers before the body\n"
    "  -D, --dump-header FILE    write the response headers to FILE ('-': stdout)\n"
    "  -o, --output FILE         write the body to FILE ('-': stdout)\n"
    "  -O, --remote-name         write the body to a file named as the URL's\n"
    "  -w, --write-out FORMAT    print FORMAT after the transfer (%{http_code}, ...)\n"
    "  -s, --silent              no progress and no error messages\n"
    "  -S, --show-error          with -s, still print errors\n"
    "  -v, --verbose             print the request, the response headers and pin decisions\n"
    "  -f, --fail                exit 22 on HTTP 400 and above, no body\n"
    "      --fail-with-body      exit 22 on HTTP 400 and above, with the body\n"
    "  -L, --location            follow redirects (up to --max-redirs, default 50)\n"
    "      --max-redirs N        most redirects followed with -L (0 to 50; -1: 50)\n"
    "      --url URL             the URL\n"
    "      --retry N             retry transient failures N times (never a pin failure)\n"
    "      --retry-delay SECONDS  wait between retries (default: 1 s, doubling)\n"
    "      --retry-max-time SECONDS  stop retrying after this long\n"
    "      --retry-connrefused   retry a refused connection too\n"
    "      --retry-all-errors    retry every failure but pin failures\n"
    "      --cacert FILE         PEM file of trusted roots\n"
    "      --capath DIR          directory of trusted roots\n"
    "      --resolve HOST:PORT:ADDR  use ADDR for HOST:PORT (repeatable)\n"
    "      --connect-to HOST:PORT:HOST2:PORT2  connect to HOST2:PORT2 instead\n"
    "  -4, --ipv4 / -6, --ipv6   resolve names to IPv4 / IPv6 addresses only\n"
    "      --http1.0 / --http1.1 / --http2  the HTTP version to use\n"
    "      --tlsv1.2 / --tlsv1.3  the lowest TLS version accepted\n"
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
    "      --report-wait SECONDS  wait at exit for report delivery (default 3; 0: none)\n"
    "      --result-json         print one JSON object describing the outcome\n"
    "  -h, --help                this help;  -V, --version  the version\n"
    "\n"
    "Exit codes: curl's for what curl has (0 ok, 2 usage, 3 bad URL, 6 DNS, 7 connect,\n"
    "  22 HTTP error (-f), 23 write error, 26 read error, 27 out of memory, 28 timeout,\n"
    "  35 TLS handshake, 42 aborted, 47 too many redirects, 56 transfer, 60 certificate\n"
    "  invalid or not for the host, 77 CA file unusable, 90 pin mismatch, 97 proxy, ...),\n"
    "  and pincurl's own: 110 invalid policy or pins, 111 http:// to a pinned host refused,\n"
    "  112 policy expired (on_expiry block), 113 pin decision impossible, 114 internal.\n"
    "  pin: 1 a field of a certificate could not be read (the pin was printed), 4 a\n"
    "  certificate gave no pin or the file holds no certificate, key or CSR.\n"
    "  policy check: 0 clean, 1 warnings, 4 errors, 110 the document is refused.\n"
    "  policy import/export: 0 all mapped, 1 something did not map (see stderr),\n"
    "  4 input malformed, 110 the result is not a valid policy.\n"
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
    unsigned f = pincurl_http_features();
    printf("Features:%s%s%s%s%s%s%s\n", f & PINCURL_FEATURE_CA_PATH ? " CApath" : "",
           ri->http2 ? " HTTP2" : "", f & PINCURL_FEATURE_IPV6 ? " IPv6" : "",
           f & PINCURL_FEATURE_GZIP ? " libz" : "", f & PINCURL_FEATURE_BROTLI ? " brotli" : "",
           f & PINCURL_FEATURE_ZSTD ? " zstd" : "",
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
