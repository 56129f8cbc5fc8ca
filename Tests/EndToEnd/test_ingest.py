"""Ingestion over real sockets and util-linux logger, checked through the original's HTTP API."""
import os
import signal
import re
import socket
import subprocess
import time

from conftest import Server

ENTRY_KEYS = {"id", "timestamp", "level", "service", "protocol", "host", "raw", "truncated", "format", "source_time", "fields"}
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def test_tcp_lines_are_stored_with_the_original_fields(server):
    server.send_tcp(b"INFO [auth] User logged in\nERROR [payment-service] Transaction failed\n")
    server.wait_received(2)
    newest, oldest = server.logs()
    assert set(newest) == ENTRY_KEYS
    assert newest["raw"] == "ERROR [payment-service] Transaction failed"
    assert (newest["level"], newest["service"], newest["protocol"], newest["host"]) == ("ERROR", "payment-service", "TCP", "127.0.0.1")
    assert oldest["raw"] == "INFO [auth] User logged in" and oldest["level"] == "INFO" and oldest["service"] == "auth"
    assert ISO_UTC.match(newest["timestamp"])
    assert newest["id"] == oldest["id"] + 1 and newest["truncated"] is False


def test_a_line_split_across_writes_is_reassembled_and_crlf_accepted(server):
    with socket.create_connection(("127.0.0.1", server.tcp_port)) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in [b"WARN [sp", b"lit] first ha", b"lf and second half\r\n", b"DEBUG [x] next\r\n"]:
            connection.sendall(piece)
            time.sleep(0.05)
    server.wait_received(2)
    assert [entry["raw"] for entry in server.logs()] == ["DEBUG [x] next", "WARN [split] first half and second half"]


def test_the_last_unterminated_line_is_kept_when_the_peer_closes(server):
    server.send_tcp(b"INFO one\nINFO [tail] no newline at the end")
    server.wait_received(2)
    assert server.logs()[0]["raw"] == "INFO [tail] no newline at the end"


def test_each_line_of_a_datagram_is_a_record_and_blank_lines_are_not(server):
    server.send_udp(b"WARN [udp] one\n\n   \nERROR [udp] two\nthree")
    server.wait_received(3)
    time.sleep(0.2)
    entries = server.logs()
    assert [entry["raw"] for entry in entries] == ["three", "ERROR [udp] two", "WARN [udp] one"]
    assert all(entry["protocol"] == "UDP" for entry in entries)


def test_a_datagram_of_200_lines_gives_200_records(server):
    server.send_udp(b"".join(b"INFO [bulk] line %d\n" % index for index in range(200)))
    server.wait_received(200)
    entries = server.logs(limit=500)
    assert len(entries) == 200
    assert entries[0]["raw"] == "INFO [bulk] line 199" and entries[-1]["raw"] == "INFO [bulk] line 0"


def test_levels_are_whole_words_near_the_start(server):
    server.send_tcp(b"INFO no errors found\nDEBUG ... terrorist\nCRITICAL disk gone\nTRACE entering\nwarning: slow\n")
    server.wait_received(5)
    assert [entry["level"] for entry in server.logs()] == ["WARN", "TRACE", "FATAL", "DEBUG", "INFO"]


def test_logger_over_udp_and_tcp_in_both_syslog_formats(server):
    sends = [("--udp", "--rfc5424", "err"), ("--tcp", "--rfc5424", "warning"), ("--udp", "--rfc3164", "crit"),
             ("--tcp", "--rfc3164", "debug")]
    for transport, syslog_format, priority in sends:
        port = server.udp_port if transport == "--udp" else server.tcp_port
        subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(port), transport, syslog_format, "-p", f"user.{priority}",
                        "-t", "billing", f"charge failed via {transport} {syslog_format}"], check=True)
    server.wait_received(len(sends))
    entries = {entry["raw"].rsplit("via ", 1)[1]: entry for entry in server.logs()}
    expected_levels = {"--udp --rfc5424": "ERROR", "--tcp --rfc5424": "WARN", "--udp --rfc3164": "FATAL",
                       "--tcp --rfc3164": "DEBUG"}
    assert set(entries) == set(expected_levels)
    for key, entry in entries.items():
        assert entry["level"] == expected_levels[key], key
        assert entry["service"] == "billing", key
        assert entry["host"] == socket.gethostname(), key
        assert entry["protocol"] == key.split()[0][2:].upper()


