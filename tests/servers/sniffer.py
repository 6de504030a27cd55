#!/usr/bin/env python3
"""Loopback listener that records how each connection begins, for the route tests.

    sniffer.py --port-file FILE --log FILE [--host 127.0.0.1|::1] [--lifetime S]
               [--parent-pid PID]

For every accepted connection it reads what the client sends first (at most 64 bytes, for at
most 2 seconds), appends one line to the log and closes the connection:

    <n> <kind> <hex of the bytes>

where kind is "tls" (a TLS record: a ClientHello), "connect" (an HTTP CONNECT line),
"http" (another HTTP request line), "socks4", "socks5", "empty" (nothing sent) or "other".
It answers nothing, so nothing a client sends after its first bytes ever reaches it: the log
says which protocol the client chose for this address, and that is all the tests compare.
"""
import argparse
import os
import socket
import sys
import threading
import time


def kind_of(data):
    if not data:
        return "empty"
    if data[0] == 0x16 and len(data) > 1 and data[1] == 0x03:
        return "tls"
    if data.startswith(b"CONNECT "):
        return "connect"
    if data.split(b" ", 1)[0] in (b"GET", b"POST", b"HEAD", b"PUT", b"DELETE", b"OPTIONS"):
        return "http"
    if data[0] == 0x04:
        return "socks4"
    if data[0] == 0x05:
        return "socks5"
    return "other"


def main(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--lifetime", type=float, default=300.0)
    p.add_argument("--parent-pid", type=int, default=0)
    args = p.parse_args(argv)
    if args.host not in ("127.0.0.1", "::1"):
        print("sniffer: loopback only", file=sys.stderr)
        return 2
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    lsock = socket.socket(family, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((args.host, 0))
    lsock.listen(16)
    lock = threading.Lock()
    count = [0]

    def watchdog():
        end = time.time() + args.lifetime
        while time.time() < end:
            if args.parent_pid and not os.path.exists("/proc/%d" % args.parent_pid):
                break
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % lsock.getsockname()[1])
    os.rename(tmp, args.port_file)

    def handle(conn):
        data = b""
        conn.settimeout(2.0)
        try:
            while len(data) < 64:
                chunk = conn.recv(64 - len(data))
                if not chunk:
                    break
                data += chunk
                if kind_of(data) in ("tls", "socks4", "socks5") or b"\r\n" in data:
                    break
        except OSError:
            pass
        # logged before the close: a client that saw the close finds the line written
        try:
            with lock:
                count[0] += 1
                with open(args.log, "a") as f:
                    f.write("%d %s %s\n" % (count[0], kind_of(data), data.hex()))
        finally:
            conn.close()

    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
