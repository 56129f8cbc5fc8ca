#!/usr/bin/env python3
"""Soak: LogStream under mixed, partly hostile load for a while, watching that it stays flat and loses nothing
it accepted.

Load, all at once, on loopback: TCP lines at --tcp-rate and UDP datagrams at --udp-rate (logstream-gen), 50
WebSocket clients of which 40 read a filtered tail and 10 never read (reconnecting when cut off), 5 slowloris
connections trickling a request head (reconnecting when closed), a malformed HTTP request every second, and a
checked stream: numbered lines over their own TCP connection, which a reading WebSocket client must receive
every one of, in order. Every 5 s: RSS, malloc's own figures (from /metrics), open descriptors, lines/s. At the
end: drops by cause, whether RSS (median of the last third vs the first) and descriptors (second half vs first)
stayed flat, and the checked stream's count.

Usage: bench/soak.py [--minutes 30] [--check] [--auth-token T]   (--check: exit non-zero unless RSS stays under the README's
ceiling, descriptors (and, over 10 minutes or more, RSS) stay flat, the checked stream is complete and every
malformed request gets its status; ./test.sh runs --minutes 2 --check). Writes bench/SOAK.md unless --no-write.
"""
import argparse
import atexit
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from statistics import median

from websockets.sync.client import connect

sys.path.insert(0, os.path.dirname(__file__))
from common import RELEASE, ROOT, free_port, wait_started  # noqa: E402