def test_logger_octet_counted_tcp_frames(server):
    command = ["logger", "-n", "127.0.0.1", "-P", str(server.tcp_port), "--tcp", "--octet-count", "--rfc5424",
               "-p", "local0.err", "-t", "framed"]
    stdin_messages = [f"frame {index} from stdin" for index in range(20)]  # one connection, one frame per line
    subprocess.run(command, input="\n".join(stdin_messages) + "\n", text=True, check=True)
    subprocess.run(command + ["a frame with a\nnewline inside"], check=True)
    expected = stdin_messages + ["a frame with a\nnewline inside"]
    server.wait_received(len(expected))
    entries = server.logs(service="framed", limit=100)
    assert sorted(entry["raw"].split("] ", 1)[-1] for entry in entries) == sorted(expected)
    assert all(entry["level"] == "ERROR" for entry in entries)


def test_plain_lines_starting_with_digits_are_not_octet_counts(server):
    lines = [f"2026-11-28T18:00:{index % 60:02d}Z INFO [clock] tick {index}" for index in range(1000)]
    lines += ["200 <b>not a count</b>", "42 <13 also not"]
    with socket.create_connection(("127.0.0.1", server.tcp_port)) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        payload = "".join(line + "\n" for line in lines).encode()
        for offset in range(0, len(payload), 997):  # odd-sized writes split prefixes across reads
            connection.sendall(payload[offset:offset + 997])
    server.wait_received(len(lines))
    assert [entry["raw"] for entry in reversed(server.logs(limit=2000))] == lines


def test_python_syslog_handler_over_tcp_with_nul_framing(server):
    import logging
    import logging.handlers
    handler = logging.handlers.SysLogHandler(address=("127.0.0.1", server.tcp_port), socktype=socket.SOCK_STREAM)
    logger = logging.getLogger("logstream-e2e-tcp")
    logger.addHandler(handler)
    try:
        for index in range(50):
            logger.error(f"ERROR [tcp-handler] failure {index}")
    finally:
        logger.removeHandler(handler)
        handler.close()
    server.wait_received(50)
    entries = server.logs(service="tcp-handler")
    assert sorted(entry["raw"] for entry in entries) == sorted(f"<11>ERROR [tcp-handler] failure {index}" for index in range(50))
    assert all(entry["level"] == "ERROR" and entry["format"] == "rfc3164" for entry in entries)


def test_python_syslog_handler_over_udp(server):
    import logging
    import logging.handlers
    handler = logging.handlers.SysLogHandler(address=("127.0.0.1", server.udp_port))
    logger = logging.getLogger("logstream-e2e")
    logger.addHandler(handler)
    try:
        logger.error("ERROR [payments] card declined")
        logger.warning("WARN [payments] retrying")
    finally:
        logger.removeHandler(handler)
        handler.close()
    server.wait_received(2)
    newest, oldest = server.logs()
    assert (oldest["raw"], oldest["level"], oldest["service"]) == ("<11>ERROR [payments] card declined", "ERROR", "payments")
    assert (newest["level"], newest["host"]) == ("WARN", "127.0.0.1")


def test_bytes_that_are_not_utf8_are_kept_and_shown_as_replacement_characters(server):
    server.send_tcp(b"INFO caf\xe9 and \xff\xfe junk\n")
    server.wait_received(1)
    assert server.logs()[0]["raw"] == "INFO caf\ufffd and \ufffd\ufffd junk"


