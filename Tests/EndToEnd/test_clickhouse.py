"""Shipping to ClickHouse, against Debian's clickhouse-server (18.16) started here on private ports: every
record arrives, at least once and identified by (node, id), through restarts, kill -9, a 30-second outage,
wrong credentials, an incompatible table and rows ClickHouse cannot take."""
import json
import signal
import socket
import threading
import time

import pytest

from clickhouse import PASSWORD, USER, ClickHouse, ClickHouseError, available
from conftest import Server, free_port

@pytest.fixture(scope="module")
def clickhouse():
    assert available(), "clickhouse-server is missing: ./test.sh installs it"
    instance = ClickHouse(free_port, name="single").start()
    yield instance
    instance.remove()


_tables = iter(range(1_000_000))


@pytest.fixture
def table(request):
    """A table of the test's own (LogStream creates it), in the database LogStream creates."""
    return f"logstream.t{next(_tables)}_{request.node.name[5:40]}"


def shipping(table, clickhouse, *extra, node="node-a", user=(USER, PASSWORD)):
    credentials = ["--clickhouse-user", user[0], "--clickhouse-password", user[1]] if user else []
    return ["--clickhouse-url", clickhouse.url, "--clickhouse-table", table, "--node-name", node,
            "--clickhouse-interval", "100ms", *credentials, *extra]


def distinct(clickhouse, table, where="1"):
    return clickhouse.scalar(f"SELECT uniqExact(node, id) FROM {table} WHERE {where}")


