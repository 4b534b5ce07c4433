#!/usr/bin/python3
"""The whole ims stack on loopback, in one private folder.

    contrib/ims-stack.py up   [--dir DIR] [--build BUILD]   start everything, show it working
    contrib/ims-stack.py down [--dir DIR]                   stop what `up` started (by PID)
    contrib/ims-stack.py status [--dir DIR]

What `up` starts, each on 127.0.0.1 and a free port, all files under DIR:
  nsd         authoritative DNS for example.test (MX, SPF, DKIM key, DMARC) and a
              demo sender domain, so SPF/DKIM/DMARC give real answers offline
  redis       the store (AOF on)
  dovecot     IMAP for mail clients, LMTP for delivery (unix sockets only: Postfix's,
              and ims-webapi's for quarantine release), auth for Postfix SASL,
              users read from Redis (the same registry as the web API)
  ims-milter  scans every message Postfix receives
  postfix     MX (port 25's role), submission with SASL, outbound relayed to a local
              sink; every listener runs ims-milter
  ims-webapi  the HTTP API and the web UI

One ims.conf (DIR/etc/ims.conf) serves ims-milter, ims-webapi and the ims command.
Nothing outside DIR is touched; no traffic leaves 127.0.0.0/8.
"""
import argparse
import imaplib
import json
import os
import shutil
import signal
import smtplib
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests"))

from harness import common, dns as dnsh, dovecot as doveh, postfix as postfixh  # noqa: E402
from harness import redis as redish  # noqa: E402

DOMAIN = "example.test"
SENDER_DOMAIN = "sender.example"
SENDER_IP = "198.51.100.7"     # the demo's "internet" client, presented with XCLIENT
USERS = [("alice@example.test", "alice-password-1", "user"),
         ("admin@example.test", "admin-password-1", "admin"),
         # the sender of `ims quarantine digest` ([quarantine] digest_from)
         ("postmaster@example.test", "postmaster-password-1", "user")]
MAIL_UID = 5000


class Dir:
    """A fixed folder with the TempDir interface the harness classes take."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        os.makedirs(self.path, exist_ok=True)
        os.chmod(self.path, 0o755)

    def join(self, *parts):
        return os.path.join(self.path, *parts)


def say(msg):
    print(f"ims-stack: {msg}", flush=True)


def pidfile(d, name):
    return d.join("pids", name + ".pid")


def save_pid(d, name, pid):
    os.makedirs(d.join("pids"), exist_ok=True)
    with open(pidfile(d, name), "w") as f:
        f.write(f"{pid}\n")


def private_dir(path, owner=None, mode=0o700):
    """A folder only its owner (a user name, default root) may enter."""
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)
    if owner:
        common.run(["chown", owner, path])
    return path


def private_open(path, mode="w", perm=0o600):
    """open() that creates the file with perm (0600: logs and secrets)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    return open(os.open(path, flags, perm), mode)


def spawn(d, name, argv, **kw):
    """Starts a long-running program detached from us, logging to
    DIR/log/NAME.log; files it creates are its own (umask 077)."""
    private_dir(d.join("log"), mode=0o750)
    log = private_open(d.join("log", name + ".log"), "ab")
    p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, umask=0o077, **kw)
    save_pid(d, name, p.pid)
    return p


def ports(d):
    path = d.join("ports.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    p = {k: common.free_port() for k in
         ("redis", "milter", "smtp", "submission", "sink", "webapi")}
    with open(path, "w") as f:
        json.dump(p, f, indent=1)
    return p


# --------------------------------------------------------------------------- DNS

