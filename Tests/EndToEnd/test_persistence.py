"""History on disk: it survives restarts and crashes with its ids, is searched like memory, holds its retention
bound, and shrugs off torn and corrupt files, a full disk and a second server on the same directory."""
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import BINARY, Server, fresh_data_dir, timing_dependent


def all_logs(server, **params):
    """Every matching record, newest first, paged with `before=` as a client pages."""
    records, before = [], None
    while True:
        page = server.logs(limit=10000, **params, **({"before": before} if before else {}))
        records += page
        if len(page) < 10000:
            return records
        before = page[-1]["id"]


def segment_files(data_dir):
    return sorted(Path(data_dir).glob("*.lseg"))


def directory_bytes(data_dir):
    """Bytes in the directory now; retention may remove a file between listing and stat."""
    total = 0
    for entry in os.scandir(data_dir):
        try:
            total += entry.stat().st_size if entry.is_file() else 0
        except FileNotFoundError:
            pass
    return total


def restart(server, *args):
    """The same ports and data directory, after `server` stopped."""
    return Server(*args, ports=(server.udp_port, server.tcp_port, server.http_port), data_dir=server.data_dir)


def test_a_restart_keeps_every_record_with_its_id_and_new_ids_are_larger(make_server):
    first = make_server("--buffer-size", "500")
    first.send_tcp(b"".join(b"INFO [shop] order %d placed\n" % index for index in range(3000)))
    first.wait_received(3000)
    before = all_logs(first)
    assert first.stop() == 0
    second = restart(first, "--buffer-size", "500")
    try:
        after = all_logs(second)
        assert [(r["id"], r["raw"], r["service"], r["timestamp"]) for r in after] == \
               [(r["id"], r["raw"], r["service"], r["timestamp"]) for r in before]
        assert second.stats()["stored"] == 500, "the newest records are loaded back into memory"
        second.send_tcp(b"WARN [shop] after the restart\n")
        second.wait_for(lambda: second.logs(limit=1)[0]["raw"] == "WARN [shop] after the restart")
        assert second.logs(limit=1)[0]["id"] == before[0]["id"] + 1
    finally:
        assert second.stop() == 0


def test_history_beyond_memory_is_found_by_words_levels_services_fields_and_time(make_server):
    server = make_server("--buffer-size", "1000")
    lines = []
    for index in range(30000):
        if index % 1000 == 7:
            lines.append(b'{"level":"error","service":"billing","msg":"card declined zebra%d","user":"u%d"}\n' % (index, index))
        else:
            lines.append(b"INFO [web] GET /item/%d 200\n" % index)
    server.send_tcp(b"".join(lines[:15000]))
    server.wait_received(15000)
    time.sleep(0.05)
    now = time.time()
    middle = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (int(now * 1000) % 1000)
    time.sleep(0.05)
    server.send_tcp(b"".join(lines[15000:]))
    server.wait_received(30000)
    assert server.stats()["stored"] == 1000
    assert [r["raw"] for r in server.logs(q="zebra1007")] == [lines[1007].decode().strip()]
    errors = all_logs(server, q="level:error service:billing")
    assert len(errors) == 30 and all("zebra" in r["raw"] for r in errors)
    assert [r["id"] for r in errors] == sorted((r["id"] for r in errors), reverse=True)
    assert len(server.logs(q="field.user:u7007")) == 1
    assert len(server.logs(q='"GET /item/123 "')) == 1
    older = all_logs(server, q="zebra*", until=middle)
    newer = all_logs(server, q="zebra*", since=middle)
    assert len(older) == 15 and len(newer) == 15
    histogram = server.get("/api/histogram?q=level:error&buckets=10")
    assert sum(sum(bucket) for bucket in histogram["counts"]) == 30
    facets = server.get("/api/facets?field=service")
    assert {value["value"]: value["count"] for value in facets["values"]} == {"web": 29970, "billing": 30}


def checked_flood(server, stop, sent):
    """Numbered lines over TCP as fast as the server takes them, until `stop` is set."""
    with socket.create_connection(("127.0.0.1", server.tcp_port)) as connection:
        number = 0
        while not stop.is_set():
            batch = b"".join(b"INFO [flood] seq=%09d\n" % (number + index) for index in range(2000))
            try:
                connection.sendall(batch)
            except OSError:  # the server was killed
                return
            number += 2000
            sent[0] = number


