#!/usr/bin/python3
"""Admin routes of ims-webapi against a real redis-server: scans with every
filter and pagination, one scan, stats, quarantine preview, release
(delivered to an LMTP listener, recorded, audited, reported as not spam)
and delete, users' own held messages, audit JSON and CSV, users,
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
from fixtures import Env, PASSWORD, message, run, scan_log, ulid  # noqa: E402
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
    assert q[0]["subject"] and q[0]["score"] == 10.0 and q[0]["class"] == "score"
    mid = q[0]["id"]
    rcpt = q[0]["rcpt"]
    # preview: headers and the sanitised text of the held copy
    p = get(f"/admin/quarantine/{mid}")
    assert p["message"]["subject"] == q[0]["subject"], p
    assert any(h["name"] == "Subject" for h in p["message"]["headers"]), p
    assert env.api.request("GET", "/admin/quarantine/01ZZZZZZZZZZZZZZZZZZZZZZZZ",
                           token=admin).status == 404
    # release and report as not spam: delivered over LMTP, recorded, fed back
    before = int(env.cli("XLEN", "ims:{global}:feedback") or 0)
    r = env.api.request("POST", f"/admin/quarantine/{mid}/release", {"not_spam": True},
                        token=admin)
    assert r.status == 200, r
    assert r.json()["released_by"] == ADMIN and r.json()["delivered"] == [rcpt], r.json()
    m = sink.messages[-1]
    assert m["rcpts"] == [rcpt] and m["from"].startswith("sender")
    assert b"X-Spam-Flag: NO\r\n" in m["data"] and f"by {ADMIN}".encode() in m["data"]
    assert env.cli("HGET", f"ims:{{global}}:qmsg:{mid}", "released_by").strip() == ADMIN
    assert env.cli("ZSCORE", "ims:{global}:quarantine", mid).strip() == ""
    assert env.cli("ZSCORE", f"ims:{{{rcpt}}}:quarantine", mid).strip() == ""
    assert env.cli("EXISTS", f"ims:{{global}}:qraw:{mid}").strip() == "0"  # body dropped
    assert int(env.cli("XLEN", "ims:{global}:feedback")) == before + 1
    fb = env.cli("XREVRANGE", "ims:{global}:feedback", "+", "-", "COUNT", "1")
    assert "ham" in fb and mid in fb and ADMIN in fb, fb
    r = env.api.request("POST", f"/admin/quarantine/{mid}/release", token=admin)
    assert r.status == 409, r
    assert env.api.request("POST", "/admin/quarantine/01ZZZZZZZZZZZZZZZZZZZZZZZZ/release",
                           token=admin).status == 404
    assert len(get("/admin/quarantine?limit=100")["items"]) == 9
    # LMTP down: 503, nothing recorded, and it can be released later
    other = get("/admin/quarantine?limit=1")["items"][0]["id"]
    sink.stop()
    r = env.api.request("POST", f"/admin/quarantine/{other}/release", token=admin)
    assert r.status == 503, r
    assert env.cli("HGET", f"ims:{{global}}:qmsg:{other}", "released_by").strip() == ""
    sink.start()
    r = env.api.request("POST", f"/admin/quarantine/{other}/release", token=admin)
    assert r.status == 200, r
    # delete: gone from every index, its bytes no longer counted
    gone = get("/admin/quarantine?limit=1")["items"][0]
    used = int(env.cli("GET", "ims:{global}:quarantine:bytes"))
    r = env.api.request("DELETE", f"/admin/quarantine/{gone['id']}", token=admin)
    assert r.status == 204, r
    assert env.api.request("DELETE", f"/admin/quarantine/{gone['id']}", token=admin).status == 404
    assert env.cli("EXISTS", f"ims:{{global}}:qraw:{gone['id']}").strip() == "0"
    assert env.cli("ZSCORE", f"ims:{{{gone['rcpt']}}}:quarantine", gone["id"]).strip() == ""
    assert int(env.cli("GET", "ims:{global}:quarantine:bytes")) == used - gone["size"]
    assert len(get("/admin/quarantine?limit=100")["items"]) == 7


def test_user_quarantine():
    """A user sees what is held for them (with the reason) and releases it
    when [quarantine] user_release allows; never another user's."""
    alice = env.add_user("qalice@example.test")["access_token"]
    bob = env.add_user("qbob@example.test")["access_token"]
    mine = env.store("qalice@example.test", "spam@example.org", "held for alice",
                     verdict="spam", action="quarantine", score=10.0, quarantine=True)
    t = int(time.time() * 1000)
    dm = env.store("qalice@example.test", "x@example.org", "dmarc hold", action="quarantine",
                   score=1.0)
    env.pipe(Env.hold_cmds(dm, t, "Subject: dmarc hold\r\n\r\nhi\r\n", "x@example.org",
                           ["qalice@example.test"], "dmarc hold", 1.0, hold_class="dmarc"))
    theirs = env.store("qbob@example.test", "spam@example.org", "held for bob",
                       verdict="spam", action="quarantine", score=10.0, quarantine=True)
    r = env.api.request("GET", "/emails/quarantine", token=alice)
    assert r.status == 200, r
    items = {x["id"]: x for x in r.json()["items"]}
    assert set(items) == {mine, dm}, items
    assert items[mine]["reason"] == "score 10.0 >= 8" and items[mine]["can_release"] is True
    assert items[dm]["can_release"] is False
    assert "rcpt" not in items[mine]  # other recipients are not shown to users
    # the preview of one's own held message; not of another's
    r = env.api.request("GET", f"/emails/quarantine/{mine}", token=alice)
    assert r.status == 200 and r.json()["message"]["subject"] == "held for alice", r
    assert "rcpt" not in r.json() and r.json()["can_release"] is True
    assert env.api.request("GET", f"/emails/quarantine/{theirs}", token=alice).status == 404
    # bob's message: not listed, not releasable (404 as for any unknown id)
    assert env.api.request("POST", f"/emails/quarantine/{theirs}/release",
                           token=alice).status == 404
    assert env.cli("EXISTS", f"ims:{{global}}:qraw:{theirs}").strip() == "1"
    # a class users may not release (default user_release = score)
    assert env.api.request("POST", f"/emails/quarantine/{dm}/release", token=alice).status == 403
    n = len(sink.messages)
    r = env.api.request("POST", f"/emails/quarantine/{mine}/release", token=alice)
    assert r.status == 200, r
    assert len(sink.messages) == n + 1 and sink.messages[-1]["rcpts"] == ["qalice@example.test"]
    assert env.api.request("POST", f"/emails/quarantine/{mine}/release",
                           token=alice).status == 409
    ids = [x["id"] for x in env.api.request("GET", "/emails/quarantine", token=alice)
           .json()["items"]]
    assert ids == [dm], ids
    assert [x["id"] for x in env.api.request("GET", "/emails/quarantine", token=bob)
            .json()["items"]] == [theirs]
    ops = [e["op"] for e in get("/admin/audit?type=admin&limit=100")["items"] if "op" in e]
    assert "quarantine.release" in ops


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


