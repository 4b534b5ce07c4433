"""ims-milter started with a generated ims.conf, stopped by PID."""
import os
import signal
import subprocess
import time

from . import common


def builddir():
    return os.environ.get("top_builddir") or os.getcwd()


def srcdir():
    return os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))


def make_model(tmp, rho=1.0, name="model.ims"):
    """A fixed-verdict model (tests/milter/mkmodel): rho > 0 ham, < 0 spam."""
    path = tmp.join(name)
    common.run([os.path.join(builddir(), "tests/milter/mkmodel"), path, str(rho)])
    return path


class Milter:
    def __init__(self, tmp, redis, model, port=None, extra="", dns=None, local_domains="example.test",
                 milter_extra="", unix_socket=None, check_recipients=False):
        """unix_socket: listen on that path instead of a loopback port.
        check_recipients: keep the shipped default [milter]
        reject_unknown_recipients = yes (unknown local recipients get 550
        5.1.1 at RCPT); off by default here, since most tests mail
        addresses they never registered."""
        self.tmp = tmp
        self.port = port or common.free_port()
        self.unix_socket = unix_socket
        self.socket = f"unix:{unix_socket}" if unix_socket else f"inet:{self.port}@127.0.0.1"
        self.postfix_socket = (f"unix:{unix_socket}" if unix_socket
                               else f"inet:127.0.0.1:{self.port}")  # smtpd_milters' form
        self.conf = tmp.join(f"ims-milter-{self.port}.conf")
        self.log = tmp.join(f"ims-milter-{self.port}.log")
        self.pidfile = tmp.join(f"ims-milter-{self.port}.pid")
        self.proc = None
        if not check_recipients:
            milter_extra = "reject_unknown_recipients = no\n" + milter_extra
        self.write_conf(redis, model, extra, dns, local_domains, milter_extra)

    def write_conf(self, redis, model, extra, dns, local_domains, milter_extra):
        """extra: more sections; milter_extra: more lines of [milter]."""
        ns = dns or "127.0.0.1:9"   # nothing listens there: lookups fail fast, stay local
        with open(self.conf, "w") as f:
            f.write(f"[log]\nlevel = debug\n\n"
                    f"[milter]\nsocket = {self.socket}\npidfile = {self.pidfile}\n"
                    f"authserv_id = mx.example.test\nlocal_domains = {local_domains}\n"
                    f"{milter_extra}\n"
                    f"[dns]\nnameservers = {ns}\ntimeout_ms = 500\n\n"
                    f"{redis.conf_section()}timeout_ms = 500\n\n"
                    f"[classifier]\nmodel = {model}\n\n")
            f.write(extra)

    def start(self):
        exe = os.path.join(builddir(), "milter/ims-milter")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1")
        self.logf = open(self.log, "a")
        self.proc = subprocess.Popen([exe, "-f", "-c", self.conf], stdout=self.logf,
                                     stderr=subprocess.STDOUT, env=env)
        if self.unix_socket:
            common.wait_unix_socket(self.unix_socket)
        else:
            common.wait_port(self.port)
        return self

    def reload(self):
        os.kill(self.proc.pid, signal.SIGUSR1)  # reload (SIGHUP stops libmilter)
        time.sleep(0.5)

    def stop(self):
        """SIGTERM; returns the exit status (non-zero after a sanitizer report)."""
        if not self.proc:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            common.stop_pid(self.proc.pid)
            rc = -9
        self.proc = None
        self.logf.close()
        return rc

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()