def start_dns(d, p):
    keydir = private_dir(d.join("dkim"))
    if not os.path.exists(os.path.join(keydir, "ims.private")):
        common.run(["opendkim-genkey", "-b", "2048", "-s", "ims", "-d", DOMAIN, "-D", keydir])
    with open(os.path.join(keydir, "ims.txt")) as f:
        dkim_txt = f.read()
    records = {
        DOMAIN: [("MX", (10, "mx." + DOMAIN)), ("TXT", "v=spf1 ip4:127.0.0.0/8 -all")],
        "mx." + DOMAIN: [("A", "127.0.0.1")],
        "_dmarc." + DOMAIN: [("TXT", "v=DMARC1; p=quarantine; adkim=r; aspf=r")],
        "ims._domainkey." + DOMAIN: [("TXT", dkim_txt)],
        SENDER_DOMAIN: [("TXT", f"v=spf1 ip4:{SENDER_IP} -all")],
        "_dmarc." + SENDER_DOMAIN: [("TXT", "v=DMARC1; p=reject")],
        "forged.example": [("TXT", "v=spf1 ip4:203.0.113.0/24 -all")],
        "_dmarc.forged.example": [("TXT", "v=DMARC1; p=reject")],
    }
    srv = dnsh.DnsServer(records, workdir=d.join("dns"))
    p["dns"] = srv.start()
    with open(d.join("ports.json"), "w") as f:
        json.dump(p, f, indent=1)
    save_pid(d, "nsd", srv.pid)
    return srv


# --------------------------------------------------------------------------- config

def write_ims_conf(d, p, build, dove):
    os.makedirs(d.join("etc"), exist_ok=True)  # made by make_dovecot: 0750 root:mail
    secret = d.join("etc", "jwt.secret")
    if not os.path.exists(secret):
        with private_open(secret) as f:
            f.write(os.urandom(32).hex() + "\n")
    links_key = d.join("etc", "links.key")  # [links]: signs the rewritten links
    if not os.path.exists(links_key):
        with private_open(links_key, "wb") as f:
            f.write(os.urandom(32))
    conf = d.join("etc", "ims.conf")
    with private_open(conf) as f:
        f.write(f"""# ims.conf of the quick-start stack (contrib/ims-stack.py)
[log]
level = info

[milter]
socket = unix:{d.join('postfix', 'queue', 'ims', 'ims-milter.sock')}
pidfile = {d.join('pids', 'ims-milter.pid')}
authserv_id = mx.{DOMAIN}
local_domains = {DOMAIN}

[dns]
nameservers = 127.0.0.1:{p['dns']}
timeout_ms = 2000

{dove.redis.conf_section()}
[classifier]
model = {os.path.join(build, 'model.ims')}

[dkim]
keys = {DOMAIN}:ims:{d.join('dkim', 'ims.private')}

[webapi]
listen = 127.0.0.1:{p['webapi']}
jwt_secret_file = {secret}
registration = yes
submission = smtp://127.0.0.1:{p['submission']}
submission_user = webapi
submission_password_file = {d.join('etc', 'submission.pw')}
ui_dir = {os.path.join(TOP, 'webui', 'dist')}

[links]
# links of tagged inbound mail go through ims-webapi's /click (checked again when clicked)
click_url = http://127.0.0.1:{p['webapi']}/click
key_file = {links_key}

[quarantine]
lmtp = unix:{p['ims_lmtp']}
digest_from = postmaster@{DOMAIN}
[dovecot]
doveadm_socket = {dove.doveadm_socket}
api_key_file = {dove.api_key_file}
# folder pages over pooled IMAP connections (as USER*webapi, the master user above)
imap = {dove.imap_socket}

[users]
mail_home = {d.join('mail', '%d', '%n')}
uid = {MAIL_UID}
gid = {MAIL_UID}
""")
    return conf


# --------------------------------------------------------------------------- Dovecot

# Added to the shipped mta-config/dovecot/10-ims.conf (which has the
# folders and the doveadm HTTP API ims-webapi uses): the Sieve script that
# files tagged mail into Junk.
DOVECOT_EXTRA = """\
postmaster_address = postmaster@{domain}
protocol lmtp {{
  mail_plugins = $mail_plugins sieve
}}
plugin {{
  sieve_before = {sieve}
}}
"""


