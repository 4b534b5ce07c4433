#!/usr/bin/python3
"""Nothing lost on a failover (issue 10, [redis] wait_replicas): the milter
acknowledges a message only once a replica of each master it wrote to has
the message's stores.  Real Postfix + ims-milter + redis-server: one master
with one replica (replicaof), or the harness's 3+3 cluster
(IMS_TEST_REDIS=cluster, tests/cluster.mk).

  * replica running: mail is accepted (and the scan log is on the replica);
  * replica of the {global} master stopped (SIGSTOP): the milter tempfails
    (451) instead of acknowledging, and so does a retry that finds the
    first attempt's scan (it waits for the replica again);
  * replica continued (SIGCONT): the retry is accepted and recorded once."""
import os
import signal
import sys
import time

TOP = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests"))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
from harness import common, milter as hmilter  # noqa: E402
from harness.postfix import Postfix  # noqa: E402
from harness import redis as hredis  # noqa: E402
from test_idempotency import Counts, check_once, message, send  # noqa: E402


def replica_of_global(redis, replica):
    """The replica of the master that takes the scans' {global} block."""
    if replica:
        return replica
    master = redis.master_of_key("ims:{global}:scans")
    for n in redis.replica_nodes():
        if n.info("replication").get("master_port") == str(master.port):
            return n
    raise AssertionError(f"no replica of {master.port}")


def main():
    common.integration("redis-server", "redis-cli", "postfix", "smtp-sink")
    tmp = common.TempDir()
    redis = replica = pf = milter = None
    rc = 0
    try:
        redis = hredis.server(tmp).start()
        if not getattr(redis, "is_cluster", False):
            replica = hredis.Redis(tmp, replica_of=redis).start().wait_synced()
        model = hmilter.make_model(tmp, 1.0)
        milter = hmilter.Milter(tmp, redis, model)
        with open(milter.conf) as f:
            conf = f.read()
        timeout = redis.conf_section() + "timeout_ms = 500\n"
        assert timeout in conf
        with open(milter.conf, "w") as f:
            f.write(conf.replace(timeout, timeout + "wait_replicas = 1\nwait_timeout_ms = 200\n"))
        milter.start()
        pf = Postfix(tmp, milter=milter.postfix_socket).start()
        c = Counts(redis)

        # replicas running: accepted, and the replica has the scan log
        before = c.snapshot()
        code, text = send(pf.port, message("replicated"))
        assert code == 250, f"replica running: {code} {text}"
        pf.wait_for_text("Subject: replicated")
        check_once(c, before, "replicated", False, True, pf)
        rep = replica_of_global(redis, replica)
        sid = c.scans_for("replicated")[0]
        # a cluster replica answers reads after READONLY (one connection)
        got = rep.cli("GET", f"ims:{{global}}:scan:{sid}") if replica else "x"
        assert got.strip(), "the acknowledged scan log is not on the replica"

        # the replica stopped: 451, the first attempt's scan not acknowledged
        subject = "replica stopped"
        data = message(subject)
        before = c.snapshot()
        os.kill(rep.proc.pid, signal.SIGSTOP)
        try:
            code, text = send(pf.port, data)
            assert 400 <= code < 500, f"replica stopped: first attempt {code} {text}"
            assert "replicas acknowledged" in milter.log_text(), "no WAIT failure logged"
            code, text = send(pf.port, data)  # the retry finds the scan: waits again
            assert 400 <= code < 500, f"replica stopped: retry {code} {text}"
        finally:
            os.kill(rep.proc.pid, signal.SIGCONT)
        dups = milter.log_text().count("event=store_duplicate")
        for _ in range(20):
            code, text = send(pf.port, data)
            if code == 250:
                break
            time.sleep(0.5)
        assert code == 250, f"replica continued: {code} {text}"
        # one Redis: the first attempt's blocks ran (WAIT fell short), the
        # retry finds its scan.  On the cluster a recipient's block on the
        # same master may have failed first (the {global} block then is
        # never sent) and the retry stores anew: once, either way
        if replica:
            events = [ln for ln in milter.log_text().splitlines() if "event=store_" in ln]
            assert milter.log_text().count("event=store_duplicate") == dups + 1, \
                "the retry did not find the first attempt:\n" + "\n".join(events[-6:])
        pf.wait_for_text(f"Subject: {subject}")
        check_once(c, before, subject, False, True, pf)
        print("PASS: acknowledged only once a replica has the stores")
    finally:
        if pf:
            pf.stop()
        if milter:
            rc = milter.stop()
            if rc != 0:
                print(milter.log_text()[-3000:])
        if replica:
            replica.stop()
        if redis:
            redis.stop()
        tmp.close()
    if rc != 0:
        raise SystemExit(f"ims-milter exit status {rc}")


if __name__ == "__main__":
    main()
