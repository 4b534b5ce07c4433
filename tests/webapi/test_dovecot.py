#!/usr/bin/python3
"""One user registry for the web API, IMAP and SMTP AUTH: an account made
with `ims user add` logs in to a private Dovecot (IMAP, Python imaplib)
that reads the same Redis through the shipped dict config, and to
ims-webapi; a wrong password, a disabled account and a deleted one fail in
both places.  Also Dovecot's own check of the stored argon2id hash, and
where the webapi master secret opens a mailbox (only on ims-webapi's own
IMAP socket)."""
import imaplib
import os
import smtplib
import socket
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixtures import Env, run  # noqa: E402
sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from harness import common  # noqa: E402
from harness.dovecot import Dovecot  # noqa: E402
from harness.webapi import find_binary  # noqa: E402

env = dove = None
ADDR = "imapuser@example.test"
PW = "imap password 42"


def ims(*args, password=None):
    binary = find_binary("ims", "cli")
    r = subprocess.run([binary, "-c", env.api.conf, *args], input=password, capture_output=True,
                       text=True)
    return r


def imap_login(user, pw):
    m = imaplib.IMAP4("127.0.0.1", dove.imap_port)
    try:
        m.login(user, pw)
        typ, data = m.select("INBOX")
        m.logout()
        return typ
    except imaplib.IMAP4.error as e:
        return "NO: " + str(e)


def test_cli_user_logs_in_to_imap_and_webapi():
    r = ims("user", "add", "--role", "admin", ADDR, password=PW + "\n")
    assert r.returncode == 0, r.stderr
    r = ims("user", "add", ADDR, password=PW + "\n")
    assert r.returncode == 1 and "exists" in r.stderr, r.stderr
    r = ims("user", "add", "x@not-local.org", password=PW + "\n")
    assert r.returncode == 1 and "local_domains" in r.stderr, r.stderr
    r = ims("user", "list", "--json")
    assert ADDR in r.stdout and '"role":"admin"' in r.stdout, r.stdout
    passdb = env.cli("GET", f"ims:{{{ADDR}}}:passdb")
    assert passdb.startswith('{"password":"{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$'), passdb
    # Dovecot verifies the stored hash itself ...
    a = dove.doveadm("auth", "test", ADDR, PW)
    assert a.returncode == 0 and "auth succeeded" in a.stdout, a.stdout + a.stderr
    # ... over IMAP (mixed case login is lower-cased like ims does)
    assert imap_login(ADDR, PW) == "OK", dove.read_log()[-2000:]
    assert imap_login("ImapUser@Example.TEST", PW) == "OK"
    assert imap_login(ADDR, "wrong password").startswith("NO")
    # and the web API takes the same password
    t = env.api.login(ADDR, PW)
    assert t["user"]["role"] == "admin"


def master_login(user, master_pw):
    """AUTH PLAIN over IMAP as the webapi master user acting as user (what
    ims-webapi does on Postfix submission, which asks the same Dovecot
    auth)."""
    m = imaplib.IMAP4("127.0.0.1", dove.imap_port)
    try:
        m.authenticate("PLAIN", lambda _: f"{user}\0webapi\0{master_pw}".encode())
        typ, _ = m.select("INBOX")
        m.logout()
        return typ
    except imaplib.IMAP4.error as e:
        return "NO: " + str(e)


class UnixIMAP(imaplib.IMAP4):
    """imaplib over a unix socket (Dovecot's imap-ims listener)."""

    def __init__(self, path):
        self.path = path
        super().__init__()

    def open(self, host=None, port=None, timeout=None):
        self.host, self.port = "", 0
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.path)
        self.file = self.sock.makefile("rb")


def unix_login(user, password):
    m = UnixIMAP(dove.imap_socket)
    try:
        m.login(user, password)
        typ, _ = m.select("INBOX", readonly=True)
        m.logout()
        return typ
    except imaplib.IMAP4.error as e:
        return "NO: " + str(e)


