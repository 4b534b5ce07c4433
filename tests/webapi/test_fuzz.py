#!/usr/bin/python3
"""Random requests on every route (methods, ids, query arguments, JSON and
non-JSON bodies, valid, truncated and forged tokens) against a real
ims-webapi built with the sanitizers: no 500, no crash, no sanitizer report.
IMS_FUZZ_SECS (default 10) and IMS_FUZZ_SEED (default 1)."""
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixtures import Env, PASSWORD
random.seed(int(os.environ.get("IMS_FUZZ_SEED", "1")))
paths = ["/health", "/metrics", "/", "/ui/", "/ui/index.html", "/ui/assets/x.js", "/auth/register", "/auth/login", "/auth/refresh", "/auth/logout", "/auth/me",
         "/emails/inbox", "/emails/sent", "/emails/send", "/emails/{id}", "/emails/{id}/raw", "/emails/{id}/report", "/emails/drafts", "/emails/{id}/attachments/0", "/emails/{id}/attachments/{id}", "/scan-email",
         "/admin/scans", "/admin/scans/{id}", "/admin/stats", "/admin/quarantine", "/admin/quarantine/{id}", "/admin/quarantine/{id}/release",
         "/emails/quarantine", "/emails/quarantine/{id}", "/emails/quarantine/{id}/release", "/admin/audit", "/admin/users"]
queries = ["", "?limit=0", "?limit=5", "?cursor=1-x", "?cursor=" + "9"*40 + "-A", "?from=-5", "?to=99999999999999999999", "?bucket=day", "?format=csv", "?type=scan",
           "?verdict=spam&action=accept&symbol=X&sender=a@b&recipient=c@d", "?rcpt=a,b,c&mail_from=x", "?limit=1000"]
def rnd_json():
    c = random.random()
    vals = [None, 1, -1, 1e308, "", "x"*random.randint(0, 3000), "\u0000", "\ud7ff", [], {}, [1, 2], {"a": {"b": []}}, True, "alice@example.test", "spam", PASSWORD]
    keys = ["address", "password", "refresh_token", "label", "to", "cc", "bcc", "subject", "text", "html", "raw", "rcpt", "role", "mail_from", "not_spam"]
    if c < 0.1: return b"\xff\xfe\x00garbage"
    if c < 0.2: return json.dumps(random.choice(vals)).encode()
    return json.dumps({random.choice(keys): random.choice(vals) for _ in range(random.randint(0, 6))}).encode()
with Env(extra={"webapi.login_rate": "100000", "webapi.max_body": "64k"}) as env:
    env.add_user("admin@example.test", role="admin")
    ad = env.api.login("admin@example.test", PASSWORD)
    mid = env.store("admin@example.test", "b@example.org", "hi", quarantine=True, action="quarantine")
    toks = [ad["access_token"], None, "x.y.z", ad["access_token"][:-3] + "abc"]
    n = 0; t0 = time.time()
    while time.time() - t0 < float(os.environ.get("IMS_FUZZ_SECS", "10")):
        p = random.choice(paths).replace("{id}", random.choice([mid, "01" + "Z"*24, "%00", "A"*300, "..", "x"]))
        q = random.choice(queries)
        m = random.choice(["GET", "POST", "DELETE", "PUT"])
        body = rnd_json() if m in ("POST", "PUT") else None
        r = env.api.request(m, p + q, raw=body, token=random.choice(toks), headers={"Content-Type": random.choice(["application/json", "message/rfc822"])} if body else None)
        assert r.status < 600
        assert r.status < 500 or r.status == 503, (m, p + q, body[:80] if body else None, r)
        n += 1
        assert env.api.proc.poll() is None, "died"
    print("requests", n)
