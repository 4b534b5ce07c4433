#!/usr/bin/python3
"""miltertest scripts against a real ims-milter and a real redis-server.

Each tests/milter/*.lua script drives one path (accept, tag, quarantine,
reject, malformed input); tempfail.lua runs after Redis is stopped.  After
the scripts, Redis must hold what the milter said it stored."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from harness import common, milter as hmilter  # noqa: E402
from harness.redis import server as redis_server  # noqa: E402

HERE = os.path.join(os.environ.get("top_srcdir", "."), "tests", "milter")


def miltertest(script, sock):
    env = dict(os.environ, IMS_MILTER_SOCKET=sock, IMS_MT_DIR=HERE)
    r = subprocess.run(["miltertest", "-s", os.path.join(HERE, script)], env=env,
                       capture_output=True, text=True, timeout=120)
    print(f"--- {script}: rc={r.returncode}\n{r.stdout}{r.stderr}", end="")
    if r.returncode != 0:
        raise SystemExit(f"FAIL {script}")
    return r.stdout


def ids(out):
    return [l.split()[1] for l in out.splitlines() if l.startswith("ID ")]


def metric(text, name):
    """The value of one sample line ("name{labels}" exactly) of Prometheus text."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in metrics:\n{text[:3000]}")


def check_metrics(port):
    """ims-milter's own /metrics (issue 13): what the scripts above did, by
    outcome and tempfail cause, with latency histograms per check."""
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/plain"), r.headers
        text = r.read().decode()
    assert metric(text, 'ims_milter_messages_total{outcome="accept"}') >= 2
    assert metric(text, 'ims_milter_messages_total{outcome="tag"}') >= 1
    assert metric(text, 'ims_milter_messages_total{outcome="reject"}') >= 1
    assert metric(text, 'ims_milter_messages_total{outcome="quarantine"}') >= 1
    assert metric(text, 'ims_milter_messages_total{outcome="tempfail"}') >= 2
    assert metric(text, 'ims_milter_tempfails_total{cause="redis"}') >= 1
    assert metric(text, 'ims_milter_tempfails_total{cause="quarantine_full"}') == 1
    assert metric(text, "ims_milter_redis_errors_total") >= 1
    n = metric(text, 'ims_milter_scan_seconds_count{stage="total"}')
    assert n >= 5 and metric(text, 'ims_milter_scan_seconds_bucket{stage="total",le="+Inf"}') == n
    assert metric(text, 'ims_milter_scan_seconds_count{stage="spf"}') == n
    assert metric(text, "ims_milter_model_loaded") == 1
    assert metric(text, "ims_milter_model_load_failures_total") >= 1  # the corrupt reload (and its file watch)
    assert 'ims_milter_model_info{version="' in text
    # the shipped dashboard and alert rules name only metrics that exist
    import re
    mon = os.path.join(os.environ.get("top_srcdir", "."), "contrib", "monitoring")
    json.load(open(os.path.join(mon, "ims-grafana-dashboard.json")))
    for f in ("ims-grafana-dashboard.json", "ims-alerts.yml"):
        with open(os.path.join(mon, f)) as fh:
            for name in set(re.findall(r"ims_milter_[a-z_]+", fh.read())):
                base = re.sub(r"_(bucket|sum|count)$", "", name)
                assert f"# TYPE {base} " in text, f"{f}: {name} is not exported"
    print("metrics ok:", int(n), "scans")


