#!/usr/bin/python3
"""Runs tests/browser/ui.test.js (playwright-core + Debian's chromium)
against a real ims-webapi, redis-server and Dovecot (the mailbox of record)
with seeded mailboxes and scans.
Skips when chromium, node or tests/browser/node_modules (npm ci) is missing."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "webapi"))
sys.path.insert(0, os.path.dirname(HERE))
from fixtures import Env, PASSWORD  # noqa: E402
from harness import common  # noqa: E402
from harness.smtpsink import SmtpSink  # noqa: E402


def main():
    common.require("/usr/bin/chromium", "node")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        common.skip("run 'npm ci' in tests/browser first (playwright-core)")
    ui = os.path.join(os.path.dirname(os.path.dirname(HERE)), "webapi", "ui")
    sink = SmtpSink(lmtp=True).start()
    try:
        with Env(extra={"quarantine.lmtp": sink.target()}, ui_dir=ui, dovecot=True) as env:
            env.add_user("alice@example.test")
            env.add_user("admin@example.test", role="admin")
            env.deliver("alice@example.test", "bob@example.org", "First hello")
            env.deliver("alice@example.test", "carol@example.org", "Second hello")
            subject = "Cheap pills <script>alert(1)</script>"
            raw = ("From: spammer@example.org\r\nTo: alice@example.test\r\n"
                   f"Subject: {subject}\r\nMIME-Version: 1.0\r\n"
                   "Content-Type: text/html; charset=utf-8\r\n\r\n"
                   "<p>Buy <b>bold</b><script>alert(2)</script>"
                   "<img src=x onerror=alert(3)></p>\r\n")
            env.deliver("alice@example.test", "spammer@example.org", subject, raw=raw,
                        verdict="spam", action="tag", score=7.0,
                        symbols=(("SVM_SPAM", 6.0), ("HTML_ONLY", 1.0)))
            sid = env.last_scan_id
            env.store("bob@example.test", "evil@example.org", "held", verdict="spam",
                      action="quarantine", score=12.0, quarantine=True)
            env.store("alice@example.test", "spammer2@example.org", "held for alice",
                      verdict="ham", action="quarantine", score=12.0, quarantine=True)
            e = dict(os.environ, IMS_URL=env.api.url(""), IMS_USER="alice@example.test",
                     IMS_ADMIN="admin@example.test", IMS_PASSWORD=PASSWORD,
                     IMS_SUBJECT=subject, IMS_SCAN_ID=sid, NODE_PATH=os.path.join(HERE, "node_modules"))
            r = subprocess.run(["node", os.path.join(HERE, "ui.test.js")], env=e, cwd=HERE,
                               capture_output=True, text=True, timeout=180)
            print(r.stdout + r.stderr)
            if r.returncode != 0:
                raise SystemExit(1)
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
