"""A private redis-server on 127.0.0.1:<free port> (AOF on, as in production)."""
import os
import subprocess
import time

from . import common


class Redis:
    def __init__(self, tmp, port=None):
        self.tmp = tmp
        self.port = port or common.free_port()
        self.dir = tmp.join(f"redis-{self.port}")
        self.proc = None

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

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args],
                           capture_output=True, text=True)
        return r.stdout

    def stop(self):
        if self.proc:
            common.stop_pid(self.proc.pid)
            self.proc = None

    def conf_section(self):
        """The [redis] section of an ims.conf that points at this server."""
        return f"[redis]\nhost = 127.0.0.1\nport = {self.port}\n"