@timing_dependent
def test_kill_9_under_a_flood_loses_nothing_counted_an_fsync_interval_before(make_server):
    server = make_server("--fsync-interval", "1s", "--buffer-size", "200000")
    stop, sent = threading.Event(), [0]
    flood = threading.Thread(target=checked_flood, args=(server, stop, sent))
    flood.start()
    try:
        server.wait_received(100_000, timeout=30)
        counted = server.stats()["received"]
        time.sleep(1.5)  # one fsync interval, and then some
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
    finally:
        stop.set()
        flood.join()
    again = restart(server, "--buffer-size", "1000")
    try:
        records = list(reversed(all_logs(again, q="flood")))
        numbers = [int(r["raw"].split("seq=")[1]) for r in records]
        assert len(records) >= counted
        assert numbers[:counted] == list(range(counted)), "the first records counted are all there, once, in order"
        assert len(set(numbers)) == len(numbers)
        ids = [r["id"] for r in records]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        again.send_tcp(b"INFO [after] crash\n")
        again.wait_for(lambda: again.logs(limit=1)[0]["raw"] == "INFO [after] crash")
        assert again.logs(limit=1)[0]["id"] > ids[-1], "no id is handed out twice, not even a lost one"
    finally:
        assert again.stop() == 0


def test_retention_holds_the_byte_bound_while_ten_times_that_is_sent(make_server):
    bound = 1 << 20
    server = make_server("--retention-bytes", "1M", "--buffer-size", "10000", "--fsync-interval", "100ms")
    seen_max = [0]
    # Random hex compresses to about half: 20 rounds of ~0.8 MB on disk each.
    sent = 0
    for round_ in range(20):
        payload = os.urandom(8000 * 40).hex().encode()
        server.send_tcp(b"".join(b"INFO [ret] %d %s\n" % (sent + index, payload[index * 80:index * 80 + 80]) for index in range(8000)))
        sent += 8000
        server.wait_received(sent, timeout=20)
        seen_max[0] = max(seen_max[0], directory_bytes(server.data_dir))
    server.wait_for(lambda: server.stats()["disk_records_persisted"] >= sent, message="everything written")
    stats = server.stats()
    assert stats["disk_records_persisted"] >= sent
    assert sent * 100 > 10 * bound, "ten times the bound was sent"
    assert seen_max[0] <= bound * 1.25, f"the directory reached {seen_max[0]} bytes"
    assert stats["disk_retention_removals"] > 0 and stats["disk_bytes"] <= bound
    assert stats["disk_oldest_id"] > 1
    oldest = all_logs(server, q="ret")[-1]
    assert oldest["id"] >= stats["disk_oldest_id"] - 1


def test_a_torn_tail_and_a_corrupt_block_do_not_stop_startup(make_server):
    first = make_server("--buffer-size", "100", "--fsync-interval", "100ms")
    for batch in range(4):  # several blocks: each sync seals one
        first.send_tcp(b"".join(b"INFO [c] batch %d line %d\n" % (batch, index) for index in range(500)))
        first.wait_received(500 * (batch + 1))
        time.sleep(0.3)
    assert first.stop() == 0
    segment = segment_files(first.data_dir)[-1]
    data = bytearray(segment.read_bytes())
    data[200] ^= 0xFF  # inside the first block's body: its CRC fails
    segment.write_bytes(bytes(data) + b"\x00torn half-written block")
    (Path(first.data_dir) / "notes.txt").write_text("not the server's: left alone")
    second = restart(first, "--buffer-size", "100")
    try:
        stats = second.stats()
        assert stats["disk_torn_bytes_recovered"] == len(b"\x00torn half-written block")
        records = all_logs(second, q="batch")
        assert 1500 <= len(records) < 2000, "the corrupt block is skipped, the rest served"
        assert second.stats()["disk_corrupt_blocks_skipped"] >= 1
        assert (Path(first.data_dir) / "notes.txt").read_text() == "not the server's: left alone"
    finally:
        assert second.stop() == 0
    assert b"corrupt block skipped" in second.process.stderr.read()


