#!/usr/bin/python3
"""`ims train --feedback` learns from users' reports in a real redis-server:
the newest label per (user, message) counts, malformed entries are skipped,
and Redis down is a clear one-line error."""
import os
import subprocess
import sys

from harness import common, redis

common.integration("redis-server", "redis-cli")
IMS = os.path.join(common.builddir(), "cli", "ims")
FIX = os.path.join(common.srcdir(), "tests", "data", "mime", "train")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def train(conf, out):
    return subprocess.run([IMS, "-c", conf, "train", "--folds", "3", "--hash-bits", "16",
                           "--ham", os.path.join(FIX, "ham"), "--spam", os.path.join(FIX, "spam"),
                           "--feedback", "-o", out], capture_output=True, text=True)


def main():
    tmp = common.TempDir()
    r = redis.server(tmp).start()
    try:
        conf = tmp.join("ims.conf")
        with open(conf, "w") as f:
            f.write(r.conf_section())
        with open(os.path.join(FIX, "spam", sorted(os.listdir(os.path.join(FIX, "spam")))[0])) as f:
            spam = f.read()
        with open(os.path.join(FIX, "ham", sorted(os.listdir(os.path.join(FIX, "ham")))[0])) as f:
            ham = f.read()
        key = "ims:{global}:feedback"
        r.cli("XADD", key, "*", "user", "a@example.test", "id", "m1", "label", "ham", "time", "1",
              "raw", spam)
        # a@ changed their mind about m1: the newer label counts
        r.cli("XADD", key, "*", "user", "a@example.test", "id", "m1", "label", "spam", "time", "2",
              "raw", spam)
        r.cli("XADD", key, "*", "user", "b@example.test", "id", "m2", "label", "ham", "time", "3",
              "raw", ham)
        r.cli("XADD", key, "*", "user", "b@example.test", "id", "m3", "label", "maybe", "raw", ham)
        r.cli("XADD", key, "*", "user", "b@example.test", "id", "m4")
        r.cli("XADD", key, "*", "user", "c@example.test", "id", "m5", "label", "spam", "time", "4",
              "raw", "\x01\x02garbage without headers \xff")
        p = train(conf, tmp.join("m.ims"))
        check(p.returncode == 0, f"train --feedback exits 0 ({p.stderr.strip()[-300:]})")
        check("feedback: 6 reports, 1 ham + 2 spam messages" in p.stderr,
              "newest label per message, malformed entries skipped")
        check(os.path.exists(tmp.join("m.ims")), "model written")
        r.stop()
        p = train(conf, tmp.join("m2.ims"))
        check(p.returncode == 1 and p.stderr.count("\n") <= 2 and "feedback" in p.stderr,
              f"Redis down: one clear error ({p.stderr.strip()})")
    finally:
        r.stop()
        tmp.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
