#!/usr/bin/python3
"""The quarantine with the real parts: Postfix + ims-milter + Dovecot (LMTP
on unix sockets, IMAP, the Junk Sieve rule) + Redis + ims-webapi.

  * a held message exists once: in ims's quarantine; Postfix's queues (hold
    included) are empty and no mailbox has it;
  * two releases at the same time deliver it once, into the INBOX (over
    IMAP: not Junk), saying who released it; one audit event;
  * a user sees what is held for them, releases their own, and cannot
    release (or see) another user's;
  * no injection path takes unscanned mail: every smtpd of the private
    Postfix runs the milter (forged X-IMS-Scan-Id / X-Spam-Flag: NO are
    replaced), and the LMTP sockets refuse other local users;
  * `ims quarantine digest` mails each user what was held for them, through
    Postfix (scanned), once.
Needs root (Postfix, Dovecot); exits 77 when a part is missing."""
import imaplib
import json
import os
import re
import shutil
import smtplib
import socket
import subprocess
import sys
import threading
import time

TOP = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("top_builddir") or os.getcwd()
sys.path.insert(0, os.path.join(TOP, "tests", "webapi"))
sys.path.insert(0, os.path.join(TOP, "tests"))
from fixtures import Env, PASSWORD, run  # noqa: E402
from harness import common  # noqa: E402
from harness import milter as hmilter  # noqa: E402
from harness.dovecot import Dovecot  # noqa: E402
from harness.postfix import Postfix  # noqa: E402

env = pf = dove = milter = None
ALICE, BOB, ADMIN, POSTMASTER = ("alice@example.test", "bob@example.test",
                                 "root@example.test", "postmaster@example.test")
tokens = {}

# Junk folder and the shipped Sieve rule, as the quick-start stack has them
DOVECOT_EXTRA = """\
postmaster_address = postmaster@example.test
namespace inbox {{
  inbox = yes
  mailbox Junk {{
    special_use = \\Junk
    auto = subscribe
  }}
}}
protocol lmtp {{
  mail_plugins = $mail_plugins sieve
}}
plugin {{
  sieve_before = {sieve}
}}
"""


def phish(subject, to):
    """Over [actions] quarantine in this setup (PHISH_URL_TEXT_MISMATCH)."""
    return (f"From: Bank <news@example.org>\r\nTo: {to}\r\nSubject: {subject}\r\n"
            "Date: Mon, 23 Nov 2026 06:00:00 +0000\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@example.org>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n"
            "<p>Please log in at <a href=\"http://evil.example.net/\">"
            "www.mybank.example.com</a></p>\r\n").encode()


def smtp(port, mail_from, rcpts, data):
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
        s.ehlo("client.example.org")
        try:
            s.sendmail(mail_from, rcpts, data)
            return 250
        except smtplib.SMTPResponseException as e:
            return e.smtp_code


def imap(user, box):
    """Texts of the messages in box, oldest first."""
    m = imaplib.IMAP4("127.0.0.1", dove.imap_port)
    m.login(user, PASSWORD)
    typ, data = m.select(box, readonly=True)
    out = []
    if typ == "OK":
        for i in range(1, int(data[0]) + 1):
            _, msg = m.fetch(str(i), "(BODY.PEEK[])")
            out.append(msg[0][1].decode(errors="replace"))
    m.logout()
    return out


