#!/usr/bin/python3
"""`ims retrain` on the SpamAssassin corpus's training part (the test part is
never read), against a private redis-server:

  A. no feedback                      (the candidate against the reference)
  B. N honest reports of training messages (right labels)
  C. N reports with flipped labels     (spam as ham, ham as spam)

Each run is `ims retrain --dry-run` (nothing installed), timed.  The reports
are recorded with `ims feedback learn`, the command IMAPSieve runs, and the
time per call is measured too.

usage: bench/retrain.py [-b BUILDDIR] [-n N]
Prints a markdown summary for docs/benchmarks.md."""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests"))
from harness import common, redis  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-b", "--build", default=".")
    ap.add_argument("-n", type=int, default=400, help="reports per run (half spam, half ham)")
    args = ap.parse_args()
    ims = os.path.join(os.path.abspath(args.build), "cli", "ims")
    corpus = os.environ.get("IMS_CORPUS_DIR", os.path.join(TOP, "data", "corpus"))
    subprocess.run([os.path.join(TOP, "contrib", "fetch-corpus.sh"), "-o", corpus], check=True,
                   stdout=sys.stderr)
    tr = os.path.join(corpus, "train")
    tmp = common.TempDir(prefix="ims-bench-retrain-")
    r = redis.Redis(tmp).start()
    try:
        model = tmp.join("model.ims")
        conf = tmp.join("ims.conf")
        with open(conf, "w") as f:
            f.write(r.conf_section() + f"[classifier]\nmodel = {model}\n"
                    "[feedback]\nrate_per_hour = 1000000\nmax_per_user = 10000000\n"
                    "[log]\nlevel = warning\n")
        subprocess.run([ims, "-c", conf, "train", "-q", "--ham", tr + "/ham", "--spam",
                        tr + "/spam", "-o", model], check=True, capture_output=True)
        ham = sorted(os.listdir(tr + "/ham"))[: args.n // 2]
        spam = sorted(os.listdir(tr + "/spam"))[: args.n // 2]

        def report(flip):
            r.cli("DEL", "ims:{global}:feedback")
            for k in r.cli("KEYS", "ims:{global}:feedback:*").split():
                r.cli("DEL", k)
            t0 = time.perf_counter()
            n = 0
            for label, names in (("ham", ham), ("spam", spam)):
                for i, name in enumerate(names):
                    lab = ("spam" if label == "ham" else "ham") if flip else label
                    with open(os.path.join(tr, label, name), "rb") as f:
                        subprocess.run([ims, "-c", conf, "feedback", "learn", "--" + lab,
                                        "--user", f"u{i % 20}@example.test"], stdin=f,
                                       check=True, capture_output=True)
                    n += 1
            return (time.perf_counter() - t0) / n * 1000

        def retrain():
            t0 = time.perf_counter()
            p = subprocess.run([ims, "-c", conf, "retrain", "-q", "--dry-run", "--ham",
                                tr + "/ham", "--spam", tr + "/spam"], capture_output=True,
                               text=True, check=True)
            return json.loads(p.stdout), time.perf_counter() - t0

        rows = []
        res, secs = retrain()
        rows.append(("A. no feedback", "-", res, secs))
        ms = report(False)
        res, secs = retrain()
        rows.append((f"B. {args.n} honest reports", f"{ms:.1f}", res, secs))
        ms = report(True)
        res, secs = retrain()
        rows.append((f"C. {args.n} flipped reports", f"{ms:.1f}", res, secs))
        with open("/proc/cpuinfo") as f:
            cpu = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        print(f"machine: {os.cpu_count()} cores, {cpu[0] if cpu else '?'}, load "
              f"{open('/proc/loadavg').read().split()[:3]}; date "
              f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}; build {args.build}\n")
        print("| run | ms per `ims feedback learn` | held out (corpus + feedback) | candidate "
              "corpus acc / FPR | baseline corpus acc / FPR | candidate feedback acc | result "
              "| wall s |")
        print("|---|---|---|---|---|---|---|---|")
        for name, ms, res, secs in rows:
            c, b = res["candidate"]["corpus"], res["baseline_figures"]["corpus"]
            fb = res["candidate"]["feedback"]
            print(f"| {name} | {ms} | {res['heldout']['corpus']} + {res['heldout']['feedback']} "
                  f"| {c['accuracy']:.4f} / {c['false_positive_rate']:.4f} "
                  f"| {b['accuracy']:.4f} / {b['false_positive_rate']:.4f} "
                  f"| {fb['accuracy']:.4f} | {res['result']} ({res['reason']}) | {secs:.1f} |"
                  if fb else
                  f"| {name} | {ms} | {res['heldout']['corpus']} + 0 "
                  f"| {c['accuracy']:.4f} / {c['false_positive_rate']:.4f} "
                  f"| {b['accuracy']:.4f} / {b['false_positive_rate']:.4f} "
                  f"| - | {res['result']} ({res['reason']}) | {secs:.1f} |")
    finally:
        r.stop()
        tmp.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
