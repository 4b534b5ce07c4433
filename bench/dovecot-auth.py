#!/usr/bin/python3
"""Dovecot logins on the ims user registry: dict-redis (dict-ims.conf.ext)
against ims-checkpassword (auth-ims-checkpassword.conf.ext, the path for a
registry on a Redis Cluster), on one redis-server, in the same run.

A private redis-server and Dovecot (tests/harness), IMS_BENCH_USERS accounts
made with `ims user add`; for each driver IMS_BENCH_LOGINS IMAP LOGIN +
LOGOUT from IMS_BENCH_CLIENTS parallel clients (imaplib).  Prints logins/s
and the CPU per login of Dovecot's auth processes (their own time and that
of the ims-checkpassword children they reaped, /proc/PID/stat) and of
redis-server.  Needs root (a private Dovecot); run from a build dir
configured without sanitizers:
  cd build-rel && top_srcdir=.. top_builddir=$PWD python3 ../bench/dovecot-auth.py
IMS_BENCH_CLUSTER=1 adds ims-checkpassword on a 3-master, 3-replica Redis
Cluster (Redis CPU summed over its six nodes).  Prints one JSON object."""
import imaplib
import json
import os
import platform
import subprocess
import sys
import threading
import time

TOP = os.environ.get("top_srcdir", ".")
sys.path.insert(0, os.path.join(TOP, "tests"))
from harness import common  # noqa: E402
from harness.dovecot import Dovecot  # noqa: E402
from harness.redis import Redis  # noqa: E402
from harness.rediscluster import RedisCluster  # noqa: E402

USERS = int(os.environ.get("IMS_BENCH_USERS", "20"))
LOGINS = int(os.environ.get("IMS_BENCH_LOGINS", "200"))
CLIENTS = int(os.environ.get("IMS_BENCH_CLIENTS", "2"))
# IMS_BENCH_CLUSTER=1: ims-checkpassword on a 3+3 Redis Cluster as a third run
CLUSTER = os.environ.get("IMS_BENCH_CLUSTER", "") == "1"
PW = "bench password 1"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid, children=True):
    """utime + stime (+ cutime + cstime: reaped children) of pid, seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            f = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    t = int(f[11]) + int(f[12])
    if children:
        t += int(f[13]) + int(f[14])
    return t / TICK


def auth_pids(master):
    """Dovecot's auth and auth-worker processes (children of master)."""
    out = subprocess.run(["ps", "--ppid", str(master), "-o", "pid=,comm="], capture_output=True,
                         text=True).stdout
    return [int(p) for p, c in (line.split(None, 1) for line in out.splitlines())
            if c.strip().startswith("auth")]


def run_logins(port, n, clients):
    errors = []

    def client(k):
        for i in range(k, n, clients):
            try:
                m = imaplib.IMAP4("127.0.0.1", port)
                m.login(f"u{i % USERS}@example.test", PW)
                m.logout()
            except Exception as e:  # noqa: BLE001 (counted, reported)
                errors.append(str(e))

    ts = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - t0, errors


def redis_pids(r):
    """The redis-server processes of r (one, or every node of a cluster)."""
    if getattr(r, "is_cluster", False):
        return [n.proc.pid for n in r.nodes if n.proc]
    return [r.proc.pid]


def measure(r, driver):
    # one Dovecot at a time, each in a directory of its own
    tmp = common.TempDir(f"ims-bench-{driver}-")
    dove = Dovecot(tmp, r, tmp.join("mail"), auth=driver,
                   extra="service auth {\n  vsz_limit = 0\n}\n")
    dove.start()
    try:
        run_logins(dove.imap_port, 2, 1)  # warm: auth process up, Redis connected
        pids = auth_pids(dove.pid)
        c0 = sum(cpu_s(p) for p in pids)
        r0 = sum(cpu_s(p, children=False) for p in redis_pids(r))
        secs, errors = run_logins(dove.imap_port, LOGINS, CLIENTS)
        pids2 = auth_pids(dove.pid)
        c1 = sum(cpu_s(p) for p in pids2)
        r1 = sum(cpu_s(p, children=False) for p in redis_pids(r))
    finally:
        dove.stop()
        tmp.close()
    ok = LOGINS - len(errors)
    return {"driver": driver, "redis": "cluster 3+3" if getattr(r, "is_cluster", False)
            else "one redis-server", "logins": LOGINS, "failed": len(errors),
            "first_error": errors[0] if errors else None,
            "seconds": round(secs, 2), "logins_per_s": round(ok / secs, 1),
            "auth_cpu_ms_per_login": round((c1 - c0) * 1000 / max(ok, 1), 1),
            "redis_cpu_ms_per_login": round((r1 - r0) * 1000 / max(ok, 1), 2),
            "auth_processes_before_after": [len(pids), len(pids2)]}


def main():
    if os.geteuid() != 0:
        sys.exit("bench: needs root (a private Dovecot)")
    ims = os.path.join(common.builddir(), "cli", "ims")
    tmp = common.TempDir("ims-bench-auth-")
    r = Redis(tmp).start()
    res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "machine": f"{platform.node()} {os.cpu_count()} cores", "users": USERS,
           "clients": CLIENTS, "loadavg_start": os.getloadavg()[0]}
    try:
        conf = tmp.join("ims.conf")
        with open(conf, "w") as f:
            f.write(r.conf_section() + "\n[milter]\nlocal_domains = example.test\n")
        for i in range(USERS):
            common.run([ims, "-c", conf, "user", "add", f"u{i}@example.test"], input=PW + "\n")
        res["runs"] = [measure(r, d) for d in ("dict", "checkpassword")]
        if CLUSTER:
            c = RedisCluster(tmp).start()
            try:
                cconf = tmp.join("cluster.conf")
                with open(cconf, "w") as f:
                    f.write(c.conf_section() + "\n[milter]\nlocal_domains = example.test\n")
                for i in range(USERS):
                    common.run([ims, "-c", cconf, "user", "add", f"u{i}@example.test"],
                               input=PW + "\n")
                res["runs"].append(measure(c, "checkpassword"))
            finally:
                c.stop()
    finally:
        r.stop()
        tmp.close()
    res["loadavg_end"] = os.getloadavg()[0]
    print(json.dumps(res, indent=1))


main()
