#!/usr/bin/python3
"""Security tests of ims-webapi against a real redis-server: tokens (forged,
expired, alg none, wrong signature), roles, another user's message, body
limits, malformed JSON, brute force, refresh-token reuse, bad input that
must neither crash the server nor leave partial writes."""
import base64
import hashlib
import hmac
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixtures import Env, PASSWORD, run  # noqa: E402

env = None


def b64(d):
    return base64.urlsafe_b64encode(d).rstrip(b"=").decode()


def make_jwt(header, claims, key):
    h = b64(json.dumps(header).encode())
    p = b64(json.dumps(claims).encode())
    sig = b64(hmac.new(key, f"{h}.{p}".encode(), hashlib.sha256).digest()) if key else ""
    return f"{h}.{p}.{sig}"


def secret():
    with open(os.path.join(env.api.dir, "jwt.secret")) as f:
        return f.read().strip().encode()


def claims_of(token):
    p = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


def test_tokens():
    t = env.add_user("mallory@example.test")
    good = t["access_token"]
    assert env.api.request("GET", "/auth/me", token=good).status == 200
    c = claims_of(good)
    admin = dict(c, role="admin")
    now = int(time.time())
    cases = {
        "none": make_jwt({"alg": "none", "typ": "JWT"}, admin, None),
        "none-with-sig": make_jwt({"alg": "none", "typ": "JWT"}, admin, None) + "AAAA",
        "forged-payload": good.split(".")[0] + "." + b64(json.dumps(admin).encode()) + "." +
        good.split(".")[2],
        "wrong-key": make_jwt({"alg": "HS256", "typ": "JWT"}, admin, b"x" * 40),
        "expired": make_jwt({"alg": "HS256", "typ": "JWT"},
                            dict(c, iat=now - 7200, exp=now - 3600), secret()),
        "hs512": "",
        "garbage": "not.a.token",
        "empty": "",
    }
    h = b64(json.dumps({"alg": "HS512", "typ": "JWT"}).encode())
    p = b64(json.dumps(c).encode())
    cases["hs512"] = f"{h}.{p}." + b64(hmac.new(secret(), f"{h}.{p}".encode(),
                                                hashlib.sha512).digest())
    for name, tok in cases.items():
        r = env.api.request("GET", "/auth/me", headers={"Authorization": "Bearer " + tok})
        assert r.status == 401, (name, r)
        body = r.json()
        assert body["request_id"] == r.headers["X-Request-Id"], body
    # the right key with the right claims works: the test's forging is sound
    ok = make_jwt({"alg": "HS256", "typ": "JWT"}, c, secret())
    assert env.api.request("GET", "/auth/me", token=ok).status == 200
    # no header at all, and another scheme
    assert env.api.request("GET", "/auth/me").status == 401
    assert env.api.request("GET", "/auth/me",
                           headers={"Authorization": "Basic YTpi"}).status == 401


def test_roles():
    t = env.add_user("user1@example.test")
    for path in ("/admin/scans", "/admin/stats", "/admin/quarantine", "/admin/audit",
                 "/admin/users"):
        r = env.api.request("GET", path, token=t["access_token"])
        assert r.status == 403, (path, r)
    r = env.api.request("POST", "/admin/users", {"address": "x@example.test",
                                                 "password": PASSWORD, "role": "admin"},
                        token=t["access_token"])
    assert r.status == 403, r
    # a role granted in the registry applies within a second (the session
    # check is cached per thread for 1 s; the token's claim is not trusted)
    env.cli("HSET", "ims:{user1@example.test}:user", "role", "admin")
    time.sleep(1.1)
    assert env.api.request("GET", "/admin/stats", token=t["access_token"]).status == 200
    env.cli("HSET", "ims:{user1@example.test}:user", "role", "user")
    time.sleep(1.1)
    assert env.api.request("GET", "/admin/stats", token=t["access_token"]).status == 403
    # a disabled account is out within a second
    env.cli("HSET", "ims:{user1@example.test}:user", "disabled", "1")
    time.sleep(1.1)
    assert env.api.request("GET", "/emails/inbox", token=t["access_token"]).status == 401


def test_no_mailbox_server():
    # without [dovecot] the mailbox routes say so; the rest of the API runs
    t = env.add_user("nomail@example.test")["access_token"]
    for path in ("/emails/inbox", "/emails/folders", "/emails?folder=Junk"):
        r = env.api.request("GET", path, token=t)
        assert r.status == 503 and "dovecot" in r.json()["error"], (path, r)
    # ids that are not ids are 404 before any mailbox is asked
    for bad in ("..%2F..%2Fetc", "0" * 27, "{x}", "*"):
        r = env.api.request("GET", f"/emails/{bad}", token=t)
        assert r.status == 404, (bad, r)
    # an escaped NUL is refused before routing (tests/webapi/test_http.py)
    r = env.api.request("GET", "/emails/%00", token=t)
    assert r.status == 400, r


