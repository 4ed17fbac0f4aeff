#!/usr/bin/env bash
# Install what the tests need: Dovecot (IMAP), aiosmtpd (SMTP, for /usr/bin/python3) and
# openssl for tests/mail/with-servers.sh, and Chromium for tests/integration/render_browser.rs.
# Idempotent: does nothing when all four are present.
# Debian/Ubuntu only; must run as root (CI and the project's machines run as root).
set -euo pipefail

have_all() {
    command -v dovecot >/dev/null 2>&1 \
        && command -v openssl >/dev/null 2>&1 \
        && /usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 \
        && command -v chromium >/dev/null 2>&1
}

if have_all; then
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo -E"
fi

# Keep the package's maintainer scripts from starting a system-wide Dovecot (they do not
# here, as there is no systemd, but a policy-rc.d makes sure): exit 101 = "action forbidden".
POLICY=/usr/sbin/policy-rc.d
ADDED_POLICY=0
if [ ! -e "$POLICY" ]; then
    $SUDO sh -c "printf '#!/bin/sh\nexit 101\n' > $POLICY && chmod 755 $POLICY"
    ADDED_POLICY=1
fi
cleanup() {
    if [ "$ADDED_POLICY" = 1 ]; then
        $SUDO rm -f "$POLICY"
    fi
}
trap cleanup EXIT

$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    dovecot-imapd python3-aiosmtpd openssl chromium fonts-liberation

# Belt and braces: stop a system Dovecot if something started one anyway. Only the one
# started from the system config (its master.pid), by PID.
for pidfile in /run/dovecot/master.pid /var/run/dovecot/master.pid; do
    if [ -s "$pidfile" ]; then
        pid=$(cat "$pidfile")
        if kill -0 "$pid" 2>/dev/null; then
            echo "install.sh: stopping system dovecot (pid $pid)" >&2
            kill -TERM "$pid" 2>/dev/null || true
        fi
    fi
done

have_all || { echo "install.sh: installation incomplete" >&2; exit 1; }
