#!/usr/bin/env python3
"""TLS's cost, side by side in one run: syslog lines over TLS (--tls-syslog-port) against the same lines over
plain TCP into LogStream, and into rsyslog receiving over TLS (imtcp with the ossl stream driver) and plain TCP;
full handshakes per second and per CPU-second of the server (`openssl s_time`, RSA-2048 and ECDSA P-256
certificates); the RSS an idle TLS connection costs against an idle plain one. Writes bench/TLS.md unless
--no-write. Usage: python3 bench/tls.py [--lines 5000000] [--runs 3]

One Python sender writes the same pre-built ~100-byte lines in 1 MiB writes to every receiver (over an ssl
socket for TLS: OpenSSL encrypts, Python only hands it the buffer), so the ratios compare receivers, not
senders. A rate is lines held over the time from the first byte sent to the last line held. LogStream runs with
--no-persist and is warmed (its ring wrapped once) as in bench/run.sh; rsyslog writes lines unparsed to a file."""
import argparse
import json
import os
import random
import re
import resource
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import ROOT, free_port, received, wait_growth
from receivers import LogStream, Rsyslog, WORK

sys.path.insert(0, str(ROOT / "Tests" / "EndToEnd"))
from certificates import CertificateAuthority  # noqa: E402  (the tests' openssl-made CA)

LEVELS = ["INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"]
SERVICES = ["search-api", "checkout", "auth", "payments", "gateway"]
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def payload(count):
    """`count` lines of about 100 bytes, as bench/run.sh's logstream-gen makes them."""
    rng = random.Random(5)
    shapes = [f"2026-11-29T10:10:00.{rng.randrange(1000):03d}Z {rng.choice(LEVELS)} [{rng.choice(SERVICES)}] Health check failed "
              f"user={rng.choice(['alice', 'bob', 'carol', 'dave'])} request_id={rng.randrange(10**6)}\n".encode() for _ in range(4096)]
    return b"".join(shapes[index % len(shapes)] for index in range(count))


def send(port, data, context=None):
    """Writes `data` in 1 MiB writes, over TLS when given a context; returns when the last write returned."""
    raw = socket.create_connection(("127.0.0.1", port))
    connection = context.wrap_socket(raw, server_hostname="localhost") if context else raw
    view = memoryview(data)
    for start in range(0, len(data), 1 << 20):
        connection.sendall(view[start:start + (1 << 20)])
    return connection  # closed by the caller once the receiver holds everything


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_bytes(pid):
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


class LogStreamTLS(LogStream):
    """LogStream with syslog over TLS on a port of its own (`tls_port`); its HTTP port then speaks HTTPS."""
    scheme = "https"

    def __init__(self, pki, **options):
        super().__init__(**options)
        self.pki = pki

    def start(self, tcp, udp):
        self.tls_port = free_port()
        self.extra = ["--tls-cert", self.pki.certificate, "--tls-key", self.pki.key, "--tls-syslog-port", str(self.tls_port),
                      "--max-connections", "5000"]
        super().start(tcp, udp)

    def stats(self):
        return json.loads(urllib.request.urlopen(f"https://127.0.0.1:{self.http}/api/stats", timeout=5,
                                                 context=ssl._create_unverified_context()).read())


class RsyslogTLS(Rsyslog):
    """rsyslog receiving over TLS: imtcp with OpenSSL's stream driver, anonymous clients, lines to a file."""
    name = "rsyslog TLS"

    def __init__(self, pki):
        self.pki = pki

    def start(self, tcp, udp):
        self.folder = Path(tempfile.mkdtemp(dir=WORK))
        self.output = self.folder / "out.log"
        (self.folder / "rsyslog.conf").write_text(f"""
global(workDirectory="{self.folder}" maxMessageSize="64k"
       DefaultNetstreamDriverCAFile="{self.pki.ca}"
       DefaultNetstreamDriverCertFile="{self.pki.certificate}"
       DefaultNetstreamDriverKeyFile="{self.pki.key}")
module(load="imtcp" MaxSessions="200" StreamDriver.Name="ossl" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
input(type="imtcp" address="127.0.0.1" port="{tcp}" ruleset="out" SupportOctetCountedFraming="off")
template(name="raw" type="string" string="%rawmsg%\\n")
ruleset(name="out") {{
    action(type="omfile" file="{self.output}" template="raw" asyncWriting="on" ioBufferSize="1m" flushInterval="1")
}}
""")
        self.launch([self.binary, "-n", "-f", str(self.folder / "rsyslog.conf"), "-i", str(self.folder / "rsyslogd.pid")], {}, tcp)


