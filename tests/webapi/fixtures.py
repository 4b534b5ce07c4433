"""Shared setup of the web API tests: a private redis-server and ims-webapi
(and with dovecot=True a private Dovecot, the mailbox of record), users,
scan data written straight into Redis with the keys of docs/redis-schema.md
(the way ims-milter stores them), and messages saved into Dovecot."""
import json
import os
import random
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from harness import common  # noqa: E402
from harness.dovecot import Dovecot  # noqa: E402
from harness.redis import server as redis_server  # noqa: E402
from harness.webapi import WebAPI  # noqa: E402

B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PASSWORD = "correct horse battery"


def ulid(ms=None):
    ms = int(time.time() * 1000) if ms is None else ms
    t = "".join(B32[(ms >> (5 * i)) & 31] for i in range(9, -1, -1))
    return t + "".join(random.choice(B32) for _ in range(16))


def message(sender, rcpt, subject, body="Hello there.\n", html=None, attach=None):
    if html is None and attach is None:
        return (f"From: {sender}\r\nTo: {rcpt}\r\nSubject: {subject}\r\n"
                f"Date: Mon, 23 Nov 2026 06:00:00 +0000\r\nMessage-ID: <{ulid()}@x>\r\n"
                f"\r\n{body}")
    parts = [f"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"]
    if html is not None:
        parts.append(f"--B\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n")
    if attach is not None:
        parts.append("--B\r\nContent-Type: application/pdf\r\n"
                     f"Content-Disposition: attachment; filename=\"{attach}\"\r\n"
                     "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n")
    return (f"From: {sender}\r\nTo: {rcpt}\r\nSubject: {subject}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
            + "".join(parts) + "--B--\r\n")


def scan_log(sid, t, sender, rcpts, subject, verdict="ham", action="accept", score=-1.0,
             symbols=(("SPF_PASS", -0.5),), direction="inbound"):
    return {
        "id": sid, "time": t, "trace_id": sid, "queue_id": "Q" + sid[-6:],
        "direction": direction,
        "client": {"ip": "198.51.100.7", "name": "mx.example.org", "helo": "mx.example.org",
                   "auth": None},
        "mail_from": sender, "rcpt": list(rcpts), "from": sender, "subject": subject,
        "size": 100, "verdict": verdict, "probability": 0.9 if verdict == "spam" else 0.05,
        "svm_score": 1.0, "score": score, "action": action, "reason": "",
        "symbols": [{"name": n, "weight": w, "detail": ""} for n, w in symbols],
        "auth": {"spf": "pass", "dkim": [], "dmarc": "none", "dmarc_policy": "none"},
        "model_version": "test-model-1",
        "timings_us": {"total": 100, "local": 50},
    }


