#!/usr/bin/env python3
"""A small HTTPS/1.1 server for pincurl's tests and demo. Loopback only.

    tls_server.py --cert CHAIN.pem --key KEY.pem [--host 127.0.0.1|::1] [--port 0]
                  [--port-file F] [--log F] [--tls-max 1.2|1.3] [--no-tickets]
                  [--name NAME] [--lifetime SECONDS] [--parent-pid PID]
    tls_server.py --plain [--host ...] ...       (cleartext HTTP/1.1, same routes)

The certificate file is sent as it is: every certificate in it goes on the wire, in order
(that is how a padded chain is served). Every decrypted byte received from a client is
appended to the log ("conn N recv COUNT HEX"), so a test can prove that a refused
connection sent zero request bytes. Log lines:

    listening PORT
    conn N accept ADDRESS
    conn N tls VERSION CIPHER resumed|full
    conn N handshake-failed REASON
    conn N recv COUNT HEX
    conn N close bytes=TOTAL

Routes (HTTP/1.1, keep-alive, Content-Length responses):
    /                 200 "hello from NAME"
    /echo             the request body
    /bytes?n=N        N bytes of "abcdefghijklmnopqrstuvwxyz" repeated
    /redirect?to=URL  302 with Location: URL
    /status?code=N    status N
    /headers          the request's header lines as the body
    /hang             no answer; the connection is closed after 30 s, or as soon as
                      the client closes it
    /count            number of TCP connections accepted so far
    /request          the request line, its header lines, an empty line and the body
    /setcookie?NAME=VALUE[&...]  200 with one Set-Cookie per pair ("domain", "path",
                      "max-age" and "secure" pairs become attributes of every cookie)
    /gzip             a text body, gzip-encoded when Accept-Encoding names gzip
    /flaky?key=K&fail=N[&retry-after=S]  503 (with Retry-After: S) for the first N requests
                      with key K, 200 "ok after N" afterwards
    /auth?user=U&pass=P  401 with WWW-Authenticate: Basic unless the request's Basic
                      credentials are U:P; 200 "hello U" if they are

The port is written to --port-file (atomically) once the socket listens. The server exits
on SIGTERM or SIGINT, after --lifetime seconds (default 600), and when --parent-pid is gone.
"""

import argparse
import base64
import gzip
import os
import select
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse

LOOPBACK = {"127.0.0.1": socket.AF_INET, "::1": socket.AF_INET6,
            "localhost": socket.AF_INET}
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_GENERATED_BYTES = 256 * 1024 * 1024
IDLE_TIMEOUT = 60.0
HANDSHAKE_TIMEOUT = 10.0
HANG_SECONDS = 30.0

REASONS = {200: "OK", 201: "Created", 204: "No Content", 301: "Moved Permanently",
           302: "Found", 303: "See Other", 304: "Not Modified", 307: "Temporary Redirect",
           308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           413: "Payload Too Large", 418: "I'm a teapot", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}


