#!/usr/bin/python3
"""Admin routes of ims-webapi against a real redis-server: scans with every
filter and pagination, one scan, stats, quarantine and release (delivered
through an SMTP listener, recorded, audited), audit JSON and CSV, users,
/health and /metrics, and draining on SIGTERM."""
import csv
import io
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixtures import Env, PASSWORD, run  # noqa: E402
sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from harness.smtpsink import SmtpSink  # noqa: E402

env = sink = None
ADMIN = "root@example.test"
admin = None


def get(path, tok=None):
    r = env.api.request("GET", path, token=tok or admin)
    assert r.status == 200, (path, r)
    return r.json()


def test_scans_filters_and_pages():
    global admin
    admin = env.add_user(ADMIN, role="admin")["access_token"]
    now = int(time.time() * 1000)
    ids = {}
    for i in range(30):
        spam = i % 3 == 0
        ids[i] = env.store("bob@example.test" if i % 2 else "carol@example.test",
                           f"sender{i % 4}@example.org", f"s{i}", t=now - 60000 + i * 100,
                           verdict="spam" if spam else "ham",
                           action="quarantine" if spam else "accept", score=10.0 if spam else 0,
                           symbols=(("SVM_SPAM", 9.0),) if spam else (("SPF_PASS", -0.5),),
                           quarantine=spam)
    all_ids, cursor = [], None
    while True:
        p = get("/admin/scans?limit=8" + (f"&cursor={cursor}" if cursor else ""))
        all_ids += [s["id"] for s in p["items"]]
        cursor = p["next_cursor"]
        if not cursor:
            break
    assert len(all_ids) == 30 and set(all_ids) == set(ids.values())
    assert get("/admin/scans?limit=1")["items"][0]["id"] == ids[29]
    spam = get("/admin/scans?verdict=spam&limit=100")["items"]
    assert len(spam) == 10 and all(s["verdict"] == "spam" for s in spam)
    assert len(get("/admin/scans?action=quarantine&limit=100")["items"]) == 10
    assert len(get("/admin/scans?symbol=SVM_SPAM&limit=100")["items"]) == 10
    assert len(get("/admin/scans?symbol=SVM_SPAM&verdict=ham&limit=100")["items"]) == 0
    s1 = get("/admin/scans?sender=sender1@example.org&limit=100")["items"]
    assert len(s1) == 8 and all(s["mail_from"] == "sender1@example.org" for s in s1)
    r = get("/admin/scans?recipient=BOB@example.test&action=accept&limit=100")["items"]
    assert len(r) == 10 and all(s["rcpt"] == ["bob@example.test"] for s in r), len(r)
    window = get(f"/admin/scans?from={now - 60000 + 1000}&to={now - 60000 + 1950}&limit=100")
    assert len(window["items"]) == 10, len(window["items"])
    # filtered pages, small: every match once
    got, cursor = [], None
    while True:
        p = get("/admin/scans?verdict=spam&limit=3" + (f"&cursor={cursor}" if cursor else ""))
        got += [s["id"] for s in p["items"]]
        cursor = p["next_cursor"]
        if not cursor:
            break
    assert sorted(got) == sorted(s["id"] for s in spam)
    for bad in ("verdict=a%20b", "from=yesterday", "limit=0", "cursor=bad", "symbol=" + "X" * 80):
        r = env.api.request("GET", "/admin/scans?" + bad, token=admin)
        assert r.status == 400, (bad, r)
    d = get(f"/admin/scans/{ids[3]}")
    assert d["id"] == ids[3] and d["symbols"][0]["name"] == "SVM_SPAM" and "auth" in d
    assert "timings_us" in d
    assert env.api.request("GET", "/admin/scans/01ZZZZZZZZZZZZZZZZZZZZZZZZ",
                           token=admin).status == 404


