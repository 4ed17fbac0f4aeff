#!/usr/bin/env bash
# Self-test of the mail test harness (tests/mail/with-servers.sh).
#
#   bash tests/mail/with-servers.sh bash tests/mail/selftest.sh
#       checks the running servers (SMTP STARTTLS/TLS/plain, AUTH, IMAP/IMAPS) only.
#   bash tests/mail/selftest.sh
#       does the same by wrapping itself in with-servers.sh, and afterwards also checks
#       that no server process is left and that the temp root is gone (what CI should run).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ -z "${TIDINGS_TEST_MAIL_ROOT:-}" ]; then
    # Outer mode.
    state=$(mktemp)
    trap 'rm -f "$state"' EXIT
    t0=$(date +%s%N)
    TIDINGS_SELFTEST_STATE=$state bash "$HERE/with-servers.sh" bash "$HERE/selftest.sh"
    t1=$(date +%s%N)
    root=$(sed -n 's/^root //p' "$state")
    pids=$(sed -n 's/^pids //p' "$state")
    [ -n "$root" ] && [ -n "$pids" ] || { echo "selftest: FAIL: inner run left no state" >&2; exit 1; }
    if [ -e "$root" ]; then
        echo "selftest: FAIL: $root still exists" >&2
        exit 1
    fi
    left=""
    for p in $pids; do
        if [ -e "/proc/$p" ]; then
            left="$left $p($(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null))"
        fi
    done
    if [ -n "$left" ]; then
        echo "selftest: FAIL: server processes left:$left" >&2
        exit 1
    fi
    echo "selftest: OK: root removed, $(echo $pids | wc -w) server processes gone;" \
        "whole run $(( (t1 - t0) / 1000000 )) ms"
    exit 0
fi

# Inner mode: the servers are up and the TIDINGS_TEST_* variables are set.
exec /usr/bin/python3 - <<'PY'
import email
import glob
import imaplib
import os
import smtplib
import socket
import ssl
import sys
import time

E = os.environ
CA = E["TIDINGS_TEST_CA"]
SMTP_HOST = E["TIDINGS_TEST_SMTP_HOST"]
SMTP_USER, SMTP_PASS = E["TIDINGS_TEST_SMTP_USER"], E["TIDINGS_TEST_SMTP_PASSWORD"]
SMTP_MAILDIR = E["TIDINGS_TEST_SMTP_MAILDIR"]
IMAP_HOST = E["TIDINGS_TEST_IMAP_HOST"]
IMAP_USER, IMAP_PASS = E["TIDINGS_TEST_IMAP_USER"], E["TIDINGS_TEST_IMAP_PASSWORD"]
IMAP_MAILDIR = E["TIDINGS_TEST_IMAP_MAILDIR"]
UID = int(E["TIDINGS_TEST_IMAP_UID"])
P = {k: int(E[k]) for k in (
    "TIDINGS_TEST_SMTP_STARTTLS_PORT", "TIDINGS_TEST_SMTP_TLS_PORT",
    "TIDINGS_TEST_SMTP_PLAIN_PORT", "TIDINGS_TEST_IMAP_PORT", "TIDINGS_TEST_IMAPS_PORT")}

ctx = ssl.create_default_context(cafile=CA)     # verifies chain and IP SAN for real
untrusting = ssl.create_default_context(cafile=None)  # system roots only: must fail
untrusting.load_default_certs()

n_ok = 0


def ok(what):
    global n_ok
    n_ok += 1
    print("selftest: ok:", what, flush=True)


def expect(cond, what):
    if not cond:
        print("selftest: FAIL:", what, file=sys.stderr, flush=True)
        sys.exit(1)


def stored():
    return set(glob.glob(os.path.join(SMTP_MAILDIR, "new", "*")))


