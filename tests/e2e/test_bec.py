#!/usr/bin/python3
"""Impersonation and look-alikes ([bec]) end to end: real Postfix +
ims-milter + redis-server + nsd on loopback.

  - a From domain that looks like the local domain (examp1e.test for
    example.test) is BEC_LOOKALIKE_DOMAIN, in the scan log (with what it
    looks like) and in X-Spam-Status
  - a local user's display name, learned from her outbound mail, on mail
    from outside is BEC_DISPLAY_NAME_LOCAL_USER, in the scan log and in
    X-Spam-Status
  - a Reply-To at a free-mail domain is BEC_REPLY_TO_FREEMAIL
  - first-time sender: nothing while the recipient's correspondents are
    unknown, then a sender she has had mail from is known and a new one is
    BEC_FIRST_TIME_SENDER; her reply to someone makes him known
  - the correspondents are in Redis under the documented keys, bounded
    and expiring
Needs root (Postfix); exits 77 when a part is missing."""
import os
import sys

TOP = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests"))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
from harness import common, milter as hmilter, postfix as hpostfix  # noqa: E402
from harness import dns as hdns  # noqa: E402
from harness.redis import server as redis_server  # noqa: E402
import test_e2e as base  # noqa: E402

BEC = ("[bec]\n"
       "freemail_domains = freemail.test\n"
       "correspondents_max = 50\n"
       "correspondents_days = 30\n")


def scan_of(e, subject):
    d = base.delivered(e, subject)
    sid = base.header(d, "X-IMS-Scan-Id")[0]
    log = base.scan_log(e, sid)
    return {s["name"]: s for s in log["symbols"]}, d


def inbound(e, subject, frm, mail_from, extra=""):
    code, text = base.send(e, base.msg(subject, frm=frm, extra=extra), mail_from,
                           ["alice@example.test"], ip="198.51.100.7")
    assert code == 250, (code, text)
    return scan_of(e, subject)


def t_first_time_sender(e):
    # nothing known about alice yet: not "first time"
    syms, _ = inbound(e, "bec-first-1", "Bob <bob@example.org>", "bob@example.org")
    assert "BEC_FIRST_TIME_SENDER" not in syms, syms
    # bob is now a correspondent (delivered mail), carol is not
    syms, _ = inbound(e, "bec-first-2", "Bob <bob@example.org>", "bob@example.org")
    assert "BEC_FIRST_TIME_SENDER" not in syms, syms
    syms, d = inbound(e, "bec-first-3", "Carol <carol@example.org>", "carol@example.org")
    assert "BEC_FIRST_TIME_SENDER" in syms, syms
    assert syms["BEC_FIRST_TIME_SENDER"]["detail"] == \
        "carol@example.org new to alice@example.test", syms
    assert "BEC_FIRST_TIME_SENDER" in base.header(d, "X-Spam-Status")[0], d[:800]
    # the keys: bounded and expiring
    key = "ims:{alice@example.test}:correspondents"
    assert e.redis.cli("ZSCORE", key, "bob@example.org").strip(), key
    ttl = int(e.redis.cli("PTTL", key).strip())
    assert 0 < ttl <= 30 * 86400000, ttl
    assert e.redis.cli("ZSCORE", "ims:{alice@example.test}:corrdomains",
                       "example.org").strip()
    # alice writes to dave: then dave is known
    code, text = base.send(e, base.msg("bec-out-dave", frm="Alice Smith <alice@example.test>",
                                       to="dave@example.org"),
                           "alice@example.test", ["dave@example.org"], ip="192.0.2.10",
                           helo="laptop.example.test", login="alice@example.test")
    assert code == 250, (code, text)
    base.delivered(e, "bec-out-dave")
    syms, _ = inbound(e, "bec-first-4", "Dave <dave@example.org>", "dave@example.org")
    assert "BEC_FIRST_TIME_SENDER" not in syms, syms


def t_lookalike_domain(e):
    syms, d = inbound(e, "bec-lookalike", "IT desk <it@examp1e.test>", "it@examp1e.test")
    assert "BEC_LOOKALIKE_DOMAIN" in syms, syms
    assert syms["BEC_LOOKALIKE_DOMAIN"]["detail"] == \
        "examp1e.test looks like example.test (confusable)", syms
    assert syms["BEC_LOOKALIKE_DOMAIN"]["weight"] == 5, syms
    assert "BEC_LOOKALIKE_DOMAIN" in base.header(d, "X-Spam-Status")[0], d[:800]


def t_display_name(e):
    # "Alice Smith" was learned from alice's outbound mail (t_first_time_sender)
    assert e.redis.cli("HGET", "ims:{global}:bec:names", "alice smith").strip() == \
        "alice@example.test"
    syms, d = inbound(e, "bec-name", '"Alice  SMITH" <alice.smith@example.org>',
                      "alice.smith@example.org")
    assert "BEC_DISPLAY_NAME_LOCAL_USER" in syms, syms
    assert "alice@example.test" in syms["BEC_DISPLAY_NAME_LOCAL_USER"]["detail"], syms
    assert "BEC_DISPLAY_NAME_LOCAL_USER" in base.header(d, "X-Spam-Status")[0], d[:800]


def t_reply_to_freemail(e):
    syms, _ = inbound(e, "bec-replyto", "Bob <bob@example.org>", "bob@example.org",
                      extra="Reply-To: bob.private@freemail.test\r\n")
    assert "BEC_REPLY_TO_FREEMAIL" in syms, syms
    assert "bob.private@freemail.test" in syms["BEC_REPLY_TO_FREEMAIL"]["detail"], syms


CASES = [t_first_time_sender, t_lookalike_domain, t_display_name, t_reply_to_freemail]


def setup(e):
    spf = "v=spf1 ip4:198.51.100.0/24 -all"
    e.dns = hdns.DnsServer({
        "example.org": [("TXT", spf)],
        "_dmarc.example.org": [("TXT", "v=DMARC1; p=none")],
        "examp1e.test": [("TXT", spf)],
    })
    e.dns.start()
    e.redis = redis_server(e.tmp).start()
    model = hmilter.make_model(e.tmp, 1.0)
    e.milter = hmilter.Milter(e.tmp, e.redis, model, dns=f"127.0.0.1:{e.dns.port}",
                              extra=BEC).start()
    # example.org too: alice writes to someone outside
    e.pf = hpostfix.Postfix(e.tmp, milter=e.milter.postfix_socket,
                            relay_domains="example.test, example.org").start()


def main():
    if os.geteuid() != 0:
        common.skip("needs root for a private Postfix")
    common.require("postfix", "smtp-sink", "redis-server", "nsd")
    common.run_cases(base.Env(), "impersonation and look-alikes end to end", "ims-bec-", setup,
                     CASES, ("pf", "milter", "redis", "dns"))


if __name__ == "__main__":
    main()
