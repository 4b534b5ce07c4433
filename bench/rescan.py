#!/usr/bin/python3
"""`ims rescan` throughput against a private redis-server and Dovecot (doveadm
HTTP API), as root (Dovecot setuids to the mail user):

  N messages in one INBOX (contrib/samples/*.eml, with a link each; every
  10th links to a domain an [intel] block list names), then

  A. ims rescan --dry-run   (fetch + scan each message, change nothing)
  B. ims rescan             (the same, and the listed tenth held in the
                             quarantine, expunged, audited, noted)
  C. ims rescan --rate R    (the pacing: wall time against N / R)

Each with --rate 1000 (no pacing to speak of) unless said.  The model is the
fixed-verdict test model (tests/milter/mkmodel): the figures are Dovecot,
the scan pipeline and Redis, not the SVM.

usage: bench/rescan.py [-b BUILDDIR] [-n N]
Prints a markdown summary for docs/benchmarks.md."""
import argparse
import glob
import imaplib
import json
import os
import platform
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests"))
from harness import common, redis  # noqa: E402
from harness import dns as hdns  # noqa: E402
from harness.dovecot import Dovecot  # noqa: E402

USER, PASSWORD = "alice@example.test", "alice password 1"


def run(ims, conf, *args):
    """wall seconds, the JSON answer (with "cpu_s": the ims process's CPU)"""
    u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run([ims, "-c", conf, "rescan", *args], capture_output=True, text=True)
    dt = time.perf_counter() - t0
    u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    out = json.loads(r.stdout)
    out["cpu_s"] = (u1.ru_utime - u0.ru_utime) + (u1.ru_stime - u0.ru_stime)
    return dt, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-b", "--build", default=".")
    ap.add_argument("-n", type=int, default=500)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    ims = os.path.join(build, "cli", "ims")
    samples = sorted(glob.glob(os.path.join(TOP, "contrib", "samples", "*.eml")))
    tmp = common.TempDir(prefix="ims-bench-rescan-")
    r = redis.Redis(tmp).start()
    dove = None
    # DNS answered locally (nsd): the senders' SPF and DMARC records; other
    # names NXDOMAIN or refused at once, as a caching resolver would answer
    ns = hdns.DnsServer({"example.org": [("TXT", "v=spf1 ip4:198.51.100.0/24 -all")],
                         "_dmarc.example.org": [("TXT", "v=DMARC1; p=none")]})
    ns.start()
    try:
        model = tmp.join("model.ims")
        subprocess.run([os.path.join(build, "tests", "milter", "mkmodel"), model, "1.0"],
                       check=True)
        intel = tmp.join("intel")
        os.makedirs(intel)
        dove = Dovecot(tmp, r, tmp.join("mail"))
        conf = tmp.join("ims.conf")
        with open(conf, "w") as f:
            f.write(r.conf_section())
            f.write(f"[log]\nlevel = warning\n"
                    f"[milter]\nlocal_domains = example.test\n"
                    f"[users]\nmail_home = {tmp.join('mail', '%d', '%n')}\n"
                    f"[dns]\nnameservers = 127.0.0.1:{ns.port}\ntimeout_ms = 1000\n"
                    f"[classifier]\nmodel = {model}\n[intel]\ndir = {intel}\n"
                    f"[scores]\nINTEL_BLOCK = 30\n[actions]\nreject = 100\n"
                    f"[dovecot]\ndoveadm_socket = {dove.doveadm_socket}\n"
                    f"api_key_file = {dove.api_key_file}\n")
        subprocess.run([ims, "-c", conf, "user", "add", USER], input=PASSWORD + "\n",
                       capture_output=True, text=True, check=True)
        dove.start()
        m = imaplib.IMAP4("127.0.0.1", dove.imap_port)
        m.login(USER, PASSWORD)
        size = 0
        for i in range(args.n):
            with open(samples[i % len(samples)], "rb") as f:
                raw = f.read()
            host = "bad.listed.example" if i % 10 == 0 else f"site{i}.example"
            head, _, body = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else \
                raw.partition(b"\n\n")
            msg = head + b"\r\n\r\n" + body + f"\r\nhttp://{host}/x\r\n".encode()
            size += len(msg)
            m.append("INBOX", None, None, msg)
        m.logout()
        with open(os.path.join(intel, "bench.block"), "w") as f:
            f.write("listed.example\n")
        n = args.n
        a_dt, a = run(ims, conf, "--dry-run", "--rate", "1000", "--max", str(n))
        b_dt, b = run(ims, conf, "--rate", "1000", "--max", str(n))
        rate = 50
        c_n = min(n, 100)
        c_dt, c = run(ims, conf, "--dry-run", "--rate", str(rate), "--max", str(c_n))
        cpu = platform.processor() or platform.machine()
        print(f"## Rescan after delivery (`bench/rescan.py`)\n")
        print(f"`python3 bench/rescan.py -b {args.build} -n {n}` on {platform.node()} "
              f"({os.cpu_count()} cores, {cpu}), {time.strftime('%Y-%m-%d')}: {n} messages "
              f"(contrib/samples with a link, {size // n} bytes on average) in one INBOX, "
              f"every 10th linking to a listed domain; private redis-server, Dovecot "
              f"(doveadm HTTP API over its unix socket) and nsd (DNS answered locally), "
              f"fixed-verdict model.\n")
        print("| run | messages | pulled | wall s | messages/s | ims CPU ms/message |")
        print("|---|---|---|---|---|---|")
        print(f"| A. --dry-run | {a['scanned']} | ({a['would_pull']}) | {a_dt:.2f} | "
              f"{a['scanned'] / a_dt:.0f} | {a['cpu_s'] * 1000 / a['scanned']:.1f} |")
        print(f"| B. pull (hold, expunge, audit, note) | {b['scanned']} | {b['pulled']} | "
              f"{b_dt:.2f} | {b['scanned'] / b_dt:.0f} | {b['cpu_s'] * 1000 / b['scanned']:.1f} |")
        print(f"| C. --dry-run --rate {rate} | {c['scanned']} | - | {c_dt:.2f} | "
              f"{c['scanned'] / c_dt:.1f} (bound {rate}) | {c['cpu_s'] * 1000 / c['scanned']:.1f} |")
        print(json.dumps({"n": n, "dry_s": a_dt, "pull_s": b_dt, "pulled": b["pulled"],
                          "paced_s": c_dt, "paced_n": c["scanned"], "rate": rate}))
    finally:
        if dove:
            dove.stop()
        r.stop()
        ns.stop()
        tmp.close()


if __name__ == "__main__":
    main()
