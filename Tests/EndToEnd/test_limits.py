"""Limits and slow peers: connection bounds, idle TCP senders, slowloris request heads, WebSocket clients that do
not answer pings or do not read. Each is refused or closed, counted in /api/stats and /metrics, and good traffic
alongside goes on."""
import json
import os
import socket
import time

from websockets.sync.client import connect

from conftest import memory_measuring, timing_dependent

from test_websocket import close_code, masked_frame, raw_websocket


def closed_by_server(connection, timeout=5):
    """True when the server closes `connection` (or resets it) within `timeout` seconds."""
    connection.settimeout(timeout)
    try:
        while True:
            if not connection.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def metrics(server):
    with socket.create_connection(("127.0.0.1", server.http_port)) as connection:
        connection.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    values = {}
    for line in data.split(b"\r\n\r\n", 1)[1].decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_tcp_senders_beyond_the_bound_are_closed_at_once(make_server):
    server = make_server("--max-connections", "2")
    held = [socket.create_connection(("127.0.0.1", server.tcp_port)) for _ in range(2)]
    for index, connection in enumerate(held):
        connection.sendall(b"INFO [held] line %d\n" % index)
    server.wait_received(2)
    extra = socket.create_connection(("127.0.0.1", server.tcp_port))
    assert closed_by_server(extra, timeout=3)
    server.wait_for(lambda: server.stats()["tcp_connections_refused"] == 1, message="the refusal counted")
    held[0].sendall(b"INFO [held] still flowing\n")
    server.wait_received(3)
    assert metrics(server)["logstream_tcp_connections_refused_total"] == 1
    for connection in held:
        connection.close()


def test_http_and_websocket_connections_share_one_bound(make_server):
    server = make_server("--max-http-connections", "3")
    with connect(f"ws://127.0.0.1:{server.http_port}/ws") as client:
        idle = [socket.create_connection(("127.0.0.1", server.http_port)) for _ in range(2)]
        time.sleep(0.3)
        extra = socket.create_connection(("127.0.0.1", server.http_port))
        assert closed_by_server(extra, timeout=3)
        client.send(json.dumps({"type": "update_filters", "filters": {}}))
        assert json.loads(client.recv(timeout=5))["type"] == "history"  # the session goes on
        for connection in idle:
            connection.close()
    server.wait_for(lambda: server.stats()["http_connections_refused"] == 1, message="the refusal counted")


def test_a_silent_tcp_sender_is_closed_and_its_last_line_kept(make_server):
    server = make_server("--idle-timeout", "1")
    talker = socket.create_connection(("127.0.0.1", server.tcp_port))
    talker.sendall(b"INFO [idle] said something and then nothing")  # no newline: kept when the connection closes
    assert closed_by_server(talker, timeout=5)
    server.wait_received(1)
    assert server.logs()[0]["raw"] == "INFO [idle] said something and then nothing"
    assert server.stats()["tcp_idle_closed"] == 1


