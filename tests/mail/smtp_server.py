#!/usr/bin/python3
"""SMTP server for tidings' tests, built on aiosmtpd (run it with /usr/bin/python3).

Listens on 127.0.0.1 on up to three ports:
  --starttls-port  STARTTLS required before AUTH/MAIL, then AUTH PLAIN/LOGIN required.
  --tls-port       implicit TLS (SMTPS), AUTH PLAIN/LOGIN required.
  --plain-port     no TLS; AUTH optional (offered, not required) -- for security = "none".
Only --user/--password is accepted (anything else gets 535); with --oauth-token, AUTH XOAUTH2
and AUTH OAUTHBEARER (RFC 7628) accept --user with that bearer token.

Every accepted message is written atomically (ROOT/Maildir/tmp, then rename to
ROOT/Maildir/new) as received, with "X-Envelope-From: <sender>" and one
"X-Envelope-To: <rcpt>" per envelope recipient prepended.

Prints "ready" on stdout once every port listens; exits cleanly on SIGTERM/SIGINT.
"""

import argparse
import base64
import binascii
import hmac
import json
import itertools
import logging
import os
import signal
import socket
import ssl
import sys
import threading
import time
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


class MaildirHandler:
    def __init__(self, maildir, user=None, oauth_token=None):
        self.maildir = maildir
        self.user = user
        self.oauth_token = oauth_token
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(maildir, sub), exist_ok=True)
        self.counter = itertools.count()
        self.lock = threading.Lock()

    def _unique_name(self):
        with self.lock:
            n = next(self.counter)
        now = time.time()
        return "%d.M%06dP%dQ%d.%s" % (
            int(now), int((now % 1) * 1e6), os.getpid(), n, socket.gethostname() or "localhost")

    # AUTH XOAUTH2 / OAUTHBEARER: the bearer token must be --oauth-token and the user --user.
    # A refused token gets the error challenge real servers send (334 + JSON), then 535.
    async def auth_XOAUTH2(self, server, args):
        return await self._bearer(server, args, "XOAUTH2")

    async def auth_OAUTHBEARER(self, server, args):
        return await self._bearer(server, args, "OAUTHBEARER")

    async def _bearer(self, server, args, mechanism):
        if len(args) > 1:
            try:
                raw = base64.b64decode(args[1], validate=True)
            except (binascii.Error, ValueError):
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        else:
            raw = await server.challenge_auth("")
            if not isinstance(raw, bytes):
                return AuthResult(success=False, handled=False)
        fields = raw.decode("utf-8", "replace").split("\x01")
        if mechanism == "XOAUTH2":
            user = next((f[5:] for f in fields if f.startswith("user=")), "")
        else:
            gs2 = fields[0].split(",")
            user = next((g[2:] for g in gs2 if g.startswith("a=")), "")
            user = user.replace("=2C", ",").replace("=3D", "=")
        bearer = next((f[12:] for f in fields if f.startswith("auth=Bearer ")), "")
        ok = (self.oauth_token is not None
              and hmac.compare_digest(user.encode(), (self.user or "").encode())
              and hmac.compare_digest(bearer.encode(), self.oauth_token.encode()))
        logging.info("AUTH %s login=%r -> %s", mechanism, user, "ok" if ok else "fail")
        if ok:
            return AuthResult(success=True, handled=False, auth_data=user)
        error = json.dumps({"status": "invalid_token", "schemes": "bearer", "scope": "mail"})
        await server.challenge_auth(error)
        return AuthResult(success=False, handled=False)

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content
        if content is None:
            content = envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        eol = b"\r\n" if b"\r\n" in content[:2000] or not content else b"\n"
        headers = b"X-Envelope-From: " + envelope.mail_from.encode("utf-8") + eol
        for rcpt in envelope.rcpt_tos:
            headers += b"X-Envelope-To: " + rcpt.encode("utf-8") + eol
        name = self._unique_name()
        tmp_path = os.path.join(self.maildir, "tmp", name)
        new_path = os.path.join(self.maildir, "new", name)
        with open(tmp_path, "wb") as f:
            f.write(headers + content)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp_path, new_path)
        logging.info("stored %s from=%s to=%s", name, envelope.mail_from, envelope.rcpt_tos)
        return "250 2.0.0 OK stored as " + name


def make_authenticator(user, password):
    user_b = user.encode("utf-8")
    password_b = password.encode("utf-8")

    def authenticator(server, session, envelope, mechanism, auth_data):
        if mechanism not in ("PLAIN", "LOGIN") or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = hmac.compare_digest(auth_data.login, user_b) and hmac.compare_digest(
            auth_data.password, password_b)
        logging.info("AUTH %s login=%r -> %s", mechanism, auth_data.login, "ok" if ok else "fail")
        # handled=False lets aiosmtpd answer "535 5.7.8 Authentication credentials invalid".
        return AuthResult(success=ok, handled=False)

    return authenticator


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", required=True, help="messages go to ROOT/Maildir/new")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--starttls-port", type=int)
    p.add_argument("--tls-port", type=int)
    p.add_argument("--plain-port", type=int)
    p.add_argument("--cert", help="PEM certificate (chain) for TLS")
    p.add_argument("--key", help="PEM private key for TLS")
    p.add_argument("--oauth-token", help="the bearer token AUTH XOAUTH2/OAUTHBEARER accepts")
    args = p.parse_args()

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s smtp_server %(levelname)s %(message)s")

    if (args.starttls_port or args.tls_port) and not (args.cert and args.key):
        p.error("--cert and --key are needed for --starttls-port/--tls-port")
    if not (args.starttls_port or args.tls_port or args.plain_port):
        p.error("give at least one port")

    handler = MaildirHandler(os.path.join(args.root, "Maildir"), args.user, args.oauth_token)
    authenticator = make_authenticator(args.user, args.password)
    common = dict(hostname=HOST, authenticator=authenticator, enable_SMTPUTF8=True)

    tls_ctx = None
    if args.cert:
        tls_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_ctx.load_cert_chain(args.cert, args.key)

    # aiosmtpd warns that requiring AUTH without requiring TLS is insecure; on the
    # implicit-TLS port TLS is there, aiosmtpd just cannot see it.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    # ... and aiosmtpd 1.4 warns about its own use of the deprecated Session.login_data.
    logging.getLogger("mail.log").addFilter(
        lambda r: "auth_require_tls == False" not in r.getMessage()
        and "login_data is deprecated" not in r.getMessage())

    controllers = []
    if args.starttls_port:
        controllers.append(Controller(
            handler, port=args.starttls_port, server_hostname="localhost",
            tls_context=tls_ctx, require_starttls=True,
            auth_required=True, auth_require_tls=True, **common))
    if args.tls_port:
        # Implicit TLS: aiosmtpd does not see the TLS layer, so auth_require_tls must be
        # False or AUTH would never be advertised.
        controllers.append(Controller(
            handler, port=args.tls_port, server_hostname="localhost",
            ssl_context=tls_ctx, auth_required=True, auth_require_tls=False, **common))
    if args.plain_port:
        controllers.append(Controller(
            handler, port=args.plain_port, server_hostname="localhost",
            auth_required=False, auth_require_tls=False, **common))

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    started = []
    try:
        for c in controllers:
            c.start()
            started.append(c)
        print("ready", flush=True)
        while not stop.wait(3600):
            pass
    finally:
        for c in reversed(started):
            try:
                c.stop()
            except Exception as e:  # noqa: BLE001 -- best effort on shutdown
                logging.warning("stopping controller: %s", e)
    logging.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
