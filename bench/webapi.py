"""bench/webapi.sh: see there.  Prints a markdown table for docs/benchmarks.md
and one JSON object per run.

The inbox is Dovecot's (the mailbox of record): 10,000 messages imported
with doveadm into the bench user's INBOX (quicker than a minute of LMTP
delivery), each with an X-IMS-Scan-Id whose scan log and brief are in
Redis; ims-webapi reads pages through the doveadm HTTP API on a unix socket,
or over its pool of IMAP connections on Dovecot's imap-ims socket (the
shipped mta-config/dovecot/10-ims.conf).  IMS_BENCH_PATHS (doveadm,imap)
says which; each round measures every path in turn (ims-webapi restarted
with [dovecot] imap set or not), so both see the same load on a shared
machine.  Each run records the 1-minute load average at its start."""
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request

TOP = os.environ.get("top_srcdir", ".")
sys.path.insert(0, os.path.join(TOP, "tests"))
from harness import common  # noqa: E402
from harness.dovecot import Dovecot  # noqa: E402
from harness.redis import Redis  # noqa: E402
from harness.webapi import WebAPI  # noqa: E402

DURATION = int(os.environ.get("IMS_BENCH_DURATION", "15"))
CONNS = int(os.environ.get("IMS_BENCH_CONNECTIONS", "64"))
INBOX_CONNS = [int(x) for x in os.environ.get("IMS_BENCH_INBOX_CONNECTIONS", "16,64").split(",")]
THREADS = os.environ.get("IMS_BENCH_THREADS", "4")
ROUNDS = int(os.environ.get("IMS_BENCH_ROUNDS", "3"))
PATHS = os.environ.get("IMS_BENCH_PATHS", "doveadm,imap").split(",")
# IMS_BENCH_CLUSTER=1: a second ims-webapi on a private 3+3 Redis Cluster
# (tests/harness/rediscluster.py), seeded with the same scans; the admin
# routes run on both in the same rounds (issue 10).  Its mailbox routes are
# not measured: Dovecot's dict-redis reads one server.
CLUSTER = os.environ.get("IMS_BENCH_CLUSTER") == "1"
B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
USER, ADMIN, PASSWORD = "bench@example.test", "admin@example.test", "bench password 1"


def ulid(ms, n):
    t = "".join(B32[(ms >> (5 * i)) & 31] for i in range(9, -1, -1))
    return t + "".join(B32[(n >> (5 * i)) & 31] for i in range(15, -1, -1))


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def scan_json(sid, t, i, rcpt, spam):
    return {"id": sid, "time": t, "trace_id": sid, "queue_id": "Q%d" % i,
            "direction": "inbound", "client": {"ip": "198.51.100.7", "helo": "mx.example.org"},
            "mail_from": f"s{i % 500}@example.org", "rcpt": [rcpt],
            "from": f"s{i % 500}@example.org", "subject": f"scan {i}", "size": 2048,
            "verdict": "spam" if spam else "ham", "probability": 0.9 if spam else 0.1,
            "svm_score": 1.2, "score": 9.5 if spam else -0.5,
            "action": "quarantine" if spam else "accept", "reason": "",
            "symbols": [{"name": "SPF_PASS", "weight": -0.5, "detail": "ip=198.51.100.7"},
                        {"name": "SVM_SPAM" if spam else "SVM_HAM", "weight": 10 if spam else 0,
                         "detail": "p=0.9"}],
            "auth": {"spf": "pass", "dkim": [], "dmarc": "none", "dmarc_policy": "none"},
            "model_version": "bench", "timings_us": {"total": 900, "local": 400}}


