#!/usr/bin/python3
"""Links at click time end to end: real Postfix + ims-milter + redis-server +
nsd + ims-webapi on loopback.

  - a tagged inbound message's links are rewritten to /click in the delivered
    copy, in its HTML and its text part, and the copy is still valid MIME
    (Python's email package); the sender's DKIM signature was verified on the
    message as received (Authentication-Results dkim=pass is kept)
  - an untagged message is delivered as it came ([links] rewrite = tagged)
  - GET /click with a rewritten link redirects (302, Location = the original)
  - a link whose domain is listed (an [intel] block file; the URIBL zone of
    the harness's nsd) gets the block page, not a redirect
  - a domain a scan found listed stays blocked at click time after the list
    dropped it (the scans since)
  - an altered token is refused
  - each click is an event in the stream and shows in GET /admin/clicks
Needs root (Postfix); exits 77 when a part is missing."""
import email
import email.policy
import http.client
import os
import re
import sys
import time
import urllib.parse

TOP = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests"))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
from harness import common, milter as hmilter, postfix as hpostfix  # noqa: E402
from harness import dns as hdns  # noqa: E402
from harness.redis import server as redis_server  # noqa: E402
from harness.webapi import WebAPI  # noqa: E402
import test_e2e as base  # noqa: E402

CLICK = "https://mail.example.test/click"

# Only a valid DKIM signature reaches the tag threshold: a signed message is
# tagged (its links rewritten), an unsigned one accepted (left alone).
POLICY = ("[scores]\nINTEL_BLOCK = 0\nPHISH_URL_IP_LITERAL = 0\nPHISH_URL_PUNYCODE = 1\nSPF_PASS = 0\nSPF_NONE = 0\nDKIM_VALID = 1\nDKIM_NONE = 0\n"
          "DMARC_PASS = 0\nDMARC_NONE = 0\nDMARC_POLICY_NONE = 0\nSVM_HAM = 0\n\n"
          "[actions]\ntag = 1\nquarantine = 50\nreject = 100\n\n")
DNSBL = "[dnsbl]\ndomain = dbl.test:127.0.1.2=TEST_DBL:0.5\n\n"


def multipart(subject, frm, listed=True):
    """text/plain (quoted-printable) and text/html (base64) with links."""
    text = ("Hello Alice,\r\nthe report: https://docs.good.example/report?id=7&x=1\r\n"
            "and the phish https://www.bad.example/login and "
            "https://evil.intel.example/x.\r\n")
    html = ('<html><body><p>Hello Alice, <a href="https://docs.good.example/report?id=7&amp;x=1">'
            'the report</a>, <a href="https://www.bad.example/login">login</a> and '
            '<a href="https://evil.intel.example/x">this</a>.</p>'
            '<p><a href="http://203.0.113.5/a?x=&quot;&gt;&lt;b&gt;">raw</a></p></body></html>\r\n')
    if not listed:
        text = text.replace("www.bad.example", "a.good.example").replace("evil.intel.example",
                                                                         "b.good.example")
        html = html.replace("www.bad.example", "a.good.example").replace("evil.intel.example",
                                                                         "b.good.example")
    import base64
    import quopri
    qp = quopri.encodestring(text.encode()).decode().replace("\n", "\r\n").replace("\r\r\n", "\r\n")
    b64 = base64.encodebytes(html.encode()).decode().replace("\n", "\r\n")
    body = ("--BOUND\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + qp +
            "\r\n--BOUND\r\nContent-Type: text/html; charset=utf-8\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n" + b64 + "--BOUND--\r\n")
    return base.msg(subject, frm=frm, to="alice@example.test", body=body,
                    extra='MIME-Version: 1.0\r\nContent-Type: multipart/alternative; '
                          'boundary="BOUND"\r\n')


def links_of(raw):
    """The decoded text and HTML parts of a delivered copy (email package)."""
    m = email.message_from_bytes(raw, policy=email.policy.default)
    assert m.is_multipart(), m.get_content_type()
    assert not m.defects, m.defects
    parts = {}
    for p in m.walk():
        if p.get_content_maintype() == "text":
            assert not p.defects, p.defects
            parts[p.get_content_subtype()] = p.get_content()
    return parts


def click_urls(text):
    return re.findall(re.escape(CLICK) + r"\?t=[A-Za-z0-9_-]+", text)


def get(e, path):
    """GET without following redirects: (status, headers, body)."""
    c = http.client.HTTPConnection("127.0.0.1", e.api.port, timeout=30)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.headers, r.read()
    finally:
        c.close()


def path_of(url):
    u = urllib.parse.urlsplit(url)
    return u.path + "?" + u.query


