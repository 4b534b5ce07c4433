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
from harness.redis import Redis  # noqa: E402

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


def main():
    common.require("miltertest", "redis-server", "redis-cli")
    tmp = common.TempDir("ims-miltertest-")
    redis = mt = None
    ok = False
    try:
        redis = Redis(tmp).start()
        model = hmilter.make_model(tmp, 1.0)
        mt = hmilter.Milter(tmp, redis, model,
                            extra="[actions]\ntag = 4\nquarantine = 8\nreject = 15\n",
                            # tight limits so malformed.lua hits them cheaply
                            milter_extra="max_header_size = 512\nmax_message_size = 64k\n")
        mt.start()
        sock = mt.socket

        out = miltertest("accept.lua", sock)
        (aid,) = ids(out)
        # delivered mail is Dovecot's: Redis keeps the scan log, not the body
        assert redis.cli("KEYS", "ims:{alice@example.test}:*").strip() == "", "mailbox copy stored"
        log = json.loads(redis.cli("GET", f"ims:{{global}}:scan:{aid}"))
        assert log["action"] == "accept" and log["queue_id"] == "QID0001", log

        out = miltertest("tag.lua", sock)
        (tid,) = ids(out)
        assert json.loads(redis.cli("GET", f"ims:{{global}}:scan:{tid}"))["action"] == "tag"

        out = miltertest("quarantine.lua", sock)
        (qid,) = ids(out)
        assert redis.cli("ZSCORE", "ims:{global}:quarantine", qid).strip(), "not in quarantine index"
        assert redis.cli("HGET", f"ims:{{global}}:qmsg:{qid}", "queue_id").strip() == "QID0001"
        assert redis.cli("ZSCORE", "ims:{alice@example.test}:quarantine", qid).strip()

        miltertest("reject.lua", sock)
        assert redis.cli("ZCARD", "ims:{global}:idx:action:reject").strip() == "1"
        assert redis.cli("ZCARD", "ims:{global}:idx:symbol:GTUBE").strip() == "1"

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
        assert "Storage unavailable" in mt.log_text() or "store_failed" in mt.log_text()

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
    print("PASS: miltertest accept tag quarantine reject malformed, tempfail (no model, Redis down)")


if __name__ == "__main__":
    main()
