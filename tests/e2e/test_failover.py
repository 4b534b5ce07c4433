#!/usr/bin/python3
"""Failover under load (issue 10): nothing lost, nothing doubled, nothing
unscanned when a Redis Cluster master dies.

Real parts on loopback: a 3-master + 3-replica Redis Cluster
(tests/harness/rediscluster.py), two ims-milter instances sharing it, each
behind its own receiving Postfix (delivery to an smtp-sink), and two sending
Postfix instances (no milter, short retry times) that relay to them, as the
Internet's MTAs would.  Two smtplib threads hand a few thousand small messages
(IMS_FAILOVER_MESSAGES, default 2000) to the senders; once a quarter of them
are delivered, the master serving the {global} slot (every scan log) is killed
with SIGKILL and its replica takes over.  Meanwhile the milters answer 451
and the senders retry; ims-webapi on the same cluster is polled on an admin
route and must answer 503 with Retry-After, never 500.

After the queues drain it prints sent / accepted / delivered / scans stored /
duplicates / lost / unscanned and fails unless lost, unscanned and duplicates
are 0.  One message in ten is held (a link whose text names another host)
for two local recipients: it must be in the quarantine once, and in each
recipient's quarantine index once, however its attempts failed.  Bounded:
the queues must drain within IMS_FAILOVER_DRAIN_S (150 s)."""
import glob
import json
import os
import re
import smtplib
import subprocess
import sys
import threading
import time

TOP = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests"))
from harness import common, milter as hmilter  # noqa: E402
from harness.postfix import Postfix  # noqa: E402
from harness.rediscluster import RedisCluster  # noqa: E402
from harness.webapi import WebAPI  # noqa: E402

N = int(os.environ.get("IMS_FAILOVER_MESSAGES", "2000"))
DRAIN_S = float(os.environ.get("IMS_FAILOVER_DRAIN_S", "150"))
SENDERS = 2
ADMIN, PASSWORD = "root@example.test", "failover-admin-pw-1"
GLOBAL = "ims:{global}:scans"
ALICE, CAROL = "alice@example.test", "carol@example.test"
MILTER_CONF = ("[actions]\ntag = -1\nquarantine = 20\nreject = 100\n"
               "[scores]\nPHISH_URL_TEXT_MISMATCH = 30\n")
# the sending MTAs retry a 451 after a second or two, not minutes
RETRY_FAST = ("queue_run_delay = 1s\nminimal_backoff_time = 1s\nmaximal_backoff_time = 2s\n"
              "smtp_connect_timeout = 5s\n")


def held(i):
    return i % 10 == 0


def rcpts(i):
    return [ALICE, CAROL] if held(i) else [ALICE]


def message(i):
    head = (f"From: Bob <bob@example.org>\r\nTo: {', '.join(rcpts(i))}\r\nSubject: fo {i}\r\n"
            "Date: Tue, 01 Dec 2026 06:00:00 +0000\r\n"
            f"Message-ID: <fo-{i}@example.org>\r\n")
    if held(i):
        return (head + "MIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n"
                f"<p>Message {i}: log in at <a href=\"http://evil.example.net/\">"
                "www.mybank.example.com</a></p>\r\n").encode()
    return (head + f"\r\nMessage number {i}.\r\n").encode()


def hand_over(port, numbers, sent, errors):
    """The sending side: every message handed to a sending Postfix (which
    then owns it); 20 per SMTP session."""
    numbers = list(numbers)
    while numbers:
        batch, numbers = numbers[:20], numbers[20:]
        try:
            # a loaded machine (the 2 shared cores) can keep a Postfix
            # smtpd waiting for a minute
            with smtplib.SMTP("127.0.0.1", port, timeout=300) as s:
                s.ehlo("client.example.org")
                for i in batch:
                    s.sendmail("bob@example.org", rcpts(i), message(i))
                    sent.append(i)
        except (smtplib.SMTPException, OSError) as ex:
            errors.append(f"{batch[0]}..: {ex}")
            return


def sink_files(pfs):
    return [p for pf in pfs for p in glob.glob(os.path.join(pf.maildir, "*"))]


def read_delivered(pfs):
    """{message number: [scan id of each delivered copy]}.  smtp-sink writes
    a file as the message comes in: the caller waits for the queues first."""
    out = {}
    for p in sink_files(pfs):
        with open(p, "rb") as f:
            head = f.read(8192).decode("utf-8", "replace")
        m = re.search(r"^Message-ID: <fo-(\d+)@example\.org>", head, re.M | re.I)
        if not m:
            continue
        sid = re.search(r"^X-IMS-Scan-Id: (\S+)", head, re.M | re.I)
        out.setdefault(int(m.group(1)), []).append(sid.group(1) if sid else None)
    return out