def make_dovecot(d, redis, build):
    """Dovecot as tests/harness/dovecot.py runs it: the shipped 10-ims.conf
    (dict passdb/userdb on Redis, the master user ims-webapi sends as),
    IMAP and LMTP on free ports, the SASL socket for Postfix in its folder,
    and 20-ims-imapsieve.conf: moves into and out of Junk call
    `ims feedback learn` with the stack's feedback.conf."""
    # etc: the mail user may enter (for feedback.conf), read nothing else
    private_dir(d.join("etc"), mode=0o750)
    os.chown(d.join("etc"), 0, MAIL_UID)
    pwfile = d.join("etc", "submission.pw")
    if not os.path.exists(pwfile):
        with private_open(pwfile) as f:
            f.write(os.urandom(16).hex() + "\n")
    with open(pwfile) as f:
        master_password = f.read().strip()
    sieve = d.join("dovecot-sieve", "ims-junk.sieve")
    os.makedirs(os.path.dirname(sieve), exist_ok=True)
    shutil.copy(os.path.join(TOP, "mta-config", "dovecot", "ims-junk.sieve"), sieve)
    common.run(["sievec", sieve])
    # what `ims feedback learn` reads as the mail user (IMAPSieve): the
    # shipped mta-config/dovecot/feedback.conf on this Redis, 0640 root:mail
    feedback = d.join("etc", "feedback.conf")
    with open(os.path.join(TOP, "mta-config", "dovecot", "feedback.conf")) as f:
        text = f.read()
    # its own copy of the ims user's Redis password, 0640 root:mail
    fpw = d.join("etc", "feedback-redis.password")
    with private_open(fpw, perm=0o640) as f:
        f.write(redis.password + "\n")
    os.chown(fpw, 0, MAIL_UID)
    text = text.replace("port = 6379", f"port = {redis.port}\nuser = {redis.user}\n"
                        f"password_file = {fpw}")
    with private_open(feedback, perm=0o640) as f:
        f.write(text)
    os.chown(feedback, 0, MAIL_UID)
    return doveh.Dovecot(d, redis, d.join("mail"), master_password=master_password,
                         extra=DOVECOT_EXTRA.format(domain=DOMAIN, sieve=sieve),
                         feedback=(os.path.join(build, "cli", "ims"), feedback))


def start_dovecot(d, dove):
    os.environ.setdefault("top_srcdir", TOP)
    dove.start()
    save_pid(d, "dovecot", dove.pid)
    common.wait_unix_socket(dove.lmtp_socket)
    common.wait_unix_socket(dove.ims_lmtp)


# --------------------------------------------------------------------------- Postfix

POSTFIX_MASTER = """\
# MX: every message through ims-milter (smtpd_milters in main.cf)
127.0.0.1:{smtp} inet n - n - - smtpd
# submission: SASL through Dovecot; the milter scans and DKIM-signs
127.0.0.1:{submission} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_security_level=none
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_sender_restrictions=$mua_sender_restrictions
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
""" + postfixh.MASTER_SERVICES


def postfix_cmd(conf, *args):
    # script(1) gives postfix a tty, the only place it reports errors without syslog
    out = os.path.join(os.path.dirname(conf), "postfix-cmd.out")
    with private_open(out) as f:
        r = subprocess.run(["script", "-qc", " ".join(["postfix", "-c", conf, *args]),
                            "/dev/null"], stdout=f, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL)
    with open(out) as f:
        r.stdout, r.stderr = f.read(), ""
    return r


