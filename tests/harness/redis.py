"""A private redis-server on 127.0.0.1:<free port> (AOF on, as in production).

It asks for passwords, as production should (auth=False: none): ACL user "ims"
(every command but @admin, every key; the programs' [redis] user and
password_file, conf_section()), the default user with its own password
(Dovecot's dict-redis sends AUTH with a password only) and "admin" for the
tests' own redis-cli.  The default user keeps every key and command but
@admin: Redis 7.0 replays the MULTI/EXEC blocks of the AOF with the default
user's permissions, and a restricted default user loses them at restart
(tests/cli/test_redis_auth.py)."""
import json
import os
import secrets
import subprocess
import time

from . import common


class Redis:
    def __init__(self, tmp, port=None, auth=True, replica_of=None):
        """replica_of: a started Redis this one replicates (replicaof,
        authenticated as its admin user)."""
        self.tmp = tmp
        self.replica_of = replica_of
        self.port = port or common.free_port()
        self.dir = tmp.join(f"redis-{self.port}")
        self.proc = None
        self.auth = auth
        self.user = "ims"
        self.password = self.dovecot_password = self._admin_password = None
        self.password_file = tmp.join(f"redis-{self.port}.password") if auth else None
        if auth:
            # the same server again (a restart in a test) keeps its passwords
            keep = tmp.join(f"redis-{self.port}.acl.json")
            if os.path.exists(keep):
                with open(keep) as f:
                    pw = json.load(f)
            else:
                pw = {k: secrets.token_hex(16) for k in ("ims", "default", "admin")}
                with open(os.open(keep, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
                    json.dump(pw, f)
            self.password, self.dovecot_password = pw["ims"], pw["default"]
            self._admin_password = pw["admin"]

    def acl_lines(self):
        """The ACL users of redis.conf (auth=True)."""
        return (f"user default on >{self.dovecot_password} ~* &* +@all -@admin\n"
                f"user {self.user} on >{self.password} ~* &* +@all -@admin\n"
                f"user admin on >{self._admin_password} ~* &* +@all\n")

    def start(self):
        # the data (AOF, RDB), its config and log: the Redis user's only
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o700)
        conf = os.path.join(self.dir, "redis.conf")
        with open(os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(f"bind 127.0.0.1\nport {self.port}\ndir {self.dir}\n"
                    "appendonly yes\nappendfsync everysec\nsave \"\"\n"
                    "daemonize no\nprotected-mode yes\n"
                    f"logfile {self.dir}/redis.log\n")
            if self.auth:
                f.write(self.acl_lines())
            m = self.replica_of
            if m:
                f.write(f"replicaof 127.0.0.1 {m.port}\n")
                if m.auth:
                    f.write(f"masteruser admin\nmasterauth {m._admin_password}\n")
        if self.auth:
            with open(os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                      "w") as f:
                f.write(self.password + "\n")
        self.proc = subprocess.Popen(["redis-server", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, umask=0o077)
        common.wait_port(self.port)
        # wait until it answers PING (AOF loading)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.cli("PING").strip() == "PONG":
                return self
            time.sleep(0.05)
        raise TimeoutError("redis did not answer PING")

    def cli_argv(self):
        """redis-cli with this server's address (and admin credentials)."""
        argv = ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port)]
        if self.auth:
            argv += ["--user", "admin", "--pass", self._admin_password, "--no-auth-warning"]
        return argv

    def cli(self, *args):
        r = subprocess.run([*self.cli_argv(), *args], capture_output=True, text=True)
        return r.stdout

    def acl_setuser(self, user, *rules):
        """ACL SETUSER user rules... (a user of the test's own; lost at a
        restart, as it is not in redis.conf)."""
        return self.cli("ACL", "SETUSER", user, "reset", *rules)

    def stop(self):
        if self.proc:
            common.stop_pid(self.proc.pid)
            self.proc = None

    def wait_synced(self, timeout=20):
        """A replica: until its link to the master is up and in sync."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            info = self.cli("INFO", "replication")
            if "master_link_status:up" in info and "master_sync_in_progress:0" in info:
                return self
            time.sleep(0.05)
        raise TimeoutError(f"replica {self.port} did not sync with its master")

    def conf_section(self):
        """The [redis] section of an ims.conf that points at this server."""
        auth = (f"user = {self.user}\npassword_file = {self.password_file}\n"
                if self.auth else "")
        return f"[redis]\nhost = 127.0.0.1\nport = {self.port}\n{auth}"


def backend():
    """The Redis the integration tests run on: "single" (one redis-server,
    the default) or "cluster" (IMS_TEST_REDIS=cluster: the 3-master +
    3-replica cluster of harness.rediscluster; tests/cluster.mk runs each
    Redis test a second time this way)."""
    b = os.environ.get("IMS_TEST_REDIS", "") or "single"
    if b not in ("single", "cluster"):
        raise ValueError(f"IMS_TEST_REDIS={b}: single or cluster")
    return b


def server(tmp, auth=True):
    """A Redis of the backend() kind, not started: Redis or RedisCluster (the
    same interface: start, stop, cli, cli_argv, conf_section, user, password,
    password_file, dovecot_password, auth).  stop() then start() again keeps
    the data and the passwords on both."""
    if backend() == "cluster":
        from .rediscluster import RedisCluster
        return RedisCluster(tmp, auth=auth)
    return Redis(tmp, auth=auth)
