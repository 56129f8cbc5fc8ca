"""The /ws live tail with the websockets library, speaking the original's protocol; and hostile clients."""
import base64
import json
import os
import socket
import struct
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from conftest import memory_figures_meaningful


def ws_url(server):
    return f"ws://127.0.0.1:{server.http_port}/ws"


def receive(client, timeout=5):
    return json.loads(client.recv(timeout=timeout))


def update_filters(client, query="", level="", service=""):
    client.send(json.dumps({"type": "update_filters", "filters": {"query": query, "level": level, "service": service}}))
    return receive(client)


def test_history_then_new_matching_lines(server):
    server.send_tcp(b"".join(b"ERROR [api] old failure %d\n" % index for index in range(60)) + b"INFO [api] old ok\n")
    server.wait_received(61)
    with connect(ws_url(server)) as client:
        history = update_filters(client, level="ERROR", service="api")
        assert history["type"] == "history"
        assert [entry["raw"] for entry in history["data"]] == [f"ERROR [api] old failure {index}" for index in range(59, 9, -1)]
        server.send_udp(b"INFO [api] not an error\nERROR [web] other service\nERROR [api] fresh failure")
        message = receive(client)
        assert message["type"] == "new_log"
        assert message["data"]["raw"] == "ERROR [api] fresh failure"
        assert message["data"]["protocol"] == "UDP" and message["data"]["level"] == "ERROR"


def test_without_filters_every_new_line_arrives_in_order(server):
    with connect(ws_url(server)) as client:
        assert update_filters(client) == {"type": "history", "data": []}
        server.send_tcp(b"".join(b"INFO [seq] %d\n" % index for index in range(500)))
        raws = [receive(client)["data"]["raw"] for _ in range(500)]
        assert raws == [f"INFO [seq] {index}" for index in range(500)]


def test_null_filters_and_text_query(server):
    with connect(ws_url(server)) as client:
        client.send(json.dumps({"type": "update_filters", "filters": {"query": "Disk", "level": None, "service": None}}))
        assert receive(client)["type"] == "history"
        server.send_tcp(b"WARN [os] disk almost full\nINFO [os] all fine\n")
        assert receive(client)["data"]["raw"] == "WARN [os] disk almost full"
        client.ping()  # the library waits for our pong


def test_log_text_arrives_exactly_as_json(server):
    nasty = b'INFO [xss] <script>alert(1)</script> "quoted" \\ back\tslash \xe9'
    with connect(ws_url(server)) as client:
        update_filters(client, service="xss")
        server.send_tcp(nasty + b"\n")
        assert receive(client)["data"]["raw"] == 'INFO [xss] <script>alert(1)</script> "quoted" \\ back\tslash \ufffd'


def raw_websocket(server):
    """A hand-made client, for sending frames no library would."""
    connection = socket.create_connection(("127.0.0.1", server.http_port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    connection.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    response = b""
    while b"\r\n\r\n" not in response:
        response += connection.recv(1)
    assert response.startswith(b"HTTP/1.1 101")
    return connection


def masked_frame(opcode, payload, fin=True, mask=b"\x01\x02\x03\x04", rsv=0):
    header = bytes([(0x80 if fin else 0) | rsv | opcode])
    if len(payload) < 126:
        header += bytes([0x80 | len(payload)])
    elif len(payload) < 65536:
        header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
    else:
        header += bytes([0x80 | 127]) + struct.pack(">Q", len(payload))
    return header + mask + bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))


def close_code(connection):
    """Reads frames until a close frame; returns its code."""
    data = b""
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            raise AssertionError("closed without a close frame")
        data += chunk
        while len(data) >= 2:
            length = data[1] & 0x7F
            offset = 2
            if length == 126:
                length, offset = struct.unpack(">H", data[2:4])[0], 4
            elif length == 127:
                length, offset = struct.unpack(">Q", data[2:10])[0], 10
            if len(data) < offset + length:
                break
            opcode, payload = data[0] & 0x0F, data[offset:offset + length]
            data = data[offset + length:]
            if opcode == 0x8:
                return struct.unpack(">H", payload[:2])[0]


BAD_FRAMES = [
    (b"\x81\x05hello", 1002),                                    # unmasked
    (masked_frame(0x1, b"hi", rsv=0x40), 1002),                  # reserved bit
    (masked_frame(0x3, b"hi"), 1002),                            # unknown opcode
    (masked_frame(0x9, b"x" * 126), 1002),                       # control frame over 125 bytes
    (masked_frame(0x9, b"", fin=False), 1002),                   # fragmented control frame
    (masked_frame(0x1, b"\xc3\x28"), 1007),                      # invalid UTF-8 text
    (masked_frame(0x8, b"\x03\xed"), 1002),                      # bad close code 1005
    (masked_frame(0x1, b"a" * (1 << 20)), 1009),                 # oversized
]
BAD_FRAME_NAMES = ["unmasked", "reserved-bit", "unknown-opcode", "long-control", "fragmented-control",
                   "invalid-utf8", "bad-close-code", "oversized"]


