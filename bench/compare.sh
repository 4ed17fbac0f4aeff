#!/usr/bin/env bash
# tidings against rss2email, newsboat and the download floor on one generated corpus.
#
#   bash bench/compare.sh                  # everything: 0 and 50 ms, 3 runs each (~20 min)
#   bash bench/compare.sh --skip-peers     # tidings and the floor only (~1 min)
#   bash bench/compare.sh --help           # the other options (delays, runs, timeouts)
#
# Builds tidings (release), installs the peers if missing (newsboat with apt, rss2email with pip
# into bench/work/venv), generates the corpus into bench/work/ (gitignored), serves it on
# loopback addresses only, and writes the table to stdout and bench/RESULTS.md.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
work=${BENCH_WORK:-$root/bench/work}
mkdir -p "$work"

# compare.py stops its feed server itself; this stops it if compare.py was killed.
export BENCH_SERVER_PID=$work/server.pid
cleanup() {
	local pid
	pid=$(cat "$BENCH_SERVER_PID" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	rm -f "$BENCH_SERVER_PID"
}
trap cleanup EXIT INT TERM

if [[ " $* " == *" --help "* || " $* " == *" -h "* ]]; then
	exec python3 bench/compare.py --tidings tidings --help
fi

echo "building tidings (release)" >&2
cargo build --release --locked --quiet
target=${CARGO_TARGET_DIR:-$root/target}
tidings=$target/release/tidings

if [[ " $* " != *" --skip-peers "* ]]; then
	if ! command -v newsboat >/dev/null; then
		echo "installing newsboat" >&2
		if [ "$(id -u)" = 0 ]; then
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q newsboat >&2
		else
			sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q newsboat >&2
		fi
	fi
	if [ ! -x "$work/venv/bin/r2e" ]; then
		echo "installing rss2email into $work/venv" >&2
		python3 -m venv "$work/venv"
		"$work/venv/bin/pip" install -q rss2email >&2
	fi
fi
command -v curl >/dev/null || { echo "curl is needed for the download floor" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed for peak RSS" >&2; exit 1; }

python3 bench/compare.py --work "$work" --tidings "$tidings" --r2e "$work/venv/bin/r2e" "$@"