def start_postfix(d, p):
    pd = d.join("postfix")
    conf, queue, data = (os.path.join(pd, x) for x in ("conf", "queue", "data"))
    for x in (conf, queue):
        os.makedirs(x, exist_ok=True)
    private_dir(d.join("log"), mode=0o750)
    private_dir(data, "postfix")
    private_dir(d.join("outbound"), "nobody")  # smtp-sink runs as nobody
    # the sender-login tables of mta-config/postfix-main.cf (aliases from the
    # registry: refresh_sender_aliases)
    sender_login, aliases = postfixh.shipped_sender_login(
        private_dir(os.path.join(pd, "maps"), mode=0o700))
    with private_open(d.join("log", "postfix.log"), "a"):
        pass  # postlogd appends to it; created private
    with open(os.path.join(conf, "main.cf"), "w") as f:
        f.write(f"""# private Postfix of the quick-start stack; the operator's fragments
# are mta-config/postfix-main.cf and postfix-master.cf
compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.{DOMAIN}
mydomain = {DOMAIN}
myorigin = $mydomain
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
maillog_file = {d.join('log', 'postfix.log')}
maillog_file_prefixes = {d.path}
alias_maps =
alias_database =
smtp_dns_support_level = disabled
# the stack's "internet": XCLIENT lets the demo present outside client addresses
smtpd_authorized_xclient_hosts = 127.0.0.0/8
# local mailboxes: Dovecot over LMTP (its unix socket, for Postfix only);
# Dovecot answers 550 for unknown users
virtual_mailbox_domains = {DOMAIN}
virtual_transport = lmtp:unix:{p['lmtp']}
# unknown local recipients: 550 5.1.1 at RCPT from ims-milter's registry
# check (mta-config/postfix-main.cf); Postfix itself has no table of them
smtpd_reject_unlisted_recipient = no
# everything else goes to a local sink (never off this machine)
relayhost = [127.0.0.1]:{p['sink']}
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_sasl_type = dovecot
smtpd_sasl_path = {p['auth']}
smtpd_sasl_auth_enable = no
# ims-milter: see mta-config/postfix-main.cf
# a unix socket in the queue directory, named relative to it (as the fragment)
smtpd_milters = unix:ims/ims-milter.sock
non_smtpd_milters = $smtpd_milters
milter_default_action = tempfail
milter_protocol = 6
message_size_limit = 26214400
# senders pinned to logins, as mta-config/postfix-main.cf
{sender_login}queue_run_delay = 30s
minimal_backoff_time = 30s
maximal_backoff_time = 120s
""")
    with open(os.path.join(conf, "master.cf"), "w") as f:
        f.write(POSTFIX_MASTER.format(**p))
    # the outbound sink: dumps each relayed message into DIR/outbound
    spawn(d, "smtp-sink", ["smtp-sink", "-u", "nobody", "-d",
                           os.path.join(d.join("outbound"), "%Y%m%d%H%M%S."),
                           f"127.0.0.1:{p['sink']}", "100"])
    r = postfix_cmd(conf, "start")
    pid = os.path.join(queue, "pid", "master.pid")
    try:
        common.wait_file(pid, timeout=20)
    except TimeoutError:
        raise SystemExit(f"postfix did not start: {r.stdout}{r.stderr}")
    with open(pid) as f:
        save_pid(d, "postfix", int(f.read().strip()))
    common.wait_port(p["smtp"])
    common.wait_port(p["submission"])
    return aliases


def refresh_sender_aliases(build, conf, table):
    """Postfix's alias table from the registry (`ims user alias list` +
    postmap), as mta-config/postfix-main.cf says; run again after changing
    aliases."""
    r = ims(build, conf, "user", "alias", "list")
    if r.returncode != 0:
        raise SystemExit(f"ims user alias list: {r.stderr.strip()}")
    postfixh.update_sender_aliases(table, r.stdout)


# --------------------------------------------------------------------------- ims

def ims(build, conf, *args, stdin=None):
    return subprocess.run([os.path.join(build, "cli", "ims"), "-c", conf, *args], input=stdin,
                          capture_output=True, text=True)


def add_users(build, conf):
    for addr, password, role in USERS:
        r = ims(build, conf, "user", "add", "--role", role, addr, stdin=password + "\n")
        if r.returncode != 0 and "exists" not in (r.stderr + r.stdout):
            raise SystemExit(f"ims user add {addr}: {r.stderr.strip()}")


def start_ims(d, p, build, conf):
    sockdir = d.join("postfix", "queue", "ims")
    os.makedirs(sockdir, exist_ok=True)
    common.run(["chown", "root:postfix", sockdir])
    os.chmod(sockdir, 0o750)
    sock = os.path.join(sockdir, "ims-milter.sock")
    spawn(d, "ims-milter", [os.path.join(build, "milter", "ims-milter"), "-f", "-c", conf])
    common.wait_socket(sock)
    time.sleep(0.3)  # after ims-milter's own chmod 0660
    common.run(["chgrp", "postfix", sock])  # Postfix's smtpd connects as postfix
    spawn(d, "ims-webapi", [os.path.join(build, "webapi", "ims-webapi"), "-c", conf])
    common.wait_port(p["webapi"])


