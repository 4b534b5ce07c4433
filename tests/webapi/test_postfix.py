#!/usr/bin/python3
"""Send and release through the real parts: ims-webapi submits POST
/emails/send to a private Postfix whose SASL is the private Dovecot on the
ims user registry, logging in as the Dovecot master user acting as the
signed-in user; Postfix runs ims-milter on it and relays it, and the web
API saves the copy into the user's Sent folder in Dovecot (seen back
through GET /emails/sent and IMAP).  An unknown recipient of a local domain
is refused at RCPT (550 5.1.1) by ims-milter's registry check, as with
Sendmail (tests/e2e/test_sendmail.py).  (Release from the quarantine:
tests/e2e/test_quarantine.py.)"""
import base64
import imaplib
import json
import os
import smtplib
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixtures import Env, PASSWORD, run  # noqa: E402
sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from harness import common  # noqa: E402
from harness import milter as hmilter  # noqa: E402
from harness.dovecot import Dovecot  # noqa: E402
from harness import postfix as hpostfix  # noqa: E402
from harness.postfix import Postfix  # noqa: E402
from harness.webapi import find_binary  # noqa: E402

env = pf = dove = aliases_table = None
ALICE = "alice@example.test"


def test_send_through_postfix_and_milter():
    t = env.add_user(ALICE)["access_token"]
    r = env.api.request("POST", "/emails/send",
                        {"to": ["bob@example.test"], "subject": "through postfix",
                         "text": "Hello Bob, this went through Postfix and ims-milter."},
                        token=t)
    assert r.status == 202, (r, pf.log_text()[-2000:])
    mid = r.json()["message_id"]
    msgs = pf.wait_for_text(mid)
    assert "through postfix" in msgs[-1]
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


def ims(*args, password=None):
    binary = find_binary("ims", "cli")
    return subprocess.run([binary, "-c", env.api.conf, *args], input=password,
                          capture_output=True, text=True)


def smtp_auth(user, password, master=None):
    """SMTP AUTH PLAIN on the submission port: the reply code.  master: log
    in as that Dovecot master user with user as the authorization id (what
    ims-webapi does)."""
    with smtplib.SMTP("127.0.0.1", pf.port, timeout=30) as s:
        s.ehlo("client.example.test")
        if master:
            cred = base64.b64encode(f"{user}\0{master}\0{password}".encode()).decode()
            return s.docmd("AUTH", "PLAIN " + cred)[0]
        try:
            return s.login(user, password)[0]
        except smtplib.SMTPAuthenticationError as e:
            return e.smtp_code


def test_disabled_account_cannot_submit():
    user = "dora@example.test"
    env.add_user(user)
    assert smtp_auth(user, PASSWORD) == 235
    r = ims("user", "disable", user)
    assert r.returncode == 0, r.stderr
    assert smtp_auth(user, PASSWORD) == 535, pf.log_text()[-2000:]
    assert smtp_auth(user, dove.master_password, master="webapi") == 535
    assert ims("user", "enable", user).returncode == 0
    assert smtp_auth(user, PASSWORD) == 235
    assert smtp_auth(user, dove.master_password, master="webapi") == 235


def smtp_mail_from(user, password, sender, master=None):
    """AUTH as user (or as master for user), MAIL FROM sender and RCPT TO:
    the reply code (Postfix applies sender restrictions at RCPT TO, as
    smtpd_delay_reject = yes, its default, asks)."""
    with smtplib.SMTP("127.0.0.1", pf.port, timeout=30) as s:
        s.ehlo("client.example.test")
        if master:
            cred = base64.b64encode(f"{user}\0{master}\0{password}".encode()).decode()
            assert s.docmd("AUTH", "PLAIN " + cred)[0] == 235
        else:
            s.login(user, password)
        code = s.mail(sender)[0]
        return code if code != 250 else s.rcpt("bob@example.test")[0]


def refresh_alias_map():
    r = ims("user", "alias", "list")
    assert r.returncode == 0, r.stderr
    # Postfix tells a changed table by its mtime, in whole seconds
    time.sleep(1.1)
    hpostfix.update_sender_aliases(aliases_table, r.stdout)
    return r.stdout


