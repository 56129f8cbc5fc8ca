"""Containers and applications as they really log: GELF from graypy and pygelf and in exactly the shape Docker's gelf
driver sends (chunked, gzip, out of order, interleaved); Fluent Forward from fluent-logger, in Docker's fluentd driver's
Message shape, and in the Forward, PackedForward and CompressedPackedForward shapes Fluent Bit and fluentd send, with
acks, the heartbeat and the shared-key handshake; stack traces as one record. Then the bad inputs: the server stays
up, counts them, and the next good record is stored."""
import gzip
import hashlib
import logging
import os
import socket
import struct
import time
import uuid

import graypy
import msgpack
import pygelf
import pytest
from fluent import sender

from conftest import free_port


def gelf_server(make_server, *args):
    port = free_port()
    server = make_server("--gelf-port", str(port), *args)
    server.gelf_port = port
    return server


def forward_server(make_server, *args):
    port = free_port()
    server = make_server("--forward-port", str(port), *args)
    server.forward_port = port
    return server


def records_with(server, text, count=1, timeout=10):
    def found():
        matches = [r for r in server.logs(query=text, limit=1000) if text in r["raw"]]
        return matches if len(matches) >= count else None
    return server.wait_for(found, timeout, f"{count} records with {text!r}")


def python_logger(name, handler):
    logger = logging.getLogger(f"{name}-{uuid.uuid4().hex[:6]}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(handler)
    return logger


def send_datagrams(port, datagrams):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for datagram in datagrams:
            udp.sendto(datagram, ("127.0.0.1", port))


# --- GELF: real clients ----------------------------------------------------------------------------------------

def test_graypy_over_udp_with_zlib_and_chunking_and_over_tcp(make_server):
    server = gelf_server(make_server)
    marker = uuid.uuid4().hex
    udp = python_logger("graypy-udp", graypy.GELFUDPHandler("127.0.0.1", server.gelf_port,
                                                            gelf_chunker=graypy.handler.GELFWarningChunker(chunk_size=120)))
    udp.warning("udp %s %s", marker, os.urandom(600).hex(), extra={"service": "billing", "order": 42})
    tcp = python_logger("graypy-tcp", graypy.GELFTCPHandler("127.0.0.1", server.gelf_port))
    tcp.error("tcp %s with\nan embedded newline", marker)
    for handler in tcp.handlers:
        handler.close()

    chunked = records_with(server, f"udp {marker}")[0]
    assert chunked["format"] == "gelf" and chunked["protocol"] == "UDP"
    assert chunked["level"] == "WARN" and chunked["service"] == "billing"
    assert chunked["host"] == socket.gethostname()
    assert chunked["fields"]["order"] == 42 and chunked["fields"]["file"].endswith("test_containers.py")
    assert isinstance(chunked["fields"]["line"], int)
    framed = records_with(server, f"tcp {marker}")[0]
    assert framed["protocol"] == "TCP" and framed["level"] == "ERROR"
    assert framed["raw"] == f"tcp {marker} with\nan embedded newline", "a TCP message ends at NUL only"
    assert server.stats()["gelf_messages"] == 2


def test_pygelf_with_zlib_and_its_own_chunking(make_server):
    server = gelf_server(make_server)
    marker = uuid.uuid4().hex
    handler = pygelf.GelfUdpHandler(host="127.0.0.1", port=server.gelf_port, chunk_size=300, compress=True, _app="inventory",
                                    include_extra_fields=True)
    logger = python_logger("pygelf", handler)
    logger.info("pygelf %s %s", marker, os.urandom(1500).hex())
    logger.debug("pygelf small %s", marker)
    record = records_with(server, f"pygelf {marker}")[0]
    assert record["service"] == "inventory" and record["level"] == "INFO"
    assert len(record["raw"]) > 3000
    small = records_with(server, f"pygelf small {marker}")[0]
    assert small["level"] == "DEBUG"


# --- GELF: Docker's driver, byte for byte ------------------------------------------------------------------------

def docker_gelf_message(line, level=6, timestamp="1764352805", name="web-1"):
    """moby's daemon/logger/gelf with go-gelf: its keys in its order; Go writes a float with no fraction as an integer."""
    return (b'{"version":"1.1","host":"docker-host","short_message":' + json_string(line) +
            b',"timestamp":' + timestamp.encode() + b',"level":' + str(level).encode() +
            b',"_command":"/bin/sh -c app","_container_id":"6f1ab2c3d4e5","_container_name":"' + name.encode() +
            b'","_created":"2026-11-28T18:00:00.000000000Z","_image_id":"sha256:0123","_image_name":"acme/web:1.2","_tag":"6f1ab2c3d4e5"}')


def json_string(text):
    import json
    return json.dumps(text).encode()


def go_gelf_chunks(payload, message_id, chunk_data=1408):
    """go-gelf's writeChunked: numChunks = len/chunkData + 1, so an exact multiple ends with a chunk with no payload."""
    count = len(payload) // chunk_data + 1
    return [b"\x1e\x0f" + message_id + bytes([index, count]) + payload[index * chunk_data:(index + 1) * chunk_data]
            for index in range(count)]


def test_docker_gelf_driver_datagrams_gzip_chunked_out_of_order_and_interleaved(make_server):
    server = gelf_server(make_server)
    marker = uuid.uuid4().hex
    whole = gzip.compress(docker_gelf_message(f"plain {marker}"), compresslevel=1)
    stderr_line = gzip.compress(docker_gelf_message(f"stderr {marker}", level=3, timestamp="1764352805.25"), compresslevel=1)
    big_a = gzip.compress(docker_gelf_message(f"big-a {marker} " + os.urandom(3000).hex()), compresslevel=1)
    big_b = gzip.compress(docker_gelf_message(f"big-b {marker} " + os.urandom(3000).hex(), name="worker"), compresslevel=1)
    chunks_a, chunks_b = go_gelf_chunks(big_a, b"AAAAAAAA"), go_gelf_chunks(big_b, b"BBBBBBBB")
    assert len(chunks_a) >= 3 and len(chunks_b) >= 3
    interleaved = []
    for a, b in zip(reversed(chunks_a), chunks_b):
        interleaved += [a, b, a]  # out of order, interleaved, each chunk of A twice
    interleaved += chunks_b[len(chunks_a):] + chunks_a[:max(0, len(chunks_a) - len(chunks_b))]
    # A message whose compressed size is an exact multiple of the chunk payload: go-gelf adds an empty last chunk.
    exact = gzip.compress(docker_gelf_message(f"exact {marker} " + "z" * 20), compresslevel=1)
    exact_chunks = go_gelf_chunks(exact, b"EEEEEEEE", chunk_data=len(exact) // 2 if len(exact) % 2 == 0 else len(exact))
    assert len(exact_chunks[-1]) == 12, "the last chunk carries no payload"
    one_chunk = go_gelf_chunks(gzip.compress(docker_gelf_message(f"one-chunk {marker}")), b"OOOOOOOO", chunk_data=100_000)
    assert len(one_chunk) == 1
    send_datagrams(server.gelf_port, [whole, stderr_line, *interleaved, *exact_chunks, *one_chunk])

    plain = records_with(server, f"plain {marker}")[0]
    assert plain["level"] == "INFO" and plain["service"] == "web-1" and plain["host"] == "docker-host"
    assert plain["source_time"] == "2025-11-28T18:00:05.000Z"
    assert plain["fields"]["container_id"] == "6f1ab2c3d4e5" and plain["fields"]["image_name"] == "acme/web:1.2"
    assert plain["fields"]["tag"] == "6f1ab2c3d4e5"
    error = records_with(server, f"stderr {marker}")[0]
    assert error["level"] == "ERROR" and error["source_time"] == "2025-11-28T18:00:05.250Z"
    assert records_with(server, f"big-a {marker}")[0]["service"] == "web-1"
    assert records_with(server, f"big-b {marker}")[0]["service"] == "worker"
    records_with(server, f"exact {marker}")
    records_with(server, f"one-chunk {marker}")
    stats = server.stats()
    assert stats["gelf_chunks_duplicate"] >= len(chunks_b) - 1
    assert len(records_with(server, marker, count=6)) == 6, "each message once, duplicates ignored"


def test_gelf_levels_defaults_and_mapping(make_server):
    server = gelf_server(make_server)
    marker = uuid.uuid4().hex
    messages = [
        b'{"version":"1.1","host":"h1","short_message":"no-level %s","facility":"cron"}',
        b'{"version":"1.1","host":"h1","short_message":"level-nine %s","level":9,"_app":"a1","_service":"s1"}',
        b'{"version":"1.1","host":"h1","short_message":"[queue] named %s","full_message":"the\\nwhole story","level":4,"_user":"bob","_ok":true}',
        b'{"version":"1.1","host":"h1","short_message":"zlib %s","level":7}',
    ]
    datagrams = [m.replace(b"%s", marker.encode()) for m in messages]
    import zlib
    datagrams[3] = zlib.compress(datagrams[3])
    send_datagrams(server.gelf_port, datagrams)
    by_text = {r["raw"].split(" ")[0]: r for r in records_with(server, marker, count=4)}
    assert by_text["no-level"]["level"] == "FATAL" and by_text["no-level"]["service"] == "cron", "absent level is 1 (alert)"
    assert by_text["level-nine"]["level"] == "DEBUG" and by_text["level-nine"]["service"] == "s1"
    named = by_text["[queue]"]
    assert named["level"] == "WARN" and named["service"] == "queue"
    assert named["fields"]["full_message"] == "the\nwhole story" and named["fields"]["user"] == "bob" and named["fields"]["ok"] is True
    assert by_text["zlib"]["level"] == "DEBUG"


def test_gelf_bad_input_is_counted_and_the_next_message_stored(make_server):
    server = gelf_server(make_server, "--gelf-max-pending-bytes", "64K")
    marker = uuid.uuid4().hex
    good = f'{{"version":"1.1","host":"h","short_message":"after {marker}","level":6}}'.encode()
    truncated_gzip = gzip.compress(good)[:-12]
    bad = [
        b"junk that is not json",
        b"\x1e\x0f" + b"X" * 8 + bytes([0, 200]) + b"count over 128",
        b"\x1e\x0f" + b"Y" * 8 + bytes([5, 3]) + b"sequence past count",
        b"\x1e\x0f" + b"short",
        truncated_gzip,
        b'{"version":"1.1","host":"h"}',
        b"[1,2,3]",
        b"\x78\x9c garbage",
    ]
    send_datagrams(server.gelf_port, bad)
    with socket.create_connection(("127.0.0.1", server.gelf_port)) as tcp:
        tcp.sendall(b"{not json}\x00" + good.replace(b"after", b"tcp-after") + b"\x00")
    send_datagrams(server.gelf_port, [good])
    records_with(server, f"after {marker}")
    records_with(server, f"tcp-after {marker}")
    stats = server.stats()
    assert stats["gelf_chunks_invalid"] >= 3
    assert stats["gelf_malformed"] >= 6
    assert stats["gelf_udp_kernel_drops"] == 0, "counted apart from the lines' UDP socket, and none at this pace"
    # A flood of chunked messages that never complete: memory stays under the bound, the oldest are dropped.
    flood = [b"\x1e\x0f" + struct.pack(">Q", n) + bytes([0, 2]) + os.urandom(512) for n in range(2000)]
    send_datagrams(server.gelf_port, flood)
    server.wait_for(lambda: server.stats()["gelf_chunks_dropped_for_memory"] > 1000, message="drops at the bound")
    assert server.stats()["gelf_pending_chunk_bytes"] <= 64 << 10
    # Incomplete messages expire after 5 s and are counted.
    server.wait_for(lambda: server.stats()["gelf_chunks_expired"] > 0 and server.stats()["gelf_pending_chunk_bytes"] == 0,
                    timeout=12, message="incomplete messages expired")
    send_datagrams(server.gelf_port, [good.replace(b"after", b"still-up")])
    records_with(server, f"still-up {marker}")


# --- Fluent Forward ------------------------------------------------------------------------------------------------

def event_time(seconds, nanoseconds, ext8=False):
    data = struct.pack(">II", seconds, nanoseconds)
    if ext8:
        return msgpack.ExtType(0, data)  # packed below as ext8 by hand
    return msgpack.ExtType(0, data)


class ForwardClient:
    def __init__(self, port):
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.unpacker = msgpack.Unpacker(raw=True)

    def send(self, payload: bytes):
        self.socket.sendall(payload)

    def receive(self):
        while True:
            for value in self.unpacker:
                return value
            data = self.socket.recv(65536)
            if not data:
                return None
            self.unpacker.feed(data)

    def close(self):
        self.socket.close()


def pack(value):
    return msgpack.packb(value, use_bin_type=True)


def test_fluent_logger_message_mode_with_event_time(make_server):
    server = forward_server(make_server)
    marker = uuid.uuid4().hex
    logger = sender.FluentSender("app", host="127.0.0.1", port=server.forward_port, nanosecond_precision=True)
    assert logger.emit_with_time("api", 1764352805.123456, {"message": f"fluent-logger {marker}", "level": "warning",
                                                             "user": {"id": 7, "roles": ["a", "b"]}, "ok": True})
    assert logger.emit("api", {"log": f'{{"level":"error","msg":"json {marker}","service":"checkout","order":9}}'})
    logger.close()
    record = records_with(server, f"fluent-logger {marker}")[0]
    assert record["format"] == "forward" and record["protocol"] == "TCP"
    assert record["level"] == "WARN" and record["service"] == "app.api"
    assert record["source_time"] == "2025-11-28T18:00:05.123Z"
    assert record["fields"]["tag"] == "app.api" and record["fields"]["ok"] is True
    assert record["fields"]["user"] == '{"id":7,"roles":["a","b"]}'
    json_line = records_with(server, f"json {marker}")[0]
    assert json_line["level"] == "ERROR" and json_line["service"] == "checkout" and json_line["fields"]["order"] == 9


def test_docker_fluentd_driver_message_shape_with_acks_after_durable_storage(make_server):
    """fluent-logger-golang as moby vendors it: [tag, time, record, option], option {} or {"chunk": id} with
    fluentd-request-ack; record container_id, container_name (with its /), source, log."""
    server = forward_server(make_server, "--fsync-interval", "200ms")
    marker = uuid.uuid4().hex
    client = ForwardClient(server.forward_port)
    record = {"container_id": "6f1ab2c3d4e5" * 4, "container_name": "/web-1", "source": "stdout", "log": f"docker out {marker}"}
    client.send(pack(["6f1ab2c3d4e5", 1764352805, record, {}]))
    chunk = "p8n9gmxTQVC8/nh2wlKKeQ=="
    stderr = dict(record, source="stderr", log=f"docker err {marker}")
    client.send(pack(["6f1ab2c3d4e5", msgpack.ExtType(0, struct.pack(">II", 1764352805, 5_000_000)), stderr, {"chunk": chunk}]))
    assert client.receive() == {b"ack": chunk.encode()}
    # The ack came after the record was durable: it is on disk (the data directory holds it) and searchable.
    out = records_with(server, f"docker out {marker}")[0]
    assert out["service"] == "web-1" and out["level"] == "INFO" and out["fields"]["container_name"] == "/web-1"
    err = records_with(server, f"docker err {marker}")[0]
    assert err["level"] == "ERROR", "stderr without a level is ERROR, as Docker's gelf driver says"
    assert err["source_time"] == "2025-11-28T18:00:05.005Z"
    assert server.stats()["forward_acks"] == 1
    assert server.stats()["disk"]["durable_up_to"] > err["id"] if "disk" in server.stats() else True
    client.close()


def test_forward_packed_and_compressed_modes_as_fluent_bit_and_fluentd_send_them(make_server):
    server = forward_server(make_server)
    marker = uuid.uuid4().hex
    client = ForwardClient(server.forward_port)
    time_value = msgpack.ExtType(0, struct.pack(">II", 1764352805, 0))
    # Fluent Bit's forward output: Forward mode, option size and chunk.
    entries = [[time_value, {"log": f"forward {marker} {n}", "host": "node-7"}] for n in range(3)]
    client.send(pack(["fluentbit.tail", entries, {"size": 3, "chunk": "fb-chunk-1"}]))
    assert client.receive() == {b"ack": b"fb-chunk-1"}
    # fluentd's out_forward: PackedForward, the entries as one msgpack stream in a str32; its chunk ids end in "\n".
    stream = b"".join(pack([1764352805 + n, {"message": f"packed {marker} {n}"}]) for n in range(4))
    fluentd_chunk = "MjAyNi0xMi0wM1QxOTowMDowMFoK\n"
    client.send(b"\x93" + pack("fluentd.app") + b"\xdb" + struct.pack(">I", len(stream)) + stream +
                pack({"size": 4, "chunk": fluentd_chunk}))
    assert client.receive() == {b"ack": fluentd_chunk.encode()}, "the chunk is echoed byte for byte"
    # CompressedPackedForward: two gzip members back to back, in a str32, as fluentd writes them.
    first = b"".join(pack([1764352805, {"msg": f"gzip {marker} {n}"}]) for n in range(2))
    second = b"".join(pack([1764352806, {"msg": f"gzip {marker} {n}"}]) for n in range(2, 5))
    compressed = gzip.compress(first) + gzip.compress(second)
    client.send(b"\x93" + pack("fluentd.gz") + b"\xdb" + struct.pack(">I", len(compressed)) + compressed +
                pack({"size": 5, "compressed": "gzip", "chunk": "gz-1"}))
    assert client.receive() == {b"ack": b"gz-1"}
    # "text" is no compression; a bin works as well as a str; EventTime as ext8 as well as fixext8.
    ext8_time = b"\xc7\x08\x00" + struct.pack(">II", 1764352807, 250_000_000)
    entry = b"\x92" + ext8_time + pack({"log": f"ext8 {marker}"})
    client.send(b"\x93" + pack("bin.tag") + b"\xc4" + bytes([len(entry)]) + entry + pack({"compressed": "text", "chunk": "t-1"}))
    assert client.receive() == {b"ack": b"t-1"}
    client.close()

    forwarded = records_with(server, f"forward {marker}", count=3)
    assert {r["host"] for r in forwarded} == {"node-7"} and {r["service"] for r in forwarded} == {"fluentbit.tail"}
    assert len(records_with(server, f"packed {marker}", count=4)) == 4
    gz = records_with(server, f"gzip {marker}", count=5)
    assert len(gz) == 5 and {r["service"] for r in gz} == {"fluentd.gz"}
    assert records_with(server, f"ext8 {marker}")[0]["source_time"] == "2025-11-28T18:00:07.250Z"


def test_docker_partial_messages_are_joined_into_one_record(make_server):
    server = forward_server(make_server)
    marker = uuid.uuid4().hex
    client = ForwardClient(server.forward_port)
    pieces = [f"long-{marker}-", "a" * 16384, "b" * 16384, "end"]
    for ordinal, piece in enumerate(pieces, 1):
        client.send(pack(["docker.web", 1764352805, {"container_name": "/web", "source": "stdout", "log": piece,
                                                      "partial_message": "true", "partial_id": "pid-1",
                                                      "partial_ordinal": str(ordinal), "partial_last": "true" if ordinal == 4 else "false"}, {}]))
    client.send(pack(["docker.web", 1764352805, {"container_name": "/web", "log": f"whole {marker}"}, {}]))
    client.close()
    joined = records_with(server, f"long-{marker}")
    assert len(joined) == 1 and joined[0]["raw"] == "".join(pieces)
    assert "partial_id" not in joined[0]["fields"]
    records_with(server, f"whole {marker}")
    # A line whose last piece never comes is stored as it is after a quiet spell, and its message acked then.
    client = ForwardClient(server.forward_port)
    client.send(pack(["docker.web", 1764352805, {"log": f"unfinished {marker}", "partial_message": "true",
                                                  "partial_id": "pid-2", "partial_last": "false"}, {"chunk": "held"}]))
    assert client.receive() == {b"ack": b"held"}
    assert records_with(server, f"unfinished {marker}")[0]["raw"] == f"unfinished {marker}"
    client.close()


def test_forward_heartbeat_is_answered(make_server):
    server = forward_server(make_server)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(5)
        udp.sendto(b"\x00", ("127.0.0.1", server.forward_port))
        reply, _ = udp.recvfrom(16)
    assert reply == b"\x00"
    assert server.stats()["forward_heartbeats"] == 1


def handshake(client, key, hostname="client-host"):
    helo = client.receive()
    assert helo[0] == b"HELO" and helo[1][b"auth"] == b"" and len(helo[1][b"nonce"]) == 16
    nonce, salt = helo[1][b"nonce"], os.urandom(16)
    digest = hashlib.sha512(salt + hostname.encode() + nonce + key.encode()).hexdigest()
    client.send(pack(["PING", hostname, salt, digest, "", ""]))
    return client.receive(), salt, nonce


def test_shared_key_handshake_accepts_the_key_and_refuses_others(make_server):
    key = "s3cret-shared-key"
    server = forward_server(make_server, "--forward-shared-key", key)
    marker = uuid.uuid4().hex
    client = ForwardClient(server.forward_port)
    pong, salt, nonce = handshake(client, key)
    assert pong[0] == b"PONG" and pong[1] is True
    assert pong[4].decode() == hashlib.sha512(salt + pong[3] + nonce + key.encode()).hexdigest(), "the server proves the key too"
    client.send(pack(["secure", 1764352805, {"message": f"authenticated {marker}"}, {"chunk": "c1"}]))
    assert client.receive() == {b"ack": b"c1"}
    client.close()
    records_with(server, f"authenticated {marker}")

    intruder = ForwardClient(server.forward_port)
    pong, _, _ = handshake(intruder, "wrong-key")
    assert pong[1] is False
    assert intruder.receive() is None, "closed after the refusal"
    skipper = ForwardClient(server.forward_port)
    skipper.receive()  # HELO
    skipper.send(pack(["secure", 1764352805, {"message": f"unauthenticated {marker}"}]))
    assert skipper.receive()[1] is False
    time.sleep(0.3)
    assert not [r for r in server.logs(query=f"unauthenticated {marker}") if marker in r["raw"]]
    assert server.stats()["forward_handshake_failures"] == 2


def test_forward_bad_input_closes_only_that_connection(make_server):
    server = forward_server(make_server, "--max-body-bytes", "1M")
    marker = uuid.uuid4().hex
    steady = ForwardClient(server.forward_port)
    bad_streams = [
        pack({"not": "an array"}),
        pack(["tag"]),
        pack([42, 1764352805, {"log": "tag not a string"}]),
        pack(["tag", "entries-but-not-msgpack", {}]),
        b"\xdd\xff\xff\xff\xff",                            # an array of 4 billion elements
        b"\x93\xa3tag\xdb\xff\xff\xff\xf0",                  # a 4 GiB string announced
        b"\xc1\xc1\xc1",                                     # never used
        pack(["tag", [[1764352805, {"log": "x"}], "not an entry"]]),
        b"\x93\xa3tag" + b"\xc4\x05" + b"\x92\x01\x91\x91\x91" + pack({"compressed": "gzip"}),  # not gzip
        b"\x91" * 200,                                       # nested too deep
    ]
    for stream in bad_streams:
        client = ForwardClient(server.forward_port)
        client.send(stream)
        assert client.receive() is None, f"closed: {stream[:16]!r}"
        client.close()
    assert server.stats()["forward_malformed_closed"] >= len(bad_streams) - 1
    steady.send(pack(["steady", 1764352805, {"log": f"still here {marker}"}, {"chunk": "s"}]))
    assert steady.receive() == {b"ack": b"s"}
    steady.close()
    records_with(server, f"still here {marker}")


# --- One record per event -------------------------------------------------------------------------------------------

JAVA_TRACE = """2026-12-03T10:00:00Z ERROR [orders] request failed {marker}
java.lang.IllegalStateException: boom
\tat com.example.Orders.place(Orders.java:42)
\tat com.example.Api.handle(Api.java:17)
Caused by: java.io.IOException: disk full
\tat com.example.Disk.write(Disk.java:9)
\t... 2 more"""

PYTHON_TRACE = """ERROR:worker:job failed {marker}
Traceback (most recent call last):
  File "/app/worker.py", line 12, in run
    result = compute()
  File "/app/worker.py", line 8, in compute
    return 1 / 0
ZeroDivisionError: division by zero

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/worker.py", line 14, in run
    raise RuntimeError("wrapped")
RuntimeError: wrapped"""

GO_PANIC = """panic: runtime error: index out of range [3] with length 3 {marker}

goroutine 1 [running]:
main.lookup(...)
\t/app/main.go:11
main.main()
\t/app/main.go:20 +0x1d
exit status 2"""


def traces(marker):
    return [trace.format(marker=marker) for trace in (JAVA_TRACE, PYTHON_TRACE, GO_PANIC)]


def assert_one_record_per_trace(server, marker, expected):
    found = records_with(server, marker, count=len(expected) + 1)
    by_first_line = {r["raw"].split("\n")[0]: r for r in found}
    for trace in expected:
        record = by_first_line[trace.split("\n")[0]]
        assert record["raw"] == trace
    assert f"INFO after {marker}" in by_first_line, "the line after the traces is a record of its own"
    return by_first_line


def test_stack_traces_over_tcp_are_one_record_each(make_server):
    server = make_server("--multiline", "auto")
    marker = uuid.uuid4().hex
    expected = traces(marker)
    server.send_tcp(("\n".join(expected) + f"\nINFO after {marker}\n").encode())
    records = assert_one_record_per_trace(server, marker, expected)
    java = records[expected[0].split("\n")[0]]
    assert java["level"] == "ERROR" and java["service"] == "orders"
    assert server.stats()["received"] == 4
    # Without a next line, a trace is stored after 200 ms of quiet, the connection still open.
    with socket.create_connection(("127.0.0.1", server.tcp_port)) as connection:
        connection.sendall(expected[1].replace(marker, marker + "-quiet").encode() + b"\n")
        records_with(server, marker + "-quiet", timeout=3)


def test_stack_traces_over_forward_and_http_are_one_record_each(make_server):
    server = forward_server(make_server, "--multiline", "auto")
    marker = uuid.uuid4().hex
    expected = traces(marker)
    client = ForwardClient(server.forward_port)
    for line in "\n".join(expected).split("\n") + [f"INFO after {marker}"]:
        client.send(pack(["docker.api", 1764352805, {"container_name": "/api", "source": "stderr", "log": line}, {}]))
    client.send(pack(["docker.api", 1764352805, {"log": "flush"}, {"chunk": "last"}]))
    assert client.receive() == {b"ack": b"last"}, "acked once the held record is stored"
    client.close()
    assert_one_record_per_trace(server, marker, expected)

    http_marker = uuid.uuid4().hex
    http_traces = traces(http_marker)
    import urllib.request
    body = ("\n".join(http_traces) + f"\nINFO after {http_marker}\n").encode()
    request = urllib.request.Request(f"{server.base_url}/api/ingest", data=body, method="POST",
                                     headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 204)
    assert_one_record_per_trace(server, http_marker, http_traces)


def test_a_joined_record_is_cut_at_max_line_bytes_and_counted(make_server):
    server = make_server("--multiline", "auto", "--max-line-bytes", "1K")
    marker = uuid.uuid4().hex
    lines = [f"ERROR long trace {marker}"] + [f"\tat com.example.Frame{n}.call(Frame.java:{n})" for n in range(100)]
    server.send_tcp(("\n".join(lines) + f"\nINFO after {marker}\n").encode())
    record = [r for r in records_with(server, marker, count=2) if "long trace" in r["raw"]][0]
    assert record["truncated"] is True and len(record["raw"].encode()) == 1024
    assert server.stats()["truncated"] == 1


def test_without_multiline_each_line_is_a_record(make_server):
    server = make_server()
    marker = uuid.uuid4().hex
    server.send_tcp((JAVA_TRACE.format(marker=marker) + "\n").encode())
    server.wait_received(7)
