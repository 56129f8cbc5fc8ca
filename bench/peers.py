#!/usr/bin/env python3
"""LogStream beside the physical limit (a minimal C receiver) and rsyslog, measured side by side in one run.

Usage: bench/peers.py [--runs 3] [--tcp-lines 5000000] [--udp-lines 1000000]
Every receiver gets the same lines from the same generator (logstream-gen), on loopback; receivers alternate
within each run. Rates are lines the receiver holds (LogStream: /api/stats; raw receiver: its own count;
rsyslog: bytes written to its output file) over the time from the first send to the last line held. UDP loss
is lines sent minus lines held. Writes bench/RESULTS.md and bench/results.json.
rsyslog runs in the foreground on private files and loopback ports (installed with apt-get when missing).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common import RELEASE, ROOT, free_port, received, start_logstream, wait_growth

WORK = ROOT / "bench" / ".build-peers"


def wait_until(condition, timeout, poll=0.005):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    return None


class LogStream:
    name = "LogStream"

    def start(self, tcp, udp):
        self.http = free_port()
        self.process = start_logstream(tcp, udp, self.http)

    def held(self, sent, started):
        count, finished = wait_growth(lambda: received(self.http) or 0, sent["lines"])
        return count, finished - started

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=10)


class RawReceiver:
    name = "raw C receiver"

    def start(self, tcp, udp, expect=0):
        self.process = subprocess.Popen([str(WORK / "raw-receiver"), "--tcp", str(tcp), "--udp", str(udp),
                                         "--expect", str(expect)], stdout=subprocess.PIPE, text=True)
        self.process.stdout.readline()  # "ready"

    def held(self, sent, started):
        """It exits at --expect lines, timed like the others from the first send. If lines were lost (UDP) it
        is stopped, says what it got, and its own first-to-last-line time is used."""
        try:
            self.process.wait(timeout=30 if sent["protocol"] == "tcp" else 3)
            finished = time.perf_counter()
            report = json.loads(self.process.stdout.read().strip().splitlines()[-1])
            return report["lines"], finished - started
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGTERM)
            report = json.loads(self.process.stdout.read().strip().splitlines()[-1])
            return report["lines"], report["seconds"]

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


class Rsyslog:
    name = "rsyslog"
    binary = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"

    def start(self, tcp, udp):
        self.folder = Path(tempfile.mkdtemp(dir=WORK))
        self.output = self.folder / "out.log"
        (self.folder / "rsyslog.conf").write_text(f"""
global(workDirectory="{self.folder}" maxMessageSize="64k")
module(load="imtcp" MaxSessions="200")
module(load="imudp")
input(type="imtcp" address="127.0.0.1" port="{tcp}" ruleset="out")
input(type="imudp" address="127.0.0.1" port="{udp}" ruleset="out" rcvbufSize="32m")
template(name="raw" type="string" string="%rawmsg%\\n")
ruleset(name="out") {{
    action(type="omfile" file="{self.output}" template="raw" asyncWriting="on" ioBufferSize="1m" flushInterval="1")
}}
""")
        self.process = subprocess.Popen([self.binary, "-n", "-f", str(self.folder / "rsyslog.conf"),
                                         "-i", str(self.folder / "rsyslogd.pid")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: port_open(tcp), 10, 0.05)

    def held(self, sent, started):
        """Unparsed lines written to a file: every line sent comes out as itself plus a newline."""
        def written():
            try:
                return self.output.stat().st_size
            except FileNotFoundError:
                return 0
        size, finished = wait_growth(written, sent["bytes"], settle=2.5)
        return round(sent["lines"] * size / sent["bytes"]), finished - started

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def measure(receiver, protocol, lines):
    tcp, udp = free_port(), free_port(socket.SOCK_DGRAM)
    if isinstance(receiver, RawReceiver):
        receiver.start(tcp, udp, expect=lines)
    else:
        receiver.start(tcp, udp)
    try:
        started = time.perf_counter()
        result = subprocess.run([str(RELEASE / "logstream-gen"), "--protocol-name", protocol,
                                 "--port", str(tcp if protocol == "tcp" else udp), "--rate", "0", "--count", str(lines)],
                                check=True, capture_output=True, text=True)
        sent = json.loads(result.stdout.strip().splitlines()[-1])
        held, seconds = receiver.held(sent, started)
        return {"lines_per_second": held / seconds, "lost": max(0, lines - held)}
    finally:
        receiver.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tcp-lines", type=int, default=5_000_000)
    parser.add_argument("--udp-lines", type=int, default=1_000_000)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    subprocess.run(["swift", "build", "-c", "release"], cwd=ROOT, check=True, capture_output=True)
    subprocess.run(["gcc", "-O2", "-o", str(WORK / "raw-receiver"), str(ROOT / "bench/peers/raw-receiver.c")], check=True)
    if not os.path.exists(Rsyslog.binary):
        subprocess.run(["apt-get", "install", "-y", "-qq", "rsyslog"], check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    receivers = [RawReceiver(), LogStream(), Rsyslog()]
    scenarios = [("tcp", args.tcp_lines), ("udp", args.udp_lines)]
    samples = {(receiver.name, protocol): [] for receiver in receivers for protocol, _ in scenarios}
    for run in range(args.runs):
        for protocol, lines in scenarios:
            for receiver in receivers:  # alternate receivers within each run: the machine is shared and noisy
                sample = measure(receiver, protocol, lines)
                samples[(receiver.name, protocol)].append(sample)
                print(f"run {run + 1} {protocol} {receiver.name}: {sample['lines_per_second']:,.0f} lines/s, lost {sample['lost']:,}", flush=True)
    write_results(samples, scenarios, receivers, args)


def write_results(samples, scenarios, receivers, args):
    table = ["| scenario | receiver | median lines/s | min | max | lost (all runs) | vs raw receiver | vs rsyslog |",
             "|---|---|---|---|---|---|---|---|"]
    results = []
    for protocol, lines in scenarios:
        medians = {receiver.name: statistics.median(s["lines_per_second"] for s in samples[(receiver.name, protocol)])
                   for receiver in receivers}
        for receiver in receivers:
            rates = [s["lines_per_second"] for s in samples[(receiver.name, protocol)]]
            lost = sum(s["lost"] for s in samples[(receiver.name, protocol)])
            median = medians[receiver.name]
            table.append(f"| {protocol.upper()}, {lines:,} lines x {args.runs} | {receiver.name} | {median:,.0f} | "
                         f"{min(rates):,.0f} | {max(rates):,.0f} | {lost:,} | {median / medians['raw C receiver']:.2f} | "
                         f"{median / medians['rsyslog']:.2f} |")
            results.append({"protocol": protocol, "lines": lines, "receiver": receiver.name, "median": median,
                            "min": min(rates), "max": max(rates), "lost": lost})
    text = "\n".join(table)
    command = f"python3 bench/peers.py --runs {args.runs} --tcp-lines {args.tcp_lines} --udp-lines {args.udp_lines}"
    (ROOT / "bench" / "RESULTS.md").write_text(
        "# Results\n\nProduced by `" + command + "` on " + time.strftime("%Y-%m-%d") + " (" + str(os.cpu_count())
        + " cores). One generator (`logstream-gen`, ~75-byte lines, TCP over one connection, UDP one line per datagram "
        "with sendmmsg) feeds each receiver in turn; medians of the runs.\n\n" + text + "\n")
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(text)



if __name__ == "__main__":
    main()
