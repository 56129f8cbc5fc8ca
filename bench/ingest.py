#!/usr/bin/env python3
"""Ingest throughput of the release build: lines/s the server has stored, measured from its own counters.

Usage: bench/ingest.py [--runs 3] [--tcp-lines 10000000] [--udp-lines 2000000]
Starts logstream on free loopback ports, sends with logstream-gen (TCP: 1 and 8 connections; UDP: one socket,
one line per datagram, sendmmsg) and reports the median, min and max of each scenario, plus UDP loss.
"""
import argparse
import statistics
import subprocess
import time

from common import RELEASE, ROOT, free_port, received, start_logstream, wait_growth

def run_scenario(protocol, lines, connections, ports):
    before = received(ports["http"])
    started = time.perf_counter()
    port = ports["udp"] if protocol == "udp" else ports["tcp"]
    subprocess.run([str(RELEASE / "logstream-gen"), "--protocol-name", protocol, "--port", str(port), "--rate", "0",
                    "--count", str(lines), "--connections", str(connections)], check=True, capture_output=True)
    # The server may still be reading what the kernel buffered: wait until its count stops growing.
    count, finished = wait_growth(lambda: received(ports["http"]) - before, lines, settle=1.0)
    return count / (finished - started), lines - count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tcp-lines", type=int, default=10_000_000)
    parser.add_argument("--udp-lines", type=int, default=2_000_000)
    args = parser.parse_args()
    subprocess.run(["swift", "build", "-c", "release"], cwd=ROOT, check=True, capture_output=True)
    ports = {"udp": free_port(), "tcp": free_port(), "http": free_port()}
    server = start_logstream(ports["tcp"], ports["udp"], ports["http"])
    try:
        scenarios = [("tcp", args.tcp_lines, 1), ("tcp", args.tcp_lines, 8), ("udp", args.udp_lines, 1)]
        results = {scenario: [] for scenario in scenarios}
        for _ in range(args.runs):
            for scenario in scenarios:  # alternate scenarios within each run: the machine is shared and noisy
                results[scenario].append(run_scenario(scenario[0], scenario[1], scenario[2], ports))
        print("| scenario | lines | median lines/s | min | max | lost |")
        print("|---|---|---|---|---|---|")
        for (protocol, lines, connections), samples in results.items():
            rates = [rate for rate, _ in samples]
            lost = sum(lost for _, lost in samples)
            name = f"{protocol.upper()}, {connections} connection{'s' if connections > 1 else ''}" if protocol == "tcp" else "UDP, 1 socket"
            print(f"| {name} | {lines:,} x {args.runs} | {statistics.median(rates):,.0f} | {min(rates):,.0f} | {max(rates):,.0f} | {lost:,} |")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
