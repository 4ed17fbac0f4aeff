"""tidings against the tools a user would run instead, on one local corpus (README, "Performance").

Run through `bash bench/compare.sh`, which builds tidings and installs the peers first.
"""

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import corpus  # noqa: E402
import serve  # noqa: E402

GNU_TIME = "/usr/bin/time"
CONCURRENCY = 16
PID_FILE = os.environ.get("BENCH_SERVER_PID", os.path.join(HERE, "work", "server.pid"))


def log(*args):
    print(*args, file=sys.stderr, flush=True)


class Server:
    """The feed server as a child process (its own interpreter, so it never competes with a
    Python client for one GIL)."""

    def __init__(self, corpus_dir, delay_ms):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "serve.py"), corpus_dir, str(delay_ms)],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.stop()
            raise SystemExit(f"feed server did not start: {line!r}")
        self.port = int(line.split()[1])
        # compare.sh's exit trap stops the server by this id if this process is killed.
        with open(PID_FILE, "w") as f:
            f.write(str(self.proc.pid))

    def stop(self):
        if os.path.exists(PID_FILE):
            os.remove(PID_FILE)
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def measure(cmd, timeout, env=None, cwd=None, ok=(0,)):
    """Wall time (perf_counter) and peak RSS in MB (GNU time's %M) of one command."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        started = time.perf_counter()
        try:
            p = subprocess.run(
                [GNU_TIME, "-f", "%M", "-o", tf.name, *cmd],
                env=env,
                cwd=cwd,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            log(f"  timed out after {timeout}s: {' '.join(cmd)}")
            return None
        wall = time.perf_counter() - started
        lines = [l for l in tf.read().splitlines() if l.strip()]
    if p.returncode not in ok:
        tail = p.stderr.decode(errors="replace").strip().splitlines()[-5:]
        log(f"  exit {p.returncode}: {' '.join(cmd)}\n    " + "\n    ".join(tail))
        return None
    rss_mb = int(lines[-1]) / 1024 if lines and lines[-1].isdigit() else float("nan")
    return wall, rss_mb


class Result:
    def __init__(self, name, runs, read=None, note=""):
        self.name, self.runs, self.read, self.note = name, runs, read, note

    @property
    def ok(self):
        return bool(self.runs)

    @property
    def wall(self):
        return statistics.median(r[0] for r in self.runs)

    @property
    def rss(self):
        return statistics.median(r[1] for r in self.runs)


def repeat(name, n, run_once, read=None, note=""):
    runs = []
    for i in range(n):
        r = run_once(i)
        if r is None:
            break
        log(f"  {name} #{i + 1}: {r[0]:.2f} s, {r[1]:.0f} MB")
        runs.append(r)
    return Result(name, runs, read() if read and runs else None, note)


def feed_urls(corpus_dir, port):
    with open(os.path.join(corpus_dir, "hosts.json")) as f:
        layout = json.load(f)
    return [
        f"http://{serve.host_address(h)}:{port}/{path}"
        for path, h in zip(layout["paths"], layout["hosts"])
    ]


def toml_str(s):
    return json.dumps(s)


def tidings_config(path, urls, maildir, state, delivery, digest=None):
    lines = ["[state]", f"path = {toml_str(state)}", ""]
    if digest:
        lines += ["[digest]"] + [f"{k} = {json.dumps(v)}" for k, v in digest.items()] + [""]
    lines += ["[delivery]"]
    lines += [f"{k} = {toml_str(v) if isinstance(v, str) else json.dumps(v)}" for k, v in delivery.items()]
    lines += ["", "[[mailboxes]]", 'type = "maildir"', f"path = {toml_str(maildir)}", ""]
    for u in urls:
        lines += ["[[feeds]]", f"url = {toml_str(u)}", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def stories_in(preview_dir):
    with open(os.path.join(preview_dir, "digest.json")) as f:
        d = json.load(f)
    # Stories shown in full plus those collapsed to a title link by the size budget; the rest
    # wait for a later digest.
    return sum(len(g["stories"]) + len(g.get("collapsed", [])) for g in d["groups"])


def write_curl_304(path, corpus_dir, urls):
    with open(os.path.join(corpus_dir, "hosts.json")) as f:
        paths = json.load(f)["paths"]
    with open(path, "w") as f:
        for i, (u, p) in enumerate(zip(urls, paths)):
            with open(os.path.join(corpus_dir, p), "rb") as body:
                etag = serve.etag_of(body.read())
            # `next` starts a new set of options, so each URL carries its own header.
            f.write("next\n" if i else "")
            f.write(f'url = "{u}"\noutput = "/dev/null"\nsilent\n')
            f.write('header = "Accept-Encoding: gzip"\n')
            f.write('header = "If-None-Match: ' + etag.replace('"', '\\"') + '"\n')


def bench_delay(args, corpus_dir, delay, work):
    log(f"\n== delay {delay} ms ==")
    server = Server(corpus_dir, delay)
    results = {}
    try:
        urls = feed_urls(corpus_dir, server.port)
        maildir = os.path.join(corpus_dir, "maildir")
        d = os.path.join(work, f"delay-{delay}")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        n, t = args.runs, args.timeout

        # tidings preview: no state file, so every run fetches and parses everything.
        cfg = os.path.join(d, "tidings-preview.toml")
        sink = os.path.join(d, "discard-mail")
        with open(sink, "w") as f:
            f.write("#!/bin/sh\ncat > /dev/null\n")
        os.chmod(sink, 0o755)
        delivery = {
            "from": "bench@example.org", "to": ["me@example.org"],
            "transport": "sendmail", "sendmail_command": sink,
        }
        tidings_config(cfg, urls, maildir, os.path.join(d, "no-state.db"), delivery)
        out = os.path.join(d, "preview")
        preview = [args.tidings, "-c", cfg, "preview", "--out", out]
        results["tidings"] = repeat(
            "tidings preview", n, lambda i: measure(preview, t, ok=(0, 2)),
            read=lambda: f"{stories_in(out)} stories",
        )

        # tidings run: the first run fetches, sends (to a sink) and stores validators; the
        # following runs find nothing changed: every feed answers 304. The corpus holds far
        # more than one digest's size budget, so each of those runs still has a backlog to
        # group and sends its next digest.
        cfg_run = os.path.join(d, "tidings-run.toml")
        state = os.path.join(d, "state.db")
        tidings_config(cfg_run, urls, maildir, state, delivery)
        run = [args.tidings, "-c", cfg_run, "run"]
        first = measure(run, t, ok=(0, 2))
        if first:
            log(f"  tidings run (first, sends): {first[0]:.2f} s, {first[1]:.0f} MB")
            results["tidings-first-run"] = Result("tidings run, first (fetch, send, store)", [first])
        results["tidings-304"] = repeat("tidings run, all 304", n, lambda i: measure(run, t, ok=(0, 2)))

        # ...and with nothing waiting: a first run (not timed) with a budget large enough
        # to send everything, then runs that find nothing changed and nothing to send.
        cfg_idle = os.path.join(d, "tidings-idle.toml")
        tidings_config(cfg_idle, urls, maildir, os.path.join(d, "idle.db"), delivery,
                       digest={"max_bytes": 1 << 30})
        idle = [args.tidings, "-c", cfg_idle, "run"]
        if measure(idle, t, ok=(0, 2)):
            results["tidings-idle"] = repeat(
                "tidings run, all 304, nothing waiting", n, lambda i: measure(idle, t, ok=(0, 2)))

        # The floor: the same requests, same concurrency, bodies thrown away.
        curl_cfg = os.path.join(d, "curl.cfg")
        with open(curl_cfg, "w") as f:
            for u in urls:
                f.write(f'url = "{u}"\noutput = "/dev/null"\n')
        curl = ["curl", "-s", "--parallel", "--parallel-max", str(CONCURRENCY),
                "-H", "Accept-Encoding: gzip", "-K", curl_cfg]
        measure(curl, t)  # warm-up: page cache, the server's first connections
        results["floor"] = repeat("floor (curl, 16 parallel)", n, lambda i: measure(curl, t))
        # ...and the same requests with the validators tidings stored: all 304.
        curl_304 = os.path.join(d, "curl-304.cfg")
        write_curl_304(curl_304, corpus_dir, urls)
        cmd_304 = ["curl", "-s", "--parallel", "--parallel-max", str(CONCURRENCY), "-K", curl_304]
        results["floor-304"] = repeat("floor, all 304", n, lambda i: measure(cmd_304, t))

        if not args.skip_peers:
            results.update(bench_newsboat(args, urls, d, n, t))
            results.update(bench_rss2email(args, urls, d, delay, t))
    finally:
        server.stop()
    return results


def bench_newsboat(args, urls, d, n, t):
    if not shutil.which("newsboat"):
        log("  newsboat not installed; skipped")
        return {}
    nb = os.path.join(d, "newsboat")
    home = os.path.join(nb, "home")
    os.makedirs(home)
    with open(os.path.join(nb, "urls"), "w") as f:
        f.write("\n".join(urls) + "\n")
    out = {}
    for key, name, conf in [
        ("newsboat", "newsboat -x reload", ""),
        ("newsboat-16", "newsboat, reload-threads 16", f"reload-threads {CONCURRENCY}\n"),
    ]:
        cfg = os.path.join(nb, f"{key}.conf")
        with open(cfg, "w") as f:
            f.write(conf)
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home, XDG_DATA_HOME=home)

        def once(i, cfg=cfg, key=key):
            cache = os.path.join(nb, f"{key}-{i}.db")  # a fresh cache: everything is new
            return measure(["newsboat", "-x", "reload", "-u", os.path.join(nb, "urls"), "-c", cache, "-C", cfg],
                           t, env=env)

        def read(key=key):
            with sqlite3.connect(os.path.join(nb, f"{key}-0.db")) as c:
                items = c.execute("select count(*) from rss_item").fetchone()[0]
                feeds = c.execute("select count(distinct feedurl) from rss_item").fetchone()[0]
            return f"{items} items from {feeds} feeds"

        out[key] = repeat(name, n, once, read=read)
    return out


def bench_rss2email(args, urls, d, delay, t):
    r2e = args.r2e
    if not (r2e and os.path.exists(r2e)):
        log("  rss2email not installed; skipped")
        return {}
    rd = os.path.join(d, "rss2email")
    os.makedirs(rd)
    opml = os.path.join(rd, "feeds.opml")
    with open(opml, "w") as f:
        f.write('<?xml version="1.0"?>\n<opml version="1.0"><head><title>bench</title></head><body>\n')
        for i, u in enumerate(urls):
            f.write(f'<outline type="rss" text="feed{i:03}" xmlUrl="{u}"/>\n')
        f.write("</body></opml>\n")
    cfg, data = os.path.join(rd, "pristine.cfg"), os.path.join(rd, "pristine.json")
    for cmd in (["new", "bench@example.org"], ["opmlimport", opml]):
        subprocess.run([r2e, "-c", cfg, "-d", data, *cmd], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    n = args.r2e_runs_slow if delay > 0 else args.runs
    note = "" if n == args.runs else f"{n} run" + ("s" if n > 1 else "")

    def once(i):
        c, dd = os.path.join(rd, f"run{i}.cfg"), os.path.join(rd, f"run{i}.json")
        shutil.copy(cfg, c)
        shutil.copy(data, dd)
        # rss2email exits non-zero when a feed fails; the broken feeds make sure one does.
        return measure([r2e, "-c", c, "-d", dd, "run", "--no-send"], t, ok=(0, 1, 2, 3))

    def read():
        with open(os.path.join(rd, "run0.json")) as f:
            feeds = json.load(f)["feeds"]
        seen = sum(len(fd.get("seen", {})) for fd in feeds)
        return f"{seen} items from {sum(1 for fd in feeds if fd.get('seen'))} feeds"

    return {"rss2email": repeat("rss2email run --no-send", n, once, read=read, note=note)}


ROWS = [
    ("tidings", "tidings preview"),
    ("tidings-first-run", "tidings run, first (fetch, send to a sink, store)"),
    ("tidings-304", "tidings run, nothing changed (all 304), backlog waiting"),
    ("tidings-idle", "tidings run, nothing changed (all 304), nothing waiting"),
    ("floor", "floor: curl, same requests, 16 parallel, bodies discarded"),
    ("floor-304", "floor, all 304: curl, same requests with the stored ETags"),
    ("newsboat", "newsboat -x reload (default, 1 reload thread)"),
    ("newsboat-16", "newsboat -x reload, reload-threads 16"),
    ("rss2email", "rss2email run --no-send"),
]


def table(all_results, delays):
    head = "| tool | " + " | ".join(f"{d} ms: time | ratio to tidings | peak RSS" for d in delays) + " | what it read (at 0 ms) |"
    sep = "| --- |" + " ---: | ---: | ---: |" * len(delays) + " --- |"
    lines = [head, sep]
    for key, label in ROWS:
        cells = []
        any_ok = False
        read = ""
        for d in delays:
            r = all_results[d].get(key)
            base = all_results[d].get("tidings")
            if r is None or not r.ok:
                cells += ["–", "–", "–"]
                continue
            any_ok = True
            ratio = f"{r.wall / base.wall:.2f}x" if base and base.ok else "–"
            note = f" ({r.note})" if r.note else ""
            cells += [f"{r.wall:.2f} s{note}", ratio, f"{r.rss:.0f} MB"]
            if d == delays[0] and r.read:
                read = r.read
        if any_ok:
            lines.append(f"| {label} | " + " | ".join(cells) + f" | {read} |")
    return "\n".join(lines)


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} CPUs ({model}){mem}, Linux {platform.release()}"


def tool_versions(args):
    out = []
    for cmd in ([args.tidings, "--version"], ["newsboat", "--version"], [args.r2e or "r2e", "--version"], ["curl", "--version"]):
        try:
            v = subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.splitlines()[0]
            out.append(" ".join(v.split()[:2]))
        except (OSError, IndexError, subprocess.TimeoutExpired):
            pass
    return ", ".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--tidings", required=True)
    ap.add_argument("--r2e", help="the r2e executable (skipped when absent)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--r2e-runs-slow", type=int, default=3, help="rss2email runs at a delay > 0")
    ap.add_argument("--delays", default="0,50")
    ap.add_argument("--timeout", type=int, default=600, help="seconds, per command")
    ap.add_argument("--skip-peers", action="store_true", help="tidings and the floor only")
    ap.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    args = ap.parse_args()
    # SIGTERM unwinds like Ctrl-C, so the feed server is stopped in `finally`.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    delays = [int(x) for x in args.delays.split(",")]

    os.makedirs(args.work, exist_ok=True)
    corpus_dir = os.path.join(args.work, "corpus")
    log(f"generating the corpus in {corpus_dir}")
    shutil.rmtree(corpus_dir, ignore_errors=True)
    manifest = corpus.generate(corpus_dir)
    load_before = os.getloadavg()

    all_results = {d: bench_delay(args, corpus_dir, d, args.work) for d in delays}

    total_mb = (manifest["feed_bytes"] + manifest["newsletter_bytes"]) / 1e6
    k = manifest["kinds"]
    report = [
        "# tidings against rss2email, newsboat and the download floor",
        "",
        f"Measured {dt.datetime.now():%Y-%m-%d %H:%M} on {machine()}.",
        f"Load average before the run: {load_before[0]:.2f} (other work on the machine adds noise).",
        f"Tools: {tool_versions(args)}.",
        "",
        f"Corpus (generated by `bench/corpus.py`, seed {corpus.SEED}): {manifest['feeds']} feeds "
        f"({k['rss']} RSS 2.0, {k['atom']} Atom, {k['json']} JSON Feed, plus 5 broken: "
        f"{', '.join(manifest['broken_feeds'])}) with {manifest['feed_items']} items, served from "
        f"{manifest['hosts']} loopback hosts; {manifest['newsletters']} newsletters "
        f"({manifest['newsletter_stories']} stories) in a Maildir (tidings only: the peers do not "
        f"read mail); {total_mb:.1f} MB in all. Feeds are served gzipped when asked, with ETags.",
        "",
        f"Median of {args.runs} runs (wall time, peak RSS from GNU time). Ratio = time / tidings "
        "preview's time at the same delay (below 1 is faster than tidings).",
        "",
        table(all_results, delays),
        "",
        "Notes:",
        "- \"What it read\": tidings counts the stories in its digest (feed items and newsletter",
        "  stories within the default 7-day lookback, merged); newsboat and rss2email count the",
        "  items they stored from all feeds, whatever their age. Neither peer reads JSON Feed",
        "  (nor, of course, the Maildir), so their work is smaller than tidings'.",
        "- The floor downloads the same gzipped bytes with the same concurrency and discards them;",
        "  \"all 304\" sends the ETags the server gave, as tidings' second run does.",
        "- `tidings run, first` sends its digest to a sendmail stand-in that discards it. The",
        "  corpus is far more than one digest's 100 kB budget, so the stories left out wait in a",
        "  backlog: each following run finds every feed unchanged (304) but still groups the",
        "  backlog and sends its next digest (\"backlog waiting\"). \"Nothing waiting\" starts",
        "  from a first run (not timed) whose budget held everything: those runs have nothing",
        "  to group or send, and cost the 304 requests plus reading the state.",
        "- The feed server is Python (bench/serve.py) on the same 2 cores: it is part of every",
        "  figure, the floor included.",
        "",
        "Command: `bash bench/compare.sh` (options: `bash bench/compare.sh --help`).",
        "",
    ]
    raw = {d: {k: {"runs": r.runs, "read": r.read, "note": r.note} for k, r in res.items()} for d, res in all_results.items()}
    with open(os.path.join(args.work, "results.json"), "w") as f:
        json.dump({"manifest": manifest, "results": raw}, f, indent=1)
    text = "\n".join(report)
    print(text)
    with open(args.results, "w") as f:
        f.write(text)
    log(f"written to {args.results}")


if __name__ == "__main__":
    main()
