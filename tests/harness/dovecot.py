"""A private Dovecot (IMAP on 127.0.0.1:<free port>, LMTP and SASL on the
shipped unix sockets) that authenticates against the ims user registry in a
test redis-server, using mta-config/dovecot/10-ims.conf and
dict-ims.conf.ext as shipped (paths and the Redis port rewritten for the
temp dir).  With feedback=(ims, conf) it also runs
mta-config/dovecot/20-ims-imapsieve.conf and its Sieve scripts, piping
moved messages to that ims binary with that ims.conf.

File modes as in production: its folder 0750 root:dovecot (configuration,
the master-user file and the dict config 0640, readable by the auth
process, which runs as dovecot); the sockets Postfix uses in a folder of
their own, 0750 root:postfix, owned by postfix as the fragment says; the
IMAPSieve scripts, which the mail user's imap processes run, in one of
their own."""
import grp
import os
import pwd
import re
import subprocess

from . import common


def _write_private(path, text, mode=0o640, group=None):
    """Writes text to path with mode (never world-readable), group's gid."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with open(fd, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    if group is not None:
        os.chown(path, 0, grp.getgrnam(group).gr_gid)


def _have_user(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def srcdir():
    return os.environ.get("top_srcdir", ".")


def auth_driver(redis):
    """How a test's Dovecot reads the user registry: IMS_TEST_DOVECOT_AUTH
    ("dict" or "checkpassword"; tests/cluster.mk's .checkpassword entries),
    else checkpassword on a Redis Cluster (dict-redis talks to one server)
    and dict on one redis-server."""
    a = os.environ.get("IMS_TEST_DOVECOT_AUTH", "")
    if a:
        if a not in ("dict", "checkpassword"):
            raise ValueError(f"IMS_TEST_DOVECOT_AUTH={a}: dict or checkpassword")
        return a
    return "checkpassword" if getattr(redis, "is_cluster", False) else "dict"


class Dovecot:
    def __init__(self, tmp, redis, mail_root, master_password="master secret 7", extra="",
                 feedback=None, auth=None, local_domains="example.test"):
        """extra: more dovecot.conf text (the quick-start stack adds Sieve);
        feedback: (path of the ims binary, path of the ims.conf it reads)
        turns on IMAPSieve feedback on moves into and out of Junk;
        auth: how Dovecot reads the user registry, "dict" (dict-redis,
        dict-ims.conf.ext) or "checkpassword" (ims-checkpassword,
        auth-ims-checkpassword.conf.ext); by default auth_driver()."""
        self.auth_driver = auth or auth_driver(redis)
        self.local_domains = local_domains
        self.tmp = tmp
        self.feedback = feedback
        self.extra = extra
        self.redis = redis
        self.dir = tmp.join("dovecot")
        # Postfix's sockets (its SASL and LMTP client run as postfix)
        self.sock_dir = tmp.join("dovecot-postfix")
        self.imap_port = common.free_port()
        self.mail_root = mail_root
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.log = os.path.join(self.dir, "dovecot.log")
        self.pid = None
        self.master_password = master_password
        # Postfix SASL asks this socket (smtpd_sasl_type = dovecot); Postfix
        # delivers through the LMTP one (lmtp:unix:..., owner postfix, 0600)
        self.auth_socket = os.path.join(self.sock_dir, "auth")
        self.lmtp_socket = os.path.join(self.sock_dir, "dovecot-lmtp")
        # ims-webapi's LMTP for quarantine release (owner root here, 0600)
        self.ims_lmtp = os.path.join(self.dir, "run", "ims-lmtp")
        self.default_lmtp = os.path.join(self.dir, "run", "lmtp")
        # ims-webapi's way in: the doveadm HTTP API ([dovecot] in ims.conf)
        self.doveadm_socket = os.path.join(self.dir, "run", "http")
        # ... and IMAP for folder pages, as the master user ([dovecot] imap)
        self.imap_socket = os.path.join(self.dir, "run", "imap-ims")
        self.api_key_file = os.path.join(self.dir, "ims-doveadm.key")
        # the IMAPSieve scripts and pipe (run by the mail user's imap processes)
        self.sieve_dir = tmp.join("dovecot-ims-sieve")

    def write_conf(self):
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o750)
        os.chown(self.dir, 0, grp.getgrnam("dovecot").gr_gid)
        os.makedirs(self.sock_dir, exist_ok=True)
        postfix = _have_user("postfix")
        os.chmod(self.sock_dir, 0o750)
        os.chown(self.sock_dir, 0, grp.getgrnam("postfix").gr_gid if postfix else 0)
        shipped = os.path.join(srcdir(), "mta-config", "dovecot")
        if self.auth_driver == "checkpassword":
            return self.write_conf_checkpassword(shipped)
        with open(os.path.join(shipped, "dict-ims.conf.ext")) as f:
            dict_conf = f.read()
        # dict-redis sends AUTH with a password only: the default user,
        # which reads the passdb/userdb keys and nothing else
        pw = f":password={self.redis.dovecot_password}" if self.redis.auth else ""
        dict_conf = re.sub(r"^uri = .*$", f"uri = redis:host=127.0.0.1:port={self.redis.port}{pw}",
                           dict_conf, flags=re.M)
        dict_path = os.path.join(self.dir, "dict-ims.conf.ext")
        _write_private(dict_path, dict_conf, group="dovecot")
        with open(os.path.join(shipped, "10-ims.conf")) as f:
            ims_conf = f.read()
        ims_conf = ims_conf.replace("/etc/dovecot/dict-ims.conf.ext", dict_path)
        self.write_conf_common(shipped, ims_conf)

    def write_conf_checkpassword(self, shipped):
        """10-ims.conf with its dict passdb/userdb replaced by
        auth-ims-checkpassword.conf.ext, as docs/operations.md says for a
        registry on a Redis Cluster; ims-checkpassword of the build tree
        reads an ims.conf of its own (0640 root:dovecot: the auth process
        runs as dovecot) with this Redis's [redis] section."""
        prog = os.path.join(common.builddir(), "cli", "ims-checkpassword")
        if not os.access(prog, os.X_OK):
            raise RuntimeError(f"{prog} not built")
        section = self.redis.conf_section()
        if self.redis.auth:
            # the auth process reads the Redis password: a copy it may read
            pw_path = os.path.join(self.dir, "ims-auth-redis.password")
            _write_private(pw_path, self.redis.password + "\n", group="dovecot")
            section = section.replace(f"password_file = {self.redis.password_file}",
                                      f"password_file = {pw_path}")
        auth_ims = os.path.join(self.dir, "ims-auth.conf")
        _write_private(auth_ims, f"{section}\n[milter]\nlocal_domains = {self.local_domains}\n",
                       group="dovecot")
        with open(os.path.join(shipped, "auth-ims-checkpassword.conf.ext")) as f:
            ext = f.read()
        ext = ext.replace("/usr/sbin/ims-checkpassword", prog)
        ext = ext.replace("/etc/ims/dovecot-auth.conf", auth_ims)
        ext_path = os.path.join(self.dir, "auth-ims-checkpassword.conf.ext")
        _write_private(ext_path, ext, group="dovecot")
        with open(os.path.join(shipped, "10-ims.conf")) as f:
            ims_conf = f.read()
        ims_conf, n = re.subn(r"^passdb \{\n  driver = dict\n.*?\n\}\nuserdb \{\n  driver = dict\n"
                              r".*?\n\}\n", f"!include {ext_path}\n", ims_conf,
                              flags=re.M | re.S)
        if n != 1:
            raise RuntimeError("10-ims.conf: no dict passdb/userdb blocks to replace")
        # the auth process forks ims-checkpassword, which may be built with
        # AddressSanitizer (no address-space limit possible)
        self.write_conf_common(shipped, ims_conf, "service auth {\n  vsz_limit = 0\n}\n")

    def write_conf_common(self, shipped, ims_conf, more=""):
        postfix = _have_user("postfix")
        # the master user ims-webapi sends as (password self.master_password)
        master = os.path.join(self.dir, "ims-master-users")
        pw = subprocess.run(["doveadm", "pw", "-s", "ARGON2ID", "-p", self.master_password],
                            capture_output=True, text=True, check=True).stdout.strip()
        # 0640 root:dovecot, as the fragment says
        _write_private(master, f"webapi:{pw}\n", group="dovecot")
        ims_conf = ims_conf.replace("/etc/dovecot/ims-master-users", master)
        # the doveadm API key, read by Dovecot and ims-webapi alike
        with open(os.open(self.api_key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                  "w") as f:
            f.write(os.urandom(24).hex())
        ims_conf = ims_conf.replace("/etc/dovecot/ims-doveadm.key", self.api_key_file)
        ims_conf = re.sub(r"(unix_listener http \{\n\s*mode = 0600\n\s*)user = ims",
                          r"\1user = root", ims_conf)
        # the Postfix sockets go to their private folder, with the shipped
        # owners and modes (root where this machine has no postfix user)
        ims_conf = ims_conf.replace("/var/spool/postfix/private/", self.sock_dir + "/")
        if not postfix:
            ims_conf = re.sub(r"user = postfix\n\s*group = postfix",
                              "user = root\n    group = root", ims_conf)
        # ims-webapi runs as root in tests (as user ims when installed)
        ims_conf = re.sub(r"user = ims\n\s*group = ims", "user = root\n    group = root",
                          ims_conf)
        _write_private(os.path.join(self.dir, "10-ims.conf"), ims_conf)
        imapsieve = self.write_imapsieve(shipped) if self.feedback else ""
        _write_private(self.conf, f"""# private test instance
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.log}
info_log_path = {self.log}
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
default_login_user = dovenull
default_internal_user = dovecot
# "user*master" logins too, so tests see that the master passdb refuses them
auth_master_user_separator = *
!include {self.dir}/10-ims.conf
{imapsieve}{more}service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
{self.extra}""")
        if self.feedback:
            # compiled with this config (sievec needs the plugins it names)
            for name in ("ims-report-spam.sieve", "ims-report-ham.sieve"):
                r = subprocess.run(["sievec", "-c", self.conf,
                                    os.path.join(self.sieve_dir, name)],
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    raise RuntimeError(f"sievec {name}: {r.stdout}{r.stderr}")

    def write_imapsieve(self, shipped):
        """20-ims-imapsieve.conf, its Sieve scripts (compiled) and the pipe
        wrapper as shipped, with the paths of this instance; returns the
        !include line."""
        ims, ims_conf = self.feedback
        sdir = self.sieve_dir
        os.makedirs(os.path.join(sdir, "pipe"), exist_ok=True)
        os.chmod(sdir, 0o755)  # the shipped scripts: nothing secret
        for name in ("ims-report-spam.sieve", "ims-report-ham.sieve"):
            with open(os.path.join(shipped, name)) as f, open(os.path.join(sdir, name), "w") as g:
                g.write(f.read())
        with open(os.path.join(shipped, "ims-feedback")) as f:
            wrapper = f.read()
        wrapper = wrapper.replace("/usr/local/bin/ims", ims).replace("/etc/ims/feedback.conf",
                                                                     ims_conf)
        path = os.path.join(sdir, "pipe", "ims-feedback")
        with open(path, "w") as f:
            f.write(wrapper)
        os.chmod(path, 0o755)
        with open(os.path.join(shipped, "20-ims-imapsieve.conf")) as f:
            conf = f.read().replace("/etc/dovecot/ims-sieve", sdir)
        path = os.path.join(self.dir, "20-ims-imapsieve.conf")
        with open(path, "w") as f:
            f.write(conf)
        # the ims under test may be built with AddressSanitizer, which cannot
        # run under an address-space limit: the imap processes (whose pipe
        # children inherit it) get none here
        return f"!include {path}\nservice imap {{\n  vsz_limit = 0\n}}\n"

    def start(self):
        common.require("dovecot", "doveadm")
        if os.geteuid() != 0:
            common.skip("a private Dovecot needs root here (setuid to the mail uid)")
        self.write_conf()
        return self.run_master()

    def restart(self):
        """Stops Dovecot and every process of it, IMAP sessions included (as
        systemd's restart does; the master alone may leave sessions
        running), and starts it again with the same configuration and keys."""
        children = self.descendants()
        self.stop()
        for pid in children:
            common.stop_pid(pid)
        return self.run_master()

    def descendants(self):
        """The PIDs of the processes under this instance's master now."""
        parent = {}
        for d in os.listdir("/proc"):
            try:
                with open(f"/proc/{d}/stat") as f:
                    parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
        found, todo = [], [self.pid]
        while todo:
            p = todo.pop()
            kids = [c for c, pp in parent.items() if pp == p]
            found += kids
            todo += kids
        return found

    def run_master(self):
        for d in ("run", "state"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        try:  # a stale one from before a restart
            os.unlink(os.path.join(self.dir, "run", "master.pid"))
        except FileNotFoundError:
            pass
        os.makedirs(self.mail_root, exist_ok=True)
        os.chown(self.mail_root, 5000, 5000)
        os.chmod(self.mail_root, 0o700)
        # dovecot forks into the background: keep its output in a file, not a
        # pipe (the daemon would hold the pipe open)
        out_path = os.path.join(self.dir, "start.out")
        with open(os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
            r = subprocess.run(["dovecot", "-c", self.conf], stdout=out, stderr=out,
                               stdin=subprocess.DEVNULL, timeout=30)
        if r.returncode != 0:
            with open(os.path.join(self.dir, "start.out")) as f:
                raise RuntimeError(f"dovecot failed: {f.read()}\n{self.read_log()}")
        # the daemon runs from here on: whatever fails next, stop it by PID
        try:
            common.wait_file(os.path.join(self.dir, "run", "master.pid"))
            with open(os.path.join(self.dir, "run", "master.pid")) as f:
                self.pid = int(f.read().strip())
            common.wait_port(self.imap_port)
            common.wait_unix_socket(self.imap_socket)
        except BaseException:
            self.stop()
            common.stop_leftovers(self.conf)
            raise
        return self

    def webapi_conf(self, imap=False):
        """The [dovecot] settings of an ims.conf that reads mail from this
        instance; with imap, folder pages over IMAP too, logged in as the
        master user (its name and password file in [webapi] submission_*)."""
        conf = {"dovecot.doveadm_socket": self.doveadm_socket,
                "dovecot.api_key_file": self.api_key_file}
        if imap:
            path = os.path.join(self.tmp.path, "dovecot-master.pw")
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
                f.write(self.master_password + "\n")
            conf.update({"dovecot.imap": self.imap_socket, "webapi.submission_user": "webapi",
                         "webapi.submission_password_file": path})
        return conf

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def doveadm(self, *args, input=None):
        """Runs doveadm on this instance (input: bytes for stdin, e.g. save)."""
        r = subprocess.run(["doveadm", "-c", self.conf, *args], capture_output=True,
                           input=input)
        r.stdout = r.stdout.decode(errors="replace")
        r.stderr = r.stderr.decode(errors="replace")
        return r

    def stop(self):
        if self.pid:
            common.stop_pid(self.pid)
            self.pid = None
