"""The receivers the harness compares, each started on private loopback ports and asked how many lines it holds:
the minimal C receiver (the physical limit), LogStream, rsyslog and syslog-ng (Debian's packages).

rsyslog and syslog-ng conflict as Debian packages (installing one removes the other), so a peer that is not
installed is never installed: its package is downloaded and unpacked with `dpkg -x` into bench/.build-peers and
run from there, after its shared-library dependencies (which do not conflict) are installed with apt-get.
Both run in the foreground with their own config, pid and work files and write lines unparsed to a private
file; the system's logging is never touched.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from common import RELEASE, ROOT, received, wait_growth, free_port

WORK = ROOT / "bench" / ".build-peers"
APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}


def wait_until(condition, timeout, poll=0.02):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if condition():
            return True
        time.sleep(poll)
    return False


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def unpacked(package, libraries):
    """The root of `package` unpacked into WORK (downloaded once), its libraries installed with apt-get."""
    root = WORK / package
    if not root.exists():
        subprocess.run(["apt-get", "install", "-y", "-qq", *libraries], check=True, env=APT_ENV, capture_output=True)
        download = WORK / "downloads"
        download.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", package], cwd=download, check=True, capture_output=True)
        deb = next(download.glob(f"{package}_*.deb"))
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root


class RawReceiver:
    name = "raw C receiver"

    @staticmethod
    def prepare():
        WORK.mkdir(parents=True, exist_ok=True)
        subprocess.run(["gcc", "-O2", "-o", str(WORK / "raw-receiver"), str(ROOT / "bench/peers/raw-receiver.c")], check=True)

    def start(self, tcp, udp):
        self.process = subprocess.Popen([str(WORK / "raw-receiver"), "--tcp", str(tcp), "--udp", str(udp)],
                                        stdout=subprocess.PIPE, text=True)
        self.process.stdout.readline()  # "ready"

    def count(self):
        self.process.send_signal(signal.SIGUSR1)
        report = json.loads(self.process.stdout.readline())
        self.last_line_at = report["last"]
        return report["lines"]

    def held(self, sent, started):
        """Timed to its own clock reading at its last line (the same monotonic clock as perf_counter)."""
        count, _ = wait_growth(self.count, sent["lines"])
        return count, self.last_line_at - started

    def stop(self):
        self.process.kill()
        self.process.wait()


class LogStream:
    """The release server with `records` slots and an `arena` of bytes. Warm (the default), it is measured in the
    steady state of a server that has been running: its arena is filled once before the timed lines, so they do
    not pay for the kernel zeroing the pages a fresh ring grows into (a one-off cost the "fresh" row shows)."""
    name = "LogStream"
    extra = []  # further flags (bench/tls.py: TLS)
    scheme = "http"  # https once --tls-cert is among them

    def __init__(self, records=1_000_000, arena="256M", warm=True, label=None):
        """Memory only (--no-persist): these figures are the ring's; bench/disk.py measures the disk history."""
        self.records, self.arena, self.warm = records, arena, warm
        if label:
            self.name = label

    def start(self, tcp, udp):
        self.http = free_port()
        self.process = subprocess.Popen(
            [str(RELEASE / "logstream"), "--bind", "127.0.0.1", "--udp-port", str(udp), "--tcp-port", str(tcp),
             "--http-port", str(self.http), "--buffer-size", str(self.records), "--buffer-bytes", self.arena, "--no-persist", *self.extra],
            stderr=subprocess.DEVNULL)
        if not wait_until(lambda: received(self.http, self.scheme) is not None, 10):
            raise RuntimeError("logstream did not start")
        if self.warm:
            arena_bytes = int(self.arena[:-1]) << {"K": 10, "M": 20, "G": 30}[self.arena[-1]]
            lines = arena_bytes // 90  # generated lines average ~100 bytes: this wraps the arena once
            subprocess.run([str(RELEASE / "logstream-gen"), "--protocol-name", "tcp", "--port", str(tcp), "--rate", "0",
                            "--count", str(lines)], check=True, capture_output=True)
            wait_growth(lambda: received(self.http, self.scheme) or 0, lines)
        self.before = received(self.http, self.scheme)

    def held(self, sent, started):
        count, finished = wait_growth(lambda: (received(self.http, self.scheme) or 0) - self.before, sent["lines"])
        return count, finished - started

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)


