/* Real peers for the integration tests: the loopback HTTPS server tests/servers/tls_server.py
 * and mitmproxy (mitmdump). Each runs as a child process, started per test and stopped by
 * its PID; whatever a failing test leaves running is killed when the test process exits,
 * and the children also exit by themselves when that process is gone. */
#ifndef PINCURL_TEST_SERVERS_H
#define PINCURL_TEST_SERVERS_H

#include <sys/types.h>

typedef struct pt_server_opts {
    const char *chain;  /* certificate chain to send: a PKI file name or an absolute path */
    const char *key;    /* its private key: a PKI file name or an absolute path */
    const char *host;   /* "127.0.0.1" (default when NULL) or "::1" */
    int tls_max;        /* 12 or 13 (0: TLS 1.3) */
    int no_tickets;     /* 1: the server issues no session tickets */
    const char *name;   /* answered by "/" as "hello from NAME" (default "server") */
    int port;           /* a fixed port (0: any free one) */
    int plain;          /* 1: cleartext HTTP (chain and key unused) */
} pt_server_opts;

typedef struct pt_server {
    pid_t pid;
    int port;
    char log_path[1024];
    char dir[1024];
} pt_server;

/* Starts tls_server.py and waits (at most 10 s) until it listens; fails the test otherwise. */
void pt_server_start(pt_server *s, const pt_server_opts *o);

/* Decrypted request bytes the server has received so far, over all its connections. */
long pt_server_request_bytes(const pt_server *s);

/* Completed handshakes so far: full ones and resumed sessions (from its log). */
void pt_server_handshakes(const pt_server *s, long *full, long *resumed);

/* Connections the server has accepted so far (from its log). */
long pt_server_connections(const pt_server *s);

/* Waits (at most ms) until every accepted connection is logged closed, so that a count of
 * received bytes is final. 1 if so, 0 on timeout. */
int pt_server_wait_closed(const pt_server *s, long ms);

/* SIGTERM, then SIGKILL after 2 s; reaps the process. Safe to call twice. */
void pt_server_stop(pt_server *s);

typedef struct pt_mitm {
    pid_t pid;
    int port;
    char confdir[1024];
    char ca_pem[1024];  /* the interception CA a client must trust */
} pt_mitm;

/* Starts mitmdump on 127.0.0.1:<free port> with a fresh confdir, verifying upstream servers
 * against upstream_ca_pem (a PKI file name or an absolute path); waits until it listens. */
void pt_mitm_start(pt_mitm *m, const char *upstream_ca_pem);
void pt_mitm_stop(pt_mitm *m);

/* 1 if mitmdump is on PATH. */
int pt_mitm_available(void);

typedef struct pt_proxy {
    pid_t pid;           /* tinyproxy (HTTP CONNECT proxy) */
    pid_t tls_pid;       /* stunnel in front of it, for an HTTPS proxy; 0 otherwise */
    int port;            /* where clients connect (tinyproxy's, or stunnel's TLS port) */
    char dir[1024];
    char log_path[1100]; /* tinyproxy's log: one "CONNECT" line per tunnel */
} pt_proxy;

/* Starts tinyproxy on 127.0.0.1:<free port>; with tls_chain/tls_key (PKI names), also
 * stunnel terminating TLS with that certificate in front of it (an HTTPS proxy). Waits until
 * it listens. */
void pt_proxy_start(pt_proxy *p, const char *tls_chain, const char *tls_key);
/* Tunnels (CONNECT requests) the proxy has opened so far. */
long pt_proxy_tunnels(const pt_proxy *p);
void pt_proxy_stop(pt_proxy *p);

typedef struct pt_collector {
    pid_t pid;
    int port;
    char dir[1024];
    char db[1100];
} pt_collector;

/* Starts samples/report-collector/collector.py over HTTPS (the genuine leaf-ec chain, so
 * clients trusting the test root accept it) on 127.0.0.1:port (0: a free one), storing into
 * a fresh SQLite database; waits until it listens. */
void pt_collector_start(pt_collector *c, int port);
/* Reports stored so far. */
long pt_collector_count(const pt_collector *c);
/* Report number i (1-based, in arrival order) as JSON text; caller frees. NULL if none. */
char *pt_collector_report(const pt_collector *c, long i);
void pt_collector_stop(pt_collector *c);

/* tests/servers/sniffer.py: records how each connection to it begins ("tls", "connect",
 * "http", "socks4", "socks5", "empty", "other"), answers nothing. */
typedef struct pt_sniffer {
    pid_t pid;
    int port;
    char dir[1024];
    char log_path[1100];
} pt_sniffer;
void pt_sniffer_start(pt_sniffer *sn, const char *host); /* host: NULL (127.0.0.1) or "::1" */
/* Connections so far; kinds[i] receives the kind of connection i (up to max). */
long pt_sniffer_connections(const pt_sniffer *sn, char kinds[][16], long max);
void pt_sniffer_stop(pt_sniffer *sn);

/* Files in dir whose names end with suffix. */
long pt_count_files(const char *dir, const char *suffix);

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int pt_free_port(void);

#endif