# --------------------------------------------------------------------------- demo

def smtp_send(p, mail_from, rcpt, data, client_ip=SENDER_IP, helo="mail." + SENDER_DOMAIN):
    """One message over SMTP to the MX, as if from client_ip (XCLIENT)."""
    with smtplib.SMTP("127.0.0.1", p["smtp"], timeout=60) as s:
        s.ehlo("client.test")
        code, msg = s.docmd("XCLIENT", f"ADDR={client_ip} NAME=[UNAVAILABLE] HELO={helo}")
        if code != 220:
            raise RuntimeError(f"XCLIENT: {code} {msg}")
        s.ehlo(helo)
        try:
            s.sendmail(mail_from, [rcpt], data)
            return "250 accepted"
        except smtplib.SMTPResponseException as e:
            return f"{e.smtp_code} {e.smtp_error.decode(errors='replace')}"
        except smtplib.SMTPRecipientsRefused as e:
            code, msg = list(e.recipients.values())[0]
            return f"{code} {msg.decode(errors='replace')}"


def api_login(p, address, password):
    req = urllib.request.Request(f"http://127.0.0.1:{p['webapi']}/auth/login", method="POST",
                                 data=json.dumps({"address": address,
                                                  "password": password}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["access_token"]


def api_post(p, path, token, body):
    req = urllib.request.Request(f"http://127.0.0.1:{p['webapi']}{path}", method="POST",
                                 data=json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, json.load(r)


def api_get(p, path, token):
    req = urllib.request.Request(f"http://127.0.0.1:{p['webapi']}{path}",
                                 headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def demo(d, p, build, conf):
    alice = USERS[0]
    samples = os.path.join(TOP, "contrib", "samples")
    results = []
    with open(os.path.join(samples, "ham.eml"), "rb") as f:
        ham = f.read()
    with open(os.path.join(samples, "spam.eml"), "rb") as f:
        spam = f.read()
    gtube = (f"From: Tester <tester@{SENDER_DOMAIN}>\r\nTo: {alice[0]}\r\nSubject: GTUBE\r\n\r\n"
             "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n").encode()
    forged = (f"From: Bank <security@forged.example>\r\nTo: {alice[0]}\r\n"
              "Subject: Verify your account\r\n\r\nPlease log in.\r\n").encode()
    for name, sender, data in (("ham sample", f"news@{SENDER_DOMAIN}", ham),
                               ("spam sample", f"offers@{SENDER_DOMAIN}", spam),
                               ("GTUBE", f"tester@{SENDER_DOMAIN}", gtube),
                               ("forged sender (SPF fail, DMARC reject)",
                                "security@forged.example", forged)):
        results.append((name, smtp_send(p, sender, alice[0], data)))
    say("sent over SMTP (as client 198.51.100.7) to alice@example.test:")
    for name, reply in results:
        print(f"    {name:42s} -> {reply}")

    # Outbound: alice submits with SASL; the milter scans and DKIM-signs.
    with smtplib.SMTP("127.0.0.1", p["submission"], timeout=60) as s:
        s.ehlo("laptop.example.test")
        s.login(alice[0], alice[1])
        s.sendmail(alice[0], ["friend@elsewhere.example"],
                   f"From: Alice <{alice[0]}>\r\nTo: Bob <friend@elsewhere.example>\r\n"
                   "Subject: Re: Thursday's design review\r\n\r\nHi Bob,\r\n\r\n"
                   "Thanks for the notes on the storage schema. I moved the review to\r\n"
                   "Thursday at 10:00 in the small meeting room, and I will bring the\r\n"
                   "benchmark numbers from last week so we can compare both layouts.\r\n\r\n"
                   "Cheers,\r\nAlice\r\n".encode())
    say("alice sent one message through submission (SASL via Dovecot); it is DKIM-signed")

    time.sleep(2)  # LMTP delivery
    imap = imaplib.IMAP4("127.0.0.1", p["imap"])
    imap.login(alice[0], alice[1])
    say("IMAP (Dovecot, same password) sees:")
    for box in ("INBOX", "Junk"):
        typ, data = imap.select(box, readonly=True)
        n = int(data[0]) if typ == "OK" else 0
        print(f"    {box}: {n} message(s)")
        for i in range(1, n + 1):
            typ, msg = imap.fetch(str(i), "(BODY.PEEK[HEADER.FIELDS (SUBJECT X-SPAM-STATUS)])")
            text = msg[0][1].decode(errors="replace").strip().replace("\r\n", " | ")
            print(f"      {text[:150]}")
    # learning from what users do: alice moves her first INBOX message to
    # Junk and, having thought better of it, back (spam, then ham: one entry)
    imap.select("INBOX")
    typ, data = imap.uid("SEARCH", "ALL")
    if typ == "OK" and data[0]:
        imap.uid("MOVE", data[0].split()[0], "Junk")
        imap.select("Junk")
        typ, data = imap.uid("SEARCH", "ALL")
        if typ == "OK" and data[0]:
            imap.uid("MOVE", data[0].split()[-1], "INBOX")
        r = ims(build, conf, "feedback", "count", "--user", alice[0])
        say("alice moved a message to Junk and back over IMAP: IMAPSieve recorded spam, "
            f"then ham (messages in her feedback: {r.stdout.strip() or r.stderr.strip()})")
    imap.logout()

    token = api_login(p, alice[0], alice[1])
    status, sent = api_post(p, "/emails/send", token, {
        "to": "Carol <carol@elsewhere.example>", "subject": "Slides for Friday",
        "text": "Hi Carol,\n\nthe slides for Friday's talk are ready; I will bring a copy\n"
                "on a stick as well, in case the projector acts up again.\n\nAlice\n"})
    say(f"web API POST /emails/send as alice -> {status} {sent.get('message_id')} "
        "(submitted through Postfix, scanned and signed like any client's mail)")
    time.sleep(1)
    say("web API GET /emails/inbox for alice:")
    for m in api_get(p, "/emails/inbox", token)["items"][:10]:
        print(f"    {m.get('subject', '')[:50]:50s} verdict={m.get('verdict')} "
              f"score={m.get('score')} action={m.get('action')}")
    say("web API GET /emails/sent for alice: " + ", ".join(
        repr(m.get("subject")) for m in api_get(p, "/emails/sent", token)["items"]))
    admin = USERS[1]
    token = api_login(p, admin[0], admin[1])
    say("web API GET /admin/scans for the admin (newest first):")
    for s in api_get(p, "/admin/scans", token)["items"][:10]:
        print(f"    {s.get('id')} {s.get('direction', ''):8s} action={s.get('action'):10s} "
              f"score={s.get('score'):8.2f} from={s.get('mail_from')}")
    held = api_get(p, "/admin/quarantine", token)["items"]
    say(f"quarantine holds {len(held)} message(s): " +
        ", ".join(f"{q.get('id')} from {q.get('mail_from')}" for q in held))
    if held:
        status, rel = api_post(p, f"/admin/quarantine/{held[0]['id']}/release", token, {})
        say(f"admin released {held[0]['id']} -> {status}: delivered over LMTP into the INBOX "
            f"of {', '.join(rel.get('delivered', []))} (not Junk: X-Spam-Flag: NO)")
    outbound = sorted(os.listdir(d.join("outbound")))
    if outbound:
        with open(os.path.join(d.join("outbound"), outbound[-1]), errors="replace") as f:
            signed = "DKIM-Signature:" in f.read()
        say(f"outbound copy relayed to the local sink, DKIM-Signature present: {signed}")


def up(args):
    d = Dir(args.dir)
    build = os.path.abspath(args.build)
    for exe in ("cli/ims", "milter/ims-milter", "webapi/ims-webapi", "model.ims"):
        if not os.path.exists(os.path.join(build, exe)):
            raise SystemExit(f"{build}/{exe} is missing: build first (contrib/quickstart.sh)")
    if os.path.exists(pidfile(d, "redis")):
        say(f"already up in {d.path} (contrib/ims-stack.py down --dir {d.path} first)")
        return 1
    p = ports(d)
    start_dns(d, p)
    say(f"nsd on 127.0.0.1:{p['dns']}")
    # ACL users and passwords (tests/harness/redis.py; docs/operations.md)
    r = redish.Redis(d, port=p["redis"], auth=True)
    r.dir = d.join("redis")
    r.start()
    save_pid(d, "redis", r.proc.pid)
    say(f"redis on 127.0.0.1:{p['redis']} (AOF on, ACL user {r.user}, password in "
        f"{r.password_file})")
    dove = make_dovecot(d, r, build)
    p.update(imap=dove.imap_port, lmtp=dove.lmtp_socket, ims_lmtp=dove.ims_lmtp,
             auth=dove.auth_socket)
    with open(d.join("ports.json"), "w") as f:
        json.dump(p, f, indent=1)
    conf = write_ims_conf(d, p, build, dove)
    add_users(build, conf)
    say("users: " + ", ".join(f"{a} ({role}, password {pw})" for a, pw, role in USERS))
    start_dovecot(d, dove)
    say(f"dovecot: IMAP 127.0.0.1:{p['imap']}, LMTP {p['lmtp']}, SASL socket {p['auth']}")
    start_ims(d, p, build, conf)
    say(f"ims-milter on unix:{d.join('postfix', 'queue', 'ims', 'ims-milter.sock')}, "
        f"ims-webapi on 127.0.0.1:{p['webapi']}")
    aliases = start_postfix(d, p)
    refresh_sender_aliases(build, conf, aliases)
    say(f"postfix: MX 127.0.0.1:{p['smtp']}, submission {p['submission']}")
    if not args.no_demo:
        demo(d, p, build, conf)
    print(f"""
The stack is up in {d.path}:
  web UI and API   http://127.0.0.1:{p['webapi']}/   (admin@example.test / admin-password-1)
  SMTP (MX)        127.0.0.1:{p['smtp']}      submission (AUTH PLAIN) 127.0.0.1:{p['submission']}
  IMAP             127.0.0.1:{p['imap']}      (alice@example.test / alice-password-1)
  config           {d.join('etc', 'ims.conf')}   logs {d.join('log')}
  ims command      {build}/cli/ims -c {d.join('etc', 'ims.conf')} user list
Stop it with: contrib/ims-stack.py down --dir {d.path}""")
    return 0


def down(args):
    d = Dir(args.dir)
    pf = d.join("postfix", "conf")
    if os.path.exists(os.path.join(pf, "main.cf")) and os.path.exists(pidfile(d, "postfix")):
        postfix_cmd(pf, "stop")
    for name in ("ims-webapi", "ims-milter", "postfix", "smtp-sink", "dovecot", "redis", "nsd"):
        path = pidfile(d, name)
        if not os.path.exists(path):
            continue
        with open(path) as f:
            pid = int(f.read().strip() or 0)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.unlink(path)  # ims-milter removes its own pid file as it exits
        except FileNotFoundError:
            pass
        say(f"stopped {name} (pid {pid})")
    return 0


def status(args):
    d = Dir(args.dir)
    rc = 0
    for name in ("nsd", "redis", "dovecot", "ims-milter", "ims-webapi", "postfix", "smtp-sink"):
        path = pidfile(d, name)
        state = "stopped"
        if os.path.exists(path):
            with open(path) as f:
                pid = int(f.read().strip() or 0)
            try:
                os.kill(pid, 0)
                state = f"running (pid {pid})"
            except ProcessLookupError:
                state = f"dead (pid {pid})"
                rc = 1
        print(f"{name:12s} {state}")
    return rc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=("up", "down", "status"))
    ap.add_argument("--dir", default=os.environ.get("IMS_RUN_DIR", os.path.join(TOP, "run")))
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--no-demo", action="store_true", help="start, but send no demo mail")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("ims-stack: run as root (private Postfix and Dovecot instances)")
    return {"up": up, "down": down, "status": status}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
