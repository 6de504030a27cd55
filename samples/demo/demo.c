/*
 * pincurl demo: a pinned request to a genuine server, then the same host behind an
 * interception CA the device trusts, then mitmproxy (when installed). Loopback only.
 *
 *   pincurl-demo PKI_DIR [SERVER_SCRIPT]
 *
 * PKI_DIR is made by tests/pki/make-pki.sh. SERVER_SCRIPT is tests/servers/tls_server.py
 * (the path of the source tree is built in). The demo starts its servers itself and stops
 * them when it exits. Exit status 0 when every outcome was the expected one.
 */
#include <pincurl/pincurl.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#ifndef PINCURL_DEMO_SERVER
#define PINCURL_DEMO_SERVER "tests/servers/tls_server.py"
#endif
#ifndef PINCURL_DEMO_COLLECTOR
#define PINCURL_DEMO_COLLECTOR "samples/report-collector/collector.py"
#endif

#define MAX_CHILDREN 5

static pid_t children[MAX_CHILDREN];
static char workdir[256];

/* ---- processes ---------------------------------------------------------------------- */

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void stop_child(pid_t pid)
{
    kill(pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(pid, NULL, WNOHANG) != 0)
            return;
        sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void cleanup(void)
{
    for (int i = 0; i < MAX_CHILDREN; i++) {
        if (children[i] > 0)
            stop_child(children[i]);
        children[i] = 0;
    }
    if (workdir[0] != '\0') {
        pid_t pid = fork();
        if (pid == 0) {
            execlp("rm", "rm", "-rf", workdir, (char *)NULL);
            _exit(127);
        }
        if (pid > 0)
            waitpid(pid, NULL, 0);
        workdir[0] = '\0';
    }
}

static void on_signal(int sig)
{
    (void)sig;
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (children[i] > 0)
            kill(children[i], SIGKILL);
    _exit(130);
}

/* Starts argv with its output in out_path; the child dies with this process. */
static pid_t spawn(char *const argv[], const char *out_path)
{
    int slot = -1;
    for (int i = 0; i < MAX_CHILDREN && slot < 0; i++)
        if (children[i] == 0)
            slot = i;
    if (slot < 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
        int fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    children[slot] = pid;
    return pid;
}

static int child_running(pid_t pid)
{
    return waitpid(pid, NULL, WNOHANG) == 0;
}

/* ---- files -------------------------------------------------------------------------- */

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8192;
            unsigned char *nb = realloc(buf, ncap + 1);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int path_join(char *out, size_t size, const char *dir, const char *name)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    return n > 0 && (size_t)n < size;
}

/* The pin of the first certificate in a PEM file, computed by the library. */
static int cert_file_pin(const char *path, char out[PINCURL_PIN_TEXT_SIZE])
{
    size_t len;
    unsigned char *data = read_file(path, &len);
    if (data == NULL) {
        fprintf(stderr, "demo: cannot read %s: %s\n", path, strerror(errno));
        return 0;
    }
    pincurl_cert_list *list = NULL;
    pincurl_status st = pincurl_cert_list_load(data, len, NULL, &list);
    free(data);
    if (st != PINCURL_OK) {
        fprintf(stderr, "demo: %s: %s\n", path, pincurl_strerror(st));
        return 0;
    }
    size_t der_len = 0;
    const unsigned char *der = pincurl_cert_list_der(list, 0, &der_len);
    pincurl_pin pin;
    st = der != NULL ? pincurl_pin_from_cert_der(der, der_len, &pin) : PINCURL_NO_CERTIFICATE;
    if (st == PINCURL_OK)
        st = pincurl_pin_format(&pin, out, PINCURL_PIN_TEXT_SIZE);
    pincurl_cert_list_free(list);
    if (st != PINCURL_OK) {
        fprintf(stderr, "demo: %s: %s\n", path, pincurl_strerror(st));
        return 0;
    }
    return 1;
}

/* Decrypted request bytes a tls_server.py log records. */
static long logged_request_bytes(const char *log_path)
{
    FILE *f = fopen(log_path, "r");
    if (f == NULL)
        return 0;
    long total = 0;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) >= 0) {
        long conn, count;
        if (sscanf(line, "conn %ld recv %ld", &conn, &count) == 2)
            total += count;
    }
    free(line);
    fclose(f);
    return total;
}

