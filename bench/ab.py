"""Two tidings binaries alternated on the bench corpus: `tidings preview` wall and CPU time.

    python3 bench/ab.py OLD_BINARY NEW_BINARY [RUNS]

Generates the corpus of `bench/compare.py` into bench/work/ab/ (once), serves it on loopback
with no delay, and runs `preview --out` with each binary in turn RUNS times (default 7), so
both see the same machine load. Prints medians and the ratio new / old.
"""
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "work", "ab")
os.makedirs(WORK, exist_ok=True)
os.environ.setdefault("BENCH_SERVER_PID", os.path.join(WORK, "server.pid"))
sys.path.insert(0, HERE)
import compare  # noqa: E402
import corpus  # noqa: E402


def main():
    old, new = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    corpus_dir = os.path.join(WORK, "corpus")
    if not os.path.exists(os.path.join(corpus_dir, "hosts.json")):
        corpus.generate(corpus_dir)
    server = compare.Server(corpus_dir, 0)
    try:
        sink = os.path.join(WORK, "discard-mail")
        with open(sink, "w") as f:
            f.write("#!/bin/sh\ncat > /dev/null\n")
        os.chmod(sink, 0o755)
        cfg = os.path.join(WORK, "preview.toml")
        compare.tidings_config(
            cfg, compare.feed_urls(corpus_dir, server.port), os.path.join(corpus_dir, "maildir"),
            os.path.join(WORK, "no-state.db"),
            {"from": "b@example.org", "to": ["m@example.org"], "transport": "sendmail",
             "sendmail_command": sink},
        )
        times = {old: [], new: []}
        for _ in range(runs):
            for binary in (old, new):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.time()
                subprocess.run([binary, "-c", cfg, "preview", "--out", os.path.join(WORK, "out")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
                wall = time.time() - start
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                times[binary].append((wall, cpu))
        med = {b: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t))
               for b, t in times.items()}
        for name, b in (("old", old), ("new", new)):
            print(f"{name}: wall {med[b][0]:.2f} s, CPU {med[b][1]:.2f} s  ({b})")
        print(f"new / old: wall {med[new][0] / med[old][0]:.3f}, CPU {med[new][1] / med[old][1]:.3f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
