#!/usr/bin/python3
"""Reputation checks end to end: real Postfix + ims-milter + redis-server +
nsd on loopback.  The DNS lists are zones of the harness's nsd (never a
public list); the intel lists are files in a private directory.

  - a client IP listed in the DNSBL zone gets the rule's symbol
  - a link whose registrable domain is listed in the URIBL zone gets its symbol
  - a list whose zone answers SERVFAIL is neutral (DNSBL_FAIL), promptly
  - an intel block file dropped in the directory while the milter runs is
    used within seconds (INTEL_BLOCK, with the list's name)
  - DNS down altogether (nsd stopped): an answer already cached (TTL) still
    counts; a new lookup gives DNSBL_FAIL and the message is accepted within
    about one [dns] timeout per check, not tempfailed
Needs root (Postfix); exits 77 when a part is missing."""
import os
import re
import sys
import time

TOP = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests"))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
from harness import common, milter as hmilter, postfix as hpostfix  # noqa: E402
from harness import dns as hdns  # noqa: E402
from harness.redis import server as redis_server  # noqa: E402
import test_e2e as base  # noqa: E402

DNSBL = ("[dnsbl]\n"
         "client = zen.test:127.0.0.2=TEST_ZEN_SBL:3\n"
         "client = down.test=TEST_DOWN:3\n"
         "domain = dbl.test:127.0.1.2=TEST_DBL:4\n"
         "max_lookups = 16\n")


def scan_of(e, subject):
    d = base.delivered(e, subject)
    sid = base.header(d, "X-IMS-Scan-Id")[0]
    log = base.scan_log(e, sid)
    return {s["name"]: s for s in log["symbols"]}, log


def t_client_listed(e):
    code, text = base.send(e, base.msg("rep-client"), "bob@example.org", ["alice@example.test"],
                           ip="198.51.100.7")
    assert code == 250, (code, text)
    syms, _ = scan_of(e, "rep-client")
    assert "TEST_ZEN_SBL" in syms, syms
    assert syms["TEST_ZEN_SBL"]["weight"] == 3, syms["TEST_ZEN_SBL"]
    assert "198.51.100.7 listed in zen.test" in syms["TEST_ZEN_SBL"]["detail"], syms

    code, text = base.send(e, base.msg("rep-client-clean"), "bob@example.org",
                           ["alice@example.test"], ip="198.51.100.8")
    assert code == 250, (code, text)
    syms, _ = scan_of(e, "rep-client-clean")
    assert "TEST_ZEN_SBL" not in syms, syms


def t_link_listed(e):
    body = ("Content-Type: text/html\r\n\r\n"
            '<p>see <a href="https://www.bad.example/x">this</a> and '
            '<a href="https://good.example/">that</a></p>\r\n')
    raw = base.msg("rep-link", body="", extra="MIME-Version: 1.0\r\n")
    raw = raw.replace(b"MIME-Version: 1.0\r\n\r\n", b"MIME-Version: 1.0\r\n" + body.encode())
    code, text = base.send(e, raw, "bob@example.org", ["alice@example.test"], ip="198.51.100.8")
    assert code == 250, (code, text)
    syms, _ = scan_of(e, "rep-link")
    assert "TEST_DBL" in syms, syms
    assert "bad.example listed in dbl.test" in syms["TEST_DBL"]["detail"], syms


def t_list_servfail(e):
    t0 = time.monotonic()
    code, text = base.send(e, base.msg("rep-servfail"), "bob@example.org",
                           ["alice@example.test"], ip="198.51.100.8")
    took = time.monotonic() - t0
    assert code == 250, (code, text)
    syms, _ = scan_of(e, "rep-servfail")
    assert "DNSBL_FAIL" in syms and "down.test" in syms["DNSBL_FAIL"]["detail"], syms
    assert syms["DNSBL_FAIL"]["weight"] == 0, syms
    assert "TEST_DOWN" not in syms, syms
    assert took < 5, took
    # counted for monitoring
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{e.metrics_port}/metrics", timeout=10) as r:
        text = r.read().decode()
    m = re.search(r'^ims_milter_dns_errors_total\{check="dnsbl"\} (\d+)$', text, re.M)
    assert m and int(m.group(1)) >= 1, text[:2000]
    assert 'ims_milter_scan_seconds_bucket{stage="reputation"' in text, text[:2000]