def send_and_check(s, label, login=True):
    before = stored()
    rcpts = ["alice@example.org", "bob@example.net"]
    subject = "selftest %s %f" % (label, time.time())
    msg = ("From: tidings@example.com\r\nTo: alice@example.org\r\nCc: bob@example.net\r\n"
           "Subject: %s\r\n\r\nHello over %s.\r\n" % (subject, label))
    refused = s.sendmail("tidings@example.com", rcpts, msg)
    expect(refused == {}, "%s: refused %r" % (label, refused))
    new = stored() - before
    expect(len(new) == 1, "%s: expected 1 new file, got %r" % (label, new))
    raw = open(new.pop(), "rb").read()
    m = email.message_from_bytes(raw)
    expect(m.get_all("X-Envelope-To") == rcpts, "%s: X-Envelope-To %r" % (label, m.get_all("X-Envelope-To")))
    expect(m["X-Envelope-From"] == "tidings@example.com", "%s: X-Envelope-From" % label)
    expect(m["Subject"] == subject, "%s: Subject %r" % (label, m["Subject"]))
    expect(not os.listdir(os.path.join(SMTP_MAILDIR, "tmp")), "%s: tmp/ not empty" % label)
    ok("%s: sent to 2 recipients, stored with both X-Envelope-To" % label)


def expect_535(make, label, mech=None):
    s = make()
    try:
        s.user, s.password = SMTP_USER, SMTP_PASS + "x"
        if mech == "LOGIN":
            s.ehlo()
            s.auth("LOGIN", s.auth_login)
        else:
            s.login(SMTP_USER, SMTP_PASS + "x")
        expect(False, "%s: wrong password accepted" % label)
    except smtplib.SMTPAuthenticationError as e:
        expect(e.smtp_code == 535, "%s: code %r" % (label, e.smtp_code))
        ok("%s: wrong password -> 535" % label)
    finally:
        s.close()


def starttls_client():
    s = smtplib.SMTP(SMTP_HOST, P["TIDINGS_TEST_SMTP_STARTTLS_PORT"], timeout=10)
    s.starttls(context=ctx)
    return s


def tls_client():
    return smtplib.SMTP_SSL(SMTP_HOST, P["TIDINGS_TEST_SMTP_TLS_PORT"], context=ctx, timeout=10)


# (a) SMTP with STARTTLS
s = smtplib.SMTP(SMTP_HOST, P["TIDINGS_TEST_SMTP_STARTTLS_PORT"], timeout=10)
s.ehlo()
expect(s.has_extn("starttls") and not s.has_extn("auth"), "STARTTLS port: AUTH before STARTTLS?")
code, _ = s.mail("tidings@example.com")
expect(code == 530, "STARTTLS port: MAIL before STARTTLS gave %r" % code)
ok("STARTTLS port: no AUTH offered and MAIL refused (530) before STARTTLS")
s.starttls(context=ctx)
s.ehlo()
expect(s.has_extn("auth") and "PLAIN" in s.esmtp_features["auth"] and "LOGIN" in s.esmtp_features["auth"],
       "STARTTLS port: AUTH PLAIN LOGIN after STARTTLS")
code, _ = s.mail("tidings@example.com")
expect(code == 530, "STARTTLS port: MAIL before AUTH gave %r" % code)
s.rset()
s.login(SMTP_USER, SMTP_PASS)
send_and_check(s, "SMTP STARTTLS")
s.quit()

# STARTTLS with AUTH LOGIN explicitly
s = starttls_client()
s.ehlo()
s.user, s.password = SMTP_USER, SMTP_PASS
code, _ = s.auth("LOGIN", s.auth_login)
expect(code == 235, "AUTH LOGIN gave %r" % code)
ok("STARTTLS port: AUTH LOGIN accepted")
s.quit()

# certificate really verified: a client not trusting the test CA must fail
try:
    s = smtplib.SMTP(SMTP_HOST, P["TIDINGS_TEST_SMTP_STARTTLS_PORT"], timeout=10)
    s.starttls(context=untrusting)
    expect(False, "STARTTLS accepted without trusting the test CA")
except ssl.SSLCertVerificationError:
    ok("STARTTLS: certificate rejected without the test CA")

# (b) SMTP over implicit TLS
s = tls_client()
s.ehlo()
expect(s.has_extn("auth"), "TLS port: AUTH offered")
s.login(SMTP_USER, SMTP_PASS)
send_and_check(s, "SMTP implicit TLS")
s.quit()

# (c) wrong password -> 535
expect_535(starttls_client, "STARTTLS AUTH PLAIN")
expect_535(starttls_client, "STARTTLS AUTH LOGIN", mech="LOGIN")
expect_535(tls_client, "TLS AUTH PLAIN")
s = tls_client()
try:
    s.login("someoneelse", SMTP_PASS)
    expect(False, "wrong user accepted")