def t_signed_rewritten(e):
    # signed by ims's own outbound path (key in nsd), then sent in from outside
    code, text = base.send(e, multipart("links-signed", "Alice <alice@example.test>"),
                           "alice@example.test", ["bob@example.test"], ip="192.0.2.10",
                           helo="laptop.example.test", login="alice@example.test")
    assert code == 250, (code, text)
    signed = base.strip_sink(base.delivered(e, "links-signed"))
    assert b"DKIM-Signature:" in signed, signed[:600]
    assert CLICK.encode() not in signed  # outbound mail is not rewritten
    code, text = base.send(e, signed, "alice@example.test", ["alice@example.test"],
                           ip="198.51.100.7")
    assert code == 250, (code, text)
    copies = [t for t in e.pf.delivered() if "Subject: links-signed" in t and CLICK in t]
    deadline = time.time() + 20
    while not copies and time.time() < deadline:
        time.sleep(0.1)
        copies = [t for t in e.pf.delivered() if "Subject: links-signed" in t and CLICK in t]
    assert copies, "no rewritten copy delivered"
    d = copies[0]
    ar = base.header(d, "Authentication-Results")
    assert len(ar) == 1 and "dkim=pass header.d=example.test" in ar[0], ar
    status = base.header(d, "X-Spam-Status")[0]
    assert "DKIM_VALID" in status, status
    sid = base.header(d, "X-IMS-Scan-Id")[0]
    log = base.scan_log(e, sid)
    syms = {s["name"]: s for s in log["symbols"]}
    assert log["action"] == "tag", log["action"]
    assert "LINKS_REWRITTEN" in syms and "7 links in 2 parts" in syms["LINKS_REWRITTEN"]["detail"], syms
    raw = base.strip_sink(d)
    parts = links_of(raw)
    for kind, n in (("plain", 3), ("html", 4)):
        body = parts[kind]
        assert "docs.good.example" not in body and "bad.example" not in body, body
        assert "203.0.113.5" not in body, body
        assert len(click_urls(body)) == n, body
    e.sid = sid
    e.plain = click_urls(parts["plain"])
    e.html = click_urls(parts["html"])


def t_untagged_left(e):
    code, text = base.send(e, multipart("links-plain", "Bob <bob@example.org>", listed=False),
                           "bob@example.org", ["alice@example.test"], ip="198.51.100.7")
    assert code == 250, (code, text)
    d = base.delivered(e, "links-plain")
    assert CLICK not in d, d[:2000]
    assert "docs.good.example" in links_of(base.strip_sink(d))["plain"]


def t_single_part_long_line(e):
    """A single-part 7bit message whose rewritten line would pass 998 bytes:
    delivered quoted-printable, its one Content-Transfer-Encoding field
    changed by the milter."""
    line = " ".join(f"https://site{i}.example/page" for i in range(12)) + \
        " https://xn--bcher-kva.example/ end of a long line"
    raw = base.msg("links-long", frm="Bob <bob@example.org>", body=line + "\r\n",
                   extra="MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
                         "Content-Transfer-Encoding: 7bit\r\n")
    code, text = base.send(e, raw, "bob@example.org", ["alice@example.test"], ip="198.51.100.7")
    assert code == 250, (code, text)
    d = base.delivered(e, "links-long")
    cte = base.header(d, "Content-Transfer-Encoding")
    assert cte == ["quoted-printable"], cte
    m = email.message_from_bytes(base.strip_sink(d), policy=email.policy.default)
    assert not m.defects, m.defects
    body = m.get_content()
    assert "site3.example" not in body and "xn--bcher" not in body, body
    assert len(click_urls(body)) == 13 and "end of a long line" in body, body
    assert max(len(x) for x in base.strip_sink(d).split(b"\n")) <= 1000


def t_base64_only(e):
    """A tagged message whose one link is in a base64 HTML body: "://" is
    nowhere in the raw message, so only the scan's decoded parse can say
    there is a link to rewrite (before, it was delivered as it came)."""
    import base64
    html = '<p>Read <a href="https://xn--bcher-kva.example/b64">this</a>.</p>\r\n'
    b64 = base64.encodebytes(html.encode()).decode().replace("\n", "\r\n")
    raw = base.msg("links-b64", frm="Bob <bob@example.org>", body=b64,
                   extra="MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n"
                         "Content-Transfer-Encoding: base64\r\n")
    assert b"://" not in (raw if isinstance(raw, bytes) else raw.encode())
    code, text = base.send(e, raw, "bob@example.org", ["alice@example.test"], ip="198.51.100.7")
    assert code == 250, (code, text)
    d = base.delivered(e, "links-b64")
    m = email.message_from_bytes(base.strip_sink(d), policy=email.policy.default)
    body = m.get_content()
    assert "xn--bcher" not in body and len(click_urls(body)) == 1, body