class Env:
    """redis + webapi, with helpers; use as a context manager."""

    def __init__(self, extra=None, ui_dir=None, dovecot=False, imap=False):
        """imap: folder pages over Dovecot's IMAP (the master user), else
        doveadm only; what extra sets wins."""
        common.require("redis-server", "redis-cli")
        if dovecot:
            common.require("dovecot", "doveadm")
            if os.geteuid() != 0:
                common.skip("a private Dovecot needs root here (setuid to the mail uid)")
        self.tmp = common.TempDir("ims-webapi-test-")
        self.owned = []
        self.redis = self.dove = self.api = None
        try:
            self.redis = redis_server(self.tmp, auth=True).start()  # as production: ACL users
            self.api = WebAPI(self.tmp, self.redis, extra=dict(extra or {}), ui_dir=ui_dir)
            if dovecot:
                self.dove = Dovecot(self.tmp, self.redis, os.path.join(self.api.dir, "mail"))
                self.dove.start()
                self.api.extra = {**self.dove.webapi_conf(imap), **self.api.extra}
            self.api.start()
        except BaseException:
            self.stop_all()
            self.tmp.close()
            raise

    def own(self, part):
        """part (anything with stop(), started or not) is stopped when the Env
        ends, before the parts the Env made, in reverse order of own(): also
        when the test or its set-up fails.  Returns part."""
        self.owned.append(part)
        return part

    def stop_all(self):
        """Stops every part by PID, each even when stopping another failed."""
        for part in reversed(self.owned):
            try:
                part.stop()
            except Exception as ex:  # noqa: BLE001 - stop the others all the same
                print(f"harness: stopping {type(part).__name__}: {ex}")
        self.owned = []
        for part in (self.api, self.dove, self.redis):
            if part:
                try:
                    part.stop()
                except Exception as ex:  # noqa: BLE001
                    print(f"harness: stopping {type(part).__name__}: {ex}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_all()
        # nothing the test started from its temp dir may outlive it
        left = common.stop_leftovers(self.tmp.path)
        for pid, cmd in left:
            print(f"FAIL: PID {pid} was left running (stopped now): {cmd}")
        log = self.api.log()
        failed = exc[0] is not None and not (exc[0] is SystemExit and not exc[1].code)
        sanitizer = "Sanitizer" in log
        if failed or sanitizer:
            print("---- ims-webapi log (tail) ----")
            print(log[-6000:])
        self.tmp.close()
        if sanitizer:
            print("FAIL: sanitizer report in the ims-webapi log")
            sys.exit(1)
        if left:
            sys.exit(1)

    def cli(self, *args):
        return self.redis.cli(*args)

    def pipe(self, commands):
        """Runs many commands through redis-cli (one per line, quoted args)."""
        import subprocess
        text = "".join(" ".join(_quote(a) for a in c) + "\n" for c in commands)
        r = subprocess.run(self.redis.cli_argv(), input=text,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def add_user(self, addr, role="user", password=PASSWORD):
        r = self.api.request("POST", "/auth/register", {"address": addr, "password": password})
        assert r.status == 201, r
        # tests register many accounts from one IP: keep its sign-up budget free
        self.cli("DEL", "ims:{global}:ratelimit:register:ip:127.0.0.1")
        if role != "user":
            self.cli("HSET", f"ims:{{{addr}}}:user", "role", role)
        return self.api.login(addr, password)

    def store(self, rcpt, sender, subject, raw=None, folder="inbox", t=None, verdict="ham",
              action="accept", score=-1.0, symbols=(("SPF_PASS", -0.5),), quarantine=False):
        """Writes one scanned message the way the milter does; returns its id."""
        t = int(time.time() * 1000) if t is None else t
        sid = ulid(t)
        raw = raw or message(sender, rcpt, subject)
        log = scan_log(sid, t, sender, [rcpt], subject, verdict, action, score, symbols)
        mb = f"ims:{{{rcpt}}}"
        cmds = [
            ["HSET", f"{mb}:msg:{sid}", "raw", raw, "truncated", "0", "size", str(len(raw)),
             "folder", folder, "from", sender, "to", rcpt, "subject", subject,
             "date", "Mon, 23 Nov 2026 06:00:00 +0000", "received", str(t),
             "mail_from", sender, "rcpt", rcpt, "verdict", verdict, "action", action,
             "score", str(score), "scan_id", sid, "seen", "0"],
            ["SET", f"{mb}:scan:{sid}", json.dumps(log)],
            ["ZADD", f"{mb}:{folder}", str(t), sid],
        ]
        cmds += self.global_scan_cmds(log)
        if quarantine:
            # held: the one copy in the quarantine (lib/quarantine.h), no mailbox copy
            cmds = [c for c in cmds if not c[1].startswith(f"{mb}:msg:")
                    and c[1] != f"{mb}:{folder}"]
            cmds += self.hold_cmds(sid, t, raw, sender, [rcpt], subject, score)
        self.pipe(cmds)
        return sid

    def deliver(self, rcpt, sender, subject, raw=None, folder="INBOX", verdict="ham",
                action="accept", score=-1.0, symbols=(("SPF_PASS", -0.5),), scan=True,
                brief=True):
        """Saves one message into rcpt's Dovecot folder as delivery leaves it
        (X-IMS-Scan-Id linking it to its scan log in Redis, written as the
        milter does); returns its web id (mailbox GUID-UID)."""
        t = int(time.time() * 1000)
        sid = ulid(t)
        raw = raw or message(sender, rcpt, subject)
        if isinstance(raw, str):
            raw = raw.encode()
        if scan:
            raw = f"X-IMS-Scan-Id: {sid}\r\n".encode() + raw
            log = scan_log(sid, t, sender, [rcpt], subject, verdict, action, score, symbols)
            cmds = self.global_scan_cmds(log)
            if brief:  # what the milter writes for lists; scans from before it had none
                cmds.append(["SET", f"ims:{{global}}:brief:{sid}", json.dumps(
                    {"verdict": verdict, "action": action, "score": score, "rcpt": [rcpt],
                     "auth": None})])
            self.pipe(cmds)
        r = self.dove.doveadm("save", "-u", rcpt, "-m", folder, input=raw)
        assert r.returncode == 0, r.stderr
        self.last_scan_id = sid
        return self.newest_id(rcpt, folder)

    def newest_id(self, user, folder="INBOX"):
        """The web id of the newest message in a folder (by UID)."""
        r = self.dove.doveadm("-f", "tab", "fetch", "-u", user, "mailbox-guid uid",
                              "mailbox", folder, "*")
        assert r.returncode == 0, r.stderr
        guid, uid = r.stdout.strip().splitlines()[-1].split("\t")
        return f"{guid}-{uid}"

    @staticmethod
    def hold_cmds(sid, t, raw, sender, rcpts, subject, score, hold_class="score"):
        cmds = [["ZADD", "ims:{global}:quarantine", str(t), sid],
                ["SET", f"ims:{{global}}:qraw:{sid}", raw],
                ["HSET", f"ims:{{global}}:qmsg:{sid}", "size", str(len(raw)), "time", str(t),
                 "mail_from", sender, "rcpt", ",".join(rcpts), "queue_id", "QID" + sid[-4:],
                 "reason", f"score {score} >= 8", "class", hold_class, "subject", subject,
                 "from", sender, "score", str(score)],
                ["HSET", "ims:{global}:quarantine:sizes", sid, str(len(raw))],
                ["INCRBY", "ims:{global}:quarantine:bytes", str(len(raw))]]
        cmds += [["ZADD", f"ims:{{{r}}}:quarantine", str(t), sid] for r in rcpts]
        return cmds

    @staticmethod
    def global_scan_cmds(log):
        sid, t = log["id"], str(log["time"])
        hour = time.strftime("%Y%m%d%H", time.gmtime(log["time"] / 1000))
        cmds = [["SET", f"ims:{{global}}:scan:{sid}", json.dumps(log)],
                ["ZADD", "ims:{global}:scans", t, sid],
                ["ZADD", f"ims:{{global}}:idx:action:{log['action']}", t, sid],
                ["ZADD", f"ims:{{global}}:idx:verdict:{log['verdict']}", t, sid],
                ["ZINCRBY", "ims:{global}:top:senders", "1", log["mail_from"]],
                ["XADD", "ims:{global}:events", "*", "type", "scan", "id", sid,
                 "action", log["action"], "score", str(log["score"]), "time", t]]
        fields = ["total", f"action:{log['action']}", f"verdict:{log['verdict']}"]
        for s in log["symbols"]:
            cmds.append(["ZADD", f"ims:{{global}}:idx:symbol:{s['name']}", t, sid])
            fields.append(f"symbol:{s['name']}")
        # the counters as lib/scan_store.c keeps them: the hour's and the
        # day's buckets and the running totals
        for key in (f"ims:{{global}}:stats:{hour}", f"ims:{{global}}:statsd:{hour[:8]}",
                    "ims:{global}:stats:total"):
            cmds += [["HINCRBY", key, f, "1"] for f in fields]
        return cmds


def _quote(a):
    a = str(a)
    return '"' + a.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r") \
        .replace("\n", "\\n") + '"'


def run(cases):
    """Runs the test functions in order; prints one line each; exits 1 on failure."""
    failed = 0
    for case in cases:
        try:
            case()
            print(f"ok   {case.__name__}")
        except SystemExit:
            raise
        except Exception:
            failed += 1
            print(f"FAIL {case.__name__}")
            traceback.print_exc()
    sys.exit(1 if failed else 0)