def seed_mailbox(redis, dove, tmpdir):
    """10,000 messages into USER's INBOX (written as a Maildir, then imported
    with doveadm into the shipped mail format) and their scan logs and
    briefs in Redis; returns seconds taken."""
    t0 = time.time()
    now = int(time.time() * 1000)
    buf = []
    src = os.path.join(tmpdir, "seed", "Maildir")
    for d in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(src, d), exist_ok=True)
    for i in range(10000):
        t = now - 10000000 + i * 1000
        sid = ulid(t, i)
        raw = (f"X-IMS-Scan-Id: {sid}\nFrom: Sender <sender{i % 50}@example.org>\n"
               f"To: {USER}\nSubject: message {i}\nDate: Mon, 23 Nov 2026 06:00:00 +0000\n"
               f"Message-ID: <{sid}@example.org>\n\n" + "body text line\n" * 40)
        path = os.path.join(src, "cur", f"{t // 1000}.M{i}P1.bench:2,")
        with open(path, "w") as f:
            f.write(raw)
        os.utime(path, (t / 1000, t / 1000))
        log = scan_json(sid, t, i, USER, i % 5 == 0)
        buf.append(resp("SET", f"ims:{{global}}:scan:{sid}", json.dumps(log)))
        buf.append(resp("SET", f"ims:{{global}}:brief:{sid}", json.dumps(
            {k: log[k] for k in ("verdict", "action", "score", "rcpt")} | {"auth": None})))
    for root, dirs, files in os.walk(os.path.join(tmpdir, "seed")):
        for x in dirs + files:
            os.chown(os.path.join(root, x), 5000, 5000)
    os.chown(os.path.join(tmpdir, "seed"), 5000, 5000)
    r = dove.doveadm("import", "-u", USER, f"maildir:{src}", "", "mailbox", "INBOX")
    assert r.returncode == 0, r.stderr
    r = subprocess.run([*redis.cli_argv(), "--pipe"], input=b"".join(buf),
                       capture_output=True)
    assert r.returncode == 0, r.stderr
    return time.time() - t0


def seed(redis):
    """100,000 scans in the {global} slot (on a cluster: piped to the node
    that serves it, redis-cli --pipe follows no redirect)."""
    now = int(time.time() * 1000)
    buf = []
    for i in range(100000):
        t = now - 100000000 + i * 1000
        sid = ulid(t, 1000000 + i)
        spam = i % 5 == 0
        log = scan_json(sid, t, i, f"u{i % 300}@example.test", spam)
        buf.append(resp("SET", f"ims:{{global}}:scan:{sid}", json.dumps(log)))
        buf.append(resp("ZADD", "ims:{global}:scans", t, sid))
        buf.append(resp("ZADD", f"ims:{{global}}:idx:verdict:{log['verdict']}", t, sid))
        buf.append(resp("ZADD", f"ims:{{global}}:idx:action:{log['action']}", t, sid))
    data = b"".join(buf)
    t0 = time.time()
    argv = (redis.master_of_key("ims:{global}:scans").cli_argv()
            if getattr(redis, "is_cluster", False) else redis.cli_argv())
    r = subprocess.run([*argv, "--pipe"], input=data, capture_output=True)
    assert r.returncode == 0, r.stderr
    return time.time() - t0, len(data)


CPU_PIDS = {}  # name -> pid whose CPU time wrk() reports per request