def test_audit_csv_neutralises_formulas():
    """Cells a spreadsheet would run as a formula (= + - @ tab CR first) get a
    leading ' (OWASP CSV injection); plain numbers stay numbers."""
    env.cli("XADD", "ims:{global}:events", "*", "type", "admin", "actor", "=1+1",
            "op", "+cmd|' /C calc'!A0", "target", "-2+3", "id", "@SUM(A1)", "action", "\tx",
            "score", "\r=x")
    env.cli("XADD", "ims:{global}:events", "*", "type", "scan", "id", "01ABC", "score", "-3.5",
            "action", "accept")
    r = env.api.request("GET", "/admin/audit?format=csv&limit=2", token=admin)
    assert r.status == 200, r
    rows = list(csv.DictReader(io.StringIO(r.body.decode(), newline="")))
    assert rows[0]["score"] == "-3.5" and rows[0]["action"] == "accept", rows[0]
    assert rows[1]["actor"] == "'=1+1" and rows[1]["op"] == "'+cmd|' /C calc'!A0", rows[1]
    assert rows[1]["target"] == "'-2+3" and rows[1]["id"] == "'@SUM(A1)", rows[1]
    assert rows[1]["action"] == "'\tx" and rows[1]["score"] == "'\r=x", rows[1]


def test_audit_rare_type_pages():
    """A type rarer than one event in twenty still fills its page: the list
    reads on until the page is full or the stream ends, and when its bound of
    events read per request is reached first it hands out a cursor."""
    env.cli("XADD", "ims:{global}:events", "*", "type", "admin", "op", "rare.old",
            "actor", ADMIN)
    env.pipe([["XADD", "ims:{global}:events", "*", "type", "scan", "id", f"S{i}"]
              for i in range(6000)])
    env.cli("XADD", "ims:{global}:events", "*", "type", "admin", "op", "rare.new",
            "actor", ADMIN)
    env.pipe([["XADD", "ims:{global}:events", "*", "type", "scan", "id", f"T{i}"]
              for i in range(300)])
    p = get("/admin/audit?type=admin&limit=1")
    assert [e["op"] for e in p["items"]] == ["rare.new"] and p["next_cursor"], p
    # read on, page by page, until rare.old: every page bounded, cursors throughout
    ops, cursor, pages = [], p["next_cursor"], 0
    while cursor and "rare.old" not in ops and pages < 10:
        p = get(f"/admin/audit?type=admin&limit=1&cursor={cursor}")
        ops += [e["op"] for e in p["items"]]
        assert all(e["type"] == "admin" for e in p["items"])
        cursor, pages = p["next_cursor"], pages + 1
    assert ops[:1] == ["rare.old"] and pages == 2, (ops, pages)
    # the scans in the same stretch, a full page at once
    p = get("/admin/audit?type=scan&limit=50")
    assert len(p["items"]) == 50 and p["next_cursor"] == p["items"][-1]["stream_id"], p


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
    # the totals are ims:{global}:stats:total: an hourly bucket that expires
    # takes nothing from them (they used to be the sum of the buckets)
    for k in env.redis.cli("--scan", "--pattern", "ims:{global}:stats:20*").split():
        env.redis.cli("DEL", k)
    text = env.api.request("GET", "/metrics").body.decode()
    assert "ims_scans_total 30" in text, text[-800:]
    assert 'ims_scans_by_action_total{action="quarantine"} 10' in text


