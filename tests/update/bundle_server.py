#!/usr/bin/env python3
"""A small HTTPS server that serves one update bundle file, for the updater's tests.
Loopback only.

    bundle_server.py --cert CHAIN.pem --key KEY.pem --file BUNDLE --port-file F --log F
                     [--parent-pid PID] [--lifetime SECONDS]

GET /bundle reads BUNDLE at every request and answers:
    500                 when BUNDLE.fail exists (the test switches failures on and off)
    404                 when BUNDLE is missing
    304 (no body)       when If-None-Match equals the file's ETag
    200 + the bytes     otherwise, with ETag: "<sha256 hex of the bytes>"
Every request is logged, one line each, flushed:
    req N GET /bundle inm=<If-None-Match or -> code=<code> t=<monotonic seconds>
The port is written to --port-file (atomically) once the socket listens. The server exits
on SIGTERM or SIGINT, after --lifetime seconds (default 300) and when --parent-pid is gone.
"""

import argparse
import hashlib
import http.server
import os
import signal
import ssl
import sys
import threading
import urllib.parse
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pincurl-bundle-test"
    sys_version = ""

    def log_message(self, fmt, *args):  # the request log below replaces stderr lines
        pass

    def answer(self, code, body=b"", headers=None):
        # logged before the answer leaves, so a client that has it finds the line
        self.server.log_request_line(self, code)
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if code != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if code != 304 and body:
            self.wfile.write(body)

    def do_GET(self):
        path = self.server.bundle_path
        if self.path.startswith("/redirect?to="):  # a 302 to anywhere (the hop tests)
            target = urllib.parse.unquote(self.path[len("/redirect?to="):])
            self.answer(302, b"", {"Location": target})
            return
        if self.path != "/bundle":
            self.answer(404, b"not found\n")
            return
        if os.path.exists(path + ".fail"):
            self.answer(500, b"failing on purpose\n")
            return
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            self.answer(404, b"no bundle\n")
            return
        etag = '"' + hashlib.sha256(data).hexdigest() + '"'
        if self.headers.get("If-None-Match") == etag:
            self.answer(304, headers={"ETag": etag})
            return
        self.answer(200, data, {"ETag": etag, "Content-Type": "application/octet-stream"})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, bundle_path, log_path):
        super().__init__(addr, Handler)
        self.bundle_path = bundle_path
        self.log_lock = threading.Lock()
        self.count = 0
        self.log = open(log_path, "a", encoding="ascii")

    def log_request_line(self, handler, code):
        with self.log_lock:
            self.count += 1
            inm = handler.headers.get("If-None-Match") or "-"
            self.log.write("req %d %s %s inm=%s code=%d t=%.3f\n" %
                           (self.count, handler.command, handler.path, inm, code,
                            time.monotonic()))
            self.log.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--parent-pid", type=int, default=0)
    ap.add_argument("--lifetime", type=float, default=300.0)
    args = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv = Server(("127.0.0.1", 0), args.file, args.log)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(tmp, args.port_file)

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    start = time.monotonic()

    def watchdog():
        while True:
            time.sleep(0.5)
            if time.monotonic() - start > args.lifetime:
                stop()
                return
            if args.parent_pid and os.getppid() != args.parent_pid:
                stop()
                return

    threading.Thread(target=watchdog, daemon=True).start()
    srv.serve_forever(poll_interval=0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
