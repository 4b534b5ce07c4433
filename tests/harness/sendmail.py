"""A private Sendmail for tests (../shared/notes/platform-2.md).

Debian's sendmail conflicts with postfix, so contrib/install-deps.sh --test
unpacks sendmail-bin, sendmail-base and sendmail-cf (dpkg-deb -x, nothing
installed) into build-deps/sendmail/root of the source tree.  This starts that
Sendmail on 127.0.0.1:<free port> with a sendmail.cf built by m4 from an .mc
that includes the project's mta-config/sendmail-ims.mc (only its socket path
changed to the test's), a private queue, and every relay going to a given
loopback SMTP port.  It runs in its own mount namespace with its own
/etc/hosts and /etc/resolv.conf, so its look-ups of its own name never leave
the machine.  SASL (AUTH PLAIN/LOGIN) against a private sasldb when users are
given.  Stopped by the PID in its pid file.  Needs root."""
import glob
import os
import shutil
import signal
import subprocess
import time

from . import common

TOP = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))


def root():
    """Where the unpacked Sendmail is (IMS_SENDMAIL_ROOT to override)."""
    return os.environ.get("IMS_SENDMAIL_ROOT") or os.path.join(TOP, "build-deps", "sendmail",
                                                               "root")


MC = """\
divert(-1)
include(`{root}/usr/share/sendmail/cf/m4/cf.m4')
divert(0)dnl
OSTYPE(`linux')dnl
define(`confDONT_PROBE_INTERFACES', `true')dnl
define(`confDOMAIN_NAME', `mx.example.test')dnl
define(`QUEUE_DIR', `{dir}/queue')dnl
define(`MSP_QUEUE_DIR', `{dir}/clientqueue')dnl
define(`STATUS_FILE', `{dir}/sendmail.st')dnl
define(`confPID_FILE', `{dir}/sendmail.pid')dnl
define(`ALIAS_FILE', `')dnl
define(`confHOST_STATUS_DIRECTORY', `')dnl
define(`confLOG_LEVEL', `14')dnl
dnl the test's temp dir lives under /tmp (sticky, world-writable)
define(`confDONT_BLAME_SENDMAIL', `GroupWritableDirPathSafe,GroupReadableKeyFile,TrustStickyBit')dnl
define(`SMART_HOST', `[127.0.0.1]')dnl
define(`RELAY_MAILER_ARGS', `TCP $h {relay_port}')dnl
define(`ESMTP_MAILER_ARGS', `TCP $h {relay_port}')dnl
define(`SMTP_MAILER_ARGS', `TCP $h {relay_port}')dnl
define(`confAUTH_MECHANISMS', `PLAIN LOGIN')dnl
define(`confAUTH_OPTIONS', `A')dnl
TRUST_AUTH_MECH(`PLAIN LOGIN')dnl
FEATURE(`nocanonify')dnl
FEATURE(`no_default_msa')dnl
FEATURE(`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(`Family=inet, Name=MTA-v4, Port={port}, Addr=127.0.0.1')dnl
include(`{dir}/sendmail-ims.mc')dnl
MAILER(`smtp')dnl
"""


