#!/usr/bin/python3
"""Redis authentication ([redis] user and password_file) on a real
redis-server that asks for a password (ACL users, tests/harness/redis.py
auth=True): the ims command and ims-webapi without the password are refused
with an error that says what to set; with a wrong one, or a password file
others can read, they say so; with the right one they work."""
import os
import subprocess
import sys

from harness import common, redis
from harness.webapi import WebAPI

common.integration("redis-server", "redis-cli")
IMS = os.path.join(common.builddir(), "cli", "ims")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def ims(tmp, section, *args, stdin=None):
    conf = tmp.join("ims.conf")
    with open(conf, "w") as f:
        f.write(section)
    r = subprocess.run([IMS, "-c", conf, *args], capture_output=True, text=True, input=stdin)
    return r.returncode, r.stdout + r.stderr


def main():
    tmp = common.TempDir()
    r = redis.Redis(tmp, auth=True).start()
    api = None
    try:
        st = os.stat(r.dir)
        check(st.st_mode & 0o777 == 0o700, f"data directory 0700 ({oct(st.st_mode)})")
        for name in os.listdir(r.dir):
            p = os.path.join(r.dir, name)
            if os.path.isfile(p):
                m = os.stat(p).st_mode & 0o777
                check(m & 0o077 == 0, f"{name} readable by its owner only ({oct(m)})")
        plain = f"[redis]\nhost = 127.0.0.1\nport = {r.port}\n"
        rc, out = ims(tmp, plain, "user", "list")
        check(rc != 0 and "requires authentication" in out and "password_file" in out,
              f"no password: refused, says what to set ({out.strip()})")
        bad = tmp.join("bad.password")
        with open(os.open(bad, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("not-the-password\n")
        rc, out = ims(tmp, plain + f"user = ims\npassword_file = {bad}\n", "user", "list")
        check(rc != 0 and 'refused AUTH as user "ims"' in out,
              f"wrong password: refused ({out.strip()})")
        os.chmod(r.password_file, 0o644)
        rc, out = ims(tmp, r.conf_section(), "user", "list")
        check(rc != 0 and r.password_file in out, f"password file others can read ({out.strip()})")
        os.chmod(r.password_file, 0o600)
        rc, out = ims(tmp, r.conf_section() + f"password = {r.password}\n", "user", "list")
        check(rc != 0 and "keep one" in out, f"password and password_file ({out.strip()})")
        rc, out = ims(tmp, r.conf_section(), "user", "list")
        check(rc == 0, f"with user and password_file: works ({out.strip()})")
        # nobody in without a password
        out = subprocess.run(["redis-cli", "-p", str(r.port), "GET", "x"], capture_output=True,
                             text=True).stdout
        check("NOAUTH" in out, f"redis-cli without a password: refused ({out.strip()})")
        # what the programs write in MULTI/EXEC survives a restart (Redis 7.0
        # replays the AOF's transactions with the default user's rights: a
        # default user restricted to a few keys lost them all)
        users = r.conf_section() + "[milter]\nlocal_domains = example.test\n"
        rc, out = ims(tmp, users, "user", "add", "a@example.test",
                      stdin="correct horse battery\n")
        check(rc == 0, f"ims user add ({out.strip()})")
        rc, out = ims(tmp, r.conf_section(), "user", "list")
        before = out
        r.stop()
        r.start()
        rc, out = ims(tmp, r.conf_section(), "user", "list")
        check(rc == 0 and "a@example.test" in out and out == before,
              f"accounts kept across a restart ({out.strip()})")
        check(r.cli("EXISTS", "ims:{a@example.test}:passdb").strip() == "1",
              "passdb kept across a restart")
        # ims-webapi: the same settings, the same refusal
        api = WebAPI(tmp, r).start()
        resp = api.request("GET", "/health")
        check(resp.status == 200 and resp.json()["redis"] == "ok", f"webapi with auth ({resp})")
    finally:
        if api:
            api.stop()
        r.stop()
        tmp.close()
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