/* ---- servers ------------------------------------------------------------------------ */

typedef struct server {
    pid_t pid;
    int port;
    char log[512];
} server;

/* Waits (at most 10 s) for the port s->pid writes to port_file once it listens. */
static int wait_port(server *s, const char *port_file)
{
    for (int i = 0; i < 1000; i++) {
        FILE *f = fopen(port_file, "r");
        if (f != NULL) {
            int ok = fscanf(f, "%d", &s->port) == 1;
            fclose(f);
            if (ok && s->port > 0)
                return 1;
        }
        if (!child_running(s->pid))
            return 0;
        sleep_ms(10);
    }
    return 0;
}

static int start_server(server *s, const char *script, const char *pki, const char *chain,
                        const char *key, const char *name)
{
    char chain_path[512], key_path[512], port_file[512], out_file[512], parent[32];
    if (!path_join(chain_path, sizeof chain_path, pki, chain)
        || !path_join(key_path, sizeof key_path, pki, key))
        return 0;
    snprintf(port_file, sizeof port_file, "%s/%s.port", workdir, name);
    snprintf(out_file, sizeof out_file, "%s/%s.out", workdir, name);
    snprintf(s->log, sizeof s->log, "%s/%s.log", workdir, name);
    snprintf(parent, sizeof parent, "%ld", (long)getpid());
    char *argv[] = { "python3", (char *)script, "--cert", chain_path, "--key", key_path,
                     "--host", "127.0.0.1", "--port-file", port_file, "--log", s->log,
                     "--name", (char *)name, "--parent-pid", parent, "--lifetime", "120",
                     NULL };
    s->pid = spawn(argv, out_file);
    if (s->pid < 0 || !wait_port(s, port_file)) {
        fprintf(stderr, "demo: the %s server did not start (see %s)\n", name, out_file);
        return 0;
    }
    return 1;
}

