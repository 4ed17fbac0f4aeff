"""Serves the benchmark corpus over HTTP/1.1 on loopback addresses only.

    python3 serve.py CORPUS_DIR DELAY_MS

Each feed is served from the loopback host `hosts.json` assigns it (127.0.1.N, all on one port;
Linux routes the whole 127/8 to the loopback interface, so nothing leaves the machine).
Supports keep-alive, gzip when the client asks for it (bodies compressed once, at start),
ETag / If-None-Match -> 304, and answers the paths in `special.json` with their status.
Every request first sleeps DELAY_MS, like a distant server would make it wait.
Prints `PORT <n>` once every address listens; exits on SIGTERM.
"""

import gzip
import hashlib
import json
import os
import signal
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAST_MODIFIED = "Sat, 28 Mar 2026 06:00:00 GMT"


def host_address(n):
    return f"127.0.1.{n + 1}"


def etag_of(body):
    return '"' + hashlib.sha1(body).hexdigest()[:16] + '"'


def load(corpus):
    with open(os.path.join(corpus, "hosts.json")) as f:
        layout = json.load(f)
    with open(os.path.join(corpus, "special.json")) as f:
        special = json.load(f)
    bodies = {}
    for path in layout["paths"]:
        with open(os.path.join(corpus, path), "rb") as f:
            raw = f.read()
        ctype = "application/feed+json" if path.endswith(".json") else "application/xml"
        if path.endswith("/111.xml"):
            ctype = "text/html; charset=utf-8"
        etag = etag_of(raw)
        bodies["/" + path] = (raw, gzip.compress(raw, 6), etag, ctype)
    return layout, special, bodies


def main():
    corpus, delay_ms = sys.argv[1], int(sys.argv[2])
    layout, special, bodies = load(corpus)
    delay = delay_ms / 1000

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "bench-feeds/1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            if delay:
                time.sleep(delay)
            status = special.get(self.path)
            entry = bodies.get(self.path)
            if status or entry is None:
                body = b"server error\n" if status == 500 else b"not found\n"
                self.send_response(status or 404)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            raw, gz, etag, ctype = entry
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            use_gzip = "gzip" in (self.headers.get("Accept-Encoding") or "") and raw
            body = gz if use_gzip else raw
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", LAST_MODIFIED)
            if use_gzip:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

        def server_bind(self):
            # HTTPServer.server_bind looks up the address's FQDN, a DNS round trip per address.
            socketserver.TCPServer.server_bind(self)
            self.server_name, self.server_port = self.server_address[:2]

    addresses = sorted(set(layout["hosts"]))
    first = Server((host_address(addresses[0]), 0), Handler)
    port = first.server_address[1]
    servers = [first] + [Server((host_address(a), port), Handler) for a in addresses[1:]]
    for s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 1.0}, daemon=True).start()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"PORT {port}", flush=True)
    stop.wait()
    for s in servers:
        s.server_close()


if __name__ == "__main__":
    main()