def test_stats():
    s = get("/admin/stats")
    assert s["totals"]["total"] >= 30, s["totals"]
    assert s["totals"]["action:quarantine"] >= 10
    assert s["top_symbols"][0]["name"] in ("SPF_PASS", "SVM_SPAM")
    assert {x["name"] for x in s["top_senders"]} >= {"sender0@example.org"}
    assert len(s["buckets"]) in (24, 25)
    d = get("/admin/stats?bucket=day")
    assert d["bucket"] == "day" and sum(b["total"] for b in d["buckets"]) >= 30
    assert env.api.request("GET", "/admin/stats?bucket=week", token=admin).status == 400
    assert env.api.request("GET", "/admin/stats?from=0", token=admin).status == 400


def test_quarantine_and_release():
    q = get("/admin/quarantine?limit=100")["items"]
    assert len(q) == 10 and all(x["released_by"] is None for x in q)
    assert q[0]["subject"] and q[0]["score"] == 10.0
    mid = q[0]["id"]
    rcpt = q[0]["rcpt"]
    # the recipient's copy sits in their quarantine folder
    env.cli("ZADD", f"ims:{{{rcpt}}}:quarantine", "1", mid)
    env.cli("ZREM", f"ims:{{{rcpt}}}:inbox", mid)
    env.cli("HSET", f"ims:{{{rcpt}}}:msg:{mid}", "folder", "quarantine")
    r = env.api.request("POST", f"/admin/quarantine/{mid}/release", token=admin)
    assert r.status == 200, r
    assert r.json()["released_by"] == ADMIN
    m = sink.messages[-1]
    assert m["rcpts"] == [rcpt] and m["from"].startswith("sender")
    assert env.cli("HGET", f"ims:{{global}}:qmsg:{mid}", "released_by").strip() == ADMIN
    assert env.cli("ZSCORE", "ims:{global}:quarantine", mid).strip() == ""
    assert env.cli("ZSCORE", f"ims:{{{rcpt}}}:inbox", mid).strip() != ""
    assert env.cli("HGET", f"ims:{{{rcpt}}}:msg:{mid}", "folder").strip() == "inbox"
    r = env.api.request("POST", f"/admin/quarantine/{mid}/release", token=admin)
    assert r.status == 409, r
    assert env.api.request("POST", "/admin/quarantine/01ZZZZZZZZZZZZZZZZZZZZZZZZ/release",
                           token=admin).status == 404
    assert len(get("/admin/quarantine?limit=100")["items"]) == 9
    # reinject down: 503 and nothing recorded
    other = get("/admin/quarantine?limit=1")["items"][0]["id"]
    sink.stop()
    r = env.api.request("POST", f"/admin/quarantine/{other}/release", token=admin)
    assert r.status == 503, r
    assert env.cli("HGET", f"ims:{{global}}:qmsg:{other}", "released_by").strip() == ""
    sink.start()


