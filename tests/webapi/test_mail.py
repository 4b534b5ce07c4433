#!/usr/bin/python3
"""Mailbox routes of ims-webapi on the mailbox of record: a private Dovecot
(the shipped config: doveadm HTTP API and, for folder pages, IMAP as the
master user, both on unix sockets) and redis-server.
The same messages are looked at through IMAP (Python's imaplib, logged in
with the user's own password): lists and pages, folders with counts, a
parsed message with sanitised HTML, flags both ways, move, delete into
Trash and out of it, search, spam/ham reports as moves to and from Junk,
another user's ids, scan summaries shown only to their own user, sending
through an SMTP server with AUTH and the copy in Sent, replies threaded,
and POST /scan-email with the milter's scan code.  Folder pages over the
pooled IMAP connections: what other IMAP clients do shows on the next page,
two users' requests interleaved never see each other's mail, at most
[dovecot] imap_user_connections sessions per user (the rest through
doveadm), idle ones closed, and pages keep coming over IMAP after Dovecot
restarts."""
import base64
import concurrent.futures
import email.utils
import imaplib
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixtures import Env, PASSWORD, message, run, ulid  # noqa: E402
sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from harness.smtpsink import SmtpSink  # noqa: E402
from harness import milter as hmilter  # noqa: E402

env = sink = None
ALICE = "alice@example.test"
IDLE_S = 6  # [dovecot] imap_idle_s here
TOKENS = {}


def token(addr=ALICE):
    if addr not in TOKENS:
        TOKENS[addr] = env.add_user(addr)["access_token"]
    return TOKENS[addr]


def get(path, addr=ALICE):
    r = env.api.request("GET", path, token=token(addr))
    assert r.status == 200, (path, r)
    return r.json()


def imap(addr=ALICE):
    m = imaplib.IMAP4("127.0.0.1", env.dove.imap_port)
    m.login(addr, PASSWORD)
    return m


def imap_flags(m, folder, subject):
    """The flags of the message with this subject in folder, over IMAP."""
    typ, _ = m.select(f'"{folder}"', readonly=True)
    assert typ == "OK", folder
    typ, data = m.search(None, "SUBJECT", f'"{subject}"')
    nums = data[0].split()
    assert len(nums) == 1, (folder, subject, nums)
    typ, data = m.fetch(nums[0], "(FLAGS)")
    return set(re.search(rb"FLAGS \(([^)]*)\)", data[0]).group(1).decode().split())


def imap_uid_flags(m, folder, web_id):
    """The flags of a message by its web id (GUID-UID), over IMAP."""
    m.select(f'"{folder}"', readonly=True)
    typ, data = m.uid("FETCH", web_id.split("-")[1], "(FLAGS)")
    return set(re.search(rb"FLAGS \(([^)]*)\)", data[0]).group(1).decode().split())


def imap_subjects(m, folder):
    typ, data = m.select(f'"{folder}"', readonly=True)
    assert typ == "OK", (folder, data)
    if int(data[0]) == 0:
        return []
    typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    return [(part[1].decode(errors="replace").split(":", 1) + [""])[1].strip() for part in data
            if isinstance(part, tuple)]


def data_head(raw):
    """The header of a message as text (up to the first empty line)."""
    return raw.decode(errors="replace").split("\r\n\r\n", 1)[0]


def item(folder, subject, addr=ALICE):
    items = get(f"/emails?folder={folder}&limit=1000", addr)["items"]
    found = [i for i in items if i["subject"] == subject]
    assert len(found) == 1, (folder, subject, [i["subject"] for i in items])
    return found[0]