# Malformed requests and the status each must get.
MALFORMED = [
    (b"GARBAGE\r\n\r\n", 400), (b"GET / HTTP/9.9\r\n\r\n", 505), (b"GET /api/logs HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
    (b"POST /api/logs HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello", 400),
    (b"GET /api/logs?q=(((( HTTP/1.1\r\nHost: x\r\n\r\n", 400), (b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n", 400),
    (b"GET /static/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 404),
]


def malformed_requests(header_lines):
    """With a token (its header lines), each malformed request carries it (so its own status is what is
    checked), and one request without it must get 401."""
    if not header_lines:
        return MALFORMED
    return [(request.replace(b"\r\n", b"\r\n" + header_lines, 1), status) for request, status in MALFORMED] + \
        [(b"GET /api/logs HTTP/1.1\r\nHost: x\r\n\r\n", 401)]


class Soak:
    def __init__(self, args):
        self.args = args
        self.tcp, self.udp, self.http = free_port(), free_port(socket.SOCK_DGRAM), free_port()
        # Persistence on, as the server runs by default, in a directory of the soak's own.
        self.data_dir = tempfile.mkdtemp(prefix="logstream-soak-")
        atexit.register(shutil.rmtree, self.data_dir, ignore_errors=True)
        self.stop = threading.Event()
        self.counts = {"checked_sent": 0, "checked_seen": 0, "checked_out_of_order": 0, "stalled_cut_off": 0,
                       "slowloris_closed": 0, "malformed_sent": 0, "malformed_wrong_status": 0, "readers_failed": 0}
        self.lock = threading.Lock()
        self.wrong = []
        self.token = args.auth_token
        self.headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        # The same headers for clients that write their requests by hand.
        self.header_lines = "".join(f"{name}: {value}\r\n" for name, value in self.headers.items()).encode()
        self.malformed_requests = malformed_requests(self.header_lines)

    def count(self, name, amount=1):
        with self.lock:
            self.counts[name] += amount

    def get(self, path):
        request = urllib.request.Request(f"http://127.0.0.1:{self.http}{path}", headers=self.headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def stats(self):
        return json.loads(self.get("/api/stats"))

    def start_server(self):
        self.server = subprocess.Popen(
            [str(RELEASE / "logstream"), "--bind", "127.0.0.1", "--udp-port", str(self.udp), "--tcp-port", str(self.tcp),
             "--http-port", str(self.http), "--buffer-size", "200000", "--buffer-bytes", "64M", "--header-timeout", "3",
             "--ws-ping-interval", "5", "--idle-timeout", "30", "--static-dir", str(ROOT / "static"),
             "--data-dir", self.data_dir, "--retention-bytes", self.args.retention_bytes],
            stderr=subprocess.DEVNULL, env={**os.environ, **({"LOGSTREAM_AUTH_TOKEN": self.token} if self.token else {})})
        wait_started(self.stats)

    def generators(self, seconds):
        common = ["--duration", str(seconds)]
        return [subprocess.Popen([str(RELEASE / "logstream-gen"), "--protocol-name", "tcp", "--port", str(self.tcp),
                                  "--rate", str(self.args.tcp_rate), *common], stdout=subprocess.DEVNULL),
                subprocess.Popen([str(RELEASE / "logstream-gen"), "--protocol-name", "udp", "--port", str(self.udp),
                                  "--rate", str(self.args.udp_rate), *common], stdout=subprocess.DEVNULL)]

    def checked_sender(self):
        """Numbered lines at 200/s over one TCP connection."""
        with socket.create_connection(("127.0.0.1", self.tcp)) as connection:
            number = 0
            next_due = time.perf_counter()
            while not self.stop.is_set():
                connection.sendall(b"WARN [soakcheck] checked line seq=%d\n" % number)
                number += 1
                self.count("checked_sent")
                next_due += 0.005
                time.sleep(max(0.0, next_due - time.perf_counter()))

    def checked_reader(self, ready):
        """Receives the checked stream live; every number must come, in order."""
        expected = 0
        with connect(f"ws://127.0.0.1:{self.http}/ws", max_size=None, additional_headers=self.headers) as client:
            client.send(json.dumps({"type": "update_filters", "filters": {"q": "service:soakcheck"}, "batch": True}))
            ready.set()
            while not (self.stop.is_set() and self.counts["checked_seen"] >= self.counts["checked_sent"]):
                try:
                    message = json.loads(client.recv(timeout=2))
                except TimeoutError:
                    if self.stop.is_set():
                        return
                    continue
                for entry in message.get("data", []) if message["type"] == "batch" else []:
                    number = int(entry["raw"].rsplit("=", 1)[1])
                    if number != expected:
                        self.count("checked_out_of_order")
                    expected = number + 1
                    self.count("checked_seen")

    def reader(self, index):
        """A dashboard-like client: batches of a filtered tail."""
        try:
            with connect(f"ws://127.0.0.1:{self.http}/ws", max_size=None, additional_headers=self.headers) as client:
                client.send(json.dumps({"type": "update_filters", "filters": {"q": f"level:error service:{['mailer', 'user-db'][index % 2]}"},
                                        "batch": True}))
                while not self.stop.is_set():
                    try:
                        client.recv(timeout=1)
                    except TimeoutError:
                        continue
        except Exception:
            if not self.stop.is_set():
                self.count("readers_failed")

    def stalled(self):
        """A client that asks for everything and never reads; once cut off, it comes back."""
        while not self.stop.is_set():
            connection = socket.create_connection(("127.0.0.1", self.http))
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            key = base64.b64encode(os.urandom(16)).decode()
            connection.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + self.header_lines
                               + f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
            payload = json.dumps({"type": "update_filters", "filters": {}}).encode()
            mask = b"\x01\x02\x03\x04"
            connection.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
            # It sends an unsolicited pong each second (allowed, and it keeps pings from closing it): the server
            # cuts it off for staying behind, and a send then fails.
            pong = bytes([0x8A, 0x80]) + mask
            while not self.stop.wait(1):
                try:
                    connection.send(pong)
                except OSError:
                    break
            if not self.stop.is_set():
                self.count("stalled_cut_off")
            connection.close()

    def slowloris(self):
        while not self.stop.is_set():
            connection = socket.create_connection(("127.0.0.1", self.http))
            connection.settimeout(1)
            try:
                connection.sendall(b"GET /api/stats HTTP/1.1\r\n")
                while not self.stop.is_set():
                    connection.sendall(b"X-Slow: 1\r\n")  # a header line a second, never the blank line
                    try:
                        connection.recv(4096)  # the 408, or the close
                        break
                    except socket.timeout:
                        continue
            except OSError:
                pass
            if not self.stop.is_set():
                self.count("slowloris_closed")
            connection.close()

    def malformed(self):
        index = 0
        while not self.stop.is_set():
            request, status = self.malformed_requests[index % len(self.malformed_requests)]
            index += 1
            try:
                with socket.create_connection(("127.0.0.1", self.http), timeout=5) as connection:
                    connection.sendall(request)
                    answer = connection.recv(64)
                self.count("malformed_sent")
                if answer[9:12] != str(status).encode():
                    self.count("malformed_wrong_status")
                    self.wrong.append((request[:40], answer[:20]))
            except OSError as error:
                self.count("malformed_wrong_status")
                self.wrong.append((request[:40], str(error)))
            self.stop.wait(1)

    def sample(self):
        pid = self.server.pid
        with open(f"/proc/{pid}/status") as status:
            fields = {line.split(":")[0]: line.split()[1] for line in status if line.startswith(("VmRSS:", "RssFile:"))}
        rss, rss_file = int(fields["VmRSS"]) / 1024, int(fields["RssFile"]) / 1024
        metrics = dict(line.split(" ", 1) for line in self.get("/metrics").decode().splitlines() if not line.startswith("#"))
        disk = 0
        for name in os.listdir(self.data_dir):
            try:
                disk += os.path.getsize(os.path.join(self.data_dir, name))
            except OSError:
                pass  # removed by retention between listing and sizing
        return {"rss_mib": rss, "rss_file_mib": rss_file, "fds": len(os.listdir(f"/proc/{pid}/fd")), "stats": self.stats(), "disk_mib": disk / 2**20,
                "heap_mib": int(metrics["logstream_heap_allocated_bytes"]) / 2**20,
                "free_mib": int(metrics["logstream_heap_free_bytes"]) / 2**20}

    def run(self):
        seconds = int(self.args.minutes * 60)
        self.start_server()
        ready = threading.Event()
        threads = [threading.Thread(target=self.checked_reader, args=(ready,))]
        threads[0].start()
        ready.wait(10)
        threads += [threading.Thread(target=self.checked_sender)]
        threads += [threading.Thread(target=self.reader, args=(index,)) for index in range(40)]
        threads += [threading.Thread(target=self.stalled) for _ in range(10)]
        threads += [threading.Thread(target=self.slowloris) for _ in range(5)]
        threads += [threading.Thread(target=self.malformed)]
        for thread in threads[1:]:
            thread.start()
        generators = self.generators(seconds)
        samples, started = [], time.time()
        previous = None
        while time.time() - started < seconds:
            time.sleep(5)
            sample = self.sample()
            sample["t"] = round(time.time() - started)
            sample["lines_per_s"] = (sample["stats"]["received"] - previous["stats"]["received"]) / (sample["t"] - previous["t"]) if previous else None
            previous = sample
            samples.append(sample)
            print(f"{sample['t']:>5} s  RSS {sample['rss_mib']:7.1f} MiB  malloc'd {sample['heap_mib']:6.1f}  free {sample['free_mib']:6.1f}  "
                  f"(files {sample['rss_file_mib']:6.1f})  fds {sample['fds']:4}  disk {sample['disk_mib']:7.1f} MiB  "
                  f"{(sample['lines_per_s'] or 0):>10,.0f} lines/s", flush=True)
        for generator in generators:
            generator.wait()
        self.stop.set()
        for thread in threads:
            thread.join(timeout=20)
        final = self.stats()
        self.server.terminate()
        self.server.wait(timeout=20)
        return self.report(samples, final)

    def report(self, samples, final):
        # RSS over time: medians of the first and last thirds (after a 30 s warm-up, while the ring fills),
        # and min/median/max per window, so a creep shows as a rising median, not as one burst's peak.
        settled = [s for s in samples if s["t"] >= 30] or samples
        third = max(1, len(settled) // 3)
        first_median, last_median = median(s["rss_mib"] for s in settled[:third]), median(s["rss_mib"] for s in settled[-third:])
        rss_flat = last_median <= first_median * 1.10
        half = len(samples) // 2
        first, second = samples[1:half] or samples[:1], samples[half:]
        fd_range = (min(s["fds"] for s in second), max(s["fds"] for s in second))
        fd_first_max = max(s["fds"] for s in first)
        descriptors_flat = fd_range[1] <= fd_first_max + 20
        rates = [s["lines_per_s"] for s in samples if s["lines_per_s"]]
        causes = ["udp_kernel_drops", "truncated", "websocket_messages_dropped", "websocket_slow_closed", "websocket_ping_timeouts",
                  "http_header_timeouts", "http_connections_refused", "tcp_connections_refused", "tcp_idle_closed", "evicted"]
        complete = self.counts["checked_seen"] == self.counts["checked_sent"] and self.counts["checked_out_of_order"] == 0
        # The README's ceiling for this configuration: slots and arena (8 + 64 MiB), host names and buffers
        # (19 MiB), the runtime (15 MiB), 51 WebSocket clients at 4 MiB, 10 HTTP connections at 1 MiB, and
        # the worker's answer (32 MiB), and the disk history (64 MiB waiting for the disk, 20 MiB of batches,
        # 4 MiB of block being built, 32 MiB of decoded blocks): what --check holds the peak to.
        ceiling = 8 + 64 + 19 + 15 + 51 * 4 + 10 + 32 + 120
        peak = max(s["rss_mib"] for s in samples)
        under_ceiling = peak <= ceiling
        # The data directory, as its files' sizes: within --retention-bytes and the 25 % the issue allows.
        retention_mib = parse_size(self.args.retention_bytes) / 2**20
        disk_peak = max(s["disk_mib"] for s in samples)
        disk_bounded = disk_peak <= retention_mib * 1.25
        window = 300 if self.args.minutes >= 10 else 60
        starts = range(0, max(samples[-1]["t"] - window // 2, 1), window)  # a short tail joins the last window
        windows = [[s for s in samples if start <= s["t"] and (s["t"] < start + window or start == starts[-1])] for start in starts]
        window_rows = [f"| {w[0]['t']}–{w[-1]['t']} | {min(s['rss_mib'] for s in w):.1f} / {median(s['rss_mib'] for s in w):.1f} / "
                       f"{max(s['rss_mib'] for s in w):.1f} | {median(s['heap_mib'] for s in w):.1f} | {min(s['fds'] for s in w)}–{max(s['fds'] for s in w)} | "
                       f"{median(s['lines_per_s'] or 0 for s in w):,.0f} |" for w in windows if w]
        # Every sample for short runs; every sixth (30 s apart) for long ones.
        shown = samples if self.args.minutes <= 10 else samples[::6]
        lines = [f"# Soak: {self.args.minutes:g} minutes of mixed load", "",
                 f"`bench/soak.py --minutes {self.args.minutes:g}` on {time.strftime('%Y-%m-%d')}: TCP at {self.args.tcp_rate:,}/s and UDP at "
                 f"{self.args.udp_rate:,}/s (logstream-gen), 40 reading and 10 never-reading WebSocket clients, 5 slowloris "
                 "connections, a malformed request every second, and a checked stream of numbered lines at 200/s "
                 "received live by a WebSocket client. Ring: 200,000 records, 64 MiB."
                 + (" With an auth token: every client sends it, and one request a cycle comes without it (401)." if self.token else ""), "",
                 f"| window (s) | RSS MiB min / median / max | malloc'd MiB (median) | open fds | lines/s (median) |",
                 "|---|---|---|---|---|", *window_rows, "",
                 "Samples (malloc'd: bytes the server holds from malloc; free: what malloc holds unused, resident or not):", "",
                 "| t (s) | RSS MiB | malloc'd MiB | malloc free MiB | open fds | lines/s |", "|---|---|---|---|---|---|"]
        lines += [f"| {s['t']} | {s['rss_mib']:.1f} | {s['heap_mib']:.1f} | {s['free_mib']:.1f} | {s['fds']} | {(s['lines_per_s'] or 0):,.0f} |"
                  for s in shown]
        lines += ["", f"- Received {final['received']:,} lines; median {sorted(rates)[len(rates) // 2]:,.0f} lines/s." if rates else "",
                  f"- RSS median, last third vs first third (after 30 s): {last_median:.1f} vs {first_median:.1f} MiB "
                  f"(**{last_median / first_median:.3f}**: {'flat' if rss_flat else 'GROWING'}); open descriptors in the second half "
                  f"{fd_range[0]}–{fd_range[1]} (first half at most {fd_first_max}): **{'flat' if descriptors_flat else 'GROWING'}**. Peak RSS "
                  f"{peak:.1f} MiB, under the README's ceiling for this configuration ({ceiling} MiB): "
                  f"**{'yes' if under_ceiling else 'NO'}**.",
                  f"- Data directory (segment files and indexes): at most {disk_peak:.1f} MiB against --retention-bytes {self.args.retention_bytes} "
                  f"({retention_mib:.0f} MiB; the bound plus 25 % is {retention_mib * 1.25:.0f}): **{'within' if disk_bounded else 'OVER'}**; "
                  f"{final.get('disk_records_persisted', 0):,} records persisted, {final.get('disk_retention_removals', 0):,} files removed by retention, "
                  f"{final.get('disk_write_errors', 0):,} write errors, {final.get('disk_records_not_persisted', 0):,} records not persisted.",
                  f"- Checked stream: **{self.counts['checked_seen']:,} of {self.counts['checked_sent']:,}** lines received live, "
                  f"{self.counts['checked_out_of_order']} out of order.",
                  "- Drops and cut-offs by cause (server counters): " + ", ".join(f"{name} {final.get(name, 0):,}" for name in causes) + ".",
                  f"- Load side: never-reading clients cut off {self.counts['stalled_cut_off']} times, slowloris connections closed "
                  f"{self.counts['slowloris_closed']} times, {self.counts['malformed_sent']} malformed requests "
                  f"({self.counts['malformed_wrong_status']} answered otherwise than {'/'.join(sorted({str(status) for _, status in self.malformed_requests}))} as each should be), reading clients failed {self.counts['readers_failed']} times.", ""]
        text = "\n".join(lines)
        print(text)
        for request, answer in self.wrong[:5]:
            print("unexpected answer:", request, answer)
        if not self.args.no_write:
            (ROOT / "bench" / "SOAK.md").write_text(text)
        # Over two minutes a few bursts decide the medians; the RSS trend is judged on runs of 10 minutes or more.
        return (under_ceiling and disk_bounded and descriptors_flat and (rss_flat or self.args.minutes < 10) and complete and self.counts["malformed_wrong_status"] == 0
                and self.counts["readers_failed"] == 0)


def parse_size(text):
    """`256M` as bytes (K, M, G, T as the server reads them)."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1:].upper() in units else int(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--tcp-rate", type=int, default=100_000)
    parser.add_argument("--udp-rate", type=int, default=50_000)
    parser.add_argument("--retention-bytes", default="256M", help="the server's --retention-bytes (the soak checks the data directory stays within it)")
    parser.add_argument("--check", action="store_true", help="exit non-zero unless bounded, flat in descriptors and complete")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/SOAK.md")
    parser.add_argument("--auth-token", help="run the server with this token (every client then sends it)")
    args = parser.parse_args()
    ok = Soak(args).run()
    if args.check and not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