/* The sample report collector (samples/report-collector) over HTTPS, storing into SQLite. */
static int start_collector(server *s, const char *pki, const char *db)
{
    char chain_path[512], key_path[512], port_file[512], out_file[512];
    if (!path_join(chain_path, sizeof chain_path, pki, "leaf-ec-chain.pem")
        || !path_join(key_path, sizeof key_path, pki, "leaf-ec.key"))
        return 0;
    snprintf(port_file, sizeof port_file, "%s/collector.port", workdir);
    snprintf(out_file, sizeof out_file, "%s/collector.out", workdir);
    char *argv[] = { "python3", PINCURL_DEMO_COLLECTOR, "--db", (char *)db, "--port", "0",
                     "--port-file", port_file, "--tls-cert", chain_path, "--tls-key", key_path,
                     "--quiet", NULL };
    s->pid = spawn(argv, out_file);
    if (s->pid < 0 || !wait_port(s, port_file)) {
        fprintf(stderr, "demo: the report collector did not start (see %s)\n", out_file);
        return 0;
    }
    return 1;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    int port = 0;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0
        && getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static int port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

static int have_mitmdump(void)
{
    const char *path = getenv("PATH");
    if (path == NULL)
        return 0;
    char dir[1024];
    while (*path != '\0') {
        size_t n = strcspn(path, ":");
        if (n > 0 && n < sizeof dir - 16) {
            memcpy(dir, path, n);
            snprintf(dir + n, sizeof dir - n, "/mitmdump");
            if (access(dir, X_OK) == 0)
                return 1;
        }
        path += n;
        if (*path == ':')
            path++;
    }
    return 0;
}

/* Starts mitmdump; *port and ca_pem (its CA) on success. */
static int start_mitm(const char *upstream_ca, int *port, char *ca_pem, size_t ca_size)
{
    char confdir[512], conf_opt[600], ca_opt[700], port_text[16], out_file[512];
    snprintf(confdir, sizeof confdir, "%s/mitmproxy", workdir);
    if (mkdir(confdir, 0700) != 0)
        return 0;
    *port = free_port();
    snprintf(port_text, sizeof port_text, "%d", *port);
    snprintf(conf_opt, sizeof conf_opt, "confdir=%s", confdir);
    snprintf(ca_opt, sizeof ca_opt, "ssl_verify_upstream_trusted_ca=%s", upstream_ca);
    snprintf(out_file, sizeof out_file, "%s/mitmdump.out", workdir);
    if (!path_join(ca_pem, ca_size, confdir, "mitmproxy-ca-cert.pem"))
        return 0;
    char *argv[] = { "mitmdump", "--listen-host", "127.0.0.1", "--listen-port", port_text,
                     "--set", conf_opt, "--set", ca_opt, NULL };
    pid_t pid = spawn(argv, out_file);
    if (pid < 0)
        return 0;
    for (int i = 0; i < 3000; i++) {
        if (access(ca_pem, R_OK) == 0 && port_open(*port))
            return 1;
        if (!child_running(pid))
            break;
        sleep_ms(10);
    }
    return 0;
}

/* ---- output ------------------------------------------------------------------------- */

static void print_indented(const char *text, const char *indent)
{
    const char *p = text;
    while (*p != '\0') {
        size_t n = strcspn(p, "\n");
        printf("%s%.*s\n", indent, (int)n, p);
        p += n;
        if (*p == '\n')
            p++;
    }
}

static const char *depth_name(int depth, size_t path_len)
{
    if (depth == 0)
        return "the server's own certificate";
    if ((size_t)depth + 1 == path_len)
        return "the root CA";
    return "the intermediate CA";
}

/* One GET; prints the outcome. Returns its status. */
static pincurl_status demo_get(pincurl_client *c, int port)
{
    char url[128];
    snprintf(url, sizeof url, "https://localhost:%d/", port);
    pincurl_request *r = pincurl_request_new("GET", url);
    if (r == NULL)
        return PINCURL_OUT_OF_MEMORY;
    pincurl_response *resp = NULL;
    pincurl_status st = pincurl_client_perform(c, r, &resp);
    pincurl_request_free(r);
    if (st == PINCURL_OK) {
        size_t len = 0;
        const unsigned char *body = pincurl_response_body(resp, &len);
        printf("   OK       HTTP %ld, body \"%.*s\"\n", pincurl_response_code(resp),
               (int)(len > 60 ? 60 : len), body != NULL ? (const char *)body : "");
        const pincurl_verdict *v = pincurl_response_verdict(resp);
        if (v != NULL && v->matched_depth >= 0) {
            char pin[PINCURL_PIN_TEXT_SIZE];
            if (pincurl_pin_format(&v->matched_pin, pin, sizeof pin) == PINCURL_OK)
                printf("            pin %s matched at depth %d (%s)\n", pin, v->matched_depth,
                       depth_name(v->matched_depth, v->path_len));
        } else {
            printf("            (no pin check: the policy does not name this host)\n");
        }
    } else {
        printf("   REFUSED  %s: %s\n", pincurl_status_name(st) ? pincurl_status_name(st) : "?",
               pincurl_strerror(st));
        const char *detail = resp != NULL ? pincurl_response_detail(resp) : "";
        if (detail[0] != '\0')
            print_indented(detail, "            | ");
    }
    pincurl_response_free(resp);
    return st;
}

static pincurl_client *new_client(pincurl_policy *policy, const char *ca_file,
                                  const char *proxy, const int *ports, int nports,
                                  const char *spool)
{
    pincurl_options *o = pincurl_options_new();
    if (o == NULL)
        return NULL;
    pincurl_status st = pincurl_options_set_ca_file(o, ca_file);
    if (st == PINCURL_OK && spool != NULL)
        st = pincurl_options_set_spool_dir(o, spool);
    if (st == PINCURL_OK && spool != NULL)
        st = pincurl_options_set_app_info(o, "org.pincurl.demo", pincurl_version(), NULL,
                                          "linux", NULL);
    if (st == PINCURL_OK)
        st = pincurl_options_set_connect_timeout_ms(o, 5000);
    if (st == PINCURL_OK)
        st = pincurl_options_set_timeout_ms(o, 15000);
    if (st == PINCURL_OK && proxy != NULL)
        st = pincurl_options_set_proxy(o, proxy);
    for (int i = 0; i < nports && st == PINCURL_OK; i++) {
        char entry[64];
        snprintf(entry, sizeof entry, "localhost:%d:127.0.0.1", ports[i]);
        st = pincurl_options_add_resolve(o, entry);
    }
    pincurl_client *c = NULL;
    if (st == PINCURL_OK)
        st = pincurl_client_new(policy, o, &c);
    pincurl_options_free(o);
    if (st != PINCURL_OK) {
        fprintf(stderr, "demo: client: %s\n", pincurl_strerror(st));
        return NULL;
    }
    return c;
}

static pincurl_policy *make_policy(const char *host, const char *pin_a, const char *pin_b,
                                   const char *report_uri)
{
    char expires[32];
    time_t later = time(NULL) + 365L * 24 * 3600;
    struct tm tm;
    if (gmtime_r(&later, &tm) == NULL)
        return NULL;
    strftime(expires, sizeof expires, "%Y-%m-%d", &tm);
    char json[1024], uris[200] = "";
    if (report_uri != NULL)
        snprintf(uris, sizeof uris, " \"report_uris\": [\"%s\"],", report_uri);
    snprintf(json, sizeof json,
             "{\"pincurl_policy\": 1, \"expires\": \"%s\", \"on_expiry\": \"block\",%s"
             " \"domains\": {\"%s\": {\"enforce\": true, \"pins\": [\"%s\", \"%s\"]}}}",
             expires, uris, host, pin_a, pin_b);
    pincurl_policy *p = NULL;
    pincurl_diag diag;
    if (pincurl_policy_load_json(json, strlen(json), NULL, &p, &diag) != PINCURL_OK) {
        fprintf(stderr, "demo: policy: %s\n", diag.message);
        return NULL;
    }
    return p;
}

/* ---- main --------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s PKI_DIR [SERVER_SCRIPT]\n", argv[0]);
        return 2;
    }
    const char *pki = argv[1];
    const char *script = argc == 3 ? argv[2] : PINCURL_DEMO_SERVER;
    setvbuf(stdout, NULL, _IOLBF, 0);

    snprintf(workdir, sizeof workdir, "/tmp/pincurl-demo-XXXXXX");
    if (mkdtemp(workdir) == NULL) {
        workdir[0] = '\0';
        perror("demo: mkdtemp");
        return 1;
    }
    atexit(cleanup);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    char inter_pem[512], backup_pem[512], root_pem[512], cas_pem[512];
    path_join(inter_pem, sizeof inter_pem, pki, "inter.pem");
    path_join(backup_pem, sizeof backup_pem, pki, "leaf-backup.pem");
    path_join(root_pem, sizeof root_pem, pki, "root.pem");
    path_join(cas_pem, sizeof cas_pem, pki, "cas.pem");

    char inter_pin[PINCURL_PIN_TEXT_SIZE], backup_pin[PINCURL_PIN_TEXT_SIZE];
    if (!cert_file_pin(inter_pem, inter_pin) || !cert_file_pin(backup_pem, backup_pin))
        return 1;

    server genuine, rogue;
    if (!start_server(&genuine, script, pki, "leaf-ec-chain.pem", "leaf-ec.key", "genuine")
        || !start_server(&rogue, script, pki, "padded-chain.pem", "rogue-leaf.key", "rogue"))
        return 1;

    /* Failure reports go to the sample collector on 127.0.0.1 (a host the policy does not
     * pin), through a spool directory. */
    server collector;
    char db[600], spool[600], report_uri[128];
    snprintf(db, sizeof db, "%s/reports.db", workdir);
    snprintf(spool, sizeof spool, "%s/spool", workdir);
    if (!start_collector(&collector, pki, db))
        return 1;
    snprintf(report_uri, sizeof report_uri, "https://127.0.0.1:%d/pin-report", collector.port);

    pincurl_policy *policy = make_policy("localhost", inter_pin, backup_pin, report_uri);
    if (policy == NULL)
        return 1;
    int ports[2] = { genuine.port, rogue.port };
    /* The device trusts the genuine root and, unknowingly, the rogue one (cas.pem). */
    pincurl_client *client = new_client(policy, cas_pem, NULL, ports, 2, spool);
    if (client == NULL)
        return 1;

    int ok = 1;
    printf("pincurl %s demo (TLS backend: %s)\n", pincurl_version(),
           pincurl_client_tls_backend(client));
    printf("policy: localhost is pinned to\n");
    printf("   %s  (the intermediate CA)\n", inter_pin);
    printf("   %s  (the backup key)\n\n", backup_pin);

    printf("1. genuine server, https://localhost:%d/\n", genuine.port);
    ok &= demo_get(client, genuine.port) == PINCURL_OK;

    printf("\n2. rogue server for the same host, its CA trusted by the device,\n"
           "   sending the genuine intermediate and root along with its own leaf\n");
    ok &= demo_get(client, rogue.port) == PINCURL_PIN_MISMATCH;
    long leaked = logged_request_bytes(rogue.log);
    printf("   the rogue server received %ld request bytes\n", leaked);
    ok &= leaked == 0;

    printf("\n   its failure report, spooled before the request returned, delivered to the\n"
           "   sample collector at %s:\n", report_uri);
    pincurl_status fl = pincurl_client_flush_reports(client, 15000);
    if (fl != PINCURL_OK) {
        printf("   NOT DELIVERED: %s\n", pincurl_strerror(fl));
        ok = 0;
    } else {
        char cmd[1400];
        snprintf(cmd, sizeof cmd, "python3 '%s' --db '%s' --summary | sed 's/^/   | /'",
                 PINCURL_DEMO_COLLECTOR, db);
        fflush(stdout);
        ok &= system(cmd) == 0;
    }
    pincurl_client_free(client);

    if (have_mitmdump()) {
        int mport = 0;
        char mitm_ca[600], bundle[600], proxy[64];
        if (!start_mitm(root_pem, &mport, mitm_ca, sizeof mitm_ca)) {
            printf("\n3. mitmproxy did not start; skipped\n");
        } else {
            /* Trust store: the genuine root plus mitmproxy's CA, as on an intercepted device. */
            snprintf(bundle, sizeof bundle, "%s/bundle.pem", workdir);
            size_t a_len = 0, b_len = 0;
            unsigned char *a = read_file(root_pem, &a_len), *b = read_file(mitm_ca, &b_len);
            FILE *f = fopen(bundle, "wb");
            int written = a != NULL && b != NULL && f != NULL
                          && fwrite(a, 1, a_len, f) == a_len && fwrite(b, 1, b_len, f) == b_len;
            if (f != NULL && fclose(f) != 0)
                written = 0;
            free(a);
            free(b);
            snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", mport);
            printf("\n3. mitmproxy on 127.0.0.1:%d intercepting, its CA trusted by the device\n",
                   mport);
            client = written ? new_client(policy, bundle, proxy, NULL, 0, NULL) : NULL;
            if (client == NULL)
                return 1;
            ok &= demo_get(client, genuine.port) == PINCURL_PIN_MISMATCH;
            pincurl_client_free(client);

            pincurl_policy *other =
                make_policy("unrelated.example", inter_pin, backup_pin, NULL);
            client = other != NULL ? new_client(other, bundle, proxy, NULL, 0, NULL) : NULL;
            pincurl_policy_unref(other);
            if (client == NULL)
                return 1;
            printf("   the same request without a pin for localhost (the interception is real):\n");
            ok &= demo_get(client, genuine.port) == PINCURL_OK;
            pincurl_client_free(client);
        }
    } else {
        printf("\n3. mitmproxy (mitmdump) is not installed; skipped\n");
    }
    pincurl_policy_unref(policy);

    printf("\n%s\n", ok ? "demo: every outcome as expected" : "demo: UNEXPECTED OUTCOME");
    return ok ? 0 : 1;
}