def test_slowloris_heads_get_408_and_idle_keepalive_is_closed(make_server):
    server = make_server("--header-timeout", "1")
    slow = socket.create_connection(("127.0.0.1", server.http_port))
    slow.sendall(b"GET /api/stats HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
    idle = socket.create_connection(("127.0.0.1", server.http_port))
    started = time.time()
    assert server.status("/healthz") == 200  # others are served meanwhile
    slow.settimeout(5)
    answer = b""
    while chunk := slow.recv(4096):
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 408") and time.time() - started < 4
    assert closed_by_server(idle, timeout=5)
    assert server.stats()["http_header_timeouts"] == 1


def test_a_websocket_client_that_does_not_answer_pings_is_closed(make_server):
    server = make_server("--ws-ping-interval", "1")
    mute = raw_websocket(server)  # reads, but never answers a ping
    mute.settimeout(6)
    opcodes, data = [], b""
    code = close_code_after_ping(mute, opcodes)
    assert 0x9 in opcodes and code == 1008
    with connect(f"ws://127.0.0.1:{server.http_port}/ws") as polite:  # the library answers pings
        time.sleep(3.5)
        polite.send(json.dumps({"type": "update_filters", "filters": {}}))
        assert json.loads(polite.recv(timeout=5))["type"] == "history"
    assert server.stats()["websocket_ping_timeouts"] == 1


def close_code_after_ping(connection, opcodes):
    """Reads frames, noting their opcodes, until a close frame; returns its code."""
    data = b""
    while True:
        chunk = connection.recv(65536)
        assert chunk, "closed without a close frame"
        data += chunk
        while len(data) >= 2 and len(data) >= 2 + (data[1] & 0x7F):
            opcode, length = data[0] & 0x0F, data[1] & 0x7F
            payload, data = data[2:2 + length], data[2 + length:]
            opcodes.append(opcode)
            if opcode == 0x8:
                return int.from_bytes(payload[:2], "big")


@timing_dependent
def test_a_websocket_client_that_stays_behind_is_closed(make_server):
    server = make_server("--ws-ping-interval", "1")
    stalled = raw_websocket(server)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.sendall(masked_frame(0x1, json.dumps({"type": "update_filters", "filters": {}}).encode()))
    # Keep lines coming so the stalled client stays behind; it never reads.
    deadline = time.time() + 8
    while time.time() < deadline and server.stats()["websocket_slow_closed"] == 0:
        server.send_tcp(b"".join(b"INFO [flood] line %d with padding to fill the queue quickly\n" % i for i in range(20000)))
        time.sleep(0.2)
    stats = server.stats()
    assert stats["websocket_slow_closed"] == 1 and stats["websocket_messages_dropped"] > 0
    assert stats["websocket_clients"] == 0
    stalled.close()


@memory_measuring
def test_a_burst_for_a_live_client_leaves_no_memory_held_behind(make_server):
    """A batching client that met a burst keeps reading; the buffer the burst grew is given back once sent
    (before, each session kept its largest batch: the soak's RSS crept by that). Memory only: the disk
    writer's block buffers (about 2 MiB, kept from block to block) would hide what this measures."""
    server = make_server("--no-persist")
    with connect(f"ws://127.0.0.1:{server.http_port}/ws", max_size=None) as client:
        client.send(json.dumps({"type": "update_filters", "filters": {"service": "burst"}, "batch": True}))
        assert json.loads(client.recv(timeout=5))["type"] == "history"
        server.send_tcp(b"INFO [warmup] one\n")
        server.wait_received(1)
        before = metrics(server)["logstream_heap_allocated_bytes"]
        line = b"INFO [burst] %07d " + b"x" * 180 + b"\n"
        server.send_tcp(b"".join(line % i for i in range(50_000)))
        accounted = 0  # received, or dropped for this client and told so
        while accounted < 50_000:
            message = json.loads(client.recv(timeout=10))
            accounted += len(message["data"]) if message["type"] == "batch" else message.get("count", 0)
        time.sleep(0.2)  # the last batch's buffers are freed after it is written
        after = metrics(server)["logstream_heap_allocated_bytes"]
    assert after - before < 512 * 1024, f"{(after - before) / 2**20:.1f} MiB still allocated after the burst was sent"


@memory_measuring
def test_a_client_that_does_not_read_costs_its_queue_bound_and_no_more(make_server):
    """A live client that never reads holds at most its 1 MiB send queue (plus what the kernel's socket buffer
    takes); the rest is dropped and counted. (Its queue once kept the HTTP connection's 8 MiB bound.) Memory
    only: records waiting for the disk (up to 64 MiB, drained as it writes) would hide what this measures."""
    server = make_server("--no-persist")
    server.send_tcp(b"INFO [warmup] one\n")
    server.wait_received(1)
    before = metrics(server)["logstream_heap_allocated_bytes"]
    stalled = raw_websocket(server)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.sendall(masked_frame(0x1, json.dumps({"type": "update_filters", "filters": {}}).encode()))
    time.sleep(0.3)
    line = b"INFO [flood] %07d " + b"y" * 150 + b"\n"
    for start in range(0, 100_000, 20_000):
        server.send_tcp(b"".join(line % i for i in range(start, start + 20_000)))
    server.wait_received(100_001)
    server.wait_for(lambda: server.stats()["websocket_messages_dropped"] > 0, message="messages dropped for it")
    grown = metrics(server)["logstream_heap_allocated_bytes"] - before
    assert grown < 3 * 2**20, f"{grown / 2**20:.1f} MiB held for one client that does not read"
    stalled.close()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@timing_dependent
def test_running_out_of_descriptors_sheds_connections_without_spinning(make_server):
    server = make_server(fd_limit=48)
    held = []
    for _ in range(80):  # more than the descriptors left: the surplus waits in the backlog, then is shed
        held.append(socket.create_connection(("127.0.0.1", server.tcp_port)))
    time.sleep(0.5)
    before = cpu_seconds(server.process.pid)
    time.sleep(2)
    spent = cpu_seconds(server.process.pid) - before
    assert spent < 0.5, f"the reactor spun: {spent:.2f} s of CPU in 2 s"
    shed = sum(closed_by_server(connection, timeout=0.05) for connection in held)
    assert shed > 0
    for connection in held:
        connection.close()
    server.wait_for(lambda: server.status("/healthz") == 200, message="health after the flood")
    assert server.stats()["connections_shed"] >= 1
    server.send_tcp(b"INFO [fd] descriptors are back\n")
    server.wait_received(1)
