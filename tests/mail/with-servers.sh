#!/usr/bin/env bash
# Usage: tests/mail/with-servers.sh CMD [ARGS...]
#
# Starts a throw-away SMTP server (aiosmtpd, tests/mail/smtp_server.py) and a throw-away
# Dovecot IMAP server on 127.0.0.1, both with TLS from a per-run test CA, runs CMD with
# the TIDINGS_TEST_* variables below exported, stops both servers and exits with CMD's
# exit code. Needs what tests/mail/install.sh installs; run as root (the mail processes
# run as uid/gid 65534, which only root can switch to).
#
# Exported to CMD:
#   TIDINGS_TEST_MAIL_ROOT            the temp dir holding everything (removed afterwards
#                                     unless TIDINGS_KEEP_MAIL_ROOT=1)
#   TIDINGS_TEST_CA                   PEM of the test CA: trust it to verify both servers
#   TIDINGS_TEST_SMTP_HOST            127.0.0.1
#   TIDINGS_TEST_SMTP_STARTTLS_PORT   STARTTLS required before AUTH/MAIL, AUTH required
#   TIDINGS_TEST_SMTP_TLS_PORT        implicit TLS, AUTH required
#   TIDINGS_TEST_SMTP_PLAIN_PORT      no TLS, AUTH optional (security = "none")
#   TIDINGS_TEST_SMTP_USER / _PASSWORD  the only accepted credentials (else 535)
#   TIDINGS_TEST_SMTP_MAILDIR         every accepted message lands in $it/new/, with
#                                     "X-Envelope-From:" and one "X-Envelope-To:" per
#                                     envelope recipient prepended
#   TIDINGS_TEST_IMAP_HOST            127.0.0.1
#   TIDINGS_TEST_IMAP_PORT            plain IMAP with STARTTLS (Dovecot treats 127.0.0.1 ->
#                                     127.0.0.1 as secure, so LOGIN works before STARTTLS too)
#   TIDINGS_TEST_IMAPS_PORT           implicit TLS
#   TIDINGS_TEST_IMAP_USER / _PASSWORD
#   TIDINGS_TEST_IMAP_MAILDIR         the user's Maildir++ root that Dovecot serves (INBOX =
#                                     its cur/new/tmp). To put a message into folder "Folder",
#                                     create "$it/.Folder/{cur,new,tmp}" and write the file to
#                                     "$it/.Folder/new/" (write to tmp/, then rename); every
#                                     directory and file there MUST be owned by
#                                     $TIDINGS_TEST_IMAP_UID (chown 65534:65534), or Dovecot's
#                                     mail process (not root) cannot index it. Dovecot sees it
#                                     at the client's next NOOP/SELECT; no restart needed.
#   TIDINGS_TEST_IMAP_UID             65534 (uid and gid of the mailbox files)
#
# If TIDINGS_MAIL_ENV_FILE is set, the same "export ..." lines are written to that file so
# a developer can `source` it from another shell while CMD (e.g. `sleep infinity`) runs.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
MAIL_UID=65534
MAIL_GID=65534

if [ "$#" -eq 0 ]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

missing=""
command -v dovecot >/dev/null 2>&1 || missing="$missing dovecot"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
"$PY" -c 'import aiosmtpd' >/dev/null 2>&1 || missing="$missing aiosmtpd(for $PY)"
if [ -n "$missing" ]; then
    echo "with-servers.sh: missing:$missing -- run: bash $HERE/install.sh" >&2
    exit 1
fi

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
T0=$(now_ms)

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/tidings-mail.XXXXXX")
chmod 755 "$ROOT"   # mktemp makes it 0700; Dovecot's unprivileged processes must enter it

SMTP_PID=""
DOVECOT_PID=""

# --- stopping --------------------------------------------------------------------------

