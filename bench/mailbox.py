"""What a run costs on a large, mostly old newsletter folder: Maildir, mbox and IMAP.

Run by bench/mailbox.sh inside tests/mail/with-servers.sh (for the IMAP server). Builds a
folder of N real newsletters from ../shared/realworld/newsletters/ (fresh Message-IDs, dated
and delivered a year ago) plus three new issues, and times `tidings run` on it twice: the first
run, and a second with nothing new. With --base, an earlier build is timed the same way in the
same script, for a ratio on a noisy machine. Nothing generated is committed (bench/work/).
"""

import argparse
import email.utils
import glob
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REALWORLD = os.path.join(ROOT, "..", "shared", "realworld", "newsletters")
MAIL_UID = 65534


def sources():
    """The raw real messages: every .eml, and the mbox's messages."""
    raw = []
    for sub in ("eml", "pairs", "wrapped"):
        for p in sorted(glob.glob(os.path.join(REALWORLD, sub, "*.eml"))):
            with open(p, "rb") as f:
                raw.append(f.read())
    for p in sorted(glob.glob(os.path.join(REALWORLD, "mbox", "*.mbox"))):
        with open(p, "rb") as f:
            parts = re.split(rb"(?:^|\n)From [^\n]*\n", f.read())
        raw.extend(m for m in parts if m.strip())
    if not raw:
        sys.exit(f"no messages under {REALWORLD}: the bench needs ../shared/realworld/")
    return raw


def restamp(msg, n, when):
    """The message with its Date and Message-ID replaced (continuation lines included)."""
    sep = msg.find(b"\r\n\r\n")
    sep = msg.find(b"\n\n") if sep < 0 else sep
    head, body = (msg[:sep], msg[sep:]) if sep >= 0 else (msg, b"")
    nl = b"\r\n" if b"\r\n" in head[:2000] else b"\n"
    lines, skip = [], False
    for line in head.splitlines():
        if line[:1] in (b" ", b"\t"):
            if not skip:
                lines.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower()
        skip = name in (b"date", b"message-id")
        if not skip:
            lines.append(line)
    new = [
        b"Date: " + email.utils.formatdate(when).encode(),
        b"Message-ID: <bench-%d@tidings.bench>" % n,
    ]
    return nl.join(new + lines) + body


def build_corpus(work, count):
    """A Maildir (old mail plus three new issues) and the same messages as an mbox."""
    maildir = os.path.join(work, "maildir")
    if os.path.isdir(maildir) and len(os.listdir(os.path.join(maildir, "cur"))) == count + 3:
        return maildir, os.path.join(work, "mail.mbox")
    shutil.rmtree(maildir, ignore_errors=True)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, sub))
    raw = sources()
    now = time.time()
    year_ago = now - 365 * 86400
    with open(os.path.join(work, "mail.mbox"), "wb") as mbox:
        for n in range(count + 3):
            fresh = n >= count
            when = now - 3600 * (count + 3 - n) if fresh else year_ago + 60 * n
            msg = restamp(raw[n % len(raw)], n, when)
            name = f"{int(when)}.M{n}P1.bench:2,S"
            path = os.path.join(maildir, "cur", name)
            with open(path, "wb") as f:
                f.write(msg)
            os.utime(path, (when, when))
            stamp = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(when))
            mbox.write(b"From bench@tidings.bench " + stamp.encode() + b"\n")
            mbox.write(re.sub(rb"(?m)^(>*From )", rb">\1", msg.replace(b"\r\n", b"\n")))
            mbox.write(b"\n\n")
    return maildir, os.path.join(work, "mail.mbox")


def imap_folder(maildir):
    """The corpus as the IMAP account's folder `Bench` (INTERNALDATE = the file's mtime)."""
    root = os.environ["TIDINGS_TEST_IMAP_MAILDIR"]
    folder = os.path.join(root, ".Bench")
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(maildir, folder, copy_function=shutil.copy2)
    for d, _, files in os.walk(folder):
        os.chown(d, MAIL_UID, MAIL_UID)
        for f in files:
            os.chown(os.path.join(d, f), MAIL_UID, MAIL_UID)
    # Dovecot indexes the folder on its first SELECT: do that before anything is timed.
    import imaplib
    import ssl

    ctx = ssl.create_default_context(cafile=os.environ["TIDINGS_TEST_CA"])
    with imaplib.IMAP4_SSL("127.0.0.1", int(os.environ["TIDINGS_TEST_IMAPS_PORT"]), ssl_context=ctx) as c:
        c.login(os.environ["TIDINGS_TEST_IMAP_USER"], os.environ["TIDINGS_TEST_IMAP_PASSWORD"])
        c.select("Bench", readonly=True)
        c.uid("SEARCH", None, "ALL")
        c.uid("FETCH", "1:*", "(RFC822.SIZE INTERNALDATE)")