class Log:
    """Append-only log shared by every connection thread; each line is flushed."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.f = open(path, "a", encoding="ascii") if path else None

    def write(self, line):
        if self.f is None:
            return
        with self.lock:
            self.f.write(line + "\n")
            self.f.flush()


class Server:
    def __init__(self, args):
        self.args = args
        self.log = Log(args.log)
        self.stopping = threading.Event()
        self.count_lock = threading.Lock()
        self.accepted = 0
        self.flaky = {}
        self.ctx = None if args.plain else self.make_context()

    def make_context(self):
        a = self.args
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if a.tls_max == "1.2":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        else:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_3
        if a.no_tickets:
            ctx.options |= ssl.OP_NO_TICKET
            ctx.num_tickets = 0
        ctx.load_cert_chain(a.cert, a.key)
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx

    # -- connections -------------------------------------------------------------------

    def serve(self, lsock):
        lsock.settimeout(0.5)
        while not self.stopping.is_set():
            try:
                conn, addr = lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                if self.stopping.is_set():
                    break
                continue
            with self.count_lock:
                self.accepted += 1
                n = self.accepted
            self.log.write("conn %d accept %s" % (n, addr[0]))
            t = threading.Thread(target=self.connection, args=(conn, n), daemon=True)
            t.start()

    def connection(self, raw, n):
        total = [0]
        if self.ctx is None:  # --plain: HTTP/1.1 in cleartext
            try:
                raw.settimeout(IDLE_TIMEOUT)
                Connection(self, raw, n, total).run()
            except (OSError, ValueError):
                pass
            finally:
                try:
                    raw.close()
                except OSError:
                    pass
                self.log.write("conn %d close bytes=%d" % (n, total[0]))
            return
        try:
            raw.settimeout(HANDSHAKE_TIMEOUT)
            try:
                tls = self.ctx.wrap_socket(raw, server_side=True,
                                           do_handshake_on_connect=False)
                tls.do_handshake()
            except (ssl.SSLError, OSError) as e:
                reason = getattr(e, "reason", None) or str(e) or type(e).__name__
                self.log.write("conn %d handshake-failed %s" % (n, str(reason).replace("\n", " ")))
                try:
                    raw.close()
                except OSError:
                    pass
                return
            self.log.write("conn %d tls %s %s %s" % (n, tls.version(), (tls.cipher() or ("?",))[0],
                                                     "resumed" if tls.session_reused else "full"))
            tls.settimeout(IDLE_TIMEOUT)
            try:
                Connection(self, tls, n, total).run()
            except (ssl.SSLError, OSError, ValueError):
                pass
            finally:
                # A clean TLS shutdown (close_notify) keeps the session resumable: OpenSSL
                # drops a TLS 1.2 session from its cache when a connection ends without one.
                try:
                    tls.settimeout(1.0)
                    tls.unwrap()
                except (ssl.SSLError, OSError, ValueError):
                    pass
                try:
                    tls.close()
                except OSError:
                    pass
        finally:
            self.log.write("conn %d close bytes=%d" % (n, total[0]))


class Connection:
    """One TLS connection: reads requests, answers them, until either side closes."""

    def __init__(self, server, sock, n, total):
        self.server = server
        self.sock = sock
        self.n = n
        self.total = total
        self.buf = b""

    def recv_more(self):
        data = self.sock.recv(65536)
        if not data:
            return False
        self.total[0] += len(data)
        self.server.log.write("conn %d recv %d %s" % (self.n, len(data), data.hex()))
        self.buf += data
        return True

    def read_until(self, marker, limit):
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out = self.buf[:i]
                self.buf = self.buf[i + len(marker):]
                return out
            if len(self.buf) > limit:
                raise ValueError("line too long")
            if not self.recv_more():
                return None

    def read_exact(self, count):
        while len(self.buf) < count:
            if not self.recv_more():
                return None
        out = self.buf[:count]
        self.buf = self.buf[count:]
        return out

    def read_chunked(self):
        body = b""
        while True:
            line = self.read_until(b"\r\n", 1024)
            if line is None:
                return None
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers up to the empty line
                    t = self.read_until(b"\r\n", MAX_HEADER_BYTES)
                    if t is None or t == b"":
                        return body
            if len(body) + size > MAX_BODY_BYTES:
                raise ValueError("body too large")
            chunk = self.read_exact(size + 2)
            if chunk is None:
                return None
            body += chunk[:size]

    def run(self):
        while not self.server.stopping.is_set():
            head = self.read_until(b"\r\n\r\n", MAX_HEADER_BYTES)
            if head is None:
                return
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3:
                self.respond(400, b"bad request line\n", close=True)
                return
            method, target, version = parts
            headers = []
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers.append((k.strip(), v.strip()))
            hmap = {k.lower(): v for k, v in headers}
            if hmap.get("expect", "").lower() == "100-continue":
                self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            if "chunked" in hmap.get("transfer-encoding", "").lower():
                body = self.read_chunked()
            else:
                length = int(hmap.get("content-length", "0") or "0")
                if length < 0 or length > MAX_BODY_BYTES:
                    self.respond(413, b"body too large\n", close=True)
                    return
                body = self.read_exact(length)
            if body is None:
                return
            close = (hmap.get("connection", "").lower() == "close"
                     or version == "HTTP/1.0")
            if not self.route(method, target, lines[1:], body, close, lines[0]):
                return
            if close:
                return

    def route(self, method, target, header_lines, body, close, request_line=""):
        url = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(url.query)
        path = url.path
        name = self.server.args.name
        hmap = {}
        for line in header_lines:
            if ":" in line:
                k, v = line.split(":", 1)
                hmap.setdefault(k.strip().lower(), v.strip())
        if path == "/request":
            text = request_line + "\r\n" + "".join(line + "\r\n" for line in header_lines)
            return self.respond(200, text.encode("latin-1") + b"\r\n" + body, close=close)
        if path == "/setcookie":
            pairs = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
            attrs = ""
            for k, v in pairs:
                if k in ("domain", "path", "max-age"):
                    attrs += "; %s=%s" % (k.capitalize() if k != "max-age" else "Max-Age", v)
                elif k == "secure":
                    attrs += "; Secure"
            extra = [("Set-Cookie", "%s=%s%s" % (k, v, attrs)) for k, v in pairs
                     if k not in ("domain", "path", "max-age", "secure")]
            return self.respond(200, b"cookies set\n", close=close, extra=extra)
        if path == "/gzip":
            text = ("compressible text from %s\n" % name).encode() * 20
            if "gzip" in hmap.get("accept-encoding", ""):
                return self.respond(200, gzip.compress(text, mtime=0), close=close,
                                    extra=[("Content-Encoding", "gzip")])
            return self.respond(200, text, close=close)
        if path == "/flaky":
            key = query.get("key", [""])[0]
            fail = int(query.get("fail", ["1"])[0])
            with self.server.count_lock:
                seen = self.server.flaky.get(key, 0)
                self.server.flaky[key] = seen + 1
            if seen < fail:
                extra = []
                if "retry-after" in query:
                    extra.append(("Retry-After", query["retry-after"][0]))
                return self.respond(503, b"try again\n", close=close, extra=extra)
            return self.respond(200, ("ok after %d\n" % fail).encode(), close=close)
        if path == "/auth":
            want = "%s:%s" % (query.get("user", [""])[0], query.get("pass", [""])[0])
            got = hmap.get("authorization", "")
            if got.startswith("Basic ") and base64.b64decode(got[6:]).decode(
                    "latin-1", "replace") == want:
                return self.respond(200, ("hello %s\n" % want.split(":")[0]).encode(),
                                    close=close)
            return self.respond(401, b"unauthorized\n", close=close,
                                extra=[("WWW-Authenticate", 'Basic realm="test"')])
        if path == "/":
            return self.respond(200, ("hello from %s" % name).encode(), close=close,
                                head=method == "HEAD")
        if path == "/echo":
            return self.respond(200, body, close=close)
        if path == "/bytes":
            try:
                count = int(query.get("n", ["0"])[0])
            except ValueError:
                count = -1
            if count < 0 or count > MAX_GENERATED_BYTES:
                return self.respond(400, b"bad n\n", close=close)
            return self.respond_generated(count, close)
        if path == "/redirect":
            to = query.get("to", [""])[0]
            if not to:
                return self.respond(400, b"missing to\n", close=close)
            return self.respond(302, b"", close=close, extra=[("Location", to)])
        if path == "/status":
            try:
                code = int(query.get("code", ["200"])[0])
            except ValueError:
                code = 0
            if code < 200 or code > 999:
                return self.respond(400, b"bad code\n", close=close)
            return self.respond(code, ("status %d\n" % code).encode(), close=close)
        if path == "/headers":
            text = "".join(line + "\r\n" for line in header_lines)
            return self.respond(200, text.encode("latin-1"), close=close)
        if path == "/hang":
            # no answer; over after HANG_SECONDS, or as soon as the client closes
            deadline = time.monotonic() + HANG_SECONDS
            while time.monotonic() < deadline and not self.server.stopping.is_set():
                readable, _, _ = select.select([self.sock], [], [], 0.1)
                pending = getattr(self.sock, "pending", None)  # TLS: bytes already decrypted
                if readable or (pending is not None and pending()):
                    try:
                        if not self.recv_more():
                            return False
                    except (OSError, ssl.SSLError):
                        return False
            return False
        if path == "/count":
            with self.server.count_lock:
                n = self.server.accepted
            return self.respond(200, ("%d" % n).encode(), close=close)
        return self.respond(404, b"not found\n", close=close)

    def send_head(self, code, length, close, extra):
        reason = REASONS.get(code, "Status")
        lines = ["HTTP/1.1 %d %s" % (code, reason),
                 "Server: pincurl-test/%s" % self.server.args.name,
                 "Content-Type: text/plain"]
        if code not in (204, 304):
            lines.append("Content-Length: %d" % length)
        for k, v in extra:
            lines.append("%s: %s" % (k, v))
        lines.append("Connection: %s" % ("close" if close else "keep-alive"))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def respond(self, code, body, close=False, extra=(), head=False):
        if code in (204, 304):
            body = b""
        self.send_head(code, len(body), close, extra)
        if body and not head:
            self.sock.sendall(body)
        return True

    def respond_generated(self, count, close):
        self.send_head(200, count, close, ())
        block = b"abcdefghijklmnopqrstuvwxyz" * 2521  # 65546 bytes, a multiple of 26
        sent = 0
        while sent < count:
            piece = block[:min(len(block), count - sent)]
            self.sock.sendall(piece)
            sent += len(piece)
        return True


def parse_args(argv):
    p = argparse.ArgumentParser(description="pincurl test HTTPS server (loopback only)")
    p.add_argument("--cert", help="certificate chain to send (PEM)")
    p.add_argument("--key", help="private key of the first certificate")
    p.add_argument("--plain", action="store_true", help="cleartext HTTP, no TLS")
    p.add_argument("--host", default="127.0.0.1", help="127.0.0.1 or ::1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--port-file", help="written with the port once listening")
    p.add_argument("--log", help="append-only log of connections and received bytes")
    p.add_argument("--tls-max", choices=["1.2", "1.3"], default="1.3")
    p.add_argument("--no-tickets", action="store_true", help="issue no session tickets")
    p.add_argument("--name", default="server", help="named in the / answer")
    p.add_argument("--lifetime", type=float, default=600.0, help="exit after this long")
    p.add_argument("--parent-pid", type=int, default=0, help="exit when this process ends")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    if not args.plain and (not args.cert or not args.key):
        print("tls_server: --cert and --key are required (or --plain)", file=sys.stderr)
        return 2
    family = LOOPBACK.get(args.host)
    if family is None:
        print("tls_server: --host must be 127.0.0.1 or ::1 (loopback only)", file=sys.stderr)
        return 2
    host = "127.0.0.1" if args.host == "localhost" else args.host
    server = Server(args)

    lsock = socket.socket(family, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        lsock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    lsock.bind((host, args.port))
    lsock.listen(128)
    port = lsock.getsockname()[1]

    def stop(_signum=None, _frame=None):
        server.stopping.set()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def watchdog():
        deadline = time.monotonic() + args.lifetime
        while time.monotonic() < deadline:
            if args.parent_pid > 0:
                try:
                    os.kill(args.parent_pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    pass
            time.sleep(0.5)
        server.log.write("exiting (lifetime or parent gone)")
        os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()

    server.log.write("listening %d" % port)
    if args.port_file:
        tmp = "%s.tmp.%d" % (args.port_file, os.getpid())
        with open(tmp, "w", encoding="ascii") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    try:
        server.serve(lsock)
    finally:
        os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
