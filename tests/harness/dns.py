#!/usr/bin/python3
"""A local authoritative DNS server (Debian's nsd) for tests.

Serves test records on 127.0.0.1:<free port> from a private temp dir and
is stopped by PID.  Point ims at it with `[dns] nameservers = 127.0.0.1:PORT`.

Python use:

    import sys; sys.path.insert(0, os.path.join(top_srcdir, "tests/harness"))
    import dns
    srv = dns.DnsServer({
        "example.test": [("TXT", "v=spf1 ip4:192.0.2.0/24 -all"), ("MX", (10, "mx.example.test"))],
        "mx.example.test": [("A", "192.0.2.25")],
        "sel._domainkey.example.test": [("TXT", open("sel.txt").read())],  # opendkim-genkey output is fine
        "slow.example.test": [("TIMEOUT", None)],      # every query at or below it: SERVFAIL
    })
    srv.start()        # returns the port (also srv.port)
    ...
    srv.stop()         # or use it as a context manager: `with dns.DnsServer(recs) as srv:`

Everything is served from one root zone ".", so any name that is not given
is NXDOMAIN and a name without records of the asked type is NODATA.
Record data:
  A/AAAA         "192.0.2.1"
  TXT (or SPF)   a str (split into 255-byte strings), or a list/tuple of str
                 (one character-string each); opendkim-genkey's `sel.txt`
                 zone snippet is accepted too (its quoted strings are joined).
                 type "SPF" is served as TXT (RFC 7208 dropped type 99).
  MX             (preference, "host") or "10 host"
  CNAME/PTR/NS   "host" (a trailing dot is added)
  TIMEOUT        None: the name becomes a zone nsd cannot load, so every query for
                 it gets SERVFAIL (ims maps that to a temporary error); so do names
                 below it, except those given records of their own (each gets its
                 own zone).  Its other records, if any, are not served.
  anything else  raw zone-file rdata text.
Instead of records, zone_text may give a whole zone file for ".".

Command line (for C tests):
  dns.py start DIR RECORDS.json   prints "PORT PID" once nsd answers; nsd keeps running
  dns.py stop DIR                 stops it by the PID written in DIR/nsd.pid
RECORDS.json is {"name": [["TYPE", data], ...]}.
"""

import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

NSD = shutil.which("nsd") or "/usr/sbin/nsd"


def _free_port():
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free port")


def _to_bytes(s):
    if isinstance(s, bytes):
        return s
    try:
        return s.encode("latin-1")
    except UnicodeEncodeError:
        return s.encode("utf-8")


def _escape(b, txt=True):
    """Zone-file escaping: \\DDD for anything unsafe in a quoted string
    (txt) or an owner name."""
    out = []
    for c in b:
        ch = chr(c)
        if txt and 32 <= c <= 126 and ch not in '"\\':
            out.append(ch)
        elif not txt and (ch.isalnum() and c < 128 or ch in "-_*/+="):
            out.append(ch)
        else:
            out.append("\\%03d" % c)
    return "".join(out)


def _name(n):
    n = str(n)
    if n in ("", "."):
        return "."
    b = _to_bytes(n.rstrip("."))
    labels = b.split(b".")
    return ".".join(_escape(l, txt=False) for l in labels) + "."


def _genkey_txt(s):
    """The joined strings of an opendkim-genkey zone snippet, else None."""
    if "IN" in s and "TXT" in s and '"' in s:
        body = s[s.index("TXT"):]
        return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body))
    return None


def _txt(data):
    if isinstance(data, (list, tuple)):
        chunks = [_to_bytes(x) for x in data]
    else:
        g = _genkey_txt(data) if isinstance(data, str) else None
        b = _to_bytes(g if g is not None else data)
        chunks = [b[i:i + 255] for i in range(0, len(b), 255)] or [b""]
    return " ".join('"%s"' % _escape(c) for c in chunks)


def _rdata(rtype, data):
    t = rtype.upper()
    if t in ("TXT", "SPF"):
        return "TXT", _txt(data)
    if t == "MX":
        if isinstance(data, (list, tuple)):
            return "MX", "%d %s" % (int(data[0]), _name(data[1]))
        pref, host = str(data).split(None, 1)
        return "MX", "%d %s" % (int(pref), _name(host))
    if t in ("CNAME", "PTR", "NS"):
        return t, _name(data)
    return t, str(data)


