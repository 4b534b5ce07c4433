#!/usr/bin/python3
"""The whole stack, as the quick start runs it (contrib/ims-stack.py): nsd,
Redis, Dovecot, ims-milter, Postfix and ims-webapi on loopback, and the
paths a user and an admin take through it:

  * inbound ham over SMTP is accepted, delivered by LMTP, read over IMAP
    with the same password as the web API, and listed by GET /emails/inbox
    (Dovecot is the mailbox of record: reading it on the web sets \\Seen for
    IMAP, a web delete puts it into IMAP's Trash, Redis keeps no copy);
  * a local recipient without an account gets 550 5.1.1 at RCPT;
  * GTUBE and a forged sender (SPF fail, DMARC p=reject) get 550 5.7.1;
  * spam is held (by ims only: Postfix's hold queue stays empty), listed in
    /admin/quarantine, and a release delivers it over LMTP into the INBOX
    (its verdict headers replaced, so Sieve does not file it into Junk);
  * submission needs SASL (Dovecot, same registry); an outbound message is
    DKIM-signed and relayed; one sent with POST /emails/send too (the web
    API logs in as Dovecot's master user), and its copy is in IMAP's Sent;
  * after a reload (SIGUSR1) with quarantine and reject turned off, spam is only tagged
    and lands in the Junk folder through the Sieve script;
  * no secret or data file in the stack's folder is readable, and no socket
    writable, by other local users (file_mode_findings).
"""
import argparse
import imaplib
import importlib.util
import json
import os
import signal
import smtplib
import stat
import sys
import time
import urllib.error
import urllib.request

from harness import common

common.integration("postfix", "dovecot", "nsd", "redis-server", "opendkim-genkey", "sievec",
                   "smtp-sink")
BUILD = common.builddir()
if not os.path.exists(os.path.join(BUILD, "model.ims")):
    common.skip("no model.ims in the build dir (make model)")

spec = importlib.util.spec_from_file_location(
    "ims_stack", os.path.join(common.srcdir(), "contrib", "ims-stack.py"))
stack = importlib.util.module_from_spec(spec)
spec.loader.exec_module(stack)

ALICE, ALICE_PW = stack.USERS[0][0], stack.USERS[0][1]
ADMIN, ADMIN_PW = stack.USERS[1][0], stack.USERS[1][1]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def imap_messages(p, box):
    imap = imaplib.IMAP4("127.0.0.1", p["imap"])
    imap.login(ALICE, ALICE_PW)
    typ, data = imap.select(box, readonly=True)
    out = []
    if typ == "OK":
        for i in range(1, int(data[0]) + 1):
            _, msg = imap.fetch(str(i), "(BODY.PEEK[])")
            out.append(msg[0][1].decode(errors="replace"))
    imap.logout()
    return out


def wait_for(fn, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.25)
    return fn()


