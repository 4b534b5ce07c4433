"""bench/click.sh: see there.  GET /click of ims-webapi: latency of one click
(token check, the [intel] lists, a URIBL lookup at the harness's nsd, the
"scans since" lookup, the click record in Redis), sequentially on one
keep-alive connection, first with every domain new to the resolver, then
the same clicks again (answers cached); then wrk on one link.  Prints one
JSON object."""
import base64
import hashlib
import hmac
import http.client
import json
import os
import platform
import re
import struct
import subprocess
import sys
import time

TOP = os.environ.get("top_srcdir", ".")
sys.path.insert(0, os.path.join(TOP, "tests"))
from harness import common  # noqa: E402
from harness import dns as hdns  # noqa: E402
from harness.redis import Redis  # noqa: E402
from harness.webapi import WebAPI  # noqa: E402

N = int(os.environ.get("IMS_BENCH_CLICKS", "2000"))
INTEL = int(os.environ.get("IMS_BENCH_INTEL_ENTRIES", "100000"))
DURATION = int(os.environ.get("IMS_BENCH_DURATION", "10"))
CONNS = int(os.environ.get("IMS_BENCH_CONNECTIONS", "16"))


def token(secret, scan, user, url, issued):
    """A click token as lib/linktoken.c makes it (linktoken.h)."""
    key = hashlib.sha256(secret).digest()
    p = (bytes([1, 0]) + struct.pack(">Q", issued) + bytes([len(scan)]) + scan
         + struct.pack(">H", len(user)) + user + struct.pack(">H", len(url)) + url)
    mac = hmac.new(key, p, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(p + mac).rstrip(b"=").decode()


def pct(xs, p):
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))], 3)


def clicks(port, paths):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    ms, codes = [], {}
    for p in paths:
        t0 = time.perf_counter()
        c.request("GET", p)
        r = c.getresponse()
        r.read()
        ms.append((time.perf_counter() - t0) * 1000)
        codes[r.status] = codes.get(r.status, 0) + 1
    c.close()
    return {"p50_ms": pct(ms, 50), "p90_ms": pct(ms, 90), "p99_ms": pct(ms, 99),
            "mean_ms": round(sum(ms) / len(ms), 3), "statuses": codes}


def wrk(url):
    r = subprocess.run(["wrk", "-t2", f"-c{CONNS}", f"-d{DURATION}s", "--latency", url],
                       capture_output=True, text=True)
    out = r.stdout
    lat = {}
    for p in ("50", "99"):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        v = float(m.group(1))
        lat[p] = v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": lat["50"], "p99_ms": lat["99"], "connections": CONNS,
            "non2xx3xx": int(non.group(1)) if non else 0}


def main():
    common.require("redis-server", "nsd", "wrk")
    tmp = common.TempDir("ims-bench-click-")
    parts = []
    try:
        dns = hdns.DnsServer({"bad.example.dbl.test": [("A", "127.0.1.2")]})
        dns.start()
        parts.append(dns)
        redis = Redis(tmp).start()
        parts.append(redis)
        intel = tmp.join("intel.d")
        os.makedirs(intel)
        with open(os.path.join(intel, "feed.block"), "w") as f:
            for i in range(INTEL):
                f.write(f"listed{i}.example\n")
        secret = os.urandom(32)
        key = tmp.join("links.key")
        with open(key, "wb") as f:
            f.write(secret)
        os.chmod(key, 0o600)
        api = WebAPI(tmp, redis, extra={
            "links.key_file": key, "intel.dir": intel,
            "dnsbl.domain": "dbl.test:127.0.1.2=TEST_DBL:4",
            "dns.nameservers": f"127.0.0.1:{dns.port}", "dns.timeout_ms": "1000",
            "log.level": "notice"}).start()
        parts.append(api)
        now = int(time.time())
        paths = ["/click?t=" + token(secret, b"01M8S5MXK30DY34TAJ8RTEPG19", b"alice@example.test",
                                     f"https://www.host{i}.example/path?id={i}".encode(), now)
                 for i in range(N)]
        # the checks run: a URIBL-listed and an intel-listed link are blocked
        for host in (b"www.bad.example", b"a.listed7.example"):
            bad = "/click?t=" + token(secret, b"S", b"", b"https://" + host + b"/", now)
            c = http.client.HTTPConnection("127.0.0.1", api.port, timeout=30)
            c.request("GET", bad)
            status = c.getresponse().status
            c.close()
            if status != 403:
                raise AssertionError(f"{host} not blocked: {status}")
        res = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, "
                       f"{platform.system()} {platform.release()}",
            "loadavg": round(os.getloadavg()[0], 2), "clicks": N, "intel_entries": INTEL,
            "first_clicks_uncached": clicks(api.port, paths),
            "same_clicks_cached": clicks(api.port, paths),
            "wrk_one_link": wrk(api.url(paths[0])),
            "redis_click_events": int(redis.cli("XLEN", "ims:{global}:events").strip() or 0),
        }
        print(json.dumps(res, indent=1))
    finally:
        for p in reversed(parts):
            try:
                p.stop()
            except Exception:
                pass
        tmp.close()


if __name__ == "__main__":
    main()
