#!/usr/bin/python3
"""`ims rescan` with the real parts (redis-server, a private Dovecot with its
doveadm HTTP API, imaplib): a delivered message whose link domain is listed
afterwards ([intel] dir block list) is pulled from the INBOX into the
quarantine, with an audit event and a note in the INBOX; before the listing
nothing happens; --dry-run changes nothing; a second run finds nothing."""
import email
import hashlib
import imaplib
import json
import os
import subprocess
import sys

from harness import common, redis
from harness.dovecot import Dovecot
from harness.milter import make_model

common.integration("redis-server", "redis-cli", "dovecot", "doveadm")
IMS = os.path.join(common.builddir(), "cli", "ims")
USER, PASSWORD = "alice@example.test", "alice password 1"
SCAN_ID = "01JD3M8Q5Z7X1V9K2C4B6N8P0R"
# the subject has the link too: the note quotes it and must not be pulled itself
EVIL_SUBJECT = "pay now: http://login.evil-phish.example/acct"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def message(subject, body, scan_id=None):
    head = (f"From: Mallory <mallory@sender.example>\r\nTo: {USER}\r\nSubject: {subject}\r\n"
            "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
            f"Message-ID: <{hashlib.md5(subject.encode()).hexdigest()}@sender.example>\r\n")
    if scan_id:
        head += f"X-IMS-Scan-Id: {scan_id}\r\n"
    return (head + "\r\n" + body).encode()


def inbox_subjects(port):
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login(USER, PASSWORD)
    m.select("INBOX", readonly=True)
    typ, data = m.search(None, "ALL")
    out = []
    for num in data[0].split():
        typ, msg = m.fetch(num, "(BODY.PEEK[])")
        out.append(email.message_from_bytes(msg[0][1]))
    m.logout()
    return out


def rescan(conf, *args):
    r = subprocess.run([IMS, "-c", conf, "rescan", "--rate", "100", *args], capture_output=True,
                       text=True, timeout=120)
    try:
        return r.returncode, json.loads(r.stdout), r.stderr
    except ValueError:
        return r.returncode, None, r.stderr


