#!/usr/bin/python3
"""ims-milter dropping root to [milter] user: when that user could not read
the configuration (or the model, or a DKIM key) again, the daemon refuses to
start and says which file and what to do, instead of starting and failing at
the first reload (SIGUSR1).  Needs root."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from harness import common, milter as hmilter  # noqa: E402


def main():
    if os.geteuid() != 0:
        common.skip("privilege drop needs root")
    tmp = common.TempDir("ims-privdrop-")
    try:
        model = hmilter.make_model(tmp, 1.0)
        os.chmod(model, 0o644)
        conf = tmp.join("ims.conf")
        sock = tmp.join("m.sock")
        with open(conf, "w") as f:
            f.write(f"[log]\ntarget = stderr\n[milter]\nsocket = unix:{sock}\nuser = nobody\n"
                    f"[dns]\nnameservers = 127.0.0.1:9\n[classifier]\nmodel = {model}\n")
        exe = os.path.join(hmilter.builddir(), "milter/ims-milter")

        os.chmod(conf, 0o600)  # root only: nobody could not reload it
        r = subprocess.run([exe, "-f", "-c", conf], capture_output=True, text=True, timeout=30)
        assert r.returncode != 0, r
        assert f"{conf} is not readable by user nobody" in r.stderr, r.stderr
        assert "SIGUSR1" in r.stderr and "0640" in r.stderr, r.stderr
        print("ok   a config only root can read is refused at start")

        os.chmod(conf, 0o644)
        os.chmod(model, 0o600)
        r = subprocess.run([exe, "-f", "-c", conf], capture_output=True, text=True, timeout=30)
        assert r.returncode != 0 and f"{model} is not readable" in r.stderr, r.stderr
        print("ok   a model only root can read is refused at start")

        # the [links] key is read for every rewritten message: 0600 root is
        # refused at start, not found out message by message
        os.chmod(model, 0o644)
        key = tmp.join("links.key")
        with open(key, "wb") as f:
            f.write(os.urandom(32))
        os.chmod(key, 0o600)
        with open(conf, "a") as f:
            f.write(f"[links]\nclick_url = https://m.example.test/click\nkey_file = {key}\n")
        r = subprocess.run([exe, "-f", "-c", conf], capture_output=True, text=True, timeout=30)
        assert r.returncode != 0 and f"{key} is not readable" in r.stderr, r.stderr
        print("ok   a link key only root can read is refused at start")
        with open(conf, "w") as f:
            f.write(f"[log]\ntarget = stderr\n[milter]\nsocket = unix:{sock}\nuser = nobody\n"
                    f"[dns]\nnameservers = 127.0.0.1:9\n[classifier]\nmodel = {model}\n")

        # a listen address in use is an error: a second milter on the same
        # unix socket must not take it over (libmilter removes the file)
        os.chmod(model, 0o644)
        first = subprocess.Popen([exe, "-f", "-c", conf], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            common.wait_unix_socket(sock)
            ino = os.stat(sock).st_ino
            r = subprocess.run([exe, "-f", "-c", conf], capture_output=True, text=True,
                               timeout=30)
            assert r.returncode != 0 and "in use" in r.stderr, r
            assert os.stat(sock).st_ino == ino, "the second milter replaced the socket"
        finally:
            common.stop_pid(first.pid)
        # a stale socket file (its process gone) is taken over
        r = subprocess.Popen([exe, "-f", "-c", conf], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            common.wait_unix_socket(sock)
        finally:
            common.stop_pid(r.pid)
        print("ok   a unix socket in use is refused; a stale one is reused")
    finally:
        tmp.close()


if __name__ == "__main__":
    main()