def test_master_user_only_for_smtp():
    """The master secret is for Postfix submission (service smtp) and for
    ims-webapi's own IMAP socket only: on the IMAP port it opens no mailbox,
    neither as the SASL authorization id nor as "user*master"
    (auth_master_user_separator); on the socket (mode 0600, its owner only)
    "user*webapi" works, for an existing user, with the right secret."""
    assert master_login(ADDR, dove.master_password).startswith("NO"), dove.read_log()[-2000:]
    assert imap_login(f"{ADDR}*webapi", dove.master_password).startswith("NO")
    assert master_login(ADDR, "wrong").startswith("NO")
    # the user's own password still works on IMAP
    assert imap_login(ADDR, PW) == "OK"
    # ims-webapi's socket: the master login works there, and only there
    assert stat.S_IMODE(os.stat(dove.imap_socket).st_mode) == 0o600
    assert unix_login(f"{ADDR}*webapi", dove.master_password) == "OK", dove.read_log()[-2000:]
    assert unix_login(f"{ADDR}*webapi", "wrong").startswith("NO")
    assert unix_login("nobody@example.test*webapi", dove.master_password).startswith("NO")


def test_passwd_disable_delete():
    web = env.api.login(ADDR, PW)
    r = ims("user", "passwd", ADDR, password="a new password\n")
    assert r.returncode == 0, r.stderr
    # a new password ends the web sessions of the old one (as an admin's
    # reset does: lib/sessions.h ims_sessions_end_all)
    assert env.api.request("GET", "/auth/me", token=web["access_token"]).status == 401
    assert env.api.request("POST", "/auth/refresh",
                           {"refresh_token": web["refresh_token"]}).status == 401
    web = env.api.login(ADDR, "a new password")
    assert imap_login(ADDR, PW).startswith("NO")
    assert imap_login(ADDR, "a new password") == "OK"
    r = ims("user", "disable", ADDR)
    assert r.returncode == 0, r.stderr
    assert env.api.request("POST", "/auth/refresh",
                           {"refresh_token": web["refresh_token"]}).status == 401
    assert env.cli("EXISTS", f"ims:{{{ADDR}}}:sessions").strip() == "0"
    assert imap_login(ADDR, "a new password").startswith("NO")
    # the auth socket itself refuses (Postfix SASL asks it, not a login
    # process, so a "nologin" field alone would not stop SMTP AUTH)
    a = dove.doveadm("auth", "test", ADDR, "a new password")
    assert a.returncode != 0 and "auth failed" in a.stdout, a.stdout + a.stderr
    a = dove.doveadm("auth", "test", "-x", "service=smtp", ADDR, "a new password")
    assert a.returncode != 0, a.stdout + a.stderr
    # it still receives mail (LMTP reads userdb, which stays)
    with smtplib.LMTP(dove.lmtp_socket) as lm:
        lm.sendmail("x@example.org", [ADDR], b"Subject: while disabled\r\n\r\nhi\r\n")
    # a new password set while disabled does not enable it
    assert ims("user", "passwd", ADDR, password="a newer password\n").returncode == 0
    a = dove.doveadm("auth", "test", ADDR, "a newer password")
    assert a.returncode != 0, a.stdout + a.stderr
    assert ims("user", "passwd", ADDR, password="a new password\n").returncode == 0
    assert env.api.request("POST", "/auth/login", {"address": ADDR,
                                                   "password": "a new password"}).status == 401
    assert ims("user", "enable", ADDR).returncode == 0
    assert imap_login(ADDR, "a new password") == "OK"
    a = dove.doveadm("auth", "test", ADDR, "a new password")
    assert a.returncode == 0 and "auth succeeded" in a.stdout, a.stdout + a.stderr
    assert ims("user", "role", ADDR, "user").returncode == 0
    assert env.cli("HGET", f"ims:{{{ADDR}}}:user", "role").strip() == "user"
    assert ims("user", "del", ADDR).returncode == 0
    assert imap_login(ADDR, "a new password").startswith("NO")
    r = ims("user", "del", ADDR)
    assert r.returncode == 1 and "no such account" in r.stderr
    ops = env.cli("XRANGE", "ims:{global}:events", "-", "+")
    for op in ("user.create", "user.passwd", "user.disable", "user.enable", "user.role",
               "user.delete"):
        assert op in ops, op


def main():
    global env, dove
    common.require("dovecot", "doveadm")
    if os.geteuid() != 0:
        common.skip("a private Dovecot needs root here")
    with Env() as e:
        env = e
        mail_root = os.path.join(e.api.dir, "mail")
        dove = e.own(Dovecot(e.tmp, e.redis, mail_root)).start()
        run([test_cli_user_logs_in_to_imap_and_webapi, test_master_user_only_for_smtp,
             test_passwd_disable_delete])


if __name__ == "__main__":
    main()