def test_body_limits_and_json():
    t = env.add_user("big@example.test")
    big = b"x" * (70 * 1024)  # the test config has max_body = 64k
    r = env.api.request("POST", "/auth/login", raw=big,
                        headers={"Content-Type": "application/json"})
    assert r.status == 413, r
    # chunked, without Content-Length
    s = socket.create_connection(("127.0.0.1", env.api.port))
    s.sendall(b"POST /auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
              b"Content-Type: application/json\r\n\r\n")
    chunk = b"y" * 16384
    try:
        for _ in range(6):
            s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        s.sendall(b"0\r\n\r\n")
    except OSError:
        pass
    reply = s.recv(4096)
    s.close()
    assert reply.startswith(b"HTTP/1.1 413"), reply[:100]
    for raw in (b"{", b"[]", b"\"str\"", b"{\"address\": 1}", b"\xff\xfe", b"{}" * 10,
                b"{\"a\":" * 5000):
        r = env.api.request("POST", "/auth/login", raw=raw,
                            headers={"Content-Type": "application/json"})
        assert r.status == 400, (raw[:20], r)
        assert "error" in r.json()
    r = env.api.request("POST", "/emails/send", raw=b"{nope", token=t["access_token"],
                        headers={"Content-Type": "application/json"})
    assert r.status == 400, r


def test_brute_force():
    env.add_user("victim@example.test")
    env.cli("DEL", "ims:{global}:ratelimit:login:ip:127.0.0.1")
    limit = 10  # login_rate in this test's config
    codes = []
    for i in range(limit + 2):
        r = env.api.request("POST", "/auth/login", {"address": "victim@example.test",
                                                    "password": f"wrong{i}"})
        codes.append(r.status)
    assert codes[:limit] == [401] * limit, codes
    assert codes[limit] == 429, codes
    assert int(r.headers["Retry-After"]) > 0
    # the right password is refused as well while limited
    r = env.api.request("POST", "/auth/login", {"address": "victim@example.test",
                                                "password": PASSWORD})
    assert r.status == 429, r
    # counters are per address: another account from the same IP is limited by
    # the per-IP counter, which the failures above also filled
    r = env.api.request("POST", "/auth/login", {"address": "big@example.test",
                                                "password": PASSWORD})
    assert r.status == 429, r
    env.cli("DEL", "ims:{global}:ratelimit:login:ip:127.0.0.1")
    r = env.api.request("POST", "/auth/login", {"address": "big@example.test",
                                                "password": PASSWORD})
    assert r.status == 200, r


def test_brute_force_parallel():
    """Guesses sent at once are counted before the password is checked: of
    30 parallel attempts at most login_rate reach the check (it was all of
    them: the limit was read before and counted after the slow hash)."""
    import concurrent.futures
    env.add_user("para@example.test")
    env.cli("DEL", "ims:{global}:ratelimit:login:ip:127.0.0.1")
    limit = 10

    def guess(i):
        return env.api.request("POST", "/auth/login", {"address": "para@example.test",
                                                       "password": f"wrong{i}"}).status
    with concurrent.futures.ThreadPoolExecutor(30) as pool:  # under max_connections_per_ip
        codes = list(pool.map(guess, range(30)))
    assert codes.count(401) <= limit and codes.count(401) + codes.count(429) == 30, codes
    env.cli("DEL", "ims:{global}:ratelimit:login:ip:127.0.0.1")
    env.cli("DEL", "ims:{global}:ratelimit:login:addr:para@example.test")
    # a right password gives its attempt back: logins that succeed never
    # lock anyone out
    for _ in range(limit + 3):
        assert env.api.request("POST", "/auth/login", {"address": "para@example.test",
                                                       "password": PASSWORD}).status == 200
    env.cli("DEL", "ims:{global}:ratelimit:login:ip:127.0.0.1")