class DnsServer:
    def __init__(self, records=None, zone_text=None, workdir=None):
        self.records = records or {}
        self.zone_text = zone_text
        self.workdir = workdir
        self._own_dir = workdir is None
        self.port = None
        self.pid = None
        self.proc = None

    def _write(self):
        d = self.workdir
        soa = ["$TTL 300",
               "@ IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300",
               "@ IN NS ns.test."]
        timeouts = sorted({n.lower().rstrip(".") for n, recs in self.records.items()
                           for t, _ in recs if str(t).upper() == "TIMEOUT"})

        def under_timeout(name):
            n = name.lower().rstrip(".")
            return any(n.endswith("." + t) for t in timeouts)

        root = ["$ORIGIN .", soa[0], ". IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300",
                ". IN NS ns.test.", "ns.test. IN A 127.0.0.1"]
        if self.zone_text is not None:
            root = [self.zone_text]
        subzones = {}
        for name, recs in self.records.items():
            lines = []
            for rtype, data in recs:
                if str(rtype).upper() == "TIMEOUT":
                    continue
                t, rd = _rdata(str(rtype), data)
                lines.append("%s IN %s %s" % (_name(name), t, rd))
            n = name.lower().rstrip(".")
            if n in timeouts:
                continue  # its zone is broken on purpose
            if under_timeout(n) and not n.startswith("*."):
                # a name with data below a TIMEOUT name: its own zone, so
                # nsd answers it from there and not from the broken one
                subzones[n] = ["$ORIGIN %s" % _name(n)] + soa + lines
            else:
                root += lines
        files = {"root.zone": root}
        conf_zones = [(".", "root.zone")]
        for i, n in enumerate(sorted(subzones)):
            files["sub-%d.zone" % i] = subzones[n]
            conf_zones.append((_name(n), "sub-%d.zone" % i))
        for i, t in enumerate(timeouts):
            # a zone whose file does not exist: nsd answers SERVFAIL for it
            conf_zones.append((_name(t), "missing-%d.zone" % i))
        for fname, lines in files.items():
            path = os.path.join(d, fname)
            with open(path, "w", encoding="latin-1") as f:
                f.write("\n".join(lines) + "\n")
        for zname, fname in conf_zones:
            if fname in files and shutil.which("nsd-checkzone"):
                r = subprocess.run(["nsd-checkzone", zname, os.path.join(d, fname)],
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    raise RuntimeError("zone %s does not load: %s" % (zname, r.stdout + r.stderr))
        conf = ["server:",
                "  ip-address: 127.0.0.1@%d" % self.port,
                "  port: %d" % self.port,
                "  zonesdir: \"%s\"" % d,
                "  pidfile: \"%s/nsd.pid\"" % d,
                "  database: \"\"",
                "  xfrdfile: \"%s/xfrd.state\"" % d,
                "  zonelistfile: \"%s/zone.list\"" % d,
                "  xfrdir: \"%s\"" % d,
                "  logfile: \"%s/nsd.log\"" % d,
                "  username: \"\"",
                "  chroot: \"\"",
                "  server-count: 1",
                "  do-ip6: no",
                "  verbosity: 1",
                "remote-control:",
                "  control-enable: no"]
        for zname, fname in conf_zones:
            conf += ["zone:", "  name: \"%s\"" % zname, "  zonefile: \"%s\"" % fname]
        with open(os.path.join(d, "nsd.conf"), "w", encoding="latin-1") as f:
            f.write("\n".join(conf) + "\n")

    def _answers(self):
        q = struct.pack(">HHHHHH", 0x1234, 0, 1, 0, 0, 0) + b"\x00" + struct.pack(">HH", 6, 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.1)
        try:
            s.sendto(q, ("127.0.0.1", self.port))
            r = s.recv(512)
            return len(r) >= 12 and r[:2] == b"\x12\x34" and (r[3] & 0x0F) == 0
        except OSError:
            return False
        finally:
            s.close()

    def start(self, timeout=10.0):
        """Starts nsd; returns the port.  Raises RuntimeError when it fails."""
        if self.workdir is None:
            self.workdir = tempfile.mkdtemp(prefix="ims-dns-")
        os.makedirs(self.workdir, exist_ok=True)
        os.chmod(self.workdir, 0o700)  # nsd's files are nobody else's business
        for attempt in range(3):
            self.port = _free_port()
            self._write()
            self.proc = subprocess.Popen([NSD, "-d", "-c", os.path.join(self.workdir, "nsd.conf")],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, start_new_session=True)
            self.pid = self.proc.pid
            end = time.time() + timeout
            while time.time() < end:
                if self.proc.poll() is not None:
                    break
                if self._answers():
                    with open(os.path.join(self.workdir, "nsd.pid"), "w") as f:
                        f.write("%d\n" % self.pid)
                    return self.port
                time.sleep(0.02)
            self.stop(remove=False)
        log = ""
        try:
            with open(os.path.join(self.workdir, "nsd.log")) as f:
                log = f.read()[-2000:]
        except OSError:
            pass
        raise RuntimeError("nsd did not start: " + log)

    def stop(self, remove=True):
        if self.pid:
            _kill(self.pid)
            if self.proc is not None:
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            self.pid = None
            self.proc = None
        if remove and self._own_dir and self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


def _kill(pid):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(250):
        try:
            r, _st = os.waitpid(pid, os.WNOHANG)
            if r == pid:
                return
        except ChildProcessError:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.02)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _main(argv):
    if len(argv) == 4 and argv[1] == "start":
        with open(argv[3]) as f:
            recs = json.load(f)
        srv = DnsServer({k: [tuple(r) for r in v] for k, v in recs.items()}, workdir=argv[2])
        port = srv.start()
        srv.proc = None  # keep nsd running after we exit
        print("%d %d" % (port, srv.pid), flush=True)
        return 0
    if len(argv) == 3 and argv[1] == "stop":
        try:
            with open(os.path.join(argv[2], "nsd.pid")) as f:
                _kill(int(f.read().strip()))
        except (OSError, ValueError):
            return 1
        return 0
    sys.stderr.write("usage: dns.py start DIR RECORDS.json | dns.py stop DIR\n")
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
