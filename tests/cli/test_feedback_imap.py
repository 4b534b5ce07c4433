#!/usr/bin/python3
"""Learning from what users do, with the real parts: a private Dovecot runs
the shipped IMAPSieve config (mta-config/dovecot/20-ims-imapsieve.conf, its
Sieve scripts and the ims-feedback wrapper) against a real redis-server,
and Python's imaplib moves messages.  A move into Junk records spam once per
message and user; moving the same message again adds nothing; a move out
of Junk records ham (replacing the user's spam entry), a move to Trash
nothing; the size, per-user and hourly-rate bounds hold; and `ims train
--feedback` learns from what was recorded."""
import imaplib
import os
import subprocess
import sys
import time

from harness import common, redis
from harness.dovecot import Dovecot

common.integration("redis-server", "redis-cli", "dovecot", "sievec")
IMS = os.path.join(common.builddir(), "cli", "ims")
FIX = os.path.join(common.srcdir(), "tests", "data", "mime", "train")
STREAM = "ims:{global}:feedback"
SCAN_ID = "01JD3M8Q5Z7X1V9K2C4B6N8P0R"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def message(subject, body="Hello there.\r\n", scan_id=None):
    head = f"From: Bob <bob@sender.example>\r\nTo: x@example.test\r\nSubject: {subject}\r\n"
    if scan_id:
        head += f"X-IMS-Scan-Id: {scan_id}\r\n"
    return (head + "\r\n" + body).encode()


class Mailbox:
    def __init__(self, port, user, password):
        self.m = imaplib.IMAP4("127.0.0.1", port)
        self.m.login(user, password)
        for box in ("Junk", "Trash"):
            self.m.create(box)

    def append(self, box, raw):
        typ, data = self.m.append(box, None, None, raw)
        assert typ == "OK", data
        # APPENDUID: [b'[APPENDUID <validity> <uid>] ...']
        return data[0].decode().split()[2].rstrip("]")

    def move(self, uid, src, dst):
        self.m.select(src)
        typ, data = self.m.uid("MOVE", uid, dst)
        assert typ == "OK", data
        # COPYUID <validity> <src uids> <dst uids>
        for line in self.m.untagged_responses.pop("OK", []) + data:
            text = line.decode() if isinstance(line, bytes) else str(line)
            if "COPYUID" in text:
                return text.split("COPYUID", 1)[1].split()[2].rstrip("]")
        return None

    def close(self):
        self.m.logout()


# every entry's fields but raw, one line each, "k=v" separated by tabs
ENTRIES_LUA = r"""
local out = {}
for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
  local parts = {}
  for j = 1, #e[2], 2 do
    if e[2][j] == 'raw' then
      parts[#parts + 1] = 'raw_len=' .. string.len(e[2][j + 1])
    else
      parts[#parts + 1] = e[2][j] .. '=' .. e[2][j + 1]
    end
  end
  out[#out + 1] = table.concat(parts, '\t')
end
return table.concat(out, '\n')
"""


def entries(r):
    """The stream as a list of dicts (raw replaced by raw_len)."""
    text = r.cli("EVAL", ENTRIES_LUA, "1", STREAM).strip()
    if text.startswith("ERR") or "=" not in text.split("\n")[0] and text:
        raise RuntimeError(text)
    return [dict(kv.split("=", 1) for kv in line.split("\t")) for line in text.splitlines()]


