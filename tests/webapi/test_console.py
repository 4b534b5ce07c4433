#!/usr/bin/python3
"""The security console's routes against a real redis-server and ims-webapi:
GET /admin/dashboard (ranges, buckets, auth failure rates, top lists merged
over hours and days, quarantine size, clicks), the scan filters the console
adds (client IP), the audit filter by actor, and user administration
(disable/enable, role, password reset ending the user's sessions, audited).

The counters are written here the way lib/dashboard.c writes them (the
writer is checked in tests/unit/test_scan.c and end to end in
tests/e2e/test_links.py)."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixtures import Env, PASSWORD, run  # noqa: E402

env = None
ADMIN = "boss@example.test"
admin = None
HOUR = 3600 * 1000


def get(path, tok=None, status=200):
    r = env.api.request("GET", path, token=tok or admin)
    assert r.status == status, (path, r)
    return r.json() if status == 200 else r


def counters(t, action="accept", verdict="ham", spf="pass", dkim="pass", dmarc="pass",
             sender="a@example.org", targets=(), symbols=("SPF_PASS",)):
    """The commands lib/dashboard.c and lib/scan_store.c add for one scan at t."""
    g = time.gmtime(t / 1000)
    hour = time.strftime("%Y%m%d%H", g)
    day = time.strftime("%Y%m%d", g)
    min5 = hour + "%02d" % (g.tm_min - g.tm_min % 5)
    hk, mk = f"ims:{{global}}:stats:{hour}", f"ims:{{global}}:stats5:{min5}"
    dk = f"ims:{{global}}:statsd:{day}"
    cmds = [["HINCRBY", k, f, "1"] for k in (hk, dk) for f in
            ["total", f"action:{action}", f"verdict:{verdict}"] + [f"symbol:{s}" for s in symbols]]
    cmds += [["HINCRBY", mk, f, "1"] for f in ["total", f"action:{action}", f"verdict:{verdict}"]]
    for k, v in (("spf", spf), ("dkim", dkim), ("dmarc", dmarc)):
        cmds += [["HINCRBY", hk, f"{k}:{v}", "1"], ["HINCRBY", dk, f"{k}:{v}", "1"],
                 ["HINCRBY", mk, f"{k}:{v}", "1"]]
    tops = [("senders", sender), ("domains", sender.split("@")[1])]
    tops += [("targets", x) for x in targets]
    for kind, member in tops:
        cmds += [["ZINCRBY", f"ims:{{global}}:top:{kind}:h:{hour}", "1", member],
                 ["ZINCRBY", f"ims:{{global}}:top:{kind}:d:{day}", "1", member]]
    return cmds


def read_hours(start, end):
    """Every hour hash from start to end (ms), read from Redis."""
    out = []
    for t in range(start - start % HOUR, end + 1, HOUR):
        key = "ims:{global}:stats:" + time.strftime("%Y%m%d%H", time.gmtime(t / 1000))
        words = env.cli("HGETALL", key).split()
        out.append(dict(zip(words[::2], words[1::2])))
    return out


def sum_hours(start, end):
    return sum(int(h.get("total", 0)) for h in read_hours(start, end))


def hours_summed(start, end):
    """The dashboard's totals object computed from the hour hashes."""
    tot = {"total": 0, "actions": {}, "verdicts": {}, "spf": {}, "dkim": {}, "dmarc": {},
           "clicks": {}}
    names = {"action": "actions", "verdict": "verdicts", "spf": "spf", "dkim": "dkim",
             "dmarc": "dmarc", "click": "clicks"}
    for h in read_hours(start, end):
        for f, v in h.items():
            if f == "total":
                tot["total"] += int(v)
            elif f.split(":")[0] in names:
                o = tot[names[f.split(":")[0]]]
                k = f.split(":", 1)[1]
                o[k] = o.get(k, 0) + int(v)
    return tot


