"""A private Redis 7 Cluster on 127.0.0.1: 3 masters + 3 replicas on free ports.

Six redis-server processes (cluster-enabled, AOF on), each in its own 0700
directory under the test's temp dir, joined by `redis-cli --cluster create
--cluster-replicas 1`.  The same ACL scheme as harness.redis.Redis: user "ims"
(the programs' [redis] user and password_file), the default user with its own
password (Dovecot), "admin" for the tests' own redis-cli and for replication
(masteruser).  Every process is stopped by its PID.

It has the interface of harness.redis.Redis that the tests use (start, stop,
cli, cli_argv, conf_section, port, user, password, password_file, auth), so a
test can take either; harness.redis.server() picks one by IMS_TEST_REDIS.
cli() follows MOVED redirects (redis-cli -c); commands that take no key
(FLUSHALL, DBSIZE, KEYS, SCAN) are run on every master and their answers merged
where that is what a test means (keys_total(), flushall(), keys())."""
import json
import os
import secrets
import signal
import subprocess
import time

from . import common

SLOTS = 16384


class RedisClusterNode:
    """One redis-server of the cluster."""

    def __init__(self, cluster, port, bus_port):
        self.cluster = cluster
        self.port = port
        self.bus_port = bus_port
        self.dir = cluster.tmp.join(f"rediscluster-{port}")
        self.proc = None

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"

    def write_conf(self):
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o700)
        conf = os.path.join(self.dir, "redis.conf")
        c = self.cluster
        with open(os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(f"bind 127.0.0.1\nport {self.port}\ndir {self.dir}\n"
                    "cluster-enabled yes\ncluster-config-file nodes.conf\n"
                    f"cluster-port {self.bus_port}\ncluster-node-timeout {c.node_timeout_ms}\n"
                    # a replica syncs at once and may always take over (tests kill
                    # masters seconds after the start)
                    "repl-diskless-sync-delay 0\ncluster-replica-validity-factor 0\n"
                    "appendonly yes\nappendfsync everysec\nsave \"\"\n"
                    "daemonize no\nprotected-mode yes\n"
                    f"logfile {self.dir}/redis.log\n")
            if c.auth:
                f.write(c.acl_lines())
                # replicas authenticate to their master (PSYNC is @admin)
                f.write(f"masteruser admin\nmasterauth {c._admin_password}\n")
        return conf

    def start(self):
        conf = self.write_conf()
        self.proc = subprocess.Popen(["redis-server", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, umask=0o077)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cli_argv(self):
        argv = ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port)]
        if self.cluster.auth:
            argv += ["--user", "admin", "--pass", self.cluster._admin_password,
                     "--no-auth-warning"]
        return argv

    def cli(self, *args, timeout=10):
        """A command on this node only (no redirects)."""
        try:
            r = subprocess.run([*self.cli_argv(), *args], capture_output=True, text=True,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            return ""
        return r.stdout

    def info(self, section="cluster"):
        out = {}
        args = ("CLUSTER", "INFO") if section == "cluster" else ("INFO", section)
        for line in self.cli(*args).splitlines():
            if ":" in line:
                k, v = line.strip().split(":", 1)
                out[k] = v
        return out

    def role(self):
        """'master', 'slave' or '' (down)."""
        first = self.cli("ROLE").splitlines()
        return first[0].strip() if first else ""

    def stop(self):
        if self.proc:
            common.stop_pid(self.proc.pid)
            self.proc = None

    def kill(self):
        """kill -9, as a crash."""
        if self.proc:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None


class RedisCluster:
    """3 masters + 3 replicas (masters=, replicas_per_master= to change)."""

    def __init__(self, tmp, auth=True, masters=3, replicas_per_master=1, node_timeout_ms=2000):
        self.tmp = tmp
        self.auth = auth
        self.masters = masters
        self.replicas_per_master = replicas_per_master
        self.node_timeout_ms = node_timeout_ms
        self.nodes = []
        ports = set()
        for _ in range(masters * (1 + replicas_per_master)):
            p = b = None
            while p is None or p in ports:
                p = common.free_port()
            ports.add(p)
            while b is None or b in ports:
                b = common.free_port()
            ports.add(b)
            self.nodes.append(RedisClusterNode(self, p, b))
        # the first node's port stands for the cluster where a test wants one port
        self.port = self.nodes[0].port
        self.dir = tmp.join(f"rediscluster-{self.port}")
        self.user = "ims"
        self.password = self.dovecot_password = self._admin_password = None
        self.password_file = tmp.join(f"rediscluster-{self.port}.password") if auth else None
        if auth:
            keep = tmp.join(f"rediscluster-{self.port}.acl.json")
            if os.path.exists(keep):
                with open(keep) as f:
                    pw = json.load(f)
            else:
                pw = {k: secrets.token_hex(16) for k in ("ims", "default", "admin")}
                with open(os.open(keep, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
                    json.dump(pw, f)
            self.password, self.dovecot_password = pw["ims"], pw["default"]
            self._admin_password = pw["admin"]

    # -- the interface of harness.redis.Redis -------------------------------------------
    is_cluster = True

    def acl_lines(self):
        return (f"user default on >{self.dovecot_password} ~* &* +@all -@admin\n"
                f"user {self.user} on >{self.password} ~* &* +@all -@admin\n"
                f"user admin on >{self._admin_password} ~* &* +@all\n")

    def start(self, timeout=60):
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o700)
        if self.auth:
            with open(os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                      "w") as f:
                f.write(self.password + "\n")
        fresh = not os.path.exists(os.path.join(self.nodes[0].dir, "nodes.conf"))
        try:
            for n in self.nodes:
                n.start()
            for n in self.nodes:
                common.wait_port(n.port)
                self._wait_ping(n)
            if fresh:
                self._create()
            self.wait_ok(timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ping(self, node, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if node.cli("PING").strip() == "PONG":
                return
            time.sleep(0.05)
        raise TimeoutError(f"redis {node.addr} did not answer PING")

    def _create(self):
        argv = ["redis-cli"]
        if self.auth:
            argv += ["--user", "admin", "--pass", self._admin_password, "--no-auth-warning"]
        argv += ["--cluster", "create", *(n.addr for n in self.nodes),
                 "--cluster-replicas", str(self.replicas_per_master), "--cluster-yes"]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if r.returncode != 0 or "[OK] All 16384 slots covered" not in r.stdout:
            raise RuntimeError(f"redis-cli --cluster create failed ({r.returncode}):\n"
                               f"{r.stdout}\n{r.stderr}")

    def wait_ok(self, timeout=60):
        """Until every live node says cluster_state:ok with all slots assigned and
        ok, and each master has its replicas."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            live = [n for n in self.nodes if n.alive()]
            infos = [n.info() for n in live]
            last = infos
            if infos and all(i.get("cluster_state") == "ok"
                             and i.get("cluster_slots_assigned") == str(SLOTS)
                             and i.get("cluster_slots_ok") == str(SLOTS)
                             and i.get("cluster_known_nodes") == str(len(self.nodes))
                             for i in infos) and self._slots_agree(live) \
                    and self._replicas_synced(live):
                return self
            time.sleep(0.1)
        raise TimeoutError(f"redis cluster not ok after {timeout}s: {last}")

    @staticmethod
    def _replicas_synced(live):
        """Every live replica has a working link to its master (it can take over)."""
        for n in live:
            rep = n.info("replication")
            if rep.get("role") == "slave" and rep.get("master_link_status") != "up":
                return False
        return True

    def _slots_agree(self, live):
        """Every live node routes every slot to the same live master."""
        maps = [self.slot_map(n) for n in live]
        if not maps or any(m is None for m in maps):
            return False
        if any(m != maps[0] for m in maps[1:]):
            return False
        covered = sum(hi - lo + 1 for lo, hi, _ in maps[0])
        live_ports = {n.port for n in live}
        return covered == SLOTS and all(p in live_ports for _, _, p in maps[0])

    @staticmethod
    def slot_map(node):
        """[(first slot, last slot, master port)] as node sees it (CLUSTER NODES:
        "id ip:port@bus flags master ping pong epoch link slot-ranges..."), only
        masters not flagged as failing; None if the node does not answer."""
        out = node.cli("CLUSTER", "NODES")
        if not out.strip():
            return None
        ranges = []
        for line in out.splitlines():
            f = line.split()
            if len(f) < 8 or "master" not in f[2].split(","):
                continue
            if "fail" in f[2].split(",") or "fail?" in f[2].split(","):
                continue
            port = int(f[1].split("@")[0].rsplit(":", 1)[1])
            for r in f[8:]:
                if r.startswith("["):  # a slot being migrated
                    continue
                lo, _, hi = r.partition("-")
                ranges.append((int(lo), int(hi or lo), port))
        return sorted(ranges)

    def cli_argv(self):
        """redis-cli against the first live node, following redirects (-c).  Fed
        commands on stdin, redis-cli -c prints "-> Redirected to slot ..." among
        the replies: this argv leaves those lines out (and keeps its status)."""
        node = next((n for n in self.nodes if n.alive()), self.nodes[0])
        return ["bash", "-c", 'set -o pipefail; "$@" | sed "/^-> Redirected to slot /d"',
                "redis-cli", *node.cli_argv(), "-c"]

    def cli(self, *args):
        """One command through the cluster (redis-cli -c follows MOVED/ASK).
        Commands without a key that tests use to look at everything are spread:
        FLUSHALL/FLUSHDB on every master, DBSIZE summed, KEYS merged."""
        cmd = args[0].upper() if args else ""
        if cmd in ("FLUSHALL", "FLUSHDB"):
            for n in self.master_nodes():
                n.cli(*args)
            return "OK\n"
        if cmd == "DBSIZE":
            return f"{self.keys_total()}\n"
        if cmd == "KEYS" and len(args) == 2:
            return "".join(k + "\n" for k in self.keys(args[1]))
        if cmd == "--SCAN":
            return "".join(n.cli(*args) for n in self.master_nodes())
        r = subprocess.run([*self.cli_argv(), *args], capture_output=True, text=True)
        return r.stdout

    def acl_setuser(self, user, *rules):
        """ACL SETUSER on every node (a cluster does not share its ACL)."""
        return "".join(n.cli("ACL", "SETUSER", user, "reset", *rules) for n in self.nodes
                       if n.alive())

    def stop(self):
        for n in self.nodes:
            n.stop()

    def conf_section(self):
        """The [redis] section of an ims.conf that points at this cluster: the seed
        nodes (every master and replica) and the ACL user."""
        auth = (f"user = {self.user}\npassword_file = {self.password_file}\n"
                if self.auth else "")
        seeds = ",".join(n.addr for n in self.nodes)
        return f"[redis]\ncluster = {seeds}\n{auth}"

    # -- cluster helpers -------------------------------------------------------------------
    def master_nodes(self):
        return [n for n in self.nodes if n.alive() and n.role() == "master"]

    def replica_nodes(self):
        return [n for n in self.nodes if n.alive() and n.role() == "slave"]

    def node_by_port(self, port):
        return next(n for n in self.nodes if n.port == int(port))

    def keyslot(self, key):
        return int(self.cli("CLUSTER", "KEYSLOT", key).strip())

    def master_of_slot(self, slot):
        """The node serving slot now (as the first live node sees it)."""
        live = next(n for n in self.nodes if n.alive())
        for lo, hi, port in self.slot_map(live) or []:
            if lo <= slot <= hi:
                return self.node_by_port(port)
        return None

    def master_of_key(self, key):
        return self.master_of_slot(self.keyslot(key))

    def kill_master(self, node=None):
        """kill -9 a master (the first one if none given); returns the node."""
        node = node or self.master_nodes()[0]
        node.kill()
        return node

    def wait_failover(self, killed=None, timeout=30):
        """Until a replica has taken over the killed master's slots and the cluster
        is ok again as the live nodes see it."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            live = [n for n in self.nodes if n.alive()]
            # a killed master's slots count only once a live replica serves them
            # (slot_map leaves out masters flagged fail; _slots_agree wants live ones)
            if self._slots_agree(live) and all(
                    i.get("cluster_state") == "ok" and i.get("cluster_slots_ok") == str(SLOTS)
                    for i in (n.info() for n in live)):
                return self
            time.sleep(0.1)
        raise TimeoutError(f"no failover after {timeout}s")

    def restart_node(self, node):
        """Starts a stopped or killed node again (it rejoins, as a replica if its
        slots were taken over)."""
        node.start()
        common.wait_port(node.port)
        self._wait_ping(node)
        return node

    def keys(self, pattern="*"):
        out = []
        for n in self.master_nodes():
            out += [k for k in n.cli("--scan", "--pattern", pattern).splitlines() if k]
        return sorted(out)

    def keys_total(self):
        return sum(int(n.cli("DBSIZE").strip() or 0) for n in self.master_nodes())

    def flushall(self):
        self.cli("FLUSHALL")

    def pids(self):
        return [n.proc.pid for n in self.nodes if n.proc]
