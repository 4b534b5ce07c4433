#!/usr/bin/python3
"""Sender allow/block lists against a real redis-server and ims-webapi, and
their effect on POST /scan-email (the milter's scan code), with the harness's
nsd answering SPF/DMARC so that DMARC passes for example.org:

  - a user manages their own list (GET/PUT/DELETE /settings/senders); bad
    entries and actions are 400; the list is bounded ([senders] max_entries)
  - a user cannot reach another user's list or the admin routes (403)
  - an admin manages any user's list and a local domain's list; each change
    is an audit event; a non-local domain or address is 404
  - a blocked sender gets SENDER_BLOCK; an allowed From with DMARC pass gets
    SENDER_ALLOW, without DMARC pass nothing; a domain block beats a user allow;
    GTUBE stays a reject even when allowed."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixtures import Env, message, run  # noqa: E402
sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from harness import milter as hmilter  # noqa: E402
from harness import dns as hdns  # noqa: E402

ALICE = "salice@example.test"
CAROL = "scarol@example.test"
ADMIN = "sadmin@example.test"
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
env = None
tok = {}


def req(method, path, body=None, who=ALICE):
    return env.api.request(method, path, body, token=tok[who])


def scan(rcpt, frm, mail_from=None, body="Hello there.\n"):
    raw = message(frm, rcpt, "senders", body=body)
    r = env.api.request("POST", "/scan-email", {
        "raw": raw, "mail_from": mail_from or frm, "rcpt": [rcpt],
        "client_ip": "198.51.100.7", "helo": "mx.example.org"}, token=tok[rcpt])
    assert r.status == 200, r
    s = r.json()
    return {x["name"]: x for x in s["symbols"]}, s


def test_own_list():
    r = req("GET", "/settings/senders")
    assert r.status == 200 and r.json() == {"items": [], "max": 3}, r
    r = req("PUT", "/settings/senders", {"entry": "Spam@Bad.Example", "action": "block"})
    assert r.status == 200 and r.json() == {"entry": "spam@bad.example", "action": "block"}, r
    assert req("PUT", "/settings/senders", {"entry": "friend.example.org",
                                           "action": "allow"}).status == 200
    items = {i["entry"]: i["action"] for i in req("GET", "/settings/senders").json()["items"]}
    assert items == {"spam@bad.example": "block", "friend.example.org": "allow"}, items
    for bad in ({"entry": "not an address", "action": "block"},
                {"entry": "x@example.org", "action": "maybe"}, {"entry": "x@example.org"},
                {"entry": "@example.org", "action": "block"}):
        assert req("PUT", "/settings/senders", bad).status == 400, bad
    # bounded: a third entry fits, a fourth does not; changing one still does
    assert req("PUT", "/settings/senders", {"entry": "c.example", "action": "block"}).status == 200
    r = req("PUT", "/settings/senders", {"entry": "d.example", "action": "block"})
    assert r.status == 409, r
    assert req("PUT", "/settings/senders", {"entry": "c.example", "action": "allow"}).status == 200
    assert req("DELETE", "/settings/senders?entry=c.example").status == 204
    assert req("DELETE", "/settings/senders?entry=c.example").status == 404
    assert req("DELETE", "/settings/senders?entry=").status == 400
    # stored where docs/redis-schema.md says
    assert env.cli("HGET", f"ims:{{{ALICE}}}:senders", "spam@bad.example").strip() == "block"


def test_permissions():
    assert req("GET", f"/admin/senders/users/{ALICE}", who=CAROL).status == 403
    assert req("PUT", "/admin/senders/domains/example.test",
               {"entry": "x.example", "action": "block"}, who=CAROL).status == 403
    # carol's own list is hers only
    assert req("GET", "/settings/senders", who=CAROL).json()["items"] == []


def test_admin_lists():
    r = req("GET", f"/admin/senders/users/{ALICE}", who=ADMIN)
    assert r.status == 200 and len(r.json()["items"]) == 2, r
    r = req("PUT", f"/admin/senders/users/{CAROL}", {"entry": "spam@bad.example",
                                                      "action": "block"}, who=ADMIN)
    assert r.status == 200, r
    r = req("PUT", "/admin/senders/domains/example.test", {"entry": "evil.example",
                                                           "action": "block"}, who=ADMIN)
    assert r.status == 200, r
    assert env.cli("HGET", "ims:{global}:senders:example.test", "evil.example").strip() == "block"
    assert req("GET", "/admin/senders/domains/example.org", who=ADMIN).status == 404
    assert req("GET", "/admin/senders/users/x@example.org", who=ADMIN).status == 404
    assert req("DELETE", f"/admin/senders/users/{CAROL}?entry=nobody.example",
               who=ADMIN).status == 404
    audit = env.cli("XRANGE", "ims:{global}:events", "-", "+")
    assert "senders.put" in audit and "domain:example.test" in audit, audit[-500:]


def test_scan_applies_lists():
    syms, _ = scan(ALICE, "spam@bad.example")
    assert "SENDER_BLOCK" in syms, syms
    assert f"list=user:{ALICE} entry=spam@bad.example" in syms["SENDER_BLOCK"]["detail"], syms
    # allowed by domain entry, DMARC passes (SPF aligned): SENDER_ALLOW
    syms, _ = scan(ALICE, "news@friend.example.org")
    assert "DMARC_PASS" in syms and "SENDER_ALLOW" in syms, syms
    assert syms["SENDER_ALLOW"]["weight"] == -10, syms
    # the same From without DMARC pass (no SPF for it): not allowed
    syms, _ = scan(ALICE, "news@friend.example.org", mail_from="x@unrelated.example")
    assert "SENDER_ALLOW" not in syms, syms
    # the domain's block beats the user's allow
    assert req("PUT", "/settings/senders", {"entry": "evil.example",
                                           "action": "allow"}).status == 200
    syms, _ = scan(ALICE, "boss@evil.example")
    assert "SENDER_BLOCK" in syms and "domain:example.test" in syms["SENDER_BLOCK"]["detail"]
    # an allow list does not undo GTUBE
    syms, s = scan(ALICE, "news@friend.example.org", body=GTUBE + "\n")
    assert "SENDER_ALLOW" in syms and s["action"] == "reject", s
    # carol has no allow entry; nothing for her
    syms, _ = scan(CAROL, "news@friend.example.org")
    assert "SENDER_ALLOW" not in syms and "SENDER_BLOCK" not in syms, syms


def main():
    global env
    from harness import common
    tmp = common.TempDir("ims-senders-")
    model = hmilter.make_model(tmp, 1.0)
    spf = "v=spf1 ip4:198.51.100.0/24 -all"
    dns = hdns.DnsServer({
        "friend.example.org": [("TXT", spf)],
        "_dmarc.friend.example.org": [("TXT", "v=DMARC1; p=none")],
        "bad.example": [("TXT", spf)],
        "evil.example": [("TXT", spf)],
    })
    dns.start()
    try:
        with Env(extra={"classifier.model": model, "senders.max_entries": "3",
                        "dns.nameservers": f"127.0.0.1:{dns.port}"}) as e:
            env = e
            tok[ALICE] = e.add_user(ALICE)["access_token"]
            tok[CAROL] = e.add_user(CAROL)["access_token"]
            tok[ADMIN] = e.add_user(ADMIN, role="admin")["access_token"]
            run([test_own_list, test_permissions, test_admin_lists, test_scan_applies_lists])
    finally:
        dns.stop()
        tmp.close()


if __name__ == "__main__":
    main()
