#!/usr/bin/env bash
# Installs the package dist/deb.sh built (dpkg -i) and checks what a user gets from it: the
# binary runs, checks the bundled demo offline, the man page and completions are where man
# and the shells look, and systemd accepts the units. Fails on anything missing. Run as root
# (CI); it removes the package again at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the checks below use; a minimal machine may lack them.
missing=""
command -v systemd-analyze >/dev/null 2>&1 || missing="$missing systemd"
command -v man >/dev/null 2>&1 || missing="$missing man-db"
if [ -n "$missing" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

deb=$(ls -t "${CARGO_TARGET_DIR:-target}"/debian/tidings_*.deb | head -n1)
dpkg -i "$deb"
trap 'dpkg -r tidings >/dev/null' EXIT

fail() { echo "check-deb: $*" >&2; exit 1; }
for f in /usr/bin/tidings \
    /usr/share/man/man1/tidings.1.gz \
    /usr/share/man/man1/tidings-run.1.gz \
    /usr/share/doc/tidings/config.example.toml \
    /usr/share/bash-completion/completions/tidings \
    /usr/share/zsh/vendor-completions/_tidings \
    /usr/share/fish/vendor_completions.d/tidings.fish \
    /usr/lib/systemd/user/tidings.service \
    /usr/lib/systemd/user/tidings.timer \
    /usr/lib/systemd/system/tidings@.service \
    /usr/lib/systemd/system/tidings@.timer; do
    [ -s "$f" ] || fail "the package does not install $f"
done

/usr/bin/tidings --version | grep -q "^tidings $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)$" \
    || fail "the installed tidings --version is not this version"
/usr/bin/tidings -c demo/config.toml check --offline \
    || fail "the installed tidings rejects the demo config"
man -w tidings >/dev/null || fail "man cannot find tidings(1)"
man -w tidings-run >/dev/null || fail "man cannot find tidings-run(1)"
zcat /usr/share/man/man1/tidings.1.gz | grep -q '^\.SH NAME' || fail "the man page has no NAME"
# The example config shipped in the package loads in the installed binary.
example=$(/usr/bin/tidings -c /usr/share/doc/tidings/config.example.toml check --offline 2>&1 || true)
grep -q 'config OK' <<<"$example" || fail "the shipped config.example.toml does not load: $example"
bash -c 'source /usr/share/bash-completion/completions/tidings && complete -p tidings' >/dev/null \
    || fail "the bash completion does not register"

# systemd's own check of the units as installed (the template through an instance).
# Any remark is a failure: an unknown key is only a warning to systemd, but a unit that does
# not do what it says.
for units in "/usr/lib/systemd/user/tidings.service /usr/lib/systemd/user/tidings.timer" \
    "/usr/lib/systemd/system/tidings@demo.service /usr/lib/systemd/system/tidings@demo.timer"; do
    # shellcheck disable=SC2086
    remarks=$(systemd-analyze verify $units 2>&1) || fail "systemd-analyze verify $units: $remarks"
    [ -z "$remarks" ] || fail "systemd-analyze verify $units: $remarks"
done
echo "check-deb: $(basename "$deb") installs and checks out"
