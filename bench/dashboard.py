#!/usr/bin/python3
"""GET /admin/dashboard per range on a full store (docs/benchmarks.md): a
private redis-server and ims-webapi from $top_builddir; 30 days of counters
as lib/dashboard.c writes them at a steady rate (every hour: its hash with
IMS_BENCH_SYMBOLS symbol fields, every day: the same summed, every 5 minutes of the last day; the top
sets of every hour and day full, IMS_DASH_TOP_KEEP = 1000 members each);
then the median and 95th percentile time of IMS_BENCH_REQUESTS requests per
range, and the Redis memory the counters take.  IMS_BENCH_DAYS=0: no day
hashes (a store from before them: the 30d range reads hours).

  top_srcdir=SRC top_builddir=BUILD python3 SRC/bench/dashboard.py

Prints one JSON object."""
import json
import os
import statistics
import sys
import time

TOP = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "webapi"))
sys.path.insert(0, os.path.join(TOP, "tests"))
from fixtures import Env  # noqa: E402

REQUESTS = int(os.environ.get("IMS_BENCH_REQUESTS", "20"))
SYMBOLS = int(os.environ.get("IMS_BENCH_SYMBOLS", "40"))
# 0: no day hashes, as after an upgrade (30d then reads the hours)
DAYS = os.environ.get("IMS_BENCH_DAYS", "1") != "0"
KEEP = 1000


def fill(env, now):
    cmds = []
    hour_ms = 3600 * 1000
    for h in range(30 * 24 + 1):
        t = now - h * hour_ms
        g = time.gmtime(t / 1000)
        hk = "ims:{global}:stats:" + time.strftime("%Y%m%d%H", g)
        fields = ["total", "120", "action:accept", "90", "action:tag", "15",
                  "action:quarantine", "10", "action:reject", "5", "verdict:ham", "95",
                  "verdict:spam", "25", "spf:pass", "100", "spf:fail", "10", "spf:none", "10",
                  "dkim:pass", "80", "dkim:none", "40", "dmarc:pass", "70", "dmarc:fail", "8",
                  "dmarc:none", "42", "click:clean", "12", "click:block", "1"]
        for s in range(SYMBOLS):
            fields += [f"symbol:SYMBOL_{s:02d}", str(1 + s)]
        cmds.append(["HSET", hk] + fields)
        if h == 0 or g.tm_hour == 0:
            day = time.strftime("%Y%m%d", g)
            # the day's counters (lib/scan_store.c): its 24 hours summed
            if DAYS:
                cmds.append(["HSET", "ims:{global}:statsd:" + day] +
                            [x if i % 2 == 0 else str(int(x) * 24)
                             for i, x in enumerate(fields)])
            for kind in ("senders", "domains", "targets"):
                key = f"ims:{{global}}:top:{kind}:d:{day}"
                cmds.append(["ZADD", key] + [x for i in range(KEEP)
                                             for x in (str(i % 97 + 1), f"m{i}@d{i % 50}.example")])
        if h <= 24:
            for kind in ("senders", "domains", "targets"):
                key = f"ims:{{global}}:top:{kind}:h:" + time.strftime("%Y%m%d%H", g)
                cmds.append(["ZADD", key] + [x for i in range(KEEP)
                                             for x in (str(i % 13 + 1), f"m{i}@d{i % 50}.example")])
    for m in range(24 * 12):
        t = now - m * 300 * 1000
        g = time.gmtime(t / 1000)
        mk = "ims:{global}:stats5:" + time.strftime("%Y%m%d%H", g) + "%02d" % (g.tm_min - g.tm_min % 5)
        cmds.append(["HSET", mk, "total", "10", "action:accept", "8", "action:reject", "2",
                     "verdict:ham", "8", "verdict:spam", "2", "spf:pass", "9", "spf:fail", "1",
                     "dkim:pass", "7", "dkim:none", "3", "dmarc:pass", "6", "dmarc:none", "4"])
    for i in range(0, len(cmds), 200):
        env.pipe(cmds[i:i + 200])


def main():
    with Env() as env:
        admin = env.add_user("bench@example.test", role="admin")["access_token"]
        before = int(env.cli("INFO", "memory").split("used_memory:")[1].split()[0])
        now = int(time.time() * 1000)
        fill(env, now)
        after = int(env.cli("INFO", "memory").split("used_memory:")[1].split()[0])
        out = {"symbols_per_hour": SYMBOLS, "top_members": KEEP, "requests": REQUESTS,
               "counter_bytes": after - before, "ranges": {}}
        for rng in ("1h", "24h", "7d", "30d"):
            times = []
            for _ in range(REQUESTS):
                t0 = time.perf_counter()
                r = env.api.request("GET", "/admin/dashboard?range=" + rng, token=admin)
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status == 200, r
            times.sort()
            out["ranges"][rng] = {"median_ms": round(statistics.median(times), 2),
                                  "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
                                  "bytes": len(r.body)}
        print(json.dumps(out))


if __name__ == "__main__":
    main()
