"""A private clamd (ClamAV) on a unix socket in the test's temp dir, with a
one-signature database the test makes (sigtool --md5 of the EICAR test
file): no freshclam, no network, stopped by PID.  Starts in ~5 s."""
import os
import subprocess

from . import common

# The EICAR anti-virus test file (https://www.eicar.org/): harmless, and
# every scanner detects it; here through the .hdb signature made below.
EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")


class Clamd:
    def __init__(self, tmp):
        self.tmp = tmp
        self.dir = tmp.join("clamd")
        self.socket = os.path.join(self.dir, "clamd.sock")
        self.log = os.path.join(self.dir, "clamd.log")
        self.proc = None

    def start(self, timeout=60.0):
        db = os.path.join(self.dir, "db")
        os.makedirs(db, exist_ok=True)
        eicar = os.path.join(self.dir, "eicar.com")
        with open(eicar, "wb") as f:
            f.write(EICAR)
        sig = common.run(["sigtool", "--md5", eicar]).stdout
        with open(os.path.join(db, "test.hdb"), "w") as f:
            f.write(sig)
        conf = os.path.join(self.dir, "clamd.conf")
        with open(conf, "w") as f:
            f.write(f"LocalSocket {self.socket}\nLocalSocketMode 666\nFixStaleSocket yes\n"
                    f"DatabaseDirectory {db}\nForeground yes\nLogFile {self.log}\n"
                    f"PidFile {os.path.join(self.dir, 'clamd.pid')}\n"
                    f"TemporaryDirectory {self.dir}\n"
                    "User root\nScanMail yes\nScanArchive yes\nSelfCheck 0\n"
                    "MaxThreads 4\nStreamMaxLength 25M\nBytecode no\n")
        self.logf = open(os.path.join(self.dir, "clamd.out"), "a")
        self.proc = subprocess.Popen(["clamd", "-c", conf], stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        try:
            common.wait_unix_socket(self.socket, timeout=timeout)
        except TimeoutError:
            self.stop()
            raise
        return self

    def stop(self):
        if self.proc:
            common.stop_pid(self.proc.pid)
            self.proc = None
            self.logf.close()

    def conf_section(self, extra=""):
        """The [antivirus] section of an ims.conf that uses this clamd."""
        return f"[antivirus]\nsocket = unix:{self.socket}\ntimeout_ms = 10000\n{extra}\n"
