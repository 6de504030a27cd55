#include "servers.h"
#include "support.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PINCURL_SOURCE_DIR
#define PINCURL_SOURCE_DIR "."
#endif

/* ---- children still running, killed at exit ---------------------------------------- */

#define MAX_CHILDREN 64
static pid_t children[MAX_CHILDREN];
static int cleanup_registered;

static void kill_children(void)
{
    for (int i = 0; i < MAX_CHILDREN; i++) {
        if (children[i] > 0) {
            kill(children[i], SIGKILL);
            waitpid(children[i], NULL, 0);
            children[i] = 0;
        }
    }
}

static void remember_child(pid_t pid)
{
    if (!cleanup_registered) {
        atexit(kill_children);
        cleanup_registered = 1;
    }
    for (int i = 0; i < MAX_CHILDREN; i++) {
        if (children[i] == 0) {
            children[i] = pid;
            return;
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    cr_assert_fail("too many test servers running at once");
}

static void forget_child(pid_t pid)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (children[i] == pid)
            children[i] = 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* SIGTERM, SIGKILL after 2 s, reap. */
static void stop_child(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) {
            forget_child(pid);
            return;
        }
        sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    forget_child(pid);
}

/* ---- helpers ------------------------------------------------------------------------ */

static void unique_dir(const char *tag, char *out, size_t size)
{
    static unsigned counter;
    const char *base = getenv("PINCURL_BINARY_DIR");
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    int n = snprintf(out, size, "%s/test-tmp/%s-%ld-%u", base, tag, (long)getpid(), counter++);
    cr_assert(n > 0 && (size_t)n < size, "path too long");
    cr_assert(pt_system("rm -rf '%s' && mkdir -p '%s'", out, out) == 0, "cannot create %s", out);
}

/* out = dir + "/" + name; fails the test if it does not fit. */
static void join_path(char *out, size_t size, const char *dir, const char *name)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    cr_assert(n > 0 && (size_t)n < size, "path too long: %s/%s", dir, name);
}

static const char *pki_path(const char *name)
{
    return name[0] == '/' ? name : pt_pki(name);
}

static const char *python_path(void)
{
    const char *p = getenv("PINCURL_PYTHON");
    if (p != NULL && p[0] != '\0')
        return p;
    return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

/* Forks and execs argv with stdout and stderr appended to out_path. */
static pid_t spawn(char *const argv[], const char *out_path, int die_with_parent)
{
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork failed: %s", strerror(errno));
    if (pid == 0) {
        if (die_with_parent)
            prctl(PR_SET_PDEATHSIG, SIGTERM);
        int fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int null = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (null >= 0)
            dup2(null, 0);
        for (int i = 3; i < 1024; i++)
            close(i);
        execvp(argv[0], argv);
        _exit(127);
    }
    remember_child(pid);
    return pid;
}

static void child_output(const char *path, char *buf, size_t size)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static int child_exited(pid_t pid)
{
    int st;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) {
        forget_child(pid);
        return 1;
    }
    return 0;
}

/* ---- the HTTPS server --------------------------------------------------------------- */

/* Waits (at most 10 s) until the child *pid wrote its port to port_file and returns it.
 * Fails the test, naming what and showing its output, if the child exits first or is late;
 * then *pid is 0 (a late child is stopped). */
static int wait_port_file(pid_t *pid, const char *port_file, const char *out_file,
                          const char *what)
{
    char out[2048];
    for (int i = 0; i < 1000; i++) {
        FILE *f = fopen(port_file, "r");
        if (f != NULL) {
            int port = 0;
            int ok = fscanf(f, "%d", &port) == 1;
            fclose(f);
            if (ok && port > 0 && port < 65536)
                return port;
        }
        if (child_exited(*pid)) {
            child_output(out_file, out, sizeof out);
            *pid = 0;
            cr_assert_fail("%s exited before listening:\n%s", what, out);
        }
        sleep_ms(10);
    }
    child_output(out_file, out, sizeof out);
    stop_child(*pid);
    *pid = 0;
    cr_assert_fail("%s did not listen within 10 s:\n%s", what, out);
    return 0;
}

