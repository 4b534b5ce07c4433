"""A private Postfix instance for tests (notes/libraries.md §7 and §9).

Own config_directory, queue and data directory under the test's temp dir,
SMTP on 127.0.0.1:<free port>, chroot off, its log in DIR/maillog,
XCLIENT allowed from loopback (tests present any client address and SASL
login), smtpd_milters pointing at the milter under test, and delivery to
an smtp-sink that dumps each message into a directory (or to discard).
Stopped by the PID in its own master.pid; other Postfix instances on the
machine are never touched.  Needs root."""
import glob
import os
import signal
import subprocess
import time

from . import common

# The internal services every private instance runs (chroot off, see notes §7).
MASTER_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
"""

MASTER_CF = """\
{listen} inet n - n - - smtpd
""" + MASTER_SERVICES


def shipped_sender_login(workdir):
    """The sender-login lines of mta-config/postfix-main.cf as shipped
    (smtpd_sender_login_maps, mua_sender_restrictions), their table paths
    pointed at mta-config/postfix-sender-login.regexp and an (empty) alias
    table in workdir.  Returns (main.cf text, alias table path); fill the
    table with update_sender_aliases.  A SASL smtpd applies them with
    smtpd_sender_restrictions = $mua_sender_restrictions, as the shipped
    submission service in postfix-master.cf does."""
    top = os.environ.get("top_srcdir", ".")
    with open(os.path.join(top, "mta-config", "postfix-main.cf")) as f:
        lines = [l for l in f.read().splitlines()
                 if l.startswith(("smtpd_sender_login_maps", "mua_sender_restrictions"))]
    assert len(lines) == 2, lines
    with open(os.path.join(top, "mta-config", "postfix-master.cf")) as f:
        assert "-o smtpd_sender_restrictions=$mua_sender_restrictions" in f.read()
    os.makedirs(workdir, exist_ok=True)
    aliases = os.path.join(workdir, "ims-sender-aliases")
    text = "\n".join(lines) + "\n"
    text = text.replace("/etc/postfix/ims-sender-login.regexp",
                        os.path.abspath(os.path.join(top, "mta-config",
                                                     "postfix-sender-login.regexp")))
    text = text.replace("/etc/postfix/ims-sender-aliases", aliases)
    update_sender_aliases(aliases, "")
    return text, aliases


def update_sender_aliases(path, table):
    """Writes table (what `ims user alias list` prints) and postmaps it, as
    the comment in mta-config/postfix-main.cf tells operators to."""
    # user addresses: Postfix opens the table as root, nobody else reads it
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w") as f:
        f.write(table)
    os.chmod(path, 0o600)
    # postmap wants a main.cf; the machine may have none (never use its own)
    confdir = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(os.path.join(confdir, "main.cf")):
        open(os.path.join(confdir, "main.cf"), "w").close()
    common.run(["postmap", "-c", confdir, "hash:" + path])


class Postfix:
    def __init__(self, tmp, milter=None, relay_domains="example.test", sink=True,
                 extra_main="", relay_port=None):
        """milter: a socket in smtpd_milters' form ("inet:127.0.0.1:PORT") or
        None for bare Postfix.  sink: deliver to smtp-sink dumping into
        self.maildir (False: discard(8), for benchmarks).  relay_port: relay
        everything to that SMTP port on 127.0.0.1 instead (a sending MTA)."""
        self.tmp = tmp
        self.port = common.free_port()
        self.sink_port = common.free_port()
        self.dir = tmp.join(f"postfix-{self.port}")
        self.conf = os.path.join(self.dir, "conf")
        self.queue = os.path.join(self.dir, "queue")
        self.data = os.path.join(self.dir, "data")
        self.maildir = os.path.join(self.dir, "sink")
        self.maillog = os.path.join(self.dir, "maillog")
        self.milter = milter
        self.relay_domains = relay_domains
        self.sink = sink
        self.extra_main = extra_main
        self.relay_port = relay_port
        if relay_port:
            self.sink = False
        self.sink_proc = None
        self.master_pid = None

    def _write(self):
        for d in (self.conf, self.queue, self.data, self.maildir):
            os.makedirs(d, exist_ok=True)
        common.run(["chown", "postfix", self.data])
        common.run(["chown", "nobody", self.maildir])
        transport = (f"relay:[127.0.0.1]:{self.sink_port}" if self.sink
                     else f"relay:[127.0.0.1]:{self.relay_port}" if self.relay_port else "discard:")
        milters = (f"smtpd_milters = {self.milter}\nmilter_default_action = tempfail\n"
                   "milter_protocol = 6\nmilter_connect_timeout = 10s\n"
                   "milter_content_timeout = 60s\n" if self.milter else "")
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(f"""compatibility_level = 3.6
queue_directory = {self.queue}
data_directory = {self.data}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.test
mydomain = example.test
myorigin = $myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
relay_domains = {self.relay_domains}
smtp_host_lookup = native
transport_maps =
default_transport = {transport}
relay_transport = {transport}
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_authorized_xclient_hosts = 127.0.0.0/8
maillog_file = {self.maillog}
maillog_file_prefixes = {self.dir}
alias_maps =
alias_database =
local_recipient_maps =
smtp_dns_support_level = disabled
smtpd_banner = $myhostname ESMTP
message_size_limit = 20480000
queue_run_delay = 300s
minimal_backoff_time = 300s
maximal_backoff_time = 600s
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
default_process_limit = 100
{milters}{self.extra_main}
""")
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(listen=f"127.0.0.1:{self.port}"))

    def postfix(self, *args):
        r = subprocess.run(["script", "-qc", " ".join(["postfix", "-c", self.conf, *args]),
                            "/dev/null"], capture_output=True, text=True)
        return r

    def start(self):
        if os.geteuid() != 0:
            common.skip("a private Postfix instance needs root")
        common.require("postfix", "smtp-sink")
        self._write()
        if self.sink:
            self.sink_proc = subprocess.Popen(
                ["smtp-sink", "-u", "nobody", "-d", os.path.join(self.maildir, "%Y%m%d%H%M%S."),
                 f"127.0.0.1:{self.sink_port}", "100"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            common.wait_port(self.sink_port)
        r = self.postfix("start")
        pidfile = os.path.join(self.queue, "pid", "master.pid")
        try:
            common.wait_file(pidfile, timeout=20)
        except TimeoutError:
            raise RuntimeError(f"postfix did not start: {r.stdout}{r.stderr}\n{self.log_text()}")
        with open(pidfile) as f:
            self.master_pid = int(f.read().strip())
        common.wait_port(self.port)
        return self

    def flush(self):
        """Asks the queue manager to retry deferred mail now."""
        return self.postfix("flush")

    def queue_ids(self):
        """Queue ids still in the incoming, active, deferred or hold queues."""
        ids = []
        for q in ("incoming", "active", "deferred", "hold"):
            for p in glob.glob(os.path.join(self.queue, q, "**", "*"), recursive=True):
                if os.path.isfile(p):
                    ids.append(os.path.basename(p))
        return ids

    def hold_ids(self):
        return [os.path.basename(p) for p in
                glob.glob(os.path.join(self.queue, "hold", "**", "*"), recursive=True)
                if os.path.isfile(p)]

    def delivered(self):
        """Texts of the messages the sink received, oldest first (by the
        files' modification time: names only have one-second resolution)."""
        out = []
        paths = glob.glob(os.path.join(self.maildir, "*"))
        for p in sorted(paths, key=lambda p: (os.stat(p).st_mtime_ns, p)):
            with open(p, "rb") as f:
                out.append(f.read().decode("utf-8", "replace"))
        return out

    def wait_delivered(self, n, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.delivered()) >= n:
                return self.delivered()
            time.sleep(0.1)
        raise TimeoutError(f"{len(self.delivered())} of {n} messages delivered\n"
                           + self.log_text()[-3000:])

    def wait_for_text(self, needle, timeout=30):
        """The delivered messages that contain needle, once there is one
        (smtp-sink creates its dump file before the message is all in it,
        so a count of files is not enough)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = [m for m in self.delivered() if needle in m]
            if found:
                return found
            time.sleep(0.1)
        raise TimeoutError(f"no delivered message contains {needle!r}\n"
                           + self.log_text()[-3000:])

    def log_text(self):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.master_pid:
            try:
                os.kill(self.master_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            deadline = time.time() + 15
            while time.time() < deadline:
                try:
                    os.kill(self.master_pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            self.master_pid = None
        if self.sink_proc:
            common.stop_pid(self.sink_proc.pid)
            self.sink_proc = None
