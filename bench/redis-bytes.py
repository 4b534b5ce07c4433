#!/usr/bin/python3
"""Redis memory per delivered message (docs/benchmarks.md): a private
redis-server, ims-milter from $top_builddir and a private Postfix (delivery
to discard(8)); N messages of about SIZE bytes go in over SMTP to one local
recipient, accepted; then INFO memory and DBSIZE are compared with before.
Run once with the build of the old layout (the body kept in Redis) and once
with the new one:

  top_srcdir=SRC top_builddir=OLD_BUILD python3 SRC/bench/redis-bytes.py
  top_srcdir=SRC top_builddir=NEW_BUILD python3 SRC/bench/redis-bytes.py

Knobs: IMS_BENCH_MESSAGES (1000), IMS_BENCH_SIZE (2048), IMS_BENCH_MODEL
(default $top_builddir/model.ims, else a fixed-verdict model).  Needs root
(a private Postfix).  Prints one JSON object."""
import json
import os
import smtplib
import sys
import time

TOP = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests"))
from harness import common, milter as hmilter, postfix as hpostfix  # noqa: E402
from harness.redis import Redis  # noqa: E402

N = int(os.environ.get("IMS_BENCH_MESSAGES", "1000"))
SIZE = int(os.environ.get("IMS_BENCH_SIZE", "2048"))
BUILD = os.environ.get("top_builddir") or os.getcwd()


def info_memory(redis):
    out = {}
    for line in redis.cli("INFO", "memory").splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v.strip()
    return int(out["used_memory"])


def message(i):
    body = ("The quarterly report is attached below; numbers are in thousands.\r\n" *
            (SIZE // 68 + 1))[:SIZE]
    return (f"From: Bob <bob@example.org>\r\nTo: alice@example.test\r\nSubject: report {i}\r\n"
            f"Date: Mon, 23 Nov 2026 06:00:00 +0000\r\nMessage-ID: <r{i}@example.org>\r\n\r\n"
            + body).encode()


def main():
    if os.geteuid() != 0:
        common.skip("needs root for a private Postfix")
    common.require("postfix", "redis-server")
    tmp = common.TempDir("ims-bench-bytes-")
    redis = milter = pf = None
    try:
        redis = Redis(tmp).start()
        model = os.environ.get("IMS_BENCH_MODEL") or os.path.join(BUILD, "model.ims")
        if not os.path.exists(model):
            model = hmilter.make_model(tmp, 1.0)
        # scores low enough that every message is accepted (no quarantine copy)
        milter = hmilter.Milter(tmp, redis, model,
                                extra="[actions]\ntag = 100\nquarantine = 200\nreject = 300\n")
        milter.start()
        pf = hpostfix.Postfix(tmp, milter=milter.postfix_socket, sink=False).start()
        time.sleep(0.5)
        mem0, keys0 = info_memory(redis), int(redis.cli("DBSIZE"))
        with smtplib.SMTP("127.0.0.1", pf.port, timeout=60) as s:
            for i in range(N):
                s.sendmail("bob@example.org", ["alice@example.test"], message(i))
        deadline = time.time() + 60
        while time.time() < deadline and \
                int(redis.cli("ZCARD", "ims:{global}:scans") or 0) < N:
            time.sleep(0.2)
        scans = int(redis.cli("ZCARD", "ims:{global}:scans"))
        mem1, keys1 = info_memory(redis), int(redis.cli("DBSIZE"))
        per_user = [k for k in redis.cli("KEYS", "ims:{alice@example.test}:*").split() if k]
        res = {"build": BUILD, "messages": N, "message_bytes": len(message(0)),
               "scans": scans, "used_memory_bytes_per_message": round((mem1 - mem0) / N),
               "keys_per_message": round((keys1 - keys0) / N, 2),
               "recipient_mailbox_keys": len(per_user)}
        print(json.dumps(res), flush=True)
        return 0
    finally:
        if pf:
            pf.stop()
        if milter:
            milter.stop()
        if redis:
            redis.stop()
        tmp.close()


if __name__ == "__main__":
    sys.exit(main())