def test_dashboard_empty():
    """Before any mail: all zeros, null rates (nothing to divide by)."""
    global admin
    admin = env.add_user(ADMIN, role="admin")["access_token"]
    d = get("/admin/dashboard?range=1h")
    assert d["totals"]["total"] == 0 and d["auth_failure_rate"]["spf"] is None, d
    assert d["top_senders"] == [] and d["quarantine"] == {"messages": 0, "bytes": 0}
    assert len(d["buckets"]) == 12 and all(b["total"] == 0 for b in d["buckets"])


def test_dashboard():
    now = int(time.time() * 1000)
    cmds = []
    # the last few minutes: 3 delivered, 2 held for alice, 1 rejected with
    # every check failing
    for i in range(3):
        cmds += counters(now - 1000 * i)
    for i in range(2):
        cmds += counters(now - 2000 - i, action="quarantine", verdict="spam", spf="softfail",
                         sender="x@spam.example", targets=["alice@example.test"],
                         symbols=("SVM_SPAM",))
    cmds += counters(now - 3000, action="reject", verdict="spam", spf="fail", dkim="fail",
                     dmarc="fail", sender="y@spam.example", targets=["bob@example.test"],
                     symbols=("SVM_SPAM", "DMARC_POLICY_REJECT"))
    # 3 hours ago: only in 24h and longer; 3 days ago: only in 7d and 30d
    for i in range(4):
        cmds += counters(now - 3 * HOUR, sender="old@example.org")
    for i in range(5):
        cmds += counters(now - 72 * HOUR, action="tag", verdict="spam",
                         sender="z@spam.example", targets=["alice@example.test"])
    env.pipe(cmds)
    # held (its hour's counters as the milter writes them: one more scan in
    # the hour, none in the 5-minute series this test wrote by hand)
    env.store("alice@example.test", "x@spam.example", "held", quarantine=True)

    d = get("/admin/dashboard?range=1h")
    assert d["range"] == "1h" and d["bucket_ms"] == 300000 and len(d["buckets"]) == 12, d
    assert d["buckets"][-1]["start"] <= now < d["buckets"][-1]["start"] + 300000
    assert d["totals"]["total"] == 6, d["totals"]
    assert sum(b["total"] for b in d["buckets"]) == 6
    assert d["totals"]["actions"] == {"accept": 3, "quarantine": 2, "reject": 1}, d["totals"]
    assert d["totals"]["verdicts"] == {"ham": 3, "spam": 3}
    assert d["auth_failure_rate"]["spf"] == 0.5, d["auth_failure_rate"]  # fail + softfail
    assert abs(d["auth_failure_rate"]["dkim"] - 1 / 6) < 1e-9
    assert abs(d["auth_failure_rate"]["dmarc"] - 1 / 6) < 1e-9
    # symbols come from the hours: the held message stored below adds one SPF_PASS
    assert d["top_symbols"][:2] == [{"name": "SPF_PASS", "count": 4},
                                    {"name": "SVM_SPAM", "count": 3}], d["top_symbols"]
    assert d["top_senders"][0] == {"name": "a@example.org", "count": 3}, d["top_senders"]
    assert {"name": "spam.example", "count": 3} in d["top_sender_domains"], d
    assert d["top_targeted_users"][0] == {"name": "alice@example.test", "count": 2}, d
    assert d["quarantine"]["messages"] == 1 and d["quarantine"]["bytes"] > 0, d["quarantine"]

    d = get("/admin/dashboard")  # 24h by default
    assert d["range"] == "24h" and len(d["buckets"]) == 24 and d["bucket_ms"] == HOUR
    assert d["totals"]["total"] == 11 and d["totals"]["actions"]["accept"] == 8, d["totals"]
    assert {"name": "old@example.org", "count": 4} in d["top_senders"]

    w = get("/admin/dashboard?range=7d")
    assert len(w["buckets"]) == 28 and w["bucket_ms"] == 6 * HOUR
    assert w["totals"]["total"] == 16 and w["totals"]["actions"]["tag"] == 5, w["totals"]
    # merged over days: alice 2 + 5
    assert w["top_targeted_users"][0] == {"name": "alice@example.test", "count": 7}, w
    m = get("/admin/dashboard?range=30d")
    assert len(m["buckets"]) == 30 and m["totals"]["total"] == 16
    # 30d reads the days' hashes (written with the hours': test_scan checks
    # the writer): the same as the sum of its hours
    assert m["totals"] == hours_summed(m["from"], m["to"]), m["totals"]
    assert m["buckets"][-1]["total"] == sum_hours(m["buckets"][-1]["start"], now)
    # a day from before the day hashes were written: only its hours, read instead
    old = time.strftime("%Y%m%d%H", time.gmtime((now - 10 * 24 * HOUR) / 1000))
    env.pipe([["HINCRBY", f"ims:{{global}}:stats:{old}", f, "7"]
              for f in ("total", "action:accept", "dmarc:fail", "symbol:OLD_ONE")])
    m = get("/admin/dashboard?range=30d")
    assert m["totals"]["total"] == 23 and m["buckets"][-11]["total"] == 7, m["totals"]
    assert m["totals"] == hours_summed(m["from"], m["to"]), m["totals"]
    assert {"name": "OLD_ONE", "count": 7} in m["top_symbols"], m["top_symbols"]

    for bad in ("2h", "", "1h;x"):
        get("/admin/dashboard?range=" + bad, status=400)
    user = env.add_user("plain@example.test")["access_token"]
    assert env.api.request("GET", "/admin/dashboard", token=user).status == 403
    assert env.api.request("GET", "/admin/dashboard").status == 401


