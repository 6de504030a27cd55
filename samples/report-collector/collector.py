#!/usr/bin/env python3
"""pincurl sample report collector: receives failure reports (docs/reports.md) over HTTP and
stores them in SQLite.

Serve (loopback by default), over HTTPS with --tls-cert/--tls-key (policies accept only
https:// report URIs) or plain HTTP without:
    collector.py --db reports.db [--host 127.0.0.1] [--port 8443] [--port-file FILE]
                 [--tls-cert CHAIN.pem --tls-key KEY.pem]
Summarise what was received, by host and validation result:
    collector.py --db reports.db --summary

Any POST path is accepted. Answers: 200 stored; 400 not a JSON object with a string
"hostname"; 413 larger than --max-bytes; 404 for other methods. Python 3 standard library
only (http.server, sqlite3).
"""
import argparse
import http.server
import json
import os
import ssl
import sqlite3
import sys
import threading
import time

SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    remote TEXT NOT NULL,
    hostname TEXT NOT NULL,
    port INTEGER,
    noted_hostname TEXT,
    validation_result INTEGER,
    enforce_pinning INTEGER,
    app_bundle_id TEXT,
    app_version TEXT,
    date_time TEXT,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_host ON reports (hostname, validation_result);
"""

# TrustKit's validation-result numbers (pincurl_result in include/pincurl/core.h).
RESULTS = {
    0: "SUCCESS",
    1: "PIN_MISMATCH",
    2: "INVALID_CHAIN",
    3: "INVALID_PARAMETERS",
    5: "SPKI_ERROR",
    6: "NOT_PINNED",
    7: "POLICY_EXPIRED",
}


def open_db(path):
    db = sqlite3.connect(path, check_same_thread=False)
    db.executescript(SCHEMA)
    db.commit()
    return db


def int_or_none(v):
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def store(db, lock, remote, report, body):
    with lock:
        db.execute(
            "INSERT INTO reports (received_at, remote, hostname, port, noted_hostname,"
            " validation_result, enforce_pinning, app_bundle_id, app_version, date_time, body)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                remote,
                report["hostname"],
                int_or_none(report.get("port")),
                report.get("noted-hostname") if isinstance(report.get("noted-hostname"), str) else None,
                int_or_none(report.get("validation-result")),
                1 if report.get("enforce-pinning") is True else 0,
                report.get("app-bundle-id") if isinstance(report.get("app-bundle-id"), str) else None,
                report.get("app-version") if isinstance(report.get("app-version"), str) else None,
                report.get("date-time") if isinstance(report.get("date-time"), str) else None,
                body,
            ),
        )
        db.commit()


def serve(args):
    db = open_db(args.db)
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            if not args.quiet:
                sys.stderr.write("collector: %s - %s\n" % (self.address_string(), fmt % a))

        def answer(self, code, text):
            data = (text + "\n").encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.answer(404, "POST reports here")

        def do_POST(self):
            try:
                n = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self.close_connection = True
                return self.answer(411, "Content-Length required")
            if n < 0 or n > args.max_bytes:
                self.close_connection = True
                return self.answer(413, "report too large")
            body = self.rfile.read(n)
            try:
                text = body.decode("utf-8")
                report = json.loads(text)
            except (UnicodeDecodeError, ValueError):
                return self.answer(400, "not JSON")
            if not isinstance(report, dict) or not isinstance(report.get("hostname"), str):
                return self.answer(400, "not a pincurl report")
            store(db, lock, self.client_address[0], report, text)
            self.answer(200, "stored")

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            # e.g. a client that gave up the TLS handshake: one line, not a traceback
            if not args.quiet:
                sys.stderr.write("collector: %s: %s\n" % (client_address[0], sys.exc_info()[1]))

    srv = Server((args.host, args.port), Handler)
    scheme = "http"
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        # the handshake runs in the request's thread, so a slow client cannot stall accept()
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
        scheme = "https"
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    if not args.quiet:
        sys.stderr.write("collector: listening on %s://%s:%d/ storing into %s\n"
                         % (scheme, args.host, port, args.db))
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def summary(args):
    if not os.path.exists(args.db):
        sys.stderr.write("collector: no database at %s\n" % args.db)
        return 1
    db = open_db(args.db)
    rows = db.execute(
        "SELECT hostname, validation_result, COUNT(*), MIN(received_at), MAX(received_at)"
        " FROM reports GROUP BY hostname, validation_result"
        " ORDER BY COUNT(*) DESC, hostname, validation_result").fetchall()
    total = sum(r[2] for r in rows)
    print("%d report(s)" % total)
    if rows:
        print("%-40s %-20s %7s  %-20s  %s" % ("host", "result", "reports", "first", "last"))
    for host, result, count, first, last in rows:
        name = RESULTS.get(result, "UNKNOWN") if result is not None else "-"
        label = "%s (%s)" % (name, result) if result is not None else name
        print("%-40s %-20s %7d  %-20s  %s" % (host, label, count, first, last))
    return 0


def main():
    ap = argparse.ArgumentParser(description="pincurl sample report collector")
    ap.add_argument("--db", default="reports.db", help="SQLite database file")
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on")
    ap.add_argument("--port", type=int, default=8443, help="port (0: any free one)")
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate chain (PEM)")
    ap.add_argument("--tls-key", help="the private key of --tls-cert (PEM)")
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--max-bytes", type=int, default=1024 * 1024, help="largest report")
    ap.add_argument("--quiet", action="store_true", help="no request log")
    ap.add_argument("--summary", action="store_true", help="print a summary and exit")
    args = ap.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    return summary(args) if args.summary else serve(args)


if __name__ == "__main__":
    sys.exit(main())