def wait_for(fn, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    return fn()


def held_ids(user=None):
    path = "/emails/quarantine" if user else "/admin/quarantine"
    r = env.api.request("GET", path + "?limit=100", token=tokens[user or ADMIN])
    assert r.status == 200, r
    return {x["subject"]: x for x in r.json()["items"]}


def header(text, name):
    head = text.split("\r\n\r\n", 1)[0]
    head = re.sub(r"\r\n[ \t]+", " ", head)
    return [l.split(":", 1)[1].strip() for l in head.split("\r\n")
            if l.lower().startswith(name.lower() + ":")]


def test_held_once():
    """One copy: in the quarantine; Postfix keeps none, no mailbox has it."""
    assert smtp(pf.port, "news@example.org", [ALICE], phish("held once", ALICE)) == 250
    item = wait_for(lambda: held_ids().get("held once"))
    assert item and item["rcpt"] == ALICE and item["class"] == "score", item
    time.sleep(1)
    assert pf.queue_ids() == [] and pf.hold_ids() == [], (pf.queue_ids(), pf.log_text()[-2000:])
    assert "milter-discard" in pf.log_text()
    assert imap(ALICE, "INBOX") == [] and imap(ALICE, "Junk") == []
    # the user sees it, with the reason
    mine = held_ids(ALICE)
    assert "held once" in mine and mine["held once"]["reason"].startswith("score "), mine


def test_release_twice_in_parallel():
    sid = held_ids()["held once"]["id"]
    results = []

    def release():
        r = env.api.request("POST", f"/admin/quarantine/{sid}/release", token=tokens[ADMIN])
        results.append(r.status)

    threads = [threading.Thread(target=release) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409], results
    inbox = wait_for(lambda: imap(ALICE, "INBOX"))
    time.sleep(1)  # a second delivery would show by now
    inbox = imap(ALICE, "INBOX")
    assert len(inbox) == 1, len(inbox)
    assert imap(ALICE, "Junk") == [], "the released message was filed into Junk"
    m = inbox[0]
    assert header(m, "X-Spam-Flag") == ["NO"], header(m, "X-Spam-Flag")
    rel = header(m, "X-IMS-Released")
    assert len(rel) == 1 and rel[0].startswith(f"by {ADMIN} at "), rel
    assert header(m, "X-IMS-Scan-Id") == [sid]
    assert "held once" not in held_ids() and "held once" not in held_ids(ALICE)
    # and a third try, after it is done: 409, still one copy
    r = env.api.request("POST", f"/admin/quarantine/{sid}/release", token=tokens[ADMIN])
    assert r.status == 409, r
    audit = env.api.request("GET", "/admin/audit?type=admin&limit=100", token=tokens[ADMIN])
    rel = [e for e in audit.json()["items"]
           if e.get("op") == "quarantine.release" and e.get("target") == sid]
    assert len(rel) == 1, rel
    assert len(imap(ALICE, "INBOX")) == 1


def test_user_releases_own_not_others():
    assert smtp(pf.port, "news@example.org", [BOB], phish("for bob", BOB)) == 250
    assert smtp(pf.port, "news@example.org", [ALICE], phish("for alice", ALICE)) == 250
    bob_item = wait_for(lambda: held_ids(BOB).get("for bob"))
    alice_item = wait_for(lambda: held_ids(ALICE).get("for alice"))
    assert bob_item and alice_item
    assert "for bob" not in held_ids(ALICE)
    r = env.api.request("POST", f"/emails/quarantine/{bob_item['id']}/release",
                        token=tokens[ALICE])
    assert r.status == 404, r
    assert "for bob" in held_ids(BOB)  # still held
    r = env.api.request("POST", f"/emails/quarantine/{alice_item['id']}/release",
                        token=tokens[ALICE])
    assert r.status == 200, r
    inbox = wait_for(lambda: [m for m in imap(ALICE, "INBOX") if "Subject: for alice" in m])
    assert len(inbox) == 1 and f"X-IMS-Released: by {ALICE} at" in inbox[0], inbox
    assert not [m for m in imap(BOB, "INBOX") if "for bob" in m]
    assert not [m for m in imap(ALICE, "INBOX") if "for bob" in m]


def listeners():
    """The inet smtpd services of the running private Postfix."""
    with open(os.path.join(pf.conf, "master.cf")) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 8 and parts[1] == "inet" and parts[7] == "smtpd":
                host, port = parts[0].rsplit(":", 1)
                yield int(port)


def test_no_unscanned_injection():
    """Issue 8 item 3: a local process injecting forged verdict headers."""
    forged = (f"From: x@example.org\r\nTo: {ALICE}\r\nSubject: forged inject\r\n"
              "X-IMS-Scan-Id: 01FORGEDFORGEDFORGEDFORGED\r\nX-Spam-Flag: NO\r\n"
              "X-IMS-Released: by root@example.test at 2026-01-01T00:00:00Z\r\n"
              "\r\nunscanned?\r\n").encode()
    ports = list(listeners())
    assert ports, "no smtpd in master.cf"
    for port in ports:
        smtp(port, "x@example.org", [ALICE], forged)
    time.sleep(2)
    got = [m for m in imap(ALICE, "INBOX") + imap(ALICE, "Junk") if "forged inject" in m]
    for m in got:
        ids = header(m, "X-IMS-Scan-Id")
        assert len(ids) == 1 and ids[0] != "01FORGEDFORGEDFORGEDFORGED", ids
        assert env.cli("EXISTS", f"ims:{{global}}:scan:{ids[0]}").strip() == "1", ids
        assert "X-IMS-Released" not in m
    # the LMTP sockets: only their owners (Postfix's, ims's, Dovecot's default)
    for path in (dove.lmtp_socket, dove.ims_lmtp, dove.default_lmtp):
        assert os.stat(path).st_mode & 0o077 == 0, (path, oct(os.stat(path).st_mode))
        r = subprocess.run(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable,
             "-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])",
             path], capture_output=True, text=True)
        assert r.returncode != 0 and "PermissionError" in r.stderr, (path, r.stderr)


