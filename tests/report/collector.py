#!/usr/bin/env python3
"""A loopback report collector for the report tests.

    collector.py --dir DIR --port-file FILE [--port N] [--mode accept|fail|hang|down]

Listens on 127.0.0.1 (port 0 picks a free one; the port is written to --port-file once the
server listens). Every POST body is read in full, then, by mode:
  accept  stored as DIR/received/NNNNNN.json, then answered 200;
  fail    answered 500 (not stored);
  hang    never answered (the connection stays open until the client gives up).
  down    only reserves a port: bind, write the port file, exit (connections are refused).
The mode can be changed while running by writing it to DIR/mode. Every request is logged
to DIR/requests.log as "MODE PATH LENGTH". The process exits when its parent does; the tests
stop it by PID.
"""
import argparse
import http.server
import os
import socket
import sys
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--mode", default="accept", choices=["accept", "fail", "hang", "down"])
    args = ap.parse_args()
    received = os.path.join(args.dir, "received")
    os.makedirs(received, exist_ok=True)

    def write_port(port):
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)

    if args.mode == "down":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", args.port))
        write_port(s.getsockname()[1])
        s.close()
        return 0

    lock = threading.Lock()
    counter = [len(os.listdir(received))]

    def mode():
        try:
            with open(os.path.join(args.dir, "mode")) as f:
                m = f.read().strip()
                if m in ("accept", "fail", "hang"):
                    return m
        except OSError:
            pass
        return args.mode

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n) if n > 0 else b""
            m = mode()
            with lock:
                with open(os.path.join(args.dir, "requests.log"), "a") as f:
                    f.write("%s %s %d %s\n" % (m, self.path, len(body),
                                               self.headers.get("Content-Type", "-")))
            if m == "hang":
                while True:
                    time.sleep(3600)
            if m == "accept":
                with lock:
                    counter[0] += 1
                    name = os.path.join(received, "%06d.json" % counter[0])
                with open(name + ".tmp", "wb") as f:
                    f.write(body)
                os.rename(name + ".tmp", name)
                code = 200
            else:
                code = 500
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    srv = Server(("127.0.0.1", args.port), Handler)
    write_port(srv.server_address[1])

    parent = os.getppid()

    def watch_parent():
        while True:
            if os.getppid() != parent:
                os._exit(0)
            time.sleep(0.5)

    threading.Thread(target=watch_parent, daemon=True).start()
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