def cpu_seconds(pid):
    """User + system CPU time of a process so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_of(name, pid):
    """CPU seconds of a CPU_PIDS entry: Dovecot's tree, a list of processes
    (the cluster's nodes) or one process."""
    if name == "dovecot":
        return cpu_tree_seconds(pid)
    if isinstance(pid, list):
        return sum(cpu_seconds(p) for p in pid)
    return cpu_seconds(pid)


def cpu_tree_seconds(root):
    """CPU time of a process and all its descendants, living and reaped
    (Dovecot's doveadm, auth and dict processes under its master)."""
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        procs[int(d)] = (int(fields[1]), sum(int(x) for x in fields[11:15]))
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        total += procs.get(p, (0, 0))[1]
        todo += [c for c, (pp, _) in procs.items() if pp == p]
    return total / os.sysconf("SC_CLK_TCK")


def wrk(url, token, label, conns=None, pids=None):
    script = os.path.join(os.environ["IMS_BENCH_TMP"], "auth.lua")
    with open(script, "w") as f:
        f.write(f'wrk.headers["Authorization"] = "Bearer {token}"\n')
    conns = conns or CONNS
    pids = pids or CPU_PIDS
    with open("/proc/loadavg") as f:
        load = float(f.read().split()[0])
    cpu0 = {k: cpu_of(k, p) for k, p in pids.items()}
    r = subprocess.run(["wrk", "-t1" if conns == 1 else "-t2", f"-c{conns}", f"-d{DURATION}s",
                        "--latency", "-s", script, url], capture_output=True, text=True)
    cpu = {k: cpu_of(k, p) - cpu0[k] for k, p in pids.items()}
    out = r.stdout
    nreq = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for p in ("50", "75", "90", "99"):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        v = float(m.group(1))
        lat[p] = v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    res = {"what": label, "connections": conns, "load": load, "rps": rps, "p50_ms": lat["50"], "p90_ms": lat["90"],
           "p99_ms": lat["99"], "non2xx": int(non2xx.group(1)) if non2xx else 0,
           "socket_errors": errors.group(1) if errors else ""}
    for k, secs in cpu.items():  # CPU time per request, microseconds
        res[f"{k}_cpu_us"] = round(secs * 1e6 / max(nreq, 1), 1)
    print(json.dumps(res), flush=True)
    return res


def login_cost(api):
    """Wall time of single logins (argon2id verify dominates) and of the
    libsodium hash alone, sequentially on an idle server."""
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        api.login(USER, PASSWORD)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), min(times), max(times)


