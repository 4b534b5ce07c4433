#!/usr/bin/python3
"""Nothing doubled: a message the sender retries after a temporary failure is
recorded once (issue 10, docs/redis-schema.md "seen" keys), with the real parts:
Postfix + ims-milter + redis-server on loopback, smtplib as the sending MTA
(it sends the same message again after a 4xx, as an MTA's queue would; the
receiving Postfix gives the retry a new queue id).

Each case forces a real temporary failure:
  * late commit: Redis pauses writes (CLIENT PAUSE WRITE) longer than
    Postfix waits for the milter, so Postfix answers 451 while the milter's
    transaction commits afterwards; the retry must find it (one scan);
  * half-failed: the milter's ACL user may not write the {global} slot
    for a moment (ACL SETUSER), so a held message's per-user index is
    written and its global transaction refused; after the retry each
    recipient has one index entry, not one per attempt;
  * Redis down: the private redis-server is killed and started again (AOF)
    between the attempts (on the cluster: every node stopped and started).
On the Redis Cluster too (IMS_TEST_REDIS=cluster, tests/cluster.mk): the
pause on the master of the {global} slot, the ACL change on every node.
After each: one scan log, one index entry per recipient, stats and events
counted once, one delivered copy (or one held)."""
import json
import os
import smtplib
import sys
import time

TOP = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests"))
from harness import common, milter as hmilter  # noqa: E402
from harness.postfix import Postfix  # noqa: E402
from harness import redis as hredis  # noqa: E402

ALICE, CAROL = "alice@example.test", "carol@example.test"
IMS_ACL = "ims"  # the programs' ACL user (harness/redis.py)


def message(subject, phish=False):
    body = ("<p>Please log in at <a href=\"http://evil.example.net/\">"
            "www.mybank.example.com</a></p>\r\n" if phish else "Lunch at noon?\r\n")
    ctype = "text/html" if phish else "text/plain"
    return (f"From: Bob <bob@example.org>\r\nTo: {ALICE}, {CAROL}\r\nSubject: {subject}\r\n"
            "Date: Tue, 01 Dec 2026 06:00:00 +0000\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@example.org>\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: {ctype}\r\n\r\n{body}").encode()


