#!/usr/bin/python3
"""Send and release through the real parts: ims-webapi submits POST
/emails/send to a private Postfix whose SASL is the private Dovecot on the
ims user registry, logging in as the Dovecot master user acting as the
signed-in user; Postfix runs ims-milter on it and relays it, and the web
API saves the copy into the user's Sent folder in Dovecot (seen back
through GET /emails/sent and IMAP).  A held message released by an admin
goes through Postfix's reinjection listener (no milter) to its recipient."""
import imaplib
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixtures import Env, PASSWORD, run  # noqa: E402
sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from harness import common  # noqa: E402
from harness import milter as hmilter  # noqa: E402
from harness.postfix import Postfix  # noqa: E402

env = pf = dove = None
ALICE = "alice@example.test"


def test_send_through_postfix_and_milter():
    t = env.add_user(ALICE)["access_token"]
    r = env.api.request("POST", "/emails/send",
                        {"to": ["bob@example.test"], "subject": "through postfix",
                         "text": "Hello Bob, this went through Postfix and ims-milter."},
                        token=t)
    assert r.status == 202, (r, pf.log_text()[-2000:])
    mid = r.json()["message_id"]
    msgs = pf.wait_delivered(1)
    assert "through postfix" in msgs[-1] and mid in msgs[-1]
    assert "X-IMS-Scan-Id:" in msgs[-1], msgs[-1][:800]
    log = pf.log_text()
    assert f"sasl_username={ALICE}" in log, log[-2000:]
    # the milter scanned it as alice's outbound mail ...
    sid = [l for l in msgs[-1].splitlines() if l.startswith("X-IMS-Scan-Id:")][0].split()[1]
    scan = json.loads(env.cli("GET", f"ims:{{global}}:scan:{sid}"))
    assert scan["direction"] == "outbound" and scan["client"]["auth"] == ALICE, scan["client"]
    # ... kept no copy of it in Redis, and the web API saved it into Sent
    assert env.cli("KEYS", f"ims:{{{ALICE}}}:msg:*").strip() == ""
    items = env.api.request("GET", "/emails/sent", token=t).json()["items"]
    assert items and items[0]["subject"] == "through postfix" and items[0]["seen"], items
    m = imaplib.IMAP4("127.0.0.1", dove.imap_port)
    m.login(ALICE, PASSWORD)
    typ, data = m.select("Sent", readonly=True)
    assert typ == "OK" and int(data[0]) == 1, data
    m.logout()


def test_release_through_reinject():
    admin = env.add_user("root@example.test", role="admin")["access_token"]
    before = len(pf.delivered())
    sid = env.store("carol@example.test", "spammer@example.org", "held for review",
                    verdict="spam", action="quarantine", score=12.0, quarantine=True)
    r = env.api.request("POST", f"/admin/quarantine/{sid}/release", token=admin)
    assert r.status == 200, (r, pf.log_text()[-2000:])
    msgs = pf.wait_delivered(before + 1)
    held = [m for m in msgs if "held for review" in m]
    assert held, [m[-300:] for m in msgs]
    assert "X-IMS-Scan-Id" not in held[-1]  # the reinjection listener runs no milter


def main():
    common.require("postfix", "dovecot", "smtp-sink", "redis-server")
    if os.geteuid() != 0:
        common.skip("private Postfix and Dovecot instances need root")
    global env, pf, dove
    tmp = common.TempDir("ims-webapi-postfix-")
    milter = None
    try:
        with Env(extra={"webapi.submission_user": "webapi"}, dovecot=True) as e:
            env = e
            dove = e.dove
            model = hmilter.make_model(tmp, 1.0)
            milter = hmilter.Milter(tmp, e.redis, model).start()
            pf = Postfix(e.tmp, milter=milter.postfix_socket, extra_main=(
                "smtpd_sasl_type = dovecot\n"
                f"smtpd_sasl_path = {dove.auth_socket}\n"
                "smtpd_sasl_auth_enable = yes\n"
                "smtpd_sasl_security_options = noanonymous\n"
                "milter_mail_macros = i {auth_type} {auth_authen} {auth_author} "
                "{mail_addr} {mail_host} {mail_mailer}\n")).start()
            # point ims-webapi at them: restart it with the ports now known
            e.api.stop()
            pwfile = os.path.join(e.api.dir, "submission.pw")
            with open(pwfile, "w") as f:
                f.write(dove.master_password + "\n")
            e.api.extra.update({"webapi.submission": f"smtp://127.0.0.1:{pf.port}",
                                "webapi.submission_password_file": pwfile,
                                "webapi.reinject": f"smtp://127.0.0.1:{pf.reinject_port}"})
            e.api.start()
            try:
                run([test_send_through_postfix_and_milter, test_release_through_reinject])
            finally:
                pf.stop()
                if milter.stop() != 0:
                    print(milter.log_text()[-3000:])
    finally:
        tmp.close()


if __name__ == "__main__":
    main()