def test_refresh_reuse_revokes():
    env.cli("DEL", "ims:{global}:ratelimit:login:ip:127.0.0.1")
    t0 = env.add_user("rot@example.test")
    r1 = env.api.request("POST", "/auth/refresh", {"refresh_token": t0["refresh_token"]})
    assert r1.status == 200, r1
    t1 = r1.json()
    assert t1["refresh_token"] != t0["refresh_token"]
    r2 = env.api.request("POST", "/auth/refresh", {"refresh_token": t1["refresh_token"]})
    assert r2.status == 200, r2
    t2 = r2.json()
    assert env.api.request("GET", "/auth/me", token=t2["access_token"]).status == 200
    # replaying t1's refresh token (already rotated) revokes the whole family
    r = env.api.request("POST", "/auth/refresh", {"refresh_token": t1["refresh_token"]})
    assert r.status == 401, r
    r = env.api.request("POST", "/auth/refresh", {"refresh_token": t2["refresh_token"]})
    assert r.status == 401, r
    assert env.api.request("GET", "/auth/me", token=t2["access_token"]).status == 401
    # a new login is a new family and works
    t3 = env.api.login("rot@example.test", PASSWORD)
    assert env.api.request("GET", "/auth/me", token=t3["access_token"]).status == 200
    # logout ends it
    assert env.api.request("POST", "/auth/logout", token=t3["access_token"]).status == 204
    assert env.api.request("GET", "/auth/me", token=t3["access_token"]).status == 401
    r = env.api.request("POST", "/auth/refresh", {"refresh_token": t3["refresh_token"]})
    assert r.status == 401, r
    # malformed refresh tokens
    for bad in ("", "rt1.", "rt1." + "0" * 32 + ".e30.x", "x" * 5000, None, 5):
        r = env.api.request("POST", "/auth/refresh", {"refresh_token": bad})
        assert r.status in (400, 401), (bad, r)


def test_bad_input_no_crash_no_partial_writes():
    t = env.add_user("fuzz@example.test")
    before = set(env.cli("KEYS", "*").split())
    weird = ["/emails/%ff%fe", "/emails/" + "A" * 5000, "/admin/scans?limit=-1",
             "/emails/inbox?limit=abc", "/emails/inbox?cursor=zzz",
             "/emails/inbox?cursor=1-" + "x" * 200, "/ui/../../etc/passwd", "/ui/%2e%2e/x",
             "/emails/inbox?limit=100000"]
    for p in weird:
        r = env.api.request("GET", p, token=t["access_token"])
        assert r.status in (400, 403, 404), (p, r)
    # register with bad input: nothing written
    env.cli("DEL", "ims:{global}:ratelimit:register:ip:127.0.0.1")
    for body in ({"address": "a b@example.test", "password": PASSWORD},
                 {"address": "x@evil.test", "password": PASSWORD},
                 {"address": "short@example.test", "password": "123"},
                 {"address": "x" * 300 + "@example.test", "password": PASSWORD},
                 {"address": "{x}@example.test", "password": PASSWORD},
                 {"address": ["list"], "password": PASSWORD}):
        r = env.api.request("POST", "/auth/register", body)
        assert r.status in (400, 403), (body, r)
    r = env.api.request("POST", "/auth/register", {"address": "fuzz@example.test",
                                                   "password": PASSWORD})
    assert r.status == 409, r
    after = set(env.cli("KEYS", "*").split())
    new = {k for k in after - before if ":ratelimit:" not in k}
    assert not new, new
    # raw garbage on the socket
    for junk in (b"\x00\x01\x02\r\n\r\n", b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
                 b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 5000 + b"\r\n"):
        try:
            s = socket.create_connection(("127.0.0.1", env.api.port))
            s.sendall(junk)
            s.settimeout(5)
            s.recv(100)
            s.close()
        except OSError:
            pass
    assert env.api.request("GET", "/health").status == 200
    assert env.api.proc.poll() is None, "ims-webapi died"


def test_request_ids():
    r = env.api.request("GET", "/health", headers={"X-Request-Id": "trace-abc.123"})
    assert r.headers["X-Request-Id"] == "trace-abc.123"
    r = env.api.request("GET", "/nope", headers={"X-Request-Id": "bad id with spaces"})
    rid = r.headers["X-Request-Id"]
    assert r.status == 404 and len(rid) == 26 and rid != "bad id with spaces"
    assert r.json() == {"error": "no such resource", "request_id": rid}
    assert env.api.request("DELETE", "/health").status == 405
    time.sleep(0.2)
    log = env.api.log()
    assert "id=trace-abc.123 event=http method=GET path=\"/health\" status=200" in log
    assert f"id={rid} event=http" in log


def main():
    global env
    with Env(extra={"webapi.login_rate": "10"}) as e:
        env = e
        run([test_tokens, test_roles, test_no_mailbox_server, test_body_limits_and_json,
             test_request_ids, test_bad_input_no_crash_no_partial_writes, test_brute_force,
             test_brute_force_parallel,
             test_refresh_reuse_revokes])


if __name__ == "__main__":
    main()