except smtplib.SMTPAuthenticationError as e:
    expect(e.smtp_code == 535, "wrong user: %r" % e.smtp_code)
    ok("TLS: wrong user -> 535")
s.close()

# plain port: no TLS, no AUTH needed
s = smtplib.SMTP(SMTP_HOST, P["TIDINGS_TEST_SMTP_PLAIN_PORT"], timeout=10)
s.ehlo()
expect(not s.has_extn("starttls"), "plain port offers STARTTLS")
send_and_check(s, "SMTP plain, no auth")
s.quit()

# (d) IMAP: drop a message into .Newsletters (Maildir++), owned by the mail uid
folder = os.path.join(IMAP_MAILDIR, ".Newsletters")
for sub in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(folder, sub), exist_ok=True)
    os.chown(os.path.join(folder, sub), UID, UID)
os.chown(folder, UID, UID)
name = "%d.selftest.%s" % (time.time(), socket.gethostname())
tmp = os.path.join(folder, "tmp", name)
with open(tmp, "wb") as f:
    f.write(b"From: news@example.org\r\nTo: tidings@example.com\r\n"
            b"Subject: Weekly news\r\nMessage-ID: <selftest-1@example.org>\r\n\r\nNews.\r\n")
os.chown(tmp, UID, UID)
os.rename(tmp, os.path.join(folder, "new", name))


def check_imap(m, label):
    typ, caps = m.capability()
    m.login(IMAP_USER, IMAP_PASS)
    typ, data = m.list()
    expect(any(b"Newsletters" in l for l in data), "%s: LIST %r" % (label, data))
    typ, data = m.select("Newsletters", readonly=True)
    expect(typ == "OK" and data[0] == b"1", "%s: SELECT Newsletters -> %r %r" % (label, typ, data))
    typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    expect(b"Weekly news" in data[0][1], "%s: FETCH %r" % (label, data))
    ok("%s: logged in, Newsletters has 1 message" % label)
    m.logout()


check_imap(imaplib.IMAP4_SSL(IMAP_HOST, P["TIDINGS_TEST_IMAPS_PORT"], ssl_context=ctx, timeout=10), "IMAPS")
m = imaplib.IMAP4(IMAP_HOST, P["TIDINGS_TEST_IMAP_PORT"], timeout=10)
expect("STARTTLS" in m.capabilities, "IMAP: STARTTLS not offered")
m.starttls(ssl_context=ctx)
check_imap(m, "IMAP STARTTLS")

try:
    imaplib.IMAP4_SSL(IMAP_HOST, P["TIDINGS_TEST_IMAPS_PORT"], ssl_context=untrusting, timeout=10)
    expect(False, "IMAPS accepted without trusting the test CA")
except ssl.SSLCertVerificationError:
    ok("IMAPS: certificate rejected without the test CA")

m = imaplib.IMAP4_SSL(IMAP_HOST, P["TIDINGS_TEST_IMAPS_PORT"], ssl_context=ctx, timeout=10)
t = time.monotonic()
try:
    m.login(IMAP_USER, IMAP_PASS + "x")
    expect(False, "IMAP: wrong password accepted")
except imaplib.IMAP4.error as e:
    dt = time.monotonic() - t
    expect(dt < 1.0, "IMAP: wrong password took %.2f s" % dt)
    ok("IMAP: wrong password refused in %.0f ms (%s)" % (dt * 1000, e))
m.logout()

# For the outer run: which processes must be gone afterwards.
state = E.get("TIDINGS_SELFTEST_STATE")
if state:
    root = E["TIDINGS_TEST_MAIL_ROOT"]
    master = int(open(os.path.join(root, "run", "master.pid")).read().split()[0])

    def ppid(p):
        try:
            return int(open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return None

    pids = [master] + [int(p) for p in os.listdir("/proc") if p.isdigit() and ppid(p) == master]
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            cmd = open("/proc/%s/cmdline" % p, "rb").read().split(b"\0")
        except OSError:
            continue
        if any(c.endswith(b"smtp_server.py") for c in cmd) and os.path.join(root, "smtp").encode() in cmd:
            pids.append(int(p))
    expect(len(pids) >= 3, "found too few server processes: %r" % pids)
    with open(state, "w") as f:
        f.write("root %s\npids %s\n" % (root, " ".join(map(str, pids))))

print("selftest: all %d inner checks passed" % n_ok, flush=True)
PY