def send(port, data):
    """One SMTP transaction from the sending MTA; (code, text) of its end."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
            s.ehlo("mx.example.org")
            s.mail("bob@example.org")
            for r in (ALICE, CAROL):
                s.rcpt(r)
            code, text = s.data(data)
            return code, text.decode(errors="replace")
    except smtplib.SMTPDataError as ex:
        return ex.smtp_code, ex.smtp_error.decode(errors="replace")
    except smtplib.SMTPServerDisconnected as ex:
        return 421, str(ex)


def wait_for(fn, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Counts:
    """What a user or an admin sees of the store, read with redis-cli."""

    def __init__(self, redis):
        self.r = redis

    def num(self, *args):
        out = self.r.cli(*args).strip()
        return int(out) if out else 0

    def scans_for(self, subject):
        """Scan logs of the message with that subject (and their ids)."""
        ids = self.r.cli("ZRANGE", "ims:{global}:scans", "0", "-1").split()
        out = []
        for sid in ids:
            j = self.r.cli("GET", f"ims:{{global}}:scan:{sid}")
            if j.strip() and json.loads(j).get("subject") == subject:
                out.append(sid)
        return out

    def snapshot(self):
        return {
            "scans": self.num("ZCARD", "ims:{global}:scans"),
            "stats_total": self.num("HGET", "ims:{global}:stats:total", "total"),
            "events": self.num("XLEN", "ims:{global}:events"),
            "held": self.num("ZCARD", "ims:{global}:quarantine"),
            "alice_held": self.num("ZCARD", f"ims:{{{ALICE}}}:quarantine"),
            "carol_held": self.num("ZCARD", f"ims:{{{CAROL}}}:quarantine"),
        }


def is_cluster(redis):
    return getattr(redis, "is_cluster", False)


def acl(redis, *rules):
    """ACL SETUSER for the programs' user on the server (every node of a
    cluster: each keeps its own users)."""
    nodes = [n for n in redis.nodes if n.alive()] if is_cluster(redis) else [redis]
    for n in nodes:
        assert n.cli("ACL", "SETUSER", IMS_ACL, *rules).strip() == "OK", n.port


def check_once(c, before, subject, held, delivered, pf):
    after = c.snapshot()
    d = {k: after[k] - before[k] for k in after}
    scans = c.scans_for(subject)
    want = {"scans": 1, "stats_total": 1, "events": 1, "held": int(held),
            "alice_held": int(held), "carol_held": int(held)}
    print(f"  {subject}: {d} scan logs {scans}")
    assert len(scans) == 1, f"{subject}: {len(scans)} scan logs, want 1"
    assert d == want, f"{subject}: recorded {d}, want {want}"
    copies = [m for m in pf.delivered() if f"Subject: {subject}\r\n" in m or
              f"Subject: {subject}\n" in m]
    assert len(copies) == int(delivered), f"{subject}: {len(copies)} delivered copies"
    for m in copies:
        assert f"X-IMS-Scan-Id: {scans[0]}" in m, f"{subject}: delivered copy names another scan"


def retry_until_accepted(pf, data, tries=20):
    for _ in range(tries):
        code, text = send(pf.port, data)
        if code == 250:
            return text
        assert 400 <= code < 500, (code, text)
        time.sleep(0.5)
    raise AssertionError(f"not accepted after {tries} tries: {code} {text}")


def late_commit(redis, pf, milter, c, held):
    """Postfix gives up on the milter (451) while Redis holds its writes;
    the transaction commits after; the retry is answered from the first."""
    subject = f"late commit {'held' if held else 'accepted'}"
    data = message(subject, phish=held)
    before = c.snapshot()
    # where the scan's {global} transaction goes
    node = redis.master_of_key("ims:{global}:scans") if is_cluster(redis) else redis
    assert node.cli("CLIENT", "PAUSE", "2500", "WRITE").strip() == "OK"
    code, text = send(pf.port, data)
    assert 400 <= code < 500, f"{subject}: first attempt {code} {text}"
    # the paused transaction commits when the pause ends
    wait_for(lambda: c.scans_for(subject), f"{subject}: the late commit")
    log_before = milter.log_text().count("event=store_duplicate")
    retry_until_accepted(pf, data)
    assert milter.log_text().count("event=store_duplicate") == log_before + 1, \
        f"{subject}: the retry was not recognised (no store_duplicate)"
    if not held:
        pf.wait_for_text(f"Subject: {subject}")
    check_once(c, before, subject, held, not held, pf)


def half_failed(redis, pf, milter, c):
    """The {global} transaction is refused while the mailboxes' are not."""
    subject = "half failed held"
    data = message(subject, phish=True)
    before = c.snapshot()
    # the programs' user may read everything and write all but {global}
    acl(redis, "resetkeys", "~ims:{alice*", "~ims:{carol*", "%R~*")
    try:
        code, text = send(pf.port, data)
    finally:
        acl(redis, "resetkeys", "~*")
    assert 400 <= code < 500, f"{subject}: first attempt {code} {text}"
    mid = c.snapshot()
    assert mid["scans"] == before["scans"] and mid["held"] == before["held"], \
        f"{subject}: the refused global transaction left {mid}"
    retries = milter.log_text().count("event=store_retry")
    retry_until_accepted(pf, data)
    assert milter.log_text().count("event=store_retry") == retries + 1, \
        f"{subject}: the retry did not reuse the first attempt's id (no store_retry)"
    check_once(c, before, subject, True, False, pf)


def redis_down(redis, pf, c):
    """The redis-server is killed between the attempts and started again."""
    subject = "redis restarted"
    data = message(subject)
    before = c.snapshot()
    redis.stop()
    code, text = send(pf.port, data)
    assert 400 <= code < 500, f"{subject}: first attempt {code} {text}"
    redis.start()  # the same port(s), data (AOF) and passwords
    c.r = redis
    retry_until_accepted(pf, data)
    pf.wait_for_text(f"Subject: {subject}")
    check_once(c, before, subject, False, True, pf)


def main():
    common.integration("redis-server", "redis-cli", "postfix", "smtp-sink")
    tmp = common.TempDir()
    redis = pf = milter = None
    rc = 0
    try:
        redis = hredis.server(tmp).start()
        model = hmilter.make_model(tmp, 1.0)
        milter = hmilter.Milter(tmp, redis, model, extra=(
            "[actions]\ntag = -1\nquarantine = 20\nreject = 100\n"
            "[scores]\nPHISH_URL_TEXT_MISMATCH = 30\n"))
        # the milter waits for Redis longer than Postfix waits for the milter
        with open(milter.conf) as f:
            conf = f.read()
        redis_timeout = redis.conf_section() + "timeout_ms = 500\n"
        assert redis_timeout in conf
        with open(milter.conf, "w") as f:
            f.write(conf.replace(redis_timeout, redis.conf_section() + "timeout_ms = 8000\n"))
        milter.start()
        pf = Postfix(tmp, milter=milter.postfix_socket,
                     extra_main="milter_content_timeout = 1s\n").start()
        c = Counts(redis)
        late_commit(redis, pf, milter, c, held=False)
        late_commit(redis, pf, milter, c, held=True)
        half_failed(redis, pf, milter, c)
        redis_down(redis, pf, c)
        print("PASS: each retried message recorded once")
    finally:
        if pf:
            pf.stop()
        if milter:
            rc = milter.stop()
            if rc != 0:
                print(milter.log_text()[-3000:])
        if redis:
            redis.stop()
        tmp.close()
    if rc != 0:
        raise SystemExit(f"ims-milter exit status {rc}")


if __name__ == "__main__":
    main()