def t_reason_quoted_safely(e):
    """A reason that quotes the message (here a charset name with a quote and
    a line break, RFC 2231) cannot end the log value or forge a log line."""
    raw = base.msg("links-charset", frm="Bob <bob@example.org>",
                   body="see https://xn--bcher-kva.example/\r\n",
                   extra="MIME-Version: 1.0\r\nContent-Type: text/plain; "
                         "charset*=utf-8''x%22%0Aevent%3Dforged\r\n")
    code, text = base.send(e, raw, "bob@example.org", ["alice@example.test"], ip="198.51.100.7")
    assert code == 250, (code, text)
    d = base.delivered(e, "links-charset")
    assert CLICK not in d, d[:1500]
    deadline = time.time() + 10
    while "links_not_rewritten" not in e.milter.log_text() and time.time() < deadline:
        time.sleep(0.2)
    log = e.milter.log_text()
    lines = [l for l in log.splitlines() if "links_not_rewritten" in l]
    assert lines and 'reason="charset x??event=forged' in lines[-1], log[-1500:]
    assert not any(l.startswith("event=forged") for l in log.splitlines()), log[-1500:]


def t_click_redirects(e):
    status, headers, _ = get(e, path_of(e.html[0]))
    assert status == 302, status
    assert headers["Location"] == "https://docs.good.example/report?id=7&x=1", headers
    assert headers["Referrer-Policy"] == "no-referrer", headers
    # the text part's link is the same one
    status, headers, _ = get(e, path_of(e.plain[0]))
    assert status == 302 and headers["Location"] == "https://docs.good.example/report?id=7&x=1"


def t_click_blocked(e):
    for url, why in ((e.html[1], "TEST_DBL"), (e.plain[2], "INTEL_BLOCK")):
        r = e.api.request("GET", path_of(url))
        assert r.status == 403, r
        assert "Location" not in r.headers, r.headers
        page = r.body.decode()
        assert "This link is blocked" in page and why in page, page
        assert "default-src 'none'" in r.headers["Content-Security-Policy"], r.headers


def t_click_warns(e):
    """A bare IP address: a warning page, the URL escaped, a continue link."""
    status, headers, body = get(e, path_of(e.html[3]))
    page = body.decode()
    assert status == 200, (status, page)
    assert "Location" not in headers, headers
    assert "may be unsafe" in page and "bare IP address" in page, page
    assert "http://203.0.113.5/a?x=&quot;&gt;&lt;b&gt;" in page, page
    assert "<b>" not in page, page
    assert "script-src" not in headers["Content-Security-Policy"], headers
    cont = re.search(r'id="continue"[^>]* href="(\?t=[A-Za-z0-9_-]+)"', page)
    assert cont, page
    status, headers, _ = get(e, "/click" + cont.group(1))
    assert status == 302, status
    assert headers["Location"] == "http://203.0.113.5/a?x=%22%3E%3Cb%3E", headers


def t_altered_refused(e):
    p = path_of(e.html[0])
    i = len(p) - 10
    bad = p[:i] + ("A" if p[i] != "A" else "B") + p[i + 1:]
    r = e.api.request("GET", bad)
    assert r.status == 403 and "not valid" in r.body.decode(), r
    r = e.api.request("GET", "/click?t=" + "A" * 5000)
    assert r.status == 400, r
    r = e.api.request("GET", "/click")
    assert r.status == 400, r


def t_clicks_recorded(e):
    events = e.redis.cli("XRANGE", "ims:{global}:events", "-", "+")
    assert events.count("\nclick\n") == 6, events[-2000:]
    assert "https://www.bad.example/login" in events and "block" in events, events[-2000:]
    r = e.api.request("GET", "/admin/clicks?scan=" + e.sid, token=e.admin)
    assert r.status == 200, r
    items = r.json()["items"]
    assert len(items) == 6, items
    assert items[-1]["verdict"] == "clean" and items[-1]["user"] == "alice@example.test", items
    assert [i["verdict"] for i in items[:2]] == ["continue", "warn"], items
    assert {i["verdict"] for i in items} == {"clean", "block", "warn", "continue"}, items
    r = e.api.request("GET", "/admin/clicks?user=Alice@Example.test&limit=2", token=e.admin)
    assert r.status == 200 and len(r.json()["items"]) == 2, r
    r = e.api.request("GET", "/admin/clicks?scan=" + e.sid)
    assert r.status == 401, r
    r = e.api.request("GET", "/admin/clicks", token=e.admin)
    assert r.status == 400, r