@pytest.mark.parametrize("frame, expected", BAD_FRAMES, ids=BAD_FRAME_NAMES)
def test_bad_frames_close_with_the_right_code(server, frame, expected):
    connection = raw_websocket(server)
    connection.sendall(frame)
    assert close_code(connection) == expected
    connection.close()
    server.send_udp(b"INFO [after] bad frame")
    server.wait_received(1)


def test_a_clean_close_is_echoed(server):
    connection = raw_websocket(server)
    connection.sendall(masked_frame(0x8, b"\x03\xe8bye"))
    assert close_code(connection) == 1000


def test_bad_handshakes_are_refused(server):
    assert server.raw_http(b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 426")
    response = server.raw_http(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               b"Sec-WebSocket-Version: 13\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 400")


def test_a_client_that_never_reads_stalls_nothing_and_is_told_what_it_lost(server):
    stalled = raw_websocket(server)
    stalled.sendall(masked_frame(0x1, json.dumps({"type": "update_filters", "filters": {}}).encode()))
    with connect(ws_url(server)) as healthy:
        update_filters(healthy, service="marker")
        lines = 200_000
        chunk = b"".join(b"INFO [flood] line number %d with some padding to make it longer\n" % index for index in range(lines))
        started = time.time()
        server.send_tcp(chunk)
        server.wait_received(lines, timeout=30)
        assert time.time() - started < 20
        server.send_tcp(b"INFO [marker] after the flood\n")
        assert receive(healthy)["data"]["raw"] == "INFO [marker] after the flood"
    assert server.stats()["received"] == lines + 1
    # Now read the stalled client: it got history, some new_log, then a dropped notice.
    stalled.settimeout(10)
    decoder = FrameReader(stalled)
    dropped = None
    while dropped is None:
        message = json.loads(decoder.next_text())
        if message["type"] == "dropped":
            dropped = message["count"]
    assert 0 < dropped < lines + 1
    stalled.close()


class FrameReader:
    """Reads server frames from a raw socket; keeps a read position instead of re-slicing a large buffer."""

    def __init__(self, connection):
        self.connection, self.data, self.position = connection, bytearray(), 0

    def next_text(self):
        while True:
            frame = self._parse()
            if frame is None:
                chunk = self.connection.recv(1 << 20)
                if not chunk:
                    raise ConnectionClosed(None, None)
                del self.data[:self.position]
                self.position = 0
                self.data += chunk
                continue
            opcode, payload = frame
            if opcode == 0x1:
                return payload.decode()

    def _parse(self):
        data, start = self.data, self.position
        if len(data) - start < 2:
            return None
        length, offset = data[start + 1] & 0x7F, 2
        if length == 126:
            if len(data) - start < 4:
                return None
            length, offset = struct.unpack_from(">H", data, start + 2)[0], 4
        elif length == 127:
            if len(data) - start < 10:
                return None
            length, offset = struct.unpack_from(">Q", data, start + 2)[0], 10
        end = start + offset + length
        if len(data) < end:
            return None
        self.position = end
        return data[start] & 0x0F, bytes(data[start + offset:end])


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def test_a_client_that_pings_but_never_reads_is_held_back_not_buffered(server):
    client = raw_websocket(server)
    before = rss_kib(server.process.pid)
    ping = masked_frame(0x9, b"p" * 125)
    client.settimeout(2)
    sent = 0
    try:
        while sent < 64 << 20:
            client.sendall(ping * 512)
            sent += len(ping) * 512
    except socket.timeout:
        pass  # the server stopped reading us: our send buffer and its receive buffer are full
    assert sent < 64 << 20, "the server kept reading a client that never reads its pongs"
    if memory_figures_meaningful:
        assert rss_kib(server.process.pid) - before < 32 * 1024
    assert server.status("/healthz") == 200
    server.send_udp(b"INFO [ok] still ingesting")
    server.wait_received(1)
    client.close()


def test_field_filters_over_the_websocket(server):
    with connect(ws_url(server)) as client:
        client.send(json.dumps({"type": "update_filters", "filters": {"query": "", "field.user": "alice"}}))
        assert receive(client) == {"type": "history", "data": []}
        server.send_tcp(b'{"msg":"x","user":"bob"}\n{"msg":"y","user":"alice"}\nuser=alice level=info msg=z\n')
        first, second = receive(client)["data"], receive(client)["data"]
        assert (first["format"], first["fields"]) == ("json", {"user": "alice"})
        assert (second["format"], second["fields"]) == ("logfmt", {"user": "alice"})
        client.send(json.dumps({"type": "update_filters", "filters": {"fields": {"user": "bob"}}}))
        history = receive(client)
        assert [entry["raw"] for entry in history["data"]] == ['{"msg":"x","user":"bob"}']


def test_the_query_language_over_the_websocket(server):
    with connect(ws_url(server)) as client:
        client.send(json.dumps({"type": "update_filters", "filters": {"q": "level:>=warn -service:noisy"}}))
        assert receive(client) == {"type": "history", "data": []}
        server.send_tcp(b"ERROR [noisy] spam\nINFO [api] fine\nWARN [api] slow\n")
        assert receive(client)["data"]["raw"] == "WARN [api] slow"
        # A bad query is answered with an error message; the filter in force stays.
        client.send(json.dumps({"type": "update_filters", "filters": {"q": "level:>=warn ("}}))
        assert receive(client) == {"type": "error", "message": "q: a term is missing at position 14"}
        server.send_tcp(b"INFO [api] still filtered out\nFATAL [api] down\n")
        assert receive(client)["data"]["raw"] == "FATAL [api] down"


def test_batches_for_clients_that_ask_for_them(server):
    with connect(ws_url(server)) as batching, connect(ws_url(server)) as plain:
        batching.send(json.dumps({"type": "update_filters", "filters": {"q": "-noise"}, "batch": True}))
        history = receive(batching)
        assert (history["type"], history["data"], history["complete"]) == ("history", [], True) and history["next_id"] >= 1
        assert update_filters(plain) == {"type": "history", "data": []}
        server.send_tcp(b"".join(b"INFO [b] line %d\n" % index for index in range(500)) + b"INFO [b] noise\n")
        server.wait_received(501)
        seen = []
        while len(seen) < 500:
            message = receive(batching)
            assert message["type"] == "batch"
            seen += [entry["raw"] for entry in message["data"]]
        assert seen == ["INFO [b] line %d" % index for index in range(500)]  # oldest first, nothing twice
        plain_messages = [receive(plain) for _ in range(501)]
        assert {message["type"] for message in plain_messages} == {"new_log"}  # the original's clients are unchanged


def test_a_resumed_tail_gets_what_it_missed_after_its_last_id(server):
    server.send_tcp(b"".join(b"WARN [r] before %d\n" % index for index in range(20)))
    server.wait_received(20)
    last_seen = server.logs(limit=1)[0]["id"] - 10  # the client saw up to "before 9"
    with connect(ws_url(server)) as client:
        client.send(json.dumps({"type": "update_filters", "filters": {}, "batch": True, "after": last_seen, "limit": 1000}))
        history = receive(client)
        assert [entry["raw"] for entry in history["data"]] == ["WARN [r] before %d" % index for index in range(19, 9, -1)]
        assert history["complete"] is True
        client.send(json.dumps({"type": "update_filters", "filters": {}, "batch": True, "after": last_seen, "limit": 3}))
        cut = receive(client)
        assert len(cut["data"]) == 3 and cut["complete"] is False
        for wrong in ({"after": "x", "limit": "y", "batch": "yes"}, {"after": -1, "limit": -5}):
            client.send(json.dumps({"type": "update_filters", "filters": {}, **wrong}))
            assert receive(client)["type"] == "history"  # read as absent or clamped, never an error


def test_lines_published_while_a_history_is_gathered_follow_it(server):
    # A slow regex over many lines keeps the history on the worker for a while; lines sent meanwhile must come
    # after it, none lost and none repeated.
    server.send_tcp(b"".join(b"INFO [h] %s %d\n" % (b"a" * 100, index) for index in range(20000)))
    server.wait_received(20000)
    with connect(ws_url(server)) as client:
        client.send(json.dumps({"type": "update_filters", "filters": {"q": "/(a|aa)*b/ OR marker"}}))
        server.send_tcp(b"".join(b"INFO [h] marker %d\n" % index for index in range(5)))
        history = receive(client, timeout=30)
        assert history["type"] == "history"
        live = [receive(client)["data"]["raw"] for _ in range(5 - len(history["data"]))]
        raws = [entry["raw"] for entry in reversed(history["data"])] + live
        assert raws == ["INFO [h] marker %d" % index for index in range(5)]