def test_symbols():
    items = get("/admin/symbols")["items"]
    names = [x["name"] for x in items]
    assert "SPF_FAIL" in names and "SVM_SPAM" in names and len(names) == len(set(names))
    assert all(isinstance(x["weight"], float) and x["doc"] for x in items), items[:3]
    assert env.api.request("GET", "/admin/symbols", token=env.add_user(
        "sym@example.test")["access_token"]).status == 403


def test_scans_by_client_ip():
    from fixtures import scan_log, ulid
    now = int(time.time() * 1000)
    cmds = []
    for i, ip in enumerate(["192.0.2.1", "192.0.2.1", "192.0.2.2", "2001:db8::7"]):
        log = scan_log(ulid(now + i), now + i, "ip@example.org", ["alice@example.test"], "ip")
        log["client"]["ip"] = ip
        cmds += Env.global_scan_cmds(log)
    env.pipe(cmds)
    items = get("/admin/scans?ip=192.0.2.1&limit=50")["items"]
    assert len(items) == 2 and {x["client"]["ip"] for x in items} == {"192.0.2.1"}, items
    # any spelling of the same address
    items = get("/admin/scans?ip=2001:DB8:0::7&action=accept&limit=50")["items"]
    assert [x["client"]["ip"] for x in items] == ["2001:db8::7"], items
    assert get("/admin/scans?ip=192.0.2.9")["items"] == []
    for bad in ("192.0.2", "x", "192.0.2.1%0a", "1.2.3.4/24"):
        get("/admin/scans?ip=" + bad, status=400)


