"""The HTTP API as the original's clients use it, and HTTP/1.1 done right, with curl and raw sockets."""
import json
import re
import socket
import subprocess
import time
import urllib.parse
import urllib.request

from conftest import timing_dependent


def curl(*args):
    return subprocess.run(["curl", "-s", "-S", *args], capture_output=True, check=True, text=True).stdout


def test_api_logs_filters_like_the_original(server):
    server.send_tcp(b"".join([
        b"INFO [auth] user alice logged in\n",
        b"ERROR [payment] card declined for alice\n",
        b"WARN [auth] slow token check\n",
        b"ERROR [auth] Token EXPIRED\n",
    ]))
    server.wait_received(4)
    assert [entry["raw"] for entry in server.logs(query="ALICE")] == [
        "ERROR [payment] card declined for alice", "INFO [auth] user alice logged in"]
    assert [entry["raw"] for entry in server.logs(level="ERROR")] == ["ERROR [auth] Token EXPIRED", "ERROR [payment] card declined for alice"]
    assert [entry["raw"] for entry in server.logs(level="error", service="AUTH")] == ["ERROR [auth] Token EXPIRED"]
    assert [entry["raw"] for entry in server.logs(service="auth", query="token")] == ["ERROR [auth] Token EXPIRED", "WARN [auth] slow token check"]
    assert server.logs(level="", service="", query="") == server.logs()
    assert len(server.logs(limit=2)) == 2
    assert server.logs(level="NOSUCHLEVEL") == []


def test_the_query_language_in_q(server):
    server.send_tcp(b"".join([
        b"INFO [auth] user alice logged in\n",
        b"ERROR [payment-gateway] card declined for alice\n",
        b"WARN [auth] slow token check\n",
        b"FATAL [payment-db] disk full\n",
        b'{"level":"error","service":"auth","msg":"token expired","user":"bob"}\n',
    ]))
    server.wait_received(5)
    raws = lambda **params: [entry["raw"] for entry in server.logs(**params)]
    assert raws(q="level:>=error service:pay*") == ["FATAL [payment-db] disk full", "ERROR [payment-gateway] card declined for alice"]
    assert raws(q='alice -"logged in"') == ["ERROR [payment-gateway] card declined for alice"]
    assert raws(q="(level:warn OR field.user:bob) auth") == [
        '{"level":"error","service":"auth","msg":"token expired","user":"bob"}', "WARN [auth] slow token check"]
    assert raws(q="NOT service:auth", level="error") == ["ERROR [payment-gateway] card declined for alice"]
    assert raws(q="/declined|expired/ -/BOB/i") == ["ERROR [payment-gateway] card declined for alice"]
    assert raws(q="/^(WARN|FATAL) /") == ["FATAL [payment-db] disk full", "WARN [auth] slow token check"]
    slow = "/(a*)*b/ " + "x" * 10  # a pattern that is exponential for backtracking engines answers at once
    assert raws(q=slow) == []
    # A bad query is a 400 that says what is wrong and where; the connection and the server go on.
    for bad, expected in [('"open', "q: unclosed quote at position 0"), ("(a", "q: unbalanced '(' at position 0"),
                          ("level:loud", "q: unknown level 'loud' (trace, debug, info, warn, error, fatal) at position 0"),
                          ("(" * 50 + "a" + ")" * 50, "q: the query nests deeper than 32 levels at position 32"),
                          ("/a{3,2}/", "q: the regular expression repeats {3,2}: the maximum is below the minimum at position 0")]:
        body = curl("-w", "\n%{http_code}", "http://127.0.0.1:%d/api/logs?q=%s" % (server.http_port, urllib.parse.quote(bad)))
        text, status = body.rsplit("\n", 1)
        assert (status, json.loads(text)) == ("400", {"error": expected})
    assert len(server.logs()) == 5


def test_listing_windows_by_id_and_time(server):
    server.send_tcp(b"".join(b"INFO [page] line %d\n" % index for index in range(30)))
    server.wait_received(30)
    newest = server.logs(limit=10)
    assert [entry["raw"] for entry in newest] == [f"INFO [page] line {index}" for index in range(29, 19, -1)]
    next_page = server.logs(limit=10, before=newest[-1]["id"])
    assert [entry["raw"] for entry in next_page] == [f"INFO [page] line {index}" for index in range(19, 9, -1)]
    assert [entry["raw"] for entry in server.logs(after=newest[2]["id"])] == ["INFO [page] line 29", "INFO [page] line 28"]
    assert len(server.logs(since="1h")) == 30 and server.logs(until="2000-01-01T00:00:00Z") == []
    assert len(server.logs(since=newest[0]["timestamp"])) >= 1
    status = curl("-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:%d/api/logs?since=yesterday" % server.http_port)
    assert status == "400"
    # How many matched in all: exact when the whole ring was scanned, flagged when the limit cut the listing.
    def totals(path):
        with urllib.request.urlopen(server.base_url + path) as response:
            return response.headers["X-Total-Matched"], response.headers["X-Total-Matched-Exact"]
    assert totals("/api/logs?q=%22line%202%22") == ("1", "true")  # whole words: line 2 only
    assert totals("/api/logs?q=%22line%22%202*") == ("11", "true")  # line 2 and lines 20-29
    assert totals("/api/logs?limit=5") == ("5", "false")


