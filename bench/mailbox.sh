#!/usr/bin/env bash
# What a run costs on a 4,000-message newsletter folder (Maildir, mbox, IMAP), first run and a
# run with nothing new, time and peak memory:
#
#   bash bench/mailbox.sh                       # this build
#   bash bench/mailbox.sh --base PATH/tidings   # and an earlier build, for a ratio
#   bash bench/mailbox.sh --messages 1000       # a smaller folder
#
# Builds tidings (release), starts the test Dovecot (tests/mail/with-servers.sh) and generates
# the folder from ../shared/realworld/newsletters/ into bench/work/mailbox/ (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed for peak RSS" >&2; exit 1; }
bash tests/mail/install.sh
echo "building tidings (release)" >&2
cargo build --release --locked --quiet
tidings=${CARGO_TARGET_DIR:-$PWD/target}/release/tidings
exec bash tests/mail/with-servers.sh python3 bench/mailbox.py --tidings "$tidings" "$@"