def read_scans(cluster):
    """{scan id: scan log} of every scan in the {global} slot (one node holds
    them all: read with one redis-cli and a pipe of GETs)."""
    node = cluster.master_of_key(GLOBAL)
    ids = node.cli("ZRANGE", GLOBAL, "0", "-1", timeout=60).split()
    if not ids:
        return {}
    cmds = "".join(f"GET ims:{{global}}:scan:{i}\n" for i in ids)
    r = subprocess.run(node.cli_argv(), input=cmds, capture_output=True, text=True,
                       timeout=120)
    logs = r.stdout.split("\n")
    out = {}
    for sid, line in zip(ids, logs):
        if line.strip():
            out[sid] = json.loads(line)
    return out


def poll_webapi(api, token, stop, seen):
    """An admin route every 100 ms: (time, status, Retry-After)."""
    while not stop.is_set():
        try:
            r = api.request("GET", "/admin/stats", token=token)
            seen.append((time.time(), r.status, r.headers.get("Retry-After")))
        except OSError as ex:  # no answer at all is a failure too
            seen.append((time.time(), 0, str(ex)))
        time.sleep(0.1)


def queues_empty(pfs):
    return not any(pf.queue_ids() for pf in pfs)


def count_log(pfs, needle):
    return sum(pf.log_text().count(needle) for pf in pfs)


