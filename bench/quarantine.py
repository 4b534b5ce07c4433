"""bench/quarantine.sh: see there.  Prints a markdown table for
docs/benchmarks.md and one JSON object."""
import json
import os
import statistics
import sys
import threading
import time

TOP = os.environ.get("top_srcdir", ".")
sys.path.insert(0, os.path.join(TOP, "tests"))
sys.path.insert(0, os.path.join(TOP, "tests", "webapi"))
from fixtures import Env, ulid  # noqa: E402
from harness import common  # noqa: E402
from harness.dovecot import Dovecot  # noqa: E402

HELD = int(os.environ.get("IMS_BENCH_HELD", "400"))
CONC = int(os.environ.get("IMS_BENCH_CONCURRENCY", "4"))
USER, ADMIN = "alice@example.test", "admin@example.test"


def message():
    with open(os.path.join(TOP, "contrib", "samples", "spam.eml"), "rb") as f:
        body = f.read().decode("utf-8", "replace")
    return ("X-Spam-Flag: YES\r\nX-Spam-Status: Yes, score=12.0 required=5.0\r\n"
            "X-IMS-Scan-Id: SCANID\r\n" + body)


def used_memory(env):
    info = env.cli("INFO", "memory")
    return int(next(l.split(":")[1] for l in info.splitlines() if l.startswith("used_memory:")))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def release_all(env, token, ids, conc):
    lat, lock, errors = [], threading.Lock(), []
    todo = list(ids)

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                sid = todo.pop()
            t0 = time.perf_counter()
            r = env.api.request("POST", f"/admin/quarantine/{sid}/release", token=token)
            dt = (time.perf_counter() - t0) * 1000
            with lock:
                (lat if r.status == 200 else errors).append(dt if r.status == 200 else r.status)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return lat, errors, time.perf_counter() - t0


def main():
    common.require("dovecot", "redis-server")
    if os.geteuid() != 0:
        common.skip("a private Dovecot needs root")
    with Env() as e:
        dove = Dovecot(e.tmp, e.redis, os.path.join(e.api.dir, "mail")).start()
        common.wait_unix_socket(dove.ims_lmtp)
        e.api.stop()
        e.api.extra.update({"quarantine.lmtp": f"unix:{dove.ims_lmtp}", "webapi.threads": "4"})
        e.api.start()
        try:
            e.add_user(USER)
            admin = e.add_user(ADMIN, role="admin")["access_token"]
            raw = message()
            base = used_memory(e)
            now = int(time.time() * 1000)
            ids, cmds = [], []
            for i in range(HELD):
                sid = ulid(now - HELD + i)
                ids.append(sid)
                cmds += Env.hold_cmds(sid, now - HELD + i, raw.replace("SCANID", sid),
                                      "spam@example.org", [USER], f"held {i}", 12.0)
            e.pipe(cmds)
            per_held = (used_memory(e) - base) / HELD
            size = len(raw)
            half = len(ids) // 2
            seq, err1, t_seq = release_all(e, admin, ids[:half], 1)
            par, err2, t_par = release_all(e, admin, ids[half:], CONC)
            left = len(e.cli("KEYS", "ims:{global}:qraw:*").split())
        finally:
            dove.stop()
    res = {
        "held": HELD, "message_bytes": size, "redis_bytes_per_held": round(per_held),
        "held_bodies_left_after_release": left,
        "release_sequential": {"n": len(seq), "per_s": round(len(seq) / t_seq, 1),
                               "p50_ms": round(pct(seq, 50), 1), "p90_ms": round(pct(seq, 90), 1),
                               "p99_ms": round(pct(seq, 99), 1)},
        f"release_{CONC}_clients": {"n": len(par), "per_s": round(len(par) / t_par, 1),
                                    "p50_ms": round(pct(par, 50), 1),
                                    "p99_ms": round(pct(par, 99), 1)},
        "errors": err1 + err2,
    }
    print("| what | value |\n|---|---|")
    print(f"| held message | {size} bytes |")
    print(f"| Redis memory per held message (body, record, indexes) | {round(per_held)} bytes |")
    print(f"| release, 1 client: per second / p50 / p90 / p99 | {res['release_sequential']['per_s']}"
          f" / {res['release_sequential']['p50_ms']} ms / {res['release_sequential']['p90_ms']}"
          f" ms / {res['release_sequential']['p99_ms']} ms |")
    print(f"| release, {CONC} clients: per second / p50 / p99 | "
          f"{res[f'release_{CONC}_clients']['per_s']} / "
          f"{res[f'release_{CONC}_clients']['p50_ms']} ms / "
          f"{res[f'release_{CONC}_clients']['p99_ms']} ms |")
    print(json.dumps(res))
    if res["errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