def test_audit_and_users():
    r = env.api.request("POST", "/admin/users", {"address": "New@Example.test",
                                                 "password": PASSWORD, "role": "admin"},
                        token=admin)
    assert r.status == 201 and r.json() == {"address": "new@example.test", "role": "admin"}, r
    assert env.api.request("POST", "/admin/users", {"address": "new@example.test",
                                                    "password": PASSWORD},
                           token=admin).status == 409
    assert env.api.request("POST", "/admin/users", {"address": "x@other.org",
                                                    "password": PASSWORD},
                           token=admin).status == 400
    assert env.api.request("POST", "/admin/users", {"address": "y@example.test",
                                                    "password": PASSWORD, "role": "god"},
                           token=admin).status == 400
    users, cursor = [], None
    while True:
        p = get("/admin/users?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        users += p["items"]
        cursor = p["next_cursor"]
        if not cursor:
            break
    by = {u["address"]: u for u in users}
    assert by["new@example.test"]["role"] == "admin" and by[ADMIN]["role"] == "admin"
    assert by["new@example.test"]["disabled"] is False and by[ADMIN]["created"] > 0
    ev = get("/admin/audit?type=admin&limit=50")["items"]
    ops = [e["op"] for e in ev]
    assert ops[0] == "user.create" and "quarantine.release" in ops, ops
    assert ev[0]["actor"] == ADMIN and ev[0]["target"] == "new@example.test"
    scans = get("/admin/audit?type=scan&limit=5")
    assert len(scans["items"]) == 5 and all(e["type"] == "scan" for e in scans["items"])
    p1 = get("/admin/audit?limit=4")
    p2 = get(f"/admin/audit?limit=4&cursor={p1['next_cursor']}")
    assert not {e["stream_id"] for e in p1["items"]} & {e["stream_id"] for e in p2["items"]}
    r = env.api.request("GET", "/admin/audit?format=csv&limit=1000", token=admin)
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.body.decode())))
    assert rows[0]["op"] == "user.create" and any(x["type"] == "scan" for x in rows)
    # the export itself is audited
    assert get("/admin/audit?type=admin&limit=1")["items"][0]["op"] == "audit.export"
    assert env.api.request("GET", "/admin/audit?format=xml", token=admin).status == 400


def test_health_and_metrics():
    h = get("/health")
    assert h["status"] == "ok" and h["redis"] == "ok"
    assert h["milter_model_version"] == "test-model-1", h  # the newest scan's
    assert h["model_version"] is None and h["model_error"], h  # no [classifier] model here
    r = env.api.request("GET", "/metrics")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
    text = r.body.decode()
    assert 'ims_webapi_requests_total{route="admin_scans",status="200"}' in text
    assert 'ims_webapi_request_duration_seconds_bucket{route="admin_scans",status="200",' \
           'le="+Inf"}' in text
    assert 'ims_webapi_requests_total{route="admin_scans",status="400"}' in text
    assert "ims_scans_total 30" in text, text[-800:]
    assert 'ims_scans_by_action_total{action="quarantine"} 10' in text
    assert 'ims_scans_by_verdict_total{verdict="spam"} 10' in text
    assert 'ims_scan_symbols_total{symbol="SVM_SPAM"} 10' in text


def test_redis_down_is_503():
    env.redis.stop()
    r = env.api.request("GET", "/health")
    assert r.status == 503 and r.json()["error"], r
    r = env.api.request("GET", "/admin/stats", token=admin)
    assert r.status == 503, r
    env.redis.proc = None
    env.redis.start()
    deadline = time.time() + 5
    while env.api.request("GET", "/health").status != 200 and time.time() < deadline:
        time.sleep(0.1)
    assert env.api.request("GET", "/admin/stats", token=admin).status == 200


def test_sigterm_drains():
    """A request in flight when SIGTERM arrives still gets its answer."""
    body = b'{"address": "root@example.test", "password": "correct horse battery"}'
    s = socket.create_connection(("127.0.0.1", env.api.port))
    s.sendall(b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
    time.sleep(0.3)
    os.kill(env.api.proc.pid, signal.SIGTERM)
    time.sleep(0.3)
    s.sendall(body[10:])
    s.settimeout(10)
    reply = s.recv(65536)
    s.close()
    assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
    env.api.proc.wait(timeout=15)
    assert env.api.proc.returncode == 0, env.api.proc.returncode
    # new connections are refused once it is gone
    try:
        socket.create_connection(("127.0.0.1", env.api.port), timeout=1).close()
        raise AssertionError("still accepting")
    except OSError:
        pass
    assert "event=stopped" in env.api.log()


def main():
    global env, sink
    sink = SmtpSink().start()
    try:
        with Env(extra={"webapi.reinject": sink.url()}) as e:
            env = e
            run([test_scans_filters_and_pages, test_stats, test_quarantine_and_release,
                 test_audit_and_users, test_health_and_metrics, test_redis_down_is_503,
                 test_sigterm_drains])
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
