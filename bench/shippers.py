#!/usr/bin/env python3
"""The shippers' endpoints against plain TCP lines, side by side in one run: records/s and CPU per record for
NDJSON (`/api/ingest`), OTLP protobuf (`/v1/logs`, batches of 1,000) and Loki snappy protobuf
(`/loki/api/v1/push`, batches of 1,000), each against the same lines sent over one TCP connection in the same
run; then the live tail's latency while 16 MB OTLP bodies are being decoded. Writes bench/SHIPPERS.md unless
--no-write. Usage: python3 bench/shippers.py [--records 1000000] [--runs 3]

The server runs with --no-persist, so the figures are of the HTTP path (decoding, the batch, the ring), not of
the disk, which costs every path the same. Two client connections post in parallel, as shippers with more than
one worker do; each request is answered only once its records are stored."""
import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import snappy
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from websockets.sync.client import connect

from common import RELEASE, ROOT, free_port, wait_started

BATCH = 1000
SERVICES = ["checkout", "auth", "payments", "search", "gateway"]
LEVELS = ["info", "info", "info", "warn", "error", "debug"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def make_lines(count):
    rng = random.Random(7)
    return [json.dumps({"level": rng.choice(LEVELS), "service": rng.choice(SERVICES), "msg": "request handled",
                        "path": f"/api/v1/orders/{rng.randrange(10**6)}", "status": rng.choice([200, 200, 201, 404, 500]),
                        "ms": rng.randrange(1, 900), "user": f"u{rng.randrange(5000)}"}, separators=(",", ":")).encode()
            for _ in range(count)]


def make_plain_lines(count):
    """Plain-text lines of about the same length, the cheapest lines to parse (the TCP path's best case)."""
    rng = random.Random(8)
    return [(f"2026-11-29T10:10:00.{rng.randrange(1000):03d}Z {rng.choice(LEVELS).upper()} [{rng.choice(SERVICES)}] request handled "
             f"path=/api/v1/orders/{rng.randrange(10**6)} status={rng.choice([200, 201, 404, 500])} ms={rng.randrange(1, 900)} "
             f"user=u{rng.randrange(5000)}").encode() for _ in range(count)]


def otlp_body(lines):
    request = logs_service_pb2.ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.attributes.add(key="service.name").value.string_value = "checkout"
    resource_logs.resource.attributes.add(key="host.name").value.string_value = "web-1"
    scope = resource_logs.scope_logs.add()
    scope.scope.name = "bench"
    for number, line in enumerate(lines):
        record = scope.log_records.add(time_unix_nano=1_764_352_805_000_000_000 + number, severity_number=9)
        record.body.string_value = line.decode()
        record.attributes.add(key="http.status").value.int_value = 200
        record.attributes.add(key="user").value.string_value = f"u{number}"
        record.trace_id = number.to_bytes(16, "big")
        record.span_id = number.to_bytes(8, "big")
    return request.SerializeToString()


def varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def loki_body(lines):
    """logproto.PushRequest, snappy-compressed, as Promtail sends it (its wire format written by hand here)."""
    entries = b"".join(field(2, field(1, b"\x08" + varint(1_764_352_805) + b"\x10" + varint(number)) + field(2, line))
                       for number, line in enumerate(lines))
    stream = field(1, b'{job="bench", service_name="checkout", host="web-1"}') + entries
    return snappy.compress(field(1, stream))


class Server:
    def __init__(self):
        self.http_port, self.tcp_port, self.udp_port = free_port(), free_port(), free_port(socket.SOCK_DGRAM)
        self.process = subprocess.Popen([str(RELEASE / "logstream"), "--no-persist", "--bind", "127.0.0.1", "--http-port", str(self.http_port),
                                         "--tcp-port", str(self.tcp_port), "--udp-port", str(self.udp_port), "--buffer-size", "2000000",
                                         "--buffer-bytes", "1G", "--static-dir", str(ROOT / "static")],
                                        stderr=subprocess.DEVNULL)
        wait_started(self.stats)

    def stats(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        connection.request("GET", "/api/stats")
        return json.loads(connection.getresponse().read())

    def cpu_seconds(self):
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def wait_received(self, count, timeout=600):
        deadline = time.time() + timeout
        while self.stats()["received"] < count:
            if time.time() > deadline:
                raise RuntimeError("records did not arrive")
            time.sleep(0.01)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


def post_all(port, path, bodies, content_type, connections=2):
    """Posts every body, spread over `connections` keep-alive connections in parallel; each must be 2xx."""
    def worker(share):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for body in share:
            connection.request("POST", path, body=body, headers={"Content-Type": content_type})
            response = connection.getresponse()
            response.read()
            assert 200 <= response.status < 300, response.status
        connection.close()
    threads = [threading.Thread(target=worker, args=(bodies[index::connections],)) for index in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def measure(server, send, records):
    """Records/s and CPU µs per record of one `send` of `records` records."""
    before = server.stats()["received"]
    cpu = server.cpu_seconds()
    started = time.perf_counter()
    send()
    server.wait_received(before + records)
    elapsed = time.perf_counter() - started
    return records / elapsed, (server.cpu_seconds() - cpu) / records * 1e6


def run_once(lines, plain_lines, bodies):
    """One server, warmed by an untimed pass of every scenario, then each scenario timed once, in turn."""
    server = Server()
    try:
        def tcp(payload):
            def send():
                with socket.create_connection(("127.0.0.1", server.tcp_port)) as connection:
                    connection.sendall(payload)
            return send
        scenarios = {
            "TCP plain lines": tcp(b"\n".join(plain_lines) + b"\n"),
            "TCP lines": tcp(b"\n".join(lines) + b"\n"),
            "NDJSON /api/ingest": lambda: post_all(server.http_port, "/api/ingest", bodies["ndjson"], "application/x-ndjson"),
            "OTLP protobuf /v1/logs": lambda: post_all(server.http_port, "/v1/logs", bodies["otlp"], "application/x-protobuf"),
            "Loki protobuf /loki/api/v1/push": lambda: post_all(server.http_port, "/loki/api/v1/push", bodies["loki"], "application/x-protobuf"),
        }
        for send in scenarios.values():  # warm: the ring's pages touched, the allocator grown
            measure(server, send, len(lines))
        return {name: measure(server, send, len(lines)) for name, send in scenarios.items()}
    finally:
        server.stop()


def tail_latency(seconds, big_body):
    """Milliseconds from a UDP line sent to its new_log on a WebSocket, idle and while `big_body` (OTLP) is posted
    again and again."""
    server = Server()
    try:
        results = {}
        for label, busy in (("idle", False), ("while 16 MB OTLP bodies are decoded", True)):
            stop = threading.Event()
            posted = [0]
            def poster():
                connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=120)
                while not stop.is_set():
                    connection.request("POST", "/v1/logs", body=big_body, headers={"Content-Type": "application/x-protobuf"})
                    response = connection.getresponse()
                    response.read()
                    posted[0] += 1
            thread = threading.Thread(target=poster) if busy else None
            latencies = []
            with connect(f"ws://127.0.0.1:{server.http_port}/ws", max_size=None) as client:
                client.send(json.dumps({"type": "update_filters", "filters": {"query": "tailprobe"}}))
                client.recv(timeout=10)  # the history
                sent = {}
                def receiver():
                    while True:
                        try:
                            message = json.loads(client.recv())
                        except Exception:
                            return
                        arrived = time.perf_counter()
                        if message.get("type") == "new_log" and "tailprobe" in message["data"]["raw"]:
                            latencies.append((arrived - sent[int(message["data"]["raw"].rsplit(" ", 1)[1])]) * 1000)
                listening = threading.Thread(target=receiver)
                listening.start()
                if thread:
                    thread.start()
                    time.sleep(0.5)
                sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                deadline = time.time() + seconds
                sequence = 0
                while time.time() < deadline:
                    sequence += 1
                    sent[sequence] = time.perf_counter()
                    sender.sendto(f"INFO [probe] tailprobe {sequence}".encode(), ("127.0.0.1", server.udp_port))
                    time.sleep(0.02)
                time.sleep(0.5)
            listening.join()
            stop.set()
            if thread:
                thread.join()
            latencies.sort()
            results[label] = {"samples": len(latencies), "p50": statistics.median(latencies),
                              "p99": latencies[int(len(latencies) * 0.99)], "max": latencies[-1], "bodies": posted[0]}
        return results
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tail-seconds", type=float, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    subprocess.run(["swift", "build", "-c", "release", "--product", "logstream"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)

    lines = make_lines(args.records)
    batches = [lines[start:start + BATCH] for start in range(0, len(lines), BATCH)]
    bodies = {"ndjson": [b"\n".join(lines[start:start + 10 * BATCH]) + b"\n" for start in range(0, len(lines), 10 * BATCH)],
              "otlp": [otlp_body(batch) for batch in batches], "loki": [loki_body(batch) for batch in batches]}
    plain_lines = make_plain_lines(args.records)
    runs = [run_once(lines, plain_lines, bodies) for _ in range(args.runs)]
    names = list(runs[0])
    rows = []
    for name in names:
        rates = [run[name][0] for run in runs]
        ratios = [run[name][0] / run["TCP lines"][0] for run in runs]
        plain_ratios = [run[name][0] / run["TCP plain lines"][0] for run in runs]
        cpu = [run[name][1] for run in runs]
        rows.append((name, statistics.median(rates), statistics.median(ratios), statistics.median(plain_ratios), statistics.median(cpu)))
    # As large as the default --max-body-bytes (16 MiB) lets through.
    sample = otlp_body(make_lines(10_000))
    big = otlp_body(make_lines(int(10_000 * (15.9 * 2**20) / len(sample))))
    tail = tail_latency(args.tail_seconds, big)

    table = ["| endpoint | records/s (median) | against the same JSON lines over TCP | against plain lines over TCP | CPU µs per record |",
             "|---|---|---|---|---|"]
    table += [f"| {name} | {rate / 1e6:.2f}M | {ratio:.2f} | {plain:.2f} | {cpu:.2f} |" for name, rate, ratio, plain, cpu in rows]
    tail_table = ["| live tail, UDP line to new_log | samples | p50 ms | p99 ms | max ms | 16 MB bodies stored meanwhile |", "|---|---|---|---|---|---|"]
    tail_table += [f"| {label} | {r['samples']} | {r['p50']:.2f} | {r['p99']:.2f} | {r['max']:.2f} | {r['bodies'] if r['bodies'] else '-'} |"
                   for label, r in tail.items()]
    text = "\n".join(table) + "\n\n" + "\n".join(tail_table) + "\n"
    print(text)
    if not args.no_write:
        body_size = len(big) / 2**20
        (ROOT / "bench" / "SHIPPERS.md").write_text(
            "# HTTP ingestion against TCP lines\n\n"
            f"`python3 bench/shippers.py --records {args.records} --runs {args.runs}`: {args.records:,} JSON lines (~{sum(map(len, lines)) // len(lines)} B) "
            f"sent over one TCP connection, and as many plain-text lines (~{sum(map(len, plain_lines)) // len(plain_lines)} B, the cheapest to parse) likewise; "
            "the JSON lines as NDJSON bodies of 10,000 lines, as OTLP protobuf and as Loki snappy protobuf "
            f"in batches of {BATCH:,}, two client connections posting in parallel; medians of {args.runs} runs, each ratio "
            "within its run. CPU is the server process's user+system time over the records (all threads).\n\n"
            + "\n".join(table) + "\n\n"
            f"The live tail while OTLP bodies of {body_size:.1f} MB ({len(big):,} B, decoded on the ingest worker) are posted back to back, "
            f"one UDP probe line every 20 ms for {args.tail_seconds:g} s:\n\n" + "\n".join(tail_table) + "\n")


if __name__ == "__main__":
    sys.exit(main())