void pt_server_start(pt_server *s, const pt_server_opts *o)
{
    memset(s, 0, sizeof *s);
    unique_dir("server", s->dir, sizeof s->dir);
    char port_file[1100], out_file[1100], parent[32], script[1024];
    char chain[1024], key[1024];
    join_path(s->log_path, sizeof s->log_path, s->dir, "server.log");
    snprintf(port_file, sizeof port_file, "%s/port", s->dir);
    snprintf(out_file, sizeof out_file, "%s/server.out", s->dir);
    snprintf(parent, sizeof parent, "%ld", (long)getpid());
    snprintf(script, sizeof script, "%s/tests/servers/tls_server.py", PINCURL_SOURCE_DIR);
    char *argv[24];
    int a = 0;
    argv[a++] = (char *)python_path();
    argv[a++] = script;
    if (o->plain) {
        argv[a++] = "--plain";
    } else {
        snprintf(chain, sizeof chain, "%s", pki_path(o->chain));
        snprintf(key, sizeof key, "%s", pki_path(o->key));
        argv[a++] = "--cert";
        argv[a++] = chain;
        argv[a++] = "--key";
        argv[a++] = key;
    }
    argv[a++] = "--host";
    argv[a++] = (char *)(o->host != NULL ? o->host : "127.0.0.1");
    char port_arg[16];
    if (o->port > 0) {
        snprintf(port_arg, sizeof port_arg, "%d", o->port);
        argv[a++] = "--port";
        argv[a++] = port_arg;
    }
    argv[a++] = "--port-file";
    argv[a++] = port_file;
    argv[a++] = "--log";
    argv[a++] = s->log_path;
    argv[a++] = "--name";
    argv[a++] = (char *)(o->name != NULL ? o->name : "server");
    argv[a++] = "--parent-pid";
    argv[a++] = parent;
    if (!o->plain) {
        argv[a++] = "--tls-max";
        argv[a++] = o->tls_max == 12 ? "1.2" : "1.3";
    }
    if (o->no_tickets)
        argv[a++] = "--no-tickets";
    argv[a] = NULL;

    s->pid = spawn(argv, out_file, 0);
    s->port = wait_port_file(&s->pid, port_file, out_file, "tls_server.py");
}

/* Sums "conn N recv COUNT" lines; counts "accept" and "close" lines. */
static void scan_log(const char *path, long *bytes, long *accepted, long *closed)
{
    *bytes = 0;
    *accepted = 0;
    *closed = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) >= 0) {
        long conn, count;
        char word[32];
        if (sscanf(line, "conn %ld %31s", &conn, word) != 2)
            continue;
        if (strcmp(word, "recv") == 0 && sscanf(line, "conn %ld recv %ld", &conn, &count) == 2)
            *bytes += count;
        else if (strcmp(word, "accept") == 0)
            (*accepted)++;
        else if (strcmp(word, "close") == 0)
            (*closed)++;
    }
    free(line);
    fclose(f);
}

void pt_server_handshakes(const pt_server *s, long *full, long *resumed)
{
    *full = 0;
    *resumed = 0;
    FILE *f = fopen(s->log_path, "r");
    if (f == NULL)
        return;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) >= 0) {
        long conn;
        char word[32];
        if (sscanf(line, "conn %ld %31s", &conn, word) != 2 || strcmp(word, "tls") != 0)
            continue;
        if (strstr(line, " resumed") != NULL)
            (*resumed)++;
        else if (strstr(line, " full") != NULL)
            (*full)++;
    }
    free(line);
    fclose(f);
}

long pt_server_request_bytes(const pt_server *s)
{
    long bytes, accepted, closed;
    scan_log(s->log_path, &bytes, &accepted, &closed);
    return bytes;
}

long pt_server_connections(const pt_server *s)
{
    long bytes, accepted, closed;
    scan_log(s->log_path, &bytes, &accepted, &closed);
    return accepted;
}

int pt_server_wait_closed(const pt_server *s, long ms)
{
    for (long waited = 0;; waited += 10) {
        long bytes, accepted, closed;
        scan_log(s->log_path, &bytes, &accepted, &closed);
        if (accepted == closed)
            return 1;
        if (waited >= ms)
            return 0;
        sleep_ms(10);
    }
}

void pt_server_stop(pt_server *s)
{
    if (s->pid > 0)
        stop_child(s->pid);
    s->pid = 0;
}

/* ---- mitmproxy ---------------------------------------------------------------------- */

int pt_mitm_available(void)
{
    return pt_system("command -v mitmdump >/dev/null 2>&1") == 0;
}

static int can_connect(int port)
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

