#!/usr/bin/env python3
"""Every scenario of LogStream's benchmark, side by side in one run; writes bench/RESULTS.md and bench/results.json.

Usage: bench/run.sh [--runs 3] [--seconds 2] [--udp-lines 1000000] [--only tcp,udp,connections,ring,formats,memory,latency,search]

Each scenario runs --runs times, the receivers alternating within each run (the machine is shared and noisy), and
the tables give medians, min-max and ratios between figures of the same run. The load comes from logstream-gen
(realistic ~107-byte lines, TCP in large writes over N connections, UDP one line per datagram with sendmmsg).
A rate is the lines a receiver holds over the time from the first send to the last line held, so it includes
draining the kernel's socket buffers; TCP floods last --seconds, UDP sends --udp-lines as fast as one socket can.
"""
import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import time

from common import RELEASE, ROOT, free_port, received, wait_growth
from receivers import LogStream, RawReceiver, Rsyslog, SyslogNg
from search import search, table as search_table

BENCH_RELEASE = ROOT / "bench" / ".build" / "release"


def generate(protocol, port, seconds=None, count=None, connections=1, line_format="plain"):
    command = [str(RELEASE / "logstream-gen"), "--protocol-name", protocol, "--port", str(port), "--rate", "0",
               "--connections", str(connections), "--format", line_format]
    command += ["--duration", str(seconds)] if seconds else ["--count", str(count)]
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def ingest(receiver, protocol, args, connections=1, line_format="plain"):
    tcp, udp = free_port(), free_port(socket.SOCK_DGRAM)
    receiver.start(tcp, udp)
    try:
        started = time.perf_counter()
        if protocol == "tcp":
            sent = generate("tcp", tcp, seconds=args.seconds, connections=connections, line_format=line_format)
        else:
            sent = generate("udp", udp, count=args.udp_lines)
        held, seconds = receiver.held(sent, started)
        return {"rate": held / seconds, "lost": max(0, sent["lines"] - held), "sent": sent["lines"]}
    finally:
        receiver.stop()


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def memory(records):
    """RSS growth per stored record: a server with room for `records` (count-bound) filled with that many lines."""
    server = LogStream(records=records, arena="2G", warm=False)
    tcp, udp = free_port(), free_port(socket.SOCK_DGRAM)
    server.start(tcp, udp)
    try:
        idle = rss_bytes(server.process.pid)
        sent = generate("tcp", tcp, count=records)
        held, _ = wait_growth(lambda: received(server.http) or 0, records)
        time.sleep(0.5)
        full = rss_bytes(server.process.pid)
        raw = (sent["bytes"] - sent["lines"]) / sent["lines"]  # stored without its newline
        return {"records": held, "line_bytes": raw, "rss_idle": idle, "rss_full": full,
                "per_record": (full - idle) / held, "over_raw": (full - idle) / held - raw}
    finally:
        server.stop()


def latency(args):
    """Not pinned: pinning the client's two threads (sender, receiver) to one core made them delay each other by
    whole scheduler slices, which then showed as latency; the sender-lateness column shows the machine's noise."""
    server = LogStream(warm=False)
    tcp, udp = free_port(), free_port(socket.SOCK_DGRAM)
    server.start(tcp, udp)
    try:
        result = subprocess.run([str(BENCH_RELEASE / "livetail-latency"), "--http-port", str(server.http),
                                 "--udp-port", str(udp), "--rate", "10000", "--seconds", str(args.latency_seconds),
                                 "--clients", "10"], check=True, capture_output=True, text=True)
        return json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        server.stop()