def test_sender_pinned_to_login():
    """reject_authenticated_sender_login_mismatch with the shipped map: a
    user may send as itself and its registry aliases, not as another
    local user; the web API's master-user login counts as the user."""
    env.add_user("erin@example.test")
    env.add_user("frank@example.test")
    assert smtp_mail_from(ALICE, PASSWORD, "alice@example.test") == 250
    assert smtp_mail_from(ALICE, PASSWORD, "Alice@Example.TEST") == 250
    assert smtp_mail_from(ALICE, PASSWORD, "") == 250  # bounces, receipts
    assert smtp_mail_from(ALICE, PASSWORD, "erin@example.test") == 553, pf.log_text()[-1500:]
    assert smtp_mail_from(ALICE, PASSWORD, "someone@elsewhere.example") == 553
    assert smtp_mail_from(ALICE, dove.master_password, "alice@example.test",
                          master="webapi") == 250
    assert smtp_mail_from(ALICE, dove.master_password, "erin@example.test",
                          master="webapi") == 553
    # aliases: in the registry, then in Postfix's table
    r = ims("user", "alias", "add", ALICE, "Sales@example.test")
    assert r.returncode == 0, r.stderr
    assert ims("user", "alias", "add", "frank@example.test", "sales@example.test").returncode == 1
    assert ims("user", "alias", "add", ALICE, "erin@example.test").returncode == 1  # an account
    assert ims("user", "alias", "add", "nobody@example.test", "x@example.test").returncode == 1
    assert ims("user", "alias", "add", ALICE, "x@not-local.example").returncode == 1
    assert refresh_alias_map() == "sales@example.test alice@example.test\n"
    assert ims("user", "alias", "list", ALICE).stdout == "sales@example.test alice@example.test\n"
    deadline = time.time() + 10  # Postfix restarts smtpd when the table changed
    while time.time() < deadline and smtp_mail_from(ALICE, PASSWORD, "sales@example.test") != 250:
        time.sleep(0.2)
    assert smtp_mail_from(ALICE, PASSWORD, "sales@example.test") == 250
    assert smtp_mail_from("frank@example.test", PASSWORD, "sales@example.test") == 553
    # an alias cannot be registered as an account
    r = env.api.request("POST", "/auth/register", {"address": "sales@example.test",
                                                   "password": PASSWORD})
    assert r.status == 409, r
    r = ims("user", "alias", "del", ALICE, "sales@example.test")
    assert r.returncode == 0, r.stderr
    assert ims("user", "alias", "del", ALICE, "sales@example.test").returncode == 1
    assert refresh_alias_map() == ""
    deadline = time.time() + 10
    while time.time() < deadline and smtp_mail_from(ALICE, PASSWORD, "sales@example.test") != 553:
        time.sleep(0.2)
    assert smtp_mail_from(ALICE, PASSWORD, "sales@example.test") == 553, pf.log_text()[-1500:]
    # deleting an account frees its aliases
    assert ims("user", "alias", "add", "frank@example.test", "ops@example.test").returncode == 0
    assert ims("user", "del", "frank@example.test").returncode == 0
    assert ims("user", "alias", "list").stdout == ""
    ops = env.cli("XRANGE", "ims:{global}:events", "-", "+")
    assert "user.alias.add" in ops and "user.alias.del" in ops


def test_unknown_local_recipient_refused():
    with smtplib.SMTP("127.0.0.1", pf.port, timeout=30) as s:
        s.ehlo("client.example.test")
        assert s.mail("news@example.org")[0] == 250
        code, text = s.rcpt("nobody@example.test")
        assert code == 550 and b"5.1.1" in text, (code, text)
        assert s.rcpt("Bob@Example.test")[0] == 250
        s.rset()
    # a sender alias is not a mailbox: it routes no mail, so it is refused too
    assert ims("user", "alias", "add", ALICE, "info@example.test").returncode == 0
    with smtplib.SMTP("127.0.0.1", pf.port, timeout=30) as s:
        s.ehlo("client.example.test")
        assert s.mail("news@example.org")[0] == 250
        assert s.rcpt("info@example.test")[0] == 550
        s.rset()
    assert ims("user", "alias", "del", ALICE, "info@example.test").returncode == 0


def main():
    common.require("postfix", "dovecot", "smtp-sink", "redis-server")
    if os.geteuid() != 0:
        common.skip("private Postfix and Dovecot instances need root")
    global env, pf, dove, aliases_table
    tmp = common.TempDir("ims-webapi-postfix-")
    milter = None
    try:
        with Env(extra={"webapi.submission_user": "webapi"}, dovecot=True) as e:
            env = e
            dove = e.dove
            model = hmilter.make_model(tmp, 1.0)
            milter = e.own(hmilter.Milter(tmp, e.redis, model, check_recipients=True)).start()
            sender_login, aliases_table = hpostfix.shipped_sender_login(e.tmp.join("pf-maps"))
            pf = e.own(Postfix(e.tmp, milter=milter.postfix_socket, extra_main=(
                sender_login +
                # this smtpd plays the shipped submission service
                "smtpd_sender_restrictions = $mua_sender_restrictions\n"
                "smtpd_sasl_type = dovecot\n"
                f"smtpd_sasl_path = {dove.auth_socket}\n"
                "smtpd_sasl_auth_enable = yes\n"
                "smtpd_sasl_security_options = noanonymous\n"
                "milter_mail_macros = i {auth_type} {auth_authen} {auth_author} "
                "{mail_addr} {mail_host} {mail_mailer}\n"))).start()
            # point ims-webapi at them: restart it with the ports now known
            e.api.stop()
            pwfile = os.path.join(e.api.dir, "submission.pw")
            with open(os.open(pwfile, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(dove.master_password + "\n")
            e.api.extra.update({"webapi.submission": f"smtp://127.0.0.1:{pf.port}",
                                "webapi.submission_password_file": pwfile})
            e.api.start()
            e.add_user("bob@example.test")  # the recipient of what these tests send
            try:
                run([test_send_through_postfix_and_milter, test_disabled_account_cannot_submit,
                     test_sender_pinned_to_login, test_unknown_local_recipient_refused])
            finally:
                pf.stop()
                if milter.stop() != 0:
                    print(milter.log_text()[-3000:])
    finally:
        tmp.close()


if __name__ == "__main__":
    main()
