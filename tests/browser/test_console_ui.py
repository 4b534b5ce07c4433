#!/usr/bin/python3
"""Runs tests/browser/console.test.js (playwright-core + Debian's chromium):
the security console for an admin, against a real ims-webapi serving
webui/dist, redis-server, Dovecot and an LMTP sink for releases, with scans,
dashboard counters (written as lib/dashboard.c writes them) and held
messages seeded. Screenshots of every console screen, desktop and 390 px,
go to tests/browser/artifacts/console/ in the build directory.
Skips when chromium, node, tests/browser/node_modules (npm ci) or the built
web UI (webui/dist) is missing."""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "webapi"))
sys.path.insert(0, os.path.dirname(HERE))
from fixtures import Env, PASSWORD, scan_log, ulid, message  # noqa: E402
from harness import common  # noqa: E402
from harness.smtpsink import SmtpSink  # noqa: E402
from test_console import counters  # noqa: E402  (tests/webapi/test_console.py)


def seed(env):
    now = int(time.time() * 1000)
    cmds = []
    senders = ["news@example.org", "bob@example.org", "phisher@bad.example", "x@spam.example"]
    for i in range(24):
        t = now - i * 7 * 60 * 1000
        kind = i % 4
        action, verdict, spf = [("accept", "ham", "pass"), ("accept", "ham", "pass"),
                                ("tag", "spam", "softfail"), ("reject", "spam", "fail")][kind]
        sym = [(("SPF_PASS", -0.5), ("DKIM_VALID", -0.5)), (("SPF_PASS", -0.5),),
               (("SVM_SPAM", 6.0), ("SPF_SOFTFAIL", 1.0)),
               (("SVM_SPAM", 8.0), ("SPF_FAIL", 3.0), ("DMARC_POLICY_REJECT", 10.0))][kind]
        log = scan_log(ulid(t), t, senders[kind], ["alice@example.test"],
                       f"Message {i} <b>not bold</b>", verdict, action,
                       sum(w for _, w in sym), sym)
        log["client"]["ip"] = f"192.0.2.{10 + kind}"
        log["auth"]["spf"] = spf
        log["headers"] = [{"name": "Received", "value": "from mx.spam.example (192.0.2.13)"},
                          {"name": "From", "value": senders[kind]},
                          {"name": "Subject", "value": log["subject"]}]
        # the hour's counters come from counters() below, with the dashboard's
        cmds += [c for c in env.global_scan_cmds(log) if not c[1].startswith("ims:{global}:stats:")]
        cmds += counters(t, action=action, verdict=verdict, spf=spf,
                         dmarc="fail" if kind == 3 else "pass", sender=senders[kind],
                         targets=["alice@example.test"] if kind >= 2 else [],
                         symbols=[n for n, _ in sym])
    hour = time.strftime("%Y%m%d%H", time.gmtime(now / 1000))
    g = time.gmtime(now / 1000)
    min5 = hour + "%02d" % (g.tm_min - g.tm_min % 5)
    for v, n in (("clean", 5), ("warn", 2), ("block", 1)):
        cmds += [["HINCRBY", f"ims:{{global}}:stats:{hour}", f"click:{v}", str(n)],
                 ["HINCRBY", f"ims:{{global}}:stats5:{min5}", f"click:{v}", str(n)]]
    env.pipe(cmds)
    html = ("From: courier@bad.example\r\nTo: alice@example.test\r\n"
            "Subject: Held html: your parcel\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/html; charset=utf-8\r\n\r\n"
            "<p>Your <b>parcel</b> <script>alert(1)</script>"
            "<img src=\"http://203.0.113.9/pixel.gif\" onerror=\"alert(2)\"></p>\r\n")
    env.store("alice@example.test", "courier@bad.example", "Held html: your parcel", raw=html,
              verdict="spam", action="quarantine", score=11.0,
              symbols=(("SVM_SPAM", 8.0),), quarantine=True, t=int(time.time() * 1000) - 60000)
    for i, who in enumerate(["alice@example.test", "bob@example.test", "alice@example.test"]):
        raw = message("evil@bad.example", who, f"Held {i}: invoice overdue",
                      body="Pay now at https://bad.example/pay\n")
        env.store(who, "evil@bad.example", f"Held {i}: invoice overdue", raw=raw,
                  verdict="spam", action="quarantine", score=12.0,
                  symbols=(("SVM_SPAM", 8.0), ("PHISH_URL_TEXT_MISMATCH", 4.0)), quarantine=True)


def main():
    common.require("/usr/bin/chromium", "node")
    for mod in ("playwright-core", "axe-core"):
        if not os.path.isdir(os.path.join(HERE, "node_modules", mod)):
            common.skip(f"run 'npm ci' in tests/browser first ({mod})")
    ui = os.environ.get("IMS_WEBUI_DIST") or os.path.join(TOP, "webui", "dist")
    if not os.path.isfile(os.path.join(ui, "index.html")):
        common.skip("the web UI is not built (npm ci && npm run build in webui/)")
    art = os.path.join(os.getcwd(), "tests", "browser", "artifacts", "console")
    os.makedirs(art, exist_ok=True)
    sink = SmtpSink(lmtp=True).start()
    try:
        with Env(extra={"quarantine.lmtp": sink.target()}, ui_dir=ui, dovecot=True) as env:
            env.add_user("alice@example.test")
            env.add_user("bob@example.test")
            env.add_user("admin@example.test", role="admin")
            seed(env)
            e = dict(os.environ, IMS_URL=env.api.url(""), IMS_ADMIN="admin@example.test",
                     IMS_PASSWORD=PASSWORD, IMS_ARTIFACTS=art,
                     NODE_PATH=os.path.join(HERE, "node_modules"))
            r = subprocess.run(["node", os.path.join(HERE, "console.test.js")], env=e, cwd=HERE,
                               capture_output=True, text=True, timeout=240)
            print(r.stdout + r.stderr)
            if r.returncode != 0:
                raise SystemExit(1)
            print(f"screenshots in {art}")
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