def wait_shipped(server, clickhouse, table, count, timeout=60):
    """Until ClickHouse holds `count` distinct records and the node says it has no lag."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        stats = server.stats()
        try:
            held = distinct(clickhouse, table)
        except ClickHouseError:
            held = -1  # the table is not there yet
        if held >= count and stats["clickhouse_lag_records"] == 0:
            return held
        time.sleep(0.1)
    raise AssertionError(f"ClickHouse holds {held} of {count}; stats {json.dumps({k: v for k, v in stats.items() if k.startswith('clickhouse')})}")


def lines(count, start=0, tag="line"):
    shapes = [
        lambda i: b'{"level":"error","service":"pay","msg":"card declined %d","user":"u%d","code":502}\n' % (i, i % 7),
        lambda i: b"<134>1 2026-12-04T10:00:00.123Z web-%d nginx - - - GET /item/%d 200\n" % (i % 3, i),
        lambda i: b"level=warn service=auth msg=\"token %d expired\" tag=" % i + tag.encode() + b"\n",
        lambda i: b"INFO [shop] order %d placed " % i + tag.encode() + b"\n",
    ]
    return b"".join(shapes[i % 4](i) for i in range(start, start + count))


def test_every_record_arrives_once_with_what_the_node_knows_of_it(make_server, clickhouse, table):
    server = make_server(*shipping(table, clickhouse))
    server.send_tcp(lines(20_000))
    server.wait_received(20_000)
    assert wait_shipped(server, clickhouse, table, 20_000) == 20_000
    assert clickhouse.scalar(f"SELECT count() FROM {table}") == 20_000, "a clean run ships each record once"
    engine = clickhouse.rows(f"SELECT engine, sorting_key FROM system.tables WHERE database = 'logstream' AND name = '{table.split('.')[1]}'")
    assert engine[0]["engine"] == "ReplacingMergeTree"
    # The newest JSON record, as the node shows it and as ClickHouse holds it.
    local = server.logs(query="declined", limit=1)[0]
    row = clickhouse.rows(f"SELECT node, id, ts, ts_ms, source_ms, level, service, host, protocol, format, truncated, msg, "
                          f"field_keys, field_values, field_kinds FROM {table} WHERE id = {local['id']}")[0]
    assert row["node"] == "node-a" and row["level"] == local["level"] == "ERROR" and row["service"] == "pay"
    assert row["msg"] == local["raw"] and row["protocol"] == "TCP" and row["format"] == "json" and row["truncated"] == 0
    assert dict(zip(row["field_keys"], row["field_values"])) == {"user": local["fields"]["user"], "code": "502"}
    assert row["field_kinds"] == [0, 1], "code is a JSON number: a literal"
    assert abs(row["ts_ms"] - int(time.time() * 1000)) < 120_000 and row["ts"]
    syslog = clickhouse.rows(f"SELECT host, source_ms, format FROM {table} WHERE format = 'rfc5424' LIMIT 1")[0]
    assert syslog["source_ms"] == 1796378400123 and syslog["host"].startswith("web-")
    metrics = server.get("/api/stats")
    assert metrics["clickhouse_shipped_records"] == 20_000 and metrics["clickhouse_failing"] == 0
    assert metrics["clickhouse_shipped_up_to"] == local["id"] + 1 or metrics["clickhouse_shipped_up_to"] > local["id"]


def test_a_restart_resumes_where_shipping_stopped(make_server, clickhouse, table):
    first = make_server(*shipping(table, clickhouse))
    first.send_tcp(lines(5000))
    wait_shipped(first, clickhouse, table, 5000)
    assert first.stop() == 0
    assert (first.data_dir / "clickhouse.shipped").exists()
    second = make_server(*shipping(table, clickhouse), ports=(first.udp_port, first.tcp_port, first.http_port), data_dir=first.data_dir)
    second.send_tcp(lines(3000, start=5000))
    assert wait_shipped(second, clickhouse, table, 8000) == 8000
    assert clickhouse.scalar(f"SELECT count() FROM {table}") == 8000, "the restart did not ship the first 5,000 again"


def test_a_node_that_never_shipped_sends_its_whole_history(make_server, clickhouse, table):
    first = make_server()
    first.send_tcp(lines(4000))
    first.wait_received(4000)
    assert first.stop() == 0
    second = make_server(*shipping(table, clickhouse), ports=(first.udp_port, first.tcp_port, first.http_port), data_dir=first.data_dir)
    assert wait_shipped(second, clickhouse, table, 4000) == 4000


def test_clickhouse_stopped_for_30_seconds_under_load_loses_nothing(make_server, table):
    assert available(), "clickhouse-server is missing: ./test.sh installs it"
    instance = ClickHouse(free_port, name="outage").start()
    try:
        server = make_server(*shipping(table, instance, "--clickhouse-timeout", "2s"))
        sent = []
        done = threading.Event()

        def steady_load():
            with socket.create_connection(("127.0.0.1", server.tcp_port)) as connection:
                index = 0
                while not done.is_set():
                    connection.sendall(lines(200, start=index, tag="steady"))
                    index += 200
                    time.sleep(0.02)
                sent.append(index)

        loader = threading.Thread(target=steady_load)
        loader.start()
        time.sleep(3)
        instance.stop()
        stopped_at = server.stats()["clickhouse_shipped_up_to"]
        time.sleep(30)
        during = server.stats()
        assert during["clickhouse_failing"] == 1 and during["clickhouse_failures"]["unreachable"] >= 3
        assert during["clickhouse_lag_records"] > 10_000 and during["clickhouse_lag_seconds"] > 20
        assert during["clickhouse_shipped_up_to"] == stopped_at
        instance.start()
        time.sleep(3)
        done.set()
        loader.join()
        server.wait_received(sent[0])
        assert wait_shipped(server, instance, table, sent[0], timeout=90) == sent[0]
        assert server.stats()["clickhouse_lost_records"] == 0
        instance.query(f"OPTIMIZE TABLE {table} FINAL")
        assert instance.scalar(f"SELECT count() FROM {table}") == sent[0], "nothing twice once merged"
        assert server.stop() == 0
        log = server.process.stderr.read().decode().splitlines()
        held_up = [line for line in log if "shipping held up (unreachable)" in line]
        assert len(held_up) == 1 and "Connection refused" in held_up[0], "told once a minute at most, with the cause"
        assert any("shipping again" in line for line in log)
    finally:
        instance.remove()


def test_kill_9_mid_batch_and_a_restart_ships_everything(make_server, clickhouse, table):
    server = make_server(*shipping(table, clickhouse, "--clickhouse-batch", "2000", "--fsync-interval", "0"))
    server.send_tcp(lines(100_000))
    server.wait_received(100_000, timeout=30)
    server.wait_for(lambda: server.stats()["disk_durable_id"] > server.logs(limit=1)[0]["id"], message="all durable")
    server.wait_for(lambda: server.stats()["clickhouse_shipped_up_to"] > 10_000, message="shipping under way")
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    in_clickhouse = distinct(clickhouse, table)
    assert in_clickhouse < 100_000, "killed before the end"
    again = make_server(*shipping(table, clickhouse, "--clickhouse-batch", "2000"),
                        ports=(server.udp_port, server.tcp_port, server.http_port), data_dir=server.data_dir)
    assert wait_shipped(again, clickhouse, table, 100_000) == 100_000


def test_a_wrong_password_is_told_once_and_nothing_is_lost(make_server, clickhouse, table):
    server = make_server(*shipping(table, clickhouse, user=(USER, "not-the-password")))
    server.send_tcp(lines(1000))
    server.wait_received(1000)
    server.wait_for(lambda: server.stats()["clickhouse_failures"]["authentication"] >= 3, message="retries")
    stats = server.stats()
    assert stats["clickhouse_failing"] == 1 and stats["clickhouse_lag_records"] == 1000
    assert server.stop() == 0
    log = server.process.stderr.read().decode()
    told = [line for line in log.splitlines() if "authentication" in line]
    assert len(told) == 1 and "Wrong password for user logstream" in told[0], log
    fixed = make_server(*shipping(table, clickhouse), ports=(server.udp_port, server.tcp_port, server.http_port), data_dir=server.data_dir)
    assert wait_shipped(fixed, clickhouse, table, 1000) == 1000


def test_an_incompatible_table_is_reported_and_shipping_resumes_once_it_is_fixed(make_server, clickhouse, table):
    clickhouse.query("CREATE DATABASE IF NOT EXISTS logstream")
    clickhouse.query(f"CREATE TABLE {table} (node String, id UInt64, ts DateTime, msg UInt64) ENGINE = MergeTree ORDER BY id")
    server = make_server(*shipping(table, clickhouse))
    server.send_tcp(lines(500))
    server.wait_received(500)
    server.wait_for(lambda: server.stats()["clickhouse_failures"]["schema"] >= 1, message="schema failure")
    time.sleep(0.5)
    assert server.stats()["clickhouse_lag_records"] == 500
    clickhouse.query(f"DROP TABLE {table}")
    assert wait_shipped(server, clickhouse, table, 500) == 500, "the table is created once it is gone"
    assert server.stop() == 0
    log = server.process.stderr.read().decode()
    assert "column msg is UInt64, not String" in log and "no column level String" in log


def test_rows_clickhouse_cannot_take_are_found_counted_and_the_rest_shipped(make_server, clickhouse, table):
    # A column of the operator's own that refuses some rows: the batch is split until they are found.
    server = make_server(*shipping(table, clickhouse))
    server.send_tcp(b"INFO [warm] first\n")
    wait_shipped(server, clickhouse, table, 1)
    clickhouse.query(f"ALTER TABLE {table} ADD COLUMN guard UInt8 MATERIALIZED throwIf(position(msg, 'POISON') > 0)")
    batch = b"".join(b"INFO [shop] order %d %s\n" % (i, b"POISON" if i in (17, 500, 999) else b"fine") for i in range(1000))
    server.send_tcp(batch)
    server.wait_received(1001)
    assert wait_shipped(server, clickhouse, table, 998) == 998
    stats = server.stats()
    assert stats["clickhouse_rows_rejected"] == 3 and stats["clickhouse_lost_records"] == 0
    assert clickhouse.scalar(f"SELECT count() FROM {table} WHERE position(msg, 'POISON') > 0") == 0
    assert server.stop() == 0
    log = server.process.stderr.read().decode()
    assert log.count("ClickHouse cannot take record") == 3 and "throwIf" in log


def test_a_bad_clickhouse_flag_is_one_clear_line(tmp_path):
    import subprocess
    from conftest import BINARY
    for flags, expected in [(["--clickhouse-url", "ftp://127.0.0.1:8443"], "--clickhouse-url must be http(s)://host[:port]"),
                            (["--clickhouse-url", "127.0.0.1:8123"], "--clickhouse-url must be http(s)://host[:port]"),
                            (["--clickhouse-url", "https://h", "--clickhouse-ca", str(tmp_path / "none.pem")], "TLS CA"),
                            (["--clickhouse-url", "http://h", "--clickhouse-ca", "/etc/ssl/certs/ca-certificates.crt"], "an https:// --clickhouse-url"),
                            (["--clickhouse-url", "https://h", "--clickhouse-tls-cert", "/etc/ssl/certs/ca-certificates.crt"], "go together"),
                            (["--clickhouse-url", "http://h:1", "--clickhouse-table", "a.b.c"], "--clickhouse-table must be"),
                            (["--clickhouse-url", "http://h:1", "--clickhouse-batch", "0"], "--clickhouse-batch must be")]:
        result = subprocess.run([str(BINARY), "--data-dir", str(tmp_path / "d"), *flags], capture_output=True, timeout=10)
        assert result.returncode != 0
        assert expected in result.stderr.decode() and len(result.stderr.decode().strip().splitlines()) == 1, result.stderr


def test_a_frozen_clickhouse_times_out_and_nothing_waits_for_it(make_server, table):
    assert available(), "clickhouse-server is missing: ./test.sh installs it"
    instance = ClickHouse(free_port, name="frozen").start()
    try:
        server = make_server(*shipping(table, instance, "--clickhouse-timeout", "1s"))
        server.send_tcp(lines(1000))
        wait_shipped(server, instance, table, 1000)
        instance.freeze()
        server.send_tcp(lines(1000, start=1000))
        server.wait_for(lambda: server.stats()["clickhouse_failures"]["unreachable"] >= 2, message="timeouts")
        started = time.time()
        assert server.logs(query="order", limit=5) and server.stats()["received"] == 2000
        assert time.time() - started < 1, "searches and stats do not wait for ClickHouse"
        assert server.stats()["clickhouse_lag_records"] == 1000
        instance.thaw()
        assert wait_shipped(server, instance, table, 2000) == 2000
        assert server.stop() == 0
        log = server.process.stderr.read().decode()
        assert "Connection timed out" in log, log
    finally:
        instance.remove()


def test_the_dashboard_header_shows_the_lag_and_turns_red_when_shipping_is_held_up(make_server, clickhouse, table, browser):
    from selenium.webdriver.support.ui import WebDriverWait
    server = make_server(*shipping(table, clickhouse, user=(USER, "wrong")))
    server.send_tcp(lines(300))
    server.wait_received(300)
    browser.get(server.base_url + "/")
    stat = browser.find_element("id", "clickhouse-stat")
    WebDriverWait(browser, 10).until(lambda _: "failing" in stat.get_attribute("class") and "300" in stat.text)
    assert "authentication" in stat.get_attribute("title") and "held up" in stat.get_attribute("title")
    shipped = make_server(*shipping(table, clickhouse))
    shipped.send_tcp(lines(10))
    wait_shipped(shipped, clickhouse, table, 10)
    browser.get(shipped.base_url + "/")
    stat = browser.find_element("id", "clickhouse-stat")
    WebDriverWait(browser, 10).until(lambda _: stat.is_displayed() and "none" in stat.text)
    assert "failing" not in stat.get_attribute("class")