def build(scenarios):
    subprocess.run(["swift", "build", "-c", "release"], cwd=ROOT, check=True, capture_output=True)
    if "latency" in scenarios:
        subprocess.run(["swift", "build", "-c", "release", "--product", "livetail-latency"], cwd=ROOT / "bench",
                       check=True, capture_output=True)
    RawReceiver.prepare()
    if {"tcp", "udp"} & scenarios:
        Rsyslog.prepare()
        SyslogNg.prepare()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each TCP flood")
    parser.add_argument("--udp-lines", type=int, default=1_000_000)
    parser.add_argument("--latency-seconds", type=float, default=5.0)
    parser.add_argument("--memory-records", type=int, default=1_000_000)
    parser.add_argument("--only", default="tcp,udp,connections,ring,formats,memory,latency,search")
    args = parser.parse_args()
    scenarios = set(args.only.split(","))
    build(scenarios)

    peers = [RawReceiver(), LogStream(), Rsyslog(), SyslogNg()]
    plan = []  # (table, row, callable)
    if "tcp" in scenarios:
        fresh = LogStream(warm=False, label="LogStream, fresh (ring filling)")
        plan += [("tcp", receiver.name, lambda r=receiver: ingest(r, "tcp", args)) for receiver in peers + [fresh]]
    if "udp" in scenarios:
        plan += [("udp", receiver.name, lambda r=receiver: ingest(r, "udp", args)) for receiver in peers]
    if "connections" in scenarios:
        for connections in (1, 8, 100):
            for receiver in (RawReceiver(), LogStream()):
                plan.append(("connections", (connections, receiver.name),
                             lambda r=receiver, c=connections: ingest(r, "tcp", args, connections=c)))
    if "ring" in scenarios:
        plan.append(("ring", 10_000, lambda: ingest(LogStream(records=10_000, arena="256M"), "tcp", args)))
        plan.append(("ring", 10_000_000, lambda: ingest(LogStream(records=10_000_000, arena="1400M"), "tcp", args)))
    if "formats" in scenarios:
        for line_format in ("plain", "rfc3164", "rfc5424", "json", "logfmt"):
            plan.append(("formats", line_format, lambda f=line_format: ingest(LogStream(), "tcp", args, line_format=f)))
    if "latency" in scenarios:
        plan.append(("latency", "10 clients", lambda: latency(args)))

    samples = {}
    for run in range(args.runs):
        for table, row, measure in plan:
            sample = measure()
            samples.setdefault(table, {}).setdefault(row, []).append(sample)
            shown = f"p50 {sample['p50_us']} us, p99 {sample['p99_us']} us" if table == "latency" else \
                f"{sample['rate']:,.0f} lines/s, lost {sample['lost']:,}"
            print(f"run {run + 1} {table} {row}: {shown}", flush=True)
    if "memory" in scenarios:
        samples["memory"] = memory(args.memory_records)
        print(f"memory: {samples['memory']['per_record']:.1f} bytes per record", flush=True)
    if "search" in scenarios:
        samples["search"] = search(args.memory_records)
        print("search: " + ", ".join(f"{q['query']} p50 {q['p50_ms']:.1f} ms" for q in samples["search"]["queries"]), flush=True)
    write_results(samples, args)


def median(rows, key="rate"):
    return statistics.median(sample[key] for sample in rows)


def spread(rows, key="rate"):
    values = [sample[key] for sample in rows]
    return f"{min(values):,.0f}–{max(values):,.0f}"


def ingest_table(rows, with_loss=False):
    medians = {name: median(samples) for name, samples in rows.items()}
    lines = ["| receiver | median lines/s | min–max | " + ("lost (all runs) | " if with_loss else "")
             + "vs raw receiver | vs rsyslog | vs syslog-ng |", "|---|---|---|" + ("---|" if with_loss else "") + "---|---|---|"]
    for name, samples in rows.items():
        lost = f"{sum(s['lost'] for s in samples):,} of {sum(s['sent'] for s in samples):,} | " if with_loss else ""
        ratios = " | ".join(f"{medians[name] / medians[peer]:.2f}" for peer in ("raw C receiver", "rsyslog", "syslog-ng"))
        lines.append(f"| {name} | {medians[name]:,.0f} | {spread(samples)} | {lost}{ratios} |")
    return lines


def ratio_table(title, label, rows, base, name):
    """Rows of one receiver's rates, each as a ratio to the row `base`."""
    lines = [f"## {title}", "", f"| {label} | median lines/s | min–max | vs {name(base)} |", "|---|---|---|---|"]
    for key, samples in rows.items():
        lines.append(f"| {name(key)} | {median(samples):,.0f} | {spread(samples)} | {median(samples) / median(rows[base]):.2f} |")
    return lines + [""]