class Sendmail:
    def __init__(self, tmp, milter_socket, relay_port, users=None):
        """milter_socket: the unix socket path ims-milter listens on (the
        shipped fragment's S=local: points there); relay_port: where all
        mail goes (an SMTP server on 127.0.0.1); users: {login: password}
        for SMTP AUTH."""
        self.tmp = tmp
        self.port = common.free_port()
        self.dir = tmp.join(f"sendmail-{self.port}")
        self.milter_socket = milter_socket
        self.relay_port = relay_port
        self.users = users or {}
        self.pid = None
        self.proc = None
        self.log_path = os.path.join(self.dir, "sendmail.log")

    def _write(self):
        r = root()
        for d in ("queue", "clientqueue", "etc", "sasl2"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        os.chmod(os.path.join(self.dir, "queue"), 0o700)
        with open(os.path.join(TOP, "mta-config", "sendmail-ims.mc")) as f:
            frag = f.read()
        assert "/run/ims/ims-milter.sock" in frag, "the shipped fragment's socket moved"
        with open(os.path.join(self.dir, "sendmail-ims.mc"), "w") as f:
            f.write(frag.replace("/run/ims/ims-milter.sock", self.milter_socket))
        mc = os.path.join(self.dir, "test.mc")
        with open(mc, "w") as f:
            f.write(MC.format(root=r, dir=self.dir, port=self.port, relay_port=self.relay_port))
        with open(os.path.join(self.dir, "sendmail.cf"), "w") as out:
            subprocess.run(["m4", mc], stdout=out, check=True)
        with open(os.path.join(self.dir, "etc", "hosts"), "w") as f:
            f.write("127.0.0.1 localhost mx.example.test mx\n")
        with open(os.path.join(self.dir, "etc", "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        # SASL: a private sasldb and the Sendmail.conf that names it.  Sendmail
        # reads Sendmail.conf only from fixed places (libsasl's plugin folder
        # among them), so a copy of the plugin folder with it is mounted over
        # the system's in the private namespace.
        db = os.path.join(self.dir, "sasl2", "sasldb2")
        self.sasl_dir = glob.glob("/usr/lib/*/sasl2")[0]
        shutil.rmtree(os.path.join(self.dir, "sasl2"))
        shutil.copytree(self.sasl_dir, os.path.join(self.dir, "sasl2"), symlinks=True)
        with open(os.path.join(self.dir, "sasl2", "Sendmail.conf"), "w") as f:
            f.write(f"pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: {db}\n"
                    "mech_list: PLAIN LOGIN\n")
        for user, pw in self.users.items():
            login, _, realm = user.partition("@")
            subprocess.run(["saslpasswd2", "-f", db, "-c", "-p", "-u", realm, login],
                           input=pw + "\n", text=True, check=True, capture_output=True)
        # a private copy of the binary (the package's is setgid mail)
        self.binary = os.path.join(self.dir, "sendmail")
        shutil.copy(os.path.join(r, "usr", "libexec", "sendmail", "sendmail"), self.binary)
        os.chmod(self.binary, 0o755)

    def start(self):
        if os.geteuid() != 0:
            common.skip("a private Sendmail needs root (mount namespace)")
        common.require("m4", "unshare", "saslpasswd2")
        if not os.path.exists(os.path.join(root(), "usr", "libexec", "sendmail", "sendmail")):
            raise RuntimeError(f"no unpacked Sendmail in {root()} "
                               "(contrib/install-deps.sh --test unpacks it)")
        self._write()
        etc = os.path.join(self.dir, "etc")
        cmd = (f"mount --bind {etc}/hosts /etc/hosts && "
               f"mount --bind {etc}/resolv.conf /etc/resolv.conf && "
               f"mount --bind {self.dir}/sasl2 {self.sasl_dir} && "
               f"exec {self.binary} -C {self.dir}/sendmail.cf -bD -q1h")
        self.logf = open(self.log_path, "w")
        self.proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private",
                                      "sh", "-c", cmd], stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        common.wait_port(self.port)
        pidfile = os.path.join(self.dir, "sendmail.pid")
        common.wait_file(pidfile)
        with open(pidfile) as f:
            self.pid = int(f.readline().strip())
        return self

    def queue(self):
        """Files in its queue (qf/df): what it still holds."""
        return [n for n in os.listdir(os.path.join(self.dir, "queue"))
                if n.startswith(("qf", "df", "Qf", "hf"))]

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            deadline = time.time() + 15
            while time.time() < deadline:
                try:
                    os.kill(self.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            self.pid = None
        if self.proc:
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                common.stop_pid(self.proc.pid)
            self.proc = None
            self.logf.close()