def make_pki(folder):
    """A CA, and server certificates for localhost signed by it: RSA-2048 (the common default) and ECDSA P-256."""
    ca = CertificateAuthority(folder, "bench-ca")
    rsa = ca.issue("server-rsa", "localhost", server=True)
    key = folder / "server-ec.key"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key], check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-new", "-key", key, "-out", folder / "server-ec.csr", "-subj", "/CN=localhost"], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", folder / "server-ec.csr", "-CA", ca.certificate, "-CAkey", ca.key, "-set_serial", "77",
                    "-out", folder / "server-ec.pem", "-days", "30", "-extfile", folder / "server-rsa.ext"], check=True, capture_output=True)
    pki = lambda certificate, key: type("PKI", (), {"ca": str(ca.certificate), "certificate": str(certificate), "key": str(key)})
    return {"rsa": pki(*rsa), "ecdsa": pki(folder / "server-ec.pem", key)}


def throughput(receivers, lines, runs):
    """lines/s of each (name, receiver, port-of(receiver), context) in turn, `runs` times, alternating."""
    data = payload(lines)
    sent = {"lines": lines, "bytes": len(data)}
    results = {name: [] for name, *_ in receivers}
    for run in range(runs):
        for name, receiver, port_of, context in receivers:
            tcp, udp = free_port(), free_port(socket.SOCK_DGRAM)
            receiver.start(tcp, udp)
            try:
                cpu_before = cpu_seconds(receiver.process.pid)
                started = time.perf_counter()
                connection = send(port_of(receiver, tcp), data, context)
                held, seconds = receiver.held(sent, started)
                cpu = cpu_seconds(receiver.process.pid) - cpu_before
                connection.close()
            finally:
                receiver.stop()
            results[name].append({"held": held, "seconds": seconds, "rate": held / seconds, "cpu_ns_per_line": cpu * 1e9 / max(held, 1)})
            print(f"run {run + 1}: {name}: {held:,} of {lines:,} lines in {seconds:.2f} s = {held / seconds:,.0f} lines/s, "
                  f"{cpu * 1e9 / max(held, 1):.0f} ns CPU a line", file=sys.stderr)
    return results


def handshakes(pki_by_kind, seconds):
    """Full handshakes (no resumption) from `openssl s_time` against the TLS syslog port, per wall second and
    per second of the server's CPU, for each kind of certificate."""
    results = {}
    for kind, pki in pki_by_kind.items():
        server = LogStreamTLS(pki, records=100_000, arena="64M", warm=False)
        server.start(free_port(), free_port(socket.SOCK_DGRAM))
        try:
            cpu_before = cpu_seconds(server.process.pid)
            output = subprocess.run(["openssl", "s_time", "-connect", f"127.0.0.1:{server.tls_port}", "-new", "-time", str(seconds),
                                     "-CAfile", pki.ca], capture_output=True, text=True).stdout
            cpu = cpu_seconds(server.process.pid) - cpu_before
            stats = server.stats()
        finally:
            server.stop()
        match = re.search(r"(\d+) connections in ([\d.]+)s; ([\d.]+) connections/user sec", output)
        completed = stats["tls_handshakes"]["syslog"]
        results[kind] = {"handshakes": completed, "per_second": completed / seconds, "server_cpu_seconds": cpu,
                         "per_server_cpu_second": completed / cpu if cpu else None, "s_time": match.group(0) if match else output[-300:],
                         "failures": sum(stats["tls_handshake_failures"].values())}
        print(f"handshakes ({kind}): {completed:,} in {seconds} s = {completed / seconds:,.0f}/s; server CPU {cpu:.2f} s = "
              f"{completed / cpu:,.0f} per CPU-second", file=sys.stderr)
    return results