def test_histogram_and_facets(server):
    server.send_tcp(b"".join(b"%s [%s] event %d\n" % ([b"INFO", b"ERROR"][index % 2], [b"auth", b"pay", b"db"][index % 3], index)
                             for index in range(30)))
    server.wait_received(30)
    histogram = server.get("/api/histogram?buckets=5")
    assert histogram["levels"] == ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
    assert len(histogram["counts"]) == 5 and sum(map(sum, histogram["counts"])) == 30
    assert sum(row[4] for row in histogram["counts"]) == 15
    errors = server.get("/api/histogram?q=level:error%20service:pay&buckets=1")
    assert errors["counts"] == [[0, 0, 0, 0, 5, 0]]
    ids = [entry["id"] for entry in server.logs(limit=30)]
    middle = server.get("/api/histogram?buckets=1&after=%d&before=%d" % (min(ids) + 4, min(ids) + 15))
    assert sum(middle["counts"][0]) == 10  # ids min+5 .. min+14
    facets = server.get("/api/facets?field=service&limit=2")
    assert (facets["field"], facets["total"], facets["others"]) == ("service", 30, 10)
    assert [entry["count"] for entry in facets["values"]] == [10, 10]
    assert server.get("/api/facets?field=level&q=service:auth")["values"] == [{"value": "ERROR", "count": 5}, {"value": "INFO", "count": 5}]
    for bad in ["/api/facets?field=colour", "/api/histogram?buckets=0", "/api/histogram?since=soon", "/api/facets?field=host&q=(",
                "/api/histogram?since=2030-01-01T00:00:00Z&until=2020-01-01T00:00:00Z"]:
        assert curl("-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:%d%s" % (server.http_port, bad)) == "400", bad


@timing_dependent
def test_a_long_search_runs_beside_the_reactor(server):
    """Searches run on a worker thread: while one scans 300,000 lines, health checks and ingestion go on."""
    import threading
    server.send_tcp(b"".join(b"INFO [bulk] filler line %d with some words in it\n" % index for index in range(300_000)))
    server.wait_received(300_000, timeout=60)
    finished = {}

    def search():
        # Regexes without a literal every match must hold, so no prefilter skips lines: the Pike VM reads them all.
        server.logs(q="/(a|b|c|d|e|f|g|h)*(q|z)(9|8)(x|y)/ OR /(w|o|r|d)+(q|z)(9|8)/")
        finished["search"] = time.perf_counter()

    worker = threading.Thread(target=search)
    worker.start()
    time.sleep(0.02)
    server.send_udp(b"INFO [beside] sent while the search runs")
    assert server.status("/healthz") == 200
    server.wait_for(lambda: server.stats()["received"] == 300_001, message="the datagram")
    answered = time.perf_counter()
    worker.join()
    assert answered < finished["search"], "the reactor answered only after the search finished"


def test_default_limit_is_100_and_large_limits_are_capped(server):
    server.send_udp(b"".join(b"INFO n%d\n" % index for index in range(150)))
    server.wait_received(150)
    assert len(server.logs()) == 100
    assert len(server.logs(limit=1_000_000)) == 150
    assert server.status("/api/logs?limit=-3") == 400
    assert server.status("/api/logs?limit=abc") == 400


def test_stats_count_what_arrived(server):
    server.send_tcp(b"ERROR [a] x\nWARN [b] y\nINFO z\n")
    server.send_udp(b"DEBUG [a] w")
    server.wait_received(4)
    stats = server.stats()
    for key in ("received", "stored", "evicted", "truncated", "bytes", "levels", "services", "protocols", "rate"):
        assert key in stats
    assert stats["received"] == 4 and stats["stored"] == 4 and stats["evicted"] == 0
    assert stats["levels"]["ERROR"] == 1 and stats["levels"]["DEBUG"] == 1
    assert stats["protocols"] == {"UDP": 1, "TCP": 3, "HTTP": 0, "TLS": 0}
    assert stats["services"] == {"a": 2, "b": 1, "unknown": 1}


def test_the_ring_evicts_the_oldest_and_counts_it(make_server):
    """Memory only: with the disk history on, evicted records are still listed (test_persistence)."""
    instance = make_server("--buffer-size", "10", "--no-persist")
    instance.send_tcp(b"".join(b"INFO r%d\n" % index for index in range(25)))
    instance.wait_received(25)
    stats = instance.stats()
    assert stats["stored"] == 10 and stats["evicted"] == 15
    assert [entry["raw"] for entry in instance.logs()] == [f"INFO r{index}" for index in range(24, 14, -1)]


