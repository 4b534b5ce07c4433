#!/usr/bin/python3
"""Configured limits of ims-webapi against a real redis-server: registration
turned off, the connection limit, the idle timeout, and the send rate limit
(429 with Retry-After, per user)."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixtures import Env, PASSWORD, run  # noqa: E402
sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from harness.smtpsink import SmtpSink  # noqa: E402

env = sink = None
METRICS_TOKEN = "metrics-" + os.urandom(16).hex()


def test_registration_off():
    r = env.api.request("POST", "/auth/register", {"address": "new@example.test",
                                                   "password": PASSWORD})
    assert r.status == 403 and "turned off" in r.json()["error"], r
    assert env.cli("EXISTS", "ims:{new@example.test}:passdb").strip() == "0"


def test_connection_limit():
    """max_connections = 6: of 10 connections open at once, 6 are served;
    the others wait unaccepted until a slot frees."""
    held = [socket.create_connection(("127.0.0.1", env.api.port)) for _ in range(10)]
    for s in held:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.8)  # less than the idle timeout, which would free slots
    answered = 0
    for s in held:
        s.settimeout(0.05)
        try:
            if s.recv(100).startswith(b"HTTP/1.1 200"):
                answered += 1
        except OSError:
            pass
    for s in held:
        s.close()
    assert answered == 6, answered
    time.sleep(0.3)
    assert env.api.request("GET", "/health").status == 200


def test_idle_timeout():
    s = socket.create_connection(("127.0.0.1", env.api.port))
    s.settimeout(10)
    t0 = time.time()
    data = s.recv(100)  # the server closes an idle connection after timeout_s = 2
    s.close()
    assert data == b"" and 1.5 < time.time() - t0 < 8, (data, time.time() - t0)


def test_send_rate():
    # no registration: make the account the way an operator would
    import subprocess
    from harness.webapi import find_binary
    ims = find_binary("ims", "cli")
    p = subprocess.run([ims, "-c", env.api.conf, "user", "add", "sender@example.test"],
                       input=PASSWORD + "\n", capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    t = env.api.login("sender@example.test", PASSWORD)["access_token"]
    codes = [env.api.request("POST", "/emails/send", {"to": "x@example.org", "text": "hi"},
                             token=t) for _ in range(4)]
    assert [c.status for c in codes] == [202, 202, 202, 429], codes
    assert 0 < int(codes[-1].headers["Retry-After"]) <= 60
    assert len(sink.messages) == 3


def test_port_in_use():
    """A second ims-webapi on the same address must fail to start, not share the
    port with the first (SO_REUSEPORT would let the kernel split connections)."""
    import subprocess
    from harness.webapi import find_binary
    p = subprocess.run([find_binary("ims-webapi", "webapi"), "-c", env.api.conf],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode != 0, p
    assert "cannot listen" in p.stderr and "in use" in p.stderr, p.stderr
    assert env.api.request("GET", "/health").status == 200


def test_notify_ready():
    """Under systemd (Type=notify) ims-webapi says READY=1 once it listens and
    STOPPING=1 when it drains: the readiness is exact, not a guess."""
    from harness.webapi import WebAPI
    from harness import common
    path = os.path.join(env.tmp.path, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(20)
    second = WebAPI(env.tmp, env.redis)
    second.write_conf()
    import subprocess
    from harness.webapi import find_binary
    p = subprocess.Popen([find_binary("ims-webapi", "webapi"), "-c", second.conf],
                         env=dict(os.environ, NOTIFY_SOCKET=path),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        msg = sock.recv(4096)
        assert b"READY=1" in msg, msg
        # ready means listening: a request is answered at once
        assert second.request("GET", "/health").status == 200
        p.terminate()
        assert b"STOPPING=1" in sock.recv(4096)
        assert p.wait(20) == 0
    finally:
        if p.poll() is None:
            common.stop_pid(p.pid)
        sock.close()


def test_scan_rate():
    """POST /scan-email runs the whole scan (a CPU sink, and an oracle to tune
    spam against): limited per user like send."""
    t = env.api.login("sender@example.test", PASSWORD)["access_token"]
    raw = b"From: a@example.org\r\nSubject: x\r\n\r\nhello\r\n"
    codes = [env.api.request("POST", "/scan-email", raw=raw, token=t,
                             headers={"Content-Type": "message/rfc822"}) for _ in range(3)]
    assert [c.status == 429 for c in codes] == [False, False, True], codes
    assert 0 < int(codes[-1].headers["Retry-After"]) <= 60


def test_metrics_token():
    """[webapi] metrics_token_file set: /metrics wants that bearer token."""
    assert env.api.request("GET", "/metrics").status == 401
    assert env.api.request("GET", "/metrics", token="wrong" * 8).status == 401
    assert env.api.request("GET", "/metrics", token=METRICS_TOKEN[:-1]).status == 401
    r = env.api.request("GET", "/metrics", token=METRICS_TOKEN)
    assert r.status == 200 and "ims_scans_total" in r.body.decode(), r
    assert env.api.request("GET", "/health").status == 200  # still open


def main():
    global env, sink
    import tempfile
    tokf = tempfile.NamedTemporaryFile("w", prefix="ims-metrics-", delete=False)
    tokf.write(METRICS_TOKEN + "\n")
    tokf.close()
    os.chmod(tokf.name, 0o600)
    sink = SmtpSink().start()
    try:
        with Env(extra={"webapi.registration": "no", "webapi.max_connections": "6",
                        "webapi.timeout_s": "2", "webapi.send_rate": "3", "webapi.scan_rate": "2",
                        "webapi.metrics_token_file": tokf.name,
                        "webapi.submission": sink.url()}) as e:
            env = e
            run([test_registration_off, test_connection_limit, test_idle_timeout,
                 test_send_rate, test_scan_rate,
                 test_metrics_token, test_port_in_use, test_notify_ready])
    finally:
        sink.stop()
        os.unlink(tokf.name)


if __name__ == "__main__":
    main()