def config(path, kind, target, state, sink):
    kind = "maildir" if kind == "maildir-synced" else kind
    if kind == "imap":
        mailbox = f"""type = "imap"
name = "Bench IMAP"
host = "127.0.0.1"
port = {os.environ["TIDINGS_TEST_IMAPS_PORT"]}
security = "tls"
username = "{os.environ["TIDINGS_TEST_IMAP_USER"]}"
password_env = "BENCH_IMAP_PASSWORD"
ca_file = "{os.environ["TIDINGS_TEST_CA"]}"
folders = ["Bench"]
"""
    else:
        mailbox = f'type = "{kind}"\nname = "Bench {kind}"\npath = "{target}"\n'
    with open(path, "w") as f:
        f.write(f"""[digest]
title = "Bench"
lookback = "7d"

[state]
path = "{state}"

[delivery]
from = "bench@example.org"
to = ["me@example.org"]
transport = "sendmail"
sendmail_command = "{sink}"

[[mailboxes]]
{mailbox}""")


def measure(cmd, env):
    """(seconds, peak RSS in MB, exit code) of one command, by GNU time."""
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", *cmd], env=env, capture_output=True, text=True
    )
    last = out.stderr.strip().splitlines()[-1].split()
    return float(last[0]), int(last[1]) / 1024, out.returncode, out.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tidings", required=True)
    ap.add_argument("--base", help="an earlier tidings build, timed the same way")
    ap.add_argument("--messages", type=int, default=4000)
    ap.add_argument("--work", default=os.path.join(HERE, "work", "mailbox"))
    ap.add_argument("--kinds", default="maildir,maildir-synced,mbox,imap", help="which to time")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    maildir, mbox = build_corpus(args.work, args.messages)
    size = sum(os.path.getsize(os.path.join(maildir, "cur", f)) for f in os.listdir(os.path.join(maildir, "cur")))
    # The same Maildir as a mail client that just synced it leaves it: every file written
    # today, so no file can be passed over by its time.
    synced = os.path.join(args.work, "maildir-synced")
    shutil.rmtree(synced, ignore_errors=True)
    shutil.copytree(maildir, synced, copy_function=shutil.copyfile)
    imap_folder(maildir)
    sink = os.path.join(args.work, "discard-mail")
    with open(sink, "w") as f:
        f.write("#!/bin/sh\ncat > /dev/null\n")
    os.chmod(sink, 0o755)
    env = dict(os.environ, BENCH_IMAP_PASSWORD=os.environ["TIDINGS_TEST_IMAP_PASSWORD"], NO_COLOR="1")
    builds = [("tidings", args.tidings)] + ([("base", args.base)] if args.base else [])
    rows = []
    kinds = (("maildir", maildir), ("maildir-synced", synced), ("mbox", mbox), ("imap", None))
    for kind, target in (k for k in kinds if k[0] in args.kinds.split(",")):
        # The base reads a synced Maildir as it reads any other: not timed twice.
        for label, binary in builds[:1] if kind == "maildir-synced" else builds:
            d = os.path.join(args.work, f"{label}-{kind}")
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
            cfg = os.path.join(d, "config.toml")
            config(cfg, kind, target, os.path.join(d, "state.db"), sink)
            for run in ("first run", "second run, nothing new"):
                secs, mb, code, err = measure([binary, "-c", cfg, "run"], env)
                if code not in (0, 2):
                    sys.exit(f"{label} {kind} {run}: exit {code}\n{err}")
                rows.append((kind, label, run, secs, mb))
                print(f"{kind:8} {label:8} {run:26} {secs:7.2f} s {mb:7.1f} MB", file=sys.stderr)
    print(f"{args.messages + 3} messages ({size / 1e6:.0f} MB; {args.messages} from a year ago, 3 new), lookback 7 days.")
    print("maildir-synced: the same files, all modified today (as a fresh sync leaves them).\n")
    print("| mailbox | build | run | time | peak RSS |")
    print("| --- | --- | --- | ---: | ---: |")
    for kind, label, run, secs, mb in rows:
        print(f"| {kind} | {label} | {run} | {secs:.2f} s | {mb:.0f} MB |")
    if args.base:
        print("\nRatio base / tidings (same script, same machine):\n")
        for kind in ("maildir", "mbox", "imap"):
            for run in ("first run", "second run, nothing new"):
                t = {l: s for k, l, r, s, _ in rows if k == kind and r == run}
                if len(t) < 2:
                    continue
                print(f"- {kind}, {run}: {t['base'] / max(t['tidings'], 0.01):.1f}x")


if __name__ == "__main__":
    main()