def test_health_dashboard_and_static_files(server):
    assert server.status("/healthz") == 200
    headers = curl("-D", "-", "-o", "/dev/null", server.base_url + "/")
    assert "200 OK" in headers and "text/html" in headers
    assert "Content-Security-Policy: default-src 'self'" in headers
    assert "X-Content-Type-Options: nosniff" in headers
    assert "textContent" in curl(server.base_url + "/static/app.js")
    assert server.status("/static/style.css") == 200


def test_unknown_paths_wrong_methods_and_traversal(server):
    assert server.status("/nope") == 404
    assert server.status("/api/logs", method="DELETE") == 405
    assert server.status("/static/nope.js") == 404
    for path in ["/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd", "/static/..%2f..%2fetc%2fpasswd"]:
        output = curl("--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", server.base_url + path)
        assert output == "404", path


def test_malformed_requests_are_answered_and_closed(server):
    cases = {
        b"GARBAGE\r\n\r\n": b"400",
        b"GET / HTTP/1.1\r\nBad Header\r\n\r\n": b"400",
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n": b"400",
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n": b"400",
        b"GET / HTTP/1.1\r\n" + b"X-Pad: " + b"a" * 9000 + b"\r\n\r\n": b"431",
        b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n": b"414",
        b"GET / HTTP/3.0\r\n\r\n": b"505",
        b"POST /api/logs HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc": b"413",
        # Bodies, chunked or not, and the request-smuggling shapes: refused whole, never half-read.
        b"POST /api/logs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n": b"400",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n": b"400",
        b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n": b"400",
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n": b"400",
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n": b"400",
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n": b"400",
        b"GET / HTTP/1.1\r\nHost : x\r\n\r\n": b"400",
        b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n": b"400",
        b"GET  / HTTP/1.1\r\n\r\n": b"400",
        b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n": b"400",
        b"GET http://elsewhere/ HTTP/1.1\r\nHost: x\r\n\r\n": b"400",
        b"GET /\x01 HTTP/1.1\r\n\r\n": b"400",
    }
    # Good traffic alongside must be stored completely.
    import threading
    sender = threading.Thread(target=lambda: server.send_tcp(b"".join(b"INFO [alongside] line %d\n" % i for i in range(20000))))
    sender.start()
    for request, status in cases.items():
        response = server.raw_http(request)  # returns only once the server closes
        assert response.startswith(b"HTTP/1.1 " + status), (request[:40], response[:80])
        assert b"Connection: close" in response
    sender.join()
    server.send_udp(b"INFO [still] alive")
    server.wait_received(20001)
    assert server.logs(q="service:alongside", limit=1)[0]["raw"] == "INFO [alongside] line 19999"


def test_request_bodies_no_route_takes_yet(server):
    # A body announced with Expect: 100-continue is refused at once, before the client sends it: no 100.
    with socket.create_connection(("127.0.0.1", server.http_port), timeout=5) as connection:
        connection.sendall(b"POST /api/logs HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n")
        answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413 ") and b"100 Continue" not in answer and b"Connection: close" in answer
    # An empty chunked body is no body: the request is served, and the next one on the connection too.
    response = server.raw_http(b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                               b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", response) == [b"200", b"200"]
    # A chunked body with data for a route that takes none: 413 as soon as the chunk's size is read.
    response = server.raw_http(b"POST /api/logs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 413 ")
    # Methods a path does not take are 405 with the ones it does.
    response = server.raw_http(b"DELETE /api/logs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 405 ") and b"Allow: GET, HEAD\r\n" in response


def test_keep_alive_and_pipelining_answer_in_order(server):
    requests = (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                b"GET /api/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    response = server.raw_http(requests)
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", response)
    assert statuses == [b"200", b"404", b"200"]
    body = response.rsplit(b"\r\n\r\n", 1)[1]
    assert json.loads(body)["received"] == 0


def test_head_requests_have_no_body(server):
    response = server.raw_http(b"HEAD /api/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, body = response.split(b"\r\n\r\n", 1)
    assert b"Content-Length: " in head and body == b""


def test_a_huge_answer_is_cut_at_a_size_bound_not_at_memory(make_server):
    instance = make_server("--max-line-bytes", "64K", "--buffer-bytes", "1G")
    line = b"INFO [big] " + b"x" * 60_000 + b"\n"
    instance.send_tcp(line * 1000)
    instance.wait_received(1000, timeout=30)
    entries = instance.logs(limit=10_000)
    assert 400 < len(entries) < 1000  # 32 MiB of ~60 KB entries
    assert all(entry["raw"] == line.decode().strip() for entry in entries)
