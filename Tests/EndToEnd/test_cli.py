"""Startup errors: one clear line on stderr and a non-zero exit. Signals: SIGHUP changes nothing, SIGTERM stops
within a bound, telling live clients."""
import json
import signal
import socket
import subprocess
import tempfile
import time

from websockets.sync.client import connect

from conftest import BINARY, free_port
from test_websocket import masked_frame, raw_websocket


def run(*args, cwd=None):
    """The binary in a folder of its own (its default data directory is created in the working directory)."""
    with tempfile.TemporaryDirectory() as folder:
        return subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=20, cwd=cwd or folder)


def test_help_lists_the_flags():
    result = run("--help")
    assert result.returncode == 0
    for flag in ["--udp-port", "--tcp-port", "--http-port", "--bind", "--http-bind", "--buffer-size",
                 "--buffer-bytes", "--max-line-bytes", "--static-dir", "--max-connections", "--max-http-connections",
                 "--idle-timeout", "--header-timeout", "--ws-ping-interval", "--auth-token", "--allowed-origins",
                 "--gelf-port", "--gelf-max-pending-bytes", "--forward-port", "--forward-shared-key", "--multiline",
                 "--tls-cert", "--tls-key", "--tls-syslog-port", "--tls-forward-port", "--tls-client-ca",
                 "--tls-host-from-certificate", "--clickhouse-ca", "--clickhouse-tls-cert", "--clickhouse-tls-key"]:
        assert flag in result.stdout


def test_a_port_in_use_is_one_line_and_non_zero():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run("--bind", "127.0.0.1", "--tcp-port", str(port), "--udp-port", str(free_port()), "--http-port", str(free_port()))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Address already in use" in lines[0] and f":{port}" in lines[0]


def test_bad_flag_values_are_one_line_and_non_zero():
    for args in (["--buffer-size", "lots"], ["--udp-port", "70000"], ["--bind", "not-an-ip"], ["--no-such-flag"],
                 ["--buffer-bytes", "1K"], ["--static-dir", "/no/such/dir"], ["--max-connections", "0"],
                 ["--header-timeout", "0"], ["--idle-timeout", "-1"], ["--ws-ping-interval", "99999"],
                 ["--auth-token", "short"], ["--allowed-origins", "*"],
                 ["--multiline", "java"], ["--gelf-max-pending-bytes", "1K"], ["--forward-shared-key", ""],
                 ["--gelf-port", "9001"], ["--gelf-port", "24224", "--forward-port", "24224"],
                 ["--tls-forward-port", "24284"], ["--tls-client-ca", "/etc/ssl/certs/ca-certificates.crt"],
                 ["--clickhouse-ca", "/etc/ssl/certs/ca-certificates.crt"], ["--clickhouse-url", "ftp://h"], ["--clickhouse-tls-key", "/etc/hostname"],
                 ["--clickhouse-url", "https://h", "--clickhouse-ca", "/no/such/ca.pem"]):
        result = run(*args)
        assert result.returncode != 0, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("logstream: error:"), (args, result.stderr)


def test_sighup_reloads_nothing_and_the_server_goes_on(server):
    server.process.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    assert server.process.poll() is None and server.status("/healthz") == 200
    server.send_udp(b"INFO [hup] still taking lines")
    server.wait_received(1)


def test_sigterm_tells_live_clients_and_ends_within_a_bound(server):
    stalled = raw_websocket(server)  # never reads: must not hold the stop up beyond the bound
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.sendall(masked_frame(0x1, json.dumps({"type": "update_filters", "filters": {}}).encode()))
    with connect(f"ws://127.0.0.1:{server.http_port}/ws") as client:
        client.send(json.dumps({"type": "update_filters", "filters": {}}))
        assert json.loads(client.recv(timeout=5))["type"] == "history"
        server.send_tcp(b"".join(b"INFO [term] line %d padded out to fill the stalled client's queue\n" % i for i in range(1000)))
        server.send_tcp(b"INFO [term] last before the stop\n")
        server.wait_received(1001)
        started = time.time()
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=10) == 0
        assert time.time() - started < 4
        messages = []
        try:
            while True:
                messages.append(json.loads(client.recv(timeout=5)))
        except Exception as closed:  # the close frame ends the stream
            assert getattr(closed, "rcvd", None) is not None and closed.rcvd.code == 1001
        raws = [message["data"]["raw"] for message in messages if message["type"] == "new_log"]
        assert raws[-1] == "INFO [term] last before the stop"  # everything published reached the reader first
    stalled.close()
