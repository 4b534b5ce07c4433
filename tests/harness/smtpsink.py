"""A small SMTP server on 127.0.0.1 that keeps what it receives (for tests).

Speaks enough ESMTP for libcurl and smtplib: EHLO/HELO, AUTH PLAIN/LOGIN
(checked against one user and password when given), MAIL, RCPT, DATA with
dot-unstuffing, RSET, NOOP, QUIT.  `reject_rcpt` makes RCPT answer 550 for
one address, to test refusals.  With lmtp=True it speaks LMTP (RFC 2033):
LHLO, and one reply per recipient after DATA (target() gives the
host:port form [quarantine] lmtp takes).
"""
import base64
import socketserver
import threading

from . import common


class _Handler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        sink = self.server.sink
        authed = sink.user is None
        mail_from, rcpts = None, []
        self.reply("220 sink ESMTP")
        while True:
            raw = self.rfile.readline(65536)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            cmd = line[:4].upper()
            if cmd == "LHLO" and sink.lmtp:
                self.wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif cmd in ("EHLO", "HELO") and not sink.lmtp:
                self.wfile.write(b"250-sink\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
            elif cmd == "AUTH":
                parts = line.split()
                user = pw = None
                if len(parts) >= 2 and parts[1].upper() == "PLAIN":
                    if len(parts) == 3:
                        blob = parts[2]
                    else:
                        self.reply("334 ")
                        blob = self.rfile.readline().decode().strip()
                    try:
                        authzid, user, pw = base64.b64decode(blob).decode().split("\0")
                        sink.authzid_seen.append(authzid)
                    except Exception:
                        pass
                elif len(parts) >= 2 and parts[1].upper() == "LOGIN":
                    self.reply("334 VXNlcm5hbWU6")
                    user = base64.b64decode(self.rfile.readline().strip()).decode()
                    self.reply("334 UGFzc3dvcmQ6")
                    pw = base64.b64decode(self.rfile.readline().strip()).decode()
                if sink.user is None or (user == sink.user and pw == sink.password):
                    authed = True
                    sink.auth_seen.append(user)
                    self.reply("235 2.7.0 ok")
                else:
                    self.reply("535 5.7.8 bad credentials")
            elif cmd == "MAIL":
                if not authed:
                    self.reply("530 5.7.0 authentication required")
                    continue
                mail_from = line[line.index(":") + 1:].strip().strip("<>")
                rcpts = []
                self.reply("250 ok")
            elif cmd == "RCPT":
                addr = line[line.index(":") + 1:].strip().strip("<>")
                if addr == sink.reject_rcpt:
                    self.reply("550 5.1.1 no such user")
                    continue
                rcpts.append(addr)
                self.reply("250 ok")
            elif cmd == "DATA":
                if not rcpts:
                    self.reply("554 no recipients")
                    continue
                self.reply("354 go")
                data = []
                while True:
                    l = self.rfile.readline(1 << 20)
                    if not l or l in (b".\r\n", b".\n"):
                        break
                    if l.startswith(b".."):
                        l = l[1:]
                    data.append(l)
                with sink.lock:
                    sink.messages.append({"from": mail_from, "rcpts": rcpts,
                                          "data": b"".join(data)})
                for _ in (rcpts if sink.lmtp else [None]):
                    self.reply("250 2.0.0 queued as SINK")
            elif cmd == "RSET":
                mail_from, rcpts = None, []
                self.reply("250 ok")
            elif cmd == "NOOP":
                self.reply("250 ok")
            elif cmd == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 unknown")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SmtpSink:
    def __init__(self, user=None, password=None, reject_rcpt=None, lmtp=False):
        self.port = common.free_port()
        self.lmtp = lmtp
        self.user, self.password = user, password
        self.reject_rcpt = reject_rcpt
        self.messages = []
        self.auth_seen = []
        self.authzid_seen = []
        self.lock = threading.Lock()

    def start(self):
        self.server = _Server(("127.0.0.1", self.port), _Handler)
        self.server.sink = self
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def target(self):
        return f"127.0.0.1:{self.port}"
