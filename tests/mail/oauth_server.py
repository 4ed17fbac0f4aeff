#!/usr/bin/python3
"""OAuth2 token introspection (RFC 7662) for tidings' tests: what Dovecot's oauth2 passdb
asks to validate the bearer token a client sent with XOAUTH2 or OAUTHBEARER.

POST /introspect with `token=...` (form-encoded) answers
  {"active": true, "username": USER, "scope": "mail"}   for --token,
  {"active": false}                                      for anything else.
Every request is logged (token redacted) to stderr. Prints "ready" once it listens.
"""

import argparse
import hmac
import json
import logging
import signal
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--token", required=True)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="oauth %(asctime)s %(message)s", stream=sys.stderr)
    good = args.token.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace")
            token = (urllib.parse.parse_qs(body).get("token") or [""])[0]
            # A bearer token may also come as the Authorization header (introspection_mode = auth).
            auth = self.headers.get("Authorization", "")
            if not token and auth.lower().startswith("bearer "):
                token = auth[7:].strip()
            active = hmac.compare_digest(token.encode(), good)
            answer = {"active": True, "username": args.user, "scope": "mail"} if active else {"active": False}
            data = json.dumps(answer).encode()
            logging.info("POST %s -> active=%s", self.path, active)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
