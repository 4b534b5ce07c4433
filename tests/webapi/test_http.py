#!/usr/bin/python3
"""HTTP framing and connection abuse against the real ims-webapi, over raw
sockets: ambiguous message framing (Content-Length with Transfer-Encoding,
two Content-Length values) and NUL bytes in the URL are refused with 400 and
a closed connection; slow clients from one address (slowloris) can hold at
most [webapi] max_connections_per_ip connections, each for at most
head_timeout_s, and never keep another client out."""
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixtures import Env, run  # noqa: E402

env = None
PER_IP = 4
HEAD_TIMEOUT = 2
IDLE = 1  # [webapi] timeout_s


def exchange(data, source="127.0.0.1", timeout=5):
    """Sends data on one connection and reads until the server closes it (or
    timeout); returns every byte the server sent."""
    s = socket.create_connection(("127.0.0.1", env.api.port), timeout=timeout,
                                 source_address=(source, 0))
    s.sendall(data)
    out = b""
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except socket.timeout:
        pass
    s.close()
    return out


def statuses(raw):
    """The status codes of every response in raw (bodies do not end in CRLF)."""
    return re.findall(rb"HTTP/1\.1 (\d{3}) ", raw)


def test_content_length_with_transfer_encoding():
    """A body framed two ways is the start of request smuggling: one 400, the
    connection closed, and the smuggled request never answered."""
    smuggled = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    body = b"0\r\n\r\n" + smuggled
    raw = exchange(b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % len(body) + body)
    assert statuses(raw) == [b"400"], raw
    raw = exchange(b"POST /auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                   b"Content-Length: 5\r\n\r\n0\r\n\r\n" + smuggled)
    assert statuses(raw) == [b"400"], raw


def test_two_content_lengths():
    for cls in ((b"5", b"40"), (b"40", b"5"), (b"5, 40",), (b"+5",)):
        head = b"".join(b"Content-Length: %s\r\n" % c for c in cls)
        raw = exchange(b"POST /auth/login HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n"
                       + b"{}   " + b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        # (libmicrohttpd refuses "5, 40" itself, and writes its 400 head twice)
        assert statuses(raw) and set(statuses(raw)) == {b"400"}, (cls, raw)
    # one length, said twice the same way, is still one length
    raw = exchange(b"POST /auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                   b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}")
    assert statuses(raw) == [b"400"] and b"address" in raw, raw


def test_nul_in_url():
    assert statuses(exchange(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) \
        == [b"200"]
    for url in (b"/health%00junk", b"/emails/01ABC%00junk", b"/health?x=%00", b"/ui/%00.html"):
        raw = exchange(b"GET " + url + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert statuses(raw) == [b"400"], (url, raw)
        assert b"NUL" in raw, raw


def test_slowloris():
    """PER_IP + 4 connections from 127.0.0.2 that send a request head one
    byte at a time: at most PER_IP are held, none past HEAD_TIMEOUT (+1 s
    for the check), and a client on 127.0.0.1 is answered at once all along."""
    slow = []
    for _ in range(PER_IP + 4):
        s = socket.create_connection(("127.0.0.1", env.api.port), timeout=1,
                                     source_address=("127.0.0.2", 0))
        slow.append(s)
    t0 = time.time()
    head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
    i = 0
    open_at_end = None
    while time.time() - t0 < HEAD_TIMEOUT + 1.5:
        alive = []
        for s in slow:
            try:
                s.send(head[i % len(head):i % len(head) + 1])
                alive.append(s)
            except OSError:
                s.close()
        slow = alive
        i += 1
        t = time.time()
        r = env.api.request("GET", "/health")
        assert r.status == 200 and time.time() - t < 1.0, (r, time.time() - t)
        time.sleep(0.1)
        if open_at_end is None and time.time() - t0 > 1:
            open_at_end = len(slow)
    # the server refused the ones over the limit at once ...
    assert open_at_end is not None and open_at_end <= PER_IP, open_at_end
    # ... and closed the rest on time
    for s in slow:
        s.settimeout(1.0)
        try:
            assert s.recv(100) == b""
        except (ConnectionResetError, BrokenPipeError):
            pass
        s.close()
    assert "event=head_timeout" in env.api.log(), env.api.log()[-2000:]


def test_keepalive_trickle():
    """After a request, a kept-alive connection that trickles its next head is
    cut at timeout_s + head_timeout_s; a silent one is closed by the idle
    timeout, without a head_timeout line."""
    for source, trickle in (("127.0.0.3", True), ("127.0.0.4", False)):
        s = socket.create_connection(("127.0.0.1", env.api.port), timeout=1,
                                     source_address=(source, 0))
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        t0 = time.time()
        closed = None
        while time.time() - t0 < IDLE + HEAD_TIMEOUT + 2 and closed is None:
            try:
                if trickle:
                    s.send(b"G" if time.time() - t0 < 0.1 else b"x")
                s.settimeout(0.2)
                if s.recv(100) == b"":
                    closed = time.time() - t0
            except socket.timeout:
                pass
            except OSError:
                closed = time.time() - t0
        s.close()
        limit = IDLE + HEAD_TIMEOUT if trickle else IDLE
        assert closed is not None and closed < limit + 1.5, (source, closed)
    log = env.api.log()
    assert "event=head_timeout ip=127.0.0.3" in log, log[-2000:]
    assert "event=head_timeout ip=127.0.0.4" not in log, log[-2000:]


def main():
    global env
    with Env(extra={"webapi.max_connections": str(PER_IP + 2),
                    "webapi.max_connections_per_ip": str(PER_IP),
                    "webapi.head_timeout_s": str(HEAD_TIMEOUT),
                    "webapi.timeout_s": str(IDLE)}) as e:
        env = e
        run([test_content_length_with_transfer_encoding, test_two_content_lengths,
             test_nul_in_url, test_slowloris, test_keepalive_trickle])


if __name__ == "__main__":
    main()