def t_dashboard(e):
    """The dashboard's counters as the milter and /click write them: every
    scan in the 5-minute series, the clicks by verdict, the senders."""
    r = e.api.request("GET", "/admin/dashboard?range=1h", token=e.admin)
    assert r.status == 200, r
    d = r.json()
    scans = int(e.redis.cli("ZCARD", "ims:{global}:scans"))
    assert d["totals"]["total"] == scans and sum(b["total"] for b in d["buckets"]) == scans, d
    assert sum(d["totals"]["actions"].values()) == scans, d["totals"]
    assert d["totals"]["clicks"] == {"clean": 1, "block": 2, "warn": 2, "continue": 1} or \
        sum(d["totals"]["clicks"].values()) == 6, d["totals"]["clicks"]
    assert d["totals"]["spf"].get("pass", 0) >= 1, d["totals"]["spf"]
    senders = {x["name"]: x["count"] for x in d["top_senders"]}
    assert sum(senders.values()) == scans and "alice@example.test" in senders, senders
    domains = {x["name"]: x["count"] for x in d["top_sender_domains"]}
    assert sum(domains.values()) == scans and "example.test" in domains, domains
    # the tagged inbound messages (links rewritten) targeted alice
    assert d["top_targeted_users"][0]["name"] == "alice@example.test", d["top_targeted_users"]


def t_listed_by_scan(e):
    """The scan that found a link domain on a list is remembered: with the
    intel file gone, a click on that domain is still blocked."""
    bad = e.redis.cli("ZRANGE", "ims:{global}:links:badhosts", "0", "-1").split()
    assert sorted(bad) == ["bad.example", "intel.example"], bad
    os.unlink(os.path.join(e.intel, "feed.block"))
    # the webapi looks at the directory every IMS_INTEL_CHECK_MS (2 s) and
    # loads a changed one in the background: until then the old set answers
    deadline = time.time() + 15
    while True:
        status, headers, body = get(e, path_of(e.plain[2]))
        page = body.decode()
        if "INTEL_BLOCK" not in page or time.time() > deadline:
            break
        time.sleep(0.5)
    assert status == 403 and "a scan found intel.example on a block list" in page, page


CASES = [t_signed_rewritten, t_untagged_left, t_single_part_long_line, t_base64_only,
         t_reason_quoted_safely,
         t_click_redirects, t_click_blocked,
         t_click_warns, t_altered_refused, t_clicks_recorded, t_dashboard, t_listed_by_scan]


def setup(e):
    common.run(["opendkim-genkey", "-b", "1024", "-s", "out", "-d", "example.test",
                "-D", e.tmp.path])
    with open(e.tmp.join("out.txt")) as f:
        out_key = f.read()
    spf = "v=spf1 ip4:198.51.100.0/24 -all"
    e.dns = hdns.DnsServer({
        "example.org": [("TXT", spf)],
        "example.test": [("TXT", spf)],
        "_dmarc.example.test": [("TXT", "v=DMARC1; p=none")],
        "out._domainkey.example.test": [("TXT", out_key)],
        "bad.example.dbl.test": [("A", "127.0.1.2")],
    })
    e.dns.start()
    intel = e.intel = e.tmp.join("intel.d")
    os.makedirs(intel)
    with open(os.path.join(intel, "feed.block"), "w") as f:
        f.write("intel.example\n")
    key = e.tmp.join("links.key")
    with open(key, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(key, 0o600)
    links = f"[links]\nclick_url = {CLICK}\nkey_file = {key}\n\n"
    e.redis = redis_server(e.tmp).start()
    model = hmilter.make_model(e.tmp, 1.0)
    e.milter = hmilter.Milter(
        e.tmp, e.redis, model, dns=f"127.0.0.1:{e.dns.port}",
        extra=(POLICY + DNSBL + links + f"[intel]\ndir = {intel}\n\n"
               f"[dkim]\nkeys = example.test:out:{e.tmp.join('out.private')}\n")).start()
    e.pf = hpostfix.Postfix(e.tmp, milter=e.milter.postfix_socket).start()
    e.api = WebAPI(e.tmp, e.redis, extra={
        "links.key_file": key, "links.click_url": CLICK, "intel.dir": intel,
        "dnsbl.domain": "dbl.test:127.0.1.2=TEST_DBL:0.5",
        "dns.nameservers": f"127.0.0.1:{e.dns.port}", "dns.timeout_ms": "500",
        "classifier.model": model}).start()
    r = e.api.request("POST", "/auth/register", {"address": "admin@example.test",
                                                 "password": "correct horse battery"})
    assert r.status == 201, r
    e.redis.cli("HSET", "ims:{admin@example.test}:user", "role", "admin")
    e.admin = e.api.login("admin@example.test", "correct horse battery")["access_token"]


def main():
    if os.geteuid() != 0:
        common.skip("needs root for a private Postfix")
    common.require("postfix", "smtp-sink", "redis-server", "nsd", "opendkim-genkey")
    common.run_cases(base.Env(), "links at click time end to end", "ims-links-", setup, CASES,
                     ("api", "pf", "milter", "redis", "dns"))


if __name__ == "__main__":
    main()