def test_users_admin():
    """Create, disable/enable, change role, reset the password (given or
    generated): audited, and a reset or a disable ends the user's sessions."""
    r = env.api.request("POST", "/admin/users", {"address": "eve@example.test",
                                                 "password": PASSWORD}, token=admin)
    assert r.status == 201, r
    s1, s2 = (env.api.login("eve@example.test", PASSWORD) for _ in range(2))
    assert get("/admin/users/EVE@example.test") == {
        "address": "eve@example.test", "role": "user", "disabled": False,
        "created": get("/admin/users/eve@example.test")["created"]}
    get("/admin/users/nobody@example.test", status=404)
    get("/admin/users/eve@elsewhere.example", status=404)

    def patch(body, who="eve@example.test", status=200):
        r = env.api.request("PATCH", f"/admin/users/{who}", body, token=admin)
        assert r.status == status, (body, r)
        return r.json() if status == 200 else r

    # role: the registry is asked on each request, so it applies at once
    assert env.api.request("GET", "/admin/dashboard", token=s1["access_token"]).status == 403
    assert patch({"role": "admin"})["role"] == "admin"
    time.sleep(1.1)  # the per-thread session cache (IMS_AUTHCACHE_TTL_MS)
    assert env.api.request("GET", "/admin/dashboard", token=s1["access_token"]).status == 200
    assert patch({"role": "user"})["role"] == "user"
    # disable: every session ends, no new login; enable: log in again
    assert patch({"disabled": True})["disabled"] is True
    for s in (s1, s2):
        assert env.api.request("GET", "/auth/me", token=s["access_token"]).status == 401
        assert env.api.request("POST", "/auth/refresh",
                               {"refresh_token": s["refresh_token"]}).status == 401
    r = env.api.request("POST", "/auth/login", {"address": "eve@example.test",
                                                "password": PASSWORD})
    assert r.status == 401, r
    assert patch({"disabled": False})["disabled"] is False
    s3 = env.api.login("eve@example.test", PASSWORD)
    assert env.api.request("GET", "/auth/me", token=s3["access_token"]).status == 200
    for bad in ({}, {"role": "root"}, {"role": 1}, {"disabled": "yes"}):
        patch(bad, status=400)
    patch({"disabled": True}, who=ADMIN, status=409)  # no locking oneself out
    patch({"role": "user"}, who=ADMIN, status=409)

    # reset to a given password: the old sessions end, the new password works
    r = env.api.request("POST", "/admin/users/eve@example.test/password",
                        {"password": "another long secret"}, token=admin)
    assert r.status == 200 and r.json() == {"address": "eve@example.test",
                                            "sessions_ended": 1}, r
    assert env.api.request("GET", "/auth/me", token=s3["access_token"]).status == 401
    assert env.api.request("POST", "/auth/refresh",
                           {"refresh_token": s3["refresh_token"]}).status == 401
    s4 = env.api.login("eve@example.test", "another long secret")
    # generated: shown once, works, ends the session of the password before
    r = env.api.request("POST", "/admin/users/eve@example.test/password", {}, token=admin)
    assert r.status == 200 and len(r.json()["password"]) == 24, r
    assert r.json()["sessions_ended"] == 1
    assert env.api.request("GET", "/auth/me", token=s4["access_token"]).status == 401
    env.api.login("eve@example.test", r.json()["password"])
    for bad in ({"password": "short"}, {"password": 5}):
        r = env.api.request("POST", "/admin/users/eve@example.test/password", bad, token=admin)
        assert r.status == 400, (bad, r)
    assert env.api.request("POST", "/admin/users/eve@example.test/password", {},
                           token=s4["access_token"]).status == 401

    # audited, and the audit filters by actor
    ev = get(f"/admin/audit?type=admin&actor={ADMIN.upper()}&limit=50")["items"]
    ops = [e["op"] for e in ev if e["target"] == "eve@example.test"]
    assert ops == ["user.password", "user.password", "user.enable", "user.disable",
                   "user.role", "user.role", "user.create"], ops
    assert ev[0]["generated"] == "1" and ev[1]["generated"] == "0", ev[:2]
    assert all("password" not in e or e["op"] for e in ev)
    assert not any("another long secret" in str(e) for e in ev)
    assert get("/admin/audit?actor=nobody@example.test&limit=5")["items"] == []
    get("/admin/audit?actor=", status=400)


def main():
    global env
    with Env() as e:
        env = e
        run([test_dashboard_empty, test_dashboard, test_symbols, test_scans_by_client_ip,
             test_users_admin])


if __name__ == "__main__":
    main()