def main():
    if os.geteuid() != 0:
        common.skip("a private Dovecot needs root here (setuid to the mail uid)")
    tmp = common.TempDir()
    r = redis.server(tmp).start()
    dove = None
    try:
        intel = tmp.join("intel")
        os.makedirs(intel)
        model = make_model(tmp, 1.0)
        dove = Dovecot(tmp, r, tmp.join("mail"))
        conf = tmp.join("ims.conf")
        with open(conf, "w") as f:
            f.write(r.conf_section())
            f.write(f"[milter]\nlocal_domains = example.test\n"
                    f"[users]\nmail_home = {tmp.join('mail', '%d', '%n')}\n"
                    f"[dns]\nnameservers = 127.0.0.1:9\ntimeout_ms = 300\n"
                    f"[classifier]\nmodel = {model}\n"
                    f"[intel]\ndir = {intel}\n"
                    f"[scores]\nINTEL_BLOCK = 30\n"
                    f"[actions]\nreject = 100\n"
                    f"[dovecot]\ndoveadm_socket = {dove.doveadm_socket}\n"
                    f"api_key_file = {dove.api_key_file}\n")
        for u, pw in ((USER, PASSWORD), ("bob@example.test", "bob password 12")):
            p = subprocess.run([IMS, "-c", conf, "user", "add", u], input=pw + "\n",
                               capture_output=True, text=True)
            assert p.returncode == 0, p.stderr
        dove.start()
        # the delivery's scan log: the rescan scores with its envelope
        r.cli("SET", f"ims:{{global}}:scan:{SCAN_ID}", json.dumps({
            "id": SCAN_ID, "mail_from": "mallory@sender.example", "queue_id": "Q1",
            "client": {"ip": "192.0.2.9", "name": "mx.sender.example", "helo": "mx.sender.example",
                       "auth": None}}))
        m = imaplib.IMAP4("127.0.0.1", dove.imap_port)
        m.login(USER, PASSWORD)
        for raw in (message(EVIL_SUBJECT, "Please log in at http://login.evil-phish.example/acct "
                            "today.\r\n", SCAN_ID),
                    message("lunch", "See you at noon.\r\n")):
            typ, data = m.append("INBOX", None, None, raw)
            assert typ == "OK", data
        m.logout()

        rc, out, err = rescan(conf)
        check(rc == 0 and out and out["scanned"] == 2 and out["pulled"] == 0,
              f"before the listing: scanned 2, pulled none ({out} {err.strip()})")
        check(len(inbox_subjects(dove.imap_port)) == 2, "INBOX unchanged")

        with open(os.path.join(intel, "phish.block"), "w") as f:
            f.write("evil-phish.example\n")
        before = r.cli("DBSIZE").strip()
        rc, out, err = rescan(conf, "--dry-run")
        check(rc == 0 and out and out["would_pull"] == 1 and out["messages"][0]["subject"] == EVIL_SUBJECT
              and out["messages"][0]["scan_id"] == SCAN_ID,
              f"--dry-run names the message ({out} {err.strip()})")
        check(r.cli("DBSIZE").strip() == before and len(inbox_subjects(dove.imap_port)) == 2,
              "--dry-run changes nothing")

        rc, out, err = rescan(conf)
        check(rc == 0 and out and out["pulled"] == 1 and out["messages"][0]["action"] == "quarantine",
              f"rescan pulls the message ({out} {err.strip()})")
        held = out["messages"][0].get("held_as", "") if out and out["messages"] else ""
        msgs = inbox_subjects(dove.imap_port)
        subjects = [x["Subject"] for x in msgs]
        check(EVIL_SUBJECT not in subjects and "lunch" in subjects,
              f"gone from the INBOX, the rest stays ({subjects})")
        note = [x for x in msgs if x["Subject"] == "A message was moved to quarantine"]
        body = note[0].get_payload(decode=True).decode() if note else ""
        check(len(note) == 1 and "pay now" in body and held in body and "INTEL_BLOCK" not in
              note[0]["From"], f"a note in the INBOX names it ({body!r})")
        check(r.cli("ZSCORE", "ims:{global}:quarantine", held).strip() != ""
              and r.cli("ZSCORE", f"ims:{{{USER}}}:quarantine", held).strip() != "",
              f"held in the quarantine as {held}")
        raw = r.cli("GET", f"ims:{{global}}:qraw:{held}")
        check("evil-phish.example" in raw and f"X-IMS-Scan-Id: {held}" in raw
              and SCAN_ID not in raw, "the held copy is the message, with its new scan id")
        check(r.cli("HGET", f"ims:{{global}}:qmsg:{held}", "class").strip() == "rescan"
              and "after delivery" in r.cli("HGET", f"ims:{{global}}:qmsg:{held}", "reason"),
              "held with class rescan and the reason")
        ev = subprocess.run([IMS, "-c", conf, "events", "tail", "--count", "50"],
                            capture_output=True, text=True)
        audit = [e for e in map(json.loads, ev.stdout.splitlines())
                 if e.get("op") == "rescan.quarantine"]
        check(len(audit) == 1 and audit[0]["target"] == held and audit[0]["user"] == USER
              and audit[0]["delivered_scan_id"] == SCAN_ID, f"audit event ({audit})")

        # what an admin released from the quarantine (lib/quarantine.c writes
        # X-IMS-Released; the milter strips it from mail that comes in) stays
        m = imaplib.IMAP4("127.0.0.1", dove.imap_port)
        m.login(USER, PASSWORD)
        released = ("X-IMS-Released: by admin@example.test at 2026-12-01T10:00:00Z\r\n"
                    "X-Spam-Flag: NO\r\n").encode() + message(
            "released", "Log in at http://login.evil-phish.example/acct\r\n", held)
        typ, data = m.append("INBOX", None, None, released)
        assert typ == "OK", data
        m.logout()
        rc, out, err = rescan(conf)
        check(rc == 0 and out and out["pulled"] == 0 and out["skipped"] == 2,
              f"a second run pulls nothing, and leaves the note and what an admin released ({out})")
        subjects = [x["Subject"] for x in inbox_subjects(dove.imap_port)]
        check("released" in subjects and "A message was moved to quarantine" in subjects,
              f"the released message and the note (which quotes the link) stay ({subjects})")
        rc, out, err = rescan(conf, "--threshold", "bogus")
        check(rc == 2, "a bad --threshold is a usage error")
    finally:
        if dove:
            dove.stop()
        r.stop()
        tmp.close()
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