def wait_len(r, n, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if int(r.cli("XLEN", STREAM).strip() or 0) == n:
            return True
        time.sleep(0.05)
    return False


def main():
    if os.geteuid() != 0:
        common.skip("a private Dovecot needs root here (setuid to the mail uid)")
    tmp = common.TempDir()
    # no passwords: the IMAPSieve wrapper runs `ims` as the mail user, which
    # would need its own copy of one (contrib/ims-stack.py does that)
    r = redis.server(tmp, auth=False).start()
    dove = None
    try:
        conf = tmp.join("ims.conf")
        with open(conf, "w") as f:
            f.write(r.conf_section())
            f.write(f"[milter]\nlocal_domains = example.test\n"
                    f"[users]\nmail_home = {tmp.join('mail', '%d', '%n')}\n")
        # what the wrapper reads: the shipped feedback.conf, with this Redis,
        # log lines kept (stderr: Dovecot's log) and small bounds
        with open(os.path.join(common.srcdir(), "mta-config", "dovecot", "feedback.conf")) as f:
            fconf_text = f.read()
        # ([redis] as the test's: one server or the cluster's seed nodes)
        for old, new in (("[redis]\nhost = 127.0.0.1\nport = 6379\n", r.conf_section()),
                         ("target = syslog", "target = stderr"),
                         ("max_message_size = 256k", "max_message_size = 1k"),
                         ("max_per_user = 5000", "max_per_user = 3"),
                         ("rate_per_hour = 200", "rate_per_hour = 4")):
            assert old in fconf_text, old
            fconf_text = fconf_text.replace(old, new)
        fconf = tmp.join("feedback.conf")
        with open(fconf, "w") as f:
            f.write(fconf_text)
        os.chmod(fconf, 0o644)
        users = {"alice@example.test": "alice password 1", "bob@example.test": "bob password 12"}
        for u, pw in users.items():
            p = subprocess.run([IMS, "-c", conf, "user", "add", u], input=pw + "\n",
                               capture_output=True, text=True)
            assert p.returncode == 0, p.stderr
        dove = Dovecot(tmp, r, tmp.join("mail"), feedback=(IMS, fconf)).start()
        a = Mailbox(dove.imap_port, "alice@example.test", users["alice@example.test"])

        uid = a.append("INBOX", message("with a scan id", scan_id=SCAN_ID))
        junk_uid = a.move(uid, "INBOX", "Junk")
        ok = wait_len(r, 1)
        e = entries(r)
        check(ok and len(e) == 1 and e[0]["label"] == "spam" and e[0]["id"] == SCAN_ID
              and e[0]["user"] == "alice@example.test",
              f"a move to Junk over IMAP adds one spam entry keyed by X-IMS-Scan-Id ({e}) "
              f"{dove.read_log()[-1500:] if not ok else ''}")

        # the same message again (a second copy moved in): nothing new
        uid2 = a.append("INBOX", message("with a scan id", scan_id=SCAN_ID))
        a.move(uid2, "INBOX", "Junk")
        time.sleep(0.5)
        e = entries(r)
        check(len(e) == 1, f"a second move of the same message adds none ({len(e)} entries)")

        # out of Junk: ham, replacing the spam entry (one entry per message and user)
        a.move(junk_uid, "Junk", "INBOX")
        deadline = time.time() + 10
        while time.time() < deadline and entries(r)[0]["label"] != "ham":
            time.sleep(0.05)
        e = entries(r)
        check(len(e) == 1 and e[0]["label"] == "ham" and e[0]["id"] == SCAN_ID,
              f"a move out of Junk records ham, replacing the user's spam entry ({e})")

        # Junk -> Trash says nothing: the second copy is still in Junk
        a.m.select("Junk")
        typ, data = a.m.uid("SEARCH", "ALL")
        for u in data[0].split():
            a.move(u.decode(), "Junk", "Trash")
        time.sleep(0.5)
        e = entries(r)
        check(len(e) == 1 and e[0]["label"] == "ham", f"a move from Junk to Trash records nothing ({e})")

        # no scan id: keyed by SHA-256; larger than max_message_size: cut, marked
        uid = a.append("INBOX", message("no scan id"))
        a.move(uid, "INBOX", "Junk")
        big = message("big one", body="lorem ipsum dolor sit amet\r\n" * 200)
        uid = a.append("INBOX", big)
        a.move(uid, "INBOX", "Junk")
        ok = wait_len(r, 3)
        e = entries(r)
        check(ok and e[1]["id"].startswith("sha256:") and e[1]["label"] == "spam",
              f"a message without X-IMS-Scan-Id is keyed by its SHA-256 ({e[1:]})")
        raw_len = int(e[2]["raw_len"]) if ok else -1
        check(ok and e[2]["truncated"] == "1" and e[2]["size"] == str(len(big)) and raw_len == 1024,
              f"a message over max_message_size is kept cut to 1k and marked "
              f"(size {e[2].get('size')}, kept {raw_len}, truncated {e[2].get('truncated')})")

        # alice has 3 messages (max_per_user): a fourth one is refused
        uid = a.append("INBOX", message("fourth"))
        a.move(uid, "INBOX", "Junk")
        time.sleep(0.5)
        check(len(entries(r)) == 3, "the per-user bound refuses a 4th message (max_per_user = 3)")
        check("event=feedback_refused user=alice@example.test" in dove.read_log()
              and "reason=user_full" in dove.read_log(), "the refusal is logged")
        a.close()

        # bob changes his mind about one message over and over: the 5th record
        # in the hour is refused (rate_per_hour = 4), and the stream never holds
        # more than one entry for it
        b = Mailbox(dove.imap_port, "bob@example.test", users["bob@example.test"])
        uid = b.append("INBOX", message("bob's", scan_id="01JD3M8Q5Z7X1V9K2C4B6N8P0S"))
        labels = []
        box = "INBOX"
        for i in range(5):
            dst = "Junk" if box == "INBOX" else "INBOX"
            uid = b.move(uid, box, dst)
            box = dst
            time.sleep(0.3)
            bobs = [x for x in entries(r) if x["user"] == "bob@example.test"]
            labels.append(bobs[0]["label"] if len(bobs) == 1 else f"{len(bobs)} entries")
        b.close()
        check(labels == ["spam", "ham", "spam", "ham", "ham"],
              f"one entry per message; the 5th change in an hour is refused ({labels})")
        check(r.cli("GET", "ims:{global}:feedback:rate:bob@example.test").strip() == "5",
              "the hourly counter of bob counts the attempts")

        # ims train --feedback learns from the recorded entries
        p = subprocess.run([IMS, "-c", conf, "train", "--folds", "3", "--hash-bits", "16",
                            "--ham", os.path.join(FIX, "ham"), "--spam", os.path.join(FIX, "spam"),
                            "--feedback", "-o", tmp.join("m.ims")], capture_output=True, text=True)
        check(p.returncode == 0 and "feedback: 4 reports, 2 ham + 2 spam messages" in p.stderr,
              f"ims train --feedback reads the new entries ({p.stderr.strip()[-300:]})")
    finally:
        if dove:
            dove.stop()
        r.stop()
        tmp.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