def test_a_1_mib_line_is_truncated_counted_and_the_connection_goes_on(server):
    with socket.create_connection(("127.0.0.1", server.tcp_port)) as connection:
        connection.sendall(b"INFO before\n" + b"E" * (1 << 20) + b"\nINFO after\n")
    server.wait_received(3)
    after, long_line, before = server.logs()
    assert (before["raw"], after["raw"]) == ("INFO before", "INFO after")
    assert long_line["truncated"] is True and len(long_line["raw"]) == 64 * 1024
    assert server.stats()["truncated"] == 1


def test_binary_junk_does_not_stop_good_lines(server):
    junk = os.urandom(256 * 1024)
    with socket.create_connection(("127.0.0.1", server.tcp_port)) as connection:
        connection.sendall(junk + b"\nINFO [good] survives junk\n")
    server.send_udp(os.urandom(1400))
    server.send_udp(b"INFO [good] survives junk over udp")
    server.wait_for(lambda: len(server.logs(service="good")) == 2, message="good lines")
    assert server.status("/healthz") == 200
    assert server.stats()["received"] >= 3


def test_1000_simultaneous_tcp_connections_are_all_read(server):
    connections = []
    for index in range(1000):
        connection = socket.create_connection(("127.0.0.1", server.tcp_port))
        connections.append(connection)
    for index, connection in enumerate(connections):
        connection.sendall(b"INFO [many] connection %d\n" % index)
    for connection in connections:
        connection.close()
    server.wait_received(1000, timeout=30)
    raws = {entry["raw"] for entry in server.logs(service="many", limit=2000)}
    assert raws == {f"INFO [many] connection {index}" for index in range(1000)}


def test_sigterm_keeps_what_was_sent_and_exits_zero(make_server):
    instance = make_server()
    with socket.create_connection(("127.0.0.1", instance.tcp_port)) as connection:
        connection.sendall(b"INFO [bye] last words\n")
        instance.wait_received(1)
    assert instance.stop() == 0
    assert b"stopped: 1 records received" in instance.process.stderr.read()


def test_json_lines_take_level_and_service_from_their_members(server):
    import json
    samples = [
        ({"level": 50, "time": 1732816800123, "pid": 1, "hostname": "h", "name": "checkout", "msg": "payment failed"}, "ERROR", "checkout"),
        ({"event": "cache miss", "level": "debug", "logger": "api.cache", "timestamp": "2026-11-28T18:00:00Z"}, "DEBUG", "api.cache"),
        ({"level": "warn", "ts": 1732816800.5, "caller": "main.go:12", "msg": "slow dial", "service": "gateway"}, "WARN", "gateway"),
        ({"@timestamp": "2026-11-28T18:00:00.123Z", "log.level": "fatal", "service.name": "billing", "message": "down"}, "FATAL", "billing"),
    ]
    server.send_tcp(b"".join(json.dumps(record).encode() + b"\n" for record, _, _ in samples) + b'{"level": "error", broken\n')
    server.wait_received(len(samples) + 1)
    entries = list(reversed(server.logs()))
    for (record, level, service), entry in zip(samples, entries):
        assert json.loads(entry["raw"]) == record
        assert (entry["level"], entry["service"]) == (level, service)
    assert (entries[-1]["raw"], entries[-1]["level"]) == ('{"level": "error", broken', "ERROR")