# PIDs whose parent is $1 (ps, or else /proc, where comm may contain spaces: cut after the
# last ')').
children_of() {
    local parent=$1 p stat rest
    if command -v ps >/dev/null 2>&1; then
        ps -o pid= --ppid "$parent" || true
        return 0
    fi
    for p in /proc/[0-9]*; do
        read -r stat 2>/dev/null < "$p/stat" || continue
        rest=${stat##*) }
        # rest = "STATE PPID ..."
        set -- $rest
        if [ "${2:-}" = "$parent" ]; then
            echo "${p#/proc/}"
        fi
    done
}

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# Wait up to $2 tenths of a second for PID $1 to exit; returns 0 if it did.
wait_gone() {
    local pid=$1 n=$2
    while [ "$n" -gt 0 ]; do
        alive "$pid" || return 0
        # A stopped child stays a zombie until reaped; kill -0 still succeeds on it.
        if [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = "Z" ]; then
            return 0
        fi
        sleep 0.1
        n=$((n - 1))
    done
    ! alive "$pid"
}

# Wait up to $1 tenths of a second until none of the PIDs $2... exists any more (not even
# as a zombie waiting for init to reap it).
wait_all_gone() {
    local n=$1 p left
    shift
    while :; do
        left=""
        for p in "$@"; do
            [ -e "/proc/$p" ] && left="$left $p"
        done
        [ -z "$left" ] && return 0
        [ "$n" -gt 0 ] || break
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}

stop_servers() {
    local kids="" k
    if alive "${OAUTH_PID:-}"; then
        kill -TERM "$OAUTH_PID" 2>/dev/null || true
        wait_gone "$OAUTH_PID" 50 || kill -KILL "$OAUTH_PID" 2>/dev/null || true
        wait "$OAUTH_PID" 2>/dev/null || true
    fi
    OAUTH_PID=""
    if alive "$SMTP_PID"; then
        kill -TERM "$SMTP_PID" 2>/dev/null || true
    fi
    if alive "$DOVECOT_PID"; then
        kids=$(children_of "$DOVECOT_PID")
        kill -TERM "$DOVECOT_PID" 2>/dev/null || true
        # The master waits (~5 s) for freshly started imap-login processes: after a
        # moment, SIGTERM its remaining children by PID so it can exit.
        if ! wait_gone "$DOVECOT_PID" 15; then
            for k in $(children_of "$DOVECOT_PID"); do
                kids="$kids $k"
                kill -TERM "$k" 2>/dev/null || true
            done
            if ! wait_gone "$DOVECOT_PID" 50; then
                echo "with-servers.sh: dovecot did not stop, killing it" >&2
                for k in $(children_of "$DOVECOT_PID"); do
                    kill -KILL "$k" 2>/dev/null || true
                done
                kill -KILL "$DOVECOT_PID" 2>/dev/null || true
            fi
        fi
    fi
    if [ -n "$SMTP_PID" ] && ! wait_gone "$SMTP_PID" 50; then
        echo "with-servers.sh: smtp_server did not stop, killing it" >&2
        kill -KILL "$SMTP_PID" 2>/dev/null || true
    fi
    # Reap both (they are our children), so no zombie is left behind.
    [ -n "$SMTP_PID" ] && wait "$SMTP_PID" 2>/dev/null || true
    [ -n "$DOVECOT_PID" ] && wait "$DOVECOT_PID" 2>/dev/null || true
    # Dovecot's children that outlived the master now belong to init: wait until they are
    # gone (init reaps them within about a second), killing any that hang on.
    if [ -n "$kids" ] && ! wait_all_gone 20 $kids; then
        for k in $kids; do
            kill -KILL "$k" 2>/dev/null || true
        done
        wait_all_gone 20 $kids || echo "with-servers.sh: dovecot processes left:" $kids >&2
    fi
    SMTP_PID=""
    DOVECOT_PID=""
}

cleanup() {
    local rc=$?
    set +e
    stop_servers
    if [ "${TIDINGS_KEEP_MAIL_ROOT:-0}" = 1 ]; then
        echo "with-servers.sh: kept $ROOT" >&2
    else
        rm -rf "$ROOT"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
    echo "with-servers.sh: $*" >&2
    local f
    for f in "$ROOT/smtp.log" "$ROOT/oauth.log" "$ROOT/dovecot.log" "$ROOT/dovecot.stderr"; do
        if [ -s "$f" ]; then
            echo "----- $f -----" >&2
            tail -n 50 "$f" >&2
        fi
    done
    exit 1
}

# --- TLS material: throw-away CA + CA-signed leaf (EC P-256) ------------------------------
# A self-signed `req -x509` leaf would be CA:TRUE, which rustls rejects as an end entity.

TLS=$ROOT/tls
mkdir -p "$TLS"
cat > "$TLS/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
CN = tidings test CA
[v3_ca]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
EOF
cat > "$TLS/leaf.ext" <<'EOF'
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:127.0.0.2
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
{
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TLS/ca.key"
    openssl req -x509 -new -config "$TLS/ca.cnf" -key "$TLS/ca.key" -sha256 -days 7 \
        -set_serial "0x$(openssl rand -hex 8)" -out "$TLS/ca.pem"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TLS/leaf.key"
    openssl req -new -key "$TLS/leaf.key" -subj "/CN=localhost" -out "$TLS/leaf.csr"
    openssl x509 -req -in "$TLS/leaf.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -sha256 \
        -days 7 -set_serial "0x$(openssl rand -hex 8)" -extfile "$TLS/leaf.ext" \
        -out "$TLS/leaf.pem"
} >"$TLS/openssl.log" 2>&1 || { cat "$TLS/openssl.log" >&2; fail "openssl failed"; }
chmod 600 "$TLS/ca.key" "$TLS/leaf.key"
chmod 644 "$TLS/ca.pem" "$TLS/leaf.pem"

# --- ports --------------------------------------------------------------------------------
# Bind all six at once so they are distinct, then release them for the servers.
read -r SMTP_STARTTLS_PORT SMTP_TLS_PORT SMTP_PLAIN_PORT IMAP_PORT IMAPS_PORT OAUTH_PORT < <(
    "$PY" -c 'import socket
ss = [socket.socket() for _ in range(6)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
[ -n "$OAUTH_PORT" ] || fail "could not pick free ports"

# --- OAuth2 ---------------------------------------------------------------------------------
# One valid access token for the test user, checked by a token-introspection endpoint
# (RFC 7662) that Dovecot's oauth2 passdb asks; the SMTP server accepts the same token.
OAUTH_TOKEN=$(openssl rand -hex 20)
"$PY" "$HERE/oauth_server.py" --port "$OAUTH_PORT" --user tidings --token "$OAUTH_TOKEN" \
    >"$ROOT/oauth.stdout" 2>"$ROOT/oauth.log" </dev/null &
OAUTH_PID=$!

# --- SMTP -----------------------------------------------------------------------------------
SMTP_USER=tidings
SMTP_PASSWORD=$(openssl rand -hex 12)
SMTP_ROOT=$ROOT/smtp
mkdir -p "$SMTP_ROOT/Maildir/new" "$SMTP_ROOT/Maildir/cur" "$SMTP_ROOT/Maildir/tmp"

# A simple command, so $! is the server itself.
"$PY" "$HERE/smtp_server.py" --root "$SMTP_ROOT" --user "$SMTP_USER" --password "$SMTP_PASSWORD" \
    --starttls-port "$SMTP_STARTTLS_PORT" --tls-port "$SMTP_TLS_PORT" \
    --plain-port "$SMTP_PLAIN_PORT" --cert "$TLS/leaf.pem" --key "$TLS/leaf.key" \
    --oauth-token "$OAUTH_TOKEN" \
    >"$ROOT/smtp.stdout" 2>"$ROOT/smtp.log" </dev/null &
SMTP_PID=$!

# --- IMAP (Dovecot) -------------------------------------------------------------------------
IMAP_USER=tidings
IMAP_PASSWORD=$(openssl rand -hex 12)
HOME_DIR=$ROOT/home
IMAP_MAILDIR=$HOME_DIR/Maildir
mkdir -p "$IMAP_MAILDIR/cur" "$IMAP_MAILDIR/new" "$IMAP_MAILDIR/tmp" "$ROOT/state"
chown -R "$MAIL_UID:$MAIL_GID" "$HOME_DIR"
chmod 700 "$HOME_DIR"

printf '%s:{PLAIN}%s:%s:%s::%s::\n' "$IMAP_USER" "$IMAP_PASSWORD" "$MAIL_UID" "$MAIL_GID" \
    "$HOME_DIR" > "$ROOT/passwd"
# Read by Dovecot's auth process, which runs as the "dovecot" user.
if getent group dovecot >/dev/null 2>&1; then
    chgrp dovecot "$ROOT/passwd" && chmod 640 "$ROOT/passwd"
else
    chmod 644 "$ROOT/passwd"
fi

cat > "$ROOT/oauth2.conf.ext" <<EOF
introspection_mode = post
introspection_url = http://127.0.0.1:$OAUTH_PORT/introspect
username_attribute = username
active_attribute = active
active_value = true
EOF
chmod 644 "$ROOT/oauth2.conf.ext"

cat > "$ROOT/dovecot.conf" <<EOF
# Generated by tests/mail/with-servers.sh; nothing under /etc is used.
protocols = imap
listen = 127.0.0.1
base_dir = $ROOT/run
state_dir = $ROOT/state
log_path = $ROOT/dovecot.log
info_log_path = $ROOT/dovecot.log
debug_log_path = $ROOT/dovecot.log

ssl = yes
ssl_cert = <$TLS/leaf.pem
ssl_key = <$TLS/leaf.key

auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $ROOT/passwd
  mechanisms = plain login
}
# Bearer tokens (XOAUTH2, OAUTHBEARER) are checked by asking the introspection endpoint.
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $ROOT/oauth2.conf.ext
}
userdb {
  driver = passwd-file
  args = username_format=%u $ROOT/passwd
}
first_valid_uid = $MAIL_UID
first_valid_gid = $MAIL_GID
mail_location = maildir:~/Maildir

# auth_failure_delay = 0 is not enough in Dovecot 2.3: anvil's per-IP "auth penalty" delays
# each login attempt after a failure from 127.0.0.1 by 2, 4, 8 ... 15 s for the whole run.
# Without this listener the auth process cannot reach anvil and skips the penalty. (2.3.19
# still answers a failure at its next 500 ms tick.)
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
EOF

dovecot -F -c "$ROOT/dovecot.conf" >"$ROOT/dovecot.stderr" 2>&1 </dev/null &
DOVECOT_PID=$!

# --- wait until everything listens -------------------------------------------------------
# Checked in /proc/net/tcp (state 0A = LISTEN) rather than by connecting: a probe connection
# would leave a fresh imap-login behind that delays Dovecot's shutdown.
listening() {
    local hex
    hex=$(printf '0100007F:%04X' "$1")
    awk -v a="$hex" '$2 == a && $4 == "0A" { found = 1 } END { exit !found }' /proc/net/tcp
}

deadline=$(( $(now_ms) + 10000 ))
while :; do
    alive "$SMTP_PID" || fail "smtp_server.py exited early"
    alive "$DOVECOT_PID" || fail "dovecot exited early"
    alive "$OAUTH_PID" || fail "oauth_server.py exited early"
    if grep -qx ready "$ROOT/smtp.stdout" 2>/dev/null \
        && grep -qx ready "$ROOT/oauth.stdout" 2>/dev/null \
        && listening "$SMTP_STARTTLS_PORT" && listening "$SMTP_TLS_PORT" \
        && listening "$SMTP_PLAIN_PORT" && listening "$IMAP_PORT" && listening "$IMAPS_PORT"
    then
        break
    fi
    [ "$(now_ms)" -lt "$deadline" ] || fail "servers not listening after 10 s"
    sleep 0.05
done

# --- run CMD --------------------------------------------------------------------------------
ENV_VARS=(
    TIDINGS_TEST_MAIL_ROOT="$ROOT"
    TIDINGS_TEST_CA="$TLS/ca.pem"
    TIDINGS_TEST_SMTP_HOST=127.0.0.1
    TIDINGS_TEST_SMTP_STARTTLS_PORT="$SMTP_STARTTLS_PORT"
    TIDINGS_TEST_SMTP_TLS_PORT="$SMTP_TLS_PORT"
    TIDINGS_TEST_SMTP_PLAIN_PORT="$SMTP_PLAIN_PORT"
    TIDINGS_TEST_SMTP_USER="$SMTP_USER"
    TIDINGS_TEST_SMTP_PASSWORD="$SMTP_PASSWORD"
    TIDINGS_TEST_SMTP_MAILDIR="$SMTP_ROOT/Maildir"
    TIDINGS_TEST_IMAP_HOST=127.0.0.1
    TIDINGS_TEST_IMAP_PORT="$IMAP_PORT"
    TIDINGS_TEST_IMAPS_PORT="$IMAPS_PORT"
    TIDINGS_TEST_IMAP_USER="$IMAP_USER"
    TIDINGS_TEST_IMAP_PASSWORD="$IMAP_PASSWORD"
    TIDINGS_TEST_IMAP_MAILDIR="$IMAP_MAILDIR"
    TIDINGS_TEST_IMAP_UID="$MAIL_UID"
    TIDINGS_TEST_OAUTH_TOKEN="$OAUTH_TOKEN"
)
for kv in "${ENV_VARS[@]}"; do
    export "${kv?}"
done
if [ -n "${TIDINGS_MAIL_ENV_FILE:-}" ]; then
    for kv in "${ENV_VARS[@]}"; do
        printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
    done > "$TIDINGS_MAIL_ENV_FILE"
fi

echo "with-servers.sh: mail servers up in $(( $(now_ms) - T0 )) ms (root $ROOT)" >&2

set +e
"$@"
rc=$?
set -e
exit "$rc"
