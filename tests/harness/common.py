"""Shared helpers: free ports, private temp dirs, waiting, stopping by PID."""
import os
import stat
import shutil
import signal
import socket
import subprocess
import tempfile
import time


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_udp_tcp_port():
    """A port free for both UDP and TCP on 127.0.0.1 (for DNS)."""
    for _ in range(50):
        port = free_port()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free UDP+TCP port")


def wait_port(port, host="127.0.0.1", timeout=15.0):
    """Wait until something accepts TCP connections on host:port."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


def wait_unix_socket(path, timeout=15.0):
    """Waits until something accepts connections on the unix socket path."""
    import socket
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(1)
                s.connect(path)
                return True
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {path} after {timeout}s")


def wait_file(path, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return True
        time.sleep(0.05)
    raise TimeoutError(f"{path} did not appear after {timeout}s")


def wait_socket(path, timeout=15.0):
    """Waits until a unix socket exists at path."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if stat.S_ISSOCK(os.stat(path).st_mode):
                return True
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"socket {path} did not appear after {timeout}s")


def stop_pid(pid, timeout=10.0):
    """SIGTERM, wait, then SIGKILL. Only ever the PID we started."""
    if not pid:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                return
        except ChildProcessError:
            # not our child: poll for existence
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


class TempDir:
    """A private directory under /tmp, removed at close unless IMS_KEEP_TMP is set."""

    def __init__(self, prefix="ims-test-"):
        self.path = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.path, 0o755)

    def join(self, *parts):
        return os.path.join(self.path, *parts)

    def close(self):
        """Stops what still runs from this directory (a harness bug: every
        part should have been stopped by its owner), then removes it."""
        for pid, cmd in stop_leftovers(self.path):
            print(f"harness: stopped PID {pid} left running from {self.path}: {cmd}")
        if os.environ.get("IMS_KEEP_TMP"):
            print(f"kept {self.path}")
            return
        shutil.rmtree(self.path, ignore_errors=True)


def leftovers(path):
    """(pid, command line) of the processes whose command line names path:
    the servers a test started from its private temp dir."""
    found = []
    needle = path.encode()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if needle + b"/" in cmd or needle + b"\0" in cmd:
            found.append((int(d), cmd.replace(b"\0", b" ").decode(errors="replace").strip()))
    return found


def stop_leftovers(path):
    """Stops (by PID) what leftovers(path) finds; returns what it stopped."""
    found = leftovers(path)
    for pid, _ in found:
        stop_pid(pid)
    return found


def run(cmd, **kw):
    """subprocess.run with check and captured text output."""
    kw.setdefault("check", True)
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(cmd, **kw)


def skip(reason):
    """Exit with automake's SKIP code."""
    print(f"SKIP: {reason}")
    raise SystemExit(77)


def integration(*programs):
    """Call first in every integration test: skips under `make distcheck`
    (IMS_UNIT_ONLY), when not root (Postfix and Dovecot need it), or when a
    program is missing."""
    if os.environ.get("IMS_UNIT_ONLY"):
        skip("integration tests are off (IMS_UNIT_ONLY)")
    if os.geteuid() != 0:
        skip("integration tests need root (private Postfix/Dovecot instances)")
    require(*programs)


def builddir():
    """The build tree (make check sets top_builddir)."""
    return os.environ.get("top_builddir") or os.getcwd()


def srcdir():
    return os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))


def require(*programs):
    """Skips unless every program is there; every test that needs servers
    calls it (or integration()), so `make distcheck` (IMS_UNIT_ONLY) skips
    them all, both backends."""
    if os.environ.get("IMS_UNIT_ONLY"):
        skip("integration tests are off (IMS_UNIT_ONLY)")
    for p in programs:
        if not shutil.which(p) and not os.path.exists(p):
            skip(f"{p} not installed")


class CaseSkipped(Exception):
    """Raised by an end-to-end case that cannot run here (reported SKIP)."""


def run_cases(e, title, prefix, setup, cases, parts, report=None):
    """The frame of the end-to-end tests that share one set of servers: a
    TempDir (e.tmp), setup(e) starts the servers as attributes of e named in
    parts (in stop order; each starts as None), then every case fn(e) runs
    and is reported PASS, SKIP (CaseSkipped) or FAIL with its traceback (a
    case's name: fn.case_name, else fn.__name__).  ims-milter's exit status
    (e.milter) counts as a failure when it is not 0 (a sanitizer report).
    The servers are stopped by PID in the order of parts, also when setup
    or a case failed; after a failure the milter's and the web API's log
    tails are printed.  report(e), when given, prints more at the end.
    Exits 1 when anything failed."""
    import glob
    import sys
    import traceback

    e.tmp = TempDir(prefix)
    for p in parts:
        setattr(e, p, None)
    failed = []
    try:
        setup(e)
        for fn in cases:
            name = getattr(fn, "case_name", fn.__name__)
            try:
                fn(e)
                print(f"PASS {name}", flush=True)
            except CaseSkipped as ex:
                print(f"SKIP {name}: {ex}", flush=True)
            except Exception:  # noqa: BLE001 - report every case
                print(f"FAIL {name}\n   " + traceback.format_exc().replace("\n", "\n   "),
                      flush=True)
                failed.append(name)
        if getattr(e, "milter", None):
            rc = e.milter.stop()
            e.milter = None
            if rc != 0:
                failed.append(f"ims-milter exit status {rc}")
    except Exception:  # noqa: BLE001 - a setup failure is a failure, then tear down
        print("FAIL setup\n   " + traceback.format_exc().replace("\n", "\n   "), flush=True)
        failed.append("setup")
    finally:
        for p in parts:
            part = getattr(e, p, None)
            if part:
                try:
                    part.stop()
                except Exception:  # noqa: BLE001 - stop the others all the same
                    pass
        if report:
            report(e)
        if failed:
            for path in glob.glob(e.tmp.join("ims-milter-*.log")):
                with open(path, errors="replace") as f:
                    print("==> milter log tail\n" + f.read()[-4000:])
            api = getattr(e, "api", None)
            if api and hasattr(api, "log"):
                print("==> webapi log tail\n" + api.log()[-3000:])
        e.tmp.close()
    if failed:
        print("FAILED: " + "; ".join(failed))
        sys.exit(1)
    print(f"PASS: {title}")