void pt_mitm_start(pt_mitm *m, const char *upstream_ca_pem)
{
    memset(m, 0, sizeof *m);
    cr_assert(pt_mitm_available(), "mitmdump is not installed");
    unique_dir("mitm", m->confdir, sizeof m->confdir);
    m->port = pt_free_port();
    join_path(m->ca_pem, sizeof m->ca_pem, m->confdir, "mitmproxy-ca-cert.pem");
    char port[16], confdir[1100], upstream[1100], out_file[1100];
    snprintf(port, sizeof port, "%d", m->port);
    snprintf(confdir, sizeof confdir, "confdir=%s", m->confdir);
    snprintf(upstream, sizeof upstream, "ssl_verify_upstream_trusted_ca=%s",
             pki_path(upstream_ca_pem));
    snprintf(out_file, sizeof out_file, "%s/mitmdump.out", m->confdir);
    char *argv[] = { "mitmdump", "--listen-host", "127.0.0.1", "--listen-port", port,
                     "--set", confdir, "--set", upstream, NULL };
    m->pid = spawn(argv, out_file, 1);
    for (int i = 0; i < 3000; i++) { /* 30 s: the first start generates its CA */
        if (access(m->ca_pem, R_OK) == 0 && can_connect(m->port))
            return;
        if (child_exited(m->pid)) {
            char out[2048];
            child_output(out_file, out, sizeof out);
            m->pid = 0;
            cr_assert_fail("mitmdump exited before listening:\n%s", out);
        }
        sleep_ms(10);
    }
    pt_mitm_stop(m);
    cr_assert_fail("mitmdump did not listen on 127.0.0.1:%d within 30 s", m->port);
}

void pt_mitm_stop(pt_mitm *m)
{
    if (m->pid > 0)
        stop_child(m->pid);
    m->pid = 0;
}

int pt_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "bind: %s", strerror(errno));
    socklen_t len = sizeof sa;
    cr_assert(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
    close(fd);
    return ntohs(sa.sin_port);
}

void pt_proxy_start(pt_proxy *p, const char *tls_chain, const char *tls_key)
{
    char conf[1100], out_file[1100], text[2048];
    int proxy_port;

    memset(p, 0, sizeof *p);
    unique_dir("proxy", p->dir, sizeof p->dir);
    proxy_port = pt_free_port();
    join_path(p->log_path, sizeof p->log_path, p->dir, "tinyproxy.log");
    join_path(conf, sizeof conf, p->dir, "tinyproxy.conf");
    snprintf(text, sizeof text,
             "Port %d\nListen 127.0.0.1\nTimeout 30\nMaxClients 50\nLogLevel Connect\n"
             "LogFile \"%s\"\n", proxy_port, p->log_path);
    pt_write_file(conf, text, strlen(text));
    join_path(out_file, sizeof out_file, p->dir, "tinyproxy.out");
    {
        char *argv[] = { "tinyproxy", "-d", "-c", conf, NULL };
        p->pid = spawn(argv, out_file, 1);
    }
    p->port = proxy_port;
    if (tls_chain != NULL) {
        char sconf[1100], sout[1100];
        p->port = pt_free_port();
        join_path(sconf, sizeof sconf, p->dir, "stunnel.conf");
        snprintf(text, sizeof text,
                 "foreground = yes\npid =\n[proxy]\naccept = 127.0.0.1:%d\n"
                 "connect = 127.0.0.1:%d\ncert = %s\nkey = %s\n",
                 p->port, proxy_port, pki_path(tls_chain), pki_path(tls_key));
        pt_write_file(sconf, text, strlen(text));
        join_path(sout, sizeof sout, p->dir, "stunnel.out");
        char *argv[] = { "stunnel", sconf, NULL };
        p->tls_pid = spawn(argv, sout, 1);
    }
    for (int i = 0; i < 1000; i++) { /* 10 s */
        if (can_connect(proxy_port) && can_connect(p->port))
            return;
        if (child_exited(p->pid) || (p->tls_pid > 0 && child_exited(p->tls_pid))) {
            child_output(out_file, text, sizeof text);
            pt_proxy_stop(p);
            cr_assert_fail("the proxy exited before listening:\n%s", text);
        }
        sleep_ms(10);
    }
    pt_proxy_stop(p);
    cr_assert_fail("the proxy did not listen within 10 s");
}

long pt_proxy_tunnels(const pt_proxy *p)
{
    long n = 0;
    FILE *f = fopen(p->log_path, "r");
    char *line = NULL;
    size_t cap = 0;
    if (f == NULL)
        return 0;
    while (getline(&line, &cap, f) >= 0) {
        if (strstr(line, "Request (file descriptor") != NULL && strstr(line, ": CONNECT ") != NULL)
            n++;
    }
    free(line);
    fclose(f);
    return n;
}

void pt_proxy_stop(pt_proxy *p)
{
    if (p->tls_pid > 0)
        stop_child(p->tls_pid);
    if (p->pid > 0)
        stop_child(p->pid);
    p->pid = 0;
    p->tls_pid = 0;
}