def test_structured_fields_format_and_source_time_are_returned_and_filterable(server):
    import json
    server.send_tcp(b"".join([
        b'<165>1 2003-10-11T22:14:15.003Z web1 evntslog 8710 ID47 [origin@32473 ip="10.0.0.7" note="say \\"hi\\""] event one\n',
        b'{"level":"error","ts":1732816800.5,"msg":"dial failed","service":"gw","user":"alice","attempt":3}\n',
        b'time=2026-11-28T18:00:00Z level=warn service=disk msg="almost full" free=2.1GB user=bob\n',
        b"INFO [plain] no fields\n",
    ]))
    server.wait_received(4)
    plain, logfmt, json_line, syslog = server.logs()
    assert (syslog["format"], syslog["source_time"], syslog["host"], syslog["service"]) == ("rfc5424", "2003-10-11T22:14:15.003Z", "web1", "evntslog")
    assert syslog["fields"] == {"facility": "local4", "procid": "8710", "msgid": "ID47", "sd.origin@32473.ip": "10.0.0.7",
                                "sd.origin@32473.note": 'say "hi"'}
    assert (json_line["format"], json_line["source_time"], json_line["level"]) == ("json", "2024-11-28T18:00:00.500Z", "ERROR")
    assert json_line["fields"] == {"user": "alice", "attempt": 3}
    assert (logfmt["format"], logfmt["source_time"], logfmt["service"]) == ("logfmt", "2026-11-28T18:00:00.000Z", "disk")
    assert logfmt["fields"] == {"free": "2.1GB", "user": "bob"}
    assert (plain["format"], plain["source_time"], plain["fields"]) == ("plain", None, {})
    assert [entry["service"] for entry in server.logs(**{"field.user": "alice"})] == ["gw"]
    assert [entry["service"] for entry in server.logs(**{"field.sd.origin@32473.ip": "10.0.0.7"})] == ["evntslog"]
    assert server.logs(**{"field.user": "alice", "level": "warn"}) == []


def test_a_plain_line_led_by_an_rfc3339_timestamp_gives_its_source_time(server):
    server.send_tcp(b"2026-11-29T10:10:00.123+01:00 WARN [billing] invoice 7 late\n"
                    b"2026-11-29 10:10:00 ERROR [billing] not RFC 3339: no source time, level still found\n"
                    b"1732816800 INFO [billing] epoch numbers are not timestamps in plain text\n")
    server.wait_received(3)
    epoch, spaced, dated = server.logs()
    assert (dated["source_time"], dated["level"], dated["service"], dated["format"]) == ("2026-11-29T09:10:00.123Z", "WARN", "billing", "plain")
    assert (spaced["source_time"], spaced["level"], spaced["service"]) == (None, "ERROR", "billing")
    assert (epoch["source_time"], epoch["level"]) == (None, "INFO")


def test_logger_structured_data_and_msgid_become_fields(server):
    for transport, port in (("--udp", server.udp_port), ("--tcp", server.tcp_port)):
        subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(port), transport, "--rfc5424", "--octet-count",
                        "-t", "zoo", "--msgid", "FEED", "--sd-id", "zoo@32473", "--sd-param", 'tiger="hungry"',
                        "--sd-param", 'keeper="says \\"hi\\""', f"feeding time over {transport}"], check=True)
    server.wait_received(2)
    for entry in server.logs(service="zoo"):
        assert entry["format"] == "rfc5424"
        assert entry["fields"]["msgid"] == "FEED"
        assert entry["fields"]["sd.zoo@32473.tiger"] == "hungry"
        assert entry["fields"]["sd.zoo@32473.keeper"] == 'says "hi"'
        assert entry["raw"].endswith("feeding time over --" + entry["protocol"].lower())


def test_udp_datagrams_the_kernel_drops_are_counted():
    """A stopped server with a small receive buffer: the kernel drops what does not fit, and tells the count with
    the next datagram it delivers (SO_RXQ_OVFL), so one more is sent once the server has caught up."""
    server = Server("--udp-receive-buffer", "64K")
    try:
        server.process.send_signal(signal.SIGSTOP)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for index in range(3000):
                sender.sendto(b"INFO [drops] datagram %d" % index, ("127.0.0.1", server.udp_port))
            server.process.send_signal(signal.SIGCONT)
            previous, stats = -1, server.get("/api/stats")
            while stats["received"] != previous:
                previous = stats["received"]
                time.sleep(0.2)
                stats = server.get("/api/stats")
            sender.sendto(b"INFO [drops] after the overflow", ("127.0.0.1", server.udp_port))
        deadline = time.time() + 10
        while time.time() < deadline:
            stats = server.get("/api/stats")
            if stats["received"] + stats["udp_kernel_drops"] == 3001:
                break
            time.sleep(0.05)
        assert stats["udp_kernel_drops"] > 0 and stats["received"] > 1
        assert stats["received"] + stats["udp_kernel_drops"] == 3001
    finally:
        server.stop()
