#!/usr/bin/python3
"""`ims events tail` and `ims events forward` on a real redis-server: the
stream as JSON lines and as CEF (header and extension escaping of a hostile
value), --since, and forward to local UDP and TCP syslog listeners (RFC 5424,
octet counting on TCP) from a saved position that the next run continues;
with Redis stopped, one error line."""
import json
import os
import re
import socket
import subprocess
import sys
import time

from harness import common, redis

common.integration("redis-server", "redis-cli")
IMS = os.path.join(common.builddir(), "cli", "ims")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def ims(conf, *args, timeout=30):
    return subprocess.run([IMS, "-c", conf, "events", *args], capture_output=True, text=True,
                          timeout=timeout)


def main():
    tmp = common.TempDir()
    r = redis.server(tmp).start()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(5)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(1)
    tcp.settimeout(5)
    try:
        conf = tmp.join("ims.conf")
        with open(conf, "w") as f:
            f.write(r.conf_section())
            f.write(f"[siem]\nsyslog = udp:127.0.0.1:{udp.getsockname()[1]}\nformat = cef\n")
        ids = []
        ids.append(r.cli("XADD", "ims:{global}:events", "*", "type", "scan", "id", "01SCANA",
                         "action", "quarantine", "score", "9.50", "verdict", "spam", "time",
                         "1764606000000", "mail_from", "evil=x|y\\z@bad.test\nforged: 1",
                         "client_ip", "192.0.2.7").strip())
        ids.append(r.cli("XADD", "ims:{global}:events", "*", "type", "admin", "actor",
                         "cli:root", "op", "quarantine.release", "target", "01SCANA",
                         "time", "1764606001000").strip())
        out = ims(conf, "tail")
        lines = out.stdout.splitlines()
        check(out.returncode == 0 and len(lines) == 2, f"tail: two JSON lines ({out.stderr})")
        ev = [json.loads(x) for x in lines]
        check(ev[0]["stream_id"] == ids[0] and ev[0]["id"] == "01SCANA"
              and ev[0]["mail_from"] == "evil=x|y\\z@bad.test\nforged: 1", "JSON: fields as they are")
        check(ev[1]["op"] == "quarantine.release" and ev[1]["target"] == "01SCANA",
              "an admin action carries the scan id")
        out = ims(conf, "tail", "--format", "cef")
        lines = out.stdout.splitlines()
        check(out.returncode == 0 and len(lines) == 2, "tail --format cef: one line per event")
        check(lines[0].startswith("CEF:0|ims|ims|") and "|scan|scan quarantine|6|" in lines[0],
              f"CEF header ({lines[0][:60]})")
        check("suser=evil\\=x|y\\\\z@bad.test\\nforged: 1 " in lines[0],
              f"CEF extension escapes \\ = and newline ({lines[0]})")
        check("src=192.0.2.7" in lines[0] and f"externalId={ids[0]}" in lines[0]
              and "id=01SCANA" in lines[0], "CEF: src, externalId, scan id")
        check("|quarantine.release|admin quarantine.release|3|" in lines[1], f"admin CEF ({lines[1]})")
        out = ims(conf, "tail", "--since", ids[0])
        check(out.returncode == 0 and len(out.stdout.splitlines()) == 1
              and json.loads(out.stdout)["stream_id"] == ids[1], "--since ID: what came after")
        out = ims(conf, "tail", "--since", "nonsense")
        check(out.returncode == 2, "a bad --since is a usage error")

        # forward to UDP: both events, position saved
        out = ims(conf, "forward", "--once")
        check(out.returncode == 0 and json.loads(out.stdout)["sent"] == 2,
              f"forward --once sent 2 ({out.stdout} {out.stderr})")
        msgs = [udp.recv(65536).decode() for _ in range(2)]
        check(re.match(r"^<13[0-9]>1 2025-12-01T16:20:00\.000Z \S+ ims \d+ scan - CEF:0\|ims\|",
                       msgs[0]) is not None, f"RFC 5424 frame ({msgs[0][:80]})")
        check("admin - CEF:0|" in msgs[1], "second message: the admin event")
        check(r.cli("GET", "ims:{global}:siem:position").strip() == ids[1], "position saved")
        ids.append(r.cli("XADD", "ims:{global}:events", "*", "type", "click", "id", "01SCANA",
                         "url", "http://bad.test/a=b", "verdict", "block").strip())
        out = ims(conf, "forward", "--once")
        check(out.returncode == 0 and json.loads(out.stdout)["sent"] == 1,
              "a second run sends only the new event")
        m = udp.recv(65536).decode()
        # an event too large for one datagram is cut, not retried for ever
        ids.append(r.cli("XADD", "ims:{global}:events", "*", "type", "admin", "op", "x", "reason",
                         "r" * 70000).strip())
        out = ims(conf, "forward", "--once", timeout=20)
        big = udp.recv(70000)
        check(out.returncode == 0 and json.loads(out.stdout)["sent"] == 1 and len(big) == 65000,
              f"a 70 kB event goes out cut to 65000 bytes ({len(big)})")
        check(" click - CEF:0|ims|ims|" in m and "request=http://bad.test/a\\=b" in m,
              f"click event forwarded ({m})")

        # TCP, JSON, octet counting, from the start
        with open(conf, "w") as f:
            f.write(r.conf_section())
            f.write(f"[siem]\nsyslog = tcp:127.0.0.1:{tcp.getsockname()[1]}\nformat = json\n"
                    "facility = mail\n")
        p = subprocess.Popen([IMS, "-c", conf, "events", "forward", "--once", "--since", "0"],
                             stdout=subprocess.PIPE, text=True)
        conn, _ = tcp.accept()
        conn.settimeout(5)
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        p.wait(timeout=30)
        frames = []
        while data:
            n, rest = data.split(b" ", 1)
            frames.append(rest[:int(n)].decode())
            data = rest[int(n):]
        check(len(frames) == 4 and all(f.startswith("<") for f in frames)
              and len(frames[3]) > 70000, f"TCP: four octet-counted frames, none cut ({len(frames)})")
        check(frames[0].split(" - ", 1)[1].startswith("{") and
              json.loads(frames[0].split(" - ", 1)[1])["id"] == "01SCANA"
              and frames[0].startswith("<21>1 "), "TCP: JSON body, facility mail")
        # tail --follow prints what comes; forward (no --once) stops on SIGTERM
        # with its position saved
        p = subprocess.Popen([IMS, "-c", conf, "events", "tail", "--follow", "--count", "1"],
                             stdout=subprocess.PIPE, text=True)
        first = p.stdout.readline()
        new_id = r.cli("XADD", "ims:{global}:events", "*", "type", "admin", "op", "user.create",
                       "actor", "cli:root", "target", "carol@example.test").strip()
        line = p.stdout.readline()
        p.terminate()
        check(json.loads(first)["stream_id"] == ids[3] and json.loads(line)["stream_id"] == new_id
              and p.wait(timeout=10) == 0, "tail --follow: the last event, then the new one; "
              "SIGTERM ends it")
        p = subprocess.Popen([IMS, "-c", conf, "events", "forward"], stdout=subprocess.PIPE,
                             text=True)
        conn, _ = tcp.accept()
        conn.settimeout(5)
        got = b""
        while got.count(b"user.create") < 1:
            got += conn.recv(65536)
        p.terminate()
        out = json.loads(p.communicate(timeout=10)[0])
        conn.close()
        check(p.returncode == 0 and out["position"] == new_id
              and r.cli("GET", "ims:{global}:siem:position").strip() == new_id,
              f"forward: SIGTERM stops it with the position saved ({out})")
        with open(conf, "w") as f:
            f.write(r.conf_section())
        out = ims(conf, "forward", "--once")
        check(out.returncode == 1 and "[siem] syslog" in out.stderr, "no target: one-line error")
        # Redis down: the command's one error line, no warning of the store's
        # own besides (ims_store_set_quiet)
        r.stop()
        out = ims(conf, "tail")
        check(out.returncode == 1 and out.stderr.count("\n") == 1 and "events" in out.stderr,
              f"Redis down: exactly one error line ({out.stderr!r})")
    finally:
        udp.close()
        tcp.close()
        r.stop()
        tmp.close()
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
