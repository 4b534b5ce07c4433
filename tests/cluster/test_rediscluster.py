#!/usr/bin/python3
"""The test harness's Redis Cluster (tests/harness/rediscluster.py): six real
redis-server processes come up as 3 masters + 3 replicas with every slot
covered and ACL auth on; keys spread over the masters; kill -9 of a master is
taken over by its replica; stop leaves no process behind."""
import os
import subprocess
import sys

from harness import common
from harness.rediscluster import RedisCluster

common.integration("redis-server", "redis-cli")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def main():
    tmp = common.TempDir("ims-cluster-test-")
    c = RedisCluster(tmp)
    try:
        c.start()
        pids = c.pids()
        check(len(pids) == 6 and all(n.alive() for n in c.nodes), "six redis-server processes")
        check(len(c.master_nodes()) == 3 and len(c.replica_nodes()) == 3,
              "3 masters and 3 replicas")
        info = c.nodes[0].info()
        check(info.get("cluster_state") == "ok" and info.get("cluster_slots_ok") == "16384",
              "cluster_state:ok, 16384 slots ok")
        check("cluster = " in c.conf_section() and f"user = {c.user}" in c.conf_section(),
              "conf_section names the seed nodes and the ACL user")
        check(oct(os.stat(c.password_file).st_mode & 0o777) == "0o600", "password file 0600")
        check(all(oct(os.stat(n.dir).st_mode & 0o777) == "0o700" for n in c.nodes),
              "data directories 0700")
        # auth is on: no password, no data; the ims user can write
        r = subprocess.run(["redis-cli", "-p", str(c.port), "GET", "x"], capture_output=True,
                           text=True)
        check("NOAUTH" in r.stdout + r.stderr, "unauthenticated client refused")
        r = subprocess.run(["redis-cli", "-c", "-p", str(c.port), "--user", c.user,
                            "--pass", c.password, "--no-auth-warning", "SET", "k{a}", "1"],
                           capture_output=True, text=True)
        check(r.stdout.strip() == "OK", "ACL user ims writes through the cluster")
        # a program reads [redis] cluster = or refuses it: never the default
        # 127.0.0.1:6379 (the machine's own Redis) in its place
        conf = tmp.join("ims.conf")
        with open(conf, "w") as f:
            f.write(c.conf_section() + "\n[milter]\nlocal_domains = example.test\n")
        ims = os.path.join(common.builddir(), "cli", "ims")
        if os.path.exists(ims):
            r = subprocess.run([ims, "-c", conf, "user", "list"], capture_output=True, text=True)
            check(r.returncode == 0 or ("6379" not in r.stderr and "cluster" in r.stderr),
                  f"ims user list on the cluster works or says why ({r.stderr.strip()[:160]})")
        for i in range(60):
            c.cli("SET", f"key:{i}", str(i))
        check(c.keys_total() == 61, f"keys_total counts keys on every master ({c.keys_total()})")
        per = [int(n.cli("DBSIZE").strip()) for n in c.master_nodes()]
        check(all(p > 0 for p in per), f"keys spread over the three masters {per}")
        check(c.cli("GET", "key:42").strip() == "42", "cli follows MOVED")
        slot = c.keyslot("key:42")
        m = c.master_of_slot(slot)
        check(m is not None and m.role() == "master", f"master_of_slot({slot}) is a master")
        # failover: kill -9 that master, its replica takes the slots
        killed = c.kill_master(m)
        c.wait_failover(killed)
        m2 = c.master_of_slot(slot)
        check(m2 is not None and m2.port != killed.port and m2.alive(),
              f"slot {slot} moved from {killed.port} to {m2 and m2.port}")
        check(c.cli("GET", "key:42").strip() == "42", "the key survives the failover")
        c.restart_node(killed)
        c.wait_ok()
        check(killed.role() == "slave", "the old master rejoins as a replica")
    finally:
        c.stop()
    alive = []
    for p in pids:
        try:
            os.kill(p, 0)
            alive.append(p)
        except ProcessLookupError:
            pass
    check(not alive, f"stop leaves no redis-server behind {alive}")
    tmp.close()
    if failures:
        print(f"{len(failures)} failed")
        sys.exit(1)


main()