def t_intel_reload(e):
    with open(os.path.join(e.intel, "feed.block.tmp"), "w") as f:
        f.write("# test feed\nphish.example\n")
    os.rename(os.path.join(e.intel, "feed.block.tmp"), os.path.join(e.intel, "feed.block"))
    # the milter looks at the directory at most every 2 s (IMS_INTEL_CHECK_MS)
    # and loads a changed file in a thread of its own: within seconds
    body = 'Content-Type: text/plain\r\n\r\nlog in at https://login.phish.example/now\r\n'
    t0 = time.monotonic()
    for i in range(20):
        subject = f"rep-intel-{i}"
        raw = base.msg(subject, body="", extra="MIME-Version: 1.0\r\n")
        raw = raw.replace(b"MIME-Version: 1.0\r\n\r\n", b"MIME-Version: 1.0\r\n" + body.encode())
        code, text = base.send(e, raw, "bob@example.org", ["alice@example.test"],
                               ip="198.51.100.8")
        assert code == 250, (code, text)
        syms, _ = scan_of(e, subject)
        if "INTEL_BLOCK" in syms:
            break
        time.sleep(0.5)
    assert "INTEL_BLOCK" in syms, syms
    assert "list=feed entry=phish.example" in syms["INTEL_BLOCK"]["detail"], syms
    assert time.monotonic() - t0 < 8, time.monotonic() - t0


def t_dns_down(e):
    e.dns.stop()
    e.dns = None
    # an answer asked before is still in libunbound's cache (its TTL)
    code, text = base.send(e, base.msg("rep-dns-cached"), "bob@example.org",
                           ["alice@example.test"], ip="198.51.100.7")
    assert code == 250, (code, text)
    syms, _ = scan_of(e, "rep-dns-cached")
    assert "TEST_ZEN_SBL" in syms, syms
    # one never asked: the list is neutral, the message not held back
    t0 = time.monotonic()
    code, text = base.send(e, base.msg("rep-dns-down"), "bob@example.org",
                           ["alice@example.test"], ip="198.51.100.9")
    took = time.monotonic() - t0
    assert code == 250, (code, text)
    syms, _ = scan_of(e, "rep-dns-down")
    assert "DNSBL_FAIL" in syms and "zen.test" in syms["DNSBL_FAIL"]["detail"], syms
    assert syms["DNSBL_FAIL"]["weight"] == 0, syms
    assert "TEST_ZEN_SBL" not in syms, syms
    # SPF, DKIM, DMARC and the lists each wait at most [dns] timeout_ms (500)
    assert took < 8, took


CASES = [t_client_listed, t_link_listed, t_list_servfail, t_intel_reload, t_dns_down]


def setup(e):
    spf = "v=spf1 ip4:198.51.100.0/24 -all"
    e.dns = hdns.DnsServer({
        "example.org": [("TXT", spf)],
        "_dmarc.example.org": [("TXT", "v=DMARC1; p=none")],
        "7.100.51.198.zen.test": [("A", "127.0.0.2")],
        "9.100.51.198.zen.test": [("A", "127.0.0.2")],
        "bad.example.dbl.test": [("A", "127.0.1.2")],
        "down.test": [("TIMEOUT", None)],
    })
    e.dns.start()
    e.intel = e.tmp.join("intel.d")
    os.makedirs(e.intel)
    e.redis = redis_server(e.tmp).start()
    model = hmilter.make_model(e.tmp, 1.0)
    e.metrics_port = common.free_port()
    e.milter = hmilter.Milter(e.tmp, e.redis, model, dns=f"127.0.0.1:{e.dns.port}",
                              milter_extra=f"metrics_listen = 127.0.0.1:{e.metrics_port}\n",
                              extra=DNSBL + f"\n[intel]\ndir = {e.intel}\n").start()
    e.pf = hpostfix.Postfix(e.tmp, milter=e.milter.postfix_socket).start()


def main():
    if os.geteuid() != 0:
        common.skip("needs root for a private Postfix")
    common.require("postfix", "smtp-sink", "redis-server", "nsd")
    common.run_cases(base.Env(), "reputation end to end", "ims-rep-", setup, CASES,
                     ("pf", "milter", "redis", "dns"))


if __name__ == "__main__":
    main()