def idle_connections(pki, count):
    """RSS growth of the server per idle connection: `count` plain TCP connections, then `count` TLS ones (each
    through its handshake and one line), held open while the server's RSS is read."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 2 * count + 100)), hard))
    context = ssl.create_default_context(cafile=pki.ca)
    results = {}
    for kind in ("plain", "tls"):
        server = LogStreamTLS(pki, records=100_000, arena="64M", warm=False)
        tcp = free_port()
        server.start(tcp, free_port(socket.SOCK_DGRAM))
        try:
            time.sleep(0.5)
            before = rss_bytes(server.process.pid)
            held = []
            for index in range(count):
                raw = socket.create_connection(("127.0.0.1", server.tls_port if kind == "tls" else tcp))
                connection = context.wrap_socket(raw, server_hostname="localhost") if kind == "tls" else raw
                connection.sendall(b"INFO [idle] connection %d says hello\n" % index)
                held.append(connection)
            wait_growth(lambda: received(server.http, "https") or 0, count)
            time.sleep(0.5)
            after = rss_bytes(server.process.pid)
            for connection in held:
                connection.close()
        finally:
            server.stop()
        results[kind] = (after - before) / count
        print(f"idle {kind} connections: {count} hold {(after - before) / 1024:,.0f} KiB = {(after - before) / count:,.0f} bytes each",
              file=sys.stderr)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--handshake-seconds", type=int, default=10)
    parser.add_argument("--idle-connections", type=int, default=2000)
    parser.add_argument("--no-write", action="store_true")
    options = parser.parse_args()

    subprocess.run(["swift", "build", "-c", "release", "--product", "logstream"], cwd=ROOT, check=True, capture_output=True)
    subprocess.run(["swift", "build", "-c", "release", "--product", "logstream-gen"], cwd=ROOT, check=True, capture_output=True)
    if not os.path.exists("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "rsyslog", "rsyslog-openssl"], check=True, capture_output=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    Rsyslog.prepare()
    WORK.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="logstream-bench-tls-"))
    try:
        pki = make_pki(folder)
        context = ssl.create_default_context(cafile=pki["rsa"].ca)
        receivers = [
            ("LogStream, plain TCP", LogStream(), lambda receiver, tcp: tcp, None),
            ("LogStream, TLS", LogStreamTLS(pki["rsa"]), lambda receiver, tcp: receiver.tls_port, context),
            ("rsyslog, plain TCP", Rsyslog(), lambda receiver, tcp: tcp, None),
            ("rsyslog, TLS", RsyslogTLS(pki["rsa"]), lambda receiver, tcp: tcp, context),
        ]
        rates = throughput(receivers, options.lines, options.runs)
        shakes = handshakes(pki, options.handshake_seconds)
        idle = idle_connections(pki["rsa"], options.idle_connections)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report = {"lines": options.lines, "runs": options.runs, "throughput": rates, "handshakes": shakes, "idle_bytes": idle}
    print(json.dumps(report, indent=1))
    if not options.no_write:
        (ROOT / "bench" / "TLS.md").write_text(markdown(report, options))


def median(values):
    return statistics.median(values)


def markdown(report, options):
    rates = {name: [run["rate"] for run in runs] for name, runs in report["throughput"].items()}
    cpu = {name: median([run["cpu_ns_per_line"] for run in runs]) for name, runs in report["throughput"].items()}
    ratio = lambda a, b: [x / y for x, y in zip(rates[a], rates[b])]
    span = lambda values, unit="": f"{median(values):,.2f}{unit} ({min(values):,.2f}–{max(values):,.2f})"
    lines = ["# TLS: syslog over TLS against plain TCP, rsyslog, handshakes, idle connections", "",
             f"`python3 bench/tls.py --lines {options.lines} --runs {options.runs}` on the 2-core development machine; medians of "
             f"{options.runs} runs with min–max, every ratio within one run (the machine is shared and its speed drifts).", "",
             "| receiver | lines/s | server CPU a line | lines held |", "|---|---|---|---|"]
    for name, runs in report["throughput"].items():
        values = rates[name]
        lines.append(f"| {name} | {median(values):,.0f} ({min(values):,.0f}–{max(values):,.0f}) | {cpu[name]:.0f} ns | "
                     f"{min(run['held'] for run in runs):,} of {report['lines']:,} |")
    lines += ["", "| ratio, same run | median (min–max) |", "|---|---|",
              f"| LogStream TLS / LogStream plain TCP | {span(ratio('LogStream, TLS', 'LogStream, plain TCP'))} |",
              f"| LogStream TLS / rsyslog TLS | {span(ratio('LogStream, TLS', 'rsyslog, TLS'))} |",
              f"| rsyslog TLS / rsyslog plain TCP | {span(ratio('rsyslog, TLS', 'rsyslog, plain TCP'))} |",
              f"| LogStream plain TCP / rsyslog plain TCP | {span(ratio('LogStream, plain TCP', 'rsyslog, plain TCP'))} |", "",
              f"Full handshakes (`openssl s_time -new`, {options.handshake_seconds} s, one client process) into the syslog TLS port; the "
              "server's CPU from /proc:", "", "| certificate | handshakes/s | per server CPU-second | failures |", "|---|---|---|---|"]
    for kind, shake in report["handshakes"].items():
        lines.append(f"| {kind} | {shake['per_second']:,.0f} | {shake['per_server_cpu_second']:,.0f} | {shake['failures']} |")
    idle = report["idle_bytes"]
    lines += ["", f"Idle connections ({options.idle_connections} held open after one line each): RSS growth per connection "
              f"{idle['tls']:,.0f} bytes over TLS, {idle['plain']:,.0f} bytes plain TCP (OpenSSL releases its record buffers "
              "while a connection is idle: SSL_MODE_RELEASE_BUFFERS).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