def test_many_scans_and_recipients():
    """Pages and filters over more scans, and a release to more recipients,
    than one Redis command of the store takes arguments (64): the reads and
    scripts go in chunks, nothing is cut short."""
    now = int(time.time() * 1000)
    cmds = []
    for i in range(140):
        sid = ulid(now - 30000 + i)
        cmds += env.global_scan_cmds(scan_log(sid, now - 30000 + i, "bulk@example.org",
                                              ["bob@example.test"], f"bulk {i}"))
    env.pipe(cmds)
    assert len(get("/admin/scans?limit=150")["items"]) == 150
    bulk = get("/admin/scans?sender=bulk@example.org&limit=100")
    assert len(bulk["items"]) == 100 and bulk["next_cursor"], len(bulk["items"])
    assert all(s["mail_from"] == "bulk@example.org" for s in bulk["items"])
    rest = get(f"/admin/scans?sender=bulk@example.org&limit=100&cursor={bulk['next_cursor']}")
    assert len(rest["items"]) == 40 and rest["next_cursor"] is None, len(rest["items"])
    # one held message for 70 recipients: released to every one of them
    rcpts = [f"r{i}@example.test" for i in range(70)]
    sid = ulid(now)
    raw = message("bulk@example.org", rcpts[0], "to many")
    env.pipe(env.hold_cmds(sid, now, raw, "bulk@example.org", rcpts, "to many", 10.0))
    r = env.api.request("POST", f"/admin/quarantine/{sid}/release", token=admin)
    assert r.status == 200, r
    assert sorted(r.json()["delivered"]) == sorted(rcpts), r.json()
    assert sorted(sink.messages[-1]["rcpts"]) == sorted(rcpts)
    assert env.cli("HGET", f"ims:{{global}}:qmsg:{sid}", "released_by").strip() == ADMIN
    assert all(env.cli("ZSCORE", f"ims:{{{a}}}:quarantine", sid).strip() == "" for a in rcpts)


def test_redis_down_is_503():
    env.redis.stop()
    r = env.api.request("GET", "/health")
    assert r.status == 503 and r.json()["error"], r
    r = env.api.request("GET", "/admin/stats", token=admin)
    assert r.status == 503, r
    # a temporary state: clients (and load balancers) are told when to retry
    assert r.headers.get("Retry-After", "").isdigit(), dict(r.headers)
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
    sink = SmtpSink(lmtp=True).start()
    try:
        with Env(extra={"quarantine.lmtp": sink.target()}) as e:
            env = e
            run([test_scans_filters_and_pages, test_stats, test_quarantine_and_release,
                 test_audit_and_users, test_audit_csv_neutralises_formulas,
                 test_audit_rare_type_pages, test_health_and_metrics, test_user_quarantine,
                 test_many_scans_and_recipients, test_redis_down_is_503,
                 test_sigterm_drains])
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
