#!/usr/bin/python3
"""ims-milter as a daemon: forks, writes its pid file, listens on a unix
socket, drops privileges to [milter] user, uses a model file replaced by
rename without a signal, reloads on SIGUSR1, finishes a message in flight on
SIGUSR2 (drain and stop), removes its pid file; SIGTERM (libmilter's own
handling) stops it too.  Needs root (privilege drop); exits 77 otherwise."""
import json
import grp
import os
import pwd
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from harness import common, milter as hmilter  # noqa: E402
from harness.redis import server as redis_server  # noqa: E402

HERE = os.path.join(os.environ.get("top_srcdir", "."), "tests", "milter")


def miltertest(script, sock, **env):
    e = dict(os.environ, IMS_MILTER_SOCKET=sock, IMS_MT_DIR=HERE, **env)
    r = subprocess.run(["miltertest", "-s", os.path.join(HERE, script)], env=e,
                       capture_output=True, text=True, timeout=120)
    print(f"--- {script}: rc={r.returncode}\n{r.stdout}{r.stderr}", end="")
    if r.returncode != 0:
        raise SystemExit(f"FAIL {script}")


def model_version(path):
    r = subprocess.run([os.path.join(hmilter.builddir(), "cli", "ims"), "--model", path, "model",
                        "info"], capture_output=True, text=True, check=True)
    for line in r.stdout.splitlines():
        if line.startswith("version:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(r.stdout)


def last_scan_model(redis):
    last = redis.cli("ZREVRANGE", "ims:{global}:scans", "0", "0").strip()
    return json.loads(redis.cli("GET", f"ims:{{global}}:scan:{last}"))["model_version"]


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def main():
    if os.geteuid() != 0:
        common.skip("privilege drop needs root")
    common.require("miltertest", "redis-server")
    tmp = common.TempDir("ims-daemon-")
    redis = None
    pid = None
    try:
        redis = redis_server(tmp).start()
        # the Redis password: 0640 root:nogroup, read again by a reload as nobody
        os.chown(redis.password_file, 0, grp.getgrnam("nogroup").gr_gid)
        os.chmod(redis.password_file, 0o640)
        model = hmilter.make_model(tmp, 1.0)
        sockdir = tmp.join("run")
        os.makedirs(sockdir)
        os.chmod(sockdir, 0o777)
        sockpath = os.path.join(sockdir, "ims-milter.sock")
        pidfile = os.path.join(sockdir, "ims-milter.pid")
        conf = tmp.join("ims.conf")
        with open(conf, "w") as f:
            f.write(f"[log]\ntarget = stderr\n\n"
                    f"[milter]\nsocket = unix:{sockpath}\nuser = nobody\npidfile = {pidfile}\n"
                    # accept.lua's recipients have no account (as harness.milter does)
                    f"local_domains = example.test\nreject_unknown_recipients = no\n\n"
                    f"[dns]\nnameservers = 127.0.0.1:9\n\n"
                    f"{redis.conf_section()}\n[classifier]\nmodel = {model}\n")
        exe = os.path.join(hmilter.builddir(), "milter/ims-milter")
        r = subprocess.run([exe, "-c", conf], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r
        common.wait_file(pidfile)
        with open(pidfile) as f:
            pid = int(f.read())
        assert alive(pid), "daemon not running"
        deadline = time.time() + 10  # the pid file is written before the drop
        while True:
            with open(f"/proc/{pid}/status") as f:
                uid = [l.split()[1] for l in f if l.startswith("Uid:")][0]
            if int(uid) != 0 or time.time() > deadline:
                break
            time.sleep(0.1)
        assert int(uid) == pwd.getpwnam("nobody").pw_uid, f"runs as uid {uid}"
        assert os.stat(sockpath).st_uid == pwd.getpwnam("nobody").pw_uid, "socket owner"
        sock = f"unix:{sockpath}"
        miltertest("accept.lua", sock)

        # a model replaced by rename (as `ims retrain` installs one) is used
        # without a signal, after at most 2 s (lib/engine.h)
        newer = hmilter.make_model(tmp, 2.0, name="model-new.ims")
        os.chmod(newer, 0o644)
        version = model_version(newer)
        os.rename(newer, model)
        time.sleep(2.3)
        # the same message again would be a retry, recorded once
        # (docs/milter.md): this one must be stored as a new scan
        for k in redis.cli("--scan", "--pattern", "ims:{global}:seen:*").split():
            redis.cli("DEL", k)
        miltertest("accept.lua", sock)
        used = last_scan_model(redis)
        assert used == version, f"the milter scanned with {used}, not the new model {version}"

        os.kill(pid, signal.SIGUSR1)  # reload, keep running
        time.sleep(1)
        assert alive(pid), "SIGUSR1 stopped the daemon"
        miltertest("accept.lua", sock)

        miltertest("inflight.lua", sock, IMS_MILTER_PID=str(pid))
        deadline = time.time() + 20
        while time.time() < deadline and alive(pid):
            time.sleep(0.1)
        assert not alive(pid), "still running after SIGUSR2"
        assert not os.path.exists(pidfile), "pid file left behind"
        pid = None

        # SIGTERM: libmilter's signal thread stops the filter
        r = subprocess.run([exe, "-c", conf], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r
        common.wait_file(pidfile)
        with open(pidfile) as f:
            pid = int(f.read())
        miltertest("accept.lua", sock)
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 20
        while time.time() < deadline and alive(pid):
            time.sleep(0.1)
        assert not alive(pid), "still running after SIGTERM"
        pid = None
    finally:
        if pid and alive(pid):
            common.stop_pid(pid)
        if redis:
            redis.stop()
        tmp.close()
    print("PASS: daemon, pid file, privilege drop, SIGUSR1 reload, SIGUSR2 finishes in flight, SIGTERM stops")


if __name__ == "__main__":
    main()