def test_a_truncated_segment_in_the_middle_is_served_up_to_its_cut(make_server):
    first = make_server("--retention-bytes", "1M", "--buffer-size", "100", "--fsync-interval", "50ms")
    for index in range(60):  # ~500 KB of random text: several 128 KiB segments
        first.send_tcp(b"".join(b"INFO [t] %d %s\n" % (index, os.urandom(200).hex().encode()) for _ in range(20)))
        time.sleep(0.06)
    first.wait_received(1200)
    assert first.stop() == 0
    segments = segment_files(first.data_dir)
    assert len(segments) >= 3
    middle = segments[1]
    middle.write_bytes(middle.read_bytes()[: middle.stat().st_size // 2])
    second = restart(first)
    try:
        assert 0 < len(all_logs(second, q="t")) < 1200
    finally:
        assert second.stop() == 0


def test_no_persist_writes_nothing(tmp_path):
    server = Server("--no-persist")
    try:
        server.send_tcp(b"INFO [m] memory only\n")
        server.wait_received(1)
        assert "disk_bytes" not in server.stats()
    finally:
        server.stop()
    # The default directory is relative to the working directory: run there and look.
    process = subprocess.Popen([str(BINARY), "--no-persist", "--bind", "127.0.0.1", "--udp-port", "0", "--tcp-port", "0",
                                "--http-port", "0"], cwd=tmp_path, stderr=subprocess.PIPE)
    time.sleep(1)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert list(tmp_path.iterdir()) == []


def test_the_default_data_directory_is_logstream_data_in_the_working_directory(tmp_path):
    process = subprocess.Popen([str(BINARY), "--bind", "127.0.0.1", "--udp-port", "0", "--tcp-port", "0", "--http-port", "0"],
                               cwd=tmp_path, stderr=subprocess.PIPE)
    time.sleep(1)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert (tmp_path / "logstream-data" / "ids").exists()


def test_an_unusable_or_busy_data_directory_is_one_line_and_non_zero(tmp_path, make_server):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for path in (blocker, blocker / "below-a-file"):
        result = subprocess.run([str(BINARY), "--data-dir", str(path), "--udp-port", "0", "--tcp-port", "0", "--http-port", "0"],
                                capture_output=True, text=True, timeout=10)
        assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert str(path) in result.stderr
    running = make_server()
    result = subprocess.run([str(BINARY), "--data-dir", str(running.data_dir), "--udp-port", "0", "--tcp-port", "0",
                             "--http-port", "0"], capture_output=True, text=True, timeout=10)
    assert result.returncode != 0 and "in use by another LogStream" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_persistence_flags_are_one_line_and_non_zero():
    for args in (["--retention-bytes", "lots"], ["--retention-period", "soon"], ["--fsync-interval", "-1s"],
                 ["--retention-bytes", "10K"]):
        result = subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=10)
        assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)


def mount_tmpfs(path, size):
    path.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True)
    return result.returncode == 0, result.stderr.strip()


def disk_stat(browser):
    from selenium.webdriver.common.by import By
    return browser.find_element(By.ID, "disk-size").text


def test_a_full_disk_stops_persisting_keeps_memory_and_resumes(tmp_path, make_server, browser):
    mount = tmp_path / "small"
    mounted, why = mount_tmpfs(mount, "2m")
    if not mounted:
        pytest.skip(f"cannot mount a small tmpfs here ({why})")
    try:
        server = make_server("--data-dir", str(mount / "data"), "--fsync-interval", "100ms", "--retention-bytes", "100M")
        filler = mount / "filler"
        payload = [os.urandom(60).hex().encode() for _ in range(64)]
        sent = 0
        server.send_tcp(b"".join(b"INFO [full] %d\n" % index for index in range(100)))
        sent += 100
        server.wait_for(lambda: server.stats()["disk_records_persisted"] >= 100, message="first records written")
        with open(filler, "wb") as block:  # fill what is left
            try:
                while True:
                    block.write(b"\0" * 65536)
            except OSError:
                pass
        server.send_tcp(b"".join(b"INFO [full] %d %s\n" % (sent + index, payload[index % 64]) for index in range(20000)))
        sent += 20000
        server.wait_received(sent)
        server.wait_for(lambda: server.stats()["disk_write_failing"] == 1, message="persisting stopped")
        stats = server.stats()
        assert stats["disk_write_errors"] >= 1 and stats["received"] == sent
        assert len(server.logs(q="full", limit=5)) == 5, "memory goes on"
        browser.get(server.base_url + "/")  # and the dashboard says so
        server.wait_for(lambda: disk_stat(browser) == "writes failing", message="the dashboard shows it")
        filler.unlink()
        server.send_tcp(b"".join(b"INFO [full] again %d\n" % index for index in range(100)))
        server.wait_for(lambda: server.stats()["disk_write_failing"] == 0, timeout=15, message="persisting resumed")
        server.wait_for(lambda: disk_stat(browser).endswith("B"), message="the dashboard shows the size again")
        assert server.stop() == 0
        assert b"persisting stopped" in server.process.stderr.read()
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)