def api(p, method, path, token=None, body=None):
    hdrs = {"Content-Type": "application/json"}
    if token:
        hdrs["Authorization"] = "Bearer " + token
    req = urllib.request.Request(f"http://127.0.0.1:{p['webapi']}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            data = r.read()
            return r.status, json.loads(data) if data else {}
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


# Files any local user may read: they hold no secret and no user data.
PUBLIC_FILES = ("ports.json", "postfix/conf/main.cf", "postfix/conf/master.cf")
# PID files; the shipped Sieve scripts and IMAPSieve pipe wrapper
PUBLIC_DIRS = ("pids/", "dovecot-sieve/", "dovecot-ims-sieve/")


def reachable(path, root):
    """Whether other users can get from root to path (o+x on every folder)."""
    path, root = os.path.abspath(path), os.path.abspath(root)
    while True:
        if not os.stat(path).st_mode & stat.S_IXOTH:
            return False
        if len(path) <= len(root):
            return True
        path = os.path.dirname(path)


def file_mode_findings(root):
    """Every file, folder and socket under root that other local users can
    read (files) or write (folders, sockets, FIFOs), except PUBLIC_*."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        if not reachable(dirpath, root):
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            try:
                st = os.lstat(p)
            except FileNotFoundError:
                continue
            m = st.st_mode
            if stat.S_ISREG(m) and m & stat.S_IROTH:
                if not (rel in PUBLIC_FILES or rel.endswith(".pid") or
                        rel.startswith(PUBLIC_DIRS)):
                    out.append(f"{rel} {stat.filemode(m)} readable by others")
            elif (stat.S_ISSOCK(m) or stat.S_ISFIFO(m) or stat.S_ISDIR(m)) and m & stat.S_IWOTH:
                out.append(f"{rel} {stat.filemode(m)} writable by others")
    return out


def main():
    tmp = common.TempDir(prefix="ims-stack-")
    args = argparse.Namespace(dir=tmp.path, build=BUILD, no_demo=True)
    d = stack.Dir(tmp.path)
    try:
        check(stack.up(args) == 0, "stack up")
        with open(d.join("ports.json")) as f:
            p = json.load(f)
        samples = os.path.join(common.srcdir(), "contrib", "samples")
        with open(os.path.join(samples, "ham.eml"), "rb") as f:
            ham = f.read()
        with open(os.path.join(samples, "spam.eml"), "rb") as f:
            spam = f.read()

        # inbound ham: SMTP -> milter -> LMTP -> IMAP, and the web API
        r = stack.smtp_send(p, "news@sender.example", ALICE, ham)
        check(r.startswith("250"), f"ham accepted ({r})")
        inbox = wait_for(lambda: imap_messages(p, "INBOX"))
        check(len(inbox) == 1, "ham delivered to the IMAP INBOX")
        if inbox:
            m = inbox[0]
            check("X-Spam-Status: No" in m, "X-Spam-Status: No")
            check("X-IMS-Scan-Id:" in m, "X-IMS-Scan-Id present")
            check("spf=pass" in m and "mx.example.test" in m,
                  "Authentication-Results with the authserv-id and spf=pass")
        token = stack.api_login(p, ALICE, ALICE_PW)
        items = stack.api_get(p, "/emails/inbox", token)["items"]
        check(len(items) == 1 and items[0].get("action") == "accept",
              "GET /emails/inbox lists it with its action")
        # Redis asks for a password (the stack's ACL user ims)
        anon = common.run(["redis-cli", "-p", str(p["redis"]), "GET", "x"], check=False)
        check("NOAUTH" in anon.stdout + anon.stderr, "Redis refuses a client without the password")
        with open(d.join(f"redis-{p['redis']}.password")) as f:
            rpw = f.read().strip()
        keys = common.run(["redis-cli", "-p", str(p["redis"]), "--user", "ims", "--pass", rpw,
                           "--no-auth-warning", "--scan", "--pattern",
                           f"ims:{{{ALICE}}}:msg:*"]).stdout.strip()
        check(keys == "", "Redis keeps no copy of the delivered message")
        if items:
            status, m = api(p, "GET", f"/emails/{items[0]['id']}", token)
            check(status == 200 and m.get("scan", {}).get("action") == "accept",
                  "GET /emails/{id} reads it from Dovecot with its scan summary")
            imap = imaplib.IMAP4("127.0.0.1", p["imap"])
            imap.login(ALICE, ALICE_PW)
            imap.select("INBOX", readonly=True)
            _, data = imap.fetch("1", "(FLAGS)")
            check(b"\\Seen" in data[0], "read on the web = \\Seen over IMAP")
            imap.logout()
            # and back: unread over IMAP is unread on the next web page,
            # which comes over ims-webapi's pooled IMAP connection
            imap = imaplib.IMAP4("127.0.0.1", p["imap"])
            imap.login(ALICE, ALICE_PW)
            imap.select("INBOX")
            imap.store("1", "-FLAGS", "\\Seen")
            imap.logout()
            items = stack.api_get(p, "/emails/inbox", token)["items"]
            check(items and items[0]["seen"] is False, "unread over IMAP = unread on the web")
            with open(d.join("log", "ims-webapi.log"), errors="replace") as f:
                text = f.read()
            check(f"event=imap_login user={ALICE}" in text and "event=imap_failed" not in text,
                  "folder pages over IMAP (the master user on Dovecot's imap-ims socket)")

        # an unknown local recipient: refused at RCPT, nothing queued to bounce
        r = stack.smtp_send(p, "news@sender.example", "nobody@example.test", ham)
        check(r.startswith("550") and "5.1.1" in r, f"unknown local recipient: 550 5.1.1 ({r})")

        # rejects
        gtube = (f"From: t@sender.example\r\nTo: {ALICE}\r\nSubject: GTUBE\r\n\r\n"
                 "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n")
        r = stack.smtp_send(p, "t@sender.example", ALICE, gtube.encode())
        check(r.startswith("550") and "5.7.1" in r, f"GTUBE rejected ({r})")
        forged = (f"From: Bank <security@forged.example>\r\nTo: {ALICE}\r\n"
                  "Subject: Verify your account\r\n\r\nPlease log in.\r\n")
        r = stack.smtp_send(p, "security@forged.example", ALICE, forged.encode())
        check(r.startswith("550"), f"SPF fail + DMARC reject refused ({r})")

        # spam is held; the admin releases it and it is delivered
        r = stack.smtp_send(p, "offers@sender.example", ALICE, spam)
        check(r.startswith("250"), f"spam accepted for quarantine ({r})")
        admin = stack.api_login(p, ADMIN, ADMIN_PW)
        held = wait_for(lambda: stack.api_get(p, "/admin/quarantine", admin)["items"])
        check(len(held) == 1, "spam listed in /admin/quarantine")
        check(len(imap_messages(p, "INBOX")) == 1, "held spam not delivered")
        if held:
            status, _ = api(p, "POST", f"/admin/quarantine/{held[0]['id']}/release", admin)
            check(status == 200, f"release answered {status}")
            inbox = wait_for(lambda: len(imap_messages(p, "INBOX")) == 2 and
                             imap_messages(p, "INBOX"))
            check(inbox and f"X-IMS-Released: by {ADMIN}" in inbox[-1] and
                  "X-Spam-Flag: NO" in inbox[-1],
                  "released message delivered to the INBOX, saying who released it")
            check(len(imap_messages(p, "Junk")) == 0, "the released message is not in Junk")
            audit = stack.api_get(p, "/admin/audit", admin)["items"]
            check(any("release" in json.dumps(a) for a in audit), "release is in the audit trail")
        status, _ = api(p, "GET", "/admin/scans", token)
        check(status == 403, "a user gets 403 on an admin route")

        # submission: SASL through Dovecot, DKIM-signed, relayed, in the sent box
        with smtplib.SMTP("127.0.0.1", p["submission"], timeout=60) as s:
            s.ehlo("laptop.example.test")
            try:
                s.login(ALICE, "wrong-password")
                check(False, "wrong password refused")
            except smtplib.SMTPAuthenticationError:
                check(True, "wrong password refused (535)")
        with smtplib.SMTP("127.0.0.1", p["submission"], timeout=60) as s:
            s.ehlo("laptop.example.test")
            s.login(ALICE, ALICE_PW)
            s.sendmail(ALICE, ["bob@elsewhere.example"],
                       f"From: Alice <{ALICE}>\r\nTo: bob@elsewhere.example\r\n"
                       "Subject: Notes from the design review\r\n\r\nHi Bob,\r\n\r\n"
                       "here are the notes from today's review of the storage layout; the\r\n"
                       "benchmark figures are attached to the ticket.\r\n\r\nAlice\r\n".encode())
        out = wait_for(lambda: os.listdir(d.join("outbound")))
        text = ""
        if out:
            with open(os.path.join(d.join("outbound"), sorted(out)[-1]), errors="replace") as f:
                text = f.read()
        check("DKIM-Signature:" in text and "d=example.test" in text,
              "outbound relayed with a DKIM-Signature for example.test")
        # the submission service pins the envelope sender to the login
        with smtplib.SMTP("127.0.0.1", p["submission"], timeout=60) as s:
            s.ehlo("laptop.example.test")
            s.login(ALICE, ALICE_PW)
            s.mail(ADMIN)
            code, _ = s.rcpt("bob@elsewhere.example")
            check(code == 553, f"alice may not send as {ADMIN} ({code})")
        # the web API sends as alice through the same submission service, and
        # saves its copy into Sent as mail clients do
        status, body = api(p, "POST", "/emails/send", token,
                           {"to": "carol@elsewhere.example", "subject": "Slides",
                            "text": "Hi Carol,\nthe slides for Friday are ready.\nAlice\n"})
        check(status == 202 and body.get("saved") is True,
              f"POST /emails/send answered {status} {body}")
        out = wait_for(lambda: len(os.listdir(d.join("outbound"))) >= 2)
        check(out, "the web API's message went through Postfix and was relayed")
        sent = imap_messages(p, "Sent")
        check(len(sent) == 1 and "Subject: Slides" in sent[0], "web send is in IMAP's Sent")
        # a web delete is a move into IMAP's Trash
        items = stack.api_get(p, "/emails/inbox", token)["items"]
        if items:
            status, _ = api(p, "DELETE", f"/emails/{items[0]['id']}", token)
            check(status == 204 and len(imap_messages(p, "Trash")) == 1,
                  "web delete is in IMAP's Trash")

        def relayed(subject):
            for name in sorted(os.listdir(d.join("outbound"))):
                with open(os.path.join(d.join("outbound"), name), errors="replace") as f:
                    t = f.read()
                if f"Subject: {subject}" in t and "for Friday are ready" in t:
                    return t  # the body is in: the header section is complete
            return None
        # the master-user login counts as alice ({auth_authen}): signed
        t = wait_for(lambda: relayed("Slides"))
        check(bool(t) and "DKIM-Signature:" in t and "d=example.test" in t,
              "the web API's message is DKIM-signed for alice's domain")

        # reload (SIGUSR1): quarantine and reject turned off take effect; spam is only
        # tagged now, and Sieve files it into Junk
        conf = d.join("etc", "ims.conf")
        with open(conf, "a") as f:
            f.write("\n[actions]\nquarantine = -1\nreject = -1\n")
        with open(d.join("pids", "ims-milter.pid")) as f:
            os.kill(int(f.read()), signal.SIGUSR1)
        time.sleep(1.0)
        r = stack.smtp_send(p, "offers@sender.example", ALICE, spam)
        check(r.startswith("250"), f"spam accepted after reload ({r})")
        junk = wait_for(lambda: len(imap_messages(p, "Junk")) == 1 and imap_messages(p, "Junk"))
        check(junk and "X-Spam-Flag: YES" in junk[-1],
              "after SIGHUP the tagged message is filed into Junk by Sieve")

        # file modes, with every part up and data written
        findings = file_mode_findings(tmp.path)
        for f in findings:
            print("     " + f)
        check(not findings, "no secret or data file readable, no socket writable, by others")
    finally:
        stack.down(args)
        for name in ("ims-milter", "ims-webapi"):
            log = d.join("log", name + ".log")
            if os.path.exists(log):
                with open(log, errors="replace") as f:
                    text = f.read()
                if "ERROR: AddressSanitizer" in text or "runtime error:" in text:
                    failures.append(f"{name}: sanitizer report in its log")
                    print(text[-4000:])
        tmp.close()
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
