"""Search over a full ring while lines keep arriving: the figures issue 5 sets targets for.

A server with room for `records` lines is filled with that many ~100-byte lines (the last a rare "needle"), then, while `logstream-gen` keeps sending 100,000 lines/s over TCP, each query is asked `repeats` times
over HTTP and timed from request to last byte. Queries run on the worker thread beside the reactor; the ingest
rate while they run is reported too. Then the cost of queries to ingestion: TCP floods of `flood_seconds`, alone
and while 10 queries a second run (the same mix), alternating, four times each.
"""
import json
import socket
import statistics
import subprocess
import threading
import time
import urllib.request

from common import RELEASE, free_port, received, wait_growth
from receivers import LogStream

QUERIES = [
    ("rare word (q=zq7x)", "/api/logs?q=zq7x"),
    ("level:error service:search-api", "/api/logs?q=level:error%20service:search-api"),
    ("level:error service:needle (one line)", "/api/logs?q=level:error%20service:needle"),
    ("regex /Health check fail(ed|ure)/", "/api/logs?q=/Health%20check%20fail(ed%7Cure)/"),
    ("histogram, 60 buckets", "/api/histogram?buckets=60"),
    ("histogram of level:error", "/api/histogram?buckets=60&q=level:error"),
    ("facets: service", "/api/facets?field=service"),
]


def generate(port, *args):
    return [str(RELEASE / "logstream-gen"), "--protocol-name", "tcp", "--port", str(port), *args]


def flood_rate(tcp, seconds):
    """Lines per second LogStream takes from one TCP connection sending as fast as it can."""
    summary = subprocess.run(generate(tcp, "--rate", "0", "--duration", str(seconds)), check=True, capture_output=True, text=True)
    return json.loads(summary.stdout.strip().splitlines()[-1])["lines_per_second"]


def with_queries(http, per_second, action):
    """Runs `action` while `per_second` queries a second (the QUERIES mix, in turn) are asked; returns its
    result and how many queries were answered."""
    stop, answered = threading.Event(), [0]

    def ask():
        index, next_due = 0, time.perf_counter()
        while not stop.is_set():
            with urllib.request.urlopen(f"http://127.0.0.1:{http}{QUERIES[index % len(QUERIES)][1]}", timeout=60) as response:
                response.read()
            answered[0] += 1
            index += 1
            next_due += 1 / per_second
            time.sleep(max(0.0, next_due - time.perf_counter()))

    asker = threading.Thread(target=ask)
    asker.start()
    try:
        return action(), answered[0]
    finally:
        stop.set()
        asker.join()


def ingest_impact(server, tcp, seconds, rounds=4, per_second=10):
    alone, beside, asked = [], [], 0
    for _ in range(rounds):
        alone.append(flood_rate(tcp, seconds))
        rate, answered = with_queries(server.http, per_second, lambda: flood_rate(tcp, seconds))
        beside.append(rate)
        asked += answered
    return {"flood_seconds": seconds, "alone": alone, "with_queries": beside,
            "queries_per_second": asked / (rounds * seconds), "ratio": statistics.median(beside) / statistics.median(alone)}


def search(records=1_000_000, repeats=20, rate=100_000, flood_seconds=2):
    server = LogStream(records=records, arena="1G", warm=False)
    tcp, udp = free_port(), free_port(socket.SOCK_DGRAM)
    server.start(tcp, udp)
    try:
        # The needle goes last, so the lines that keep arriving evict it only after records / rate seconds.
        subprocess.run(generate(tcp, "--rate", "0", "--count", str(records - 1)), check=True, capture_output=True)
        with socket.create_connection(("127.0.0.1", tcp)) as connection:
            connection.sendall(b"ERROR [needle] the one rare line zq7x\n")
        wait_growth(lambda: received(server.http) or 0, records)
        feeder = subprocess.Popen(generate(tcp, "--rate", str(rate), "--duration", "600"), stdout=subprocess.DEVNULL)
        time.sleep(1)
        before, started = received(server.http), time.perf_counter()
        results = []
        for name, path in QUERIES:
            timings, size = [], 0
            for _ in range(repeats):
                began = time.perf_counter()
                with urllib.request.urlopen(f"http://127.0.0.1:{server.http}{path}", timeout=60) as response:
                    size = len(response.read())
                timings.append((time.perf_counter() - began) * 1000)
            timings.sort()
            results.append({"query": name, "p50_ms": statistics.median(timings), "p99_ms": timings[int(0.99 * (len(timings) - 1))],
                            "max_ms": timings[-1], "answer_bytes": size})
        ingested = (received(server.http) - before) / (time.perf_counter() - started)
        feeder.terminate()
        feeder.wait()
        impact = ingest_impact(server, tcp, flood_seconds)
        return {"records": records, "rate": rate, "ingested_per_second": ingested, "queries": results, "impact": impact}
    finally:
        server.stop()


def table(result):
    lines = [f"## Search over {result['records']:,} stored lines while {result['rate']:,} lines/s arrive", "",
             "Each query asked 20 times over HTTP, timed to the last byte of the answer (`bench/search.py`). Queries run "
             "on a worker thread beside the reactor: "
             f"{result['ingested_per_second']:,.0f} lines/s were taken in while the queries ran.", "",
             "| query | p50 ms | p99 ms | max ms | answer bytes |", "|---|---|---|---|---|"]
    for query in result["queries"]:
        lines.append(f"| {query['query']} | {query['p50_ms']:.1f} | {query['p99_ms']:.1f} | {query['max_ms']:.1f} | {query['answer_bytes']:,} |")
    impact = result.get("impact")
    if impact:
        lines += ["", f"Ingestion while queries run: TCP floods of {impact['flood_seconds']} s from one connection, alone and "
                  f"while {impact['queries_per_second']:.1f} queries/s of the mix above are answered, alternating:", "",
                  "| flood | lines/s (each round) | median |", "|---|---|---|",
                  f"| alone | {', '.join(f'{value / 1e6:.2f} M' for value in impact['alone'])} | {statistics.median(impact['alone']) / 1e6:.2f} M |",
                  f"| with 10 queries/s | {', '.join(f'{value / 1e6:.2f} M' for value in impact['with_queries'])} | "
                  f"{statistics.median(impact['with_queries']) / 1e6:.2f} M |", "",
                  f"With queries / alone: **{impact['ratio']:.2f}**."]
    return lines + [""]
