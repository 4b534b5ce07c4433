#!/usr/bin/python3
"""Sendmail, the second MTA ims supports, end to end with the real parts: a
private Sendmail 8.17 from Debian's packages (unpacked, not installed; see
tests/harness/sendmail.py) built from the shipped mta-config/sendmail-ims.mc,
ims-milter on a unix socket, Redis, Dovecot (LMTP, IMAP) and ims-webapi.

  * inbound mail is scanned: delivered with X-IMS-Scan-Id and
    Authentication-Results; GTUBE is refused with 550;
  * a message to hold is kept once, by ims: Sendmail discards its copy
    (its queue stays empty, nothing is relayed) and an admin's release
    delivers it to the INBOX (over IMAP);
  * outbound mail of an authenticated user (SMTP AUTH against Sendmail's
    own SASL) is DKIM-signed;
  * links of inbound mail are rewritten ([links] rewrite = all): Sendmail
    replaces the body (SMFIF_CHGBODY) and relays valid MIME;
  * an unknown recipient of a local domain is refused at RCPT with 550
    5.1.1 by ims-milter's registry check (the one mechanism for both MTAs),
    a known one and a foreign one are accepted; the registry down: 451 4.3.0;
  * the milter down: 451 (F=T), never delivered unscanned.
Needs root; exits 77 when a part is missing."""
import imaplib
import os
import re
import smtplib
import subprocess
import sys
import time

TOP = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "webapi"))
sys.path.insert(0, os.path.join(TOP, "tests"))
from fixtures import Env, PASSWORD, run  # noqa: E402
from harness import common  # noqa: E402
from harness import milter as hmilter  # noqa: E402
from harness.dovecot import Dovecot  # noqa: E402
from harness.sendmail import Sendmail  # noqa: E402
from harness.smtpsink import SmtpSink  # noqa: E402

env = sm = dove = milter = sink = None
ALICE, ADMIN = "alice@example.test", "root@example.test"
tokens = {}


def smtp(mail_from, rcpts, data, login=None):
    with smtplib.SMTP("127.0.0.1", sm.port, timeout=60) as s:
        s.ehlo("client.example.org")
        try:
            if login:
                s.login(login, PASSWORD)
            s.sendmail(mail_from, rcpts, data)
            return 250
        except smtplib.SMTPResponseException as e:
            return e.smtp_code
        except smtplib.SMTPRecipientsRefused as e:
            return list(e.recipients.values())[0][0]
        except smtplib.SMTPSenderRefused as e:
            return e.smtp_code


def message(subject, to, sender="news@example.org", body="Hello, this is a plain note.\r\n",
            html=False):
    ctype = "text/html" if html else "text/plain"
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            "Date: Mon, 23 Nov 2026 06:00:00 +0000\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@example.org>\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: {ctype}\r\n\r\n{body}").encode()