def main():
    common.require("redis-server", "redis-cli", "wrk", "dovecot", "doveadm")
    with open("/proc/loadavg") as f:
        load_before = f.read().strip()
    tmp = common.TempDir("ims-bench-webapi-")
    os.environ["IMS_BENCH_TMP"] = tmp.path
    redis = Redis(tmp).start()
    api = WebAPI(tmp, redis, extra={"webapi.threads": THREADS, "log.level": "warning",
                                    "webapi.max_connections": "1024",
                                    # every connection comes from 127.0.0.1
                                    "webapi.max_connections_per_ip": "0"})
    dove = Dovecot(tmp, redis, os.path.join(api.dir, "mail"))
    cluster = api_c = None
    try:
        if CLUSTER:
            from harness.rediscluster import RedisCluster
            cluster = RedisCluster(tmp).start()
            secs, size = seed(cluster)
            print(f"cluster: seeded 100,000 scans in {secs:.1f} s", flush=True)
            api_c = WebAPI(tmp, cluster, extra=dict(api.extra)).start()
            r = api_c.request("POST", "/auth/register", {"address": ADMIN, "password": PASSWORD})
            assert r.status == 201, r
            cluster.cli("HSET", f"ims:{{{ADMIN}}}:user", "role", "admin")
            ctok = api_c.login(ADMIN, PASSWORD)["access_token"]
            assert len(api_c.request("GET", "/admin/scans", token=ctok).json()["items"]) == 50
            cpids = {"webapi": api_c.proc.pid, "redis": cluster.pids()}
        secs, size = seed(redis)
        print(f"seeded 100,000 scans ({size / 1e6:.0f} MB of commands) in {secs:.1f} s",
              flush=True)
        dove.start()
        base = dict(api.extra)

        def use_path(path):
            """(Re)starts ims-webapi reading folder pages through doveadm or
            over IMAP; returns the user's and the admin's tokens."""
            api.stop()
            api.extra = {**base, **dove.webapi_conf(imap=path == "imap")}
            api.start()
            CPU_PIDS.update({"webapi": api.proc.pid, "redis": redis.proc.pid,
                             "dovecot": dove.pid})
            if path == "seed":
                return None, None
            u = api.login(USER, PASSWORD)["access_token"]
            a = api.login(ADMIN, PASSWORD)["access_token"]
            assert len(api.request("GET", "/emails/inbox", token=u).json()["items"]) == 50
            return u, a

        use_path("seed")
        for a, role in ((USER, "user"), (ADMIN, "admin")):
            r = api.request("POST", "/auth/register", {"address": a, "password": PASSWORD})
            assert r.status == 201, r
            redis.cli("DEL", "ims:{global}:ratelimit:register:ip:127.0.0.1")
        redis.cli("HSET", f"ims:{{{ADMIN}}}:user", "role", "admin")
        secs = seed_mailbox(redis, dove, tmp.path)
        print(f"seeded 10,000 messages into Dovecot's INBOX in {secs:.1f} s", flush=True)
        utok, atok = use_path(PATHS[0])
        assert len(api.request("GET", "/admin/scans", token=atok).json()["items"]) == 50
        med, lo, hi = login_cost(api)
        print(json.dumps({"what": "login", "median_ms": round(med, 1), "min_ms": round(lo, 1),
                          "max_ms": round(hi, 1)}), flush=True)
        # one connection: the service time of a request, little disturbed by
        # the rest of the machine's load
        single = {"admin_scans": wrk(api.url("/admin/scans"), atok, "admin_scans", conns=1)}
        results = {}
        for rnd in range(ROUNDS):
            for path in PATHS:  # each round every path, under the same load
                utok, atok = use_path(path)
                label = f"inbox ({path}, 10,000 messages)"
                if rnd == 0:
                    single[label] = wrk(api.url("/emails/inbox"), utok, label, conns=1)
                for n in INBOX_CONNS:
                    results.setdefault((label, n), []).append(
                        wrk(api.url("/emails/inbox"), utok, label, conns=n))
            for label, path, tok in (("admin_scans", "/admin/scans", atok),
                                     ("admin_scans_spam", "/admin/scans?verdict=spam", atok)):
                results.setdefault((label, CONNS), []).append(wrk(api.url(path), tok, label))
                if api_c:
                    results.setdefault((label + " (3+3 cluster)", CONNS), []).append(
                        wrk(api_c.url(path), ctok, label + "_cluster", pids=cpids))
        print()
        print(f"| route (50 items per page, {THREADS} threads) | connections "
              "| requests/s | p50 ms | p90 ms | p99 ms | ims-webapi CPU us/req | redis CPU us/req "
              "| dovecot CPU us/req | load average |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for (label, n), runs in results.items():
            best = sorted(runs, key=lambda x: x["p99_ms"])[len(runs) // 2]
            print(f"| {label} | {n} | {best['rps']:.0f} | {best['p50_ms']:.2f} "
                  f"| {best['p90_ms']:.2f} | {best['p99_ms']:.2f} | {best['webapi_cpu_us']} "
                  f"| {best['redis_cpu_us']} | {best.get('dovecot_cpu_us', '-')} "
                  f"| {best['load']:.1f} |")
        for (label, n), runs in results.items():
            print(f"{label}, {n} connections, every round: p99 "
                  f"{', '.join(str(r['p99_ms']) for r in runs)} ms at load "
                  f"{', '.join(str(r['load']) for r in runs)}")
        for label, x in single.items():
            print(f"\none connection, {label}: {x['rps']:.0f} requests/s, p50 {x['p50_ms']:.2f} ms, "
                  f"p99 {x['p99_ms']:.2f} ms; CPU per request: ims-webapi {x['webapi_cpu_us']} us, "
                  f"redis-server {x['redis_cpu_us']} us, dovecot {x.get('dovecot_cpu_us', '-')} us "
                  f"(load {x['load']})")
        print(f"\nlogin (argon2id t=2, m=64 MiB, p=1): median {med:.0f} ms, min {lo:.0f}, "
              f"max {hi:.0f} (10 sequential logins)")
        with open("/proc/loadavg") as f:
            print("load after:", f.read().strip())
        print("load before:", load_before)
    finally:
        if api_c:
            api_c.stop()
        if cluster:
            cluster.stop()
        api.stop()
        dove.stop()
        redis.stop()
        tmp.close()


if __name__ == "__main__":
    main()
