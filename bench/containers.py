#!/usr/bin/env python3
"""Docker's two logging drivers' protocols against plain TCP lines, side by side in one run: records/s and the
server's CPU per record for GELF over UDP (plain JSON, gzip, and 8 KB messages in 1,420-byte chunks), GELF over
TCP, and Fluent Forward in Message mode (Docker's fluentd driver), Forward mode (Fluent Bit), PackedForward and
gzip CompressedPackedForward (fluentd's out_forward), batches of 1,000; each against the same text sent as
lines over one TCP connection in the same run. Then the GELF chunk assembler under a flood of chunked messages
that never complete: the server's RSS against --gelf-max-pending-bytes. Writes bench/CONTAINERS.md unless
--no-write. Usage: python3 bench/containers.py [--records 300000] [--runs 3]

The server runs with --no-persist, so the figures are of the ingest path (decoding, the ring), not of the disk.
A Python client sends pre-built payloads; a UDP sender in Python is slower than the server, so UDP's records/s
is the sender's and its CPU per record is the figure that compares; TCP and Forward are sent in large writes."""
import argparse
import gzip
import http.client
import json
import os
import random
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import msgpack

from common import RELEASE, ROOT, free_port, wait_growth, wait_started

BATCH = 1000
CHUNK_PAYLOAD = 1420 - 12  # Docker's gelf driver (go-gelf): 1,420-byte datagrams, a 12-byte chunk header
SERVICES = ["checkout", "auth", "payments", "search", "gateway"]
LEVELS = ["INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"]
PAGE = os.sysconf("SC_PAGE_SIZE")


def make_lines(count):
    """An application's lines as a container writes them (about 130 bytes)."""
    rng = random.Random(8)
    return [(f"2026-11-29T10:10:00.{rng.randrange(1000):03d}Z {rng.choice(LEVELS)} [{rng.choice(SERVICES)}] request handled "
             f"path=/api/v1/orders/{rng.randrange(10**6)} status={rng.choice([200, 201, 404, 500])} ms={rng.randrange(1, 900)} "
             f"user=u{rng.randrange(5000)}") for _ in range(count)]


def gelf_message(line, number):
    """The JSON Docker's gelf driver writes for one line (moby's daemon/logger/gelf, go-gelf's Message)."""
    return json.dumps({"version": "1.1", "host": "docker-host", "short_message": line, "timestamp": 1764352805 + number / 1000,
                       "level": 6, "_container_id": "4f1c2d9e8a7b", "_container_name": "/checkout-1", "_image_id": "sha256:9a8b7c",
                       "_image_name": "shop/checkout:1.4", "_command": "/app/server", "_tag": "4f1c2d9e8a7b", "_created": "2026-11-29T10:00:00Z"},
                      separators=(",", ":")).encode()