def wait_for(fn, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    return fn()


def relayed(subject):
    with sink.lock:
        return [m for m in sink.messages if subject.encode() in m["data"]]


def header(text, name):
    head = re.sub(r"\r?\n[ \t]+", " ", text.split("\r\n\r\n", 1)[0])
    return [l.split(":", 1)[1].strip() for l in head.splitlines()
            if l.lower().startswith(name.lower() + ":")]


def test_inbound_scanned():
    assert smtp("news@example.org", ["bob@example.org"], message("plain note", "bob")) == 250
    (m,) = wait_for(lambda: relayed("plain note"))
    text = m["data"].decode(errors="replace")
    assert header(text, "X-IMS-Scan-Id"), text[:1500]
    (ar,) = header(text, "Authentication-Results")
    assert ar.startswith("mx.example.test;"), ar
    assert header(text, "X-Spam-Flag") == ["NO"], text[:1500]


def test_links_rewritten():
    import email
    import email.policy
    body = ("--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "See https://docs.example.org/a?b=1 today.\r\n"
            "--B\r\nContent-Type: text/html; charset=utf-8\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n"
            "PHA+PGEgaHJlZj0iaHR0cHM6Ly9kb2NzLmV4YW1wbGUub3JnL2EiPmE8L2E+PC9wPg==\r\n"
            "--B--\r\n")
    raw = message("links note", "bob", body=body).replace(
        b"Content-Type: text/plain\r\n", b'Content-Type: multipart/alternative; boundary="B"\r\n')
    assert smtp("news@example.org", ["bob@example.org"], raw) == 250
    (m,) = wait_for(lambda: relayed("links note"))
    msg = email.message_from_bytes(m["data"], policy=email.policy.default)
    assert not msg.defects, msg.defects
    parts = [p.get_content() for p in msg.walk() if p.get_content_maintype() == "text"]
    assert len(parts) == 2, parts
    for p in parts:
        assert "docs.example.org" not in p and "https://mail.example.test/click?t=" in p, p


def test_gtube_rejected():
    gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n"
    assert smtp("news@example.org", ["bob@example.org"],
                message("gtube", "bob", body=gtube)) == 550
    time.sleep(1)
    assert not relayed("gtube")


def test_held_once_and_released():
    phish = ("<p>Please log in at <a href=\"http://evil.example.net/\">"
             "www.mybank.example.com</a></p>\r\n")
    assert smtp("news@example.org", [ALICE], message("held by ims", ALICE, body=phish,
                                                     html=True)) == 250
    held = wait_for(lambda: [i for i in env.api.request(
        "GET", "/admin/quarantine", token=tokens[ADMIN]).json()["items"]
        if i.get("subject") == "held by ims"])
    assert len(held) == 1, held
    time.sleep(1)
    assert not relayed("held by ims"), "Sendmail delivered a held message"
    assert sm.queue() == [], sm.queue()  # Sendmail kept no copy
    r = env.api.request("POST", f"/admin/quarantine/{held[0]['id']}/release",
                        token=tokens[ADMIN])
    assert r.status == 200 and r.json()["complete"], r

    def inbox():
        m = imaplib.IMAP4("127.0.0.1", dove.imap_port)
        m.login(ALICE, PASSWORD)
        typ, data = m.select("INBOX", readonly=True)
        out = []
        for i in range(1, int(data[0]) + 1):
            _, msg = m.fetch(str(i), "(BODY.PEEK[])")
            out.append(msg[0][1].decode(errors="replace"))
        m.logout()
        return [t for t in out if "held by ims" in t]
    (msg,) = wait_for(inbox)
    assert header(msg, "X-IMS-Released") and header(msg, "X-Spam-Flag") == ["NO"], msg[:1500]


def test_outbound_signed():
    out = message("signed by ims", "carol@example.org", sender=ALICE)
    code = smtp(ALICE, ["carol@example.org"], out, login=ALICE)
    assert code == 250, code
    (m,) = wait_for(lambda: relayed("signed by ims"))
    text = m["data"].decode(errors="replace")
    (sig,) = header(text, "DKIM-Signature")
    assert "d=example.test" in sig and "s=ims" in sig, sig
    scan = env.cli("GET", f"ims:{{global}}:scan:{header(text, 'X-IMS-Scan-Id')[0]}")
    assert '"direction":"outbound"' in scan.replace(" ", ""), scan


def rcpt_replies(rcpts):
    """(code, text) of each RCPT TO of one transaction, which ends in RSET."""
    with smtplib.SMTP("127.0.0.1", sm.port, timeout=60) as s:
        s.ehlo("client.example.org")
        code, text = s.mail("news@example.org")
        assert code == 250, (code, text)
        out = [s.rcpt(r) for r in rcpts]
        s.rset()
        return [(c, t.decode(errors="replace")) for c, t in out]


def test_unknown_local_recipient_refused():
    (unknown, known, foreign, upper) = rcpt_replies(
        ["nobody@example.test", ALICE, "bob@example.org", "ALICE@Example.TEST"])
    assert unknown[0] == 550 and "5.1.1" in unknown[1], unknown
    assert known[0] == 250 and foreign[0] == 250 and upper[0] == 250, (known, foreign, upper)
    assert "event=rcpt_unknown" in milter.log_text()
    # the refused recipient is dropped; the others get the message
    assert smtp("news@example.org", ["nobody@example.test", ALICE],
                message("partly unknown", ALICE)) == 250
    (m,) = wait_for(lambda: relayed("partly unknown"))
    assert [r.strip("<>").lower() for r in m["rcpts"]] == [ALICE], m["rcpts"]
    assert smtp("news@example.org", ["nobody@example.test"], message("only unknown", "x")) == 550
    time.sleep(1)
    assert not relayed("only unknown")
    assert sm.queue() == [], sm.queue()  # nothing kept to bounce


def test_registry_down_tempfails_rcpt():
    env.redis.stop()
    try:
        (local, foreign) = rcpt_replies([ALICE, "bob@example.org"])
        assert local[0] == 451 and "4.3.0" in local[1], local
        assert "event=rcpt_check_failed" in milter.log_text()
    finally:
        env.redis.start()


def test_milter_down_tempfails():
    global milter
    assert milter.stop() == 0, "ims-milter exit status (sanitizer report?)"
    milter = None
    assert smtp("news@example.org", ["bob@example.org"], message("while down", "bob")) == 451
    time.sleep(1)
    assert not relayed("while down")


def main():
    common.integration("redis-server", "dovecot", "m4", "unshare", "openssl")
    if os.geteuid() != 0:
        common.skip("private Sendmail and Dovecot instances need root")
    global env, sm, dove, milter, sink
    with Env() as e:
        env = e
        # every part is the Env's to stop (by PID), also when set-up fails
        dove = e.own(Dovecot(e.tmp, e.redis, os.path.join(e.api.dir, "mail"))).start()
        common.wait_unix_socket(dove.ims_lmtp)
        e.api.stop()
        e.api.extra.update({"quarantine.lmtp": f"unix:{dove.ims_lmtp}"})
        e.api.start()
        for u in (ALICE,):
            tokens[u] = e.add_user(u)["access_token"]
        tokens[ADMIN] = e.add_user(ADMIN, role="admin")["access_token"]
        key = e.tmp.join("dkim.pem")
        subprocess.run(["openssl", "genrsa", "-out", key, "2048"], check=True,
                       capture_output=True)
        os.chmod(key, 0o600)
        model = hmilter.make_model(e.tmp, 1.0)  # ham: only heuristics decide here
        links_key = e.tmp.join("links.key")
        with open(links_key, "wb") as f:
            f.write(os.urandom(32))
        os.chmod(links_key, 0o600)
        sock = e.tmp.join("ims-milter.sock")
        milter = e.own(hmilter.Milter(e.tmp, e.redis, model, unix_socket=sock, extra=(
            "[actions]\ntag = -1\nquarantine = 20\nreject = 100\n"
            "[scores]\nPHISH_URL_TEXT_MISMATCH = 30\n"
            f"[dkim]\nkeys = example.test:ims:{key}\n"
            f"[links]\nrewrite = all\nclick_url = https://mail.example.test/click\n"
            f"key_file = {links_key}\n"), check_recipients=True)).start()
        sink = e.own(SmtpSink()).start()
        sm = e.own(Sendmail(e.tmp, sock, sink.port, users={ALICE: PASSWORD})).start()
        run([test_inbound_scanned, test_links_rewritten, test_gtube_rejected,
             test_held_once_and_released, test_outbound_signed,
             test_unknown_local_recipient_refused, test_registry_down_tempfails_rcpt,
             test_milter_down_tempfails])


if __name__ == "__main__":
    main()
