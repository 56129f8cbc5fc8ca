#!/usr/bin/env python3
"""TCP ingestion rate by input format, as ratios to plain text, measured side by side in one run.

Usage: bench/formats.py [--runs 3] [--lines 2000000]
Builds the release binary, starts logstream on free loopback ports, and for each format sends the same number of
realistic lines over one TCP connection from a pre-built buffer; the rate is lines the server counted
(/api/stats) over the time from the first byte sent to the last line counted.
"""
import argparse
import json
import random
import socket
import statistics
import subprocess
import time

from common import ROOT, free_port, received, start_logstream, wait_growth

SERVICES = ["auth", "payment-gateway", "user-db", "frontend", "search-api"]
LEVELS = [("INFO", 6, 30, "info"), ("WARN", 4, 40, "warn"), ("ERROR", 3, 50, "error"), ("DEBUG", 7, 20, "debug")]


def sample_lines(kind, count):
    rng = random.Random(7)
    lines = []
    for index in range(count):
        word, severity, pino, name = rng.choice(LEVELS)
        service = rng.choice(SERVICES)
        if kind == "plain":
            line = f"2026-11-28T18:00:00.123Z {word} [{service}] request {index} completed in 23ms user=alice"
        elif kind == "rfc5424":
            line = (f"<{8 + severity}>1 2026-11-28T18:00:00.123456+00:00 web1 {service} 4242 REQ "
                    f'[req@32473 id="{index}" user="alice"] request completed in 23ms')
        elif kind == "rfc3164":
            line = f"<{8 + severity}>Nov 28 18:00:00 web1 {service}[4242]: request {index} completed in 23ms"
        elif kind == "json":
            line = json.dumps({"level": pino, "time": 1732816800123, "name": service, "msg": "request completed",
                               "req": index, "user": "alice", "ms": 23}, separators=(",", ":"))
        else:
            line = f'time=2026-11-28T18:00:00Z level={name} service={service} msg="request completed" req={index} user=alice'
        lines.append(line)
    return ("\n".join(lines) + "\n").encode()


def measure(payload, lines, ports):
    before = received(ports["http"])
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", ports["tcp"])) as connection:
        connection.sendall(payload)
    count, finished = wait_growth(lambda: received(ports["http"]) - before, lines)
    return count / (finished - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lines", type=int, default=2_000_000)
    args = parser.parse_args()
    subprocess.run(["swift", "build", "-c", "release", "--product", "logstream"], cwd=ROOT, check=True, capture_output=True)
    kinds = ["plain", "rfc5424", "rfc3164", "json", "logfmt"]
    payloads = {kind: sample_lines(kind, args.lines) for kind in kinds}
    ports = {"udp": free_port(), "tcp": free_port(), "http": free_port()}
    server = start_logstream(ports["tcp"], ports["udp"], ports["http"])
    try:
        rates = {kind: [] for kind in kinds}
        for _ in range(args.runs):
            for kind in kinds:  # alternate formats within each run: the machine is shared and noisy
                rates[kind].append(measure(payloads[kind], args.lines, ports))
        plain = statistics.median(rates["plain"])
        print("| format | bytes/line | median lines/s | min | max | ratio to plain |")
        print("|---|---|---|---|---|---|")
        for kind in kinds:
            median = statistics.median(rates[kind])
            print(f"| {kind} | {len(payloads[kind]) // args.lines} | {median:,.0f} | {min(rates[kind]):,.0f} | "
                  f"{max(rates[kind]):,.0f} | {median / plain:.2f} |")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