def event_time(number):
    return msgpack.ExtType(0, struct.pack(">II", 1764352805 + number // 1000, (number % 1000) * 1_000_000))


def docker_record(line):
    """The record Docker's fluentd driver sends for one line."""
    return {"container_id": "4f1c2d9e8a7b", "container_name": "/checkout-1", "source": "stdout", "log": line}


def chunked(message, message_id):
    """go-gelf's chunks of one message: 1e 0f, the id, sequence, count, then the piece."""
    count = -(-len(message) // CHUNK_PAYLOAD)
    return [b"\x1e\x0f" + message_id + bytes([index, count]) + message[index * CHUNK_PAYLOAD:(index + 1) * CHUNK_PAYLOAD]
            for index in range(count)]


def build_payloads(lines):
    pack = msgpack.Packer(use_bin_type=True).pack
    batches = [range(start, min(start + BATCH, len(lines))) for start in range(0, len(lines), BATCH)]
    gelf = [gelf_message(line, number) for number, line in enumerate(lines)]
    # 8 KB messages: a line with a stack trace's worth of text, uncompressed, so each is 6 chunks.
    big_count = len(lines) // 20
    big = [gelf_message(lines[number] + " trace " + "x" * 8000, number) for number in range(big_count)]
    entries = [b"".join(pack([event_time(n), docker_record(lines[n])]) for n in batch) for batch in batches]
    return {
        "tcp": "\n".join(lines).encode() + b"\n",
        "gelf_udp": gelf,
        "gelf_udp_gzip": [gzip.compress(message, compresslevel=6) for message in gelf],
        "gelf_udp_chunked": [chunk for number, message in enumerate(big) for chunk in chunked(message, struct.pack(">Q", number + 1))],
        "gelf_udp_chunked_records": big_count,
        "gelf_tcp": b"\0".join(gelf) + b"\0",
        "forward_message": b"".join(pack(["docker.checkout", event_time(n), docker_record(line), {}]) for n, line in enumerate(lines)),
        "forward_forward": b"".join(pack(["docker.checkout", [[event_time(n), docker_record(lines[n])] for n in batch], {"size": len(batch)}])
                                    for batch in batches),
        "forward_packed": b"".join(pack(["docker.checkout", entry, {"size": BATCH}]) for entry in entries),
        "forward_compressed": b"".join(pack(["docker.checkout", gzip.compress(entry, compresslevel=6), {"size": BATCH, "compressed": "gzip"}])
                                       for entry in entries),
    }


class Server:
    def __init__(self, *flags):
        self.http_port, self.tcp_port, self.udp_port = free_port(), free_port(), free_port(socket.SOCK_DGRAM)
        self.gelf_port, self.forward_port = free_port(), free_port()
        self.process = subprocess.Popen([str(RELEASE / "logstream"), "--no-persist", "--bind", "127.0.0.1", "--http-port", str(self.http_port),
                                         "--tcp-port", str(self.tcp_port), "--udp-port", str(self.udp_port),
                                         "--gelf-port", str(self.gelf_port), "--forward-port", str(self.forward_port),
                                         "--buffer-size", "2000000", "--buffer-bytes", "128M", "--static-dir", str(ROOT / "static"), *flags],
                                        stderr=subprocess.DEVNULL)
        wait_started(self.stats)

    def stats(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        connection.request("GET", "/api/stats")
        return json.loads(connection.getresponse().read())

    def cpu_seconds(self):
        """CPU time of every thread, in nanoseconds from schedstat (/proc's stat counts 10 ms ticks)."""
        total = 0
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                pass  # a thread that ended meanwhile
        return total / 1e9

    def rss_bytes(self):
        return int(Path(f"/proc/{self.process.pid}/statm").read_text().split()[1]) * PAGE

    def wait_received(self, count, settle=2.0):
        """Waits for `count` records; returns the count when it stops growing short of it (datagrams lost)."""
        return wait_growth(lambda: self.stats()["received"], count, settle)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


def send_stream(port, payload):
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(payload)


def send_datagrams(port, datagrams):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        address = ("127.0.0.1", port)
        for datagram in datagrams:
            sender.sendto(datagram, address)


def measure(server, send, records):
    """Records/s, CPU µs per record and records lost of one `send` of `records` records."""
    before = server.stats()["received"]
    cpu = server.cpu_seconds()
    started = time.perf_counter()
    send()
    held, finished = server.wait_received(before + records)
    stored = held - before
    return stored / (finished - started), (server.cpu_seconds() - cpu) / max(stored, 1) * 1e6, records - stored


def run_once(payloads, records):
    """One server, warmed by an untimed pass of every scenario, then each scenario timed once, in turn."""
    server = Server()
    try:
        scenarios = {
            "TCP plain lines": (lambda: send_stream(server.tcp_port, payloads["tcp"]), records),
            "GELF UDP, JSON": (lambda: send_datagrams(server.gelf_port, payloads["gelf_udp"]), records),
            "GELF UDP, gzip": (lambda: send_datagrams(server.gelf_port, payloads["gelf_udp_gzip"]), records),
            "GELF UDP, 8 KB messages in 1,420-byte chunks": (lambda: send_datagrams(server.gelf_port, payloads["gelf_udp_chunked"]),
                                                             payloads["gelf_udp_chunked_records"]),
            "GELF TCP (NUL-framed)": (lambda: send_stream(server.gelf_port, payloads["gelf_tcp"]), records),
            "Forward, Message mode (Docker)": (lambda: send_stream(server.forward_port, payloads["forward_message"]), records),
            "Forward, Forward mode (Fluent Bit)": (lambda: send_stream(server.forward_port, payloads["forward_forward"]), records),
            "Forward, PackedForward (fluentd)": (lambda: send_stream(server.forward_port, payloads["forward_packed"]), records),
            "Forward, CompressedPackedForward": (lambda: send_stream(server.forward_port, payloads["forward_compressed"]), records),
        }
        for send, count in scenarios.values():  # warm: the ring's pages touched, the allocator grown
            measure(server, send, count)
        return {name: measure(server, send, count) for name, (send, count) in scenarios.items()}
    finally:
        server.stop()


def chunk_flood(bound_mib, messages):
    """RSS while `messages` chunked messages arrive that never complete: each the first of 128 chunks of 1,408
    bytes, so the flood offers far more than the bound; then after their 5 s expiry."""
    server = Server("--gelf-max-pending-bytes", f"{bound_mib}M")
    try:
        piece = os.urandom(CHUNK_PAYLOAD)
        rss_before = server.rss_bytes()
        peak = rss_before
        offered = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for number in range(messages):
                sender.sendto(b"\x1e\x0f" + struct.pack(">Q", number) + b"\x00\x80" + piece, ("127.0.0.1", server.gelf_port))
                offered += CHUNK_PAYLOAD
                if number % 5000 == 0:
                    peak = max(peak, server.rss_bytes())
        time.sleep(1)
        stats = server.stats()
        peak = max(peak, server.rss_bytes())
        time.sleep(6.5)  # past the 5 s expiry and the next 1 s timer
        after = server.stats()
        return {"bound": bound_mib * 2**20, "offered": offered, "rss_before": rss_before, "rss_peak": peak, "rss_after_expiry": server.rss_bytes(),
                "pending": stats["gelf_pending_chunk_bytes"], "dropped": stats["gelf_chunks_dropped_for_memory"],
                "pending_after": after["gelf_pending_chunk_bytes"], "expired": after["gelf_chunks_expired"], "kernel_drops": after["gelf_udp_kernel_drops"]}
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--flood-messages", type=int, default=200_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    subprocess.run(["swift", "build", "-c", "release", "--product", "logstream"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)

    lines = make_lines(args.records)
    payloads = build_payloads(lines)
    runs = [run_once(payloads, args.records) for _ in range(args.runs)]
    rows = []
    for name in runs[0]:
        rows.append((name, statistics.median(run[name][0] for run in runs),
                     statistics.median(run[name][0] / run["TCP plain lines"][0] for run in runs),
                     statistics.median(run[name][1] for run in runs),
                     statistics.median(run[name][1] / run["TCP plain lines"][1] for run in runs),
                     max(run[name][2] for run in runs)))
    flood = chunk_flood(16, args.flood_messages)

    table = ["| sender | records/s (median) | against TCP lines | server CPU µs per record | against TCP lines | lost (worst run) |",
             "|---|---|---|---|---|---|"]
    table += [f"| {name} | {rate / 1e3:,.0f}K | {ratio:.2f} | {cpu:.2f} | {cpu_ratio:.2f} | {lost:,} |"
              for name, rate, ratio, cpu, cpu_ratio, lost in rows]
    mib = lambda value: f"{value / 2**20:.1f} MiB"
    flood_table = ["| bound (--gelf-max-pending-bytes) | chunk bytes offered | held at the end | RSS before | RSS peak | growth | messages dropped for memory | after expiry: held, RSS |",
                   "|---|---|---|---|---|---|---|---|",
                   f"| {mib(flood['bound'])} | {mib(flood['offered'])} | {mib(flood['pending'])} | {mib(flood['rss_before'])} | {mib(flood['rss_peak'])} | "
                   f"{mib(flood['rss_peak'] - flood['rss_before'])} | {flood['dropped']:,} | {mib(flood['pending_after'])}, {mib(flood['rss_after_expiry'])} |"]
    text = "\n".join(table) + "\n\n" + "\n".join(flood_table) + "\n"
    print(text)
    if not args.no_write:
        (ROOT / "bench" / "CONTAINERS.md").write_text(
            "# Docker's logging drivers' protocols against TCP lines\n\n"
            f"`python3 bench/containers.py --records {args.records} --runs {args.runs}`: {args.records:,} application lines "
            f"(~{sum(map(len, lines)) // len(lines)} B) sent as lines over one TCP connection; the same lines as the GELF messages Docker's "
            f"gelf driver writes (~{sum(map(len, payloads['gelf_udp'])) // args.records} B of JSON each, its `_container_*` members included), "
            "one per datagram, plain and gzip (the driver's default), and NUL-framed over TCP; "
            f"{payloads['gelf_udp_chunked_records']:,} 8 KB messages in go-gelf's 1,420-byte chunks; and as Forward events with Docker's record "
            f"(`container_id`, `container_name`, `source`, `log`) in each mode, batches of {BATCH:,}. Medians of {args.runs} runs, each ratio "
            "within its run; CPU is the server's threads' run time (schedstat) over the records stored. The UDP senders are "
            "one Python socket, slower than the server: their records/s is the sender's, their CPU per record the figure to compare.\n\n"
            + "\n".join(table) + "\n\n"
            f"The chunk assembler's bound: {args.flood_messages:,} datagrams, each the first of 128 chunks of a message that never "
            f"completes ({CHUNK_PAYLOAD:,} B each), into a server with `--gelf-max-pending-bytes 16M`:\n\n" + "\n".join(flood_table) + "\n")


if __name__ == "__main__":
    sys.exit(main())