class FilePeer:
    """A syslog daemon writing every line it receives, unparsed, to `self.output`."""

    def held(self, sent, started):
        """Every line comes out as itself plus a newline, so bytes written count the lines."""
        def written():
            try:
                return self.output.stat().st_size
            except FileNotFoundError:
                return 0
        size, finished = wait_growth(written, sent["bytes"], settle=2.5)
        return round(sent["lines"] * size / sent["bytes"]), finished - started

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def launch(self, command, environment, tcp):
        self.process = subprocess.Popen(command, env={**os.environ, **environment},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_until(lambda: port_open(tcp), 10, 0.05):
            raise RuntimeError(f"{self.name} did not start")


class Rsyslog(FilePeer):
    name = "rsyslog"
    libraries = ["libestr0", "libfastjson4", "liblognorm5", "libuuid1", "libzstd1", "zlib1g", "libsystemd0"]

    @classmethod
    def prepare(cls):
        installed = shutil.which("rsyslogd") or ("/usr/sbin/rsyslogd" if os.path.exists("/usr/sbin/rsyslogd") else None)
        if installed:
            cls.binary, cls.modules, cls.environment = installed, None, {}
        else:
            root = unpacked("rsyslog", cls.libraries)
            cls.binary = str(root / "usr/sbin/rsyslogd")
            cls.modules = str(root / "usr/lib/x86_64-linux-gnu/rsyslog")
            cls.environment = {}

    def start(self, tcp, udp):
        self.folder = Path(tempfile.mkdtemp(dir=WORK))
        self.output = self.folder / "out.log"
        # Octet counting off: lines starting with digits (timestamps) would otherwise be read as frame lengths.
        (self.folder / "rsyslog.conf").write_text(f"""
global(workDirectory="{self.folder}" maxMessageSize="64k")
module(load="imtcp" MaxSessions="200")
module(load="imudp")
input(type="imtcp" address="127.0.0.1" port="{tcp}" ruleset="out" SupportOctetCountedFraming="off")
input(type="imudp" address="127.0.0.1" port="{udp}" ruleset="out" rcvbufSize="32m")
template(name="raw" type="string" string="%rawmsg%\\n")
ruleset(name="out") {{
    action(type="omfile" file="{self.output}" template="raw" asyncWriting="on" ioBufferSize="1m" flushInterval="1")
}}
""")
        command = [self.binary, "-n", "-f", str(self.folder / "rsyslog.conf"), "-i", str(self.folder / "rsyslogd.pid")]
        if self.modules:
            command[1:1] = ["-M", self.modules]
        self.launch(command, self.environment, tcp)


class SyslogNg(FilePeer):
    name = "syslog-ng"
    libraries = ["libivykis0", "libjson-c5", "libnet1", "libpcre3", "libwrap0", "libglib2.0-0", "libcap2"]

    @classmethod
    def prepare(cls):
        if shutil.which("syslog-ng") or os.path.exists("/usr/sbin/syslog-ng"):
            cls.binary, cls.modules, cls.environment = shutil.which("syslog-ng") or "/usr/sbin/syslog-ng", None, {}
        else:
            root = unpacked("syslog-ng-core", cls.libraries)
            cls.binary = str(root / "usr/sbin/syslog-ng")
            cls.modules = str(root / "usr/lib/syslog-ng/3.38")
            cls.environment = {"LD_LIBRARY_PATH": str(root / "usr/lib/syslog-ng")}

    def start(self, tcp, udp):
        self.folder = Path(tempfile.mkdtemp(dir=WORK))
        self.output = self.folder / "out.log"
        # flags(no-parse): the whole line is the message, written back as it came.
        (self.folder / "syslog-ng.conf").write_text(f"""@version: 3.38
options {{ threaded(yes); stats_freq(0); flush_lines(1000); }};
source s_in {{
    network(ip("127.0.0.1") port({tcp}) transport("tcp") flags(no-parse) max-connections(200) log-iw-size(100000));
    network(ip("127.0.0.1") port({udp}) transport("udp") flags(no-parse) so-rcvbuf(33554432));
}};
destination d_out {{ file("{self.output}" template("${{MESSAGE}}\\n")); }};
log {{ source(s_in); destination(d_out); }};
""")
        command = [self.binary, "-F", "-f", str(self.folder / "syslog-ng.conf"), "-R", str(self.folder / "persist"),
                   "-p", str(self.folder / "pid"), "-c", str(self.folder / "ctl")]
        if self.modules:
            command.append(f"--module-path={self.modules}")
        self.launch(command, self.environment, tcp)
