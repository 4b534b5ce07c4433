#!/usr/bin/python3
"""Throughput of Postfix alone, Postfix + ims-milter and Postfix + rspamd
(proxy worker in milter mode), measured in one run with smtp-source, plus
ims-milter's scan latency (from its log; DNS-bound checks excluded) and
the resident memory of both filters.  See bench/milter.sh.

Everything listens on 127.0.0.1; both filters' DNS goes to a local nsd
(ims) or to a closed local port with network modules off (rspamd), so
nothing leaves the machine."""
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests"))
from harness import common, milter as hmilter, postfix as hpostfix  # noqa: E402
from harness import dns as hdns  # noqa: E402
from harness.redis import Redis  # noqa: E402

N = int(os.environ.get("IMS_BENCH_MESSAGES", "2000"))
SESSIONS = int(os.environ.get("IMS_BENCH_SESSIONS", "20"))
SIZE = int(os.environ.get("IMS_BENCH_SIZE", "2048"))
ROUNDS = int(os.environ.get("IMS_BENCH_ROUNDS", "3"))
BUILD = os.environ.get("top_builddir") or os.getcwd()
# IMS_BENCH_NOOP_HEADERS=0: the no-op milters add no header (Postfix's cost
# of header edits shows as the difference)
# IMS_BENCH_SMTP_OPTS="-d": sessions carry several messages (N / SESSIONS)
UNIX = os.environ.get("IMS_BENCH_UNIX") == "1"  # milters on unix sockets (rspamd stays on TCP)
SMTP_SOURCE_OPTS = os.environ.get("IMS_BENCH_SMTP_OPTS", "").split()
NOOP_ARGS = [] if os.environ.get("IMS_BENCH_NOOP_HEADERS") == "0" else ["addheaders"]
# Side by side in the same run: IMS_BENCH_ALSO_INET=1 adds the same ims-milter
# on a TCP socket ("ims_inet"); IMS_BENCH_IMS_BEFORE=/path/ims-milter adds
# another build of it ("ims_before") on IMS_BENCH_BEFORE_SOCKET (inet|unix,
# default inet: the former default).
ALSO_INET = os.environ.get("IMS_BENCH_ALSO_INET") == "1"
# IMS_BENCH_LINKS=1 adds the same ims-milter with [links] rewrite = all
# ("ims_links"): links of every delivered message rewritten to /click, the
# cost of link rewriting side by side with "ims" (rewriting off)
LINKS = os.environ.get("IMS_BENCH_LINKS") == "1"
# IMS_BENCH_REPUTATION=1 adds the same ims-milter with the reputation checks
# on ("ims_rep": DNS lists answered by the local nsd, an intel dir of
# IMS_BENCH_INTEL_ENTRIES entries), so their cost shows in the same run.
REPUTATION = os.environ.get("IMS_BENCH_REPUTATION") == "1"
INTEL_ENTRIES = int(os.environ.get("IMS_BENCH_INTEL_ENTRIES", "10000"))
REP_CONF = """
[dnsbl]
client = bl.bench.test:127.0.0.2=BENCH_RBL:3
client = bl.bench.test:127.0.0.10=BENCH_PBL:1
helo = dbl.bench.test:127.0.1.2=BENCH_DBL_HELO:2
domain = dbl.bench.test:127.0.1.2=BENCH_DBL:4
domain = uribl.bench.test:&2=BENCH_URIBL:4
[intel]
dir = {intel}
"""


