"""ims-webapi started on 127.0.0.1:<free port> with a generated ims.conf."""
import json
import os
import subprocess
import urllib.error
import urllib.request

from . import common


def find_binary(name, subdir):
    """The built program: $top_builddir/<subdir>/<name>, or $IMS_<NAME> for ad-hoc builds."""
    env = os.environ.get("IMS_" + name.upper().replace("-", "_"))
    if env:
        return env
    top = os.environ.get("top_builddir", ".")
    return os.path.join(top, subdir, name)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.body[:200]!r}>"


class WebAPI:
    def __init__(self, tmp, redis, local_domains="example.test", extra=None, ui_dir=None):
        self.tmp = tmp
        self.redis = redis
        self.port = common.free_port()
        self.dir = tmp.join(f"webapi-{self.port}")
        self.local_domains = local_domains
        self.extra = extra or {}
        self.ui_dir = ui_dir
        self.proc = None
        self.log_path = os.path.join(self.dir, "webapi.log")
        self.conf = os.path.join(self.dir, "ims.conf")

    def write_conf(self):
        os.makedirs(self.dir, exist_ok=True)
        secret = os.path.join(self.dir, "jwt.secret")
        with open(secret, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        os.chmod(secret, 0o600)
        sections = {
            "log": {"target": "stderr", "level": "info"},
            "milter": {"local_domains": self.local_domains},
            "webapi": {
                "listen": f"127.0.0.1:{self.port}",
                "jwt_secret_file": secret,
                "threads": "4",
                "max_body": "64k",
                "registration": "yes",
                "login_rate": "1000",
                "send_rate": "1000",
                # nothing of the machine's own: tests that send start their own
                "submission": "smtp://127.0.0.1:9",
            },
            # release goes nowhere unless a test starts an LMTP server
            "quarantine": {"lmtp": "127.0.0.1:9"},
            "users": {"mail_home": os.path.join(self.dir, "mail", "%d", "%n")},
        }
        if self.ui_dir:
            sections["webapi"]["ui_dir"] = self.ui_dir
        for key, value in self.extra.items():
            sec, name = key.split(".", 1)
            sections.setdefault(sec, {})[name] = value
        with open(self.conf, "w") as f:
            f.write(self.redis.conf_section())
            for sec, kv in sections.items():
                f.write(f"[{sec}]\n")
                for k, v in kv.items():
                    f.write(f"{k} = {v}\n")
        return self.conf

    def start(self):
        self.write_conf()
        binary = find_binary("ims-webapi", "webapi")
        if not os.path.exists(binary):
            common.skip(f"{binary} not built")
        self.logf = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary, "-c", self.conf], stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        common.wait_port(self.port)
        return self

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc:
            common.stop_pid(self.proc.pid)
            self.proc = None
            self.logf.close()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def request(self, method, path, body=None, token=None, headers=None, raw=None):
        """One HTTP request; returns a Response for every status (no exceptions)."""
        hdrs = dict(headers or {})
        data = None
        if raw is not None:
            data = raw
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if token:
            hdrs["Authorization"] = "Bearer " + token
        req = urllib.request.Request(self.url(path), data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return Response(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    def login(self, address, password):
        r = self.request("POST", "/auth/login", {"address": address, "password": password})
        assert r.status == 200, r
        return r.json()
