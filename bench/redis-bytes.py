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
(default $top_builddir/model.ims, else a fixed-verdict model),
IMS_BENCH_QUARANTINE=1 (every message held instead: the bytes of a
quarantined message, its body included).  Also: events per message
(XLEN of the stream), the scan log's JSON bytes and MEMORY USAGE of one
scan log key, of one event (the stream's over its length).  Needs root (a
private Postfix).  Prints one JSON object."""
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
QUARANTINE = os.environ.get("IMS_BENCH_QUARANTINE") == "1"


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
    if QUARANTINE:  # a link whose text names another host: held ([scores] below)
        return (f"From: Bob <bob@example.org>\r\nTo: alice@example.test\r\n"
                f"Subject: report {i}\r\nDate: Mon, 23 Nov 2026 06:00:00 +0000\r\n"
                f"Message-ID: <r{i}@example.org>\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/html\r\n\r\n<p>Log in at <a href=\"http://evil.example.net/\">"
                f"www.mybank.example.com</a></p>\r\n<p>{body}</p>\r\n").encode()
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
        # scores low enough that every message is accepted (no quarantine copy),
        # or (IMS_BENCH_QUARANTINE) that every one is held
        actions = ("[actions]\ntag = -1\nquarantine = 20\nreject = 300\n"
                   "[scores]\nPHISH_URL_TEXT_MISMATCH = 30\n" if QUARANTINE
                   else "[actions]\ntag = 100\nquarantine = 200\nreject = 300\n")
        milter = hmilter.Milter(tmp, redis, model, extra=actions)
        milter.start()
        pf = hpostfix.Postfix(tmp, milter=milter.postfix_socket, sink=False).start()
        time.sleep(0.5)
        mem0, keys0 = info_memory(redis), int(redis.cli("DBSIZE"))
        ev0 = int(redis.cli("XLEN", "ims:{global}:events") or 0)
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
        events = int(redis.cli("XLEN", "ims:{global}:events") or 0) - ev0
        ids = redis.cli("ZRANGE", "ims:{global}:scans", "0", "19").split()
        json_bytes = [int(redis.cli("STRLEN", f"ims:{{global}}:scan:{i}")) for i in ids]
        key_bytes = [int(redis.cli("MEMORY", "USAGE", f"ims:{{global}}:scan:{i}", "SAMPLES", "0"))
                     for i in ids]
        stream = int(redis.cli("MEMORY", "USAGE", "ims:{global}:events", "SAMPLES", "0") or 0)
        held = int(redis.cli("ZCARD", "ims:{global}:quarantine") or 0)
        res = {"build": BUILD, "messages": N, "message_bytes": len(message(0)),
               "scans": scans, "used_memory_bytes_per_message": round((mem1 - mem0) / N),
               "keys_per_message": round((keys1 - keys0) / N, 2),
               "recipient_mailbox_keys": len(per_user), "held": held,
               "events_per_message": round(events / N, 2),
               "scan_log_json_bytes": round(sum(json_bytes) / max(1, len(json_bytes))),
               "scan_log_key_memory_usage": round(sum(key_bytes) / max(1, len(key_bytes))),
               "stream_bytes_per_event": round(stream / max(1, events + ev0))}
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
