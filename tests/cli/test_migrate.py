#!/usr/bin/python3
"""`ims migrate` on a real redis-server holding the layout of an ims that
kept delivered mail in Redis: the mailbox copies and old folder indexes go,
held messages stay, every scan log gets its brief (with the log's lifetime);
--dry-run changes nothing and a second run finds nothing to do."""
import json
import os
import subprocess
import sys

from harness import common, redis

common.integration("redis-server", "redis-cli")
IMS = os.path.join(common.builddir(), "cli", "ims")
failures = []
A = "ims:{alice@example.test}"


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def migrate(conf, *args):
    r = subprocess.run([IMS, "-c", conf, "migrate", *args], capture_output=True, text=True)
    return r.returncode, json.loads(r.stdout) if r.returncode == 0 else r.stderr


def main():
    tmp = common.TempDir()
    r = redis.server(tmp).start()
    try:
        conf = tmp.join("ims.conf")
        with open(conf, "w") as f:
            f.write(r.conf_section())
        log = {"id": "S1", "verdict": "spam", "action": "tag", "score": 7.5,
               "rcpt": ["alice@example.test"], "client": {"auth": None}, "symbols": []}
        for c in (["HSET", f"{A}:msg:S1", "raw", "x", "folder", "inbox"],
                  ["SET", f"{A}:scan:S1", json.dumps(log)],
                  ["ZADD", f"{A}:inbox", "1", "S1"],
                  ["HSET", f"{A}:msg:S2", "raw", "y", "folder", "sent"],
                  ["ZADD", f"{A}:sent", "1", "S2"],
                  ["HSET", f"{A}:msg:Q1", "raw", "held", "folder", "quarantine"],
                  ["SET", f"{A}:scan:Q1", "{}"],
                  ["ZADD", f"{A}:quarantine", "1", "Q1"],
                  ["SET", "ims:{global}:scan:S1", json.dumps(log), "PX", "86400000"],
                  ["SET", "ims:{global}:scan:S3", json.dumps(log)],
                  ["SET", "ims:{global}:brief:S3", "{\"kept\":1}"]):
            r.cli(*c)
        before = r.cli("DBSIZE").strip()
        rc, out = migrate(conf, "--dry-run")
        check(rc == 0 and out["mailbox_copies_deleted"] == 2 and out["folder_indexes_deleted"] == 2
              and out["briefs_written"] == 1 and out["dry_run"], f"--dry-run counts ({out})")
        check(r.cli("DBSIZE").strip() == before, "--dry-run changes nothing")
        rc, out = migrate(conf)
        check(rc == 0 and out["mailbox_copies_deleted"] == 2, f"migrate ({out})")
        for k in (f"{A}:msg:S1", f"{A}:scan:S1", f"{A}:inbox", f"{A}:msg:S2", f"{A}:sent"):
            check(r.cli("EXISTS", k).strip() == "0", f"{k} deleted")
        for k in (f"{A}:msg:Q1", f"{A}:scan:Q1", f"{A}:quarantine"):
            check(r.cli("EXISTS", k).strip() == "1", f"held {k} kept")
        brief = json.loads(r.cli("GET", "ims:{global}:brief:S1"))
        check(brief == {"verdict": "spam", "action": "tag", "score": 7.5,
                        "rcpt": ["alice@example.test"], "auth": None}, f"brief written ({brief})")
        check(0 < int(r.cli("PTTL", "ims:{global}:brief:S1")) <= 86400000, "with the log's TTL")
        check(r.cli("GET", "ims:{global}:brief:S3").strip() == '{"kept":1}', "briefs kept")
        rc, out = migrate(conf)
        check(rc == 0 and out["mailbox_copies_deleted"] == 0 and out["briefs_written"] == 0,
              f"a second run finds nothing ({out})")
        r.stop()
        rc, err = migrate(conf)
        check(rc == 1 and "redis" in err.lower(), f"Redis down: one-line error ({err.strip()})")
    finally:
        r.stop()
        tmp.close()
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