def test_digest():
    """Held since the last digest: one mail per user, through Postfix."""
    assert smtp(pf.port, "news@example.org", [ALICE], phish("digest item", ALICE)) == 250
    wait_for(lambda: held_ids(ALICE).get("digest item"))
    ims = [os.path.join(BUILD, "cli", "ims"), "-c", env.api.conf, "quarantine", "digest"]
    r = subprocess.run(ims, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + r.stdout
    digests = wait_for(lambda: [m for m in imap(ALICE, "INBOX") if "Subject: Held for review"
                                in m])
    assert len(digests) == 1, len(digests)
    d = digests[0]
    assert "digest item" in d and "for bob" not in d, d
    assert header(d, "X-IMS-Scan-Id"), "the digest was not scanned"
    assert header(d, "From") == [POSTMASTER], header(d, "From")
    bob = wait_for(lambda: [m for m in imap(BOB, "INBOX") if "Held for review" in m])
    assert len(bob) == 1 and "for bob" in bob[0], bob
    # remembered: a second run sends nothing new
    r = subprocess.run(ims, capture_output=True, text=True)
    assert r.returncode == 0 and "0 sent" in r.stdout, r.stdout + r.stderr
    time.sleep(1)
    assert len([m for m in imap(ALICE, "INBOX") if "Held for review" in m]) == 1


def main():
    common.require("postfix", "dovecot", "sievec", "redis-server", "setpriv")
    if os.geteuid() != 0:
        common.skip("private Postfix and Dovecot instances need root")
    global env, pf, dove, milter
    with Env(extra={"webapi.submission_user": "webapi",
                    "quarantine.digest_from": POSTMASTER}) as e:
        env = e
        sieve = e.tmp.join("sieve", "ims-junk.sieve")
        os.makedirs(os.path.dirname(sieve))
        shutil.copy(os.path.join(TOP, "mta-config", "dovecot", "ims-junk.sieve"), sieve)
        common.run(["sievec", sieve])
        # the Env stops every part by PID, also when set-up fails
        dove = e.own(Dovecot(e.tmp, e.redis, os.path.join(e.api.dir, "mail"),
                             extra=DOVECOT_EXTRA.format(sieve=sieve))).start()
        common.wait_unix_socket(dove.ims_lmtp)
        model = hmilter.make_model(e.tmp, 1.0)  # ham: the digest itself is accepted
        milter = e.own(hmilter.Milter(e.tmp, e.redis, model, extra=(
            "[actions]\ntag = -1\nquarantine = 20\nreject = 100\n"
            "[scores]\nPHISH_URL_TEXT_MISMATCH = 30\n"))).start()
        pf = e.own(Postfix(e.tmp, milter=milter.postfix_socket, sink=False, extra_main=(
            f"default_transport = lmtp:unix:{dove.lmtp_socket}\n"
            f"relay_transport = lmtp:unix:{dove.lmtp_socket}\n"
            "smtpd_sasl_type = dovecot\n"
            f"smtpd_sasl_path = {dove.auth_socket}\n"
            "smtpd_sasl_auth_enable = yes\n"
            "smtpd_sasl_security_options = noanonymous\n"
            "milter_mail_macros = i {auth_type} {auth_authen} {auth_author} "
            "{mail_addr} {mail_host} {mail_mailer}\n"))).start()
        e.api.stop()
        pwfile = os.path.join(e.api.dir, "submission.pw")
        with open(pwfile, "w") as f:
            f.write(dove.master_password + "\n")
        os.chmod(pwfile, 0o600)
        e.api.extra.update({"webapi.submission": f"smtp://127.0.0.1:{pf.port}",
                            "webapi.submission_password_file": pwfile,
                            "quarantine.lmtp": f"unix:{dove.ims_lmtp}"})
        e.api.start()
        try:
            for u in (ALICE, BOB, POSTMASTER):
                tokens[u] = e.add_user(u)["access_token"]
            tokens[ADMIN] = e.add_user(ADMIN, role="admin")["access_token"]
            run([test_held_once, test_release_twice_in_parallel,
                 test_user_releases_own_not_others, test_no_unscanned_injection, test_digest])
        finally:
            pf.stop()
            rc = milter.stop()
            if rc != 0:
                print(milter.log_text()[-3000:])
            dove.stop()
        if rc != 0:
            print(f"FAIL: ims-milter exit status {rc}")
            sys.exit(1)


if __name__ == "__main__":
    main()