def write_intel(d, n):
    """An intel dir with n entries over four lists (IPs, networks, domains, hashes)."""
    os.makedirs(d, exist_ok=True)
    import hashlib
    with open(os.path.join(d, "bench-ips.block"), "w") as f:
        for i in range(n // 4):
            f.write(f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}\n")
    with open(os.path.join(d, "bench-nets.block"), "w") as f:
        for i in range(n // 4):
            f.write(f"172.{16 + (i >> 16) % 16}.{(i >> 8) & 255}.0/24\n")
    with open(os.path.join(d, "bench-domains.block"), "w") as f:
        for i in range(n // 4):
            f.write(f"bad{i}.bench-intel.test\n")
    with open(os.path.join(d, "bench-hashes.block"), "w") as f:
        for i in range(n - 3 * (n // 4)):
            f.write(hashlib.sha256(str(i).encode()).hexdigest() + "\n")
# IMS_BENCH_CLUSTER=1 adds the same ims-milter on a private 3-master +
# 3-replica Redis Cluster ("ims_cluster", tests/harness/rediscluster.py):
# throughput, milter CPU and the cluster's CPU per message side by side
# with "ims" on one Redis (issue 10)
CLUSTER = os.environ.get("IMS_BENCH_CLUSTER") == "1"
# IMS_BENCH_CLUSTER_WAIT=1 (with IMS_BENCH_CLUSTER=1): the same once more on the
# same cluster with [redis] wait_replicas = 1 ("ims_cluster_wait"): the cost
# of acknowledging only what a replica has (WAIT)
CLUSTER_WAIT = CLUSTER and os.environ.get("IMS_BENCH_CLUSTER_WAIT") == "1"
IMS_BEFORE = os.environ.get("IMS_BENCH_IMS_BEFORE")
# IMS_BENCH_IMS_OFF="[bec]\nenabled = no": the same build once more ("ims_off")
# with these lines added to its config, for the cost of a check (on vs off)
IMS_OFF = os.environ.get("IMS_BENCH_IMS_OFF", "").replace("\\n", "\n")
BEFORE_SOCKET = os.environ.get("IMS_BENCH_BEFORE_SOCKET", "inet")
# Single-session latency: IMS_BENCH_LATENCY_MESSAGES messages in one SMTP
# session per configuration (0: skip).
LAT_N = int(os.environ.get("IMS_BENCH_LATENCY_MESSAGES", "200"))
# Real mail: IMS_BENCH_REAL_MESSAGES messages of the corpus's training part
# (IMS_BENCH_REAL_DIR, default data/corpus/train), IMS_BENCH_REAL_SESSIONS
# SMTP clients at once, one message per session, per configuration (0: skip).
REAL_N = int(os.environ.get("IMS_BENCH_REAL_MESSAGES", "400"))
REAL_SESSIONS = int(os.environ.get("IMS_BENCH_REAL_SESSIONS", "8"))
REAL_DIR = os.environ.get("IMS_BENCH_REAL_DIR") or os.path.join(TOP, "data", "corpus", "train")


def wait_socket(path, timeout=30):
    """Waits for a unix socket, makes it usable by Postfix's smtpd; returns path."""
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > deadline:
            raise TimeoutError(path)
        time.sleep(0.05)
    time.sleep(0.5)  # after the daemon's own chmod
    os.chmod(path, 0o666)
    return path


def milter_addr(name):
    """(libmilter's form, Postfix's form) of a no-op milter's socket."""
    if UNIX:
        p = os.path.join(SOCKDIR[0], f"{name}.sock")
        return f"unix:{p}", f"unix:{p}"
    port = common.free_port()
    return f"inet:{port}@127.0.0.1", f"inet:127.0.0.1:{port}"


SOCKDIR = [None]


def cpu_busy():
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)

RSPAMD_OFF = ["rbl", "surbl", "spf", "dkim", "dmarc", "arc", "asn", "fuzzy_check", "emails",
              "hfilter", "mx_check", "phishing", "url_redirector", "greylist", "ratelimit",
              "replies", "neural", "history_redis", "reputation", "dcc", "antivirus",
              "external_services", "rspamd_update", "whitelist", "dkim_signing", "bimi",
              "p0f", "clickhouse", "elastic", "metadata_exporter", "metric_exporter",
              "spamtrap", "maillist"]


def rspamd_start(tmp):
    d = tmp.join("rspamd")
    for sub in ("local.d", "db", "run", "log"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    common.run(["chown", "-R", "_rspamd:_rspamd", d])
    normal, proxy = common.free_port(), common.free_port()
    for m in RSPAMD_OFF:
        with open(os.path.join(d, "local.d", f"{m}.conf"), "w") as f:
            f.write("enabled = false;\n")
    with open(os.path.join(d, "local.d", "options.inc"), "w") as f:
        # no network: every DNS query goes to a closed local port
        f.write('dns { nameserver = ["127.0.0.1:9"]; timeout = 0.1s; retransmits = 0; }\n'
                'local_addrs = "127.0.0.0/8";\n')
    conf = os.path.join(d, "rspamd.conf")
    with open(conf, "w") as f:
        f.write(f""".include "$CONFDIR/common.conf"
options {{
    pidfile = "$RUNDIR/rspamd.pid";
    .include "$CONFDIR/options.inc"
    .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc"
}}
logging {{ type = "file"; filename = "$LOGDIR/rspamd.log"; level = "error"; }}
worker "normal" {{
    bind_socket = "127.0.0.1:{normal}";
    .include "$CONFDIR/worker-normal.inc"
}}
worker "rspamd_proxy" {{
    # Debian's worker-proxy.inc, with the upstream on our port
    bind_socket = "127.0.0.1:{proxy}";
    milter = yes;
    timeout = 120s;
    upstream "local" {{ default = yes; hosts = "127.0.0.1:{normal}"; }}
    count = 1;
    max_retries = 5;
    discard_on_reject = false;
    quarantine_on_reject = false;
    spam_header = "X-Spam";
    reject_message = "Spam message rejected";
}}
""")
    proc = subprocess.Popen(
        ["rspamd", "-f", "-c", conf, "-u", "_rspamd", "-g", "_rspamd",
         "--var", "CONFDIR=/etc/rspamd", "--var", f"LOCAL_CONFDIR={d}",
         "--var", f"DBDIR={d}/db", "--var", f"RUNDIR={d}/run", "--var", f"LOGDIR={d}/log"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    common.wait_port(proxy, timeout=60)
    common.wait_port(normal, timeout=60)
    time.sleep(1)
    return proc, proxy


def tree_rss_kb(pid):
    """RSS of pid and its children (kB)."""
    total = 0
    pids = [str(pid)]
    try:
        kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        pids += kids.split()
    except OSError:
        pass
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for l in f:
                    if l.startswith("VmRSS:"):
                        total += int(l.split()[1])
        except OSError:
            pass
    return total


def cpu_s(pid):
    """user + system CPU seconds of pid (all threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for l in f:
            if l.startswith("VmHWM:"):
                return int(l.split()[1])
    return 0


def smtp_source(port):
    t0 = time.time()
    r = subprocess.run(["smtp-source", "-c", "-l", str(SIZE), "-m", str(N), "-s", str(SESSIONS)]
                       + SMTP_SOURCE_OPTS + [
                        "-f", "bench@example.org", "-t", "alice@example.test",
                        f"127.0.0.1:{port}"], capture_output=True, text=True)
    dt = time.time() - t0
    if r.returncode != 0:
        raise RuntimeError(f"smtp-source: {r.stderr}")
    return N / dt


def start_extra_ims(tmp, conf, name, exe, kind, more=""):
    """Another ims-milter (exe) with conf's settings (and the sections in
    more) on its own socket of kind inet|unix; returns (proc, Postfix's
    socket form, log path)."""
    log = tmp.join(f"{name}.log")
    cpath = tmp.join(f"{name}.conf")
    if kind == "unix":
        sock = os.path.join(SOCKDIR[0] or tmp.path, f"{name}.sock")
        mform, pform = f"unix:{sock}", f"unix:{sock}"
    else:
        port = common.free_port()
        mform, pform = f"inet:{port}@127.0.0.1", f"inet:127.0.0.1:{port}"
    out = []
    for line in conf.splitlines():
        if line.startswith("socket = "):
            line = f"socket = {mform}"
        elif line.startswith("pidfile = "):
            line = f"pidfile = {tmp.join(name + '.pid')}"
        out.append(line)
    with open(cpath, "w") as f:
        f.write("\n".join(out) + "\n" + more + "\n")
    logf = open(log, "a")
    proc = subprocess.Popen([exe, "-f", "-c", cpath], stdout=logf, stderr=subprocess.STDOUT)
    if kind == "unix":
        wait_socket(sock)
    else:
        common.wait_port(port)
    return proc, pform, log


def corpus_messages(limit):
    """Up to limit raw messages of the training part (md5 0-9, a-b), ham
    and spam interleaved."""
    groups = []
    for sub in ("ham", "spam"):
        d = os.path.join(REAL_DIR, sub)
        if os.path.isdir(d):
            groups.append(sorted(os.path.join(d, f) for f in os.listdir(d)
                                 if f.endswith(".txt") and f.split(".")[-2][:1] in "0123456789ab"))
    out = []
    while groups and len(out) < limit:
        for g in list(groups):
            if not g:
                groups.remove(g)
                continue
            with open(g.pop(0), "rb") as f:
                out.append(f.read())
            if len(out) >= limit:
                break
    return out


def real_mail(port, msgs):
    """Sends msgs through 127.0.0.1:port, REAL_SESSIONS clients at once, one
    message per SMTP session; returns (msg/s, accepted, refused)."""
    import smtplib
    import threading
    lock = threading.Lock()
    queue = list(msgs)
    counts = [0, 0]

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                raw = queue.pop()
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=120) as s:
                    s.sendmail("bench@example.org", ["alice@example.test"], raw)
                ok = 0
            except (smtplib.SMTPException, OSError):
                ok = 1
            with lock:
                counts[ok] += 1

    t0 = time.time()
    threads = [threading.Thread(target=worker) for _ in range(REAL_SESSIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(msgs) / (time.time() - t0), counts[0], counts[1]


def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return 0
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


def scan_us_by(logs):
    """p50/p99 of total_us and local_us (µs) from each ims-milter's log."""
    out = {}
    for name, path in logs.items():
        with open(path, errors="replace") as f:
            text = f.read()
        tot = [int(x) for x in re.findall(r"total_us=(\d+)", text)]
        loc = [int(x) for x in re.findall(r"local_us=(\d+)", text)]
        out[name] = {"scans": len(tot), "total_p50": percentile(tot, 50),
                     "total_p99": percentile(tot, 99), "local_p50": percentile(loc, 50),
                     "local_p99": percentile(loc, 99)}
    return out


def main():
    if os.geteuid() != 0:
        common.skip("needs root for private Postfix instances")
    # rspamd only when it is compared (IMS_BENCH_SKIP_RSPAMD=1: not installed)
    common.require("smtp-source", "postfix", "redis-server", "nsd",
                   *([] if os.environ.get("IMS_BENCH_SKIP_RSPAMD") == "1" else ["rspamd"]))
    tmp = common.TempDir("ims-bench-")
    parts = []
    extra_procs = []
    try:
        dns = hdns.DnsServer({"example.org": [("TXT", "v=spf1 ip4:198.51.100.0/24 -all")],
                              "_dmarc.example.org": [("TXT", "v=DMARC1; p=none")],
                              # the reputation lists (IMS_BENCH_REPUTATION); every other
                              # name under them is NXDOMAIN, as for most mail
                              "2.0.0.127.bl.bench.test": [("A", "127.0.0.2")],
                              "example.net.dbl.bench.test": [("A", "127.0.1.2")],
                              "example.net.uribl.bench.test": [("A", "127.0.0.2")]})
        dns.start()
        parts.append(dns)
        redis = Redis(tmp).start()
        parts.append(redis)
        model = os.environ.get("IMS_BENCH_MODEL") or os.path.join(BUILD, "model.ims")
        if not os.path.exists(model):
            model = hmilter.make_model(tmp, 1.0)
        milter = hmilter.Milter(tmp, redis, model, dns=f"127.0.0.1:{dns.port}").start()
        with open(milter.conf) as f:
            conf = f.read().replace("level = debug", "level = info")
        with open(milter.conf, "w") as f:
            f.write(conf)
        milter.stop()
        sockdir = SOCKDIR[0] = tempfile.mkdtemp(prefix="ims-bench-sock-")
        os.chmod(sockdir, 0o755)
        if UNIX:
            # local sockets (as a milter on the MTA's host is usually run):
            # no TCP, no Nagle / delayed-ACK waits on the MTA's side
            ims_sock = os.path.join(sockdir, "ims.sock")
            conf = conf.replace(milter.socket, f"unix:{ims_sock}")
            with open(milter.conf, "w") as f:
                f.write(conf)
            milter.logf = open(milter.log, "a")
            milter.proc = subprocess.Popen([os.path.join(BUILD, "milter/ims-milter"), "-f", "-c",
                                            milter.conf], stdout=milter.logf,
                                           stderr=subprocess.STDOUT)
            milter.postfix_socket = f"unix:{wait_socket(ims_sock)}"
        else:
            milter.start()
        parts.append(milter)
        skip_rspamd = os.environ.get("IMS_BENCH_SKIP_RSPAMD") == "1"
        rsp, rsp_port = (None, 9) if skip_rspamd else rspamd_start(tmp)
        bare = hpostfix.Postfix(tmp, sink=False).start()
        parts.append(bare)
        withims = hpostfix.Postfix(tmp, milter=milter.postfix_socket, sink=False).start()
        parts.append(withims)
        withrsp = hpostfix.Postfix(tmp, milter=f"inet:127.0.0.1:{rsp_port}", sink=False).start()
        parts.append(withrsp)
        configs = [("bare", bare), ("ims", withims), ("rspamd", withrsp)]
        ims_pids = {"ims": milter.proc.pid}
        ims_logs = {"ims": milter.log}
        extra = []
        if ALSO_INET:
            extra.append(("ims_inet", os.path.join(BUILD, "milter/ims-milter"), "inet"))
        if IMS_BEFORE:
            extra.append(("ims_before", IMS_BEFORE, BEFORE_SOCKET))
        if REPUTATION:
            write_intel(tmp.join("intel.d"), INTEL_ENTRIES)
            extra.append(("ims_rep", os.path.join(BUILD, "milter/ims-milter"),
                          "unix" if UNIX else "inet"))
        if IMS_OFF:
            extra.append(("ims_off", os.path.join(BUILD, "milter/ims-milter"), "inet"))
        cluster = None
        if CLUSTER:
            from harness.rediscluster import RedisCluster
            cluster = RedisCluster(tmp).start()
            parts.append(cluster)
            extra.append(("ims_cluster", os.path.join(BUILD, "milter/ims-milter"),
                          "unix" if UNIX else "inet"))
            if CLUSTER_WAIT:
                extra.append(("ims_cluster_wait", os.path.join(BUILD, "milter/ims-milter"),
                              "unix" if UNIX else "inet"))
        links_conf = ""
        if LINKS:
            extra.append(("ims_links", os.path.join(BUILD, "milter/ims-milter"),
                          "unix" if UNIX else "inet"))
            key = tmp.join("links.key")
            with open(key, "wb") as f:
                f.write(os.urandom(32))
            os.chmod(key, 0o600)
            links_conf = (f"\n[links]\nrewrite = all\nclick_url = https://mail.example.test/click\n"
                          f"key_file = {key}\n")
        for name, exe, kind in extra:
            econf = conf + REP_CONF.format(intel=tmp.join("intel.d")) if name == "ims_rep" \
                else conf + links_conf if name == "ims_links" else conf
            if name in ("ims_cluster", "ims_cluster_wait"):
                assert redis.conf_section() in conf
                econf = conf.replace(redis.conf_section(), cluster.conf_section() + (
                    "wait_replicas = 1\n" if name == "ims_cluster_wait" else ""))
            proc, pform, log = start_extra_ims(tmp, econf, name, exe, kind,
                                               IMS_OFF if name == "ims_off" else "")
            pf = hpostfix.Postfix(tmp, milter=pform, sink=False).start()
            parts.append(pf)
            configs.insert(2 + len(ims_pids) - 1, (name, pf))
            ims_pids[name] = proc.pid
            ims_logs[name] = log
            extra_procs.append(proc)
        noop = os.environ.get("IMS_BENCH_NOOP")
        if noop:
            # a milter that does nothing but add the same five headers: the
            # floor any libmilter filter pays in Postfix (bench/noop-milter.c)
            maddr, paddr = milter_addr("noop")
            nproc = subprocess.Popen([noop, maddr] + NOOP_ARGS)
            wait_socket(maddr[5:]) if UNIX else common.wait_port(int(maddr[5:].split("@")[0]))
            withnoop = hpostfix.Postfix(tmp, milter=paddr, sink=False).start()
            parts.append(withnoop)
            configs.insert(1, ("noop", withnoop))
        only = os.environ.get("IMS_BENCH_ONLY")  # e.g. "ims" (profiling runs)
        if only:
            configs = [c for c in configs if c[0] in only.split(",")]
        rates = {name: [] for name, _ in configs}
        busy = {name: [] for name, _ in configs}
        load0 = os.getloadavg()
        cpu_ims, cpu_redis, cpu_noop = [], [], []
        cpu_by = {name: [] for name in ims_pids}
        cpu_cluster, cpu_global = [], []
        gpid = cluster.master_of_key("ims:{global}:scans").proc.pid if cluster else None
        for rnd in range(ROUNDS):
            for name, pf in configs:
                if name == "rspamd" and skip_rspamd:
                    rates[name].append(0.0)
                    continue
                c0 = (cpu_s(milter.proc.pid), cpu_s(redis.proc.pid),
                      cpu_s(nproc.pid) if noop else 0)
                c0_by = {k: cpu_s(v) for k, v in ims_pids.items()}
                c0_cluster = sum(cpu_s(p) for p in cluster.pids()) if cluster else 0
                c0_global = cpu_s(gpid) if cluster else 0
                perf = None
                attach = os.environ.get("IMS_BENCH_ATTACH")  # e.g. "strace -f -c -o F -p {pid}"
                if not attach and os.environ.get("IMS_BENCH_PERF"):
                    attach = ("perf record -e cpu-clock -F 4000 -g -o "
                              + os.environ["IMS_BENCH_PERF"] + " -p {pid}")
                target = {"ims": milter.proc.pid, "noop": nproc.pid if noop else None}.get(name)
                if attach and target and name in os.environ.get("IMS_BENCH_ATTACH_TO", "ims"):
                    perf = subprocess.Popen(attach.format(pid=target, name=name).split(),
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(1)  # attached before the load starts
                b0 = cpu_busy()
                rates[name].append(smtp_source(pf.port))
                b1 = cpu_busy()
                busy[name].append(round((b1[0] - b0[0]) / max(1, b1[1] - b0[1]), 2))
                if perf:
                    perf.send_signal(2)
                    perf.wait()
                if name == "ims":
                    cpu_ims.append(cpu_s(milter.proc.pid) - c0[0])
                    cpu_redis.append(cpu_s(redis.proc.pid) - c0[1])
                if name == "noop":
                    cpu_noop.append(cpu_s(nproc.pid) - c0[2])
                if name in ims_pids:
                    cpu_by[name].append(cpu_s(ims_pids[name]) - c0_by[name])
                if name == "ims_cluster":
                    cpu_cluster.append(sum(cpu_s(p) for p in cluster.pids()) - c0_cluster)
                    cpu_global.append(cpu_s(gpid) - c0_global)
                print(f"round {rnd + 1} {name}: {rates[name][-1]:.1f} msg/s", flush=True)
        # one SMTP session, LAT_N messages: the per-message latency
        latency = {}
        if LAT_N > 0:
            for name, pf in configs:
                if name == "rspamd" and skip_rspamd:
                    continue
                subprocess.run(["smtp-source", "-c", "-l", str(SIZE), "-m", "20", "-s", "1",
                                "-d", "-f", "bench@example.org", "-t", "alice@example.test",
                                f"127.0.0.1:{pf.port}"], capture_output=True, text=True)  # warm-up
                t0 = time.time()
                r = subprocess.run(["smtp-source", "-c", "-l", str(SIZE), "-m", str(LAT_N), "-s", "1",
                                    "-d", "-f", "bench@example.org", "-t", "alice@example.test",
                                    f"127.0.0.1:{pf.port}"], capture_output=True, text=True)
                latency[name] = round(1000 * (time.time() - t0) / LAT_N, 2)
                print(f"latency {name}: {latency[name]} ms/msg (one session)", flush=True)
        # real mail: corpus messages (training part), one per session
        real, real_cpu, real_counts = {}, {}, {}
        msgs = corpus_messages(REAL_N) if REAL_N > 0 else []
        for name, pf in configs if msgs else []:
            if name == "rspamd" and skip_rspamd:
                continue
            c0 = cpu_s(ims_pids[name]) if name in ims_pids else 0
            rate, ok, bad = real_mail(pf.port, msgs)
            real[name] = round(rate, 1)
            real_counts[name] = [ok, bad]
            if name in ims_pids:
                real_cpu[name] = round(1000 * (cpu_s(ims_pids[name]) - c0) / len(msgs), 3)
            print(f"real mail {name}: {real[name]} msg/s ({ok} accepted, {bad} refused)", flush=True)
        ims_rss = tree_rss_kb(milter.proc.pid)
        ims_hwm = hwm_kb(milter.proc.pid)
        rsp_rss = tree_rss_kb(rsp.pid) if rsp else 0
        local = [int(x) for x in re.findall(r"local_us=(\d+)", milter.log_text())]
        total = [int(x) for x in re.findall(r"total_us=(\d+)", milter.log_text())]
        accepted = milter.log_text().count("reply=accept")
        best = {k: max(v) for k, v in rates.items()}
        mean = {k: sum(v) / len(v) for k, v in rates.items()}
        res = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, "
                       f"{platform.system()} {platform.release()}",
            "loadavg_start_end": [round(x, 2) for x in load0[:1] + os.getloadavg()[:1]],
            "smtp_source_extra": SMTP_SOURCE_OPTS, "milter_sockets": "unix" if UNIX else "inet", "messages_per_run": N, "sessions": SESSIONS, "size": SIZE, "rounds": ROUNDS,
            "model": os.path.basename(model),
            "rates_msg_s": rates, "machine_cpu_busy": busy, "mean_msg_s": mean, "best_msg_s": best,
            "ims_ratio_mean": mean["ims"] / mean["bare"] if not only else None,
            "rspamd_ratio_mean": mean["rspamd"] / mean["bare"] if not only else None,
            "noop_ratio_mean": mean["noop"] / mean["bare"] if noop and not only else None,
            "ims_milter_cpu_ms_per_msg": 1000 * sum(cpu_ims) / (N * ROUNDS),
            "redis_cpu_ms_per_msg": 1000 * sum(cpu_redis) / (N * ROUNDS),
            # all six nodes (replication included) during the ims_cluster rounds
            "redis_cluster_cpu_ms_per_msg": (1000 * sum(cpu_cluster) / (N * ROUNDS)
                                             if cluster else None),
            # the master serving {global}: every scan's transaction
            "redis_cluster_global_master_cpu_ms_per_msg": (
                1000 * sum(cpu_global) / (N * ROUNDS) if cluster else None),
            # WAITs the cluster's masters ran (ims_cluster_wait's only)
            "cluster_wait_calls": (sum(int(m.group(1)) for n in cluster.nodes if n.alive()
                                       for m in [re.search(r"cmdstat_wait:calls=(\d+)",
                                                           n.cli("INFO", "commandstats"))] if m)
                                   if CLUSTER_WAIT else None),
            "cluster_vs_single_mean": (round(mean["ims_cluster"] / mean["ims"], 3)
                                       if cluster and "ims" in mean and mean["ims"] else None),
            "noop_milter_cpu_ms_per_msg": 1000 * sum(cpu_noop) / (N * ROUNDS) if noop else None,
            "ims_milter_cpu_ms_per_msg_by_round": [round(1000 * c / N, 3) for c in cpu_ims],
            "ratio_mean_vs_bare": {k: round(mean[k] / mean["bare"], 3) for k in mean
                                   if not only and mean["bare"]},
            "milter_cpu_ms_per_msg": {k: round(1000 * sum(v) / (N * ROUNDS), 3)
                                      for k, v in cpu_by.items()},
            "latency_ms_per_msg_one_session": latency, "latency_messages": LAT_N,
            "real_mail_msg_s": real, "real_mail_accepted_refused": real_counts,
            "real_mail_ratio_vs_bare": {k: round(v / real["bare"], 3) for k, v in real.items()
                                        if real.get("bare")},
            "real_mail_milter_cpu_ms_per_msg": real_cpu, "real_mail_messages": len(msgs),
            "real_mail_sessions": REAL_SESSIONS,
            "ims_scans": len(local), "ims_accepted": accepted,
            "ims_local_us_p50": percentile(local, 50), "ims_local_us_p99": percentile(local, 99),
            "ims_total_us_p50": percentile(total, 50), "ims_total_us_p99": percentile(total, 99),
            "scan_us_by_milter": scan_us_by(ims_logs),
            "ims_rss_kb": ims_rss, "ims_hwm_kb": ims_hwm, "rspamd_rss_kb_all_processes": rsp_rss,
        }
        if LINKS:
            with open(ims_logs["ims_links"], errors="replace") as f:
                text = f.read()
            # the rewrite's own time per message that had links (log: links_us)
            lus = [int(x) for x in re.findall(r"links=rewritten links_us=(\d+)", text)]
            res["links_rewritten_messages"] = len(lus)
            res["links_not_rewritten"] = len(re.findall(r"event=links_not_rewritten", text))
            res["links_rewrite_us_p50"] = percentile(lus, 50)
            res["links_rewrite_us_p99"] = percentile(lus, 99)
            res["links_not_rewritten_reasons"] = sorted(set(
                re.findall(r"event=links_not_rewritten reason=\"([^\"]*)\"", text)))[:20]
        print(json.dumps(res, indent=1))
        if rsp:
            common.stop_pid(rsp.pid)
        for proc in extra_procs:
            common.stop_pid(proc.pid)
        extra_procs = []
        if noop:
            common.stop_pid(nproc.pid)
    finally:
        for proc in extra_procs:
            common.stop_pid(proc.pid)
        for p in reversed(parts):
            try:
                p.stop()
            except Exception:
                pass
        tmp.close()
        if SOCKDIR[0]:
            shutil.rmtree(SOCKDIR[0], ignore_errors=True)


if __name__ == "__main__":
    main()
