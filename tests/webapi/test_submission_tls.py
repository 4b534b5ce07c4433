#!/usr/bin/python3
"""POST /emails/send to a submission service that requires STARTTLS: a real
Postfix with a certificate signed by a CA the test makes.  With
[webapi] submission_ca_file naming that CA the message goes through over TLS;
with the system's CAs it is refused (the certificate cannot be verified) and
nothing is sent in clear text; submission_tls_verify = no (tests only) sends
without the check."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixtures import Env, PASSWORD, run  # noqa: E402
sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from harness import common  # noqa: E402
from harness.postfix import Postfix  # noqa: E402
from harness.webapi import WebAPI, find_binary  # noqa: E402

env = pf = None
USER = "tls@example.test"


def make_ca(d):
    """A CA and a server certificate for 127.0.0.1, made with openssl."""
    def ossl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr, crt = (os.path.join(d, n) for n in ("srv.key", "srv.csr", "srv.pem"))
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName = IP:127.0.0.1, DNS:localhost\n")
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
         "-days", "2", "-subj", "/CN=ims test CA")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
         "-subj", "/CN=127.0.0.1")
    ossl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-out", crt, "-days", "2", "-extfile", ext)
    os.chmod(key, 0o600)
    return ca, key, crt


def api_with(**settings):
    extra = {"webapi.submission": f"smtp://127.0.0.1:{pf.port}",
             "webapi.submission_tls": "required"}
    extra.update({f"webapi.{k}": v for k, v in settings.items()})
    api = WebAPI(env.tmp, env.redis, extra=extra).start()
    return api


def send(api, subject):
    t = api.login(USER, PASSWORD)["access_token"]
    return api.request("POST", "/emails/send",
                       {"to": ["bob@example.test"], "subject": subject, "text": "hello"},
                       token=t)


def test_with_test_ca():
    api = api_with(submission_ca_file=CA)
    try:
        r = send(api, "over tls")
        assert r.status == 202, (r, api.log()[-1500:])
        pf.wait_for_text("Subject: over tls")  # the whole message, not just its file
        assert "TLS connection established from" in pf.log_text(), pf.log_text()[-2000:]
    finally:
        api.stop()


def test_without_ca_refused():
    api = api_with()
    try:
        before = len(pf.delivered())
        r = send(api, "must not go")
        assert r.status == 503, r
        assert "certificate" in r.json()["error"].lower() or "ssl" in r.json()["error"].lower(), r
        assert len(pf.delivered()) == before
    finally:
        api.stop()


def test_verify_off():
    api = api_with(submission_tls_verify="no")
    try:
        assert send(api, "unverified").status == 202
        pf.wait_for_text("Subject: unverified")
    finally:
        api.stop()


def main():
    global env, pf, CA
    common.require("openssl")
    with Env() as e:
        env = e
        CA, key, crt = make_ca(e.tmp.path)
        p = subprocess.run([find_binary("ims", "cli"), "-c", e.api.conf, "user", "add", USER],
                           input=PASSWORD + "\n", capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        pf = Postfix(e.tmp, extra_main=f"smtpd_tls_cert_file = {crt}\n"
                                       f"smtpd_tls_key_file = {key}\n"
                                       "smtpd_tls_security_level = encrypt\n"
                                       "smtpd_tls_loglevel = 1\n").start()
        try:
            run([test_with_test_ca, test_without_ca_refused, test_verify_off])
        finally:
            pf.stop()


if __name__ == "__main__":
    main()
