#!/usr/bin/python3
"""lib/store on a real Redis Cluster (3 masters + 3 replicas on loopback),
through tests/store/store-driver (one store handle for the whole test):

- commands go to the master of their key's slot (read back on that node
  directly, without redirects); per-master commands reach every master;
- a MULTI/EXEC block whose keys are in two slots is refused before anything
  is sent; blocks on different slots (ims_store_exec_all) and a plain
  pipeline across slots work;
- one slot resharded by hand: a new key during the migration follows ASK,
  the store's stale map follows MOVED once the slot has moved;
- wrong credentials are IMS_EPERM, not a retry;
- a master killed with kill -9: its slots answer IMS_ETEMP until its replica
  has taken over, then succeed on the same handle (the map read again),
  while the other masters' slots keep working.

The cluster is harness.rediscluster's (ACL users as in production)."""
import os
import subprocess
import sys
import time

from harness import common

common.integration("redis-server", "redis-cli")
DRIVER = os.path.join(common.builddir(), "tests", "store", "store-driver")
failures = []

from harness.rediscluster import RedisCluster


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


class Driver:
    def __init__(self, conf):
        self.p = subprocess.Popen([DRIVER, conf], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=None, text=True)

    def __call__(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().strip()

    def close(self):
        """Ends the driver; its exit status (the sanitizers' too: a leak or
        a use after free is not 0)."""
        self.p.stdin.close()
        return self.p.wait(timeout=30)


def slot_of(node, key):
    return int(node.cli("CLUSTER", "KEYSLOT", key).strip())


def node_id(node):
    return node.cli("CLUSTER", "MYID").strip()


def admin(node):
    """MIGRATE's AUTH2 arguments for the harness's ACL, if any."""
    pw = node.cluster._admin_password
    return ["AUTH2", "admin", pw] if pw else []


def main():
    tmp = common.TempDir()
    cl = RedisCluster(tmp).start()
    d = bad = None
    try:
        conf = tmp.join("ims.conf")
        with open(conf, "w") as f:
            f.write(cl.conf_section())
        d = Driver(conf)
        check(d("masters") == "OK 3", "three masters")
        check(d("cmd PING") == "OK PONG", "PING goes to any node")

        # routing: each key on its slot's master, read there without redirects
        keys = [f"ims:{{user{i}@example.test}}:k" for i in range(6)] + ["ims:{global}:k"]
        homes = set()
        for i, k in enumerate(keys):
            check(d(f"cmd SET {k} v{i}") == "OK OK", f"SET {k}")
            home = cl.master_of_slot(slot_of(cl.master_nodes()[0], k))
            homes.add(home.port)
            check(home.cli("GET", k).strip() == f"v{i}", f"{k} is on its slot's master")
        check(len(homes) >= 2, f"the keys spread over {len(homes)} masters")
        check(d(f"cmd GET {keys[0]}") == "OK v0", "GET reads it back")
        out = [d(f"at {i} DBSIZE") for i in range(3)]
        check(all(o.startswith("OK ") for o in out) and
              sum(int(o.split()[1]) for o in out) == len(keys), f"DBSIZE per master {out}")

        # the slot rule: refused before anything is sent
        r = d("txn SET ims:{a@x}:t 1 ; SET ims:{global}:t 1")
        check(r.startswith("ERR invalid input") and "two hash slots" in r, f"cross-slot: {r}")
        check(d("cmd EXISTS ims:{a@x}:t") == "OK 0" and d("cmd EXISTS ims:{global}:t") == "OK 0",
              "nothing of the cross-slot block was written")
        r = d("all SET ims:{a@x}:t 1 ; SET ims:{global}:t 2 ; INCR ims:{b@y}:t")
        check(r == "OK", f"blocks on three slots: {r}")
        check(d("pipe GET ims:{a@x}:t ; GET ims:{global}:t ; GET ims:{b@y}:t") == "OK 1 2 1",
              "a pipeline across slots")
        r = d("txn SET ims:{a@x}:u 1 ; INCR ims:{a@x}:u ; GET ims:{a@x}:u")
        check(r == "OK" and d("cmd GET ims:{a@x}:u") == "OK 2", "a block in one slot")
        r = d("cmd LPUSH ims:{a@x}:u x")
        check(r.startswith("ERR invalid input") and "WRONGTYPE" in r,
              f"an error reply is permanent: {r}")

        # one handle shared by threads (each its own key, spread over the masters)
        t0 = time.time()
        r = d("threads 16 100 ims:thr")
        check(r == "OK", f"16 threads x 100 rounds on one handle ({time.time() - t0:.1f}s): {r}")

        # one slot resharded: ASK during the migration, MOVED after it
        k = "ims:{reshard}:old"
        check(d(f"cmd SET {k} before") == "OK OK", "a key in the slot to move")
        any_node = cl.master_nodes()[0]
        slot = slot_of(any_node, k)
        src = cl.master_of_slot(slot)
        dst = next(n for n in cl.master_nodes() if n.port != src.port)
        dst.cli("CLUSTER", "SETSLOT", str(slot), "IMPORTING", node_id(src))
        src.cli("CLUSTER", "SETSLOT", str(slot), "MIGRATING", node_id(dst))
        r = d("cmd SET ims:{reshard}:new during")
        check(r == "OK OK", f"a new key during the migration (ASK): {r}")
        r = d("txn SET ims:{reshard}:new2 x ; EXPIRE ims:{reshard}:new2 600")
        check(r == "OK", f"a MULTI/EXEC block on a new key during the migration (ASK): {r}")
        check(d(f"cmd GET {k}") == "OK before", "an old key during the migration (source)")
        r = d(f"cmd DEL {k} ims:{{reshard}}:new")
        check(r.startswith("ERR temporary") and "TRYAGAIN" in r,
              f"keys on both sides of the migration: TRYAGAIN, retried, then temporary: {r}")
        mig = src.cli("MIGRATE", "127.0.0.1", str(dst.port), "", "0", "5000",
                      *admin(src), "KEYS", k)
        check("OK" in mig, f"MIGRATE: {mig.strip()}")
        for n in cl.master_nodes():
            n.cli("CLUSTER", "SETSLOT", str(slot), "NODE", node_id(dst))
        time.sleep(0.2)
        check(d(f"cmd GET {k}") == "OK before", "MOVED followed after the slot moved")
        check(d("cmd GET ims:{reshard}:new") == "OK during", "the ASK key is on the new master")
        check(dst.cli("GET", "ims:{reshard}:new2").strip() == "x", "so is the ASK block's")
        check(dst.cli("GET", k).strip() == "before", "the key is on the new master")
        check(d(f"txn SET {k} after ; GET {k}") == "OK" and dst.cli("GET", k).strip() == "after",
              "a block on the moved slot")

        # wrong credentials: permission denied at once
        if cl.auth:
            badconf = tmp.join("bad.conf")
            pwf = tmp.join("bad.password")
            with open(os.open(pwf, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write("wrong\n")
            with open(badconf, "w") as f:
                f.write(cl.conf_section().replace(cl.password_file, pwf))
            bad = Driver(badconf)
            r = bad("cmd GET ims:{global}:k")
            check(r.startswith("ERR permission denied"), f"wrong password: {r}")
            check(bad.close() == 0, "the driver with a wrong password exits cleanly")
            bad = None

        # failover: kill -9 the master of one key; ETEMP, then success on the
        # same handle once its replica has taken over
        fk = "ims:{failover}:n"
        check(d(f"cmd SET {fk} 0") == "OK OK", "a key on the master to kill")
        fslot = slot_of(any_node, fk)
        victim = cl.master_of_slot(fslot)
        other = next(k for k in keys
                     if cl.master_of_slot(slot_of(any_node, k)).port != victim.port)
        victim.kill()
        t0 = time.time()
        seen, other_ok, i = [], 0, 0
        while time.time() - t0 < 40:
            i += 1
            r = d(f"cmd SET {fk} {i}")
            seen.append(r.split(" ", 2)[0] + " " + (r.split(" ", 2)[1] if " " in r else ""))
            if r == "OK OK" and len(seen) > 1:
                break
            other_ok += d(f"cmd GET {other}").startswith("OK ")
            time.sleep(0.05)
        took = time.time() - t0
        temp = sum(1 for s in seen if s.startswith("ERR temporary"))
        print(f"failover: {len(seen)} tries in {took:.1f}s, {temp} temporary failures, "
              f"answers {sorted(set(seen))}")
        check(temp >= 1, "IMS_ETEMP while the slot has no master")
        check(all(s.startswith("ERR temporary") or s.startswith("OK") for s in seen),
              "only temporary failures during the failover")
        check(seen[-1].startswith("OK"), "success after the replica took over")
        check(other_ok >= min(1, len(seen) - 1), "another master's slot kept working")
        newm = cl.master_of_slot(fslot)
        check(newm is not None and newm.port != victim.port and
              newm.cli("GET", fk).strip() == str(i), "the write is on the new master")
        check(d("masters") == "OK 3", "the map has three masters again")
        rc, d = d.close(), None
        check(rc == 0, f"the driver exits cleanly (sanitizers: no leak, no bad access): {rc}")
    finally:
        if d:
            d.close()
        if bad:
            bad.close()
        cl.stop()
        tmp.close()
    if failures:
        print(f"{len(failures)} failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
