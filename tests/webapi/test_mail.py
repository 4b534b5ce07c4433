#!/usr/bin/python3
"""Mailbox routes of ims-webapi against a real redis-server: lists (newest
first, cursor pagination, verdict/score/action), a parsed message with
sanitised HTML and attachments, raw, delete, spam/ham reports, sending
through an SMTP server with AUTH, and POST /scan-email with the milter's
scan code."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixtures import Env, message, run  # noqa: E402
sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from harness.smtpsink import SmtpSink  # noqa: E402
from harness import milter as hmilter  # noqa: E402

env = sink = None
ALICE = "alice@example.test"


def token(addr=ALICE):
    return env.api.login(addr, "correct horse battery")["access_token"]


def test_inbox_order_and_pages():
    t = env.add_user(ALICE)["access_token"]
    base = int(time.time() * 1000) - 100000
    ids = [env.store(ALICE, f"s{i}@example.org", f"msg {i}", t=base + i * 10,
                     verdict="spam" if i % 2 else "ham", action="tag" if i % 2 else "accept",
                     score=float(i)) for i in range(25)]
    # two with the same time: the cursor must not skip or repeat either
    ids.append(env.store(ALICE, "tie1@example.org", "tie", t=base + 1000))
    ids.append(env.store(ALICE, "tie2@example.org", "tie", t=base + 1000))
    r = env.api.request("GET", "/emails/inbox?limit=10", token=t)
    assert r.status == 200, r
    page = r.json()
    assert len(page["items"]) == 10 and page["next_cursor"]
    first = page["items"][0]
    assert first["subject"] == "tie" and first["verdict"] == "ham" and first["seen"] is False
    seen, cursor = [], None
    while True:
        q = "/emails/inbox?limit=7" + (f"&cursor={cursor}" if cursor else "")
        p = env.api.request("GET", q, token=t).json()
        seen += [i["id"] for i in p["items"]]
        cursor = p["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 27 and set(seen) == set(ids), (len(seen), len(set(seen)))
    times = [int(env.cli("HGET", f"ims:{{{ALICE}}}:msg:{i}", "received")) for i in seen]
    assert times == sorted(times, reverse=True)
    item = next(i for i in env.api.request("GET", "/emails/inbox?limit=100", token=t)
                .json()["items"] if i["id"] == ids[3])
    assert item["verdict"] == "spam" and item["action"] == "tag" and item["score"] == 3.0
    assert env.api.request("GET", "/emails/sent", token=t).json() == {"items": [],
                                                                       "next_cursor": None}


def test_read_message():
    t = token()
    html = ("<p onclick='x()'>Hi <b>there</b><script>alert(1)</script>"
            "<img src='http://track.example/x.gif'><a href='javascript:alert(2)'>bad</a>"
            "<a href='https://example.org/'>good</a><style>p{}</style></p>")
    raw = message("Bob <bob@example.org>", ALICE, "=?utf-8?q?Gr=C3=BC=C3=9Fe?=",
                  body="plain text body", html=html, attach="report.pdf")
    mid = env.store(ALICE, "bob@example.org", "Grüße", raw=raw, verdict="spam",
                    action="tag", score=7.5, symbols=(("SVM_SPAM", 6.0), ("SPF_FAIL", 1.5)))
    r = env.api.request("GET", f"/emails/{mid}", token=t)
    assert r.status == 200, r
    m = r.json()
    assert m["subject"] == "Grüße", m["subject"]
    assert m["from"] == "Bob <bob@example.org>"
    assert "plain text body" in m["text"]
    h = m["html"]
    for bad in ("script", "onclick", "alert", "<img", "javascript", "<style"):
        assert bad not in h, (bad, h)
    assert "<b>there</b>" in h and 'href="https://example.org/"' in h
    assert 'rel="noopener noreferrer nofollow"' in h
    assert m["attachments"] == [{"filename": "report.pdf", "content_type": "application/pdf",
                                 "size": 9}], m["attachments"]
    assert m["scan"]["verdict"] == "spam" and m["scan"]["score"] == 7.5
    assert [s["name"] for s in m["scan"]["symbols"]] == ["SVM_SPAM", "SPF_FAIL"]
    assert any(x["name"] == "Subject" for x in m["headers"])
    assert env.cli("HGET", f"ims:{{{ALICE}}}:msg:{mid}", "seen").strip() == "1"
    r = env.api.request("GET", f"/emails/{mid}/raw", token=t)
    assert r.status == 200 and r.body.decode() == raw
    assert r.headers["Content-Type"] == "message/rfc822"
    # a message that is not MIME at all still reads
    junk = env.store(ALICE, "x@example.org", "junk", raw="\x01 no headers at all, just text \u00ff")
    r = env.api.request("GET", f"/emails/{junk}", token=t)
    assert r.status == 200, r


def test_delete_and_report():
    t = token()
    mid = env.store(ALICE, "spammer@example.org", "buy now")
    r = env.api.request("POST", f"/emails/{mid}/report", {"label": "spam"}, token=t)
    assert r.status == 202, r
    entries = env.cli("XRANGE", "ims:{global}:feedback", "-", "+")
    assert mid in entries and "spam" in entries and "buy now" in entries
    # one feedback store (lib/feedback.h): the same report again adds nothing
    r = env.api.request("POST", f"/emails/{mid}/report", {"label": "spam"}, token=t)
    assert r.status == 202 and r.json()["outcome"] == "duplicate", r
    assert env.cli("XLEN", "ims:{global}:feedback").strip() == "1"
    for bad in ({"label": "maybe"}, {}, {"label": 1}):
        assert env.api.request("POST", f"/emails/{mid}/report", bad, token=t).status == 400
    r = env.api.request("DELETE", f"/emails/{mid}", token=t)
    assert r.status == 204, r
    for k in (f"ims:{{{ALICE}}}:msg:{mid}", f"ims:{{{ALICE}}}:scan:{mid}"):
        assert env.cli("EXISTS", k).strip() == "0", k
    assert env.cli("ZSCORE", f"ims:{{{ALICE}}}:inbox", mid).strip() == ""
    assert env.api.request("DELETE", f"/emails/{mid}", token=t).status == 404
    assert env.api.request("GET", f"/emails/{mid}", token=t).status == 404


def test_send():
    t = token()
    r = env.api.request("POST", "/emails/send",
                        {"to": ["carol@example.org", "Dan <dan@example.net>"],
                         "cc": "eve@example.org", "bcc": ["hidden@example.org"],
                         "subject": "Grüße aus ims", "text": "Hallo\n.\nline after a dot",
                         "html": "<p>Hallo</p>"}, token=t)
    assert r.status == 202, r
    assert r.json()["recipients"] == 4
    deadline = time.time() + 5
    while not sink.messages and time.time() < deadline:
        time.sleep(0.05)
    m = sink.messages[-1]
    assert m["from"] == ALICE
    assert m["rcpts"] == ["carol@example.org", "dan@example.net", "eve@example.org",
                          "hidden@example.org"]
    data = m["data"].decode()
    assert "From: alice@example.test" in data and "hidden" not in data
    assert "multipart/alternative" in data and "Message-Id:" in data or "Message-ID:" in data
    # logged in as the master user, acting as the signed-in user
    assert sink.auth_seen and sink.auth_seen[-1] == "webapi"
    assert sink.authzid_seen[-1] == ALICE, sink.authzid_seen
    for bad in ({"to": [], "text": "x"}, {"to": "not an address", "text": "x"},
                {"to": "a@b.example", "subject": "x\r\nBcc: y@z", "text": "x"},
                {"to": "a@b.example"}, {"to": 5, "text": "x"},
                {"to": ["a@b.example"] * 101, "text": "x"},
                {"to": ["b"], "text": ""}, {"cc": ["x@y.example", "b"], "text": ""}):
        r = env.api.request("POST", "/emails/send", bad, token=t)
        assert r.status == 400, (bad, r)
    # a mailbox GMime parses without '@': the error quotes it (read after free before)
    r = env.api.request("POST", "/emails/send", {"to": ["b"], "text": ""}, token=t)
    assert r.json()["error"] == "to: 'b' is not an address", r.json()
    # a recipient the server refuses for good -> 400 with its answer
    r = env.api.request("POST", "/emails/send", {"to": "refused@example.org", "text": "x"},
                        token=t)
    assert r.status == 400 and "550" in r.json()["error"], r


def test_scan_email():
    t = token()
    h = env.api.request("GET", "/health").json()
    assert h["model_version"] and h["model_error"] is None, h
    raw = message("bob@example.org", ALICE, "scan me", body="nothing special here\r\n")
    def keys():  # all but the rate-limit counter the request itself takes
        return {k for k in env.cli("KEYS", "*").split() if ":ratelimit:" not in k}
    before = keys()
    r = env.api.request("POST", "/scan-email?mail_from=bob@example.org&rcpt=" + ALICE +
                        "&client_ip=192.0.2.1&helo=mx.example.org", raw=raw.encode(), token=t,
                        headers={"Content-Type": "message/rfc822"})
    assert r.status == 200, r
    s = r.json()
    assert s["action"] in ("accept", "tag", "quarantine", "reject"), s
    assert s["mail_from"] == "bob@example.org" and s["rcpt"] == [ALICE]
    assert isinstance(s["symbols"], list) and "score" in s
    assert any(h["name"] == "X-IMS-Scan-Id" for h in s["headers"])
    r2 = env.api.request("POST", "/scan-email", {"raw": raw, "mail_from": "bob@example.org",
                                                 "rcpt": [ALICE]}, token=t)
    assert r2.status == 200, r2
    # the scan stored nothing
    assert keys() == before
    assert env.api.request("POST", "/scan-email", raw=b"", token=t,
                           headers={"Content-Type": "message/rfc822"}).status == 400


def test_secret_files_refused_when_others_can_read():
    """ims-webapi does not start with a submission password or JWT secret
    file that other users can read (and says what to do)."""
    import subprocess
    from harness.webapi import find_binary
    with open(env.api.conf) as f:
        conf = f.read()
    for key in ("submission_password_file", "jwt_secret_file"):
        path = [l.split("=", 1)[1].strip() for l in conf.splitlines()
                if l.startswith(key + " =")][0]
        loose = path + ".0644"
        with open(path) as src, open(loose, "w") as dst:
            dst.write(src.read())
        os.chmod(loose, 0o644)
        bad = env.api.conf + "." + key
        with open(bad, "w") as f:
            f.write(conf.replace(f"{key} = {path}", f"{key} = {loose}"))
        r = subprocess.run([find_binary("ims-webapi", "webapi"), "-c", bad], timeout=30,
                           capture_output=True, text=True)
        assert r.returncode != 0, key
        assert "mode 0644" in r.stdout + r.stderr and "chmod 600" in r.stdout + r.stderr, \
            r.stdout + r.stderr


def main():
    global env, sink
    from harness import common
    tmp = common.TempDir("ims-webapi-model-")
    model = hmilter.make_model(tmp, 1.0)
    sink = SmtpSink(user="webapi", password="s3cret", reject_rcpt="refused@example.org").start()
    pwfile = os.path.join(tmp.path, "submission.pw")
    with open(os.open(pwfile, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write("s3cret\n")  # ims-webapi refuses a secret others can read
    try:
        with Env(extra={"webapi.submission": sink.url(), "webapi.submission_user": "webapi",
                        "webapi.submission_password_file": pwfile,
                        "classifier.model": model}) as e:
            env = e
            run([test_inbox_order_and_pages, test_read_message, test_delete_and_report,
                 test_send, test_scan_email, test_secret_files_refused_when_others_can_read])
    finally:
        sink.stop()
        tmp.close()


if __name__ == "__main__":
    main()