def main():
    common.require("miltertest", "redis-server", "redis-cli")
    tmp = common.TempDir("ims-miltertest-")
    redis = mt = None
    ok = False
    try:
        redis = redis_server(tmp, auth=True).start()  # the milter authenticates (ACL user)
        model = hmilter.make_model(tmp, 1.0)
        metrics_port = common.free_port()
        mt = hmilter.Milter(tmp, redis, model,
                            extra="[actions]\ntag = 4\nquarantine = 8\nreject = 15\n",
                            # tight limits so malformed.lua hits them cheaply
                            milter_extra="max_header_size = 512\nmax_message_size = 64k\n"
                                         f"metrics_listen = 127.0.0.1:{metrics_port}\n")
        mt.start()
        sock = mt.socket

        out = miltertest("accept.lua", sock)
        (aid,) = ids(out)
        # delivered mail is Dovecot's: Redis keeps the scan log, not the body
        # (her correspondents are: lib/correspondents.h, [bec])
        keys = [k for k in redis.cli("KEYS", "ims:{alice@example.test}:*").split()
                if not k.endswith((":correspondents", ":corrdomains"))]
        assert keys == [], f"mailbox copy stored: {keys}"
        log = json.loads(redis.cli("GET", f"ims:{{global}}:scan:{aid}"))
        assert log["action"] == "accept" and log["queue_id"] == "QID0001", log
        # the per-message log line: who sent what to whom and the verdict
        line = next(l for l in mt.log_text().splitlines() if f"id={aid} event=scan " in l)
        for kv in ("client_ip=127.0.0.1 ", 'helo="client.example.org" ',
                   'mail_from="sender@example.org" ', 'rcpt="alice@example.test" ',
                   'message_id="<m1@example.org>" ', "action=accept ", "score=",
                   "verdict=", 'symbols="'):
            assert kv in line, (kv, line)

        # a retried message (same queue id and content) is recorded once and
        # keeps its first scan id
        total = int(redis.cli("HGET", "ims:{global}:stats:total", "total") or 0)
        out = miltertest("retry.lua", sock)
        first, again = ids(out)
        assert first.strip() == again.strip(), (first, again)
        n = sum(1 for sid in redis.cli("ZRANGE", "ims:{global}:scans", "0", "-1").split()
                if json.loads(redis.cli("GET", f"ims:{{global}}:scan:{sid}"))["queue_id"]
                == "QIDRETRY1")
        assert n == 1, n
        assert int(redis.cli("HGET", "ims:{global}:stats:total", "total")) == total + 1
        assert "event=store_duplicate" in mt.log_text()

        out = miltertest("authres.lua", sock)
        assert "smtp.mailfrom=evil.example" in out, out

        out = miltertest("tag.lua", sock)
        (tid,) = ids(out)
        assert json.loads(redis.cli("GET", f"ims:{{global}}:scan:{tid}"))["action"] == "tag"

        out = miltertest("quarantine.lua", sock)
        (mixed,) = ids(out)
        held = redis.cli("ZRANGE", "ims:{global}:quarantine", "0", "-1").split()
        assert len(held) == 2 and mixed in held, held
        (qid,) = [x for x in held if x != mixed]
        # the one copy: in the quarantine, the MTA was told to discard its own
        assert redis.cli("HGET", f"ims:{{global}}:qmsg:{qid}", "queue_id").strip() == "QID0001"
        assert f"X-IMS-Scan-Id: {qid}" in redis.cli("GET", f"ims:{{global}}:qraw:{qid}")
        assert redis.cli("ZSCORE", "ims:{alice@example.test}:quarantine", qid).strip()
        assert redis.cli("EXISTS", f"ims:{{alice@example.test}}:msg:{qid}").strip() == "0"
        # held for the local recipient only
        assert redis.cli("HGET", f"ims:{{global}}:qmsg:{mixed}", "rcpt").strip() == \
            "alice@example.test"
        size = int(redis.cli("STRLEN", f"ims:{{global}}:qraw:{qid}")) + \
            int(redis.cli("STRLEN", f"ims:{{global}}:qraw:{mixed}"))
        assert int(redis.cli("GET", "ims:{global}:quarantine:bytes")) == size

        # quarantine full: 452, nothing held, nothing discarded
        redis.cli("INCRBY", "ims:{global}:quarantine:bytes", str(2 << 30))
        miltertest("held_tempfail.lua", sock)
        assert "event=store_failed" in mt.log_text() and "quarantine full" in mt.log_text()
        assert redis.cli("ZCARD", "ims:{global}:quarantine").strip() == "2"
        redis.cli("DECRBY", "ims:{global}:quarantine:bytes", str(2 << 30))

        miltertest("reject.lua", sock)
        assert redis.cli("ZCARD", "ims:{global}:idx:action:reject").strip() == "1"
        assert redis.cli("ZCARD", "ims:{global}:idx:symbol:GTUBE").strip() == "1"

        # a corrupt model on reload: the running model keeps scanning, and
        # says so (log, MODEL_STALE on the scan, hence the symbol metric)
        with open(model, "rb") as f:
            good = f.read()
        with open(model, "wb") as f:
            f.write(good[:len(good) // 2])  # truncated: checksum mismatch
        mt.reload()
        # the same message again would be a retry, recorded once: this run
        # wants a new scan
        for k in redis.cli("--scan", "--pattern", "ims:{global}:seen:*").split():
            redis.cli("DEL", k)
        out = miltertest("accept.lua", sock)
        (sid,) = ids(out)
        log = json.loads(redis.cli("GET", f"ims:{{global}}:scan:{sid}"))
        assert log["action"] == "accept", log
        assert "MODEL_STALE" in [x["name"] for x in log["symbols"]], log["symbols"]
        assert "event=model_reload_failed" in mt.log_text()
        with open(model, "wb") as f:
            f.write(good)
        mt.reload()

        miltertest("malformed.lua", sock)
        n = int(redis.cli("XLEN", "ims:{global}:events"))
        assert n >= 7, f"events: {n}"

        # no model: 451, and the tempfail is logged in Redis
        nomodel = hmilter.Milter(tmp, redis, tmp.join("missing-model.ims")).start()
        try:
            miltertest("tempfail.lua", nomodel.socket)
            assert "no classifier model" in nomodel.log_text()
            assert redis.cli("ZCARD", "ims:{global}:idx:action:tempfail").strip() == "1"
        finally:
            assert nomodel.stop() == 0, "ims-milter (no model) exit status"

        redis.stop()
        miltertest("tempfail.lua", sock)
        miltertest("held_tempfail.lua", sock)
        assert "Storage unavailable" in mt.log_text() or "store_failed" in mt.log_text()
        check_metrics(metrics_port)

        rc = mt.stop()
        mt = None
        assert rc == 0, f"ims-milter exit status {rc} (sanitizer report?)"
        ok = True
    finally:
        if mt:
            mt.stop()
        if redis:
            redis.stop()
        if not ok:
            for p in os.listdir(tmp.path):
                if p.endswith(".log"):
                    print(f"==> {p}")
                    with open(tmp.join(p), errors="replace") as f:
                        print(f.read()[-6000:])
        tmp.close()
    print("PASS: miltertest accept tag quarantine reject, corrupt model on reload, malformed, tempfail (no model, Redis down)")


if __name__ == "__main__":
    main()