def write_results(samples, args):
    out = [f"# Results", "",
           f"Produced by `bench/run.sh --runs {args.runs} --seconds {args.seconds:g} --udp-lines {args.udp_lines}` on "
           f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
           f"commit {git_commit()}. Medians of {args.runs} runs; receivers alternate within each run; ratios "
           "compare medians. Loopback only; ~100-byte lines from `logstream-gen`.", ""]
    if "tcp" in samples:
        out += [f"## TCP, one connection, {args.seconds:g}-second floods", "",
                "LogStream parses level and service (and timestamps) and stores every line in its ring; the raw "
                "receiver only counts newlines; rsyslog and syslog-ng write lines unparsed to a file.", ""]
        out += ingest_table(samples["tcp"]) + [""]
    if "udp" in samples:
        out += [f"## UDP, one sending socket, {args.udp_lines:,} datagrams of one line", ""]
        out += ingest_table(samples["udp"], with_loss=True) + [""]
    if "connections" in samples:
        rows = samples["connections"]
        base = median(rows[(1, "LogStream")])
        out += ["## TCP over 1, 8 and 100 connections (aggregate)", "",
                "| connections | raw C receiver | LogStream | LogStream vs its 1-connection rate | LogStream vs raw |",
                "|---|---|---|---|---|"]
        for connections in (1, 8, 100):
            raw, ours = rows[(connections, "raw C receiver")], rows[(connections, "LogStream")]
            out.append(f"| {connections} | {median(raw):,.0f} | {median(ours):,.0f} ({spread(ours)}) | "
                       f"{median(ours) / base:.2f} | {median(ours) / median(raw):.2f} |")
        out.append("")
    if "ring" in samples:
        out += ratio_table("Ring size: the same flood into a 10,000- and a 10,000,000-record ring", "ring records",
                           samples["ring"], 10_000, lambda size: f"{size:,}")
    if "formats" in samples:
        out += ratio_table("Input formats (LogStream, TCP, one connection)", "format", samples["formats"], "plain", str)
    if "memory" in samples:
        m = samples["memory"]
        out += ["## Memory per stored record", "",
                f"{m['records']:,} records of {m['line_bytes']:.1f} bytes on average, in a ring with room for all of "
                f"them: RSS {m['rss_idle'] / 2**20:.1f} MiB idle, {m['rss_full'] / 2**20:.1f} MiB full: "
                f"**{m['per_record']:.1f} bytes per record, {m['over_raw']:.1f} over the line's own bytes.**", ""]
    if "latency" in samples:
        out += ["## Live tail latency: UDP datagram sent → `new_log` received (HdrHistogram, µs)", "",
                "10 WebSocket clients, 10,000 lines/s for "
                f"{args.latency_seconds:g} s per run (`bench/Tools/LiveTailLatency`; the first 1,000 lines are not "
                "counted); the server, the client's sender and receiver threads and the kernel share the two cores.", "",
                "The last column is a control: how late the load's own sender thread woke (p99 / max). When the "
                "machine stalls (another tenant of the host, a scheduler slice), it shows there in the same run.", "",
                "| run | p50 | p90 | p99 | p99.9 | max | delivered | sender late p99 / max |",
                "|---|---|---|---|---|---|---|---|"]
        for placement, rows in samples["latency"].items():
            for index, sample in enumerate(rows):
                out.append(f"| {index + 1} | {sample['p50_us']} | {sample['p90_us']} | {sample['p99_us']} | "
                           f"{sample['p999_us']} | {sample['max_us']} | {sample['received']:,} of {sample['expected']:,} | "
                           f"{sample['sender_late_p99_us']} / {sample['sender_late_max_us']} |")
        out.append("")
    if "search" in samples:
        out += search_table(samples["search"])
    text = "\n".join(out)
    (ROOT / "bench" / "RESULTS.md").write_text(text)
    serializable = {table: ({str(key): value for key, value in rows.items()} if isinstance(rows, dict) and table not in ("memory", "search") else rows)
                    for table, rows in samples.items()}
    (ROOT / "bench" / "results.json").write_text(json.dumps(serializable, indent=2) + "\n")
    print(text)


def git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"


if __name__ == "__main__":
    main()