def main():
    common.integration("redis-server", "redis-cli", "postfix", "smtp-sink")
    tmp = common.TempDir()
    cluster = api = None
    milters, receivers, senders = [], [], []
    rcs = []
    t_start = time.time()
    try:
        cluster = RedisCluster(tmp).start()
        model = hmilter.make_model(tmp, 1.0)
        for _ in range(2):
            m = hmilter.Milter(tmp, cluster, model, extra=MILTER_CONF).start()
            milters.append(m)
            receivers.append(Postfix(tmp, milter=m.postfix_socket).start())
        for r in receivers:
            senders.append(Postfix(tmp, relay_port=r.port, extra_main=RETRY_FAST).start())
        api = WebAPI(tmp, cluster).start()
        r = api.request("POST", "/auth/register", {"address": ADMIN, "password": PASSWORD})
        assert r.status == 201, r
        cluster.cli("HSET", f"ims:{{{ADMIN}}}:user", "role", "admin")
        token = api.login(ADMIN, PASSWORD)["access_token"]
        r = api.request("GET", "/admin/stats", token=token)
        assert r.status == 200, f"the web API on the cluster before the failover: {r}"

        sent, errors, polled = [], [], []
        stop = threading.Event()
        poller = threading.Thread(target=poll_webapi, args=(api, token, stop, polled))
        poller.start()
        threads = [threading.Thread(target=hand_over,
                                    args=(senders[k].port, range(k, N, SENDERS), sent, errors))
                   for k in range(SENDERS)]
        for t in threads:
            t.start()

        # kill the {global} slot's master once a quarter is through
        deadline = time.time() + DRAIN_S
        while len(sink_files(receivers)) < N // 4 and time.time() < deadline:
            time.sleep(0.2)
        victim = cluster.master_of_key(GLOBAL)
        t_kill = time.time()
        print(f"killing master 127.0.0.1:{victim.port} (slot of {{global}}) after "
              f"{len(sink_files(receivers))} deliveries, {t_kill - t_start:.1f} s in")
        cluster.kill_master(victim)
        cluster.wait_failover(killed=victim, timeout=60)
        t_over = time.time()
        print(f"replica took over after {t_over - t_kill:.1f} s")

        for t in threads:
            t.join()
        assert not errors, f"the sending Postfix refused messages: {errors[:3]}"
        while time.time() < deadline and not (
                queues_empty(senders + receivers) and
                len(sink_files(receivers)) >= sum(not held(i) for i in sent)):
            time.sleep(0.5)
        time.sleep(1)  # smtp-sink finishes its last files
        stop.set()
        poller.join()
        drained = queues_empty(senders + receivers)

        delivered = read_delivered(receivers)
        scans = read_scans(cluster)
        by_msg = {}
        tempfail_scans = 0
        for sid, log in scans.items():
            m = re.fullmatch(r"fo (\d+)", log.get("subject", ""))
            if not m:
                continue
            if log.get("action") == "tempfail":
                tempfail_scans += 1
                continue
            by_msg.setdefault(int(m.group(1)), []).append(sid)
        copies = sum(len(v) for v in delivered.values())
        dup_delivered = sum(len(v) - 1 for v in delivered.values() if len(v) > 1)
        dup_scans = sum(len(v) - 1 for v in by_msg.values() if len(v) > 1)
        # held: in the quarantine (global index) once, in each recipient's once
        qids = cluster.cli("ZRANGE", "ims:{global}:quarantine", "0", "-1").split()
        in_quarantine = {}
        for q in qids:
            m = re.fullmatch(r"fo (\d+)", scans.get(q, {}).get("subject", ""))
            in_quarantine.setdefault(int(m.group(1)) if m else -1, []).append(q)
        want_held = [i for i in sent if held(i)]
        user_entries = {u: int(cluster.cli("ZCARD", f"ims:{{{u}}}:quarantine").strip() or 0)
                        for u in (ALICE, CAROL)}
        dup_held = sum(len(v) - 1 for v in in_quarantine.values() if len(v) > 1) + \
            sum(max(0, n - len(want_held)) for n in user_entries.values())
        lost = [i for i in sent if i not in (in_quarantine if held(i) else delivered)]
        unscanned = [i for i, sids in delivered.items()
                     if any(s is None or s not in scans or
                            scans[s].get("subject") != f"fo {i}" for s in sids)]
        # messages the receivers took (one log line per recipient)
        accepted = len({m for pf in senders for m in re.findall(
            r" ([0-9A-Za-z]+): to=<[^>]*>,.* status=sent", pf.log_text())})
        retries = {e: sum(m.log_text().count(f"event={e}") for m in milters)
                   for e in ("store_duplicate", "store_retry")}
        tempfails = count_log(receivers, "milter-reject: END-OF-MESSAGE")
        codes = {}
        for _, st, _ in polled:
            codes[st] = codes.get(st, 0) + 1
        print(f"sent {len(sent)} / accepted {accepted} / delivered {len(delivered)} "
              f"({copies} copies) + held {len(in_quarantine)} / scans stored "
              f"{sum(len(v) for v in by_msg.values())} / "
              f"duplicates {dup_delivered + dup_scans + dup_held} / lost {len(lost)} / "
              f"unscanned {len(unscanned)}")
        print(f"held for {len(want_held)} messages: global index {len(qids)}, "
              f"recipients' indexes {user_entries}")
        print(f"451s during the gap: {tempfails}; retries recognised: {retries}; "
              f"tempfail scan logs: {tempfail_scans}; "
              f"web API answers {codes}; drained after {time.time() - t_start:.1f} s")

        assert drained, f"queues not drained after {DRAIN_S:.0f} s"
        assert len(sent) == N, f"handed over {len(sent)} of {N}"
        assert not lost, f"lost {len(lost)}: {lost[:10]}"
        assert not unscanned, f"unscanned {len(unscanned)}: {unscanned[:10]}"
        assert dup_delivered == 0, f"{dup_delivered} messages delivered twice"
        assert dup_scans == 0, f"{dup_scans} messages with two scan logs"
        assert dup_held == 0 and -1 not in in_quarantine, \
            f"held twice or without a scan log: {len(qids)} held, indexes {user_entries}, " \
            f"{len(want_held)} messages to hold"
        assert all(n == len(want_held) for n in user_entries.values()), \
            f"recipients' quarantine indexes {user_entries}, want {len(want_held)} each"
        assert tempfails > 0, "no 451 while the {global} slot had no master: nothing tested"
        bad = [(round(t - t_kill, 1), st, ra) for t, st, ra in polled
               if st not in (200, 503) or (st == 503 and not ra)]
        assert not bad, f"the web API during the failover (s after the kill, status, " \
            f"Retry-After): {bad[:10]}"
        assert any(st == 200 for t, st, _ in polled if t > t_over), \
            "the web API did not answer 200 after the failover"
        print("PASS: failover under load: nothing lost, doubled or unscanned")
    finally:
        for pf in senders + receivers:
            pf.stop()
        for m in milters:
            rc = m.stop()
            rcs.append(rc)
            if rc != 0:
                print(m.log_text()[-3000:])
        if api:
            api.stop()
        if cluster:
            cluster.stop()
        tmp.close()
    if any(rcs):
        raise SystemExit(f"ims-milter exit status {rcs}")


if __name__ == "__main__":
    main()