void pt_collector_start(pt_collector *c, int port)
{
    char script[1024], port_file[1100], out_file[1100], port_arg[16];
    char chain[1024], key[1024];

    memset(c, 0, sizeof *c);
    unique_dir("collector", c->dir, sizeof c->dir);
    join_path(c->db, sizeof c->db, c->dir, "reports.db");
    join_path(port_file, sizeof port_file, c->dir, "port");
    join_path(out_file, sizeof out_file, c->dir, "collector.out");
    snprintf(script, sizeof script, "%s/samples/report-collector/collector.py", PINCURL_SOURCE_DIR);
    snprintf(port_arg, sizeof port_arg, "%d", port);
    snprintf(chain, sizeof chain, "%s", pki_path("leaf-ec-chain.pem"));
    snprintf(key, sizeof key, "%s", pki_path("leaf-ec.key"));
    char *argv[] = { (char *)python_path(), script, "--db", c->db, "--port", port_arg,
                     "--port-file", port_file, "--tls-cert", chain, "--tls-key", key,
                     "--quiet", NULL };
    c->pid = spawn(argv, out_file, 1);
    c->port = wait_port_file(&c->pid, port_file, out_file, "the collector");
}

/* Runs a short Python program on the collector's database and returns its output. */
static char *collector_query(const pt_collector *c, const char *code)
{
    char cmd[2400];
    FILE *p;
    char *out = NULL;
    size_t len = 0, cap = 0;
    snprintf(cmd, sizeof cmd, "%s -c \"import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); %s\" '%s'",
             python_path(), code, c->db);
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            out = realloc(out, cap);
            cr_assert_not_null(out);
        }
        size_t n = fread(out + len, 1, cap - len - 1, p);
        len += n;
        if (n == 0)
            break;
    }
    out[len] = '\0';
    pclose(p);
    return out;
}

long pt_collector_count(const pt_collector *c)
{
    char *out = collector_query(c, "print(db.execute('select count(*) from reports').fetchone()[0])");
    long n = strtol(out, NULL, 10);
    free(out);
    return n;
}

char *pt_collector_report(const pt_collector *c, long i)
{
    char code[256];
    char *out;
    snprintf(code, sizeof code,
             "r=db.execute('select body from reports order by id limit 1 offset %ld').fetchone(); "
             "sys.stdout.write(r[0] if r else '')", i - 1);
    out = collector_query(c, code);
    if (out[0] == '\0') {
        free(out);
        return NULL;
    }
    return out;
}

void pt_collector_stop(pt_collector *c)
{
    if (c->pid > 0)
        stop_child(c->pid);
    c->pid = 0;
}

long pt_count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    long n = 0;
    size_t sl = strlen(suffix);
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l >= sl && strcmp(e->d_name + l - sl, suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

void pt_sniffer_start(pt_sniffer *sn, const char *host)
{
    char script[1024], port_file[1100], out_file[1100], ppid[24];

    memset(sn, 0, sizeof *sn);
    unique_dir("sniffer", sn->dir, sizeof sn->dir);
    join_path(port_file, sizeof port_file, sn->dir, "port");
    join_path(out_file, sizeof out_file, sn->dir, "sniffer.out");
    join_path(sn->log_path, sizeof sn->log_path, sn->dir, "connections.log");
    snprintf(script, sizeof script, "%s/tests/servers/sniffer.py", PINCURL_SOURCE_DIR);
    snprintf(ppid, sizeof ppid, "%d", (int)getpid());
    char *argv[] = {(char *)python_path(), script, "--host", (char *)(host ? host : "127.0.0.1"),
                    "--port-file", port_file, "--log", sn->log_path, "--lifetime", "300",
                    "--parent-pid", ppid, NULL};
    sn->pid = spawn(argv, out_file, 1);
    sn->port = wait_port_file(&sn->pid, port_file, out_file, "the sniffer");
}

long pt_sniffer_connections(const pt_sniffer *sn, char kinds[][16], long max)
{
    FILE *f = fopen(sn->log_path, "r");
    char line[512];
    long n = 0;
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f) != NULL) {
        char kind[16];
        long idx;
        if (sscanf(line, "%ld %15s", &idx, kind) == 2) {
            if (kinds != NULL && n < max)
                snprintf(kinds[n], 16, "%s", kind);
            n++;
        }
    }
    fclose(f);
    return n;
}

void pt_sniffer_stop(pt_sniffer *sn)
{
    if (sn->pid > 0) {
        stop_child(sn->pid);
        sn->pid = 0;
    }
}
