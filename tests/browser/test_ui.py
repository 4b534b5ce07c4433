#!/usr/bin/python3
"""Runs tests/browser/ui.test.js (playwright-core + Debian's chromium, axe-core)
against a real ims-webapi serving the built web UI (webui/dist), redis-server
and Dovecot (the mailbox of record; folder pages over IMAP as the quick start
has them), with seeded mailboxes, scans and held messages, and an SMTP sink as
the submission service. Screenshots of every
main screen go to $top_builddir/tests/browser/screenshots (printed).
Skips when chromium, node, tests/browser/node_modules (npm ci) or the built
UI (npm ci && npm run build in webui/) is missing."""
import http.server
import os
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "webapi"))
sys.path.insert(0, os.path.dirname(HERE))
from fixtures import Env, PASSWORD  # noqa: E402
from harness import common  # noqa: E402
from harness.smtpsink import SmtpSink  # noqa: E402

HOSTILE = ("From: Spammer <spammer@example.org>\r\nTo: alice@example.test\r\n"
           "Subject: {subject}\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/html; charset=utf-8\r\n\r\n"
           "<p>Buy <b>bold</b><script>alert(2)</script>"
           "<img src=x onerror=alert(3)>"
           "<img src=\"http://203.0.113.9/track.png\">"
           "<a href=\"javascript:alert(4)\">js</a>"
           "<iframe src=\"http://203.0.113.9/\"></iframe>"
           "<a href=\"https://shop.example/\" onclick=\"alert(5)\">shop</a></p>\r\n")


# a 1x1 transparent PNG
PIXEL = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                      "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082")


class Pixel(http.server.BaseHTTPRequestHandler):
    """A remote image on loopback: GET /pixel.png counts, GET /count tells."""
    hits = 0

    def do_GET(self):
        if self.path.startswith("/pixel.png"):
            Pixel.hits += 1
            body, ctype = PIXEL, "image/png"
        elif self.path == "/count":
            body, ctype = str(Pixel.hits).encode(), "text/plain"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    common.require("/usr/bin/chromium", "node")
    for pkg in ("playwright-core", "axe-core"):
        if not os.path.isdir(os.path.join(HERE, "node_modules", pkg)):
            common.skip("run 'npm ci' in tests/browser first (%s)" % pkg)
    ui = os.path.join(TOP, "webui", "dist")
    if not os.path.isfile(os.path.join(ui, "index.html")):
        common.skip("the web UI is not built (npm ci && npm run build in webui/)")
    shots = os.path.join(os.environ.get("top_builddir", os.getcwd()), "tests", "browser",
                         "screenshots")
    os.makedirs(shots, exist_ok=True)
    for old in os.listdir(shots):  # this run's screenshots only
        if old.endswith(".png"):
            os.unlink(os.path.join(shots, old))
    pixel = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pixel)
    threading.Thread(target=pixel.serve_forever, daemon=True).start()
    pixel_url = "http://127.0.0.1:%d" % pixel.server_address[1]
    lmtp = SmtpSink(lmtp=True).start()
    # the submission sink takes the Dovecot master user that ims-webapi also
    # logs into IMAP with (folder pages over IMAP, as the quick start runs)
    smtp = SmtpSink(user="webapi", password="set below").start()
    try:
        with Env(extra={"quarantine.lmtp": lmtp.target(), "webapi.submission": smtp.url()},
                 ui_dir=ui, dovecot=True, imap=True) as env:
            smtp.password = env.dove.master_password
            env.add_user("alice@example.test")
            env.add_user("admin@example.test", role="admin")
            # remote images: erin's one message, off until she asks
            env.add_user("erin@example.test")
            env.deliver("erin@example.test", "news@example.org", "Pictures from the trip",
                        raw=("From: news@example.org\r\nTo: erin@example.test\r\n"
                             "Subject: Pictures from the trip\r\nMIME-Version: 1.0\r\n"
                             "Content-Type: text/html; charset=utf-8\r\n\r\n"
                             "<p>Look <b>here</b><img src=\"%s/pixel.png\" alt=\"the view\">"
                             "</p>\r\n" % pixel_url))
            env.deliver("alice@example.test", "bob@example.org", "First hello")
            env.deliver("alice@example.test", "carol@example.org", "Second hello")
            subject = "Cheap pills <script>alert(1)</script>"
            env.deliver("alice@example.test", "spammer@example.org", subject,
                        raw=HOSTILE.format(subject=subject),
                        verdict="spam", action="tag", score=7.0,
                        symbols=(("SVM_SPAM", 6.0), ("HTML_ONLY", 1.0)))
            for i in range(55):  # a second page
                env.deliver("alice@example.test", "list@example.org", "Newsletter %02d" % i)
            env.store("bob@example.test", "evil@example.org", "held", verdict="spam",
                      action="quarantine", score=12.0, quarantine=True)
            env.store("alice@example.test", "spammer2@example.org", "held for alice",
                      verdict="ham", action="quarantine", score=12.0, quarantine=True)
            e = dict(os.environ, IMS_URL=env.api.url(""), IMS_USER="alice@example.test",
                     IMS_ADMIN="admin@example.test", IMS_PASSWORD=PASSWORD,
                     IMS_SUBJECT=subject, IMS_SHOTS=shots, IMS_PIXEL=pixel_url,
                     NODE_PATH=os.path.join(HERE, "node_modules"))
            r = subprocess.run(["node", os.path.join(HERE, "ui.test.js")], env=e, cwd=HERE,
                               capture_output=True, text=True, timeout=240)
            print(r.stdout + r.stderr)
            print("screenshots: " + shots)
            if r.returncode != 0:
                raise SystemExit(1)
            sent = [m["data"] for m in smtp.messages if b"Lunch on Friday" in m["data"]]
            assert sent, "the composed message reached the submission service"
            raw = sent[0]
            assert b"menu.txt" in raw and b"bWVudTogc291cA" in raw, "with its attachment"
            print("ok   the composed message went out with its attachment")
    finally:
        smtp.stop()
        lmtp.stop()
        pixel.shutdown()
        pixel.server_close()


if __name__ == "__main__":
    main()