def test_folders_and_pages():
    t = token()
    # every third one without a brief (scanned before briefs): read from its log
    ids = [env.deliver(ALICE, f"s{i}@example.org", f"msg {i}",
                       verdict="spam" if i % 2 else "ham", action="tag" if i % 2 else "accept",
                       score=float(i), brief=i % 3 != 0) for i in range(27)]
    folders = get("/emails/folders")["folders"]
    names = [f["name"] for f in folders]
    assert names[0] == "INBOX" and {"Junk", "Sent", "Trash", "Drafts"} <= set(names), names
    inbox = folders[0]
    assert inbox["role"] == "inbox" and inbox["messages"] == 27 and inbox["unseen"] == 27, inbox
    r = env.api.request("GET", "/emails/inbox?limit=10", token=t)
    assert r.status == 200, r
    page = r.json()
    assert len(page["items"]) == 10 and page["next_cursor"]
    first = page["items"][0]
    assert first["id"] == ids[-1] and first["subject"] == "msg 26", first
    assert first["verdict"] == "ham" and first["action"] == "accept" and first["score"] == 26.0
    assert first["seen"] is False and first["flagged"] is False and first["folder"] == "INBOX"
    seen, cursor = [], None
    while True:
        q = "/emails/inbox?limit=7" + (f"&cursor={cursor}" if cursor else "")
        p = get(q)
        seen += [i["id"] for i in p["items"]]
        cursor = p["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids)), (len(seen), len(set(seen)))
    scores = {i["subject"]: i["score"] for i in get("/emails/inbox?limit=100")["items"]}
    assert all(scores[f"msg {i}"] == float(i) for i in range(27)), scores
    # a message expunged between two pages neither shortens nor repeats them
    p1 = get("/emails?folder=INBOX&limit=5")
    m = imap()
    m.select("INBOX")
    m.store("1:2", "+FLAGS", "\\Deleted")
    m.expunge()
    m.logout()
    p2 = get(f"/emails?folder=INBOX&limit=5&cursor={p1['next_cursor']}")
    assert [i["id"] for i in p2["items"]] == list(reversed(ids))[5:10], p2
    # the first page after the folder shrank well below what this thread saw
    newest = [i["id"] for i in get("/emails?folder=INBOX&limit=3")["items"]]
    assert newest == list(reversed(ids))[:3], newest
    m = imap()
    m.select("INBOX")
    m.store("1:20", "+FLAGS", "\\Deleted")
    m.expunge()
    m.logout()
    for _ in range(6):  # every worker thread sees it right
        p = get("/emails?folder=INBOX&limit=3")
        assert [i["id"] for i in p["items"]] == list(reversed(ids))[:3], p
    assert len(get("/emails?folder=INBOX&limit=50")["items"]) == 5
    assert get("/emails/sent") == {"items": [], "next_cursor": None}
    for bad in ("/emails/inbox?cursor=zzz", "/emails?folder=%2A", "/emails?folder=",
                "/emails/inbox?limit=abc"):
        r = env.api.request("GET", bad, token=t)
        assert r.status in (400, 200), (bad, r)  # an empty folder= means the INBOX
    assert env.api.request("GET", "/emails?folder=Nope", token=t).status == 404


def imap_sessions(addr):
    """How many IMAP sessions addr has in Dovecot now (doveadm who)."""
    r = env.dove.doveadm("who", "-1", addr)
    assert r.returncode == 0, r.stderr
    return sum(1 for line in r.stdout.splitlines()[1:] if " imap " in f" {line} ")


def test_imap_changes_show_at_once():
    """A page comes over a pooled IMAP connection that keeps the folder
    open (EXAMINE) and its last page: what another IMAP client did just
    before (a flag, a move, an expunge, new mail) is on the very next
    request of the same page (NOOP sync), on every pooled connection."""
    subj = [f"sync {i}" for i in range(4)]
    for s in subj:
        env.deliver(ALICE, "d@example.org", s)

    def pages():
        """The newest 4, asked often enough to reach every connection."""
        out = [get("/emails/inbox?limit=4")["items"] for _ in range(8)]
        assert all(p == out[0] for p in out), out
        return out[0]

    assert [i["subject"] for i in pages()] == subj[::-1]
    m = imap()
    m.select("INBOX")
    num = lambda s: m.search(None, "SUBJECT", f'"{s}"')[1][0].decode()  # noqa: E731
    m.store(num("sync 3"), "+FLAGS", "(\\Seen \\Flagged)")  # a flag only
    items = pages()
    assert items[0]["seen"] is True and items[0]["flagged"] is True, items[0]
    assert items[1]["seen"] is False
    m.store(num("sync 3"), "-FLAGS", "(\\Flagged)")
    assert pages()[0]["flagged"] is False
    typ, data = m._simple_command("MOVE", num("sync 2"), "Junk")  # an expunge here
    assert typ == "OK", data
    assert [i["subject"] for i in pages()][:3] == ["sync 3", "sync 1", "sync 0"]
    m.store(num("sync 1"), "+FLAGS", "\\Deleted")
    m.expunge()
    m.logout()
    assert [i["subject"] for i in pages()][:2] == ["sync 3", "sync 0"]
    env.deliver(ALICE, "d@example.org", "sync 4")  # new mail
    assert [i["subject"] for i in pages()][:3] == ["sync 4", "sync 3", "sync 0"]
    # a change made on the web (doveadm) shows on the IMAP-read page too
    newest = pages()[0]
    r = env.api.request("POST", f"/emails/{newest['id']}/flags", {"flagged": True},
                        token=token())
    assert r.status == 204, r
    assert pages()[0]["flagged"] is True
    assert item("Junk", "sync 2")["folder"] == "Junk"
    assert "event=imap_failed" not in env.api.log(), env.api.log()[-3000:]
    assert "event=imap_login user=alice@example.test" in env.api.log()


def test_both_paths_give_the_same_items():
    """A page over IMAP and the same messages through doveadm (a search
    reads through doveadm) are the same items: encoded words, a header with
    bytes that are not UTF-8 (U+FFFD), no subject at all; From and To name
    the same people (IMAP's envelope gives them without quotes that are not
    needed, but a name with a comma stays quoted: one address, not two)."""
    tag = "samepath"
    raws = [message(f'"Doe, Jane" <jane@example.org>', ALICE, f"{tag} plain"),
            message("=?utf-8?q?J=C3=BCrgen?= <j@example.org>", ALICE,
                    f"=?iso-8859-1?q?{tag}_gr=FC=DFe?="),
            f"From: x@example.org\r\nTo: {ALICE}\r\nSubject: {tag} caf\xe9 8bit\r\n\r\nhi\r\n"
            .encode("latin-1"),
            f"From: x@example.org\r\nTo: {ALICE}\r\n\r\nno subject, {tag} in the body\r\n"]
    for raw in raws:
        env.deliver(ALICE, "x@example.org", tag, raw=raw)
    over_imap = get("/emails/inbox?limit=4")["items"]
    through_doveadm = get(f"/emails?folder=INBOX&q={tag}")["items"]
    assert len(over_imap) == 4 and len(through_doveadm) == 4, through_doveadm
    people = lambda v: email.utils.getaddresses([v or ""])  # noqa: E731
    for a, b in zip(over_imap, through_doveadm):
        for k in ("from", "to"):
            assert people(a.pop(k)) == people(b.pop(k)), (k, a, b)
        assert a == b, (a, b)
    assert "\ufffd" in over_imap[1]["subject"], over_imap[1]
    assert over_imap[0]["subject"] is None
    assert get("/emails/inbox?limit=4")["items"][3]["from"] == '"Doe, Jane" <jane@example.org>'



def test_users_never_share_a_connection():
    """Two users' pages, interleaved one by one and in parallel: each sees
    only their own mail (a pooled connection is logged in as one user and
    serves only that user)."""
    bob = "bob@example.test"
    token(bob)  # registered: a Dovecot user
    mine = {ALICE: set(), bob: set()}
    for i in range(6):
        for addr in (ALICE, bob):
            mine[addr].add(env.deliver(addr, "x@example.org", f"for {addr} {i}"))
    own = {a: {i["id"] for i in get("/emails/inbox?limit=500", a)["items"]} for a in mine}
    assert mine[bob] == own[bob] and mine[ALICE] <= own[ALICE]
    assert not own[ALICE] & own[bob]

    def page(k):
        addr = (ALICE, bob)[k % 2]
        items = get(f"/emails/inbox?limit={5 + k % 7}", addr)["items"]
        return addr, {i["id"] for i in items}, {i["subject"] for i in items}

    results = [page(k) for k in range(12)]
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        results += list(ex.map(page, range(80)))
    for addr, ids, subjects in results:
        assert ids and ids <= own[addr], (addr, ids - own[addr])
        other = bob if addr == ALICE else ALICE
        assert not any((s or "").startswith(f"for {other}") for s in subjects), (addr, subjects)


def test_pool_bounds_and_idle():
    """However many of a user's requests run at once, the user has at most
    [dovecot] imap_user_connections IMAP sessions (2 here; the other
    requests are answered through doveadm, the same page); sessions unused
    for imap_idle_s (IDLE_S here) are closed."""
    want = [i["id"] for i in get("/emails/inbox?limit=20")["items"]]
    most, done = [0], threading.Event()

    def sample():
        while not done.is_set():
            most[0] = max(most[0], imap_sessions(ALICE))

    s = threading.Thread(target=sample)
    s.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            pages = list(ex.map(lambda _: [i["id"] for i in
                                           get("/emails/inbox?limit=20")["items"]], range(60)))
    finally:
        done.set()
        s.join()
    assert all(p == want for p in pages)
    assert 1 <= most[0] <= 2, most[0]
    deadline = time.time() + IDLE_S + 15  # swept every 5 s
    while imap_sessions(ALICE) and time.time() < deadline:
        time.sleep(0.5)
    assert imap_sessions(ALICE) == 0
    assert [i["id"] for i in get("/emails/inbox?limit=20")["items"]] == want
    assert imap_sessions(ALICE) == 1


def test_dovecot_restart():
    """Dovecot restarts (every IMAP session gone): the next pages come over
    new IMAP connections (a dead one is replaced in the same request), not
    through the doveadm fallback."""
    want = [i["id"] for i in get("/emails/inbox?limit=10")["items"]]
    before = env.api.log().count("event=imap_login user=alice@example.test")
    t0 = time.time()
    env.dove.restart()
    for _ in range(6):
        assert [i["id"] for i in get("/emails/inbox?limit=10")["items"]] == want
    log = env.api.log()
    assert log.count("event=imap_login user=alice@example.test") > before, log[-3000:]
    # unless the pooled connection was closed as idle meanwhile, it was
    # found dead and replaced
    assert "event=imap_reconnect" in log or time.time() - t0 > IDLE_S, log[-3000:]
    assert "event=imap_failed" not in log, log[-3000:]
    assert imap_sessions(ALICE) >= 1


def test_read_message():
    t = token()
    html = ("<p onclick='x()'>Hi <b>there</b><script>alert(1)</script>"
            "<img src='http://track.example/x.gif'><a href='javascript:alert(2)'>bad</a>"
            "<a href='https://example.org/'>good</a><style>p{}</style></p>")
    raw = message("Bob <bob@example.org>", ALICE, "=?utf-8?q?Gr=C3=BC=C3=9Fe?=",
                  body="plain text body", html=html, attach="report.pdf")
    mid = env.deliver(ALICE, "bob@example.org", "Grüße", raw=raw, verdict="spam",
                      action="tag", score=7.5, symbols=(("SVM_SPAM", 6.0), ("SPF_FAIL", 1.5)))
    assert item("INBOX", "Grüße")["seen"] is False
    r = env.api.request("GET", f"/emails/{mid}", token=t)
    assert r.status == 200, r
    m = r.json()
    assert m["subject"] == "Grüße", m["subject"]
    assert m["from"] == "Bob <bob@example.org>" and m["folder"] == "INBOX"
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
    # reading it on the web marks it read for every client
    assert item("INBOX", "Grüße")["seen"] is True
    im = imap()
    assert "\\Seen" in imap_uid_flags(im, "INBOX", mid), "not \\Seen in IMAP"
    im.logout()
    r = env.api.request("GET", f"/emails/{mid}/raw", token=t)
    assert r.status == 200 and r.headers["Content-Type"] == "message/rfc822"
    norm = lambda b: b.replace(b"\r\n", b"\n")  # noqa: E731 (Dovecot keeps LF)
    assert norm(r.body).endswith(norm(raw.encode())), r.body[:300]
    # a message that is not MIME at all still reads
    junk = env.deliver(ALICE, "x@example.org", "junk", raw="\x01 no headers at all \u00ff")
    assert env.api.request("GET", f"/emails/{junk}", token=t).status == 200


def test_remote_images():
    """Remote images stay off until asked for, per message: ?images=1 and
    the one-use frame URL (its own CSP) carry them; nothing else does."""
    t = token()
    html = ("<p>Hi<img src='http://127.0.0.1:9/pixel.png' alt='px' onerror='x()'>"
            "<img src='javascript:alert(1)'><img src='cid:a@b'></p>")
    raw = message("Bob <bob@example.org>", ALICE, "with images", body="text", html=html)
    mid = env.deliver(ALICE, "bob@example.org", "with images", raw=raw)
    m = get(f"/emails/{mid}")
    assert "<img" not in m["html"] and m["remote_images"] == 1, m
    m = get(f"/emails/{mid}?images=1")
    assert m["remote_images"] == 1, m
    assert '<img src="http://127.0.0.1:9/pixel.png" alt="px">' in m["html"], m["html"]
    for bad in ("onerror", "javascript", "cid:"):
        assert bad not in m["html"], (bad, m["html"])
    # the frame: minted by the signed-in user only
    assert env.api.request("POST", f"/emails/{mid}/frame", {}).status == 401
    r = env.api.request("POST", f"/emails/{mid}/frame", {}, token=t)
    assert r.status == 200, r
    url = r.json()["url"]
    assert re.fullmatch(r"/frame/[A-Za-z0-9_-]{43}", url), url
    # in Redis, so any ims-webapi of the site answers it; 60 s at most
    ttl = int(env.redis.cli("TTL", "ims:{global}:frame:" + url.rsplit("/", 1)[1]).strip())
    assert 0 < ttl <= 60, ttl
    r = env.api.request("GET", url)  # no bearer token: the URL is the authority
    assert r.status == 200, r
    assert r.headers["Content-Type"].startswith("text/html"), r.headers
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "img-src https: http: data:" in csp, csp
    assert "script" not in csp and r.headers["Referrer-Policy"] == "no-referrer"
    body = r.body.decode()
    assert body.startswith("<!doctype html>") and "pixel.png" in body, body
    assert "onerror" not in body and "javascript" not in body
    # one use
    assert env.api.request("GET", url).status == 404
    for bad in ("/frame/x", "/frame/" + "A" * 43, url[:-1] + ("A" if url[-1] != "A" else "B")):
        assert env.api.request("GET", bad).status == 404, bad
    # another user's message: a ticket for it gives nothing
    token("anna@example.test")
    other = env.deliver("anna@example.test", "x@example.org", "anna's images", raw=message(
        "x@example.org", "anna@example.test", "anna's images", body="t", html=html))
    r = env.api.request("POST", f"/emails/{other}/frame", {}, token=t)
    if r.status == 200:
        r = env.api.request("GET", r.json()["url"])
    assert r.status == 404, r
    # the UI's own policy is unchanged
    ui = env.api.request("GET", "/ui/")
    assert "img-src 'self' data:" in ui.headers.get("Content-Security-Policy", ""), ui.headers


def test_flags_both_ways():
    t = token()
    mid = env.deliver(ALICE, "carol@example.org", "flag me")
    r = env.api.request("POST", f"/emails/{mid}/flags", {"flagged": True, "seen": True}, token=t)
    assert r.status == 204, r
    im = imap()
    assert {"\\Flagged", "\\Seen"} <= imap_flags(im, "INBOX", "flag me")
    # and back: what an IMAP client does shows on the web at once
    im.select("INBOX")
    typ, data = im.search(None, "SUBJECT", '"flag me"')
    im.store(data[0].split()[0], "-FLAGS", "(\\Seen \\Flagged)")
    im.logout()
    it = item("INBOX", "flag me")
    assert it["seen"] is False and it["flagged"] is False, it
    for bad in ({}, {"seen": "yes"}, {"flagged": 1}):
        assert env.api.request("POST", f"/emails/{mid}/flags", bad, token=t).status == 400


def test_move_delete_and_trash():
    t = token()
    im = imap()
    im.create("Projects")
    mid = env.deliver(ALICE, "dan@example.org", "move me")
    r = env.api.request("POST", f"/emails/{mid}/move", {"folder": "Projects"}, token=t)
    assert r.status == 204, r
    assert "move me" in imap_subjects(im, "Projects") and "move me" not in imap_subjects(im, "INBOX")
    assert env.api.request("GET", f"/emails/{mid}", token=t).status == 404  # a move is a new id
    assert env.api.request("POST", f"/emails/{mid}/move", {"folder": "Junk"},
                           token=t).status == 404
    moved = item("Projects", "move me")
    assert env.api.request("POST", f"/emails/{moved['id']}/move", {"folder": "No such"},
                           token=t).status == 404
    assert env.api.request("POST", f"/emails/{moved['id']}/move", {"folder": "a*"},
                           token=t).status == 400
    # delete = into Trash, where every client sees it
    assert env.api.request("DELETE", f"/emails/{moved['id']}", token=t).status == 204
    assert "move me" in imap_subjects(im, "Trash")
    trashed = item("Trash", "move me")
    # deleted in Trash = gone
    assert env.api.request("DELETE", f"/emails/{trashed['id']}", token=t).status == 204
    assert "move me" not in imap_subjects(im, "Trash")
    assert env.api.request("DELETE", f"/emails/{trashed['id']}", token=t).status == 404
    # empty Trash
    for s in ("old 1", "old 2"):
        env.deliver(ALICE, "x@example.org", s, folder="Trash")
    assert len(imap_subjects(im, "Trash")) == 2
    assert env.api.request("POST", "/emails/trash/empty", token=t).status == 204
    assert imap_subjects(im, "Trash") == []
    # a message deleted over IMAP is gone from the web at once
    gone = env.deliver(ALICE, "x@example.org", "deleted on the phone")
    im.select("INBOX")
    typ, data = im.search(None, "SUBJECT", '"deleted on the phone"')
    im.store(data[0].split()[0], "+FLAGS", "\\Deleted")
    im.expunge()
    im.logout()
    assert env.api.request("GET", f"/emails/{gone}", token=t).status == 404


def test_search():
    t = token()
    env.deliver(ALICE, "erin@example.org", "quarterly figures",
                raw=message("Erin <erin@example.org>", ALICE, "quarterly figures",
                            body="the turnover is up by a third\r\n"))
    found = lambda q: [i["subject"] for i in get(f"/emails?folder=INBOX&q={q}")["items"]]  # noqa
    assert found("quarterly") == ["quarterly figures"]
    assert found("turnover") == ["quarterly figures"]
    assert found("erin%40example.org") == ["quarterly figures"]
    assert found("nothing-like-this") == []
    for hostile in ("%28", "%29", "OR", "ALL", "%22", "%5C"):
        r = env.api.request("GET", f"/emails?folder=INBOX&q={hostile}", token=t)
        assert r.status == 200, (hostile, r)
    assert env.api.request("GET", "/emails?q=" + "x" * 300, token=t).status == 400


def test_report_is_a_move():
    t = token()
    mid = env.deliver(ALICE, "spammer@example.org", "buy now")
    r = env.api.request("POST", f"/emails/{mid}/report", {"label": "spam"}, token=t)
    assert r.status == 202 and r.json()["folder"] == "Junk", r
    im = imap()
    assert "buy now" in imap_subjects(im, "Junk") and "buy now" not in imap_subjects(im, "INBOX")
    # one feedback store (lib/feedback.h): keyed by the message (its scan id,
    # else its SHA-256), the web as the source, the message itself kept
    entries = env.cli("XRANGE", "ims:{global}:feedback", "-", "+")
    assert "spam" in entries and "buy now" in entries and "web" in entries, entries
    junk = item("Junk", "buy now")
    # the same report again (another id now: it moved) adds nothing
    n = env.cli("XLEN", "ims:{global}:feedback").strip()
    r = env.api.request("POST", f"/emails/{junk['id']}/report", {"label": "spam"}, token=t)
    assert r.status == 202 and r.json()["outcome"] == "duplicate", r
    assert env.cli("XLEN", "ims:{global}:feedback").strip() == n
    for bad in ({"label": "maybe"}, {}, {"label": 1}):
        assert env.api.request("POST", f"/emails/{junk['id']}/report", bad,
                               token=t).status == 400
    r = env.api.request("POST", f"/emails/{junk['id']}/report", {"label": "ham"}, token=t)
    assert r.status == 202 and r.json()["folder"] == "INBOX", r
    assert "buy now" in imap_subjects(im, "INBOX")
    im.logout()
    # a plain web move into Junk teaches ims too (Dovecot's IMAPSieve does not
    # see moves made through doveadm, so the web records them itself)
    mid = env.deliver(ALICE, "other@example.org", "cheap watches")
    sid = env.last_scan_id
    n = int(env.cli("XLEN", "ims:{global}:feedback"))
    assert env.api.request("POST", f"/emails/{mid}/move", {"folder": "Junk"},
                           token=t).status == 204
    assert int(env.cli("XLEN", "ims:{global}:feedback")) == n + 1
    assert sid in env.cli("XREVRANGE", "ims:{global}:feedback", "+", "-", "COUNT", "1")


def test_other_users_message():
    token("anna@example.test")
    mid = env.deliver("anna@example.test", "x@example.org", "for anna only")
    bert = token("bert@example.test")
    assert env.api.request("GET", f"/emails/{mid}", token=token("anna@example.test")).status == 200
    for method, path, body in (("GET", f"/emails/{mid}", None),
                               ("GET", f"/emails/{mid}/raw", None),
                               ("DELETE", f"/emails/{mid}", None),
                               ("POST", f"/emails/{mid}/flags", {"seen": True}),
                               ("POST", f"/emails/{mid}/move", {"folder": "Trash"}),
                               ("POST", f"/emails/{mid}/report", {"label": "spam"})):
        r = env.api.request(method, path, body, token=bert)
        assert r.status == 404, (method, path, r)
    # still there for its owner, unchanged
    it = item("INBOX", "for anna only", "anna@example.test")
    assert it["id"] == mid and it["seen"] is True, it
    # an escaped NUL is refused before routing (tests/webapi/test_http.py)
    assert env.api.request("GET", "/emails/%00", token=bert).status == 400
    for bad in ("..%2F..%2Fetc", "0" * 27, "{x}", "*", mid.upper(), mid + "0" * 20,
                mid.split("-")[0] + "-0"):
        r = env.api.request("GET", f"/emails/{bad}", token=bert)
        assert r.status == 404, (bad, r)


def test_scan_shown_only_to_its_user():
    # alice's scan log; dora writes its id into a message of her own (IMAP APPEND)
    token("dora@example.test")
    env.deliver(ALICE, "x@example.org", "alice's secret scan", verdict="spam", score=9.0)
    sid = env.last_scan_id
    raw = f"X-IMS-Scan-Id: {sid}\r\n" + message("d@example.org", "dora@example.test", "forged")
    env.deliver("dora@example.test", "d@example.org", "forged", raw=raw, scan=False)
    it = item("INBOX", "forged", "dora@example.test")
    assert it["verdict"] is None and it["score"] is None, it
    m = get(f"/emails/{it['id']}", "dora@example.test")
    assert m["scan"] is None, m["scan"]


NON_UTF8 = [("iso-8859-1", "Grüße aus Köln", "Köln"),
            ("windows-1252", "Preis: 5 € “gut”", "Preis €"),
            ("koi8-r", "Привет, мир", "Привет"),
            ("shift_jis", "日本語のメール", "日本語")]


def non_utf8_message(cs, body, subj, cte):
    """A text/plain message in charset cs: the body in transfer encoding
    cte (8bit: the charset's own bytes), the subject an RFC 2047 word."""
    import quopri
    b = body.encode(cs)
    b = {"8bit": b, "quoted-printable": quopri.encodestring(b),
         "base64": base64.encodebytes(b)}[cte]
    word = "=?%s?b?%s?=" % (cs, base64.b64encode(subj.encode(cs)).decode())
    return (f"From: x@example.org\r\nTo: {ALICE}\r\nSubject: {word} {cte}\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset={cs}\r\n"
            f"Content-Transfer-Encoding: {cte}\r\n\r\n").encode() + b + b"\r\n"


def test_read_non_utf8():
    """Mail in other charsets, delivered into Dovecot, reads as the right
    text on the web (GET /emails/{id}): no U+FFFD.  Bodies in a 7-bit
    transfer encoding here; 8-bit bodies need the bytes, read over IMAP
    (test_read_8bit_over_imap; doveadm's JSON would give U+FFFD,
    docs/operations.md) and in the quarantine preview (test_preview_8bit)."""
    t = token()
    for cs, body, subj in NON_UTF8:
        for cte in ("quoted-printable", "base64"):
            mid = env.deliver(ALICE, "x@example.org", f"{subj} {cte}",
                              raw=non_utf8_message(cs, body, subj, cte))
            r = env.api.request("GET", f"/emails/{mid}", token=t)
            assert r.status == 200, r
            m = r.json()
            assert m["subject"] == f"{subj} {cte}", (cs, cte, m["subject"])
            assert body in m["text"] and "\ufffd" not in m["text"], (cs, cte, m["text"])


def test_read_8bit_over_imap():
    """8-bit bodies delivered into Dovecot (Latin-1 naming no charset,
    KOI8-R naming its own) read as the right text in GET /emails/{id} and
    come back byte for byte from /raw: ims-webapi reads the message's
    bytes over its IMAP pool (BODY.PEEK[]), not doveadm's JSON text.  The
    read over IMAP sets no \\Seen (/raw and attachments leave the message
    unread; GET /emails/{id} marks it read, as before), and another user's
    id stays 404."""
    t = token()
    latin1 = (f"From: x@example.org\r\nTo: {ALICE}\r\nSubject: imap8 latin1\r\n\r\n".encode() +
              "Grüße aus Köln, naïve café\r\n".encode("latin-1"))
    koi8 = non_utf8_message("koi8-r", "Привет, мир", "imap8", "8bit")
    norm = lambda b: b.replace(b"\r\n", b"\n")  # noqa: E731 (Dovecot keeps LF)
    for raw, body in ((latin1, "Grüße aus Köln, naïve café"), (koi8, "Привет, мир")):
        mid = env.deliver(ALICE, "x@example.org", "imap8", raw=raw)
        r = env.api.request("GET", f"/emails/{mid}/raw", token=t)
        assert r.status == 200, r
        assert norm(r.body).endswith(norm(raw)), r.body[-200:]
        im = imap()
        assert "\\Seen" not in imap_uid_flags(im, "INBOX", mid), "/raw set \\Seen"
        r = env.api.request("GET", f"/emails/{mid}", token=t)
        assert r.status == 200, r
        m = r.json()
        assert body in m["text"] and "\ufffd" not in m["text"], m["text"]
        assert "\\Seen" in m["flags"], m["flags"]
        assert "\\Seen" in imap_uid_flags(im, "INBOX", mid), "the web's read not \\Seen"
        im.logout()
        other = token("bert@example.test")
        for path in (f"/emails/{mid}", f"/emails/{mid}/raw", f"/emails/{mid}/attachments/0"):
            assert env.api.request("GET", path, token=other).status == 404, path
    assert "event=imap_failed" not in env.api.log(), env.api.log()[-3000:]


def hold_bytes(raw, subject):
    """Holds raw (bytes, kept as they are) for ALICE as the milter does;
    returns its id."""
    import subprocess
    t = int(time.time() * 1000)
    sid = ulid(t)
    env.pipe(Env.hold_cmds(sid, t, "x" * len(raw), "x@example.org", [ALICE], subject, 9.0))
    r = subprocess.run(env.redis.cli_argv() + ["-x", "SET", f"ims:{{global}}:qraw:{sid}"],
                       input=raw, capture_output=True)
    assert r.returncode == 0, r.stderr
    return sid


def test_preview_8bit():
    """8-bit mail, as it arrives: each charset's own bytes in body and
    subject, and 8-bit text that names no charset (read as UTF-8 when it is,
    else Windows-1252), shown right in the preview of a held message."""
    t = token()
    cases = [(non_utf8_message(cs, body, subj, "8bit"), f"{subj} 8bit", body)
             for cs, body, subj in NON_UTF8]
    cases.append((f"From: x@example.org\r\nTo: {ALICE}\r\nSubject: ".encode() +
                  "Grüße ohne Zeichensatz".encode("cp1252") + b"\r\n\r\n" +
                  "Köln 5 €".encode("cp1252") + b"\r\n", "Grüße ohne Zeichensatz", "Köln 5 €"))
    for raw, subject, body in cases:
        sid = hold_bytes(raw, subject)
        r = env.api.request("GET", f"/emails/quarantine/{sid}", token=t)
        assert r.status == 200, r
        m = r.json()["message"]
        assert m["subject"] == subject, (subject, m["subject"])
        assert body in m["text"] and "\ufffd" not in m["text"], (subject, m["text"])


def test_send():
    t = token()
    before = len(sink.messages)
    r = env.api.request("POST", "/emails/send",
                        {"to": ["carol@example.org", "Dan <dan@example.net>"],
                         "cc": "eve@example.org", "bcc": ["hidden@example.org"],
                         "subject": "Grüße aus ims", "text": "Hallo\n.\nline after a dot",
                         "html": "<p>Hallo</p>"}, token=t)
    assert r.status == 202, r
    assert r.json()["recipients"] == 4 and r.json()["saved"] is True, r.json()
    deadline = time.time() + 5
    while len(sink.messages) == before and time.time() < deadline:
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
    # the copy in Sent, read, for IMAP and the web
    im = imap()
    assert "=?UTF-8?b?R3LDvMOfZSBhdXMgaW1z?=" in imap_subjects(im, "Sent") or \
        any("ims" in s for s in imap_subjects(im, "Sent")), imap_subjects(im, "Sent")
    sent = get("/emails/sent")["items"]
    assert sent[0]["subject"] == "Grüße aus ims" and sent[0]["seen"] is True, sent[0]
    # the Sent copy keeps the Bcc (as mail clients do); what went out has none
    typ, data = im.fetch("*", "(BODY.PEEK[HEADER])")
    head = data[0][1].decode()
    assert "Bcc: hidden@example.org\r\n" in head, head
    assert r.json()["message_id"] in head, head  # the same message
    assert "bcc:" not in data_head(m["data"]).lower(), data
    im.logout()
    for bad in ({"to": [], "text": "x"}, {"to": "not an address", "text": "x"},
                {"to": "a@b.example", "subject": "x\r\nBcc: y@z", "text": "x"},
                {"to": "a@b.example"}, {"to": 5, "text": "x"},
                {"to": ["a@b.example"] * 101, "text": "x"},
                {"to": ["b"], "text": ""}, {"cc": ["x@y.example", "b"], "text": ""},
                {"to": "a@b.example", "text": "x", "in_reply_to": "nope"}):
        r = env.api.request("POST", "/emails/send", bad, token=t)
        assert r.status == 400, (bad, r)
    # a mailbox GMime parses without '@': the error quotes it (read after free before)
    r = env.api.request("POST", "/emails/send", {"to": ["b"], "text": ""}, token=t)
    assert r.json()["error"] == "to: 'b' is not an address", r.json()
    # a recipient the server refuses for good -> 400 with its answer
    r = env.api.request("POST", "/emails/send", {"to": "refused@example.org", "text": "x"},
                        token=t)
    assert r.status == 400 and "550" in r.json()["error"], r


def test_reply_and_forward_thread():
    t = token()
    raw = ("From: Fred <fred@example.org>\r\nTo: alice@example.test\r\nSubject: plans\r\n"
           "Message-ID: <plans-2@example.org>\r\nReferences: <plans-1@example.org>\r\n"
           "\r\nShall we?\r\n")
    mid = env.deliver(ALICE, "fred@example.org", "plans", raw=raw)
    r = env.api.request("POST", "/emails/send", {"to": "fred@example.org", "subject": "Re: plans",
                                                 "text": "Yes.", "in_reply_to": mid}, token=t)
    assert r.status == 202, r
    data = sink.messages[-1]["data"].decode()
    assert "In-Reply-To: <plans-2@example.org>" in data, data[:600]
    assert re.search(r"References: <plans-1@example.org>\s+<plans-2@example.org>", data), data
    r = env.api.request("POST", "/emails/send", {"to": "gil@example.org", "subject": "Fwd: plans",
                                                 "text": "See below.", "forward_of": mid},
                        token=t)
    assert r.status == 202, r
    data = sink.messages[-1]["data"].decode()
    assert "In-Reply-To" not in data and "<plans-2@example.org>" in data
    other = token("hank@example.test")
    r = env.api.request("POST", "/emails/send", {"to": "x@example.org", "text": "x",
                                                 "in_reply_to": mid}, token=other)
    assert r.status == 404, r


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
    # [dovecot] imap without the master user's secret: refused at start
    bad = env.api.conf + ".imap"
    with open(bad, "w") as f:
        f.write(re.sub(r"(?m)^submission_password_file = .*$", "", conf))
    r = subprocess.run([find_binary("ims-webapi", "webapi"), "-c", bad], timeout=30,
                       capture_output=True, text=True)
    assert r.returncode != 0 and "[dovecot] imap needs the master user" in r.stdout + r.stderr, \
        r.stdout + r.stderr


def test_attachments_and_drafts():
    """Send with attachments (base64 in the JSON), the list's snippet and
    attachment marker, an attachment downloaded decoded, drafts saved into
    Drafts (\\Draft), replaced, and dropped once sent."""
    t = token()
    before = len(sink.messages)
    r = env.api.request("POST", "/emails/send",
                        {"to": "fay@example.org", "subject": "With files", "text": "Two files.",
                         "attachments": [{"filename": "menu.txt", "content_type": "text/plain",
                                          "data": "bWVudTogc291cAo="},
                                         {"filename": "b.bin", "data": "AAEC/w=="}]}, token=t)
    assert r.status == 202, r
    deadline = time.time() + 5
    while len(sink.messages) == before and time.time() < deadline:
        time.sleep(0.05)
    data = sink.messages[-1]["data"].decode()
    assert "multipart/mixed" in data and "filename=menu.txt" in data, data
    # a page over IMAP: the paper clip from Dovecot's $HasAttachment keyword
    item = [m for m in get("/emails/sent")["items"] if m["subject"] == "With files"][0]
    assert item["attachment"] is True, item
    # a search (doveadm) also has Dovecot's snippet
    found = get("/emails?folder=Sent&q=Two%20files")["items"]
    assert found[0]["attachment"] is True and found[0]["snippet"].startswith("Two files"), found
    msg = get("/emails/" + item["id"])
    assert [a["filename"] for a in msg["attachments"]] == ["menu.txt", "b.bin"], msg
    r = env.api.request("GET", f"/emails/{item['id']}/attachments/1", token=t)
    assert r.status == 200 and r.body == b"\x00\x01\x02\xff", r
    assert r.headers.get("Content-Type") == "application/octet-stream", r.headers
    assert r.headers.get("Content-Disposition") == "attachment", r.headers
    for n in ("2", "x", "-1", "99999999999999999999"):
        r = env.api.request("GET", f"/emails/{item['id']}/attachments/{n}", token=t)
        assert r.status == 404, (n, r)
    r = env.api.request("GET", f"/emails/{item['id']}/attachments/0", token=token("bob@example.test"))
    assert r.status == 404, r  # another user's message
    for bad in ({"to": "a@b.example", "text": "x", "attachments": "x"},
                {"to": "a@b.example", "text": "x", "attachments": [{"filename": "a", "data": "!!"}]},
                {"to": "a@b.example", "text": "x",
                 "attachments": [{"filename": "a/b", "data": "AAAA"}]},
                {"to": "a@b.example", "text": "x", "draft": "nope"}):
        r = env.api.request("POST", "/emails/send", bad, token=t)
        assert r.status == 400, (bad, r)
    # a draft: no recipient needed, \Draft and \Seen, found again by its id
    r = env.api.request("POST", "/emails/drafts", {"subject": "Later"}, token=t)
    assert r.status == 201, r
    d1 = r.json()["id"]
    assert d1, r.json()
    drafts = get("/emails?folder=Drafts")["items"]
    assert [m["id"] for m in drafts] == [d1] and drafts[0]["draft"] and drafts[0]["seen"], drafts
    im = imap()
    assert {"\\Draft", "\\Seen"} <= imap_uid_flags(im, "Drafts", d1), imap_uid_flags(im, "Drafts", d1)
    im.logout()
    # saved again: the new one replaces it
    r = env.api.request("POST", "/emails/drafts",
                        {"to": "gus@example.org", "subject": "Later", "text": "more", "draft": d1},
                        token=t)
    assert r.status == 201, r
    d2 = r.json()["id"]
    assert [m["id"] for m in get("/emails?folder=Drafts")["items"]] == [d2]
    assert get("/emails/" + d2)["to"] == "gus@example.org"
    # sent: it leaves Drafts
    r = env.api.request("POST", "/emails/send",
                        {"to": "gus@example.org", "subject": "Later", "text": "more", "draft": d2},
                        token=t)
    assert r.status == 202, r
    assert get("/emails?folder=Drafts")["items"] == []


def main():
    global env, sink
    from harness import common
    tmp = common.TempDir("ims-webapi-model-")
    model = hmilter.make_model(tmp, 1.0)
    # the master user's password: the sink's AUTH and Dovecot's master
    # passdb (folder pages over IMAP as "user*webapi") take the same one
    master = "master secret 7"  # the harness Dovecot's
    sink = SmtpSink(user="webapi", password=master, reject_rcpt="refused@example.org").start()
    pwfile = os.path.join(tmp.path, "submission.pw")
    with open(os.open(pwfile, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(master + "\n")  # ims-webapi refuses a secret others can read
    try:
        with Env(extra={"webapi.submission": sink.url(), "webapi.submission_user": "webapi",
                        "webapi.submission_password_file": pwfile,
                        "classifier.model": model,
                        "dovecot.imap_user_connections": "2",
                        "dovecot.imap_idle_s": str(IDLE_S)},
                 dovecot=True, imap=True) as e:
            env = e
            run([test_folders_and_pages, test_imap_changes_show_at_once,
                 test_both_paths_give_the_same_items,
                 test_users_never_share_a_connection, test_pool_bounds_and_idle,
                 test_dovecot_restart, test_read_message, test_remote_images, test_read_non_utf8, test_read_8bit_over_imap,
                 test_preview_8bit,
                 test_flags_both_ways,
                 test_move_delete_and_trash, test_search, test_report_is_a_move,
                 test_other_users_message, test_scan_shown_only_to_its_user, test_send,
                 test_attachments_and_drafts,
                 test_reply_and_forward_thread, test_scan_email,
                 test_secret_files_refused_when_others_can_read])
    finally:
        sink.stop()
        tmp.close()


if __name__ == "__main__":
    main()
